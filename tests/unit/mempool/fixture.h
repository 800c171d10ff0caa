/* fixture.h — a one-validator chain in a memory store for the mempool tests.
 *
 * Genesis names two authorities: root (ADMIN|REGISTRAR) and clerk (REGISTRAR).
 * Helpers build signed transactions, commit blocks through the ledger the way
 * the node does, and admit transactions at the next height. */
#ifndef VECHE_TESTS_MEMPOOL_FIXTURE_H
#define VECHE_TESTS_MEMPOOL_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "apps/identity/identity.h"
#include "ledger/ledger.h"
#include "mempool/mempool.h"

#define FX_CHAIN "veche-mempool-test"
#define FX_EXPIRY_AHEAD 1000 /* default expiry: next height + this */

typedef struct {
  store_t *store;
  vcrypto_keypair_t root, clerk, validator;
  ledger_genesis_t g;
  uint8_t valset[LEDGER_HASH_BYTES];
  ledger_registry_t reg;
  mempool_t *mp;
} fx_t;

/* Opens the store, writes genesis and creates a pool with cfg (NULL: defaults). */
void fx_init(fx_t *f, const mempool_config_t *cfg);
void fx_free(fx_t *f);

/* Key pair number n (deterministic seed). */
void fx_key(vcrypto_keypair_t *kp, uint32_t n);
ve_slice_t fx_chain(void);
/* Height of the next block. */
uint64_t fx_next_height(fx_t *f);

/* Appends a signed tx to out (reset first). chain NULL: this chain. */
void fx_tx(ve_buf_t *out, const vcrypto_keypair_t *signer, const char *chain, uint64_t seq,
           uint64_t expiry, uint32_t type, ve_slice_t payload);
/* A register tx of key number n, by signer, expiring FX_EXPIRY_AHEAD after the next height. */
void fx_register(fx_t *f, ve_buf_t *out, const vcrypto_keypair_t *signer, uint64_t seq, uint32_t n);
/* A suspend/revoke/restore (type) of the identity of pk. */
void fx_status(fx_t *f, ve_buf_t *out, const vcrypto_keypair_t *signer, uint64_t seq, uint32_t type,
               const uint8_t pk[VCRYPTO_PK_BYTES]);

/* mempool_add at the next height. */
int fx_admit(fx_t *f, ve_slice_t tx, uint8_t id_out[LEDGER_HASH_BYTES]);
/* Validates (with the pool as signature cache) and commits a block of txs;
 * results (may be NULL) gets each tx's code; then tells the pool. */
void fx_commit(fx_t *f, const ve_slice_t *txs, size_t n, int32_t *results);

#endif
