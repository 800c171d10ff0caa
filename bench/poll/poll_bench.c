/* poll_bench.c — a whole citizen poll through a running node, end to end:
 * register the voters, 3 trustees (threshold 2) run the key generation, every
 * voter casts a two-option ballot ("yes"/"no", exactly one), a share of them
 * vote again (replacing their first ballot), the poll closes, two trustees
 * decrypt, and `veche audit poll` re-verifies everything. Reports ballot
 * encryptions/s, ballots verified/s per core, the node's ballot intake, the
 * time from close to the published result, and the audit time.
 *
 * Not a ctest test: bench/poll/run.sh starts a fresh node and runs this.
 *   poll_bench --node HOST:PORT --authority KEYFILE --genesis FILE --veche PATH
 *              [--voters N] [--threads T] [--revote-percent P]
 * The driver is a client: it draws randomness from the OS and talks HTTP. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/http_client.h"
#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "apps/voting/voting.h"
#include "base/err.h"
#include "../common/bench_clock.h"

#define BATCH_TXS 3000          /* transactions per POST (hex bodies stay under 8 MiB) */
#define INFLIGHT_TXS 30000      /* submitted but not yet committed, at most */
#define THREADS_MAX 64
#define HTTP_MS 120000
#define EXPIRY_AHEAD 90000      /* blocks; below VE_TX_EXPIRY_WINDOW_BLOCKS */

static char g_host[64];
static uint16_t g_port;
static char g_chain[VE_CHAIN_ID_BYTES_MAX + 1];
static uint64_t g_expiry;

static _Noreturn void die(const char *what, const char *detail) {
  fprintf(stderr, "poll_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static json_t *get(const char *path) {
  int st = 0;
  json_t *j = NULL;
  if (http_request_json(g_host, g_port, "GET", path, NULL, HTTP_MS, &st, &j) || st != 200 || !j) die("GET failed", path);
  return j;
}

static uint64_t tip(void) {
  json_t *j = get("/v1/status");
  uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
  return h;
}

static void wait_height(uint64_t h) {
  while (tip() < h) sleep_ms(50);
}

/* ---- transactions ---- */

static void sign_tx(ve_buf_t *out, const vcrypto_keypair_t *kp, uint64_t seq, uint32_t type, ve_slice_t payload) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(g_chain, strlen(g_chain)), .seq = seq,
                    .expiry = g_expiry, .type = type, .payload = payload};
  ve_buf_reset(out);
  if (ledger_tx_sign(&tx, kp) || ledger_tx_encode(&tx, out)) die("cannot sign", NULL);
}

/* Posts txs[0..n) in batches; returns how many were accepted. */
static size_t post_all(ve_buf_t *txs, size_t n) {
  size_t accepted = 0;
  for (size_t b = 0; b < n; b += BATCH_TXS) {
    json_t *arr = json_array();
    for (size_t i = b; i < n && i < b + BATCH_TXS; i++) {
      char *hex = malloc(2 * txs[i].len + 1);
      ve_hex_encode(hex, txs[i].ptr, txs[i].len);
      json_array_append_new(arr, json_string(hex));
      free(hex);
    }
    json_t *body = json_pack("{s:o}", "txs", arr), *r = NULL;
    int st = 0;
    if (http_request_json(g_host, g_port, "POST", "/v1/txs", body, HTTP_MS, &st, &r) || st != 200 || !r)
      die("POST /v1/txs failed", NULL);
    size_t ok = (size_t)json_integer_value(json_object_get(r, "accepted"));
    if (ok != json_array_size(arr)) {
      json_t *first_bad = NULL, *it;
      size_t k;
      json_array_foreach(json_object_get(r, "results"), k, it) {
        if (!first_bad && strcmp(json_string_value(json_object_get(it, "status")), "accepted")) first_bad = it;
      }
      fprintf(stderr, "poll_bench: %zu of %zu refused, e.g. %s\n", json_array_size(arr) - ok, json_array_size(arr),
              first_bad ? json_string_value(json_object_get(first_bad, "error")) : "?");
    }
    accepted += ok;
    json_decref(body);
    json_decref(r);
  }
  return accepted;
}

static void post_one(ve_buf_t *tx) {
  if (post_all(tx, 1) != 1) die("a transaction was refused", NULL);
}

/* The signer's last used sequence (to wait for its transactions). */
static uint64_t last_seq(const uint8_t pk[32]) {
  char hex[65], path[128];
  ve_hex_encode(hex, pk, 32);
  snprintf(path, sizeof path, "/v1/signers/%s", hex);
  json_t *j = get(path);
  uint64_t s = (uint64_t)json_integer_value(json_object_get(j, "last_seq"));
  json_decref(j);
  return s;
}

static void wait_seq(const uint8_t pk[32], uint64_t seq) {
  while (last_seq(pk) < seq) sleep_ms(50);
}

static void seed_key(vcrypto_keypair_t *kp, uint32_t a, uint32_t b) {
  uint8_t seed[32] = {0};
  memcpy(seed, &a, 4);
  memcpy(seed + 4, &b, 4);
  seed[31] = 0x77;
  vcrypto_keypair_from_seed(kp, seed);
}

/* ---- the poll's records ---- */

static void poll_fetch(const uint8_t id[32], voting_poll_t *p, voting_tally_rec_t *t, bool *have_tally) {
  char hex[65], path[128];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/polls/%s", hex);
  json_t *j = get(path);
  const char *rh = json_string_value(json_object_get(j, "record"));
  const char *th = json_string_value(json_object_get(j, "tally_record"));
  size_t n = rh ? strlen(rh) / 2 : 0;
  uint8_t *b = malloc(n + 1);
  if (!rh || ve_hex_decode(b, n, rh) || voting_poll_decode(ve_slice(b, n), id, p)) die("bad poll record", NULL);
  free(b);
  *have_tally = false;
  if (t && th) {
    n = strlen(th) / 2;
    b = malloc(n + 1);
    if (ve_hex_decode(b, n, th) || voting_tally_decode(ve_slice(b, n), p->def.n_options, t)) die("bad tally", NULL);
    free(b);
    *have_tally = true;
  }
  json_decref(j);
}

/* ---- ballots on threads ---- */

typedef struct {
  const voting_poll_t *p;
  const vcrypto_keypair_t *voters;
  const uint8_t *choice;   /* per voter: 0 yes, 1 no */
  ve_buf_t *out;           /* per voter */
  size_t n, start, stride;
  uint64_t seq;
} gen_t;

static void *gen_run(void *arg) {
  gen_t *g = arg;
  ve_buf_t pl;
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  for (size_t i = g->start; i < g->n; i += g->stride) {
    uint8_t id[32], seed[32], ch[2] = {0, 0};
    identity_id_from_pk(id, g->voters[i].pk);
    vcrypto_random(seed, sizeof seed);
    ch[g->choice[i]] = 1;
    ve_buf_reset(&pl);
    if (voting_ballot_build(&pl, NULL, g->p, ve_slice(g_chain, strlen(g_chain)), id, ch, 2, seed))
      die("ballot build failed", NULL);
    ve_buf_init(&g->out[i], VE_TX_BYTES_MAX);
    sign_tx(&g->out[i], &g->voters[i], g->seq, TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl));
  }
  ve_buf_free(&pl);
  return NULL;
}

static double generate(const voting_poll_t *p, const vcrypto_keypair_t *voters, const uint8_t *choice, ve_buf_t *out,
                       size_t n, uint64_t seq, unsigned threads) {
  pthread_t th[THREADS_MAX];
  gen_t g[THREADS_MAX];
  double t0 = bench_now_s();
  for (unsigned k = 0; k < threads; k++) {
    g[k] = (gen_t){p, voters, choice, out, n, k, threads, seq};
    if (pthread_create(&th[k], NULL, gen_run, &g[k])) die("pthread_create", NULL);
  }
  for (unsigned k = 0; k < threads; k++) pthread_join(th[k], NULL);
  return bench_now_s() - t0;
}

/* Submits ballots, keeping at most INFLIGHT_TXS uncommitted; returns seconds
 * from the first post until the tally counts every one of them. */
static double submit_ballots(const uint8_t poll[32], ve_buf_t *txs, size_t n, uint64_t base_ballots) {
  voting_poll_t *p = malloc(sizeof *p);
  voting_tally_rec_t *t = malloc(sizeof *t);
  bool ht;
  double t0 = bench_now_s();
  size_t sent = 0;
  uint64_t counted = 0;
  while (counted < base_ballots + n) {
    if (sent < n && sent < counted - base_ballots + INFLIGHT_TXS) {
      size_t k = n - sent < BATCH_TXS ? n - sent : BATCH_TXS;
      if (post_all(txs + sent, k) != k) die("ballots were refused", NULL);
      sent += k;
      continue;
    }
    sleep_ms(100);
    poll_fetch(poll, p, t, &ht);
    counted = ht ? t->ballots : 0;
  }
  free(p);
  free(t);
  return bench_now_s() - t0;
}

/* Verification speed of one core on a sample of the generated ballots. */
static double verify_rate(const voting_poll_t *p, ve_buf_t *txs, size_t n) {
  vote_election_t *el = malloc(sizeof *el);
  if (voting_election_get(el, p, 0)) die("election", NULL);
  double t0 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    ledger_tx_t tx;
    voting_ballot_payload_t b;
    uint8_t ctx[VOTING_QCTX_BYTES];
    if (ledger_tx_decode(ve_buf_slice(&txs[i]), &tx) || voting_ballot_payload_decode(tx.payload, &b)) die("decode", NULL);
    voting_ballot_context(ctx, ve_slice(g_chain, strlen(g_chain)), p->id, b.voter, 0);
    if (vote_ballot_verify(el, ctx, sizeof ctx, b.ballot[0].ptr, b.ballot[0].len)) die("a ballot fails", NULL);
  }
  double dt = bench_now_s() - t0;
  free(el);
  return (double)n / dt;
}

/* ---- main ---- */

int main(int argc, char **argv) {
  static const struct option opts[] = {{"node", 1, 0, 'n'},    {"authority", 1, 0, 'a'}, {"genesis", 1, 0, 'g'},
                                       {"veche", 1, 0, 'v'},   {"voters", 1, 0, 'N'},    {"threads", 1, 0, 't'},
                                       {"revote-percent", 1, 0, 'r'}, {0, 0, 0, 0}};
  const char *node = NULL, *akey = NULL, *genesis = NULL, *veche = NULL;
  size_t nv = 200000;
  unsigned threads = 2, revote_pct = 5;
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (o == 'n') node = optarg;
    else if (o == 'a') akey = optarg;
    else if (o == 'g') genesis = optarg;
    else if (o == 'v') veche = optarg;
    else if (o == 'N') nv = strtoul(optarg, NULL, 10);
    else if (o == 't') threads = (unsigned)strtoul(optarg, NULL, 10);
    else if (o == 'r') revote_pct = (unsigned)strtoul(optarg, NULL, 10);
    else return 2;
  }
  if (!node || !akey || !genesis || !veche || nv < 10 || threads < 1 || threads > THREADS_MAX || revote_pct > 100) {
    fprintf(stderr, "usage: poll_bench --node HOST:PORT --authority KEYFILE --genesis FILE --veche PATH "
                    "[--voters N] [--threads T] [--revote-percent P]\n");
    return 2;
  }
  if (vcrypto_init() || vote_init()) die("init", NULL);
  const char *colon = strrchr(node, ':');
  snprintf(g_host, sizeof g_host, "%.*s", (int)(colon - node), node);
  g_port = (uint16_t)atoi(colon + 1);
  vcrypto_keypair_t auth;
  if (vcrypto_keyfile_read(akey, &auth)) die("cannot read", akey);
  json_t *st = get("/v1/status");
  snprintf(g_chain, sizeof g_chain, "%s", json_string_value(json_object_get(st, "chain_id")));
  json_decref(st);
  g_expiry = tip() + EXPIRY_AHEAD;
  uint64_t aseq = last_seq(auth.pk) + 1;
  double t_all = bench_now_s();

  /* 1. Identities: 3 trustees, nv voters (district "d1"). */
  size_t nrev = nv * revote_pct / 100;
  vcrypto_keypair_t *voters = malloc(nv * sizeof *voters), trustees[3];
  uint8_t *choice = malloc(nv), *choice2 = malloc(nrev ? nrev : 1);
  ve_buf_t *txs = calloc(nv + 3, sizeof *txs), pl;
  ve_buf_init(&pl, VE_TX_PAYLOAD_BYTES_MAX);
  double t0 = bench_now_s();
  for (uint32_t j = 0; j < 3; j++) seed_key(&trustees[j], 1, j);
  for (size_t i = 0; i < nv; i++) seed_key(&voters[i], 2, (uint32_t)i);
  for (size_t i = 0; i < nv + 3; i++) {
    identity_attr_t a;
    memset(&a, 0, sizeof a);
    strcpy(a.key, "district");
    strcpy(a.value, "d1");
    uint8_t digest[32] = {1};
    ve_buf_reset(&pl);
    const uint8_t *pk = i < 3 ? trustees[i].pk : voters[i - 3].pk;
    identity_payload_register(&pl, pk, digest, &a, 1);
    ve_buf_init(&txs[i], 0);
    sign_tx(&txs[i], &auth, aseq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&pl));
  }
  if (post_all(txs, nv + 3) != nv + 3) die("registrations refused", NULL);
  for (size_t i = 0; i < nv + 3; i++) ve_buf_free(&txs[i]);
  wait_seq(auth.pk, aseq - 1);
  printf("identities: %zu registered in %.1f s\n", nv + 3, bench_now_s() - t0);
  fflush(stdout);

  /* 2. Trustees: role, keys. */
  vote_keypair_t enc[3];
  uint8_t tid[3][32];
  for (uint32_t j = 0; j < 3; j++) {
    identity_id_from_pk(tid[j], trustees[j].pk);
    /* An admin action: a council proposal the founding authority (the
     * council's one member on a `veche testnet` chain) decides at once. */
    ve_buf_t role;
    ve_buf_init(&role, 0);
    identity_payload_set_roles(&role, tid[j], ROLE_TRUSTEE);
    ve_buf_reset(&pl);
    gov_payload_propose(&pl, GOV_OPEN_MS_MAX, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&role), ve_slice("", 0));
    ve_buf_free(&role);
    sign_tx(&txs[j], &auth, aseq++, TX_TYPE_GOV_PROPOSE, ve_buf_slice(&pl));
    post_one(&txs[j]);
  }
  wait_seq(auth.pk, aseq - 1);
  for (uint32_t j = 0; j < 3; j++) {
    uint8_t seed[32];
    vcrypto_random(seed, sizeof seed);
    vote_keypair_from_seed(&enc[j], seed);
    vcrypto_random(seed, sizeof seed);
    ve_buf_reset(&pl);
    voting_payload_trustee_key(&pl, ve_slice(g_chain, strlen(g_chain)), tid[j], &enc[j], seed);
    sign_tx(&txs[j], &trustees[j], 1, TX_TYPE_POLL_TRUSTEE_KEY, ve_buf_slice(&pl));
    post_one(&txs[j]);
  }
  for (uint32_t j = 0; j < 3; j++) wait_seq(trustees[j].pk, 1);

  /* 3. The poll. Its window (in blocks, about one a second when idle) must
   * hold ballot generation and intake: estimated from a calibration. */
  double gen_rate_est;
  {
    vote_keypair_t k;
    uint8_t seed[32] = {9}, ctx[32] = {0};
    vote_keypair_from_seed(&k, seed);
    vote_election_t *el = malloc(sizeof *el);
    vote_election_init(el, k.pk, 2, 1, 1);
    ve_buf_t b;
    ve_buf_init(&b, 0);
    uint8_t ch[2] = {1, 0};
    double c0 = bench_now_s();
    for (int i = 0; i < 50; i++) {
      ve_buf_reset(&b);
      vote_ballot_create(&b, el, ch, 2, ctx, sizeof ctx, seed);
    }
    gen_rate_est = 50 / (bench_now_s() - c0) * threads * 0.8;
    ve_buf_free(&b);
    free(el);
  }
  /* Blocks come steadily (run.sh sets a short empty-block interval, and a
   * busy node makes blocks no faster): measure the idle rate. */
  uint64_t hr0 = tip();
  double tr0 = bench_now_s();
  sleep_ms(2000);
  double rate = (double)(tip() - hr0) / (bench_now_s() - tr0);
  double secs = (double)(nv + nrev) / gen_rate_est + (double)(nv + nrev) / 1500.0 + 20;
  uint64_t window = (uint64_t)(1.3 * secs * rate) + 100;
  printf("blocks: %.0f/s when idle; voting window %llu blocks (~%.0f s)\n", rate, (unsigned long long)window,
         1.3 * secs);
  uint64_t h0 = tip();
  voting_def_t d;
  memset(&d, 0, sizeof d);
  strcpy(d.title, "Benchmark referendum");
  d.n_questions = 1;
  strcpy(d.q[0].text, "Do you approve the plan?");
  d.q[0].options = 2, d.q[0].min = 1, d.q[0].max = 1;
  strcpy(d.option[0], "yes");
  strcpy(d.option[1], "no");
  d.n_options = 2;
  uint64_t phase = (uint64_t)(3 * rate) + 5; /* ~3 s per key-generation phase */
  d.deal_end = h0 + phase, d.complaint_end = h0 + 2 * phase, d.open_height = h0 + 2 * phase + 2;
  d.close_height = d.open_height + window;
  d.threshold = 2, d.n_trustees = 3;
  for (uint32_t j = 0; j < 3; j++) memcpy(d.trustees[j], tid[j], 32);
  d.has_filter = true;
  strcpy(d.filter_key, "district");
  strcpy(d.filter_value, "d1");
  ve_buf_reset(&pl);
  if (voting_payload_create(&pl, &d)) die("bad definition", NULL);
  uint8_t poll[32];
  char pollh[65];
  voting_poll_id(poll, auth.pk, aseq);
  ve_hex_encode(pollh, poll, 32);
  sign_tx(&txs[0], &auth, aseq++, TX_TYPE_POLL_CREATE, ve_buf_slice(&pl));
  post_one(&txs[0]);
  wait_seq(auth.pk, aseq - 1);
  printf("poll %s: open %llu..%llu\n", pollh, (unsigned long long)d.open_height, (unsigned long long)d.close_height);

  /* 4. Key generation. */
  voting_poll_t *p = malloc(sizeof *p);
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  bool have_tally;
  poll_fetch(poll, p, NULL, &have_tally);
  double t_dkg = bench_now_s();
  uint8_t ctx[32];
  voting_poll_context(ctx, ve_slice(g_chain, strlen(g_chain)), poll);
  vote_dkg_params_t dp = {3, 2};
  for (uint32_t j = 1; j <= 3; j++) {
    uint8_t seed[32];
    vcrypto_random(seed, sizeof seed);
    ve_buf_t dl;
    ve_buf_init(&dl, 0);
    vote_dkg_deal(&dl, &dp, j, (const uint8_t(*)[32])p->enc_pk, ctx, 32, seed);
    ve_buf_reset(&pl);
    voting_payload_deal(&pl, poll, ve_buf_slice(&dl));
    ve_buf_free(&dl);
    sign_tx(&txs[j - 1], &trustees[j - 1], 2, TX_TYPE_POLL_DKG_DEAL, ve_buf_slice(&pl));
    post_one(&txs[j - 1]);
  }
  wait_height(d.complaint_end);
  ve_buf_reset(&pl);
  voting_payload_finish(&pl, poll);
  sign_tx(&txs[0], &auth, aseq++, TX_TYPE_POLL_DKG_FINISH, ve_buf_slice(&pl));
  post_one(&txs[0]);
  wait_seq(auth.pk, aseq - 1);
  poll_fetch(poll, p, NULL, &have_tally);
  if (p->status != VOTING_READY) die("the key generation failed", NULL);
  printf("key generation: done in %.1f s (mostly waiting for its phase heights)\n", bench_now_s() - t_dkg);
  fflush(stdout);

  /* 5. Ballots: generate (timed), then submit (timed). */
  for (size_t i = 0; i < nv; i++) choice[i] = (uint8_t)((i * 2654435761u >> 7) % 10 < 6 ? 0 : 1); /* ~60% yes */
  double t_gen = generate(p, voters, choice, txs, nv, 1, threads);
  printf("ballots: %zu encrypted and proven in %.1f s on %u threads: %.0f ballots/s (%.0f per thread)\n", nv, t_gen,
         threads, (double)nv / t_gen, (double)nv / t_gen / threads);
  size_t sample = nv < 2000 ? nv : 2000;
  double vrate = verify_rate(p, txs, sample);
  printf("verification: %.0f ballots/s on one core (%zu-ballot sample)\n", vrate, sample);
  fflush(stdout);
  wait_height(d.open_height - 1);
  double t_in = submit_ballots(poll, txs, nv, 0);
  printf("intake: %zu ballots accepted and counted by the node in %.1f s: %.0f ballots/s\n", nv, t_in,
         (double)nv / t_in);
  for (size_t i = 0; i < nv; i++) ve_buf_free(&txs[i]);
  if (nrev) {
    for (size_t i = 0; i < nrev; i++) choice2[i] = (uint8_t)(1 - choice[i]); /* changed their minds */
    double tg = generate(p, voters, choice2, txs, nrev, 2, threads);
    double ti = submit_ballots(poll, txs, nrev, nv);
    printf("re-votes: %zu voters voted again (the new ballot replaces the old): %.1f s to build, %.1f s to count\n",
           nrev, tg, ti);
    for (size_t i = 0; i < nrev; i++) ve_buf_free(&txs[i]), choice[i] = choice2[i];
  }
  poll_fetch(poll, p, tally, &have_tally);
  printf("tally: %llu voters, %llu ballots counted, height %llu of close %llu\n", (unsigned long long)tally->voters,
         (unsigned long long)tally->ballots, (unsigned long long)tip(), (unsigned long long)d.close_height);
  fflush(stdout);

  /* 6. Close. */
  double t_wait = bench_now_s();
  wait_height(d.close_height);
  printf("close: waited %.0f s for the close height\n", bench_now_s() - t_wait);

  /* 7. Decryption by trustees 1 and 3, until the result is on the ledger. */
  double t_dec = bench_now_s();
  ve_buf_t dl[3];
  ve_slice_t dsl[3];
  {
    char path[160];
    snprintf(path, sizeof path, "/v1/polls/%s/dkg", pollh);
    json_t *j = get(path), *it;
    size_t k;
    for (int i = 0; i < 3; i++) ve_buf_init(&dl[i], 0), dsl[i] = ve_slice(NULL, 0);
    json_array_foreach(json_object_get(j, "dealings"), k, it) {
      int i = (int)json_integer_value(json_object_get(it, "dealer")) - 1;
      const char *hx = json_string_value(json_object_get(it, "dealing"));
      ve_buf_reserve(&dl[i], strlen(hx) / 2);
      ve_hex_decode(dl[i].ptr, strlen(hx) / 2, hx);
      dl[i].len = strlen(hx) / 2;
      dsl[i] = ve_buf_slice(&dl[i]);
    }
    json_decref(j);
  }
  poll_fetch(poll, p, tally, &have_tally);
  vote_dkg_result_t res;
  memset(&res, 0, sizeof res);
  res.n = 3, res.t = 2, res.qualified = p->qualified;
  memcpy(res.pk, p->pk, 32);
  memcpy(res.vk, p->vk, sizeof p->vk);
  for (uint32_t j = 1; j <= 3; j += 2) {
    uint8_t x[32], seed[32];
    if (vote_dkg_secret_share(x, &res, j, &enc[j - 1], ctx, 32, dsl)) die("key share", NULL);
    vcrypto_random(seed, sizeof seed);
    ve_buf_reset(&pl);
    if (voting_decrypt_build(&pl, p, tally, ve_slice(g_chain, strlen(g_chain)), j, x, seed)) die("decrypt", NULL);
    sign_tx(&txs[0], &trustees[j - 1], 3, TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
    post_one(&txs[0]);
  }
  do {
    sleep_ms(20);
    poll_fetch(poll, p, NULL, &have_tally);
  } while (p->status != VOTING_DONE);
  double dt_dec = bench_now_s() - t_dec;
  uint64_t want_yes = 0;
  for (size_t i = 0; i < nv; i++) want_yes += choice[i] == 0;
  printf("result: yes %llu, no %llu (expected %llu / %llu) published %.2f s after the close "
         "(two trustees' shares built, verified by the ledger, combined, discrete logs)\n",
         (unsigned long long)p->counts[0], (unsigned long long)p->counts[1], (unsigned long long)want_yes,
         (unsigned long long)(nv - want_yes), dt_dec);
  if (p->counts[0] != want_yes || p->counts[1] != nv - want_yes) die("WRONG RESULT", NULL);
  fflush(stdout);

  /* 8. The public audit, with the real command. */
  wait_height(tip() + 2);
  char threads_s[16];
  snprintf(threads_s, sizeof threads_s, "%u", threads);
  double t_aud = bench_now_s();
  pid_t pid = fork();
  if (pid == 0) {
    execl(veche, veche, "audit", "poll", pollh, "--genesis", genesis, "--node", node, "--threads", threads_s,
          (char *)NULL);
    _exit(127);
  }
  int wst;
  waitpid(pid, &wst, 0);
  double dt_aud = bench_now_s() - t_aud;
  if (!WIFEXITED(wst) || WEXITSTATUS(wst)) die("THE AUDIT FAILED", NULL);
  printf("audit: %.1f s for the whole poll (%zu ballots) on %u threads\n", dt_aud, nv + nrev, threads);
  printf("total: %.0f s\n", bench_now_s() - t_all);
  for (int i = 0; i < 3; i++) ve_buf_free(&dl[i]);
  free(p);
  free(tally);
  free(voters);
  free(choice);
  free(choice2);
  free(txs);
  ve_buf_free(&pl);
  return 0;
}
