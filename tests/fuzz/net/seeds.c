/* seeds.c — writes the net harnesses' seed corpus with the harnesses' fixed
 * keys (chain "fuzz"; initiator ephemeral secret 0x11.., responder 0x42.. for
 * net_hello, 0x22.. for net_frame; node key seed {5, 0, ...}):
 *   net_hello/hello_auth   a HELLO followed by a correctly sealed AUTH frame
 *   net_hello/hello_only   the HELLO alone
 *   net_frame/sealed_*     frames the harness's responder session opens
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

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir holding net_hello/ net_frame/>\n", argv[0]);
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
  net_session_wipe(&s);
  return 0;
}
