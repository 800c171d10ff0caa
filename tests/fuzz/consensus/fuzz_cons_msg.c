/* fuzz_cons_msg.c — every consensus message a peer can send, decoded strictly.
 *
 * Whatever the bytes: the decoder returns 0 or a real error code; a message it
 * accepts re-encodes to exactly its own bytes with the encoder of its type
 * (proposal, vote, vote batch, status, decision), decodes the same way when the
 * caller only peeks (votes == NULL), and the pieces the engine goes on to use
 * (signatures, a decision's certificate) can be checked without crashing. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "consensus/cons_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cons_vote_t g_votes[CONS_BATCH_VOTES_MAX];
static uint8_t g_pk[VCRYPTO_PK_BYTES];
static bool g_ready;

static int reencode(const cons_msg_t *m, ve_buf_t *out) {
  switch (m->type) {
    case CONS_MSG_PROPOSAL: return cons_proposal_encode(out, &m->proposal);
    case CONS_MSG_VOTE: return cons_vote_encode(out, &m->vote);
    case CONS_MSG_VOTES: return cons_votes_encode(out, g_votes, m->votes_count);
    case CONS_MSG_STATUS: return cons_status_encode(out, &m->status);
    case CONS_MSG_DECISION:
      return cons_decision_encode(out, m->decision.height, m->decision.id, m->decision.value,
                                  m->decision.cert);
    default: VE_ASSERT(!"accepted message of unknown type"); return VE_ERR_INVALID;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) {
    VE_ASSERT(vcrypto_init() == VE_OK);
    uint8_t seed[32] = {1};
    vcrypto_keypair_t kp;
    vcrypto_keypair_from_seed(&kp, seed);
    memcpy(g_pk, kp.pk, sizeof g_pk);
    g_ready = true;
  }
  ve_slice_t in = ve_slice(data, size);
  cons_msg_t m, peek;
  int rc = cons_msg_decode(in, &m, g_votes);
  int rc_peek = cons_msg_decode(in, &peek, NULL);
  VE_ASSERT(rc == rc_peek);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return 0;
  }
  VE_ASSERT(peek.type == m.type && peek.height == m.height && peek.votes_count == m.votes_count);
  VE_ASSERT(m.height >= 1 && m.height <= CONS_HEIGHT_MAX);

  ve_buf_t out;
  ve_buf_init(&out, size + 1);
  VE_ASSERT(reencode(&m, &out) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), in));
  ve_buf_free(&out);

  if (m.type == CONS_MSG_PROPOSAL) {
    VE_ASSERT(m.proposal.pol_round >= -1 && m.proposal.pol_round < (int64_t)m.proposal.round);
    rc = cons_proposal_verify(&m.proposal, g_pk, "fuzz", NULL, NULL);
    VE_ASSERT(rc == VE_OK || rc == VE_ERR_BAD_SIG);
  } else if (m.type == CONS_MSG_VOTE) {
    VE_ASSERT(m.vote.index < VE_VALIDATORS_MAX && m.vote.round <= CONS_ROUND_MAX);
    rc = cons_vote_verify(&m.vote, g_pk, "fuzz", NULL, NULL);
    VE_ASSERT(rc == VE_OK || rc == VE_ERR_BAD_SIG);
  } else if (m.type == CONS_MSG_VOTES) {
    VE_ASSERT(m.votes_count >= 1 && m.votes_count <= CONS_BATCH_VOTES_MAX);
    for (size_t i = 0; i < m.votes_count; i++) VE_ASSERT(g_votes[i].height == m.height);
  } else if (m.type == CONS_MSG_DECISION) {
    cons_cert_info_t info;
    rc = cons_cert_info(m.decision.cert, &info);
    VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN);
  }
  return 0;
}
