/* api.h — the generic HTTP/JSON layer of a veche node: server, router, JSON
 * helpers and a Prometheus metrics registry.
 *
 * This module knows nothing about ledgers. The node builds a table of routes
 * (method + path pattern + handler) and starts a server with it; this layer
 * does the HTTP, the limits, the JSON parsing and the error format, so that
 * every handler sees a request that is already bounded and well formed.
 *
 * Threads: the server runs libmicrohttpd with an internal pool of threads.
 * HANDLERS ARE CALLED FROM SEVERAL THREADS AT ONCE and must be thread-safe;
 * the ctx pointer given to api_server_start is shared by all of them.
 *
 * Ownership, in one place:
 *   - api_config_t, the route table and every string in them are borrowed by
 *     api_server_start and must stay valid until api_server_stop returns.
 *   - an api_request_t and everything returned by its accessors is borrowed
 *     and valid only during the handler call.
 *   - json_t bodies given to api_respond_json are owned by the response
 *     (reference stolen, even on error).
 *   - the metrics registry outlives every server that uses it; metric handles
 *     stay valid until api_metrics_free.
 *
 * Conventions (errors, status mapping, limits, metrics format) are written out
 * in docs/api.md, section "Conventions".
 */
#ifndef VECHE_API_API_H
#define VECHE_API_API_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/bytes.h"

/* ---------------------------------------------------------------- limits */

/* Largest request body any route may accept (a route may set a lower limit). */
#define API_BODY_BYTES_MAX ((size_t)8 * 1024 * 1024)
/* Sum of request bodies buffered at once by one server; past it, 503 "full". */
#define API_BODY_INFLIGHT_BYTES_DEFAULT ((size_t)64 * 1024 * 1024)
/* Request target (path + query) length; longer gets 414. */
#define API_URL_BYTES_MAX 2048
/* Request headers; more get 431. Their total size is also bounded by
 * API_CONNECTION_MEMORY_BYTES inside libmicrohttpd. */
#define API_HEADERS_MAX 64
/* Memory libmicrohttpd may use per connection for the request line, headers
 * and read buffer (not the body, which this layer buffers, bounded above). */
#define API_CONNECTION_MEMORY_BYTES ((size_t)64 * 1024)
/* Query arguments in one request; more get 400 bad_request. */
#define API_QUERY_ARGS_MAX 64
/* Nesting of arrays/objects in a JSON request body; deeper gets 400 too_deep. */
#define API_JSON_DEPTH_MAX 32
/* Routes in one server, segments in one path, :params in one pattern. */
#define API_ROUTES_MAX 256
#define API_PATH_SEGMENTS_MAX 16
#define API_PATH_PARAMS_MAX 8
/* Error message text in error bodies (longer is truncated). */
#define API_ERROR_MESSAGE_BYTES_MAX 512
/* Threads, connections and the idle timeout of one connection. */
#define API_THREADS_DEFAULT 2
#define API_THREADS_MAX 64
#define API_CONNECTIONS_DEFAULT 256
#define API_CONNECTIONS_MAX 16384
#define API_CONNECTION_TIMEOUT_S_DEFAULT 15
#define API_CONNECTION_TIMEOUT_S_MAX 3600
#define API_BIND_ADDR_DEFAULT "127.0.0.1"
/* Largest Retry-After a handler may send (api_response_retry_after). */
#define API_RETRY_AFTER_S_MAX 3600

/* ---------------------------------------------------------------- metrics */

/* A registry of named metrics rendered in the Prometheus text exposition
 * format (version 0.0.4). All functions are thread-safe. Updating a metric is
 * lock-free; registering and rendering take the registry's lock. */
typedef struct api_metrics api_metrics_t;
typedef struct api_metric api_metric_t;

#define API_METRICS_MAX 256            /* metrics (name + labels) per registry */
#define API_METRIC_NAME_BYTES_MAX 96
#define API_METRIC_HELP_BYTES_MAX 256
#define API_METRIC_LABELS_BYTES_MAX 256
#define API_METRIC_BUCKETS_MAX 32      /* histogram bounds, +Inf not counted */
/* Bound on one rendering by api_metrics_handler; a full registry of
 * histograms with the longest names and labels stays below it. */
#define API_METRICS_RENDER_BYTES_MAX ((size_t)4 * 1024 * 1024)

/* Out: *out, a new empty registry. Returns 0 or VE_ERR_NOMEM. */
int api_metrics_new(api_metrics_t **out);
/* Frees the registry and every metric in it. NULL is allowed. */
void api_metrics_free(api_metrics_t *m);

/* Registers a metric, or returns the existing one with the same name, labels
 * and kind (registration is idempotent, so two servers can share a registry).
 * In: name    [a-zA-Z_:][a-zA-Z0-9_:]*, at most API_METRIC_NAME_BYTES_MAX.
 *     labels  NULL/"" or a pre-rendered list `a="x",b="y"`: label names are
 *             [a-zA-Z_][a-zA-Z0-9_]*, values may not hold '"', '\\' or a
 *             newline. Metrics sharing a name share one HELP/TYPE block.
 *     help    printable text without newline (the first registration wins).
 * Out: *out, the handle (owned by the registry).
 * Returns 0, VE_ERR_INVALID (bad name/labels/help/bounds), VE_ERR_EXISTS (same
 * name already registered as another kind), VE_ERR_LIMIT (API_METRICS_MAX),
 * VE_ERR_NOMEM. */
int api_metrics_counter(api_metrics_t *m, const char *name, const char *labels,
                        const char *help, api_metric_t **out);
int api_metrics_gauge(api_metrics_t *m, const char *name, const char *labels,
                      const char *help, api_metric_t **out);
/* A histogram with n_bounds strictly increasing finite upper bounds (the +Inf
 * bucket is implicit). A re-registration must give the same bounds. */
int api_metrics_histogram(api_metrics_t *m, const char *name, const char *labels,
                          const char *help, const double *bounds, size_t n_bounds,
                          api_metric_t **out);

/* Counter: adds n. Gauge: adds n. Histogram: not allowed (assert). */
void api_metric_add(api_metric_t *c, uint64_t n);
static inline void api_metric_inc(api_metric_t *c) { api_metric_add(c, 1); }
/* Gauge only: sets / moves the value. */
void api_metric_set(api_metric_t *g, double v);
void api_metric_sub(api_metric_t *g, uint64_t n);
/* Histogram only: records one observation (NaN is ignored). */
void api_metric_observe(api_metric_t *h, double v);
/* Current value of a counter or gauge; the observation count of a histogram. */
double api_metric_value(const api_metric_t *metric);

/* Appends the whole registry in Prometheus text format to out (bounded by
 * out->cap_max). Returns 0, VE_ERR_TOO_BIG or VE_ERR_NOMEM (out may then hold
 * a partial rendering). */
int api_metrics_render(const api_metrics_t *m, ve_buf_t *out);

/* Metrics the server keeps itself (in cfg->metrics, or its own registry):
 *   veche_http_requests_total{class="2xx"}   counter per status class 1xx..5xx
 *   veche_http_request_duration_seconds      histogram, first byte to response
 *   veche_http_requests_in_flight            gauge
 *   veche_http_body_rejected_total           counter: 413s and dropped uploads */
#define API_METRIC_REQUESTS "veche_http_requests_total"
#define API_METRIC_DURATION "veche_http_request_duration_seconds"
#define API_METRIC_IN_FLIGHT "veche_http_requests_in_flight"
#define API_METRIC_BODY_REJECTED "veche_http_body_rejected_total"

/* ---------------------------------------------------------------- requests */

typedef struct api_request api_request_t;
typedef struct api_response api_response_t;

/* Method as sent ("GET", "POST", ...); HEAD requests report "HEAD" but are
 * routed to GET routes. */
const char *api_request_method(const api_request_t *req);
/* Path as sent (still percent-encoded), without the query string, e.g.
 * "/v1/blocks/12". Use api_request_param for decoded segments. */
const char *api_request_path(const api_request_t *req);
/* Value of a :name path segment, or NULL if the pattern has no such name. */
const char *api_request_param(const api_request_t *req, const char *name);
/* Decoded query value (?name=value), NULL if absent; "" for "?name". */
const char *api_request_query(const api_request_t *req, const char *name);
/* Request header (case-insensitive name), NULL if absent. */
const char *api_request_header(const api_request_t *req, const char *name);
/* Raw body (len 0 when there is none); at most the route's body limit. */
ve_slice_t api_request_body(const api_request_t *req);
/* Parsed JSON body (object or array), or NULL if the request had no JSON body.
 * Borrowed: valid during the handler call; do not decref (json_incref it to
 * keep it longer). Not const only because jansson's json_unpack and object
 * iterators take non-const pointers; it belongs to this request alone. */
json_t *api_request_json(const api_request_t *req);
/* The server's metrics registry (for the metrics route). */
api_metrics_t *api_request_metrics(const api_request_t *req);

/* Strict unsigned decimal parsing of a path param / query value: digits only,
 * no sign, no leading zeros (except "0"), no overflow, value <= max.
 * api_request_query_u64 stores dflt when the query value is absent.
 * Returns 0, VE_ERR_NOT_FOUND (param absent), VE_ERR_MALFORMED (not a plain
 * decimal) or VE_ERR_INVALID (over max or 2^64-1); returned from a handler,
 * each becomes a 400 (404 for NOT_FOUND). */
int api_request_param_u64(const api_request_t *req, const char *name, uint64_t max,
                          uint64_t *out);
int api_request_query_u64(const api_request_t *req, const char *name, uint64_t dflt,
                          uint64_t max, uint64_t *out);

/* ---------------------------------------------------------------- responses */

/* Sets a JSON response; the reference to body is stolen (also on failure).
 * body NULL (e.g. a failed json_pack) gives a 500 internal_error. status must
 * be 100..599, else 500. A later call replaces an earlier one. */
void api_respond_json(api_response_t *resp, int status, json_t *body);
/* Sets a text response; text is copied. content_type e.g.
 * "text/plain; version=0.0.4; charset=utf-8". Returns 0 or VE_ERR_NOMEM (the
 * response is then a 500). */
int api_respond_text(api_response_t *resp, int status, const char *content_type,
                     const void *text, size_t len);
/* Sets a JSON error response {"error": code, "message": fmt...}.
 * code is a snake_case name (VE_ERR names are preferred); the message is
 * truncated to API_ERROR_MESSAGE_BYTES_MAX and non-printable bytes become '?'. */
void api_error(api_response_t *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void api_error_v(api_response_t *resp, int status, const char *code, const char *fmt,
                 va_list ap);
/* api_error with code ve_err_name(ve_err) and status api_status_from_err(ve_err).
 * fmt NULL uses ve_strerror(ve_err). */
void api_error_ve(api_response_t *resp, int ve_err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* HTTP status for a VE_ERR_* code (table in docs/api.md). Unknown -> 500. */
int api_status_from_err(int ve_err);
/* Status currently set on the response (0 if none yet). */
int api_response_status(const api_response_t *resp);
/* Sends "Retry-After: seconds" with the response (clamped to
 * 1..API_RETRY_AFTER_S_MAX). Call it after the api_respond_* / api_error* call
 * that set the response, which resets it. Without it a 503 gets
 * "Retry-After: 1" and other statuses none. */
void api_response_retry_after(api_response_t *resp, unsigned seconds);

/* ---------------------------------------------------------------- routes */

/* A handler fills resp and returns 0, or returns a negative VE_ERR_* code.
 * After it returns:
 *   0 with a response set      -> that response is sent;
 *   0 with no response set     -> 500 {"error":"internal_error"} (a bug);
 *   < 0 and resp is an error   -> the handler's error response is sent;
 *   < 0 otherwise              -> api_error_ve(resp, rc, NULL) is sent.
 * Called from several threads at once: must be thread-safe. */
typedef int (*api_handler_fn)(void *ctx, const api_request_t *req, api_response_t *resp);

/* Route flags. */
#define API_ROUTE_JSON 1u /* body must be Content-Type application/json (415
                           * otherwise) and a JSON object or array (400). */

/* One route. pattern is an absolute path whose segments are literals or
 * ":name" (matches one non-empty segment). Literal routes win over params at
 * the same position; first match in table order otherwise.
 * body_bytes_max: 0 means API_BODY_BYTES_MAX for POST/PUT/PATCH and "no body"
 * for other methods; a non-zero value must be <= API_BODY_BYTES_MAX. */
typedef struct {
  const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
  const char *pattern; /* e.g. "/v1/blocks/:height" */
  api_handler_fn fn;
  unsigned flags;      /* API_ROUTE_* */
  size_t body_bytes_max;
} api_route_t;

/* Built-in handler rendering the server's metrics registry as text/plain in
 * Prometheus format. Register it where the node wants it, e.g. API_ROUTE_METRICS. */
int api_metrics_handler(void *ctx, const api_request_t *req, api_response_t *resp);
#define API_ROUTE_METRICS {"GET", "/metrics", api_metrics_handler, 0, 0}

/* ---------------------------------------------------------------- server */

/* Zero means "default" for every field. */
typedef struct {
  const char *bind_addr;         /* numeric IPv4 or IPv6; NULL -> "127.0.0.1" */
  uint16_t port;                 /* 0 -> any free port (see api_server_port) */
  unsigned threads;              /* handler threads; 0 -> API_THREADS_DEFAULT */
  unsigned connections_max;      /* 0 -> API_CONNECTIONS_DEFAULT */
  unsigned connections_per_ip_max; /* 0 -> no per-IP limit */
  unsigned connection_timeout_s; /* idle timeout; 0 -> API_CONNECTION_TIMEOUT_S_DEFAULT */
  size_t body_inflight_bytes_max; /* 0 -> API_BODY_INFLIGHT_BYTES_DEFAULT */
  api_metrics_t *metrics;        /* borrowed; NULL -> the server makes its own */
} api_config_t;

typedef struct api_server api_server_t;

/* Validates the route table and starts listening.
 * In: cfg (NULL = all defaults), routes[n_routes] (borrowed until stop),
 *     ctx (passed to every handler).
 * Out: *out, the running server.
 * Returns 0, VE_ERR_CONFIG (bad address, limits or route table: duplicate
 * method+pattern, bad pattern, too many params), VE_ERR_IO (cannot bind),
 * VE_ERR_NOMEM. */
int api_server_start(const api_config_t *cfg, const api_route_t *routes, size_t n_routes,
                     void *ctx, api_server_t **out);
/* Stops accepting, waits for running handlers, closes every connection and
 * frees the server. NULL is allowed. */
void api_server_stop(api_server_t *s);
/* The port actually bound (useful with port 0). */
uint16_t api_server_port(const api_server_t *s);
/* The metrics registry the server records into (its own or cfg->metrics). */
api_metrics_t *api_server_metrics(const api_server_t *s);

/* ---------------------------------------------------------------- JSON helpers */

/* Non-recursive scan of raw JSON text: returns 0 if arrays/objects never nest
 * deeper than depth_max (brackets inside strings, escapes included, are not
 * counted), VE_ERR_DEPTH otherwise. Does not validate the JSON. */
int api_json_depth_check(const void *text, size_t len, size_t depth_max);
/* Parses a request body: depth check, then jansson with duplicate keys
 * rejected; the top level must be an object or array.
 * Out: *out (new reference) or, on failure, err_msg filled with "line:col: text".
 * Returns 0, VE_ERR_DEPTH, VE_ERR_TOO_BIG or VE_ERR_MALFORMED. */
int api_json_parse(const void *text, size_t len, json_t **out, char *err_msg,
                   size_t err_msg_len);

#endif
