/* vcrypt_fe.c — arithmetic in GF(2^255 - 19) for the variable-time engine.
 *
 * Five unsigned 51-bit limbs, products in unsigned __int128. Every function
 * leaves limbs below 2^52 (a "weak" reduction), which keeps all products of
 * two operands below 2^111 and so within 128 bits; only vote_fe_tobytes
 * reduces fully. Written for this project from the field's definition and the
 * standard addition chains; checked against libsodium by the engine tests.
 * The limb arithmetic itself has no secret-dependent branches, but this file
 * serves the public-data engine only (see vcrypt_int.h).
 */
#include <string.h>

#include "apps/voting/vcrypt_int.h"

__extension__ typedef unsigned __int128 u128;

#define MASK51 ((UINT64_C(1) << 51) - 1)

const vote_fe_t VOTE_FE_D = {{0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL,
                              0x739c663a03cbbULL, 0x52036cee2b6ffULL}};
const vote_fe_t VOTE_FE_D2 = {{0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL,
                               0x6738cc7407977ULL, 0x2406d9dc56dffULL}};
const vote_fe_t VOTE_FE_SQRT_M1 = {{0x61b274a0ea0b0ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                                    0x78595a6804c9eULL, 0x2b8324804fc1dULL}};
const vote_fe_t VOTE_FE_INVSQRT_A_MINUS_D = {{0xfdaa805d40eaULL, 0x2eb482e57d339ULL,
                                              0x7610274bc58ULL, 0x6510b613dc8ffULL,
                                              0x786c8905cfaffULL}};

void vote_fe_0(vote_fe_t *h) { memset(h, 0, sizeof *h); }

void vote_fe_1(vote_fe_t *h) {
  memset(h, 0, sizeof *h);
  h->v[0] = 1;
}

static uint64_t load64_le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static void store64_le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void vote_fe_frombytes(vote_fe_t *h, const uint8_t s[32]) {
  uint64_t w0 = load64_le(s), w1 = load64_le(s + 8), w2 = load64_le(s + 16),
           w3 = load64_le(s + 24);
  h->v[0] = w0 & MASK51;
  h->v[1] = ((w0 >> 51) | (w1 << 13)) & MASK51;
  h->v[2] = ((w1 >> 38) | (w2 << 26)) & MASK51;
  h->v[3] = ((w2 >> 25) | (w3 << 39)) & MASK51;
  h->v[4] = (w3 >> 12) & MASK51; /* bit 255 dropped */
}

/* One carry pass: limbs < 2^51 except limb 0 < 2^51 + 19 * 2^13. */
static inline void fe_weak(vote_fe_t *h) {
  uint64_t c;
  c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
  c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
  c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
  c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
  c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += 19 * c;
}

void vote_fe_tobytes(uint8_t s[32], const vote_fe_t *f) {
  vote_fe_t h = *f;
  fe_weak(&h); /* now h < 2^255 + 2^18 < 2p */
  /* q = 1 iff h >= p, i.e. iff h + 19 carries out of bit 255. */
  uint64_t q = (h.v[0] + 19) >> 51;
  q = (h.v[1] + q) >> 51;
  q = (h.v[2] + q) >> 51;
  q = (h.v[3] + q) >> 51;
  q = (h.v[4] + q) >> 51;
  h.v[0] += 19 * q;
  uint64_t c;
  c = h.v[0] >> 51; h.v[0] &= MASK51; h.v[1] += c;
  c = h.v[1] >> 51; h.v[1] &= MASK51; h.v[2] += c;
  c = h.v[2] >> 51; h.v[2] &= MASK51; h.v[3] += c;
  c = h.v[3] >> 51; h.v[3] &= MASK51; h.v[4] += c;
  h.v[4] &= MASK51; /* drops 2^255, completing the subtraction of p */
  store64_le(s, h.v[0] | (h.v[1] << 51));
  store64_le(s + 8, (h.v[1] >> 13) | (h.v[2] << 38));
  store64_le(s + 16, (h.v[2] >> 26) | (h.v[3] << 25));
  store64_le(s + 24, (h.v[3] >> 39) | (h.v[4] << 12));
}

void vote_fe_add(vote_fe_t *h, const vote_fe_t *f, const vote_fe_t *g) {
  for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
  fe_weak(h);
}

/* f - g computed as f + 4p - g; 4p's limbs exceed any g limb (< 2^52). */
void vote_fe_sub(vote_fe_t *h, const vote_fe_t *f, const vote_fe_t *g) {
  static const uint64_t P4_0 = 0x1fffffffffffb4ULL; /* 4 * (2^51 - 19) */
  static const uint64_t P4_I = 0x1ffffffffffffcULL; /* 4 * (2^51 - 1) */
  h->v[0] = f->v[0] + P4_0 - g->v[0];
  for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + P4_I - g->v[i];
  fe_weak(h);
}

void vote_fe_neg(vote_fe_t *h, const vote_fe_t *f) {
  vote_fe_t z;
  vote_fe_0(&z);
  vote_fe_sub(h, &z, f);
}

static inline void fe_carry_wide(vote_fe_t *h, u128 t0, u128 t1, u128 t2, u128 t3, u128 t4) {
  uint64_t r0, r1, r2, r3, r4;
  t1 += (uint64_t)(t0 >> 51); r0 = (uint64_t)t0 & MASK51;
  t2 += (uint64_t)(t1 >> 51); r1 = (uint64_t)t1 & MASK51;
  t3 += (uint64_t)(t2 >> 51); r2 = (uint64_t)t2 & MASK51;
  t4 += (uint64_t)(t3 >> 51); r3 = (uint64_t)t3 & MASK51;
  r0 += 19 * (uint64_t)(t4 >> 51); r4 = (uint64_t)t4 & MASK51;
  r1 += r0 >> 51; r0 &= MASK51;
  h->v[0] = r0; h->v[1] = r1; h->v[2] = r2; h->v[3] = r3; h->v[4] = r4;
}

void vote_fe_mul(vote_fe_t *h, const vote_fe_t *f, const vote_fe_t *g) {
  const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
  const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  u128 t0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 +
            (u128)f4 * g1_19;
  u128 t1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 +
            (u128)f4 * g2_19;
  u128 t2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 +
            (u128)f4 * g3_19;
  u128 t3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
  u128 t4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
  fe_carry_wide(h, t0, t1, t2, t3, t4);
}

void vote_fe_sq(vote_fe_t *h, const vote_fe_t *f) {
  const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f3_19 = 19 * f3, f4_19 = 19 * f4;
  u128 t0 = (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)(2 * f2) * f3_19;
  u128 t1 = (u128)f0_2 * f1 + (u128)(2 * f2) * f4_19 + (u128)f3 * f3_19;
  u128 t2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)(2 * f3) * f4_19;
  u128 t3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
  u128 t4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
  fe_carry_wide(h, t0, t1, t2, t3, t4);
}

static void fe_sqn(vote_fe_t *h, const vote_fe_t *f, int n) {
  vote_fe_sq(h, f);
  for (int i = 1; i < n; i++) vote_fe_sq(h, h);
}

/* Shared chain: returns z^(2^250 - 1) in t250 and z^11 in z11. */
static void fe_pow_chain(vote_fe_t *t250, vote_fe_t *z11, const vote_fe_t *z) {
  vote_fe_t z2, z9, t5, t10, t20, t40, t50, t100, t200, tmp;
  vote_fe_sq(&z2, z);               /* z^2 */
  fe_sqn(&tmp, &z2, 2);             /* z^8 */
  vote_fe_mul(&z9, &tmp, z);        /* z^9 */
  vote_fe_mul(z11, &z9, &z2);       /* z^11 */
  vote_fe_sq(&tmp, z11);            /* z^22 */
  vote_fe_mul(&t5, &tmp, &z9);      /* z^(2^5 - 1) */
  fe_sqn(&tmp, &t5, 5);
  vote_fe_mul(&t10, &tmp, &t5);     /* z^(2^10 - 1) */
  fe_sqn(&tmp, &t10, 10);
  vote_fe_mul(&t20, &tmp, &t10);    /* z^(2^20 - 1) */
  fe_sqn(&tmp, &t20, 20);
  vote_fe_mul(&t40, &tmp, &t20);    /* z^(2^40 - 1) */
  fe_sqn(&tmp, &t40, 10);
  vote_fe_mul(&t50, &tmp, &t10);    /* z^(2^50 - 1) */
  fe_sqn(&tmp, &t50, 50);
  vote_fe_mul(&t100, &tmp, &t50);   /* z^(2^100 - 1) */
  fe_sqn(&tmp, &t100, 100);
  vote_fe_mul(&t200, &tmp, &t100);  /* z^(2^200 - 1) */
  fe_sqn(&tmp, &t200, 50);
  vote_fe_mul(t250, &tmp, &t50);    /* z^(2^250 - 1) */
}

void vote_fe_invert(vote_fe_t *out, const vote_fe_t *z) {
  vote_fe_t t250, z11, tmp;
  fe_pow_chain(&t250, &z11, z);
  fe_sqn(&tmp, &t250, 5);           /* z^(2^255 - 32) */
  vote_fe_mul(out, &tmp, &z11);     /* z^(2^255 - 21) = z^(p - 2) */
}

void vote_fe_pow22523(vote_fe_t *out, const vote_fe_t *z) {
  vote_fe_t t250, z11, tmp;
  fe_pow_chain(&t250, &z11, z);
  fe_sqn(&tmp, &t250, 2);           /* z^(2^252 - 4) */
  vote_fe_mul(out, &tmp, z);        /* z^(2^252 - 3) = z^((p - 5) / 8) */
}

bool vote_fe_is_negative(const vote_fe_t *f) {
  uint8_t s[32];
  vote_fe_tobytes(s, f);
  return (s[0] & 1) != 0;
}

bool vote_fe_is_zero(const vote_fe_t *f) {
  uint8_t s[32];
  vote_fe_tobytes(s, f);
  uint8_t acc = 0;
  for (int i = 0; i < 32; i++) acc |= s[i];
  return acc == 0;
}

bool vote_fe_eq(const vote_fe_t *f, const vote_fe_t *g) {
  vote_fe_t d;
  vote_fe_sub(&d, f, g);
  return vote_fe_is_zero(&d);
}

void vote_fe_abs(vote_fe_t *h, const vote_fe_t *f) {
  if (vote_fe_is_negative(f)) {
    vote_fe_neg(h, f);
  } else {
    *h = *f;
  }
}

bool vote_fe_sqrt_ratio_m1(vote_fe_t *r, const vote_fe_t *u, const vote_fe_t *v) {
  vote_fe_t v3, v7, uv3, uv7, t, check, neg_u, neg_u_i;
  vote_fe_sq(&v3, v);
  vote_fe_mul(&v3, &v3, v);          /* v^3 */
  vote_fe_sq(&v7, &v3);
  vote_fe_mul(&v7, &v7, v);          /* v^7 */
  vote_fe_mul(&uv3, u, &v3);
  vote_fe_mul(&uv7, u, &v7);
  vote_fe_pow22523(&t, &uv7);
  vote_fe_mul(r, &uv3, &t);          /* r = u v^3 (u v^7)^((p-5)/8) */
  vote_fe_sq(&check, r);
  vote_fe_mul(&check, &check, v);    /* v r^2 */
  vote_fe_neg(&neg_u, u);
  vote_fe_mul(&neg_u_i, &neg_u, &VOTE_FE_SQRT_M1);
  bool correct = vote_fe_eq(&check, u);
  bool flipped = vote_fe_eq(&check, &neg_u);
  bool flipped_i = vote_fe_eq(&check, &neg_u_i);
  if (flipped || flipped_i) vote_fe_mul(r, r, &VOTE_FE_SQRT_M1);
  vote_fe_abs(r, r);
  return correct || flipped;
}

void vote_fe_batch_invert(vote_fe_t *out, const vote_fe_t *in, size_t n, vote_fe_t *scratch) {
  if (n == 0) return;
  /* scratch[i] = in[0] * ... * in[i] */
  scratch[0] = in[0];
  for (size_t i = 1; i < n; i++) vote_fe_mul(&scratch[i], &scratch[i - 1], &in[i]);
  vote_fe_t acc;
  vote_fe_invert(&acc, &scratch[n - 1]);
  for (size_t i = n - 1; i > 0; i--) {
    vote_fe_t inv_i;
    vote_fe_mul(&inv_i, &acc, &scratch[i - 1]);
    vote_fe_mul(&acc, &acc, &in[i]);
    out[i] = inv_i;
  }
  out[0] = acc;
}
