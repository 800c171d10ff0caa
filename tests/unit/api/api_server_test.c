/* api_server_test.c — the HTTP server driven by the module's own client and by
 * raw sockets: routing, limits, JSON errors, handler result mapping,
 * concurrency, metrics, and hostile input (garbage, huge headers, slowloris).
 *
 * One server (127.0.0.1, port 0, 2 threads, 1 s connection timeout) is shared
 * by all tests of the group; the last test stops it and checks that every
 * request the server saw was also finished (in-flight gauge back to 0).
 * Random garbage uses a seed printed at start; pass one as argv[1] to replay.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "api/http_client.h"
#include "base/err.h"
#include "base/log.h"
#include "raw_socket.h"

#define TIMEOUT_MS 5000
#define CONN_TIMEOUT_S 1

static api_server_t *g_srv;
static api_metrics_t *g_metrics;
static uint16_t g_port;
static uint64_t g_seed;

/* ================================================================ handlers */

static int h_block(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint64_t h;
  VE_TRY(api_request_param_u64(req, "height", 1000000, &h));
  api_respond_json(resp, 200, json_pack("{s:I}", "height", (json_int_t)h));
  return 0;
}

static int h_latest(void *ctx, const api_request_t *req, api_response_t *resp) {
  api_respond_json(resp, 200, json_pack("{s:b}", "latest", 1));
  return 0;
}

static int h_pair(void *ctx, const api_request_t *req, api_response_t *resp) {
  api_respond_json(resp, 200, json_pack("{s:s,s:s}", "a", api_request_param(req, "a"), "b",
                                        api_request_param(req, "b")));
  return 0;
}

static int h_echo(void *ctx, const api_request_t *req, api_response_t *resp) {
  json_t *j = api_request_json(req);
  if (!j) return VE_ERR_INVALID;
  api_respond_json(resp, 200, json_pack("{s:O,s:s}", "echo", j, "method",
                                        api_request_method(req)));
  return 0;
}

static int h_raw(void *ctx, const api_request_t *req, api_response_t *resp) {
  ve_slice_t b = api_request_body(req);
  api_respond_json(resp, 200, json_pack("{s:I,s:b}", "len", (json_int_t)b.len, "json",
                                        api_request_json(req) != NULL));
  return 0;
}

static int h_query(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint64_t limit;
  VE_TRY(api_request_query_u64(req, "limit", 10, 1000, &limit));
  const char *a = api_request_query(req, "a");
  const char *flag = api_request_query(req, "flag");
  api_respond_json(resp, 200, json_pack("{s:I,s:s?,s:s?,s:s?}", "limit", (json_int_t)limit, "a",
                                        a, "flag", flag, "path", api_request_path(req)));
  return 0;
}

static int h_fail(void *ctx, const api_request_t *req, api_response_t *resp) {
  return VE_ERR_DUPLICATE;
}

static int h_noresp(void *ctx, const api_request_t *req, api_response_t *resp) { return 0; }

static int h_custom(void *ctx, const api_request_t *req, api_response_t *resp) {
  api_error(resp, 418, "teapot", "short and %s", "stout");
  return VE_ERR_INVALID;
}

static int h_ok_then_err(void *ctx, const api_request_t *req, api_response_t *resp) {
  api_respond_json(resp, 200, json_object());
  return VE_ERR_NOT_FOUND;
}

static int h_positive(void *ctx, const api_request_t *req, api_response_t *resp) {
  api_respond_json(resp, 200, json_object());
  return 7;
}

static int h_nullbody(void *ctx, const api_request_t *req, api_response_t *resp) {
  api_respond_json(resp, 200, NULL);
  return 0;
}

static int h_text(void *ctx, const api_request_t *req, api_response_t *resp) {
  return api_respond_text(resp, 200, "text/plain; charset=utf-8", "hello\n", 6);
}

/* Blocks until a second request is inside the same handler (or 2 s pass):
 * proves two handlers run at once on different pool threads. */
static atomic_int g_entered;
static int h_rendezvous(void *ctx, const api_request_t *req, api_response_t *resp) {
  atomic_fetch_add(&g_entered, 1);
  int64_t deadline = raw_now_ms() + 2000;
  while (atomic_load(&g_entered) < 2 && raw_now_ms() < deadline) raw_sleep_ms(2);
  api_respond_json(resp, 200, json_pack("{s:b}", "saw_peer", atomic_load(&g_entered) >= 2));
  return 0;
}

static const api_route_t g_routes[] = {
    {"GET", "/v1/blocks/:height", h_block, 0, 0},
    {"GET", "/v1/blocks/latest", h_latest, 0, 0},
    {"GET", "/v1/pair/:a/x/:b", h_pair, 0, 0},
    {"POST", "/v1/echo", h_echo, API_ROUTE_JSON, 1024 * 1024},
    {"PUT", "/v1/echo", h_echo, API_ROUTE_JSON, 1024 * 1024},
    {"POST", "/v1/raw", h_raw, 0, 1024},
    {"POST", "/v1/big", h_raw, 0, 0}, /* API_BODY_BYTES_MAX */
    {"GET", "/v1/query", h_query, 0, 0},
    {"GET", "/v1/fail", h_fail, 0, 0},
    {"GET", "/v1/noresp", h_noresp, 0, 0},
    {"GET", "/v1/custom", h_custom, 0, 0},
    {"GET", "/v1/okerr", h_ok_then_err, 0, 0},
    {"GET", "/v1/positive", h_positive, 0, 0},
    {"GET", "/v1/nullbody", h_nullbody, 0, 0},
    {"GET", "/v1/text", h_text, 0, 0},
    {"GET", "/v1/rendezvous", h_rendezvous, 0, 0},
    API_ROUTE_METRICS,
};

/* ================================================================ helpers */

typedef struct {
  int status;
  json_t *json; /* NULL if the body is not JSON */
  char ctype[128];
  size_t body_len;
} reply_t;

static reply_t call(const char *method, const char *path, const char *ct, const void *body,
                    size_t len) {
  reply_t r = {0};
  http_response_t resp;
  int rc = http_request("127.0.0.1", g_port, method, path, ct, body, len, TIMEOUT_MS, &resp);
  if (rc != 0) fail_msg("%s %s: client error %s", method, path, ve_err_name(rc));
  r.status = resp.status;
  snprintf(r.ctype, sizeof r.ctype, "%s", resp.content_type);
  r.body_len = resp.body.len;
  if (resp.body.len) r.json = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
  http_response_free(&resp);
  return r;
}

static reply_t get(const char *path) { return call("GET", path, NULL, NULL, 0); }
static reply_t post_json(const char *path, const char *text) {
  return call("POST", path, "application/json", text, strlen(text));
}

static const char *jstr(const reply_t *r, const char *key) {
  return r->json ? json_string_value(json_object_get(r->json, key)) : NULL;
}
static json_int_t jint(const reply_t *r, const char *key) {
  return r->json ? json_integer_value(json_object_get(r->json, key)) : -1;
}

/* Asserts a JSON error reply with this status and code (and a message). */
static void expect_error(reply_t r, int status, const char *code) {
  assert_int_equal(r.status, status);
  assert_non_null(r.json);
  assert_string_equal(jstr(&r, "error"), code);
  assert_non_null(jstr(&r, "message"));
  assert_string_equal(r.ctype, "application/json");
  json_decref(r.json);
}

/* The server still answers a normal request. */
static void expect_alive(void) {
  reply_t r = get("/v1/blocks/7");
  assert_int_equal(r.status, 200);
  assert_int_equal(jint(&r, "height"), 7);
  json_decref(r.json);
}

/* ================================================================ setup */

static int group_setup(void **state) {
  ve_log_set_level(VE_LOG_ERROR);
  if (api_metrics_new(&g_metrics) != 0) return -1;
  api_config_t cfg = {.port = 0, .threads = 2, .connection_timeout_s = CONN_TIMEOUT_S,
                      .metrics = g_metrics};
  int rc = api_server_start(&cfg, g_routes, sizeof g_routes / sizeof g_routes[0], NULL, &g_srv);
  if (rc != 0) return -1;
  g_port = api_server_port(g_srv);
  return g_port ? 0 : -1;
}

static int group_teardown(void **state) {
  api_server_stop(g_srv);
  api_metrics_free(g_metrics);
  return 0;
}

/* ================================================================ routing */

static void test_routing_params(void **state) {
  reply_t r = get("/v1/blocks/12");
  assert_int_equal(r.status, 200);
  assert_int_equal(jint(&r, "height"), 12);
  json_decref(r.json);

  r = get("/v1/blocks/latest"); /* literal wins over :height */
  assert_int_equal(r.status, 200);
  assert_true(json_is_true(json_object_get(r.json, "latest")));
  json_decref(r.json);

  r = get("/v1/blocks/%31%33"); /* percent-decoded params */
  assert_int_equal(jint(&r, "height"), 13);
  json_decref(r.json);

  r = get("/v1/pair/one%2Ftwo/x/three");
  assert_int_equal(r.status, 200);
  assert_string_equal(jstr(&r, "a"), "one/two");
  assert_string_equal(jstr(&r, "b"), "three");
  json_decref(r.json);

  expect_error(get("/v1/blocks/abc"), 400, "malformed");
  expect_error(get("/v1/blocks/007"), 400, "malformed");
  expect_error(get("/v1/blocks/99999999999999999999999"), 400, "invalid_argument");
  expect_error(get("/v1/blocks/%zz"), 400, "bad_request");
  expect_error(get("/v1/blocks/a%00b"), 400, "bad_request");
}

static void test_not_found_and_method(void **state) {
  expect_error(get("/nope"), 404, "not_found");
  expect_error(get("/"), 404, "not_found");
  expect_error(get("/v1/blocks/"), 404, "not_found");
  expect_error(get("/v1//blocks"), 404, "not_found");
  expect_error(get("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s"), 404, "not_found");
  expect_error(call("POST", "/v1/blocks/5", "application/json", "{}", 2), 405,
               "method_not_allowed");
  expect_error(call("DELETE", "/v1/echo", NULL, NULL, 0), 405, "method_not_allowed");

  /* HEAD is served by GET routes, without a body. */
  reply_t r = call("HEAD", "/v1/blocks/3", NULL, NULL, 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body_len, 0);
}

static void test_query(void **state) {
  reply_t r = get("/v1/query?a=hello%20world&limit=5&flag");
  assert_int_equal(r.status, 200);
  assert_int_equal(jint(&r, "limit"), 5);
  assert_string_equal(jstr(&r, "a"), "hello world");
  assert_string_equal(jstr(&r, "flag"), "");
  assert_string_equal(jstr(&r, "path"), "/v1/query");
  json_decref(r.json);

  r = get("/v1/query");
  assert_int_equal(jint(&r, "limit"), 10); /* default */
  assert_true(json_is_null(json_object_get(r.json, "a")));
  json_decref(r.json);

  expect_error(get("/v1/query?limit=abc"), 400, "malformed");
  expect_error(get("/v1/query?limit=1001"), 400, "invalid_argument");
  expect_error(get("/v1/query?a=x%00y"), 400, "bad_request");
}

/* ================================================================ JSON */

static void test_json_echo(void **state) {
  reply_t r = post_json("/v1/echo", "{\"a\":[1,2,{\"b\":\"c\"}],\"s\":\"\\u00e9\"}");
  assert_int_equal(r.status, 200);
  json_t *echo = json_object_get(r.json, "echo");
  assert_int_equal(json_integer_value(json_array_get(json_object_get(echo, "a"), 1)), 2);
  assert_string_equal(json_string_value(json_object_get(echo, "s")), "\xc3\xa9");
  assert_string_equal(jstr(&r, "method"), "POST");
  json_decref(r.json);

  r = call("PUT", "/v1/echo", "application/json; charset=utf-8", "[1]", 3);
  assert_int_equal(r.status, 200);
  assert_string_equal(jstr(&r, "method"), "PUT");
  json_decref(r.json);

  /* Brackets inside strings don't count towards the depth. */
  char text[512];
  snprintf(text, sizeof text, "{\"s\":\"%0200d\\\"[[[\"}", 0);
  memset(text + 6, '[', 200);
  r = post_json("/v1/echo", text);
  assert_int_equal(r.status, 200);
  json_decref(r.json);
}

static void test_json_errors(void **state) {
  reply_t r = post_json("/v1/echo", "{\"a\":");
  assert_int_equal(r.status, 400);
  assert_string_equal(jstr(&r, "error"), "malformed_json");
  assert_true(strncmp(jstr(&r, "message"), "1:", 2) == 0); /* "line:col: text" */
  json_decref(r.json);

  expect_error(post_json("/v1/echo", "{\"a\":1,\n\"a\":2}"), 400, "malformed_json");
  expect_error(post_json("/v1/echo", "42"), 400, "malformed_json");
  expect_error(post_json("/v1/echo", "{} trailing"), 400, "malformed_json");
  expect_error(post_json("/v1/echo", "{\"bad\":\"\xff\xfe\"}"), 400, "malformed_json");
  expect_error(call("POST", "/v1/echo", "application/json", NULL, 0), 400, "malformed_json");

  /* 100000 '[' : refused by the flat depth scan before jansson recurses. */
  size_t n = 100000;
  char *deep = malloc(n);
  assert_non_null(deep);
  memset(deep, '[', n);
  expect_error(call("POST", "/v1/echo", "application/json", deep, n), 400, "too_deep");
  /* Exactly API_JSON_DEPTH_MAX levels are fine, one more is not. */
  for (size_t depth = API_JSON_DEPTH_MAX; depth <= API_JSON_DEPTH_MAX + 1; depth++) {
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    r = call("POST", "/v1/echo", "application/json", deep, 2 * depth);
    assert_int_equal(r.status, depth == API_JSON_DEPTH_MAX ? 200 : 400);
    json_decref(r.json);
  }
  free(deep);

  /* JSON routes want a JSON content type. */
  expect_error(call("POST", "/v1/echo", "text/plain", "{}", 2), 415, "unsupported_media_type");
  expect_error(call("POST", "/v1/echo", NULL, "{}", 2), 415, "unsupported_media_type");
  expect_error(call("POST", "/v1/echo", "application/jsonx", "{}", 2), 415,
               "unsupported_media_type");

  /* Non-JSON routes parse a body that says it is JSON, and take others raw. */
  r = call("POST", "/v1/raw", "application/octet-stream", "{not json", 9);
  assert_int_equal(r.status, 200);
  assert_int_equal(jint(&r, "len"), 9);
  assert_true(json_is_false(json_object_get(r.json, "json")));
  json_decref(r.json);
  r = post_json("/v1/raw", "[true]");
  assert_true(json_is_true(json_object_get(r.json, "json")));
  json_decref(r.json);
  expect_error(post_json("/v1/raw", "{not json"), 400, "malformed_json");
}

static void test_client_json(void **state) {
  json_t *body = json_pack("{s:[i,i],s:s}", "list", 1, 2, "name", "veche");
  int status;
  json_t *out;
  assert_int_equal(http_request_json("127.0.0.1", g_port, "POST", "/v1/echo", body, TIMEOUT_MS,
                                     &status, &out), 0);
  assert_int_equal(status, 200);
  assert_true(json_equal(json_object_get(out, "echo"), body));
  json_decref(out);
  json_decref(body);

  assert_int_equal(http_request_json("127.0.0.1", g_port, "GET", "/missing", NULL, TIMEOUT_MS,
                                     &status, &out), 0);
  assert_int_equal(status, 404);
  assert_string_equal(json_string_value(json_object_get(out, "error")), "not_found");
  json_decref(out);

  /* A text body is not JSON: the status is still reported. */
  assert_int_equal(http_request_json("127.0.0.1", g_port, "GET", "/v1/text", NULL, TIMEOUT_MS,
                                     &status, &out), VE_ERR_MALFORMED);
  assert_int_equal(status, 200);
  assert_null(out);
}

/* ================================================================ handler results */

static void test_handler_results(void **state) {
  expect_error(get("/v1/fail"), 409, "duplicate");
  expect_error(get("/v1/noresp"), 500, "internal_error");
  expect_error(get("/v1/okerr"), 404, "not_found");
  expect_error(get("/v1/positive"), 500, "internal_error");
  expect_error(get("/v1/nullbody"), 500, "internal_error");

  reply_t r = get("/v1/custom");
  assert_int_equal(r.status, 418);
  assert_string_equal(jstr(&r, "error"), "teapot");
  assert_string_equal(jstr(&r, "message"), "short and stout");
  json_decref(r.json);

  http_response_t t;
  assert_int_equal(http_request("127.0.0.1", g_port, "GET", "/v1/text", NULL, NULL, 0,
                                TIMEOUT_MS, &t), 0);
  assert_int_equal(t.status, 200);
  assert_string_equal(t.content_type, "text/plain; charset=utf-8");
  assert_int_equal(t.body.len, 6);
  assert_memory_equal(t.body.ptr, "hello\n", 6);
  http_response_free(&t);
}

static void test_status_mapping(void **state) {
  assert_int_equal(api_status_from_err(VE_ERR_MALFORMED), 400);
  assert_int_equal(api_status_from_err(VE_ERR_INVALID), 400);
  assert_int_equal(api_status_from_err(VE_ERR_BAD_SIG), 401);
  assert_int_equal(api_status_from_err(VE_ERR_PERMISSION), 403);
  assert_int_equal(api_status_from_err(VE_ERR_NOT_FOUND), 404);
  assert_int_equal(api_status_from_err(VE_ERR_DUPLICATE), 409);
  assert_int_equal(api_status_from_err(VE_ERR_STALE_SEQ), 409);
  assert_int_equal(api_status_from_err(VE_ERR_EXISTS), 409);
  assert_int_equal(api_status_from_err(VE_ERR_TOO_BIG), 413);
  assert_int_equal(api_status_from_err(VE_ERR_PRUNED), 410);
  assert_int_equal(api_status_from_err(VE_ERR_FULL), 503);
  assert_int_equal(api_status_from_err(VE_ERR_STORE), 500);
  assert_int_equal(api_status_from_err(VE_ERR_IO), 500);
  assert_int_equal(api_status_from_err(-1000), 500);
  /* Every code maps into 400..599. */
  for (int e = VE_ERR_MIN; e < 0; e++) {
    int s = api_status_from_err(e);
    assert_true(s >= 400 && s <= 599);
  }
}

/* ================================================================ limits */

static void test_body_limits(void **state) {
  /* Per-route limit: 1 KiB on /v1/raw. */
  char small[2048];
  memset(small, 'x', sizeof small);
  reply_t r = call("POST", "/v1/raw", "application/octet-stream", small, 1024);
  assert_int_equal(r.status, 200);
  assert_int_equal(jint(&r, "len"), 1024);
  json_decref(r.json);
  expect_error(call("POST", "/v1/raw", "application/octet-stream", small, 1025), 413, "too_big");
  expect_alive();

  /* A body on a route that takes none. */
  expect_error(call("GET", "/v1/blocks/1", "text/plain", small, 10), 413, "too_big");

  /* Global limit: API_BODY_BYTES_MAX + 1 on the default route. */
  size_t n = API_BODY_BYTES_MAX + 1;
  char *big = malloc(n);
  assert_non_null(big);
  memset(big, 'y', n);
  expect_error(call("POST", "/v1/big", "application/octet-stream", big, n), 413, "too_big");
  expect_alive();
  r = call("POST", "/v1/big", "application/octet-stream", big, 100000);
  assert_int_equal(jint(&r, "len"), 100000);
  json_decref(r.json);
  free(big);

  /* A claimed Content-Length is refused before any body byte is sent. */
  int fd = raw_connect(g_port);
  assert_true(fd >= 0);
  const char *head = "POST /v1/big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n";
  assert_int_equal(raw_send(fd, head, strlen(head), 1000), strlen(head));
  char buf[4096];
  bool closed;
  raw_recv_all(fd, buf, sizeof buf, 3000, &closed);
  assert_non_null(strstr(buf, "HTTP/1.1 413"));
  assert_non_null(strstr(buf, "\"too_big\""));
  assert_true(closed); /* the server does not wait for the body */
  close(fd);

  /* A chunked upload past the limit: the connection is dropped. */
  fd = raw_connect(g_port);
  assert_true(fd >= 0);
  head = "POST /v1/raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  raw_send(fd, head, strlen(head), 1000);
  char chunk[600];
  snprintf(chunk, sizeof chunk, "200\r\n");
  size_t hl = strlen(chunk);
  memset(chunk + hl, 'z', 0x200);
  memcpy(chunk + hl + 0x200, "\r\n", 2);
  for (int i = 0; i < 4; i++) raw_send(fd, chunk, hl + 0x200 + 2, 1000);
  raw_recv_all(fd, buf, sizeof buf, 3000, &closed);
  assert_true(closed);
  assert_null(strstr(buf, "HTTP/1.1 200"));
  close(fd);

  /* A chunked upload within the limit is fine. */
  fd = raw_connect(g_port);
  assert_true(fd >= 0);
  const char *ok = "POST /v1/raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  raw_send(fd, ok, strlen(ok), 1000);
  raw_recv_all(fd, buf, sizeof buf, 3000, &closed);
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
  assert_non_null(strstr(buf, "\"len\":5"));
  close(fd);
  expect_alive();
}

static void test_uri_and_headers_limits(void **state) {
  char path[API_URL_BYTES_MAX + 100];
  memcpy(path, "/v1/blocks/", 11);
  memset(path + 11, '1', sizeof path - 12);
  path[sizeof path - 1] = 0;
  expect_error(get(path), 414, "uri_too_long");

  /* Too many headers (but few bytes). */
  int fd = raw_connect(g_port);
  assert_true(fd >= 0);
  char req[8192];
  size_t n = (size_t)snprintf(req, sizeof req, "GET /v1/blocks/1 HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < API_HEADERS_MAX + 5; i++)
    n += (size_t)snprintf(req + n, sizeof req - n, "X-H%d: v\r\n", i);
  n += (size_t)snprintf(req + n, sizeof req - n, "Connection: close\r\n\r\n");
  raw_send(fd, req, n, 1000);
  char buf[4096];
  bool closed;
  raw_recv_all(fd, buf, sizeof buf, 3000, &closed);
  assert_non_null(strstr(buf, "HTTP/1.1 431"));
  assert_non_null(strstr(buf, "too_many_headers"));
  close(fd);
  expect_alive();
}

/* ================================================================ hostile clients */

static void test_garbage(void **state) {
  srand((unsigned)g_seed);
  char buf[4096];
  bool closed;
  for (int round = 0; round < 8; round++) {
    int fd = raw_connect(g_port);
    assert_true(fd >= 0);
    char junk[512];
    size_t n = 64 + (size_t)(rand() % 400);
    for (size_t i = 0; i < n; i++) junk[i] = (char)(rand() & 0xff);
    if (round % 2) memcpy(junk + n - 4, "\r\n\r\n", 4);
    raw_send(fd, junk, n, 1000);
    /* Either an error response and close, or a close on timeout. */
    raw_recv_all(fd, buf, sizeof buf, (CONN_TIMEOUT_S + 3) * 1000, &closed);
    assert_true(closed);
    assert_null(strstr(buf, "HTTP/1.1 200"));
    close(fd);
  }
  /* Non-HTTP text, a bad version, a NUL in the request line. */
  const char *lines[] = {"hello there\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                         "GET /v1/blocks/1 HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                         /* two Content-Length headers (one string, split for width) */
                         ("GET /v1/blocks/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                          "Content-Length: 2\r\n\r\n")};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    int fd = raw_connect(g_port);
    assert_true(fd >= 0);
    raw_send(fd, lines[i], strlen(lines[i]), 1000);
    raw_recv_all(fd, buf, sizeof buf, (CONN_TIMEOUT_S + 3) * 1000, &closed);
    assert_true(closed);
    assert_null(strstr(buf, "HTTP/1.1 200"));
    close(fd);
  }
  int fd = raw_connect(g_port);
  assert_true(fd >= 0);
  raw_send(fd, "GET /v1/blocks/1\0 HTTP/1.1\r\n\r\n", 31, 1000);
  raw_recv_all(fd, buf, sizeof buf, (CONN_TIMEOUT_S + 3) * 1000, &closed);
  assert_true(closed);
  close(fd);
  expect_alive();
}

static void test_huge_header(void **state) {
  int fd = raw_connect(g_port);
  assert_true(fd >= 0);
  size_t n = 200 * 1024;
  char *req = malloc(n + 128);
  assert_non_null(req);
  size_t k = (size_t)sprintf(req, "GET /v1/blocks/1 HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(req + k, 'a', n);
  memcpy(req + k + n, "\r\n\r\n", 4);
  raw_send(fd, req, k + n + 4, 2000); /* the server may stop reading: bounded */
  free(req);
  char buf[4096];
  bool closed;
  raw_recv_all(fd, buf, sizeof buf, (CONN_TIMEOUT_S + 3) * 1000, &closed);
  assert_true(closed);
  assert_null(strstr(buf, "HTTP/1.1 200"));
  close(fd);
  expect_alive();
}

static void test_slowloris(void **state) {
  /* Two partial requests that never finish... */
  int fds[2];
  for (int i = 0; i < 2; i++) {
    fds[i] = raw_connect(g_port);
    assert_true(fds[i] >= 0);
    const char *part = i == 0 ? "GET /v1/blocks/1 HTTP/1.1\r\nHost: x\r\nX-Slow: "
                              : "POST /v1/raw HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab";
    raw_send(fds[i], part, strlen(part), 1000);
  }
  /* ...don't stop others from being served... */
  int64_t t0 = raw_now_ms();
  expect_alive();
  expect_alive();
  /* ...and are closed after the idle timeout. */
  for (int i = 0; i < 2; i++) {
    char buf[1024];
    bool closed;
    raw_recv_all(fds[i], buf, sizeof buf, (CONN_TIMEOUT_S + 4) * 1000, &closed);
    assert_true(closed);
    close(fds[i]);
  }
  int64_t took = raw_now_ms() - t0;
  assert_true(took >= CONN_TIMEOUT_S * 1000 - 200);
  assert_true(took < (CONN_TIMEOUT_S + 4) * 1000);
  expect_alive();
}

/* ================================================================ concurrency */

typedef struct {
  const char *path;
  int iterations;
  int ok;
} worker_t;

static void *worker_main(void *arg) {
  worker_t *w = arg;
  for (int i = 0; i < w->iterations; i++) {
    char path[64];
    snprintf(path, sizeof path, "%s%d", w->path, i);
    http_response_t r;
    if (http_request("127.0.0.1", g_port, "GET", path, NULL, NULL, 0, TIMEOUT_MS, &r) != 0)
      continue;
    json_t *j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    if (r.status == 200 && json_integer_value(json_object_get(j, "height")) == i) w->ok++;
    json_decref(j);
    http_response_free(&r);
  }
  return NULL;
}

static void *rendezvous_main(void *arg) {
  reply_t *out = arg;
  *out = get("/v1/rendezvous");
  return NULL;
}

static void test_concurrent(void **state) {
  /* Two handlers inside at once: the second request arrives while the first
   * handler blocks, so it must be served by the other pool thread. */
  atomic_store(&g_entered, 0);
  reply_t r1, r2;
  pthread_t t1, t2;
  assert_int_equal(pthread_create(&t1, NULL, rendezvous_main, &r1), 0);
  int64_t deadline = raw_now_ms() + 3000;
  while (atomic_load(&g_entered) < 1 && raw_now_ms() < deadline) raw_sleep_ms(2);
  assert_int_equal(pthread_create(&t2, NULL, rendezvous_main, &r2), 0);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  assert_int_equal(r1.status, 200);
  assert_int_equal(r2.status, 200);
  assert_true(json_is_true(json_object_get(r1.json, "saw_peer")));
  assert_true(json_is_true(json_object_get(r2.json, "saw_peer")));
  json_decref(r1.json);
  json_decref(r2.json);

  /* Many clients at once, every answer right. */
  enum { N = 4, ITER = 25 };
  worker_t w[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker_t){.path = "/v1/blocks/", .iterations = ITER};
    assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].ok, ITER);
  }
}

static void test_keep_alive(void **state) {
  http_conn_t *c;
  assert_int_equal(http_conn_open("127.0.0.1", g_port, TIMEOUT_MS, &c), 0);
  for (int i = 0; i < 20; i++) {
    http_response_t r;
    char path[64];
    snprintf(path, sizeof path, "/v1/blocks/%d", i);
    if (i % 2) {
      assert_int_equal(http_conn_request(c, "POST", "/v1/echo", "application/json", "[1]", 3,
                                         TIMEOUT_MS, &r), 0);
    } else {
      assert_int_equal(http_conn_request(c, "GET", path, NULL, NULL, 0, TIMEOUT_MS, &r), 0);
    }
    assert_int_equal(r.status, 200);
    http_response_free(&r);
  }
  /* An error response keeps the connection usable too. */
  http_response_t r;
  assert_int_equal(http_conn_request(c, "GET", "/nope", NULL, NULL, 0, TIMEOUT_MS, &r), 0);
  assert_int_equal(r.status, 404);
  http_response_free(&r);
  assert_int_equal(http_conn_request(c, "GET", "/v1/blocks/1", NULL, NULL, 0, TIMEOUT_MS, &r), 0);
  assert_int_equal(r.status, 200);
  http_response_free(&r);
  http_conn_close(c);
}

/* ================================================================ metrics */

/* Value of the sample line that starts with prefix ("name{labels} "). */
static double sample(const char *text, const char *prefix) {
  const char *p = text;
  size_t len = strlen(prefix);
  while (p && *p) {
    if (strncmp(p, prefix, len) == 0) return strtod(p + len, NULL);
    p = strchr(p, '\n');
    if (p) p++;
  }
  return -1;
}

static void test_metrics_route(void **state) {
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", g_port, "GET", "/metrics", NULL, NULL, 0,
                                TIMEOUT_MS, &r), 0);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.content_type, "text/plain"));
  const char *text = (const char *)r.body.ptr;
  assert_non_null(strstr(text, "# TYPE veche_http_requests_total counter\n"));
  assert_non_null(strstr(text, "# TYPE veche_http_request_duration_seconds histogram\n"));
  double ok = sample(text, "veche_http_requests_total{class=\"2xx\"} ");
  double client_err = sample(text, "veche_http_requests_total{class=\"4xx\"} ");
  double server_err = sample(text, "veche_http_requests_total{class=\"5xx\"} ");
  assert_true(ok >= 10);
  assert_true(client_err >= 10);
  assert_true(server_err >= 3);
  double count = sample(text, "veche_http_request_duration_seconds_count ");
  double inf = sample(text, "veche_http_request_duration_seconds_bucket{le=\"+Inf\"} ");
  assert_true(count == inf);
  assert_true(count >= ok + client_err + server_err - 1); /* this request is not done yet */
  assert_true(sample(text, "veche_http_requests_in_flight ") >= 1);
  assert_true(sample(text, "veche_http_body_rejected_total ") >= 3);
  /* Every line is a comment or "name[{labels}] value". */
  for (const char *line = text; *line;) {
    const char *eol = strchr(line, '\n');
    assert_non_null(eol);
    if (line[0] != '#') {
      const char *sp = memchr(line, ' ', (size_t)(eol - line));
      assert_non_null(sp);
      char *end;
      strtod(sp + 1, &end);
      assert_ptr_equal(end, eol);
    }
    line = eol + 1;
  }
  http_response_free(&r);
}

/* 405 names the allowed methods; a keep-alive connection survives a 404. */
static void test_allow_header_raw(void **state) {
  int fd = raw_connect(g_port);
  assert_true(fd >= 0);
  const char *req = "DELETE /v1/echo HTTP/1.1\r\nHost: x\r\n\r\n";
  raw_send(fd, req, strlen(req), 1000);
  char buf[4096];
  raw_recv_response(fd, buf, sizeof buf, 3000);
  assert_non_null(strstr(buf, "HTTP/1.1 405"));
  assert_non_null(strstr(buf, "Allow: POST, PUT\r\n"));
  assert_non_null(strstr(buf, "Content-Type: application/json\r\n"));
  /* Same connection, next request. */
  req = "GET /v1/blocks/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  raw_send(fd, req, strlen(req), 1000);
  bool closed;
  raw_recv_all(fd, buf, sizeof buf, 3000, &closed);
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
  assert_non_null(strstr(buf, "{\"height\":5}"));
  close(fd);
}

/* A server whose body budget is tiny: bodies in flight beyond it get 503, and
 * the budget comes back when a request ends, however it ends. */
static void test_inflight_budget(void **state) {
  api_server_t *s;
  api_config_t cfg = {.threads = 1, .connection_timeout_s = CONN_TIMEOUT_S,
                      .body_inflight_bytes_max = 1000};
  assert_int_equal(api_server_start(&cfg, g_routes, sizeof g_routes / sizeof g_routes[0], NULL,
                                    &s), 0);
  uint16_t port = api_server_port(s);
  char body[1200];
  memset(body, 'b', sizeof body);
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", port, "POST", "/v1/big", "text/plain", body, 1001,
                                TIMEOUT_MS, &r), 0);
  assert_int_equal(r.status, 503);
  assert_non_null(strstr((const char *)r.body.ptr, "\"full\""));
  http_response_free(&r);

  /* One upload holds 600 bytes of the budget while it trickles in. */
  int fd = raw_connect(port);
  assert_true(fd >= 0);
  const char *head = "POST /v1/big HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\nab";
  raw_send(fd, head, strlen(head), 1000);
  raw_sleep_ms(100);
  assert_int_equal(http_request("127.0.0.1", port, "POST", "/v1/big", "text/plain", body, 600,
                                TIMEOUT_MS, &r), 0);
  assert_int_equal(r.status, 503);
  http_response_free(&r);
  close(fd); /* the peer vanishes mid-body */
  int64_t deadline = raw_now_ms() + 3000;
  int status = 0;
  while (status != 200 && raw_now_ms() < deadline) {
    raw_sleep_ms(20);
    if (http_request("127.0.0.1", port, "POST", "/v1/big", "text/plain", body, 600, TIMEOUT_MS,
                     &r) == 0)
      status = r.status;
    http_response_free(&r);
  }
  assert_int_equal(status, 200);
  api_server_stop(s);
}

/* connections_max bounds open connections: past it the server stops
 * accepting (new ones wait in the kernel backlog) until a slot frees. */
static void test_connection_limit(void **state) {
  api_server_t *s;
  api_config_t cfg = {.threads = 1, .connections_max = 2, .connection_timeout_s = 5};
  assert_int_equal(api_server_start(&cfg, g_routes, 1, NULL, &s), 0);
  uint16_t port = api_server_port(s);
  int a = raw_connect(port), b = raw_connect(port);
  assert_true(a >= 0 && b >= 0);
  raw_sleep_ms(100);
  int c = raw_connect(port);
  assert_true(c >= 0);
  const char *req = "GET /v1/blocks/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  raw_send(c, req, strlen(req), 1000);
  char buf[1024];
  bool closed;
  raw_recv_all(c, buf, sizeof buf, 700, &closed);
  assert_null(strstr(buf, "HTTP/1.1"));  /* not served while two are open */
  close(a);                              /* a slot frees: c gets its answer */
  raw_recv_all(c, buf, sizeof buf, 3000, &closed);
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
  close(b);
  close(c);
  api_server_stop(s);
}

/* Runs last: stopping is clean and every request was finished. */
static void test_stop_clean(void **state) {
  api_metric_t *in_flight;
  assert_int_equal(api_metrics_gauge(g_metrics, API_METRIC_IN_FLIGHT, NULL, "", &in_flight), 0);
  /* Leave one connection idle and one request half sent: stop must not hang. */
  int fd1 = raw_connect(g_port), fd2 = raw_connect(g_port);
  assert_true(fd1 >= 0 && fd2 >= 0);
  raw_send(fd2, "GET /v1/blocks/1 HTTP/1.1\r\nHo", 29, 1000);
  raw_sleep_ms(50);
  int64_t t0 = raw_now_ms();
  api_server_stop(g_srv);
  g_srv = NULL;
  assert_true(raw_now_ms() - t0 < 3000);
  assert_true(api_metric_value(in_flight) == 0);
  close(fd1);
  close(fd2);
  /* The port is free again: a client now fails to connect. */
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", g_port, "GET", "/", NULL, NULL, 0, 1000, &r),
                   VE_ERR_IO);
}

/* ================================================================ start errors */

static void test_start_errors(void **state) {
  api_server_t *s = NULL;
  api_route_t dup[] = {{"GET", "/a/:x", h_latest, 0, 0}, {"GET", "/a/:y", h_latest, 0, 0}};
  assert_int_equal(api_server_start(NULL, dup, 2, NULL, &s), VE_ERR_CONFIG);
  assert_null(s);
  api_route_t bad[][1] = {
      {{"get", "/a", h_latest, 0, 0}},
      {{"GET", "a", h_latest, 0, 0}},
      {{"GET", "/a//b", h_latest, 0, 0}},
      {{"GET", "/a/:", h_latest, 0, 0}},
      {{"GET", "/a/:x/:x", h_latest, 0, 0}},
      {{"GET", "/a b", h_latest, 0, 0}},
      {{"GET", "/a", NULL, 0, 0}},
      {{"GET", "/a", h_latest, API_ROUTE_JSON, 0}}, /* JSON route with no body */
      {{"POST", "/a", h_latest, 0, API_BODY_BYTES_MAX + 1}},
      {{"POST", "/a", h_latest, 0x80, 0}},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(api_server_start(NULL, bad[i], 1, NULL, &s), VE_ERR_CONFIG);
  }
  api_config_t cfg = {.bind_addr = "localhost"}; /* names are not accepted */
  assert_int_equal(api_server_start(&cfg, g_routes, 1, NULL, &s), VE_ERR_CONFIG);
  cfg = (api_config_t){.threads = API_THREADS_MAX + 1};
  assert_int_equal(api_server_start(&cfg, g_routes, 1, NULL, &s), VE_ERR_CONFIG);

  /* Binding a port in use fails with VE_ERR_IO. */
  cfg = (api_config_t){.port = g_port};
  assert_int_equal(api_server_start(&cfg, g_routes, 1, NULL, &s), VE_ERR_IO);

  /* IPv6 loopback and one thread work (if the machine has ::1). */
  cfg = (api_config_t){.bind_addr = "::1", .threads = 1};
  if (api_server_start(&cfg, g_routes, 2, NULL, &s) == 0) {
    reply_t r = {0};
    http_response_t resp;
    assert_int_equal(http_request("::1", api_server_port(s), "GET", "/v1/blocks/latest", NULL,
                                  NULL, 0, TIMEOUT_MS, &resp), 0);
    r.status = resp.status;
    http_response_free(&resp);
    assert_int_equal(r.status, 200);
    api_server_stop(s);
  }
}

int main(int argc, char **argv) {
  g_seed = argc > 1 ? strtoull(argv[1], NULL, 10) : (uint64_t)time(NULL);
  printf("api_server_test seed %llu\n", (unsigned long long)g_seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_start_errors),
      cmocka_unit_test(test_routing_params),
      cmocka_unit_test(test_not_found_and_method),
      cmocka_unit_test(test_query),
      cmocka_unit_test(test_json_echo),
      cmocka_unit_test(test_json_errors),
      cmocka_unit_test(test_client_json),
      cmocka_unit_test(test_handler_results),
      cmocka_unit_test(test_status_mapping),
      cmocka_unit_test(test_body_limits),
      cmocka_unit_test(test_uri_and_headers_limits),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_huge_header),
      cmocka_unit_test(test_slowloris),
      cmocka_unit_test(test_concurrent),
      cmocka_unit_test(test_keep_alive),
      cmocka_unit_test(test_allow_header_raw),
      cmocka_unit_test(test_inflight_budget),
      cmocka_unit_test(test_connection_limit),
      cmocka_unit_test(test_metrics_route),
      cmocka_unit_test(test_stop_clean),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
