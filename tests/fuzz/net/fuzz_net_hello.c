/* fuzz_net_hello.c — the first bytes a stranger sends: HELLO, then its AUTH frame.
 *
 * Input: 69 bytes of HELLO (shorter inputs are not a HELLO: the transport reads
 * exactly 69), then the peer's first frame (4-byte length prefix, ciphertext).
 * We are the responder of chain "fuzz" with a fixed ephemeral key.
 * Whatever the bytes:
 *  - net_hello_decode returns 0, VE_ERR_MALFORMED, VE_ERR_VERSION or
 *    VE_ERR_WRONG_CHAIN; an accepted HELLO re-encodes to its 69 bytes;
 *  - deriving the session from the peer's key returns 0, VE_ERR_MALFORMED
 *    (exactly when it is our own key: a reflected HELLO) or VE_ERR_CRYPTO (a
 *    small-order point);
 *  - opening the frame returns 0 or VE_ERR_CRYPTO and moves the receive counter
 *    only on success; an AUTH plaintext (96 bytes; the harness also checks the
 *    frame bytes as if they were one, which no stranger can forge a tag for)
 *    returns 0 or VE_ERR_BAD_SIG.
 * Buffers are copied to exact-size heap blocks so ASan sees any over-read. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t g_chain[NET_KEY_BYTES], g_esk[NET_KEY_BYTES], g_epk[NET_KEY_BYTES];
static bool g_ready;

static void setup(void) {
  VE_ASSERT(vcrypto_init() == VE_OK);
  net_chain_hash(g_chain, "fuzz");
  memset(g_esk, 0x42, sizeof g_esk);
  VE_ASSERT(crypto_scalarmult_base(g_epk, g_esk) == 0);
  g_ready = true;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  VE_ASSERT(d != NULL);
  if (n) memcpy(d, p, n);
  return d;
}

static void check_auth(const uint8_t *plain, const uint8_t *e_i) {
  uint8_t pk[VCRYPTO_PK_BYTES];
  int rc = net_auth_check(plain, NET_ROLE_INITIATOR, g_chain, e_i, g_epk, pk);
  VE_ASSERT(rc == VE_OK || rc == VE_ERR_BAD_SIG);
  if (rc == VE_OK) VE_ASSERT(memcmp(pk, plain, VCRYPTO_PK_BYTES) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) setup();
  if (size < NET_HELLO_BYTES) return 0;
  uint8_t *hello = dup_bytes(data, NET_HELLO_BYTES);
  uint8_t peer_epk[NET_KEY_BYTES];
  int rc = net_hello_decode(hello, g_chain, peer_epk);
  VE_ASSERT(rc == VE_OK || rc == VE_ERR_MALFORMED || rc == VE_ERR_VERSION ||
            rc == VE_ERR_WRONG_CHAIN);
  if (rc != VE_OK) {
    free(hello);
    return 0;
  }
  uint8_t again[NET_HELLO_BYTES];
  net_hello_encode(again, g_chain, peer_epk);
  VE_ASSERT(memcmp(again, hello, NET_HELLO_BYTES) == 0);
  free(hello);

  net_session_t s;
  rc = net_session_derive(&s, NET_ROLE_RESPONDER, g_esk, peer_epk, g_epk, g_chain);
  bool reflected = memcmp(peer_epk, g_epk, NET_KEY_BYTES) == 0;
  VE_ASSERT(reflected ? rc == VE_ERR_MALFORMED : rc == VE_OK || rc == VE_ERR_CRYPTO);
  if (rc != VE_OK) return 0;

  const uint8_t *rest = data + NET_HELLO_BYTES;
  size_t rest_len = size - NET_HELLO_BYTES;
  if (rest_len >= NET_AUTH_PLAIN_BYTES) {
    uint8_t *plain = dup_bytes(rest, NET_AUTH_PLAIN_BYTES);
    check_auth(plain, peer_epk);
    free(plain);
  }
  if (rest_len >= NET_LEN_BYTES) {
    uint8_t hdr[NET_LEN_BYTES];
    memcpy(hdr, rest, NET_LEN_BYTES);
    size_t ct_len = rest_len - NET_LEN_BYTES;
    uint8_t *ct = dup_bytes(rest + NET_LEN_BYTES, ct_len);
    rc = net_open(&s, hdr, ct, ct_len);
    VE_ASSERT(rc == VE_OK || rc == VE_ERR_CRYPTO);
    VE_ASSERT(s.ctr_rx == (rc == VE_OK ? 1u : 0u));
    if (rc == VE_OK && ct_len - NET_AEAD_TAG_BYTES == NET_AUTH_PLAIN_BYTES) check_auth(ct, peer_epk);
    free(ct);
  }
  net_session_wipe(&s);
  return 0;
}
