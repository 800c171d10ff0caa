/* http_client.h — a minimal blocking HTTP/1.1 client over POSIX sockets, for
 * the veche CLI, integration tests and the load generator.
 *
 * Not a general-purpose client: no TLS, no redirects, no proxies. What it does
 * carefully is bound everything: the whole exchange has one deadline
 * (timeout_ms covers resolve-free connect, send and receive), the response
 * head is at most HTTP_CLIENT_HEAD_BYTES_MAX and the body at most
 * API_CLIENT_RESPONSE_BYTES_MAX. Bodies framed by Content-Length, by chunked
 * transfer encoding, or by connection close are all understood.
 *
 * host is a numeric IPv4/IPv6 address or a name (resolved with getaddrinfo,
 * which itself is not bounded by timeout_ms; use numeric addresses in tests).
 *
 * Errors: VE_ERR_INVALID (bad arguments), VE_ERR_IO (resolve, connect, send or
 * receive failed, connection closed early), VE_ERR_TIMEOUT (deadline passed),
 * VE_ERR_MALFORMED (not a valid HTTP response), VE_ERR_TOO_BIG (head or body
 * over its limit), VE_ERR_NOMEM.
 *
 * Thread-safety: the functions share no state; one http_conn_t must not be
 * used by two threads at once.
 */
#ifndef VECHE_API_HTTP_CLIENT_H
#define VECHE_API_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/bytes.h"

#define API_CLIENT_RESPONSE_BYTES_MAX ((size_t)16 * 1024 * 1024) /* response body */
#define HTTP_CLIENT_HEAD_BYTES_MAX (16 * 1024)    /* status line + headers */
#define HTTP_CLIENT_CHUNK_LINE_BYTES_MAX 256      /* "1a2b;ext\r\n" line */
#define HTTP_CLIENT_CONTENT_TYPE_BYTES_MAX 128
#define HTTP_CLIENT_PATH_BYTES_MAX 4096           /* request target we send */
#define HTTP_CLIENT_METHOD_BYTES_MAX 16

typedef struct {
  int status;                  /* e.g. 200 */
  char content_type[HTTP_CLIENT_CONTENT_TYPE_BYTES_MAX]; /* "" if absent/too long */
  unsigned retry_after_s;      /* Retry-After in seconds; 0 if absent or not delta-seconds */
  ve_buf_t body;               /* owned; body.ptr[body.len] == 0 when len > 0 */
} http_response_t;

/* Frees the body; the struct may be reused. Safe on a zeroed struct. */
void http_response_free(http_response_t *r);

/* One request on a fresh connection ("Connection: close").
 * In: method ("GET", "POST", ...), path (request target, starts with '/'),
 *     content_type (NULL if no body), body[body_len] (NULL if 0),
 *     timeout_ms > 0 for the whole exchange.
 * Out: *out, filled on success (free with http_response_free); zeroed on error.
 * Returns 0 whenever a complete response arrived, whatever its status. */
int http_request(const char *host, uint16_t port, const char *method, const char *path,
                 const char *content_type, const void *body, size_t body_len,
                 int timeout_ms, http_response_t *out);

/* JSON convenience: sends body (not stolen; NULL for no body) as
 * application/json, parses a JSON response body (depth-checked like the
 * server does).
 * Out: *status, *out_json (new reference; NULL if the body was empty).
 * Returns 0, an error from http_request, or VE_ERR_MALFORMED/VE_ERR_DEPTH if
 * the response body is not JSON. */
int http_request_json(const char *host, uint16_t port, const char *method, const char *path,
                      const json_t *body, int timeout_ms, int *status, json_t **out_json);

/* A keep-alive connection for sending many requests over one socket. After
 * any error the connection is broken: every later request returns VE_ERR_IO
 * (close it and open another). If the server answers "Connection: close" the
 * response is still returned, and the next request fails with VE_ERR_CLOSED. */
typedef struct http_conn http_conn_t;

/* Connects within timeout_ms. Out: *out (free with http_conn_close). */
int http_conn_open(const char *host, uint16_t port, int timeout_ms, http_conn_t **out);
int http_conn_request(http_conn_t *c, const char *method, const char *path,
                      const char *content_type, const void *body, size_t body_len,
                      int timeout_ms, http_response_t *out);
/* Closes the socket and frees c. NULL is allowed. */
void http_conn_close(http_conn_t *c);

#endif
