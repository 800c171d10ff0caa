/* netload_io.c — the threads that talk to the nodes during a run.
 *
 * Submitters: one per (node, connection), each with its own keep-alive
 * connection. A submitter takes its node's next batch, waits for the batch's
 * due time (open loop) or not at all (as fast as accepted), posts it and
 * settles every tx in it from the answer:
 *   accepted, or duplicate (an earlier post of this batch got it in)  -> ACCEPTED;
 *   full or timeout (the node sheds load)  -> the batch is posted again after
 *                                             NL_RETRY_SLEEP_MS, up to NL_RETRIES_MAX;
 *   busy (back-pressure: the whole batch as 503, or some of its txs in a 200)
 *                                          -> posted again after the answer's
 *                                             Retry-After (at most
 *                                             NL_BUSY_SLEEP_MS_MAX), for at most
 *                                             NL_BUSY_WAIT_MS_MAX per batch;
 *   anything else  -> REJECTED, counted under its error code.
 * A failed connection is reopened and the batch posted again. Because the
 * answer usually says "rejected": 0, only failing answers are parsed whole.
 *
 * Followers: one per followed node. Each reads GET /v1/commits from the height
 * after the setup and notes, for every tx of this run it finds, the block's
 * committed_ms on that node. A block whose time is null is read again for up to
 * NL_NULL_TIME_TRIES x NL_FOLLOW_IDLE_MS (the node exposes a new height just
 * before it records the block's commit time); after that — the node restarted
 * or we fell 4,096 blocks behind — the time we read it stands in, and is counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/http_client.h"
#include "base/err.h"
#include "netload.h"

const char *const nl_reject_names[NL_REJECT_KINDS] = {
    "stale_sequence", "expired", "bad_signature", "no_permission", "already_exists",
    "full",           "busy",    "unknown_signer", "other"};

static size_t reject_slot(const char *code) {
  for (size_t k = 0; k + 1 < NL_REJECT_KINDS; k++)
    if (code && !strcmp(code, nl_reject_names[k])) return k;
  return NL_REJECT_KINDS - 1;
}

/* Worth posting again: the node shed load rather than judged the tx. */
static bool transient(const char *err) {
  return err && (!strcmp(err, "full") || !strcmp(err, "timeout") || !strcmp(err, "busy"));
}

/* ---- submitters ---- */

/* Reads "accepted" and "rejected" from the start of a batch answer without
 * parsing the per-tx results. Returns 0 if both were found. */
static int counts_scan(const char *p, size_t len, long long *acc, long long *rej) {
  size_t head = len < 96 ? len : 96;
  char buf[97];
  memcpy(buf, p, head);
  buf[head] = 0;
  const char *a = strstr(buf, "\"accepted\""), *r = strstr(buf, "\"rejected\"");
  if (!a || !r) return -1;
  a = strchr(a + 10, ':');
  r = strchr(r + 10, ':');
  if (!a || !r) return -1;
  char *end;
  *acc = strtoll(a + 1, &end, 10);
  if (end == a + 1) return -1;
  *rej = strtoll(r + 1, &end, 10);
  return end == r + 1 ? -1 : 0;
}

/* RETRY_BUSY: some or all of the batch was refused as busy; wait Retry-After. */
typedef enum { SETTLED, RETRY, RETRY_BUSY } settle_t;

/* Applies a parsed batch answer to the batch's txs [lo, hi). */
static settle_t settle_results(nl_run_t *r, size_t lo, size_t hi, const json_t *res) {
  const json_t *results = json_object_get(res, "results");
  if (json_array_size(results) != hi - lo) return RETRY;
  settle_t out = SETTLED;
  for (size_t i = lo; i < hi; i++) {
    if (r->state[i] != NL_TX_UNSENT) continue;
    const json_t *it = json_array_get(results, i - lo);
    const char *st = json_string_value(json_object_get(it, "status"));
    const char *err = json_string_value(json_object_get(it, "error"));
    if ((st && !strcmp(st, "accepted")) || (err && !strcmp(err, "duplicate"))) {
      r->state[i] = NL_TX_ACCEPTED;
      atomic_fetch_add(&r->accepted, 1);
    } else if (transient(err)) {
      if (out != RETRY_BUSY) out = strcmp(err, "busy") ? RETRY : RETRY_BUSY;
    } else {
      r->state[i] = NL_TX_REJECTED;
      atomic_fetch_add(&r->rejected, 1);
      atomic_fetch_add(&r->reject_codes[reject_slot(err)], 1);
    }
  }
  return out;
}

/* The same for a /v1/txs/raw answer, which lists only the rejections. */
static settle_t settle_errors(nl_run_t *r, size_t lo, size_t hi, const json_t *res) {
  const json_t *errors = json_object_get(res, "errors");
  if (!json_is_array(errors)) return RETRY;
  settle_t out = SETTLED;
  uint8_t *verdict = calloc(hi - lo, 1); /* 1 rejected, 2 retry, 3 busy */
  if (!verdict) return RETRY;
  size_t k;
  const json_t *e;
  json_array_foreach(errors, k, e) {
    json_int_t at = json_integer_value(json_object_get(e, "index"));
    const char *err = json_string_value(json_object_get(e, "error"));
    if (at < 0 || (size_t)at >= hi - lo || (err && !strcmp(err, "duplicate"))) continue;
    verdict[at] = !transient(err) ? 1 : strcmp(err, "busy") ? 2 : 3;
    if (verdict[at] == 1 && r->state[lo + (size_t)at] == NL_TX_UNSENT) {
      r->state[lo + (size_t)at] = NL_TX_REJECTED;
      atomic_fetch_add(&r->rejected, 1);
      atomic_fetch_add(&r->reject_codes[reject_slot(err)], 1);
    }
  }
  for (size_t i = lo; i < hi; i++) {
    if (verdict[i - lo] == 3) out = RETRY_BUSY;
    if (verdict[i - lo] == 2 && out != RETRY_BUSY) out = RETRY;
    if (verdict[i - lo] || r->state[i] != NL_TX_UNSENT) continue;
    r->state[i] = NL_TX_ACCEPTED;
    atomic_fetch_add(&r->accepted, 1);
  }
  free(verdict);
  return out;
}

/* Marks every tx of [lo, hi) still unsettled as rejected under code. */
static void settle_all_rejected(nl_run_t *r, size_t lo, size_t hi, const char *code) {
  for (size_t i = lo; i < hi; i++) {
    if (r->state[i] != NL_TX_UNSENT) continue;
    r->state[i] = NL_TX_REJECTED;
    atomic_fetch_add(&r->rejected, 1);
    atomic_fetch_add(&r->reject_codes[reject_slot(code)], 1);
  }
}

/* Is this non-200 answer a busy refusal? */
static bool answer_busy(const http_response_t *resp) {
  if (resp->status != 503 || !resp->body.len) return false;
  json_t *j = json_loadb((const char *)resp->body.ptr, resp->body.len, 0, NULL);
  const char *err = json_string_value(json_object_get(j, "error"));
  bool busy = err && !strcmp(err, "busy");
  json_decref(j);
  return busy;
}

/* One post of batch b. Returns SETTLED, RETRY or RETRY_BUSY (then *retry_after_s
 * is the node's Retry-After, 0 if none); *c is closed on I/O errors. */
static settle_t post_once(nl_run_t *r, http_conn_t **c, const nl_addr_t *a, size_t b, unsigned *retry_after_s) {
  *retry_after_s = 0;
  size_t lo = b * r->o->batch, hi = lo + r->o->batch < r->n_txs ? lo + r->o->batch : r->n_txs;
  if (!*c && http_conn_open(a->host, a->port, 10000, c) != 0) {
    atomic_fetch_add(&r->http_errors, 1);
    return RETRY;
  }
  http_response_t resp;
  const char *path = r->o->raw ? "/v1/txs/raw" : "/v1/txs";
  const char *type = r->o->raw ? "application/octet-stream" : "application/json";
  if (http_conn_request(*c, "POST", path, type, r->bodies[b], r->body_lens[b], NL_HTTP_MS, &resp) != 0) {
    http_conn_close(*c);
    *c = NULL;
    atomic_fetch_add(&r->http_errors, 1);
    return RETRY;
  }
  settle_t out = SETTLED;
  long long acc, rej;
  int first = r->state[lo] == NL_TX_UNSENT && r->state[hi - 1] == NL_TX_UNSENT;
  if (resp.status == 200 && first && counts_scan((const char *)resp.body.ptr, resp.body.len, &acc, &rej) == 0 &&
      rej == 0 && (size_t)acc == hi - lo) {
    for (size_t i = lo; i < hi; i++) r->state[i] = NL_TX_ACCEPTED;
    atomic_fetch_add(&r->accepted, hi - lo);
  } else if (resp.status == 200) {
    json_t *res = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
    out = !res ? RETRY : r->o->raw ? settle_errors(r, lo, hi, res) : settle_results(r, lo, hi, res);
    json_decref(res);
  } else if (answer_busy(&resp)) {
    out = RETRY_BUSY; /* refused whole before any of it was looked at */
  } else {
    atomic_fetch_add(&r->http_errors, 1);
    out = RETRY; /* 503 and the like: the node sheds load as a whole */
  }
  if (out == RETRY_BUSY) *retry_after_s = resp.retry_after_s;
  http_response_free(&resp);
  return out;
}

static void post_batch(nl_run_t *r, http_conn_t **c, const nl_addr_t *a, size_t b, double due_ms) {
  r->sent_ms[b] = nl_now_ms();
  r->sched_ms[b] = due_ms > 0 ? due_ms : r->sent_ms[b];
  double busy_ms = 0; /* waited for busy so far */
  for (int attempt = 0;; attempt++) {
    unsigned retry_after_s;
    settle_t st = post_once(r, c, a, b, &retry_after_s);
    if (st == SETTLED) break;
    double sleep_ms = NL_RETRY_SLEEP_MS;
    if (st == RETRY_BUSY) {
      sleep_ms = retry_after_s ? 1000.0 * retry_after_s : 1000.0;
      if (sleep_ms > NL_BUSY_SLEEP_MS_MAX) sleep_ms = NL_BUSY_SLEEP_MS_MAX;
    }
    bool busy_over = st == RETRY_BUSY && busy_ms + sleep_ms > NL_BUSY_WAIT_MS_MAX;
    if (attempt == NL_RETRIES_MAX || busy_over) {
      size_t lo = b * r->o->batch, hi = lo + r->o->batch < r->n_txs ? lo + r->o->batch : r->n_txs;
      settle_all_rejected(r, lo, hi, st == RETRY_BUSY ? "busy" : "full");
      break;
    }
    atomic_fetch_add(&r->retries, 1);
    if (st == RETRY_BUSY) {
      atomic_fetch_add(&r->busy_retries, 1);
      busy_ms += sleep_ms;
    }
    nl_sleep_ms(sleep_ms);
  }
  r->acked_ms[b] = nl_now_ms();
}

void *nl_submitter_main(void *arg) {
  nl_worker_t *w = arg;
  nl_run_t *r = w->r;
  const nl_opts_t *o = r->o;
  http_conn_t *c = NULL;
  for (;;) {
    size_t q = atomic_fetch_add(&r->next_q[w->node], 1), b = q * o->n_nodes + w->node;
    if (b >= r->n_batches) break;
    double due = 0;
    if (o->rate > 0) {
      due = r->t0_ms + (double)(b * o->batch) * 1000.0 / o->rate;
      double now = nl_now_ms();
      if (due > now) nl_sleep_ms(due - now);
      else if (now - due > w->lag_ms) w->lag_ms = now - due;
    } else {
      double now = nl_now_ms();
      if (r->t0_ms > now) nl_sleep_ms(r->t0_ms - now);
    }
    post_batch(r, &c, &o->nodes[w->node], b, due);
  }
  http_conn_close(c);
  return NULL;
}

/* ---- followers ---- */

/* Notes the commit time of every tx of ours in one /v1/commits entry; t is
 * the block's committed_ms, or the time we read it when the node had none. */
static void follow_block(nl_run_t *r, size_t f, const json_t *blk, double t) {
  size_t k, found = 0;
  const json_t *id;
  json_array_foreach(json_object_get(blk, "txs"), k, id) {
    uint8_t raw[LEDGER_HASH_BYTES];
    const char *hex = json_string_value(id);
    if (!hex || ve_hex_decode(raw, sizeof raw, hex) != 0) continue;
    size_t i = nl_index_find(r, raw);
    if (i == SIZE_MAX || r->commit_ms[f][i] != 0) continue;
    r->commit_ms[f][i] = t;
    found++;
  }
  atomic_fetch_add(&r->seen[f], found);
  r->blocks[f]++;
  if (found) {
    if (!r->blocks_ours[f]++) r->blocks_first_ms[f] = t;
    r->blocks_last_ms[f] = t;
  }
}

void *nl_follower_main(void *arg) {
  nl_worker_t *w = arg;
  nl_run_t *r = w->r;
  size_t f = w->node;
  const nl_addr_t *a = &r->follow[f];
  uint64_t h = r->follow_from[f];
  unsigned null_tries = 0;
  http_conn_t *c = NULL;
  while (!atomic_load(&r->stop_follow)) {
    char path[96];
    snprintf(path, sizeof path, "/v1/commits?from=%llu&limit=%d", (unsigned long long)h, NL_COMMITS_PAGE);
    http_response_t resp;
    if ((!c && http_conn_open(a->host, a->port, 10000, &c) != 0) ||
        http_conn_request(c, "GET", path, NULL, NULL, 0, NL_HTTP_MS, &resp) != 0) {
      http_conn_close(c);
      c = NULL;
      nl_sleep_ms(100);
      continue;
    }
    json_t *j = resp.status == 200 ? json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL) : NULL;
    http_response_free(&resp);
    size_t k, n = json_array_size(json_object_get(j, "commits"));
    const json_t *blk;
    int held = 0;
    json_array_foreach(json_object_get(j, "commits"), k, blk) {
      const json_t *cm = json_object_get(blk, "committed_ms");
      if (!json_is_integer(cm) && null_tries++ < NL_NULL_TIME_TRIES) {
        /* The node publishes its new height a moment before the block's
         * commit time (src/node/node.c): read this block again shortly. */
        h = (uint64_t)json_integer_value(json_object_get(blk, "height"));
        held = 1;
        break;
      }
      if (!json_is_integer(cm)) atomic_fetch_add(&r->null_times[f], 1);
      follow_block(r, f, blk, json_is_integer(cm) ? (double)json_integer_value(cm) : nl_now_ms());
      null_tries = 0;
    }
    if (!held && json_is_integer(json_object_get(j, "next")))
      h = (uint64_t)json_integer_value(json_object_get(j, "next"));
    json_decref(j);
    if (n == 0 || held) nl_sleep_ms(NL_FOLLOW_IDLE_MS);
  }
  http_conn_close(c);
  return NULL;
}
