/* valset.h — validator-set changes on the ledger: how the consortium admits a
 * new authority's validator, changes powers, or lets one go, without a new
 * genesis.
 *
 * A change is one transaction, VALSET_CHANGE (0x0010), carrying the whole new
 * set and the approvals of validators of the current set holding more than
 * 2/3 of its power: the same threshold that commits a block, so no single
 * operator (nor any group that could not commit a block by itself) changes the
 * set alone. The envelope's signer is any active identity; the approvals are
 * what authorise. Each approval is an Ed25519 signature, by a current
 * validator's key, of
 *
 *     vcrypto_sign(tag "veche/valset/approval",
 *                  u8 len(chain_id) || chain_id || be64(epoch + 1) ||
 *                  H_cur (32) || H_new (32))
 *
 * where epoch is the number of changes applied so far (0 at genesis), and H_cur /
 * H_new are cons_valset_hash of the current and the new set. The epoch makes an
 * approval good for exactly one change: it cannot be replayed after the set
 * went A -> B -> A.
 *
 * Timing. A change executed in block h governs heights h + CONS_VALSET_DELAY (= 2)
 * and later: the consensus engine learns the set of height h + 2 when block h
 * is applied (src/consensus). At most one change per block.
 *
 * State (all under the prefix "valset"):
 *   "valset"             the latest set (cons_valset encoding); written at genesis.
 *   "valset/meta"        u8 version (1) | uvarint epoch | uvarint from_height of
 *                        the latest set. Absent until the first change: epoch 0,
 *                        from height 1.
 *   "valset/e/" be64(k)  epoch record k: u8 version (1) | uvarint from_height |
 *                        bytes set (cons_valset encoding, ≤ CONS_VALSET_BYTES_MAX).
 *                        Written for k = 0 (the genesis set, from height 1) and
 *                        k = 1 at the first change, then one per change. A proof
 *                        of record k in the state after block from_height - 2
 *                        (header from_height - 1, certified by set k - 1) is how
 *                        an offline verifier follows the chain of sets.
 * The genesis state is unchanged from chains made before set changes existed
 * (only "valset"), so such chains replay identically.
 *
 * Payload (strict; trailing bytes, unknown version, unsorted or repeated
 * indices, zero approvals are refused):
 *   u8 version (1) | bytes new_set (cons_valset encoding) |
 *   uvarint n (1..VE_VALIDATORS_MAX) | n × (uvarint index | fixed64 signature)
 * with indices into the current set, strictly increasing.
 *
 * Deterministic: execution reads and writes state only through ledger_state_*.
 */
#ifndef VECHE_APPS_VALSET_H
#define VECHE_APPS_VALSET_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/codec.h"
#include "consensus/consensus.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define TX_TYPE_VALSET_CHANGE 0x0010
#define VALSET_TAG_APPROVAL "veche/valset/approval"

#define VALSET_KEY "valset"
#define VALSET_META_KEY "valset/meta"
#define VALSET_EPOCH_PREFIX "valset/e/"
#define VALSET_EPOCH_KEY_BYTES (9 + 8)
/* Upper bound of an epoch record (u8 version | uvarint from | bytes set). */
#define VALSET_RECORD_BYTES_MAX (1 + CODEC_UVARINT_BYTES_MAX + 3 + CONS_VALSET_BYTES_MAX)
#define VALSET_APPROVAL_MSG_BYTES_MAX (1 + VE_CHAIN_ID_BYTES_MAX + 8 + 2 * VCRYPTO_HASH_BYTES)
/* Upper bound of a VALSET_CHANGE payload. */
#define VALSET_PAYLOAD_BYTES_MAX (1 + 3 + CONS_VALSET_BYTES_MAX + 3 + VE_VALIDATORS_MAX * (3 + VCRYPTO_SIG_BYTES))

typedef struct {
  uint64_t epoch;       /* changes applied so far; 0 = the genesis set */
  uint64_t from_height; /* first height the latest set governs (1 for epoch 0) */
} valset_meta_t;

typedef struct {
  uint32_t index; /* position in the current set */
  uint8_t sig[VCRYPTO_SIG_BYTES];
} valset_approval_t;

typedef struct {
  cons_valset_t set; /* the proposed set */
  uint32_t n_approvals;
  valset_approval_t approvals[VE_VALIDATORS_MAX];
} valset_change_t;

extern const ledger_app_t valset_app;

/* ---- keys and records ---- */

/* "valset/e/" || be64(epoch). Returns VALSET_EPOCH_KEY_BYTES. */
size_t valset_epoch_key(uint8_t out[VALSET_EPOCH_KEY_BYTES], uint64_t epoch);
int valset_meta_encode(ve_buf_t *out, const valset_meta_t *m);
int valset_meta_decode(ve_slice_t in, valset_meta_t *out);
/* Epoch record: from_height and the set. */
int valset_record_encode(ve_buf_t *out, uint64_t from_height, const cons_valset_t *set);
int valset_record_decode(ve_slice_t in, uint64_t *from_height, cons_valset_t *set);

/* ---- the change transaction (client side and execution) ---- */

/* The message an approval signs (see the top); out must hold
 * VALSET_APPROVAL_MSG_BYTES_MAX bytes. Returns its length. */
size_t valset_approval_msg(uint8_t *out, const char *chain_id, uint64_t next_epoch,
                           const uint8_t cur_hash[VCRYPTO_HASH_BYTES], const uint8_t new_hash[VCRYPTO_HASH_BYTES]);
/* Signs an approval with a current validator's key. */
void valset_approval_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *chain_id,
                          uint64_t next_epoch, const cons_valset_t *cur, const cons_valset_t *next);
/* More than 2/3 of cur's total power: what a change's approvals must hold
 * (the rule execution applies; clients check it before submitting). */
bool valset_power_enough(uint64_t approved, const cons_valset_t *cur);
/* Approval lists, shared with the other decisions validators approve
 * (src/apps/upgrade): uvarint n (1..VE_VALIDATORS_MAX) | n × (uvarint index |
 * fixed64 signature), indices strictly increasing.
 * valset_approvals_put refuses (VE_ERR_INVALID, nothing written) a list the
 * reader would refuse; valset_approvals_get fails r on one. */
int valset_approvals_put(codec_writer_t *w, const valset_approval_t *a, uint32_t n);
void valset_approvals_get(codec_reader_t *r, valset_approval_t *out, uint32_t *n);
/* Execution's check of a list against the approving set: indices in range,
 * then more than 2/3 of set's power (VE_ERR_INVALID, VE_ERR_QUORUM: no
 * signature is checked for a list that cannot pass), then each signature of
 * msg under tag by its validator's key (VE_ERR_BAD_SIG). */
int valset_approvals_verify(const cons_valset_t *set, const valset_approval_t *a, uint32_t n, const char *tag,
                            const uint8_t *msg, size_t msg_len);
/* Payload of a VALSET_CHANGE tx (approvals must be sorted by index). */
int valset_change_encode(ve_buf_t *out, const valset_change_t *c);
int valset_change_decode(ve_slice_t payload, valset_change_t *out);

/* ---- reading the sets ---- */

/* The consensus validator set named in a genesis (epoch 0). */
int valset_from_genesis(const ledger_genesis_t *g, cons_valset_t *vs);

/* From a store transaction (node, API), the committed state as of t:
 * meta (absent: epoch 0, from height 1) and the latest set. */
int valset_meta_get(store_txn_t *t, valset_meta_t *out);
int valset_latest_get(store_txn_t *t, cons_valset_t *out);
/* The set governing `height`, for any height from 1 to (last applied block) +
 * CONS_VALSET_DELAY. VE_ERR_NOT_FOUND if no record covers it (a height beyond
 * that bound is answered with the latest set, which is what will govern it
 * unless a later block changes it). which (may be NULL): that set's epoch and
 * the first height it governs. */
int valset_governing(store_txn_t *t, uint64_t height, cons_valset_t *out, valset_meta_t *which);
/* The same during execution (the evidence app: the set governing an
 * equivocation's height). */
int valset_governing_exec(ledger_exec_t *ex, uint64_t height, cons_valset_t *out);

#endif
