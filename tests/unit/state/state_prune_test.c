/* state_prune_test.c — pruning of old state versions (state_prune_enable,
 * state_prune, state_version_oldest; docs/state.md §5.1, §7).
 *
 * The property test runs the same random batches into two stores, one pruned
 * with a sliding window after every commit (sometimes with a small budget, so
 * that pruning lags), one not: equal roots, equal proofs at every retained
 * version, the pruned answer below the window, and, walking the stored trees
 * with a decoder of its own, exactly the retained versions' nodes and values
 * left in the pruned store (this is what fails if the stale log misses or
 * over-reports anything). The keys include pairs whose paths share 27+ bits,
 * so that leaves move down into chains of new nodes and chains collapse.
 * Also: a store that never enabled pruning writes byte for byte what
 * state_commit wrote before pruning existed (a digest of the three state
 * tables after a fixed sequence of batches, taken from the code of 9801b22);
 * enabling late; the entries logged in small cases; the API's errors, gaps in
 * versions, aborts; corrupt records. Random runs print their seed; replay
 * with VECHE_SEED=<seed>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "codec/codec.h"
#include "state/state.h"
#include "state_test_util.h"

/* ---- key universe: random keys, and pairs whose paths share long prefixes ---- */

#define UNIVERSE_CANDIDATES (1u << 17) /* keys hashed to find close paths */
#define UNIVERSE_CLOSE_PAIRS 48        /* adjacent pairs with the longest common prefixes */
#define UNIVERSE_RANDOM 160
#define UNIVERSE_MAX (2 * UNIVERSE_CLOSE_PAIRS + UNIVERSE_RANDOM)
#define KEY_BYTES 8

typedef struct {
  uint8_t path[32];
  uint32_t id;
} cand_t;

static uint8_t g_keys[UNIVERSE_MAX][KEY_BYTES];
static size_t g_nkeys, g_nclose; /* g_keys[0, g_nclose) are the close ones */

static void key_of(uint8_t out[KEY_BYTES], uint32_t id) {
  memcpy(out, "pk", 2);
  out[2] = (uint8_t)(id >> 24);
  out[3] = (uint8_t)(id >> 16);
  out[4] = (uint8_t)(id >> 8);
  out[5] = (uint8_t)id;
  out[6] = out[7] = 0x2e;
}

static int cand_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }

static unsigned common_bits(const uint8_t a[32], const uint8_t b[32]) {
  unsigned n = 0;
  for (unsigned i = 0; i < 32; i++) {
    uint8_t x = a[i] ^ b[i];
    if (!x) {
      n += 8;
      continue;
    }
    return n + (unsigned)__builtin_clz((unsigned)x) - 24;
  }
  return n;
}

typedef struct {
  unsigned bits;
  uint32_t i;
} lcp_t;

static int lcp_cmp(const void *a, const void *b) {
  const lcp_t *x = a, *y = b;
  if (x->bits != y->bits) return x->bits < y->bits ? 1 : -1;
  return (x->i > y->i) - (x->i < y->i);
}

/* Deterministic (no seed): the same universe in every run. */
static void universe_build(void) {
  if (g_nkeys) return;
  cand_t *c = malloc(UNIVERSE_CANDIDATES * sizeof *c);
  lcp_t *l = malloc(UNIVERSE_CANDIDATES * sizeof *l);
  bool *used = calloc(UNIVERSE_CANDIDATES, sizeof *used);
  assert_non_null(c);
  assert_non_null(l);
  assert_non_null(used);
  for (uint32_t i = 0; i < UNIVERSE_CANDIDATES; i++) {
    uint8_t k[KEY_BYTES];
    key_of(k, i);
    state_key_path(c[i].path, ve_slice(k, KEY_BYTES));
    c[i].id = i;
  }
  qsort(c, UNIVERSE_CANDIDATES, sizeof *c, cand_cmp);
  for (uint32_t i = 0; i + 1 < UNIVERSE_CANDIDATES; i++) {
    l[i].bits = common_bits(c[i].path, c[i + 1].path);
    l[i].i = i;
  }
  qsort(l, UNIVERSE_CANDIDATES - 1, sizeof *l, lcp_cmp);
  unsigned deepest = l[0].bits;
  for (uint32_t p = 0; p < UNIVERSE_CLOSE_PAIRS; p++) {
    for (uint32_t j = l[p].i; j <= l[p].i + 1; j++) {
      if (used[j]) continue;
      used[j] = true;
      key_of(g_keys[g_nkeys++], c[j].id);
    }
  }
  g_nclose = g_nkeys;
  printf("universe: %zu close keys (common prefixes %u..%u bits)\n", g_nclose,
         l[UNIVERSE_CLOSE_PAIRS - 1].bits, deepest);
  /* Random keys: every 800th candidate in id order (spread over all paths). */
  for (uint32_t id = 7; g_nkeys < UNIVERSE_MAX && id < UNIVERSE_CANDIDATES; id += 800) {
    key_of(g_keys[g_nkeys++], id + UNIVERSE_CANDIDATES); /* not a candidate */
  }
  free(c);
  free(l);
  free(used);
}

/* ---- random batches over the universe ---- */

#define VALUE_CHOICES 4 /* few values per key, so that rewrites of the same value are common */
#define BATCH_MAX (2 * UNIVERSE_MAX)

typedef struct {
  int cur[UNIVERSE_MAX]; /* model: value choice of each key, -1 absent */
} model_t;

typedef struct {
  state_change_t ch[BATCH_MAX];
  uint8_t val[BATCH_MAX][24];
  size_t n;
} batch_t;

static void value_of(uint8_t out[24], size_t *len, size_t key, int choice) {
  *len = 1 + (size_t)choice * 5 + key % 3;
  for (size_t i = 0; i < *len; i++) out[i] = (uint8_t)(key * 31 + (size_t)choice * 7 + i);
}

static size_t pick_key(void) {
  return tu_rng_below(2) ? (size_t)tu_rng_below(g_nclose) : (size_t)tu_rng_below(g_nkeys);
}

static void change_add(batch_t *b, model_t *m, size_t k, int choice) {
  state_change_t *c = &b->ch[b->n];
  c->key = ve_slice(g_keys[k], KEY_BYTES);
  c->del = choice < 0;
  size_t len = 0;
  if (!c->del) value_of(b->val[b->n], &len, k, choice);
  c->val = ve_slice(b->val[b->n], len);
  m->cur[k] = choice;
  b->n++;
}

/* A batch: mostly a few changes (sets, deletes, deletes of absent keys,
 * rewrites of the current value, a key twice); now and then a mass insert or a
 * mass delete, so that subtrees fill, collapse and leaves move up and down. */
static void batch_random(batch_t *b, model_t *m) {
  b->n = 0;
  uint64_t kind = tu_rng_below(20);
  if (kind == 0) {
    for (size_t k = 0; k < g_nkeys; k++) {
      if (m->cur[k] < 0 && tu_rng_below(3)) change_add(b, m, k, (int)tu_rng_below(VALUE_CHOICES));
    }
    return;
  }
  if (kind == 1) {
    for (size_t k = 0; k < g_nkeys; k++) {
      if (m->cur[k] >= 0 && tu_rng_below(5)) change_add(b, m, k, -1);
    }
    return;
  }
  size_t n = 1 + (size_t)tu_rng_below(40);
  for (size_t i = 0; i < n && b->n + 2 <= BATCH_MAX; i++) {
    size_t k = pick_key();
    uint64_t op = tu_rng_below(10);
    if (op < 5) change_add(b, m, k, (int)tu_rng_below(VALUE_CHOICES));
    else if (op < 8) change_add(b, m, k, -1);
    else change_add(b, m, k, m->cur[k] < 0 ? 0 : m->cur[k]); /* same value again */
    if (tu_rng_below(15) == 0) change_add(b, m, k, (int)tu_rng_below(VALUE_CHOICES) - 1);
  }
}

static void model_init(model_t *m) {
  for (size_t k = 0; k < UNIVERSE_MAX; k++) m->cur[k] = -1;
}

/* ---- store helpers ---- */

static void table_digest(vcrypto_hasher_t *h, store_t *s, store_table_t table) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  store_cursor_t *c;
  assert_int_equal(store_cursor_open(t, table, &c), 0);
  ve_slice_t k, v;
  uint8_t hdr[17];
  hdr[0] = (uint8_t)table;
  for (int rc = store_cursor_seek(c, ve_slice(NULL, 0), &k, &v); rc == 0;
       rc = store_cursor_next(c, &k, &v)) {
    ve_be64_put(hdr + 1, k.len);
    ve_be64_put(hdr + 9, v.len);
    vcrypto_hasher_update(h, hdr, sizeof hdr);
    vcrypto_hasher_update(h, k.ptr, k.len);
    vcrypto_hasher_update(h, v.ptr, v.len);
  }
  store_cursor_close(c);
  store_txn_abort(t);
}

static void state_digest(store_t *s, uint8_t out[32]) {
  vcrypto_hasher_t h;
  vcrypto_hasher_init(&h, "veche/test/state-tables");
  table_digest(&h, s, STORE_T_STATE);
  table_digest(&h, s, STORE_T_STATE_NODES);
  table_digest(&h, s, STORE_T_STATE_HIST);
  vcrypto_hasher_final(&h, out);
}

/* ---- a store that never enabled pruning writes what it always wrote ---- */

/* Digest of STATE, STATE_NODES and STATE_HIST after test_disabled_unchanged's
 * 120 commits, as computed by state_commit before pruning existed (9801b22). */
#define DISABLED_DIGEST "9ad1579514fdf835a9f6f764ed45f9e87ee0cbe4895d32518d94586052c9fa73"

static void test_disabled_unchanged(void **st) {
  (void)st;
  universe_build();
  tu_rng_seed(20261122); /* fixed: the digest below depends on it */
  store_t *s;
  assert_int_equal(store_open_mem(&s), 0);
  model_t *m = malloc(sizeof *m);
  batch_t *b = malloc(sizeof *b);
  assert_non_null(m);
  assert_non_null(b);
  model_init(m);
  for (uint64_t v = 1; v <= 120; v++) {
    batch_random(b, m);
    uint8_t root[32];
    assert_int_equal(tu_commit(s, v, b->ch, b->n, root), 0);
  }
  uint8_t d[32];
  state_digest(s, d);
  char hex[65];
  ve_hex_encode(hex, d, 32);
  printf("digest of the state tables: %s\n", hex);
  assert_string_equal(hex, DISABLED_DIGEST);
  free(m);
  free(b);
  store_close(s);
}


/* ---- reading the stored tree independently (docs/state.md §5 layout) ---- */

#define SKEY_BYTES_MAX 80

typedef struct {
  uint8_t b[SKEY_BYTES_MAX];
  size_t len;
} skey_t;

typedef struct {
  skey_t *k;
  size_t n, cap;
} skeys_t;

static void skeys_add(skeys_t *s, const uint8_t *key, size_t len) {
  assert_true(len <= SKEY_BYTES_MAX);
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 256;
    s->k = realloc(s->k, s->cap * sizeof *s->k);
    assert_non_null(s->k);
  }
  memcpy(s->k[s->n].b, key, len);
  s->k[s->n++].len = len;
}

static int skey_cmp(const void *a, const void *b) {
  const skey_t *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->b, y->b, n);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void skeys_sort_unique(skeys_t *s) {
  if (s->n == 0) return;
  qsort(s->k, s->n, sizeof *s->k, skey_cmp);
  size_t m = 1;
  for (size_t i = 1; i < s->n; i++) {
    if (skey_cmp(&s->k[i], &s->k[m - 1]) != 0) s->k[m++] = s->k[i];
  }
  s->n = m;
}

static uint64_t uvarint_read(const uint8_t **p, const uint8_t *end) {
  uint64_t v = 0;
  assert_int_equal(codec_uvarint_decode(p, end, &v), VE_OK);
  return v;
}

static void value_skey(skeys_t *values, uint64_t version, const uint8_t path[32]) {
  uint8_t k[41];
  k[0] = 0x01;
  ve_be64_put(k + 1, version);
  memcpy(k + 9, path, 32);
  skeys_add(values, k, sizeof k);
}

typedef struct {
  uint64_t version;
  uint8_t nib[64];
  unsigned len;
} walk_item_t;

/* Adds to nodes and values every stored key of the tree whose root record is
 * rec; fails if a node it names is missing. An explicit stack, no recursion. */
static void tree_walk(store_txn_t *t, ve_slice_t rec, skeys_t *nodes, skeys_t *values) {
  const uint8_t *p = rec.ptr, *end = rec.ptr + rec.len;
  assert_true(rec.len >= 1);
  uint8_t kind = *p++;
  if (kind == 0) return;
  p += 32; /* hash */
  if (kind == 1) {
    const uint8_t *path = p;
    p += 32;
    value_skey(values, uvarint_read(&p, end), path);
    return;
  }
  assert_int_equal(kind, 2);
  walk_item_t *stack = malloc(64 * 16 * sizeof *stack);
  assert_non_null(stack);
  size_t top = 0;
  stack[top].version = uvarint_read(&p, end);
  stack[top++].len = 0;
  while (top > 0) {
    walk_item_t it = stack[--top];
    uint8_t key[8 + 64 + 1];
    ve_be64_put(key, it.version);
    memcpy(key + 8, it.nib, it.len);
    key[8 + it.len] = 0xff;
    size_t key_len = 9 + it.len;
    skeys_add(nodes, key, key_len);
    ve_slice_t v;
    int rc = store_get(t, STORE_T_STATE_NODES, ve_slice(key, key_len), &v);
    if (rc) fail_msg("node of version %llu at depth %u is missing: %s",
                     (unsigned long long)it.version, it.len, ve_err_name(rc));
    const uint8_t *q = v.ptr, *e = v.ptr + v.len;
    assert_true(v.len >= 5 && q[0] == 1);
    unsigned present = (unsigned)q[1] << 8 | q[2], leaves = (unsigned)q[3] << 8 | q[4];
    q += 5;
    for (unsigned i = 0; i < 16; i++) {
      if (!(present & (1u << i))) continue;
      q += 32;
      if (leaves & (1u << i)) {
        const uint8_t *path = q;
        q += 32;
        value_skey(values, uvarint_read(&q, e), path);
      } else {
        assert_true(top < 64 * 16 && it.len < 63);
        walk_item_t *c = &stack[top++];
        c->version = uvarint_read(&q, e);
        memcpy(c->nib, it.nib, it.len);
        c->nib[it.len] = (uint8_t)i;
        c->len = it.len + 1;
      }
    }
  }
  free(stack);
}

/* Keys of table (those starting with `prefix` if prefix >= 0), sorted. */
static void table_keys(store_txn_t *t, store_table_t table, int prefix, skeys_t *out) {
  store_cursor_t *c;
  assert_int_equal(store_cursor_open(t, table, &c), 0);
  ve_slice_t k, v;
  for (int rc = store_cursor_seek(c, ve_slice(NULL, 0), &k, &v); rc == 0;
       rc = store_cursor_next(c, &k, &v)) {
    if (prefix < 0 || k.ptr[0] == prefix) skeys_add(out, k.ptr, k.len);
  }
  store_cursor_close(c);
}

/* Number of entries in want not in have; in verbose mode prints a few. */
static size_t skeys_missing(const skeys_t *want, const skeys_t *have, const char *what) {
  size_t missing = 0;
  for (size_t i = 0; i < want->n; i++) {
    if (!bsearch(&want->k[i], have->k, have->n, sizeof *have->k, skey_cmp)) {
      if (missing++ < 3) {
        char hex[2 * SKEY_BYTES_MAX + 1];
        ve_hex_encode(hex, want->k[i].b, want->k[i].len);
        printf("  %s: %s\n", what, hex);
      }
    }
  }
  return missing;
}

typedef struct {
  size_t nodes, values;           /* stored */
  size_t leaked_nodes, leaked_values;
  uint64_t leaked_version_max;    /* greatest version among the leaked entries */
  uint64_t roots_from, roots_to;  /* root records: oldest and newest version */
  size_t roots;                   /* root records */
} reach_t;

static uint64_t skey_version(const skey_t *k) {
  return ve_be64_get(k->b[0] == 0x01 && k->len == 41 ? k->b + 1 : k->b);
}

/* Walks the trees of every stored root record and compares what they reach
 * with what the tables hold: nothing reachable may be missing (fails); what is
 * stored but unreachable is counted as leaked. */
static void reach_check(store_t *s, reach_t *r) {
  memset(r, 0, sizeof *r);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  skeys_t nodes = {0}, values = {0}, have_nodes = {0}, have_values = {0};
  store_cursor_t *c;
  assert_int_equal(store_cursor_open(t, STORE_T_STATE_HIST, &c), 0);
  ve_slice_t k, v;
  uint64_t prev = 0;
  bool first = true;
  for (int rc = store_cursor_seek(c, ve_slice(NULL, 0), &k, &v); rc == 0 && k.ptr[0] == 0x00;
       rc = store_cursor_next(c, &k, &v)) {
    assert_int_equal(k.len, 9);
    uint64_t version = UINT64_MAX - ve_be64_get(k.ptr + 1);
    if (first) r->roots_to = version;
    else assert_true(version < prev);
    first = false;
    prev = r->roots_from = version;
    r->roots++;
    tree_walk(t, v, &nodes, &values);
  }
  store_cursor_close(c);
  table_keys(t, STORE_T_STATE_NODES, -1, &have_nodes);
  table_keys(t, STORE_T_STATE_HIST, 0x01, &have_values);
  skeys_sort_unique(&nodes);
  skeys_sort_unique(&values);
  /* Every reachable value entry is there too. */
  assert_int_equal(skeys_missing(&nodes, &have_nodes, "missing node"), 0);
  assert_int_equal(skeys_missing(&values, &have_values, "missing value"), 0);
  r->nodes = have_nodes.n;
  r->values = have_values.n;
  for (size_t i = 0; i < have_nodes.n; i++) {
    if (bsearch(&have_nodes.k[i], nodes.k, nodes.n, sizeof *nodes.k, skey_cmp)) continue;
    r->leaked_nodes++;
    uint64_t w = skey_version(&have_nodes.k[i]);
    if (w > r->leaked_version_max) r->leaked_version_max = w;
  }
  for (size_t i = 0; i < have_values.n; i++) {
    if (bsearch(&have_values.k[i], values.k, values.n, sizeof *values.k, skey_cmp)) continue;
    r->leaked_values++;
    uint64_t w = skey_version(&have_values.k[i]);
    if (w > r->leaked_version_max) r->leaked_version_max = w;
  }
  if (r->leaked_nodes || r->leaked_values) {
    printf("  stored but unreachable: %zu nodes, %zu values\n", r->leaked_nodes, r->leaked_values);
    skeys_missing(&have_nodes, &nodes, "leaked node");
    skeys_missing(&have_values, &values, "leaked value");
  }
  free(nodes.k);
  free(values.k);
  free(have_nodes.k);
  free(have_values.k);
  store_txn_abort(t);
}

/* Versions of the stale chunks (0x03 || be64 v || be32 i), smallest and count. */
static size_t stale_chunks(store_t *s, uint64_t *min_version) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  skeys_t keys = {0};
  table_keys(t, STORE_T_STATE_HIST, 0x03, &keys);
  *min_version = UINT64_MAX;
  for (size_t i = 0; i < keys.n; i++) {
    assert_int_equal(keys.k[i].len, 13);
    uint64_t v = ve_be64_get(keys.k[i].b + 1);
    if (v < *min_version) *min_version = v;
  }
  size_t n = keys.n;
  free(keys.k);
  store_txn_abort(t);
  return n;
}

/* Entries logged by the commit of version: node and value entries. */
static void stale_entries(store_t *s, uint64_t version, size_t *nodes, size_t *values) {
  *nodes = *values = 0;
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  store_cursor_t *c;
  assert_int_equal(store_cursor_open(t, STORE_T_STATE_HIST, &c), 0);
  uint8_t start[9] = {0x03};
  ve_be64_put(start + 1, version);
  ve_slice_t k, v;
  for (int rc = store_cursor_seek(c, ve_slice(start, 9), &k, &v);
       rc == 0 && k.len == 13 && memcmp(k.ptr, start, 9) == 0; rc = store_cursor_next(c, &k, &v)) {
    const uint8_t *p = v.ptr + 1, *end = v.ptr + v.len;
    assert_int_equal(v.ptr[0], 1);
    while (p < end) {
      uint8_t tag = *p++;
      uvarint_read(&p, end);
      if (tag == 0x80) {
        p += 32;
        ++*values;
      } else {
        assert_true(tag < 64);
        p += (tag + 1u) / 2;
        ++*nodes;
      }
      assert_true(p <= end);
    }
  }
  store_cursor_close(c);
  store_txn_abort(t);
}

/* ---- commits and checks on two stores ---- */

static int prune_enable(store_t *s) {
  store_txn_t *t;
  int rc = store_txn_begin(s, true, &t);
  if (rc) return rc;
  rc = state_prune_enable(t);
  if (rc) {
    store_txn_abort(t);
    return rc;
  }
  return store_txn_commit(t);
}

/* Commits b as version v and then prunes to keep_from with max_entries, in one
 * txn (as the ledger would, per block). *deleted: what state_prune deleted. */
static int commit_prune(store_t *s, uint64_t v, const batch_t *b, uint64_t keep_from,
                        size_t max_entries, uint8_t root[32], size_t *deleted) {
  store_txn_t *t;
  int rc = store_txn_begin(s, true, &t);
  if (rc) return rc;
  rc = state_commit(t, v, b->ch, b->n, root);
  if (rc == 0) rc = state_prune(t, keep_from, max_entries, deleted);
  if (rc) {
    store_txn_abort(t);
    return rc;
  }
  return store_txn_commit(t);
}

/* state_prune to keep_from until it has nothing left; total deleted. */
static size_t prune_drain(store_t *s, uint64_t keep_from) {
  size_t total = 0, deleted;
  do {
    store_txn_t *t;
    assert_int_equal(store_txn_begin(s, true, &t), 0);
    assert_int_equal(state_prune(t, keep_from, 1000, &deleted), 0);
    assert_int_equal(store_txn_commit(t), 0);
    total += deleted;
  } while (deleted == 1000);
  return total;
}

static uint64_t oldest(store_t *s) {
  store_txn_t *t;
  uint64_t v = 0;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(state_version_oldest(t, &v), 0);
  store_txn_abort(t);
  return v;
}

/* key at version in both stores: same result, same bytes; the proof verifies. */
static void proof_match(store_txn_t *ta, store_txn_t *tb, uint64_t version, const uint8_t root[32],
                        ve_slice_t key, ve_buf_t bufs[4]) {
  bool pa, pb;
  assert_int_equal(state_prove(ta, version, key, &pa, &bufs[0], &bufs[1]), 0);
  assert_int_equal(state_prove(tb, version, key, &pb, &bufs[2], &bufs[3]), 0);
  assert_int_equal(pa, pb);
  assert_true(ve_slice_eq(ve_buf_slice(&bufs[0]), ve_buf_slice(&bufs[2])));
  assert_true(ve_slice_eq(ve_buf_slice(&bufs[1]), ve_buf_slice(&bufs[3])));
  ve_slice_t val = ve_buf_slice(&bufs[0]);
  assert_int_equal(state_proof_verify(root, key, pa ? &val : NULL, ve_buf_slice(&bufs[1])), 0);
}

/* The pruned store a against the archive b at every version up to latest:
 * below keep_from the pruned answer; from it on the same roots and proofs
 * (every key if all_keys, else a sample). */
static void versions_check(store_t *a, store_t *b, uint64_t latest, uint64_t keep_from,
                           uint8_t (*roots)[32], bool all_keys) {
  assert_int_equal(oldest(a), keep_from);
  store_txn_t *ta, *tb;
  assert_int_equal(store_txn_begin(a, false, &ta), 0);
  assert_int_equal(store_txn_begin(b, false, &tb), 0);
  ve_buf_t bufs[4];
  for (int i = 0; i < 4; i++) ve_buf_init(&bufs[i], 0);
  uint8_t r[32];
  for (uint64_t v = 1; v < keep_from; v++) {
    assert_int_equal(state_root_at(ta, v, r), VE_ERR_NOT_FOUND);
    if (v + 3 >= keep_from || tu_rng_below(8) == 0) {
      bool present;
      size_t k = (size_t)tu_rng_below(g_nkeys);
      assert_int_equal(state_prove(ta, v, ve_slice(g_keys[k], KEY_BYTES), &present, &bufs[0], &bufs[1]),
                       VE_ERR_NOT_FOUND);
      assert_false(present);
      assert_int_equal(state_root_at(tb, v, r), 0); /* the archive still has it */
    }
  }
  for (uint64_t v = keep_from; v <= latest; v++) {
    assert_int_equal(state_root_at(ta, v, r), 0);
    assert_memory_equal(r, roots[v], 32);
    size_t n = all_keys ? g_nkeys : 12;
    for (size_t i = 0; i < n; i++) {
      size_t k = all_keys ? i : (size_t)tu_rng_below(g_nkeys);
      proof_match(ta, tb, v, roots[v], ve_slice(g_keys[k], KEY_BYTES), bufs);
    }
  }
  for (int i = 0; i < 4; i++) ve_buf_free(&bufs[i]);
  store_txn_abort(ta);
  store_txn_abort(tb);
}

/* Current values equal in both stores. */
static void current_equal(store_t *a, store_t *b) {
  vcrypto_hasher_t ha, hb;
  uint8_t da[32], db[32];
  vcrypto_hasher_init(&ha, "veche/test/state");
  vcrypto_hasher_init(&hb, "veche/test/state");
  table_digest(&ha, a, STORE_T_STATE);
  table_digest(&hb, b, STORE_T_STATE);
  vcrypto_hasher_final(&ha, da);
  vcrypto_hasher_final(&hb, db);
  assert_memory_equal(da, db, 32);
}

/* ---- the property test ---- */

typedef struct {
  const char *name;
  bool lmdb;
  uint64_t versions;
  uint64_t window_max; /* keep_from = latest - window + 1, window in 1..window_max */
  size_t lag_max;      /* 0: prune everything each commit; else max_entries 1..lag_max */
  uint64_t check_every;
} prop_cfg_t;

static store_t *store_new(bool lmdb, char dir[TU_LMDB_DIR_BYTES]) {
  store_t *s = NULL;
  dir[0] = 0;
  if (lmdb) s = tu_lmdb_open(dir);
  else assert_int_equal(store_open_mem(&s), 0);
  assert_non_null(s);
  return s;
}

static void store_done(store_t *s, const char *dir) {
  if (dir[0]) tu_lmdb_close(s, dir);
  else store_close(s);
}

static void prop_run(const prop_cfg_t *cfg) {
  universe_build();
  tu_rng_seed(tu_seed(cfg->name));
  char dir_a[TU_LMDB_DIR_BYTES], dir_b[TU_LMDB_DIR_BYTES];
  store_t *a = store_new(cfg->lmdb, dir_a), *b = store_new(cfg->lmdb, dir_b);
  assert_int_equal(prune_enable(a), 0);
  model_t *m = malloc(sizeof *m);
  batch_t *bt = malloc(sizeof *bt);
  uint8_t(*roots)[32] = calloc(cfg->versions + 1, 32);
  assert_non_null(m);
  assert_non_null(bt);
  assert_non_null(roots);
  model_init(m);
  uint64_t keep_from = 1;
  size_t deleted_total = 0, logged_nodes = 0, logged_values = 0;
  for (uint64_t v = 1; v <= cfg->versions; v++) {
    batch_random(bt, m);
    uint64_t window = 1 + tu_rng_below(cfg->window_max);
    if (v >= window && v - window + 1 > keep_from) keep_from = v - window + 1;
    if (tu_rng_below(25) == 0) keep_from = v; /* a jump: only the latest kept */
    size_t max = cfg->lag_max ? 1 + (size_t)tu_rng_below(cfg->lag_max) : (size_t)1 << 30;
    if (cfg->lag_max && tu_rng_below(8) == 0) max = 0; /* only moves the floor */
    size_t deleted = 0;
    uint8_t rb[32];
    assert_int_equal(commit_prune(a, v, bt, keep_from, max, roots[v], &deleted), 0);
    assert_true(deleted <= max);
    deleted_total += deleted;
    assert_int_equal(tu_commit(b, v, bt->ch, bt->n, rb), 0);
    assert_memory_equal(roots[v], rb, 32);
    size_t ln, lv;
    stale_entries(a, v, &ln, &lv);
    logged_nodes += ln;
    logged_values += lv;
    bool checkpoint = v % cfg->check_every == 0 || v == cfg->versions;
    if (checkpoint && cfg->lag_max) deleted_total += prune_drain(a, keep_from);
    versions_check(a, b, v, keep_from, roots, checkpoint);
    if (checkpoint) {
      /* Exactly the retained versions' trees are stored, nothing more. */
      reach_t ra, rb2;
      reach_check(a, &ra);
      assert_int_equal(ra.roots_from, keep_from);
      assert_int_equal(ra.roots_to, v);
      assert_int_equal(ra.roots, v - keep_from + 1);
      assert_int_equal(ra.leaked_nodes, 0);
      assert_int_equal(ra.leaked_values, 0);
      uint64_t min_chunk;
      stale_chunks(a, &min_chunk);
      assert_true(min_chunk > keep_from); /* every chunk <= keep_from processed */
      /* The archive: every version's tree, and every stored entry reachable. */
      reach_check(b, &rb2);
      assert_int_equal(rb2.roots_from, 1);
      assert_int_equal(rb2.leaked_nodes, 0);
      assert_int_equal(rb2.leaked_values, 0);
      assert_true(rb2.nodes > ra.nodes || keep_from == 1);
      printf("  v%llu keep_from %llu: pruned store %zu nodes + %zu values, archive %zu + %zu\n",
             (unsigned long long)v, (unsigned long long)keep_from, ra.nodes, ra.values, rb2.nodes,
             rb2.values);
    }
  }
  current_equal(a, b);
  printf("  %s: logged %zu stale nodes and %zu stale values; %zu entries deleted\n", cfg->name,
         logged_nodes, logged_values, deleted_total);
  assert_true(logged_nodes > 0 && logged_values > 0 && deleted_total > 0);
  free(m);
  free(bt);
  free(roots);
  store_done(a, dir_a);
  store_done(b, dir_b);
}

static void test_prop_mem(void **st) {
  (void)st;
  prop_cfg_t cfg = {"state_prune_test/prop_mem", false, 240, 8, 0, 40};
  prop_run(&cfg);
}

static void test_prop_mem_lagging(void **st) {
  (void)st;
  prop_cfg_t cfg = {"state_prune_test/prop_mem_lagging", false, 240, 8, 40, 40};
  prop_run(&cfg);
}

static void test_prop_lmdb(void **st) {
  (void)st;
  prop_cfg_t cfg = {"state_prune_test/prop_lmdb", true, 60, 6, 60, 20};
  prop_run(&cfg);
}

/* ---- enabling late: only what became stale before stays ---- */

static void test_enable_late(void **st) {
  (void)st;
  universe_build();
  tu_rng_seed(tu_seed("state_prune_test/enable_late"));
  store_t *a, *b;
  assert_int_equal(store_open_mem(&a), 0);
  assert_int_equal(store_open_mem(&b), 0);
  model_t *m = malloc(sizeof *m);
  batch_t *bt = malloc(sizeof *bt);
  uint8_t(*roots)[32] = calloc(81, 32);
  assert_non_null(m);
  assert_non_null(bt);
  assert_non_null(roots);
  model_init(m);
  const uint64_t enabled_after = 30;
  uint64_t keep_from = 1;
  for (uint64_t v = 1; v <= 80; v++) {
    batch_random(bt, m);
    uint8_t rb[32];
    if (v <= enabled_after) {
      assert_int_equal(tu_commit(a, v, bt->ch, bt->n, roots[v]), 0);
      uint64_t min_chunk;
      assert_int_equal(stale_chunks(a, &min_chunk), 0); /* nothing logged yet */
      if (v == enabled_after) assert_int_equal(prune_enable(a), 0);
    } else {
      keep_from = v > 4 ? v - 4 : 1;
      size_t deleted;
      assert_int_equal(commit_prune(a, v, bt, keep_from, (size_t)1 << 30, roots[v], &deleted), 0);
    }
    assert_int_equal(tu_commit(b, v, bt->ch, bt->n, rb), 0);
    assert_memory_equal(roots[v], rb, 32);
  }
  versions_check(a, b, 80, keep_from, roots, true);
  reach_t r;
  reach_check(a, &r);
  assert_int_equal(r.roots_from, keep_from);
  /* What leaks was written, and made stale, before pruning was enabled. */
  assert_true(r.leaked_nodes + r.leaked_values > 0);
  assert_true(r.leaked_version_max < enabled_after);
  free(m);
  free(bt);
  free(roots);
  store_close(a);
  store_close(b);
}

/* ---- what is logged in small cases ---- */

static void commit1(store_t *s, uint64_t v, size_t key, int choice, uint8_t root[32]) {
  batch_t *b = malloc(sizeof *b);
  model_t *m = malloc(sizeof *m);
  assert_non_null(b);
  assert_non_null(m);
  model_init(m);
  b->n = 0;
  change_add(b, m, key, choice);
  assert_int_equal(tu_commit(s, v, b->ch, b->n, root), 0);
  free(b);
  free(m);
}

static size_t nodes_at(store_t *s, uint64_t version) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  skeys_t keys = {0};
  table_keys(t, STORE_T_STATE_NODES, -1, &keys);
  size_t n = 0;
  for (size_t i = 0; i < keys.n; i++) n += ve_be64_get(keys.k[i].b) == version;
  free(keys.k);
  store_txn_abort(t);
  return n;
}

/* A leaf that moves down under a new node, or back up when its neighbour
 * goes, keeps its value entry; a rewrite of the same value logs nothing. */
static void test_logged_entries(void **st) {
  (void)st;
  universe_build();
  store_t *s;
  assert_int_equal(store_open_mem(&s), 0);
  assert_int_equal(prune_enable(s), 0);
  uint8_t root[32];
  size_t nodes, values;
  /* g_keys[0] and g_keys[1] are the pair with the longest common prefix. */
  commit1(s, 1, 0, 1, root);
  commit1(s, 2, 1, 1, root); /* 0 moves down: a chain of new nodes */
  stale_entries(s, 2, &nodes, &values);
  assert_int_equal(nodes + values, 0);
  size_t chain = nodes_at(s, 2);
  assert_true(chain >= 6); /* >= 27 common bits: nodes at nibbles 0..6 */
  commit1(s, 3, 1, 1, root); /* the same value again */
  stale_entries(s, 3, &nodes, &values);
  assert_int_equal(nodes + values, 0);
  assert_int_equal(nodes_at(s, 3), 0);
  commit1(s, 4, 0, 2, root); /* a new value: the chain is rewritten */
  stale_entries(s, 4, &nodes, &values);
  assert_int_equal(nodes, chain);
  assert_int_equal(values, 1);
  commit1(s, 5, 1, -1, root); /* 1 goes: the chain collapses, 0 rises */
  stale_entries(s, 5, &nodes, &values);
  assert_int_equal(nodes, chain);
  assert_int_equal(values, 1);
  assert_int_equal(nodes_at(s, 5), 0);
  commit1(s, 6, 1, -1, root); /* deleting an absent key */
  stale_entries(s, 6, &nodes, &values);
  assert_int_equal(nodes + values, 0);
  commit1(s, 7, 0, -1, root); /* the last key: empty tree */
  assert_memory_equal(root, STATE_EMPTY_ROOT, 32);
  stale_entries(s, 7, &nodes, &values);
  assert_int_equal(nodes, 0);
  assert_int_equal(values, 1);
  /* Prune to 7: nothing of the old versions remains, not even roots. */
  prune_drain(s, 7);
  reach_t r;
  reach_check(s, &r);
  assert_int_equal(r.nodes + r.values, 0);
  assert_int_equal(r.roots_from, 7);
  uint64_t min_chunk;
  assert_int_equal(stale_chunks(s, &min_chunk), 0);
  store_close(s);
}

/* ---- the API: errors, the floor, gaps in versions, aborts ---- */

static int prune_once(store_t *s, uint64_t keep_from, size_t max, size_t *deleted) {
  store_txn_t *t;
  int rc = store_txn_begin(s, true, &t);
  if (rc) return rc;
  rc = state_prune(t, keep_from, max, deleted);
  if (rc) {
    store_txn_abort(t);
    return rc;
  }
  return store_txn_commit(t);
}

static void test_api(void **st) {
  (void)st;
  universe_build();
  store_t *s;
  assert_int_equal(store_open_mem(&s), 0);
  store_txn_t *t;
  size_t deleted = 99;
  uint64_t v;
  bool on = true;
  /* Not enabled: refused; nothing committed: no oldest version. */
  assert_int_equal(store_txn_begin(s, true, &t), 0);
  assert_int_equal(state_prune_enabled(t, &on), 0);
  assert_false(on);
  assert_int_equal(state_prune(t, 0, 10, &deleted), VE_ERR_STATE);
  assert_int_equal(deleted, 0);
  assert_int_equal(state_version_oldest(t, &v), VE_ERR_NOT_FOUND);
  assert_int_equal(state_prune_enable(t), 0);
  assert_int_equal(state_prune_enable(t), 0); /* twice: no-op */
  assert_int_equal(state_prune_enabled(t, &on), 0);
  assert_true(on);
  assert_int_equal(state_prune(t, 0, 10, &deleted), VE_ERR_INVALID); /* nothing committed */
  assert_int_equal(store_txn_commit(t), 0);

  /* Versions with gaps: 1, 5, 10. */
  uint8_t r1[32], r5[32], r10[32], r[32];
  commit1(s, 1, 0, 0, r1);
  commit1(s, 5, 1, 0, r5);
  commit1(s, 10, 0, 3, r10);
  assert_int_equal(oldest(s), 1);
  assert_int_equal(prune_once(s, 11, 10, &deleted), VE_ERR_INVALID); /* above the latest */
  uint8_t before[32], after[32];
  state_digest(s, before);
  /* An aborted prune changes nothing. */
  assert_int_equal(store_txn_begin(s, true, &t), 0);
  assert_int_equal(state_prune(t, 10, 1000, &deleted), 0);
  assert_true(deleted > 0);
  store_txn_abort(t);
  state_digest(s, after);
  assert_memory_equal(before, after, 32);
  assert_int_equal(oldest(s), 1);
  /* max_entries 0: the floor moves, nothing is deleted. */
  assert_int_equal(prune_once(s, 3, 0, &deleted), 0);
  assert_int_equal(deleted, 0);
  assert_int_equal(oldest(s), 3);
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(state_root_at(t, 2, r), VE_ERR_NOT_FOUND);
  assert_int_equal(state_root_at(t, 3, r), 0); /* the tree of version 1 */
  assert_memory_equal(r, r1, 32);
  store_txn_abort(t);
  /* keep_from 7: version 5's root record stays (it is the tree of 7). */
  assert_int_equal(prune_once(s, 7, 1000, &deleted), 0);
  assert_true(deleted > 0 && deleted < 1000);
  assert_int_equal(oldest(s), 7);
  assert_int_equal(prune_once(s, 4, 1000, &deleted), 0); /* never moves down */
  assert_int_equal(deleted, 0);
  assert_int_equal(oldest(s), 7);
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(state_root_at(t, 6, r), VE_ERR_NOT_FOUND);
  assert_int_equal(state_root_at(t, 7, r), 0);
  assert_memory_equal(r, r5, 32);
  assert_int_equal(state_root_at(t, 9, r), 0);
  assert_memory_equal(r, r5, 32);
  assert_int_equal(state_root_at(t, 10, r), 0);
  assert_memory_equal(r, r10, 32);
  assert_int_equal(state_version_latest(t, &v), 0);
  assert_int_equal(v, 10);
  store_txn_abort(t);
  reach_t rr;
  reach_check(s, &rr);
  assert_int_equal(rr.roots_from, 5); /* records 5 and 10 */
  assert_int_equal(rr.roots_to, 10);
  assert_int_equal(rr.roots, 2);
  assert_int_equal(rr.leaked_nodes + rr.leaked_values, 0);
  ve_slice_t want = ve_slice(NULL, 0);
  uint8_t vb[24];
  size_t vlen;
  value_of(vb, &vlen, 1, 0);
  want = ve_slice(vb, vlen);
  assert_true(tu_prove_check(s, 8, r5, ve_slice(g_keys[1], KEY_BYTES), &want) > 0);
  /* Commits go on as before; keep_from = latest keeps only it. */
  commit1(s, 11, 1, -1, r);
  assert_int_equal(prune_once(s, 11, 1000, &deleted), 0);
  assert_int_equal(oldest(s), 11);
  reach_check(s, &rr);
  assert_int_equal(rr.roots_from, 11);
  assert_int_equal(rr.leaked_nodes + rr.leaked_values, 0);
  assert_int_equal(rr.values, 1);
  store_close(s);
}

/* A corrupt prune record or stale chunk is refused, not guessed at. */
static void test_corrupt_records(void **st) {
  (void)st;
  universe_build();
  store_t *s;
  assert_int_equal(store_open_mem(&s), 0);
  assert_int_equal(prune_enable(s), 0);
  uint8_t r[32];
  commit1(s, 1, 0, 0, r);
  commit1(s, 2, 1, 0, r);
  commit1(s, 3, 0, 1, r); /* logs the chain of version 2 and a value */
  const uint8_t bad_records[][3] = {{2, 0}, {1, 0x80}, {1, 0x80, 0}, {1, 5, 9}};
  const size_t bad_lens[] = {2, 2, 3, 3};
  uint8_t prune_key[1] = {0x02};
  store_txn_t *t;
  size_t deleted;
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(store_txn_begin(s, true, &t), 0);
    assert_int_equal(store_put(t, STORE_T_STATE_HIST, ve_slice(prune_key, 1),
                               ve_slice(bad_records[i], bad_lens[i])), 0);
    assert_int_equal(state_prune(t, 2, 10, &deleted), VE_ERR_CORRUPT);
    assert_int_equal(state_root_at(t, 2, r), VE_ERR_CORRUPT);
    store_txn_abort(t);
  }
  /* Chunks: an entry naming a version not below the chunk's, a node tag past
   * 63, a nonzero padding nibble, a truncated path, an unknown format. */
  uint8_t ckey[13] = {0x03};
  ve_be64_put(ckey + 1, 3);
  const uint8_t bad_chunks[][8] = {
      {1, 0, 3}, {1, 64, 1}, {1, 1, 2, 0x1f}, {1, 4, 2, 0x12}, {2, 0, 1},
  };
  const size_t chunk_lens[] = {3, 3, 4, 4, 3};
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(store_txn_begin(s, true, &t), 0);
    assert_int_equal(store_put(t, STORE_T_STATE_HIST, ve_slice(ckey, 13),
                               ve_slice(bad_chunks[i], chunk_lens[i])), 0);
    assert_int_equal(state_prune(t, 3, 10, &deleted), VE_ERR_CORRUPT);
    store_txn_abort(t);
  }
  assert_int_equal(prune_once(s, 3, 100, &deleted), 0); /* the real ones are fine */
  assert_true(deleted > 0);
  store_close(s);
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_disabled_unchanged),
      cmocka_unit_test(test_prop_mem),
      cmocka_unit_test(test_prop_mem_lagging),
      cmocka_unit_test(test_prop_lmdb),
      cmocka_unit_test(test_enable_late),
      cmocka_unit_test(test_logged_entries),
      cmocka_unit_test(test_api),
      cmocka_unit_test(test_corrupt_records),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
