/* netload.c — a load generator for a network of veche nodes: pre-signed
 * workloads submitted open-loop over several nodes, with submit-to-commit
 * latency taken from the nodes' own commit events.
 *
 *   netload --key AUTHORITY_KEY --nodes H:P[,H:P...] [--watch H:P,...]
 *           [--count N] [--rate TX_PER_S | --max] [--batch N] [--conns N]
 *           [--signers N] [--docs-percent P] [--validators V] [--wait-s S]
 *           [--out FILE.json] [--svg FILE.svg] [--label TEXT] [--quiet] [--raw]
 *   netload --measure-only     (only step 1 below, as one JSON line)
 * The JSON result goes to --out, or to stdout without it; progress to stderr
 * (none with --quiet). Exit status 0 when every tx was seen committed.
 *
 * One run, in order:
 *   1. the limit: this machine's Ed25519 verifications per second on one core
 *      (the node's own transaction check, ledger_tx_verify_sig, on a real
 *      transaction; the best of 20 windows of 100 ms, see rate_measure) and,
 *      for reference, subgroup checks of new keys per second;
 *   2. setup (not timed): the founding authority registers `signers` identities
 *      per node and gives them REGISTRAR and NOTARY; each signer's transactions
 *      all go to one node and its sequence numbers are handed out in submission
 *      order, so no signer ever runs out of its 4,096-wide replay window
 *      (src/ledger/exec.c) however the nodes interleave their gossip;
 *   3. pre-signing (not timed, on every core): identity registrations of fresh
 *      keys and, with --docs-percent, document registrations (a content digest
 *      about a registered identity), serialised into JSON batch bodies;
 *      ballots need a poll with a finished key generation and are measured by
 *      bench/poll instead;
 *   4. the run: batch b (of --batch txs) goes to node b mod |nodes|; with
 *      --rate it is due at t0 + b*batch/rate and is sent then whatever happened
 *      to earlier batches (open loop; latency counts from the due time, so a
 *      late send is charged to the system), without --rate each connection
 *      sends its next batch when the last one is answered. Followers read
 *      GET /v1/commits on every node and note, for every tx, the node's own
 *      commit time;
 *   5. the report (netload_report.c): committed tx/s, latency p50/p95/p99 at
 *      the node that received each tx (and at every followed node), achieved
 *      over ceiling = cores x verifications/s / validators on this machine, a
 *      JSON result and an SVG chart of throughput and latency over time.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "api/http_client.h"
#include "apps/documents/documents.h"
#include "codec/codec.h"
#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "netload.h"

#define NL_SETUP_WAIT_MS 120000   /* signers registered and given roles, at most */
#define NL_EXPIRY_AHEAD 90000     /* blocks; below VE_TX_EXPIRY_WINDOW_BLOCKS */
#define NL_SIGN_THREADS_MAX 16
#define NL_MEASURE_MS 2000
#define NL_MEASURE_SAMPLES 20

static const char NL_USAGE[] =
    "usage: netload --key AUTHORITY_KEY --nodes H:P[,H:P...] [--watch H:P,...]\n"
    "               [--count N] [--rate TX_PER_S] [--batch N] [--conns N] [--signers N]\n"
    "               [--docs-percent P] [--validators V] [--wait-s S]\n"
    "               [--out FILE.json] [--svg FILE.svg] [--label TEXT] [--quiet] [--raw]\n"
    "       netload --measure-only      (the machine's limit as JSON, nothing else)\n";

/* ---- small helpers ---- */

double nl_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void nl_sleep_ms(double ms) {
  if (ms <= 0) return;
  struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6)};
  nanosleep(&ts, NULL);
}

void nl_log(const nl_run_t *r, const char *fmt, ...) {
  if (r->o->quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("netload: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static _Noreturn void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("netload: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) die("out of memory");
  return p;
}

static json_t *get_json(const nl_addr_t *a, const char *path, int *status) {
  json_t *j = NULL;
  int st = 0;
  if (http_request_json(a->host, a->port, "GET", path, NULL, NL_HTTP_MS, &st, &j) != 0)
    die("GET http://%s:%u%s failed", a->host, a->port, path);
  if (status) *status = st;
  else if (st != 200) die("GET http://%s:%u%s: HTTP %d", a->host, a->port, path, st);
  return j;
}

/* ---- options ---- */

static int addr_parse(const char *s, size_t len, nl_addr_t *out) {
  const char *colon = memchr(s, ':', len);
  if (!colon || colon == s || (size_t)(colon - s) >= sizeof out->host) return -1;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (end != s + len || port < 1 || port > 65535) return -1;
  snprintf(out->host, sizeof out->host, "%.*s", (int)(colon - s), s);
  out->port = (uint16_t)port;
  return 0;
}

/* "h:p,h:p" into out[0..max). Returns the count, or 0 on a bad list. */
static size_t addr_list_parse(const char *list, nl_addr_t *out, size_t max) {
  size_t n = 0;
  for (const char *p = list; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (n == max || addr_parse(p, len, &out[n]) != 0) return 0;
    n++;
    p += len + (comma != NULL);
  }
  return n;
}

static size_t size_arg(const char *s, size_t lo, size_t hi, const char *name) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '-' || *end || v < lo || v > hi) die("%s must be %zu..%zu", name, lo, hi);
  return (size_t)v;
}

static void opts_parse(int argc, char **argv, nl_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->count = 100000;
  o->conns = 2;
  /* A signer's sequence numbers stay usable 4,096 below its highest committed
   * one. With a batch of 2,000 split over 32 signers, a batch that waits in a
   * busy server while 65 later batches of the same node commit is still in
   * its window (with 8 signers a batch overtaken by 16 failed: stale_sequence). */
  o->signers = 32;
  o->wait_s = 120;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--quiet")) { o->quiet = 1; continue; }
    if (!strcmp(a, "--raw")) { o->raw = 1; continue; }
    if (!strcmp(a, "--measure-only")) { o->measure_only = 1; continue; }
    if (!strcmp(a, "--max")) { o->rate = 0; continue; }
    if (!v) die("%s needs a value\n%s", a, NL_USAGE);
    i++;
    if (!strcmp(a, "--key")) o->key_path = v;
    else if (!strcmp(a, "--nodes")) { if (!(o->n_nodes = addr_list_parse(v, o->nodes, NL_NODES_MAX))) die("bad --nodes"); }
    else if (!strcmp(a, "--watch")) { if (!(o->n_watch = addr_list_parse(v, o->watch, NL_WATCH_MAX))) die("bad --watch"); }
    else if (!strcmp(a, "--count")) o->count = size_arg(v, 1, NL_TXS_MAX, a);
    else if (!strcmp(a, "--batch")) o->batch = size_arg(v, 1, NL_BATCH_TXS_MAX, a);
    else if (!strcmp(a, "--conns")) o->conns = size_arg(v, 1, NL_CONNS_MAX, a);
    else if (!strcmp(a, "--signers")) o->signers = size_arg(v, 1, NL_SIGNERS_MAX, a);
    else if (!strcmp(a, "--docs-percent")) o->docs_percent = (unsigned)size_arg(v, 0, 100, a);
    else if (!strcmp(a, "--validators")) o->validators = size_arg(v, 1, VE_VALIDATORS_MAX, a);
    else if (!strcmp(a, "--rate")) o->rate = (double)size_arg(v, 1, 10000000, a);
    else if (!strcmp(a, "--wait-s")) o->wait_s = (double)size_arg(v, 1, 36000, a);
    else if (!strcmp(a, "--out")) o->out_path = v;
    else if (!strcmp(a, "--svg")) o->svg_path = v;
    else if (!strcmp(a, "--label")) o->label = v;
    else die("unknown option %s\n%s", a, NL_USAGE);
  }
  if (o->measure_only) return;
  if (!o->key_path || !o->n_nodes) die("--key and --nodes are required\n%s", NL_USAGE);
  if (!o->validators) o->validators = o->n_nodes;
  /* Open loop: a batch of about 20 ms of load, so a batch's shared send time
   * costs little latency; as fast as accepted: big batches, cheap per tx. */
  if (!o->batch) {
    double b = o->rate > 0 ? o->rate / 50 : 2000;
    o->batch = b < 1 ? 1 : b > 2000 ? 2000 : (size_t)b;
  }
}

/* ---- the machine's limit ---- */

/* Operations per second of op on this thread: the best of NL_MEASURE_SAMPLES
 * windows of ms / NL_MEASURE_SAMPLES each. On a machine shared with other
 * work a window in which this thread had the core to itself shows what one
 * core can do; an average would charge the others' load to the core. */
static double rate_measure(int (*op)(const void *), const void *arg, double ms) {
  double best = 0;
  for (int k = 0; k < NL_MEASURE_SAMPLES; k++) {
    size_t n = 0;
    double t0 = nl_now_ms(), t;
    do {
      for (int i = 0; i < 16; i++) n += op(arg) == 0;
      t = nl_now_ms();
    } while (t - t0 < ms / NL_MEASURE_SAMPLES);
    double rate = (double)n * 1000.0 / (t - t0);
    if (rate > best) best = rate;
  }
  return best;
}

static int op_verify(const void *arg) { return ledger_tx_verify_sig(arg); }
/* libsodium's check itself: vcrypto_pk_valid remembers keys it has passed. */
static int op_pk_valid(const void *arg) { return crypto_core_ed25519_is_valid_point(arg) == 1 ? 0 : -1; }

/* A real registration transaction, verified the way the node verifies it. */
static void limit_measure(nl_run_t *r) {
  vcrypto_keypair_t kp, sub;
  uint8_t seed[32] = {1}, digest[32] = {0};
  vcrypto_keypair_from_seed(&kp, seed);
  seed[0] = 2;
  vcrypto_keypair_from_seed(&sub, seed);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  identity_payload_register(&p, sub.pk, digest, NULL, 0);
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice("netload", 7), .seq = 1,
                    .expiry = 1000, .type = TX_TYPE_IDENTITY_REGISTER, .payload = ve_buf_slice(&p)};
  ledger_tx_sign(&tx, &kp);
  r->cores = sysconf(_SC_NPROCESSORS_ONLN);
  r->verify_per_s = rate_measure(op_verify, &tx, NL_MEASURE_MS);
  r->pk_valid_per_s = rate_measure(op_pk_valid, sub.pk, NL_MEASURE_MS / 2);
  ve_buf_free(&p);
  vcrypto_keypair_wipe(&kp);
  vcrypto_keypair_wipe(&sub);
}

/* ---- setup: signers registered and given roles ---- */

typedef struct {
  vcrypto_keypair_t *kp;         /* [n] */
  uint8_t (*id)[LEDGER_HASH_BYTES]; /* [n] identity ids */
  size_t n;
} nl_signers_t;

static void tx_hex_append(ve_buf_t *body, const ledger_tx_t *tx, ve_buf_t *enc, uint8_t id[32]) {
  ve_buf_reset(enc);
  if (ledger_tx_encode(tx, enc) != 0) die("cannot encode a transaction");
  if (id) ledger_tx_id(id, ve_buf_slice(enc));
  if (ve_buf_reserve(body, 2 * enc->len + 4) != 0) die("a batch is over the node's body limit: lower --batch");
  body->ptr[body->len++] = '"';
  ve_hex_encode((char *)body->ptr + body->len, enc->ptr, enc->len);
  body->len += 2 * enc->len;
  body->ptr[body->len++] = '"';
}

/* Posts one authority-signed tx per signer (payload from make) to node 0 and
 * waits until every one is committed on every node. */
static void setup_round(nl_run_t *r, const vcrypto_keypair_t *auth, uint64_t *seq, uint64_t expiry,
                        nl_signers_t *s, uint32_t type,
                        void (*make)(ve_buf_t *, const nl_signers_t *, size_t)) {
  ve_buf_t body, enc, p;
  ve_buf_init(&body, 0);
  ve_buf_init(&enc, 0);
  ve_buf_init(&p, 0);
  uint8_t (*ids)[32] = xcalloc(s->n, 32);
  ve_buf_append(&body, "{\"txs\":[", 8);
  for (size_t i = 0; i < s->n; i++) {
    ve_buf_reset(&p);
    make(&p, s, i);
    ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(r->chain, strlen(r->chain)),
                      .seq = (*seq)++, .expiry = expiry, .type = type, .payload = ve_buf_slice(&p)};
    ledger_tx_sign(&tx, auth);
    if (i) ve_buf_append(&body, ",", 1);
    tx_hex_append(&body, &tx, &enc, ids[i]);
  }
  ve_buf_append(&body, "]}", 2);
  http_response_t resp;
  const nl_addr_t *a = &r->o->nodes[0];
  if (http_request(a->host, a->port, "POST", "/v1/txs", "application/json", body.ptr, body.len, NL_HTTP_MS,
                   &resp) != 0 || resp.status != 200 || !strstr((char *)resp.body.ptr, "\"rejected\":0"))
    die("setup batch refused: HTTP %d %.300s", resp.status, resp.body.ptr ? (char *)resp.body.ptr : "");
  http_response_free(&resp);
  /* Committed everywhere: every later tx is checked against each node's state. */
  double deadline = nl_now_ms() + NL_SETUP_WAIT_MS;
  for (size_t k = 0; k < r->o->n_nodes; k++) {
    for (size_t i = 0; i < s->n; i++) {
      char path[128], hex[65];
      ve_hex_encode(hex, ids[i], 32);
      snprintf(path, sizeof path, "/v1/txs/%s", hex);
      for (;;) {
        int st;
        json_t *j = get_json(&r->o->nodes[k], path, &st);
        const char *status = json_string_value(json_object_get(j, "status"));
        int done = status && !strcmp(status, "committed");
        if (status && (!strcmp(status, "failed") || !strcmp(status, "rejected")))
          die("setup tx %s %s: %s", hex, status, json_string_value(json_object_get(j, "error")));
        json_decref(j);
        if (done) break;
        if (nl_now_ms() > deadline) die("setup: tx %s not committed on node %zu in time", hex, k);
        nl_sleep_ms(20);
      }
    }
  }
  free(ids);
  ve_buf_free(&body);
  ve_buf_free(&enc);
  ve_buf_free(&p);
}

static void make_register(ve_buf_t *p, const nl_signers_t *s, size_t i) {
  uint8_t digest[32] = {0};
  identity_payload_register(p, s->kp[i].pk, digest, NULL, 0);
}

/* Roles are an admin action: from protocol 2 a council proposal, which the
 * founding authority of a `veche testnet` chain (the council's one member)
 * decides in the proposing transaction. */
static void make_roles(ve_buf_t *p, const nl_signers_t *s, size_t i) {
  ve_buf_t inner;
  ve_buf_init(&inner, 0);
  identity_payload_set_roles(&inner, s->id[i], ROLE_REGISTRAR | ROLE_NOTARY);
  gov_payload_propose(p, GOV_OPEN_MS_MAX, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&inner), ve_slice("", 0));
  ve_buf_free(&inner);
}

static void setup_signers(nl_run_t *r, uint32_t run_id, uint64_t height, nl_signers_t *s) {
  vcrypto_keypair_t auth;
  if (vcrypto_keyfile_read(r->o->key_path, &auth) != 0) die("cannot read %s", r->o->key_path);
  char hex[65], path[128];
  ve_hex_encode(hex, auth.pk, 32);
  snprintf(path, sizeof path, "/v1/signers/%s", hex);
  json_t *j = get_json(&r->o->nodes[0], path, NULL);
  uint64_t seq = (uint64_t)json_integer_value(json_object_get(j, "next_seq"));
  json_decref(j);
  s->n = r->o->signers * r->o->n_nodes;
  s->kp = xcalloc(s->n, sizeof *s->kp);
  s->id = xcalloc(s->n, sizeof *s->id);
  for (size_t i = 0; i < s->n; i++) {
    uint8_t msg[12], seed[32];
    memcpy(msg, &run_id, 4);
    uint64_t i64 = i;
    memcpy(msg + 4, &i64, 8);
    vcrypto_hash(seed, "netload/signer", msg, sizeof msg);
    vcrypto_keypair_from_seed(&s->kp[i], seed);
    vcrypto_wipe(seed, sizeof seed);
    identity_id_from_pk(s->id[i], s->kp[i].pk);
  }
  uint64_t expiry = height + NL_EXPIRY_AHEAD;
  setup_round(r, &auth, &seq, expiry, s, TX_TYPE_IDENTITY_REGISTER, make_register);
  setup_round(r, &auth, &seq, expiry, s, TX_TYPE_GOV_PROPOSE, make_roles);
  vcrypto_keypair_wipe(&auth);
}

/* ---- pre-signing ---- */

typedef struct {
  nl_run_t *r;
  const nl_signers_t *s;
  const uint16_t *signer_of; /* [n_txs] */
  const uint32_t *seq_of;    /* [n_txs] */
  uint32_t run_id;
  uint64_t expiry;
  _Atomic size_t next;
} nl_sign_job_t;

static void tx_payload(const nl_sign_job_t *j, size_t i, ve_buf_t *p, uint32_t *type) {
  uint8_t msg[13];
  memcpy(msg, &j->run_id, 4);
  uint64_t i64 = i;
  memcpy(msg + 4, &i64, 8);
  if (j->r->kind[i] == NL_KIND_IDENTITY) {
    uint8_t seed[32], attr[32] = {0};
    msg[12] = 'i';
    vcrypto_hash(seed, "netload/citizen", msg, sizeof msg);
    vcrypto_keypair_t kp;
    vcrypto_keypair_from_seed(&kp, seed);
    identity_payload_register(p, kp.pk, attr, NULL, 0);
    vcrypto_keypair_wipe(&kp);
    *type = TX_TYPE_IDENTITY_REGISTER;
    return;
  }
  documents_spec_t spec;
  memset(&spec, 0, sizeof spec);
  snprintf(spec.type, sizeof spec.type, "bench");
  memcpy(spec.subject, j->s->id[j->signer_of[i]], 32);
  msg[12] = 'd';
  if (documents_digest_file_bytes(&spec.digest, DOCUMENTS_ALG_BLAKE2B_256, msg, sizeof msg) != 0 ||
      documents_payload_register(p, &spec) != 0)
    die("cannot build a document registration");
  *type = TX_TYPE_DOCUMENT_REGISTER;
}

static void *sign_main(void *arg) {
  nl_sign_job_t *j = arg;
  nl_run_t *r = j->r;
  ve_buf_t body, enc, p;
  ve_buf_init(&enc, 0);
  ve_buf_init(&p, 0);
  for (;;) {
    size_t b = atomic_fetch_add(&j->next, 1);
    if (b >= r->n_batches) break;
    size_t lo = b * r->o->batch, hi = lo + r->o->batch < r->n_txs ? lo + r->o->batch : r->n_txs;
    ve_buf_init(&body, NL_BODY_BYTES_MAX);
    codec_writer_t w;
    codec_writer_init(&w, &body);
    if (r->o->raw) codec_put_uvarint(&w, hi - lo); /* docs/api.md, POST /v1/txs/raw */
    else ve_buf_append(&body, "{\"txs\":[", 8);
    for (size_t i = lo; i < hi; i++) {
      uint32_t type;
      ve_buf_reset(&p);
      tx_payload(j, i, &p, &type);
      ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(r->chain, strlen(r->chain)),
                        .seq = j->seq_of[i], .expiry = j->expiry, .type = type, .payload = ve_buf_slice(&p)};
      ledger_tx_sign(&tx, &j->s->kp[j->signer_of[i]]);
      if (r->o->raw) {
        ve_buf_reset(&enc);
        if (ledger_tx_encode(&tx, &enc) != 0) die("cannot encode a transaction");
        ledger_tx_id(r->ids[i].id, ve_buf_slice(&enc));
        codec_put_bytes(&w, enc.ptr, enc.len, VE_TX_BYTES_MAX);
        continue;
      }
      if (i > lo && ve_buf_append(&body, ",", 1) != 0) die("a batch is over the node's body limit: lower --batch");
      tx_hex_append(&body, &tx, &enc, r->ids[i].id);
    }
    if (codec_writer_finish(&w) != 0 || (!r->o->raw && ve_buf_append(&body, "]}", 3) != 0))
      die("a batch is over the node's body limit: lower --batch");
    r->bodies[b] = (char *)body.ptr; /* owned by r; NUL-terminated unless raw */
    r->body_lens[b] = r->o->raw ? body.len : body.len - 1;
  }
  ve_buf_free(&enc);
  ve_buf_free(&p);
  return NULL;
}

static void index_build(nl_run_t *r) {
  size_t cap = 1;
  while (cap < 2 * r->n_txs) cap <<= 1;
  r->index = xcalloc(cap, sizeof *r->index);
  r->index_mask = cap - 1;
  for (size_t i = 0; i < r->n_txs; i++) {
    uint64_t h;
    memcpy(&h, r->ids[i].id, 8);
    size_t k = h & r->index_mask;
    while (r->index[k]) k = (k + 1) & r->index_mask;
    r->index[k] = (uint32_t)(i + 1);
  }
}

size_t nl_index_find(const nl_run_t *r, const uint8_t id[LEDGER_HASH_BYTES]) {
  uint64_t h;
  memcpy(&h, id, 8);
  for (size_t k = h & r->index_mask; r->index[k]; k = (k + 1) & r->index_mask)
    if (!memcmp(r->ids[r->index[k] - 1].id, id, LEDGER_HASH_BYTES)) return r->index[k] - 1;
  return SIZE_MAX;
}

/* Kinds, signers and sequence numbers in submission order, then the signing
 * itself on every core. */
static void presign(nl_run_t *r, const nl_signers_t *s, uint32_t run_id, uint64_t height) {
  const nl_opts_t *o = r->o;
  r->n_txs = o->count;
  r->n_batches = (o->count + o->batch - 1) / o->batch;
  r->ids = xcalloc(r->n_txs, sizeof *r->ids);
  r->kind = xcalloc(r->n_txs, 1);
  r->bodies = xcalloc(r->n_batches, sizeof *r->bodies);
  r->body_lens = xcalloc(r->n_batches, sizeof *r->body_lens);
  uint16_t *signer_of = xcalloc(r->n_txs, sizeof *signer_of);
  uint32_t *seq_of = xcalloc(r->n_txs, sizeof *seq_of);
  uint32_t *next_seq = xcalloc(s->n, sizeof *next_seq);
  for (size_t i = 0; i < r->n_txs; i++) {
    size_t b = i / o->batch, node = b % o->n_nodes;
    signer_of[i] = (uint16_t)(node * o->signers + (i % o->batch) % o->signers);
    seq_of[i] = ++next_seq[signer_of[i]];
    /* Spread documents evenly: tx i is a document when the running share falls behind. */
    r->kind[i] = (i + 1) * o->docs_percent / 100 > i * o->docs_percent / 100 ? NL_KIND_DOCUMENT : NL_KIND_IDENTITY;
  }
  nl_sign_job_t job = {.r = r, .s = s, .signer_of = signer_of, .seq_of = seq_of, .run_id = run_id,
                       .expiry = height + NL_EXPIRY_AHEAD};
  double t0 = nl_now_ms();
  size_t nt = r->cores < 1 ? 1 : r->cores > NL_SIGN_THREADS_MAX ? NL_SIGN_THREADS_MAX : (size_t)r->cores;
  pthread_t th[NL_SIGN_THREADS_MAX];
  for (size_t t = 0; t < nt; t++) pthread_create(&th[t], NULL, sign_main, &job);
  for (size_t t = 0; t < nt; t++) pthread_join(th[t], NULL);
  r->sign_s = (nl_now_ms() - t0) / 1000;
  index_build(r);
  free(signer_of);
  free(seq_of);
  free(next_seq);
}

/* ---- the run ---- */

static double cpu_self_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void follow_prepare(nl_run_t *r) {
  const nl_opts_t *o = r->o;
  r->n_follow = o->n_nodes + o->n_watch;
  for (size_t f = 0; f < r->n_follow; f++) {
    r->follow[f] = f < o->n_nodes ? o->nodes[f] : o->watch[f - o->n_nodes];
    json_t *st = get_json(&r->follow[f], "/v1/status", NULL);
    r->follow_from[f] = (uint64_t)json_integer_value(json_object_get(st, "height")) + 1;
    json_decref(st);
    r->commit_ms[f] = xcalloc(r->n_txs, sizeof *r->commit_ms[f]);
  }
}

/* Every accepted tx seen by every follower, or the wait is over. */
static void run_wait_commits(nl_run_t *r, double deadline_ms) {
  for (;;) {
    size_t acc = atomic_load(&r->accepted), done = 0;
    for (size_t f = 0; f < r->n_follow; f++) done += atomic_load(&r->seen[f]) >= acc;
    if (done == r->n_follow || nl_now_ms() > deadline_ms) break;
    nl_sleep_ms(20);
  }
}

static void run(nl_run_t *r) {
  const nl_opts_t *o = r->o;
  r->sched_ms = xcalloc(r->n_batches, sizeof *r->sched_ms);
  r->sent_ms = xcalloc(r->n_batches, sizeof *r->sent_ms);
  r->acked_ms = xcalloc(r->n_batches, sizeof *r->acked_ms);
  r->state = xcalloc(r->n_txs, 1);
  follow_prepare(r);
  size_t n_sub = o->n_nodes * o->conns;
  pthread_t *th = xcalloc(n_sub + r->n_follow, sizeof *th);
  nl_worker_t *w = xcalloc(n_sub + r->n_follow, sizeof *w);
  for (size_t f = 0; f < r->n_follow; f++) {
    w[n_sub + f] = (nl_worker_t){.r = r, .node = f};
    pthread_create(&th[n_sub + f], NULL, nl_follower_main, &w[n_sub + f]);
  }
  r->t0_ms = nl_now_ms() + 50;
  r->client_cpu_s = cpu_self_s();
  nl_log(r, "submitting %zu txs in %zu batches to %zu nodes (%zu conns each), %s", r->n_txs, r->n_batches,
         o->n_nodes, o->conns, o->rate > 0 ? "open loop at a fixed rate" : "as fast as accepted");
  for (size_t i = 0; i < n_sub; i++) {
    w[i] = (nl_worker_t){.r = r, .node = i % o->n_nodes, .conn = i / o->n_nodes};
    pthread_create(&th[i], NULL, nl_submitter_main, &w[i]);
  }
  for (size_t i = 0; i < n_sub; i++) {
    pthread_join(th[i], NULL);
    if (w[i].lag_ms > r->max_lag_ms) r->max_lag_ms = w[i].lag_ms;
  }
  atomic_store(&r->submit_done, 1);
  nl_log(r, "submitted: %zu accepted, %zu rejected; waiting for commits", atomic_load(&r->accepted),
         atomic_load(&r->rejected));
  run_wait_commits(r, nl_now_ms() + o->wait_s * 1000);
  atomic_store(&r->stop_follow, 1);
  for (size_t f = 0; f < r->n_follow; f++) pthread_join(th[n_sub + f], NULL);
  r->client_cpu_s = cpu_self_s() - r->client_cpu_s;
  free(th);
  free(w);
}

static void run_free(nl_run_t *r) {
  for (size_t b = 0; b < r->n_batches; b++) free(r->bodies[b]);
  free(r->bodies);
  free(r->body_lens);
  free(r->ids);
  free(r->kind);
  free(r->index);
  free(r->sched_ms);
  free(r->sent_ms);
  free(r->acked_ms);
  free(r->state);
  for (size_t f = 0; f < r->n_follow; f++) free(r->commit_ms[f]);
}

int main(int argc, char **argv) {
  nl_opts_t o;
  opts_parse(argc, argv, &o);
  if (vcrypto_init() != 0) die("libsodium did not initialise");
  static nl_run_t r; /* large; zeroed */
  r.o = &o;
  limit_measure(&r);
  if (o.measure_only) {
    printf("{\"cores\": %ld, \"ed25519_tx_verify_per_s_per_core\": %.1f, \"key_subgroup_checks_per_s_per_core\": %.1f}\n",
           r.cores, r.verify_per_s, r.pk_valid_per_s);
    return 0;
  }
  nl_log(&r, "limit: %.0f Ed25519 tx verifications/s on one core, %ld cores, %zu validators here",
         r.verify_per_s, r.cores, o.validators);
  json_t *st = get_json(&o.nodes[0], "/v1/status", NULL);
  snprintf(r.chain, sizeof r.chain, "%s", json_string_value(json_object_get(st, "chain_id")));
  uint64_t height = (uint64_t)json_integer_value(json_object_get(st, "height"));
  json_decref(st);
  uint32_t run_id = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
  nl_signers_t s;
  setup_signers(&r, run_id, height, &s);
  nl_log(&r, "setup: %zu signers registered with REGISTRAR and NOTARY", s.n);
  presign(&r, &s, run_id, height);
  nl_log(&r, "pre-signed %zu txs in %.1f s", r.n_txs, r.sign_s);
  for (size_t i = 0; i < s.n; i++) vcrypto_keypair_wipe(&s.kp[i]);
  free(s.kp);
  free(s.id);
  run(&r);
  int rc = nl_report(&r);
  run_free(&r);
  return rc;
}
