/* vcrypt_int.h — insides of veche_voting's cryptography; not a public header.
 *
 * Two arithmetic engines live here, with a strict split by what they may touch:
 *
 *   - libsodium's ristretto255 API (crypto_scalarmult_ristretto255*, _add, _sub,
 *     scalar ops): constant time. Used for everything that touches a secret:
 *     key generation, encryption, every prover, partial decryption, share
 *     encryption. Wrapped by vote_sod_* below.
 *   - vote_fe_* / vote_ge_* (vcrypt_fe.c, vcrypt_ge.c): our own variable-time
 *     field and group code over the same curve, used only on public data —
 *     proof verification, homomorphic tallying, Lagrange combination and the
 *     discrete log. It exists for speed: libsodium 1.0.18 exposes only encoded
 *     points, so each add costs two decodes and an encode (~15 us here) and
 *     each variable-base multiplication is constant time (~60 us); verifying a
 *     ballot or tallying a million of them that way misses the targets by far.
 *     The engine keeps points decoded (extended twisted Edwards coordinates),
 *     shares doublings across a whole multi-scalar equation and uses wNAF.
 *     tests/unit/voting/vote_engine_test.c checks it against libsodium on
 *     random inputs (decode, encode, add, sub, scalar multiplication).
 *
 * Functions with _var in the name are variable time: public inputs only.
 */
#ifndef VECHE_APPS_VOTING_VCRYPT_INT_H
#define VECHE_APPS_VOTING_VCRYPT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "apps/voting/votecrypto.h"

/* ======================================================================
 * Field GF(2^255 - 19), five 51-bit limbs. Invariant after every operation:
 * each limb < 2^52 (not necessarily fully reduced; vote_fe_tobytes reduces).
 * ====================================================================== */

typedef struct {
  uint64_t v[5];
} vote_fe_t;

extern const vote_fe_t VOTE_FE_D;                 /* d = -121665/121666 */
extern const vote_fe_t VOTE_FE_D2;                /* 2d */
extern const vote_fe_t VOTE_FE_SQRT_M1;           /* sqrt(-1), non-negative */
extern const vote_fe_t VOTE_FE_INVSQRT_A_MINUS_D; /* 1/sqrt(-1-d), non-negative */

void vote_fe_0(vote_fe_t *h);
void vote_fe_1(vote_fe_t *h);
/* Reads 32 little-endian bytes, ignoring bit 255 (callers check canonicity). */
void vote_fe_frombytes(vote_fe_t *h, const uint8_t s[32]);
/* Writes the unique reduced encoding (value in [0, p)). */
void vote_fe_tobytes(uint8_t s[32], const vote_fe_t *f);
void vote_fe_add(vote_fe_t *h, const vote_fe_t *f, const vote_fe_t *g);
void vote_fe_sub(vote_fe_t *h, const vote_fe_t *f, const vote_fe_t *g);
void vote_fe_neg(vote_fe_t *h, const vote_fe_t *f);
void vote_fe_mul(vote_fe_t *h, const vote_fe_t *f, const vote_fe_t *g);
void vote_fe_sq(vote_fe_t *h, const vote_fe_t *f);
void vote_fe_invert(vote_fe_t *out, const vote_fe_t *z);
/* z^((p-5)/8) */
void vote_fe_pow22523(vote_fe_t *out, const vote_fe_t *z);
bool vote_fe_is_negative(const vote_fe_t *f); /* low bit of the reduced value */
bool vote_fe_is_zero(const vote_fe_t *f);
bool vote_fe_eq(const vote_fe_t *f, const vote_fe_t *g);
/* |f|: f or -f, whichever is non-negative. */
void vote_fe_abs(vote_fe_t *h, const vote_fe_t *f);
/* RFC 9496 SQRT_RATIO_M1: r = sqrt(u/v) or sqrt(i*u/v), non-negative; returns
 * whether u/v was square. */
bool vote_fe_sqrt_ratio_m1(vote_fe_t *r, const vote_fe_t *u, const vote_fe_t *v);
/* out[i] = 1/in[i] for all i (Montgomery's trick); in[i] must be non-zero.
 * scratch holds n elements. */
void vote_fe_batch_invert(vote_fe_t *out, const vote_fe_t *in, size_t n, vote_fe_t *scratch);

/* ======================================================================
 * Points of edwards25519 in extended coordinates (X:Y:Z:T), x=X/Z, y=Y/Z,
 * xy=T/Z, used as representatives of ristretto255 elements.
 * ====================================================================== */

typedef struct {
  vote_fe_t X, Y, Z, T;
} vote_ge_t;

/* A point prepared as an addend: (Y+X, Y-X, 2Z, 2dT). */
typedef struct {
  vote_fe_t YpX, YmX, Z2, T2d;
} vote_ge_cached_t;

/* Odd multiples 1P, 3P, ..., 127P of a fixed base, for width-8 wNAF. */
#define VOTE_GE_TABLE_ENTRIES 64
typedef struct {
  vote_ge_cached_t odd[VOTE_GE_TABLE_ENTRIES];
} vote_ge_table_t;

/* Terms in one multi-scalar multiplication (a 64-option ballot needs 514). */
#define VOTE_MSM_TERMS_MAX 1024

void vote_ge_identity(vote_ge_t *p);
/* Decodes a ristretto255 encoding (RFC 9496 4.3.1). Returns 0,
 * VE_ERR_NONCANONICAL (s >= p or s negative) or VE_ERR_MALFORMED (no point). */
int vote_ge_decode(vote_ge_t *p, const uint8_t s[32]);
/* Canonical ristretto255 encoding (RFC 9496 4.3.2). */
void vote_ge_encode(uint8_t s[32], const vote_ge_t *p);
void vote_ge_to_cached(vote_ge_cached_t *c, const vote_ge_t *p);
void vote_ge_add_cached(vote_ge_t *r, const vote_ge_t *p, const vote_ge_cached_t *q);
void vote_ge_sub_cached(vote_ge_t *r, const vote_ge_t *p, const vote_ge_cached_t *q);
void vote_ge_add(vote_ge_t *r, const vote_ge_t *p, const vote_ge_t *q);
void vote_ge_sub(vote_ge_t *r, const vote_ge_t *p, const vote_ge_t *q);
void vote_ge_dbl(vote_ge_t *r, const vote_ge_t *p);
void vote_ge_neg(vote_ge_t *r, const vote_ge_t *p);
/* Ristretto equality (equal as group elements, whatever the representative). */
bool vote_ge_eq(const vote_ge_t *p, const vote_ge_t *q);
bool vote_ge_is_identity(const vote_ge_t *p);
/* The ristretto255 generator G (decoded once from its standard encoding). */
void vote_ge_base(vote_ge_t *p);
void vote_ge_table_build(vote_ge_table_t *t, const vote_ge_t *p);
/* out = sum sc[i]*pts[i] + sum tsc[k]*tabs[k]; scalars are 32-byte little
 * endian below 2^253 (any reduced scalar). n <= VOTE_MSM_TERMS_MAX, ntabs <= 4.
 * Variable time. Returns 0 or VE_ERR_NOMEM. */
int vote_ge_msm_var(vote_ge_t *out, const vote_ge_t *pts, const uint8_t (*sc)[32], size_t n,
                    const vote_ge_table_t *const *tabs, const uint8_t (*tsc)[32], size_t ntabs);
/* out = s*p, variable time. */
void vote_ge_scalarmult_var(vote_ge_t *out, const vote_ge_t *p, const uint8_t s[32]);
/* Affine key of a point for the discrete-log table: requires the point to be
 * torsion-free (a multiple of 4*G computed in this engine); zinv = 1/Z. */
uint64_t vote_ge_dlog_key(const vote_ge_t *p, const vote_fe_t *zinv);

/* ======================================================================
 * Scalars mod L (32 bytes little endian), transcripts, derived randomness.
 * ====================================================================== */

bool vote_sc_is_canonical(const uint8_t s[32]);
bool vote_sc_is_zero(const uint8_t s[32]);
void vote_sc_from_u64(uint8_t s[32], uint64_t v);
void vote_sc_add(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]);
void vote_sc_sub(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]);
void vote_sc_mul(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]);
void vote_sc_neg(uint8_t z[32], const uint8_t x[32]);

/* Fiat–Shamir transcript: BLAKE2b-512 over len(tag) || tag || fields. */
typedef struct {
  crypto_generichash_state st;
} vote_tr_t;

void vote_tr_init(vote_tr_t *t, const char *tag);
void vote_tr_u64(vote_tr_t *t, uint64_t v);                      /* 8 bytes LE */
void vote_tr_raw(vote_tr_t *t, const uint8_t *p, size_t n);      /* fixed-size field */
void vote_tr_blob(vote_tr_t *t, const uint8_t *p, size_t n);     /* u64 length, bytes */
void vote_tr_challenge(vote_tr_t *t, uint8_t c[32]);             /* 64 bytes -> mod L */
void vote_tr_digest(vote_tr_t *t, uint8_t out[32]);              /* first 32 bytes */

/* Deterministic prover randomness: scalars from BLAKE2b-512 keyed by
 * K = H(tag, seed || binding), counter-indexed. Wiped by vote_rng_wipe. */
typedef struct {
  uint8_t key[32];
  uint64_t ctr;
} vote_rng_t;

void vote_rng_init(vote_rng_t *r, const char *tag, const uint8_t seed[VOTE_SEED_BYTES],
                   const uint8_t *bind, size_t bind_len);
void vote_rng_scalar(vote_rng_t *r, uint8_t s[32]); /* uniform, non-zero */
void vote_rng_wipe(vote_rng_t *r);

/* 128-bit batch-verification weights: ChaCha20 keystream under a 32-byte key
 * that hashes the whole statement and proof, 16 bytes per weight. */
typedef struct {
  uint8_t key[32];
  uint64_t block;
  uint8_t buf[64];
  size_t pos;
} vote_weights_t;

void vote_weights_init(vote_weights_t *w, const uint8_t key[32]);
void vote_weights_next(vote_weights_t *w, uint8_t rho[32]); /* in [2^127, 2^128) */

/* ---- constant-time point operations on encodings (libsodium) ----
 * Inputs must be valid encodings (asserted); the identity is allowed as input
 * and as result. */
void vote_sod_mul(uint8_t q[32], const uint8_t s[32], const uint8_t p[32]);
void vote_sod_mul_base(uint8_t q[32], const uint8_t s[32]);
void vote_sod_add(uint8_t r[32], const uint8_t p[32], const uint8_t q[32]);
void vote_sod_sub(uint8_t r[32], const uint8_t p[32], const uint8_t q[32]);

/* ======================================================================
 * Proof building blocks shared by ballots, DKG and decryption.
 * ====================================================================== */

/* Disjunctive Chaum–Pedersen ("OR") proof that (C1, C2) encrypts one of
 * values[0..k-1] under Y. Commitment form: for each branch j, A_j = w_j G -
 * c'_j C1, B_j = w_j Y - c'_j (C2 - v_j G). Encoded as k*(A||B), (k-1)
 * challenges c_0..c_{k-2}, k responses. */
#define VOTE_OR_BRANCHES_MAX (VOTE_OPTIONS_MAX + 1)

static inline size_t vote_or_proof_size(size_t k) { return k * 64 + (k - 1) * 32 + k * 32; }

/* Prover state of one branch (secret: wipe). */
typedef struct {
  uint8_t w[32];  /* nonce */
  uint8_t cs[32]; /* simulated challenge, 0 on the real branch */
  uint8_t A[32], B[32];
} vote_or_branch_t;

/* Phase 1: commitments for secret branch index m, constant time in m. */
void vote_or_commit(vote_or_branch_t *br, size_t k, vote_rng_t *rng, const uint8_t Y[32],
                    const uint8_t C1[32], const uint8_t C2[32], const uint64_t *values,
                    uint32_t m);
/* Appends the k commitment pairs to a transcript. */
void vote_or_commit_absorb(const vote_or_branch_t *br, size_t k, vote_tr_t *tr);
/* Phase 2: responses for challenge c and randomness r; writes the proof
 * (vote_or_proof_size(k) bytes) and wipes br. */
void vote_or_respond(vote_or_branch_t *br, size_t k, uint8_t *proof, const uint8_t c[32],
                     const uint8_t r[32], uint32_t m);

/* Accumulator for one batched verification equation sum = identity. */
typedef struct {
  size_t n, cap;
  vote_ge_t *pts;        /* owned */
  uint8_t (*sc)[32];     /* owned */
  uint8_t g_sc[32];      /* coefficient of G */
  uint8_t y_sc[32];      /* coefficient of the election key Y (if y_tab) */
  const vote_ge_table_t *g_tab; /* borrowed, may be NULL: G then goes as a term */
  const vote_ge_table_t *y_tab; /* borrowed, may be NULL */
} vote_eq_t;

int vote_eq_init(vote_eq_t *e, size_t cap, const vote_ge_table_t *g_tab,
                 const vote_ge_table_t *y_tab);
void vote_eq_free(vote_eq_t *e);
/* Adds a term; returns its index. */
size_t vote_eq_term(vote_eq_t *e, const vote_ge_t *p, const uint8_t s[32]);
/* sc[idx] += s */
void vote_eq_add_to(vote_eq_t *e, size_t idx, const uint8_t s[32]);
void vote_eq_add_g(vote_eq_t *e, const uint8_t s[32]);
void vote_eq_add_y(vote_eq_t *e, const uint8_t s[32]);
/* 0 if the accumulated sum is the identity, VE_ERR_PROOF if not, VE_ERR_NOMEM. */
int vote_eq_check_var(vote_eq_t *e);

/* Verifies-by-accumulation one OR proof (scalars already checked by
 * vote_or_scalars_check) for the shared challenge c: decodes the commitments
 * and adds the weighted branch equations to e, except the terms in C1 and C2,
 * whose coefficients are returned for the caller to add (a sum ciphertext
 * spreads them over its summands). Y must be e's y_tab. Returns 0 or a decode
 * error. */
int vote_or_accumulate(vote_eq_t *e, vote_weights_t *w, const uint8_t *proof, size_t k,
                       const uint8_t c[32], const uint64_t *values, uint8_t coef_c1[32],
                       uint8_t coef_c2[32]);
/* Are all challenges and responses of an OR proof canonical scalars? */
bool vote_or_scalars_check(const uint8_t *proof, size_t k);

/* Chaum–Pedersen DLEQ (commitment form): proves log_G X == log_P D.
 * proof = A || B || z, A = wG, B = wP, z = w + c x, c = H(tag, ctx, X, P, D, A, B). */
void vote_dleq_prove(uint8_t proof[VOTE_DLEQ_PROOF_BYTES], const char *tag, const uint8_t *ctx,
                     size_t ctx_len, const uint8_t x[32], const uint8_t X[32], const uint8_t P[32],
                     const uint8_t D[32], vote_rng_t *rng);
int vote_dleq_verify(const char *tag, const uint8_t *ctx, size_t ctx_len, const uint8_t X[32],
                     const uint8_t P[32], const uint8_t D[32],
                     const uint8_t proof[VOTE_DLEQ_PROOF_BYTES]);

/* Layout of vote_election_t.priv_. */
typedef struct {
  vote_ge_t y;
  vote_ge_table_t g_tab;
  vote_ge_table_t y_tab;
} vote_election_priv_t;

static inline const vote_election_priv_t *vote_election_priv(const vote_election_t *el) {
  return (const vote_election_priv_t *)(const void *)el->priv_;
}

/* Decodes a point; rejects the identity if !allow_identity (VE_ERR_MALFORMED). */
int vote_point_decode(vote_ge_t *p, const uint8_t s[32], bool allow_identity);

/* Batch weights keyed by H("veche/vote/v1/batch", tag-of-use, c, proof bytes). */
void vote_weights_derive(vote_weights_t *w, const char *use, const uint8_t c[32],
                         const uint8_t *proof, size_t proof_len);

/* DKG share encryption with explicit ephemeral scalar k (tests build cheating
 * dealings with it): R = kG || AEAD(key(ctx, dealer, recipient, E, R, kE), s). */
void vote_dkg_share_seal(uint8_t out[VOTE_DKG_SHARE_CT_BYTES], const uint8_t *ctx, size_t ctx_len,
                         uint32_t dealer, uint32_t recipient, const uint8_t E[32],
                         const uint8_t s[32], const uint8_t k[32]);

/* Transcript tags (documented in docs/voting-crypto.md). */
#define VOTE_TAG_KEYGEN "veche/vote/v1/keygen"
#define VOTE_TAG_GEN_H "veche/vote/v1/generator-H"
#define VOTE_TAG_CONTEXT "veche/vote/v1/context"
#define VOTE_TAG_BALLOT "veche/vote/v1/ballot"
#define VOTE_TAG_BALLOT_RNG "veche/vote/v1/ballot-rng"
#define VOTE_TAG_BATCH "veche/vote/v1/batch"
#define VOTE_TAG_TRACKER "veche/vote/v1/tracker"
#define VOTE_TAG_PARTIAL "veche/vote/v1/partial-decryption"
#define VOTE_TAG_PARTIAL_RNG "veche/vote/v1/partial-rng"
#define VOTE_TAG_DKG_COEF "veche/vote/v1/dkg-coefficient"
#define VOTE_TAG_DKG_POK "veche/vote/v1/dkg-pok"
#define VOTE_TAG_DKG_NONCE "veche/vote/v1/dkg-share-nonce"
#define VOTE_TAG_DKG_KEY "veche/vote/v1/dkg-share-key"
#define VOTE_TAG_DKG_COMPLAINT "veche/vote/v1/dkg-complaint"
#define VOTE_TAG_DKG_COMPLAINT_RNG "veche/vote/v1/dkg-complaint-rng"

#endif
