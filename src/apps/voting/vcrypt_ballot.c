/* vcrypt_ballot.c — encrypted ballots: creation, canonical layout, verification.
 *
 * A ballot for a poll with n options and bounds [min, max] is
 *   u8 version (1) | uvarint n | uvarint min | uvarint max
 *   | n x (C1 || C2)                       ciphertexts, option order
 *   | n x bit proof (values {0, 1})        224 bytes each
 *   | sum proof over (sum C1, sum C2) with values min..max (k = max-min+1)
 * where each proof is an OR proof in commitment form (vcrypt_proof.c). All
 * proofs share one challenge
 *   c = H_512("veche/vote/v1/ballot", blob(ctx), Y, u64 n, u64 min, u64 max,
 *             all ciphertexts, all bit-proof commitments, sum-proof commitments)
 * reduced mod L, so the ballot is bound to the whole statement and to the
 * caller's context (chain, poll, voter): the same bytes under another context
 * get another challenge and fail.
 *
 * Canonical: the length is fixed by (n, min, max) and checked exactly, uvarints
 * are minimal, every scalar must be < L and every point a canonical ristretto255
 * encoding, so a verifying ballot has exactly one encoding.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "apps/voting/vcrypt_int.h"

#define BALLOT_VERSION 1

static size_t header_size(uint32_t n, uint32_t min, uint32_t max) {
  return 1 + codec_uvarint_size(n) + codec_uvarint_size(min) + codec_uvarint_size(max);
}

size_t vote_ballot_size(uint32_t options, uint32_t min_total, uint32_t max_total) {
  if (options == 0 || options > VOTE_OPTIONS_MAX || min_total > max_total ||
      max_total > options) {
    return 0;
  }
  size_t k = (size_t)max_total - min_total + 1;
  return header_size(options, min_total, max_total) + (size_t)options * VOTE_CT_BYTES +
         (size_t)options * VOTE_BIT_PROOF_BYTES + vote_or_proof_size(k);
}

_Static_assert(VOTE_BIT_PROOF_BYTES == 2 * 64 + 32 + 2 * 32, "bit proof layout");

/* Parsed layout: pointers into the ballot. */
typedef struct {
  uint32_t n, min, max;
  size_t k;
  const uint8_t *cts, *bits, *sum;
} ballot_view_t;

static int ballot_parse(ballot_view_t *v, const uint8_t *b, size_t len) {
  if (len > VOTE_BALLOT_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(b, len));
  uint8_t version = codec_get_u8(&r);
  uint64_t n = codec_get_uvarint_max(&r, VOTE_OPTIONS_MAX);
  uint64_t min = codec_get_uvarint_max(&r, VOTE_OPTIONS_MAX);
  uint64_t max = codec_get_uvarint_max(&r, VOTE_OPTIONS_MAX);
  if (r.err != 0) return r.err == VE_ERR_TOO_BIG ? VE_ERR_MALFORMED : r.err;
  if (version != BALLOT_VERSION) return VE_ERR_VERSION;
  size_t size = vote_ballot_size((uint32_t)n, (uint32_t)min, (uint32_t)max);
  if (size == 0) return VE_ERR_MALFORMED;
  if (len < size) return VE_ERR_MALFORMED;
  if (len > size) return VE_ERR_TRAILING;
  v->n = (uint32_t)n;
  v->min = (uint32_t)min;
  v->max = (uint32_t)max;
  v->k = (size_t)(max - min + 1);
  v->cts = b + r.pos;
  v->bits = v->cts + v->n * VOTE_CT_BYTES;
  v->sum = v->bits + v->n * VOTE_BIT_PROOF_BYTES;
  return VE_OK;
}

/* The shared challenge over the statement and all commitments. Commitments are
 * read from the proof bytes (verifier) or from the prover's state (prover),
 * which are the same bytes. */
static void ballot_transcript_start(vote_tr_t *t, const uint8_t *ctx, size_t ctx_len,
                                    const uint8_t pk[32], uint32_t n, uint32_t min, uint32_t max,
                                    const uint8_t *cts) {
  vote_tr_init(t, VOTE_TAG_BALLOT);
  vote_tr_blob(t, ctx, ctx_len);
  vote_tr_raw(t, pk, 32);
  vote_tr_u64(t, n);
  vote_tr_u64(t, min);
  vote_tr_u64(t, max);
  vote_tr_raw(t, cts, (size_t)n * VOTE_CT_BYTES);
}

static const uint64_t BIT_VALUES[2] = {0, 1};

/* ---- creation ---- */

int vote_ballot_create(ve_buf_t *out, const vote_election_t *el, const uint8_t *choices,
                       size_t choices_len, const uint8_t *ctx, size_t ctx_len,
                       const uint8_t seed[VOTE_SEED_BYTES]) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (choices_len != el->options) return VE_ERR_INVALID;
  uint32_t n = el->options, total = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (choices[i] > 1) return VE_ERR_INVALID;
    total += choices[i];
  }
  if (total < el->min_total || total > el->max_total) return VE_ERR_INVALID;
  size_t k = (size_t)el->max_total - el->min_total + 1;
  size_t size = vote_ballot_size(n, el->min_total, el->max_total);
  uint64_t values[VOTE_OR_BRANCHES_MAX];
  for (size_t j = 0; j < k; j++) values[j] = el->min_total + j;

  /* Secret scratch: randomness per option and the prover states. */
  size_t branches = 2 * (size_t)n + k;
  uint8_t(*rs)[32] = malloc((size_t)n * 32);
  vote_or_branch_t *br = malloc(branches * sizeof *br);
  uint8_t *b = malloc(size);
  if (rs == NULL || br == NULL || b == NULL) {
    free(rs);
    free(br);
    free(b);
    return VE_ERR_NOMEM;
  }
  ve_buf_t hb = {b, 0, size, size};
  codec_writer_t w;
  codec_writer_init(&w, &hb);
  codec_put_u8(&w, BALLOT_VERSION);
  codec_put_uvarint(&w, n);
  codec_put_uvarint(&w, el->min_total);
  codec_put_uvarint(&w, el->max_total);
  VE_ASSERT(codec_writer_finish(&w) == VE_OK);
  uint8_t *cts = b + hb.len, *bits = cts + (size_t)n * VOTE_CT_BYTES;
  uint8_t *sum = bits + (size_t)n * VOTE_BIT_PROOF_BYTES;

  /* Nonces depend on the seed and on everything proven, so a reused seed with
   * different choices or context still gives independent nonces. */
  vote_rng_t rng;
  {
    vote_tr_t bind;
    uint8_t bd[32];
    vote_tr_init(&bind, VOTE_TAG_BALLOT_RNG);
    vote_tr_raw(&bind, el->pk, 32);
    vote_tr_blob(&bind, ctx, ctx_len);
    vote_tr_blob(&bind, choices, n);
    vote_tr_u64(&bind, el->min_total);
    vote_tr_u64(&bind, el->max_total);
    vote_tr_digest(&bind, bd);
    vote_rng_init(&rng, VOTE_TAG_BALLOT_RNG, seed, bd, sizeof bd);
  }
  uint8_t rsum[32] = {0};
  vote_ge_t s1, s2, p;
  vote_ge_identity(&s1);
  vote_ge_identity(&s2);
  for (uint32_t i = 0; i < n; i++) {
    vote_rng_scalar(&rng, rs[i]);
    VE_ASSERT(vote_encrypt(cts + 64 * i, el->pk, choices[i], rs[i]) == VE_OK);
    vote_sc_add(rsum, rsum, rs[i]);
    /* The ciphertexts are public: sum them with the fast engine. */
    VE_ASSERT(vote_ge_decode(&p, cts + 64 * i) == VE_OK);
    vote_ge_add(&s1, &s1, &p);
    VE_ASSERT(vote_ge_decode(&p, cts + 64 * i + 32) == VE_OK);
    vote_ge_add(&s2, &s2, &p);
  }
  uint8_t s1e[32], s2e[32];
  vote_ge_encode(s1e, &s1);
  vote_ge_encode(s2e, &s2);
  for (uint32_t i = 0; i < n; i++) {
    vote_or_commit(&br[2 * i], 2, &rng, el->pk, cts + 64 * i, cts + 64 * i + 32, BIT_VALUES,
                   choices[i]);
  }
  uint32_t msum = total - el->min_total;
  vote_or_commit(&br[2 * n], k, &rng, el->pk, s1e, s2e, values, msum);

  vote_tr_t t;
  uint8_t c[32];
  ballot_transcript_start(&t, ctx, ctx_len, el->pk, n, el->min_total, el->max_total, cts);
  for (uint32_t i = 0; i < n; i++) vote_or_commit_absorb(&br[2 * i], 2, &t);
  vote_or_commit_absorb(&br[2 * n], k, &t);
  vote_tr_challenge(&t, c);

  for (uint32_t i = 0; i < n; i++) {
    vote_or_respond(&br[2 * i], 2, bits + (size_t)i * VOTE_BIT_PROOF_BYTES, c, rs[i], choices[i]);
  }
  vote_or_respond(&br[2 * n], k, sum, c, rsum, msum);

  sodium_memzero(rs, (size_t)n * 32);
  sodium_memzero(rsum, sizeof rsum);
  sodium_memzero(br, branches * sizeof *br);
  vote_rng_wipe(&rng);
  free(rs);
  free(br);
  int rc = ve_buf_append(out, b, size);
  free(b);
  return rc;
}

/* ---- verification ---- */

int vote_ballot_verify(const vote_election_t *el, const uint8_t *ctx, size_t ctx_len,
                       const uint8_t *ballot, size_t ballot_len) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  ballot_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(ballot_parse(&v, ballot, ballot_len));
  if (v.n != el->options || v.min != el->min_total || v.max != el->max_total) {
    return VE_ERR_MALFORMED;
  }
  for (uint32_t i = 0; i < v.n; i++) {
    if (!vote_or_scalars_check(v.bits + (size_t)i * VOTE_BIT_PROOF_BYTES, 2)) {
      return VE_ERR_NONCANONICAL;
    }
  }
  if (!vote_or_scalars_check(v.sum, v.k)) return VE_ERR_NONCANONICAL;

  vote_tr_t t;
  uint8_t c[32];
  ballot_transcript_start(&t, ctx, ctx_len, el->pk, v.n, v.min, v.max, v.cts);
  for (uint32_t i = 0; i < v.n; i++) vote_tr_raw(&t, v.bits + (size_t)i * VOTE_BIT_PROOF_BYTES, 128);
  vote_tr_raw(&t, v.sum, 64 * v.k);
  vote_tr_challenge(&t, c);

  vote_weights_t w;
  vote_weights_derive(&w, VOTE_TAG_BALLOT, c, ballot, ballot_len);
  const vote_election_priv_t *pv = vote_election_priv(el);
  vote_eq_t e;
  VE_TRY(vote_eq_init(&e, 6 * (size_t)v.n + 2 * v.k, &pv->g_tab, &pv->y_tab));
  int rc = VE_OK;
  uint64_t values[VOTE_OR_BRANCHES_MAX];
  for (size_t j = 0; j < v.k; j++) values[j] = v.min + j;
  uint8_t zero[32] = {0}, k1[32], k2[32];
  /* Terms 2i and 2i+1 are option i's C1 and C2; their coefficients collect
   * the bit proof's and the sum proof's contributions. */
  for (uint32_t i = 0; i < v.n && rc == VE_OK; i++) {
    vote_ge_t p1, p2;
    rc = vote_point_decode(&p1, v.cts + 64 * i, false);
    if (rc == VE_OK) rc = vote_point_decode(&p2, v.cts + 64 * i + 32, true);
    if (rc != VE_OK) break;
    (void)vote_eq_term(&e, &p1, zero);
    (void)vote_eq_term(&e, &p2, zero);
  }
  for (uint32_t i = 0; i < v.n && rc == VE_OK; i++) {
    rc = vote_or_accumulate(&e, &w, v.bits + (size_t)i * VOTE_BIT_PROOF_BYTES, 2, c, BIT_VALUES,
                            k1, k2);
    if (rc != VE_OK) break;
    vote_eq_add_to(&e, 2 * i, k1);
    vote_eq_add_to(&e, 2 * i + 1, k2);
  }
  if (rc == VE_OK) rc = vote_or_accumulate(&e, &w, v.sum, v.k, c, values, k1, k2);
  if (rc == VE_OK) {
    for (uint32_t i = 0; i < v.n; i++) {
      vote_eq_add_to(&e, 2 * i, k1);
      vote_eq_add_to(&e, 2 * i + 1, k2);
    }
    rc = vote_eq_check_var(&e);
  }
  vote_eq_free(&e);
  return rc;
}

int vote_ballot_ciphertexts(const uint8_t *ballot, size_t ballot_len, uint32_t *options,
                            const uint8_t **cts) {
  ballot_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(ballot_parse(&v, ballot, ballot_len));
  *options = v.n;
  *cts = v.cts;
  return VE_OK;
}

void vote_ballot_tracker(uint8_t out[32], const uint8_t *ballot, size_t ballot_len) {
  vote_tr_t t;
  vote_tr_init(&t, VOTE_TAG_TRACKER);
  vote_tr_blob(&t, ballot, ballot_len);
  vote_tr_digest(&t, out);
}
