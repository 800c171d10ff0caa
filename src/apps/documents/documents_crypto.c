/* documents_crypto.c — the client-side cryptography of documents: content
 * digests under numbered algorithms, the encrypted blob format, and wrapping a
 * document key to an identity. Everything is a pure function of its arguments:
 * keys, nonces and ephemeral seeds come from the caller (docs/documents.md,
 * "Encryption and key wrapping"). */
#include <string.h>

#include <sodium.h>

#include "apps/documents/documents_int.h"
#include "base/err.h"

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((documents_hasher_t *)0)->opaque),
               "hasher state");
_Static_assert(sizeof(crypto_hash_sha512_state) <= sizeof(((documents_hasher_t *)0)->opaque),
               "hasher state");
_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((documents_hasher_t *)0)->opaque),
               "hasher state");
_Static_assert(DOCUMENTS_WRAPPED_KEY_BYTES == crypto_box_SEALBYTES + DOCUMENTS_KEY_BYTES, "seal size");
_Static_assert(DOCUMENTS_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "aead key");
_Static_assert(DOCUMENTS_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "aead nonce");
_Static_assert(DOCUMENTS_BLOB_OVERHEAD_BYTES == 1 + DOCUMENTS_NONCE_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "blob overhead");

/* ---- algorithms ---- */

static const struct {
  const char *name;
  size_t bytes;
} ALGS[DOCUMENTS_ALG_MAX + 1] = {
    {"unknown", 0}, {"blake2b-256", 32}, {"sha256", 32}, {"sha512", 64}, {"blake2b-512", 64},
};

size_t documents_alg_digest_bytes(unsigned alg) { return alg <= DOCUMENTS_ALG_MAX ? ALGS[alg].bytes : 0; }

const char *documents_alg_name(unsigned alg) {
  return alg <= DOCUMENTS_ALG_MAX ? ALGS[alg].name : ALGS[0].name;
}

unsigned documents_alg_from_name(const char *name) {
  for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++)
    if (strcmp(name, ALGS[a].name) == 0) return a;
  return 0;
}

/* ---- hashing ---- */

static int hasher_init_tag(documents_hasher_t *h, unsigned alg, const char *tag) {
  memset(h, 0, sizeof *h);
  switch (alg) {
    case DOCUMENTS_ALG_BLAKE2B_256:
    case DOCUMENTS_ALG_BLAKE2B_512:
      crypto_generichash_init((crypto_generichash_state *)h->opaque, NULL, 0, ALGS[alg].bytes);
      break;
    case DOCUMENTS_ALG_SHA256: crypto_hash_sha256_init((crypto_hash_sha256_state *)h->opaque); break;
    case DOCUMENTS_ALG_SHA512: crypto_hash_sha512_init((crypto_hash_sha512_state *)h->opaque); break;
    default: return VE_ERR_UNSUPPORTED;
  }
  h->alg = (uint8_t)alg;
  if (tag) {
    size_t tl = strlen(tag);
    VE_ASSERT(tl <= VCRYPTO_TAG_BYTES_MAX);
    uint8_t l = (uint8_t)tl;
    documents_hasher_update(h, &l, 1);
    documents_hasher_update(h, (const uint8_t *)tag, tl);
  }
  return VE_OK;
}

int documents_hasher_init(documents_hasher_t *h, unsigned alg) {
  return hasher_init_tag(h, alg, alg == DOCUMENTS_ALG_BLAKE2B_256 ? DOCUMENTS_TAG_CONTENT : NULL);
}

void documents_hasher_update(documents_hasher_t *h, const uint8_t *p, size_t n) {
  if (n == 0) return;
  switch (h->alg) {
    case DOCUMENTS_ALG_BLAKE2B_256:
    case DOCUMENTS_ALG_BLAKE2B_512:
      crypto_generichash_update((crypto_generichash_state *)h->opaque, p, n);
      break;
    case DOCUMENTS_ALG_SHA256: crypto_hash_sha256_update((crypto_hash_sha256_state *)h->opaque, p, n); break;
    case DOCUMENTS_ALG_SHA512: crypto_hash_sha512_update((crypto_hash_sha512_state *)h->opaque, p, n); break;
    default: VE_ASSERT(!"hasher used before a successful init");
  }
}

void documents_hasher_final(documents_hasher_t *h, documents_digest_t *out) {
  memset(out, 0, sizeof *out);
  out->alg = h->alg;
  switch (h->alg) {
    case DOCUMENTS_ALG_BLAKE2B_256:
    case DOCUMENTS_ALG_BLAKE2B_512:
      crypto_generichash_final((crypto_generichash_state *)h->opaque, out->bytes, ALGS[h->alg].bytes);
      break;
    case DOCUMENTS_ALG_SHA256: crypto_hash_sha256_final((crypto_hash_sha256_state *)h->opaque, out->bytes); break;
    case DOCUMENTS_ALG_SHA512: crypto_hash_sha512_final((crypto_hash_sha512_state *)h->opaque, out->bytes); break;
    default: VE_ASSERT(!"hasher used before a successful init");
  }
}

int documents_digest_file_bytes(documents_digest_t *out, unsigned alg, const uint8_t *p, size_t n) {
  documents_hasher_t h;
  VE_TRY(documents_hasher_init(&h, alg));
  documents_hasher_update(&h, p, n);
  documents_hasher_final(&h, out);
  return VE_OK;
}

int docs_hash(uint8_t out[DOCUMENTS_DIGEST_BYTES_MAX], unsigned alg, const char *tag, const uint8_t *m,
              size_t n) {
  documents_hasher_t h;
  VE_TRY(hasher_init_tag(&h, alg, tag));
  documents_hasher_update(&h, m, n);
  documents_digest_t d;
  documents_hasher_final(&h, &d);
  memcpy(out, d.bytes, DOCUMENTS_DIGEST_BYTES_MAX);
  return VE_OK;
}

int documents_content_check(const documents_record_t *rec, const uint8_t *content, size_t len) {
  documents_digest_t d;
  if (documents_digest_file_bytes(&d, rec->spec.digest.alg, content, len) != VE_OK) return VE_ERR_UNSUPPORTED;
  size_t n = documents_alg_digest_bytes(d.alg);
  return memcmp(d.bytes, rec->spec.digest.bytes, n) == 0 ? VE_OK : VE_ERR_HASH_MISMATCH;
}

/* ---- blobs ---- */

/* The AEAD's associated data: the blob tag and the format version, so a blob's
 * bytes cannot be reinterpreted under another format. */
static size_t blob_ad(uint8_t ad[sizeof DOCUMENTS_TAG_BLOB]) {
  size_t tl = strlen(DOCUMENTS_TAG_BLOB);
  memcpy(ad, DOCUMENTS_TAG_BLOB, tl);
  ad[tl] = DOCUMENTS_BLOB_VERSION;
  return tl + 1;
}

void documents_blob_id(uint8_t out[LEDGER_HASH_BYTES], const uint8_t *blob, size_t len) {
  vcrypto_hash(out, DOCUMENTS_TAG_BLOB, blob, len);
}

int documents_blob_encrypt(ve_buf_t *blob_out, uint8_t blob_id[LEDGER_HASH_BYTES], const uint8_t *plain,
                           size_t len, const uint8_t key[DOCUMENTS_KEY_BYTES],
                           const uint8_t nonce[DOCUMENTS_NONCE_BYTES]) {
  if (len > DOCUMENTS_CONTENT_BYTES_MAX) return VE_ERR_TOO_BIG;
  VE_TRY(ve_buf_reserve(blob_out, len + DOCUMENTS_BLOB_OVERHEAD_BYTES));
  uint8_t *b = blob_out->ptr + blob_out->len;
  b[0] = DOCUMENTS_BLOB_VERSION;
  memcpy(b + 1, nonce, DOCUMENTS_NONCE_BYTES);
  uint8_t ad[sizeof DOCUMENTS_TAG_BLOB];
  size_t adlen = blob_ad(ad);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(b + 1 + DOCUMENTS_NONCE_BYTES, &clen, plain, len, ad, adlen,
                                             NULL, nonce, key);
  VE_ASSERT(clen == len + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  blob_out->len += len + DOCUMENTS_BLOB_OVERHEAD_BYTES;
  documents_blob_id(blob_id, b, len + DOCUMENTS_BLOB_OVERHEAD_BYTES);
  return VE_OK;
}

int documents_blob_decrypt(ve_buf_t *plain_out, const uint8_t *blob, size_t len,
                           const uint8_t key[DOCUMENTS_KEY_BYTES]) {
  if (len > DOCUMENTS_BLOB_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (len < DOCUMENTS_BLOB_OVERHEAD_BYTES) return VE_ERR_MALFORMED;
  if (blob[0] != DOCUMENTS_BLOB_VERSION) return VE_ERR_VERSION;
  size_t plen = len - DOCUMENTS_BLOB_OVERHEAD_BYTES;
  VE_TRY(ve_buf_reserve(plain_out, plen));
  uint8_t *p = plain_out->ptr + plain_out->len;
  uint8_t ad[sizeof DOCUMENTS_TAG_BLOB];
  size_t adlen = blob_ad(ad);
  unsigned long long got = 0;
  const uint8_t *c = blob + 1 + DOCUMENTS_NONCE_BYTES;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, &got, NULL, c, len - 1 - DOCUMENTS_NONCE_BYTES, ad,
                                                 adlen, blob + 1, key) != 0) {
    vcrypto_wipe(p, plen);
    return VE_ERR_CRYPTO;
  }
  VE_ASSERT(got == plen);
  plain_out->len += plen;
  return VE_OK;
}

int documents_blob_check(const documents_record_t *rec, const uint8_t *blob, size_t len) {
  if (!rec->spec.has_blob || rec->key_erased) return VE_ERR_STATE;
  if (len > DOCUMENTS_BLOB_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (len != rec->spec.blob_bytes) return VE_ERR_INVALID;
  uint8_t id[LEDGER_HASH_BYTES];
  documents_blob_id(id, blob, len);
  return memcmp(id, rec->spec.blob_id, sizeof id) == 0 ? VE_OK : VE_ERR_HASH_MISMATCH;
}

/* ---- key wrapping ----
 * libsodium's sealed box, spelled out so that the ephemeral key pair can come
 * from a seed: epk, esk = crypto_box_seed_keypair(seed); nonce =
 * BLAKE2b-192(epk || rpk); output epk || crypto_box_easy(key, nonce, rpk, esk).
 * crypto_box_seal_open opens it (tests/unit/documents checks both directions). */

int documents_key_wrap(uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], const uint8_t key[DOCUMENTS_KEY_BYTES],
                       const uint8_t recipient_pk[VCRYPTO_PK_BYTES],
                       const uint8_t seed[DOCUMENTS_WRAP_SEED_BYTES]) {
  uint8_t xpk[crypto_box_PUBLICKEYBYTES], epk[crypto_box_PUBLICKEYBYTES], esk[crypto_box_SECRETKEYBYTES];
  uint8_t nonce[crypto_box_NONCEBYTES];
  memset(wrapped, 0, DOCUMENTS_WRAPPED_KEY_BYTES);
  if (crypto_sign_ed25519_pk_to_curve25519(xpk, recipient_pk) != 0) return VE_ERR_BAD_KEY;
  crypto_box_seed_keypair(epk, esk, seed);
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof nonce);
  crypto_generichash_update(&st, epk, sizeof epk);
  crypto_generichash_update(&st, xpk, sizeof xpk);
  crypto_generichash_final(&st, nonce, sizeof nonce);
  int rc = crypto_box_easy(wrapped + sizeof epk, key, DOCUMENTS_KEY_BYTES, nonce, xpk, esk);
  vcrypto_wipe(esk, sizeof esk);
  if (rc != 0) {
    memset(wrapped, 0, DOCUMENTS_WRAPPED_KEY_BYTES);
    return VE_ERR_BAD_KEY; /* the recipient key gives an all-zero shared secret */
  }
  memcpy(wrapped, epk, sizeof epk);
  return VE_OK;
}

int documents_key_unwrap(uint8_t key[DOCUMENTS_KEY_BYTES], const uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES],
                         const vcrypto_keypair_t *kp) {
  uint8_t xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
  memset(key, 0, DOCUMENTS_KEY_BYTES);
  if (crypto_sign_ed25519_pk_to_curve25519(xpk, kp->pk) != 0) return VE_ERR_BAD_KEY;
  if (crypto_sign_ed25519_sk_to_curve25519(xsk, kp->sk) != 0) return VE_ERR_BAD_KEY;
  int rc = crypto_box_seal_open(key, wrapped, DOCUMENTS_WRAPPED_KEY_BYTES, xpk, xsk);
  vcrypto_wipe(xsk, sizeof xsk);
  if (rc != 0) {
    vcrypto_wipe(key, DOCUMENTS_KEY_BYTES);
    return VE_ERR_CRYPTO;
  }
  return VE_OK;
}
