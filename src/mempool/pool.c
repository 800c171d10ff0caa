/* pool.c — the mempool's indexes: id hash, admission queue, (signer, seq) skip
 * list, expiry heap, and the rejected cache. See pool.h for the invariants;
 * locking is the caller's (mempool.c). */
#include "mempool/pool.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define REJ_NONE UINT32_MAX

static uint64_t id_hash(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES]) {
  uint8_t h[crypto_shorthash_BYTES];
  crypto_shorthash(h, id, LEDGER_HASH_BYTES, p->hash_key);
  uint64_t v;
  memcpy(&v, h, sizeof v);
  return v;
}

static size_t pow2_at_least(size_t n) {
  size_t c = 1;
  while (c < n) c <<= 1;
  return c;
}

/* ---- lifetime ------------------------------------------------------------- */

int pool_init(pool_t *p, size_t txs_max, size_t bytes_max, size_t rej_max) {
  VE_ASSERT(txs_max >= 1 && bytes_max >= 1 && rej_max >= 1 && rej_max < REJ_NONE);
  memset(p, 0, sizeof *p);
  p->txs_max = txs_max;
  p->bytes_max = bytes_max;
  p->rej_max = rej_max;
  randombytes_buf(p->hash_key, sizeof p->hash_key);
  size_t nb = pow2_at_least(txs_max);
  size_t nr = pow2_at_least(rej_max);
  p->bucket_mask = nb - 1;
  p->rej_mask = nr - 1;
  p->buckets = calloc(nb, sizeof *p->buckets);
  p->heap = calloc(txs_max, sizeof *p->heap);
  p->sl_head = calloc(1, sizeof *p->sl_head + POOL_LEVELS_MAX * sizeof(pool_entry_t *));
  p->rej = calloc(rej_max, sizeof *p->rej);
  p->rej_buckets = malloc(nr * sizeof *p->rej_buckets);
  if (!p->buckets || !p->heap || !p->sl_head || !p->rej || !p->rej_buckets) {
    pool_destroy(p);
    return VE_ERR_NOMEM;
  }
  p->sl_head->levels = POOL_LEVELS_MAX;
  for (size_t i = 0; i < nr; i++) p->rej_buckets[i] = REJ_NONE;
  return VE_OK;
}

void pool_destroy(pool_t *p) {
  for (pool_entry_t *e = p->q_head, *next; e; e = next) {
    next = e->q_next;
    pool_entry_free(e);
  }
  free(p->buckets);
  free(p->heap);
  free(p->sl_head);
  free(p->rej);
  free(p->rej_buckets);
  memset(p, 0, sizeof *p);
}

/* Height of a skip list node: 1 + the number of leading zero bit pairs in the
 * high half of the keyed id hash, i.e. P(levels > k) = 4^-k. */
static unsigned levels_from_hash(uint64_t h) {
  unsigned levels = 1;
  for (uint64_t bits = h >> 32; levels < POOL_LEVELS_MAX && (bits & 3) == 0; bits >>= 2) levels++;
  return levels;
}

pool_entry_t *pool_entry_new(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES],
                             const ledger_tx_t *d, ve_slice_t tx) {
  uint64_t h = id_hash(p, id);
  unsigned levels = levels_from_hash(h);
  size_t head = sizeof(pool_entry_t) + levels * sizeof(pool_entry_t *);
  pool_entry_t *e = malloc(head + tx.len);
  if (!e) return NULL;
  memset(e, 0, head);
  memcpy(e->id, id, LEDGER_HASH_BYTES);
  memcpy(e->signer, d->signer, VCRYPTO_PK_BYTES);
  e->seq = d->seq;
  e->expiry = d->expiry;
  e->hash = h;
  e->levels = levels;
  e->bytes = (uint8_t *)e + head;
  e->len = tx.len;
  if (tx.len) memcpy(e->bytes, tx.ptr, tx.len);
  return e;
}

void pool_entry_free(pool_entry_t *e) { free(e); }

/* ---- id index ------------------------------------------------------------- */

pool_entry_t *pool_find(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES]) {
  for (pool_entry_t *e = p->buckets[id_hash(p, id) & p->bucket_mask]; e; e = e->hash_next)
    if (memcmp(e->id, id, LEDGER_HASH_BYTES) == 0) return e;
  return NULL;
}

static void index_unlink(pool_t *p, pool_entry_t *e) {
  pool_entry_t **link = &p->buckets[e->hash & p->bucket_mask];
  while (*link != e) {
    VE_ASSERT(*link != NULL);
    link = &(*link)->hash_next;
  }
  *link = e->hash_next;
  e->hash_next = NULL;
}

/* ---- seq index (skip list) -------------------------------------------------- */

static int key_cmp(const pool_entry_t *e, const uint8_t signer[VCRYPTO_PK_BYTES], uint64_t seq) {
  int c = memcmp(e->signer, signer, VCRYPTO_PK_BYTES);
  if (c) return c;
  return (e->seq > seq) - (e->seq < seq);
}

/* preds[l] = the last node at level l whose key is < (signer, seq). */
static void sl_preds(const pool_t *p, const uint8_t signer[VCRYPTO_PK_BYTES], uint64_t seq,
                     pool_entry_t *preds[POOL_LEVELS_MAX]) {
  pool_entry_t *x = p->sl_head;
  for (unsigned l = POOL_LEVELS_MAX; l-- > 0;) {
    while (x->sl_next[l] && key_cmp(x->sl_next[l], signer, seq) < 0) x = x->sl_next[l];
    preds[l] = x;
  }
}

/* The first node with key >= (signer, seq), or NULL. */
static pool_entry_t *sl_lower_bound(const pool_t *p, const uint8_t signer[VCRYPTO_PK_BYTES],
                                    uint64_t seq) {
  pool_entry_t *preds[POOL_LEVELS_MAX];
  sl_preds(p, signer, seq, preds);
  return preds[0]->sl_next[0];
}

static bool same_signer(const pool_entry_t *e, const uint8_t signer[VCRYPTO_PK_BYTES]) {
  return e && memcmp(e->signer, signer, VCRYPTO_PK_BYTES) == 0;
}

static void sl_insert(pool_t *p, pool_entry_t *e) {
  pool_entry_t *preds[POOL_LEVELS_MAX];
  sl_preds(p, e->signer, e->seq, preds);
  VE_ASSERT(!preds[0]->sl_next[0] || key_cmp(preds[0]->sl_next[0], e->signer, e->seq) != 0);
  for (unsigned l = 0; l < e->levels; l++) {
    e->sl_next[l] = preds[l]->sl_next[l];
    preds[l]->sl_next[l] = e;
  }
}

static void sl_remove(pool_t *p, pool_entry_t *e) {
  pool_entry_t *preds[POOL_LEVELS_MAX];
  sl_preds(p, e->signer, e->seq, preds);
  for (unsigned l = 0; l < e->levels; l++) {
    VE_ASSERT(preds[l]->sl_next[l] == e);
    preds[l]->sl_next[l] = e->sl_next[l];
    e->sl_next[l] = NULL;
  }
}

/* ---- expiry heap ------------------------------------------------------------ */

static void heap_set(pool_t *p, size_t i, pool_entry_t *e) {
  p->heap[i] = e;
  e->heap_pos = i;
}

static void heap_up(pool_t *p, size_t i) {
  pool_entry_t *e = p->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (p->heap[parent]->expiry <= e->expiry) break;
    heap_set(p, i, p->heap[parent]);
    i = parent;
  }
  heap_set(p, i, e);
}

static void heap_down(pool_t *p, size_t i) {
  pool_entry_t *e = p->heap[i];
  size_t n = p->count;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && p->heap[c + 1]->expiry < p->heap[c]->expiry) c++;
    if (e->expiry <= p->heap[c]->expiry) break;
    heap_set(p, i, p->heap[c]);
    i = c;
  }
  heap_set(p, i, e);
}

/* Removes e from the heap; p->count already excludes it, so the heap's last
 * slot is heap[p->count]. */
static void heap_remove(pool_t *p, pool_entry_t *e) {
  size_t n = p->count, i = e->heap_pos;
  VE_ASSERT(i <= n && p->heap[i] == e);
  pool_entry_t *last = p->heap[n];
  p->heap[n] = NULL;
  if (last == e) return;
  heap_set(p, i, last);
  if (i > 0 && p->heap[(i - 1) / 2]->expiry > last->expiry)
    heap_up(p, i);
  else
    heap_down(p, i);
}

pool_entry_t *pool_expiry_min(const pool_t *p) { return p->count ? p->heap[0] : NULL; }

/* ---- insert / remove ---------------------------------------------------------- */

int pool_can_insert(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES],
                    const uint8_t signer[VCRYPTO_PK_BYTES], uint64_t seq, size_t len) {
  if (pool_find(p, id)) return VE_ERR_DUPLICATE;
  pool_entry_t *at = sl_lower_bound(p, signer, seq);
  if (at && key_cmp(at, signer, seq) == 0) return VE_ERR_STALE_SEQ;
  if (p->count >= p->txs_max || len > p->bytes_max - p->bytes) return VE_ERR_FULL;
  return VE_OK;
}

void pool_insert(pool_t *p, pool_entry_t *e) {
  VE_ASSERT(pool_can_insert(p, e->id, e->signer, e->seq, e->len) == VE_OK);
  pool_entry_t **bucket = &p->buckets[e->hash & p->bucket_mask];
  e->hash_next = *bucket;
  *bucket = e;
  e->q_next = NULL;
  e->q_prev = p->q_tail;
  if (p->q_tail)
    p->q_tail->q_next = e;
  else
    p->q_head = e;
  p->q_tail = e;
  sl_insert(p, e);
  e->reap_stamp = 0;
  e->reap_cursor = NULL;
  p->heap[p->count] = e;
  e->heap_pos = p->count;
  p->count++;
  p->bytes += e->len;
  heap_up(p, e->heap_pos);
}

void pool_remove(pool_t *p, pool_entry_t *e) {
  VE_ASSERT(p->count > 0 && p->bytes >= e->len);
  index_unlink(p, e);
  if (e->q_prev)
    e->q_prev->q_next = e->q_next;
  else
    p->q_head = e->q_next;
  if (e->q_next)
    e->q_next->q_prev = e->q_prev;
  else
    p->q_tail = e->q_prev;
  e->q_prev = e->q_next = NULL;
  sl_remove(p, e);
  p->count--;
  p->bytes -= e->len;
  heap_remove(p, e);
}

/* ---- reap ------------------------------------------------------------------- */

/* Walks the admission queue; at each slot held by signer S it emits S's lowest
 * seq not yet emitted. The cursor per signer lives on S's lowest entry (found in
 * O(log n)), tagged with this reap's stamp so stale cursors need no clearing.
 * Each signer holds as many slots as it has entries, so a cursor never runs out
 * before its signer's slots do. */
void pool_reap(pool_t *p, size_t max_txs, size_t max_bytes, pool_entry_t **out, size_t *n_out,
               size_t *bytes_out) {
  uint64_t stamp = ++p->reap_stamp;
  size_t n = 0, bytes = 0;
  for (pool_entry_t *slot = p->q_head; slot && n < max_txs; slot = slot->q_next) {
    pool_entry_t *first = sl_lower_bound(p, slot->signer, 0);
    VE_ASSERT(same_signer(first, slot->signer));
    pool_entry_t *pick = first->reap_stamp == stamp ? first->reap_cursor : first;
    VE_ASSERT(same_signer(pick, slot->signer));
    if (pick->len > max_bytes - bytes) break;
    out[n++] = pick;
    bytes += pick->len;
    first->reap_stamp = stamp;
    first->reap_cursor = same_signer(pick->sl_next[0], slot->signer) ? pick->sl_next[0] : NULL;
  }
  *n_out = n;
  *bytes_out = bytes;
}

/* ---- rejected cache ------------------------------------------------------------ */

static uint32_t *rej_bucket(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES]) {
  return &p->rej_buckets[id_hash(p, id) & p->rej_mask];
}

/* The link (bucket head or a slot's next) that points at id's slot, or NULL. */
static uint32_t *rej_link(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES]) {
  uint32_t *link = rej_bucket(p, id);
  while (*link != REJ_NONE) {
    pool_rej_t *r = &p->rej[*link];
    if (memcmp(r->id, id, LEDGER_HASH_BYTES) == 0) return link;
    link = &r->next;
  }
  return NULL;
}

static void rej_unlink(pool_t *p, uint32_t *link) {
  pool_rej_t *r = &p->rej[*link];
  VE_ASSERT(r->live);
  *link = r->next;
  r->next = REJ_NONE;
  r->live = false;
  p->rej_live--;
}

void pool_rej_put(pool_t *p, const uint8_t id[LEDGER_HASH_BYTES], int code) {
  uint32_t *link = rej_link(p, id);
  if (link) {
    p->rej[*link].code = code;
    return;
  }
  size_t slot;
  if (p->rej_used < p->rej_max) {
    slot = (p->rej_head + p->rej_used++) % p->rej_max;
  } else {
    slot = p->rej_head;
    p->rej_head = (p->rej_head + 1) % p->rej_max;
    if (p->rej[slot].live) rej_unlink(p, rej_link(p, p->rej[slot].id));
  }
  pool_rej_t *r = &p->rej[slot];
  memcpy(r->id, id, LEDGER_HASH_BYTES);
  r->code = code;
  uint32_t *bucket = rej_bucket(p, id);
  r->next = *bucket;
  *bucket = (uint32_t)slot;
  r->live = true;
  p->rej_live++;
}

bool pool_rej_get(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES], int *code_out) {
  uint32_t *link = rej_link(p, id);
  if (!link) return false;
  if (code_out) *code_out = p->rej[*link].code;
  return true;
}

void pool_rej_forget(pool_t *p, const uint8_t id[LEDGER_HASH_BYTES]) {
  uint32_t *link = rej_link(p, id);
  if (link) rej_unlink(p, link);
}
