/* state_bench.c — throughput of the authenticated state on LMDB, one core.
 *
 * 1. Load: builds a tree of --keys keys (32-byte keys, 64-byte values) in blocks
 *    of --load-block changes, one write transaction per block (as the ledger
 *    does), and reports the load time.
 * 2. Update: --blocks blocks of --block updates to random existing keys, one
 *    write transaction per block; reports key updates per second for
 *    state_commit alone and including the durable LMDB commit (fsync).
 *    To split that cost, it then times the same number of plain store_put calls
 *    of random keys (with their current values, in key order, as state_commit
 *    writes them) into the current-value table STORE_T_STATE alone: the rest of
 *    state_commit's time is the tree and its history.
 * 3. Proofs: --proofs proofs of random present keys and as many of absent keys
 *    at the latest version: size (average, max), time to produce, time to verify.
 *
 * The store lives in a fresh directory under --dir (default $TMPDIR or /tmp),
 * removed at the end unless --keep. --reuse DIR skips the load and runs 2 and 3
 * on a store kept by an earlier run with the same --keys. Not a ctest test: run it
 * by hand, e.g.
 *   build/bench/state/state_bench --keys 10000000 --load-block 1000000
 * --cache 0 commits with state_commit instead of state_commit_cached (default 1);
 * --warm 1 reads every page of the state tables before the updates (as a
 * long-running node has them mapped), so first-touch page faults of a fresh
 * process do not count in the update figures. --warm-blocks N commits N
 * untimed update blocks first (with --reuse, they fill the cache of upper
 * nodes, as a long-running node has it). --report N prints the CPU time of
 * state_commit, the txn commit time and the file size every N timed blocks.
 *
 * Pruning (docs/state.md §5.1): --prune-window W enables pruning on the store
 * (on a fresh one before the load; with --reuse, late) and after every commit,
 * in the same transaction as the ledger would, calls state_prune with
 * keep_from = version - W + 1 and max_entries --prune-max (default 1,000,000);
 * --prune-every K calls it only every K blocks (then with K times the
 * budget). It reports the bytes of stale log each block wrote, the CPU time
 * of state_prune per block and the entries it deleted; compare state_commit's
 * CPU time, the txn commit time, the bytes written and the store size with a
 * run without --prune-window. Bytes written are the process's write(2) bytes
 * (/proc/self/io wchar: LMDB writes its dirty pages with pwrite at commit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "state/state.h"
#include "store/store.h"
#include "../common/bench_clock.h"

#define KEY_BYTES 32
#define VALUE_BYTES 64

typedef struct {
  uint64_t keys;
  uint64_t load_block;
  uint64_t block;
  uint64_t blocks;
  uint64_t proofs;
  const char *dir;
  const char *reuse;
  int keep;
  int warm;
  uint64_t warm_blocks;
  uint64_t report; /* --report N: a line every N timed blocks */
  uint64_t map_mb; /* LMDB map size, 0: the store's default (small under valgrind) */
} bench_opts_t;

/* --prune-window: 0 off; else state_prune after every commit. */
static uint64_t g_prune_window = 0;
static uint64_t g_prune_max = 1000000;
static uint64_t g_prune_every = 1;
typedef struct {
  double cpu_s;      /* state_prune CPU time */
  double wall_s;     /* and wall time */
  uint64_t deleted;  /* entries it deleted */
  uint64_t log_bytes, log_chunks; /* stale log the commits wrote */
} prune_stats_t;
static prune_stats_t g_prune;

/* Bytes and chunks of stale log that the commit of version wrote (the keys
 * 0x03 || be64(version) || be32(i) of STATE_HIST; docs/state.md §5.1). */
static void stale_log_count(store_txn_t *t, uint64_t version) {
  uint8_t start[9] = {0x03};
  ve_be64_put(start + 1, version);
  store_cursor_t *c;
  if (store_cursor_open(t, STORE_T_STATE_HIST, &c)) return;
  ve_slice_t k, v;
  for (int rc = store_cursor_seek(c, ve_slice(start, 9), &k, &v);
       rc == 0 && k.len == 13 && memcmp(k.ptr, start, 9) == 0; rc = store_cursor_next(c, &k, &v)) {
    g_prune.log_bytes += v.len + k.len;
    g_prune.log_chunks++;
  }
  store_cursor_close(c);
}

/* Bytes this process passed to write(2) and friends so far (/proc/self/io). */
static uint64_t bytes_written(void) {
  FILE *f = fopen("/proc/self/io", "r");
  if (!f) return 0;
  char line[128];
  unsigned long long v = 0;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "wchar: %llu", &v) == 1) break;
  }
  fclose(f);
  return v;
}

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt + ru.ru_majflt;
}

static uint64_t mix64(uint64_t z) { /* splitmix64 finaliser */
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void fill(uint8_t *out, size_t n, uint64_t a, uint64_t b) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t x = mix64(a * 0x100000001b3ull ^ mix64(b + i));
    memcpy(out + i, &x, n - i < 8 ? n - i : 8);
  }
}

/* Key i of the loaded set; absent keys use a different stream. */
static void key_make(uint8_t out[KEY_BYTES], uint64_t i, int absent) {
  fill(out, KEY_BYTES, i, absent ? 0xabcdefull : 0x12345ull);
}

static int key_cmp(const void *a, const void *b) { return memcmp(a, b, KEY_BYTES); }

static uint64_t file_bytes(const char *dir, const char *name) {
  char path[1100];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  struct stat st;
  return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

static _Noreturn void die(const char *what, int rc) {
  fprintf(stderr, "state_bench: %s: %s\n", what, ve_strerror(rc));
  exit(1);
}

/* Commits one block; adds the state_commit wall and CPU times and the txn
 * commit wall time. */
/* History identifiers for state_commit_cached: one per version of this run's
 * sequence of commits (the ledger uses block hashes). */
static void history_id(uint8_t out[STATE_HASH_BYTES], uint64_t version) {
  uint8_t v[8];
  ve_be64_put(v, version);
  vcrypto_hash(out, "veche/state-bench/history", v, sizeof v);
}

static int g_cached = 1; /* --cache 1: state_commit_cached; 0: state_commit */

static void block_commit(store_t *s, uint64_t version, const state_change_t *ch, size_t n,
                         double *state_s, double *state_cpu_s, double *txn_s) {
  store_txn_t *t;
  int rc = store_txn_begin(s, true, &t);
  if (rc) die("txn begin", rc);
  uint8_t root[STATE_HASH_BYTES], before[STATE_HASH_BYTES], after[STATE_HASH_BYTES];
  history_id(before, version - 1);
  history_id(after, version);
  double t0 = bench_now_s(), c0 = bench_cpu_s();
  rc = g_cached ? state_commit_cached(t, before, after, version, ch, n, root)
                : state_commit(t, version, ch, n, root);
  if (rc) die("state_commit", rc);
  double t1 = bench_now_s();
  *state_cpu_s += bench_cpu_s() - c0;
  *state_s += t1 - t0;
  if (g_prune_window) {
    stale_log_count(t, version);
    if (version % g_prune_every == 0) {
      uint64_t keep_from = version + 1 > g_prune_window ? version + 1 - g_prune_window : 0;
      size_t deleted;
      double p0 = bench_cpu_s(), w0 = bench_now_s();
      rc = state_prune(t, keep_from, (size_t)(g_prune_max * g_prune_every), &deleted);
      if (rc) die("state_prune", rc);
      g_prune.cpu_s += bench_cpu_s() - p0;
      g_prune.wall_s += bench_now_s() - w0;
      g_prune.deleted += deleted;
    }
  }
  t1 = bench_now_s();
  rc = store_txn_commit(t);
  if (rc) die("txn commit", rc);
  *txn_s += bench_now_s() - t1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: state_bench [--keys N] [--load-block N] [--block N] [--blocks N]\n"
          "                   [--proofs N] [--dir DIR] [--keep] [--reuse DIR] [--cache 0|1]\n"
          "                   [--warm 0|1] [--warm-blocks N] [--map-mb N] [--report N]\n"
          "                   [--prune-window W] [--prune-max N] [--prune-every K]\n");
  exit(2);
}

static void opts_parse(bench_opts_t *o, int argc, char **argv) {
  o->keys = 10000000;
  o->load_block = 100000;
  o->block = 10000;
  o->blocks = 30;
  o->proofs = 10000;
  o->dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  o->keep = 0;
  o->warm = 0;
  o->warm_blocks = 0;
  o->report = 0;
  o->map_mb = 0;
  o->reuse = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--keep")) {
      o->keep = 1;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(a, "--dir")) {
      o->dir = v;
      continue;
    }
    if (!strcmp(a, "--reuse")) {
      o->reuse = v;
      continue;
    }
    uint64_t n = strtoull(v, NULL, 10);
    if (!strcmp(a, "--keys")) o->keys = n;
    else if (!strcmp(a, "--load-block")) o->load_block = n;
    else if (!strcmp(a, "--block")) o->block = n;
    else if (!strcmp(a, "--blocks")) o->blocks = n;
    else if (!strcmp(a, "--proofs")) o->proofs = n;
    else if (!strcmp(a, "--cache")) g_cached = n != 0;
    else if (!strcmp(a, "--warm")) o->warm = n != 0;
    else if (!strcmp(a, "--warm-blocks")) o->warm_blocks = n;
    else if (!strcmp(a, "--report")) o->report = n;
    else if (!strcmp(a, "--map-mb")) o->map_mb = n;
    else if (!strcmp(a, "--prune-window")) g_prune_window = n;
    else if (!strcmp(a, "--prune-max")) g_prune_max = n;
    else if (!strcmp(a, "--prune-every")) g_prune_every = n ? n : 1;
    else usage();
  }
  if (!o->keys || !o->load_block || !o->block || o->block > STATE_COMMIT_CHANGES_MAX ||
      o->load_block > STATE_COMMIT_CHANGES_MAX) {
    usage();
  }
}

int main(int argc, char **argv) {
  bench_opts_t o;
  opts_parse(&o, argc, argv);
  if (vcrypto_init()) die("vcrypto_init", VE_ERR_CRYPTO);
  char dir[1024];
  if (strlen(o.dir) > 900 || (o.reuse && strlen(o.reuse) > 900)) usage();
  if (o.reuse) {
    snprintf(dir, sizeof dir, "%s", o.reuse);
    o.keep = 1;
  } else {
    snprintf(dir, sizeof dir, "%s/veche-state-bench-XXXXXX", o.dir);
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      return 1;
    }
  }
  store_t *s;
  int rc = store_open_lmdb(&s, dir, (size_t)o.map_mb << 20);
  if (rc) die("store_open_lmdb", rc);
  printf("state_bench: dir %s, %llu keys of %d bytes, values of %d bytes\n", dir,
         (unsigned long long)o.keys, KEY_BYTES, VALUE_BYTES);
  if (g_prune_window) {
    store_txn_t *t;
    if ((rc = store_txn_begin(s, true, &t)) || (rc = state_prune_enable(t)) ||
        (rc = store_txn_commit(t))) {
      die("state_prune_enable", rc);
    }
    printf("pruning: window %llu versions, at most %llu deletions per block\n",
           (unsigned long long)g_prune_window, (unsigned long long)g_prune_max);
  }

  size_t cap = o.load_block > o.block ? o.load_block : o.block;
  state_change_t *ch = calloc(cap, sizeof *ch);
  uint8_t *kbuf = malloc(cap * KEY_BYTES), *vbuf = malloc(cap * VALUE_BYTES);
  if (!ch || !kbuf || !vbuf) die("malloc", VE_ERR_NOMEM);
  for (size_t j = 0; j < cap; j++) {
    ch[j].key = ve_slice(kbuf + j * KEY_BYTES, KEY_BYTES);
    ch[j].val = ve_slice(vbuf + j * VALUE_BYTES, VALUE_BYTES);
  }

  /* ---- 1. load ---- */
  uint64_t version = 0;
  if (o.reuse) {
    store_txn_t *t;
    if ((rc = store_txn_begin(s, false, &t)) || (rc = state_version_latest(t, &version))) {
      die("reuse", rc);
    }
    store_txn_abort(t);
  }
  double load_state_s = 0, load_cpu_s = 0, load_txn_s = 0, t_load = bench_now_s(), t_report = t_load;
  for (uint64_t base = 0; base < o.keys && !o.reuse; base += o.load_block) {
    size_t n = (size_t)(o.keys - base < o.load_block ? o.keys - base : o.load_block);
    for (size_t j = 0; j < n; j++) {
      key_make(kbuf + j * KEY_BYTES, base + j, 0);
      fill(vbuf + j * VALUE_BYTES, VALUE_BYTES, base + j, 0);
    }
    block_commit(s, ++version, ch, n, &load_state_s, &load_cpu_s, &load_txn_s);
    if (bench_now_s() - t_report > 30 || base + n == o.keys) {
      t_report = bench_now_s();
      printf("  load: %llu keys, %.0f s, db %.2f GiB\n", (unsigned long long)(base + n),
             t_report - t_load, (double)file_bytes(dir, "data.mdb") / (1 << 30));
      fflush(stdout);
    }
  }
  double load_s = bench_now_s() - t_load;
  if (!o.reuse) printf("load: %llu keys in blocks of %llu: %.1f s (state_commit %.1f s wall, %.1f s CPU; "
         "txn commit %.1f s), %.0f keys/s, db %.2f GiB\n",
         (unsigned long long)o.keys, (unsigned long long)o.load_block, load_s, load_state_s,
         load_cpu_s, load_txn_s, (double)o.keys / load_s, (double)file_bytes(dir, "data.mdb") / (1 << 30));
  if (g_prune_window && !o.reuse) {
    printf("  pruning during the load: stale log %.1f MiB in %llu chunks, state_prune %.1f s CPU, "
           "%llu entries deleted\n", (double)g_prune.log_bytes / (1 << 20),
           (unsigned long long)g_prune.log_chunks, g_prune.cpu_s, (unsigned long long)g_prune.deleted);
  }

  /* ---- 1b. warm-up (--warm 1): touch every page of the state tables once, as
   * a long-running node has, so that the update figures are not inflated by
   * first-touch page faults of a fresh process (LMDB reads through mmap). ---- */
  if (o.warm) {
    double w0 = bench_now_s();
    uint64_t entries = 0, sum = 0;
    store_txn_t *t;
    if ((rc = store_txn_begin(s, false, &t))) die("txn begin", rc);
    store_table_t tables[3] = {STORE_T_STATE, STORE_T_STATE_NODES, STORE_T_STATE_HIST};
    for (int k = 0; k < 3; k++) {
      store_cursor_t *c;
      if ((rc = store_cursor_open(t, tables[k], &c))) die("cursor", rc);
      ve_slice_t key, val;
      for (int r = store_cursor_seek(c, ve_slice(NULL, 0), &key, &val); r == 0;
           r = store_cursor_next(c, &key, &val)) {
        entries++;
        for (size_t i = 0; i < val.len; i += 4096) sum += val.ptr[i]; /* every page */
      }
      store_cursor_close(c);
    }
    store_txn_abort(t);
    printf("warm-up: %llu entries read in %.1f s (checksum %llu)\n", (unsigned long long)entries,
           bench_now_s() - w0, (unsigned long long)(sum & 0xff));
  }

  /* ---- 2. updates (after --warm-blocks untimed ones) ---- */
  double upd_state_s = 0, upd_cpu_s = 0, upd_txn_s = 0, rep_cpu_s = 0, rep_txn_s = 0;
  long faults0 = minor_faults();
  uint64_t written0 = bytes_written();
  uint64_t rng = 42;
  state_cache_stats_t cs0 = {0};
  for (uint64_t b = 0; b < o.warm_blocks + o.blocks; b++) {
    if (b == o.warm_blocks) {
      memset(&g_prune, 0, sizeof g_prune);
      upd_state_s = upd_cpu_s = upd_txn_s = rep_cpu_s = rep_txn_s = 0;
      faults0 = minor_faults();
      written0 = bytes_written();
      state_cache_stats_get(&cs0);
    }
    ++version;
    for (size_t j = 0; j < o.block; j++) {
      uint64_t i = mix64(rng++) % o.keys;
      key_make(kbuf + j * KEY_BYTES, i, 0);
      fill(vbuf + j * VALUE_BYTES, VALUE_BYTES, i, version);
    }
    block_commit(s, version, ch, o.block, &upd_state_s, &upd_cpu_s, &upd_txn_s);
    /* Per-interval figures show whether the cost drifts as the store ages
     * (freelist, file growth, page cache), which a mean over the run hides. */
    uint64_t timed = b + 1 - o.warm_blocks;
    if (o.report && b >= o.warm_blocks && timed % o.report == 0) {
      printf("  blocks %llu..%llu: state_commit CPU %.1f ms/block, txn commit %.1f ms/block, "
             "db %.2f GiB\n", (unsigned long long)(timed - o.report + 1), (unsigned long long)timed,
             1000 * (upd_cpu_s - rep_cpu_s) / (double)o.report,
             1000 * (upd_txn_s - rep_txn_s) / (double)o.report,
             (double)file_bytes(dir, "data.mdb") / (1 << 30));
      fflush(stdout);
      rep_cpu_s = upd_cpu_s;
      rep_txn_s = upd_txn_s;
    }
  }
  if (o.warm_blocks) printf("%llu untimed update blocks first\n", (unsigned long long)o.warm_blocks);
  double updates = (double)(o.blocks * o.block);
  printf("page faults during the updates: %.2f per update (first touches of LMDB's map)\n",
         (double)(minor_faults() - faults0) / updates);
  printf("bytes written during the updates: %.1f MiB per block (%.0f per update)\n",
         (double)(bytes_written() - written0) / (double)o.blocks / (1 << 20),
         (double)(bytes_written() - written0) / updates);
  state_cache_stats_t cs;
  state_cache_stats_get(&cs);
  printf("cache of upper nodes: %s; node reads served %llu, from the store %llu, stale %llu, "
         "resets %llu (timed blocks), %.1f MiB\n", g_cached ? "on" : "off",
         (unsigned long long)(cs.hits - cs0.hits), (unsigned long long)(cs.misses - cs0.misses),
         (unsigned long long)(cs.stale - cs0.stale), (unsigned long long)(cs.resets - cs0.resets),
         (double)cs.bytes / (1 << 20));
  printf("update: %llu blocks of %llu random updates into %llu keys:\n"
         "  state_commit, CPU time:   %.0f updates/s (%.1f ms per block)\n"
         "  state_commit, wall time:  %.0f updates/s (%.1f ms per block)\n"
         "  with durable txn commit:  %.0f updates/s (%.1f ms per block)\n",
         (unsigned long long)o.blocks, (unsigned long long)o.block, (unsigned long long)o.keys,
         updates / upd_cpu_s, 1000 * upd_cpu_s / (double)o.blocks, updates / upd_state_s, 1000 * upd_state_s / (double)o.blocks,
         updates / (upd_state_s + upd_txn_s),
         1000 * (upd_state_s + upd_txn_s) / (double)o.blocks);
  if (g_prune_window) {
    printf("  with state_prune and durable txn commit: %.0f updates/s (%.1f ms per block)\n",
           updates / (upd_state_s + g_prune.wall_s + upd_txn_s),
           1000 * (upd_state_s + g_prune.wall_s + upd_txn_s) / (double)o.blocks);
    printf("  pruning: stale log %.0f bytes per block (%.1f per update, %.1f chunks per block); "
           "state_prune %.2f ms CPU (%.2f ms wall) per block, %.0f entries deleted per block "
           "(%.2f per update, %.0f ns each)\n",
           (double)g_prune.log_bytes / (double)o.blocks, (double)g_prune.log_bytes / updates,
           (double)g_prune.log_chunks / (double)o.blocks, 1000 * g_prune.cpu_s / (double)o.blocks,
           1000 * g_prune.wall_s / (double)o.blocks,
           (double)g_prune.deleted / (double)o.blocks, (double)g_prune.deleted / updates,
           g_prune.deleted ? 1e9 * g_prune.cpu_s / (double)g_prune.deleted : 0.0);
  }

  /* ---- 2b. the current-value table alone ---- */
  double table_cpu_s = 0;
  for (uint64_t b = 0; b < o.blocks; b++) {
    store_txn_t *t;
    rc = store_txn_begin(s, true, &t);
    if (rc) die("txn begin", rc);
    for (size_t j = 0; j < o.block; j++) key_make(kbuf + j * KEY_BYTES, mix64(rng++) % o.keys, 0);
    qsort(kbuf, o.block, KEY_BYTES, key_cmp);
    for (size_t j = 0; j < o.block; j++) {
      ve_slice_t v;
      rc = state_get(t, ch[j].key, &v);
      if (rc || v.len != VALUE_BYTES) die("state_get", rc ? rc : VE_ERR_CORRUPT);
      memcpy(vbuf + j * VALUE_BYTES, v.ptr, VALUE_BYTES);
    }
    double c0 = bench_cpu_s();
    for (size_t j = 0; j < o.block; j++) {
      rc = store_put(t, STORE_T_STATE, ch[j].key, ch[j].val);
      if (rc) die("store_put", rc);
    }
    table_cpu_s += bench_cpu_s() - c0;
    rc = store_txn_commit(t);
    if (rc) die("txn commit", rc);
  }
  printf("  of which current-value table (STORE_T_STATE puts alone, CPU): %.1f ms per block\n"
         "  tree and history alone (the difference, CPU): %.0f updates/s (%.1f ms per block)\n",
         1000 * table_cpu_s / (double)o.blocks, updates / (upd_cpu_s - table_cpu_s),
         1000 * (upd_cpu_s - table_cpu_s) / (double)o.blocks);

  /* ---- 3. proofs ---- */
  size_t np = (size_t)o.proofs * 2;
  ve_buf_t *proofs = calloc(np, sizeof *proofs);
  ve_buf_t *vals = calloc(np, sizeof *vals);
  uint8_t(*keys)[KEY_BYTES] = malloc(np * KEY_BYTES);
  if (!proofs || !vals || !keys) die("malloc", VE_ERR_NOMEM);
  store_txn_t *t;
  rc = store_txn_begin(s, false, &t);
  if (rc) die("txn begin", rc);
  size_t sum[2] = {0, 0}, max[2] = {0, 0};
  double t0 = bench_now_s();
  for (size_t j = 0; j < np; j++) {
    int absent = j >= o.proofs;
    key_make(keys[j], mix64(rng++) % o.keys, absent);
    ve_buf_init(&proofs[j], STATE_PROOF_BYTES_MAX);
    ve_buf_init(&vals[j], STATE_VALUE_BYTES_MAX);
    bool present;
    rc = state_prove(t, version, ve_slice(keys[j], KEY_BYTES), &present, &vals[j], &proofs[j]);
    if (rc) die("state_prove", rc);
    if (present == absent) die("unexpected presence", VE_ERR_STATE);
    sum[absent] += proofs[j].len;
    if (proofs[j].len > max[absent]) max[absent] = proofs[j].len;
  }
  double prove_s = bench_now_s() - t0;
  uint8_t root[STATE_HASH_BYTES];
  rc = state_root_at(t, version, root);
  if (rc) die("state_root_at", rc);
  store_txn_abort(t);
  t0 = bench_now_s();
  for (size_t j = 0; j < np; j++) {
    ve_slice_t v = ve_buf_slice(&vals[j]);
    rc = state_proof_verify(root, ve_slice(keys[j], KEY_BYTES), j < o.proofs ? &v : NULL,
                            ve_buf_slice(&proofs[j]));
    if (rc) die("state_proof_verify", rc);
  }
  double verify_s = bench_now_s() - t0;
  printf("proofs: %llu present + %llu absent keys\n"
         "  inclusion size: avg %.0f B, max %zu B; absence size: avg %.0f B, max %zu B\n"
         "  prove %.1f us each (LMDB, warm), verify %.1f us each\n",
         (unsigned long long)o.proofs, (unsigned long long)o.proofs,
         (double)sum[0] / (double)o.proofs, max[0], (double)sum[1] / (double)o.proofs, max[1],
         1e6 * prove_s / (double)np, 1e6 * verify_s / (double)np);
  printf("db size at the end: %.2f GiB\n", (double)file_bytes(dir, "data.mdb") / (1 << 30));
  {
    uint64_t counts[3] = {0, 0, 0};
    store_table_t tables[3] = {STORE_T_STATE, STORE_T_STATE_NODES, STORE_T_STATE_HIST};
    uint64_t oldest = 0;
    if ((rc = store_txn_begin(s, false, &t))) die("txn begin", rc);
    for (int k = 0; k < 3; k++) {
      if ((rc = store_count(t, tables[k], &counts[k]))) die("store_count", rc);
    }
    if ((rc = state_version_oldest(t, &oldest))) die("state_version_oldest", rc);
    store_txn_abort(t);
    printf("entries at the end: current values %llu, tree nodes %llu, history %llu; "
           "versions %llu..%llu provable\n", (unsigned long long)counts[0],
           (unsigned long long)counts[1], (unsigned long long)counts[2],
           (unsigned long long)oldest, (unsigned long long)version);
  }

  for (size_t j = 0; j < np; j++) {
    ve_buf_free(&proofs[j]);
    ve_buf_free(&vals[j]);
  }
  free(proofs);
  free(vals);
  free(keys);
  free(ch);
  free(kbuf);
  free(vbuf);
  store_close(s);
  if (o.keep) printf("kept %s\n", dir);
  if (!o.keep) {
    char path[1100];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
  }
  return 0;
}
