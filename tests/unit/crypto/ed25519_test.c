/* ed25519_test.c — Ed25519 in veche: the RFC 8032 vectors, and every edge case of
 * the pinned acceptance rule documented in crypto/crypto.h.
 *
 * Why so much: a BFT ledger needs every node to accept exactly the same
 * signatures. Ed25519 implementations disagree on small-order keys, small-order
 * R, non-canonical encodings, S >= L and the cofactored versus cofactorless
 * equation. For each of those cases this file builds a signature that is
 * otherwise valid — it satisfies the verification equation, checked here by an
 * independent oracle built from libsodium's point addition — and asserts what
 * veche does with it. A libsodium upgrade or a rewrite of crypto.c that changes
 * any of these answers fails here.
 *
 * Randomised parts (nonces, keys) come from a seed printed at start; replay with
 * VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "rfc8032_vectors.h"

#ifndef VECHE_VECTORS_DIR
#error "VECHE_VECTORS_DIR must name tests/vectors"
#endif

/* ---- seeded randomness ---- */

static uint64_t g_seed;
static uint64_t g_counter;

/* 64 deterministic bytes from (seed, counter). */
static void rand64(uint8_t out[64]) {
  uint8_t in[16];
  ve_be64_put(in, g_seed);
  ve_be64_put(in + 8, g_counter++);
  crypto_hash_sha512(out, in, sizeof in);
}

/* A uniformly random reduced scalar from the seeded stream. */
static void rand_scalar(uint8_t s[32]) {
  uint8_t h[64];
  rand64(h);
  crypto_core_ed25519_scalar_reduce(s, h);
}

static int group_setup(void **state) {
  (void)state;
  if (vcrypto_init() != VE_OK) return -1;
  const char *env = getenv("VECHE_SEED");
  uint8_t r[8];
  randombytes_buf(r, sizeof r);
  g_seed = env ? strtoull(env, NULL, 0) : ve_be64_get(r);
  printf("# crypto_ed25519_test seed: VECHE_SEED=%llu\n", (unsigned long long)g_seed);
  return 0;
}

static void unhex(uint8_t *out, size_t n, const char *hex) {
  if (ve_hex_decode(out, n, hex) != VE_OK) fail_msg("bad hex in test: %s", hex);
}

/* ---- an independent oracle for the verification equation ---- */

static const uint8_t IDENTITY[32] = {1}; /* y = 1, x = 0 */

/* [k]P by double-and-add over crypto_core_ed25519_add, which accepts any point
 * on the curve (small order, mixed order, non-canonical encodings alike). */
static int pt_mul(uint8_t out[32], const uint8_t k[32], const uint8_t p[32]) {
  uint8_t acc[32];
  memcpy(acc, IDENTITY, 32);
  for (int i = 255; i >= 0; i--) {
    if (crypto_core_ed25519_add(acc, acc, acc) != 0) return -1;
    if ((k[i / 8] >> (i % 8)) & 1)
      if (crypto_core_ed25519_add(acc, acc, p) != 0) return -1;
  }
  memcpy(out, acc, 32);
  return 0;
}

static int pt_mul_small(uint8_t out[32], unsigned k, const uint8_t p[32]) {
  uint8_t ks[32] = {0};
  ks[0] = (uint8_t)k;
  return pt_mul(out, ks, p);
}

/* k = SHA-512(R || A || M) mod L. */
static void challenge(uint8_t k[32], const uint8_t R[32], const uint8_t A[32], const uint8_t *m,
                      size_t mlen) {
  crypto_hash_sha512_state st;
  uint8_t h[64];
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, R, 32);
  crypto_hash_sha512_update(&st, A, 32);
  crypto_hash_sha512_update(&st, m, mlen);
  crypto_hash_sha512_final(&st, h);
  crypto_core_ed25519_scalar_reduce(k, h);
}

/* Does sig = (R, S) satisfy the equation for A and m? Cofactorless:
 * [S]B - [k]A == R as points; cofactored: [8]([S]B - [k]A - R) == identity.
 * Returns false if any point fails to decode. */
static bool equation_holds(const uint8_t sig[64], const uint8_t A[32], const uint8_t *m,
                           size_t mlen, bool cofactored) {
  uint8_t k[32], sb[32], ka[32], lhs[32], d[32];
  challenge(k, sig, A, m, mlen);
  if (crypto_scalarmult_ed25519_base_noclamp(sb, sig + 32) != 0) return false;
  if (pt_mul(ka, k, A) != 0) return false;
  if (crypto_core_ed25519_sub(lhs, sb, ka) != 0) return false;
  if (crypto_core_ed25519_sub(d, lhs, sig) != 0) return false; /* also decodes R */
  if (cofactored) {
    if (pt_mul_small(d, 8, d) != 0) return false;
  }
  return memcmp(d, IDENTITY, 32) == 0;
}

/* ---- building signatures by hand ---- */

/* The Ed25519 secret scalar a (reduced) of a seed: clamp(SHA-512(seed)[0..32]). */
static void secret_scalar(uint8_t a[32], const uint8_t seed[32]) {
  uint8_t h[64];
  crypto_hash_sha512(h, seed, 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  memset(h + 32, 0, 32);
  crypto_core_ed25519_scalar_reduce(a, h);
}

/* sig = (R, r + k*a mod L) with k = H(R || A || m): a signature by the holder of
 * scalar a whose nonce point is R (R need not be r*B: tests pass odd R's). */
static void sig_make(uint8_t sig[64], const uint8_t R[32], const uint8_t r[32], const uint8_t a[32],
                     const uint8_t A[32], const uint8_t *m, size_t mlen) {
  uint8_t k[32], ka[32];
  challenge(k, R, A, m, mlen);
  crypto_core_ed25519_scalar_mul(ka, k, a);
  memcpy(sig, R, 32);
  crypto_core_ed25519_scalar_add(sig + 32, r, ka);
}

/* A fresh key from the seeded stream: its seed, pair, and reduced scalar. */
typedef struct {
  uint8_t seed[32];
  vcrypto_keypair_t kp;
  uint8_t a[32];
} test_key_t;

static void key_make(test_key_t *k) {
  uint8_t h[64];
  rand64(h);
  memcpy(k->seed, h, 32);
  vcrypto_keypair_from_seed(&k->kp, k->seed);
  secret_scalar(k->a, k->seed);
  uint8_t A[32];
  assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(A, k->a), 0);
  assert_memory_equal(A, k->kp.pk, 32); /* our scalar is the key's scalar */
}

/* ---- small-order points ---- */

/* Canonical encodings of the eight points of order dividing 8. */
static const char *SMALL_ORDER_HEX[] = {
    "0100000000000000000000000000000000000000000000000000000000000000", /* order 1 */
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* order 2 */
    "0000000000000000000000000000000000000000000000000000000000000000", /* order 4 */
    "0000000000000000000000000000000000000000000000000000000000000080", /* order 4 */
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", /* order 8 */
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", /* order 8 */
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", /* order 8 */
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", /* order 8 */
};
static const unsigned SMALL_ORDER[] = {1, 2, 4, 4, 8, 8, 8, 8};
#define SMALL_ORDER_N (sizeof SMALL_ORDER_HEX / sizeof SMALL_ORDER_HEX[0])

/* Non-canonical or sign-flipped encodings of small-order points. */
static const char *SMALL_ORDER_ODD_HEX[] = {
    "0100000000000000000000000000000000000000000000000000000000000080", /* -0 sign, y=1 */
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", /* -0 sign, y=-1 */
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* y = p (= 0) */
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", /* y = p, sign */
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* y = p+1 (= 1) */
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", /* y = p+1, sign */
};
#define SMALL_ORDER_ODD_N (sizeof SMALL_ORDER_ODD_HEX / sizeof SMALL_ORDER_ODD_HEX[0])

static void order8_point(uint8_t t[32]) { unhex(t, 32, SMALL_ORDER_HEX[4]); }

/* Little-endian encoding of y = p + i with the given sign bit (p = 2^255 - 19). */
static void noncanonical_y(uint8_t out[32], unsigned i, bool sign) {
  memset(out, 0xff, 32);
  out[0] = (uint8_t)(0xed + i); /* i <= 18 keeps it below 2^255 */
  out[31] = sign ? 0xff : 0x7f;
}

/* ---- tests: RFC 8032 ---- */

static void test_rfc8032_vectors(void **state) {
  (void)state;
  for (size_t i = 0; i < RFC8032_VECTORS_N; i++) {
    const rfc8032_vector_t *v = &RFC8032_VECTORS[i];
    uint8_t seed[32], pk[32], sig[64], got[64];
    size_t mlen = strlen(v->msg_hex) / 2;
    uint8_t *m = malloc(mlen + 1);
    assert_non_null(m);
    unhex(seed, 32, v->seed_hex);
    unhex(pk, 32, v->pk_hex);
    unhex(sig, 64, v->sig_hex);
    unhex(m, mlen, v->msg_hex);

    vcrypto_keypair_t kp;
    vcrypto_keypair_from_seed(&kp, seed);
    if (memcmp(kp.pk, pk, 32) != 0) fail_msg("%s: public key differs", v->name);
    assert_memory_equal(kp.sk, seed, 32); /* sk is seed || pk */
    assert_memory_equal(kp.sk + 32, pk, 32);
    vcrypto_sign_raw(got, &kp, m, mlen);
    if (memcmp(got, sig, 64) != 0) fail_msg("%s: signature differs", v->name);
    if (vcrypto_verify_raw(sig, pk, m, mlen) != VE_OK) fail_msg("%s: not verified", v->name);
    assert_true(vcrypto_pk_valid(pk));
    assert_true(equation_holds(sig, pk, m, mlen, false));
    /* A raw signature is not a tagged one. */
    assert_int_equal(vcrypto_verify(sig, pk, "veche/test", m, mlen), VE_ERR_BAD_SIG);
    if (mlen) {
      m[mlen - 1] ^= 1;
      assert_int_equal(vcrypto_verify_raw(sig, pk, m, mlen), VE_ERR_BAD_SIG);
    }
    /* Longer and shorter messages fail too. */
    m[mlen] = 0;
    assert_int_equal(vcrypto_verify_raw(sig, pk, m, mlen + 1), VE_ERR_BAD_SIG);
    if (mlen) assert_int_equal(vcrypto_verify_raw(sig, pk, m, mlen - 1), VE_ERR_BAD_SIG);
    vcrypto_keypair_wipe(&kp);
    free(m);
  }
}

static void test_keypair_wipe(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  vcrypto_keypair_wipe(&k.kp);
  uint8_t zero[sizeof k.kp] = {0};
  assert_memory_equal(&k.kp, zero, sizeof k.kp);
}

static void test_generate_distinct_and_valid(void **state) {
  (void)state;
  vcrypto_keypair_t a, b;
  vcrypto_keypair_generate(&a);
  vcrypto_keypair_generate(&b);
  assert_memory_not_equal(a.pk, b.pk, 32);
  assert_true(vcrypto_pk_valid(a.pk));
  /* A generated pair is consistent with its seed. */
  vcrypto_keypair_t c;
  vcrypto_keypair_from_seed(&c, a.sk);
  assert_memory_equal(c.pk, a.pk, 32);
  assert_memory_equal(c.sk, a.sk, 64);
  uint8_t sig[64];
  vcrypto_sign(sig, &a, "veche/test", (const uint8_t *)"m", 1);
  assert_int_equal(vcrypto_verify(sig, a.pk, "veche/test", (const uint8_t *)"m", 1), VE_OK);
  assert_int_equal(vcrypto_verify(sig, b.pk, "veche/test", (const uint8_t *)"m", 1), VE_ERR_BAD_SIG);
  vcrypto_keypair_wipe(&a);
  vcrypto_keypair_wipe(&b);
  vcrypto_keypair_wipe(&c);
}

/* ---- tests: tagged signatures ---- */

static void test_tagged_sign_is_sign_of_digest(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  const uint8_t msg[] = "a ballot";
  uint8_t sig[64], sig2[64], d[32], raw[64];
  vcrypto_sign(sig, &k.kp, "veche/test", msg, sizeof msg);
  vcrypto_sign(sig2, &k.kp, "veche/test", msg, sizeof msg);
  assert_memory_equal(sig, sig2, 64); /* deterministic */
  vcrypto_hash(d, "veche/test", msg, sizeof msg);
  vcrypto_sign_raw(raw, &k.kp, d, sizeof d);
  assert_memory_equal(sig, raw, 64); /* Ed25519 over H(tag, msg) */
  assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, d, sizeof d), VE_OK);
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "veche/test", msg, sizeof msg), VE_OK);
  /* ... and not over the message itself. */
  assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, msg, sizeof msg), VE_ERR_BAD_SIG);
  vcrypto_keypair_wipe(&k.kp);
}

static void test_tags_separate_domains(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  const uint8_t msg[] = "same bytes";
  uint8_t sig[64];
  vcrypto_sign(sig, &k.kp, "a", msg, sizeof msg);
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "a", msg, sizeof msg), VE_OK);
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "b", msg, sizeof msg), VE_ERR_BAD_SIG);
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "", msg, sizeof msg), VE_ERR_BAD_SIG);
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "aa", msg, sizeof msg), VE_ERR_BAD_SIG);
  /* Moving bytes between tag and message does not carry a signature over. */
  vcrypto_sign(sig, &k.kp, "veche/vote", (const uint8_t *)"x", 1);
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "veche/vot", (const uint8_t *)"ex", 2),
                   VE_ERR_BAD_SIG);
  vcrypto_keypair_wipe(&k.kp);
}

/* Every single-bit change of signature, key or message is rejected. */
static void test_flipped_bits_rejected(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  uint8_t rnd[64], msg[40], sig[64];
  rand64(rnd);
  memcpy(msg, rnd, sizeof msg);
  vcrypto_sign(sig, &k.kp, "veche/test", msg, sizeof msg);
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "veche/test", msg, sizeof msg), VE_OK);
  for (int bit = 0; bit < 512; bit++) {
    sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    if (vcrypto_verify(sig, k.kp.pk, "veche/test", msg, sizeof msg) != VE_ERR_BAD_SIG)
      fail_msg("signature bit %d flipped and still accepted", bit);
    sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  for (int bit = 0; bit < 256; bit++) {
    uint8_t pk[32];
    memcpy(pk, k.kp.pk, 32);
    pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    if (vcrypto_verify(sig, pk, "veche/test", msg, sizeof msg) != VE_ERR_BAD_SIG)
      fail_msg("public key bit %d flipped and still accepted", bit);
  }
  for (int bit = 0; bit < (int)sizeof msg * 8; bit++) {
    msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    if (vcrypto_verify(sig, k.kp.pk, "veche/test", msg, sizeof msg) != VE_ERR_BAD_SIG)
      fail_msg("message bit %d flipped and still accepted", bit);
    msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  assert_int_equal(vcrypto_verify(sig, k.kp.pk, "veche/test", msg, sizeof msg), VE_OK);
  vcrypto_keypair_wipe(&k.kp);
}

/* ---- tests: rule 3, S < L ---- */

/* Little-endian 256-bit s += L * times. */
static void scalar_add_l(uint8_t s[32], unsigned times) {
  static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  for (unsigned t = 0; t < times; t++) {
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
      unsigned v = s[i] + L[i] + carry;
      s[i] = (uint8_t)v;
      carry = v >> 8;
    }
    assert_int_equal(carry, 0);
  }
}

static void test_s_not_reduced_rejected(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  const uint8_t msg[] = "pay 10";
  uint8_t sig[64];
  vcrypto_sign_raw(sig, &k.kp, msg, sizeof msg);
  assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, msg, sizeof msg), VE_OK);
  /* S + nL still satisfies [S]B - [k]A = R as a group equation; only the
   * explicit S < L check stands between it and acceptance (malleability). */
  for (unsigned n = 1; n <= 14; n++) {
    uint8_t bad[64];
    memcpy(bad, sig, 64);
    scalar_add_l(bad + 32, n);
    if (vcrypto_verify_raw(bad, k.kp.pk, msg, sizeof msg) != VE_ERR_BAD_SIG)
      fail_msg("S + %uL accepted", n);
  }
  /* S = L exactly and S = 2^256 - 1 are rejected too. */
  uint8_t bad[64];
  memcpy(bad, sig, 32);
  memset(bad + 32, 0, 32);
  scalar_add_l(bad + 32, 1);
  assert_int_equal(vcrypto_verify_raw(bad, k.kp.pk, msg, sizeof msg), VE_ERR_BAD_SIG);
  memset(bad + 32, 0xff, 32);
  assert_int_equal(vcrypto_verify_raw(bad, k.kp.pk, msg, sizeof msg), VE_ERR_BAD_SIG);
  vcrypto_keypair_wipe(&k.kp);
}

/* ---- tests: rule 1, the public key ---- */

static void test_small_order_points_are_small_order(void **state) {
  (void)state;
  /* Check the table: [order]T is the identity and [order/2]T is not. */
  for (size_t i = 0; i < SMALL_ORDER_N; i++) {
    uint8_t t[32], q[32];
    unhex(t, 32, SMALL_ORDER_HEX[i]);
    assert_int_equal(pt_mul_small(q, SMALL_ORDER[i], t), 0);
    assert_memory_equal(q, IDENTITY, 32);
    if (SMALL_ORDER[i] > 1) {
      assert_int_equal(pt_mul_small(q, SMALL_ORDER[i] / 2, t), 0);
      assert_memory_not_equal(q, IDENTITY, 32);
    }
  }
  for (size_t i = 0; i < SMALL_ORDER_ODD_N; i++) {
    uint8_t t[32], q[32];
    unhex(t, 32, SMALL_ORDER_ODD_HEX[i]);
    assert_int_equal(pt_mul_small(q, 8, t), 0);
    assert_memory_equal(q, IDENTITY, 32);
  }
}

/* For small-order A, a signature that satisfies the equation is easy to forge
 * for any message without a secret: R = rB, S = r, with k*A = 0. Rule 1 is what
 * rejects it. */
static void check_small_order_key_rejected(const uint8_t A[32]) {
  const uint8_t msg[] = "forged";
  uint8_t sig[64];
  bool found = false;
  for (int tries = 0; tries < 2000 && !found; tries++) {
    uint8_t r[32], k[32];
    rand_scalar(r);
    assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(sig, r), 0);
    memcpy(sig + 32, r, 32);
    challenge(k, sig, A, msg, sizeof msg);
    found = (k[0] & 7) == 0; /* k ≡ 0 mod 8 kills any point of order | 8 */
  }
  assert_true(found);
  assert_true(equation_holds(sig, A, msg, sizeof msg, false));
  assert_int_equal(vcrypto_verify_raw(sig, A, msg, sizeof msg), VE_ERR_BAD_SIG);
  assert_false(vcrypto_pk_valid(A));
}

static void test_small_order_keys_rejected(void **state) {
  (void)state;
  for (size_t i = 0; i < SMALL_ORDER_N; i++) {
    uint8_t A[32];
    unhex(A, 32, SMALL_ORDER_HEX[i]);
    check_small_order_key_rejected(A);
  }
  for (size_t i = 0; i < SMALL_ORDER_ODD_N; i++) {
    uint8_t A[32];
    unhex(A, 32, SMALL_ORDER_ODD_HEX[i]);
    check_small_order_key_rejected(A);
  }
}

/* Encodings with y >= p: all 19 values of y in [p, 2^255) and both sign bits. */
static void test_noncanonical_keys_rejected(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  const uint8_t msg[] = "m";
  uint8_t sig[64];
  vcrypto_sign_raw(sig, &k.kp, msg, sizeof msg);
  int decodable = 0;
  for (unsigned i = 0; i <= 18; i++) {
    for (int sign = 0; sign < 2; sign++) {
      uint8_t A[32], t[32];
      noncanonical_y(A, i, sign);
      /* Some of these decode to real points (y = i mod p): only canonicity
       * rejects them. */
      if (crypto_core_ed25519_add(t, A, IDENTITY) == 0) decodable++;
      if (vcrypto_pk_valid(A)) fail_msg("pk_valid accepted y = p + %u (sign %d)", i, sign);
      if (vcrypto_verify_raw(sig, A, msg, sizeof msg) != VE_ERR_BAD_SIG)
        fail_msg("verify accepted key y = p + %u", i);
    }
  }
  assert_true(decodable > 6); /* the table does reach points on the curve */
  vcrypto_keypair_wipe(&k.kp);
}

static void test_pk_valid(void **state) {
  (void)state;
  /* Accepts generated keys. */
  for (int i = 0; i < 50; i++) {
    test_key_t k;
    key_make(&k);
    assert_true(vcrypto_pk_valid(k.kp.pk));
    vcrypto_keypair_wipe(&k.kp);
  }
  /* Rejects every small-order encoding. */
  for (size_t i = 0; i < SMALL_ORDER_N; i++) {
    uint8_t A[32];
    unhex(A, 32, SMALL_ORDER_HEX[i]);
    assert_false(vcrypto_pk_valid(A));
  }
  for (size_t i = 0; i < SMALL_ORDER_ODD_N; i++) {
    uint8_t A[32];
    unhex(A, 32, SMALL_ORDER_ODD_HEX[i]);
    assert_false(vcrypto_pk_valid(A));
  }
  /* Rejects encodings that are not on the curve (addition refuses them). */
  int off_curve = 0;
  for (unsigned y = 2; y < 200; y++) {
    uint8_t A[32] = {0}, t[32];
    A[0] = (uint8_t)y;
    if (crypto_core_ed25519_add(t, A, IDENTITY) != 0) {
      off_curve++;
      assert_false(vcrypto_pk_valid(A));
    }
  }
  assert_true(off_curve > 50);
  /* Rejects mixed-order points P + T (P valid, T of order 2, 4 or 8). */
  test_key_t k;
  key_make(&k);
  for (size_t i = 1; i < SMALL_ORDER_N; i++) {
    uint8_t T[32], M[32];
    unhex(T, 32, SMALL_ORDER_HEX[i]);
    assert_int_equal(crypto_core_ed25519_add(M, k.kp.pk, T), 0);
    assert_memory_not_equal(M, k.kp.pk, 32);
    assert_false(vcrypto_pk_valid(M));
    /* Removing the torsion part gives the valid key back. */
    uint8_t back[32];
    assert_int_equal(crypto_core_ed25519_sub(back, M, T), 0);
    assert_memory_equal(back, k.kp.pk, 32);
    assert_true(vcrypto_pk_valid(back));
  }
  vcrypto_keypair_wipe(&k.kp);
}

/* vcrypto_pk_valid is a pure function of its input: the answer for a key must
 * not depend on which keys were asked about before (an implementation may
 * remember answers, e.g. in a table indexed by a few key bytes). */
static void test_pk_valid_history_independent(void **state) {
  (void)state;
  uint8_t zero[32] = {0};
  assert_false(vcrypto_pk_valid(zero));
  int variants = 0;
  for (int i = 0; i < 50; i++) {
    test_key_t k;
    key_make(&k);
    assert_true(vcrypto_pk_valid(k.kp.pk));
    assert_true(vcrypto_pk_valid(k.kp.pk));
    /* Same first bytes, different later bytes, not on the curve. */
    for (int pos = 3; pos < 31; pos += 4) {
      uint8_t v[32], t[32];
      memcpy(v, k.kp.pk, 32);
      v[pos] ^= 0x5a;
      if (crypto_core_ed25519_add(t, v, IDENTITY) == 0) continue;
      assert_false(vcrypto_pk_valid(v));
      variants++;
    }
    /* Same first bytes, mixed order is not reachable that way; small order is:
     * keys sharing a prefix with the identity and the zero encoding. */
    assert_false(vcrypto_pk_valid(zero));
    assert_false(vcrypto_pk_valid(IDENTITY));
    vcrypto_keypair_wipe(&k.kp);
  }
  assert_true(variants > 20);
  /* A valid key whose first bytes are zero still does not make the zero
   * encoding valid: search a few seeded keys for a zero first byte. */
  for (int i = 0; i < 2000; i++) {
    test_key_t k;
    key_make(&k);
    if (k.kp.pk[0] != 0) continue;
    assert_true(vcrypto_pk_valid(k.kp.pk));
    assert_false(vcrypto_pk_valid(zero));
    vcrypto_keypair_wipe(&k.kp);
    break;
  }
}

/* ---- tests: rule 4, cofactorless, and mixed-order keys at verification ---- */

/* A mixed-order key A' = aB + T (T of order 8) is not registrable (pk_valid),
 * but rule 1 alone does not reject it at verification. What verification does
 * with it pins rule 4: a signature whose k ≡ 0 mod 8 satisfies the cofactorless
 * equation and is accepted; one with k ≢ 0 mod 8 satisfies only the cofactored
 * equation and is rejected. */
static void test_mixed_order_key_cofactorless(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  uint8_t T[32], A2[32];
  order8_point(T);
  assert_int_equal(crypto_core_ed25519_add(A2, k.kp.pk, T), 0);
  assert_false(vcrypto_pk_valid(A2));
  const uint8_t msg[] = "mixed";
  bool seen_zero = false, seen_nonzero = false;
  for (int tries = 0; tries < 2000 && !(seen_zero && seen_nonzero); tries++) {
    uint8_t r[32], R[32], kk[32], sig[64];
    rand_scalar(r);
    assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(R, r), 0);
    challenge(kk, R, A2, msg, sizeof msg);
    bool zero = (kk[0] & 7) == 0;
    if ((zero && seen_zero) || (!zero && seen_nonzero)) continue;
    sig_make(sig, R, r, k.a, A2, msg, sizeof msg);
    assert_true(equation_holds(sig, A2, msg, sizeof msg, true));
    assert_int_equal(equation_holds(sig, A2, msg, sizeof msg, false), zero);
    assert_int_equal(vcrypto_verify_raw(sig, A2, msg, sizeof msg), zero ? VE_OK : VE_ERR_BAD_SIG);
    if (zero) seen_zero = true;
    else seen_nonzero = true;
  }
  assert_true(seen_zero && seen_nonzero);
  vcrypto_keypair_wipe(&k.kp);
}

/* ---- tests: rule 2, R ---- */

/* R = identity with S = k*a satisfies the equation ([S]B - [k]A = O) for any
 * message; rule 2 rejects it. So do all other small-order R encodings. */
static void test_small_order_r_rejected(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  const uint8_t msg[] = "small R";
  const uint8_t zero[32] = {0};
  uint8_t sig[64];
  sig_make(sig, IDENTITY, zero, k.a, k.kp.pk, msg, sizeof msg);
  assert_true(equation_holds(sig, k.kp.pk, msg, sizeof msg, false));
  assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, msg, sizeof msg), VE_ERR_BAD_SIG);
  for (size_t i = 0; i < SMALL_ORDER_N + SMALL_ORDER_ODD_N; i++) {
    uint8_t R[32];
    unhex(R, 32, i < SMALL_ORDER_N ? SMALL_ORDER_HEX[i] : SMALL_ORDER_ODD_HEX[i - SMALL_ORDER_N]);
    sig_make(sig, R, zero, k.a, k.kp.pk, msg, sizeof msg);
    assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, msg, sizeof msg), VE_ERR_BAD_SIG);
  }
  vcrypto_keypair_wipe(&k.kp);
}

/* R = rB + T with T of order 8: the cofactored equation holds, the
 * cofactorless one does not; rejected. */
static void test_mixed_order_r_rejected(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  const uint8_t msg[] = "mixed R";
  uint8_t T[32], r[32], R[32], sig[64];
  order8_point(T);
  rand_scalar(r);
  assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(R, r), 0);
  assert_int_equal(crypto_core_ed25519_add(R, R, T), 0);
  sig_make(sig, R, r, k.a, k.kp.pk, msg, sizeof msg);
  assert_true(equation_holds(sig, k.kp.pk, msg, sizeof msg, true));
  assert_false(equation_holds(sig, k.kp.pk, msg, sizeof msg, false));
  assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, msg, sizeof msg), VE_ERR_BAD_SIG);
  vcrypto_keypair_wipe(&k.kp);
}

/* R given as a non-canonical encoding (y >= p) never equals the recomputed
 * point's canonical bytes; rejected whatever S is. */
static void test_noncanonical_r_rejected(void **state) {
  (void)state;
  test_key_t k;
  key_make(&k);
  const uint8_t msg[] = "nc R";
  uint8_t sig[64], r[32];
  for (unsigned i = 0; i <= 18; i++) {
    for (int sign = 0; sign < 2; sign++) {
      uint8_t R[32];
      noncanonical_y(R, i, sign);
      rand_scalar(r);
      sig_make(sig, R, r, k.a, k.kp.pk, msg, sizeof msg);
      assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, msg, sizeof msg), VE_ERR_BAD_SIG);
    }
  }
  /* Control: the same construction with a canonical R = rB is accepted. */
  rand_scalar(r);
  uint8_t R[32];
  assert_int_equal(crypto_scalarmult_ed25519_base_noclamp(R, r), 0);
  sig_make(sig, R, r, k.a, k.kp.pk, msg, sizeof msg);
  assert_int_equal(vcrypto_verify_raw(sig, k.kp.pk, msg, sizeof msg), VE_OK);
  vcrypto_keypair_wipe(&k.kp);
}

/* ---- the edge-case vector file (for second implementations too) ---- */

/* Each line of tests/vectors/ed25519_edge_cases.txt: the answer veche gives,
 * and which equations the signature satisfies (re-checked with the oracle, so a
 * line cannot silently stop testing what its name says). */
static void test_edge_case_vectors(void **state) {
  (void)state;
  const char *path = VECHE_VECTORS_DIR "/ed25519_edge_cases.txt";
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  char line[1024];
  unsigned cases = 0, accepts = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    char name[64], want[16], eq[16], pk_hex[80], msg_hex[300], sig_hex[140];
    if (sscanf(line, "%63s %15s %15s %79s %299s %139s", name, want, eq, pk_hex, msg_hex, sig_hex) != 6)
      fail_msg("cannot parse: %s", line);
    uint8_t pk[32], sig[64], msg[150];
    size_t mlen = strlen(msg_hex) / 2;
    assert_true(mlen <= sizeof msg);
    unhex(pk, 32, pk_hex);
    unhex(sig, 64, sig_hex);
    unhex(msg, mlen, msg_hex);
    bool accept = strcmp(want, "accept") == 0;
    int rc = vcrypto_verify_raw(sig, pk, msg, mlen);
    if ((rc == VE_OK) != accept) fail_msg("%s: veche says %s, the file says %s", name, ve_err_name(rc), want);
    bool plain = equation_holds(sig, pk, msg, mlen, false);
    bool cof = equation_holds(sig, pk, msg, mlen, true);
    const char *got = plain ? "both" : cof ? "cofactored" : "none";
    if (strcmp(got, eq) != 0) fail_msg("%s: equation %s, the file says %s", name, got, eq);
    cases++;
    accepts += accept;
  }
  fclose(f);
  assert_true(cases >= 11);
  assert_true(accepts >= 2);
}

/* ---- small helpers ---- */

static void test_ct_eq_wipe_random(void **state) {
  (void)state;
  uint8_t a[48], b[48];
  vcrypto_random(a, sizeof a);
  memcpy(b, a, sizeof a);
  assert_true(vcrypto_ct_eq(a, b, sizeof a));
  for (size_t i = 0; i < sizeof a; i++) {
    b[i] ^= 0x80;
    assert_false(vcrypto_ct_eq(a, b, sizeof a));
    b[i] ^= 0x80;
  }
  assert_true(vcrypto_ct_eq(a, b, 0));
  vcrypto_wipe(a, sizeof a);
  const uint8_t zero[48] = {0};
  assert_memory_equal(a, zero, sizeof a);
  uint8_t c[48];
  vcrypto_random(c, sizeof c);
  assert_memory_not_equal(c, b, sizeof c); /* 2^-384 to fail by chance */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc8032_vectors),
      cmocka_unit_test(test_keypair_wipe),
      cmocka_unit_test(test_generate_distinct_and_valid),
      cmocka_unit_test(test_tagged_sign_is_sign_of_digest),
      cmocka_unit_test(test_tags_separate_domains),
      cmocka_unit_test(test_flipped_bits_rejected),
      cmocka_unit_test(test_s_not_reduced_rejected),
      cmocka_unit_test(test_small_order_points_are_small_order),
      cmocka_unit_test(test_small_order_keys_rejected),
      cmocka_unit_test(test_noncanonical_keys_rejected),
      cmocka_unit_test(test_pk_valid),
      cmocka_unit_test(test_pk_valid_history_independent),
      cmocka_unit_test(test_mixed_order_key_cofactorless),
      cmocka_unit_test(test_small_order_r_rejected),
      cmocka_unit_test(test_mixed_order_r_rejected),
      cmocka_unit_test(test_noncanonical_r_rejected),
      cmocka_unit_test(test_edge_case_vectors),
      cmocka_unit_test(test_ct_eq_wipe_random),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
