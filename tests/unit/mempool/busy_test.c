/* busy_test.c — the admit limit (back-pressure, docs/mempool.md): client
 * submissions beyond it are refused as busy before any signature check,
 * transactions from peers are not, no limit means the hard bounds alone, and
 * commits that lower the backlog let clients in again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "fixture.h"

#define TXS 6

static int client_add(fx_t *f, ve_slice_t tx, uint8_t id_out[LEDGER_HASH_BYTES]) {
  return mempool_add_client(f->mp, f->store, fx_chain(), fx_next_height(f), tx, id_out);
}

/* A pool of txs_max (0: default) with admit limit `limit`, and TXS
 * registrations by root with seqs 1..TXS. */
static void setup(fx_t *f, size_t txs_max, size_t limit, ve_buf_t tx[TXS]) {
  mempool_config_t cfg = {.txs_max = txs_max};
  fx_init(f, &cfg);
  for (int i = 0; i < TXS; i++) {
    ve_buf_init(&tx[i], 0);
    fx_register(f, &tx[i], &f->root, (uint64_t)i + 1, 200 + (uint32_t)i);
  }
  mempool_set_admit_limit(f->mp, limit);
}

static void teardown(fx_t *f, ve_buf_t tx[TXS]) {
  for (int i = 0; i < TXS; i++) ve_buf_free(&tx[i]);
  fx_free(f);
}

/* A badly signed tx beyond the limit is refused as busy, not bad_signature:
 * the limit is checked before the signature. Busy is not remembered. */
static void test_busy_before_signature(void **state) {
  (void)state;
  fx_t f;
  ve_buf_t tx[TXS];
  setup(&f, 0, 2, tx);
  assert_false(mempool_busy(f.mp));
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[0]), NULL), 0);
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[1]), NULL), 0);
  assert_true(mempool_busy(f.mp));
  tx[2].ptr[tx[2].len - 1] ^= 0x01; /* last byte of the signature */
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[2]), id), VE_ERR_BUSY);
  assert_false(mempool_has(f.mp, id));
  assert_false(mempool_rejected(f.mp, id, NULL));
  /* A pending tx sent again is still a duplicate, not busy. */
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[0]), NULL), VE_ERR_DUPLICATE);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.busy_total, 1);
  assert_int_equal(st.rejected_total, 2);
  assert_int_equal(st.admit_limit, 2);
  assert_int_equal(st.txs, 2);
  /* A whole batch refused while busy is counted like single refusals. */
  assert_true(mempool_refuse_if_busy(f.mp, 5));
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.busy_total, 6);
  assert_int_equal(st.rejected_total, 7);
  /* The same bad tx below the limit reaches the signature check. */
  mempool_set_admit_limit(f.mp, 10);
  assert_false(mempool_refuse_if_busy(f.mp, 5));
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.busy_total, 6);
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[2]), NULL), VE_ERR_BAD_SIG);
  teardown(&f, tx);
}

/* Transactions from peers (mempool_add) are bound by the hard limits only. */
static void test_gossip_not_busy(void **state) {
  (void)state;
  fx_t f;
  ve_buf_t tx[TXS];
  setup(&f, 4, 1, tx);
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[0]), NULL), 0);
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[1]), NULL), VE_ERR_BUSY);
  for (int i = 1; i < 4; i++) assert_int_equal(fx_admit(&f, ve_buf_slice(&tx[i]), NULL), 0);
  assert_int_equal(mempool_size(f.mp), 4);
  assert_int_equal(fx_admit(&f, ve_buf_slice(&tx[4]), NULL), VE_ERR_FULL);
  /* A full pool says full to clients too: the hard bound wins. */
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[4]), NULL), VE_ERR_FULL);
  teardown(&f, tx);
}

/* Limit 0 (off): clients are admitted up to txs_max, then full. */
static void test_limit_off(void **state) {
  (void)state;
  fx_t f;
  ve_buf_t tx[TXS];
  setup(&f, 4, 2, tx);
  mempool_set_admit_limit(f.mp, 0);
  for (int i = 0; i < 4; i++) assert_int_equal(client_add(&f, ve_buf_slice(&tx[i]), NULL), 0);
  assert_false(mempool_busy(f.mp));
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[4]), NULL), VE_ERR_FULL);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.busy_total, 0);
  assert_int_equal(st.admit_limit, 0);
  teardown(&f, tx);
}

/* A commit that lowers the backlog below the limit lets clients in again. */
static void test_commit_resumes(void **state) {
  (void)state;
  fx_t f;
  ve_buf_t tx[TXS];
  setup(&f, 0, 3, tx);
  for (int i = 0; i < 3; i++) assert_int_equal(client_add(&f, ve_buf_slice(&tx[i]), NULL), 0);
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[3]), NULL), VE_ERR_BUSY);
  ve_slice_t s[2] = {ve_buf_slice(&tx[0]), ve_buf_slice(&tx[1])};
  int32_t res[2];
  fx_commit(&f, s, 2, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  assert_int_equal(mempool_size(f.mp), 1);
  assert_false(mempool_busy(f.mp));
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[3]), NULL), 0);
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[4]), NULL), 0);
  assert_int_equal(client_add(&f, ve_buf_slice(&tx[5]), NULL), VE_ERR_BUSY);
  teardown(&f, tx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_busy_before_signature),
      cmocka_unit_test(test_gossip_not_busy),
      cmocka_unit_test(test_limit_off),
      cmocka_unit_test(test_commit_resumes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
