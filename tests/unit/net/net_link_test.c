/* net_link_test.c — nets talking to nets on 127.0.0.1: frames on every channel
 * both ways (up to the maximum size), three nodes with crossed dials, admission
 * (allowlist, pinned key, chain), reconnect after a restart, keepalive, send
 * backpressure and the stall deadline, receive throttling, explicit bans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/log.h"
#include "net_harness.h"

static void fill(uint8_t *p, size_t len, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

static void hash_of(uint8_t out[VCRYPTO_HASH_BYTES], const uint8_t *p, size_t len) {
  vcrypto_hash(out, "veche/test/net", p, len);
}

/* a and b up with each other: b dials a with a pinned key. */
static void connect_pair(th_node_t *a, th_node_t *b) {
  assert_int_equal(net_dial(b->net, "127.0.0.1", a->port, a->kp.pk), 0);
  assert_true(th_wait_peer(a, b->kp.pk, 3000));
  assert_true(th_wait_peer(b, a->kp.pk, 3000));
}

static void send_and_check(th_node_t *from, th_node_t *to, uint8_t ch, size_t len, uint32_t seed) {
  uint8_t *p = malloc(len ? len : 1);
  assert_non_null(p);
  fill(p, len, seed);
  uint64_t before = to->frames[ch];
  net_peer_t *peer = th_node_peer(from, to->kp.pk);
  assert_non_null(peer);
  assert_int_equal(net_send(from->net, peer, ch, ve_slice(p, len)), 0);
  assert_true(th_wait_frames(to, ch, before + 1, 10000));
  uint8_t h[VCRYPTO_HASH_BYTES];
  hash_of(h, p, len);
  assert_int_equal(to->last_len, len);
  assert_int_equal(to->last_channel, ch);
  assert_memory_equal(to->last_hash, h, sizeof h);
  free(p);
}

static void test_two_nodes_all_channels(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  th_node_start(&a);
  th_node_start(&b);
  connect_pair(&a, &b);
  assert_int_equal(net_peer_count(a.net), 1);
  assert_int_equal(net_peer_count(b.net), 1);

  net_peer_info_t info;
  net_peer_info(th_node_peer(&b, a.kp.pk), &info);
  assert_true(info.outbound);
  assert_memory_equal(info.pk, a.kp.pk, VCRYPTO_PK_BYTES);
  net_peer_info(th_node_peer(&a, b.kp.pk), &info);
  assert_false(info.outbound);
  assert_memory_equal(net_peer_pk(th_node_peer(&a, b.kp.pk)), b.kp.pk, VCRYPTO_PK_BYTES);

  for (uint8_t ch = NET_CH_CONSENSUS; ch <= NET_CH_LAST; ch++) {
    send_and_check(&a, &b, ch, 100 + ch, ch);
    send_and_check(&b, &a, ch, 200 + ch, 100u + ch);
  }
  send_and_check(&a, &b, NET_CH_TX, 0, 7); /* empty payload */
  send_and_check(&a, &b, NET_CH_SYNC, 4u << 20, 8); /* 4 MiB */
  send_and_check(&b, &a, NET_CH_SYNC, (4u << 20) + 3, 9);

  /* Many frames in a row arrive in order and complete. */
  net_peer_t *to_b = th_node_peer(&a, b.kp.pk);
  uint64_t base = b.frames[NET_CH_TX];
  for (int i = 0; i < 500; i++) {
    uint8_t m[32];
    fill(m, sizeof m, (uint32_t)i);
    assert_int_equal(net_send(a.net, to_b, NET_CH_TX, ve_slice(m, sizeof m)), 0);
  }
  assert_true(th_wait_frames(&b, NET_CH_TX, base + 500, 5000));

  /* What the caller may not send. */
  uint8_t x = 0;
  assert_int_equal(net_send(a.net, to_b, NET_CH_CONTROL, ve_slice(&x, 1)), VE_ERR_INVALID);
  assert_int_equal(net_send(a.net, to_b, NET_CH_LAST + 1, ve_slice(&x, 1)), VE_ERR_INVALID);
  assert_int_equal(net_send(a.net, to_b, NET_CH_TX, ve_slice(&x, NET_PAYLOAD_BYTES_MAX + 1)),
                   VE_ERR_TOO_BIG);

  net_stats_t st;
  net_stats(a.net, &st);
  assert_int_equal(st.peers, 1);
  assert_int_equal(st.bans, 0);
  assert_true(st.frames_out >= 500 + 6);
  assert_int_equal(a.downs, 0);
  assert_int_equal(b.downs, 0);
  th_node_stop(&a);
  th_node_stop(&b);
  th_loop_close(&l);
}

static void test_max_frame(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  a.cfg.idle_timeout_ms = b.cfg.idle_timeout_ms = 10000; /* slow under sanitizers */
  th_node_start(&a);
  th_node_start(&b);
  connect_pair(&a, &b);
  send_and_check(&a, &b, NET_CH_SYNC, NET_PAYLOAD_BYTES_MAX, 11);
  send_and_check(&b, &a, NET_CH_CONSENSUS, 5, 12); /* and the link still works */
  th_node_stop(&a);
  th_node_stop(&b);
  th_loop_close(&l);
}

typedef struct {
  th_node_t *n;
  size_t k;
} all_t;

static bool all_have_two(void *arg) {
  all_t *w = arg;
  for (size_t i = 0; i < w->k; i++)
    if (w->n[i].n_peers != 2) return false;
  return true;
}

static void test_three_nodes_crossed_dials(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t n[3];
  for (int i = 0; i < 3; i++) {
    th_node_init(&n[i], &l, (uint8_t)(1 + i));
    th_node_start(&n[i]);
  }
  /* Every node dials every other one: each pair gets two links at once and
   * must settle on one, the same on both ends. */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      if (i != j) assert_int_equal(net_dial(n[i].net, "127.0.0.1", n[j].port, n[j].kp.pk), 0);
  all_t w = {n, 3};
  assert_true(th_run_until(&l, all_have_two, &w, 5000));
  /* Settled: no flapping afterwards. */
  th_run_for(&l, 400);
  assert_true(all_have_two(&w));
  int ups[3];
  for (int i = 0; i < 3; i++) ups[i] = n[i].ups;
  th_run_for(&l, 300);
  for (int i = 0; i < 3; i++) assert_int_equal(n[i].ups, ups[i]);

  for (int i = 0; i < 3; i++) {
    uint8_t m[64];
    fill(m, sizeof m, (uint32_t)i);
    assert_int_equal(net_broadcast(n[i].net, NET_CH_CONSENSUS, ve_slice(m, sizeof m), NULL), 2);
  }
  for (int i = 0; i < 3; i++) assert_true(th_wait_frames(&n[i], NET_CH_CONSENSUS, 2, 3000));
  /* except skips one peer */
  net_peer_t *skip = th_node_peer(&n[0], n[1].kp.pk);
  assert_int_equal(net_broadcast(n[0].net, NET_CH_TX, ve_slice("x", 1), skip), 1);
  assert_true(th_wait_frames(&n[2], NET_CH_TX, 1, 3000));
  th_run_for(&l, 50);
  assert_int_equal(n[1].frames[NET_CH_TX], 0);
  for (int i = 0; i < 3; i++) th_node_stop(&n[i]);
  th_loop_close(&l);
}

static void test_allowlist_refuses_unknown_key(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b, c;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  th_node_init(&c, &l, 3);
  uint8_t allow[1][VCRYPTO_PK_BYTES];
  memcpy(allow[0], b.kp.pk, VCRYPTO_PK_BYTES);
  a.cfg.allow = (const uint8_t(*)[VCRYPTO_PK_BYTES])allow;
  a.cfg.n_allow = 1;
  th_node_start(&a);
  th_node_start(&b);
  th_node_start(&c);
  assert_int_equal(net_dial(c.net, "127.0.0.1", a.port, NULL), 0);
  connect_pair(&a, &b); /* the listed key gets in */
  th_run_for(&l, 300);
  assert_null(th_node_peer(&a, c.kp.pk));
  assert_null(th_node_peer(&c, a.kp.pk));
  net_stats_t st;
  net_stats(a.net, &st);
  assert_true(st.bans >= 1); /* c's address; c's key is refused without being verified */
  assert_int_equal(net_key_ban_ms(a.net, b.kp.pk), 0);
  /* The address (127.0.0.1) is banned too, yet the listed key still gets in:
   * address bans never lock out allowlisted keys. */
  net_disconnect(a.net, th_node_peer(&a, b.kp.pk), VE_ERR_CLOSED, false);
  assert_int_equal(a.downs, 1);
  assert_true(th_wait_peer(&a, b.kp.pk, 3000));

  /* Replacing the list drops peers no longer on it. */
  uint8_t only_c[1][VCRYPTO_PK_BYTES];
  memcpy(only_c[0], c.kp.pk, VCRYPTO_PK_BYTES);
  assert_int_equal(net_set_allow(a.net, (const uint8_t(*)[VCRYPTO_PK_BYTES])only_c, 1), 0);
  assert_null(th_node_peer(&a, b.kp.pk));
  assert_int_equal(a.last_down_reason, VE_ERR_PERMISSION);
  th_node_stop(&a);
  th_node_stop(&b);
  th_node_stop(&c);
  th_loop_close(&l);
}

static void test_pinned_key_mismatch(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b, c;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  th_node_init(&c, &l, 3);
  th_node_start(&a);
  th_node_start(&b);
  th_node_start(&c);
  /* b expects c's key at a's address. */
  assert_int_equal(net_dial(b.net, "127.0.0.1", a.port, c.kp.pk), 0);
  th_run_for(&l, 500);
  assert_int_equal(a.ups, 0);
  assert_int_equal(b.ups, 0);
  net_stats_t st;
  net_stats(b.net, &st);
  assert_true(st.dials >= 2); /* keeps retrying with backoff */
  assert_true(st.handshakes_failed >= 1);
  assert_int_equal(st.bans, 0); /* our own configuration: no ban */
  th_node_stop(&a);
  th_node_stop(&b);
  th_node_stop(&c);
  th_loop_close(&l);
}

static void test_wrong_chain_refused(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  b.cfg.chain_id = "veche-other-chain";
  th_node_start(&a);
  th_node_start(&b);
  assert_int_equal(net_dial(b.net, "127.0.0.1", a.port, NULL), 0);
  th_run_for(&l, 400);
  assert_int_equal(a.ups, 0);
  assert_int_equal(b.ups, 0);
  net_stats_t st;
  net_stats(a.net, &st);
  assert_true(st.bans >= 1);
  th_node_stop(&a);
  th_node_stop(&b);
  th_loop_close(&l);
}

static void test_reconnect_after_restart(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  th_node_start(&a);
  th_node_start(&b);
  connect_pair(&a, &b);
  uint16_t port = a.port;
  th_node_stop(&a);
  assert_true(th_wait_downs(&b, 1, 3000));
  assert_int_equal(b.last_down_reason, VE_ERR_CLOSED);
  th_run_for(&l, 300); /* b redials a closed port a few times, backing off */
  assert_int_equal(b.ups, 1);
  th_node_t a2;
  th_node_init(&a2, &l, 1);
  a2.cfg.listen_port = port;
  th_node_start(&a2);
  assert_true(th_wait_peer(&b, a2.kp.pk, 3000));
  assert_true(th_wait_peer(&a2, b.kp.pk, 3000));
  send_and_check(&b, &a2, NET_CH_CONSENSUS, 33, 1);
  send_and_check(&a2, &b, NET_CH_CONSENSUS, 44, 2);
  th_node_stop(&a2);
  th_node_stop(&b);
  th_loop_close(&l);
}

static void test_dial_by_name(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  th_node_start(&a);
  th_node_start(&b);
  assert_int_equal(net_dial(b.net, "localhost", a.port, a.kp.pk), 0);
  assert_true(th_wait_peer(&b, a.kp.pk, 3000));
  assert_int_equal(net_dial(b.net, "", a.port, NULL), VE_ERR_INVALID);
  assert_int_equal(net_dial(b.net, "127.0.0.1", 0, NULL), VE_ERR_INVALID);
  th_node_stop(&a);
  th_node_stop(&b); /* also fine with a resolution in flight */
  th_loop_close(&l);
}

static void test_ipv6(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  a.cfg.listen_host = "::1";
  b.cfg.listen_host = NULL; /* dial-only */
  if (net_start(&a.cfg, &a.net) != 0) {
    th_loop_close(&l);
    skip(); /* no IPv6 loopback here */
  }
  a.port = net_listen_port(a.net);
  th_node_start(&b);
  assert_int_equal(net_listen_port(b.net), 0);
  assert_int_equal(net_dial(b.net, "::1", a.port, a.kp.pk), 0);
  assert_true(th_wait_peer(&a, b.kp.pk, 3000));
  net_peer_info_t info;
  net_peer_info(th_node_peer(&a, b.kp.pk), &info);
  assert_memory_equal(info.addr, "[::1]:", 6);
  send_and_check(&a, &b, NET_CH_STATUS, 10, 1);
  th_node_stop(&a);
  th_node_stop(&b);
  th_loop_close(&l);
}

static void test_keepalive(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  a.cfg.idle_timeout_ms = b.cfg.idle_timeout_ms = 600;
  th_node_start(&a);
  th_node_start(&b);
  connect_pair(&a, &b);
  /* No application traffic for well over the idle timeout: pings keep it up. */
  th_run_for(&l, 1500);
  assert_int_equal(a.downs, 0);
  assert_int_equal(b.downs, 0);
  net_stats_t st;
  net_stats(a.net, &st);
  assert_true(st.frames_in >= 5); /* pings and pongs */

  /* A peer that authenticates and then says nothing is dropped. */
  th_raw_t r;
  vcrypto_keypair_t k;
  uint8_t seed[32] = {9};
  vcrypto_keypair_from_seed(&k, seed);
  assert_true(th_raw_connect(&r, &l, a.port));
  assert_true(th_raw_handshake(&r, &k, TH_RAW_OK));
  assert_true(th_wait_peer(&a, k.pk, 2000));
  uint64_t t0 = th_now_ms();
  assert_true(th_wait_downs(&a, 1, 3000));
  assert_int_equal(a.last_down_reason, VE_ERR_TIMEOUT);
  assert_true(th_now_ms() - t0 >= 300);
  assert_true(th_raw_wait_closed(&r, 1000));
  th_raw_close(&r);
  assert_non_null(th_node_peer(&a, b.kp.pk)); /* the live peer stays */
  th_node_stop(&a);
  th_node_stop(&b);
  th_loop_close(&l);
}

static void test_backpressure_and_stall(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a;
  th_node_init(&a, &l, 1);
  a.cfg.send_queue_bytes_max = 512 * 1024;
  a.cfg.send_stall_ms = 500;
  a.cfg.idle_timeout_ms = 10000;
  th_node_start(&a);
  th_raw_t r; /* authenticates, then never reads */
  vcrypto_keypair_t k;
  uint8_t seed[32] = {9};
  vcrypto_keypair_from_seed(&k, seed);
  assert_true(th_raw_connect(&r, &l, a.port));
  assert_true(th_raw_handshake(&r, &k, TH_RAW_OK));
  assert_true(th_wait_peer(&a, k.pk, 2000));
  net_peer_t *p = th_node_peer(&a, k.pk);
  static uint8_t chunk[64 * 1024];
  int rc = 0, sent = 0;
  for (int i = 0; i < 20000 && rc == 0; i++) {
    rc = net_send(a.net, p, NET_CH_SYNC, ve_slice(chunk, sizeof chunk));
    if (rc == 0) sent++;
    uv_run(&l.loop, UV_RUN_NOWAIT);
  }
  assert_int_equal(rc, VE_ERR_FULL);
  net_peer_info_t info;
  net_peer_info(p, &info);
  assert_true(info.queue_bytes <= a.cfg.send_queue_bytes_max);
  assert_true(info.queue_bytes + sizeof chunk > a.cfg.send_queue_bytes_max);
  net_stats_t st;
  net_stats(a.net, &st);
  assert_true(st.send_full >= 1);
  print_message("queued %d frames of 64 KiB before the queue filled\n", sent);
  /* The queue never drains: dropped after the stall deadline. */
  assert_true(th_wait_downs(&a, 1, 3000));
  assert_int_equal(a.last_down_reason, VE_ERR_TIMEOUT);
  th_raw_close(&r);
  th_node_stop(&a);
  th_loop_close(&l);
}

static void test_receive_throttle(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  a.cfg.rate_bytes_per_s = 2u << 20;
  a.cfg.rate_bytes_burst = 256u << 10;
  th_node_start(&a);
  th_node_start(&b);
  connect_pair(&a, &b);
  static uint8_t m[128 * 1024];
  net_peer_t *to_a = th_node_peer(&b, a.kp.pk);
  uint64_t t0 = th_now_ms();
  for (int i = 0; i < 8; i++)
    assert_int_equal(net_send(b.net, to_a, NET_CH_SYNC, ve_slice(m, sizeof m)), 0);
  assert_true(th_wait_frames(&a, NET_CH_SYNC, 8, 5000));
  uint64_t took = th_now_ms() - t0;
  print_message("1 MiB at 2 MiB/s with a 256 KiB burst took %llu ms\n", (unsigned long long)took);
  assert_true(took >= 250);
  assert_int_equal(a.downs, 0); /* throttled, not punished */
  net_stats_t st;
  net_stats(a.net, &st);
  assert_int_equal(st.bans, 0);
  th_node_stop(&a);
  th_node_stop(&b);
  th_loop_close(&l);
}

static void test_disconnect_with_ban(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a, b;
  th_node_init(&a, &l, 1);
  th_node_init(&b, &l, 2);
  th_node_start(&a);
  th_node_start(&b);
  connect_pair(&a, &b);
  net_disconnect(a.net, th_node_peer(&a, b.kp.pk), VE_ERR_MALFORMED, true);
  assert_int_equal(a.downs, 1); /* on_peer_down ran inside net_disconnect */
  assert_int_equal(a.last_down_reason, VE_ERR_MALFORMED);
  assert_true(th_wait_downs(&b, 1, 2000));
  assert_true(net_key_ban_ms(a.net, b.kp.pk) > 50000);
  th_run_for(&l, 500); /* b keeps redialing; a refuses it */
  assert_int_equal(a.ups, 1);
  assert_null(th_node_peer(&b, a.kp.pk));
  th_node_stop(&a);
  th_node_stop(&b);
  th_loop_close(&l);
}

static void test_dial_self_stops(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a;
  th_node_init(&a, &l, 1);
  uint8_t allow[1][VCRYPTO_PK_BYTES] = {{0}}; /* not even itself */
  a.cfg.allow = (const uint8_t(*)[VCRYPTO_PK_BYTES])allow;
  a.cfg.n_allow = 1;
  a.cfg.dial_backoff_max_ms = 60000;
  th_node_start(&a);
  assert_int_equal(net_dial(a.net, "127.0.0.1", a.port, NULL), 0);
  th_run_for(&l, 400);
  net_stats_t st;
  net_stats(a.net, &st);
  assert_int_equal(st.dials, 1); /* found itself; next try only at the maximum backoff */
  assert_int_equal(st.bans, 0);
  assert_int_equal(a.ups, 0);
  th_node_stop(&a);
  th_loop_close(&l);
}

/* Callbacks that call back into the net while net_stop closes it. */
static void test_stop_with_reentrant_callbacks(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t n[3];
  for (int i = 0; i < 3; i++) {
    th_node_init(&n[i], &l, (uint8_t)(1 + i));
    th_node_start(&n[i]);
  }
  connect_pair(&n[0], &n[1]);
  connect_pair(&n[0], &n[2]);
  n[0].poke_on_down = true;
  th_node_stop(&n[0]); /* on_peer_down ran for both peers inside net_stop */
  assert_int_equal(n[0].downs, 2);
  assert_int_equal(n[0].poke_rc, VE_ERR_CLOSED);
  th_node_stop(&n[1]);
  th_node_stop(&n[2]);
  th_loop_close(&l); /* nothing left open */
}

static void test_config_errors(void **state) {
  (void)state;
  th_loop_t l;
  th_loop_init(&l);
  th_node_t a;
  th_node_init(&a, &l, 1);
  net_t *n = NULL;
  net_config_t c = a.cfg;
  c.chain_id = "";
  assert_int_equal(net_start(&c, &n), VE_ERR_CONFIG);
  c = a.cfg;
  c.chain_id = "0123456789012345678901234567890123456789012345678901234567890123456789";
  assert_int_equal(net_start(&c, &n), VE_ERR_CONFIG);
  c = a.cfg;
  c.n_allow = 1; /* without a list */
  assert_int_equal(net_start(&c, &n), VE_ERR_CONFIG);
  c = a.cfg;
  c.idle_timeout_ms = c.ping_interval_ms; /* would drop live peers */
  assert_int_equal(net_start(&c, &n), VE_ERR_CONFIG);
  c = a.cfg;
  c.listen_host = "not-an-address";
  assert_int_equal(net_start(&c, &n), VE_ERR_CONFIG);
  /* Listening on a port in use fails with VE_ERR_IO; the loop cleans up. */
  th_node_start(&a);
  c = a.cfg;
  c.listen_port = a.port;
  assert_int_equal(net_start(&c, &n), VE_ERR_IO);
  assert_null(n);
  th_node_stop(&a);
  th_loop_close(&l);
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  ve_log_set_level(VE_LOG_WARN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_nodes_all_channels),
      cmocka_unit_test(test_max_frame),
      cmocka_unit_test(test_three_nodes_crossed_dials),
      cmocka_unit_test(test_allowlist_refuses_unknown_key),
      cmocka_unit_test(test_pinned_key_mismatch),
      cmocka_unit_test(test_wrong_chain_refused),
      cmocka_unit_test(test_reconnect_after_restart),
      cmocka_unit_test(test_dial_by_name),
      cmocka_unit_test(test_ipv6),
      cmocka_unit_test(test_keepalive),
      cmocka_unit_test(test_backpressure_and_stall),
      cmocka_unit_test(test_receive_throttle),
      cmocka_unit_test(test_disconnect_with_ban),
      cmocka_unit_test(test_dial_self_stops),
      cmocka_unit_test(test_stop_with_reentrant_callbacks),
      cmocka_unit_test(test_config_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
