/* fuzz_chain.c — see fuzz_chain.h. */
#include "fuzz_chain.h"

#include <string.h>

#include "apps/identity/identity.h"
#include "base/err.h"

store_t *fuzz_chain_open(const ledger_registry_t *reg, vcrypto_keypair_t *admin_out) {
  VE_ASSERT(vcrypto_init() == VE_OK);
  uint8_t seed[32] = {7};
  vcrypto_keypair_from_seed(admin_out, seed);
  static ledger_genesis_t g; /* large: not on the stack */
  memset(&g, 0, sizeof g);
  strcpy(g.chain_id, FUZZ_CHAIN_ID);
  g.suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  g.n_validators = 1;
  memcpy(g.validators[0].pk, admin_out->pk, 32);
  g.validators[0].power = 1;
  g.n_authorities = 1;
  memcpy(g.authorities[0].pk, admin_out->pk, 32);
  g.authorities[0].roles = ROLE_ALL_MASK;
  store_t *s = NULL;
  VE_ASSERT(store_open_mem(&s) == VE_OK);
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(s, true, &t) == VE_OK);
  VE_ASSERT(ledger_init_store(t, reg, &g) == VE_OK);
  VE_ASSERT(store_txn_commit(t) == VE_OK);
  return s;
}
