/* net_harness.c — see net_harness.h. */
#include "net_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"

/* ---- loop ---- */

uint64_t th_now_ms(void) { return uv_hrtime() / 1000000u; }

static void on_beat(uv_timer_t *t) { (void)t; }

void th_loop_init(th_loop_t *l) {
  assert_int_equal(uv_loop_init(&l->loop), 0);
  assert_int_equal(uv_timer_init(&l->loop, &l->beat), 0);
  assert_int_equal(uv_timer_start(&l->beat, on_beat, 2, 2), 0);
}

void th_loop_close(th_loop_t *l) {
  uv_close((uv_handle_t *)&l->beat, NULL);
  int alive = 1;
  for (int i = 0; i < 2000 && alive; i++) {
    alive = uv_run(&l->loop, UV_RUN_NOWAIT);
    if (alive) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  assert_int_equal(alive, 0);
  assert_int_equal(uv_loop_close(&l->loop), 0);
}

bool th_run_until(th_loop_t *l, bool (*pred)(void *), void *arg, uint64_t timeout_ms) {
  uint64_t end = th_now_ms() + timeout_ms;
  while (!pred(arg)) {
    if (th_now_ms() >= end) return pred(arg);
    uv_run(&l->loop, UV_RUN_ONCE);
  }
  return true;
}

static bool never(void *arg) {
  (void)arg;
  return false;
}

void th_run_for(th_loop_t *l, uint64_t ms) { th_run_until(l, never, NULL, ms); }

/* ---- nodes ---- */

static void on_up(void *ctx, net_peer_t *p, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  th_node_t *n = ctx;
  assert_true(n->n_peers < TH_PEERS_MAX);
  assert_null(th_node_peer(n, pk)); /* one link per key at a time */
  n->peers[n->n_peers] = p;
  memcpy(n->peer_pk[n->n_peers], pk, VCRYPTO_PK_BYTES);
  n->n_peers++;
  n->ups++;
}

static void on_down(void *ctx, net_peer_t *p, int reason) {
  th_node_t *n = ctx;
  size_t i = 0;
  while (i < n->n_peers && n->peers[i] != p) i++;
  assert_true(i < n->n_peers); /* only peers that were up go down */
  n->peers[i] = n->peers[n->n_peers - 1];
  memcpy(n->peer_pk[i], n->peer_pk[n->n_peers - 1], VCRYPTO_PK_BYTES);
  n->n_peers--;
  n->downs++;
  n->last_down_reason = reason;
  if (n->poke_on_down) {
    n->poke_rc = net_dial(n->net, "127.0.0.1", 9, NULL);
    (void)net_broadcast(n->net, NET_CH_STATUS, ve_slice("bye", 3), NULL);
  }
}

static void on_frame(void *ctx, net_peer_t *p, uint8_t channel, ve_slice_t payload) {
  th_node_t *n = ctx;
  assert_true(channel >= NET_CH_CONSENSUS && channel <= NET_CH_LAST);
  n->frames[channel]++;
  n->payload_bytes += payload.len;
  vcrypto_hash(n->last_hash, "veche/test/net", payload.ptr, payload.len);
  n->last_len = payload.len;
  n->last_channel = channel;
  if (n->echo) (void)net_send(n->net, p, channel, payload);
}

void th_node_init(th_node_t *n, th_loop_t *l, uint8_t seed) {
  memset(n, 0, sizeof *n);
  n->l = l;
  uint8_t s[VCRYPTO_SEED_BYTES];
  memset(s, seed, sizeof s);
  vcrypto_keypair_from_seed(&n->kp, s);
  net_config_t *c = &n->cfg;
  c->loop = &l->loop;
  c->key = &n->kp;
  c->chain_id = TH_CHAIN;
  c->listen_host = "127.0.0.1";
  c->on_peer_up = on_up;
  c->on_peer_down = on_down;
  c->on_frame = on_frame;
  c->ctx = n;
  c->handshake_timeout_ms = 2000;
  c->ping_interval_ms = 100;
  c->idle_timeout_ms = 1500;
  c->send_stall_ms = 1000;
  c->dial_backoff_min_ms = 50;
  c->dial_backoff_max_ms = 400;
}

void th_node_start(th_node_t *n) {
  assert_int_equal(net_start(&n->cfg, &n->net), 0);
  n->port = net_listen_port(n->net);
  if (n->cfg.listen_host) assert_true(n->port != 0);
}

void th_node_stop(th_node_t *n) {
  if (!n->net) return;
  net_stop(n->net);
  n->net = NULL;
  assert_int_equal(n->n_peers, 0); /* every up peer got its on_peer_down */
}

net_peer_t *th_node_peer(const th_node_t *n, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  for (size_t i = 0; i < n->n_peers; i++)
    if (memcmp(n->peer_pk[i], pk, VCRYPTO_PK_BYTES) == 0) return n->peers[i];
  return NULL;
}

typedef struct {
  th_node_t *n;
  const uint8_t *pk;
  uint8_t ch;
  uint64_t count;
} th_wait_t;

static bool has_peer(void *arg) {
  th_wait_t *w = arg;
  return th_node_peer(w->n, w->pk) != NULL;
}

bool th_wait_peer(th_node_t *n, const uint8_t pk[VCRYPTO_PK_BYTES], uint64_t timeout_ms) {
  th_wait_t w = {.n = n, .pk = pk};
  return th_run_until(n->l, has_peer, &w, timeout_ms);
}

static bool has_frames(void *arg) {
  th_wait_t *w = arg;
  return w->n->frames[w->ch] >= w->count;
}

bool th_wait_frames(th_node_t *n, uint8_t channel, uint64_t count, uint64_t timeout_ms) {
  th_wait_t w = {.n = n, .ch = channel, .count = count};
  return th_run_until(n->l, has_frames, &w, timeout_ms);
}

static bool has_downs(void *arg) {
  th_wait_t *w = arg;
  return (uint64_t)w->n->downs >= w->count;
}

bool th_wait_downs(th_node_t *n, int downs, uint64_t timeout_ms) {
  th_wait_t w = {.n = n, .count = (uint64_t)downs};
  return th_run_until(n->l, has_downs, &w, timeout_ms);
}

/* ---- raw peers ---- */

bool th_raw_connect(th_raw_t *r, th_loop_t *l, uint16_t port) {
  memset(r, 0, sizeof *r);
  r->l = l;
  r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (r->fd < 0) return false;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(r->fd, (struct sockaddr *)&sa, sizeof sa);
  if (rc != 0 && errno != EINPROGRESS) return false;
  int one = 1;
  setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

void th_raw_close(th_raw_t *r) {
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  net_session_wipe(&r->sess);
}

bool th_raw_send(th_raw_t *r, const void *data, size_t len, uint64_t timeout_ms) {
  const uint8_t *p = data;
  uint64_t end = th_now_ms() + timeout_ms;
  while (len > 0) {
    ssize_t k = send(r->fd, p, len, MSG_NOSIGNAL);
    if (k > 0) {
      p += k;
      len -= (size_t)k;
      continue;
    }
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) return false;
    if (th_now_ms() >= end) return false;
    uv_run(&r->l->loop, UV_RUN_ONCE);
  }
  return true;
}

bool th_raw_recv(th_raw_t *r, void *buf, size_t len, uint64_t timeout_ms) {
  uint8_t *p = buf;
  uint64_t end = th_now_ms() + timeout_ms;
  while (len > 0) {
    ssize_t k = recv(r->fd, p, len, MSG_DONTWAIT);
    if (k > 0) {
      p += k;
      len -= (size_t)k;
      continue;
    }
    if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)) return false;
    if (th_now_ms() >= end) return false;
    uv_run(&r->l->loop, UV_RUN_ONCE);
  }
  return true;
}

bool th_raw_wait_closed(th_raw_t *r, uint64_t timeout_ms) {
  uint8_t scratch[4096];
  uint64_t end = th_now_ms() + timeout_ms;
  for (;;) {
    ssize_t k = recv(r->fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (k == 0) return true;
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) return true;
    if (th_now_ms() >= end) return false;
    if (k < 0) uv_run(&r->l->loop, UV_RUN_ONCE);
  }
}

bool th_raw_handshake(th_raw_t *r, const vcrypto_keypair_t *kp, int how) {
  uint8_t chain[NET_KEY_BYTES];
  net_chain_hash(chain, how == TH_RAW_WRONG_CHAIN ? "another-chain" : TH_CHAIN);
  net_eph_generate(r->esk, r->epk);
  uint8_t hello[NET_HELLO_BYTES];
  net_hello_encode(hello, chain, r->epk);
  if (!th_raw_send(r, hello, sizeof hello, 2000)) return false;
  uint8_t peer_hello[NET_HELLO_BYTES];
  if (!th_raw_recv(r, peer_hello, sizeof peer_hello, 2000)) return false;
  if (net_hello_decode(peer_hello, chain, r->peer_epk) != 0) return false;
  if (net_session_derive(&r->sess, NET_ROLE_INITIATOR, r->esk, r->epk, r->peer_epk, chain) != 0)
    return false;
  uint8_t auth[NET_LEN_BYTES + NET_AUTH_CT_BYTES];
  int role = how == TH_RAW_BAD_SIG ? NET_ROLE_RESPONDER : NET_ROLE_INITIATOR;
  net_auth_make(auth + NET_LEN_BYTES, kp, role, chain, r->epk, r->peer_epk);
  assert_int_equal(net_seal(&r->sess, auth, NET_AUTH_PLAIN_BYTES), 0);
  if (!th_raw_send(r, auth, sizeof auth, 2000)) return false;
  uint8_t peer_auth[NET_LEN_BYTES + NET_AUTH_CT_BYTES];
  if (!th_raw_recv(r, peer_auth, sizeof peer_auth, 2000)) return false;
  if (net_open(&r->sess, peer_auth, peer_auth + NET_LEN_BYTES, NET_AUTH_CT_BYTES) != 0) return false;
  if (net_auth_check(peer_auth + NET_LEN_BYTES, NET_ROLE_RESPONDER, chain, r->epk, r->peer_epk,
                     r->peer_pk) != 0)
    return false;
  if (how == TH_RAW_NO_READY) return true;
  uint8_t ready[NET_CONTROL_BYTES] = {NET_CTL_READY};
  if (!th_raw_send_frame(r, NET_CH_CONTROL, ready, sizeof ready)) return false;
  uint8_t got[1 + NET_CONTROL_BYTES];
  size_t len = 0;
  if (!th_raw_recv_frame(r, got, sizeof got, &len, 2000)) return false;
  return len == sizeof got && got[0] == NET_CH_CONTROL && got[1] == NET_CTL_READY;
}

bool th_raw_recv_frame(th_raw_t *r, uint8_t *out, size_t cap, size_t *len, uint64_t timeout_ms) {
  uint8_t hdr[NET_LEN_BYTES];
  if (!th_raw_recv(r, hdr, sizeof hdr, timeout_ms)) return false;
  size_t ct = net_be32_get(hdr);
  if (ct < NET_FRAME_CT_MIN || ct > cap + NET_AEAD_TAG_BYTES) return false;
  uint8_t *buf = malloc(ct);
  assert_non_null(buf);
  bool ok = th_raw_recv(r, buf, ct, timeout_ms) && net_open(&r->sess, hdr, buf, ct) == 0;
  if (ok) {
    *len = ct - NET_AEAD_TAG_BYTES;
    memcpy(out, buf, *len);
  }
  free(buf);
  return ok;
}

bool th_raw_send_frame(th_raw_t *r, uint8_t channel, const void *payload, size_t len) {
  size_t total = NET_LEN_BYTES + 1 + len + NET_AEAD_TAG_BYTES;
  uint8_t *f = malloc(total);
  assert_non_null(f);
  f[NET_LEN_BYTES] = channel;
  if (len) memcpy(f + NET_LEN_BYTES + 1, payload, len);
  assert_int_equal(net_seal(&r->sess, f, 1 + len), 0);
  bool ok = th_raw_send(r, f, total, 2000);
  free(f);
  return ok;
}
