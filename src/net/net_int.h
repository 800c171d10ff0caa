/* net_int.h — the insides of src/net, shared by its files and its tests.
 *
 * Three layers, each in its own file:
 *   net_proto.c  the wire protocol as pure functions (no I/O, no clock): HELLO,
 *                session key derivation, AUTH signatures, frame sealing/opening.
 *                The tests' raw-socket peers speak the protocol through these.
 *   net_guard.c  token buckets and the ban table, with time passed in.
 *   net_reader.c the received byte stream cut into records (HELLO, AUTH,
 *                frames) with every length checked: pure, fed any chunking.
 *   net.c        the transport: libuv handles, connection state machine, send
 *                queues, keepalive, admission; net_dial.c: outbound dialing.
 * Nothing here is part of the module's contract; other modules use net.h only.
 */
#ifndef VECHE_NET_NET_INT_H
#define VECHE_NET_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "net/net.h"

/* =========================================================================
 * Protocol (docs/net.md, "Wire protocol")
 * ========================================================================= */

#define NET_MAGIC "VECN"               /* first 4 bytes of a HELLO */
#define NET_MAGIC_BYTES 4
#define NET_PROTO_VERSION 1
#define NET_KEY_BYTES 32               /* X25519 keys, session keys, chain hash */
#define NET_HELLO_BYTES (NET_MAGIC_BYTES + 1 + NET_KEY_BYTES + NET_KEY_BYTES) /* 69 */
#define NET_LEN_BYTES 4                /* big-endian ciphertext length before a frame */
#define NET_NONCE_BYTES 12
#define NET_AUTH_PLAIN_BYTES (VCRYPTO_PK_BYTES + VCRYPTO_SIG_BYTES)          /* 96 */
#define NET_AUTH_CT_BYTES (NET_AUTH_PLAIN_BYTES + NET_AEAD_TAG_BYTES)      /* 112 */
#define NET_TRANSCRIPT_BYTES (1 + 1 + 3 * NET_KEY_BYTES)                     /* 98 */
#define NET_FRAME_CT_MIN (NET_FRAME_OVERHEAD_BYTES)                          /* 17 */
#define NET_CONTROL_BYTES 9            /* control payload: type, be64 value */

#define NET_ROLE_INITIATOR 1
#define NET_ROLE_RESPONDER 2

#define NET_CTL_PING 1
#define NET_CTL_PONG 2
#define NET_CTL_READY 3 /* "I admitted you": first frame after AUTH, exactly once */

#define NET_TAG_CHAIN "veche/net/chain"
#define NET_TAG_KDF "veche/net/kdf"
#define NET_TAG_HANDSHAKE "veche/net/handshake"

/* Keys of one established link. Counters are the next nonce to use; a counter
 * never wraps (the link is dropped first), so a (key, nonce) pair is never reused. */
typedef struct {
  uint8_t key_tx[NET_KEY_BYTES]; /* secret */
  uint8_t key_rx[NET_KEY_BYTES]; /* secret */
  uint64_t ctr_tx, ctr_rx;
} net_session_t;

/* H("veche/net/chain", chain id): what HELLO carries instead of the id itself. */
void net_chain_hash(uint8_t out[NET_KEY_BYTES], const char *chain_id);

/* Fresh X25519 ephemeral key pair from the OS RNG. */
void net_eph_generate(uint8_t esk[NET_KEY_BYTES], uint8_t epk[NET_KEY_BYTES]);

void net_hello_encode(uint8_t out[NET_HELLO_BYTES], const uint8_t chain_hash[NET_KEY_BYTES],
                      const uint8_t epk[NET_KEY_BYTES]);
/* Checks magic, version and chain; Out: peer_epk. Returns 0, VE_ERR_MALFORMED
 * (magic), VE_ERR_VERSION or VE_ERR_WRONG_CHAIN. */
int net_hello_decode(const uint8_t in[NET_HELLO_BYTES], const uint8_t chain_hash[NET_KEY_BYTES],
                     uint8_t peer_epk[NET_KEY_BYTES]);

/* Derives the session of one side. e_i/e_r: initiator's and responder's
 * ephemeral public keys; esk: this side's ephemeral secret. Returns 0 or
 * VE_ERR_MALFORMED (equal ephemerals: a reflected HELLO) or VE_ERR_CRYPTO (peer key
 * of small order: the shared secret would be all zeros). Counters start at 0. */
int net_session_derive(net_session_t *s, int role, const uint8_t esk[NET_KEY_BYTES],
                       const uint8_t e_i[NET_KEY_BYTES], const uint8_t e_r[NET_KEY_BYTES],
                       const uint8_t chain_hash[NET_KEY_BYTES]);
void net_session_wipe(net_session_t *s);

/* The 98 bytes a node signs: version || role of the signer || chain hash || e_i || e_r. */
void net_transcript(uint8_t out[NET_TRANSCRIPT_BYTES], int role,
                    const uint8_t chain_hash[NET_KEY_BYTES], const uint8_t e_i[NET_KEY_BYTES],
                    const uint8_t e_r[NET_KEY_BYTES]);
/* AUTH plaintext: node pk || Ed25519 signature (tag NET_TAG_HANDSHAKE) over the
 * transcript with the signer's role. */
void net_auth_make(uint8_t out[NET_AUTH_PLAIN_BYTES], const vcrypto_keypair_t *kp, int role,
                   const uint8_t chain_hash[NET_KEY_BYTES], const uint8_t e_i[NET_KEY_BYTES],
                   const uint8_t e_r[NET_KEY_BYTES]);
/* Verifies an AUTH plaintext made by a peer in `role`. Out: pk. Returns 0 or
 * VE_ERR_BAD_SIG. */
int net_auth_check(const uint8_t in[NET_AUTH_PLAIN_BYTES], int role,
                   const uint8_t chain_hash[NET_KEY_BYTES], const uint8_t e_i[NET_KEY_BYTES],
                   const uint8_t e_r[NET_KEY_BYTES], uint8_t pk[VCRYPTO_PK_BYTES]);

/* Seals one frame in place. frame holds NET_LEN_BYTES + pt_len + NET_AEAD_TAG_BYTES
 * bytes with the plaintext at frame + NET_LEN_BYTES; writes the length prefix
 * and replaces the plaintext with ciphertext and tag, using and advancing
 * ctr_tx. Returns 0 or VE_ERR_LIMIT (counter exhausted). pt_len + tag must fit
 * in NET_FRAME_BYTES_MAX (asserted). */
int net_seal(net_session_t *s, uint8_t *frame, size_t pt_len);
/* Opens one frame in place: hdr is its length prefix, ct its ct_len bytes
 * (≥ NET_AEAD_TAG_BYTES). On success the plaintext is the first
 * ct_len - NET_AEAD_TAG_BYTES bytes of ct and ctr_rx advances. Returns 0,
 * VE_ERR_CRYPTO (forged, replayed, reordered or cut) or VE_ERR_LIMIT. */
int net_open(net_session_t *s, const uint8_t hdr[NET_LEN_BYTES], uint8_t *ct, size_t ct_len);

void net_be32_put(uint8_t out[4], uint32_t v);
uint32_t net_be32_get(const uint8_t in[4]);

/* =========================================================================
 * Guards: token buckets and bans (net_guard.c); time is passed in
 * ========================================================================= */

/* Tokens are kept in thousandths so refills of a few ms stay exact enough. */
typedef struct {
  int64_t milli;     /* may go negative after net_bucket_debit */
  uint64_t rate;     /* tokens per second (≤ NET_RATE_CONFIG_MAX) */
  uint64_t burst;    /* cap (≤ NET_RATE_CONFIG_MAX) */
  uint64_t last_ms;
} net_bucket_t;

void net_bucket_init(net_bucket_t *b, uint64_t rate_per_s, uint64_t burst, uint64_t now_ms);
/* Takes n tokens if there are that many; false (and nothing taken) otherwise. */
bool net_bucket_take(net_bucket_t *b, uint64_t n, uint64_t now_ms);
/* Takes n tokens unconditionally (the balance may go negative). */
void net_bucket_debit(net_bucket_t *b, uint64_t n, uint64_t now_ms);
/* After refilling: is the balance non-negative? */
bool net_bucket_ok(net_bucket_t *b, uint64_t now_ms);

enum { NET_BAN_KEY = 1, NET_BAN_IP = 2 };
#define NET_BAN_ID_BYTES 32 /* a node pk, or an IPv6 / v4-mapped address zero-padded */
_Static_assert(NET_BAN_ID_BYTES == VCRYPTO_PK_BYTES, "a node key is used as a ban id as is");

typedef struct {
  uint8_t kind;
  uint8_t id[NET_BAN_ID_BYTES];
  uint64_t until_ms;
  uint32_t strikes; /* bans so far; reset when clean for max_ms after a ban */
} net_ban_t;

typedef struct {
  net_ban_t v[NET_BANS_MAX];
  size_t n;
  uint64_t base_ms, max_ms;
} net_bans_t;

void net_bans_init(net_bans_t *t, uint64_t base_ms, uint64_t max_ms);
/* Bans (kind, id) from now: base_ms doubled per earlier strike, capped at max_ms.
 * A full table forgets the entry whose ban ends first. Returns the duration. */
uint64_t net_bans_add(net_bans_t *t, int kind, const uint8_t id[NET_BAN_ID_BYTES], uint64_t now_ms);
/* Remaining ban of (kind, id), 0 if none. */
uint64_t net_bans_left(const net_bans_t *t, int kind, const uint8_t id[NET_BAN_ID_BYTES],
                       uint64_t now_ms);

/* =========================================================================
 * Reader: a peer's byte stream cut into records (net_reader.c); pure
 * =========================================================================
 *
 * The first code a stranger's bytes reach. Fed the stream in chunks of any
 * size, it yields records one at a time; no libuv, clock or socket, so the
 * fuzz harness fuzz_net_reader drives it directly. What a record is depends on
 * the phase, which the caller (the connection state machine) sets between
 * records:
 *   HELLO   69 bytes, no length prefix                   -> NET_READER_EV_HELLO
 *   AUTH    4-byte big-endian length, exactly
 *           NET_AUTH_CT_BYTES, then that many bytes      -> NET_READER_EV_AUTH
 *   FRAMES  4-byte length in [NET_FRAME_CT_MIN,
 *           NET_FRAME_BYTES_MAX], then that many bytes   -> NET_READER_EV_FRAME
 * A length outside its phase's bounds is refused as soon as its 4th byte
 * arrives, before anything is sized from it (NET_READER_EV_REFUSED); a refusal
 * is final: the reader swallows all later input and yields nothing more.
 *
 * Invariants:
 *   - the phase changes only between records (asserted);
 *   - a frame body grows only as its bytes arrive, never past its declared
 *     length (a ve_buf with cap_max = that length); a buffer above
 *     NET_BODY_KEEP_BYTES is freed once its frame has been handled, a smaller
 *     one is kept for the next frame;
 *   - HELLO and AUTH records live in a fixed array: until AUTH is done,
 *     nothing is sized from a length the peer chose.
 */

enum { NET_READER_HELLO, NET_READER_AUTH, NET_READER_FRAMES };

enum {
  NET_READER_EV_NONE,    /* all input taken, no record complete yet */
  NET_READER_EV_HELLO,   /* body: the NET_HELLO_BYTES bytes */
  NET_READER_EV_AUTH,    /* hdr: its length prefix; body: NET_AUTH_CT_BYTES of ciphertext */
  NET_READER_EV_FRAME,   /* hdr: its length prefix; body: len bytes of ciphertext */
  NET_READER_EV_REFUSED, /* err, what: the length prefix broke its phase's bounds, or no memory */
};

/* One record. hdr and body point into the reader and stay valid (and writable,
 * so the caller can open the frame in place) until the next net_reader_feed,
 * net_reader_release or net_reader_free. */
typedef struct {
  int kind;         /* NET_READER_EV_* */
  uint8_t *hdr;     /* AUTH, FRAME: the NET_LEN_BYTES prefix (net_open authenticates it); else NULL */
  uint8_t *body;    /* HELLO, AUTH, FRAME; else NULL */
  size_t len;       /* bytes at body */
  int err;          /* REFUSED: VE_ERR_MALFORMED, VE_ERR_TOO_BIG or VE_ERR_NOMEM; else 0 */
  const char *what; /* REFUSED: static text for the log; else NULL */
} net_reader_ev_t;

typedef struct {
  int phase;                     /* NET_READER_* */
  int err;                       /* 0, or the refusal (sticky) */
  uint8_t hs[NET_AUTH_CT_BYTES]; /* HELLO or AUTH being read */
  size_t hs_have;
  uint8_t hdr[NET_LEN_BYTES];    /* length prefix being read */
  size_t hdr_have;
  size_t body_len;               /* declared by hdr, once hdr_have == NET_LEN_BYTES */
  ve_buf_t body;                 /* frame body being read */
  bool release;                  /* a FRAME was yielded: release its body before reading on */
} net_reader_t;

_Static_assert(NET_HELLO_BYTES <= NET_AUTH_CT_BYTES, "HELLO and AUTH share the record array");

/* An empty reader in phase HELLO holding no memory. */
void net_reader_init(net_reader_t *r);
/* Frees the body buffer; r may be initialised again. */
void net_reader_free(net_reader_t *r);
/* Sets what the next record is. Only between records: changing the phase with
 * part of a record read is a programmer error (asserted). */
void net_reader_phase_set(net_reader_t *r, int phase);
/* Reads from p[0..len) up to and including the byte that completes a record
 * or breaks a bound, and reports it in *ev (NET_READER_EV_NONE if all len bytes
 * went into a record still incomplete). Returns the bytes taken: > 0 whenever
 * len > 0, so `while (len) { n = feed(...); p += n; len -= n; ... }` ends.
 * After a refusal every later call takes all its input and yields NONE.
 * Invalidates the previous event's hdr and body. */
size_t net_reader_feed(net_reader_t *r, const uint8_t *p, size_t len, net_reader_ev_t *ev);
/* The caller is done with the last FRAME's body: a buffer above
 * NET_BODY_KEEP_BYTES is freed now rather than at the next feed. Idempotent. */
void net_reader_release(net_reader_t *r);
/* Heap bytes the reader holds (the body buffer's capacity). */
size_t net_reader_held_bytes(const net_reader_t *r);

/* =========================================================================
 * Transport (net.c, net_conn.c, net_dial.c)
 * ========================================================================= */

#define NET_READ_CHUNK_BYTES 65536   /* one socket read; shared by all connections */
#define NET_BODY_KEEP_BYTES 262144   /* a frame buffer above this is freed after use */
#define NET_TICK_MS_MIN 5
#define NET_TICK_MS_MAX 250
#define NET_LISTEN_BACKLOG 128
#define NET_LOG "net"

typedef struct net_dial net_dial_t;

/* Connection states (see net_conn.c for the transitions):
 *   CONNECTING  outbound TCP connect in flight
 *   HELLO       our HELLO is sent; reading the peer's 69 bytes
 *   AUTH        session derived (initiator: its AUTH sent); reading the peer's AUTH
 *   READY       we verified and admitted the peer and sent READY; reading its READY
 *   UP          both ends admitted each other; application frames both ways
 * `closing` is orthogonal: uv_close was called; the struct is unlinked and freed
 * by the close callback, which runs after every pending write callback. */
enum { NET_ST_CONNECTING, NET_ST_HELLO, NET_ST_AUTH, NET_ST_READY, NET_ST_UP };

struct net_peer {
  net_t *net;
  struct net_peer *prev, *next; /* net->conns */
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  int state;
  bool outbound, closing, authed, reported, throttled, probation;
  int reason;          /* why it closed */
  int fail_pending;    /* a write failed synchronously: closed by the next tick */
  net_dial_t *dial;    /* the dial target that made it (outbound), else NULL */
  uint8_t ip[NET_BAN_ID_BYTES]; /* ban id: IPv4 as v4-mapped IPv6, IPv6 as its /64 */
  char addr[NET_ADDR_STR_BYTES];
  uint64_t created_ms, last_rx_ms, last_ping_ms, full_since_ms;
  uint64_t ping_value;
  uint32_t rtt_ms;
  /* handshake */
  uint8_t esk[NET_KEY_BYTES]; /* secret; wiped once the session is derived */
  uint8_t epk[NET_KEY_BYTES], peer_epk[NET_KEY_BYTES];
  net_session_t sess;
  uint8_t pk[VCRYPTO_PK_BYTES]; /* valid once authed */
  net_reader_t rd;              /* the received stream cut into records */
  /* sender */
  size_t q_bytes, q_frames;
  net_bucket_t frames_in, bytes_in;
  void *user;
};

/* NET_DIAL_SELF is transient: set just before the link closes, so that the
 * close schedules the next attempt at the maximum backoff. */
enum { NET_DIAL_WAIT, NET_DIAL_RESOLVING, NET_DIAL_CONNECTING, NET_DIAL_UP, NET_DIAL_SATISFIED,
       NET_DIAL_SELF };

struct net_dial {
  net_t *net;
  struct net_dial *next;
  char host[NET_HOST_BYTES_MAX + 1];
  uint16_t port;
  bool pinned, known;
  uint8_t pin[VCRYPTO_PK_BYTES];
  uint8_t known_pk[VCRYPTO_PK_BYTES]; /* key met on the last successful link */
  int state;
  uint64_t next_ms;
  uint32_t backoff_ms;
  net_peer_t *conn;
  uv_getaddrinfo_t *gai;
};

struct net {
  uv_loop_t *loop;
  const vcrypto_keypair_t *key;
  net_config_t cfg; /* defaults resolved; chain_id and allow point to our copies */
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1];
  uint8_t chain_hash[NET_KEY_BYTES];
  uint8_t (*allow)[VCRYPTO_PK_BYTES]; /* NULL = open */
  size_t n_allow;
  uv_tcp_t listener;
  bool listening;
  uint16_t port;
  uv_timer_t tick;
  uint32_t tick_ms;
  net_peer_t *conns;
  size_t n_conns, n_up, n_hs;
  net_dial_t *dials;
  size_t n_dials;
  net_bans_t bans;
  net_stats_t stats;
  size_t live;     /* libuv handles and requests still to call back */
  bool draining;   /* net_stop is closing links: no new links or dials */
  bool stopping;   /* net_stop ran: no more callbacks; freed when live reaches 0 */
  int in_cb;       /* depth of user callbacks on the stack */
  uint8_t *rbuf;   /* NET_READ_CHUNK_BYTES */
};

#define NET_CALL(n, cb, ...)                                \
  do {                                                      \
    if ((n)->cfg.cb && !(n)->stopping) {                    \
      (n)->in_cb++;                                         \
      (n)->cfg.cb((n)->cfg.ctx, __VA_ARGS__);               \
      (n)->in_cb--;                                         \
    }                                                       \
  } while (0)

/* net.c */
void net_live_dec(net_t *n);
bool net_key_allowed(const net_t *n, const uint8_t pk[VCRYPTO_PK_BYTES]);
net_peer_t *net_key_up(const net_t *n, const uint8_t pk[VCRYPTO_PK_BYTES], const net_peer_t *except);
void net_ban_conn(net_t *n, net_peer_t *c, int reason, const char *what);
void net_short_hex(char out[9], const uint8_t *pk);

/* net_conn.c */
void net_conn_on_accept(uv_stream_t *server, int status);
/* Starts an outbound connection to sa for d; returns it or NULL (logged). */
net_peer_t *net_conn_dial(net_t *n, net_dial_t *d, const struct sockaddr *sa);
/* Closes c (idempotent). ban: ban its address, and its key if authenticated.
 * Fires on_peer_down if c was reported up. */
void net_conn_close(net_peer_t *c, int reason, bool ban, const char *what);
int net_conn_send(net_peer_t *c, uint8_t channel, const uint8_t *payload, size_t len);
void net_conn_tick(net_peer_t *c, uint64_t now_ms);

/* net_dial.c */
void net_dial_attempt(net_dial_t *d);
void net_dial_conn_up(net_dial_t *d, net_peer_t *c);
void net_dial_conn_closed(net_dial_t *d, net_peer_t *c, int reason);
void net_dial_tick(net_t *n, uint64_t now_ms);
void net_dial_stop_all(net_t *n);
void net_dial_free_all(net_t *n);

#endif
