/* fuzz_cons_record.c — persisted records as read back from disk after a
 * restart ("about to sign" records and lock records): rejected with a real
 * error code, or re-encoded to exactly their own bytes (the encoder's
 * preconditions hold for every accepted record), with cons_record_height
 * agreeing with the decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "consensus/cons_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lock_one(const uint8_t *data, size_t size) {
  cons_lock_t *l = malloc(sizeof *l);
  VE_ASSERT(l != NULL);
  int rc = cons_lock_decode(ve_slice(data, size), l);
  uint64_t h = 0;
  int hrc = cons_record_height(ve_slice(data, size), &h);
  VE_ASSERT(hrc == rc);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    free(l);
    return 0;
  }
  VE_ASSERT(h == l->height && size <= CONS_LOCK_RECORD_BYTES_MAX);
  ve_buf_t out;
  ve_buf_init(&out, size + 1);
  VE_ASSERT(cons_lock_encode(&out, l) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
  ve_buf_free(&out);
  free(l);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (cons_record_is_lock(ve_slice(data, size))) return lock_one(data, size);
  cons_record_t rec;
  int rc = cons_record_decode(ve_slice(data, size), &rec);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return 0;
  }
  VE_ASSERT(size <= CONS_RECORD_BYTES_MAX);
  uint64_t h = 0;
  VE_ASSERT(cons_record_height(ve_slice(data, size), &h) == VE_OK && h == rec.height);
  ve_buf_t out;
  ve_buf_init(&out, size + 1);
  VE_ASSERT(cons_record_encode(&out, &rec) == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), ve_slice(data, size)));
  ve_buf_free(&out);
  return 0;
}
