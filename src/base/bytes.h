/* bytes.h — byte slices, bounded growable buffers and hex.
 *
 * A ve_slice_t borrows memory it does not own; its lifetime is whatever the
 * producer documents. A ve_buf_t owns its heap memory and refuses to grow past
 * its cap_max, so every buffer fed by outside input is bounded before allocating.
 */
#ifndef VECHE_BASE_BYTES_H
#define VECHE_BASE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct {
  const uint8_t *ptr;
  size_t len;
} ve_slice_t;

static inline ve_slice_t ve_slice(const void *ptr, size_t len) {
  ve_slice_t s = {(const uint8_t *)ptr, len};
  return s;
}

bool ve_slice_eq(ve_slice_t a, ve_slice_t b);

typedef struct {
  uint8_t *ptr;   /* owned; NULL when empty */
  size_t len;
  size_t cap;
  size_t cap_max; /* hard limit on len; 0 means VE_BUF_DEFAULT_MAX */
} ve_buf_t;

#define VE_BUF_DEFAULT_MAX ((size_t)256 * 1024 * 1024)

/* Initialises an empty buffer that may grow up to cap_max bytes. */
void ve_buf_init(ve_buf_t *b, size_t cap_max);
/* Frees the buffer's memory (wiping it first if wipe is true). */
void ve_buf_free(ve_buf_t *b);
void ve_buf_wipe_free(ve_buf_t *b);
/* Makes room for extra more bytes. Returns VE_ERR_TOO_BIG past cap_max. */
int ve_buf_reserve(ve_buf_t *b, size_t extra);
int ve_buf_append(ve_buf_t *b, const void *data, size_t len);
static inline ve_slice_t ve_buf_slice(const ve_buf_t *b) { return ve_slice(b->ptr, b->len); }
/* Drops the contents, keeps the allocation. */
static inline void ve_buf_reset(ve_buf_t *b) { b->len = 0; }

/* Lower-case hex. out must hold 2*len+1 bytes; it is NUL-terminated. */
void ve_hex_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly out_len bytes from a hex string of exactly 2*out_len chars
 * (either case). Returns 0 or VE_ERR_MALFORMED. */
int ve_hex_decode(uint8_t *out, size_t out_len, const char *hex);

/* Big-endian fixed-width helpers (used for sortable store keys). */
void ve_be64_put(uint8_t out[8], uint64_t v);
uint64_t ve_be64_get(const uint8_t in[8]);

#endif
