/* node.c — opening a node, its event loop and the block pipeline.
 *
 * The pipeline has three steps, the same ones the BFT engine asks for:
 *   propose  reap the mempool and build the next block on the tip;
 *   validate check a block against the tip: its transactions' signatures on
 *            every core (node_verify.c), the rest in the ledger
 *            (ledger_block_validate_prechecked);
 *   commit   store and execute it with its certificate in a write txn.
 * The consensus engine drives them through its REQUEST_PROPOSAL / VALIDATE /
 * COMMIT actions (node_cons.c), with one validator exactly as with many.
 *
 * Group commit. A validator makes each block durable in its own write txn
 * (one fsync) before the engine moves on: its votes for the next height must
 * not rest on a block a crash could take back. An observer (no validator key)
 * signs nothing, so while it is behind it keeps ONE write txn open over
 * consecutive blocks and commits them together: one fsync, and pages dirtied
 * by several blocks (the state tree's upper nodes, the indexes' last pages)
 * written once. Block h+1 is validated and executed through that txn, so it
 * sees h. States:
 *   NONE  group == NULL, applied == height.
 *   OPEN  group holds heights height+1 .. applied, executed, not durable,
 *         seen only by the loop thread.
 * NONE -> OPEN: a block executed by an observer (cfg.sync_group_blocks > 1)
 *   whose header time is NODE_GROUP_BEHIND_MS or more before our clock (the
 *   network has moved on, more decisions are waiting) and the group is not
 *   full; OPEN -> OPEN: the same for the next block.
 * OPEN/NONE -> NONE by a durable commit (node_group_flush), when:
 *   - the group reaches cfg.sync_group_blocks blocks (default 16) or
 *     NODE_GROUP_TXS_MAX txs: bounds the dirty pages held in memory and what a
 *     crash makes us fetch again;
 *   - it was opened NODE_GROUP_AGE_MS_MAX ago: bounds how far the API lags;
 *   - the block just executed is recent: live, shown at once (a validator's
 *     blocks always take this path);
 *   - no next block arrived for NODE_GROUP_IDLE_MS (caught up, or the peer
 *     stalled): group_timer;
 *   - the loop thread needs another write txn (a fetched blob, consensus
 *     records), or the node stops cleanly.
 * OPEN -> NONE by abort: a block's execution or the commit fails. The engine
 *   believes heights up to `applied` are stored, which is no longer so: the
 *   node stops (fatal), and a restart rebuilds the engine at the durable
 *   height + 1 and syncs the rest again from peers (the same after kill -9).
 * What other threads see — n->height, commit times (/v1/commits), metrics,
 * the mempool's removals — advances only after the commit returned, for all
 * heights of the group at once: a client never sees a height a crash could
 * take back, and API read txns (the durable snapshot) agree with n->height.
 * Verification jobs ahead are pruned at `applied` (memory only). An API thread
 * writing (a blob upload) waits on LMDB's writer lock while a group is open,
 * at most NODE_GROUP_AGE_MS_MAX; the loop thread never waits for an API thread
 * while it holds the group, and the group ends before the API server is
 * stopped (which joins those threads).
 */
#include "apps/upgrade/upgrade.h"
#include "apps/valset/valset.h"
#include "node/node_int.h"
#include "node/node_verify.h"
#include "proof/proof.h"
#include "state/state.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"

#define LOG "node"

ve_slice_t node_chain_id(const node_t *n) {
  return ve_slice(n->genesis.chain_id, strlen(n->genesis.chain_id));
}

uint64_t node_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads into n->vsets the sets governing the heights after `applied`, from t
 * (the txn that applied it) or, if NULL, from the committed state. Says whether
 * either set differs from what n->vsets held. */
static int vsets_load(node_t *n, store_txn_t *t, uint64_t applied, bool *changed) {
  store_txn_t *own = NULL;
  if (!t) VE_TRY(store_txn_begin(n->store, false, &own));
  int rc = VE_OK;
  bool diff = false;
  for (uint64_t i = 0; rc == VE_OK && i < CONS_VALSET_DELAY; i++) {
    cons_valset_t vs;
    rc = valset_governing(t ? t : own, applied + 1 + i, &vs, NULL);
    if (rc == VE_OK && !cons_valset_equal(&vs, &n->vsets[i])) {
      n->vsets[i] = vs;
      diff = true;
    }
  }
  if (own) store_txn_abort(own);
  if (changed) *changed = diff;
  if (rc == VE_OK) atomic_store(&n->member, n->has_key && cons_valset_find(&n->vsets[0], n->key.pk) >= 0);
  return rc;
}

/* The protocol governing applied + 1 (src/apps/upgrade), from t or, if NULL,
 * the committed state. One this release does not implement sets
 * n->halt_protocol and the reason in err (the node must not apply that height:
 * it would fork, or refuse good blocks); one scheduled for later is logged once
 * and shown in /metrics, so operators install a release in time. */
static int protocol_check(node_t *n, store_txn_t *t, uint64_t applied, char *err, size_t err_len) {
  store_txn_t *own = NULL;
  if (!t) VE_TRY(store_txn_begin(n->store, false, &own));
  upgrade_meta_t m;
  int rc = upgrade_meta_get(t ? t : own, &m);
  if (own) store_txn_abort(own);
  VE_TRY(rc);
  uint64_t next = upgrade_protocol_at(&m, applied + 1);
  bool later = m.pending_from > applied + 1 && m.pending_protocol > LEDGER_PROTOCOL_IMPLEMENTED;
  if (n->m_upgrade_height) api_metric_set(n->m_upgrade_height, later ? (double)m.pending_from : 0);
  if (later && n->upgrade_warned_from != m.pending_from) {
    n->upgrade_warned_from = m.pending_from;
    VE_WARN(LOG,
            "protocol %llu is scheduled from height %llu; this release implements protocols 1 to %d: install "
            "a release that implements it before then, or this node stops after height %llu",
            (unsigned long long)m.pending_protocol, (unsigned long long)m.pending_from, LEDGER_PROTOCOL_IMPLEMENTED,
            (unsigned long long)m.pending_from - 1);
  }
  n->halt_protocol = next > LEDGER_PROTOCOL_IMPLEMENTED ? next : 0;
  if (n->halt_protocol)
    snprintf(err, err_len,
             "the chain runs protocol %llu from height %llu; this release implements protocols 1 to %d: "
             "install a release that implements protocol %llu and start again (the store is intact at height %llu)",
             (unsigned long long)next, (unsigned long long)applied + 1, LEDGER_PROTOCOL_IMPLEMENTED,
             (unsigned long long)next, (unsigned long long)applied);
  return VE_OK;
}

static int open_store(node_t *n, char *err, size_t err_len) {
  char dir[NODE_PATH_BYTES_MAX];
  node_path_join(dir, sizeof dir, n->cfg.dir, n->cfg.data_dir);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
    return VE_ERR_IO;
  }
  int rc = store_open_lmdb(&n->store, dir, n->cfg.map_bytes);
  if (rc) {
    snprintf(err, err_len, "cannot open store in %s: %s", dir, ve_strerror(rc));
    return rc;
  }
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, true, &t));
  rc = ledger_init_store(t, node_registry(), &n->genesis);
  if (rc == VE_OK) {
    rc = store_txn_commit(t);
    VE_INFO(LOG, "initialised store from genesis of chain %s", n->genesis.chain_id);
  } else {
    store_txn_abort(t);
    if (rc == VE_ERR_EXISTS) rc = VE_OK; /* restart: the chain is there */
    else if (rc == VE_ERR_CONFIG)
      snprintf(err, err_len, "store in %s holds another chain than %s", dir, n->cfg.genesis_path);
    else
      snprintf(err, err_len, "cannot initialise store: %s", ve_strerror(rc));
  }
  if (rc) return rc;
  VE_TRY(store_txn_begin(n->store, false, &t));
  ledger_tip_t tip;
  rc = ledger_tip_get(t, &tip);
  store_txn_abort(t);
  if (rc == VE_OK) {
    atomic_store(&n->height, tip.height);
    n->applied = tip.height;
    VE_INFO(LOG, "chain %s at height %llu", n->genesis.chain_id, (unsigned long long)tip.height);
    rc = vsets_load(n, NULL, tip.height, NULL);
    if (rc) snprintf(err, err_len, "cannot read the validator sets: %s", ve_strerror(rc));
  }
  if (rc == VE_OK) {
    rc = protocol_check(n, NULL, tip.height, err, err_len);
    if (rc) snprintf(err, err_len, "cannot read the protocol version: %s", ve_strerror(rc));
    else if (n->halt_protocol) rc = VE_ERR_VERSION;
  }
  return rc;
}

/* A pruning node (cfg.state_keep_blocks > 0) has the state log what each
 * commit makes stale, from its first start on (docs/operations.md
 * "Pruning"). Enabled on a store that already holds heights, it can delete
 * only what becomes stale from now on; what the earlier heights alone needed
 * stays, as on an archive node. Enabling is for good: a later config of 0
 * stops the deleting, not the log. */
static int open_pruning(node_t *n, char *err, size_t err_len) {
  if (!n->cfg.state_keep_blocks) return VE_OK;
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, true, &t));
  bool on = false;
  int rc = state_prune_enabled(t, &on);
  if (rc == VE_OK && !on) {
    rc = state_prune_enable(t);
    if (rc == VE_OK) rc = store_txn_commit(t);
    else store_txn_abort(t);
    if (rc == VE_OK && n->applied > 0)
      VE_WARN(LOG, "pruning enabled at height %llu: the state of earlier heights is never deleted",
              (unsigned long long)n->applied);
  } else {
    store_txn_abort(t);
  }
  if (rc) snprintf(err, err_len, "cannot enable state pruning: %s", ve_strerror(rc));
  else VE_INFO(LOG, "keeping the state of the latest %u heights", n->cfg.state_keep_blocks);
  return rc;
}

/* After block h in t: what only heights below the window needed goes, at
 * most NODE_PRUNE_ENTRIES_PER_BLOCK entries per block (the rest with the next
 * blocks, which each delete more than one block makes stale on average). */
static int prune_after(node_t *n, store_txn_t *t, uint64_t h) {
  uint64_t keep = n->cfg.state_keep_blocks;
  if (!keep || h < keep) return VE_OK;
  size_t deleted = 0;
  int rc = state_prune(t, h + 1 - keep, NODE_PRUNE_ENTRIES_PER_BLOCK, &deleted);
  if (rc == VE_OK) api_metric_add(n->m_pruned, deleted);
  return rc;
}

/* The peer-link key: a validator's own key (validators admit each other by
 * their genesis keys), otherwise node.key, created at first start. */
static int load_node_key(node_t *n, char *err, size_t err_len) {
  if (n->has_key) {
    n->node_key = n->key;
    return VE_OK;
  }
  char path[NODE_PATH_BYTES_MAX];
  node_path_join(path, sizeof path, n->cfg.dir, n->cfg.node_key_path);
  int rc = vcrypto_keyfile_read(path, &n->node_key);
  if (rc == VE_ERR_NOT_FOUND) {
    vcrypto_keypair_generate(&n->node_key);
    rc = vcrypto_keyfile_write(path, &n->node_key);
    if (rc == VE_OK) VE_INFO(LOG, "created node key %s", path);
  }
  if (rc) snprintf(err, err_len, "node key %s: %s", path, ve_strerror(rc));
  return rc;
}

int node_open(const node_config_t *cfg, node_t **out, char *err, size_t err_len) {
  VE_TRY(vcrypto_init());
  node_t *n = calloc(1, sizeof *n);
  if (!n) return VE_ERR_NOMEM;
  n->cfg = *cfg;
  n->block_txs_cap = cfg->block_txs_max;
  pthread_mutex_init(&n->commit_mu, NULL);
  /* A group's ids: below NODE_GROUP_TXS_MAX before its last block. */
  ve_buf_init(&n->group_ids, ((size_t)NODE_GROUP_TXS_MAX + VE_BLOCK_TXS_MAX) * LEDGER_HASH_BYTES);
  ve_log_set_level((enum ve_log_level)cfg->log_level);
  char path[NODE_PATH_BYTES_MAX];
  node_path_join(path, sizeof path, cfg->dir, cfg->genesis_path);
  int rc = node_genesis_load(path, &n->genesis, err, err_len);
  if (rc == VE_OK) rc = ledger_genesis_hash(&n->genesis, n->genesis_hash);
  if (rc == VE_OK && cfg->key_path[0]) {
    node_path_join(path, sizeof path, cfg->dir, cfg->key_path);
    rc = vcrypto_keyfile_read(path, &n->key);
    if (rc) snprintf(err, err_len, "cannot read key %s: %s", path, ve_strerror(rc));
    n->has_key = rc == VE_OK;
  }
  if (rc == VE_OK) rc = load_node_key(n, err, err_len);
  if (rc == VE_OK) rc = open_store(n, err, err_len);
  if (rc == VE_OK) rc = node_sign_from_open(n, err, err_len);
  if (rc == VE_OK) rc = open_pruning(n, err, err_len);
  mempool_config_t mc = {cfg->mempool_txs_max, cfg->mempool_bytes_max, 100000};
  if (rc == VE_OK) rc = mempool_new(&mc, node_registry(), &n->mempool);
  if (rc == VE_OK) {
    /* The mempool vouches for what it verified at admission (thread-safe). */
    node_verify_config_t vc = {.reg = node_registry(), .chain_id = node_chain_id(n),
                               .sig_checked = mempool_sig_checked, .sig_ctx = n->mempool};
    rc = node_verify_new(&vc, &n->verify);
    if (rc) snprintf(err, err_len, "cannot start the verification threads: %s", ve_strerror(rc));
  }
  if (rc == VE_OK) rc = api_metrics_new(&n->metrics);
  if (rc) {
    node_close(n);
    return rc;
  }
  *out = n;
  return VE_OK;
}

static void verify_close(node_t *n) {
  if (!n->verify) return;
  node_verify_stats_t st;
  node_verify_stats(n->verify, &st);
  if (st.blocks)
    VE_INFO(LOG,
            "verify pool: %zu threads; %llu blocks validated, %llu of them checked ahead (%llu started, "
            "%llu refused, %llu pruned); %llu txs checked (%llu by the validating thread), %llu vouched "
            "for by the mempool; %llu waits timed out",
            node_verify_threads(n->verify), (unsigned long long)st.blocks,
            (unsigned long long)st.blocks_ahead, (unsigned long long)st.ahead_started,
            (unsigned long long)st.ahead_refused, (unsigned long long)st.ahead_pruned,
            (unsigned long long)st.txs_checked, (unsigned long long)st.txs_by_caller,
            (unsigned long long)st.txs_vouched, (unsigned long long)st.waits_timed_out);
  node_verify_free(n->verify); /* before the mempool its workers consult */
  n->verify = NULL;
}

void node_close(node_t *n) {
  if (!n) return;
  verify_close(n);
  cons_engine_free(n->cons);
  mempool_free(n->mempool);
  store_close(n->store);
  api_metrics_free(n->metrics);
  vcrypto_keypair_wipe(&n->key);
  vcrypto_keypair_wipe(&n->node_key);
  node_net_free(n);
  VE_ASSERT(!n->group); /* ended by node_run */
  ve_buf_free(&n->group_ids);
  pthread_mutex_destroy(&n->commit_mu);
  free(n);
}

/* ---- the block pipeline ---- */

/* Builds the next block from the mempool. out receives the block bytes; *n_txs
 * the number of transactions in it. */
int node_pipeline_propose(node_t *n, ve_buf_t *out, uint8_t id_out[LEDGER_HASH_BYTES]) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, false, &t));
  ledger_tip_t tip;
  cons_valset_t vs;
  int rc = ledger_tip_get(t, &tip);
  if (rc == VE_OK) rc = valset_governing(t, tip.height + 1, &vs, NULL);
  store_txn_abort(t);
  VE_TRY(rc);
  uint8_t vs_hash[LEDGER_HASH_BYTES];
  cons_valset_hash(vs_hash, &vs);
  mempool_batch_t batch;
  /* block_txs_cap: block_txs_max, or fewer on a node slow to execute (node_cons.c). */
  VE_TRY(mempool_reap(n->mempool, n->block_txs_cap, VE_BLOCK_BYTES_MAX - 4096, &batch));
  ledger_header_t h;
  ledger_header_next(&tip, node_chain_id(n), node_now_ms(), vs_hash, n->key.pk, &h);
  rc = ledger_block_build(&h, batch.txs, (const uint8_t(*)[LEDGER_HASH_BYTES])batch.ids, batch.n, out);
  if (rc == VE_OK) rc = ledger_header_hash(&h, id_out);
  mempool_batch_free(&batch);
  return rc;
}

/* How far ahead of our clock a proposed block's time may be. */
#define NODE_CLOCK_DRIFT_MS 10000

int node_pipeline_validate(node_t *n, ve_slice_t block, const uint8_t id[LEDGER_HASH_BYTES]) {
  ledger_block_t b;
  VE_TRY(ledger_block_decode(block, &b));
  uint8_t hash[LEDGER_HASH_BYTES];
  int rc = ledger_header_hash(&b.header, hash);
  if (rc == VE_OK && memcmp(hash, id, LEDGER_HASH_BYTES) != 0) rc = VE_ERR_HASH_MISMATCH;
  /* The clock is read here, outside the ledger, which stays deterministic. */
  if (rc == VE_OK && b.header.time_ms > node_now_ms() + NODE_CLOCK_DRIFT_MS) rc = VE_ERR_BAD_TIME;
  /* The stateless checks of the transactions on every core (node_verify.h);
   * the ledger does the rest with their verdicts. */
  int32_t *pre = NULL;
  if (rc == VE_OK && b.tx_count) {
    pre = malloc(b.tx_count * sizeof *pre);
    if (!pre) rc = VE_ERR_NOMEM;
  }
  if (pre) rc = node_verify_block(n->verify, &b, block, id, pre);
  /* Through the open group if any: the block builds on its last block. */
  store_txn_t *t = NULL;
  if (rc == VE_OK && !(t = n->group) && (rc = store_txn_begin(n->store, false, &t)) != VE_OK) t = NULL;
  /* The set of the block's height, as the state before it says. */
  cons_valset_t vs;
  uint8_t vs_hash[LEDGER_HASH_BYTES];
  if (rc == VE_OK) rc = valset_governing(t, b.header.height, &vs, NULL);
  if (rc == VE_OK) cons_valset_hash(vs_hash, &vs);
  if (rc == VE_OK && cons_valset_find(&vs, b.header.proposer) < 0) rc = VE_ERR_UNKNOWN_SIGNER;
  if (rc == VE_OK) rc = ledger_block_validate_prechecked(t, &b, vs_hash, pre, mempool_sig_checked, n->mempool);
  if (t && t != n->group) store_txn_abort(t);
  free(pre);
  ledger_block_free(&b);
  return rc;
}

/* ---- group commit (see the top of this file) ---- */

/* Forgets the group's bookkeeping (its txn ended one way or the other). */
static void group_reset(node_t *n) {
  n->group = NULL;
  n->sign_from_done = false; /* published, or dropped with the txn */
  n->group_blocks = 0;
  n->group_txs = 0;
  ve_buf_reset(&n->group_ids);
  if (n->group_timer.loop) uv_timer_stop(&n->group_timer);
}

/* Heights n->height+1 .. n->applied are durable: shows them to every thread.
 * The commit times first: an API thread that sees the new height must also
 * see when it was committed (GET /v1/commits). */
static void group_publish(node_t *n, uint64_t now) {
  uint64_t first = atomic_load(&n->height) + 1, last = n->applied;
  size_t txs = n->group_ids.len / LEDGER_HASH_BYTES;
  pthread_mutex_lock(&n->commit_mu);
  for (uint64_t h = first; h <= last; h++) {
    n->commit_times[h % NODE_COMMIT_TIMES_MAX].height = h;
    n->commit_times[h % NODE_COMMIT_TIMES_MAX].ms = now;
  }
  pthread_mutex_unlock(&n->commit_mu);
  atomic_store(&n->height, last);
  if (n->sign_from_done) {
    VE_INFO(LOG, "height %llu committed: signing again (sign_from_height %llu reached)",
            (unsigned long long)last, (unsigned long long)atomic_load(&n->sign_from));
    atomic_store(&n->sign_from, 0);
    n->sign_from_done = false;
  }
  atomic_fetch_add(&n->txs_committed, txs);
  mempool_on_commit(n->mempool, (const uint8_t(*)[LEDGER_HASH_BYTES])n->group_ids.ptr, txs, last + 1);
  n->group_commits++;
  api_metric_set(n->m_height, (double)last);
  api_metric_add(n->m_txs, txs);
  api_metric_add(n->m_blocks, last - first + 1);
  api_metric_inc(n->m_store_commits);
  api_metric_set(n->m_mempool, (double)mempool_size(n->mempool));
  if (last > first)
    VE_DEBUG(LOG, "heights %llu..%llu (%zu txs) durable in one commit", (unsigned long long)first,
             (unsigned long long)last, txs);
  group_reset(n);
}

int node_group_flush(node_t *n) {
  if (!n->group) return VE_OK;
  store_txn_t *t = n->group;
  n->group = NULL;
  int rc = store_txn_commit(t);
  if (rc == VE_OK) {
    group_publish(n, node_now_ms());
    return VE_OK;
  }
  VE_ERROR(LOG, "commit of heights %llu..%llu failed: %s", (unsigned long long)atomic_load(&n->height) + 1,
           (unsigned long long)n->applied, ve_strerror(rc));
  group_reset(n);
  return rc;
}

static void on_group_timer(uv_timer_t *tm) {
  node_t *n = tm->data;
  if (n->fatal || !n->group) return;
  int rc = node_group_flush(n);
  if (rc) node_cons_fatal(n, "group commit", rc);
}

/* After executing block b into the open txn: keep it open for the next? Only
 * an observer, only while behind, only while the group is not full. */
static bool group_keep(const node_t *n, const ledger_block_t *b, uint64_t now) {
  if (n->has_key || n->cfg.sync_group_blocks <= 1) return false;
  if (b->header.time_ms + NODE_GROUP_BEHIND_MS > now) return false; /* live: show it now */
  return n->group_blocks < n->cfg.sync_group_blocks && n->group_txs < NODE_GROUP_TXS_MAX &&
         now - n->group_opened_ms < NODE_GROUP_AGE_MS_MAX;
}

/* Keeps the group open; group_timer flushes it if no block follows soon. */
static void group_hold(node_t *n, uint64_t now) {
  uint64_t age = now - n->group_opened_ms, left = NODE_GROUP_AGE_MS_MAX - age;
  uv_update_time(&n->loop); /* the loop's clock is as old as this iteration */
  uv_timer_start(&n->group_timer, on_group_timer, left < NODE_GROUP_IDLE_MS ? left : NODE_GROUP_IDLE_MS, 0);
}

/* Ends an open group at stop: made durable after a clean stop, dropped after
 * a fatal error (a restart syncs those blocks again). */
static void group_end(node_t *n) {
  if (!n->group) return;
  if (!n->fatal && node_group_flush(n) == VE_OK) return;
  if (n->group) {
    VE_WARN(LOG, "heights %llu..%llu not made durable (synced again at restart)",
            (unsigned long long)atomic_load(&n->height) + 1, (unsigned long long)n->applied);
    store_txn_abort(n->group);
    group_reset(n);
  }
}

int node_pipeline_commit(node_t *n, ve_slice_t block, ve_slice_t cert) {
  ledger_block_t b;
  VE_TRY(ledger_block_decode(block, &b)); /* b.ids: the tx ids, hashed once */
  uint64_t t0 = node_now_ms(), h = b.header.height;
  store_txn_t *t = n->group;
  int rc = t ? VE_OK : store_txn_begin(n->store, true, &t);
  if (rc == VE_OK) rc = ledger_block_commit_decoded(t, node_registry(), &b, block, cert, NULL);
  if (rc == VE_OK) rc = node_docs_block_txn(n, t, &b);
  if (rc == VE_OK) rc = node_cons_block_txn(n, t);
  if (rc == VE_OK) rc = node_sign_from_block_txn(n, t, h);
  if (rc == VE_OK) rc = proof_link_keep(t, h); /* before pruning can drop version h - 1 */
  if (rc == VE_OK) rc = prune_after(n, t, h);
  if (rc == VE_OK) rc = ve_buf_append(&n->group_ids, b.ids, b.tx_count * LEDGER_HASH_BYTES);
  bool vsets_changed = false;
  if (rc == VE_OK) rc = vsets_load(n, t, h, &vsets_changed);
  char why[320];
  if (rc == VE_OK) rc = protocol_check(n, t, h, why, sizeof why);
  if (rc) {
    VE_ERROR(LOG, "commit of height %llu failed: %s; heights %llu..%llu dropped", (unsigned long long)h,
             ve_strerror(rc), (unsigned long long)atomic_load(&n->height) + 1, (unsigned long long)h);
    store_txn_abort(t);
    group_reset(n);
    ledger_block_free(&b);
    return rc;
  }
  VE_ASSERT(h == n->applied + 1);
  if (!n->group_blocks) n->group_opened_ms = t0;
  n->group = t;
  n->group_blocks++;
  n->group_txs += b.tx_count;
  n->applied = h;
  if (vsets_changed) node_net_vsets_changed(n);
  node_verify_prune(n->verify, h); /* blocks checked ahead for h or below are moot */
  uint64_t now = node_now_ms();
  if (!n->halt_protocol && group_keep(n, &b, now)) group_hold(n, now);
  else rc = node_group_flush(n); /* a node about to stop makes its last block durable first */
  if (rc == VE_OK && n->halt_protocol) VE_ERROR(LOG, "stopping after height %llu: %s", (unsigned long long)h, why);
  if (rc == VE_OK) {
    n->last_block_ms = node_now_ms();
    n->last_block_had_txs = b.tx_count > 0;
    n->last_block_txs = b.tx_count;
    api_metric_observe(n->m_block_ms, (double)(n->last_block_ms - t0) / 1000.0);
    VE_DEBUG(LOG, "committed height %llu with %zu txs%s", (unsigned long long)h, b.tx_count,
             n->group ? " (durable with the group)" : "");
  }
  ledger_block_free(&b);
  return rc;
}

uint64_t node_commit_time(node_t *n, uint64_t height) {
  pthread_mutex_lock(&n->commit_mu);
  uint64_t ms = n->commit_times[height % NODE_COMMIT_TIMES_MAX].height == height
                    ? n->commit_times[height % NODE_COMMIT_TIMES_MAX].ms
                    : 0;
  pthread_mutex_unlock(&n->commit_mu);
  return ms;
}

/* ---- the loop ---- */

static void on_wake(uv_async_t *a) {
  node_net_flush(a->data);
  node_cons_poll(a->data);
}
static void on_tick(uv_timer_t *t) {
  node_net_flush(t->data);
  node_cons_poll(t->data);
}

static void close_cb(uv_handle_t *h) { (void)h; }

static void on_stop(uv_async_t *a) {
  node_t *n = a->data;
  VE_INFO(LOG, "stopping");
  uv_stop(&n->loop);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  node_stop(s->data);
}

void node_stop(node_t *n) { uv_async_send(&n->stop); }

static int register_metrics(node_t *n) {
  static const double block_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
  VE_TRY(api_metrics_gauge(n->metrics, "veche_height", NULL, "last committed block height", &n->m_height));
  VE_TRY(api_metrics_counter(n->metrics, "veche_txs_committed_total", NULL,
                             "transactions committed since start", &n->m_txs));
  VE_TRY(api_metrics_counter(n->metrics, "veche_blocks_committed_total", NULL,
                             "blocks committed since start", &n->m_blocks));
  VE_TRY(api_metrics_gauge(n->metrics, "veche_mempool_txs", NULL, "transactions waiting", &n->m_mempool));
  VE_TRY(api_metrics_counter(n->metrics, "veche_txs_rejected_total", NULL,
                             "transactions refused at admission", &n->m_rejected));
  VE_TRY(api_metrics_histogram(n->metrics, "veche_block_commit_seconds", NULL,
                               "time to store and execute one block", block_bounds,
                               sizeof block_bounds / sizeof block_bounds[0], &n->m_block_ms));
  VE_TRY(api_metrics_counter(n->metrics, "veche_state_pruned_entries_total", NULL,
                             "state tree nodes, value entries and log records deleted by pruning "
                             "(config state_keep_blocks)", &n->m_pruned));
  VE_TRY(api_metrics_counter(n->metrics, "veche_store_block_commits_total", NULL,
                             "durable write transactions that carried blocks (an observer catching up "
                             "commits several blocks in one)", &n->m_store_commits));
  /* Flow control (node_cons.c): also read by API threads, so registered here. */
  VE_TRY(api_metrics_counter(n->metrics, "veche_mempool_busy_total", NULL,
                             "client transactions refused as busy (backlog above mempool_backlog_s of commits)",
                             &n->m_busy));
  VE_TRY(api_metrics_gauge(n->metrics, "veche_mempool_admit_limit", NULL,
                           "pending transactions at which client submissions become busy (0: no limit)",
                           &n->m_admit_limit));
  VE_TRY(api_metrics_gauge(n->metrics, "veche_block_txs_cap", NULL,
                           "transactions this node puts in its next proposal (block_target_ms)", &n->m_block_cap));
  VE_TRY(api_metrics_gauge(n->metrics, "veche_commit_rate_txs_per_second", NULL,
                           "committed transactions per second, averaged over a few seconds", &n->m_commit_rate));
  VE_TRY(api_metrics_gauge(n->metrics, "veche_protocol_upgrade_height", NULL,
                           "first height of a scheduled protocol this release does not implement (0: none)",
                           &n->m_upgrade_height));
  api_metric_set(n->m_height, (double)atomic_load(&n->height));
  node_flow_update(n, false, 0, 0);
  char unused[8];
  return protocol_check(n, NULL, n->applied, unused, sizeof unused); /* the gauge */
}

int node_run(node_t *n) {
  VE_TRY(register_metrics(n));
  if (uv_loop_init(&n->loop) != 0) return VE_ERR_IO;
  uv_async_init(&n->loop, &n->wake, on_wake);
  uv_async_init(&n->loop, &n->stop, on_stop);
  uv_timer_init(&n->loop, &n->tick);
  uv_timer_init(&n->loop, &n->group_timer);
  n->group_timer.data = n;
  uv_signal_init(&n->loop, &n->sigint);
  uv_signal_init(&n->loop, &n->sigterm);
  n->wake.data = n->stop.data = n->tick.data = n->sigint.data = n->sigterm.data = n;
  uv_signal_start(&n->sigint, on_signal, SIGINT);
  uv_signal_start(&n->sigterm, on_signal, SIGTERM);
  n->last_block_ms = node_now_ms();

  int rc = node_net_start(n);
  if (rc) {
    VE_ERROR(LOG, "cannot start peer links on %s:%u: %s", n->cfg.p2p_host, n->cfg.p2p_port, ve_strerror(rc));
    node_net_stop(n);
    goto out;
  }
  api_config_t ac = {.bind_addr = n->cfg.api_host, .port = n->cfg.api_port,
                     .threads = n->cfg.api_threads, .metrics = n->metrics};
  size_t n_routes = node_routes_collect(n->routes, NODE_ROUTES_MAX);
  rc = api_server_start(&ac, n->routes, n_routes, n, &n->api);
  if (rc) {
    VE_ERROR(LOG, "cannot start API on %s:%u: %s", n->cfg.api_host, n->cfg.api_port, ve_strerror(rc));
  } else {
    printf("veche node: chain %s, height %llu, API on http://%s:%u\n", n->genesis.chain_id,
           (unsigned long long)atomic_load(&n->height), n->cfg.api_host, api_server_port(n->api));
    fflush(stdout);
    uint64_t tick = n->cfg.block_interval_ms ? n->cfg.block_interval_ms : 20;
    uv_timer_start(&n->tick, on_tick, tick, tick);
    rc = node_cons_start(n);
    if (rc == VE_OK) uv_run(&n->loop, UV_RUN_DEFAULT);
    else VE_ERROR(LOG, "consensus did not start: %s", ve_strerror(rc));
    group_end(n); /* before the API stops: a writer of its may wait for the group */
    if (n->fatal) rc = n->halt_protocol ? VE_ERR_VERSION : VE_ERR_STORE;
    api_server_stop(n->api);
    n->api = NULL;
  }
  node_net_stop(n);
out:
  node_cons_stop(n);
  uv_close((uv_handle_t *)&n->wake, close_cb);
  uv_close((uv_handle_t *)&n->stop, close_cb);
  uv_close((uv_handle_t *)&n->tick, close_cb);
  uv_close((uv_handle_t *)&n->group_timer, close_cb);
  uv_close((uv_handle_t *)&n->sigint, close_cb);
  uv_close((uv_handle_t *)&n->sigterm, close_cb);
  uv_run(&n->loop, UV_RUN_DEFAULT); /* lets the closes (and timer frees) finish */
  uv_loop_close(&n->loop);
  return rc;
}
