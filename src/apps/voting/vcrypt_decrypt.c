/* vcrypt_decrypt.c — threshold decryption of tallies.
 *
 * Trustee j holds x_j = F(j) for the joint polynomial F with F(0) = x (the
 * election secret nobody holds) and publishes X_j = x_j G (from the DKG).
 * For a ciphertext (C1, C2) it publishes D_j = x_j C1 with a DLEQ proof
 * log_G X_j == log_C1 D_j whose context is u64 j || ctx, so a partial cannot
 * be replayed under another trustee index or poll. Any t valid partials give
 *   x C1 = sum_j lambda_j D_j,  lambda_j = prod_{m != j} m / (m - j)  (mod L)
 * and M = C2 - x C1 = mG. Fewer than t partials carry no information on x C1.
 * Partials from another set of t trustees give the same M.
 */
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "apps/voting/vcrypt_int.h"

#define DECSHARE_VERSION 1
#define PARTIAL_CTX_BYTES_MAX (8 + VOTE_CONTEXT_BYTES_MAX + 4)

/* u64 trustee || ctx [|| u32 option] */
static size_t partial_ctx(uint8_t *out, uint32_t trustee, const uint8_t *ctx, size_t ctx_len,
                          bool with_option, uint32_t option) {
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)trustee >> (8 * i));
  if (ctx_len > 0) memcpy(out + 8, ctx, ctx_len);
  size_t n = 8 + ctx_len;
  if (with_option) {
    for (int i = 0; i < 4; i++) out[n + i] = (uint8_t)(option >> (8 * i));
    n += 4;
  }
  return n;
}

static int partial_make(uint8_t d[32], uint8_t proof[VOTE_DLEQ_PROOF_BYTES], const uint8_t x[32],
                        const uint8_t *pctx, size_t pctx_len, const uint8_t c1[32],
                        const uint8_t seed[VOTE_SEED_BYTES]) {
  vote_ge_t p;
  VE_TRY(vote_point_decode(&p, c1, true));
  uint8_t X[32];
  vote_sod_mul_base(X, x);
  vote_sod_mul(d, x, c1);
  vote_rng_t rng;
  uint8_t bind[32];
  vote_tr_t t;
  vote_tr_init(&t, VOTE_TAG_PARTIAL_RNG);
  vote_tr_blob(&t, pctx, pctx_len);
  vote_tr_raw(&t, c1, 32);
  vote_tr_digest(&t, bind);
  vote_rng_init(&rng, VOTE_TAG_PARTIAL_RNG, seed, bind, sizeof bind);
  vote_dleq_prove(proof, VOTE_TAG_PARTIAL, pctx, pctx_len, x, X, c1, d, &rng);
  vote_rng_wipe(&rng);
  return VE_OK;
}

int vote_partial_decrypt(uint8_t d[VOTE_POINT_BYTES], uint8_t proof[VOTE_DLEQ_PROOF_BYTES],
                         const uint8_t x[VOTE_SCALAR_BYTES], uint32_t trustee,
                         const uint8_t c1[VOTE_POINT_BYTES], const uint8_t *ctx, size_t ctx_len,
                         const uint8_t seed[VOTE_SEED_BYTES]) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (!vote_sc_is_canonical(x) || vote_sc_is_zero(x)) return VE_ERR_INVALID;
  uint8_t pctx[PARTIAL_CTX_BYTES_MAX];
  size_t n = partial_ctx(pctx, trustee, ctx, ctx_len, false, 0);
  return partial_make(d, proof, x, pctx, n, c1, seed);
}

int vote_partial_verify(const uint8_t vk[VOTE_POINT_BYTES], uint32_t trustee,
                        const uint8_t c1[VOTE_POINT_BYTES], const uint8_t d[VOTE_POINT_BYTES],
                        const uint8_t proof[VOTE_DLEQ_PROOF_BYTES], const uint8_t *ctx,
                        size_t ctx_len) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  uint8_t pctx[PARTIAL_CTX_BYTES_MAX];
  size_t n = partial_ctx(pctx, trustee, ctx, ctx_len, false, 0);
  return vote_dleq_verify(VOTE_TAG_PARTIAL, pctx, n, vk, c1, d, proof);
}

/* lambda_j for the index set S (size t), evaluated at 0. */
static void lagrange(uint8_t lam[32], uint32_t j, const uint32_t *S, size_t t) {
  uint8_t num[32], den[32], a[32], b[32], inv[32];
  vote_sc_from_u64(num, 1);
  vote_sc_from_u64(den, 1);
  vote_sc_from_u64(b, j);
  for (size_t i = 0; i < t; i++) {
    if (S[i] == j) continue;
    vote_sc_from_u64(a, S[i]);
    vote_sc_mul(num, num, a);
    vote_sc_sub(a, a, b); /* m - j, non-zero since indices are distinct */
    vote_sc_mul(den, den, a);
  }
  int rc = crypto_core_ristretto255_scalar_invert(inv, den);
  VE_ASSERT(rc == 0);
  vote_sc_mul(lam, num, inv);
}

static int check_indices(const uint32_t *trustees, size_t t) {
  for (size_t i = 0; i < t; i++) {
    if (trustees[i] == 0 || trustees[i] > VOTE_TRUSTEES_MAX) return VE_ERR_INVALID;
    for (size_t k = 0; k < i; k++) {
      if (trustees[k] == trustees[i]) return VE_ERR_DUPLICATE;
    }
  }
  return VE_OK;
}

/* M = C2 - sum lambda_j D_j over the first t entries, into a decoded point. */
static int combine_pt(vote_ge_t *m, uint32_t t, const uint32_t *trustees,
                      const uint8_t (*d)[32], const uint8_t ct[VOTE_CT_BYTES]) {
  vote_ge_t pts[VOTE_TRUSTEES_MAX], c2, sum;
  uint8_t lam[VOTE_TRUSTEES_MAX][32];
  VE_TRY(vote_point_decode(&c2, ct + 32, true));
  for (uint32_t i = 0; i < t; i++) {
    VE_TRY(vote_point_decode(&pts[i], d[i], true));
    lagrange(lam[i], trustees[i], trustees, t);
  }
  VE_TRY(vote_ge_msm_var(&sum, pts, (const uint8_t(*)[32])lam, t, NULL, NULL, 0));
  vote_ge_sub(m, &c2, &sum);
  return VE_OK;
}

int vote_combine(uint8_t m_point[VOTE_POINT_BYTES], uint32_t t, const uint32_t *trustees,
                 const uint8_t (*d)[VOTE_POINT_BYTES], size_t count,
                 const uint8_t ct[VOTE_CT_BYTES]) {
  if (t < 1 || t > VOTE_TRUSTEES_MAX) return VE_ERR_INVALID;
  if (count < t) return VE_ERR_QUORUM;
  VE_TRY(check_indices(trustees, t));
  vote_ge_t m;
  VE_TRY(combine_pt(&m, t, trustees, d, ct));
  vote_ge_encode(m_point, &m);
  return VE_OK;
}

/* ---- decryption shares for a whole tally ---- */

/* Trustee indices and option counts fit one uvarint byte each. */
_Static_assert(VOTE_TRUSTEES_MAX < 128 && VOTE_OPTIONS_MAX < 128, "one-byte uvarints");

static size_t decshare_size(uint32_t trustee, uint32_t options) {
  return 1 + codec_uvarint_size(trustee) + codec_uvarint_size(options) +
         (size_t)options * VOTE_PARTIAL_BYTES;
}

size_t vote_decshare_size(uint32_t options) {
  if (options == 0 || options > VOTE_OPTIONS_MAX) return 0;
  return decshare_size(1, options);
}

typedef struct {
  uint32_t trustee, options;
  const uint8_t *parts; /* options * (D || proof) */
} decshare_view_t;

static int decshare_parse(decshare_view_t *v, const uint8_t *b, size_t len) {
  if (len > VOTE_DECSHARE_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(b, len));
  uint8_t version = codec_get_u8(&r);
  uint64_t trustee = codec_get_uvarint_max(&r, VOTE_TRUSTEES_MAX);
  uint64_t options = codec_get_uvarint_max(&r, VOTE_OPTIONS_MAX);
  if (r.err != 0) return r.err == VE_ERR_TOO_BIG ? VE_ERR_MALFORMED : r.err;
  if (version != DECSHARE_VERSION) return VE_ERR_VERSION;
  if (trustee == 0 || options == 0) return VE_ERR_MALFORMED;
  size_t size = decshare_size((uint32_t)trustee, (uint32_t)options);
  if (len < size) return VE_ERR_MALFORMED;
  if (len > size) return VE_ERR_TRAILING;
  v->trustee = (uint32_t)trustee;
  v->options = (uint32_t)options;
  v->parts = b + r.pos;
  return VE_OK;
}

int vote_decshare_trustee(const uint8_t *share, size_t share_len, uint32_t *trustee) {
  decshare_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(decshare_parse(&v, share, share_len));
  *trustee = v.trustee;
  return VE_OK;
}

int vote_decshare_create(ve_buf_t *out, uint32_t trustee, const uint8_t x[VOTE_SCALAR_BYTES],
                         const uint8_t *tally_cts, uint32_t options, const uint8_t *ctx,
                         size_t ctx_len, const uint8_t seed[VOTE_SEED_BYTES]) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (trustee == 0 || trustee > VOTE_TRUSTEES_MAX) return VE_ERR_INVALID;
  if (options == 0 || options > VOTE_OPTIONS_MAX) return VE_ERR_INVALID;
  if (!vote_sc_is_canonical(x) || vote_sc_is_zero(x)) return VE_ERR_INVALID;
  size_t start = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, DECSHARE_VERSION);
  codec_put_uvarint(&w, trustee);
  codec_put_uvarint(&w, options);
  int rc = codec_writer_finish(&w);
  if (rc == VE_OK) rc = ve_buf_reserve(out, (size_t)options * VOTE_PARTIAL_BYTES);
  uint8_t pctx[PARTIAL_CTX_BYTES_MAX];
  for (uint32_t o = 0; o < options && rc == VE_OK; o++) {
    uint8_t part[VOTE_PARTIAL_BYTES];
    size_t n = partial_ctx(pctx, trustee, ctx, ctx_len, true, o);
    rc = partial_make(part, part + 32, x, pctx, n, tally_cts + 64 * o, seed);
    if (rc == VE_OK) rc = ve_buf_append(out, part, sizeof part);
  }
  if (rc != VE_OK) out->len = start; /* nothing half-written */
  return rc;
}

int vote_decshare_verify(const uint8_t vk[VOTE_POINT_BYTES], uint32_t trustee,
                         const uint8_t *tally_cts, uint32_t options, const uint8_t *ctx,
                         size_t ctx_len, const uint8_t *share, size_t share_len) {
  if (ctx_len > VOTE_CONTEXT_BYTES_MAX) return VE_ERR_TOO_BIG;
  decshare_view_t v = {0}; /* zeroed: gcc -O3 cannot see the decoder fills it before use */
  VE_TRY(decshare_parse(&v, share, share_len));
  if (v.trustee != trustee || v.options != options) return VE_ERR_MALFORMED;
  uint8_t pctx[PARTIAL_CTX_BYTES_MAX];
  for (uint32_t o = 0; o < options; o++) {
    const uint8_t *part = v.parts + (size_t)o * VOTE_PARTIAL_BYTES;
    size_t n = partial_ctx(pctx, trustee, ctx, ctx_len, true, o);
    VE_TRY(vote_dleq_verify(VOTE_TAG_PARTIAL, pctx, n, vk, tally_cts + 64 * o, part, part + 32));
  }
  return VE_OK;
}

/* Gathers the first t shares' trustee indices and views. */
static int shares_gather(decshare_view_t *views, uint32_t *idx, uint32_t t,
                         const ve_slice_t *shares, size_t count, uint32_t options) {
  if (t < 1 || t > VOTE_TRUSTEES_MAX) return VE_ERR_INVALID;
  if (count < t) return VE_ERR_QUORUM;
  for (uint32_t i = 0; i < t; i++) {
    VE_TRY(decshare_parse(&views[i], shares[i].ptr, shares[i].len));
    if (views[i].options != options) return VE_ERR_MALFORMED;
    idx[i] = views[i].trustee;
  }
  return check_indices(idx, t);
}

static int option_point(vote_ge_t *m, const decshare_view_t *views, const uint32_t *idx,
                        uint32_t t, const uint8_t *tally_cts, uint32_t o) {
  uint8_t d[VOTE_TRUSTEES_MAX][32];
  for (uint32_t i = 0; i < t; i++) memcpy(d[i], views[i].parts + (size_t)o * VOTE_PARTIAL_BYTES, 32);
  return combine_pt(m, t, idx, (const uint8_t(*)[32])d, tally_cts + 64 * o);
}

int vote_tally_decrypt(uint64_t *counts, const vote_dlog_table_t *tab, uint32_t t,
                       const ve_slice_t *shares, size_t shares_count, const uint8_t *tally_cts,
                       uint32_t options) {
  decshare_view_t views[VOTE_TRUSTEES_MAX];
  uint32_t idx[VOTE_TRUSTEES_MAX];
  VE_TRY(shares_gather(views, idx, t, shares, shares_count, options));
  for (uint32_t o = 0; o < options; o++) {
    vote_ge_t m;
    uint8_t enc[32];
    VE_TRY(option_point(&m, views, idx, t, tally_cts, o));
    vote_ge_encode(enc, &m);
    VE_TRY(vote_dlog(tab, enc, &counts[o]));
  }
  return VE_OK;
}

int vote_result_verify(const uint64_t *counts, uint32_t t, const ve_slice_t *shares,
                       size_t shares_count, const uint8_t *tally_cts, uint32_t options) {
  decshare_view_t views[VOTE_TRUSTEES_MAX];
  uint32_t idx[VOTE_TRUSTEES_MAX];
  VE_TRY(shares_gather(views, idx, t, shares, shares_count, options));
  vote_ge_t g;
  vote_ge_base(&g);
  for (uint32_t o = 0; o < options; o++) {
    vote_ge_t m, want;
    uint8_t s[32];
    VE_TRY(option_point(&m, views, idx, t, tally_cts, o));
    if (counts[o] > VOTE_DLOG_MAX) return VE_ERR_PROOF;
    vote_sc_from_u64(s, counts[o]);
    vote_ge_scalarmult_var(&want, &g, s);
    if (!vote_ge_eq(&m, &want)) return VE_ERR_PROOF;
  }
  return VE_OK;
}
