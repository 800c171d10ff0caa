/* store.h — the one interface through which veche reaches durable state.
 *
 * A store is a set of named tables of sorted byte keys to byte values, read and
 * written inside transactions. Two backends implement it:
 *   - LMDB (store_open_lmdb): the node's real storage. A write transaction is
 *     atomic and durable once store_txn_commit returns (LMDB syncs on commit), so
 *     a kill -9 at any moment leaves either the whole transaction or none of it.
 *   - memory (store_open_mem): same semantics without files, for unit tests and
 *     the deterministic simulator, which can substitute it for LMDB.
 * The ledger commits one block — block bytes, certificate, all state changes,
 * indexes and metadata — in one write transaction.
 *
 * Concurrency: one write transaction at a time (store_txn_begin for writing
 * blocks until the previous one ends; a thread that already holds the write
 * transaction must not begin another: that is asserted, as it would deadlock);
 * any number of read transactions, from any thread, each seeing the snapshot as
 * of its start (both backends), also while a write transaction is open. A
 * transaction is used by one thread at a time, and a read transaction must be
 * ended by the thread that began it.
 *
 * Ownership: slices returned by store_get and cursors point into the store's
 * memory and are valid until the transaction ends or, in a write transaction,
 * until its next put or del to ANY table (LMDB may move dirty pages of every
 * table on a write), whichever comes first. Copy what you keep.
 *
 * Error discipline (as LMDB, a bit stricter): a write transaction that hit an
 * error is poisoned: every later call on it returns the first error, and
 * store_txn_commit aborts it and returns that error. Every error poisons except
 * VE_ERR_NOT_FOUND from store_get or a cursor move (an answer, not a failure);
 * this includes argument errors (a bad key, a value too big), so a put that did
 * not happen can never be committed by accident. Read transactions are not
 * poisoned. Misuse (a put in a read txn, a table out of range, a cursor still
 * open when its txn ends, a txn still open at store_close) is asserted.
 *
 * Backends sit behind a table of functions (store_backend.h), through which a
 * test or the simulator can also plug in its own, e.g. store_open_fault.
 */
#ifndef VECHE_STORE_STORE_H
#define VECHE_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"

/* Tables. Append only; never renumber (LMDB database names derive from them). */
typedef enum {
  STORE_T_META = 0,        /* small named values: "height", "genesis", ... */
  STORE_T_BLOCKS,          /* be64 height -> encoded block */
  STORE_T_CERTS,           /* be64 height -> encoded commit certificate */
  STORE_T_BLOCK_HASH,      /* block hash (32) -> be64 height */
  STORE_T_TX_INDEX,        /* tx hash (32) -> encoded tx location and result */
  STORE_T_STATE,           /* application state key -> value (current) */
  STORE_T_STATE_NODES,     /* authenticated-state tree nodes (owned by src/state) */
  STORE_T_STATE_HIST,      /* state history (owned by src/state) */
  STORE_T_CONSENSUS,       /* consensus engine's persisted records (WAL, last signed) */
  STORE_T_EVIDENCE,        /* equivocation evidence */
  STORE_T_BLOBS,           /* content-addressed blobs (documents) */
  STORE_T_APP_INDEX,       /* application secondary indexes */
  STORE_T_COUNT
} store_table_t;

#define STORE_KEY_BYTES_MAX 511            /* LMDB's default maximum key size */
#define STORE_VALUE_BYTES_MAX (64u * 1024 * 1024)
#define STORE_MAP_BYTES_DEFAULT ((size_t)64 * 1024 * 1024 * 1024) /* virtual, grows lazily */

typedef struct store store_t;
typedef struct store_txn store_txn_t;
typedef struct store_cursor store_cursor_t;

/* Opens (creating if needed) an LMDB environment in directory dir, which must
 * exist. map_bytes is the maximum database size (0: STORE_MAP_BYTES_DEFAULT);
 * when it is reached, writes fail with VE_ERR_FULL (the map is not grown; reopen
 * with a larger map_bytes). Open a directory at most once per process.
 * Out: *out, owned by the caller, freed by store_close. */
int store_open_lmdb(store_t **out, const char *dir, size_t map_bytes);
/* Hot backup: copies the LMDB environment in src_dir into dst_dir, an
 * existing empty directory, as one consistent snapshot (the last transaction
 * committed when the copy began), compacted (free pages left out; data.mdb
 * only, no lock file). src_dir may be held open by another process that keeps
 * writing (a running node): it is opened read-only, and LMDB's lock file makes
 * the two processes safe together; the writer is never blocked. This process
 * must not hold src_dir open itself (LMDB's one-open-per-process rule).
 * Out: *bytes_out (may be NULL): the size of the copy's data file.
 * Returns 0; VE_ERR_NOT_FOUND (no LMDB environment in src_dir), VE_ERR_EXISTS
 * (dst_dir already holds a data file), VE_ERR_FULL (disk full), VE_ERR_IO or
 * VE_ERR_STORE; on failure dst_dir may hold a partial data.mdb, which the
 * caller removes. */
int store_lmdb_backup(const char *src_dir, const char *dst_dir, uint64_t *bytes_out);
/* Opens an empty in-memory store (nothing survives store_close). */
int store_open_mem(store_t **out);
/* Closes the store. All transactions must have ended. NULL is allowed. */
void store_close(store_t *s);

/* Begins a transaction. write: true for the (single) writer. */
int store_txn_begin(store_t *s, bool write, store_txn_t **out);
/* Commits a write transaction (read: just ends it). The txn is freed either way;
 * on failure nothing of it is visible. For LMDB, on success it is on disk. */
int store_txn_commit(store_txn_t *t);
/* Discards a transaction's changes and frees it. NULL is allowed. */
void store_txn_abort(store_txn_t *t);

/* Point operations. store_get returns VE_ERR_NOT_FOUND when absent. Keys are
 * 1..STORE_KEY_BYTES_MAX bytes (VE_ERR_INVALID otherwise), values at most
 * STORE_VALUE_BYTES_MAX (VE_ERR_TOO_BIG otherwise; empty is fine). Keys sort
 * as bytes (memcmp, a prefix before its extensions). */
int store_get(store_txn_t *t, store_table_t table, ve_slice_t key, ve_slice_t *val_out);
int store_put(store_txn_t *t, store_table_t table, ve_slice_t key, ve_slice_t val);
/* store_get of the state the last committed transaction left: in a write
 * transaction, as the table was when t began, without t's own writes; in a
 * read transaction, exactly store_get. Errors and poisoning as store_get's.
 * *val_out stays valid until t ends, whatever t writes meanwhile. For keys
 * that no transaction ever overwrites or deletes (append-only tables such as
 * the state tree's nodes), it gives the bytes store_get would, for every key
 * committed before t began, and can be cheaper: LMDB reads the committed
 * snapshot without looking each page up among t's dirty pages. */
int store_get_committed(store_txn_t *t, store_table_t table, ve_slice_t key,
                        ve_slice_t *val_out);
/* store_put for a key expected to sort after every key of the table as t sees
 * it (keys that start with an increasing version or height). The effect, the
 * errors and the poisoning are exactly store_put's whether or not that holds:
 * the expectation only makes it cheaper. On LMDB a key that is greater than the
 * table's last key is appended without a search from the root, and pages
 * filled this way are left full instead of being split in half; otherwise
 * (a smaller or equal key) it is an ordinary put. */
int store_put_append(store_txn_t *t, store_table_t table, ve_slice_t key, ve_slice_t val);
/* Deleting an absent key is not an error. */
int store_del(store_txn_t *t, store_table_t table, ve_slice_t key);

/* One write of a batch: put key -> val, or delete key (del true; val ignored). */
typedef struct {
  ve_slice_t key;
  ve_slice_t val;
  bool del;
} store_write_t;

/* Applies w[0..n) to one table of a write txn, in order: exactly the effect of
 * store_put / store_del on each (so the last write of a key wins). Every key
 * and value is checked first: an invalid one poisons t before anything is
 * written. Cheapest when the keys ascend. On LMDB the writes go through one
 * cursor in nested transactions of STORE_LMDB_BATCH_WRITES each: every page a
 * write dirties is then inserted into a short list of dirty pages, and merged
 * into the transaction's list once per nested transaction, instead of being
 * inserted into the whole list (a sorted array, where an insert below many
 * recently dirtied pages moves all of them). When a nested txn runs out of
 * room for dirty pages (a txn of about 500 MiB of them), it is dropped and the
 * rest of the batch is written in t itself, which can spill. A failure
 * poisons t. */
int store_write_batch(store_txn_t *t, store_table_t table, const store_write_t *w, size_t n);

/* Ordered iteration. store_cursor_seek positions at the first key >= key (an
 * empty key means the first entry); store_cursor_last at the last entry;
 * store_cursor_next/prev move one step. Each returns 0 with key_out and val_out
 * set, or VE_ERR_NOT_FOUND past the end. On a fresh cursor next gives the first
 * entry and prev the last; after next ran off the end, prev gives the last entry
 * (and after prev ran off the start, next gives the first). A seek that finds
 * nothing counts as off the end. The cursor sees its own txn's writes; after a
 * put/del to its table it continues by key: next gives the first key greater
 * than the last one returned, prev the last key smaller, whether or not that
 * key still exists. A cursor must be closed before its txn ends. */
int store_cursor_open(store_txn_t *t, store_table_t table, store_cursor_t **out);
int store_cursor_seek(store_cursor_t *c, ve_slice_t key, ve_slice_t *key_out, ve_slice_t *val_out);
int store_cursor_last(store_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out);
int store_cursor_next(store_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out);
int store_cursor_prev(store_cursor_t *c, ve_slice_t *key_out, ve_slice_t *val_out);
void store_cursor_close(store_cursor_t *c);

/* Number of entries in a table as seen by the transaction. */
int store_count(store_txn_t *t, store_table_t table, uint64_t *count_out);

#endif
