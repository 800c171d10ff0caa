/* codec_property_test.c — seeded properties of the canonical encoding over
 * random schemas (see codec_schema.h):
 *   1. random values of random typed fields encode, decode back to equal
 *      values, and re-encode to identical bytes;
 *   2. for random and mutated byte strings, decoding with a schema either
 *      fails or re-encodes to exactly the input: encode(decode(b)) == b for
 *      every accepted b;
 *   3. a structure nested one level deeper than VE_CODEC_DEPTH_MAX is refused.
 * Prints its seed; replay a failure with VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/limits.h"
#include "codec/codec.h"
#include "codec_schema.h"
#include "trng.h"

#define ROUNDS 20000

static uint64_t g_seed, g_rng;
static uint64_t rng_next(void) { return trng_step(&g_rng); }

static schema_values_t *g_a, *g_b;
static ve_buf_t g_enc, g_re;

static int group_setup(void **state) {
  (void)state;
  const char *env = getenv("VECHE_SEED");
  uint64_t fallback = (uint64_t)(uintptr_t)&fallback;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    if (fread(&fallback, sizeof fallback, 1, f) != 1) fallback ^= 0x5eed;
    fclose(f);
  }
  g_seed = env ? strtoull(env, NULL, 0) : fallback;
  printf("# codec_property_test seed: VECHE_SEED=%llu\n", (unsigned long long)g_seed);
  g_a = malloc(sizeof *g_a);
  g_b = malloc(sizeof *g_b);
  ve_buf_init(&g_enc, 1 << 22);
  ve_buf_init(&g_re, 1 << 22);
  return g_a && g_b ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  free(g_a);
  free(g_b);
  ve_buf_free(&g_enc);
  ve_buf_free(&g_re);
  return 0;
}

/* Each test restarts the stream from the seed so it replays on its own. */
static void rng_reset(uint64_t salt) { g_rng = g_seed ^ (salt * 0x9e3779b97f4a7c15ull); }

static void dump_case(const char *what, unsigned round, const uint8_t *schema, size_t slen,
                      const ve_buf_t *in) {
  char hex[2 * 256 + 1];
  ve_hex_encode(hex, schema, slen < 256 ? slen : 256);
  fprintf(stderr, "%s: round %u seed %llu\n  schema %s\n", what, round,
          (unsigned long long)g_seed, hex);
  size_t n = in->len < 256 ? in->len : 256;
  ve_hex_encode(hex, in->ptr ? in->ptr : (const uint8_t *)"", n);
  fprintf(stderr, "  input  %s%s\n", hex, in->len > 256 ? "..." : "");
}

static void test_typed_round_trip(void **state) {
  (void)state;
  rng_reset(1);
  unsigned done = 0, skipped = 0;
  for (unsigned round = 0; round < ROUNDS; round++) {
    uint8_t text[64];
    size_t tlen = schema_random_text(text, sizeof text, VE_CODEC_DEPTH_MAX, rng_next);
    schema_t s;
    schema_parse(&s, text, tlen);
    assert_true(s.nest_max <= VE_CODEC_DEPTH_MAX);
    if (schema_generate(&s, rng_next, g_a) == SCHEMA_BUDGET) {
      skipped++;
      continue;
    }
    ve_buf_reset(&g_enc);
    int rc = schema_encode(&s, g_a, &g_enc);
    if (rc) {
      dump_case("encode failed", round, text, tlen, &g_enc);
      fail_msg("encode: %s", ve_err_name(rc));
    }
    rc = schema_decode(&s, ve_buf_slice(&g_enc), g_b);
    if (rc) {
      dump_case("decode of a fresh encoding failed", round, text, tlen, &g_enc);
      fail_msg("decode: %s", rc == SCHEMA_BUDGET ? "budget" : ve_err_name(rc));
    }
    if (!schema_values_eq(g_a, g_b)) {
      dump_case("decoded values differ", round, text, tlen, &g_enc);
      fail();
    }
    ve_buf_reset(&g_re);
    assert_int_equal(schema_encode(&s, g_b, &g_re), VE_OK);
    if (!ve_slice_eq(ve_buf_slice(&g_enc), ve_buf_slice(&g_re))) {
      dump_case("re-encoding differs", round, text, tlen, &g_enc);
      fail();
    }
    done++;
  }
  printf("# typed round trip: %u schemas, %u skipped (too costly)\n", done, skipped);
  assert_true(done > ROUNDS * 9 / 10);
}

/* One random edit of b: flip, set, insert, delete, truncate or append. */
static void mutate(ve_buf_t *b) {
  uint8_t byte = (uint8_t)rng_next();
  static const uint8_t special[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xff};
  if (rng_next() & 1) byte = special[rng_next() % sizeof special];
  size_t at = b->len ? (size_t)(rng_next() % b->len) : 0;
  switch (rng_next() % 6) {
    case 0:
      if (b->len) b->ptr[at] ^= (uint8_t)(1u << (rng_next() % 8));
      break;
    case 1:
      if (b->len) b->ptr[at] = byte;
      break;
    case 2:
      if (ve_buf_append(b, "", 1) == VE_OK) {
        memmove(b->ptr + at + 1, b->ptr + at, b->len - 1 - at);
        b->ptr[at] = byte;
      }
      break;
    case 3:
      if (b->len) {
        memmove(b->ptr + at, b->ptr + at + 1, b->len - at - 1);
        b->len--;
      }
      break;
    case 4:
      b->len = at;
      break;
    default:
      (void)ve_buf_append(b, &byte, 1);
  }
}

static void test_accepted_bytes_are_canonical(void **state) {
  (void)state;
  rng_reset(2);
  unsigned accepted = 0, rejected = 0;
  unsigned by_err[-VE_ERR_MIN + 1];
  memset(by_err, 0, sizeof by_err);
  for (unsigned round = 0; round < ROUNDS * 2; round++) {
    uint8_t text[64];
    size_t tlen = 0;
    if (round % 8 == 7) {
      /* Wrap in nests reaching just past the depth limit, or just inside it. */
      unsigned wrap = VE_CODEC_DEPTH_MAX - 1 + (unsigned)(rng_next() % 3);
      for (; tlen < wrap; tlen++) text[tlen] = SCHEMA_NEST;
    }
    tlen += schema_random_text(text + tlen, sizeof text - tlen, 2, rng_next);
    schema_t s;
    schema_parse(&s, text, tlen);
    ve_buf_reset(&g_enc);
    if (round % 4 == 0) {
      /* Pure random bytes. */
      size_t n = rng_next() % 48;
      for (size_t i = 0; i < n; i++) {
        uint8_t x = (uint8_t)rng_next();
        assert_int_equal(ve_buf_append(&g_enc, &x, 1), VE_OK);
      }
    } else {
      /* A valid encoding with a few random edits. */
      if (schema_generate(&s, rng_next, g_a) != 0) continue;
      assert_int_equal(schema_encode(&s, g_a, &g_enc), VE_OK);
      unsigned edits = 1 + (unsigned)(rng_next() % 3);
      for (unsigned e = 0; e < edits; e++) mutate(&g_enc);
    }
    int rc = schema_decode(&s, ve_buf_slice(&g_enc), g_b);
    if (rc == SCHEMA_BUDGET) continue;
    if (rc != VE_OK) {
      assert_true(rc < 0 && rc >= VE_ERR_MIN);
      by_err[-rc]++;
      rejected++;
      continue;
    }
    accepted++;
    ve_buf_reset(&g_re);
    assert_int_equal(schema_encode(&s, g_b, &g_re), VE_OK);
    if (!ve_slice_eq(ve_buf_slice(&g_enc), ve_buf_slice(&g_re))) {
      dump_case("accepted input does not re-encode to itself", round, text, tlen, &g_enc);
      fail();
    }
  }
  printf("# canonical: %u accepted, %u rejected (malformed %u, non_canonical %u, too_big %u, "
         "trailing %u, too_deep %u)\n",
         accepted, rejected, by_err[-VE_ERR_MALFORMED], by_err[-VE_ERR_NONCANONICAL],
         by_err[-VE_ERR_TOO_BIG], by_err[-VE_ERR_TRAILING], by_err[-VE_ERR_DEPTH]);
  /* The mix must exercise both sides and the main rejection kinds. */
  assert_true(accepted > ROUNDS / 10);
  assert_true(by_err[-VE_ERR_MALFORMED] > 0);
  assert_true(by_err[-VE_ERR_NONCANONICAL] > 0);
  assert_true(by_err[-VE_ERR_TOO_BIG] > 0);
  assert_true(by_err[-VE_ERR_TRAILING] > 0);
  assert_true(by_err[-VE_ERR_DEPTH] > 0);
}

/* nest^d u8 end^d: depth d is accepted iff d <= VE_CODEC_DEPTH_MAX; the same
 * holds for lists of lists. */
static void test_depth_limit(void **state) {
  (void)state;
  for (unsigned d = 1; d <= VE_CODEC_DEPTH_MAX + 2; d++) {
    for (int as_list = 0; as_list < 2; as_list++) {
      uint8_t text[64];
      size_t n = 0;
      for (unsigned i = 0; i < d; i++) {
        text[n++] = as_list ? SCHEMA_LIST : SCHEMA_NEST;
        if (as_list) text[n++] = 1; /* max 1 item */
      }
      text[n++] = SCHEMA_U8;
      for (unsigned i = 0; i < d; i++) text[n++] = SCHEMA_END;
      schema_t s;
      schema_parse(&s, text, n);
      assert_int_equal(s.nest_max, d);
      /* Encoding: a count of 1 per list level, then the byte. */
      uint8_t enc[32];
      size_t len = 0;
      if (as_list)
        for (unsigned i = 0; i < d; i++) enc[len++] = 1;
      enc[len++] = 0x42;
      int rc = schema_decode(&s, ve_slice(enc, len), g_b);
      assert_int_equal(rc, d <= VE_CODEC_DEPTH_MAX ? VE_OK : VE_ERR_DEPTH);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_typed_round_trip),
      cmocka_unit_test(test_accepted_bytes_are_canonical),
      cmocka_unit_test(test_depth_limit),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
