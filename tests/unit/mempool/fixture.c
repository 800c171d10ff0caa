/* fixture.c — see fixture.h. */
#include "fixture.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"

static const ledger_registry_t REG = {&identity_auth, {&identity_app}, 1, NULL};

void fx_key(vcrypto_keypair_t *kp, uint32_t n) {
  uint8_t seed[VCRYPTO_SEED_BYTES];
  memset(seed, 0x5a, sizeof seed);
  ve_be64_put(seed, n);
  vcrypto_keypair_from_seed(kp, seed);
}

ve_slice_t fx_chain(void) { return ve_slice(FX_CHAIN, strlen(FX_CHAIN)); }

void fx_init(fx_t *f, const mempool_config_t *cfg) {
  memset(f, 0, sizeof *f);
  assert_int_equal(vcrypto_init(), 0);
  f->reg = REG;
  fx_key(&f->root, 1);
  fx_key(&f->clerk, 2);
  fx_key(&f->validator, 3);
  strcpy(f->g.chain_id, FX_CHAIN);
  f->g.suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  f->g.time_ms = 1000;
  f->g.n_validators = 1;
  strcpy(f->g.validators[0].name, "v0");
  memcpy(f->g.validators[0].pk, f->validator.pk, VCRYPTO_PK_BYTES);
  f->g.validators[0].power = 1;
  f->g.n_authorities = 2;
  strcpy(f->g.authorities[0].name, "root");
  memcpy(f->g.authorities[0].pk, f->root.pk, VCRYPTO_PK_BYTES);
  f->g.authorities[0].roles = ROLE_ADMIN | ROLE_REGISTRAR;
  strcpy(f->g.authorities[1].name, "clerk");
  memcpy(f->g.authorities[1].pk, f->clerk.pk, VCRYPTO_PK_BYTES);
  f->g.authorities[1].roles = ROLE_REGISTRAR;
  memset(f->valset, 7, sizeof f->valset);
  assert_int_equal(store_open_mem(&f->store), 0);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(f->store, true, &t), 0);
  assert_int_equal(ledger_init_store(t, &REG, &f->g), 0);
  assert_int_equal(store_txn_commit(t), 0);
  assert_int_equal(mempool_new(cfg, &REG, &f->mp), 0);
}

void fx_free(fx_t *f) {
  mempool_free(f->mp);
  store_close(f->store);
  vcrypto_keypair_wipe(&f->root);
  vcrypto_keypair_wipe(&f->clerk);
  vcrypto_keypair_wipe(&f->validator);
}

uint64_t fx_next_height(fx_t *f) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(f->store, false, &t), 0);
  ledger_tip_t tip;
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  store_txn_abort(t);
  return tip.height + 1;
}

void fx_tx(ve_buf_t *out, const vcrypto_keypair_t *signer, const char *chain, uint64_t seq,
           uint64_t expiry, uint32_t type, ve_slice_t payload) {
  if (!chain) chain = FX_CHAIN;
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION,
                    .chain_id = ve_slice(chain, strlen(chain)),
                    .seq = seq,
                    .expiry = expiry,
                    .type = type,
                    .payload = payload};
  assert_int_equal(ledger_tx_sign(&tx, signer), 0);
  ve_buf_reset(out);
  assert_int_equal(ledger_tx_encode(&tx, out), 0);
}

void fx_register(fx_t *f, ve_buf_t *out, const vcrypto_keypair_t *signer, uint64_t seq, uint32_t n) {
  vcrypto_keypair_t kp;
  fx_key(&kp, n);
  uint8_t digest[LEDGER_HASH_BYTES];
  memset(digest, 0xab, sizeof digest);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_register(&p, kp.pk, digest, NULL, 0), 0);
  fx_tx(out, signer, NULL, seq, fx_next_height(f) + FX_EXPIRY_AHEAD, TX_TYPE_IDENTITY_REGISTER,
        ve_buf_slice(&p));
  ve_buf_free(&p);
  vcrypto_keypair_wipe(&kp);
}

void fx_status(fx_t *f, ve_buf_t *out, const vcrypto_keypair_t *signer, uint64_t seq, uint32_t type,
               const uint8_t pk[VCRYPTO_PK_BYTES]) {
  uint8_t id[LEDGER_HASH_BYTES];
  identity_id_from_pk(id, pk);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_status(&p, id, "test"), 0);
  fx_tx(out, signer, NULL, seq, fx_next_height(f) + FX_EXPIRY_AHEAD, type, ve_buf_slice(&p));
  ve_buf_free(&p);
}

int fx_admit(fx_t *f, ve_slice_t tx, uint8_t id_out[LEDGER_HASH_BYTES]) {
  return mempool_add(f->mp, f->store, fx_chain(), fx_next_height(f), tx, id_out);
}

void fx_commit(fx_t *f, const ve_slice_t *txs, size_t n, int32_t *results) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(f->store, true, &t), 0);
  ledger_tip_t tip;
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  ledger_header_t h;
  ledger_header_next(&tip, fx_chain(), tip.last_time_ms + 1000, f->valset, f->validator.pk, &h);
  uint8_t(*ids)[LEDGER_HASH_BYTES] = calloc(n ? n : 1, LEDGER_HASH_BYTES);
  assert_non_null(ids);
  for (size_t i = 0; i < n; i++) ledger_tx_id(ids[i], txs[i]);
  ledger_merkle_root((const uint8_t(*)[LEDGER_HASH_BYTES])ids, n, h.tx_root);
  h.tx_count = (uint32_t)n;
  ve_buf_t blk;
  ve_buf_init(&blk, 0);
  assert_int_equal(ledger_block_encode(&h, txs, n, &blk), 0);
  assert_int_equal(
      ledger_block_validate(t, ve_buf_slice(&blk), f->valset, mempool_sig_checked, f->mp), 0);
  assert_int_equal(
      ledger_block_commit(t, &f->reg, ve_buf_slice(&blk), ve_slice("cert", 4), results), 0);
  assert_int_equal(store_txn_commit(t), 0);
  mempool_on_commit(f->mp, (const uint8_t(*)[LEDGER_HASH_BYTES])ids, n, h.height + 1);
  ve_buf_free(&blk);
  free(ids);
}
