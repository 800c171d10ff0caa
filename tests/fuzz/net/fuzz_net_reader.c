/* fuzz_net_reader.c — the stream reader of src/net/net_reader.c, the first
 * code a stranger's bytes reach, fed hostile streams cut into hostile chunks.
 *
 * Input: a script, then the stream.
 *   byte 0         low 4 bits: np, phase bytes; high 4 bits: nc, chunk bytes
 *   byte 1         pad: from PAD_MIN on, (pad - PAD_MIN + 1) * PAD_UNIT_BYTES
 *                  copies of the byte `pad` are appended to the stream (lets a
 *                  small input fill a frame above NET_BODY_KEEP_BYTES; rare, as
 *                  such inputs run slower)
 *   np bytes       phase before record k: 0 HELLO, 1 AUTH, 2 FRAMES, 3 (and
 *                  for k >= np) as a connection goes: HELLO, AUTH, FRAMES...
 *   nc bytes       chunk sizes, used in turn: c < 128 gives c + 1 bytes, else
 *                  (c - 127) * 512; none: NET_READ_CHUNK_BYTES, as a socket.
 *                  At least stream/FEEDS_MAX bytes, so a padded stream is not
 *                  fed in a million tiny pieces (too slow per input)
 *   the rest       the stream
 * The phase depends only on how many records came before, so every way of
 * cutting the same stream must give the same records.
 *
 * The stream is fed three ways (in one piece, by the chunk script, and a byte at
 * a time when it is short) and for every way:
 *   - each record starts where the one before ended, has exactly the stream's
 *     bytes, and is of the phase it was read in: HELLO 69 bytes, AUTH a length
 *     prefix of exactly NET_AUTH_CT_BYTES, frames within [NET_FRAME_CT_MIN,
 *     NET_FRAME_BYTES_MAX];
 *   - a refusal comes exactly at the 4th byte of a prefix that breaks its
 *     phase's bound, with the right code; after it nothing more, whatever is fed;
 *   - no record is left unreported: what follows the last one is shorter than
 *     the next record;
 *   - memory held stays within NET_BODY_KEEP_BYTES or, above that, within the
 *     current frame's declared length and twice its bytes received;
 *   - every feed takes at least one byte and no more than given;
 * and the three ways give the same list of records. A frame's buffer is let go
 * by net_reader_release after frames ending at an odd offset, and by the next
 * feed after the others (the two ways the reader may be used). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAD_MIN 0xf0
#define PAD_UNIT_BYTES 32768 /* up to 16 units: 512 KiB, twice NET_BODY_KEEP_BYTES */
#define BYTEWISE_BYTES_MAX 4096 /* above this, a byte at a time is too slow per input */
#define FEEDS_MAX 2048          /* about the most feeds of the chunk script per input */

typedef struct {
  const uint8_t *phases, *chunks;
  size_t np, nc;
  uint8_t *s; /* the stream (owned) */
  size_t n;
} script_t;

typedef struct {
  int kind, err;
  size_t len, end;
} rec_t;

typedef struct {
  rec_t *v;
  size_t n, cap;
} log_t;

static int phase_for(const script_t *sc, size_t k) {
  int p = k < sc->np ? sc->phases[k] % 4 : 3;
  if (p != 3) return p;
  return k == 0 ? NET_READER_HELLO : k == 1 ? NET_READER_AUTH : NET_READER_FRAMES;
}

static size_t chunk_for(const script_t *sc, size_t j) {
  if (sc->nc == 0) return NET_READ_CHUNK_BYTES;
  uint8_t c = sc->chunks[j % sc->nc];
  size_t n = c < 128 ? (size_t)c + 1 : (size_t)(c - 127) * 512;
  size_t min = sc->n / FEEDS_MAX + 1;
  return n < min ? min : n;
}

static void log_add(log_t *l, rec_t r) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    VE_ASSERT(l->v != NULL);
  }
  l->v[l->n++] = r;
}

/* Is a length prefix of len out of bounds in phase, and with which code? */
static int bound_err(int phase, uint32_t len) {
  if (phase == NET_READER_AUTH && len != NET_AUTH_CT_BYTES) return VE_ERR_MALFORMED;
  if (len > NET_FRAME_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (len < NET_FRAME_CT_MIN) return VE_ERR_MALFORMED;
  return VE_OK;
}

/* Checks one event of a run against the stream; start is where it must begin. */
static rec_t check_event(const script_t *sc, int phase, const net_reader_ev_t *ev, size_t start,
                         size_t end) {
  rec_t r = {ev->kind, ev->err, ev->len, end};
  if (ev->kind == NET_READER_EV_REFUSED) {
    VE_ASSERT(end == start + NET_LEN_BYTES && phase != NET_READER_HELLO);
    VE_ASSERT(ev->what != NULL && ev->body == NULL && ev->hdr == NULL && ev->len == 0);
    VE_ASSERT(ev->err == bound_err(phase, net_be32_get(sc->s + start)));
    return r;
  }
  VE_ASSERT(ev->err == 0 && ev->what == NULL && ev->body != NULL);
  if (ev->kind == NET_READER_EV_HELLO) {
    VE_ASSERT(phase == NET_READER_HELLO && ev->len == NET_HELLO_BYTES && ev->hdr == NULL);
    VE_ASSERT(end == start + ev->len);
  } else {
    VE_ASSERT(ev->kind == (phase == NET_READER_AUTH ? NET_READER_EV_AUTH : NET_READER_EV_FRAME));
    VE_ASSERT(phase != NET_READER_HELLO && ev->hdr != NULL);
    VE_ASSERT(end == start + NET_LEN_BYTES + ev->len);
    VE_ASSERT(memcmp(ev->hdr, sc->s + start, NET_LEN_BYTES) == 0);
    VE_ASSERT(net_be32_get(ev->hdr) == ev->len && bound_err(phase, (uint32_t)ev->len) == VE_OK);
    VE_ASSERT(phase != NET_READER_AUTH || ev->len == NET_AUTH_CT_BYTES);
  }
  VE_ASSERT(memcmp(ev->body, sc->s + end - ev->len, ev->len) == 0);
  return r;
}

/* Memory held: small, or within the frame being read and twice what arrived. */
static void check_memory(const net_reader_t *r, const net_reader_ev_t *ev) {
  size_t held = net_reader_held_bytes(r);
  if (held <= NET_BODY_KEEP_BYTES) return;
  bool in_frame = r->phase == NET_READER_FRAMES && r->hdr_have == NET_LEN_BYTES;
  size_t declared = ev->kind == NET_READER_EV_FRAME ? ev->len : in_frame ? r->body_len : 0;
  VE_ASSERT(held <= declared && held <= 2 * r->body.len);
}

/* What is left after the last record cannot be a whole record. */
static void check_rest(const script_t *sc, int phase, size_t from) {
  size_t rest = sc->n - from;
  if (phase == NET_READER_HELLO) {
    VE_ASSERT(rest < NET_HELLO_BYTES);
    return;
  }
  if (rest < NET_LEN_BYTES) return;
  uint32_t len = net_be32_get(sc->s + from);
  VE_ASSERT(bound_err(phase, len) == VE_OK && rest < NET_LEN_BYTES + (size_t)len);
}

enum { WAY_ONE, WAY_SCRIPT, WAY_BYTES };

static void run(const script_t *sc, int way, log_t *out) {
  net_reader_t r;
  net_reader_init(&r);
  size_t off = 0, j = 0, start = 0;
  bool refused = false;
  while (off < sc->n) {
    size_t n = way == WAY_ONE ? sc->n - off : way == WAY_BYTES ? 1 : chunk_for(sc, j++);
    if (n > sc->n - off) n = sc->n - off;
    while (n > 0) {
      int phase = phase_for(sc, out->n);
      net_reader_phase_set(&r, phase);
      net_reader_ev_t ev;
      size_t took = net_reader_feed(&r, sc->s + off, n, &ev);
      VE_ASSERT(took > 0 && took <= n);
      VE_ASSERT(!refused || (ev.kind == NET_READER_EV_NONE && took == n));
      off += took;
      n -= took;
      check_memory(&r, &ev);
      if (refused) continue;
      if (ev.kind == NET_READER_EV_NONE) {
        VE_ASSERT(n == 0);
        continue;
      }
      log_add(out, check_event(sc, phase, &ev, start, off));
      start = off;
      refused = ev.kind == NET_READER_EV_REFUSED;
      if (ev.kind == NET_READER_EV_FRAME && (off & 1)) net_reader_release(&r);
    }
  }
  if (refused) {
    /* Still nothing, however much more comes. */
    net_reader_ev_t ev;
    VE_ASSERT(net_reader_feed(&r, sc->s, sc->n, &ev) == sc->n && ev.kind == NET_READER_EV_NONE);
  } else {
    check_rest(sc, phase_for(sc, out->n), start);
  }
  net_reader_free(&r);
}

static bool logs_equal(const log_t *a, const log_t *b) {
  if (a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].kind != b->v[i].kind || a->v[i].err != b->v[i].err ||
        a->v[i].len != b->v[i].len || a->v[i].end != b->v[i].end)
      return false;
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  script_t sc = {0};
  sc.np = data[0] & 15;
  sc.nc = data[0] >> 4;
  size_t pad = data[1] < PAD_MIN ? 0 : (size_t)(data[1] - PAD_MIN + 1) * PAD_UNIT_BYTES;
  size_t at = 2;
  sc.np = sc.np < size - at ? sc.np : size - at;
  sc.phases = data + at;
  at += sc.np;
  sc.nc = sc.nc < size - at ? sc.nc : size - at;
  sc.chunks = data + at;
  at += sc.nc;
  sc.n = size - at + pad;
  sc.s = malloc(sc.n ? sc.n : 1);
  VE_ASSERT(sc.s != NULL);
  memcpy(sc.s, data + at, size - at);
  memset(sc.s + (size - at), data[1], pad);

  log_t one = {0}, script = {0}, bytes = {0};
  run(&sc, WAY_ONE, &one);
  run(&sc, WAY_SCRIPT, &script);
  VE_ASSERT(logs_equal(&one, &script));
  if (sc.n <= BYTEWISE_BYTES_MAX) {
    run(&sc, WAY_BYTES, &bytes);
    VE_ASSERT(logs_equal(&one, &bytes));
  }
  free(one.v);
  free(script.v);
  free(bytes.v);
  free(sc.s);
  return 0;
}
