/* documents_crypto_test.c — the client-side cryptography of documents, without a
 * chain: digest algorithms against published answers, the blob format (round
 * trips, every kind of tampering, size limits), key wrapping (round trip,
 * interoperability with libsodium's sealed boxes both ways, non-recipients),
 * and an encrypted 10 MB document passed between two identities. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <sodium.h>

#include "apps/documents/documents.h"
#include "base/err.h"
#include "trng.h"

static uint64_t g_seed;


static void fill(uint8_t *p, size_t n, uint64_t seed) {
  uint64_t s = seed;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = trng_step(&s);
    memcpy(p + i, &v, n - i < 8 ? n - i : 8);
  }
}

static void seed_key(vcrypto_keypair_t *kp, uint8_t n) {
  uint8_t seed[32];
  memset(seed, n, sizeof seed);
  vcrypto_keypair_from_seed(kp, seed);
}

static void hex_is(const uint8_t *got, size_t n, const char *hex) {
  uint8_t want[64];
  assert_int_equal(strlen(hex), 2 * n);
  assert_int_equal(ve_hex_decode(want, n, hex), 0);
  assert_memory_equal(got, want, n);
}

/* ---- digests ---- */

static void test_digest_known_answers(void **state) {
  (void)state;
  const uint8_t *abc = (const uint8_t *)"abc";
  documents_digest_t d;
  assert_int_equal(documents_digest_file_bytes(&d, DOCUMENTS_ALG_SHA256, abc, 3), 0);
  hex_is(d.bytes, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_int_equal(documents_digest_file_bytes(&d, DOCUMENTS_ALG_SHA512, abc, 3), 0);
  hex_is(d.bytes, 64,
         "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  assert_int_equal(documents_digest_file_bytes(&d, DOCUMENTS_ALG_BLAKE2B_512, abc, 3), 0); /* RFC 7693 B.1 */
  hex_is(d.bytes, 64,
         "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
         "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  /* Algorithm 1 is veche's tagged hash; unused digest bytes stay zero. */
  uint8_t h[32];
  vcrypto_hash(h, DOCUMENTS_TAG_CONTENT, abc, 3);
  assert_int_equal(documents_digest_file_bytes(&d, DOCUMENTS_ALG_BLAKE2B_256, abc, 3), 0);
  assert_memory_equal(d.bytes, h, 32);
  uint8_t zeros[32] = {0};
  assert_memory_equal(d.bytes + 32, zeros, 32);
  assert_int_equal(d.alg, DOCUMENTS_ALG_BLAKE2B_256);
  assert_int_equal(documents_digest_file_bytes(&d, 0, abc, 3), VE_ERR_UNSUPPORTED);
  assert_int_equal(documents_digest_file_bytes(&d, 5, abc, 3), VE_ERR_UNSUPPORTED);
  /* Names and sizes. */
  for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++) {
    assert_int_equal(documents_alg_from_name(documents_alg_name(a)), a);
    assert_true(documents_alg_digest_bytes(a) == 32 || documents_alg_digest_bytes(a) == 64);
  }
  assert_int_equal(documents_alg_from_name("md5"), 0);
  assert_int_equal(documents_alg_digest_bytes(0), 0);
  assert_int_equal(documents_alg_digest_bytes(200), 0);
  assert_string_equal(documents_alg_name(77), "unknown");
}

/* Hashing in pieces gives the one-shot digest, however the input is split. */
static void test_digest_incremental(void **state) {
  (void)state;
  uint8_t buf[5000];
  fill(buf, sizeof buf, g_seed);
  uint64_t rs = g_seed;
  for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++) {
    documents_digest_t one, inc;
    assert_int_equal(documents_digest_file_bytes(&one, a, buf, sizeof buf), 0);
    for (int round = 0; round < 20; round++) {
      documents_hasher_t h;
      assert_int_equal(documents_hasher_init(&h, a), 0);
      size_t at = 0;
      while (at < sizeof buf) {
        size_t n = trng_step(&rs) % 700;
        if (n > sizeof buf - at) n = sizeof buf - at;
        documents_hasher_update(&h, buf + at, n);
        at += n;
      }
      documents_hasher_final(&h, &inc);
      assert_memory_equal(&one, &inc, sizeof one);
    }
  }
}

/* ---- blobs ---- */

static void test_blob_roundtrip_and_tampering(void **state) {
  (void)state;
  uint8_t key[DOCUMENTS_KEY_BYTES], key2[DOCUMENTS_KEY_BYTES], nonce[DOCUMENTS_NONCE_BYTES];
  fill(key, sizeof key, 1);
  fill(key2, sizeof key2, 2);
  fill(nonce, sizeof nonce, 3);
  const char *text = "deed of sale, flat 14, Tverskaya 7";
  ve_buf_t blob, plain;
  ve_buf_init(&blob, 0);
  ve_buf_init(&plain, 0);
  uint8_t id[32], id2[32];
  assert_int_equal(documents_blob_encrypt(&blob, id, (const uint8_t *)text, strlen(text), key, nonce), 0);
  assert_int_equal(blob.len, strlen(text) + DOCUMENTS_BLOB_OVERHEAD_BYTES);
  assert_int_equal(blob.ptr[0], DOCUMENTS_BLOB_VERSION);
  assert_memory_equal(blob.ptr + 1, nonce, sizeof nonce);
  for (size_t i = 0; i + 9 <= blob.len; i++) /* the bytes really are encrypted */
    assert_memory_not_equal(blob.ptr + i, "Tverskaya", 9);
  documents_blob_id(id2, blob.ptr, blob.len);
  assert_memory_equal(id, id2, 32);
  assert_int_equal(documents_blob_decrypt(&plain, blob.ptr, blob.len, key), 0);
  assert_int_equal(plain.len, strlen(text));
  assert_memory_equal(plain.ptr, text, plain.len);

  /* Every byte matters: the version is refused as such, any other change fails
   * authentication; the output buffer is left as it was. */
  for (size_t i = 0; i < blob.len; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      blob.ptr[i] ^= (uint8_t)(1u << bit);
      ve_buf_reset(&plain);
      int rc = documents_blob_decrypt(&plain, blob.ptr, blob.len, key);
      assert_int_equal(rc, i == 0 ? VE_ERR_VERSION : VE_ERR_CRYPTO);
      assert_int_equal(plain.len, 0);
      blob.ptr[i] ^= (uint8_t)(1u << bit);
    }
  }
  ve_buf_reset(&plain);
  assert_int_equal(documents_blob_decrypt(&plain, blob.ptr, blob.len, key2), VE_ERR_CRYPTO);
  assert_int_equal(documents_blob_decrypt(&plain, blob.ptr, blob.len - 1, key), VE_ERR_CRYPTO);
  assert_int_equal(documents_blob_decrypt(&plain, blob.ptr, DOCUMENTS_BLOB_OVERHEAD_BYTES - 1, key),
                   VE_ERR_MALFORMED);
  assert_int_equal(plain.len, 0);
  /* Size limits are checked before anything is read or allocated. */
  ve_buf_t fresh;
  ve_buf_init(&fresh, 0);
  assert_int_equal(documents_blob_encrypt(&fresh, id, blob.ptr, DOCUMENTS_CONTENT_BYTES_MAX + 1, key, nonce),
                   VE_ERR_TOO_BIG);
  assert_int_equal(documents_blob_decrypt(&fresh, blob.ptr, DOCUMENTS_BLOB_BYTES_MAX + 1, key), VE_ERR_TOO_BIG);
  assert_int_equal(fresh.len, 0);
  assert_null(fresh.ptr);
  /* A bounded output buffer is respected. */
  ve_buf_t small;
  ve_buf_init(&small, 8);
  assert_int_equal(documents_blob_decrypt(&small, blob.ptr, blob.len, key), VE_ERR_TOO_BIG);
  ve_buf_free(&small);

  /* Same key and nonce: same blob and id (content addressing is deterministic);
   * another nonce: another blob. The empty document works. */
  ve_buf_t again;
  ve_buf_init(&again, 0);
  assert_int_equal(documents_blob_encrypt(&again, id2, (const uint8_t *)text, strlen(text), key, nonce), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&blob), ve_buf_slice(&again)));
  nonce[0] ^= 1;
  ve_buf_reset(&again);
  assert_int_equal(documents_blob_encrypt(&again, id2, (const uint8_t *)text, strlen(text), key, nonce), 0);
  assert_memory_not_equal(id, id2, 32);
  ve_buf_reset(&again);
  assert_int_equal(documents_blob_encrypt(&again, id2, NULL, 0, key, nonce), 0);
  assert_int_equal(again.len, DOCUMENTS_BLOB_OVERHEAD_BYTES);
  ve_buf_reset(&plain);
  assert_int_equal(documents_blob_decrypt(&plain, again.ptr, again.len, key), 0);
  assert_int_equal(plain.len, 0);
  ve_buf_free(&again);
  ve_buf_free(&blob);
  ve_buf_free(&plain);
}

/* ---- key wrapping ---- */

static void test_key_wrap(void **state) {
  (void)state;
  vcrypto_keypair_t alice, bob;
  seed_key(&alice, 21);
  seed_key(&bob, 22);
  uint8_t key[32], got[32], seed[32], wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], again[DOCUMENTS_WRAPPED_KEY_BYTES];
  fill(key, sizeof key, g_seed);
  fill(seed, sizeof seed, g_seed + 1);
  assert_int_equal(documents_key_wrap(wrapped, key, alice.pk, seed), 0);
  assert_int_equal(documents_key_unwrap(got, wrapped, &alice), 0);
  assert_memory_equal(got, key, 32);
  /* Bob cannot open it; the output key is zeroed on failure. */
  memset(got, 0xee, sizeof got);
  assert_int_equal(documents_key_unwrap(got, wrapped, &bob), VE_ERR_CRYPTO);
  uint8_t zeros[32] = {0};
  assert_memory_equal(got, zeros, 32);
  /* Any altered byte fails. */
  for (size_t i = 0; i < sizeof wrapped; i++) {
    wrapped[i] ^= 0x10;
    assert_int_equal(documents_key_unwrap(got, wrapped, &alice), VE_ERR_CRYPTO);
    wrapped[i] ^= 0x10;
  }
  /* Deterministic in the seed; another seed, other bytes, same key inside. */
  assert_int_equal(documents_key_wrap(again, key, alice.pk, seed), 0);
  assert_memory_equal(again, wrapped, sizeof again);
  seed[0] ^= 1;
  assert_int_equal(documents_key_wrap(again, key, alice.pk, seed), 0);
  assert_memory_not_equal(again, wrapped, sizeof again);
  assert_int_equal(documents_key_unwrap(got, again, &alice), 0);
  assert_memory_equal(got, key, 32);

  /* Interoperability: libsodium's sealed box opens ours, and we open its. */
  uint8_t xpk[32], xsk[32];
  assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(xpk, alice.pk), 0);
  assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(xsk, alice.sk), 0);
  assert_int_equal(crypto_box_seal_open(got, wrapped, sizeof wrapped, xpk, xsk), 0);
  assert_memory_equal(got, key, 32);
  assert_int_equal(crypto_box_seal(again, key, sizeof key, xpk), 0);
  assert_int_equal(documents_key_unwrap(got, again, &alice), 0);
  assert_memory_equal(got, key, 32);
  sodium_memzero(xsk, sizeof xsk);

  /* A recipient key that is not a usable point (the small-order identity). */
  uint8_t bad[32] = {1};
  assert_int_equal(documents_key_wrap(again, key, bad, seed), VE_ERR_BAD_KEY);
  vcrypto_keypair_t broken = alice;
  memcpy(broken.pk, bad, 32);
  assert_int_equal(documents_key_unwrap(got, wrapped, &broken), VE_ERR_BAD_KEY);
}

/* ---- a 10 MB document between two identities ---- */

static void test_ten_megabytes_between_identities(void **state) {
  (void)state;
  const size_t size = 10u * 1000 * 1000;
  vcrypto_keypair_t notary, alice, eve;
  seed_key(&notary, 31);
  seed_key(&alice, 32);
  seed_key(&eve, 33);
  uint8_t *doc = malloc(size);
  assert_non_null(doc);
  fill(doc, size, g_seed);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);

  /* The issuer: digest, fresh key and nonce, encrypt, wrap to alice. */
  documents_record_t rec;
  memset(&rec, 0, sizeof rec);
  assert_int_equal(documents_digest_file_bytes(&rec.spec.digest, DOCUMENTS_ALG_BLAKE2B_256, doc, size), 0);
  uint8_t key[32], nonce[24], seed[32];
  fill(key, sizeof key, g_seed + 1);
  fill(nonce, sizeof nonce, g_seed + 2);
  fill(seed, sizeof seed, g_seed + 3);
  ve_buf_t blob;
  ve_buf_init(&blob, DOCUMENTS_BLOB_BYTES_MAX);
  assert_int_equal(documents_blob_encrypt(&blob, rec.spec.blob_id, doc, size, key, nonce), 0);
  rec.spec.has_blob = true;
  rec.spec.blob_bytes = blob.len;
  uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES];
  assert_int_equal(documents_key_wrap(wrapped, key, alice.pk, seed), 0);
  vcrypto_wipe(key, sizeof key);

  /* A node accepts the blob for the record; alice unwraps, decrypts, checks. */
  assert_int_equal(documents_blob_check(&rec, blob.ptr, blob.len), 0);
  uint8_t akey[32];
  assert_int_equal(documents_key_unwrap(akey, wrapped, &alice), 0);
  ve_buf_t plain;
  ve_buf_init(&plain, DOCUMENTS_CONTENT_BYTES_MAX);
  assert_int_equal(documents_blob_decrypt(&plain, blob.ptr, blob.len, akey), 0);
  assert_int_equal(plain.len, size);
  assert_memory_equal(plain.ptr, doc, size);
  assert_int_equal(documents_content_check(&rec, plain.ptr, plain.len), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("# 10 MB: digest, encrypt, wrap, unwrap, decrypt, check in %.0f ms\n",
         (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  /* Eve, who holds no grant, cannot unwrap; a flipped bit in the middle fails. */
  uint8_t ekey[32];
  assert_int_equal(documents_key_unwrap(ekey, wrapped, &eve), VE_ERR_CRYPTO);
  blob.ptr[blob.len / 2] ^= 1;
  ve_buf_reset(&plain);
  assert_int_equal(documents_blob_decrypt(&plain, blob.ptr, blob.len, akey), VE_ERR_CRYPTO);
  assert_int_equal(documents_blob_check(&rec, blob.ptr, blob.len), VE_ERR_HASH_MISMATCH);
  /* Different content fails the digest check. */
  doc[0] ^= 1;
  assert_int_equal(documents_content_check(&rec, doc, size), VE_ERR_HASH_MISMATCH);
  vcrypto_wipe(akey, sizeof akey);
  ve_buf_free(&plain);
  ve_buf_free(&blob);
  free(doc);
}

/* ---- verdicts and the verifier's argument checks ---- */

static void test_verdict_and_verifier_inputs(void **state) {
  (void)state;
  documents_record_t rec;
  memset(&rec, 0, sizeof rec);
  rec.spec.digest.alg = DOCUMENTS_ALG_SHA256;
  assert_int_equal(documents_verdict(&rec, 0), DOCUMENTS_VERDICT_VALID);
  rec.spec.has_validity = true;
  rec.spec.not_before_ms = 10;
  rec.spec.not_after_ms = 20;
  assert_int_equal(documents_verdict(&rec, 9), DOCUMENTS_VERDICT_NOT_YET_VALID);
  assert_int_equal(documents_verdict(&rec, 19), DOCUMENTS_VERDICT_VALID);
  assert_int_equal(documents_verdict(&rec, 20), DOCUMENTS_VERDICT_EXPIRED);
  rec.status = DOCUMENTS_SUPERSEDED;
  assert_int_equal(documents_verdict(&rec, 15), DOCUMENTS_VERDICT_SUPERSEDED);
  rec.status = DOCUMENTS_REVOKED;
  assert_int_equal(documents_verdict(&rec, 15), DOCUMENTS_VERDICT_REVOKED);
  assert_string_equal(documents_verdict_name(DOCUMENTS_VERDICT_REVOKED), "revoked");
  assert_string_equal(documents_status_name(DOCUMENTS_SUPERSEDED), "superseded");

  /* A registration-only record verifies against its content digest. */
  rec.status = DOCUMENTS_CURRENT;
  assert_int_equal(documents_digest_file_bytes(&rec.spec.digest, DOCUMENTS_ALG_SHA256, (const uint8_t *)"abc", 3),
                   0);
  char why[128];
  documents_evidence_result_t res;
  assert_int_equal(documents_evidence_verify(&rec, (const uint8_t *)"abc", 3, NULL, &res, why, sizeof why), 0);
  assert_int_equal(res.layers, 1);
  assert_int_equal(res.content_layer, 0);
  assert_int_equal(documents_evidence_verify(&rec, (const uint8_t *)"abd", 3, NULL, &res, why, sizeof why),
                   VE_ERR_HASH_MISMATCH);
  assert_non_null(strstr(why, "sha256"));
  /* Digests supplied by the caller must cover every algorithm used. */
  documents_digest_t digests[DOCUMENTS_ALG_MAX + 1];
  memset(digests, 0, sizeof digests);
  assert_int_equal(documents_evidence_verify_digests(&rec, digests, NULL, &res, why, sizeof why), VE_ERR_INVALID);
  digests[DOCUMENTS_ALG_SHA256] = rec.spec.digest;
  assert_int_equal(documents_evidence_verify_digests(&rec, digests, NULL, &res, NULL, 0), 0);
  /* Unknown algorithms and disordered renewals are refused. */
  rec.n_renewals = 1;
  rec.renewals[0].alg = 9;
  rec.renewals[0].height = 5;
  assert_int_equal(documents_evidence_verify_digests(&rec, digests, NULL, &res, why, sizeof why), VE_ERR_UNSUPPORTED);
  rec.renewals[0].alg = DOCUMENTS_ALG_SHA256;
  rec.registered_height = 3;
  rec.renewals[0].anchor_height = 2;
  assert_int_equal(documents_evidence_verify_digests(&rec, digests, NULL, &res, why, sizeof why), VE_ERR_PROOF);
  rec.n_renewals = DOCUMENTS_RENEWALS_MAX + 1;
  assert_int_equal(documents_evidence_verify_digests(&rec, digests, NULL, &res, why, sizeof why), VE_ERR_LIMIT);
}

static int group_setup(void **state) {
  (void)state;
  if (vcrypto_init() != 0) return -1;
  const char *env = getenv("VECHE_SEED");
  g_seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
  printf("# documents_crypto_test seed: VECHE_SEED=%llu\n", (unsigned long long)g_seed);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_digest_known_answers),
      cmocka_unit_test(test_digest_incremental),
      cmocka_unit_test(test_blob_roundtrip_and_tampering),
      cmocka_unit_test(test_key_wrap),
      cmocka_unit_test(test_ten_megabytes_between_identities),
      cmocka_unit_test(test_verdict_and_verifier_inputs),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
