/* cons_int.h — consensus insides shared by the engine, its unit tests and the
 * simulator: wire messages, signed bytes, persisted records, certificates,
 * evidence encoders, proposer cycles and timer tokens. Other modules use
 * consensus.h only. Layouts are specified in docs/consensus.md ("Encoding"). */
#ifndef VECHE_CONSENSUS_CONS_INT_H
#define VECHE_CONSENSUS_CONS_INT_H

#include "consensus/consensus.h"

#define CONS_WIRE_VERSION 1
#define CONS_TAG_PROPOSAL "veche/cons/proposal"
#define CONS_TAG_VOTE "veche/cons/vote"
#define CONS_TAG_VALSET "veche/cons/valset"

/* Message types (second byte of every message). */
enum {
  CONS_MSG_PROPOSAL = 1,
  CONS_MSG_VOTE = 2,
  CONS_MSG_VOTES = 3,
  CONS_MSG_STATUS = 4,
  CONS_MSG_DECISION = 5,
};
/* Signed-message types (first byte of signed bytes, records). */
enum { CONS_TYPE_PROPOSAL = 1 /* CONS_VOTE_PREVOTE = 2, CONS_VOTE_PRECOMMIT = 3 */ };

#define CONS_BATCH_VOTES_MAX (4 * VE_VALIDATORS_MAX)
/* Largest signed-bytes string: type, chain id, height, round, pol, has_id, id. */
#define CONS_SIGN_BYTES_MAX (1 + 1 + VE_CHAIN_ID_BYTES_MAX + 10 + 10 + 10 + 1 + CONS_ID_BYTES)

typedef struct {
  uint64_t height;
  uint32_t round;
  uint8_t type;   /* CONS_VOTE_PREVOTE / CONS_VOTE_PRECOMMIT */
  uint32_t index; /* validator index in the height's set */
  bool has_id;    /* false: nil vote */
  uint8_t id[CONS_ID_BYTES];
  uint8_t sig[VCRYPTO_SIG_BYTES];
} cons_vote_t;

typedef struct {
  uint64_t height;
  uint32_t round;
  int64_t pol_round; /* -1 or < round */
  uint8_t id[CONS_ID_BYTES];
  ve_slice_t value; /* borrowed from the decoded input */
  uint8_t sig[VCRYPTO_SIG_BYTES];
} cons_proposal_t;

typedef struct {
  uint64_t height;
  uint32_t round;
  bool has_proposal;
} cons_status_msg_t;

typedef struct {
  uint64_t height;
  uint8_t id[CONS_ID_BYTES];
  ve_slice_t value; /* borrowed */
  ve_slice_t cert;  /* borrowed */
} cons_decision_t;

typedef struct {
  uint8_t type; /* CONS_MSG_* */
  uint64_t height;
  cons_proposal_t proposal; /* PROPOSAL */
  cons_vote_t vote;         /* VOTE */
  size_t votes_count;       /* VOTES: written to the caller's array */
  cons_status_msg_t status; /* STATUS */
  cons_decision_t decision; /* DECISION */
} cons_msg_t;

/* Strict decode of any message. votes (capacity CONS_BATCH_VOTES_MAX) receives the
 * items of a VOTES batch; may be NULL when the caller only peeks (then a batch
 * decodes into votes_count only). Slices borrow from in. */
int cons_msg_decode(ve_slice_t in, cons_msg_t *out, cons_vote_t *votes);
int cons_proposal_encode(ve_buf_t *out, const cons_proposal_t *p);
int cons_vote_encode(ve_buf_t *out, const cons_vote_t *v);
/* Batch of count votes, all of one height, sorted strictly by (round, type, index). */
int cons_votes_encode(ve_buf_t *out, const cons_vote_t *votes, size_t count);
int cons_status_encode(ve_buf_t *out, const cons_status_msg_t *s);

/* Signed bytes. out holds CONS_SIGN_BYTES_MAX; returns the length. */
size_t cons_vote_sign_bytes(uint8_t *out, const char *chain_id, uint8_t type, uint64_t height,
                            uint32_t round, bool has_id, const uint8_t id[CONS_ID_BYTES]);
size_t cons_proposal_sign_bytes(uint8_t *out, const char *chain_id, uint64_t height,
                                uint32_t round, int64_t pol_round,
                                const uint8_t id[CONS_ID_BYTES]);
void cons_vote_sign(cons_vote_t *v, const vcrypto_keypair_t *kp, const char *chain_id);
void cons_proposal_sign(cons_proposal_t *p, const vcrypto_keypair_t *kp, const char *chain_id);
int cons_vote_verify(const cons_vote_t *v, const uint8_t pk[VCRYPTO_PK_BYTES],
                     const char *chain_id, cons_verify_fn fn, void *ctx);
int cons_proposal_verify(const cons_proposal_t *p, const uint8_t pk[VCRYPTO_PK_BYTES],
                         const char *chain_id, cons_verify_fn fn, void *ctx);
/* vcrypto_verify shaped as a cons_verify_fn. */
int cons_verify_default(void *ctx, const uint8_t sig[VCRYPTO_SIG_BYTES],
                        const uint8_t pk[VCRYPTO_PK_BYTES], const char *tag, const uint8_t *msg,
                        size_t msg_len);

/* ---- persisted records: "I am about to sign this" ---- */

typedef struct {
  uint64_t height;
  uint32_t round;
  uint8_t type;      /* CONS_TYPE_PROPOSAL, CONS_VOTE_PREVOTE, CONS_VOTE_PRECOMMIT */
  bool has_id;       /* always true for proposals */
  uint8_t id[CONS_ID_BYTES];
  int64_t pol_round; /* proposals: -1 or < round; votes: -1 */
} cons_record_t;

int cons_record_encode(ve_buf_t *out, const cons_record_t *r);
int cons_record_decode(ve_slice_t in, cons_record_t *out);

/* ---- certificates ---- */

typedef struct {
  uint32_t index;
  uint8_t sig[VCRYPTO_SIG_BYTES];
} cons_cert_sig_t;

typedef struct {
  uint64_t height;
  uint32_t round;
  uint8_t id[CONS_ID_BYTES];
  uint32_t count;
  cons_cert_sig_t sigs[VE_VALIDATORS_MAX]; /* strictly increasing index */
} cons_cert_t;

int cons_cert_encode(ve_buf_t *out, const cons_cert_t *c);
int cons_cert_decode(ve_slice_t in, cons_cert_t *out);
int cons_cert_verify_with(const cons_valset_t *vs, const char *chain_id, uint64_t height,
                          const uint8_t id[CONS_ID_BYTES], ve_slice_t cert, cons_verify_fn fn,
                          void *ctx);

/* ---- persisted lock records: what a lock needs to be re-justified ---- */

/* Record type of a lock (the second byte, after the version; signing records
 * use 1..3). Written just before the precommit that locks: the value's bytes
 * and the quorum of prevotes for it in that round (the POL). A node persists
 * only its own signatures otherwise, and once every copy of a locked value and
 * of its POL is lost (all validators restart, one from a backup) the lock can
 * never be justified again and the height stalls; with this record a restarted
 * lock holder re-proposes the value with its POL. has_value is false when an
 * earlier lock record of the same height already carries this id's bytes, and
 * at most CONS_LOCK_VALUES_MAX distinct values per height carry bytes. */
#define CONS_REC_LOCK 4
#define CONS_LOCK_VALUES_MAX 4

typedef struct {
  uint64_t height;
  uint32_t round;
  uint8_t id[CONS_ID_BYTES];
  bool has_value;
  ve_slice_t value; /* borrowed; empty unless has_value */
  uint32_t count;   /* prevotes for (height, round, id): 1..VE_VALIDATORS_MAX */
  cons_cert_sig_t votes[VE_VALIDATORS_MAX]; /* strictly increasing index */
} cons_lock_t;

/* Whether rec is a lock record (by its type byte; decode to know it is well formed). */
static inline bool cons_record_is_lock(ve_slice_t rec) {
  return rec.len >= 2 && rec.ptr[1] == CONS_REC_LOCK;
}
int cons_lock_encode(ve_buf_t *out, const cons_lock_t *l);
int cons_lock_decode(ve_slice_t in, cons_lock_t *out);
/* Height of any persisted record (signing or lock), for callers that prune by
 * height; VE_ERR_MALFORMED / VE_ERR_VERSION if it is neither. */
int cons_record_height(ve_slice_t rec, uint64_t *height);

/* ---- evidence ---- */

/* a and b: two votes of one validator for one (height, round, type) with different
 * ids; the encoder orders them canonically. */
int cons_evidence_vote_encode(ve_buf_t *out, const uint8_t pk[VCRYPTO_PK_BYTES],
                              const cons_vote_t *a, const cons_vote_t *b);
int cons_evidence_proposal_encode(ve_buf_t *out, const uint8_t pk[VCRYPTO_PK_BYTES],
                                  const cons_proposal_t *a, const cons_proposal_t *b);
int cons_evidence_verify_with(const cons_valset_t *vs, const char *chain_id, ve_slice_t ev,
                              cons_verify_fn fn, void *ctx);

/* ---- proposer cycle and voting-power arithmetic ---- */

typedef struct {
  uint32_t len; /* 1..CONS_PROPOSER_SLOTS_MAX + VE_VALIDATORS_MAX */
  uint8_t slot[CONS_PROPOSER_SLOTS_MAX + VE_VALIDATORS_MAX];
} cons_cycle_t;

void cons_cycle_build(cons_cycle_t *c, const cons_valset_t *vs);
static inline uint32_t cons_cycle_proposer(const cons_cycle_t *c, uint64_t height,
                                           uint32_t round) {
  return c->slot[(height + round) % c->len];
}
/* power > 2/3 total, power > 1/3 total. total ≤ VE_VALIDATORS_MAX * CONS_POWER_MAX,
 * so 3 * total cannot overflow. */
static inline bool cons_power_quorum(uint64_t power, uint64_t total) {
  return 3 * power > 2 * total;
}
static inline bool cons_power_third(uint64_t power, uint64_t total) {
  return 3 * power > total;
}

/* ---- timer tokens: height (40 bits) | round (21 bits) | kind (3 bits) ---- */

enum {
  CONS_TIMER_PROPOSE = 1,
  CONS_TIMER_PREVOTE = 2,
  CONS_TIMER_PRECOMMIT = 3,
  CONS_TIMER_REBROADCAST = 4,
};
static inline uint64_t cons_token_make(unsigned kind, uint64_t height, uint32_t round) {
  return (height << 24) | ((uint64_t)round << 3) | kind;
}
static inline unsigned cons_token_kind(uint64_t t) { return (unsigned)(t & 7); }
static inline uint32_t cons_token_round(uint64_t t) { return (uint32_t)((t >> 3) & CONS_ROUND_MAX); }
static inline uint64_t cons_token_height(uint64_t t) { return t >> 24; }

#endif
