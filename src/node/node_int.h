/* node_int.h — the node's insides, shared by node.c (loop, pipeline) and
 * node_api.c (HTTP handlers). Not a public header. */
#ifndef VECHE_NODE_NODE_INT_H
#define VECHE_NODE_NODE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "api/api.h"
#include "consensus/consensus.h"
#include "ledger/ledger.h"
#include "mempool/mempool.h"
#include "node/config.h"
#include "node/node.h"
#include "proof/proof.h"
#include "store/store.h"

#define NODE_ROUTES_MAX 128 /* routes of all tables together */
/* Local commit times of the last blocks, for GET /v1/commits (latency
 * measurement from the node's own commit events). */
#define NODE_COMMIT_TIMES_MAX 4096

/* Group commit (node.c): an observer that is behind keeps one LMDB write
 * transaction open over several consecutive committed blocks and makes them
 * durable together; node.c's top comment has the rules and why. */
/* blocks per group: config sync_group_blocks (config.h) */
/* Flush once a group holds this many txs: bounds the dirty pages a write txn
 * keeps in memory (LMDB spills past 128 Ki pages) and what a crash makes the
 * observer fetch again (~1-2 s of sync). */
#define NODE_GROUP_TXS_MAX 20000
/* ... or was opened this long ago. Bounds how long the API lags the loop
 * while behind, when it lags the network by NODE_GROUP_BEHIND_MS or more
 * anyway. 500 ms cut the groups of a 1M-tx sync to 2-7 blocks (a block of
 * 1,000-3,400 txs takes 100-300 ms to execute) and cost 10-20 % more observer
 * CPU per tx than 2000 (bench/sync/results/README.md). */
#define NODE_GROUP_AGE_MS_MAX 2000
/* ... or no block followed for this long: caught up, or the peer stalled. The
 * next decision of a catch-up comes one round trip after a commit (well under
 * a millisecond to a few on a LAN). */
#define NODE_GROUP_IDLE_MS 50
/* A block whose header time is this much before our clock: we are behind.
 * Above a live block's decide-to-commit delay plus the clock skew of a LAN;
 * a misjudged live block is shown at most NODE_GROUP_IDLE_MS late (or
 * NODE_GROUP_AGE_MS_MAX if blocks come faster than that). */
#define NODE_GROUP_BEHIND_MS 2000

/* Pruning (config state_keep_blocks): at most this many state entries deleted
 * after each block, so that a backlog (a window made shorter) costs each block
 * a bounded time: ~2.5 µs and one dirtied 4 KiB page per deletion, so about
 * 125 ms of CPU at most (docs/state.md §9). A block of 10,000 key updates
 * makes about 29,000 entries stale, so deletions keep up with sustained full
 * blocks and catch up when the load eases. */
#define NODE_PRUNE_ENTRIES_PER_BLOCK 50000

/* Flow control (node_cons.c; docs/mempool.md "Back-pressure", docs/operations.md).
 * The rules are pure functions of numbers the node measures, so that a unit
 * test drives them with made-up timings (tests/unit/node/flow_test.c). */
/* Adaptive block size: a proposer's cap never goes below this (nor above
 * block_txs_max; if block_txs_max is lower, that is the cap). */
#define NODE_BLOCK_TXS_MIN 100
/* Heights with fewer txs than this measure the per-block cost, the others the
 * per-tx cost on top of it. */
#define NODE_COST_SMALL_TXS 32
/* Weight of the newest height in the cost averages. */
#define NODE_COST_WEIGHT 0.3
/* Commit rate: a time-weighted average over about this window. */
#define NODE_RATE_WINDOW_MS 5000
/* Back-pressure floor: never busy while fewer than this many blocks of
 * block_txs_max are pending, so an idle or just-started node takes a burst. */
#define NODE_ADMIT_FLOOR_BLOCKS 2

/* What a height costs this node on its loop thread (validate + execute +
 * commit), in ms: fixed per block, plus per tx. 0: not measured yet. */
typedef struct {
  double block_ms, tx_ms;
} node_cost_t;

/* Folds one height that took ms with txs transactions into c. */
void node_cost_update(node_cost_t *c, uint64_t ms, size_t txs);
/* The proposer's cap: as many txs as fit in target_ms at cost c, clamped to
 * [min(NODE_BLOCK_TXS_MIN, txs_max), txs_max]. target_ms 0 or nothing
 * measured: txs_max. */
size_t node_block_txs_cap(uint32_t target_ms, const node_cost_t *c, size_t txs_max);
/* Committed txs per second, updated by a commit of txs after dt_ms (dt_ms 0
 * allowed: several blocks committed at once). */
double node_commit_rate_update(double rate, size_t txs, uint64_t dt_ms);
/* Client admit limit for the mempool: rate * backlog_s, at least
 * NODE_ADMIT_FLOOR_BLOCKS * block_txs_max; backlog_s 0: 0 (no limit). */
size_t node_admit_limit(double rate, uint32_t backlog_s, size_t block_txs_max);
/* Retry-After for a busy refusal: the seconds the chain takes to commit one
 * block of block_txs at rate, rounded up, within [1, max(1, backlog_s)]. */
unsigned node_retry_after_s(double rate, size_t block_txs, uint32_t backlog_s);

struct node {
  node_config_t cfg;
  ledger_genesis_t genesis;
  uint8_t genesis_hash[LEDGER_HASH_BYTES];
  vcrypto_keypair_t key;
  bool has_key;
  /* has_key and a member of vsets[0] (the set of applied + 1): it proposes in
   * its turns. A node that does not (an observer, or a validator key outside
   * the set: joining, or gone) reaches the chain only through its gossip, so it
   * owes validators the gossip re-send (node_net.c). Written by the loop
   * thread with the sets (vsets_load), read by API threads. */
  atomic_bool member;
  vcrypto_keypair_t node_key;       /* peer links: the validator key, or node.key */
  struct node_net *net;             /* peer links (node_net.c); NULL: a network of one */
  struct node_verify *verify;       /* signature-check workers (node_verify.c); NULL: inline */
  _Atomic uint64_t peers;           /* peers up, for API threads */
  store_t *store;
  mempool_t *mempool;
  api_metrics_t *metrics;
  api_server_t *api;
  api_route_t routes[NODE_ROUTES_MAX]; /* borrowed by the API server until stop */
  uv_loop_t loop;
  uv_async_t wake;  /* a tx was admitted */
  uv_async_t stop;  /* node_stop */
  uv_timer_t tick;  /* heartbeat for empty blocks */
  uv_timer_t fill;  /* one shot: a proposer waiting for its block to fill (node_cons.c) */
  uv_signal_t sigint, sigterm;
  _Atomic uint64_t height;          /* last durable height, for API threads (published at flush) */
  uint64_t applied;                 /* loop thread: last height executed, durable or in the group */
  /* The open group (loop thread only; node.c). Invariant: group == NULL iff
   * group_blocks == 0 iff applied == height; else heights height+1..applied
   * are executed in group and visible to nothing but the loop thread. */
  store_txn_t *group;
  size_t group_blocks;
  uint64_t group_txs;
  uint64_t group_opened_ms;
  ve_buf_t group_ids;               /* tx ids of its blocks, for mempool_on_commit */
  uv_timer_t group_timer;           /* flushes a group nobody extends (idle, age) */
  uint64_t group_commits;           /* durable block commits (txns), for the log */
  _Atomic uint64_t txs_committed;   /* since start */
  uint64_t last_block_ms;           /* wall clock of the last commit */
  bool last_block_had_txs;
  size_t last_block_txs;            /* txs of the last block committed */
  /* flow control (node_cons.c, loop thread unless said otherwise) */
  node_cost_t cost;                 /* measured cost of a height */
  uint64_t height_work_ms;          /* validations spent on the current height */
  double commit_rate;               /* committed txs per second */
  size_t block_txs_cap;             /* what our next proposal may hold */
  _Atomic uint32_t retry_after_s;   /* for busy refusals; any thread */
  api_metric_t *m_busy, *m_admit_limit, *m_block_cap, *m_commit_rate;
  pthread_mutex_t commit_mu;        /* guards commit_times (HTTP threads read it) */
  struct {
    uint64_t height, ms;
  } commit_times[NODE_COMMIT_TIMES_MAX]; /* ring indexed by height */
  /* consensus */
  cons_engine_t *cons;
  /* The validator sets governing the heights after the last applied block:
   * vsets[i] governs applied + 1 + i. A change executed in block h governs
   * from h + CONS_VALSET_DELAY (src/apps/valset), so both are known once
   * `applied` is. Read from the state at open, moved along by every commit
   * (node_pipeline_commit); loop thread only. Validation and proposals read
   * the set of their height from the state itself. */
  cons_valset_t vsets[CONS_VALSET_DELAY];
  uint64_t rec_next;                /* key of the next persisted consensus record */
  bool want_proposal;               /* the engine asked us to propose (prop_height, prop_round) */
  uint64_t prop_height;
  uint32_t prop_round;
  size_t timers;                    /* consensus timers pending */
  struct cons_timer *timer_list;    /* those timers, to close them at stop */
  bool fatal;                       /* a write the engine relies on failed: stop */
  /* Protocol upgrades (src/apps/upgrade). halt_protocol: the protocol of
   * applied + 1 when this release does not implement it (0 otherwise); the
   * commit that learns it makes its block durable and the node stops, fatal
   * set so the engine is fed nothing more (node_cons.c). upgrade_warned_from:
   * the height of the last scheduled-but-unimplemented upgrade logged. */
  uint64_t halt_protocol, upgrade_warned_from;
  api_metric_t *m_upgrade_height;   /* from height of an unimplemented upgrade, 0: none */
  uint64_t evidence_seq;            /* next sequence for evidence txs we sign */
  ve_buf_t rec_pending;             /* PERSIST records not yet on disk (see node_cons.c) */
  size_t rec_pending_lens[64];
  size_t rec_pending_n;
  /* metrics */
  api_metric_t *m_height, *m_txs, *m_blocks, *m_mempool, *m_rejected, *m_block_ms;
  api_metric_t *m_store_commits;    /* durable write txns that carried blocks */
  api_metric_t *m_pruned;           /* state entries deleted by pruning */
  /* consensus (node_cons.c): timers that fired, the round each height was
   * decided in, commits decided after round 0, time between commits */
  api_metric_t *m_cons_timeouts, *m_cons_round, *m_cons_late, *m_cons_height_s;
  uint64_t cons_last_commit_ms;     /* loop thread */
  uint64_t cons_busy_ms;            /* last height's duration less our own fill wait */
  uint64_t fill_since_ms;           /* when this proposal started waiting to fill; 0 */
  uint64_t fill_waited_ms;          /* fill wait inside the current height */
  _Atomic uint64_t cons_timeouts, cons_late_commits; /* the same, for /v1/status */
  _Atomic uint32_t cons_last_round;
  /* Restored stores (node_backup.c): the engine signs nothing below this
   * height (0: none); any thread reads it for /v1/status. sign_from_done: a
   * commit in the open group deleted the stored height (loop thread). */
  _Atomic uint64_t sign_from;
  bool sign_from_done;
};

ve_slice_t node_chain_id(const node_t *n);
/* The block pipeline (node.c). */
/* Builds the next block into out; id_out gets its hash (the consensus value id). */
int node_pipeline_propose(node_t *n, ve_buf_t *out, uint8_t id_out[LEDGER_HASH_BYTES]);
int node_pipeline_validate(node_t *n, ve_slice_t block, const uint8_t id[LEDGER_HASH_BYTES]);
/* Executes block with cert in the open group's write txn (or a new one) and
 * either keeps the txn open (an observer behind, see node.c) or commits it
 * durably and publishes every height in it. On failure the whole open txn is
 * aborted (heights after n->height are gone) and the caller must stop. */
int node_pipeline_commit(node_t *n, ve_slice_t block, ve_slice_t cert);
/* Commits the open group durably, then publishes its heights (n->height, commit
 * times, metrics, mempool). No group: 0. On failure nothing is published and
 * the caller must stop (node_cons_fatal). Loop thread; call it before this
 * thread begins any other write transaction. */
int node_group_flush(node_t *n);
/* The consensus driver (node_cons.c), on the loop thread. */
int node_cons_start(node_t *n);
void node_cons_poll(node_t *n);   /* a tx arrived or the heartbeat ticked */
void node_cons_stop(node_t *n);
/* A write the engine relies on failed: log, mark n->fatal and stop the loop. */
void node_cons_fatal(node_t *n, const char *what, int rc);
/* Called inside a block's write transaction: the decided height's consensus
 * records become obsolete with it, so they are dropped in the same txn. */
int node_cons_block_txn(node_t *n, store_txn_t *t);
/* Restored stores (node_backup.c): at open, after the store, reads the
 * backup mark and the stored sign-from height, refuses a marked validator
 * without --sign-from (VE_ERR_STATE, err says why and what to do), and sets
 * n->sign_from. */
int node_sign_from_open(node_t *n, char *err, size_t err_len);
/* In block height's write txn: deletes the stored sign-from height once
 * height reaches it. */
int node_sign_from_block_txn(node_t *n, store_txn_t *t, uint64_t height);
/* A consensus message from peer: the engine's verdict (an error means the
 * message was bad; node_net.c decides about the peer). */
int node_cons_on_message(node_t *n, uint64_t peer, ve_slice_t msg);
uint64_t node_now_ms(void);
/* Peer links (node_net.c), loop thread unless said otherwise. */
int node_net_start(node_t *n);
void node_net_stop(node_t *n);  /* keep running the loop afterwards */
void node_net_free(node_t *n);  /* after the loop has finished */
size_t node_net_peers(const node_t *n);
size_t node_net_broadcast(node_t *n, ve_slice_t msg);
void node_net_send(node_t *n, uint64_t peer, ve_slice_t msg);
void node_net_send_decision(node_t *n, uint64_t peer, uint64_t height);
/* Any thread: queue an admitted transaction for gossip (flushed by node_net_flush). */
void node_net_gossip_tx(node_t *n, ve_slice_t tx);
void node_net_flush(node_t *n);
/* Loop thread, after a commit changed n->vsets: peers' validator flags and the
 * allowlist follow the new sets. */
void node_net_vsets_changed(node_t *n);
typedef struct {
  uint64_t gossip_in, gossip_out, gossip_dropped;
  uint64_t gossip_resent; /* pending txs re-sent to validators whose link came up (observers) */
  uint64_t banned; /* peers banned: bad frames at the transport or above, floods */
  uint64_t catchup_repeats; /* a peer's catch-up request for a height it just asked: dropped */
} node_net_stats_t;
void node_net_stats(const node_t *n, node_net_stats_t *out); /* any thread */
/* Documents' blob store (node_blobs.c). Called inside a block's write
 * transaction after the ledger applied b: removes blobs the block erased. */
int node_docs_block_txn(node_t *n, store_txn_t *t, const ledger_block_t *b);
/* Route tables, one per file serving them: node_api.c (chain, identities,
 * proofs, status), node_api_docs.c (documents and blobs), node_api_polls.c
 * (polls). node_routes_collect concatenates them into out. */
extern const api_route_t node_core_routes[];
extern const size_t node_core_routes_n;
extern const api_route_t node_doc_routes[];
extern const size_t node_doc_routes_n;
extern const api_route_t node_poll_routes[];
extern const size_t node_poll_routes_n;
extern const api_route_t node_property_routes[]; /* node_api_property.c */
extern const size_t node_property_routes_n;
extern const api_route_t node_gov_routes[]; /* node_api_gov.c */
extern const size_t node_gov_routes_n;
extern const api_route_t node_pharma_routes[]; /* node_api_pharma.c */
extern const size_t node_pharma_routes_n;
size_t node_routes_collect(api_route_t *out, size_t cap);
/* Helpers shared by the node_api*.c handlers (node_api.c). */
json_t *node_api_hex(const uint8_t *p, size_t n);  /* a JSON hex string; json_null() on OOM */
/* :name as 64 hex chars into out; else a 400 "malformed" answer. */
int node_api_param_hash(const api_request_t *req, const char *name, uint8_t out[32], api_response_t *resp);
/* A read transaction; else a 5xx answer. */
int node_api_begin_read(node_t *n, store_txn_t **t, api_response_t *resp);
/* Local wall-clock time (ms) at which height was committed here; 0 if unknown
 * (before this process started, or out of the ring). Any thread. */
uint64_t node_commit_time(node_t *n, uint64_t height);
/* Flow control after a commit, or at start (node_cons.c): recomputes the
 * commit rate, the block cap, the mempool's admit limit and the Retry-After,
 * and shows them in /metrics. committed false (at start): only derives them.
 * took_ms: since the previous commit (0 if none); work_ms: what the committed
 * height (n->last_block_txs txs) cost this node on the loop thread. */
void node_flow_update(node_t *n, bool committed, uint64_t took_ms, uint64_t work_ms);
/* The proof bundle (docs/proofs.md) for state key at ?height=H (default: the
 * latest state a block certifies), with the validator-set changes after
 * ?valsets_after=K (default 0: all), into *b (initialised by the caller, who
 * frees it); else an error answer: 409 too_early before a block certifies
 * that height, 410 pruned below the oldest height this node keeps. */
int node_proof_bundle(node_t *n, const api_request_t *req, api_response_t *resp, ve_slice_t key,
                      proof_bundle_t *b);
/* ?valsets_after=K of a proof request (0 when absent); else 400 malformed. */
int node_proof_valsets_after(const api_request_t *req, api_response_t *resp, uint64_t *after);
/* node_proof_bundle, answered as the bundle itself. */
int node_proof_response(node_t *n, const api_request_t *req, api_response_t *resp, ve_slice_t key);

#endif
