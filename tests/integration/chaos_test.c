/* chaos_test.c — a seeded schedule of process faults against a real network:
 * four validators and an observer from `veche testnet` on 127.0.0.1, a client
 * submitting registrations all the while, and at the end the checks that
 * nothing the network reported was lost, forked or done twice.
 *
 * Faults. The seed (printed; VECHE_SEED=n replays it) fixes the schedule:
 * which faults, on which node, after which gaps and for how long. How the
 * processes interleave with it is the machine's. Kinds:
 *   - kill -9 of a validator, restarted after a random delay;
 *   - SIGSTOP of a validator (a hung node), SIGCONT after a random delay;
 *   - kill -9 of the observer, restarted after a random delay.
 * At most one validator (f = 1 of 4) is down, frozen or catching up at any
 * moment: a validator fault starts only once the previous victim holds a
 * block the others committed after it returned. Observer faults run on their
 * own timeline, overlapping the validators' ones.
 *
 * Client. Between fault steps (one thread: no request is ever in flight when
 * a node is killed, so every answer is exact) 1..3 fresh registrations go to
 * a random running node every SUBMIT_EVERY_MS, one alone as {"tx"}, more as a
 * batch, and each tx's fate is recorded as the API gave it: accepted, refused
 * (with the reason) or unknown (no answer). Just before each kill -9 one more
 * goes to the victim, so that it dies with fresh txs in its mempool. A watcher
 * polls /v1/commits and /v1/txs/:id on running nodes and records every commit
 * any node reports (height, index, result).
 *
 * Checks while it runs:
 *   - every report of a tx's commit, and of a block's time, agrees with all
 *     earlier reports from any node;
 *   - a node killed -9 restarts at a height >= every height it reported before
 *     (what a node shows is durable);
 *   - a returning validator holds, within CATCHUP_MS_MAX, a block the others
 *     committed after its return (commits resumed, and it is back in).
 * Checks at the end, once every node runs and every mempool is empty:
 *   1. all five nodes have the same header (hash, roots, time, ...) and tx
 *      list at every height up to a common height;
 *   2. liveness: the height advanced, and no two consecutive blocks of the
 *      chaos are further apart (header times) than COMMIT_GAP_MS_MAX — with
 *      at most f validators out, commits never stop for long; how soon a
 *      block followed each fault is printed;
 *   3. each tx id is in the chain at most once, and only ids the client sent;
 *   4. every commit reported during the chaos is in the chain at that height
 *      and index; GET /v1/txs/:id on every node answers committed at the
 *      chain's height and index with one result;
 *   5. an accepted tx missing from the chain is unknown to every node (404 or
 *      rejected, never pending), and the node that accepted it was killed -9
 *      after accepting it (only a crash may lose an accepted tx); resubmitted
 *      with the same bytes, every one of them commits, once; committed txs
 *      resubmitted are refused as duplicates; a refused tx never commits, and
 *      a refusal is only ever `busy` or `full`;
 *   6. every node exits 0 on SIGTERM, and no node's log (all its lives) holds
 *      a sanitizer report or an assertion failure.
 * Bounds grow by H_SCALE in sanitizer builds. The processes are started,
 * killed, frozen, thawed and stopped by the harness (harness.h). On failure
 * every process is killed and the network's directory is kept (its path is
 * printed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/http_client.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "harness.h"
#include "trng.h"

#define SCALED(ms) ((uint64_t)(ms) * H_SCALE)

#define NV 4
#define NO 1
#define NN (NV + NO)
#define OBSERVER NV /* node index of the observer */
#define EMPTY_BLOCK_MS 300

/* The schedule: counts, gaps before each fault (after the previous one is
 * over) and how long the victim stays out. */
#define V_FAULTS_MIN 11
#define V_FAULTS_SPREAD 3 /* 11..14 validator faults */
#define O_FAULTS_MIN 4
#define O_FAULTS_SPREAD 3 /* 4..7 observer faults */
#define V_GAP_MS_MIN 200
#define V_GAP_MS_MAX 1000
#define V_DOWN_MS_MIN 300
#define V_DOWN_MS_MAX 2000
#define O_GAP_MS_MIN 1000
#define O_GAP_MS_MAX 4000
#define O_DOWN_MS_MIN 200
#define O_DOWN_MS_MAX 1500

/* The client. A signer's sequence must lie within 4,096 of its highest used
 * one (docs/architecture.md); lost txs are resubmitted with their old
 * sequence at the end, so the client sends fewer than that in all. */
#define TXS_MAX 3500
#define BATCH_TXS_MAX 3
#define SUBMIT_EVERY_MS 40
#define OBSERVE_EVERY_MS 100
#define OBSERVE_TXS 3         /* random txs asked about per observation */
#define DUPLICATE_SAMPLE 20   /* committed txs resubmitted at the end */
#define REASONS_MAX 16
#define HEIGHTS_MAX 100000
#define TX_INDEX_SLOTS 8192   /* power of two, > 2 × TXS_MAX */

/* Bounds (× H_SCALE; starting and stopping a node: the harness's). */
#define HTTP_MS 10000
#define START_MS_MAX 20000
#define CATCHUP_MS_MAX 30000
#define CHAOS_MS_MAX 120000
#define SETTLE_MS_MAX 60000
#define COMMIT_GAP_MS_MAX 8000
#define CATCHUP_POLL_MS 50

static const char *g_veche;

/* ---- the network and its processes ---- */

typedef struct {
  bool running;     /* process alive (maybe frozen) */
  bool frozen;      /* SIGSTOPped */
  uint32_t kills;   /* kill -9s so far */
  uint64_t shown;   /* highest height it ever reported (must survive kill -9) */
  uint64_t watched; /* /v1/commits read up to this height */
} node_state_t;

static h_net_t g_net;
static bool g_net_made, g_passed;
static node_state_t g_ns[NN];

static const char *node_name(size_t k) {
  static const char *names[NN] = {"v0", "v1", "v2", "v3", "o0"};
  return names[k];
}

static uint64_t now_rt_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* One JSON request to node k within SCALED(HTTP_MS); the status, or
 * H_NO_ANSWER when k is down, frozen or too slow (harness.h h_call). */
static int api_call(size_t k, const char *method, const char *path, const json_t *body, json_t **out) {
  return h_call(&g_net.node[k], method, path, body, out, (int)SCALED(HTTP_MS));
}

static uint64_t json_u64(const json_t *o, const char *key) {
  return (uint64_t)json_integer_value(json_object_get(o, key));
}

/* Node k's height as /health (published) and /v1/status (store tip) show it;
 * the larger one, recorded as shown. Fails if k does not answer. */
static uint64_t node_height(size_t k) {
  uint64_t h = h_shown_height(&g_net.node[k]);
  if (h > g_ns[k].shown) g_ns[k].shown = h;
  return h;
}

/* The processes, through the harness; g_ns keeps what the checks need. */
static void proc_start(size_t k) {
  g_ns[k].running = true;
  g_ns[k].frozen = false;
  h_node_start(&g_net.node[k]);
}

static void proc_kill9(size_t k) {
  h_node_kill9(&g_net.node[k]);
  g_ns[k].running = g_ns[k].frozen = false;
  g_ns[k].kills++;
}

static void proc_freeze(size_t k) {
  h_node_freeze(&g_net.node[k]);
  g_ns[k].frozen = true;
}

static void proc_thaw(size_t k) {
  h_node_thaw(&g_net.node[k]);
  g_ns[k].frozen = false;
}

/* SIGTERM; the test fails unless the node exits 0 (naming a sanitizer report
 * in its log, if there is one). */
static void proc_stop(size_t k) {
  h_node_stop(&g_net.node[k]);
  g_ns[k].running = false;
}

static bool node_usable(size_t k) { return g_ns[k].running && !g_ns[k].frozen; }

/* ---- the seeded random streams ---- */


static uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi) { return lo + trng_step(s) % (hi - lo + 1); }

static uint64_t g_client_rng;

/* A random usable node (the fault rules keep at least three). */
static size_t random_usable(void) {
  size_t pick[NN], n = 0;
  for (size_t k = 0; k < NN; k++)
    if (node_usable(k)) pick[n++] = k;
  assert_true(n > 0);
  return pick[trng_step(&g_client_rng) % n];
}

/* ---- what the client sent and what the nodes said about it ---- */

enum { TX_ACCEPTED = 1, TX_REFUSED, TX_UNKNOWN };
#define CODE_BYTES 32

typedef struct {
  uint8_t id[32];
  char *hex;            /* the signed tx, for resubmission */
  uint8_t fate;         /* TX_* as the API answered */
  uint8_t node;         /* the node that answered */
  uint32_t node_kills;  /* its kill count then (a later kill may lose the tx) */
  uint64_t seen_height; /* first commit any node reported (0: none) */
  uint32_t seen_index;
  char seen_code[CODE_BYTES]; /* "ok" or the error name; "" unknown yet */
  uint8_t seen_by;
  uint64_t chain_height; /* in the final chain (0: absent) */
  uint32_t chain_index;
} tx_t;

static tx_t g_tx[TXS_MAX];
static size_t g_ntx;
static int32_t g_tx_slot[TX_INDEX_SLOTS]; /* index into g_tx + 1; 0 empty */
static uint32_t g_next_identity;

static struct {
  char name[CODE_BYTES];
  size_t count;
} g_reasons[REASONS_MAX];

static uint64_t g_block_time[HEIGHTS_MAX + 1]; /* header time reported for each height */
static uint8_t g_block_time_by[HEIGHTS_MAX + 1];

static uint32_t slot_of(const uint8_t id[32]) {
  uint32_t h;
  memcpy(&h, id, sizeof h);
  return h & (TX_INDEX_SLOTS - 1);
}

static tx_t *tx_find(const uint8_t id[32]) {
  for (uint32_t s = slot_of(id);; s = (s + 1) & (TX_INDEX_SLOTS - 1)) {
    if (!g_tx_slot[s]) return NULL;
    tx_t *t = &g_tx[g_tx_slot[s] - 1];
    if (!memcmp(t->id, id, 32)) return t;
  }
}

static tx_t *tx_find_hex(const char *hex) {
  uint8_t id[32];
  if (!hex || ve_hex_decode(id, sizeof id, hex) != 0) fail_msg("bad tx id from a node: %s", hex ? hex : "null");
  return tx_find(id);
}

static tx_t *tx_add(void) {
  assert_true(g_ntx < TXS_MAX);
  tx_t *t = &g_tx[g_ntx++];
  memset(t, 0, sizeof *t);
  char *hex = h_register_hex(&g_net.node[0], 0x434841, g_next_identity++, 3, t->id);
  t->hex = hex;
  uint32_t s = slot_of(t->id);
  while (g_tx_slot[s]) s = (s + 1) & (TX_INDEX_SLOTS - 1);
  g_tx_slot[s] = (int32_t)g_ntx;
  return t;
}

static void reason_count(const char *name) {
  if (!name) name = "(none)";
  for (size_t i = 0; i < REASONS_MAX; i++) {
    if (!g_reasons[i].name[0]) snprintf(g_reasons[i].name, CODE_BYTES, "%s", name);
    if (!strcmp(g_reasons[i].name, name)) {
      g_reasons[i].count++;
      return;
    }
  }
  fail_msg("more than %d refusal reasons", REASONS_MAX);
}

/* Node k reports t committed at (height, index) with result code (NULL: not
 * said); it must agree with every earlier report. */
static void tx_report(size_t k, tx_t *t, uint64_t height, uint32_t index, const char *code) {
  char hex[65];
  if (!t->seen_height) {
    t->seen_height = height;
    t->seen_index = index;
    t->seen_by = (uint8_t)k;
  } else if (t->seen_height != height || t->seen_index != index) {
    ve_hex_encode(hex, t->id, 32);
    fail_msg("tx %s: %s reports it at height %llu index %u, %s reported height %llu index %u", hex,
             node_name(k), (unsigned long long)height, index, node_name(t->seen_by),
             (unsigned long long)t->seen_height, t->seen_index);
  }
  if (!code) return;
  if (!t->seen_code[0]) snprintf(t->seen_code, CODE_BYTES, "%s", code);
  else if (strcmp(t->seen_code, code) != 0) {
    ve_hex_encode(hex, t->id, 32);
    fail_msg("tx %s: %s reports result %s, earlier %s", hex, node_name(k), code, t->seen_code);
  }
}

static void block_time_report(size_t k, uint64_t height, uint64_t time_ms) {
  if (height > HEIGHTS_MAX) fail_msg("height %llu over HEIGHTS_MAX", (unsigned long long)height);
  if (!g_block_time[height]) {
    g_block_time[height] = time_ms;
    g_block_time_by[height] = (uint8_t)k;
  } else if (g_block_time[height] != time_ms) {
    fail_msg("height %llu: %s reports block time %llu, %s reported %llu (a fork)", (unsigned long long)height,
             node_name(k), (unsigned long long)time_ms, node_name(g_block_time_by[height]),
             (unsigned long long)g_block_time[height]);
  }
}

/* The result code of a GET /v1/txs/:id answer, or NULL if not final. */
static const char *tx_answer_code(const json_t *j) {
  const char *s = json_string_value(json_object_get(j, "status"));
  if (!s) return NULL;
  if (!strcmp(s, "committed")) return "ok";
  if (!strcmp(s, "failed")) {
    const char *e = json_string_value(json_object_get(j, "error"));
    return e ? e : "failed";
  }
  return NULL;
}

/* ---- the client and the watcher ---- */

/* Sends 1..BATCH_TXS_MAX fresh registrations to node k: one alone as
 * {"tx"} (202 accepted, or refused with the error's status), more as a batch
 * {"txs"} (200 with a result each, or 503 busy for the whole batch). */
static void submit_batch(size_t k) {
  size_t count = (size_t)rng_range(&g_client_rng, 1, BATCH_TXS_MAX);
  if (g_ntx + count > TXS_MAX) return;
  size_t first = g_ntx;
  json_t *body;
  if (count == 1) {
    body = json_pack("{s:s}", "tx", tx_add()->hex);
  } else {
    json_t *txs = json_array();
    for (size_t i = 0; i < count; i++) json_array_append_new(txs, json_string(tx_add()->hex));
    body = json_pack("{s:o}", "txs", txs);
  }
  json_t *r = NULL;
  int st = api_call(k, "POST", "/v1/txs", body, &r);
  json_decref(body);
  json_t *results = json_object_get(r, "results");
  for (size_t i = 0; i < count; i++) {
    tx_t *t = &g_tx[first + i];
    t->node = (uint8_t)k;
    t->node_kills = g_ns[k].kills;
    const char *error = json_string_value(json_object_get(r, "error"));
    if (st == H_NO_ANSWER) {
      t->fate = TX_UNKNOWN;
    } else if (count == 1 && st == 202) {
      t->fate = TX_ACCEPTED;
    } else if (count > 1 && st == 200 && json_array_size(results) == count) {
      json_t *one = json_array_get(results, i);
      const char *s = json_string_value(json_object_get(one, "status"));
      t->fate = s && !strcmp(s, "accepted") ? TX_ACCEPTED : TX_REFUSED;
      if (t->fate == TX_REFUSED) reason_count(json_string_value(json_object_get(one, "error")));
    } else if (error && ((st >= 400 && st < 500) || st == 503)) {
      t->fate = TX_REFUSED;
      reason_count(error);
    } else {
      char *dump = r ? json_dumps(r, JSON_COMPACT) : NULL;
      fail_msg("POST /v1/txs (%zu txs) to %s: HTTP %d %s", count, node_name(k), st, dump ? dump : "");
    }
  }
  json_decref(r);
}

/* Reads the blocks node k committed since the last look, and asks it about a
 * few random txs; records every commit it reports. */
static void watch(void) {
  size_t k = random_usable();
  char path[128];
  snprintf(path, sizeof path, "/v1/commits?from=%llu&limit=256", (unsigned long long)g_ns[k].watched + 1);
  json_t *c = NULL;
  if (api_call(k, "GET", path, NULL, &c) == 200) {
    uint64_t tip = json_u64(c, "height");
    if (tip > g_ns[k].shown) g_ns[k].shown = tip;
    size_t i;
    json_t *blk;
    json_array_foreach(json_object_get(c, "commits"), i, blk) {
      uint64_t h = json_u64(blk, "height");
      block_time_report(k, h, json_u64(blk, "time_ms"));
      size_t x;
      json_t *id;
      json_array_foreach(json_object_get(blk, "txs"), x, id) {
        tx_t *t = tx_find_hex(json_string_value(id));
        if (t) tx_report(k, t, h, (uint32_t)x, NULL);
      }
      g_ns[k].watched = h;
    }
  }
  json_decref(c);
  for (int q = 0; q < OBSERVE_TXS && g_ntx; q++) {
    tx_t *t = &g_tx[trng_step(&g_client_rng) % g_ntx];
    char hex[65];
    ve_hex_encode(hex, t->id, 32);
    snprintf(path, sizeof path, "/v1/txs/%s", hex);
    json_t *j = NULL;
    const char *code;
    if (api_call(k, "GET", path, NULL, &j) == 200 && (code = tx_answer_code(j)))
      tx_report(k, t, json_u64(j, "height"), (uint32_t)json_u64(j, "index"), code);
    json_decref(j);
  }
}

/* ---- the fault schedule ---- */

typedef enum { F_KILL, F_FREEZE } fault_kind_t;

typedef struct {
  size_t node;
  fault_kind_t kind;
  uint64_t gap_ms, down_ms; /* from the seed */
  uint64_t start_rt_ms, back_rt_ms, catchup_ms; /* what happened */
} fault_t;

typedef enum { PH_WAIT, PH_OUT, PH_CATCHUP, PH_DONE } phase_t;

/* One timeline of faults, one after the other: wait gap_ms, fault, wait
 * down_ms, bring back, (validators) wait until caught up, next. */
typedef struct {
  fault_t *f;
  size_t n, i;
  phase_t ph;
  uint64_t at;     /* monotonic ms: when the phase ends (WAIT, OUT) or its deadline (CATCHUP) */
  uint64_t target; /* CATCHUP: the height to reach */
  uint64_t poll;   /* CATCHUP: next look at the victim's height */
} timeline_t;

#define FAULTS_MAX (V_FAULTS_MIN + V_FAULTS_SPREAD + 1)
static fault_t g_vf[FAULTS_MAX], g_of[FAULTS_MAX];

static size_t schedule_make(uint64_t *rng, fault_t *f, bool validators) {
  size_t n = validators ? (size_t)rng_range(rng, V_FAULTS_MIN, V_FAULTS_MIN + V_FAULTS_SPREAD)
                        : (size_t)rng_range(rng, O_FAULTS_MIN, O_FAULTS_MIN + O_FAULTS_SPREAD);
  for (size_t i = 0; i < n; i++) {
    memset(&f[i], 0, sizeof f[i]);
    if (validators) {
      f[i].node = (size_t)trng_step(rng) % NV;
      f[i].kind = trng_step(rng) % 2 ? F_FREEZE : F_KILL;
      f[i].gap_ms = rng_range(rng, V_GAP_MS_MIN, V_GAP_MS_MAX);
      f[i].down_ms = rng_range(rng, V_DOWN_MS_MIN, V_DOWN_MS_MAX);
    } else {
      f[i].node = OBSERVER;
      f[i].kind = F_KILL;
      f[i].gap_ms = rng_range(rng, O_GAP_MS_MIN, O_GAP_MS_MAX);
      f[i].down_ms = rng_range(rng, O_DOWN_MS_MIN, O_DOWN_MS_MAX);
    }
  }
  return n;
}

static const char *kind_name(fault_kind_t k) { return k == F_KILL ? "kill -9" : "SIGSTOP"; }

static void fault_begin(fault_t *f) {
  f->start_rt_ms = now_rt_ms();
  if (f->kind == F_KILL) {
    (void)node_height(f->node); /* what it shows now must survive the kill */
    submit_batch(f->node);      /* and it dies with fresh txs in its mempool */
    proc_kill9(f->node);
  } else {
    proc_freeze(f->node);
  }
}

static void fault_end(fault_t *f) {
  if (f->kind == F_KILL) {
    uint64_t shown = g_ns[f->node].shown;
    proc_start(f->node);
    uint64_t h = node_height(f->node);
    if (h < shown)
      fail_msg("%s restarted at height %llu after kill -9, but had shown height %llu", node_name(f->node),
               (unsigned long long)h, (unsigned long long)shown);
  } else {
    proc_thaw(f->node);
  }
  f->back_rt_ms = now_rt_ms();
}

/* The highest height among the running validators other than `except`. */
static uint64_t validators_height(size_t except) {
  uint64_t m = 0;
  for (size_t k = 0; k < NV; k++) {
    if (k == except || !node_usable(k)) continue;
    uint64_t h = node_height(k);
    if (h > m) m = h;
  }
  return m;
}

static void timeline_next(timeline_t *tl) {
  if (++tl->i == tl->n) {
    tl->ph = PH_DONE;
    return;
  }
  tl->ph = PH_WAIT;
  tl->at = h_now_ms() + tl->f[tl->i].gap_ms;
}

static void timeline_step(timeline_t *tl) {
  fault_t *f = tl->ph == PH_DONE ? NULL : &tl->f[tl->i];
  uint64_t now = h_now_ms();
  switch (tl->ph) {
  case PH_WAIT:
    if (now < tl->at) return;
    fault_begin(f);
    tl->ph = PH_OUT;
    tl->at = now + f->down_ms;
    return;
  case PH_OUT:
    if (now < tl->at) return;
    fault_end(f);
    if (f->node == OBSERVER) {
      timeline_next(tl);
      return;
    }
    /* Back in means holding a block the others commit after its return: at
     * the same height with them is not enough (a node that restarted into
     * an old round does not vote in theirs yet, and the next fault would
     * then leave two validators out). */
    tl->target = validators_height(f->node) + 1;
    tl->ph = PH_CATCHUP;
    tl->at = h_now_ms() + SCALED(CATCHUP_MS_MAX);
    return;
  case PH_CATCHUP:
    if (now < tl->poll) return;
    tl->poll = now + CATCHUP_POLL_MS;
    if (node_height(f->node) >= tl->target) {
      f->catchup_ms = now_rt_ms() - f->back_rt_ms;
      timeline_next(tl);
    } else if (now > tl->at) {
      fail_msg("%s stuck below height %llu for %llu ms after coming back", node_name(f->node),
               (unsigned long long)tl->target, (unsigned long long)SCALED(CATCHUP_MS_MAX));
    }
    return;
  case PH_DONE:
    return;
  }
}

/* ---- the end: settle, compare, account ---- */

/* A keep-alive connection to one node for the many reads at the end. */
typedef struct {
  size_t k;
  http_conn_t *c;
} kconn_t;

static int kget(kconn_t *kc, const char *path, json_t **out) {
  *out = NULL;
  for (int attempt = 0; attempt < 3; attempt++) {
    if (!kc->c && http_conn_open("127.0.0.1", g_net.node[kc->k].port, (int)SCALED(HTTP_MS), &kc->c) != 0) {
      kc->c = NULL;
      continue;
    }
    http_response_t r;
    if (http_conn_request(kc->c, "GET", path, NULL, NULL, 0, (int)SCALED(HTTP_MS), &r) != 0) {
      http_conn_close(kc->c);
      kc->c = NULL;
      continue;
    }
    json_error_t je;
    *out = r.body.len ? json_loadb((const char *)r.body.ptr, r.body.len, 0, &je) : NULL;
    int st = r.status;
    http_response_free(&r);
    return st;
  }
  fail_msg("%s: GET %s got no answer", node_name(kc->k), path);
  return -1;
}

static void kconns_open(kconn_t kc[NN]) {
  for (size_t k = 0; k < NN; k++) kc[k] = (kconn_t){.k = k, .c = NULL};
}

static void kconns_close(kconn_t kc[NN]) {
  for (size_t k = 0; k < NN; k++) http_conn_close(kc[k].c);
}

/* Waits until no node holds a pending tx, then until every node has the
 * height the highest one had then; returns that common height. */
static uint64_t settle(void) {
  uint64_t end = h_now_ms() + SCALED(SETTLE_MS_MAX);
  for (;;) {
    size_t pending = 0, where = 0;
    for (size_t k = 0; k < NN; k++) {
      json_t *j = NULL;
      if (api_call(k, "GET", "/v1/status", NULL, &j) != 200) fail_msg("%s: no status", node_name(k));
      size_t p = (size_t)json_u64(j, "mempool_txs");
      json_decref(j);
      if (p) pending += p, where = k;
    }
    if (!pending) break;
    if (h_now_ms() > end)
      fail_msg("%zu txs still pending (e.g. on %s) %llu ms after the chaos", pending, node_name(where),
               (unsigned long long)SCALED(SETTLE_MS_MAX));
    h_sleep_ms(100);
  }
  uint64_t top = 0;
  for (size_t k = 0; k < NN; k++) {
    uint64_t h = node_height(k);
    if (h > top) top = h;
  }
  for (size_t k = 0; k < NN; k++) {
    while (node_height(k) < top) {
      if (h_now_ms() > end) fail_msg("%s did not reach height %llu", node_name(k), (unsigned long long)top);
      h_sleep_ms(50);
    }
  }
  return top;
}

/* Check 1 and 3 for heights from..top: same header and tx list on every
 * node; records each tx's place in the chain and each block's time. */
static void chain_compare(kconn_t kc[NN], uint64_t from, uint64_t top) {
  if (top > HEIGHTS_MAX) fail_msg("height %llu over HEIGHTS_MAX", (unsigned long long)top);
  char path[64];
  for (uint64_t h = from; h <= top; h++) {
    snprintf(path, sizeof path, "/v1/blocks/%llu", (unsigned long long)h);
    json_t *b[NN];
    for (size_t k = 0; k < NN; k++)
      if (kget(&kc[k], path, &b[k]) != 200) fail_msg("%s: no block at height %llu", node_name(k), (unsigned long long)h);
    json_t *hdr0 = json_object_get(b[0], "header"), *txs0 = json_object_get(b[0], "txs");
    assert_non_null(json_object_get(hdr0, "hash"));
    for (size_t k = 1; k < NN; k++) {
      json_t *hdr = json_object_get(b[k], "header");
      if (json_equal(hdr0, hdr) && json_equal(txs0, json_object_get(b[k], "txs"))) continue;
      const char *key = "txs";
      json_t *v0 = txs0, *vk = json_object_get(b[k], "txs"), *v;
      json_object_foreach(hdr0, key, v) {
        if (!json_equal(v, json_object_get(hdr, key))) {
          v0 = v, vk = json_object_get(hdr, key);
          break;
        }
      }
      char *a = json_dumps(v0, JSON_COMPACT | JSON_ENCODE_ANY), *o = json_dumps(vk, JSON_COMPACT | JSON_ENCODE_ANY);
      fail_msg("height %llu differs (%s): v0 %s, %s %s", (unsigned long long)h, key ? key : "txs", a ? a : "null",
               node_name(k), o ? o : "null");
    }
    uint64_t t_ms = json_u64(hdr0, "time_ms");
    if (g_block_time[h] && g_block_time[h] != t_ms)
      fail_msg("height %llu: block time %llu now, %llu reported by %s during the chaos", (unsigned long long)h,
               (unsigned long long)t_ms, (unsigned long long)g_block_time[h], node_name(g_block_time_by[h]));
    g_block_time[h] = t_ms;
    size_t i;
    json_t *id;
    json_array_foreach(txs0, i, id) {
      tx_t *t = tx_find_hex(json_string_value(id));
      if (!t) fail_msg("height %llu holds tx %s, which the client never sent", (unsigned long long)h,
                       json_string_value(id));
      if (t->chain_height)
        fail_msg("tx %s committed twice: heights %llu and %llu", json_string_value(id),
                 (unsigned long long)t->chain_height, (unsigned long long)h);
      t->chain_height = h;
      t->chain_index = (uint32_t)i;
    }
    for (size_t k = 0; k < NN; k++) json_decref(b[k]);
  }
}

/* Check 2 over the chaos window [t0, t1] (wall clock, as block times are). */
static void liveness_check(uint64_t top, uint64_t t0, uint64_t t1, const fault_t *vf, size_t nvf,
                           const fault_t *of, size_t nof) {
  uint64_t gap_max = 0, gap_at = 0, h0 = 0, h1 = 0;
  for (uint64_t h = 2; h <= top; h++) {
    if (g_block_time[h] <= t0 || g_block_time[h - 1] >= t1) continue;
    uint64_t gap = g_block_time[h] - g_block_time[h - 1];
    if (gap > gap_max) gap_max = gap, gap_at = h;
    if (!h0) h0 = h - 1;
    h1 = h;
  }
  printf("chaos: heights %llu..%llu in %llu ms; longest gap between blocks %llu ms (before height %llu)\n",
         (unsigned long long)h0, (unsigned long long)h1, (unsigned long long)(t1 - t0),
         (unsigned long long)gap_max, (unsigned long long)gap_at);
  for (size_t w = 0; w < 2 && gap_at; w++) { /* what was out around the longest gap */
    const fault_t *f = w ? of : vf;
    size_t n = w ? nof : nvf;
    for (size_t i = 0; i < n; i++)
      if (f[i].start_rt_ms < g_block_time[gap_at] && f[i].back_rt_ms + f[i].catchup_ms > g_block_time[gap_at - 1])
        printf("  during that gap (+%llu..+%llu ms): %s %s from +%llu ms, back at +%llu, back in at +%llu\n",
               (unsigned long long)(g_block_time[gap_at - 1] - t0), (unsigned long long)(g_block_time[gap_at] - t0),
               kind_name(f[i].kind), node_name(f[i].node), (unsigned long long)(f[i].start_rt_ms - t0),
               (unsigned long long)(f[i].back_rt_ms - t0), (unsigned long long)(f[i].back_rt_ms + f[i].catchup_ms - t0));
  }
  for (size_t w = 0; w < 2; w++) {
    const fault_t *f = w ? of : vf;
    size_t n = w ? nof : nvf;
    for (size_t i = 0; i < n; i++) {
      uint64_t next = 0;
      for (uint64_t h = 1; h <= top && !next; h++)
        if (g_block_time[h] > f[i].start_rt_ms) next = g_block_time[h];
      char caught[48] = "";
      if (!w) snprintf(caught, sizeof caught, ", back in after %llu ms", (unsigned long long)f[i].catchup_ms);
      printf("  %-7s %s at +%6llu ms, out %4llu ms%s; next block %llu ms after the fault\n", kind_name(f[i].kind),
             node_name(f[i].node), (unsigned long long)(f[i].start_rt_ms - t0),
             (unsigned long long)(f[i].back_rt_ms - f[i].start_rt_ms), caught,
             next ? (unsigned long long)(next - f[i].start_rt_ms) : 0ull);
      if (!next) fail_msg("no block after the fault at +%llu ms", (unsigned long long)(f[i].start_rt_ms - t0));
    }
  }
  assert_true(h1 > h0 + nvf + nof); /* the height advanced, and by more than one per fault */
  if (gap_max > SCALED(COMMIT_GAP_MS_MAX))
    fail_msg("no commit for %llu ms before height %llu (bound %llu ms) with at most one validator out",
             (unsigned long long)gap_max, (unsigned long long)gap_at, (unsigned long long)SCALED(COMMIT_GAP_MS_MAX));
}

/* Check 4 and the first part of 5: every tx asked of every node. */
static void txs_check(kconn_t kc[NN]) {
  char path[128], hex[65];
  for (size_t i = 0; i < g_ntx; i++) {
    tx_t *t = &g_tx[i];
    ve_hex_encode(hex, t->id, 32);
    if (t->seen_height && (t->seen_height != t->chain_height || t->seen_index != t->chain_index))
      fail_msg("tx %s: %s reported it at height %llu index %u during the chaos; the chain has %llu index %u", hex,
               node_name(t->seen_by), (unsigned long long)t->seen_height, t->seen_index,
               (unsigned long long)t->chain_height, t->chain_index);
    snprintf(path, sizeof path, "/v1/txs/%s", hex);
    for (size_t k = 0; k < NN; k++) {
      json_t *j;
      int st = kget(&kc[k], path, &j);
      const char *status = json_string_value(json_object_get(j, "status"));
      if (t->chain_height) {
        const char *code = st == 200 ? tx_answer_code(j) : NULL;
        if (!code || json_u64(j, "height") != t->chain_height || json_u64(j, "index") != t->chain_index)
          fail_msg("tx %s (height %llu index %u): %s answers HTTP %d %s", hex, (unsigned long long)t->chain_height,
                   t->chain_index, node_name(k), st, status ? status : "");
        tx_report(k, t, t->chain_height, t->chain_index, code);
      } else if (!(st == 404 || (st == 200 && status && !strcmp(status, "rejected")))) {
        fail_msg("tx %s, not in the chain: %s answers HTTP %d %s", hex, node_name(k), st, status ? status : "");
      }
      json_decref(j);
    }
    if (t->chain_height && t->fate == TX_REFUSED)
      fail_msg("tx %s: refused by %s, yet committed at height %llu", hex, node_name(t->node),
               (unsigned long long)t->chain_height);
    if (t->chain_height || t->fate != TX_ACCEPTED) continue;
    if (g_ns[t->node].kills == t->node_kills)
      fail_msg("tx %s: accepted by %s, which was never killed afterwards, is not committed", hex, node_name(t->node));
  }
}

/* The rest of 5: lost txs resubmitted commit once; committed ones are
 * refused as duplicates. Returns how many were resubmitted. */
static size_t resubmit(void) {
  size_t lost = 0, dup = 0;
  for (size_t i = 0; i < g_ntx; i++) {
    tx_t *t = &g_tx[i];
    json_t *body = json_pack("{s:s}", "tx", t->hex), *r = NULL;
    if (!t->chain_height && t->fate != TX_REFUSED) {
      size_t k = lost++ % NV;
      int st = api_call(k, "POST", "/v1/txs", body, &r);
      if (st != 202) fail_msg("a lost tx resubmitted to %s: HTTP %d %s", node_name(k), st,
                              json_string_value(json_object_get(r, "error")));
    } else if (t->chain_height && dup < DUPLICATE_SAMPLE && trng_step(&g_client_rng) % 8 == 0) {
      size_t k = dup++ % NN;
      int st = api_call(k, "POST", "/v1/txs", body, &r);
      const char *e = json_string_value(json_object_get(r, "error"));
      if (st != 409 || !e || strcmp(e, "duplicate") != 0)
        fail_msg("a committed tx resubmitted to %s: HTTP %d %s, want 409 duplicate", node_name(k), st, e ? e : "");
    }
    json_decref(body);
    json_decref(r);
  }
  printf("end: %zu lost txs resubmitted; %zu committed ones refused as duplicate\n", lost, dup);
  return lost;
}

/* Check 6, logs: no sanitizer report or assertion failure in any life. */
static void logs_check(void) {
  for (size_t k = 0; k < NN; k++) h_log_check(&g_net.node[k]);
}

static void reasons_check(void) {
  for (size_t i = 0; i < REASONS_MAX && g_reasons[i].name[0]; i++) {
    printf("  refused %zu × %s\n", g_reasons[i].count, g_reasons[i].name);
    if (strcmp(g_reasons[i].name, "busy") != 0 && strcmp(g_reasons[i].name, "full") != 0)
      fail_msg("a submission refused as %s", g_reasons[i].name);
  }
}

static void fates_print(void) {
  size_t n[4] = {0}, committed = 0, lost = 0, seen = 0;
  for (size_t i = 0; i < g_ntx; i++) {
    n[g_tx[i].fate]++;
    committed += g_tx[i].chain_height != 0;
    lost += !g_tx[i].chain_height && g_tx[i].fate == TX_ACCEPTED;
    seen += g_tx[i].seen_height != 0;
  }
  printf("txs: %zu sent, %zu accepted, %zu refused, %zu unanswered; %zu in the chain (%zu seen committed during "
         "the chaos), %zu accepted ones lost with a killed node\n",
         g_ntx, n[TX_ACCEPTED], n[TX_REFUSED], n[TX_UNKNOWN], committed, seen, lost);
}

/* ---- the test ---- */

static void run_chaos(uint64_t seed, fault_t *vf, size_t nvf, fault_t *of, size_t nof, uint64_t *t0, uint64_t *t1) {
  g_client_rng = seed ^ 0x636c69656e74ull;
  timeline_t vt = {.f = vf, .n = nvf, .ph = PH_WAIT, .at = h_now_ms() + vf[0].gap_ms};
  timeline_t ot = {.f = of, .n = nof, .ph = PH_WAIT, .at = h_now_ms() + of[0].gap_ms};
  uint64_t start = h_now_ms(), next_submit = 0, next_watch = 0;
  *t0 = now_rt_ms();
  while (vt.ph != PH_DONE || ot.ph != PH_DONE) {
    if (h_now_ms() - start > SCALED(CHAOS_MS_MAX))
      fail_msg("the schedule did not finish within %llu ms", (unsigned long long)SCALED(CHAOS_MS_MAX));
    timeline_step(&vt);
    timeline_step(&ot);
    uint64_t now = h_now_ms();
    if (now >= next_submit) submit_batch(random_usable()), next_submit = now + SUBMIT_EVERY_MS;
    if (now >= next_watch) watch(), next_watch = now + OBSERVE_EVERY_MS;
    h_sleep_ms(5);
  }
  *t1 = now_rt_ms();
}

static void test_chaos(void **state) {
  (void)state;
  uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
  const char *env = getenv("VECHE_SEED");
  if (env) seed = strtoull(env, NULL, 10);
  printf("chaos_test seed=%llu (replay with VECHE_SEED=%llu), scale %d\n", (unsigned long long)seed,
         (unsigned long long)seed, H_SCALE);
  uint64_t rng = seed;
  size_t nvf = schedule_make(&rng, g_vf, true), nof = schedule_make(&rng, g_of, false);
  printf("schedule: %zu validator faults, %zu observer faults\n", nvf, nof);
  for (size_t i = 0; i < nvf; i++)
    printf("  %zu: after %4llu ms %-7s %s for %4llu ms\n", i, (unsigned long long)g_vf[i].gap_ms,
           kind_name(g_vf[i].kind), node_name(g_vf[i].node), (unsigned long long)g_vf[i].down_ms);
  for (size_t i = 0; i < nof; i++)
    printf("  o%zu: after %4llu ms kill -9 o0 for %4llu ms\n", i, (unsigned long long)g_of[i].gap_ms,
           (unsigned long long)g_of[i].down_ms);

  h_net_init(&g_net, g_veche, NV, NO, EMPTY_BLOCK_MS);
  g_net_made = true;
  uint64_t t_begin = h_now_ms();
  for (size_t k = 0; k < NN; k++) proc_start(k);
  h_wait_height(&g_net.node[0], 2, (int)SCALED(START_MS_MAX));

  uint64_t t0, t1;
  run_chaos(seed, g_vf, nvf, g_of, nof, &t0, &t1);
  for (size_t k = 0; k < NN; k++) assert_true(node_usable(k));
  printf("chaos over after %llu ms\n", (unsigned long long)(t1 - t0));

  uint64_t t_end = h_now_ms(), top = settle();
  printf("end: mempools empty and every node at height %llu after %llu ms\n", (unsigned long long)top,
         (unsigned long long)(h_now_ms() - t_end));
  kconn_t kc[NN];
  kconns_open(kc);
  chain_compare(kc, 1, top);
  printf("end: all %d nodes identical at heights 1..%llu\n", NN, (unsigned long long)top);
  liveness_check(top, t0, t1, g_vf, nvf, g_of, nof);
  uint64_t t_txs = h_now_ms();
  txs_check(kc);
  printf("end: every tx asked of every node in %llu ms\n", (unsigned long long)(h_now_ms() - t_txs));
  fates_print();
  reasons_check();

  size_t lost = resubmit();
  if (lost) {
    uint64_t top2 = settle();
    chain_compare(kc, top + 1, top2);
    for (size_t i = 0; i < g_ntx; i++)
      if (!g_tx[i].chain_height && g_tx[i].fate != TX_REFUSED) fail_msg("a resubmitted tx did not commit");
    printf("end: resubmitted txs committed once; all nodes identical at heights 1..%llu\n", (unsigned long long)top2);
  }
  kconns_close(kc);

  for (size_t k = 0; k < NN; k++) proc_stop(k); /* a sanitizer report at exit names the cause */
  logs_check();
  printf("end: every node exited 0 on SIGTERM; no sanitizer report or assertion in any log; %llu ms in all\n",
         (unsigned long long)(h_now_ms() - t_begin));
  g_passed = true;
}

/* Runs even when the test failed: no process outlives it; a failed run keeps
 * its directory for the node logs. */
static int teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < g_ntx; i++) free(g_tx[i].hex);
  if (!g_net_made) return 0;
  for (size_t k = 0; k < NN; k++)
    if (g_net.node[k].pid) h_node_kill9(&g_net.node[k]);
  if (g_passed) {
    h_net_cleanup(&g_net);
  } else {
    for (size_t k = 0; k < NN; k++) vcrypto_keypair_wipe(&g_net.node[k].authority);
    printf("chaos_test failed: node logs kept in %s/tn/<node>/node.log\n", g_net.dir);
  }
  return 0;
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_chaos, teardown)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
