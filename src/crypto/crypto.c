/* crypto.c — Ed25519 with a pinned acceptance rule, tagged BLAKE2b-256, key files. */
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "base/err.h"

_Static_assert(sizeof(vcrypto_hasher_t) >= sizeof(crypto_generichash_state),
               "vcrypto_hasher_t too small for libsodium's state");
_Static_assert(crypto_sign_PUBLICKEYBYTES == VCRYPTO_PK_BYTES, "pk size");
_Static_assert(crypto_sign_SECRETKEYBYTES == VCRYPTO_SK_BYTES, "sk size");
_Static_assert(crypto_sign_BYTES == VCRYPTO_SIG_BYTES, "sig size");

int vcrypto_init(void) { return sodium_init() < 0 ? VE_ERR_CRYPTO : VE_OK; }

void vcrypto_keypair_generate(vcrypto_keypair_t *kp) { crypto_sign_keypair(kp->pk, kp->sk); }

void vcrypto_keypair_from_seed(vcrypto_keypair_t *kp, const uint8_t seed[VCRYPTO_SEED_BYTES]) {
  crypto_sign_seed_keypair(kp->pk, kp->sk, seed);
}

void vcrypto_keypair_wipe(vcrypto_keypair_t *kp) { sodium_memzero(kp, sizeof *kp); }

/* The group order L, little-endian, for the S < L check. */
static const uint8_t ED25519_L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                      0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

static bool scalar_canonical(const uint8_t s[32]) {
  for (int i = 31; i >= 0; i--) {
    if (s[i] < ED25519_L[i]) return true;
    if (s[i] > ED25519_L[i]) return false;
  }
  return false; /* equal to L */
}

bool vcrypto_pk_valid(const uint8_t pk[VCRYPTO_PK_BYTES]) {
  return crypto_core_ed25519_is_valid_point(pk) == 1;
}

void vcrypto_sign_raw(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp,
                      const uint8_t *msg, size_t msg_len) {
  crypto_sign_detached(sig, NULL, msg, msg_len, kp->sk);
}

int vcrypto_verify_raw(const uint8_t sig[VCRYPTO_SIG_BYTES], const uint8_t pk[VCRYPTO_PK_BYTES],
                       const uint8_t *msg, size_t msg_len) {
  /* Rule 3 explicitly; rules 1, 2 and 4 are libsodium 1.0.18's strict verify. */
  if (!scalar_canonical(sig + 32)) return VE_ERR_BAD_SIG;
  if (crypto_sign_verify_detached(sig, msg, msg_len, pk) != 0) return VE_ERR_BAD_SIG;
  return VE_OK;
}

void vcrypto_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *tag,
                  const uint8_t *msg, size_t msg_len) {
  uint8_t d[VCRYPTO_HASH_BYTES];
  vcrypto_hash(d, tag, msg, msg_len);
  vcrypto_sign_raw(sig, kp, d, sizeof d);
}

int vcrypto_verify(const uint8_t sig[VCRYPTO_SIG_BYTES], const uint8_t pk[VCRYPTO_PK_BYTES],
                   const char *tag, const uint8_t *msg, size_t msg_len) {
  uint8_t d[VCRYPTO_HASH_BYTES];
  vcrypto_hash(d, tag, msg, msg_len);
  return vcrypto_verify_raw(sig, pk, d, sizeof d);
}

void vcrypto_hasher_init(vcrypto_hasher_t *h, const char *tag) {
  size_t tl = strlen(tag);
  VE_ASSERT(tl <= VCRYPTO_TAG_BYTES_MAX);
  crypto_generichash_state *st = (crypto_generichash_state *)h->opaque;
  crypto_generichash_init(st, NULL, 0, VCRYPTO_HASH_BYTES);
  uint8_t l = (uint8_t)tl;
  crypto_generichash_update(st, &l, 1);
  crypto_generichash_update(st, (const uint8_t *)tag, tl);
}

void vcrypto_hasher_update(vcrypto_hasher_t *h, const uint8_t *data, size_t len) {
  crypto_generichash_update((crypto_generichash_state *)h->opaque, data, len);
}

void vcrypto_hasher_final(vcrypto_hasher_t *h, uint8_t out[VCRYPTO_HASH_BYTES]) {
  crypto_generichash_final((crypto_generichash_state *)h->opaque, out, VCRYPTO_HASH_BYTES);
}

void vcrypto_hash(uint8_t out[VCRYPTO_HASH_BYTES], const char *tag, const uint8_t *msg, size_t len) {
  vcrypto_hasher_t h;
  vcrypto_hasher_init(&h, tag);
  vcrypto_hasher_update(&h, msg, len);
  vcrypto_hasher_final(&h, out);
}

bool vcrypto_ct_eq(const uint8_t *a, const uint8_t *b, size_t n) {
  return sodium_memcmp(a, b, n) == 0;
}

void vcrypto_wipe(void *p, size_t n) { sodium_memzero(p, n); }

void vcrypto_random(uint8_t *out, size_t n) { randombytes_buf(out, n); }

int vcrypto_keyfile_write(const char *path, const vcrypto_keypair_t *kp) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errno == EEXIST ? VE_ERR_EXISTS : VE_ERR_IO;
  char hex[2 * VCRYPTO_SEED_BYTES + 2];
  ve_hex_encode(hex, kp->sk, VCRYPTO_SEED_BYTES); /* first 32 bytes of sk are the seed */
  hex[2 * VCRYPTO_SEED_BYTES] = '\n';
  ssize_t n = write(fd, hex, 2 * VCRYPTO_SEED_BYTES + 1);
  sodium_memzero(hex, sizeof hex);
  int rc = (n == 2 * VCRYPTO_SEED_BYTES + 1 && fsync(fd) == 0) ? VE_OK : VE_ERR_IO;
  if (close(fd) != 0) rc = VE_ERR_IO;
  /* Leave no half-written key behind: it would block the next attempt (EXISTS)
   * and fail to load later. */
  if (rc != VE_OK) unlink(path);
  return rc;
}

int vcrypto_keyfile_read(const char *path, vcrypto_keypair_t *kp) {
  /* O_NONBLOCK so a FIFO at the path cannot hang us before the S_ISREG check;
   * it changes nothing for a regular file. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return errno == ENOENT ? VE_ERR_NOT_FOUND : VE_ERR_IO;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return VE_ERR_IO;
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO))) {
    close(fd);
    return VE_ERR_CONFIG; /* not a file, or readable by others: the operator must fix it */
  }
  char hex[2 * VCRYPTO_SEED_BYTES + 8];
  ssize_t n = read(fd, hex, sizeof hex - 1);
  close(fd);
  if (n < 0) {
    sodium_memzero(hex, sizeof hex);
    return VE_ERR_IO;
  }
  int rc = VE_ERR_MALFORMED;
  if (n >= 2 * VCRYPTO_SEED_BYTES && n <= 2 * VCRYPTO_SEED_BYTES + 1 &&
      (n == 2 * VCRYPTO_SEED_BYTES || hex[2 * VCRYPTO_SEED_BYTES] == '\n')) {
    hex[2 * VCRYPTO_SEED_BYTES] = 0;
    uint8_t seed[VCRYPTO_SEED_BYTES];
    if (ve_hex_decode(seed, sizeof seed, hex) == VE_OK) {
      vcrypto_keypair_from_seed(kp, seed);
      rc = VE_OK;
    }
    sodium_memzero(seed, sizeof seed);
  }
  sodium_memzero(hex, sizeof hex);
  return rc;
}
