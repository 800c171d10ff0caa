/* valset_test.c — validator-set changes on a real chain (memory store, real
 * blocks through tchain): a change approved by more than 2/3 of the current
 * power installs the new set two heights later and leaves one epoch record per
 * set, so the set governing every height can be read back; too little power,
 * bad or stale approvals, two changes in one block, no-op changes and
 * out-of-range indices are refused without a trace; the payload and record
 * decoders are strict; and the evidence app judges an equivocation by the set
 * that governed its height.
 *
 * Genesis set A: k0..k3 with powers 1, 2, 3, 6 (total 12, so 8 is exactly 2/3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/evidence/evidence.h"
#include "apps/identity/identity.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "codec/codec.h"
#include "consensus/cons_int.h"
#include "proof/proof.h"
#include "state/state.h"
#include "tchain.h"

#define CHAIN "veche-vs-1"
#define NKEYS 8

static const ledger_registry_t REG = {&identity_auth, {&valset_app, &evidence_app, &identity_app}, 3, NULL};

static tchain_t g_c;
static vcrypto_keypair_t g_k[NKEYS]; /* k0..k3 genesis validators, k4..k7 joiners */
static vcrypto_keypair_t g_admin;     /* genesis needs an authority */
static cons_valset_t g_a;            /* the genesis set */

static const uint64_t GENESIS_POWER[4] = {1, 2, 3, 6};

/* ---- fixture ---- */

static int setup(void **state) {
  (void)state;
  tchain_init(&g_c, CHAIN, &REG);
  for (int i = 0; i < NKEYS; i++) tchain_key(&g_k[i], NULL, (uint8_t)(60 + i), 1);
  g_c.validator = g_k[0]; /* proposes every block; tchain_open writes its key as validator 0 */
  g_c.g.n_validators = 4;
  memset(&g_a, 0, sizeof g_a);
  g_a.count = 4;
  for (int i = 0; i < 4; i++) {
    snprintf(g_c.g.validators[i].name, sizeof g_c.g.validators[i].name, "v%d", i);
    memcpy(g_c.g.validators[i].pk, g_k[i].pk, VCRYPTO_PK_BYTES);
    g_c.g.validators[i].power = GENESIS_POWER[i];
    memcpy(g_a.v[i].pk, g_k[i].pk, VCRYPTO_PK_BYTES);
    g_a.v[i].power = GENESIS_POWER[i];
  }
  tchain_key(&g_admin, NULL, 59, 1);
  tchain_authority(&g_c, "admin", &g_admin, ROLE_ADMIN);
  tchain_open(&g_c, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&g_c);
  return 0;
}

/* A set of n validators: keys g_k[keys[i]] with powers[i]. */
static void set_of(cons_valset_t *s, size_t n, const int *keys, const uint64_t *powers) {
  memset(s, 0, sizeof *s);
  s->count = (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    memcpy(s->v[i].pk, g_k[keys[i]].pk, VCRYPTO_PK_BYTES);
    s->v[i].power = powers[i];
  }
  assert_int_equal(cons_valset_check(s), 0);
}

/* B: k0 leaves, k4 joins; total 15. */
static void set_b(cons_valset_t *s) { set_of(s, 4, (const int[]){1, 2, 3, 4}, (const uint64_t[]){2, 3, 6, 4}); }
/* C: k0 back, k5 joins; total 14. */
static void set_c(cons_valset_t *s) { set_of(s, 3, (const int[]){0, 5, 3}, (const uint64_t[]){1, 7, 6}); }

static const vcrypto_keypair_t *key_of(const uint8_t pk[VCRYPTO_PK_BYTES]) {
  for (int i = 0; i < NKEYS; i++)
    if (!memcmp(g_k[i].pk, pk, VCRYPTO_PK_BYTES)) return &g_k[i];
  fail_msg("no key for a validator");
  return NULL;
}

/* The change cur -> next approved, for epoch next_epoch, by the validators at
 * idx[] in cur (each with its own key). */
static void change_make(valset_change_t *ch, const cons_valset_t *cur, const cons_valset_t *next, uint64_t next_epoch,
                        const uint32_t *idx, size_t n) {
  memset(ch, 0, sizeof *ch);
  ch->set = *next;
  ch->n_approvals = (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    ch->approvals[i].index = idx[i];
    valset_approval_sign(ch->approvals[i].sig, key_of(cur->v[idx[i]].pk), CHAIN, next_epoch, cur, next);
  }
}

/* All of cur's validators approve. */
static void change_all(valset_change_t *ch, const cons_valset_t *cur, const cons_valset_t *next, uint64_t next_epoch) {
  uint32_t idx[VE_VALIDATORS_MAX];
  for (uint32_t i = 0; i < cur->count; i++) idx[i] = i;
  change_make(ch, cur, next, next_epoch, idx, cur->count);
}

static void payload_of(ve_buf_t *p, const valset_change_t *ch) {
  ve_buf_init(p, VALSET_PAYLOAD_BYTES_MAX);
  assert_int_equal(valset_change_encode(p, ch), 0);
}

/* One VALSET_CHANGE (signed by k1, an identity since genesis) in its own block. */
static int32_t run_payload(ve_slice_t payload) {
  return tchain_run1(&g_c, &g_k[1], TX_TYPE_VALSET_CHANGE, payload);
}

static int32_t run_change(const valset_change_t *ch) {
  ve_buf_t p;
  payload_of(&p, ch);
  int32_t rc = run_payload(ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

static void empty_blocks_to(uint64_t height) {
  while (tchain_height(&g_c) < height) tchain_commit(&g_c, NULL, 0, NULL);
}

static void assert_set_eq(const cons_valset_t *a, const cons_valset_t *b) {
  uint8_t ha[32], hb[32];
  cons_valset_hash(ha, a);
  cons_valset_hash(hb, b);
  assert_memory_equal(ha, hb, 32);
}

/* ---- reading the committed state ----
 * Each reader ends its transaction before asserting anything, so that a failed
 * assertion leaves no transaction open for the teardown to trip over. */

static store_txn_t *rtxn(void) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  return t;
}

static void assert_meta(uint64_t epoch, uint64_t from_height) {
  store_txn_t *t = rtxn();
  valset_meta_t m;
  int rc = valset_meta_get(t, &m);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  assert_int_equal(m.epoch, epoch);
  assert_int_equal(m.from_height, from_height);
}

static void assert_latest(const cons_valset_t *want) {
  store_txn_t *t = rtxn();
  cons_valset_t got;
  int rc = valset_latest_get(t, &got);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  assert_set_eq(&got, want);
}

/* Epoch record k, decoded. */
static int record_get(uint64_t k, uint64_t *from, cons_valset_t *set) {
  store_txn_t *t = rtxn();
  uint8_t key[VALSET_EPOCH_KEY_BYTES];
  ve_slice_t v;
  int rc = state_get(t, ve_slice(key, valset_epoch_key(key, k)), &v);
  if (rc == 0) rc = valset_record_decode(v, from, set);
  store_txn_abort(t);
  return rc;
}

static void assert_record(uint64_t k, uint64_t from_height, const cons_valset_t *want) {
  uint64_t from;
  cons_valset_t got;
  assert_int_equal(record_get(k, &from, &got), 0);
  assert_int_equal(from, from_height);
  assert_set_eq(&got, want);
}

static void assert_no_record(uint64_t k) {
  uint64_t from;
  cons_valset_t got;
  assert_int_equal(record_get(k, &from, &got), VE_ERR_NOT_FOUND);
}

/* Nothing a refused change could have written is there: the genesis state. */
static void assert_untouched(void) {
  store_txn_t *t = rtxn();
  ve_slice_t v;
  int rc = state_get(t, ve_slice(VALSET_META_KEY, strlen(VALSET_META_KEY)), &v);
  store_txn_abort(t);
  assert_int_equal(rc, VE_ERR_NOT_FOUND);
  assert_no_record(0);
  assert_no_record(1);
  assert_latest(&g_a);
}

/* The set governing `height`, from the committed state and from a block's
 * execution overlay on it: both readers must give the same answer. Returns the
 * code; *out is the set when it is 0. */
static int governing(uint64_t height, cons_valset_t *out) {
  store_txn_t *t = rtxn();
  valset_meta_t which, latest;
  int rc = valset_governing(t, height, out, &which);
  assert_int_equal(valset_meta_get(t, &latest), 0);
  if (rc == 0) { /* the epoch that answered starts at or below height, and is the latest once that governs */
    assert_true(which.from_height >= 1 && which.from_height <= height && which.epoch <= latest.epoch);
    assert_true((height >= latest.from_height) == (which.epoch == latest.epoch));
  }
  ledger_tip_t tip;
  ledger_exec_t *ex = NULL;
  cons_valset_t in_exec;
  int rc_exec = ledger_tip_get(t, &tip);
  if (rc_exec == 0)
    rc_exec = ledger_exec_begin(&ex, &REG, t, tchain_id(&g_c), tip.height + 1, tip.last_time_ms + 1);
  if (rc_exec == 0) rc_exec = valset_governing_exec(ex, height, &in_exec);
  if (ex) ledger_exec_free(ex);
  store_txn_abort(t);
  assert_int_equal(rc_exec, rc);
  if (rc == 0) assert_set_eq(&in_exec, out);
  return rc;
}

static void assert_governs(uint64_t height, const cons_valset_t *want) {
  cons_valset_t got;
  assert_int_equal(governing(height, &got), 0);
  assert_set_eq(&got, want);
}

/* ---- tests ---- */

static void test_genesis_state(void **state) {
  (void)state;
  /* Byte for byte what the evidence app wrote at genesis before this app. */
  cons_valset_t vs;
  assert_int_equal(valset_from_genesis(&g_c.g, &vs), 0);
  ve_buf_t want;
  ve_buf_init(&want, 0);
  assert_int_equal(cons_valset_encode(&want, &vs), 0);
  store_txn_t *t = rtxn();
  ve_slice_t v;
  int rc = state_get(t, ve_slice("valset", 6), &v);
  bool same = rc == 0 && ve_slice_eq(v, ve_buf_slice(&want));
  store_txn_abort(t);
  ve_buf_free(&want);
  assert_int_equal(rc, 0);
  assert_true(same);
  assert_untouched();
  assert_meta(0, 1);
  assert_governs(1, &g_a);
  assert_governs(1000000, &g_a);
  assert_int_equal(governing(0, &vs), VE_ERR_NOT_FOUND);
  /* The two apps own disjoint type ranges, and only valset_app writes genesis state. */
  assert_int_equal(evidence_app.type_hi, 0x000f);
  assert_null(evidence_app.genesis);
  assert_int_equal(valset_app.type_lo, TX_TYPE_VALSET_CHANGE);
  assert_int_equal(valset_app.type_hi, 0x001f);
}

static void test_change_applies_and_governs(void **state) {
  (void)state;
  cons_valset_t b, c;
  set_b(&b);
  set_c(&c);
  valset_change_t *ch = malloc(sizeof *ch);
  empty_blocks_to(2);
  /* k0, k1, k3: power 9 of 12. */
  change_make(ch, &g_a, &b, 1, (const uint32_t[]){0, 1, 3}, 3);
  assert_int_equal(run_change(ch), 0); /* block 3 */
  assert_int_equal(tchain_height(&g_c), 3);
  assert_latest(&b);
  assert_meta(1, 5);
  assert_record(0, 1, &g_a);
  assert_record(1, 5, &b);
  assert_no_record(2);
  cons_valset_t got;
  assert_int_equal(governing(0, &got), VE_ERR_NOT_FOUND);
  for (uint64_t h = 1; h <= 4; h++) assert_governs(h, &g_a);
  for (uint64_t h = 5; h <= 9; h++) assert_governs(h, &b);

  empty_blocks_to(6);
  /* Approved by B now, for epoch 2: k1, k3, k4 hold 12 of 15. */
  change_make(ch, &b, &c, 2, (const uint32_t[]){0, 2, 3}, 3);
  assert_int_equal(run_change(ch), 0); /* block 7 */
  assert_latest(&c);
  assert_meta(2, 9);
  assert_record(0, 1, &g_a);
  assert_record(1, 5, &b);
  assert_record(2, 9, &c);
  assert_int_equal(governing(0, &got), VE_ERR_NOT_FOUND);
  for (uint64_t h = 1; h <= 4; h++) assert_governs(h, &g_a);
  for (uint64_t h = 5; h <= 8; h++) assert_governs(h, &b);
  for (uint64_t h = 9; h <= 12; h++) assert_governs(h, &c);
  free(ch);
}

/* Changes in consecutive blocks and after gaps, against a plain list of
 * (from_height, set): every height from 0 to past the tip is answered by the
 * last set starting at or below it. Exercises every path of the search. */
static void test_many_epochs(void **state) {
  (void)state;
  enum { CHANGES = 9 };
  static const uint64_t gaps[CHANGES] = {1, 1, 1, 3, 1, 5, 2, 1, 4}; /* blocks before each change block */
  cons_valset_t sets[CHANGES + 1];
  uint64_t from[CHANGES + 1];
  sets[0] = g_a;
  from[0] = 1;
  valset_change_t *ch = malloc(sizeof *ch);
  for (int i = 1; i <= CHANGES; i++) {
    int keys[4];
    uint64_t powers[4];
    for (int j = 0; j < 4; j++) {
      keys[j] = (i + j) % NKEYS;
      powers[j] = (uint64_t)(1 + (i * 3 + j) % 5);
    }
    set_of(&sets[i], 4, keys, powers);
    empty_blocks_to(tchain_height(&g_c) + gaps[i - 1] - 1);
    change_all(ch, &sets[i - 1], &sets[i], (uint64_t)i);
    assert_int_equal(run_change(ch), 0);
    from[i] = tchain_height(&g_c) + CONS_VALSET_DELAY;
    assert_meta((uint64_t)i, from[i]);
  }
  free(ch);
  for (int k = 0; k <= CHANGES; k++) assert_record((uint64_t)k, from[k], &sets[k]);
  cons_valset_t got;
  assert_int_equal(governing(0, &got), VE_ERR_NOT_FOUND);
  for (uint64_t h = 1; h <= tchain_height(&g_c) + 4; h++) {
    int k = CHANGES;
    while (from[k] > h) k--;
    assert_governs(h, &sets[k]);
  }
}

static void test_quorum_is_more_than_two_thirds_of_power(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b);
  valset_change_t *ch = malloc(sizeof *ch);
  /* k1 + k3 = 8 of 12: exactly 2/3, not more. */
  change_make(ch, &g_a, &b, 1, (const uint32_t[]){1, 3}, 2);
  assert_int_equal(run_change(ch), VE_ERR_QUORUM);
  /* Three of four validators, but only 6 of 12. */
  change_make(ch, &g_a, &b, 1, (const uint32_t[]){0, 1, 2}, 3);
  assert_int_equal(run_change(ch), VE_ERR_QUORUM);
  assert_untouched();
  /* Power counts, not heads: k2 + k3 = 9 of 12 suffices. */
  change_make(ch, &g_a, &b, 1, (const uint32_t[]){2, 3}, 2);
  assert_int_equal(run_change(ch), 0);
  assert_latest(&b);
  free(ch);
}

static void test_bad_approvals_refused(void **state) {
  (void)state;
  cons_valset_t b, c;
  set_b(&b);
  set_c(&c);
  valset_change_t *ch = malloc(sizeof *ch);
  const uint32_t idx[] = {1, 2, 3};
  /* A key outside the set signs in k1's place. */
  change_make(ch, &g_a, &b, 1, idx, 3);
  valset_approval_sign(ch->approvals[0].sig, &g_k[4], CHAIN, 1, &g_a, &b);
  assert_int_equal(run_change(ch), VE_ERR_BAD_SIG);
  /* A current validator signs for another index: k1's signature at k3's place. */
  change_make(ch, &g_a, &b, 1, idx, 3);
  valset_approval_sign(ch->approvals[2].sig, &g_k[1], CHAIN, 1, &g_a, &b);
  assert_int_equal(run_change(ch), VE_ERR_BAD_SIG);
  /* One flipped bit. */
  change_make(ch, &g_a, &b, 1, idx, 3);
  ch->approvals[1].sig[5] ^= 0x10;
  assert_int_equal(run_change(ch), VE_ERR_BAD_SIG);
  /* Signed for the wrong epoch, for another chain, for another new set. */
  change_make(ch, &g_a, &b, 2, idx, 3);
  assert_int_equal(run_change(ch), VE_ERR_BAD_SIG);
  change_make(ch, &g_a, &b, 1, idx, 3);
  valset_approval_sign(ch->approvals[2].sig, &g_k[3], "veche-other", 1, &g_a, &b);
  assert_int_equal(run_change(ch), VE_ERR_BAD_SIG);
  change_make(ch, &g_a, &b, 1, idx, 3);
  valset_approval_sign(ch->approvals[2].sig, &g_k[3], CHAIN, 1, &g_a, &c);
  assert_int_equal(run_change(ch), VE_ERR_BAD_SIG);
  assert_untouched();
  change_make(ch, &g_a, &b, 1, idx, 3);
  assert_int_equal(run_change(ch), 0);
  free(ch);
}

/* An approval is for one epoch: after A -> B -> A, the approvals of the first
 * A -> B no longer install B. */
static void test_approval_not_replayable_after_aba(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b);
  valset_change_t *first = malloc(sizeof *first), *ch = malloc(sizeof *ch);
  change_all(first, &g_a, &b, 1);
  assert_int_equal(run_change(first), 0);
  change_all(ch, &b, &g_a, 2);
  assert_int_equal(run_change(ch), 0);
  assert_latest(&g_a);
  uint64_t h = tchain_height(&g_c);
  assert_int_equal(run_change(first), VE_ERR_BAD_SIG);
  assert_meta(2, h + 2);
  assert_latest(&g_a);
  /* The same change, approved afresh for epoch 3, goes through. */
  change_all(ch, &g_a, &b, 3);
  assert_int_equal(run_change(ch), 0);
  assert_meta(3, tchain_height(&g_c) + 2);
  assert_record(2, h + 2, &g_a);
  assert_record(3, tchain_height(&g_c) + 2, &b);
  free(first);
  free(ch);
}

static void test_one_change_per_block(void **state) {
  (void)state;
  cons_valset_t b, c;
  set_b(&b);
  set_c(&c);
  valset_change_t *ch = malloc(sizeof *ch);
  ve_buf_t p[2], txs[2];
  change_all(ch, &g_a, &b, 1);
  payload_of(&p[0], ch);
  /* Correctly approved by B for epoch 2: only the block rule stops it. */
  change_all(ch, &b, &c, 2);
  payload_of(&p[1], ch);
  for (int i = 0; i < 2; i++) {
    ve_buf_init(&txs[i], 0);
    tchain_tx(&g_c, &txs[i], &g_k[1], TX_TYPE_VALSET_CHANGE, ve_buf_slice(&p[i]));
  }
  int32_t res[2];
  tchain_commit(&g_c, txs, 2, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], VE_ERR_STATE);
  uint64_t h = tchain_height(&g_c);
  assert_meta(1, h + 2);
  assert_latest(&b);
  assert_no_record(2);
  /* The next block may change the set again. */
  assert_int_equal(run_payload(ve_buf_slice(&p[1])), 0);
  assert_meta(2, h + 3);
  assert_latest(&c);
  assert_record(1, h + 2, &b);
  assert_record(2, h + 3, &c);
  for (int i = 0; i < 2; i++) {
    ve_buf_free(&p[i]);
    ve_buf_free(&txs[i]);
  }
  free(ch);
}

static void test_same_set_refused(void **state) {
  (void)state;
  valset_change_t *ch = malloc(sizeof *ch);
  change_all(ch, &g_a, &g_a, 1);
  assert_int_equal(run_change(ch), VE_ERR_INVALID);
  assert_untouched();
  /* Order is part of a set: the same validators reordered are a change. */
  cons_valset_t swapped = g_a;
  swapped.v[0] = g_a.v[1];
  swapped.v[1] = g_a.v[0];
  change_all(ch, &g_a, &swapped, 1);
  assert_int_equal(run_change(ch), 0);
  assert_latest(&swapped);
  free(ch);
}

static void test_index_out_of_range_refused(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b);
  valset_change_t *ch = malloc(sizeof *ch);
  /* 0, 1, 3 already hold 9 of 12; index 4 is past the 4-validator set. */
  change_make(ch, &g_a, &b, 1, (const uint32_t[]){0, 1, 3}, 3);
  ch->approvals[3].index = 4;
  valset_approval_sign(ch->approvals[3].sig, &g_k[4], CHAIN, 1, &g_a, &b);
  ch->n_approvals = 4;
  assert_int_equal(run_change(ch), VE_ERR_INVALID);
  ch->approvals[3].index = VE_VALIDATORS_MAX - 1; /* the largest the decoder takes */
  assert_int_equal(run_change(ch), VE_ERR_INVALID);
  assert_untouched();
  free(ch);
}

static void test_joiner_key_must_be_valid(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b);
  memset(b.v[3].pk, 0, VCRYPTO_PK_BYTES); /* a small-order point, in place of k4 */
  assert_int_equal(cons_valset_check(&b), 0);
  valset_change_t *ch = malloc(sizeof *ch);
  change_all(ch, &g_a, &b, 1);
  assert_int_equal(run_change(ch), VE_ERR_BAD_KEY);
  assert_untouched();
  free(ch);
}

/* ---- encodings ---- */

/* A payload written field by field, so that any index list can be made. */
static void raw_payload(ve_buf_t *out, uint8_t version, const cons_valset_t *set, const uint64_t *idx, size_t n) {
  ve_buf_t s;
  ve_buf_init(&s, 0);
  assert_int_equal(cons_valset_encode(&s, set), 0);
  ve_buf_init(out, 0);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, version);
  codec_put_bytes(&w, s.ptr, s.len, CONS_VALSET_BYTES_MAX);
  codec_put_uvarint(&w, n);
  for (size_t i = 0; i < n; i++) {
    uint8_t sig[VCRYPTO_SIG_BYTES];
    memset(sig, (int)(0x30 + i), sizeof sig);
    codec_put_uvarint(&w, idx[i]);
    codec_put_fixed(&w, sig, sizeof sig);
  }
  assert_int_equal(codec_writer_finish(&w), 0);
  ve_buf_free(&s);
}

static int decode_raw(uint8_t version, const uint64_t *idx, size_t n) {
  static valset_change_t ch;
  ve_buf_t p;
  raw_payload(&p, version, &g_a, idx, n);
  int rc = valset_change_decode(ve_buf_slice(&p), &ch);
  ve_buf_free(&p);
  return rc;
}

static void test_payload_codec(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b);
  valset_change_t *ch = malloc(sizeof *ch), *back = malloc(sizeof *back);
  change_make(ch, &g_a, &b, 1, (const uint32_t[]){0, 2, 3}, 3);
  ve_buf_t p, again;
  payload_of(&p, ch);
  /* The layout: version, set as bytes, count, (index, signature)... */
  ve_buf_t s;
  ve_buf_init(&s, 0);
  assert_int_equal(cons_valset_encode(&s, &b), 0);
  assert_int_equal(p.len, 1 + codec_uvarint_size(s.len) + s.len + 1 + 3 * (1 + 64));
  assert_int_equal(p.ptr[0], 1);
  assert_memory_equal(p.ptr + 1 + codec_uvarint_size(s.len), s.ptr, s.len);
  const uint8_t *tail = p.ptr + p.len - 3 * 65 - 1;
  assert_int_equal(tail[0], 3);
  assert_int_equal(tail[1], 0);
  assert_memory_equal(tail + 2, ch->approvals[0].sig, 64);
  assert_int_equal(tail[1 + 2 * 65], 3);
  /* Round trip. */
  assert_int_equal(valset_change_decode(ve_buf_slice(&p), back), 0);
  assert_int_equal(back->n_approvals, 3);
  assert_set_eq(&back->set, &b);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(back->approvals[i].index, ch->approvals[i].index);
    assert_memory_equal(back->approvals[i].sig, ch->approvals[i].sig, 64);
  }
  ve_buf_init(&again, 0);
  assert_int_equal(valset_change_encode(&again, back), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&again), ve_buf_slice(&p)));
  /* Trailing byte, truncated signature, wrong version. */
  assert_int_equal(ve_buf_append(&p, "\0", 1), 0);
  assert_int_equal(valset_change_decode(ve_buf_slice(&p), back), VE_ERR_TRAILING);
  assert_int_equal(valset_change_decode(ve_slice(p.ptr, p.len - 2), back), VE_ERR_MALFORMED);
  p.ptr[0] = 2;
  assert_int_equal(valset_change_decode(ve_slice(p.ptr, p.len - 1), back), VE_ERR_VERSION);
  /* Executing a refused payload gives the decoder's code. */
  assert_int_equal(run_payload(ve_slice(p.ptr, p.len - 1)), VE_ERR_VERSION);
  p.ptr[0] = 1;
  assert_int_equal(run_payload(ve_slice(p.ptr, p.len - 2)), VE_ERR_MALFORMED);
  assert_untouched();
  /* Index lists. */
  assert_int_equal(decode_raw(1, (const uint64_t[]){0, 1, 3}, 3), 0);
  assert_int_equal(decode_raw(1, (const uint64_t[]){1, 0, 3}, 3), VE_ERR_NONCANONICAL);
  assert_int_equal(decode_raw(1, (const uint64_t[]){0, 1, 1}, 3), VE_ERR_NONCANONICAL);
  assert_int_equal(decode_raw(1, NULL, 0), VE_ERR_INVALID);
  assert_int_equal(decode_raw(1, (const uint64_t[]){0, VE_VALIDATORS_MAX - 1}, 2), 0);
  assert_int_equal(decode_raw(1, (const uint64_t[]){0, VE_VALIDATORS_MAX}, 2), VE_ERR_TOO_BIG);
  uint64_t many[VE_VALIDATORS_MAX + 1];
  for (size_t i = 0; i <= VE_VALIDATORS_MAX; i++) many[i] = i;
  assert_int_equal(decode_raw(1, many, VE_VALIDATORS_MAX), 0);
  assert_int_equal(decode_raw(1, many, VE_VALIDATORS_MAX + 1), VE_ERR_TOO_BIG);
  /* A bad set inside (a zero power). */
  ve_buf_t bad;
  ve_buf_init(&bad, 0);
  codec_writer_t w;
  codec_writer_init(&w, &bad);
  codec_put_u8(&w, 1);
  uint8_t set0[1 + 1 + 32 + 1] = {1, 1};
  codec_put_bytes(&w, set0, sizeof set0, CONS_VALSET_BYTES_MAX);
  assert_int_equal(codec_writer_finish(&w), 0);
  assert_int_equal(valset_change_decode(ve_buf_slice(&bad), back), VE_ERR_INVALID);
  /* The encoder refuses what the decoder would. */
  ve_buf_reset(&again);
  back->approvals[1].index = back->approvals[0].index;
  assert_int_equal(valset_change_encode(&again, back), VE_ERR_INVALID);
  back->n_approvals = 0;
  assert_int_equal(valset_change_encode(&again, back), VE_ERR_INVALID);
  back->n_approvals = 1;
  back->approvals[0].index = VE_VALIDATORS_MAX;
  assert_int_equal(valset_change_encode(&again, back), VE_ERR_INVALID);
  assert_int_equal(again.len, 0);
  ve_buf_free(&bad);
  ve_buf_free(&s);
  ve_buf_free(&p);
  ve_buf_free(&again);
  free(ch);
  free(back);
}

static void test_records_and_keys(void **state) {
  (void)state;
  /* Epoch key: prefix || be64. */
  uint8_t key[VALSET_EPOCH_KEY_BYTES];
  assert_int_equal(valset_epoch_key(key, 0x0102030405060708ull), VALSET_EPOCH_KEY_BYTES);
  assert_memory_equal(key, "valset/e/\x01\x02\x03\x04\x05\x06\x07\x08", VALSET_EPOCH_KEY_BYTES);
  /* Approval message: u8 len || chain || be64 epoch || H_cur || H_new. */
  uint8_t hc[32], hn[32], msg[VALSET_APPROVAL_MSG_BYTES_MAX];
  memset(hc, 0xc1, 32);
  memset(hn, 0xd2, 32);
  size_t n = valset_approval_msg(msg, "ab", 258, hc, hn);
  assert_int_equal(n, 1 + 2 + 8 + 64);
  assert_memory_equal(msg, "\x02" "ab" "\0\0\0\0\0\0\x01\x02", 11);
  assert_memory_equal(msg + 11, hc, 32);
  assert_memory_equal(msg + 43, hn, 32);
  uint8_t sig[64];
  cons_valset_t b;
  set_b(&b);
  valset_approval_sign(sig, &g_k[2], CHAIN, 7, &g_a, &b);
  cons_valset_hash(hc, &g_a);
  cons_valset_hash(hn, &b);
  n = valset_approval_msg(msg, CHAIN, 7, hc, hn);
  assert_int_equal(vcrypto_verify(sig, g_k[2].pk, VALSET_TAG_APPROVAL, msg, n), 0);

  /* Meta: 01 | uvarint epoch | uvarint from_height. */
  ve_buf_t m;
  ve_buf_init(&m, 0);
  valset_meta_t meta = {.epoch = 3, .from_height = 300}, back;
  assert_int_equal(valset_meta_encode(&m, &meta), 0);
  assert_int_equal(m.len, 4);
  assert_memory_equal(m.ptr, "\x01\x03\xac\x02", 4);
  assert_int_equal(valset_meta_decode(ve_buf_slice(&m), &back), 0);
  assert_int_equal(back.epoch, 3);
  assert_int_equal(back.from_height, 300);
  assert_int_equal(valset_meta_decode(ve_slice("\x02\x03\xac\x02", 4), &back), VE_ERR_VERSION);
  assert_int_equal(valset_meta_decode(ve_slice("\x01\x03\xac\x02\x00", 5), &back), VE_ERR_TRAILING);
  assert_int_equal(valset_meta_decode(ve_slice("\x01\x03\xac", 3), &back), VE_ERR_MALFORMED);
  assert_int_equal(valset_meta_decode(ve_slice("\x01\x83\x00\x01", 4), &back), VE_ERR_NONCANONICAL);

  /* Record: 01 | uvarint from_height | bytes set. */
  ve_buf_t r, s;
  ve_buf_init(&r, 0);
  ve_buf_init(&s, 0);
  assert_int_equal(valset_record_encode(&r, 5, &b), 0);
  assert_int_equal(cons_valset_encode(&s, &b), 0);
  assert_int_equal(r.len, 2 + codec_uvarint_size(s.len) + s.len);
  assert_int_equal(r.ptr[0], 1);
  assert_int_equal(r.ptr[1], 5);
  assert_memory_equal(r.ptr + r.len - s.len, s.ptr, s.len);
  uint64_t from;
  cons_valset_t got;
  assert_int_equal(valset_record_decode(ve_buf_slice(&r), &from, &got), 0);
  assert_int_equal(from, 5);
  assert_set_eq(&got, &b);
  assert_int_equal(valset_record_decode(ve_slice(r.ptr, r.len - 1), &from, &got), VE_ERR_MALFORMED);
  assert_int_equal(ve_buf_append(&r, "\0", 1), 0);
  assert_int_equal(valset_record_decode(ve_buf_slice(&r), &from, &got), VE_ERR_TRAILING);
  r.ptr[0] = 0;
  assert_int_equal(valset_record_decode(ve_slice(r.ptr, r.len - 1), &from, &got), VE_ERR_VERSION);
  /* A set that is not canonical inside (its own version byte wrong). */
  r.ptr[0] = 1;
  r.ptr[r.len - 1 - s.len] ^= 0xff;
  assert_int_equal(valset_record_decode(ve_slice(r.ptr, r.len - 1), &from, &got), VE_ERR_VERSION);
  /* The encoder refuses an invalid set and writes nothing. */
  ve_buf_reset(&r);
  got = b;
  got.v[1] = got.v[0];
  assert_int_equal(valset_record_encode(&r, 5, &got), VE_ERR_DUPLICATE);
  assert_int_equal(r.len, 0);
  ve_buf_free(&m);
  ve_buf_free(&r);
  ve_buf_free(&s);
}

/* ---- the evidence app across a change ---- */

/* Two precommits by kp (at index `who` of the set it claims) for (height, 0). */
static int32_t submit_equivocation(const vcrypto_keypair_t *kp, uint32_t who, uint64_t height) {
  cons_vote_t a = {.height = height, .round = 0, .type = CONS_VOTE_PRECOMMIT, .index = who, .has_id = true};
  cons_vote_t b = a;
  memset(a.id, 0xaa, 32);
  memset(b.id, 0xbb, 32);
  cons_vote_sign(&a, kp, CHAIN);
  cons_vote_sign(&b, kp, CHAIN);
  ve_buf_t ev, p;
  ve_buf_init(&ev, 0);
  ve_buf_init(&p, 0);
  assert_int_equal(cons_evidence_vote_encode(&ev, kp->pk, &a, &b), 0);
  assert_int_equal(evidence_payload(&p, ve_buf_slice(&ev)), 0);
  int32_t rc = tchain_run1(&g_c, &g_k[1], TX_TYPE_EVIDENCE_SUBMIT, ve_buf_slice(&p));
  ve_buf_free(&ev);
  ve_buf_free(&p);
  return rc;
}

static void test_evidence_judged_by_governing_set(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b); /* k0 leaves, k4 joins */
  valset_change_t *ch = malloc(sizeof *ch);
  empty_blocks_to(2);
  change_all(ch, &g_a, &b, 1);
  assert_int_equal(run_change(ch), 0); /* block 3: B governs from 5 */
  free(ch);
  empty_blocks_to(6);
  /* k0 was a validator up to height 4 and is still accountable for it. */
  assert_int_equal(submit_equivocation(&g_k[0], 0, 2), 0);
  assert_int_equal(submit_equivocation(&g_k[0], 0, 4), 0);
  /* k4 was not a validator before 5: nothing it signed then is evidence. */
  assert_int_equal(submit_equivocation(&g_k[4], 3, 2), VE_ERR_PROOF);
  assert_int_equal(submit_equivocation(&g_k[4], 3, 4), VE_ERR_PROOF);
  /* From 5 the other way round. */
  assert_int_equal(submit_equivocation(&g_k[4], 3, 5), 0);
  assert_int_equal(submit_equivocation(&g_k[0], 0, 5), VE_ERR_PROOF);
  /* A validator in both sets, before and after. */
  assert_int_equal(submit_equivocation(&g_k[3], 3, 3), 0);
  assert_int_equal(submit_equivocation(&g_k[3], 2, 6), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_genesis_state, setup, teardown),
      cmocka_unit_test_setup_teardown(test_change_applies_and_governs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_epochs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_quorum_is_more_than_two_thirds_of_power, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_approvals_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approval_not_replayable_after_aba, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_change_per_block, setup, teardown),
      cmocka_unit_test_setup_teardown(test_same_set_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_index_out_of_range_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_joiner_key_must_be_valid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_payload_codec, setup, teardown),
      cmocka_unit_test_setup_teardown(test_records_and_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evidence_judged_by_governing_set, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
