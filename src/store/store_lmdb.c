/* store_lmdb.c — the LMDB backend: the node's durable storage.
 *
 * One LMDB environment per directory (data.mdb + lock.mdb), one named database
 * per store_table_t, named "t%02d" from the table's number (hence tables are
 * never renumbered). A txn is LMDB's MDB_txn* plus the cursors kept for
 * store_put_append and store_put, and a read txn for store_get_committed
 * (lmdb_txn_t); a cursor is an MDB_cursor*; the store's DBI handles are found
 * through the env's user context.
 *
 * Choices, and why:
 *   - Durable commits: default LMDB flags (no MDB_NOSYNC / MDB_NOMETASYNC), so
 *     mdb_txn_commit returns only after the data and the new meta page are
 *     fsynced. A kill -9 or power loss leaves the last committed txn or none.
 *   - MDB_NOTLS: read txns are not tied to a thread's slot, so a thread may hold
 *     several and HTTP worker threads can use them.
 *   - A full map returns VE_ERR_FULL (the txn is then poisoned and must be
 *     aborted). The map is not grown automatically: growing needs every txn of
 *     the process to be closed, which the store cannot arrange in the middle of a
 *     block commit, and the default map (64 GiB of address space, not disk) is
 *     meant to never fill. An operator reopens with a larger map_bytes.
 *   - One process owns the environment (the node). Another process growing
 *     the map (MDB_MAP_RESIZED) is not supported and surfaces as VE_ERR_STORE.
 *   - Stale reader slots left by a killed process are cleared at open.
 *   - Hot backups (store_lmdb_backup) open the environment read-only from a
 *     second process and copy it with mdb_env_copy2(MDB_CP_COMPACT) inside
 *     one read txn: a consistent snapshot without stopping the writer.
 * An environment must be opened at most once per process (LMDB's rule).
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/err.h"
#include "base/log.h"
#include "store/store.h"
#include "store/store_backend.h"

#define STORE_LMDB_DBS_MAX (STORE_T_COUNT + 4)
#define STORE_LMDB_READERS_MAX 256 /* concurrent read txns (HTTP workers + node) */
#define STORE_LMDB_NAME_BYTES 8
/* Writes per nested transaction of store_write_batch: about 1,400 dirty pages
 * for random 32-byte keys in a large table, a list short enough that sorted
 * inserts stay cheap, and few enough nested commits (each merges its list
 * into the parent's, linear in both) per block of 10,000. */
#define STORE_LMDB_BATCH_WRITES 1024

typedef struct {
  MDB_env *env;
  MDB_dbi dbi[STORE_T_COUNT];
} lmdb_store_t;

/* Maps an LMDB or errno code to a VE_ERR_* code, logging all but NOT_FOUND. */
static int lmdb_err(int rc, const char *what) {
  if (rc == 0) return 0;
  if (rc == MDB_NOTFOUND) return VE_ERR_NOT_FOUND;
  VE_ERROR("store", "lmdb %s: %s", what, mdb_strerror(rc));
  switch (rc) {
  case MDB_MAP_FULL:
  case MDB_READERS_FULL:
  case MDB_TXN_FULL:
  case MDB_DBS_FULL:
    return VE_ERR_FULL;
  case MDB_CORRUPTED:
  case MDB_PAGE_NOTFOUND:
  case MDB_INVALID:
    return VE_ERR_CORRUPT;
  case ENOMEM:
    return VE_ERR_NOMEM;
  default:
    return VE_ERR_STORE;
  }
}

static MDB_val val_of(ve_slice_t s) {
  MDB_val v = {s.len, (void *)s.ptr};
  return v;
}

static ve_slice_t slice_of(MDB_val v) { return ve_slice(v.mv_data, v.mv_size); }

static lmdb_store_t *store_of_txn(MDB_txn *txn) {
  return mdb_env_get_userctx(mdb_txn_env(txn));
}

/* ---- Store ---------------------------------------------------------------- */

static void lmdb_close(void *impl) {
  lmdb_store_t *ls = impl;
  if (!ls) return;
  if (ls->env) mdb_env_close(ls->env); /* also closes the DBI handles */
  free(ls);
}

/* Opens (creating) one named database per table in one write txn. */
static int lmdb_open_tables(lmdb_store_t *ls) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(ls->env, NULL, 0, &txn);
  if (rc) return lmdb_err(rc, "begin (open tables)");
  for (int t = 0; t < STORE_T_COUNT; t++) {
    char name[STORE_LMDB_NAME_BYTES];
    snprintf(name, sizeof name, "t%02d", t);
    rc = mdb_dbi_open(txn, name, MDB_CREATE, &ls->dbi[t]);
    if (rc) {
      mdb_txn_abort(txn);
      return lmdb_err(rc, "dbi_open");
    }
  }
  return lmdb_err(mdb_txn_commit(txn), "commit (open tables)");
}

static int lmdb_env_setup(lmdb_store_t *ls, const char *dir, size_t map_bytes) {
  int rc = mdb_env_create(&ls->env);
  if (rc) {
    ls->env = NULL;
    return lmdb_err(rc, "env_create");
  }
  if ((rc = mdb_env_set_maxdbs(ls->env, STORE_LMDB_DBS_MAX)) ||
      (rc = mdb_env_set_maxreaders(ls->env, STORE_LMDB_READERS_MAX)) ||
      (rc = mdb_env_set_mapsize(ls->env, map_bytes))) {
    return lmdb_err(rc, "env_set");
  }
  rc = mdb_env_open(ls->env, dir, MDB_NOTLS, 0600);
  if (rc) {
    VE_ERROR("store", "cannot open LMDB environment in %s", dir);
    return lmdb_err(rc, "env_open");
  }
  if (mdb_env_get_maxkeysize(ls->env) < STORE_KEY_BYTES_MAX) {
    VE_ERROR("store", "LMDB built with max key %d < %d", mdb_env_get_maxkeysize(ls->env),
             STORE_KEY_BYTES_MAX);
    return VE_ERR_CONFIG;
  }
  int dead = 0;
  rc = mdb_reader_check(ls->env, &dead);
  if (rc) return lmdb_err(rc, "reader_check");
  if (dead > 0) VE_INFO("store", "cleared %d stale LMDB reader slot(s) in %s", dead, dir);
  return mdb_env_set_userctx(ls->env, ls) ? VE_ERR_STORE : 0;
}

static const store_ops_t lmdb_ops;

int store_open_lmdb(store_t **out, const char *dir, size_t map_bytes) {
  VE_ASSERT(out && dir);
  *out = NULL;
  if (map_bytes == 0) map_bytes = STORE_MAP_BYTES_DEFAULT;
  lmdb_store_t *ls = calloc(1, sizeof *ls);
  if (!ls) return VE_ERR_NOMEM;
  int rc = lmdb_env_setup(ls, dir, map_bytes);
  if (rc == 0) rc = lmdb_open_tables(ls);
  if (rc < 0) {
    lmdb_close(ls);
    return rc;
  }
  return store_open_backend(out, &lmdb_ops, ls);
}

/* ---- Hot backup ------------------------------------------------------------- */

/* errno-style codes of the file side of a copy, as VE_ERR_*. */
static int backup_err(int rc, const char *what, const char *dir) {
  if (rc == 0) return 0;
  VE_ERROR("store", "backup: %s %s: %s", what, dir, mdb_strerror(rc));
  if (rc == ENOENT || rc == ENOTDIR) return VE_ERR_NOT_FOUND;
  if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG) return VE_ERR_FULL;
  if (rc == EEXIST) return VE_ERR_EXISTS;
  if (rc == EACCES || rc == EPERM || rc == EIO || rc == EROFS) return VE_ERR_IO;
  return lmdb_err(rc, what);
}

int store_lmdb_backup(const char *src_dir, const char *dst_dir, uint64_t *bytes_out) {
  VE_ASSERT(src_dir && dst_dir);
  char path[4096];
  struct stat st;
  if (snprintf(path, sizeof path, "%s/data.mdb", src_dir) >= (int)sizeof path) return VE_ERR_INVALID;
  if (stat(path, &st) != 0) return backup_err(errno, "no environment in", src_dir);
  if (snprintf(path, sizeof path, "%s/data.mdb", dst_dir) >= (int)sizeof path) return VE_ERR_INVALID;
  if (stat(path, &st) == 0) return backup_err(EEXIST, "data file already in", dst_dir);
  MDB_env *env;
  int rc = mdb_env_create(&env);
  if (rc) return lmdb_err(rc, "env_create (backup)");
  /* No map size: a read-only open maps the size the writer recorded. The same
   * reader table size as the node's, which created the lock file. */
  rc = mdb_env_set_maxreaders(env, STORE_LMDB_READERS_MAX);
  if (rc == 0) rc = mdb_env_set_maxdbs(env, STORE_LMDB_DBS_MAX);
  if (rc == 0) rc = mdb_env_open(env, src_dir, MDB_RDONLY | MDB_NOTLS, 0600);
  if (rc) {
    mdb_env_close(env);
    return backup_err(rc, "cannot open", src_dir);
  }
  rc = mdb_env_copy2(env, dst_dir, MDB_CP_COMPACT);
  mdb_env_close(env);
  if (rc) return backup_err(rc, "copy into", dst_dir);
  if (stat(path, &st) != 0) return backup_err(errno, "copy missing in", dst_dir);
  if (chmod(path, 0600) != 0) return backup_err(errno, "chmod of the copy in", dst_dir); /* as the node's */
  if (bytes_out) *bytes_out = (uint64_t)st.st_size;
  return 0;
}

/* ---- Transactions ----------------------------------------------------------- */

/* A transaction: LMDB's, plus (write txns) a cursor per table, opened on
 * first use, and a read txn.
 *   append: kept for store_put_append. It stays on the table's last entry
 *     after each append, so the next append needs no search from the root.
 *     LMDB keeps a cursor consistent through the txn's other writes, but an
 *     append cursor also believes it sits on the LAST entry, which a put or
 *     del through another path can make untrue; any such write to its table
 *     closes it, and the next append opens a fresh one.
 *   ro: a read txn begun at the first store_get_committed. A writer holds
 *     LMDB's write lock, so it sees exactly the snapshot the write txn began
 *     from; reads in it skip the lookups of every page among the write txn's
 *     dirty pages. Ended with the write txn (MDB_NOTLS allows a thread to
 *     hold both). */
typedef struct {
  MDB_txn *txn;
  MDB_cursor *append[STORE_T_COUNT]; /* NULL: none kept for that table */
  MDB_txn *ro;                       /* NULL: not begun */
} lmdb_txn_t;

static void append_forget(lmdb_txn_t *lt, store_table_t table) {
  if (!lt->append[table]) return;
  mdb_cursor_close(lt->append[table]);
  lt->append[table] = NULL;
}

/* Closes what the txn keeps besides LMDB's txn itself. */
static void txn_kept_close(lmdb_txn_t *lt) {
  for (int t = 0; t < STORE_T_COUNT; t++) append_forget(lt, (store_table_t)t);
  if (lt->ro) mdb_txn_abort(lt->ro);
  lt->ro = NULL;
}

static int lmdb_txn_begin(void *impl, bool write, void **txn_out) {
  lmdb_store_t *ls = impl;
  lmdb_txn_t *lt = calloc(1, sizeof *lt);
  if (!lt) return VE_ERR_NOMEM;
  unsigned flags = write ? 0 : MDB_RDONLY;
  int rc = mdb_txn_begin(ls->env, NULL, flags, &lt->txn);
  if (rc) {
    free(lt);
    return lmdb_err(rc, write ? "begin write" : "begin read");
  }
  *txn_out = lt;
  return 0;
}

static int lmdb_txn_commit(void *txn) {
  lmdb_txn_t *lt = txn;
  txn_kept_close(lt);
  /* Frees the txn on failure too; for a read txn this only releases the snapshot. */
  int rc = lmdb_err(mdb_txn_commit(lt->txn), "commit");
  free(lt);
  return rc;
}

static void lmdb_txn_abort(void *txn) {
  lmdb_txn_t *lt = txn;
  txn_kept_close(lt);
  mdb_txn_abort(lt->txn);
  free(lt);
}

static MDB_dbi dbi_of(lmdb_txn_t *lt, store_table_t table) {
  return store_of_txn(lt->txn)->dbi[table];
}

/* ---- Point operations ------------------------------------------------------- */

static int lmdb_get(void *txn, store_table_t table, ve_slice_t key, ve_slice_t *val_out) {
  lmdb_txn_t *lt = txn;
  MDB_val k = val_of(key), v;
  int rc = mdb_get(lt->txn, dbi_of(lt, table), &k, &v);
  if (rc) return lmdb_err(rc, "get");
  *val_out = slice_of(v);
  return 0;
}

static int lmdb_get_committed(void *txn, store_table_t table, ve_slice_t key,
                              ve_slice_t *val_out) {
  lmdb_txn_t *lt = txn;
  if (!lt->ro) {
    int rc = mdb_txn_begin(mdb_txn_env(lt->txn), NULL, MDB_RDONLY, &lt->ro);
    if (rc) {
      lt->ro = NULL;
      return lmdb_err(rc, "begin read (committed)");
    }
  }
  MDB_val k = val_of(key), v;
  int rc = mdb_get(lt->ro, dbi_of(lt, table), &k, &v);
  if (rc) return lmdb_err(rc, "get (committed)");
  *val_out = slice_of(v);
  return 0;
}

static int lmdb_put(void *txn, store_table_t table, ve_slice_t key, ve_slice_t val) {
  lmdb_txn_t *lt = txn;
  append_forget(lt, table);
  MDB_val k = val_of(key), v = val_of(val);
  return lmdb_err(mdb_put(lt->txn, dbi_of(lt, table), &k, &v, 0), "put");
}

/* MDB_APPEND writes after the table's last key without searching the tree and
 * splits a full last page by starting a new one, so pages filled in key order
 * stay full. LMDB refuses a key that is not greater than the last one with
 * MDB_KEYEXIST before changing anything: that key takes the ordinary path. */
static int lmdb_put_append(void *txn, store_table_t table, ve_slice_t key, ve_slice_t val) {
  lmdb_txn_t *lt = txn;
  if (!lt->append[table]) {
    int rc = mdb_cursor_open(lt->txn, dbi_of(lt, table), &lt->append[table]);
    if (rc) {
      lt->append[table] = NULL;
      return lmdb_err(rc, "cursor_open");
    }
  }
  MDB_val k = val_of(key), v = val_of(val);
  int rc = mdb_cursor_put(lt->append[table], &k, &v, MDB_APPEND);
  if (rc == MDB_KEYEXIST) return lmdb_put(txn, table, key, val);
  if (rc) append_forget(lt, table);
  return lmdb_err(rc, "put");
}

static int lmdb_del(void *txn, store_table_t table, ve_slice_t key);

/* One nested txn: w[0..n) through one cursor. Returns LMDB's code (0, or
 * MDB_TXN_FULL with nothing of it written, or another error). */
static int batch_chunk(lmdb_txn_t *lt, MDB_dbi dbi, const store_write_t *w, size_t n) {
  MDB_txn *child;
  int rc = mdb_txn_begin(mdb_txn_env(lt->txn), lt->txn, 0, &child);
  if (rc) return rc;
  MDB_cursor *c;
  rc = mdb_cursor_open(child, dbi, &c);
  for (size_t i = 0; i < n && rc == 0; i++) {
    MDB_val k = val_of(w[i].key), v = val_of(w[i].val);
    if (!w[i].del) {
      rc = mdb_cursor_put(c, &k, &v, 0);
      continue;
    }
    rc = mdb_cursor_get(c, &k, &v, MDB_SET);
    if (rc == 0) rc = mdb_cursor_del(c, 0);
    else if (rc == MDB_NOTFOUND) rc = 0;
  }
  if (rc == 0) mdb_cursor_close(c);
  if (rc) {
    mdb_txn_abort(child); /* closes the cursor; nothing of the chunk stays */
    return rc;
  }
  return mdb_txn_commit(child);
}

static int lmdb_write_batch(void *txn, store_table_t table, const store_write_t *w, size_t n) {
  lmdb_txn_t *lt = txn;
  append_forget(lt, table);
  size_t i = 0;
  for (; i < n; i += STORE_LMDB_BATCH_WRITES) {
    size_t m = n - i < STORE_LMDB_BATCH_WRITES ? n - i : STORE_LMDB_BATCH_WRITES;
    int rc = batch_chunk(lt, dbi_of(lt, table), w + i, m);
    if (rc == MDB_TXN_FULL) break; /* a huge txn: only its own txn can spill */
    if (rc) return lmdb_err(rc, "batch write");
  }
  /* The rest, if any, as plain writes in the txn itself (which spills dirty
   * pages to the file when its list fills, where a nested txn cannot). */
  for (; i < n; i++) {
    int rc = w[i].del ? lmdb_del(txn, table, w[i].key) : lmdb_put(txn, table, w[i].key, w[i].val);
    if (rc) return rc;
  }
  return 0;
}

static int lmdb_del(void *txn, store_table_t table, ve_slice_t key) {
  lmdb_txn_t *lt = txn;
  append_forget(lt, table);
  MDB_val k = val_of(key);
  int rc = mdb_del(lt->txn, dbi_of(lt, table), &k, NULL);
  return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc, "del");
}

static int lmdb_count(void *txn, store_table_t table, uint64_t *count_out) {
  lmdb_txn_t *lt = txn;
  MDB_stat st;
  int rc = mdb_stat(lt->txn, dbi_of(lt, table), &st);
  if (rc) return lmdb_err(rc, "stat");
  *count_out = st.ms_entries;
  return 0;
}

/* ---- Cursors ----------------------------------------------------------------- */

static int lmdb_cursor_open(void *txn, store_table_t table, void **cursor_out) {
  lmdb_txn_t *lt = txn;
  MDB_cursor *cur = NULL;
  int rc = mdb_cursor_open(lt->txn, dbi_of(lt, table), &cur);
  if (rc) return lmdb_err(rc, "cursor_open");
  *cursor_out = cur;
  return 0;
}

static int lmdb_cursor_get(void *cursor, MDB_val *k, MDB_cursor_op op, ve_slice_t *key_out,
                           ve_slice_t *val_out) {
  MDB_val v = {0, NULL};
  int rc = mdb_cursor_get(cursor, k, &v, op);
  if (rc) return lmdb_err(rc, "cursor_get");
  *key_out = slice_of(*k);
  *val_out = slice_of(v);
  return 0;
}

static int lmdb_cursor_seek(void *cursor, ve_slice_t key, ve_slice_t *key_out,
                            ve_slice_t *val_out) {
  MDB_val k = val_of(key);
  return lmdb_cursor_get(cursor, &k, key.len ? MDB_SET_RANGE : MDB_FIRST, key_out, val_out);
}

static int lmdb_cursor_last(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  MDB_val k = {0, NULL};
  return lmdb_cursor_get(cursor, &k, MDB_LAST, key_out, val_out);
}

static int lmdb_cursor_next(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  MDB_val k = {0, NULL};
  return lmdb_cursor_get(cursor, &k, MDB_NEXT, key_out, val_out);
}

static int lmdb_cursor_prev(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  MDB_val k = {0, NULL};
  return lmdb_cursor_get(cursor, &k, MDB_PREV, key_out, val_out);
}

static void lmdb_cursor_close(void *cursor) { mdb_cursor_close(cursor); }

static const store_ops_t lmdb_ops = {
    .name = "lmdb",
    .close = lmdb_close,
    .txn_begin = lmdb_txn_begin,
    .txn_commit = lmdb_txn_commit,
    .txn_abort = lmdb_txn_abort,
    .get = lmdb_get,
    .put = lmdb_put,
    .del = lmdb_del,
    .put_append = lmdb_put_append,
    .get_committed = lmdb_get_committed,
    .write_batch = lmdb_write_batch,
    .count = lmdb_count,
    .cursor_open = lmdb_cursor_open,
    .cursor_seek = lmdb_cursor_seek,
    .cursor_last = lmdb_cursor_last,
    .cursor_next = lmdb_cursor_next,
    .cursor_prev = lmdb_cursor_prev,
    .cursor_close = lmdb_cursor_close,
};
