/* net_harness.h — test helpers for src/net: nodes that record what their net
 * reports, a loop runner with deadlines, and raw-socket peers that speak the
 * wire protocol through net_int.h (so they can also break it on purpose).
 *
 * Everything binds 127.0.0.1 with port 0 and every wait is bounded. */
#ifndef VECHE_TESTS_NET_HARNESS_H
#define VECHE_TESTS_NET_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "net/net.h"
#include "net/net_int.h"

#define TH_CHAIN "veche-test-net"
#define TH_PEERS_MAX 8

/* ---- loop ---- */

typedef struct {
  uv_loop_t loop;
  uv_timer_t beat; /* keeps uv_run(ONCE) returning every few ms */
} th_loop_t;

void th_loop_init(th_loop_t *l);
/* Closes everything still open and asserts the loop closes cleanly. */
void th_loop_close(th_loop_t *l);
/* Runs the loop until pred(arg) is true or timeout_ms passes; returns pred. */
bool th_run_until(th_loop_t *l, bool (*pred)(void *), void *arg, uint64_t timeout_ms);
/* Runs the loop for ms milliseconds. */
void th_run_for(th_loop_t *l, uint64_t ms);
uint64_t th_now_ms(void);

/* ---- nodes ---- */

typedef struct th_node {
  th_loop_t *l;
  net_t *net;
  vcrypto_keypair_t kp;
  net_config_t cfg;
  uint16_t port;
  int ups, downs, last_down_reason;
  net_peer_t *peers[TH_PEERS_MAX]; /* up peers, by arrival */
  uint8_t peer_pk[TH_PEERS_MAX][VCRYPTO_PK_BYTES];
  size_t n_peers;
  uint64_t frames[NET_CH_LAST + 1];  /* per channel */
  uint64_t payload_bytes;
  uint8_t last_hash[VCRYPTO_HASH_BYTES]; /* hash of the last payload */
  size_t last_len;
  uint8_t last_channel;
  bool echo; /* send every frame back on the same channel */
  bool poke_on_down; /* on_peer_down calls net_dial and net_broadcast (stop-time reentry) */
  int poke_rc;
} th_node_t;

/* Key from seed byte `seed`; config with short test timeouts and callbacks that
 * record into the node. Call th_node_start after adjusting n->cfg. */
void th_node_init(th_node_t *n, th_loop_t *l, uint8_t seed);
void th_node_start(th_node_t *n);
void th_node_stop(th_node_t *n);
net_peer_t *th_node_peer(const th_node_t *n, const uint8_t pk[VCRYPTO_PK_BYTES]);
/* Waits until n has a peer with key pk. */
bool th_wait_peer(th_node_t *n, const uint8_t pk[VCRYPTO_PK_BYTES], uint64_t timeout_ms);
/* Waits until n's frame count on channel reaches count. */
bool th_wait_frames(th_node_t *n, uint8_t channel, uint64_t count, uint64_t timeout_ms);
bool th_wait_downs(th_node_t *n, int downs, uint64_t timeout_ms);

/* ---- raw peers ---- */

typedef struct {
  th_loop_t *l;
  int fd;
  net_session_t sess;
  uint8_t esk[NET_KEY_BYTES], epk[NET_KEY_BYTES], peer_epk[NET_KEY_BYTES];
  uint8_t peer_pk[VCRYPTO_PK_BYTES];
} th_raw_t;

enum {
  TH_RAW_OK = 0,
  TH_RAW_BAD_SIG = 1,     /* sign the transcript with the wrong role */
  TH_RAW_WRONG_CHAIN = 2, /* HELLO for another chain */
  TH_RAW_NO_READY = 3,    /* stop after the AUTH exchange (no READY either way) */
};

bool th_raw_connect(th_raw_t *r, th_loop_t *l, uint16_t port);
void th_raw_close(th_raw_t *r);
/* Sends all bytes, running the loop while the socket is full; false on error. */
bool th_raw_send(th_raw_t *r, const void *data, size_t len, uint64_t timeout_ms);
/* Receives exactly len bytes, running the loop meanwhile. */
bool th_raw_recv(th_raw_t *r, void *buf, size_t len, uint64_t timeout_ms);
/* Handshake as initiator with key kp; `how` breaks it on purpose. Returns true
 * once the node's AUTH verified and READY exchanged (the link is up on both
 * ends); false if anything failed, e.g. the node refused us. */
bool th_raw_handshake(th_raw_t *r, const vcrypto_keypair_t *kp, int how);
/* Receives and opens one frame; out gets the plaintext (channel first). */
bool th_raw_recv_frame(th_raw_t *r, uint8_t *out, size_t cap, size_t *len, uint64_t timeout_ms);
/* Seals and sends one frame (plaintext = channel || payload). */
bool th_raw_send_frame(th_raw_t *r, uint8_t channel, const void *payload, size_t len);
/* Reads and discards until the node closes the socket; true if it did in time. */
bool th_raw_wait_closed(th_raw_t *r, uint64_t timeout_ms);

#endif
