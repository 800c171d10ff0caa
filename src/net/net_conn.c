/* net_conn.c — one peer connection: handshake, framing, send queue, keepalive.
 *
 * State machine (states in net_int.h):
 *
 *   accept ─────────────────────────────────────► HELLO
 *   net_conn_dial ─► CONNECTING ─(connected)─► HELLO ─(peer HELLO ok)─► AUTH
 *        AUTH ─(peer AUTH opens, signature ok, admitted)─► READY
 *        READY ─(peer's READY)─► UP
 *   any state ─(net_conn_close)─► closing ─(uv close callback)─► freed
 *
 *   CONNECTING→HELLO  conn_begin: fresh ephemeral key, send HELLO, start reading.
 *   HELLO→AUTH        on_hello: check magic/version/chain, derive the session,
 *                     wipe the ephemeral secret.
 *                     The initiator also sends its AUTH (frame 0) here.
 *   AUTH→READY        on_auth: open the peer's AUTH (frame 0); refuse a claimed
 *                     key that is pinned otherwise, banned or not allowed; verify
 *                     the signature over the transcript with the peer's role;
 *                     refuse our own key; the responder now sends its AUTH; send
 *                     READY (frame 1).
 *   READY→UP          on_ready: the peer admitted us too; duplicate-link check;
 *                     on_peer_up. Without this step a node that refuses us
 *                     would still show up here for a moment.
 *
 * Invariants:
 *   - Until we admit the peer (READY), it can only make us buffer fixed-size
 *     records (69-byte HELLO, 112-byte AUTH): nothing is sized from a length
 *     it chose.
 *   - From READY on, a length prefix is checked against [NET_FRAME_CT_MIN,
 *     frame max] before use, and the body buffer grows only as bytes arrive.
 *     Both are the reader's (net_reader.c), which cuts the stream into records;
 *     conn_consume sets its phase from the state and hands the records on.
 *   - Session keys exist iff state >= AUTH; the ephemeral secret is wiped on
 *     leaving HELLO and the session on close.
 *   - reported (on_peer_up fired) implies on_peer_down fires exactly once, from
 *     net_conn_close.
 *   - After net_conn_close, nothing of the peer's input is processed any more.
 *   - q_bytes/q_frames count frames handed to uv_write whose callback has not
 *     run; the callback of every write runs before the close callback.
 */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "net/net_int.h"

typedef struct {
  uv_write_t req;
  net_peer_t *c;
  size_t len;
  uint8_t data[];
} net_wreq_t;

static void conn_consume(net_peer_t *c, const uint8_t *p, size_t len);

static uint64_t now_of(const net_peer_t *c) { return uv_now(c->net->loop); }

static void conn_hostile(net_peer_t *c, int reason, const char *what) {
  net_conn_close(c, reason, true, what);
}

/* ---- creation and closing ---- */

static net_peer_t *conn_new(net_t *n, bool outbound) {
  net_peer_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->net = n;
  c->outbound = outbound;
  c->state = NET_ST_CONNECTING;
  c->created_ms = c->last_rx_ms = uv_now(n->loop);
  net_reader_init(&c->rd);
  VE_ASSERT(uv_tcp_init(n->loop, &c->tcp) == 0);
  c->tcp.data = c;
  n->live++;
  c->next = n->conns;
  if (n->conns) n->conns->prev = c;
  n->conns = c;
  n->n_conns++;
  n->n_hs++;
  return c;
}

static void conn_on_close(uv_handle_t *h) {
  net_peer_t *c = h->data;
  net_t *n = c->net;
  if (c->prev) c->prev->next = c->next;
  else n->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  n->n_conns--;
  sodium_memzero(c->esk, sizeof c->esk);
  net_session_wipe(&c->sess);
  net_reader_free(&c->rd);
  free(c);
  net_live_dec(n);
}

static void conn_log_close(const net_peer_t *c, int reason, const char *what) {
  char k[9] = "-";
  if (c->authed) net_short_hex(k, c->pk);
  if (c->state == NET_ST_UP)
    VE_INFO(NET_LOG, "peer %s (%s) down: %s (%s)", k, c->addr, what, ve_err_name(reason));
  else
    VE_DEBUG(NET_LOG, "connection %s (%s) closed in handshake: %s (%s)", c->addr, k, what,
             ve_err_name(reason));
}

void net_conn_close(net_peer_t *c, int reason, bool ban, const char *what) {
  if (c->closing) return;
  net_t *n = c->net;
  c->closing = true;
  c->reason = reason;
  if (ban) net_ban_conn(n, c, reason, what);
  else conn_log_close(c, reason, what);
  if (c->state == NET_ST_UP) {
    n->n_up--;
  } else {
    n->n_hs--;
    n->stats.handshakes_failed++;
  }
  net_dial_t *d = c->dial;
  c->dial = NULL;
  if (d) net_dial_conn_closed(d, c, reason);
  uv_close((uv_handle_t *)&c->tcp, conn_on_close);
  if (c->reported) {
    c->reported = false;
    NET_CALL(n, on_peer_down, c, reason);
  }
  if (ban && c->authed) {
    /* The key is refused now: drop its other links too (without a new strike). */
    for (net_peer_t *o = n->conns; o; o = o->next)
      if (o != c && !o->closing && o->authed && memcmp(o->pk, c->pk, VCRYPTO_PK_BYTES) == 0)
        net_conn_close(o, reason, false, "key banned");
  }
}

/* ---- writing ---- */

static void conn_on_write(uv_write_t *req, int status) {
  net_wreq_t *w = req->data;
  net_peer_t *c = w->c;
  net_t *n = c->net;
  VE_ASSERT(c->q_frames > 0 && c->q_bytes >= w->len);
  c->q_frames--;
  c->q_bytes -= w->len;
  c->full_since_ms = 0; /* progress */
  if (status == 0) n->stats.bytes_out += w->len;
  free(w);
  if (status < 0 && !c->closing) net_conn_close(c, VE_ERR_IO, false, uv_strerror(status));
}

/* Hands w to libuv; on a synchronous failure frees it and marks c for the tick
 * to close (callers such as net_send must not trigger callbacks). */
static int conn_write(net_peer_t *c, net_wreq_t *w) {
  w->c = c;
  w->req.data = w;
  uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
  int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, conn_on_write);
  if (rc != 0) {
    free(w);
    if (!c->fail_pending) c->fail_pending = VE_ERR_IO;
    return VE_ERR_CLOSED;
  }
  c->q_bytes += w->len;
  c->q_frames++;
  return VE_OK;
}

static int conn_write_raw(net_peer_t *c, const uint8_t *data, size_t len) {
  net_wreq_t *w = malloc(sizeof *w + len);
  if (!w) return VE_ERR_NOMEM;
  w->len = len;
  memcpy(w->data, data, len);
  return conn_write(c, w);
}

static int conn_send_frame(net_peer_t *c, uint8_t channel, const uint8_t *payload, size_t len) {
  net_t *n = c->net;
  VE_ASSERT(len <= NET_PAYLOAD_BYTES_MAX && c->state >= NET_ST_AUTH);
  if (c->closing || c->fail_pending) return VE_ERR_CLOSED;
  size_t total = NET_LEN_BYTES + 1 + len + NET_AEAD_TAG_BYTES;
  /* An empty queue takes any one frame, so a frame bigger than a small
   * configured queue still goes out; otherwise both bounds hold. */
  size_t bytes_max = n->cfg.send_queue_bytes_max;
  bool room = c->q_frames == 0 || (c->q_frames < n->cfg.send_queue_frames_max &&
                                   c->q_bytes <= bytes_max && total <= bytes_max - c->q_bytes);
  if (!room) {
    if (!c->full_since_ms) c->full_since_ms = now_of(c);
    n->stats.send_full++;
    return VE_ERR_FULL;
  }
  net_wreq_t *w = malloc(sizeof *w + total);
  if (!w) return VE_ERR_NOMEM;
  w->len = total;
  w->data[NET_LEN_BYTES] = channel;
  if (len) memcpy(w->data + NET_LEN_BYTES + 1, payload, len);
  if (net_seal(&c->sess, w->data, 1 + len) != 0) {
    free(w);
    if (!c->fail_pending) c->fail_pending = VE_ERR_LIMIT;
    return VE_ERR_CLOSED;
  }
  VE_TRY(conn_write(c, w));
  n->stats.frames_out++;
  return VE_OK;
}

int net_conn_send(net_peer_t *c, uint8_t channel, const uint8_t *payload, size_t len) {
  if (c->closing || c->state != NET_ST_UP) return VE_ERR_CLOSED;
  return conn_send_frame(c, channel, payload, len);
}

static int conn_send_control(net_peer_t *c, uint8_t type, uint64_t value) {
  uint8_t p[NET_CONTROL_BYTES];
  p[0] = type;
  ve_be64_put(p + 1, value);
  return conn_send_frame(c, NET_CH_CONTROL, p, sizeof p);
}

/* ---- reading ---- */

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  net_peer_t *c = h->data;
  *buf = uv_buf_init((char *)c->net->rbuf, NET_READ_CHUNK_BYTES);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  net_peer_t *c = s->data;
  net_t *n = c->net;
  if (nread == 0 || c->closing) return;
  if (nread < 0) {
    net_conn_close(c, nread == UV_EOF ? VE_ERR_CLOSED : VE_ERR_IO, false,
                   nread == UV_EOF ? "closed by peer" : uv_strerror((int)nread));
    return;
  }
  uint64_t now = now_of(c);
  c->last_rx_ms = now;
  n->stats.bytes_in += (uint64_t)nread;
  conn_consume(c, (const uint8_t *)buf->base, (size_t)nread);
  if (c->closing) return;
  /* Bytes are throttled, not punished: bulk transfer (catch-up) is legitimate,
   * and pausing the read lets TCP push back on the sender. */
  net_bucket_debit(&c->bytes_in, (uint64_t)nread, now);
  if (!net_bucket_ok(&c->bytes_in, now)) {
    uv_read_stop(s);
    c->throttled = true;
  }
}

static void conn_begin(net_peer_t *c) {
  net_t *n = c->net;
  c->state = NET_ST_HELLO;
  uint64_t now = now_of(c);
  net_bucket_init(&c->frames_in, n->cfg.rate_frames_per_s, n->cfg.rate_frames_burst, now);
  net_bucket_init(&c->bytes_in, n->cfg.rate_bytes_per_s, n->cfg.rate_bytes_burst, now);
  net_eph_generate(c->esk, c->epk);
  uint8_t hello[NET_HELLO_BYTES];
  net_hello_encode(hello, n->chain_hash, c->epk);
  uv_tcp_nodelay(&c->tcp, 1);
  int rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read);
  if (rc != 0) {
    net_conn_close(c, VE_ERR_IO, false, uv_strerror(rc));
    return;
  }
  if (conn_write_raw(c, hello, sizeof hello) != 0) net_conn_close(c, VE_ERR_IO, false, "write HELLO");
}

static void ephemerals(const net_peer_t *c, const uint8_t **e_i, const uint8_t **e_r) {
  *e_i = c->outbound ? c->epk : c->peer_epk;
  *e_r = c->outbound ? c->peer_epk : c->epk;
}

/* Sends this side's AUTH (frame 0): our node key and our signature over the
 * transcript in our role. */
static int send_auth(net_peer_t *c) {
  net_t *n = c->net;
  const uint8_t *e_i, *e_r;
  ephemerals(c, &e_i, &e_r);
  uint8_t auth[NET_LEN_BYTES + NET_AUTH_CT_BYTES];
  net_auth_make(auth + NET_LEN_BYTES, n->key, c->outbound ? NET_ROLE_INITIATOR : NET_ROLE_RESPONDER,
                n->chain_hash, e_i, e_r);
  VE_ASSERT(net_seal(&c->sess, auth, NET_AUTH_PLAIN_BYTES) == 0);
  return conn_write_raw(c, auth, sizeof auth);
}

/* An inbound HELLO carrying the ephemeral key of one of our own outbound
 * connections: this node dialed itself. Close both ends; the dial backs off to
 * its maximum delay (not for good: a man in the middle could stage this). */
static bool self_dialed(net_peer_t *c) {
  for (net_peer_t *o = c->net->conns; o; o = o->next) {
    if (o == c || o->closing || !o->outbound || o->state < NET_ST_HELLO ||
        memcmp(o->epk, c->peer_epk, NET_KEY_BYTES) != 0)
      continue;
    if (o->dial) o->dial->state = NET_DIAL_SELF;
    net_conn_close(o, VE_ERR_INVALID, false, "connected to itself");
    net_conn_close(c, VE_ERR_INVALID, false, "connected to itself");
    return true;
  }
  return false;
}

static void on_hello(net_peer_t *c, const uint8_t hello[NET_HELLO_BYTES]) {
  net_t *n = c->net;
  int rc = net_hello_decode(hello, n->chain_hash, c->peer_epk);
  if (rc != 0) {
    conn_hostile(c, rc, rc == VE_ERR_WRONG_CHAIN ? "HELLO for another chain" : "malformed HELLO");
    return;
  }
  if (!c->outbound && self_dialed(c)) return;
  const uint8_t *e_i, *e_r;
  ephemerals(c, &e_i, &e_r);
  int role = c->outbound ? NET_ROLE_INITIATOR : NET_ROLE_RESPONDER;
  rc = net_session_derive(&c->sess, role, c->esk, e_i, e_r, n->chain_hash);
  sodium_memzero(c->esk, sizeof c->esk);
  if (rc != 0) {
    conn_hostile(c, rc, "unusable ephemeral key in HELLO");
    return;
  }
  c->state = NET_ST_AUTH;
  /* The initiator authenticates first; the responder answers only once it has
   * admitted the initiator's key, so refusing a key costs no signature. */
  if (c->outbound && send_auth(c) != 0) net_conn_close(c, VE_ERR_IO, false, "write AUTH");
}

/* Which of two links between the same pair of nodes survives. Both ends must
 * pick the same one without talking: the link dialed by the smaller node key
 * wins; between links dialed by the same node, the newer (the old one is likely
 * half-open after a restart). */
static bool dup_keeps_new(const net_peer_t *old, const net_peer_t *neu) {
  const uint8_t *own = old->net->key->pk;
  const uint8_t *io = old->outbound ? own : old->pk;
  const uint8_t *in = neu->outbound ? own : neu->pk;
  int cmp = memcmp(in, io, VCRYPTO_PK_BYTES);
  return cmp <= 0;
}

/* Checks on the key the peer claims, cheap enough to run before its signature
 * is verified: they only refuse, and never ban the (unverified) key. Returns
 * false if c was closed. */
static bool admit_claimed(net_peer_t *c, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  net_t *n = c->net;
  if (memcmp(pk, n->key->pk, VCRYPTO_PK_BYTES) == 0) return true; /* self: decided once verified */
  char k[9];
  net_short_hex(k, pk);
  if (c->dial && c->dial->pinned && memcmp(pk, c->dial->pin, VCRYPTO_PK_BYTES) != 0) {
    VE_WARN(NET_LOG, "dial %s: remote key %s is not the pinned one", c->addr, k);
    net_conn_close(c, VE_ERR_BAD_KEY, false, "pinned key mismatch");
    return false;
  }
  bool banned = net_bans_left(&n->bans, NET_BAN_KEY, pk, uv_now(n->loop)) > 0;
  bool allowed = net_key_allowed(n, pk);
  if (banned || (!allowed && c->probation)) {
    n->stats.refused_banned++;
    net_conn_close(c, VE_ERR_PEER, false, banned ? "key is banned" : "address is banned");
    return false;
  }
  if (!allowed) {
    /* Inbound: an address trying keys we do not know is banned. Outbound: we
     * chose to dial it; our configuration's problem, not a hostile peer. */
    net_conn_close(c, VE_ERR_PERMISSION, !c->outbound, "key not on the allowlist");
    return false;
  }
  return true;
}

static void on_auth(net_peer_t *c, const net_reader_ev_t *ev) {
  net_t *n = c->net;
  VE_ASSERT(ev->len == NET_AUTH_CT_BYTES);
  if (net_open(&c->sess, ev->hdr, ev->body, ev->len) != 0) {
    conn_hostile(c, VE_ERR_CRYPTO, "AUTH does not decrypt");
    return;
  }
  if (!admit_claimed(c, ev->body)) return;
  const uint8_t *e_i, *e_r;
  ephemerals(c, &e_i, &e_r);
  int peer_role = c->outbound ? NET_ROLE_RESPONDER : NET_ROLE_INITIATOR;
  uint8_t pk[VCRYPTO_PK_BYTES];
  if (net_auth_check(ev->body, peer_role, n->chain_hash, e_i, e_r, pk) != 0) {
    conn_hostile(c, VE_ERR_BAD_SIG, "bad handshake signature");
    return;
  }
  if (!vcrypto_pk_valid(pk)) {
    conn_hostile(c, VE_ERR_BAD_KEY, "node key outside the prime-order subgroup");
    return;
  }
  memcpy(c->pk, pk, VCRYPTO_PK_BYTES);
  c->authed = true;
  if (memcmp(c->pk, n->key->pk, VCRYPTO_PK_BYTES) == 0) {
    /* Another process with our key (self-dials end at HELLO: self_dialed). */
    net_conn_close(c, VE_ERR_INVALID, false, "peer uses this node's key");
    return;
  }
  if (c->probation) {
    char k[9];
    net_short_hex(k, c->pk);
    VE_INFO(NET_LOG, "allowlisted key %s admitted from banned %s", k, c->addr);
  }
  c->state = NET_ST_READY;
  if ((!c->outbound && send_auth(c) != 0) || conn_send_control(c, NET_CTL_READY, 0) != 0)
    net_conn_close(c, VE_ERR_IO, false, "write AUTH/READY");
}

/* The peer admitted us as well: the link is up. */
static void on_ready(net_peer_t *c) {
  net_t *n = c->net;
  char k[9];
  net_short_hex(k, c->pk);
  net_peer_t *old = net_key_up(n, c->pk, c);
  if (old) {
    if (!dup_keeps_new(old, c)) {
      net_conn_close(c, VE_ERR_DUPLICATE, false, "duplicate link");
      return;
    }
    net_conn_close(old, VE_ERR_DUPLICATE, false, "replaced by a newer link");
    if (c->closing) return; /* a callback dropped it meanwhile */
  }
  c->state = NET_ST_UP;
  n->n_hs--;
  n->n_up++;
  n->stats.peers_up++;
  c->last_ping_ms = c->last_rx_ms = uv_now(n->loop);
  if (c->dial) net_dial_conn_up(c->dial, c);
  VE_INFO(NET_LOG, "peer %s up (%s, %s)", k, c->addr, c->outbound ? "outbound" : "inbound");
  c->reported = true;
  NET_CALL(n, on_peer_up, c, c->pk);
}

static void on_control(net_peer_t *c, const uint8_t *p, size_t len) {
  bool ok = len == NET_CONTROL_BYTES &&
            (c->state == NET_ST_READY ? p[0] == NET_CTL_READY
                                      : p[0] == NET_CTL_PING || p[0] == NET_CTL_PONG);
  if (!ok) {
    conn_hostile(c, VE_ERR_MALFORMED, "unexpected or malformed control frame");
    return;
  }
  uint64_t v = ve_be64_get(p + 1);
  if (p[0] == NET_CTL_READY) {
    on_ready(c);
  } else if (p[0] == NET_CTL_PING) {
    (void)conn_send_control(c, NET_CTL_PONG, v); /* full: the stall timer decides */
  } else if (v == c->ping_value && c->ping_value != 0) {
    uint64_t rtt = now_of(c) - c->last_ping_ms;
    c->rtt_ms = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
    c->ping_value = 0;
  }
}

static void on_frame(net_peer_t *c, const net_reader_ev_t *ev) {
  net_t *n = c->net;
  /* Count before decrypting, so a flood costs us as little as possible. */
  if (!net_bucket_take(&c->frames_in, 1, now_of(c))) {
    conn_hostile(c, VE_ERR_LIMIT, "frame flood");
    return;
  }
  VE_ASSERT(ev->len >= NET_FRAME_CT_MIN);
  if (net_open(&c->sess, ev->hdr, ev->body, ev->len) != 0) {
    conn_hostile(c, VE_ERR_CRYPTO, "frame does not decrypt");
    return;
  }
  n->stats.frames_in++;
  uint8_t ch = ev->body[0];
  const uint8_t *payload = ev->body + 1;
  size_t len = ev->len - NET_FRAME_OVERHEAD_BYTES;
  if (ch == NET_CH_CONTROL) on_control(c, payload, len);
  else if (c->state != NET_ST_UP) conn_hostile(c, VE_ERR_MALFORMED, "data before READY");
  else if (ch > NET_CH_LAST) conn_hostile(c, VE_ERR_UNSUPPORTED, "unknown channel");
  else NET_CALL(n, on_frame, c, ch, ve_slice(payload, len));
}

static int reader_phase(int state) {
  VE_ASSERT(state >= NET_ST_HELLO);
  if (state == NET_ST_HELLO) return NET_READER_HELLO;
  return state == NET_ST_AUTH ? NET_READER_AUTH : NET_READER_FRAMES;
}

/* Feeds received bytes through the reader (net_reader.c, which checks every
 * length) and its records through the state machine; stops at the first close.
 * The state, and with it the reader's phase, changes only on a record. */
static void conn_consume(net_peer_t *c, const uint8_t *p, size_t len) {
  while (len > 0 && !c->closing) {
    net_reader_phase_set(&c->rd, reader_phase(c->state));
    net_reader_ev_t ev;
    size_t took = net_reader_feed(&c->rd, p, len, &ev);
    p += took;
    len -= took;
    switch (ev.kind) {
      case NET_READER_EV_HELLO: on_hello(c, ev.body); break;
      case NET_READER_EV_AUTH: on_auth(c, &ev); break;
      case NET_READER_EV_FRAME:
        on_frame(c, &ev);
        net_reader_release(&c->rd); /* a big buffer is not kept between frames */
        break;
      case NET_READER_EV_REFUSED:
        /* Out of memory is our problem; a length out of bounds is the peer's. */
        if (ev.err == VE_ERR_NOMEM) net_conn_close(c, ev.err, false, ev.what);
        else conn_hostile(c, ev.err, ev.what);
        break;
      default: VE_ASSERT(ev.kind == NET_READER_EV_NONE && len == 0); break;
    }
  }
}

/* ---- accept and dial ---- */

static void conn_set_addr(net_peer_t *c, const struct sockaddr *sa) {
  char ip[48] = "?";
  uint16_t port = 0;
  memset(c->ip, 0, sizeof c->ip);
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
    uv_ip4_name(s4, ip, sizeof ip);
    port = ntohs(s4->sin_port);
    c->ip[10] = c->ip[11] = 0xff; /* v4-mapped, so one address has one id */
    memcpy(c->ip + 12, &s4->sin_addr, 4);
    snprintf(c->addr, sizeof c->addr, "%s:%u", ip, port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    uv_ip6_name(s6, ip, sizeof ip);
    port = ntohs(s6->sin6_port);
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    /* One host usually holds a whole /64, so that is what a ban and the
     * per-address handshake limit count; a v4-mapped address stays whole. */
    bool mapped = memcmp(&s6->sin6_addr, v4mapped, sizeof v4mapped) == 0;
    memcpy(c->ip, &s6->sin6_addr, mapped ? 16 : 8);
    snprintf(c->addr, sizeof c->addr, "[%s]:%u", ip, port);
  } else {
    snprintf(c->addr, sizeof c->addr, "?");
  }
}

static size_t handshakes_from(const net_t *n, const net_peer_t *c) {
  size_t k = 0;
  for (const net_peer_t *o = n->conns; o; o = o->next)
    if (o != c && !o->closing && !o->outbound && o->state != NET_ST_UP &&
        memcmp(o->ip, c->ip, sizeof o->ip) == 0)
      k++;
  return k;
}

void net_conn_on_accept(uv_stream_t *server, int status) {
  net_t *n = server->data;
  if (status < 0 || n->draining) {
    if (status < 0) VE_WARN(NET_LOG, "accept: %s", uv_strerror(status));
    return;
  }
  net_peer_t *c = conn_new(n, false);
  if (!c) {
    VE_ERROR(NET_LOG, "accept: out of memory");
    return; /* the connection stays in the backlog; a later accept retries */
  }
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    net_conn_close(c, VE_ERR_IO, false, "accept failed");
    return;
  }
  n->stats.accepted++;
  struct sockaddr_storage ss;
  int sl = sizeof ss;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) != 0) {
    net_conn_close(c, VE_ERR_IO, false, "no peer address");
    return;
  }
  conn_set_addr(c, (struct sockaddr *)&ss);
  if (n->n_conns > n->cfg.conns_max || n->n_hs > n->cfg.handshakes_max ||
      handshakes_from(n, c) >= n->cfg.handshakes_per_ip_max) {
    n->stats.refused_full++;
    net_conn_close(c, VE_ERR_LIMIT, false, "connection limits reached");
    return;
  }
  if (net_bans_left(&n->bans, NET_BAN_IP, c->ip, uv_now(n->loop)) > 0) {
    if (!n->allow) {
      n->stats.refused_banned++;
      net_conn_close(c, VE_ERR_PEER, false, "address is banned");
      return;
    }
    /* An allowlist node admits only listed keys anyway, and an address ban must
     * not lock out a listed key that shares the address (NAT, one host): the
     * handshake goes on, and any key that is not listed is refused as soon as
     * it is named, before we sign or verify anything. */
    c->probation = true;
  }
  conn_begin(c);
}

static void conn_on_connect(uv_connect_t *req, int status) {
  net_peer_t *c = req->data;
  if (status == UV_ECANCELED || c->closing) return;
  if (status < 0) {
    net_conn_close(c, VE_ERR_IO, false, uv_strerror(status));
    return;
  }
  conn_begin(c);
}

net_peer_t *net_conn_dial(net_t *n, net_dial_t *d, const struct sockaddr *sa) {
  net_peer_t *c = conn_new(n, true);
  if (!c) {
    VE_ERROR(NET_LOG, "dial %s: out of memory", d->host);
    return NULL;
  }
  conn_set_addr(c, sa);
  c->dial = d;
  n->stats.dials++;
  c->connect_req.data = c;
  int rc = uv_tcp_connect(&c->connect_req, &c->tcp, sa, conn_on_connect);
  if (rc != 0) {
    c->dial = NULL; /* the caller schedules the retry */
    net_conn_close(c, VE_ERR_IO, false, uv_strerror(rc));
    return NULL;
  }
  return c;
}

/* ---- timers ---- */

void net_conn_tick(net_peer_t *c, uint64_t now) {
  net_t *n = c->net;
  const net_config_t *cfg = &n->cfg;
  if (c->fail_pending) {
    net_conn_close(c, c->fail_pending, false, "write failed");
    return;
  }
  if (c->throttled && net_bucket_ok(&c->bytes_in, now)) {
    c->throttled = false;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read);
    if (rc != 0) {
      net_conn_close(c, VE_ERR_IO, false, uv_strerror(rc));
      return;
    }
  }
  if (c->state != NET_ST_UP) {
    if (now - c->created_ms >= cfg->handshake_timeout_ms)
      net_conn_close(c, VE_ERR_TIMEOUT, false, "handshake timed out");
    return;
  }
  if (now - c->last_rx_ms >= cfg->idle_timeout_ms) {
    net_conn_close(c, VE_ERR_TIMEOUT, false, "idle: nothing received");
    return;
  }
  if (c->full_since_ms && now - c->full_since_ms >= cfg->send_stall_ms) {
    net_conn_close(c, VE_ERR_TIMEOUT, false, "send queue full and not draining");
    return;
  }
  if (now - c->last_ping_ms >= cfg->ping_interval_ms) {
    c->last_ping_ms = now;
    if (c->ping_value == 0) {
      randombytes_buf(&c->ping_value, sizeof c->ping_value);
      c->ping_value |= 1; /* 0 means "no ping outstanding" */
    }
    (void)conn_send_control(c, NET_CTL_PING, c->ping_value); /* full: the stall timer decides */
  }
}
