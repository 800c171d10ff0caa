/* flow_test.c — the node's flow-control rules (src/node/node_cons.c, declared
 * in node_int.h) driven with made-up timings: a proposer that executes slowly
 * gets a smaller block cap, a fast one block_txs_max, the bounds hold and no
 * input divides by zero; the commit rate settles at what blocks carry; the
 * admit limit and Retry-After follow from it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/node_int.h"

#define TXS_MAX 10000

/* Heights of `txs` transactions, each taking ms, folded `times` times. */
static void feed(node_cost_t *c, size_t times, uint64_t ms, size_t txs) {
  for (size_t i = 0; i < times; i++) node_cost_update(c, ms, txs);
}

static void test_cap_slow_history_shrinks(void **state) {
  (void)state;
  node_cost_t c = {0};
  /* Nothing measured: the configured maximum. */
  assert_int_equal(node_block_txs_cap(500, &c, TXS_MAX), TXS_MAX);
  /* 10,000 registrations in 2,000 ms (0.2 ms/tx), as on a third of a core. */
  feed(&c, 20, 2000, 10000);
  size_t cap = node_block_txs_cap(500, &c, TXS_MAX);
  assert_in_range(cap, 2400, 2500);
  /* ... and the heights that follow at that cap take about the target. */
  node_cost_t next = c;
  feed(&next, 20, (uint64_t)(0.2 * (double)cap), cap);
  assert_in_range(node_block_txs_cap(500, &next, TXS_MAX), 2400, 2500);
}

static void test_cap_fast_history_is_max(void **state) {
  (void)state;
  node_cost_t c = {0};
  feed(&c, 20, 300, 10000); /* 0.03 ms/tx: 10,000 fit in 300 ms */
  assert_int_equal(node_block_txs_cap(500, &c, TXS_MAX), TXS_MAX);
  /* Getting slower moves the cap down within a few heights, not at once. */
  node_cost_update(&c, 3000, 10000);
  size_t one = node_block_txs_cap(500, &c, TXS_MAX);
  feed(&c, 20, 3000, 10000);
  size_t many = node_block_txs_cap(500, &c, TXS_MAX);
  assert_true(one > many);
  assert_in_range(many, 1600, 1700); /* 500 / 0.3 */
}

static void test_cap_per_block_cost(void **state) {
  (void)state;
  node_cost_t c = {0};
  /* Small heights measure the per-block cost (100 ms here), which is not
   * charged per tx: big heights of 1,000 txs in 300 ms cost 0.2 ms per tx. */
  feed(&c, 20, 100, 0);
  feed(&c, 20, 300, 1000);
  assert_true(fabs(c.block_ms - 100) < 1);
  assert_true(fabs(c.tx_ms - 0.2) < 0.01);
  assert_in_range(node_block_txs_cap(500, &c, TXS_MAX), 1950, 2000); /* (500 - 100) / 0.2 */
  /* A per-block cost above the target leaves the minimum, not zero. */
  feed(&c, 40, 900, 0);
  assert_int_equal(node_block_txs_cap(500, &c, TXS_MAX), NODE_BLOCK_TXS_MIN);
}

static void test_cap_bounds_and_zero(void **state) {
  (void)state;
  node_cost_t c = {0};
  feed(&c, 20, 60000, 10000); /* 6 ms per tx */
  assert_int_equal(node_block_txs_cap(500, &c, TXS_MAX), NODE_BLOCK_TXS_MIN);
  /* block_txs_max below the minimum is the cap itself. */
  assert_int_equal(node_block_txs_cap(500, &c, 50), 50);
  assert_int_equal(node_block_txs_cap(500, &c, 0), 0);
  /* Target 0 turns the rule off. */
  assert_int_equal(node_block_txs_cap(0, &c, TXS_MAX), TXS_MAX);
  /* Heights measured at 0 ms (a fast clock tick): no division by zero. */
  node_cost_t z = {0};
  feed(&z, 5, 0, 10000);
  feed(&z, 5, 0, 0);
  assert_int_equal(node_block_txs_cap(500, &z, TXS_MAX), TXS_MAX);
}

static void test_commit_rate(void **state) {
  (void)state;
  double r = 0;
  for (int i = 0; i < 200; i++) r = node_commit_rate_update(r, 2000, 500); /* 4,000 tx/s */
  assert_true(fabs(r - 4000) < 1);
  /* Several blocks at once (dt 0) add, without dividing by zero. */
  double before = r;
  r = node_commit_rate_update(r, 1000, 0);
  assert_true(r > before && isfinite(r));
  /* A long quiet gap replaces the average. */
  assert_true(fabs(node_commit_rate_update(r, 0, 10000)) < 1e-9);
  assert_true(fabs(node_commit_rate_update(0, 600, 6000) - 100) < 1e-9);
}

static void test_admit_limit(void **state) {
  (void)state;
  assert_int_equal(node_admit_limit(4000, 0, TXS_MAX), 0);          /* off */
  assert_int_equal(node_admit_limit(0, 10, TXS_MAX), 2 * TXS_MAX);  /* floor: just started */
  assert_int_equal(node_admit_limit(500, 10, TXS_MAX), 2 * TXS_MAX);
  assert_int_equal(node_admit_limit(4000, 10, TXS_MAX), 40000);
  assert_int_equal(node_admit_limit(NAN, 10, TXS_MAX), 2 * TXS_MAX);
  assert_int_equal(node_admit_limit(0, 10, 0), 1);
  assert_int_equal(node_admit_limit(1e12, 600, TXS_MAX), MEMPOOL_TXS_MAX_LIMIT);
}

static void test_retry_after(void **state) {
  (void)state;
  assert_int_equal(node_retry_after_s(0, TXS_MAX, 10), 1);     /* nothing measured */
  assert_int_equal(node_retry_after_s(4000, 10000, 10), 3);    /* 2.5 s per block */
  assert_int_equal(node_retry_after_s(1e6, 10000, 10), 1);
  assert_int_equal(node_retry_after_s(10, 10000, 10), 10);     /* bounded by the backlog */
  assert_int_equal(node_retry_after_s(10, 10000, 0), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cap_slow_history_shrinks), cmocka_unit_test(test_cap_fast_history_is_max),
      cmocka_unit_test(test_cap_per_block_cost),       cmocka_unit_test(test_cap_bounds_and_zero),
      cmocka_unit_test(test_commit_rate),              cmocka_unit_test(test_admit_limit),
      cmocka_unit_test(test_retry_after),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
