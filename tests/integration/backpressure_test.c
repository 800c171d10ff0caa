/* backpressure_test.c — a validator refuses client submissions as busy once
 * its backlog exceeds what it commits in mempool_backlog_s seconds
 * (docs/mempool.md "Back-pressure"), and stays healthy.
 *
 * Deterministic by construction: a 4-validator network of which only node 0
 * runs at first, so nothing commits and node 0's admit limit is its floor
 * (two blocks of block_txs_max = 4). Checked:
 *   - single submissions are accepted up to exactly the admit limit that
 *     /metrics shows, and the next one gets 503 {"error": "busy"} with a
 *     Retry-After of at least 1 s;
 *   - a batch sent while busy is refused whole (503 busy);
 *   - once the other validators start, every admitted tx commits, the node is
 *     healthy, and a single submission is accepted again;
 *   - a batch four times larger than the admit limit is answered 200 with
 *     per-tx "busy" results and a "busy" count (blocks of 4 cannot drain the
 *     pool while one request is admitted);
 *   - /metrics counts every busy refusal.
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

#define NV 4
#define SINGLES_MAX 100    /* the floor is 8: far more than enough to reach it */
#define WHOLE_BATCH_TXS 50
#define BATCH_TXS_MAX 20000 /* NODE_API_BATCH_TXS_MAX */
#define HTTP_MS 5000
#define FINAL_TIMEOUT_MS 30000

static const char *g_veche;
static uint32_t g_identity;

/* This test's keys in n's config.json. */
static void configure(h_node_t *n) {
  h_config_set(n, "block_txs_max", json_integer(4));
  h_config_set(n, "mempool_backlog_s", json_integer(1));
}

/* A signed registration of a fresh key (hex, caller frees). */
static char *next_tx(h_node_t *n, uint8_t id[32]) { return h_register_hex(n, 0x425553, g_identity++, 3, id); }

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

/* One single submission: 202 accepted (its id kept in ids[*accepted]) or
 * 503 busy; returns true if accepted. */
static bool submit_one(h_node_t *n, uint8_t (*ids)[32], size_t *accepted) {
  char *hex = next_tx(n, ids[*accepted]);
  http_response_t r;
  json_t *j = post(n, json_pack("{s:s}", "tx", hex), &r);
  free(hex);
  bool ok = r.status == 202;
  if (ok) {
    assert_string_equal(str(j, "status"), "accepted");
    (*accepted)++;
  } else {
    expect_busy_answer(&r, j);
  }
  json_decref(j);
  http_response_free(&r);
  return ok;
}

/* POSTs a batch of k fresh txs; the accepted ones' ids go to ids[*accepted..].
 * Returns the HTTP status; *busy gets the txs refused as busy. */
static int submit_batch(h_node_t *n, size_t k, uint8_t (*ids)[32], size_t *accepted, size_t *busy) {
  json_t *txs = json_array();
  uint8_t (*bids)[32] = calloc(k, 32);
  assert_non_null(bids);
  for (size_t i = 0; i < k; i++) {
    char *hex = next_tx(n, bids[i]);
    json_array_append_new(txs, json_string(hex));
    free(hex);
  }
  http_response_t r;
  json_t *j = post(n, json_pack("{s:o}", "txs", txs), &r);
  int status = r.status;
  *busy = 0;
  if (status == 503) {
    expect_busy_answer(&r, j);
    *busy = k;
  } else {
    assert_int_equal(status, 200);
    json_t *results = json_object_get(j, "results");
    assert_int_equal(json_array_size(results), k);
    for (size_t i = 0; i < k; i++) {
      const json_t *it = json_array_get(results, i);
      if (!strcmp(str(it, "status"), "accepted")) memcpy(ids[(*accepted)++], bids[i], 32);
      else if (!strcmp(str(it, "error"), "busy")) (*busy)++;
      else fail_msg("batch tx %zu: %s", i, str(it, "error"));
    }
    assert_int_equal(json_integer_value(json_object_get(j, "busy")), *busy);
    if (*busy) assert_true(r.retry_after_s >= 1);
  }
  json_decref(j);
  http_response_free(&r);
  free(bids);
  return status;
}

static void test_busy_refusals(void **state) {
  (void)state;
  h_net_t net;
  h_net_init(&net, g_veche, NV, 0, 300);
  for (size_t i = 0; i < NV; i++) configure(&net.node[i]);
  h_node_t *n = &net.node[0];
  h_node_start(n);
  uint8_t (*ids)[32] = calloc(SINGLES_MAX + 2 + BATCH_TXS_MAX, 32);
  assert_non_null(ids);

  /* Nothing commits yet: node 0 admits exactly its floor, then refuses. */
  size_t limit = (size_t)h_metric(n, "veche_mempool_admit_limit");
  assert_true(limit >= 1 && limit < SINGLES_MAX);
  assert_int_equal(h_metric(n, "veche_block_txs_cap"), 4);
  size_t accepted = 0, busy = 0;
  while (accepted < SINGLES_MAX && submit_one(n, ids, &accepted)) {
  }
  busy++;
  printf("# admit limit %zu: %zu single submissions accepted, then busy\n", limit, accepted);
  assert_int_equal(accepted, limit);

  /* A batch while busy is refused whole. */
  size_t batch_busy;
  assert_int_equal(submit_batch(n, WHOLE_BATCH_TXS, ids, &accepted, &batch_busy), 503);
  assert_int_equal(batch_busy, WHOLE_BATCH_TXS);
  busy += batch_busy;
  assert_int_equal(h_status_u64(n, NULL, "mempool_admit_limit"), limit);

  /* The network starts: everything admitted commits, clients are let back in. */
  for (size_t i = 1; i < NV; i++) h_node_start(&net.node[i]);
  uint64_t t0 = h_now_ms();
  assert_int_equal(h_wait_final(n, ids, accepted), accepted);
  assert_true(h_now_ms() - t0 < FINAL_TIMEOUT_MS);
  assert_int_equal(h_get(n, "/health", NULL), 200);
  size_t before = accepted;
  assert_true(submit_one(n, ids, &accepted));

  /* A batch four times the limit: admitted up to the limit, the rest busy. */
  limit = (size_t)h_metric(n, "veche_mempool_admit_limit");
  size_t k = 4 * limit + 100 < BATCH_TXS_MAX ? 4 * limit + 100 : BATCH_TXS_MAX;
  assert_int_equal(submit_batch(n, k, ids, &accepted, &batch_busy), 200);
  printf("# batch of %zu at admit limit %zu: %zu busy\n", k, limit, batch_busy);
  assert_true(batch_busy > 0);
  busy += batch_busy;
  t0 = h_now_ms();
  assert_int_equal(h_wait_final(n, ids + before, accepted - before), accepted - before);
  assert_true(h_now_ms() - t0 < FINAL_TIMEOUT_MS);
  assert_int_equal((size_t)h_metric(n, "veche_mempool_busy_total"), busy);
  /* the same count in /v1/status, whole batches included */
  assert_int_equal(h_status_u64(n, NULL, "mempool_busy_total"), busy);
  free(ids);
  for (size_t i = 0; i < NV; i++) h_node_stop(&net.node[i]);
  h_net_cleanup(&net);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_busy_refusals)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
