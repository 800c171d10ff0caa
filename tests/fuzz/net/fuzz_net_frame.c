/* fuzz_net_frame.c — frames on an established link, with both ends' sessions
 * derived once from fixed ephemeral keys (chain "fuzz").
 *
 * Whatever the bytes:
 *  - as a received frame (4-byte length prefix, then ciphertext), net_open
 *    returns 0 or VE_ERR_CRYPTO and moves the receive counter only on success;
 *  - as a plaintext (up to the frame limit), it seals and opens back to itself,
 *    and then the same frame replayed, or with one bit flipped (position chosen
 *    by the input), or cut short by one byte, fails with VE_ERR_CRYPTO and moves
 *    no counter.
 * Buffers are exact-size heap blocks so ASan sees any over-read or over-write. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static net_session_t g_init, g_resp;
static bool g_ready;

static void setup(void) {
  VE_ASSERT(vcrypto_init() == VE_OK);
  uint8_t chain[NET_KEY_BYTES], esk_i[NET_KEY_BYTES], esk_r[NET_KEY_BYTES];
  uint8_t e_i[NET_KEY_BYTES], e_r[NET_KEY_BYTES];
  net_chain_hash(chain, "fuzz");
  memset(esk_i, 0x11, sizeof esk_i);
  memset(esk_r, 0x22, sizeof esk_r);
  VE_ASSERT(crypto_scalarmult_base(e_i, esk_i) == 0);
  VE_ASSERT(crypto_scalarmult_base(e_r, esk_r) == 0);
  VE_ASSERT(net_session_derive(&g_init, NET_ROLE_INITIATOR, esk_i, e_i, e_r, chain) == VE_OK);
  VE_ASSERT(net_session_derive(&g_resp, NET_ROLE_RESPONDER, esk_r, e_i, e_r, chain) == VE_OK);
  g_ready = true;
}

static void open_hostile(const uint8_t *data, size_t size) {
  if (size < NET_LEN_BYTES) return;
  net_session_t s = g_resp;
  size_t ct_len = size - NET_LEN_BYTES;
  uint8_t *ct = malloc(ct_len ? ct_len : 1);
  VE_ASSERT(ct != NULL);
  memcpy(ct, data + NET_LEN_BYTES, ct_len);
  int rc = net_open(&s, data, ct, ct_len);
  VE_ASSERT(rc == VE_OK || rc == VE_ERR_CRYPTO);
  VE_ASSERT(s.ctr_rx == g_resp.ctr_rx + (rc == VE_OK));
  free(ct);
}

static void round_trip(const uint8_t *data, size_t size) {
  if (size > NET_FRAME_BYTES_MAX - NET_AEAD_TAG_BYTES) return;
  size_t frame_len = NET_LEN_BYTES + size + NET_AEAD_TAG_BYTES;
  uint8_t *frame = malloc(frame_len), *copy = malloc(frame_len);
  VE_ASSERT(frame != NULL && copy != NULL);
  if (size) memcpy(frame + NET_LEN_BYTES, data, size);
  net_session_t tx = g_init, rx = g_resp;
  VE_ASSERT(net_seal(&tx, frame, size) == VE_OK && tx.ctr_tx == g_init.ctr_tx + 1);
  memcpy(copy, frame, frame_len);

  VE_ASSERT(net_open(&rx, frame, frame + NET_LEN_BYTES, frame_len - NET_LEN_BYTES) == VE_OK);
  VE_ASSERT(rx.ctr_rx == g_resp.ctr_rx + 1);
  VE_ASSERT(size == 0 || memcmp(frame + NET_LEN_BYTES, data, size) == 0);

  memcpy(frame, copy, frame_len); /* replayed: the counter moved on */
  VE_ASSERT(net_open(&rx, frame, frame + NET_LEN_BYTES, frame_len - NET_LEN_BYTES) ==
            VE_ERR_CRYPTO);
  VE_ASSERT(rx.ctr_rx == g_resp.ctr_rx + 1);

  net_session_t fresh = g_resp;
  size_t bit = size ? ((size_t)data[0] * 131u + size) % (frame_len * 8) : 0;
  memcpy(frame, copy, frame_len);
  frame[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  VE_ASSERT(net_open(&fresh, frame, frame + NET_LEN_BYTES, frame_len - NET_LEN_BYTES) ==
            VE_ERR_CRYPTO);
  memcpy(frame, copy, frame_len);
  VE_ASSERT(net_open(&fresh, frame, frame + NET_LEN_BYTES, frame_len - NET_LEN_BYTES - 1) ==
            VE_ERR_CRYPTO);
  VE_ASSERT(fresh.ctr_rx == g_resp.ctr_rx);
  net_session_wipe(&tx);
  net_session_wipe(&rx);
  free(frame);
  free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) setup();
  open_hostile(data, size);
  round_trip(data, size);
  return 0;
}
