/* node_api_gov.c — HTTP reads of the council and its proposals
 * (src/apps/gov, docs/governance.md "HTTP API"). All GET, read-only; the table
 * is concatenated with the others by node_routes_collect.
 *
 *   GET /v1/gov/council                 the council in force, its members'
 *                                       identity status and roles
 *   GET /v1/gov/proposals/:id           one proposal, status as a reader
 *                                       sees it now (EXPIRED / STALE derived)
 *   GET /v1/gov/proposals?status=open|all&limit=N
 *                                       newest first, from the "gov/h/" index
 *   GET /v1/proofs/gov/council          proof bundles (present or absent),
 *   GET /v1/proofs/gov/proposals/:id    ?height= and ?valsets_after= as the
 *                                       other proof endpoints
 *
 * Every handler runs on an HTTP thread with its own read transaction, so the
 * tip, the council and the proposals it shows are one consistent state.
 * Derived statuses use the tip's block time (the time the next block's
 * execution compares deadlines with is later still: a proposal shown open may
 * have expired for the next block; never the reverse).
 *
 * Approvals are bitmaps of council indices. A proposal of an older epoch
 * (executed, rejected or stale) is read against the council of its epoch:
 * the "gov/council" value as of the height it was decided (or created, if
 * still open), from the state history; if that height is pruned here, the
 * indices are shown instead of ids ("approval_indices"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "node/node_int.h"
#include "state/state.h"

#define GOV_LIST_DEFAULT 50
#define GOV_LIST_MAX 500
/* Index entries one listing reads at most: ?status=open skips closed
 * proposals, and a chain may hold many; past this the answer says
 * "complete": false. */
#define GOV_LIST_SCAN_MAX 10000
#define GOV_H_KEY_BYTES (sizeof GOV_BY_HEIGHT_PREFIX - 1 + 8 + LEDGER_HASH_BYTES)
#define GOV_H_PREFIX_BYTES (sizeof GOV_BY_HEIGHT_PREFIX - 1)

_Static_assert(GOV_LIST_MAX == 500, "messages say 1..500");

/* ---- reading ---- */

/* One read transaction's view: tip and the council in force (epoch 0: none). */
typedef struct {
  store_txn_t *t;
  ledger_tip_t tip;
  gov_council_t council;
  bool has_council;
} gov_view_t;

/* Opens v (v->t to abort on success); else an error answer. */
static int view_open(node_t *n, gov_view_t *v, api_response_t *resp) {
  memset(v, 0, sizeof *v);
  VE_TRY(node_api_begin_read(n, &v->t, resp));
  int rc = ledger_tip_get(v->t, &v->tip);
  if (rc == VE_OK) {
    rc = gov_council_get(v->t, &v->council);
    v->has_council = rc == VE_OK;
    if (rc == VE_ERR_NOT_FOUND) rc = VE_OK;
  }
  if (rc) {
    store_txn_abort(v->t);
    v->t = NULL;
  }
  return rc;
}

/* The council of epoch `epoch` for p: the current one, or the value of
 * "gov/council" after the height p was decided (open: created) from the state
 * history. false if it cannot be had here (pruned, or not that epoch). */
static bool council_of(const gov_view_t *v, const gov_proposal_t *p, gov_council_t *out) {
  if (v->has_council && v->council.epoch == p->epoch) {
    *out = v->council;
    return true;
  }
  ve_buf_t val, proof;
  ve_buf_init(&val, GOV_COUNCIL_BYTES_MAX);
  ve_buf_init(&proof, STATE_PROOF_BYTES_MAX);
  /* After the deciding block the council is p's unless a council set later in
   * that block replaced it; then the block before holds it. */
  uint64_t at = p->decided ? p->decided : p->created;
  static const char key[] = GOV_COUNCIL_KEY;
  bool ok = false;
  for (uint64_t h = at; !ok && h + 1 >= at && h > 0; h--) {
    bool present = false;
    int rc = state_prove(v->t, h, ve_slice(key, sizeof key - 1), &present, &val, &proof);
    ok = rc == VE_OK && present && gov_council_decode(ve_buf_slice(&val), out) == VE_OK && out->epoch == p->epoch;
  }
  ve_buf_free(&val);
  ve_buf_free(&proof);
  return ok;
}

/* ---- JSON ---- */

static json_t *roles_json(uint32_t roles) {
  json_t *a = json_array();
  for (uint32_t b = 1; b & ROLE_ALL_MASK; b <<= 1)
    if (roles & b) json_array_append_new(a, json_string(ledger_role_name(b)));
  return a;
}

static json_t *council_json(const gov_view_t *v) {
  const gov_council_t *c = &v->council;
  json_t *members = json_array();
  for (uint32_t i = 0; i < c->n; i++) {
    identity_t rec;
    json_t *m = json_object();
    json_object_set_new(m, "id", node_api_hex(c->members[i], 32));
    if (identity_get(v->t, c->members[i], &rec) == VE_OK) {
      json_object_set_new(m, "status", json_string(identity_status_name(rec.status)));
      json_object_set_new(m, "roles", roles_json(rec.roles));
    } else { /* members are registered when appointed; identities are never deleted */
      json_object_set_new(m, "status", json_null());
      json_object_set_new(m, "roles", json_array());
    }
    json_array_append_new(members, m);
  }
  return json_pack("{s:I, s:I, s:I, s:o, s:I}", "epoch", (json_int_t)c->epoch, "k", (json_int_t)c->k, "n",
                   (json_int_t)c->n, "members", members, "height", (json_int_t)v->tip.height);
}

static json_t *action_json(const gov_proposal_t *p, bool with_payload) {
  char hex[8];
  snprintf(hex, sizeof hex, "0x%04x", (unsigned)p->inner_type);
  const ledger_app_t *app = ledger_app_for(node_registry(), p->inner_type);
  json_t *o = json_pack("{s:I, s:s, s:o}", "type", (json_int_t)p->inner_type, "type_hex", hex, "app",
                        app ? json_string(app->name) : json_null());
  if (o && with_payload) json_object_set_new(o, "payload_hex", node_api_hex(p->inner_payload.ptr, p->inner_payload.len));
  return o;
}

/* Ids of the council members whose bits are set (c known), else their indices. */
static json_t *voters_json(uint64_t bits, const gov_council_t *c) {
  json_t *a = json_array();
  for (uint32_t i = 0; i < GOV_COUNCIL_MAX; i++) {
    if (!(bits >> i & 1)) continue;
    if (c && i < c->n) json_array_append_new(a, node_api_hex(c->members[i], 32));
    else json_array_append_new(a, json_integer(i));
  }
  return a;
}

/* A note is shown as text when it is UTF-8 without NUL bytes, else in hex. */
static void note_set(json_t *o, ve_slice_t note) {
  json_t *s = memchr(note.ptr, 0, note.len) ? NULL : json_stringn((const char *)note.ptr, note.len);
  if (s) json_object_set_new(o, "note", s);
  else json_object_set_new(o, "note_hex", node_api_hex(note.ptr, note.len));
}

static json_t *proposal_json(const gov_view_t *v, const gov_proposal_t *p, bool full) {
  gov_status_t st = gov_proposal_status(p, v->has_council ? v->council.epoch : 0, v->tip.last_time_ms);
  gov_council_t *c = malloc(sizeof *c);
  bool known = c && council_of(v, p, c);
  json_t *o = json_object();
  json_object_set_new(o, "id", node_api_hex(p->id, 32));
  json_object_set_new(o, "status", json_string(gov_status_name(st)));
  json_object_set_new(o, "epoch", json_integer((json_int_t)p->epoch));
  json_object_set_new(o, "proposer", node_api_hex(p->proposer, 32));
  json_object_set_new(o, "created", json_integer((json_int_t)p->created));
  json_object_set_new(o, "deadline_ms", json_integer((json_int_t)p->deadline_ms));
  json_object_set_new(o, "action", action_json(p, full));
  if (full) {
    note_set(o, p->note);
    json_object_set_new(o, "proposer_pk", node_api_hex(p->proposer_pk, 32));
    json_object_set_new(o, "seq", json_integer((json_int_t)p->seq));
    json_object_set_new(o, known ? "approvals" : "approval_indices", voters_json(p->approvals, known ? c : NULL));
    json_object_set_new(o, known ? "rejections" : "rejection_indices", voters_json(p->rejections, known ? c : NULL));
  } else {
    json_object_set_new(o, "approvals", json_integer(gov_count(p->approvals)));
    json_object_set_new(o, "rejections", json_integer(gov_count(p->rejections)));
  }
  json_object_set_new(o, "needed", known ? json_integer(c->k) : json_null());
  json_object_set_new(o, "members", known ? json_integer(c->n) : json_null());
  json_object_set_new(o, "decided", p->decided ? json_integer((json_int_t)p->decided) : json_null());
  free(c);
  return o;
}

/* ---- handlers ---- */

static int bad_query(api_response_t *resp, const char *what) {
  api_error(resp, 400, "malformed", "%s", what);
  return VE_ERR_MALFORMED;
}

/* GET /v1/gov/council */
static int h_council(void *ctx, const api_request_t *req, api_response_t *resp) {
  (void)req;
  gov_view_t *v = malloc(sizeof *v);
  if (!v) return VE_ERR_NOMEM;
  int rc = view_open(ctx, v, resp);
  if (rc == VE_OK) {
    if (v->has_council) {
      api_respond_json(resp, 200, council_json(v));
    } else {
      rc = VE_ERR_NOT_FOUND;
      api_error(resp, 404, "not_found", "no council: protocol 1, or none appointed yet (`veche gov council-set`)");
    }
    store_txn_abort(v->t);
  }
  free(v);
  return rc;
}

/* GET /v1/gov/proposals/:id */
static int h_proposal(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  gov_view_t *v = malloc(sizeof *v);
  if (!v) return VE_ERR_NOMEM;
  int rc = view_open(ctx, v, resp);
  if (rc == VE_OK) {
    gov_proposal_t p;
    ve_buf_t buf;
    ve_buf_init(&buf, GOV_PROPOSAL_BYTES_MAX);
    rc = gov_proposal_get(v->t, id, &p, &buf);
    if (rc == VE_OK) {
      json_t *o = proposal_json(v, &p, true);
      json_object_set_new(o, "as_of_height", json_integer((json_int_t)v->tip.height));
      api_respond_json(resp, 200, o);
    } else if (rc == VE_ERR_NOT_FOUND) {
      api_error(resp, 404, "not_found", "no proposal with this id");
    }
    ve_buf_free(&buf);
    store_txn_abort(v->t);
  }
  free(v);
  return rc;
}

/* Reads the index backwards from the newest entry: the listing of h_list. */
static int list_scan(gov_view_t *v, bool open_only, size_t limit, json_t *list, bool *complete) {
  store_cursor_t *c;
  VE_TRY(store_cursor_open(v->t, STORE_T_STATE, &c));
  /* The first key after every index key: the prefix with its last byte + 1. */
  uint8_t end[GOV_H_PREFIX_BYTES];
  memcpy(end, GOV_BY_HEIGHT_PREFIX, GOV_H_PREFIX_BYTES);
  end[GOV_H_PREFIX_BYTES - 1]++;
  ve_slice_t k, val;
  int r = store_cursor_seek(c, ve_slice(end, sizeof end), &k, &val);
  r = r == VE_ERR_NOT_FOUND ? store_cursor_last(c, &k, &val) : r == VE_OK ? store_cursor_prev(c, &k, &val) : r;
  gov_proposal_t p;
  ve_buf_t buf;
  ve_buf_init(&buf, GOV_PROPOSAL_BYTES_MAX);
  int rc = VE_OK;
  size_t scanned = 0;
  *complete = true;
  for (; r != VE_ERR_NOT_FOUND; r = store_cursor_prev(c, &k, &val)) {
    if (r) {
      rc = r;
      break;
    }
    if (k.len < GOV_H_PREFIX_BYTES || memcmp(k.ptr, GOV_BY_HEIGHT_PREFIX, GOV_H_PREFIX_BYTES)) break;
    if (k.len != GOV_H_KEY_BYTES) continue; /* not an index entry (none are written) */
    if (json_array_size(list) == limit || scanned == GOV_LIST_SCAN_MAX) {
      *complete = false;
      break;
    }
    scanned++;
    uint8_t id[LEDGER_HASH_BYTES];
    memcpy(id, k.ptr + GOV_H_PREFIX_BYTES + 8, sizeof id);
    rc = gov_proposal_get(v->t, id, &p, &buf);
    if (rc) break; /* the index names only proposals that exist */
    gov_status_t st = gov_proposal_status(&p, v->has_council ? v->council.epoch : 0, v->tip.last_time_ms);
    if (!open_only || st == GOV_OPEN) json_array_append_new(list, proposal_json(v, &p, false));
  }
  ve_buf_free(&buf);
  store_cursor_close(c);
  return rc;
}

/* GET /v1/gov/proposals?status=open|all&limit=N — newest first (by the height
 * that created them; within a height, by id descending). */
static int h_list(void *ctx, const api_request_t *req, api_response_t *resp) {
  const char *s = api_request_query(req, "status");
  if (s && strcmp(s, "open") && strcmp(s, "all")) return bad_query(resp, "status must be open or all");
  bool open_only = s && !strcmp(s, "open");
  uint64_t limit;
  if (api_request_query_u64(req, "limit", GOV_LIST_DEFAULT, GOV_LIST_MAX, &limit) != VE_OK || limit == 0)
    return bad_query(resp, "limit must be 1..500");
  gov_view_t *v = malloc(sizeof *v);
  if (!v) return VE_ERR_NOMEM;
  int rc = view_open(ctx, v, resp);
  if (rc == VE_OK) {
    json_t *list = json_array();
    bool complete = true;
    rc = list_scan(v, open_only, (size_t)limit, list, &complete);
    if (rc == VE_OK)
      api_respond_json(resp, 200,
                       json_pack("{s:s, s:o, s:b, s:o, s:I}", "status", open_only ? "open" : "all", "proposals", list,
                                 "complete", complete, "council_epoch",
                                 v->has_council ? json_integer((json_int_t)v->council.epoch) : json_null(),
                                 "as_of_height", (json_int_t)v->tip.height));
    else
      json_decref(list);
    store_txn_abort(v->t);
  }
  free(v);
  return rc;
}

/* GET /v1/proofs/gov/council[?height=H][&valsets_after=K] */
static int h_proof_council(void *ctx, const api_request_t *req, api_response_t *resp) {
  static const char key[] = GOV_COUNCIL_KEY;
  return node_proof_response(ctx, req, resp, ve_slice(key, sizeof key - 1));
}

/* GET /v1/proofs/gov/proposals/:id[?height=H][&valsets_after=K] */
static int h_proof_proposal(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32], key[6 + LEDGER_HASH_BYTES];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  return node_proof_response(ctx, req, resp, ve_slice(key, gov_proposal_key(key, id)));
}

const api_route_t node_gov_routes[] = {
    {"GET", "/v1/gov/council", h_council, 0, 0},
    {"GET", "/v1/gov/proposals", h_list, 0, 0},
    {"GET", "/v1/gov/proposals/:id", h_proposal, 0, 0},
    {"GET", "/v1/proofs/gov/council", h_proof_council, 0, 0},
    {"GET", "/v1/proofs/gov/proposals/:id", h_proof_proposal, 0, 0},
};
const size_t node_gov_routes_n = sizeof node_gov_routes / sizeof node_gov_routes[0];
