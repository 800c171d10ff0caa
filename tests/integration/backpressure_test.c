/* backpressure_test.c — a validator refuses client submissions as busy once
 * its backlog exceeds what it commits in mempool_backlog_s seconds
 * (docs/mempool.md "Back-pressure"), and stays healthy.
 *
 * One validator with block_txs_max = 4 and mempool_backlog_s = 1 (admit limit:
 * its commit rate x 1 s, at least 8 pending) receives single-tx submissions as
 * fast as this test can sign them, more than 4-tx blocks commit. Checked:
 *   - some submissions get 503 with {"error": "busy"} and a Retry-After ≥ 1;
 *   - a batch sent while busy is answered 503 busy (refused whole) or 200
 *     with per-tx "busy" results and a busy count;
 *   - the node keeps running (/health), every admitted tx commits;
 *   - /metrics counts the busy refusals and shows the admit limit.
 * Without the admit limit every submission is accepted (the pool holds
 * 200,000) and the first check fails. Every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/http_client.h"
#include "apps/identity/identity.h"
#include "harness.h"

#define SUBMIT_MAX 3000      /* single-tx submissions at most */
#define SUBMIT_MS_MAX 8000   /* ... and for at most this long */
#define BUSY_WANTED 20       /* stop once this many were refused as busy */
#define BATCH_TXS 200
#define HTTP_MS 5000
#define FINAL_TIMEOUT_MS 20000

static const char *g_veche;
static uint32_t g_identity;

/* Rewrites n's config.json with the keys of this test. */
static void configure(h_node_t *n) {
  char path[400];
  snprintf(path, sizeof path, "%s/net/config.json", n->dir);
  json_error_t je;
  json_t *c = json_load_file(path, 0, &je);
  assert_non_null(c);
  json_object_set_new(c, "block_txs_max", json_integer(4));
  json_object_set_new(c, "mempool_backlog_s", json_integer(1));
  assert_int_equal(json_dump_file(c, path, JSON_INDENT(2)), 0);
  json_decref(c);
}

/* A signed registration of a fresh key (hex, caller frees). */
static char *next_tx(h_node_t *n, uint8_t id[32]) {
  vcrypto_keypair_t kp;
  h_seed_key(&kp, 0x425553, g_identity++);
  uint8_t digest[32] = {3};
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_register(&p, kp.pk, digest, NULL, 0), 0);
  char *hex = h_tx_hex(n->chain, &n->authority, n->seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), id);
  ve_buf_free(&p);
  return hex;
}

/* POSTs a JSON body to /v1/txs; out gets status, Retry-After and the body. */
static json_t *post(h_node_t *n, json_t *body, http_response_t *out) {
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  assert_non_null(text);
  assert_int_equal(http_request("127.0.0.1", n->port, "POST", "/v1/txs", "application/json", text, strlen(text),
                                HTTP_MS, out),
                   0);
  free(text);
  return json_loadb((const char *)out->body.ptr, out->body.len, 0, NULL);
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* A 503 busy answer: the reason in JSON and a Retry-After of at least 1 s. */
static void expect_busy_answer(const http_response_t *r, const json_t *j) {
  assert_int_equal(r->status, 503);
  assert_non_null(j);
  assert_string_equal(str(j, "error"), "busy");
  assert_true(r->retry_after_s >= 1);
}

/* The value of an unlabelled metric in the /metrics text, or -1. */
static double metric(h_node_t *n, const char *name) {
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", n->port, "GET", "/metrics", NULL, NULL, 0, HTTP_MS, &r), 0);
  assert_int_equal(r.status, 200);
  char pat[128];
  snprintf(pat, sizeof pat, "\n%s ", name);
  const char *at = strstr((const char *)r.body.ptr, pat);
  double v = at ? strtod(at + strlen(pat), NULL) : -1;
  http_response_free(&r);
  return v;
}

static void test_busy_refusals(void **state) {
  (void)state;
  h_node_t n;
  h_node_init(&n, g_veche);
  configure(&n);
  h_node_start(&n);
  uint8_t (*ids)[32] = calloc(SUBMIT_MAX + BATCH_TXS, 32);
  assert_non_null(ids);
  size_t accepted = 0, busy = 0, sent = 0;
  uint64_t end = h_now_ms() + SUBMIT_MS_MAX;
  for (; sent < SUBMIT_MAX && busy < BUSY_WANTED && h_now_ms() < end; sent++) {
    char *hex = next_tx(&n, ids[accepted]);
    http_response_t r;
    json_t *j = post(&n, json_pack("{s:s}", "tx", hex), &r);
    free(hex);
    if (r.status == 202) {
      assert_string_equal(str(j, "status"), "accepted");
      accepted++;
    } else {
      expect_busy_answer(&r, j);
      busy++;
    }
    json_decref(j);
    http_response_free(&r);
  }
  printf("# %zu single submissions: %zu accepted, %zu busy\n", sent, accepted, busy);
  assert_true(busy > 0);
  assert_true(accepted > 0);

  /* A batch while the node is (or was just) busy. */
  json_t *txs = json_array();
  uint8_t (*bids)[32] = calloc(BATCH_TXS, 32);
  assert_non_null(bids);
  for (size_t i = 0; i < BATCH_TXS; i++) {
    char *hex = next_tx(&n, bids[i]);
    json_array_append_new(txs, json_string(hex));
    free(hex);
  }
  http_response_t r;
  json_t *j = post(&n, json_pack("{s:o}", "txs", txs), &r);
  size_t batch_busy = 0;
  if (r.status == 503) {
    expect_busy_answer(&r, j);
    batch_busy = BATCH_TXS;
  } else {
    assert_int_equal(r.status, 200);
    json_t *results = json_object_get(j, "results");
    assert_int_equal(json_array_size(results), BATCH_TXS);
    for (size_t i = 0; i < BATCH_TXS; i++) {
      const json_t *it = json_array_get(results, i);
      if (!strcmp(str(it, "status"), "accepted")) memcpy(ids[accepted++], bids[i], 32);
      else if (!strcmp(str(it, "error"), "busy")) batch_busy++;
      else fail_msg("batch tx %zu: %s", i, str(it, "error"));
    }
    assert_int_equal(json_integer_value(json_object_get(j, "busy")), batch_busy);
    if (batch_busy) assert_true(r.retry_after_s >= 1);
  }
  printf("# batch of %d: HTTP %d, %zu busy\n", BATCH_TXS, r.status, batch_busy);
  json_decref(j);
  http_response_free(&r);

  /* Still healthy; everything admitted commits; the refusals are counted. */
  assert_int_equal(h_get(&n, "/health", NULL), 200);
  uint64_t t0 = h_now_ms();
  assert_int_equal(h_wait_final(&n, ids, accepted), accepted);
  assert_true(h_now_ms() - t0 < FINAL_TIMEOUT_MS);
  assert_int_equal((size_t)metric(&n, "veche_mempool_busy_total"), busy + batch_busy);
  assert_true(metric(&n, "veche_mempool_admit_limit") >= 8);
  assert_int_equal(metric(&n, "veche_block_txs_cap"), 4);
  json_t *st = NULL;
  assert_int_equal(h_get(&n, "/v1/status", &st), 200);
  assert_true(json_integer_value(json_object_get(st, "mempool_admit_limit")) >= 8);
  json_decref(st);
  free(bids);
  free(ids);
  h_node_stop(&n);
  h_node_cleanup(&n);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s path/to/veche\n", argv[0]);
    return 2;
  }
  g_veche = argv[1];
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_busy_refusals)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
