/* node_api_pharma.c — HTTP endpoints of the pharma app (docs/pharma.md,
 * section "API"). The table is concatenated with the others by
 * node_routes_collect.
 *
 * Every handler runs on an HTTP thread with its own LMDB read transaction and
 * answers from the committed state at the tip; the verdict on a pack is for the
 * tip's block time. Identifiers in the path are checked strictly (400 with the
 * rule broken); records that do not exist are 404. Serials may hold characters
 * that are special in URLs ('/', '%', '?', '#', ...): the router splits the path
 * on '/' first and percent-decodes each segment after, so clients send every
 * byte outside [A-Za-z0-9_~-] as %XX (see `veche pharma`, which does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/pharma/pharma.h"
#include "base/err.h"
#include "node/node_int.h"

/* ---- parameters ---- */

static int param_gtin(const api_request_t *req, char out[PHARMA_GTIN_BYTES + 1], api_response_t *resp) {
  const char *g = api_request_param(req, "gtin");
  if (!pharma_gtin_ok(g)) {
    api_error(resp, 400, "malformed", "a GTIN is 14 digits with a valid GS1 check digit");
    return VE_ERR_MALFORMED;
  }
  memcpy(out, g, PHARMA_GTIN_BYTES + 1);
  return VE_OK;
}

static int country_ok(const char *c, api_response_t *resp) {
  if (pharma_country_ok(c)) return VE_OK;
  api_error(resp, 400, "malformed", "a country is two upper-case letters (ISO 3166-1 alpha-2)");
  return VE_ERR_MALFORMED;
}

/* :name, a GS1 code of 1..max characters of CSET 82 (after percent-decoding). */
static int param_code(const api_request_t *req, const char *name, size_t max, const char **out,
                      api_response_t *resp) {
  const char *s = api_request_param(req, name);
  size_t n = s ? strnlen(s, max + 1) : 0;
  if (!pharma_cset82_ok((const uint8_t *)s, n, max)) {
    api_error(resp, 400, "malformed", "a %s is 1 to %zu characters of GS1 CSET 82, percent-encoded in the path",
              name, max);
    return VE_ERR_MALFORMED;
  }
  *out = s;
  return VE_OK;
}

static int param_ref(const api_request_t *req, pharma_pack_ref_t *ref, api_response_t *resp) {
  char gtin[PHARMA_GTIN_BYTES + 1];
  const char *serial;
  VE_TRY(param_gtin(req, gtin, resp));
  VE_TRY(param_code(req, "serial", PHARMA_SERIAL_BYTES_MAX, &serial, resp));
  return pharma_pack_ref_set(ref, gtin, serial);
}

/* ---- JSON ---- */

static json_t *str_or_null(const char *s, bool present) { return present ? json_string(s) : json_null(); }

static json_t *expiry_json(uint64_t d) {
  char s[16];
  snprintf(s, sizeof s, "%04u-%02u-%02u", (unsigned)(d / 10000), (unsigned)(d / 100 % 100), (unsigned)(d % 100));
  return json_string(s);
}

static json_t *batch_json(const char *gtin, const char *batch, const pharma_batch_t *b) {
  json_t *o = json_object();
  json_object_set_new(o, "gtin", json_string(gtin));
  json_object_set_new(o, "batch", json_string(batch));
  json_object_set_new(o, "manufacturer", node_api_hex(b->manufacturer, 32));
  json_object_set_new(o, "expiry", json_integer((json_int_t)b->expiry));
  json_object_set_new(o, "expiry_date", expiry_json(b->expiry));
  json_object_set_new(o, "packs", json_integer((json_int_t)b->packs));
  json_object_set_new(o, "height", json_integer((json_int_t)b->height));
  json_object_set_new(o, "global_recall",
                      b->global_recall ? json_pack("{s:o, s:I}", "reason", node_api_hex(b->global_reason, 32),
                                                   "height", (json_int_t)b->global_height)
                                       : json_null());
  json_t *a = json_array();
  for (size_t i = 0; i < b->n_recalls; i++) {
    const pharma_recall_t *r = &b->recalls[i];
    json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:I}", "country", r->country, "regulator",
                                       node_api_hex(r->regulator, 32), "reason", node_api_hex(r->reason, 32),
                                       "height", (json_int_t)r->height));
  }
  json_object_set_new(o, "recalls", a);
  return o;
}

static json_t *pack_json(const pharma_pack_t *p) {
  uint8_t key[32];
  pharma_pack_key(key, &p->ref);
  bool transit = p->status == PHARMA_PACK_IN_TRANSIT;
  json_t *o = json_object();
  json_object_set_new(o, "gtin", json_string(p->ref.gtin));
  json_object_set_new(o, "serial", json_string(p->ref.serial));
  json_object_set_new(o, "pack_key", node_api_hex(key, 32));
  json_object_set_new(o, "batch", json_string(p->batch));
  json_object_set_new(o, "status", json_string(pharma_pack_status_name(p->status)));
  json_object_set_new(o, "reason", str_or_null(pharma_reason_name(p->reason), p->reason != PHARMA_REASON_NONE));
  json_object_set_new(o, "custodian", node_api_hex(p->custodian, 32));
  json_object_set_new(o, "country", json_string(p->country));
  json_object_set_new(o, "recipient", transit ? node_api_hex(p->recipient, 32) : json_null());
  json_object_set_new(o, "destination", str_or_null(p->dest, transit));
  json_object_set_new(o, "events", json_integer(p->n_events));
  json_object_set_new(o, "height", json_integer((json_int_t)p->height));
  json_object_set_new(o, "container", str_or_null(p->sscc, p->in_container));
  return o;
}

static json_t *event_json(uint32_t n, const pharma_event_t *e) {
  json_t *o = json_object();
  json_object_set_new(o, "n", json_integer(n));
  json_object_set_new(o, "kind", json_string(pharma_event_kind_name(e->kind)));
  json_object_set_new(o, "reason", str_or_null(pharma_reason_name(e->reason), e->reason != PHARMA_REASON_NONE));
  json_object_set_new(o, "height", json_integer((json_int_t)e->height));
  json_object_set_new(o, "from", node_api_hex(e->from, 32));
  json_object_set_new(o, "to", node_api_hex(e->to, 32));
  json_object_set_new(o, "country", json_string(e->country));
  if (e->kind == PHARMA_EVENT_AGGREGATE || e->kind == PHARMA_EVENT_DISAGGREGATE)
    json_object_set_new(o, "container", json_string(e->sscc));
  return o;
}

static void as_of(json_t *o, const ledger_tip_t *tip) {
  json_object_set_new(o, "as_of_height", json_integer((json_int_t)tip->height));
  json_object_set_new(o, "as_of_time_ms", json_integer((json_int_t)tip->last_time_ms));
}

/* Answers a read error: 404 with what is missing, else the code's status. */
static int read_error(api_response_t *resp, int rc, const char *missing) {
  if (rc == VE_ERR_NOT_FOUND) api_error(resp, 404, "not_found", "%s", missing);
  else api_error_ve(resp, rc, NULL);
  return rc;
}

/* ---- packs ---- */

/* The verdict, the pack, its batch and its events; UNKNOWN is a 404 that
 * still carries the verdict (the answer a verifier acts on). */
static json_t *verify_json(const ledger_reader_t *rd, const pharma_verify_t *v, int *rc) {
  json_t *o = json_object();
  json_object_set_new(o, "verdict", json_string(pharma_verdict_name(v->verdict)));
  json_object_set_new(o, "reason", str_or_null(pharma_reason_name(v->reason), v->reason != PHARMA_REASON_NONE));
  json_object_set_new(o, "country", v->country[0] ? json_string(v->country) : json_null());
  if (!v->found) return o;
  json_object_set_new(o, "pack", pack_json(&v->pack));
  json_object_set_new(o, "batch", batch_json(v->pack.ref.gtin, v->pack.batch, &v->batch));
  static _Thread_local pharma_event_t ev[PHARMA_PACK_EVENTS_MAX];
  size_t n = 0;
  *rc = pharma_events_get(rd, &v->pack.ref, 0, ev, PHARMA_PACK_EVENTS_MAX, &n);
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, event_json((uint32_t)i, &ev[i]));
  json_object_set_new(o, "history", a);
  return o;
}

/* GET /v1/pharma/packs/:gtin/:serial[?country=CC] */
static int h_pack(void *ctx, const api_request_t *req, api_response_t *resp) {
  pharma_pack_ref_t ref;
  VE_TRY(param_ref(req, &ref, resp));
  const char *country = api_request_query(req, "country");
  if (country) VE_TRY(country_ok(country, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(ctx, &t, resp));
  ledger_reader_t rd = {NULL, t};
  ledger_tip_t tip;
  pharma_verify_t *v = malloc(sizeof *v);
  int rc = v ? ledger_tip_get(t, &tip) : VE_ERR_NOMEM;
  if (rc == VE_OK) rc = pharma_verify_pack(&rd, ref.gtin, ref.serial, country, tip.last_time_ms, v);
  json_t *o = rc == VE_OK ? verify_json(&rd, v, &rc) : NULL;
  store_txn_abort(t);
  if (rc == VE_OK) {
    as_of(o, &tip);
    if (!v->found) {
      json_object_set_new(o, "error", json_string("not_found"));
      json_object_set_new(o, "message", json_string("never commissioned on this ledger: suspect counterfeit"));
    }
    api_respond_json(resp, v->found ? 200 : 404, o);
  } else {
    json_decref(o);
    read_error(resp, rc, "no such pack");
  }
  free(v);
  return rc;
}

/* ---- batches, products, licences, jurisdictions ---- */

/* GET /v1/pharma/batches/:gtin/:batch */
static int h_batch(void *ctx, const api_request_t *req, api_response_t *resp) {
  char gtin[PHARMA_GTIN_BYTES + 1];
  const char *batch;
  VE_TRY(param_gtin(req, gtin, resp));
  VE_TRY(param_code(req, "batch", PHARMA_BATCH_BYTES_MAX, &batch, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(ctx, &t, resp));
  ledger_reader_t rd = {NULL, t};
  pharma_batch_t *b = malloc(sizeof *b);
  ledger_tip_t tip;
  int rc = b ? ledger_tip_get(t, &tip) : VE_ERR_NOMEM;
  if (rc == VE_OK) rc = pharma_batch_get(&rd, gtin, batch, strlen(batch), b);
  store_txn_abort(t);
  if (rc == VE_OK) {
    json_t *o = batch_json(gtin, batch, b);
    json_object_set_new(o, "expired", json_boolean(pharma_expired(b->expiry, tip.last_time_ms)));
    as_of(o, &tip);
    api_respond_json(resp, 200, o);
  } else {
    read_error(resp, rc, "no such batch (no pack of it was ever commissioned)");
  }
  free(b);
  return rc;
}

/* GET /v1/pharma/products/:gtin — the product and its authorisations (at most
 * PHARMA_PRODUCT_COUNTRIES_MAX, one per country that ever decided). */
static int h_product(void *ctx, const api_request_t *req, api_response_t *resp) {
  char gtin[PHARMA_GTIN_BYTES + 1];
  VE_TRY(param_gtin(req, gtin, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(ctx, &t, resp));
  ledger_reader_t rd = {NULL, t};
  pharma_product_t *p = malloc(sizeof *p);
  int rc = p ? pharma_product_get(&rd, gtin, p) : VE_ERR_NOMEM;
  json_t *o = NULL;
  if (rc == VE_OK) {
    o = json_object();
    json_object_set_new(o, "gtin", json_string(gtin));
    json_object_set_new(o, "manufacturer", node_api_hex(p->manufacturer, 32));
    json_object_set_new(o, "data_digest", node_api_hex(p->data_digest, 32));
    json_object_set_new(o, "country", json_string(p->country));
    json_object_set_new(o, "height", json_integer((json_int_t)p->height));
    json_t *a = json_array();
    for (size_t i = 0; i < p->n_countries && rc == VE_OK; i++) {
      pharma_auth_t au;
      rc = pharma_auth_get(&rd, gtin, p->countries[i], &au);
      if (rc == VE_ERR_NOT_FOUND) rc = VE_ERR_CORRUPT; /* the list names only decided countries */
      if (rc == VE_OK)
        json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:I}", "country", p->countries[i], "status",
                                           pharma_auth_status_name(au.status), "regulator",
                                           node_api_hex(au.regulator, 32), "height", (json_int_t)au.height));
    }
    json_object_set_new(o, "authorisations", a);
  }
  store_txn_abort(t);
  free(p);
  if (rc == VE_OK) api_respond_json(resp, 200, o);
  else json_decref(o), read_error(resp, rc, "no product with this GTIN");
  return rc;
}

/* GET /v1/pharma/licences/:country/:party */
static int h_licence(void *ctx, const api_request_t *req, api_response_t *resp) {
  const char *country = api_request_param(req, "country");
  uint8_t party[32];
  VE_TRY(country_ok(country, resp));
  VE_TRY(node_api_param_hash(req, "party", party, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(ctx, &t, resp));
  ledger_reader_t rd = {NULL, t};
  pharma_licence_t l;
  int rc = pharma_licence_get(&rd, country, party, &l);
  store_txn_abort(t);
  if (rc) return read_error(resp, rc, "this party holds no licence in this country");
  char kinds[64];
  pharma_kinds_names(l.kinds, kinds, sizeof kinds);
  api_respond_json(resp, 200,
                   json_pack("{s:s, s:o, s:s, s:i, s:s, s:o, s:I}", "country", country, "party", node_api_hex(party, 32),
                             "kinds", kinds, "kinds_mask", (int)l.kinds, "status", pharma_licence_status_name(l.status),
                             "issuer", node_api_hex(l.issuer, 32), "height", (json_int_t)l.height));
  return VE_OK;
}

/* GET /v1/pharma/jurisdictions/:regulator */
static int h_jurisdiction(void *ctx, const api_request_t *req, api_response_t *resp) {
  uint8_t reg[32];
  VE_TRY(node_api_param_hash(req, "regulator", reg, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(ctx, &t, resp));
  ledger_reader_t rd = {NULL, t};
  pharma_jurisdiction_t j;
  int rc = pharma_jurisdiction_get(&rd, reg, &j);
  store_txn_abort(t);
  if (rc) return read_error(resp, rc, "this identity speaks for no country");
  api_respond_json(resp, 200, json_pack("{s:o, s:s, s:I}", "regulator", node_api_hex(reg, 32), "country", j.country,
                                        "height", (json_int_t)j.height));
  return VE_OK;
}

/* ---- containers ---- */

static int param_sscc(const api_request_t *req, char out[PHARMA_SSCC_BYTES + 1], api_response_t *resp) {
  const char *s = api_request_param(req, "sscc");
  if (!pharma_sscc_ok(s)) {
    api_error(resp, 400, "malformed", "an SSCC is 18 digits with a valid GS1 check digit");
    return VE_ERR_MALFORMED;
  }
  memcpy(out, s, PHARMA_SSCC_BYTES + 1);
  return VE_OK;
}

/* The container with each listed pack resolved to {gtin, serial, status}
 * (at most PHARMA_CONTAINER_PACKS_MAX reads). */
static json_t *container_json(const ledger_reader_t *rd, const char *sscc, const pharma_container_t *c, int *rc) {
  bool transit = c->status == PHARMA_CONTAINER_IN_TRANSIT;
  json_t *o = json_object();
  json_object_set_new(o, "sscc", json_string(sscc));
  json_object_set_new(o, "status", json_string(pharma_container_status_name(c->status)));
  json_object_set_new(o, "custodian", node_api_hex(c->custodian, 32));
  json_object_set_new(o, "country", json_string(c->country));
  json_object_set_new(o, "recipient", transit ? node_api_hex(c->recipient, 32) : json_null());
  json_object_set_new(o, "destination", str_or_null(c->dest, transit));
  json_object_set_new(o, "packer", node_api_hex(c->packer, 32));
  json_object_set_new(o, "packed_height", json_integer((json_int_t)c->packed_height));
  json_object_set_new(o, "height", json_integer((json_int_t)c->height));
  json_t *a = json_array();
  for (size_t i = 0; i < c->n_packs && *rc == VE_OK; i++) {
    pharma_pack_t p;
    *rc = pharma_pack_get_by_key(rd, c->packs[i], &p);
    if (*rc == VE_ERR_NOT_FOUND) *rc = VE_ERR_CORRUPT; /* a container lists only packs that exist */
    if (*rc == VE_OK)
      json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "gtin", p.ref.gtin, "serial", p.ref.serial, "status",
                                         pharma_pack_status_name(p.status)));
  }
  json_object_set_new(o, "packs", a);
  return o;
}

/* GET /v1/pharma/containers/:sscc */
static int h_container(void *ctx, const api_request_t *req, api_response_t *resp) {
  char sscc[PHARMA_SSCC_BYTES + 1];
  VE_TRY(param_sscc(req, sscc, resp));
  store_txn_t *t;
  VE_TRY(node_api_begin_read(ctx, &t, resp));
  ledger_reader_t rd = {NULL, t};
  pharma_container_t *c = malloc(sizeof *c);
  ledger_tip_t tip;
  int rc = c ? ledger_tip_get(t, &tip) : VE_ERR_NOMEM;
  if (rc == VE_OK) rc = pharma_container_get(&rd, sscc, c);
  json_t *o = rc == VE_OK ? container_json(&rd, sscc, c, &rc) : NULL;
  store_txn_abort(t);
  free(c);
  if (rc == VE_OK) {
    as_of(o, &tip);
    api_respond_json(resp, 200, o);
  } else {
    json_decref(o);
    read_error(resp, rc, "no container with this SSCC was ever aggregated");
  }
  return rc;
}

/* ---- proofs (docs/proofs.md bundles; `veche verify` checks them offline) ---- */

/* GET /v1/proofs/pharma/packs/:gtin/:serial — "phr/k/" || pack key; absent
 * proves the code was never commissioned at that height. */
static int h_proof_pack(void *ctx, const api_request_t *req, api_response_t *resp) {
  pharma_pack_ref_t ref;
  VE_TRY(param_ref(req, &ref, resp));
  uint8_t pk[32], key[PHARMA_KEY_BYTES_MAX];
  pharma_pack_key(pk, &ref);
  return node_proof_response(ctx, req, resp, ve_slice(key, pharma_pack_state_key(key, pk)));
}

/* GET /v1/proofs/pharma/batches/:gtin/:batch — recalls and expiry. */
static int h_proof_batch(void *ctx, const api_request_t *req, api_response_t *resp) {
  char gtin[PHARMA_GTIN_BYTES + 1];
  const char *batch;
  VE_TRY(param_gtin(req, gtin, resp));
  VE_TRY(param_code(req, "batch", PHARMA_BATCH_BYTES_MAX, &batch, resp));
  uint8_t key[PHARMA_KEY_BYTES_MAX];
  return node_proof_response(ctx, req, resp, ve_slice(key, pharma_batch_key(key, gtin, batch, strlen(batch))));
}

/* GET /v1/proofs/pharma/products/:gtin */
static int h_proof_product(void *ctx, const api_request_t *req, api_response_t *resp) {
  char gtin[PHARMA_GTIN_BYTES + 1];
  VE_TRY(param_gtin(req, gtin, resp));
  uint8_t key[PHARMA_KEY_BYTES_MAX];
  return node_proof_response(ctx, req, resp, ve_slice(key, pharma_product_key(key, gtin)));
}

/* GET /v1/proofs/pharma/authorisations/:gtin/:country */
static int h_proof_auth(void *ctx, const api_request_t *req, api_response_t *resp) {
  char gtin[PHARMA_GTIN_BYTES + 1];
  VE_TRY(param_gtin(req, gtin, resp));
  const char *country = api_request_param(req, "country");
  VE_TRY(country_ok(country, resp));
  uint8_t key[PHARMA_KEY_BYTES_MAX];
  return node_proof_response(ctx, req, resp, ve_slice(key, pharma_auth_key(key, gtin, country)));
}

/* GET /v1/proofs/pharma/licences/:country/:party */
static int h_proof_licence(void *ctx, const api_request_t *req, api_response_t *resp) {
  const char *country = api_request_param(req, "country");
  uint8_t party[32], key[PHARMA_KEY_BYTES_MAX];
  VE_TRY(country_ok(country, resp));
  VE_TRY(node_api_param_hash(req, "party", party, resp));
  return node_proof_response(ctx, req, resp, ve_slice(key, pharma_licence_key(key, country, party)));
}

/* GET /v1/proofs/pharma/containers/:sscc — "phr/c/" || sscc; absent proves the
 * SSCC was never used at that height. */
static int h_proof_container(void *ctx, const api_request_t *req, api_response_t *resp) {
  char sscc[PHARMA_SSCC_BYTES + 1];
  VE_TRY(param_sscc(req, sscc, resp));
  uint8_t key[PHARMA_KEY_BYTES_MAX];
  return node_proof_response(ctx, req, resp, ve_slice(key, pharma_container_key(key, sscc)));
}

const api_route_t node_pharma_routes[] = {
    {"GET", "/v1/pharma/packs/:gtin/:serial", h_pack, 0, 0},
    {"GET", "/v1/pharma/batches/:gtin/:batch", h_batch, 0, 0},
    {"GET", "/v1/pharma/products/:gtin", h_product, 0, 0},
    {"GET", "/v1/pharma/licences/:country/:party", h_licence, 0, 0},
    {"GET", "/v1/pharma/jurisdictions/:regulator", h_jurisdiction, 0, 0},
    {"GET", "/v1/pharma/containers/:sscc", h_container, 0, 0},
    {"GET", "/v1/proofs/pharma/packs/:gtin/:serial", h_proof_pack, 0, 0},
    {"GET", "/v1/proofs/pharma/batches/:gtin/:batch", h_proof_batch, 0, 0},
    {"GET", "/v1/proofs/pharma/products/:gtin", h_proof_product, 0, 0},
    {"GET", "/v1/proofs/pharma/authorisations/:gtin/:country", h_proof_auth, 0, 0},
    {"GET", "/v1/proofs/pharma/licences/:country/:party", h_proof_licence, 0, 0},
    {"GET", "/v1/proofs/pharma/containers/:sscc", h_proof_container, 0, 0},
};
const size_t node_pharma_routes_n = sizeof node_pharma_routes / sizeof node_pharma_routes[0];
