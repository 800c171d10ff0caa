/* cli_upgrade_file_test.c — `veche upgrade`'s approvals
 * (src/cli/cmd_upgrade_file.c, compiled into this test: the CLI is an
 * executable, not a library).
 *
 * Arguments: protocol and height 0 or beyond the ledger's bounds refused.
 * Approvals: made, written as JSON, read back to the same bytes; the
 * signature verifies with vcrypto_verify over upgrade_approval_msg; each way
 * a stale or foreign approval differs is refused with its own code and
 * reason; the JSON is read strictly, each bad field named. The decision:
 * approvals sorted by index, duplicates refused, the power summed, the
 * payload decodes to what was put in. Keys come from fixed seeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/err.h"
#include "cli/cmd_upgrade_int.h"

#define CHAIN "veche-test-1"

static char g_dir[64];

static int setup(void **state) {
  (void)state;
  assert_int_equal(vcrypto_init(), 0);
  snprintf(g_dir, sizeof g_dir, "/tmp/veche-upf-XXXXXX");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
  return system(cmd);
}

static void key(vcrypto_keypair_t *kp, uint8_t i) {
  uint8_t seed[VCRYPTO_SEED_BYTES];
  memset(seed, 0x50 + i, sizeof seed);
  vcrypto_keypair_from_seed(kp, seed);
}

/* A set of keys 0..n-1, power i + 1 each. */
static void set_make(cons_valset_t *vs, uint32_t n) {
  memset(vs, 0, sizeof *vs);
  vs->count = n;
  for (uint32_t i = 0; i < n; i++) {
    vcrypto_keypair_t kp;
    key(&kp, (uint8_t)i);
    memcpy(vs->v[i].pk, kp.pk, 32);
    vs->v[i].power = i + 1;
  }
}

/* Validator i of set's approval of protocol 2 from height 100, decision 3. */
static void approval(upc_approval_t *a, const cons_valset_t *set, uint8_t i) {
  vcrypto_keypair_t kp;
  key(&kp, i);
  char err[256] = "";
  int rc = upc_approval_make(a, &kp, CHAIN, 3, 2, 100, set, err, sizeof err);
  if (rc) fail_msg("approval of validator %u: %d %s", i, rc, err);
  vcrypto_keypair_wipe(&kp);
}

static void write_file(const char *name, const char *text, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", g_dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_true(fputs(text, f) >= 0);
  assert_int_equal(fclose(f), 0);
}

/* ---- arguments ---- */

static void test_args(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(upc_decision_args_check(1, 1, err, sizeof err), 0);
  assert_int_equal(upc_decision_args_check(UPGRADE_PROTOCOL_MAX, UPGRADE_HEIGHT_MAX, err, sizeof err), 0);
  static const struct {
    uint64_t protocol, from;
    const char *says;
  } cases[] = {
      {0, 10, "--protocol"},
      {(uint64_t)UPGRADE_PROTOCOL_MAX + 1, 10, "--protocol"},
      {2, 0, "--from-height"},
      {2, UPGRADE_HEIGHT_MAX + 1, "--from-height"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    err[0] = 0;
    int rc = upc_decision_args_check(cases[i].protocol, cases[i].from, err, sizeof err);
    if (rc != VE_ERR_INVALID || !strstr(err, cases[i].says)) fail_msg("case %zu: %d \"%s\"", i, rc, err);
  }
  /* Making an approval refuses them too, before signing anything. */
  cons_valset_t set;
  set_make(&set, 2);
  vcrypto_keypair_t kp;
  key(&kp, 0);
  upc_approval_t a;
  assert_int_equal(upc_approval_make(&a, &kp, CHAIN, 1, 0, 100, &set, err, sizeof err), VE_ERR_INVALID);
  assert_int_equal(upc_approval_make(&a, &kp, CHAIN, 1, 2, 0, &set, err, sizeof err), VE_ERR_INVALID);
  assert_int_equal(upc_approval_make(&a, &kp, CHAIN, 0, 2, 100, &set, err, sizeof err), VE_ERR_INVALID);
  assert_non_null(strstr(err, "--decision"));
  vcrypto_keypair_wipe(&kp);
}

/* ---- approvals ---- */

static void test_approval_round_trip(void **state) {
  (void)state;
  cons_valset_t set;
  set_make(&set, 3);
  upc_approval_t a, b;
  approval(&a, &set, 2);
  vcrypto_keypair_t kp;
  key(&kp, 2);
  assert_int_equal(a.decision, 3);
  assert_int_equal(a.protocol, 2);
  assert_int_equal(a.from_height, 100);
  assert_int_equal(a.index, 2);
  assert_memory_equal(a.pk, kp.pk, 32);
  /* The signature is upgrade.h's: tag and message of the app. */
  uint8_t h[32], msg[UPGRADE_APPROVAL_MSG_BYTES_MAX];
  cons_valset_hash(h, &set);
  assert_memory_equal(a.set_hash, h, 32);
  size_t len = upgrade_approval_msg(msg, CHAIN, 3, 2, 100, h);
  assert_int_equal(vcrypto_verify(a.sig, kp.pk, UPGRADE_TAG_APPROVAL, msg, len), 0);
  /* Through the JSON text and a file, to the same bytes. */
  json_t *j = upc_approval_to_json(&a);
  char *text = json_dumps(j, JSON_PRESERVE_ORDER);
  json_decref(j);
  assert_non_null(strstr(text, "{\"decision\": 3, \"protocol\": 2, \"from_height\": 100, \"set_hash\": \""));
  char path[128], err[512];
  write_file("a.json", text, path, sizeof path);
  free(text);
  assert_int_equal(upc_approval_load(path, &b, err, sizeof err), 0);
  assert_memory_equal(&a, &b, sizeof a);
  assert_int_equal(upc_approval_check(&b, CHAIN, 3, 2, 100, &set, err, sizeof err), 0);
  /* The largest values survive the trip too. */
  b.decision = INT64_MAX, b.protocol = UPGRADE_PROTOCOL_MAX, b.from_height = UPGRADE_HEIGHT_MAX;
  j = upc_approval_to_json(&b);
  assert_int_equal(upc_approval_from_json(j, &a, err, sizeof err), 0);
  json_decref(j);
  assert_memory_equal(&a, &b, sizeof a);
  /* A key outside the set makes none. */
  vcrypto_keypair_t out;
  key(&out, 3);
  assert_int_equal(upc_approval_make(&b, &out, CHAIN, 3, 2, 100, &set, err, sizeof err), VE_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "not a validator of the approving set"));
  /* Errors name the file; a file that is not JSON, or absent, is refused. */
  write_file("bad.json", "{\"decision\": 3}", path, sizeof path);
  assert_int_equal(upc_approval_load(path, &b, err, sizeof err), VE_ERR_MALFORMED);
  assert_non_null(strstr(err, "bad.json: \"protocol\""));
  write_file("cut.json", "{\"decision\": ", path, sizeof path);
  assert_int_equal(upc_approval_load(path, &b, err, sizeof err), VE_ERR_MALFORMED);
  snprintf(path, sizeof path, "%s/absent.json", g_dir);
  assert_int_equal(upc_approval_load(path, &b, err, sizeof err), VE_ERR_IO);
  vcrypto_keypair_wipe(&kp);
}

static void test_approval_mismatch(void **state) {
  (void)state;
  cons_valset_t set, other;
  set_make(&set, 3);
  set_make(&other, 2);
  upc_approval_t a, b;
  approval(&a, &set, 1);
  char err[512];
  static const struct {
    uint64_t decision, protocol, from;
    int rc;
    const char *says;
  } cases[] = {
      {4, 2, 100, VE_ERR_STATE, "another upgrade was decided since"},
      {2, 2, 100, VE_ERR_STATE, "later chain"},
      {3, 3, 100, VE_ERR_INVALID, "approves protocol 2, not 3"},
      {3, 2, 101, VE_ERR_INVALID, "from height 100, not 101"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    err[0] = 0;
    int rc = upc_approval_check(&a, CHAIN, cases[i].decision, cases[i].protocol, cases[i].from, &set, err, sizeof err);
    if (rc != cases[i].rc || !strstr(err, cases[i].says))
      fail_msg("case %zu: %d \"%s\", want %d \"%s\"", i, rc, err, cases[i].rc, cases[i].says);
  }
  /* Another approving set (the set changed since). */
  assert_int_equal(upc_approval_check(&a, CHAIN, 3, 2, 100, &other, err, sizeof err), VE_ERR_STATE);
  assert_non_null(strstr(err, "the set changed"));
  /* Index and key must agree with the set: index out of range, another's key. */
  b = a, b.index = 3;
  assert_int_equal(upc_approval_check(&b, CHAIN, 3, 2, 100, &set, err, sizeof err), VE_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "not validator 3"));
  /* Beyond count even where the array still holds that key (a set that shrank). */
  cons_valset_t four, shrunk;
  set_make(&four, 4);
  set_make(&shrunk, 4);
  shrunk.count = 3;
  approval(&b, &four, 3);
  cons_valset_hash(b.set_hash, &shrunk);
  assert_int_equal(upc_approval_check(&b, CHAIN, 3, 2, 100, &shrunk, err, sizeof err), VE_ERR_NOT_FOUND);
  b = a, b.index = 0;
  assert_int_equal(upc_approval_check(&b, CHAIN, 3, 2, 100, &set, err, sizeof err), VE_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "not validator 0"));
  /* Another chain, a flipped bit. */
  assert_int_equal(upc_approval_check(&a, "veche-other-1", 3, 2, 100, &set, err, sizeof err), VE_ERR_BAD_SIG);
  assert_non_null(strstr(err, "veche-other-1"));
  b = a, b.sig[17] ^= 4;
  assert_int_equal(upc_approval_check(&b, CHAIN, 3, 2, 100, &set, err, sizeof err), VE_ERR_BAD_SIG);
  /* A valset approval's tag is not an upgrade's: the same key, the same
   * numbers in another field, still refused. */
  b = a;
  vcrypto_keypair_t kp;
  key(&kp, 1);
  uint8_t msg[UPGRADE_APPROVAL_MSG_BYTES_MAX];
  size_t len = upgrade_approval_msg(msg, CHAIN, 3, 2, 100, a.set_hash);
  vcrypto_sign(b.sig, &kp, VALSET_TAG_APPROVAL, msg, len);
  assert_int_equal(upc_approval_check(&b, CHAIN, 3, 2, 100, &set, err, sizeof err), VE_ERR_BAD_SIG);
  vcrypto_keypair_wipe(&kp);
}

static void test_approval_json_strict(void **state) {
  (void)state;
  cons_valset_t set;
  set_make(&set, 2);
  upc_approval_t a, b;
  approval(&a, &set, 0);
  json_t *good = upc_approval_to_json(&a);
  char err[256];
  static const struct {
    const char *key;
    const char *json; /* new value; NULL: remove the key */
    const char *says;
  } cases[] = {
      {"decision", NULL, "\"decision\" must be"},
      {"decision", "0", "\"decision\" must be"},
      {"decision", "-1", "\"decision\" must be"},
      {"decision", "\"3\"", "\"decision\" must be"},
      {"protocol", NULL, "\"protocol\" must be"},
      {"protocol", "0", "\"protocol\" must be"},
      {"protocol", "4294967296", "\"protocol\" must be"},
      {"protocol", "2.0", "\"protocol\" must be"},
      {"from_height", NULL, "\"from_height\" must be"},
      {"from_height", "0", "\"from_height\" must be"},
      {"from_height", "1099511627776", "\"from_height\" must be"},
      {"set_hash", NULL, "\"set_hash\" must be 64"},
      {"set_hash", "\"abcd\"", "\"set_hash\" must be 64"},
      {"set_hash", "7", "\"set_hash\" must be 64"},
      {"index", NULL, "\"index\" must be"},
      {"index", "128", "\"index\" must be"},
      {"index", "-1", "\"index\" must be"},
      {"index", "null", "\"index\" must be"},
      {"pk", NULL, "\"pk\" must be 64"},
      {"pk", "\"zz\"", "\"pk\" must be 64"},
      {"sig", NULL, "\"sig\" must be 128"},
      {"sig", "[]", "\"sig\" must be 128"},
      {"epoch", "1", "unknown key \"epoch\""},
      {"extra", "{}", "unknown key \"extra\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *j = json_deep_copy(good);
    if (cases[i].json) json_object_set_new(j, cases[i].key, json_loads(cases[i].json, JSON_DECODE_ANY, NULL));
    else json_object_del(j, cases[i].key);
    err[0] = 0;
    int rc = upc_approval_from_json(j, &b, err, sizeof err);
    if (rc != VE_ERR_MALFORMED || !strstr(err, cases[i].says))
      fail_msg("case %zu (%s): %d \"%s\"", i, cases[i].key, rc, err);
    json_decref(j);
  }
  assert_int_equal(upc_approval_from_json(good, &b, err, sizeof err), 0);
  assert_memory_equal(&a, &b, sizeof a);
  json_t *arr = json_array();
  assert_int_equal(upc_approval_from_json(arr, &b, err, sizeof err), VE_ERR_MALFORMED);
  assert_non_null(strstr(err, "JSON object"));
  json_decref(arr);
  json_decref(good);
}

/* ---- the decision ---- */

static void test_decision(void **state) {
  (void)state;
  cons_valset_t set;
  set_make(&set, 4); /* powers 1, 2, 3, 4: total 10 */
  static upc_approval_t ap[4];
  for (uint8_t i = 0; i < 4; i++) approval(&ap[i], &set, i);
  char err[256];
  /* Given out of order (3, 1, 2), sorted by index. */
  upc_approval_t given[3] = {ap[3], ap[1], ap[2]};
  static upgrade_decision_t d, e;
  assert_int_equal(upc_decision_fill(&d, given, 3, err, sizeof err), 0);
  assert_int_equal(d.n_approvals, 3);
  for (uint32_t i = 0; i < 3; i++) {
    assert_int_equal(d.approvals[i].index, i + 1);
    assert_memory_equal(d.approvals[i].sig, ap[i + 1].sig, VCRYPTO_SIG_BYTES);
  }
  /* 2 + 3 + 4 = 9 of 10: enough; 1 + 4 = 5 is not (more than 2/3 is 7). */
  assert_int_equal(upc_decision_power(&d, &set), 9);
  assert_true(valset_power_enough(upc_decision_power(&d, &set), &set));
  upc_approval_t few[2] = {ap[3], ap[0]};
  assert_int_equal(upc_decision_fill(&d, few, 2, err, sizeof err), 0);
  assert_int_equal(d.approvals[0].index, 0);
  assert_int_equal(d.approvals[1].index, 3);
  assert_int_equal(upc_decision_power(&d, &set), 5);
  assert_false(valset_power_enough(upc_decision_power(&d, &set), &set));
  /* The payload holds exactly P, A and the sorted approvals. */
  assert_int_equal(upc_decision_fill(&d, given, 3, err, sizeof err), 0);
  d.protocol = 2, d.from = 100;
  ve_buf_t pl;
  ve_buf_init(&pl, UPGRADE_PAYLOAD_BYTES_MAX);
  assert_int_equal(upgrade_decision_encode(&pl, &d), 0);
  assert_int_equal(upgrade_decision_decode(ve_buf_slice(&pl), &e), 0);
  assert_int_equal(e.protocol, 2);
  assert_int_equal(e.from, 100);
  assert_int_equal(e.n_approvals, 3);
  assert_memory_equal(e.approvals, d.approvals, 3 * sizeof d.approvals[0]);
  ve_buf_free(&pl);
  /* Two from one validator; none; more than any set holds. */
  upc_approval_t twice[3] = {ap[2], ap[0], ap[2]};
  assert_int_equal(upc_decision_fill(&d, twice, 3, err, sizeof err), VE_ERR_DUPLICATE);
  assert_non_null(strstr(err, "two approvals of validator 2"));
  assert_int_equal(upc_decision_fill(&d, twice, 0, err, sizeof err), VE_ERR_INVALID);
  assert_non_null(strstr(err, "0 approvals"));
  static upc_approval_t many[VE_VALIDATORS_MAX + 1];
  assert_int_equal(upc_decision_fill(&d, many, VE_VALIDATORS_MAX + 1, err, sizeof err), VE_ERR_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_args),
      cmocka_unit_test(test_approval_round_trip),
      cmocka_unit_test(test_approval_mismatch),
      cmocka_unit_test(test_approval_json_strict),
      cmocka_unit_test(test_decision),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
