/* state_tree.c — the stored state tree: batch commits, roots by version, proofs.
 *
 * Tables (docs/state.md, "Storage layout"):
 *   STORE_T_STATE        key -> current value (what state_get reads)
 *   STORE_T_STATE_NODES  be64(version) || L nibbles, one per byte || 0xff -> node
 *   STORE_T_STATE_HIST   0x00 || be64(~version) -> root record (one per version)
 *                        0x01 || be64(version) || path -> value set at version
 *                        0x02, 0x03 || ...: pruning (state_prune.c)
 * Nodes are immutable: a commit at version v writes every node it changes under
 * version v and points the parents at it, so the tree of any earlier version is
 * still whole and can answer proofs. A parent's slot names the version of the
 * child node (or, for a leaf, of the leaf's value), so every lookup is an exact
 * key, never a search.
 *
 * Commit: the changes are hashed to paths, sorted and deduplicated (last wins),
 * then one depth-first pass rebuilds only the touched subtrees, visiting each
 * touched node once however many changes fall under it. The pass writes nodes
 * children first, and the node key (nibbles, then 0xff) sorts a node after all
 * its descendants, so a commit's node writes arrive in key order: appends at the
 * end of the table, as are its value-history writes (version, then path order).
 * Recursion depth is bounded by the path length (64 nibbles), never by input,
 * and the per-level scratch nodes live in one heap block rather than on the stack.
 *
 * Each stored node also caches the hashes of its two halves and four quarters
 * (state_int.h), so a commit that changes one slot of a node rehashes 5 pairs,
 * and a proof reads its siblings from the cache instead of rehashing the node.
 *
 * Pruning (state_prune.c): in a store that enabled it, the pass also logs
 * every old node it rewrites or collapses and the value entry of every old
 * leaf whose key it deletes or sets to another value (a leaf that only moves
 * keeps both); state_root_at and state_prove refuse versions below the
 * oldest provable one. A store that never enabled it writes exactly what it
 * wrote before pruning existed.
 *
 * state_commit_cached runs the same pass with the memory cache of upper nodes
 * (state_cache.c): node reads at nibble depth <= 4 are served from it when it
 * holds exactly the node the parent's slot names, and every node written or
 * read there is remembered for the next commit.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "state/state_int.h"

/* ---- slot and node encoding (internal storage, not consensus bytes) ---- */

/* Kind of the binary subtree over slots [lo, lo+width) as the slot bitmaps
 * alone tell it (bit i = slot i); the hash too unless it is a real node hash
 * (left for the caller). */
static void bin_from_bitmaps(state_bin_t *out, const state_node_t *node, unsigned present,
                             unsigned leaves, unsigned lo, unsigned width) {
  unsigned mask = ((1u << width) - 1) << lo;
  unsigned nodes = present & ~leaves & mask, lone = leaves & mask;
  memset(out, 0, sizeof *out);
  if (nodes != 0 || (lone & (lone - 1)) != 0) {
    out->kind = SLOT_NODE; /* a child node, or two leaves or more */
  } else if (lone != 0) {
    unsigned i = (unsigned)__builtin_ctz(lone);
    out->kind = SLOT_LEAF;
    out->leaf_slot = (uint8_t)i;
    memcpy(out->hash, node->slot[i].hash, STATE_HASH_BYTES);
  }
}

/* Node: u8 format, be16 present bitmap, be16 leaf bitmap (bit i = slot i), then
 * per present slot in order: hash, [leaf path], uvarint version; then the hashes
 * of those halves and quarters (in that order) that are real nodes. */
static size_t node_encode(uint8_t out[STATE_NODE_BYTES_MAX], const state_node_t *node) {
  unsigned present = 0, leaves = 0;
  size_t n = 5;
  for (unsigned i = 0; i < STATE_NODE_SLOTS; i++) {
    const state_slot_t *s = &node->slot[i];
    if (s->kind == SLOT_EMPTY) continue;
    present |= 1u << i;
    memcpy(out + n, s->hash, STATE_HASH_BYTES);
    n += STATE_HASH_BYTES;
    if (s->kind == SLOT_LEAF) {
      leaves |= 1u << i;
      memcpy(out + n, s->path, STATE_HASH_BYTES);
      n += STATE_HASH_BYTES;
    }
    n += codec_uvarint_encode(out + n, s->version);
  }
  const state_bin_t *cached[6] = {&node->half[0], &node->half[1], &node->quarter[0],
                                  &node->quarter[1], &node->quarter[2], &node->quarter[3]};
  for (unsigned i = 0; i < 6; i++) {
    if (cached[i]->kind != SLOT_NODE) continue; /* the others follow from the slots */
    memcpy(out + n, cached[i]->hash, STATE_HASH_BYTES);
    n += STATE_HASH_BYTES;
  }
  out[0] = STATE_NODE_FORMAT;
  out[1] = (uint8_t)(present >> 8);
  out[2] = (uint8_t)present;
  out[3] = (uint8_t)(leaves >> 8);
  out[4] = (uint8_t)leaves;
  VE_ASSERT(n <= STATE_NODE_BYTES_MAX);
  return n;
}

/* Strict: every byte accounted for, leaf slots present, minimal versions, the
 * cached hashes exactly those node_encode writes. A hand-written reader rather
 * than codec's, as commits decode ~3 nodes per changed key. */
static int node_decode(state_node_t *node, ve_slice_t in) {
  const uint8_t *p = in.ptr, *end = in.ptr + in.len;
  if (in.len < 5 || p[0] != STATE_NODE_FORMAT) return VE_ERR_CORRUPT;
  unsigned present = (unsigned)p[1] << 8 | p[2], leaves = (unsigned)p[3] << 8 | p[4];
  if ((leaves & ~present) != 0) return VE_ERR_CORRUPT;
  node->pairs_known = 0; /* pairs are not stored */
  p += 5;
  for (unsigned i = 0; i < STATE_NODE_SLOTS; i++) {
    state_slot_t *s = &node->slot[i];
    if (!(present & (1u << i))) {
      memset(s, 0, sizeof *s);
      continue;
    }
    bool leaf = (leaves & (1u << i)) != 0;
    size_t fixed = leaf ? 2 * STATE_HASH_BYTES : STATE_HASH_BYTES;
    if ((size_t)(end - p) < fixed) return VE_ERR_CORRUPT;
    s->kind = leaf ? SLOT_LEAF : SLOT_NODE;
    memcpy(s->hash, p, STATE_HASH_BYTES);
    if (leaf) {
      memcpy(s->path, p + STATE_HASH_BYTES, STATE_HASH_BYTES);
    } else {
      memset(s->path, 0, STATE_HASH_BYTES);
    }
    p += fixed;
    if (codec_uvarint_decode(&p, end, &s->version) != VE_OK) return VE_ERR_CORRUPT;
  }
  state_bin_t *cached[6] = {&node->half[0], &node->half[1], &node->quarter[0],
                            &node->quarter[1], &node->quarter[2], &node->quarter[3]};
  for (unsigned i = 0; i < 6; i++) {
    unsigned width = i < 2 ? 8 : 4, lo = i < 2 ? i * 8 : (i - 2) * 4;
    bin_from_bitmaps(cached[i], node, present, leaves, lo, width);
    if (cached[i]->kind != SLOT_NODE) continue;
    if ((size_t)(end - p) < STATE_HASH_BYTES) return VE_ERR_CORRUPT;
    memcpy(cached[i]->hash, p, STATE_HASH_BYTES);
    p += STATE_HASH_BYTES;
  }
  return p == end ? VE_OK : VE_ERR_CORRUPT;
}

/* Root record: u8 kind, then unless empty: hash, [leaf path], uvarint version. */
static size_t slot_encode(uint8_t out[1 + 2 * STATE_HASH_BYTES + CODEC_UVARINT_BYTES_MAX],
                          const state_slot_t *s) {
  size_t n = 0;
  out[n++] = s->kind;
  if (s->kind == SLOT_EMPTY) return n;
  memcpy(out + n, s->hash, STATE_HASH_BYTES);
  n += STATE_HASH_BYTES;
  if (s->kind == SLOT_LEAF) {
    memcpy(out + n, s->path, STATE_HASH_BYTES);
    n += STATE_HASH_BYTES;
  }
  return n + codec_uvarint_encode(out + n, s->version);
}

static int slot_decode(state_slot_t *s, ve_slice_t in) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(s, 0, sizeof *s);
  s->kind = codec_get_u8(&r);
  if (s->kind > SLOT_NODE) codec_fail(&r, VE_ERR_CORRUPT);
  if (!r.err && s->kind != SLOT_EMPTY) {
    codec_get_fixed(&r, s->hash, STATE_HASH_BYTES);
    if (s->kind == SLOT_LEAF) codec_get_fixed(&r, s->path, STATE_HASH_BYTES);
    s->version = codec_get_uvarint(&r);
  }
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

static bool slot_eq(const state_slot_t *a, const state_slot_t *b) {
  if (a->kind != b->kind) return false;
  if (a->kind == SLOT_EMPTY) return true;
  if (a->version != b->version) return false;
  if (memcmp(a->hash, b->hash, STATE_HASH_BYTES) != 0) return false;
  return a->kind != SLOT_LEAF || memcmp(a->path, b->path, STATE_HASH_BYTES) == 0;
}

static void slot_bin(const state_node_t *node, unsigned i, state_bin_t *out) {
  out->kind = node->slot[i].kind;
  out->leaf_slot = (uint8_t)i;
  memcpy(out->hash, node->slot[i].hash, STATE_HASH_BYTES);
}

/* ---- reading ---- */

/* The stored encoding of a node; *val as store_get's. committed: look in the
 * committed state first (store_get_committed: cheaper, and the same bytes,
 * since a node key is written once and never changed), then in the txn's own
 * writes (a node an earlier commit of the same txn wrote). */
static int node_read(store_txn_t *t, bool committed, uint64_t version,
                     const uint8_t path[STATE_HASH_BYTES], unsigned nibbles, ve_slice_t *val) {
  if (nibbles >= STATE_NIBBLES) return VE_ERR_CORRUPT;
  uint8_t key[STATE_NODE_KEY_BYTES_MAX];
  size_t key_len = state_node_key(key, version, path, nibbles);
  int rc = VE_ERR_NOT_FOUND;
  if (committed) rc = store_get_committed(t, STORE_T_STATE_NODES, ve_slice(key, key_len), val);
  if (rc == VE_ERR_NOT_FOUND) rc = store_get(t, STORE_T_STATE_NODES, ve_slice(key, key_len), val);
  return rc == VE_ERR_NOT_FOUND ? VE_ERR_CORRUPT : rc; /* a parent names it */
}

static int node_load(store_txn_t *t, uint64_t version, const uint8_t path[STATE_HASH_BYTES],
                     unsigned nibbles, state_node_t *node) {
  ve_slice_t val;
  VE_TRY(node_read(t, false, version, path, nibbles, &val));
  return node_decode(node, val);
}

/* Root slot of the latest version <= version; *found_version gets that version. */
static int root_load(store_txn_t *t, uint64_t version, state_slot_t *root,
                     uint64_t *found_version) {
  uint8_t key[STATE_HIST_ROOT_KEY_BYTES];
  state_root_key(key, version);
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_STATE_HIST, &c));
  ve_slice_t k, v;
  int rc = store_cursor_seek(c, ve_slice(key, sizeof key), &k, &v);
  if (rc == 0 && (k.len != STATE_HIST_ROOT_KEY_BYTES || k.ptr[0] != STATE_HIST_ROOT)) {
    rc = VE_ERR_NOT_FOUND;
  }
  if (rc == 0) {
    if (found_version) *found_version = UINT64_MAX - ve_be64_get(k.ptr + 1);
    rc = slot_decode(root, v);
  }
  store_cursor_close(c);
  return rc;
}

int state_get(store_txn_t *t, ve_slice_t key, ve_slice_t *val_out) {
  if (key.len < 1 || key.len > STATE_KEY_BYTES_MAX) return VE_ERR_INVALID;
  return store_get(t, STORE_T_STATE, key, val_out);
}

/* Root slot of the latest version <= version, if version is not pruned. */
static int root_load_retained(store_txn_t *t, uint64_t version, state_slot_t *root) {
  bool pruning;
  uint64_t floor;
  VE_TRY(state_prune_record_get(t, &pruning, &floor));
  if (version < floor) return VE_ERR_NOT_FOUND; /* pruned (state_prune.c, I2) */
  return root_load(t, version, root, NULL);
}

int state_root_at(store_txn_t *t, uint64_t version, uint8_t root_out[STATE_HASH_BYTES]) {
  state_slot_t root;
  VE_TRY(root_load_retained(t, version, &root));
  memcpy(root_out, root.hash, STATE_HASH_BYTES);
  return VE_OK;
}

int state_version_latest(store_txn_t *t, uint64_t *version_out) {
  state_slot_t root;
  return root_load(t, UINT64_MAX, &root, version_out);
}

/* ---- commit ---- */

typedef struct {
  uint8_t path[STATE_HASH_BYTES];
  uint8_t leaf_hash[STATE_HASH_BYTES]; /* unused for deletes */
  size_t idx;                          /* position in the caller's change list */
  bool del;
} state_item_t;

typedef struct {
  store_txn_t *t;
  bool cached; /* this commit holds the cache of upper nodes (state_cache.c) */
  state_stale_log_t *stale; /* pruning enabled: what this commit makes stale; else NULL */
  uint64_t version;
  const state_change_t *changes;
  const state_item_t *items;
  state_node_t nodes[STATE_NIBBLES + 1]; /* scratch node per nibble depth */
  uint8_t enc[STATE_NODE_BYTES_MAX];
} state_commit_ctx_t;

static int item_cmp(const void *a, const void *b) {
  const state_item_t *x = a, *y = b;
  int c = memcmp(x->path, y->path, STATE_HASH_BYTES);
  if (c) return c;
  return (x->idx > y->idx) - (x->idx < y->idx);
}

static int check_changes(const state_change_t *changes, size_t n) {
  if (n > STATE_COMMIT_CHANGES_MAX) return VE_ERR_LIMIT;
  for (size_t i = 0; i < n; i++) {
    if (changes[i].key.len < 1) return VE_ERR_INVALID;
    if (changes[i].key.len > STATE_KEY_BYTES_MAX) return VE_ERR_TOO_BIG;
    if (!changes[i].del && changes[i].val.len > STATE_VALUE_BYTES_MAX) return VE_ERR_TOO_BIG;
  }
  return VE_OK;
}

/* Sorting items by (path, position). Paths are hashes, so their first bits
 * spread the items evenly over buckets: one stable counting pass on the top
 * `bits` bits (about log2 n) leaves buckets of one item or so, each then
 * sorted by insertion, or by qsort if it is large (keys crafted so that their
 * paths share their first bits cost n log n, never n^2). */
#define STATE_SORT_BITS_MAX 16 /* 65,536 buckets at most */
#define STATE_SORT_SMALL 16    /* insertion sort up to this many items */

static unsigned path_bucket(const uint8_t path[STATE_HASH_BYTES], unsigned bits) {
  uint32_t top = (uint32_t)path[0] << 16 | (uint32_t)path[1] << 8 | path[2];
  return top >> (24 - bits);
}

static void bucket_sort(state_item_t *b, size_t n) {
  if (n > STATE_SORT_SMALL) {
    qsort(b, n, sizeof *b, item_cmp);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    if (item_cmp(&b[i - 1], &b[i]) <= 0) continue;
    state_item_t x = b[i];
    size_t j = i;
    for (; j > 0 && item_cmp(&b[j - 1], &x) > 0; j--) b[j] = b[j - 1];
    b[j] = x;
  }
}

/* out[0, n) = in[0, n) sorted by (path, idx). */
static int items_sort(state_item_t *out, const state_item_t *in, size_t n) {
  unsigned bits = 1;
  while (bits < STATE_SORT_BITS_MAX && ((size_t)1 << bits) < n) bits++;
  size_t buckets = (size_t)1 << bits;
  size_t *start = calloc(buckets + 1, sizeof *start);
  if (!start) return VE_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) start[path_bucket(in[i].path, bits) + 1]++;
  for (size_t b = 0; b < buckets; b++) start[b + 1] += start[b];
  for (size_t i = 0; i < n; i++) out[start[path_bucket(in[i].path, bits)]++] = in[i];
  /* start[b] is now the end of bucket b, the start of bucket b + 1. */
  for (size_t b = 0, lo = 0; b < buckets; lo = start[b++]) bucket_sort(out + lo, start[b] - lo);
  free(start);
  return VE_OK;
}

/* Hashes the changes into scratch, sorts them by path into items and keeps
 * the last change of each path. *m_out gets the number of items kept. */
static int items_prepare(state_item_t *items, state_item_t *scratch,
                         const state_change_t *changes, size_t n, size_t *m_out) {
  *m_out = 0;
  for (size_t i = 0; i < n; i++) {
    state_item_t *it = &scratch[i];
    state_key_path(it->path, changes[i].key);
    it->idx = i;
    it->del = changes[i].del;
    if (!it->del) {
      uint8_t vhash[STATE_HASH_BYTES];
      state_value_hash(vhash, changes[i].val);
      state_leaf_hash(it->leaf_hash, it->path, vhash);
    }
  }
  if (n == 0) return VE_OK;
  VE_TRY(items_sort(items, scratch, n));
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    bool last_of_path =
        i + 1 == n || memcmp(items[i].path, items[i + 1].path, STATE_HASH_BYTES) != 0;
    if (last_of_path) items[m++] = items[i];
  }
  *m_out = m;
  return VE_OK;
}

/* A new leaf for item i: its value goes into the history under this version. */
static int leaf_create(state_commit_ctx_t *c, size_t i, state_slot_t *out) {
  const state_item_t *it = &c->items[i];
  uint8_t key[STATE_HIST_VALUE_KEY_BYTES];
  state_value_key(key, c->version, it->path);
  /* In a pruned store the stale log sorts after the value history, so an
   * append would always fall back to a put: go there directly. */
  if (c->stale) {
    VE_TRY(store_put(c->t, STORE_T_STATE_HIST, ve_slice(key, sizeof key), c->changes[it->idx].val));
  } else {
    VE_TRY(store_put_append(c->t, STORE_T_STATE_HIST, ve_slice(key, sizeof key),
                            c->changes[it->idx].val));
  }
  out->kind = SLOT_LEAF;
  memcpy(out->hash, it->leaf_hash, STATE_HASH_BYTES);
  memcpy(out->path, it->path, STATE_HASH_BYTES);
  out->version = c->version;
  return VE_OK;
}

/* Loads the node that slot `old` names at (path, nibbles): from the cache when
 * the commit holds it and has that very node, else from the store (and then
 * remembers it). */
static int commit_node_load(state_commit_ctx_t *c, const state_slot_t *old,
                            const uint8_t path[STATE_HASH_BYTES], unsigned nibbles,
                            state_node_t *node) {
  state_cache_node_t hit;
  if (c->cached && state_cache_get(path, nibbles, old->version, old->hash, &hit)) {
    VE_TRY(node_decode(node, hit.bytes));
    node->pairs_known = hit.pairs_known;
    if (hit.pairs_known) memcpy(node->pair, hit.pairs, sizeof node->pair);
    return VE_OK;
  }
  ve_slice_t val;
  VE_TRY(node_read(c->t, true, old->version, path, nibbles, &val));
  /* The store's search touched only the start of the node: ask for all of
   * its lines at once rather than one by one as the decoder reaches them. */
  for (size_t off = 64; off < val.len; off += 64) __builtin_prefetch(val.ptr + off);
  if (c->cached) state_cache_put(path, nibbles, old->version, old->hash, val, 0, NULL);
  return node_decode(node, val);
}

/* Rehashes the pairs, quarters and halves above the slots in `changed` (bit i
 * = slot i), reusing the cached ones elsewhere and the pairs the node knows;
 * *top gets the node's own subtree. Afterwards every pair of a changed
 * quarter is known. */
static void node_rehash(state_node_t *node, unsigned changed, state_bin_t *top) {
  for (unsigned q = 0; q < 4; q++) {
    if (!(changed & (0xfu << (4 * q)))) continue;
    for (unsigned p = 2 * q; p < 2 * q + 2; p++) {
      if (!(changed & (0x3u << (2 * p))) && (node->pairs_known & (1u << p))) continue;
      state_bin_t l, r;
      slot_bin(node, 2 * p, &l);
      slot_bin(node, 2 * p + 1, &r);
      state_bin_join(&node->pair[p], &l, &r);
      node->pairs_known |= 1u << p;
    }
    state_bin_join(&node->quarter[q], &node->pair[2 * q], &node->pair[2 * q + 1]);
  }
  for (unsigned h = 0; h < 2; h++) {
    if (changed & (0xffu << (8 * h))) {
      state_bin_join(&node->half[h], &node->quarter[2 * h], &node->quarter[2 * h + 1]);
    }
  }
  state_bin_join(top, &node->half[0], &node->half[1]);
}

/* Writes node (at depth `nibbles` on path; `changed` marks the slots that changed
 * since its cached hashes were right) unless it has collapsed, and returns the
 * slot that stands for it in its parent. */
static int node_finish(state_commit_ctx_t *c, state_node_t *node, unsigned changed,
                       unsigned nibbles, const uint8_t path[STATE_HASH_BYTES], state_slot_t *out) {
  unsigned count = 0, last = 0;
  for (unsigned i = 0; i < STATE_NODE_SLOTS; i++) {
    if (node->slot[i].kind != SLOT_EMPTY) {
      count++;
      last = i;
    }
  }
  if (count == 0 || (count == 1 && node->slot[last].kind == SLOT_LEAF)) {
    if (c->cached) state_cache_forget(path, nibbles); /* no node here any more */
    if (count == 0) memset(out, 0, sizeof *out);
    else *out = node->slot[last]; /* a lone leaf rises to its parent */
    return VE_OK;
  }
  state_bin_t top;
  node_rehash(node, changed, &top);
  VE_ASSERT(top.kind == SLOT_NODE);
  uint8_t key[STATE_NODE_KEY_BYTES_MAX];
  size_t key_len = state_node_key(key, c->version, path, nibbles);
  size_t enc_len = node_encode(c->enc, node);
  VE_TRY(store_put_append(c->t, STORE_T_STATE_NODES, ve_slice(key, key_len),
                          ve_slice(c->enc, enc_len)));
  if (c->cached) {
    state_cache_put(path, nibbles, c->version, top.hash, ve_slice(c->enc, enc_len),
                    node->pairs_known, node->pair);
  }
  memset(out, 0, sizeof *out);
  out->kind = SLOT_NODE;
  memcpy(out->hash, top.hash, STATE_HASH_BYTES);
  out->version = c->version;
  return VE_OK;
}

/* In a pruned store, logs the value entry of `old` as stale if it is a leaf:
 * called where an old leaf's key was deleted or set to another value (a leaf
 * that only moves up or down keeps its version and its value entry). */
static int old_value_stale(state_commit_ctx_t *c, const state_slot_t *old) {
  if (!c->stale || old->kind != SLOT_LEAF) return VE_OK;
  return state_stale_value(c->stale, old->version, old->path);
}

/* The subtree at depth `nibbles` along items[lo].path was `old`; apply
 * items[lo, hi) (all under it, sorted, one per path) and set *out to the new
 * subtree. Recursion depth <= STATE_NIBBLES + 1. */
static int subtree_update(state_commit_ctx_t *c, unsigned nibbles, const state_slot_t *old,
                          size_t lo, size_t hi, state_slot_t *out) {
  VE_ASSERT(nibbles <= STATE_NIBBLES && lo < hi);
  const state_item_t *items = c->items;
  state_node_t *node = &c->nodes[nibbles];
  bool loaded = old->kind == SLOT_NODE;
  if (loaded) {
    VE_TRY(commit_node_load(c, old, items[lo].path, nibbles, node));
  } else {
    /* Empty or one leaf: count the leaves the subtree will hold. */
    size_t live = 0, last = lo;
    bool old_stays = old->kind == SLOT_LEAF;
    for (size_t i = lo; i < hi; i++) {
      if (!items[i].del) {
        live++;
        last = i;
      }
      if (old_stays && memcmp(items[i].path, old->path, STATE_HASH_BYTES) == 0) old_stays = false;
    }
    if (live + old_stays == 0) {
      memset(out, 0, sizeof *out);
      return old_value_stale(c, old); /* an old leaf was deleted */
    }
    if (live + old_stays == 1) {
      if (old_stays) {
        *out = *old;
        return VE_OK;
      }
      /* Same value written again: keep the old leaf and its history. */
      if (old->kind == SLOT_LEAF &&
          memcmp(old->hash, items[last].leaf_hash, STATE_HASH_BYTES) == 0) {
        *out = *old;
        return VE_OK;
      }
      VE_TRY(old_value_stale(c, old)); /* an old leaf was deleted or changed */
      return leaf_create(c, last, out);
    }
    /* Two or more distinct paths here, so they part before the last nibble. */
    VE_ASSERT(nibbles < STATE_NIBBLES);
    memset(node, 0, sizeof *node);
    if (old->kind == SLOT_LEAF) node->slot[state_nibble(old->path, nibbles)] = *old;
  }

  unsigned changed = loaded ? 0 : 0xffffu; /* a new node has no cached hashes */
  if (c->cached && nibbles < STATE_CACHE_DEPTH_MAX) {
    /* The cached children this node will load, while it works on the first. */
    for (size_t i = lo; i < hi;) {
      unsigned nib = state_nibble(items[i].path, nibbles);
      if (node->slot[nib].kind == SLOT_NODE) state_cache_prefetch(items[i].path, nibbles + 1);
      while (i < hi && state_nibble(items[i].path, nibbles) == nib) i++;
    }
  }
  for (size_t i = lo; i < hi;) {
    unsigned nib = state_nibble(items[i].path, nibbles);
    size_t j = i + 1;
    while (j < hi && state_nibble(items[j].path, nibbles) == nib) j++;
    state_slot_t child;
    VE_TRY(subtree_update(c, nibbles + 1, &node->slot[nib], i, j, &child));
    if (!slot_eq(&child, &node->slot[nib])) {
      node->slot[nib] = child;
      changed |= 1u << nib;
    }
    i = j;
  }
  if (loaded && !changed) {
    *out = *old;
    return VE_OK;
  }
  if (loaded && c->stale) {
    /* The old node is rewritten under this version, or collapses. */
    VE_TRY(state_stale_node(c->stale, old->version, items[lo].path, nibbles));
  }
  return node_finish(c, node, changed, nibbles, items[lo].path, out);
}

/* A change in the order of current-value writes: the first 8 bytes of its key
 * (big-endian, zero-padded) decide most comparisons without following the
 * pointer to the key bytes, which the caller's change list scatters. */
typedef struct {
  uint64_t prefix;
  const state_change_t *ch;
} state_order_t;

static uint64_t key_prefix(ve_slice_t key) {
  uint8_t b[8] = {0};
  memcpy(b, key.ptr, key.len < 8 ? key.len : 8);
  return ve_be64_get(b);
}

static int order_cmp(const void *a, const void *b) {
  const state_order_t *x = a, *y = b;
  if (x->prefix != y->prefix) return x->prefix < y->prefix ? -1 : 1;
  ve_slice_t kx = x->ch->key, ky = y->ch->key;
  size_t n = kx.len < ky.len ? kx.len : ky.len;
  int c = memcmp(kx.ptr, ky.ptr, n);
  if (c) return c;
  return (kx.len > ky.len) - (kx.len < ky.len);
}

/* Current values, written in key order as one batch (store_write_batch):
 * neighbouring puts share the upper pages of the table (measured ~5% faster
 * than path order on 10M keys), and LMDB inserts their dirty pages into short
 * lists. */
static int current_values_write(store_txn_t *t, const state_change_t *changes,
                                const state_item_t *items, size_t m) {
  if (m == 0) return VE_OK;
  state_order_t *order = malloc(m * sizeof *order);
  if (!order) return VE_ERR_NOMEM;
  for (size_t i = 0; i < m; i++) {
    order[i].ch = &changes[items[i].idx];
    order[i].prefix = key_prefix(order[i].ch->key);
  }
  qsort(order, m, sizeof *order, order_cmp);
  store_write_t *w = malloc(m * sizeof *w);
  if (!w) {
    free(order);
    return VE_ERR_NOMEM;
  }
  for (size_t i = 0; i < m; i++) {
    w[i].key = order[i].ch->key;
    w[i].val = order[i].ch->val;
    w[i].del = order[i].ch->del;
  }
  free(order);
  int rc = store_write_batch(t, STORE_T_STATE, w, m);
  free(w);
  return rc;
}

static int commit_run(store_txn_t *t, bool cached, uint64_t version, const state_change_t *changes,
                      size_t n, uint8_t root_out[STATE_HASH_BYTES]) {
  VE_TRY(check_changes(changes, n));
  state_slot_t root;
  uint64_t latest;
  int rc = root_load(t, UINT64_MAX, &root, &latest);
  if (rc == VE_ERR_NOT_FOUND) {
    memset(&root, 0, sizeof root);
  } else if (rc) {
    return rc;
  } else if (version <= latest) {
    return VE_ERR_HEIGHT;
  }

  bool prune;
  uint64_t floor;
  VE_TRY(state_prune_record_get(t, &prune, &floor));

  state_item_t *items = NULL;
  state_stale_log_t *stale = NULL;
  state_commit_ctx_t *c = malloc(sizeof *c);
  if (n > 0) items = malloc(2 * n * sizeof *items); /* items, then scratch */
  if (prune) stale = malloc(sizeof *stale);
  if (!c || (n > 0 && !items) || (prune && !stale)) {
    free(items);
    free(stale);
    free(c);
    return VE_ERR_NOMEM;
  }
  if (stale) state_stale_init(stale, t, version);
  size_t m = 0;
  rc = items_prepare(items, items + n, changes, n, &m);
  c->t = t;
  c->cached = cached;
  c->stale = stale;
  c->version = version;
  c->changes = changes;
  c->items = items;

  /* The tree first: its node reads then search a transaction that has
   * written little yet (LMDB looks every page up in the txn's list of dirty
   * pages, which the 10,000 or so pages of current values would lengthen). */
  if (rc == 0 && m > 0) {
    state_slot_t new_root;
    rc = subtree_update(c, 0, &root, 0, m, &new_root);
    root = new_root;
  }
  if (rc == 0 && stale) rc = state_stale_flush(stale);
  if (rc == 0) rc = current_values_write(t, changes, items, m);
  if (rc == 0) {
    uint8_t key[STATE_HIST_ROOT_KEY_BYTES];
    uint8_t rec[1 + 2 * STATE_HASH_BYTES + CODEC_UVARINT_BYTES_MAX];
    state_root_key(key, version);
    size_t rec_len = slot_encode(rec, &root);
    rc = store_put(t, STORE_T_STATE_HIST, ve_slice(key, sizeof key), ve_slice(rec, rec_len));
  }
  if (rc == 0) memcpy(root_out, root.hash, STATE_HASH_BYTES);
  free(items);
  free(stale);
  free(c);
  return rc;
}

int state_commit(store_txn_t *t, uint64_t version, const state_change_t *changes, size_t n,
                 uint8_t root_out[STATE_HASH_BYTES]) {
  return commit_run(t, false, version, changes, n, root_out);
}

int state_commit_cached(store_txn_t *t, const uint8_t history_before[STATE_HASH_BYTES],
                        const uint8_t history_after[STATE_HASH_BYTES], uint64_t version,
                        const state_change_t *changes, size_t n, uint8_t root_out[STATE_HASH_BYTES]) {
  bool cached = state_cache_acquire(history_before);
  int rc = commit_run(t, cached, version, changes, n, root_out);
  if (cached) state_cache_release(history_after, rc == VE_OK);
  return rc;
}

/* ---- proofs ---- */

/* The binary subtree `idx` at inner level `level` (1: halves, 2: quarters,
 * 3: pairs of slots, 4: slots) of a node, from its slots and cached hashes. */
static void node_inner(const state_node_t *node, unsigned level, unsigned idx, state_bin_t *out) {
  if (level == 1) {
    *out = node->half[idx];
  } else if (level == 2) {
    *out = node->quarter[idx];
  } else if (level == 3) {
    state_bin_t l, r;
    slot_bin(node, 2 * idx, &l);
    slot_bin(node, 2 * idx + 1, &r);
    state_bin_join(out, &l, &r);
  } else {
    slot_bin(node, idx, out);
  }
}

/* Walks path down the tree whose root is `root`, filling the proof's siblings and
 * terminal; *leaf gets the terminal leaf's slot when there is one. A loop, one
 * node per nibble, at most 64 nodes. */
static int path_walk(store_txn_t *t, const state_slot_t *root, const uint8_t path[STATE_HASH_BYTES],
                     state_proof_t *p, state_slot_t *leaf) {
  state_node_t node;
  state_slot_t cur = *root;
  p->depth = 0;
  for (unsigned nibbles = 0;; nibbles++) {
    if (cur.kind == SLOT_EMPTY) {
      p->leaf = false;
      return VE_OK;
    }
    if (cur.kind == SLOT_LEAF) {
      p->leaf = true;
      *leaf = cur;
      return VE_OK;
    }
    VE_TRY(node_load(t, cur.version, path, nibbles, &node));
    unsigned nib = state_nibble(path, nibbles), idx = 0;
    for (unsigned level = 1; level <= 4; level++) {
      unsigned bit = (nib >> (4 - level)) & 1;
      state_bin_t here, sibling;
      node_inner(&node, level, 2 * idx + (1 - bit), &sibling);
      node_inner(&node, level, 2 * idx + bit, &here);
      memcpy(p->sibling[p->depth++], sibling.hash, STATE_HASH_BYTES);
      idx = 2 * idx + bit;
      if (here.kind == SLOT_EMPTY) {
        p->leaf = false;
        return VE_OK;
      }
      if (here.kind == SLOT_LEAF) {
        p->leaf = true;
        *leaf = node.slot[here.leaf_slot];
        return VE_OK;
      }
    }
    cur = node.slot[nib];
  }
}

/* Value of the leaf `leaf` from the history; checks it against the leaf hash. */
static int leaf_value(store_txn_t *t, const state_slot_t *leaf, ve_buf_t *value_out,
                      uint8_t vhash_out[STATE_HASH_BYTES]) {
  uint8_t key[STATE_HIST_VALUE_KEY_BYTES];
  state_value_key(key, leaf->version, leaf->path);
  ve_slice_t val;
  int rc = store_get(t, STORE_T_STATE_HIST, ve_slice(key, sizeof key), &val);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_CORRUPT;
  if (rc) return rc;
  state_value_hash(vhash_out, val);
  uint8_t lh[STATE_HASH_BYTES];
  state_leaf_hash(lh, leaf->path, vhash_out);
  if (memcmp(lh, leaf->hash, STATE_HASH_BYTES) != 0) return VE_ERR_CORRUPT;
  if (value_out) VE_TRY(ve_buf_append(value_out, val.ptr, val.len));
  return VE_OK;
}

int state_prove(store_txn_t *t, uint64_t version, ve_slice_t key, bool *present,
                ve_buf_t *value_out, ve_buf_t *proof_out) {
  if (key.len < 1 || key.len > STATE_KEY_BYTES_MAX) return VE_ERR_INVALID;
  *present = false;
  if (value_out) ve_buf_reset(value_out);
  ve_buf_reset(proof_out);
  state_slot_t root;
  VE_TRY(root_load_retained(t, version, &root));

  uint8_t path[STATE_HASH_BYTES];
  state_key_path(path, key);
  state_proof_t *p = malloc(sizeof *p);
  if (!p) return VE_ERR_NOMEM;
  state_slot_t leaf;
  int rc = path_walk(t, &root, path, p, &leaf);
  if (rc == 0 && p->leaf) {
    bool is_key = memcmp(leaf.path, path, STATE_HASH_BYTES) == 0;
    rc = leaf_value(t, &leaf, is_key ? value_out : NULL, p->leaf_vhash);
    memcpy(p->leaf_path, leaf.path, STATE_HASH_BYTES);
    *present = rc == 0 && is_key;
  }
  if (rc == 0) rc = state_proof_encode(p, proof_out);
  free(p);
  if (rc) *present = false;
  return rc;
}
