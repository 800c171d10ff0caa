/* bytes.c — slices, bounded buffers, hex. */
#include "base/bytes.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "base/err.h"

bool ve_slice_eq(ve_slice_t a, ve_slice_t b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

void ve_buf_init(ve_buf_t *b, size_t cap_max) {
  b->ptr = NULL;
  b->len = 0;
  b->cap = 0;
  b->cap_max = cap_max ? cap_max : VE_BUF_DEFAULT_MAX;
}

void ve_buf_free(ve_buf_t *b) {
  free(b->ptr);
  b->ptr = NULL;
  b->len = b->cap = 0;
}

void ve_buf_wipe_free(ve_buf_t *b) {
  if (b->ptr) sodium_memzero(b->ptr, b->cap);
  ve_buf_free(b);
}

int ve_buf_reserve(ve_buf_t *b, size_t extra) {
  if (extra > b->cap_max || b->len > b->cap_max - extra) return VE_ERR_TOO_BIG;
  size_t need = b->len + extra;
  if (need <= b->cap) return VE_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (cap > b->cap_max) cap = b->cap_max;
  uint8_t *p = realloc(b->ptr, cap);
  if (!p) return VE_ERR_NOMEM;
  b->ptr = p;
  b->cap = cap;
  return VE_OK;
}

int ve_buf_append(ve_buf_t *b, const void *data, size_t len) {
  VE_TRY(ve_buf_reserve(b, len));
  if (len) memcpy(b->ptr + b->len, data, len);
  b->len += len;
  return VE_OK;
}

void ve_hex_encode(char *out, const uint8_t *in, size_t len) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = 0;
}

static int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int ve_hex_decode(uint8_t *out, size_t out_len, const char *hex) {
  if (!hex || strlen(hex) != 2 * out_len) return VE_ERR_MALFORMED;
  for (size_t i = 0; i < out_len; i++) {
    int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return VE_ERR_MALFORMED;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return VE_OK;
}

void ve_be64_put(uint8_t out[8], uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    out[i] = (uint8_t)v;
    v >>= 8;
  }
}

uint64_t ve_be64_get(const uint8_t in[8]) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | in[i];
  return v;
}
