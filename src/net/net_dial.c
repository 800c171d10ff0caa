/* net_dial.c — addresses the node keeps connected to (net_dial).
 *
 * Each target is a small state machine driven by the net's tick and by its
 * connection's fate:
 *
 *   WAIT ─(next_ms reached)─► attempt
 *   attempt: key already up on another link ─► SATISFIED
 *            key banned ─► WAIT until the ban ends
 *            numeric host ─► CONNECTING; name ─► RESOLVING ─(resolved)─► CONNECTING
 *   CONNECTING ─(link up)─► UP             (backoff back to the minimum)
 *   CONNECTING/UP ─(link closed)─► WAIT    (delay = backoff with jitter; backoff doubles
 *                                           up to the maximum)
 *            ─(closed as a duplicate)─► SATISFIED
 *            ─(reached this node itself)─► WAIT (maximum delay; see self_dialed)
 *   SATISFIED ─(no link with that key any more)─► WAIT (minimum delay)
 *
 * Jitter (a uniform draw from [delay/2, delay]) keeps nodes that lost each
 * other at the same moment from redialing in lockstep. The randomness is
 * libsodium's; this is I/O code, not a deterministic module.
 */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "net/net_int.h"

static uint64_t jitter(uint32_t delay_ms) {
  uint32_t half = delay_ms / 2;
  return (uint64_t)half + randombytes_uniform(delay_ms - half + 1);
}

static void schedule(net_dial_t *d, uint32_t delay_ms) {
  d->state = NET_DIAL_WAIT;
  d->next_ms = uv_now(d->net->loop) + jitter(delay_ms);
}

static void schedule_backoff(net_dial_t *d) {
  const net_config_t *cfg = &d->net->cfg;
  schedule(d, d->backoff_ms);
  uint64_t next = (uint64_t)d->backoff_ms * 2;
  d->backoff_ms = next > cfg->dial_backoff_max_ms ? cfg->dial_backoff_max_ms : (uint32_t)next;
}

static const uint8_t *dial_key(const net_dial_t *d) {
  return d->pinned ? d->pin : d->known ? d->known_pk : NULL;
}

static void connect_to(net_dial_t *d, const struct sockaddr *sa) {
  d->conn = net_conn_dial(d->net, d, sa);
  if (d->conn) d->state = NET_DIAL_CONNECTING;
  else schedule_backoff(d);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  net_dial_t *d = req->data;
  net_t *n = d->net;
  d->gai = NULL;
  free(req);
  if (!n->draining) {
    if (status < 0 || !res) {
      VE_WARN(NET_LOG, "dial %s: cannot resolve: %s", d->host, uv_strerror(status));
      schedule_backoff(d);
    } else {
      const struct addrinfo *pick = res;
      for (const struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
          pick = a;
          break;
        }
      connect_to(d, pick->ai_addr);
    }
  }
  if (res) uv_freeaddrinfo(res);
  net_live_dec(n); /* last: may free n and d when stopping */
}

void net_dial_attempt(net_dial_t *d) {
  net_t *n = d->net;
  if (n->draining) return;
  const uint8_t *key = dial_key(d);
  if (key && net_key_up(n, key, NULL)) {
    d->state = NET_DIAL_SATISFIED;
    return;
  }
  uint64_t ban = key ? net_bans_left(&n->bans, NET_BAN_KEY, key, uv_now(n->loop)) : 0;
  if (ban > 0) {
    d->state = NET_DIAL_WAIT;
    d->next_ms = uv_now(n->loop) + ban;
    return;
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (uv_ip4_addr(d->host, d->port, (struct sockaddr_in *)&ss) == 0 ||
      uv_ip6_addr(d->host, d->port, (struct sockaddr_in6 *)&ss) == 0) {
    connect_to(d, (const struct sockaddr *)&ss);
    return;
  }
  uv_getaddrinfo_t *req = malloc(sizeof *req);
  if (!req) {
    schedule_backoff(d);
    return;
  }
  req->data = d;
  char port[8];
  snprintf(port, sizeof port, "%u", d->port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(n->loop, req, on_resolved, d->host, port, &hints);
  if (rc != 0) {
    free(req);
    VE_WARN(NET_LOG, "dial %s: %s", d->host, uv_strerror(rc));
    schedule_backoff(d);
    return;
  }
  n->live++;
  d->gai = req;
  d->state = NET_DIAL_RESOLVING;
}

void net_dial_conn_up(net_dial_t *d, net_peer_t *c) {
  d->state = NET_DIAL_UP;
  d->backoff_ms = d->net->cfg.dial_backoff_min_ms;
  memcpy(d->known_pk, c->pk, VCRYPTO_PK_BYTES);
  d->known = true;
}

void net_dial_conn_closed(net_dial_t *d, net_peer_t *c, int reason) {
  VE_ASSERT(d->conn == c);
  d->conn = NULL;
  if (d->net->draining) return;
  if (d->state == NET_DIAL_SELF) {
    schedule(d, d->net->cfg.dial_backoff_max_ms);
    return;
  }
  if (reason == VE_ERR_DUPLICATE && c->authed) {
    memcpy(d->known_pk, c->pk, VCRYPTO_PK_BYTES);
    d->known = true;
    d->state = NET_DIAL_SATISFIED;
    return;
  }
  schedule_backoff(d);
}

void net_dial_tick(net_t *n, uint64_t now) {
  for (net_dial_t *d = n->dials; d && !n->stopping; d = d->next) {
    if (d->state == NET_DIAL_WAIT && now >= d->next_ms) {
      net_dial_attempt(d);
    } else if (d->state == NET_DIAL_SATISFIED && !net_key_up(n, dial_key(d), NULL)) {
      d->backoff_ms = n->cfg.dial_backoff_min_ms;
      schedule(d, d->backoff_ms);
    }
  }
}

int net_dial(net_t *n, const char *host, uint16_t port, const uint8_t expect_pk[VCRYPTO_PK_BYTES]) {
  if (n->draining) return VE_ERR_CLOSED;
  if (!host || !host[0] || strlen(host) > NET_HOST_BYTES_MAX || port == 0) return VE_ERR_INVALID;
  if (n->n_dials >= NET_DIALS_MAX) return VE_ERR_LIMIT;
  net_dial_t *d = calloc(1, sizeof *d);
  if (!d) return VE_ERR_NOMEM;
  d->net = n;
  memcpy(d->host, host, strlen(host) + 1);
  d->port = port;
  if (expect_pk) {
    d->pinned = true;
    memcpy(d->pin, expect_pk, VCRYPTO_PK_BYTES);
  }
  d->backoff_ms = n->cfg.dial_backoff_min_ms;
  /* Append, so targets are tried in the order they were configured. */
  net_dial_t **tail = &n->dials;
  while (*tail) tail = &(*tail)->next;
  *tail = d;
  n->n_dials++;
  net_dial_attempt(d);
  return VE_OK;
}

void net_dial_stop_all(net_t *n) {
  for (net_dial_t *d = n->dials; d; d = d->next)
    if (d->gai) uv_cancel((uv_req_t *)d->gai); /* its callback still runs, counted in live */
}

void net_dial_free_all(net_t *n) {
  net_dial_t *d = n->dials;
  while (d) {
    net_dial_t *next = d->next;
    VE_ASSERT(!d->gai);
    free(d);
    d = next;
  }
  n->dials = NULL;
  n->n_dials = 0;
}
