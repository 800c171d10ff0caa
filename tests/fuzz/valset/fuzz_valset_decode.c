/* fuzz_valset_decode.c — the validator-set app's strict decoders on arbitrary
 * bytes: every input is refused with a real error code, or is a value within
 * the app's limits that re-encodes to exactly its own bytes (docs/encoding.md,
 * "Validator-set changes").
 *
 * Input: one selector byte (modulo 3), then the bytes.
 *   0 VALSET_CHANGE payload  valset_change_decode / valset_change_encode
 *   1 "valset/meta" value    valset_meta_decode / valset_meta_encode
 *   2 epoch record           valset_record_decode / valset_record_encode
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/valset/valset.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_err(int rc) { VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN); }

/* out must hold exactly in; frees out. */
static void assert_same(ve_buf_t *out, ve_slice_t in) {
  VE_ASSERT(ve_slice_eq(ve_buf_slice(out), in));
  ve_buf_free(out);
}

static void fuzz_change(ve_slice_t in) {
  static valset_change_t c; /* ~14 KiB */
  int rc = valset_change_decode(in, &c);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(in.len <= VALSET_PAYLOAD_BYTES_MAX);
  VE_ASSERT(cons_valset_check(&c.set) == VE_OK);
  VE_ASSERT(c.n_approvals >= 1 && c.n_approvals <= VE_VALIDATORS_MAX);
  for (uint32_t i = 0; i < c.n_approvals; i++) {
    VE_ASSERT(c.approvals[i].index < VE_VALIDATORS_MAX);
    VE_ASSERT(i == 0 || c.approvals[i - 1].index < c.approvals[i].index);
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(valset_change_encode(&out, &c) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_meta(ve_slice_t in) {
  valset_meta_t m;
  int rc = valset_meta_decode(in, &m);
  if (rc) {
    assert_err(rc);
    return;
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(valset_meta_encode(&out, &m) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_record(ve_slice_t in) {
  static cons_valset_t set; /* ~5 KiB */
  uint64_t from;
  int rc = valset_record_decode(in, &from, &set);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(cons_valset_check(&set) == VE_OK);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(valset_record_encode(&out, from, &set) == VE_OK);
  assert_same(&out, in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: fuzz_change(in); break;
    case 1: fuzz_meta(in); break;
    default: fuzz_record(in); break;
  }
  return 0;
}
