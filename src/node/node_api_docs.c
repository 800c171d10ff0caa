/* node_api_docs.c — HTTP endpoints for documents and their encrypted blobs
 * (docs/documents.md, section "API"). The table is concatenated with the others
 * by node_routes_collect.
 *
 * Every handler runs on an HTTP thread. Reads use their own LMDB read
 * transaction; blob uploads go through node_docs_blob_put_part, which opens a
 * short write transaction of its own (node_docs.h). Blobs are ciphertext: they
 * are served to anyone, as are records and grants (the wrapped keys open only
 * for their recipients). Blobs bigger than one request body travel in parts
 * (NODE_DOCS_PART_BYTES_MAX) with ?offset= (and ?length= for reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "node/node_docs.h"
#include "node/node_int.h"
#include "proof/proof.h"
#include "state/state.h"

/* Missing blobs listed by one GET /v1/blobs/missing. */
#define NODE_API_BLOBS_MISSING_MAX 256
#define BLOB_CT "application/octet-stream"

/* :alg (a name such as "sha256", or its number) and :digest (hex of its size). */
static int param_digest(const api_request_t *req, documents_digest_t *d, api_response_t *resp) {
  memset(d, 0, sizeof *d);
  const char *a = api_request_param(req, "alg"), *hex = api_request_param(req, "digest");
  unsigned alg = a ? documents_alg_from_name(a) : 0;
  if (!alg && a && strlen(a) == 1 && a[0] >= '1' && a[0] <= '0' + DOCUMENTS_ALG_MAX) alg = (unsigned)(a[0] - '0');
  if (!alg) {
    api_error(resp, 400, "unsupported", "alg must be blake2b-256, sha256, sha512, blake2b-512 or 1..4");
    return VE_ERR_UNSUPPORTED;
  }
  size_t n = documents_alg_digest_bytes(alg);
  if (!hex || strlen(hex) != 2 * n || ve_hex_decode(d->bytes, n, hex) != VE_OK) {
    api_error(resp, 400, "malformed", "a %s digest is %zu hex characters", documents_alg_name(alg), 2 * n);
    return VE_ERR_MALFORMED;
  }
  d->alg = (uint8_t)alg;
  return VE_OK;
}

/* ---- records ---- */

static json_t *reason_json(const uint8_t *p, size_t n) {
  json_t *s = json_stringn((const char *)p, n); /* NULL unless valid UTF-8 */
  return s ? s : json_null();
}

static json_t *renewal_json(const documents_renewal_t *r) {
  size_t dn = documents_alg_digest_bytes(r->alg);
  json_t *o = json_object();
  json_object_set_new(o, "alg", json_string(documents_alg_name(r->alg)));
  json_object_set_new(o, "content_digest", r->has_content ? node_api_hex(r->content_digest, dn) : json_null());
  json_object_set_new(o, "anchor_height", json_integer((json_int_t)r->anchor_height));
  json_object_set_new(o, "anchor_root", node_api_hex(r->anchor_root, 32));
  json_object_set_new(o, "evidence_digest", node_api_hex(r->evidence_digest, dn));
  json_object_set_new(o, "height", json_integer((json_int_t)r->height));
  json_object_set_new(o, "time_ms", json_integer((json_int_t)r->time_ms));
  json_object_set_new(o, "renewer", node_api_hex(r->renewer, 32));
  return o;
}

static json_t *record_json(node_t *n, const documents_record_t *r, const ledger_tip_t *tip) {
  const documents_spec_t *s = &r->spec;
  json_t *o = json_object();
  json_object_set_new(o, "id", node_api_hex(r->id, 32));
  json_object_set_new(o, "issuer", node_api_hex(r->issuer, 32));
  json_object_set_new(o, "type", json_string(s->type));
  json_object_set_new(o, "subject", node_api_hex(s->subject, 32));
  json_object_set_new(o, "digest_alg", json_string(documents_alg_name(s->digest.alg)));
  json_object_set_new(o, "digest", node_api_hex(s->digest.bytes, documents_alg_digest_bytes(s->digest.alg)));
  json_object_set_new(o, "validity", s->has_validity ? json_pack("{s:I, s:I}", "not_before_ms",
                                                                 (json_int_t)s->not_before_ms, "not_after_ms",
                                                                 (json_int_t)s->not_after_ms)
                                                     : json_null());
  json_object_set_new(o, "metadata_digest", node_api_hex(s->metadata_digest, 32));
  json_object_set_new(o, "blob", s->has_blob ? json_pack("{s:o, s:I, s:b}", "id", node_api_hex(s->blob_id, 32), "bytes",
                                                         (json_int_t)s->blob_bytes, "held",
                                                         node_docs_blob_held(n, s->blob_id))
                                             : json_null());
  json_object_set_new(o, "prev", r->has_prev ? node_api_hex(r->prev, 32) : json_null());
  json_object_set_new(o, "registered_height", json_integer((json_int_t)r->registered_height));
  json_object_set_new(o, "registered_time_ms", json_integer((json_int_t)r->registered_time_ms));
  json_t *rn = json_array();
  for (size_t i = 0; i < r->n_renewals; i++) json_array_append_new(rn, renewal_json(&r->renewals[i]));
  json_object_set_new(o, "renewals", rn);
  json_object_set_new(o, "status", json_string(documents_status_name(r->status)));
  json_object_set_new(o, "next", r->has_next ? node_api_hex(r->next, 32) : json_null());
  json_object_set_new(o, "status_height", json_integer((json_int_t)r->status_height));
  json_object_set_new(o, "reason", reason_json(r->reason, r->reason_len));
  json_object_set_new(o, "reason_hex", node_api_hex(r->reason, r->reason_len));
  json_object_set_new(o, "key_erased", json_boolean(r->key_erased));
  json_object_set_new(o, "erased_height", r->key_erased ? json_integer((json_int_t)r->erased_height) : json_null());
  json_object_set_new(o, "verdict", json_string(documents_verdict_name(documents_verdict(r, tip->last_time_ms))));
  json_object_set_new(o, "as_of_height", json_integer((json_int_t)tip->height));
  json_object_set_new(o, "as_of_time_ms", json_integer((json_int_t)tip->last_time_ms));
  return o;
}

/* Answers with the record id (found directly, or through digest d when id is
 * NULL); ?raw=1 adds the state value in hex. */
static int record_response(node_t *n, const api_request_t *req, api_response_t *resp, const uint8_t *id,
                           const documents_digest_t *d) {
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  uint8_t doc[32];
  int rc = VE_OK;
  if (id) {
    memcpy(doc, id, 32);
  } else {
    uint8_t ik[DOCUMENTS_INDEX_KEY_BYTES_MAX];
    ve_slice_t v;
    rc = state_get(t, ve_slice(ik, documents_index_key(ik, d)), &v);
    if (rc == VE_OK) rc = documents_index_decode(v, doc);
  }
  uint8_t key[DOCUMENTS_STATE_KEY_BYTES];
  ve_slice_t v;
  documents_record_t *rec = malloc(sizeof *rec);
  if (!rec) rc = VE_ERR_NOMEM;
  if (rc == VE_OK) rc = state_get(t, ve_slice(key, documents_state_key(key, doc)), &v);
  if (rc == VE_OK) rc = documents_decode(v, doc, rec);
  ledger_tip_t tip;
  if (rc == VE_OK) rc = ledger_tip_get(t, &tip);
  if (rc == VE_OK) {
    json_t *o = record_json(n, rec, &tip);
    const char *raw = api_request_query(req, "raw");
    if (raw && strcmp(raw, "0") != 0) {
      char *h = malloc(2 * v.len + 1);
      if (h) ve_hex_encode(h, v.ptr, v.len), json_object_set_new(o, "raw", json_string(h));
      free(h);
    }
    api_respond_json(resp, 200, o);
  } else if (rc == VE_ERR_NOT_FOUND) {
    api_error(resp, 404, "not_found", id ? "no document with this id" : "no document with this digest");
  }
  free(rec);
  store_txn_abort(t);
  return rc;
}

/* GET /v1/documents/:id[?raw=1] */
static int h_doc(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  return record_response(ctx, req, resp, id, NULL);
}

/* GET /v1/documents/by-digest/:alg/:digest[?raw=1] */
static int h_doc_by_digest(void *ctx, const api_request_t *req, api_response_t *resp) {
  documents_digest_t d;
  VE_TRY(param_digest(req, &d, resp));
  return record_response(ctx, req, resp, NULL, &d);
}

/* ---- grants ---- */

/* GET /v1/documents/:id/grants/:identity — the key wrapped to that identity. */
static int h_grant(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t doc[32], who[32];
  VE_TRY(node_api_param_hash(req, "id", doc, resp));
  VE_TRY(node_api_param_hash(req, "identity", who, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  documents_grant_t g;
  int rc = documents_grant_get(t, doc, who, &g);
  store_txn_abort(t);
  if (rc == VE_ERR_NOT_FOUND) {
    api_error(resp, 404, "not_found", "this identity holds no grant on this document");
    return rc;
  }
  VE_TRY(rc);
  api_respond_json(resp, 200,
                   json_pack("{s:o, s:o, s:o, s:o, s:o, s:I}", "document", node_api_hex(doc, 32), "recipient",
                             node_api_hex(g.recipient, 32), "recipient_pk", node_api_hex(g.recipient_pk, 32), "wrapped",
                             node_api_hex(g.wrapped, sizeof g.wrapped), "granter", node_api_hex(g.granter, 32), "height",
                             (json_int_t)g.height));
  return VE_OK;
}

/* GET /v1/documents/:id/grants — the identities holding a grant. */
static int h_grants(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t doc[32];
  VE_TRY(node_api_param_hash(req, "id", doc, resp));
  uint8_t(*ids)[32] = malloc(DOCUMENTS_GRANTS_MAX * 32);
  if (!ids) return VE_ERR_NOMEM;
  store_txn_t *t;
  int rc = node_api_begin_read(n, &t, resp);
  size_t k = 0;
  documents_record_t *rec = malloc(sizeof *rec);
  if (rc == VE_OK) {
    rc = rec ? documents_get(t, doc, rec) : VE_ERR_NOMEM;
    if (rc == VE_OK) rc = documents_grants_list(t, doc, ids, DOCUMENTS_GRANTS_MAX, &k);
    store_txn_abort(t);
  }
  if (rc == VE_OK) {
    json_t *a = json_array();
    for (size_t i = 0; i < k; i++) json_array_append_new(a, node_api_hex(ids[i], 32));
    api_respond_json(resp, 200, json_pack("{s:o, s:o}", "document", node_api_hex(doc, 32), "recipients", a));
  } else if (rc == VE_ERR_NOT_FOUND) {
    api_error(resp, 404, "not_found", "no document with this id");
  }
  free(rec);
  free(ids);
  return rc;
}

/* ---- blobs ---- */

/* Serves bytes of blob id, ?offset=&length= (default: all of it). */
static int blob_response(node_t *n, const api_request_t *req, api_response_t *resp, const uint8_t id[32]) {
  uint64_t offset, length;
  if (api_request_query_u64(req, "offset", 0, DOCUMENTS_BLOB_BYTES_MAX, &offset) != VE_OK ||
      api_request_query_u64(req, "length", DOCUMENTS_BLOB_BYTES_MAX, DOCUMENTS_BLOB_BYTES_MAX, &length) != VE_OK ||
      length == 0) {
    api_error(resp, 400, "invalid_argument", "offset and length must be decimal, length 1..%llu",
              (unsigned long long)DOCUMENTS_BLOB_BYTES_MAX);
    return VE_ERR_INVALID;
  }
  ve_buf_t out;
  ve_buf_init(&out, DOCUMENTS_BLOB_BYTES_MAX);
  uint64_t size = 0;
  int rc = node_docs_blob_read(n, id, offset, (size_t)length, &out, &size);
  if (rc == VE_OK) {
    rc = api_respond_text(resp, 200, BLOB_CT, out.ptr, out.len);
  } else if (rc == VE_ERR_NOT_FOUND) {
    api_error(resp, 404, "not_found", "this node does not hold the blob (not uploaded yet, or erased)");
  } else if (rc == VE_ERR_INVALID) {
    api_error(resp, 400, "invalid_argument", "offset %llu is past the blob's %llu bytes",
              (unsigned long long)offset, (unsigned long long)size);
  }
  ve_buf_free(&out);
  return rc;
}

/* Loads doc's record and refuses a document without a (readable) blob. */
static int doc_blob(node_t *n, const uint8_t doc[32], documents_record_t *rec, api_response_t *resp) {
  store_txn_t *t;
  VE_TRY(node_api_begin_read(n, &t, resp));
  int rc = documents_get(t, doc, rec);
  store_txn_abort(t);
  if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "no document with this id");
  else if (rc == VE_OK && !rec->spec.has_blob) rc = VE_ERR_STATE, api_error(resp, 409, "invalid_state", "this document has no stored blob");
  else if (rc == VE_OK && rec->key_erased)
    rc = VE_ERR_STATE, api_error(resp, 409, "invalid_state", "this document's key was erased; its blob is deleted");
  return rc;
}

/* GET /v1/documents/:id/blob[?offset=&length=] */
static int h_blob_get(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t doc[32];
  VE_TRY(node_api_param_hash(req, "id", doc, resp));
  documents_record_t *rec = malloc(sizeof *rec);
  if (!rec) return VE_ERR_NOMEM;
  int rc = doc_blob(ctx, doc, rec, resp);
  uint8_t blob[32];
  if (rc == VE_OK) memcpy(blob, rec->spec.blob_id, 32);
  free(rec);
  return rc ? rc : blob_response(ctx, req, resp, blob);
}

/* GET /v1/blobs/:blob — by content id, for replication and caches. */
static int h_blob_by_id(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "blob", id, resp));
  return blob_response(ctx, req, resp, id);
}

/* PUT /v1/documents/:id/blob[?offset=N] — body: bytes [N, N + len) of the blob. */
static int h_blob_put(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t doc[32];
  VE_TRY(node_api_param_hash(req, "id", doc, resp));
  uint64_t offset;
  if (api_request_query_u64(req, "offset", 0, DOCUMENTS_BLOB_BYTES_MAX, &offset) != VE_OK) {
    api_error(resp, 400, "invalid_argument", "offset must be a decimal number up to the blob's size");
    return VE_ERR_INVALID;
  }
  ve_slice_t body = api_request_body(req);
  node_docs_upload_t up;
  int rc = node_docs_blob_put_part(ctx, doc, offset, body, &up);
  switch (rc) {
    case VE_OK: {
      json_t *o = json_pack("{s:s, s:o, s:I, s:I}", "status", up.stored ? "stored" : "partial", "blob_id",
                            node_api_hex(up.blob_id, 32), "received", (json_int_t)up.received, "bytes", (json_int_t)up.size);
      api_respond_json(resp, up.completed ? 201 : up.stored ? 200 : 202, o);
      return VE_OK;
    }
    case VE_ERR_NOT_FOUND:
      api_error(resp, 404, "not_found", "no document with this id");
      break;
    case VE_ERR_STATE:
      api_error(resp, 409, "invalid_state", "this document names no blob, or its key was erased");
      break;
    case VE_ERR_INVALID:
      if (body.len == 0) api_error(resp, 400, "invalid_argument", "empty body: send the blob's bytes");
      else
        api_error(resp, 400, "invalid_argument", "offset %llu is past the %llu bytes received so far; continue there",
                  (unsigned long long)offset, (unsigned long long)up.received);
      break;
    case VE_ERR_TOO_BIG:
      api_error(resp, 413, "too_big", "the part ends at %llu, past the blob's size %llu recorded on the ledger",
                (unsigned long long)(offset + body.len), (unsigned long long)up.size);
      break;
    case VE_ERR_HASH_MISMATCH:
      api_error(resp, 400, "hash_mismatch", "these bytes are not the blob the record names; parts dropped, start again");
      break;
    default:
      break;
  }
  return rc;
}

/* GET /v1/blobs/missing — blobs of live records this node does not hold. */
static int h_blobs_missing(void *ctx, const api_request_t *req, api_response_t *resp) {
  (void)req;
  uint8_t(*ids)[32] = malloc(NODE_API_BLOBS_MISSING_MAX * 32);
  if (!ids) return VE_ERR_NOMEM;
  size_t k = node_docs_blobs_missing(ctx, ids, NODE_API_BLOBS_MISSING_MAX);
  json_t *a = json_array();
  for (size_t i = 0; i < k; i++) json_array_append_new(a, node_api_hex(ids[i], 32));
  free(ids);
  api_respond_json(resp, 200, json_pack("{s:o, s:b}", "missing", a, "more", k == NODE_API_BLOBS_MISSING_MAX));
  return VE_OK;
}

/* ---- proofs (docs/proofs.md bundles, built by src/proof) ---- */

/* GET /v1/proofs/documents/:id — the record ("doc/" || id). */
static int h_proof_doc(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32], key[DOCUMENTS_STATE_KEY_BYTES];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  return node_proof_response(ctx, req, resp, ve_slice(key, documents_state_key(key, id)));
}

/* GET /v1/proofs/documents/by-digest/:alg/:digest — the digest index entry
 * ("docd/" || alg || digest): present gives the document id, absent proves the
 * digest unregistered at that height. */
static int h_proof_digest(void *ctx, const api_request_t *req, api_response_t *resp) {
  documents_digest_t d;
  VE_TRY(param_digest(req, &d, resp));
  uint8_t key[DOCUMENTS_INDEX_KEY_BYTES_MAX];
  return node_proof_response(ctx, req, resp, ve_slice(key, documents_index_key(key, &d)));
}

/* GET /v1/proofs/documents/:id/grants/:identity — a grant ("docg/"). */
static int h_proof_grant(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t doc[32], who[32], key[DOCUMENTS_GRANT_KEY_BYTES];
  VE_TRY(node_api_param_hash(req, "id", doc, resp));
  VE_TRY(node_api_param_hash(req, "identity", who, resp));
  return node_proof_response(ctx, req, resp, ve_slice(key, documents_grant_key(key, doc, who)));
}

const api_route_t node_doc_routes[] = {
    {"GET", "/v1/documents/:id", h_doc, 0, 0},
    {"GET", "/v1/documents/by-digest/:alg/:digest", h_doc_by_digest, 0, 0},
    {"GET", "/v1/documents/:id/grants", h_grants, 0, 0},
    {"GET", "/v1/documents/:id/grants/:identity", h_grant, 0, 0},
    {"GET", "/v1/documents/:id/blob", h_blob_get, 0, 0},
    {"PUT", "/v1/documents/:id/blob", h_blob_put, 0, NODE_DOCS_PART_BYTES_MAX},
    {"GET", "/v1/blobs/missing", h_blobs_missing, 0, 0},
    {"GET", "/v1/blobs/:blob", h_blob_by_id, 0, 0},
    {"GET", "/v1/proofs/documents/:id", h_proof_doc, 0, 0},
    {"GET", "/v1/proofs/documents/by-digest/:alg/:digest", h_proof_digest, 0, 0},
    {"GET", "/v1/proofs/documents/:id/grants/:identity", h_proof_grant, 0, 0},
};
const size_t node_doc_routes_n = sizeof node_doc_routes / sizeof node_doc_routes[0];
