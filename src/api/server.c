/* server.c — the HTTP server: libmicrohttpd plumbing, limits, JSON bodies,
 * error responses and request metrics.
 *
 * One request goes through these states (field api_request.stage), driven by
 * libmicrohttpd's callbacks:
 *
 *   on_uri -> REQ_HEADERS -on_headers-> REQ_BODY -on_body*-> on_complete -> REQ_DONE
 *                 |                        |                                  ^
 *                 |                        +-- chunked body over limit: drop  |
 *                 +-- refused, body announced: answered at once, conn closed -+
 *                 +-- refused, no body -> REQ_REJECTED -- answered when complete
 *   (refusals: 400, 404, 405, 413, 414, 415, 431, 503; held in req->pending)
 *   on_completed frees the request in every state (also when the peer vanished).
 *
 * Invariants:
 *   - nothing is allocated for a body before its size is known to be within
 *     the route's limit and the server's in-flight budget (Content-Length), or
 *     before each piece arrives (chunked uploads, checked piece by piece);
 *   - req->inflight_bytes is what this request took from srv->inflight_bytes,
 *     and is given back exactly once, in on_completed;
 *   - every response this layer sends is JSON {"error","message"} unless a
 *     handler chose a text body for a success.
 *
 * libmicrohttpd calls these from its pool threads; a request is only ever
 * touched by the thread that owns its connection.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "api/router.h"
#include "base/err.h"
#include "base/log.h"

#define MOD "api"
#define API_CONTENT_TYPE_BYTES_MAX 96
#define API_ALLOW_BYTES_MAX 128

static const char JSON_CT[] = "application/json";
/* Sent when even building an error body fails (out of memory). */
static const char FALLBACK_BODY[] =
    "{\"error\":\"internal_error\",\"message\":\"response could not be built\"}";

struct api_response {
  int status;   /* 0 until set */
  bool is_error;
  json_t *json; /* owned */
  char *text;   /* owned, when a text body */
  size_t text_len;
  char content_type[API_CONTENT_TYPE_BYTES_MAX];
  unsigned retry_after_s; /* 0: the default (1 on a 503, else none) */
};

typedef enum { REQ_HEADERS, REQ_BODY, REQ_REJECTED, REQ_DONE } req_stage_t;

struct api_request {
  api_server_t *srv;
  struct MHD_Connection *conn;
  struct timespec start;
  req_stage_t stage;
  const char *method; /* libmicrohttpd's, valid for the request */
  bool target_too_long;
  char target[API_URL_BYTES_MAX + 1]; /* raw request target, cut at '?' into the path */
  char seg_buf[API_URL_BYTES_MAX + 1];
  const char *segs[API_PATH_SEGMENTS_MAX];
  size_t n_segs;
  const api_route_compiled_t *route;
  bool body_is_json; /* Content-Type: application/json */
  ve_buf_t body;
  size_t inflight_bytes;
  json_t *json;
  api_response_t pending; /* an early refusal not yet sent (REQ_REJECTED) */
  char allow[API_ALLOW_BYTES_MAX];
};

struct api_server {
  struct MHD_Daemon *daemon;
  uint16_t port;
  void *ctx;
  size_t n_routes;
  api_route_compiled_t *routes;
  api_metrics_t *metrics;
  bool own_metrics;
  api_metric_t *m_class[5]; /* 1xx..5xx */
  api_metric_t *m_duration, *m_in_flight, *m_body_rejected;
  size_t inflight_max;
  _Atomic size_t inflight_bytes;
};

/* ================================================================ responses */

static void response_clear(api_response_t *resp) {
  json_decref(resp->json);
  free(resp->text);
  memset(resp, 0, sizeof *resp);
}

int api_response_status(const api_response_t *resp) { return resp->status; }

void api_response_retry_after(api_response_t *resp, unsigned seconds) {
  resp->retry_after_s = seconds < 1 ? 1 : seconds > API_RETRY_AFTER_S_MAX ? API_RETRY_AFTER_S_MAX : seconds;
}

/* Copies src into out as printable ASCII; other bytes become '?'. */
static void sanitize(char *out, size_t out_len, const char *src) {
  size_t i = 0;
  for (; src[i] && i + 1 < out_len; i++) {
    unsigned char c = (unsigned char)src[i];
    out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  out[i] = 0;
}

void api_error_v(api_response_t *resp, int status, const char *code, const char *fmt,
                 va_list ap) {
  char raw[API_ERROR_MESSAGE_BYTES_MAX + 1], msg[API_ERROR_MESSAGE_BYTES_MAX + 1];
  char code_clean[64];
  vsnprintf(raw, sizeof raw, fmt ? fmt : "", ap);
  sanitize(msg, sizeof msg, raw);
  sanitize(code_clean, sizeof code_clean, code ? code : "internal_error");
  response_clear(resp);
  if (status < 400 || status > 599) status = 500;
  resp->status = status;
  resp->is_error = true;
  resp->json = json_pack("{s:s,s:s}", "error", code_clean, "message", msg);
  /* json NULL (out of memory) is sent as FALLBACK_BODY with this status. */
}

void api_error(api_response_t *resp, int status, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  api_error_v(resp, status, code, fmt, ap);
  va_end(ap);
}

int api_status_from_err(int ve_err) {
  switch (ve_err) {
    case VE_ERR_INVALID: case VE_ERR_MALFORMED: case VE_ERR_NONCANONICAL:
    case VE_ERR_TRAILING: case VE_ERR_DEPTH: case VE_ERR_VERSION: case VE_ERR_BAD_KEY:
    case VE_ERR_WRONG_CHAIN: case VE_ERR_UNKNOWN_TYPE: case VE_ERR_PROOF:
    case VE_ERR_HEIGHT: case VE_ERR_HASH_MISMATCH: case VE_ERR_WRONG_POLL:
    case VE_ERR_BAD_TIME: case VE_ERR_UNSUPPORTED:
      return 400;
    case VE_ERR_BAD_SIG:
      return 401;
    case VE_ERR_PERMISSION: case VE_ERR_UNKNOWN_SIGNER: case VE_ERR_REVOKED:
    case VE_ERR_SUSPENDED: case VE_ERR_NOT_ELIGIBLE: case VE_ERR_QUORUM: case VE_ERR_NEEDS_DECISION:
      return 403; /* no_quorum: approved by too little voting power, as submitted */
    case VE_ERR_NOT_FOUND:
      return 404;
    case VE_ERR_STALE_SEQ: case VE_ERR_DUPLICATE: case VE_ERR_EXISTS: case VE_ERR_STATE:
    case VE_ERR_EXPIRED: case VE_ERR_TOO_EARLY: case VE_ERR_TOO_LATE:
      return 409;
    case VE_ERR_PRUNED:
      return 410;
    case VE_ERR_TOO_BIG: case VE_ERR_LIMIT:
      return 413;
    case VE_ERR_FULL: case VE_ERR_NOMEM: case VE_ERR_CLOSED:
    case VE_ERR_TIMEOUT: case VE_ERR_BUSY:
      return 503;
    default: /* VE_ERR_IO, STORE, CORRUPT, CONFIG, CRYPTO, PEER, VE_OK, unknown */
      return 500;
  }
}

void api_error_ve(api_response_t *resp, int ve_err, const char *fmt, ...) {
  int status = api_status_from_err(ve_err);
  const char *code = ve_err < 0 ? ve_err_name(ve_err) : "internal_error";
  if (!fmt) {
    api_error(resp, status, code, "%s", ve_err < 0 ? ve_strerror(ve_err) : "handler error");
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  api_error_v(resp, status, code, fmt, ap);
  va_end(ap);
}

void api_respond_json(api_response_t *resp, int status, json_t *body) {
  if (!body) {
    api_error(resp, 500, "internal_error", "response body could not be built");
    return;
  }
  if (status < 100 || status > 599) {
    json_decref(body);
    VE_ERROR(MOD, "handler set invalid status %d", status);
    api_error(resp, 500, "internal_error", "handler set an invalid status");
    return;
  }
  response_clear(resp);
  resp->status = status;
  resp->is_error = status >= 400;
  resp->json = body;
}

int api_respond_text(api_response_t *resp, int status, const char *content_type,
                     const void *text, size_t len) {
  size_t ct_len = content_type ? strlen(content_type) : 0;
  if (status < 100 || status > 599 || ct_len == 0 || ct_len >= API_CONTENT_TYPE_BYTES_MAX ||
      strpbrk(content_type, "\r\n") || (len && !text)) {
    VE_ERROR(MOD, "handler set an invalid text response");
    api_error(resp, 500, "internal_error", "handler set an invalid response");
    return VE_ERR_INVALID;
  }
  char *copy = malloc(len ? len : 1);
  if (!copy) {
    api_error(resp, 500, "internal_error", "out of memory");
    return VE_ERR_NOMEM;
  }
  if (len) memcpy(copy, text, len);
  response_clear(resp);
  resp->status = status;
  resp->is_error = status >= 400;
  resp->text = copy;
  resp->text_len = len;
  memcpy(resp->content_type, content_type, ct_len + 1);
  return VE_OK;
}

/* ================================================================ requests */

const char *api_request_method(const api_request_t *req) { return req->method; }
const char *api_request_path(const api_request_t *req) { return req->target; }
ve_slice_t api_request_body(const api_request_t *req) { return ve_buf_slice(&req->body); }
json_t *api_request_json(const api_request_t *req) { return req->json; }
api_metrics_t *api_request_metrics(const api_request_t *req) { return req->srv->metrics; }

const char *api_request_param(const api_request_t *req, const char *name) {
  if (!req->route || !name) return NULL;
  size_t len = strlen(name);
  for (size_t i = 0; i < req->route->n_segs; i++) {
    const api_seg_t *s = &req->route->segs[i];
    if (s->param && s->len == len && memcmp(s->ptr, name, len) == 0) return req->segs[i];
  }
  return NULL;
}

const char *api_request_query(const api_request_t *req, const char *name) {
  const char *val = NULL;
  size_t val_len = 0;
  if (!name) return NULL;
  if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &val,
                                    &val_len) != MHD_YES)
    return NULL;
  return val ? val : "";
}

const char *api_request_header(const api_request_t *req, const char *name) {
  return name ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

/* Digits only, no sign, no leading zeros, no overflow, <= max. */
static int parse_u64_strict(const char *s, uint64_t max, uint64_t *out) {
  if (!s[0] || (s[0] == '0' && s[1])) return VE_ERR_MALFORMED;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return VE_ERR_MALFORMED;
    uint64_t d = (uint64_t)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return VE_ERR_INVALID;
    v = v * 10 + d;
  }
  if (v > max) return VE_ERR_INVALID;
  *out = v;
  return VE_OK;
}

int api_request_param_u64(const api_request_t *req, const char *name, uint64_t max,
                          uint64_t *out) {
  const char *s = api_request_param(req, name);
  if (!s) return VE_ERR_NOT_FOUND;
  return parse_u64_strict(s, max, out);
}

int api_request_query_u64(const api_request_t *req, const char *name, uint64_t dflt,
                          uint64_t max, uint64_t *out) {
  const char *s = api_request_query(req, name);
  if (!s) {
    *out = dflt;
    return VE_OK;
  }
  return parse_u64_strict(s, max, out);
}

/* ================================================================ sending */

static double seconds_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void count_status(api_server_t *s, int status) {
  int cls = status / 100;
  if (cls >= 1 && cls <= 5) api_metric_inc(s->m_class[cls - 1]);
}

/* Builds the libmicrohttpd response from resp (whose contents move into it)
 * and queues it. */
static enum MHD_Result send_response(api_request_t *req, api_response_t *resp, const char *allow) {
  struct MHD_Response *r = NULL;
  const char *ct = JSON_CT;
  if (resp->text) {
    r = MHD_create_response_from_buffer(resp->text_len, resp->text, MHD_RESPMEM_MUST_FREE);
    if (r) resp->text = NULL; /* now owned by r */
    ct = resp->content_type;
  } else if (resp->json) {
    char *dump = json_dumps(resp->json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dump) {
      r = MHD_create_response_from_buffer(strlen(dump), dump, MHD_RESPMEM_MUST_FREE);
      if (!r) free(dump);
    }
  }
  if (!r) { /* no body could be built: say so, with a body that needs no memory */
    if (resp->status < 400) resp->status = 500;
    ct = JSON_CT;
    r = MHD_create_response_from_buffer(sizeof FALLBACK_BODY - 1, (void *)FALLBACK_BODY,
                                        MHD_RESPMEM_PERSISTENT);
    if (!r) {
      response_clear(resp);
      return MHD_NO;
    }
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
  if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  if (resp->retry_after_s) {
    char secs[16];
    snprintf(secs, sizeof secs, "%u", resp->retry_after_s);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
  } else if (resp->status == 503) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  }
  int status = resp->status;
  enum MHD_Result ok = MHD_queue_response(req->conn, (unsigned)status, r);
  MHD_destroy_response(r);
  response_clear(resp);
  req->stage = REQ_DONE;
  if (ok == MHD_YES) count_status(req->srv, status);
  return ok;
}

static enum MHD_Result send_error(api_request_t *req, int status, const char *code,
                                  const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result send_error(api_request_t *req, int status, const char *code,
                                  const char *allow, const char *fmt, ...) {
  api_response_t resp = {0};
  va_list ap;
  va_start(ap, fmt);
  api_error_v(&resp, status, code, fmt, ap);
  va_end(ap);
  return send_response(req, &resp, allow);
}

/* ================================================================ headers */

static bool media_type_is_json(const char *ct) {
  if (!ct) return false;
  while (*ct == ' ' || *ct == '\t') ct++;
  size_t n = sizeof JSON_CT - 1;
  if (strncasecmp(ct, JSON_CT, n) != 0) return false;
  ct += n;
  while (*ct == ' ' || *ct == '\t') ct++;
  return *ct == 0 || *ct == ';';
}

/* Content-Length as libmicrohttpd accepted it: digits, maybe leading zeros.
 * Saturates instead of overflowing (anything huge is over every limit). */
static uint64_t content_length_value(const char *s) {
  uint64_t v = 0;
  for (; *s >= '0' && *s <= '9'; s++)
    v = v > UINT64_MAX / 10 - 1 ? UINT64_MAX : v * 10 + (uint64_t)(*s - '0');
  return v;
}

static enum MHD_Result query_arg_check(void *cls, enum MHD_ValueKind kind, const char *key,
                                       size_t key_size, const char *value, size_t value_size) {
  bool *bad = cls;
  if (strlen(key) != key_size || (value && strlen(value) != value_size)) *bad = true;
  return MHD_YES;
}

/* Reserves n bytes of the server's in-flight body budget. */
static bool inflight_take(api_request_t *req, size_t n) {
  api_server_t *s = req->srv;
  size_t before = atomic_fetch_add(&s->inflight_bytes, n);
  if (before + n > s->inflight_max || before + n < before) {
    atomic_fetch_sub(&s->inflight_bytes, n);
    return false;
  }
  req->inflight_bytes += n;
  return true;
}

/* Records an early answer in req->pending. Returns false, so that checks
 * read "if (bad) return reject(...)". */
static bool reject(api_request_t *req, int status, const char *code, const char *allow,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static bool reject(api_request_t *req, int status, const char *code, const char *allow,
                   const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  api_error_v(&req->pending, status, code, fmt, ap);
  va_end(ap);
  snprintf(req->allow, sizeof req->allow, "%s", allow ? allow : "");
  return false;
}

/* Everything decided from the request line and headers. Returns true if the
 * request may go on to its body and handler. */
static bool headers_check(api_request_t *req, const char *method, uint64_t len, bool chunked) {
  if (req->target_too_long)
    return reject(req, 414, "uri_too_long", NULL, "request target over %d bytes",
                  API_URL_BYTES_MAX);
  int n_headers = MHD_get_connection_values(req->conn, MHD_HEADER_KIND, NULL, NULL);
  if (n_headers > API_HEADERS_MAX)
    return reject(req, 431, "too_many_headers", NULL, "more than %d request headers",
                  API_HEADERS_MAX);
  bool bad_query = false;
  int n_args = MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, query_arg_check,
                                           &bad_query);
  if (n_args > API_QUERY_ARGS_MAX)
    return reject(req, 400, "bad_request", NULL, "more than %d query arguments",
                  API_QUERY_ARGS_MAX);
  if (bad_query) return reject(req, 400, "bad_request", NULL, "query argument holds a NUL byte");

  req->target[strcspn(req->target, "?#")] = 0; /* the path alone */
  int rc = api_path_split(req->target, req->seg_buf, sizeof req->seg_buf, req->segs, &req->n_segs);
  if (rc == VE_ERR_NOT_FOUND) return reject(req, 404, "not_found", NULL, "no route for this path");
  if (rc < 0) return reject(req, 400, "bad_request", NULL, "malformed request path");

  char allow[API_ALLOW_BYTES_MAX];
  api_server_t *s = req->srv;
  switch (api_router_match(s->routes, s->n_routes, method, req->segs, req->n_segs, &req->route,
                           allow, sizeof allow)) {
    case API_MATCH_NO_PATH:
      return reject(req, 404, "not_found", NULL, "no route for %s", req->target);
    case API_MATCH_NO_METHOD:
      return reject(req, 405, "method_not_allowed", allow, "method %s not allowed here", method);
    case API_MATCH_OK:
      break;
  }

  size_t max = req->route->body_bytes_max;
  if (len > max || (chunked && max == 0)) {
    api_metric_inc(s->m_body_rejected);
    return reject(req, 413, "too_big", NULL, "request body over this route's limit of %zu bytes",
                  max);
  }
  const char *ct = api_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
  req->body_is_json = media_type_is_json(ct);
  if ((req->route->route->flags & API_ROUTE_JSON) && !req->body_is_json)
    return reject(req, 415, "unsupported_media_type", NULL, "body must be sent as %s", JSON_CT);

  ve_buf_init(&req->body, max ? max : 1);
  if (len > 0) {
    if (!inflight_take(req, (size_t)len))
      return reject(req, 503, "full", NULL, "too many request bodies in flight; retry later");
    if (ve_buf_reserve(&req->body, (size_t)len) < 0)
      return reject(req, 503, "out_of_memory", NULL, "cannot buffer the request body");
  }
  return true;
}

/* First call for a request, before any byte of the body is read. A refused
 * request that has a body is answered at once, and libmicrohttpd then closes
 * the connection instead of reading the body. A refused request without a
 * body is answered on the next call, once it is complete, so that the
 * connection can stay alive. */
static enum MHD_Result on_headers(api_request_t *req, const char *method) {
  req->method = method;
  const char *cl = api_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
  const char *te = api_request_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  uint64_t len = cl ? content_length_value(cl) : 0;
  if (headers_check(req, method, len, te != NULL)) {
    req->stage = REQ_BODY;
    return MHD_YES;
  }
  if (len > 0 || te) return send_response(req, &req->pending, req->allow[0] ? req->allow : NULL);
  req->stage = REQ_REJECTED;
  return MHD_YES;
}

/* A piece of the body. With Content-Length libmicrohttpd never passes more
 * than announced; chunked bodies are checked piece by piece and, past the
 * limit, the connection is dropped: a 413 can't be sent mid-upload and the
 * rest must not be read. */
static enum MHD_Result on_body(api_request_t *req, const char *data, size_t *size) {
  size_t n = *size, max = req->route->body_bytes_max;
  if (n > max - req->body.len) {
    api_metric_inc(req->srv->m_body_rejected);
    VE_INFO(MOD, "dropping connection: chunked body over %zu bytes", max);
    return MHD_NO;
  }
  size_t need = req->body.len + n;
  if (need > req->inflight_bytes && !inflight_take(req, need - req->inflight_bytes)) {
    VE_WARN(MOD, "dropping connection: request body budget exhausted");
    return MHD_NO;
  }
  if (ve_buf_append(&req->body, data, n) < 0) return MHD_NO;
  *size = 0;
  return MHD_YES;
}

/* ================================================================ dispatch */

/* Turns whatever the handler did into exactly one response (see api.h). */
static void handler_result(const api_request_t *req, api_response_t *resp, int rc) {
  const api_route_t *r = req->route->route;
  if (rc < 0) {
    if (!resp->is_error) api_error_ve(resp, rc, NULL);
  } else if (rc > 0) {
    VE_ERROR(MOD, "handler %s %s returned %d (not a VE_ERR code)", r->method, r->pattern, rc);
    api_error(resp, 500, "internal_error", "handler returned an invalid result");
  } else if (resp->status == 0) {
    VE_ERROR(MOD, "handler %s %s set no response", r->method, r->pattern);
    api_error(resp, 500, "internal_error", "handler set no response");
  }
}

static enum MHD_Result on_complete(api_request_t *req) {
  ve_slice_t body = ve_buf_slice(&req->body);
  bool wants_json = req->route->route->flags & API_ROUTE_JSON;
  if (wants_json && body.len == 0)
    return send_error(req, 400, "malformed_json", NULL,
                      "empty body; expected a JSON object or array");
  if (req->body_is_json && body.len > 0) {
    char msg[JSON_ERROR_TEXT_LENGTH + 64];
    int rc = api_json_parse(body.ptr, body.len, &req->json, msg, sizeof msg);
    if (rc == VE_ERR_DEPTH) return send_error(req, 400, "too_deep", NULL, "%s", msg);
    if (rc < 0) return send_error(req, 400, "malformed_json", NULL, "%s", msg);
  }
  api_response_t resp = {0};
  int rc = req->route->route->fn(req->srv->ctx, req, &resp);
  handler_result(req, &resp, rc);
  return send_response(req, &resp, NULL);
}

/* ================================================================ callbacks */

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
  api_request_t *req = *con_cls;
  if (!req) return MHD_NO; /* on_uri could not allocate */
  req->conn = conn;
  switch (req->stage) {
    case REQ_HEADERS:
      return on_headers(req, method);
    case REQ_BODY:
      if (*upload_data_size) return on_body(req, upload_data, upload_data_size);
      return on_complete(req);
    case REQ_REJECTED:
      if (*upload_data_size) break; /* no body was announced */
      return send_response(req, &req->pending, req->allow[0] ? req->allow : NULL);
    case REQ_DONE:
      *upload_data_size = 0; /* response already queued: discard, never store */
      return MHD_YES;
  }
  return MHD_NO;
}

/* Called with the raw request target as soon as the request line is read;
 * whatever it returns becomes the request's con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  api_server_t *s = cls;
  api_request_t *req = calloc(1, sizeof *req);
  if (!req) return NULL;
  req->srv = s;
  req->conn = conn;
  clock_gettime(CLOCK_MONOTONIC, &req->start);
  size_t len = strnlen(uri, API_URL_BYTES_MAX + 1);
  if (len > API_URL_BYTES_MAX)
    req->target_too_long = true;
  else
    memcpy(req->target, uri, len + 1);
  ve_buf_init(&req->body, 1);
  api_metric_add(s->m_in_flight, 1);
  return req;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  api_server_t *s = cls;
  api_request_t *req = *con_cls;
  if (!req) return;
  *con_cls = NULL;
  api_metric_observe(s->m_duration, seconds_since(&req->start));
  api_metric_sub(s->m_in_flight, 1);
  if (req->inflight_bytes) atomic_fetch_sub(&s->inflight_bytes, req->inflight_bytes);
  json_decref(req->json);
  response_clear(&req->pending);
  ve_buf_free(&req->body);
  free(req);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
  VE_WARN(MOD, "httpd: %s", line);
}

/* ================================================================ start/stop */

static int server_metrics_init(api_server_t *s) {
  static const char *classes[5] = {"class=\"1xx\"", "class=\"2xx\"", "class=\"3xx\"",
                                   "class=\"4xx\"", "class=\"5xx\""};
  static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  for (int i = 0; i < 5; i++)
    VE_TRY(api_metrics_counter(s->metrics, API_METRIC_REQUESTS, classes[i],
                               "HTTP requests answered, by status class", &s->m_class[i]));
  VE_TRY(api_metrics_histogram(s->metrics, API_METRIC_DURATION, NULL,
                               "Time from request line to response queued, in seconds", bounds,
                               sizeof bounds / sizeof bounds[0], &s->m_duration));
  VE_TRY(api_metrics_gauge(s->metrics, API_METRIC_IN_FLIGHT, NULL,
                           "HTTP requests being received or handled", &s->m_in_flight));
  return api_metrics_counter(s->metrics, API_METRIC_BODY_REJECTED, NULL,
                             "Request bodies refused for size (413 or dropped upload)",
                             &s->m_body_rejected);
}

typedef struct {
  const char *addr;
  uint16_t port;
  unsigned threads, conns, per_ip, timeout_s;
  size_t inflight_max;
} server_opts_t;

static int config_resolve(const api_config_t *cfg, server_opts_t *o) {
  api_config_t zero = {0};
  if (!cfg) cfg = &zero;
  o->addr = cfg->bind_addr ? cfg->bind_addr : API_BIND_ADDR_DEFAULT;
  o->port = cfg->port;
  o->threads = cfg->threads ? cfg->threads : API_THREADS_DEFAULT;
  o->conns = cfg->connections_max ? cfg->connections_max : API_CONNECTIONS_DEFAULT;
  o->per_ip = cfg->connections_per_ip_max;
  o->timeout_s = cfg->connection_timeout_s ? cfg->connection_timeout_s
                                           : API_CONNECTION_TIMEOUT_S_DEFAULT;
  o->inflight_max = cfg->body_inflight_bytes_max ? cfg->body_inflight_bytes_max
                                                 : API_BODY_INFLIGHT_BYTES_DEFAULT;
  if (o->threads > API_THREADS_MAX || o->conns > API_CONNECTIONS_MAX || o->conns < o->threads ||
      o->timeout_s > API_CONNECTION_TIMEOUT_S_MAX) {
    VE_ERROR(MOD, "bad server config (threads %u, connections %u, timeout %us)", o->threads,
             o->conns, o->timeout_s);
    return VE_ERR_CONFIG;
  }
  return VE_OK;
}

static int daemon_start(api_server_t *s, const server_opts_t *o) {
  struct sockaddr_in6 sa6 = {0};
  struct sockaddr_in sa4 = {0};
  const struct sockaddr *sa;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, o->addr, &sa4.sin_addr) == 1) {
    sa4.sin_family = AF_INET;
    sa4.sin_port = htons(o->port);
    sa = (const struct sockaddr *)&sa4;
  } else if (inet_pton(AF_INET6, o->addr, &sa6.sin6_addr) == 1) {
    sa6.sin6_family = AF_INET6;
    sa6.sin6_port = htons(o->port);
    sa = (const struct sockaddr *)&sa6;
    flags |= MHD_USE_IPv6;
  } else {
    VE_ERROR(MOD, "bind address '%s' is not a numeric IPv4/IPv6 address", o->addr);
    return VE_ERR_CONFIG;
  }
  struct MHD_OptionItem opts[] = {
      {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s}, /* first, to catch all */
      {MHD_OPTION_SOCK_ADDR, 0, (void *)sa},
      {MHD_OPTION_CONNECTION_LIMIT, o->conns, NULL},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip, NULL},
      {MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, NULL},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)API_CONNECTION_MEMORY_BYTES, NULL},
      {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
      {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
      {MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL},
      {o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, o->threads, NULL},
      {MHD_OPTION_END, 0, NULL},
  };
  s->daemon = MHD_start_daemon(flags, o->port, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts,
                               MHD_OPTION_END);
  if (!s->daemon) {
    VE_ERROR(MOD, "cannot listen on %s port %u", o->addr, (unsigned)o->port);
    return VE_ERR_IO;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : o->port;
  return VE_OK;
}

int api_server_start(const api_config_t *cfg, const api_route_t *routes, size_t n_routes,
                     void *ctx, api_server_t **out) {
  VE_ASSERT(out);
  *out = NULL;
  server_opts_t o;
  VE_TRY(config_resolve(cfg, &o));
  if (n_routes > API_ROUTES_MAX) return VE_ERR_CONFIG;
  api_server_t *s = calloc(1, sizeof *s);
  if (!s) return VE_ERR_NOMEM;
  s->ctx = ctx;
  s->inflight_max = o.inflight_max;
  atomic_init(&s->inflight_bytes, 0);
  s->n_routes = n_routes;
  s->routes = calloc(n_routes ? n_routes : 1, sizeof *s->routes);
  int rc = s->routes ? api_router_compile(routes, n_routes, s->routes) : VE_ERR_NOMEM;
  if (rc == VE_OK) {
    s->metrics = cfg ? cfg->metrics : NULL;
    if (!s->metrics) {
      rc = api_metrics_new(&s->metrics);
      s->own_metrics = rc == VE_OK;
    }
  }
  if (rc == VE_OK) rc = server_metrics_init(s);
  if (rc == VE_OK) rc = daemon_start(s, &o);
  if (rc < 0) {
    api_server_stop(s);
    return rc;
  }
  VE_INFO(MOD, "listening on %s port %u (%u threads)", o.addr, (unsigned)s->port, o.threads);
  *out = s;
  return VE_OK;
}

void api_server_stop(api_server_t *s) {
  if (!s) return;
  if (s->daemon) MHD_stop_daemon(s->daemon); /* joins threads; on_completed runs for all */
  if (s->own_metrics) api_metrics_free(s->metrics);
  free(s->routes);
  free(s);
}

uint16_t api_server_port(const api_server_t *s) { return s->port; }
api_metrics_t *api_server_metrics(const api_server_t *s) { return s->metrics; }

/* ================================================================ metrics route */

int api_metrics_handler(void *ctx, const api_request_t *req, api_response_t *resp) {
  ve_buf_t buf;
  ve_buf_init(&buf, API_METRICS_RENDER_BYTES_MAX);
  int rc = api_metrics_render(api_request_metrics(req), &buf);
  if (rc == VE_OK)
    rc = api_respond_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf.ptr, buf.len);
  ve_buf_free(&buf);
  return rc;
}
