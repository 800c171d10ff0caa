/* node_verify_test.c — the node's pool of threads for the stateless checks of
 * blocks (src/node/node_verify.c, built into this test on its own).
 *
 * Every verdict the pool reports must be exactly ledger_tx_precheck's on the
 * same transaction (or LEDGER_PRECHECK_NONE where the pool says it did not
 * check), for blocks checked at validation time, checked ahead and taken over,
 * with transactions vouched for by the sig_checked callback, from several
 * threads at once; the limits refuse what they must; prune drops what it must;
 * a caller whose chunk is held by a stalled worker gives up after wait_ms and
 * gets NONE for that chunk only; and freeing the pool with work pending leaks
 * nothing (the sanitizer build checks). Blocks carry random keys and a random
 * scatter of bad signatures: the seed is printed; replay with VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "node/node_verify.h"
#include "trng.h"

#define CHAIN "veche-verify-1"

static const ledger_registry_t REG = {&identity_auth, {&identity_app}, 1, NULL};
static uint64_t g_seq = 1;
static vcrypto_keypair_t g_registrar;

static int setup(void **st) {
  (void)st;
  assert_int_equal(vcrypto_init(), 0);
  trng_seed("node_verify_test");
  uint8_t seed[32];
  memset(seed, 2, sizeof seed);
  vcrypto_keypair_from_seed(&g_registrar, seed);
  return 0;
}

static ve_slice_t chain(void) { return ve_slice(CHAIN, strlen(CHAIN)); }

/* A block at height of n registrations, about one in bad_every with a broken
 * signature (0: none), and one of another chain when wrong_chain. */
typedef struct {
  ve_buf_t bytes;
  ledger_block_t b;
  uint8_t id[32];
} blk_t;

static void blk_make(blk_t *out, uint64_t height, size_t n, unsigned bad_every, bool wrong_chain) {
  ve_buf_t *txs = calloc(n, sizeof *txs);
  ve_slice_t *sl = calloc(n, sizeof *sl);
  for (size_t i = 0; i < n; i++) {
    uint8_t seed[32], digest[32];
    trng_bytes(seed, sizeof seed);
    vcrypto_keypair_t kp;
    vcrypto_keypair_from_seed(&kp, seed);
    memset(digest, 0xab, sizeof digest);
    ve_buf_t p;
    ve_buf_init(&p, 0);
    assert_int_equal(identity_payload_register(&p, kp.pk, digest, NULL, 0), 0);
    const char *c = wrong_chain && i == n / 3 ? "other-chain" : CHAIN;
    ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(c, strlen(c)), .seq = g_seq++,
                      .expiry = 1000000, .type = TX_TYPE_IDENTITY_REGISTER, .payload = ve_buf_slice(&p)};
    assert_int_equal(ledger_tx_sign(&tx, &g_registrar), 0);
    ve_buf_init(&txs[i], 0);
    assert_int_equal(ledger_tx_encode(&tx, &txs[i]), 0);
    if (bad_every && trng_next() % bad_every == 0) txs[i].ptr[txs[i].len - 2] ^= 0x20;
    ve_buf_free(&p);
    sl[i] = ve_buf_slice(&txs[i]);
  }
  ledger_header_t h;
  memset(&h, 0, sizeof h);
  h.version = LEDGER_BLOCK_VERSION;
  h.chain_id = chain();
  h.height = height;
  h.time_ms = 1000 + height;
  ve_buf_init(&out->bytes, 0);
  assert_int_equal(ledger_block_build(&h, sl, NULL, n, &out->bytes), 0);
  assert_int_equal(ledger_block_decode(ve_buf_slice(&out->bytes), &out->b), 0);
  assert_int_equal(ledger_header_hash(&out->b.header, out->id), 0);
  for (size_t i = 0; i < n; i++) ve_buf_free(&txs[i]);
  free(txs);
  free(sl);
}

static void blk_free(blk_t *k) {
  ledger_block_free(&k->b);
  ve_buf_free(&k->bytes);
}

/* Verdicts from the pool for k, compared with ledger_tx_precheck's; vouched
 * (may be NULL) says which ones the callback vouched for. Returns how many
 * verdicts were NONE. */
static size_t check_verdicts(node_verify_t *v, const blk_t *k, bool (*vouched)(size_t i)) {
  int32_t *out = calloc(k->b.tx_count ? k->b.tx_count : 1, sizeof *out);
  assert_int_equal(node_verify_block(v, &k->b, ve_buf_slice(&k->bytes), k->id, out), 0);
  size_t none = 0;
  for (size_t i = 0; i < k->b.tx_count; i++) {
    if (vouched && vouched(i)) {
      assert_int_equal(out[i], LEDGER_PRECHECK_NONE);
      none++;
      continue;
    }
    assert_int_equal(out[i], ledger_tx_precheck(&REG, chain(), k->b.txs[i]));
  }
  free(out);
  return none;
}

static node_verify_t *pool_new(size_t threads, ledger_sig_cache_fn fn, void *ctx, uint32_t wait_ms) {
  node_verify_config_t c = {.reg = &REG, .chain_id = chain(), .threads = threads, .sig_checked = fn,
                            .sig_ctx = ctx, .wait_ms = wait_ms};
  node_verify_t *v = NULL;
  assert_int_equal(node_verify_new(&c, &v), 0);
  return v;
}

/* ---- tests ---- */

static void test_verdicts_at_validation(void **st) {
  (void)st;
  node_verify_t *v = pool_new(0, NULL, NULL, 0);
  assert_true(node_verify_threads(v) >= 1);
  blk_t k;
  blk_make(&k, 1, 333, 7, true); /* 21 chunks, the last one short */
  assert_int_equal(check_verdicts(v, &k, NULL), 0);
  node_verify_stats_t s;
  node_verify_stats(v, &s);
  assert_int_equal(s.blocks, 1);
  assert_int_equal(s.blocks_ahead, 0);
  assert_int_equal(s.txs_checked, 333);
  blk_free(&k);
  /* An empty block needs nothing. */
  blk_make(&k, 2, 0, 0, false);
  assert_int_equal(check_verdicts(v, &k, NULL), 0);
  blk_free(&k);
  node_verify_free(v);
  node_verify_free(NULL);
}

/* The callback vouches for the transactions whose id starts with an even byte. */
static bool vouch_even(void *ctx, const uint8_t id[32]) {
  atomic_fetch_add((_Atomic uint64_t *)ctx, 1);
  return id[0] % 2 == 0;
}
static const blk_t *g_vouch_blk;
static bool vouched_even(size_t i) { return g_vouch_blk->b.ids[i][0] % 2 == 0; }

static void test_vouched(void **st) {
  (void)st;
  _Atomic uint64_t calls = 0;
  node_verify_t *v = pool_new(2, vouch_even, (void *)&calls, 0);
  blk_t k;
  blk_make(&k, 1, 200, 5, false);
  g_vouch_blk = &k;
  size_t none = check_verdicts(v, &k, vouched_even);
  assert_true(none > 0 && none < 200);
  assert_int_equal(atomic_load(&calls), 200);
  node_verify_stats_t s;
  node_verify_stats(v, &s);
  assert_int_equal(s.txs_vouched, none);
  assert_int_equal(s.txs_checked, 200 - none);
  blk_free(&k);
  node_verify_free(v);
}

static void test_ahead_and_limits(void **st) {
  (void)st;
  node_verify_t *v = pool_new(2, NULL, NULL, 0);
  enum { N = NODE_VERIFY_AHEAD_BLOCKS_MAX + 1 };
  static blk_t k[N];
  for (int i = 0; i < N; i++) blk_make(&k[i], 10 + (uint64_t)i, 40, 6, false);
  /* Garbage, a height that is not the header's, an empty block. */
  assert_int_not_equal(node_verify_ahead(v, 10, ve_slice(k[0].bytes.ptr, 20)), 0);
  assert_int_equal(node_verify_ahead(v, 11, ve_buf_slice(&k[0].bytes)), VE_ERR_INVALID);
  blk_t empty;
  blk_make(&empty, 9, 0, 0, false);
  assert_int_equal(node_verify_ahead(v, 9, ve_buf_slice(&empty.bytes)), VE_ERR_EXISTS);
  blk_free(&empty);
  for (int i = 0; i < N - 1; i++) {
    assert_int_equal(node_verify_ahead(v, 10 + (uint64_t)i, ve_buf_slice(&k[i].bytes)), 0);
    assert_int_equal(node_verify_ahead(v, 10 + (uint64_t)i, ve_buf_slice(&k[i].bytes)),
                     i < N - 2 ? VE_ERR_EXISTS : VE_ERR_FULL); /* the limit is looked at first */
  }
  assert_int_equal(node_verify_ahead(v, 10 + N - 1, ve_buf_slice(&k[N - 1].bytes)), VE_ERR_FULL);
  /* Taken over at validation: same verdicts, counted as ahead. */
  assert_int_equal(check_verdicts(v, &k[0], NULL), 0);
  assert_int_equal(check_verdicts(v, &k[1], NULL), 0);
  node_verify_stats_t s;
  node_verify_stats(v, &s);
  assert_int_equal(s.blocks_ahead, 2);
  assert_int_equal(s.ahead_started, N - 1);
  assert_int_equal(s.ahead_refused, 2);
  /* Room again; then prune what lies at or below height 13. */
  assert_int_equal(node_verify_ahead(v, 10 + N - 1, ve_buf_slice(&k[N - 1].bytes)), 0);
  node_verify_prune(v, 13);
  node_verify_stats(v, &s);
  assert_int_equal(s.ahead_pruned, 2); /* heights 12 and 13 */
  /* A pruned block is checked afresh when asked for; a kept one is taken over. */
  assert_int_equal(check_verdicts(v, &k[2], NULL), 0);
  assert_int_equal(check_verdicts(v, &k[4], NULL), 0);
  node_verify_stats(v, &s);
  assert_int_equal(s.blocks_ahead, 3);
  /* Freed with jobs still ahead (heights 15..). */
  node_verify_free(v);
  for (int i = 0; i < N; i++) blk_free(&k[i]);
}

/* Several threads validate and push ahead at once. */
typedef struct {
  node_verify_t *v;
  blk_t *k;
  int n;
  atomic_int *failures;
} race_arg_t;

static void *race_main(void *p) {
  race_arg_t *a = p;
  for (int i = 0; i < a->n; i++) {
    blk_t *k = &a->k[i];
    if (i + 1 < a->n) (void)node_verify_ahead(a->v, a->k[i + 1].b.header.height, ve_buf_slice(&a->k[i + 1].bytes));
    int32_t *out = calloc(k->b.tx_count, sizeof *out);
    if (node_verify_block(a->v, &k->b, ve_buf_slice(&k->bytes), k->id, out) != 0) atomic_fetch_add(a->failures, 1);
    for (size_t t = 0; t < k->b.tx_count; t++)
      if (out[t] != ledger_tx_precheck(&REG, chain(), k->b.txs[t])) atomic_fetch_add(a->failures, 1);
    free(out);
    node_verify_prune(a->v, k->b.header.height);
  }
  return NULL;
}

static void test_concurrent(void **st) {
  (void)st;
  enum { THREADS = 3, BLOCKS = 6 };
  node_verify_t *v = pool_new(3, NULL, NULL, 0);
  static blk_t k[THREADS][BLOCKS];
  for (int t = 0; t < THREADS; t++)
    for (int i = 0; i < BLOCKS; i++) blk_make(&k[t][i], 100 * (uint64_t)(t + 1) + (uint64_t)i, 50, 9, false);
  atomic_int failures = 0;
  pthread_t th[THREADS];
  race_arg_t args[THREADS];
  for (int t = 0; t < THREADS; t++) {
    args[t] = (race_arg_t){v, k[t], BLOCKS, &failures};
    assert_int_equal(pthread_create(&th[t], NULL, race_main, &args[t]), 0);
  }
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  assert_int_equal(atomic_load(&failures), 0);
  node_verify_stats_t s;
  node_verify_stats(v, &s);
  assert_int_equal(s.blocks, THREADS * BLOCKS);
  assert_int_equal(s.waits_timed_out, 0);
  node_verify_free(v);
  for (int t = 0; t < THREADS; t++)
    for (int i = 0; i < BLOCKS; i++) blk_free(&k[t][i]);
}

/* A worker stalls inside chunk 0 (the callback sleeps on worker threads): the
 * caller checks the other chunks, gives up on chunk 0 after wait_ms, and gets
 * NONE for exactly that chunk; the worker finishes later and frees the job. */
static pthread_t g_caller;
static atomic_int g_stalled;
static bool stall_on_worker(void *ctx, const uint8_t id[32]) {
  (void)ctx;
  (void)id;
  if (!pthread_equal(pthread_self(), g_caller) && atomic_exchange(&g_stalled, 1) == 0) usleep(400 * 1000);
  return false;
}

static void test_stalled_worker(void **st) {
  (void)st;
  g_caller = pthread_self();
  atomic_store(&g_stalled, 0);
  node_verify_t *v = pool_new(1, stall_on_worker, NULL, 50);
  blk_t k;
  blk_make(&k, 5, 3 * NODE_VERIFY_CHUNK_TXS, 4, false);
  assert_int_equal(node_verify_ahead(v, 5, ve_buf_slice(&k.bytes)), 0);
  for (int i = 0; i < 2000 && !atomic_load(&g_stalled); i++) usleep(1000); /* bounded: 2 s */
  assert_true(atomic_load(&g_stalled));
  int32_t out[3 * NODE_VERIFY_CHUNK_TXS];
  assert_int_equal(node_verify_block(v, &k.b, ve_buf_slice(&k.bytes), k.id, out), 0);
  for (size_t i = 0; i < k.b.tx_count; i++) {
    if (i < NODE_VERIFY_CHUNK_TXS) assert_int_equal(out[i], LEDGER_PRECHECK_NONE);
    else assert_int_equal(out[i], ledger_tx_precheck(&REG, chain(), k.b.txs[i]));
  }
  node_verify_stats_t s;
  node_verify_stats(v, &s);
  assert_int_equal(s.waits_timed_out, 1);
  assert_int_equal(s.txs_by_caller, 2 * NODE_VERIFY_CHUNK_TXS);
  blk_free(&k); /* the job owns a copy: the worker still reads it safely */
  node_verify_free(v); /* joins the worker after its chunk */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_verdicts_at_validation),
      cmocka_unit_test(test_vouched),
      cmocka_unit_test(test_ahead_and_limits),
      cmocka_unit_test(test_concurrent),
      cmocka_unit_test(test_stalled_worker),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
