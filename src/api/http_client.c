/* http_client.c — blocking HTTP/1.1 client with one deadline per exchange.
 *
 * The socket is non-blocking and every wait is a poll() bounded by the time
 * left until the deadline, so no call can hang past timeout_ms (name
 * resolution excepted, see http_client.h). Responses are read through a
 * fixed buffer of HTTP_CLIENT_HEAD_BYTES_MAX bytes: the head must fit in it,
 * and body bytes pass through it into a ve_buf_t capped at
 * API_CLIENT_RESPONSE_BYTES_MAX.
 *
 * While sending a body the client also watches for readability: a server that
 * refuses a body early (413) answers and closes before the body is sent, and
 * that answer is what the caller wants, not a "connection reset".
 */
#include "api/http_client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "base/err.h"

#define HTTP_CLIENT_HOST_BYTES_MAX 256
#define HTTP_CLIENT_INTERIM_MAX 4       /* 1xx responses skipped before the real one */
#define HTTP_CLIENT_JSON_DEPTH_MAX 64
#define HTTP_CLIENT_REQUEST_HEAD_BYTES_MAX (HTTP_CLIENT_PATH_BYTES_MAX + 1024)

struct http_conn {
  int fd;
  bool broken;      /* an error happened: unusable */
  bool closed;      /* server ended the connection: no further requests */
  bool send_close;  /* send "Connection: close" (one-shot http_request) */
  char host_header[HTTP_CLIENT_HOST_BYTES_MAX + 16];
  size_t rstart, rend; /* unread bytes are rbuf[rstart..rend) */
  char rbuf[HTTP_CLIENT_HEAD_BYTES_MAX];
};

/* ---------------------------------------------------------------- time */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls fd for events until the deadline. Returns revents, 0 on timeout. */
static int poll_until(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
    if (n > 0) return p.revents;
    if (n < 0 && errno != EINTR) return POLLERR;
  }
}

/* ---------------------------------------------------------------- connect */

static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fd_out) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return VE_ERR_IO;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      close(fd);
      return VE_ERR_IO;
    }
    int ev = poll_until(fd, POLLOUT, deadline);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (ev == 0) {
      close(fd);
      return VE_ERR_TIMEOUT;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
      close(fd);
      return VE_ERR_IO;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  *fd_out = fd;
  return VE_OK;
}

static int connect_deadline(const char *host, uint16_t port, int64_t deadline, int *fd_out) {
  char port_str[8];
  snprintf(port_str, sizeof port_str, "%u", (unsigned)port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  if (getaddrinfo(host, port_str, &hints, &res) != 0 || !res) return VE_ERR_IO;
  int rc = VE_ERR_IO;
  for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    rc = connect_one(ai, deadline, fd_out);
    if (rc == VE_OK || rc == VE_ERR_TIMEOUT) break;
  }
  freeaddrinfo(res);
  return rc;
}

/* ---------------------------------------------------------------- reading */

/* Reads more bytes into rbuf. Returns 0, VE_ERR_CLOSED (EOF), VE_ERR_TOO_BIG
 * (rbuf full of unread bytes), VE_ERR_TIMEOUT or VE_ERR_IO. */
static int conn_fill(http_conn_t *c, int64_t deadline) {
  if (c->rstart > 0) { /* compact */
    memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
    c->rend -= c->rstart;
    c->rstart = 0;
  }
  if (c->rend == sizeof c->rbuf) return VE_ERR_TOO_BIG;
  for (;;) {
    ssize_t n = recv(c->fd, c->rbuf + c->rend, sizeof c->rbuf - c->rend, 0);
    if (n > 0) {
      c->rend += (size_t)n;
      return VE_OK;
    }
    if (n == 0) return VE_ERR_CLOSED;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return VE_ERR_IO;
    int ev = poll_until(c->fd, POLLIN, deadline);
    if (ev == 0) return VE_ERR_TIMEOUT;
    if (!(ev & (POLLIN | POLLHUP | POLLERR))) return VE_ERR_IO;
  }
}

/* Finds "\r\n" (or "\r\n\r\n" when blank is true) in the unread bytes,
 * reading more as needed, within limit bytes. Out: *len up to and including
 * the terminator. */
static int conn_find(http_conn_t *c, const char *term, size_t limit, int64_t deadline,
                     size_t *len) {
  size_t tl = strlen(term);
  for (;;) {
    size_t avail = c->rend - c->rstart;
    for (size_t i = 0; i + tl <= avail && i + tl <= limit; i++) {
      if (memcmp(c->rbuf + c->rstart + i, term, tl) == 0) {
        *len = i + tl;
        return VE_OK;
      }
    }
    if (avail >= limit) return VE_ERR_TOO_BIG;
    int rc = conn_fill(c, deadline);
    if (rc == VE_ERR_CLOSED) return VE_ERR_IO; /* EOF inside a head or chunk line */
    VE_TRY(rc);
  }
}

/* Moves exactly n bytes into body. */
static int conn_read_exact(http_conn_t *c, size_t n, ve_buf_t *body, int64_t deadline) {
  while (n > 0) {
    if (c->rend == c->rstart) {
      int rc = conn_fill(c, deadline);
      if (rc == VE_ERR_CLOSED) return VE_ERR_IO; /* body shorter than announced */
      VE_TRY(rc);
    }
    size_t take = c->rend - c->rstart;
    if (take > n) take = n;
    VE_TRY(ve_buf_append(body, c->rbuf + c->rstart, take));
    c->rstart += take;
    n -= take;
  }
  return VE_OK;
}

/* Body framed by the end of the connection. */
static int conn_read_to_eof(http_conn_t *c, ve_buf_t *body, int64_t deadline) {
  for (;;) {
    VE_TRY(ve_buf_append(body, c->rbuf + c->rstart, c->rend - c->rstart));
    c->rstart = c->rend = 0;
    int rc = conn_fill(c, deadline);
    if (rc == VE_ERR_CLOSED) return VE_OK;
    VE_TRY(rc);
  }
}

/* ---------------------------------------------------------------- head */

typedef struct {
  int status;
  bool chunked, has_length, close;
  uint64_t length;
} resp_head_t;

static bool name_is(const char *line, size_t name_len, const char *name) {
  return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

static int head_field(resp_head_t *h, const char *line, size_t len, http_response_t *out) {
  const char *colon = memchr(line, ':', len);
  if (!colon || colon == line) return VE_ERR_MALFORMED;
  size_t name_len = (size_t)(colon - line);
  const char *v = colon + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
  size_t vlen = (size_t)(end - v);
  if (name_is(line, name_len, "content-length")) {
    uint64_t n = 0;
    if (vlen == 0) return VE_ERR_MALFORMED;
    for (const char *p = v; p < end; p++) {
      if (*p < '0' || *p > '9') return VE_ERR_MALFORMED;
      if (n > API_CLIENT_RESPONSE_BYTES_MAX) return VE_ERR_TOO_BIG;
      n = n * 10 + (uint64_t)(*p - '0');
    }
    if (n > API_CLIENT_RESPONSE_BYTES_MAX) return VE_ERR_TOO_BIG;
    if (h->has_length && h->length != n) return VE_ERR_MALFORMED;
    h->has_length = true;
    h->length = n;
  } else if (name_is(line, name_len, "transfer-encoding")) {
    /* chunked must be the last coding; nothing else is supported */
    if (!(vlen == 7 && strncasecmp(v, "chunked", 7) == 0)) return VE_ERR_MALFORMED;
    h->chunked = true;
  } else if (name_is(line, name_len, "connection")) {
    if (vlen == 5 && strncasecmp(v, "close", 5) == 0) h->close = true;
  } else if (name_is(line, name_len, "retry-after")) {
    /* delta-seconds only (an HTTP-date stays 0); capped, never overflows */
    unsigned s = 0;
    const char *p = v;
    for (; p < end && *p >= '0' && *p <= '9'; p++) s = s < 86400 ? s * 10 + (unsigned)(*p - '0') : s;
    out->retry_after_s = p == end && vlen ? s : 0;
  } else if (name_is(line, name_len, "content-type")) {
    if (vlen < sizeof out->content_type) {
      memcpy(out->content_type, v, vlen);
      out->content_type[vlen] = 0;
    }
  }
  return VE_OK;
}

/* Parses the head rbuf[rstart, rstart+len) ending in "\r\n\r\n". */
static int head_parse(const char *p, size_t len, resp_head_t *h, http_response_t *out) {
  memset(h, 0, sizeof *h);
  const char *end = p + len - 2; /* last "\r\n" closes the head */
  const char *eol = memchr(p, '\r', (size_t)(end - p));
  if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
      p[8] != ' ')
    return VE_ERR_MALFORMED;
  for (int i = 9; i < 12; i++) {
    if (p[i] < '0' || p[i] > '9') return VE_ERR_MALFORMED;
  }
  if (eol - p > 12 && p[12] != ' ') return VE_ERR_MALFORMED;
  h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (h->status < 100) return VE_ERR_MALFORMED;
  if (p[7] == '0') h->close = true; /* HTTP/1.0 without keep-alive */
  for (const char *line = eol + 2; line < end;) {
    const char *le = memchr(line, '\r', (size_t)(end - line));
    if (!le || le[1] != '\n') return VE_ERR_MALFORMED;
    VE_TRY(head_field(h, line, (size_t)(le - line), out));
    line = le + 2;
  }
  if (h->chunked && h->has_length) h->has_length = false; /* RFC 9112 6.3: chunked wins */
  return VE_OK;
}

/* ---------------------------------------------------------------- chunked */

static int chunked_read(http_conn_t *c, ve_buf_t *body, int64_t deadline) {
  for (;;) {
    size_t len;
    VE_TRY(conn_find(c, "\r\n", HTTP_CLIENT_CHUNK_LINE_BYTES_MAX, deadline, &len));
    const char *line = c->rbuf + c->rstart;
    uint64_t size = 0;
    size_t i = 0;
    for (; i < len - 2; i++) {
      char ch = line[i];
      int d = ch >= '0' && ch <= '9' ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                       : -1;
      if (d < 0) break;
      if (size > API_CLIENT_RESPONSE_BYTES_MAX) return VE_ERR_TOO_BIG;
      size = size * 16 + (uint64_t)d;
    }
    if (i == 0 || (i < len - 2 && line[i] != ';' && line[i] != ' ' && line[i] != '\t'))
      return VE_ERR_MALFORMED;
    c->rstart += len;
    if (size == 0) break;
    if (size > API_CLIENT_RESPONSE_BYTES_MAX - body->len) return VE_ERR_TOO_BIG;
    VE_TRY(conn_read_exact(c, (size_t)size, body, deadline));
    while (c->rend - c->rstart < 2) {
      int rc = conn_fill(c, deadline);
      if (rc == VE_ERR_CLOSED) return VE_ERR_IO;
      VE_TRY(rc);
    }
    if (memcmp(c->rbuf + c->rstart, "\r\n", 2) != 0) return VE_ERR_MALFORMED;
    c->rstart += 2;
  }
  /* Trailer fields, then the blank line; bounded in total. */
  size_t trailer_bytes = 0;
  for (;;) {
    size_t len;
    VE_TRY(conn_find(c, "\r\n", HTTP_CLIENT_HEAD_BYTES_MAX, deadline, &len));
    c->rstart += len;
    if (len == 2) return VE_OK;
    trailer_bytes += len;
    if (trailer_bytes > HTTP_CLIENT_HEAD_BYTES_MAX) return VE_ERR_TOO_BIG;
  }
}

/* ---------------------------------------------------------------- exchange */

/* Sends all bytes; stops early (returning 0 with *answered set) if the
 * server starts answering before the request is fully sent. */
static int send_all(http_conn_t *c, const void *data, size_t len, int64_t deadline,
                    bool *answered) {
  const char *p = data;
  while (len > 0 && !*answered) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n > 0) {
      p += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      *answered = true; /* maybe an early answer is waiting to be read */
      break;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return VE_ERR_IO;
    int ev = poll_until(c->fd, POLLOUT | POLLIN, deadline);
    if (ev == 0) return VE_ERR_TIMEOUT;
    if (ev & (POLLIN | POLLHUP)) *answered = true;
    else if (ev & POLLERR) return VE_ERR_IO;
  }
  return VE_OK;
}

static bool token_valid(const char *s, size_t max, bool path) {
  size_t len = s ? strnlen(s, max + 1) : 0;
  if (len == 0 || len > max || (path && s[0] != '/')) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch <= 0x20 || ch == 0x7f) return false;
    if (!path && (ch < 'A' || ch > 'Z')) return false;
  }
  return true;
}

static bool method_sends_length(const char *m) {
  return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

static int request_send(http_conn_t *c, const char *method, const char *path, const char *ct,
                        const void *body, size_t body_len, int64_t deadline, bool *answered) {
  char head[HTTP_CLIENT_REQUEST_HEAD_BYTES_MAX];
  int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: veche\r\n",
                   method, path, c->host_header);
  if (ct) n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: %s\r\n", ct);
  if (body_len > 0 || method_sends_length(method))
    n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body_len);
  if (c->send_close) n += snprintf(head + n, sizeof head - (size_t)n, "Connection: close\r\n");
  n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
  VE_ASSERT(n > 0 && (size_t)n < sizeof head); /* bounded by the checked inputs */
  *answered = false;
  VE_TRY(send_all(c, head, (size_t)n, deadline, answered));
  if (body_len > 0) VE_TRY(send_all(c, body, body_len, deadline, answered));
  return VE_OK;
}

static int response_read(http_conn_t *c, const char *method, int64_t deadline,
                         http_response_t *out) {
  resp_head_t h;
  for (int interim = 0;; interim++) {
    size_t len;
    int rc = conn_find(c, "\r\n\r\n", sizeof c->rbuf, deadline, &len);
    if (rc == VE_ERR_TOO_BIG) return VE_ERR_TOO_BIG;
    VE_TRY(rc);
    VE_TRY(head_parse(c->rbuf + c->rstart, len, &h, out));
    c->rstart += len;
    if (h.status >= 200) break;
    if (interim >= HTTP_CLIENT_INTERIM_MAX) return VE_ERR_MALFORMED;
  }
  out->status = h.status;
  if (h.close) c->closed = true;
  bool no_body = strcmp(method, "HEAD") == 0 || h.status == 204 || h.status == 304;
  if (no_body) return VE_OK;
  if (h.chunked) return chunked_read(c, &out->body, deadline);
  if (h.has_length) return conn_read_exact(c, (size_t)h.length, &out->body, deadline);
  c->closed = true;
  return conn_read_to_eof(c, &out->body, deadline);
}

/* Nothing the caller passes can inject a header or break the request line. */
static bool args_valid(const char *method, const char *path, const char *ct, const void *body,
                       size_t body_len, int timeout_ms) {
  return token_valid(method, HTTP_CLIENT_METHOD_BYTES_MAX, false) &&
         token_valid(path, HTTP_CLIENT_PATH_BYTES_MAX, true) && timeout_ms > 0 &&
         (!ct || (strlen(ct) < HTTP_CLIENT_CONTENT_TYPE_BYTES_MAX && !strpbrk(ct, "\r\n"))) &&
         (body_len == 0 || body);
}

static int conn_exchange(http_conn_t *c, const char *method, const char *path, const char *ct,
                         const void *body, size_t body_len, int timeout_ms,
                         http_response_t *out) {
  memset(out, 0, sizeof *out);
  ve_buf_init(&out->body, API_CLIENT_RESPONSE_BYTES_MAX + 1); /* +1: the NUL */
  if (!args_valid(method, path, ct, body, body_len, timeout_ms)) return VE_ERR_INVALID;
  if (c->broken) return VE_ERR_IO;
  if (c->closed) return VE_ERR_CLOSED;
  int64_t deadline = now_ms() + timeout_ms;
  bool answered = false;
  int rc = request_send(c, method, path, ct, body, body_len, deadline, &answered);
  if (rc == VE_OK) rc = response_read(c, method, deadline, out);
  if (rc == VE_OK && answered) c->closed = true; /* request not fully sent */
  if (rc == VE_OK && out->body.len > API_CLIENT_RESPONSE_BYTES_MAX) rc = VE_ERR_TOO_BIG;
  if (rc == VE_OK && out->body.len > 0) {
    rc = ve_buf_reserve(&out->body, 1);
    if (rc == VE_OK) out->body.ptr[out->body.len] = 0;
  }
  if (rc < 0) {
    c->broken = true;
    http_response_free(out);
  }
  return rc;
}

/* ---------------------------------------------------------------- public */

void http_response_free(http_response_t *r) {
  if (!r) return;
  ve_buf_free(&r->body);
  r->status = 0;
  r->content_type[0] = 0;
  r->retry_after_s = 0;
}

int http_conn_open(const char *host, uint16_t port, int timeout_ms, http_conn_t **out) {
  *out = NULL;
  size_t host_len = host ? strnlen(host, HTTP_CLIENT_HOST_BYTES_MAX + 1) : 0;
  if (host_len == 0 || host_len > HTTP_CLIENT_HOST_BYTES_MAX || timeout_ms <= 0 ||
      strpbrk(host, "\r\n /"))
    return VE_ERR_INVALID;
  http_conn_t *c = calloc(1, sizeof *c);
  if (!c) return VE_ERR_NOMEM;
  c->fd = -1;
  bool v6 = strchr(host, ':') != NULL;
  snprintf(c->host_header, sizeof c->host_header, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
  int rc = connect_deadline(host, port, now_ms() + timeout_ms, &c->fd);
  if (rc < 0) {
    free(c);
    return rc;
  }
  *out = c;
  return VE_OK;
}

int http_conn_request(http_conn_t *c, const char *method, const char *path,
                      const char *content_type, const void *body, size_t body_len,
                      int timeout_ms, http_response_t *out) {
  VE_ASSERT(c && out);
  return conn_exchange(c, method, path, content_type, body, body_len, timeout_ms, out);
}

void http_conn_close(http_conn_t *c) {
  if (!c) return;
  if (c->fd >= 0) close(c->fd);
  free(c);
}

int http_request(const char *host, uint16_t port, const char *method, const char *path,
                 const char *content_type, const void *body, size_t body_len, int timeout_ms,
                 http_response_t *out) {
  VE_ASSERT(out);
  memset(out, 0, sizeof *out);
  if (!args_valid(method, path, content_type, body, body_len, timeout_ms)) return VE_ERR_INVALID;
  int64_t deadline = now_ms() + timeout_ms;
  http_conn_t *c;
  VE_TRY(http_conn_open(host, port, timeout_ms, &c));
  c->send_close = true;
  int64_t left = deadline - now_ms();
  int rc = left > 0 ? conn_exchange(c, method, path, content_type, body, body_len, (int)left, out)
                    : VE_ERR_TIMEOUT;
  http_conn_close(c);
  return rc;
}

int http_request_json(const char *host, uint16_t port, const char *method, const char *path,
                      const json_t *body, int timeout_ms, int *status, json_t **out_json) {
  VE_ASSERT(status && out_json);
  *status = 0;
  *out_json = NULL;
  char *text = NULL;
  if (body) {
    text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return VE_ERR_NOMEM;
  }
  http_response_t r;
  int rc = http_request(host, port, method, path, text ? "application/json" : NULL, text,
                        text ? strlen(text) : 0, timeout_ms, &r);
  free(text);
  VE_TRY(rc);
  *status = r.status;
  if (r.body.len > 0) {
    rc = api_json_depth_check(r.body.ptr, r.body.len, HTTP_CLIENT_JSON_DEPTH_MAX);
    if (rc == VE_OK) {
      json_error_t jerr;
      *out_json = json_loadb((const char *)r.body.ptr, r.body.len, 0, &jerr);
      if (!*out_json) rc = VE_ERR_MALFORMED;
    }
  }
  http_response_free(&r);
  return rc;
}
