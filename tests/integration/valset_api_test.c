/* valset_api_test.c — the operator's and citizen's view of validator-set
 * changes on one real validator: GET /v1/valset (docs/api.md) and `veche
 * valset show|approve|change` (docs/operations.md, "Adding or removing a
 * validator").
 *
 * One node started with `veche init` (one validator, power 10), in order:
 *   api      GET /v1/valset: epoch 0 from height 1, the genesis validator,
 *            its hash and power; ?height=H for 1 and the tip + 2; a height
 *            further ahead is 404 not_found; 0, junk, signs, leading zeros
 *            and overflow are 400 JSON errors; `veche valset show` prints
 *            the same, with --height too, and refuses what the node refuses;
 *   approve  offline (--chain-id --epoch --current, with genesis.json and
 *            with the output of `show` as the current set) and from the
 *            node: the same approval, whose signature verifies with
 *            vcrypto_verify over valset_approval_msg; a key outside the set,
 *            half the offline options, bad set files (power 0, 129 entries,
 *            over the size bound, a duplicate key) and an existing --out are
 *            refused, non-zero with a message;
 *   change   approvals that do not match (epoch, new set, tampered
 *            signature) are refused before anything is sent; the matching one
 *            commits at height hc: the latest set is epoch 1 from hc + 2,
 *            height hc + 1 is still governed by epoch 0 and hc + 2 by epoch 1;
 *            the new validator has power 1 of 11, so the chain keeps
 *            committing without it; the same approval again is stale.
 * Every wait is bounded; the node must exit cleanly on SIGTERM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "apps/valset/valset.h"
#include "base/err.h"
#include "harness.h"

#define OUT_BYTES 65536

static const char *g_veche;
static h_node_t g_n;
static vcrypto_keypair_t g_val;        /* the genesis validator (validator.key) */
static char g_val_hex[65], g_new_hex[65];
static char g_genesis[400], g_valkey[400], g_newkey[400], g_newset[400], g_cur[400], g_appr[400];
static char g_out[OUT_BYTES];

static void path_in(char *out, const char *name) { snprintf(out, 400, "%s/%s", g_n.dir, name); }

static int setup(void **state) {
  (void)state;
  h_node_init(&g_n, g_veche);
  h_node_start(&g_n);
  snprintf(g_genesis, sizeof g_genesis, "%s/net/genesis.json", g_n.dir);
  snprintf(g_valkey, sizeof g_valkey, "%s/net/validator.key", g_n.dir);
  assert_int_equal(vcrypto_keyfile_read(g_valkey, &g_val), 0);
  ve_hex_encode(g_val_hex, g_val.pk, 32);
  path_in(g_newkey, "new.key");
  path_in(g_newset, "new.json");
  path_in(g_cur, "cur.json");
  path_in(g_appr, "a.json");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  h_node_stop(&g_n);
  h_log_check(&g_n);
  h_node_cleanup(&g_n);
  vcrypto_keypair_wipe(&g_val);
  return 0;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_true(fputs(text, f) >= 0);
  assert_int_equal(fclose(f), 0);
}

/* The genesis set {validator, 10}, or it plus the new key with power 1. */
static void set_of(cons_valset_t *vs, bool with_new) {
  memset(vs, 0, sizeof *vs);
  vs->count = with_new ? 2 : 1;
  memcpy(vs->v[0].pk, g_val.pk, 32);
  vs->v[0].power = 10;
  if (with_new) {
    assert_int_equal(ve_hex_decode(vs->v[1].pk, 32, g_new_hex), 0);
    vs->v[1].power = 1;
  }
}

static void hash_hex(char out[65], const cons_valset_t *vs) {
  uint8_t h[32];
  cons_valset_hash(h, vs);
  ve_hex_encode(out, h, 32);
}

static uint64_t ju(const json_t *j, const char *k) {
  const json_t *v = json_object_get(j, k);
  if (!json_is_integer(v)) fail_msg("no integer \"%s\"", k);
  return (uint64_t)json_integer_value(v);
}

static const char *js(const json_t *j, const char *k) {
  const char *s = json_string_value(json_object_get(j, k));
  return s ? s : "";
}

/* An answer of GET /v1/valset names exactly vs, at epoch and from. */
static void expect_set(const json_t *j, const cons_valset_t *vs, uint64_t epoch, uint64_t from) {
  char hex[65];
  hash_hex(hex, vs);
  assert_int_equal(ju(j, "epoch"), epoch);
  assert_int_equal(ju(j, "from_height"), from);
  assert_string_equal(js(j, "hash"), hex);
  uint64_t total = 0;
  const json_t *list = json_object_get(j, "validators");
  assert_int_equal(json_array_size(list), vs->count);
  for (uint32_t i = 0; i < vs->count; i++) {
    const json_t *v = json_array_get(list, i);
    ve_hex_encode(hex, vs->v[i].pk, 32);
    assert_int_equal(ju(v, "index"), i);
    assert_string_equal(js(v, "pk"), hex);
    assert_int_equal(ju(v, "power"), vs->v[i].power);
    total += vs->v[i].power;
  }
  assert_int_equal(ju(j, "total_power"), total);
}

/* GET path must be status with a JSON error code err. */
static void expect_error(const char *path, int status, const char *err) {
  json_t *j = NULL;
  int st = h_get(&g_n, path, &j);
  if (st != status || !j || strcmp(js(j, "error"), err))
    fail_msg("GET %s: %d %s, want %d %s", path, st, j ? js(j, "error") : "(no JSON)", status, err);
  assert_true(strlen(js(j, "message")) > 0);
  json_decref(j);
}

static json_t *get_set(const char *path) {
  json_t *j = NULL;
  int st = h_get(&g_n, path, &j);
  if (st != 200 || !j) fail_msg("GET %s: %d", path, st);
  return j;
}

/* Fails (naming the line) unless veche exited with want and, if says is not
 * NULL, printed it. */
static void veche_expect(int line, int st, int want, const char *says) {
  if (st != want || (says && !strstr(g_out, says)))
    fail_msg("line %d: exit %d, want %d with \"%s\"; output:\n%s", line, st, want, says ? says : "", g_out);
}
/* Runs veche ARGS... and requires exit status want and that text (NULL: any). */
#define VECHE(want, says, ...) \
  veche_expect(__LINE__, h_veche(&g_n, g_out, sizeof g_out, __VA_ARGS__, (char *)NULL), (want), (says))

/* ---- the API and `veche valset show` ---- */

static void test_api(void **state) {
  (void)state;
  h_wait_height(&g_n, 1, H_COMMIT_TIMEOUT_MS);
  cons_valset_t gen;
  set_of(&gen, false);
  json_t *j = get_set("/v1/valset");
  expect_set(j, &gen, 0, 1);
  assert_true(ju(j, "height") >= 1);
  assert_null(json_object_get(j, "height_asked"));
  json_decref(j);
  j = get_set("/v1/valset?height=1");
  expect_set(j, &gen, 0, 1);
  assert_int_equal(ju(j, "height_asked"), 1);
  uint64_t tip = ju(j, "height");
  json_decref(j);
  /* The sets of the next two heights are decided; later ones are not. The
   * tip only grows, so tip + 2 stays within and tip + 1000 stays beyond for a
   * while (a block per second here). */
  char path[128];
  snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)(tip + 2));
  j = get_set(path);
  expect_set(j, &gen, 0, 1);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)(tip + 1000));
  expect_error(path, 404, "not_found");
  expect_error("/v1/valset?height=0", 400, "invalid_argument");
  expect_error("/v1/valset?height=abc", 400, "malformed");
  expect_error("/v1/valset?height=-1", 400, "malformed");
  expect_error("/v1/valset?height=01", 400, "malformed");
  expect_error("/v1/valset?height=", 400, "malformed");
  expect_error("/v1/valset?height=99999999999999999999", 400, "invalid_argument");
  expect_error("/v1/valset?height=1099511627776", 400, "invalid_argument"); /* CONS_HEIGHT_MAX + 1 */

  /* `veche valset show`: the same JSON, also a set file for --current. */
  VECHE(0, "\"validators\"", "valset", "show");
  j = json_loads(g_out, 0, NULL);
  assert_non_null(j);
  expect_set(j, &gen, 0, 1);
  json_decref(j);
  write_text(g_cur, g_out);
  VECHE(0, "\"height_asked\": 1", "valset", "show", "--height", "1");
  VECHE(1, "invalid_argument", "valset", "show", "--height", "0");
  VECHE(1, "not_found", "valset", "show", "--height", "1000000000");
  VECHE(1, "must be a decimal number", "valset", "show", "--height", "-3");
  VECHE(1, "cannot reach node", "valset", "show", "--node", "127.0.0.1:1");
  /* --help everywhere, on stdout with status 0; a bad subcommand is 2. */
  static const char *subs[] = {"show", "approve", "change"};
  for (size_t i = 0; i < 3; i++) VECHE(0, "usage: veche valset", "valset", subs[i], "--help");
  VECHE(0, "usage: veche valset COMMAND", "valset", "--help");
  VECHE(2, "unknown command", "valset", "frobnicate");
  VECHE(0, "valset", "--help");
}

/* ---- `veche valset approve` ---- */

static void test_approve(void **state) {
  (void)state;
  VECHE(0, "\"pk\"", "keys", "gen", "--out", g_newkey);
  const char *p = strstr(g_out, "\"pk\": \"");
  assert_non_null(p);
  memcpy(g_new_hex, p + 7, 64);
  g_new_hex[64] = 0;
  char text[1024];
  snprintf(text, sizeof text,
           "{\"validators\": [\n  {\"pk\": \"%s\", \"power\": 10, \"name\": \"validator-0\"},\n"
           "  {\"pk\": \"%s\", \"power\": 1, \"name\": \"new authority\"}\n]}\n",
           g_val_hex, g_new_hex);
  write_text(g_newset, text);
  cons_valset_t cur, next;
  set_of(&cur, false);
  set_of(&next, true);

  /* Offline, against genesis.json: the approval verifies. */
  VECHE(0, "written to", "valset", "approve", "--key", g_valkey, "--set", g_newset, "--chain-id", g_n.chain,
        "--epoch", "0", "--current", g_genesis, "--out", g_appr);
  json_t *a = json_load_file(g_appr, JSON_REJECT_DUPLICATES, NULL);
  assert_non_null(a);
  assert_int_equal(json_object_size(a), 6);
  char ch[65], nh[65];
  hash_hex(ch, &cur);
  hash_hex(nh, &next);
  assert_int_equal(ju(a, "epoch"), 1);
  assert_int_equal(ju(a, "index"), 0);
  assert_string_equal(js(a, "pk"), g_val_hex);
  assert_string_equal(js(a, "current_hash"), ch);
  assert_string_equal(js(a, "new_hash"), nh);
  uint8_t sig[64], hc[32], hn[32], msg[VALSET_APPROVAL_MSG_BYTES_MAX];
  assert_int_equal(ve_hex_decode(sig, 64, js(a, "sig")), 0);
  cons_valset_hash(hc, &cur);
  cons_valset_hash(hn, &next);
  size_t len = valset_approval_msg(msg, g_n.chain, 1, hc, hn);
  assert_int_equal(vcrypto_verify(sig, g_val.pk, VALSET_TAG_APPROVAL, msg, len), 0);
  assert_int_not_equal(vcrypto_verify(sig, g_val.pk, VALSET_TAG_APPROVAL, msg, len - 1), 0);
  /* The same approval offline from `show`'s output, and from the node. */
  VECHE(0, NULL, "valset", "approve", "--key", g_valkey, "--set", g_newset, "--chain-id", g_n.chain, "--epoch", "0",
        "--current", g_cur);
  json_t *b = json_loads(g_out, 0, NULL);
  assert_true(b && json_equal(a, b));
  json_decref(b);
  VECHE(0, NULL, "valset", "approve", "--key", g_valkey, "--set", g_newset);
  b = json_loads(g_out, 0, NULL);
  assert_true(b && json_equal(a, b));
  json_decref(b);
  json_decref(a);

  /* Refusals: non-zero, with the reason. */
  VECHE(1, "refusing to overwrite", "valset", "approve", "--key", g_valkey, "--set", g_newset, "--out", g_appr);
  VECHE(1, "not in the current validator set", "valset", "approve", "--key", g_newkey, "--set", g_newset);
  VECHE(1, "not in the current validator set", "valset", "approve", "--key", g_newkey, "--set", g_newset,
        "--chain-id", g_n.chain, "--epoch", "0", "--current", g_genesis);
  VECHE(1, "give all of --chain-id, --epoch and --current", "valset", "approve", "--key", g_valkey, "--set",
        g_newset, "--chain-id", g_n.chain);
  VECHE(1, "--set FILE is required", "valset", "approve", "--key", g_valkey);
  VECHE(1, "cannot read key", "valset", "approve", "--key", "/nonexistent/validator.key", "--set", g_newset);
  char bad[400];
  path_in(bad, "bad.json");
  snprintf(text, sizeof text, "{\"validators\": [{\"pk\": \"%s\", \"power\": 0}]}", g_new_hex);
  write_text(bad, text);
  VECHE(1, "validators[0].power", "valset", "approve", "--key", g_valkey, "--set", bad);
  snprintf(text, sizeof text, "{\"validators\": [{\"pk\": \"%s\", \"power\": 1}, {\"pk\": \"%s\", \"power\": 2}]}",
           g_new_hex, g_new_hex);
  write_text(bad, text);
  VECHE(1, "has the key of validators[0]", "valset", "approve", "--key", g_valkey, "--set", bad);
  /* 129 entries (the count is refused, whatever the keys), then a file over 256 KiB. */
  FILE *f = fopen(bad, "w");
  assert_non_null(f);
  fputs("{\"validators\": [", f);
  for (int i = 0; i <= VE_VALIDATORS_MAX; i++) fprintf(f, "%s{\"pk\": \"%s\", \"power\": 1}", i ? ", " : "", g_new_hex);
  fputs("]}", f);
  assert_int_equal(fclose(f), 0);
  VECHE(1, "129 validators", "valset", "approve", "--key", g_valkey, "--set", bad);
  f = fopen(bad, "w");
  assert_non_null(f);
  fprintf(f, "{\"validators\": [{\"pk\": \"%s\", \"power\": 1}]}", g_new_hex);
  for (int i = 0; i < 300 * 1024; i++) fputc(' ', f);
  assert_int_equal(fclose(f), 0);
  VECHE(1, "larger than", "valset", "approve", "--key", g_valkey, "--set", bad);
}

/* ---- `veche valset change` ---- */

/* Writes a copy of the approval with key set to value (stolen). */
static void approval_altered(const char *dst, const char *key, json_t *value) {
  json_t *a = json_load_file(g_appr, 0, NULL);
  assert_non_null(a);
  json_object_set_new(a, key, value);
  assert_int_equal(json_dump_file(a, dst, 0), 0);
  json_decref(a);
}

static void test_change(void **state) {
  (void)state;
  char akey[400], other[400], text[1024];
  snprintf(akey, sizeof akey, "%s/net/authority.key", g_n.dir);
  path_in(other, "other.json");
  /* Approvals that do not fit are refused before anything is submitted. */
  approval_altered(other, "epoch", json_integer(2));
  VECHE(1, "the next change makes epoch 1", "valset", "change", "--key", akey, "--set", g_newset, "--approval", other);
  json_t *a = json_load_file(g_appr, 0, NULL);
  char sig[129];
  snprintf(sig, sizeof sig, "%s", js(a, "sig"));
  json_decref(a);
  sig[10] = sig[10] == '0' ? '1' : '0';
  approval_altered(other, "sig", json_string(sig));
  VECHE(1, "does not verify", "valset", "change", "--key", akey, "--set", g_newset, "--approval", other);
  char set2[400];
  path_in(set2, "new2.json");
  snprintf(text, sizeof text, "{\"validators\": [{\"pk\": \"%s\", \"power\": 10}, {\"pk\": \"%s\", \"power\": 2}]}",
           g_val_hex, g_new_hex);
  write_text(set2, text);
  VECHE(1, "same set file", "valset", "change", "--key", akey, "--set", set2, "--approval", g_appr);
  VECHE(1, "two approvals of validator 0", "valset", "change", "--key", akey, "--set", g_newset, "--approval",
        g_appr, "--approval", g_appr);
  VECHE(1, "at least one --approval", "valset", "change", "--key", akey, "--set", g_newset);
  /* A key with no identity cannot sign the transaction. */
  VECHE(1, "cannot sign", "valset", "change", "--key", g_newkey, "--set", g_newset, "--approval", g_appr);

  /* The real one, signed by the founding authority (any active identity). */
  VECHE(0, "\"status\": \"committed\"", "valset", "change", "--key", akey, "--set", g_newset, "--approval", g_appr,
        "--wait");
  const char *p = strstr(g_out, "\"tx\": \"");
  assert_non_null(p);
  char path[128];
  snprintf(path, sizeof path, "/v1/txs/%.64s", p + 7);
  json_t *t = get_set(path);
  uint64_t hc = ju(t, "height");
  json_decref(t);
  cons_valset_t gen, next;
  set_of(&gen, false);
  set_of(&next, true);
  /* Latest: epoch 1, governing from hc + 2; hc + 1 is still the genesis set's. */
  json_t *j = get_set("/v1/valset");
  expect_set(j, &next, 1, hc + 2);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)(hc + 1));
  j = get_set(path);
  expect_set(j, &gen, 0, 1);
  json_decref(j);
  snprintf(path, sizeof path, "/v1/valset?height=%llu", (unsigned long long)(hc + 2));
  j = get_set(path);
  expect_set(j, &next, 1, hc + 2);
  json_decref(j);
  j = get_set("/v1/valset?height=1");
  expect_set(j, &gen, 0, 1);
  json_decref(j);
  /* The new validator (power 1 of 11) is not running; the chain goes on. */
  h_wait_height(&g_n, hc + 5, H_COMMIT_TIMEOUT_MS);
  j = get_set(path);
  expect_set(j, &next, 1, hc + 2);
  json_decref(j);
  /* The approval was for epoch 1; it cannot make another change. */
  VECHE(1, "changed since it was signed", "valset", "change", "--key", akey, "--set", g_newset, "--approval", g_appr);
  VECHE(0, "\"epoch\": 1", "valset", "show");
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_api), cmocka_unit_test(test_approve),
                                     cmocka_unit_test(test_change)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
