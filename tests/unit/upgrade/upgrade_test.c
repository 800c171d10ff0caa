/* upgrade_test.c — protocol upgrades on a real chain (memory store, real blocks
 * through tchain): a decision approved by more than 2/3 of the power of the
 * set governing its block schedules protocol P from height A, which governs
 * from A on without a write and is settled by the next decision; decisions
 * replace and cancel a pending upgrade; too little power, bad signatures,
 * approvals for another decision, chain, P, A or set, heights and protocols
 * outside the rules are refused without a trace; the approving set is the one
 * governing the block after a validator-set change; the payload and meta
 * decoders are strict.
 *
 * Genesis set A: k0..k3 with powers 1, 2, 3, 6 (total 12, so 8 is exactly 2/3).
 * The tx is signed by k1 (an identity since genesis); its block is at
 * tchain_height + 1 when it executes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "apps/upgrade/upgrade.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "codec/codec.h"
#include "state/state.h"
#include "tchain.h"

#define CHAIN "veche-upg-1"
#define NKEYS 5

static const ledger_registry_t REG = {&identity_auth, {&valset_app, &upgrade_app, &identity_app}, 3, NULL};

static tchain_t g_c;
static vcrypto_keypair_t g_k[NKEYS]; /* k0..k3 genesis validators, k4 a joiner */
static vcrypto_keypair_t g_admin;     /* genesis needs an authority */
static cons_valset_t g_a;            /* the genesis set */

static const uint64_t GENESIS_POWER[4] = {1, 2, 3, 6};
/* UPGRADE_PROTOCOL_MAX is UINT32_MAX, an unsigned int: adding 1 to it as it
 * is wraps to 0. */
#define PROTOCOL_ABOVE_MAX ((uint64_t)UPGRADE_PROTOCOL_MAX + 1)

/* ---- fixture ---- */

static int setup(void **state) {
  (void)state;
  tchain_init(&g_c, CHAIN, &REG);
  for (int i = 0; i < NKEYS; i++) tchain_key(&g_k[i], NULL, (uint8_t)(70 + i), 1);
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
  tchain_key(&g_admin, NULL, 69, 1);
  tchain_authority(&g_c, "admin", &g_admin, ROLE_ADMIN);
  tchain_open(&g_c, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&g_c);
  return 0;
}

/* B: k0 leaves, k4 joins; total 15. */
static void set_b(cons_valset_t *s) {
  static const int keys[4] = {1, 2, 3, 4};
  static const uint64_t powers[4] = {2, 3, 6, 4};
  memset(s, 0, sizeof *s);
  s->count = 4;
  for (int i = 0; i < 4; i++) {
    memcpy(s->v[i].pk, g_k[keys[i]].pk, VCRYPTO_PK_BYTES);
    s->v[i].power = powers[i];
  }
  assert_int_equal(cons_valset_check(s), 0);
}

static const vcrypto_keypair_t *key_of(const uint8_t pk[VCRYPTO_PK_BYTES]) {
  for (int i = 0; i < NKEYS; i++)
    if (!memcmp(g_k[i].pk, pk, VCRYPTO_PK_BYTES)) return &g_k[i];
  fail_msg("no key for a validator");
  return NULL;
}

/* What the approvals of a decision sign, apart from the approvers. */
typedef struct {
  const char *chain;
  uint64_t decision;
  uint64_t protocol, from;
  const cons_valset_t *set;
} signed_t;

/* The decision (P, A) approved by the validators at idx[] in the set s.set,
 * each signing s (which may differ from (P, A) to forge a mismatch). */
static void decision_signed(upgrade_decision_t *d, uint64_t p, uint64_t a, const signed_t *s, const uint32_t *idx,
                            size_t n) {
  memset(d, 0, sizeof *d);
  d->protocol = p;
  d->from = a;
  d->n_approvals = (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    d->approvals[i].index = idx[i];
    upgrade_approval_sign(d->approvals[i].sig, key_of(s->set->v[idx[i]].pk), s->chain, s->decision, s->protocol,
                          s->from, s->set);
  }
}

/* The honest decision number `decision`: (P, A) approved by idx[] of set. */
static void decision_make(upgrade_decision_t *d, const cons_valset_t *set, uint64_t decision, uint64_t p, uint64_t a,
                          const uint32_t *idx, size_t n) {
  signed_t s = {CHAIN, decision, p, a, set};
  decision_signed(d, p, a, &s, idx, n);
}

/* All of set's validators approve. */
static void decision_all(upgrade_decision_t *d, const cons_valset_t *set, uint64_t decision, uint64_t p, uint64_t a) {
  uint32_t idx[VE_VALIDATORS_MAX];
  for (uint32_t i = 0; i < set->count; i++) idx[i] = i;
  decision_make(d, set, decision, p, a, idx, set->count);
}

static void payload_of(ve_buf_t *p, const upgrade_decision_t *d) {
  ve_buf_init(p, UPGRADE_PAYLOAD_BYTES_MAX);
  assert_int_equal(upgrade_decision_encode(p, d), 0);
}

static int32_t run_payload(ve_slice_t payload) {
  return tchain_run1(&g_c, &g_k[1], TX_TYPE_PROTOCOL_UPGRADE, payload);
}

static int32_t run_decision(const upgrade_decision_t *d) {
  ve_buf_t p;
  payload_of(&p, d);
  int32_t rc = run_payload(ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

/* The decision (P, A) approved by all of A for decision number `decision`, run
 * in its own block. */
static int32_t run_all(uint64_t decision, uint64_t p, uint64_t a) {
  upgrade_decision_t *d = malloc(sizeof *d);
  assert_non_null(d);
  decision_all(d, &g_a, decision, p, a);
  int32_t rc = run_decision(d);
  free(d);
  return rc;
}

/* (P, A) with A's indices and signatures of zeros: the rules on P and A are
 * checked before any approval, so such a decision gets their verdict. */
static int32_t run_unsigned(uint64_t p, uint64_t a) {
  upgrade_decision_t *d = malloc(sizeof *d);
  assert_non_null(d);
  decision_all(d, &g_a, 1, p, a);
  for (uint32_t i = 0; i < d->n_approvals; i++) memset(d->approvals[i].sig, 0, VCRYPTO_SIG_BYTES);
  int32_t rc = run_decision(d);
  free(d);
  return rc;
}

static void empty_blocks_to(uint64_t height) {
  while (tchain_height(&g_c) < height) tchain_commit(&g_c, NULL, 0, NULL);
}

/* ---- reading the committed state ----
 * Each reader ends its transaction before asserting anything, so that a failed
 * assertion leaves no transaction open for the teardown to trip over. */

static store_txn_t *rtxn(void) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  return t;
}

static upgrade_meta_t meta_now(void) {
  store_txn_t *t = rtxn();
  upgrade_meta_t m;
  int rc = upgrade_meta_get(t, &m);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  return m;
}

static void assert_meta(uint64_t decisions, uint64_t active, uint64_t pending_protocol, uint64_t pending_from) {
  upgrade_meta_t m = meta_now();
  assert_int_equal(m.decisions, decisions);
  assert_int_equal(m.active, active);
  assert_int_equal(m.pending_protocol, pending_protocol);
  assert_int_equal(m.pending_from, pending_from);
}

/* Nothing a refused decision could have written is there. */
static void assert_no_meta(void) {
  store_txn_t *t = rtxn();
  ve_slice_t v;
  int rc = state_get(t, ve_slice(UPGRADE_META_KEY, strlen(UPGRADE_META_KEY)), &v);
  store_txn_abort(t);
  assert_int_equal(rc, VE_ERR_NOT_FOUND);
  assert_meta(0, 1, 0, 0);
}

/* The protocol governing `height` (above the tip), from the committed meta and
 * from the execution of a block at that height: both must agree. */
static uint64_t protocol_at(uint64_t height) {
  store_txn_t *t = rtxn();
  upgrade_meta_t m;
  int rc = upgrade_meta_get(t, &m);
  ledger_exec_t *ex = NULL;
  uint64_t in_exec = 0;
  int rc_exec = ledger_exec_begin(&ex, &REG, t, tchain_id(&g_c), height, 1);
  if (rc_exec == 0) rc_exec = upgrade_protocol_exec(ex, &in_exec);
  if (ex) ledger_exec_free(ex);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  assert_int_equal(rc_exec, 0);
  assert_int_equal(in_exec, upgrade_protocol_at(&m, height));
  return in_exec;
}

/* ---- tests ---- */

static void test_absent_meta(void **state) {
  (void)state;
  assert_no_meta();
  assert_int_equal(protocol_at(1), 1);
  assert_int_equal(protocol_at(UPGRADE_HEIGHT_MAX), 1);
  /* Its own type range, next to valset's; no genesis state for a chain that
   * starts at protocol 1 (assert_no_meta above), so chains from before this
   * app replay identically. */
  assert_string_equal(upgrade_app.name, "upgrade");
  assert_int_equal(upgrade_app.type_lo, TX_TYPE_PROTOCOL_UPGRADE);
  assert_int_equal(upgrade_app.type_hi, 0x002f);
  assert_true(upgrade_app.type_lo > valset_app.type_hi);
  /* Another type of the range is not a decision. */
  assert_int_equal(tchain_run1(&g_c, &g_k[1], TX_TYPE_PROTOCOL_UPGRADE + 1, ve_slice("", 0)), VE_ERR_UNKNOWN_TYPE);
  assert_no_meta();
}

/* A genesis naming protocol 2 starts the chain under it: the meta is written
 * at genesis (decisions 0, active 2), the next decision is decision 1, and
 * protocol 2 is not an upgrade of itself. The same genesis at protocol 1
 * (setup's) wrote nothing: that is test_absent_meta. */
static void test_genesis_names_protocol(void **state) {
  (void)state;
  teardown(NULL);
  tchain_init(&g_c, CHAIN, &REG);
  g_c.validator = g_k[0];
  g_c.g.n_validators = 4;
  for (int i = 0; i < 4; i++) {
    snprintf(g_c.g.validators[i].name, sizeof g_c.g.validators[i].name, "v%d", i);
    memcpy(g_c.g.validators[i].pk, g_k[i].pk, VCRYPTO_PK_BYTES);
    g_c.g.validators[i].power = GENESIS_POWER[i];
  }
  tchain_authority(&g_c, "admin", &g_admin, ROLE_ADMIN);
  g_c.g.protocol = 2;
  tchain_open(&g_c, NULL);
  assert_meta(0, 2, 0, 0);
  assert_int_equal(protocol_at(1), 2);
  assert_int_equal(run_all(1, 2, 10), VE_ERR_INVALID);
  assert_int_equal(run_all(1, 3, 10), 0);
  assert_meta(1, 2, 3, 10);
}

static void test_schedule_then_governs_from_its_height(void **state) {
  (void)state;
  empty_blocks_to(2);
  uint64_t h = 3, a = h + 5;
  assert_int_equal(run_all(1, 2, a), 0);
  assert_int_equal(tchain_height(&g_c), h);
  assert_meta(1, 1, 2, a);
  for (uint64_t x = h + 1; x < a; x++) assert_int_equal(protocol_at(x), 1);
  assert_int_equal(protocol_at(a), 2);
  assert_int_equal(protocol_at(a + 1), 2);
  assert_int_equal(protocol_at(UPGRADE_HEIGHT_MAX), 2);
  /* Passing A writes nothing: the meta is as the decision left it. */
  empty_blocks_to(a + 1);
  assert_meta(1, 1, 2, a);
  assert_int_equal(protocol_at(a + 2), 2);
}

static void test_quorum_is_more_than_two_thirds_of_power(void **state) {
  (void)state;
  upgrade_decision_t *d = malloc(sizeof *d);
  /* k1 + k3: 8 of 12, exactly 2/3. */
  decision_make(d, &g_a, 1, 2, 100, (const uint32_t[]){1, 3}, 2);
  assert_int_equal(run_decision(d), VE_ERR_QUORUM);
  /* Three validators of four, but only 6 of 12. */
  decision_make(d, &g_a, 1, 2, 100, (const uint32_t[]){0, 1, 2}, 3);
  assert_int_equal(run_decision(d), VE_ERR_QUORUM);
  assert_no_meta();
  /* k2 + k3: 9 of 12, just above. */
  decision_make(d, &g_a, 1, 2, 100, (const uint32_t[]){2, 3}, 2);
  assert_int_equal(run_decision(d), 0);
  assert_meta(1, 1, 2, 100);
  free(d);
}

static void test_index_out_of_range_refused(void **state) {
  (void)state;
  upgrade_decision_t *d = malloc(sizeof *d);
  /* 2, 3 already hold 9 of 12; index 4 is past the 4-validator set. */
  decision_make(d, &g_a, 1, 2, 100, (const uint32_t[]){2, 3}, 2);
  d->approvals[2].index = 4;
  upgrade_approval_sign(d->approvals[2].sig, &g_k[4], CHAIN, 1, 2, 100, &g_a);
  d->n_approvals = 3;
  assert_int_equal(run_decision(d), VE_ERR_INVALID);
  d->approvals[2].index = VE_VALIDATORS_MAX - 1; /* the largest the decoder takes */
  assert_int_equal(run_decision(d), VE_ERR_INVALID);
  assert_no_meta();
  free(d);
}

static void test_bad_signature_refused(void **state) {
  (void)state;
  upgrade_decision_t *d = malloc(sizeof *d);
  const uint32_t idx[3] = {0, 2, 3};
  decision_make(d, &g_a, 1, 2, 100, idx, 3);
  d->approvals[1].sig[5] ^= 1;
  assert_int_equal(run_decision(d), VE_ERR_BAD_SIG);
  /* A good signature by another validator than the one at its index. */
  decision_make(d, &g_a, 1, 2, 100, idx, 3);
  memcpy(d->approvals[0].sig, d->approvals[1].sig, VCRYPTO_SIG_BYTES);
  assert_int_equal(run_decision(d), VE_ERR_BAD_SIG);
  assert_no_meta();
  decision_make(d, &g_a, 1, 2, 100, idx, 3);
  assert_int_equal(run_decision(d), 0);
  free(d);
}

/* One approver (k3, with the most power) signs something else than what is
 * decided: each field of the message matters. */
static void test_approval_for_something_else_refused(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b);
  const signed_t other[] = {
      {CHAIN, 2, 2, 100, &g_a},         /* the next decision but one */
      {CHAIN, 0, 2, 100, &g_a},         /* the decision number as it stands */
      {CHAIN, 1, 3, 100, &g_a},         /* another protocol */
      {CHAIN, 1, 2, 101, &g_a},         /* another height */
      {"veche-other", 1, 2, 100, &g_a}, /* another chain */
      {CHAIN, 1, 2, 100, &b},           /* another set's hash (k3 is in B too) */
  };
  upgrade_decision_t *d = malloc(sizeof *d);
  const uint32_t idx[3] = {0, 2, 3};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
    decision_make(d, &g_a, 1, 2, 100, idx, 3);
    upgrade_approval_sign(d->approvals[2].sig, &g_k[3], other[i].chain, other[i].decision, other[i].protocol,
                          other[i].from, other[i].set);
    assert_int_equal(run_decision(d), VE_ERR_BAD_SIG);
  }
  assert_no_meta();
  decision_make(d, &g_a, 1, 2, 100, idx, 3);
  assert_int_equal(run_decision(d), 0);
  assert_meta(1, 1, 2, 100);
  free(d);
}

/* An approval is for one decision: once a decision applied, its payload does
 * not apply again, though its P and A still follow the rules. */
static void test_decision_not_replayable(void **state) {
  (void)state;
  upgrade_decision_t *d = malloc(sizeof *d);
  decision_all(d, &g_a, 1, 2, 100);
  ve_buf_t p;
  payload_of(&p, d);
  assert_int_equal(run_payload(ve_buf_slice(&p)), 0);
  assert_meta(1, 1, 2, 100);
  assert_int_equal(run_payload(ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  assert_meta(1, 1, 2, 100);
  /* The same (P, A) approved afresh, for decision 2, is a replacement. */
  decision_all(d, &g_a, 2, 2, 100);
  assert_int_equal(run_decision(d), 0);
  assert_meta(2, 1, 2, 100);
  assert_int_equal(run_payload(ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  ve_buf_free(&p);
  free(d);
}

/* The height of the block the next run_* executes in. */
static uint64_t next_height(void) { return tchain_height(&g_c) + 1; }

static void test_height_bounds(void **state) {
  (void)state;
  empty_blocks_to(9);
  assert_int_equal(run_all(1, 2, 0), VE_ERR_INVALID);
  assert_int_equal(run_all(1, 2, 5), VE_ERR_INVALID);
  assert_int_equal(run_all(1, 2, next_height()), VE_ERR_INVALID);
  assert_int_equal(run_all(1, 2, next_height() + UPGRADE_DELAY_MIN - 1), VE_ERR_INVALID);
  assert_int_equal(run_all(1, 2, UPGRADE_HEIGHT_MAX + 1), VE_ERR_INVALID);
  assert_int_equal(run_all(1, 2, UINT64_MAX), VE_ERR_INVALID);
  assert_int_equal(run_unsigned(2, UPGRADE_HEIGHT_MAX + 1), VE_ERR_INVALID);
  assert_int_equal(run_unsigned(2, next_height() + 1), VE_ERR_INVALID);
  assert_int_equal(run_unsigned(2, next_height() + 2), VE_ERR_BAD_SIG);
  assert_no_meta();
  uint64_t h = next_height();
  assert_int_equal(UPGRADE_DELAY_MIN, 2);
  assert_int_equal(run_all(1, 2, h + 2), 0);
  assert_meta(1, 1, 2, h + 2);
  /* The largest height, as a replacement. */
  assert_int_equal(run_all(2, 2, UPGRADE_HEIGHT_MAX), 0);
  assert_meta(2, 1, 2, UPGRADE_HEIGHT_MAX);
}

static void test_protocol_bounds(void **state) {
  (void)state;
  /* Nothing pending: P must be above the active 1. */
  assert_int_equal(run_all(1, 1, 100), VE_ERR_INVALID);
  assert_int_equal(run_all(1, 0, 100), VE_ERR_INVALID);
  assert_int_equal(run_all(1, PROTOCOL_ABOVE_MAX, 100), VE_ERR_INVALID);
  assert_int_equal(run_all(1, UINT64_MAX, 100), VE_ERR_INVALID);
  assert_int_equal(run_unsigned(PROTOCOL_ABOVE_MAX, 100), VE_ERR_INVALID);
  assert_int_equal(run_unsigned(1, 100), VE_ERR_INVALID);
  assert_int_equal(run_unsigned(UPGRADE_PROTOCOL_MAX, 100), VE_ERR_BAD_SIG);
  assert_no_meta();
  assert_int_equal(run_all(1, UPGRADE_PROTOCOL_MAX, 100), 0);
  assert_meta(1, 1, UPGRADE_PROTOCOL_MAX, 100);
}

static void test_replace_and_cancel(void **state) {
  (void)state;
  assert_int_equal(run_all(1, 2, 100), 0);
  assert_meta(1, 1, 2, 100);
  /* Replaced by P = 3 at another height: P = 2 never governs. */
  assert_int_equal(run_all(2, 3, 50), 0);
  assert_meta(2, 1, 3, 50);
  assert_int_equal(protocol_at(49), 1);
  assert_int_equal(protocol_at(50), 3);
  assert_int_equal(protocol_at(100), 3);
  /* Below the active protocol is no replacement. */
  assert_int_equal(run_all(3, 0, 60), VE_ERR_INVALID);
  assert_meta(2, 1, 3, 50);
  /* P == active cancels (A must still follow the rules). */
  assert_int_equal(run_all(3, 1, 1), VE_ERR_INVALID);
  assert_int_equal(run_all(3, 1, 60), 0);
  assert_meta(3, 1, 0, 0);
  assert_int_equal(protocol_at(50), 1);
  assert_int_equal(protocol_at(UPGRADE_HEIGHT_MAX), 1);
  /* With nothing pending there is nothing to cancel. */
  assert_int_equal(run_all(4, 1, 60), VE_ERR_INVALID);
  assert_meta(3, 1, 0, 0);
  /* And scheduling again works. */
  assert_int_equal(run_all(4, 2, 60), 0);
  assert_meta(4, 1, 2, 60);
}

/* Unlike set changes, several decisions may share a block (the protocol of the
 * next heights is read after the whole block): each counts, in block order. */
static void test_decisions_in_one_block(void **state) {
  (void)state;
  upgrade_decision_t *d = malloc(sizeof *d);
  const uint64_t num[3] = {1, 2, 2}, p[3] = {2, 3, 4};
  ve_buf_t pay[3], txs[3];
  for (int i = 0; i < 3; i++) {
    decision_all(d, &g_a, num[i], p[i], 50);
    payload_of(&pay[i], d);
    ve_buf_init(&txs[i], 0);
    tchain_tx(&g_c, &txs[i], &g_k[1], TX_TYPE_PROTOCOL_UPGRADE, ve_buf_slice(&pay[i]));
  }
  int32_t res[3];
  tchain_commit(&g_c, txs, 3, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  assert_int_equal(res[2], VE_ERR_BAD_SIG); /* decision 2 is taken: this one needed 3 */
  assert_meta(2, 1, 3, 50);
  for (int i = 0; i < 3; i++) {
    ve_buf_free(&pay[i]);
    ve_buf_free(&txs[i]);
  }
  free(d);
}

/* The pending upgrade is still pending in block A - 1 (it can be cancelled)
 * and is the active protocol in block A (a decision settles it first). */
static void test_settled_at_its_height(void **state) {
  (void)state;
  empty_blocks_to(2);
  uint64_t a = 3 + UPGRADE_DELAY_MIN; /* scheduled in block 3 */
  assert_int_equal(run_all(1, 2, a), 0);
  assert_meta(1, 1, 2, a);
  /* Block A - 1: still pending, so P = 1 cancels it. */
  assert_int_equal(run_all(2, 1, a + 1), 0);
  assert_int_equal(tchain_height(&g_c), a - 1);
  assert_meta(2, 1, 0, 0);
  /* Scheduled again, in block A, for A2 = A + 2. */
  uint64_t a2 = a + UPGRADE_DELAY_MIN;
  assert_int_equal(run_all(3, 2, a2), 0);
  assert_int_equal(tchain_height(&g_c), a);
  assert_meta(3, 1, 2, a2);
  empty_blocks_to(a2 - 1);
  /* Block A2: settled, so active is 2 and P = 2 is no upgrade... */
  assert_int_equal(protocol_at(a2), 2);
  assert_int_equal(run_all(4, 2, a2 + 10), VE_ERR_INVALID);
  assert_int_equal(tchain_height(&g_c), a2);
  assert_meta(3, 1, 2, a2); /* a refused decision writes nothing, not even the settling */
  /* ...nor P = 1 a cancellation (nothing is pending once settled). */
  assert_int_equal(run_all(4, 1, a2 + 10), VE_ERR_INVALID);
  /* P = 3 is, and the meta records the settled active. */
  uint64_t h = next_height();
  assert_int_equal(run_all(4, 3, h + 5), 0);
  assert_meta(4, 2, 3, h + 5);
  assert_int_equal(protocol_at(h + 4), 2);
  assert_int_equal(protocol_at(h + 5), 3);
  /* Now P = 2 is the active protocol: it cancels. */
  assert_int_equal(run_all(5, 2, h + 5), 0);
  assert_meta(5, 2, 0, 0);
  assert_int_equal(protocol_at(h + 5), 2);
}

/* The approving set is the one governing the executing block: after a change
 * A -> B in block 3, A approves in block 4, B from block 5. */
static void test_approved_by_governing_set(void **state) {
  (void)state;
  cons_valset_t b;
  set_b(&b);
  valset_change_t *ch = malloc(sizeof *ch);
  memset(ch, 0, sizeof *ch);
  ch->set = b;
  ch->n_approvals = 4;
  for (uint32_t i = 0; i < 4; i++) {
    ch->approvals[i].index = i;
    valset_approval_sign(ch->approvals[i].sig, &g_k[i], CHAIN, 1, &g_a, &b);
  }
  ve_buf_t p;
  ve_buf_init(&p, VALSET_PAYLOAD_BYTES_MAX);
  assert_int_equal(valset_change_encode(&p, ch), 0);
  empty_blocks_to(2);
  assert_int_equal(tchain_run1(&g_c, &g_k[1], TX_TYPE_VALSET_CHANGE, ve_buf_slice(&p)), 0); /* B from 5 */
  ve_buf_free(&p);
  free(ch);

  /* Block 4: B is the latest set but A governs. */
  upgrade_decision_t *d = malloc(sizeof *d);
  ve_buf_t pay[2], txs[2];
  decision_all(d, &b, 1, 2, 100);
  payload_of(&pay[0], d);
  decision_all(d, &g_a, 1, 2, 100);
  payload_of(&pay[1], d);
  for (int i = 0; i < 2; i++) {
    ve_buf_init(&txs[i], 0);
    tchain_tx(&g_c, &txs[i], &g_k[1], TX_TYPE_PROTOCOL_UPGRADE, ve_buf_slice(&pay[i]));
  }
  int32_t res[2];
  tchain_commit(&g_c, txs, 2, res);
  assert_int_equal(tchain_height(&g_c), 4);
  assert_int_equal(res[0], VE_ERR_BAD_SIG);
  assert_int_equal(res[1], 0);
  assert_meta(1, 1, 2, 100);
  for (int i = 0; i < 2; i++) {
    ve_buf_free(&pay[i]);
    ve_buf_free(&txs[i]);
  }

  /* Block 5 on: B governs, by B's powers (k3 + k4: 10 of 15, exactly 2/3). */
  decision_all(d, &g_a, 2, 3, 100);
  assert_int_equal(run_decision(d), VE_ERR_BAD_SIG);
  decision_make(d, &b, 2, 3, 100, (const uint32_t[]){2, 3}, 2);
  assert_int_equal(run_decision(d), VE_ERR_QUORUM);
  assert_meta(1, 1, 2, 100);
  decision_make(d, &b, 2, 3, 100, (const uint32_t[]){0, 2, 3}, 3);
  assert_int_equal(run_decision(d), 0);
  assert_meta(2, 1, 3, 100);
  free(d);
}

/* ---- encodings ---- */

/* A payload written field by field, so that any index list can be made. */
static void raw_payload(ve_buf_t *out, uint8_t version, uint64_t p, uint64_t a, const uint64_t *idx, size_t n) {
  ve_buf_init(out, 0);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, version);
  codec_put_uvarint(&w, p);
  codec_put_uvarint(&w, a);
  codec_put_uvarint(&w, n);
  for (size_t i = 0; i < n; i++) {
    uint8_t sig[VCRYPTO_SIG_BYTES];
    memset(sig, (int)(0x30 + i), sizeof sig);
    codec_put_uvarint(&w, idx[i]);
    codec_put_fixed(&w, sig, sizeof sig);
  }
  assert_int_equal(codec_writer_finish(&w), 0);
}

/* Decodes a raw payload; an accepted one must re-encode to its bytes. */
static int decode_raw(uint8_t version, const uint64_t *idx, size_t n) {
  static upgrade_decision_t d;
  ve_buf_t p, again;
  raw_payload(&p, version, 2, 300, idx, n);
  int rc = upgrade_decision_decode(ve_buf_slice(&p), &d);
  ve_buf_init(&again, 0);
  bool same = rc != 0 || upgrade_decision_encode(&again, &d) == 0;
  same = same && (rc != 0 || ve_slice_eq(ve_buf_slice(&again), ve_buf_slice(&p)));
  ve_buf_free(&p);
  ve_buf_free(&again);
  assert_true(same);
  return rc;
}

static void test_decision_codec(void **state) {
  (void)state;
  upgrade_decision_t *d = malloc(sizeof *d), *back = malloc(sizeof *back);
  decision_make(d, &g_a, 1, 2, 300, (const uint32_t[]){0, 2, 3}, 3);
  ve_buf_t p, again;
  payload_of(&p, d);
  /* The layout: version, P, A, count, (index, signature)... */
  assert_int_equal(p.len, 1 + 1 + 2 + 1 + 3 * (1 + 64));
  assert_memory_equal(p.ptr, "\x01\x02\xac\x02\x03\x00", 6);
  assert_memory_equal(p.ptr + 6, d->approvals[0].sig, 64);
  assert_int_equal(p.ptr[6 + 64], 2);
  assert_int_equal(p.ptr[6 + 2 * 65 - 1], 3);
  /* Round trip. */
  assert_int_equal(upgrade_decision_decode(ve_buf_slice(&p), back), 0);
  assert_int_equal(back->protocol, 2);
  assert_int_equal(back->from, 300);
  assert_int_equal(back->n_approvals, 3);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(back->approvals[i].index, d->approvals[i].index);
    assert_memory_equal(back->approvals[i].sig, d->approvals[i].sig, 64);
  }
  ve_buf_init(&again, 0);
  assert_int_equal(upgrade_decision_encode(&again, back), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&again), ve_buf_slice(&p)));
  /* Trailing byte, truncated signature, wrong version. */
  assert_int_equal(ve_buf_append(&p, "\0", 1), 0);
  assert_int_equal(upgrade_decision_decode(ve_buf_slice(&p), back), VE_ERR_TRAILING);
  assert_int_equal(upgrade_decision_decode(ve_slice(p.ptr, p.len - 2), back), VE_ERR_MALFORMED);
  p.ptr[0] = 2;
  assert_int_equal(upgrade_decision_decode(ve_slice(p.ptr, p.len - 1), back), VE_ERR_VERSION);
  /* Executing a refused payload gives the decoder's code. */
  assert_int_equal(run_payload(ve_slice(p.ptr, p.len - 1)), VE_ERR_VERSION);
  p.ptr[0] = 1;
  assert_int_equal(run_payload(ve_buf_slice(&p)), VE_ERR_TRAILING);
  assert_no_meta();
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
  assert_int_equal(decode_raw(0, (const uint64_t[]){0}, 1), VE_ERR_VERSION);
  assert_int_equal(decode_raw(2, (const uint64_t[]){0}, 1), VE_ERR_VERSION);
  /* P and A are any uvarints to the decoder (execution judges them), up to the
   * largest payload. */
  ve_buf_t big;
  raw_payload(&big, 1, UINT64_MAX, UINT64_MAX, many, VE_VALIDATORS_MAX);
  assert_true(big.len <= UPGRADE_PAYLOAD_BYTES_MAX);
  assert_int_equal(upgrade_decision_decode(ve_buf_slice(&big), back), 0);
  assert_int_equal(back->protocol, UINT64_MAX);
  ve_buf_free(&big);
  /* The encoder refuses what the decoder would. */
  ve_buf_reset(&again);
  back->approvals[1].index = back->approvals[0].index;
  assert_int_equal(upgrade_decision_encode(&again, back), VE_ERR_INVALID);
  back->approvals[1].index = 1;
  back->approvals[0].index = 2;
  assert_int_equal(upgrade_decision_encode(&again, back), VE_ERR_INVALID);
  back->n_approvals = 0;
  assert_int_equal(upgrade_decision_encode(&again, back), VE_ERR_INVALID);
  back->n_approvals = VE_VALIDATORS_MAX + 1;
  assert_int_equal(upgrade_decision_encode(&again, back), VE_ERR_INVALID);
  back->n_approvals = 1;
  back->approvals[0].index = VE_VALIDATORS_MAX;
  assert_int_equal(upgrade_decision_encode(&again, back), VE_ERR_INVALID);
  assert_int_equal(again.len, 0);
  ve_buf_free(&p);
  ve_buf_free(&again);
  free(d);
  free(back);
}

static void test_approval_msg(void **state) {
  (void)state;
  /* u8 len || chain || be64 decision || be64 P || be64 A || H_set. */
  uint8_t hs[32], msg[UPGRADE_APPROVAL_MSG_BYTES_MAX];
  memset(hs, 0xc1, 32);
  size_t n = upgrade_approval_msg(msg, "ab", 258, 3, 0x0102030405, hs);
  assert_int_equal(n, 1 + 2 + 3 * 8 + 32);
  assert_memory_equal(msg,
                      "\x02"
                      "ab"
                      "\0\0\0\0\0\0\x01\x02"
                      "\0\0\0\0\0\0\0\x03"
                      "\0\0\0\x01\x02\x03\x04\x05",
                      27);
  assert_memory_equal(msg + 27, hs, 32);
  /* The longest chain id fills the bound. */
  char longest[VE_CHAIN_ID_BYTES_MAX + 1];
  memset(longest, 'c', VE_CHAIN_ID_BYTES_MAX);
  longest[VE_CHAIN_ID_BYTES_MAX] = 0;
  assert_int_equal(upgrade_approval_msg(msg, longest, 1, 2, 3, hs), UPGRADE_APPROVAL_MSG_BYTES_MAX);
  /* Signing is over that message under the approval tag. */
  uint8_t sig[64];
  upgrade_approval_sign(sig, &g_k[2], CHAIN, 7, 2, 300, &g_a);
  cons_valset_hash(hs, &g_a);
  n = upgrade_approval_msg(msg, CHAIN, 7, 2, 300, hs);
  assert_int_equal(vcrypto_verify(sig, g_k[2].pk, UPGRADE_TAG_APPROVAL, msg, n), 0);
  assert_int_equal(vcrypto_verify(sig, g_k[2].pk, VALSET_TAG_APPROVAL, msg, n), VE_ERR_BAD_SIG);
}

static int meta_decode_raw(uint8_t version, uint64_t decisions, uint64_t active, uint64_t pp, uint64_t pf) {
  ve_buf_t b;
  ve_buf_init(&b, 0);
  codec_writer_t w;
  codec_writer_init(&w, &b);
  codec_put_u8(&w, version);
  const uint64_t f[4] = {decisions, active, pp, pf};
  for (int i = 0; i < 4; i++) codec_put_uvarint(&w, f[i]);
  assert_int_equal(codec_writer_finish(&w), 0);
  upgrade_meta_t m;
  int rc = upgrade_meta_decode(ve_buf_slice(&b), &m);
  /* The encoder agrees with the decoder, and accepted bytes round-trip. */
  upgrade_meta_t want = {decisions, active, pp, pf};
  ve_buf_t again;
  ve_buf_init(&again, 0);
  int rc_enc = upgrade_meta_encode(&again, &want);
  bool same = ve_slice_eq(ve_buf_slice(&again), ve_buf_slice(&b));
  ve_buf_free(&b);
  ve_buf_free(&again);
  if (version == 1) {
    assert_int_equal(rc_enc, rc);
    assert_true(rc != 0 || same);
  }
  if (rc == 0) assert_memory_equal(&m, &want, sizeof m);
  return rc;
}

static void test_meta_codec(void **state) {
  (void)state;
  /* 01 | uvarint decisions | active | pending_protocol | pending_from. */
  ve_buf_t b;
  ve_buf_init(&b, 0);
  upgrade_meta_t m = {.decisions = 3, .active = 2, .pending_protocol = 5, .pending_from = 300}, back;
  assert_int_equal(upgrade_meta_encode(&b, &m), 0);
  assert_int_equal(b.len, 6);
  assert_memory_equal(b.ptr, "\x01\x03\x02\x05\xac\x02", 6);
  assert_int_equal(upgrade_meta_decode(ve_buf_slice(&b), &back), 0);
  assert_memory_equal(&back, &m, sizeof m);
  assert_int_equal(upgrade_meta_decode(ve_slice("\x02\x03\x02\x05\xac\x02", 6), &back), VE_ERR_VERSION);
  assert_int_equal(upgrade_meta_decode(ve_slice("\x01\x03\x02\x05\xac\x02\x00", 7), &back), VE_ERR_TRAILING);
  assert_int_equal(upgrade_meta_decode(ve_slice("\x01\x03\x02\x05\xac", 5), &back), VE_ERR_MALFORMED);
  assert_int_equal(upgrade_meta_decode(ve_slice("\x01\x83\x00\x02\x05\x05", 6), &back), VE_ERR_NONCANONICAL);
  ve_buf_free(&b);

  /* Consistent metas. */
  assert_int_equal(meta_decode_raw(1, 0, 1, 0, 0), 0); /* the absent meta, written out */
  assert_int_equal(meta_decode_raw(1, 1, 1, 0, 0), 0); /* after a cancellation */
  assert_int_equal(meta_decode_raw(1, 1, 1, 2, 3), 0);
  assert_int_equal(meta_decode_raw(1, UINT64_MAX, UPGRADE_PROTOCOL_MAX - 1, UPGRADE_PROTOCOL_MAX, UPGRADE_HEIGHT_MAX),
                   0);
  assert_int_equal(meta_decode_raw(1, 5, UPGRADE_PROTOCOL_MAX, 0, 0), 0);
  /* Inconsistent ones. */
  assert_int_equal(meta_decode_raw(1, 1, 1, 0, 10), VE_ERR_INVALID);  /* a height without a protocol */
  assert_int_equal(meta_decode_raw(1, 1, 1, 3, 0), VE_ERR_INVALID);   /* a protocol without a height */
  assert_int_equal(meta_decode_raw(1, 1, 0, 0, 0), VE_ERR_INVALID);   /* no active protocol */
  assert_int_equal(meta_decode_raw(1, 1, 0, 3, 10), VE_ERR_INVALID);
  assert_int_equal(meta_decode_raw(1, 2, 3, 3, 10), VE_ERR_INVALID);  /* pending not above active */
  assert_int_equal(meta_decode_raw(1, 2, 3, 2, 10), VE_ERR_INVALID);
  assert_int_equal(meta_decode_raw(1, 1, PROTOCOL_ABOVE_MAX, 0, 0), VE_ERR_INVALID);
  assert_int_equal(meta_decode_raw(1, 1, 1, PROTOCOL_ABOVE_MAX, 10), VE_ERR_INVALID);
  assert_int_equal(meta_decode_raw(1, 1, 1, 2, UPGRADE_HEIGHT_MAX + 1), VE_ERR_INVALID);
  assert_int_equal(meta_decode_raw(1, 0, 2, 0, 0), 0);                /* a genesis that names protocol 2 */
  assert_int_equal(meta_decode_raw(1, 0, 1, 2, 10), VE_ERR_INVALID);  /* scheduled before any decision */
  assert_int_equal(meta_decode_raw(1, 0, 2, 3, 10), VE_ERR_INVALID);
  assert_int_equal(meta_decode_raw(0, 1, 1, 0, 0), VE_ERR_VERSION);
}

/* A stored meta that fails the decoder is corrupt state, to every reader. */
static void test_corrupt_meta(void **state) {
  (void)state;
  store_txn_t *t = rtxn();
  ledger_exec_t *ex = NULL;
  uint64_t p = 0;
  int rc = ledger_exec_begin(&ex, &REG, t, tchain_id(&g_c), 1, 1);
  int rc_put = -1, rc_read = -1, rc_good = -1;
  if (rc == 0) {
    ve_slice_t key = ve_slice(UPGRADE_META_KEY, strlen(UPGRADE_META_KEY));
    rc_put = ledger_state_put(ex, key, ve_slice("\x01\x01\x01\x00\x0a", 5));
    rc_read = upgrade_protocol_exec(ex, &p);
    if (ledger_state_put(ex, key, ve_slice("\x01\x01\x01\x02\x01", 5)) == 0) rc_good = upgrade_protocol_exec(ex, &p);
    ledger_exec_free(ex);
  }
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  assert_int_equal(rc_put, 0);
  assert_int_equal(rc_read, VE_ERR_CORRUPT);
  assert_int_equal(rc_good, 0);
  assert_int_equal(p, 2); /* height 1 >= pending_from 1 */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_absent_meta, setup, teardown),
      cmocka_unit_test_setup_teardown(test_genesis_names_protocol, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schedule_then_governs_from_its_height, setup, teardown),
      cmocka_unit_test_setup_teardown(test_quorum_is_more_than_two_thirds_of_power, setup, teardown),
      cmocka_unit_test_setup_teardown(test_index_out_of_range_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_signature_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approval_for_something_else_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_decision_not_replayable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_height_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_protocol_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replace_and_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_decisions_in_one_block, setup, teardown),
      cmocka_unit_test_setup_teardown(test_settled_at_its_height, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approved_by_governing_set, setup, teardown),
      cmocka_unit_test_setup_teardown(test_decision_codec, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approval_msg, setup, teardown),
      cmocka_unit_test_setup_teardown(test_meta_codec, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_meta, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
