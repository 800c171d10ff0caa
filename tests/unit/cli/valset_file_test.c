/* valset_file_test.c — `veche valset`'s set files and approvals
 * (src/cli/cmd_valset_file.c, compiled into this test: the CLI is an
 * executable, not a library).
 *
 * Set files: the order is kept; genesis.json and GET /v1/valset answers are
 * set files too; every bound (count, power, name, file size) and bad key,
 * duplicate, unknown field and wrong index is refused with the entry named.
 * Approvals: made, written as JSON, read back to the same bytes; the
 * signature verifies with vcrypto_verify over valset_approval_msg; each way a
 * stale or foreign approval differs is refused with its own code; the JSON is
 * read strictly. The change: approvals sorted by index, duplicates refused,
 * the power threshold strictly above 2/3, and the payload decodes to what was
 * put in. Keys come from fixed seeds. */
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
#include "cli/cmd_valset_int.h"

#define CHAIN "veche-test-1"

static char g_dir[64];

static int setup(void **state) {
  (void)state;
  assert_int_equal(vcrypto_init(), 0);
  snprintf(g_dir, sizeof g_dir, "/tmp/veche-vsf-XXXXXX");
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
  memset(seed, 0x40 + i, sizeof seed);
  vcrypto_keypair_from_seed(kp, seed);
}

static void pk_hex(char out[65], uint8_t i) {
  vcrypto_keypair_t kp;
  key(&kp, i);
  ve_hex_encode(out, kp.pk, 32);
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

static int parse_text(const char *text, cons_valset_t *vs, char *err, size_t cap) {
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  assert_non_null(j);
  err[0] = 0;
  int rc = vsc_set_from_json(j, vs, err, cap);
  json_decref(j);
  return rc;
}

static void write_file(const char *name, const char *text, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", g_dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_true(fputs(text, f) >= 0);
  assert_int_equal(fclose(f), 0);
}

/* ---- set files ---- */

static void test_set_good(void **state) {
  (void)state;
  char a[65], b[65], text[1024], err[256];
  pk_hex(a, 1);
  pk_hex(b, 0);
  cons_valset_t vs;
  /* Order is kept (b after a although its key may sort first); name ignored. */
  snprintf(text, sizeof text,
           "{\"validators\": [{\"name\": \"city hall\", \"pk\": \"%s\", \"power\": 7}, {\"pk\": \"%s\", \"power\": 1}]}",
           a, b);
  assert_int_equal(parse_text(text, &vs, err, sizeof err), 0);
  assert_int_equal(vs.count, 2);
  char got[65];
  ve_hex_encode(got, vs.v[0].pk, 32);
  assert_string_equal(got, a);
  assert_int_equal(vs.v[0].power, 7);
  assert_int_equal(vs.v[1].power, 1);
  /* A genesis.json (other top-level keys) and a /v1/valset answer (index). */
  snprintf(text, sizeof text,
           "{\"chain_id\": \"x\", \"authorities\": [], \"validators\": [{\"name\": \"v0\", \"pk\": \"%s\", "
           "\"power\": 10}]}",
           a);
  assert_int_equal(parse_text(text, &vs, err, sizeof err), 0);
  snprintf(text, sizeof text,
           "{\"height\": 9, \"epoch\": 0, \"hash\": \"00\", \"validators\": [{\"index\": 0, \"pk\": \"%s\", "
           "\"power\": 10}, {\"index\": 1, \"pk\": \"%s\", \"power\": %llu}]}",
           a, b, (unsigned long long)CONS_POWER_MAX);
  assert_int_equal(parse_text(text, &vs, err, sizeof err), 0);
  assert_int_equal(vs.v[1].power, CONS_POWER_MAX);
}

static void test_set_refused(void **state) {
  (void)state;
  char a[65], b[65], text[1024], err[256];
  pk_hex(a, 1);
  pk_hex(b, 2);
  cons_valset_t vs;
  static const struct {
    const char *fmt; /* %s: a key, then b */
    int rc;
    const char *says;
  } cases[] = {
      {"[]", VE_ERR_MALFORMED, "validators"},
      {"{\"validators\": {}}", VE_ERR_MALFORMED, "validators"},
      {"{\"validators\": []}", VE_ERR_INVALID, "0 validators"},
      {"{\"validators\": [3]}", VE_ERR_MALFORMED, "validators[0] is not an object"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 0}]}", VE_ERR_INVALID, "validators[0].power"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 281474976710657}]}", VE_ERR_INVALID, "validators[0].power"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": -1}]}", VE_ERR_INVALID, "power"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 1.5}]}", VE_ERR_INVALID, "power"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": \"10\"}]}", VE_ERR_INVALID, "power"},
      {"{\"validators\": [{\"pk\": \"%s\"}]}", VE_ERR_INVALID, "power"},
      {"{\"validators\": [{\"power\": 1}]}", VE_ERR_MALFORMED, "validators[0].pk must be 64 hex"},
      {"{\"validators\": [{\"pk\": \"abcd\", \"power\": 1}]}", VE_ERR_MALFORMED, "64 hex"},
      /* The identity point: small order, never a validator key. */
      {"{\"validators\": [{\"pk\": \"0100000000000000000000000000000000000000000000000000000000000000\", "
       "\"power\": 1}]}",
       VE_ERR_BAD_KEY, "not a valid Ed25519"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 1, \"weight\": 2}]}", VE_ERR_MALFORMED, "unknown key \"weight\""},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 1, \"name\": 5}]}", VE_ERR_MALFORMED, "name"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 1, \"name\": "
       "\"01234567890123456789012345678901234567890123456789012345678901234\"}]}",
       VE_ERR_MALFORMED, "at most 64"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 1}, {\"index\": 0, \"pk\": \"%s\", \"power\": 1}]}",
       VE_ERR_MALFORMED, "validators[1].index must be 1"},
      {"{\"validators\": [{\"pk\": \"%s\", \"power\": 1}, {\"pk\": \"%s\", \"power\": 2}, {\"pk\": \"%s\", "
       "\"power\": 3}]}",
       VE_ERR_DUPLICATE, "validators[2] has the key of validators[0]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(text, sizeof text, cases[i].fmt, a, b, a);
    int rc = parse_text(text, &vs, err, sizeof err);
    if (rc != cases[i].rc || !strstr(err, cases[i].says))
      fail_msg("case %zu: %s -> %d \"%s\", want %d \"%s\"", i, text, rc, err, cases[i].rc, cases[i].says);
  }
}

/* VE_VALIDATORS_MAX entries pass; one more is refused before any is read. */
static void test_set_count_bound(void **state) {
  (void)state;
  json_t *list = json_array();
  for (int i = 0; i <= VE_VALIDATORS_MAX; i++) {
    char h[65];
    pk_hex(h, (uint8_t)i);
    json_array_append_new(list, json_pack("{s:s, s:i}", "pk", h, "power", 1));
  }
  json_t *j = json_pack("{s:o}", "validators", list);
  cons_valset_t vs;
  char err[256];
  assert_int_equal(vsc_set_from_json(j, &vs, err, sizeof err), VE_ERR_TOO_BIG);
  assert_non_null(strstr(err, "129 validators"));
  json_array_remove(list, VE_VALIDATORS_MAX);
  assert_int_equal(vsc_set_from_json(j, &vs, err, sizeof err), 0);
  assert_int_equal(vs.count, VE_VALIDATORS_MAX);
  json_decref(j);
}

static void test_set_files(void **state) {
  (void)state;
  char a[65], text[512], path[128], err[512];
  pk_hex(a, 3);
  cons_valset_t vs;
  snprintf(text, sizeof text, "{\"validators\": [{\"pk\": \"%s\", \"power\": 4}]}\n", a);
  write_file("good.json", text, path, sizeof path);
  assert_int_equal(vsc_set_load(path, &vs, err, sizeof err), 0);
  assert_int_equal(vs.v[0].power, 4);
  /* The error names the file. */
  write_file("zero.json", "{\"validators\": []}", path, sizeof path);
  assert_int_equal(vsc_set_load(path, &vs, err, sizeof err), VE_ERR_INVALID);
  assert_non_null(strstr(err, "zero.json: 0 validators"));
  write_file("dup.json", "{\"validators\": [], \"validators\": []}", path, sizeof path);
  assert_int_equal(vsc_set_load(path, &vs, err, sizeof err), VE_ERR_MALFORMED);
  assert_non_null(strstr(err, "dup.json:1:"));
  write_file("cut.json", "{\"validators\": [", path, sizeof path);
  assert_int_equal(vsc_set_load(path, &vs, err, sizeof err), VE_ERR_MALFORMED);
  snprintf(path, sizeof path, "%s/absent.json", g_dir);
  assert_int_equal(vsc_set_load(path, &vs, err, sizeof err), VE_ERR_IO);
  assert_int_equal(vsc_set_load(g_dir, &vs, err, sizeof err), VE_ERR_IO); /* a directory */
  /* One byte over the bound is refused whatever it holds; at the bound, read. */
  char *big = malloc(VSC_SET_FILE_BYTES_MAX + 2);
  assert_non_null(big);
  int head = snprintf(big, VSC_SET_FILE_BYTES_MAX, "{\"validators\": [{\"pk\": \"%s\", \"power\": 4}]}", a);
  memset(big + head, ' ', VSC_SET_FILE_BYTES_MAX - (size_t)head);
  big[VSC_SET_FILE_BYTES_MAX] = 0;
  write_file("max.json", big, path, sizeof path);
  assert_int_equal(vsc_set_load(path, &vs, err, sizeof err), 0);
  big[VSC_SET_FILE_BYTES_MAX] = ' ';
  big[VSC_SET_FILE_BYTES_MAX + 1] = 0;
  write_file("big.json", big, path, sizeof path);
  assert_int_equal(vsc_set_load(path, &vs, err, sizeof err), VE_ERR_TOO_BIG);
  assert_non_null(strstr(err, "larger than"));
  free(big);
}

/* ---- approvals ---- */

static void test_approval_round_trip(void **state) {
  (void)state;
  cons_valset_t cur, next;
  set_make(&cur, 3);
  set_make(&next, 4);
  vcrypto_keypair_t kp;
  key(&kp, 2);
  vsc_approval_t a, b;
  char err[512];
  assert_int_equal(vsc_approval_make(&a, &kp, CHAIN, 5, &cur, &next, err, sizeof err), 0);
  assert_int_equal(a.epoch, 6);
  assert_int_equal(a.index, 2);
  assert_memory_equal(a.pk, kp.pk, 32);
  /* The signature is valset.h's: tag and message of the app. */
  uint8_t hc[32], hn[32], msg[VALSET_APPROVAL_MSG_BYTES_MAX];
  cons_valset_hash(hc, &cur);
  cons_valset_hash(hn, &next);
  assert_memory_equal(a.current_hash, hc, 32);
  assert_memory_equal(a.new_hash, hn, 32);
  size_t len = valset_approval_msg(msg, CHAIN, 6, hc, hn);
  assert_int_equal(vcrypto_verify(a.sig, kp.pk, VALSET_TAG_APPROVAL, msg, len), 0);
  /* Through the JSON text and a file, to the same bytes. */
  json_t *j = vsc_approval_to_json(&a);
  char *text = json_dumps(j, JSON_PRESERVE_ORDER);
  json_decref(j);
  assert_non_null(strstr(text, "\"epoch\": 6, \"current_hash\": \""));
  char path[128];
  write_file("a.json", text, path, sizeof path);
  free(text);
  assert_int_equal(vsc_approval_load(path, &b, err, sizeof err), 0);
  assert_memory_equal(&a, &b, sizeof a);
  assert_int_equal(vsc_approval_check(&b, CHAIN, 5, &cur, &next, err, sizeof err), 0);
  /* A key outside the current set makes none. */
  vcrypto_keypair_t out;
  key(&out, 3);
  assert_int_equal(vsc_approval_make(&b, &out, CHAIN, 5, &cur, &next, err, sizeof err), VE_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "not in the current validator set"));
  vcrypto_keypair_wipe(&kp);
}

static void test_approval_mismatch(void **state) {
  (void)state;
  cons_valset_t cur, next, other;
  set_make(&cur, 3);
  set_make(&next, 4);
  set_make(&other, 2);
  vcrypto_keypair_t kp;
  key(&kp, 1);
  vsc_approval_t a, b;
  char err[512];
  assert_int_equal(vsc_approval_make(&a, &kp, CHAIN, 0, &cur, &next, err, sizeof err), 0);
  /* The set changed since (epoch moved on), or the approver was ahead. */
  assert_int_equal(vsc_approval_check(&a, CHAIN, 1, &cur, &next, err, sizeof err), VE_ERR_STATE);
  assert_non_null(strstr(err, "changed since it was signed"));
  b = a, b.epoch = 2;
  assert_int_equal(vsc_approval_check(&b, CHAIN, 0, &cur, &next, err, sizeof err), VE_ERR_STATE);
  assert_non_null(strstr(err, "later set"));
  /* Another current set at the same epoch. */
  assert_int_equal(vsc_approval_check(&a, CHAIN, 0, &other, &next, err, sizeof err), VE_ERR_STATE);
  assert_non_null(strstr(err, "current set is"));
  /* Another new set. */
  assert_int_equal(vsc_approval_check(&a, CHAIN, 0, &cur, &other, err, sizeof err), VE_ERR_HASH_MISMATCH);
  assert_non_null(strstr(err, "same set file"));
  /* Index and key must agree with the current set. */
  b = a, b.index = 0;
  assert_int_equal(vsc_approval_check(&b, CHAIN, 0, &cur, &next, err, sizeof err), VE_ERR_NOT_FOUND);
  b = a, b.index = 3;
  assert_int_equal(vsc_approval_check(&b, CHAIN, 0, &cur, &next, err, sizeof err), VE_ERR_NOT_FOUND);
  /* Another chain, a flipped bit. */
  assert_int_equal(vsc_approval_check(&a, "veche-other-1", 0, &cur, &next, err, sizeof err), VE_ERR_BAD_SIG);
  assert_non_null(strstr(err, "veche-other-1"));
  b = a, b.sig[17] ^= 4;
  assert_int_equal(vsc_approval_check(&b, CHAIN, 0, &cur, &next, err, sizeof err), VE_ERR_BAD_SIG);
  vcrypto_keypair_wipe(&kp);
}

static void test_approval_json_strict(void **state) {
  (void)state;
  cons_valset_t cur, next;
  set_make(&cur, 2);
  set_make(&next, 3);
  vcrypto_keypair_t kp;
  key(&kp, 0);
  vsc_approval_t a, b;
  char err[256];
  assert_int_equal(vsc_approval_make(&a, &kp, CHAIN, 0, &cur, &next, err, sizeof err), 0);
  json_t *good = vsc_approval_to_json(&a);
  static const struct {
    const char *key;
    const char *json; /* new value; NULL: remove the key */
    const char *says;
  } cases[] = {
      {"epoch", "0", "epoch"},        {"epoch", "-1", "epoch"},          {"epoch", "\"1\"", "epoch"},
      {"epoch", NULL, "epoch"},       {"index", "128", "index"},         {"index", "-1", "index"},
      {"index", "1.0", "index"},      {"pk", "\"abcd\"", "\"pk\" must be 64"},
      {"sig", NULL, "\"sig\" must be 128"}, {"new_hash", "7", "new_hash"}, {"current_hash", "null", "current_hash"},
      {"extra", "1", "unknown key \"extra\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *j = json_deep_copy(good);
    if (cases[i].json) json_object_set_new(j, cases[i].key, json_loads(cases[i].json, JSON_DECODE_ANY, NULL));
    else json_object_del(j, cases[i].key);
    err[0] = 0;
    int rc = vsc_approval_from_json(j, &b, err, sizeof err);
    if (rc != VE_ERR_MALFORMED || !strstr(err, cases[i].says))
      fail_msg("case %zu (%s): %d \"%s\"", i, cases[i].key, rc, err);
    json_decref(j);
  }
  assert_int_equal(vsc_approval_from_json(good, &b, err, sizeof err), 0);
  assert_int_equal(vsc_approval_from_json(json_array_get(good, 0), &b, err, sizeof err), VE_ERR_MALFORMED);
  json_decref(good);
  vcrypto_keypair_wipe(&kp);
}

/* ---- the change ---- */

static void test_change(void **state) {
  (void)state;
  cons_valset_t cur, next;
  set_make(&cur, 4); /* powers 1, 2, 3, 4: total 10 */
  set_make(&next, 5);
  static vsc_approval_t ap[4];
  char err[256];
  for (uint8_t i = 0; i < 4; i++) {
    vcrypto_keypair_t kp;
    key(&kp, i);
    assert_int_equal(vsc_approval_make(&ap[i], &kp, CHAIN, 0, &cur, &next, err, sizeof err), 0);
  }
  /* Given out of order (3, 1, 2), sorted by index. */
  vsc_approval_t given[3] = {ap[3], ap[1], ap[2]};
  static valset_change_t c, d;
  c.set = next;
  assert_int_equal(vsc_change_fill(&c, given, 3, err, sizeof err), 0);
  assert_int_equal(c.n_approvals, 3);
  for (uint32_t i = 0; i < 3; i++) {
    assert_int_equal(c.approvals[i].index, i + 1);
    assert_memory_equal(c.approvals[i].sig, ap[i + 1].sig, VCRYPTO_SIG_BYTES);
  }
  /* 2 + 3 + 4 = 9 of 10. More than 2/3 of 10: 7 is (21 > 20), 6 is not (18). */
  assert_int_equal(vsc_change_power(&c, &cur), 9);
  assert_true(valset_power_enough(9, &cur));
  assert_true(valset_power_enough(7, &cur));
  assert_false(valset_power_enough(6, &cur));
  cons_valset_t three;
  set_make(&three, 3); /* 1 + 2 + 3 = 6: exactly 2/3 (4) is not enough */
  assert_false(valset_power_enough(4, &three));
  assert_true(valset_power_enough(5, &three));
  /* The payload holds exactly the set and the sorted approvals. */
  ve_buf_t pl;
  ve_buf_init(&pl, VALSET_PAYLOAD_BYTES_MAX);
  assert_int_equal(valset_change_encode(&pl, &c), 0);
  assert_int_equal(valset_change_decode(ve_buf_slice(&pl), &d), 0);
  assert_int_equal(d.set.count, 5);
  assert_memory_equal(d.set.v, next.v, 5 * sizeof next.v[0]);
  assert_int_equal(d.n_approvals, 3);
  assert_memory_equal(d.approvals, c.approvals, 3 * sizeof c.approvals[0]);
  ve_buf_free(&pl);
  /* Two from one validator; none. */
  vsc_approval_t twice[3] = {ap[2], ap[0], ap[2]};
  assert_int_equal(vsc_change_fill(&c, twice, 3, err, sizeof err), VE_ERR_DUPLICATE);
  assert_non_null(strstr(err, "validator 2"));
  assert_int_equal(vsc_change_fill(&c, twice, 0, err, sizeof err), VE_ERR_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_good),          cmocka_unit_test(test_set_refused),
      cmocka_unit_test(test_set_count_bound),   cmocka_unit_test(test_set_files),
      cmocka_unit_test(test_approval_round_trip), cmocka_unit_test(test_approval_mismatch),
      cmocka_unit_test(test_approval_json_strict), cmocka_unit_test(test_change),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
