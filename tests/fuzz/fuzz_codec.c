/* fuzz_codec.c — libFuzzer harness for the codec primitives.
 *
 * Input: one byte L, then L % 48 bytes of schema text (codec_schema.h), then the
 * data. The data is decoded with the schema; anything accepted must re-encode to
 * exactly the same bytes and decode again to the same values (the canonical
 * property of docs/encoding.md). Anything rejected must be rejected with a
 * VE_ERR_* code. A violation is a VE_ASSERT, i.e. a crash the fuzzer reports.
 * Also built without libFuzzer by tests/unit/codec to replay the seed corpus
 * (tests/fuzz/corpus/codec) in every build. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "codec_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SCHEMA_BYTES_MAX 48

static schema_values_t g_values, g_again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t slen = data[0] % FUZZ_SCHEMA_BYTES_MAX;
  if (slen > size - 1) slen = size - 1;
  schema_t s;
  schema_parse(&s, data + 1, slen);
  ve_slice_t in = ve_slice(data + 1 + slen, size - 1 - slen);

  int rc = schema_decode(&s, in, &g_values);
  if (rc == SCHEMA_BUDGET) return 0; /* the schema was too costly, not a codec answer */
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return 0;
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  rc = schema_encode(&s, &g_values, &out);
  VE_ASSERT(rc == VE_OK);
  VE_ASSERT(ve_slice_eq(ve_buf_slice(&out), in)); /* encode(decode(b)) == b */
  rc = schema_decode(&s, ve_buf_slice(&out), &g_again);
  VE_ASSERT(rc == VE_OK);
  VE_ASSERT(schema_values_eq(&g_values, &g_again));
  ve_buf_free(&out);
  return 0;
}
