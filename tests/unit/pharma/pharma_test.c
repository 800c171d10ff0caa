/* pharma_test.c — the pharma app on a real chain (memory store, real blocks
 * through tchain), with two countries, DE and FR, one regulator each:
 *   - jurisdictions and licences: who may set them, revocation is final;
 *   - products: registration by licensed manufacturers, GTIN check digits,
 *     marketing authorisations per country;
 *   - commissioning: all-or-nothing (one existing serial fails the tx), a
 *     batch's expiry fixed by its first commission, expired packs refused;
 *   - the cross-border rule: a shipment to FR is refused until FR's regulator
 *     authorises the product, then received in FR;
 *   - recalls: a recall in DE blocks dispensing in DE but not in FR; a global
 *     recall blocks both; repeats refused;
 *   - expiry by block time (the chain crosses midnight UTC during the test);
 *   - dispensing twice refused and verified ALREADY_DISPENSED; an unknown
 *     serial verified UNKNOWN; a stolen report; suspended licences;
 *   - the 64-event custody limit;
 *   - codecs: builders, round trips of every payload and record, and strict
 *     refusals; the date arithmetic.
 * Every tx runs in its own block (tchain_run1) and its result code is checked.
 *
 * Genesis is at 2025-06-01T23:59:59Z: block 200 is the first of 2025-06-02. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "apps/pharma/pharma.h"
#include "base/err.h"
#include "codec/codec.h"
#include "state/state.h"
#include "tchain.h"

#define CHAIN "veche-pharma-1"
#define GENESIS_MS 1748822399000ull /* 2025-06-01T23:59:59Z */
#define GTIN "04006381333931"       /* valid GS1 check digit */
#define GTIN2 "05012345678900"
#define GTIN_BAD "04006381333932"
#define LATER 20301231u

static const ledger_registry_t REG = {&identity_auth, {&identity_app, &pharma_app}, 2, NULL};

/* Parties: all genesis authorities (so they are identities from the start). */
enum { ADMIN, REG_DE, REG_FR, MANUF, WHOLE_DE, WHOLE2_DE, PHARM_DE, WHOLE_FR, PHARM_FR, STRANGER, N_PARTIES };
static const char *NAMES[N_PARTIES] = {"admin",  "reg-de",   "reg-fr",  "manufacturer", "whole-de",
                                       "whole2-de", "pharm-de", "whole-fr", "pharm-fr",     "stranger"};

static tchain_t g_c;
static vcrypto_keypair_t g_k[N_PARTIES];
static uint8_t g_id[N_PARTIES][32];
static const uint8_t DIGEST[32] = {0xd1};

/* ---- helpers ---- */

static int32_t run(int who, uint32_t type, const ve_buf_t *p) {
  return tchain_run1(&g_c, &g_k[who], type, ve_buf_slice(p));
}

static int32_t jurisdiction(int who, int regulator, const char *country) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_jurisdiction(&p, g_id[regulator], country), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_JURISDICTION_SET, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t license(int who, const char *country, int party, uint32_t kinds, pharma_licence_status_t st) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_license(&p, country, g_id[party], kinds, st), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_LICENSE_SET, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t product(int who, const char *gtin, const char *country) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_product_register(&p, gtin, country, DIGEST), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_PRODUCT_REGISTER, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t authorise(int who, const char *gtin, const char *country, pharma_auth_status_t st) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_product_authorise(&p, gtin, country, st), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_PRODUCT_AUTHORISE, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t commission(int who, const char *gtin, const char *batch, uint64_t expiry, const char *const *serials,
                          size_t n) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_commission(&p, gtin, batch, expiry, serials, n), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_COMMISSION, &p);
  ve_buf_free(&p);
  return rc;
}

/* refs of serials[n] of gtin */
static void refs(pharma_pack_ref_t *r, const char *gtin, const char *const *serials, size_t n) {
  for (size_t i = 0; i < n; i++) assert_int_equal(pharma_pack_ref_set(&r[i], gtin, serials[i]), 0);
}

static int32_t ship(int who, int to, const char *dest, const char *const *serials, size_t n) {
  pharma_pack_ref_t r[8];
  assert_true(n <= 8);
  refs(r, GTIN, serials, n);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_ship(&p, g_id[to], dest, r, n), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_SHIP, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t packs_tx(int who, uint32_t type, const char *const *serials, size_t n) {
  pharma_pack_ref_t r[8];
  assert_true(n <= 8);
  refs(r, GTIN, serials, n);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_packs(&p, type, r, n), 0);
  int32_t rc = run(who, type, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t receive1(int who, const char *serial) { return packs_tx(who, TX_TYPE_PHARMA_RECEIVE, &serial, 1); }
static int32_t dispense1(int who, const char *serial) { return packs_tx(who, TX_TYPE_PHARMA_DISPENSE, &serial, 1); }
static int32_t ship1(int who, int to, const char *dest, const char *serial) { return ship(who, to, dest, &serial, 1); }

static int32_t decommission1(int who, pharma_reason_t reason, const char *serial) {
  pharma_pack_ref_t r;
  refs(&r, GTIN, &serial, 1);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_decommission(&p, reason, &r, 1), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_DECOMMISSION, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t recall(int who, const char *batch, const char *country) {
  static const uint8_t REASON[32] = {0xee};
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_recall(&p, GTIN, batch, country, REASON), 0);
  int32_t rc = run(who, TX_TYPE_PHARMA_RECALL, &p);
  ve_buf_free(&p);
  return rc;
}

static uint64_t tip_time(void) {
  store_txn_t *t;
  ledger_tip_t tip;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  store_txn_abort(t);
  return tip.last_time_ms;
}

/* The verdict on GTIN/serial in country (NULL: its own) at the tip's time. */
static pharma_verdict_t verdict(const char *serial, const char *country, pharma_verify_t *out) {
  static pharma_verify_t scratch;
  if (!out) out = &scratch;
  uint64_t now = tip_time();
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  assert_int_equal(pharma_verify_pack(&rd, GTIN, serial, country, now, out), 0);
  store_txn_abort(t);
  return out->verdict;
}

static void pack_of(const char *serial, pharma_pack_t *p) {
  pharma_pack_ref_t r;
  refs(&r, GTIN, &serial, 1);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  assert_int_equal(pharma_pack_get(&rd, &r, p), 0);
  store_txn_abort(t);
}

static int pack_exists(const char *serial) {
  pharma_pack_ref_t r;
  refs(&r, GTIN, &serial, 1);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  pharma_pack_t p;
  int rc = pharma_pack_get(&rd, &r, &p);
  store_txn_abort(t);
  assert_true(rc == VE_OK || rc == VE_ERR_NOT_FOUND);
  return rc == VE_OK;
}

static void batch_of(const char *batch, pharma_batch_t *b) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  assert_int_equal(pharma_batch_get(&rd, GTIN, batch, strlen(batch), b), 0);
  store_txn_abort(t);
}

/* ---- fixture: DE and FR with their regulators, licences, a product authorised in DE ---- */

static int setup(void **state) {
  (void)state;
  tchain_init(&g_c, CHAIN, &REG);
  g_c.g.time_ms = GENESIS_MS;
  for (int i = 0; i < N_PARTIES; i++) {
    tchain_key(&g_k[i], g_id[i], (uint8_t)(90 + i), 7);
    uint32_t roles = i == ADMIN ? ROLE_ADMIN : (i == REG_DE || i == REG_FR) ? ROLE_REGULATOR : 0;
    tchain_authority(&g_c, NAMES[i], &g_k[i], roles);
  }
  tchain_open(&g_c, NULL);
  assert_int_equal(jurisdiction(ADMIN, REG_DE, "DE"), 0);
  assert_int_equal(jurisdiction(ADMIN, REG_FR, "FR"), 0);
  assert_int_equal(license(REG_DE, "DE", MANUF, PHARMA_KIND_MANUFACTURER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_DE, "DE", WHOLE_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_DE, "DE", WHOLE2_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_DE, "DE", PHARM_DE, PHARMA_KIND_DISPENSER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_FR, "FR", WHOLE_FR, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_FR, "FR", PHARM_FR, PHARMA_KIND_DISPENSER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(product(MANUF, GTIN, "DE"), 0);
  assert_int_equal(authorise(REG_DE, GTIN, "DE", PHARMA_AUTHORISED), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&g_c);
  return 0;
}

/* Packs serials[n] of batch, commissioned and moved to PHARM_DE in DE. */
static void stock_de_pharmacy(const char *batch, const char *const *serials, size_t n) {
  assert_int_equal(commission(MANUF, GTIN, batch, LATER, serials, n), 0);
  assert_int_equal(ship(MANUF, WHOLE_DE, "DE", serials, n), 0);
  assert_int_equal(packs_tx(WHOLE_DE, TX_TYPE_PHARMA_RECEIVE, serials, n), 0);
  assert_int_equal(ship(WHOLE_DE, PHARM_DE, "DE", serials, n), 0);
  assert_int_equal(packs_tx(PHARM_DE, TX_TYPE_PHARMA_RECEIVE, serials, n), 0);
}

/* ---- jurisdictions and licences ---- */

static void test_jurisdiction_and_licences(void **state) {
  (void)state;
  /* Only an admin sets jurisdictions, only for regulators that exist. */
  assert_int_equal(jurisdiction(REG_DE, REG_DE, "FR"), VE_ERR_PERMISSION);
  assert_int_equal(jurisdiction(ADMIN, MANUF, "DE"), VE_ERR_NOT_ELIGIBLE);
  uint8_t saved[32];
  memcpy(saved, g_id[STRANGER], 32);
  memset(g_id[STRANGER], 0x42, 32);
  assert_int_equal(jurisdiction(ADMIN, STRANGER, "DE"), VE_ERR_NOT_FOUND);
  assert_int_equal(license(REG_DE, "DE", STRANGER, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), VE_ERR_NOT_FOUND);
  memcpy(g_id[STRANGER], saved, 32);
  /* A regulator licenses in its own country only; nobody else licenses. */
  assert_int_equal(license(REG_FR, "DE", STRANGER, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), VE_ERR_PERMISSION);
  assert_int_equal(license(ADMIN, "DE", STRANGER, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), VE_ERR_PERMISSION);
  assert_int_equal(license(MANUF, "DE", STRANGER, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), VE_ERR_PERMISSION);
  /* Revocation is final. */
  assert_int_equal(license(REG_DE, "DE", STRANGER, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_REVOKED), 0);
  assert_int_equal(license(REG_DE, "DE", STRANGER, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), VE_ERR_STATE);
  /* The records as stored. */
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  pharma_jurisdiction_t j;
  assert_int_equal(pharma_jurisdiction_get(&rd, g_id[REG_FR], &j), 0);
  assert_string_equal(j.country, "FR");
  pharma_licence_t l;
  assert_int_equal(pharma_licence_get(&rd, "DE", g_id[PHARM_DE], &l), 0);
  assert_int_equal(l.kinds, PHARMA_KIND_DISPENSER);
  assert_int_equal(l.status, PHARMA_LICENCE_ACTIVE);
  assert_memory_equal(l.issuer, g_id[REG_DE], 32);
  assert_int_equal(pharma_licence_get(&rd, "FR", g_id[PHARM_DE], &l), VE_ERR_NOT_FOUND);
  store_txn_abort(t);
  /* A regulator moved to FR no longer speaks for DE. */
  assert_int_equal(jurisdiction(ADMIN, REG_DE, "FR"), 0);
  assert_int_equal(license(REG_DE, "DE", STRANGER, PHARMA_KIND_DISPENSER, PHARMA_LICENCE_ACTIVE), VE_ERR_PERMISSION);
}

/* ---- products ---- */

static void test_products(void **state) {
  (void)state;
  /* Registration needs an ACTIVE manufacturer licence in the named country. */
  assert_int_equal(product(WHOLE_DE, GTIN2, "DE"), VE_ERR_PERMISSION);
  assert_int_equal(product(MANUF, GTIN2, "FR"), VE_ERR_PERMISSION);
  assert_int_equal(product(MANUF, GTIN, "DE"), VE_ERR_EXISTS);
  /* A bad check digit: the builder refuses it, and so does every node. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_product_register(&p, GTIN_BAD, "DE", DIGEST), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_product_register(&p, GTIN2, "DE", DIGEST), 0);
  memcpy(p.ptr + 1, GTIN_BAD, 14);
  assert_int_equal(run(MANUF, TX_TYPE_PHARMA_PRODUCT_REGISTER, &p), VE_ERR_MALFORMED);
  ve_buf_free(&p);
  assert_false(pharma_gtin_ok(GTIN_BAD));
  assert_false(pharma_gtin_ok("0400638133393"));   /* 13 digits */
  assert_false(pharma_gtin_ok("0400638133393a"));
  assert_true(pharma_gtin_ok("00000000000000"));
  assert_true(pharma_gtin_ok(GTIN2));
  /* Authorisations: the country's regulator, a product that exists, no repeats. */
  assert_int_equal(authorise(REG_FR, GTIN, "DE", PHARMA_AUTHORISED), VE_ERR_PERMISSION);
  assert_int_equal(authorise(MANUF, GTIN, "DE", PHARMA_AUTHORISED), VE_ERR_PERMISSION);
  assert_int_equal(authorise(REG_FR, GTIN2, "FR", PHARMA_AUTHORISED), VE_ERR_NOT_FOUND);
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_WITHDRAWN), VE_ERR_NOT_FOUND);
  assert_int_equal(authorise(REG_DE, GTIN, "DE", PHARMA_AUTHORISED), VE_ERR_EXISTS);
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_AUTHORISED), 0);
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_WITHDRAWN), 0);
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_WITHDRAWN), VE_ERR_EXISTS);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  pharma_product_t pr;
  assert_int_equal(pharma_product_get(&rd, GTIN, &pr), 0);
  assert_memory_equal(pr.manufacturer, g_id[MANUF], 32);
  assert_string_equal(pr.country, "DE");
  assert_int_equal(pr.n_countries, 2);
  assert_string_equal(pr.countries[0], "DE");
  assert_string_equal(pr.countries[1], "FR");
  pharma_auth_t a;
  assert_int_equal(pharma_auth_get(&rd, GTIN, "FR", &a), 0);
  assert_int_equal(a.status, PHARMA_WITHDRAWN);
  assert_memory_equal(a.regulator, g_id[REG_FR], 32);
  store_txn_abort(t);
}

/* ---- commissioning ---- */

static void test_commission(void **state) {
  (void)state;
  static const char *const S3[] = {"A1", "A2", "A3"};
  static const char *const S_OVERLAP[] = {"A0", "A2", "A9"};
  assert_int_equal(commission(WHOLE_DE, GTIN, "B1", LATER, S3, 3), VE_ERR_PERMISSION); /* not the manufacturer */
  assert_int_equal(commission(MANUF, GTIN2, "B1", LATER, S3, 3), VE_ERR_NOT_FOUND);    /* no such product */
  assert_int_equal(commission(MANUF, GTIN, "B1", 20250531, S3, 3), VE_ERR_EXPIRED);    /* expired yesterday */
  assert_int_equal(commission(MANUF, GTIN, "B1", LATER, S3, 3), 0);
  /* One existing serial fails the whole transaction: A0 and A9 stay unknown. */
  assert_int_equal(commission(MANUF, GTIN, "B1", LATER, S_OVERLAP, 3), VE_ERR_EXISTS);
  assert_false(pack_exists("A0"));
  assert_false(pack_exists("A9"));
  assert_true(pack_exists("A2"));
  /* The same serial in another batch is still the same pack: refused. */
  assert_int_equal(commission(MANUF, GTIN, "B2", LATER, &S3[0], 1), VE_ERR_EXISTS);
  /* The batch's expiry is fixed by its first commission. */
  static const char *const S_MORE[] = {"A4"};
  assert_int_equal(commission(MANUF, GTIN, "B1", LATER - 1, S_MORE, 1), VE_ERR_INVALID);
  assert_int_equal(commission(MANUF, GTIN, "B1", LATER, S_MORE, 1), 0);
  pharma_batch_t b;
  batch_of("B1", &b);
  assert_int_equal(b.packs, 4);
  assert_int_equal(b.expiry, LATER);
  assert_memory_equal(b.manufacturer, g_id[MANUF], 32);
  /* The pack: active, held by the manufacturer in DE, one event. */
  pharma_pack_t p;
  pack_of("A2", &p);
  assert_int_equal(p.status, PHARMA_PACK_ACTIVE);
  assert_memory_equal(p.custodian, g_id[MANUF], 32);
  assert_string_equal(p.country, "DE");
  assert_string_equal(p.batch, "B1");
  assert_int_equal(p.n_events, 1);
  /* A suspended manufacturer commissions nothing. */
  assert_int_equal(license(REG_DE, "DE", MANUF, PHARMA_KIND_MANUFACTURER, PHARMA_LICENCE_SUSPENDED), 0);
  static const char *const S_SUSP[] = {"A5"};
  assert_int_equal(commission(MANUF, GTIN, "B1", LATER, S_SUSP, 1), VE_ERR_PERMISSION);
  assert_int_equal(license(REG_DE, "DE", MANUF, PHARMA_KIND_MANUFACTURER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(commission(MANUF, GTIN, "B1", LATER, S_SUSP, 1), 0);
  /* No new packs into a recalled batch. */
  assert_int_equal(recall(REG_DE, "B1", "DE"), 0);
  static const char *const S_REC[] = {"A6"};
  assert_int_equal(commission(MANUF, GTIN, "B1", LATER, S_REC, 1), VE_ERR_STATE);
}

/* ---- the cross-border rule ---- */

static void test_ship_to_fr_needs_authorisation(void **state) {
  (void)state;
  static const char *const S[] = {"X1", "X2", "X3"};
  assert_int_equal(commission(MANUF, GTIN, "BX", LATER, S, 3), 0);
  /* FR has not authorised the product: refused. */
  assert_int_equal(ship(MANUF, WHOLE_FR, "FR", S, 3), VE_ERR_PERMISSION);
  /* The recipient must hold a receiving licence in the destination. */
  assert_int_equal(ship(MANUF, WHOLE_DE, "FR", S, 3), VE_ERR_NOT_ELIGIBLE);
  assert_int_equal(ship(MANUF, STRANGER, "DE", S, 3), VE_ERR_NOT_ELIGIBLE);
  /* Only the custodian ships. */
  assert_int_equal(ship(WHOLE_DE, WHOLE_FR, "FR", S, 3), VE_ERR_PERMISSION);
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_AUTHORISED), 0);
  assert_int_equal(ship(MANUF, WHOLE_FR, "FR", S, 2), 0);
  assert_int_equal(verdict("X1", "FR", NULL), PHARMA_VERDICT_IN_TRANSIT);
  assert_int_equal(ship1(MANUF, WHOLE_FR, "FR", "X1"), VE_ERR_STATE); /* already in transit */
  /* Only the named recipient receives; all-or-nothing across packs. */
  assert_int_equal(packs_tx(PHARM_FR, TX_TYPE_PHARMA_RECEIVE, S, 2), VE_ERR_PERMISSION);
  assert_int_equal(packs_tx(WHOLE_FR, TX_TYPE_PHARMA_RECEIVE, S, 3), VE_ERR_STATE); /* X3 never shipped */
  pharma_pack_t p;
  pack_of("X1", &p);
  assert_int_equal(p.status, PHARMA_PACK_IN_TRANSIT);
  assert_memory_equal(p.recipient, g_id[WHOLE_FR], 32);
  assert_string_equal(p.dest, "FR");
  assert_string_equal(p.country, "DE");
  assert_int_equal(packs_tx(WHOLE_FR, TX_TYPE_PHARMA_RECEIVE, S, 2), 0);
  pack_of("X1", &p);
  assert_int_equal(p.status, PHARMA_PACK_ACTIVE);
  assert_memory_equal(p.custodian, g_id[WHOLE_FR], 32);
  assert_string_equal(p.country, "FR");
  assert_int_equal(p.n_events, 3);
  /* In FR it is genuine and dispensable; checked in DE it is elsewhere. */
  assert_int_equal(verdict("X1", "FR", NULL), PHARMA_VERDICT_GENUINE_ACTIVE);
  assert_int_equal(verdict("X1", NULL, NULL), PHARMA_VERDICT_GENUINE_ACTIVE);
  assert_int_equal(verdict("X1", "DE", NULL), PHARMA_VERDICT_ELSEWHERE);
  /* The history. */
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  pharma_event_t ev[PHARMA_PACK_EVENTS_MAX];
  size_t n;
  assert_int_equal(pharma_events_get(&rd, &p.ref, 0, ev, PHARMA_PACK_EVENTS_MAX, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(ev[0].kind, PHARMA_EVENT_COMMISSION);
  assert_int_equal(ev[1].kind, PHARMA_EVENT_SHIP);
  assert_memory_equal(ev[1].from, g_id[MANUF], 32);
  assert_memory_equal(ev[1].to, g_id[WHOLE_FR], 32);
  assert_string_equal(ev[1].country, "FR");
  assert_int_equal(ev[2].kind, PHARMA_EVENT_RECEIVE);
  store_txn_abort(t);
  /* FR withdraws: the pack is no longer dispensable there. */
  assert_int_equal(ship1(WHOLE_FR, PHARM_FR, "FR", "X1"), 0);
  assert_int_equal(receive1(PHARM_FR, "X1"), 0);
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_WITHDRAWN), 0);
  assert_int_equal(verdict("X1", NULL, NULL), PHARMA_VERDICT_NOT_AUTHORISED_HERE);
  assert_int_equal(dispense1(PHARM_FR, "X1"), VE_ERR_PERMISSION);
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_AUTHORISED), 0);
  assert_int_equal(dispense1(PHARM_FR, "X1"), 0);
}

/* ---- recalls ---- */

static void test_recalls(void **state) {
  (void)state;
  static const char *const DE_PACKS[] = {"R1", "R2"};
  assert_int_equal(authorise(REG_FR, GTIN, "FR", PHARMA_AUTHORISED), 0);
  stock_de_pharmacy("BR", DE_PACKS, 2);
  static const char *const FR_PACKS[] = {"R3", "R4"};
  assert_int_equal(commission(MANUF, GTIN, "BR", LATER, FR_PACKS, 2), 0);
  assert_int_equal(ship(MANUF, PHARM_FR, "FR", FR_PACKS, 2), 0);
  assert_int_equal(packs_tx(PHARM_FR, TX_TYPE_PHARMA_RECEIVE, FR_PACKS, 2), 0);
  /* Who may recall what. */
  assert_int_equal(recall(REG_FR, "BR", "DE"), VE_ERR_PERMISSION);
  assert_int_equal(recall(PHARM_DE, "BR", "DE"), VE_ERR_PERMISSION);
  assert_int_equal(recall(REG_DE, "BR", NULL), VE_ERR_PERMISSION); /* global: the manufacturer's */
  assert_int_equal(recall(REG_DE, "NOBATCH", "DE"), VE_ERR_NOT_FOUND);
  /* Recalled in DE: not dispensable in DE, still in FR. */
  assert_int_equal(recall(REG_DE, "BR", "DE"), 0);
  assert_int_equal(recall(REG_DE, "BR", "DE"), VE_ERR_EXISTS);
  assert_int_equal(dispense1(PHARM_DE, "R1"), VE_ERR_STATE);
  assert_int_equal(verdict("R1", NULL, NULL), PHARMA_VERDICT_RECALLED);
  assert_int_equal(verdict("R3", NULL, NULL), PHARMA_VERDICT_GENUINE_ACTIVE);
  assert_int_equal(dispense1(PHARM_FR, "R3"), 0);
  /* Nor may it be shipped into DE, except back to its manufacturer. */
  assert_int_equal(ship1(PHARM_DE, WHOLE_DE, "DE", "R2"), VE_ERR_STATE);
  assert_int_equal(ship1(PHARM_DE, MANUF, "DE", "R2"), 0);
  assert_int_equal(receive1(MANUF, "R2"), 0);
  /* A global recall blocks FR too. */
  assert_int_equal(recall(MANUF, "BR", NULL), 0);
  assert_int_equal(recall(MANUF, "BR", NULL), VE_ERR_EXISTS);
  assert_int_equal(dispense1(PHARM_FR, "R4"), VE_ERR_STATE);
  assert_int_equal(verdict("R4", NULL, NULL), PHARMA_VERDICT_RECALLED);
  /* A dispensed pack stays ALREADY_DISPENSED (the status comes first). */
  assert_int_equal(verdict("R3", NULL, NULL), PHARMA_VERDICT_ALREADY_DISPENSED);
  pharma_batch_t b;
  batch_of("BR", &b);
  assert_true(b.global_recall);
  assert_int_equal(b.n_recalls, 1);
  assert_string_equal(b.recalls[0].country, "DE");
  assert_memory_equal(b.recalls[0].regulator, g_id[REG_DE], 32);
  /* Regulators' recalls stay sorted by country. */
  assert_int_equal(recall(REG_FR, "BR", "FR"), 0);
  batch_of("BR", &b);
  assert_int_equal(b.n_recalls, 2);
  assert_string_equal(b.recalls[1].country, "FR");
}

/* ---- expiry by block time ---- */

static void test_expiry_crossing_midnight(void **state) {
  (void)state;
  static const char *const S[] = {"E1", "E2"};
  assert_int_equal(pharma_date_from_ms(tip_time()), 20250601);
  assert_int_equal(commission(MANUF, GTIN, "BE", 20250601, S, 2), 0);
  assert_int_equal(ship(MANUF, PHARM_DE, "DE", S, 2), 0);
  assert_int_equal(packs_tx(PHARM_DE, TX_TYPE_PHARMA_RECEIVE, S, 2), 0);
  assert_int_equal(verdict("E1", NULL, NULL), PHARMA_VERDICT_GENUINE_ACTIVE);
  assert_int_equal(dispense1(PHARM_DE, "E1"), 0);
  /* Empty blocks until the block date is 2025-06-02. */
  for (int i = 0; i < 400 && pharma_date_from_ms(tip_time()) == 20250601; i++) tchain_commit(&g_c, NULL, 0, NULL);
  assert_int_equal(pharma_date_from_ms(tip_time()), 20250602);
  assert_int_equal(verdict("E2", NULL, NULL), PHARMA_VERDICT_EXPIRED);
  assert_int_equal(dispense1(PHARM_DE, "E2"), VE_ERR_EXPIRED);
  assert_int_equal(ship1(PHARM_DE, WHOLE_DE, "DE", "E2"), VE_ERR_EXPIRED);
  /* Destruction remains possible. */
  assert_int_equal(decommission1(PHARM_DE, PHARMA_REASON_DESTROYED, "E2"), 0);
  assert_int_equal(verdict("E2", NULL, NULL), PHARMA_VERDICT_DECOMMISSIONED);
}

/* ---- dispensing, unknown packs, stolen packs ---- */

static void test_dispense_twice_and_unknown(void **state) {
  (void)state;
  static const char *const S[] = {"D1", "D2"};
  stock_de_pharmacy("BD", S, 2);
  assert_int_equal(verdict("D1", NULL, NULL), PHARMA_VERDICT_GENUINE_ACTIVE);
  assert_int_equal(dispense1(WHOLE_DE, "D1"), VE_ERR_PERMISSION); /* not the custodian */
  assert_int_equal(dispense1(PHARM_DE, "D1"), 0);
  assert_int_equal(dispense1(PHARM_DE, "D1"), VE_ERR_STATE);
  pharma_verify_t v;
  assert_int_equal(verdict("D1", NULL, &v), PHARMA_VERDICT_ALREADY_DISPENSED);
  assert_true(v.found);
  assert_int_equal(v.pack.status, PHARMA_PACK_DISPENSED);
  /* Terminal: nothing moves a dispensed pack. */
  assert_int_equal(ship1(PHARM_DE, WHOLE_DE, "DE", "D1"), VE_ERR_STATE);
  assert_int_equal(decommission1(PHARM_DE, PHARMA_REASON_DESTROYED, "D1"), VE_ERR_STATE);
  /* A code never commissioned. */
  assert_int_equal(verdict("NEVER-SEEN", "DE", &v), PHARMA_VERDICT_UNKNOWN);
  assert_false(v.found);
  assert_int_equal(dispense1(PHARM_DE, "NEVER-SEEN"), VE_ERR_NOT_FOUND);
  /* A wholesaler that is not a dispenser cannot dispense what it holds. */
  static const char *const W[] = {"D3"};
  assert_int_equal(commission(MANUF, GTIN, "BD", LATER, W, 1), 0);
  assert_int_equal(ship(MANUF, WHOLE_DE, "DE", W, 1), 0);
  assert_int_equal(receive1(WHOLE_DE, "D3"), 0);
  assert_int_equal(dispense1(WHOLE_DE, "D3"), VE_ERR_PERMISSION);
  /* Malformed identifiers are refused by the verifier. */
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  assert_int_equal(pharma_verify_pack(&rd, GTIN_BAD, "D1", NULL, 0, &v), VE_ERR_INVALID);
  assert_int_equal(pharma_verify_pack(&rd, GTIN, "D 1", NULL, 0, &v), VE_ERR_INVALID);
  assert_int_equal(pharma_verify_pack(&rd, GTIN, "D1", "de", 0, &v), VE_ERR_INVALID);
  store_txn_abort(t);
}

static void test_stolen(void **state) {
  (void)state;
  static const char *const S[] = {"T1", "T2", "T3"};
  stock_de_pharmacy("BT", S, 2);
  assert_int_equal(decommission1(WHOLE_DE, PHARMA_REASON_STOLEN, "T1"), VE_ERR_PERMISSION);
  assert_int_equal(decommission1(PHARM_DE, PHARMA_REASON_STOLEN, "T1"), 0);
  pharma_verify_t v;
  assert_int_equal(verdict("T1", NULL, &v), PHARMA_VERDICT_DECOMMISSIONED);
  assert_int_equal(v.reason, PHARMA_REASON_STOLEN);
  assert_int_equal(verdict("T1", "FR", &v), PHARMA_VERDICT_DECOMMISSIONED); /* everywhere */
  assert_int_equal(dispense1(PHARM_DE, "T1"), VE_ERR_STATE);
  assert_int_equal(ship1(PHARM_DE, WHOLE_DE, "DE", "T1"), VE_ERR_STATE);
  /* Lost in transit: the shipper reports it; a "sample" in transit makes no sense. */
  assert_int_equal(commission(MANUF, GTIN, "BT", LATER, &S[2], 1), 0);
  assert_int_equal(ship1(MANUF, WHOLE_DE, "DE", "T3"), 0);
  assert_int_equal(decommission1(MANUF, PHARMA_REASON_SAMPLE, "T3"), VE_ERR_STATE);
  assert_int_equal(decommission1(WHOLE_DE, PHARMA_REASON_STOLEN, "T3"), VE_ERR_PERMISSION);
  assert_int_equal(decommission1(MANUF, PHARMA_REASON_STOLEN, "T3"), 0);
  assert_int_equal(receive1(WHOLE_DE, "T3"), VE_ERR_STATE);
  pharma_pack_t p;
  pack_of("T3", &p);
  assert_int_equal(p.status, PHARMA_PACK_DECOMMISSIONED);
  assert_int_equal(p.reason, PHARMA_REASON_STOLEN);
}

static void test_suspended_licences(void **state) {
  (void)state;
  static const char *const S[] = {"U1", "U2"};
  stock_de_pharmacy("BU", S, 2);
  assert_int_equal(license(REG_DE, "DE", PHARM_DE, PHARMA_KIND_DISPENSER, PHARMA_LICENCE_SUSPENDED), 0);
  assert_int_equal(dispense1(PHARM_DE, "U1"), VE_ERR_PERMISSION);
  assert_int_equal(ship1(PHARM_DE, WHOLE_DE, "DE", "U1"), VE_ERR_PERMISSION); /* a suspended holder moves nothing */
  assert_int_equal(license(REG_DE, "DE", PHARM_DE, PHARMA_KIND_DISPENSER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(dispense1(PHARM_DE, "U1"), 0);
  /* A recipient suspended while the packs travel receives once restored. */
  assert_int_equal(ship1(PHARM_DE, WHOLE_DE, "DE", "U2"), 0);
  assert_int_equal(license(REG_DE, "DE", WHOLE_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_SUSPENDED), 0);
  assert_int_equal(receive1(WHOLE_DE, "U2"), VE_ERR_PERMISSION);
  assert_int_equal(ship1(MANUF, WHOLE_DE, "DE", "U2"), VE_ERR_PERMISSION);
  assert_int_equal(license(REG_DE, "DE", WHOLE_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(receive1(WHOLE_DE, "U2"), 0);
}

/* ---- the custody limit ---- */

static void test_event_limit(void **state) {
  (void)state;
  static const char *const S[] = {"L1"};
  assert_int_equal(commission(MANUF, GTIN, "BL", LATER, S, 1), 0);
  assert_int_equal(ship1(MANUF, WHOLE_DE, "DE", "L1"), 0);
  assert_int_equal(receive1(WHOLE_DE, "L1"), 0);
  /* Moves between two wholesalers until the limit: 1 + 2k events. */
  int holder = WHOLE_DE, other = WHOLE2_DE;
  pharma_pack_t p;
  for (;;) {
    pack_of("L1", &p);
    if (p.n_events + 3 > PHARMA_PACK_EVENTS_MAX) break;
    assert_int_equal(ship1(holder, other, "DE", "L1"), 0);
    assert_int_equal(receive1(other, "L1"), 0);
    int t = holder;
    holder = other, other = t;
  }
  assert_int_equal(p.n_events, PHARMA_PACK_EVENTS_MAX - 1);
  assert_int_equal(ship1(holder, other, "DE", "L1"), VE_ERR_LIMIT);
  /* The last event stays available for the terminal one. */
  assert_int_equal(decommission1(holder, PHARMA_REASON_DESTROYED, "L1"), 0);
  pack_of("L1", &p);
  assert_int_equal(p.n_events, PHARMA_PACK_EVENTS_MAX);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  static pharma_event_t ev[PHARMA_PACK_EVENTS_MAX + 1];
  size_t n;
  assert_int_equal(pharma_events_get(&rd, &p.ref, 0, ev, PHARMA_PACK_EVENTS_MAX + 1, &n), 0);
  assert_int_equal(n, PHARMA_PACK_EVENTS_MAX);
  assert_int_equal(ev[0].kind, PHARMA_EVENT_COMMISSION);
  assert_int_equal(ev[n - 1].kind, PHARMA_EVENT_DECOMMISSION);
  assert_int_equal(ev[n - 1].reason, PHARMA_REASON_DESTROYED);
  assert_int_equal(pharma_events_get(&rd, &p.ref, 60, ev, 10, &n), 0);
  assert_int_equal(n, 4);
  store_txn_abort(t);
}

/* ---- multi-pack transactions are all-or-nothing ---- */

static void test_all_or_nothing(void **state) {
  (void)state;
  static const char *const S[] = {"M1", "M2", "M3"};
  assert_int_equal(commission(MANUF, GTIN, "BM", LATER, S, 2), 0);
  /* M3 does not exist: M1 and M2 do not move either. */
  assert_int_equal(ship(MANUF, WHOLE_DE, "DE", S, 3), VE_ERR_NOT_FOUND);
  pharma_pack_t p;
  pack_of("M1", &p);
  assert_int_equal(p.status, PHARMA_PACK_ACTIVE);
  assert_int_equal(p.n_events, 1);
  assert_int_equal(ship(MANUF, WHOLE_DE, "DE", S, 2), 0);
  pack_of("M2", &p);
  assert_int_equal(p.status, PHARMA_PACK_IN_TRANSIT);
}

/* ---- codecs ---- */

/* Every state value under the app's prefix decodes and re-encodes to itself. */
static void test_stored_records_round_trip(void **state) {
  (void)state;
  static const char *const S[] = {"C1", "C2"};
  stock_de_pharmacy("BC", S, 2);
  assert_int_equal(recall(REG_DE, "BC", "DE"), 0);
  assert_int_equal(decommission1(PHARM_DE, PHARMA_REASON_EXPORTED, "C2"), 0);
  pharma_pack_ref_t r;
  refs(&r, GTIN, &S[0], 1);
  uint8_t pk[32], k[PHARMA_KEY_BYTES_MAX];
  pharma_pack_key(pk, &r);
  struct {
    uint8_t key[PHARMA_KEY_BYTES_MAX];
    size_t len;
  } keys[8];
  size_t nk = 0;
  keys[nk].len = pharma_jurisdiction_key(keys[nk].key, g_id[REG_DE]), nk++;
  keys[nk].len = pharma_licence_key(keys[nk].key, "DE", g_id[PHARM_DE]), nk++;
  keys[nk].len = pharma_product_key(keys[nk].key, GTIN), nk++;
  keys[nk].len = pharma_auth_key(keys[nk].key, GTIN, "DE"), nk++;
  keys[nk].len = pharma_batch_key(keys[nk].key, GTIN, "BC", 2), nk++;
  keys[nk].len = pharma_pack_state_key(keys[nk].key, pk), nk++;
  keys[nk].len = pharma_event_key(keys[nk].key, pk, 2), nk++;
  (void)k;
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  for (size_t i = 0; i < nk; i++) {
    ve_slice_t v;
    assert_int_equal(state_get(t, ve_slice(keys[i].key, keys[i].len), &v), 0);
    ve_buf_t out;
    ve_buf_init(&out, 0);
    static union {
      pharma_jurisdiction_t j;
      pharma_licence_t l;
      pharma_product_t p;
      pharma_auth_t a;
      pharma_batch_t b;
      pharma_pack_t k;
      pharma_event_t e;
    } u;
    switch (i) {
      case 0: assert_int_equal(pharma_jurisdiction_decode(v, &u.j), 0), assert_int_equal(pharma_jurisdiction_encode(&u.j, &out), 0); break;
      case 1: assert_int_equal(pharma_licence_decode(v, &u.l), 0), assert_int_equal(pharma_licence_encode(&u.l, &out), 0); break;
      case 2: assert_int_equal(pharma_product_decode(v, &u.p), 0), assert_int_equal(pharma_product_encode(&u.p, &out), 0); break;
      case 3: assert_int_equal(pharma_auth_decode(v, &u.a), 0), assert_int_equal(pharma_auth_encode(&u.a, &out), 0); break;
      case 4: assert_int_equal(pharma_batch_decode(v, &u.b), 0), assert_int_equal(pharma_batch_encode(&u.b, &out), 0); break;
      case 5: assert_int_equal(pharma_pack_decode(v, &u.k), 0), assert_int_equal(pharma_pack_encode(&u.k, &out), 0); break;
      case 6: assert_int_equal(pharma_event_decode(v, &u.e), 0), assert_int_equal(pharma_event_encode(&u.e, &out), 0); break;
    }
    assert_true(ve_slice_eq(v, ve_buf_slice(&out)));
    /* A trailing byte, or a cut-short value, is corrupt. */
    uint8_t mem[PHARMA_VALUE_BYTES_MAX + 1];
    memcpy(mem, v.ptr, v.len);
    mem[v.len] = 0;
    ve_slice_t longer = ve_slice(mem, v.len + 1), shorter = ve_slice(mem, v.len - 1);
    int rl = 0, rs = 0;
    switch (i) {
      case 0: rl = pharma_jurisdiction_decode(longer, &u.j), rs = pharma_jurisdiction_decode(shorter, &u.j); break;
      case 1: rl = pharma_licence_decode(longer, &u.l), rs = pharma_licence_decode(shorter, &u.l); break;
      case 2: rl = pharma_product_decode(longer, &u.p), rs = pharma_product_decode(shorter, &u.p); break;
      case 3: rl = pharma_auth_decode(longer, &u.a), rs = pharma_auth_decode(shorter, &u.a); break;
      case 4: rl = pharma_batch_decode(longer, &u.b), rs = pharma_batch_decode(shorter, &u.b); break;
      case 5: rl = pharma_pack_decode(longer, &u.k), rs = pharma_pack_decode(shorter, &u.k); break;
      case 6: rl = pharma_event_decode(longer, &u.e), rs = pharma_event_decode(shorter, &u.e); break;
    }
    assert_int_equal(rl, VE_ERR_CORRUPT);
    assert_int_equal(rs, VE_ERR_CORRUPT);
    ve_buf_free(&out);
  }
  store_txn_abort(t);
}

/* decode(payload) succeeds and re-encodes to the same bytes. */
static void round_trip(uint32_t type, const ve_buf_t *p) {
  static pharma_tx_t tx;
  assert_int_equal(pharma_payload_decode(type, ve_buf_slice(p), &tx), 0);
  ve_buf_t out;
  ve_buf_init(&out, 0);
  assert_int_equal(pharma_payload_encode(&tx, &out), 0);
  assert_true(ve_slice_eq(ve_buf_slice(p), ve_buf_slice(&out)));
  ve_buf_free(&out);
}

static int decode_err(uint32_t type, const uint8_t *b, size_t n) {
  static pharma_tx_t tx;
  return pharma_payload_decode(type, ve_slice(b, n), &tx);
}

static void test_payload_codec(void **state) {
  (void)state;
  ve_buf_t p;
  ve_buf_init(&p, 0);
  uint8_t id[32] = {1, 2, 3};
  static const char *const SER[] = {"b", "a", "ab", "!\"%&'()*+,-./:;<=>?_"};
  pharma_pack_ref_t r[3];
  assert_int_equal(pharma_pack_ref_set(&r[0], GTIN2, "z"), 0);
  assert_int_equal(pharma_pack_ref_set(&r[1], GTIN, "zz"), 0);
  assert_int_equal(pharma_pack_ref_set(&r[2], GTIN, "z"), 0);

  assert_int_equal(pharma_payload_jurisdiction(&p, id, "DE"), 0), round_trip(TX_TYPE_PHARMA_JURISDICTION_SET, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_license(&p, "FR", id, 5, PHARMA_LICENCE_SUSPENDED), 0);
  round_trip(TX_TYPE_PHARMA_LICENSE_SET, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_product_register(&p, GTIN, "FR", DIGEST), 0);
  round_trip(TX_TYPE_PHARMA_PRODUCT_REGISTER, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_product_authorise(&p, GTIN, "FR", PHARMA_WITHDRAWN), 0);
  round_trip(TX_TYPE_PHARMA_PRODUCT_AUTHORISE, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_commission(&p, GTIN, "LOT-7", 20260200, SER, 4), 0);
  round_trip(TX_TYPE_PHARMA_COMMISSION, &p);
  /* Sorted by the builder: "!..." < "a" < "ab" < "b". */
  static pharma_tx_t tx;
  assert_int_equal(pharma_payload_decode(TX_TYPE_PHARMA_COMMISSION, ve_buf_slice(&p), &tx), 0);
  assert_int_equal(tx.n_packs, 4);
  assert_string_equal(tx.packs[1].serial, "a");
  assert_string_equal(tx.packs[2].serial, "ab");
  assert_int_equal(tx.expiry, 20260200);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_ship(&p, id, "DE", r, 3), 0);
  round_trip(TX_TYPE_PHARMA_SHIP, &p);
  assert_int_equal(pharma_payload_decode(TX_TYPE_PHARMA_SHIP, ve_buf_slice(&p), &tx), 0);
  assert_string_equal(tx.packs[0].serial, "z"); /* GTIN < GTIN2, then "z" < "zz" */
  assert_string_equal(tx.packs[0].gtin, GTIN);
  assert_string_equal(tx.packs[2].gtin, GTIN2);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_packs(&p, TX_TYPE_PHARMA_RECEIVE, r, 3), 0), round_trip(TX_TYPE_PHARMA_RECEIVE, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_packs(&p, TX_TYPE_PHARMA_DISPENSE, r, 1), 0), round_trip(TX_TYPE_PHARMA_DISPENSE, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_decommission(&p, PHARMA_REASON_SAMPLE, r, 2), 0);
  round_trip(TX_TYPE_PHARMA_DECOMMISSION, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_recall(&p, GTIN, "LOT-7", "FR", DIGEST), 0), round_trip(TX_TYPE_PHARMA_RECALL, &p);
  ve_buf_reset(&p);
  assert_int_equal(pharma_payload_recall(&p, GTIN, "LOT-7", NULL, DIGEST), 0), round_trip(TX_TYPE_PHARMA_RECALL, &p);

  /* Builders refuse what nodes would refuse. */
  ve_buf_reset(&p);
  pharma_pack_ref_t dup[2] = {r[0], r[0]};
  assert_int_equal(pharma_payload_ship(&p, id, "DE", dup, 2), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_ship(&p, id, "De", r, 1), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_ship(&p, id, "DE", r, 0), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_license(&p, "DE", id, 0, PHARMA_LICENCE_ACTIVE), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_license(&p, "DE", id, 8, PHARMA_LICENCE_ACTIVE), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_commission(&p, GTIN, "LOT 7", 20260101, SER, 1), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_commission(&p, GTIN, "LOT", 20260230, SER, 1), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_commission(&p, GTIN, "LOT", 20260101, (const char *const[]){"x", "x"}, 2),
                   VE_ERR_INVALID);
  assert_int_equal(pharma_payload_commission(&p, GTIN, "012345678901234567890", 20260101, SER, 1), VE_ERR_INVALID);
  assert_int_equal(pharma_pack_ref_set(&r[0], GTIN, "123456789012345678901"), VE_ERR_INVALID);
  assert_int_equal(pharma_pack_ref_set(&r[0], GTIN, ""), VE_ERR_INVALID);
  assert_int_equal(pharma_pack_ref_set(&r[0], GTIN, "a#b"), VE_ERR_INVALID); /* '#' is not in CSET 82 */
  assert_int_equal(pharma_payload_decommission(&p, PHARMA_REASON_NONE, r, 1), VE_ERR_INVALID);
  assert_int_equal(p.len, 0);

  /* Strict decoding of hand-made bytes. RECEIVE: 01 | count | gtin | len | serial... */
  uint8_t b[128];
  size_t n = 0;
  b[n++] = 1, b[n++] = 2;
  memcpy(b + n, GTIN, 14), n += 14, b[n++] = 1, b[n++] = 'b';
  memcpy(b + n, GTIN, 14), n += 14, b[n++] = 1, b[n++] = 'c';
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, b, n), 0);
  b[n] = 0;
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, b, n + 1), VE_ERR_TRAILING);
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, b, n - 1), VE_ERR_MALFORMED);
  b[n - 1] = 'a'; /* c -> a: unsorted */
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, b, n), VE_ERR_NONCANONICAL);
  b[n - 1] = 'b'; /* repeated */
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, b, n), VE_ERR_NONCANONICAL);
  b[n - 1] = ' ';
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, b, n), VE_ERR_MALFORMED);
  b[n - 1] = 'c';
  b[0] = 2;
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, b, n), VE_ERR_VERSION);
  b[0] = 1;
  assert_int_equal(decode_err(0x050f, b, n), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, (const uint8_t[]){1, 0}, 2), VE_ERR_MALFORMED); /* empty */
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, (const uint8_t[]){1, 0xe9, 0x07}, 3), VE_ERR_TOO_BIG); /* 1001 */
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, (const uint8_t[]){1, 0x82, 0x00}, 3), VE_ERR_NONCANONICAL);
  assert_int_equal(decode_err(TX_TYPE_PHARMA_RECEIVE, NULL, 0), VE_ERR_MALFORMED);
  /* DECOMMISSION with reason 5; JURISDICTION with a lower-case country. */
  uint8_t d[3 + 16] = {1, 5, 1};
  memcpy(d + 3, GTIN, 14), d[17] = 1, d[18] = 'x';
  assert_int_equal(decode_err(TX_TYPE_PHARMA_DECOMMISSION, d, sizeof d), VE_ERR_MALFORMED);
  d[1] = 2;
  assert_int_equal(decode_err(TX_TYPE_PHARMA_DECOMMISSION, d, sizeof d), 0);
  uint8_t j[35] = {1};
  memcpy(j + 33, "dE", 2);
  assert_int_equal(decode_err(TX_TYPE_PHARMA_JURISDICTION_SET, j, sizeof j), VE_ERR_MALFORMED);
  memcpy(j + 33, "DE", 2);
  assert_int_equal(decode_err(TX_TYPE_PHARMA_JURISDICTION_SET, j, sizeof j), 0);
  /* A payload nodes refuse is refused at execution too, with nothing written. */
  ve_buf_reset(&p);
  assert_int_equal(ve_buf_append(&p, j, sizeof j - 1), 0);
  assert_int_equal(run(ADMIN, TX_TYPE_PHARMA_JURISDICTION_SET, &p), VE_ERR_MALFORMED);
  assert_int_equal(run(ADMIN, 0x05ff, &p), VE_ERR_UNKNOWN_TYPE);
  ve_buf_free(&p);
}

static void test_dates(void **state) {
  (void)state;
  assert_int_equal(pharma_date_from_ms(0), 19700101);
  assert_int_equal(pharma_date_from_ms(86399999), 19700101);
  assert_int_equal(pharma_date_from_ms(86400000), 19700102);
  assert_int_equal(pharma_date_from_ms(951782400000ull), 20000229); /* 2000-02-29 */
  assert_int_equal(pharma_date_from_ms(951868800000ull), 20000301);
  assert_int_equal(pharma_date_from_ms(GENESIS_MS), 20250601);
  assert_int_equal(pharma_date_from_ms(GENESIS_MS + 1000), 20250602);
  assert_int_equal(pharma_date_from_ms(4102444800000ull), 21000101);
  assert_true(pharma_date_ok(20240229));
  assert_false(pharma_date_ok(20230229));
  assert_false(pharma_date_ok(21000229));
  assert_true(pharma_date_ok(20000229));
  assert_true(pharma_date_ok(20250100));
  assert_false(pharma_date_ok(20251301));
  assert_false(pharma_date_ok(20250001));
  assert_false(pharma_date_ok(20250432));
  assert_false(pharma_date_ok(18991231));
  assert_false(pharma_date_ok(100000101));
  /* Usable through the expiry date; day 00 means the month's last day. */
  uint64_t june30 = 1751241600000ull; /* 2025-06-30T00:00:00Z */
  assert_false(pharma_expired(20250630, june30 + 86399999));
  assert_true(pharma_expired(20250630, june30 + 86400000));
  assert_false(pharma_expired(20250600, june30 + 86399999));
  assert_true(pharma_expired(20250600, june30 + 86400000));
  assert_true(pharma_expired(20250629, june30));
  assert_false(pharma_expired(20240200, 1709164800000ull)); /* 2024-02-29: leap */
}

static void test_names(void **state) {
  (void)state;
  assert_int_equal(pharma_kinds_from_names("manufacturer,dispenser"), 5);
  assert_int_equal(pharma_kinds_from_names("wholesaler"), 2);
  assert_int_equal(pharma_kinds_from_names("wholesaler,chemist"), 0);
  assert_int_equal(pharma_kinds_from_names(""), 0);
  char s[64];
  pharma_kinds_names(7, s, sizeof s);
  assert_string_equal(s, "manufacturer,wholesaler,dispenser");
  pharma_kinds_names(0, s, sizeof s);
  assert_string_equal(s, "none");
  assert_int_equal(pharma_reason_from_name("stolen"), PHARMA_REASON_STOLEN);
  assert_int_equal(pharma_reason_from_name("lost"), -1);
  assert_string_equal(pharma_verdict_name(PHARMA_VERDICT_ALREADY_DISPENSED), "ALREADY_DISPENSED");
  assert_string_equal(pharma_pack_status_name(9), "unknown");
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_jurisdiction_and_licences),
      T(test_products),
      T(test_commission),
      T(test_ship_to_fr_needs_authorisation),
      T(test_recalls),
      T(test_expiry_crossing_midnight),
      T(test_dispense_twice_and_unknown),
      T(test_stolen),
      T(test_suspended_licences),
      T(test_event_limit),
      T(test_all_or_nothing),
      T(test_stored_records_round_trip),
      T(test_payload_codec),
      cmocka_unit_test(test_dates),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
