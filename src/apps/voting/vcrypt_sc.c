/* vcrypt_sc.c — scalars, transcripts, derived randomness, batch weights, the
 * constant-time wrappers over libsodium and the batched-equation accumulator.
 *
 * Everything that turns bytes into challenges or nonces lives here, so the
 * tags and encodings documented in docs/voting-crypto.md have one home.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "apps/voting/vcrypt_int.h"

/* L = 2^252 + 27742317777372353535851937790883648493, little endian. */
static const uint8_t SC_L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

bool vote_sc_is_canonical(const uint8_t s[32]) {
  for (int i = 31; i >= 0; i--) {
    if (s[i] < SC_L[i]) return true;
    if (s[i] > SC_L[i]) return false;
  }
  return false; /* equal to L */
}

bool vote_scalar_is_canonical(const uint8_t s[VOTE_SCALAR_BYTES]) {
  return vote_sc_is_canonical(s);
}

bool vote_sc_is_zero(const uint8_t s[32]) { return sodium_is_zero(s, 32) == 1; }

void vote_sc_from_u64(uint8_t s[32], uint64_t v) {
  memset(s, 0, 32);
  for (int i = 0; i < 8; i++) s[i] = (uint8_t)(v >> (8 * i));
}

void vote_sc_add(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]) {
  crypto_core_ristretto255_scalar_add(z, x, y);
}

void vote_sc_sub(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]) {
  crypto_core_ristretto255_scalar_sub(z, x, y);
}

void vote_sc_mul(uint8_t z[32], const uint8_t x[32], const uint8_t y[32]) {
  crypto_core_ristretto255_scalar_mul(z, x, y);
}

void vote_sc_neg(uint8_t z[32], const uint8_t x[32]) {
  crypto_core_ristretto255_scalar_negate(z, x);
}

/* ---- transcripts ---- */

void vote_tr_init(vote_tr_t *t, const char *tag) {
  size_t tl = strlen(tag);
  VE_ASSERT(tl > 0 && tl <= 255);
  crypto_generichash_init(&t->st, NULL, 0, crypto_generichash_BYTES_MAX);
  uint8_t l = (uint8_t)tl;
  crypto_generichash_update(&t->st, &l, 1);
  crypto_generichash_update(&t->st, (const uint8_t *)tag, tl);
}

void vote_tr_u64(vote_tr_t *t, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  crypto_generichash_update(&t->st, b, 8);
}

void vote_tr_raw(vote_tr_t *t, const uint8_t *p, size_t n) {
  if (n > 0) crypto_generichash_update(&t->st, p, n);
}

void vote_tr_blob(vote_tr_t *t, const uint8_t *p, size_t n) {
  vote_tr_u64(t, n);
  vote_tr_raw(t, p, n);
}

void vote_tr_challenge(vote_tr_t *t, uint8_t c[32]) {
  uint8_t h[64];
  crypto_generichash_final(&t->st, h, sizeof h);
  crypto_core_ristretto255_scalar_reduce(c, h);
  sodium_memzero(h, sizeof h);
}

void vote_tr_digest(vote_tr_t *t, uint8_t out[32]) {
  uint8_t h[64];
  crypto_generichash_final(&t->st, h, sizeof h);
  memcpy(out, h, 32);
  sodium_memzero(h, sizeof h);
}

/* ---- prover randomness ---- */

void vote_rng_init(vote_rng_t *r, const char *tag, const uint8_t seed[VOTE_SEED_BYTES],
                   const uint8_t *bind, size_t bind_len) {
  vote_tr_t t;
  vote_tr_init(&t, tag);
  vote_tr_raw(&t, seed, VOTE_SEED_BYTES);
  vote_tr_blob(&t, bind, bind_len);
  vote_tr_digest(&t, r->key);
  sodium_memzero(&t, sizeof t);
  r->ctr = 0;
}

void vote_rng_scalar(vote_rng_t *r, uint8_t s[32]) {
  uint8_t h[64], in[8];
  do {
    for (int i = 0; i < 8; i++) in[i] = (uint8_t)(r->ctr >> (8 * i));
    r->ctr++;
    crypto_generichash(h, sizeof h, in, sizeof in, r->key, sizeof r->key);
    crypto_core_ristretto255_scalar_reduce(s, h);
  } while (vote_sc_is_zero(s)); /* probability 2^-252 per draw */
  sodium_memzero(h, sizeof h);
}

void vote_rng_wipe(vote_rng_t *r) { sodium_memzero(r, sizeof *r); }

/* ---- batch weights ---- */

void vote_weights_init(vote_weights_t *w, const uint8_t key[32]) {
  memcpy(w->key, key, 32);
  w->block = 0;
  w->pos = sizeof w->buf;
}

void vote_weights_next(vote_weights_t *w, uint8_t rho[32]) {
  if (w->pos == sizeof w->buf) {
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    memset(w->buf, 0, sizeof w->buf);
    VE_ASSERT(w->block < UINT32_MAX);
    crypto_stream_chacha20_ietf_xor_ic(w->buf, w->buf, sizeof w->buf, nonce,
                                       (uint32_t)w->block, w->key);
    w->block++;
    w->pos = 0;
  }
  memset(rho, 0, 32);
  memcpy(rho, w->buf + w->pos, 16);
  rho[15] |= 0x80; /* never zero: weights lie in [2^127, 2^128) */
  w->pos += 16;
}

/* ---- constant-time wrappers (libsodium) ---- */

void vote_sod_mul(uint8_t q[32], const uint8_t s[32], const uint8_t p[32]) {
  memset(q, 0xff, 32);
  int rc = crypto_scalarmult_ristretto255(q, s, p);
  /* rc != 0 only for an identity result (q zeroed) or an invalid p (q left
   * as 0xff): the latter is a programmer error. No branch on rc itself. */
  VE_ASSERT((rc == 0) | sodium_is_zero(q, 32));
}

void vote_sod_mul_base(uint8_t q[32], const uint8_t s[32]) {
  int rc = crypto_scalarmult_ristretto255_base(q, s);
  (void)rc; /* -1 only for an identity result, which is encoded as zeros */
}

void vote_sod_add(uint8_t r[32], const uint8_t p[32], const uint8_t q[32]) {
  int rc = crypto_core_ristretto255_add(r, p, q);
  VE_ASSERT(rc == 0);
}

void vote_sod_sub(uint8_t r[32], const uint8_t p[32], const uint8_t q[32]) {
  int rc = crypto_core_ristretto255_sub(r, p, q);
  VE_ASSERT(rc == 0);
}

int vote_point_decode(vote_ge_t *p, const uint8_t s[32], bool allow_identity) {
  VE_TRY(vote_ge_decode(p, s));
  if (!allow_identity && vote_ge_is_identity(p)) return VE_ERR_MALFORMED;
  return VE_OK;
}

/* ---- batched equations ---- */

int vote_eq_init(vote_eq_t *e, size_t cap, const vote_ge_table_t *g_tab,
                 const vote_ge_table_t *y_tab) {
  memset(e, 0, sizeof *e);
  VE_ASSERT(cap > 0 && cap <= VOTE_MSM_TERMS_MAX);
  e->pts = malloc(cap * sizeof *e->pts);
  e->sc = malloc(cap * sizeof *e->sc);
  if (e->pts == NULL || e->sc == NULL) {
    vote_eq_free(e);
    return VE_ERR_NOMEM;
  }
  e->cap = cap;
  e->g_tab = g_tab;
  e->y_tab = y_tab;
  return VE_OK;
}

void vote_eq_free(vote_eq_t *e) {
  free(e->pts);
  free(e->sc);
  e->pts = NULL;
  e->sc = NULL;
  e->n = e->cap = 0;
}

size_t vote_eq_term(vote_eq_t *e, const vote_ge_t *p, const uint8_t s[32]) {
  VE_ASSERT(e->n < e->cap);
  e->pts[e->n] = *p;
  memcpy(e->sc[e->n], s, 32);
  return e->n++;
}

void vote_eq_add_to(vote_eq_t *e, size_t idx, const uint8_t s[32]) {
  VE_ASSERT(idx < e->n);
  vote_sc_add(e->sc[idx], e->sc[idx], s);
}

void vote_eq_add_g(vote_eq_t *e, const uint8_t s[32]) { vote_sc_add(e->g_sc, e->g_sc, s); }

void vote_eq_add_y(vote_eq_t *e, const uint8_t s[32]) {
  VE_ASSERT(e->y_tab != NULL);
  vote_sc_add(e->y_sc, e->y_sc, s);
}

int vote_eq_check_var(vote_eq_t *e) {
  const vote_ge_table_t *tabs[2];
  uint8_t tsc[2][32];
  size_t nt = 0;
  if (e->g_tab != NULL) {
    tabs[nt] = e->g_tab;
    memcpy(tsc[nt++], e->g_sc, 32);
  } else if (!vote_sc_is_zero(e->g_sc)) {
    vote_ge_t g;
    vote_ge_base(&g);
    (void)vote_eq_term(e, &g, e->g_sc);
  }
  if (e->y_tab != NULL) {
    tabs[nt] = e->y_tab;
    memcpy(tsc[nt++], e->y_sc, 32);
  }
  vote_ge_t sum;
  VE_TRY(vote_ge_msm_var(&sum, e->pts, (const uint8_t(*)[32])e->sc, e->n, tabs,
                         (const uint8_t(*)[32])tsc, nt));
  return vote_ge_is_identity(&sum) ? VE_OK : VE_ERR_PROOF;
}
