/* vcrypt_ge.c — ristretto255 group operations for public data (variable time).
 *
 * Representatives are points of the twisted Edwards curve -x^2 + y^2 = 1 +
 * d x^2 y^2 in extended coordinates. Addition is the unified a = -1 formula of
 * Hisil–Wong–Carter–Dawson (complete on this curve since d is not a square);
 * doubling is the dedicated formula for a = -1. Decoding and encoding follow
 * RFC 9496 sections 4.3.1 and 4.3.2 literally; equality is the ristretto
 * equality (X1 Y2 == Y1 X2 or Y1 Y2 == X1 X2), so two representatives of the
 * same element compare equal.
 *
 * Multi-scalar multiplication is Straus' method (one shared chain of
 * doublings) with width-5 wNAF for points that vary and width-8 wNAF over
 * precomputed tables for fixed bases (G and an election's key Y).
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "apps/voting/vcrypt_int.h"

void vote_ge_identity(vote_ge_t *p) {
  vote_fe_0(&p->X);
  vote_fe_1(&p->Y);
  vote_fe_1(&p->Z);
  vote_fe_0(&p->T);
}

int vote_ge_decode(vote_ge_t *p, const uint8_t bytes[32]) {
  vote_fe_t s, ss, u1, u2, u2_sqr, v, t, one, invsqrt, den_x, den_y, x, y;
  uint8_t check[32];
  vote_fe_frombytes(&s, bytes);
  vote_fe_tobytes(check, &s);
  if (memcmp(check, bytes, 32) != 0) return VE_ERR_NONCANONICAL; /* s >= p or bit 255 */
  if (bytes[0] & 1) return VE_ERR_NONCANONICAL;                  /* s negative */
  vote_fe_1(&one);
  vote_fe_sq(&ss, &s);
  vote_fe_sub(&u1, &one, &ss);
  vote_fe_add(&u2, &one, &ss);
  vote_fe_sq(&u2_sqr, &u2);
  vote_fe_sq(&t, &u1);
  vote_fe_mul(&t, &t, &VOTE_FE_D);
  vote_fe_neg(&t, &t);
  vote_fe_sub(&v, &t, &u2_sqr); /* v = -(d u1^2) - u2^2 */
  vote_fe_mul(&t, &v, &u2_sqr);
  bool was_square = vote_fe_sqrt_ratio_m1(&invsqrt, &one, &t);
  vote_fe_mul(&den_x, &invsqrt, &u2);
  vote_fe_mul(&den_y, &invsqrt, &den_x);
  vote_fe_mul(&den_y, &den_y, &v);
  vote_fe_add(&x, &s, &s);
  vote_fe_mul(&x, &x, &den_x);
  vote_fe_abs(&x, &x);
  vote_fe_mul(&y, &u1, &den_y);
  vote_fe_mul(&t, &x, &y);
  if (!was_square || vote_fe_is_negative(&t) || vote_fe_is_zero(&y)) return VE_ERR_MALFORMED;
  p->X = x;
  p->Y = y;
  vote_fe_1(&p->Z);
  p->T = t;
  return VE_OK;
}

void vote_ge_encode(uint8_t out[32], const vote_ge_t *p) {
  vote_fe_t u1, u2, t, one, invsqrt, den1, den2, z_inv, ix, iy, ench, x, y, den_inv, s;
  vote_fe_add(&t, &p->Z, &p->Y);
  vote_fe_sub(&u1, &p->Z, &p->Y);
  vote_fe_mul(&u1, &u1, &t);          /* (Z + Y)(Z - Y) */
  vote_fe_mul(&u2, &p->X, &p->Y);
  vote_fe_1(&one);
  vote_fe_sq(&t, &u2);
  vote_fe_mul(&t, &t, &u1);
  (void)vote_fe_sqrt_ratio_m1(&invsqrt, &one, &t);
  vote_fe_mul(&den1, &invsqrt, &u1);
  vote_fe_mul(&den2, &invsqrt, &u2);
  vote_fe_mul(&z_inv, &den1, &den2);
  vote_fe_mul(&z_inv, &z_inv, &p->T);
  vote_fe_mul(&ix, &p->X, &VOTE_FE_SQRT_M1);
  vote_fe_mul(&iy, &p->Y, &VOTE_FE_SQRT_M1);
  vote_fe_mul(&ench, &den1, &VOTE_FE_INVSQRT_A_MINUS_D);
  vote_fe_mul(&t, &p->T, &z_inv);
  if (vote_fe_is_negative(&t)) {
    x = iy;
    y = ix;
    den_inv = ench;
  } else {
    x = p->X;
    y = p->Y;
    den_inv = den2;
  }
  vote_fe_mul(&t, &x, &z_inv);
  if (vote_fe_is_negative(&t)) vote_fe_neg(&y, &y);
  vote_fe_sub(&s, &p->Z, &y);
  vote_fe_mul(&s, &s, &den_inv);
  vote_fe_abs(&s, &s);
  vote_fe_tobytes(out, &s);
}

void vote_ge_to_cached(vote_ge_cached_t *c, const vote_ge_t *p) {
  vote_fe_add(&c->YpX, &p->Y, &p->X);
  vote_fe_sub(&c->YmX, &p->Y, &p->X);
  vote_fe_add(&c->Z2, &p->Z, &p->Z);
  vote_fe_mul(&c->T2d, &p->T, &VOTE_FE_D2);
}

/* Finishes an addition from A = (Y1-X1)(..), B = (Y1+X1)(..), C = T1*2dT2 (signed
 * by the caller), D = 2 Z1 Z2. */
static inline void ge_finish(vote_ge_t *r, const vote_fe_t *a, const vote_fe_t *b,
                             const vote_fe_t *c, const vote_fe_t *d) {
  vote_fe_t e, f, g, h;
  vote_fe_sub(&e, b, a);
  vote_fe_sub(&f, d, c);
  vote_fe_add(&g, d, c);
  vote_fe_add(&h, b, a);
  vote_fe_mul(&r->X, &e, &f);
  vote_fe_mul(&r->Y, &g, &h);
  vote_fe_mul(&r->Z, &f, &g);
  vote_fe_mul(&r->T, &e, &h);
}

void vote_ge_add_cached(vote_ge_t *r, const vote_ge_t *p, const vote_ge_cached_t *q) {
  vote_fe_t a, b, c, d, t;
  vote_fe_sub(&t, &p->Y, &p->X);
  vote_fe_mul(&a, &t, &q->YmX);
  vote_fe_add(&t, &p->Y, &p->X);
  vote_fe_mul(&b, &t, &q->YpX);
  vote_fe_mul(&c, &p->T, &q->T2d);
  vote_fe_mul(&d, &p->Z, &q->Z2);
  ge_finish(r, &a, &b, &c, &d);
}

void vote_ge_sub_cached(vote_ge_t *r, const vote_ge_t *p, const vote_ge_cached_t *q) {
  /* -Q swaps Y+X with Y-X and negates T. */
  vote_fe_t a, b, c, d, t;
  vote_fe_sub(&t, &p->Y, &p->X);
  vote_fe_mul(&a, &t, &q->YpX);
  vote_fe_add(&t, &p->Y, &p->X);
  vote_fe_mul(&b, &t, &q->YmX);
  vote_fe_mul(&c, &p->T, &q->T2d);
  vote_fe_neg(&c, &c);
  vote_fe_mul(&d, &p->Z, &q->Z2);
  ge_finish(r, &a, &b, &c, &d);
}

void vote_ge_add(vote_ge_t *r, const vote_ge_t *p, const vote_ge_t *q) {
  vote_ge_cached_t c;
  vote_ge_to_cached(&c, q);
  vote_ge_add_cached(r, p, &c);
}

void vote_ge_sub(vote_ge_t *r, const vote_ge_t *p, const vote_ge_t *q) {
  vote_ge_cached_t c;
  vote_ge_to_cached(&c, q);
  vote_ge_sub_cached(r, p, &c);
}

void vote_ge_dbl(vote_ge_t *r, const vote_ge_t *p) {
  vote_fe_t xx, yy, zz2, xy2, g, h, f;
  vote_fe_sq(&xx, &p->X);
  vote_fe_sq(&yy, &p->Y);
  vote_fe_sq(&zz2, &p->Z);
  vote_fe_add(&zz2, &zz2, &zz2);
  vote_fe_add(&xy2, &p->X, &p->Y);
  vote_fe_sq(&xy2, &xy2);
  vote_fe_add(&h, &yy, &xx);          /* Y^2 + X^2 */
  vote_fe_sub(&g, &yy, &xx);          /* Y^2 - X^2 */
  vote_fe_sub(&xy2, &xy2, &h);        /* 2XY */
  vote_fe_sub(&f, &zz2, &g);          /* 2Z^2 - (Y^2 - X^2) */
  vote_fe_mul(&r->X, &xy2, &f);
  vote_fe_mul(&r->Y, &h, &g);
  vote_fe_mul(&r->Z, &g, &f);
  vote_fe_mul(&r->T, &xy2, &h);
}

void vote_ge_neg(vote_ge_t *r, const vote_ge_t *p) {
  vote_fe_neg(&r->X, &p->X);
  r->Y = p->Y;
  r->Z = p->Z;
  vote_fe_neg(&r->T, &p->T);
}

bool vote_ge_eq(const vote_ge_t *p, const vote_ge_t *q) {
  vote_fe_t a, b;
  vote_fe_mul(&a, &p->X, &q->Y);
  vote_fe_mul(&b, &p->Y, &q->X);
  if (vote_fe_eq(&a, &b)) return true;
  vote_fe_mul(&a, &p->Y, &q->Y);
  vote_fe_mul(&b, &p->X, &q->X);
  return vote_fe_eq(&a, &b);
}

bool vote_ge_is_identity(const vote_ge_t *p) {
  /* The identity's representatives are the 4-torsion points: X = 0 or Y = 0. */
  return vote_fe_is_zero(&p->X) || vote_fe_is_zero(&p->Y);
}

/* The standard ristretto255 generator encoding (RFC 9496 section 4.4). */
static const uint8_t BASE_ENC[32] = {
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
    0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76};

void vote_ge_base(vote_ge_t *p) {
  int rc = vote_ge_decode(p, BASE_ENC);
  VE_ASSERT(rc == VE_OK);
}

static void odd_multiples(vote_ge_cached_t *out, size_t count, const vote_ge_t *p) {
  vote_ge_t p2, acc = *p;
  vote_ge_dbl(&p2, p);
  vote_ge_cached_t p2c;
  vote_ge_to_cached(&p2c, &p2);
  vote_ge_to_cached(&out[0], &acc);
  for (size_t i = 1; i < count; i++) {
    vote_ge_add_cached(&acc, &acc, &p2c);
    vote_ge_to_cached(&out[i], &acc);
  }
}

void vote_ge_table_build(vote_ge_table_t *t, const vote_ge_t *p) {
  odd_multiples(t->odd, VOTE_GE_TABLE_ENTRIES, p);
}

/* Width-w NAF of a scalar below 2^253: digits odd in (-2^(w-1), 2^(w-1)), at
 * least w-1 zeros between non-zero digits. Returns 1 + highest non-zero index
 * (0 for a zero scalar). */
static size_t wnaf(int8_t naf[256], const uint8_t s[32], unsigned w) {
  uint64_t x[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 32; i++) x[i / 8] |= (uint64_t)s[i] << (8 * (i % 8));
  VE_ASSERT((s[31] & 0xe0) == 0);
  memset(naf, 0, 256);
  const uint64_t width = UINT64_C(1) << w, mask = width - 1;
  uint64_t carry = 0;
  size_t pos = 0, top = 0;
  while (pos < 256) {
    size_t idx = pos / 64, off = pos % 64;
    uint64_t buf = x[idx] >> off;
    if (off + w > 64) buf |= x[idx + 1] << (64 - off);
    uint64_t win = carry + (buf & mask);
    if ((win & 1) == 0) {
      pos++;
      continue;
    }
    if (win < width / 2) {
      carry = 0;
      naf[pos] = (int8_t)win;
    } else {
      carry = 1;
      naf[pos] = (int8_t)((int64_t)win - (int64_t)width);
    }
    top = pos + 1;
    pos += w;
  }
  VE_ASSERT(carry == 0);
  return top;
}

#define VAR_W 5
#define VAR_ENTRIES (1u << (VAR_W - 2)) /* 8 odd multiples */
#define TAB_W 8

static inline void apply_digit(vote_ge_t *r, int d, const vote_ge_cached_t *tab) {
  if (d > 0) {
    vote_ge_add_cached(r, r, &tab[d >> 1]);
  } else if (d < 0) {
    vote_ge_sub_cached(r, r, &tab[(-d) >> 1]);
  }
}

int vote_ge_msm_var(vote_ge_t *out, const vote_ge_t *pts, const uint8_t (*sc)[32], size_t n,
                    const vote_ge_table_t *const *tabs, const uint8_t (*tsc)[32], size_t ntabs) {
  VE_ASSERT(n <= VOTE_MSM_TERMS_MAX && ntabs <= 4);
  vote_ge_cached_t *pre = NULL;
  int8_t(*nafs)[256] = NULL;
  if (n > 0) {
    pre = malloc(n * VAR_ENTRIES * sizeof *pre);
    nafs = malloc(n * sizeof *nafs);
    if (pre == NULL || nafs == NULL) {
      free(pre);
      free(nafs);
      return VE_ERR_NOMEM;
    }
  }
  int8_t tnafs[4][256];
  size_t top = 0;
  for (size_t i = 0; i < n; i++) {
    size_t ti = wnaf(nafs[i], sc[i], VAR_W);
    if (ti == 0) continue; /* zero scalar: table never read */
    if (ti > top) top = ti;
    odd_multiples(&pre[i * VAR_ENTRIES], VAR_ENTRIES, &pts[i]);
  }
  for (size_t k = 0; k < ntabs; k++) {
    size_t tk = wnaf(tnafs[k], tsc[k], TAB_W);
    if (tk > top) top = tk;
  }
  vote_ge_t r;
  vote_ge_identity(&r);
  for (size_t pos = top; pos-- > 0;) {
    vote_ge_dbl(&r, &r);
    for (size_t i = 0; i < n; i++) apply_digit(&r, nafs[i][pos], &pre[i * VAR_ENTRIES]);
    for (size_t k = 0; k < ntabs; k++) apply_digit(&r, tnafs[k][pos], tabs[k]->odd);
  }
  *out = r;
  free(pre);
  free(nafs);
  return VE_OK;
}

void vote_ge_scalarmult_var(vote_ge_t *out, const vote_ge_t *p, const uint8_t s[32]) {
  vote_ge_cached_t pre[VAR_ENTRIES];
  int8_t naf[256];
  size_t top = wnaf(naf, s, VAR_W);
  odd_multiples(pre, VAR_ENTRIES, p);
  vote_ge_t r;
  vote_ge_identity(&r);
  for (size_t pos = top; pos-- > 0;) {
    vote_ge_dbl(&r, &r);
    apply_digit(&r, naf[pos], pre);
  }
  *out = r;
}

uint64_t vote_ge_dlog_key(const vote_ge_t *p, const vote_fe_t *zinv) {
  vote_fe_t x, y;
  uint8_t xb[32], yb[32];
  vote_fe_mul(&x, &p->X, zinv);
  vote_fe_mul(&y, &p->Y, zinv);
  vote_fe_tobytes(xb, &x);
  vote_fe_tobytes(yb, &y);
  uint64_t k = 0;
  for (int i = 7; i >= 0; i--) k = (k << 8) | yb[i];
  /* Low 63 bits of affine y, top bit the sign of x: y alone cannot tell P from -P. */
  return (k & ~(UINT64_C(1) << 63)) | ((uint64_t)(xb[0] & 1) << 63);
}
