/* fuzz_chain.h — the small chain the execution harnesses run transactions on.
 *
 * A memory store holding genesis of chain FUZZ_CHAIN_ID: one validator and one
 * authority with every role, both the key from seed {7, 0, ...} (the seeds in
 * the corpora are signed-for by that key). Deterministic; made once per
 * harness process. */
#ifndef VECHE_TESTS_FUZZ_FUZZ_CHAIN_H
#define VECHE_TESTS_FUZZ_FUZZ_CHAIN_H

#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define FUZZ_CHAIN_ID "fuzz"

/* Opens the store and writes genesis through reg; *admin_out gets the key.
 * Aborts on any error (a harness cannot run without its chain). */
store_t *fuzz_chain_open(const ledger_registry_t *reg, vcrypto_keypair_t *admin_out);

#endif
