/* consensus.h — veche's BFT consensus engine: a pure, I/O-free state machine.
 *
 * Protocol: Tendermint as in "The latest gossip on BFT consensus" (Buchman, Kwon,
 * Milosevic 2018) with weighted voting power; docs/consensus.md has the safety and
 * liveness argument, the encodings and a table from every line of the paper's
 * algorithm to the function that implements it.
 *
 * The engine never touches a clock, socket, file or random source. The caller feeds
 * it inputs (cons_start, cons_on_message, cons_on_timeout, cons_on_proposal,
 * cons_on_validated, cons_on_applied) and after each input drains an ordered list of
 * actions with cons_action_next:
 *
 *   PERSIST           make data durable (fsync) BEFORE executing any later action;
 *                     this is how a validator's own votes are durable before they are
 *                     sent. Pass every persisted record back in cons_config_t.records
 *                     after a restart; records of heights below the restart height
 *                     may be pruned. A record is at most CONS_RECORD_BYTES_MAX bytes,
 *                     except a lock record (a value and its prevotes, once per
 *                     height and locked value): CONS_LOCK_RECORD_BYTES_MAX.
 *   BROADCAST         send data to every peer (consensus channel).
 *   SEND              send data to one peer.
 *   SCHEDULE_TIMEOUT  call cons_on_timeout(token) after delay_ms; timers are one-shot
 *                     and never cancelled (a stale one is ignored by the engine).
 *   REQUEST_PROPOSAL  this node proposes at (height, round): answer with
 *                     cons_on_proposal, now or later.
 *   VALIDATE          judge value data with id at height: answer cons_on_validated,
 *                     now or later. The application MUST check that id is the hash
 *                     it computes over the bytes (the engine never parses values).
 *   COMMIT            value (id, data) is decided at height with certificate cert.
 *                     The engine is already working on height+1. Call
 *                     cons_on_applied(height, set for height + CONS_VALSET_DELAY)
 *                     once the block is applied.
 *   EVIDENCE          self-verifying proof that a validator equivocated; put it on the
 *                     ledger (cons_evidence_verify checks it).
 *   SEND_DECISION     peer is at height `height`, which this engine passed long ago:
 *                     if the ledger has that block and its certificate, SEND the peer
 *                     cons_decision_encode(...) of them. Optional (catch-up aid).
 *
 * The application may answer REQUEST_PROPOSAL / VALIDATE synchronously while it is
 * draining (calling the input from inside its action loop): new actions are
 * appended behind the ones not yet drained, so the order stays valid.
 *
 * Values are opaque (32-byte id, bytes). Values can be large: the engine copies a
 * value once when it arrives and hands the same bytes to VALIDATE and COMMIT. A
 * value may also be a small header that names batch digests disseminated
 * elsewhere: the engine then orders digests and the application resolves them.
 *
 * Thread-safety: none; one engine is driven by one thread.
 */
#ifndef VECHE_CONSENSUS_CONSENSUS_H
#define VECHE_CONSENSUS_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/crypto.h"

/* ---- limits and constants ---- */

#define CONS_VALSET_DELAY 2 /* a set supplied at commit of h governs h + DELAY */
#define CONS_ID_BYTES 32
#define CONS_POWER_MAX ((uint64_t)1 << 48)       /* one validator's voting power */
#define CONS_HEIGHT_MAX (((uint64_t)1 << 40) - 1) /* fits a timer token */
#define CONS_ROUND_MAX ((1u << 21) - 1)
#define CONS_VALUE_BYTES_MAX VE_BLOCK_BYTES_MAX
#define CONS_CERT_BYTES_MAX (64 + VE_VALIDATORS_MAX * (2 + VCRYPTO_SIG_BYTES))
#define CONS_MSG_BYTES_MAX (CONS_VALUE_BYTES_MAX + CONS_CERT_BYTES_MAX + 1024)
#define CONS_EVIDENCE_BYTES_MAX 512
#define CONS_RECORD_BYTES_MAX 96 /* a signing record */
/* A lock record (cons_int.h): a value and the prevotes that locked it. */
#define CONS_LOCK_RECORD_BYTES_MAX \
  (CONS_VALUE_BYTES_MAX + VE_VALIDATORS_MAX * (2 + VCRYPTO_SIG_BYTES) + 128)
#define CONS_RECORDS_MAX 65536 /* records kept for heights ≥ the current one */
#define CONS_VALSET_BYTES_MAX (8 + VE_VALIDATORS_MAX * (VCRYPTO_PK_BYTES + 10))
#define CONS_TIMEOUT_MS_MAX 3600000u

/* ---- validator sets ---- */

typedef struct {
  uint8_t pk[VCRYPTO_PK_BYTES]; /* Ed25519 public key */
  uint64_t power;               /* 1..CONS_POWER_MAX */
} cons_validator_t;

/* A validator's index is its position in v[]; order is part of the set. */
typedef struct {
  uint32_t count; /* 1..VE_VALIDATORS_MAX */
  cons_validator_t v[VE_VALIDATORS_MAX];
} cons_valset_t;

/* Returns 0, or VE_ERR_INVALID (empty, too many, zero/too large power) or
 * VE_ERR_DUPLICATE (a key appears twice). */
int cons_valset_check(const cons_valset_t *vs);
/* Canonical encoding (appended to out). Checks the set first. */
int cons_valset_encode(ve_buf_t *out, const cons_valset_t *vs);
/* Strict decode; the result passes cons_valset_check. */
int cons_valset_decode(cons_valset_t *out, ve_slice_t in);
/* H("veche/cons/valset", encoding). vs must pass cons_valset_check. */
void cons_valset_hash(uint8_t out[VCRYPTO_HASH_BYTES], const cons_valset_t *vs);
uint64_t cons_valset_total_power(const cons_valset_t *vs);
/* Same validators, powers and order (so the same set hash). */
bool cons_valset_equal(const cons_valset_t *a, const cons_valset_t *b);
/* Index of pk in vs, or -1. */
int cons_valset_find(const cons_valset_t *vs, const uint8_t pk[VCRYPTO_PK_BYTES]);
/* Proposer of (height, round): smooth weighted round robin over the powers (scaled
 * to at most CONS_PROPOSER_SLOTS_MAX slots), rotated by height + round. Pure
 * function of its arguments. */
#define CONS_PROPOSER_SLOTS_MAX 1024
uint32_t cons_proposer(const cons_valset_t *vs, uint64_t height, uint32_t round);

/* ---- commit certificates ---- */

/* Checks that cert is a canonical certificate for block id at height, carrying
 * valid precommit signatures (chain_id, height, cert's round, id) of validators of
 * vs whose power is more than 2/3 of the total. Returns 0, VE_ERR_MALFORMED /
 * VE_ERR_NONCANONICAL / VE_ERR_TRAILING (encoding), VE_ERR_HEIGHT,
 * VE_ERR_HASH_MISMATCH (other id), VE_ERR_INVALID (index outside vs),
 * VE_ERR_BAD_SIG, VE_ERR_QUORUM. */
__attribute__((warn_unused_result)) int cons_cert_verify(const cons_valset_t *vs,
                                                         const char *chain_id, uint64_t height,
                                                         const uint8_t id[CONS_ID_BYTES],
                                                         ve_slice_t cert);

typedef struct {
  uint64_t height;
  uint32_t round;
  uint8_t id[CONS_ID_BYTES];
  uint32_t count; /* signatures */
} cons_cert_info_t;
/* Strict decode of the certificate's header fields (no signature checks). */
int cons_cert_info(ve_slice_t cert, cons_cert_info_t *out);

/* ---- equivocation evidence ---- */

enum { CONS_EVIDENCE_VOTE = 1, CONS_EVIDENCE_PROPOSAL = 2 };

typedef struct {
  uint8_t kind;   /* CONS_EVIDENCE_* */
  uint8_t type;   /* for VOTE: CONS_VOTE_PREVOTE or CONS_VOTE_PRECOMMIT */
  uint64_t height;
  uint32_t round;
  uint8_t pk[VCRYPTO_PK_BYTES]; /* the guilty validator */
} cons_evidence_info_t;
enum { CONS_VOTE_PREVOTE = 2, CONS_VOTE_PRECOMMIT = 3 };

/* Strict decode of evidence's identifying fields (no signature checks); use them
 * to find the validator set of info.height, then cons_evidence_verify. */
int cons_evidence_info(ve_slice_t ev, cons_evidence_info_t *out);
/* Checks that ev holds two different messages of the same kind for the same
 * (height, round[, vote type]) both validly signed by a member of vs (the set of
 * that height). Returns 0, an encoding error, VE_ERR_UNKNOWN_SIGNER, VE_ERR_BAD_SIG. */
__attribute__((warn_unused_result)) int cons_evidence_verify(const cons_valset_t *vs,
                                                             const char *chain_id,
                                                             ve_slice_t ev);
/* Fork accountability: given two certificates for different ids at one height,
 * builds one vote evidence for every validator that signed precommits for both in
 * the same round (out[i], i < *count, are initialised here; the caller frees each
 * with ve_buf_free). Certificates must each pass cons_cert_verify. A fork whose
 * certificates come from different rounds yields no same-round evidence (*count 0). */
int cons_evidence_from_certs(const cons_valset_t *vs, const char *chain_id, uint64_t height,
                             const uint8_t id_a[CONS_ID_BYTES], ve_slice_t cert_a,
                             const uint8_t id_b[CONS_ID_BYTES], ve_slice_t cert_b,
                             ve_buf_t out[VE_VALIDATORS_MAX], size_t *count);

/* ---- the engine ---- */

typedef struct cons_engine cons_engine_t;

/* Signature check hook: same contract as vcrypto_verify (0 or VE_ERR_BAD_SIG). Lets
 * the node share a verification cache with its gossip layer. */
typedef int (*cons_verify_fn)(void *ctx, const uint8_t sig[VCRYPTO_SIG_BYTES],
                              const uint8_t pk[VCRYPTO_PK_BYTES], const char *tag,
                              const uint8_t *msg, size_t msg_len);

typedef struct {
  const char *chain_id; /* 1..VE_CHAIN_ID_BYTES_MAX bytes; copied */
  /* valsets[i] is the set of height start_height + i (the ledger knows them: each
   * was supplied at the commit of an earlier height). Copied. */
  const cons_valset_t *valsets[CONS_VALSET_DELAY];
  const vcrypto_keypair_t *key; /* NULL for an observer; copied, wiped on free */
  uint64_t start_height;        /* first undecided height, 1..CONS_HEIGHT_MAX */
  /* 0: sign as usual. Else sign nothing (no proposal, no vote) at heights
   * below it, except votes `records` already hold: a validator whose records
   * may be incomplete (its store was restored from a backup, so it may have
   * signed at later heights than they show) abstains until a height it cannot
   * have signed at. */
  uint64_t sign_from_height;
  uint32_t timeout_base_ms;     /* propose/prevote/precommit timeout in round 0 */
  uint32_t timeout_delta_ms;    /* added per round */
  uint32_t rebroadcast_ms;      /* status/vote re-broadcast period; 0: timeout_base_ms */
  const ve_slice_t *records;    /* every persisted record, any order; borrowed */
  size_t records_count;         /* ≤ CONS_RECORDS_MAX */
  cons_verify_fn verify;        /* NULL: vcrypto_verify */
  void *verify_ctx;
} cons_config_t;

/* Creates an engine from cfg (nothing is emitted until cons_start). Returns 0,
 * VE_ERR_CONFIG (bad field, bad set), VE_ERR_CORRUPT (a record does not decode),
 * VE_ERR_NOMEM. *out is owned by the caller: cons_engine_free. */
int cons_engine_new(cons_engine_t **out, const cons_config_t *cfg);
void cons_engine_free(cons_engine_t *e);

typedef enum {
  CONS_ACT_PERSIST = 1,
  CONS_ACT_BROADCAST,
  CONS_ACT_SEND,
  CONS_ACT_SCHEDULE_TIMEOUT,
  CONS_ACT_REQUEST_PROPOSAL,
  CONS_ACT_VALIDATE,
  CONS_ACT_COMMIT,
  CONS_ACT_EVIDENCE,
  CONS_ACT_SEND_DECISION,
} cons_action_kind_t;

/* One action. Slices point into engine memory valid until the next
 * cons_action_next or cons_engine_free (inputs called meanwhile do not move them). */
typedef struct {
  cons_action_kind_t kind;
  uint64_t peer;     /* SEND, SEND_DECISION */
  uint64_t token;    /* SCHEDULE_TIMEOUT */
  uint32_t delay_ms; /* SCHEDULE_TIMEOUT */
  uint64_t height;   /* REQUEST_PROPOSAL, VALIDATE, COMMIT, SEND_DECISION */
  uint32_t round;    /* REQUEST_PROPOSAL, VALIDATE, COMMIT */
  uint8_t id[CONS_ID_BYTES]; /* VALIDATE, COMMIT */
  ve_slice_t data;   /* PERSIST record, BROADCAST/SEND message, VALIDATE/COMMIT value,
                        EVIDENCE evidence */
  ve_slice_t cert;   /* COMMIT */
} cons_action_t;

/* Pops the oldest pending action into *out. Returns false when none is left. */
bool cons_action_next(cons_engine_t *e, cons_action_t *out);

/* Inputs. Each returns 0, or an error describing the input (the engine state is
 * consistent either way and actions may have been queued): */
int cons_start(cons_engine_t *e);
/* A consensus message from peer (opaque id chosen by the caller). VE_ERR_MALFORMED
 * and friends, VE_ERR_BAD_SIG, VE_ERR_INVALID mean the peer sent garbage. */
int cons_on_message(cons_engine_t *e, uint64_t peer, ve_slice_t msg);
int cons_on_timeout(cons_engine_t *e, uint64_t token);
/* Whether msg is a well-formed STATUS, and its height (a peer at that height;
 * below ours it asks us for that height's decision). Decodes only a STATUS;
 * for any other message returns VE_ERR_NOT_FOUND after reading its 2-byte
 * header. Lets the caller drop repeated catch-up requests (node_net.c). */
int cons_msg_status_height(ve_slice_t msg, uint64_t *height_out);
/* Answer to REQUEST_PROPOSAL. value is copied. VE_ERR_STATE if no longer wanted. */
int cons_on_proposal(cons_engine_t *e, uint64_t height, uint32_t round,
                     const uint8_t id[CONS_ID_BYTES], ve_slice_t value);
/* Answer to VALIDATE (round is informational; the verdict is per value). */
int cons_on_validated(cons_engine_t *e, uint64_t height, uint32_t round,
                      const uint8_t id[CONS_ID_BYTES], bool valid);
/* Block `height` has been applied; next is the set for height + CONS_VALSET_DELAY
 * (pass the current one when unchanged). Copied. The engine stalls (buffering) at a
 * height whose set it does not know yet. */
int cons_on_applied(cons_engine_t *e, uint64_t height, const cons_valset_t *next);

/* DECISION message carrying a committed block and its certificate (catch-up), to
 * answer SEND_DECISION. Appended to out. */
int cons_decision_encode(ve_buf_t *out, uint64_t height, const uint8_t id[CONS_ID_BYTES],
                         ve_slice_t value, ve_slice_t cert);

typedef struct {
  uint64_t height;
  uint32_t round;
  uint8_t step;          /* 1 propose, 2 prevote, 3 precommit */
  int64_t locked_round;  /* -1: none */
  int64_t valid_round;   /* -1: none */
  bool waiting_valset;   /* set of `height` unknown yet */
  int32_t own_index;     /* -1: not a validator at this height */
} cons_status_t;
void cons_status(const cons_engine_t *e, cons_status_t *out);

#endif
