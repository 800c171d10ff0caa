/* ledger.h — transactions, blocks, genesis and deterministic block execution.
 *
 * Execution model (deferred, as in Tendermint, so the next height can be agreed
 * while the last one is applied):
 *   - consensus orders blocks; a block is *valid* when its header links to the
 *     previous one, names the expected state root / results root / validator-set
 *     hash, and every transaction decodes, is for this chain, and carries a good
 *     signature;
 *   - after commit the block is *executed*: each transaction is authorised
 *     (signer known and active, sequence fresh, not expired) and handed to the
 *     application that owns its type. A transaction that fails at execution has
 *     no effect on state, except that an authorised signer's sequence advances
 *     (so a failed transaction can never be replayed later), and its result code
 *     is recorded;
 *   - the state root and results root after block H are carried in header H+1.
 * Execution is a pure function of (state before, block): no clock, randomness or
 * I/O; state is reached only through the store interface.
 *
 * Ownership: decoded structures borrow from the input bytes (slices) unless a
 * comment says otherwise; keep the input alive while you use them.
 */
#ifndef VECHE_LEDGER_LEDGER_H
#define VECHE_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/crypto.h"
#include "store/store.h"

#define LEDGER_HASH_BYTES 32
#define LEDGER_TX_VERSION 1
/* Protocol versions (the rules of tx types, validation and execution) this
 * release implements: 1 .. LEDGER_PROTOCOL_IMPLEMENTED. Which one governs a
 * height is decided on the ledger (src/apps/upgrade); a node stops before a
 * height whose protocol it does not implement. Raise it with every release
 * whose rules differ, and gate the new rules on upgrade_protocol_exec. */
#define LEDGER_PROTOCOL_IMPLEMENTED 3
/* Protocol 2: the admin role acts only through council decisions
 * (src/apps/gov). Under it, ledger_exec_tx hands every app a signer without
 * ROLE_ADMIN; only ledger_exec_decision passes it. */
#define LEDGER_PROTOCOL_COUNCIL 2
/* Protocol 3: registry operations that old chains never had, as new
 * transaction types (unknown below 3, so older chains replay identically):
 * land parcels subdivided and merged with their lineage (apps/property), and
 * pharmaceutical packs aggregated into shipping containers (apps/pharma). */
#define LEDGER_PROTOCOL_LINEAGE 3
#define LEDGER_PROTOCOL_CONTAINERS 3
/* A genesis at protocol >= 2 makes its admin authorities the first council,
 * which holds at most this many members (GOV_COUNCIL_MAX in apps/gov). */
#define LEDGER_COUNCIL_MAX 64
#define LEDGER_BLOCK_VERSION 1
/* Genesis encodings: version 1 (chains starting at protocol 1) and version 2,
 * which adds the protocol the chain starts at (>= 2). */
#define LEDGER_GENESIS_VERSION 1
#define LEDGER_GENESIS_VERSION_PROTOCOL 2

/* Signing and hashing domains (see docs/crypto.md). */
#define LEDGER_TAG_TX_SIG "veche/tx/sig"
#define LEDGER_TAG_TX_ID "veche/tx/id"
#define LEDGER_TAG_BLOCK "veche/block/header"
#define LEDGER_TAG_GENESIS "veche/genesis"

/* ---- transaction types: the high byte names the owning application ---- */
enum {
  TX_TYPE_IDENTITY_REGISTER = 0x0101,
  TX_TYPE_IDENTITY_ROTATE_KEY = 0x0102,
  TX_TYPE_IDENTITY_SUSPEND = 0x0103,
  TX_TYPE_IDENTITY_RESTORE = 0x0104,
  TX_TYPE_IDENTITY_REVOKE = 0x0105,
  TX_TYPE_IDENTITY_SET_ROLES = 0x0106,
};
#define LEDGER_TX_TYPE_MAX 0xffff

/* ---- roles (bitmask; names are used in genesis and the API) ---- */
enum {
  ROLE_ADMIN = 1u << 0,          /* governs roles of other identities */
  ROLE_REGISTRAR = 1u << 1,      /* registers and manages citizen identities */
  ROLE_NOTARY = 1u << 2,         /* registers documents */
  ROLE_POLL_ORGANIZER = 1u << 3, /* creates polls */
  ROLE_TRUSTEE = 1u << 4,        /* holds a share of an election key */
  ROLE_REGULATOR = 1u << 5,      /* pharmaceutical regulator */
  ROLE_LAND_REGISTRAR = 1u << 6, /* land registry: records property titles */
  ROLE_ALL_MASK = (1u << 7) - 1,
};
/* Role name <-> bit. Returns 0 if the name is unknown. */
uint32_t ledger_role_from_name(const char *name);
const char *ledger_role_name(uint32_t bit);

/* ---- transactions ---- */

typedef struct {
  uint8_t version;
  ve_slice_t chain_id;
  uint8_t signer[VCRYPTO_PK_BYTES];
  uint64_t seq;          /* unused, and > the signer's highest - LEDGER_SEQ_WINDOW */
  uint64_t expiry;       /* last block height at which the tx may execute */
  uint32_t type;
  ve_slice_t payload;
  uint8_t sig[VCRYPTO_SIG_BYTES];
} ledger_tx_t;

/* Encodes the fields signed by the signer (everything but sig). */
int ledger_tx_encode_unsigned(const ledger_tx_t *tx, ve_buf_t *out);
/* Encodes the whole transaction. */
int ledger_tx_encode(const ledger_tx_t *tx, ve_buf_t *out);
/* Strict decode: tx borrows from in. Checks sizes, version, trailing bytes. */
int ledger_tx_decode(ve_slice_t in, ledger_tx_t *tx);
/* Signs tx in place with kp (sets signer and sig). */
int ledger_tx_sign(ledger_tx_t *tx, const vcrypto_keypair_t *kp);
/* Verifies tx->sig under tx->signer. 0 or VE_ERR_BAD_SIG. */
__attribute__((warn_unused_result)) int ledger_tx_verify_sig(const ledger_tx_t *tx);
/* The same check for a transaction decoded from encoded_tx (precondition:
 * ledger_tx_decode(encoded_tx, tx) succeeded): the strict decoder guarantees that
 * the signed bytes are encoded_tx minus its trailing signature, so nothing is
 * re-encoded. 0 or VE_ERR_BAD_SIG. */
__attribute__((warn_unused_result)) int ledger_tx_verify_sig_encoded(ve_slice_t encoded_tx,
                                                                     const ledger_tx_t *tx);
/* Transaction id: H(LEDGER_TAG_TX_ID, encoded tx bytes). */
void ledger_tx_id(uint8_t out[LEDGER_HASH_BYTES], ve_slice_t encoded_tx);

/* ---- blocks ---- */

typedef struct {
  uint8_t version;
  ve_slice_t chain_id;
  uint64_t height;                            /* first block is 1 */
  uint64_t time_ms;                           /* proposer's clock, Unix ms; > previous */
  uint8_t prev_hash[LEDGER_HASH_BYTES];       /* genesis hash for height 1 */
  uint8_t tx_root[LEDGER_HASH_BYTES];         /* Merkle root of tx ids */
  uint32_t tx_count;
  uint8_t state_root[LEDGER_HASH_BYTES];      /* state after height-1 */
  uint8_t results_root[LEDGER_HASH_BYTES];    /* results of block height-1 */
  uint8_t valset_hash[LEDGER_HASH_BYTES];     /* validator set deciding this height */
  uint8_t proposer[VCRYPTO_PK_BYTES];
} ledger_header_t;

typedef struct {
  ledger_header_t header;
  size_t tx_count;
  ve_slice_t *txs; /* owned array of slices into the block bytes */
  uint8_t (*ids)[LEDGER_HASH_BYTES]; /* owned: ids[i] = ledger_tx_id(txs[i]) (NULL if none) */
} ledger_block_t;

#define LEDGER_HEADER_BYTES_MAX 512

int ledger_header_encode(const ledger_header_t *h, ve_buf_t *out);
int ledger_header_decode(ve_slice_t in, ledger_header_t *h);
/* Block hash: H(LEDGER_TAG_BLOCK, encoded header). */
int ledger_header_hash(const ledger_header_t *h, uint8_t out[LEDGER_HASH_BYTES]);

/* Block = header, then a list of length-prefixed transactions. */
int ledger_block_encode(const ledger_header_t *h, const ve_slice_t *txs, size_t n, ve_buf_t *out);
/* Fills h's tx_count and tx_root for txs[n] and encodes the block into out:
 * what a proposer does with a header from ledger_header_next. ids are the
 * txs' ids when the caller already has them (the mempool does), or NULL to
 * have them computed here. Returns 0, VE_ERR_INVALID (n over
 * VE_BLOCK_TXS_MAX), VE_ERR_NOMEM, or an encoding error. */
int ledger_block_build(ledger_header_t *h, const ve_slice_t *txs, const uint8_t (*ids)[LEDGER_HASH_BYTES],
                       size_t n, ve_buf_t *out);
/* Strict decode; b->txs and b->ids are allocated (free with ledger_block_free),
 * b->txs borrows from in. Checks tx_count and tx_root against the transactions,
 * whose ids it computes once for that and keeps in b->ids. */
int ledger_block_decode(ve_slice_t in, ledger_block_t *b);
void ledger_block_free(ledger_block_t *b);
/* Decodes only the header of an encoded block (nothing is hashed or checked
 * beyond the header's own encoding): for a caller that needs the height or the
 * transaction count before deciding what to do with a block. */
int ledger_block_header_get(ve_slice_t block, ledger_header_t *h);

/* Merkle root over 32-byte leaves (RFC 6962 shape, domain-separated). Used for
 * tx ids and results. Empty list: H("veche/merkle/empty", ""). */
void ledger_merkle_root(const uint8_t (*leaves)[LEDGER_HASH_BYTES], size_t n,
                        uint8_t out[LEDGER_HASH_BYTES]);

/* ---- genesis ---- */

#define GENESIS_ATTRS_MAX 8
#define GENESIS_ATTR_KEY_BYTES_MAX 16
#define GENESIS_ATTR_VALUE_BYTES_MAX 64

typedef struct {
  char name[VE_NAME_BYTES_MAX + 1];
  uint8_t pk[VCRYPTO_PK_BYTES];
  uint64_t power;
} ledger_validator_t;

typedef struct {
  char name[VE_NAME_BYTES_MAX + 1];
  uint8_t pk[VCRYPTO_PK_BYTES];
  uint32_t roles;
} ledger_authority_t;

typedef struct {
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1];
  uint32_t suite;       /* VCRYPTO_SUITE_* */
  uint64_t time_ms;     /* genesis time; block 1 must be later */
  uint32_t protocol;    /* protocol of block 1; 0 and 1 both mean 1 (genesis version 1) */
  size_t n_validators;
  ledger_validator_t validators[VE_VALIDATORS_MAX];
  size_t n_authorities;
  ledger_authority_t authorities[VE_AUTHORITIES_MAX];
} ledger_genesis_t;

/* Canonical encoding; its hash is the chain's identity and block 1's prev_hash. */
int ledger_genesis_encode(const ledger_genesis_t *g, ve_buf_t *out);
int ledger_genesis_decode(ve_slice_t in, ledger_genesis_t *g);
int ledger_genesis_hash(const ledger_genesis_t *g, uint8_t out[LEDGER_HASH_BYTES]);
/* Semantic checks: non-empty sets, valid keys, no duplicates, known suite,
 * protocol implemented by this release. */
int ledger_genesis_check(const ledger_genesis_t *g);

/* ---- execution ---- */

typedef struct ledger_exec ledger_exec_t;

/* Replay protection: a signer's sequence numbers must be unused and either above
 * the highest one used so far or at most LEDGER_SEQ_WINDOW below it (see exec.c). */
#define LEDGER_SEQ_WINDOW 4096

/* What the authoriser learned about a signer, plus its highest used sequence
 * number (kept by the ledger under the state key "seq/" || identity_id). */
typedef struct {
  uint8_t identity_id[LEDGER_HASH_BYTES];
  uint32_t roles;
  uint64_t last_seq;
} ledger_signer_t;

/* An application: owns a range of tx types. All callbacks are deterministic and
 * reach state only through ledger_state_*. */
typedef struct {
  const char *name;
  uint32_t type_lo, type_hi; /* inclusive range of tx types */
  /* Executes tx (already authorised). On error, its writes are rolled back. */
  int (*apply)(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *signer);
  /* Writes the genesis state for this app (may be NULL). */
  int (*genesis)(ledger_exec_t *ex, const ledger_genesis_t *g);
  /* Stateless checks that apply would make for tx, made ahead of execution to
   * warm the app's memos (may be NULL; see ledger_tx_precheck). Called only for
   * a tx of this app's types whose signature is good. Must be thread-safe (it
   * runs on several threads at once, and concurrently with apply) and must
   * change no outcome: apply decides exactly as it would without it. */
  void (*precheck)(const ledger_tx_t *tx);
} ledger_app_t;

/* The authoriser resolves signer keys (the identity app provides it). */
typedef struct {
  /* Fills *out for an active signer key, or returns VE_ERR_UNKNOWN_SIGNER,
   * VE_ERR_REVOKED, VE_ERR_SUSPENDED. */
  int (*resolve)(ledger_exec_t *ex, const uint8_t pk[VCRYPTO_PK_BYTES], ledger_signer_t *out);
} ledger_auth_t;

#define LEDGER_APPS_MAX 16

typedef struct {
  const ledger_auth_t *auth;
  const ledger_app_t *apps[LEDGER_APPS_MAX];
  size_t n_apps;
  /* The protocol version governing the executing block (apps/upgrade's
   * upgrade_protocol_exec); NULL: always protocol 1. */
  int (*protocol)(ledger_exec_t *ex, uint64_t *out);
} ledger_registry_t;

/* The application owning tx type `type`, or NULL (exec.c): the one lookup
 * execution, the mempool's admission and the API's answers share. */
const ledger_app_t *ledger_app_for(const ledger_registry_t *reg, uint32_t type);

/* Starts executing at height over the store transaction t (a write txn to commit,
 * or a read txn for a dry run that is simply discarded). */
int ledger_exec_begin(ledger_exec_t **out, const ledger_registry_t *reg, store_txn_t *t,
                      ve_slice_t chain_id, uint64_t height, uint64_t time_ms);
void ledger_exec_free(ledger_exec_t *ex);
uint64_t ledger_exec_height(const ledger_exec_t *ex);
uint64_t ledger_exec_time_ms(const ledger_exec_t *ex);
ve_slice_t ledger_exec_chain_id(const ledger_exec_t *ex);

/* The protocol version governing the executing block (constant within a block:
 * an upgrade decided in block h takes effect at h + 2 at the earliest), read
 * once per ledger_exec_t through the registry's hook. */
int ledger_exec_protocol(ledger_exec_t *ex, uint64_t *out);

/* Executes a council decision's action (src/apps/gov): the app owning
 * inner->type applies it with signer `as`, whose roles the caller sets (the
 * admin role). Runs inside the current transaction, so its writes are undone
 * with the caller's if either fails. No nesting: a decision's action cannot
 * itself run a decision (VE_ERR_INVALID). Returns the action's result. */
int ledger_exec_decision(ledger_exec_t *ex, const ledger_tx_t *inner, const ledger_signer_t *as);

/* Resolves a signer key and fills its last sequence (for mempool admission). */
int ledger_signer_lookup(ledger_exec_t *ex, const uint8_t pk[VCRYPTO_PK_BYTES], ledger_signer_t *out);

/* Executes one decoded transaction whose signature has already been checked:
 * authorise, check expiry and sequence, dispatch. Returns the result code
 * (0 or VE_ERR_*); the state reflects only successful effects. A negative return
 * from this function is the tx's result, never a reason to stop the block. */
int ledger_exec_tx(ledger_exec_t *ex, const ledger_tx_t *tx);

/* Application state access, used by apps during ledger_exec_tx. Reads see the
 * writes made earlier in the same block. Slices are valid until the next write. */
int ledger_state_get(ledger_exec_t *ex, ve_slice_t key, ve_slice_t *val_out);
int ledger_state_put(ledger_exec_t *ex, ve_slice_t key, ve_slice_t val);
int ledger_state_del(ledger_exec_t *ex, ve_slice_t key);

/* Where an app's code reads state from: the block's overlay while it executes
 * (ex set: reads see the block's earlier writes), or a store transaction when
 * it answers a query (txn set, reading the committed state). Exactly one is
 * set; both readers take the same keys and give the same answers. */
typedef struct {
  ledger_exec_t *ex;
  store_txn_t *txn;
} ledger_reader_t;

int ledger_reader_get(const ledger_reader_t *rd, ve_slice_t key, ve_slice_t *val_out);

/* Ends a block: writes the state changes as version `height`; out: state root. */
int ledger_exec_finish(ledger_exec_t *ex, uint8_t state_root_out[LEDGER_HASH_BYTES]);

/* Writes genesis state (version 0) through every app's genesis hook. */
int ledger_genesis_apply(const ledger_registry_t *reg, store_txn_t *t, const ledger_genesis_t *g,
                         uint8_t state_root_out[LEDGER_HASH_BYTES]);

/* ---- the chain as stored ---- */

/* Metadata kept under STORE_T_META, updated in the same write txn as each block. */
typedef struct {
  uint64_t height;                          /* last committed and executed block */
  uint8_t last_hash[LEDGER_HASH_BYTES];     /* its hash (genesis hash at height 0) */
  uint64_t last_time_ms;
  uint8_t state_root[LEDGER_HASH_BYTES];    /* state after `height` */
  uint8_t results_root[LEDGER_HASH_BYTES];  /* results of `height` */
} ledger_tip_t;

/* Result of one transaction, as indexed under STORE_T_TX_INDEX. */
typedef struct {
  uint64_t height;
  uint32_t index;
  int32_t code; /* 0 or VE_ERR_* */
} ledger_tx_result_t;

int ledger_tip_get(store_txn_t *t, ledger_tip_t *tip);
/* Initialises an empty store from genesis (height 0). VE_ERR_EXISTS if the store
 * already holds a chain; VE_ERR_CONFIG if it holds a different genesis. */
int ledger_init_store(store_txn_t *t, const ledger_registry_t *reg, const ledger_genesis_t *g);
/* The genesis stored at init. */
int ledger_genesis_get(store_txn_t *t, ledger_genesis_t *g);

/* Builds the header for the next block on top of tip. */
void ledger_header_next(const ledger_tip_t *tip, ve_slice_t chain_id, uint64_t time_ms,
                        const uint8_t valset_hash[LEDGER_HASH_BYTES],
                        const uint8_t proposer[VCRYPTO_PK_BYTES], ledger_header_t *h);

/* Checks a proposed block against the tip: version, chain, height, prev hash,
 * time (> tip time), state and results roots, valset hash, tx count/root, no tx
 * repeated or already committed (VE_ERR_DUPLICATE), and every transaction's
 * encoding, chain id and signature. sig_checked (may be
 * NULL) tells which transaction ids were already verified (e.g. by the
 * mempool), to skip their signatures. */
typedef bool (*ledger_sig_cache_fn)(void *ctx, const uint8_t txid[LEDGER_HASH_BYTES]);
int ledger_block_validate(store_txn_t *t, ve_slice_t block_bytes,
                          const uint8_t valset_hash[LEDGER_HASH_BYTES],
                          ledger_sig_cache_fn sig_checked, void *sig_ctx);

/* ---- stateless pre-checks, ahead of validation ----
 *
 * Most of a block's validation cost is per transaction and needs no state: its
 * signature (and, at execution, an app's curve checks such as the identity
 * app's subgroup check of a new key). ledger_tx_precheck does that part for one
 * transaction; a caller may run it for the transactions of a block on several
 * threads (the ledger itself starts none) and hand the verdicts to
 * ledger_block_validate_prechecked, which then only does the stateful rest.
 * The verdict of a block is the same with or without pre-checks. */

/* Marks a transaction nobody pre-checked (never a VE_ERR_* code). */
#define LEDGER_PRECHECK_NONE 1

/* The stateless checks of one encoded transaction: decoding, chain id, and
 * signature. Returns exactly the verdict validation reaches on this tx alone: 0,
 * a decoding error, VE_ERR_WRONG_CHAIN or VE_ERR_BAD_SIG. When it is 0, also
 * calls the precheck hook of the app owning the tx's type (memos only: no
 * outcome changes). Deterministic and thread-safe; reads no state. */
int ledger_tx_precheck(const ledger_registry_t *reg, ve_slice_t chain_id, ve_slice_t tx);

/* ledger_block_validate_decoded with pre-checked transactions: prechecked
 * (b->tx_count entries, may be NULL) holds, for each b->txs[i], either
 * ledger_tx_precheck(reg, chain id of the store, b->txs[i]) or
 * LEDGER_PRECHECK_NONE, in which case validation checks that transaction
 * itself (consulting sig_checked as ledger_block_validate does). The verdict is
 * that of ledger_block_validate_decoded: the header and duplicates first, then
 * the first failing transaction in block order. Precondition: each verdict was
 * computed on these very bytes, for this chain (the caller matches them by the
 * block's id and tx ids). */
int ledger_block_validate_prechecked(store_txn_t *t, const ledger_block_t *b,
                                     const uint8_t valset_hash[LEDGER_HASH_BYTES],
                                     const int32_t *prechecked, ledger_sig_cache_fn sig_checked,
                                     void *sig_ctx);

/* Commits a validated block: stores it with its certificate, executes it, writes
 * the tx index and the new tip — all inside t, which the caller commits as one
 * write transaction. results (may be NULL) receives tx_count result codes. */
int ledger_block_commit(store_txn_t *t, const ledger_registry_t *reg, ve_slice_t block_bytes,
                        ve_slice_t cert, int32_t *results);

/* The same two steps for a block the caller already decoded: b must be
 * ledger_block_decode(block_bytes) (b borrows from block_bytes). They save
 * decoding the block and hashing its transactions again (ids and tx root), for
 * a caller that decodes the block itself anyway. */
int ledger_block_validate_decoded(store_txn_t *t, const ledger_block_t *b,
                                  const uint8_t valset_hash[LEDGER_HASH_BYTES],
                                  ledger_sig_cache_fn sig_checked, void *sig_ctx);
int ledger_block_commit_decoded(store_txn_t *t, const ledger_registry_t *reg,
                                const ledger_block_t *b, ve_slice_t block_bytes, ve_slice_t cert,
                                int32_t *results);

/* Reads back a stored block / certificate (slices valid until t ends). */
int ledger_block_get(store_txn_t *t, uint64_t height, ve_slice_t *block_out);
int ledger_cert_get(store_txn_t *t, uint64_t height, ve_slice_t *cert_out);
int ledger_tx_result_get(store_txn_t *t, const uint8_t txid[LEDGER_HASH_BYTES],
                         ledger_tx_result_t *out);

#endif
