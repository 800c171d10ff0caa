/* net.h — authenticated, encrypted peer links between veche nodes (libuv).
 *
 * A net_t owns a listening socket (optional), the connections to and from other
 * nodes and the addresses it keeps dialing. Everything runs on the caller's
 * uv_loop_t; there are no threads inside and no function here is thread-safe.
 *
 * Every connection starts with a handshake that authenticates both node keys
 * (Ed25519) and binds them to the chain id, to fresh X25519 ephemeral keys and to
 * the direction of the connection; after it every frame is encrypted and
 * authenticated with ChaCha20-Poly1305 under per-direction keys and counter
 * nonces. docs/net.md describes the protocol byte by byte, the limits, the ban
 * policy and the threat model.
 *
 * Frames carry a channel byte (NET_CH_*) and an opaque payload of at most
 * NET_PAYLOAD_BYTES_MAX bytes. Delivery per peer is in order and exactly once
 * while the link is up; nothing is retransmitted across reconnects (the layers
 * above resynchronise, e.g. consensus by round-change and catch-up).
 *
 * Peers that break the protocol (malformed handshake, bad signature, unknown key,
 * wrong chain, oversize or undecryptable frame, unknown channel, frame flood) are
 * disconnected and their key and address refused for a ban period that doubles
 * on each repeat offence.
 *
 * Ownership: net_start copies the configuration (chain id, allowlist); the key
 * pair is borrowed and must outlive the net. A net_peer_t is owned by the net; the
 * pointer is valid from on_peer_up until on_peer_down returns, and never after.
 * Payload slices handed to callbacks are valid only during the call; payload
 * slices passed to net_send/net_broadcast are copied before they return.
 *
 * Callbacks run on the loop thread. on_peer_up and on_frame run from libuv read
 * callbacks; on_peer_down runs from libuv callbacks or inside net_disconnect,
 * net_set_allow or net_stop (never inside net_send, net_broadcast or net_dial).
 * Callbacks may call any function here except net_stop.
 */
#ifndef VECHE_NET_NET_H
#define VECHE_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/crypto.h"

/* ---- channels (first plaintext byte of every frame) ---- */

#define NET_CH_CONTROL 0   /* handshake READY, keepalive ping/pong; internal, never delivered */
#define NET_CH_CONSENSUS 1 /* consensus messages (proposals, votes, decisions) */
#define NET_CH_TX 2        /* transaction gossip */
#define NET_CH_SYNC 3      /* block sync requests and responses (catch-up) */
#define NET_CH_STATUS 4    /* status announcements (height, peers) */
#define NET_CH_LAST NET_CH_STATUS /* a received channel above this is a protocol error */

/* ---- sizes ---- */

#define NET_FRAME_BYTES_MAX VE_NET_FRAME_BYTES_MAX /* ciphertext of one frame */
#define NET_AEAD_TAG_BYTES 16
#define NET_FRAME_OVERHEAD_BYTES (1 + NET_AEAD_TAG_BYTES) /* channel + tag */
#define NET_PAYLOAD_BYTES_MAX (NET_FRAME_BYTES_MAX - NET_FRAME_OVERHEAD_BYTES)

/* ---- defaults of the configurable limits (net_config_t field 0 = default) ---- */

#define NET_HANDSHAKE_TIMEOUT_MS 5000  /* TCP connect + handshake */
#define NET_PING_INTERVAL_MS 5000      /* keepalive ping period */
#define NET_IDLE_TIMEOUT_MS 20000      /* nothing received for this long: drop */
#define NET_SEND_STALL_MS 30000        /* queue full with no write completing: drop */
#define NET_SEND_QUEUE_BYTES_MAX ((size_t)NET_FRAME_BYTES_MAX + 8 * 1024 * 1024)
#define NET_SEND_QUEUE_FRAMES_MAX 8192
#define NET_RATE_FRAMES_PER_S 20000    /* sustained received frames per peer */
#define NET_RATE_FRAMES_BURST 40000    /* bucket size; exceeding it is a flood: ban */
#define NET_RATE_BYTES_PER_S ((uint64_t)128 * 1024 * 1024) /* received bytes per peer */
#define NET_RATE_BYTES_BURST ((uint64_t)2 * NET_FRAME_BYTES_MAX) /* over it: reading pauses */
#define NET_RATE_CONFIG_MAX ((uint64_t)1 << 40) /* largest rate or burst net_start accepts */
#define NET_CONNS_MAX 256              /* connections in any state */
#define NET_HANDSHAKES_MAX 64          /* connections still in the handshake */
#define NET_HANDSHAKES_PER_IP_MAX 8    /* of those, from one address */
#define NET_DIAL_BACKOFF_MIN_MS 250    /* first redial delay (before jitter) */
#define NET_DIAL_BACKOFF_MAX_MS 30000  /* redial delay cap */
#define NET_BAN_MS 60000               /* first ban; doubles on each repeat */
#define NET_BAN_MS_MAX 3600000         /* ban cap */

/* ---- fixed limits ---- */

#define NET_ALLOW_MAX 1024       /* keys in an allowlist */
#define NET_DIALS_MAX 256        /* addresses net_dial keeps connected */
#define NET_HOST_BYTES_MAX 255   /* host name or numeric address in net_dial */
#define NET_BANS_MAX 1024        /* ban table entries (keys and addresses) */
#define NET_ADDR_STR_BYTES 64    /* "[v6addr]:port" with NUL */

typedef struct net net_t;
typedef struct net_peer net_peer_t;

typedef struct {
  uv_loop_t *loop;             /* borrowed; runs everything */
  const vcrypto_keypair_t *key; /* borrowed node key; must outlive the net */
  const char *chain_id;        /* copied; 1..VE_CHAIN_ID_BYTES_MAX bytes */
  const char *listen_host;     /* numeric IPv4/IPv6; NULL = do not listen */
  uint16_t listen_port;        /* 0 = any free port (see net_listen_port) */
  const uint8_t (*allow)[VCRYPTO_PK_BYTES]; /* copied; NULL = any key may connect */
  size_t n_allow;              /* ≤ NET_ALLOW_MAX */

  /* Callbacks (any may be NULL), all on the loop thread; see the top comment. */
  void (*on_peer_up)(void *ctx, net_peer_t *p, const uint8_t pk[VCRYPTO_PK_BYTES]);
  void (*on_peer_down)(void *ctx, net_peer_t *p, int reason); /* reason: VE_ERR_* */
  void (*on_frame)(void *ctx, net_peer_t *p, uint8_t channel, ve_slice_t payload);
  void *ctx;

  /* Limits and timeouts; 0 selects the NET_* default of the same name. */
  uint32_t handshake_timeout_ms, ping_interval_ms, idle_timeout_ms, send_stall_ms;
  size_t send_queue_bytes_max, send_queue_frames_max;
  uint32_t rate_frames_per_s, rate_frames_burst;
  uint64_t rate_bytes_per_s, rate_bytes_burst;
  uint32_t conns_max, handshakes_max, handshakes_per_ip_max;
  uint32_t dial_backoff_min_ms, dial_backoff_max_ms;
  uint32_t ban_ms, ban_ms_max;
} net_config_t;

/* Validates cfg, copies what it needs and starts listening (if listen_host).
 * Returns 0, VE_ERR_CONFIG (bad chain id, allowlist too long, missing loop or key,
 * listen_host not a numeric address), VE_ERR_IO (bind/listen failed: the message
 * is logged) or VE_ERR_NOMEM; after a failure, run the loop before uv_loop_close
 * (handles created before the failure close asynchronously). Sets SIGPIPE to
 * ignored if it was at its default, so a peer closing mid-write cannot kill the
 * process. Out: *out. */
int net_start(const net_config_t *cfg, net_t **out);

/* Asks everything to close. on_peer_down fires for every peer that is up before
 * this returns; no callback fires afterwards. The net frees itself once libuv
 * has closed its handles: keep running the loop (uv_run until it returns 0)
 * before uv_loop_close. n is invalid after this returns. Not from a callback. */
void net_stop(net_t *n);

/* The port actually listened on (useful with listen_port 0); 0 if not listening. */
uint16_t net_listen_port(const net_t *n);

/* Keeps a connection to host:port: dials now, and again with exponential backoff
 * and jitter (bounded by dial_backoff_max_ms) whenever it is down, until
 * net_stop. host is a numeric address or a name (resolved each attempt, IPv4
 * preferred). expect_pk (may be NULL) pins the key the remote must authenticate
 * with; a mismatch aborts the connection. A dial that reaches this node itself
 * retries only at the maximum backoff. A dial to a key that is already connected (e.g. it dialed us) waits
 * until that link goes down. Returns 0, VE_ERR_INVALID (bad host/port),
 * VE_ERR_LIMIT (NET_DIALS_MAX) or VE_ERR_CLOSED (inside net_stop). */
int net_dial(net_t *n, const char *host, uint16_t port, const uint8_t expect_pk[VCRYPTO_PK_BYTES]);

/* Queues one frame for p. channel is NET_CH_CONSENSUS..NET_CH_LAST; payload is
 * copied (and encrypted) before returning. Returns 0, VE_ERR_INVALID (bad
 * channel), VE_ERR_TOO_BIG (payload over NET_PAYLOAD_BYTES_MAX), VE_ERR_FULL (the
 * peer's send queue is full: backpressure, the caller decides what to drop; a
 * peer whose queue stays full for send_stall_ms without progress is dropped),
 * VE_ERR_CLOSED (p is going down) or VE_ERR_NOMEM. Never calls a callback. */
int net_send(net_t *n, net_peer_t *p, uint8_t channel, ve_slice_t payload);

/* net_send to every peer that is up, except `except` (may be NULL). Returns the
 * number of peers that queued the frame; peers that refused it (full) are
 * skipped. Never calls a callback. */
size_t net_broadcast(net_t *n, uint8_t channel, ve_slice_t payload, const net_peer_t *except);

/* Drops p (e.g. the layer above found garbage in its frames) with reason
 * (a VE_ERR_* code, logged and passed to on_peer_down, which fires before this
 * returns). ban: also refuse p's key and address for the ban period. */
void net_disconnect(net_t *n, net_peer_t *p, int reason, bool ban);

/* Replaces the allowlist (copied; NULL = anyone), e.g. when the validator set
 * changes. Peers that are up and no longer allowed are dropped (VE_ERR_PERMISSION,
 * no ban). Returns 0 or VE_ERR_LIMIT / VE_ERR_NOMEM (the old list stays). */
int net_set_allow(net_t *n, const uint8_t (*allow)[VCRYPTO_PK_BYTES], size_t n_allow);

/* Peers that are up (handshake done, not going down). */
size_t net_peer_count(const net_t *n);

/* ---- per-peer information ---- */

typedef struct {
  uint8_t pk[VCRYPTO_PK_BYTES];
  char addr[NET_ADDR_STR_BYTES]; /* remote address "ip:port" */
  bool outbound;                 /* this node dialed */
  size_t queue_bytes, queue_frames;
  uint32_t rtt_ms;               /* last keepalive round trip; 0 until measured */
} net_peer_info_t;

void net_peer_info(const net_peer_t *p, net_peer_info_t *out);
/* The peer's authenticated node key (valid as long as p is). */
const uint8_t *net_peer_pk(const net_peer_t *p);
/* One pointer of caller state per peer (NULL initially; the net never touches it). */
void net_peer_set_user(net_peer_t *p, void *user);
void *net_peer_user(const net_peer_t *p);

/* ---- statistics (monotonic counters since net_start, plus gauges) ---- */

typedef struct {
  size_t peers;            /* up now */
  size_t handshakes;       /* in the handshake now */
  uint64_t accepted;       /* inbound TCP connections accepted */
  uint64_t dials;          /* outbound connection attempts */
  uint64_t peers_up;       /* handshakes completed (on_peer_up calls) */
  uint64_t handshakes_failed; /* connections that closed before being up */
  uint64_t refused_banned; /* connections refused because key or address is banned */
  uint64_t refused_full;   /* connections refused by conns/handshake limits */
  uint64_t bans;           /* ban events (a key and an address banned together count 1) */
  uint64_t frames_in, frames_out, bytes_in, bytes_out; /* bytes on the wire */
  uint64_t send_full;      /* net_send calls refused with VE_ERR_FULL */
} net_stats_t;

void net_stats(const net_t *n, net_stats_t *out);

/* Remaining ban time of a key (0 if not banned), e.g. for a status page. */
uint64_t net_key_ban_ms(const net_t *n, const uint8_t pk[VCRYPTO_PK_BYTES]);

#endif
