/* proof_test.c — state proofs end to end: a bundle fetched from the real node
 * verifies offline with `veche verify` against the genesis alone, and any
 * tampering (value, key, presence, proof, header, certificate, height, chain, or
 * a different genesis) makes it fail with a reason. Absence is provable too, and
 * a proof about an older height keeps verifying after the state moved on, also
 * once a pruning node no longer serves that height. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>

#include "apps/identity/identity.h"
#include "base/err.h"
#include "harness.h"

static const char *g_veche;

static uint64_t submit_wait(h_node_t *n, const char *hex) {
  json_t *r;
  assert_int_equal(h_post(n, "/v1/txs", json_pack("{s:s}", "tx", hex), &r), 202);
  char path[128];
  snprintf(path, sizeof path, "/v1/txs/%s", json_string_value(json_object_get(r, "id")));
  json_decref(r);
  uint8_t id[32];
  ve_hex_decode(id, 32, path + 8);
  assert_int_equal(h_wait_final(n, (uint8_t(*)[32])id, 1), 1);
  json_t *j;
  assert_int_equal(h_get(n, path, &j), 200);
  uint64_t height = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
  return height;
}

/* Writes a tampered copy of bundle: field set to value (a JSON value, stolen). */
static void tamper(const char *src, const char *dst, const char *field, json_t *value) {
  json_t *j = json_load_file(src, 0, NULL);
  assert_non_null(j);
  json_object_set_new(j, field, value);
  assert_int_equal(json_dump_file(j, dst, 0), 0);
  json_decref(j);
}

/* Flips one hex digit at position pos of string field. */
static json_t *flipped(const char *bundle, const char *field, size_t pos) {
  json_t *j = json_load_file(bundle, 0, NULL);
  char *s = strdup(json_string_value(json_object_get(j, field)));
  json_decref(j);
  assert_true(strlen(s) > pos);
  s[pos] = s[pos] == '0' ? '1' : '0';
  json_t *r = json_string(s);
  free(s);
  return r;
}

static void expect_not_proven(h_node_t *n, const char *genesis, const char *bundle, const char *why) {
  char out[4096];
  int rc = h_veche(n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", bundle, NULL);
  if (rc != 1 || !strstr(out, "NOT PROVEN")) fail_msg("tampered (%s) bundle: exit %d: %s", why, rc, out);
}

/* After the identity's record changed: the bundle saved before (old) still
 * verifies offline, and a fresh one (written to fresh) verifies and shows
 * another value. */
static void old_and_new_verify(h_node_t *n, const char *genesis, const char *old, const char *fresh,
                               const char *idhex) {
  char out[8192];
  assert_int_equal(h_veche(n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", old, NULL), 0);
  assert_int_equal(h_veche(n, out, sizeof out, "proof", "identity", idhex, "--out", fresh, NULL), 0);
  assert_int_equal(h_veche(n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", fresh, NULL), 0);
  json_t *a = json_load_file(old, 0, NULL), *b = json_load_file(fresh, 0, NULL);
  assert_string_not_equal(json_string_value(json_object_get(a, "value")),
                          json_string_value(json_object_get(b, "value")));
  json_decref(a);
  json_decref(b);
}

static void test_proofs(void **state) {
  (void)state;
  h_node_t n;
  h_node_init(&n, g_veche);
  h_node_start(&n);
  char genesis[400], bundle[400], bad[400], other[400], out[8192];
  snprintf(genesis, sizeof genesis, "%s/net/genesis.json", n.dir);
  snprintf(bundle, sizeof bundle, "%s/b.json", n.dir);
  snprintf(bad, sizeof bad, "%s/bad.json", n.dir);
  snprintf(other, sizeof other, "%s/other", n.dir);

  vcrypto_keypair_t alice, alice2;
  h_seed_key(&alice, 7, 1);
  h_seed_key(&alice2, 7, 2);
  uint8_t id[32];
  identity_id_from_pk(id, alice.pk);
  char idhex[65];
  ve_hex_encode(idhex, id, 32);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  uint8_t digest[32] = {9};
  assert_int_equal(identity_payload_register(&p, alice.pk, digest, NULL, 0), 0);
  char *hex = h_tx_hex(n.chain, &n.authority, n.seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), NULL);
  uint64_t h_reg = submit_wait(&n, hex);
  free(hex);
  h_wait_height(&n, h_reg + 1, 10000);
  char hs[32];
  snprintf(hs, sizeof hs, "%llu", (unsigned long long)h_reg);

  /* Present: proven, offline, with the genesis only. */
  assert_int_equal(h_veche(&n, out, sizeof out, "proof", "identity", idhex, "--height", hs, "--out", bundle, NULL), 0);
  assert_int_equal(h_veche(&n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", bundle, NULL), 0);
  assert_non_null(strstr(out, "PROVEN"));
  assert_non_null(strstr(out, "has this value"));

  /* Every kind of tampering fails, with a reason. */
  tamper(bundle, bad, "value", flipped(bundle, "value", 10));
  expect_not_proven(&n, genesis, bad, "value");
  tamper(bundle, bad, "key", flipped(bundle, "key", 20));
  expect_not_proven(&n, genesis, bad, "key");
  tamper(bundle, bad, "present", json_false());
  expect_not_proven(&n, genesis, bad, "present");
  tamper(bundle, bad, "proof", flipped(bundle, "proof", 40));
  expect_not_proven(&n, genesis, bad, "proof");
  {
    /* The header's state root field (a flip inside it) and the header's hash. */
    json_t *j = json_load_file(bundle, 0, NULL);
    size_t hl = strlen(json_string_value(json_object_get(j, "header")));
    json_decref(j);
    tamper(bundle, bad, "header", flipped(bundle, "header", hl - 200));
    expect_not_proven(&n, genesis, bad, "header");
  }
  tamper(bundle, bad, "cert", flipped(bundle, "cert", 150));
  expect_not_proven(&n, genesis, bad, "cert");
  tamper(bundle, bad, "height", json_integer((json_int_t)h_reg + 1));
  expect_not_proven(&n, genesis, bad, "height");
  tamper(bundle, bad, "version", json_integer(99));
  expect_not_proven(&n, genesis, bad, "version");
  /* Another chain's genesis (a different validator) does not trust this bundle. */
  assert_int_equal(h_veche(&n, out, sizeof out, "init", "--dir", other, "--chain-id", "veche-it-1", NULL), 0);
  char other_genesis[500];
  snprintf(other_genesis, sizeof other_genesis, "%s/genesis.json", other);
  expect_not_proven(&n, other_genesis, bundle, "genesis");

  /* Absence of an unknown identity is provable. */
  char unknown[65];
  memset(unknown, 'a', 64);
  unknown[64] = 0;
  assert_int_equal(h_veche(&n, out, sizeof out, "proof", "identity", unknown, "--out", bad, NULL), 0);
  assert_int_equal(h_veche(&n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", bad, NULL), 0);
  assert_non_null(strstr(out, "is absent"));
  /* ...and claiming the registered identity absent is not. */
  tamper(bundle, bad, "present", json_false());
  json_t *j = json_load_file(bad, 0, NULL);
  json_object_set_new(j, "value", json_null());
  json_dump_file(j, bad, 0);
  json_decref(j);
  expect_not_proven(&n, genesis, bad, "claimed absence");

  /* The state moves on (key rotation); the old bundle still verifies, and a
   * new one shows the new key. */
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_rotate(&p, ve_slice(n.chain, strlen(n.chain)), id, &alice2), 0);
  hex = h_tx_hex(n.chain, &alice, 1, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p), NULL);
  uint64_t h_rot = submit_wait(&n, hex);
  free(hex);
  h_wait_height(&n, h_rot + 1, 10000);
  old_and_new_verify(&n, genesis, bundle, bad, idhex);

  /* The node refuses a height whose state is not certified yet. */
  snprintf(hs, sizeof hs, "%llu", (unsigned long long)h_height(&n) + 5);
  assert_int_equal(h_veche(&n, out, sizeof out, "proof", "identity", idhex, "--height", hs, NULL), 1);
  assert_non_null(strstr(out, "too_early"));

  ve_buf_free(&p);
  h_node_stop(&n);
  h_node_cleanup(&n);
}

/* GET path: the status, and the body's "error" string copied to err. */
static int get_error(h_node_t *n, const char *path, char *err, size_t cap) {
  json_t *j = NULL;
  int st = h_get(n, path, &j);
  const char *e = json_string_value(json_object_get(j, "error"));
  snprintf(err, cap, "%s", e ? e : "");
  json_decref(j);
  return st;
}

/* /v1/status: state_oldest_height, state_keep_blocks and height, one snapshot. */
static void state_window(h_node_t *n, uint64_t *oldest, uint64_t *keep, uint64_t *height) {
  json_t *j;
  assert_int_equal(h_get(n, "/v1/status", &j), 200);
  *oldest = (uint64_t)json_integer_value(json_object_get(j, "state_oldest_height"));
  *keep = (uint64_t)json_integer_value(json_object_get(j, "state_keep_blocks"));
  *height = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
}

/* A node that keeps only the latest KEEP heights' state (config
 * state_keep_blocks): proofs inside the window are served and verify; below it
 * the answer is 410 "pruned", from the API and the CLI; a bundle fetched while
 * its height was kept still verifies offline; the node really deleted entries;
 * and after kill -9 it restarts and goes on pruning at the same window. */
#define KEEP 16
static void test_pruning_node(void **state) {
  (void)state;
  h_node_t n;
  h_node_init(&n, g_veche);
  h_config_set(&n, "state_keep_blocks", json_integer(KEEP));
  h_config_set(&n, "empty_block_ms", json_integer(50));
  h_node_start(&n);
  char genesis[400], bundle[400], now[400], out[8192], hs[32], path[256], err[64];
  snprintf(genesis, sizeof genesis, "%s/net/genesis.json", n.dir);
  snprintf(bundle, sizeof bundle, "%s/old.json", n.dir);
  snprintf(now, sizeof now, "%s/now.json", n.dir);

  vcrypto_keypair_t bob, bob2;
  h_seed_key(&bob, 8, 1);
  h_seed_key(&bob2, 8, 2);
  uint8_t id[32], digest[32] = {7};
  identity_id_from_pk(id, bob.pk);
  char idhex[65];
  ve_hex_encode(idhex, id, 32);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_register(&p, bob.pk, digest, NULL, 0), 0);
  char *hex = h_tx_hex(n.chain, &n.authority, n.seq++, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p), NULL);
  uint64_t h_reg = submit_wait(&n, hex);
  free(hex);
  h_wait_height(&n, h_reg + 1, 10000);
  snprintf(hs, sizeof hs, "%llu", (unsigned long long)h_reg);
  /* Fetched while h_reg is inside the window. */
  assert_int_equal(h_veche(&n, out, sizeof out, "proof", "identity", idhex, "--height", hs, "--out", bundle, NULL), 0);

  /* Bob's record changes, so the tree of h_reg differs from later ones. */
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_rotate(&p, ve_slice(n.chain, strlen(n.chain)), id, &bob2), 0);
  hex = h_tx_hex(n.chain, &bob, 1, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p), NULL);
  uint64_t h_rot = submit_wait(&n, hex);
  free(hex);
  h_wait_height(&n, h_rot + KEEP + 2, 30000);

  /* Below the window: 410 pruned, from the API and through the CLI. */
  snprintf(path, sizeof path, "/v1/proofs/identities/%s?height=%s", idhex, hs);
  assert_int_equal(get_error(&n, path, err, sizeof err), 410);
  assert_string_equal(err, "pruned");
  int rc = h_veche(&n, out, sizeof out, "proof", "identity", idhex, "--height", hs, NULL);
  if (rc == 0 || !strstr(out, "pruned")) fail_msg("proof below the window: exit %d: %s", rc, out);
  uint64_t oldest, keep, height;
  state_window(&n, &oldest, &keep, &height);
  assert_int_equal(keep, KEEP);
  assert_int_equal(oldest, height + 1 - KEEP); /* the window, exactly */
  assert_true(oldest > h_rot);
  /* The oldest kept height is still served; the one before it is not. */
  snprintf(path, sizeof path, "/v1/proofs/identities/%s?height=%llu", idhex, (unsigned long long)oldest - 1);
  assert_int_equal(get_error(&n, path, err, sizeof err), 410);
  snprintf(path, sizeof path, "/v1/proofs/identities/%s?height=%llu", idhex, (unsigned long long)oldest + 1);
  assert_int_equal(get_error(&n, path, err, sizeof err), 200);
  assert_true(h_metric(&n, "veche_state_pruned_entries_total") > 0);

  /* The bundle saved earlier needs no node: it still verifies. So does a
   * fresh one, which shows the rotated key. */
  old_and_new_verify(&n, genesis, bundle, now, idhex);

  /* kill -9 in the middle of it: the node restarts at its last block and
   * keeps pruning at the same window. */
  h_node_kill9(&n);
  h_node_start(&n);
  uint64_t back = h_height(&n);
  assert_true(back >= height);
  h_wait_height(&n, back + 5, 20000);
  state_window(&n, &oldest, &keep, &height);
  assert_int_equal(oldest, height + 1 - KEEP);
  assert_int_equal(h_veche(&n, out, sizeof out, "proof", "identity", idhex, "--out", now, NULL), 0);
  assert_int_equal(h_veche(&n, out, sizeof out, "verify", "--genesis", genesis, "--bundle", now, NULL), 0);

  ve_buf_free(&p);
  h_node_stop(&n);
  h_node_cleanup(&n);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_proofs), cmocka_unit_test(test_pruning_node)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
