/* proof.h — proof bundles: a fact about the state, checkable offline.
 *
 * A bundle says "at height H, state key K had value V" (or "had no value") and
 * carries everything needed to check it without a node:
 *   - the state proof of K against the state root after H (docs/state.md);
 *   - the header of block H+1, which carries that root (execution is deferred);
 *   - the commit certificate of block H+1: precommits of more than 2/3 of the
 *     voting power of the validator set the verifier trusts.
 * The verifier brings the trust: the genesis (whose validator set must be the
 * one named by the header), or later a chain of validator-set changes.
 *
 * The format is JSON, versioned ("format": "veche-proof-bundle", "version": 1),
 * every binary field lower-case hex; docs/proofs.md is the
 * specification a bundle saved today is checked against by later releases.
 */
#ifndef VECHE_PROOF_PROOF_H
#define VECHE_PROOF_PROOF_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "consensus/consensus.h"
#include "ledger/ledger.h"

#define PROOF_BUNDLE_FORMAT "veche-proof-bundle"
#define PROOF_BUNDLE_VERSION 1
#define PROOF_REASON_BYTES_MAX 256

typedef struct {
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1];
  uint64_t height;  /* the state version the fact is about */
  ve_buf_t key;     /* state key */
  bool present;
  ve_buf_t value;   /* when present */
  ve_buf_t proof;   /* state proof bytes */
  ve_buf_t header;  /* canonical header of block height + 1 */
  ve_buf_t cert;    /* its commit certificate */
} proof_bundle_t;

void proof_bundle_init(proof_bundle_t *b);
void proof_bundle_free(proof_bundle_t *b);

/* Builds the bundle for key at height from a node's store (read txn). Returns
 * VE_ERR_HEIGHT when height + 1 has no block yet, VE_ERR_PRUNED when the node
 * no longer keeps the state of that height (state_version_oldest). */
int proof_bundle_build(store_txn_t *t, ve_slice_t chain_id, uint64_t height, ve_slice_t key,
                       proof_bundle_t *out);

/* JSON form. proof_bundle_from_json rejects unknown formats/versions, missing or
 * malformed fields, and oversize values; reason says which. */
json_t *proof_bundle_to_json(const proof_bundle_t *b);
int proof_bundle_from_json(const json_t *j, proof_bundle_t *out, char *reason, size_t reason_len);

/* What a successful verification establishes. */
typedef struct {
  uint8_t block_hash[LEDGER_HASH_BYTES]; /* of block height + 1 */
  uint64_t total_power;   /* of the trusted set; the certificate carries > 2/3 of it */
  uint32_t signatures;
} proof_result_t;

/* Offline check of b against a trusted validator set for block height + 1 and
 * the chain id it belongs to. Returns 0 if the fact is proven; otherwise the
 * error, with a one-line human reason. */
int proof_bundle_verify(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *vs,
                        proof_result_t *res, char *reason, size_t reason_len);

/* The consensus validator set named in a genesis. */
int proof_valset_from_genesis(const ledger_genesis_t *g, cons_valset_t *vs);

#endif
