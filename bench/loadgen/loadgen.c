/* loadgen.c — load generator: pre-signed identity registrations, submitted in
 * batches over keep-alive connections, as fast as the node accepts them. By
 * default each connection signs with its own registrar (registered and given
 * ROLE_REGISTRAR by the authority before timing starts); --signers 1 signs
 * everything with the authority key.
 *
 * It reports, from one run:
 *   - this machine's Ed25519 verifications per second on one core (the limit),
 *     and its prime-order subgroup checks of new keys per second, the second
 *     curve operation a registration needs (ceiling_registrations_per_s =
 *     cores / (1/verify rate + 1/subgroup rate));
 *   - committed transactions per second, measured from the first submission to
 *     the moment the node's own committed counter covers every accepted tx;
 *   - the ceiling cores x verifications/s and achieved / ceiling.
 * Signing happens before timing starts. Output: one JSON object on stdout. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "api/http_client.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "ledger/ledger.h"

#define LOADGEN_CONNS_MAX 16
#define LOADGEN_WAIT_S_MAX 300

typedef struct {
  char host[64];
  uint16_t port;
  char **bodies; /* pre-serialised JSON batch bodies */
  size_t *lens;
  size_t n_bodies;
  size_t conns;
  bool per_signer; /* worker w sends bodies w, w + conns, ... in order (its signer's) */
  _Atomic size_t next;
  _Atomic size_t accepted, rejected;
} job_t;

typedef struct {
  job_t *job;
  size_t index;
} worker_arg_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ed25519 verifications per second on this core, over about one second. */
static double measure_verify_rate(void) {
  vcrypto_keypair_t kp;
  uint8_t seed[32] = {42}, msg[200] = {1}, sig[64];
  vcrypto_keypair_from_seed(&kp, seed);
  vcrypto_sign_raw(sig, &kp, msg, sizeof msg);
  size_t n = 0;
  double t0 = now_s(), t;
  do {
    for (int i = 0; i < 256; i++) n += vcrypto_verify_raw(sig, kp.pk, msg, sizeof msg) == 0;
    t = now_s();
  } while (t - t0 < 1.0);
  return (double)n / (t - t0);
}

/* Reads "accepted" and "rejected" when they are the first two members of the
 * answer; leaves -1 otherwise (the caller then parses the whole body). */
static void counts_scan(const char *p, size_t len, long long *acc, long long *rej) {
  static const char a[] = "{\"accepted\":", r[] = ",\"rejected\":";
  if (len < 40 || memcmp(p, a, sizeof a - 1) != 0) return;
  char *end;
  long long x = strtoll(p + sizeof a - 1, &end, 10);
  if (end == p + sizeof a - 1 || (size_t)(end - p) + sizeof r > len || memcmp(end, r, sizeof r - 1)) return;
  const char *q = end + sizeof r - 1;
  long long y = strtoll(q, &end, 10);
  if (end == q || *end != ',') return;
  *acc = x;
  *rej = y;
}

/* Prime-order subgroup checks of fresh keys per second on this core: the second
 * curve operation a registration costs (vcrypto_pk_valid remembers keys it
 * accepted, so every key here is new). About half a second. */
static double measure_subgroup_rate(void) {
  enum { KEYS = 2048 };
  static uint8_t pks[KEYS][VCRYPTO_PK_BYTES];
  uint32_t salt = (uint32_t)time(NULL);
  size_t n = 0;
  double spent = 0;
  while (spent < 0.5) {
    for (size_t i = 0; i < KEYS; i++) {
      uint8_t seed[32] = {0};
      memcpy(seed, &salt, 4);
      memcpy(seed + 4, &i, sizeof i);
      seed[31] = 0x5b;
      vcrypto_keypair_t kp;
      vcrypto_keypair_from_seed(&kp, seed);
      memcpy(pks[i], kp.pk, VCRYPTO_PK_BYTES);
    }
    salt++;
    double t0 = now_s();
    for (size_t i = 0; i < KEYS; i++) n += vcrypto_pk_valid(pks[i]);
    spent += now_s() - t0;
  }
  return (double)n / spent;
}

static void *worker(void *arg) {
  worker_arg_t *wa = arg;
  job_t *j = wa->job;
  http_conn_t *c = NULL;
  size_t mine = wa->index;
  for (;;) {
    size_t i = j->per_signer ? mine : atomic_fetch_add(&j->next, 1);
    if (i >= j->n_bodies) break;
    if (!c && http_conn_open(j->host, j->port, 10000, &c) != 0) {
      fprintf(stderr, "loadgen: cannot connect\n");
      exit(1);
    }
    http_response_t r;
    if (http_conn_request(c, "POST", "/v1/txs", "application/json", j->bodies[i], j->lens[i], 60000, &r) != 0) {
      http_conn_close(c);
      c = NULL;
      fprintf(stderr, "loadgen: batch %zu: request failed; not resent\n", i);
      mine += j->conns;
      continue;
    }
    mine += j->conns;
    /* The node's answer starts {"accepted": N, "rejected": M, "results": [...]}:
     * when every tx was accepted the counts are all we need, so the per-tx
     * results are parsed only when something went wrong (this client shares the
     * machine with the node; parsing 2,000 results per batch is not free). */
    long long acc = -1, rej = -1;
    if (r.status == 200) counts_scan((const char *)r.body.ptr, r.body.len, &acc, &rej);
    if (acc >= 0 && rej == 0) {
      atomic_fetch_add(&j->accepted, (size_t)acc);
      http_response_free(&r);
      continue;
    }
    json_t *res = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    if (r.status != 200 || json_integer_value(json_object_get(res, "rejected")) > 0) {
      /* Show one reason per failing batch, so a run that loses txs says why. */
      json_t *first = json_array_get(json_object_get(res, "results"), 0);
      size_t k;
      json_t *it;
      json_array_foreach(json_object_get(res, "results"), k, it)
        if (json_object_get(it, "error")) { first = it; break; }
      fprintf(stderr, "loadgen: batch %zu: HTTP %d, rejected %lld, e.g. %s\n", i, r.status,
              (long long)json_integer_value(json_object_get(res, "rejected")),
              first ? json_string_value(json_object_get(first, "error")) : (const char *)r.body.ptr);
    }
    atomic_fetch_add(&j->accepted, (size_t)json_integer_value(json_object_get(res, "accepted")));
    atomic_fetch_add(&j->rejected, (size_t)json_integer_value(json_object_get(res, "rejected")));
    json_decref(res);
    http_response_free(&r);
  }
  if (c) http_conn_close(c);
  return NULL;
}

/* CPU seconds (user + system) used so far by process pid, from /proc; -1 if
 * unknown. Lets a run on a shared machine report the node's CPU per tx, which
 * other load disturbs less than throughput. */
static double proc_cpu_s(long pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = pid > 0 ? fopen(path, "r") : NULL;
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  unsigned long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The machine's 1-minute load average at the end of the run (other jobs
 * sharing it make every figure lower). */
static double load_1min(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

static json_t *get_json(const char *host, uint16_t port, const char *path);

/* The registrar whose key signs batch b: the authority itself, or with
 * --signers, registrar b % signers. */
static void registrar_key(vcrypto_keypair_t *kp, uint32_t run_id, size_t w) {
  uint8_t s[32] = {0};
  memcpy(s, &run_id, 4);
  memcpy(s + 4, &w, sizeof w);
  s[31] = 0x55;
  vcrypto_keypair_from_seed(kp, s);
}

static uint64_t signer_last_seq(const char *host, uint16_t port, const uint8_t pk[32]) {
  char hex[65], path[128];
  ve_hex_encode(hex, pk, 32);
  snprintf(path, sizeof path, "/v1/signers/%s", hex);
  json_t *sg = get_json(host, port, path);
  uint64_t last = (uint64_t)json_integer_value(json_object_get(sg, "last_seq"));
  json_decref(sg);
  return last;
}

/* Submits txs (encoded, hex) signed by auth with seqs up to last_seq and waits
 * until the authority's sequence shows them executed. */
static void submit_and_wait(const char *host, uint16_t port, json_t *hexes, const uint8_t auth_pk[32],
                            uint64_t last_seq) {
  int st;
  json_t *res = NULL, *body = json_pack("{s:o}", "txs", hexes);
  if (http_request_json(host, port, "POST", "/v1/txs", body, 10000, &st, &res) != 0 || st != 200 ||
      json_integer_value(json_object_get(res, "rejected")) != 0) {
    char *d = res ? json_dumps(res, JSON_COMPACT) : NULL;
    fprintf(stderr, "loadgen: setting up registrars failed: HTTP %d %s\n", st, d ? d : "");
    exit(1);
  }
  json_decref(body);
  json_decref(res);
  for (int i = 0; i < 3000 && signer_last_seq(host, port, auth_pk) < last_seq; i++) usleep(10000);
  if (signer_last_seq(host, port, auth_pk) < last_seq) {
    fprintf(stderr, "loadgen: registrar set-up txs did not commit\n");
    exit(1);
  }
}

/* Registers n registrar identities and grants them ROLE_REGISTRAR (two blocks,
 * before timing), so that each connection signs with its own sequence window. */
static void registrars_setup(const char *host, uint16_t port, const vcrypto_keypair_t *auth,
                             ve_slice_t chain, uint64_t height, uint64_t *seq, uint32_t run_id,
                             size_t n) {
  ve_buf_t p, enc;
  ve_buf_init(&p, 0);
  ve_buf_init(&enc, 0);
  for (int step = 0; step < 2; step++) {
    json_t *arr = json_array();
    for (size_t w = 0; w < n; w++) {
      vcrypto_keypair_t kp;
      registrar_key(&kp, run_id, w);
      uint8_t digest[32] = {0}, id[32];
      ve_buf_reset(&p);
      ve_buf_reset(&enc);
      identity_id_from_pk(id, kp.pk);
      if (step == 0) identity_payload_register(&p, kp.pk, digest, NULL, 0);
      else identity_payload_set_roles(&p, id, ROLE_REGISTRAR);
      ledger_tx_t tx = {.version = 1, .chain_id = chain, .seq = (*seq)++, .expiry = height + 50000,
                        .type = step == 0 ? TX_TYPE_IDENTITY_REGISTER : TX_TYPE_IDENTITY_SET_ROLES,
                        .payload = ve_buf_slice(&p)};
      ledger_tx_sign(&tx, auth);
      ledger_tx_encode(&tx, &enc);
      char *h = malloc(2 * enc.len + 1);
      ve_hex_encode(h, enc.ptr, enc.len);
      json_array_append_new(arr, json_string(h));
      free(h);
      vcrypto_keypair_wipe(&kp);
    }
    submit_and_wait(host, port, arr, auth->pk, *seq - 1);
  }
  ve_buf_free(&p);
  ve_buf_free(&enc);
}

static json_t *get_json(const char *host, uint16_t port, const char *path) {
  int st;
  json_t *j = NULL;
  if (http_request_json(host, port, "GET", path, NULL, 10000, &st, &j) != 0 || st != 200) {
    fprintf(stderr, "loadgen: GET %s failed\n", path);
    exit(1);
  }
  return j;
}

int main(int argc, char **argv) {
  const char *node = "127.0.0.1:8645", *key = NULL;
  size_t count = 100000, batch = 2000, conns = 2, signers = 0;
  long node_pid = 0; /* --node-pid: report the node's CPU time per committed tx */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--node") && i + 1 < argc) node = argv[++i];
    else if (!strcmp(argv[i], "--key") && i + 1 < argc) key = argv[++i];
    else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--conns") && i + 1 < argc) conns = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--node-pid") && i + 1 < argc) node_pid = strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--signers") && i + 1 < argc) signers = strtoul(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: loadgen --key AUTHORITY_KEY [--node H:P] [--count N] [--batch N] [--conns N]\n"
                      "               [--signers 1|CONNS] [--node-pid PID]\n");
      return 2;
    }
  }
  if (!signers) signers = conns;
  if (!key || !count || !batch || batch > 20000 || !conns || conns > LOADGEN_CONNS_MAX ||
      (signers != 1 && signers != conns)) {
    fprintf(stderr, "loadgen: --key is required; batch 1..20000; conns 1..%d; signers 1 or conns\n",
            LOADGEN_CONNS_MAX);
    return 2;
  }
  vcrypto_init();
  job_t job;
  memset(&job, 0, sizeof job);
  const char *colon = strrchr(node, ':');
  snprintf(job.host, sizeof job.host, "%.*s", (int)(colon - node), node);
  job.port = (uint16_t)atoi(colon + 1);
  vcrypto_keypair_t auth;
  if (vcrypto_keyfile_read(key, &auth) != 0) {
    fprintf(stderr, "loadgen: cannot read %s\n", key);
    return 1;
  }

  double verify_rate = measure_verify_rate(), subgroup_rate = measure_subgroup_rate();
  json_t *st = get_json(job.host, job.port, "/v1/status");
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  snprintf(chain, sizeof chain, "%s", json_string_value(json_object_get(st, "chain_id")));
  uint64_t height = (uint64_t)json_integer_value(json_object_get(st, "height"));
  uint64_t committed0 = (uint64_t)json_integer_value(json_object_get(st, "txs_committed_since_start"));
  json_decref(st);
  char hex[65], path[128];
  ve_hex_encode(hex, auth.pk, 32);
  snprintf(path, sizeof path, "/v1/signers/%s", hex);
  json_t *sg = get_json(job.host, job.port, path);
  uint64_t seq = (uint64_t)json_integer_value(json_object_get(sg, "next_seq"));
  json_decref(sg);

  /* Pre-sign everything. Each run uses fresh keys (seeded from the time). With
   * one signer (the authority) any connection takes the next batch; with a
   * registrar per connection, connection w sends its registrar's batches in
   * order, so that no signer's sequences are ever reordered by more than one
   * batch (they must commit within LEDGER_SEQ_WINDOW of each other). */
  double ts0 = now_s();
  uint32_t run_id = (uint32_t)time(NULL);
  vcrypto_keypair_t reg[LOADGEN_CONNS_MAX];
  uint64_t reg_seq[LOADGEN_CONNS_MAX];
  if (signers > 1) {
    registrars_setup(job.host, job.port, &auth, ve_slice(chain, strlen(chain)), height, &seq, run_id,
                     signers);
    for (size_t w = 0; w < signers; w++) {
      registrar_key(&reg[w], run_id, w);
      reg_seq[w] = 1;
    }
  }
  job.conns = conns;
  job.per_signer = signers > 1;
  if (signers > 1) { /* the set-up txs are not part of the run */
    json_t *st2 = get_json(job.host, job.port, "/v1/status");
    committed0 = (uint64_t)json_integer_value(json_object_get(st2, "txs_committed_since_start"));
    json_decref(st2);
  }
  job.n_bodies = (count + batch - 1) / batch;
  job.bodies = calloc(job.n_bodies, sizeof *job.bodies);
  job.lens = calloc(job.n_bodies, sizeof *job.lens);
  ve_buf_t p, enc;
  ve_buf_init(&p, 0);
  ve_buf_init(&enc, 0);
  for (size_t b = 0; b < job.n_bodies; b++) {
    json_t *arr = json_array();
    for (size_t k = 0; k < batch && b * batch + k < count; k++) {
      uint8_t s[32] = {0};
      uint64_t i = b * batch + k;
      memcpy(s, &run_id, 4);
      memcpy(s + 4, &i, 8);
      s[31] = 0x77;
      vcrypto_keypair_t kp;
      vcrypto_keypair_from_seed(&kp, s);
      uint8_t digest[32] = {0};
      ve_buf_reset(&p);
      ve_buf_reset(&enc);
      identity_payload_register(&p, kp.pk, digest, NULL, 0);
      const vcrypto_keypair_t *signer = signers > 1 ? &reg[b % signers] : &auth;
      uint64_t *sq = signers > 1 ? &reg_seq[b % signers] : &seq;
      ledger_tx_t tx = {.version = 1, .chain_id = ve_slice(chain, strlen(chain)), .seq = (*sq)++,
                        .expiry = height + 50000, .type = TX_TYPE_IDENTITY_REGISTER,
                        .payload = ve_buf_slice(&p)};
      ledger_tx_sign(&tx, signer);
      ledger_tx_encode(&tx, &enc);
      char *h = malloc(2 * enc.len + 1);
      ve_hex_encode(h, enc.ptr, enc.len);
      json_array_append_new(arr, json_string(h));
      free(h);
    }
    json_t *body = json_pack("{s:o}", "txs", arr);
    job.bodies[b] = json_dumps(body, JSON_COMPACT);
    job.lens[b] = strlen(job.bodies[b]);
    json_decref(body);
  }
  double sign_s = now_s() - ts0;

  double t0 = now_s(), node_cpu0 = proc_cpu_s(node_pid);
  pthread_t th[LOADGEN_CONNS_MAX];
  worker_arg_t wa[LOADGEN_CONNS_MAX];
  for (size_t i = 0; i < conns; i++) {
    wa[i] = (worker_arg_t){&job, i};
    pthread_create(&th[i], NULL, worker, &wa[i]);
  }
  for (size_t i = 0; i < conns; i++) pthread_join(th[i], NULL);
  double t_submitted = now_s();
  size_t accepted = atomic_load(&job.accepted);
  uint64_t committed = 0;
  double t1 = t_submitted;
  while (t1 - t0 < LOADGEN_WAIT_S_MAX) {
    json_t *s = get_json(job.host, job.port, "/v1/status");
    committed = (uint64_t)json_integer_value(json_object_get(s, "txs_committed_since_start")) - committed0;
    json_decref(s);
    t1 = now_s();
    if (committed >= accepted) break;
    usleep(5000);
  }
  double node_cpu1 = proc_cpu_s(node_pid);
  double node_cpu_us = node_cpu0 >= 0 && node_cpu1 >= 0 && committed
                           ? 1e6 * (node_cpu1 - node_cpu0) / (double)committed : -1;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  double tps = (double)committed / (t1 - t0);
  double ceiling = (double)cores * verify_rate;
  /* A registration costs a signature check and a subgroup check of the new key. */
  double ceiling_reg = (double)cores / (1.0 / verify_rate + 1.0 / subgroup_rate);
  json_t *out = json_pack(
      "{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:f, s:f, s:f}",
      "workload", "identity.register", "count", (json_int_t)count, "batch", (json_int_t)batch,
      "conns", (json_int_t)conns, "accepted", (json_int_t)accepted, "committed",
      (json_int_t)committed, "sign_seconds", sign_s, "submit_seconds", t_submitted - t0,
      "total_seconds", t1 - t0, "committed_tx_per_s", tps, "cores", (json_int_t)cores,
      "ed25519_verify_per_s_per_core", verify_rate, "ceiling_tx_per_s", ceiling,
      "achieved_over_ceiling", tps / ceiling, "subgroup_checks_per_s_per_core", subgroup_rate,
      "ceiling_registrations_per_s", ceiling_reg, "achieved_over_registration_ceiling",
      tps / ceiling_reg);
  if (node_cpu_us >= 0) json_object_set_new(out, "node_cpu_us_per_tx", json_real(node_cpu_us));
  json_object_set_new(out, "load_average_1min", json_real(load_1min()));
  json_object_set_new(out, "signers", json_integer((json_int_t)signers));
  char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  puts(s);
  free(s);
  json_decref(out);
  for (size_t b = 0; b < job.n_bodies; b++) free(job.bodies[b]);
  free(job.bodies);
  free(job.lens);
  ve_buf_free(&p);
  ve_buf_free(&enc);
  for (size_t w = 0; w < signers && signers > 1; w++) vcrypto_keypair_wipe(&reg[w]);
  return committed >= accepted && accepted == count ? 0 : 1;
}
