/* evidence_test.c — equivocation evidence goes on the ledger: a validator that
 * signs two different precommits for one (height, round) is named in a record
 * anyone can read; bogus, duplicate, foreign and future evidence is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/evidence/evidence.h"
#include "apps/identity/identity.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "consensus/cons_int.h"
#include "state/state.h"

#define CHAIN "veche-ev-1"

/* valset_app writes the validator set (genesis) that evidence is checked against. */
static const ledger_registry_t REG = {&identity_auth, {&valset_app, &evidence_app, &identity_app}, 3, NULL};
static store_t *g_store;
static vcrypto_keypair_t g_val[4], g_admin, g_outsider;
static uint64_t g_seq = 1;

static void key(vcrypto_keypair_t *kp, uint8_t n) {
  uint8_t seed[32];
  memset(seed, n, 32);
  vcrypto_keypair_from_seed(kp, seed);
}

static int setup(void **state) {
  (void)state;
  assert_int_equal(vcrypto_init(), 0);
  static ledger_genesis_t g;
  memset(&g, 0, sizeof g);
  strcpy(g.chain_id, CHAIN);
  g.suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  g.time_ms = 1;
  g.n_validators = 4;
  for (int i = 0; i < 4; i++) {
    key(&g_val[i], (uint8_t)(40 + i));
    memcpy(g.validators[i].pk, g_val[i].pk, 32);
    g.validators[i].power = (uint64_t)(i + 1);
    strcpy(g.validators[i].name, "v");
  }
  key(&g_admin, 50);
  key(&g_outsider, 51);
  g.n_authorities = 1;
  memcpy(g.authorities[0].pk, g_admin.pk, 32);
  g.authorities[0].roles = ROLE_ADMIN;
  assert_int_equal(store_open_mem(&g_store), 0);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_store, true, &t), 0);
  assert_int_equal(ledger_init_store(t, &REG, &g), 0);
  assert_int_equal(store_txn_commit(t), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  store_close(g_store);
  return 0;
}

/* Two precommits by validator `who` for (height, round) with different ids. */
static void equivocation(ve_buf_t *ev, int who, uint64_t height, const vcrypto_keypair_t *signer) {
  cons_vote_t a = {.height = height, .round = 0, .type = CONS_VOTE_PRECOMMIT, .index = (uint32_t)who, .has_id = true};
  cons_vote_t b = a;
  memset(a.id, 0xaa, 32);
  memset(b.id, 0xbb, 32);
  cons_vote_sign(&a, signer, CHAIN);
  cons_vote_sign(&b, signer, CHAIN);
  assert_int_equal(cons_evidence_vote_encode(ev, signer->pk, &a, &b), 0);
}

/* Submits evidence in a block signed by kp; returns the tx result. */
static int32_t submit(const vcrypto_keypair_t *kp, ve_slice_t ev) {
  ve_buf_t p, txb, blk;
  ve_buf_init(&p, 0);
  ve_buf_init(&txb, 0);
  ve_buf_init(&blk, 0);
  assert_int_equal(evidence_payload(&p, ev), 0);
  ledger_tx_t tx = {.version = 1, .chain_id = ve_slice(CHAIN, strlen(CHAIN)), .seq = g_seq++,
                    .expiry = 1000, .type = TX_TYPE_EVIDENCE_SUBMIT, .payload = ve_buf_slice(&p)};
  assert_int_equal(ledger_tx_sign(&tx, kp), 0);
  assert_int_equal(ledger_tx_encode(&tx, &txb), 0);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_store, true, &t), 0);
  ledger_tip_t tip;
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  ledger_header_t h;
  uint8_t vs[32] = {0}, id[32];
  ledger_header_next(&tip, ve_slice(CHAIN, strlen(CHAIN)), tip.last_time_ms + 1, vs, g_val[0].pk, &h);
  ve_slice_t one = ve_buf_slice(&txb);
  ledger_tx_id(id, one);
  ledger_merkle_root((const uint8_t(*)[32])id, 1, h.tx_root);
  h.tx_count = 1;
  assert_int_equal(ledger_block_encode(&h, &one, 1, &blk), 0);
  int32_t res;
  assert_int_equal(ledger_block_commit(t, &REG, ve_buf_slice(&blk), ve_slice("c", 1), &res), 0);
  assert_int_equal(store_txn_commit(t), 0);
  ve_buf_free(&p);
  ve_buf_free(&txb);
  ve_buf_free(&blk);
  return res;
}

static void test_validators_are_identities(void **state) {
  (void)state;
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_store, false, &t), 0);
  identity_t rec;
  bool current;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(identity_get_by_key(t, g_val[i].pk, &rec, &current), 0);
    assert_int_equal(rec.roles, 0);
  }
  store_txn_abort(t);
}

static void test_equivocation_recorded(void **state) {
  (void)state;
  ve_buf_t ev;
  ve_buf_init(&ev, 0);
  equivocation(&ev, 2, 5, &g_val[2]); /* about height 5, submitted in block 1: from the future */
  assert_int_equal(submit(&g_val[0], ve_buf_slice(&ev)), VE_ERR_HEIGHT);
  ve_buf_reset(&ev);
  equivocation(&ev, 2, 1, &g_val[2]); /* about height 1, in block 2 */
  assert_int_equal(submit(&g_val[0], ve_buf_slice(&ev)), 0);
  uint8_t id[32], k[35];
  evidence_id(id, ve_buf_slice(&ev));
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_store, false, &t), 0);
  ve_slice_t v;
  assert_int_equal(state_get(t, ve_slice(k, evidence_state_key(k, id)), &v), 0);
  evidence_record_t rec;
  assert_int_equal(evidence_decode(v, id, &rec), 0);
  assert_memory_equal(rec.info.pk, g_val[2].pk, 32); /* names the guilty validator */
  assert_int_equal(rec.info.height, 1);
  assert_int_equal(rec.included_height, 2);
  uint8_t sub[32];
  identity_id_from_pk(sub, g_val[0].pk);
  assert_memory_equal(rec.submitter, sub, 32);
  store_txn_abort(t);
  /* The same evidence again (another tx, another signer): already recorded. */
  assert_int_equal(submit(&g_admin, ve_buf_slice(&ev)), VE_ERR_EXISTS);
  ve_buf_free(&ev);
}

static void test_bogus_evidence_refused(void **state) {
  (void)state;
  ve_buf_t ev;
  ve_buf_init(&ev, 0);
  /* A key outside the validator set "equivocating". */
  equivocation(&ev, 1, 2, &g_outsider);
  int32_t rc = submit(&g_admin, ve_buf_slice(&ev));
  assert_true(rc == VE_ERR_PROOF || rc == VE_ERR_INVALID || rc == VE_ERR_MALFORMED);
  /* A forged signature: validator 3's votes signed by validator 1's key. */
  ve_buf_reset(&ev);
  cons_vote_t a = {.height = 2, .round = 1, .type = CONS_VOTE_PREVOTE, .index = 3, .has_id = true};
  cons_vote_t b = a;
  memset(a.id, 1, 32);
  memset(b.id, 2, 32);
  cons_vote_sign(&a, &g_val[1], CHAIN);
  cons_vote_sign(&b, &g_val[1], CHAIN);
  assert_int_equal(cons_evidence_vote_encode(&ev, g_val[3].pk, &a, &b), 0);
  assert_int_equal(submit(&g_admin, ve_buf_slice(&ev)), VE_ERR_PROOF);
  /* Garbage bytes. */
  uint8_t junk[40] = {1, 2, 3};
  rc = submit(&g_admin, ve_slice(junk, sizeof junk));
  assert_true(rc < 0);
  /* Evidence signed for another chain. */
  ve_buf_reset(&ev);
  a = (cons_vote_t){.height = 2, .round = 0, .type = CONS_VOTE_PRECOMMIT, .index = 0, .has_id = true};
  b = a;
  memset(a.id, 5, 32);
  memset(b.id, 6, 32);
  cons_vote_sign(&a, &g_val[0], "other-chain");
  cons_vote_sign(&b, &g_val[0], "other-chain");
  assert_int_equal(cons_evidence_vote_encode(&ev, g_val[0].pk, &a, &b), 0);
  assert_int_equal(submit(&g_admin, ve_buf_slice(&ev)), VE_ERR_PROOF);
  ve_buf_free(&ev);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validators_are_identities),
      cmocka_unit_test(test_equivocation_recorded),
      cmocka_unit_test(test_bogus_evidence_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
