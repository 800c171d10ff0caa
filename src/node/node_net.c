/* node_net.c — the node's peer links: consensus messages, transaction gossip
 * and catch-up, over src/net, on the loop thread.
 *
 * Who may connect. A validator admits the genesis validators and the keys in
 * its config's p2p_allow (observers it serves); an observer, or any node with
 * p2p_open, admits anyone. Validators link with their validator key, so the
 * allowlist is the validator set itself; other nodes link with a node key of
 * their own.
 *
 * Channels:
 *   CONSENSUS  engine messages, both ways. The engine names peers by a uint64
 *              we assign at peer-up (never reused), so a message for a peer
 *              that went down is simply dropped. Catch-up is the engine's:
 *              a node behind answers a STATUS from a peer ahead, which asks us
 *              (SEND_DECISION) for that height's block and certificate; the
 *              receiver verifies the certificate against its validator set and
 *              the block against its state before committing, and asks for the
 *              next height at once.
 *   TX         batches of transactions: count, then count length-prefixed
 *              transactions (docs/net.md §5). A node gossips what it admitted
 *              through its API to every peer; what arrives from a non-validator
 *              peer is forwarded to the others, so a transaction given to an
 *              observer still reaches the proposers. Admission verifies
 *              signatures, so batches are admitted on libuv's worker threads,
 *              never on the loop. A node without a validator key never
 *              proposes, so what it admitted must reach a validator: it
 *              re-sends its pending transactions to a validator whose link
 *              comes up, and to one whose full send queue refused a gossip
 *              frame, or to every validator when its own gossip buffer was
 *              full, once that queue has drained (resend_pending, resend_owed).
 *   SYNC       document blobs (content-addressed, outside the blocks). A node
 *              that lacks a blob some committed record references fetches it
 *              from its peers in turn, one blob at a time, in pieces; the bytes
 *              are stored only if they pass the record's checks (node_docs.h).
 *              WANT(id, offset) -> PART(id, size, offset, bytes) | NONE(id).
 *              And catch-up read-ahead: a node that serves a peer the decision
 *              at height h (SEND_DECISION) also pushes it, once each, the
 *              blocks up to h + NODE_SYNC_AHEAD_BLOCKS: BLOCK(height, bytes),
 *              no certificate. The catching-up node starts checking their
 *              transactions on its verification threads (node_verify_ahead)
 *              while it commits the blocks before them, and validates each one
 *              as usual when its certified decision arrives; a pushed block is
 *              never trusted, only its checks are reused for the very same
 *              bytes (matched by header hash and tx ids).
 *
 * Garbage on a channel (undecodable, bad signature, a channel we do not serve)
 * gets the peer disconnected and banned (net.h doubles the ban on repeats);
 * consensus goes on with the others.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "codec/codec.h"
#include "net/net.h"
#include "node/node_docs.h"
#include "node/node_int.h"
#include "node/node_verify.h"

#define LOG "net"

/* A gossip frame is flushed at this size (or at the next loop wake-up). */
#define NODE_GOSSIP_FRAME_BYTES_MAX (1024 * 1024)
#define NODE_GOSSIP_FRAME_TXS_MAX 8192
/* What a node without a validator key re-sends to a validator (resend_pending
 * says when): at most this much of its mempool, oldest first. */
#define NODE_GOSSIP_RESEND_BYTES_MAX (16 * 1024 * 1024)
#define NODE_GOSSIP_RESEND_TXS_MAX 65536
/* A re-send owed for a refused frame waits until the peer's send queue has at
 * least this share of its limits free (1/NODE_GOSSIP_RESEND_DRAIN_DIV) and
 * room for a whole gossip frame, and comes at most once per interval per peer
 * (a queue that a re-send fills again drains before the next one). */
#define NODE_GOSSIP_RESEND_DRAIN_DIV 2
#define NODE_GOSSIP_RESEND_INTERVAL_MS 1000
/* Received batches waiting for, or in, admission on worker threads. Beyond
 * this a batch is dropped: gossip is best effort, the sender still holds it. */
#define NODE_GOSSIP_INFLIGHT_BYTES_MAX (64 * 1024 * 1024)
#define NODE_PEER_SLOTS NET_CONNS_MAX
/* Blob replication: piece size, how often the missing list is looked at, and
 * when a silent fetch is abandoned (and the next peer tried). */
#define NODE_BLOB_PIECE_BYTES (1024 * 1024)
#define NODE_BLOB_SCAN_MS 1000
#define NODE_BLOB_STALL_MS 10000
#define NODE_BLOB_MISSING_MAX 16
/* Catch-up read-ahead: blocks pushed beyond the decision a peer asked for. */
#define NODE_SYNC_AHEAD_BLOCKS 4
/* A STATUS below our height asks us for that height's decision (a block and
 * its certificate: a few bytes in, up to megabytes out). A peer catching up
 * asks for each height once and then the next, so the same height again from
 * the same peer within this long is dropped: a flood of them would otherwise
 * make us read and send the block once per message. Later it is answered (the
 * first answer may have been dropped by a full send queue). */
#define NODE_CATCHUP_REPEAT_MS 500
enum { SYNC_BLOB_WANT = 1, SYNC_BLOB_PART = 2, SYNC_BLOB_NONE = 3, SYNC_BLOCK_AHEAD = 4 };

typedef struct {
  uint64_t id; /* 0: free slot */
  net_peer_t *p;
  uint8_t pk[VCRYPTO_PK_BYTES];
  bool validator; /* in the set of the next height or the one after (n->vsets) */
  uint64_t pushed; /* highest height pushed to this peer ahead of its decisions */
  uint64_t asked_height, asked_ms; /* its last catch-up request let through, and when */
  /* Gossip re-send (nodes without a validator key, validator peers only):
   * a frame to this peer was refused since the last re-send (no gossip goes
   * to it until the re-send); when that was. */
  bool resend_owed;
  uint64_t resent_ms;
} peer_slot_t;

struct node_net {
  net_t *net;
  size_t queue_bytes_max; /* each link's send queue limit (net_config_t, default applied) */
  peer_slot_t peers[NODE_PEER_SLOTS];
  uint64_t next_id;
  /* gossip out: written by HTTP threads, flushed by the loop */
  pthread_mutex_t mu;
  ve_buf_t pending;   /* concatenated codec_put_bytes(tx) */
  size_t pending_n;
  /* gossip_pending_bytes_max (config.h), default applied. A transaction
   * beyond it is left out of the gossip: a validator proposes it itself, a
   * node without a validator key owes every validator a re-send (drop_owed,
   * turned into resend_owed at the next flush), which carries it. */
  size_t pending_max;
  bool drop_owed;     /* a tx was left out of pending since the last flush */
  ve_buf_t frame;     /* loop thread scratch */
  /* gossip in */
  size_t inflight_bytes;
  size_t inflight_n;
  bool stopping;
  _Atomic uint64_t catchup_repeats; /* repeated catch-up requests dropped */
  /* blob fetch in progress (loop thread) */
  struct {
    bool active;
    uint8_t id[32];
    uint64_t peer;      /* asked peer */
    uint64_t size;      /* from the first piece */
    ve_buf_t bytes;
    uint64_t last_ms;   /* last progress */
    size_t rotor;       /* which peer slot to try next */
    uint64_t last_scan_ms;
  } fetch;
  /* counters: written on the loop (dropped also by HTTP threads), read by the API */
  _Atomic uint64_t gossip_dropped, gossip_in, gossip_out, gossip_resent, banned;
  _Atomic uint64_t net_bans; /* src/net's ban events (ours and its own), as of the last tick */
};

typedef struct {
  uv_work_t req;
  node_t *n;
  uint64_t from;        /* peer id */
  bool forward;         /* re-gossip what we accept */
  ve_slice_t *txs;
  size_t count;
  uint8_t *bytes;       /* owns the payload txs point into */
  size_t len;
  bool *accepted;       /* per tx, set by the worker */
} gossip_work_t;

static void blobs_tick(node_t *n);

/* ---- peers ---- */

static peer_slot_t *slot_by_id(struct node_net *nn, uint64_t id) {
  for (size_t i = 0; i < NODE_PEER_SLOTS; i++)
    if (nn->peers[i].id == id && id) return &nn->peers[i];
  return NULL;
}

static void resend_pending(node_t *n, peer_slot_t *s);

/* A validator of the next height or of the one after: while a change takes
 * effect, both the leaving and the joining validators must be reachable. */
static bool in_vsets(const node_t *n, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  for (size_t i = 0; i < CONS_VALSET_DELAY; i++)
    if (cons_valset_find(&n->vsets[i], pk) >= 0) return true;
  return false;
}

/* The allowlist of a node that does not admit anyone: the validators of the
 * next two heights and the configured keys. *out is NULL for an open node. */
static int allow_build(const node_t *n, uint8_t (**out)[VCRYPTO_PK_BYTES], size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  if (n->cfg.p2p_open >= 0 ? n->cfg.p2p_open : !n->has_key) return VE_OK;
  uint8_t(*allow)[VCRYPTO_PK_BYTES] = calloc(CONS_VALSET_DELAY * VE_VALIDATORS_MAX + n->cfg.n_allow + 1,
                                             VCRYPTO_PK_BYTES);
  if (!allow) return VE_ERR_NOMEM;
  size_t k = 0;
  for (size_t i = 0; i < CONS_VALSET_DELAY; i++)
    for (uint32_t j = 0; j < n->vsets[i].count; j++) {
      bool seen = false;
      for (size_t m = 0; m < k && !seen; m++) seen = !memcmp(allow[m], n->vsets[i].v[j].pk, VCRYPTO_PK_BYTES);
      if (!seen) memcpy(allow[k++], n->vsets[i].v[j].pk, VCRYPTO_PK_BYTES);
    }
  for (size_t i = 0; i < n->cfg.n_allow; i++) memcpy(allow[k++], n->cfg.allow[i], VCRYPTO_PK_BYTES);
  *out = allow;
  *n_out = k;
  return VE_OK;
}

void node_net_vsets_changed(node_t *n) {
  struct node_net *nn = n->net;
  if (!nn || !nn->net) return;
  for (size_t i = 0; i < NODE_PEER_SLOTS; i++)
    if (nn->peers[i].id) nn->peers[i].validator = in_vsets(n, nn->peers[i].pk);
  uint8_t(*allow)[VCRYPTO_PK_BYTES];
  size_t n_allow;
  int rc = allow_build(n, &allow, &n_allow);
  /* A node that admits anyone keeps doing so; else links of validators that
   * left are dropped by net_set_allow and joining ones are admitted. */
  if (rc == VE_OK && allow) rc = net_set_allow(nn->net, (const uint8_t(*)[VCRYPTO_PK_BYTES])allow, n_allow);
  free(allow);
  if (rc) VE_ERROR(LOG, "validator set changed, but the peer allowlist was not updated: %s", ve_strerror(rc));
  else VE_INFO(LOG, "validator set of height %llu: %u validators", (unsigned long long)n->applied + CONS_VALSET_DELAY,
               n->vsets[CONS_VALSET_DELAY - 1].count);
}

static void on_peer_up(void *ctx, net_peer_t *p, const uint8_t pk[VCRYPTO_PK_BYTES]) {
  node_t *n = ctx;
  struct node_net *nn = n->net;
  peer_slot_t *s = NULL;
  for (size_t i = 0; !s && i < NODE_PEER_SLOTS; i++)
    if (!nn->peers[i].id) s = &nn->peers[i];
  if (!s) { /* cannot happen: slots = NET_CONNS_MAX */
    net_disconnect(nn->net, p, VE_ERR_LIMIT, false);
    return;
  }
  s->id = ++nn->next_id;
  s->p = p;
  memcpy(s->pk, pk, VCRYPTO_PK_BYTES);
  s->validator = in_vsets(n, pk);
  net_peer_set_user(p, s);
  atomic_store(&n->peers, net_peer_count(nn->net));
  resend_pending(n, s);
  /* src/net logs links going up and down; nothing to add here. */
}

static void on_peer_down(void *ctx, net_peer_t *p, int reason) {
  node_t *n = ctx;
  peer_slot_t *s = net_peer_user(p);
  (void)reason; /* logged by src/net */
  if (s) {
    memset(s, 0, sizeof *s);
    net_peer_set_user(p, NULL);
  }
  /* p no longer counts as up once it is going down. */
  if (n->net && n->net->net) atomic_store(&n->peers, net_peer_count(n->net->net));
}

static void ban(node_t *n, net_peer_t *p, const char *what, int rc) {
  char hex[17];
  ve_hex_encode(hex, net_peer_pk(p), 8);
  VE_WARN(LOG, "peer %s… sent %s (%s): disconnected and banned", hex, what, ve_strerror(rc));
  n->net->banned++;
  net_disconnect(n->net->net, p, VE_ERR_PEER, true);
}

/* Errors that only a faulty or hostile peer causes. */
static bool peer_fault(int rc) {
  return rc == VE_ERR_MALFORMED || rc == VE_ERR_NONCANONICAL || rc == VE_ERR_TRAILING ||
         rc == VE_ERR_TOO_BIG || rc == VE_ERR_VERSION || rc == VE_ERR_BAD_SIG ||
         rc == VE_ERR_INVALID || rc == VE_ERR_DEPTH || rc == VE_ERR_LIMIT;
}

/* ---- transaction gossip ---- */

void node_net_gossip_tx(node_t *n, ve_slice_t tx) {
  struct node_net *nn = n->net;
  if (!nn) return;
  pthread_mutex_lock(&nn->mu);
  bool queued = false;
  if (nn->pending.len + tx.len + 8 <= nn->pending_max) {
    codec_writer_t w;
    codec_writer_init(&w, &nn->pending);
    codec_put_bytes(&w, tx.ptr, tx.len, VE_TX_BYTES_MAX);
    queued = codec_writer_finish(&w) == VE_OK;
    if (queued) nn->pending_n++;
  }
  if (!queued) {
    nn->gossip_dropped++;
    if (!atomic_load(&n->member)) nn->drop_owed = true; /* it is in our mempool: the re-send carries it */
  }
  pthread_mutex_unlock(&nn->mu);
}

/* Sends frame = count || items (items already encoded) to `only` if given,
 * else to every peer but `except` (0: none), only validators when
 * validators_only. A node that does not propose (!n->member) owes a re-send
 * to a validator that refused the frame (full queue, or no memory; a link going
 * down gets one when it comes up again), and sends that peer nothing more
 * until the re-send: the re-send carries what was skipped, oldest first, so
 * the validator receives our transactions in order (a later frame that fits
 * where an earlier one did not would let a signer's later seqs commit first,
 * and a seq more than LEDGER_SEQ_WINDOW behind could never commit). Returns
 * the transactions queued, summed over peers. */
static size_t send_batch(node_t *n, ve_slice_t items, size_t count, peer_slot_t *only, uint64_t except,
                         bool validators_only) {
  struct node_net *nn = n->net;
  ve_buf_reset(&nn->frame);
  codec_writer_t w;
  codec_writer_init(&w, &nn->frame);
  codec_put_uvarint(&w, count);
  codec_put_fixed(&w, items.ptr, items.len);
  if (codec_writer_finish(&w)) return 0;
  size_t queued = 0;
  for (size_t i = 0; i < NODE_PEER_SLOTS; i++) {
    peer_slot_t *s = &nn->peers[i];
    if (!s->id || (only && s != only) || s->id == except || (validators_only && !s->validator) ||
        s->resend_owed)
      continue;
    int rc = net_send(nn->net, s->p, NET_CH_TX, ve_buf_slice(&nn->frame));
    if (rc == VE_OK) queued += count;
    else if (rc != VE_ERR_CLOSED && !atomic_load(&n->member) && s->validator) s->resend_owed = true;
  }
  nn->gossip_out += queued;
  return queued;
}

/* Sends count encoded items in frames of at most NODE_GOSSIP_FRAME_* (items
 * are whole), to `only` or, if NULL, to every peer. Returns send_batch's sum. */
static size_t send_split(node_t *n, ve_slice_t items, size_t count, peer_slot_t *only) {
  codec_reader_t r;
  codec_reader_init(&r, items);
  size_t start = 0, k = 0, queued = 0;
  for (size_t i = 0; i < count; i++) {
    size_t before = r.pos;
    (void)codec_get_bytes(&r, VE_TX_BYTES_MAX);
    if (k && (r.pos - start > NODE_GOSSIP_FRAME_BYTES_MAX || k == NODE_GOSSIP_FRAME_TXS_MAX)) {
      queued += send_batch(n, ve_slice(items.ptr + start, before - start), k, only, 0, false);
      start = before;
      k = 0;
    }
    k++;
  }
  if (k) queued += send_batch(n, ve_slice(items.ptr + start, r.pos - start), k, only, 0, false);
  return queued;
}

/* Gossip reaches the links that are up when a transaction is admitted, and
 * only if it fits the gossip buffer and the link's send queue takes the frame.
 * A member of the validator set proposes what it holds itself; any other node
 * (an observer, or a validator key outside the set: n->member) cannot, so what
 * it admitted while no validator link was up (just started, or cut off), what
 * its full gossip buffer left out, or what a full send queue refused, would
 * wait in its mempool until it expired. It therefore re-sends its pending
 * transactions (oldest first, within the NODE_GOSSIP_RESEND_* bounds) to each
 * validator whose link comes up, and to one it owes a re-send (resend_owed: a
 * refused frame, or any left-out transaction) once that peer's queue has
 * drained; the validator drops the ones it already holds. The first frame of
 * the re-send that the queue refuses leaves the re-send owed again, and ends
 * it. */
static void resend_pending(node_t *n, peer_slot_t *s) {
  if (atomic_load(&n->member) || !s->validator || mempool_size(n->mempool) == 0) return;
  s->resent_ms = uv_now(&n->loop);
  mempool_batch_t b;
  if (mempool_reap(n->mempool, NODE_GOSSIP_RESEND_TXS_MAX, NODE_GOSSIP_RESEND_BYTES_MAX, &b)) {
    s->resend_owed = true; /* no memory: the next interval tries again */
    return;
  }
  ve_buf_t items;
  ve_buf_init(&items, 0);
  codec_writer_t w;
  codec_writer_init(&w, &items);
  for (size_t i = 0; i < b.n; i++) codec_put_bytes(&w, b.txs[i].ptr, b.txs[i].len, VE_TX_BYTES_MAX);
  if (codec_writer_finish(&w) == VE_OK && b.n)
    n->net->gossip_resent += send_split(n, ve_buf_slice(&items), b.n, s);
  else if (b.n)
    s->resend_owed = true;
  ve_buf_free(&items);
  mempool_batch_free(&b);
}

/* Can s's send queue take a re-send: at most 1/NODE_GOSSIP_RESEND_DRAIN_DIV
 * of its limits used, and room for a whole gossip frame (or empty)? A frozen
 * or slow peer keeps its queue full, so a re-send owed to it waits (and the
 * link is dropped after NET_SEND_STALL_MS without progress). */
static bool queue_drained(const struct node_net *nn, const peer_slot_t *s) {
  net_peer_info_t info;
  net_peer_info(s->p, &info);
  if (info.queue_frames == 0) return true;
  size_t bytes_max = nn->queue_bytes_max;
  size_t room = info.queue_bytes < bytes_max ? bytes_max - info.queue_bytes : 0;
  return info.queue_frames <= NET_SEND_QUEUE_FRAMES_MAX / NODE_GOSSIP_RESEND_DRAIN_DIV &&
         info.queue_bytes <= bytes_max / NODE_GOSSIP_RESEND_DRAIN_DIV &&
         room >= (size_t)NODE_GOSSIP_FRAME_BYTES_MAX + 64; /* + count, length, channel, tag */
}

/* On the tick: the re-sends owed to validators, each once its queue has
 * drained and NODE_GOSSIP_RESEND_INTERVAL_MS after the last re-send to it. */
static void resend_owed(node_t *n) {
  struct node_net *nn = n->net;
  if (atomic_load(&n->member)) return;
  uint64_t now = uv_now(&n->loop);
  for (size_t i = 0; i < NODE_PEER_SLOTS; i++) {
    peer_slot_t *s = &nn->peers[i];
    if (!s->id || !s->resend_owed || now - s->resent_ms < NODE_GOSSIP_RESEND_INTERVAL_MS) continue;
    if (!queue_drained(nn, s)) continue;
    s->resend_owed = false;
    resend_pending(n, s);
  }
}

void node_net_flush(node_t *n) {
  struct node_net *nn = n->net;
  if (!nn || nn->stopping) return;
  net_stats_t st;
  net_stats(nn->net, &st);
  atomic_store(&nn->net_bans, st.bans);
  blobs_tick(n);
  resend_owed(n);
  ve_buf_t take;
  size_t count;
  pthread_mutex_lock(&nn->mu);
  take = nn->pending;
  count = nn->pending_n;
  ve_buf_init(&nn->pending, nn->pending_max);
  nn->pending_n = 0;
  bool dropped = nn->drop_owed;
  nn->drop_owed = false;
  pthread_mutex_unlock(&nn->mu);
  /* Transactions were left out: every validator link gets a re-send (oldest
   * first, from the mempool) instead of what was taken, so it still receives
   * them in admission order. */
  if (dropped)
    for (size_t i = 0; i < NODE_PEER_SLOTS; i++)
      if (nn->peers[i].id && nn->peers[i].validator) nn->peers[i].resend_owed = true;
  send_split(n, ve_buf_slice(&take), count, NULL);
  ve_buf_free(&take);
}

static void gossip_work(uv_work_t *req) {
  gossip_work_t *gw = req->data;
  node_t *n = gw->n;
  uint64_t h = atomic_load(&n->height) + 1;
  for (size_t i = 0; i < gw->count; i++) {
    uint8_t id[LEDGER_HASH_BYTES];
    gw->accepted[i] = mempool_add(n->mempool, n->store, node_chain_id(n), h, gw->txs[i], id) == VE_OK;
  }
}

static void gossip_done(uv_work_t *req, int status) {
  gossip_work_t *gw = req->data;
  node_t *n = gw->n;
  struct node_net *nn = n->net;
  nn->inflight_bytes -= gw->len;
  nn->inflight_n--;
  size_t accepted = 0;
  for (size_t i = 0; i < gw->count; i++) accepted += gw->accepted[i];
  nn->gossip_in += accepted;
  if (status == 0 && accepted && gw->forward && !nn->stopping) {
    ve_buf_t items;
    ve_buf_init(&items, 0);
    codec_writer_t w;
    codec_writer_init(&w, &items);
    for (size_t i = 0; i < gw->count; i++)
      if (gw->accepted[i]) codec_put_bytes(&w, gw->txs[i].ptr, gw->txs[i].len, VE_TX_BYTES_MAX);
    if (codec_writer_finish(&w) == VE_OK)
      send_batch(n, ve_buf_slice(&items), accepted, NULL, gw->from, true);
    ve_buf_free(&items);
  }
  free(gw->txs);
  free(gw->accepted);
  free(gw->bytes);
  free(gw);
  if (accepted && !nn->stopping) node_cons_poll(n);
}

static void on_tx_frame(node_t *n, net_peer_t *p, ve_slice_t payload) {
  struct node_net *nn = n->net;
  peer_slot_t *s = net_peer_user(p);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  size_t count = codec_get_count(&r, NODE_GOSSIP_FRAME_TXS_MAX, 1);
  int rc = r.err;
  if (rc == VE_OK && count == 0) rc = VE_ERR_MALFORMED;
  if (rc) return ban(n, p, "a malformed transaction batch", rc);
  if (nn->inflight_bytes + payload.len > NODE_GOSSIP_INFLIGHT_BYTES_MAX || nn->stopping) {
    nn->gossip_dropped += count;
    return;
  }
  gossip_work_t *gw = calloc(1, sizeof *gw);
  uint8_t *bytes = gw ? malloc(payload.len) : NULL;
  ve_slice_t *txs = bytes ? calloc(count, sizeof *txs) : NULL;
  bool *acc = txs ? calloc(count, sizeof *acc) : NULL;
  if (!acc) {
    free(gw);
    free(bytes);
    free(txs);
    return;
  }
  memcpy(bytes, payload.ptr, payload.len);
  codec_reader_init(&r, ve_slice(bytes, payload.len));
  (void)codec_get_count(&r, NODE_GOSSIP_FRAME_TXS_MAX, 1);
  for (size_t i = 0; i < count; i++) txs[i] = codec_get_bytes(&r, VE_TX_BYTES_MAX);
  rc = codec_reader_finish(&r);
  if (rc) {
    free(gw);
    free(bytes);
    free(txs);
    free(acc);
    return ban(n, p, "a malformed transaction batch", rc);
  }
  *gw = (gossip_work_t){.n = n, .from = s->id, .forward = !s->validator, .txs = txs, .count = count,
                        .bytes = bytes, .len = payload.len, .accepted = acc};
  gw->req.data = gw;
  nn->inflight_bytes += payload.len;
  nn->inflight_n++;
  if (uv_queue_work(&n->loop, &gw->req, gossip_work, gossip_done) != 0) {
    nn->inflight_bytes -= payload.len;
    nn->inflight_n--;
    free(gw);
    free(bytes);
    free(txs);
    free(acc);
  }
}

/* ---- blob replication ---- */

static void sync_send(node_t *n, peer_slot_t *s, uint8_t type, const uint8_t id[32], uint64_t a, uint64_t b,
                      ve_slice_t bytes) {
  ve_buf_t m;
  ve_buf_init(&m, NET_PAYLOAD_BYTES_MAX);
  codec_writer_t w;
  codec_writer_init(&w, &m);
  codec_put_u8(&w, type);
  codec_put_fixed(&w, id, 32);
  if (type == SYNC_BLOB_WANT) codec_put_uvarint(&w, a);
  if (type == SYNC_BLOB_PART) {
    codec_put_uvarint(&w, a); /* size */
    codec_put_uvarint(&w, b); /* offset */
    codec_put_bytes(&w, bytes.ptr, bytes.len, NODE_BLOB_PIECE_BYTES);
  }
  if (codec_writer_finish(&w) == VE_OK) (void)net_send(n->net->net, s->p, NET_CH_SYNC, ve_buf_slice(&m));
  ve_buf_free(&m);
}

static void fetch_end(struct node_net *nn) {
  nn->fetch.active = false;
  ve_buf_free(&nn->fetch.bytes);
}

/* Asks the next peer (after the rotor) for the fetch's blob from offset. */
static bool fetch_ask(node_t *n) {
  struct node_net *nn = n->net;
  for (size_t k = 0; k < NODE_PEER_SLOTS; k++) {
    size_t i = (nn->fetch.rotor + k) % NODE_PEER_SLOTS;
    peer_slot_t *s = &nn->peers[i];
    if (!s->id) continue;
    nn->fetch.rotor = i + 1;
    nn->fetch.peer = s->id;
    nn->fetch.last_ms = node_now_ms();
    sync_send(n, s, SYNC_BLOB_WANT, nn->fetch.id, nn->fetch.bytes.len, 0, ve_slice(NULL, 0));
    return true;
  }
  return false;
}

/* On the tick: start fetching a missing blob, or give up on a silent peer. */
static void blobs_tick(node_t *n) {
  struct node_net *nn = n->net;
  uint64_t now = node_now_ms();
  if (nn->fetch.active) {
    if (now - nn->fetch.last_ms < NODE_BLOB_STALL_MS) return;
    fetch_end(nn); /* the rotor moves on: the next scan asks another peer */
  }
  if (now - nn->fetch.last_scan_ms < NODE_BLOB_SCAN_MS || net_peer_count(nn->net) == 0) return;
  nn->fetch.last_scan_ms = now;
  uint8_t ids[NODE_BLOB_MISSING_MAX][32];
  size_t k = node_docs_blobs_missing(n, ids, NODE_BLOB_MISSING_MAX);
  if (!k) return;
  /* Rotate over the missing ones too, so one nobody has does not block the rest. */
  memcpy(nn->fetch.id, ids[(now / NODE_BLOB_SCAN_MS) % k], 32);
  nn->fetch.active = true;
  nn->fetch.size = 0;
  ve_buf_init(&nn->fetch.bytes, DOCUMENTS_BLOB_BYTES_MAX);
  if (!fetch_ask(n)) fetch_end(nn);
}

/* ---- catch-up read-ahead ---- */

/* Pushes s the blocks after height (up to NODE_SYNC_AHEAD_BLOCKS, each once)
 * that carry transactions, read through t. Best effort: stops at the first
 * block that is missing or that the link will not queue. */
static void push_ahead(node_t *n, peer_slot_t *s, store_txn_t *t, uint64_t height) {
  uint64_t tip = n->applied; /* loop thread; a block t does not hold ends the push */
  uint64_t from = height + 1 > s->pushed + 1 ? height + 1 : s->pushed + 1;
  uint64_t to = height + NODE_SYNC_AHEAD_BLOCKS < tip ? height + NODE_SYNC_AHEAD_BLOCKS : tip;
  ve_buf_t m;
  ve_buf_init(&m, NET_PAYLOAD_BYTES_MAX);
  for (uint64_t h = from; h <= to; h++) {
    ve_slice_t block;
    ledger_header_t hdr;
    if (ledger_block_get(t, h, &block) || ledger_block_header_get(block, &hdr)) break;
    s->pushed = h;
    if (hdr.tx_count == 0) continue; /* nothing to check ahead */
    ve_buf_reset(&m);
    codec_writer_t w;
    codec_writer_init(&w, &m);
    codec_put_u8(&w, SYNC_BLOCK_AHEAD);
    codec_put_uvarint(&w, h);
    codec_put_bytes(&w, block.ptr, block.len, VE_BLOCK_BYTES_MAX);
    if (codec_writer_finish(&w) || net_send(n->net->net, s->p, NET_CH_SYNC, ve_buf_slice(&m)) != VE_OK) {
      s->pushed = h - 1;
      break;
    }
  }
  ve_buf_free(&m);
}

/* BLOCK(height, bytes) from a peer serving our catch-up: checked ahead if it
 * is among the next blocks we will validate. */
static void on_block_ahead(node_t *n, net_peer_t *p, ve_slice_t payload) {
  codec_reader_t r;
  codec_reader_init(&r, payload);
  (void)codec_get_u8(&r);
  uint64_t height = codec_get_uvarint(&r);
  ve_slice_t block = codec_get_bytes(&r, VE_BLOCK_BYTES_MAX);
  int rc = codec_reader_finish(&r);
  if (rc) return ban(n, p, "a malformed sync message", rc);
  uint64_t tip = n->applied; /* executed, durable or not: the next to validate follow it */
  if (!n->verify || height <= tip || height > tip + NODE_VERIFY_AHEAD_BLOCKS_MAX) return;
  rc = node_verify_ahead(n->verify, height, block);
  if (peer_fault(rc)) ban(n, p, "a block that does not decode", rc);
}

static void on_sync_frame(node_t *n, net_peer_t *p, ve_slice_t payload) {
  struct node_net *nn = n->net;
  peer_slot_t *s = net_peer_user(p);
  if (payload.len && payload.ptr[0] == SYNC_BLOCK_AHEAD) return on_block_ahead(n, p, payload);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  uint8_t type = codec_get_u8(&r);
  uint8_t id[32];
  codec_get_fixed(&r, id, 32);
  uint64_t a = 0, b = 0;
  ve_slice_t bytes = ve_slice(NULL, 0);
  if (type == SYNC_BLOB_WANT) a = codec_get_uvarint_max(&r, DOCUMENTS_BLOB_BYTES_MAX);
  if (type == SYNC_BLOB_PART) {
    a = codec_get_uvarint_max(&r, DOCUMENTS_BLOB_BYTES_MAX);
    b = codec_get_uvarint_max(&r, DOCUMENTS_BLOB_BYTES_MAX);
    bytes = codec_get_bytes(&r, NODE_BLOB_PIECE_BYTES);
  }
  int rc = codec_reader_finish(&r);
  if (rc == VE_OK && (type < SYNC_BLOB_WANT || type > SYNC_BLOB_NONE)) rc = VE_ERR_MALFORMED;
  if (rc) return ban(n, p, "a malformed sync message", rc);
  if (type == SYNC_BLOB_WANT) {
    ve_buf_t piece;
    ve_buf_init(&piece, NODE_BLOB_PIECE_BYTES);
    uint64_t size = 0;
    rc = node_docs_blob_read(n, id, a, NODE_BLOB_PIECE_BYTES, &piece, &size);
    if (rc == VE_OK) sync_send(n, s, SYNC_BLOB_PART, id, size, a, ve_buf_slice(&piece));
    else sync_send(n, s, SYNC_BLOB_NONE, id, 0, 0, ve_slice(NULL, 0));
    ve_buf_free(&piece);
    return;
  }
  /* PART / NONE: only for the fetch in progress, from the peer asked (late
   * answers to an abandoned fetch are ignored). */
  if (!nn->fetch.active || nn->fetch.peer != s->id || memcmp(nn->fetch.id, id, 32) != 0) return;
  if (type == SYNC_BLOB_NONE) {
    if (!fetch_ask(n) || nn->fetch.peer == s->id) fetch_end(nn); /* asked everyone: later */
    return;
  }
  if (b != nn->fetch.bytes.len || (nn->fetch.size && a != nn->fetch.size) || bytes.len == 0 ||
      b + bytes.len > a)
    return ban(n, p, "an inconsistent blob piece", VE_ERR_INVALID);
  nn->fetch.size = a;
  if (ve_buf_append(&nn->fetch.bytes, bytes.ptr, bytes.len)) return fetch_end(nn);
  nn->fetch.last_ms = node_now_ms();
  if (nn->fetch.bytes.len < a) {
    sync_send(n, s, SYNC_BLOB_WANT, id, nn->fetch.bytes.len, 0, ve_slice(NULL, 0));
    return;
  }
  /* The blob's write txn: blocks executed in an open group become durable first
   * (this thread holds that txn). */
  rc = node_group_flush(n);
  if (rc) {
    fetch_end(nn);
    return node_cons_fatal(n, "group commit", rc);
  }
  rc = node_docs_blob_store(n, id, ve_buf_slice(&nn->fetch.bytes));
  char hex[17];
  ve_hex_encode(hex, id, 8);
  if (rc == VE_OK) VE_INFO(LOG, "blob %s… replicated (%llu bytes)", hex, (unsigned long long)a);
  else VE_WARN(LOG, "blob %s… from a peer refused: %s", hex, ve_strerror(rc));
  fetch_end(nn);
  if (rc == VE_ERR_HASH_MISMATCH || rc == VE_ERR_INVALID) ban(n, p, "a blob that does not match its record", rc);
}

/* ---- consensus ---- */

/* A catch-up request this peer made moments ago (NODE_CATCHUP_REPEAT_MS)? */
static bool catchup_repeated(node_t *n, peer_slot_t *s, ve_slice_t msg) {
  uint64_t h;
  if (cons_msg_status_height(msg, &h) != VE_OK || h > n->applied) return false;
  uint64_t now = uv_now(&n->loop);
  if (h == s->asked_height && now - s->asked_ms < NODE_CATCHUP_REPEAT_MS) {
    n->net->catchup_repeats++;
    return true;
  }
  s->asked_height = h;
  s->asked_ms = now;
  return false;
}

static void on_frame(void *ctx, net_peer_t *p, uint8_t channel, ve_slice_t payload) {
  node_t *n = ctx;
  peer_slot_t *s = net_peer_user(p);
  if (!s || n->net->stopping) return;
  switch (channel) {
    case NET_CH_CONSENSUS: {
      if (catchup_repeated(n, s, payload)) return;
      int rc = node_cons_on_message(n, s->id, payload);
      if (peer_fault(rc)) ban(n, p, "a bad consensus message", rc);
      return;
    }
    case NET_CH_TX:
      return on_tx_frame(n, p, payload);
    case NET_CH_SYNC:
      return on_sync_frame(n, p, payload);
    default:
      return ban(n, p, "a frame on a channel this node does not serve", VE_ERR_UNSUPPORTED);
  }
}

size_t node_net_broadcast(node_t *n, ve_slice_t msg) {
  if (!n->net) return 0;
  return net_broadcast(n->net->net, NET_CH_CONSENSUS, msg, NULL);
}

void node_net_send(node_t *n, uint64_t peer, ve_slice_t msg) {
  peer_slot_t *s = n->net ? slot_by_id(n->net, peer) : NULL;
  if (s) (void)net_send(n->net->net, s->p, NET_CH_CONSENSUS, msg);
}

void node_net_send_decision(node_t *n, uint64_t peer, uint64_t height) {
  peer_slot_t *s = n->net ? slot_by_id(n->net, peer) : NULL;
  if (!s) return;
  /* Through the open group if any (this is the loop thread): a decided block
   * is final whether or not it is durable here yet. */
  store_txn_t *t = n->group;
  if (!t && store_txn_begin(n->store, false, &t)) return;
  ve_slice_t block, cert;
  ledger_block_t b;
  int rc = ledger_block_get(t, height, &block);
  if (rc == VE_OK) rc = ledger_cert_get(t, height, &cert);
  if (rc == VE_OK) rc = ledger_block_decode(block, &b);
  if (rc == VE_OK) {
    uint8_t id[LEDGER_HASH_BYTES];
    rc = ledger_header_hash(&b.header, id);
    ledger_block_free(&b);
    ve_buf_t msg;
    ve_buf_init(&msg, CONS_MSG_BYTES_MAX);
    if (rc == VE_OK) rc = cons_decision_encode(&msg, height, id, block, cert);
    if (rc == VE_OK) rc = net_send(n->net->net, s->p, NET_CH_CONSENSUS, ve_buf_slice(&msg));
    ve_buf_free(&msg);
    /* The peer is catching up: it will ask for the next ones, one by one. */
    if (rc == VE_OK) push_ahead(n, s, t, height);
  }
  if (t != n->group) store_txn_abort(t);
  if (rc && rc != VE_ERR_NOT_FOUND && rc != VE_ERR_FULL)
    VE_WARN(LOG, "cannot send block %llu to a peer: %s", (unsigned long long)height, ve_strerror(rc));
}

size_t node_net_peers(const node_t *n) { return n->net ? net_peer_count(n->net->net) : 0; }

/* ---- start and stop ---- */

int node_net_start(node_t *n) {
  const node_config_t *c = &n->cfg;
  if (c->p2p_port == 0 && c->n_peers == 0) return VE_OK; /* a network of one */
  struct node_net *nn = calloc(1, sizeof *nn);
  if (!nn) return VE_ERR_NOMEM;
  pthread_mutex_init(&nn->mu, NULL);
  nn->pending_max = c->gossip_pending_bytes_max ? c->gossip_pending_bytes_max : NODE_GOSSIP_PENDING_BYTES_DEFAULT;
  ve_buf_init(&nn->pending, nn->pending_max);
  ve_buf_init(&nn->frame, NET_PAYLOAD_BYTES_MAX);
  n->net = nn;
  uint8_t(*allow)[VCRYPTO_PK_BYTES];
  size_t n_allow;
  VE_TRY(allow_build(n, &allow, &n_allow));
  net_config_t nc = {
      .loop = &n->loop,
      .key = &n->node_key,
      .chain_id = n->genesis.chain_id,
      .listen_host = c->p2p_port ? c->p2p_host : NULL,
      .listen_port = c->p2p_port,
      .allow = (const uint8_t(*)[VCRYPTO_PK_BYTES])allow,
      .n_allow = n_allow,
      .on_peer_up = on_peer_up,
      .on_peer_down = on_peer_down,
      .on_frame = on_frame,
      .ctx = n,
      .send_queue_bytes_max = c->p2p_send_queue_bytes_max, /* 0: NET_SEND_QUEUE_BYTES_MAX */
  };
  nn->queue_bytes_max = nc.send_queue_bytes_max ? nc.send_queue_bytes_max : NET_SEND_QUEUE_BYTES_MAX;
  int rc = net_start(&nc, &nn->net);
  bool open = allow == NULL;
  free(allow);
  if (rc) return rc;
  for (size_t i = 0; rc == VE_OK && i < c->n_peers; i++)
    rc = net_dial(nn->net, c->peers[i].host, c->peers[i].port, NULL);
  char hex[65];
  ve_hex_encode(hex, n->node_key.pk, 32);
  if (c->p2p_port)
    printf("veche node: p2p on %s:%u, node key %s, %s\n", c->p2p_host, net_listen_port(nn->net), hex,
           open ? "open to any node" : "validators and allowed keys only");
  else
    printf("veche node: p2p outbound only, node key %s\n", hex);
  fflush(stdout);
  return rc;
}

/* Stops the links; the caller keeps running the loop until handles close
 * (queued admission work finishes there too: its callbacks see `stopping`). */
void node_net_stop(node_t *n) {
  struct node_net *nn = n->net;
  if (!nn) return;
  nn->stopping = true;
  if (nn->net) net_stop(nn->net);
  nn->net = NULL;
}

void node_net_free(node_t *n) {
  struct node_net *nn = n->net;
  if (!nn) return;
  VE_ASSERT(nn->inflight_n == 0);
  if (nn->fetch.active) fetch_end(nn);
  pthread_mutex_destroy(&nn->mu);
  ve_buf_free(&nn->pending);
  ve_buf_free(&nn->frame);
  free(nn);
  n->net = NULL;
}

void node_net_stats(const node_t *n, node_net_stats_t *out) {
  memset(out, 0, sizeof *out);
  struct node_net *nn = n->net;
  if (!nn) return;
  out->gossip_in = nn->gossip_in;
  out->gossip_out = nn->gossip_out;
  out->gossip_dropped = nn->gossip_dropped;
  out->gossip_resent = nn->gossip_resent;
  out->catchup_repeats = nn->catchup_repeats;
  out->banned = atomic_load(&nn->net_bans);
  if (out->banned < nn->banned) out->banned = nn->banned; /* a tick has not run since */
}
