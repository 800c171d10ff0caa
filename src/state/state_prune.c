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
 * chunks (state_int.h has the entry format), so the log costs about 10 bytes
 * an entry and one append per chunk; chunks are appended, and nothing in
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

static const uint8_t PRUNE_KEY[1] = {STATE_HIST_PRUNE};

/* ---- the prune record ---- */

static int record_put(store_txn_t *t, uint64_t floor) {
  uint8_t rec[1 + CODEC_UVARINT_BYTES_MAX];
  rec[0] = STATE_PRUNE_FORMAT;
  size_t n = 1 + state_uvarint_put(rec + 1, floor);
  return store_put(t, STORE_T_STATE_HIST, ve_slice(PRUNE_KEY, 1), ve_slice(rec, n));
}

int state_prune_record_get(store_txn_t *t, bool *enabled, uint64_t *floor) {
  *enabled = false;
  *floor = 0;
  ve_slice_t v;
  int rc = store_get(t, STORE_T_STATE_HIST, ve_slice(PRUNE_KEY, 1), &v);
  if (rc == VE_ERR_NOT_FOUND) return VE_OK;
  if (rc) return rc;
  const uint8_t *p = v.ptr + 1, *end = v.ptr + v.len;
  if (v.len < 2 || v.ptr[0] != STATE_PRUNE_FORMAT || !state_uvarint_get(&p, end, floor) ||
      p != end) {
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
  n += state_uvarint_put(e + n, version);
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
  n += state_uvarint_put(e + n, version);
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
  if ((tag >= STATE_NIBBLES && tag != STATE_STALE_VALUE) || !state_uvarint_get(&q, end, &version) ||
      version >= chunk_version) {
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

/* The oldest stale chunk, if its version is <= floor: copied into chunk
 * (STATE_STALE_CHUNK_BYTES_MAX), its key into key. *found false: none. */
static int chunk_oldest(store_txn_t *t, uint64_t floor, uint8_t key[STATE_HIST_STALE_KEY_BYTES],
                        uint8_t *chunk, size_t *len, bool *found) {
  *found = false;
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_STATE_HIST, &c));
  uint8_t start[1] = {STATE_HIST_STALE};
  ve_slice_t k, v;
  int rc = store_cursor_seek(c, ve_slice(start, 1), &k, &v);
  if (rc == VE_ERR_NOT_FOUND) {
    rc = VE_OK;
  } else if (rc == VE_OK) {
    if (k.len != STATE_HIST_STALE_KEY_BYTES || k.ptr[0] != STATE_HIST_STALE || v.len < 1 ||
        v.len > STATE_STALE_CHUNK_BYTES_MAX || v.ptr[0] != STATE_STALE_FORMAT) {
      rc = VE_ERR_CORRUPT;
    } else if (ve_be64_get(k.ptr + 1) <= floor) {
      memcpy(key, k.ptr, STATE_HIST_STALE_KEY_BYTES);
      memcpy(chunk, v.ptr, v.len);
      *len = v.len;
      *found = true;
    }
  }
  store_cursor_close(c);
  return rc;
}

/* Deletes what the chunks of versions <= floor name, and the chunks, oldest
 * first, while *budget lasts (one per deletion). */
static int prune_chunks(store_txn_t *t, uint64_t floor, size_t *budget) {
  uint8_t *chunk = malloc(STATE_STALE_CHUNK_BYTES_MAX);
  if (!chunk) return VE_ERR_NOMEM;
  int rc = VE_OK;
  while (rc == VE_OK && *budget > 0) {
    uint8_t ckey[STATE_HIST_STALE_KEY_BYTES];
    size_t len;
    bool found;
    rc = chunk_oldest(t, floor, ckey, chunk, &len, &found);
    if (rc || !found) break;
    uint64_t version = ve_be64_get(ckey + 1);
    const uint8_t *p = chunk + 1, *end = chunk + len;
    while (rc == VE_OK && p < end && *budget > 0) {
      store_table_t table;
      uint8_t key[STATE_NODE_KEY_BYTES_MAX];
      size_t key_len;
      rc = entry_next(&p, end, version, &table, key, &key_len);
      if (rc == VE_OK) rc = store_del(t, table, ve_slice(key, key_len));
      if (rc == VE_OK) --*budget;
    }
    if (rc) break;
    if (*budget == 0) {
      /* Out of budget: keep what is left (maybe no entry) for the next call. */
      size_t rest = (size_t)(end - p);
      memmove(chunk + 1, p, rest);
      rc = store_put(t, STORE_T_STATE_HIST, ve_slice(ckey, sizeof ckey), ve_slice(chunk, 1 + rest));
      break;
    }
    rc = store_del(t, STORE_T_STATE_HIST, ve_slice(ckey, sizeof ckey));
    if (rc == VE_OK) --*budget;
  }
  free(chunk);
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
