/* net_proto_test.c — the wire protocol and the guards as pure functions:
 * handshake agreement, what each signature is bound to (replay, reflection,
 * chain, direction), frame sealing against forgery, replay, reordering and
 * truncation, token buckets and the ban schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/err.h"
#include "net/net_int.h"

typedef struct {
  vcrypto_keypair_t kp;
  uint8_t esk[32], epk[32];
  net_session_t s;
} side_t;

static void side_init(side_t *x, uint8_t seed) {
  uint8_t s[32];
  memset(s, seed, sizeof s);
  vcrypto_keypair_from_seed(&x->kp, s);
  net_eph_generate(x->esk, x->epk);
}

/* Runs a full handshake between i (initiator) and r on chain `chain`. */
static void handshake(side_t *i, side_t *r, const uint8_t chain[32]) {
  assert_int_equal(net_session_derive(&i->s, NET_ROLE_INITIATOR, i->esk, i->epk, r->epk, chain), 0);
  assert_int_equal(net_session_derive(&r->s, NET_ROLE_RESPONDER, r->esk, i->epk, r->epk, chain), 0);
}

static void test_hello(void **state) {
  (void)state;
  uint8_t chain[32], other[32], epk[32], esk[32], got[32], h[NET_HELLO_BYTES];
  net_chain_hash(chain, "veche-a");
  net_chain_hash(other, "veche-b");
  assert_memory_not_equal(chain, other, 32);
  net_eph_generate(esk, epk);
  net_hello_encode(h, chain, epk);
  assert_memory_equal(h, "VECN\x01", 5);
  assert_int_equal(net_hello_decode(h, chain, got), 0);
  assert_memory_equal(got, epk, 32);
  assert_int_equal(net_hello_decode(h, other, got), VE_ERR_WRONG_CHAIN);
  h[4] = 2;
  assert_int_equal(net_hello_decode(h, chain, got), VE_ERR_VERSION);
  h[4] = 1;
  h[0] = 'X';
  assert_int_equal(net_hello_decode(h, chain, got), VE_ERR_MALFORMED);
}

static void test_session_agrees(void **state) {
  (void)state;
  uint8_t chain[32];
  net_chain_hash(chain, "veche-a");
  side_t i, r;
  side_init(&i, 1);
  side_init(&r, 2);
  handshake(&i, &r, chain);
  assert_memory_equal(i.s.key_tx, r.s.key_rx, 32);
  assert_memory_equal(i.s.key_rx, r.s.key_tx, 32);
  assert_memory_not_equal(i.s.key_tx, i.s.key_rx, 32); /* one key per direction */

  /* Another chain derives other keys even with the same ephemerals. */
  uint8_t chain2[32];
  net_chain_hash(chain2, "veche-b");
  net_session_t s2;
  assert_int_equal(net_session_derive(&s2, NET_ROLE_INITIATOR, i.esk, i.epk, r.epk, chain2), 0);
  assert_memory_not_equal(s2.key_tx, i.s.key_tx, 32);
}

static void test_session_refuses_bad_ephemerals(void **state) {
  (void)state;
  uint8_t chain[32];
  net_chain_hash(chain, "veche-a");
  side_t i;
  side_init(&i, 1);
  net_session_t s;
  /* Our own HELLO reflected back. */
  assert_int_equal(net_session_derive(&s, NET_ROLE_INITIATOR, i.esk, i.epk, i.epk, chain),
                   VE_ERR_MALFORMED);
  /* Small-order points: zero and the order-8 point; the shared secret would be 0. */
  uint8_t zero[32] = {0};
  assert_int_equal(net_session_derive(&s, NET_ROLE_INITIATOR, i.esk, i.epk, zero, chain),
                   VE_ERR_CRYPTO);
  static const uint8_t order8[32] = {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
                                     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
                                     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00};
  assert_int_equal(net_session_derive(&s, NET_ROLE_RESPONDER, i.esk, order8, i.epk, chain),
                   VE_ERR_CRYPTO);
}

static void test_auth_binding(void **state) {
  (void)state;
  uint8_t chain[32], chain2[32], pk[32];
  net_chain_hash(chain, "veche-a");
  net_chain_hash(chain2, "veche-b");
  side_t i, r, x;
  side_init(&i, 1);
  side_init(&r, 2);
  side_init(&x, 3);
  uint8_t a[NET_AUTH_PLAIN_BYTES];
  net_auth_make(a, &i.kp, NET_ROLE_INITIATOR, chain, i.epk, r.epk);
  assert_int_equal(net_auth_check(a, NET_ROLE_INITIATOR, chain, i.epk, r.epk, pk), 0);
  assert_memory_equal(pk, i.kp.pk, 32);
  /* Reflection: presented back to its signer as if from a responder. */
  assert_int_equal(net_auth_check(a, NET_ROLE_RESPONDER, chain, i.epk, r.epk, pk), VE_ERR_BAD_SIG);
  /* Replay into another connection (other ephemerals), or the same keys swapped. */
  assert_int_equal(net_auth_check(a, NET_ROLE_INITIATOR, chain, i.epk, x.epk, pk), VE_ERR_BAD_SIG);
  assert_int_equal(net_auth_check(a, NET_ROLE_INITIATOR, chain, r.epk, i.epk, pk), VE_ERR_BAD_SIG);
  /* Another chain. */
  assert_int_equal(net_auth_check(a, NET_ROLE_INITIATOR, chain2, i.epk, r.epk, pk), VE_ERR_BAD_SIG);
  /* Claiming someone else's key. */
  memcpy(a, x.kp.pk, 32);
  assert_int_equal(net_auth_check(a, NET_ROLE_INITIATOR, chain, i.epk, r.epk, pk), VE_ERR_BAD_SIG);
}

static void seal(net_session_t *s, uint8_t *f, uint8_t ch, const char *msg) {
  size_t len = strlen(msg);
  f[NET_LEN_BYTES] = ch;
  memcpy(f + NET_LEN_BYTES + 1, msg, len);
  assert_int_equal(net_seal(s, f, 1 + len), 0);
  assert_int_equal(net_be32_get(f), 1 + len + NET_AEAD_TAG_BYTES);
}

static void test_frames(void **state) {
  (void)state;
  uint8_t chain[32];
  net_chain_hash(chain, "veche-a");
  side_t i, r;
  side_init(&i, 1);
  side_init(&r, 2);
  handshake(&i, &r, chain);
  uint8_t f1[64], f2[64], t[64];
  seal(&i.s, f1, NET_CH_TX, "first");
  seal(&i.s, f2, NET_CH_TX, "second");
  size_t l1 = net_be32_get(f1), l2 = net_be32_get(f2);

  /* Reordered: frame 2 first fails (nonce is the receiver's counter). */
  memcpy(t, f2, 4 + l2);
  assert_int_equal(net_open(&r.s, t, t + 4, l2), VE_ERR_CRYPTO);
  assert_int_equal(r.s.ctr_rx, 0);
  /* Tampered byte, tampered length prefix, truncated. */
  memcpy(t, f1, 4 + l1);
  t[4 + 2] ^= 1;
  assert_int_equal(net_open(&r.s, t, t + 4, l1), VE_ERR_CRYPTO);
  memcpy(t, f1, 4 + l1);
  assert_int_equal(net_open(&r.s, t, t + 4, l1 - 1), VE_ERR_CRYPTO);
  /* Reflected back at its sender (the sender's rx key is the other direction). */
  memcpy(t, f1, 4 + l1);
  assert_int_equal(net_open(&i.s, t, t + 4, l1), VE_ERR_CRYPTO);
  /* In order: both open. */
  memcpy(t, f1, 4 + l1);
  assert_int_equal(net_open(&r.s, t, t + 4, l1), 0);
  assert_int_equal(t[4], NET_CH_TX);
  assert_memory_equal(t + 5, "first", 5);
  /* Replayed: fails (counter moved on). */
  memcpy(t, f1, 4 + l1);
  assert_int_equal(net_open(&r.s, t, t + 4, l1), VE_ERR_CRYPTO);
  memcpy(t, f2, 4 + l2);
  assert_int_equal(net_open(&r.s, t, t + 4, l2), 0);
  assert_memory_equal(t + 5, "second", 6);
  assert_int_equal(r.s.ctr_rx, 2);

  /* The other direction works independently. */
  seal(&r.s, f1, NET_CH_SYNC, "back");
  assert_int_equal(net_open(&i.s, f1, f1 + 4, net_be32_get(f1)), 0);
  assert_memory_equal(f1 + 5, "back", 4);

  /* Counter exhaustion is refused instead of reusing a nonce. */
  i.s.ctr_tx = UINT64_MAX;
  assert_int_equal(net_seal(&i.s, f1, 1), VE_ERR_LIMIT);
}

static void test_bucket(void **state) {
  (void)state;
  net_bucket_t b;
  net_bucket_init(&b, 100, 10, 1000); /* 100/s, burst 10 */
  for (int k = 0; k < 10; k++) assert_true(net_bucket_take(&b, 1, 1000));
  assert_false(net_bucket_take(&b, 1, 1000));
  assert_false(net_bucket_take(&b, 1, 1009)); /* 0.9 tokens */
  assert_true(net_bucket_take(&b, 1, 1010));
  assert_true(net_bucket_take(&b, 10, 2000)); /* refills to the cap, not beyond */
  assert_false(net_bucket_take(&b, 1, 2000));
  /* Debit may go negative, floored at minus one burst; ok again after refill. */
  net_bucket_debit(&b, 1000, 3000);
  assert_false(net_bucket_ok(&b, 3000));
  assert_false(net_bucket_ok(&b, 3099));
  assert_true(net_bucket_ok(&b, 3100));
  /* A clock that goes backwards adds nothing. */
  assert_false(net_bucket_take(&b, 100, 10));
}

static void test_bans(void **state) {
  (void)state;
  static net_bans_t t;
  net_bans_init(&t, 100, 1000);
  uint8_t a[32] = {1}, b[32] = {2};
  assert_int_equal(net_bans_left(&t, NET_BAN_KEY, a, 0), 0);
  assert_int_equal(net_bans_add(&t, NET_BAN_KEY, a, 0), 100);
  assert_int_equal(net_bans_left(&t, NET_BAN_KEY, a, 50), 50);
  assert_int_equal(net_bans_left(&t, NET_BAN_IP, a, 50), 0); /* kinds are separate */
  assert_int_equal(net_bans_left(&t, NET_BAN_KEY, b, 50), 0);
  assert_int_equal(net_bans_left(&t, NET_BAN_KEY, a, 100), 0);
  /* Repeat offences double, up to the cap. */
  assert_int_equal(net_bans_add(&t, NET_BAN_KEY, a, 200), 200);
  assert_int_equal(net_bans_add(&t, NET_BAN_KEY, a, 500), 400);
  assert_int_equal(net_bans_add(&t, NET_BAN_KEY, a, 1000), 800);
  assert_int_equal(net_bans_add(&t, NET_BAN_KEY, a, 2000), 1000);
  assert_int_equal(net_bans_add(&t, NET_BAN_KEY, a, 3000), 1000);
  /* Clean for longer than the cap after the ban: back to the base. */
  assert_int_equal(net_bans_add(&t, NET_BAN_KEY, a, 3000 + 1000 + 1001), 100);

  /* A full table forgets the ban that ends first (an expired one). */
  net_bans_init(&t, 100, 1000);
  uint8_t id[32] = {0};
  id[31] = 0xaa; /* distinct from a and b */
  for (uint32_t k = 0; k < NET_BANS_MAX; k++) {
    memcpy(id, &k, sizeof k);
    net_bans_add(&t, NET_BAN_IP, id, k == 7 ? 0 : 5000);
  }
  assert_int_equal(t.n, NET_BANS_MAX);
  net_bans_add(&t, NET_BAN_IP, b, 5000);
  assert_int_equal(t.n, NET_BANS_MAX);
  uint32_t seven = 7, eight = 8;
  memcpy(id, &seven, sizeof seven);
  assert_int_equal(net_bans_left(&t, NET_BAN_IP, id, 5000), 0);
  memcpy(id, &eight, sizeof eight);
  assert_int_equal(net_bans_left(&t, NET_BAN_IP, id, 5000), 100);
  assert_int_equal(net_bans_left(&t, NET_BAN_IP, b, 5000), 100);
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello),         cmocka_unit_test(test_session_agrees),
      cmocka_unit_test(test_session_refuses_bad_ephemerals),
      cmocka_unit_test(test_auth_binding),  cmocka_unit_test(test_frames),
      cmocka_unit_test(test_bucket),        cmocka_unit_test(test_bans),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
