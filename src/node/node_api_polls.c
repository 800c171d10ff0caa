/* node_api_polls.c — HTTP endpoints for polls: definitions and status, the
 * running encrypted tally, ballot records and receipts with proof bundles,
 * DKG messages, decryption shares, trustee keys, and the block export the
 * public audit reads (docs/voting.md, section "API"). The table is
 * concatenated with the others by node_routes_collect. Submissions go through
 * POST /v1/txs like every other transaction.
 *
 * Every handler runs on an HTTP thread and reads through its own LMDB read
 * transaction; lists walk the state table with a cursor over one key prefix
 * and are bounded per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/voting/voting.h"
#include "base/err.h"
#include "codec/codec.h"
#include "node/node_int.h"
#include "proof/proof.h"
#include "state/state.h"

#define POLLS_LIST_MAX 100          /* polls per GET /v1/polls */
#define BALLOTS_PAGE_MAX 1000       /* ballot records per page */
#define BALLOTS_PAGE_DEFAULT 100
/* Bytes of block records per GET /v1/audit/blocks (bigger records come in pieces). */
#define EXPORT_RESPONSE_BYTES_MAX ((size_t)8 * 1024 * 1024)
#define EXPORT_BLOCKS_MAX 1000      /* records per response */
#define EXPORT_RECORD_VERSION 1
#define EXPORT_CT "application/octet-stream"

static int query_hash(const api_request_t *req, const char *name, uint8_t out[32], bool *present,
                      api_response_t *resp) {
  const char *s = api_request_query(req, name);
  *present = s != NULL;
  if (s && ve_hex_decode(out, 32, s) != VE_OK) {
    api_error(resp, 400, "malformed", "%s must be 64 hex characters", name);
    return VE_ERR_MALFORMED;
  }
  return VE_OK;
}

/* Loads the poll named by :id (404 if absent). p is heap-allocated by the caller. */
static int load_poll(store_txn_t *t, const api_request_t *req, voting_poll_t *p, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  int rc = voting_poll_get(t, id, p);
  if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "no poll with this id");
  return rc;
}

/* ---- poll JSON ---- */

static json_t *mask_json(uint32_t m, uint32_t n) {
  json_t *a = json_array();
  for (uint32_t j = 1; j <= n; j++)
    if (m & (1u << (j - 1))) json_array_append_new(a, json_integer(j));
  return a;
}

static json_t *trustees_json(const voting_poll_t *p) {
  json_t *a = json_array();
  for (uint32_t j = 1; j <= p->def.n_trustees; j++) {
    uint32_t bit = 1u << (j - 1);
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(j));
    json_object_set_new(o, "identity", node_api_hex(p->def.trustees[j - 1], 32));
    json_object_set_new(o, "enc_pk", node_api_hex(p->enc_pk[j - 1], 32));
    json_object_set_new(o, "dealt", json_boolean(p->dealt & bit));
    json_object_set_new(o, "complaints_by", mask_json(p->complained[j - 1], p->def.n_trustees));
    json_object_set_new(o, "upheld", json_boolean(p->upheld & bit));
    json_object_set_new(o, "qualified", p->has_key ? json_boolean(p->qualified & bit) : json_null());
    json_object_set_new(o, "verification_key", p->has_key ? node_api_hex(p->vk[j - 1], 32) : json_null());
    json_object_set_new(o, "decrypted", json_boolean(p->decrypted & bit));
    json_array_append_new(a, o);
  }
  return a;
}

/* Per question, the list of its options' values from fn. */
static json_t *per_question(const voting_poll_t *p, json_t *(*fn)(const voting_poll_t *, const void *, uint32_t),
                            const void *ctx) {
  json_t *a = json_array();
  for (uint32_t q = 0; q < p->def.n_questions; q++) {
    json_t *opts = json_array();
    for (uint32_t o = 0; o < p->def.q[q].options; o++) json_array_append_new(opts, fn(p, ctx, p->def.q[q].first + o));
    json_array_append_new(a, opts);
  }
  return a;
}

static json_t *label_of(const voting_poll_t *p, const void *ctx, uint32_t o) {
  (void)ctx;
  return json_string(p->def.option[o]);
}
static json_t *count_of(const voting_poll_t *p, const void *ctx, uint32_t o) {
  (void)ctx;
  return json_integer((json_int_t)p->counts[o]);
}
static json_t *ct_of(const voting_poll_t *p, const void *ctx, uint32_t o) {
  (void)p;
  return node_api_hex(((const uint8_t(*)[VOTE_CT_BYTES])ctx)[o], VOTE_CT_BYTES);
}

static json_t *poll_json(const voting_poll_t *p, const voting_tally_rec_t *tally, uint64_t tip) {
  const voting_def_t *d = &p->def;
  json_t *o = json_object();
  json_object_set_new(o, "id", node_api_hex(p->id, 32));
  json_object_set_new(o, "organizer", node_api_hex(p->organizer, 32));
  json_object_set_new(o, "created_height", json_integer((json_int_t)p->created_height));
  json_object_set_new(o, "definition_hash", node_api_hex(p->def_hash, 32));
  json_object_set_new(o, "title", json_string(d->title));
  json_t *qs = json_array(), *labels = per_question(p, label_of, NULL);
  for (uint32_t q = 0; q < d->n_questions; q++)
    json_array_append_new(qs, json_pack("{s:s, s:i, s:i, s:O}", "text", d->q[q].text, "min", (int)d->q[q].min, "max",
                                        (int)d->q[q].max, "options", json_array_get(labels, q)));
  json_decref(labels);
  json_object_set_new(o, "questions", qs);
  json_object_set_new(o, "eligibility", d->has_filter ? json_pack("{s:s, s:s}", "attribute", d->filter_key,
                                                                  "value", d->filter_value)
                                                      : json_pack("{s:s}", "identities", "active"));
  json_object_set_new(o, "heights", json_pack("{s:I, s:I, s:I, s:I}", "deal_end", (json_int_t)d->deal_end,
                                              "complaint_end", (json_int_t)d->complaint_end, "open",
                                              (json_int_t)d->open_height, "close", (json_int_t)d->close_height));
  json_object_set_new(o, "threshold", json_integer(d->threshold));
  json_object_set_new(o, "trustees", trustees_json(p));
  json_object_set_new(o, "status", json_string(voting_status_name(p->status)));
  json_object_set_new(o, "phase", json_string(voting_phase_name(p, tip + 1)));
  json_object_set_new(o, "status_height", json_integer((json_int_t)p->status_height));
  json_object_set_new(o, "election_key", p->has_key ? node_api_hex(p->pk, 32) : json_null());
  json_object_set_new(o, "tally", tally ? json_pack("{s:I, s:I, s:o}", "voters", (json_int_t)tally->voters, "ballots",
                                                    (json_int_t)tally->ballots, "ciphertexts",
                                                    per_question(p, ct_of, tally->cts))
                                        : json_null());
  json_object_set_new(o, "result",
                      p->has_result ? json_pack("{s:I, s:I, s:o, s:o, s:o}", "height", (json_int_t)p->result_height,
                                                "voters", (json_int_t)p->voters, "counts",
                                                per_question(p, count_of, NULL), "decrypted_by",
                                                mask_json(p->used, d->n_trustees), "tally",
                                                per_question(p, ct_of, p->tally))
                                    : json_null());
  json_object_set_new(o, "as_of_height", json_integer((json_int_t)tip));
  return o;
}

/* The raw state value under key, in hex (for clients that decode records). */
static json_t *raw_json(store_txn_t *t, ve_slice_t key) {
  ve_slice_t v;
  return state_get(t, key, &v) == VE_OK ? node_api_hex(v.ptr, v.len) : json_null();
}

/* GET /v1/polls/:id — definition, status, trustees, key, running tally, result;
 * "record" and "tally_record" carry the state values in hex. */
static int h_poll(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  uint64_t tip = atomic_load(&n->height);
  voting_poll_t *p = malloc(sizeof *p);
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  int rc = p && tally ? load_poll(t, req, p, resp) : VE_ERR_NOMEM;
  if (rc == VE_OK) {
    bool have_tally = voting_tally_get(t, p, tally) == VE_OK;
    json_t *o = poll_json(p, have_tally ? tally : NULL, tip);
    uint8_t k1[VOTING_POLL_KEY_BYTES], k2[VOTING_TALLY_KEY_BYTES];
    json_object_set_new(o, "record", raw_json(t, ve_slice(k1, voting_poll_key(k1, p->id))));
    json_object_set_new(o, "tally_record", raw_json(t, ve_slice(k2, voting_tally_key(k2, p->id))));
    api_respond_json(resp, 200, o);
  }
  store_txn_abort(t);
  free(p);
  free(tally);
  return rc;
}

/* GET /v1/polls?after=<id> — polls in id order, at most POLLS_LIST_MAX. */
static int h_polls(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t start[VOTING_POLL_KEY_BYTES];
  bool after;
  VE_TRY(query_hash(req, "after", start + 3, &after, resp));
  memcpy(start, "vp/", 3);
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  uint64_t tip = atomic_load(&n->height);
  voting_poll_t *p = malloc(sizeof *p);
  store_cursor_t *c = NULL;
  int rc = p ? store_cursor_open(t, STORE_T_STATE, &c) : VE_ERR_NOMEM;
  json_t *list = json_array();
  ve_slice_t k, v;
  for (int r = rc ? rc : store_cursor_seek(c, ve_slice(start, after ? sizeof start : 3), &k, &v);
       rc == VE_OK && r == VE_OK && json_array_size(list) < POLLS_LIST_MAX; r = store_cursor_next(c, &k, &v)) {
    if (k.len != VOTING_POLL_KEY_BYTES || memcmp(k.ptr, "vp/", 3)) break;
    if (after && !memcmp(k.ptr, start, sizeof start)) continue;
    if (voting_poll_decode(v, k.ptr + 3, p) != VE_OK) continue;
    json_array_append_new(list, json_pack("{s:o, s:s, s:s, s:s, s:I}", "id", node_api_hex(p->id, 32), "title", p->def.title,
                                          "status", voting_status_name(p->status), "phase",
                                          voting_phase_name(p, tip + 1), "created_height",
                                          (json_int_t)p->created_height));
  }
  if (c) store_cursor_close(c);
  store_txn_abort(t);
  free(p);
  if (rc) {
    json_decref(list);
    return rc;
  }
  api_respond_json(resp, 200, json_pack("{s:o, s:I}", "polls", list, "as_of_height", (json_int_t)tip));
  return VE_OK;
}

static json_t *ballot_json(const voting_ballot_rec_t *b, bool with_cts) {
  json_t *o = json_pack("{s:o, s:o, s:I, s:I}", "voter", node_api_hex(b->voter, 32), "tracker", node_api_hex(b->tracker, 32),
                        "height", (json_int_t)b->height, "revision", (json_int_t)b->revision);
  if (with_cts) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < b->n_options; i++) json_array_append_new(a, node_api_hex(b->cts[i], VOTE_CT_BYTES));
    json_object_set_new(o, "ciphertexts", a);
  }
  return o;
}

/* GET /v1/polls/:id/ballots?after=<voter>&limit=N&cts=1 — counted ballots
 * (one per voter) in voter-id order. */
static int h_ballots(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint64_t limit;
  if (api_request_query_u64(req, "limit", BALLOTS_PAGE_DEFAULT, BALLOTS_PAGE_MAX, &limit) != VE_OK || !limit) {
    api_error(resp, 400, "malformed", "limit must be 1..%d", BALLOTS_PAGE_MAX);
    return VE_ERR_MALFORMED;
  }
  const char *cts = api_request_query(req, "cts");
  bool with_cts = cts && strcmp(cts, "0");
  uint8_t start[VOTING_BALLOT_KEY_BYTES], after_id[32];
  bool after;
  VE_TRY(query_hash(req, "after", after_id, &after, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  voting_poll_t *p = malloc(sizeof *p);
  voting_ballot_rec_t *b = malloc(sizeof *b);
  int rc = p && b ? load_poll(t, req, p, resp) : VE_ERR_NOMEM;
  store_cursor_t *c = NULL;
  if (rc == VE_OK) rc = store_cursor_open(t, STORE_T_STATE, &c);
  json_t *list = json_array();
  bool more = false;
  if (rc == VE_OK) {
    voting_ballot_key(start, p->id, after_id);
    ve_slice_t k, v;
    for (int r = store_cursor_seek(c, ve_slice(start, after ? sizeof start : 35), &k, &v); r == VE_OK;
         r = store_cursor_next(c, &k, &v)) {
      if (k.len != VOTING_BALLOT_KEY_BYTES || memcmp(k.ptr, start, 35)) break;
      if (after && !memcmp(k.ptr, start, sizeof start)) continue;
      if (json_array_size(list) == limit) {
        more = true;
        break;
      }
      if (voting_ballot_rec_decode(v, k.ptr + 35, p->def.n_options, b) == VE_OK)
        json_array_append_new(list, ballot_json(b, with_cts));
    }
  }
  if (c) store_cursor_close(c);
  store_txn_abort(t);
  free(p);
  free(b);
  if (rc) {
    json_decref(list);
    return rc;
  }
  /* "next": pass it as ?after= to continue (null: this was the last page). */
  json_t *next = more ? json_incref(json_object_get(json_array_get(list, json_array_size(list) - 1), "voter"))
                      : json_null();
  api_respond_json(resp, 200, json_pack("{s:o, s:o}", "ballots", list, "next", next));
  return VE_OK;
}

/* GET /v1/polls/:id/ballots/:voter[?height=H] — a voter's receipt: the counted
 * ballot record as of H, with the proof bundle that shows it (or its absence). */
static int h_receipt(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t poll[32], voter[32], key[VOTING_BALLOT_KEY_BYTES];
  VE_TRY(node_api_param_hash(req, "id", poll, resp));
  VE_TRY(node_api_param_hash(req, "voter", voter, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  voting_poll_t *p = malloc(sizeof *p);
  int rc = p ? voting_poll_get(t, poll, p) : VE_ERR_NOMEM;
  store_txn_abort(t);
  if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "no poll with this id");
  proof_bundle_t b;
  proof_bundle_init(&b);
  if (rc == VE_OK) rc = node_proof_bundle(n, req, resp, ve_slice(key, voting_ballot_key(key, poll, voter)), &b);
  if (rc == VE_OK) {
    json_t *o = json_pack("{s:o, s:o, s:I, s:b}", "poll", node_api_hex(poll, 32), "voter", node_api_hex(voter, 32), "as_of_height",
                          (json_int_t)b.height, "counted", b.present);
    voting_ballot_rec_t rec;
    if (b.present && voting_ballot_rec_decode(ve_buf_slice(&b.value), voter, p->def.n_options, &rec) == VE_OK) {
      json_object_set_new(o, "tracker", node_api_hex(rec.tracker, 32));
      json_object_set_new(o, "height", json_integer((json_int_t)rec.height));
      json_object_set_new(o, "revision", json_integer((json_int_t)rec.revision));
    }
    json_object_set_new(o, "bundle", proof_bundle_to_json(&b));
    api_respond_json(resp, 200, o);
  }
  proof_bundle_free(&b);
  free(p);
  return rc;
}

/* GET /v1/polls/:id/proof[?height=H] — bundles for the poll record and the
 * tally record (the tally's "present" is false before the key exists). */
static int h_poll_proof(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t poll[32], k1[VOTING_POLL_KEY_BYTES], k2[VOTING_TALLY_KEY_BYTES];
  VE_TRY(node_api_param_hash(req, "id", poll, resp));
  proof_bundle_t a, b;
  proof_bundle_init(&a);
  proof_bundle_init(&b);
  int rc = node_proof_bundle(n, req, resp, ve_slice(k1, voting_poll_key(k1, poll)), &a);
  if (rc == VE_OK && !a.present) {
    api_error(resp, 404, "not_found", "no poll with this id at height %llu", (unsigned long long)a.height);
    rc = VE_ERR_NOT_FOUND;
  }
  if (rc == VE_OK) {
    /* The same height for both, even if a block committed in between. */
    store_txn_t *t;
    uint64_t after;
    rc = node_proof_valsets_after(req, resp, &after);
    if (rc == VE_OK) rc = node_api_begin_read(n, &t, resp);
    if (rc == VE_OK) {
      rc = proof_bundle_build(t, node_chain_id(n), a.height, ve_slice(k2, voting_tally_key(k2, poll)), after, &b);
      store_txn_abort(t);
    }
  }
  if (rc == VE_OK)
    api_respond_json(resp, 200, json_pack("{s:I, s:o, s:o}", "height", (json_int_t)a.height, "poll",
                                          proof_bundle_to_json(&a), "tally", proof_bundle_to_json(&b)));
  proof_bundle_free(&a);
  proof_bundle_free(&b);
  return rc;
}

/* GET /v1/polls/:id/dkg — accepted dealings and complaints (trustees read
 * their encrypted shares here). */
static int h_dkg(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  voting_poll_t *p = malloc(sizeof *p);
  int rc = p ? load_poll(t, req, p, resp) : VE_ERR_NOMEM;
  json_t *deals = json_array(), *comps = json_array();
  for (uint32_t i = 1; rc == VE_OK && i <= p->def.n_trustees; i++) {
    uint8_t key[VOTING_COMPLAINT_KEY_BYTES];
    ve_slice_t v, cbytes;
    if ((p->dealt & (1u << (i - 1))) &&
        state_get(t, ve_slice(key, voting_dealing_key(key, p->id, i)), &v) == VE_OK)
      json_array_append_new(deals, json_pack("{s:i, s:o}", "dealer", (int)i, "dealing", node_api_hex(v.ptr, v.len)));
    for (uint32_t j = 1; j <= p->def.n_trustees; j++) {
      bool upheld;
      if (!(p->complained[i - 1] & (1u << (j - 1)))) continue;
      if (state_get(t, ve_slice(key, voting_complaint_key(key, p->id, i, j)), &v) == VE_OK &&
          voting_complaint_rec_decode(v, &upheld, &cbytes) == VE_OK)
        json_array_append_new(comps, json_pack("{s:i, s:i, s:b, s:o}", "dealer", (int)i, "complainer", (int)j,
                                               "upheld", upheld, "complaint", node_api_hex(cbytes.ptr, cbytes.len)));
    }
  }
  store_txn_abort(t);
  free(p);
  if (rc == VE_OK) api_respond_json(resp, 200, json_pack("{s:o, s:o}", "dealings", deals, "complaints", comps));
  else json_decref(deals), json_decref(comps);
  return rc;
}

/* GET /v1/polls/:id/decryptions — accepted decryption payloads, per trustee. */
static int h_decryptions(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  voting_poll_t *p = malloc(sizeof *p);
  int rc = p ? load_poll(t, req, p, resp) : VE_ERR_NOMEM;
  json_t *list = json_array();
  for (uint32_t j = 1; rc == VE_OK && j <= p->def.n_trustees; j++) {
    uint8_t key[VOTING_DECRYPT_KEY_BYTES];
    ve_slice_t v;
    voting_decrypt_payload_t d;
    if (!(p->decrypted & (1u << (j - 1)))) continue;
    if (state_get(t, ve_slice(key, voting_decrypt_key(key, p->id, j)), &v) != VE_OK ||
        voting_decrypt_payload_decode(v, &d) != VE_OK)
      continue;
    json_t *shares = json_array();
    for (uint32_t q = 0; q < d.n; q++) json_array_append_new(shares, node_api_hex(d.share[q].ptr, d.share[q].len));
    json_array_append_new(list, json_pack("{s:i, s:b, s:o}", "trustee", (int)j, "used",
                                          (p->used & (1u << (j - 1))) != 0, "shares", shares));
  }
  store_txn_abort(t);
  free(p);
  if (rc == VE_OK) api_respond_json(resp, 200, json_pack("{s:o}", "decryptions", list));
  else json_decref(list);
  return rc;
}

/* GET /v1/trustees/:id — a trustee's published share-encryption key. */
static int h_trustee(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  voting_trustee_key_t k;
  int rc = voting_trustee_key_get(t, id, &k);
  store_txn_abort(t);
  if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "this identity has published no trustee key");
  if (rc == VE_OK)
    api_respond_json(resp, 200, json_pack("{s:o, s:o, s:I}", "identity", node_api_hex(id, 32), "enc_pk",
                                          node_api_hex(k.enc_pk, 32), "height", (json_int_t)k.height));
  return rc;
}

/* ---- block export for audits ----
 * record(h) = u8 1 | uvarint h | bytes block | bytes cert | uvarint n | n x uvarint(-code)
 * frame     = uvarint h | uvarint record length | uvarint offset | bytes piece */

static int export_record(store_txn_t *t, uint64_t h, ve_buf_t *out) {
  ve_slice_t blk, cert;
  VE_TRY(ledger_block_get(t, h, &blk));
  VE_TRY(ledger_cert_get(t, h, &cert));
  ledger_block_t b;
  VE_TRY(ledger_block_decode(blk, &b));
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, EXPORT_RECORD_VERSION);
  codec_put_uvarint(&w, h);
  codec_put_bytes(&w, blk.ptr, blk.len, VE_BLOCK_BYTES_MAX);
  codec_put_bytes(&w, cert.ptr, cert.len, CONS_CERT_BYTES_MAX);
  codec_put_uvarint(&w, b.tx_count);
  int rc = VE_OK;
  for (size_t i = 0; rc == VE_OK && i < b.tx_count; i++) {
    ledger_tx_result_t r;
    rc = ledger_tx_result_get(t, b.ids[i], &r);
    if (rc == VE_OK && (r.height != h || r.index != i)) rc = VE_ERR_CORRUPT;
    if (rc == VE_OK) codec_put_uvarint(&w, (uint64_t)(-(int64_t)r.code));
  }
  ledger_block_free(&b);
  VE_TRY(rc);
  return codec_writer_finish(&w);
}

static void put_frame(ve_buf_t *out, uint64_t h, size_t total, size_t off, const uint8_t *p, size_t len) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_uvarint(&w, h);
  codec_put_uvarint(&w, total);
  codec_put_uvarint(&w, off);
  codec_put_bytes(&w, p, len, EXPORT_RESPONSE_BYTES_MAX);
  VE_ASSERT(codec_writer_finish(&w) == VE_OK);
}

/* GET /v1/audit/blocks/:height?count=N&offset=O — block records from :height
 * on (at most N, the tip at most), as frames of at most 8 MiB together; a
 * record too big for one response comes in pieces (continue with ?offset=). */
static int h_export(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint64_t from, count, off, tip = atomic_load(&n->height);
  if (api_request_param_u64(req, "height", UINT64_MAX, &from) != VE_OK || from == 0 ||
      api_request_query_u64(req, "count", 1, EXPORT_BLOCKS_MAX, &count) != VE_OK || count == 0 ||
      api_request_query_u64(req, "offset", 0, VE_BLOCK_BYTES_MAX + (uint64_t)1024 * 1024, &off) != VE_OK) {
    api_error(resp, 400, "malformed", "height >= 1, count 1..%d, offset a byte offset", EXPORT_BLOCKS_MAX);
    return VE_ERR_MALFORMED;
  }
  if (from > tip) {
    api_error(resp, 404, "not_found", "no block at height %llu yet", (unsigned long long)from);
    return VE_ERR_NOT_FOUND;
  }
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  ve_buf_t out, rec;
  ve_buf_init(&out, EXPORT_RESPONSE_BYTES_MAX + 64 * EXPORT_BLOCKS_MAX);
  ve_buf_init(&rec, VE_BLOCK_BYTES_MAX + (size_t)1024 * 1024);
  int rc = VE_OK;
  size_t budget = EXPORT_RESPONSE_BYTES_MAX;
  for (uint64_t h = from; rc == VE_OK && h <= tip && h < from + count; h++) {
    ve_buf_reset(&rec);
    rc = export_record(t, h, &rec);
    if (rc) break;
    size_t start = h == from ? off : 0;
    if (start > rec.len) {
      rc = VE_ERR_INVALID;
      break;
    }
    size_t len = rec.len - start;
    if (len > budget) {
      if (out.len) break;  /* the next request starts here */
      len = budget;        /* a piece of a big record */
    }
    put_frame(&out, h, rec.len, start, rec.ptr + start, len);
    budget -= len;
    if (start + len < rec.len) break;
  }
  store_txn_abort(t);
  ve_buf_free(&rec);
  if (rc == VE_OK) rc = api_respond_text(resp, 200, EXPORT_CT, out.ptr, out.len);
  else if (rc == VE_ERR_INVALID) api_error(resp, 400, "malformed", "offset is past the record");
  ve_buf_free(&out);
  return rc;
}

const api_route_t node_poll_routes[] = {
    {"GET", "/v1/polls", h_polls, 0, 0},
    {"GET", "/v1/polls/:id", h_poll, 0, 0},
    {"GET", "/v1/polls/:id/proof", h_poll_proof, 0, 0},
    {"GET", "/v1/polls/:id/ballots", h_ballots, 0, 0},
    {"GET", "/v1/polls/:id/ballots/:voter", h_receipt, 0, 0},
    {"GET", "/v1/polls/:id/dkg", h_dkg, 0, 0},
    {"GET", "/v1/polls/:id/decryptions", h_decryptions, 0, 0},
    {"GET", "/v1/trustees/:id", h_trustee, 0, 0},
    {"GET", "/v1/audit/blocks/:height", h_export, 0, 0},
};
const size_t node_poll_routes_n = sizeof node_poll_routes / sizeof node_poll_routes[0];
