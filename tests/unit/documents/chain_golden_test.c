/* chain_golden_test.c — fixed block hashes, state roots and results roots of a
 * small chain of identity and document registrations.
 *
 * Why: speed work on the execution path (tx ids, Merkle roots, the overlay,
 * the state commit, the apps) must not change a single consensus byte. The
 * chain below is built from fixed keys and times (tests/unit/common/tchain),
 * so its tip is a constant; the constants were computed by the code before
 * the first such change (main at 88983f6). A change that alters any block
 * hash, state root or results root fails here, whichever module it is in.
 * The blocks mix successes and failures (a digest registered twice, a
 * document about an unknown identity), so result codes are covered too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "tchain.h"

static const ledger_registry_t REG = {&identity_auth, {&identity_app, &documents_app}, 2, NULL};

#define GOLDEN_CITIZENS 12
#define GOLDEN_DOCS 12

static void hex(char out[2 * LEDGER_HASH_BYTES + 1], const uint8_t h[LEDGER_HASH_BYTES]) {
  for (size_t i = 0; i < LEDGER_HASH_BYTES; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void doc_tx(tchain_t *c, ve_buf_t *tx, const vcrypto_keypair_t *kp,
                   const uint8_t subject[LEDGER_HASH_BYTES], uint8_t n) {
  documents_spec_t spec;
  memset(&spec, 0, sizeof spec);
  snprintf(spec.type, sizeof spec.type, "golden");
  memcpy(spec.subject, subject, LEDGER_HASH_BYTES);
  assert_int_equal(documents_digest_file_bytes(&spec.digest, DOCUMENTS_ALG_BLAKE2B_256, &n, 1), 0);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(documents_payload_register(&p, &spec), 0);
  tchain_tx(c, tx, kp, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p));
  ve_buf_free(&p);
}

/* The tip after each block, as "block hash state root results root" in hex. */
static void tip_hex(tchain_t *c, char out[3 * (2 * LEDGER_HASH_BYTES + 1)]) {
  store_txn_t *t;
  ledger_tip_t tip;
  assert_int_equal(store_txn_begin(c->store, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  store_txn_abort(t);
  hex(out, tip.last_hash);
  out[64] = ' ';
  hex(out + 65, tip.state_root);
  out[129] = ' ';
  hex(out + 130, tip.results_root);
}

static const char *const GOLDEN[2] = {
    "52aed53fcfe782a5e5a95ead3d5f06f74cfa2fcc8500904e6c6640b699a5bd44 "
    "048dae4a94ae7946d433824f06fc17a1a8da370ac6a85e33632b4dda65c8a49b "
    "dea5d65474cd33d518833f0577b5899bb2113e5c4a13447d020636ba8cb7ef57",
    "a3d64b6e626f4194c15d93860dfd7b9d58764c6f575ae28ab6c321d3432f8c88 "
    "379268d414ae161671a803c360a13ed59f4ff1055569ba64220ea2c0d696a8b5 "
    "118545745abf837c3f1b1d719d221f78fb44f4a147f05ae8a6b6cd94facc3115",
};

static void test_chain_golden(void **state) {
  (void)state;
  tchain_t c;
  tchain_init(&c, "veche-golden", &REG);
  vcrypto_keypair_t reg;
  uint8_t reg_id[LEDGER_HASH_BYTES];
  tchain_key(&reg, reg_id, 1, 1);
  tchain_authority(&c, "registrar", &reg, ROLE_ADMIN | ROLE_REGISTRAR);
  tchain_open(&c, NULL);

  ve_buf_t txs[GOLDEN_CITIZENS + GOLDEN_DOCS + 2];
  for (size_t i = 0; i < sizeof txs / sizeof txs[0]; i++) ve_buf_init(&txs[i], 0);
  size_t n = 0;
  uint8_t attr[LEDGER_HASH_BYTES] = {7};
  for (uint8_t i = 0; i < GOLDEN_CITIZENS; i++) {
    vcrypto_keypair_t kp;
    tchain_key(&kp, NULL, 2, i);
    ve_buf_t p;
    ve_buf_init(&p, 0);
    assert_int_equal(identity_payload_register(&p, kp.pk, attr, NULL, 0), 0);
    tchain_tx(&c, &txs[n++], &reg, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
    ve_buf_free(&p);
  }
  for (uint8_t i = 0; i < GOLDEN_DOCS; i++) doc_tx(&c, &txs[n++], &reg, reg_id, i);
  doc_tx(&c, &txs[n++], &reg, reg_id, 3); /* the same digest again: refused */
  uint8_t nobody[LEDGER_HASH_BYTES] = {9};
  doc_tx(&c, &txs[n++], &reg, nobody, 200); /* unknown subject: refused */
  int32_t results[GOLDEN_CITIZENS + GOLDEN_DOCS + 2];
  tchain_commit(&c, txs, n, results);
  assert_int_equal(results[0], VE_OK);
  assert_int_equal(results[GOLDEN_CITIZENS], VE_OK);
  assert_int_not_equal(results[n - 2], VE_OK);
  assert_int_not_equal(results[n - 1], VE_OK);

  char got[3 * (2 * LEDGER_HASH_BYTES + 1)];
  tip_hex(&c, got);
  printf("block 1: %s\n", got);
  assert_string_equal(got, GOLDEN[0]);

  /* A second block: documents about citizens registered in the first. */
  for (size_t i = 0; i < n; i++) ve_buf_reset(&txs[i]);
  n = 0;
  for (uint8_t i = 0; i < 4; i++) {
    uint8_t citizen[LEDGER_HASH_BYTES];
    vcrypto_keypair_t kp;
    tchain_key(&kp, citizen, 2, i);
    doc_tx(&c, &txs[n++], &reg, citizen, (uint8_t)(100 + i));
  }
  tchain_commit(&c, txs, n, results);
  tip_hex(&c, got);
  printf("block 2: %s\n", got);
  assert_string_equal(got, GOLDEN[1]);

  for (size_t i = 0; i < sizeof txs / sizeof txs[0]; i++) ve_buf_free(&txs[i]);
  vcrypto_keypair_wipe(&reg);
  tchain_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_chain_golden)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
