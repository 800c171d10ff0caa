/* cli_gov_file_test.c — `veche gov`'s council arguments and approval files
 * (src/cli/cmd_gov_file.c, compiled into this test: the CLI is an
 * executable, not a library).
 *
 * --members/--k: ids sorted, k a strict majority, every bad form refused with
 * a reason. Approvals: written as JSON and read back to the same bytes; the
 * JSON read strictly; each way an approval can be stale or foreign refused
 * with its own code (another chain or council: invalid_argument; another
 * epoch or set: invalid_state; another key: not_found; a bad signature). Keys
 * come from fixed seeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "cli/cmd_gov_int.h"

#define CHAIN "veche-test-1"

static void key(vcrypto_keypair_t *kp, uint8_t b) {
  uint8_t seed[32];
  memset(seed, b, sizeof seed);
  vcrypto_keypair_from_seed(kp, seed);
}

static void id_hex(char out[65], uint8_t b) {
  uint8_t id[32];
  memset(id, b, sizeof id);
  ve_hex_encode(out, id, 32);
}

/* "ID,ID,..." of the ids filled with bytes bs[n]. */
static void members_arg(char *out, const uint8_t *bs, size_t n) {
  out[0] = 0;
  for (size_t i = 0; i < n; i++) {
    char h[65];
    id_hex(h, bs[i]);
    if (i) strcat(out, ",");
    strcat(out, h);
  }
}

static void test_council_args(void **state) {
  (void)state;
  char m[70 * 66], err[256];
  gov_council_t c;
  static const uint8_t three[3] = {0x30, 0x10, 0x20};
  members_arg(m, three, 3);
  assert_int_equal(gc_council_args(m, "2", &c, err, sizeof err), 0);
  assert_int_equal(c.n, 3);
  assert_int_equal(c.k, 2);
  assert_int_equal(c.members[0][0], 0x10); /* sorted, as the ledger wants them */
  assert_int_equal(c.members[2][0], 0x30);
  assert_int_equal(gc_council_args(m, "3", &c, err, sizeof err), 0);
  /* k: not a strict majority, above n, not a number. */
  assert_int_equal(gc_council_args(m, "1", &c, err, sizeof err), VE_ERR_INVALID);
  assert_int_equal(gc_council_args(m, "4", &c, err, sizeof err), VE_ERR_INVALID);
  assert_int_equal(gc_council_args(m, "2x", &c, err, sizeof err), VE_ERR_INVALID);
  assert_non_null(strstr(err, "--k"));
  assert_int_equal(gc_council_args(m, NULL, &c, err, sizeof err), VE_ERR_INVALID);
  /* Members: repeated, not hex, short, trailing comma, too many. */
  static const uint8_t dup[2] = {0x10, 0x10};
  members_arg(m, dup, 2);
  assert_int_equal(gc_council_args(m, "2", &c, err, sizeof err), VE_ERR_INVALID);
  members_arg(m, three, 1);
  m[5] = 'g';
  assert_int_equal(gc_council_args(m, "1", &c, err, sizeof err), VE_ERR_INVALID);
  assert_non_null(strstr(err, "hex"));
  assert_int_equal(gc_council_args("abcd", "1", &c, err, sizeof err), VE_ERR_INVALID);
  members_arg(m, three, 1);
  strcat(m, ",");
  assert_int_equal(gc_council_args(m, "1", &c, err, sizeof err), VE_ERR_INVALID);
  uint8_t many[GOV_COUNCIL_MAX + 1];
  for (size_t i = 0; i < sizeof many; i++) many[i] = (uint8_t)(i + 1);
  members_arg(m, many, GOV_COUNCIL_MAX);
  assert_int_equal(gc_council_args(m, "33", &c, err, sizeof err), 0);
  members_arg(m, many, GOV_COUNCIL_MAX + 1);
  assert_int_equal(gc_council_args(m, "33", &c, err, sizeof err), VE_ERR_INVALID);
}

/* A two-validator set and v1's approval of council {0x10, 0x20, 0x30}, k = 2,
 * epoch 2. */
typedef struct {
  vcrypto_keypair_t v[2];
  cons_valset_t set;
  gov_council_t council;
  gc_approval_t a;
} fixture_t;

static void fixture(fixture_t *f) {
  memset(f, 0, sizeof *f);
  f->set.count = 2;
  for (int i = 0; i < 2; i++) {
    key(&f->v[i], (uint8_t)(90 + i));
    memcpy(f->set.v[i].pk, f->v[i].pk, VCRYPTO_PK_BYTES);
    f->set.v[i].power = 1;
  }
  char m[3 * 66], err[256];
  static const uint8_t three[3] = {0x10, 0x20, 0x30};
  members_arg(m, three, 3);
  assert_int_equal(gc_council_args(m, "2", &f->council, err, sizeof err), 0);
  f->council.epoch = 2;
  snprintf(f->a.chain_id, sizeof f->a.chain_id, "%s", CHAIN);
  f->a.council = f->council;
  cons_valset_hash(f->a.set_hash, &f->set);
  f->a.index = 1;
  memcpy(f->a.pk, f->v[1].pk, VCRYPTO_PK_BYTES);
  gov_council_approval_sign(f->a.sig, &f->v[1], CHAIN, &f->council, &f->set);
}

static void test_approval_round_trip_and_check(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f);
  char err[256];
  assert_int_equal(gc_approval_check(&f.a, CHAIN, &f.council, &f.set, err, sizeof err), 0);
  json_t *j = gc_approval_to_json(&f.a);
  assert_non_null(j);
  gc_approval_t back;
  assert_int_equal(gc_approval_from_json(j, &back, err, sizeof err), 0);
  assert_memory_equal(&back, &f.a, sizeof back);
  json_decref(j);

  gc_approval_t x = f.a;
  assert_int_equal(gc_approval_check(&x, "veche-other", &f.council, &f.set, err, sizeof err), VE_ERR_INVALID);
  gov_council_t c = f.council;
  c.epoch = 3;
  assert_int_equal(gc_approval_check(&x, CHAIN, &c, &f.set, err, sizeof err), VE_ERR_STATE);
  assert_non_null(strstr(err, "sign again"));
  c = f.council;
  c.k = 3;
  assert_int_equal(gc_approval_check(&x, CHAIN, &c, &f.set, err, sizeof err), VE_ERR_INVALID);
  c = f.council;
  c.members[2][31] ^= 1;
  assert_int_equal(gc_approval_check(&x, CHAIN, &c, &f.set, err, sizeof err), VE_ERR_INVALID);
  cons_valset_t other = f.set;
  other.v[0].power = 2;
  assert_int_equal(gc_approval_check(&x, CHAIN, &f.council, &other, err, sizeof err), VE_ERR_STATE);
  x.index = 0; /* v1's key, claimed as v0 */
  assert_int_equal(gc_approval_check(&x, CHAIN, &f.council, &f.set, err, sizeof err), VE_ERR_NOT_FOUND);
  x.index = 7;
  assert_int_equal(gc_approval_check(&x, CHAIN, &f.council, &f.set, err, sizeof err), VE_ERR_NOT_FOUND);
  x = f.a;
  x.sig[5] ^= 1;
  assert_int_equal(gc_approval_check(&x, CHAIN, &f.council, &f.set, err, sizeof err), VE_ERR_BAD_SIG);
  /* v0 signing and claiming v1's place. */
  x = f.a;
  gov_council_approval_sign(x.sig, &f.v[0], CHAIN, &f.council, &f.set);
  assert_int_equal(gc_approval_check(&x, CHAIN, &f.council, &f.set, err, sizeof err), VE_ERR_BAD_SIG);
}

/* The file is read strictly: each bad field is named. */
static void test_approval_json_strict(void **state) {
  (void)state;
  fixture_t f;
  fixture(&f);
  char err[256];
  gc_approval_t back;
  static const char *const fields[] = {"chain_id", "epoch", "k", "members", "set_hash", "index", "pk", "sig"};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    json_t *j = gc_approval_to_json(&f.a);
    json_object_del(j, fields[i]);
    err[0] = 0;
    assert_int_not_equal(gc_approval_from_json(j, &back, err, sizeof err), 0);
    assert_non_null(strstr(err, fields[i]));
    json_decref(j);
  }
  json_t *j = gc_approval_to_json(&f.a);
  json_object_set_new(j, "comment", json_string("typo'd key"));
  assert_int_equal(gc_approval_from_json(j, &back, err, sizeof err), VE_ERR_MALFORMED);
  assert_non_null(strstr(err, "comment"));
  json_decref(j);
  j = gc_approval_to_json(&f.a);
  json_object_set_new(j, "k", json_integer(1)); /* not a majority of 3 */
  assert_int_not_equal(gc_approval_from_json(j, &back, err, sizeof err), 0);
  json_decref(j);
  j = gc_approval_to_json(&f.a);
  json_object_set_new(j, "sig", json_string("00"));
  assert_int_equal(gc_approval_from_json(j, &back, err, sizeof err), VE_ERR_MALFORMED);
  assert_non_null(strstr(err, "sig"));
  json_decref(j);
  j = json_array();
  assert_int_equal(gc_approval_from_json(j, &back, err, sizeof err), VE_ERR_MALFORMED);
  json_decref(j);
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_council_args),
      cmocka_unit_test(test_approval_round_trip_and_check),
      cmocka_unit_test(test_approval_json_strict),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
