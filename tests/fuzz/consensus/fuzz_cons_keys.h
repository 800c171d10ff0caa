/* fuzz_cons_keys.h — the validators the consensus harnesses and their seed
 * writer (seeds.c) share: validator i has the key from seed {i + 1, 0, ...} on
 * chain FUZZ_CONS_CHAIN, so seeds signed by seeds.c verify in the harnesses. */
#ifndef VECHE_TESTS_FUZZ_CONSENSUS_FUZZ_CONS_KEYS_H
#define VECHE_TESTS_FUZZ_CONSENSUS_FUZZ_CONS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/cons_int.h"

#define FUZZ_CONS_CHAIN "fuzz"
#define FUZZ_CONS_VALIDATORS 4

/* Key of validator i. Calls vcrypto_init first. */
void fuzz_cons_key(vcrypto_keypair_t *kp, uint32_t i);
/* The FUZZ_CONS_VALIDATORS validators, each of power 1, or of power i + 1 if
 * power_by_index; checked with cons_valset_check. */
void fuzz_cons_valset(cons_valset_t *vs, bool power_by_index);
/* A signature hook that accepts every signature (the verify_with functions),
 * so forged input reaches the rules behind the signature checks. */
int fuzz_cons_accept_all(void *ctx, const uint8_t sig[VCRYPTO_SIG_BYTES],
                         const uint8_t pk[VCRYPTO_PK_BYTES], const char *tag, const uint8_t *msg,
                         size_t msg_len);

#endif
