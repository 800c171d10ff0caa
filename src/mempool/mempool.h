/* mempool.h — transactions waiting to be put in blocks: admission, dedupe, bounds.
 *
 * The mempool is the node's front door for transactions. Every transaction is
 * checked once on admission — decoding, chain id, expiry window, type, signature,
 * signer status and sequence, and a dry run of the owning application against
 * the committed state — so that a block built from the pool holds transactions
 * that were valid when they arrived, and so that block validation can skip the
 * signatures the pool already verified (mempool_sig_checked).
 *
 * Admission order of checks (docs/mempool.md): size, decode, chain, expiry,
 * type, pending duplicate / pending seq conflict / pool full (cheap, under the
 * lock, before any expensive work), committed duplicate, signature, signer and
 * sequence and application dry run, then the pending and bound checks again at
 * insertion. The first failing check gives the rejection reason.
 *
 * Thread model: every function is thread-safe. One mutex guards the pool's
 * structures; decoding, hashing, signature verification and the state checks
 * (which open a read transaction on the store) run outside it, so admissions
 * from many HTTP threads verify in parallel. The lock is never held while a
 * store transaction is opened, so a thread that holds the store's writer (e.g.
 * the block producer inside ledger_block_validate) may call into the pool.
 *
 * Limits: txs_max pending transactions and bytes_max bytes of encoded
 * transactions (per-transaction bookkeeping is bounded by txs_max); both are
 * checked before anything is allocated. Below them, an admit limit set by the
 * node (mempool_set_admit_limit: what the chain commits in a few seconds)
 * applies to client submissions only (mempool_add_client), which it refuses as
 * VE_ERR_BUSY before verifying them; transactions from peers (mempool_add) are
 * bound by the hard limits alone, so that validators do not miss what another
 * one admitted (docs/mempool.md, "Back-pressure"). Recent rejections (including pending
 * transactions dropped because they expired) are remembered in a FIFO cache of
 * rejected_cache_max entries so that clients can ask why a transaction failed.
 *
 * Ownership: the pool copies every admitted transaction; callers keep ownership
 * of what they pass in. A batch returned by mempool_reap owns its memory and is
 * released with mempool_batch_free. The registry passed to mempool_new is
 * borrowed and must outlive the pool.
 */
#ifndef VECHE_MEMPOOL_MEMPOOL_H
#define VECHE_MEMPOOL_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define MEMPOOL_TXS_MAX_DEFAULT 200000
#define MEMPOOL_BYTES_MAX_DEFAULT ((size_t)256 * 1024 * 1024)
#define MEMPOOL_REJECTED_CACHE_MAX_DEFAULT 100000
/* Hard ceilings on the configuration: the index arrays are sized from it. */
#define MEMPOOL_TXS_MAX_LIMIT (4u * 1024 * 1024)
#define MEMPOOL_REJECTED_CACHE_MAX_LIMIT (4u * 1024 * 1024)
/* Times an admission re-runs its state checks because blocks committed while it
 * ran (each rerun is rare: it needs a block commit during one admission). */
#define MEMPOOL_ADMIT_RETRIES_MAX 8
/* Of those attempts, how many run the dry run (step 9 of docs/mempool.md); the
 * later ones check only that the tx is not committed, which takes microseconds,
 * so a commit cannot overtake them all. */
#define MEMPOOL_DRY_RUNS_MAX 2

typedef struct mempool mempool_t;

/* A zero field means its default. */
typedef struct {
  size_t txs_max;            /* pending transactions (MEMPOOL_TXS_MAX_DEFAULT) */
  size_t bytes_max;          /* sum of pending encoded tx sizes (MEMPOOL_BYTES_MAX_DEFAULT) */
  size_t rejected_cache_max; /* remembered rejections (MEMPOOL_REJECTED_CACHE_MAX_DEFAULT) */
} mempool_config_t;

/* Transactions picked for a block. Owns all of its memory. */
typedef struct {
  size_t n;                             /* number of transactions */
  size_t bytes;                         /* sum of their encoded sizes */
  ve_slice_t *txs;                      /* n slices into data */
  uint8_t (*ids)[LEDGER_HASH_BYTES];    /* n transaction ids, same order */
  uint8_t *data;                        /* the encoded transactions, back to back */
} mempool_batch_t;

/* Counters for /metrics. *_total count since mempool_new. */
typedef struct {
  size_t txs;                  /* pending now */
  size_t bytes;                /* pending bytes now */
  size_t rejected_cached;      /* entries in the rejected cache now */
  uint64_t admitted_total;
  uint64_t rejected_total;     /* admissions refused, any reason */
  uint64_t committed_total;    /* removed by mempool_on_commit as committed */
  uint64_t expired_total;      /* dropped by mempool_on_commit as expired */
  uint64_t retries_total;      /* state checks re-run because a block committed meanwhile */
  uint64_t busy_total;         /* client submissions refused as VE_ERR_BUSY (also in rejected_total) */
  size_t admit_limit;          /* current admit limit; 0: none */
} mempool_stats_t;

/* Creates a pool. cfg may be NULL (all defaults). reg is borrowed (outlives the
 * pool). Returns 0, VE_ERR_CONFIG for a field above its *_LIMIT, VE_ERR_NOMEM,
 * VE_ERR_CRYPTO. Out: *out, freed with mempool_free. */
int mempool_new(const mempool_config_t *cfg, const ledger_registry_t *reg, mempool_t **out);
/* Frees the pool and every pending transaction. NULL is allowed. No other call
 * may be in progress. */
void mempool_free(mempool_t *mp);

/* Admits one encoded transaction. Thread-safe; see the top of this file for the
 * order of checks and what runs outside the lock.
 * In: store — the node's store (a read txn is opened inside for the state
 *     checks); chain_id — this chain's id; height — the height the next block will
 *     have; tx — the encoded transaction (copied on admission).
 * Out: id_out (may be NULL) — the transaction id H("veche/tx/id", tx), always set.
 * Returns 0 (admitted) or the reason it was refused:
 *   VE_ERR_TOO_BIG      tx longer than VE_TX_BYTES_MAX
 *   VE_ERR_MALFORMED, VE_ERR_NONCANONICAL, VE_ERR_TRAILING, VE_ERR_VERSION  (decoding)
 *   VE_ERR_WRONG_CHAIN  tx names another chain
 *   VE_ERR_EXPIRED      expiry < height, or expiry > height + VE_TX_EXPIRY_WINDOW_BLOCKS
 *   VE_ERR_UNKNOWN_TYPE no application of the registry owns the type
 *   VE_ERR_DUPLICATE    the same id is pending, or already committed
 *   VE_ERR_BAD_SIG      the signature does not verify
 *   VE_ERR_UNKNOWN_SIGNER, VE_ERR_REVOKED, VE_ERR_SUSPENDED  (signer status)
 *   VE_ERR_STALE_SEQ    seq <= the signer's committed sequence, or another pending
 *                       tx of the same signer has the same seq
 *   VE_ERR_PERMISSION or any other application code, from a dry run of the tx
 *                       against the committed state (never written)
 *   VE_ERR_FULL         txs_max or bytes_max would be exceeded
 *   VE_ERR_TIMEOUT      blocks kept committing during the admission (retry)
 *   VE_ERR_NOMEM, VE_ERR_STORE, VE_ERR_CORRUPT  (node trouble, not the tx's fault)
 * Every refusal is remembered in the rejected cache under the tx id.
 * Note: the dry run sees committed state only, not other pending transactions
 * (e.g. a key rotation queued behind the registration it depends on is refused
 * until that registration commits). */
int mempool_add(mempool_t *mp, store_t *store, ve_slice_t chain_id, uint64_t height, ve_slice_t tx,
                uint8_t id_out[LEDGER_HASH_BYTES]);

/* A client submission: mempool_add, except that while an admit limit is set
 * and at least that many transactions are pending, a transaction that passed
 * the cheap checks under the lock (step 6 of docs/mempool.md: not pending, its
 * seq not taken, room under the hard bounds) is refused with
 * VE_ERR_BUSY — before its signature is verified or the store is read. Busy
 * refusals are transient, so they are counted (busy_total) but not remembered
 * in the rejected cache, where they would push out real refusals. The limit
 * is checked at that step only, not again at insertion: concurrent admissions
 * may overshoot it by the number of threads admitting at once. */
int mempool_add_client(mempool_t *mp, store_t *store, ve_slice_t chain_id, uint64_t height,
                       ve_slice_t tx, uint8_t id_out[LEDGER_HASH_BYTES]);

/* Sets the admit limit of mempool_add_client: client submissions are refused
 * as busy while n or more transactions are pending. 0 removes the limit (only
 * txs_max and bytes_max apply). Thread-safe; the node calls it after each
 * commit with a limit derived from its measured commit rate. */
void mempool_set_admit_limit(mempool_t *mp, size_t n);
/* Would a client submission be refused as busy right now (pending >= the
 * admit limit)? */
bool mempool_busy(mempool_t *mp);
/* mempool_busy, and if so counts n client submissions refused as busy
 * (busy_total and rejected_total), as mempool_add_client counts its own: lets
 * a caller refuse a whole batch of n without looking at it, and the counts
 * still say how many were refused. */
bool mempool_refuse_if_busy(mempool_t *mp, size_t n);

/* Picks up to max_txs transactions totalling at most max_bytes for the next
 * block, without removing them: in admission order, except that each signer's
 * transactions appear in increasing seq order (the k-th slot a signer holds in
 * admission order gets its k-th lowest pending seq). Stops at the first
 * transaction that does not fit in max_bytes. Out: *out (free with
 * mempool_batch_free; zeroed first). Returns 0 or VE_ERR_NOMEM. */
int mempool_reap(mempool_t *mp, size_t max_txs, size_t max_bytes, mempool_batch_t *out);
/* Frees a batch's memory and zeroes it. NULL and a zeroed batch are allowed. */
void mempool_batch_free(mempool_batch_t *b);

/* After a block commits: removes the ids (those not pending are ignored), then
 * drops every pending tx whose expiry < next_height (remembered in the rejected
 * cache as VE_ERR_EXPIRED). ids is borrowed. */
void mempool_on_commit(mempool_t *mp, const uint8_t (*ids)[LEDGER_HASH_BYTES], size_t n,
                       uint64_t next_height);

/* Is id pending? */
bool mempool_has(mempool_t *mp, const uint8_t id[LEDGER_HASH_BYTES]);
/* Was id refused recently? If so and code_out is not NULL, *code_out gets the
 * reason. A later successful admission of the same id forgets the refusal. */
bool mempool_rejected(mempool_t *mp, const uint8_t id[LEDGER_HASH_BYTES], int *code_out);

/* Signature cache for ledger_block_validate (shape of ledger_sig_cache_fn; ctx is
 * the mempool_t *): true iff id is pending, i.e. exactly these bytes had their
 * signature verified on admission. */
bool mempool_sig_checked(void *mp, const uint8_t id[LEDGER_HASH_BYTES]);

size_t mempool_size(mempool_t *mp);
size_t mempool_bytes(mempool_t *mp);
void mempool_stats_get(mempool_t *mp, mempool_stats_t *out);

#endif
