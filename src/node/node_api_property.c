/* node_api_property.c — HTTP endpoints of the land registry (docs/property.md,
 * section "API"). All are GET and read-only: titles, their history, what an
 * identity owns, a title's lineage (parents and children, one level each way),
 * and proof bundles of titles and history events. The table is
 * concatenated with the others by node_routes_collect.
 *
 * Every handler runs on an HTTP thread with its own read transaction. Ids are
 * 64 hex characters; a malformed parameter is a 400 "malformed", an absent
 * parcel a 404 "not_found" with a reason. Lists are bounded
 * (PROPERTY_HISTORY_PAGE_MAX, PROPERTY_OWNED_PAGE_MAX) and continue with a
 * cursor the answer gives ("next"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/property/property.h"
#include "base/err.h"
#include "node/node_int.h"

#define HISTORY_PAGE_DEFAULT 64
#define OWNED_PAGE_DEFAULT 100
_Static_assert(PROPERTY_HISTORY_PAGE_MAX == 256 && PROPERTY_OWNED_PAGE_MAX == 256, "messages say 1..256");

/* ---- JSON ---- */

/* {"identity", "parts", "share": "p/q" reduced, "share_decimal": "0.333333"}
 * (six decimals, rounded down; exact: parts <= 2^32, so parts * 10^6 fits). */
static json_t *owner_json(const property_owner_t *o, uint64_t sum) {
  uint64_t g = property_gcd(o->parts, sum);
  char frac[48], dec[32];
  snprintf(frac, sizeof frac, "%llu/%llu", (unsigned long long)(o->parts / g), (unsigned long long)(sum / g));
  uint64_t micro = o->parts * 1000000u / sum;
  snprintf(dec, sizeof dec, "%llu.%06llu", (unsigned long long)(micro / 1000000u),
           (unsigned long long)(micro % 1000000u));
  return json_pack("{s:o, s:I, s:s, s:s}", "identity", node_api_hex(o->id, 32), "parts", (json_int_t)o->parts,
                   "share", frac, "share_decimal", dec);
}

static json_t *owners_json(const property_owner_t *o, size_t n) {
  uint64_t sum = property_parts_sum(o, n);
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, owner_json(&o[i], sum));
  return a;
}

static json_t *ids_json(const uint8_t (*ids)[LEDGER_HASH_BYTES], size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, node_api_hex(ids[i], 32));
  return a;
}

static json_t *title_json(const property_title_t *t, uint64_t tip) {
  json_t *o = json_object();
  json_object_set_new(o, "id", node_api_hex(t->id, 32));
  json_object_set_new(o, "cadastral", json_string(t->cadastral));
  json_object_set_new(o, "version", json_integer((json_int_t)t->version));
  json_object_set_new(o, "status", json_string(property_status_name(t->status)));
  json_object_set_new(o, "parents", ids_json((const uint8_t(*)[LEDGER_HASH_BYTES])t->parents, t->n_parents));
  json_object_set_new(o, "children", ids_json((const uint8_t(*)[LEDGER_HASH_BYTES])t->children, t->n_children));
  json_object_set_new(o, "registrar", node_api_hex(t->registrar, 32));
  json_object_set_new(o, "registered_height", json_integer((json_int_t)t->registered_height));
  json_object_set_new(o, "updated_height", json_integer((json_int_t)t->updated_height));
  json_object_set_new(o, "plan_digest", node_api_hex(t->plan_digest, 32));
  json_object_set_new(o, "area_m2", json_integer((json_int_t)t->area_m2));
  json_object_set_new(o, "district", t->district[0] ? json_string(t->district) : json_null());
  json_object_set_new(o, "parts_total", json_integer((json_int_t)property_parts_sum(t->owners, t->n_owners)));
  json_object_set_new(o, "owners", owners_json(t->owners, t->n_owners));
  json_t *es = json_array();
  bool arrested = false;
  for (size_t i = 0; i < t->n_encumbrances; i++) {
    const property_encumbrance_t *e = &t->encumbrances[i];
    arrested |= e->kind == PROPERTY_ARREST;
    json_array_append_new(es, json_pack("{s:I, s:s, s:o, s:o, s:I}", "number", (json_int_t)e->number, "kind",
                                        property_enc_kind_name(e->kind), "holder", node_api_hex(e->holder, 32),
                                        "document", node_api_hex(e->document, 32), "height",
                                        (json_int_t)e->height));
  }
  json_object_set_new(o, "encumbrances", es);
  json_object_set_new(o, "arrested", json_boolean(arrested));
  json_object_set_new(o, "last_deed", node_api_hex(t->last_deed, 32));
  json_object_set_new(o, "next_encumbrance_number", json_integer((json_int_t)t->next_number));
  json_object_set_new(o, "as_of_height", json_integer((json_int_t)tip));
  return o;
}

static json_t *event_json(const property_event_t *e) {
  json_t *o = json_pack("{s:I, s:s, s:I, s:o, s:o}", "version", (json_int_t)e->version, "kind",
                        property_event_kind_name(e->kind), "height", (json_int_t)e->height, "signer",
                        node_api_hex(e->signer, 32), "digest", node_api_hex(e->digest, 32));
  if (!o) return NULL;
  const uint8_t(*lineage)[LEDGER_HASH_BYTES] = (const uint8_t(*)[LEDGER_HASH_BYTES])e->lineage;
  switch (e->kind) {
    case PROPERTY_EV_REGISTER:
    case PROPERTY_EV_TRANSFER: json_object_set_new(o, "owners", owners_json(e->owners, e->n_owners)); break;
    case PROPERTY_EV_ORIGIN: {
      json_object_set_new(o, "owners", owners_json(e->owners, e->n_owners));
      json_object_set_new(o, "parents", ids_json(lineage, e->n_lineage));
      /* Each encumbrance's number here and where it came from: a child of a
       * subdivision keeps the numbers, a merger numbers them 1..m. */
      json_t *origins = json_array();
      for (size_t i = 0; i < e->n_origins; i++) {
        const property_origin_t *og = &e->origins[i];
        uint64_t number = e->n_lineage == 1 ? og->number : i + 1;
        json_array_append_new(origins, json_pack("{s:I, s:o, s:I}", "number", (json_int_t)number, "parent",
                                                 node_api_hex(lineage[og->parent], 32), "parent_number",
                                                 (json_int_t)og->number));
      }
      json_object_set_new(o, "encumbrance_origins", origins);
      break;
    }
    case PROPERTY_EV_SUBDIVIDE: /* the children */
    case PROPERTY_EV_MERGE:     /* the one result */
      json_object_set_new(o, "children", ids_json(lineage, e->n_lineage));
      break;
    default:
      json_object_set_new(o, "encumbrance",
                          json_pack("{s:I, s:s, s:o}", "number", (json_int_t)e->number, "kind",
                                    property_enc_kind_name(e->enc_kind), "holder", node_api_hex(e->holder, 32)));
      if (e->kind == PROPERTY_EV_HOLDER_REPLACE) json_object_set_new(o, "new_holder", node_api_hex(e->new_holder, 32));
      break;
  }
  return o;
}

/* ---- helpers ---- */

static int bad_query(api_response_t *resp, const char *what) {
  api_error(resp, 400, "malformed", "%s", what);
  return VE_ERR_MALFORMED;
}

/* A read txn, the tip, and the title of id; else an error answer (404 with a
 * reason for an unknown parcel). On success the caller aborts *t. */
static int open_title(node_t *n, const uint8_t id[32], store_txn_t **t, property_title_t *title, uint64_t *tip,
                      api_response_t *resp) {
  VE_TRY(node_api_begin_read(n, t, resp));
  ledger_tip_t lt;
  int rc = ledger_tip_get(*t, &lt);
  if (rc == VE_OK) rc = property_get(*t, id, title);
  if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "no parcel with this id is registered");
  if (rc) {
    store_txn_abort(*t);
    *t = NULL;
    return rc;
  }
  *tip = lt.height;
  return VE_OK;
}

static int title_response(node_t *n, const uint8_t id[32], api_response_t *resp) {
  property_title_t *title = malloc(sizeof *title);
  if (!title) return VE_ERR_NOMEM;
  store_txn_t *t;
  uint64_t tip;
  int rc = open_title(n, id, &t, title, &tip, resp);
  if (rc == VE_OK) {
    store_txn_abort(t);
    api_respond_json(resp, 200, title_json(title, tip));
  }
  free(title);
  return rc;
}

/* ---- handlers ---- */

/* GET /v1/property/parcels/:id */
static int h_parcel(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  return title_response(ctx, id, resp);
}

/* GET /v1/property/parcels?cadastral=NUM */
static int h_parcel_by_number(void *ctx, const api_request_t *req, api_response_t *resp) {
  const char *cad = api_request_query(req, "cadastral");
  uint8_t id[32];
  if (!cad || property_parcel_id(id, cad) != VE_OK) {
    api_error(resp, 400, "malformed", "cadastral must be 1..%d characters of A-Z a-z 0-9 : . / -",
              PROPERTY_CADASTRAL_BYTES_MAX);
    return VE_ERR_MALFORMED;
  }
  return title_response(ctx, id, resp);
}

/* GET /v1/property/parcels/:id/history?from=V&limit=N — events from version V
 * (default 1), at most N (default 64, at most 256), in version order. */
static int h_history(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  uint64_t from, limit;
  if (api_request_query_u64(req, "from", 1, UINT64_MAX - 1, &from) != VE_OK || from == 0)
    return bad_query(resp, "from must be a title version: a decimal number >= 1");
  if (api_request_query_u64(req, "limit", HISTORY_PAGE_DEFAULT, PROPERTY_HISTORY_PAGE_MAX, &limit) != VE_OK ||
      limit == 0)
    return bad_query(resp, "limit must be 1..256");
  property_title_t *title = malloc(sizeof *title);
  property_event_t *e = malloc(sizeof *e);
  store_txn_t *t = NULL;
  uint64_t tip = 0;
  int rc = title && e ? open_title(ctx, id, &t, title, &tip, resp) : VE_ERR_NOMEM;
  json_t *list = json_array();
  uint64_t v = from;
  for (; rc == VE_OK && v <= title->version && json_array_size(list) < limit; v++) {
    rc = property_history_get(t, id, v, e);
    if (rc == VE_OK) json_array_append_new(list, event_json(e));
  }
  if (t) store_txn_abort(t);
  if (rc == VE_OK) {
    json_t *next = v <= title->version ? json_integer((json_int_t)v) : json_null();
    api_respond_json(resp, 200,
                     json_pack("{s:o, s:I, s:o, s:o, s:I}", "id", node_api_hex(id, 32), "version",
                               (json_int_t)title->version, "events", list, "next", next, "as_of_height",
                               (json_int_t)tip));
  } else {
    json_decref(list);
  }
  free(title);
  free(e);
  return rc;
}

/* GET /v1/property/owners/:identity?after=PARCEL&limit=N — parcels the
 * identity owns now, in parcel-id order, at most N (default 100, at most 256). */
static int h_owned(void *ctx, const api_request_t *req, api_response_t *resp) {
  node_t *n = ctx;
  uint8_t who[32], after[32];
  VE_TRY(node_api_param_hash(req, "identity", who, resp));
  const char *a = api_request_query(req, "after");
  if (a && ve_hex_decode(after, 32, a) != VE_OK) {
    api_error(resp, 400, "malformed", "after must be a parcel id: 64 hex characters");
    return VE_ERR_MALFORMED;
  }
  uint64_t limit;
  if (api_request_query_u64(req, "limit", OWNED_PAGE_DEFAULT, PROPERTY_OWNED_PAGE_MAX, &limit) != VE_OK || limit == 0)
    return bad_query(resp, "limit must be 1..256");
  uint8_t(*ids)[32] = malloc(PROPERTY_OWNED_PAGE_MAX * 32);
  property_title_t *title = malloc(sizeof *title);
  if (!ids || !title) {
    free(ids);
    free(title);
    return VE_ERR_NOMEM;
  }
  store_txn_t *t;
  int rc = node_api_begin_read(n, &t, resp);
  size_t k = 0;
  bool more = false;
  ledger_tip_t tip = {0};
  json_t *list = json_array();
  if (rc == VE_OK) {
    rc = ledger_tip_get(t, &tip);
    if (rc == VE_OK) rc = property_owned_list(t, who, a ? after : NULL, (size_t)limit, ids, &k, &more);
    for (size_t i = 0; rc == VE_OK && i < k; i++) {
      rc = property_get(t, ids[i], title);
      if (rc) break;
      uint64_t parts = 0, sum = property_parts_sum(title->owners, title->n_owners);
      for (size_t j = 0; j < title->n_owners; j++)
        if (!memcmp(title->owners[j].id, who, 32)) parts = title->owners[j].parts;
      property_owner_t me = {{0}, parts};
      memcpy(me.id, who, 32);
      json_t *o = json_pack("{s:o, s:s, s:I, s:b}", "id", node_api_hex(ids[i], 32), "cadastral", title->cadastral,
                            "version", (json_int_t)title->version, "encumbered", title->n_encumbrances > 0);
      json_t *share = owner_json(&me, sum);
      json_object_set(o, "parts", json_object_get(share, "parts"));
      json_object_set(o, "share", json_object_get(share, "share"));
      json_decref(share);
      json_array_append_new(list, o);
    }
    store_txn_abort(t);
  }
  if (rc == VE_OK) {
    json_t *next = more && k ? node_api_hex(ids[k - 1], 32) : json_null();
    api_respond_json(resp, 200,
                     json_pack("{s:o, s:o, s:o, s:I}", "identity", node_api_hex(who, 32), "parcels", list, "next",
                               next, "as_of_height", (json_int_t)tip.height));
  } else {
    json_decref(list);
  }
  free(ids);
  free(title);
  return rc;
}

/* {"id", "cadastral", "status", "version"} of each of ids, read in t. */
static int relatives_json(store_txn_t *t, const uint8_t (*ids)[LEDGER_HASH_BYTES], size_t n, property_title_t *scratch,
                          json_t *out) {
  for (size_t i = 0; i < n; i++) {
    VE_TRY(property_get(t, ids[i], scratch));
    json_array_append_new(out, json_pack("{s:o, s:s, s:s, s:I}", "id", node_api_hex(ids[i], 32), "cadastral",
                                         scratch->cadastral, "status", property_status_name(scratch->status),
                                         "version", (json_int_t)scratch->version));
  }
  return VE_OK;
}

/* GET /v1/property/parcels/:id/lineage — the parcel, the parcels it came
 * from and the ones its land went to (one level each way; follow the ids for
 * more), with their cadastral numbers and status. At most 2 x 16 reads. */
static int h_lineage(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  property_title_t *title = malloc(sizeof *title), *other = malloc(sizeof *other);
  store_txn_t *t = NULL;
  uint64_t tip = 0;
  int rc = title && other ? open_title(ctx, id, &t, title, &tip, resp) : VE_ERR_NOMEM;
  json_t *parents = json_array(), *children = json_array();
  if (rc == VE_OK)
    rc = relatives_json(t, (const uint8_t(*)[LEDGER_HASH_BYTES])title->parents, title->n_parents, other, parents);
  if (rc == VE_OK)
    rc = relatives_json(t, (const uint8_t(*)[LEDGER_HASH_BYTES])title->children, title->n_children, other, children);
  if (t) store_txn_abort(t);
  if (rc == VE_OK) {
    api_respond_json(resp, 200,
                     json_pack("{s:o, s:s, s:s, s:I, s:o, s:o, s:I}", "id", node_api_hex(id, 32), "cadastral",
                               title->cadastral, "status", property_status_name(title->status), "version",
                               (json_int_t)title->version, "parents", parents, "children", children, "as_of_height",
                               (json_int_t)tip));
  } else {
    json_decref(parents);
    json_decref(children);
  }
  free(title);
  free(other);
  return rc;
}

/* GET /v1/proofs/property/:id[?version=V][&height=H][&valsets_after=K] — the
 * title ("prop/p/" || id), or with ?version the history event of that title
 * version ("prop/h/" || id || be64(V)): present or proven absent. */
static int h_proof(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t id[32];
  VE_TRY(node_api_param_hash(req, "id", id, resp));
  if (!api_request_query(req, "version")) {
    uint8_t key[PROPERTY_TITLE_KEY_BYTES];
    return node_proof_response(ctx, req, resp, ve_slice(key, property_title_key(key, id)));
  }
  uint64_t v;
  if (api_request_query_u64(req, "version", 1, UINT64_MAX, &v) != VE_OK || v == 0)
    return bad_query(resp, "version must be a title version: a decimal number >= 1");
  uint8_t key[PROPERTY_EVENT_KEY_BYTES];
  return node_proof_response(ctx, req, resp, ve_slice(key, property_event_key(key, id, v)));
}

const api_route_t node_property_routes[] = {
    {"GET", "/v1/property/parcels", h_parcel_by_number, 0, 0},
    {"GET", "/v1/property/parcels/:id", h_parcel, 0, 0},
    {"GET", "/v1/property/parcels/:id/history", h_history, 0, 0},
    {"GET", "/v1/property/parcels/:id/lineage", h_lineage, 0, 0},
    {"GET", "/v1/property/owners/:identity", h_owned, 0, 0},
    {"GET", "/v1/proofs/property/:id", h_proof, 0, 0},
};
const size_t node_property_routes_n = sizeof node_property_routes / sizeof node_property_routes[0];
