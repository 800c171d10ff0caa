/* fuzz_identity_exec.c — arbitrary identity payloads executed for real.
 *
 * A chain with an admin+registrar authority is set up once in a memory store;
 * each input is a payload executed as every identity tx type, in a dry run on a
 * read transaction (nothing is committed, so runs are independent). Whatever the
 * payload, execution returns 0 or a real error code, never crashes, and the
 * overlay is discarded cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "fuzz_chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ledger_registry_t REG = {&identity_auth, {&identity_app}, 1, NULL};
static store_t *g_store;
static vcrypto_keypair_t g_admin;

static void setup(void) {
  g_store = fuzz_chain_open(&REG, &g_admin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_store) setup();
  if (size > VE_TX_PAYLOAD_BYTES_MAX) return 0;
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(g_store, false, &t) == VE_OK);
  for (uint32_t type = TX_TYPE_IDENTITY_REGISTER; type <= TX_TYPE_IDENTITY_SET_ROLES + 1; type++) {
    ledger_exec_t *ex;
    VE_ASSERT(ledger_exec_begin(&ex, &REG, t, ve_slice("fuzz", 4), 1, 1) == VE_OK);
    ledger_tx_t tx = {.version = 1, .chain_id = ve_slice("fuzz", 4), .seq = 1, .expiry = 10,
                      .type = type, .payload = ve_slice(data, size)};
    memcpy(tx.signer, g_admin.pk, 32);
    int rc = ledger_exec_tx(ex, &tx);
    VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN);
    ledger_exec_free(ex);
  }
  store_txn_abort(t);
  return 0;
}
