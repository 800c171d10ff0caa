/* fuzz_ledger_genesis.c — genesis decoding and checking on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ledger_genesis_t *g = malloc(sizeof *g); /* large: keep it off the fuzzer's stack */
  VE_ASSERT(g != NULL);
  int rc = ledger_genesis_decode(ve_slice(data, size), g);
  if (rc == VE_OK) {
    ve_buf_t out;
    ve_buf_init(&out, 0);
    VE_ASSERT(ledger_genesis_encode(g, &out) == VE_OK);
    VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
    ve_buf_free(&out);
    rc = ledger_genesis_check(g);
    VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN);
  } else {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
  }
  free(g);
  return 0;
}
