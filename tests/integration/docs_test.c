/* docs_test.c — documents end to end through the real node, its HTTP API and
 * the `veche doc` CLI (docs/documents.md):
 *   - an encrypted 10 MB document registered and uploaded by a notary, granted
 *     to a citizen, fetched and decrypted by the citizen; a third identity gets
 *     nothing (no grant, and the citizen's public grant does not open for it);
 *   - blob uploads in parts through the API, with every bad part refused;
 *   - a revocation seen by an offline `veche doc verify` (genesis + bundle only);
 *   - supersede; evidence renewal;
 *   - erase: the blob is gone from the API, the record remains;
 *   - bad input: oversize documents, malformed document types and an unknown tx
 *     type, a digest registered twice, revoking someone else's document, a grant
 *     to a revoked identity — each a clear error, the node still running;
 *   - a restart after which every committed fact is still there.
 * The 10 MB content comes from a seed (VECHE_SEED=n replays; printed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "api/http_client.h"
#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "codec/codec.h"
#include "harness.h"

#define BIG_BYTES (10 * 1000 * 1000)
#define PART_BYTES (8 * 1024 * 1024) /* the API's body limit (NODE_DOCS_PART_BYTES_MAX) */
#define OUT_BYTES 16384

static const char *g_veche;

/* Identities: the founding authority (all roles) sets these up. */
enum { NOTARY, NOTARY2, CITIZEN, THIRD, REVOKEE, N_PEOPLE };
static const char *NAMES[N_PEOPLE] = {"notary", "notary2", "citizen", "third", "revokee"};

static struct {
  h_node_t n;
  vcrypto_keypair_t kp[N_PEOPLE];
  uint8_t id[N_PEOPLE][32];
  char idhex[N_PEOPLE][65];
  char keyfile[N_PEOPLE][400];
  char genesis[400];
  char big[400];                 /* the 10 MB document */
  char big_doc[65];              /* its document id */
  uint8_t big_blob[32];
  char small_doc[65];            /* a digest-only registration, superseded later */
  char small_file[400], small2_file[400];
  char deed_blob[65];            /* a blob uploaded in parts through the API */
  char revoked_bundle[400];      /* the record's bundle after its revocation */
  char out[OUT_BYTES];
} g;

/* ---- helpers ---- */

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", g.n.dir, name); }

static void write_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc((size_t)len + 1);
  assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return p;
}

/* Runs veche with up to 12 args; returns the exit status; output in g.out. */
#define VECHE(...) h_veche(&g.n, g.out, sizeof g.out, __VA_ARGS__, NULL)

static void expect_fail(int rc, const char *want, const char *what) {
  if (rc == 0 || !strstr(g.out, want)) fail_msg("%s: want failure mentioning \"%s\", got exit %d: %s", what, want, rc, g.out);
}

/* The 64-hex value after "field": in the CLI's JSON output. */
static void out_hex(const char *field, char out[65]) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": \"", field);
  const char *p = strstr(g.out, pat);
  if (!p) fail_msg("no %s in: %s", field, g.out);
  memcpy(out, p + strlen(pat), 64);
  out[64] = 0;
}

static int post(const char *path, json_t *body, json_t **out) { return h_post(&g.n, path, body, out); }

static uint64_t submit_wait(const vcrypto_keypair_t *kp, uint64_t seq, uint32_t type, const ve_buf_t *p) {
  uint8_t id[32];
  char *hex = h_tx_hex(g.n.chain, kp, seq, type, ve_buf_slice(p), id);
  json_t *r;
  int st = post("/v1/txs", json_pack("{s:s}", "tx", hex), &r);
  free(hex);
  if (st != 202) fail_msg("tx refused: %d %s", st, json_string_value(json_object_get(r, "error")));
  json_decref(r);
  assert_int_equal(h_wait_final(&g.n, (uint8_t(*)[32])id, 1), 1);
  return h_height(&g.n);
}

/* Submits a raw tx and expects the node to refuse it at admission with `want`. */
static void expect_rejected(const vcrypto_keypair_t *kp, uint64_t seq, uint32_t type, ve_slice_t payload,
                            const char *want) {
  char *hex = h_tx_hex(g.n.chain, kp, seq, type, payload, NULL);
  json_t *r;
  int st = post("/v1/txs", json_pack("{s:s}", "tx", hex), &r);
  free(hex);
  const char *e = json_string_value(json_object_get(r, "error"));
  if (st < 400 || st >= 500 || !e || strcmp(e, want))
    fail_msg("want rejection \"%s\", got %d \"%s\"", want, st, e ? e : "?");
  json_decref(r);
}

static json_t *get_json(const char *path, int want_status) {
  json_t *j = NULL;
  int st = h_get(&g.n, path, &j);
  if (st != want_status) fail_msg("GET %s: want %d, got %d", path, want_status, st);
  return j;
}

/* A raw HTTP exchange (blobs are not JSON). */
static int http_raw(const char *method, const char *path, const void *body, size_t len, http_response_t *r) {
  int rc = http_request("127.0.0.1", g.n.port, method, path, body ? "application/octet-stream" : NULL, body, len,
                        30000, r);
  assert_int_equal(rc, 0);
  return r->status;
}

/* PUT a part; returns the status, and the error code (if any) in err. */
static int put_part(const char *doc, size_t offset, const uint8_t *p, size_t n, char *err, size_t err_len) {
  char path[200];
  snprintf(path, sizeof path, "/v1/documents/%s/blob?offset=%zu", doc, offset);
  http_response_t r;
  int st = http_raw("PUT", path, p, n, &r);
  json_t *j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
  const char *e = json_string_value(json_object_get(j, st >= 400 ? "error" : "status"));
  snprintf(err, err_len, "%s", e ? e : "");
  json_decref(j);
  http_response_free(&r);
  return st;
}

static void node_alive(void) {
  assert_int_equal(waitpid(g.n.pid, NULL, WNOHANG), 0);
  json_t *j = get_json("/health", 200);
  json_decref(j);
}

/* ---- setup: a node, five identities, two of them notaries, one revoked ---- */

static int group_setup(void **state) {
  (void)state;
  h_node_init(&g.n, g_veche);
  h_node_start(&g.n);
  snprintf(g.genesis, sizeof g.genesis, "%s/net/genesis.json", g.n.dir);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  json_t *arr = json_array();
  uint8_t txids[2 * N_PEOPLE][32];
  size_t k = 0;
  uint8_t digest[32] = {7};
  for (int i = 0; i < N_PEOPLE; i++) {
    h_seed_key(&g.kp[i], 60, (uint32_t)i);
    identity_id_from_pk(g.id[i], g.kp[i].pk);
    ve_hex_encode(g.idhex[i], g.id[i], 32);
    path_in(g.keyfile[i], sizeof g.keyfile[i], NAMES[i]);
    assert_int_equal(vcrypto_keyfile_write(g.keyfile[i], &g.kp[i]), 0);
    ve_buf_reset(&p);
    assert_int_equal(identity_payload_register(&p, g.kp[i].pk, digest, NULL, 0), 0);
    char *hex = h_tx_hex(g.n.chain, &g.n.authority, g.n.seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), txids[k++]);
    json_array_append_new(arr, json_string(hex));
    free(hex);
  }
  /* Roles and the revocation refer to the identities: a second batch. */
  json_t *r;
  assert_int_equal(post("/v1/txs", json_pack("{s:o}", "txs", arr), &r), 200);
  assert_int_equal(json_integer_value(json_object_get(r, "accepted")), (json_int_t)k);
  json_decref(r);
  assert_int_equal(h_wait_final(&g.n, txids, k), k);
  arr = json_array();
  size_t first = k;
  for (int i = NOTARY; i <= NOTARY2; i++) {
    ve_buf_reset(&p);
    assert_int_equal(identity_payload_set_roles(&p, g.id[i], ROLE_NOTARY), 0);
    uint32_t type = TX_TYPE_IDENTITY_SET_ROLES;
    h_council_wrap(&type, &p);
    char *hex = h_tx_hex(g.n.chain, &g.n.authority, g.n.seq++, type, ve_buf_slice(&p), txids[k++]);
    json_array_append_new(arr, json_string(hex));
    free(hex);
  }
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, g.id[REVOKEE], "left the country"), 0);
  char *hex = h_tx_hex(g.n.chain, &g.n.authority, g.n.seq++, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p), txids[k++]);
  json_array_append_new(arr, json_string(hex));
  free(hex);
  assert_int_equal(post("/v1/txs", json_pack("{s:o}", "txs", arr), &r), 200);
  assert_int_equal(json_integer_value(json_object_get(r, "accepted")), (json_int_t)(k - first));
  json_decref(r);
  assert_int_equal(h_wait_final(&g.n, txids + first, k - first), k - first);
  ve_buf_free(&p);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  if (g.n.pid) h_node_stop(&g.n);
  h_node_cleanup(&g.n);
  return 0;
}

/* ---- an encrypted 10 MB document between two identities ---- */

static void test_round_trip(void **state) {
  (void)state;
  unsigned long seed = getenv("VECHE_SEED") ? strtoul(getenv("VECHE_SEED"), NULL, 10) : (unsigned long)time(NULL);
  printf("docs_test: seed %lu (VECHE_SEED=%lu replays)\n", seed, seed);
  uint8_t *big = malloc(BIG_BYTES);
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < BIG_BYTES; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    big[i] = (uint8_t)x;
  }
  path_in(g.big, sizeof g.big, "passport.pdf");
  write_file(g.big, big, BIG_BYTES);

  uint64_t t0 = h_now_ms();
  int rc = VECHE("doc", "register", g.big, "--type", "passport", "--subject", g.idhex[CITIZEN], "--encrypt", "--key",
                 g.keyfile[NOTARY]);
  if (rc) fail_msg("register: %s", g.out);
  out_hex("document", g.big_doc);
  char blob_hex[65];
  out_hex("blob_id", blob_hex);
  ve_hex_decode(g.big_blob, 32, blob_hex);
  assert_non_null(strstr(g.out, "\"blob_bytes\": 10000041"));

  /* The record names the notary as issuer and the blob is held. */
  char path[300];
  snprintf(path, sizeof path, "/v1/documents/%s", g.big_doc);
  json_t *j = get_json(path, 200);
  assert_string_equal(json_string_value(json_object_get(j, "issuer")), g.idhex[NOTARY]);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "current");
  assert_true(json_is_true(json_object_get(json_object_get(j, "blob"), "held")));
  json_decref(j);
  j = get_json("/v1/blobs/missing", 200);
  assert_int_equal(json_array_size(json_object_get(j, "missing")), 0);
  json_decref(j);

  rc = VECHE("doc", "grant", g.big_doc, "--to", g.idhex[CITIZEN], "--key", g.keyfile[NOTARY]);
  if (rc) fail_msg("grant: %s", g.out);
  char out_path[400];
  path_in(out_path, sizeof out_path, "citizen-copy.pdf");
  rc = VECHE("doc", "fetch", g.big_doc, "--out", out_path, "--key", g.keyfile[CITIZEN]);
  if (rc) fail_msg("fetch: %s", g.out);
  uint64_t t1 = h_now_ms();
  size_t n;
  uint8_t *copy = read_file(out_path, &n);
  assert_non_null(copy);
  assert_int_equal(n, BIG_BYTES);
  assert_memory_equal(copy, big, BIG_BYTES);
  free(copy);
  printf("docs_test: 10 MB register+upload+grant+fetch+decrypt in %.2f s\n", (double)(t1 - t0) / 1000);

  /* Any holder of the key and the file rebuilds exactly the recorded blob
   * (`doc upload` checks the blob id before sending): a failed upload can be redone. */
  rc = VECHE("doc", "upload", g.big_doc, g.big, "--key", g.keyfile[CITIZEN]);
  if (rc || !strstr(g.out, "\"upload\": \"stored\"")) fail_msg("upload again: exit %d: %s", rc, g.out);
  expect_fail(VECHE("doc", "upload", g.big_doc, out_path, "--key", g.keyfile[THIRD]), "holds no grant",
              "upload without a grant");
  expect_fail(VECHE("doc", "upload", g.big_doc, g.genesis, "--key", g.keyfile[NOTARY]), "not the registered content",
              "upload of another file");

  /* A third identity gets nothing: no grant of its own... */
  char third_path[400];
  path_in(third_path, sizeof third_path, "third-copy.pdf");
  expect_fail(VECHE("doc", "fetch", g.big_doc, "--out", third_path, "--key", g.keyfile[THIRD]), "holds no grant",
              "third identity fetch");
  assert_int_equal(access(third_path, F_OK), -1);
  /* ...and the citizen's grant, public on the ledger, does not open for it. */
  snprintf(path, sizeof path, "/v1/documents/%s/grants/%s", g.big_doc, g.idhex[CITIZEN]);
  j = get_json(path, 200);
  uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], key[DOCUMENTS_KEY_BYTES];
  assert_int_equal(ve_hex_decode(wrapped, sizeof wrapped, json_string_value(json_object_get(j, "wrapped"))), 0);
  json_decref(j);
  assert_int_equal(documents_key_unwrap(key, wrapped, &g.kp[THIRD]), VE_ERR_CRYPTO);
  assert_int_equal(documents_key_unwrap(key, wrapped, &g.kp[CITIZEN]), 0);
  /* The grant list names the notary (self-grant) and the citizen. */
  snprintf(path, sizeof path, "/v1/documents/%s/grants", g.big_doc);
  j = get_json(path, 200);
  assert_int_equal(json_array_size(json_object_get(j, "recipients")), 2);
  json_decref(j);
  /* No grant to a revoked identity. */
  expect_fail(VECHE("doc", "grant", g.big_doc, "--to", g.idhex[REVOKEE], "--key", g.keyfile[NOTARY]), "revoked",
              "grant to a revoked identity");
  /* Revoking the citizen's grant stops further fetches. */
  rc = VECHE("doc", "revoke-grant", g.big_doc, "--to", g.idhex[CITIZEN], "--key", g.keyfile[NOTARY]);
  if (rc) fail_msg("revoke-grant: %s", g.out);
  expect_fail(VECHE("doc", "fetch", g.big_doc, "--out", out_path, "--key", g.keyfile[CITIZEN]), "holds no grant",
              "fetch after the grant was revoked");
  free(big);
}

/* ---- the blob API: uploads in parts and every bad part ---- */

static void test_blob_api(void **state) {
  (void)state;
  /* A record naming a blob, registered by a raw tx, blob not uploaded yet. */
  size_t plain_len = 100000;
  uint8_t *plain = malloc(plain_len), key[32], nonce[24];
  for (size_t i = 0; i < plain_len; i++) plain[i] = (uint8_t)(i * 7);
  vcrypto_random(key, sizeof key);
  vcrypto_random(nonce, sizeof nonce);
  documents_spec_t spec;
  memset(&spec, 0, sizeof spec);
  strcpy(spec.type, "deed");
  memcpy(spec.subject, g.id[CITIZEN], 32);
  assert_int_equal(documents_digest_file_bytes(&spec.digest, DOCUMENTS_ALG_SHA256, plain, plain_len), 0);
  ve_buf_t blob, p;
  ve_buf_init(&blob, 0);
  ve_buf_init(&p, 0);
  assert_int_equal(documents_blob_encrypt(&blob, spec.blob_id, plain, plain_len, key, nonce), 0);
  spec.has_blob = true;
  spec.blob_bytes = blob.len;
  assert_int_equal(documents_payload_register(&p, &spec), 0);
  submit_wait(&g.kp[NOTARY2], 1, TX_TYPE_DOCUMENT_REGISTER, &p);
  uint8_t doc[32];
  documents_id(doc, g.id[NOTARY2], &spec.digest);
  char dh[65], bh[65], path[300], err[64];
  ve_hex_encode(dh, doc, 32);
  ve_hex_encode(bh, spec.blob_id, 32);
  memcpy(g.deed_blob, bh, sizeof bh);

  /* Referenced, not held: listed as missing, not served. */
  json_t *j = get_json("/v1/blobs/missing", 200);
  assert_int_equal(json_array_size(json_object_get(j, "missing")), 1);
  assert_string_equal(json_string_value(json_array_get(json_object_get(j, "missing"), 0)), bh);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/documents/%s/blob", dh);
  j = get_json(path, 404);
  json_decref(j);

  /* Bad parts. */
  assert_int_equal(put_part(dh, 5, blob.ptr, 10, err, sizeof err), 400);
  assert_string_equal(err, "invalid_argument");
  assert_int_equal(put_part(dh, 0, blob.ptr, 0, err, sizeof err), 400);
  assert_int_equal(put_part(dh, 0, blob.ptr, 50000, err, sizeof err), 202);
  assert_string_equal(err, "partial");
  assert_int_equal(put_part(dh, 50000, blob.ptr, blob.len, err, sizeof err), 413); /* past the size */
  assert_string_equal(err, "too_big");
  uint8_t *bad = malloc(blob.len);
  memcpy(bad, blob.ptr, blob.len);
  bad[blob.len - 1] ^= 1;
  assert_int_equal(put_part(dh, 50000, bad + 50000, blob.len - 50000, err, sizeof err), 400);
  assert_string_equal(err, "hash_mismatch");
  /* The parts were dropped: continuing is refused, a fresh start works. */
  assert_int_equal(put_part(dh, 50000, blob.ptr + 50000, blob.len - 50000, err, sizeof err), 400);
  assert_int_equal(put_part(dh, 0, blob.ptr, 60000, err, sizeof err), 202);
  assert_int_equal(put_part(dh, 30000, blob.ptr + 30000, 30000, err, sizeof err), 202); /* a repeated part */
  assert_int_equal(put_part(dh, 60000, blob.ptr + 60000, blob.len - 60000, err, sizeof err), 201);
  assert_string_equal(err, "stored");
  assert_int_equal(put_part(dh, 0, blob.ptr, blob.len, err, sizeof err), 200); /* already held */
  /* A wrong document id, a document without a blob, a malformed id. */
  char zero[65];
  memset(zero, '0', 64);
  zero[64] = 0;
  assert_int_equal(put_part(zero, 0, blob.ptr, 10, err, sizeof err), 404);
  assert_int_equal(put_part("xyz", 0, blob.ptr, 10, err, sizeof err), 400);

  /* Served whole, in a range, and by blob id. */
  http_response_t r;
  assert_int_equal(http_raw("GET", path, NULL, 0, &r), 200);
  assert_int_equal(r.body.len, blob.len);
  assert_memory_equal(r.body.ptr, blob.ptr, blob.len);
  http_response_free(&r);
  snprintf(path, sizeof path, "/v1/documents/%s/blob?offset=1000&length=77", dh);
  assert_int_equal(http_raw("GET", path, NULL, 0, &r), 200);
  assert_int_equal(r.body.len, 77);
  assert_memory_equal(r.body.ptr, blob.ptr + 1000, 77);
  http_response_free(&r);
  snprintf(path, sizeof path, "/v1/documents/%s/blob?offset=%zu", dh, blob.len);
  assert_int_equal(http_raw("GET", path, NULL, 0, &r), 400);
  http_response_free(&r);
  snprintf(path, sizeof path, "/v1/blobs/%s", bh);
  assert_int_equal(http_raw("GET", path, NULL, 0, &r), 200);
  assert_int_equal(r.body.len, blob.len);
  http_response_free(&r);
  j = get_json("/v1/blobs/missing", 200);
  assert_int_equal(json_array_size(json_object_get(j, "missing")), 0);
  json_decref(j);

  /* A part over the API's body limit is refused by the API layer. */
  uint8_t *huge = calloc(1, PART_BYTES + 1);
  http_response_t hr;
  snprintf(path, sizeof path, "/v1/documents/%s/blob", dh);
  int rc = http_request("127.0.0.1", g.n.port, "PUT", path, "application/octet-stream", huge, PART_BYTES + 1, 30000, &hr);
  if (rc == VE_OK) {
    assert_int_equal(hr.status, 413);
    http_response_free(&hr);
  } /* else: the server answered 413 and closed while the client was still sending */
  free(huge);

  /* Lookup by digest (sha256, the plain function of the bytes). */
  char dg[65];
  ve_hex_encode(dg, spec.digest.bytes, 32);
  snprintf(path, sizeof path, "/v1/documents/by-digest/sha256/%s", dg);
  j = get_json(path, 200);
  assert_string_equal(json_string_value(json_object_get(j, "id")), dh);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/documents/by-digest/md5/%s", dg);
  json_decref(get_json(path, 400));
  snprintf(path, sizeof path, "/v1/documents/by-digest/sha512/%s", dg);
  json_decref(get_json(path, 400)); /* a sha512 digest is 128 hex characters */
  node_alive();
  free(bad);
  free(plain);
  ve_buf_free(&blob);
  ve_buf_free(&p);
}

/* ---- a revocation seen offline; someone else's revocation refused ---- */

static void test_revocation_offline(void **state) {
  (void)state;
  char bundle[400], *bundle2 = g.revoked_bundle;
  path_in(bundle, sizeof bundle, "before.json");
  path_in(bundle2, sizeof g.revoked_bundle, "after.json");
  int rc = VECHE("doc", "proof", g.big_doc, "--out", bundle);
  if (rc) fail_msg("proof: %s", g.out);
  rc = VECHE("doc", "verify", g.big, "--genesis", g.genesis, "--bundle", bundle);
  if (rc != 0 || !strstr(g.out, "REGISTERED") || !strstr(g.out, "verdict: valid") || !strstr(g.out, g.idhex[NOTARY]))
    fail_msg("verify before revocation: exit %d: %s", rc, g.out);

  expect_fail(VECHE("doc", "revoke", g.big_doc, "--reason", "mine now", "--key", g.keyfile[NOTARY2]), "no_permission",
              "revoking someone else's document");
  rc = VECHE("doc", "revoke", g.big_doc, "--reason", "reported stolen", "--key", g.keyfile[NOTARY]);
  if (rc) fail_msg("revoke: %s", g.out);
  char *h = strstr(g.out, "\"height\": ");
  assert_non_null(h);
  uint64_t revoked_at = strtoull(h + 10, NULL, 10);
  h_wait_height(&g.n, revoked_at + 1, 10000); /* the state after revoked_at is certified by the next block */
  rc = VECHE("doc", "proof", g.big_doc, "--out", bundle2);
  if (rc) fail_msg("proof: %s", g.out);

  /* Offline: verify asks no node (test_restart runs it with the node stopped). */
  rc = VECHE("doc", "verify", g.big, "--genesis", g.genesis, "--bundle", bundle2);
  if (rc != 3 || !strstr(g.out, "revoked") || !strstr(g.out, "reported stolen") || !strstr(g.out, "NOT VALID"))
    fail_msg("verify after revocation: exit %d: %s", rc, g.out);
  /* The earlier bundle still proves the earlier state. */
  assert_int_equal(VECHE("doc", "verify", g.big, "--genesis", g.genesis, "--bundle", bundle), 0);
  /* Another file against the bundle: not proven. */
  char other[400];
  path_in(other, sizeof other, "other.txt");
  write_file(other, (const uint8_t *)"not the passport", 16);
  rc = VECHE("doc", "verify", other, "--genesis", g.genesis, "--bundle", bundle2);
  if (rc != 1 || !strstr(g.out, "NOT PROVEN")) fail_msg("other file: exit %d: %s", rc, g.out);
  /* A file never registered: proven absent through its digest entry. */
  char absent[400];
  path_in(absent, sizeof absent, "absent.json");
  assert_int_equal(VECHE("doc", "proof", "--file", other, "--out", absent), 0);
  rc = VECHE("doc", "verify", other, "--genesis", g.genesis, "--bundle", absent);
  if (rc != 3 || !strstr(g.out, "NOT REGISTERED")) fail_msg("unregistered file: exit %d: %s", rc, g.out);
  /* A tampered bundle: not proven. */
  json_t *b = json_load_file(bundle2, 0, NULL);
  char *v = strdup(json_string_value(json_object_get(b, "value")));
  v[strlen(v) - 3] = v[strlen(v) - 3] == '0' ? '1' : '0';
  json_object_set_new(b, "value", json_string(v));
  free(v);
  char tampered[400];
  path_in(tampered, sizeof tampered, "tampered.json");
  assert_int_equal(json_dump_file(b, tampered, 0), 0);
  json_decref(b);
  rc = VECHE("doc", "verify", g.big, "--genesis", g.genesis, "--bundle", tampered);
  if (rc != 1 || !strstr(g.out, "NOT PROVEN")) fail_msg("tampered bundle: exit %d: %s", rc, g.out);
}

/* ---- supersede and renew ---- */

static void test_supersede_renew(void **state) {
  (void)state;
  path_in(g.small_file, sizeof g.small_file, "diploma-v1.txt");
  path_in(g.small2_file, sizeof g.small2_file, "diploma-v2.txt");
  write_file(g.small_file, (const uint8_t *)"diploma: B.Sc. 2019", 19);
  write_file(g.small2_file, (const uint8_t *)"diploma: B.Sc. 2019 (corrected)", 31);
  int rc = VECHE("doc", "register", g.small_file, "--type", "diploma", "--subject", g.idhex[CITIZEN], "--key",
                 g.keyfile[NOTARY]);
  if (rc) fail_msg("register: %s", g.out);
  out_hex("document", g.small_doc);
  rc = VECHE("doc", "renew", g.small_doc, "--alg", "sha512", "--file", g.small_file, "--key", g.keyfile[NOTARY2]);
  if (rc) fail_msg("renew by another notary: %s", g.out);
  expect_fail(VECHE("doc", "renew", g.small_doc, "--alg", "sha512", "--file", g.small2_file, "--key", g.keyfile[NOTARY]),
              "is not the registered content", "renew with another file");
  rc = VECHE("doc", "supersede", g.small_doc, g.small2_file, "--key", g.keyfile[NOTARY]);
  if (rc) fail_msg("supersede: %s", g.out);
  char v2[65];
  out_hex("document", v2);
  char path[300];
  snprintf(path, sizeof path, "/v1/documents/%s", g.small_doc);
  json_t *j = get_json(path, 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "superseded");
  assert_string_equal(json_string_value(json_object_get(j, "next")), v2);
  assert_int_equal(json_array_size(json_object_get(j, "renewals")), 1);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/documents/%s", v2);
  j = get_json(path, 200);
  assert_string_equal(json_string_value(json_object_get(j, "prev")), g.small_doc);
  assert_string_equal(json_string_value(json_object_get(j, "type")), "diploma"); /* defaults from the old version */
  json_decref(j);
  /* Only the current version can be superseded. */
  expect_fail(VECHE("doc", "supersede", g.small_doc, g.big, "--key", g.keyfile[NOTARY]), "invalid_state",
              "superseding a superseded version");
  /* Offline: the old version's file shows superseded, through its digest. */
  char bundle[400];
  path_in(bundle, sizeof bundle, "diploma.json");
  h_wait_height(&g.n, h_height(&g.n) + 1, 10000);
  assert_int_equal(VECHE("doc", "proof", "--file", g.small_file, "--out", bundle), 0);
  rc = VECHE("doc", "verify", g.small_file, "--genesis", g.genesis, "--bundle", bundle);
  if (rc != 3 || !strstr(g.out, "superseded by") || !strstr(g.out, v2) || !strstr(g.out, "2 layer(s)"))
    fail_msg("verify superseded: exit %d: %s", rc, g.out);
}

/* ---- bad input ---- */

/* A register payload encoded by hand, so that it can break rules the builder
 * enforces: type bytes as given, blob size as given. */
static void raw_register(ve_buf_t *p, const char *type, uint64_t blob_bytes) {
  codec_writer_t w;
  ve_buf_reset(p);
  codec_writer_init(&w, p);
  codec_put_u8(&w, 1);
  codec_put_bytes(&w, (const uint8_t *)type, strlen(type), 64);
  codec_put_fixed(&w, g.id[CITIZEN], 32);
  codec_put_u8(&w, 1);
  uint8_t digest[32];
  vcrypto_random(digest, sizeof digest);
  codec_put_fixed(&w, digest, 32);
  codec_put_bool(&w, false);
  uint8_t zero[32] = {0};
  codec_put_fixed(&w, zero, 32);
  codec_put_bool(&w, blob_bytes != 0);
  if (blob_bytes) {
    codec_put_fixed(&w, zero, 32);
    codec_put_uvarint(&w, blob_bytes);
  }
  assert_int_equal(codec_writer_finish(&w), 0);
}

static void test_bad_input(void **state) {
  (void)state;
  char path[400];
  /* Oversize: the CLI refuses to encrypt over 16 MiB (checked before reading)... */
  char huge[400];
  path_in(huge, sizeof huge, "huge.bin");
  int fd = open(huge, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)DOCUMENTS_CONTENT_BYTES_MAX + 1), 0);
  close(fd);
  expect_fail(VECHE("doc", "register", huge, "--type", "scan", "--subject", g.idhex[CITIZEN], "--encrypt", "--key",
                    g.keyfile[NOTARY]),
              "at most 16777216", "oversize document");
  /* ...and the node refuses a record naming a blob over the limit. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  raw_register(&p, "scan", DOCUMENTS_BLOB_BYTES_MAX + 1);
  expect_rejected(&g.kp[NOTARY], 100, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p), "too_big");

  /* Malformed document types, from the CLI and raw; an unknown tx type. */
  expect_fail(VECHE("doc", "register", g.small_file, "--type", "Birth Certificate", "--subject", g.idhex[CITIZEN],
                    "--key", g.keyfile[NOTARY]),
              "--type must be", "malformed type (CLI)");
  raw_register(&p, "Birth Certificate", 0);
  expect_rejected(&g.kp[NOTARY], 101, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p), "malformed");
  raw_register(&p, "deed", 0);
  expect_rejected(&g.kp[NOTARY], 102, 0x0208, ve_buf_slice(&p), "unknown_type");

  /* A digest registered twice (by another notary, too). */
  expect_fail(VECHE("doc", "register", g.big, "--type", "passport", "--subject", g.idhex[CITIZEN], "--key",
                    g.keyfile[NOTARY2]),
              "already_exists", "digest registered twice");
  /* A citizen is no notary. */
  expect_fail(VECHE("doc", "register", g.small_file, "--type", "note", "--subject", g.idhex[CITIZEN], "--alg", "sha256",
                    "--key", g.keyfile[CITIZEN]),
              "no_permission", "register without the role");
  /* A grant on a revoked document; a grant by someone who holds no key. */
  expect_fail(VECHE("doc", "grant", g.big_doc, "--to", g.idhex[THIRD], "--key", g.keyfile[NOTARY]), "invalid_state",
              "grant on a revoked document");
  expect_fail(VECHE("doc", "grant", g.big_doc, "--to", g.idhex[THIRD], "--key", g.keyfile[NOTARY2]), "holds no grant",
              "grant without the key");
  /* A document that does not exist; bad arguments. */
  char zero[65];
  memset(zero, 'a', 64);
  zero[64] = 0;
  expect_fail(VECHE("doc", "revoke", zero, "--key", g.keyfile[NOTARY]), "not_found", "revoke unknown document");
  expect_fail(VECHE("doc", "show", "1234"), "64 hex", "short id");
  expect_fail(VECHE("doc", "register", g.small_file, "--key", g.keyfile[NOTARY]), "--type", "missing --type");
  expect_fail(VECHE("doc", "frobnicate"), "unknown subcommand", "unknown subcommand");
  snprintf(path, sizeof path, "/v1/documents/%s", zero);
  json_decref(get_json(path, 404));
  json_decref(get_json("/v1/documents/zz", 400));
  ve_buf_free(&p);
  node_alive();
}

/* ---- erase: the blob goes, the record stays ---- */

static void test_erase(void **state) {
  (void)state;
  char path[300], bh[65];
  ve_hex_encode(bh, g.big_blob, 32);
  snprintf(path, sizeof path, "/v1/blobs/%s", bh);
  http_response_t r;
  assert_int_equal(http_raw("GET", path, NULL, 0, &r), 200);
  http_response_free(&r);
  int rc = VECHE("doc", "erase", g.big_doc, "--reason", "subject's request", "--key", g.keyfile[NOTARY]);
  if (rc) fail_msg("erase: %s", g.out);
  assert_int_equal(http_raw("GET", path, NULL, 0, &r), 404); /* gone by blob id */
  http_response_free(&r);
  snprintf(path, sizeof path, "/v1/documents/%s/blob", g.big_doc);
  json_decref(get_json(path, 409)); /* and through the document */
  char err[64];
  uint8_t some[64] = {1};
  assert_int_equal(put_part(g.big_doc, 0, some, sizeof some, err, sizeof err), 409); /* never comes back */
  assert_string_equal(err, "invalid_state");
  snprintf(path, sizeof path, "/v1/documents/%s", g.big_doc);
  json_t *j = get_json(path, 200);
  assert_true(json_is_true(json_object_get(j, "key_erased")));
  assert_string_equal(json_string_value(json_object_get(j, "status")), "revoked");
  assert_string_equal(json_string_value(json_object_get(j, "issuer")), g.idhex[NOTARY]);
  assert_false(json_is_true(json_object_get(json_object_get(j, "blob"), "held")));
  json_decref(j);
  snprintf(path, sizeof path, "/v1/documents/%s/grants", g.big_doc);
  j = get_json(path, 200);
  assert_int_equal(json_array_size(json_object_get(j, "recipients")), 0);
  json_decref(j);
  j = get_json("/v1/blobs/missing", 200);
  assert_int_equal(json_array_size(json_object_get(j, "missing")), 0);
  json_decref(j);
  char out_path[400];
  path_in(out_path, sizeof out_path, "after-erase.pdf");
  expect_fail(VECHE("doc", "fetch", g.big_doc, "--out", out_path, "--key", g.keyfile[CITIZEN]), "erased",
              "fetch after erasure");
  expect_fail(VECHE("doc", "erase", g.big_doc, "--key", g.keyfile[NOTARY]), "invalid_state", "erase twice");
  node_alive();
}

/* ---- restart: every committed fact is still there ---- */

static void test_restart(void **state) {
  (void)state;
  h_node_stop(&g.n);
  /* No node at all: the revocation is still seen, from genesis and bundle. */
  int rc = VECHE("doc", "verify", g.big, "--genesis", g.genesis, "--bundle", g.revoked_bundle);
  if (rc != 3 || !strstr(g.out, "reported stolen")) fail_msg("offline verify, node stopped: exit %d: %s", rc, g.out);
  h_node_start(&g.n);
  char path[300];
  snprintf(path, sizeof path, "/v1/documents/%s", g.big_doc);
  json_t *j = get_json(path, 200);
  assert_true(json_is_true(json_object_get(j, "key_erased")));
  assert_string_equal(json_string_value(json_object_get(j, "status")), "revoked");
  json_decref(j);
  snprintf(path, sizeof path, "/v1/documents/%s", g.small_doc);
  j = get_json(path, 200);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "superseded");
  json_decref(j);
  j = get_json("/v1/blobs/missing", 200);
  assert_int_equal(json_array_size(json_object_get(j, "missing")), 0);
  json_decref(j);
  /* The deed's blob (uploaded in parts) survived the restart. */
  snprintf(path, sizeof path, "/v1/blobs/%s", g.deed_blob);
  http_response_t r;
  assert_int_equal(http_raw("GET", path, NULL, 0, &r), 200);
  http_response_free(&r);
  assert_int_equal(VECHE("doc", "show", "--file", g.small2_file), 0);
  node_alive();
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_blob_api),
      cmocka_unit_test(test_revocation_offline), cmocka_unit_test(test_supersede_renew),
      cmocka_unit_test(test_bad_input),        cmocka_unit_test(test_erase),
      cmocka_unit_test(test_restart),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
