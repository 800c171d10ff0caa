/* vote_ballot_test.c — security tests of encrypted ballots (vcrypt_ballot.c).
 *
 * Each test builds honest ballots and then attacks them the way a dishonest
 * voter, relay or operator could: copy a ballot to another voter, replay it in
 * another poll, flip any bit, add L to a scalar, swap or alias points, tamper
 * with a challenge, or prove a vote outside {0, 1} or outside the bounds. Every
 * attack must be rejected, and honest ballots must verify and tally to the
 * plaintext count. Random choices and seeds come from a printed seed
 * (replay with VECHE_SEED=<seed>).
 */
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

static const uint8_t POLL_A[32] = {0xa1};
static const uint8_t POLL_B[32] = {0xb2};
static const uint8_t VOTER_1[32] = {0x01};
static const uint8_t VOTER_2[32] = {0x02};

typedef struct {
  vote_keypair_t kp;
  vote_election_t el;
  uint8_t ctx[32];
} fixture_t;

static void fixture(fixture_t *f, uint32_t n, uint32_t min, uint32_t max) {
  uint8_t seed[32];
  vt_bytes(seed, sizeof seed);
  vote_keypair_from_seed(&f->kp, seed);
  assert_int_equal(vote_election_init(&f->el, f->kp.pk, n, min, max), VE_OK);
  vote_context_make(f->ctx, "veche-test", POLL_A, VOTER_1);
}

/* Random valid choices for the election's bounds. */
static void random_choices(uint8_t *ch, const vote_election_t *el) {
  uint32_t want = el->min_total + vt_u32(el->max_total - el->min_total + 1);
  memset(ch, 0, el->options);
  for (uint32_t placed = 0; placed < want;) {
    uint32_t i = vt_u32(el->options);
    if (!ch[i]) {
      ch[i] = 1;
      placed++;
    }
  }
}

static void make_ballot(ve_buf_t *b, const fixture_t *f, const uint8_t *ch) {
  uint8_t seed[32];
  vt_bytes(seed, sizeof seed);
  ve_buf_init(b, VOTE_BALLOT_BYTES_MAX);
  assert_int_equal(vote_ballot_create(b, &f->el, ch, f->el.options, f->ctx, 32, seed), VE_OK);
  assert_int_equal(b->len, vote_ballot_size(f->el.options, f->el.min_total, f->el.max_total));
}

/* Decrypts option i of a ballot with the single key and solves the small dlog. */
static uint64_t decrypt_option(const fixture_t *f, const uint8_t *cts, uint32_t i) {
  uint8_t m[32], g[32], acc[32] = {0}, one[32] = {1};
  assert_int_equal(vote_decrypt_point(m, f->kp.sk, cts + 64 * i), VE_OK);
  assert_int_equal(crypto_scalarmult_ristretto255_base(g, one), 0);
  for (uint64_t v = 0; v <= VOTE_OPTIONS_MAX; v++) {
    if (memcmp(acc, m, 32) == 0) return v;
    assert_int_equal(crypto_core_ristretto255_add(acc, acc, g), 0);
  }
  fail_msg("plaintext out of range");
  return 0;
}

static void test_honest_ballots_verify_and_decrypt(void **state) {
  (void)state;
  static const uint32_t shapes[][3] = {{1, 0, 1}, {2, 0, 2}, {2, 1, 1}, {5, 1, 3},
                                       {7, 0, 7}, {3, 3, 3}, {64, 0, 64}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    fixture_t f;
    fixture(&f, shapes[s][0], shapes[s][1], shapes[s][2]);
    for (int round = 0; round < 3; round++) {
      uint8_t ch[VOTE_OPTIONS_MAX];
      random_choices(ch, &f.el);
      ve_buf_t b;
      make_ballot(&b, &f, ch);
      assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, b.ptr, b.len), VE_OK);
      uint32_t n;
      const uint8_t *cts;
      assert_int_equal(vote_ballot_ciphertexts(b.ptr, b.len, &n, &cts), VE_OK);
      assert_int_equal(n, f.el.options);
      for (uint32_t i = 0; i < n; i++) assert_int_equal(decrypt_option(&f, cts, i), ch[i]);
      ve_buf_free(&b);
    }
  }
}

static void test_invalid_choices_refused(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f, 3, 1, 2);
  uint8_t seed[32] = {0};
  ve_buf_t b;
  ve_buf_init(&b, VOTE_BALLOT_BYTES_MAX);
  const uint8_t none[3] = {0, 0, 0}, all[3] = {1, 1, 1}, two[3] = {2, 0, 0}, ok[3] = {1, 0, 0};
  assert_int_equal(vote_ballot_create(&b, &f.el, none, 3, f.ctx, 32, seed), VE_ERR_INVALID);
  assert_int_equal(vote_ballot_create(&b, &f.el, all, 3, f.ctx, 32, seed), VE_ERR_INVALID);
  assert_int_equal(vote_ballot_create(&b, &f.el, two, 3, f.ctx, 32, seed), VE_ERR_INVALID);
  assert_int_equal(vote_ballot_create(&b, &f.el, ok, 2, f.ctx, 32, seed), VE_ERR_INVALID);
  assert_int_equal(b.len, 0);
  assert_int_equal(vote_ballot_create(&b, &f.el, ok, 3, f.ctx, 32, seed), VE_OK);
  ve_buf_free(&b);
  /* bad election parameters */
  vote_election_t el;
  assert_int_equal(vote_election_init(&el, f.kp.pk, 0, 0, 0), VE_ERR_INVALID);
  assert_int_equal(vote_election_init(&el, f.kp.pk, 65, 0, 1), VE_ERR_TOO_BIG);
  assert_int_equal(vote_election_init(&el, f.kp.pk, 3, 2, 1), VE_ERR_INVALID);
  assert_int_equal(vote_election_init(&el, f.kp.pk, 3, 0, 4), VE_ERR_INVALID);
  uint8_t zero[32] = {0};
  assert_int_equal(vote_election_init(&el, zero, 3, 0, 1), VE_ERR_BAD_KEY);
}

static void test_copy_and_replay_rejected(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f, 2, 0, 2);
  uint8_t ch[2] = {1, 0};
  ve_buf_t b;
  make_ballot(&b, &f, ch);
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, b.ptr, b.len), VE_OK);
  uint8_t other[32];
  /* the same bytes submitted by another voter */
  vote_context_make(other, "veche-test", POLL_A, VOTER_2);
  assert_int_equal(vote_ballot_verify(&f.el, other, 32, b.ptr, b.len), VE_ERR_PROOF);
  /* replayed into another poll (same key, same shape) */
  vote_context_make(other, "veche-test", POLL_B, VOTER_1);
  assert_int_equal(vote_ballot_verify(&f.el, other, 32, b.ptr, b.len), VE_ERR_PROOF);
  /* another chain */
  vote_context_make(other, "veche-other", POLL_A, VOTER_1);
  assert_int_equal(vote_ballot_verify(&f.el, other, 32, b.ptr, b.len), VE_ERR_PROOF);
  /* empty context */
  assert_int_equal(vote_ballot_verify(&f.el, NULL, 0, b.ptr, b.len), VE_ERR_PROOF);
  /* another election key */
  fixture_t g;
  fixture(&g, 2, 0, 2);
  assert_int_equal(vote_ballot_verify(&g.el, f.ctx, 32, b.ptr, b.len), VE_ERR_PROOF);
  /* other bounds: layout no longer matches the poll */
  vote_election_t el;
  assert_int_equal(vote_election_init(&el, f.kp.pk, 2, 1, 1), VE_OK);
  assert_int_equal(vote_ballot_verify(&el, f.ctx, 32, b.ptr, b.len), VE_ERR_MALFORMED);
  ve_buf_free(&b);
}

static void test_every_bit_flip_rejected(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f, 1, 0, 1);
  uint8_t ch[1] = {1};
  ve_buf_t b;
  make_ballot(&b, &f, ch);
  uint8_t *copy = malloc(b.len);
  assert_non_null(copy);
  for (size_t i = 0; i < b.len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      memcpy(copy, b.ptr, b.len);
      copy[i] ^= (uint8_t)(1u << bit);
      assert_int_not_equal(vote_ballot_verify(&f.el, f.ctx, 32, copy, b.len), VE_OK);
    }
  }
  /* truncation and trailing bytes */
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, b.ptr, b.len - 1), VE_ERR_MALFORMED);
  uint8_t *longer = malloc(b.len + 1);
  assert_non_null(longer);
  memcpy(longer, b.ptr, b.len);
  longer[b.len] = 0;
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, longer, b.len + 1), VE_ERR_TRAILING);
  /* a larger two-option ballot: random flips */
  fixture_t g;
  fixture(&g, 2, 0, 2);
  uint8_t ch2[2] = {1, 1};
  ve_buf_t b2;
  make_ballot(&b2, &g, ch2);
  uint8_t *c2 = malloc(b2.len);
  assert_non_null(c2);
  for (int r = 0; r < 2000; r++) {
    memcpy(c2, b2.ptr, b2.len);
    size_t at = vt_u32((uint32_t)b2.len);
    c2[at] ^= (uint8_t)(1u << vt_u32(8));
    assert_int_not_equal(vote_ballot_verify(&g.el, g.ctx, 32, c2, b2.len), VE_OK);
  }
  free(c2);
  free(longer);
  free(copy);
  ve_buf_free(&b2);
  ve_buf_free(&b);
}

/* 256-bit little-endian a += b (no reduction). */
static void add_l(uint8_t s[32]) {
  static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0,
                                0, 0, 0, 0, 0, 0, 0, 0x10};
  unsigned carry = 0;
  for (int i = 0; i < 32; i++) {
    unsigned v = s[i] + L[i] + carry;
    s[i] = (uint8_t)v;
    carry = v >> 8;
  }
}

static void test_malleated_proofs_rejected(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f, 2, 0, 2);
  uint8_t ch[2] = {0, 1};
  ve_buf_t b;
  make_ballot(&b, &f, ch);
  const size_t hdr = 4, cts = hdr, bits = cts + 2 * 64, sum = bits + 2 * VOTE_BIT_PROOF_BYTES;
  const size_t k = 3;
  uint8_t *c = malloc(b.len);
  assert_non_null(c);
  /* scalar + L on every scalar of every proof: same value mod L, other bytes */
  size_t scalar_at[16], ns = 0;
  for (size_t p = 0; p < 2; p++) {
    for (size_t s = 0; s < 3; s++) scalar_at[ns++] = bits + p * VOTE_BIT_PROOF_BYTES + 128 + 32 * s;
  }
  for (size_t s = 0; s < 2 * k - 1; s++) scalar_at[ns++] = sum + 64 * k + 32 * s;
  for (size_t i = 0; i < ns; i++) {
    memcpy(c, b.ptr, b.len);
    add_l(c + scalar_at[i]);
    if (c[scalar_at[i] + 31] < 0x20) { /* still below 2^253: a real alias */
      assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_NONCANONICAL);
    }
  }
  /* points swapped: the two commitments of a branch, the branches, the options */
  const size_t swaps[][2] = {{bits, bits + 32},
                             {bits, bits + 64},
                             {bits + 32, bits + 96},
                             {cts, cts + 64},
                             {cts, cts + 32},
                             {sum, sum + 64}};
  for (size_t i = 0; i < sizeof swaps / sizeof swaps[0]; i++) {
    memcpy(c, b.ptr, b.len);
    uint8_t tmp[32];
    memcpy(tmp, c + swaps[i][0], 32);
    memcpy(c + swaps[i][0], c + swaps[i][1], 32);
    memcpy(c + swaps[i][1], tmp, 32);
    assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_PROOF);
  }
  /* whole bit proofs swapped between options (each proof is valid for its own
   * ciphertext only) */
  memcpy(c, b.ptr, b.len);
  memcpy(c + bits, b.ptr + bits + VOTE_BIT_PROOF_BYTES, VOTE_BIT_PROOF_BYTES);
  memcpy(c + bits + VOTE_BIT_PROOF_BYTES, b.ptr + bits, VOTE_BIT_PROOF_BYTES);
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_PROOF);
  /* top-bit alias of a point: libsodium 1.0.18 would read it as the same
   * point; we reject it as non-canonical */
  size_t points[] = {cts, cts + 32, bits, bits + 96, sum + 32};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
    memcpy(c, b.ptr, b.len);
    c[points[i] + 31] |= 0x80;
    assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_NONCANONICAL);
  }
  /* identity as C1 is refused; identity as a commitment fails the proof */
  memcpy(c, b.ptr, b.len);
  memset(c + cts, 0, 32);
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_MALFORMED);
  memcpy(c, b.ptr, b.len);
  memset(c + bits, 0, 32);
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_PROOF);
  /* the challenge: c0 of the first bit proof and c0 of the sum proof, +1 and
   * replaced by a random scalar */
  size_t chal[] = {bits + 128, sum + 64 * k};
  for (size_t i = 0; i < 2; i++) {
    uint8_t one[32] = {1};
    memcpy(c, b.ptr, b.len);
    vote_sc_add(c + chal[i], c + chal[i], one);
    assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_PROOF);
    memcpy(c, b.ptr, b.len);
    vt_scalar(c + chal[i]);
    assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_PROOF);
  }
  /* version byte and header */
  memcpy(c, b.ptr, b.len);
  c[0] = 2;
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_ERR_VERSION);
  memcpy(c, b.ptr, b.len);
  c[1] = 0x82; /* non-minimal uvarint 2 would need two bytes: 0x82 0x00 */
  assert_int_not_equal(vote_ballot_verify(&f.el, f.ctx, 32, c, b.len), VE_OK);
  free(c);
  ve_buf_free(&b);
}

/* A dishonest prover: encrypt `value` in option 0 and produce the bit proof
 * as if it were branch `claim`, with a correct Fiat–Shamir challenge. */
static void test_out_of_range_votes_rejected(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f, 1, 0, 1);
  const uint64_t values[2] = {0, 1};
  for (uint64_t value = 2; value <= 3; value++) {
    for (uint32_t claim = 0; claim < 2; claim++) {
      size_t size = vote_ballot_size(1, 0, 1);
      uint8_t *b = calloc(1, size);
      assert_non_null(b);
      b[0] = 1; b[1] = 1; b[2] = 0; b[3] = 1;
      uint8_t r[32], seed[32] = {7};
      vt_scalar(r);
      assert_int_equal(vote_encrypt(b + 4, f.kp.pk, value, r), VE_OK);
      vote_rng_t rng;
      vote_rng_init(&rng, "test", seed, NULL, 0);
      vote_or_branch_t bit[2], sm[2];
      vote_or_commit(bit, 2, &rng, f.kp.pk, b + 4, b + 36, values, claim);
      vote_or_commit(sm, 2, &rng, f.kp.pk, b + 4, b + 36, values, claim);
      vote_tr_t t;
      uint8_t c[32];
      vote_tr_init(&t, VOTE_TAG_BALLOT);
      vote_tr_blob(&t, f.ctx, 32);
      vote_tr_raw(&t, f.kp.pk, 32);
      vote_tr_u64(&t, 1);
      vote_tr_u64(&t, 0);
      vote_tr_u64(&t, 1);
      vote_tr_raw(&t, b + 4, 64);
      vote_or_commit_absorb(bit, 2, &t);
      vote_or_commit_absorb(sm, 2, &t);
      vote_tr_challenge(&t, c);
      vote_or_respond(bit, 2, b + 68, c, r, claim);
      vote_or_respond(sm, 2, b + 68 + VOTE_BIT_PROOF_BYTES, c, r, claim);
      assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, b, size), VE_ERR_PROOF);
      /* the same forging code with an honest value verifies: the test can fail */
      if (claim == 1) {
        assert_int_equal(vote_encrypt(b + 4, f.kp.pk, 1, r), VE_OK);
        vote_or_commit(bit, 2, &rng, f.kp.pk, b + 4, b + 36, values, 1);
        vote_or_commit(sm, 2, &rng, f.kp.pk, b + 4, b + 36, values, 1);
        vote_tr_init(&t, VOTE_TAG_BALLOT);
        vote_tr_blob(&t, f.ctx, 32);
        vote_tr_raw(&t, f.kp.pk, 32);
        vote_tr_u64(&t, 1);
        vote_tr_u64(&t, 0);
        vote_tr_u64(&t, 1);
        vote_tr_raw(&t, b + 4, 64);
        vote_or_commit_absorb(bit, 2, &t);
        vote_or_commit_absorb(sm, 2, &t);
        vote_tr_challenge(&t, c);
        vote_or_respond(bit, 2, b + 68, c, r, 1);
        vote_or_respond(sm, 2, b + 68 + VOTE_BIT_PROOF_BYTES, c, r, 1);
        assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, b, size), VE_OK);
      }
      free(b);
    }
  }
}

static void test_same_choice_twice_unrelated(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f, 2, 1, 1);
  uint8_t ch[2] = {1, 0};
  ve_buf_t a, b, a2;
  uint8_t s1[32], s2[32];
  vt_bytes(s1, 32);
  vt_bytes(s2, 32);
  ve_buf_init(&a, VOTE_BALLOT_BYTES_MAX);
  ve_buf_init(&b, VOTE_BALLOT_BYTES_MAX);
  ve_buf_init(&a2, VOTE_BALLOT_BYTES_MAX);
  assert_int_equal(vote_ballot_create(&a, &f.el, ch, 2, f.ctx, 32, s1), VE_OK);
  assert_int_equal(vote_ballot_create(&b, &f.el, ch, 2, f.ctx, 32, s2), VE_OK);
  assert_int_equal(vote_ballot_create(&a2, &f.el, ch, 2, f.ctx, 32, s1), VE_OK);
  /* deterministic in its inputs */
  assert_int_equal(a.len, a2.len);
  assert_memory_equal(a.ptr, a2.ptr, a.len);
  /* a fresh seed: no 32-byte field in common, ciphertexts of equal votes differ */
  for (size_t i = 4; i + 32 <= a.len; i += 32) {
    assert_memory_not_equal(a.ptr + i, b.ptr + i, 32);
  }
  /* and their differences do not line up: (C1 - C1') and (C2 - C2') are not
   * both the identity, nor is the difference the ciphertext of 0 under r = 1 */
  uint8_t d1[32], d2[32], g[32], one[32] = {1};
  assert_int_equal(crypto_core_ristretto255_sub(d1, a.ptr + 4, b.ptr + 4), 0);
  assert_int_equal(crypto_core_ristretto255_sub(d2, a.ptr + 36, b.ptr + 36), 0);
  assert_int_equal(crypto_scalarmult_ristretto255_base(g, one), 0);
  assert_memory_not_equal(d1, g, 32);
  assert_false(sodium_is_zero(d1, 32));
  assert_false(sodium_is_zero(d2, 32));
  /* both verify and decrypt to the same choice */
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, a.ptr, a.len), VE_OK);
  assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, b.ptr, b.len), VE_OK);
  assert_int_equal(decrypt_option(&f, a.ptr + 4, 0), 1);
  assert_int_equal(decrypt_option(&f, b.ptr + 4, 0), 1);
  ve_buf_free(&a);
  ve_buf_free(&b);
  ve_buf_free(&a2);
}

static void test_point_and_key_checks(void **state) {
  (void)state;
  uint8_t zero[32] = {0}, ct[64], pk[32], r[32] = {5};
  vote_keypair_t kp;
  uint8_t seed[32] = {9};
  vote_keypair_from_seed(&kp, seed);
  assert_int_equal(vote_pk_check(kp.pk), VE_OK);
  assert_int_equal(vote_pk_check(zero), VE_ERR_BAD_KEY);
  memcpy(pk, kp.pk, 32);
  pk[31] |= 0x80;
  assert_int_equal(vote_pk_check(pk), VE_ERR_BAD_KEY);
  /* Ed25519 small-order point encodings are not usable keys either: each is
   * either not a ristretto255 encoding or (for 0) the identity. */
  static const uint8_t small_order[][32] = {
      {0},
      {1},
      {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0x7f},
      {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
       0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
       0x03, 0x7a},
      {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
       0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
       0xfc, 0x05},
      {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0x7f},
  };
  for (size_t i = 0; i < sizeof small_order / sizeof small_order[0]; i++) {
    assert_int_equal(vote_pk_check(small_order[i]), VE_ERR_BAD_KEY);
    memcpy(ct, small_order[i], 32);
    memcpy(ct + 32, kp.pk, 32);
    assert_int_not_equal(vote_ct_check(ct, false), VE_OK);
  }
  /* encryption input checks */
  assert_int_equal(vote_encrypt(ct, kp.pk, 1, zero), VE_ERR_INVALID);
  assert_int_equal(vote_encrypt(ct, zero, 1, r), VE_ERR_BAD_KEY);
  assert_int_equal(vote_encrypt(ct, kp.pk, (uint64_t)VOTE_DLOG_MAX + 1, r), VE_ERR_INVALID);
  assert_int_equal(vote_encrypt(ct, kp.pk, 0, r), VE_OK);
  assert_int_equal(vote_ct_check(ct, false), VE_OK);
  /* identity C2 is fine, identity C1 only where allowed */
  memcpy(ct + 32, zero, 32);
  assert_int_equal(vote_ct_check(ct, false), VE_OK);
  memcpy(ct, zero, 32);
  assert_int_equal(vote_ct_check(ct, false), VE_ERR_MALFORMED);
  assert_int_equal(vote_ct_check(ct, true), VE_OK);
  vote_keypair_wipe(&kp);
  assert_true(sodium_is_zero(kp.sk, 32));
}

static void test_tally_matches_plaintext(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f, 4, 1, 2);
  uint64_t want[4] = {0};
  vote_tally_t t, t2;
  assert_int_equal(vote_tally_init(&t, 4), VE_OK);
  assert_int_equal(vote_tally_init(&t2, 4), VE_OK);
  ve_buf_t replaced;
  ve_buf_init(&replaced, VOTE_BALLOT_BYTES_MAX);
  for (int i = 0; i < 60; i++) {
    uint8_t ch[4];
    random_choices(ch, &f.el);
    ve_buf_t b;
    make_ballot(&b, &f, ch);
    assert_int_equal(vote_ballot_verify(&f.el, f.ctx, 32, b.ptr, b.len), VE_OK);
    if (i == 7) { /* counted, then replaced by a re-vote */
      assert_int_equal(vote_tally_add(&t, b.ptr, b.len), VE_OK);
      assert_int_equal(ve_buf_append(&replaced, b.ptr, b.len), VE_OK);
      ve_buf_free(&b);
      continue;
    }
    for (int o = 0; o < 4; o++) want[o] += ch[o];
    assert_int_equal(vote_tally_add(i % 2 ? &t : &t2, b.ptr, b.len), VE_OK);
    ve_buf_free(&b);
  }
  assert_int_equal(vote_tally_remove(&t, replaced.ptr, replaced.len), VE_OK);
  assert_int_equal(vote_tally_merge(&t, &t2), VE_OK);
  assert_int_equal(t.ballots, 59);
  uint8_t cts[4 * 64];
  vote_tally_result(&t, cts);
  for (uint32_t o = 0; o < 4; o++) assert_int_equal(decrypt_option(&f, cts, o), want[o]);
  /* wrong shape and bad encodings leave the tally untouched */
  vote_tally_t t3;
  assert_int_equal(vote_tally_init(&t3, 3), VE_OK);
  assert_int_equal(vote_tally_add(&t3, replaced.ptr, replaced.len), VE_ERR_INVALID);
  uint8_t bad[4 * 64];
  memcpy(bad, cts, sizeof bad);
  bad[64 + 31] |= 0x80;
  assert_int_equal(vote_tally_add_cts(&t, bad, 4), VE_ERR_NONCANONICAL);
  uint8_t again[4 * 64];
  vote_tally_result(&t, again);
  assert_memory_equal(again, cts, sizeof cts);
  ve_buf_free(&replaced);
}

int main(void) {
  if (vote_init() != 0) return 1;
  vt_seed_init("vote_ballot_test");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_honest_ballots_verify_and_decrypt),
      cmocka_unit_test(test_invalid_choices_refused),
      cmocka_unit_test(test_copy_and_replay_rejected),
      cmocka_unit_test(test_every_bit_flip_rejected),
      cmocka_unit_test(test_malleated_proofs_rejected),
      cmocka_unit_test(test_out_of_range_votes_rejected),
      cmocka_unit_test(test_same_choice_twice_unrelated),
      cmocka_unit_test(test_point_and_key_checks),
      cmocka_unit_test(test_tally_matches_plaintext),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
