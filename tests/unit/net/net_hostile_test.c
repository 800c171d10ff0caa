/* net_hostile_test.c — raw-socket peers that break the protocol on purpose,
 * against a node (allowlist) that keeps a legitimate link to another node.
 * Each attack must end with the attacker disconnected and, where the protocol
 * says so, its key and address banned, while the legitimate pair keeps
 * exchanging frames. Also: the open-node address ban, handshake timeouts and
 * per-address handshake limits, and seeded random garbage at every stage
 * (NET_TEST_SEED=<n> replays a run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/log.h"
#include "net_harness.h"

#define ATTACKERS 24

typedef struct {
  th_loop_t l;
  th_node_t a, b;                 /* a: the node under attack; b: its honest peer */
  vcrypto_keypair_t att[ATTACKERS]; /* keys a allows (so attacks get past admission) */
  vcrypto_keypair_t stranger;     /* a key a does not allow */
  uint8_t allow[ATTACKERS + 1][VCRYPTO_PK_BYTES];
  uint32_t checks;
} fx_t;

static void key_of(vcrypto_keypair_t *k, uint8_t seed) {
  uint8_t s[VCRYPTO_SEED_BYTES];
  memset(s, seed, sizeof s);
  vcrypto_keypair_from_seed(k, s);
}

static void fx_start(fx_t *f) {
  memset(f, 0, sizeof *f);
  th_loop_init(&f->l);
  th_node_init(&f->a, &f->l, 1);
  th_node_init(&f->b, &f->l, 2);
  memcpy(f->allow[0], f->b.kp.pk, VCRYPTO_PK_BYTES);
  for (int i = 0; i < ATTACKERS; i++) {
    key_of(&f->att[i], (uint8_t)(100 + i));
    memcpy(f->allow[1 + i], f->att[i].pk, VCRYPTO_PK_BYTES);
  }
  key_of(&f->stranger, 99);
  f->a.cfg.allow = (const uint8_t(*)[VCRYPTO_PK_BYTES])f->allow;
  f->a.cfg.n_allow = ATTACKERS + 1;
  f->a.cfg.rate_frames_per_s = 200;
  f->a.cfg.rate_frames_burst = 400;
  th_node_start(&f->a);
  th_node_start(&f->b);
  assert_int_equal(net_dial(f->b.net, "127.0.0.1", f->a.port, f->a.kp.pk), 0);
  assert_true(th_wait_peer(&f->a, f->b.kp.pk, 3000));
  assert_true(th_wait_peer(&f->b, f->a.kp.pk, 3000));
}

static void fx_stop(fx_t *f) {
  th_node_stop(&f->a);
  th_node_stop(&f->b);
  th_loop_close(&f->l);
}

/* The honest pair still talks both ways over the link it had from the start. */
static void check_honest_link(fx_t *f) {
  f->checks++;
  net_peer_t *ab = th_node_peer(&f->a, f->b.kp.pk), *ba = th_node_peer(&f->b, f->a.kp.pk);
  assert_non_null(ab);
  assert_non_null(ba);
  uint64_t na = f->a.frames[NET_CH_CONSENSUS], nb = f->b.frames[NET_CH_CONSENSUS];
  assert_int_equal(net_send(f->a.net, ab, NET_CH_CONSENSUS, ve_slice("vote", 4)), 0);
  assert_int_equal(net_send(f->b.net, ba, NET_CH_CONSENSUS, ve_slice("prop", 4)), 0);
  assert_true(th_wait_frames(&f->b, NET_CH_CONSENSUS, nb + 1, 3000));
  assert_true(th_wait_frames(&f->a, NET_CH_CONSENSUS, na + 1, 3000));
  assert_int_equal(f->b.downs, 0);
}

static void attacker_connect(fx_t *f, th_raw_t *r) {
  assert_true(th_raw_connect(r, &f->l, f->a.port));
}

static uint64_t bans_of(const th_node_t *n) {
  net_stats_t st;
  net_stats(n->net, &st);
  return st.bans;
}

static uint64_t refused_banned_of(const th_node_t *n) {
  net_stats_t st;
  net_stats(n->net, &st);
  return st.refused_banned;
}

/* An attacker that authenticates with att[i] (so the link is up on a) and then
 * sends `bytes`; a must drop it with `reason` and ban its key. */
static void attack_after_handshake(fx_t *f, int i, const void *bytes, size_t len, int reason) {
  uint64_t bans = bans_of(&f->a);
  int downs = f->a.downs;
  th_raw_t r;
  attacker_connect(f, &r);
  assert_true(th_raw_handshake(&r, &f->att[i], TH_RAW_OK));
  assert_true(th_wait_peer(&f->a, f->att[i].pk, 2000));
  assert_true(th_raw_send(&r, bytes, len, 2000));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_true(th_wait_downs(&f->a, downs + 1, 2000));
  assert_int_equal(f->a.last_down_reason, reason);
  assert_int_equal(bans_of(&f->a), bans + 1);
  assert_true(net_key_ban_ms(f->a.net, f->att[i].pk) > 0);
  /* Coming back within the ban period is refused. */
  uint64_t refused = refused_banned_of(&f->a);
  attacker_connect(f, &r);
  assert_false(th_raw_handshake(&r, &f->att[i], TH_RAW_OK));
  th_raw_close(&r);
  th_run_for(&f->l, 20);
  assert_int_equal(refused_banned_of(&f->a), refused + 1);
  assert_null(th_node_peer(&f->a, f->att[i].pk));
  check_honest_link(f);
}

static void test_oversize_length_prefix(void **state) {
  fx_t *f = *state;
  uint8_t hdr[4] = {0xff, 0xff, 0xff, 0xff};
  attack_after_handshake(f, 0, hdr, sizeof hdr, VE_ERR_TOO_BIG);
  uint8_t just_over[4];
  net_be32_put(just_over, NET_FRAME_BYTES_MAX + 1);
  attack_after_handshake(f, 1, just_over, sizeof just_over, VE_ERR_TOO_BIG);
  uint8_t under[4 + 16];
  memset(under, 0, sizeof under);
  net_be32_put(under, NET_FRAME_CT_MIN - 1);
  attack_after_handshake(f, 2, under, sizeof under, VE_ERR_MALFORMED);
}

static void test_undecryptable_frame(void **state) {
  fx_t *f = *state;
  uint8_t frame[4 + 64];
  net_be32_put(frame, 64);
  for (int i = 0; i < 64; i++) frame[4 + i] = (uint8_t)(i * 37 + 1);
  attack_after_handshake(f, 3, frame, sizeof frame, VE_ERR_CRYPTO);
}

static void test_unknown_channel_and_bad_control(void **state) {
  fx_t *f = *state;
  /* Frames sealed correctly, so only their content is wrong. */
  th_raw_t r;
  struct {
    uint8_t ch;
    uint8_t body[NET_CONTROL_BYTES];
    size_t len;
    int reason;
  } cases[] = {
      {200, {1, 2, 3}, 3, VE_ERR_UNSUPPORTED},
      {NET_CH_LAST + 1, {0}, 0, VE_ERR_UNSUPPORTED},
      {NET_CH_CONTROL, {7, 0}, NET_CONTROL_BYTES, VE_ERR_MALFORMED},          /* unknown type */
      {NET_CH_CONTROL, {NET_CTL_PING}, 3, VE_ERR_MALFORMED},                  /* short */
      {NET_CH_CONTROL, {NET_CTL_READY}, NET_CONTROL_BYTES, VE_ERR_MALFORMED}, /* READY again */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int i = 4 + (int)k;
    int downs = f->a.downs;
    attacker_connect(f, &r);
    assert_true(th_raw_handshake(&r, &f->att[i], TH_RAW_OK));
    assert_true(th_wait_peer(&f->a, f->att[i].pk, 2000));
    assert_true(th_raw_send_frame(&r, cases[k].ch, cases[k].body, cases[k].len));
    assert_true(th_raw_wait_closed(&r, 3000));
    th_raw_close(&r);
    assert_true(th_wait_downs(&f->a, downs + 1, 2000));
    assert_int_equal(f->a.last_down_reason, cases[k].reason);
    assert_true(net_key_ban_ms(f->a.net, f->att[i].pk) > 0);
    check_honest_link(f);
  }
}

static void test_frame_flood(void **state) {
  fx_t *f = *state;
  int i = 10;
  th_raw_t r;
  int downs = f->a.downs;
  attacker_connect(f, &r);
  assert_true(th_raw_handshake(&r, &f->att[i], TH_RAW_OK));
  assert_true(th_wait_peer(&f->a, f->att[i].pk, 2000));
  uint64_t before = f->a.frames[NET_CH_TX];
  /* 2000 small valid frames at once, against a limit of 200/s with a 400 burst. */
  for (int k = 0; k < 2000; k++) {
    uint8_t m[8];
    memcpy(m, &k, sizeof k);
    if (!th_raw_send_frame(&r, NET_CH_TX, m, sizeof m)) break; /* closed on us */
  }
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_true(th_wait_downs(&f->a, downs + 1, 2000));
  assert_int_equal(f->a.last_down_reason, VE_ERR_LIMIT);
  uint64_t got = f->a.frames[NET_CH_TX] - before;
  print_message("flood: %llu of 2000 frames delivered before the drop\n", (unsigned long long)got);
  assert_true(got <= 400);
  assert_true(net_key_ban_ms(f->a.net, f->att[i].pk) > 0);
  /* Back within the ban period: refused. */
  uint64_t refused = refused_banned_of(&f->a);
  attacker_connect(f, &r);
  assert_false(th_raw_handshake(&r, &f->att[i], TH_RAW_OK));
  th_raw_close(&r);
  th_run_for(&f->l, 20);
  assert_int_equal(refused_banned_of(&f->a), refused + 1);
  check_honest_link(f);
}

static void test_handshake_attacks(void **state) {
  fx_t *f = *state;
  th_raw_t r;
  uint64_t bans = bans_of(&f->a);

  /* A key a does not allow: refused as soon as it is named, before a signs or
   * verifies anything; the address is banned (the unverified key cannot be). */
  attacker_connect(f, &r);
  assert_false(th_raw_handshake(&r, &f->stranger, TH_RAW_OK));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), ++bans);
  assert_int_equal(net_key_ban_ms(f->a.net, f->stranger.pk), 0);
  check_honest_link(f);
  /* ...and again: now refused because the address is banned, without a new ban. */
  uint64_t refused = refused_banned_of(&f->a);
  attacker_connect(f, &r);
  assert_false(th_raw_handshake(&r, &f->stranger, TH_RAW_OK));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), bans);
  assert_int_equal(refused_banned_of(&f->a), refused + 1);

  /* Garbage instead of a HELLO. */
  attacker_connect(f, &r);
  static const char junk[] = "GET / HTTP/1.1\r\nHost: veche.example\r\nAccept: */*\r\nUser-Agent: probe\r\n\r\n";
  assert_true(sizeof junk - 1 >= NET_HELLO_BYTES);
  assert_true(th_raw_send(&r, junk, sizeof junk - 1, 2000));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), ++bans);
  check_honest_link(f);

  /* A HELLO for another chain. */
  attacker_connect(f, &r);
  assert_false(th_raw_handshake(&r, &f->att[11], TH_RAW_WRONG_CHAIN));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), ++bans);
  /* Only the address: an unverified key is never banned. */
  assert_int_equal(net_key_ban_ms(f->a.net, f->att[11].pk), 0);
  check_honest_link(f);

  /* A signature made for the other role (a reflected or misbound AUTH). */
  attacker_connect(f, &r);
  assert_false(th_raw_handshake(&r, &f->att[12], TH_RAW_BAD_SIG));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), ++bans);
  assert_int_equal(net_key_ban_ms(f->a.net, f->att[12].pk), 0);
  check_honest_link(f);

  /* AUTH of the wrong length after a good HELLO. */
  attacker_connect(f, &r);
  uint8_t chain[NET_KEY_BYTES], esk[32], epk[32], hello[NET_HELLO_BYTES];
  net_chain_hash(chain, TH_CHAIN);
  net_eph_generate(esk, epk);
  net_hello_encode(hello, chain, epk);
  assert_true(th_raw_send(&r, hello, sizeof hello, 2000));
  uint8_t bad_auth[4 + 200] = {0};
  net_be32_put(bad_auth, 200);
  assert_true(th_raw_send(&r, bad_auth, sizeof bad_auth, 2000));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), ++bans);

  /* Application data before READY. */
  attacker_connect(f, &r);
  assert_true(th_raw_handshake(&r, &f->att[13], TH_RAW_NO_READY));
  assert_true(th_raw_send_frame(&r, NET_CH_TX, "early", 5));
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), ++bans);
  assert_true(net_key_ban_ms(f->a.net, f->att[13].pk) > 0);
  assert_null(th_node_peer(&f->a, f->att[13].pk)); /* never reported up */

  /* The address 127.0.0.1 is banned now, yet allowlisted keys still get in. */
  attacker_connect(f, &r);
  assert_true(th_raw_handshake(&r, &f->att[14], TH_RAW_OK));
  assert_true(th_wait_peer(&f->a, f->att[14].pk, 2000));
  th_raw_close(&r);
  check_honest_link(f);
}

/* Seeded garbage at each stage: never a crash, always a disconnect, and the
 * honest link is untouched. */
static void test_random_garbage(void **state) {
  fx_t *f = *state;
  uint64_t seed = (uint64_t)time(NULL);
  const char *env = getenv("NET_TEST_SEED");
  if (env) seed = strtoull(env, NULL, 10);
  print_message("random garbage seed %llu (NET_TEST_SEED=%llu replays)\n", (unsigned long long)seed,
                (unsigned long long)seed);
  uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (int k = 0; k < 6; k++) {
    int i = 15 + k;
    int stage = k % 3; /* 0: instead of HELLO, 1: instead of AUTH, 2: after READY */
    uint8_t junk[512];
    size_t len = 1;
    for (size_t j = 0; j < sizeof junk; j++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      junk[j] = (uint8_t)x;
    }
    len = 1 + (size_t)(x % sizeof junk);
    th_raw_t r;
    attacker_connect(f, &r);
    if (stage >= 1) {
      uint8_t chain[NET_KEY_BYTES], hello[NET_HELLO_BYTES];
      net_chain_hash(chain, TH_CHAIN);
      net_eph_generate(r.esk, r.epk);
      net_hello_encode(hello, chain, r.epk);
      assert_true(th_raw_send(&r, hello, sizeof hello, 2000));
    }
    if (stage == 2) {
      th_raw_close(&r);
      attacker_connect(f, &r);
      assert_true(th_raw_handshake(&r, &f->att[i], TH_RAW_OK));
    }
    assert_true(th_raw_send(&r, junk, len, 2000));
    shutdown(r.fd, SHUT_WR); /* a valid-looking length would otherwise wait for more */
    assert_true(th_raw_wait_closed(&r, 3000));
    th_raw_close(&r);
    check_honest_link(f);
  }
  th_run_for(&f->l, 50);
  assert_int_equal(net_peer_count(f->a.net), 1);
}

static int setup(void **state) {
  fx_t *f = malloc(sizeof *f);
  assert_non_null(f);
  fx_start(f);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx_t *f = *state;
  fx_stop(f);
  free(f);
  return 0;
}

/* A banned address on an allowlist node: strangers from it are refused as soon
 * as they name their key, and they cannot starve a listed key that shares the
 * address, however often they try. */
static void test_banned_address_shared_with_listed_key(void **state) {
  fx_t *f = *state;
  th_raw_t r;
  attacker_connect(f, &r);
  assert_false(th_raw_handshake(&r, &f->att[0], TH_RAW_WRONG_CHAIN)); /* bans 127.0.0.1 */
  assert_true(th_raw_wait_closed(&r, 3000));
  th_raw_close(&r);
  assert_int_equal(bans_of(&f->a), 1);
  for (int round = 0; round < 5; round++) {
    uint64_t refused = refused_banned_of(&f->a);
    for (int k = 0; k < 3; k++) {
      attacker_connect(f, &r);
      assert_false(th_raw_handshake(&r, &f->stranger, TH_RAW_OK));
      th_raw_close(&r);
    }
    th_raw_t ok;
    attacker_connect(f, &ok);
    assert_true(th_raw_handshake(&ok, &f->att[1 + round], TH_RAW_OK));
    assert_true(th_wait_peer(&f->a, f->att[1 + round].pk, 2000));
    th_raw_close(&ok);
    th_run_for(&f->l, 10);
    assert_int_equal(refused_banned_of(&f->a), refused + 3);
  }
  assert_int_equal(bans_of(&f->a), 1); /* refusals of a banned address add no bans */
  check_honest_link(f);
}

/* ---- an open node (no allowlist): address bans refuse at accept ---- */

static void test_open_node_address_ban_and_limits(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t o;
  th_node_init(&o, &l, 1);
  o.cfg.handshake_timeout_ms = 300;
  o.cfg.handshakes_per_ip_max = 3;
  th_node_start(&o);

  /* Slow handshakes: dropped at the timeout, no ban; a 4th at once is refused. */
  th_raw_t s[4];
  for (int i = 0; i < 4; i++) assert_true(th_raw_connect(&s[i], &l, o.port));
  assert_true(th_raw_wait_closed(&s[3], 1000)); /* over the per-address limit */
  net_stats_t st;
  net_stats(o.net, &st);
  assert_int_equal(st.refused_full, 1);
  for (int i = 0; i < 3; i++) assert_true(th_raw_wait_closed(&s[i], 2000));
  for (int i = 0; i < 4; i++) th_raw_close(&s[i]);
  net_stats(o.net, &st);
  assert_int_equal(st.bans, 0);
  assert_int_equal(st.handshakes, 0);

  /* Any key may connect to an open node. */
  th_raw_t r;
  vcrypto_keypair_t k;
  key_of(&k, 50);
  assert_true(th_raw_connect(&r, &l, o.port));
  assert_true(th_raw_handshake(&r, &k, TH_RAW_OK));
  assert_true(th_wait_peer(&o, k.pk, 2000));
  th_raw_close(&r);
  assert_true(th_wait_downs(&o, 1, 2000));
  assert_int_equal(o.last_down_reason, VE_ERR_CLOSED);

  /* Garbage: the address is banned; the next connection is closed at accept,
   * whatever key it would have shown. */
  assert_true(th_raw_connect(&r, &l, o.port));
  uint8_t garbage[NET_HELLO_BYTES];
  memset(garbage, 0x5a, sizeof garbage);
  assert_true(th_raw_send(&r, garbage, sizeof garbage, 2000));
  assert_true(th_raw_wait_closed(&r, 2000));
  th_raw_close(&r);
  net_stats(o.net, &st);
  assert_int_equal(st.bans, 1);
  assert_true(th_raw_connect(&r, &l, o.port));
  assert_false(th_raw_handshake(&r, &k, TH_RAW_OK));
  th_raw_close(&r);
  th_run_for(&l, 20);
  net_stats(o.net, &st);
  assert_int_equal(st.refused_banned, 1);
  assert_int_equal(o.ups, 1);
  th_node_stop(&o);
  th_loop_close(&l);
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  ve_log_set_level(VE_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_oversize_length_prefix, setup, teardown),
      cmocka_unit_test_setup_teardown(test_undecryptable_frame, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_channel_and_bad_control, setup, teardown),
      cmocka_unit_test_setup_teardown(test_frame_flood, setup, teardown),
      cmocka_unit_test_setup_teardown(test_handshake_attacks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(test_banned_address_shared_with_listed_key, setup, teardown),
      cmocka_unit_test(test_open_node_address_ban_and_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
