/* cmd_doc_util.c — helpers of `veche doc`: the node context of a signer,
 * submitting and waiting for transactions, reading records and grants, hashing
 * and reading files, and moving blobs in parts (see cmd_doc_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/http_client.h"
#include "base/err.h"
#include "cli/cmd_doc_int.h"
#include "node/node_docs.h"

#define DOC_READ_CHUNK_BYTES (64 * 1024)
#define DOC_TX_EXPIRY_BLOCKS 1000

const char *doc_hex(char *out, const uint8_t *p, size_t n) {
  ve_hex_encode(out, p, n);
  return out;
}

/* A 64-hex string field of j into out; dies if absent or malformed. */
static void json_hex32(const json_t *j, const char *field, uint8_t out[32]) {
  const char *s = json_string_value(json_object_get(j, field));
  if (!s || ve_hex_decode(out, 32, s)) cli_die("node answered without a valid \"%s\"", field);
}

void doc_ctx_open(doc_ctx_t *c, const doc_opts_t *o, bool signing) {
  memset(c, 0, sizeof *c);
  cli_load_key(o->key, &c->kp);
  cli_node_parse(&c->node, o->node);
  char pk[65], path[128];
  doc_hex(pk, c->kp.pk, 32);
  json_t *j = cli_get_json(&c->node, "/v1/status", "node status");
  snprintf(c->chain, sizeof c->chain, "%s", json_string_value(json_object_get(j, "chain_id")));
  c->height = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
  j = NULL;
  snprintf(path, sizeof path, signing ? "/v1/signers/%s" : "/v1/keys/%s", pk);
  int st = cli_http_json(&c->node, "GET", path, NULL, &j);
  if (st != 200) {
    const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
    cli_die("key %s %s: %s", pk, signing ? "cannot sign" : "belongs to no identity", m ? m : "unknown");
  }
  json_hex32(j, signing ? "identity" : "id", c->me);
  if (signing) c->seq = (uint64_t)json_integer_value(json_object_get(j, "next_seq"));
  json_decref(j);
}

void doc_ctx_close(doc_ctx_t *c) { vcrypto_keypair_wipe(&c->kp); }

/* Waits for the tx to be final; returns its height, or dies naming what failed. */
static uint64_t wait_final(const cli_node_t *node, const char *id, const char *what) {
  json_t *j = cli_wait_final(node, id);
  if (!cli_tx_committed(j)) {
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *m = json_string_value(json_object_get(j, "message"));
    cli_die("%s %s (tx %s): %s: %s", what, json_string_value(json_object_get(j, "status")), id, e ? e : "?",
            m ? m : "");
  }
  uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
  return h;
}

uint64_t doc_submit(doc_ctx_t *c, uint32_t type, const ve_buf_t *payload, const char *what) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(c->chain, strlen(c->chain)),
                    .seq = c->seq++, .expiry = c->height + DOC_TX_EXPIRY_BLOCKS, .type = type,
                    .payload = ve_buf_slice(payload)};
  ve_buf_t enc;
  ve_buf_init(&enc, VE_TX_BYTES_MAX);
  if (ledger_tx_sign(&tx, &c->kp) || ledger_tx_encode(&tx, &enc)) cli_die("%s: cannot sign the transaction", what);
  char *hex = malloc(2 * enc.len + 1);
  if (!hex) cli_die("out of memory");
  ve_hex_encode(hex, enc.ptr, enc.len);
  ve_buf_free(&enc);
  json_t *res = NULL;
  json_t *body = json_pack("{s:s}", "tx", hex);
  int st = cli_http_json(&c->node, "POST", "/v1/txs", body, &res); /* body is not stolen */
  json_decref(body);
  free(hex);
  if (st != 202 || !res) cli_die_answer(what, st, res);
  char id[65];
  snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
  json_decref(res);
  return wait_final(&c->node, id, what);
}

static int record_from(json_t *j, const uint8_t *id, documents_record_t *rec) {
  const char *raw = json_string_value(json_object_get(j, "raw"));
  uint8_t doc[32];
  if (!id) json_hex32(j, "id", doc), id = doc;
  size_t len = raw ? strlen(raw) : 0;
  if (!raw || len % 2 || len / 2 > DOCUMENTS_RECORD_BYTES_MAX) return VE_ERR_MALFORMED;
  uint8_t *b = malloc(len / 2 + 1);
  if (!b) return VE_ERR_NOMEM;
  int rc = ve_hex_decode(b, len / 2, raw);
  if (rc == VE_OK) rc = documents_decode(ve_slice(b, len / 2), id, rec);
  free(b);
  return rc;
}

void doc_record_get(const cli_node_t *node, const uint8_t id[LEDGER_HASH_BYTES], documents_record_t *rec) {
  char hex[65], path[160];
  snprintf(path, sizeof path, "/v1/documents/%s?raw=1", doc_hex(hex, id, 32));
  json_t *j = cli_get_json(node, path, "document");
  int rc = record_from(j, id, rec);
  json_decref(j);
  if (rc) cli_die("document %s: the node sent a record that does not decode: %s", hex, ve_strerror(rc));
}

int doc_record_by_digest(const cli_node_t *node, const documents_digest_t *d, documents_record_t *rec) {
  char hex[2 * DOCUMENTS_DIGEST_BYTES_MAX + 1], path[256];
  snprintf(path, sizeof path, "/v1/documents/by-digest/%s/%s?raw=1", documents_alg_name(d->alg),
           doc_hex(hex, d->bytes, documents_alg_digest_bytes(d->alg)));
  json_t *j = NULL;
  int st = cli_http_json(node, "GET", path, NULL, &j);
  if (st == 404) {
    json_decref(j);
    return VE_ERR_NOT_FOUND;
  }
  if (st != 200 || !j) cli_die_answer("document by digest", st, j);
  int rc = record_from(j, NULL, rec);
  json_decref(j);
  if (rc) cli_die("the node sent a record that does not decode: %s", ve_strerror(rc));
  return VE_OK;
}

void doc_grant_key(doc_ctx_t *c, const uint8_t doc[LEDGER_HASH_BYTES], uint8_t key[DOCUMENTS_KEY_BYTES]) {
  char dh[65], mh[65], path[256];
  snprintf(path, sizeof path, "/v1/documents/%s/grants/%s", doc_hex(dh, doc, 32), doc_hex(mh, c->me, 32));
  json_t *j = NULL;
  int st = cli_http_json(&c->node, "GET", path, NULL, &j);
  if (st == 404) cli_die("identity %s holds no grant on document %s: the document key is not available to it", mh, dh);
  if (st != 200 || !j) cli_die_answer("grant", st, j);
  const char *w = json_string_value(json_object_get(j, "wrapped"));
  uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES];
  if (!w || ve_hex_decode(wrapped, sizeof wrapped, w)) cli_die("the node sent a malformed grant");
  json_decref(j);
  int rc = documents_key_unwrap(key, wrapped, &c->kp);
  if (rc) cli_die("the grant on document %s does not open with this key (%s): it was wrapped to another key", dh,
                  ve_err_name(rc));
}

unsigned doc_alg_parse(const char *s) {
  if (!s) return DOCUMENTS_ALG_BLAKE2B_256;
  unsigned a = documents_alg_from_name(s);
  if (!a && strlen(s) == 1 && s[0] >= '1' && s[0] <= '0' + DOCUMENTS_ALG_MAX) a = (unsigned)(s[0] - '0');
  if (!a) cli_die("--alg must be blake2b-256, sha256, sha512 or blake2b-512");
  return a;
}

static int open_file(const char *path, uint64_t *size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) cli_die("%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) cli_die("%s: not a regular file", path);
  *size = (uint64_t)st.st_size;
  return fd;
}

void doc_file_digests(const char *path, unsigned mask, documents_digest_t out[DOCUMENTS_ALG_MAX + 1]) {
  static documents_hasher_t h[DOCUMENTS_ALG_MAX + 1];
  for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++)
    if (mask & (1u << a)) VE_ASSERT(documents_hasher_init(&h[a], a) == VE_OK);
  uint64_t size;
  int fd = open_file(path, &size);
  uint8_t *buf = malloc(DOC_READ_CHUNK_BYTES);
  if (!buf) cli_die("out of memory");
  for (;;) {
    ssize_t r = read(fd, buf, DOC_READ_CHUNK_BYTES);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) cli_die("%s: %s", path, strerror(errno));
    if (r == 0) break;
    for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++)
      if (mask & (1u << a)) documents_hasher_update(&h[a], buf, (size_t)r);
  }
  close(fd);
  free(buf);
  for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++)
    if (mask & (1u << a)) documents_hasher_final(&h[a], &out[a]);
}

void doc_file_read(const char *path, uint64_t max, ve_buf_t *out) {
  uint64_t size;
  int fd = open_file(path, &size);
  if (size > max)
    cli_die("%s is %llu bytes; at most %llu can be stored encrypted (register it without --encrypt to record "
            "only its digest)", path, (unsigned long long)size, (unsigned long long)max);
  ve_buf_init(out, (size_t)max);
  if (ve_buf_reserve(out, (size_t)size ? (size_t)size : 1)) cli_die("out of memory");
  while (out->len < size) {
    ssize_t r = read(fd, out->ptr + out->len, (size_t)size - out->len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) cli_die("%s: %s", path, r < 0 ? strerror(errno) : "file shrank while reading");
    out->len += (size_t)r;
  }
  close(fd);
}

void doc_blob_upload(const cli_node_t *node, const uint8_t doc[LEDGER_HASH_BYTES], ve_slice_t blob) {
  char hex[65], path[200];
  doc_hex(hex, doc, 32);
  for (size_t off = 0; off < blob.len;) {
    size_t n = blob.len - off < NODE_DOCS_PART_BYTES_MAX ? blob.len - off : NODE_DOCS_PART_BYTES_MAX;
    snprintf(path, sizeof path, "/v1/documents/%s/blob?offset=%zu", hex, off);
    http_response_t r;
    int rc = http_request(node->host, node->port, "PUT", path, "application/octet-stream", blob.ptr + off, n,
                          CLI_HTTP_TIMEOUT_MS, &r);
    if (rc) cli_die("cannot reach node at %s:%u: %s", node->host, node->port, ve_strerror(rc));
    json_t *j = r.body.len ? json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL) : NULL;
    int st = r.status;
    http_response_free(&r);
    if (st < 200 || st > 202 || !j) cli_die_answer("blob upload", st, j);
    const char *s = json_string_value(json_object_get(j, "status"));
    bool stored = s && !strcmp(s, "stored");
    json_decref(j);
    if (stored) return;
    off += n;
  }
  cli_die("blob upload: the node did not report the blob stored after its last part");
}

void doc_blob_download(const cli_node_t *node, const uint8_t doc[LEDGER_HASH_BYTES], uint64_t size, ve_buf_t *out) {
  char hex[65], path[220];
  doc_hex(hex, doc, 32);
  if (size > DOCUMENTS_BLOB_BYTES_MAX) cli_die("the record names a blob over the size limit");
  ve_buf_init(out, DOCUMENTS_BLOB_BYTES_MAX);
  if (ve_buf_reserve(out, (size_t)size)) cli_die("out of memory");
  while (out->len < size) {
    snprintf(path, sizeof path, "/v1/documents/%s/blob?offset=%zu&length=%zu", hex, out->len,
             (size_t)NODE_DOCS_PART_BYTES_MAX);
    http_response_t r;
    int rc = http_request(node->host, node->port, "GET", path, NULL, NULL, 0, CLI_HTTP_TIMEOUT_MS, &r);
    if (rc) cli_die("cannot reach node at %s:%u: %s", node->host, node->port, ve_strerror(rc));
    if (r.status != 200) {
      json_t *j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
      int st = r.status;
      http_response_free(&r);
      cli_die_answer("blob download", st, j);
    }
    if (r.body.len == 0 || r.body.len > size - out->len) cli_die("blob download: the node sent a wrong-sized part");
    ve_buf_append(out, r.body.ptr, r.body.len);
    http_response_free(&r);
  }
}
