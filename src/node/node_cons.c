/* node_cons.c — drives the consensus engine with real time, disk and (later)
 * network (node_net.c), on the loop thread.
 *
 * The engine is pure: it emits actions and we carry them out in order. The
 * safety rule (CometBFT's WAL rule): a PERSIST record is durable before the
 * message it covers can leave this node, so after a crash the engine, rebuilt
 * from every record, never signs something conflicting with what a peer saw.
 *
 * Records are therefore kept pending in memory and made durable together at
 * the first action with an external effect:
 *   - BROADCAST / SEND / SEND_DECISION to at least one peer: one synced write
 *     transaction of all pending records, before the message goes out;
 *   - COMMIT of height h: the records of h (and earlier) become obsolete the
 *     moment the block is committed, so they are dropped, and any on disk are
 *     deleted, inside the block's own write transaction.
 * Records still pending at a crash covered only messages that never left, so
 * losing them cannot produce a conflict anyone can observe. With no peers a
 * height costs one synced transaction (the block) instead of five.
 *
 * Records live under STORE_T_CONSENSUS keyed by a be64 counter. Most are a
 * few dozen bytes; a lock record carries the block being locked (once per
 * height and value), so it is written twice, here and in the commit.
 *
 * Flow control lives here too, because it is measured around the pipeline
 * calls this file makes: after each commit, node_flow_update folds the height
 * into the commit rate and the cost of a height, and derives the proposer's
 * block cap (block_target_ms), the mempool's admit limit for clients
 * (mempool_backlog_s) and the Retry-After of busy refusals. The rules are the
 * pure node_* functions below; the times are this node's own monotonic clock
 * (the proposer's block size is its local choice; validators accept any block
 * within the protocol limits).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "apps/evidence/evidence.h"
#include "node/node_int.h"

#define LOG "consensus"
#define NODE_TIMERS_MAX 4096
#define NODE_TIMEOUT_BASE_MS_MIN 1000
/* Pending records: a height's signing records and one lock record (a block and
 * its prevotes); more is flushed first. */
#define NODE_REC_PENDING_BYTES_MAX (64 * CONS_RECORD_BYTES_MAX + CONS_LOCK_RECORD_BYTES_MAX)

typedef struct cons_timer {
  uv_timer_t t;
  node_t *n;
  uint64_t token;
  struct cons_timer *prev, *next; /* in n->timer_list */
} cons_timer_t;

static void drain(node_t *n);

/* Durations: libuv's monotonic clock (not uv_now, which is cached per loop
 * iteration), so a wall-clock step cannot make one huge. */
static uint64_t mono_ms(void) { return uv_hrtime() / 1000000; }

/* ---- flow control: the rules (pure) ---- */

static double avg_in(double avg, double sample) {
  return avg > 0 ? avg + NODE_COST_WEIGHT * (sample - avg) : sample;
}

void node_cost_update(node_cost_t *c, uint64_t ms, size_t txs) {
  if (txs < NODE_COST_SMALL_TXS) {
    c->block_ms = avg_in(c->block_ms, (double)ms);
    return;
  }
  double extra = (double)ms > c->block_ms ? (double)ms - c->block_ms : 0;
  c->tx_ms = avg_in(c->tx_ms, extra / (double)txs);
}

size_t node_block_txs_cap(uint32_t target_ms, const node_cost_t *c, size_t txs_max) {
  size_t lo = txs_max < NODE_BLOCK_TXS_MIN ? txs_max : NODE_BLOCK_TXS_MIN;
  if (!target_ms || !(c->tx_ms > 0)) return txs_max;
  double room = (double)target_ms - c->block_ms;
  double fit = room > 0 ? room / c->tx_ms : 0;
  if (fit >= (double)txs_max) return txs_max;
  return fit <= (double)lo ? lo : (size_t)fit;
}

double node_commit_rate_update(double rate, size_t txs, uint64_t dt_ms) {
  if (dt_ms >= NODE_RATE_WINDOW_MS) return (double)txs * 1000.0 / (double)dt_ms;
  /* Time-weighted: blocks of B txs every T ms settle at B * 1000 / T. */
  double a = (double)dt_ms / NODE_RATE_WINDOW_MS;
  return rate * (1 - a) + (double)txs * 1000.0 / NODE_RATE_WINDOW_MS;
}

size_t node_admit_limit(double rate, uint32_t backlog_s, size_t block_txs_max) {
  if (!backlog_s) return 0;
  double lim = rate * (double)backlog_s, floor_txs = (double)NODE_ADMIT_FLOOR_BLOCKS * (double)block_txs_max;
  if (!(lim >= floor_txs)) lim = floor_txs; /* also when rate is NaN */
  if (lim < 1) lim = 1;
  return lim >= (double)MEMPOOL_TXS_MAX_LIMIT ? MEMPOOL_TXS_MAX_LIMIT : (size_t)lim;
}

unsigned node_retry_after_s(double rate, size_t block_txs, uint32_t backlog_s) {
  unsigned hi = backlog_s ? backlog_s : 1;
  if (!(rate > 0)) return 1;
  double s = ceil((double)block_txs / rate);
  return s <= 1 ? 1 : s >= hi ? hi : (unsigned)s;
}

/* ---- flow control: the node's numbers ---- */

void node_flow_update(node_t *n, bool committed, uint64_t took_ms, uint64_t work_ms) {
  if (committed) {
    n->commit_rate = node_commit_rate_update(n->commit_rate, n->last_block_txs, took_ms);
    node_cost_update(&n->cost, work_ms, n->last_block_txs);
  }
  size_t cap = node_block_txs_cap(n->cfg.block_target_ms, &n->cost, n->cfg.block_txs_max);
  if (cap != n->block_txs_cap && (cap * 2 <= n->block_txs_cap || cap >= n->block_txs_cap * 2))
    VE_INFO(LOG, "block cap %zu -> %zu txs (a height costs ~%.0f ms + %.3f ms per tx here)", n->block_txs_cap,
            cap, n->cost.block_ms, n->cost.tx_ms);
  n->block_txs_cap = cap;
  size_t limit = node_admit_limit(n->commit_rate, n->cfg.mempool_backlog_s, n->cfg.block_txs_max);
  mempool_set_admit_limit(n->mempool, limit);
  atomic_store(&n->retry_after_s, node_retry_after_s(n->commit_rate, cap, n->cfg.mempool_backlog_s));
  if (n->m_block_cap) {
    api_metric_set(n->m_block_cap, (double)cap);
    api_metric_set(n->m_admit_limit, (double)limit);
    api_metric_set(n->m_commit_rate, n->commit_rate);
  }
}


void node_cons_fatal(node_t *n, const char *what, int rc) {
  VE_ERROR(LOG, "%s failed: %s; stopping so nothing is signed or committed unsafely", what,
           ve_strerror(rc));
  n->fatal = true;
  uv_stop(&n->loop);
}

/* ---- records ---- */

static int load_records(node_t *n, ve_buf_t *blob, ve_slice_t **out, size_t *count) {
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, false, &t));
  store_cursor_t *c;
  int rc = store_cursor_open(t, STORE_T_CONSENSUS, &c);
  size_t cap = 0, k = 0;
  size_t *offs = NULL, *lens = NULL;
  ve_slice_t key, val;
  for (int r = rc ? rc : store_cursor_seek(c, ve_slice(NULL, 0), &key, &val); rc == VE_OK && r == VE_OK;
       r = store_cursor_next(c, &key, &val)) {
    if (k == CONS_RECORDS_MAX) {
      rc = VE_ERR_LIMIT;
      break;
    }
    if (k == cap) {
      cap = cap ? cap * 2 : 64;
      size_t *no = realloc(offs, cap * sizeof *no), *nl = no ? realloc(lens, cap * sizeof *nl) : NULL;
      if (no) offs = no;
      if (!no || !nl) {
        rc = VE_ERR_NOMEM;
        break;
      }
      lens = nl;
    }
    offs[k] = blob->len;
    lens[k] = val.len;
    rc = ve_buf_append(blob, val.ptr, val.len);
    if (key.len == 8 && ve_be64_get(key.ptr) >= n->rec_next) n->rec_next = ve_be64_get(key.ptr) + 1;
    k++;
  }
  if (c) store_cursor_close(c);
  store_txn_abort(t);
  if (rc == VE_OK) {
    *out = calloc(k ? k : 1, sizeof **out);
    if (!*out) rc = VE_ERR_NOMEM;
    for (size_t i = 0; rc == VE_OK && i < k; i++) (*out)[i] = ve_slice(blob->ptr + offs[i], lens[i]);
    *count = k;
  }
  free(offs);
  free(lens);
  return rc;
}

/* Writes every pending record in one synced transaction. */
static int flush_records(node_t *n) {
  if (n->rec_pending_n == 0) return VE_OK;
  VE_TRY(node_group_flush(n)); /* this thread may hold the group's write txn */
  store_txn_t *t;
  VE_TRY(store_txn_begin(n->store, true, &t));
  int rc = VE_OK;
  size_t off = 0;
  for (size_t i = 0; rc == VE_OK && i < n->rec_pending_n; i++) {
    uint8_t key[8];
    ve_be64_put(key, n->rec_next + i);
    rc = store_put(t, STORE_T_CONSENSUS, ve_slice(key, 8),
                   ve_slice(n->rec_pending.ptr + off, n->rec_pending_lens[i]));
    off += n->rec_pending_lens[i];
  }
  if (rc) {
    store_txn_abort(t);
    return rc;
  }
  VE_TRY(store_txn_commit(t)); /* LMDB syncs on commit: durable from here */
  n->rec_next += n->rec_pending_n;
  n->rec_pending_n = 0;
  ve_buf_reset(&n->rec_pending);
  return VE_OK;
}

static int persist(node_t *n, ve_slice_t rec) {
  if (n->rec_pending_n == sizeof n->rec_pending_lens / sizeof n->rec_pending_lens[0] ||
      n->rec_pending.len + rec.len > NODE_REC_PENDING_BYTES_MAX)
    VE_TRY(flush_records(n));
  VE_TRY(ve_buf_append(&n->rec_pending, rec.ptr, rec.len));
  n->rec_pending_lens[n->rec_pending_n++] = rec.len;
  return VE_OK;
}

int node_cons_block_txn(node_t *n, store_txn_t *t) {
  /* Pending records are for the height being committed (the engine signs
   * nothing for h+1 before deciding h): obsolete with this very commit. */
  n->rec_pending_n = 0;
  ve_buf_reset(&n->rec_pending);
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_CONSENSUS, &c));
  uint8_t keys[64][8];
  size_t k = 0;
  ve_slice_t key, val;
  /* Collect first, delete after: a cursor must not walk under its own deletes. */
  for (int r = store_cursor_seek(c, ve_slice(NULL, 0), &key, &val); r == VE_OK && k < 64;
       r = store_cursor_next(c, &key, &val))
    if (key.len == 8) memcpy(keys[k++], key.ptr, 8);
  store_cursor_close(c);
  for (size_t i = 0; i < k; i++) VE_TRY(store_del(t, STORE_T_CONSENSUS, ve_slice(keys[i], 8)));
  return VE_OK;
}

/* ---- timers ---- */

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void timer_release(cons_timer_t *ct) {
  node_t *n = ct->n;
  if (ct->prev) ct->prev->next = ct->next;
  else n->timer_list = ct->next;
  if (ct->next) ct->next->prev = ct->prev;
  n->timers--;
  uv_close((uv_handle_t *)&ct->t, timer_closed);
}

static void on_timer(uv_timer_t *t) {
  cons_timer_t *ct = t->data;
  node_t *n = ct->n;
  uint64_t token = ct->token;
  timer_release(ct);
  if (n->cons && !n->fatal) {
    atomic_fetch_add(&n->cons_timeouts, 1);
    if (n->m_cons_timeouts) api_metric_inc(n->m_cons_timeouts);
    cons_on_timeout(n->cons, token);
    drain(n);
  }
}

static void schedule(node_t *n, uint64_t token, uint32_t delay_ms) {
  if (n->timers >= NODE_TIMERS_MAX) {
    VE_WARN(LOG, "too many pending timers; dropping one (the engine re-schedules)");
    return;
  }
  cons_timer_t *ct = calloc(1, sizeof *ct);
  if (!ct) return;
  ct->n = n;
  ct->token = token;
  uv_timer_init(&n->loop, &ct->t);
  ct->t.data = ct;
  uv_timer_start(&ct->t, on_timer, delay_ms, 0);
  ct->next = n->timer_list;
  if (ct->next) ct->next->prev = ct;
  n->timer_list = ct;
  n->timers++;
}

/* ---- proposals ---- */

/* A proposer with fewer than block_txs_max transactions but at least this many
 * waits up to block_fill_ms after the previous commit for more to arrive. A
 * busy node otherwise proposes the moment a block is applied and, at a few
 * thousand tx/s, makes blocks of a few dozen txs, each paying the per-block
 * costs (state tree top, LMDB commit, fsync, consensus signatures) again;
 * letting blocks fill measured ~11% less node CPU per tx. It waits only when
 * heights are short: a quiet node (fewer pending txs than this) proposes at
 * once, and so does one whose last height took block_fill_ms or more by
 * itself (a wide-area network, or big blocks), where blocks fill anyway and a
 * wait would only add latency. */
#define NODE_BLOCK_FILL_MIN_TXS 64

static void on_fill(uv_timer_t *t) { node_cons_poll(t->data); }

/* Answers a pending proposal request once there is something worth a block:
 * transactions waiting (and, under load, enough of them or a fill timeout), a
 * previous block whose roots need a header, or the heartbeat. */
static void try_propose(node_t *n) {
  if (!n->want_proposal) return;
  size_t pending = mempool_size(n->mempool);
  uint64_t now = node_now_ms();
  bool due = pending > 0 || n->last_block_had_txs || now - n->last_block_ms >= n->cfg.empty_block_ms;
  if (!due) return;
  if (atomic_load(&n->height) + 1 != n->prop_height) return; /* not applied yet */
  uint64_t fill_until = n->last_block_ms + n->cfg.block_fill_ms;
  if (pending >= NODE_BLOCK_FILL_MIN_TXS && pending < n->block_txs_cap && now < fill_until &&
      n->cons_busy_ms < n->cfg.block_fill_ms) {
    if (!n->fill_since_ms) n->fill_since_ms = now;
    if (!uv_is_active((uv_handle_t *)&n->fill)) uv_timer_start(&n->fill, on_fill, fill_until - now, 0);
    return;
  }
  uv_timer_stop(&n->fill);
  if (n->fill_since_ms) n->fill_waited_ms += now - n->fill_since_ms;
  n->fill_since_ms = 0;
  n->want_proposal = false;
  ve_buf_t block;
  ve_buf_init(&block, VE_BLOCK_BYTES_MAX);
  uint8_t id[LEDGER_HASH_BYTES];
  uint64_t t0 = mono_ms();
  int rc = node_pipeline_propose(n, &block, id);
  n->height_work_ms += mono_ms() - t0;
  if (rc == VE_OK) rc = cons_on_proposal(n->cons, n->prop_height, n->prop_round, id, ve_buf_slice(&block));
  if (rc && rc != VE_ERR_STATE) VE_ERROR(LOG, "proposal failed: %s", ve_strerror(rc));
  ve_buf_free(&block);
}

/* ---- actions ---- */

static void on_commit(node_t *n, const cons_action_t *a) {
  /* Every pending timer is for this height or earlier (the engine emits COMMIT
   * before the next height's timers), hence stale: drop them rather than let
   * thousands pile up when blocks come faster than timeouts expire. */
  while (n->timer_list) timer_release(n->timer_list);
  uint64_t t0 = mono_ms();
  int rc = node_pipeline_commit(n, a->data, a->cert);
  if (rc) return node_cons_fatal(n, "block commit", rc);
  if (n->halt_protocol) { /* durable; the reason is logged: feed the engine nothing more */
    n->fatal = true;
    uv_stop(&n->loop);
    return;
  }
  uint64_t now = node_now_ms(), took = n->cons_last_commit_ms ? now - n->cons_last_commit_ms : 0;
  node_flow_update(n, true, took, n->height_work_ms + (mono_ms() - t0));
  n->height_work_ms = 0;
  n->cons_busy_ms = took > n->fill_waited_ms ? took - n->fill_waited_ms : 0;
  n->fill_waited_ms = n->fill_since_ms = 0;
  n->cons_last_commit_ms = now;
  atomic_store(&n->cons_last_round, a->round);
  if (a->round > 0) atomic_fetch_add(&n->cons_late_commits, 1);
  if (n->m_cons_round) {
    api_metric_set(n->m_cons_round, (double)a->round);
    if (a->round > 0) api_metric_inc(n->m_cons_late);
    if (took) api_metric_observe(n->m_cons_height_s, (double)took / 1000.0);
  }
  cons_on_applied(n->cons, a->height, &n->vsets[CONS_VALSET_DELAY - 1]); /* read by the commit */
}

/* Evidence from our engine goes into the ledger as a transaction signed by this
 * validator (a role-less identity since genesis), through our own mempool. */
static void on_evidence(node_t *n, ve_slice_t ev) {
  if (!n->has_key) return;
  store_txn_t *t;
  ledger_signer_t s;
  ledger_exec_t *ex = NULL;
  uint64_t h = atomic_load(&n->height);
  int rc = store_txn_begin(n->store, false, &t);
  if (rc) return;
  rc = ledger_exec_begin(&ex, node_registry(), t, node_chain_id(n), h + 1, 0);
  if (rc == VE_OK) rc = ledger_signer_lookup(ex, n->key.pk, &s);
  ledger_exec_free(ex);
  store_txn_abort(t);
  if (rc) {
    VE_WARN(LOG, "evidence not submitted: this validator cannot sign (%s)", ve_strerror(rc));
    return;
  }
  /* Several evidences may be in flight before a commit: keep sequences distinct. */
  if (n->evidence_seq <= s.last_seq) n->evidence_seq = s.last_seq + 1;
  ve_buf_t p, enc;
  ve_buf_init(&p, VE_TX_PAYLOAD_BYTES_MAX);
  ve_buf_init(&enc, VE_TX_BYTES_MAX);
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = node_chain_id(n), .seq = n->evidence_seq++,
                    .expiry = h + 1000, .type = TX_TYPE_EVIDENCE_SUBMIT};
  rc = evidence_payload(&p, ev);
  tx.payload = ve_buf_slice(&p);
  if (rc == VE_OK) rc = ledger_tx_sign(&tx, &n->key);
  if (rc == VE_OK) rc = ledger_tx_encode(&tx, &enc);
  uint8_t id[LEDGER_HASH_BYTES];
  if (rc == VE_OK) rc = mempool_add(n->mempool, n->store, node_chain_id(n), h + 1, ve_buf_slice(&enc), id);
  if (rc == VE_OK) node_net_gossip_tx(n, ve_buf_slice(&enc)); /* whoever proposes next */
  cons_evidence_info_t info;
  char who[65] = "?";
  if (cons_evidence_info(ev, &info) == VE_OK) ve_hex_encode(who, info.pk, 32);
  if (rc == VE_OK) VE_WARN(LOG, "equivocation by validator %s: evidence submitted to the ledger", who);
  else VE_WARN(LOG, "equivocation by validator %s: evidence refused: %s", who, ve_strerror(rc));
  ve_buf_free(&p);
  ve_buf_free(&enc);
}

static void drain(node_t *n) {
  cons_action_t a;
  while (!n->fatal && cons_action_next(n->cons, &a)) {
    int rc;
    switch (a.kind) {
      case CONS_ACT_PERSIST:
        rc = persist(n, a.data);
        if (rc) node_cons_fatal(n, "persisting a consensus record", rc);
        break;
      case CONS_ACT_SCHEDULE_TIMEOUT:
        schedule(n, a.token, a.delay_ms);
        break;
      case CONS_ACT_REQUEST_PROPOSAL:
        /* Answered from the loop (on_wake), not from inside this drain: with
         * one validator and no heartbeat pause, answering here would decide
         * height after height without ever returning to the loop (no signals,
         * no API writes, no timers). */
        n->want_proposal = true;
        n->prop_height = a.height;
        n->prop_round = a.round;
        uv_async_send(&n->wake);
        break;
      case CONS_ACT_VALIDATE: {
        uint64_t t0 = mono_ms();
        rc = node_pipeline_validate(n, a.data, a.id);
        n->height_work_ms += mono_ms() - t0;
        if (rc) VE_WARN(LOG, "proposed block at height %llu is invalid: %s",
                        (unsigned long long)a.height, ve_strerror(rc));
        cons_on_validated(n->cons, a.height, a.round, a.id, rc == VE_OK);
        break;
      }
      case CONS_ACT_COMMIT:
        on_commit(n, &a);
        break;
      case CONS_ACT_EVIDENCE:
        on_evidence(n, a.data);
        break;
      case CONS_ACT_BROADCAST:
      case CONS_ACT_SEND:
        /* Without peers nothing leaves this node and the records may stay
         * pending; with peers they are durable before the message leaves. */
        if (node_net_peers(n) == 0) break;
        rc = flush_records(n);
        if (rc) {
          node_cons_fatal(n, "persisting consensus records", rc);
          break;
        }
        if (a.kind == CONS_ACT_BROADCAST) node_net_broadcast(n, a.data);
        else node_net_send(n, a.peer, a.data);
        break;
      case CONS_ACT_SEND_DECISION:
        /* A committed block and its certificate: nothing of ours at stake. */
        node_net_send_decision(n, a.peer, a.height);
        break;
    }
  }
}

/* Consensus health for /metrics and /v1/status: a timeout firing or a height
 * decided after round 0 means a proposer or its votes were late or missing. */
static int register_metrics(node_t *n) {
  static const double height_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  VE_TRY(api_metrics_counter(n->metrics, "veche_consensus_timeouts_total", NULL,
                             "consensus step timeouts that fired", &n->m_cons_timeouts));
  VE_TRY(api_metrics_gauge(n->metrics, "veche_consensus_last_commit_round", NULL,
                           "round in which the last committed height was decided", &n->m_cons_round));
  VE_TRY(api_metrics_counter(n->metrics, "veche_consensus_late_commits_total", NULL,
                             "heights decided after round 0", &n->m_cons_late));
  return api_metrics_histogram(n->metrics, "veche_consensus_height_seconds", NULL,
                               "time between consecutive commits on this node", height_bounds,
                               sizeof height_bounds / sizeof height_bounds[0], &n->m_cons_height_s);
}

int node_cons_start(node_t *n) {
  ve_buf_init(&n->rec_pending, NODE_REC_PENDING_BYTES_MAX);
  uv_timer_init(&n->loop, &n->fill);
  n->fill.data = n;
  if (n->metrics) VE_TRY(register_metrics(n));
  ve_buf_t blob;
  ve_buf_init(&blob, 0);
  ve_slice_t *recs = NULL;
  size_t count = 0;
  int rc = load_records(n, &blob, &recs, &count);
  if (rc == VE_OK) {
    uint32_t base = n->cfg.empty_block_ms + 500;
    if (base < NODE_TIMEOUT_BASE_MS_MIN) base = NODE_TIMEOUT_BASE_MS_MIN;
    /* A very long heartbeat must still leave room for the engine's timeout
     * growth per round (and CONS_TIMEOUT_MS_MAX). */
    if (base > CONS_TIMEOUT_MS_MAX / 2) base = CONS_TIMEOUT_MS_MAX / 2;
    cons_config_t cfg = {
        .chain_id = n->genesis.chain_id,
        .valsets = {&n->vsets[0], &n->vsets[1]},
        .key = n->has_key ? &n->key : NULL,
        .start_height = atomic_load(&n->height) + 1,
        .sign_from_height = atomic_load(&n->sign_from),
        .timeout_base_ms = base,
        .timeout_delta_ms = 500,
        .records = recs,
        .records_count = count,
    };
    rc = cons_engine_new(&n->cons, &cfg);
  }
  free(recs);
  ve_buf_free(&blob);
  if (rc == VE_OK) rc = cons_start(n->cons);
  if (rc == VE_OK) {
    VE_INFO(LOG, "engine started at height %llu with %zu records",
            (unsigned long long)(atomic_load(&n->height) + 1), count);
    drain(n);
  }
  return rc;
}

int node_cons_on_message(node_t *n, uint64_t peer, ve_slice_t msg) {
  if (!n->cons || n->fatal) return VE_OK;
  int rc = cons_on_message(n->cons, peer, msg);
  drain(n);
  return rc;
}

void node_cons_poll(node_t *n) {
  if (!n->cons || n->fatal) return;
  try_propose(n);
  drain(n);
}

void node_cons_stop(node_t *n) {
  while (n->timer_list) timer_release(n->timer_list);
  /* The loop runs once more after this (node_run), which completes the close. */
  if (n->fill.loop && !uv_is_closing((uv_handle_t *)&n->fill)) uv_close((uv_handle_t *)&n->fill, NULL);
  /* A clean stop keeps the current height's votes (harmless, and the engine
   * resumes exactly where it was). */
  if (flush_records(n)) VE_WARN(LOG, "could not save consensus records at stop");
  ve_buf_free(&n->rec_pending);
}
