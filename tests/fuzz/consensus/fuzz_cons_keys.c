/* fuzz_cons_keys.c — see fuzz_cons_keys.h. */
#include "fuzz_cons_keys.h"

#include <string.h>

#include "base/err.h"

void fuzz_cons_key(vcrypto_keypair_t *kp, uint32_t i) {
  VE_ASSERT(vcrypto_init() == VE_OK);
  uint8_t seed[32] = {0};
  seed[0] = (uint8_t)(i + 1);
  vcrypto_keypair_from_seed(kp, seed);
}

void fuzz_cons_valset(cons_valset_t *vs, bool power_by_index) {
  memset(vs, 0, sizeof *vs);
  vs->count = FUZZ_CONS_VALIDATORS;
  for (uint32_t i = 0; i < FUZZ_CONS_VALIDATORS; i++) {
    vcrypto_keypair_t kp;
    fuzz_cons_key(&kp, i);
    memcpy(vs->v[i].pk, kp.pk, VCRYPTO_PK_BYTES);
    vs->v[i].power = power_by_index ? i + 1 : 1;
    vcrypto_keypair_wipe(&kp);
  }
  VE_ASSERT(cons_valset_check(vs) == VE_OK);
}

int fuzz_cons_accept_all(void *ctx, const uint8_t sig[VCRYPTO_SIG_BYTES],
                         const uint8_t pk[VCRYPTO_PK_BYTES], const char *tag, const uint8_t *msg,
                         size_t msg_len) {
  (void)ctx, (void)sig, (void)pk, (void)tag, (void)msg, (void)msg_len;
  return 0;
}
