/* tchain.h — a one-validator chain in a memory store, for unit tests that drive
 * applications through real blocks.
 *
 * Each test module used to carry its own copy of this set-up (genesis, keys
 * from fixed seeds, signing with a running sequence number, building,
 * validating and committing a block on the tip); this is the one copy. A test
 * declares its authorities between tchain_init and tchain_open, then builds
 * and commits blocks. Every step asserts success through cmocka, so a broken
 * fixture fails the test that uses it rather than passing silently.
 *
 * Ownership: the chain owns its store unless one is handed to tchain_open
 * (then the caller closes it). The registry must outlive the chain. */
#ifndef VECHE_TESTS_TCHAIN_H
#define VECHE_TESTS_TCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "store/store.h"

/* Expiry of every tx the fixture signs: far beyond any test's chain. */
#define TCHAIN_EXPIRY 1000000
/* Block time step: each block is this much later than its parent. */
#define TCHAIN_BLOCK_STEP_MS 5

/* Runs in the block's write transaction after the ledger committed it (the
 * node's blob store does this, for instance). */
typedef void (*tchain_after_fn)(void *ctx, store_txn_t *t, ve_slice_t block);
/* Optional consensus stand-ins, for tests whose blocks must carry what a real
 * network's do: the validator-set hash a block at height names (default: the
 * fixed c->valset), and the commit certificate of a header (default: the bytes
 * "cert"). Both run in the block's write transaction, before it commits. */
typedef void (*tchain_valset_fn)(void *ctx, store_txn_t *t, uint64_t height, uint8_t hash[LEDGER_HASH_BYTES]);
typedef void (*tchain_cert_fn)(void *ctx, store_txn_t *t, const ledger_header_t *h, ve_buf_t *cert);

typedef struct {
  store_t *store;
  const ledger_registry_t *reg;
  ledger_genesis_t g;
  vcrypto_keypair_t validator;
  uint8_t valset[LEDGER_HASH_BYTES];
  /* Next sequence number for any signer: one counter for all keys, since each
   * key's replay window accepts any fresh number (gaps are allowed). */
  uint64_t seq;
  bool owns_store;
  tchain_after_fn after; /* optional */
  void *after_ctx;
  tchain_valset_fn valset_of; /* optional, with cert; ctx: cons_ctx */
  tchain_cert_fn cert;
  void *cons_ctx;
  /* When nonzero: the time (Unix ms, above the tip's) of the next block,
   * instead of TCHAIN_BLOCK_STEP_MS after its parent, for tests of deadlines
   * in block time. tchain_block honours it; tchain_commit honours it and
   * clears it, so it applies to one committed block. */
  uint64_t next_time_ms;
} tchain_t;

/* The key pair of seed bytes memset(a) with byte 0 = b; id (may be NULL)
 * receives its identity id. */
void tchain_key(vcrypto_keypair_t *kp, uint8_t id[LEDGER_HASH_BYTES], uint8_t a, uint8_t b);

/* Genesis of chain_id with one validator (key tchain_key(4, 4); a test may
 * replace c->validator before tchain_open, which writes it into genesis), no
 * authorities yet, time 1000 ms; the chain is not opened. */
void tchain_init(tchain_t *c, const char *chain_id, const ledger_registry_t *reg);
/* Adds a genesis authority (before tchain_open). */
void tchain_authority(tchain_t *c, const char *name, const vcrypto_keypair_t *kp, uint32_t roles);
/* Writes genesis into store (NULL: a new memory store the chain owns). */
void tchain_open(tchain_t *c, store_t *store);
void tchain_free(tchain_t *c);

ve_slice_t tchain_id(const tchain_t *c);
/* Signs a tx by kp with the next sequence number; appends its encoding to out. */
void tchain_tx(tchain_t *c, ve_buf_t *out, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload);
/* Encodes into out (reset first) a block of n txs on the tip, proposed by the
 * validator TCHAIN_BLOCK_STEP_MS after its parent (or at c->next_time_ms). */
void tchain_block(tchain_t *c, const ve_buf_t *txs, size_t n, ve_buf_t *out);
/* Builds, validates and commits a block of n txs in one write transaction;
 * results (may be NULL) receive each tx's code. */
void tchain_commit(tchain_t *c, const ve_buf_t *txs, size_t n, int32_t *results);
/* One tx by kp in its own block; returns its result code. */
int32_t tchain_run1(tchain_t *c, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload);
/* Height of the last committed block. */
uint64_t tchain_height(tchain_t *c);

#endif
