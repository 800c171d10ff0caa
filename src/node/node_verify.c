/* node_verify.c — the pool of threads for the stateless checks of blocks
 * (node_verify.h has the why and the contract).
 *
 * One mutex (mu) guards the pool: the list of jobs, every job's chunk counters
 * and reference count, and the statistics. Chunks are claimed and reported
 * under it, and checked outside it; a chunk's verdicts are written only by the
 * thread that claimed it, into its own range of job->res, and read by others
 * only after that thread reported the chunk done (under mu).
 *
 * A job's life:
 *   AHEAD     listed, ahead = true: made by node_verify_ahead, counted against
 *             NODE_VERIFY_AHEAD_*; workers check its chunks in list order.
 *   WANTED    listed, ahead = false, urgent = true: a caller of
 *             node_verify_block took it over (or made it); workers prefer it.
 *   OFF       unlisted: the caller collected the verdicts, or prune dropped it;
 *             threads still holding one of its chunks finish it and let go.
 * refs counts the list, the caller, and each thread holding a chunk; the last
 * one frees the job. Invariants: n_jobs = listed jobs ≤ NODE_VERIFY_JOBS_MAX;
 * n_ahead / ahead_bytes = listed jobs with ahead set, and their bytes;
 * next_chunk ≤ n_chunks; chunks_done ≤ next_chunk.
 */
#define _GNU_SOURCE /* pthread_setname_np: workers show as "veche-verify" in top and perf */
#include "node/node_verify.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

typedef struct job {
  struct job *next;     /* in the pool's list, oldest first */
  bool listed, ahead, urgent;
  int refs;
  uint8_t id[LEDGER_HASH_BYTES];
  uint64_t height;
  uint8_t *bytes;       /* owned copy of the block */
  size_t len;
  ledger_block_t b;     /* decoded over bytes */
  int32_t *res;         /* b.tx_count verdicts */
  uint8_t *chunk_done;  /* n_chunks flags */
  size_t n_chunks, next_chunk, chunks_done;
} job_t;

struct node_verify {
  pthread_mutex_t mu;
  pthread_cond_t work; /* a chunk to claim, or stop */
  pthread_cond_t done; /* a chunk was reported */
  job_t *head;
  size_t n_jobs, n_ahead, ahead_bytes;
  bool stopping;
  const ledger_registry_t *reg;
  uint8_t chain[VE_CHAIN_ID_BYTES_MAX];
  size_t chain_len;
  ledger_sig_cache_fn sig_checked;
  void *sig_ctx;
  uint32_t wait_ms;
  size_t n_threads;
  pthread_t threads[NODE_VERIFY_THREADS_MAX];
  node_verify_stats_t st;
};

static void lock(node_verify_t *v) { VE_ASSERT(pthread_mutex_lock(&v->mu) == 0); }
static void unlock(node_verify_t *v) { VE_ASSERT(pthread_mutex_unlock(&v->mu) == 0); }

static struct timespec deadline_after(uint64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* ---- jobs ---- */

static void job_free(job_t *j) {
  ledger_block_free(&j->b);
  free(j->bytes);
  free(j->res);
  free(j->chunk_done);
  free(j);
}

/* A job over an owned copy of block (decoded later by the caller). */
static job_t *job_alloc(ve_slice_t block) {
  job_t *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->len = block.len;
  j->bytes = malloc(block.len ? block.len : 1);
  if (!j->bytes) {
    free(j);
    return NULL;
  }
  memcpy(j->bytes, block.ptr, block.len);
  return j;
}

/* The verdict and chunk arrays, once j->b is decoded (tx_count > 0). */
static int job_arrays(job_t *j) {
  VE_ASSERT(j->b.tx_count > 0);
  j->n_chunks = (j->b.tx_count + NODE_VERIFY_CHUNK_TXS - 1) / NODE_VERIFY_CHUNK_TXS;
  j->res = calloc(j->b.tx_count, sizeof *j->res);
  j->chunk_done = calloc(j->n_chunks, 1);
  return j->res && j->chunk_done ? VE_OK : VE_ERR_NOMEM;
}

static ve_slice_t rebase(ve_slice_t s, ve_slice_t from, const uint8_t *to) {
  VE_ASSERT(s.ptr >= from.ptr && s.ptr + s.len <= from.ptr + from.len);
  return ve_slice(to + (s.ptr - from.ptr), s.len);
}

/* A job for a block the caller decoded (b borrows from block): the copy gets
 * b's slices moved into it, and b's ids, so nothing is decoded or hashed again. */
static job_t *job_from_decoded(const ledger_block_t *b, ve_slice_t block, const uint8_t id[LEDGER_HASH_BYTES]) {
  job_t *j = job_alloc(block);
  if (!j) return NULL;
  j->b.header = b->header;
  j->b.header.chain_id = rebase(b->header.chain_id, block, j->bytes);
  j->b.tx_count = b->tx_count;
  j->b.txs = calloc(b->tx_count, sizeof *j->b.txs);
  j->b.ids = malloc(b->tx_count * LEDGER_HASH_BYTES);
  if (!j->b.txs || !j->b.ids || job_arrays(j) != VE_OK) {
    job_free(j);
    return NULL;
  }
  for (size_t i = 0; i < b->tx_count; i++) j->b.txs[i] = rebase(b->txs[i], block, j->bytes);
  memcpy(j->b.ids, b->ids, b->tx_count * LEDGER_HASH_BYTES);
  memcpy(j->id, id, LEDGER_HASH_BYTES);
  j->height = b->header.height;
  return j;
}

static void job_unref(job_t *j) {
  VE_ASSERT(j->refs > 0);
  if (--j->refs == 0) job_free(j);
}

static void list_add(node_verify_t *v, job_t *j) {
  job_t **p = &v->head;
  while (*p) p = &(*p)->next;
  *p = j;
  j->next = NULL;
  j->listed = true;
  j->refs++;
  v->n_jobs++;
  if (j->ahead) {
    v->n_ahead++;
    v->ahead_bytes += j->len;
  }
}

static void ahead_end(node_verify_t *v, job_t *j) {
  if (!j->ahead) return;
  j->ahead = false;
  VE_ASSERT(v->n_ahead > 0 && v->ahead_bytes >= j->len);
  v->n_ahead--;
  v->ahead_bytes -= j->len;
}

static void list_remove(node_verify_t *v, job_t *j) {
  if (!j->listed) return;
  job_t **p = &v->head;
  while (*p != j) p = &(*p)->next;
  *p = j->next;
  j->next = NULL;
  j->listed = false;
  ahead_end(v, j);
  v->n_jobs--;
  job_unref(j);
}

/* The job whose chunks go first: one a caller waits for, else the oldest. */
static job_t *job_pick(node_verify_t *v) {
  job_t *first = NULL;
  for (job_t *j = v->head; j; j = j->next) {
    if (j->next_chunk == j->n_chunks) continue;
    if (j->urgent) return j;
    if (!first) first = j;
  }
  return first;
}

/* ---- chunks ---- */

typedef struct {
  uint64_t checked, vouched;
} chunk_count_t;

/* Outside mu: the verdicts of chunk c into j->res. */
static chunk_count_t chunk_run(node_verify_t *v, job_t *j, size_t c) {
  chunk_count_t k = {0, 0};
  size_t lo = c * NODE_VERIFY_CHUNK_TXS, hi = lo + NODE_VERIFY_CHUNK_TXS;
  if (hi > j->b.tx_count) hi = j->b.tx_count;
  ve_slice_t chain = ve_slice(v->chain, v->chain_len);
  for (size_t i = lo; i < hi; i++) {
    if (v->sig_checked && v->sig_checked(v->sig_ctx, j->b.ids[i])) {
      j->res[i] = LEDGER_PRECHECK_NONE;
      k.vouched++;
    } else {
      j->res[i] = ledger_tx_precheck(v->reg, chain, j->b.txs[i]);
      k.checked++;
    }
  }
  return k;
}

/* Under mu: chunk c of j is in. */
static void chunk_report(node_verify_t *v, job_t *j, size_t c, chunk_count_t k, bool by_caller) {
  j->chunk_done[c] = 1;
  j->chunks_done++;
  v->st.txs_checked += k.checked;
  v->st.txs_vouched += k.vouched;
  if (by_caller) v->st.txs_by_caller += k.checked;
  if (j->chunks_done == j->n_chunks) VE_ASSERT(pthread_cond_broadcast(&v->done) == 0);
}

static void *worker_main(void *arg) {
  node_verify_t *v = arg;
  (void)pthread_setname_np(pthread_self(), "veche-verify");
  lock(v);
  while (!v->stopping) {
    job_t *j = job_pick(v);
    if (!j) {
      struct timespec ts = deadline_after(NODE_VERIFY_IDLE_MS);
      int rc = pthread_cond_timedwait(&v->work, &v->mu, &ts);
      VE_ASSERT(rc == 0 || rc == ETIMEDOUT);
      continue;
    }
    size_t c = j->next_chunk++;
    j->refs++;
    unlock(v);
    chunk_count_t k = chunk_run(v, j, c);
    lock(v);
    chunk_report(v, j, c, k, false);
    job_unref(j);
  }
  unlock(v);
  return NULL;
}

/* ---- the pool ---- */

static void stop_threads(node_verify_t *v, size_t started) {
  lock(v);
  v->stopping = true;
  VE_ASSERT(pthread_cond_broadcast(&v->work) == 0);
  unlock(v);
  for (size_t i = 0; i < started; i++) pthread_join(v->threads[i], NULL);
}

int node_verify_new(const node_verify_config_t *cfg, node_verify_t **out) {
  if (!cfg->reg || cfg->chain_id.len == 0 || cfg->chain_id.len > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_INVALID;
  size_t threads = cfg->threads;
  if (threads == 0) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    threads = online > 0 ? (size_t)online : 1;
  }
  if (threads > NODE_VERIFY_THREADS_MAX) threads = NODE_VERIFY_THREADS_MAX;
  node_verify_t *v = calloc(1, sizeof *v);
  if (!v) return VE_ERR_NOMEM;
  v->reg = cfg->reg;
  memcpy(v->chain, cfg->chain_id.ptr, cfg->chain_id.len);
  v->chain_len = cfg->chain_id.len;
  v->sig_checked = cfg->sig_checked;
  v->sig_ctx = cfg->sig_ctx;
  v->wait_ms = cfg->wait_ms ? cfg->wait_ms : NODE_VERIFY_WAIT_MS;
  pthread_condattr_t ca;
  VE_ASSERT(pthread_condattr_init(&ca) == 0);
  VE_ASSERT(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0);
  VE_ASSERT(pthread_mutex_init(&v->mu, NULL) == 0);
  VE_ASSERT(pthread_cond_init(&v->work, &ca) == 0);
  VE_ASSERT(pthread_cond_init(&v->done, &ca) == 0);
  pthread_condattr_destroy(&ca);
  /* Workers take no signals: the node's loop thread handles them. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = VE_OK;
  for (; v->n_threads < threads; v->n_threads++) {
    if (pthread_create(&v->threads[v->n_threads], NULL, worker_main, v) != 0) {
      rc = VE_ERR_IO;
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc) {
    stop_threads(v, v->n_threads);
    v->n_threads = 0;
    node_verify_free(v);
    return rc;
  }
  *out = v;
  return VE_OK;
}

void node_verify_free(node_verify_t *v) {
  if (!v) return;
  if (v->n_threads) stop_threads(v, v->n_threads);
  while (v->head) {
    job_t *j = v->head;
    VE_ASSERT(j->refs == 1); /* only the list's: nobody works on it any more */
    list_remove(v, j);
  }
  pthread_cond_destroy(&v->work);
  pthread_cond_destroy(&v->done);
  pthread_mutex_destroy(&v->mu);
  free(v);
}

size_t node_verify_threads(const node_verify_t *v) { return v->n_threads; }

static job_t *job_find(node_verify_t *v, const uint8_t id[LEDGER_HASH_BYTES]) {
  for (job_t *j = v->head; j; j = j->next)
    if (memcmp(j->id, id, LEDGER_HASH_BYTES) == 0) return j;
  return NULL;
}

int node_verify_ahead(node_verify_t *v, uint64_t height, ve_slice_t block) {
  if (block.len > VE_BLOCK_BYTES_MAX) return VE_ERR_TOO_BIG;
  lock(v);
  bool full = v->n_jobs >= NODE_VERIFY_JOBS_MAX || v->n_ahead >= NODE_VERIFY_AHEAD_BLOCKS_MAX ||
              v->ahead_bytes + block.len > NODE_VERIFY_AHEAD_BYTES_MAX;
  if (full) v->st.ahead_refused++;
  unlock(v);
  if (full) return VE_ERR_FULL;
  job_t *j = job_alloc(block);
  if (!j) return VE_ERR_NOMEM;
  int rc = ledger_block_decode(ve_slice(j->bytes, j->len), &j->b);
  if (rc == VE_OK && j->b.header.height != height) rc = VE_ERR_INVALID;
  if (rc == VE_OK) rc = ledger_header_hash(&j->b.header, j->id);
  if (rc == VE_OK && j->b.tx_count == 0) rc = VE_ERR_EXISTS; /* nothing to check */
  if (rc == VE_OK) rc = job_arrays(j);
  if (rc) {
    job_free(j);
    return rc;
  }
  j->height = height;
  j->ahead = true;
  lock(v);
  /* Checked again: another thread may have filled the pool meanwhile. */
  if (job_find(v, j->id)) rc = VE_ERR_EXISTS;
  else if (v->n_jobs >= NODE_VERIFY_JOBS_MAX || v->n_ahead >= NODE_VERIFY_AHEAD_BLOCKS_MAX ||
           v->ahead_bytes + j->len > NODE_VERIFY_AHEAD_BYTES_MAX) {
    rc = VE_ERR_FULL;
    v->st.ahead_refused++;
  }
  if (rc == VE_OK) {
    list_add(v, j);
    v->st.ahead_started++;
    VE_ASSERT(pthread_cond_broadcast(&v->work) == 0);
  }
  unlock(v);
  if (rc) job_free(j);
  return rc;
}

/* Under mu: a job started ahead for exactly this block, taken over. */
static job_t *take_ahead(node_verify_t *v, const ledger_block_t *b, const uint8_t id[LEDGER_HASH_BYTES]) {
  job_t *j = job_find(v, id);
  if (!j || !j->ahead) return NULL;
  if (j->b.tx_count != b->tx_count || memcmp(j->b.ids, b->ids, b->tx_count * LEDGER_HASH_BYTES) != 0) {
    list_remove(v, j); /* cannot happen for one header hash; never trust it blindly */
    return NULL;
  }
  ahead_end(v, j);
  v->st.blocks_ahead++;
  return j;
}

int node_verify_block(node_verify_t *v, const ledger_block_t *b, ve_slice_t block,
                      const uint8_t id[LEDGER_HASH_BYTES], int32_t *out) {
  for (size_t i = 0; i < b->tx_count; i++) out[i] = LEDGER_PRECHECK_NONE;
  lock(v);
  v->st.blocks++;
  job_t *j = b->tx_count ? take_ahead(v, b, id) : NULL;
  if (!j && b->tx_count) {
    unlock(v); /* copying a block can take a while: not under mu */
    job_t *fresh = job_from_decoded(b, block, id);
    if (!fresh) return VE_ERR_NOMEM;
    lock(v);
    if (v->n_jobs < NODE_VERIFY_JOBS_MAX) {
      j = fresh;
      list_add(v, j);
      VE_ASSERT(pthread_cond_broadcast(&v->work) == 0);
    } else { /* only left-over jobs can fill it: the ledger checks inline */
      job_free(fresh);
    }
  }
  if (!j) {
    unlock(v);
    return VE_OK;
  }
  j->urgent = true;
  j->refs++; /* the caller's */
  while (j->next_chunk < j->n_chunks) {
    size_t c = j->next_chunk++;
    unlock(v);
    chunk_count_t k = chunk_run(v, j, c);
    lock(v);
    chunk_report(v, j, c, k, true);
  }
  struct timespec until = deadline_after(v->wait_ms);
  bool timed_out = false;
  while (j->chunks_done < j->n_chunks && !timed_out) {
    int rc = pthread_cond_timedwait(&v->done, &v->mu, &until);
    VE_ASSERT(rc == 0 || rc == ETIMEDOUT);
    timed_out = rc == ETIMEDOUT && j->chunks_done < j->n_chunks;
  }
  for (size_t c = 0; c < j->n_chunks; c++) {
    if (!j->chunk_done[c]) continue;
    size_t lo = c * NODE_VERIFY_CHUNK_TXS, hi = lo + NODE_VERIFY_CHUNK_TXS;
    if (hi > b->tx_count) hi = b->tx_count;
    memcpy(out + lo, j->res + lo, (hi - lo) * sizeof *out);
  }
  if (timed_out) v->st.waits_timed_out++;
  list_remove(v, j);
  job_unref(j); /* the caller's; a worker still on a chunk frees it later */
  unlock(v);
  return VE_OK;
}

void node_verify_prune(node_verify_t *v, uint64_t height) {
  lock(v);
  job_t *j = v->head;
  while (j) {
    job_t *next = j->next;
    if (j->ahead && j->height <= height) {
      list_remove(v, j);
      v->st.ahead_pruned++;
    }
    j = next;
  }
  unlock(v);
}

void node_verify_stats(node_verify_t *v, node_verify_stats_t *out) {
  lock(v);
  *out = v->st;
  unlock(v);
}
