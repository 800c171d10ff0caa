/* pool.h — the mempool's data structures, private to src/mempool.
 *
 * Nothing here locks: mempool.c holds its mutex around every call except
 * pool_entry_new and pool_entry_free, which touch no shared state (they read
 * only the hash key, fixed at pool_init). Every operation is O(1) or O(log n)
 * in the number of pending transactions; the index arrays are sized once at
 * pool_init from the configured bounds, so inserting never allocates.
 *
 * Structures over the pending entries (each entry is in all four or none):
 *   - id index: chained hash table keyed by a keyed hash (SipHash) of the tx id,
 *     so that ids ground by a client cannot pile into one bucket;
 *   - admission queue: doubly linked list, oldest first;
 *   - seq index: a skip list ordered by (signer, seq). A signer's pending
 *     transactions are one contiguous run of it, in increasing seq order; it
 *     answers "is (signer, seq) taken?" and "the signer's lowest pending tx".
 *     Node heights come from the keyed hash of the id (geometric, p = 1/4), so
 *     they are independent of input order and unpredictable to clients;
 *   - expiry heap: binary min-heap on expiry; each entry knows its position so
 *     that a committed entry leaves the heap in O(log n).
 * Invariants: count == entries in each structure; bytes == sum of their len;
 * count <= txs_max; bytes <= bytes_max; no two entries share an id or a
 * (signer, seq).
 *
 * Rejected cache: a ring of rej_max slots, oldest overwritten first, indexed by
 * a chained hash table of slot numbers. A slot is live while it is in the index;
 * forgetting an id unlinks its slot, which the ring reuses in turn.
 */
#ifndef VECHE_MEMPOOL_POOL_H
#define VECHE_MEMPOOL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

#define POOL_LEVELS_MAX 12 /* skip list: 4^12 = 16M entries before it degrades */
#define POOL_HASH_KEY_BYTES 16

typedef struct pool_entry pool_entry_t;
struct pool_entry {
  uint8_t id[LEDGER_HASH_BYTES];
  uint8_t signer[VCRYPTO_PK_BYTES];
  uint64_t seq;
  uint64_t expiry;
  uint64_t hash;                 /* keyed hash of id */
  pool_entry_t *hash_next;       /* id index chain */
  pool_entry_t *q_prev, *q_next; /* admission queue */
  size_t heap_pos;               /* position in the expiry heap */
  uint64_t reap_stamp;           /* on a signer's lowest entry: the reap that set... */
  pool_entry_t *reap_cursor;     /* ... its next tx to emit (NULL: none left) */
  uint8_t *bytes;                /* the encoded tx, in this allocation */
  size_t len;
  unsigned levels;               /* skip list height, 1..POOL_LEVELS_MAX */
  pool_entry_t *sl_next[];       /* levels successors in the seq index */
};

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
  int32_t code;
  uint32_t next; /* next slot in the same bucket, REJ_NONE at the end */
  bool live;
} pool_rej_t;

typedef struct {
  size_t txs_max, bytes_max;
  size_t count, bytes;
  uint8_t hash_key[POOL_HASH_KEY_BYTES];
  pool_entry_t **buckets; /* id index */
  size_t bucket_mask;
  pool_entry_t *q_head, *q_tail;
  pool_entry_t *sl_head;  /* sentinel with POOL_LEVELS_MAX levels */
  pool_entry_t **heap;    /* txs_max slots */
  uint64_t reap_stamp;
  pool_rej_t *rej;        /* ring of rej_max slots */
  uint32_t *rej_buckets;
  size_t rej_max, rej_mask, rej_head, rej_used, rej_live;
} pool_t;

/* Sizes every index from the bounds (each >= 1) and draws the hash key from the
 * OS RNG. Returns 0 or VE_ERR_NOMEM. */
int pool_init(pool_t *p, size_t txs_max, size_t bytes_max, size_t rej_max);
/* Frees the indexes and every pending entry. */
void pool_destroy(pool_t *p);

/* A detached entry holding a copy of tx (not yet in the pool). NULL on OOM. */
pool_entry_t *pool_entry_new(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES],
                             const ledger_tx_t *d, ve_slice_t tx);
void pool_entry_free(pool_entry_t *e);

pool_entry_t *pool_find(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES]);
/* 0 if e could be inserted now, else VE_ERR_DUPLICATE (same id), VE_ERR_STALE_SEQ
 * (same signer and seq) or VE_ERR_FULL (a bound), in that order. */
int pool_can_insert(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES],
                    const uint8_t signer[VCRYPTO_PK_BYTES], uint64_t seq, size_t len);
/* Inserts e; pool_can_insert must have said 0. */
void pool_insert(pool_t *p, pool_entry_t *e);
/* Unlinks e from every structure (the caller frees it). */
void pool_remove(pool_t *p, pool_entry_t *e);
/* The pending entry with the lowest expiry, or NULL if empty. */
pool_entry_t *pool_expiry_min(const pool_t *p);
/* Fills out[0..) (room for min(max_txs, count) entries) with the next block's
 * transactions in the order documented at mempool_reap. Out: *n_out, *bytes_out. */
void pool_reap(pool_t *p, size_t max_txs, size_t max_bytes, pool_entry_t **out, size_t *n_out,
               size_t *bytes_out);

/* Rejected cache. put overwrites the code of an id already remembered. */
void pool_rej_put(pool_t *p, const uint8_t id[LEDGER_HASH_BYTES], int code);
bool pool_rej_get(const pool_t *p, const uint8_t id[LEDGER_HASH_BYTES], int *code_out);
void pool_rej_forget(pool_t *p, const uint8_t id[LEDGER_HASH_BYTES]);

#endif
