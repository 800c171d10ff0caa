/* net.c — the net_t object: configuration, listening, the periodic tick, bans,
 * and the public API that is not about one connection (net_conn.c) or about
 * dialing (net_dial.c).
 *
 * Lifetime: net_start creates the tick timer and the listener; every libuv
 * handle or request the net owns counts in `live`. net_stop closes them all and
 * sets `stopping`; the close callbacks count `live` down and the last one frees
 * the net, so no callback ever touches freed memory.
 */
#include <signal.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "net/net_int.h"

/* ---- small helpers shared by the module ---- */

void net_short_hex(char out[9], const uint8_t *pk) { ve_hex_encode(out, pk, 4); }

bool net_key_allowed(const net_t *n, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  if (!n->allow) return true;
  for (size_t i = 0; i < n->n_allow; i++)
    if (memcmp(n->allow[i], pk, VCRYPTO_PK_BYTES) == 0) return true;
  return false;
}

net_peer_t *net_key_up(const net_t *n, const uint8_t pk[VCRYPTO_PK_BYTES], const net_peer_t *except) {
  for (net_peer_t *c = n->conns; c; c = c->next)
    if (c != except && !c->closing && c->state == NET_ST_UP &&
        memcmp(c->pk, pk, VCRYPTO_PK_BYTES) == 0)
      return c;
  return NULL;
}

static void net_free(net_t *n) {
  net_dial_free_all(n);
  free(n->allow);
  free(n->rbuf);
  free(n);
}

void net_live_dec(net_t *n) {
  VE_ASSERT(n->live > 0);
  n->live--;
  if (n->live == 0 && n->stopping) net_free(n);
}

static void on_handle_close(uv_handle_t *h) { net_live_dec(h->data); }

/* Bans c's address, and its key if the handshake authenticated it: only a
 * verified key may be banned, or anyone could get any node refused by claiming
 * its key in a bad handshake. */
void net_ban_conn(net_t *n, net_peer_t *c, int reason, const char *what) {
  uint64_t now = uv_now(n->loop);
  uint64_t d = net_bans_add(&n->bans, NET_BAN_IP, c->ip, now);
  char k[9] = "-";
  if (c->authed) {
    uint8_t id[NET_BAN_ID_BYTES] = {0};
    memcpy(id, c->pk, VCRYPTO_PK_BYTES);
    uint64_t dk = net_bans_add(&n->bans, NET_BAN_KEY, id, now);
    if (dk > d) d = dk;
    net_short_hex(k, c->pk);
  }
  n->stats.bans++;
  VE_WARN(NET_LOG, "banned %s (key %s) for %llu ms: %s (%s)", c->addr, k, (unsigned long long)d,
          what, ve_err_name(reason));
}

/* ---- configuration ---- */

#define DEFAULT(field, value) \
  do {                        \
    if (!c->field) c->field = (value); \
  } while (0)

static void config_defaults(net_config_t *c) {
  DEFAULT(handshake_timeout_ms, NET_HANDSHAKE_TIMEOUT_MS);
  DEFAULT(ping_interval_ms, NET_PING_INTERVAL_MS);
  DEFAULT(idle_timeout_ms, NET_IDLE_TIMEOUT_MS);
  DEFAULT(send_stall_ms, NET_SEND_STALL_MS);
  DEFAULT(send_queue_bytes_max, NET_SEND_QUEUE_BYTES_MAX);
  DEFAULT(send_queue_frames_max, NET_SEND_QUEUE_FRAMES_MAX);
  DEFAULT(rate_frames_per_s, NET_RATE_FRAMES_PER_S);
  DEFAULT(rate_frames_burst, NET_RATE_FRAMES_BURST);
  DEFAULT(rate_bytes_per_s, NET_RATE_BYTES_PER_S);
  DEFAULT(rate_bytes_burst, NET_RATE_BYTES_BURST);
  DEFAULT(conns_max, NET_CONNS_MAX);
  DEFAULT(handshakes_max, NET_HANDSHAKES_MAX);
  DEFAULT(handshakes_per_ip_max, NET_HANDSHAKES_PER_IP_MAX);
  DEFAULT(dial_backoff_min_ms, NET_DIAL_BACKOFF_MIN_MS);
  DEFAULT(dial_backoff_max_ms, NET_DIAL_BACKOFF_MAX_MS);
  DEFAULT(ban_ms, NET_BAN_MS);
  DEFAULT(ban_ms_max, NET_BAN_MS_MAX);
}

static int config_check(const net_config_t *c) {
  if (!c->loop || !c->key || !c->chain_id) return VE_ERR_CONFIG;
  size_t cl = strlen(c->chain_id);
  if (cl == 0 || cl > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_CONFIG;
  if ((!c->allow && c->n_allow) || c->n_allow > NET_ALLOW_MAX) return VE_ERR_CONFIG;
  if (c->rate_bytes_per_s > NET_RATE_CONFIG_MAX ||
      c->rate_bytes_burst > NET_RATE_CONFIG_MAX)
    return VE_ERR_CONFIG;
  if (c->dial_backoff_max_ms < c->dial_backoff_min_ms || c->ban_ms_max < c->ban_ms)
    return VE_ERR_CONFIG;
  /* Pings must be able to arrive before the peer counts as idle. */
  if (c->idle_timeout_ms <= c->ping_interval_ms) return VE_ERR_CONFIG;
  return VE_OK;
}

static uint32_t tick_of(const net_config_t *c) {
  uint32_t m = c->handshake_timeout_ms;
  uint32_t all[] = {c->ping_interval_ms, c->idle_timeout_ms, c->send_stall_ms,
                    c->dial_backoff_min_ms};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i] < m) m = all[i];
  m /= 4;
  return m < NET_TICK_MS_MIN ? NET_TICK_MS_MIN : m > NET_TICK_MS_MAX ? NET_TICK_MS_MAX : m;
}

static void ignore_sigpipe(void) {
  struct sigaction old;
  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
      !(old.sa_flags & SA_SIGINFO)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
  }
}

/* ---- tick ---- */

static void on_tick(uv_timer_t *t) {
  net_t *n = t->data;
  uint64_t now = uv_now(n->loop);
  for (net_peer_t *c = n->conns; c && !n->stopping; c = c->next)
    if (!c->closing) net_conn_tick(c, now);
  if (!n->stopping) net_dial_tick(n, now);
}

/* ---- listening ---- */

static int parse_addr(const char *host, uint16_t port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return VE_OK;
  if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) return VE_OK;
  return VE_ERR_CONFIG;
}

static int start_listening(net_t *n, const char *host, uint16_t port) {
  struct sockaddr_storage ss;
  VE_TRY(parse_addr(host, port, &ss));
  VE_ASSERT(uv_tcp_init(n->loop, &n->listener) == 0);
  n->listener.data = n;
  n->live++;
  n->listening = true;
  int rc = uv_tcp_bind(&n->listener, (const struct sockaddr *)&ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&n->listener, NET_LISTEN_BACKLOG, net_conn_on_accept);
  if (rc != 0) {
    VE_ERROR(NET_LOG, "listen on %s:%u: %s", host, port, uv_strerror(rc));
    return VE_ERR_IO;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  VE_ASSERT(uv_tcp_getsockname(&n->listener, (struct sockaddr *)&bound, &len) == 0);
  n->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                             : ((struct sockaddr_in6 *)&bound)->sin6_port);
  VE_INFO(NET_LOG, "listening on %s:%u", host, n->port);
  return VE_OK;
}

/* ---- public API ---- */

static void close_handles(net_t *n) {
  n->draining = true;
  n->stopping = true;
  if (n->listening) uv_close((uv_handle_t *)&n->listener, on_handle_close);
  n->listening = false;
  uv_close((uv_handle_t *)&n->tick, on_handle_close);
}

int net_start(const net_config_t *cfg, net_t **out) {
  *out = NULL;
  net_config_t c = *cfg;
  config_defaults(&c);
  VE_TRY(config_check(&c));
  if (vcrypto_init() != 0) return VE_ERR_CRYPTO;
  net_t *n = calloc(1, sizeof *n);
  if (!n) return VE_ERR_NOMEM;
  n->rbuf = malloc(NET_READ_CHUNK_BYTES);
  if (c.allow) n->allow = malloc(c.n_allow ? c.n_allow * VCRYPTO_PK_BYTES : 1);
  if (!n->rbuf || (c.allow && !n->allow)) {
    free(n->rbuf);
    free(n->allow);
    free(n);
    return VE_ERR_NOMEM;
  }
  if (c.n_allow) memcpy(n->allow, c.allow, c.n_allow * VCRYPTO_PK_BYTES);
  n->n_allow = c.n_allow;
  n->loop = c.loop;
  n->key = c.key;
  memcpy(n->chain_id, c.chain_id, strlen(c.chain_id) + 1);
  net_chain_hash(n->chain_hash, n->chain_id);
  c.chain_id = n->chain_id;
  c.allow = (const uint8_t(*)[VCRYPTO_PK_BYTES])n->allow;
  n->cfg = c;
  net_bans_init(&n->bans, c.ban_ms, c.ban_ms_max);
  ignore_sigpipe();

  VE_ASSERT(uv_timer_init(n->loop, &n->tick) == 0);
  n->tick.data = n;
  n->live++;
  n->tick_ms = tick_of(&c);
  uv_timer_start(&n->tick, on_tick, n->tick_ms, n->tick_ms);
  if (c.listen_host) {
    int rc = start_listening(n, c.listen_host, c.listen_port);
    if (rc != 0) {
      close_handles(n); /* frees n once the loop has run the close callbacks */
      return rc;
    }
  }
  *out = n;
  return VE_OK;
}

void net_stop(net_t *n) {
  if (!n) return;
  VE_ASSERT(n->in_cb == 0 && !n->stopping);
  /* on_peer_down may call back into the net (net_dial, net_send...): draining
   * keeps it from opening anything new while the links close. */
  n->draining = true;
  for (net_peer_t *c = n->conns; c; c = c->next) net_conn_close(c, VE_ERR_CLOSED, false, "stopping");
  net_dial_stop_all(n);
  close_handles(n);
}

uint16_t net_listen_port(const net_t *n) { return n->port; }

int net_send(net_t *n, net_peer_t *p, uint8_t channel, ve_slice_t payload) {
  VE_ASSERT(p && p->net == n);
  if (channel == NET_CH_CONTROL || channel > NET_CH_LAST) return VE_ERR_INVALID;
  if (payload.len > NET_PAYLOAD_BYTES_MAX) return VE_ERR_TOO_BIG;
  return net_conn_send(p, channel, payload.ptr, payload.len);
}

size_t net_broadcast(net_t *n, uint8_t channel, ve_slice_t payload, const net_peer_t *except) {
  size_t k = 0;
  for (net_peer_t *c = n->conns; c; c = c->next)
    if (c != except && !c->closing && c->state == NET_ST_UP &&
        net_send(n, c, channel, payload) == VE_OK)
      k++;
  return k;
}

void net_disconnect(net_t *n, net_peer_t *p, int reason, bool ban) {
  VE_ASSERT(p && p->net == n);
  net_conn_close(p, reason, ban, "dropped by the node");
}

int net_set_allow(net_t *n, const uint8_t (*allow)[VCRYPTO_PK_BYTES], size_t n_allow) {
  if ((!allow && n_allow) || n_allow > NET_ALLOW_MAX) return VE_ERR_LIMIT;
  uint8_t(*copy)[VCRYPTO_PK_BYTES] = NULL;
  if (allow) {
    copy = malloc(n_allow ? n_allow * VCRYPTO_PK_BYTES : 1);
    if (!copy) return VE_ERR_NOMEM;
    if (n_allow) memcpy(copy, allow, n_allow * VCRYPTO_PK_BYTES);
  }
  free(n->allow);
  n->allow = copy;
  n->n_allow = n_allow;
  n->cfg.allow = (const uint8_t(*)[VCRYPTO_PK_BYTES])copy;
  n->cfg.n_allow = n_allow;
  for (net_peer_t *c = n->conns; c; c = c->next)
    if (!c->closing && c->state == NET_ST_UP && !net_key_allowed(n, c->pk))
      net_conn_close(c, VE_ERR_PERMISSION, false, "no longer on the allowlist");
  return VE_OK;
}

size_t net_peer_count(const net_t *n) { return n->n_up; }

void net_peer_info(const net_peer_t *p, net_peer_info_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->pk, p->pk, VCRYPTO_PK_BYTES);
  memcpy(out->addr, p->addr, sizeof out->addr);
  out->outbound = p->outbound;
  out->queue_bytes = p->q_bytes;
  out->queue_frames = p->q_frames;
  out->rtt_ms = p->rtt_ms;
}

const uint8_t *net_peer_pk(const net_peer_t *p) { return p->pk; }
void net_peer_set_user(net_peer_t *p, void *user) { p->user = user; }
void *net_peer_user(const net_peer_t *p) { return p->user; }

void net_stats(const net_t *n, net_stats_t *out) {
  *out = n->stats;
  out->peers = n->n_up;
  out->handshakes = n->n_hs;
}

uint64_t net_key_ban_ms(const net_t *n, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  uint8_t id[NET_BAN_ID_BYTES] = {0};
  memcpy(id, pk, VCRYPTO_PK_BYTES);
  return net_bans_left(&n->bans, NET_BAN_KEY, id, uv_now(n->loop));
}
