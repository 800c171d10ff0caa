/* codec.h — the one canonical binary encoding of everything signed or hashed.
 *
 * Primitives (full spec in docs/encoding.md):
 *   u8        one byte
 *   uvarint   unsigned LEB128, at most 10 bytes, minimal (no trailing 0x00 group,
 *             no value above 2^64-1)
 *   bool      one byte, 0x00 or 0x01 only
 *   fixed[n]  exactly n raw bytes (hashes, keys, signatures)
 *   bytes     uvarint length, then that many bytes; every field names its maximum
 *   list      uvarint count, then the items; every list names its maximum
 * Structures are sequences of fields in a fixed order, usually starting with a
 * version byte. There are no optional fields other than explicit presence bools,
 * no maps, and no floating point, so each value has exactly one encoding and
 * decode(encode(v)) == v and encode(decode(b)) == b for every accepted b.
 *
 * Errors are sticky: after the first failure every put/get is a no-op and the
 * finishing call reports the first error, so encoders and decoders read as a flat
 * list of fields without an if after each one.
 */
#ifndef VECHE_CODEC_CODEC_H
#define VECHE_CODEC_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"
#include "base/err.h"

#define CODEC_UVARINT_BYTES_MAX 10

/* The uvarint on raw memory, for fixed buffers on hot paths (the consensus
 * engine's signed bytes, the state tree's stored nodes); codec_put_uvarint and
 * codec_get_uvarint are these on a writer and a reader, so there is one rule.
 *
 * Writes the minimal encoding of v to out (room for CODEC_UVARINT_BYTES_MAX
 * bytes); returns its length. */
static inline size_t codec_uvarint_encode(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

/* Reads one uvarint from [*p, end): 0, *v_out set and *p past it; or
 * VE_ERR_MALFORMED (cut short, longer than 10 bytes or above 2^64-1) or
 * VE_ERR_NONCANONICAL (not minimal), *p unchanged. */
static inline int codec_uvarint_decode(const uint8_t **p, const uint8_t *end, uint64_t *v_out) {
  uint64_t v = 0;
  const uint8_t *q = *p;
  for (unsigned i = 0; i < CODEC_UVARINT_BYTES_MAX; i++) {
    if (q == end) return VE_ERR_MALFORMED;
    uint8_t b = *q++;
    /* The 10th byte may only carry the top bit of a 64-bit value. */
    if (i == CODEC_UVARINT_BYTES_MAX - 1 && b > 1) return VE_ERR_MALFORMED;
    v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      /* Minimal: a multi-byte encoding may not end in a zero group. */
      if (i > 0 && b == 0) return VE_ERR_NONCANONICAL;
      *p = q;
      *v_out = v;
      return VE_OK;
    }
  }
  return VE_ERR_MALFORMED;
}

/* ---- writing ---- */

typedef struct {
  ve_buf_t *buf; /* borrowed; bytes are appended */
  int err;       /* first error, 0 if none */
} codec_writer_t;

void codec_writer_init(codec_writer_t *w, ve_buf_t *buf);
void codec_put_u8(codec_writer_t *w, uint8_t v);
void codec_put_uvarint(codec_writer_t *w, uint64_t v);
void codec_put_bool(codec_writer_t *w, bool v);
void codec_put_fixed(codec_writer_t *w, const uint8_t *p, size_t n);
/* Length-prefixed bytes; len > max is a programmer error caught as VE_ERR_TOO_BIG. */
void codec_put_bytes(codec_writer_t *w, const uint8_t *p, size_t len, size_t max);
/* Returns the first error (0 if none). */
int codec_writer_finish(codec_writer_t *w);

/* Bytes needed by the minimal uvarint encoding of v (1..10). */
size_t codec_uvarint_size(uint64_t v);

/* ---- reading ---- */

typedef struct {
  const uint8_t *p; /* borrowed input */
  size_t len;
  size_t pos;
  int err;          /* first error, 0 if none */
  unsigned depth;   /* current nesting, bounded by VE_CODEC_DEPTH_MAX */
} codec_reader_t;

void codec_reader_init(codec_reader_t *r, ve_slice_t in);
uint8_t codec_get_u8(codec_reader_t *r);
uint64_t codec_get_uvarint(codec_reader_t *r);
/* A uvarint that must be ≤ max (VE_ERR_TOO_BIG otherwise). */
uint64_t codec_get_uvarint_max(codec_reader_t *r, uint64_t max);
bool codec_get_bool(codec_reader_t *r);
/* Copies exactly n bytes into out (zeroes on error). */
void codec_get_fixed(codec_reader_t *r, uint8_t *out, size_t n);
/* Length-prefixed bytes of at most max; returns a slice borrowed from the input
 * (valid as long as the input is). */
ve_slice_t codec_get_bytes(codec_reader_t *r, size_t max);
/* A list count of at most max. Checks that the remaining input could hold count
 * items of at least item_bytes_min bytes each, so a huge count is refused before
 * anyone allocates for it. */
size_t codec_get_count(codec_reader_t *r, size_t max, size_t item_bytes_min);
/* Nesting: call enter before decoding a nested structure and leave after it. */
void codec_enter(codec_reader_t *r);
void codec_leave(codec_reader_t *r);
/* Record an error found by the caller (e.g. a semantic check); first one wins. */
void codec_fail(codec_reader_t *r, int err);
/* Returns the first error, or VE_ERR_TRAILING if input remains, or 0. */
int codec_reader_finish(codec_reader_t *r);
/* Bytes not yet consumed. */
static inline size_t codec_remaining(const codec_reader_t *r) { return r->len - r->pos; }

#endif
