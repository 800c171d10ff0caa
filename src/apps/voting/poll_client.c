/* poll_client.c — what voters and trustees compute on their own machines:
 * encrypted ballots with proofs and decryption shares, built into payloads.
 * Pure functions; the caller supplies fresh random seeds. Per-question seeds
 * are derived from the caller's one seed (BLAKE2b keyed by it, question index
 * as input), so one seed serves a whole ballot without reuse across questions. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "apps/voting/poll_int.h"
#include "base/err.h"

static void sub_seed(uint8_t out[VOTE_SEED_BYTES], const uint8_t seed[VOTE_SEED_BYTES], uint32_t q) {
  uint8_t in[4] = {(uint8_t)(q >> 24), (uint8_t)(q >> 16), (uint8_t)(q >> 8), (uint8_t)q};
  crypto_generichash(out, VOTE_SEED_BYTES, in, sizeof in, seed, VOTE_SEED_BYTES);
}

int voting_ballot_build(ve_buf_t *out, uint8_t tracker[32], const voting_poll_t *p, ve_slice_t chain_id,
                        const uint8_t voter[32], const uint8_t *choices, size_t n_choices,
                        const uint8_t seed[VOTE_SEED_BYTES]) {
  if (!p->has_key) return VE_ERR_STATE;
  if (n_choices != p->def.n_options) return VE_ERR_INVALID;
  vote_election_t *el = malloc(sizeof *el);
  ve_buf_t *ballots = calloc(p->def.n_questions, sizeof *ballots);
  int rc = el && ballots ? VE_OK : VE_ERR_NOMEM;
  ve_slice_t sl[VOTING_QUESTIONS_MAX];
  for (uint32_t q = 0; rc == VE_OK && q < p->def.n_questions; q++) {
    const voting_question_t *qq = &p->def.q[q];
    uint8_t ctx[VOTING_QCTX_BYTES], qs[VOTE_SEED_BYTES];
    voting_ballot_context(ctx, chain_id, p->id, voter, q);
    sub_seed(qs, seed, q);
    ve_buf_init(&ballots[q], VOTE_BALLOT_BYTES_MAX);
    rc = voting_election_get(el, p, q);
    if (rc == VE_OK)
      rc = vote_ballot_create(&ballots[q], el, choices + qq->first, qq->options, ctx, sizeof ctx, qs);
    sodium_memzero(qs, sizeof qs);
    sl[q] = ve_buf_slice(&ballots[q]);
  }
  size_t start = out->len;
  if (rc == VE_OK) rc = voting_payload_ballot(out, p->id, voter, sl, p->def.n_questions);
  if (rc == VE_OK && tracker) {
    voting_ballot_payload_t b;
    rc = voting_ballot_payload_decode(ve_slice(out->ptr + start, out->len - start), &b);
    if (rc == VE_OK) voting_tracker(tracker, b.list);
  }
  for (uint32_t q = 0; ballots && q < p->def.n_questions; q++) ve_buf_free(&ballots[q]);
  free(ballots);
  free(el);
  return rc;
}

int voting_decrypt_build(ve_buf_t *out, const voting_poll_t *p, const voting_tally_rec_t *tally,
                         ve_slice_t chain_id, uint32_t trustee, const uint8_t x[VOTE_SCALAR_BYTES],
                         const uint8_t seed[VOTE_SEED_BYTES]) {
  if (!p->has_key) return VE_ERR_STATE;
  if (trustee < 1 || trustee > p->def.n_trustees || tally->n_options != p->def.n_options) return VE_ERR_INVALID;
  ve_buf_t *shares = calloc(p->def.n_questions, sizeof *shares);
  if (!shares) return VE_ERR_NOMEM;
  int rc = VE_OK;
  ve_slice_t sl[VOTING_QUESTIONS_MAX];
  for (uint32_t q = 0; rc == VE_OK && q < p->def.n_questions; q++) {
    const voting_question_t *qq = &p->def.q[q];
    uint8_t ctx[VOTING_QCTX_BYTES], qs[VOTE_SEED_BYTES];
    voting_decrypt_context(ctx, chain_id, p->id, q);
    sub_seed(qs, seed, q);
    ve_buf_init(&shares[q], VOTE_DECSHARE_BYTES_MAX);
    rc = vote_decshare_create(&shares[q], trustee, x, &tally->cts[qq->first][0], qq->options, ctx, sizeof ctx, qs);
    sodium_memzero(qs, sizeof qs);
    sl[q] = ve_buf_slice(&shares[q]);
  }
  if (rc == VE_OK) rc = voting_payload_decrypt(out, p->id, sl, p->def.n_questions);
  for (uint32_t q = 0; q < p->def.n_questions; q++) ve_buf_free(&shares[q]);
  free(shares);
  return rc;
}
