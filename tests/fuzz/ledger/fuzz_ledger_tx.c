/* fuzz_ledger_tx.c — transaction decoding: every input is either rejected with
 * a real error code or re-encodes to exactly its own bytes (docs/encoding.md). */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ledger_tx_t tx;
  int rc = ledger_tx_decode(ve_slice(data, size), &tx);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return 0;
  }
  ve_buf_t out;
  ve_buf_init(&out, size + 1);
  VE_ASSERT(ledger_tx_encode(&tx, &out) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
  int sig = ledger_tx_verify_sig(&tx); /* any bytes: must not crash */
  VE_ASSERT(sig == VE_OK || sig == VE_ERR_BAD_SIG);
  ve_buf_free(&out);
  return 0;
}
