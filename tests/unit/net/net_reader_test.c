/* net_reader_test.c — the pure stream reader of src/net/net_reader.c: every
 * length bound at its edges (AUTH exact, frame min - 1, min, max, max + 1),
 * refusal at the 4th byte of a length prefix and for good after, a frame body
 * that grows only as its bytes arrive and is let go above NET_BODY_KEEP_BYTES,
 * and the same records whatever the chunking (seeded random streams fed in one
 * piece, a byte at a time and in random chunks).
 *
 * Prints its seed; replay a failure with VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/err.h"
#include "net/net_int.h"
#include "trng.h"

static uint64_t g_seed;


static size_t rng_range(uint64_t *x, size_t lo, size_t hi) {
  return lo + (size_t)(trng_step(x) % (uint64_t)(hi - lo + 1));
}

/* Feeds p[0..len) in one call and returns the event, asserting how much was taken. */
static net_reader_ev_t feed_all(net_reader_t *r, const uint8_t *p, size_t len, size_t want_took) {
  net_reader_ev_t ev;
  size_t took = net_reader_feed(r, p, len, &ev);
  assert_int_equal(took, want_took);
  return ev;
}

/* Feeds a length prefix byte by byte: nothing until the 4th byte. */
static net_reader_ev_t feed_header(net_reader_t *r, uint32_t len) {
  uint8_t h[NET_LEN_BYTES];
  net_be32_put(h, len);
  for (size_t i = 0; i + 1 < sizeof h; i++)
    assert_int_equal(feed_all(r, h + i, 1, 1).kind, NET_READER_EV_NONE);
  return feed_all(r, h + 3, 1, 1);
}

static void assert_refused(net_reader_ev_t ev, int err) {
  assert_int_equal(ev.kind, NET_READER_EV_REFUSED);
  assert_int_equal(ev.err, err);
  assert_non_null(ev.what);
  assert_null(ev.body);
}

/* ---- HELLO ---- */

static void test_hello(void **state) {
  (void)state;
  uint8_t in[NET_HELLO_BYTES + 10];
  for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i * 7 + 3);
  net_reader_t r;
  net_reader_init(&r);
  /* One piece with bytes after it: only the record is taken. */
  net_reader_ev_t ev = feed_all(&r, in, sizeof in, NET_HELLO_BYTES);
  assert_int_equal(ev.kind, NET_READER_EV_HELLO);
  assert_int_equal(ev.len, NET_HELLO_BYTES);
  assert_null(ev.hdr);
  assert_memory_equal(ev.body, in, NET_HELLO_BYTES);
  /* A byte at a time: 68 times nothing, then the record. */
  for (size_t i = 0; i + 1 < NET_HELLO_BYTES; i++)
    assert_int_equal(feed_all(&r, in + i, 1, 1).kind, NET_READER_EV_NONE);
  ev = feed_all(&r, in + NET_HELLO_BYTES - 1, 1, 1);
  assert_int_equal(ev.kind, NET_READER_EV_HELLO);
  assert_memory_equal(ev.body, in, NET_HELLO_BYTES);
  /* An empty feed is no event. */
  assert_int_equal(feed_all(&r, in, 0, 0).kind, NET_READER_EV_NONE);
  assert_int_equal(net_reader_held_bytes(&r), 0);
  net_reader_free(&r);
}

/* ---- AUTH: exactly NET_AUTH_CT_BYTES ---- */

static void test_auth_bounds(void **state) {
  (void)state;
  const uint32_t wrong[] = {0, NET_AUTH_CT_BYTES - 1, NET_AUTH_CT_BYTES + 1, NET_FRAME_CT_MIN,
                            NET_FRAME_BYTES_MAX, NET_FRAME_BYTES_MAX + 1, UINT32_MAX};
  for (size_t k = 0; k < sizeof wrong / sizeof wrong[0]; k++) {
    net_reader_t r;
    net_reader_init(&r);
    net_reader_phase_set(&r, NET_READER_AUTH);
    assert_refused(feed_header(&r, wrong[k]), VE_ERR_MALFORMED);
    assert_int_equal(net_reader_held_bytes(&r), 0);
    net_reader_free(&r);
  }
  uint8_t in[NET_LEN_BYTES + NET_AUTH_CT_BYTES + 5];
  for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i ^ 0x5a);
  net_be32_put(in, NET_AUTH_CT_BYTES);
  net_reader_t r;
  net_reader_init(&r);
  net_reader_phase_set(&r, NET_READER_AUTH);
  net_reader_ev_t ev = feed_all(&r, in, sizeof in, NET_LEN_BYTES + NET_AUTH_CT_BYTES);
  assert_int_equal(ev.kind, NET_READER_EV_AUTH);
  assert_int_equal(ev.len, NET_AUTH_CT_BYTES);
  assert_memory_equal(ev.hdr, in, NET_LEN_BYTES);
  assert_memory_equal(ev.body, in + NET_LEN_BYTES, NET_AUTH_CT_BYTES);
  assert_int_equal(net_reader_held_bytes(&r), 0); /* AUTH lives in the fixed array */
  net_reader_free(&r);
}

/* ---- frames: [NET_FRAME_CT_MIN, NET_FRAME_BYTES_MAX] ---- */

static void test_frame_bounds(void **state) {
  (void)state;
  const struct {
    uint32_t len;
    int err;
  } bad[] = {{0, VE_ERR_MALFORMED},
             {NET_FRAME_CT_MIN - 1, VE_ERR_MALFORMED},
             {NET_FRAME_BYTES_MAX + 1, VE_ERR_TOO_BIG},
             {UINT32_MAX, VE_ERR_TOO_BIG}};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    net_reader_t r;
    net_reader_init(&r);
    net_reader_phase_set(&r, NET_READER_FRAMES);
    assert_refused(feed_header(&r, bad[k].len), bad[k].err);
    assert_int_equal(net_reader_held_bytes(&r), 0);
    net_reader_free(&r);
  }
  /* The minimum: a frame with an empty payload. */
  uint8_t in[NET_LEN_BYTES + NET_FRAME_CT_MIN];
  for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)(200 - i);
  net_be32_put(in, NET_FRAME_CT_MIN);
  net_reader_t r;
  net_reader_init(&r);
  net_reader_phase_set(&r, NET_READER_FRAMES);
  net_reader_ev_t ev = feed_all(&r, in, sizeof in, sizeof in);
  assert_int_equal(ev.kind, NET_READER_EV_FRAME);
  assert_int_equal(ev.len, NET_FRAME_CT_MIN);
  assert_memory_equal(ev.hdr, in, NET_LEN_BYTES);
  assert_memory_equal(ev.body, in + NET_LEN_BYTES, NET_FRAME_CT_MIN);
  assert_true(net_reader_held_bytes(&r) <= NET_FRAME_CT_MIN);
  net_reader_free(&r);
}

static uint8_t body_byte(size_t i) { return (uint8_t)(i * 131 + (i >> 13)); }

/* The largest frame, in socket-sized reads: the buffer never holds more than
 * twice what arrived, never more than the declared length, and is let go
 * after the frame (it is over NET_BODY_KEEP_BYTES). */
static void test_frame_max(void **state) {
  (void)state;
  net_reader_t r;
  net_reader_init(&r);
  net_reader_phase_set(&r, NET_READER_FRAMES);
  assert_int_equal(feed_header(&r, NET_FRAME_BYTES_MAX).kind, NET_READER_EV_NONE);
  assert_int_equal(net_reader_held_bytes(&r), 0);
  static uint8_t chunk[NET_READ_CHUNK_BYTES];
  size_t have = 0;
  net_reader_ev_t ev = {0};
  while (have < NET_FRAME_BYTES_MAX) {
    size_t n = NET_FRAME_BYTES_MAX - have;
    if (n > sizeof chunk) n = sizeof chunk;
    for (size_t i = 0; i < n; i++) chunk[i] = body_byte(have + i);
    ev = feed_all(&r, chunk, n, n);
    have += n;
    size_t held = net_reader_held_bytes(&r);
    assert_true(held <= NET_FRAME_BYTES_MAX);
    assert_true(held <= 2 * have);
    if (have < NET_FRAME_BYTES_MAX) assert_int_equal(ev.kind, NET_READER_EV_NONE);
  }
  assert_int_equal(ev.kind, NET_READER_EV_FRAME);
  assert_int_equal(ev.len, NET_FRAME_BYTES_MAX);
  size_t bad = 0;
  for (size_t i = 0; i < NET_FRAME_BYTES_MAX; i++) bad += ev.body[i] != body_byte(i);
  assert_int_equal(bad, 0);
  net_reader_release(&r);
  assert_int_equal(net_reader_held_bytes(&r), 0);
  net_reader_free(&r);
}

/* A peer that announces the largest frame and sends little makes us hold
 * little; NET_BODY_KEEP_BYTES decides whether a used buffer is kept. */
static void test_body_memory(void **state) {
  (void)state;
  net_reader_t r;
  net_reader_init(&r);
  net_reader_phase_set(&r, NET_READER_FRAMES);
  assert_int_equal(feed_header(&r, NET_FRAME_BYTES_MAX).kind, NET_READER_EV_NONE);
  uint8_t some[1000] = {0};
  assert_int_equal(feed_all(&r, some, sizeof some, sizeof some).kind, NET_READER_EV_NONE);
  assert_true(net_reader_held_bytes(&r) >= sizeof some);
  assert_true(net_reader_held_bytes(&r) <= 2 * sizeof some);
  net_reader_free(&r);

  /* A frame at the keep size: its buffer is kept and reused for a smaller one. */
  size_t keep = NET_BODY_KEEP_BYTES;
  uint8_t *in = calloc(1, NET_LEN_BYTES + keep + 1);
  assert_non_null(in);
  net_reader_init(&r);
  net_reader_phase_set(&r, NET_READER_FRAMES);
  net_be32_put(in, (uint32_t)keep);
  assert_int_equal(feed_all(&r, in, NET_LEN_BYTES + keep, NET_LEN_BYTES + keep).kind,
                   NET_READER_EV_FRAME);
  assert_int_equal(net_reader_held_bytes(&r), keep);
  net_reader_release(&r);
  assert_int_equal(net_reader_held_bytes(&r), keep);
  net_be32_put(in, 100);
  net_reader_ev_t ev = feed_all(&r, in, NET_LEN_BYTES + 100, NET_LEN_BYTES + 100);
  assert_int_equal(ev.kind, NET_READER_EV_FRAME);
  assert_int_equal(ev.len, 100);
  assert_int_equal(net_reader_held_bytes(&r), keep);

  /* One byte more: freed once handled, by release or by the next feed. */
  net_be32_put(in, (uint32_t)keep + 1);
  ev = feed_all(&r, in, NET_LEN_BYTES + keep + 1, NET_LEN_BYTES + keep + 1);
  assert_int_equal(ev.kind, NET_READER_EV_FRAME);
  assert_true(net_reader_held_bytes(&r) > keep);
  net_reader_release(&r);
  assert_int_equal(net_reader_held_bytes(&r), 0);
  net_reader_release(&r); /* idempotent */
  net_be32_put(in, (uint32_t)keep + 1);
  ev = feed_all(&r, in, NET_LEN_BYTES + keep + 1, NET_LEN_BYTES + keep + 1);
  assert_int_equal(ev.kind, NET_READER_EV_FRAME);
  assert_int_equal(feed_all(&r, in, 1, 1).kind, NET_READER_EV_NONE);
  assert_int_equal(net_reader_held_bytes(&r), 0);
  free(in);
  net_reader_free(&r);
}

/* ---- refusal is final ---- */

static void test_refusal_sticky(void **state) {
  (void)state;
  uint8_t good[NET_LEN_BYTES + NET_AUTH_CT_BYTES] = {0};
  net_be32_put(good, NET_AUTH_CT_BYTES);
  uint8_t bad[NET_LEN_BYTES + 8];
  memset(bad, 0, sizeof bad);
  net_be32_put(bad, NET_FRAME_CT_MIN - 1);
  net_reader_t r;
  net_reader_init(&r);
  net_reader_phase_set(&r, NET_READER_FRAMES);
  /* Refused at the 4th byte; the bytes after it in the same feed are not taken. */
  assert_refused(feed_all(&r, bad, sizeof bad, NET_LEN_BYTES), VE_ERR_MALFORMED);
  /* From now on every feed takes all and yields nothing, in any phase. */
  for (int phase = NET_READER_HELLO; phase <= NET_READER_FRAMES; phase++) {
    net_reader_phase_set(&r, phase);
    assert_int_equal(feed_all(&r, good, sizeof good, sizeof good).kind, NET_READER_EV_NONE);
    assert_int_equal(feed_all(&r, bad, sizeof bad, sizeof bad).kind, NET_READER_EV_NONE);
    assert_int_equal(feed_all(&r, good, 1, 1).kind, NET_READER_EV_NONE);
  }
  assert_int_equal(r.err, VE_ERR_MALFORMED);
  assert_int_equal(net_reader_held_bytes(&r), 0);
  net_reader_free(&r);
}

/* ---- chunking does not matter ---- */

#define STREAM_RECORDS_MAX 40

typedef struct {
  int phase;     /* the phase the record is read in */
  int kind;      /* the event it must give */
  size_t len;    /* body bytes (REFUSED: 0) */
  int err;       /* REFUSED */
  size_t end;    /* stream offset just past the record (REFUSED: past its prefix) */
} rec_t;

typedef struct {
  uint8_t *p;
  size_t n;
  rec_t rec[STREAM_RECORDS_MAX];
  size_t n_rec;
} stream_t;

static void put_random(stream_t *s, uint64_t *x, size_t n) {
  for (size_t i = 0; i < n; i++) s->p[s->n++] = (uint8_t)trng_step(x);
}

static void add_rec(stream_t *s, int phase, int kind, size_t len, int err) {
  rec_t *r = &s->rec[s->n_rec++];
  r->phase = phase;
  r->kind = kind;
  r->len = len;
  r->err = err;
  r->end = s->n;
}

static void put_prefix(stream_t *s, uint32_t len) {
  net_be32_put(s->p + s->n, len);
  s->n += NET_LEN_BYTES;
}

/* A connection-like stream: HELLO, AUTH, frames (now and then one over the
 * keep size), with the phase of each record random now and then; sometimes
 * it ends with a length out of bounds followed by garbage. */
static void stream_make(stream_t *s, uint64_t *x) {
  size_t cap = STREAM_RECORDS_MAX * (NET_LEN_BYTES + NET_BODY_KEEP_BYTES + 4096);
  s->p = malloc(cap);
  assert_non_null(s->p);
  s->n = s->n_rec = 0;
  size_t n_rec = rng_range(x, 1, STREAM_RECORDS_MAX - 1);
  for (size_t k = 0; k < n_rec; k++) {
    int phase = k == 0 ? NET_READER_HELLO : k == 1 ? NET_READER_AUTH : NET_READER_FRAMES;
    if (rng_range(x, 0, 7) == 0) phase = (int)rng_range(x, NET_READER_HELLO, NET_READER_FRAMES);
    if (phase == NET_READER_HELLO) {
      put_random(s, x, NET_HELLO_BYTES);
      add_rec(s, phase, NET_READER_EV_HELLO, NET_HELLO_BYTES, 0);
    } else if (phase == NET_READER_AUTH) {
      put_prefix(s, NET_AUTH_CT_BYTES);
      put_random(s, x, NET_AUTH_CT_BYTES);
      add_rec(s, phase, NET_READER_EV_AUTH, NET_AUTH_CT_BYTES, 0);
    } else {
      size_t len = rng_range(x, 0, 39) == 0
                       ? rng_range(x, NET_BODY_KEEP_BYTES - 8, NET_BODY_KEEP_BYTES + 4096)
                       : rng_range(x, NET_FRAME_CT_MIN, 600);
      put_prefix(s, (uint32_t)len);
      put_random(s, x, len);
      add_rec(s, phase, NET_READER_EV_FRAME, len, 0);
    }
  }
  if (rng_range(x, 0, 2) != 0) return;
  static const struct {
    int phase;
    uint32_t len;
    int err;
  } bad[] = {{NET_READER_AUTH, NET_AUTH_CT_BYTES - 1, VE_ERR_MALFORMED},
             {NET_READER_AUTH, NET_AUTH_CT_BYTES + 1, VE_ERR_MALFORMED},
             {NET_READER_FRAMES, NET_FRAME_CT_MIN - 1, VE_ERR_MALFORMED},
             {NET_READER_FRAMES, NET_FRAME_BYTES_MAX + 1, VE_ERR_TOO_BIG}};
  size_t b = rng_range(x, 0, 3);
  put_prefix(s, bad[b].len);
  add_rec(s, bad[b].phase, NET_READER_EV_REFUSED, 0, bad[b].err);
  put_random(s, x, rng_range(x, 0, 300)); /* swallowed */
}

enum { CHUNK_ONE, CHUNK_BYTES, CHUNK_RANDOM };

/* Feeds s with the given chunking; every event must be the next record, with
 * its bytes, ending where it should; nothing after a refusal. */
static void stream_check(const stream_t *s, int chunking, uint64_t *x) {
  net_reader_t r;
  net_reader_init(&r);
  size_t off = 0, next = 0, declared = 0;
  while (off < s->n) {
    size_t n = chunking == CHUNK_ONE ? s->n - off
               : chunking == CHUNK_BYTES ? 1
                                         : rng_range(x, 1, rng_range(x, 0, 3) == 0 ? 70000 : 300);
    if (n > s->n - off) n = s->n - off;
    while (n > 0) {
      if (next < s->n_rec) net_reader_phase_set(&r, s->rec[next].phase);
      net_reader_ev_t ev;
      size_t took = net_reader_feed(&r, s->p + off, n, &ev);
      assert_true(took > 0 && took <= n);
      off += took;
      n -= took;
      if (ev.kind == NET_READER_EV_FRAME) declared = ev.len;
      else if (r.hdr_have == NET_LEN_BYTES && r.phase == NET_READER_FRAMES) declared = r.body_len;
      size_t held = net_reader_held_bytes(&r);
      assert_true(held <= NET_BODY_KEEP_BYTES || (held <= declared && held <= 2 * r.body.len));
      if (ev.kind == NET_READER_EV_NONE) continue;
      assert_true(next < s->n_rec);
      const rec_t *want = &s->rec[next++];
      assert_int_equal(ev.kind, want->kind);
      assert_int_equal(off, want->end);
      if (want->kind == NET_READER_EV_REFUSED) {
        assert_int_equal(ev.err, want->err);
        continue;
      }
      assert_int_equal(ev.len, want->len);
      assert_memory_equal(ev.body, s->p + off - ev.len, ev.len);
      if (want->kind != NET_READER_EV_HELLO)
        assert_memory_equal(ev.hdr, s->p + off - ev.len - NET_LEN_BYTES, NET_LEN_BYTES);
    }
  }
  assert_int_equal(next, s->n_rec);
  net_reader_free(&r);
}

static void test_chunking(void **state) {
  (void)state;
  uint64_t x = g_seed;
  for (int round = 0; round < 40; round++) {
    stream_t s;
    stream_make(&s, &x);
    stream_check(&s, CHUNK_ONE, &x);
    stream_check(&s, CHUNK_BYTES, &x);
    for (int k = 0; k < 3; k++) stream_check(&s, CHUNK_RANDOM, &x);
    free(s.p);
  }
}

int main(void) {
  const char *env = getenv("VECHE_SEED");
  g_seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
  printf("# net_reader_test seed: VECHE_SEED=%llu\n", (unsigned long long)g_seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello),          cmocka_unit_test(test_auth_bounds),
      cmocka_unit_test(test_frame_bounds),   cmocka_unit_test(test_frame_max),
      cmocka_unit_test(test_body_memory),    cmocka_unit_test(test_refusal_sticky),
      cmocka_unit_test(test_chunking),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
