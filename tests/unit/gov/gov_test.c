/* gov_test.c — the council (src/apps/gov) on a real memory-store chain driven
 * through real blocks (tchain), with the apps a node runs beside it: from
 * protocol 2 an admin acts only through a proposal that k of n council
 * members approve; the approval reaching k runs the action as the proposer
 * holding the admin role only, and a failing action leaves no trace of the
 * approval; objections above n - k reject; votes after the deadline (block
 * time) or under a newer council are refused; validators holding more than
 * 2/3 of the power appoint the next council; under protocol 1 the app does
 * not exist, and a chain upgraded to 2 has no council until one is appointed;
 * the codec is strict.
 *
 * The main chain (setup): genesis protocol 2, one validator (tchain's key,
 * all the power), authorities A, B, C (admin: the council, n = 3, k = 2,
 * epoch 1), REG (registrar), RGL (pharma regulator). X is a citizen REG
 * registers in setup; Y and D are keys registered by tests that need them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "apps/pharma/pharma.h"
#include "apps/upgrade/upgrade.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "codec/codec.h"
#include "state/state.h"
#include "tchain.h"

#define CHAIN "veche-gov-1"

static const ledger_registry_t REG = {
    &identity_auth, {&valset_app, &upgrade_app, &identity_app, &gov_app, &pharma_app}, 5, upgrade_protocol_exec};

static tchain_t g_c;
enum { KA, KB, KC, KREG, KRGL, KX, KY, KD, NKEYS };
static vcrypto_keypair_t g_k[NKEYS];
static uint8_t g_id[NKEYS][LEDGER_HASH_BYTES];

#define OPEN_MS (UINT64_C(24) * 3600 * 1000)

/* ---- fixture ---- */

static void keys(void) {
  for (int i = 0; i < NKEYS; i++) tchain_key(&g_k[i], g_id[i], (uint8_t)(100 + i), 9);
}

static int32_t run(int who, uint32_t type, ve_slice_t payload) { return tchain_run1(&g_c, &g_k[who], type, payload); }

static int32_t register_key(int who) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  uint8_t digest[LEDGER_HASH_BYTES] = {0};
  assert_int_equal(identity_payload_register(&p, g_k[who].pk, digest, NULL, 0), 0);
  int32_t rc = run(KREG, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

/* Genesis at `protocol` with admins[] (A, B, C by default), REG and RGL. */
static void chain_open(uint32_t protocol, const int *admins, size_t n_admins) {
  keys();
  tchain_init(&g_c, CHAIN, &REG);
  g_c.g.protocol = protocol;
  static const char *names[] = {"a", "b", "c"};
  for (size_t i = 0; i < n_admins; i++) tchain_authority(&g_c, names[i], &g_k[admins[i]], ROLE_ADMIN);
  tchain_authority(&g_c, "reg", &g_k[KREG], ROLE_REGISTRAR);
  tchain_authority(&g_c, "rgl", &g_k[KRGL], ROLE_REGULATOR);
  tchain_open(&g_c, NULL);
  assert_int_equal(register_key(KX), 0);
}

static int setup(void **state) {
  (void)state;
  static const int abc[] = {KA, KB, KC};
  chain_open(2, abc, 3);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&g_c);
  return 0;
}

/* ---- reading the committed state ----
 * Each reader ends its transaction before asserting, so a failed assertion
 * leaves nothing open for the teardown. */

static store_txn_t *rtxn(void) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  return t;
}

static int council_now(gov_council_t *c) {
  store_txn_t *t = rtxn();
  int rc = gov_council_get(t, c);
  store_txn_abort(t);
  return rc;
}

static uint64_t council_epoch_now(void) {
  gov_council_t c;
  return council_now(&c) == 0 ? c.epoch : 0;
}

/* The proposal's record bytes (rec, reset first) and decoded form. */
static int proposal_now(const uint8_t id[LEDGER_HASH_BYTES], gov_proposal_t *p, ve_buf_t *rec) {
  store_txn_t *t = rtxn();
  int rc = gov_proposal_get(t, id, p, rec);
  store_txn_abort(t);
  return rc;
}

static uint32_t roles_of(int who) {
  store_txn_t *t = rtxn();
  identity_t rec;
  int rc = identity_get(t, g_id[who], &rec);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  return rec.roles;
}

static identity_status_t status_of(int who) {
  store_txn_t *t = rtxn();
  identity_t rec;
  int rc = identity_get(t, g_id[who], &rec);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  return rec.status;
}

static uint64_t tip_time(void) {
  store_txn_t *t = rtxn();
  ledger_tip_t tip;
  int rc = ledger_tip_get(t, &tip);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  return tip.last_time_ms;
}

static bool state_has(ve_slice_t key) {
  store_txn_t *t = rtxn();
  ve_slice_t v;
  int rc = state_get(t, key, &v);
  store_txn_abort(t);
  assert_true(rc == 0 || rc == VE_ERR_NOT_FOUND);
  return rc == 0;
}

static bool by_height_has(uint64_t created, const uint8_t id[LEDGER_HASH_BYTES]) {
  uint8_t key[6 + 8 + LEDGER_HASH_BYTES];
  memcpy(key, GOV_BY_HEIGHT_PREFIX, 6);
  ve_be64_put(key + 6, created);
  memcpy(key + 14, id, LEDGER_HASH_BYTES);
  return state_has(ve_slice(key, sizeof key));
}

static uint64_t bit(int member_index) { return UINT64_C(1) << member_index; }

/* Index of a key's identity in the current council. */
static int idx_of(int who) {
  gov_council_t c;
  assert_int_equal(council_now(&c), 0);
  return gov_member_index(&c, g_id[who]);
}

/* ---- transactions ---- */

static void set_roles_payload(ve_buf_t *p, int target, uint32_t roles) {
  ve_buf_init(p, 0);
  assert_int_equal(identity_payload_set_roles(p, g_id[target], roles), 0);
}

static int32_t direct_set_roles(int who, int target, uint32_t roles) {
  ve_buf_t p;
  set_roles_payload(&p, target, roles);
  int32_t rc = run(who, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

/* who proposes (inner_type, inner) open for open_ms; id receives the
 * proposal's id (known before submitting, from the tx's sequence). */
static int32_t propose_raw(int who, uint32_t inner_type, ve_slice_t inner, uint64_t open_ms,
                           uint8_t id[LEDGER_HASH_BYTES]) {
  ve_buf_t p;
  ve_buf_init(&p, GOV_PAYLOAD_BYTES_MAX);
  assert_int_equal(gov_payload_propose(&p, open_ms, inner_type, inner, ve_slice("why", 3)), 0);
  gov_proposal_id(id, g_id[who], g_c.seq); /* tchain signs with the next seq */
  int32_t rc = run(who, TX_TYPE_GOV_PROPOSE, ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

static int32_t propose_roles(int who, int target, uint32_t roles, uint8_t id[LEDGER_HASH_BYTES]) {
  ve_buf_t inner;
  set_roles_payload(&inner, target, roles);
  int32_t rc = propose_raw(who, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&inner), OPEN_MS, id);
  ve_buf_free(&inner);
  return rc;
}

static int32_t vote(int who, uint32_t type, const uint8_t id[LEDGER_HASH_BYTES]) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(gov_payload_vote(&p, id), 0);
  int32_t rc = run(who, type, ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

static int32_t approve(int who, const uint8_t id[LEDGER_HASH_BYTES]) { return vote(who, TX_TYPE_GOV_APPROVE, id); }
static int32_t reject(int who, const uint8_t id[LEDGER_HASH_BYTES]) { return vote(who, TX_TYPE_GOV_REJECT, id); }

/* ---- council sets ---- */

/* A council of the members[] keys (sorted here) with threshold k. */
static void council_of(gov_council_t *c, const int *members, size_t n, uint32_t k, uint64_t epoch) {
  memset(c, 0, sizeof *c);
  c->n = (uint32_t)n;
  c->k = k;
  c->epoch = epoch;
  for (size_t i = 0; i < n; i++) {
    size_t j = i;
    while (j > 0 && memcmp(c->members[j - 1], g_id[members[i]], LEDGER_HASH_BYTES) > 0) {
      memcpy(c->members[j], c->members[j - 1], LEDGER_HASH_BYTES);
      j--;
    }
    memcpy(c->members[j], g_id[members[i]], LEDGER_HASH_BYTES);
  }
}

/* The COUNCIL_SET payload naming `named`, with the validator's approval of
 * `signed_c` (its epoch as signed) under chain `chain`, for the genesis set
 * (the one governing every block here) with its power times `power_mul`
 * (1: the real set). */
static void council_set_payload_for(ve_buf_t *p, const gov_council_t *named, const gov_council_t *signed_c,
                                    const char *chain, uint64_t power_mul) {
  gov_council_set_t *s = calloc(1, sizeof *s);
  assert_non_null(s);
  cons_valset_t *set = calloc(1, sizeof *set);
  assert_non_null(set);
  assert_int_equal(valset_from_genesis(&g_c.g, set), 0);
  set->v[0].power *= power_mul;
  s->council = *named;
  s->n_approvals = 1;
  s->approvals[0].index = 0;
  gov_council_approval_sign(s->approvals[0].sig, &g_c.validator, chain, signed_c, set);
  ve_buf_init(p, GOV_COUNCIL_SET_BYTES_MAX);
  assert_int_equal(gov_council_set_encode(p, s), 0);
  free(set);
  free(s);
}

static void council_set_payload(ve_buf_t *p, const gov_council_t *named, const gov_council_t *signed_c,
                                const char *chain) {
  council_set_payload_for(p, named, signed_c, chain, 1);
}

/* The honest appointment of members[] with k: signs the next epoch. */
static int32_t appoint(int signer, const int *members, size_t n, uint32_t k) {
  gov_council_t c;
  council_of(&c, members, n, k, council_epoch_now() + 1);
  ve_buf_t p;
  council_set_payload(&p, &c, &c, CHAIN);
  int32_t rc = run(signer, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

/* ---- tests ---- */

/* Genesis at protocol 2: the council is the genesis admins, smallest
 * majority, epoch 1; a single admin's direct action is refused and named;
 * registrars still manage citizens directly. */
static void test_genesis_council(void **state) {
  (void)state;
  gov_council_t c;
  assert_int_equal(council_now(&c), 0);
  assert_int_equal(c.epoch, 1);
  assert_int_equal(c.n, 3);
  assert_int_equal(c.k, 2);
  gov_council_t want;
  static const int abc[] = {KA, KB, KC};
  council_of(&want, abc, 3, 2, 1);
  assert_memory_equal(c.members, want.members, sizeof want.members);
  assert_true(memcmp(c.members[0], c.members[1], LEDGER_HASH_BYTES) < 0);
  assert_true(memcmp(c.members[1], c.members[2], LEDGER_HASH_BYTES) < 0);
  assert_int_equal(gov_member_index(&c, g_id[KREG]), -1);

  assert_int_equal(direct_set_roles(KA, KX, ROLE_NOTARY), VE_ERR_NEEDS_DECISION);
  assert_int_equal(roles_of(KX), 0);
  /* Suspending an authority (it holds a role) is an admin action too. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_status(&p, g_id[KRGL], "x"), 0);
  assert_int_equal(run(KA, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&p)), VE_ERR_NEEDS_DECISION);
  assert_int_equal(status_of(KRGL), IDENTITY_ACTIVE);
  /* A registrar revokes a role-less citizen alone, as before. */
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, g_id[KX], "moved"), 0);
  assert_int_equal(run(KREG, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p)), 0);
  assert_int_equal(status_of(KX), IDENTITY_REVOKED);
  ve_buf_free(&p);
  /* The app's other types are not transactions. */
  assert_int_equal(run(KA, TX_TYPE_GOV_COUNCIL_SET + 1, ve_slice("\x01", 1)), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(run(KA, 0x003f, ve_slice("\x01", 1)), VE_ERR_UNKNOWN_TYPE);
}

/* Propose, a duplicate vote, the approval reaching k executes; the record
 * says so; a vote after that is refused. */
static void test_propose_then_approve(void **state) {
  (void)state;
  uint8_t id[LEDGER_HASH_BYTES];
  uint64_t h0 = tchain_height(&g_c);
  uint64_t seq = g_c.seq;
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY, id), 0);
  uint8_t want_id[LEDGER_HASH_BYTES];
  gov_proposal_id(want_id, g_id[KA], seq);
  assert_memory_equal(id, want_id, LEDGER_HASH_BYTES);
  assert_int_equal(roles_of(KX), 0);
  gov_proposal_t p;
  ve_buf_t rec;
  ve_buf_init(&rec, 0);
  assert_int_equal(proposal_now(id, &p, &rec), 0);
  assert_int_equal(p.status, GOV_OPEN);
  assert_int_equal(p.epoch, 1);
  assert_memory_equal(p.proposer, g_id[KA], LEDGER_HASH_BYTES);
  assert_memory_equal(p.proposer_pk, g_k[KA].pk, VCRYPTO_PK_BYTES);
  assert_int_equal(p.seq, seq);
  assert_int_equal(p.created, h0 + 1);
  assert_int_equal(p.deadline_ms, tip_time() + OPEN_MS);
  assert_int_equal(p.inner_type, TX_TYPE_IDENTITY_SET_ROLES);
  assert_int_equal(p.approvals, bit(idx_of(KA)));
  assert_int_equal(p.rejections, 0);
  assert_int_equal(p.decided, 0);
  assert_int_equal(p.note.len, 3);
  assert_memory_equal(p.note.ptr, "why", 3);
  assert_true(by_height_has(h0 + 1, id));
  assert_int_equal(gov_proposal_status(&p, 1, tip_time()), GOV_OPEN);

  assert_int_equal(approve(KA, id), VE_ERR_DUPLICATE);
  assert_int_equal(reject(KA, id), VE_ERR_DUPLICATE);
  assert_int_equal(roles_of(KX), 0);
  assert_int_equal(approve(KB, id), 0);
  uint64_t h_exec = tchain_height(&g_c);
  assert_int_equal(roles_of(KX), ROLE_NOTARY);
  assert_int_equal(proposal_now(id, &p, &rec), 0);
  assert_int_equal(p.status, GOV_EXECUTED);
  assert_int_equal(p.approvals, bit(idx_of(KA)) | bit(idx_of(KB)));
  assert_int_equal(p.decided, h_exec);
  assert_int_equal(gov_proposal_status(&p, 1, UINT64_MAX), GOV_EXECUTED);
  assert_int_equal(gov_proposal_status(&p, 2, 0), GOV_EXECUTED);
  /* Closed: a third vote changes nothing. */
  assert_int_equal(approve(KC, id), VE_ERR_STATE);
  assert_int_equal(reject(KC, id), VE_ERR_STATE);
  /* Unknown proposal. */
  uint8_t none[LEDGER_HASH_BYTES] = {1};
  assert_int_equal(approve(KC, none), VE_ERR_NOT_FOUND);
  ve_buf_free(&rec);
}

/* A pharma regulator's jurisdiction: only by decision. */
static void test_pharma_jurisdiction(void **state) {
  (void)state;
  ve_buf_t inner;
  ve_buf_init(&inner, 0);
  assert_int_equal(pharma_payload_jurisdiction(&inner, g_id[KRGL], "DE"), 0);
  assert_int_equal(run(KA, TX_TYPE_PHARMA_JURISDICTION_SET, ve_buf_slice(&inner)), VE_ERR_NEEDS_DECISION);
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_raw(KC, TX_TYPE_PHARMA_JURISDICTION_SET, ve_buf_slice(&inner), OPEN_MS, id), 0);
  store_txn_t *t = rtxn();
  ledger_reader_t rd = {.txn = t};
  pharma_jurisdiction_t j;
  int rc = pharma_jurisdiction_get(&rd, g_id[KRGL], &j);
  store_txn_abort(t);
  assert_int_equal(rc, VE_ERR_NOT_FOUND);
  assert_int_equal(approve(KA, id), 0);
  t = rtxn();
  rd.txn = t;
  rc = pharma_jurisdiction_get(&rd, g_id[KRGL], &j);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  assert_string_equal(j.country, "DE");
  assert_int_equal(j.height, tchain_height(&g_c));
  ve_buf_free(&inner);
}

/* n = 3, k = 2: one objection leaves k in reach, the second closes it. */
static void test_rejection(void **state) {
  (void)state;
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY, id), 0);
  assert_int_equal(reject(KB, id), 0);
  gov_proposal_t p;
  ve_buf_t rec;
  ve_buf_init(&rec, 0);
  assert_int_equal(proposal_now(id, &p, &rec), 0);
  assert_int_equal(p.status, GOV_OPEN);
  assert_int_equal(p.rejections, bit(idx_of(KB)));
  assert_int_equal(p.decided, 0);
  assert_int_equal(reject(KC, id), 0);
  assert_int_equal(proposal_now(id, &p, &rec), 0);
  assert_int_equal(p.status, GOV_REJECTED);
  assert_int_equal(p.rejections, bit(idx_of(KB)) | bit(idx_of(KC)));
  assert_int_equal(p.approvals, bit(idx_of(KA)));
  assert_int_equal(p.decided, tchain_height(&g_c));
  assert_int_equal(gov_proposal_status(&p, 1, 0), GOV_REJECTED);
  assert_int_equal(approve(KB, id), VE_ERR_STATE);
  assert_int_equal(roles_of(KX), 0);
  ve_buf_free(&rec);
}

/* An approval whose action fails fails itself, and writes nothing; once the
 * action can succeed, the same approval executes it. */
static void test_inner_failure(void **state) {
  (void)state;
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KA, KY, ROLE_NOTARY, id), 0); /* Y is not registered */
  gov_proposal_t p;
  ve_buf_t before, after;
  ve_buf_init(&before, 0);
  ve_buf_init(&after, 0);
  assert_int_equal(proposal_now(id, &p, &before), 0);
  assert_int_equal(approve(KB, id), VE_ERR_NOT_FOUND);
  assert_int_equal(proposal_now(id, &p, &after), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&before), ve_buf_slice(&after)));
  assert_int_equal(p.status, GOV_OPEN);
  assert_int_equal(p.approvals, bit(idx_of(KA)));
  assert_int_equal(register_key(KY), 0);
  assert_int_equal(approve(KB, id), 0);
  assert_int_equal(roles_of(KY), ROLE_NOTARY);
  assert_int_equal(proposal_now(id, &p, &after), 0);
  assert_int_equal(p.status, GOV_EXECUTED);
  ve_buf_free(&before);
  ve_buf_free(&after);
}

/* Votes are taken while block time <= deadline: at the deadline yes, one ms
 * later no, and the status reads EXPIRED. */
static void test_expiry(void **state) {
  (void)state;
  uint8_t id[LEDGER_HASH_BYTES];
  ve_buf_t inner;
  set_roles_payload(&inner, KX, ROLE_NOTARY);
  assert_int_equal(propose_raw(KA, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&inner), GOV_OPEN_MS_MIN, id), 0);
  ve_buf_free(&inner);
  uint64_t deadline = tip_time() + GOV_OPEN_MS_MIN;
  gov_proposal_t p;
  ve_buf_t rec;
  ve_buf_init(&rec, 0);
  assert_int_equal(proposal_now(id, &p, &rec), 0);
  assert_int_equal(p.deadline_ms, deadline);
  assert_int_equal(gov_proposal_status(&p, 1, deadline), GOV_OPEN);
  assert_int_equal(gov_proposal_status(&p, 1, deadline + 1), GOV_EXPIRED);
  g_c.next_time_ms = deadline;
  assert_int_equal(reject(KC, id), 0); /* at the deadline: taken */
  g_c.next_time_ms = deadline + 1;
  assert_int_equal(approve(KB, id), VE_ERR_EXPIRED);
  assert_int_equal(reject(KB, id), VE_ERR_EXPIRED);
  assert_int_equal(roles_of(KX), 0);
  assert_int_equal(proposal_now(id, &p, &rec), 0);
  assert_int_equal(p.status, GOV_OPEN); /* never written */
  assert_int_equal(gov_proposal_status(&p, 1, tip_time()), GOV_EXPIRED);
  assert_string_equal(gov_status_name(gov_proposal_status(&p, 1, tip_time())), "expired");
  ve_buf_free(&rec);
}

/* Holding the admin role does not make a council member. */
static void test_non_member(void **state) {
  (void)state;
  assert_int_equal(register_key(KD), 0);
  uint8_t id[LEDGER_HASH_BYTES], id2[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KA, KD, ROLE_ADMIN, id), 0);
  assert_int_equal(approve(KC, id), 0);
  assert_int_equal(roles_of(KD), ROLE_ADMIN);
  assert_int_equal(propose_roles(KD, KX, ROLE_NOTARY, id2), VE_ERR_NOT_ELIGIBLE);
  uint8_t key[6 + LEDGER_HASH_BYTES];
  assert_false(state_has(ve_slice(key, gov_proposal_key(key, id2))));
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY, id2), 0);
  assert_int_equal(approve(KD, id2), VE_ERR_NOT_ELIGIBLE);
  assert_int_equal(reject(KD, id2), VE_ERR_NOT_ELIGIBLE);
  assert_int_equal(direct_set_roles(KD, KX, ROLE_NOTARY), VE_ERR_NEEDS_DECISION);
  assert_int_equal(roles_of(KX), 0);
  /* A registrar is no member either. */
  assert_int_equal(approve(KREG, id2), VE_ERR_NOT_ELIGIBLE);
}

/* The action must be an app's type; open_ms within its limits. */
static void test_action_rules(void **state) {
  (void)state;
  uint8_t id[LEDGER_HASH_BYTES];
  ve_buf_t inner;
  set_roles_payload(&inner, KX, ROLE_NOTARY);
  ve_slice_t in = ve_buf_slice(&inner);
  assert_int_equal(propose_raw(KA, TX_TYPE_PROTOCOL_UPGRADE, in, OPEN_MS, id), VE_ERR_INVALID);
  assert_int_equal(propose_raw(KA, TX_TYPE_GOV_APPROVE, in, OPEN_MS, id), VE_ERR_INVALID);
  assert_int_equal(propose_raw(KA, GOV_INNER_TYPE_MIN - 1, in, OPEN_MS, id), VE_ERR_INVALID);
  assert_int_equal(propose_raw(KA, TX_TYPE_IDENTITY_SET_ROLES, in, GOV_OPEN_MS_MIN - 1, id), VE_ERR_INVALID);
  assert_int_equal(propose_raw(KA, TX_TYPE_IDENTITY_SET_ROLES, in, GOV_OPEN_MS_MAX + 1, id), VE_ERR_INVALID);
  assert_int_equal(propose_raw(KA, TX_TYPE_IDENTITY_SET_ROLES, in, 0, id), VE_ERR_INVALID);
  uint8_t key[6 + LEDGER_HASH_BYTES];
  assert_false(state_has(ve_slice(key, gov_proposal_key(key, id))));
  assert_int_equal(propose_raw(KA, TX_TYPE_IDENTITY_SET_ROLES, in, GOV_OPEN_MS_MAX, id), 0);
  assert_true(state_has(ve_slice(key, gov_proposal_key(key, id))));
  /* A type no app owns is proposed, and fails when it would execute. */
  assert_int_equal(propose_raw(KA, 0x0f00, in, OPEN_MS, id), 0);
  assert_int_equal(approve(KB, id), VE_ERR_UNKNOWN_TYPE);
  /* A bad action payload fails at execution with its app's error. */
  assert_int_equal(propose_raw(KA, TX_TYPE_IDENTITY_SET_ROLES, ve_slice("\x02", 1), OPEN_MS, id), 0);
  assert_int_equal(approve(KB, id), VE_ERR_VERSION);
  /* Payload errors from the codec. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(gov_payload_propose(&p, OPEN_MS, TX_TYPE_IDENTITY_SET_ROLES, in, ve_slice("", 0)), 0);
  assert_int_equal(ve_buf_append(&p, "", 1), 0);
  assert_int_equal(run(KA, TX_TYPE_GOV_PROPOSE, ve_buf_slice(&p)), VE_ERR_TRAILING);
  p.ptr[0] = 2;
  assert_int_equal(run(KA, TX_TYPE_GOV_PROPOSE, ve_buf_slice(&p)), VE_ERR_VERSION);
  assert_int_equal(run(KA, TX_TYPE_GOV_APPROVE, ve_slice("\x01", 1)), VE_ERR_MALFORMED);
  ve_buf_free(&p);
  ve_buf_free(&inner);
}

/* Validators appoint the next council: approvals sign epoch, council and set;
 * anything else is refused; the old council's open proposals go STALE. */
static void test_council_set(void **state) {
  (void)state;
  uint8_t open_id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY, open_id), 0);
  static const int next[] = {KA, KB, KREG};
  gov_council_t c2;
  council_of(&c2, next, 3, 2, 2);
  /* Approvals of something else. */
  gov_council_t other = c2;
  other.k = 3;
  ve_buf_t p;
  council_set_payload(&p, &c2, &other, CHAIN);
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  ve_buf_free(&p);
  gov_council_t wrong_epoch = c2;
  wrong_epoch.epoch = 1;
  council_set_payload(&p, &c2, &wrong_epoch, CHAIN);
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  ve_buf_free(&p);
  council_set_payload(&p, &c2, &c2, "veche-gov-2");
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  ve_buf_free(&p);
  council_set_payload_for(&p, &c2, &c2, CHAIN, 2); /* another set: same key, other power */
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  ve_buf_free(&p);
  static const int abc[] = {KA, KB, KC};
  gov_council_t same_members;
  council_of(&same_members, abc, 3, 2, 2);
  council_set_payload(&p, &c2, &same_members, CHAIN);
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  ve_buf_free(&p);
  /* An index outside the set; too little power cannot happen with one
   * validator holding it all. */
  gov_council_set_t *s = calloc(1, sizeof *s);
  assert_non_null(s);
  s->council = c2;
  s->n_approvals = 1;
  s->approvals[0].index = 1;
  ve_buf_init(&p, 0);
  assert_int_equal(gov_council_set_encode(&p, s), 0);
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_INVALID);
  ve_buf_free(&p);
  free(s);
  assert_int_equal(council_epoch_now(), 1);

  /* The honest one, signed by any active identity's envelope. */
  council_set_payload(&p, &c2, &c2, CHAIN);
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), 0);
  gov_council_t now;
  assert_int_equal(council_now(&now), 0);
  assert_int_equal(now.epoch, 2);
  assert_int_equal(now.n, 3);
  assert_int_equal(now.k, 2);
  assert_memory_equal(now.members, c2.members, sizeof c2.members);
  /* Replayed: it signed epoch 2, the next is 3. */
  assert_int_equal(run(KX, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_BAD_SIG);
  ve_buf_free(&p);
  assert_int_equal(council_epoch_now(), 2);

  /* The old council's open proposal is STALE; nobody votes on it. */
  gov_proposal_t op;
  ve_buf_t rec;
  ve_buf_init(&rec, 0);
  assert_int_equal(proposal_now(open_id, &op, &rec), 0);
  assert_int_equal(op.status, GOV_OPEN);
  assert_int_equal(gov_proposal_status(&op, 2, tip_time()), GOV_STALE);
  assert_int_equal(approve(KB, open_id), VE_ERR_STATE);
  assert_int_equal(approve(KREG, open_id), VE_ERR_STATE);
  assert_int_equal(approve(KC, open_id), VE_ERR_NOT_ELIGIBLE); /* C left */
  assert_int_equal(roles_of(KX), 0);
  ve_buf_free(&rec);

  /* The new council works: REG proposes, B approves. */
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KC, KX, ROLE_NOTARY, id), VE_ERR_NOT_ELIGIBLE);
  assert_int_equal(propose_roles(KREG, KX, ROLE_NOTARY, id), 0);
  assert_int_equal(approve(KB, id), 0);
  assert_int_equal(roles_of(KX), ROLE_NOTARY);
}

/* Members must be registered and not revoked; k a strict majority. */
static void test_council_set_members(void **state) {
  (void)state;
  static const int with_y[] = {KA, KY};
  assert_int_equal(appoint(KA, with_y, 2, 2), VE_ERR_NOT_FOUND);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_status(&p, g_id[KX], "gone"), 0);
  assert_int_equal(run(KREG, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p)), 0);
  ve_buf_free(&p);
  static const int with_x[] = {KA, KX};
  assert_int_equal(appoint(KA, with_x, 2, 2), VE_ERR_REVOKED);
  /* A suspended member may be appointed (it may be restored). */
  assert_int_equal(register_key(KY), 0);
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_status(&p, g_id[KY], "pause"), 0);
  assert_int_equal(run(KREG, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&p)), 0);
  ve_buf_free(&p);
  assert_int_equal(appoint(KA, with_y, 2, 2), 0);
  assert_int_equal(council_epoch_now(), 2);

  /* k = n/2 (here 1 of 2): the encoder refuses it, so are the bytes. */
  gov_council_set_t *s = calloc(1, sizeof *s);
  assert_non_null(s);
  static const int ab[] = {KA, KB};
  council_of(&s->council, ab, 2, 2, 3);
  s->n_approvals = 1;
  ve_buf_init(&p, 0);
  assert_int_equal(gov_council_set_encode(&p, s), 0);
  assert_int_equal(p.ptr[1], 2); /* u8 version | uvarint k ... */
  p.ptr[1] = 1;
  assert_int_equal(run(KA, TX_TYPE_GOV_COUNCIL_SET, ve_buf_slice(&p)), VE_ERR_INVALID);
  s->council.k = 1;
  ve_buf_reset(&p);
  assert_int_equal(gov_council_set_encode(&p, s), VE_ERR_INVALID);
  assert_int_equal(p.len, 0);
  ve_buf_free(&p);
  free(s);
  assert_int_equal(council_epoch_now(), 2);
}

/* k = 1: a proposal executes at once; a failing one leaves nothing. */
static void test_k1(void **state) {
  (void)state;
  static const int a[] = {KA};
  assert_int_equal(appoint(KB, a, 1, 1), 0);
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY | ROLE_POLL_ORGANIZER, id), 0);
  uint64_t h = tchain_height(&g_c);
  assert_int_equal(roles_of(KX), ROLE_NOTARY | ROLE_POLL_ORGANIZER);
  gov_proposal_t p;
  ve_buf_t rec;
  ve_buf_init(&rec, 0);
  assert_int_equal(proposal_now(id, &p, &rec), 0);
  assert_int_equal(p.status, GOV_EXECUTED);
  assert_int_equal(p.created, h);
  assert_int_equal(p.decided, h);
  assert_int_equal(p.epoch, 2);
  assert_true(by_height_has(h, id));
  ve_buf_free(&rec);
  /* Failing: Y is not registered. */
  assert_int_equal(propose_roles(KA, KY, ROLE_NOTARY, id), VE_ERR_NOT_FOUND);
  uint8_t key[6 + LEDGER_HASH_BYTES];
  assert_false(state_has(ve_slice(key, gov_proposal_key(key, id))));
  assert_false(by_height_has(tchain_height(&g_c), id));
  assert_int_equal(proposal_now(id, &p, &rec), VE_ERR_NOT_FOUND);
  ve_buf_free(&rec);
  /* B and C are out. */
  assert_int_equal(propose_roles(KB, KX, 0, id), VE_ERR_NOT_ELIGIBLE);
}

/* The signed tx of a PROTOCOL_UPGRADE to 2 from height `from`, decision 1. */
static int32_t upgrade_to_2(uint64_t from) {
  cons_valset_t *set = calloc(1, sizeof *set);
  upgrade_decision_t *d = calloc(1, sizeof *d);
  assert_non_null(set);
  assert_non_null(d);
  assert_int_equal(valset_from_genesis(&g_c.g, set), 0);
  d->protocol = 2;
  d->from = from;
  d->n_approvals = 1;
  upgrade_approval_sign(d->approvals[0].sig, &g_c.validator, CHAIN, 1, 2, from, set);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(upgrade_decision_encode(&p, d), 0);
  int32_t rc = run(KX, TX_TYPE_PROTOCOL_UPGRADE, ve_buf_slice(&p));
  ve_buf_free(&p);
  free(d);
  free(set);
  return rc;
}

/* A protocol-1 chain: admins act alone and the app does not exist; after an
 * upgrade to 2 nobody acts until validators appoint a council. */
static void test_protocol_1_then_2(void **state) {
  (void)state;
  teardown(NULL);
  static const int abc[] = {KA, KB, KC};
  chain_open(0, abc, 3);
  gov_council_t c;
  assert_int_equal(council_now(&c), VE_ERR_NOT_FOUND);
  assert_int_equal(direct_set_roles(KA, KX, ROLE_NOTARY), 0);
  assert_int_equal(roles_of(KX), ROLE_NOTARY);
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KA, KX, 0, id), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(approve(KA, id), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(reject(KA, id), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(run(KA, TX_TYPE_GOV_PROPOSE, ve_slice("", 0)), VE_ERR_UNKNOWN_TYPE);
  static const int ab[] = {KA, KB};
  assert_int_equal(appoint(KA, ab, 2, 2), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(council_now(&c), VE_ERR_NOT_FOUND);

  uint64_t from = tchain_height(&g_c) + 1 + UPGRADE_DELAY_MIN;
  assert_int_equal(upgrade_to_2(from), 0);
  while (tchain_height(&g_c) + 2 < from) tchain_commit(&g_c, NULL, 0, NULL);
  /* The last block under protocol 1. */
  assert_int_equal(direct_set_roles(KA, KX, 0), 0);
  assert_int_equal(roles_of(KX), 0);
  /* From `from`: protocol 2, no council. */
  assert_int_equal(direct_set_roles(KA, KX, ROLE_NOTARY), VE_ERR_NEEDS_DECISION);
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY, id), VE_ERR_STATE);
  assert_int_equal(approve(KA, id), VE_ERR_STATE);
  assert_int_equal(roles_of(KX), 0);
  assert_int_equal(appoint(KX, ab, 2, 2), 0);
  assert_int_equal(council_now(&c), 0);
  assert_int_equal(c.epoch, 1);
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY, id), 0);
  assert_int_equal(approve(KC, id), VE_ERR_NOT_ELIGIBLE);
  assert_int_equal(approve(KB, id), 0);
  assert_int_equal(roles_of(KX), ROLE_NOTARY);
}

/* A genesis whose admins outnumber a council: refused. One admin: n = k = 1. */
static void test_genesis_limits(void **state) {
  (void)state;
  teardown(NULL);
  keys();
  tchain_init(&g_c, CHAIN, &REG);
  g_c.g.protocol = 2;
  for (int i = 0; i < GOV_COUNCIL_MAX + 1; i++) {
    vcrypto_keypair_t kp;
    tchain_key(&kp, NULL, (uint8_t)i, 77);
    char name[16];
    snprintf(name, sizeof name, "adm%d", i);
    tchain_authority(&g_c, name, &kp, ROLE_ADMIN);
  }
  store_t *st;
  assert_int_equal(store_open_mem(&st), 0);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(st, true, &t), 0);
  memcpy(g_c.g.validators[0].pk, g_c.validator.pk, VCRYPTO_PK_BYTES);
  assert_int_equal(ledger_genesis_check(&g_c.g), VE_ERR_LIMIT); /* said before anything is written */
  int rc = ledger_init_store(t, &REG, &g_c.g);
  store_txn_abort(t);
  assert_int_equal(rc, VE_ERR_LIMIT);
  /* 64 admins are fine: n = 64, k = 33. */
  g_c.g.n_authorities = GOV_COUNCIL_MAX;
  assert_int_equal(store_txn_begin(st, true, &t), 0);
  rc = ledger_init_store(t, &REG, &g_c.g);
  gov_council_t c;
  if (rc == 0) rc = gov_council_get(t, &c);
  store_txn_abort(t);
  store_close(st);
  assert_int_equal(rc, 0);
  assert_int_equal(c.n, 64);
  assert_int_equal(c.k, 33);
  assert_int_equal(c.epoch, 1);
  teardown(NULL);
  static const int one[] = {KA};
  chain_open(2, one, 1);
  assert_int_equal(council_now(&c), 0);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.k, 1);
  assert_int_equal(direct_set_roles(KA, KX, ROLE_NOTARY), VE_ERR_NEEDS_DECISION);
  uint8_t id[LEDGER_HASH_BYTES];
  assert_int_equal(propose_roles(KA, KX, ROLE_NOTARY, id), 0);
  assert_int_equal(roles_of(KX), ROLE_NOTARY);
}

/* ---- codec ---- */

static void assert_refused(int rc) { assert_true(rc < 0 && rc >= VE_ERR_MIN); }

static void test_codec_council(void **state) {
  (void)state;
  gov_council_t c, d;
  static const int abc[] = {KA, KB, KC};
  council_of(&c, abc, 3, 2, 7);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(gov_council_encode(&b, &c), 0);
  assert_int_equal(b.len, 1 + 1 + 1 + 1 + 3 * 32);
  assert_int_equal(b.ptr[0], 1);
  assert_int_equal(b.ptr[1], 7);
  assert_int_equal(b.ptr[2], 2);
  assert_int_equal(b.ptr[3], 3);
  assert_memory_equal(b.ptr + 4, c.members[0], 32);
  assert_int_equal(gov_council_decode(ve_buf_slice(&b), &d), 0);
  assert_memory_equal(&c, &d, sizeof c);
  ve_buf_t re;
  ve_buf_init(&re, 0);
  assert_int_equal(gov_council_encode(&re, &d), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&b), ve_buf_slice(&re)));
  ve_buf_free(&re);
  /* The hash covers the epoch. */
  uint8_t h1[32], h2[32];
  assert_int_equal(gov_council_hash(h1, &c), 0);
  vcrypto_hash(h2, GOV_TAG_COUNCIL_HASH, b.ptr, b.len);
  assert_memory_equal(h1, h2, 32);
  c.epoch = 8;
  assert_int_equal(gov_council_hash(h2, &c), 0);
  assert_memory_not_equal(h1, h2, 32);
  c.epoch = 7;

  /* Rejected encodings: each a one-place change of b. */
  struct {
    size_t at;
    uint8_t val;
    int want;
  } bad[] = {
      {0, 2, VE_ERR_VERSION},   {0, 0, VE_ERR_VERSION}, {1, 0, VE_ERR_INVALID}, /* epoch 0 */
      {2, 1, VE_ERR_INVALID},   /* k = n/2 for n = 3 is 1 */
      {2, 4, VE_ERR_INVALID},   /* k > n */
      {2, 0, VE_ERR_INVALID},   {3, 0, VE_ERR_INVALID}, /* n = 0 */
      {3, 65, VE_ERR_TOO_BIG},  {3, 4, VE_ERR_MALFORMED}, /* cut short */
      {2, 65, VE_ERR_TOO_BIG},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t m[256];
    memcpy(m, b.ptr, b.len);
    m[bad[i].at] = bad[i].val;
    int rc = gov_council_decode(ve_slice(m, b.len), &d);
    if (rc != bad[i].want) fail_msg("case %zu: %d", i, rc);
  }
  uint8_t m[256];
  /* Members not strictly increasing: equal, then swapped. */
  memcpy(m, b.ptr, b.len);
  memcpy(m + 4 + 32, m + 4, 32);
  assert_int_equal(gov_council_decode(ve_slice(m, b.len), &d), VE_ERR_INVALID);
  memcpy(m, b.ptr, b.len);
  memcpy(m + 4, b.ptr + 4 + 32, 32);
  memcpy(m + 4 + 32, b.ptr + 4, 32);
  assert_int_equal(gov_council_decode(ve_slice(m, b.len), &d), VE_ERR_INVALID);
  /* Trailing byte, non-minimal epoch. */
  memcpy(m, b.ptr, b.len);
  m[b.len] = 0;
  assert_int_equal(gov_council_decode(ve_slice(m, b.len + 1), &d), VE_ERR_TRAILING);
  m[0] = 1;
  m[1] = 0x87;
  m[2] = 0x00;
  memcpy(m + 3, b.ptr + 2, b.len - 2);
  assert_int_equal(gov_council_decode(ve_slice(m, b.len + 1), &d), VE_ERR_NONCANONICAL);
  assert_refused(gov_council_decode(ve_slice(m, 0), &d));
  /* The encoder refuses what the decoder refuses, appending nothing. */
  ve_buf_reset(&b);
  c.k = 1;
  assert_int_equal(gov_council_encode(&b, &c), VE_ERR_INVALID);
  c.k = 2;
  c.epoch = 0;
  assert_int_equal(gov_council_encode(&b, &c), VE_ERR_INVALID);
  c.epoch = 1;
  c.n = 65;
  assert_refused(gov_council_encode(&b, &c));
  c.n = 0;
  assert_refused(gov_council_encode(&b, &c));
  assert_int_equal(b.len, 0);
  /* 64 members, k = 64 and k = 33 round trip. */
  memset(&c, 0, sizeof c);
  c.n = 64;
  c.epoch = 1;
  for (int i = 0; i < 64; i++) c.members[i][0] = (uint8_t)(i + 1);
  for (uint32_t k = 33; k <= 64; k += 31) {
    c.k = k;
    ve_buf_reset(&b);
    assert_int_equal(gov_council_encode(&b, &c), 0);
    assert_true(b.len <= GOV_COUNCIL_BYTES_MAX);
    assert_int_equal(gov_council_decode(ve_buf_slice(&b), &d), 0);
    assert_memory_equal(&c, &d, sizeof c);
  }
  c.k = 32;
  assert_int_equal(gov_council_encode(&b, &c), VE_ERR_INVALID);
  ve_buf_free(&b);
}

static void proposal_sample(gov_proposal_t *p) {
  memset(p, 0, sizeof *p);
  p->id[0] = 9;
  p->status = GOV_EXECUTED;
  p->epoch = 3;
  memset(p->proposer, 0xaa, 32);
  memset(p->proposer_pk, 0xbb, 32);
  p->seq = 300;
  p->created = 70000;
  p->deadline_ms = UINT64_C(1700000000000);
  p->inner_type = TX_TYPE_IDENTITY_SET_ROLES;
  p->inner_payload = ve_slice("\x01pay", 4);
  p->note = ve_slice("note", 4);
  p->approvals = 0x8000000000000005ull;
  p->rejections = 0x2;
  p->decided = 70001;
}

static void test_codec_proposal(void **state) {
  (void)state;
  gov_proposal_t p, q;
  proposal_sample(&p);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(gov_proposal_encode(&b, &p), 0);
  /* The layout, field by field. */
  size_t at = 0;
  assert_int_equal(b.ptr[at++], 1);
  assert_int_equal(b.ptr[at++], GOV_EXECUTED);
  assert_int_equal(b.ptr[at++], 3);
  assert_memory_equal(b.ptr + at, p.proposer, 32);
  at += 32;
  assert_memory_equal(b.ptr + at, p.proposer_pk, 32);
  at += 32;
  assert_memory_equal(b.ptr + at, "\xac\x02", 2); /* 300 */
  at += 2;
  at += codec_uvarint_size(70000) + codec_uvarint_size(p.deadline_ms);
  assert_memory_equal(b.ptr + at, "\x86\x02", 2); /* 0x0106 */
  at += 2;
  assert_memory_equal(b.ptr + at, "\x04\x01pay\x04note", 10);
  at += 10;
  assert_memory_equal(b.ptr + at, "\x80\x00\x00\x00\x00\x00\x00\x05", 8); /* big-endian */
  at += 8;
  assert_memory_equal(b.ptr + at, "\x00\x00\x00\x00\x00\x00\x00\x02", 8);
  at += 8;
  at += codec_uvarint_size(70001);
  assert_int_equal(at, b.len);
  uint8_t id[32] = {5};
  assert_int_equal(gov_proposal_decode(ve_buf_slice(&b), id, &q), 0);
  assert_memory_equal(q.id, id, 32);
  assert_int_equal(q.status, p.status);
  assert_int_equal(q.epoch, p.epoch);
  assert_int_equal(q.seq, p.seq);
  assert_int_equal(q.created, p.created);
  assert_int_equal(q.deadline_ms, p.deadline_ms);
  assert_int_equal(q.inner_type, p.inner_type);
  assert_true(ve_slice_eq(q.inner_payload, p.inner_payload));
  assert_true(ve_slice_eq(q.note, p.note));
  assert_int_equal(q.approvals, p.approvals);
  assert_int_equal(q.rejections, p.rejections);
  assert_int_equal(q.decided, p.decided);
  ve_buf_t re;
  ve_buf_init(&re, 0);
  assert_int_equal(gov_proposal_encode(&re, &q), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&b), ve_buf_slice(&re)));
  ve_buf_free(&re);
  /* Values execution never writes: refused both ways. */
  struct {
    int field;
    uint64_t v;
  } bad[] = {
      {0, 3},          {0, 4},      /* status: derived ones are not written */
      {1, 0},          /* decided 0 but closed */
      {2, 0},          /* epoch 0 */
      {3, 0x00ff},     {3, 0x10000}, /* inner type */
      {4, 0},          /* no approval */
      {5, 0x1},        /* a member on both sides */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    proposal_sample(&q);
    switch (bad[i].field) {
      case 0: q.status = (gov_status_t)bad[i].v; break;
      case 1: q.decided = bad[i].v; break;
      case 2: q.epoch = bad[i].v; break;
      case 3: q.inner_type = (uint32_t)bad[i].v; break;
      case 4: q.approvals = bad[i].v; break;
      case 5: q.rejections = bad[i].v; break;
    }
    ve_buf_t e;
    ve_buf_init(&e, 0);
    int rc = gov_proposal_encode(&e, &q);
    if (rc >= 0) fail_msg("encoded case %zu", i);
    assert_int_equal(e.len, 0);
    ve_buf_free(&e);
  }
  proposal_sample(&q);
  q.status = GOV_OPEN; /* open with a decided height */
  assert_int_equal(gov_proposal_encode(&re, &q), VE_ERR_INVALID);
  q.decided = 0;
  assert_int_equal(gov_proposal_encode(&re, &q), 0);
  ve_buf_free(&re);
  /* Byte edits of b. */
  uint8_t m[512];
  memcpy(m, b.ptr, b.len);
  m[1] = 3;
  assert_int_equal(gov_proposal_decode(ve_slice(m, b.len), id, &q), VE_ERR_INVALID);
  m[1] = GOV_OPEN; /* open, decided set */
  assert_int_equal(gov_proposal_decode(ve_slice(m, b.len), id, &q), VE_ERR_INVALID);
  memcpy(m, b.ptr, b.len);
  m[0] = 2;
  assert_int_equal(gov_proposal_decode(ve_slice(m, b.len), id, &q), VE_ERR_VERSION);
  memcpy(m, b.ptr, b.len);
  m[b.len] = 0;
  assert_int_equal(gov_proposal_decode(ve_slice(m, b.len + 1), id, &q), VE_ERR_TRAILING);
  assert_int_equal(gov_proposal_decode(ve_slice(m, b.len - 1), id, &q), VE_ERR_MALFORMED);
  /* Oversize action and note: the encoder refuses. */
  static uint8_t big[GOV_ACTION_BYTES_MAX + 1];
  proposal_sample(&q);
  q.inner_payload = ve_slice(big, sizeof big);
  assert_int_equal(gov_proposal_encode(&re, &q), VE_ERR_TOO_BIG);
  q.inner_payload = ve_slice(big, GOV_ACTION_BYTES_MAX);
  q.note = ve_slice(big, GOV_NOTE_BYTES_MAX + 1);
  assert_int_equal(gov_proposal_encode(&re, &q), VE_ERR_TOO_BIG);
  q.note = ve_slice(big, GOV_NOTE_BYTES_MAX);
  q.epoch = q.seq = q.created = q.deadline_ms = q.decided = UINT64_MAX;
  q.inner_type = LEDGER_TX_TYPE_MAX;
  ve_buf_init(&re, 0);
  assert_int_equal(gov_proposal_encode(&re, &q), 0);
  assert_true(re.len <= GOV_PROPOSAL_BYTES_MAX);
  assert_int_equal(gov_proposal_decode(ve_buf_slice(&re), id, &p), 0);
  assert_int_equal(p.deadline_ms, UINT64_MAX);
  ve_buf_free(&re);
  ve_buf_free(&b);
}

static void test_codec_payloads(void **state) {
  (void)state;
  ve_buf_t b;
  ve_buf_init(&b, 0);
  /* PROPOSE */
  assert_int_equal(gov_payload_propose(&b, 60000, 0x0106, ve_slice("ab", 2), ve_slice("n", 1)), 0);
  assert_int_equal(b.len, 1 + 3 + 2 + 3 + 2);
  assert_memory_equal(b.ptr, "\x01\xe0\xd4\x03\x86\x02\x02" "ab\x01n", 11);
  gov_propose_t pr;
  assert_int_equal(gov_propose_decode(ve_buf_slice(&b), &pr), 0);
  assert_int_equal(pr.open_ms, 60000);
  assert_int_equal(pr.inner_type, 0x0106);
  assert_true(ve_slice_eq(pr.inner_payload, ve_slice("ab", 2)));
  assert_true(ve_slice_eq(pr.note, ve_slice("n", 1)));
  ve_buf_t re;
  ve_buf_init(&re, 0);
  assert_int_equal(gov_payload_propose(&re, pr.open_ms, pr.inner_type, pr.inner_payload, pr.note), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&b), ve_buf_slice(&re)));
  /* The table of refused PROPOSE bytes. */
  static uint8_t big[GOV_ACTION_BYTES_MAX + 8];
  struct {
    const char *bytes;
    size_t len;
    int want;
  } bad[] = {
      {"", 0, VE_ERR_MALFORMED},
      {"\x02\x01\x86\x02\x00\x00", 6, VE_ERR_VERSION},
      {"\x01\x81\x00\x86\x02\x00\x00", 7, VE_ERR_NONCANONICAL},     /* open_ms 1 in two bytes */
      {"\x01\x01\x80\x80\x04\x00\x00", 7, VE_ERR_TOO_BIG},          /* inner type 0x10000 */
      {"\x01\x01\x86\x02\x00\x00\x00", 7, VE_ERR_TRAILING},
      {"\x01\x01\x86\x02\x05\x00", 6, VE_ERR_MALFORMED},            /* payload cut short */
      {"\x01\x01\x86\x02\x81\x20", 6, VE_ERR_TOO_BIG},              /* payload 4097 bytes */
      {"\x01\x01\x86\x02\x00\x81\x04", 7, VE_ERR_TOO_BIG},          /* note 513 bytes */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = gov_propose_decode(ve_slice(bad[i].bytes, bad[i].len), &pr);
    if (rc != bad[i].want) fail_msg("propose case %zu: %d", i, rc);
  }
  /* Encodable edges: empty note, largest action and note. */
  ve_buf_reset(&b);
  assert_int_equal(gov_payload_propose(&b, UINT64_MAX, LEDGER_TX_TYPE_MAX, ve_slice(big, GOV_ACTION_BYTES_MAX),
                                       ve_slice(big, GOV_NOTE_BYTES_MAX)),
                   0);
  assert_true(b.len <= GOV_PAYLOAD_BYTES_MAX);
  assert_int_equal(gov_propose_decode(ve_buf_slice(&b), &pr), 0);
  ve_buf_reset(&b);
  assert_int_equal(gov_payload_propose(&b, 1, 0x10000, ve_slice("", 0), ve_slice("", 0)), VE_ERR_TOO_BIG);
  assert_int_equal(gov_payload_propose(&b, 1, 0x0106, ve_slice(big, GOV_ACTION_BYTES_MAX + 1), ve_slice("", 0)),
                   VE_ERR_TOO_BIG);
  assert_int_equal(gov_payload_propose(&b, 1, 0x0106, ve_slice("", 0), ve_slice(big, GOV_NOTE_BYTES_MAX + 1)),
                   VE_ERR_TOO_BIG);
  assert_int_equal(b.len, 0);

  /* VOTE */
  uint8_t id[32], got[32];
  memset(id, 0x5a, sizeof id);
  assert_int_equal(gov_payload_vote(&b, id), 0);
  assert_int_equal(b.len, 33);
  assert_int_equal(b.ptr[0], 1);
  assert_int_equal(gov_vote_decode(ve_buf_slice(&b), got), 0);
  assert_memory_equal(got, id, 32);
  assert_int_equal(gov_vote_decode(ve_slice(b.ptr, 32), got), VE_ERR_MALFORMED);
  assert_int_equal(ve_buf_append(&b, "", 1), 0);
  assert_int_equal(gov_vote_decode(ve_buf_slice(&b), got), VE_ERR_TRAILING);
  b.ptr[0] = 2;
  assert_int_equal(gov_vote_decode(ve_slice(b.ptr, 33), got), VE_ERR_VERSION);

  /* COUNCIL_SET */
  gov_council_set_t *s = calloc(1, sizeof *s), *t = calloc(1, sizeof *t);
  assert_non_null(s);
  assert_non_null(t);
  static const int abc[] = {KA, KB, KC};
  council_of(&s->council, abc, 3, 3, 0);
  s->n_approvals = 2;
  s->approvals[0].index = 1;
  s->approvals[1].index = 127;
  memset(s->approvals[0].sig, 1, 64);
  memset(s->approvals[1].sig, 2, 64);
  ve_buf_reset(&b);
  assert_int_equal(gov_council_set_encode(&b, s), 0);
  assert_int_equal(b.len, 1 + 1 + 1 + 96 + 1 + 1 + 64 + 1 + 64);
  assert_memory_equal(b.ptr, "\x01\x03\x03", 3);
  assert_int_equal(gov_council_set_decode(ve_buf_slice(&b), t), 0);
  assert_int_equal(t->council.epoch, 0);
  assert_memory_equal(&t->council, &s->council, sizeof s->council);
  assert_int_equal(t->n_approvals, 2);
  assert_int_equal(t->approvals[1].index, 127);
  ve_buf_reset(&re);
  assert_int_equal(gov_council_set_encode(&re, t), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&b), ve_buf_slice(&re)));
  uint8_t m[512];
  memcpy(m, b.ptr, b.len);
  m[b.len] = 0;
  assert_int_equal(gov_council_set_decode(ve_slice(m, b.len + 1), t), VE_ERR_TRAILING);
  m[1] = 1; /* k = 1 of 3 */
  assert_int_equal(gov_council_set_decode(ve_slice(m, b.len), t), VE_ERR_INVALID);
  memcpy(m, b.ptr, b.len);
  m[0] = 0;
  assert_int_equal(gov_council_set_decode(ve_slice(m, b.len), t), VE_ERR_VERSION);
  memcpy(m, b.ptr, b.len);
  m[1 + 2 + 96] = 0; /* zero approvals */
  assert_refused(gov_council_set_decode(ve_slice(m, b.len), t));
  memcpy(m, b.ptr, b.len);
  m[1 + 2 + 96 + 1] = 0x80; /* index 1 spelled 0x81 0x00? here: a cut varint */
  assert_refused(gov_council_set_decode(ve_slice(m, b.len), t));
  /* Unsorted approvals: the encoder refuses them. */
  s->approvals[1].index = 1;
  ve_buf_reset(&re);
  assert_int_equal(gov_council_set_encode(&re, s), VE_ERR_INVALID);
  assert_int_equal(re.len, 0);
  free(s);
  free(t);
  ve_buf_free(&re);
  ve_buf_free(&b);
}

/* The signed message and the ids, byte by byte. */
static void test_approval_msg_and_ids(void **state) {
  (void)state;
  gov_council_t c;
  static const int ab[] = {KA, KB};
  council_of(&c, ab, 2, 2, 5);
  uint8_t hs[32], hc[32], msg[GOV_APPROVAL_MSG_BYTES_MAX];
  memset(hs, 0x33, sizeof hs);
  size_t n = gov_council_approval_msg(msg, CHAIN, &c, hs);
  assert_int_equal(n, 1 + strlen(CHAIN) + 8 + 64);
  assert_int_equal(msg[0], strlen(CHAIN));
  assert_memory_equal(msg + 1, CHAIN, strlen(CHAIN));
  assert_memory_equal(msg + 1 + strlen(CHAIN), "\0\0\0\0\0\0\0\x05", 8);
  assert_int_equal(gov_council_hash(hc, &c), 0);
  assert_memory_equal(msg + 1 + strlen(CHAIN) + 8, hc, 32);
  assert_memory_equal(msg + n - 32, hs, 32);
  /* The signature verifies under the tag, over that message. */
  cons_valset_t *set = calloc(1, sizeof *set);
  assert_non_null(set);
  assert_int_equal(valset_from_genesis(&g_c.g, set), 0);
  cons_valset_hash(hs, set);
  n = gov_council_approval_msg(msg, CHAIN, &c, hs);
  uint8_t sig[64];
  gov_council_approval_sign(sig, &g_c.validator, CHAIN, &c, set);
  assert_int_equal(vcrypto_verify(sig, g_c.validator.pk, GOV_TAG_COUNCIL, msg, n), 0);
  assert_int_not_equal(vcrypto_verify(sig, g_c.validator.pk, GOV_TAG_COUNCIL_HASH, msg, n), 0);
  /* A council breaking the rules has no message and no signature. */
  c.k = 1;
  assert_int_equal(gov_council_approval_msg(msg, CHAIN, &c, hs), 0);
  gov_council_approval_sign(sig, &g_c.validator, CHAIN, &c, set);
  uint8_t zero[64] = {0};
  assert_memory_equal(sig, zero, 64);
  free(set);
  /* Proposal id = H(tag, proposer id || be64 seq). */
  uint8_t pid[32], want[32], buf[40];
  memcpy(buf, g_id[KA], 32);
  memcpy(buf + 32, "\0\0\0\0\0\0\x01\x02", 8);
  vcrypto_hash(want, GOV_TAG_PROPOSAL, buf, sizeof buf);
  gov_proposal_id(pid, g_id[KA], 0x0102);
  assert_memory_equal(pid, want, 32);
  uint8_t key[6 + 32];
  assert_int_equal(gov_proposal_key(key, pid), 38);
  assert_memory_equal(key, "gov/p/", 6);
  assert_memory_equal(key + 6, pid, 32);
  /* Helpers. */
  assert_int_equal(gov_threshold_min(1), 1);
  assert_int_equal(gov_threshold_min(2), 2);
  assert_int_equal(gov_threshold_min(3), 2);
  assert_int_equal(gov_threshold_min(4), 3);
  assert_int_equal(gov_threshold_min(64), 33);
  assert_int_equal(gov_count(0), 0);
  assert_int_equal(gov_count(UINT64_MAX), 64);
  assert_int_equal(gov_count(0x8000000000000001ull), 2);
  assert_string_equal(gov_status_name(GOV_OPEN), "open");
  assert_string_equal(gov_status_name(GOV_EXECUTED), "executed");
  assert_string_equal(gov_status_name(GOV_REJECTED), "rejected");
  assert_string_equal(gov_status_name(GOV_STALE), "stale");
  /* STALE outranks EXPIRED. */
  gov_proposal_t p;
  proposal_sample(&p);
  p.status = GOV_OPEN;
  p.decided = 0;
  assert_int_equal(gov_proposal_status(&p, 4, p.deadline_ms + 1), GOV_STALE);
  assert_int_equal(gov_proposal_status(&p, 3, p.deadline_ms + 1), GOV_EXPIRED);
  assert_int_equal(gov_proposal_status(&p, 3, p.deadline_ms), GOV_OPEN);
  assert_int_equal(gov_proposal_status(&p, 0, 0), GOV_STALE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_genesis_council, setup, teardown),
      cmocka_unit_test_setup_teardown(test_propose_then_approve, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pharma_jurisdiction, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rejection, setup, teardown),
      cmocka_unit_test_setup_teardown(test_inner_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_non_member, setup, teardown),
      cmocka_unit_test_setup_teardown(test_action_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_council_set, setup, teardown),
      cmocka_unit_test_setup_teardown(test_council_set_members, setup, teardown),
      cmocka_unit_test_setup_teardown(test_k1, setup, teardown),
      cmocka_unit_test_setup_teardown(test_protocol_1_then_2, setup, teardown),
      cmocka_unit_test_setup_teardown(test_genesis_limits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_codec_council, setup, teardown),
      cmocka_unit_test_setup_teardown(test_codec_proposal, setup, teardown),
      cmocka_unit_test_setup_teardown(test_codec_payloads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approval_msg_and_ids, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
