/* vcrypt_dkg.c — distributed key generation for t-of-n trustees, no dealer.
 *
 * Joint-Feldman verifiable secret sharing, run on the ledger:
 *
 *   1. Deal. Trustee i picks f_i(z) = a_i0 + a_i1 z + ... + a_i,t-1 z^(t-1)
 *      and publishes a dealing: commitments A_ik = a_ik G, a Schnorr proof of
 *      knowledge of a_i0 (so nobody can publish a key it cannot use), and for
 *      every trustee j (itself included) s_ij = f_i(j) encrypted to j's
 *      ristretto255 key E_j: R_ij = k G, K = k E_j,
 *      key = H("veche/vote/v1/dkg-share-key", ctx, i, j, E_j, R_ij, K), and
 *      ChaCha20-Poly1305-IETF(key, nonce 0, ad = u64 i || u64 j, s_ij).
 *      (Each key encrypts exactly one message, so the fixed nonce is safe.)
 *   2. Check. Trustee j decrypts its s_ij and checks s_ij G == sum_k j^k A_ik.
 *   3. Complain. If the check fails, j publishes K = e_j R_ij with a DLEQ
 *      proof log_G E_j == log_R_ij K. Anyone can then derive the key, decrypt
 *      that one share and judge: the complaint is upheld iff the ciphertext
 *      does not open, the share is not a canonical scalar, or it fails the
 *      commitment check. A dealer cannot dodge (the share is what it
 *      published), a complainer cannot frame (K is proven), and an honest
 *      dealer's dismissed complaint only reveals one share to everybody.
 *   4. Finish (anyone, deterministic): dealer i is qualified iff its dealing
 *      verifies and no valid complaint against it is upheld. With QUAL the
 *      qualified dealers (at least t, else the DKG fails):
 *        Y   = sum_{i in QUAL} A_i0                      joint key
 *        X_j = sum_{i in QUAL} sum_k j^k A_ik            j's verification key
 *        x_j = sum_{i in QUAL} s_ij                      j's secret (only j)
 *      x = sum a_i0 is never computed by anyone.
 *
 * Known limit (documented): in Joint-Feldman a dishonest trustee that sees the
 * others' dealings first can bias the distribution of Y by getting its own
 * dealing disqualified or not; it cannot learn x or pick Y. See the docs.
 */
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "apps/voting/vcrypt_int.h"

#define DEALING_VERSION 1
#define COMPLAINT_VERSION 1
#define SHARE_PT_BYTES 32
#define SHARE_AEAD_BYTES (SHARE_PT_BYTES + crypto_aead_chacha20poly1305_ietf_ABYTES)
#define COMPLAINT_CTX_BYTES_MAX (16 + VOTE_CONTEXT_BYTES_MAX)

_Static_assert(VOTE_DKG_SHARE_CT_BYTES == 32 + SHARE_AEAD_BYTES, "share ciphertext layout");
_Static_assert(VOTE_TRUSTEES_MAX <= 64, "qualified set is a 64-bit mask");

static int params_check(const vote_dkg_params_t *p) {
  if (p->n < VOTE_TRUSTEES_MIN || p->n > VOTE_TRUSTEES_MAX) return VE_ERR_INVALID;
  if (p->t < 2 || p->t > p->n) return VE_ERR_INVALID;
  return VE_OK;
}

size_t vote_dkg_dealing_size(const vote_dkg_params_t *p) {
  if (params_check(p) != VE_OK) return 0;
  return 4 + 32 * (size_t)p->t + 64 + VOTE_DKG_SHARE_CT_BYTES * (size_t)p->n;
}

typedef struct {
  uint32_t dealer;
  const uint8_t *commits; /* t * 32 */
  const uint8_t *pok;     /* R || z */
  const uint8_t *shares;  /* n * 80 */
} dealing_view_t;

static int dealing_parse(dealing_view_t *v, const vote_dkg_params_t *p, const uint8_t *b,
                         size_t len) {
  VE_TRY(params_check(p));
  if (len > VOTE_DKG_DEALING_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(b, len));
  uint8_t version = codec_get_u8(&r);
  uint64_t dealer = codec_get_uvarint_max(&r, VOTE_TRUSTEES_MAX);
  uint64_t n = codec_get_uvarint_max(&r, VOTE_TRUSTEES_MAX);
  uint64_t t = codec_get_uvarint_max(&r, VOTE_TRUSTEES_MAX);
  if (r.err != 0) return r.err == VE_ERR_TOO_BIG ? VE_ERR_MALFORMED : r.err;
  if (version != DEALING_VERSION) return VE_ERR_VERSION;
  if (n != p->n || t != p->t || dealer == 0 || dealer > n) return VE_ERR_MALFORMED;
  size_t size = vote_dkg_dealing_size(p);
  if (len < size) return VE_ERR_MALFORMED;
  if (len > size) return VE_ERR_TRAILING;
  v->dealer = (uint32_t)dealer;
  v->commits = b + r.pos;
  v->pok = v->commits + 32 * (size_t)p->t;
  v->shares = v->pok + 64;
  return VE_OK;
}

static void pok_challenge(uint8_t c[32], const vote_dkg_params_t *p, uint32_t dealer,
                          const uint8_t *ctx, size_t ctx_len, const uint8_t *commits,
                          const uint8_t R[32]) {
  vote_tr_t t;
  vote_tr_init(&t, VOTE_TAG_DKG_POK);
  vote_tr_blob(&t, ctx, ctx_len);
  vote_tr_u64(&t, dealer);
  vote_tr_u64(&t, p->n);
  vote_tr_u64(&t, p->t);
  vote_tr_raw(&t, commits, 32 * (size_t)p->t);
  vote_tr_raw(&t, R, 32);
  vote_tr_challenge(&t, c);
}

static void share_key(uint8_t key[32], const uint8_t *ctx, size_t ctx_len, uint32_t dealer,
                      uint32_t recipient, const uint8_t E[32], const uint8_t R[32],
                      const uint8_t K[32]) {
  vote_tr_t t;
  vote_tr_init(&t, VOTE_TAG_DKG_KEY);
  vote_tr_blob(&t, ctx, ctx_len);
  vote_tr_u64(&t, dealer);
  vote_tr_u64(&t, recipient);
  vote_tr_raw(&t, E, 32);
  vote_tr_raw(&t, R, 32);
  vote_tr_raw(&t, K, 32);
  vote_tr_digest(&t, key);
  sodium_memzero(&t, sizeof t);
}

static void share_ad(uint8_t ad[16], uint32_t dealer, uint32_t recipient) {
  for (int i = 0; i < 8; i++) ad[i] = (uint8_t)((uint64_t)dealer >> (8 * i));
  for (int i = 0; i < 8; i++) ad[8 + i] = (uint8_t)((uint64_t)recipient >> (8 * i));
}

static const uint8_t ZERO_NONCE[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {0};

void vote_dkg_share_seal(uint8_t out[VOTE_DKG_SHARE_CT_BYTES], const uint8_t *ctx, size_t ctx_len,
                         uint32_t dealer, uint32_t recipient, const uint8_t E[32],
                         const uint8_t s[32], const uint8_t k[32]) {
  uint8_t K[32], key[32], ad[16];
  vote_sod_mul_base(out, k); /* R */
  vote_sod_mul(K, k, E);
  share_key(key, ctx, ctx_len, dealer, recipient, E, out, K);
  share_ad(ad, dealer, recipient);
  unsigned long long clen = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out + 32, &clen, s, 32, ad, sizeof ad, NULL,
                                            ZERO_NONCE, key);
  VE_ASSERT(clen == SHARE_AEAD_BYTES);
  sodium_memzero(K, sizeof K);
  sodium_memzero(key, sizeof key);
}

/* Opens a share given K; returns 0 and s, or VE_ERR_PROOF if it does not open
 * or is not canonical. */
static int share_unseal(uint8_t s[32], const uint8_t *ctx, size_t ctx_len, uint32_t dealer,
                        uint32_t recipient, const uint8_t E[32], const uint8_t *sealed,
                        const uint8_t K[32]) {
  uint8_t key[32], ad[16];
  share_key(key, ctx, ctx_len, dealer, recipient, E, sealed, K);
  share_ad(ad, dealer, recipient);
  unsigned long long mlen = 0;
  int rc = crypto_aead_chacha20poly1305_ietf_decrypt(s, &mlen, NULL, sealed + 32,
                                                     SHARE_AEAD_BYTES, ad, sizeof ad,
                                                     ZERO_NONCE, key);
  sodium_memzero(key, sizeof key);
  if (rc != 0 || mlen != 32) return VE_ERR_PROOF;
  if (!vote_sc_is_canonical(s)) return VE_ERR_PROOF;
  return VE_OK;
}

/* sum_k j^k A_k over decoded commitments. */
static int commit_eval(vote_ge_t *out, const vote_ge_t *A, uint32_t t, uint32_t j) {
  uint8_t pw[VOTE_TRUSTEES_MAX][32], js[32];
  vote_sc_from_u64(pw[0], 1);
  vote_sc_from_u64(js, j);
  for (uint32_t k = 1; k < t; k++) vote_sc_mul(pw[k], pw[k - 1], js);
  return vote_ge_msm_var(out, A, (const uint8_t(*)[32])pw, t, NULL, NULL, 0);
}

static int commits_decode(vote_ge_t *A, const dealing_view_t *v, uint32_t t) {
  VE_TRY(vote_point_decode(&A[0], v->commits, false));
  for (uint32_t k = 1; k < t; k++) VE_TRY(vote_point_decode(&A[k], v->commits + 32 * k, true));
  return VE_OK;
}

/* Does s (public or secret) match dealer's commitments at j? s*G is computed in
 * constant time; the comparison is on public values. */
static int share_matches(const uint8_t s[32], const vote_ge_t *A, uint32_t t, uint32_t j) {
  uint8_t sg[32];
  vote_ge_t p, want;
  vote_sod_mul_base(sg, s);
  VE_ASSERT(vote_ge_decode(&p, sg) == VE_OK);
  VE_TRY(commit_eval(&want, A, t, j));
  return vote_ge_eq(&p, &want) ? VE_OK : VE_ERR_PROOF;
}

int vote_dkg_deal(ve_buf_t *out, const vote_dkg_params_t *p, uint32_t dealer,
                  const uint8_t (*enc_pks)[VOTE_POINT_BYTES], const uint8_t *ctx, size_t ctx_len,
                  const uint8_t seed[VOTE_SEED_BYTES]) {
  VE_TRY(params_check(p));
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (dealer == 0 || dealer > p->n) return VE_ERR_INVALID;
  for (uint32_t j = 0; j < p->n; j++) VE_TRY(vote_pk_check(enc_pks[j]));
  size_t size = vote_dkg_dealing_size(p);
  uint8_t b[VOTE_DKG_DEALING_BYTES_MAX];
  uint8_t a[VOTE_TRUSTEES_MAX][32];
  b[0] = DEALING_VERSION;
  b[1] = (uint8_t)dealer; /* one-byte uvarints: all values < 128 */
  b[2] = (uint8_t)p->n;
  b[3] = (uint8_t)p->t;
  uint8_t *commits = b + 4, *pok = commits + 32 * (size_t)p->t, *shares = pok + 64;

  vote_rng_t rng;
  uint8_t bind[24];
  for (int i = 0; i < 8; i++) {
    bind[i] = (uint8_t)((uint64_t)dealer >> (8 * i));
    bind[8 + i] = (uint8_t)((uint64_t)p->n >> (8 * i));
    bind[16 + i] = (uint8_t)((uint64_t)p->t >> (8 * i));
  }
  {
    vote_tr_t t;
    uint8_t bd[32];
    vote_tr_init(&t, VOTE_TAG_DKG_COEF);
    vote_tr_blob(&t, ctx, ctx_len);
    vote_tr_raw(&t, bind, sizeof bind);
    vote_tr_raw(&t, (const uint8_t *)enc_pks, 32 * (size_t)p->n);
    vote_tr_digest(&t, bd);
    vote_rng_init(&rng, VOTE_TAG_DKG_COEF, seed, bd, sizeof bd);
  }
  for (uint32_t k = 0; k < p->t; k++) {
    vote_rng_scalar(&rng, a[k]);
    vote_sod_mul_base(commits + 32 * k, a[k]);
  }
  /* Schnorr proof of knowledge of a_0: R = wG, z = w + c a_0. */
  uint8_t w[32], c[32], tmp[32];
  vote_rng_scalar(&rng, w);
  vote_sod_mul_base(pok, w);
  pok_challenge(c, p, dealer, ctx, ctx_len, commits, pok);
  vote_sc_mul(tmp, c, a[0]);
  vote_sc_add(pok + 32, w, tmp);
  /* Shares f(j) by Horner's rule, each sealed to E_j. */
  for (uint32_t j = 1; j <= p->n; j++) {
    uint8_t s[32], js[32], kn[32];
    vote_sc_from_u64(js, j);
    memcpy(s, a[p->t - 1], 32);
    for (uint32_t k = p->t - 1; k-- > 0;) {
      vote_sc_mul(s, s, js);
      vote_sc_add(s, s, a[k]);
    }
    vote_rng_scalar(&rng, kn);
    vote_dkg_share_seal(shares + VOTE_DKG_SHARE_CT_BYTES * (j - 1), ctx, ctx_len, dealer, j,
                        enc_pks[j - 1], s, kn);
    sodium_memzero(s, sizeof s);
    sodium_memzero(kn, sizeof kn);
  }
  sodium_memzero(a, sizeof a);
  sodium_memzero(w, sizeof w);
  sodium_memzero(tmp, sizeof tmp);
  vote_rng_wipe(&rng);
  return ve_buf_append(out, b, size);
}

int vote_dkg_dealing_verify(const vote_dkg_params_t *p, uint32_t dealer, const uint8_t *ctx,
                            size_t ctx_len, const uint8_t *dealing, size_t dealing_len) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  dealing_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(dealing_parse(&v, p, dealing, dealing_len));
  if (v.dealer != dealer) return VE_ERR_MALFORMED;
  vote_ge_t A[VOTE_TRUSTEES_MAX], R;
  VE_TRY(commits_decode(A, &v, p->t));
  VE_TRY(vote_point_decode(&R, v.pok, true));
  if (!vote_sc_is_canonical(v.pok + 32)) return VE_ERR_NONCANONICAL;
  for (uint32_t j = 0; j < p->n; j++) {
    vote_ge_t rj;
    VE_TRY(vote_point_decode(&rj, v.shares + VOTE_DKG_SHARE_CT_BYTES * j, false));
  }
  /* R + c A_0 - z G == 0 */
  uint8_t c[32], sc[3][32];
  pok_challenge(c, p, dealer, ctx, ctx_len, v.commits, v.pok);
  vote_ge_t pts[3];
  pts[0] = R;
  pts[1] = A[0];
  vote_ge_base(&pts[2]);
  vote_sc_from_u64(sc[0], 1);
  memcpy(sc[1], c, 32);
  vote_sc_neg(sc[2], v.pok + 32);
  vote_ge_t sum;
  VE_TRY(vote_ge_msm_var(&sum, pts, (const uint8_t(*)[32])sc, 3, NULL, NULL, 0));
  return vote_ge_is_identity(&sum) ? VE_OK : VE_ERR_PROOF;
}

int vote_dkg_share_open(uint8_t share[VOTE_SCALAR_BYTES], const vote_dkg_params_t *p,
                        uint32_t dealer, uint32_t recipient, const vote_keypair_t *enc,
                        const uint8_t *ctx, size_t ctx_len, const uint8_t *dealing,
                        size_t dealing_len) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  dealing_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(dealing_parse(&v, p, dealing, dealing_len));
  if (v.dealer != dealer || recipient == 0 || recipient > p->n) return VE_ERR_INVALID;
  vote_ge_t A[VOTE_TRUSTEES_MAX], rj;
  VE_TRY(commits_decode(A, &v, p->t));
  const uint8_t *sealed = v.shares + VOTE_DKG_SHARE_CT_BYTES * (recipient - 1);
  VE_TRY(vote_point_decode(&rj, sealed, false));
  uint8_t K[32];
  vote_sod_mul(K, enc->sk, sealed);
  int rc = share_unseal(share, ctx, ctx_len, dealer, recipient, enc->pk, sealed, K);
  sodium_memzero(K, sizeof K);
  if (rc == VE_OK) rc = share_matches(share, A, p->t, recipient);
  if (rc != VE_OK) sodium_memzero(share, 32);
  return rc;
}

/* u64 dealer || u64 recipient || ctx */
static size_t complaint_ctx(uint8_t *out, uint32_t dealer, uint32_t recipient,
                            const uint8_t *ctx, size_t ctx_len) {
  share_ad(out, dealer, recipient);
  if (ctx_len > 0) memcpy(out + 16, ctx, ctx_len);
  return 16 + ctx_len;
}

int vote_dkg_complain(ve_buf_t *out, const vote_dkg_params_t *p, uint32_t dealer,
                      uint32_t recipient, const vote_keypair_t *enc, const uint8_t *ctx,
                      size_t ctx_len, const uint8_t *dealing, size_t dealing_len,
                      const uint8_t seed[VOTE_SEED_BYTES]) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  dealing_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(dealing_parse(&v, p, dealing, dealing_len));
  if (v.dealer != dealer || recipient == 0 || recipient > p->n) return VE_ERR_INVALID;
  const uint8_t *sealed = v.shares + VOTE_DKG_SHARE_CT_BYTES * (recipient - 1);
  vote_ge_t rj;
  VE_TRY(vote_point_decode(&rj, sealed, false));
  uint8_t c[VOTE_DKG_COMPLAINT_BYTES], cctx[COMPLAINT_CTX_BYTES_MAX];
  c[0] = COMPLAINT_VERSION;
  c[1] = (uint8_t)dealer;
  c[2] = (uint8_t)recipient;
  vote_sod_mul(c + 3, enc->sk, sealed); /* K = e_j R_ij */
  size_t n = complaint_ctx(cctx, dealer, recipient, ctx, ctx_len);
  vote_rng_t rng;
  vote_rng_init(&rng, VOTE_TAG_DKG_COMPLAINT_RNG, seed, cctx, n);
  vote_dleq_prove(c + 35, VOTE_TAG_DKG_COMPLAINT, cctx, n, enc->sk, enc->pk, sealed, c + 3, &rng);
  vote_rng_wipe(&rng);
  return ve_buf_append(out, c, sizeof c);
}

static int complaint_parse(uint32_t *dealer, uint32_t *recipient, const vote_dkg_params_t *p,
                           const uint8_t *c, size_t len) {
  if (len != VOTE_DKG_COMPLAINT_BYTES) return len < VOTE_DKG_COMPLAINT_BYTES ? VE_ERR_MALFORMED
                                                                           : VE_ERR_TRAILING;
  if (c[0] != COMPLAINT_VERSION) return VE_ERR_VERSION;
  if (c[1] == 0 || c[1] > p->n || c[2] == 0 || c[2] > p->n) return VE_ERR_MALFORMED;
  *dealer = c[1];
  *recipient = c[2];
  return VE_OK;
}

int vote_dkg_complaint_check(bool *upheld, const vote_dkg_params_t *p,
                             const uint8_t (*enc_pks)[VOTE_POINT_BYTES], const uint8_t *ctx,
                             size_t ctx_len, const uint8_t *dealing, size_t dealing_len,
                             const uint8_t *complaint, size_t complaint_len) {
  *upheld = false;
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  VE_TRY(params_check(p));
  uint32_t dealer, recipient;
  VE_TRY(complaint_parse(&dealer, &recipient, p, complaint, complaint_len));
  dealing_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(dealing_parse(&v, p, dealing, dealing_len));
  if (v.dealer != dealer) return VE_ERR_INVALID;
  const uint8_t *sealed = v.shares + VOTE_DKG_SHARE_CT_BYTES * (recipient - 1);
  const uint8_t *E = enc_pks[recipient - 1];
  vote_ge_t rj;
  VE_TRY(vote_point_decode(&rj, sealed, false));
  uint8_t cctx[COMPLAINT_CTX_BYTES_MAX];
  size_t n = complaint_ctx(cctx, dealer, recipient, ctx, ctx_len);
  VE_TRY(vote_dleq_verify(VOTE_TAG_DKG_COMPLAINT, cctx, n, E, sealed, complaint + 3,
                          complaint + 35));
  /* K is proven: open the share publicly and judge the dealer. */
  uint8_t s[32];
  vote_ge_t A[VOTE_TRUSTEES_MAX];
  VE_TRY(commits_decode(A, &v, p->t));
  int rc = share_unseal(s, ctx, ctx_len, dealer, recipient, E, sealed, complaint + 3);
  if (rc == VE_OK) {
    rc = share_matches(s, A, p->t, recipient);
    if (rc != VE_OK && rc != VE_ERR_PROOF) return rc;
  }
  *upheld = rc != VE_OK;
  return VE_OK;
}

int vote_dkg_finish(vote_dkg_result_t *res, const vote_dkg_params_t *p,
                    const uint8_t (*enc_pks)[VOTE_POINT_BYTES], const uint8_t *ctx,
                    size_t ctx_len, const ve_slice_t *dealings, const ve_slice_t *complaints,
                    size_t complaints_count) {
  memset(res, 0, sizeof *res);
  VE_TRY(params_check(p));
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  uint64_t qual = 0;
  for (uint32_t i = 1; i <= p->n; i++) {
    const ve_slice_t *d = &dealings[i - 1];
    if (d->len == 0) continue;
    if (vote_dkg_dealing_verify(p, i, ctx, ctx_len, d->ptr, d->len) == VE_OK) {
      qual |= UINT64_C(1) << (i - 1);
    }
  }
  for (size_t c = 0; c < complaints_count; c++) {
    uint32_t dealer, recipient;
    if (complaint_parse(&dealer, &recipient, p, complaints[c].ptr, complaints[c].len) != VE_OK) {
      continue; /* malformed complaints are ignored */
    }
    if (!(qual & (UINT64_C(1) << (dealer - 1)))) continue;
    const ve_slice_t *d = &dealings[dealer - 1];
    bool upheld = false;
    if (vote_dkg_complaint_check(&upheld, p, enc_pks, ctx, ctx_len, d->ptr, d->len,
                                 complaints[c].ptr, complaints[c].len) == VE_OK &&
        upheld) {
      qual &= ~(UINT64_C(1) << (dealer - 1));
    }
  }
  uint32_t count = 0;
  for (uint32_t i = 0; i < p->n; i++) count += (uint32_t)((qual >> i) & 1);
  if (count < p->t) return VE_ERR_QUORUM;
  /* Aggregate commitments over QUAL, then evaluate at 0 and at each j. */
  vote_ge_t agg[VOTE_TRUSTEES_MAX];
  for (uint32_t k = 0; k < p->t; k++) vote_ge_identity(&agg[k]);
  for (uint32_t i = 1; i <= p->n; i++) {
    if (!(qual & (UINT64_C(1) << (i - 1)))) continue;
    dealing_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
    vote_ge_t A[VOTE_TRUSTEES_MAX];
    VE_TRY(dealing_parse(&v, p, dealings[i - 1].ptr, dealings[i - 1].len));
    VE_TRY(commits_decode(A, &v, p->t));
    for (uint32_t k = 0; k < p->t; k++) vote_ge_add(&agg[k], &agg[k], &A[k]);
  }
  if (vote_ge_is_identity(&agg[0])) return VE_ERR_CRYPTO; /* only by collusion on a_i0 */
  vote_ge_encode(res->pk, &agg[0]);
  for (uint32_t j = 1; j <= p->n; j++) {
    vote_ge_t x;
    VE_TRY(commit_eval(&x, agg, p->t, j));
    vote_ge_encode(res->vk[j - 1], &x);
  }
  res->n = p->n;
  res->t = p->t;
  res->qualified = qual;
  return VE_OK;
}

int vote_dkg_secret_share(uint8_t x[VOTE_SCALAR_BYTES], const vote_dkg_result_t *res,
                          uint32_t recipient, const vote_keypair_t *enc, const uint8_t *ctx,
                          size_t ctx_len, const ve_slice_t *dealings) {
  vote_dkg_params_t p = {res->n, res->t};
  VE_TRY(params_check(&p));
  if (recipient == 0 || recipient > p.n) return VE_ERR_INVALID;
  uint8_t acc[32] = {0}, s[32];
  for (uint32_t i = 1; i <= p.n; i++) {
    if (!(res->qualified & (UINT64_C(1) << (i - 1)))) continue;
    int rc = vote_dkg_share_open(s, &p, i, recipient, enc, ctx, ctx_len, dealings[i - 1].ptr,
                                 dealings[i - 1].len);
    if (rc != VE_OK) {
      sodium_memzero(acc, sizeof acc);
      return rc == VE_ERR_PROOF ? VE_ERR_PROOF : rc;
    }
    vote_sc_add(acc, acc, s);
  }
  sodium_memzero(s, sizeof s);
  uint8_t X[32];
  vote_sod_mul_base(X, acc);
  if (memcmp(X, res->vk[recipient - 1], 32) != 0) {
    sodium_memzero(acc, sizeof acc);
    return VE_ERR_PROOF;
  }
  memcpy(x, acc, 32);
  sodium_memzero(acc, sizeof acc);
  return VE_OK;
}
