/* tchain.c — see tchain.h. */
#include "tchain.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/identity/identity.h"

void tchain_key(vcrypto_keypair_t *kp, uint8_t id[LEDGER_HASH_BYTES], uint8_t a, uint8_t b) {
  uint8_t seed[VCRYPTO_SEED_BYTES];
  memset(seed, a, sizeof seed);
  seed[0] = b;
  vcrypto_keypair_from_seed(kp, seed);
  if (id) identity_id_from_pk(id, kp->pk);
}

void tchain_init(tchain_t *c, const char *chain_id, const ledger_registry_t *reg) {
  memset(c, 0, sizeof *c);
  assert_int_equal(vcrypto_init(), 0);
  assert_true(strlen(chain_id) < sizeof c->g.chain_id);
  c->reg = reg;
  tchain_key(&c->validator, NULL, 4, 4);
  strcpy(c->g.chain_id, chain_id);
  c->g.suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  c->g.time_ms = 1000;
  c->g.n_validators = 1;
  strcpy(c->g.validators[0].name, "v0");
  c->g.validators[0].power = 10;
  memset(c->valset, 7, sizeof c->valset);
  c->seq = 1;
}

void tchain_authority(tchain_t *c, const char *name, const vcrypto_keypair_t *kp, uint32_t roles) {
  assert_true(c->g.n_authorities < VE_AUTHORITIES_MAX);
  ledger_authority_t *a = &c->g.authorities[c->g.n_authorities++];
  snprintf(a->name, sizeof a->name, "%s", name);
  memcpy(a->pk, kp->pk, VCRYPTO_PK_BYTES);
  a->roles = roles;
}

void tchain_open(tchain_t *c, store_t *store) {
  memcpy(c->g.validators[0].pk, c->validator.pk, VCRYPTO_PK_BYTES);
  c->owns_store = store == NULL;
  if (store) c->store = store;
  else assert_int_equal(store_open_mem(&c->store), 0);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->store, true, &t), 0);
  assert_int_equal(ledger_init_store(t, c->reg, &c->g), 0);
  assert_int_equal(store_txn_commit(t), 0);
}

void tchain_free(tchain_t *c) {
  if (c->owns_store) store_close(c->store);
  c->store = NULL;
  vcrypto_keypair_wipe(&c->validator);
}

ve_slice_t tchain_id(const tchain_t *c) { return ve_slice(c->g.chain_id, strlen(c->g.chain_id)); }

void tchain_tx(tchain_t *c, ve_buf_t *out, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION,
                    .chain_id = tchain_id(c),
                    .seq = c->seq++,
                    .expiry = TCHAIN_EXPIRY,
                    .type = type,
                    .payload = payload};
  assert_int_equal(ledger_tx_sign(&tx, kp), 0);
  assert_int_equal(ledger_tx_encode(&tx, out), 0);
}

/* The validator-set hash block height names. */
static void valset_at(tchain_t *c, store_txn_t *t, uint64_t height, uint8_t out[LEDGER_HASH_BYTES]) {
  if (c->valset_of) c->valset_of(c->cons_ctx, t, height, out);
  else memcpy(out, c->valset, LEDGER_HASH_BYTES);
}

static void block_on(tchain_t *c, store_txn_t *t, const ve_buf_t *txs, size_t n, ve_buf_t *out) {
  ledger_tip_t tip;
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  uint8_t vs[LEDGER_HASH_BYTES];
  valset_at(c, t, tip.height + 1, vs);
  ledger_header_t h;
  uint64_t time_ms = c->next_time_ms ? c->next_time_ms : tip.last_time_ms + TCHAIN_BLOCK_STEP_MS;
  assert_true(time_ms > tip.last_time_ms);
  ledger_header_next(&tip, tchain_id(c), time_ms, vs, c->validator.pk, &h);
  ve_slice_t *sl = calloc(n ? n : 1, sizeof *sl);
  assert_non_null(sl);
  for (size_t i = 0; i < n; i++) sl[i] = ve_buf_slice(&txs[i]);
  ve_buf_reset(out);
  assert_int_equal(ledger_block_build(&h, sl, NULL, n, out), 0);
  free(sl);
}

void tchain_block(tchain_t *c, const ve_buf_t *txs, size_t n, ve_buf_t *out) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->store, false, &t), 0);
  block_on(c, t, txs, n, out);
  store_txn_abort(t);
}

void tchain_commit(tchain_t *c, const ve_buf_t *txs, size_t n, int32_t *results) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->store, true, &t), 0);
  ve_buf_t blk;
  ve_buf_init(&blk, 0);
  block_on(c, t, txs, n, &blk);
  ledger_block_t b;
  assert_int_equal(ledger_block_decode(ve_buf_slice(&blk), &b), 0);
  uint8_t vs[LEDGER_HASH_BYTES];
  valset_at(c, t, b.header.height, vs);
  assert_int_equal(ledger_block_validate(t, ve_buf_slice(&blk), vs, NULL, NULL), 0);
  ve_buf_t cert;
  ve_buf_init(&cert, 0);
  if (c->cert) c->cert(c->cons_ctx, t, &b.header, &cert);
  else assert_int_equal(ve_buf_append(&cert, "cert", 4), 0);
  ledger_block_free(&b);
  assert_int_equal(ledger_block_commit(t, c->reg, ve_buf_slice(&blk), ve_buf_slice(&cert), results), 0);
  ve_buf_free(&cert);
  if (c->after) c->after(c->after_ctx, t, ve_buf_slice(&blk));
  assert_int_equal(store_txn_commit(t), 0);
  ve_buf_free(&blk);
  c->next_time_ms = 0;
}

int32_t tchain_run1(tchain_t *c, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload) {
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  tchain_tx(c, &tx, kp, type, payload);
  int32_t res;
  tchain_commit(c, &tx, 1, &res);
  ve_buf_free(&tx);
  return res;
}

uint64_t tchain_height(tchain_t *c) {
  store_txn_t *t;
  ledger_tip_t tip;
  assert_int_equal(store_txn_begin(c->store, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  store_txn_abort(t);
  return tip.height;
}
