/* proof.h — proof bundles: a fact about the state, checkable offline.
 *
 * A bundle says "at height H, state key K had value V" (or "had no value") and
 * carries everything needed to check it without a node:
 *   - the state proof of K against the state root after H (docs/state.md);
 *   - the header of block H+1, which carries that root (execution is deferred);
 *   - the commit certificate of block H+1: precommits of more than 2/3 of the
 *     voting power of the validator set governing H+1;
 *   - when that set is not the genesis set, the chain of validator-set changes
 *     from the genesis (or from a later epoch the verifier already trusts) to
 *     it: for each epoch k, the epoch record k (from height, set;
 *     src/apps/valset) proven in the state under a header certified by set
 *     k - 1. A verifier that trusts the genesis trusts each set in turn.
 * The verifier brings the trust: the genesis (proof_bundle_verify), a later
 * set it trusts as of an epoch (proof_bundle_verify_from), or the set it
 * trusts for the fact's own height (proof_bundle_verify_era).
 *
 * The format is JSON, versioned ("format": "veche-proof-bundle"; "version" 1
 * without set changes, 2 with them), every binary field lower-case hex;
 * docs/proofs.md is the specification a bundle saved today is checked against
 * by later releases.
 */
#ifndef VECHE_PROOF_PROOF_H
#define VECHE_PROOF_PROOF_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "consensus/consensus.h"
#include "ledger/ledger.h"

#define PROOF_BUNDLE_FORMAT "veche-proof-bundle"
#define PROOF_BUNDLE_VERSION_PLAIN 1 /* no validator-set changes */
#define PROOF_BUNDLE_VERSION_CHAIN 2 /* with the chain of set changes ("valsets") */
#define PROOF_REASON_BYTES_MAX 256
/* Set changes a bundle may carry: a change a month for 85 years. A bundle of a
 * chain with more is refused (building and reading), never cut short. */
#define PROOF_VALSET_LINKS_MAX 1024
/* Node-local (STORE_T_META) key prefix of a kept link proof: prefix || be64(k). */
#define PROOF_LINK_META_PREFIX "proof/valset/"

/* Validator-set change k: epoch record k, in the state after block height
 * (= its from_height - 2), proven under header height + 1, which set k - 1
 * certifies. */
typedef struct {
  uint64_t epoch;  /* k >= 1 */
  uint64_t height; /* the state version holding the record */
  ve_buf_t record; /* valset_record encoding: from_height, set */
  ve_buf_t proof;  /* state proof of "valset/e/" be64(k) */
  ve_buf_t header; /* canonical header of block height + 1 */
  ve_buf_t cert;   /* its commit certificate */
} proof_link_t;

typedef struct {
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1];
  uint64_t height;  /* the state version the fact is about */
  ve_buf_t key;     /* state key */
  bool present;
  ve_buf_t value;   /* when present */
  ve_buf_t proof;   /* state proof bytes */
  ve_buf_t header;  /* canonical header of block height + 1 */
  ve_buf_t cert;    /* its commit certificate */
  uint32_t n_links; /* set changes 1..n_links, in order (0: the genesis set governs) */
  proof_link_t *links;
} proof_bundle_t;

void proof_bundle_init(proof_bundle_t *b);
void proof_bundle_free(proof_bundle_t *b);

/* Builds the bundle for key at height from a node's store (read txn), with the
 * set changes after epoch valsets_after up to the one governing height + 1
 * (valsets_after 0: all of them, for a verifier that trusts the genesis; K:
 * for one that already trusts the set of epoch K, proof_bundle_verify_from).
 * Returns VE_ERR_HEIGHT when height + 1 has no block yet, VE_ERR_PRUNED when
 * the node no longer keeps the state of that height (state_version_oldest) or
 * of a set change it did not keep a link proof for (proof_link_keep),
 * VE_ERR_TOO_BIG beyond PROOF_VALSET_LINKS_MAX changes to carry. */
int proof_bundle_build(store_txn_t *t, ve_slice_t chain_id, uint64_t height, ve_slice_t key,
                       uint64_t valsets_after, proof_bundle_t *out);

/* JSON form. proof_bundle_from_json rejects unknown formats/versions, missing or
 * malformed fields, and oversize values; reason says which. */
json_t *proof_bundle_to_json(const proof_bundle_t *b);
int proof_bundle_from_json(const json_t *j, proof_bundle_t *out, char *reason, size_t reason_len);

/* Called in the write transaction that commits block h, after it: when h is
 * the header of a set change's link (h + 1 is the first height of epoch k >= 1),
 * keeps the state proof of record k at version h - 1 in STORE_T_META, so the
 * node can build links after pruning that version (config state_keep_blocks).
 * Cheap otherwise (one state read). */
int proof_link_keep(store_txn_t *t, uint64_t h);

/* What a successful verification establishes. */
typedef struct {
  uint8_t block_hash[LEDGER_HASH_BYTES]; /* of block height + 1 */
  uint64_t total_power;   /* of the set that certified it; the certificate carries > 2/3 of it */
  uint32_t signatures;
  uint32_t valset_changes; /* set changes followed from the trusted set (0 for verify_era) */
} proof_result_t;

/* Offline check of b trusting the genesis of chain_id, whose validator set is
 * genesis_set: follows b's set changes from it, then checks the fact under the
 * last set. Returns 0 if the fact is proven; otherwise the error, with a
 * one-line human reason. */
int proof_bundle_verify(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *genesis_set,
                        proof_result_t *res, char *reason, size_t reason_len);
/* The same from a later trusted starting point: vs is the set of epoch `epoch`,
 * governing from height `from` (the genesis set: 0 and 1). b's changes up to
 * that epoch are skipped, the later ones followed from vs; a fact before
 * `from` is not proven (the trusted set never governed it). */
int proof_bundle_verify_from(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *vs,
                             uint64_t epoch, uint64_t from, proof_result_t *res, char *reason, size_t reason_len);
/* Offline check of the fact alone against a set the caller trusts for block
 * height + 1 (its set changes, if any, are not used). */
int proof_bundle_verify_era(const proof_bundle_t *b, const char *chain_id, const cons_valset_t *vs,
                            proof_result_t *res, char *reason, size_t reason_len);

#endif
