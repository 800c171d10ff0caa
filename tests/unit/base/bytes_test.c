/* bytes_test.c — bounded buffers, hex and big-endian helpers.
 *
 * The buffer tests link with -Wl,--wrap=malloc,--wrap=realloc so every request
 * bytes.c makes to the allocator is seen: a buffer must refuse (VE_ERR_TOO_BIG)
 * before asking for a single byte past its cap_max, because cap_max is what
 * bounds memory fed by peers and clients. Random tests print their seed and
 * replay with VECHE_SEED=<seed>. */
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
#include "trng.h"

/* ---- allocator watch ---- */

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
static size_t g_alloc_max_bytes; /* largest single request seen since reset */
static size_t g_alloc_calls;

void *__wrap_malloc(size_t n) {
  if (n > g_alloc_max_bytes) g_alloc_max_bytes = n;
  g_alloc_calls++;
  return __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n) {
  if (n > g_alloc_max_bytes) g_alloc_max_bytes = n;
  g_alloc_calls++;
  return __real_realloc(p, n);
}

static void alloc_watch_reset(void) {
  g_alloc_max_bytes = 0;
  g_alloc_calls = 0;
}

/* ---- seeded PRNG (splitmix64) ---- */

static uint64_t g_rng;
static uint64_t rng_next(void) { return trng_step(&g_rng); }

static int seed_setup(void **state) {
  (void)state;
  const char *env = getenv("VECHE_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)(uintptr_t)&seed ^ 0x5eedull;
  printf("# base_bytes_test seed: VECHE_SEED=%llu\n", (unsigned long long)seed);
  g_rng = seed;
  return 0;
}

/* ---- buffers ---- */

static void test_buf_default_cap(void **state) {
  (void)state;
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(b.cap_max, VE_BUF_DEFAULT_MAX);
  assert_null(b.ptr);
  assert_int_equal(b.len, 0);
  ve_buf_free(&b);
}

static void test_buf_append_up_to_cap(void **state) {
  (void)state;
  ve_buf_t b;
  ve_buf_init(&b, 100);
  uint8_t chunk[60];
  memset(chunk, 0xab, sizeof chunk);
  alloc_watch_reset();
  assert_int_equal(ve_buf_append(&b, chunk, 60), VE_OK);
  assert_int_equal(ve_buf_append(&b, chunk, 41), VE_ERR_TOO_BIG);
  assert_int_equal(b.len, 60); /* a refused append changes nothing */
  assert_int_equal(ve_buf_append(&b, chunk, 40), VE_OK);
  assert_int_equal(b.len, 100);
  assert_int_equal(ve_buf_append(&b, chunk, 1), VE_ERR_TOO_BIG);
  assert_int_equal(ve_buf_append(&b, chunk, 0), VE_OK); /* nothing to add always fits */
  assert_int_equal(b.len, 100);
  assert_true(b.cap <= b.cap_max);
  assert_true(g_alloc_calls > 0); /* the wrap sees bytes.c's requests */
  assert_true(g_alloc_max_bytes <= 100);
  for (size_t i = 0; i < b.len; i++) assert_int_equal(b.ptr[i], 0xab);
  ve_buf_free(&b);
  assert_null(b.ptr);
  assert_int_equal(b.len, 0);
}

static void test_buf_reserve_huge_refused_without_alloc(void **state) {
  (void)state;
  ve_buf_t b;
  ve_buf_init(&b, 1000);
  alloc_watch_reset();
  assert_int_equal(ve_buf_reserve(&b, 1001), VE_ERR_TOO_BIG);
  assert_int_equal(ve_buf_reserve(&b, SIZE_MAX), VE_ERR_TOO_BIG);
  assert_int_equal(ve_buf_reserve(&b, SIZE_MAX / 2 + 1), VE_ERR_TOO_BIG);
  assert_int_equal(g_alloc_calls, 0);
  assert_null(b.ptr);
  /* With some content the sum len + extra must not wrap around. */
  assert_int_equal(ve_buf_append(&b, "x", 1), VE_OK);
  alloc_watch_reset();
  assert_int_equal(ve_buf_reserve(&b, SIZE_MAX), VE_ERR_TOO_BIG);
  assert_int_equal(ve_buf_reserve(&b, 1000), VE_ERR_TOO_BIG);
  assert_int_equal(g_alloc_calls, 0);
  assert_int_equal(ve_buf_reserve(&b, 999), VE_OK);
  assert_true(b.cap >= 1000);     /* room for len + extra */
  assert_true(b.cap <= b.cap_max); /* and not a byte more than allowed */
  ve_buf_free(&b);
}

/* Random appends against random caps: the buffer never holds nor requests more
 * than cap_max, and its content is exactly what was appended. */
static void test_buf_random_growth(void **state) {
  (void)state;
  static uint8_t shadow[8192];
  uint8_t chunk[700];
  for (int round = 0; round < 200; round++) {
    size_t cap_max = 1 + rng_next() % 4000;
    ve_buf_t b;
    ve_buf_init(&b, cap_max);
    size_t len = 0;
    alloc_watch_reset();
    for (int i = 0; i < 40; i++) {
      size_t n = rng_next() % sizeof chunk;
      for (size_t k = 0; k < n; k++) chunk[k] = (uint8_t)rng_next();
      int rc = ve_buf_append(&b, chunk, n);
      if (len + n <= cap_max) {
        assert_int_equal(rc, VE_OK);
        memcpy(shadow + len, chunk, n);
        len += n;
      } else {
        assert_int_equal(rc, VE_ERR_TOO_BIG);
      }
      assert_int_equal(b.len, len);
      assert_true(b.cap <= cap_max);
      assert_true(g_alloc_max_bytes <= cap_max);
    }
    if (len) assert_memory_equal(b.ptr, shadow, len);
    if (rng_next() & 1) {
      ve_buf_reset(&b);
      assert_int_equal(b.len, 0);
      ve_buf_free(&b);
    } else {
      ve_buf_wipe_free(&b);
    }
    assert_null(b.ptr);
  }
}

static void test_buf_slice_and_eq(void **state) {
  (void)state;
  ve_buf_t b;
  ve_buf_init(&b, 64);
  assert_int_equal(ve_buf_append(&b, "hello", 5), VE_OK);
  ve_slice_t s = ve_buf_slice(&b);
  assert_int_equal(s.len, 5);
  assert_true(ve_slice_eq(s, ve_slice("hello", 5)));
  assert_false(ve_slice_eq(s, ve_slice("hellp", 5)));
  assert_false(ve_slice_eq(s, ve_slice("hell", 4)));
  assert_true(ve_slice_eq(ve_slice(NULL, 0), ve_slice("x", 0)));
  assert_false(ve_slice_eq(ve_slice(NULL, 0), ve_slice("x", 1)));
  ve_buf_free(&b);
}

/* ---- hex ---- */

static void test_hex_known(void **state) {
  (void)state;
  const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  char out[2 * sizeof in + 1];
  memset(out, 'Z', sizeof out);
  ve_hex_encode(out, in, sizeof in);
  assert_string_equal(out, "00017f80abff");
  ve_hex_encode(out, in, 0);
  assert_string_equal(out, "");
  uint8_t back[sizeof in];
  assert_int_equal(ve_hex_decode(back, sizeof back, "00017F80AbfF"), VE_OK);
  assert_memory_equal(back, in, sizeof in);
  assert_int_equal(ve_hex_decode(back, 0, ""), VE_OK);
}

static void test_hex_round_trip_random(void **state) {
  (void)state;
  uint8_t in[200], back[200];
  char hex[401];
  for (int round = 0; round < 500; round++) {
    size_t n = rng_next() % sizeof in;
    for (size_t i = 0; i < n; i++) in[i] = (uint8_t)rng_next();
    ve_hex_encode(hex, in, n);
    assert_int_equal(strlen(hex), 2 * n);
    assert_int_equal(ve_hex_decode(back, n, hex), VE_OK);
    if (n) assert_memory_equal(back, in, n);
  }
}

static void test_hex_rejects_bad(void **state) {
  (void)state;
  uint8_t out[4];
  const char *bad[] = {
      "",          /* too short */
      "0011223",   /* odd length */
      "001122",    /* too short by one byte */
      "0011223344", /* too long */
      "0011223g",  /* not a digit */
      "0x112233",  /* prefix */
      " 0112233",  /* space */
      "00112233\n" /* trailing newline makes it too long */,
      "0011-233",  /* sign */
      "00112:33",  /* ':' sits right after '9' */
      "00112@33",  /* '@' sits right before 'A' */
      "00112`33",  /* '`' sits right before 'a' */
      "00112G33",  /* 'G' right after 'F' */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (ve_hex_decode(out, sizeof out, bad[i]) != VE_ERR_MALFORMED)
      fail_msg("accepted bad hex \"%s\"", bad[i]);
  }
  assert_int_equal(ve_hex_decode(out, sizeof out, NULL), VE_ERR_MALFORMED);
  /* Every single non-hex byte value is refused in every position. */
  char s[9] = "00000000";
  for (int c = 1; c < 256; c++) {
    bool is_hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    for (int pos = 0; pos < 8; pos++) {
      memcpy(s, "00000000", 8);
      s[pos] = (char)c;
      int rc = ve_hex_decode(out, sizeof out, s);
      assert_int_equal(rc, is_hex ? VE_OK : VE_ERR_MALFORMED);
    }
  }
}

/* ---- big-endian ---- */

static void test_be64_known(void **state) {
  (void)state;
  uint8_t b[8];
  ve_be64_put(b, 0x0102030405060708ull);
  const uint8_t want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  assert_memory_equal(b, want, 8);
  assert_int_equal(ve_be64_get(b), 0x0102030405060708ull);
  ve_be64_put(b, 0);
  assert_memory_equal(b, "\0\0\0\0\0\0\0\0", 8);
  ve_be64_put(b, UINT64_MAX);
  assert_memory_equal(b, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  assert_true(ve_be64_get(b) == UINT64_MAX);
  ve_be64_put(b, 0x8000000000000000ull);
  assert_memory_equal(b, "\x80\0\0\0\0\0\0\0", 8);
}

/* Round trip, and byte order equals numeric order (what store keys rely on). */
static void test_be64_round_trip_and_order(void **state) {
  (void)state;
  for (int i = 0; i < 2000; i++) {
    uint64_t x = rng_next() >> (rng_next() % 64), y = rng_next() >> (rng_next() % 64);
    uint8_t bx[8], by[8];
    ve_be64_put(bx, x);
    ve_be64_put(by, y);
    assert_true(ve_be64_get(bx) == x);
    int c = memcmp(bx, by, 8);
    assert_true((c < 0) == (x < y));
    assert_true((c == 0) == (x == y));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buf_default_cap),
      cmocka_unit_test(test_buf_append_up_to_cap),
      cmocka_unit_test(test_buf_reserve_huge_refused_without_alloc),
      cmocka_unit_test(test_buf_random_growth),
      cmocka_unit_test(test_buf_slice_and_eq),
      cmocka_unit_test(test_hex_known),
      cmocka_unit_test(test_hex_round_trip_random),
      cmocka_unit_test(test_hex_rejects_bad),
      cmocka_unit_test(test_be64_known),
      cmocka_unit_test(test_be64_round_trip_and_order),
  };
  return cmocka_run_group_tests(tests, seed_setup, NULL);
}
