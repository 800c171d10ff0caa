/* identities_test.c — the real node end to end: 1,000 identities through the
 * API, key rotations and revocations, every kind of bad input rejected for its
 * stated reason, then a restart after which every committed fact is still
 * there and every rejected one is still rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "api/http_client.h"
#include "base/err.h"
#include "codec/codec.h"
#include "harness.h"

#define N_IDS 1000
#define BATCH 250
#define N_ROTATE 50
#define N_REVOKE 50

static const char *g_veche;

static void payload_register(ve_buf_t *p, const uint8_t pk[32], uint32_t i) {
  uint8_t digest[32];
  vcrypto_hash(digest, "test/attrs", (const uint8_t *)&i, sizeof i);
  identity_attr_t a;
  memset(&a, 0, sizeof a);
  strcpy(a.key, "district");
  snprintf(a.value, sizeof a.value, "d%u", i % 12);
  ve_buf_reset(p);
  assert_int_equal(identity_payload_register(p, pk, digest, &a, 1), 0);
}

/* Submits a single tx and expects a 4xx with the given error name. */
static void expect_rejected(h_node_t *n, const char *hex, const char *want) {
  json_t *r;
  int st = h_post(n, "/v1/txs", json_pack("{s:s}", "tx", hex), &r);
  assert_true(st >= 400 && st < 500);
  const char *e = json_string_value(json_object_get(r, "error"));
  if (!e || strcmp(e, want)) fail_msg("expected rejection \"%s\", got %d \"%s\"", want, st, e ? e : "?");
  json_decref(r);
}

static void check_identity(h_node_t *n, const uint8_t id[32], const uint8_t pk[32], const char *status) {
  char hex[65], path[128];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/identities/%s", hex);
  json_t *j;
  assert_int_equal(h_get(n, path, &j), 200);
  ve_hex_encode(hex, pk, 32);
  assert_string_equal(json_string_value(json_object_get(j, "pk")), hex);
  assert_string_equal(json_string_value(json_object_get(j, "status")), status);
  json_decref(j);
}

/* POSTs body to /v1/txs/raw; returns the status, *out the JSON answer. */
static int post_raw(h_node_t *n, const ve_buf_t *body, json_t **out) {
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", n->port, "POST", "/v1/txs/raw", "application/octet-stream",
                                body->ptr, body->len, 30000, &r), 0);
  json_error_t je;
  *out = json_loadb((const char *)r.body.ptr, r.body.len, 0, &je);
  assert_non_null(*out);
  int st = r.status;
  http_response_free(&r);
  return st;
}

/* Appends the bytes of a hex-encoded tx, length-prefixed, to the raw batch. */
static void raw_append(ve_buf_t *body, const char *hex) {
  size_t len = strlen(hex) / 2;
  uint8_t *tx = malloc(len);
  assert_int_equal(ve_hex_decode(tx, len, hex), 0);
  codec_writer_t w;
  codec_writer_init(&w, body);
  codec_put_bytes(&w, tx, len, len);
  assert_int_equal(codec_writer_finish(&w), 0);
  free(tx);
}

/* The binary batch endpoint: good and bad transactions each get their verdict
 * (only the rejections are listed, by index), and a body whose framing is
 * wrong in any way admits nothing. Returns the accepted tx's id in good_id. */
static void check_raw_batches(h_node_t *n, uint8_t good_id[32]) {
  vcrypto_keypair_t k;
  ve_buf_t p, body;
  ve_buf_init(&p, 0);
  ve_buf_init(&body, 0);
  uint8_t bad_sig_id[32], unknown_id[32];
  h_seed_key(&k, 4, 0);
  payload_register(&p, k.pk, 4000);
  char *good = h_tx_hex(n->chain, &n->authority, n->seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), good_id);
  h_seed_key(&k, 4, 1);
  payload_register(&p, k.pk, 4001);
  char *bad = h_tx_hex(n->chain, &n->authority, n->seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), bad_sig_id);
  bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
  char *unknown = h_tx_hex(n->chain, &n->authority, n->seq++, 0x7002, ve_buf_slice(&p), unknown_id);

  /* Malformed framings first (nothing may be admitted by them): count 0, a
   * count larger than what follows, a trailing byte, a length over the tx
   * limit, and a non-minimal count. */
  static const struct {
    const char *what;
    uint8_t prefix[4];
    size_t prefix_len;
    bool with_good, trailing;
    int status;
  } cases[] = {
      {"count 0", {0x00}, 1, false, false, 400},
      {"count 2, one tx", {0x02}, 1, true, false, 400},
      {"trailing byte", {0x01}, 1, true, true, 400},
      {"non-minimal count", {0x81, 0x00}, 2, true, false, 400},
      {"tx length over the limit", {0x01, 0x81, 0x80, 0x08}, 4, false, false, 413},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ve_buf_reset(&body);
    assert_int_equal(ve_buf_append(&body, cases[i].prefix, cases[i].prefix_len), 0);
    if (cases[i].with_good) raw_append(&body, good);
    if (cases[i].trailing) assert_int_equal(ve_buf_append(&body, (const uint8_t *)"x", 1), 0);
    json_t *j;
    int st = post_raw(n, &body, &j);
    if (st != cases[i].status) fail_msg("%s: status %d, want %d", cases[i].what, st, cases[i].status);
    assert_non_null(json_string_value(json_object_get(j, "error")));
    json_decref(j);
  }
  char hex[65], path[128];
  ve_hex_encode(hex, good_id, 32);
  snprintf(path, sizeof path, "/v1/txs/%s", hex);
  assert_int_equal(h_get(n, path, NULL), 404); /* none of the above admitted it */

  /* A well-formed batch of three: accepted, bad signature, unknown type. */
  ve_buf_reset(&body);
  assert_int_equal(ve_buf_append(&body, (const uint8_t *)"\x03", 1), 0);
  raw_append(&body, good);
  raw_append(&body, bad);
  raw_append(&body, unknown);
  json_t *j;
  assert_int_equal(post_raw(n, &body, &j), 200);
  assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 1);
  assert_int_equal(json_integer_value(json_object_get(j, "rejected")), 2);
  json_t *errs = json_object_get(j, "errors");
  assert_int_equal(json_array_size(errs), 2);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(errs, 0), "index")), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "error")), "bad_signature");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(errs, 1), "index")), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 1), "error")), "unknown_type");
  ve_hex_encode(hex, unknown_id, 32);
  assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 1), "id")), hex);
  json_decref(j);
  /* The same batch again: the good one is now a duplicate. */
  assert_int_equal(post_raw(n, &body, &j), 200);
  assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 0);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "errors"), 0), "error")),
                      "duplicate");
  json_decref(j);
  free(good);
  free(bad);
  free(unknown);
  ve_buf_free(&p);
  ve_buf_free(&body);
}

static void test_identities_end_to_end(void **state) {
  (void)state;
  h_node_t n;
  h_node_init(&n, g_veche);
  h_node_start(&n);

  static vcrypto_keypair_t keys[N_IDS], rotated[N_ROTATE];
  static uint8_t ids[N_IDS][32], tx_ids[N_IDS + N_ROTATE + N_REVOKE][32];
  ve_buf_t p;
  ve_buf_init(&p, 0);
  /* 1,000 registrations in batches of 250. */
  for (size_t b = 0; b < N_IDS / BATCH; b++) {
    json_t *arr = json_array();
    for (size_t k = 0; k < BATCH; k++) {
      size_t i = b * BATCH + k;
      h_seed_key(&keys[i], 1, (uint32_t)i);
      identity_id_from_pk(ids[i], keys[i].pk);
      payload_register(&p, keys[i].pk, (uint32_t)i);
      char *hex = h_tx_hex(n.chain, &n.authority, n.seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), tx_ids[i]);
      json_array_append_new(arr, json_string(hex));
      free(hex);
    }
    json_t *r;
    assert_int_equal(h_post(&n, "/v1/txs", json_pack("{s:o}", "txs", arr), &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r, "accepted")), BATCH);
    json_decref(r);
  }
  assert_int_equal(h_wait_final(&n, tx_ids, N_IDS), N_IDS);

  /* Rotate the keys of identities 0..49 (signed by their own keys). */
  json_t *arr = json_array();
  for (size_t i = 0; i < N_ROTATE; i++) {
    h_seed_key(&rotated[i], 2, (uint32_t)i);
    ve_buf_reset(&p);
    assert_int_equal(identity_payload_rotate(&p, ve_slice(n.chain, strlen(n.chain)), ids[i], &rotated[i]), 0);
    char *hex = h_tx_hex(n.chain, &keys[i], 1, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p), tx_ids[N_IDS + i]);
    json_array_append_new(arr, json_string(hex));
    free(hex);
  }
  /* Revoke identities 100..149. */
  for (size_t i = 0; i < N_REVOKE; i++) {
    ve_buf_reset(&p);
    assert_int_equal(identity_payload_status(&p, ids[100 + i], "test revocation"), 0);
    char *hex = h_tx_hex(n.chain, &n.authority, n.seq++, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p),
                         tx_ids[N_IDS + N_ROTATE + i]);
    json_array_append_new(arr, json_string(hex));
    free(hex);
  }
  json_t *r;
  assert_int_equal(h_post(&n, "/v1/txs", json_pack("{s:o}", "txs", arr), &r), 200);
  assert_int_equal(json_integer_value(json_object_get(r, "accepted")), N_ROTATE + N_REVOKE);
  json_decref(r);
  assert_int_equal(h_wait_final(&n, tx_ids + N_IDS, N_ROTATE + N_REVOKE), N_ROTATE + N_REVOKE);

  /* Bad input, each with its reason; the node keeps serving. */
  uint8_t bad_ids[8][32];
  vcrypto_keypair_t stranger;
  h_seed_key(&stranger, 3, 0);
  payload_register(&p, stranger.pk, 0);
  char *hex = h_tx_hex(n.chain, &n.authority, n.seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), bad_ids[0]);
  hex[strlen(hex) - 1] = hex[strlen(hex) - 1] == '0' ? '1' : '0'; /* corrupt the signature */
  expect_rejected(&n, hex, "bad_signature");
  free(hex);
  hex = h_tx_hex("another-chain", &n.authority, n.seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), bad_ids[1]);
  expect_rejected(&n, hex, "wrong_chain");
  free(hex);
  hex = h_tx_hex(n.chain, &n.authority, 1, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), bad_ids[2]);
  expect_rejected(&n, hex, "stale_sequence");
  free(hex);
  hex = h_tx_hex(n.chain, &n.authority, n.seq++, 0x7001, ve_buf_slice(&p), bad_ids[3]);
  expect_rejected(&n, hex, "unknown_type");
  free(hex);
  hex = h_tx_hex(n.chain, &keys[500], 1, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), bad_ids[4]);
  expect_rejected(&n, hex, "no_permission"); /* a citizen cannot register anyone */
  free(hex);
  hex = h_tx_hex(n.chain, &keys[100], 1, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p), bad_ids[5]);
  expect_rejected(&n, hex, "revoked"); /* a revoked identity signs nothing */
  free(hex);
  hex = h_tx_hex(n.chain, &keys[0], 2, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p), bad_ids[6]);
  expect_rejected(&n, hex, "revoked"); /* nor does a rotated-away key */
  free(hex);
  hex = h_tx_hex(n.chain, &stranger, 1, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), bad_ids[7]);
  expect_rejected(&n, hex, "unknown_signer");
  free(hex);
  expect_rejected(&n, "zz", "malformed");
  /* Replay: registration 7 rebuilt byte for byte (Ed25519 is deterministic; it
   * used sequence 8) is refused as a duplicate of the committed one. */
  payload_register(&p, keys[7].pk, 7);
  uint8_t replay_id[32];
  hex = h_tx_hex(n.chain, &n.authority, 8, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), replay_id);
  assert_memory_equal(replay_id, tx_ids[7], 32);
  expect_rejected(&n, hex, "duplicate");
  free(hex);
  {
    char tid[65], path[128];
    ve_hex_encode(tid, tx_ids[7], 32);
    snprintf(path, sizeof path, "/v1/txs/%s", tid);
    json_t *j;
    assert_int_equal(h_get(&n, path, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "committed");
    json_decref(j);
  }
  /* Malformed JSON and an oversize body get 4xx; the node stays up. */
  {
    json_t *j;
    assert_int_equal(h_post(&n, "/v1/txs", json_pack("{s:i}", "tx", 5), &j), 400);
    json_decref(j);
    assert_int_equal(h_get(&n, "/health", NULL), 200);
  }
  uint8_t raw_id[32];
  check_raw_batches(&n, raw_id);
  assert_int_equal(h_wait_final(&n, &raw_id, 1), 1);
  /* The rejected ones are reported as rejected with the reason. */
  {
    char tid[65], path[128];
    ve_hex_encode(tid, bad_ids[4], 32);
    snprintf(path, sizeof path, "/v1/txs/%s", tid);
    json_t *j;
    assert_int_equal(h_get(&n, path, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "rejected");
    assert_string_equal(json_string_value(json_object_get(j, "error")), "no_permission");
    json_decref(j);
  }

  uint64_t height_before = h_height(&n);
  h_node_stop(&n);
  h_node_start(&n);
  assert_true(h_height(&n) >= height_before);

  /* Every committed fact survived the restart. */
  for (size_t i = 0; i < N_IDS; i++) {
    const uint8_t *pk = i < N_ROTATE ? rotated[i].pk : keys[i].pk;
    const char *status = (i >= 100 && i < 100 + N_REVOKE) ? "revoked" : "active";
    check_identity(&n, ids[i], pk, status);
  }
  assert_int_equal(h_wait_final(&n, tx_ids, N_IDS + N_ROTATE + N_REVOKE), N_IDS + N_ROTATE + N_REVOKE);
  /* Rejected transactions never entered the chain. */
  for (size_t i = 0; i < 8; i++) {
    char tid[65], path[128];
    ve_hex_encode(tid, bad_ids[i], 32);
    snprintf(path, sizeof path, "/v1/txs/%s", tid);
    json_t *j;
    int st = h_get(&n, path, &j);
    const char *s = j ? json_string_value(json_object_get(j, "status")) : NULL;
    assert_true(st == 404 || (s && strcmp(s, "committed") != 0));
    json_decref(j);
  }
  /* And a rotated key still cannot sign after the restart; the new one can. */
  payload_register(&p, stranger.pk, 1);
  hex = h_tx_hex(n.chain, &keys[1], 5, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p), NULL);
  expect_rejected(&n, hex, "revoked");
  free(hex);

  ve_buf_free(&p);
  h_node_stop(&n);
  h_node_cleanup(&n);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_identities_end_to_end)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
