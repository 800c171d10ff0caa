/* protocol_test.c — what the ledger itself does differently from protocol 2:
 * the admin role never reaches an app from a transaction's signer (a refusal
 * it explains is named needs_council_decision), only through
 * ledger_exec_decision; and genesis version 2, which names the protocol a
 * chain starts at.
 *
 * The council app (src/apps/gov) is not used here: a stand-in app calls
 * ledger_exec_decision the way it does, so these tests pin the ledger's part
 * alone. tests/unit/gov covers the council. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "codec/codec.h"
#include "ledger/ledger.h"
#include "tchain.h"

#define CHAIN "veche-protocol-1"

/* ---- stand-ins ---- */

static uint64_t g_protocol = 1;
static int g_hook_calls;

static int fixed_protocol(ledger_exec_t *ex, uint64_t *out) {
  (void)ex;
  g_hook_calls++;
  *out = g_protocol;
  return VE_OK;
}

#define TX_PROBE 0x7e00  /* writes "probe" = the roles it was handed (u32 be) */
#define TX_DECIDE 0x7e01 /* payload: be16 inner type | inner payload; runs it as an admin decision */
#define TX_NEEDS 0x7e02  /* payload: u8 role bit index; refused unless the signer has it; writes first */

static int stand_in_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  if (tx->type == TX_PROBE) {
    uint8_t v[4] = {(uint8_t)(s->roles >> 24), (uint8_t)(s->roles >> 16), (uint8_t)(s->roles >> 8),
                    (uint8_t)s->roles};
    return ledger_state_put(ex, ve_slice("probe", 5), ve_slice(v, 4));
  }
  if (tx->type == TX_NEEDS) {
    /* A write before the check: the ledger's second try (with the admin
     * role) must leave nothing of it behind either. */
    VE_TRY(ledger_state_put(ex, ve_slice("tried", 5), ve_slice("1", 1)));
    if (tx->payload.len != 1 || !(s->roles & 1u << tx->payload.ptr[0])) return VE_ERR_PERMISSION;
    return VE_OK;
  }
  if (tx->type != TX_DECIDE || tx->payload.len < 2) return VE_ERR_INVALID;
  /* A write before the action, which must vanish with it when it fails. */
  VE_TRY(ledger_state_put(ex, ve_slice("decided", 7), ve_slice("1", 1)));
  ledger_tx_t inner = *tx;
  inner.type = (uint32_t)tx->payload.ptr[0] << 8 | tx->payload.ptr[1];
  inner.payload = ve_slice(tx->payload.ptr + 2, tx->payload.len - 2);
  ledger_signer_t as = *s;
  as.roles = ROLE_ADMIN;
  return ledger_exec_decision(ex, &inner, &as);
}

static const ledger_app_t STAND_IN = {"stand-in", 0x7e00, 0x7eff, stand_in_apply, NULL, NULL};
static const ledger_registry_t REG = {&identity_auth, {&identity_app, &STAND_IN}, 2, fixed_protocol};

/* ---- fixture ---- */

typedef struct {
  tchain_t tc;
  vcrypto_keypair_t admin, registrar, citizen, officer;
  uint8_t citizen_id[32], officer_id[32];
} chain_t;

static void register_key(chain_t *c, const uint8_t pk[32]) {
  uint8_t digest[32];
  memset(digest, 0xcd, 32);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_register(&p, pk, digest, NULL, 0), 0);
  assert_int_equal(tchain_run1(&c->tc, &c->registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p)), 0);
  ve_buf_free(&p);
}

/* Admin and registrar in genesis; a citizen and an officer registered while
 * the chain runs protocol 1, the officer made a notary by the admin alone. */
static void chain_init(chain_t *c) {
  memset(c, 0, sizeof *c);
  g_protocol = 1;
  tchain_init(&c->tc, CHAIN, &REG);
  tchain_key(&c->admin, NULL, 31, 1);
  tchain_key(&c->registrar, NULL, 32, 1);
  tchain_key(&c->citizen, c->citizen_id, 33, 1);
  tchain_key(&c->officer, c->officer_id, 34, 1);
  tchain_authority(&c->tc, "ministry", &c->admin, ROLE_ADMIN);
  tchain_authority(&c->tc, "registry", &c->registrar, ROLE_REGISTRAR);
  tchain_open(&c->tc, NULL);
  register_key(c, c->citizen.pk);
  register_key(c, c->officer.pk);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_set_roles(&p, c->officer_id, ROLE_NOTARY), 0);
  assert_int_equal(tchain_run1(&c->tc, &c->admin, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&p)), 0);
  ve_buf_free(&p);
}

static uint32_t roles_of(chain_t *c, const uint8_t id[32]) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  identity_t rec;
  int rc = identity_get(t, id, &rec);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  return rec.roles;
}

static bool state_has(chain_t *c, const char *key, uint32_t *u32) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  ledger_exec_t *ex;
  assert_int_equal(ledger_exec_begin(&ex, &REG, t, tchain_id(&c->tc), tchain_height(&c->tc) + 1, 1), 0);
  ve_slice_t v;
  int rc = ledger_state_get(ex, ve_slice(key, strlen(key)), &v);
  if (rc == 0 && u32) *u32 = (uint32_t)v.ptr[0] << 24 | (uint32_t)v.ptr[1] << 16 | (uint32_t)v.ptr[2] << 8 | v.ptr[3];
  ledger_exec_free(ex);
  store_txn_abort(t);
  assert_true(rc == 0 || rc == VE_ERR_NOT_FOUND);
  return rc == 0;
}

static int32_t set_roles(chain_t *c, const vcrypto_keypair_t *by, const uint8_t target[32], uint32_t roles) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_set_roles(&p, target, roles), 0);
  int32_t rc = tchain_run1(&c->tc, by, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

static int32_t decide(chain_t *c, const vcrypto_keypair_t *by, uint16_t inner_type, ve_slice_t inner) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  uint8_t t[2] = {(uint8_t)(inner_type >> 8), (uint8_t)inner_type};
  ve_buf_append(&p, t, 2);
  ve_buf_append(&p, inner.ptr, inner.len);
  int32_t rc = tchain_run1(&c->tc, by, TX_DECIDE, ve_buf_slice(&p));
  ve_buf_free(&p);
  return rc;
}

/* ---- tests ---- */

/* Protocol 1: one admin decides alone (what chains did before protocol 2). */
static void test_protocol1_admin_alone(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  assert_int_equal(roles_of(&c, c.officer_id), ROLE_NOTARY);
  assert_int_equal(set_roles(&c, &c.admin, c.citizen_id, ROLE_TRUSTEE), 0);
  assert_int_equal(roles_of(&c, c.citizen_id), ROLE_TRUSTEE);
  /* Apps see the signer's admin role. */
  uint32_t seen = 0;
  assert_int_equal(tchain_run1(&c.tc, &c.admin, TX_PROBE, ve_slice("", 0)), 0);
  assert_true(state_has(&c, "probe", &seen));
  assert_int_equal(seen, ROLE_ADMIN);
  tchain_free(&c.tc);
}

/* Protocol 2: the same transaction is refused, with the reason; nothing
 * changes; the registrar's own powers are untouched; a refusal the masked
 * role does not explain keeps its own name. */
static void test_protocol2_masks_admin(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  g_protocol = 2;
  assert_int_equal(set_roles(&c, &c.admin, c.officer_id, 0), VE_ERR_NEEDS_DECISION);
  assert_int_equal(roles_of(&c, c.officer_id), ROLE_NOTARY);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_status(&p, c.officer_id, "left office"), 0);
  assert_int_equal(tchain_run1(&c.tc, &c.admin, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p)), VE_ERR_NEEDS_DECISION);
  /* The registrar holds no admin role: its refusal stays no_permission. */
  assert_int_equal(tchain_run1(&c.tc, &c.registrar, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p)), VE_ERR_PERMISSION);
  assert_int_equal(set_roles(&c, &c.registrar, c.citizen_id, ROLE_NOTARY), VE_ERR_PERMISSION);
  /* A citizen is the registrar's to manage, under any protocol. */
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, c.citizen_id, "moved away"), 0);
  assert_int_equal(tchain_run1(&c.tc, &c.registrar, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&p)), 0);
  ve_buf_free(&p);
  /* A refusal the admin role would not have avoided keeps its own name: an
   * admin lacking the notary role is refused no_permission. */
  uint8_t notary_bit = 2, admin_bit = 0;
  assert_int_equal(tchain_run1(&c.tc, &c.admin, TX_NEEDS, ve_slice(&notary_bit, 1)), VE_ERR_PERMISSION);
  assert_int_equal(tchain_run1(&c.tc, &c.admin, TX_NEEDS, ve_slice(&admin_bit, 1)), VE_ERR_NEEDS_DECISION);
  assert_false(state_has(&c, "tried", NULL));
  assert_int_equal(tchain_run1(&c.tc, &c.officer, TX_NEEDS, ve_slice(&notary_bit, 1)), 0);
  assert_true(state_has(&c, "tried", NULL));
  /* Apps never see the admin role of a signer. */
  uint32_t seen = 0xffffffff;
  assert_int_equal(tchain_run1(&c.tc, &c.admin, TX_PROBE, ve_slice("", 0)), 0);
  assert_true(state_has(&c, "probe", &seen));
  assert_int_equal(seen, 0);
  tchain_free(&c.tc);
}

/* A decision runs the action with the admin role, inside the caller's
 * transaction: its writes and the caller's stand or fall together. */
static void test_decision_runs_as_admin(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  g_protocol = 2;
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_set_roles(&p, c.officer_id, ROLE_NOTARY | ROLE_REGULATOR), 0);
  /* Any signer's decision acts as admin here: the council app is what decides who may. */
  assert_int_equal(decide(&c, &c.citizen, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&p)), 0);
  assert_int_equal(roles_of(&c, c.officer_id), ROLE_NOTARY | ROLE_REGULATOR);
  assert_true(state_has(&c, "decided", NULL));
  tchain_free(&c.tc);

  /* A failing action fails the transaction: the caller's own write is undone. */
  chain_init(&c);
  g_protocol = 2;
  uint8_t nobody[32];
  memset(nobody, 0x77, 32);
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_set_roles(&p, nobody, ROLE_NOTARY), 0);
  assert_int_equal(decide(&c, &c.citizen, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&p)), VE_ERR_NOT_FOUND);
  assert_false(state_has(&c, "decided", NULL));
  /* No nesting: a decision's action cannot itself be a decision. */
  ve_buf_reset(&p);
  uint8_t inner[2] = {TX_PROBE >> 8, TX_PROBE & 0xff};
  ve_buf_append(&p, inner, 2);
  assert_int_equal(decide(&c, &c.citizen, TX_DECIDE, ve_buf_slice(&p)), VE_ERR_INVALID);
  assert_false(state_has(&c, "decided", NULL));
  /* An action of a type no app owns. */
  assert_int_equal(decide(&c, &c.citizen, 0x6000, ve_slice("", 0)), VE_ERR_UNKNOWN_TYPE);
  ve_buf_free(&p);
  tchain_free(&c.tc);
}

/* The protocol is read once per block (it cannot change within one), and
 * only for admins' transactions. */
static void test_protocol_read_once_per_block(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  g_protocol = 2;
  ve_buf_t txs[3];
  for (int i = 0; i < 3; i++) {
    ve_buf_init(&txs[i], 0);
    tchain_tx(&c.tc, &txs[i], &c.admin, TX_PROBE, ve_slice("", 0));
  }
  g_hook_calls = 0;
  int32_t res[3];
  tchain_commit(&c.tc, txs, 3, res);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(res[i], 0);
    ve_buf_free(&txs[i]);
  }
  assert_int_equal(g_hook_calls, 1);
  /* Nor is it read at all for signers without the admin role. */
  for (int i = 0; i < 3; i++) {
    ve_buf_init(&txs[i], 0);
    tchain_tx(&c.tc, &txs[i], &c.registrar, TX_PROBE, ve_slice("", 0));
  }
  g_hook_calls = 0;
  tchain_commit(&c.tc, txs, 3, res);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(res[i], 0);
    ve_buf_free(&txs[i]);
  }
  assert_int_equal(g_hook_calls, 0);
  tchain_free(&c.tc);
}

/* Genesis version 2 carries the starting protocol; version 1 is what every
 * chain starting at protocol 1 keeps (bytes and hash unchanged). */
static void test_genesis_protocol_encoding(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  ledger_genesis_t g = c.tc.g, back;
  ve_buf_t v1, v1b, v2, again;
  ve_buf_init(&v1, 0);
  ve_buf_init(&v1b, 0);
  ve_buf_init(&v2, 0);
  ve_buf_init(&again, 0);
  g.protocol = 0;
  assert_int_equal(ledger_genesis_encode(&g, &v1), 0);
  g.protocol = 1;
  assert_int_equal(ledger_genesis_encode(&g, &v1b), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&v1), ve_buf_slice(&v1b)));
  assert_int_equal(v1.ptr[0], LEDGER_GENESIS_VERSION);
  assert_int_equal(ledger_genesis_decode(ve_buf_slice(&v1), &back), 0);
  assert_int_equal(back.protocol, 0);

  g.protocol = 2;
  assert_int_equal(ledger_genesis_check(&g), 0);
  assert_int_equal(ledger_genesis_encode(&g, &v2), 0);
  assert_int_equal(v2.ptr[0], LEDGER_GENESIS_VERSION_PROTOCOL);
  assert_int_equal(v2.len, v1.len + 1); /* one uvarint byte more */
  assert_int_equal(ledger_genesis_decode(ve_buf_slice(&v2), &back), 0);
  assert_int_equal(back.protocol, 2);
  assert_int_equal(ledger_genesis_encode(&back, &again), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&v2), ve_buf_slice(&again)));
  uint8_t h1[32], h2[32];
  assert_int_equal(ledger_genesis_hash(&c.tc.g, h1), 0);
  assert_int_equal(ledger_genesis_hash(&g, h2), 0);
  assert_memory_not_equal(h1, h2, 32);

  /* The protocol byte sits after chain id, suite and time: find it by
   * re-encoding the prefix, then make it 1 (non-canonical: that is v1), 0. */
  size_t at = 1 + 1 + strlen(g.chain_id) + 1; /* version, len, chain id, suite (1 byte) */
  ve_buf_t t;
  ve_buf_init(&t, 0);
  codec_writer_t w;
  codec_writer_init(&w, &t);
  codec_put_uvarint(&w, g.time_ms);
  assert_int_equal(codec_writer_finish(&w), 0);
  at += t.len;
  ve_buf_free(&t);
  assert_int_equal(v2.ptr[at], 2);
  v2.ptr[at] = 1;
  assert_int_equal(ledger_genesis_decode(ve_buf_slice(&v2), &back), VE_ERR_NONCANONICAL);
  v2.ptr[at] = 0;
  assert_int_equal(ledger_genesis_decode(ve_buf_slice(&v2), &back), VE_ERR_NONCANONICAL);
  v2.ptr[at] = 2;
  v2.ptr[0] = 3;
  assert_int_equal(ledger_genesis_decode(ve_buf_slice(&v2), &back), VE_ERR_VERSION);

  /* A protocol this release does not implement cannot start a chain. */
  g.protocol = LEDGER_PROTOCOL_IMPLEMENTED + 1;
  assert_int_equal(ledger_genesis_check(&g), VE_ERR_UNSUPPORTED);
  ve_buf_free(&v1);
  ve_buf_free(&v1b);
  ve_buf_free(&v2);
  ve_buf_free(&again);
  tchain_free(&c.tc);
}

int main(void) {
  vcrypto_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_protocol1_admin_alone),
      cmocka_unit_test(test_protocol2_masks_admin),
      cmocka_unit_test(test_decision_runs_as_admin),
      cmocka_unit_test(test_protocol_read_once_per_block),
      cmocka_unit_test(test_genesis_protocol_encoding),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
