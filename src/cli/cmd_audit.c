/* cmd_audit.c — `veche audit`: the public audit of a poll, against any node
 * (an observer will do) or an exported chain file, trusting only a genesis.
 *
 * What is checked (docs/voting.md, "Audit"):
 *   1. the poll and tally records at some height H are proven by bundles whose
 *      headers carry commit certificates of the genesis validators;
 *   2. every block from the poll's creation to H+1 carries a certificate of the
 *      genesis validators, names their set, links to the previous block, and its
 *      transaction results hash to the results root in the next header; block
 *      H+1 is the very header the bundles are proven under;
 *   3. the poll's transactions in those blocks, with their certified results,
 *      replayed by the audit engine (voting.h): every dealing, complaint,
 *      ballot proof and decryption share re-verified, the DKG outcome, the
 *      encrypted tally with replacement and the decrypted counts recomputed and
 *      compared with the certified records.
 * Ballot proofs are verified on --threads threads.
 *
 * Export file (binary): "VECHEXP1" | uvarint n | n bytes of JSON (the node's
 * /v1/polls/ID/proof answer) | records, each uvarint length | block record as
 * served by GET /v1/audit/blocks (docs/voting.md). */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/http_client.h"
#include "base/err.h"
#include "cli/cmd_poll_int.h"
#include "codec/codec.h"

#define EXPORT_MAGIC "VECHEXP1"
#define EXPORT_PROOF_JSON_BYTES_MAX ((size_t)1024 * 1024)
#define RECORD_BYTES_MAX ((size_t)VE_BLOCK_BYTES_MAX + CONS_CERT_BYTES_MAX + \
                          (size_t)VE_BLOCK_TXS_MAX * CODEC_UVARINT_BYTES_MAX + 64)
#define FETCH_BLOCKS 200           /* records asked per request */
#define AUDIT_THREADS_MAX 64
#define AUDIT_HTTP_TIMEOUT_MS 120000
#define TAG_TX_RESULT "veche/tx/result" /* docs/encoding.md: result leaves */

static const char AUDIT_USAGE[] =
    "usage: veche audit poll ID --genesis FILE [--node HOST:PORT | --chain FILE] [--threads N]\n"
    "       veche audit export --poll ID --out FILE [--node HOST:PORT]\n"
    "\n"
    "poll: audits a poll, trusting nothing but the genesis file. From a node (any\n"
    "node, an observer will do) or a file written by `audit export`, it takes the\n"
    "poll's certified records and every block from the poll's creation on; checks\n"
    "each block's commit certificate against the genesis validators, the chain of\n"
    "block hashes and the certified transaction results; then replays the poll:\n"
    "re-verifies every dealing, complaint, ballot proof and decryption share,\n"
    "recomputes the election key, the encrypted tally (a voter's latest ballot\n"
    "replacing earlier ones) and the result, and compares them with what the\n"
    "chain certifies. Prints a report and exits 0, or prints the first mismatch\n"
    "and exits 1. --threads: ballot verification threads (default: all CPUs).\n"
    "\n"
    "export: saves what `audit poll --chain` needs into FILE.\n";

/* ---- sources: a node or an export file ---- */

typedef struct {
  FILE *f;                 /* export file, or NULL for a node */
  cli_node_t node;
  ve_buf_t body;           /* last response from the node */
  size_t body_pos;
  ve_buf_t partial;        /* a record arriving in pieces */
  uint64_t want_h;         /* next height to return */
} src_t;

static const char *js(const json_t *j, const char *k) {
  const char *s = json_string_value(json_object_get(j, k));
  return s ? s : "";
}

static int file_uvarint(FILE *f, uint64_t *v) {
  uint8_t b[CODEC_UVARINT_BYTES_MAX];
  size_t n = 0;
  int c;
  do {
    if (n == sizeof b || (c = fgetc(f)) == EOF) return VE_ERR_MALFORMED;
    b[n++] = (uint8_t)c;
  } while (c & 0x80);
  codec_reader_t r;
  codec_reader_init(&r, ve_slice(b, n));
  *v = codec_get_uvarint(&r);
  return codec_reader_finish(&r);
}

/* The proof JSON: from the file header, or from GET /v1/polls/ID/proof. */
static json_t *src_proof(src_t *s, const char *chain_path, const char *node, const char *poll) {
  memset(s, 0, sizeof *s);
  ve_buf_init(&s->body, 0);
  ve_buf_init(&s->partial, RECORD_BYTES_MAX);
  if (chain_path) {
    if (!(s->f = fopen(chain_path, "rb"))) cli_die("%s: cannot open", chain_path);
    char magic[8];
    uint64_t n;
    if (fread(magic, 1, 8, s->f) != 8 || memcmp(magic, EXPORT_MAGIC, 8) || file_uvarint(s->f, &n) ||
        n > EXPORT_PROOF_JSON_BYTES_MAX)
      cli_die("%s: not an audit export", chain_path);
    char *text = malloc(n + 1);
    if (!text || fread(text, 1, n, s->f) != n) cli_die("%s: truncated", chain_path);
    json_error_t je;
    json_t *j = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!j) cli_die("%s: bad header: %s", chain_path, je.text);
    return j;
  }
  cli_node_parse(&s->node, node);
  char path[160];
  snprintf(path, sizeof path, "/v1/polls/%s/proof", poll);
  json_t *j = NULL;
  int st = cli_http_json(&s->node, "GET", path, NULL, &j);
  if (st != 200 || !j) cli_die("poll %s: %d %s", poll, st, j ? js(j, "message") : "no answer");
  return j;
}

/* Next block record from a node: frames of GET /v1/audit/blocks (see docs). */
static int node_record(src_t *s, uint64_t h, uint64_t last, ve_buf_t *rec) {
  for (;;) {
    if (s->body_pos < s->body.len) {
      codec_reader_t r;
      codec_reader_init(&r, ve_slice(s->body.ptr + s->body_pos, s->body.len - s->body_pos));
      uint64_t fh = codec_get_uvarint(&r), total = codec_get_uvarint_max(&r, RECORD_BYTES_MAX);
      uint64_t off = codec_get_uvarint_max(&r, RECORD_BYTES_MAX);
      ve_slice_t piece = codec_get_bytes(&r, RECORD_BYTES_MAX);
      if (r.err || fh != h || off != s->partial.len || off + piece.len > total)
        cli_die("the node sent a bad block frame for height %llu", (unsigned long long)h);
      s->body_pos += r.pos;
      if (ve_buf_append(&s->partial, piece.ptr, piece.len)) cli_die("block record too big");
      if (s->partial.len == total) {
        ve_buf_t t = *rec;
        *rec = s->partial;
        s->partial = t;
        ve_buf_reset(&s->partial);
        return VE_OK;
      }
      continue;
    }
    char path[160];
    uint64_t count = last - h + 1 < FETCH_BLOCKS ? last - h + 1 : FETCH_BLOCKS;
    snprintf(path, sizeof path, "/v1/audit/blocks/%llu?count=%llu&offset=%zu", (unsigned long long)h,
             (unsigned long long)count, s->partial.len);
    http_response_t resp;
    int rc = http_request(s->node.host, s->node.port, "GET", path, NULL, NULL, 0, AUDIT_HTTP_TIMEOUT_MS, &resp);
    if (rc) cli_die("cannot reach node: %s", ve_strerror(rc));
    if (resp.status != 200) cli_die("node: block %llu: HTTP %d", (unsigned long long)h, resp.status);
    ve_buf_free(&s->body);
    s->body = resp.body;
    s->body_pos = 0;
    if (!s->body.len) cli_die("node sent no block for height %llu", (unsigned long long)h);
  }
}

static int src_record(src_t *s, uint64_t h, uint64_t last, ve_buf_t *rec) {
  if (!s->f) return node_record(s, h, last, rec);
  uint64_t n;
  if (file_uvarint(s->f, &n) || n > RECORD_BYTES_MAX) cli_die("export file: bad record before height %llu",
                                                              (unsigned long long)h);
  ve_buf_reset(rec);
  if (ve_buf_reserve(rec, n) || fread(rec->ptr, 1, n, s->f) != n) cli_die("export file: truncated");
  rec->len = n;
  return VE_OK;
}

static void src_close(src_t *s) {
  if (s->f) fclose(s->f);
  ve_buf_free(&s->body);
  ve_buf_free(&s->partial);
}

/* ---- block records ---- */

typedef struct {
  uint64_t h;
  ve_buf_t bytes;          /* the record */
  ve_slice_t block, cert;
  ledger_block_t b;
  bool decoded;
  uint8_t hash[32];
  int32_t *codes;
} rec_t;

static void rec_free(rec_t *r) {
  if (r->decoded) ledger_block_free(&r->b);
  r->decoded = false;
  free(r->codes);
  r->codes = NULL;
}

static int rec_parse(rec_t *r, char *why, size_t wl) {
  codec_reader_t c;
  codec_reader_init(&c, ve_buf_slice(&r->bytes));
  if (codec_get_u8(&c) != 1) codec_fail(&c, VE_ERR_VERSION);
  uint64_t h = codec_get_uvarint(&c);
  r->block = codec_get_bytes(&c, VE_BLOCK_BYTES_MAX);
  r->cert = codec_get_bytes(&c, CONS_CERT_BYTES_MAX);
  size_t n = codec_get_count(&c, VE_BLOCK_TXS_MAX, 1);
  if (!c.err && !(r->codes = calloc(n ? n : 1, sizeof *r->codes))) return VE_ERR_NOMEM;
  for (size_t i = 0; i < n && !c.err; i++) r->codes[i] = -(int32_t)codec_get_uvarint_max(&c, (uint64_t)-VE_ERR_MIN);
  int rc = codec_reader_finish(&c);
  if (rc || h != r->h) {
    snprintf(why, wl, "block record %llu does not decode", (unsigned long long)r->h);
    return rc ? rc : VE_ERR_HEIGHT;
  }
  rc = ledger_block_decode(r->block, &r->b);
  if (rc) {
    snprintf(why, wl, "block %llu does not decode (or its transactions do not match its tx root): %s",
             (unsigned long long)h, ve_strerror(rc));
    return rc;
  }
  r->decoded = true;
  if (r->b.tx_count != n) {
    snprintf(why, wl, "block %llu: %zu results for %zu transactions", (unsigned long long)h, n, r->b.tx_count);
    return VE_ERR_MALFORMED;
  }
  return ledger_header_hash(&r->b.header, r->hash);
}

/* The block's header and certificate against the trusted set; links to prev. */
static int rec_check(const rec_t *r, const rec_t *prev, const ledger_genesis_t *g, const cons_valset_t *vs,
                     const uint8_t vs_hash[32], char *why, size_t wl) {
  const ledger_header_t *hd = &r->b.header;
  unsigned long long h = (unsigned long long)r->h;
  if (hd->height != r->h || !ve_slice_eq(hd->chain_id, ve_slice(g->chain_id, strlen(g->chain_id)))) {
    snprintf(why, wl, "block %llu: wrong height or chain in its header", h);
    return VE_ERR_WRONG_CHAIN;
  }
  if (memcmp(hd->valset_hash, vs_hash, 32)) {
    snprintf(why, wl, "block %llu names a validator set other than the genesis one", h);
    return VE_ERR_HASH_MISMATCH;
  }
  int rc = cons_cert_verify(vs, g->chain_id, r->h, r->hash, r->cert);
  if (rc) {
    snprintf(why, wl, "block %llu: its commit certificate does not verify: %s", h, ve_strerror(rc));
    return rc;
  }
  if (prev && memcmp(hd->prev_hash, prev->hash, 32)) {
    snprintf(why, wl, "block %llu does not link to block %llu", h, h - 1);
    return VE_ERR_HASH_MISMATCH;
  }
  if (prev) {
    /* prev's results against the root certified in this header. */
    uint8_t(*leaves)[32] = malloc((prev->b.tx_count ? prev->b.tx_count : 1) * 32);
    if (!leaves) return VE_ERR_NOMEM;
    for (size_t i = 0; i < prev->b.tx_count; i++) {
      uint8_t m[36];
      memcpy(m, prev->b.ids[i], 32); /* hashed by ledger_block_decode */
      uint32_t c = (uint32_t)-prev->codes[i];
      m[32] = (uint8_t)(c >> 24), m[33] = (uint8_t)(c >> 16), m[34] = (uint8_t)(c >> 8), m[35] = (uint8_t)c;
      vcrypto_hash(leaves[i], TAG_TX_RESULT, m, sizeof m);
    }
    uint8_t root[32];
    ledger_merkle_root((const uint8_t(*)[32])leaves, prev->b.tx_count, root);
    free(leaves);
    if (memcmp(root, hd->results_root, 32)) {
      snprintf(why, wl, "block %llu: transaction results differ from those certified in block %llu", h - 1, h);
      return VE_ERR_HASH_MISMATCH;
    }
  }
  return VE_OK;
}

/* ---- feeding a block to the engine, ballot proofs on threads ---- */

typedef struct {
  const voting_audit_t *a;
  const ledger_tx_t *txs;
  const size_t *idx;
  size_t n;
  int *pre;
  size_t stride, start;
} job_t;

static void *job_run(void *arg) {
  job_t *j = arg;
  for (size_t k = j->start; k < j->n; k += j->stride) {
    int rc = voting_audit_ballot_check(j->a, &j->txs[j->idx[k]]);
    j->pre[k] = rc == VE_ERR_STATE ? 1 : rc;
  }
  return NULL;
}

typedef struct {
  uint64_t blocks, txs, ballots_checked;
  double verify_s;
} stats_t;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int feed_block(voting_audit_t *a, const rec_t *r, unsigned threads, stats_t *st, char *why, size_t wl) {
  size_t n = r->b.tx_count;
  ledger_tx_t *txs = calloc(n ? n : 1, sizeof *txs);
  size_t *idx = calloc(n ? n : 1, sizeof *idx), nb = 0;
  int *pre = calloc(n ? n : 1, sizeof *pre), *map = calloc(n ? n : 1, sizeof *map);
  if (!txs || !idx || !pre || !map) return VE_ERR_NOMEM;
  int rc = VE_OK;
  for (size_t i = 0; rc == VE_OK && i < n; i++) {
    rc = ledger_tx_decode(r->b.txs[i], &txs[i]);
    map[i] = -1;
    if (rc == VE_OK && r->codes[i] == 0 && txs[i].type == TX_TYPE_POLL_BALLOT && voting_audit_wants(a, &txs[i]))
      map[i] = (int)nb, idx[nb++] = i;
  }
  if (rc) snprintf(why, wl, "block %llu: a transaction does not decode", (unsigned long long)r->h);
  if (rc == VE_OK && nb) {
    double t0 = now_s();
    pthread_t th[AUDIT_THREADS_MAX];
    bool started[AUDIT_THREADS_MAX] = {false};
    job_t jobs[AUDIT_THREADS_MAX];
    unsigned k = threads < nb ? threads : (unsigned)nb;
    for (unsigned i = 0; i < k; i++) jobs[i] = (job_t){a, txs, idx, nb, pre, k, i};
    for (unsigned i = 1; i < k; i++) started[i] = pthread_create(&th[i], NULL, job_run, &jobs[i]) == 0;
    job_run(&jobs[0]);
    for (unsigned i = 1; i < k; i++) {
      if (started[i]) pthread_join(th[i], NULL);
      else job_run(&jobs[i]); /* no thread: do its share here */
    }
    st->verify_s += now_s() - t0;
    st->ballots_checked += nb;
  }
  for (size_t i = 0; rc == VE_OK && i < n; i++) {
    rc = voting_audit_tx(a, r->h, &txs[i], r->codes[i], map[i] >= 0 ? pre[map[i]] : 1, why, wl);
  }
  st->txs += n;
  free(txs);
  free(idx);
  free(pre);
  free(map);
  return rc;
}

/* ---- audit poll ---- */

static void print_report(const voting_poll_t *p, const voting_audit_report_t *rep, const stats_t *st,
                         uint64_t from, uint64_t to, double total_s) {
  char id[65];
  ve_hex_encode(id, p->id, 32);
  printf("AUDIT OK: poll %s \"%s\"\n", id, p->def.title);
  printf("  status %s; blocks %llu..%llu (%llu) certified by the genesis validators, linked, results match\n",
         voting_status_name(p->status), (unsigned long long)from, (unsigned long long)to,
         (unsigned long long)st->blocks);
  printf("  poll transactions: %llu (%llu rejected by the ledger and not counted)\n",
         (unsigned long long)rep->txs_seen, (unsigned long long)rep->txs_failed);
  printf("  key generation: %llu dealings, %llu complaints (%llu upheld), %s\n", (unsigned long long)rep->dealings,
         (unsigned long long)rep->complaints, (unsigned long long)rep->complaints_upheld,
         p->has_key ? "election key recomputed and equal" : "no election key");
  printf("  ballots: %llu re-verified (%llu replaced by a later ballot), %llu voters counted\n",
         (unsigned long long)rep->ballots, (unsigned long long)rep->replaced, (unsigned long long)rep->voters);
  if (p->has_key) printf("  encrypted tally recomputed and equal to the certified one\n");
  if (rep->result_checked) {
    printf("  result: %llu decryption shares verified; counts recomputed and equal:\n",
           (unsigned long long)rep->shares);
    for (uint32_t q = 0; q < p->def.n_questions; q++) {
      printf("    %u. %s\n", q + 1, p->def.q[q].text);
      for (uint32_t o = 0; o < p->def.q[q].options; o++)
        printf("       %-40s %llu\n", p->def.option[p->def.q[q].first + o],
               (unsigned long long)rep->counts[p->def.q[q].first + o]);
    }
  } else {
    printf("  result: none yet (%llu decryption shares verified)\n", (unsigned long long)rep->shares);
  }
  printf("  time: %.2f s in all; %llu ballot proofs in %.2f s (%.0f ballots/s)\n", total_s,
         (unsigned long long)st->ballots_checked, st->verify_s,
         st->verify_s > 0 ? (double)st->ballots_checked / st->verify_s : 0.0);
}

/* The proven records of the proof JSON (dies with the reason if not proven). */
static uint64_t proven_records(const json_t *proof, const ledger_genesis_t *g, const cons_valset_t *vs,
                               const uint8_t id[32], voting_poll_t *p, voting_tally_rec_t *t, bool *have_tally,
                               uint8_t header_hash[32]) {
  proof_bundle_t b[2];
  const char *names[2] = {"poll", "tally"};
  char reason[PROOF_REASON_BYTES_MAX] = "";
  uint8_t k1[VOTING_POLL_KEY_BYTES], k2[VOTING_TALLY_KEY_BYTES];
  ve_slice_t keys[2] = {ve_slice(k1, voting_poll_key(k1, id)), ve_slice(k2, voting_tally_key(k2, id))};
  proof_result_t res[2];
  for (int i = 0; i < 2; i++) {
    proof_bundle_init(&b[i]);
    int rc = proof_bundle_from_json(json_object_get(proof, names[i]), &b[i], reason, sizeof reason);
    if (rc == VE_OK) rc = proof_bundle_verify(&b[i], g->chain_id, vs, &res[i], reason, sizeof reason);
    if (rc == VE_OK && !ve_slice_eq(ve_buf_slice(&b[i].key), keys[i]))
      rc = VE_ERR_PROOF, snprintf(reason, sizeof reason, "it is about another state key");
    if (rc) cli_die("audit failed: the %s record is not proven: %s", names[i], reason);
  }
  if (b[0].height != b[1].height) cli_die("audit failed: the poll and tally records are proven at different heights");
  if (!b[0].present) cli_die("audit failed: no such poll at height %llu", (unsigned long long)b[0].height);
  if (voting_poll_decode(ve_buf_slice(&b[0].value), id, p)) cli_die("audit failed: the poll record does not decode");
  *have_tally = b[1].present;
  if (b[1].present && voting_tally_decode(ve_buf_slice(&b[1].value), p->def.n_options, t))
    cli_die("audit failed: the tally record does not decode");
  memcpy(header_hash, res[0].block_hash, 32);
  uint64_t h = b[0].height;
  proof_bundle_free(&b[0]);
  proof_bundle_free(&b[1]);
  return h;
}

static int audit_poll(int argc, char **argv) {
  static const struct option opts[] = {{"genesis", 1, 0, 'g'}, {"node", 1, 0, 'n'},  {"chain", 1, 0, 'c'},
                                       {"threads", 1, 0, 't'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *genesis = NULL, *node = NULL, *chain = NULL, *poll = NULL;
  long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
  if (argc >= 2 && argv[1][0] != '-') poll = argv[1], optind = 2;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'g') genesis = optarg;
    else if (o == 'n') node = optarg;
    else if (o == 'c') chain = optarg;
    else if (o == 't') nthreads = (long)pc_height_arg("--threads", optarg, 0);
    else if (o == 'h') cli_help(AUDIT_USAGE);
    else cli_usage(AUDIT_USAGE);
  }
  if (optind != argc || !poll || !genesis || (node && chain)) cli_usage(AUDIT_USAGE);
  if (nthreads < 1) nthreads = 1;
  if (nthreads > AUDIT_THREADS_MAX) nthreads = AUDIT_THREADS_MAX;
  double t0 = now_s();
  uint8_t id[32];
  cli_hex32("poll id", poll, id);
  static ledger_genesis_t g;
  cons_valset_t vs;
  pc_genesis_load(genesis, &g, &vs);
  uint8_t vs_hash[32], bundle_hash[32];
  cons_valset_hash(vs_hash, &vs);
  src_t src;
  json_t *proof = src_proof(&src, chain, node, poll);
  voting_poll_t *p = malloc(sizeof *p);
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  if (!p || !tally) cli_die("out of memory");
  bool have_tally;
  uint64_t hs = proven_records(proof, &g, &vs, id, p, tally, &have_tally, bundle_hash);
  json_decref(proof);
  voting_audit_t *a;
  char why[VOTING_AUDIT_REASON_BYTES] = "";
  int rc = voting_audit_new(&a, ve_slice(g.chain_id, strlen(g.chain_id)), p, have_tally ? tally : NULL, why,
                            sizeof why);
  if (rc) cli_die("audit failed: %s", why);
  uint64_t from = p->created_height, to = hs + 1;
  rec_t cur, prev;
  memset(&cur, 0, sizeof cur);
  memset(&prev, 0, sizeof prev);
  ve_buf_init(&cur.bytes, RECORD_BYTES_MAX);
  ve_buf_init(&prev.bytes, RECORD_BYTES_MAX);
  stats_t st = {0};
  bool have_prev = false;
  for (uint64_t h = from; rc == VE_OK && h <= to; h++) {
    cur.h = h;
    src_record(&src, h, to, &cur.bytes);
    rc = rec_parse(&cur, why, sizeof why);
    if (rc == VE_OK) rc = rec_check(&cur, have_prev ? &prev : NULL, &g, &vs, vs_hash, why, sizeof why);
    /* prev's results are now certified: replay it. */
    if (rc == VE_OK && have_prev) rc = feed_block(a, &prev, (unsigned)nthreads, &st, why, sizeof why);
    rec_free(&prev);
    rec_t t = prev;
    prev = cur;
    cur = t;
    have_prev = true;
    st.blocks++;
  }
  if (rc == VE_OK && memcmp(prev.hash, bundle_hash, 32)) {
    snprintf(why, sizeof why, "block %llu is not the block the records are proven under", (unsigned long long)to);
    rc = VE_ERR_HASH_MISMATCH;
  }
  voting_audit_report_t rep;
  if (rc == VE_OK) rc = voting_audit_finish(a, &rep, why, sizeof why);
  rec_free(&prev);
  rec_free(&cur);
  ve_buf_free(&cur.bytes);
  ve_buf_free(&prev.bytes);
  src_close(&src);
  voting_audit_free(a);
  if (rc) {
    fprintf(stderr, "veche: audit failed: %s\n", why[0] ? why : ve_strerror(rc));
    printf("AUDIT FAILED: %s\n", why[0] ? why : ve_strerror(rc));
    free(p);
    free(tally);
    return 1;
  }
  print_report(p, &rep, &st, from, to, now_s() - t0);
  free(p);
  free(tally);
  return 0;
}

/* ---- export ---- */

static void put_uvarint(FILE *f, uint64_t v) {
  uint8_t b[CODEC_UVARINT_BYTES_MAX];
  ve_buf_t buf = {b, 0, sizeof b, sizeof b};
  codec_writer_t w;
  codec_writer_init(&w, &buf);
  codec_put_uvarint(&w, v);
  if (codec_writer_finish(&w) || fwrite(b, 1, buf.len, f) != buf.len) cli_die("cannot write the export");
}

static int audit_export(int argc, char **argv) {
  static const struct option opts[] = {{"poll", 1, 0, 'P'}, {"out", 1, 0, 'o'}, {"node", 1, 0, 'n'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  const char *poll = NULL, *out = NULL, *node = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'P') poll = optarg;
    else if (o == 'o') out = optarg;
    else if (o == 'n') node = optarg;
    else if (o == 'h') cli_help(AUDIT_USAGE);
    else cli_usage(AUDIT_USAGE);
  }
  if (optind != argc || !poll || !out) cli_usage(AUDIT_USAGE);
  uint8_t id[32];
  cli_hex32("--poll", poll, id);
  src_t src;
  json_t *proof = src_proof(&src, NULL, node, poll);
  /* Heights from the (not yet verified) records: the audit verifies them. */
  proof_bundle_t b;
  proof_bundle_init(&b);
  char reason[PROOF_REASON_BYTES_MAX];
  voting_poll_t *p = malloc(sizeof *p);
  if (!p || proof_bundle_from_json(json_object_get(proof, "poll"), &b, reason, sizeof reason) || !b.present ||
      voting_poll_decode(ve_buf_slice(&b.value), id, p))
    cli_die("the node's poll record does not decode");
  uint64_t from = p->created_height, to = b.height + 1;
  char *text = json_dumps(proof, JSON_COMPACT);
  FILE *f = fopen(out, "wb");
  if (!f || !text) cli_die("%s: cannot create", out);
  fwrite(EXPORT_MAGIC, 1, 8, f);
  put_uvarint(f, strlen(text));
  fwrite(text, 1, strlen(text), f);
  ve_buf_t rec;
  ve_buf_init(&rec, RECORD_BYTES_MAX);
  for (uint64_t h = from; h <= to; h++) {
    src_record(&src, h, to, &rec);
    put_uvarint(f, rec.len);
    if (fwrite(rec.ptr, 1, rec.len, f) != rec.len) cli_die("%s: cannot write", out);
  }
  if (fclose(f)) cli_die("%s: cannot write", out);
  printf("{\"poll\": \"%s\", \"blocks\": [%llu, %llu], \"out\": \"%s\"}\n", poll, (unsigned long long)from,
         (unsigned long long)to, out);
  free(text);
  ve_buf_free(&rec);
  proof_bundle_free(&b);
  json_decref(proof);
  src_close(&src);
  free(p);
  return 0;
}

int cmd_audit(int argc, char **argv) {
  if (argc < 2) cli_usage(AUDIT_USAGE);
  const char *sub = argv[1];
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) cli_help(AUDIT_USAGE);
  if (vote_init()) cli_die("cannot initialise the voting library");
  argc--, argv++;
  optind = 1;
  if (!strcmp(sub, "poll")) return audit_poll(argc, argv);
  if (!strcmp(sub, "export")) return audit_export(argc, argv);
  fprintf(stderr, "veche: audit: unknown command \"%s\"\n", sub);
  fputs(AUDIT_USAGE, stderr);
  return 2;
}
