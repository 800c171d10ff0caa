/* net_guard.c — token buckets (per-peer receive rates) and the ban table.
 *
 * Pure: the current time is an argument, so tests drive both with fake clocks.
 *
 * Ban table invariants: at most NET_BANS_MAX entries, one per (kind, id); an
 * entry outlives its ban so repeat offenders escalate (base, 2·base, 4·base ...
 * up to max); an entry whose ban ended more than max_ms ago starts again at
 * base. When the table is full, the entry whose ban ends first is replaced: an
 * expired one if any exists, so active bans are only forgotten under a flood of
 * more than NET_BANS_MAX distinct offenders, and then the shortest first.
 */
#include <string.h>

#include "base/err.h"
#include "net/net_int.h"

/* A gap longer than this adds a full bucket anyway; bounding it keeps
 * elapsed · rate far from overflowing (2^20 · 2^40 < 2^63). */
#define NET_BUCKET_ELAPSED_MS_MAX ((uint64_t)1 << 20)

void net_bucket_init(net_bucket_t *b, uint64_t rate_per_s, uint64_t burst, uint64_t now_ms) {
  VE_ASSERT(rate_per_s <= NET_RATE_CONFIG_MAX && burst <= NET_RATE_CONFIG_MAX);
  b->rate = rate_per_s;
  b->burst = burst;
  b->milli = (int64_t)(burst * 1000);
  b->last_ms = now_ms;
}

static void bucket_refill(net_bucket_t *b, uint64_t now_ms) {
  if (now_ms <= b->last_ms) return;
  uint64_t dt = now_ms - b->last_ms;
  if (dt > NET_BUCKET_ELAPSED_MS_MAX) dt = NET_BUCKET_ELAPSED_MS_MAX;
  b->last_ms = now_ms;
  int64_t cap = (int64_t)(b->burst * 1000);
  /* rate tokens/s · dt ms = rate·dt thousandths */
  int64_t add = (int64_t)(b->rate * dt);
  b->milli = b->milli > cap - add ? cap : b->milli + add;
}

bool net_bucket_take(net_bucket_t *b, uint64_t n, uint64_t now_ms) {
  bucket_refill(b, now_ms);
  if (n > NET_RATE_CONFIG_MAX || b->milli < (int64_t)(n * 1000)) return false;
  b->milli -= (int64_t)(n * 1000);
  return true;
}

void net_bucket_debit(net_bucket_t *b, uint64_t n, uint64_t now_ms) {
  bucket_refill(b, now_ms);
  if (n > NET_RATE_CONFIG_MAX) n = NET_RATE_CONFIG_MAX;
  b->milli -= (int64_t)(n * 1000);
  /* Never more than one burst of debt: bounds the pause after a huge read. */
  int64_t floor = -(int64_t)(b->burst * 1000);
  if (b->milli < floor) b->milli = floor;
}

bool net_bucket_ok(net_bucket_t *b, uint64_t now_ms) {
  bucket_refill(b, now_ms);
  return b->milli >= 0;
}

/* ---- bans ---- */

void net_bans_init(net_bans_t *t, uint64_t base_ms, uint64_t max_ms) {
  VE_ASSERT(base_ms > 0 && max_ms >= base_ms);
  t->n = 0;
  t->base_ms = base_ms;
  t->max_ms = max_ms;
}

static net_ban_t *bans_find(const net_bans_t *t, int kind, const uint8_t id[NET_BAN_ID_BYTES]) {
  for (size_t i = 0; i < t->n; i++) {
    const net_ban_t *b = &t->v[i];
    if (b->kind == kind && memcmp(b->id, id, NET_BAN_ID_BYTES) == 0) return (net_ban_t *)b;
  }
  return NULL;
}

static net_ban_t *bans_slot(net_bans_t *t) {
  if (t->n < NET_BANS_MAX) return &t->v[t->n++];
  net_ban_t *first = &t->v[0];
  for (size_t i = 1; i < t->n; i++)
    if (t->v[i].until_ms < first->until_ms) first = &t->v[i];
  return first;
}

uint64_t net_bans_add(net_bans_t *t, int kind, const uint8_t id[NET_BAN_ID_BYTES], uint64_t now_ms) {
  net_ban_t *b = bans_find(t, kind, id);
  if (!b) {
    b = bans_slot(t);
    memset(b, 0, sizeof *b);
    b->kind = (uint8_t)kind;
    memcpy(b->id, id, NET_BAN_ID_BYTES);
  } else if (now_ms > b->until_ms && now_ms - b->until_ms > t->max_ms) {
    b->strikes = 0; /* behaved for long enough: start again at base */
  }
  if (b->strikes < UINT32_MAX) b->strikes++;
  uint64_t d = t->base_ms;
  for (uint32_t i = 1; i < b->strikes && d < t->max_ms; i++) d *= 2;
  if (d > t->max_ms) d = t->max_ms;
  uint64_t until = now_ms + d;
  if (until > b->until_ms) b->until_ms = until;
  return d;
}

uint64_t net_bans_left(const net_bans_t *t, int kind, const uint8_t id[NET_BAN_ID_BYTES],
                       uint64_t now_ms) {
  const net_ban_t *b = bans_find(t, kind, id);
  return b && b->until_ms > now_ms ? b->until_ms - now_ms : 0;
}
