/* vcrypt_proof.c — the zero-knowledge proofs: disjunctive Chaum–Pedersen
 * ("this ciphertext encrypts one of these values") and Chaum–Pedersen DLEQ
 * ("these two points have the same discrete log to their bases").
 *
 * Both are Sigma protocols made non-interactive with Fiat–Shamir; the caller
 * owns the transcript so that several proofs can share one challenge binding
 * the whole statement (a ballot's proofs all do). They travel in commitment
 * form (the prover sends its first messages), which lets a verifier check all
 * equations of a ballot at once: each equation E_i = 0 is multiplied by a
 * 128-bit weight rho_i derived by hashing the challenge and every proof byte,
 * and sum rho_i E_i = 0 is checked with one multi-scalar multiplication. A
 * false equation survives with probability at most 2^-127 per attempt, since
 * the weights are fixed only after the prover has fixed everything.
 *
 * Proving runs entirely on libsodium's constant-time operations, and the
 * real branch of an OR proof does exactly the same operations as the
 * simulated ones (its simulated challenge is multiplied by 0), so timing does
 * not reveal the vote.
 */
#include <string.h>

#include "base/err.h"
#include "apps/voting/vcrypt_int.h"

void vote_weights_derive(vote_weights_t *w, const char *use, const uint8_t c[32],
                         const uint8_t *proof, size_t proof_len) {
  vote_tr_t t;
  uint8_t key[32];
  vote_tr_init(&t, VOTE_TAG_BATCH);
  vote_tr_blob(&t, (const uint8_t *)use, strlen(use));
  vote_tr_raw(&t, c, 32);
  vote_tr_blob(&t, proof, proof_len);
  vote_tr_digest(&t, key);
  vote_weights_init(w, key);
}

/* 1 if a != b, 0 otherwise, without branches. */
static inline uint8_t ct_neq(uint32_t a, uint32_t b) {
  uint32_t d = a ^ b;
  return (uint8_t)((d | (0u - d)) >> 31);
}

/* ---- disjunctive Chaum–Pedersen ---- */

void vote_or_commit(vote_or_branch_t *br, size_t k, vote_rng_t *rng, const uint8_t Y[32],
                    const uint8_t C1[32], const uint8_t C2[32], const uint64_t *values,
                    uint32_t m) {
  VE_ASSERT(k >= 1 && k <= VOTE_OR_BRANCHES_MAX && m < k);
  for (size_t j = 0; j < k; j++) {
    uint8_t e[32], sel[32] = {0}, vj[32], vjg[32], c2v[32], t1[32], t2[32];
    vote_rng_scalar(rng, br[j].w);
    vote_rng_scalar(rng, e);
    sel[0] = ct_neq((uint32_t)j, m);
    vote_sc_mul(br[j].cs, e, sel); /* e on simulated branches, 0 on the real one */
    vote_sc_from_u64(vj, values[j]);
    vote_sod_mul_base(vjg, vj);
    vote_sod_sub(c2v, C2, vjg); /* C2 - v_j G */
    vote_sod_mul_base(t1, br[j].w);
    vote_sod_mul(t2, br[j].cs, C1);
    vote_sod_sub(br[j].A, t1, t2); /* A_j = w_j G - c'_j C1 */
    vote_sod_mul(t1, br[j].w, Y);
    vote_sod_mul(t2, br[j].cs, c2v);
    vote_sod_sub(br[j].B, t1, t2); /* B_j = w_j Y - c'_j (C2 - v_j G) */
    sodium_memzero(e, sizeof e);
    sodium_memzero(sel, sizeof sel);
    sodium_memzero(t1, sizeof t1);
    sodium_memzero(t2, sizeof t2);
  }
}

void vote_or_commit_absorb(const vote_or_branch_t *br, size_t k, vote_tr_t *tr) {
  for (size_t j = 0; j < k; j++) {
    vote_tr_raw(tr, br[j].A, 32);
    vote_tr_raw(tr, br[j].B, 32);
  }
}

void vote_or_respond(vote_or_branch_t *br, size_t k, uint8_t *proof, const uint8_t c[32],
                     const uint8_t r[32], uint32_t m) {
  uint8_t sum[32] = {0}, creal[32];
  for (size_t j = 0; j < k; j++) vote_sc_add(sum, sum, br[j].cs);
  vote_sc_sub(creal, c, sum); /* the real branch's challenge closes the sum */
  uint8_t *cs_out = proof + 64 * k;
  uint8_t *z_out = cs_out + 32 * (k - 1);
  for (size_t j = 0; j < k; j++) {
    uint8_t sel[32] = {0}, cj[32], t[32];
    sel[0] = (uint8_t)(1 - ct_neq((uint32_t)j, m));
    vote_sc_mul(t, creal, sel);
    vote_sc_add(cj, br[j].cs, t); /* c_j */
    vote_sc_mul(t, cj, r);
    vote_sc_mul(t, t, sel);
    memcpy(proof + 64 * j, br[j].A, 32);
    memcpy(proof + 64 * j + 32, br[j].B, 32);
    if (j + 1 < k) memcpy(cs_out + 32 * j, cj, 32);
    vote_sc_add(z_out + 32 * j, br[j].w, t); /* z_j = w_j (+ c_j r on the real branch) */
    sodium_memzero(t, sizeof t);
    sodium_memzero(sel, sizeof sel);
  }
  sodium_memzero(creal, sizeof creal);
  sodium_memzero(br, k * sizeof *br);
}

bool vote_or_scalars_check(const uint8_t *proof, size_t k) {
  const uint8_t *s = proof + 64 * k;
  for (size_t i = 0; i < 2 * k - 1; i++) {
    if (!vote_sc_is_canonical(s + 32 * i)) return false;
  }
  return true;
}

int vote_or_accumulate(vote_eq_t *e, vote_weights_t *w, const uint8_t *proof, size_t k,
                       const uint8_t c[32], const uint64_t *values, uint8_t coef_c1[32],
                       uint8_t coef_c2[32]) {
  const uint8_t *cs = proof + 64 * k;
  const uint8_t *zs = cs + 32 * (k - 1);
  uint8_t clast[32];
  memcpy(clast, c, 32);
  for (size_t j = 0; j + 1 < k; j++) vote_sc_sub(clast, clast, cs + 32 * j);
  memset(coef_c1, 0, 32);
  memset(coef_c2, 0, 32);
  for (size_t j = 0; j < k; j++) {
    const uint8_t *cj = j + 1 < k ? cs + 32 * j : clast;
    const uint8_t *zj = zs + 32 * j;
    vote_ge_t a, b;
    VE_TRY(vote_point_decode(&a, proof + 64 * j, true));
    VE_TRY(vote_point_decode(&b, proof + 64 * j + 32, true));
    uint8_t rho[32], sigma[32], t[32], vj[32];
    vote_weights_next(w, rho);
    vote_weights_next(w, sigma);
    /* rho (A_j + c_j C1 - z_j G) + sigma (B_j + c_j C2 - c_j v_j G - z_j Y) = 0 */
    (void)vote_eq_term(e, &a, rho);
    (void)vote_eq_term(e, &b, sigma);
    vote_sc_mul(t, rho, cj);
    vote_sc_add(coef_c1, coef_c1, t);
    vote_sc_mul(t, sigma, cj);
    vote_sc_add(coef_c2, coef_c2, t);
    vote_sc_from_u64(vj, values[j]);
    vote_sc_mul(t, t, vj);
    vote_sc_neg(t, t);
    vote_eq_add_g(e, t);
    vote_sc_mul(t, rho, zj);
    vote_sc_neg(t, t);
    vote_eq_add_g(e, t);
    vote_sc_mul(t, sigma, zj);
    vote_sc_neg(t, t);
    vote_eq_add_y(e, t);
  }
  return VE_OK;
}

/* ---- Chaum–Pedersen DLEQ ---- */

static void dleq_challenge(uint8_t c[32], const char *tag, const uint8_t *ctx, size_t ctx_len,
                           const uint8_t X[32], const uint8_t P[32], const uint8_t D[32],
                           const uint8_t A[32], const uint8_t B[32]) {
  vote_tr_t t;
  vote_tr_init(&t, tag);
  vote_tr_blob(&t, ctx, ctx_len);
  vote_tr_raw(&t, X, 32);
  vote_tr_raw(&t, P, 32);
  vote_tr_raw(&t, D, 32);
  vote_tr_raw(&t, A, 32);
  vote_tr_raw(&t, B, 32);
  vote_tr_challenge(&t, c);
}

void vote_dleq_prove(uint8_t proof[VOTE_DLEQ_PROOF_BYTES], const char *tag, const uint8_t *ctx,
                     size_t ctx_len, const uint8_t x[32], const uint8_t X[32], const uint8_t P[32],
                     const uint8_t D[32], vote_rng_t *rng) {
  uint8_t w[32], c[32], t[32];
  vote_rng_scalar(rng, w);
  vote_sod_mul_base(proof, w);    /* A = wG */
  vote_sod_mul(proof + 32, w, P); /* B = wP */
  dleq_challenge(c, tag, ctx, ctx_len, X, P, D, proof, proof + 32);
  vote_sc_mul(t, c, x);
  vote_sc_add(proof + 64, w, t); /* z = w + c x */
  sodium_memzero(w, sizeof w);
  sodium_memzero(t, sizeof t);
}

int vote_dleq_verify(const char *tag, const uint8_t *ctx, size_t ctx_len, const uint8_t X[32],
                     const uint8_t P[32], const uint8_t D[32],
                     const uint8_t proof[VOTE_DLEQ_PROOF_BYTES]) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (!vote_sc_is_canonical(proof + 64)) return VE_ERR_NONCANONICAL;
  vote_ge_t px, pp, pd, pa, pb;
  VE_TRY(vote_point_decode(&px, X, false));
  VE_TRY(vote_point_decode(&pp, P, true));
  VE_TRY(vote_point_decode(&pd, D, true));
  VE_TRY(vote_point_decode(&pa, proof, true));
  VE_TRY(vote_point_decode(&pb, proof + 32, true));
  uint8_t c[32], rho[32], sigma[32], t[32];
  dleq_challenge(c, tag, ctx, ctx_len, X, P, D, proof, proof + 32);
  vote_weights_t w;
  vote_weights_derive(&w, tag, c, proof, VOTE_DLEQ_PROOF_BYTES);
  vote_weights_next(&w, rho);
  vote_weights_next(&w, sigma);
  /* rho (A + c X - z G) + sigma (B + c D - z P) = 0 */
  vote_eq_t e;
  VE_TRY(vote_eq_init(&e, 7, NULL, NULL));
  (void)vote_eq_term(&e, &pa, rho);
  (void)vote_eq_term(&e, &pb, sigma);
  vote_sc_mul(t, rho, c);
  (void)vote_eq_term(&e, &px, t);
  vote_sc_mul(t, sigma, c);
  (void)vote_eq_term(&e, &pd, t);
  vote_sc_mul(t, sigma, proof + 64);
  vote_sc_neg(t, t);
  (void)vote_eq_term(&e, &pp, t);
  vote_sc_mul(t, rho, proof + 64);
  vote_sc_neg(t, t);
  vote_eq_add_g(&e, t);
  int rc = vote_eq_check_var(&e);
  vote_eq_free(&e);
  return rc;
}
