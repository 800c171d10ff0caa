/* fuzz_ledger_block.c — block and header decoding: rejected with a real error,
 * or the header re-encodes identically and the block re-encodes identically
 * from its decoded parts (the tx root was already checked by the decoder). */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ledger_header_t h;
  int rc = ledger_header_decode(ve_slice(data, size), &h);
  if (rc == VE_OK) {
    ve_buf_t out;
    ve_buf_init(&out, 0);
    VE_ASSERT(ledger_header_encode(&h, &out) == VE_OK);
    VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
    ve_buf_free(&out);
  } else {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
  }
  ledger_block_t b;
  rc = ledger_block_decode(ve_slice(data, size), &b);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return 0;
  }
  ve_buf_t out;
  ve_buf_init(&out, 0);
  VE_ASSERT(ledger_block_encode(&b.header, b.txs, b.tx_count, &out) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
  ve_buf_free(&out);
  ledger_block_free(&b);
  return 0;
}
