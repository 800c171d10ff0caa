/* mempool_test.c — admission, every rejection reason, reap order and limits,
 * commits and expiry, the rejected cache and the signature cache.
 *
 * Each rejection test feeds the one bad input that should produce its reason
 * and checks the code returned, that the tx is not pending, and that the
 * rejected cache remembers it with the same code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "fixture.h"

/* Admits tx and checks it was refused with code, everywhere it shows. */
static void expect_reject(fx_t *f, ve_slice_t tx, int code) {
  uint8_t id[LEDGER_HASH_BYTES], want[LEDGER_HASH_BYTES];
  size_t before = mempool_size(f->mp);
  assert_int_equal(fx_admit(f, tx, id), code);
  ledger_tx_id(want, tx);
  assert_memory_equal(id, want, LEDGER_HASH_BYTES);
  assert_false(mempool_has(f->mp, id));
  int got = 0;
  assert_true(mempool_rejected(f->mp, id, &got));
  assert_int_equal(got, code);
  assert_int_equal(mempool_size(f->mp), before);
}

static void expect_admit(fx_t *f, ve_slice_t tx) {
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(fx_admit(f, tx, id), 0);
  assert_true(mempool_has(f->mp, id));
  assert_false(mempool_rejected(f->mp, id, NULL));
}

/* ---- admission -------------------------------------------------------------- */

static void test_admit_good(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  fx_register(&f, &tx, &f.root, 1, 100);
  uint8_t id[LEDGER_HASH_BYTES], want[LEDGER_HASH_BYTES];
  assert_int_equal(fx_admit(&f, ve_buf_slice(&tx), id), 0);
  ledger_tx_id(want, ve_buf_slice(&tx));
  assert_memory_equal(id, want, LEDGER_HASH_BYTES);
  assert_true(mempool_has(f.mp, id));
  assert_false(mempool_rejected(f.mp, id, NULL));
  assert_int_equal(mempool_size(f.mp), 1);
  assert_int_equal(mempool_bytes(f.mp), tx.len);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.admitted_total, 1);
  assert_int_equal(st.rejected_total, 0);
  /* The pool keeps its own copy. */
  memset(tx.ptr, 0, tx.len);
  mempool_batch_t b;
  assert_int_equal(mempool_reap(f.mp, 10, VE_BLOCK_BYTES_MAX, &b), 0);
  assert_int_equal(b.n, 1);
  assert_memory_equal(b.ids[0], want, LEDGER_HASH_BYTES);
  ledger_tx_id(id, b.txs[0]);
  assert_memory_equal(id, want, LEDGER_HASH_BYTES);
  mempool_batch_free(&b);
  ve_buf_free(&tx);
  fx_free(&f);
}

static void test_reject_size_and_decoding(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  uint8_t *big = calloc(VE_TX_BYTES_MAX + 1, 1);
  assert_non_null(big);
  expect_reject(&f, ve_slice(big, VE_TX_BYTES_MAX + 1), VE_ERR_TOO_BIG);
  free(big);
  expect_reject(&f, ve_slice("", 0), VE_ERR_MALFORMED);

  ve_buf_t tx, bad;
  ve_buf_init(&tx, 0);
  ve_buf_init(&bad, 0);
  fx_register(&f, &tx, &f.root, 1, 100);
  expect_reject(&f, ve_slice(tx.ptr, tx.len - 1), VE_ERR_MALFORMED); /* truncated */
  assert_int_equal(ve_buf_append(&bad, tx.ptr, tx.len), 0);
  assert_int_equal(ve_buf_append(&bad, "x", 1), 0);
  expect_reject(&f, ve_buf_slice(&bad), VE_ERR_TRAILING);
  ve_buf_reset(&bad);
  assert_int_equal(ve_buf_append(&bad, tx.ptr, tx.len), 0);
  bad.ptr[0] = LEDGER_TX_VERSION + 1;
  expect_reject(&f, ve_buf_slice(&bad), VE_ERR_VERSION);
  /* seq = 1 sits after version, chain id length and chain id, and the signer;
   * 0x81 0x00 is a non-minimal encoding of the same value. */
  size_t at = 1 + 1 + strlen(FX_CHAIN) + VCRYPTO_PK_BYTES;
  assert_int_equal(tx.ptr[at], 1);
  ve_buf_reset(&bad);
  assert_int_equal(ve_buf_append(&bad, tx.ptr, at), 0);
  assert_int_equal(ve_buf_append(&bad, "\x81\x00", 2), 0);
  assert_int_equal(ve_buf_append(&bad, tx.ptr + at + 1, tx.len - at - 1), 0);
  expect_reject(&f, ve_buf_slice(&bad), VE_ERR_NONCANONICAL);
  /* The untouched tx still goes in. */
  expect_admit(&f, ve_buf_slice(&tx));
  ve_buf_free(&tx);
  ve_buf_free(&bad);
  fx_free(&f);
}

static void test_reject_chain_expiry_type(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  ve_buf_t p, tx;
  ve_buf_init(&p, 0);
  ve_buf_init(&tx, 0);
  /* One block so that the next height is 2 and expiry 1 is in the past. */
  fx_register(&f, &tx, &f.clerk, 1, 500);
  ve_slice_t first = ve_buf_slice(&tx);
  fx_commit(&f, &first, 1, NULL);
  uint64_t h = fx_next_height(&f);
  assert_int_equal(h, 2);
  vcrypto_keypair_t kp;
  fx_key(&kp, 100);
  uint8_t digest[LEDGER_HASH_BYTES] = {1};
  assert_int_equal(identity_payload_register(&p, kp.pk, digest, NULL, 0), 0);
  ve_slice_t pl = ve_buf_slice(&p);

  fx_tx(&tx, &f.root, "another-chain", 1, h + 10, TX_TYPE_IDENTITY_REGISTER, pl);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_WRONG_CHAIN);
  fx_tx(&tx, &f.root, NULL, 1, h - 1, TX_TYPE_IDENTITY_REGISTER, pl);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_EXPIRED);
  fx_tx(&tx, &f.root, NULL, 1, h + VE_TX_EXPIRY_WINDOW_BLOCKS + 1, TX_TYPE_IDENTITY_REGISTER, pl);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_EXPIRED);
  fx_tx(&tx, &f.root, NULL, 1, h + 10, 0x0901, pl); /* no app owns 0x09xx */
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_UNKNOWN_TYPE);
  /* Both ends of the expiry window are accepted. */
  fx_tx(&tx, &f.root, NULL, 1, h, TX_TYPE_IDENTITY_REGISTER, pl);
  expect_admit(&f, ve_buf_slice(&tx));
  fx_tx(&tx, &f.root, NULL, 2, h + VE_TX_EXPIRY_WINDOW_BLOCKS, TX_TYPE_IDENTITY_REGISTER, pl);
  expect_admit(&f, ve_buf_slice(&tx));
  ve_buf_free(&p);
  ve_buf_free(&tx);
  fx_free(&f);
}

static void test_reject_bad_signature(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  fx_register(&f, &tx, &f.root, 1, 100);
  tx.ptr[tx.len - 1] ^= 0x01; /* last byte of the signature */
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_BAD_SIG);
  tx.ptr[tx.len - 1] ^= 0x01;
  tx.ptr[tx.len - VCRYPTO_SIG_BYTES - 1] ^= 0x01; /* last byte of the payload (signed) */
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_BAD_SIG);
  tx.ptr[tx.len - VCRYPTO_SIG_BYTES - 1] ^= 0x01;
  expect_admit(&f, ve_buf_slice(&tx));
  ve_buf_free(&tx);
  fx_free(&f);
}

/* Registers citizens 100 (then suspended), 101 (then revoked) and 102 (stays a
 * role-less citizen) with root's seqs 1..5, in two committed blocks. */
static void make_citizens(fx_t *f, ve_buf_t committed[5]) {
  vcrypto_keypair_t c100, c101;
  fx_key(&c100, 100);
  fx_key(&c101, 101);
  for (int i = 0; i < 5; i++) ve_buf_init(&committed[i], 0);
  fx_register(f, &committed[0], &f->root, 1, 100);
  fx_register(f, &committed[1], &f->root, 2, 101);
  fx_register(f, &committed[2], &f->root, 3, 102);
  ve_slice_t s[3] = {ve_buf_slice(&committed[0]), ve_buf_slice(&committed[1]),
                     ve_buf_slice(&committed[2])};
  int32_t res[3];
  fx_commit(f, s, 3, res);
  for (int i = 0; i < 3; i++) assert_int_equal(res[i], 0);
  fx_status(f, &committed[3], &f->root, 4, TX_TYPE_IDENTITY_SUSPEND, c100.pk);
  fx_status(f, &committed[4], &f->root, 5, TX_TYPE_IDENTITY_REVOKE, c101.pk);
  s[0] = ve_buf_slice(&committed[3]);
  s[1] = ve_buf_slice(&committed[4]);
  fx_commit(f, s, 2, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
}

static void test_reject_signer_seq_permission(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  ve_buf_t committed[5], tx;
  make_citizens(&f, committed);
  ve_buf_init(&tx, 0);
  vcrypto_keypair_t c100, c101, c102, stranger;
  fx_key(&c100, 100);
  fx_key(&c101, 101);
  fx_key(&c102, 102);
  fx_key(&stranger, 999);

  fx_register(&f, &tx, &stranger, 1, 200);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_UNKNOWN_SIGNER);
  fx_register(&f, &tx, &c100, 1, 200);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_SUSPENDED);
  fx_register(&f, &tx, &c101, 1, 200);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_REVOKED);
  /* An active identity without the registrar role registering someone. */
  fx_register(&f, &tx, &c102, 1, 200);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_PERMISSION);
  /* root's committed seq is 5. */
  fx_register(&f, &tx, &f.root, 5, 200);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_STALE_SEQ);
  fx_register(&f, &tx, &f.root, 3, 201);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_STALE_SEQ);
  /* Any other application failure surfaces from the dry run: key 102 exists. */
  fx_register(&f, &tx, &f.root, 6, 102);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_EXISTS);
  /* Same seq as a pending tx of the same signer (a different tx). */
  fx_register(&f, &tx, &f.root, 6, 200);
  expect_admit(&f, ve_buf_slice(&tx));
  fx_register(&f, &tx, &f.root, 6, 201);
  expect_reject(&f, ve_buf_slice(&tx), VE_ERR_STALE_SEQ);
  /* Another signer may use the same seq. */
  fx_register(&f, &tx, &f.clerk, 6, 201);
  expect_admit(&f, ve_buf_slice(&tx));
  /* Nothing of the dry runs reached the state: 200 is still unregistered. */
  store_txn_t *t;
  identity_t rec;
  vcrypto_keypair_t k200;
  fx_key(&k200, 200);
  assert_int_equal(store_txn_begin(f.store, false, &t), 0);
  assert_int_equal(identity_get_by_key(t, k200.pk, &rec, &(bool){0}), VE_ERR_NOT_FOUND);
  store_txn_abort(t);
  for (int i = 0; i < 5; i++) ve_buf_free(&committed[i]);
  ve_buf_free(&tx);
  fx_free(&f);
}

static void test_reject_duplicate(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  ve_buf_t a, b;
  ve_buf_init(&a, 0);
  ve_buf_init(&b, 0);
  fx_register(&f, &a, &f.root, 1, 100);
  fx_register(&f, &b, &f.root, 2, 101);
  expect_admit(&f, ve_buf_slice(&a));
  /* Pending: the same bytes again. The earlier admission is not forgotten. */
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(fx_admit(&f, ve_buf_slice(&a), id), VE_ERR_DUPLICATE);
  assert_true(mempool_has(f.mp, id));
  assert_int_equal(mempool_size(f.mp), 1);
  /* Committed: a is in a block and gone from the pool; b was committed behind
   * the pool's back (another validator's block) and was never pending. */
  ve_slice_t s[2] = {ve_buf_slice(&a), ve_buf_slice(&b)};
  fx_commit(&f, s, 2, NULL);
  assert_int_equal(mempool_size(f.mp), 0);
  expect_reject(&f, ve_buf_slice(&a), VE_ERR_DUPLICATE);
  expect_reject(&f, ve_buf_slice(&b), VE_ERR_DUPLICATE);
  ve_buf_free(&a);
  ve_buf_free(&b);
  fx_free(&f);
}

static void test_full_by_count(void **state) {
  (void)state;
  fx_t f;
  mempool_config_t cfg = {.txs_max = 3};
  fx_init(&f, &cfg);
  ve_buf_t tx[4];
  uint8_t id0[LEDGER_HASH_BYTES];
  for (int i = 0; i < 4; i++) {
    ve_buf_init(&tx[i], 0);
    fx_register(&f, &tx[i], &f.root, (uint64_t)i + 1, 100 + (uint32_t)i);
  }
  for (int i = 0; i < 3; i++) expect_admit(&f, ve_buf_slice(&tx[i]));
  expect_reject(&f, ve_buf_slice(&tx[3]), VE_ERR_FULL);
  /* Room again once a committed tx leaves; the refusal is then forgotten. */
  ledger_tx_id(id0, ve_buf_slice(&tx[0]));
  mempool_on_commit(f.mp, (const uint8_t(*)[LEDGER_HASH_BYTES])id0, 1, fx_next_height(&f));
  assert_int_equal(mempool_size(f.mp), 2);
  expect_admit(&f, ve_buf_slice(&tx[3]));
  assert_int_equal(mempool_size(f.mp), 3);
  for (int i = 0; i < 4; i++) ve_buf_free(&tx[i]);
  fx_free(&f);
}

static void test_full_by_bytes(void **state) {
  (void)state;
  fx_t f;
  ve_buf_t tx[3];
  for (int i = 0; i < 3; i++) ve_buf_init(&tx[i], 0);
  fx_init(&f, NULL);
  fx_register(&f, &tx[0], &f.root, 1, 100);
  size_t len = tx[0].len;
  fx_free(&f);
  mempool_config_t cfg = {.bytes_max = 2 * len + len / 2};
  fx_init(&f, &cfg);
  for (int i = 0; i < 3; i++) fx_register(&f, &tx[i], &f.root, (uint64_t)i + 1, 100 + (uint32_t)i);
  assert_int_equal(tx[2].len, len);
  expect_admit(&f, ve_buf_slice(&tx[0]));
  expect_admit(&f, ve_buf_slice(&tx[1]));
  expect_reject(&f, ve_buf_slice(&tx[2]), VE_ERR_FULL);
  assert_int_equal(mempool_bytes(f.mp), 2 * len);
  for (int i = 0; i < 3; i++) ve_buf_free(&tx[i]);
  fx_free(&f);
}

/* ---- reap and commit -------------------------------------------------------- */

typedef struct {
  const vcrypto_keypair_t *who;
  uint64_t seq;
} sig_seq_t;

static void expect_batch(const mempool_batch_t *b, const sig_seq_t *want, size_t n) {
  assert_int_equal(b->n, n);
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    ledger_tx_t d;
    assert_int_equal(ledger_tx_decode(b->txs[i], &d), 0);
    assert_memory_equal(d.signer, want[i].who->pk, VCRYPTO_PK_BYTES);
    assert_int_equal(d.seq, want[i].seq);
    uint8_t id[LEDGER_HASH_BYTES];
    ledger_tx_id(id, b->txs[i]);
    assert_memory_equal(id, b->ids[i], LEDGER_HASH_BYTES);
    bytes += b->txs[i].len;
  }
  assert_int_equal(b->bytes, bytes);
}

static void test_reap_order_and_limits(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  const vcrypto_keypair_t *A = &f.root, *B = &f.clerk;
  /* Admission order: A5 B2 A3 A4 B1 (seqs arrive out of order, gaps allowed). */
  const sig_seq_t in[5] = {{A, 5}, {B, 2}, {A, 3}, {A, 4}, {B, 1}};
  ve_buf_t tx[5];
  for (uint32_t i = 0; i < 5; i++) {
    ve_buf_init(&tx[i], 0);
    fx_register(&f, &tx[i], in[i].who, in[i].seq, 100 + i);
    expect_admit(&f, ve_buf_slice(&tx[i]));
  }
  size_t len = tx[0].len;
  /* Slots keep admission order by signer (A B A A B); each signer's txs fill its
   * slots in increasing seq order. */
  const sig_seq_t out[5] = {{A, 3}, {B, 1}, {A, 4}, {A, 5}, {B, 2}};
  mempool_batch_t b;
  assert_int_equal(mempool_reap(f.mp, 2, VE_BLOCK_BYTES_MAX, &b), 0);
  expect_batch(&b, out, 2);
  mempool_batch_free(&b);
  assert_int_equal(mempool_reap(f.mp, 100, 3 * len - 1, &b), 0);
  expect_batch(&b, out, 2);
  mempool_batch_free(&b);
  assert_int_equal(mempool_reap(f.mp, 100, 3 * len, &b), 0);
  expect_batch(&b, out, 3);
  mempool_batch_free(&b);
  assert_int_equal(mempool_reap(f.mp, 100, 0, &b), 0);
  assert_int_equal(b.n, 0);
  mempool_batch_free(&b);
  assert_int_equal(mempool_reap(f.mp, 0, VE_BLOCK_BYTES_MAX, &b), 0);
  assert_int_equal(b.n, 0);
  mempool_batch_free(&b);
  /* Reaping removes nothing. */
  assert_int_equal(mempool_reap(f.mp, 100, VE_BLOCK_BYTES_MAX, &b), 0);
  expect_batch(&b, out, 5);
  assert_int_equal(mempool_size(f.mp), 5);
  /* The order is one the ledger accepts: every tx succeeds in a block. */
  int32_t res[5];
  fx_commit(&f, b.txs, b.n, res);
  for (int i = 0; i < 5; i++) assert_int_equal(res[i], 0);
  assert_int_equal(mempool_size(f.mp), 0);
  assert_int_equal(mempool_bytes(f.mp), 0);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.committed_total, 5);
  mempool_batch_free(&b);
  for (int i = 0; i < 5; i++) ve_buf_free(&tx[i]);
  fx_free(&f);
}

static void test_on_commit_and_expiry(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  uint64_t h = fx_next_height(&f);
  ve_buf_t p, tx[4];
  ve_buf_init(&p, 0);
  vcrypto_keypair_t kp;
  fx_key(&kp, 100);
  uint8_t digest[LEDGER_HASH_BYTES] = {1};
  assert_int_equal(identity_payload_register(&p, kp.pk, digest, NULL, 0), 0);
  const uint64_t expiry[4] = {h + 3, h, h + 10, h + 1};
  uint8_t ids[4][LEDGER_HASH_BYTES];
  for (int i = 0; i < 4; i++) {
    ve_buf_init(&tx[i], 0);
    fx_tx(&tx[i], &f.root, NULL, (uint64_t)i + 1, expiry[i], TX_TYPE_IDENTITY_REGISTER,
          ve_buf_slice(&p));
    assert_int_equal(fx_admit(&f, ve_buf_slice(&tx[i]), ids[i]), 0);
  }
  /* Next height h+2: expiries h and h+1 can no longer execute. */
  mempool_on_commit(f.mp, NULL, 0, h + 2);
  assert_int_equal(mempool_size(f.mp), 2);
  int code;
  for (int i = 1; i < 4; i += 2) {
    assert_false(mempool_has(f.mp, ids[i]));
    assert_true(mempool_rejected(f.mp, ids[i], &code));
    assert_int_equal(code, VE_ERR_EXPIRED);
  }
  assert_true(mempool_has(f.mp, ids[0]));
  assert_true(mempool_has(f.mp, ids[2]));
  /* A commit of ids[2], an expired id and an unknown one. */
  uint8_t commit[3][LEDGER_HASH_BYTES];
  memcpy(commit[0], ids[2], LEDGER_HASH_BYTES);
  memcpy(commit[1], ids[1], LEDGER_HASH_BYTES);
  memset(commit[2], 0xee, LEDGER_HASH_BYTES);
  mempool_on_commit(f.mp, (const uint8_t(*)[LEDGER_HASH_BYTES])commit, 3, h + 2);
  assert_int_equal(mempool_size(f.mp), 1);
  assert_true(mempool_has(f.mp, ids[0]));
  assert_int_equal(mempool_bytes(f.mp), tx[0].len);
  /* Expiry exactly at next height stays; one past goes. */
  mempool_on_commit(f.mp, NULL, 0, h + 3);
  assert_int_equal(mempool_size(f.mp), 1);
  mempool_on_commit(f.mp, NULL, 0, h + 4);
  assert_int_equal(mempool_size(f.mp), 0);
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.committed_total, 1);
  assert_int_equal(st.expired_total, 3);
  ve_buf_free(&p);
  for (int i = 0; i < 4; i++) ve_buf_free(&tx[i]);
  fx_free(&f);
}

/* ---- caches ------------------------------------------------------------------ */

static void test_rejected_cache_bounded(void **state) {
  (void)state;
  fx_t f;
  mempool_config_t cfg = {.rejected_cache_max = 4};
  fx_init(&f, &cfg);
  uint8_t ids[10][LEDGER_HASH_BYTES];
  int codes[10];
  for (int i = 0; i < 10; i++) {
    char junk[16];
    int n = snprintf(junk, sizeof junk, "junk-%d", i);
    codes[i] = fx_admit(&f, ve_slice(junk, (size_t)n), ids[i]);
    assert_true(codes[i] < 0);
  }
  int code;
  for (int i = 0; i < 6; i++) assert_false(mempool_rejected(f.mp, ids[i], &code));
  for (int i = 6; i < 10; i++) {
    assert_true(mempool_rejected(f.mp, ids[i], &code));
    assert_int_equal(code, codes[i]);
  }
  mempool_stats_t st;
  mempool_stats_get(f.mp, &st);
  assert_int_equal(st.rejected_cached, 4);
  assert_int_equal(st.rejected_total, 10);
  /* A repeated refusal updates the code in place and evicts nothing. */
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  fx_register(&f, &tx, &f.root, 1, 100);
  tx.ptr[tx.len - 1] ^= 1;
  uint8_t bad_id[LEDGER_HASH_BYTES];
  assert_int_equal(fx_admit(&f, ve_buf_slice(&tx), bad_id), VE_ERR_BAD_SIG);
  assert_false(mempool_rejected(f.mp, ids[6], NULL)); /* oldest of the four went */
  assert_int_equal(fx_admit(&f, ve_buf_slice(&tx), NULL), VE_ERR_BAD_SIG);
  assert_true(mempool_rejected(f.mp, ids[7], NULL));
  assert_true(mempool_rejected(f.mp, bad_id, &code));
  assert_int_equal(code, VE_ERR_BAD_SIG);
  ve_buf_free(&tx);
  fx_free(&f);
}

static void test_sig_cache(void **state) {
  (void)state;
  fx_t f;
  fx_init(&f, NULL);
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  fx_register(&f, &tx, &f.root, 1, 100);
  uint8_t id[LEDGER_HASH_BYTES], other[LEDGER_HASH_BYTES];
  ledger_tx_id(id, ve_buf_slice(&tx));
  memset(other, 0x42, sizeof other);
  assert_false(mempool_sig_checked(f.mp, id));
  assert_int_equal(fx_admit(&f, ve_buf_slice(&tx), NULL), 0);
  assert_true(mempool_sig_checked(f.mp, id));
  assert_false(mempool_sig_checked(f.mp, other));
  /* A refused tx is not vouched for. */
  ve_buf_t tx2;
  ve_buf_init(&tx2, 0);
  fx_register(&f, &tx2, &f.root, 2, 101);
  tx2.ptr[tx2.len - 1] ^= 1;
  uint8_t bad[LEDGER_HASH_BYTES];
  assert_int_equal(fx_admit(&f, ve_buf_slice(&tx2), bad), VE_ERR_BAD_SIG);
  assert_false(mempool_sig_checked(f.mp, bad));
  ve_buf_free(&tx2);
  /* Committed (validated with the cache), then no longer vouched for. */
  ve_slice_t s = ve_buf_slice(&tx);
  fx_commit(&f, &s, 1, NULL);
  assert_false(mempool_sig_checked(f.mp, id));
  ve_buf_free(&tx);
  fx_free(&f);
}

static void test_config(void **state) {
  (void)state;
  static const ledger_registry_t reg = {&identity_auth, {&identity_app}, 1, NULL};
  mempool_t *mp = NULL;
  mempool_config_t cfg = {.txs_max = MEMPOOL_TXS_MAX_LIMIT + 1};
  assert_int_equal(mempool_new(&cfg, &reg, &mp), VE_ERR_CONFIG);
  assert_null(mp);
  cfg = (mempool_config_t){.rejected_cache_max = MEMPOOL_REJECTED_CACHE_MAX_LIMIT + 1};
  assert_int_equal(mempool_new(&cfg, &reg, &mp), VE_ERR_CONFIG);
  assert_int_equal(mempool_new(NULL, &reg, &mp), 0);
  assert_int_equal(mempool_size(mp), 0);
  mempool_batch_t b;
  assert_int_equal(mempool_reap(mp, 10, 1000, &b), 0);
  assert_int_equal(b.n, 0);
  mempool_batch_free(&b);
  mempool_free(mp);
  mempool_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_admit_good),
      cmocka_unit_test(test_reject_size_and_decoding),
      cmocka_unit_test(test_reject_chain_expiry_type),
      cmocka_unit_test(test_reject_bad_signature),
      cmocka_unit_test(test_reject_signer_seq_permission),
      cmocka_unit_test(test_reject_duplicate),
      cmocka_unit_test(test_full_by_count),
      cmocka_unit_test(test_full_by_bytes),
      cmocka_unit_test(test_reap_order_and_limits),
      cmocka_unit_test(test_on_commit_and_expiry),
      cmocka_unit_test(test_rejected_cache_bounded),
      cmocka_unit_test(test_sig_cache),
      cmocka_unit_test(test_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
