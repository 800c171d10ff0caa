/* concurrent_test.c — admission from 4 threads at once loses and duplicates
 * nothing.
 *
 * 10,000 register transactions by one signer (seqs 1..10,000, each registering
 * its own key) are split in 4 quarters; thread t submits quarter t and then
 * quarter t+1, so every tx is submitted twice by two threads racing each other.
 * Meanwhile a fifth thread keeps calling mempool_on_commit with no ids (as a node
 * does after empty blocks), which forces admissions to re-run their state checks.
 * Afterwards: exactly one admission of each tx succeeded and the other said
 * VE_ERR_DUPLICATE, the pool holds exactly the 10,000 txs, and a reap returns
 * them in seq order. Thread scheduling is the only nondeterminism; there is no
 * seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/err.h"
#include "fixture.h"

#define TXS 10000
#define THREADS 4

typedef struct {
  fx_t *f;
  ve_buf_t *txs;
  int (*codes)[2]; /* per tx: result of its first and second submission */
  int t;
  uint64_t height;
} worker_t;

static atomic_bool stop_bumping;

static void submit_quarter(worker_t *w, int quarter, int which) {
  for (int i = quarter; i < TXS; i += THREADS)
    w->codes[i][which] =
        mempool_add(w->f->mp, w->f->store, fx_chain(), w->height, ve_buf_slice(&w->txs[i]), NULL);
}

static void *worker(void *arg) {
  worker_t *w = arg;
  submit_quarter(w, w->t, 0);
  submit_quarter(w, (w->t + 1) % THREADS, 1);
  return NULL;
}

static void *bumper(void *arg) {
  worker_t *w = arg;
  struct timespec ms = {0, 2 * 1000 * 1000};
  while (!atomic_load(&stop_bumping)) {
    mempool_on_commit(w->f->mp, NULL, 0, w->height);
    nanosleep(&ms, NULL);
  }
  return NULL;
}

static void test_concurrent_admission(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  ve_buf_t *txs = calloc(TXS, sizeof *txs);
  int(*codes)[2] = calloc(TXS, sizeof *codes);
  assert_non_null(txs);
  assert_non_null(codes);
  for (int i = 0; i < TXS; i++) {
    ve_buf_init(&txs[i], 0);
    fx_register(&f, &txs[i], &f.root, (uint64_t)i + 1, 1000 + (uint32_t)i);
  }
  worker_t w[THREADS + 1];
  pthread_t th[THREADS + 1];
  atomic_store(&stop_bumping, false);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int t = 0; t <= THREADS; t++) {
    w[t] = (worker_t){&f, txs, codes, t, fx_next_height(&f)};
    assert_int_equal(pthread_create(&th[t], NULL, t < THREADS ? worker : bumper, &w[t]), 0);
  }
  for (int t = 0; t < THREADS; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
  atomic_store(&stop_bumping, true);
  assert_int_equal(pthread_join(th[THREADS], NULL), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

  for (int i = 0; i < TXS; i++) {
    int a = codes[i][0], b = codes[i][1];
    if (!((a == 0 && b == VE_ERR_DUPLICATE) || (a == VE_ERR_DUPLICATE && b == 0)))
      fail_msg("tx %d: submissions returned %s and %s", i, ve_err_name(a), ve_err_name(b));
    uint8_t id[LEDGER_HASH_BYTES];
    ledger_tx_id(id, ve_buf_slice(&txs[i]));
    assert_true(mempool_has(f.mp, id));
  }
  assert_int_equal(mempool_size(f.mp), TXS);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.admitted_total, TXS);
  assert_int_equal(st.rejected_total, TXS);
  printf("%d submissions by %d threads in %.2f s (%.0f/s); %" PRIu64 " state re-checks\n",
         2 * TXS, THREADS, secs, 2 * TXS / secs, st.retries_total);

  mempool_batch_t b;
  assert_int_equal(mempool_reap(f.mp, TXS, VE_BLOCK_BYTES_MAX, &b), 0);
  assert_int_equal(b.n, TXS);
  for (size_t i = 0; i < b.n; i++) {
    ledger_tx_t d;
    assert_int_equal(ledger_tx_decode(b.txs[i], &d), 0);
    assert_int_equal(d.seq, i + 1);
  }
  mempool_batch_free(&b);
  for (int i = 0; i < TXS; i++) ve_buf_free(&txs[i]);
  free(txs);
  free(codes);
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_admission),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
