/* votecrypto.h — the cryptographic core of veche's citizen polls (veche_voting).
 *
 * A pure, deterministic library: every random value (key seeds, encryption
 * randomness, proof nonces) is passed in by the caller, so the same inputs give
 * the same bytes on every node and in every test. Only the CLI and clients
 * draw randomness from the OS and hand it in (32 fresh bytes per call that
 * takes a seed; reusing a seed with the same inputs reproduces the same output,
 * which is harmless; the seed is mixed with all inputs, so reuse with other
 * inputs does not leak nonces).
 *
 * Group: ristretto255 (RFC 9496) via libsodium, prime order
 * L = 2^252 + 27742317777372353535851937790883648493, about 126-bit security
 * (veche's "about 128-bit" parameter). G is the standard generator; H (for
 * Pedersen commitments) is hash-to-group of a fixed tag, so nobody knows
 * log_G H. Full constructions, transcripts and the ledger's checks are in
 * docs/voting-crypto.md.
 *
 * Pieces:
 *   - exponential ElGamal: ct = (rG, mG + rY), 64 bytes, homomorphic;
 *   - ballots: one ciphertext per option, a disjunctive Chaum–Pedersen proof
 *     per option that it encrypts 0 or 1, and one that the sum is in
 *     [min_total, max_total]; one Fiat–Shamir challenge binds the whole
 *     statement and the caller's context (chain, poll, voter);
 *   - DKG: Joint-Feldman verifiable secret sharing between n trustees with
 *     threshold t, shares encrypted to each trustee, publicly checkable
 *     complaints, deterministic exclusion rule;
 *   - threshold decryption: partial decryptions with DLEQ proofs, Lagrange
 *     combination, baby-step giant-step discrete log up to VOTE_DLOG_MAX;
 *   - homomorphic tally accumulator.
 *
 * Conventions: functions return 0 or a negative VE_ERR_* (base/err.h). All
 * buffers are owned by the caller; ve_buf_t outputs are appended to (the
 * caller frees them). Points and scalars travel as their canonical 32-byte
 * encodings; every decoder rejects non-canonical encodings (scalars >= L,
 * points that are not canonical ristretto255 encodings), so every accepted
 * value has exactly one encoding. Secret inputs are never modified; secret
 * intermediates are wiped. Verifiers run in variable time (public data only);
 * everything that touches a secret is constant time (libsodium).
 *
 * Thread safety: call vote_init() once first. After that every function is
 * reentrant; objects (vote_election_t, vote_tally_t, vote_dlog_table_t) may be
 * read by many threads at once, written by one.
 */
#ifndef VECHE_APPS_VOTING_VOTECRYPTO_H
#define VECHE_APPS_VOTING_VOTECRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

#define VOTE_POINT_BYTES 32
#define VOTE_SCALAR_BYTES 32
#define VOTE_SEED_BYTES 32
#define VOTE_CT_BYTES 64              /* C1 || C2 */
#define VOTE_CONTEXT_BYTES_MAX 512    /* caller's binding context */
#define VOTE_OPTIONS_MAX 64           /* ciphertexts per ballot */
#define VOTE_TRUSTEES_MIN 3
#define VOTE_TRUSTEES_MAX 32
#define VOTE_DLOG_MAX 33554431u       /* 2^25 - 1: largest decodable count */
#define VOTE_DLOG_TABLE_ENTRIES 65536 /* baby steps; the table takes 1 MiB */
#define VOTE_DLEQ_PROOF_BYTES 96      /* A || B || z */
#define VOTE_BIT_PROOF_BYTES 224      /* 2 branches: 4 points, c0, z0, z1 */
/* Largest ballot: 64 options, totals 0..64. */
#define VOTE_BALLOT_BYTES_MAX 26724
#define VOTE_PARTIAL_BYTES (VOTE_POINT_BYTES + VOTE_DLEQ_PROOF_BYTES) /* D || proof */
#define VOTE_DECSHARE_BYTES_MAX (3 + VOTE_OPTIONS_MAX * VOTE_PARTIAL_BYTES)
#define VOTE_DKG_SHARE_CT_BYTES 80    /* R || AEAD(s) */
#define VOTE_DKG_DEALING_BYTES_MAX \
  (8 + VOTE_TRUSTEES_MAX * 32 + 64 + VOTE_TRUSTEES_MAX * VOTE_DKG_SHARE_CT_BYTES)
#define VOTE_DKG_COMPLAINT_BYTES (3 + 32 + VOTE_DLEQ_PROOF_BYTES)

/* Must be called once before anything else. Returns 0 or VE_ERR_CRYPTO. */
int vote_init(void);

/* ==== keys, generators, context ====================================== */

/* A ristretto255 key pair: sk a non-zero scalar, pk = sk*G. Used for the
 * election key in single-key tests and for trustees' share-encryption keys. */
typedef struct {
  uint8_t sk[VOTE_SCALAR_BYTES]; /* secret: wipe with vote_keypair_wipe */
  uint8_t pk[VOTE_POINT_BYTES];
} vote_keypair_t;

/* sk = reduce(BLAKE2b-512("veche/vote/v1/keygen", seed)), pk = sk*G. */
void vote_keypair_from_seed(vote_keypair_t *kp, const uint8_t seed[VOTE_SEED_BYTES]);
void vote_keypair_wipe(vote_keypair_t *kp);
/* Is pk a canonical encoding of a non-identity element? 0 or VE_ERR_BAD_KEY. */
__attribute__((warn_unused_result)) int vote_pk_check(const uint8_t pk[VOTE_POINT_BYTES]);

/* The second generator H = from_hash(BLAKE2b-512("veche/vote/v1/generator-H")). */
void vote_generator_h(uint8_t h[VOTE_POINT_BYTES]);
/* Pedersen commitment v*G + b*H (constant time). v, b canonical scalars.
 * Returns 0 or VE_ERR_NONCANONICAL. */
int vote_pedersen_commit(uint8_t out[VOTE_POINT_BYTES], const uint8_t v[VOTE_SCALAR_BYTES],
                         const uint8_t b[VOTE_SCALAR_BYTES]);

/* A 32-byte binding context: H("veche/vote/v1/context", len-prefixed chain_id,
 * poll_id, party) where party is the voter's (or trustee's) public key. Any
 * other byte string up to VOTE_CONTEXT_BYTES_MAX may be used as context too. */
void vote_context_make(uint8_t out[32], const char *chain_id, const uint8_t poll_id[32],
                       const uint8_t party[32]);

/* Canonical scalar (< L)? */
bool vote_scalar_is_canonical(const uint8_t s[VOTE_SCALAR_BYTES]);

/* ==== exponential ElGamal ============================================= */

/* ct = (r*G, m*G + r*Y). m <= VOTE_DLOG_MAX; r canonical and non-zero; Y a
 * valid non-identity key. Returns 0, VE_ERR_INVALID, VE_ERR_BAD_KEY. */
int vote_encrypt(uint8_t ct[VOTE_CT_BYTES], const uint8_t pk[VOTE_POINT_BYTES], uint64_t m,
                 const uint8_t r[VOTE_SCALAR_BYTES]);
/* Checks both halves are canonical points. The identity is allowed in C2
 * always and in C1 only if allow_c1_identity (sums and tallies may be the
 * identity; a fresh ballot ciphertext may not). 0 or VE_ERR_NONCANONICAL /
 * VE_ERR_MALFORMED. */
int vote_ct_check(const uint8_t ct[VOTE_CT_BYTES], bool allow_c1_identity);
/* out = a + b component-wise (out may alias). Inputs must pass vote_ct_check. */
int vote_ct_add(uint8_t out[VOTE_CT_BYTES], const uint8_t a[VOTE_CT_BYTES],
                const uint8_t b[VOTE_CT_BYTES]);
/* M = C2 - sk*C1 (= m*G); single-key decryption for tests and tools. */
int vote_decrypt_point(uint8_t m_point[VOTE_POINT_BYTES], const uint8_t sk[VOTE_SCALAR_BYTES],
                       const uint8_t ct[VOTE_CT_BYTES]);

/* ==== election context and ballots =================================== */

/* A poll's public parameters with precomputed tables for fast verification.
 * About 21 KiB; build once per poll with vote_election_init, then read-only. */
#define VOTE_ELECTION_PRIV_WORDS 2580
typedef struct {
  uint8_t pk[VOTE_POINT_BYTES]; /* joint election key Y */
  uint32_t options;             /* 1..VOTE_OPTIONS_MAX */
  uint32_t min_total, max_total; /* 0 <= min <= max <= options */
  uint64_t priv_[VOTE_ELECTION_PRIV_WORDS]; /* decoded Y, tables for G and Y */
} vote_election_t;

/* Returns 0, VE_ERR_BAD_KEY, VE_ERR_INVALID (bounds), VE_ERR_TOO_BIG (options). */
int vote_election_init(vote_election_t *el, const uint8_t pk[VOTE_POINT_BYTES], uint32_t options,
                       uint32_t min_total, uint32_t max_total);

/* Exact encoded size of a ballot for these parameters (0 if invalid).
 * Layout: u8 version=1, uvarint options, uvarint min, uvarint max,
 * options*(C1||C2), options*bit proof (224 bytes), sum proof with
 * k = max-min+1 branches: k*(A||B), (k-1) challenges, k responses. */
size_t vote_ballot_size(uint32_t options, uint32_t min_total, uint32_t max_total);

/* Encrypts choices[0..options-1] (each 0 or 1, sum within the bounds) and
 * proves it, appending the ballot to out. ctx binds the ballot to its chain,
 * poll and voter. seed: 32 fresh random bytes. Returns 0, VE_ERR_INVALID,
 * VE_ERR_TOO_BIG, VE_ERR_NOMEM. */
int vote_ballot_create(ve_buf_t *out, const vote_election_t *el, const uint8_t *choices,
                       size_t choices_len, const uint8_t *ctx, size_t ctx_len,
                       const uint8_t seed[VOTE_SEED_BYTES]);

/* Verifies a ballot against the election and the context it must be bound to.
 * Returns 0 if valid; VE_ERR_MALFORMED / VE_ERR_TRAILING / VE_ERR_VERSION for a
 * bad layout or parameters that differ from el's, VE_ERR_NONCANONICAL for a
 * non-canonical scalar or point, VE_ERR_PROOF if the proofs do not verify
 * (including a ballot made for another context), VE_ERR_TOO_BIG (longer than
 * VOTE_BALLOT_BYTES_MAX or ctx too long), VE_ERR_NOMEM. */
__attribute__((warn_unused_result)) int vote_ballot_verify(const vote_election_t *el,
                                                           const uint8_t *ctx, size_t ctx_len,
                                                           const uint8_t *ballot,
                                                           size_t ballot_len);

/* Parses only the layout and returns a pointer to the options ciphertexts
 * (options * 64 bytes, borrowed from ballot). No proof or point checks. */
int vote_ballot_ciphertexts(const uint8_t *ballot, size_t ballot_len, uint32_t *options,
                            const uint8_t **cts);

/* Ballot tracker for receipts: H("veche/vote/v1/tracker", ballot), 32 bytes. */
void vote_ballot_tracker(uint8_t out[32], const uint8_t *ballot, size_t ballot_len);

/* ==== homomorphic tally ============================================== */

#define VOTE_TALLY_PRIV_WORDS (VOTE_OPTIONS_MAX * 2 * 20)
typedef struct {
  uint32_t options;
  uint64_t ballots; /* ballots added minus ballots removed */
  uint64_t priv_[VOTE_TALLY_PRIV_WORDS]; /* running sums, decoded */
} vote_tally_t;

int vote_tally_init(vote_tally_t *t, uint32_t options);
/* Adds (or removes, for a replaced ballot) the ciphertexts of a ballot that was
 * already verified. Checks layout, option count and point encodings only.
 * Returns 0, VE_ERR_MALFORMED, VE_ERR_NONCANONICAL, VE_ERR_INVALID. */
int vote_tally_add(vote_tally_t *t, const uint8_t *ballot, size_t ballot_len);
int vote_tally_remove(vote_tally_t *t, const uint8_t *ballot, size_t ballot_len);
/* Adds one option-vector of ciphertexts (options * 64 bytes). */
int vote_tally_add_cts(vote_tally_t *t, const uint8_t *cts, uint32_t options);
/* into += from (for tallying in parallel). */
int vote_tally_merge(vote_tally_t *into, const vote_tally_t *from);
/* Writes options * 64 bytes: the encrypted sums. */
void vote_tally_result(const vote_tally_t *t, uint8_t *cts);

/* ==== distributed key generation ======================================= */

typedef struct {
  uint32_t n; /* trustees, VOTE_TRUSTEES_MIN..VOTE_TRUSTEES_MAX; indices 1..n */
  uint32_t t; /* threshold, 2..n: any t decrypt, t-1 learn nothing */
} vote_dkg_params_t;

size_t vote_dkg_dealing_size(const vote_dkg_params_t *p);

/* Dealer i's dealing: Feldman commitments A_ik = a_ik*G (k < t), a Schnorr
 * proof of knowledge of a_i0, and s_ij = f_i(j) encrypted to each trustee j's
 * key enc_pks[j-1] (all n, including itself). Coefficients come from seed
 * (32 fresh secret bytes; never reuse across DKGs). Appends to out. */
int vote_dkg_deal(ve_buf_t *out, const vote_dkg_params_t *p, uint32_t dealer,
                  const uint8_t (*enc_pks)[VOTE_POINT_BYTES], const uint8_t *ctx, size_t ctx_len,
                  const uint8_t seed[VOTE_SEED_BYTES]);

/* Public checks of a dealing from dealer: layout, canonical encodings,
 * A_i0 != identity, proof of knowledge. 0, VE_ERR_MALFORMED, VE_ERR_PROOF... */
__attribute__((warn_unused_result)) int vote_dkg_dealing_verify(
    const vote_dkg_params_t *p, uint32_t dealer, const uint8_t *ctx, size_t ctx_len,
    const uint8_t *dealing, size_t dealing_len);

/* Trustee `recipient` decrypts its share from a (verified) dealing and checks
 * s*G == sum_k recipient^k A_ik. Returns 0 with share set; VE_ERR_PROOF if the
 * share is bad (publish a complaint); other errors for bad inputs. */
int vote_dkg_share_open(uint8_t share[VOTE_SCALAR_BYTES], const vote_dkg_params_t *p,
                        uint32_t dealer, uint32_t recipient, const vote_keypair_t *enc,
                        const uint8_t *ctx, size_t ctx_len, const uint8_t *dealing,
                        size_t dealing_len);

/* A complaint by recipient against dealer: reveals K = e_j*R_ij with a DLEQ
 * proof against the recipient's key, so anyone can decrypt that one share and
 * judge. Appends VOTE_DKG_COMPLAINT_BYTES to out. */
int vote_dkg_complain(ve_buf_t *out, const vote_dkg_params_t *p, uint32_t dealer,
                      uint32_t recipient, const vote_keypair_t *enc, const uint8_t *ctx,
                      size_t ctx_len, const uint8_t *dealing, size_t dealing_len,
                      const uint8_t seed[VOTE_SEED_BYTES]);

/* Judges a complaint against the dealing it names. On 0, *upheld tells whether
 * the dealer is at fault (share undecryptable, non-canonical or inconsistent
 * with the commitments). Errors (VE_ERR_PROOF, VE_ERR_MALFORMED, ...) mean the
 * complaint itself is invalid and must be ignored. */
__attribute__((warn_unused_result)) int vote_dkg_complaint_check(
    bool *upheld, const vote_dkg_params_t *p, const uint8_t (*enc_pks)[VOTE_POINT_BYTES],
    const uint8_t *ctx, size_t ctx_len, const uint8_t *dealing, size_t dealing_len,
    const uint8_t *complaint, size_t complaint_len);

typedef struct {
  uint32_t n, t;
  uint64_t qualified;                       /* bit i-1 set: dealer i counted */
  uint8_t pk[VOTE_POINT_BYTES];             /* joint key Y = sum A_i0 */
  uint8_t vk[VOTE_TRUSTEES_MAX][VOTE_POINT_BYTES]; /* X_j = x_j*G, j = 1..n */
} vote_dkg_result_t;

/* The public outcome, computable by anyone: dealings[i-1] is dealer i's
 * dealing (len 0 if none was published); complaints are all published
 * complaints. Rule: dealer i is qualified iff its dealing verifies and no
 * valid complaint against it is upheld; invalid complaints are ignored. Fails
 * with VE_ERR_QUORUM if fewer than t dealers qualify. */
int vote_dkg_finish(vote_dkg_result_t *res, const vote_dkg_params_t *p,
                    const uint8_t (*enc_pks)[VOTE_POINT_BYTES], const uint8_t *ctx,
                    size_t ctx_len, const ve_slice_t *dealings, const ve_slice_t *complaints,
                    size_t complaints_count);

/* Trustee j's secret share x_j = sum over qualified i of s_ij, checked against
 * res->vk[j-1]. Returns 0, VE_ERR_PROOF (a qualified dealer's share does not
 * open: this trustee should have complained), ... Wipe x_j after use. */
int vote_dkg_secret_share(uint8_t x[VOTE_SCALAR_BYTES], const vote_dkg_result_t *res,
                          uint32_t recipient, const vote_keypair_t *enc, const uint8_t *ctx,
                          size_t ctx_len, const ve_slice_t *dealings);

/* ==== threshold decryption ============================================= */

/* D = x*C1 with a DLEQ proof that log_G X == log_C1 D, bound to ctx and the
 * trustee index. seed: 32 fresh bytes. */
int vote_partial_decrypt(uint8_t d[VOTE_POINT_BYTES], uint8_t proof[VOTE_DLEQ_PROOF_BYTES],
                         const uint8_t x[VOTE_SCALAR_BYTES], uint32_t trustee,
                         const uint8_t c1[VOTE_POINT_BYTES], const uint8_t *ctx, size_t ctx_len,
                         const uint8_t seed[VOTE_SEED_BYTES]);
__attribute__((warn_unused_result)) int vote_partial_verify(
    const uint8_t vk[VOTE_POINT_BYTES], uint32_t trustee, const uint8_t c1[VOTE_POINT_BYTES],
    const uint8_t d[VOTE_POINT_BYTES], const uint8_t proof[VOTE_DLEQ_PROOF_BYTES],
    const uint8_t *ctx, size_t ctx_len);

/* M = C2 - sum lambda_j D_j over the first t of count partials (trustees
 * distinct, 1..VOTE_TRUSTEES_MAX). VE_ERR_QUORUM if count < t. The partials
 * must have been verified. */
int vote_combine(uint8_t m_point[VOTE_POINT_BYTES], uint32_t t, const uint32_t *trustees,
                 const uint8_t (*d)[VOTE_POINT_BYTES], size_t count,
                 const uint8_t ct[VOTE_CT_BYTES]);

/* A trustee's decryption share for a whole tally: u8 version=1, uvarint
 * trustee, uvarint options, options * (D || proof). The context of option o's
 * proof is ctx || u32 option index (added here). */
size_t vote_decshare_size(uint32_t options);
int vote_decshare_create(ve_buf_t *out, uint32_t trustee, const uint8_t x[VOTE_SCALAR_BYTES],
                         const uint8_t *tally_cts, uint32_t options, const uint8_t *ctx,
                         size_t ctx_len, const uint8_t seed[VOTE_SEED_BYTES]);
__attribute__((warn_unused_result)) int vote_decshare_verify(
    const uint8_t vk[VOTE_POINT_BYTES], uint32_t trustee, const uint8_t *tally_cts,
    uint32_t options, const uint8_t *ctx, size_t ctx_len, const uint8_t *share,
    size_t share_len);
/* Trustee index named in a decryption share (layout check only). */
int vote_decshare_trustee(const uint8_t *share, size_t share_len, uint32_t *trustee);

/* ==== discrete log ===================================================== */

typedef struct vote_dlog_table vote_dlog_table_t;

/* Baby-step table of VOTE_DLOG_TABLE_ENTRIES keys (1 MiB), built in tens of
 * milliseconds. The caller owns it; free with vote_dlog_table_free. */
int vote_dlog_table_new(vote_dlog_table_t **out);
void vote_dlog_table_free(vote_dlog_table_t *t);
/* Finds m in [0, VOTE_DLOG_MAX] with m*G == M. VE_ERR_NOT_FOUND otherwise,
 * VE_ERR_MALFORMED / VE_ERR_NONCANONICAL for a bad encoding. */
int vote_dlog(const vote_dlog_table_t *t, const uint8_t m_point[VOTE_POINT_BYTES], uint64_t *m);

/* Decrypts a tally from decryption shares (already verified with
 * vote_decshare_verify, from distinct trustees): combines the first t and
 * solves the discrete logs into counts[0..options-1]. */
int vote_tally_decrypt(uint64_t *counts, const vote_dlog_table_t *tab, uint32_t t,
                       const ve_slice_t *shares, size_t shares_count, const uint8_t *tally_cts,
                       uint32_t options);
/* Checks claimed counts without a table: for each option, the combination of
 * the first t shares equals counts[o]*G. 0 or VE_ERR_PROOF. For audits. */
__attribute__((warn_unused_result)) int vote_result_verify(const uint64_t *counts, uint32_t t,
                                                           const ve_slice_t *shares,
                                                           size_t shares_count,
                                                           const uint8_t *tally_cts,
                                                           uint32_t options);

#endif
