/* node_api.c — the node's HTTP endpoints (documented in docs/api.md).
 *
 * Every handler runs on an HTTP thread: reads go through their own LMDB read
 * transaction; admissions go through the (thread-safe) mempool and then wake
 * the loop thread. Inputs are bounded by the API layer before we see them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/evidence/evidence.h"
#include "apps/identity/identity.h"
#include "apps/upgrade/upgrade.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "codec/codec.h"
#include "node/node_int.h"
#include "proof/proof.h"
#include "state/state.h"

/* A batch may carry up to this many transactions (bounded again by body size). */
#define NODE_API_BATCH_TXS_MAX 20000
#define NODE_API_VERSION "0.1.0"

json_t *node_api_hex(const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  if (!s) return json_null();
  ve_hex_encode(s, p, n);
  json_t *j = json_string(s);
  free(s);
  return j;
}

/* Parses a 64-hex-char path parameter into 32 bytes. */
int node_api_param_hash(const api_request_t *req, const char *name, uint8_t out[32],
                      api_response_t *resp) {
  const char *s = api_request_param(req, name);
  if (!s || ve_hex_decode(out, 32, s) != VE_OK) {
    api_error(resp, 400, "malformed", "%s must be 64 hex characters", name);
    return VE_ERR_MALFORMED;
  }
  return VE_OK;
}

/* ---- submission ---- */

/* Admits one encoded tx from a client (busy above the admit limit, see
 * docs/mempool.md "Back-pressure") and gossips it when accepted. id is always
 * set when the bytes could be hashed (mempool_add_client does it whatever it
 * decides). */
static int admit_bytes(node_t *n, ve_slice_t tx, uint8_t id[LEDGER_HASH_BYTES]) {
  int rc = mempool_add_client(n->mempool, n->store, node_chain_id(n), atomic_load(&n->height) + 1, tx, id);
  if (rc == VE_OK) node_net_gossip_tx(n, tx);
  else api_metric_inc(n->m_rejected);
  if (rc == VE_ERR_BUSY) api_metric_inc(n->m_busy);
  return rc;
}

/* A batch that arrives while the pool is already busy is refused whole, before
 * any of it is decoded: 503 busy with Retry-After (docs/api.md). */
static bool batch_refused_busy(node_t *n, size_t count, api_response_t *resp) {
  if (!mempool_refuse_if_busy(n->mempool, count)) return false;
  api_metric_add(n->m_rejected, count);
  api_metric_add(n->m_busy, count);
  api_error(resp, 503, ve_err_name(VE_ERR_BUSY),
            "more transactions are waiting than this node commits in %u s; nothing of this batch was "
            "admitted: send it again after Retry-After", n->cfg.mempool_backlog_s);
  api_response_retry_after(resp, atomic_load(&n->retry_after_s));
  return true;
}

/* A batch answer (200); with busy refusals in it, a "busy" count and Retry-After. */
static void batch_respond(node_t *n, api_response_t *resp, size_t count, size_t accepted, size_t busy,
                          const char *list_name, json_t *list) {
  if (accepted) uv_async_send(&n->wake);
  api_respond_json(resp, 200,
                   json_pack("{s:I, s:I, s:o, s:I}", "accepted", (json_int_t)accepted, "rejected",
                             (json_int_t)(count - accepted), list_name, list, "busy", (json_int_t)busy));
  if (busy) api_response_retry_after(resp, atomic_load(&n->retry_after_s));
}

static void set_rejection(json_t *r, int rc) {
  json_object_set_new(r, "status", json_string("rejected"));
  json_object_set_new(r, "error", json_string(ve_err_name(rc)));
  json_object_set_new(r, "message", json_string(ve_strerror(rc)));
}

static json_t *admit_one(node_t *n, const char *hex, int *code_out) {
  size_t len = hex ? strlen(hex) : 0;
  json_t *r = json_object();
  uint8_t id[LEDGER_HASH_BYTES];
  int rc;
  uint8_t *bytes = NULL;
  if (!hex || len % 2) {
    rc = VE_ERR_MALFORMED;
  } else if (len / 2 > VE_TX_BYTES_MAX) {
    rc = VE_ERR_TOO_BIG;
  } else {
    bytes = malloc(len / 2 + 1);
    rc = !bytes ? VE_ERR_NOMEM : ve_hex_decode(bytes, len / 2, hex);
  }
  bool have_id = rc == VE_OK;
  if (have_id) rc = admit_bytes(n, ve_slice(bytes, len / 2), id);
  else api_metric_inc(n->m_rejected);
  free(bytes);
  if (have_id) json_object_set_new(r, "id", node_api_hex(id, sizeof id));
  if (rc == VE_OK) json_object_set_new(r, "status", json_string("accepted"));
  else set_rejection(r, rc);
  *code_out = rc;
  return r;
}

/* POST /v1/txs  {"tx": "<hex>"}  or  {"txs": ["<hex>", ...]} */
static int h_submit(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  const json_t *body = api_request_json(req);
  json_t *one = json_object_get(body, "tx"), *many = json_object_get(body, "txs");
  if (!json_is_object(body) || (!one == !many)) {
    api_error(resp, 400, "malformed", "body must be {\"tx\": hex} or {\"txs\": [hex, ...]}");
    return VE_ERR_MALFORMED;
  }
  if (one) {
    if (!json_is_string(one)) {
      api_error(resp, 400, "malformed", "tx must be a hex string");
      return VE_ERR_MALFORMED;
    }
    int code;
    json_t *r = admit_one(n, json_string_value(one), &code);
    if (code == VE_OK) uv_async_send(&n->wake);
    api_respond_json(resp, code == VE_OK ? 202 : api_status_from_err(code), r); /* busy: 503 */
    if (code == VE_ERR_BUSY) api_response_retry_after(resp, atomic_load(&n->retry_after_s));
    return VE_OK;
  }
  if (!json_is_array(many) || json_array_size(many) == 0 ||
      json_array_size(many) > NODE_API_BATCH_TXS_MAX) {
    api_error(resp, 400, "malformed", "txs must be an array of 1..%d hex strings", NODE_API_BATCH_TXS_MAX);
    return VE_ERR_MALFORMED;
  }
  if (batch_refused_busy(n, json_array_size(many), resp)) return VE_ERR_BUSY;
  json_t *results = json_array();
  size_t i, accepted = 0, busy = 0;
  json_t *v;
  json_array_foreach(many, i, v) {
    int code;
    json_array_append_new(results, admit_one(n, json_is_string(v) ? json_string_value(v) : NULL, &code));
    accepted += code == VE_OK;
    busy += code == VE_ERR_BUSY;
  }
  batch_respond(n, resp, json_array_size(many), accepted, busy, "results", results);
  return VE_OK;
}

/* POST /v1/txs/raw — a batch in the canonical binary framing, for clients that
 * submit in bulk: uvarint count (1..NODE_API_BATCH_TXS_MAX), then count
 * length-prefixed transactions (docs/encoding.md "bytes"), nothing after. It
 * skips the hex and JSON work of /v1/txs (~5% of a node's CPU per tx there)
 * and answers only the rejections: an accepted tx's id is H("veche/tx/id",
 * tx), which the client computes itself. The framing is checked in full
 * before anything is admitted, so a malformed body admits nothing. */
static int h_submit_raw(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  ve_slice_t body = api_request_body(req);
  codec_reader_t r;
  codec_reader_init(&r, body);
  size_t count = codec_get_count(&r, NODE_API_BATCH_TXS_MAX, 1);
  if (r.err == VE_OK && count == 0) r.err = VE_ERR_MALFORMED;
  ve_slice_t *txs = r.err == VE_OK ? malloc(count * sizeof *txs) : NULL;
  if (r.err == VE_OK && !txs) return VE_ERR_NOMEM;
  for (size_t i = 0; r.err == VE_OK && i < count; i++) txs[i] = codec_get_bytes(&r, VE_TX_BYTES_MAX);
  if (r.err == VE_OK && r.pos != r.len) r.err = VE_ERR_TRAILING;
  if (r.err != VE_OK) {
    free(txs);
    api_error(resp, r.err == VE_ERR_TOO_BIG ? 413 : 400, ve_err_name(r.err),
              "body must be a uvarint count of 1..%d, then that many length-prefixed transactions "
              "of at most %d bytes, and nothing else (%s)",
              NODE_API_BATCH_TXS_MAX, VE_TX_BYTES_MAX, ve_strerror(r.err));
    return r.err;
  }
  if (batch_refused_busy(n, count, resp)) {
    free(txs);
    return VE_ERR_BUSY;
  }
  json_t *errors = json_array();
  size_t accepted = 0, busy = 0;
  for (size_t i = 0; i < count; i++) {
    uint8_t id[LEDGER_HASH_BYTES];
    int rc = admit_bytes(n, txs[i], id);
    if (rc == VE_OK) {
      accepted++;
      continue;
    }
    busy += rc == VE_ERR_BUSY;
    json_t *e = json_pack("{s:I, s:o}", "index", (json_int_t)i, "id", node_api_hex(id, sizeof id));
    if (e) set_rejection(e, rc);
    json_array_append_new(errors, e);
  }
  free(txs);
  batch_respond(n, resp, count, accepted, busy, "errors", errors);
  return VE_OK;
}

/* ---- queries ---- */

int node_api_begin_read(node_t *n, store_txn_t **t, api_response_t *resp) {
  int rc = store_txn_begin(n->store, false, t);
  if (rc) api_error_ve(resp, rc, "cannot read the store");
  return rc;
}

/* GET /v1/txs/:id */
static int h_tx(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  ledger_tx_result_t r;
  int rc = ledger_tx_result_get(t, id, &r);
  store_txn_abort(t);
  json_t *o = json_object();
  json_object_set_new(o, "id", node_api_hex(id, 32));
  int code;
  if (rc == VE_OK) {
    json_object_set_new(o, "status", json_string(r.code == 0 ? "committed" : "failed"));
    json_object_set_new(o, "height", json_integer((json_int_t)r.height));
    json_object_set_new(o, "index", json_integer(r.index));
    if (r.code) {
      json_object_set_new(o, "error", json_string(ve_err_name(r.code)));
      json_object_set_new(o, "message", json_string(ve_strerror(r.code)));
    }
  } else if (mempool_has(n->mempool, id)) {
    json_object_set_new(o, "status", json_string("pending"));
  } else if (mempool_rejected(n->mempool, id, &code)) {
    json_object_set_new(o, "status", json_string("rejected"));
    json_object_set_new(o, "error", json_string(ve_err_name(code)));
    json_object_set_new(o, "message", json_string(ve_strerror(code)));
  } else {
    json_decref(o);
    api_error(resp, 404, "not_found", "no transaction with this id is known to this node");
    return VE_ERR_NOT_FOUND;
  }
  api_respond_json(resp, 200, o);
  return VE_OK;
}

/* The ids of a decoded block's transactions (ledger_block_decode hashed them). */
static json_t *block_ids_json(const ledger_block_t *b) {
  json_t *ids = json_array();
  for (size_t i = 0; i < b->tx_count; i++) json_array_append_new(ids, node_api_hex(b->ids[i], 32));
  return ids;
}

static json_t *header_json(const ledger_header_t *h) {
  uint8_t hash[32];
  ledger_header_hash(h, hash);
  json_t *o = json_object();
  json_object_set_new(o, "height", json_integer((json_int_t)h->height));
  json_object_set_new(o, "hash", node_api_hex(hash, 32));
  json_object_set_new(o, "chain_id", json_stringn((const char *)h->chain_id.ptr, h->chain_id.len));
  json_object_set_new(o, "time_ms", json_integer((json_int_t)h->time_ms));
  json_object_set_new(o, "prev_hash", node_api_hex(h->prev_hash, 32));
  json_object_set_new(o, "tx_root", node_api_hex(h->tx_root, 32));
  json_object_set_new(o, "tx_count", json_integer(h->tx_count));
  json_object_set_new(o, "state_root", node_api_hex(h->state_root, 32));
  json_object_set_new(o, "results_root", node_api_hex(h->results_root, 32));
  json_object_set_new(o, "valset_hash", node_api_hex(h->valset_hash, 32));
  json_object_set_new(o, "proposer", node_api_hex(h->proposer, 32));
  return o;
}

static int block_response(node_t *n, uint64_t height, const api_request_t *req, api_response_t *resp) {
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  ve_slice_t bytes, cert;
  int rc = ledger_block_get(t, height, &bytes);
  if (rc == VE_OK) rc = ledger_cert_get(t, height, &cert);
  ledger_block_t b;
  if (rc == VE_OK) rc = ledger_block_decode(bytes, &b);
  if (rc) {
    store_txn_abort(t);
    if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "no block at height %llu", (unsigned long long)height);
    return rc;
  }
  json_t *o = json_object();
  json_object_set_new(o, "header", header_json(&b.header));
  json_object_set_new(o, "txs", block_ids_json(&b));
  json_object_set_new(o, "cert", node_api_hex(cert.ptr, cert.len));
  const char *raw = api_request_query(req, "raw");
  if (raw && strcmp(raw, "0") != 0) json_object_set_new(o, "raw", node_api_hex(bytes.ptr, bytes.len));
  ledger_block_free(&b);
  store_txn_abort(t);
  api_respond_json(resp, 200, o);
  return VE_OK;
}

/* GET /v1/commits?from=H[&limit=N] — blocks from height H (default: the
 * latest) with the local time this node committed each and their tx ids:
 * what a load generator needs to measure submit-to-commit latency from the
 * node's own commit events rather than from its polling. */
#define NODE_API_COMMITS_MAX 256
static int h_commits(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint64_t tip = atomic_load(&n->height), from, limit;
  if (api_request_query_u64(req, "from", tip ? tip : 1, UINT64_MAX, &from) != VE_OK ||
      api_request_query_u64(req, "limit", 64, NODE_API_COMMITS_MAX, &limit) != VE_OK || from == 0) {
    api_error(resp, 400, "malformed", "from must be a height ≥ 1, limit 0..%d", NODE_API_COMMITS_MAX);
    return VE_ERR_MALFORMED;
  }
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  json_t *arr = json_array();
  uint64_t h = from;
  int rc = VE_OK;
  for (; rc == VE_OK && h <= tip && h < from + limit; h++) {
    ve_slice_t bytes;
    ledger_block_t b;
    rc = ledger_block_get(t, h, &bytes);
    if (rc == VE_OK) rc = ledger_block_decode(bytes, &b);
    if (rc) break;
    json_t *ids = block_ids_json(&b);
    uint64_t ms = node_commit_time(n, h);
    json_array_append_new(arr, json_pack("{s:I, s:o, s:I, s:o}", "height", (json_int_t)h, "committed_ms",
                                         ms ? json_integer((json_int_t)ms) : json_null(), "time_ms",
                                         (json_int_t)b.header.time_ms, "txs", ids));
    ledger_block_free(&b);
  }
  store_txn_abort(t);
  if (rc && rc != VE_ERR_NOT_FOUND) {
    json_decref(arr);
    return rc;
  }
  api_respond_json(resp, 200, json_pack("{s:o, s:I, s:I}", "commits", arr, "next", (json_int_t)h, "height",
                                        (json_int_t)tip));
  return VE_OK;
}

/* GET /v1/blocks/:height  (?raw=1 adds the block bytes) */
static int h_block(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  const char *p = api_request_param(req, "height");
  uint64_t h;
  if (p && !strcmp(p, "latest")) {
    h = atomic_load(&n->height);
  } else if (api_request_param_u64(req, "height", UINT64_MAX, &h) != VE_OK) {
    api_error(resp, 400, "malformed", "height must be a decimal number or \"latest\"");
    return VE_ERR_MALFORMED;
  }
  if (h == 0) {
    api_error(resp, 404, "not_found", "height 0 is the genesis state; blocks start at 1");
    return VE_ERR_NOT_FOUND;
  }
  return block_response(n, h, req, resp);
}

static json_t *identity_json(const identity_t *r) {
  json_t *o = json_object();
  json_object_set_new(o, "id", node_api_hex(r->id, 32));
  json_object_set_new(o, "pk", node_api_hex(r->pk, 32));
  json_object_set_new(o, "attr_digest", node_api_hex(r->attr_digest, 32));
  json_object_set_new(o, "status", json_string(identity_status_name(r->status)));
  json_t *roles = json_array();
  for (uint32_t b = 1; b & ROLE_ALL_MASK; b <<= 1)
    if (r->roles & b) json_array_append_new(roles, json_string(ledger_role_name(b)));
  json_object_set_new(o, "roles", roles);
  json_object_set_new(o, "registrar", node_api_hex(r->registrar, 32));
  json_object_set_new(o, "registered_height", json_integer((json_int_t)r->registered_height));
  json_object_set_new(o, "updated_height", json_integer((json_int_t)r->updated_height));
  json_object_set_new(o, "key_version", json_integer(r->key_version));
  json_t *attrs = json_object();
  for (size_t i = 0; i < r->n_attrs; i++)
    json_object_set_new(attrs, r->attrs[i].key, json_string(r->attrs[i].value));
  json_object_set_new(o, "attributes", attrs);
  return o;
}

/* GET /v1/identities/:id   and   GET /v1/keys/:pk */
static int identity_lookup(node_t *n, const api_request_t *req, api_response_t *resp, bool by_key) {
  uint8_t k[32];
  VE_TRY(node_api_param_hash(req, by_key ? "pk" : "id", k, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  identity_t rec;
  bool current = true;
  int rc = by_key ? identity_get_by_key(t, k, &rec, &current) : identity_get(t, k, &rec);
  uint64_t h = atomic_load(&n->height);
  store_txn_abort(t);
  if (rc == VE_ERR_NOT_FOUND) {
    api_error(resp, 404, "not_found", "no identity with this %s", by_key ? "key" : "id");
    return rc;
  }
  VE_TRY(rc);
  json_t *o = identity_json(&rec);
  if (by_key) json_object_set_new(o, "key_is_current", json_boolean(current));
  json_object_set_new(o, "as_of_height", json_integer((json_int_t)h));
  api_respond_json(resp, 200, o);
  return VE_OK;
}

static int h_identity(void *ctx, const api_request_t *req, api_response_t *resp) {
  return identity_lookup(ctx, req, resp, false);
}

static int h_key(void *ctx, const api_request_t *req, api_response_t *resp) {
  return identity_lookup(ctx, req, resp, true);
}

/* GET /v1/signers/:pk — what a client needs to build its next tx. */
static int h_signer(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t pk[32];
  VE_TRY(node_api_param_hash(req, "pk", pk, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  ledger_exec_t *ex;
  uint64_t h = atomic_load(&n->height);
  int rc = ledger_exec_begin(&ex, node_registry(), t, node_chain_id(n), h + 1, 0);
  ledger_signer_t s;
  if (rc == VE_OK) {
    rc = ledger_signer_lookup(ex, pk, &s);
    ledger_exec_free(ex);
  }
  store_txn_abort(t);
  if (rc) {
    api_error_ve(resp, rc, "%s", ve_strerror(rc));
    return rc;
  }
  api_respond_json(resp, 200,
                   json_pack("{s:o, s:I, s:I, s:I}", "identity", node_api_hex(s.identity_id, 32),
                             "last_seq", (json_int_t)s.last_seq, "next_seq", (json_int_t)(s.last_seq + 1),
                             "height", (json_int_t)h));
  return VE_OK;
}

/* GET /v1/status */
static int h_status(void *ctx, const api_request_t *req, api_response_t *resp) {
  (void)req;
  node_t *n = ctx;
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  ledger_tip_t tip;
  uint64_t oldest = 0; /* first height whose state this node can prove */
  upgrade_meta_t um;
  int rc = ledger_tip_get(t, &tip);
  if (rc == VE_OK) {
    rc = state_version_oldest(t, &oldest);
    if (rc == VE_ERR_NOT_FOUND) rc = VE_OK;
  }
  if (rc == VE_OK) rc = upgrade_meta_get(t, &um);
  store_txn_abort(t);
  VE_TRY(rc);
  json_t *o = json_object();
  json_object_set_new(o, "chain_id", json_string(n->genesis.chain_id));
  json_object_set_new(o, "genesis_hash", node_api_hex(n->genesis_hash, 32));
  json_object_set_new(o, "version", json_string(NODE_API_VERSION));
  json_object_set_new(o, "role", json_string(n->has_key ? "validator" : "observer"));
  json_object_set_new(o, "member", json_boolean(atomic_load(&n->member)));
  json_object_set_new(o, "node_key", node_api_hex(n->node_key.pk, 32));
  json_object_set_new(o, "peers", json_integer((json_int_t)atomic_load(&n->peers)));
  node_net_stats_t ns;
  node_net_stats(n, &ns);
  json_object_set_new(o, "gossip", json_pack("{s:I, s:I, s:I, s:I}", "txs_in", (json_int_t)ns.gossip_in,
                                             "txs_out", (json_int_t)ns.gossip_out, "txs_dropped",
                                             (json_int_t)ns.gossip_dropped, "txs_resent",
                                             (json_int_t)ns.gossip_resent));
  json_object_set_new(o, "peers_banned", json_integer((json_int_t)ns.banned));
  json_object_set_new(o, "catchup_repeats_dropped", json_integer((json_int_t)ns.catchup_repeats));
  json_object_set_new(o, "height", json_integer((json_int_t)tip.height));
  json_object_set_new(o, "protocol", json_integer((json_int_t)upgrade_protocol_at(&um, tip.height + 1)));
  json_object_set_new(o, "last_block_hash", node_api_hex(tip.last_hash, 32));
  json_object_set_new(o, "last_block_time_ms", json_integer((json_int_t)tip.last_time_ms));
  json_object_set_new(o, "state_root", node_api_hex(tip.state_root, 32));
  json_object_set_new(o, "state_oldest_height", json_integer((json_int_t)oldest));
  json_object_set_new(o, "state_keep_blocks", json_integer((json_int_t)n->cfg.state_keep_blocks));
  mempool_stats_t ms; /* one snapshot under one lock */
  mempool_stats_get(n->mempool, &ms);
  json_object_set_new(o, "mempool_txs", json_integer((json_int_t)ms.txs));
  json_object_set_new(o, "mempool_bytes", json_integer((json_int_t)ms.bytes));
  json_object_set_new(o, "mempool_admit_limit", json_integer((json_int_t)ms.admit_limit));
  json_object_set_new(o, "mempool_busy_total", json_integer((json_int_t)ms.busy_total));
  json_object_set_new(o, "txs_committed_since_start",
                      json_integer((json_int_t)atomic_load(&n->txs_committed)));
  json_object_set_new(o, "consensus",
                      json_pack("{s:I, s:I, s:I, s:I}", "timeouts", (json_int_t)atomic_load(&n->cons_timeouts),
                                "late_commits", (json_int_t)atomic_load(&n->cons_late_commits),
                                "last_commit_round", (json_int_t)atomic_load(&n->cons_last_round),
                                "sign_from_height", (json_int_t)atomic_load(&n->sign_from)));
  api_respond_json(resp, 200, o);
  return VE_OK;
}

/* GET /health — cheap liveness: the store answers. */
static int h_health(void *ctx, const api_request_t *req, api_response_t *resp) {
  (void)req;
  node_t *n = ctx;
  store_txn_t *t;
  int rc = store_txn_begin(n->store, false, &t);
  if (rc) {
    api_error(resp, 503, "store_error", "store unavailable: %s", ve_strerror(rc));
    return rc;
  }
  store_txn_abort(t);
  api_respond_json(resp, 200, json_pack("{s:s, s:I}", "status", "ok", "height",
                                        (json_int_t)atomic_load(&n->height)));
  return VE_OK;
}

/* ---- proofs ---- */

int node_proof_valsets_after(const api_request_t *req, api_response_t *resp, uint64_t *after) {
  if (api_request_query_u64(req, "valsets_after", 0, UINT64_MAX, after) == VE_OK) return VE_OK;
  api_error(resp, 400, "malformed", "valsets_after must be a decimal epoch number");
  return VE_ERR_MALFORMED;
}

int node_proof_bundle(node_t *n, const api_request_t *req, api_response_t *resp, ve_slice_t key,
                      proof_bundle_t *b) {
  uint64_t tip = atomic_load(&n->height), h;
  if (tip < 1) {
    api_error(resp, 409, "too_early", "no block has certified a state root yet");
    return VE_ERR_TOO_EARLY;
  }
  if (api_request_query_u64(req, "height", tip - 1, UINT64_MAX, &h) != VE_OK) {
    api_error(resp, 400, "malformed", "height must be a decimal number");
    return VE_ERR_MALFORMED;
  }
  uint64_t after;
  VE_TRY(node_proof_valsets_after(req, resp, &after));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  int rc = proof_bundle_build(t, node_chain_id(n), h, key, after, b);
  uint64_t oldest = 0;
  if (rc == VE_ERR_PRUNED) (void)state_version_oldest(t, &oldest);
  store_txn_abort(t);
  if (rc == VE_ERR_HEIGHT)
    api_error(resp, 409, "too_early", "state after height %llu is certified only once block %llu exists",
              (unsigned long long)h, (unsigned long long)h + 1);
  else if (rc == VE_ERR_PRUNED && h < oldest)
    api_error(resp, 410, "pruned",
              "this node keeps the state of heights %llu and later only (state_keep_blocks); "
              "ask an archive node for height %llu",
              (unsigned long long)oldest, (unsigned long long)h);
  else if (rc == VE_ERR_PRUNED) /* a store pruned before link proofs were kept (proof_link_keep) */
    api_error(resp, 410, "pruned",
              "this node no longer holds the proof of a validator-set change the bundle needs; "
              "ask an archive node");
  else if (rc == VE_ERR_TOO_BIG)
    api_error(resp, 409, "too_big", "the chain has more than %d validator-set changes, which a bundle cannot carry",
              PROOF_VALSET_LINKS_MAX);
  return rc;
}

int node_proof_response(node_t *n, const api_request_t *req, api_response_t *resp, ve_slice_t key) {
  proof_bundle_t b;
  proof_bundle_init(&b);
  int rc = node_proof_bundle(n, req, resp, key, &b);
  if (rc == VE_OK) api_respond_json(resp, 200, proof_bundle_to_json(&b));
  proof_bundle_free(&b);
  return rc;
}

/* GET /v1/proofs/state?key=<hex>[&height=H] */
static int h_proof_state(void *ctx, const api_request_t *req, api_response_t *resp) {
  const char *hex = api_request_query(req, "key");
  size_t len = hex ? strlen(hex) : 0;
  uint8_t key[STATE_KEY_BYTES_MAX];
  if (!hex || len == 0 || len % 2 || len / 2 > STATE_KEY_BYTES_MAX || ve_hex_decode(key, len / 2, hex)) {
    api_error(resp, 400, "malformed", "key must be 1..%d bytes of hex", STATE_KEY_BYTES_MAX);
    return VE_ERR_MALFORMED;
  }
  return node_proof_response(ctx, req, resp, ve_slice(key, len / 2));
}

/* GET /v1/proofs/identities/:id[?height=H] */
static int h_proof_identity(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32], key[3 + 32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  return node_proof_response(ctx, req, resp, ve_slice(key, identity_state_key(key, id)));
}

/* ---- evidence ---- */

#define NODE_API_EVIDENCE_LIST_MAX 100

static json_t *evidence_json(const evidence_record_t *e, bool with_bytes) {
  static const char *kinds[] = {"?", "vote", "proposal"};
  json_t *o = json_object();
  json_object_set_new(o, "id", node_api_hex(e->id, 32));
  json_object_set_new(o, "validator", node_api_hex(e->info.pk, 32));
  json_object_set_new(o, "kind", json_string(kinds[e->info.kind <= 2 ? e->info.kind : 0]));
  if (e->info.kind == CONS_EVIDENCE_VOTE)
    json_object_set_new(o, "vote", json_string(e->info.type == CONS_VOTE_PREVOTE ? "prevote" : "precommit"));
  json_object_set_new(o, "height", json_integer((json_int_t)e->info.height));
  json_object_set_new(o, "round", json_integer(e->info.round));
  json_object_set_new(o, "included_height", json_integer((json_int_t)e->included_height));
  json_object_set_new(o, "submitter", node_api_hex(e->submitter, 32));
  if (with_bytes) json_object_set_new(o, "evidence", node_api_hex(e->evidence.ptr, e->evidence.len));
  return o;
}

/* GET /v1/evidence — recorded equivocations, in id order (at most 100; ?after=<id>). */
static int h_evidence_list(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t start[3 + 32];
  size_t start_len = 3;
  memcpy(start, "ev/", 3);
  const char *after = api_request_query(req, "after");
  if (after) {
    if (ve_hex_decode(start + 3, 32, after)) {
      api_error(resp, 400, "malformed", "after must be 64 hex characters");
      return VE_ERR_MALFORMED;
    }
    start_len = sizeof start;
  }
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  store_cursor_t *c;
  int rc = store_cursor_open(t, STORE_T_STATE, &c);
  json_t *list = json_array();
  ve_slice_t k, v;
  for (int r = rc ? rc : store_cursor_seek(c, ve_slice(start, start_len), &k, &v);
       rc == VE_OK && r == VE_OK && json_array_size(list) < NODE_API_EVIDENCE_LIST_MAX;
       r = store_cursor_next(c, &k, &v)) {
    if (k.len != 35 || memcmp(k.ptr, "ev/", 3)) break;
    if (start_len == sizeof start && !memcmp(k.ptr, start, sizeof start)) continue;
    evidence_record_t e;
    if (evidence_decode(v, k.ptr + 3, &e) == VE_OK) json_array_append_new(list, evidence_json(&e, false));
  }
  if (c) store_cursor_close(c);
  store_txn_abort(t);
  if (rc) {
    json_decref(list);
    return rc;
  }
  api_respond_json(resp, 200, json_pack("{s:o}", "evidence", list));
  return VE_OK;
}

/* GET /v1/evidence/:id — one record with the evidence bytes (check them with
 * cons_evidence_verify; prove the record with /v1/proofs/state?key=ev/...). */
static int h_evidence(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t id[32], key[35];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  ve_slice_t v;
  int rc = state_get(t, ve_slice(key, evidence_state_key(key, id)), &v);
  evidence_record_t e;
  if (rc == VE_OK) rc = evidence_decode(v, id, &e);
  if (rc == VE_OK) api_respond_json(resp, 200, evidence_json(&e, true));
  else if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "no evidence with this id");
  store_txn_abort(t);
  return rc;
}

/* ---- validator sets ---- */

static json_t *valset_json(uint64_t tip, const valset_meta_t *m, const cons_valset_t *vs) {
  uint8_t hash[VCRYPTO_HASH_BYTES];
  cons_valset_hash(hash, vs);
  json_t *list = json_array();
  for (uint32_t i = 0; i < vs->count; i++)
    json_array_append_new(list, json_pack("{s:I, s:o, s:I}", "index", (json_int_t)i, "pk",
                                          node_api_hex(vs->v[i].pk, VCRYPTO_PK_BYTES), "power",
                                          (json_int_t)vs->v[i].power));
  return json_pack("{s:I, s:I, s:I, s:o, s:I, s:o}", "height", (json_int_t)tip, "epoch", (json_int_t)m->epoch,
                   "from_height", (json_int_t)m->from_height, "hash", node_api_hex(hash, sizeof hash),
                   "total_power", (json_int_t)cons_valset_total_power(vs), "validators", list);
}

/* GET /v1/valset[?height=H] — the latest validator set, or the one governing
 * height H (1 ≤ H ≤ last block + CONS_VALSET_DELAY: the sets of the next two
 * heights are already decided; a later height's is not, so it is a 404 rather
 * than a guess). Tip, meta and set come from one read transaction, so they
 * agree with each other. */
static int h_valset(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  const bool asked = api_request_query(req, "height") != NULL;
  uint64_t h = 0;
  if (asked) {
    int prc = api_request_query_u64(req, "height", 0, CONS_HEIGHT_MAX, &h);
    if (prc == VE_OK && h == 0) prc = VE_ERR_INVALID;
    if (prc) {
      api_error(resp, 400, ve_err_name(prc), "height must be a decimal height from 1 to %llu",
                (unsigned long long)CONS_HEIGHT_MAX);
      return prc;
    }
  }
  cons_valset_t *vs = malloc(sizeof *vs);
  if (!vs) return VE_ERR_NOMEM;
  store_txn_t *t;
  int rc = node_api_begin_read(n, &t, resp);
  if (rc) {
    free(vs);
    return rc;
  }
  ledger_tip_t tip;
  valset_meta_t of = {0, 0}; /* epoch and first height of the set answered */
  rc = ledger_tip_get(t, &tip);
  bool ahead = rc == VE_OK && asked && h > tip.height + CONS_VALSET_DELAY;
  /* The latest set may not govern yet: a change in the last two blocks
   * (meta.from_height > tip + 1) governs from meta.from_height on. */
  if (rc == VE_OK && !ahead && !asked && (rc = valset_meta_get(t, &of)) == VE_OK) rc = valset_latest_get(t, vs);
  if (rc == VE_OK && !ahead && asked) rc = valset_governing(t, h, vs, &of);
  store_txn_abort(t);
  if (ahead) {
    rc = VE_ERR_NOT_FOUND;
    api_error(resp, 404, "not_found",
              "the set governing height %llu is not decided yet: the last block is %llu, which decides "
              "the sets of heights up to %llu",
              (unsigned long long)h, (unsigned long long)tip.height,
              (unsigned long long)(tip.height + CONS_VALSET_DELAY));
  } else if (rc == VE_OK) {
    json_t *o = valset_json(tip.height, &of, vs);
    if (asked) json_object_set_new(o, "height_asked", json_integer((json_int_t)h));
    api_respond_json(resp, 200, o);
  } else if (rc == VE_ERR_NOT_FOUND && asked) {
    api_error(resp, 404, "not_found", "no validator set is recorded for height %llu", (unsigned long long)h);
  }
  free(vs);
  return rc;
}

/* GET /v1/protocol — the protocol version governing the next height, the
 * upgrade scheduled after it (src/apps/upgrade), and what this release
 * implements; tip and meta from one read transaction. */
static int h_protocol(void *ctx, const api_request_t *req, api_response_t *resp) {
  (void)req;
  node_t *n = ctx;
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  ledger_tip_t tip;
  upgrade_meta_t m;
  int rc = ledger_tip_get(t, &tip);
  if (rc == VE_OK) rc = upgrade_meta_get(t, &m);
  store_txn_abort(t);
  VE_TRY(rc);
  uint64_t next = tip.height + 1;
  json_t *sched = json_null();
  if (m.pending_from > next)
    sched = json_pack("{s:I, s:I, s:b}", "protocol", (json_int_t)m.pending_protocol, "from_height",
                      (json_int_t)m.pending_from, "implemented", m.pending_protocol <= LEDGER_PROTOCOL_IMPLEMENTED);
  api_respond_json(resp, 200,
                   json_pack("{s:I, s:I, s:I, s:I, s:o}", "implemented", (json_int_t)LEDGER_PROTOCOL_IMPLEMENTED,
                             "height", (json_int_t)tip.height, "protocol",
                             (json_int_t)upgrade_protocol_at(&m, next), "decisions", (json_int_t)m.decisions,
                             "next", sched));
  return VE_OK;
}

const api_route_t node_core_routes[] = {
    {"GET", "/v1/evidence", h_evidence_list, 0, 0},
    {"GET", "/v1/evidence/:id", h_evidence, 0, 0},
    {"GET", "/v1/proofs/state", h_proof_state, 0, 0},
    {"GET", "/v1/proofs/identities/:id", h_proof_identity, 0, 0},
    {"POST", "/v1/txs", h_submit, API_ROUTE_JSON, API_BODY_BYTES_MAX},
    {"POST", "/v1/txs/raw", h_submit_raw, 0, API_BODY_BYTES_MAX},
    {"GET", "/v1/txs/:id", h_tx, 0, 0},
    {"GET", "/v1/blocks/:height", h_block, 0, 0},
    {"GET", "/v1/commits", h_commits, 0, 0},
    {"GET", "/v1/identities/:id", h_identity, 0, 0},
    {"GET", "/v1/keys/:pk", h_key, 0, 0},
    {"GET", "/v1/signers/:pk", h_signer, 0, 0},
    {"GET", "/v1/status", h_status, 0, 0},
    {"GET", "/v1/valset", h_valset, 0, 0},
    {"GET", "/v1/protocol", h_protocol, 0, 0},
    {"GET", "/health", h_health, 0, 0},
    API_ROUTE_METRICS,
};
const size_t node_core_routes_n = sizeof node_core_routes / sizeof node_core_routes[0];

size_t node_routes_collect(api_route_t *out, size_t cap) {
  const struct {
    const api_route_t *r;
    size_t n;
  } tables[] = {{node_core_routes, node_core_routes_n},
                {node_doc_routes, node_doc_routes_n},
                {node_poll_routes, node_poll_routes_n},
                {node_property_routes, node_property_routes_n},
                {node_pharma_routes, node_pharma_routes_n},
                {node_gov_routes, node_gov_routes_n}};
  size_t k = 0;
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    VE_ASSERT(k + tables[i].n <= cap); /* NODE_ROUTES_MAX is too small: raise it */
    memcpy(out + k, tables[i].r, tables[i].n * sizeof *out);
    k += tables[i].n;
  }
  return k;
}
