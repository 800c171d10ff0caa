/* node_verify.h — a small pool of threads for the stateless checks of blocks.
 *
 * Validating a block that did not come through this node's mempool (catch-up,
 * another validator's proposal) costs one signature check per transaction, and
 * the identity app's subgroup check of each new key at execution: ~85 µs per
 * registration on this machine's cores, against ~25 µs for everything else the
 * single loop thread does with the block. The pool runs ledger_tx_precheck for
 * the transactions of a block on NODE_VERIFY threads (as many as online cores)
 * while the thread that needs the verdicts works on the same block, and it can
 * start on blocks ahead of their validation (catch-up pushes the next blocks,
 * node_net.c), so that the checks of block h+1 overlap the commit of block h.
 * The ledger stays single-threaded and deterministic: it only receives the
 * verdicts (ledger_block_validate_prechecked), the same ones it would reach.
 *
 * Jobs. A job is one block: an owned copy of its bytes, decoded, cut into
 * chunks of NODE_VERIFY_CHUNK_TXS transactions that workers and the waiting
 * caller claim one at a time. A job started ahead waits in the pool until its
 * block is validated (node_verify_block takes it over) or committed past
 * (node_verify_prune drops it). Every wait is bounded: a caller waits at most
 * NODE_VERIFY_WAIT_MS (wait_ms) for chunks other threads still hold, and any verdict not
 * in by then is reported as LEDGER_PRECHECK_NONE (the ledger checks those
 * transactions itself), so a stalled worker slows validation, never blocks it.
 *
 * Thread-safety: every function may be called from any thread, but
 * node_verify_free only when no other call is in progress.
 */
#ifndef VECHE_NODE_NODE_VERIFY_H
#define VECHE_NODE_NODE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "ledger/ledger.h"

#define NODE_VERIFY_THREADS_MAX 64
#define NODE_VERIFY_CHUNK_TXS 16          /* transactions claimed at once (~1.5 ms of checks) */
#define NODE_VERIFY_JOBS_MAX 16           /* blocks in the pool, ahead or being validated */
#define NODE_VERIFY_AHEAD_BLOCKS_MAX 8    /* of those, blocks started ahead of validation */
#define NODE_VERIFY_AHEAD_BYTES_MAX ((size_t)64 * 1024 * 1024) /* their bytes together */
#define NODE_VERIFY_WAIT_MS 20000         /* a caller's wait for chunks held by workers */
#define NODE_VERIFY_IDLE_MS 1000          /* an idle worker re-checks for stop this often */

typedef struct node_verify node_verify_t;

typedef struct {
  const ledger_registry_t *reg; /* borrowed; must outlive the pool */
  ve_slice_t chain_id;          /* copied; 1..VE_CHAIN_ID_BYTES_MAX bytes */
  size_t threads;               /* workers; 0: the number of online cores */
  /* May be NULL. Transactions it vouches for (e.g. mempool_sig_checked: the
   * mempool verified them at admission) are not checked again and get
   * LEDGER_PRECHECK_NONE. Called on worker threads: must be thread-safe. */
  ledger_sig_cache_fn sig_checked;
  void *sig_ctx;
  uint32_t wait_ms;             /* a caller's wait for chunks; 0: NODE_VERIFY_WAIT_MS */
} node_verify_config_t;

/* Starts the workers. Returns 0, VE_ERR_INVALID (bad config), VE_ERR_NOMEM or
 * VE_ERR_IO (a thread would not start). *out is owned by the caller. */
int node_verify_new(const node_verify_config_t *cfg, node_verify_t **out);
/* Stops and joins the workers and frees every job. v may be NULL. */
void node_verify_free(node_verify_t *v);
size_t node_verify_threads(const node_verify_t *v);

/* Starts the checks of an encoded block on the workers and returns at once
 * (the block is copied and decoded here; the workers do the rest). height is
 * the height the sender claims for it. Returns 0; VE_ERR_EXISTS (that block is
 * in the pool already); VE_ERR_FULL (NODE_VERIFY_AHEAD_* or JOBS_MAX reached:
 * the block is simply checked when it is validated); a decoding error of
 * ledger_block_decode or VE_ERR_INVALID (the header's height is not `height`):
 * the sender sent garbage; VE_ERR_NOMEM. */
int node_verify_ahead(node_verify_t *v, uint64_t height, ve_slice_t block);

/* The verdicts for the transactions of b (decoded by the caller from `block`,
 * whose header hash is id): out[i] (b->tx_count entries, caller's memory) is
 * ledger_tx_precheck's verdict on b->txs[i], or LEDGER_PRECHECK_NONE when the
 * pool did not check it (sig_checked vouched for it, the pool was full, or it
 * was still held by a worker after wait_ms). Takes over a job
 * started ahead for this block (matched by id and tx ids) or starts one; either
 * way the calling thread checks chunks too until none is left. Returns 0 or
 * VE_ERR_NOMEM (then nothing was checked: out is all LEDGER_PRECHECK_NONE). */
int node_verify_block(node_verify_t *v, const ledger_block_t *b, ve_slice_t block,
                      const uint8_t id[LEDGER_HASH_BYTES], int32_t *out);

/* Drops the jobs started ahead for heights ≤ height (a block was committed
 * there: they were for another block, or will never be asked for). */
void node_verify_prune(node_verify_t *v, uint64_t height);

typedef struct {
  uint64_t blocks;          /* node_verify_block calls */
  uint64_t blocks_ahead;    /* of those, served by a job started ahead */
  uint64_t ahead_started;   /* node_verify_ahead calls that started a job */
  uint64_t ahead_refused;   /* ... that found the pool full */
  uint64_t ahead_pruned;    /* jobs ahead dropped by node_verify_prune */
  uint64_t txs_checked;     /* ledger_tx_precheck calls */
  uint64_t txs_vouched;     /* transactions sig_checked vouched for */
  uint64_t txs_by_caller;   /* of txs_checked, by threads in node_verify_block */
  uint64_t waits_timed_out; /* node_verify_block calls that gave up on a chunk */
} node_verify_stats_t;
void node_verify_stats(node_verify_t *v, node_verify_stats_t *out);

#endif
