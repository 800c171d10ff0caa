/* ledger_test.c — transactions, blocks, genesis, execution and identities.
 *
 * Drives a chain in a memory store the way the node does: build a block from
 * signed transactions, validate it, commit it, and inspect state and results. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "state/state.h"
#include "tchain.h"

#define CHAIN "veche-test-1"

static const ledger_registry_t REG = {&identity_auth, {&identity_app}, 1, NULL};

typedef struct {
  tchain_t tc;
  vcrypto_keypair_t admin, registrar;
} chain_t;

static void seed_key(vcrypto_keypair_t *kp, uint8_t n) { tchain_key(kp, NULL, n, n); }

static void chain_init(chain_t *c) {
  memset(c, 0, sizeof *c);
  tchain_init(&c->tc, CHAIN, &REG);
  seed_key(&c->admin, 1);
  seed_key(&c->registrar, 2);
  tchain_authority(&c->tc, "ministry", &c->admin, ROLE_ADMIN);
  tchain_authority(&c->tc, "city registry", &c->registrar, ROLE_REGISTRAR);
  tchain_open(&c->tc, NULL);
}

static void chain_free(chain_t *c) { tchain_free(&c->tc); }

static void register_payload(ve_buf_t *p, const uint8_t pk[32], const char *district) {
  uint8_t digest[32];
  memset(digest, 0xab, 32);
  identity_attr_t a;
  memset(&a, 0, sizeof a);
  strcpy(a.key, "district");
  if (district) strcpy(a.value, district);
  assert_int_equal(identity_payload_register(p, pk, digest, &a, district ? 1 : 0), 0);
}

/* ---- encoding ---- */

static void test_tx_roundtrip_and_strictness(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  ve_buf_t p, b;
  ve_buf_init(&p, 0);
  ve_buf_init(&b, 0);
  register_payload(&p, c.admin.pk, "north");
  tchain_tx(&c.tc, &b, &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  ledger_tx_t tx;
  assert_int_equal(ledger_tx_decode(ve_buf_slice(&b), &tx), 0);
  assert_int_equal(ledger_tx_verify_sig(&tx), 0);
  ve_buf_t again;
  ve_buf_init(&again, 0);
  assert_int_equal(ledger_tx_encode(&tx, &again), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&b), ve_buf_slice(&again)));
  /* Trailing byte, truncation, unknown version. */
  ve_buf_append(&again, "x", 1);
  assert_int_equal(ledger_tx_decode(ve_buf_slice(&again), &tx), VE_ERR_TRAILING);
  assert_int_not_equal(ledger_tx_decode(ve_slice(b.ptr, b.len - 1), &tx), 0);
  b.ptr[0] = 2;
  assert_int_equal(ledger_tx_decode(ve_buf_slice(&b), &tx), VE_ERR_VERSION);
  b.ptr[0] = 1;
  /* Any flipped bit in the signed part breaks the signature. */
  for (size_t i = 1; i < b.len; i += 7) {
    b.ptr[i] ^= 0x01;
    if (ledger_tx_decode(ve_buf_slice(&b), &tx) == 0) assert_int_not_equal(ledger_tx_verify_sig(&tx), 0);
    b.ptr[i] ^= 0x01;
  }
  ve_buf_free(&p);
  ve_buf_free(&b);
  ve_buf_free(&again);
  chain_free(&c);
}

static void test_merkle_root(void **state) {
  (void)state;
  uint8_t leaves[5][32], r1[32], r2[32], r3[32];
  for (int i = 0; i < 5; i++) memset(leaves[i], i + 1, 32);
  ledger_merkle_root((const uint8_t(*)[32])leaves, 5, r1);
  ledger_merkle_root((const uint8_t(*)[32])leaves, 4, r2);
  assert_memory_not_equal(r1, r2, 32);
  leaves[4][0] ^= 1;
  ledger_merkle_root((const uint8_t(*)[32])leaves, 5, r3);
  assert_memory_not_equal(r1, r3, 32);
  /* Duplicating the last leaf must not give the same root (no Bitcoin ambiguity). */
  uint8_t three[3][32], four[4][32];
  for (int i = 0; i < 3; i++) memset(three[i], i, 32), memset(four[i], i, 32);
  memset(four[3], 2, 32);
  ledger_merkle_root((const uint8_t(*)[32])three, 3, r1);
  ledger_merkle_root((const uint8_t(*)[32])four, 4, r2);
  assert_memory_not_equal(r1, r2, 32);
}

static void test_genesis(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(ledger_genesis_encode(&c.tc.g, &b), 0);
  ledger_genesis_t g2;
  assert_int_equal(ledger_genesis_decode(ve_buf_slice(&b), &g2), 0);
  assert_string_equal(g2.chain_id, CHAIN);
  assert_int_equal(g2.n_authorities, 2);
  assert_int_equal(ledger_genesis_check(&g2), 0);
  /* Re-initialising with the same genesis: exists; with another: config error. */
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c.tc.store, true, &t), 0);
  assert_int_equal(ledger_init_store(t, &REG, &c.tc.g), VE_ERR_EXISTS);
  g2.time_ms++;
  assert_int_equal(ledger_init_store(t, &REG, &g2), VE_ERR_CONFIG);
  store_txn_abort(t);
  /* Semantic checks. */
  g2 = c.tc.g;
  g2.authorities[0].roles = ROLE_NOTARY;
  assert_int_equal(ledger_genesis_check(&g2), VE_ERR_CONFIG); /* nobody is admin */
  g2 = c.tc.g;
  memcpy(g2.authorities[1].pk, g2.authorities[0].pk, 32);
  assert_int_equal(ledger_genesis_check(&g2), VE_ERR_DUPLICATE);
  g2 = c.tc.g;
  g2.validators[0].power = 0;
  assert_int_equal(ledger_genesis_check(&g2), VE_ERR_CONFIG);
  g2 = c.tc.g;
  g2.suite = 99;
  assert_int_equal(ledger_genesis_check(&g2), VE_ERR_UNSUPPORTED);
  ve_buf_free(&b);
  chain_free(&c);
}

/* ---- identities through blocks ---- */

static void test_identity_lifecycle(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  vcrypto_keypair_t alice, alice2, bob;
  seed_key(&alice, 10);
  seed_key(&alice2, 11);
  seed_key(&bob, 12);
  uint8_t alice_id[32], bob_id[32];
  identity_id_from_pk(alice_id, alice.pk);
  identity_id_from_pk(bob_id, bob.pk);

  ve_buf_t txs[8], p;
  for (int i = 0; i < 8; i++) ve_buf_init(&txs[i], 0);
  ve_buf_init(&p, 0);
  register_payload(&p, alice.pk, "north");
  tchain_tx(&c.tc, &txs[0], &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  ve_buf_reset(&p);
  register_payload(&p, bob.pk, NULL);
  tchain_tx(&c.tc, &txs[1], &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  /* Same key again: already exists. */
  tchain_tx(&c.tc, &txs[2], &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  /* A citizen cannot register anyone. */
  vcrypto_keypair_t carol;
  seed_key(&carol, 13);
  ve_buf_reset(&p);
  register_payload(&p, carol.pk, NULL);
  tchain_tx(&c.tc, &txs[3], &alice, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  int32_t res[8];
  tchain_commit(&c.tc, txs, 4, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  assert_int_equal(res[2], VE_ERR_EXISTS);
  assert_int_equal(res[3], VE_ERR_PERMISSION);

  store_txn_t *t;
  identity_t rec;
  bool current;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(identity_get(t, alice_id, &rec), 0);
  assert_int_equal(rec.status, IDENTITY_ACTIVE);
  assert_int_equal(rec.n_attrs, 1);
  assert_string_equal(rec.attrs[0].value, "north");
  assert_int_equal(rec.registered_height, 1);
  assert_int_equal(identity_get_by_key(t, carol.pk, &rec, &current), VE_ERR_NOT_FOUND);
  /* The failed tx index records its reason. */
  ledger_tx_result_t tr;
  uint8_t id3[32];
  ledger_tx_id(id3, ve_buf_slice(&txs[3]));
  assert_int_equal(ledger_tx_result_get(t, id3, &tr), 0);
  assert_int_equal(tr.code, VE_ERR_PERMISSION);
  assert_int_equal(tr.height, 1);
  assert_int_equal(tr.index, 3);
  store_txn_abort(t);

  /* Rotate alice's key; the old key then signs nothing. */
  for (int i = 0; i < 8; i++) ve_buf_reset(&txs[i]);
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_rotate(&p, ve_slice(CHAIN, strlen(CHAIN)), alice_id, &alice2), 0);
  tchain_tx(&c.tc, &txs[0], &alice, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p));
  tchain_tx(&c.tc, &txs[1], &alice, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p)); /* old key now */
  /* Suspend bob; his tx in the same block afterwards fails as suspended. */
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, bob_id, "court order 17"), 0);
  tchain_tx(&c.tc, &txs[2], &c.registrar, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&p));
  ve_buf_t p2;
  ve_buf_init(&p2, 0);
  assert_int_equal(identity_payload_rotate(&p2, ve_slice(CHAIN, strlen(CHAIN)), bob_id, &carol), 0);
  tchain_tx(&c.tc, &txs[3], &bob, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p2));
  /* A registrar cannot suspend an authority (the admin). */
  uint8_t admin_id[32];
  identity_id_from_pk(admin_id, c.admin.pk);
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, admin_id, "coup"), 0);
  tchain_tx(&c.tc, &txs[4], &c.registrar, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&p));
  tchain_commit(&c.tc, txs, 5, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], VE_ERR_REVOKED);
  assert_int_equal(res[2], 0);
  assert_int_equal(res[3], VE_ERR_SUSPENDED);
  assert_int_equal(res[4], VE_ERR_PERMISSION);

  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(identity_get_by_key(t, alice.pk, &rec, &current), 0);
  assert_false(current);
  assert_int_equal(identity_get_by_key(t, alice2.pk, &rec, &current), 0);
  assert_true(current);
  assert_int_equal(rec.key_version, 1);
  assert_memory_equal(rec.id, alice_id, 32);
  assert_int_equal(identity_get(t, bob_id, &rec), 0);
  assert_int_equal(rec.status, IDENTITY_SUSPENDED);
  store_txn_abort(t);

  /* Restore then revoke bob; revoked is terminal; admin grants roles. */
  for (int i = 0; i < 8; i++) ve_buf_reset(&txs[i]);
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, bob_id, "cleared"), 0);
  tchain_tx(&c.tc, &txs[0], &c.registrar, TX_TYPE_IDENTITY_RESTORE, ve_buf_slice(&p));
  tchain_tx(&c.tc, &txs[1], &c.registrar, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p));
  tchain_tx(&c.tc, &txs[2], &c.registrar, TX_TYPE_IDENTITY_RESTORE, ve_buf_slice(&p));
  ve_buf_reset(&p2);
  assert_int_equal(identity_payload_set_roles(&p2, alice_id, ROLE_NOTARY), 0);
  tchain_tx(&c.tc, &txs[3], &c.registrar, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&p2));
  tchain_tx(&c.tc, &txs[4], &c.admin, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&p2));
  tchain_tx(&c.tc, &txs[5], &c.admin, 0x7777, ve_buf_slice(&p2)); /* no app owns it */
  tchain_commit(&c.tc, txs, 6, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  assert_int_equal(res[2], VE_ERR_STATE);
  assert_int_equal(res[3], VE_ERR_PERMISSION);
  assert_int_equal(res[4], 0);
  assert_int_equal(res[5], VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(identity_get(t, alice_id, &rec), 0);
  assert_int_equal(rec.roles, ROLE_NOTARY);
  assert_int_equal(identity_get(t, bob_id, &rec), 0);
  assert_int_equal(rec.status, IDENTITY_REVOKED);
  store_txn_abort(t);

  for (int i = 0; i < 8; i++) ve_buf_free(&txs[i]);
  ve_buf_free(&p);
  ve_buf_free(&p2);
  chain_free(&c);
}

/* Sequences: fresh if above the highest used, or unused within the window below
 * it; replays and too-old sequences fail; a failed tx's sequence is spent. */
static void test_sequences_and_expiry(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  vcrypto_keypair_t x, y;
  seed_key(&x, 20);
  seed_key(&y, 21);
  ve_buf_t txs[5], p, q;
  for (int i = 0; i < 5; i++) ve_buf_init(&txs[i], 0);
  ve_buf_init(&p, 0);
  ve_buf_init(&q, 0);
  register_payload(&p, x.pk, NULL);
  register_payload(&q, y.pk, NULL);
  c.tc.seq = 5000;
  tchain_tx(&c.tc, &txs[0], &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  c.tc.seq = 5000 - LEDGER_SEQ_WINDOW + 1; /* oldest sequence still inside the window */
  tchain_tx(&c.tc, &txs[1], &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&q));
  c.tc.seq = 5000 - LEDGER_SEQ_WINDOW + 1; /* the same sequence again: a replay */
  tchain_tx(&c.tc, &txs[2], &c.registrar, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&q));
  c.tc.seq = 5000 - LEDGER_SEQ_WINDOW; /* just outside the window */
  tchain_tx(&c.tc, &txs[3], &c.registrar, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&q));
  c.tc.seq = 0; /* never valid */
  tchain_tx(&c.tc, &txs[4], &c.registrar, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&q));
  int32_t res[5];
  tchain_commit(&c.tc, txs, 5, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  assert_int_equal(res[2], VE_ERR_STALE_SEQ);
  assert_int_equal(res[3], VE_ERR_STALE_SEQ);
  assert_int_equal(res[4], VE_ERR_STALE_SEQ);
  /* A failed tx spends its sequence: 6000 fails (no permission), its replay is stale. */
  ve_buf_t fail, replay;
  ve_buf_init(&fail, 0);
  ve_buf_init(&replay, 0);
  c.tc.seq = 6000;
  uint8_t yid[32];
  identity_id_from_pk(yid, y.pk);
  ve_buf_t roles;
  ve_buf_init(&roles, 0);
  assert_int_equal(identity_payload_set_roles(&roles, yid, ROLE_NOTARY), 0);
  tchain_tx(&c.tc, &fail, &c.registrar, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&roles));
  ve_buf_free(&roles);
  tchain_commit(&c.tc, &fail, 1, res);
  assert_int_equal(res[0], VE_ERR_PERMISSION);
  c.tc.seq = 6000; /* another tx with the spent sequence */
  tchain_tx(&c.tc, &replay, &c.registrar, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&q));
  tchain_commit(&c.tc, &replay, 1, res);
  assert_int_equal(res[0], VE_ERR_STALE_SEQ);
  /* A block replaying a committed tx, or carrying one tx twice, is invalid, and
   * forcing one through commit keeps the original index entry. */
  ve_buf_reset(&replay);
  ve_buf_append(&replay, txs[0].ptr, txs[0].len);
  uint8_t id0[32];
  ledger_tx_id(id0, ve_buf_slice(&txs[0]));
  {
    store_txn_t *w;
    assert_int_equal(store_txn_begin(c.tc.store, true, &w), 0);
    ledger_tip_t tip;
    assert_int_equal(ledger_tip_get(w, &tip), 0);
    ledger_header_t h;
    ledger_header_next(&tip, ve_slice(CHAIN, strlen(CHAIN)), tip.last_time_ms + 5, c.tc.valset, c.tc.validator.pk,
                       &h);
    ve_slice_t two[2] = {ve_buf_slice(&replay), ve_buf_slice(&fail)};
    uint8_t ids[2][32];
    memcpy(ids[0], id0, 32);
    ledger_tx_id(ids[1], two[1]);
    ve_buf_t blk;
    ve_buf_init(&blk, 0);
    ledger_merkle_root((const uint8_t(*)[32])ids, 1, h.tx_root);
    h.tx_count = 1;
    assert_int_equal(ledger_block_encode(&h, two, 1, &blk), 0);
    assert_int_equal(ledger_block_validate(w, ve_buf_slice(&blk), c.tc.valset, NULL, NULL), VE_ERR_DUPLICATE);
    assert_int_equal(ledger_block_commit(w, &REG, ve_buf_slice(&blk), ve_slice("c", 1), res), 0);
    assert_int_equal(res[0], VE_ERR_STALE_SEQ);
    ledger_tx_result_t tr;
    assert_int_equal(ledger_tx_result_get(w, id0, &tr), 0);
    assert_int_equal(tr.height, 1); /* still the original commit */
    assert_int_equal(tr.code, 0);
    store_txn_abort(w);
    /* One new tx twice in one block. */
    assert_int_equal(store_txn_begin(c.tc.store, false, &w), 0);
    ve_buf_t fresh;
    ve_buf_init(&fresh, 0);
    c.tc.seq = 6500;
    tchain_tx(&c.tc, &fresh, &c.registrar, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&q));
    two[0] = two[1] = ve_buf_slice(&fresh);
    ledger_tx_id(ids[0], two[0]);
    memcpy(ids[1], ids[0], 32);
    ledger_merkle_root((const uint8_t(*)[32])ids, 2, h.tx_root);
    h.tx_count = 2;
    ve_buf_reset(&blk);
    assert_int_equal(ledger_block_encode(&h, two, 2, &blk), 0);
    assert_int_equal(ledger_block_validate(w, ve_buf_slice(&blk), c.tc.valset, NULL, NULL), VE_ERR_DUPLICATE);
    store_txn_abort(w);
    ve_buf_free(&fresh);
    ve_buf_free(&blk);
  }
  /* The signer lookup reports the highest used sequence. */
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  ledger_exec_t *ex;
  assert_int_equal(ledger_exec_begin(&ex, &REG, t, ve_slice(CHAIN, strlen(CHAIN)), 9, 0), 0);
  ledger_signer_t s;
  assert_int_equal(ledger_signer_lookup(ex, c.registrar.pk, &s), 0);
  assert_int_equal(s.last_seq, 6000);
  ledger_exec_free(ex);
  store_txn_abort(t);
  /* Expired: expiry below the block height. */
  ledger_tx_t tx = {.version = 1, .chain_id = ve_slice(CHAIN, strlen(CHAIN)), .seq = 7000,
                    .expiry = 2, .type = TX_TYPE_IDENTITY_REGISTER, .payload = ve_buf_slice(&p)};
  assert_int_equal(ledger_tx_sign(&tx, &c.registrar), 0);
  ve_buf_reset(&txs[2]);
  assert_int_equal(ledger_tx_encode(&tx, &txs[2]), 0);
  tchain_commit(&c.tc, &txs[2], 1, res);
  assert_int_equal(res[0], VE_ERR_EXPIRED);
  for (int i = 0; i < 5; i++) ve_buf_free(&txs[i]);
  ve_buf_free(&fail);
  ve_buf_free(&replay);
  ve_buf_free(&p);
  ve_buf_free(&q);
  chain_free(&c);
}

/* The sequence window against a plain model: random sequences around the
 * highest used one (so every shift size and alignment occurs), each tx of an
 * unknown type (authorised, so its sequence is spent, then refused by type). */
/* The window against a model. jumps (may be NULL): the first tx of block b
 * moves the top up by jumps[b % n_jumps] exactly (word and bit boundaries of
 * the shift); the others probe random seqs around the top. */
static void seq_window_run(uint64_t seed, const uint64_t *jumps, size_t n_jumps) {
  chain_t c;
  chain_init(&c);
  static uint8_t used[1 << 20]; /* sequences stay far below: 480 txs, jumps ≤ 900 */
  memset(used, 0, sizeof used);
  uint64_t last = 0, rng = seed;
  for (int block = 0; block < 30; block++) {
    ve_buf_t txs[16];
    uint64_t seqs[16];
    int32_t want[16], got[16];
    for (int i = 0; i < 16; i++) {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t r = rng >> 33;
      int64_t s = (int64_t)last + (int64_t)(r % 4400) - 4150;
      if (r % 7 == 0) s = (int64_t)last + 1 + (int64_t)(r % 900); /* jumps ahead */
      if (jumps && i == 0) s = (int64_t)(last + jumps[(size_t)block % n_jumps]);
      if (s < 0) s = 0;
      assert_true((size_t)s < sizeof used);
      seqs[i] = (uint64_t)s;
      bool fresh = s > 0 && !used[s] && ((uint64_t)s > last || last - (uint64_t)s < LEDGER_SEQ_WINDOW);
      want[i] = fresh ? VE_ERR_UNKNOWN_TYPE : VE_ERR_STALE_SEQ;
      if (fresh) {
        used[s] = 1;
        if ((uint64_t)s > last) last = (uint64_t)s;
      }
      uint8_t payload[2] = {(uint8_t)block, (uint8_t)i}; /* every tx distinct */
      ve_buf_init(&txs[i], 0);
      c.tc.seq = seqs[i];
      tchain_tx(&c.tc, &txs[i], &c.admin, 0x7777, ve_slice(payload, 2));
    }
    tchain_commit(&c.tc, txs, 16, got);
    for (int i = 0; i < 16; i++) {
      if (got[i] != want[i])
        fail_msg("block %d tx %d seq %llu: got %d want %d", block, i, (unsigned long long)seqs[i], got[i], want[i]);
      ve_buf_free(&txs[i]);
    }
  }
  chain_free(&c);
}

static void test_seq_window_model(void **state) {
  (void)state;
  uint64_t seed = 12345;
  const char *env = getenv("VECHE_SEED");
  if (env) seed = strtoull(env, NULL, 10);
  printf("seq window model seed=%llu\n", (unsigned long long)seed);
  seq_window_run(seed, NULL, 0);
  static const uint64_t jumps[] = {1, 63, 64, 65, 127, 128, 129, 8, 7, 4095, 1, 4096, 2, 4097, 200, 3000};
  seq_window_run(seed, jumps, sizeof jumps / sizeof jumps[0]);
}

/* Validation rejects blocks that do not extend the tip or carry bad txs. */
static void test_block_validation(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  ledger_tip_t tip;
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  assert_int_equal(tip.height, 0);
  ledger_header_t h;
  ledger_header_next(&tip, ve_slice(CHAIN, strlen(CHAIN)), 5000, c.tc.valset, c.tc.validator.pk, &h);
  ledger_merkle_root(NULL, 0, h.tx_root);
  ve_buf_t blk;
  ve_buf_init(&blk, 0);
#define CHECK_MUTATION(stmt, want)                                                   \
  do {                                                                               \
    ledger_header_t m = h;                                                           \
    stmt;                                                                            \
    ve_buf_reset(&blk);                                                              \
    assert_int_equal(ledger_block_encode(&m, NULL, 0, &blk), 0);                     \
    assert_int_equal(ledger_block_validate(t, ve_buf_slice(&blk), c.tc.valset, NULL, NULL), want); \
  } while (0)
  CHECK_MUTATION((void)0, 0);
  CHECK_MUTATION(m.height = 2, VE_ERR_HEIGHT);
  CHECK_MUTATION(m.prev_hash[0] ^= 1, VE_ERR_HASH_MISMATCH);
  CHECK_MUTATION(m.state_root[0] ^= 1, VE_ERR_HASH_MISMATCH);
  CHECK_MUTATION(m.results_root[0] ^= 1, VE_ERR_HASH_MISMATCH);
  CHECK_MUTATION(m.valset_hash[0] ^= 1, VE_ERR_HASH_MISMATCH);
  CHECK_MUTATION(m.time_ms = 1000, VE_ERR_BAD_TIME);
  CHECK_MUTATION(m.chain_id = ve_slice("other", 5), VE_ERR_WRONG_CHAIN);
  CHECK_MUTATION(m.tx_root[0] ^= 1, VE_ERR_HASH_MISMATCH);
  /* A tx with a bad signature or for another chain invalidates the block. */
  ve_buf_t txb, p;
  ve_buf_init(&txb, 0);
  ve_buf_init(&p, 0);
  register_payload(&p, c.admin.pk, NULL);
  tchain_tx(&c.tc, &txb, &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  txb.ptr[txb.len - 1] ^= 1;
  ve_slice_t one = ve_buf_slice(&txb);
  uint8_t id[32];
  ledger_tx_id(id, one);
  ledger_header_t m = h;
  ledger_merkle_root((const uint8_t(*)[32])id, 1, m.tx_root);
  m.tx_count = 1;
  ve_buf_reset(&blk);
  assert_int_equal(ledger_block_encode(&m, &one, 1, &blk), 0);
  assert_int_equal(ledger_block_validate(t, ve_buf_slice(&blk), c.tc.valset, NULL, NULL), VE_ERR_BAD_SIG);
  /* Truncated block bytes. */
  assert_int_not_equal(ledger_block_validate(t, ve_slice(blk.ptr, blk.len - 3), c.tc.valset, NULL, NULL), 0);
  store_txn_abort(t);
  ve_buf_free(&blk);
  ve_buf_free(&txb);
  ve_buf_free(&p);
  chain_free(&c);
}

/* Same blocks on two stores give the same roots (determinism). */
static void test_determinism(void **state) {
  (void)state;
  chain_t a, b;
  chain_init(&a);
  chain_init(&b);
  for (int round = 0; round < 3; round++) {
    ve_buf_t txs[20], p;
    ve_buf_init(&p, 0);
    for (int i = 0; i < 20; i++) {
      ve_buf_init(&txs[i], 0);
      vcrypto_keypair_t k;
      seed_key(&k, (uint8_t)(100 + round * 20 + i));
      ve_buf_reset(&p);
      register_payload(&p, k.pk, i % 2 ? "south" : NULL);
      tchain_tx(&a.tc, &txs[i], &a.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
    }
    int32_t r1[20], r2[20];
    tchain_commit(&a.tc, txs, 20, r1);
    tchain_commit(&b.tc, txs, 20, r2);
    assert_memory_equal(r1, r2, sizeof r1);
    for (int i = 0; i < 20; i++) ve_buf_free(&txs[i]);
    ve_buf_free(&p);
  }
  store_txn_t *ta, *tb;
  ledger_tip_t x, y;
  assert_int_equal(store_txn_begin(a.tc.store, false, &ta), 0);
  assert_int_equal(store_txn_begin(b.tc.store, false, &tb), 0);
  assert_int_equal(ledger_tip_get(ta, &x), 0);
  assert_int_equal(ledger_tip_get(tb, &y), 0);
  assert_int_equal(x.height, 3);
  assert_memory_equal(x.state_root, y.state_root, 32);
  assert_memory_equal(x.last_hash, y.last_hash, 32);
  assert_memory_not_equal(x.state_root, STATE_EMPTY_ROOT, 32);
  store_txn_abort(ta);
  store_txn_abort(tb);
  chain_free(&a);
  chain_free(&b);
}

/* ledger_block_decode keeps the tx ids; the *_decoded entry points give the
 * same verdicts and the same chain as the byte-taking ones; the signature check
 * from the encoded bytes agrees with the one that re-encodes. */
static void test_decoded_paths(void **state) {
  (void)state;
  chain_t a, b;
  chain_init(&a);
  chain_init(&b);
  ve_buf_t txs[6], p, blk;
  ve_buf_init(&p, 0);
  ve_buf_init(&blk, 0);
  ve_slice_t sl[6];
  uint8_t ids[6][32];
  for (int i = 0; i < 6; i++) {
    ve_buf_init(&txs[i], 0);
    vcrypto_keypair_t k;
    seed_key(&k, (uint8_t)(60 + i));
    ve_buf_reset(&p);
    register_payload(&p, k.pk, NULL);
    tchain_tx(&a.tc, &txs[i], &a.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
    sl[i] = ve_buf_slice(&txs[i]);
    ledger_tx_id(ids[i], sl[i]);
    ledger_tx_t tx;
    assert_int_equal(ledger_tx_decode(sl[i], &tx), 0);
    assert_int_equal(ledger_tx_verify_sig_encoded(sl[i], &tx), 0);
    assert_int_equal(ledger_tx_verify_sig(&tx), 0);
  }
  /* A flipped bit anywhere before the signature fails both checks alike. */
  for (size_t i = 1; i + VCRYPTO_SIG_BYTES < txs[0].len; i += 5) {
    txs[0].ptr[i] ^= 0x10;
    ledger_tx_t tx;
    if (ledger_tx_decode(ve_buf_slice(&txs[0]), &tx) == 0) {
      assert_int_equal(ledger_tx_verify_sig_encoded(ve_buf_slice(&txs[0]), &tx), VE_ERR_BAD_SIG);
      assert_int_equal(ledger_tx_verify_sig(&tx), VE_ERR_BAD_SIG);
    }
    txs[0].ptr[i] ^= 0x10;
  }
  store_txn_t *t;
  ledger_tip_t tip;
  assert_int_equal(store_txn_begin(a.tc.store, true, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  ledger_header_t h;
  ledger_header_next(&tip, ve_slice(CHAIN, strlen(CHAIN)), tip.last_time_ms + 5, a.tc.valset,
                     a.tc.validator.pk, &h);
  ledger_merkle_root((const uint8_t(*)[32])ids, 6, h.tx_root);
  h.tx_count = 6;
  assert_int_equal(ledger_block_encode(&h, sl, 6, &blk), 0);
  ledger_block_t d;
  assert_int_equal(ledger_block_decode(ve_buf_slice(&blk), &d), 0);
  assert_int_equal(d.tx_count, 6);
  assert_memory_equal(d.ids, ids, sizeof ids);
  assert_int_equal(ledger_block_validate_decoded(t, &d, a.tc.valset, NULL, NULL), 0);
  int32_t ra[6], rb[6];
  assert_int_equal(ledger_block_commit_decoded(t, &REG, &d, ve_buf_slice(&blk), ve_slice("cert", 4), ra), 0);
  assert_int_equal(store_txn_commit(t), 0);
  ledger_block_free(&d);
  assert_null(d.ids);
  assert_null(d.txs);
  /* The same block through the byte-taking calls on another store. */
  assert_int_equal(store_txn_begin(b.tc.store, true, &t), 0);
  assert_int_equal(ledger_block_validate(t, ve_buf_slice(&blk), b.tc.valset, NULL, NULL), 0);
  assert_int_equal(ledger_block_commit(t, &REG, ve_buf_slice(&blk), ve_slice("cert", 4), rb), 0);
  assert_int_equal(store_txn_commit(t), 0);
  assert_memory_equal(ra, rb, sizeof ra);
  for (int i = 0; i < 6; i++) assert_int_equal(ra[i], 0);
  store_txn_t *ta, *tb;
  ledger_tip_t x, y;
  assert_int_equal(store_txn_begin(a.tc.store, false, &ta), 0);
  assert_int_equal(store_txn_begin(b.tc.store, false, &tb), 0);
  assert_int_equal(ledger_tip_get(ta, &x), 0);
  assert_int_equal(ledger_tip_get(tb, &y), 0);
  assert_memory_equal(&x, &y, sizeof x);
  /* The decoded validation sees the committed txs as duplicates now. */
  assert_int_equal(ledger_block_decode(ve_buf_slice(&blk), &d), 0);
  assert_int_not_equal(ledger_block_validate_decoded(ta, &d, a.tc.valset, NULL, NULL), 0);
  ledger_block_free(&d);
  store_txn_abort(ta);
  store_txn_abort(tb);
  for (int i = 0; i < 6; i++) ve_buf_free(&txs[i]);
  ve_buf_free(&p);
  ve_buf_free(&blk);
  chain_free(&a);
  chain_free(&b);
}

/* ---- a scripted test app, to drive the execution overlay directly ----
 * Payload: ops, each a byte then fields: 'g' k v (get k, expect v; v empty:
 * expect absent), 'p' k v (put), 'd' k (delete), 'f' (fail: VE_ERR_STATE);
 * k and v are one length byte then the bytes. Type 0x7f01. */
#define TEST_APP_TYPE 0x7f01

static int script_field(ve_slice_t *in, ve_slice_t *out) {
  if (in->len < 1 || in->len < 1u + in->ptr[0]) return VE_ERR_MALFORMED;
  *out = ve_slice(in->ptr + 1, in->ptr[0]);
  in->ptr += 1 + out->len;
  in->len -= 1 + out->len;
  return VE_OK;
}

static int script_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  (void)s;
  ve_slice_t in = tx->payload;
  while (in.len) {
    uint8_t op = in.ptr[0];
    in.ptr++, in.len--;
    ve_slice_t k, v, got;
    if (op == 'f') return VE_ERR_STATE;
    VE_TRY(script_field(&in, &k));
    if (op == 'd') {
      VE_TRY(ledger_state_del(ex, k));
      continue;
    }
    VE_TRY(script_field(&in, &v));
    if (op == 'p') {
      VE_TRY(ledger_state_put(ex, k, v));
    } else {
      int rc = ledger_state_get(ex, k, &got);
      if (v.len == 0 && rc != VE_ERR_NOT_FOUND) return VE_ERR_CORRUPT;
      if (v.len && (rc || !ve_slice_eq(got, v))) return VE_ERR_CORRUPT;
    }
  }
  return VE_OK;
}

static const ledger_app_t SCRIPT_APP = {"script", 0x7f00, 0x7fff, script_apply, NULL, NULL};
static const ledger_registry_t SCRIPT_REG = {&identity_auth, {&identity_app, &SCRIPT_APP}, 2, NULL};

static void script_op(ve_buf_t *p, char op, const char *k, const char *v) {
  uint8_t c = (uint8_t)op;
  ve_buf_append(p, &c, 1);
  if (!k) return;
  uint8_t n = (uint8_t)strlen(k);
  ve_buf_append(p, &n, 1);
  ve_buf_append(p, k, n);
  if (op == 'd') return;
  n = (uint8_t)strlen(v);
  ve_buf_append(p, &n, 1);
  ve_buf_append(p, v, n);
}

/* Commits one block of scripted txs (payloads) through SCRIPT_REG. */
static void script_block(chain_t *c, ve_buf_t *payloads, size_t n, int32_t *results) {
  ve_buf_t txs[8];
  assert_true(n <= 8);
  ve_slice_t sl[8];
  uint8_t ids[8][32];
  for (size_t i = 0; i < n; i++) {
    ve_buf_init(&txs[i], 0);
    tchain_tx(&c->tc, &txs[i], &c->registrar, TEST_APP_TYPE, ve_buf_slice(&payloads[i]));
    sl[i] = ve_buf_slice(&txs[i]);
    ledger_tx_id(ids[i], sl[i]);
  }
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, true, &t), 0);
  ledger_tip_t tip;
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  ledger_header_t h;
  ledger_header_next(&tip, ve_slice(CHAIN, strlen(CHAIN)), tip.last_time_ms + 5, c->tc.valset,
                     c->tc.validator.pk, &h);
  ledger_merkle_root((const uint8_t(*)[32])ids, n, h.tx_root);
  h.tx_count = (uint32_t)n;
  ve_buf_t blk;
  ve_buf_init(&blk, 0);
  assert_int_equal(ledger_block_encode(&h, sl, n, &blk), 0);
  assert_int_equal(ledger_block_commit(t, &SCRIPT_REG, ve_buf_slice(&blk), ve_slice("c", 1), results), 0);
  assert_int_equal(store_txn_commit(t), 0);
  ve_buf_free(&blk);
  for (size_t i = 0; i < n; i++) ve_buf_free(&txs[i]);
}

static void state_root_of(chain_t *c, uint8_t root[32]) {
  store_txn_t *t;
  ledger_tip_t tip;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  store_txn_abort(t);
  memcpy(root, tip.state_root, 32);
}

/* Values read from the store are remembered in the block's overlay: a failing
 * tx that read and then wrote a key rolls back to the remembered value, a read
 * never becomes a state change, and deletes and rewrites of remembered keys
 * behave as without the memory. The roots match a chain that only made the
 * net changes. */
static void test_exec_read_memory(void **state) {
  (void)state;
  chain_t c, ref;
  chain_init(&c);
  chain_init(&ref);
  ve_buf_t p[8];
  for (int i = 0; i < 8; i++) ve_buf_init(&p[i], 0);
  int32_t res[8];
  /* Block 1: a = 1, b = 2 (both chains). */
  script_op(&p[0], 'p', "t/a", "1");
  script_op(&p[0], 'p', "t/b", "2");
  script_block(&c, p, 1, res);
  assert_int_equal(res[0], 0);
  ve_buf_reset(&p[0]);
  script_op(&p[0], 'p', "t/a", "1");
  script_op(&p[0], 'p', "t/b", "2");
  script_block(&ref, p, 1, res);
  for (int i = 0; i < 8; i++) ve_buf_reset(&p[i]);
  /* Block 2 on c. */
  script_op(&p[0], 'g', "t/a", "1");  /* remembered */
  script_op(&p[0], 'g', "t/b", "2");
  script_op(&p[0], 'p', "t/a", "9");
  script_op(&p[0], 'g', "t/a", "9");
  script_op(&p[0], 'f', NULL, NULL);  /* rolled back */
  script_op(&p[1], 'g', "t/a", "1");  /* the remembered value again */
  script_op(&p[1], 'd', "t/b", NULL);
  script_op(&p[1], 'g', "t/b", "");
  script_op(&p[1], 'f', NULL, NULL);  /* the delete is rolled back too */
  script_op(&p[2], 'g', "t/b", "2");
  script_op(&p[2], 'g', "t/c", "");   /* absent */
  script_op(&p[2], 'p', "t/a", "3");
  script_op(&p[3], 'g', "t/a", "3");
  script_op(&p[3], 'd', "t/a", NULL);
  script_op(&p[3], 'f', NULL, NULL);
  script_op(&p[4], 'g', "t/a", "3");
  script_op(&p[4], 'g', "t/b", "2");  /* read only in this block: no change */
  script_block(&c, p, 5, res);
  int32_t want[5] = {VE_ERR_STATE, VE_ERR_STATE, 0, VE_ERR_STATE, 0};
  assert_memory_equal(res, want, sizeof want);
  /* The reference makes the net change only (and consumes 5 sequences). */
  for (int i = 0; i < 8; i++) ve_buf_reset(&p[i]);
  script_op(&p[0], 'f', NULL, NULL);
  script_op(&p[1], 'f', NULL, NULL);
  script_op(&p[2], 'p', "t/a", "3");
  script_op(&p[3], 'f', NULL, NULL);
  script_op(&p[4], 'g', "t/a", "3");
  ref.tc.seq = c.tc.seq - 5;
  script_block(&ref, p, 5, res);
  assert_memory_equal(res, want, sizeof want);
  uint8_t r1[32], r2[32];
  state_root_of(&c, r1);
  state_root_of(&ref, r2);
  assert_memory_equal(r1, r2, 32);
  store_txn_t *t;
  ve_slice_t v;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(state_get(t, ve_slice("t/a", 3), &v), 0);
  assert_true(ve_slice_eq(v, ve_slice("3", 1)));
  assert_int_equal(state_get(t, ve_slice("t/b", 3), &v), 0);
  assert_true(ve_slice_eq(v, ve_slice("2", 1)));
  store_txn_abort(t);
  for (int i = 0; i < 8; i++) ve_buf_free(&p[i]);
  chain_free(&c);
  chain_free(&ref);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decoded_paths),
      cmocka_unit_test(test_exec_read_memory),
      cmocka_unit_test(test_tx_roundtrip_and_strictness),
      cmocka_unit_test(test_merkle_root),
      cmocka_unit_test(test_genesis),
      cmocka_unit_test(test_identity_lifecycle),
      cmocka_unit_test(test_sequences_and_expiry),
      cmocka_unit_test(test_seq_window_model),
      cmocka_unit_test(test_block_validation),
      cmocka_unit_test(test_determinism),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
