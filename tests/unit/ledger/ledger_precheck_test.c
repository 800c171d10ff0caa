/* ledger_precheck_test.c — stateless pre-checks ahead of validation
 * (ledger_tx_precheck, ledger_block_validate_prechecked, the identity app's
 * precheck hook).
 *
 * The property: a block's verdict, its transactions' results and the state
 * after it are the same whether its transactions were pre-checked or not, and
 * whatever subset of verdicts is supplied. Two memory stores from one genesis
 * receive the same blocks, one validated the plain way, the other with every
 * transaction pre-checked first; results and tips must match. Blocks mix fresh
 * registrations, a key outside the prime-order subgroup, a key used twice, a
 * registrar without the role, and key rotations (whose pre-check guesses the
 * signer's identity right, then wrong). Keys come from a seeded generator:
 * the seed is printed; replay with VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "tchain.h"
#include "trng.h"

#define CHAIN "veche-precheck-1"
#define KEYS_MAX 256

static const ledger_registry_t REG = {&identity_auth, {&identity_app}, 1, NULL};

static vcrypto_keypair_t g_admin, g_registrar;
static uint64_t g_seq = 1;

static void random_key(vcrypto_keypair_t *kp) {
  uint8_t seed[32];
  trng_bytes(seed, sizeof seed);
  vcrypto_keypair_from_seed(kp, seed);
}

static int setup(void **st) {
  (void)st;
  assert_int_equal(vcrypto_init(), 0);
  trng_seed("ledger_precheck_test");
  tchain_key(&g_admin, NULL, 1, 1);
  tchain_key(&g_registrar, NULL, 2, 2);
  return 0;
}

/* A fresh chain: every one has the same genesis, so the same blocks apply. */
static void chain_new(tchain_t *c) {
  tchain_init(c, CHAIN, &REG);
  tchain_authority(c, "ministry", &g_admin, ROLE_ADMIN);
  tchain_authority(c, "registry", &g_registrar, ROLE_REGISTRAR);
  tchain_open(c, NULL);
}

/* Appends a signed tx to txs[*n]. */
static void add_tx(ve_buf_t *txs, size_t *n, const vcrypto_keypair_t *kp, const char *chain, uint32_t type,
                   ve_slice_t payload) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(chain, strlen(chain)),
                    .seq = g_seq++, .expiry = 1000000, .type = type, .payload = payload};
  assert_int_equal(ledger_tx_sign(&tx, kp), 0);
  ve_buf_init(&txs[*n], 0);
  assert_int_equal(ledger_tx_encode(&tx, &txs[*n]), 0);
  (*n)++;
}

static void add_register(ve_buf_t *txs, size_t *n, const vcrypto_keypair_t *by, const uint8_t pk[32]) {
  uint8_t digest[32];
  memset(digest, 0xab, sizeof digest);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_register(&p, pk, digest, NULL, 0), 0);
  add_tx(txs, n, by, CHAIN, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  ve_buf_free(&p);
}

/* The holder of `id` (current key holder) rotates to next. */
static void add_rotate(ve_buf_t *txs, size_t *n, const vcrypto_keypair_t *holder, const uint8_t id[32],
                       const vcrypto_keypair_t *next) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_rotate(&p, ve_slice(CHAIN, strlen(CHAIN)), id, next), 0);
  add_tx(txs, n, holder, CHAIN, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p));
  ve_buf_free(&p);
}

static void free_txs(ve_buf_t *txs, size_t n) {
  for (size_t i = 0; i < n; i++) ve_buf_free(&txs[i]);
}

enum { PRE_NONE, PRE_ALL, PRE_SOME };

/* Validates blk on c; mode says which verdicts are handed in (PRE_SOME: a
 * random half, the rest LEDGER_PRECHECK_NONE). Returns the verdict. */
static int validate(tchain_t *c, ve_slice_t blk, int mode) {
  ledger_block_t b;
  assert_int_equal(ledger_block_decode(blk, &b), 0);
  int32_t *pre = calloc(b.tx_count ? b.tx_count : 1, sizeof *pre);
  for (size_t i = 0; i < b.tx_count; i++) {
    bool give = mode == PRE_ALL || (mode == PRE_SOME && trng_next() % 2);
    pre[i] = give ? ledger_tx_precheck(&REG, ve_slice(CHAIN, strlen(CHAIN)), b.txs[i]) : LEDGER_PRECHECK_NONE;
  }
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->store, false, &t), 0);
  int rc = mode == PRE_NONE ? ledger_block_validate_decoded(t, &b, c->valset, NULL, NULL)
                            : ledger_block_validate_prechecked(t, &b, c->valset, pre, NULL, NULL);
  store_txn_abort(t);
  free(pre);
  ledger_block_free(&b);
  return rc;
}

static void commit(tchain_t *c, ve_slice_t blk, int32_t *results) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->store, true, &t), 0);
  assert_int_equal(ledger_block_commit(t, &REG, blk, ve_slice("cert", 4), results), 0);
  assert_int_equal(store_txn_commit(t), 0);
}

static void assert_same_tip(store_t *a, store_t *b) {
  ledger_tip_t ta, tb;
  store_txn_t *t;
  assert_int_equal(store_txn_begin(a, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &ta), 0);
  store_txn_abort(t);
  assert_int_equal(store_txn_begin(b, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tb), 0);
  store_txn_abort(t);
  assert_int_equal(ta.height, tb.height);
  assert_memory_equal(ta.last_hash, tb.last_hash, 32);
  assert_memory_equal(ta.state_root, tb.state_root, 32);
  assert_memory_equal(ta.results_root, tb.results_root, 32);
}

/* ---- tests ---- */

/* Each kind of broken transaction: the pre-check's verdict is the one
 * validation reaches for a block holding just that transaction. */
static void test_precheck_verdicts(void **st) {
  (void)st;
  tchain_t s;
  chain_new(&s);
  vcrypto_keypair_t k;
  random_key(&k);
  ve_buf_t txs[4];
  size_t n = 0;
  add_register(txs, &n, &g_registrar, k.pk);                                      /* good */
  add_register(txs, &n, &g_registrar, k.pk);
  txs[1].ptr[txs[1].len - 5] ^= 0x10;                                             /* bad signature */
  add_tx(txs, &n, &g_registrar, "another-chain", TX_TYPE_IDENTITY_REGISTER, ve_slice("\x01", 1)); /* chain */
  add_register(txs, &n, &g_registrar, k.pk);
  txs[3].ptr[0] = 9;                                                              /* version */
  const int want[4] = {VE_OK, VE_ERR_BAD_SIG, VE_ERR_WRONG_CHAIN, VE_ERR_VERSION};
  for (size_t i = 0; i < n; i++) {
    int pre = ledger_tx_precheck(&REG, ve_slice(CHAIN, strlen(CHAIN)), ve_buf_slice(&txs[i]));
    assert_int_equal(pre, want[i]);
    ve_buf_t blk;
    ve_buf_init(&blk, 0);
    tchain_block(&s, &txs[i], 1, &blk);
    assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_NONE), want[i]);
    assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_ALL), want[i]);
    ve_buf_free(&blk);
  }
  /* Truncated bytes and a NULL registry (no app hooks) are handled too. */
  assert_int_not_equal(ledger_tx_precheck(&REG, ve_slice(CHAIN, strlen(CHAIN)), ve_slice(txs[0].ptr, 10)), 0);
  assert_int_equal(ledger_tx_precheck(NULL, ve_slice(CHAIN, strlen(CHAIN)), ve_buf_slice(&txs[0])), 0);
  free_txs(txs, n);
  tchain_free(&s);
}

/* A bad signature in the middle of a block rejects the block with and without
 * pre-checks, whichever verdicts are handed in; with two broken transactions
 * the first in block order decides, as without pre-checks. */
static void test_bad_sig_in_the_middle(void **st) {
  (void)st;
  tchain_t s;
  chain_new(&s);
  enum { N = 40 };
  ve_buf_t txs[N];
  size_t n = 0;
  for (int i = 0; i < N; i++) {
    vcrypto_keypair_t k;
    random_key(&k);
    add_register(txs, &n, &g_registrar, k.pk);
  }
  txs[N / 2].ptr[txs[N / 2].len - 1] ^= 0x01; /* the signature's last byte */
  ve_buf_t blk;
  ve_buf_init(&blk, 0);
  tchain_block(&s, txs, n, &blk);
  assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_NONE), VE_ERR_BAD_SIG);
  assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_ALL), VE_ERR_BAD_SIG);
  for (int r = 0; r < 8; r++) assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_SOME), VE_ERR_BAD_SIG);
  ve_buf_free(&blk);
  /* A wrong-chain tx before the bad signature: that is the verdict. */
  ve_buf_free(&txs[5]);
  n = 5;
  add_tx(txs, &n, &g_registrar, "another-chain", TX_TYPE_IDENTITY_REGISTER, ve_slice("\x01", 1));
  n = N;
  ve_buf_init(&blk, 0);
  tchain_block(&s, txs, n, &blk);
  assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_NONE), VE_ERR_WRONG_CHAIN);
  assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_ALL), VE_ERR_WRONG_CHAIN);
  for (int r = 0; r < 8; r++) assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_SOME), VE_ERR_WRONG_CHAIN);
  ve_buf_free(&blk);
  /* Verdicts never replace the header and duplicate checks, which come first. */
  ve_buf_free(&txs[5]);
  txs[5] = (ve_buf_t){0};
  ve_buf_init(&txs[5], 0);
  assert_int_equal(ve_buf_append(&txs[5], txs[6].ptr, txs[6].len), 0);
  ve_buf_init(&blk, 0);
  tchain_block(&s, txs, n, &blk);
  assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_NONE), VE_ERR_DUPLICATE);
  assert_int_equal(validate(&s, ve_buf_slice(&blk), PRE_ALL), VE_ERR_DUPLICATE);
  ve_buf_free(&blk);
  free_txs(txs, n);
  tchain_free(&s);
}

/* Identities registered and rotated over a few blocks: the same results and
 * state with and without pre-checks, including a bad key in the middle of a
 * block (VE_ERR_BAD_KEY, the block is valid), a key registered twice, a signer
 * without the role, a rotation whose pre-check guesses the signer's identity
 * right (never rotated) and one that guesses wrong (rotated before). */
static void test_same_results(void **st) {
  (void)st;
  tchain_t plain, pre;
  chain_new(&plain);
  chain_new(&pre);
  static vcrypto_keypair_t keys[KEYS_MAX];
  static uint8_t ids[KEYS_MAX][32];
  size_t nk = 0;
  vcrypto_keypair_t next1, next2;
  random_key(&next1);
  random_key(&next2);
  for (int round = 0; round < 4; round++) {
    ve_buf_t txs[64];
    size_t n = 0;
    int32_t want[64];
    memset(want, 0, sizeof want);
    for (int i = 0; i < 40; i++) {
      VE_ASSERT(nk < KEYS_MAX);
      random_key(&keys[nk]);
      identity_id_from_pk(ids[nk], keys[nk].pk);
      add_register(txs, &n, &g_registrar, keys[nk++].pk);
      if (i == 17) { /* the all-zero encoding: a point of small order */
        uint8_t zero[32] = {0};
        want[n] = VE_ERR_BAD_KEY;
        add_register(txs, &n, &g_registrar, zero);
      }
      if (i == 23 && nk > 41) { /* a key of an earlier round */
        want[n] = VE_ERR_EXISTS;
        add_register(txs, &n, &g_registrar, keys[nk - 41].pk);
      }
      if (i == 29) { /* the admin is no registrar */
        vcrypto_keypair_t k;
        random_key(&k);
        want[n] = VE_ERR_PERMISSION;
        add_register(txs, &n, &g_admin, k.pk);
      }
    }
    if (round == 1) add_rotate(txs, &n, &keys[0], ids[0], &next1); /* guessed right */
    if (round == 2) add_rotate(txs, &n, &next1, ids[0], &next2);   /* guessed wrong */
    ve_buf_t blk;
    ve_buf_init(&blk, 0);
    tchain_block(&plain, txs, n, &blk);
    assert_int_equal(validate(&pre, ve_buf_slice(&blk), PRE_ALL), VE_OK);
    assert_int_equal(validate(&plain, ve_buf_slice(&blk), PRE_NONE), VE_OK);
    assert_int_equal(validate(&pre, ve_buf_slice(&blk), PRE_SOME), VE_OK);
    int32_t r_pre[64], r_plain[64];
    commit(&pre, ve_buf_slice(&blk), r_pre); /* the pre-checked store first: its memos are warm */
    commit(&plain, ve_buf_slice(&blk), r_plain);
    assert_memory_equal(r_pre, r_plain, n * sizeof r_pre[0]);
    for (size_t i = 0; i < n; i++) assert_int_equal(r_plain[i], want[i]);
    assert_same_tip(plain.store, pre.store);
    ve_buf_free(&blk);
    free_txs(txs, n);
  }
  /* The rotations took effect: next2 now signs for identity 0. */
  store_txn_t *t;
  identity_t rec;
  bool current;
  assert_int_equal(store_txn_begin(plain.store, false, &t), 0);
  assert_int_equal(identity_get_by_key(t, next2.pk, &rec, &current), 0);
  assert_true(current);
  assert_memory_equal(rec.id, ids[0], 32);
  store_txn_abort(t);
  tchain_free(&plain);
  tchain_free(&pre);
}

/* ledger_block_header_get reads the header alone. */
static void test_block_header_get(void **st) {
  (void)st;
  tchain_t s;
  chain_new(&s);
  vcrypto_keypair_t k;
  random_key(&k);
  ve_buf_t txs[1];
  size_t n = 0;
  add_register(txs, &n, &g_registrar, k.pk);
  ve_buf_t blk;
  ve_buf_init(&blk, 0);
  tchain_block(&s, txs, n, &blk);
  ledger_header_t h;
  assert_int_equal(ledger_block_header_get(ve_buf_slice(&blk), &h), 0);
  assert_int_equal(h.height, 1);
  assert_int_equal(h.tx_count, 1);
  assert_int_not_equal(ledger_block_header_get(ve_slice(blk.ptr, 3), &h), 0);
  ve_buf_free(&blk);
  free_txs(txs, n);
  tchain_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_precheck_verdicts),
      cmocka_unit_test(test_bad_sig_in_the_middle),
      cmocka_unit_test(test_same_results),
      cmocka_unit_test(test_block_header_get),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
