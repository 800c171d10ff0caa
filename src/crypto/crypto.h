/* crypto.h — veche's thin layer over libsodium.
 *
 * Suite 1 ("veche-ed25519-blake2b-1", named in genesis):
 *   signatures  Ed25519 (RFC 8032, pure), with the pinned acceptance rule below;
 *   hashing     BLAKE2b-256 with a domain-separation tag: H(tag, m) =
 *               BLAKE2b-256(len(tag) as one byte || tag || m).
 * A later suite (e.g. GOST R 34.10/34.11-2012) gets a new id and new functions; the
 * id travels in genesis so no format changes.
 *
 * Pinned Ed25519 acceptance rule (every node must agree on every edge case):
 * a signature (R, S) on message M under public key A is accepted iff
 *   1. A is a canonical encoding (y < p) of a point that is not of small order,
 *   2. R is not one of the small-order encodings, and R's bytes equal the
 *      canonical encoding of the recomputed point (so non-canonical R fails),
 *   3. S < L (the group order): checked here explicitly, before libsodium,
 *   4. R == [S]B - [k]A with k = SHA-512(R || A || M) mod L, the cofactorless
 *      equation, as libsodium 1.0.18's crypto_sign_verify_detached computes it.
 * Keys are additionally checked when they enter the ledger (vcrypto_pk_valid):
 * a registrable key must be a canonical point of the prime-order subgroup, so a
 * signature's validity never hinges on k mod 8 through the key. (The equations
 * can still disagree for a signer-crafted R with a small-order component, which
 * only the cofactored one accepts: that is why rule 4 is pinned, and why every
 * node must use this function rather than another library's default.)
 * tests/unit/crypto pins each case; docs/crypto.md explains them.
 *
 * All functions are deterministic except key generation, which reads the OS
 * RNG; deterministic modules receive keys, never generate them.
 */
#ifndef VECHE_CRYPTO_CRYPTO_H
#define VECHE_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"

#define VCRYPTO_SUITE_ED25519_BLAKE2B 1
#define VCRYPTO_SUITE_NAME "veche-ed25519-blake2b-1"

#define VCRYPTO_PK_BYTES 32
#define VCRYPTO_SK_BYTES 64   /* libsodium's seed||pk form */
#define VCRYPTO_SEED_BYTES 32
#define VCRYPTO_SIG_BYTES 64
#define VCRYPTO_HASH_BYTES 32
#define VCRYPTO_TAG_BYTES_MAX 64

typedef struct {
  uint8_t pk[VCRYPTO_PK_BYTES];
  uint8_t sk[VCRYPTO_SK_BYTES]; /* secret: wipe with vcrypto_keypair_wipe */
} vcrypto_keypair_t;

/* Must be called once before anything else (idempotent, thread-safe). Returns 0
 * or VE_ERR_CRYPTO. */
int vcrypto_init(void);

/* Fresh key pair from the OS RNG. */
void vcrypto_keypair_generate(vcrypto_keypair_t *kp);
/* Key pair from a 32-byte seed (deterministic; tests and simulators). */
void vcrypto_keypair_from_seed(vcrypto_keypair_t *kp, const uint8_t seed[VCRYPTO_SEED_BYTES]);
void vcrypto_keypair_wipe(vcrypto_keypair_t *kp);

/* Signs msg for the purpose named by tag: Ed25519 signs the 32-byte digest
 * H(tag, msg), so a signature made for one purpose never verifies for another and
 * the cost of signing does not grow with the message. Out: sig (64 bytes). */
void vcrypto_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *tag,
                  const uint8_t *msg, size_t msg_len);

/* Verifies under the pinned rule above. Returns 0 or VE_ERR_BAD_SIG. */
__attribute__((warn_unused_result)) int vcrypto_verify(const uint8_t sig[VCRYPTO_SIG_BYTES],
                                                       const uint8_t pk[VCRYPTO_PK_BYTES],
                                                       const char *tag, const uint8_t *msg,
                                                       size_t msg_len);

/* Raw RFC 8032 Ed25519 (no domain tag) — for test vectors only. */
void vcrypto_sign_raw(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp,
                      const uint8_t *msg, size_t msg_len);
__attribute__((warn_unused_result)) int vcrypto_verify_raw(const uint8_t sig[VCRYPTO_SIG_BYTES],
                                                           const uint8_t pk[VCRYPTO_PK_BYTES],
                                                           const uint8_t *msg, size_t msg_len);

/* Is pk acceptable as a key on the ledger: canonical, not small order, and in
 * the prime-order subgroup? (Costs a scalar multiplication; not for hot paths.) */
bool vcrypto_pk_valid(const uint8_t pk[VCRYPTO_PK_BYTES]);

/* Domain-separated hash H(tag, m) as defined above. tag is a short ASCII string
 * such as "veche/tx"; its length must be ≤ VCRYPTO_TAG_BYTES_MAX. */
void vcrypto_hash(uint8_t out[VCRYPTO_HASH_BYTES], const char *tag, const uint8_t *msg, size_t len);

/* Incremental form of vcrypto_hash, for hashing several pieces. The state is
 * plain memory (libsodium's BLAKE2b state holds no pointers): a copy made after
 * init (or after any update) continues independently, so a tag absorbed once
 * can start many hashes (src/state does this). */
typedef struct {
  uint8_t opaque[384] __attribute__((aligned(64)));
} vcrypto_hasher_t;
void vcrypto_hasher_init(vcrypto_hasher_t *h, const char *tag);
void vcrypto_hasher_update(vcrypto_hasher_t *h, const uint8_t *data, size_t len);
void vcrypto_hasher_final(vcrypto_hasher_t *h, uint8_t out[VCRYPTO_HASH_BYTES]);

/* A tag absorbed once: vcrypto_hash_tag(out, &t, m, n) equals
 * vcrypto_hash(out, t.tag, m, n) but starts from a copy of the hasher state
 * that absorbed the tag, instead of initialising BLAKE2b and absorbing the tag
 * again (about 20 % fewer instructions for a 32- to 64-byte message: Merkle
 * and state tree nodes, tx ids). Declare one per tag with static storage:
 *   static vcrypto_tag_t T = VCRYPTO_TAG_INIT("veche/merkle/leaf");
 * The first hash computes the state under a lock; later ones only read it, so
 * any number of threads may share one. tag (not copied) must outlive t. */
typedef struct {
  const char *tag;
  _Atomic int ready; /* h holds the absorbed tag */
  vcrypto_hasher_t h;
} vcrypto_tag_t;
#define VCRYPTO_TAG_INIT(s) {(s), 0, {{0}}}
void vcrypto_hash_tag(uint8_t out[VCRYPTO_HASH_BYTES], vcrypto_tag_t *t, const uint8_t *msg, size_t len);

/* Constant-time equality of two n-byte secrets. */
bool vcrypto_ct_eq(const uint8_t *a, const uint8_t *b, size_t n);
void vcrypto_wipe(void *p, size_t n);
/* OS randomness (outside deterministic modules only). */
void vcrypto_random(uint8_t *out, size_t n);

/* Key files: a secret key is stored as the 64 hex characters of its seed and a
 * newline, in a file created with mode 0600 (never over an existing file:
 * VE_ERR_EXISTS). Loading refuses a file that group or others can read, or that
 * is not a regular file (VE_ERR_CONFIG), so a leaked-permission key is noticed;
 * content other than 64 hex digits with an optional newline is VE_ERR_MALFORMED.
 * See docs/crypto.md. */
int vcrypto_keyfile_write(const char *path, const vcrypto_keypair_t *kp);
int vcrypto_keyfile_read(const char *path, vcrypto_keypair_t *kp);

#endif
