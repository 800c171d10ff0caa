/* overtaken_test.c — admission whose dry run is overtaken by block commits.
 *
 * A test application ("slow", one tx type) stands for a transaction whose dry
 * run takes longer than a block interval (the last decryption share of a big
 * poll computes the result): every time it runs, it tells the pool that a block
 * committed meanwhile (mempool_on_commit). Such a transaction must still be
 * admitted — the dry run runs MEMPOOL_DRY_RUNS_MAX times, then only the
 * committed check reruns — and the guard the reruns exist for must still hold:
 * if the block that committed meanwhile holds this very transaction, admission
 * answers `duplicate` instead of putting a committed tx back in the pool.
 * Deterministic: one thread, the commits happen inside the callback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "fixture.h"

#define SLOW_TYPE 0x7e00

typedef enum { BUMP_EVERY_RUN, COMMIT_SELF_ON_SECOND_RUN } slow_mode_t;

static struct {
  fx_t *f;
  slow_mode_t mode;
  int runs;        /* apply calls during admission dry runs */
  int block_runs;  /* apply calls during the block fx_commit executes */
  bool committing; /* inside fx_commit */
  ve_slice_t tx;   /* the transaction under test */
} S;

static int slow_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *signer) {
  (void)ex, (void)tx, (void)signer;
  if (S.committing) {
    S.block_runs++;
    return VE_OK;
  }
  S.runs++;
  if (S.mode == COMMIT_SELF_ON_SECOND_RUN && S.runs == 2) {
    /* A block holding this very tx commits while the second dry run reads
     * the older state (and the pool hears of it, bumping its generation). */
    S.committing = true;
    int32_t res = 1;
    fx_commit(S.f, &S.tx, 1, &res);
    S.committing = false;
    assert_int_equal(res, VE_OK);
  } else {
    mempool_on_commit(S.f->mp, NULL, 0, fx_next_height(S.f));
  }
  return VE_OK;
}

static const ledger_app_t SLOW_APP = {"slow", SLOW_TYPE, SLOW_TYPE, slow_apply, NULL, NULL};

/* The fixture's chain, with the slow app in the registry of its pool and its
 * block execution. */
static void setup_slow(fx_t *f, slow_mode_t mode, ve_buf_t *tx) {
  fx_init(f, NULL);
  f->reg.apps[f->reg.n_apps++] = &SLOW_APP;
  mempool_free(f->mp);
  assert_int_equal(mempool_new(NULL, &f->reg, &f->mp), 0);
  memset(&S, 0, sizeof S);
  S.f = f;
  S.mode = mode;
  ve_buf_init(tx, 0);
  fx_tx(tx, &f->root, NULL, 1, fx_next_height(f) + FX_EXPIRY_AHEAD, SLOW_TYPE, ve_slice("x", 1));
  S.tx = ve_buf_slice(tx);
}

static void test_slow_dry_run_gets_in(void **state) {
  (void)state;
  fx_t f;
  ve_buf_t tx;
  setup_slow(&f, BUMP_EVERY_RUN, &tx);
  uint8_t id[LEDGER_HASH_BYTES];
  /* Every dry run is overtaken; before MEMPOOL_DRY_RUNS_MAX existed this was
   * VE_ERR_TIMEOUT after MEMPOOL_ADMIT_RETRIES_MAX dry runs. */
  assert_int_equal(fx_admit(&f, S.tx, id), VE_OK);
  assert_int_equal(S.runs, MEMPOOL_DRY_RUNS_MAX);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.txs, 1);
  assert_int_equal(st.admitted_total, 1);
  assert_int_equal(st.retries_total, MEMPOOL_DRY_RUNS_MAX);
  /* It is a normal pending tx: a second submission is a duplicate, and the
   * block that carries it commits it. */
  assert_int_equal(fx_admit(&f, S.tx, NULL), VE_ERR_DUPLICATE);
  S.committing = true;
  int32_t res = 1;
  fx_commit(&f, &S.tx, 1, &res);
  S.committing = false;
  assert_int_equal(res, VE_OK);
  assert_int_equal(S.block_runs, 1);
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.txs, 0);
  ve_buf_free(&tx);
  fx_free(&f);
}

static void test_committed_meanwhile_is_refused(void **state) {
  (void)state;
  fx_t f;
  ve_buf_t tx;
  setup_slow(&f, COMMIT_SELF_ON_SECOND_RUN, &tx);
  uint64_t h0 = fx_next_height(&f);
  /* Run 1 bumps the generation; during run 2 the tx itself commits. The third
   * attempt runs no dry run, but its committed check sees the block. */
  assert_int_equal(fx_admit(&f, S.tx, NULL), VE_ERR_DUPLICATE);
  assert_int_equal(S.runs, 2);
  assert_int_equal(S.block_runs, 1);
  assert_int_equal(fx_next_height(&f), h0 + 1);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.txs, 0);
  assert_int_equal(st.admitted_total, 0);
  ve_buf_free(&tx);
  fx_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_slow_dry_run_gets_in),
      cmocka_unit_test(test_committed_meanwhile_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
