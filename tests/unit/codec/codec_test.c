/* codec_test.c — the canonical encoding's primitives, one rule at a time.
 *
 * Every primitive round trips; every way an input can be non-canonical,
 * truncated, oversized, too deep or followed by junk is rejected with the error
 * docs/encoding.md names for it. The conformance file
 * tests/vectors/codec_primitives.txt (also meant for a second implementation)
 * is replayed here too. Small domains are checked exhaustively. */
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

#ifndef VECHE_VECTORS_DIR
#error "VECHE_VECTORS_DIR must name tests/vectors"
#endif

/* ---- helpers ---- */

static ve_buf_t g_buf;

static int buf_setup(void **state) {
  (void)state;
  ve_buf_init(&g_buf, 1 << 20);
  return 0;
}

static int buf_teardown(void **state) {
  (void)state;
  ve_buf_free(&g_buf);
  return 0;
}

static size_t encode_uvarint(uint8_t *out, uint64_t v) {
  codec_writer_t w;
  ve_buf_reset(&g_buf);
  codec_writer_init(&w, &g_buf);
  codec_put_uvarint(&w, v);
  assert_int_equal(codec_writer_finish(&w), VE_OK);
  memcpy(out, g_buf.ptr, g_buf.len);
  return g_buf.len;
}

/* Decodes one uvarint from in and checks the end: returns the error or 0. */
static int decode_uvarint(const uint8_t *in, size_t len, uint64_t *v) {
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(in, len));
  *v = codec_get_uvarint(&r);
  return codec_reader_finish(&r);
}

static size_t unhex_alloc(uint8_t **out, const char *hex) {
  if (strcmp(hex, "-") == 0) {
    *out = malloc(1);
    return 0;
  }
  size_t n = strlen(hex) / 2;
  *out = malloc(n + 1);
  assert_non_null(*out);
  if (ve_hex_decode(*out, n, hex) != VE_OK) fail_msg("bad hex in vectors: %s", hex);
  return n;
}

static int err_from_name(const char *name) {
  if (strcmp(name, "ok") == 0) return VE_OK;
  for (int e = -1; e >= VE_ERR_MIN; e--)
    if (strcmp(ve_err_name(e), name) == 0) return e;
  fail_msg("unknown error name in vectors: %s", name);
  return VE_OK;
}

/* ---- the conformance file ---- */

typedef struct {
  char type[16], param[32], value[600], enc[600], result[32];
  unsigned line;
} vector_t;

/* Decodes v->enc as one value of v->type. Out: the value as a number or bytes. */
static int vector_decode(const vector_t *v, const uint8_t *in, size_t len, uint64_t *num,
                         uint8_t *bytes, size_t *bytes_len) {
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(in, len));
  *bytes_len = 0;
  if (strcmp(v->type, "u8") == 0) {
    *num = codec_get_u8(&r);
  } else if (strcmp(v->type, "uvarint") == 0) {
    *num = codec_get_uvarint(&r);
  } else if (strcmp(v->type, "uvarint_max") == 0) {
    *num = codec_get_uvarint_max(&r, strtoull(v->param, NULL, 10));
  } else if (strcmp(v->type, "bool") == 0) {
    *num = codec_get_bool(&r);
  } else if (strcmp(v->type, "fixed") == 0) {
    size_t n = strtoull(v->param, NULL, 10);
    assert_true(n <= 300);
    codec_get_fixed(&r, bytes, n);
    *bytes_len = n;
  } else if (strcmp(v->type, "bytes") == 0) {
    ve_slice_t s = codec_get_bytes(&r, (size_t)strtoull(v->param, NULL, 10));
    if (s.len) memcpy(bytes, s.ptr, s.len);
    *bytes_len = s.len;
  } else if (strcmp(v->type, "count") == 0) {
    char *colon = strchr(v->param, ':');
    assert_non_null(colon);
    size_t max = strtoull(v->param, NULL, 10), min = strtoull(colon + 1, NULL, 10);
    uint8_t item[64];
    assert_true(min <= sizeof item);
    *num = codec_get_count(&r, max, min);
    for (uint64_t i = 0; i < *num && !r.err; i++) codec_get_fixed(&r, item, min);
  } else {
    fail_msg("line %u: unknown type %s", v->line, v->type);
  }
  return codec_reader_finish(&r);
}

static void vector_encode(const vector_t *v, uint64_t num, const uint8_t *bytes, size_t bytes_len) {
  codec_writer_t w;
  ve_buf_reset(&g_buf);
  codec_writer_init(&w, &g_buf);
  if (strcmp(v->type, "u8") == 0) {
    codec_put_u8(&w, (uint8_t)num);
  } else if (strcmp(v->type, "uvarint") == 0 || strcmp(v->type, "uvarint_max") == 0) {
    codec_put_uvarint(&w, num);
  } else if (strcmp(v->type, "bool") == 0) {
    codec_put_bool(&w, num != 0);
  } else if (strcmp(v->type, "fixed") == 0) {
    codec_put_fixed(&w, bytes, bytes_len);
  } else if (strcmp(v->type, "bytes") == 0) {
    codec_put_bytes(&w, bytes, bytes_len, (size_t)strtoull(v->param, NULL, 10));
  } else if (strcmp(v->type, "count") == 0) {
    size_t min = strtoull(strchr(v->param, ':') + 1, NULL, 10);
    uint8_t zero[64] = {0};
    codec_put_uvarint(&w, num);
    for (uint64_t i = 0; i < num; i++) codec_put_fixed(&w, zero, min);
  }
  assert_int_equal(codec_writer_finish(&w), VE_OK);
}

static void run_vector(const vector_t *v) {
  uint8_t *in, *want_bytes = NULL;
  size_t len = unhex_alloc(&in, v->enc);
  int want = err_from_name(v->result);
  uint64_t num = 0, want_num = 0;
  uint8_t bytes[600];
  size_t bytes_len = 0, want_len = 0;
  int rc = vector_decode(v, in, len, &num, bytes, &bytes_len);
  if (rc != want)
    fail_msg("line %u (%s %s): got %s, want %s", v->line, v->type, v->enc, ve_err_name(rc),
             v->result);
  if (want == VE_OK) {
    bool is_bytes = strcmp(v->type, "fixed") == 0 || strcmp(v->type, "bytes") == 0;
    if (is_bytes) {
      want_len = unhex_alloc(&want_bytes, v->value);
      assert_int_equal(bytes_len, want_len);
      if (want_len) assert_memory_equal(bytes, want_bytes, want_len);
    } else {
      want_num = strtoull(v->value, NULL, 10);
      if (num != want_num) fail_msg("line %u: decoded %llu", v->line, (unsigned long long)num);
    }
    vector_encode(v, is_bytes ? 0 : want_num, want_bytes, want_len);
    if (g_buf.len != len || (len && memcmp(g_buf.ptr, in, len) != 0))
      fail_msg("line %u: encoding differs", v->line);
  }
  free(in);
  free(want_bytes);
}

static void test_conformance_vectors(void **state) {
  (void)state;
  const char *path = VECHE_VECTORS_DIR "/codec_primitives.txt";
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  char line[2048];
  unsigned lineno = 0, cases = 0, rejects = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '#' || line[0] == '\n') continue;
    vector_t v = {.line = lineno};
    if (sscanf(line, "%15s %31s %599s %599s %31s", v.type, v.param, v.value, v.enc, v.result) != 5)
      fail_msg("line %u: cannot parse", lineno);
    run_vector(&v);
    cases++;
    if (strcmp(v.result, "ok") != 0) rejects++;
  }
  fclose(f);
  assert_true(cases >= 80);
  assert_true(rejects >= 40);
}

/* ---- uvarint ---- */

static void test_uvarint_boundaries(void **state) {
  (void)state;
  static const struct {
    uint64_t v;
    const char *hex;
  } cases[] = {
      {0, "00"},
      {127, "7f"},
      {128, "8001"},
      {(uint64_t)1 << 32, "8080808010"},
      {(uint64_t)1 << 63, "80808080808080808001"},
      {UINT64_MAX, "ffffffffffffffffff01"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t enc[16];
    char hex[33];
    size_t n = encode_uvarint(enc, cases[i].v);
    ve_hex_encode(hex, enc, n);
    assert_string_equal(hex, cases[i].hex);
    assert_int_equal(codec_uvarint_size(cases[i].v), n);
    uint64_t back;
    assert_int_equal(decode_uvarint(enc, n, &back), VE_OK);
    assert_true(back == cases[i].v);
  }
}

/* Every value of every bit length round trips, and the size function agrees. */
static void test_uvarint_all_lengths(void **state) {
  (void)state;
  for (unsigned bits = 0; bits <= 64; bits++) {
    uint64_t lo = bits == 0 ? 0 : (uint64_t)1 << (bits - 1);
    uint64_t hi = bits == 0 ? 0 : bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    const uint64_t vals[] = {lo, hi, lo + (hi - lo) / 2, lo + (hi - lo) / 3};
    for (size_t i = 0; i < 4; i++) {
      uint8_t enc[16];
      size_t n = encode_uvarint(enc, vals[i]);
      size_t want = bits <= 7 ? 1 : (bits + 6) / 7;
      assert_int_equal(n, want);
      assert_int_equal(codec_uvarint_size(vals[i]), n);
      assert_true(n <= CODEC_UVARINT_BYTES_MAX);
      uint64_t back;
      assert_int_equal(decode_uvarint(enc, n, &back), VE_OK);
      assert_true(back == vals[i]);
      /* Every proper prefix is truncated. */
      for (size_t k = 0; k < n; k++) assert_int_equal(decode_uvarint(enc, k, &back), VE_ERR_MALFORMED);
    }
  }
}

static void test_uvarint_rejects(void **state) {
  (void)state;
  static const struct {
    const char *hex;
    int err;
  } cases[] = {
      {"8000", VE_ERR_NONCANONICAL},                 /* 0 in two bytes */
      {"ff00", VE_ERR_NONCANONICAL},                 /* 127 in two bytes */
      {"818000", VE_ERR_NONCANONICAL},               /* 1 in three bytes */
      {"80808080808080808000", VE_ERR_NONCANONICAL}, /* ten bytes ending in zero */
      {"8080808080808080808001", VE_ERR_MALFORMED},  /* eleven bytes */
      {"ffffffffffffffffff02", VE_ERR_MALFORMED},    /* 2^64: overflows in the 10th byte */
      {"ffffffffffffffffff03", VE_ERR_MALFORMED},
      {"80808080808080808040", VE_ERR_MALFORMED},
      {"80808080808080808081", VE_ERR_MALFORMED},    /* 10th byte continues */
      {"", VE_ERR_MALFORMED},                        /* truncated */
      {"80", VE_ERR_MALFORMED},
      {"ffffffff", VE_ERR_MALFORMED},
      {"0100", VE_ERR_TRAILING},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t in[16];
    size_t n = strlen(cases[i].hex) / 2;
    assert_int_equal(ve_hex_decode(in, n, cases[i].hex), VE_OK);
    uint64_t v = 12345;
    int rc = decode_uvarint(in, n, &v);
    if (rc != cases[i].err)
      fail_msg("%s: got %s want %s", cases[i].hex, ve_err_name(rc), ve_err_name(cases[i].err));
    if (cases[i].err != VE_ERR_TRAILING) assert_true(v == 0); /* a failed read yields 0 */
  }
}

/* All 65536 two-byte inputs, classified by the rule in docs/encoding.md; and
 * every accepted input re-encodes to itself. */
static void test_uvarint_exhaustive_two_bytes(void **state) {
  (void)state;
  for (unsigned x = 0; x < 65536; x++) {
    uint8_t in[2] = {(uint8_t)(x >> 8), (uint8_t)x};
    uint64_t v;
    int rc = decode_uvarint(in, 2, &v);
    int want;
    if (in[0] < 0x80) want = VE_ERR_TRAILING;
    else if (in[1] >= 0x80) want = VE_ERR_MALFORMED;
    else if (in[1] == 0) want = VE_ERR_NONCANONICAL;
    else want = VE_OK;
    assert_int_equal(rc, want);
    if (rc == VE_OK) {
      assert_true(v == ((uint64_t)(in[0] & 0x7f) | (uint64_t)in[1] << 7));
      uint8_t enc[16];
      assert_int_equal(encode_uvarint(enc, v), 2);
      assert_memory_equal(enc, in, 2);
    }
  }
}

/* Inputs of 1..10 bytes drawn from interesting byte values: whatever is
 * accepted re-encodes to exactly the same bytes. */
static void test_uvarint_accepted_are_canonical(void **state) {
  (void)state;
  static const uint8_t pick[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff};
  const size_t np = sizeof pick;
  unsigned accepted = 0;
  for (size_t len = 1; len <= CODEC_UVARINT_BYTES_MAX; len++) {
    size_t total = 1; /* all np^len inputs, or the first 7^6 of them */
    for (size_t i = 0; i < len && total * np <= 117649; i++) total *= np;
    for (size_t idx = 0; idx < total; idx++) {
      uint8_t in[16];
      size_t t = idx;
      for (size_t i = 0; i < len; i++) {
        in[i] = pick[t % np];
        t /= np;
        if (i + 1 < len && len > 6) in[i] |= 0x80; /* long inputs: mostly continuation */
      }
      uint64_t v;
      if (decode_uvarint(in, len, &v) != VE_OK) continue;
      accepted++;
      uint8_t enc[16];
      assert_int_equal(encode_uvarint(enc, v), len);
      assert_memory_equal(enc, in, len);
    }
  }
  assert_true(accepted > 1000);
}

static void test_uvarint_max(void **state) {
  (void)state;
  uint8_t enc[16];
  size_t n = encode_uvarint(enc, 1000);
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(enc, n));
  assert_true(codec_get_uvarint_max(&r, 1000) == 1000);
  assert_int_equal(codec_reader_finish(&r), VE_OK);
  codec_reader_init(&r, ve_slice(enc, n));
  assert_true(codec_get_uvarint_max(&r, 999) == 0);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_TOO_BIG);
  n = encode_uvarint(enc, UINT64_MAX);
  codec_reader_init(&r, ve_slice(enc, n));
  assert_true(codec_get_uvarint_max(&r, UINT64_MAX) == UINT64_MAX);
  assert_int_equal(codec_reader_finish(&r), VE_OK);
}

/* ---- u8, bool, fixed, bytes ---- */

static void test_u8_bool_fixed_round_trip(void **state) {
  (void)state;
  codec_writer_t w;
  ve_buf_reset(&g_buf);
  codec_writer_init(&w, &g_buf);
  for (unsigned b = 0; b < 256; b++) codec_put_u8(&w, (uint8_t)b);
  codec_put_bool(&w, true);
  codec_put_bool(&w, false);
  const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  codec_put_fixed(&w, key, 32);
  codec_put_fixed(&w, NULL, 0);
  assert_int_equal(codec_writer_finish(&w), VE_OK);
  assert_int_equal(g_buf.len, 256 + 2 + 32);
  assert_int_equal(g_buf.ptr[256], 0x01); /* true is exactly 0x01 */
  assert_int_equal(g_buf.ptr[257], 0x00);

  codec_reader_t r;
  codec_reader_init(&r, ve_buf_slice(&g_buf));
  for (unsigned b = 0; b < 256; b++) assert_int_equal(codec_get_u8(&r), b);
  assert_true(codec_get_bool(&r));
  assert_false(codec_get_bool(&r));
  uint8_t back[32];
  codec_get_fixed(&r, back, 32);
  assert_memory_equal(back, key, 32);
  codec_get_fixed(&r, back, 0);
  assert_int_equal(codec_remaining(&r), 0);
  assert_int_equal(codec_reader_finish(&r), VE_OK);
}

static void test_bool_rejects_all_other_bytes(void **state) {
  (void)state;
  for (unsigned b = 0; b < 256; b++) {
    uint8_t in = (uint8_t)b;
    codec_reader_t r;
    codec_reader_init(&r, ve_slice(&in, 1));
    bool v = codec_get_bool(&r);
    int rc = codec_reader_finish(&r);
    if (b <= 1) {
      assert_int_equal(rc, VE_OK);
      assert_int_equal(v, b == 1);
    } else {
      assert_int_equal(rc, VE_ERR_NONCANONICAL);
      assert_false(v);
    }
  }
}

static void test_bytes_round_trip_and_limits(void **state) {
  (void)state;
  uint8_t data[300];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + 1);
  const size_t lens[] = {0, 1, 127, 128, 300};
  for (size_t i = 0; i < 5; i++) {
    codec_writer_t w;
    ve_buf_reset(&g_buf);
    codec_writer_init(&w, &g_buf);
    codec_put_bytes(&w, data, lens[i], 300);
    assert_int_equal(codec_writer_finish(&w), VE_OK);
    assert_int_equal(g_buf.len, codec_uvarint_size(lens[i]) + lens[i]);
    codec_reader_t r;
    codec_reader_init(&r, ve_buf_slice(&g_buf));
    ve_slice_t s = codec_get_bytes(&r, 300);
    assert_int_equal(codec_reader_finish(&r), VE_OK);
    assert_int_equal(s.len, lens[i]);
    if (s.len) {
      assert_memory_equal(s.ptr, data, s.len);
      /* The slice borrows from the input, it is not a copy. */
      assert_ptr_equal(s.ptr, g_buf.ptr + codec_uvarint_size(lens[i]));
    }
    /* The same input with a maximum one below the length: too big. */
    if (lens[i] > 0) {
      codec_reader_init(&r, ve_buf_slice(&g_buf));
      s = codec_get_bytes(&r, lens[i] - 1);
      assert_int_equal(codec_reader_finish(&r), VE_ERR_TOO_BIG);
      assert_null(s.ptr);
      assert_int_equal(s.len, 0);
      /* Truncated by one byte: malformed. */
      codec_reader_init(&r, ve_slice(g_buf.ptr, g_buf.len - 1));
      s = codec_get_bytes(&r, 300);
      assert_int_equal(codec_reader_finish(&r), VE_ERR_MALFORMED);
      assert_int_equal(s.len, 0);
    }
  }
  /* Writing more than the field's maximum is refused too. */
  codec_writer_t w;
  ve_buf_reset(&g_buf);
  codec_writer_init(&w, &g_buf);
  codec_put_bytes(&w, data, 11, 10);
  assert_int_equal(codec_writer_finish(&w), VE_ERR_TOO_BIG);
  assert_int_equal(g_buf.len, 0);
  /* A length that would run past the end of any buffer. */
  const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xaa};
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(huge, sizeof huge));
  ve_slice_t s = codec_get_bytes(&r, SIZE_MAX);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_MALFORMED);
  assert_int_equal(s.len, 0);
}

/* ---- lists ---- */

static void test_count(void **state) {
  (void)state;
  codec_reader_t r;
  /* count 5 of items of at least 4 bytes with 20 bytes left: fine. */
  uint8_t in[32] = {5};
  codec_reader_init(&r, ve_slice(in, 21));
  assert_int_equal(codec_get_count(&r, 10, 4), 5);
  assert_int_equal(r.err, VE_OK);
  /* 19 bytes left cannot hold 5 such items. */
  codec_reader_init(&r, ve_slice(in, 20));
  assert_int_equal(codec_get_count(&r, 10, 4), 0);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_MALFORMED);
  /* Above the list's maximum: too big, before looking at the input. */
  codec_reader_init(&r, ve_slice(in, 32));
  assert_int_equal(codec_get_count(&r, 4, 1), 0);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_TOO_BIG);
  /* A count of 2^64-1 with a huge maximum still fails on the remaining input. */
  const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
  codec_reader_init(&r, ve_slice(big, sizeof big));
  assert_int_equal(codec_get_count(&r, SIZE_MAX, 1), 0);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_MALFORMED);
  /* item_bytes_min = 0 skips the remaining-input check (items may be empty). */
  codec_reader_init(&r, ve_slice(in, 1));
  assert_int_equal(codec_get_count(&r, 10, 0), 5);
  assert_int_equal(codec_reader_finish(&r), VE_OK);
  /* A non-minimal count is non-canonical. */
  const uint8_t nm[] = {0x81, 0x00, 0x00};
  codec_reader_init(&r, ve_slice(nm, sizeof nm));
  assert_int_equal(codec_get_count(&r, 10, 1), 0);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_NONCANONICAL);
}

/* ---- nesting ---- */

static void test_depth(void **state) {
  (void)state;
  const uint8_t in[1] = {0};
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(in, 1));
  for (int i = 0; i < VE_CODEC_DEPTH_MAX; i++) codec_enter(&r);
  assert_int_equal(r.err, VE_OK);
  assert_int_equal(r.depth, VE_CODEC_DEPTH_MAX);
  codec_enter(&r); /* one past the limit */
  assert_int_equal(r.err, VE_ERR_DEPTH);
  assert_int_equal(codec_get_u8(&r), 0); /* sticky: nothing more is read */
  assert_int_equal(codec_reader_finish(&r), VE_ERR_DEPTH);

  /* Leaving restores the budget: many siblings at the deepest level are fine. */
  codec_reader_init(&r, ve_slice(in, 1));
  for (int i = 0; i < VE_CODEC_DEPTH_MAX - 1; i++) codec_enter(&r);
  for (int k = 0; k < 100; k++) {
    codec_enter(&r);
    codec_leave(&r);
  }
  for (int i = 0; i < VE_CODEC_DEPTH_MAX - 1; i++) codec_leave(&r);
  assert_int_equal(r.depth, 0);
  assert_int_equal(codec_get_u8(&r), 0);
  assert_int_equal(codec_reader_finish(&r), VE_OK);
}

/* ---- trailing bytes, sticky errors ---- */

static void test_trailing(void **state) {
  (void)state;
  const uint8_t in[] = {0x01, 0x02, 0x03};
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(in, sizeof in));
  assert_int_equal(codec_get_u8(&r), 1);
  assert_int_equal(codec_remaining(&r), 2);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_TRAILING);
  assert_int_equal(codec_get_u8(&r), 2);
  assert_int_equal(codec_get_u8(&r), 3);
  assert_int_equal(codec_reader_finish(&r), VE_OK);
  /* Empty input and no fields: fine. */
  codec_reader_init(&r, ve_slice(NULL, 0));
  assert_int_equal(codec_reader_finish(&r), VE_OK);
}

static void test_reader_sticky(void **state) {
  (void)state;
  const uint8_t in[] = {0x02, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05};
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(in, sizeof in));
  assert_false(codec_get_bool(&r)); /* 0x02: non-canonical */
  assert_int_equal(r.err, VE_ERR_NONCANONICAL);
  size_t pos = r.pos;
  /* Every later read is a no-op returning zero. */
  assert_int_equal(codec_get_u8(&r), 0);
  assert_true(codec_get_uvarint(&r) == 0);
  uint8_t out[4] = {9, 9, 9, 9};
  codec_get_fixed(&r, out, 4);
  assert_memory_equal(out, "\0\0\0\0", 4); /* zeroed on error */
  ve_slice_t s = codec_get_bytes(&r, 10);
  assert_null(s.ptr);
  assert_int_equal(codec_get_count(&r, 10, 1), 0);
  assert_int_equal(r.pos, pos);
  /* The first error wins over later ones. */
  codec_fail(&r, VE_ERR_PERMISSION);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_NONCANONICAL);
  /* codec_fail records a caller's error when there is none yet. */
  codec_reader_init(&r, ve_slice(in, sizeof in));
  codec_fail(&r, VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(codec_get_u8(&r), 0);
  assert_int_equal(codec_reader_finish(&r), VE_ERR_UNKNOWN_TYPE);
}

static void test_writer_sticky_and_bounded(void **state) {
  (void)state;
  ve_buf_t small;
  ve_buf_init(&small, 4);
  codec_writer_t w;
  codec_writer_init(&w, &small);
  codec_put_fixed(&w, (const uint8_t *)"abc", 3);
  assert_int_equal(w.err, VE_OK);
  codec_put_uvarint(&w, 300); /* two bytes, one fits: refused whole */
  assert_int_equal(w.err, VE_ERR_TOO_BIG);
  assert_int_equal(small.len, 3);
  codec_put_u8(&w, 1); /* would fit, but errors are sticky */
  codec_put_bool(&w, true);
  codec_put_bytes(&w, NULL, 0, 0);
  assert_int_equal(small.len, 3);
  assert_int_equal(codec_writer_finish(&w), VE_ERR_TOO_BIG);
  ve_buf_free(&small);
}

/* ---- a small structure, as modules will write them ---- */

static void test_structure_example(void **state) {
  (void)state;
  /* version u8 = 1, height uvarint = 300, flag bool = true, hash fixed[4],
   * memo bytes(max 8) = "hi", list(max 3) of 2 uvarints. */
  codec_writer_t w;
  ve_buf_reset(&g_buf);
  codec_writer_init(&w, &g_buf);
  codec_put_u8(&w, 1);
  codec_put_uvarint(&w, 300);
  codec_put_bool(&w, true);
  codec_put_fixed(&w, (const uint8_t *)"\xde\xad\xbe\xef", 4);
  codec_put_bytes(&w, (const uint8_t *)"hi", 2, 8);
  codec_put_uvarint(&w, 2);
  codec_put_uvarint(&w, 1);
  codec_put_uvarint(&w, 128);
  assert_int_equal(codec_writer_finish(&w), VE_OK);
  char hex[64];
  ve_hex_encode(hex, g_buf.ptr, g_buf.len);
  assert_string_equal(hex, "01ac0201deadbeef026869020180" "01");
  codec_reader_t r;
  codec_reader_init(&r, ve_buf_slice(&g_buf));
  assert_int_equal(codec_get_u8(&r), 1);
  assert_true(codec_get_uvarint(&r) == 300);
  assert_true(codec_get_bool(&r));
  uint8_t h[4];
  codec_get_fixed(&r, h, 4);
  ve_slice_t memo = codec_get_bytes(&r, 8);
  size_t n = codec_get_count(&r, 3, 1);
  assert_int_equal(n, 2);
  assert_true(codec_get_uvarint(&r) == 1);
  assert_true(codec_get_uvarint(&r) == 128);
  assert_int_equal(codec_reader_finish(&r), VE_OK);
  assert_memory_equal(memo.ptr, "hi", 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conformance_vectors),
      cmocka_unit_test(test_uvarint_boundaries),
      cmocka_unit_test(test_uvarint_all_lengths),
      cmocka_unit_test(test_uvarint_rejects),
      cmocka_unit_test(test_uvarint_exhaustive_two_bytes),
      cmocka_unit_test(test_uvarint_accepted_are_canonical),
      cmocka_unit_test(test_uvarint_max),
      cmocka_unit_test(test_u8_bool_fixed_round_trip),
      cmocka_unit_test(test_bool_rejects_all_other_bytes),
      cmocka_unit_test(test_bytes_round_trip_and_limits),
      cmocka_unit_test(test_count),
      cmocka_unit_test(test_depth),
      cmocka_unit_test(test_trailing),
      cmocka_unit_test(test_reader_sticky),
      cmocka_unit_test(test_writer_sticky_and_bounded),
      cmocka_unit_test(test_structure_example),
  };
  return cmocka_run_group_tests(tests, buf_setup, buf_teardown);
}
