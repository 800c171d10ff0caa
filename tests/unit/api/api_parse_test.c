/* api_parse_test.c — the pieces of the API layer that read untrusted text
 * without a server: the JSON depth scan and parser, path splitting, and route
 * matching. Randomized cases take a seed (printed; argv[1] replays it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "api/api.h"
#include "api/router.h"
#include "base/err.h"
#include "base/log.h"

static uint64_t g_seed;

/* ================================================================ depth scan */

static int depth(const char *s, size_t max) { return api_json_depth_check(s, strlen(s), max); }

static void test_depth_check(void **state) {
  assert_int_equal(depth("", 0), 0);
  assert_int_equal(depth("{}", 1), 0);
  assert_int_equal(depth("{}", 0), VE_ERR_DEPTH);
  assert_int_equal(depth("[[]]", 2), 0);
  assert_int_equal(depth("[[[]]]", 2), VE_ERR_DEPTH);
  assert_int_equal(depth("[{\"a\":[1]}]", 3), 0);
  assert_int_equal(depth("[{\"a\":[1]}]", 2), VE_ERR_DEPTH);
  /* Siblings don't add up. */
  assert_int_equal(depth("[[1],[2],[3],{\"x\":[]}]", 3), 0);
  /* Brackets inside strings don't count, escapes included. */
  assert_int_equal(depth("[\"[[[[{{{{\"]", 1), 0);
  assert_int_equal(depth("[\"\\\"[[[[\"]", 1), 0);         /* escaped quote stays inside */
  assert_int_equal(depth("[\"\\\\\",[[]]]", 2), VE_ERR_DEPTH); /* "\\" ends the string */
  assert_int_equal(depth("[\"\\\\\",[[]]]", 3), 0);
  /* An unterminated string swallows the rest (jansson rejects it later). */
  assert_int_equal(depth("[\"[[[[[", 1), 0);
  /* Stray closers don't make the depth negative. */
  assert_int_equal(depth("]]]]]][[", 2), 0);
  assert_int_equal(depth("]]]]]][[[", 2), VE_ERR_DEPTH);
  /* A trailing backslash at the very end does not read past the buffer. */
  const char tail[] = {'[', '"', '\\'};
  assert_int_equal(api_json_depth_check(tail, sizeof tail, 1), 0);
}

/* Reference depth by a different method (recursion-free stack of openers),
 * compared with the scan on random bracket/quote soups. */
static size_t reference_depth(const char *s, size_t len) {
  size_t d = 0, best = 0;
  int in_str = 0;
  for (size_t i = 0; i < len; i++) {
    if (in_str) {
      if (s[i] == '\\') i++;
      else if (s[i] == '"') in_str = 0;
    } else if (s[i] == '"') {
      in_str = 1;
    } else if (s[i] == '[' || s[i] == '{') {
      if (++d > best) best = d;
    } else if ((s[i] == ']' || s[i] == '}') && d) {
      d--;
    }
  }
  return best;
}

static void test_depth_random(void **state) {
  srand((unsigned)g_seed);
  const char alphabet[] = "[]{}\"\\a,:";
  char buf[64];
  for (int round = 0; round < 20000; round++) {
    size_t len = (size_t)(rand() % (int)sizeof buf);
    for (size_t i = 0; i < len; i++) buf[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
    size_t ref = reference_depth(buf, len);
    size_t max = (size_t)(rand() % 8);
    int want = ref > max ? VE_ERR_DEPTH : 0;
    if (api_json_depth_check(buf, len, max) != want)
      fail_msg("seed %llu round %d: depth mismatch", (unsigned long long)g_seed, round);
  }
}

/* ================================================================ parse */

static void test_json_parse(void **state) {
  json_t *j;
  char msg[256];
  assert_int_equal(api_json_parse("{\"a\":1}", 7, &j, msg, sizeof msg), 0);
  assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
  json_decref(j);
  assert_int_equal(api_json_parse("[]", 2, &j, msg, sizeof msg), 0);
  json_decref(j);

  assert_int_equal(api_json_parse("{\"a\":1,\"a\":2}", 13, &j, msg, sizeof msg), VE_ERR_MALFORMED);
  assert_null(j);
  assert_int_equal(api_json_parse("\"str\"", 5, &j, msg, sizeof msg), VE_ERR_MALFORMED);
  assert_int_equal(api_json_parse("1", 1, &j, msg, sizeof msg), VE_ERR_MALFORMED);
  assert_int_equal(api_json_parse("", 0, &j, msg, sizeof msg), VE_ERR_MALFORMED);
  assert_int_equal(api_json_parse("{}{}", 4, &j, msg, sizeof msg), VE_ERR_MALFORMED);
  assert_int_equal(api_json_parse("[1]\0", 4, &j, msg, sizeof msg), VE_ERR_MALFORMED);

  /* Error messages say where: "line:col: text". */
  assert_int_equal(api_json_parse("{\n  \"a\": tru\n}", 14, &j, msg, sizeof msg), VE_ERR_MALFORMED);
  assert_true(strncmp(msg, "2:", 2) == 0);
  assert_non_null(strchr(msg + 2, ':'));

  char deep[API_JSON_DEPTH_MAX + 1];
  memset(deep, '[', sizeof deep);
  assert_int_equal(api_json_parse(deep, sizeof deep, &j, msg, sizeof msg), VE_ERR_DEPTH);
  assert_null(j);
}

/* ================================================================ paths */

static void test_path_split(void **state) {
  char buf[API_URL_BYTES_MAX + 1];
  const char *segs[API_PATH_SEGMENTS_MAX];
  size_t n;
  assert_int_equal(api_path_split("/", buf, sizeof buf, segs, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(api_path_split("/v1/blocks/12", buf, sizeof buf, segs, &n), 0);
  assert_int_equal(n, 3);
  assert_string_equal(segs[0], "v1");
  assert_string_equal(segs[2], "12");
  assert_int_equal(api_path_split("/a%2Fb/%41%7e", buf, sizeof buf, segs, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(segs[0], "a/b");
  assert_string_equal(segs[1], "A~");

  assert_int_equal(api_path_split("/a/", buf, sizeof buf, segs, &n), VE_ERR_NOT_FOUND);
  assert_int_equal(api_path_split("//a", buf, sizeof buf, segs, &n), VE_ERR_NOT_FOUND);
  assert_int_equal(api_path_split("/%", buf, sizeof buf, segs, &n), VE_ERR_MALFORMED);
  assert_int_equal(api_path_split("/%4", buf, sizeof buf, segs, &n), VE_ERR_MALFORMED);
  assert_int_equal(api_path_split("/%4g", buf, sizeof buf, segs, &n), VE_ERR_MALFORMED);
  assert_int_equal(api_path_split("/a%00", buf, sizeof buf, segs, &n), VE_ERR_MALFORMED);
  assert_int_equal(api_path_split("/a%0a", buf, sizeof buf, segs, &n), VE_ERR_MALFORMED);
  assert_int_equal(api_path_split("/a\tb", buf, sizeof buf, segs, &n), VE_ERR_MALFORMED);
  assert_int_equal(api_path_split("a", buf, sizeof buf, segs, &n), VE_ERR_MALFORMED);

  char many[128] = "";
  for (int i = 0; i <= API_PATH_SEGMENTS_MAX; i++) strcat(many, "/s");
  assert_int_equal(api_path_split(many, buf, sizeof buf, segs, &n), VE_ERR_NOT_FOUND);
  many[strlen(many) - 2] = 0; /* exactly the maximum */
  assert_int_equal(api_path_split(many, buf, sizeof buf, segs, &n), 0);
  assert_int_equal(n, API_PATH_SEGMENTS_MAX);
}

/* ================================================================ routes */

static int h(void *ctx, const api_request_t *req, api_response_t *resp) { return 0; }

static const api_route_compiled_t *match(const api_route_compiled_t *c, size_t n,
                                         const char *method, const char *path, api_match_t *res,
                                         char *allow) {
  char buf[256];
  const char *segs[API_PATH_SEGMENTS_MAX];
  size_t n_segs;
  assert_int_equal(api_path_split(path, buf, sizeof buf, segs, &n_segs), 0);
  const api_route_compiled_t *out;
  *res = api_router_match(c, n, method, segs, n_segs, &out, allow, 128);
  return out;
}

static void test_router(void **state) {
  static const api_route_t routes[] = {
      {"GET", "/v1/blocks/:height", h, 0, 0},      /* 0 */
      {"GET", "/v1/blocks/latest", h, 0, 0},       /* 1 */
      {"GET", "/v1/:kind/latest", h, 0, 0},        /* 2 */
      {"POST", "/v1/txs", h, API_ROUTE_JSON, 4096}, /* 3 */
      {"GET", "/v1/txs", h, 0, 0},                 /* 4 */
      {"DELETE", "/v1/txs", h, 0, 0},              /* 5 */
      {"GET", "/", h, 0, 0},                       /* 6 */
      {"PUT", "/v1/x", h, 0, 0},                   /* 7 */
  };
  enum { N = sizeof routes / sizeof routes[0] };
  api_route_compiled_t c[N];
  assert_int_equal(api_router_compile(routes, N, c), 0);
  assert_int_equal(c[3].body_bytes_max, 4096);
  assert_int_equal(c[4].body_bytes_max, 0);              /* GET: no body */
  assert_int_equal(c[7].body_bytes_max, API_BODY_BYTES_MAX); /* PUT default */

  api_match_t res;
  char allow[128];
  assert_ptr_equal(match(c, N, "GET", "/v1/blocks/9", &res, allow), &c[0]);
  assert_ptr_equal(match(c, N, "GET", "/v1/blocks/latest", &res, allow), &c[1]);
  /* Literal at the earliest differing position wins: blocks/:height vs :kind/latest. */
  assert_ptr_equal(match(c, N, "GET", "/v1/votes/latest", &res, allow), &c[2]);
  const api_route_t pair[] = {routes[2], routes[0]}; /* :kind/latest listed first */
  api_route_compiled_t cp[2];
  assert_int_equal(api_router_compile(pair, 2, cp), 0);
  assert_ptr_equal(match(cp, 2, "GET", "/v1/blocks/latest", &res, allow), &cp[1]);
  assert_ptr_equal(match(c, N, "HEAD", "/v1/txs", &res, allow), &c[4]);
  assert_ptr_equal(match(c, N, "GET", "/", &res, allow), &c[6]);
  assert_null(match(c, N, "GET", "/v2", &res, allow));
  assert_int_equal(res, API_MATCH_NO_PATH);
  assert_null(match(c, N, "PATCH", "/v1/txs", &res, allow));
  assert_int_equal(res, API_MATCH_NO_METHOD);
  assert_string_equal(allow, "POST, GET, DELETE");
  assert_null(match(c, N, "POST", "/v1/blocks/latest", &res, allow));
  assert_int_equal(res, API_MATCH_NO_METHOD);
  assert_string_equal(allow, "GET"); /* two GET routes match, listed once */
}

static void test_router_compile_errors(void **state) {
  api_route_compiled_t c[2];
  ve_log_set_level(VE_LOG_OFF);
  const api_route_t bad[] = {
      {NULL, "/a", h, 0, 0},
      {"", "/a", h, 0, 0},
      {"GET1", "/a", h, 0, 0},
      {"VERYLONGMETHODNAME", "/a", h, 0, 0},
      {"GET", NULL, h, 0, 0},
      {"GET", "", h, 0, 0},
      {"GET", "/a/", h, 0, 0},
      {"GET", "/a?b", h, 0, 0},
      {"GET", "/a%20b", h, 0, 0},
      {"GET", "/:a-b", h, 0, 0},
      {"GET", "/:a/:b/:c/:d/:e/:f/:g/:h/:i", h, 0, 0}, /* 9 params */
      {"GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", h, 0, 0}, /* 17 segments */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (api_router_compile(&bad[i], 1, c) != VE_ERR_CONFIG) fail_msg("bad route %zu accepted", i);
  }
  const api_route_t dup[] = {{"GET", "/a/b", h, 0, 0}, {"GET", "/a/b", h, 0, 0}};
  assert_int_equal(api_router_compile(dup, 2, c), VE_ERR_CONFIG);
  const api_route_t ok_pair[] = {{"GET", "/a/b", h, 0, 0}, {"POST", "/a/b", h, 0, 0}};
  assert_int_equal(api_router_compile(ok_pair, 2, c), 0);
  const api_route_t eight[] = {{"GET", "/:a/:b/:c/:d/:e/:f/:g/:h", h, 0, 0}};
  assert_int_equal(api_router_compile(eight, 1, c), 0);
  ve_log_set_level(VE_LOG_INFO);
}

int main(int argc, char **argv) {
  g_seed = argc > 1 ? strtoull(argv[1], NULL, 10) : (uint64_t)time(NULL);
  printf("api_parse_test seed %llu\n", (unsigned long long)g_seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_depth_check),  cmocka_unit_test(test_depth_random),
      cmocka_unit_test(test_json_parse),   cmocka_unit_test(test_path_split),
      cmocka_unit_test(test_router),       cmocka_unit_test(test_router_compile_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
