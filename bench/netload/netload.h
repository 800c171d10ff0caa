/* netload.h — the insides of bench/netload, shared by its three files.
 *
 * netload.c         options, the machine's limit, the signers' setup, pre-signing,
 *                   the run, and main;
 * netload_io.c      submitter threads (POST /v1/txs, open loop at a fixed rate or
 *                   as fast as accepted) and follower threads (GET /v1/commits:
 *                   each block's local commit time on each followed node);
 * netload_report.c  percentiles, the JSON result and the SVG chart.
 *
 * Times: every timestamp is wall-clock Unix milliseconds (double), because the
 * nodes report `committed_ms` on their wall clock and run on this machine.
 *
 * Ownership: nl_run_t owns every array in it; nl_run_free releases them. Each
 * tx's slot in an array is written by exactly one thread (its submitter, or the
 * follower of that node) and read by the main thread after those threads have
 * been joined, except the counters, which are atomic.
 */
#ifndef VECHE_BENCH_NETLOAD_H
#define VECHE_BENCH_NETLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "base/limits.h"
#include "ledger/ledger.h"

#define NL_NODES_MAX 16            /* --nodes (submitted to and followed) */
#define NL_WATCH_MAX 8             /* --watch (followed only, e.g. observers) */
#define NL_FOLLOW_MAX (NL_NODES_MAX + NL_WATCH_MAX)
#define NL_CONNS_MAX 16            /* submitting connections per node */
#define NL_SIGNERS_MAX 64          /* signers per node */
#define NL_TXS_MAX 4000000         /* one run */
#define NL_BATCH_TXS_MAX 20000     /* the node's batch limit */
#define NL_BODY_BYTES_MAX API_BODY_BYTES_MAX /* a batch's JSON body */
#define NL_HTTP_MS 60000           /* one request, whole exchange */
#define NL_RETRIES_MAX 200         /* re-posts of a batch refused for "full" or "timeout" */
#define NL_RETRY_SLEEP_MS 50
/* A node refusing for "busy" (back-pressure, docs/api.md) says when to come
 * back (Retry-After); we wait that long, at most NL_BUSY_SLEEP_MS_MAX each
 * time and NL_BUSY_WAIT_MS_MAX in all for one batch, then give up on what is
 * left of it (counted rejected as "busy"), so a run cannot hang. */
#define NL_BUSY_SLEEP_MS_MAX 10000
#define NL_BUSY_WAIT_MS_MAX 300000
#define NL_REJECT_KINDS 9          /* nl_reject_names */
#define NL_COMMITS_PAGE 8          /* blocks per GET /v1/commits (10,000 ids each stay < 16 MiB) */
#define NL_FOLLOW_IDLE_MS 10       /* a follower's pause when no new block */
#define NL_NULL_TIME_TRIES 100     /* re-reads of a block whose committed_ms is still null */
#define NL_BINS_MAX 400            /* time-series bins, hard limit */
#define NL_BINS_SHOWN 60           /* bins aimed at (the width is a 1-2-5 step) */
#define NL_HOST_BYTES 64

/* What a tx is. */
enum { NL_KIND_IDENTITY = 0, NL_KIND_DOCUMENT = 1 };
/* Where a tx stands after its submitter. */
enum { NL_TX_UNSENT = 0, NL_TX_ACCEPTED = 1, NL_TX_REJECTED = 2 };

typedef struct {
  char host[NL_HOST_BYTES];
  uint16_t port;
} nl_addr_t;

typedef struct {
  /* options */
  nl_addr_t nodes[NL_NODES_MAX];
  size_t n_nodes;
  nl_addr_t watch[NL_WATCH_MAX];
  size_t n_watch;
  const char *key_path;
  size_t count, batch, conns, signers; /* signers per node */
  double rate;                         /* tx/s; 0 = as fast as accepted */
  unsigned docs_percent;
  size_t validators;                   /* sharing this machine, for the ceiling */
  double wait_s;                       /* after the last submission, for commits */
  const char *out_path, *svg_path, *label;
  int quiet, measure_only;
  int raw;                             /* POST /v1/txs/raw (binary batches) */
} nl_opts_t;

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
} nl_txid_t;

typedef struct {
  const nl_opts_t *o;
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  /* the workload, pre-signed */
  size_t n_txs, n_batches;
  nl_txid_t *ids;       /* [n_txs] */
  uint8_t *kind;        /* [n_txs] NL_KIND_* */
  char **bodies;        /* [n_batches] JSON {"txs": [...]}, or binary with --raw */
  size_t *body_lens;    /* [n_batches] */
  /* the id index: open addressing over the first 8 bytes, value = tx index + 1 */
  uint32_t *index;
  size_t index_mask;
  /* submission (batch b holds txs b*batch .. ; it goes to node b % n_nodes) */
  double t0_ms;         /* the schedule's origin */
  double *sched_ms;     /* [n_batches] when the batch was due (rate) or sent (max) */
  double *sent_ms;      /* [n_batches] first send */
  double *acked_ms;     /* [n_batches] answer that settled it */
  uint8_t *state;       /* [n_txs] NL_TX_* */
  _Atomic size_t next_q[NL_NODES_MAX];  /* next batch of node n, in that node's order */
  _Atomic size_t accepted, rejected, retries, http_errors;
  _Atomic size_t busy_retries;          /* re-posts after a busy refusal (also in retries) */
  _Atomic size_t reject_codes[NL_REJECT_KINDS]; /* see nl_reject_names */
  _Atomic int submit_done;
  double max_lag_ms;                     /* worst lateness behind the schedule (rate) */
  /* commits: followers are nodes[0..n_nodes) then watch[0..n_watch) */
  size_t n_follow;
  nl_addr_t follow[NL_FOLLOW_MAX];
  uint64_t follow_from[NL_FOLLOW_MAX];  /* first height to read */
  double *commit_ms[NL_FOLLOW_MAX];     /* [n_txs]; 0 = not seen */
  _Atomic size_t seen[NL_FOLLOW_MAX];
  _Atomic size_t null_times[NL_FOLLOW_MAX]; /* blocks whose committed_ms was null */
  /* blocks read by each follower: all, and those holding txs of this run,
   * with the first and last commit time of the latter (follower thread only) */
  size_t blocks[NL_FOLLOW_MAX], blocks_ours[NL_FOLLOW_MAX];
  double blocks_first_ms[NL_FOLLOW_MAX], blocks_last_ms[NL_FOLLOW_MAX];
  _Atomic int stop_follow;
  /* the machine */
  long cores;
  double verify_per_s, pk_valid_per_s;
  double sign_s;
  double client_cpu_s;  /* this process's CPU time during the run (submitting and following) */
} nl_run_t;

extern const char *const nl_reject_names[NL_REJECT_KINDS];

/* netload.c */
double nl_now_ms(void);
void nl_sleep_ms(double ms);
void nl_log(const nl_run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* netload_io.c: one thread per (node, connection) and one per followed node. */
void *nl_submitter_main(void *arg); /* arg: nl_worker_t */
void *nl_follower_main(void *arg);  /* arg: nl_worker_t */
typedef struct {
  nl_run_t *r;
  size_t node; /* submit: index in nodes; follow: index in follow */
  size_t conn;
  double lag_ms; /* out: worst lateness of this submitter */
} nl_worker_t;
/* Index of tx id in r->ids, or SIZE_MAX. */
size_t nl_index_find(const nl_run_t *r, const uint8_t id[LEDGER_HASH_BYTES]);

/* netload_report.c: summarises the run; writes JSON to o->out_path (and stdout
 * unless quiet) and the chart to o->svg_path. Returns 0 when every tx committed. */
int nl_report(const nl_run_t *r);

#endif
