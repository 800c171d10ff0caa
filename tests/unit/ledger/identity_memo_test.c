/* identity_memo_test.c — the identity app's memo of curve checks that passed.
 *
 * Built from identity.c itself with a 64-entry memo (IDENTITY_MEMO_KEYS), so
 * that eviction, probe runs and their wrap-around are exercised thousands of
 * times: after every insertion the memo must hold exactly the last 64 distinct
 * entries (FIFO), checked against a model, including entries crafted to share
 * a few home slots. And the memo must never turn a failing check into a pass:
 * keys outside the prime-order subgroup are refused every time, however many
 * valid keys were remembered around them. Prints its seed; replay with
 * VECHE_SEED=<seed>. */
#define IDENTITY_MEMO_KEYS 64u
#include "../../../src/apps/identity/identity.c"
#include "trng.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h> /* crypto_core_ed25519_add, to build keys outside the subgroup */

/* An entry with few distinct home slots when crowd is set. */
static void entry_make(uint8_t e[32], bool crowd) {
  trng_bytes(e, 32);
  if (crowd) {
    uint64_t h = trng_next() % 5;
    memcpy(e + 8, &h, 8);
  }
}

static void test_fifo_model(void **st) {
  (void)st;
  trng_seed("identity_memo_test/fifo");
  enum { INSERTS = 20000, POOL = 300 };
  static uint8_t pool[POOL][32];
  for (int i = 0; i < POOL; i++) entry_make(pool[i], i % 2 == 0);
  /* The model: entries in insertion order, distinct; the memo keeps the last 64. */
  static int order[INSERTS];
  int n = 0;
  memo_t *m = &g_pk_memo;
  for (int step = 0; step < INSERTS; step++) {
    int k = (int)(trng_next() % POOL);
    bool present = false;
    for (int j = n - 1; j >= 0 && j >= n - (int)MEMO_KEYS; j--) present |= order[j] == k;
    memo_put(m, pool[k]); /* a present entry is not inserted again */
    if (!present) order[n++] = k;
    if (step % 97 == 0 || step == INSERTS - 1) {
      for (int i = 0; i < POOL; i++) {
        bool want = false;
        for (int j = n - 1; j >= 0 && j >= n - (int)MEMO_KEYS; j--) want |= order[j] == i;
        assert_int_equal(memo_has(m, pool[i]), want);
      }
    }
  }
  /* The index stays at most half full and every live slot is reachable. */
  size_t used = 0;
  for (size_t i = 0; i < MEMO_SLOTS; i++) used += m->index[i] != 0;
  assert_int_equal(used, MEMO_KEYS);
}

/* The point of order 2, (0, -1): y = p - 1, encoded ec ff .. ff 7f. A valid key
 * plus it is on the curve, of order 2L, outside the prime-order subgroup. */
static void test_memo_never_passes_bad_keys(void **st) {
  (void)st;
  assert_int_equal(vcrypto_init(), 0);
  uint8_t t2[VCRYPTO_PK_BYTES];
  memset(t2, 0xff, sizeof t2);
  t2[0] = 0xec;
  t2[31] = 0x7f;
  assert_false(pk_valid(t2));
  uint8_t first_bad[VCRYPTO_PK_BYTES];
  for (int round = 0; round < 3 * (int)MEMO_KEYS; round++) {
    vcrypto_keypair_t kp;
    uint8_t s[VCRYPTO_SEED_BYTES] = {0}, bad[VCRYPTO_PK_BYTES];
    s[0] = (uint8_t)round;
    s[1] = (uint8_t)(round >> 8);
    s[31] = 0x42;
    vcrypto_keypair_from_seed(&kp, s);
    assert_int_equal(crypto_core_ed25519_add(bad, kp.pk, t2), 0);
    if (round == 0) memcpy(first_bad, bad, sizeof bad);
    assert_true(pk_valid(kp.pk));
    assert_true(pk_valid(kp.pk)); /* remembered */
    assert_false(pk_valid(bad));
    assert_false(pk_valid(bad)); /* refusals are not remembered, and stay refusals */
    assert_false(pk_valid(first_bad));
    assert_false(pk_valid(t2));
    vcrypto_keypair_wipe(&kp);
  }
}

/* Rotation proofs: a good proof is remembered; a different signature, key or
 * message is checked afresh and refused. */
static void test_rotate_memo(void **st) {
  (void)st;
  assert_int_equal(vcrypto_init(), 0);
  vcrypto_keypair_t kp;
  uint8_t s[VCRYPTO_SEED_BYTES];
  memset(s, 9, sizeof s);
  vcrypto_keypair_from_seed(&kp, s);
  uint8_t msg[40], sig[VCRYPTO_SIG_BYTES];
  memset(msg, 1, sizeof msg);
  vcrypto_sign(sig, &kp, IDENTITY_TAG_ROTATE, msg, sizeof msg);
  assert_int_equal(rotate_verify(sig, kp.pk, msg, sizeof msg), VE_OK);
  assert_int_equal(rotate_verify(sig, kp.pk, msg, sizeof msg), VE_OK);
  sig[5] ^= 1;
  assert_int_not_equal(rotate_verify(sig, kp.pk, msg, sizeof msg), VE_OK);
  sig[5] ^= 1;
  msg[0] ^= 1;
  assert_int_not_equal(rotate_verify(sig, kp.pk, msg, sizeof msg), VE_OK);
  msg[0] ^= 1;
  assert_int_not_equal(rotate_verify(sig, kp.pk, msg, sizeof msg - 1), VE_OK);
  vcrypto_keypair_wipe(&kp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo_model),
      cmocka_unit_test(test_memo_never_passes_bad_keys),
      cmocka_unit_test(test_rotate_memo),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
