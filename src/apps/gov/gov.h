/* gov.h — the council: from protocol 2 no single admin decides.
 *
 * Under protocol 1 one admin key could grant and remove roles, switch off an
 * authority's notary or regulator, or name a regulator's country, alone. From
 * protocol 2 (LEDGER_PROTOCOL_COUNCIL) the ledger hands no app the admin role
 * of a transaction's signer (src/ledger/exec.c masks it, and names a refusal
 * it explains `needs_council_decision`); an admin action runs only as the
 * action of a council decision: a proposal that enough council members
 * approve. This is the shape of Hyperledger Fabric's "MAJORITY Admins" channel
 * policy: each authority's administrators together, not one of them.
 *
 * The council: identity ids (1..GOV_COUNCIL_MAX, strictly increasing) and a
 * threshold k with n/2 < k <= n: a strict majority at least, so two disjoint
 * groups of members can never both decide. Its epoch counts councils (1 = the
 * first). Where it comes from:
 *   - a chain whose genesis names protocol >= 2 starts with the genesis
 *     authorities that hold the admin role, k = n/2 + 1, epoch 1;
 *   - a chain upgraded from protocol 1 has none until one is appointed (until
 *     then no admin action can run);
 *   - GOV_COUNCIL_SET appoints the next council with the approvals of
 *     validators holding more than 2/3 of the power of the set governing the
 *     block (the threshold that commits a block and upgrades the protocol: the
 *     consortium appoints the council, the council administers). Each approval
 *     is an Ed25519 signature by a validator's key of
 *
 *       vcrypto_sign(tag "veche/gov/council",
 *                    u8 len(chain_id) || chain_id || be64(epoch) ||
 *                    H_council (32) || H_set (32))
 *
 *     epoch = the appointed council's epoch (current + 1; 1 if none),
 *     H_council = H("veche/gov/council-hash", gov_council_encode of it),
 *     H_set = cons_valset_hash of the approving set. Members must be
 *     registered identities that are not revoked. The envelope's signer is any
 *     active identity. A new council makes every open proposal of the old one
 *     STALE (approvals were given to the old council's question).
 *
 * Proposals:
 *   - GOV_PROPOSE: a member proposes an action (an inner tx type >= 0x0100 and
 *     its payload, as the owning app would take it from a direct signer) with
 *     a note, open for open_ms of block time (GOV_OPEN_MS_MIN..MAX). Its id is
 *     H("veche/gov/proposal", proposer identity id || be64(seq of the
 *     proposing tx)), known to the client before it submits. The proposer's
 *     approval counts.
 *   - GOV_APPROVE / GOV_REJECT: a member's approval or objection, once per
 *     member per proposal, while it is OPEN, of the current epoch, and the
 *     block time is <= its deadline.
 *   - The approval that brings approvals to k executes the action
 *     (ledger_exec_decision) as the proposer's identity and key at proposal
 *     time, holding the admin role only. If the action fails, that approval
 *     fails with the action's error and nothing of it is recorded; the
 *     proposal stays open, and a later approval executes it once it can
 *     succeed. With k = 1 a proposal executes at once (a failing one is not
 *     recorded at all).
 *   - Objections from more than n - k members leave k out of reach: the
 *     objection that does so closes the proposal REJECTED.
 *   - EXPIRED (block time past the deadline) and STALE (epoch no longer
 *     current) are never written; gov_proposal_status derives them.
 * All of this app's types are unknown (VE_ERR_UNKNOWN_TYPE) under protocol 1,
 * exactly as before the app existed, so protocol-1 chains replay identically.
 *
 * Errors: not a member VE_ERR_NOT_ELIGIBLE; no council, proposal not OPEN or
 * of an old epoch VE_ERR_STATE; past the deadline VE_ERR_EXPIRED; unknown
 * proposal VE_ERR_NOT_FOUND; second vote by a member or a proposal id already
 * used VE_ERR_DUPLICATE; inner type < 0x0100, bad open_ms, k or member list
 * VE_ERR_INVALID; member not registered VE_ERR_NOT_FOUND, revoked
 * VE_ERR_REVOKED; council approvals VE_ERR_QUORUM / VE_ERR_BAD_SIG; payload
 * errors from the codec (malformed, trailing bytes, unknown version, too big).
 *
 * State:
 *   "gov/council"          gov_council_encode (absent: no council)
 *   "gov/p/" || id         gov_proposal_encode
 *   "gov/h/" || be64(created height) || id   empty value: proposals by height
 *
 * Payloads (strict: trailing bytes, unknown version refused):
 *   PROPOSE     u8 1 | uvarint open_ms | uvarint inner_type |
 *               bytes inner_payload (<= GOV_ACTION_BYTES_MAX) |
 *               bytes note (<= GOV_NOTE_BYTES_MAX)
 *   APPROVE,
 *   REJECT      u8 1 | fixed32 proposal id
 *   COUNCIL_SET u8 1 | council (as gov_council_encode without the version
 *               byte and epoch: uvarint k | uvarint n | n × fixed32 id) |
 *               approvals (valset_approvals_put: uvarint n | n × (uvarint
 *               index | fixed64 sig), indices strictly increasing)
 *
 * Deterministic: execution reads and writes state only through ledger_state_*.
 * The registry must also run valset_app (the approving set) and identity_app.
 */
#ifndef VECHE_APPS_GOV_H
#define VECHE_APPS_GOV_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/valset/valset.h"
#include "codec/codec.h"
#include "consensus/consensus.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define TX_TYPE_GOV_PROPOSE 0x0030
#define TX_TYPE_GOV_APPROVE 0x0031
#define TX_TYPE_GOV_REJECT 0x0032
#define TX_TYPE_GOV_COUNCIL_SET 0x0033

#define GOV_TAG_PROPOSAL "veche/gov/proposal"
#define GOV_TAG_COUNCIL "veche/gov/council"
#define GOV_TAG_COUNCIL_HASH "veche/gov/council-hash"

#define GOV_COUNCIL_KEY "gov/council"
#define GOV_PROPOSAL_PREFIX "gov/p/"
#define GOV_BY_HEIGHT_PREFIX "gov/h/"

/* Limits: a council is a bitmap of 64 members; an action is one admin
 * transaction's payload; a note says why in a sentence or two (the full
 * reasoning is a document, whose digest the note may carry). */
#define GOV_COUNCIL_MAX 64
#define GOV_ACTION_BYTES_MAX 4096
#define GOV_NOTE_BYTES_MAX 512
#define GOV_OPEN_MS_MIN UINT64_C(60000)                     /* one minute */
#define GOV_OPEN_MS_MAX (UINT64_C(90) * 24 * 3600 * 1000)   /* ninety days */
#define GOV_INNER_TYPE_MIN 0x0100
#define GOV_COUNCIL_BYTES_MAX (1 + 3 * CODEC_UVARINT_BYTES_MAX + GOV_COUNCIL_MAX * 32)
#define GOV_PROPOSAL_BYTES_MAX \
  (2 + 9 * CODEC_UVARINT_BYTES_MAX + 3 * 32 + GOV_ACTION_BYTES_MAX + GOV_NOTE_BYTES_MAX + 2 * 8)
#define GOV_PAYLOAD_BYTES_MAX \
  (1 + 3 * CODEC_UVARINT_BYTES_MAX + GOV_ACTION_BYTES_MAX + GOV_NOTE_BYTES_MAX + 8)
#define GOV_COUNCIL_SET_BYTES_MAX \
  (GOV_COUNCIL_BYTES_MAX + 3 + VE_VALIDATORS_MAX * (3 + VCRYPTO_SIG_BYTES))
#define GOV_APPROVAL_MSG_BYTES_MAX VALSET_APPROVAL_MSG_BYTES_MAX /* the same layout */

typedef struct {
  uint64_t epoch;
  uint32_t k;
  uint32_t n;
  uint8_t members[GOV_COUNCIL_MAX][LEDGER_HASH_BYTES]; /* strictly increasing */
} gov_council_t;

typedef enum {
  GOV_OPEN = 0,     /* written */
  GOV_EXECUTED = 1, /* written */
  GOV_REJECTED = 2, /* written */
  GOV_EXPIRED = 3,  /* derived: OPEN past its deadline */
  GOV_STALE = 4,    /* derived: OPEN of an epoch that is no longer current */
} gov_status_t;

/* Proposal record: u8 version (1) | u8 status (OPEN, EXECUTED, REJECTED) |
 * uvarint epoch | fixed32 proposer id | fixed32 proposer pk | uvarint seq |
 * uvarint created height | uvarint deadline_ms | uvarint inner_type |
 * bytes inner_payload | bytes note | approvals (8 bytes) | rejections (8
 * bytes) (bitmaps of council indices, bit i = members[i], each a u64 written
 * big-endian) | uvarint decided height (0 while OPEN; the height that
 * executed or rejected it otherwise). Both codec directions also refuse what
 * execution never writes: a derived status, epoch 0, an inner type outside
 * GOV_INNER_TYPE_MIN..0xffff, no approval, a member on both sides.
 * Borrowing: payload and note point into the decoded bytes. */
typedef struct {
  uint8_t id[LEDGER_HASH_BYTES]; /* not encoded: the key names it */
  gov_status_t status;
  uint64_t epoch;
  uint8_t proposer[LEDGER_HASH_BYTES];
  uint8_t proposer_pk[VCRYPTO_PK_BYTES];
  uint64_t seq;
  uint64_t created;
  uint64_t deadline_ms;
  uint32_t inner_type;
  ve_slice_t inner_payload;
  ve_slice_t note;
  uint64_t approvals;
  uint64_t rejections;
  uint64_t decided;
} gov_proposal_t;

typedef struct {
  uint64_t open_ms;
  uint32_t inner_type;
  ve_slice_t inner_payload;
  ve_slice_t note;
} gov_propose_t;

typedef struct {
  gov_council_t council; /* epoch not encoded in the payload */
  uint32_t n_approvals;
  valset_approval_t approvals[VE_VALIDATORS_MAX];
} gov_council_set_t;

extern const ledger_app_t gov_app;

/* ---- ids, names ---- */
void gov_proposal_id(uint8_t out[LEDGER_HASH_BYTES], const uint8_t proposer_id[LEDGER_HASH_BYTES], uint64_t seq);
const char *gov_status_name(gov_status_t s); /* "open", "executed", ... */
/* The status a reader shows: written status, or EXPIRED / STALE derived from
 * the current council epoch (0: none) and the last block's time. */
gov_status_t gov_proposal_status(const gov_proposal_t *p, uint64_t council_epoch, uint64_t now_ms);
/* Smallest k allowed for n members (n/2 + 1). */
uint32_t gov_threshold_min(uint32_t n);
/* Number of set bits (approvals, rejections). */
uint32_t gov_count(uint64_t bitmap);
/* Index of id in the council, or -1. */
int gov_member_index(const gov_council_t *c, const uint8_t id[LEDGER_HASH_BYTES]);

/* ---- encodings (out is appended to) ---- */
int gov_council_encode(ve_buf_t *out, const gov_council_t *c);
int gov_council_decode(ve_slice_t in, gov_council_t *out);
/* H(GOV_TAG_COUNCIL_HASH, gov_council_encode(c)) with c->epoch as given. */
int gov_council_hash(uint8_t out[VCRYPTO_HASH_BYTES], const gov_council_t *c);
int gov_proposal_encode(ve_buf_t *out, const gov_proposal_t *p);
int gov_proposal_decode(ve_slice_t in, const uint8_t id[LEDGER_HASH_BYTES], gov_proposal_t *out);

int gov_payload_propose(ve_buf_t *out, uint64_t open_ms, uint32_t inner_type, ve_slice_t inner_payload, ve_slice_t note);
int gov_propose_decode(ve_slice_t payload, gov_propose_t *out);
/* APPROVE and REJECT share one payload. */
int gov_payload_vote(ve_buf_t *out, const uint8_t proposal_id[LEDGER_HASH_BYTES]);
int gov_vote_decode(ve_slice_t payload, uint8_t proposal_id[LEDGER_HASH_BYTES]);
int gov_council_set_encode(ve_buf_t *out, const gov_council_set_t *s);
int gov_council_set_decode(ve_slice_t payload, gov_council_set_t *out);

/* ---- council approvals (client side; execution checks the same) ---- */
/* c->epoch must be the epoch being appointed. out holds
 * GOV_APPROVAL_MSG_BYTES_MAX bytes; returns the length, or 0 for a council
 * gov_council_encode refuses (k, n, member order, epoch 0): there is no
 * message for it, and gov_council_approval_sign then writes a signature of
 * zeros (which no key verifies). Check with gov_council_hash first. */
size_t gov_council_approval_msg(uint8_t *out, const char *chain_id, const gov_council_t *c,
                                const uint8_t set_hash[VCRYPTO_HASH_BYTES]);
void gov_council_approval_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *chain_id,
                               const gov_council_t *c, const cons_valset_t *set);

/* ---- reading (committed state; for the API and tests) ---- */
int gov_council_get(store_txn_t *t, gov_council_t *out);              /* VE_ERR_NOT_FOUND: none */
/* buf keeps the record bytes the proposal borrows from (reset first; its
 * cap_max must allow GOV_PROPOSAL_BYTES_MAX). VE_ERR_NOT_FOUND: unknown id. */
int gov_proposal_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], gov_proposal_t *out, ve_buf_t *buf);
/* State keys, for proofs. */
size_t gov_proposal_key(uint8_t out[6 + LEDGER_HASH_BYTES], const uint8_t id[LEDGER_HASH_BYTES]);

#endif
