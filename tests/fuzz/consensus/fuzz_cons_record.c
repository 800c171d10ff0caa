/* fuzz_cons_record.c — persisted "about to sign" records as read back from disk
 * after a restart: rejected with a real error code, or re-encoded to exactly
 * their own bytes (the encoder's preconditions hold for every accepted record). */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "consensus/cons_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cons_record_t rec;
  int rc = cons_record_decode(ve_slice(data, size), &rec);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return 0;
  }
  VE_ASSERT(size <= CONS_RECORD_BYTES_MAX);
  ve_buf_t out;
  ve_buf_init(&out, size + 1);
  VE_ASSERT(cons_record_encode(&out, &rec) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
  ve_buf_free(&out);
  return 0;
}
