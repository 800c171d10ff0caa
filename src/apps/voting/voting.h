/* voting.h — citizen polls on the ledger: the poll app (voting_app), its
 * payloads, state records, client helpers and the public audit engine.
 *
 * The cryptography (ElGamal ballots with proofs, the trustees' distributed key
 * generation, threshold decryption, tally, discrete log) is votecrypto.h; this
 * header is everything around it. docs/voting.md specifies the transactions,
 * their payload and state encodings, the checks and their error codes, the
 * API and the audit; docs/voting-crypto.md §11 the cryptographic checks.
 *
 * Poll status machine (stored in the poll record; heights are block heights,
 * `h` the height of the block executing a transaction):
 *
 *   create (h < deal_end < complaint_end < open <= close)
 *     │
 *     ▼
 *   DKG ── dealings at h <= deal_end, complaints at deal_end < h <= complaint_end
 *     │ finish (complaint_end < h <= close): vote_dkg_finish over the accepted
 *     │ dealings and complaints
 *     ├──────────────► FAILED (fewer than t qualified dealers; terminal)
 *     ▼
 *   READY ── ballots at open <= h <= close; each replaces the voter's earlier
 *     │      ballot in the running encrypted tally
 *     │ decryption shares at h > close; the t-th valid one decrypts the tally
 *     ▼
 *   DONE (result: counts, the tally they decrypt, the trustees used; terminal)
 *
 *   DKG | READY ── cancel (h < open, by the organizer or an admin) ──► CANCELLED
 *
 * Invariants: the running tally (TALLY record) is always the component-wise
 * sum of the ciphertexts of exactly the latest accepted ballot of every voter
 * (one BALLOT record per voter holds those ciphertexts); `voters` is the number
 * of BALLOT records; a tracker is accepted at most once per poll; a poll record
 * never changes once CANCELLED, FAILED or DONE.
 *
 * Determinism: voting_app and every function here are pure: no clock, files,
 * sockets or randomness. Functions that encrypt or prove take 32-byte seeds the
 * caller draws from the OS. (An internal cache of precomputed election tables
 * is shared between threads under a mutex; it never changes a result.)
 *
 * Ownership: the caller owns every buffer; ve_buf_t outputs are appended to.
 * Decoded records (voting_poll_t, voting_ballot_rec_t, ...) are self-contained
 * copies. The audit engine owns its memory until voting_audit_free.
 */
#ifndef VECHE_APPS_VOTING_VOTING_H
#define VECHE_APPS_VOTING_VOTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/voting/votecrypto.h"
#include "base/bytes.h"
#include "ledger/ledger.h"

/* ---- transaction types (app range 0x0300..0x03ff; see ledger.h) ---- */
enum {
  TX_TYPE_POLL_TRUSTEE_KEY = 0x0301, /* a trustee publishes its share-encryption key */
  TX_TYPE_POLL_CREATE = 0x0302,
  TX_TYPE_POLL_CANCEL = 0x0303,
  TX_TYPE_POLL_DKG_DEAL = 0x0304,
  TX_TYPE_POLL_DKG_COMPLAIN = 0x0305,
  TX_TYPE_POLL_DKG_FINISH = 0x0306,
  TX_TYPE_POLL_BALLOT = 0x0307,
  TX_TYPE_POLL_DECRYPT = 0x0308,
};
#define VOTING_TX_TYPE_LO 0x0300
#define VOTING_TX_TYPE_HI 0x03ff

/* ---- limits (each checked before anything is allocated) ---- */
#define VOTING_TITLE_BYTES_MAX 256
#define VOTING_QUESTIONS_MAX 16
#define VOTING_QUESTION_BYTES_MAX 512
#define VOTING_OPTION_BYTES_MAX 128
#define VOTING_OPTIONS_MAX VOTE_OPTIONS_MAX   /* options of all questions together */
#define VOTING_TRUSTEES_MIN VOTE_TRUSTEES_MIN
#define VOTING_TRUSTEES_MAX VOTE_TRUSTEES_MAX
#define VOTING_REASON_BYTES_MAX 256
#define VOTING_FILTER_KEY_BYTES_MAX 16        /* = IDENTITY_ATTR_KEY_BYTES_MAX */
#define VOTING_FILTER_VALUE_BYTES_MAX 64      /* = IDENTITY_ATTR_VALUE_BYTES_MAX */
/* Sum of the per-question ballots of one ballot transaction (checked at poll
 * creation from the question shapes, so every valid ballot fits a tx). */
#define VOTING_BALLOTS_BYTES_MAX (48 * 1024)
/* Encoded create payload (definition); a poll record stays under 64 KiB. */
#define VOTING_DEF_BYTES_MAX (32 * 1024)
#define VOTING_RECORD_BYTES_MAX (60 * 1024)
/* Distinct voters of one poll: every count must stay decodable. */
#define VOTING_VOTERS_MAX VOTE_DLOG_MAX

#define VOTING_ID_BYTES 32
#define VOTING_PAYLOAD_VERSION 1
#define VOTING_RECORD_VERSION 1

/* Hash tags (vcrypto_hash). */
#define VOTING_TAG_POLL_ID "veche/poll/id"            /* H(tag, signer pk || be64 seq) */
#define VOTING_TAG_TRUSTEE_KEY "veche/poll/trustee-key" /* poll-id slot of the key's PoP context */
#define VOTING_TAG_DEF "veche/poll/def"                 /* H(tag, create payload) */

/* ---- poll definition (the create payload) ---- */

typedef struct {
  char text[VOTING_QUESTION_BYTES_MAX + 1]; /* UTF-8, no control characters */
  uint32_t first;                           /* index of its first option in def.option */
  uint32_t options;                         /* 1..VOTE_OPTIONS_MAX */
  uint32_t min, max;                        /* choices per ballot: 0 <= min <= max <= options, max >= 1 */
} voting_question_t;

typedef struct {
  char title[VOTING_TITLE_BYTES_MAX + 1];
  uint32_t n_questions;
  voting_question_t q[VOTING_QUESTIONS_MAX];
  uint32_t n_options;                               /* all questions' options, in order */
  char option[VOTING_OPTIONS_MAX][VOTING_OPTION_BYTES_MAX + 1];
  bool has_filter;                                  /* eligibility: attribute key == value */
  char filter_key[VOTING_FILTER_KEY_BYTES_MAX + 1];
  char filter_value[VOTING_FILTER_VALUE_BYTES_MAX + 1];
  uint64_t deal_end, complaint_end, open_height, close_height;
  uint32_t threshold;                               /* t: 2..n_trustees */
  uint32_t n_trustees;                              /* n: 3..32; trustee j is trustees[j-1] */
  uint8_t trustees[VOTING_TRUSTEES_MAX][LEDGER_HASH_BYTES]; /* identity ids, distinct */
} voting_def_t;

/* ---- the poll record ("vp/" || poll id) ---- */

typedef enum {
  VOTING_DKG = 0,
  VOTING_READY = 1,
  VOTING_FAILED = 2,
  VOTING_CANCELLED = 3,
  VOTING_DONE = 4,
} voting_status_t;

typedef struct {
  uint8_t id[VOTING_ID_BYTES];
  uint8_t organizer[LEDGER_HASH_BYTES];    /* identity that created it */
  uint64_t created_height;
  voting_def_t def;
  uint8_t def_hash[32];                    /* H("veche/poll/def", create payload) */
  uint8_t enc_pk[VOTING_TRUSTEES_MAX][VOTE_POINT_BYTES]; /* trustees' keys at creation */
  voting_status_t status;
  uint64_t status_height;                  /* last status change */
  uint32_t dealt;                          /* bit i-1: dealer i's dealing accepted */
  uint32_t complained[VOTING_TRUSTEES_MAX]; /* [i-1] bit j-1: j's complaint vs i accepted */
  uint32_t upheld;                         /* bit i-1: a complaint against i was upheld */
  bool has_key;                            /* READY or DONE */
  uint32_t qualified;                      /* bit i-1: dealer i counted in the key */
  uint8_t pk[VOTE_POINT_BYTES];            /* joint election key Y */
  uint8_t vk[VOTING_TRUSTEES_MAX][VOTE_POINT_BYTES]; /* X_j */
  uint32_t decrypted;                      /* bit j-1: trustee j's shares accepted */
  bool has_result;                         /* DONE */
  uint64_t result_height;
  uint64_t voters;                         /* ballots counted (one per voter) */
  uint32_t used;                           /* bit j-1: trustee j's shares decrypted it */
  uint64_t counts[VOTING_OPTIONS_MAX];     /* per option, questions in order */
  uint8_t tally[VOTING_OPTIONS_MAX][VOTE_CT_BYTES]; /* the tally the counts decrypt */
} voting_poll_t;

const char *voting_status_name(voting_status_t s);
/* Phase as seen by a transaction executing at height h (h = committed + 1 for
 * "now"): "dkg", "dkg_finish_due", "dkg_expired" (not finished by the close),
 * "scheduled", "open", "closed" (awaiting decryption), "done", "failed",
 * "cancelled". */
const char *voting_phase_name(const voting_poll_t *p, uint64_t h);

/* ---- the running tally ("vpt/" || poll id) ---- */
typedef struct {
  uint64_t voters;  /* distinct voters counted */
  uint64_t ballots; /* ballot transactions accepted (re-votes included) */
  uint32_t n_options;
  uint8_t cts[VOTING_OPTIONS_MAX][VOTE_CT_BYTES];
} voting_tally_rec_t;

/* ---- a voter's counted ballot ("vb/" || poll id || voter id) ---- */
typedef struct {
  uint8_t voter[LEDGER_HASH_BYTES];
  uint8_t tracker[32];   /* voting_tracker of the ballot list */
  uint64_t height;       /* block that accepted it */
  uint64_t revision;     /* 1 for the first ballot, +1 per replacement */
  uint32_t n_options;
  uint8_t cts[VOTING_OPTIONS_MAX][VOTE_CT_BYTES];
} voting_ballot_rec_t;

/* ---- a trustee's share-encryption key ("vtk/" || identity id) ---- */
typedef struct {
  uint8_t enc_pk[VOTE_POINT_BYTES];
  uint64_t height;
} voting_trustee_key_t;

/* The app, for the ledger registry (after identity_app: it reads identity state). */
extern const ledger_app_t voting_app;

/* ---- ids, contexts, trackers ---- */

/* Poll id: H("veche/poll/id", creator's signing key || be64 tx sequence). A
 * key and sequence are used at most once, so a client knows the id before it
 * submits the create transaction. */
void voting_poll_id(uint8_t out[VOTING_ID_BYTES], const uint8_t signer_pk[VCRYPTO_PK_BYTES],
                    uint64_t seq);
/* DKG and decryption context: vote_context_make(chain, poll, poll) (32 bytes). */
void voting_poll_context(uint8_t out[32], ve_slice_t chain_id, const uint8_t poll[VOTING_ID_BYTES]);
/* Ballot context of question q for a voter: vote_context_make(chain, poll,
 * voter identity id) || be32 q (36 bytes). */
#define VOTING_QCTX_BYTES 36
void voting_ballot_context(uint8_t out[VOTING_QCTX_BYTES], ve_slice_t chain_id,
                           const uint8_t poll[VOTING_ID_BYTES], const uint8_t voter[LEDGER_HASH_BYTES],
                           uint32_t q);
/* Decryption context of question q: voting_poll_context || be32 q (36 bytes). */
void voting_decrypt_context(uint8_t out[VOTING_QCTX_BYTES], ve_slice_t chain_id,
                            const uint8_t poll[VOTING_ID_BYTES], uint32_t q);
/* Tracker of a ballot transaction: vote_ballot_tracker over the encoded ballot
 * list (the payload after version, poll id and voter id). */
void voting_tracker(uint8_t out[32], ve_slice_t ballot_list);

/* ---- state keys (for reads and proof bundles); each returns its length ---- */
#define VOTING_POLL_KEY_BYTES (3 + 32)         /* "vp/" || poll */
#define VOTING_TALLY_KEY_BYTES (4 + 32)        /* "vpt/" || poll */
#define VOTING_BALLOT_KEY_BYTES (3 + 64)       /* "vb/" || poll || voter */
#define VOTING_TRACKER_KEY_BYTES (4 + 64)      /* "vbt/" || poll || tracker */
#define VOTING_DEALING_KEY_BYTES (4 + 32 + 1)  /* "vpd/" || poll || u8 dealer */
#define VOTING_COMPLAINT_KEY_BYTES (4 + 32 + 2) /* "vpc/" || poll || u8 dealer || u8 complainer */
#define VOTING_DECRYPT_KEY_BYTES (4 + 32 + 1)  /* "vpx/" || poll || u8 trustee */
#define VOTING_TRUSTEE_KEY_BYTES (4 + 32)      /* "vtk/" || identity */
size_t voting_poll_key(uint8_t out[VOTING_POLL_KEY_BYTES], const uint8_t poll[32]);
size_t voting_tally_key(uint8_t out[VOTING_TALLY_KEY_BYTES], const uint8_t poll[32]);
size_t voting_ballot_key(uint8_t out[VOTING_BALLOT_KEY_BYTES], const uint8_t poll[32],
                         const uint8_t voter[32]);
size_t voting_tracker_key(uint8_t out[VOTING_TRACKER_KEY_BYTES], const uint8_t poll[32],
                          const uint8_t tracker[32]);
size_t voting_dealing_key(uint8_t out[VOTING_DEALING_KEY_BYTES], const uint8_t poll[32], uint32_t dealer);
size_t voting_complaint_key(uint8_t out[VOTING_COMPLAINT_KEY_BYTES], const uint8_t poll[32],
                            uint32_t dealer, uint32_t complainer);
size_t voting_decrypt_key(uint8_t out[VOTING_DECRYPT_KEY_BYTES], const uint8_t poll[32], uint32_t trustee);
size_t voting_trustee_key(uint8_t out[VOTING_TRUSTEE_KEY_BYTES], const uint8_t identity[32]);

/* ---- strict decoders (payloads and state values) ----
 * Return 0; VE_ERR_MALFORMED / VE_ERR_TRAILING / VE_ERR_NONCANONICAL /
 * VE_ERR_VERSION / VE_ERR_TOO_BIG for bytes that are not a canonical value;
 * VE_ERR_INVALID / VE_ERR_DUPLICATE / VE_ERR_LIMIT for a definition that
 * breaks a rule of docs/voting.md. Record decoders map every failure to
 * VE_ERR_CORRUPT (state is written by the ledger only). */
int voting_def_decode(ve_slice_t payload, voting_def_t *out);
int voting_poll_decode(ve_slice_t value, const uint8_t id[VOTING_ID_BYTES], voting_poll_t *out);
int voting_tally_decode(ve_slice_t value, uint32_t n_options, voting_tally_rec_t *out);
int voting_ballot_rec_decode(ve_slice_t value, const uint8_t voter[32], uint32_t n_options,
                             voting_ballot_rec_t *out);
int voting_trustee_key_decode(ve_slice_t value, voting_trustee_key_t *out);
/* Complaint record: u8 upheld || complaint bytes (borrowed from value). */
int voting_complaint_rec_decode(ve_slice_t value, bool *upheld, ve_slice_t *complaint);

/* The poll id named by any poll payload other than the trustee key and create
 * payloads (they all start u8 version || fixed32 poll id). */
int voting_payload_poll(ve_slice_t payload, uint8_t poll[VOTING_ID_BYTES]);

/* A ballot payload, decoded (slices borrow from the payload). */
typedef struct {
  uint8_t poll[VOTING_ID_BYTES];
  uint8_t voter[LEDGER_HASH_BYTES];
  ve_slice_t list;                            /* the encoded ballot list (tracker input) */
  uint32_t n;                                 /* ballots, one per question */
  ve_slice_t ballot[VOTING_QUESTIONS_MAX];
} voting_ballot_payload_t;
int voting_ballot_payload_decode(ve_slice_t payload, voting_ballot_payload_t *out);

/* A decryption payload: the trustee's share of every question's tally. */
typedef struct {
  uint8_t poll[VOTING_ID_BYTES];
  uint32_t n;
  ve_slice_t share[VOTING_QUESTIONS_MAX];
} voting_decrypt_payload_t;
int voting_decrypt_payload_decode(ve_slice_t payload, voting_decrypt_payload_t *out);

/* ---- payload builders for clients (CLI, tests, benchmarks) ----
 * Return 0, or the error every node would give for these arguments. */
/* enc: the trustee's key pair; the payload carries enc->pk and a proof of
 * possession bound to the chain and the trustee's identity. seed: 32 random bytes. */
int voting_payload_trustee_key(ve_buf_t *out, ve_slice_t chain_id, const uint8_t identity[32],
                               const vote_keypair_t *enc, const uint8_t seed[VOTE_SEED_BYTES]);
int voting_payload_create(ve_buf_t *out, const voting_def_t *def);
int voting_payload_cancel(ve_buf_t *out, const uint8_t poll[32], const char *reason);
int voting_payload_deal(ve_buf_t *out, const uint8_t poll[32], ve_slice_t dealing);
int voting_payload_complain(ve_buf_t *out, const uint8_t poll[32], ve_slice_t complaint);
int voting_payload_finish(ve_buf_t *out, const uint8_t poll[32]);
int voting_payload_ballot(ve_buf_t *out, const uint8_t poll[32], const uint8_t voter[32],
                          const ve_slice_t *ballots, size_t n);
int voting_payload_decrypt(ve_buf_t *out, const uint8_t poll[32], const ve_slice_t *shares, size_t n);

/* Index (1..n) of identity among the poll's trustees, or 0. */
uint32_t voting_trustee_index(const voting_def_t *def, const uint8_t identity[32]);

/* Encrypts and proves a voter's choices and builds the ballot payload.
 * choices[o] is 0 or 1 for every option o of the poll (questions in order).
 * Out: payload appended to out, tracker (may be NULL). Requires p->has_key.
 * Returns 0, VE_ERR_STATE (no key yet), VE_ERR_INVALID (choices out of bounds). */
int voting_ballot_build(ve_buf_t *out, uint8_t tracker[32], const voting_poll_t *p, ve_slice_t chain_id,
                        const uint8_t voter[32], const uint8_t *choices, size_t n_choices,
                        const uint8_t seed[VOTE_SEED_BYTES]);
/* A trustee's decryption shares of every question of tally (the TALLY record
 * after close), with secret share x (vote_dkg_secret_share). Builds the
 * decrypt payload. */
int voting_decrypt_build(ve_buf_t *out, const voting_poll_t *p, const voting_tally_rec_t *tally,
                         ve_slice_t chain_id, uint32_t trustee, const uint8_t x[VOTE_SCALAR_BYTES],
                         const uint8_t seed[VOTE_SEED_BYTES]);

/* An election context for question q of a READY poll, from a process-wide
 * cache (copied into *el). Returns 0, VE_ERR_STATE without key, or the
 * vote_election_init error. */
int voting_election_get(vote_election_t *el, const voting_poll_t *p, uint32_t q);

/* ---- reads through a store transaction (API threads) ----
 * Return 0, VE_ERR_NOT_FOUND, VE_ERR_CORRUPT or store errors. */
int voting_poll_get(store_txn_t *t, const uint8_t poll[32], voting_poll_t *out);
int voting_tally_get(store_txn_t *t, const voting_poll_t *p, voting_tally_rec_t *out);
int voting_ballot_get(store_txn_t *t, const voting_poll_t *p, const uint8_t voter[32],
                      voting_ballot_rec_t *out);
int voting_trustee_key_get(store_txn_t *t, const uint8_t identity[32], voting_trustee_key_t *out);

/* ---- public audit ----
 * Re-executes a poll from its committed transactions, trusting the ledger only
 * for their order and result codes (which the caller checks against certified
 * block headers): re-verifies every dealing, complaint, ballot proof and
 * decryption share, recomputes the DKG outcome and the encrypted tally with
 * replacement, decrypts it independently and compares everything with the
 * poll record (and tally record) the chain certifies.
 *
 * Use: voting_audit_new with the proven records, then voting_audit_tx for
 * every committed transaction of heights [created_height, record height] in
 * chain order (others are skipped cheaply), then voting_audit_finish. Ballot
 * proofs may be checked in parallel beforehand with voting_audit_ballot_check
 * (thread-safe on a const engine); pass the outcome to voting_audit_tx.
 * Every function returns 0 or an error with a one-line reason. */
typedef struct voting_audit voting_audit_t;

typedef struct {
  uint64_t txs_seen;          /* poll transactions in the blocks */
  uint64_t txs_failed;        /* of which the ledger rejected (not counted) */
  uint64_t dealings, complaints, complaints_upheld;
  uint64_t ballots;           /* accepted ballot transactions, all re-verified */
  uint64_t replaced;          /* of which replaced an earlier ballot */
  uint64_t voters;            /* counted ballots */
  uint64_t shares;            /* decryption shares verified */
  bool result_checked;        /* counts recomputed and equal to the record */
  uint64_t counts[VOTING_OPTIONS_MAX];
} voting_audit_report_t;

#define VOTING_AUDIT_REASON_BYTES 256

/* poll: the proven poll record; tally: the proven tally record (NULL if the
 * poll never reached READY); chain_id as in the genesis. */
int voting_audit_new(voting_audit_t **out, ve_slice_t chain_id, const voting_poll_t *poll,
                     const voting_tally_rec_t *tally, char *reason, size_t reason_len);
void voting_audit_free(voting_audit_t *a);
/* Does tx belong to the audited poll (by type and poll id; creation by id)? */
bool voting_audit_wants(const voting_audit_t *a, const ledger_tx_t *tx);
/* Verifies the proofs of a ballot transaction's ballots against the poll (no
 * state change). Returns 0, VE_ERR_STATE (no key yet) or the verification
 * error. Thread-safe. */
int voting_audit_ballot_check(const voting_audit_t *a, const ledger_tx_t *tx);
/* Feeds one committed transaction. code: its certified result; pre_checked:
 * for a ballot, the result of voting_audit_ballot_check (or 1 if not run). */
int voting_audit_tx(voting_audit_t *a, uint64_t height, const ledger_tx_t *tx, int32_t code,
                    int pre_checked, char *reason, size_t reason_len);
int voting_audit_finish(voting_audit_t *a, voting_audit_report_t *rep, char *reason, size_t reason_len);

#endif
