/* store_mem.c — the in-memory backend, for unit tests and the simulator.
 *
 * Same semantics as LMDB, including real snapshot isolation, built the way LMDB
 * is built: each table is a copy-on-write B+tree, and a committed state is a
 * snapshot (one root per table) that is never modified.
 *
 *   - A read txn takes a reference on the committed snapshot and reads it
 *     without locks: nothing reachable from a snapshot ever changes.
 *   - The write txn starts from the committed roots and copies each node on the
 *     path it modifies (path copying). A node is modified in place only when the
 *     txn holds the only reference to it (refs == 1), i.e. the txn made it.
 *   - Commit swaps the txn's roots in as the committed snapshot; abort drops
 *     them. Nodes, items and separators are reference counted, so whatever only
 *     an old snapshot used is freed when its last reader ends.
 *
 * Tree invariants (checked by store_mem_check):
 *   - every node has n <= MEM_FANOUT entries; every non-root node n >= MEM_FILL_MIN;
 *     a root branch has n >= 2; an empty table has no root (NULL);
 *   - all leaves are at the same depth (< MEM_DEPTH_MAX);
 *   - a leaf's items are in strictly increasing key order; a branch's sep[0] is
 *     NULL and for i >= 1 every key under child[i-1] < sep[i] <= every key
 *     under child[i].
 * Insertion splits full nodes on the way down and deletion refills thin ones
 * (borrow from or merge with a sibling) on the way down, so neither walks back
 * up and there is no recursion; both are O(log n) with MEM_FANOUT-sized steps.
 *
 * Locking: one mutex guards the committed pointer, the writer flag and every
 * reference count. The writer takes it for each put/del (they change counts of
 * nodes shared with snapshots that readers may be releasing); lookups and
 * cursors need no lock, because they only read fields that never change in a
 * node they can reach. A second write txn waits on a condition variable.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "store/store.h"
#include "store/store_backend.h"

#define MEM_FANOUT 64                 /* items per leaf, children per branch */
#define MEM_FILL_MIN (MEM_FANOUT / 4) /* non-root nodes hold at least this many */
#define MEM_DEPTH_MAX 16              /* 16 levels of >= 16-way nodes: > 2^64 keys */

typedef struct {
  uint32_t refs;
  uint32_t key_len;
  size_t val_len;
  uint8_t bytes[]; /* key then value */
} mem_item_t;

typedef struct {
  uint32_t refs;
  uint32_t len;
  uint8_t bytes[];
} mem_sep_t;

typedef struct mem_node mem_node_t;
struct mem_node {
  uint32_t refs;
  uint32_t n;
  bool leaf;
  mem_node_t *dead_next; /* worklist link while being freed */
  union {
    mem_item_t *item[MEM_FANOUT];
    struct {
      mem_sep_t *sep[MEM_FANOUT];
      mem_node_t *child[MEM_FANOUT];
    } br;
  } u;
};

typedef struct {
  uint32_t refs;
  mem_node_t *root[STORE_T_COUNT];
  uint64_t count[STORE_T_COUNT];
} mem_snap_t;

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t writer_cv;
  bool writer_busy;
  mem_snap_t *committed;
} mem_store_t;

typedef struct {
  mem_store_t *ms;
  mem_snap_t *snap; /* read: the shared snapshot; write: the txn's own roots */
  bool write;
} mem_txn_t;

typedef struct {
  mem_txn_t *t;
  store_table_t table;
  uint32_t depth; /* frames in use; node[depth-1] is a leaf when positioned */
  mem_node_t *node[MEM_DEPTH_MAX];
  uint32_t idx[MEM_DEPTH_MAX]; /* item index in a leaf, child index in a branch */
} mem_cursor_t;

/* ---- Keys, items, separators -------------------------------------------- */

static int key_cmp(ve_slice_t a, ve_slice_t b) {
  size_t n = a.len < b.len ? a.len : b.len;
  int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
  if (c) return c;
  return (a.len > b.len) - (a.len < b.len);
}

static ve_slice_t item_key(const mem_item_t *it) { return ve_slice(it->bytes, it->key_len); }
static ve_slice_t item_val(const mem_item_t *it) {
  return ve_slice(it->bytes + it->key_len, it->val_len);
}
static ve_slice_t sep_key(const mem_sep_t *s) { return ve_slice(s->bytes, s->len); }

static mem_item_t *item_new(ve_slice_t key, ve_slice_t val) {
  VE_ASSERT(key.len <= STORE_KEY_BYTES_MAX && val.len <= STORE_VALUE_BYTES_MAX);
  mem_item_t *it = malloc(sizeof *it + key.len + val.len);
  if (!it) return NULL;
  it->refs = 1;
  it->key_len = (uint32_t)key.len;
  it->val_len = val.len;
  memcpy(it->bytes, key.ptr, key.len);
  if (val.len) memcpy(it->bytes + key.len, val.ptr, val.len);
  return it;
}

static void item_ref(mem_item_t *it) {
  VE_ASSERT(it->refs > 0 && it->refs < UINT32_MAX);
  it->refs++;
}

static void item_unref(mem_item_t *it) {
  VE_ASSERT(it->refs > 0);
  if (--it->refs == 0) free(it);
}

static mem_sep_t *sep_new(ve_slice_t key) {
  mem_sep_t *s = malloc(sizeof *s + key.len);
  if (!s) return NULL;
  s->refs = 1;
  s->len = (uint32_t)key.len;
  memcpy(s->bytes, key.ptr, key.len);
  return s;
}

static void sep_ref(mem_sep_t *s) {
  if (!s) return;
  VE_ASSERT(s->refs > 0 && s->refs < UINT32_MAX);
  s->refs++;
}

static void sep_unref(mem_sep_t *s) {
  if (!s) return;
  VE_ASSERT(s->refs > 0);
  if (--s->refs == 0) free(s);
}

/* ---- Nodes ------------------------------------------------------------- */

static mem_node_t *node_new(bool leaf) {
  mem_node_t *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->refs = 1;
  n->leaf = leaf;
  return n;
}

/* Drops one reference; frees the node and, iteratively, everything that only
 * it kept alive. */
static void node_unref(mem_node_t *n) {
  if (!n) return;
  VE_ASSERT(n->refs > 0);
  if (--n->refs) return;
  n->dead_next = NULL;
  mem_node_t *dead = n;
  while (dead) {
    mem_node_t *d = dead;
    dead = d->dead_next;
    for (uint32_t i = 0; i < d->n; i++) {
      if (d->leaf) {
        item_unref(d->u.item[i]);
        continue;
      }
      sep_unref(d->u.br.sep[i]);
      mem_node_t *c = d->u.br.child[i];
      VE_ASSERT(c->refs > 0);
      if (--c->refs == 0) {
        c->dead_next = dead;
        dead = c;
      }
    }
    free(d);
  }
}

/* A private copy of n sharing n's children/items (whose counts go up). */
static mem_node_t *node_clone(const mem_node_t *n) {
  mem_node_t *c = malloc(sizeof *c);
  if (!c) return NULL;
  memcpy(c, n, sizeof *c);
  c->refs = 1;
  c->dead_next = NULL;
  for (uint32_t i = 0; i < c->n; i++) {
    if (c->leaf) {
      item_ref(c->u.item[i]);
    } else {
      sep_ref(c->u.br.sep[i]);
      VE_ASSERT(c->u.br.child[i]->refs < UINT32_MAX);
      c->u.br.child[i]->refs++;
    }
  }
  return c;
}

/* Makes *slot (a root or a private parent's child pointer) private to the write
 * txn, copying it if anyone else holds it. Returns the node or NULL (no memory;
 * nothing changed). */
static mem_node_t *node_own(mem_node_t **slot) {
  mem_node_t *n = *slot;
  if (n->refs == 1) return n;
  mem_node_t *copy = node_clone(n);
  if (!copy) return NULL;
  n->refs--; /* was > 1: still alive for its other holders */
  *slot = copy;
  return copy;
}

/* Index of the child of branch b whose key range holds key. */
static uint32_t branch_find(const mem_node_t *b, ve_slice_t key) {
  uint32_t lo = 1, hi = b->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (key_cmp(sep_key(b->u.br.sep[mid]), key) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo - 1;
}

/* Index of the first item of leaf l with key >= key; *exact if equal. */
static uint32_t leaf_find(const mem_node_t *l, ve_slice_t key, bool *exact) {
  uint32_t lo = 0, hi = l->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (key_cmp(item_key(l->u.item[mid]), key) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *exact = lo < l->n && key_cmp(item_key(l->u.item[lo]), key) == 0;
  return lo;
}

static const mem_item_t *tree_get(const mem_node_t *n, ve_slice_t key) {
  if (!n) return NULL;
  while (!n->leaf) n = n->u.br.child[branch_find(n, key)];
  bool exact;
  uint32_t i = leaf_find(n, key, &exact);
  return exact ? n->u.item[i] : NULL;
}

/* ---- Insertion ------------------------------------------------------------ */

/* Splits the full child i of private branch p (p not full, child private) in
 * two halves, adding the right half at i+1. */
static int node_split_child(mem_node_t *p, uint32_t i) {
  mem_node_t *c = p->u.br.child[i];
  VE_ASSERT(!p->leaf && p->n < MEM_FANOUT && c->refs == 1 && c->n == MEM_FANOUT);
  mem_node_t *r = node_new(c->leaf);
  if (!r) return VE_ERR_NOMEM;
  uint32_t half = c->n / 2;
  mem_sep_t *sep;
  if (c->leaf) {
    sep = sep_new(item_key(c->u.item[half]));
    if (!sep) {
      free(r);
      return VE_ERR_NOMEM;
    }
    memcpy(r->u.item, c->u.item + half, (c->n - half) * sizeof r->u.item[0]);
  } else {
    memcpy(r->u.br.sep, c->u.br.sep + half, (c->n - half) * sizeof r->u.br.sep[0]);
    memcpy(r->u.br.child, c->u.br.child + half, (c->n - half) * sizeof r->u.br.child[0]);
    sep = r->u.br.sep[0]; /* moves up to the parent */
    r->u.br.sep[0] = NULL;
  }
  r->n = c->n - half;
  c->n = half;
  uint32_t tail = p->n - i - 1;
  memmove(p->u.br.sep + i + 2, p->u.br.sep + i + 1, tail * sizeof p->u.br.sep[0]);
  memmove(p->u.br.child + i + 2, p->u.br.child + i + 1, tail * sizeof p->u.br.child[0]);
  p->u.br.sep[i + 1] = sep;
  p->u.br.child[i + 1] = r;
  p->n++;
  return 0;
}

/* Makes the root private and not full (a full root gets a new parent). */
static int tree_prepare_root(mem_node_t **rootp) {
  if (!*rootp) {
    *rootp = node_new(true);
    return *rootp ? 0 : VE_ERR_NOMEM;
  }
  mem_node_t *root = node_own(rootp);
  if (!root) return VE_ERR_NOMEM;
  if (root->n < MEM_FANOUT) return 0;
  mem_node_t *top = node_new(false);
  if (!top) return VE_ERR_NOMEM;
  top->n = 1;
  top->u.br.child[0] = root;
  int rc = node_split_child(top, 0);
  if (rc < 0) {
    free(top);
    return rc;
  }
  *rootp = top;
  return 0;
}

/* Inserts or replaces; takes over the caller's reference to it on success. */
static int tree_put(mem_snap_t *sn, store_table_t table, mem_item_t *it) {
  mem_node_t **rootp = &sn->root[table];
  VE_TRY(tree_prepare_root(rootp));
  ve_slice_t key = item_key(it);
  mem_node_t *n = *rootp;
  while (!n->leaf) {
    uint32_t i = branch_find(n, key);
    mem_node_t *c = node_own(&n->u.br.child[i]);
    if (!c) return VE_ERR_NOMEM;
    if (c->n == MEM_FANOUT) {
      VE_TRY(node_split_child(n, i));
      if (key_cmp(sep_key(n->u.br.sep[i + 1]), key) <= 0) i++;
      c = n->u.br.child[i];
    }
    n = c;
  }
  bool exact;
  uint32_t pos = leaf_find(n, key, &exact);
  if (exact) {
    item_unref(n->u.item[pos]);
    n->u.item[pos] = it;
    return 0;
  }
  VE_ASSERT(n->n < MEM_FANOUT);
  memmove(n->u.item + pos + 1, n->u.item + pos, (n->n - pos) * sizeof n->u.item[0]);
  n->u.item[pos] = it;
  n->n++;
  sn->count[table]++;
  return 0;
}

/* ---- Deletion --------------------------------------------------------------- */

/* Moves the last entry of child i-1 to the front of child i (both private). */
static int node_borrow_left(mem_node_t *p, uint32_t i) {
  mem_node_t *l = p->u.br.child[i - 1], *c = p->u.br.child[i];
  if (c->leaf) {
    mem_sep_t *sep = sep_new(item_key(l->u.item[l->n - 1]));
    if (!sep) return VE_ERR_NOMEM;
    memmove(c->u.item + 1, c->u.item, c->n * sizeof c->u.item[0]);
    c->u.item[0] = l->u.item[l->n - 1];
    sep_unref(p->u.br.sep[i]);
    p->u.br.sep[i] = sep;
  } else {
    memmove(c->u.br.sep + 1, c->u.br.sep, c->n * sizeof c->u.br.sep[0]);
    memmove(c->u.br.child + 1, c->u.br.child, c->n * sizeof c->u.br.child[0]);
    c->u.br.child[0] = l->u.br.child[l->n - 1];
    c->u.br.sep[1] = p->u.br.sep[i];
    c->u.br.sep[0] = NULL;
    p->u.br.sep[i] = l->u.br.sep[l->n - 1];
  }
  l->n--;
  c->n++;
  return 0;
}

/* Moves the first entry of child i+1 to the end of child i (both private). */
static int node_borrow_right(mem_node_t *p, uint32_t i) {
  mem_node_t *c = p->u.br.child[i], *r = p->u.br.child[i + 1];
  if (c->leaf) {
    mem_sep_t *sep = sep_new(item_key(r->u.item[1]));
    if (!sep) return VE_ERR_NOMEM;
    c->u.item[c->n] = r->u.item[0];
    memmove(r->u.item, r->u.item + 1, (r->n - 1) * sizeof r->u.item[0]);
    sep_unref(p->u.br.sep[i + 1]);
    p->u.br.sep[i + 1] = sep;
  } else {
    c->u.br.sep[c->n] = p->u.br.sep[i + 1];
    c->u.br.child[c->n] = r->u.br.child[0];
    p->u.br.sep[i + 1] = r->u.br.sep[1];
    memmove(r->u.br.sep, r->u.br.sep + 1, (r->n - 1) * sizeof r->u.br.sep[0]);
    memmove(r->u.br.child, r->u.br.child + 1, (r->n - 1) * sizeof r->u.br.child[0]);
    r->u.br.sep[0] = NULL;
  }
  r->n--;
  c->n++;
  return 0;
}

/* Appends child j+1 to child j (both private, together <= MEM_FANOUT) and
 * removes it from p. Cannot fail. */
static void node_merge(mem_node_t *p, uint32_t j) {
  mem_node_t *l = p->u.br.child[j], *r = p->u.br.child[j + 1];
  VE_ASSERT(l->n + r->n <= MEM_FANOUT && r->refs == 1);
  if (l->leaf) {
    memcpy(l->u.item + l->n, r->u.item, r->n * sizeof r->u.item[0]);
    sep_unref(p->u.br.sep[j + 1]);
  } else {
    memcpy(l->u.br.sep + l->n, r->u.br.sep, r->n * sizeof r->u.br.sep[0]);
    memcpy(l->u.br.child + l->n, r->u.br.child, r->n * sizeof r->u.br.child[0]);
    l->u.br.sep[l->n] = p->u.br.sep[j + 1]; /* r's sep[0] was NULL */
  }
  l->n += r->n;
  free(r); /* its entries now belong to l */
  uint32_t tail = p->n - j - 2;
  memmove(p->u.br.sep + j + 1, p->u.br.sep + j + 2, tail * sizeof p->u.br.sep[0]);
  memmove(p->u.br.child + j + 1, p->u.br.child + j + 2, tail * sizeof p->u.br.child[0]);
  p->n--;
}

/* Child *i of private branch p is private and has only MEM_FILL_MIN entries;
 * gives it more by borrowing from or merging with a sibling. *i becomes the
 * index of the child that now covers the same keys. */
static int node_refill_child(mem_node_t *p, uint32_t *i) {
  uint32_t k = *i;
  VE_ASSERT(p->n >= 2);
  if (k > 0 && p->u.br.child[k - 1]->n > MEM_FILL_MIN) {
    if (!node_own(&p->u.br.child[k - 1])) return VE_ERR_NOMEM;
    return node_borrow_left(p, k);
  }
  if (k + 1 < p->n && p->u.br.child[k + 1]->n > MEM_FILL_MIN) {
    if (!node_own(&p->u.br.child[k + 1])) return VE_ERR_NOMEM;
    return node_borrow_right(p, k);
  }
  uint32_t j = k > 0 ? k - 1 : k; /* merge children j and j+1 */
  if (!node_own(&p->u.br.child[j == k ? k + 1 : j])) return VE_ERR_NOMEM;
  node_merge(p, j);
  *i = j;
  return 0;
}

static int tree_del(mem_snap_t *sn, store_table_t table, ve_slice_t key) {
  mem_node_t **rootp = &sn->root[table];
  if (!tree_get(*rootp, key)) return 0; /* absent: leave the tree unshared */
  mem_node_t *n = node_own(rootp);
  if (!n) return VE_ERR_NOMEM;
  while (!n->leaf) {
    uint32_t i = branch_find(n, key);
    mem_node_t *c = node_own(&n->u.br.child[i]);
    if (!c) return VE_ERR_NOMEM;
    if (c->n <= MEM_FILL_MIN) {
      VE_TRY(node_refill_child(n, &i));
      if (n == *rootp && n->n == 1) {
        /* The root's two children merged: the tree loses a level. */
        *rootp = n->u.br.child[0];
        free(n);
        n = *rootp;
        continue;
      }
    }
    n = n->u.br.child[i];
  }
  bool exact;
  uint32_t pos = leaf_find(n, key, &exact);
  VE_ASSERT(exact);
  item_unref(n->u.item[pos]);
  memmove(n->u.item + pos, n->u.item + pos + 1, (n->n - pos - 1) * sizeof n->u.item[0]);
  n->n--;
  VE_ASSERT(sn->count[table] > 0);
  sn->count[table]--;
  if (n->n == 0) {
    VE_ASSERT(n == *rootp);
    free(n);
    *rootp = NULL;
  }
  return 0;
}

/* ---- Snapshots and the store ------------------------------------------- */

/* Caller holds ms->mu. */
static void snap_unref(mem_snap_t *sn) {
  VE_ASSERT(sn->refs > 0);
  if (--sn->refs) return;
  for (int t = 0; t < STORE_T_COUNT; t++) node_unref(sn->root[t]);
  free(sn);
}

static const store_ops_t mem_ops;

int store_open_mem(store_t **out) {
  VE_ASSERT(out);
  *out = NULL;
  mem_store_t *ms = calloc(1, sizeof *ms);
  mem_snap_t *sn = calloc(1, sizeof *sn);
  if (!ms || !sn) {
    free(ms);
    free(sn);
    return VE_ERR_NOMEM;
  }
  if (pthread_mutex_init(&ms->mu, NULL) != 0) {
    free(ms);
    free(sn);
    return VE_ERR_NOMEM;
  }
  if (pthread_cond_init(&ms->writer_cv, NULL) != 0) {
    pthread_mutex_destroy(&ms->mu);
    free(ms);
    free(sn);
    return VE_ERR_NOMEM;
  }
  sn->refs = 1;
  ms->committed = sn;
  return store_open_backend(out, &mem_ops, ms);
}

static void mem_close(void *impl) {
  mem_store_t *ms = impl;
  VE_ASSERT(!ms->writer_busy && ms->committed->refs == 1);
  snap_unref(ms->committed);
  pthread_cond_destroy(&ms->writer_cv);
  pthread_mutex_destroy(&ms->mu);
  free(ms);
}

/* ---- Transactions -------------------------------------------------------- */

static int mem_txn_begin(void *impl, bool write, void **txn_out) {
  mem_store_t *ms = impl;
  mem_txn_t *t = calloc(1, sizeof *t);
  if (!t) return VE_ERR_NOMEM;
  t->ms = ms;
  t->write = write;
  pthread_mutex_lock(&ms->mu);
  if (!write) {
    t->snap = ms->committed;
    t->snap->refs++;
    pthread_mutex_unlock(&ms->mu);
    *txn_out = t;
    return 0;
  }
  while (ms->writer_busy) pthread_cond_wait(&ms->writer_cv, &ms->mu);
  mem_snap_t *sn = malloc(sizeof *sn);
  if (!sn) {
    pthread_mutex_unlock(&ms->mu);
    free(t);
    return VE_ERR_NOMEM;
  }
  memcpy(sn, ms->committed, sizeof *sn);
  sn->refs = 1;
  for (int i = 0; i < STORE_T_COUNT; i++) {
    if (sn->root[i]) sn->root[i]->refs++;
  }
  ms->writer_busy = true;
  pthread_mutex_unlock(&ms->mu);
  t->snap = sn;
  *txn_out = t;
  return 0;
}

/* Ends t; a write txn's roots become the committed state if publish. */
static void mem_txn_end(mem_txn_t *t, bool publish) {
  mem_store_t *ms = t->ms;
  pthread_mutex_lock(&ms->mu);
  if (t->write && publish) {
    mem_snap_t *old = ms->committed;
    ms->committed = t->snap;
    snap_unref(old);
  } else {
    snap_unref(t->snap);
  }
  if (t->write) {
    ms->writer_busy = false;
    pthread_cond_signal(&ms->writer_cv);
  }
  pthread_mutex_unlock(&ms->mu);
  free(t);
}

static int mem_txn_commit(void *txn) {
  mem_txn_end(txn, true);
  return 0;
}

static void mem_txn_abort(void *txn) { mem_txn_end(txn, false); }

/* ---- Point operations ----------------------------------------------------- */

static int mem_get(void *txn, store_table_t table, ve_slice_t key, ve_slice_t *val_out) {
  mem_txn_t *t = txn;
  const mem_item_t *it = tree_get(t->snap->root[table], key);
  if (!it) return VE_ERR_NOT_FOUND;
  *val_out = item_val(it);
  return 0;
}

/* The committed snapshot cannot change while this write txn lives (only the
 * writer publishes), and its items live as long as it does. */
static int mem_get_committed(void *txn, store_table_t table, ve_slice_t key,
                             ve_slice_t *val_out) {
  mem_txn_t *t = txn;
  const mem_item_t *it = tree_get(t->ms->committed->root[table], key);
  if (!it) return VE_ERR_NOT_FOUND;
  *val_out = item_val(it);
  return 0;
}

static int mem_put(void *txn, store_table_t table, ve_slice_t key, ve_slice_t val) {
  mem_txn_t *t = txn;
  mem_item_t *it = item_new(key, val);
  if (!it) return VE_ERR_NOMEM;
  pthread_mutex_lock(&t->ms->mu);
  int rc = tree_put(t->snap, table, it);
  if (rc < 0) item_unref(it);
  pthread_mutex_unlock(&t->ms->mu);
  return rc;
}

static int mem_del(void *txn, store_table_t table, ve_slice_t key) {
  mem_txn_t *t = txn;
  pthread_mutex_lock(&t->ms->mu);
  int rc = tree_del(t->snap, table, key);
  pthread_mutex_unlock(&t->ms->mu);
  return rc;
}

static int mem_count(void *txn, store_table_t table, uint64_t *count_out) {
  mem_txn_t *t = txn;
  *count_out = t->snap->count[table];
  return 0;
}

/* ---- Cursors --------------------------------------------------------------- */

static int mem_cursor_open(void *txn, store_table_t table, void **cursor_out) {
  mem_cursor_t *c = calloc(1, sizeof *c);
  if (!c) return VE_ERR_NOMEM;
  c->t = txn;
  c->table = table;
  *cursor_out = c;
  return 0;
}

static void mem_cursor_close(void *cursor) { free(cursor); }

static int cur_emit(mem_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out) {
  uint32_t d = c->depth - 1;
  const mem_item_t *it = c->node[d]->u.item[c->idx[d]];
  *key_out = item_key(it);
  *val_out = item_val(it);
  return 0;
}

/* From a leaf index that may be one past its leaf's end, moves to the next
 * existing item, climbing and descending leftmost as needed. */
static int cur_forward(mem_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out) {
  uint32_t d = c->depth - 1;
  while (c->idx[d] >= c->node[d]->n) {
    if (d == 0) return VE_ERR_NOT_FOUND;
    d--;
    c->idx[d]++;
  }
  while (!c->node[d]->leaf) {
    mem_node_t *ch = c->node[d]->u.br.child[c->idx[d]];
    d++;
    VE_ASSERT(d < MEM_DEPTH_MAX);
    c->node[d] = ch;
    c->idx[d] = 0;
  }
  c->depth = d + 1;
  return cur_emit(c, key_out, val_out);
}

/* Moves to the item before the current leaf index, climbing and descending
 * rightmost as needed. */
static int cur_backward(mem_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out) {
  uint32_t d = c->depth - 1;
  while (c->idx[d] == 0) {
    if (d == 0) return VE_ERR_NOT_FOUND;
    d--;
  }
  c->idx[d]--;
  while (!c->node[d]->leaf) {
    mem_node_t *ch = c->node[d]->u.br.child[c->idx[d]];
    d++;
    VE_ASSERT(d < MEM_DEPTH_MAX);
    c->node[d] = ch;
    c->idx[d] = ch->n - 1;
  }
  c->depth = d + 1;
  return cur_emit(c, key_out, val_out);
}

static int mem_cursor_seek(void *cursor, ve_slice_t key, ve_slice_t *key_out,
                           ve_slice_t *val_out) {
  mem_cursor_t *c = cursor;
  mem_node_t *n = c->t->snap->root[c->table];
  c->depth = 0;
  if (!n) return VE_ERR_NOT_FOUND;
  for (;;) {
    VE_ASSERT(c->depth < MEM_DEPTH_MAX);
    c->node[c->depth] = n;
    if (n->leaf) {
      bool exact;
      c->idx[c->depth++] = key.len ? leaf_find(n, key, &exact) : 0;
      return cur_forward(c, key_out, val_out);
    }
    uint32_t i = key.len ? branch_find(n, key) : 0;
    c->idx[c->depth++] = i;
    n = n->u.br.child[i];
  }
}

static int mem_cursor_last(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  mem_cursor_t *c = cursor;
  mem_node_t *n = c->t->snap->root[c->table];
  c->depth = 0;
  if (!n || n->n == 0) return VE_ERR_NOT_FOUND;
  for (;;) {
    VE_ASSERT(c->depth < MEM_DEPTH_MAX);
    c->node[c->depth] = n;
    c->idx[c->depth++] = n->n - 1;
    if (n->leaf) return cur_emit(c, key_out, val_out);
    n = n->u.br.child[n->n - 1];
  }
}

static int mem_cursor_next(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  mem_cursor_t *c = cursor;
  VE_ASSERT(c->depth > 0);
  c->idx[c->depth - 1]++;
  return cur_forward(c, key_out, val_out);
}

static int mem_cursor_prev(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  mem_cursor_t *c = cursor;
  VE_ASSERT(c->depth > 0);
  return cur_backward(c, key_out, val_out);
}

static const store_ops_t mem_ops = {
    .name = "mem",
    .close = mem_close,
    .txn_begin = mem_txn_begin,
    .txn_commit = mem_txn_commit,
    .txn_abort = mem_txn_abort,
    .get = mem_get,
    .get_committed = mem_get_committed,
    .put = mem_put,
    .del = mem_del,
    .count = mem_count,
    .cursor_open = mem_cursor_open,
    .cursor_seek = mem_cursor_seek,
    .cursor_last = mem_cursor_last,
    .cursor_next = mem_cursor_next,
    .cursor_prev = mem_cursor_prev,
    .cursor_close = mem_cursor_close,
};

/* ---- Invariant check -------------------------------------------------------- */

typedef struct {
  const mem_node_t *node;
  uint32_t next;         /* next child to visit */
  const mem_sep_t *lo;   /* keys under node are >= lo (NULL: unbounded) */
  const mem_sep_t *hi;   /* keys under node are < hi (NULL: unbounded) */
} check_frame_t;

/* Checks one node's own shape; prev is the last key seen in key order. */
static bool check_node(const check_frame_t *f, bool is_root, const mem_item_t **prev) {
  const mem_node_t *n = f->node;
  if (n->refs == 0 || n->n > MEM_FANOUT || n->n == 0) return false;
  if (!is_root && n->n < MEM_FILL_MIN) return false;
  if (!n->leaf) {
    if (n->u.br.sep[0] != NULL || (is_root && n->n < 2)) return false;
    for (uint32_t i = 1; i < n->n; i++) {
      ve_slice_t s = sep_key(n->u.br.sep[i]);
      if (n->u.br.sep[i]->refs == 0) return false;
      if (i > 1 && key_cmp(sep_key(n->u.br.sep[i - 1]), s) >= 0) return false;
      if (f->lo && key_cmp(s, sep_key(f->lo)) < 0) return false;
      if (f->hi && key_cmp(s, sep_key(f->hi)) >= 0) return false;
    }
    return true;
  }
  for (uint32_t i = 0; i < n->n; i++) {
    const mem_item_t *it = n->u.item[i];
    ve_slice_t k = item_key(it);
    if (it->refs == 0 || k.len < 1 || k.len > STORE_KEY_BYTES_MAX) return false;
    if (*prev && key_cmp(item_key(*prev), k) >= 0) return false;
    if (f->lo && key_cmp(k, sep_key(f->lo)) < 0) return false;
    if (f->hi && key_cmp(k, sep_key(f->hi)) >= 0) return false;
    *prev = it;
  }
  return true;
}

static bool check_tree(const mem_node_t *root, uint64_t count) {
  if (!root) return count == 0;
  check_frame_t st[MEM_DEPTH_MAX];
  uint32_t depth = 1, leaf_depth = 0;
  uint64_t seen = 0;
  const mem_item_t *prev = NULL;
  st[0] = (check_frame_t){root, 0, NULL, NULL};
  if (!check_node(&st[0], true, &prev)) return false;
  while (depth > 0) {
    check_frame_t *f = &st[depth - 1];
    const mem_node_t *n = f->node;
    if (n->leaf) {
      if (leaf_depth == 0) leaf_depth = depth;
      if (depth != leaf_depth) return false;
      seen += n->n;
      depth--;
      continue;
    }
    if (f->next == n->n) {
      depth--;
      continue;
    }
    uint32_t i = f->next++;
    if (depth >= MEM_DEPTH_MAX) return false;
    check_frame_t child = {n->u.br.child[i], 0, i ? n->u.br.sep[i] : f->lo,
                           i + 1 < n->n ? n->u.br.sep[i + 1] : f->hi};
    st[depth++] = child;
    if (!check_node(&child, false, &prev)) return false;
  }
  return seen == count;
}

int store_mem_check(store_t *s) {
  mem_store_t *ms = store_backend_impl(s, &mem_ops);
  if (!ms) return VE_ERR_INVALID;
  int rc = 0;
  pthread_mutex_lock(&ms->mu);
  for (int t = 0; t < STORE_T_COUNT && rc == 0; t++) {
    if (!check_tree(ms->committed->root[t], ms->committed->count[t])) rc = VE_ERR_CORRUPT;
  }
  pthread_mutex_unlock(&ms->mu);
  return rc;
}
