/* pipeline_bench.c — the node's transaction path without HTTP: admission into
 * the mempool from several threads while one thread proposes, validates and
 * commits blocks on LMDB, as src/node/node.c's pipeline does.
 *
 * Why: the HTTP benchmark (bench/netload) measures the whole node; this one isolates
 * the ledger, mempool, state and store costs so that each can be measured on
 * its own (CPU time per transaction, per phase) and profiled without JSON and
 * sockets in the picture. Workload (--workload): pre-signed identity
 * registrations by one registrar (regs, the default) or document registrations
 * by that registrar about itself (docs), as netload submits them.
 *
 * Output: one JSON object with committed tx/s (wall), the CPU time per tx of
 * admission (sum over the admission threads) and of each block phase on the
 * block thread, and this machine's Ed25519 verifications and key subgroup
 * checks per second on one core, measured in the same run. The commit phase is
 * split into the block's decode, execution (ledger_block_commit_decoded without
 * the state commit), the state commit (state_commit[_cached], timed through the
 * linker's --wrap, see CMakeLists.txt) and the store txn commit (CPU; its wall
 * time is sync_us_per_tx). The block thread is named "blocks" and the
 * admission threads "admit", so `perf report --comms blocks` profiles one of
 * them. Not a ctest test:
 *   build/bench/pipeline/pipeline_bench --count 100000 --threads 2 [--workload docs]
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"
#include "mempool/mempool.h"
#include "state/state.h"
#include "../common/bench_clock.h"

#define PB_THREADS_MAX 16
#define PB_CHAIN "veche-pipeline-bench"

static const ledger_registry_t REG = {&identity_auth, {&identity_app, &documents_app}, 2, NULL};

typedef struct {
  store_t *store;
  mempool_t *mp;
  ve_slice_t *txs;
  size_t n;
  _Atomic size_t next;
  _Atomic uint64_t height; /* last committed */
  _Atomic size_t rejected;
  _Atomic int first_reject;
  int decoded; /* --decoded: one decode per step, the ledger's *_decoded calls */
  int docs;    /* --workload docs: document registrations */
  double cpu_s[PB_THREADS_MAX];
} pb_t;

static _Noreturn void die(const char *what, int rc) {
  fprintf(stderr, "pipeline_bench: %s: %s\n", what, ve_strerror(rc));
  exit(1);
}

static void seed_key(vcrypto_keypair_t *kp, uint64_t n, uint8_t tag) {
  uint8_t seed[VCRYPTO_SEED_BYTES] = {0};
  ve_be64_put(seed, n);
  seed[31] = tag;
  vcrypto_keypair_from_seed(kp, seed);
}

/* Operations of one kind per second on this core, over about half a second. */
static double rate_verify(void) {
  vcrypto_keypair_t kp;
  uint8_t msg[200] = {1}, sig[VCRYPTO_SIG_BYTES];
  seed_key(&kp, 1, 1);
  vcrypto_sign_raw(sig, &kp, msg, sizeof msg);
  size_t n = 0;
  double t0 = bench_now_s(), t;
  do {
    for (int i = 0; i < 64; i++) n += vcrypto_verify_raw(sig, kp.pk, msg, sizeof msg) == 0;
    t = bench_now_s();
  } while (t - t0 < 0.5);
  return (double)n / (t - t0);
}

static double rate_pk_valid(void) {
  /* Fresh keys each time: vcrypto_pk_valid remembers keys it accepted. */
  enum { KEYS = 4096 };
  static uint8_t pks[KEYS][VCRYPTO_PK_BYTES];
  for (size_t i = 0; i < KEYS; i++) {
    vcrypto_keypair_t kp;
    seed_key(&kp, i, 0x99);
    memcpy(pks[i], kp.pk, VCRYPTO_PK_BYTES);
  }
  size_t n = 0;
  double t0 = bench_now_s();
  for (size_t i = 0; i < KEYS; i++) n += vcrypto_pk_valid(pks[i]);
  return (double)n / (bench_now_s() - t0);
}

static void *admit_worker(void *arg) {
  pb_t *b = ((void **)arg)[0];
  size_t me = (size_t)((void **)arg)[1];
  pthread_setname_np(pthread_self(), "admit");
  double c0 = bench_cpu_s();
  for (;;) {
    size_t i = atomic_fetch_add(&b->next, 1);
    if (i >= b->n) break;
    int rc;
    while ((rc = mempool_add(b->mp, b->store, ve_slice(PB_CHAIN, strlen(PB_CHAIN)),
                             atomic_load(&b->height) + 1, b->txs[i], NULL)) == VE_ERR_FULL)
      usleep(1000); /* the pool is full: wait for a block */
    if (rc) {
      atomic_fetch_add(&b->rejected, 1);
      int zero = 0;
      atomic_compare_exchange_strong(&b->first_reject, &zero, rc);
    }
  }
  b->cpu_s[me] = bench_cpu_s() - c0;
  return NULL;
}

typedef struct {
  /* CPU s, except sync: wall s of the txn commit. commit = decode + execute +
   * state + the mempool's on_commit and frees; store (the txn commit) is apart. */
  double propose, validate, commit, decode, execute, state, store, sync;
  size_t blocks;
} phases_t;

/* CPU s spent in the state commit, summed by the wrappers below. */
static double state_commit_cpu_s;

int __real_state_commit(store_txn_t *t, uint64_t version, const state_change_t *changes, size_t n,
                        uint8_t root_out[STATE_HASH_BYTES]);
int __wrap_state_commit(store_txn_t *t, uint64_t version, const state_change_t *changes, size_t n,
                        uint8_t root_out[STATE_HASH_BYTES]);
int __real_state_commit_cached(store_txn_t *t, const uint8_t before[STATE_HASH_BYTES],
                               const uint8_t after[STATE_HASH_BYTES], uint64_t version,
                               const state_change_t *changes, size_t n,
                               uint8_t root_out[STATE_HASH_BYTES]);
int __wrap_state_commit_cached(store_txn_t *t, const uint8_t before[STATE_HASH_BYTES],
                               const uint8_t after[STATE_HASH_BYTES], uint64_t version,
                               const state_change_t *changes, size_t n,
                               uint8_t root_out[STATE_HASH_BYTES]);

int __wrap_state_commit(store_txn_t *t, uint64_t version, const state_change_t *changes, size_t n,
                        uint8_t root_out[STATE_HASH_BYTES]) {
  double c0 = bench_cpu_s();
  int rc = __real_state_commit(t, version, changes, n, root_out);
  state_commit_cpu_s += bench_cpu_s() - c0;
  return rc;
}

int __wrap_state_commit_cached(store_txn_t *t, const uint8_t before[STATE_HASH_BYTES],
                               const uint8_t after[STATE_HASH_BYTES], uint64_t version,
                               const state_change_t *changes, size_t n,
                               uint8_t root_out[STATE_HASH_BYTES]) {
  double c0 = bench_cpu_s();
  int rc = __real_state_commit_cached(t, before, after, version, changes, n, root_out);
  state_commit_cpu_s += bench_cpu_s() - c0;
  return rc;
}

/* One height, as node_pipeline_propose / _validate / _commit do it. Returns the
 * number of transactions committed. */
__attribute__((noinline)) static size_t block_once(pb_t *b, const uint8_t valset[LEDGER_HASH_BYTES],
                         const uint8_t proposer[VCRYPTO_PK_BYTES], size_t block_max,
                         uint64_t *time_ms, phases_t *ph) {
  double c0 = bench_cpu_s();
  store_txn_t *t;
  ledger_tip_t tip;
  int rc = store_txn_begin(b->store, false, &t);
  if (rc == VE_OK) rc = ledger_tip_get(t, &tip);
  store_txn_abort(t);
  if (rc) die("tip", rc);
  mempool_batch_t batch;
  if ((rc = mempool_reap(b->mp, block_max, VE_BLOCK_BYTES_MAX - 4096, &batch))) die("reap", rc);
  ledger_header_t h;
  ledger_header_next(&tip, ve_slice(PB_CHAIN, strlen(PB_CHAIN)), ++*time_ms, valset, proposer, &h);
  ve_buf_t block;
  ve_buf_init(&block, 0);
  uint8_t id[LEDGER_HASH_BYTES];
  if ((rc = ledger_block_build(&h, batch.txs, (const uint8_t(*)[LEDGER_HASH_BYTES])batch.ids, batch.n, &block)))
    die("encode", rc);
  if ((rc = ledger_header_hash(&h, id))) die("header hash", rc);
  mempool_batch_free(&batch);
  double c1 = bench_cpu_s();

  /* validate (b->decoded: decoding once, as recommended for the node) */
  ledger_block_t d;
  if ((rc = ledger_block_decode(ve_buf_slice(&block), &d))) die("decode", rc);
  uint8_t hash[LEDGER_HASH_BYTES];
  if ((rc = ledger_header_hash(&d.header, hash)) || memcmp(hash, id, sizeof hash)) die("hash", rc);
  if ((rc = store_txn_begin(b->store, false, &t))) die("txn", rc);
  rc = b->decoded ? ledger_block_validate_decoded(t, &d, valset, mempool_sig_checked, b->mp)
                  : ledger_block_validate(t, ve_buf_slice(&block), valset, mempool_sig_checked, b->mp);
  store_txn_abort(t);
  ledger_block_free(&d);
  if (rc) die("validate", rc);
  double c2 = bench_cpu_s();

  /* commit */
  if ((rc = ledger_block_decode(ve_buf_slice(&block), &d))) die("decode", rc);
  double c2d = bench_cpu_s();
  size_t n = d.tx_count;
  uint8_t(*ids)[LEDGER_HASH_BYTES] = malloc((n ? n : 1) * LEDGER_HASH_BYTES);
  if (!ids) die("malloc", VE_ERR_NOMEM);
  if (b->decoded) memcpy(ids, d.ids, n * LEDGER_HASH_BYTES);
  else
    for (size_t i = 0; i < n; i++) ledger_tx_id(ids[i], d.txs[i]);
  if ((rc = store_txn_begin(b->store, true, &t))) die("txn", rc);
  double s0 = state_commit_cpu_s;
  rc = b->decoded ? ledger_block_commit_decoded(t, &REG, &d, ve_buf_slice(&block), ve_slice("cert", 4), NULL)
                  : ledger_block_commit(t, &REG, ve_buf_slice(&block), ve_slice("cert", 4), NULL);
  if (rc) die("commit", rc);
  double c3 = bench_cpu_s(), w3 = bench_now_s();
  if ((rc = store_txn_commit(t))) die("txn commit", rc);
  double w4 = bench_now_s(), c4 = bench_cpu_s();
  atomic_store(&b->height, h.height);
  mempool_on_commit(b->mp, (const uint8_t(*)[LEDGER_HASH_BYTES])ids, n, h.height + 1);
  free(ids);
  ledger_block_free(&d);
  ve_buf_free(&block);
  double c5 = bench_cpu_s();
  ph->propose += c1 - c0;
  ph->validate += c2 - c1;
  ph->commit += (c3 - c2) + (c5 - c4);
  ph->decode += c2d - c2;
  ph->state += state_commit_cpu_s - s0;
  ph->execute += (c3 - c2d) - (state_commit_cpu_s - s0);
  ph->store += c4 - c3;
  ph->sync += w4 - w3;
  ph->blocks++;
  return n;
}

static void genesis_make(ledger_genesis_t *g, const vcrypto_keypair_t *auth,
                         const vcrypto_keypair_t *val) {
  memset(g, 0, sizeof *g);
  snprintf(g->chain_id, sizeof g->chain_id, "%s", PB_CHAIN);
  g->suite = VCRYPTO_SUITE_ED25519_BLAKE2B;
  g->time_ms = 1000;
  g->n_validators = 1;
  snprintf(g->validators[0].name, sizeof g->validators[0].name, "v0");
  memcpy(g->validators[0].pk, val->pk, VCRYPTO_PK_BYTES);
  g->validators[0].power = 1;
  g->n_authorities = 1;
  snprintf(g->authorities[0].name, sizeof g->authorities[0].name, "registrar");
  memcpy(g->authorities[0].pk, auth->pk, VCRYPTO_PK_BYTES);
  g->authorities[0].roles = ROLE_ADMIN | ROLE_REGISTRAR;
}

int main(int argc, char **argv) {
  size_t count = 100000, threads = 2, block_max = 10000;
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int mem = 0, phased = 0, decoded = 0, docs = 0;
  size_t map_mb = 0; /* LMDB map size (0: the store's default); small under valgrind */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--count") && i + 1 < argc) count = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--block") && i + 1 < argc) block_max = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) tmp = argv[++i];
    else if (!strcmp(argv[i], "--mem")) mem = 1;
    else if (!strcmp(argv[i], "--phased")) phased = 1;
    else if (!strcmp(argv[i], "--decoded")) decoded = 1;
    else if (!strcmp(argv[i], "--workload") && i + 1 < argc && !strcmp(argv[i + 1], "docs")) docs = 1, i++;
    else if (!strcmp(argv[i], "--workload") && i + 1 < argc && !strcmp(argv[i + 1], "regs")) docs = 0, i++;
    else if (!strcmp(argv[i], "--map-mb") && i + 1 < argc) map_mb = strtoul(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: pipeline_bench [--count N] [--threads N] [--block N] [--dir D] [--mem] [--phased] [--decoded] [--workload regs|docs] [--map-mb N]\n");
      return 2;
    }
  }
  if (!count || !threads || threads > PB_THREADS_MAX || !block_max || block_max > VE_BLOCK_TXS_MAX) {
    fprintf(stderr, "pipeline_bench: threads 1..%d, block 1..%d\n", PB_THREADS_MAX, VE_BLOCK_TXS_MAX);
    return 2;
  }
  if (vcrypto_init()) die("vcrypto_init", VE_ERR_CRYPTO);
  double verify_rate = rate_verify(), pk_rate = rate_pk_valid();

  pb_t b;
  memset(&b, 0, sizeof b);
  b.n = count;
  b.decoded = decoded;
  b.docs = docs;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/veche-pipeline-XXXXXX", tmp);
  int rc;
  if (mem) rc = store_open_mem(&b.store);
  else if (!mkdtemp(dir)) die("mkdtemp", VE_ERR_IO);
  else rc = store_open_lmdb(&b.store, dir, map_mb << 20);
  if (rc) die("store open", rc);

  vcrypto_keypair_t auth, val;
  seed_key(&auth, 7, 0xa0);
  seed_key(&val, 8, 0xa0);
  uint8_t auth_id[LEDGER_HASH_BYTES]; /* the registrar: issuer and subject of the documents */
  identity_id_from_pk(auth_id, auth.pk);
  ledger_genesis_t g;
  genesis_make(&g, &auth, &val);
  store_txn_t *t;
  if ((rc = store_txn_begin(b.store, true, &t)) || (rc = ledger_init_store(t, &REG, &g)) ||
      (rc = store_txn_commit(t)))
    die("genesis", rc);
  mempool_config_t mc = {200000, 256u * 1024 * 1024, 100000};
  if ((rc = mempool_new(&mc, &REG, &b.mp))) die("mempool", rc);
  uint8_t valset[LEDGER_HASH_BYTES];
  memset(valset, 3, sizeof valset);

  /* Pre-sign. */
  double ts0 = bench_now_s();
  b.txs = calloc(count, sizeof *b.txs);
  if (!b.txs) die("malloc", VE_ERR_NOMEM);
  uint32_t run = (uint32_t)time(NULL);
  ve_buf_t p, enc;
  ve_buf_init(&p, 0);
  ve_buf_init(&enc, 0);
  for (size_t i = 0; i < count; i++) {
    vcrypto_keypair_t kp;
    seed_key(&kp, ((uint64_t)run << 32) | i, 0x77);
    uint8_t digest[LEDGER_HASH_BYTES] = {0};
    ve_buf_reset(&p);
    ve_buf_reset(&enc);
    uint32_t type = TX_TYPE_IDENTITY_REGISTER;
    if (b.docs) {
      documents_spec_t spec;
      memset(&spec, 0, sizeof spec);
      snprintf(spec.type, sizeof spec.type, "bench");
      memcpy(spec.subject, auth_id, sizeof auth_id);
      if (documents_digest_file_bytes(&spec.digest, DOCUMENTS_ALG_BLAKE2B_256, kp.pk, sizeof kp.pk) ||
          documents_payload_register(&p, &spec))
        die("document payload", VE_ERR_INVALID);
      type = TX_TYPE_DOCUMENT_REGISTER;
    } else {
      identity_payload_register(&p, kp.pk, digest, NULL, 0);
    }
    ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(PB_CHAIN, strlen(PB_CHAIN)),
                      .seq = i + 1, .expiry = 50000, .type = type, .payload = ve_buf_slice(&p)};
    if (ledger_tx_sign(&tx, &auth) || ledger_tx_encode(&tx, &enc)) die("sign", VE_ERR_INVALID);
    uint8_t *copy = malloc(enc.len);
    if (!copy) die("malloc", VE_ERR_NOMEM);
    memcpy(copy, enc.ptr, enc.len);
    b.txs[i] = ve_slice(copy, enc.len);
  }
  double sign_s = bench_now_s() - ts0;
  pthread_setname_np(pthread_self(), "blocks");

  /* Run: admission threads and the block thread (this one) at once; or, with
   * --phased, admission of everything first, then full blocks of --block txs
   * (steadier per-phase figures, independent of how admission and blocks race).
   * The mempool must then hold everything: count <= 200,000. */
  pthread_t th[PB_THREADS_MAX];
  void *args[PB_THREADS_MAX][2];
  double t0 = bench_now_s(), admit_wall = 0;
  for (size_t i = 0; i < threads; i++) {
    args[i][0] = &b;
    args[i][1] = (void *)i;
    pthread_create(&th[i], NULL, admit_worker, args[i]);
  }
  if (phased) {
    for (size_t i = 0; i < threads; i++) pthread_join(th[i], NULL);
    admit_wall = bench_now_s() - t0;
  }
  phases_t ph = {0};
  size_t committed = 0, idle = 0;
  uint64_t time_ms = 1000;
  while (committed + atomic_load(&b.rejected) < count) {
    if (mempool_size(b.mp) == 0) {
      usleep(200);
      if (++idle > 200000) die("stalled", VE_ERR_TIMEOUT);
      continue;
    }
    committed += block_once(&b, valset, val.pk, block_max, &time_ms, &ph);
  }
  double wall = bench_now_s() - t0;
  if (!phased)
    for (size_t i = 0; i < threads; i++) pthread_join(th[i], NULL);
  double admit_cpu = 0;
  for (size_t i = 0; i < threads; i++) admit_cpu += b.cpu_s[i];

  double per = 1e6 / (double)committed;
  printf("{\n  \"workload\": \"%s\", \"count\": %zu, \"threads\": %zu, \"store\": \"%s\",\n"
         "  \"committed\": %zu, \"rejected\": %zu, \"first_reject\": \"%s\", \"blocks\": %zu,"
         " \"phased\": %s, \"admission_seconds\": %.3f,\n"
         "  \"sign_seconds\": %.2f, \"seconds\": %.3f, \"committed_tx_per_s\": %.0f,\n"
         "  \"cpu_us_per_tx\": {\"admission\": %.1f, \"propose\": %.1f, \"validate\": %.1f, "
         "\"commit\": %.1f},\n"
         "  \"commit_cpu_us_per_tx\": {\"decode\": %.1f, \"execute\": %.1f, \"state_commit\": %.1f, "
         "\"store_commit\": %.1f},\n  \"sync_us_per_tx\": %.1f,\n"
         "  \"cores\": %ld, \"ed25519_verify_per_s_per_core\": %.0f, \"pk_valid_per_s_per_core\": %.0f\n}\n",
         docs ? "document.register" : "identity.register", count, threads, mem ? "memory" : "lmdb", committed, (size_t)atomic_load(&b.rejected),
         atomic_load(&b.first_reject) ? ve_err_name(atomic_load(&b.first_reject)) : "", ph.blocks,
         phased ? "true" : "false", admit_wall,
         sign_s, wall, (double)committed / wall, admit_cpu * per, ph.propose * per,
         ph.validate * per, ph.commit * per, ph.decode * per, ph.execute * per, ph.state * per,
         ph.store * per, ph.sync * per, sysconf(_SC_NPROCESSORS_ONLN),
         verify_rate, pk_rate);

  mempool_free(b.mp);
  store_close(b.store);
  if (!mem) {
    char path[1100];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
  }
  for (size_t i = 0; i < count; i++) free((void *)b.txs[i].ptr);
  free(b.txs);
  ve_buf_free(&p);
  ve_buf_free(&enc);
  vcrypto_keypair_wipe(&auth);
  return committed == count ? 0 : 1;
}
