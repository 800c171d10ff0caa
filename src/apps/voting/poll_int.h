/* poll_int.h — what the poll app's files share and nobody else uses: record
 * encoders, the definition encoder, and small helpers. Encodings are specified
 * in docs/voting.md ("Voting" section). */
#ifndef VECHE_APPS_VOTING_POLL_INT_H
#define VECHE_APPS_VOTING_POLL_INT_H

#include "apps/voting/voting.h"
#include "codec/codec.h"

/* Fewest bytes of one encoded question (text, option count, one option, min, max). */
#define VPOLL_QUESTION_BYTES_MIN 6

/* Definition body (after the version byte) and its whole payload. */
void vpoll_put_def(codec_writer_t *w, const voting_def_t *def);
int vpoll_def_encode(const voting_def_t *def, ve_buf_t *out); /* the create payload */
/* Semantic rules of a definition (docs/voting.md "Poll definition"). */
int vpoll_def_check(const voting_def_t *def);

int vpoll_record_encode(const voting_poll_t *p, ve_buf_t *out);
int vpoll_tally_encode(const voting_tally_rec_t *t, ve_buf_t *out);
int vpoll_ballot_rec_encode(const voting_ballot_rec_t *b, ve_buf_t *out);
int vpoll_trustee_key_encode(const voting_trustee_key_t *k, ve_buf_t *out);

/* Header of one vote_ballot: version, options, min, max. 0, VE_ERR_VERSION
 * (first byte not 1) or VE_ERR_MALFORMED. */
int vpoll_ballot_shape(ve_slice_t ballot, uint32_t *options, uint32_t *min, uint32_t *max);

/* Is s well-formed UTF-8 without control characters (C0, DEL, C1)? */
bool vpoll_text_ok(const uint8_t *s, size_t len);

/* Bits set in a trustee mask. */
uint32_t vpoll_popcount(uint32_t m);

/* The chain id as a NUL-terminated string for vote_context_make. */
void vpoll_chain_cstr(char out[VE_CHAIN_ID_BYTES_MAX + 1], ve_slice_t chain_id);

/* The trustee key proof of possession: a DLEQ proof (vote_partial_decrypt with
 * base point G, so it proves knowledge of log_G enc_pk) under the context
 * vote_context_make(chain, H(VOTING_TAG_TRUSTEE_KEY), identity). */
void vpoll_trustee_pop_context(uint8_t out[32], ve_slice_t chain_id, const uint8_t identity[32]);
extern const uint8_t VPOLL_BASE_G[VOTE_POINT_BYTES];

#endif
