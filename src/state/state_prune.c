/* state_prune.c — pruning of old state versions: the stale log that commits of
 * a pruned store write, and state_prune, which deletes what no retained version
 * needs any more.
 *
 * Why: every version's tree nodes and values stay otherwise (about 1 KB of disk
 * per key update). Validators and most observers only need proofs at recent
 * versions; old facts stay provable offline through saved proofs, and archive
 * nodes simply never enable pruning. Pruning is node-local housekeeping: it
 * changes no root, no proof, no result of state_get / state_commit /
 * state_prove at a retained version.
 *
 * Records (STORE_T_STATE_HIST, beside the root records 0x00 and the value
 * history 0x01; docs/state.md §5.1):
 *   0x02                        prune record: u8 format, uvarint floor
 *   0x03 || be64(v) || be32(i)  stale chunk i of version v: u8 format, entries
 * An entry names one stored key that the commit of version v took out of the
 * latest tree: a node (w, path prefix) that v rewrote or removed, or a value
 * entry (w, path) whose key v changed or deleted. Entries are packed into
 * chunks (state_int.h has the entry format): 4-8 bytes a node, 37 a value,
 * one append per chunk; chunks are appended, and nothing in
 * STATE_HIST sorts after them (the prune record, written in place, sorts
 * before).
 *
 * Invariants:
 *   I1 An entry recorded at v names a key written at a version w < v that is in
 *      the trees of versions w .. v-1 and of no version >= v. (Nodes and value
 *      entries are immutable; a commit builds its tree from the previous one,
 *      so what leaves the latest tree never comes back.)
 *   I2 The floor only grows, and never past the latest committed version.
 *      state_root_at / state_prove at a version below it answer
 *      VE_ERR_NOT_FOUND, whatever is still stored (state_tree.c).
 *   I3 So an entry recorded at s <= floor is needed by no version that can
 *      still be asked for (all are >= floor >= s), and may be deleted at any
 *      time, in any number of steps: state_prune deletes the chunks oldest
 *      first, each entry and then the chunk, and rewrites a chunk it could
 *      only partly process with what remains (so a crash, or an abort of the
 *      caller's transaction, loses nothing: it is all in that transaction).
 *   I4 Root records: those of versions below u, the latest committed version
 *      <= floor, are deleted (u's stays: it is the tree of the versions
 *      u .. floor when the heights have a gap).
 * Enabling late: what became stale before the prune record existed was never
 * logged and is never deleted.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "state/state_int.h"

/* Keys deleted together in one round of state_prune (about 1.2 MiB of keys). */
#define STATE_PRUNE_ROUND_MAX 16384

static const uint8_t PRUNE_KEY[1] = {STATE_HIST_PRUNE};

/* ---- the prune record ---- */

static int record_put(store_txn_t *t, uint64_t floor) {
  uint8_t rec[1 + CODEC_UVARINT_BYTES_MAX];
  rec[0] = STATE_PRUNE_FORMAT;
  size_t n = 1 + codec_uvarint_encode(rec + 1, floor);
  return store_put(t, STORE_T_STATE_HIST, ve_slice(PRUNE_KEY, 1), ve_slice(rec, n));
}

int state_prune_record_get(store_txn_t *t, bool *enabled, uint64_t *floor) {
  *enabled = false;
  *floor = 0;
  ve_slice_t v;
  int rc = store_get(t, STORE_T_STATE_HIST, ve_slice(PRUNE_KEY, 1), &v);
  if (rc == VE_ERR_NOT_FOUND) return VE_OK;
  if (rc) return rc;
  if (v.len < 2 || v.ptr[0] != STATE_PRUNE_FORMAT) return VE_ERR_CORRUPT;
  const uint8_t *p = v.ptr + 1, *end = v.ptr + v.len;
  if (codec_uvarint_decode(&p, end, floor) != VE_OK || p != end) {
    *floor = 0;
    return VE_ERR_CORRUPT;
  }
  *enabled = true;
  return VE_OK;
}

int state_prune_enable(store_txn_t *t) {
  bool enabled;
  uint64_t floor;
  VE_TRY(state_prune_record_get(t, &enabled, &floor));
  return enabled ? VE_OK : record_put(t, 0);
}

int state_prune_enabled(store_txn_t *t, bool *enabled_out) {
  uint64_t floor;
  return state_prune_record_get(t, enabled_out, &floor);
}

/* ---- the stale log (written by commits) ---- */

void state_stale_init(state_stale_log_t *log, store_txn_t *t, uint64_t version) {
  log->t = t;
  log->version = version;
  log->chunks = 0;
  log->len = 0;
}

static void stale_key(uint8_t out[STATE_HIST_STALE_KEY_BYTES], uint64_t version, uint32_t i) {
  out[0] = STATE_HIST_STALE;
  ve_be64_put(out + 1, version);
  out[9] = (uint8_t)(i >> 24);
  out[10] = (uint8_t)(i >> 16);
  out[11] = (uint8_t)(i >> 8);
  out[12] = (uint8_t)i;
}

int state_stale_flush(state_stale_log_t *log) {
  if (log->len == 0) return VE_OK;
  VE_ASSERT(log->chunks < UINT32_MAX);
  uint8_t key[STATE_HIST_STALE_KEY_BYTES];
  stale_key(key, log->version, log->chunks++);
  size_t len = log->len;
  log->len = 0;
  return store_put_append(log->t, STORE_T_STATE_HIST, ve_slice(key, sizeof key),
                          ve_slice(log->buf, len));
}

static int stale_add(state_stale_log_t *log, const uint8_t *entry, size_t n) {
  VE_ASSERT(n <= STATE_STALE_ENTRY_BYTES_MAX);
  if (log->len + n > STATE_STALE_CHUNK_BYTES_MAX) VE_TRY(state_stale_flush(log));
  if (log->len == 0) log->buf[log->len++] = STATE_STALE_FORMAT;
  memcpy(log->buf + log->len, entry, n);
  log->len += n;
  return VE_OK;
}

int state_stale_node(state_stale_log_t *log, uint64_t version, const uint8_t path[STATE_HASH_BYTES],
                     unsigned nibbles) {
  VE_ASSERT(nibbles < STATE_NIBBLES && version < log->version);
  uint8_t e[STATE_STALE_ENTRY_BYTES_MAX];
  size_t n = 0;
  e[n++] = (uint8_t)nibbles;
  n += codec_uvarint_encode(e + n, version);
  memcpy(e + n, path, nibbles / 2);
  n += nibbles / 2;
  if (nibbles & 1) e[n++] = path[nibbles / 2] & 0xf0;
  return stale_add(log, e, n);
}

int state_stale_value(state_stale_log_t *log, uint64_t version, const uint8_t path[STATE_HASH_BYTES]) {
  VE_ASSERT(version < log->version);
  uint8_t e[STATE_STALE_ENTRY_BYTES_MAX];
  size_t n = 0;
  e[n++] = STATE_STALE_VALUE;
  n += codec_uvarint_encode(e + n, version);
  memcpy(e + n, path, STATE_HASH_BYTES);
  n += STATE_HASH_BYTES;
  return stale_add(log, e, n);
}

/* ---- pruning ---- */

/* Decodes the entry at *p (strict) and gives the key it names: *table and
 * key[0, *key_len). chunk_version: the version whose commit logged it. */
static int entry_next(const uint8_t **p, const uint8_t *end, uint64_t chunk_version,
                      store_table_t *table, uint8_t key[STATE_NODE_KEY_BYTES_MAX], size_t *key_len) {
  const uint8_t *q = *p;
  uint8_t tag = *q++;
  uint64_t version;
  if ((tag >= STATE_NIBBLES && tag != STATE_STALE_VALUE) ||
      codec_uvarint_decode(&q, end, &version) != VE_OK || version >= chunk_version) {
    return VE_ERR_CORRUPT;
  }
  uint8_t path[STATE_HASH_BYTES] = {0};
  size_t path_bytes = tag == STATE_STALE_VALUE ? STATE_HASH_BYTES : (tag + 1u) / 2;
  if ((size_t)(end - q) < path_bytes) return VE_ERR_CORRUPT;
  memcpy(path, q, path_bytes);
  q += path_bytes;
  if (tag == STATE_STALE_VALUE) {
    *table = STORE_T_STATE_HIST;
    state_value_key(key, version, path);
    *key_len = STATE_HIST_VALUE_KEY_BYTES;
  } else {
    if ((tag & 1) && (path[tag / 2] & 0x0f)) return VE_ERR_CORRUPT; /* padding */
    *table = STORE_T_STATE_NODES;
    *key_len = state_node_key(key, version, path, tag);
  }
  *p = q;
  return VE_OK;
}

/* One round of pruning: up to STATE_PRUNE_ROUND_MAX keys gathered from the
 * oldest chunks (reading only), then deleted in key order, table by table, as
 * store batches: neighbouring keys share their pages, and LMDB keeps the
 * pages a batch dirties in short lists (store_write_batch). */
typedef struct {
  uint8_t key[STATE_NODE_KEY_BYTES_MAX];
  uint8_t len;
  uint8_t table; /* store_table_t */
} prune_key_t;

typedef struct {
  prune_key_t *keys; /* STATE_PRUNE_ROUND_MAX */
  store_write_t *w;  /* STATE_PRUNE_ROUND_MAX */
  size_t n;
  bool partial;      /* the last chunk gathered was not used up: rewrite it */
  uint8_t partial_key[STATE_HIST_STALE_KEY_BYTES];
  uint8_t *rest;     /* its format byte and the entries left (STATE_STALE_CHUNK_BYTES_MAX) */
  size_t rest_len;
  bool done;         /* no chunk of a version <= floor is left after this round */
} prune_round_t;

static void round_add(prune_round_t *r, store_table_t table, const uint8_t *key, size_t len) {
  VE_ASSERT(r->n < STATE_PRUNE_ROUND_MAX && len <= STATE_NODE_KEY_BYTES_MAX);
  prune_key_t *k = &r->keys[r->n++];
  memcpy(k->key, key, len);
  k->len = (uint8_t)len;
  k->table = (uint8_t)table;
}

/* Gathers the entries of one chunk (key ck, value cv, version) and then the
 * chunk itself into the round while room and *budget last; *used_up false:
 * it stopped inside the chunk, whose rest the round keeps to rewrite. */
static int round_chunk(prune_round_t *r, ve_slice_t ck, ve_slice_t cv, uint64_t version,
                       size_t *budget, bool *used_up) {
  const uint8_t *p = cv.ptr + 1, *end = cv.ptr + cv.len;
  *used_up = false;
  while (p < end) {
    if (r->n == STATE_PRUNE_ROUND_MAX || *budget == 0) break;
    store_table_t table;
    uint8_t key[STATE_NODE_KEY_BYTES_MAX];
    size_t key_len;
    VE_TRY(entry_next(&p, end, version, &table, key, &key_len));
    round_add(r, table, key, key_len);
    --*budget;
  }
  if (p == end && r->n < STATE_PRUNE_ROUND_MAX && *budget > 0) {
    round_add(r, STORE_T_STATE_HIST, ck.ptr, ck.len); /* the chunk itself */
    --*budget;
    *used_up = true;
    return VE_OK;
  }
  r->partial = true;
  memcpy(r->partial_key, ck.ptr, STATE_HIST_STALE_KEY_BYTES);
  r->rest[0] = STATE_STALE_FORMAT;
  memcpy(r->rest + 1, p, (size_t)(end - p));
  r->rest_len = 1 + (size_t)(end - p);
  return VE_OK;
}

/* Reads chunks oldest first (versions <= floor) into the round. */
static int round_gather(store_txn_t *t, uint64_t floor, prune_round_t *r, size_t *budget) {
  r->n = 0;
  r->partial = false;
  r->done = false;
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_STATE_HIST, &c));
  uint8_t start[1] = {STATE_HIST_STALE};
  ve_slice_t k, v;
  int rc = store_cursor_seek(c, ve_slice(start, 1), &k, &v);
  while (rc == VE_OK) {
    if (k.len != STATE_HIST_STALE_KEY_BYTES || k.ptr[0] != STATE_HIST_STALE || v.len < 1 ||
        v.len > STATE_STALE_CHUNK_BYTES_MAX || v.ptr[0] != STATE_STALE_FORMAT) {
      rc = VE_ERR_CORRUPT;
      break;
    }
    uint64_t version = ve_be64_get(k.ptr + 1);
    if (version > floor) {
      r->done = true;
      break;
    }
    bool used_up;
    rc = round_chunk(r, k, v, version, budget, &used_up);
    if (rc || !used_up) break;
    rc = store_cursor_next(c, &k, &v);
  }
  store_cursor_close(c);
  if (rc == VE_ERR_NOT_FOUND) {
    r->done = true;
    rc = VE_OK;
  }
  return rc;
}

static int prune_key_cmp(const void *a, const void *b) {
  const prune_key_t *x = a, *y = b;
  if (x->table != y->table) return x->table < y->table ? -1 : 1;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->key, y->key, n);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Deletes the round's keys, in key order, one batch per table; then rewrites
 * the partly used chunk. */
static int round_delete(store_txn_t *t, prune_round_t *r) {
  qsort(r->keys, r->n, sizeof *r->keys, prune_key_cmp);
  for (size_t i = 0; i < r->n;) {
    size_t j = i;
    for (; j < r->n && r->keys[j].table == r->keys[i].table; j++) {
      r->w[j - i].key = ve_slice(r->keys[j].key, r->keys[j].len);
      r->w[j - i].val = ve_slice(NULL, 0);
      r->w[j - i].del = true;
    }
    VE_TRY(store_write_batch(t, (store_table_t)r->keys[i].table, r->w, j - i));
    i = j;
  }
  if (!r->partial) return VE_OK;
  return store_put(t, STORE_T_STATE_HIST, ve_slice(r->partial_key, STATE_HIST_STALE_KEY_BYTES),
                   ve_slice(r->rest, r->rest_len));
}

/* Deletes what the chunks of versions <= floor name, and the chunks, oldest
 * first, while *budget lasts (one per deletion). */
static int prune_chunks(store_txn_t *t, uint64_t floor, size_t *budget) {
  prune_round_t r;
  r.keys = malloc(STATE_PRUNE_ROUND_MAX * sizeof *r.keys);
  r.w = malloc(STATE_PRUNE_ROUND_MAX * sizeof *r.w);
  r.rest = malloc(STATE_STALE_CHUNK_BYTES_MAX);
  int rc = r.keys && r.w && r.rest ? VE_OK : VE_ERR_NOMEM;
  while (rc == VE_OK && *budget > 0) {
    rc = round_gather(t, floor, &r, budget);
    if (rc == VE_OK) rc = round_delete(t, &r);
    if (r.done) break;
  }
  free(r.keys);
  free(r.w);
  free(r.rest);
  return rc;
}

/* Deletes the root records of versions below the latest committed version
 * <= floor, newest first, while *budget lasts. */
static int prune_roots(store_txn_t *t, uint64_t floor, size_t *budget) {
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_STATE_HIST, &c));
  uint8_t key[STATE_HIST_ROOT_KEY_BYTES];
  state_root_key(key, floor);
  ve_slice_t k, v;
  int rc = store_cursor_seek(c, ve_slice(key, sizeof key), &k, &v); /* u's record */
  while (rc == VE_OK && *budget > 0) {
    if (k.len != STATE_HIST_ROOT_KEY_BYTES || k.ptr[0] != STATE_HIST_ROOT) break;
    rc = store_cursor_next(c, &k, &v);
    if (rc || k.len != STATE_HIST_ROOT_KEY_BYTES || k.ptr[0] != STATE_HIST_ROOT) break;
    memcpy(key, k.ptr, sizeof key); /* k is invalid after the delete */
    rc = store_del(t, STORE_T_STATE_HIST, ve_slice(key, sizeof key));
    if (rc == VE_OK) --*budget;
    k = ve_slice(key, sizeof key); /* the cursor continues after this key */
  }
  store_cursor_close(c);
  return rc == VE_ERR_NOT_FOUND ? VE_OK : rc;
}

int state_prune(store_txn_t *t, uint64_t keep_from, size_t max_entries, size_t *deleted_out) {
  *deleted_out = 0;
  bool enabled;
  uint64_t floor, latest;
  VE_TRY(state_prune_record_get(t, &enabled, &floor));
  if (!enabled) return VE_ERR_STATE;
  int rc = state_version_latest(t, &latest);
  if (rc == VE_ERR_NOT_FOUND || (rc == VE_OK && keep_from > latest)) return VE_ERR_INVALID;
  if (rc) return rc;
  if (keep_from > floor) {
    floor = keep_from;
    VE_TRY(record_put(t, floor));
  }
  size_t budget = max_entries;
  rc = prune_chunks(t, floor, &budget);
  if (rc == VE_OK) rc = prune_roots(t, floor, &budget);
  *deleted_out = max_entries - budget;
  return rc;
}

int state_version_oldest(store_txn_t *t, uint64_t *version_out) {
  bool enabled;
  uint64_t floor;
  VE_TRY(state_prune_record_get(t, &enabled, &floor));
  /* The oldest root record is the last key of the 0x00 range. */
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_STATE_HIST, &c));
  uint8_t values[1] = {STATE_HIST_VALUE};
  ve_slice_t k, v;
  int rc = store_cursor_seek(c, ve_slice(values, 1), &k, &v);
  if (rc == VE_OK || rc == VE_ERR_NOT_FOUND) rc = store_cursor_prev(c, &k, &v);
  if (rc == VE_OK && (k.len != STATE_HIST_ROOT_KEY_BYTES || k.ptr[0] != STATE_HIST_ROOT)) {
    rc = VE_ERR_NOT_FOUND;
  }
  if (rc == VE_OK) {
    uint64_t first = UINT64_MAX - ve_be64_get(k.ptr + 1);
    *version_out = first > floor ? first : floor;
  }
  store_cursor_close(c);
  return rc;
}
