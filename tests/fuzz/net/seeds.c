/* seeds.c — writes the net harnesses' seed corpus with the harnesses' fixed
 * keys (chain "fuzz"; initiator ephemeral secret 0x11.., responder 0x42.. for
 * net_hello, 0x22.. for net_frame; node key seed {5, 0, ...}):
 *   net_hello/hello_auth   a HELLO followed by a correctly sealed AUTH frame
 *   net_hello/hello_only   the HELLO alone
 *   net_frame/sealed_*     frames the harness's responder session opens
 *   net_reader/<name>      scripts and streams for the reader (layout in
 *                          fuzz_net_reader.c): a handshake and frames fed in
 *                          one piece, by bytes and in mixed chunks, a frame above
 *                          NET_BODY_KEEP_BYTES filled by padding, each bound
 *                          broken, and records in phases out of order
 *
 *   cmake --build <fuzz build> --target fuzz_net_seeds
 *   <fuzz build>/tests/fuzz/net/fuzz_net_seeds tests/fuzz/net/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "net/net_int.h"
#include "fuzz_seed_file.h"

static void keys(uint8_t esk[NET_KEY_BYTES], uint8_t epk[NET_KEY_BYTES], uint8_t fill) {
  memset(esk, fill, NET_KEY_BYTES);
  VE_ASSERT(crypto_scalarmult_base(epk, esk) == 0);
}

/* One net_reader seed: script (np phase bytes, nc chunk bytes, pad), then the
 * stream parts. */
typedef struct {
  uint8_t b[1024];
  size_t n;
} seed_t;

static void seed_put(seed_t *sd, const void *p, size_t n) {
  VE_ASSERT(n <= sizeof sd->b - sd->n);
  if (n) memcpy(sd->b + sd->n, p, n);
  sd->n += n;
}

static void seed_start(seed_t *sd, const uint8_t *phases, size_t np, const uint8_t *chunks,
                       size_t nc, uint8_t pad) {
  VE_ASSERT(np < 16 && nc < 16);
  sd->n = 0;
  uint8_t head[2] = {(uint8_t)(np | nc << 4), pad};
  seed_put(sd, head, 2);
  seed_put(sd, phases, np);
  seed_put(sd, chunks, nc);
}

static void seed_prefix(seed_t *sd, uint32_t len) {
  uint8_t h[NET_LEN_BYTES];
  net_be32_put(h, len);
  seed_put(sd, h, sizeof h);
}

/* hs: a HELLO and a sealed AUTH; ready: a sealed READY frame; empty: a sealed
 * frame without a channel byte (one byte under the minimum). */
static void reader_seeds(const char *dir, const uint8_t *hs, size_t hs_len, const uint8_t *ready,
                         size_t ready_len, const uint8_t *empty, size_t empty_len) {
  static const uint8_t by_byte[] = {0}, mixed[] = {2, 68, 200}, big[] = {0xff, 5};
  static const uint8_t out_of_order[] = {2, 0, 1, 3}, frames[] = {2, 2};
  seed_t sd;
  seed_start(&sd, NULL, 0, NULL, 0, 0);
  seed_put(&sd, hs, hs_len);
  seed_put(&sd, ready, ready_len);
  seed_put(&sd, ready, ready_len);
  fuzz_seed_file(dir, "net_reader", "handshake", sd.b, sd.n);

  seed_start(&sd, NULL, 0, by_byte, sizeof by_byte, 0);
  seed_put(&sd, hs, hs_len);
  seed_put(&sd, ready, ready_len);
  fuzz_seed_file(dir, "net_reader", "by_byte", sd.b, sd.n);

  seed_start(&sd, NULL, 0, mixed, sizeof mixed, 0);
  seed_put(&sd, hs, hs_len);
  seed_put(&sd, ready, ready_len);
  seed_put(&sd, empty, empty_len);
  fuzz_seed_file(dir, "net_reader", "under_min", sd.b, sd.n);

  /* A frame just over the keep size whose body is mostly the padding; the
   * padding left after it reads as a prefix over the maximum. */
  uint8_t pad = 0xef + (NET_BODY_KEEP_BYTES + 1000 + 32767) / 32768; /* 9 units of 32 KiB */
  seed_start(&sd, NULL, 0, big, sizeof big, pad);
  seed_put(&sd, hs, hs_len);
  seed_prefix(&sd, NET_BODY_KEEP_BYTES + 1000);
  seed_put(&sd, ready, 8);
  fuzz_seed_file(dir, "net_reader", "big_frame", sd.b, sd.n);

  seed_start(&sd, NULL, 0, NULL, 0, 0);
  seed_put(&sd, hs, NET_HELLO_BYTES);
  seed_prefix(&sd, NET_AUTH_CT_BYTES - 1);
  seed_put(&sd, hs + NET_HELLO_BYTES + NET_LEN_BYTES, NET_AUTH_CT_BYTES - 1);
  fuzz_seed_file(dir, "net_reader", "auth_wrong_length", sd.b, sd.n);

  seed_start(&sd, frames, sizeof frames, NULL, 0, 0);
  seed_put(&sd, ready, ready_len);
  seed_prefix(&sd, NET_FRAME_BYTES_MAX + 1);
  fuzz_seed_file(dir, "net_reader", "over_max", sd.b, sd.n);

  seed_start(&sd, out_of_order, sizeof out_of_order, mixed, sizeof mixed, 0);
  seed_put(&sd, ready, ready_len);
  seed_put(&sd, hs, hs_len);
  seed_put(&sd, ready, ready_len);
  fuzz_seed_file(dir, "net_reader", "phases_out_of_order", sd.b, sd.n);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir holding net_hello/ net_frame/ net_reader/>\n", argv[0]);
    return 2;
  }
  VE_ASSERT(vcrypto_init() == VE_OK);
  uint8_t chain[NET_KEY_BYTES], esk_i[NET_KEY_BYTES], e_i[NET_KEY_BYTES];
  uint8_t esk_r[NET_KEY_BYTES], e_r[NET_KEY_BYTES];
  net_chain_hash(chain, "fuzz");
  keys(esk_i, e_i, 0x11);

  /* net_hello: we are the initiator talking to the harness (responder 0x42..) */
  keys(esk_r, e_r, 0x42);
  uint8_t msg[NET_HELLO_BYTES + NET_LEN_BYTES + NET_AUTH_CT_BYTES];
  net_hello_encode(msg, chain, e_i);
  fuzz_seed_file(argv[1], "net_hello", "hello_only", msg, NET_HELLO_BYTES);
  net_session_t s;
  VE_ASSERT(net_session_derive(&s, NET_ROLE_INITIATOR, esk_i, e_i, e_r, chain) == VE_OK);
  vcrypto_keypair_t node;
  uint8_t seed[32] = {5};
  vcrypto_keypair_from_seed(&node, seed);
  uint8_t *frame = msg + NET_HELLO_BYTES;
  net_auth_make(frame + NET_LEN_BYTES, &node, NET_ROLE_INITIATOR, chain, e_i, e_r);
  VE_ASSERT(net_seal(&s, frame, NET_AUTH_PLAIN_BYTES) == VE_OK);
  fuzz_seed_file(argv[1], "net_hello", "hello_auth", msg, sizeof msg);

  /* net_frame: sessions of 0x11.. (initiator) and 0x22.. (responder) */
  keys(esk_r, e_r, 0x22);
  VE_ASSERT(net_session_derive(&s, NET_ROLE_INITIATOR, esk_i, e_i, e_r, chain) == VE_OK);
  uint8_t f[NET_LEN_BYTES + 1 + NET_CONTROL_BYTES + NET_AEAD_TAG_BYTES] = {0};
  f[NET_LEN_BYTES] = NET_CH_CONTROL;
  f[NET_LEN_BYTES + 1] = NET_CTL_READY;
  VE_ASSERT(net_seal(&s, f, 1 + NET_CONTROL_BYTES) == VE_OK);
  fuzz_seed_file(argv[1], "net_frame", "sealed_ready", f, sizeof f);
  VE_ASSERT(net_session_derive(&s, NET_ROLE_INITIATOR, esk_i, e_i, e_r, chain) == VE_OK);
  uint8_t g[NET_LEN_BYTES + NET_AEAD_TAG_BYTES] = {0};
  VE_ASSERT(net_seal(&s, g, 0) == VE_OK);
  fuzz_seed_file(argv[1], "net_frame", "sealed_empty", g, sizeof g);
  reader_seeds(argv[1], msg, sizeof msg, f, sizeof f, g, sizeof g);
  net_session_wipe(&s);
  return 0;
}
