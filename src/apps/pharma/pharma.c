/* pharma.c — validation and state transitions of pharma transactions, reads of
 * pharma state, and the verification answer. The pack state machine and its
 * invariants are in pharma.h; the permission table and every refusal are in
 * docs/pharma.md. Every apply_* works on a payload decoded strictly first
 * (pharma_payload_decode), then checks permission, then the state; any error
 * leaves the state untouched (the ledger rolls the transaction back), which is
 * what makes multi-pack transactions all-or-nothing. */
#include "apps/pharma/pharma.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apps/identity/identity.h"
#include "base/err.h"

/* Kinds a recipient needs to take custody (MANUFACTURER only for returns). */
#define RECEIVING_KINDS (PHARMA_KIND_WHOLESALER | PHARMA_KIND_DISPENSER)
/* Events a ship leaves room for after itself: the receive and a terminal event. */
#define SHIP_EVENTS_RESERVED 2
/* An aggregate: a ship, the receive, the disaggregate and a terminal event. */
#define AGGREGATE_EVENTS_RESERVED 4
/* A container ship: the receive, the disaggregate and a terminal event. */
#define CONTAINER_SHIP_EVENTS_RESERVED 3

static const uint8_t ZERO_ID[LEDGER_HASH_BYTES];

/* ---- typed state access ----
 * LOAD_FN(name, type, dec) defines name(rd, key, key_len, out): the value
 * under key, decoded. STORE_FN(name, type, enc) defines name(ex, key, key_len,
 * rec): rec encoded on the stack (every value is below PHARMA_VALUE_BYTES_MAX;
 * ledger_state_put copies it). */
#define LOAD_FN(name, type, dec)                                                              \
  static int name(const ledger_reader_t *rd, const uint8_t *k, size_t kl, type *out) {       \
    ve_slice_t v;                                                                             \
    VE_TRY(ledger_reader_get(rd, ve_slice(k, kl), &v));                                       \
    return dec(v, out);                                                                       \
  }
#define STORE_FN(name, type, enc)                                                             \
  static int name(ledger_exec_t *ex, const uint8_t *k, size_t kl, const type *rec) {         \
    uint8_t mem[PHARMA_VALUE_BYTES_MAX];                                                      \
    ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};                                            \
    VE_TRY(enc(rec, &b));                                                                     \
    return ledger_state_put(ex, ve_slice(k, kl), ve_slice(mem, b.len));                      \
  }
LOAD_FN(load_jurisdiction, pharma_jurisdiction_t, pharma_jurisdiction_decode)
LOAD_FN(load_licence, pharma_licence_t, pharma_licence_decode)
LOAD_FN(load_product, pharma_product_t, pharma_product_decode)
LOAD_FN(load_auth, pharma_auth_t, pharma_auth_decode)
LOAD_FN(load_batch, pharma_batch_t, pharma_batch_decode)
LOAD_FN(load_pack, pharma_pack_t, pharma_pack_decode)
LOAD_FN(load_event, pharma_event_t, pharma_event_decode)
STORE_FN(store_jurisdiction, pharma_jurisdiction_t, pharma_jurisdiction_encode)
STORE_FN(store_licence, pharma_licence_t, pharma_licence_encode)
STORE_FN(store_product, pharma_product_t, pharma_product_encode)
STORE_FN(store_auth, pharma_auth_t, pharma_auth_encode)
STORE_FN(store_batch, pharma_batch_t, pharma_batch_encode)
STORE_FN(store_pack, pharma_pack_t, pharma_pack_encode)
STORE_FN(store_event, pharma_event_t, pharma_event_encode)

/* ---- reads ---- */

int pharma_jurisdiction_get(const ledger_reader_t *rd, const uint8_t regulator[LEDGER_HASH_BYTES],
                            pharma_jurisdiction_t *out) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return load_jurisdiction(rd, k, pharma_jurisdiction_key(k, regulator), out);
}

int pharma_licence_get(const ledger_reader_t *rd, const char *country, const uint8_t party[LEDGER_HASH_BYTES],
                       pharma_licence_t *out) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return load_licence(rd, k, pharma_licence_key(k, country, party), out);
}

int pharma_product_get(const ledger_reader_t *rd, const char *gtin, pharma_product_t *out) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return load_product(rd, k, pharma_product_key(k, gtin), out);
}

int pharma_auth_get(const ledger_reader_t *rd, const char *gtin, const char *country, pharma_auth_t *out) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return load_auth(rd, k, pharma_auth_key(k, gtin, country), out);
}

int pharma_batch_get(const ledger_reader_t *rd, const char *gtin, const char *batch, size_t batch_len,
                     pharma_batch_t *out) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return load_batch(rd, k, pharma_batch_key(k, gtin, batch, batch_len), out);
}

static int pack_get_by_key(const ledger_reader_t *rd, const uint8_t pk[LEDGER_HASH_BYTES], pharma_pack_t *out) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return load_pack(rd, k, pharma_pack_state_key(k, pk), out);
}

int pharma_pack_get_by_key(const ledger_reader_t *rd, const uint8_t pack_key[LEDGER_HASH_BYTES], pharma_pack_t *out) {
  VE_TRY(pack_get_by_key(rd, pack_key, out));
  uint8_t pk[LEDGER_HASH_BYTES];
  pharma_pack_key(pk, &out->ref);
  return memcmp(pk, pack_key, LEDGER_HASH_BYTES) == 0 ? VE_OK : VE_ERR_CORRUPT;
}

int pharma_container_get(const ledger_reader_t *rd, const char *sscc, pharma_container_t *out) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(k, pharma_container_key(k, sscc)), &v));
  return pharma_container_decode(v, out);
}

int pharma_pack_get(const ledger_reader_t *rd, const pharma_pack_ref_t *ref, pharma_pack_t *out) {
  uint8_t pk[LEDGER_HASH_BYTES];
  pharma_pack_key(pk, ref);
  VE_TRY(pack_get_by_key(rd, pk, out));
  /* The record names its own code; another one under this key would be a hash collision or corruption. */
  if (pharma_pack_ref_cmp(&out->ref, ref) != 0) return VE_ERR_CORRUPT;
  return VE_OK;
}

int pharma_events_get(const ledger_reader_t *rd, const pharma_pack_ref_t *ref, uint32_t first,
                      pharma_event_t *events, size_t cap, size_t *n) {
  *n = 0;
  pharma_pack_t p;
  VE_TRY(pharma_pack_get(rd, ref, &p));
  uint8_t pk[LEDGER_HASH_BYTES], k[PHARMA_KEY_BYTES_MAX];
  pharma_pack_key(pk, ref);
  for (uint32_t i = first; i < p.n_events && *n < cap; i++) {
    int rc = load_event(rd, k, pharma_event_key(k, pk, i), &events[*n]);
    if (rc == VE_ERR_NOT_FOUND) rc = VE_ERR_CORRUPT; /* the record promised it */
    VE_TRY(rc);
    (*n)++;
  }
  return VE_OK;
}

bool pharma_batch_recalled(const pharma_batch_t *b, const char *country) {
  if (b->global_recall) return true;
  for (size_t i = 0; country && i < b->n_recalls; i++)
    if (!memcmp(b->recalls[i].country, country, PHARMA_COUNTRY_BYTES)) return true;
  return false;
}

/* ---- the verification answer ---- */

const char *pharma_verdict_name(pharma_verdict_t v) {
  switch (v) {
    case PHARMA_VERDICT_GENUINE_ACTIVE: return "GENUINE_ACTIVE";
    case PHARMA_VERDICT_UNKNOWN: return "UNKNOWN";
    case PHARMA_VERDICT_ALREADY_DISPENSED: return "ALREADY_DISPENSED";
    case PHARMA_VERDICT_DECOMMISSIONED: return "DECOMMISSIONED";
    case PHARMA_VERDICT_RECALLED: return "RECALLED";
    case PHARMA_VERDICT_EXPIRED: return "EXPIRED";
    case PHARMA_VERDICT_NOT_AUTHORISED_HERE: return "NOT_AUTHORISED_HERE";
    case PHARMA_VERDICT_IN_TRANSIT: return "IN_TRANSIT";
    case PHARMA_VERDICT_ELSEWHERE: return "ELSEWHERE";
  }
  return "unknown";
}

static bool authorised(const ledger_reader_t *rd, const char *gtin, const char *country, int *err) {
  pharma_auth_t a;
  int rc = pharma_auth_get(rd, gtin, country, &a);
  *err = rc == VE_ERR_NOT_FOUND ? VE_OK : rc;
  return rc == VE_OK && a.status == PHARMA_AUTHORISED;
}

static pharma_verdict_t verdict_of(const ledger_reader_t *rd, pharma_verify_t *out, uint64_t time_ms, int *err) {
  const pharma_pack_t *p = &out->pack;
  *err = VE_OK;
  if (p->status == PHARMA_PACK_DECOMMISSIONED) return out->reason = p->reason, PHARMA_VERDICT_DECOMMISSIONED;
  if (p->status == PHARMA_PACK_DISPENSED) return PHARMA_VERDICT_ALREADY_DISPENSED;
  if (pharma_batch_recalled(&out->batch, out->country)) return PHARMA_VERDICT_RECALLED;
  if (pharma_expired(out->batch.expiry, time_ms)) return PHARMA_VERDICT_EXPIRED;
  if (p->status == PHARMA_PACK_IN_TRANSIT) return PHARMA_VERDICT_IN_TRANSIT;
  if (memcmp(p->country, out->country, PHARMA_COUNTRY_BYTES) != 0) return PHARMA_VERDICT_ELSEWHERE;
  if (!authorised(rd, p->ref.gtin, out->country, err)) return PHARMA_VERDICT_NOT_AUTHORISED_HERE;
  return PHARMA_VERDICT_GENUINE_ACTIVE;
}

int pharma_verify_pack(const ledger_reader_t *rd, const char *gtin, const char *serial, const char *country,
                       uint64_t time_ms, pharma_verify_t *out) {
  memset(out, 0, sizeof *out);
  pharma_pack_ref_t ref;
  if (pharma_pack_ref_set(&ref, gtin, serial) || (country && !pharma_country_ok(country))) return VE_ERR_INVALID;
  if (country) memcpy(out->country, country, PHARMA_COUNTRY_BYTES + 1);
  int rc = pharma_pack_get(rd, &ref, &out->pack);
  if (rc == VE_ERR_NOT_FOUND) {
    memset(&out->pack, 0, sizeof out->pack);
    out->verdict = PHARMA_VERDICT_UNKNOWN;
    return VE_OK;
  }
  VE_TRY(rc);
  out->found = true;
  if (!country) memcpy(out->country, out->pack.country, PHARMA_COUNTRY_BYTES + 1);
  /* Every commissioned pack has its batch: missing means corrupt state. */
  rc = pharma_batch_get(rd, gtin, out->pack.batch, out->pack.batch_len, &out->batch);
  if (rc == VE_ERR_NOT_FOUND) rc = VE_ERR_CORRUPT;
  VE_TRY(rc);
  out->has_batch = true;
  out->verdict = verdict_of(rd, out, time_ms, &rc);
  return rc;
}

/* ---- permissions ---- */

static bool same_id(const uint8_t a[LEDGER_HASH_BYTES], const uint8_t b[LEDGER_HASH_BYTES]) {
  return memcmp(a, b, LEDGER_HASH_BYTES) == 0;
}

static bool same_country(const char *a, const char *b) { return memcmp(a, b, PHARMA_COUNTRY_BYTES) == 0; }

/* The signer is a regulator whose jurisdiction is country. */
static int regulator_of(const ledger_reader_t *rd, const ledger_signer_t *s, const char *country) {
  if (!(s->roles & ROLE_REGULATOR)) return VE_ERR_PERMISSION;
  pharma_jurisdiction_t j;
  int rc = pharma_jurisdiction_get(rd, s->identity_id, &j);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_PERMISSION;
  VE_TRY(rc);
  return same_country(j.country, country) ? VE_OK : VE_ERR_PERMISSION;
}

/* party holds an ACTIVE licence in country with any of kinds; else `refusal`. */
static int licensed(const ledger_reader_t *rd, const char *country, const uint8_t party[LEDGER_HASH_BYTES],
                    uint32_t kinds, int refusal) {
  pharma_licence_t l;
  int rc = pharma_licence_get(rd, country, party, &l);
  if (rc == VE_ERR_NOT_FOUND) return refusal;
  VE_TRY(rc);
  return l.status == PHARMA_LICENCE_ACTIVE && (l.kinds & kinds) ? VE_OK : refusal;
}

/* Kinds that let party take custody of a pack of product p: a wholesaler or
 * dispenser, or the product's own manufacturer (a return). */
static uint32_t receiving_kinds(const pharma_product_t *p, const uint8_t party[LEDGER_HASH_BYTES]) {
  return RECEIVING_KINDS | (same_id(p->manufacturer, party) ? PHARMA_KIND_MANUFACTURER : 0);
}

/* ---- writes ---- */

static int put_pack(ledger_exec_t *ex, const pharma_pack_t *p) {
  uint8_t pk[LEDGER_HASH_BYTES], k[PHARMA_KEY_BYTES_MAX];
  pharma_pack_key(pk, &p->ref);
  return store_pack(ex, k, pharma_pack_state_key(k, pk), p);
}

/* Appends event e to pack p (n_events grows, height set) and stores both. */
static int pack_event(ledger_exec_t *ex, pharma_pack_t *p, pharma_event_t *e) {
  VE_ASSERT(p->n_events < PHARMA_PACK_EVENTS_MAX);
  uint8_t pk[LEDGER_HASH_BYTES], k[PHARMA_KEY_BYTES_MAX];
  pharma_pack_key(pk, &p->ref);
  e->height = p->height = ledger_exec_height(ex);
  VE_TRY(store_event(ex, k, pharma_event_key(k, pk, p->n_events), e));
  p->n_events++;
  return put_pack(ex, p);
}

static void event_init(pharma_event_t *e, pharma_event_kind_t kind, const uint8_t *from, const uint8_t *to,
                       const char *country) {
  memset(e, 0, sizeof *e);
  e->kind = kind;
  memcpy(e->from, from, LEDGER_HASH_BYTES);
  memcpy(e->to, to, LEDGER_HASH_BYTES);
  memcpy(e->country, country, PHARMA_COUNTRY_BYTES);
}

/* ---- transactions ---- */

/* Everything one transaction needs beside its payload (kept off the stack). */
typedef struct {
  pharma_product_t product;
  pharma_batch_t batch;
  pharma_pack_t pack;
  pharma_event_t event;
  pharma_container_t container; /* ~32 KiB */
} scratch_t;

static int apply_jurisdiction(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s) {
  if (!(s->roles & ROLE_ADMIN)) return VE_ERR_PERMISSION;
  uint8_t key[3 + LEDGER_HASH_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_state_get(ex, ve_slice(key, identity_state_key(key, tx->party)), &v));
  identity_t who;
  VE_TRY(identity_decode(v, tx->party, &who));
  if (who.status == IDENTITY_REVOKED) return VE_ERR_REVOKED;
  if (who.status == IDENTITY_SUSPENDED) return VE_ERR_SUSPENDED;
  if (!(who.roles & ROLE_REGULATOR)) return VE_ERR_NOT_ELIGIBLE;
  pharma_jurisdiction_t j = {.height = ledger_exec_height(ex)};
  memcpy(j.country, tx->country, sizeof j.country);
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return store_jurisdiction(ex, k, pharma_jurisdiction_key(k, tx->party), &j);
}

static int apply_license(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s) {
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(regulator_of(&rd, s, tx->country));
  uint8_t ik[3 + LEDGER_HASH_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_state_get(ex, ve_slice(ik, identity_state_key(ik, tx->party)), &v)); /* the party exists */
  pharma_licence_t l;
  int rc = pharma_licence_get(&rd, tx->country, tx->party, &l);
  if (rc == VE_OK && l.status == PHARMA_LICENCE_REVOKED) return VE_ERR_STATE; /* revocation is final */
  if (rc != VE_OK && rc != VE_ERR_NOT_FOUND) return rc;
  l = (pharma_licence_t){.kinds = tx->kinds, .status = (pharma_licence_status_t)tx->status,
                         .height = ledger_exec_height(ex)};
  memcpy(l.issuer, s->identity_id, LEDGER_HASH_BYTES);
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return store_licence(ex, k, pharma_licence_key(k, tx->country, tx->party), &l);
}

static int apply_product_register(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s,
                                  scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(licensed(&rd, tx->country, s->identity_id, PHARMA_KIND_MANUFACTURER, VE_ERR_PERMISSION));
  int rc = pharma_product_get(&rd, tx->gtin, &sc->product);
  if (rc == VE_OK) return VE_ERR_EXISTS;
  if (rc != VE_ERR_NOT_FOUND) return rc;
  pharma_product_t *p = &sc->product;
  memset(p, 0, sizeof *p);
  memcpy(p->manufacturer, s->identity_id, LEDGER_HASH_BYTES);
  memcpy(p->data_digest, tx->digest, PHARMA_DIGEST_BYTES);
  memcpy(p->country, tx->country, sizeof p->country);
  p->height = ledger_exec_height(ex);
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return store_product(ex, k, pharma_product_key(k, tx->gtin), p);
}

/* Adds country to the product's sorted list of authorisation countries. */
static int product_add_country(pharma_product_t *p, const char *country) {
  size_t i = 0;
  while (i < p->n_countries && memcmp(p->countries[i], country, PHARMA_COUNTRY_BYTES) < 0) i++;
  if (i < p->n_countries && same_country(p->countries[i], country)) return VE_OK;
  if (p->n_countries == PHARMA_PRODUCT_COUNTRIES_MAX) return VE_ERR_LIMIT;
  memmove(p->countries[i + 1], p->countries[i], (p->n_countries - i) * sizeof p->countries[0]);
  memset(p->countries[i], 0, sizeof p->countries[0]);
  memcpy(p->countries[i], country, PHARMA_COUNTRY_BYTES);
  p->n_countries++;
  return VE_OK;
}

static int apply_product_authorise(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s,
                                   scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(regulator_of(&rd, s, tx->country));
  VE_TRY(pharma_product_get(&rd, tx->gtin, &sc->product));
  pharma_auth_t a;
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  int rc = pharma_auth_get(&rd, tx->gtin, tx->country, &a);
  if (rc == VE_OK && a.status == tx->status) return VE_ERR_EXISTS; /* a repeat changes nothing */
  if (rc == VE_ERR_NOT_FOUND && tx->status == PHARMA_WITHDRAWN) return VE_ERR_NOT_FOUND; /* nothing to withdraw */
  if (rc == VE_ERR_NOT_FOUND) {
    VE_TRY(product_add_country(&sc->product, tx->country));
    VE_TRY(store_product(ex, k, pharma_product_key(k, tx->gtin), &sc->product));
  } else if (rc != VE_OK) {
    return rc;
  }
  a = (pharma_auth_t){.status = (pharma_auth_status_t)tx->status, .height = ledger_exec_height(ex)};
  memcpy(a.regulator, s->identity_id, LEDGER_HASH_BYTES);
  return store_auth(ex, k, pharma_auth_key(k, tx->gtin, tx->country), &a);
}

static bool any_recall(const pharma_batch_t *b) { return b->global_recall || b->n_recalls > 0; }

/* The batch a commission adds to: new, or existing with the same expiry and no recall. */
static int commission_batch(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, pharma_batch_t *b) {
  ledger_reader_t rd = {ex, NULL};
  int rc = pharma_batch_get(&rd, tx->gtin, tx->batch, tx->batch_len, b);
  if (rc == VE_OK) {
    if (b->expiry != tx->expiry) return VE_ERR_INVALID; /* fixed by the first commission */
    if (any_recall(b)) return VE_ERR_STATE;             /* no new packs into a recalled batch */
    return VE_OK;
  }
  if (rc != VE_ERR_NOT_FOUND) return rc;
  memset(b, 0, sizeof *b);
  memcpy(b->manufacturer, s->identity_id, LEDGER_HASH_BYTES);
  b->expiry = tx->expiry;
  b->height = ledger_exec_height(ex);
  return VE_OK;
}

static int apply_commission(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  pharma_product_t *prod = &sc->product;
  VE_TRY(pharma_product_get(&rd, tx->gtin, prod));
  if (!same_id(prod->manufacturer, s->identity_id)) return VE_ERR_PERMISSION;
  VE_TRY(licensed(&rd, prod->country, s->identity_id, PHARMA_KIND_MANUFACTURER, VE_ERR_PERMISSION));
  if (pharma_expired(tx->expiry, ledger_exec_time_ms(ex))) return VE_ERR_EXPIRED;
  VE_TRY(commission_batch(ex, tx, s, &sc->batch));
  for (size_t i = 0; i < tx->n_packs; i++) {
    int rc = pharma_pack_get(&rd, &tx->packs[i], &sc->pack);
    if (rc == VE_OK) return VE_ERR_EXISTS; /* a serial is commissioned once, ever */
    if (rc != VE_ERR_NOT_FOUND) return rc;
    pharma_pack_t *p = &sc->pack;
    memset(p, 0, sizeof *p);
    p->ref = tx->packs[i];
    memcpy(p->batch, tx->batch, sizeof p->batch);
    p->batch_len = tx->batch_len;
    p->status = PHARMA_PACK_ACTIVE;
    memcpy(p->custodian, s->identity_id, LEDGER_HASH_BYTES);
    memcpy(p->country, prod->country, sizeof p->country);
    event_init(&sc->event, PHARMA_EVENT_COMMISSION, s->identity_id, s->identity_id, prod->country);
    VE_TRY(pack_event(ex, p, &sc->event));
  }
  sc->batch.packs += tx->n_packs;
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return store_batch(ex, k, pharma_batch_key(k, tx->gtin, tx->batch, tx->batch_len), &sc->batch);
}

/* Loads pack i of the payload with its product and batch; the signer must be
 * its custodian. */
static int held_by(ledger_exec_t *ex, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  const pharma_pack_t *p = &sc->pack;
  if (!same_id(p->custodian, s->identity_id)) return VE_ERR_PERMISSION;
  int rc = pharma_product_get(&rd, p->ref.gtin, &sc->product);
  if (rc == VE_OK) rc = pharma_batch_get(&rd, p->ref.gtin, p->batch, p->batch_len, &sc->batch);
  return rc == VE_ERR_NOT_FOUND ? VE_ERR_CORRUPT : rc; /* a pack's product and batch always exist */
}

static int load_held(ledger_exec_t *ex, const pharma_pack_ref_t *ref, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(pharma_pack_get(&rd, ref, &sc->pack));
  return held_by(ex, s, sc);
}

/* A pack a container lists: it exists (else the state is corrupt). */
static int load_listed(ledger_exec_t *ex, const uint8_t pk[LEDGER_HASH_BYTES], pharma_pack_t *p) {
  ledger_reader_t rd = {ex, NULL};
  int rc = pharma_pack_get_by_key(&rd, pk, p);
  return rc == VE_ERR_NOT_FOUND ? VE_ERR_CORRUPT : rc;
}

/* sscc NULL (a pack-level transaction): the pack must be in no container,
 * else invalid_state (disaggregate first). sscc set (a container-level one):
 * the pack must name that container — the container lists it, so anything
 * else is a broken invariant. */
static int container_check(const pharma_pack_t *p, const char *sscc) {
  if (!sscc) return p->in_container ? VE_ERR_STATE : VE_OK;
  return p->in_container && !memcmp(p->sscc, sscc, PHARMA_SSCC_BYTES) ? VE_OK : VE_ERR_CORRUPT;
}

/* May this pack of product/batch enter country (authorised there, not
 * recalled there, not expired)? Returns to the manufacturer are exempt. */
static int may_enter(ledger_exec_t *ex, const scratch_t *sc, const char *country, bool is_return) {
  if (is_return) return VE_OK;
  ledger_reader_t rd = {ex, NULL};
  int err;
  if (!authorised(&rd, sc->pack.ref.gtin, country, &err)) return err ? err : VE_ERR_PERMISSION;
  if (pharma_batch_recalled(&sc->batch, country)) return VE_ERR_STATE;
  if (pharma_expired(sc->batch.expiry, ledger_exec_time_ms(ex))) return VE_ERR_EXPIRED;
  return VE_OK;
}

/* The SHIP rules for one held pack (sc->pack, product and batch loaded by
 * load_held / held_by), shared by SHIP and SHIP_CONTAINERS: ACTIVE, in the
 * right container (sscc, or none), room for the ship and `reserved` events
 * after it, the shipper licensed where it holds the pack, the recipient
 * licensed in the destination, the product allowed to enter it; then the
 * pack goes IN_TRANSIT with its SHIP event. */
static int ship_held(ledger_exec_t *ex, const ledger_signer_t *s, scratch_t *sc, const uint8_t *to, const char *dest,
                     uint32_t reserved, const char *sscc) {
  ledger_reader_t rd = {ex, NULL};
  pharma_pack_t *p = &sc->pack;
  if (p->status != PHARMA_PACK_ACTIVE) return VE_ERR_STATE;
  VE_TRY(container_check(p, sscc));
  if (p->n_events + 1 + reserved > PHARMA_PACK_EVENTS_MAX) return VE_ERR_LIMIT;
  /* The shipper must still be licensed where it holds the pack. */
  VE_TRY(licensed(&rd, p->country, s->identity_id, PHARMA_KIND_MASK, VE_ERR_PERMISSION));
  VE_TRY(licensed(&rd, dest, to, receiving_kinds(&sc->product, to), VE_ERR_NOT_ELIGIBLE));
  VE_TRY(may_enter(ex, sc, dest, same_id(sc->product.manufacturer, to)));
  p->status = PHARMA_PACK_IN_TRANSIT;
  memcpy(p->recipient, to, LEDGER_HASH_BYTES);
  memcpy(p->dest, dest, PHARMA_COUNTRY_BYTES);
  event_init(&sc->event, PHARMA_EVENT_SHIP, s->identity_id, to, dest);
  return pack_event(ex, p, &sc->event);
}

static int apply_ship(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  for (size_t i = 0; i < tx->n_packs; i++) {
    VE_TRY(load_held(ex, &tx->packs[i], s, sc));
    VE_TRY(ship_held(ex, s, sc, tx->party, tx->country, SHIP_EVENTS_RESERVED, NULL));
  }
  return VE_OK;
}

/* The RECEIVE rules for one loaded pack (sc->pack), shared by RECEIVE and
 * RECEIVE_CONTAINERS: IN_TRANSIT, in the right container (sscc, or none),
 * the signer is the named recipient and still licensed to receive in the
 * destination; then the pack is ACTIVE there with its RECEIVE event. */
static int receive_loaded(ledger_exec_t *ex, const ledger_signer_t *s, scratch_t *sc, const char *sscc) {
  ledger_reader_t rd = {ex, NULL};
  pharma_pack_t *p = &sc->pack;
  if (p->status != PHARMA_PACK_IN_TRANSIT) return VE_ERR_STATE;
  VE_TRY(container_check(p, sscc));
  if (!same_id(p->recipient, s->identity_id)) return VE_ERR_PERMISSION;
  VE_TRY(pharma_product_get(&rd, p->ref.gtin, &sc->product));
  /* A licence suspended since the shipment stops the receipt until restored. */
  VE_TRY(licensed(&rd, p->dest, s->identity_id, receiving_kinds(&sc->product, s->identity_id), VE_ERR_PERMISSION));
  event_init(&sc->event, PHARMA_EVENT_RECEIVE, p->custodian, s->identity_id, p->dest);
  p->status = PHARMA_PACK_ACTIVE;
  memcpy(p->custodian, s->identity_id, LEDGER_HASH_BYTES);
  memcpy(p->country, p->dest, sizeof p->country);
  memset(p->recipient, 0, sizeof p->recipient);
  memset(p->dest, 0, sizeof p->dest);
  return pack_event(ex, p, &sc->event);
}

static int apply_receive(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  for (size_t i = 0; i < tx->n_packs; i++) {
    VE_TRY(pharma_pack_get(&rd, &tx->packs[i], &sc->pack));
    VE_TRY(receive_loaded(ex, s, sc, NULL));
  }
  return VE_OK;
}

static int apply_dispense(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  for (size_t i = 0; i < tx->n_packs; i++) {
    VE_TRY(load_held(ex, &tx->packs[i], s, sc));
    pharma_pack_t *p = &sc->pack;
    if (p->status != PHARMA_PACK_ACTIVE) return VE_ERR_STATE;
    VE_TRY(container_check(p, NULL));
    VE_TRY(licensed(&rd, p->country, s->identity_id, PHARMA_KIND_DISPENSER, VE_ERR_PERMISSION));
    VE_TRY(may_enter(ex, sc, p->country, false));
    if (p->n_events >= PHARMA_PACK_EVENTS_MAX) return VE_ERR_LIMIT; /* unreachable: ship reserves room */
    p->status = PHARMA_PACK_DISPENSED;
    event_init(&sc->event, PHARMA_EVENT_DISPENSE, s->identity_id, ZERO_ID, p->country);
    VE_TRY(pack_event(ex, p, &sc->event));
  }
  return VE_OK;
}

static int apply_decommission(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  bool transit_ok = tx->reason == PHARMA_REASON_STOLEN || tx->reason == PHARMA_REASON_DESTROYED;
  for (size_t i = 0; i < tx->n_packs; i++) {
    pharma_pack_t *p = &sc->pack;
    VE_TRY(pharma_pack_get(&rd, &tx->packs[i], p));
    if (!same_id(p->custodian, s->identity_id)) return VE_ERR_PERMISSION;
    if (p->status != PHARMA_PACK_ACTIVE && !(p->status == PHARMA_PACK_IN_TRANSIT && transit_ok)) return VE_ERR_STATE;
    VE_TRY(container_check(p, NULL)); /* disaggregate first (always possible for the custodian) */
    if (p->n_events >= PHARMA_PACK_EVENTS_MAX) return VE_ERR_LIMIT; /* unreachable: ship reserves room */
    p->status = PHARMA_PACK_DECOMMISSIONED;
    p->reason = tx->reason;
    memset(p->recipient, 0, sizeof p->recipient);
    memset(p->dest, 0, sizeof p->dest);
    event_init(&sc->event, PHARMA_EVENT_DECOMMISSION, s->identity_id, ZERO_ID, p->country);
    sc->event.reason = tx->reason;
    VE_TRY(pack_event(ex, p, &sc->event));
  }
  return VE_OK;
}

/* Inserts a regulator's recall for country into the batch's sorted list. */
static int batch_add_recall(pharma_batch_t *b, const pharma_recall_t *rc) {
  size_t i = 0;
  while (i < b->n_recalls && memcmp(b->recalls[i].country, rc->country, PHARMA_COUNTRY_BYTES) < 0) i++;
  if (i < b->n_recalls && same_country(b->recalls[i].country, rc->country)) return VE_ERR_EXISTS;
  if (b->n_recalls == PHARMA_RECALL_COUNTRIES_MAX) return VE_ERR_LIMIT;
  memmove(&b->recalls[i + 1], &b->recalls[i], (b->n_recalls - i) * sizeof b->recalls[0]);
  b->recalls[i] = *rc;
  b->n_recalls++;
  return VE_OK;
}

static int apply_recall(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  pharma_batch_t *b = &sc->batch;
  VE_TRY(pharma_batch_get(&rd, tx->gtin, tx->batch, tx->batch_len, b));
  if (tx->has_country) {
    VE_TRY(regulator_of(&rd, s, tx->country));
    pharma_recall_t rc = {.height = ledger_exec_height(ex)};
    memcpy(rc.country, tx->country, sizeof rc.country);
    memcpy(rc.regulator, s->identity_id, LEDGER_HASH_BYTES);
    memcpy(rc.reason, tx->digest, PHARMA_DIGEST_BYTES);
    VE_TRY(batch_add_recall(b, &rc));
  } else {
    VE_TRY(pharma_product_get(&rd, tx->gtin, &sc->product));
    if (!same_id(sc->product.manufacturer, s->identity_id)) return VE_ERR_PERMISSION;
    if (b->global_recall) return VE_ERR_EXISTS;
    b->global_recall = true;
    memcpy(b->global_reason, tx->digest, PHARMA_DIGEST_BYTES);
    b->global_height = ledger_exec_height(ex);
  }
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  return store_batch(ex, k, pharma_batch_key(k, tx->gtin, tx->batch, tx->batch_len), b);
}

/* ---- containers (protocol >= LEDGER_PROTOCOL_CONTAINERS) ---- */

static int put_container(ledger_exec_t *ex, const char *sscc, const pharma_container_t *c) {
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  ve_buf_t b;
  ve_buf_init(&b, PHARMA_CONTAINER_BYTES_MAX);
  int rc = pharma_container_encode(c, &b);
  if (rc == VE_OK) rc = ledger_state_put(ex, ve_slice(k, pharma_container_key(k, sscc)), ve_buf_slice(&b));
  ve_buf_free(&b);
  return rc;
}

static int key_cmp_void(const void *a, const void *b) { return memcmp(a, b, LEDGER_HASH_BYTES); }

/* Puts pack p (held, ACTIVE) into container sscc with its AGGREGATE or
 * DISAGGREGATE event; into = false takes it out. */
static int pack_container_event(ledger_exec_t *ex, const ledger_signer_t *s, scratch_t *sc, const char *sscc,
                                bool into) {
  pharma_pack_t *p = &sc->pack;
  event_init(&sc->event, into ? PHARMA_EVENT_AGGREGATE : PHARMA_EVENT_DISAGGREGATE, s->identity_id, ZERO_ID,
             p->country);
  memcpy(sc->event.sscc, sscc, PHARMA_SSCC_BYTES);
  p->in_container = into;
  memset(p->sscc, 0, sizeof p->sscc);
  if (into) memcpy(p->sscc, sscc, PHARMA_SSCC_BYTES);
  return pack_event(ex, p, &sc->event);
}

static int apply_aggregate(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  pharma_container_t *c = &sc->container;
  int rc = pharma_container_get(&rd, tx->sscc, c);
  if (rc == VE_OK) return VE_ERR_EXISTS; /* an SSCC is used once, ever */
  if (rc != VE_ERR_NOT_FOUND) return rc;
  memset(c, 0, offsetof(pharma_container_t, packs));
  pharma_pack_t *p = &sc->pack;
  for (size_t i = 0; i < tx->n_packs; i++) {
    VE_TRY(pharma_pack_get(&rd, &tx->packs[i], p));
    if (!same_id(p->custodian, s->identity_id)) return VE_ERR_PERMISSION;
    if (p->status != PHARMA_PACK_ACTIVE || p->in_container) return VE_ERR_STATE;
    if (i == 0) memcpy(c->country, p->country, sizeof c->country);
    else if (!same_country(c->country, p->country)) return VE_ERR_INVALID; /* one container, one place */
    if (p->n_events + 1 + AGGREGATE_EVENTS_RESERVED > PHARMA_PACK_EVENTS_MAX) return VE_ERR_LIMIT;
    pharma_pack_key(c->packs[i], &p->ref);
    VE_TRY(pack_container_event(ex, s, sc, tx->sscc, true));
  }
  VE_TRY(licensed(&rd, c->country, s->identity_id, PHARMA_KIND_MASK, VE_ERR_PERMISSION));
  c->n_packs = tx->n_packs;
  qsort(c->packs, c->n_packs, sizeof c->packs[0], key_cmp_void);
  for (size_t i = 1; i < c->n_packs; i++)
    if (!memcmp(c->packs[i - 1], c->packs[i], LEDGER_HASH_BYTES)) return VE_ERR_CORRUPT; /* a hash collision */
  c->status = PHARMA_CONTAINER_CLOSED;
  memcpy(c->custodian, s->identity_id, LEDGER_HASH_BYTES);
  memcpy(c->packer, s->identity_id, LEDGER_HASH_BYTES);
  c->packed_height = c->height = ledger_exec_height(ex);
  return put_container(ex, tx->sscc, c);
}

static int apply_disaggregate(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc) {
  ledger_reader_t rd = {ex, NULL};
  pharma_container_t *c = &sc->container;
  VE_TRY(pharma_container_get(&rd, tx->sscc, c));
  if (c->status == PHARMA_CONTAINER_OPENED) return VE_ERR_STATE;
  if (!same_id(c->custodian, s->identity_id)) return VE_ERR_PERMISSION;
  for (size_t i = 0; i < c->n_packs; i++) {
    VE_TRY(load_listed(ex, c->packs[i], &sc->pack));
    VE_TRY(container_check(&sc->pack, tx->sscc));
    if (sc->pack.n_events >= PHARMA_PACK_EVENTS_MAX) return VE_ERR_LIMIT; /* unreachable: reserved */
    VE_TRY(pack_container_event(ex, s, sc, tx->sscc, false));
  }
  c->status = PHARMA_CONTAINER_OPENED;
  memset(c->recipient, 0, sizeof c->recipient);
  memset(c->dest, 0, sizeof c->dest);
  c->height = ledger_exec_height(ex);
  return put_container(ex, tx->sscc, c);
}

/* The container-level checks of SHIP/RECEIVE_CONTAINERS, for every container
 * before any pack: each exists, is in `status`, and the signer is its
 * custodian (CLOSED) or recipient (IN_TRANSIT); the packs together are at
 * most PHARMA_TX_PACKS_MAX (limit_exceeded), the bound of one transaction's
 * work. */
static int containers_check(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s, scratch_t *sc,
                            pharma_container_status_t status) {
  ledger_reader_t rd = {ex, NULL};
  pharma_container_t *c = &sc->container;
  size_t packs = 0;
  for (size_t i = 0; i < tx->n_ssccs; i++) {
    VE_TRY(pharma_container_get(&rd, tx->ssccs[i], c));
    if (c->status != status) return VE_ERR_STATE;
    const uint8_t *who = status == PHARMA_CONTAINER_CLOSED ? c->custodian : c->recipient;
    if (!same_id(who, s->identity_id)) return VE_ERR_PERMISSION;
    packs += c->n_packs;
  }
  return packs > PHARMA_TX_PACKS_MAX ? VE_ERR_LIMIT : VE_OK;
}

static int apply_ship_containers(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s,
                                 scratch_t *sc) {
  VE_TRY(containers_check(ex, tx, s, sc, PHARMA_CONTAINER_CLOSED));
  ledger_reader_t rd = {ex, NULL};
  pharma_container_t *c = &sc->container;
  for (size_t i = 0; i < tx->n_ssccs; i++) {
    VE_TRY(pharma_container_get(&rd, tx->ssccs[i], c));
    for (size_t j = 0; j < c->n_packs; j++) {
      VE_TRY(load_listed(ex, c->packs[j], &sc->pack));
      VE_TRY(held_by(ex, s, sc));
      VE_TRY(ship_held(ex, s, sc, tx->party, tx->country, CONTAINER_SHIP_EVENTS_RESERVED, tx->ssccs[i]));
    }
    c->status = PHARMA_CONTAINER_IN_TRANSIT;
    memcpy(c->recipient, tx->party, LEDGER_HASH_BYTES);
    memcpy(c->dest, tx->country, PHARMA_COUNTRY_BYTES);
    c->height = ledger_exec_height(ex);
    VE_TRY(put_container(ex, tx->ssccs[i], c));
  }
  return VE_OK;
}

static int apply_receive_containers(ledger_exec_t *ex, const pharma_tx_t *tx, const ledger_signer_t *s,
                                    scratch_t *sc) {
  VE_TRY(containers_check(ex, tx, s, sc, PHARMA_CONTAINER_IN_TRANSIT));
  ledger_reader_t rd = {ex, NULL};
  pharma_container_t *c = &sc->container;
  for (size_t i = 0; i < tx->n_ssccs; i++) {
    VE_TRY(pharma_container_get(&rd, tx->ssccs[i], c));
    for (size_t j = 0; j < c->n_packs; j++) {
      VE_TRY(load_listed(ex, c->packs[j], &sc->pack));
      VE_TRY(receive_loaded(ex, s, sc, tx->ssccs[i]));
    }
    c->status = PHARMA_CONTAINER_CLOSED;
    memcpy(c->custodian, s->identity_id, LEDGER_HASH_BYTES);
    memcpy(c->country, c->dest, sizeof c->country);
    memset(c->recipient, 0, sizeof c->recipient);
    memset(c->dest, 0, sizeof c->dest);
    c->height = ledger_exec_height(ex);
    VE_TRY(put_container(ex, tx->ssccs[i], c));
  }
  return VE_OK;
}

/* The payload (~40 KiB) and the records one step touches, off the stack. */
typedef struct {
  pharma_tx_t tx;
  scratch_t sc;
} work_t;

static int pharma_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  if (tx->type < TX_TYPE_PHARMA_JURISDICTION_SET || tx->type > TX_TYPE_PHARMA_RECEIVE_CONTAINERS)
    return VE_ERR_UNKNOWN_TYPE;
  if (tx->type >= TX_TYPE_PHARMA_AGGREGATE) {
    /* Containers exist from protocol 3; before, their types are unknown and
     * nothing but the protocol is read. The older types never read it. */
    uint64_t protocol;
    VE_TRY(ledger_exec_protocol(ex, &protocol));
    if (protocol < LEDGER_PROTOCOL_CONTAINERS) return VE_ERR_UNKNOWN_TYPE;
  }
  work_t *w = malloc(sizeof *w);
  if (!w) return VE_ERR_NOMEM;
  int rc = pharma_payload_decode(tx->type, tx->payload, &w->tx);
  if (rc == VE_OK) {
    switch (tx->type) {
      case TX_TYPE_PHARMA_JURISDICTION_SET: rc = apply_jurisdiction(ex, &w->tx, s); break;
      case TX_TYPE_PHARMA_LICENSE_SET: rc = apply_license(ex, &w->tx, s); break;
      case TX_TYPE_PHARMA_PRODUCT_REGISTER: rc = apply_product_register(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_PRODUCT_AUTHORISE: rc = apply_product_authorise(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_COMMISSION: rc = apply_commission(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_SHIP: rc = apply_ship(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_RECEIVE: rc = apply_receive(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_DISPENSE: rc = apply_dispense(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_DECOMMISSION: rc = apply_decommission(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_RECALL: rc = apply_recall(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_AGGREGATE: rc = apply_aggregate(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_DISAGGREGATE: rc = apply_disaggregate(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_SHIP_CONTAINERS: rc = apply_ship_containers(ex, &w->tx, s, &w->sc); break;
      case TX_TYPE_PHARMA_RECEIVE_CONTAINERS: rc = apply_receive_containers(ex, &w->tx, s, &w->sc); break;
    }
  }
  free(w);
  return rc;
}

const ledger_app_t pharma_app = {
    .name = "pharma",
    .type_lo = PHARMA_TX_TYPE_LO,
    .type_hi = PHARMA_TX_TYPE_HI,
    .apply = pharma_apply,
    .genesis = NULL,
};
