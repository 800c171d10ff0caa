/* net_reader.c — a peer's byte stream cut into records, with every length
 * checked before anything is sized from it.
 *
 * Split out of the connection code so it can be fuzzed without sockets: it is
 * the first code a stranger's bytes reach. Phases, events and invariants are
 * documented in net_int.h ("Reader"). Within a record the reader is in one of
 * three steps, told apart by its counters:
 *
 *   HELLO phase:   hs_have < NET_HELLO_BYTES             filling hs
 *   other phases:  hdr_have < NET_LEN_BYTES              filling hdr
 *                  hdr_have == NET_LEN_BYTES, AUTH       filling hs up to body_len
 *                  hdr_have == NET_LEN_BYTES, FRAMES     filling body up to body_len
 *
 * Completing a record yields it and zeroes the counters, so between records
 * hs_have == hdr_have == 0 (what net_reader_phase_set checks).
 */
#include <string.h>

#include "base/err.h"
#include "net/net_int.h"

void net_reader_init(net_reader_t *r) {
  memset(r, 0, sizeof *r);
  r->phase = NET_READER_HELLO;
  ve_buf_init(&r->body, NET_FRAME_BYTES_MAX);
}

void net_reader_free(net_reader_t *r) {
  ve_buf_free(&r->body);
  r->release = false;
}

static bool between_records(const net_reader_t *r) {
  return r->hs_have == 0 && r->hdr_have == 0;
}

void net_reader_phase_set(net_reader_t *r, int phase) {
  VE_ASSERT(phase == NET_READER_HELLO || phase == NET_READER_AUTH || phase == NET_READER_FRAMES);
  if (phase == r->phase) return;
  VE_ASSERT(r->err != 0 || between_records(r));
  r->phase = phase;
}

void net_reader_release(net_reader_t *r) {
  if (!r->release) return;
  r->release = false;
  ve_buf_reset(&r->body);
  if (r->body.cap > NET_BODY_KEEP_BYTES) ve_buf_free(&r->body);
}

size_t net_reader_held_bytes(const net_reader_t *r) { return r->body.cap; }

static size_t refuse(net_reader_t *r, int err, const char *what, size_t took, net_reader_ev_t *ev) {
  VE_ASSERT(err < 0);
  r->err = err;
  ev->kind = NET_READER_EV_REFUSED;
  ev->err = err;
  ev->what = what;
  return took;
}

static size_t yield(net_reader_t *r, int kind, uint8_t *hdr, uint8_t *body, size_t len,
                    size_t took, net_reader_ev_t *ev) {
  ev->kind = kind;
  ev->hdr = hdr;
  ev->body = body;
  ev->len = len;
  r->hs_have = 0;
  r->hdr_have = 0;
  return took;
}

/* Copies up to `want - *have` bytes of p into dst + *have. */
static size_t fill(uint8_t *dst, size_t *have, size_t want, const uint8_t *p, size_t len) {
  size_t take = want - *have;
  if (take > len) take = len;
  memcpy(dst + *have, p, take);
  *have += take;
  return take;
}

/* A complete length prefix: checked against the phase's bounds before the
 * body is sized from it. Returns 0 or the refusal (*what says why). */
static int on_header(net_reader_t *r, const char **what) {
  uint32_t len = net_be32_get(r->hdr);
  if (r->phase == NET_READER_AUTH && len != NET_AUTH_CT_BYTES) {
    *what = "AUTH of the wrong length";
    return VE_ERR_MALFORMED;
  }
  if (len > NET_FRAME_BYTES_MAX) {
    *what = "frame length over the maximum";
    return VE_ERR_TOO_BIG;
  }
  if (len < NET_FRAME_CT_MIN) {
    *what = "frame length under the minimum";
    return VE_ERR_MALFORMED;
  }
  r->body_len = len;
  ve_buf_reset(&r->body);
  r->body.cap_max = len; /* the buffer grows with the bytes, never past this */
  return VE_OK;
}

size_t net_reader_feed(net_reader_t *r, const uint8_t *p, size_t len, net_reader_ev_t *ev) {
  memset(ev, 0, sizeof *ev);
  ev->kind = NET_READER_EV_NONE;
  net_reader_release(r);
  if (r->err != 0) return len; /* refused: nothing more */
  size_t took = 0;
  while (took < len) {
    const uint8_t *q = p + took;
    size_t rest = len - took;
    if (r->phase == NET_READER_HELLO) {
      took += fill(r->hs, &r->hs_have, NET_HELLO_BYTES, q, rest);
      if (r->hs_have == NET_HELLO_BYTES)
        return yield(r, NET_READER_EV_HELLO, NULL, r->hs, NET_HELLO_BYTES, took, ev);
    } else if (r->hdr_have < NET_LEN_BYTES) {
      took += fill(r->hdr, &r->hdr_have, NET_LEN_BYTES, q, rest);
      const char *what = NULL;
      int rc = r->hdr_have == NET_LEN_BYTES ? on_header(r, &what) : VE_OK;
      if (rc != VE_OK) return refuse(r, rc, what, took, ev);
    } else if (r->phase == NET_READER_AUTH) {
      VE_ASSERT(r->body_len == NET_AUTH_CT_BYTES);
      took += fill(r->hs, &r->hs_have, r->body_len, q, rest);
      if (r->hs_have == r->body_len)
        return yield(r, NET_READER_EV_AUTH, r->hdr, r->hs, r->body_len, took, ev);
    } else {
      size_t take = r->body_len - r->body.len;
      if (take > rest) take = rest;
      if (ve_buf_append(&r->body, q, take) != VE_OK)
        return refuse(r, VE_ERR_NOMEM, "out of memory for a frame", took + take, ev);
      took += take;
      VE_ASSERT(r->body.cap <= r->body_len || r->body.cap <= NET_BODY_KEEP_BYTES);
      if (r->body.len == r->body_len) {
        r->release = true;
        return yield(r, NET_READER_EV_FRAME, r->hdr, r->body.ptr, r->body_len, took, ev);
      }
    }
  }
  return took;
}
