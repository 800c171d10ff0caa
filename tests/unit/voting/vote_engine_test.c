/* vote_engine_test.c — the variable-time ristretto255 engine (vcrypt_fe.c,
 * vcrypt_ge.c) against libsodium, which is the reference: every decode,
 * encode, addition, subtraction, scalar and multi-scalar multiplication made
 * by the engine must give exactly libsodium's bytes, and the engine must accept
 * exactly the encodings libsodium accepts. Also checks the field constants by
 * their definitions. Random inputs come from a printed seed (VECHE_SEED). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/err.h"
#include "apps/voting/votecrypto.h"
#include "apps/voting/vcrypt_int.h"
#include "vtest.h"

#define ROUNDS 300

static void fe_from_int(vote_fe_t *f, int64_t v) {
  uint8_t b[32] = {0};
  uint64_t a = (uint64_t)(v < 0 ? -v : v);
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(a >> (8 * i));
  vote_fe_frombytes(f, b);
  if (v < 0) vote_fe_neg(f, f);
}

static void test_constants(void **state) {
  (void)state;
  vote_fe_t t, one, m1, a, b;
  vote_fe_1(&one);
  vote_fe_neg(&m1, &one);
  vote_fe_sq(&t, &VOTE_FE_SQRT_M1);
  assert_true(vote_fe_eq(&t, &m1));
  assert_false(vote_fe_is_negative(&VOTE_FE_SQRT_M1));
  fe_from_int(&a, 121666);
  fe_from_int(&b, -121665);
  vote_fe_mul(&t, &VOTE_FE_D, &a);
  assert_true(vote_fe_eq(&t, &b));
  vote_fe_add(&t, &VOTE_FE_D, &VOTE_FE_D);
  assert_true(vote_fe_eq(&t, &VOTE_FE_D2));
  /* INVSQRT_A_MINUS_D^2 * (a - d) == 1 with a = -1 */
  vote_fe_sub(&a, &m1, &VOTE_FE_D);
  vote_fe_sq(&t, &VOTE_FE_INVSQRT_A_MINUS_D);
  vote_fe_mul(&t, &t, &a);
  assert_true(vote_fe_eq(&t, &one));
  assert_false(vote_fe_is_negative(&VOTE_FE_INVSQRT_A_MINUS_D));
}

static void test_field_roundtrip_and_invert(void **state) {
  (void)state;
  for (int i = 0; i < ROUNDS; i++) {
    uint8_t b[32], out[32];
    vt_bytes(b, 32);
    b[31] &= 0x7f;
    vote_fe_t f, g, h, one;
    vote_fe_frombytes(&f, b);
    vote_fe_tobytes(out, &f);
    /* b < 2^255; equal unless b >= p, where out = b - p */
    bool ge_p = (b[31] == 0x7f) && b[0] >= 0xed;
    for (int k = 1; k < 31; k++) ge_p = ge_p && b[k] == 0xff;
    if (!ge_p) assert_memory_equal(out, b, 32);
    if (vote_fe_is_zero(&f)) continue;
    vote_fe_invert(&g, &f);
    vote_fe_mul(&h, &f, &g);
    vote_fe_1(&one);
    assert_true(vote_fe_eq(&h, &one));
    /* batch inversion agrees */
    vote_fe_t in[3] = {f, g, h}, inv[3], scratch[3];
    vote_fe_batch_invert(inv, in, 3, scratch);
    for (int k = 0; k < 3; k++) {
      vote_fe_mul(&h, &in[k], &inv[k]);
      assert_true(vote_fe_eq(&h, &one));
    }
  }
  /* p itself reduces to zero; p - 1 is canonical */
  uint8_t p[32], out[32];
  memset(p, 0xff, 32);
  p[0] = 0xed;
  p[31] = 0x7f;
  vote_fe_t f;
  vote_fe_frombytes(&f, p);
  assert_true(vote_fe_is_zero(&f));
  p[0] = 0xec;
  vote_fe_frombytes(&f, p);
  vote_fe_tobytes(out, &f);
  assert_memory_equal(out, p, 32);
}

static void test_decode_encode_matches_libsodium(void **state) {
  (void)state;
  for (int i = 0; i < ROUNDS; i++) {
    uint8_t enc[32], out[32];
    vt_point(enc);
    vote_ge_t p;
    assert_int_equal(vote_ge_decode(&p, enc), VE_OK);
    vote_ge_encode(out, &p);
    assert_memory_equal(out, enc, 32);
  }
  /* identity */
  uint8_t zero[32] = {0}, out[32];
  vote_ge_t p;
  assert_int_equal(vote_ge_decode(&p, zero), VE_OK);
  assert_true(vote_ge_is_identity(&p));
  vote_ge_encode(out, &p);
  assert_memory_equal(out, zero, 32);
  /* generator */
  uint8_t one[32] = {1}, g[32];
  assert_int_equal(crypto_scalarmult_ristretto255_base(g, one), 0);
  vote_ge_base(&p);
  vote_ge_encode(out, &p);
  assert_memory_equal(out, g, 32);
}

static void test_accepts_exactly_what_libsodium_accepts(void **state) {
  (void)state;
  int accepted = 0, aliases = 0;
  for (int i = 0; i < 4000; i++) {
    uint8_t b[32];
    vt_bytes(b, 32);
    if (i % 4 == 0) b[31] &= 0x7f;
    if (i % 8 == 0) b[0] &= 0xfe;
    vote_ge_t p;
    int mine = vote_ge_decode(&p, b) == VE_OK;
    /* libsodium 1.0.18 ignores bit 255 (it accepts s + 2^255 as an alias of
     * s); RFC 9496 and veche reject it. Otherwise the answers must agree. */
    int theirs = crypto_core_ristretto255_is_valid_point(b) && (b[31] & 0x80) == 0;
    assert_int_equal(mine, theirs);
    accepted += mine;
    if ((b[31] & 0x80) && crypto_core_ristretto255_is_valid_point(b)) aliases++;
  }
  assert_true(accepted > 0); /* the mix above hits valid encodings too */
  assert_true(aliases > 0);  /* and top-bit aliases that libsodium accepts */
  /* Edge encodings: p, p+1, 2^255-1 (non-canonical), 1 and p-2 (odd: negative s). */
  uint8_t e[5][32];
  memset(e, 0xff, sizeof e);
  e[0][0] = 0xed; e[0][31] = 0x7f;
  e[1][0] = 0xee; e[1][31] = 0x7f;
  e[2][31] = 0x7f;
  memset(e[3], 0, 32); e[3][0] = 1;
  e[4][0] = 0xeb; e[4][31] = 0x7f; /* p - 2 = -2: odd, so negative */
  for (int i = 0; i < 5; i++) {
    vote_ge_t p;
    assert_int_not_equal(vote_ge_decode(&p, e[i]), VE_OK);
    assert_int_equal(crypto_core_ristretto255_is_valid_point(e[i]), 0);
  }
}

static void test_add_sub_dbl_match_libsodium(void **state) {
  (void)state;
  for (int i = 0; i < ROUNDS; i++) {
    uint8_t a[32], b[32], want[32], got[32];
    vt_point(a);
    vt_point(b);
    if (i == 0) memset(b, 0, 32); /* identity operand */
    if (i == 1) memcpy(b, a, 32); /* doubling through add */
    vote_ge_t pa, pb, r;
    assert_int_equal(vote_ge_decode(&pa, a), VE_OK);
    assert_int_equal(vote_ge_decode(&pb, b), VE_OK);
    assert_int_equal(crypto_core_ristretto255_add(want, a, b), 0);
    vote_ge_add(&r, &pa, &pb);
    vote_ge_encode(got, &r);
    assert_memory_equal(got, want, 32);
    assert_int_equal(crypto_core_ristretto255_sub(want, a, b), 0);
    vote_ge_sub(&r, &pa, &pb);
    vote_ge_encode(got, &r);
    assert_memory_equal(got, want, 32);
    assert_int_equal(crypto_core_ristretto255_add(want, a, a), 0);
    vote_ge_dbl(&r, &pa);
    vote_ge_encode(got, &r);
    assert_memory_equal(got, want, 32);
    /* equality across representatives: a + b - b == a */
    vote_ge_add(&r, &pa, &pb);
    vote_ge_sub(&r, &r, &pb);
    assert_true(vote_ge_eq(&r, &pa));
    vote_ge_neg(&r, &pa);
    vote_ge_add(&r, &r, &pa);
    assert_true(vote_ge_is_identity(&r));
  }
}

static void check_mul(const uint8_t s[32], const uint8_t pt[32]) {
  uint8_t want[32], got[32];
  int rc = crypto_scalarmult_ristretto255(want, s, pt);
  if (rc != 0) memset(want, 0, 32); /* identity result */
  vote_ge_t p, r;
  assert_int_equal(vote_ge_decode(&p, pt), VE_OK);
  vote_ge_scalarmult_var(&r, &p, s);
  vote_ge_encode(got, &r);
  assert_memory_equal(got, want, 32);
}

static void test_scalarmult_matches_libsodium(void **state) {
  (void)state;
  uint8_t pt[32], s[32];
  for (int i = 0; i < 100; i++) {
    vt_point(pt);
    vt_scalar(s);
    check_mul(s, pt);
  }
  vt_point(pt);
  for (uint64_t v = 0; v < 40; v++) {
    vote_sc_from_u64(s, v);
    check_mul(s, pt);
  }
  /* L - 1 and 2^252 */
  uint8_t one[32] = {1}, zero[32] = {0};
  vote_sc_sub(s, zero, one);
  check_mul(s, pt);
  memset(s, 0, 32);
  s[31] = 0x10;
  check_mul(s, pt);
}

static void test_msm_matches_libsodium(void **state) {
  (void)state;
  for (int round = 0; round < 20; round++) {
    size_t n = 1 + vt_u32(12);
    vote_ge_t pts[12];
    uint8_t sc[12][32], enc[12][32];
    uint8_t acc[32] = {0}, term[32];
    for (size_t i = 0; i < n; i++) {
      vt_point(enc[i]);
      assert_int_equal(vote_ge_decode(&pts[i], enc[i]), VE_OK);
      vt_scalar(sc[i]);
      if (round % 3 == 0 && i % 2 == 1) { /* 128-bit weights and a zero */
        memset(sc[i] + 16, 0, 16);
        if (i == 1) memset(sc[i], 0, 32);
      }
      if (crypto_scalarmult_ristretto255(term, sc[i], enc[i]) != 0) memset(term, 0, 32);
      assert_int_equal(crypto_core_ristretto255_add(acc, acc, term), 0);
    }
    /* a fixed-base table term too */
    uint8_t ts[32], tg[32];
    vt_scalar(ts);
    assert_int_equal(crypto_scalarmult_ristretto255_base(tg, ts), 0);
    assert_int_equal(crypto_core_ristretto255_add(acc, acc, tg), 0);
    vote_ge_t g, r;
    vote_ge_base(&g);
    vote_ge_table_t tab;
    vote_ge_table_build(&tab, &g);
    const vote_ge_table_t *tabs[1] = {&tab};
    uint8_t tsc[1][32];
    memcpy(tsc[0], ts, 32);
    assert_int_equal(vote_ge_msm_var(&r, pts, (const uint8_t(*)[32])sc, n, tabs,
                                     (const uint8_t(*)[32])tsc, 1),
                     VE_OK);
    uint8_t got[32];
    vote_ge_encode(got, &r);
    assert_memory_equal(got, acc, 32);
  }
}

int main(void) {
  if (vote_init() != 0) return 1;
  vt_seed_init("vote_engine_test");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constants),
      cmocka_unit_test(test_field_roundtrip_and_invert),
      cmocka_unit_test(test_decode_encode_matches_libsodium),
      cmocka_unit_test(test_accepts_exactly_what_libsodium_accepts),
      cmocka_unit_test(test_add_sub_dbl_match_libsodium),
      cmocka_unit_test(test_scalarmult_matches_libsodium),
      cmocka_unit_test(test_msm_matches_libsodium),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
