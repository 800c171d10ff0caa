/* crypto.c — Ed25519 with a pinned acceptance rule, tagged BLAKE2b-256, key files. */
#include "crypto/crypto.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* ---- self-test of the pinned rule ----
 *
 * libsodium is a shared library, and rule 4 is "what libsodium 1.0.18
 * computes": an upgrade installed under a built node could change an edge case
 * and split the network. vcrypto_init therefore replays a few cases from
 * tests/vectors/ed25519_edge_cases.txt (message "veche edge case") and refuses
 * to run (VE_ERR_CRYPTO) if the library answers any of them differently. */

typedef struct {
  const char *name;
  bool accept;
  const char *pk_hex;
  const char *sig_hex;
} selftest_case_t;

static const selftest_case_t SELFTEST_CASES[] = {
    {"valid", true,
     "f44eb757ace6738f662684728940454a97e3a8cf4694884af5319256f8d33a82",
     "b89ecacdb67f8fe1f485a242c5e4e441c9267b068f7a489658c56422432fcd02"
     "4a4496ebd741286774bc23571f0d3dd3764a5a49fa9f804d3df78df090f8020f"},
    {"s_plus_l", false,
     "f44eb757ace6738f662684728940454a97e3a8cf4694884af5319256f8d33a82",
     "b89ecacdb67f8fe1f485a242c5e4e441c9267b068f7a489658c56422432fcd02"
     "37188c48f2a43abf4a591bfafd061ce8764a5a49fa9f804d3df78df090f8021f"},
    {"small_order_pk_order8", false,
     "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
     "1ee4301b6e939ae26356e58f3f7f095b324e4a878d42836e7e8f739734bfcba4"
     "0515ae0d422d2dbfe161aacdad65706ce6ec167725c4bf75f51f478adf2be30f"},
    {"noncanonical_pk", false,
     "efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
     "3d3fa28250347f22232cf0169438b236bf9b92e1f66a1c4aa343597306e55344"
     "7f199c204331aef12c93808fe4b1aceb985c74f6c5cc6af38b2ab1358c3b2b07"},
    {"small_order_r_identity", false,
     "f44eb757ace6738f662684728940454a97e3a8cf4694884af5319256f8d33a82",
     "0100000000000000000000000000000000000000000000000000000000000000"
     "83c6d920b50882bae3af0179a3ddcc47b329522b0027e78feee3fad942a8cf0d"},
    {"mixed_order_r", false,
     "f44eb757ace6738f662684728940454a97e3a8cf4694884af5319256f8d33a82",
     "c14133e056699038d9cae08c42ea6c4eac6cb5ded243dab5417e427ad07da224"
     "9325f41ea364a0a791a61eeb438378491ccd8e3ac7fdd9c5082610076c12670b"},
    {"mixed_order_pk_k0", true,
     "f4f9e1ad26402e4a02663191bbb3f02f07930436a9a6395630b5942bdf3964c2",
     "f0660659e63407089e09afee8cd0e7973135c55dddab749857936abfd0d8c288"
     "13ed3895a07828a64d0055f6c3c7827869c5ad02a637c99c3edab247fb2f270b"},
    {"mixed_order_pk_k1", false,
     "f4f9e1ad26402e4a02663191bbb3f02f07930436a9a6395630b5942bdf3964c2",
     "96c8260784355c3238f64f88eafd06d62253ebf56df91cdfb4199adc821144a7"
     "6378151a027c032a7ffc6c7556a9ebcca45cdd6ee8f46938c39d53900e3c440f"},
};

static bool selftest_case_ok(const selftest_case_t *c) {
  static const uint8_t msg[] = "veche edge case";
  uint8_t pk[VCRYPTO_PK_BYTES], sig[VCRYPTO_SIG_BYTES];
  if (ve_hex_decode(pk, sizeof pk, c->pk_hex) != VE_OK) return false;
  if (ve_hex_decode(sig, sizeof sig, c->sig_hex) != VE_OK) return false;
  bool accepted = vcrypto_verify_raw(sig, pk, msg, sizeof msg - 1) == VE_OK;
  return accepted == c->accept;
}

/* Registrability is pinned too: a valid key, the mixed-order key above, and
 * the all-zero encoding (order 4). */
static bool selftest_pk_valid_ok(void) {
  uint8_t pk[VCRYPTO_PK_BYTES] = {0};
  if (vcrypto_pk_valid(pk)) return false;
  if (ve_hex_decode(pk, sizeof pk, SELFTEST_CASES[0].pk_hex) != VE_OK || !vcrypto_pk_valid(pk))
    return false;
  if (ve_hex_decode(pk, sizeof pk, SELFTEST_CASES[6].pk_hex) != VE_OK || vcrypto_pk_valid(pk))
    return false;
  return true;
}

static int selftest_run(void) {
  if (!selftest_pk_valid_ok()) {
    fprintf(stderr, "veche: libsodium %s does not validate Ed25519 keys as veche pins it\n",
            sodium_version_string());
    return VE_ERR_CRYPTO;
  }
  for (size_t i = 0; i < sizeof SELFTEST_CASES / sizeof SELFTEST_CASES[0]; i++) {
    if (!selftest_case_ok(&SELFTEST_CASES[i])) {
      fprintf(stderr, "veche: libsodium %s does not verify Ed25519 as veche pins it (case %s)\n",
              sodium_version_string(), SELFTEST_CASES[i].name);
      return VE_ERR_CRYPTO;
    }
  }
  return VE_OK;
}

int vcrypto_init(void) {
  if (sodium_init() < 0) return VE_ERR_CRYPTO;
  return selftest_run();
}

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

/* The subgroup check costs a scalar multiplication and the same key is checked
 * twice per registration (mempool dry run, then execution). Its result is a pure
 * function of pk, so remembering keys that passed changes no outcome: a bounded
 * direct-mapped memo of accepted keys. */
#define PK_MEMO_SLOTS 16384
static uint8_t g_pk_memo[PK_MEMO_SLOTS][VCRYPTO_PK_BYTES];
static bool g_pk_memo_used[PK_MEMO_SLOTS]; /* an empty slot holds zeros, which is a key */
static pthread_mutex_t g_pk_memo_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t pk_memo_slot(const uint8_t pk[VCRYPTO_PK_BYTES]) {
  return ((size_t)pk[0] | (size_t)pk[1] << 8 | (size_t)pk[2] << 16) % PK_MEMO_SLOTS;
}

bool vcrypto_pk_valid(const uint8_t pk[VCRYPTO_PK_BYTES]) {
  size_t slot = pk_memo_slot(pk);
  pthread_mutex_lock(&g_pk_memo_lock);
  /* The used flag matters: without it the all-zero encoding (a point of order
   * 4) matched the empty slot 0 and was accepted. */
  bool known = g_pk_memo_used[slot] && memcmp(g_pk_memo[slot], pk, VCRYPTO_PK_BYTES) == 0;
  pthread_mutex_unlock(&g_pk_memo_lock);
  if (known) return true;
  if (crypto_core_ed25519_is_valid_point(pk) != 1) return false;
  pthread_mutex_lock(&g_pk_memo_lock);
  memcpy(g_pk_memo[slot], pk, VCRYPTO_PK_BYTES);
  g_pk_memo_used[slot] = true;
  pthread_mutex_unlock(&g_pk_memo_lock);
  return true;
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

static pthread_mutex_t g_tag_lock = PTHREAD_MUTEX_INITIALIZER;

void vcrypto_hash_tag(uint8_t out[VCRYPTO_HASH_BYTES], vcrypto_tag_t *t, const uint8_t *msg, size_t len) {
  if (!atomic_load_explicit(&t->ready, memory_order_acquire)) {
    VE_ASSERT(pthread_mutex_lock(&g_tag_lock) == 0);
    if (!atomic_load_explicit(&t->ready, memory_order_relaxed)) {
      vcrypto_hasher_init(&t->h, t->tag);
      atomic_store_explicit(&t->ready, 1, memory_order_release);
    }
    VE_ASSERT(pthread_mutex_unlock(&g_tag_lock) == 0);
  }
  vcrypto_hasher_t h = t->h;
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
