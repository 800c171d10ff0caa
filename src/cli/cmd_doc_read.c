/* cmd_doc_read.c — the reading side of `veche doc`: fetch (grant -> unwrap ->
 * blob -> decrypt -> content check), show, proof (saving bundles), and verify,
 * which needs no node: it trusts only a genesis file and checks proof bundles
 * (docs/proofs.md) against its validators, then compares FILE with the proven
 * record (docs/documents.md §8). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apps/identity/identity.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "cli/cmd_doc_int.h"
#include "node/config.h"
#include "proof/proof.h"

/* ---- fetch ---- */

static void write_file(const char *path, const uint8_t *p, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) cli_die("%s: %s", path, strerror(errno));
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, p + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) cli_die("%s: %s", path, strerror(errno));
    off += (size_t)w;
  }
  if (close(fd) != 0) cli_die("%s: %s", path, strerror(errno));
}

int doc_cmd_fetch(const doc_opts_t *o) {
  if (o->n_args != 1 || !o->out) cli_die("doc fetch needs DOC and --out FILE (see veche doc fetch --help)");
  uint8_t doc[32];
  cli_hex32("DOC", o->args[0], doc);
  doc_ctx_t c;
  doc_ctx_open(&c, o, false);
  static documents_record_t rec;
  doc_record_get(&c.node, doc, &rec);
  if (!rec.spec.has_blob) cli_die("document %s has no stored content (only its digest is registered)", o->args[0]);
  if (rec.key_erased) cli_die("document %s was erased at height %llu: its key and blob are gone", o->args[0],
                              (unsigned long long)rec.erased_height);
  uint8_t key[DOCUMENTS_KEY_BYTES];
  doc_grant_key(&c, doc, key);
  ve_buf_t blob, plain;
  doc_blob_download(&c.node, doc, rec.spec.blob_bytes, &blob);
  int rc = documents_blob_check(&rec, blob.ptr, blob.len);
  if (rc) cli_die("the node sent a blob that is not the one the record names: %s", ve_err_name(rc));
  ve_buf_init(&plain, DOCUMENTS_CONTENT_BYTES_MAX);
  rc = documents_blob_decrypt(&plain, blob.ptr, blob.len, key);
  vcrypto_wipe(key, sizeof key);
  ve_buf_free(&blob);
  if (rc) cli_die("cannot decrypt document %s: %s", o->args[0], ve_strerror(rc));
  rc = documents_content_check(&rec, plain.ptr, plain.len);
  if (rc) cli_die("decrypted content does not match the registered digest: refusing to write it");
  write_file(o->out, plain.ptr, plain.len);
  char hex[65];
  printf("{\n  \"document\": \"%s\",\n  \"bytes\": %zu,\n  \"out\": \"%s\",\n  \"status\": \"%s\",\n"
         "  \"content_check\": \"ok\"\n}\n",
         doc_hex(hex, doc, 32), plain.len, o->out, documents_status_name(rec.status));
  ve_buf_wipe_free(&plain);
  doc_ctx_close(&c);
  return 0;
}

/* ---- show and proof ---- */

static unsigned file_digest(const doc_opts_t *o, documents_digest_t *d) {
  unsigned alg = doc_alg_parse(o->alg);
  documents_digest_t all[DOCUMENTS_ALG_MAX + 1];
  doc_file_digests(o->file, 1u << alg, all);
  *d = all[alg];
  return alg;
}

int doc_cmd_show(const doc_opts_t *o) {
  if ((o->n_args == 1) == (o->file != NULL)) cli_die("doc show needs DOC or --file FILE (see veche doc show --help)");
  cli_node_t node;
  cli_node_parse(&node, o->node);
  char path[256], hex[2 * DOCUMENTS_DIGEST_BYTES_MAX + 1];
  if (o->file) {
    documents_digest_t d;
    unsigned alg = file_digest(o, &d);
    snprintf(path, sizeof path, "/v1/documents/by-digest/%s/%s", documents_alg_name(alg),
             doc_hex(hex, d.bytes, documents_alg_digest_bytes(alg)));
  } else {
    uint8_t doc[32];
    cli_hex32("DOC", o->args[0], doc);
    snprintf(path, sizeof path, "/v1/documents/%s", o->args[0]);
  }
  json_t *j = cli_get_json(&node, path, o->file ? "document with this file's digest" : "document");
  cli_print_json(j);
  json_decref(j);
  return 0;
}

static void height_query(const doc_opts_t *o, char *q, size_t n) {
  q[0] = 0;
  if (!o->height) return;
  char *end;
  unsigned long long h = strtoull(o->height, &end, 10);
  if (!*o->height || *end) cli_die("--height must be a decimal number");
  snprintf(q, n, "?height=%llu", h);
}

int doc_cmd_proof(const doc_opts_t *o) {
  if ((o->n_args == 1) == (o->file != NULL)) cli_die("doc proof needs DOC or --file FILE (see veche doc proof --help)");
  cli_node_t node;
  cli_node_parse(&node, o->node);
  char path[300], q[40], hex[2 * DOCUMENTS_DIGEST_BYTES_MAX + 1];
  height_query(o, q, sizeof q);
  json_t *out;
  if (!o->file) {
    uint8_t doc[32];
    cli_hex32("DOC", o->args[0], doc);
    snprintf(path, sizeof path, "/v1/proofs/documents/%s%s", o->args[0], q);
    out = cli_get_json(&node, path, "proof of the record");
  } else {
    documents_digest_t d;
    unsigned alg = file_digest(o, &d);
    snprintf(path, sizeof path, "/v1/proofs/documents/by-digest/%s/%s%s", documents_alg_name(alg),
             doc_hex(hex, d.bytes, documents_alg_digest_bytes(alg)), q);
    json_t *idx = cli_get_json(&node, path, "proof of the digest");
    out = json_array();
    json_array_append(out, idx);
    /* Registered: the record too, at the same height. */
    if (json_is_true(json_object_get(idx, "present"))) {
      const char *v = json_string_value(json_object_get(idx, "value"));
      uint8_t val[1 + 32], doc[32];
      if (!v || strlen(v) != 2 * sizeof val || ve_hex_decode(val, sizeof val, v) ||
          documents_index_decode(ve_slice(val, sizeof val), doc))
        cli_die("the node sent a malformed digest entry");
      snprintf(path, sizeof path, "/v1/proofs/documents/%s?height=%lld", doc_hex(hex, doc, 32),
               (long long)json_integer_value(json_object_get(idx, "height")));
      json_array_append_new(out, cli_get_json(&node, path, "proof of the record"));
    }
    json_decref(idx);
  }
  int rc = o->out ? json_dump_file(out, o->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : (cli_print_json(out), 0);
  json_decref(out);
  if (rc) cli_die("cannot write %s", o->out);
  if (o->out) printf("saved %s\n", o->out);
  return 0;
}

/* ---- verify (offline) ---- */

/* What the bundles established. */
typedef struct {
  bool have_record;
  documents_record_t rec;
  uint64_t rec_height, rec_time_ms;       /* state version of the record's bundle, its header time */
  proof_result_t rec_proof;
  bool indexed;                           /* a digest entry of FILE is present */
  uint8_t indexed_doc[32];
  uint64_t absent_algs;                   /* algorithms under which FILE is proven unregistered */
  uint64_t absent_height;
} verify_state_t;

static void time_str(char *out, size_t n, uint64_t ms) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "name" of the genesis authority with this identity id, or NULL. */
static const char *authority_name(const ledger_genesis_t *g, const uint8_t id[32]) {
  for (size_t i = 0; i < g->n_authorities; i++) {
    uint8_t a[32];
    identity_id_from_pk(a, g->authorities[i].pk);
    if (!memcmp(a, id, 32)) return g->authorities[i].name;
  }
  return NULL;
}

_Noreturn static void not_proven(const char *path, const char *why) {
  printf("NOT PROVEN: %s: %s\n", path, why);
  exit(1);
}

/* One bundle, verified against the genesis and sorted by its key. */
static void take_bundle(const json_t *j, const char *path, const ledger_genesis_t *g, const cons_valset_t *vs,
                        const documents_digest_t digests[DOCUMENTS_ALG_MAX + 1], verify_state_t *st) {
  proof_bundle_t b;
  proof_bundle_init(&b);
  char reason[PROOF_REASON_BYTES_MAX] = "";
  proof_result_t res;
  int rc = proof_bundle_from_json(j, &b, reason, sizeof reason);
  if (rc == VE_OK) rc = proof_bundle_verify(&b, g->chain_id, vs, &res, reason, sizeof reason);
  if (rc) not_proven(path, reason[0] ? reason : ve_strerror(rc));
  ledger_header_t h;
  if (ledger_header_decode(ve_buf_slice(&b.header), &h)) not_proven(path, "header does not decode");
  const uint8_t *k = b.key.ptr;
  size_t kl = b.key.len;
  if (kl == DOCUMENTS_STATE_KEY_BYTES && !memcmp(k, "doc/", 4)) {
    if (!b.present) not_proven(path, "the bundle proves that this document id is not registered");
    if (documents_decode(ve_buf_slice(&b.value), k + 4, &st->rec)) not_proven(path, "the record does not decode");
    st->have_record = true;
    st->rec_height = b.height;
    st->rec_time_ms = h.time_ms;
    st->rec_proof = res;
  } else if (kl > 6 && !memcmp(k, "docd/", 5) && k[5] >= 1 && k[5] <= DOCUMENTS_ALG_MAX) {
    uint8_t want[DOCUMENTS_INDEX_KEY_BYTES_MAX];
    size_t wl = documents_index_key(want, &digests[k[5]]);
    if (wl != kl || memcmp(want, k, kl)) not_proven(path, "the bundle is about another file's digest");
    if (b.present) {
      if (documents_index_decode(ve_buf_slice(&b.value), st->indexed_doc)) not_proven(path, "bad digest entry");
      st->indexed = true;
    } else {
      st->absent_algs |= 1u << k[5];
      st->absent_height = b.height;
    }
  } else {
    not_proven(path, "not a bundle about a document (key is neither doc/ nor docd/)");
  }
  proof_bundle_free(&b);
}

static void load_bundles(const doc_opts_t *o, const ledger_genesis_t *g, const cons_valset_t *vs,
                         const documents_digest_t digests[DOCUMENTS_ALG_MAX + 1], verify_state_t *st) {
  for (size_t i = 0; i < o->n_bundles; i++) {
    json_error_t je;
    json_t *j = json_load_file(o->bundles[i], JSON_REJECT_DUPLICATES, &je);
    if (!j) cli_die("%s:%d:%d: %s", o->bundles[i], je.line, je.column, je.text);
    if (json_is_array(j)) {
      if (json_array_size(j) == 0 || json_array_size(j) > DOC_BUNDLES_MAX) not_proven(o->bundles[i], "bad bundle list");
      for (size_t k = 0; k < json_array_size(j); k++) take_bundle(json_array_get(j, k), o->bundles[i], g, vs, digests, st);
    } else {
      take_bundle(j, o->bundles[i], g, vs, digests, st);
    }
    json_decref(j);
  }
}

static void print_record(const ledger_genesis_t *g, const verify_state_t *st, const documents_evidence_result_t *ev) {
  const documents_record_t *r = &st->rec;
  char hex[2 * DOCUMENTS_DIGEST_BYTES_MAX + 1], t[32];
  printf("  document %s, type %s\n", doc_hex(hex, r->id, 32), r->spec.type);
  printf("  subject  %s\n", doc_hex(hex, r->spec.subject, 32));
  const char *name = authority_name(g, r->issuer);
  printf("  issued by %s%s%s%s\n", doc_hex(hex, r->issuer, 32), name ? " (" : "", name ? name : "", name ? ")" : "");
  time_str(t, sizeof t, r->registered_time_ms);
  printf("  registered at height %llu, %s (%llu ms)\n", (unsigned long long)r->registered_height, t,
         (unsigned long long)r->registered_time_ms);
  if (r->has_prev) printf("  supersedes %s\n", doc_hex(hex, r->prev, 32));
  if (r->spec.has_validity)
    printf("  valid from %llu ms until %llu ms\n", (unsigned long long)r->spec.not_before_ms,
           (unsigned long long)r->spec.not_after_ms);
  time_str(t, sizeof t, st->rec_time_ms);
  printf("  status as of height %llu (%s): %s", (unsigned long long)st->rec_height, t, documents_status_name(r->status));
  if (r->status == DOCUMENTS_SUPERSEDED) printf(" by %s", doc_hex(hex, r->next, 32));
  if (r->status != DOCUMENTS_CURRENT) printf(" at height %llu", (unsigned long long)r->status_height);
  if (r->status == DOCUMENTS_REVOKED) printf(", reason: %.*s", (int)r->reason_len, (const char *)r->reason);
  printf("\n  verdict: %s\n", documents_verdict_name(documents_verdict(r, st->rec_time_ms)));
  if (r->key_erased) printf("  key erased at height %llu (content no longer stored)\n", (unsigned long long)r->erased_height);
  printf("  evidence: %zu layer(s); the file is bound by layer %zu under %s\n", ev->layers, ev->content_layer,
         documents_alg_name(ev->content_alg));
  printf("  proven by block %llu (hash %s), certified by %u validator signatures\n"
         "  holding more than 2/3 of the genesis validators' total power %llu\n",
         (unsigned long long)st->rec_height + 1, doc_hex(hex, st->rec_proof.block_hash, 32),
         st->rec_proof.signatures, (unsigned long long)st->rec_proof.total_power);
}

int doc_cmd_verify(const doc_opts_t *o) {
  if (o->n_args != 1 || !o->genesis || o->n_bundles == 0)
    cli_die("doc verify needs FILE, --genesis G and --bundle B (see veche doc verify --help)");
  const char *file = o->args[0];
  char err[512] = "";
  static ledger_genesis_t g;
  if (node_genesis_load(o->genesis, &g, err, sizeof err)) cli_die("%s", err);
  cons_valset_t vs;
  if (valset_from_genesis(&g, &vs)) cli_die("%s: bad validator set", o->genesis);
  documents_digest_t digests[DOCUMENTS_ALG_MAX + 1];
  memset(digests, 0, sizeof digests);
  doc_file_digests(file, 0x1e, digests); /* algorithms 1..4 */
  static verify_state_t st;
  load_bundles(o, &g, &vs, digests, &st);
  char hex[65];
  if (st.have_record) {
    if (st.indexed && memcmp(st.indexed_doc, st.rec.id, 32))
      not_proven(file, "the digest entry and the record bundle name different documents");
    const documents_digest_t *reg = &st.rec.spec.digest;
    if (memcmp(digests[reg->alg].bytes, reg->bytes, documents_alg_digest_bytes(reg->alg)))
      not_proven(file, "this file is not the document the record registers (its digest differs)");
    documents_evidence_result_t ev;
    char why[256] = "";
    int rc = documents_evidence_verify_digests(&st.rec, digests, NULL, &ev, why, sizeof why);
    if (rc) not_proven(file, why[0] ? why : ve_strerror(rc));
    documents_verdict_t v = documents_verdict(&st.rec, st.rec_time_ms);
    printf("%s: %s is registered on chain %s\n", v == DOCUMENTS_VERDICT_VALID ? "REGISTERED" : "REGISTERED, NOT VALID",
           file, g.chain_id);
    print_record(&g, &st, &ev);
    return v == DOCUMENTS_VERDICT_VALID ? 0 : 3;
  }
  if (st.indexed) {
    printf("REGISTERED: %s is document %s on chain %s; its status needs the record's bundle "
           "(veche doc proof %s)\n", file, doc_hex(hex, st.indexed_doc, 32), g.chain_id, hex);
    return 3;
  }
  if (st.absent_algs) {
    printf("NOT REGISTERED: no document on chain %s has this file's digest under", g.chain_id);
    for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++)
      if (st.absent_algs & (1u << a)) printf(" %s", documents_alg_name(a));
    printf(" (as of height %llu)\n", (unsigned long long)st.absent_height);
    return 3;
  }
  not_proven(file, "no bundle about this file");
}
