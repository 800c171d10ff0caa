/* property_test.c — the land registry on a real chain (memory store, real
 * blocks through tchain): registration and its refusals (duplicate, signer
 * without ROLE_LAND_REGISTRAR, every owner-list rule, unknown, suspended and
 * revoked owners); transfers with exactly the required consents and every way
 * a consent set can be wrong (missing seller, buyer or mortgage holder; an
 * extra consent; a consent for another version, chain or parcel; one signed by
 * a rotated-away key; a suspended consenter); the revoked-owner rule; arrest
 * blocking a transfer until its holder releases it; the encumbrance limit; the
 * history and the owner index after each step; codec round trips and strict
 * refusals of every decoder. Each check asserts the exact result code, and
 * that a refused transaction left the title untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "apps/property/property.h"
#include "base/err.h"
#include "codec/codec.h"
#include "tchain.h"

#define CHAIN "veche-prop-1"
#define NCITIZENS 20

static const ledger_registry_t REG = {&identity_auth, {&identity_app, &property_app}, 2, NULL};

typedef struct {
  vcrypto_keypair_t kp;
  uint8_t id[32];
} person_t;

/* Citizens: 0 alice, 1 bob, 2 carol, 3 dave, 4 bank, 5 court, 6 tenant,
 * 7 suspended, 8 revoked, 9.. extras (for the 17-owner list). */
enum { ALICE, BOB, CAROL, DAVE, BANK, COURT, TENANT, SUSP, REVK, EXTRA };

typedef struct {
  tchain_t tc;
  person_t admin, land, notary;
  person_t p[NCITIZENS];
  person_t stranger; /* never registered */
} chain_t;

static chain_t *g;

static void person(person_t *p, uint8_t n) { tchain_key(&p->kp, p->id, n, n); }

static int32_t run(const person_t *signer, uint32_t type, const ve_buf_t *payload) {
  return tchain_run1(&g->tc, &signer->kp, type, ve_buf_slice(payload));
}

static void status_tx(uint32_t type, const uint8_t id[32]) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_status(&p, id, "test"), 0);
  assert_int_equal(run(&g->admin, type, &p), 0);
  ve_buf_free(&p);
}

static int setup(void **state) {
  (void)state;
  g = calloc(1, sizeof *g);
  tchain_init(&g->tc, CHAIN, &REG);
  person(&g->admin, 90);
  person(&g->land, 91);
  person(&g->notary, 92);
  person(&g->stranger, 93);
  tchain_authority(&g->tc, "ministry", &g->admin.kp, ROLE_ADMIN | ROLE_REGISTRAR);
  tchain_authority(&g->tc, "land registry", &g->land.kp, ROLE_LAND_REGISTRAR);
  tchain_authority(&g->tc, "notary", &g->notary.kp, ROLE_NOTARY);
  tchain_open(&g->tc, NULL);
  ve_buf_t txs[NCITIZENS];
  int32_t res[NCITIZENS];
  for (int i = 0; i < NCITIZENS; i++) {
    person(&g->p[i], (uint8_t)(100 + i));
    ve_buf_t pl;
    ve_buf_init(&pl, 0);
    uint8_t digest[32] = {(uint8_t)i};
    assert_int_equal(identity_payload_register(&pl, g->p[i].kp.pk, digest, NULL, 0), 0);
    ve_buf_init(&txs[i], 0);
    tchain_tx(&g->tc, &txs[i], &g->admin.kp, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&pl));
    ve_buf_free(&pl);
  }
  tchain_commit(&g->tc, txs, NCITIZENS, res);
  for (int i = 0; i < NCITIZENS; i++) assert_int_equal(res[i], 0), ve_buf_free(&txs[i]);
  status_tx(TX_TYPE_IDENTITY_SUSPEND, g->p[SUSP].id);
  status_tx(TX_TYPE_IDENTITY_REVOKE, g->p[REVK].id);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&g->tc);
  free(g);
  return 0;
}

/* ---- helpers ---- */

static void read_title(const uint8_t id[32], property_title_t *t, int want) {
  store_txn_t *tx;
  assert_int_equal(store_txn_begin(g->tc.store, false, &tx), 0);
  assert_int_equal(property_get(tx, id, t), want);
  store_txn_abort(tx);
}

static void read_event(const uint8_t id[32], uint64_t v, property_event_t *e, int want) {
  store_txn_t *tx;
  assert_int_equal(store_txn_begin(g->tc.store, false, &tx), 0);
  assert_int_equal(property_history_get(tx, id, v, e), want);
  store_txn_abort(tx);
}

/* Does owner's index list exactly parcel (among possibly others)? */
static bool owns(const person_t *owner, const uint8_t parcel[32]) {
  store_txn_t *tx;
  assert_int_equal(store_txn_begin(g->tc.store, false, &tx), 0);
  uint8_t ids[PROPERTY_OWNED_PAGE_MAX][32];
  size_t n;
  bool more;
  assert_int_equal(property_owned_list(tx, owner->id, NULL, PROPERTY_OWNED_PAGE_MAX, ids, &n, &more), 0);
  store_txn_abort(tx);
  for (size_t i = 0; i < n; i++)
    if (!memcmp(ids[i], parcel, 32)) return true;
  return false;
}

/* Owner lists in id order. */
static int cmp_owner(const void *a, const void *b) { return memcmp(a, b, 32); }

static size_t owners_of(property_owner_t *o, const int *who, const uint64_t *parts, size_t n) {
  for (size_t i = 0; i < n; i++) {
    memcpy(o[i].id, g->p[who[i]].id, 32);
    o[i].parts = parts ? parts[i] : 1;
  }
  qsort(o, n, sizeof o[0], cmp_owner);
  return n;
}

static void reg_action(property_action_t *a, const char *cad, const int *who, const uint64_t *parts, size_t n) {
  memset(a, 0, sizeof *a);
  a->type = TX_TYPE_PROPERTY_REGISTER;
  snprintf(a->cadastral, sizeof a->cadastral, "%s", cad);
  memset(a->plan_digest, 0x11, 32);
  a->area_m2 = 812;
  snprintf(a->district, sizeof a->district, "north_3");
  a->n_owners = owners_of(a->owners, who, parts, n);
  memset(a->digest, 0x22, 32);
}

static int32_t submit(const person_t *signer, const property_action_t *a) {
  ve_buf_t p;
  ve_buf_init(&p, PROPERTY_PAYLOAD_BYTES_MAX);
  assert_int_equal(property_payload_encode(&p, a), 0);
  int32_t rc = run(signer, a->type, &p);
  ve_buf_free(&p);
  return rc;
}

/* Registers cad owned by who[] (equal parts) and returns its id. */
static void register_parcel(const char *cad, const int *who, size_t n, uint8_t id[32]) {
  property_action_t a;
  reg_action(&a, cad, who, NULL, n);
  assert_int_equal(submit(&g->land, &a), 0);
  assert_int_equal(property_parcel_id(id, cad), 0);
}

/* Consent by p (key kp, which may be a stale one) for a on chain. */
static void consent(property_action_t *a, const uint8_t id[32], const vcrypto_keypair_t *kp, const char *chain) {
  uint8_t sig[64];
  assert_int_equal(property_consent_sign(sig, kp, ve_slice(chain, strlen(chain)), a), 0);
  assert_int_equal(property_consent_add(a, id, sig), 0);
}

static void consents(property_action_t *a, const int *who, size_t n) {
  for (size_t i = 0; i < n; i++) consent(a, g->p[who[i]].id, &g->p[who[i]].kp, CHAIN);
}

static void transfer_action(property_action_t *a, const uint8_t parcel[32], uint64_t v, const int *who, size_t n) {
  memset(a, 0, sizeof *a);
  a->type = TX_TYPE_PROPERTY_TRANSFER;
  memcpy(a->parcel, parcel, 32);
  a->version = v;
  a->n_owners = owners_of(a->owners, who, NULL, n);
  memset(a->digest, 0x33, 32);
}

static void encumber_action(property_action_t *a, const uint8_t parcel[32], uint64_t v, unsigned kind, int holder) {
  memset(a, 0, sizeof *a);
  a->type = TX_TYPE_PROPERTY_ENCUMBER;
  memcpy(a->parcel, parcel, 32);
  a->version = v;
  a->kind = (uint8_t)kind;
  memcpy(a->holder, g->p[holder].id, 32);
  memset(a->digest, 0x44, 32);
}

static void release_action(property_action_t *a, const uint8_t parcel[32], uint64_t v, uint64_t number) {
  memset(a, 0, sizeof *a);
  a->type = TX_TYPE_PROPERTY_RELEASE;
  memcpy(a->parcel, parcel, 32);
  a->version = v;
  a->number = number;
  memset(a->digest, 0x55, 32);
}

static void assert_owners(const property_owner_t *o, size_t n, const int *who, size_t k) {
  property_owner_t want[PROPERTY_OWNERS_MAX];
  assert_int_equal(n, owners_of(want, who, NULL, k));
  for (size_t i = 0; i < n; i++) assert_memory_equal(o[i].id, want[i].id, 32);
}

/* ---- registration ---- */

static void test_register(void **state) {
  (void)state;
  int who[] = {ALICE, BOB};
  uint64_t parts[] = {1, 2};
  property_action_t a;
  reg_action(&a, "77:01:0001001:1001", who, parts, 2);
  uint8_t id[32];
  assert_int_equal(property_parcel_id(id, a.cadastral), 0);
  assert_int_equal(submit(&g->land, &a), 0);
  uint64_t h = tchain_height(&g->tc);
  property_title_t t;
  read_title(id, &t, 0);
  assert_string_equal(t.cadastral, "77:01:0001001:1001");
  assert_memory_equal(t.registrar, g->land.id, 32);
  assert_int_equal(t.version, 1);
  assert_int_equal(t.registered_height, h);
  assert_int_equal(t.updated_height, h);
  assert_int_equal(t.area_m2, 812);
  assert_string_equal(t.district, "north_3");
  assert_int_equal(t.n_owners, 2);
  assert_int_equal(property_parts_sum(t.owners, 2), 3);
  assert_int_equal(t.n_encumbrances, 0);
  assert_int_equal(t.next_number, 1);
  property_event_t e;
  read_event(id, 1, &e, 0);
  assert_int_equal(e.kind, PROPERTY_EV_REGISTER);
  assert_int_equal(e.height, h);
  assert_memory_equal(e.signer, g->land.id, 32);
  assert_int_equal(e.n_owners, 2);
  read_event(id, 2, &e, VE_ERR_NOT_FOUND);
  assert_true(owns(&g->p[ALICE], id));
  assert_true(owns(&g->p[BOB], id));
  assert_false(owns(&g->p[CAROL], id));

  /* Once only; only a land registrar; the title is untouched. */
  assert_int_equal(submit(&g->land, &a), VE_ERR_EXISTS);
  reg_action(&a, "77:01:0001001:1002", who, parts, 2);
  assert_int_equal(submit(&g->notary, &a), VE_ERR_PERMISSION);
  assert_int_equal(submit(&g->admin, &a), VE_ERR_PERMISSION);
  assert_int_equal(property_parcel_id(id, a.cadastral), 0);
  read_title(id, &t, VE_ERR_NOT_FOUND);
}

/* A REGISTER payload written field by field (docs/property.md), so owner
 * lists the builder refuses can reach the ledger. */
static void raw_register(ve_buf_t *p, const char *cad, const property_owner_t *o, size_t n) {
  ve_buf_init(p, 0);
  codec_writer_t w;
  codec_writer_init(&w, p);
  codec_put_u8(&w, 1);
  codec_put_bytes(&w, (const uint8_t *)cad, strlen(cad), 64);
  uint8_t d[32] = {1};
  codec_put_fixed(&w, d, 32);
  codec_put_uvarint(&w, 50);
  codec_put_bytes(&w, (const uint8_t *)"", 0, 16);
  codec_put_uvarint(&w, n);
  for (size_t i = 0; i < n; i++) {
    codec_put_fixed(&w, o[i].id, 32);
    codec_put_uvarint(&w, o[i].parts);
  }
  codec_put_fixed(&w, d, 32);
  assert_int_equal(codec_writer_finish(&w), 0);
}

static int32_t run_raw_owners(const property_owner_t *o, size_t n) {
  ve_buf_t p;
  raw_register(&p, "RAW-1", o, n);
  int32_t rc = run(&g->land, TX_TYPE_PROPERTY_REGISTER, &p);
  ve_buf_free(&p);
  return rc;
}

static void test_owner_rules(void **state) {
  (void)state;
  property_owner_t o[PROPERTY_OWNERS_MAX + 1];
  int two[] = {ALICE, BOB};
  owners_of(o, two, NULL, 2);
  property_owner_t swapped[2] = {o[1], o[0]};
  assert_int_equal(run_raw_owners(swapped, 2), VE_ERR_NONCANONICAL); /* unsorted */
  property_owner_t dup[2] = {o[0], o[0]};
  assert_int_equal(run_raw_owners(dup, 2), VE_ERR_NONCANONICAL); /* repeated */
  property_owner_t zero[2] = {o[0], o[1]};
  zero[1].parts = 0;
  assert_int_equal(run_raw_owners(zero, 2), VE_ERR_INVALID);
  property_owner_t even[2] = {o[0], o[1]};
  even[0].parts = 2, even[1].parts = 4; /* 1:2 written as 2:4 */
  assert_int_equal(run_raw_owners(even, 2), VE_ERR_NONCANONICAL);
  property_owner_t big[2] = {o[0], o[1]};
  big[0].parts = PROPERTY_PARTS_SUM_MAX, big[1].parts = 1;
  assert_int_equal(run_raw_owners(big, 2), VE_ERR_TOO_BIG);
  assert_int_equal(run_raw_owners(o, 0), VE_ERR_INVALID);
  int all[PROPERTY_OWNERS_MAX + 1];
  for (int i = 0; i < PROPERTY_OWNERS_MAX + 1; i++) all[i] = i < SUSP ? i : i + 2; /* skip SUSP, REVK */
  owners_of(o, all, NULL, PROPERTY_OWNERS_MAX + 1);
  assert_int_equal(run_raw_owners(o, PROPERTY_OWNERS_MAX + 1), VE_ERR_TOO_BIG);
  /* The builder refuses the same lists before anything is signed. */
  property_action_t a;
  reg_action(&a, "RAW-1", all, NULL, PROPERTY_OWNERS_MAX);
  for (size_t i = 0; i < a.n_owners; i++) a.owners[i].parts = 2;
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(property_payload_encode(&p, &a), VE_ERR_NONCANONICAL);
  assert_int_equal(p.len, 0);
  ve_buf_free(&p);

  /* Owners must be registered, active identities. */
  property_owner_t one[1] = {{{0}, 1}};
  memcpy(one[0].id, g->stranger.id, 32);
  assert_int_equal(run_raw_owners(one, 1), VE_ERR_NOT_FOUND);
  memcpy(one[0].id, g->p[SUSP].id, 32);
  assert_int_equal(run_raw_owners(one, 1), VE_ERR_SUSPENDED);
  memcpy(one[0].id, g->p[REVK].id, 32);
  assert_int_equal(run_raw_owners(one, 1), VE_ERR_REVOKED);
  /* Sixteen owners is fine, with unequal parts. */
  owners_of(o, all, NULL, PROPERTY_OWNERS_MAX);
  o[3].parts = 5;
  assert_int_equal(run_raw_owners(o, PROPERTY_OWNERS_MAX), 0);
  uint8_t id[32];
  assert_int_equal(property_parcel_id(id, "RAW-1"), 0);
  property_title_t t;
  read_title(id, &t, 0);
  assert_int_equal(t.n_owners, PROPERTY_OWNERS_MAX);
  assert_int_equal(property_parts_sum(t.owners, t.n_owners), PROPERTY_OWNERS_MAX + 4);
}

/* ---- transfers and consents ---- */

static void test_transfer_consents(void **state) {
  (void)state;
  int seller[] = {ALICE}, buyer[] = {BOB}, both[] = {ALICE, BOB};
  uint8_t id[32];
  register_parcel("50:20:0030405:17", seller, 1, id);
  property_action_t a;
  property_title_t t;

  transfer_action(&a, id, 1, buyer, 1);
  consents(&a, buyer, 1); /* the buyer alone */
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  transfer_action(&a, id, 1, buyer, 1);
  consents(&a, seller, 1); /* the seller alone: a title is not put on someone without consent */
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  transfer_action(&a, id, 1, buyer, 1);
  int extra[] = {ALICE, BOB, CAROL};
  consents(&a, extra, 3); /* an extra consenter */
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID);
  transfer_action(&a, id, 1, buyer, 1);
  consent(&a, g->p[ALICE].id, &g->p[CAROL].kp, CHAIN); /* signed by someone else's key */
  consents(&a, buyer, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_BAD_SIG);
  transfer_action(&a, id, 1, buyer, 1);
  consent(&a, g->p[ALICE].id, &g->p[ALICE].kp, "veche-other-9"); /* another chain */
  consents(&a, buyer, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_BAD_SIG);
  /* A consent to another parcel's transfer does not carry over. */
  uint8_t other[32];
  register_parcel("50:20:0030405:18", seller, 1, other);
  property_action_t b;
  transfer_action(&b, other, 1, buyer, 1);
  consents(&b, both, 2);
  transfer_action(&a, id, 1, buyer, 1);
  a.n_consents = b.n_consents;
  memcpy(a.consents, b.consents, sizeof b.consents);
  assert_int_equal(submit(&g->land, &a), VE_ERR_BAD_SIG);
  /* Wrong expected version. */
  transfer_action(&a, id, 2, buyer, 1);
  consents(&a, both, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  /* A registrar records; the parties alone cannot. */
  transfer_action(&a, id, 1, buyer, 1);
  consents(&a, both, 2);
  assert_int_equal(submit(&g->p[ALICE], &a), VE_ERR_PERMISSION);
  read_title(id, &t, 0);
  assert_int_equal(t.version, 1);
  assert_true(owns(&g->p[ALICE], id));

  /* Exactly the required consents. */
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_int_equal(t.version, 2);
  assert_owners(t.owners, t.n_owners, buyer, 1);
  assert_false(owns(&g->p[ALICE], id));
  assert_true(owns(&g->p[BOB], id));
  assert_true(owns(&g->p[ALICE], other)); /* the other parcel is still hers */
  property_event_t e;
  read_event(id, 2, &e, 0);
  assert_int_equal(e.kind, PROPERTY_EV_TRANSFER);
  assert_memory_equal(e.digest, a.digest, 32);
  assert_owners(e.owners, e.n_owners, buyer, 1);
  read_event(id, 1, &e, 0);
  assert_owners(e.owners, e.n_owners, seller, 1);

  /* The same transaction replayed: stale version; relabelled for v2: alice
   * is no longer an owner, so her consent is one too many. */
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  a.version = 2;
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID);

  /* Co-ownership: bob sells a half to carol and keeps half. */
  int bc[] = {BOB, CAROL};
  transfer_action(&a, id, 2, bc, 2);
  consents(&a, bc, 2);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_owners(t.owners, t.n_owners, bc, 2);
  assert_true(owns(&g->p[BOB], id) && owns(&g->p[CAROL], id));
  /* The consents for version 2 replayed at version 3, where the same two
   * parties would have to consent: the signatures no longer verify. */
  a.version = 3;
  assert_int_equal(submit(&g->land, &a), VE_ERR_BAD_SIG);
  read_title(id, &t, 0);
  assert_int_equal(t.version, 3);
}

static void test_rotated_key(void **state) {
  (void)state;
  int seller[] = {DAVE}, buyer[] = {ALICE};
  uint8_t id[32];
  register_parcel("ROT/1", seller, 1, id);
  /* dave rotates to a new key. */
  vcrypto_keypair_t old = g->p[DAVE].kp, fresh;
  tchain_key(&fresh, NULL, 150, 7);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(identity_payload_rotate(&p, tchain_id(&g->tc), g->p[DAVE].id, &fresh), 0);
  assert_int_equal(tchain_run1(&g->tc, &old, TX_TYPE_IDENTITY_ROTATE_KEY, ve_buf_slice(&p)), 0);
  ve_buf_free(&p);
  property_action_t a;
  transfer_action(&a, id, 1, buyer, 1);
  consent(&a, g->p[DAVE].id, &old, CHAIN);
  consents(&a, buyer, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_BAD_SIG);
  transfer_action(&a, id, 1, buyer, 1);
  consent(&a, g->p[DAVE].id, &fresh, CHAIN);
  consents(&a, buyer, 1);
  assert_int_equal(submit(&g->land, &a), 0);
  g->p[DAVE].kp = fresh;
}

static void test_mortgage_and_arrest(void **state) {
  (void)state;
  int owner[] = {ALICE}, buyer[] = {BOB}, both[] = {ALICE, BOB};
  uint8_t id[32];
  register_parcel("MORT-1", owner, 1, id);
  property_action_t a;
  property_title_t t;
  /* Mortgage: the owner and the bank consent. */
  encumber_action(&a, id, 1, PROPERTY_MORTGAGE, BANK);
  consents(&a, owner, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  int ob[] = {ALICE, BANK};
  encumber_action(&a, id, 1, PROPERTY_MORTGAGE, BANK);
  consents(&a, ob, 2);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_int_equal(t.version, 2);
  assert_int_equal(t.n_encumbrances, 1);
  assert_int_equal(t.encumbrances[0].number, 1);
  assert_int_equal(t.encumbrances[0].kind, PROPERTY_MORTGAGE);
  assert_memory_equal(t.encumbrances[0].holder, g->p[BANK].id, 32);
  property_event_t e;
  read_event(id, 2, &e, 0);
  assert_int_equal(e.kind, PROPERTY_EV_ENCUMBER);
  assert_int_equal(e.number, 1);
  assert_int_equal(e.enc_kind, PROPERTY_MORTGAGE);

  /* A sale needs the bank too. */
  transfer_action(&a, id, 2, buyer, 1);
  consents(&a, both, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  /* A suspended holder cannot consent. */
  encumber_action(&a, id, 2, PROPERTY_LEASE, SUSP);
  int os[] = {ALICE, SUSP};
  consents(&a, os, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_SUSPENDED);

  /* A court seizes it: no consents; a sale is refused even with them all. */
  encumber_action(&a, id, 2, PROPERTY_ARREST, COURT);
  consents(&a, owner, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID); /* nobody consents to an arrest */
  encumber_action(&a, id, 2, PROPERTY_ARREST, COURT);
  assert_int_equal(submit(&g->land, &a), 0);
  transfer_action(&a, id, 3, buyer, 1);
  int all3[] = {ALICE, BOB, BANK};
  consents(&a, all3, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  /* No new voluntary burden while seized. */
  encumber_action(&a, id, 3, PROPERTY_LEASE, TENANT);
  int ot[] = {ALICE, TENANT};
  consents(&a, ot, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  /* Release of the arrest: its holder, the court, consents (not the owner). */
  release_action(&a, id, 3, 2);
  consents(&a, owner, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID);
  release_action(&a, id, 3, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  release_action(&a, id, 3, 9);
  int court[] = {COURT};
  consents(&a, court, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_NOT_FOUND);
  release_action(&a, id, 3, 2);
  consents(&a, court, 1);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_int_equal(t.version, 4);
  assert_int_equal(t.n_encumbrances, 1);
  read_event(id, 4, &e, 0);
  assert_int_equal(e.kind, PROPERTY_EV_RELEASE);
  assert_int_equal(e.number, 2);
  assert_int_equal(e.enc_kind, PROPERTY_ARREST);
  assert_memory_equal(e.holder, g->p[COURT].id, 32);

  /* Now the sale goes through with owner, buyer and bank; the mortgage stays. */
  transfer_action(&a, id, 4, buyer, 1);
  consents(&a, all3, 3);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_int_equal(t.version, 5);
  assert_owners(t.owners, t.n_owners, buyer, 1);
  assert_int_equal(t.n_encumbrances, 1);
  assert_int_equal(t.next_number, 3);
  /* The bank releases its mortgage; numbers are never reused. */
  release_action(&a, id, 5, 1);
  int bank[] = {BANK};
  consents(&a, bank, 1);
  assert_int_equal(submit(&g->land, &a), 0);
  encumber_action(&a, id, 6, PROPERTY_EASEMENT, CAROL);
  int bcar[] = {BOB, CAROL};
  consents(&a, bcar, 2);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_int_equal(t.n_encumbrances, 1);
  assert_int_equal(t.encumbrances[0].number, 3);
  /* History: the owners in order. */
  const int *want[] = {owner, NULL, NULL, NULL, buyer};
  for (uint64_t v = 1; v <= 7; v++) {
    read_event(id, v, &e, 0);
    if (v == 1 || v == 5) assert_owners(e.owners, e.n_owners, want[v - 1], 1);
  }
  read_event(id, 8, &e, VE_ERR_NOT_FOUND);
}

static void test_revoked_owner(void **state) {
  (void)state;
  /* carol and dave own it; dave's identity is revoked (deceased); the heir
   * (alice) and carol consent, dave cannot and need not. */
  int cd[] = {CAROL, EXTRA};
  uint8_t id[32];
  register_parcel("INH-1", cd, 2, id);
  status_tx(TX_TYPE_IDENTITY_REVOKE, g->p[EXTRA].id);
  int newo[] = {CAROL, ALICE};
  property_action_t a;
  transfer_action(&a, id, 1, newo, 2);
  int ce[] = {CAROL, ALICE, EXTRA};
  consents(&a, ce, 3); /* the revoked owner's consent is not wanted */
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID);
  transfer_action(&a, id, 1, newo, 2);
  int ca[] = {CAROL, ALICE};
  consents(&a, ca, 2);
  assert_int_equal(submit(&g->land, &a), 0);
  assert_false(owns(&g->p[EXTRA], id));
  assert_true(owns(&g->p[ALICE], id));
}

static void test_encumbrance_limit(void **state) {
  (void)state;
  int owner[] = {BOB};
  uint8_t id[32];
  register_parcel("LIM-1", owner, 1, id);
  property_action_t a;
  uint64_t v = 1;
  for (int i = 0; i < PROPERTY_ENCUMBRANCES_MAX; i++, v++) {
    encumber_action(&a, id, v, PROPERTY_ARREST, COURT);
    assert_int_equal(submit(&g->land, &a), 0);
  }
  encumber_action(&a, id, v, PROPERTY_ARREST, COURT);
  assert_int_equal(submit(&g->land, &a), VE_ERR_LIMIT);
  property_title_t t;
  read_title(id, &t, 0);
  assert_int_equal(t.n_encumbrances, PROPERTY_ENCUMBRANCES_MAX);
  assert_int_equal(t.version, v);
  release_action(&a, id, v, 1);
  int court[] = {COURT};
  consents(&a, court, 1);
  assert_int_equal(submit(&g->land, &a), 0);
  /* An unknown holder is refused. */
  encumber_action(&a, id, v + 1, PROPERTY_ARREST, COURT);
  memcpy(a.holder, g->stranger.id, 32);
  assert_int_equal(submit(&g->land, &a), VE_ERR_NOT_FOUND);
}

static void test_owned_paging(void **state) {
  (void)state;
  /* The last citizen (in no other test) owns five parcels; list them two at
   * a time. */
  enum { PAGER = NCITIZENS - 1 };
  int owner[] = {PAGER};
  uint8_t ids[5][32];
  for (int i = 0; i < 5; i++) {
    char cad[16];
    snprintf(cad, sizeof cad, "PAGE-%d", i);
    register_parcel(cad, owner, 1, ids[i]);
  }
  qsort(ids, 5, 32, cmp_owner);
  store_txn_t *tx;
  assert_int_equal(store_txn_begin(g->tc.store, false, &tx), 0);
  uint8_t got[2][32];
  size_t n, total = 0;
  bool more = true;
  const uint8_t *after = NULL;
  uint8_t cursor[32];
  while (more) {
    assert_int_equal(property_owned_list(tx, g->p[PAGER].id, after, 2, got, &n, &more), 0);
    for (size_t i = 0; i < n; i++) assert_memory_equal(got[i], ids[total + i], 32);
    total += n;
    memcpy(cursor, got[n - 1], 32);
    after = cursor;
  }
  assert_int_equal(total, 5);
  assert_int_equal(property_owned_list(tx, g->p[PAGER].id, NULL, 0, got, &n, &more), VE_ERR_INVALID);
  assert_int_equal(property_owned_list(tx, g->stranger.id, NULL, 2, got, &n, &more), 0);
  assert_int_equal(n, 0);
  store_txn_abort(tx);
}

/* ---- codec ---- */

static void roundtrip_payload(const property_action_t *a) {
  ve_buf_t p, q;
  ve_buf_init(&p, 0);
  ve_buf_init(&q, 0);
  assert_int_equal(property_payload_encode(&p, a), 0);
  property_action_t *d = malloc(sizeof *d);
  assert_int_equal(property_payload_decode(a->type, ve_buf_slice(&p), d), 0);
  assert_int_equal(property_payload_encode(&q, d), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&p), ve_buf_slice(&q)));
  /* Every strict refusal: trailing byte, cut short, unknown version. */
  assert_int_equal(ve_buf_append(&p, "\0", 1), 0);
  assert_int_equal(property_payload_decode(a->type, ve_buf_slice(&p), d), VE_ERR_TRAILING);
  for (size_t cut = 0; cut + 1 < p.len; cut++)
    assert_true(property_payload_decode(a->type, ve_slice(p.ptr, cut), d) < 0);
  p.ptr[0] = 2;
  assert_int_equal(property_payload_decode(a->type, ve_slice(p.ptr, p.len - 1), d), VE_ERR_VERSION);
  assert_int_equal(property_payload_decode(0x0405, ve_buf_slice(&q), d), VE_ERR_UNKNOWN_TYPE);
  free(d);
  ve_buf_free(&p);
  ve_buf_free(&q);
}

static void test_codec(void **state) {
  (void)state;
  property_action_t a;
  int who[] = {ALICE, BOB};
  uint64_t parts[] = {3, 7};
  reg_action(&a, "A-z0-9:./-", who, parts, 2);
  roundtrip_payload(&a);
  uint8_t id[32];
  assert_int_equal(property_parcel_id(id, "x"), 0);
  transfer_action(&a, id, 300, who, 2);
  consents(&a, who, 2);
  roundtrip_payload(&a);
  encumber_action(&a, id, 1, PROPERTY_LEASE, TENANT);
  roundtrip_payload(&a);
  release_action(&a, id, 1, 1u << 20);
  consents(&a, who, 1);
  roundtrip_payload(&a);

  /* Names. */
  assert_int_equal(property_parcel_id(id, ""), VE_ERR_INVALID);
  assert_int_equal(property_parcel_id(id, "a b"), VE_ERR_INVALID);
  assert_int_equal(property_parcel_id(id, "\xd0\x90"), VE_ERR_INVALID);
  char longest[PROPERTY_CADASTRAL_BYTES_MAX + 2];
  memset(longest, '7', sizeof longest - 1);
  longest[sizeof longest - 1] = 0;
  assert_int_equal(property_parcel_id(id, longest), VE_ERR_INVALID);
  longest[PROPERTY_CADASTRAL_BYTES_MAX] = 0;
  assert_int_equal(property_parcel_id(id, longest), 0);
  uint8_t want[32];
  vcrypto_hash(want, "veche/property/parcel", (const uint8_t *)longest, PROPERTY_CADASTRAL_BYTES_MAX);
  assert_memory_equal(id, want, 32);
  reg_action(&a, "OK-1", who, NULL, 2);
  snprintf(a.district, sizeof a.district, "North");
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(property_payload_encode(&p, &a), VE_ERR_INVALID);
  reg_action(&a, "OK-1", who, NULL, 2);
  a.area_m2 = 0;
  assert_int_equal(property_payload_encode(&p, &a), VE_ERR_INVALID);
  encumber_action(&a, id, 1, 5, TENANT);
  assert_int_equal(property_payload_encode(&p, &a), VE_ERR_INVALID);
  /* Consents out of order. */
  transfer_action(&a, id, 1, who, 2);
  consents(&a, who, 2);
  property_consent_t c0 = a.consents[0];
  a.consents[0] = a.consents[1];
  a.consents[1] = c0;
  assert_int_equal(property_payload_encode(&p, &a), VE_ERR_NONCANONICAL);
  assert_int_equal(p.len, 0);

  /* A non-minimal uvarint (the version 300 of a transfer, padded). */
  transfer_action(&a, id, 1, who, 2);
  assert_int_equal(property_payload_encode(&p, &a), 0);
  ve_buf_t q;
  ve_buf_init(&q, 0);
  assert_int_equal(ve_buf_append(&q, p.ptr, 33), 0);
  assert_int_equal(ve_buf_append(&q, "\x81\x00", 2), 0); /* 1 as two bytes */
  assert_int_equal(ve_buf_append(&q, p.ptr + 34, p.len - 34), 0);
  property_action_t *d = malloc(sizeof *d);
  assert_int_equal(property_payload_decode(TX_TYPE_PROPERTY_TRANSFER, ve_buf_slice(&q), d), VE_ERR_NONCANONICAL);
  free(d);
  ve_buf_free(&q);
  ve_buf_free(&p);

  /* The action a consent signs is the payload with no consents. */
  transfer_action(&a, id, 1, who, 2);
  ve_buf_t x, y;
  ve_buf_init(&x, 0);
  ve_buf_init(&y, 0);
  assert_int_equal(property_payload_encode(&x, &a), 0);
  consents(&a, who, 2);
  assert_int_equal(property_action_bytes(&y, &a), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&x), ve_buf_slice(&y)));
  ve_buf_free(&x);
  ve_buf_free(&y);

  /* Records and events as stored round-trip; a bit flipped is refused. */
  int owner[] = {CAROL};
  uint8_t pid[32];
  register_parcel("CODEC-1", owner, 1, pid);
  store_txn_t *tx;
  assert_int_equal(store_txn_begin(g->tc.store, false, &tx), 0);
  property_title_t t;
  assert_int_equal(property_get(tx, pid, &t), 0);
  property_event_t e;
  assert_int_equal(property_history_get(tx, pid, 1, &e), 0);
  store_txn_abort(tx);
  ve_buf_t r1, r2;
  ve_buf_init(&r1, 0);
  ve_buf_init(&r2, 0);
  assert_int_equal(property_title_encode(&r1, &t), 0);
  property_title_t t2;
  assert_int_equal(property_title_decode(ve_buf_slice(&r1), pid, &t2), 0);
  assert_int_equal(property_title_encode(&r2, &t2), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&r1), ve_buf_slice(&r2)));
  assert_int_equal(property_title_decode(ve_buf_slice(&r1), id, &t2), VE_ERR_CORRUPT); /* another id */
  r1.ptr[1] ^= 0x40; /* cadastral length */
  assert_int_equal(property_title_decode(ve_buf_slice(&r1), pid, &t2), VE_ERR_CORRUPT);
  ve_buf_reset(&r1);
  ve_buf_reset(&r2);
  assert_int_equal(property_event_encode(&r1, &e), 0);
  property_event_t e2;
  assert_int_equal(property_event_decode(ve_buf_slice(&r1), 1, &e2), 0);
  assert_int_equal(property_event_encode(&r2, &e2), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&r1), ve_buf_slice(&r2)));
  assert_int_equal(property_event_decode(ve_buf_slice(&r1), 2, &e2), VE_ERR_CORRUPT); /* register is v1 only */
  ve_buf_free(&r1);
  ve_buf_free(&r2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register),        cmocka_unit_test(test_owner_rules),
      cmocka_unit_test(test_transfer_consents), cmocka_unit_test(test_rotated_key),
      cmocka_unit_test(test_mortgage_and_arrest), cmocka_unit_test(test_revoked_owner),
      cmocka_unit_test(test_encumbrance_limit), cmocka_unit_test(test_owned_paging),
      cmocka_unit_test(test_codec),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
