/* codec.c — canonical primitives with sticky errors. See codec.h. */
#include "codec/codec.h"

#include <string.h>

#include "base/err.h"
#include "base/limits.h"

void codec_writer_init(codec_writer_t *w, ve_buf_t *buf) {
  w->buf = buf;
  w->err = VE_OK;
}

static void put_raw(codec_writer_t *w, const void *p, size_t n) {
  if (w->err) return;
  int rc = ve_buf_append(w->buf, p, n);
  if (rc) w->err = rc;
}

void codec_put_u8(codec_writer_t *w, uint8_t v) { put_raw(w, &v, 1); }

size_t codec_uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

void codec_put_uvarint(codec_writer_t *w, uint64_t v) {
  uint8_t tmp[CODEC_UVARINT_BYTES_MAX];
  put_raw(w, tmp, codec_uvarint_encode(tmp, v));
}

void codec_put_bool(codec_writer_t *w, bool v) { codec_put_u8(w, v ? 1 : 0); }

void codec_put_fixed(codec_writer_t *w, const uint8_t *p, size_t n) { put_raw(w, p, n); }

void codec_put_bytes(codec_writer_t *w, const uint8_t *p, size_t len, size_t max) {
  if (w->err) return;
  if (len > max) {
    w->err = VE_ERR_TOO_BIG;
    return;
  }
  codec_put_uvarint(w, len);
  put_raw(w, p, len);
}

int codec_writer_finish(codec_writer_t *w) { return w->err; }

void codec_reader_init(codec_reader_t *r, ve_slice_t in) {
  r->p = in.ptr;
  r->len = in.len;
  r->pos = 0;
  r->err = VE_OK;
  r->depth = 0;
}

void codec_fail(codec_reader_t *r, int err) {
  if (!r->err) r->err = err;
}

static bool need(codec_reader_t *r, size_t n) {
  if (r->err) return false;
  if (n > r->len - r->pos) {
    r->err = VE_ERR_MALFORMED;
    return false;
  }
  return true;
}

uint8_t codec_get_u8(codec_reader_t *r) {
  if (!need(r, 1)) return 0;
  return r->p[r->pos++];
}

uint64_t codec_get_uvarint(codec_reader_t *r) {
  if (!need(r, 1)) return 0; /* also keeps a NULL input out of the pointer sums */
  const uint8_t *p = r->p + r->pos;
  uint64_t v;
  int rc = codec_uvarint_decode(&p, r->p + r->len, &v);
  if (rc) {
    codec_fail(r, rc);
    return 0;
  }
  r->pos = (size_t)(p - r->p);
  return v;
}

uint64_t codec_get_uvarint_max(codec_reader_t *r, uint64_t max) {
  uint64_t v = codec_get_uvarint(r);
  if (!r->err && v > max) {
    codec_fail(r, VE_ERR_TOO_BIG);
    return 0;
  }
  return v;
}

bool codec_get_bool(codec_reader_t *r) {
  uint8_t b = codec_get_u8(r);
  if (!r->err && b > 1) codec_fail(r, VE_ERR_NONCANONICAL);
  return b == 1;
}

void codec_get_fixed(codec_reader_t *r, uint8_t *out, size_t n) {
  if (!need(r, n)) {
    memset(out, 0, n);
    return;
  }
  memcpy(out, r->p + r->pos, n);
  r->pos += n;
}

ve_slice_t codec_get_bytes(codec_reader_t *r, size_t max) {
  ve_slice_t s = {NULL, 0};
  uint64_t len = codec_get_uvarint_max(r, max);
  if (!need(r, (size_t)len)) return s;
  s.ptr = r->p + r->pos;
  s.len = (size_t)len;
  r->pos += (size_t)len;
  return s;
}

size_t codec_get_count(codec_reader_t *r, size_t max, size_t item_bytes_min) {
  uint64_t n = codec_get_uvarint_max(r, max);
  if (r->err) return 0;
  if (item_bytes_min && n > codec_remaining(r) / item_bytes_min) {
    codec_fail(r, VE_ERR_MALFORMED);
    return 0;
  }
  return (size_t)n;
}

void codec_enter(codec_reader_t *r) {
  if (r->err) return;
  if (++r->depth > VE_CODEC_DEPTH_MAX) codec_fail(r, VE_ERR_DEPTH);
}

void codec_leave(codec_reader_t *r) {
  if (r->depth) r->depth--;
}

int codec_reader_finish(codec_reader_t *r) {
  if (r->err) return r->err;
  if (r->pos != r->len) return VE_ERR_TRAILING;
  return VE_OK;
}
