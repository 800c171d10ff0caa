/* store_fault.c — a backend that forwards to another store and fails calls on
 * demand, so tests and the simulator can check that callers survive storage
 * errors. See store_open_fault in store_backend.h.
 *
 * It goes through the inner store's public API, so the inner generic layer keeps
 * its own checks; an injected failure never reaches the inner store, and an
 * injected commit failure aborts the inner txn, leaving nothing visible, which
 * is what a failed LMDB commit leaves.
 */
#include <stdlib.h>

#include "base/err.h"
#include "store/store.h"
#include "store/store_backend.h"

typedef struct {
  store_t *inner;
  store_fault_fn fn;
  void *ctx;
} fault_store_t;

typedef struct {
  fault_store_t *fs;
  store_txn_t *inner;
  bool write;
} fault_txn_t;

typedef struct {
  fault_txn_t *ft;
  store_table_t table;
  store_cursor_t *inner;
} fault_cursor_t;

static int fault_ask(fault_store_t *fs, store_fault_point_t point, store_table_t table,
                     bool write) {
  int rc = fs->fn(fs->ctx, point, table, write);
  VE_ASSERT(rc <= 0);
  return rc;
}

static void fault_close(void *impl) { free(impl); }

static int fault_txn_begin(void *impl, bool write, void **txn_out) {
  fault_store_t *fs = impl;
  VE_TRY(fault_ask(fs, STORE_FAULT_BEGIN, STORE_T_COUNT, write));
  fault_txn_t *ft = calloc(1, sizeof *ft);
  if (!ft) return VE_ERR_NOMEM;
  int rc = store_txn_begin(fs->inner, write, &ft->inner);
  if (rc < 0) {
    free(ft);
    return rc;
  }
  ft->fs = fs;
  ft->write = write;
  *txn_out = ft;
  return 0;
}

static int fault_txn_commit(void *txn) {
  fault_txn_t *ft = txn;
  int rc = ft->write ? fault_ask(ft->fs, STORE_FAULT_COMMIT, STORE_T_COUNT, true) : 0;
  if (rc < 0) {
    store_txn_abort(ft->inner);
  } else {
    rc = store_txn_commit(ft->inner);
  }
  free(ft);
  return rc;
}

static void fault_txn_abort(void *txn) {
  fault_txn_t *ft = txn;
  store_txn_abort(ft->inner);
  free(ft);
}

static int fault_get(void *txn, store_table_t table, ve_slice_t key, ve_slice_t *val_out) {
  fault_txn_t *ft = txn;
  VE_TRY(fault_ask(ft->fs, STORE_FAULT_READ, table, ft->write));
  return store_get(ft->inner, table, key, val_out);
}

static int fault_get_committed(void *txn, store_table_t table, ve_slice_t key,
                               ve_slice_t *val_out) {
  fault_txn_t *ft = txn;
  VE_TRY(fault_ask(ft->fs, STORE_FAULT_READ, table, ft->write));
  return store_get_committed(ft->inner, table, key, val_out);
}

static int fault_put(void *txn, store_table_t table, ve_slice_t key, ve_slice_t val) {
  fault_txn_t *ft = txn;
  VE_TRY(fault_ask(ft->fs, STORE_FAULT_WRITE, table, true));
  return store_put(ft->inner, table, key, val);
}

static int fault_put_append(void *txn, store_table_t table, ve_slice_t key, ve_slice_t val) {
  fault_txn_t *ft = txn;
  VE_TRY(fault_ask(ft->fs, STORE_FAULT_WRITE, table, true));
  return store_put_append(ft->inner, table, key, val);
}

static int fault_del(void *txn, store_table_t table, ve_slice_t key) {
  fault_txn_t *ft = txn;
  VE_TRY(fault_ask(ft->fs, STORE_FAULT_WRITE, table, true));
  return store_del(ft->inner, table, key);
}

static int fault_count(void *txn, store_table_t table, uint64_t *count_out) {
  fault_txn_t *ft = txn;
  VE_TRY(fault_ask(ft->fs, STORE_FAULT_READ, table, ft->write));
  return store_count(ft->inner, table, count_out);
}

static int fault_cursor_open(void *txn, store_table_t table, void **cursor_out) {
  fault_txn_t *ft = txn;
  VE_TRY(fault_ask(ft->fs, STORE_FAULT_READ, table, ft->write));
  fault_cursor_t *fc = calloc(1, sizeof *fc);
  if (!fc) return VE_ERR_NOMEM;
  int rc = store_cursor_open(ft->inner, table, &fc->inner);
  if (rc < 0) {
    free(fc);
    return rc;
  }
  fc->ft = ft;
  fc->table = table;
  *cursor_out = fc;
  return 0;
}

static int fault_cursor_ask(fault_cursor_t *fc) {
  return fault_ask(fc->ft->fs, STORE_FAULT_READ, fc->table, fc->ft->write);
}

static int fault_cursor_seek(void *cursor, ve_slice_t key, ve_slice_t *key_out,
                             ve_slice_t *val_out) {
  fault_cursor_t *fc = cursor;
  VE_TRY(fault_cursor_ask(fc));
  return store_cursor_seek(fc->inner, key, key_out, val_out);
}

static int fault_cursor_last(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  fault_cursor_t *fc = cursor;
  VE_TRY(fault_cursor_ask(fc));
  return store_cursor_last(fc->inner, key_out, val_out);
}

static int fault_cursor_next(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  fault_cursor_t *fc = cursor;
  VE_TRY(fault_cursor_ask(fc));
  return store_cursor_next(fc->inner, key_out, val_out);
}

static int fault_cursor_prev(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out) {
  fault_cursor_t *fc = cursor;
  VE_TRY(fault_cursor_ask(fc));
  return store_cursor_prev(fc->inner, key_out, val_out);
}

static void fault_cursor_close(void *cursor) {
  fault_cursor_t *fc = cursor;
  store_cursor_close(fc->inner);
  free(fc);
}

static const store_ops_t fault_ops = {
    .name = "fault",
    .close = fault_close,
    .txn_begin = fault_txn_begin,
    .txn_commit = fault_txn_commit,
    .txn_abort = fault_txn_abort,
    .get = fault_get,
    .put = fault_put,
    .del = fault_del,
    .put_append = fault_put_append,
    .get_committed = fault_get_committed,
    .count = fault_count,
    .cursor_open = fault_cursor_open,
    .cursor_seek = fault_cursor_seek,
    .cursor_last = fault_cursor_last,
    .cursor_next = fault_cursor_next,
    .cursor_prev = fault_cursor_prev,
    .cursor_close = fault_cursor_close,
};

int store_open_fault(store_t **out, store_t *inner, store_fault_fn fn, void *ctx) {
  VE_ASSERT(out && inner && fn);
  *out = NULL;
  fault_store_t *fs = calloc(1, sizeof *fs);
  if (!fs) return VE_ERR_NOMEM;
  fs->inner = inner;
  fs->fn = fn;
  fs->ctx = ctx;
  return store_open_backend(out, &fault_ops, fs);
}
