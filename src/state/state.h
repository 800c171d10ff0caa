/* state.h — veche's authenticated application state.
 *
 * All application state (identities, documents, polls, ballots, ...) is one map
 * from byte keys (1..STATE_KEY_BYTES_MAX) to byte values (0..STATE_VALUE_BYTES_MAX),
 * kept in the store and committed to by a 32-byte root that goes into every block
 * header. The ledger calls state_commit once per block with that block's changes.
 *
 * The commitment is a binary sparse Merkle tree over 256-bit paths
 * path = H("veche/state/key", key), in which an empty subtree hashes to 32 zero
 * bytes and a subtree holding exactly one leaf is that leaf's hash (docs/state.md
 * gives the full construction and the proof format, enough for a third party to
 * write a verifier). The root depends only on the final map: not on the order of
 * changes inside a batch, nor on the history that led to the map.
 *
 * Every version stays provable: tree nodes are immutable and keyed by the version
 * that wrote them, so a proof at an old version keeps working after later commits;
 * unless the store enabled pruning (state_prune_enable) and state_prune has since
 * deleted what the versions below a retention window alone needed
 * (docs/state.md §5.1). Pruning never changes a root, a proof, or a result at a
 * retained version.
 *
 * Determinism: this module reads no clock, file, socket or randomness; all of its
 * inputs come through the store transaction and the arguments.
 *
 * Ownership: the caller owns every buffer passed in. Slices returned by state_get
 * point into the store and are valid until the transaction ends or the next write
 * to the state in the same transaction (e.g. state_commit), whichever comes first.
 * ve_buf_t outputs are reset and filled; the caller frees them.
 *
 * Errors: a failed state_commit may have written part of its work into the
 * transaction; the caller must abort that transaction.
 */
#ifndef VECHE_STATE_STATE_H
#define VECHE_STATE_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"
#include "store/store.h"

#define STATE_KEY_BYTES_MAX 256
#define STATE_VALUE_BYTES_MAX (64 * 1024)
#define STATE_HASH_BYTES 32
/* Changes in one state_commit call (a block holds at most VE_BLOCK_TXS_MAX txs). */
#define STATE_COMMIT_CHANGES_MAX (1024 * 1024)

/* Proof format (docs/state.md, "Proof encoding"). The first byte of a proof is its
 * format version; a verifier refuses versions it does not know (VE_ERR_VERSION). */
#define STATE_PROOF_FORMAT_V1 1
#define STATE_PROOF_DEPTH_MAX 256 /* siblings on a path: one per bit of the path */
/* Largest v1 proof: version, depth uvarint, bitmap, 256 siblings, terminal leaf. */
#define STATE_PROOF_BYTES_MAX (1 + 2 + STATE_PROOF_DEPTH_MAX / 8 + \
                               STATE_PROOF_DEPTH_MAX * STATE_HASH_BYTES + 1 + 2 * STATE_HASH_BYTES)

/* Domain-separation tags of the construction (vcrypto_hash). */
#define STATE_TAG_KEY "veche/state/key"     /* path  = H(tag, key) */
#define STATE_TAG_VALUE "veche/state/value" /* vhash = H(tag, value) */
#define STATE_TAG_LEAF "veche/state/leaf"   /* leaf  = H(tag, path || vhash) */
#define STATE_TAG_NODE "veche/state/node"   /* node  = H(tag, left || right) */

/* Root of the empty map: 32 zero bytes (the hash of every empty subtree). */
extern const uint8_t STATE_EMPTY_ROOT[STATE_HASH_BYTES];

/* One change: set key to val, or delete key (del true; val ignored). */
typedef struct {
  ve_slice_t key;
  ve_slice_t val;
  bool del;
} state_change_t;

/* Current value of key: the latest committed version, or as written earlier in
 * this transaction by state_commit. Out: *val_out borrowed (see Ownership above).
 * Returns 0, VE_ERR_NOT_FOUND if absent, VE_ERR_INVALID for a bad key length. */
int state_get(store_txn_t *t, ve_slice_t key, ve_slice_t *val_out);

/* Applies changes as version `version` (the block height; strictly increasing,
 * version 0 is the genesis state). Changes may come in any order; if a key appears
 * several times the last one wins; deleting an absent key is a no-op. n may be 0
 * (the root is then unchanged but recorded for this version). Writes the current
 * values (STORE_T_STATE), the tree nodes (STORE_T_STATE_NODES) and the history
 * needed for historical proofs (STORE_T_STATE_HIST), and, if pruning is
 * enabled, the log of what this version made stale. Requires a write txn.
 * Out: root_out, the root after this version.
 * Returns 0; VE_ERR_HEIGHT if version is not above the latest committed one;
 * VE_ERR_INVALID for an empty key; VE_ERR_TOO_BIG for a key or value over its limit;
 * VE_ERR_LIMIT for n > STATE_COMMIT_CHANGES_MAX; VE_ERR_CORRUPT if stored nodes do
 * not decode; store and allocation errors. All arguments are checked before
 * anything is written. */
int state_commit(store_txn_t *t, uint64_t version, const state_change_t *changes, size_t n,
                 uint8_t root_out[STATE_HASH_BYTES]);

/* state_commit, with a process-wide memory cache of the tree's upper nodes
 * (nibble depths 0..4) kept between calls, so that the next commit does not
 * read them back from the store (src/state/state_cache.c). Same arguments,
 * results and writes as state_commit, plus two 32-byte history identifiers
 * supplied by the caller: history_before names the exact sequence of commits
 * whose result t sees, history_after that sequence followed by this commit.
 * Requirement: equal identifiers mean identical sequences of (version, changes)
 * since the empty store (the ledger uses block hashes, which chain back to
 * genesis); the cache is emptied whenever history_before is not the identifier
 * of the last successful cached commit. Every cached node is also checked
 * against the version and hash its parent names before it is used. */
int state_commit_cached(store_txn_t *t, const uint8_t history_before[STATE_HASH_BYTES],
                        const uint8_t history_after[STATE_HASH_BYTES], uint64_t version,
                        const state_change_t *changes, size_t n, uint8_t root_out[STATE_HASH_BYTES]);

/* Counters of the cache since the process started (or the last reset). */
typedef struct {
  uint64_t hits, misses; /* node reads of cached commits served / not served */
  uint64_t stale;        /* entries found not matching the tree (dropped) */
  uint64_t resets;       /* emptied because the history changed */
  size_t bytes;          /* memory held by entries now */
} state_cache_stats_t;
void state_cache_stats_get(state_cache_stats_t *out);
/* Empties the cache and frees its memory (tests, benchmarks). No cached commit
 * may be running. */
void state_cache_reset(void);

/* Root after version v: that of the latest committed version <= v.
 * Returns 0, or VE_ERR_NOT_FOUND if no version <= v was committed or v was
 * pruned (v < state_version_oldest); store errors. */
int state_root_at(store_txn_t *t, uint64_t version, uint8_t root_out[STATE_HASH_BYTES]);

/* Latest committed version. Returns 0 or VE_ERR_NOT_FOUND if none yet. */
int state_version_latest(store_txn_t *t, uint64_t *version_out);

/* Value and proof of key as of version v (the latest committed version <= v).
 * Out: *present; value_out (may be NULL) gets the value when present and is left
 * empty otherwise; proof_out gets the canonical proof bytes (inclusion or absence;
 * at most STATE_PROOF_BYTES_MAX). Returns 0, VE_ERR_NOT_FOUND if no version <= v
 * was committed or v was pruned (v < state_version_oldest), VE_ERR_INVALID for
 * a bad key, VE_ERR_CORRUPT, store errors. */
int state_prove(store_txn_t *t, uint64_t version, ve_slice_t key, bool *present,
                ve_buf_t *value_out, ve_buf_t *proof_out);

/* ---- pruning (docs/state.md §5.1) ----
 *
 * Opt-in per store. Once enabled, every commit also logs the stored nodes and
 * value-history entries that it took out of the latest tree (about 43 bytes of
 * log per key update, in STORE_T_STATE_HIST); state_prune then deletes those
 * no version >= keep_from needs. A store that never enables pruning writes
 * exactly what it always wrote (archive nodes). Pruning is local housekeeping:
 * roots, proofs and every result at versions >= the oldest provable one are
 * unchanged. Recommended use, once per block in the block's txn, after the
 * commit: state_prune(t, height + 1 > window ? height + 1 - window : 0, 50000,
 * &n), window >= 1 the versions kept (docs/state.md §5.1: costs, and why a
 * budget). */

/* Enables pruning for the store t writes to: writes the prune record if it is
 * not there (enabling twice is a no-op). Allowed on an empty state or at any
 * time; commits after it log what they make stale. Enabling late means that
 * what became stale before was never logged and is never deleted (it stays,
 * as in an archive). There is no disabling. Requires a write txn.
 * Returns 0, VE_ERR_CORRUPT for an undecodable prune record, store errors. */
int state_prune_enable(store_txn_t *t);

/* *enabled_out: whether state_prune_enable ran on this store. Returns 0,
 * VE_ERR_CORRUPT, store errors. */
int state_prune_enabled(store_txn_t *t, bool *enabled_out);

/* Moves the oldest provable version up to keep_from (it never moves down: a
 * smaller keep_from leaves it where it is) and deletes, oldest first, at most
 * max_entries stored entries that no version >= it needs: the nodes and value
 * entries logged as stale by the commits of versions <= it, their log chunks,
 * and the root records of the versions below the latest committed version
 * <= it. From the moment it returns (in t), state_root_at and state_prove at
 * a version below keep_from answer VE_ERR_NOT_FOUND, even while deletions lag.
 * Resumable: work left by the bound is continued by the next call (with the
 * same or a greater keep_from); *deleted_out < max_entries means none is left.
 * Crash-safe: everything happens in t (a write txn); abort t and nothing
 * happened. max_entries 0 only moves the oldest provable version.
 * Out: *deleted_out, the number of store entries deleted.
 * Returns 0; VE_ERR_STATE if pruning is not enabled; VE_ERR_INVALID if
 * keep_from is above the latest committed version (or none is committed);
 * VE_ERR_CORRUPT for an undecodable log; store and allocation errors (abort t). */
int state_prune(store_txn_t *t, uint64_t keep_from, size_t max_entries, size_t *deleted_out);

/* Oldest provable version: the greater of the first committed version and the
 * greatest keep_from given to state_prune. state_root_at / state_prove answer
 * VE_ERR_NOT_FOUND below it ("pruned" or "never committed"; between the first
 * committed version and it: pruned). Returns 0, VE_ERR_NOT_FOUND if no version
 * was committed, VE_ERR_CORRUPT, store errors. */
int state_version_oldest(store_txn_t *t, uint64_t *version_out);

/* Pure and offline: does proof show that key has value *val (val == NULL: that key
 * is absent) in the map whose root is root? Needs nothing but its arguments.
 * Returns 0 if it does; VE_ERR_PROOF if the proof is well formed but does not show
 * that claim under that root; VE_ERR_MALFORMED if the proof bytes are not a
 * canonical proof; VE_ERR_VERSION for an unknown proof format version;
 * VE_ERR_INVALID if key or *val are outside their limits. */
__attribute__((warn_unused_result)) int state_proof_verify(const uint8_t root[STATE_HASH_BYTES],
                                                           ve_slice_t key, const ve_slice_t *val,
                                                           ve_slice_t proof);

/* The 256-bit tree path of key: H("veche/state/key", key). */
void state_key_path(uint8_t path_out[STATE_HASH_BYTES], ve_slice_t key);

#endif
