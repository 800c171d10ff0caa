/* state_cache.c — the upper levels of the latest state tree, kept in memory
 * between commits (state_commit_cached).
 *
 * Why: every block rewrites the nodes at the top of the tree (with 10,000
 * changes into 10 million keys, nearly every node of nibble depth 0..4), so the
 * next block reads them back from the store. Keeping the encoded bytes of those
 * nodes here saves one store lookup per node (a B-tree descent and, in a large
 * store, page misses), about half the node reads of a block at 10M keys.
 *
 * What is cached: for each node path of nibble depth <= STATE_CACHE_DEPTH_MAX,
 * at most one node: the version it was written at, its hash, its encoding
 * (exactly the bytes stored in STORE_T_STATE_NODES under that version and path)
 * and the hashes of its pairs of slots that the commit which wrote it knew
 * (they are not stored; having them saves one hash of a sibling pair per
 * rewritten node). Entries are filled from the store on a miss and from each
 * node a cached commit writes, in place when the old entry has room; a node
 * that collapses away drops its entry.
 *
 * Why a hit is the right node: the cache describes one history of commits,
 * named by the caller's 32-byte history identifier (the ledger passes block
 * hashes, which chain back to genesis: one identifier, one sequence of blocks,
 * one sequence of state changes, one tree, node versions included, since
 * commits are deterministic). A cached commit whose history_before differs from
 * the identifier the cache holds starts from an empty cache. Independently, a
 * hit must match the parent's slot (node version and hash) or it is ignored,
 * dropped, and read from the store. The cache never decides a root: a node
 * read from it is byte-for-byte the stored one.
 *
 * Memory: at most STATE_CACHE_BYTES_MAX bytes of entries (beyond that, new
 * paths are not cached) plus one pointer per possible path (69,905 × 8 bytes);
 * about 78 MiB at 10 million keys. Larger caches were measured slower: with
 * nibble depth 5 too (660 MiB) the commit was no faster, the working set no
 * longer fitting the CPU's last-level cache.
 * Thread safety: one process-wide cache behind a mutex, held for a whole
 * cached commit; a second concurrent cached commit (another store, another
 * thread) runs uncached instead of waiting.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "state/state_int.h"

/* Paths of nibble depth L occupy slots [STATE_CACHE_OFFSET(L), +16^L). */
#define STATE_CACHE_SLOTS ((((size_t)1 << (4 * (STATE_CACHE_DEPTH_MAX + 1))) - 1) / 15)

typedef struct {
  uint64_t version;
  uint8_t hash[STATE_HASH_BYTES];
  unsigned pairs_known;
  state_bin_t pairs[STATE_NODE_PAIRS];
  size_t len, cap;
  uint8_t bytes[]; /* the node's encoding: len of cap bytes */
} cache_entry_t;

static struct {
  pthread_mutex_t lock;
  bool holder;                         /* a cached commit holds the cache now */
  bool valid;                          /* history names what the entries describe */
  uint8_t history[STATE_HASH_BYTES];
  cache_entry_t **slots;               /* STATE_CACHE_SLOTS, allocated on first use */
  size_t bytes;                        /* sum of entry sizes */
  state_cache_stats_t run;             /* the holder's counts, merged at release */
  state_cache_stats_t stats;           /* guarded by lock */
} g_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t slot_index(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles) {
  size_t offset = (((size_t)1 << (4 * nibbles)) - 1) / 15, prefix = 0;
  for (unsigned i = 0; i < nibbles; i++) prefix = prefix << 4 | state_nibble(path, i);
  return offset + prefix;
}

static void entry_drop(size_t i) {
  cache_entry_t *e = g_cache.slots[i];
  if (!e) return;
  g_cache.bytes -= sizeof *e + e->cap;
  free(e);
  g_cache.slots[i] = NULL;
}

static void cache_clear(void) {
  if (g_cache.slots)
    for (size_t i = 0; i < STATE_CACHE_SLOTS; i++) entry_drop(i);
  g_cache.valid = false;
}

bool state_cache_acquire(const uint8_t history_before[STATE_HASH_BYTES]) {
  VE_ASSERT(pthread_mutex_lock(&g_cache.lock) == 0);
  bool ok = !g_cache.holder;
  if (ok && !g_cache.slots) {
    g_cache.slots = calloc(STATE_CACHE_SLOTS, sizeof *g_cache.slots);
    ok = g_cache.slots != NULL;
  }
  if (ok) {
    g_cache.holder = true;
    if (g_cache.valid && memcmp(g_cache.history, history_before, STATE_HASH_BYTES) != 0) {
      cache_clear();
      g_cache.stats.resets++;
    }
  }
  VE_ASSERT(pthread_mutex_unlock(&g_cache.lock) == 0);
  return ok;
}

/* Only the holder touches the entries and the run counters, so the mutex
 * guards the holder flag, the history and the published stats. */
void state_cache_release(const uint8_t history_after[STATE_HASH_BYTES], bool ok) {
  VE_ASSERT(pthread_mutex_lock(&g_cache.lock) == 0);
  VE_ASSERT(g_cache.holder);
  g_cache.stats.hits += g_cache.run.hits;
  g_cache.stats.misses += g_cache.run.misses;
  g_cache.stats.stale += g_cache.run.stale;
  memset(&g_cache.run, 0, sizeof g_cache.run);
  if (ok) {
    memcpy(g_cache.history, history_after, STATE_HASH_BYTES);
    g_cache.valid = true;
  } else {
    cache_clear(); /* what the failed commit cached may not exist */
  }
  g_cache.stats.bytes = g_cache.bytes;
  g_cache.holder = false;
  VE_ASSERT(pthread_mutex_unlock(&g_cache.lock) == 0);
}

bool state_cache_get(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles, uint64_t version,
                     const uint8_t hash[STATE_HASH_BYTES], state_cache_node_t *out) {
  if (nibbles > STATE_CACHE_DEPTH_MAX) return false;
  size_t i = slot_index(path, nibbles);
  cache_entry_t *e = g_cache.slots[i];
  if (e && e->version == version && memcmp(e->hash, hash, STATE_HASH_BYTES) == 0) {
    out->bytes = ve_slice(e->bytes, e->len);
    out->pairs_known = e->pairs_known;
    out->pairs = e->pairs;
    g_cache.run.hits++;
    return true;
  }
  if (e) {
    entry_drop(i); /* not the node the tree names: never serve it */
    g_cache.run.stale++;
  }
  g_cache.run.misses++;
  return false;
}

void state_cache_put(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles, uint64_t version,
                     const uint8_t hash[STATE_HASH_BYTES], ve_slice_t bytes, unsigned pairs_known,
                     const state_bin_t *pairs) {
  if (nibbles > STATE_CACHE_DEPTH_MAX) return;
  size_t i = slot_index(path, nibbles);
  cache_entry_t *e = g_cache.slots[i];
  if (!e || e->cap < bytes.len) {
    entry_drop(i);
    if (g_cache.bytes + sizeof(cache_entry_t) + bytes.len > STATE_CACHE_BYTES_MAX) return;
    e = malloc(sizeof *e + bytes.len);
    if (!e) return; /* a cache: missing an entry is always fine */
    e->cap = bytes.len;
    g_cache.slots[i] = e;
    g_cache.bytes += sizeof *e + e->cap;
  }
  e->version = version;
  memcpy(e->hash, hash, STATE_HASH_BYTES);
  e->len = bytes.len;
  memcpy(e->bytes, bytes.ptr, bytes.len);
  e->pairs_known = pairs_known & ((1u << STATE_NODE_PAIRS) - 1);
  if (e->pairs_known) memcpy(e->pairs, pairs, sizeof e->pairs);
}

void state_cache_prefetch(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles) {
  if (nibbles > STATE_CACHE_DEPTH_MAX) return;
  const cache_entry_t *e = g_cache.slots[slot_index(path, nibbles)];
  if (!e) return;
  /* The whole entry (its length is in its first line, which the first
   * prefetch asks for: the loop waits for it without stalling the caller). */
  __builtin_prefetch(e);
  for (size_t off = 64; off < sizeof *e + e->len; off += 64) __builtin_prefetch((const char *)e + off);
}

void state_cache_forget(const uint8_t path[STATE_HASH_BYTES], unsigned nibbles) {
  if (nibbles <= STATE_CACHE_DEPTH_MAX) entry_drop(slot_index(path, nibbles));
}

void state_cache_stats_get(state_cache_stats_t *out) {
  VE_ASSERT(pthread_mutex_lock(&g_cache.lock) == 0);
  *out = g_cache.stats;
  VE_ASSERT(pthread_mutex_unlock(&g_cache.lock) == 0);
}

void state_cache_reset(void) {
  VE_ASSERT(pthread_mutex_lock(&g_cache.lock) == 0);
  VE_ASSERT(!g_cache.holder);
  cache_clear();
  free(g_cache.slots);
  g_cache.slots = NULL;
  g_cache.stats.bytes = 0;
  VE_ASSERT(pthread_mutex_unlock(&g_cache.lock) == 0);
}
