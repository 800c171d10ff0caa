/* store_backend.h — how a storage backend plugs in under store.h.
 *
 * Modules that read and write state include store.h only. This header is for
 * code that supplies a backend: the two built in (LMDB, memory), the fault
 * injector below, and any test or simulator that wants its own (like SQLite's
 * VFS, the one narrow seam through which storage can be replaced or broken).
 *
 * The generic layer (store.c) does everything that must be identical across
 * backends, so a backend stays small and cannot get it subtly different:
 *   - argument checks: table in range (assert), key 1..STORE_KEY_BYTES_MAX
 *     (VE_ERR_INVALID; empty allowed for seek), value <= STORE_VALUE_BYTES_MAX
 *     (VE_ERR_TOO_BIG), writes only in write transactions (assert);
 *   - the poisoned-transaction rule (first error sticks, commit then aborts);
 *   - cursor positioning: what next/prev mean after the end, before the
 *     beginning, on a fresh cursor, and after the transaction wrote to the
 *     cursor's table (the cursor is re-established by key);
 *   - "all cursors closed before the txn ends, all txns ended before close"
 *     and "a thread that holds the write txn may not begin another" (asserts).
 *
 * What a backend must provide (all pointers are the backend's own objects):
 *   close(store)            frees everything; no txns are open.
 *   txn_begin(store, write) a write txn blocks until the previous one has
 *                           ended; a read txn sees the last committed state.
 *   txn_commit(txn)         write: make it durable/visible atomically; frees
 *                           txn whether or not it succeeds. Read: end it.
 *   txn_abort(txn)          discard and free.
 *   get/put/del/count       as in store.h; del of an absent key returns 0.
 *   write_batch (optional)  store_write_batch's effect, for checked writes;
 *                           NULL: the generic layer calls put and del.
 *   get_committed           as in store.h, for write txns (the generic layer
 *                           calls get for read txns); its slices must stay
 *                           valid until the txn ends.
 *   put_append (optional)   put's exact effect, for a key the caller expects
 *                           to sort after every key of the table; NULL: the
 *                           generic layer calls put instead.
 *   cursor_seek(key)        first entry >= key (empty key: first entry).
 *   cursor_last             last entry.
 *   cursor_next/prev        one step from the entry the cursor is on. Called
 *                           only right after a successful seek/last/next/prev
 *                           on this cursor with no write to its table since.
 *   All cursor moves return 0 or VE_ERR_NOT_FOUND (or an error); after
 *   NOT_FOUND the backend cursor's position is never relied upon.
 * Slices a backend returns must stay valid as store.h promises.
 */
#ifndef VECHE_STORE_STORE_BACKEND_H
#define VECHE_STORE_STORE_BACKEND_H

#include "store/store.h"

typedef struct store_ops {
  const char *name; /* "lmdb", "mem", "fault": for logs */
  void (*close)(void *store);
  int (*txn_begin)(void *store, bool write, void **txn_out);
  int (*txn_commit)(void *txn);
  void (*txn_abort)(void *txn);
  int (*get)(void *txn, store_table_t table, ve_slice_t key, ve_slice_t *val_out);
  int (*put)(void *txn, store_table_t table, ve_slice_t key, ve_slice_t val);
  int (*del)(void *txn, store_table_t table, ve_slice_t key);
  int (*put_append)(void *txn, store_table_t table, ve_slice_t key, ve_slice_t val);
  int (*get_committed)(void *txn, store_table_t table, ve_slice_t key, ve_slice_t *val_out);
  int (*write_batch)(void *txn, store_table_t table, const store_write_t *w, size_t n);
  int (*count)(void *txn, store_table_t table, uint64_t *count_out);
  int (*cursor_open)(void *txn, store_table_t table, void **cursor_out);
  int (*cursor_seek)(void *cursor, ve_slice_t key, ve_slice_t *key_out, ve_slice_t *val_out);
  int (*cursor_last)(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out);
  int (*cursor_next)(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out);
  int (*cursor_prev)(void *cursor, ve_slice_t *key_out, ve_slice_t *val_out);
  void (*cursor_close)(void *cursor);
} store_ops_t;

/* Wraps a backend object in a store_t.
 * In: ops (static, must outlive the store), impl (ownership passes to the
 * store in every case: on failure ops->close(impl) has been called).
 * Out: *out, freed by store_close (which calls ops->close). */
int store_open_backend(store_t **out, const store_ops_t *ops, void *impl);

/* The backend object of s if s was opened with ops, else NULL. Borrowed. */
void *store_backend_impl(store_t *s, const store_ops_t *ops);

/* ---- Fault injection -------------------------------------------------------
 * A store that forwards every call to an inner store but first asks a hook,
 * which may fail the call with any error code instead. Used by tests and the
 * simulator to check that callers survive storage errors (a failed put poisons
 * the txn exactly as a real one would; a failed commit leaves nothing visible).
 */
typedef enum {
  STORE_FAULT_BEGIN,  /* store_txn_begin */
  STORE_FAULT_COMMIT, /* store_txn_commit of a write txn (the inner txn is aborted) */
  STORE_FAULT_READ,   /* get, count, cursor open and moves */
  STORE_FAULT_WRITE   /* put, del */
} store_fault_point_t;

/* Returns 0 to let the call through, or a negative VE_ERR_* to fail it.
 * table is STORE_T_COUNT for BEGIN and COMMIT. */
typedef int (*store_fault_fn)(void *ctx, store_fault_point_t point, store_table_t table, bool write);

/* In: inner (borrowed; must stay open until the fault store is closed; use it
 * only through the fault store meanwhile), fn and ctx (borrowed).
 * Out: *out, freed by store_close, which does not close inner. */
int store_open_fault(store_t **out, store_t *inner, store_fault_fn fn, void *ctx);

/* ---- Checks ------------------------------------------------------------- */

/* Verifies the memory backend's tree invariants (order, separators, fill,
 * equal depth, counts) over the committed state. Returns 0, VE_ERR_CORRUPT, or
 * VE_ERR_INVALID if s is not a memory store. For tests; O(n). */
int store_mem_check(store_t *s);

#endif
