/* resend_test.c — an observer re-sends the gossip a full send queue refused.
 *
 * An observer never proposes: a transaction it admitted reaches the chain only
 * through its gossip to a validator. When the validator's link has a full
 * send queue, net_send refuses the frame (VE_ERR_FULL); the observer then owes
 * that validator a re-send of its pending transactions, which it makes once
 * the queue has drained (src/node/node_net.c, resend_owed; docs/net.md).
 *
 * The scenario, on a `veche testnet` of four validators and one observer whose
 * only link is to validator v0 and whose send queues hold 1 MiB
 * (p2p_send_queue_bytes_max):
 *   1. all five run; the observer follows the chain through v0;
 *   2. v0 is frozen (SIGSTOP): its socket buffers fill, then the observer's
 *      queue to it; the other three keep committing;
 *   3. TXS registrations (about 840 bytes each, far more than the queue and
 *      the socket buffers hold) are submitted to the observer in raw batches
 *      and all accepted; its gossip.txs_out shows that fewer reached the
 *      queue: the rest was refused;
 *   4. v0 is thawed well within src/net's idle timeout (20 s), so the link
 *      never goes down (checked in the observer's log: no re-send at link-up
 *      can be what saves the transactions);
 *   5. every accepted transaction commits (read from the observer's
 *      /v1/commits) within a bound, the last ones submitted (refused by the
 *      queue) are "committed" in /v1/txs/:id, and gossip.txs_resent has grown.
 * Without the re-send the refused transactions stay pending in the observer's
 * mempool and step 5 fails on its bound.
 *
 * A second scenario (test_resend_after_full_gossip_buffer) covers the step
 * before the queue: an observer whose gossip buffer is full leaves admitted
 * transactions out of its gossip, and the re-send it then owes every
 * validator must carry them; a third (test_resend_from_key_outside_set) runs it
 * on a node with a validator key the set does not name. Every wait is bounded (longer under the
 * sanitizers); every node must exit cleanly on SIGTERM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/http_client.h"
#include "apps/identity/identity.h"
#include "codec/codec.h"
#include "harness.h"

#define NV 4
#define NO 1
#define OBS NV                          /* node index of the observer */
#define EMPTY_BLOCK_MS 300
#define QUEUE_BYTES (1024 * 1024)       /* the observer's p2p_send_queue_bytes_max */
#define TXS 12000                       /* ~10 MiB of registrations */
#define BATCH_TXS 1000                  /* per POST /v1/txs/raw */
#define FROZEN_MS_MAX 14000             /* below src/net's 20 s idle timeout */
#define SETTLE_MS 300                   /* the observer's last gossip flush */
#define COMMIT_TIMEOUT_MS (90000 * H_SCALE)
#define HTTP_MS (30000 * H_SCALE)
#define COMMITS_PAGE 256                /* NODE_API_COMMITS_MAX or less */
#define CHECK_LAST 32                   /* txs asked about one by one at the end */
#define GOSSIP_PENDING_BYTES (64 * 1024) /* second test: the observer's gossip_pending_bytes_max */
#define DROP_TXS 4000                   /* second test: ~3.4 MB in batches of BATCH_TXS */

static const char *g_veche;

typedef struct {
  uint8_t id[32];
  ve_buf_t bytes;
} rs_tx_t;

/* ---- small helpers ---- */

/* Lines of n's node.log that contain pat. */
static size_t rs_log_count(const h_node_t *n, const char *pat) {
  char path[320], line[1024];
  snprintf(path, sizeof path, "%s/node.log", n->dir);
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot read %s: %s", path, strerror(errno));
  size_t k = 0;
  while (fgets(line, sizeof line, f)) k += strstr(line, pat) != NULL;
  fclose(f);
  return k;
}

/* A registration of a fresh key with IDENTITY_ATTRS_MAX attributes of the
 * largest size, signed by the founding authority with seq. */
static void rs_register(const h_net_t *net, uint32_t k, uint64_t seq, rs_tx_t *out) {
  vcrypto_keypair_t kp;
  h_seed_key(&kp, 0x52534e44, k);
  identity_attr_t attrs[IDENTITY_ATTRS_MAX];
  memset(attrs, 0, sizeof attrs);
  for (size_t i = 0; i < IDENTITY_ATTRS_MAX; i++) {
    snprintf(attrs[i].key, sizeof attrs[i].key, "attr%zu_%010u", i, k); /* 16 bytes, sorted by i */
    memset(attrs[i].value, 'a' + (int)(i + k) % 26, IDENTITY_ATTR_VALUE_BYTES_MAX);
  }
  uint8_t digest[32] = {7};
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_register(&p, kp.pk, digest, attrs, IDENTITY_ATTRS_MAX), 0);
  const char *chain = net->node[0].chain;
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(chain, strlen(chain)), .seq = seq,
                    .expiry = 50000, .type = TX_TYPE_IDENTITY_REGISTER, .payload = ve_buf_slice(&p)};
  assert_int_equal(ledger_tx_sign(&tx, &net->node[0].authority), 0);
  ve_buf_init(&out->bytes, 0);
  assert_int_equal(ledger_tx_encode(&tx, &out->bytes), 0);
  ledger_tx_id(out->id, ve_buf_slice(&out->bytes));
  ve_buf_free(&p);
  vcrypto_keypair_wipe(&kp);
}

/* POST /v1/txs/raw of txs[0..k); requires every one accepted. */
static void rs_submit_raw(h_node_t *n, const rs_tx_t *txs, size_t k) {
  ve_buf_t body;
  ve_buf_init(&body, 0);
  codec_writer_t w;
  codec_writer_init(&w, &body);
  codec_put_uvarint(&w, k);
  for (size_t i = 0; i < k; i++) codec_put_bytes(&w, txs[i].bytes.ptr, txs[i].bytes.len, VE_TX_BYTES_MAX);
  assert_int_equal(codec_writer_finish(&w), 0);
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", n->port, "POST", "/v1/txs/raw", "application/octet-stream",
                                body.ptr, body.len, HTTP_MS, &r),
                   0);
  ve_buf_free(&body);
  json_t *j = r.body.len ? json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL) : NULL;
  if (r.status != 200 || !j || json_integer_value(json_object_get(j, "accepted")) != (json_int_t)k)
    fail_msg("raw batch of %zu to the observer: HTTP %d %.*s", k, r.status,
             (int)(r.body.len > 400 ? 400 : r.body.len), r.body.len ? (const char *)r.body.ptr : "");
  json_decref(j);
  http_response_free(&r);
}

static int id_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Reads n's /v1/commits from *from on and marks the ids of sorted[0..count)
 * that a block holds; returns how many it marked. *from moves past the
 * heights read. */
static size_t rs_scan_commits(h_node_t *n, uint64_t *from, uint8_t (*sorted)[32], bool *seen, size_t count) {
  char path[96];
  snprintf(path, sizeof path, "/v1/commits?from=%llu&limit=%d", (unsigned long long)*from, COMMITS_PAGE);
  json_t *c;
  assert_int_equal(h_get(n, path, &c), 200);
  size_t marked = 0, i;
  json_t *blk;
  json_array_foreach(json_object_get(c, "commits"), i, blk) {
    size_t x;
    json_t *tid;
    json_array_foreach(json_object_get(blk, "txs"), x, tid) {
      uint8_t id[32];
      const char *hx = json_string_value(tid);
      if (!hx || ve_hex_decode(id, 32, hx))
        fail_msg("a tx id in /v1/commits is not 64 hex: %s", hx ? hx : "?");
      uint8_t(*at)[32] = bsearch(id, sorted, count, 32, id_cmp);
      if (at && !seen[at - sorted]) {
        seen[at - sorted] = true;
        marked++;
      }
    }
  }
  *from = (uint64_t)json_integer_value(json_object_get(c, "next"));
  json_decref(c);
  return marked;
}

/* Waits until every one of txs[0..count) shows in n's /v1/commits from height
 * h0 on (sorts txs by id); fails after COMMIT_TIMEOUT_MS naming how many did
 * and how many the observer re-sent since resent0. */
static void rs_wait_committed(h_node_t *n, uint64_t h0, rs_tx_t *txs, size_t count, uint64_t resent0) {
  qsort(txs, count, sizeof *txs, id_cmp); /* id is the first member: sorted by id */
  uint8_t(*ids)[32] = calloc(count, 32);
  bool *seen = calloc(count, sizeof *seen);
  assert_non_null(ids);
  assert_non_null(seen);
  for (size_t i = 0; i < count; i++) memcpy(ids[i], txs[i].id, 32);
  uint64_t from = h0 > 0 ? h0 : 1, end = h_now_ms() + COMMIT_TIMEOUT_MS;
  size_t committed = 0;
  while (committed < count) {
    uint64_t before = from;
    committed += rs_scan_commits(n, &from, ids, seen, count);
    if (committed == count) break;
    if (h_now_ms() > end)
      fail_msg("%zu of %zu txs the observer accepted committed after %d ms (%llu re-sent); the others stayed "
               "pending",
               committed, count, COMMIT_TIMEOUT_MS,
               (unsigned long long)(h_status_u64(n, "gossip", "txs_resent") - resent0));
    if (from == before) h_sleep_ms(100);
  }
  free(ids);
  free(seen);
}

static void rs_expect_committed(h_node_t *n, const uint8_t id[32]) {
  char hex[65], path[96];
  ve_hex_encode(hex, id, 32);
  snprintf(path, sizeof path, "/v1/txs/%s", hex);
  json_t *j;
  assert_int_equal(h_get(n, path, &j), 200);
  const char *s = json_string_value(json_object_get(j, "status"));
  if (!s || strcmp(s, "committed")) fail_msg("tx %s is %s, not committed", hex, s ? s : "?");
  json_decref(j);
}

/* ---- the scenario ---- */

static void test_resend_after_full_queue(void **state) {
  (void)state;
  h_net_t net;
  h_net_init(&net, g_veche, NV, NO, EMPTY_BLOCK_MS);
  h_node_t *v0 = &net.node[0], *obs = &net.node[OBS];
  char peer[32];
  snprintf(peer, sizeof peer, "127.0.0.1:%u", net.base_port + 100);
  h_config_set(obs, "peers", json_pack("[s]", peer));
  h_config_set(obs, "p2p_send_queue_bytes_max", json_integer(QUEUE_BYTES));

  /* 1. Everyone runs; the observer follows through v0, its one link. */
  for (size_t i = 0; i < NV + NO; i++) h_node_start(&net.node[i]);
  h_wait_height(v0, 2, 30000 * H_SCALE);
  h_wait_height(obs, 2, 30000 * H_SCALE);
  assert_int_equal(h_status_u64(obs, NULL, "peers"), 1);
  uint64_t h0 = h_height(obs);

  rs_tx_t *txs = calloc(TXS, sizeof *txs);
  assert_non_null(txs);
  size_t tx_bytes = 0;
  for (size_t i = 0; i < TXS; i++) {
    rs_register(&net, (uint32_t)i, i + 1, &txs[i]); /* a fresh chain: the authority's seqs start at 1 */
    tx_bytes += txs[i].bytes.len;
  }
  size_t downs0 = rs_log_count(obs, ") down: ");
  uint64_t out0 = h_status_u64(obs, "gossip", "txs_out"), resent0 = h_status_u64(obs, "gossip", "txs_resent");

  /* 2-3. v0 frozen; the observer admits everything, its queue to v0 refuses the rest. */
  uint64_t frozen_at = h_now_ms();
  h_node_freeze(v0);
  for (size_t i = 0; i < TXS; i += BATCH_TXS)
    rs_submit_raw(obs, &txs[i], TXS - i < BATCH_TXS ? TXS - i : BATCH_TXS);
  h_sleep_ms(SETTLE_MS);
  uint64_t queued = h_status_u64(obs, "gossip", "txs_out") - out0;
  uint64_t frozen_ms = h_now_ms() - frozen_at;
  print_message("v0 frozen for %llu ms: %d txs (%zu bytes) accepted by the observer, %llu of them queued "
                "to v0\n",
                (unsigned long long)frozen_ms, TXS, tx_bytes, (unsigned long long)queued);
  if (queued >= TXS)
    fail_msg("v0's link took all %d txs: the queue never refused a frame (submit more)", TXS);
  if (frozen_ms > FROZEN_MS_MAX)
    fail_msg("submitting took %llu ms with v0 frozen: the link may time out (max %d)",
             (unsigned long long)frozen_ms, FROZEN_MS_MAX);

  /* 4. Thawed before any idle timeout. */
  h_node_thaw(v0);

  /* 5. Every accepted tx commits; the observer's blocks list them. The last
   * ones submitted are among those the queue refused. */
  uint8_t last[CHECK_LAST][32];
  for (size_t i = 0; i < CHECK_LAST; i++) memcpy(last[i], txs[TXS - CHECK_LAST + i].id, 32);
  uint64_t start = h_now_ms();
  rs_wait_committed(obs, h0, txs, TXS, resent0);
  uint64_t resent = h_status_u64(obs, "gossip", "txs_resent") - resent0;
  print_message("all %d txs committed %llu ms after the thaw (observer height %llu); %llu txs re-sent\n", TXS,
                (unsigned long long)(h_now_ms() - start), (unsigned long long)h_height(obs),
                (unsigned long long)resent);
  assert_true(resent > 0);
  for (size_t i = 0; i < CHECK_LAST; i++) rs_expect_committed(obs, last[i]);
  /* The link stayed up: no re-send at link-up explains the commits. */
  assert_int_equal(rs_log_count(obs, ") down: "), downs0);

  for (size_t i = 0; i < NV + NO; i++) h_node_stop(&net.node[i]);
  for (size_t i = 0; i < TXS; i++) ve_buf_free(&txs[i].bytes);
  free(txs);
  h_net_cleanup(&net);
}

/* An observer whose gossip buffer (gossip_pending_bytes_max, 64 KiB here) is
 * full leaves further admitted transactions out of its gossip
 * (gossip.txs_dropped). They are in its mempool, so it owes every validator a
 * re-send, which carries them: every accepted transaction must commit.
 * Without the re-send the left-out ones stay pending in the observer and the
 * test fails on its bound. Each raw batch (~840 KB) is far more than the
 * buffer, so some are always left out (checked). */
static void resend_after_full_gossip_buffer(bool keyed) {
  h_net_t net;
  h_net_init(&net, g_veche, NV, NO, EMPTY_BLOCK_MS);
  h_node_t *v0 = &net.node[0], *obs = &net.node[OBS];
  h_config_set(obs, "gossip_pending_bytes_max", json_integer(GOSSIP_PENDING_BYTES));
  if (keyed) {
    /* A validator key genesis does not name: the node links with it, so the
     * validators admit it by that key (p2p_allow), as an authority's node is
     * admitted while it waits to join or after it left the set. */
    vcrypto_keypair_t kp;
    char path[320], pk[65];
    h_seed_key(&kp, 0x4b455945, 1);
    snprintf(path, sizeof path, "%s/validator.key", obs->dir);
    assert_int_equal(vcrypto_keyfile_write(path, &kp), 0);
    h_config_set(obs, "key", json_string("validator.key"));
    ve_hex_encode(pk, kp.pk, 32);
    for (size_t i = 0; i < NV; i++) h_config_set(&net.node[i], "p2p_allow", json_pack("[s]", pk));
    vcrypto_keypair_wipe(&kp);
  }
  for (size_t i = 0; i < NV + NO; i++) h_node_start(&net.node[i]);
  h_wait_height(v0, 2, 30000 * H_SCALE);
  h_wait_height(obs, 2, 30000 * H_SCALE);
  json_t *st;
  assert_int_equal(h_get(obs, "/v1/status", &st), 200);
  assert_string_equal(json_string_value(json_object_get(st, "role")), keyed ? "validator" : "observer");
  assert_true(json_is_false(json_object_get(st, "member")));
  json_decref(st);
  uint64_t h0 = h_height(obs);
  rs_tx_t *txs = calloc(DROP_TXS, sizeof *txs);
  assert_non_null(txs);
  for (size_t i = 0; i < DROP_TXS; i++) rs_register(&net, (uint32_t)(TXS + i), i + 1, &txs[i]);
  uint64_t dropped0 = h_status_u64(obs, "gossip", "txs_dropped"),
           resent0 = h_status_u64(obs, "gossip", "txs_resent");
  for (size_t i = 0; i < DROP_TXS; i += BATCH_TXS)
    rs_submit_raw(obs, &txs[i], DROP_TXS - i < BATCH_TXS ? DROP_TXS - i : BATCH_TXS);
  uint64_t dropped = h_status_u64(obs, "gossip", "txs_dropped") - dropped0;
  print_message("%d txs accepted by the observer, %llu of them left out of its gossip\n", DROP_TXS,
                (unsigned long long)dropped);
  if (dropped == 0) fail_msg("the observer's gossip buffer never overflowed (submit larger batches)");
  uint64_t start = h_now_ms();
  rs_wait_committed(obs, h0, txs, DROP_TXS, resent0);
  uint64_t resent = h_status_u64(obs, "gossip", "txs_resent") - resent0;
  print_message("all %d committed %llu ms after the last batch; %llu txs re-sent\n", DROP_TXS,
                (unsigned long long)(h_now_ms() - start), (unsigned long long)resent);
  assert_true(resent >= dropped);
  for (size_t i = 0; i < NV + NO; i++) h_node_stop(&net.node[i]);
  for (size_t i = 0; i < DROP_TXS; i++) ve_buf_free(&txs[i].bytes);
  free(txs);
  h_net_cleanup(&net);
}

static void test_resend_after_full_gossip_buffer(void **state) {
  (void)state;
  resend_after_full_gossip_buffer(false);
}

/* The same from a node with a validator key outside the set (joining, or
 * gone): it never proposes either, so it owes the same re-send. */
static void test_resend_from_key_outside_set(void **state) {
  (void)state;
  resend_after_full_gossip_buffer(true);
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_resend_after_full_queue),
                                     cmocka_unit_test(test_resend_after_full_gossip_buffer),
                                     cmocka_unit_test(test_resend_from_key_outside_set)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
