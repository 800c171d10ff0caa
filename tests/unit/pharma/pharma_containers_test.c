/* pharma_containers_test.c — shipping containers (GS1 SSCC aggregation) of the
 * pharma app on a real chain (memory store, real blocks through tchain) at
 * protocol 3, with the council (gov) deciding the regulators' jurisdictions:
 *   - SSCC check digits (the GS1 example 106141411234567897, bad digits,
 *     lengths, non-digits) and the one GS1 mod-10 function GTINs share;
 *   - the whole way: aggregate in DE -> ship the container to FR (refused
 *     until FR authorises the product) -> receive it in FR -> disaggregate ->
 *     ship, receive and dispense one pack; the packs mirror the container at
 *     every step and their history shows every hand-over;
 *   - every refusal of the four types in rule order; pack-level SHIP,
 *     RECEIVE, DISPENSE, DECOMMISSION refused inside a container; a pallet
 *     stolen in transit: disaggregated by the shipper, then reported;
 *   - the event reserve at its edge (packs with 59 and 61 events) and the
 *     1000-pack limits (one container, one transaction);
 *   - byte-exact encodings of the new payloads and records; version-1 packs
 *     and events keep their bytes;
 *   - at protocol 2 the four types are unknown_type and old types write
 *     version-1 records only.
 * Every tx runs in its own block (tchain_run1) and its result is checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/gov/gov.h"
#include "apps/identity/identity.h"
#include "apps/pharma/pharma.h"
#include "apps/upgrade/upgrade.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "codec/codec.h"
#include "state/state.h"
#include "tchain.h"

#define CHAIN "veche-pharma-containers-1"
#define GENESIS_MS 1748822399000ull /* 2025-06-01T23:59:59Z */
#define GTIN "04006381333931"
#define LATER 20301231u
#define SSCC1 "106141411234567897" /* GS1's example SSCC (check digit 7) */
#define SSCC2 "000000000000000017"
#define SSCC3 "000000000000000024"
#define SSCC_BAD "106141411234567898"
#define OPEN_MS (UINT64_C(24) * 3600 * 1000)

static const ledger_registry_t REG = {
    &identity_auth, {&valset_app, &upgrade_app, &identity_app, &gov_app, &pharma_app}, 5, upgrade_protocol_exec};

enum { ADMIN, REG_DE, REG_FR, MANUF, WHOLE_DE, WHOLE2_DE, WHOLE_FR, PHARM_FR, STRANGER, N_PARTIES };
static const char *NAMES[N_PARTIES] = {"admin", "reg-de", "reg-fr", "manufacturer", "whole-de",
                                       "whole2-de", "whole-fr", "pharm-fr", "stranger"};

static tchain_t g_c;
static vcrypto_keypair_t g_k[N_PARTIES];
static uint8_t g_id[N_PARTIES][32];
static const uint8_t DIGEST[32] = {0xd1};

/* ---- transactions ---- */

static int32_t run(int who, uint32_t type, ve_buf_t *p) {
  int32_t rc = tchain_run1(&g_c, &g_k[who], type, ve_buf_slice(p));
  ve_buf_free(p);
  return rc;
}

/* The admin alone is the council (k = 1): its proposal executes at once. */
static int32_t jurisdiction(int regulator, const char *country) {
  ve_buf_t inner, p;
  ve_buf_init(&inner, 0);
  ve_buf_init(&p, GOV_PAYLOAD_BYTES_MAX);
  assert_int_equal(pharma_payload_jurisdiction(&inner, g_id[regulator], country), 0);
  assert_int_equal(gov_payload_propose(&p, OPEN_MS, TX_TYPE_PHARMA_JURISDICTION_SET, ve_buf_slice(&inner),
                                       ve_slice("why", 3)),
                   0);
  ve_buf_free(&inner);
  return run(ADMIN, TX_TYPE_GOV_PROPOSE, &p);
}

static int32_t license(int who, const char *country, int party, uint32_t kinds, pharma_licence_status_t st) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_license(&p, country, g_id[party], kinds, st), 0);
  return run(who, TX_TYPE_PHARMA_LICENSE_SET, &p);
}

static int32_t authorise(int who, const char *country) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_product_authorise(&p, GTIN, country, PHARMA_AUTHORISED), 0);
  return run(who, TX_TYPE_PHARMA_PRODUCT_AUTHORISE, &p);
}

static int32_t commission(const char *batch, const char *const *serials, size_t n) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_commission(&p, GTIN, batch, LATER, serials, n), 0);
  return run(MANUF, TX_TYPE_PHARMA_COMMISSION, &p);
}

static pharma_pack_ref_t *refs(const char *const *serials, size_t n) {
  static pharma_pack_ref_t r[PHARMA_TX_PACKS_MAX + 1]; /* one more, for the builder's refusal */
  assert_true(n <= PHARMA_TX_PACKS_MAX + 1);
  for (size_t i = 0; i < n; i++) assert_int_equal(pharma_pack_ref_set(&r[i], GTIN, serials[i]), 0);
  return r;
}

static int32_t aggregate(int who, const char *sscc, const char *const *serials, size_t n) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_aggregate(&p, sscc, refs(serials, n), n), 0);
  return run(who, TX_TYPE_PHARMA_AGGREGATE, &p);
}

static int32_t disaggregate(int who, const char *sscc) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_disaggregate(&p, sscc), 0);
  return run(who, TX_TYPE_PHARMA_DISAGGREGATE, &p);
}

static int32_t ship_containers(int who, int to, const char *dest, const char *const *ssccs, size_t n) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_ship_containers(&p, g_id[to], dest, ssccs, n), 0);
  return run(who, TX_TYPE_PHARMA_SHIP_CONTAINERS, &p);
}

static int32_t receive_containers(int who, const char *const *ssccs, size_t n) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_receive_containers(&p, ssccs, n), 0);
  return run(who, TX_TYPE_PHARMA_RECEIVE_CONTAINERS, &p);
}

static int32_t ship1c(int who, int to, const char *dest, const char *sscc) {
  return ship_containers(who, to, dest, &sscc, 1);
}
static int32_t receive1c(int who, const char *sscc) { return receive_containers(who, &sscc, 1); }

static int32_t ship(int who, int to, const char *dest, const char *const *serials, size_t n) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_ship(&p, g_id[to], dest, refs(serials, n), n), 0);
  return run(who, TX_TYPE_PHARMA_SHIP, &p);
}

static int32_t packs_tx(int who, uint32_t type, const char *const *serials, size_t n) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_packs(&p, type, refs(serials, n), n), 0);
  return run(who, type, &p);
}

static int32_t decommission1(int who, pharma_reason_t reason, const char *serial) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_decommission(&p, reason, refs(&serial, 1), 1), 0);
  return run(who, TX_TYPE_PHARMA_DECOMMISSION, &p);
}

static int32_t ship1(int who, int to, const char *dest, const char *s) { return ship(who, to, dest, &s, 1); }
static int32_t receive1(int who, const char *s) { return packs_tx(who, TX_TYPE_PHARMA_RECEIVE, &s, 1); }
static int32_t dispense1(int who, const char *s) { return packs_tx(who, TX_TYPE_PHARMA_DISPENSE, &s, 1); }

/* ---- reading the committed state ---- */

static void pack_of(const char *serial, pharma_pack_t *p) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  int rc = pharma_pack_get(&rd, refs(&serial, 1), p);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
}

static pharma_container_t *container_of(const char *sscc) {
  static pharma_container_t c;
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  int rc = pharma_container_get(&rd, sscc, &c);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  return &c;
}

/* The stored bytes under key (out reset first); VE_ERR_NOT_FOUND if absent. */
static int raw(const uint8_t *key, size_t key_len, ve_buf_t *out) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  ledger_reader_t rd = {NULL, t};
  ve_slice_t v;
  int rc = ledger_reader_get(&rd, ve_slice(key, key_len), &v);
  ve_buf_reset(out);
  if (rc == VE_OK) assert_int_equal(ve_buf_append(out, v.ptr, v.len), 0);
  store_txn_abort(t);
  return rc;
}

static uint8_t pack_version(const char *serial) {
  uint8_t pk[32], k[PHARMA_KEY_BYTES_MAX];
  pharma_pack_key(pk, refs(&serial, 1));
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(raw(k, pharma_pack_state_key(k, pk), &b), 0);
  uint8_t v = b.ptr[0];
  ve_buf_free(&b);
  return v;
}

/* Event n of a pack, and the version byte it is stored with. */
static uint8_t event_of(const char *serial, uint32_t n, pharma_event_t *e) {
  uint8_t pk[32], k[PHARMA_KEY_BYTES_MAX];
  pharma_pack_key(pk, refs(&serial, 1));
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(raw(k, pharma_event_key(k, pk, n), &b), 0);
  assert_int_equal(pharma_event_decode(ve_buf_slice(&b), e), 0);
  uint8_t v = b.ptr[0];
  ve_buf_free(&b);
  return v;
}

static pharma_verdict_t verdict(const char *serial, const char *country) {
  static pharma_verify_t v;
  store_txn_t *t;
  ledger_tip_t tip;
  assert_int_equal(store_txn_begin(g_c.store, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  ledger_reader_t rd = {NULL, t};
  int rc = pharma_verify_pack(&rd, GTIN, serial, country, tip.last_time_ms, &v);
  store_txn_abort(t);
  assert_int_equal(rc, 0);
  return v.verdict;
}

/* The pack mirrors container c (in it, same status, custodian, places). */
static void assert_mirrors(const char *serial, const char *sscc) {
  pharma_pack_t p;
  pack_of(serial, &p);
  const pharma_container_t *c = container_of(sscc);
  assert_true(p.in_container);
  assert_string_equal(p.sscc, sscc);
  assert_int_equal(p.status, c->status == PHARMA_CONTAINER_CLOSED ? PHARMA_PACK_ACTIVE : PHARMA_PACK_IN_TRANSIT);
  assert_memory_equal(p.custodian, c->custodian, 32);
  assert_string_equal(p.country, c->country);
  assert_memory_equal(p.recipient, c->recipient, 32);
  assert_string_equal(p.dest, c->dest);
  uint8_t pk[32];
  pharma_pack_key(pk, &p.ref);
  bool listed = false;
  for (size_t i = 0; i < c->n_packs; i++) listed |= !memcmp(c->packs[i], pk, 32);
  assert_true(listed);
}

/* ---- fixture: DE and FR regulators (by council decision), licences, a product authorised in DE ---- */

static void chain_open(uint32_t protocol) {
  tchain_init(&g_c, CHAIN, &REG);
  g_c.g.time_ms = GENESIS_MS;
  g_c.g.protocol = protocol;
  for (int i = 0; i < N_PARTIES; i++) {
    tchain_key(&g_k[i], g_id[i], (uint8_t)(120 + i), 7);
    uint32_t roles = i == ADMIN ? ROLE_ADMIN : (i == REG_DE || i == REG_FR) ? ROLE_REGULATOR : 0;
    tchain_authority(&g_c, NAMES[i], &g_k[i], roles);
  }
  tchain_open(&g_c, NULL);
  assert_int_equal(jurisdiction(REG_DE, "DE"), 0);
  assert_int_equal(jurisdiction(REG_FR, "FR"), 0);
  assert_int_equal(license(REG_DE, "DE", MANUF, PHARMA_KIND_MANUFACTURER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_DE, "DE", WHOLE_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_DE, "DE", WHOLE2_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_FR, "FR", WHOLE_FR, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(license(REG_FR, "FR", PHARM_FR, PHARMA_KIND_DISPENSER, PHARMA_LICENCE_ACTIVE), 0);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_product_register(&p, GTIN, "DE", DIGEST), 0);
  assert_int_equal(run(MANUF, TX_TYPE_PHARMA_PRODUCT_REGISTER, &p), 0);
  assert_int_equal(authorise(REG_DE, "DE"), 0);
}

static int setup(void **state) {
  (void)state;
  chain_open(3);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&g_c);
  return 0;
}

static const char *const S3[] = {"C1", "C2", "C3"};

/* ---- identifiers ---- */

static void test_sscc_check_digit(void **state) {
  (void)state;
  assert_true(pharma_sscc_ok(SSCC1));
  assert_true(pharma_sscc_ok(SSCC2));
  assert_true(pharma_sscc_ok(SSCC3));
  assert_false(pharma_sscc_ok(SSCC_BAD));
  for (char d = '0'; d <= '9'; d++) { /* exactly one check digit fits */
    char s[] = SSCC1;
    s[17] = d;
    assert_int_equal(pharma_sscc_ok(s), d == '7');
  }
  assert_false(pharma_sscc_ok("10614141123456789"));   /* 17 */
  assert_false(pharma_sscc_ok("1061414112345678970")); /* 19 */
  assert_false(pharma_sscc_ok("10614141123456789A"));
  assert_false(pharma_sscc_ok("1061414112345 7897"));
  assert_false(pharma_sscc_ok(""));
  assert_false(pharma_sscc_ok(NULL));
  /* The weights run from the right: the digit next to the check digit weighs 3. */
  assert_true(pharma_sscc_ok("000000000000000017")); /* 1*3 = 3 -> 7 */
  assert_true(pharma_sscc_ok("100000000000000007")); /* 17 places left of the check: weight 3 */
  assert_false(pharma_sscc_ok("100000000000000009")); /* weight 1 would give 9 */
  /* One function serves GTIN-14 and SSCC. */
  assert_true(pharma_gs1_check_ok((const uint8_t *)GTIN, 14));
  assert_false(pharma_gs1_check_ok((const uint8_t *)"04006381333932", 14));
  assert_true(pharma_gs1_check_ok((const uint8_t *)SSCC1, 18));
  assert_true(pharma_gtin_ok(GTIN));
}

/* ---- the whole way: DE -> FR by container ---- */

static void test_aggregate_ship_receive_disaggregate(void **state) {
  (void)state;
  assert_int_equal(commission("B1", S3, 3), 0);
  uint64_t h0 = tchain_height(&g_c);
  assert_int_equal(aggregate(MANUF, SSCC1, S3, 3), 0);
  pharma_container_t *c = container_of(SSCC1);
  assert_int_equal(c->status, PHARMA_CONTAINER_CLOSED);
  assert_memory_equal(c->custodian, g_id[MANUF], 32);
  assert_memory_equal(c->packer, g_id[MANUF], 32);
  assert_string_equal(c->country, "DE");
  assert_int_equal(c->packed_height, h0 + 1);
  assert_int_equal(c->height, h0 + 1);
  assert_int_equal(c->n_packs, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_mirrors(S3[i], SSCC1);
    assert_int_equal(pack_version(S3[i]), 2);
    pharma_event_t e;
    assert_int_equal(event_of(S3[i], 1, &e), 2);
    assert_int_equal(e.kind, PHARMA_EVENT_AGGREGATE);
    assert_string_equal(e.sscc, SSCC1);
    assert_memory_equal(e.from, g_id[MANUF], 32);
    assert_string_equal(e.country, "DE");
  }
  assert_int_equal(verdict("C1", "DE"), PHARMA_VERDICT_GENUINE_ACTIVE);
  assert_int_equal(aggregate(MANUF, SSCC1, S3, 1), VE_ERR_EXISTS);

  /* Across the border: FR must authorise the product first. */
  assert_int_equal(ship1c(MANUF, WHOLE_FR, "FR", SSCC1), VE_ERR_PERMISSION);
  assert_int_equal(container_of(SSCC1)->status, PHARMA_CONTAINER_CLOSED);
  assert_int_equal(authorise(REG_FR, "FR"), 0);
  assert_int_equal(ship1c(MANUF, WHOLE_FR, "FR", SSCC1), 0);
  c = container_of(SSCC1);
  assert_int_equal(c->status, PHARMA_CONTAINER_IN_TRANSIT);
  assert_memory_equal(c->recipient, g_id[WHOLE_FR], 32);
  assert_string_equal(c->dest, "FR");
  assert_memory_equal(c->custodian, g_id[MANUF], 32);
  for (size_t i = 0; i < 3; i++) {
    assert_mirrors(S3[i], SSCC1);
    pharma_event_t e;
    assert_int_equal(event_of(S3[i], 2, &e), 1); /* a normal SHIP event, version 1 */
    assert_int_equal(e.kind, PHARMA_EVENT_SHIP);
    assert_memory_equal(e.to, g_id[WHOLE_FR], 32);
  }
  assert_int_equal(verdict("C2", NULL), PHARMA_VERDICT_IN_TRANSIT);
  assert_int_equal(receive1c(WHOLE_DE, SSCC1), VE_ERR_PERMISSION); /* not the recipient */
  assert_int_equal(receive1c(WHOLE_FR, SSCC1), 0);
  c = container_of(SSCC1);
  assert_int_equal(c->status, PHARMA_CONTAINER_CLOSED);
  assert_memory_equal(c->custodian, g_id[WHOLE_FR], 32);
  assert_string_equal(c->country, "FR");
  assert_memory_equal(c->packer, g_id[MANUF], 32);
  for (size_t i = 0; i < 3; i++) {
    assert_mirrors(S3[i], SSCC1);
    pharma_event_t e;
    assert_int_equal(event_of(S3[i], 3, &e), 1);
    assert_int_equal(e.kind, PHARMA_EVENT_RECEIVE);
    assert_memory_equal(e.from, g_id[MANUF], 32);
    assert_memory_equal(e.to, g_id[WHOLE_FR], 32);
    assert_string_equal(e.country, "FR");
  }
  assert_int_equal(verdict("C3", "FR"), PHARMA_VERDICT_GENUINE_ACTIVE);

  /* Pack-level moves wait for the case to be opened. */
  assert_int_equal(ship1(WHOLE_FR, PHARM_FR, "FR", "C1"), VE_ERR_STATE);
  assert_int_equal(decommission1(WHOLE_FR, PHARMA_REASON_SAMPLE, "C1"), VE_ERR_STATE);
  assert_int_equal(disaggregate(MANUF, SSCC1), VE_ERR_PERMISSION); /* no longer the custodian */
  assert_int_equal(disaggregate(WHOLE_FR, SSCC1), 0);
  c = container_of(SSCC1);
  assert_int_equal(c->status, PHARMA_CONTAINER_OPENED);
  assert_memory_equal(c->custodian, g_id[WHOLE_FR], 32);
  assert_int_equal(c->n_packs, 3); /* the record stays */
  for (size_t i = 0; i < 3; i++) {
    pharma_pack_t p;
    pack_of(S3[i], &p);
    assert_false(p.in_container);
    assert_int_equal(p.status, PHARMA_PACK_ACTIVE);
    assert_int_equal(pack_version(S3[i]), 1);
    assert_int_equal(p.n_events, 5);
    pharma_event_t e;
    assert_int_equal(event_of(S3[i], 4, &e), 2);
    assert_int_equal(e.kind, PHARMA_EVENT_DISAGGREGATE);
    assert_string_equal(e.sscc, SSCC1);
    assert_memory_equal(e.from, g_id[WHOLE_FR], 32);
    assert_string_equal(e.country, "FR");
  }
  assert_int_equal(disaggregate(WHOLE_FR, SSCC1), VE_ERR_STATE);       /* OPENED is terminal */
  assert_int_equal(aggregate(WHOLE_FR, SSCC1, S3, 3), VE_ERR_EXISTS);  /* its code is never reused */
  assert_int_equal(ship1c(WHOLE_FR, PHARM_FR, "FR", SSCC1), VE_ERR_STATE);
  assert_int_equal(ship1(WHOLE_FR, PHARM_FR, "FR", "C1"), 0);
  assert_int_equal(receive1(PHARM_FR, "C1"), 0);
  assert_int_equal(dispense1(PHARM_FR, "C1"), 0);
  assert_int_equal(verdict("C1", "FR"), PHARMA_VERDICT_ALREADY_DISPENSED);
  /* The freed packs may go into a new container. */
  static const char *const rest[] = {"C2", "C3"};
  assert_int_equal(aggregate(WHOLE_FR, SSCC2, rest, 2), 0);
  assert_mirrors("C3", SSCC2);
}

/* ---- refusals, in rule order ---- */

static void test_aggregate_refusals(void **state) {
  (void)state;
  static const char *const A[] = {"A1", "A2", "A3", "A4"};
  assert_int_equal(commission("BA", A, 4), 0);
  assert_int_equal(aggregate(MANUF, SSCC2, &A[3], 1), 0);
  /* SSCC used, checked first (even with a pack that does not exist). */
  static const char *const ghost[] = {"NOPE"};
  assert_int_equal(aggregate(MANUF, SSCC2, ghost, 1), VE_ERR_EXISTS);
  assert_int_equal(aggregate(MANUF, SSCC1, ghost, 1), VE_ERR_NOT_FOUND);
  assert_int_equal(aggregate(WHOLE_DE, SSCC1, A, 1), VE_ERR_PERMISSION); /* not the custodian */
  assert_int_equal(aggregate(MANUF, SSCC1, &A[3], 1), VE_ERR_STATE);     /* already in a container */
  assert_int_equal(ship1(MANUF, WHOLE_DE, "DE", "A1"), 0);
  assert_int_equal(aggregate(MANUF, SSCC1, A, 1), VE_ERR_STATE); /* in transit */
  /* A2 held by MANUF in DE, A1 received by WHOLE_DE; move A2 to WHOLE_DE in FR. */
  assert_int_equal(receive1(WHOLE_DE, "A1"), 0);
  assert_int_equal(authorise(REG_FR, "FR"), 0);
  assert_int_equal(license(REG_FR, "FR", WHOLE_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(ship1(MANUF, WHOLE_DE, "FR", "A2"), 0);
  assert_int_equal(receive1(WHOLE_DE, "A2"), 0);
  /* Two places: invalid_argument, before the licence (also missing below). */
  assert_int_equal(aggregate(WHOLE_DE, SSCC1, A, 2), VE_ERR_INVALID);
  assert_int_equal(license(REG_FR, "FR", WHOLE_DE, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_SUSPENDED), 0);
  assert_int_equal(aggregate(WHOLE_DE, SSCC1, A, 2), VE_ERR_INVALID);
  assert_int_equal(aggregate(WHOLE_DE, SSCC1, &A[1], 1), VE_ERR_PERMISSION); /* licence suspended in FR */
  assert_int_equal(aggregate(WHOLE_DE, SSCC1, A, 1), 0);                    /* licensed in DE */
  assert_mirrors("A1", SSCC1);
  /* Nothing of a refused aggregate remains. */
  pharma_pack_t p;
  pack_of("A2", &p);
  assert_false(p.in_container);
  assert_int_equal(p.n_events, 3);
  assert_int_equal(pack_version("A2"), 1);
}

static void test_container_ship_receive_refusals(void **state) {
  (void)state;
  static const char *const P[] = {"P1", "P2"};
  assert_int_equal(commission("BP", P, 2), 0);
  assert_int_equal(aggregate(MANUF, SSCC1, &P[0], 1), 0);
  assert_int_equal(aggregate(MANUF, SSCC2, &P[1], 1), 0);
  assert_int_equal(ship1c(MANUF, WHOLE_DE, "DE", SSCC3), VE_ERR_NOT_FOUND);
  assert_int_equal(ship1c(WHOLE_DE, WHOLE_DE, "DE", SSCC1), VE_ERR_PERMISSION);
  assert_int_equal(ship1c(MANUF, STRANGER, "DE", SSCC1), VE_ERR_NOT_ELIGIBLE); /* recipient unlicensed */
  assert_int_equal(ship1c(MANUF, WHOLE_FR, "FR", SSCC1), VE_ERR_PERMISSION);   /* not authorised in FR */
  /* The shipper's own licence where it holds the packs. */
  assert_int_equal(license(REG_DE, "DE", MANUF, PHARMA_KIND_MANUFACTURER, PHARMA_LICENCE_SUSPENDED), 0);
  assert_int_equal(ship1c(MANUF, WHOLE_DE, "DE", SSCC1), VE_ERR_PERMISSION);
  assert_int_equal(license(REG_DE, "DE", MANUF, PHARMA_KIND_MANUFACTURER, PHARMA_LICENCE_ACTIVE), 0);
  /* A recalled batch ships only back to its manufacturer. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  static const uint8_t REASON[32] = {0xee};
  assert_int_equal(pharma_payload_recall(&p, GTIN, "BP", "DE", REASON), 0);
  assert_int_equal(run(REG_DE, TX_TYPE_PHARMA_RECALL, &p), 0);
  assert_int_equal(ship1c(MANUF, WHOLE_DE, "DE", SSCC1), VE_ERR_STATE);
  static const char *const both[] = {SSCC1, SSCC2};
  assert_int_equal(ship_containers(MANUF, WHOLE_FR, "FR", both, 2), VE_ERR_PERMISSION);
  assert_int_equal(authorise(REG_FR, "FR"), 0);
  assert_int_equal(ship_containers(MANUF, WHOLE_FR, "FR", both, 2), 0); /* FR has no recall */
  assert_int_equal(ship_containers(MANUF, WHOLE_FR, "FR", both, 2), VE_ERR_STATE); /* in transit */
  static const char *const unknown_too[] = {SSCC1, SSCC3};
  assert_int_equal(receive_containers(WHOLE_FR, unknown_too, 2), VE_ERR_NOT_FOUND);
  assert_int_equal(receive_containers(MANUF, both, 2), VE_ERR_PERMISSION);
  assert_int_equal(license(REG_FR, "FR", WHOLE_FR, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_SUSPENDED), 0);
  assert_int_equal(receive_containers(WHOLE_FR, both, 2), VE_ERR_PERMISSION); /* licence suspended since */
  assert_int_equal(license(REG_FR, "FR", WHOLE_FR, PHARMA_KIND_WHOLESALER, PHARMA_LICENCE_ACTIVE), 0);
  assert_int_equal(receive_containers(WHOLE_FR, both, 2), 0);
  assert_int_equal(receive_containers(WHOLE_FR, both, 2), VE_ERR_STATE); /* CLOSED again */
  assert_mirrors("P1", SSCC1);
  assert_mirrors("P2", SSCC2);
  assert_int_equal(container_of(SSCC2)->status, PHARMA_CONTAINER_CLOSED);
  assert_int_equal(disaggregate(WHOLE_FR, SSCC3), VE_ERR_NOT_FOUND);
}

/* A pallet stolen on the road: the shipper opens it (no licence needed) and
 * reports the packs; pack-level moves are refused while they are inside. */
static void test_stolen_in_transit(void **state) {
  (void)state;
  static const char *const T[] = {"T1", "T2"};
  assert_int_equal(commission("BT", T, 2), 0);
  assert_int_equal(aggregate(MANUF, SSCC1, T, 2), 0);
  assert_int_equal(dispense1(MANUF, "T1"), VE_ERR_STATE);
  assert_int_equal(ship1c(MANUF, WHOLE_DE, "DE", SSCC1), 0);
  assert_int_equal(receive1(WHOLE_DE, "T1"), VE_ERR_STATE); /* receive the container, not the pack */
  assert_int_equal(decommission1(MANUF, PHARMA_REASON_STOLEN, "T1"), VE_ERR_STATE);
  assert_int_equal(disaggregate(WHOLE_DE, SSCC1), VE_ERR_PERMISSION); /* the recipient holds nothing yet */
  assert_int_equal(license(REG_DE, "DE", MANUF, PHARMA_KIND_MANUFACTURER, PHARMA_LICENCE_REVOKED), 0);
  assert_int_equal(disaggregate(MANUF, SSCC1), 0);
  pharma_pack_t p;
  pack_of("T1", &p);
  assert_false(p.in_container);
  assert_int_equal(p.status, PHARMA_PACK_IN_TRANSIT);
  assert_memory_equal(p.recipient, g_id[WHOLE_DE], 32);
  assert_string_equal(p.dest, "DE");
  assert_int_equal(pack_version("T1"), 1);
  assert_int_equal(container_of(SSCC1)->status, PHARMA_CONTAINER_OPENED);
  assert_int_equal(receive1c(WHOLE_DE, SSCC1), VE_ERR_STATE);
  assert_int_equal(decommission1(MANUF, PHARMA_REASON_STOLEN, "T1"), 0);
  assert_int_equal(verdict("T1", NULL), PHARMA_VERDICT_DECOMMISSIONED);
  assert_int_equal(receive1(WHOLE_DE, "T2"), 0); /* the other pack arrived after all */
  pack_of("T2", &p);
  assert_int_equal(p.status, PHARMA_PACK_ACTIVE);
  assert_int_equal(p.n_events, 5); /* commission, aggregate, ship, disaggregate, receive */
}

/* ---- the event reserve at its edge ---- */

static void test_event_reserve_edge(void **state) {
  (void)state;
  static const char *const E[] = {"E1", "E2"};
  assert_int_equal(commission("BE", E, 2), 0);
  int holder = MANUF, other = WHOLE_DE;
  pharma_pack_t p;
  /* Both packs move together until E1 has 59 events (1 + 2k). */
  for (;;) {
    pack_of("E1", &p);
    if (p.n_events == 59) break;
    assert_int_equal(ship(holder, other, "DE", E, 2), 0);
    assert_int_equal(packs_tx(other, TX_TYPE_PHARMA_RECEIVE, E, 2), 0);
    holder = other;
    other = other == WHOLE_DE ? WHOLE2_DE : WHOLE_DE;
  }
  assert_int_equal(ship1(holder, other, "DE", "E2"), 0);
  assert_int_equal(receive1(other, "E2"), 0);
  pack_of("E2", &p);
  assert_int_equal(p.n_events, 61);
  assert_int_equal(aggregate(other, SSCC2, &E[1], 1), VE_ERR_LIMIT); /* 61 + 5 > 64 */
  assert_int_equal(aggregate(holder, SSCC1, E, 1), 0);                /* 59 + 5 = 64 */
  pack_of("E1", &p);
  assert_int_equal(p.n_events, 60);
  int next = holder == WHOLE_DE ? WHOLE2_DE : WHOLE_DE;
  assert_int_equal(ship1c(holder, next, "DE", SSCC1), 0); /* 60 + 4 = 64 */
  assert_int_equal(receive1c(next, SSCC1), 0);
  pack_of("E1", &p);
  assert_int_equal(p.n_events, 62);
  assert_int_equal(ship1c(next, holder, "DE", SSCC1), VE_ERR_LIMIT); /* 62 + 4 > 64 */
  assert_int_equal(disaggregate(next, SSCC1), 0);                    /* the reserve holds */
  assert_int_equal(decommission1(next, PHARMA_REASON_DESTROYED, "E1"), 0);
  pack_of("E1", &p);
  assert_int_equal(p.n_events, PHARMA_PACK_EVENTS_MAX);
}

/* ---- 1000 packs: one container, one transaction ---- */

static void test_limits_1000(void **state) {
  (void)state;
  static char names[PHARMA_TX_PACKS_MAX + 1][8];
  static const char *s[PHARMA_TX_PACKS_MAX + 1];
  for (size_t i = 0; i <= PHARMA_TX_PACKS_MAX; i++) {
    snprintf(names[i], sizeof names[i], "M%04zu", i);
    s[i] = names[i];
  }
  assert_int_equal(commission("BM", s, PHARMA_TX_PACKS_MAX), 0);
  assert_int_equal(commission("BM", &s[PHARMA_TX_PACKS_MAX], 1), 0);
  /* 1001 packs cannot even be built. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(pharma_payload_aggregate(&p, SSCC1, refs(s, PHARMA_TX_PACKS_MAX + 1), PHARMA_TX_PACKS_MAX + 1),
                   VE_ERR_INVALID);
  ve_buf_free(&p);
  assert_int_equal(aggregate(MANUF, SSCC1, s, PHARMA_TX_PACKS_MAX), 0);
  assert_int_equal(container_of(SSCC1)->n_packs, PHARMA_TX_PACKS_MAX);
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(raw(k, pharma_container_key(k, SSCC1), &b), 0);
  assert_true(b.len <= PHARMA_CONTAINER_BYTES_MAX);
  assert_true(b.len > PHARMA_TX_PACKS_MAX * 32);
  ve_buf_free(&b);
  assert_int_equal(aggregate(MANUF, SSCC2, &s[PHARMA_TX_PACKS_MAX], 1), 0);
  /* Two containers of 1001 packs together: over one transaction's bound. */
  static const char *const both[] = {SSCC1, SSCC2};
  assert_int_equal(ship_containers(MANUF, WHOLE_DE, "DE", both, 2), VE_ERR_LIMIT);
  assert_int_equal(ship1c(MANUF, WHOLE_DE, "DE", SSCC1), 0);
  assert_int_equal(ship1c(MANUF, WHOLE_DE, "DE", SSCC2), 0);
  assert_int_equal(receive_containers(WHOLE_DE, both, 2), VE_ERR_LIMIT);
  assert_int_equal(receive1c(WHOLE_DE, SSCC1), 0);
  assert_mirrors("M0999", SSCC1);
  assert_int_equal(disaggregate(WHOLE_DE, SSCC1), 0);
  pharma_pack_t pk;
  pack_of("M0500", &pk);
  assert_false(pk.in_container);
  assert_int_equal(pk.n_events, 5);
}

/* ---- protocol 2: the types do not exist ---- */

static void test_protocol2_unknown(void **state) {
  (void)state;
  tchain_free(&g_c);
  chain_open(2);
  assert_int_equal(commission("B2", S3, 3), 0);
  assert_int_equal(aggregate(MANUF, SSCC1, S3, 3), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(disaggregate(MANUF, SSCC1), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(ship1c(MANUF, WHOLE_DE, "DE", SSCC1), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(receive1c(WHOLE_DE, SSCC1), VE_ERR_UNKNOWN_TYPE);
  /* Even a malformed payload is unknown_type: the protocol is checked first. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(ve_buf_append(&p, "\x09", 1), 0);
  assert_int_equal(run(MANUF, TX_TYPE_PHARMA_AGGREGATE, &p), VE_ERR_UNKNOWN_TYPE);
  /* The old types keep writing version-1 records. */
  assert_int_equal(ship1(MANUF, WHOLE_DE, "DE", "C1"), 0);
  assert_int_equal(receive1(WHOLE_DE, "C1"), 0);
  assert_int_equal(pack_version("C1"), 1);
  pharma_event_t e;
  for (uint32_t n = 0; n < 3; n++) assert_int_equal(event_of("C1", n, &e), 1);
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(raw(k, pharma_container_key(k, SSCC1), &b), VE_ERR_NOT_FOUND);
  ve_buf_free(&b);
  /* At protocol 3 (a fresh chain) the same payload is decoded: malformed. */
  tchain_free(&g_c);
  chain_open(3);
  ve_buf_init(&p, 0);
  assert_int_equal(ve_buf_append(&p, "\x09", 1), 0);
  assert_int_equal(run(MANUF, TX_TYPE_PHARMA_AGGREGATE, &p), VE_ERR_VERSION);
}

/* ---- encodings ---- */

static void hex_to(ve_buf_t *out, const char *hex) {
  ve_buf_reset(out);
  for (size_t i = 0; hex[i]; i += 2) {
    unsigned v;
    assert_int_equal(sscanf(hex + i, "%2x", &v), 1);
    uint8_t b = (uint8_t)v;
    assert_int_equal(ve_buf_append(out, &b, 1), 0);
  }
}

static void assert_bytes(const ve_buf_t *got, const char *hex) {
  ve_buf_t want;
  ve_buf_init(&want, 0);
  hex_to(&want, hex);
  assert_int_equal(got->len, want.len);
  assert_memory_equal(got->ptr, want.ptr, want.len);
  ve_buf_free(&want);
}

/* "106141411234567897" in hex */
#define SSCC1_HEX "313036313431343131323334353637383937"
#define SSCC2_HEX "303030303030303030303030303030303137"
#define GTIN_HEX "3034303036333831333333393331"
#define AA32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BB32 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CC32 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static void round_trip_payload(uint32_t type, const ve_buf_t *b) {
  static pharma_tx_t tx;
  assert_int_equal(pharma_payload_decode(type, ve_buf_slice(b), &tx), 0);
  ve_buf_t again;
  ve_buf_init(&again, 0);
  assert_int_equal(pharma_payload_encode(&tx, &again), 0);
  assert_int_equal(again.len, b->len);
  assert_memory_equal(again.ptr, b->ptr, b->len);
  ve_buf_free(&again);
}

static int payload_err(uint32_t type, const char *hex) {
  static pharma_tx_t tx;
  ve_buf_t b;
  ve_buf_init(&b, 0);
  hex_to(&b, hex);
  int rc = pharma_payload_decode(type, ve_buf_slice(&b), &tx);
  ve_buf_free(&b);
  return rc;
}

static void test_payload_vectors(void **state) {
  (void)state;
  ve_buf_t b;
  ve_buf_init(&b, 0);
  pharma_pack_ref_t r;
  assert_int_equal(pharma_pack_ref_set(&r, GTIN, "S/7"), 0);
  assert_int_equal(pharma_payload_aggregate(&b, SSCC1, &r, 1), 0);
  assert_bytes(&b, "01" SSCC1_HEX "01" GTIN_HEX "03532f37");
  round_trip_payload(TX_TYPE_PHARMA_AGGREGATE, &b);
  ve_buf_reset(&b);
  assert_int_equal(pharma_payload_disaggregate(&b, SSCC1), 0);
  assert_bytes(&b, "01" SSCC1_HEX);
  round_trip_payload(TX_TYPE_PHARMA_DISAGGREGATE, &b);
  ve_buf_reset(&b);
  uint8_t to[32];
  memset(to, 0xaa, sizeof to);
  const char *two[] = {SSCC1, SSCC2}; /* sorted by the builder */
  assert_int_equal(pharma_payload_ship_containers(&b, to, "FR", two, 2), 0);
  assert_bytes(&b, "01" AA32 "4652" "02" SSCC2_HEX SSCC1_HEX);
  round_trip_payload(TX_TYPE_PHARMA_SHIP_CONTAINERS, &b);
  ve_buf_reset(&b);
  assert_int_equal(pharma_payload_receive_containers(&b, two, 2), 0);
  assert_bytes(&b, "01" "02" SSCC2_HEX SSCC1_HEX);
  round_trip_payload(TX_TYPE_PHARMA_RECEIVE_CONTAINERS, &b);
  ve_buf_free(&b);

  /* Builders refuse what nodes refuse. */
  ve_buf_init(&b, 0);
  const char *dup[] = {SSCC1, SSCC1};
  assert_int_equal(pharma_payload_receive_containers(&b, dup, 2), VE_ERR_INVALID);
  const char *bad[] = {SSCC_BAD};
  assert_int_equal(pharma_payload_receive_containers(&b, bad, 1), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_receive_containers(&b, two, 0), VE_ERR_INVALID);
  const char *many[PHARMA_TX_CONTAINERS_MAX + 1];
  for (size_t i = 0; i <= PHARMA_TX_CONTAINERS_MAX; i++) many[i] = SSCC1;
  assert_int_equal(pharma_payload_receive_containers(&b, many, PHARMA_TX_CONTAINERS_MAX + 1), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_disaggregate(&b, "10614141123456789"), VE_ERR_INVALID);
  assert_int_equal(pharma_payload_aggregate(&b, SSCC_BAD, &r, 1), VE_ERR_INVALID);
  assert_int_equal(b.len, 0);
  ve_buf_free(&b);

  /* Decoders: strict. */
  assert_int_equal(payload_err(TX_TYPE_PHARMA_DISAGGREGATE, "02" SSCC1_HEX), VE_ERR_VERSION);
  assert_int_equal(payload_err(TX_TYPE_PHARMA_DISAGGREGATE, "01" SSCC1_HEX "00"), VE_ERR_TRAILING);
  assert_int_equal(payload_err(TX_TYPE_PHARMA_DISAGGREGATE, "01313036313431343131323334353637383938"),
                   VE_ERR_MALFORMED);
  assert_int_equal(payload_err(TX_TYPE_PHARMA_DISAGGREGATE, "01313036313431343131323334353637383941"),
                   VE_ERR_MALFORMED); /* a non-digit */
  assert_int_equal(payload_err(TX_TYPE_PHARMA_RECEIVE_CONTAINERS, "0102" SSCC1_HEX SSCC2_HEX),
                   VE_ERR_NONCANONICAL); /* unsorted */
  assert_int_equal(payload_err(TX_TYPE_PHARMA_RECEIVE_CONTAINERS, "0102" SSCC1_HEX SSCC1_HEX),
                   VE_ERR_NONCANONICAL); /* repeated */
  assert_int_equal(payload_err(TX_TYPE_PHARMA_RECEIVE_CONTAINERS, "0100"), VE_ERR_MALFORMED);
  assert_int_equal(payload_err(TX_TYPE_PHARMA_RECEIVE_CONTAINERS, "0111" SSCC1_HEX), VE_ERR_TOO_BIG); /* 17 */
  assert_int_equal(payload_err(TX_TYPE_PHARMA_AGGREGATE, "01" SSCC1_HEX "00"), VE_ERR_MALFORMED); /* no packs */
  assert_int_equal(payload_err(0x050f, "01"), VE_ERR_UNKNOWN_TYPE);
}

static void record_round_trip(int (*dec)(ve_slice_t, void *), int (*enc)(const void *, ve_buf_t *), void *rec,
                              const ve_buf_t *b) {
  assert_int_equal(dec(ve_buf_slice(b), rec), 0);
  ve_buf_t again;
  ve_buf_init(&again, 0);
  assert_int_equal(enc(rec, &again), 0);
  assert_int_equal(again.len, b->len);
  assert_memory_equal(again.ptr, b->ptr, b->len);
  ve_buf_free(&again);
}
#define RT(dec, enc, rec, b) \
  record_round_trip((int (*)(ve_slice_t, void *))dec, (int (*)(const void *, ve_buf_t *))enc, rec, b)

static void test_record_vectors(void **state) {
  (void)state;
  ve_buf_t b;
  ve_buf_init(&b, 0);
  static pharma_container_t c;
  memset(&c, 0, sizeof c);
  c.status = PHARMA_CONTAINER_IN_TRANSIT;
  memset(c.custodian, 0xaa, 32);
  memcpy(c.country, "DE", 3);
  memset(c.recipient, 0xbb, 32);
  memcpy(c.dest, "FR", 3);
  memset(c.packer, 0xcc, 32);
  c.packed_height = 7;
  c.height = 300;
  c.n_packs = 2;
  memset(c.packs[0], 0xaa, 32);
  memset(c.packs[1], 0xbb, 32);
  assert_int_equal(pharma_container_encode(&c, &b), 0);
  assert_bytes(&b, "0101" AA32 "4445" BB32 "4652" CC32 "07" "ac02" "02" AA32 BB32);
  RT(pharma_container_decode, pharma_container_encode, &c, &b);
  /* CLOSED has no recipient part; OPENED neither. */
  c.status = PHARMA_CONTAINER_OPENED;
  ve_buf_reset(&b);
  assert_int_equal(pharma_container_encode(&c, &b), 0);
  assert_bytes(&b, "0102" AA32 "4445" CC32 "07" "ac02" "02" AA32 BB32);
  RT(pharma_container_decode, pharma_container_encode, &c, &b);
  /* Refusals: unsorted keys, empty, unknown status, IN_TRANSIT without the
   * recipient part, trailing bytes. */
  ve_buf_t bad;
  ve_buf_init(&bad, 0);
  hex_to(&bad, "0102" AA32 "4445" CC32 "07" "ac02" "02" BB32 AA32);
  assert_int_equal(pharma_container_decode(ve_buf_slice(&bad), &c), VE_ERR_CORRUPT);
  hex_to(&bad, "0102" AA32 "4445" CC32 "07" "ac02" "02" AA32 AA32);
  assert_int_equal(pharma_container_decode(ve_buf_slice(&bad), &c), VE_ERR_CORRUPT);
  hex_to(&bad, "0102" AA32 "4445" CC32 "07" "ac02" "00");
  assert_int_equal(pharma_container_decode(ve_buf_slice(&bad), &c), VE_ERR_CORRUPT);
  hex_to(&bad, "0103" AA32 "4445" CC32 "07" "ac02" "01" AA32);
  assert_int_equal(pharma_container_decode(ve_buf_slice(&bad), &c), VE_ERR_CORRUPT);
  hex_to(&bad, "0101" AA32 "4445" CC32 "07" "ac02" "01" AA32);
  assert_int_equal(pharma_container_decode(ve_buf_slice(&bad), &c), VE_ERR_CORRUPT);
  hex_to(&bad, "0102" AA32 "4445" CC32 "07" "ac02" "01" AA32 "00");
  assert_int_equal(pharma_container_decode(ve_buf_slice(&bad), &c), VE_ERR_CORRUPT);
  hex_to(&bad, "0202" AA32 "4445" CC32 "07" "ac02" "01" AA32);
  assert_int_equal(pharma_container_decode(ve_buf_slice(&bad), &c), VE_ERR_CORRUPT);

  /* A pack: version 1 outside a container (the bytes it always had), version
   * 2 = the same fields + the SSCC inside one. */
  pharma_pack_t p;
  memset(&p, 0, sizeof p);
  assert_int_equal(pharma_pack_ref_set(&p.ref, GTIN, "S/7"), 0);
  memcpy(p.batch, "L1", 3);
  p.batch_len = 2;
  p.status = PHARMA_PACK_IN_TRANSIT;
  memset(p.custodian, 0xaa, 32);
  memcpy(p.country, "DE", 3);
  memset(p.recipient, 0xbb, 32);
  memcpy(p.dest, "FR", 3);
  p.n_events = 3;
  p.height = 9;
  ve_buf_reset(&b);
  assert_int_equal(pharma_pack_encode(&p, &b), 0);
  const char *v1 = "01" GTIN_HEX "03532f37" "024c31" "01" AA32 "4445" BB32 "4652" "03" "09";
  assert_bytes(&b, v1);
  RT(pharma_pack_decode, pharma_pack_encode, &p, &b);
  assert_false(p.in_container);
  p.in_container = true;
  memcpy(p.sscc, SSCC1, 19);
  ve_buf_reset(&b);
  assert_int_equal(pharma_pack_encode(&p, &b), 0);
  assert_bytes(&b, "02" GTIN_HEX "03532f37" "024c31" "01" AA32 "4445" BB32 "4652" "03" "09" SSCC1_HEX);
  RT(pharma_pack_decode, pharma_pack_encode, &p, &b);
  assert_true(p.in_container);
  assert_string_equal(p.sscc, SSCC1);
  /* Only a movable pack is in a container; v2 without its SSCC; a bad SSCC. */
  hex_to(&bad, "02" GTIN_HEX "03532f37" "024c31" "02" AA32 "4445" "03" "09" SSCC1_HEX);
  assert_int_equal(pharma_pack_decode(ve_buf_slice(&bad), &p), VE_ERR_CORRUPT);
  hex_to(&bad, "02" GTIN_HEX "03532f37" "024c31" "00" AA32 "4445" "03" "09");
  assert_int_equal(pharma_pack_decode(ve_buf_slice(&bad), &p), VE_ERR_CORRUPT);
  hex_to(&bad, "02" GTIN_HEX "03532f37" "024c31" "00" AA32 "4445" "03" "09" "313036313431343131323334353637383938");
  assert_int_equal(pharma_pack_decode(ve_buf_slice(&bad), &p), VE_ERR_CORRUPT);
  hex_to(&bad, "03" GTIN_HEX "03532f37" "024c31" "00" AA32 "4445" "03" "09");
  assert_int_equal(pharma_pack_decode(ve_buf_slice(&bad), &p), VE_ERR_CORRUPT);
  memset(&p, 0, sizeof p);
  assert_int_equal(pharma_pack_ref_set(&p.ref, GTIN, "S/7"), 0);
  memcpy(p.batch, "L1", 3);
  p.batch_len = 2;
  p.status = PHARMA_PACK_DISPENSED;
  p.n_events = 3;
  memcpy(p.country, "DE", 3);
  p.in_container = true;
  memcpy(p.sscc, SSCC1, 19);
  assert_int_equal(pharma_pack_encode(&p, &b), VE_ERR_INVALID);

  /* Events: version 2 exactly for AGGREGATE / DISAGGREGATE. */
  pharma_event_t e;
  memset(&e, 0, sizeof e);
  e.kind = PHARMA_EVENT_AGGREGATE;
  e.height = 5;
  memset(e.from, 0xaa, 32);
  memcpy(e.country, "DE", 3);
  memcpy(e.sscc, SSCC1, 19);
  ve_buf_reset(&b);
  assert_int_equal(pharma_event_encode(&e, &b), 0);
  const char *zero32 = "0000000000000000000000000000000000000000000000000000000000000000";
  char want[512];
  snprintf(want, sizeof want, "0206" "05" AA32 "%s" "4445" SSCC1_HEX, zero32);
  assert_bytes(&b, want);
  RT(pharma_event_decode, pharma_event_encode, &e, &b);
  e.kind = PHARMA_EVENT_DISAGGREGATE;
  ve_buf_reset(&b);
  assert_int_equal(pharma_event_encode(&e, &b), 0);
  snprintf(want, sizeof want, "0207" "05" AA32 "%s" "4445" SSCC1_HEX, zero32);
  assert_bytes(&b, want);
  e.kind = PHARMA_EVENT_SHIP; /* kinds 1..5: version 1, no SSCC */
  memset(e.to, 0xbb, 32);
  ve_buf_reset(&b);
  assert_int_equal(pharma_event_encode(&e, &b), 0);
  assert_bytes(&b, "0102" "05" AA32 BB32 "4445");
  RT(pharma_event_decode, pharma_event_encode, &e, &b);
  assert_string_equal(e.sscc, "");
  snprintf(want, sizeof want, "0106" "05" AA32 "%s" "4445", zero32); /* AGGREGATE as version 1 */
  hex_to(&bad, want);
  assert_int_equal(pharma_event_decode(ve_buf_slice(&bad), &e), VE_ERR_CORRUPT);
  hex_to(&bad, "0202" "05" AA32 BB32 "4445" SSCC1_HEX); /* SHIP as version 2 */
  assert_int_equal(pharma_event_decode(ve_buf_slice(&bad), &e), VE_ERR_CORRUPT);
  snprintf(want, sizeof want, "0208" "05" AA32 "%s" "4445" SSCC1_HEX, zero32); /* kind 8 */
  hex_to(&bad, want);
  assert_int_equal(pharma_event_decode(ve_buf_slice(&bad), &e), VE_ERR_CORRUPT);
  ve_buf_free(&bad);
  ve_buf_free(&b);

  assert_string_equal(pharma_event_kind_name(PHARMA_EVENT_AGGREGATE), "aggregate");
  assert_string_equal(pharma_event_kind_name(PHARMA_EVENT_DISAGGREGATE), "disaggregate");
  assert_string_equal(pharma_container_status_name(PHARMA_CONTAINER_OPENED), "opened");
  assert_string_equal(pharma_container_status_name(3), "unknown");
  uint8_t k[PHARMA_KEY_BYTES_MAX];
  size_t kl = pharma_container_key(k, SSCC1);
  assert_int_equal(kl, 6 + 18);
  assert_memory_equal(k, "phr/c/" SSCC1, kl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      cmocka_unit_test(test_sscc_check_digit),
      T(test_aggregate_ship_receive_disaggregate),
      T(test_aggregate_refusals),
      T(test_container_ship_receive_refusals),
      T(test_stolen_in_transit),
      T(test_event_reserve_edge),
      T(test_limits_1000),
      T(test_protocol2_unknown),
      cmocka_unit_test(test_payload_vectors),
      cmocka_unit_test(test_record_vectors),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
