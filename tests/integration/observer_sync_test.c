/* observer_sync_test.c — an observer catching up commits several blocks per
 * durable write (group commit, src/node/node.c) and still ends with exactly
 * the validator's chain, never showing a height a crash takes back.
 *
 * One validator builds a chain of CHAIN_BLOCKS_MIN+ blocks with registrations
 * in most of them, then is restarted with a one-hour heartbeat so the chain
 * stands still and every block is old (an observer groups only blocks older
 * than NODE_GROUP_BEHIND_MS: it is behind). Then:
 *   1. the observer syncs from genesis; the height its API shows (/health,
 *      /v1/status), polled all the while, never goes down; once it passes a
 *      third of the chain it is killed -9;
 *   2. restarted, it reports at once a height ≥ the last one it showed before
 *      the kill (what it showed was durable), and syncs to the top;
 *   3. its blocks (header hash, state root) equal the validator's at every
 *      height, and its metrics show fewer durable block commits than blocks
 *      (the catch-up was grouped); it prunes its state (state_keep_blocks),
 *      so this also holds for deletions inside groups and across the kill,
 *      and it keeps exactly the window;
 *   4. live: a transaction submitted to the validator reaches the observer's
 *      API promptly (a fresh block is durable and shown at once).
 * Without the grouping right this fails: validating block h+1 outside the
 * open txn sees a stale tip and the observer stalls (1, 2); publishing a
 * height before its group is durable lets the restart come back lower (2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/http_client.h"
#include "apps/identity/identity.h"
#include "harness.h"

#define CHAIN_BLOCKS_MIN 600
#define BUILD_TIMEOUT_MS 60000
#define SYNC_TIMEOUT_MS 60000
#define BEHIND_WAIT_MS 2200 /* > NODE_GROUP_BEHIND_MS: every block is old */
#define LIVE_LAG_MS_MAX 1500
#define KEEP 16 /* the observer's state_keep_blocks */

static const char *g_veche;
static uint32_t g_next_identity;

/* Submits `count` registrations to n in one batch (POST /v1/txs {"txs": [...]}). */
static void submit_batch(h_node_t *n, size_t count, uint8_t (*ids)[32]) {
  json_t *txs = json_array();
  for (size_t i = 0; i < count; i++) {
    char *hex = h_register_hex(n, 0x4f4253, g_next_identity++, 2, ids[i]);
    json_array_append_new(txs, json_string(hex));
    free(hex);
  }
  json_t *r = NULL;
  int st = h_post(n, "/v1/txs", json_pack("{s:o}", "txs", txs), &r);
  if (st != 200 && st != 202) fail_msg("submit to %s: HTTP %d", n->dir, st);
  json_decref(r);
}

/* The validator builds at least CHAIN_BLOCKS_MIN blocks, most with a
 * registration; returns its height once frozen (restarted with a one-hour
 * heartbeat). */
static uint64_t build_chain(h_node_t *v) {
  h_node_start(v);
  uint64_t end = h_now_ms() + BUILD_TIMEOUT_MS;
  size_t txs = 0;
  uint8_t ids[2][32];
  while (h_height(v) < CHAIN_BLOCKS_MIN) {
    if (h_now_ms() > end) fail_msg("chain stuck at %llu", (unsigned long long)h_height(v));
    submit_batch(v, 2, ids);
    txs += 2;
    h_sleep_ms(15);
  }
  assert_int_equal(h_wait_final(v, ids, 2), 2);
  h_node_stop(v);
  h_config_set(v, "empty_block_ms", json_integer(3600000));
  h_node_start(v);
  uint64_t top = h_height(v);
  print_message("chain: %llu blocks, %zu registrations\n", (unsigned long long)top, txs);
  return top;
}

static void test_observer_sync(void **state) {
  (void)state;
  h_net_t net;
  h_net_init(&net, g_veche, 1, 1, 10);
  h_node_t *v = &net.node[0], *o = &net.node[1];
  uint64_t top = build_chain(v);
  /* The observer prunes (docs/operations.md "Pruning"): deletions inside its
   * groups, and across the kill, must leave every root equal (step 3). */
  h_config_set(o, "state_keep_blocks", json_integer(KEEP));
  h_sleep_ms(BEHIND_WAIT_MS);

  /* 1. Sync from genesis, killed a third of the way. */
  uint64_t t0 = h_now_ms();
  h_node_start(o);
  uint64_t shown = 0, polls = 0;
  for (;;) {
    uint64_t h = h_shown_height(o); /* /health: published; /v1/status: tip */
    polls++;
    if (h < shown) fail_msg("observer height went down: %llu after %llu", (unsigned long long)h,
                            (unsigned long long)shown);
    shown = h;
    if (h >= top / 3) break;
    if (h_now_ms() - t0 > SYNC_TIMEOUT_MS) fail_msg("observer stuck at %llu", (unsigned long long)h);
  }
  h_node_kill9(o);
  if (shown >= top) fail_msg("observer reached the top (%llu) before the kill", (unsigned long long)top);
  print_message("step 1: observer killed -9 at shown height %llu of %llu (%llu polls, %llu ms)\n",
                (unsigned long long)shown, (unsigned long long)top, (unsigned long long)polls,
                (unsigned long long)(h_now_ms() - t0));

  /* 2. What it showed was durable. */
  h_node_start(o);
  uint64_t back = h_height(o);
  if (back < shown)
    fail_msg("restarted at %llu below the %llu shown before the kill", (unsigned long long)back,
             (unsigned long long)shown);
  assert_true(back <= top);
  t0 = h_now_ms();
  h_wait_height(o, top, SYNC_TIMEOUT_MS);
  uint64_t blocks = (uint64_t)h_metric(o, "veche_blocks_committed_total");
  uint64_t commits = (uint64_t)h_metric(o, "veche_store_block_commits_total");
  print_message("step 2: restarted at %llu; synced to %llu in %llu ms: %llu blocks in %llu durable commits\n",
                (unsigned long long)back, (unsigned long long)top, (unsigned long long)(h_now_ms() - t0),
                (unsigned long long)blocks, (unsigned long long)commits);

  /* 3. The same chain, and it was grouped. */
  h_same_chain(v, o, top);
  assert_int_equal(blocks, top - back);
  if (commits * 4 > blocks)
    fail_msg("%llu durable commits for %llu blocks: not grouped", (unsigned long long)commits,
             (unsigned long long)blocks);
  assert_int_equal(h_status_u64(o, NULL, "state_oldest_height"), top + 1 - KEEP);
  assert_true(h_metric(o, "veche_state_pruned_entries_total") > 0);
  print_message("step 3: %llu heights identical to the validator's; the observer keeps the state of the last %d\n",
                (unsigned long long)top, KEEP);

  /* 4. Live: a fresh block is shown at once. */
  uint8_t ids[1][32];
  submit_batch(v, 1, ids);
  assert_int_equal(h_wait_final(v, ids, 1), 1);
  uint64_t want = h_height(v);
  t0 = h_now_ms();
  h_wait_height(o, want, LIVE_LAG_MS_MAX);
  assert_int_equal(h_wait_final(o, ids, 1), 1);
  print_message("step 4: live block %llu shown by the observer %llu ms after the validator\n",
                (unsigned long long)want, (unsigned long long)(h_now_ms() - t0));
  h_same_chain(v, o, want);

  h_node_stop(o);
  h_node_stop(v);
  h_net_cleanup(&net);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_observer_sync)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
