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
 * that a refused transaction left the title untouched.
 *
 * Lineage (protocol 3; the main chain starts at 3): subdivision (children
 * with the parent's owners and a copy of every encumbrance, owner index
 * moved, parent RETIRED with its children, ORIGIN and SUBDIVIDE events, each
 * refusal in order); merger (owners must match, the union of encumbrances
 * renumbered with its origins, the limit, a mortgage holder consenting
 * once); holder replacement (live holder: both consent; revoked holder: the
 * new one alone; arrest included); every type on a RETIRED title refused.
 * A pair of fresh chains at protocols 2 and 3 shows the new types unknown at
 * 2 and the old types writing byte-identical records at both. Codec vectors
 * of the new payloads, the version-2 title and the new events are written
 * byte by byte from docs/property.md. */
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
#include "apps/property/property.h"
#include "apps/upgrade/upgrade.h"
#include "apps/valset/valset.h"
#include "base/err.h"
#include "codec/codec.h"
#include "tchain.h"

#define CHAIN "veche-prop-1"
#define NCITIZENS 20

/* The apps a node runs, with the protocol hook: the main chain's genesis is
 * at protocol 3 (the lineage types exist), where the ministry's admin role is
 * masked (council only) but its registrar role still manages citizens. */
static const ledger_registry_t REG = {
    &identity_auth, {&valset_app, &upgrade_app, &identity_app, &gov_app, &property_app}, 5, upgrade_protocol_exec};

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
  g->tc.g.protocol = LEDGER_PROTOCOL_LINEAGE;
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
  assert_int_equal(property_payload_decode(TX_TYPE_PROPERTY_HOLDER_REPLACE + 1, ve_buf_slice(&q), d),
                   VE_ERR_UNKNOWN_TYPE);
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

/* ---- lineage: subdivision, merger, holder replacement (protocol 3) ---- */

static int cmp_piece(const void *a, const void *b) { return memcmp(a, b, 32); } /* id is the first field */

/* SUBDIVIDE of parcel (at v) into cads[] (areas 100, 200, ...), children
 * sorted by id as the encoding wants. */
static void subdivide_action(property_action_t *a, const uint8_t parcel[32], uint64_t v, const char *const *cads,
                             size_t n) {
  memset(a, 0, sizeof *a);
  a->type = TX_TYPE_PROPERTY_SUBDIVIDE;
  memcpy(a->parcel, parcel, 32);
  a->version = v;
  for (size_t i = 0; i < n; i++) {
    property_piece_t *p = &a->pieces[i];
    snprintf(p->cadastral, sizeof p->cadastral, "%s", cads[i]);
    assert_int_equal(property_parcel_id(p->id, cads[i]), 0);
    memset(p->plan_digest, (int)(0x60 + i), 32);
    p->area_m2 = 100 * (i + 1);
    snprintf(p->district, sizeof p->district, "lot_%u", (unsigned)(unsigned char)i);
  }
  a->n_pieces = n;
  qsort(a->pieces, n, sizeof a->pieces[0], cmp_piece);
  memset(a->digest, 0x66, 32);
}

/* MERGE of parents ids[] at versions vs[] into cad. */
static void merge_action(property_action_t *a, const uint8_t (*ids)[32], const uint64_t *vs, size_t n, const char *cad) {
  memset(a, 0, sizeof *a);
  a->type = TX_TYPE_PROPERTY_MERGE;
  for (size_t i = 0; i < n; i++) {
    memcpy(a->pieces[i].id, ids[i], 32);
    a->pieces[i].version = vs[i];
  }
  a->n_pieces = n;
  qsort(a->pieces, n, sizeof a->pieces[0], cmp_piece);
  snprintf(a->cadastral, sizeof a->cadastral, "%s", cad);
  memset(a->plan_digest, 0x77, 32);
  a->area_m2 = 999;
  memset(a->digest, 0x78, 32);
}

static void holder_action(property_action_t *a, const uint8_t parcel[32], uint64_t v, uint64_t number, int holder) {
  memset(a, 0, sizeof *a);
  a->type = TX_TYPE_PROPERTY_HOLDER_REPLACE;
  memcpy(a->parcel, parcel, 32);
  a->version = v;
  a->number = number;
  memcpy(a->holder, g->p[holder].id, 32);
  memset(a->digest, 0x88, 32);
}

static void pid(const char *cad, uint8_t id[32]) { assert_int_equal(property_parcel_id(id, cad), 0); }

/* Registers cad owned by who[] and puts the listed (kind, holder)
 * encumbrances on it with their consents; returns its id and version. */
static uint64_t parcel_with(const char *cad, const int *who, size_t n, const unsigned *kinds, const int *holders,
                            size_t k, uint8_t id[32]) {
  register_parcel(cad, who, n, id);
  property_action_t a;
  for (size_t i = 0; i < k; i++) {
    encumber_action(&a, id, 1 + i, kinds[i], holders[i]);
    if (kinds[i] != PROPERTY_ARREST) {
      consents(&a, who, n);
      consents(&a, &holders[i], 1);
    }
    assert_int_equal(submit(&g->land, &a), 0);
  }
  return 1 + k;
}

static void assert_same_title(const uint8_t id[32], const property_title_t *before) {
  property_title_t t;
  read_title(id, &t, 0);
  assert_int_equal(t.version, before->version);
  assert_int_equal(t.status, before->status);
  assert_int_equal(t.n_encumbrances, before->n_encumbrances);
  assert_int_equal(t.n_owners, before->n_owners);
}

static void test_subdivide(void **state) {
  (void)state;
  int ab[] = {ALICE, BOB}, abk[] = {ALICE, BOB, BANK}, abkc[] = {ALICE, BOB, BANK, CAROL};
  unsigned kinds[] = {PROPERTY_MORTGAGE, PROPERTY_EASEMENT};
  int holders[] = {BANK, CAROL};
  uint8_t id[32];
  uint64_t v = parcel_with("SUB-P", ab, 2, kinds, holders, 2, id);
  assert_int_equal(v, 3);
  uint8_t taken[32];
  register_parcel("SUB-TAKEN", ab, 2, taken);
  property_title_t before, t;
  read_title(id, &before, 0);
  const char *cads[] = {"SUB-P/1", "SUB-P/2", "SUB-P/3"};
  property_action_t a;

  /* Refusals, in the order of the rules. */
  uint8_t nowhere[32];
  pid("SUB-NOWHERE", nowhere);
  subdivide_action(&a, nowhere, 3, cads, 3);
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_NOT_FOUND);
  subdivide_action(&a, id, 2, cads, 3);
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE); /* stale version */
  subdivide_action(&a, id, 3, cads, 3);
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->notary, &a), VE_ERR_PERMISSION);
  const char *dup[] = {"SUB-P/1", "SUB-TAKEN"};
  subdivide_action(&a, id, 3, dup, 2);
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_EXISTS);
  const char *self[] = {"SUB-P/1", "SUB-P"};
  subdivide_action(&a, id, 3, self, 2);
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_EXISTS);
  subdivide_action(&a, id, 3, cads, 3);
  consents(&a, ab, 2); /* without the bank */
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  subdivide_action(&a, id, 3, cads, 3);
  consents(&a, abkc, 4); /* the easement's holder is not a party */
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID);
  subdivide_action(&a, id, 3, cads, 3);
  consents(&a, abk, 3);
  a.pieces[1].area_m2 = 0;
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(property_payload_encode(&p, &a), VE_ERR_INVALID);
  ve_buf_free(&p);
  assert_same_title(id, &before);
  assert_true(owns(&g->p[ALICE], id));

  /* Accepted. */
  subdivide_action(&a, id, 3, cads, 3);
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), 0);
  uint64_t h = tchain_height(&g->tc);
  read_title(id, &t, 0);
  assert_int_equal(t.status, PROPERTY_RETIRED);
  assert_int_equal(t.version, 4);
  assert_int_equal(t.updated_height, h);
  assert_int_equal(t.n_children, 3);
  for (size_t i = 0; i < 3; i++) assert_memory_equal(t.children[i], a.pieces[i].id, 32);
  assert_int_equal(t.n_parents, 0);
  assert_int_equal(t.n_owners, 2); /* the last picture stays */
  assert_int_equal(t.n_encumbrances, 2);
  assert_memory_equal(t.last_deed, before.last_deed, 32);
  property_event_t e;
  read_event(id, 4, &e, 0);
  assert_int_equal(e.kind, PROPERTY_EV_SUBDIVIDE);
  assert_int_equal(e.n_lineage, 3);
  assert_memory_equal(e.lineage, t.children, 3 * 32);
  assert_memory_equal(e.digest, a.digest, 32);
  assert_false(owns(&g->p[ALICE], id));
  assert_false(owns(&g->p[BOB], id));
  for (size_t i = 0; i < 3; i++) {
    const property_piece_t *pc = &a.pieces[i];
    property_title_t k;
    read_title(pc->id, &k, 0);
    assert_string_equal(k.cadastral, pc->cadastral);
    assert_int_equal(k.version, 1);
    assert_int_equal(k.status, PROPERTY_ACTIVE);
    assert_int_equal(k.registered_height, h);
    assert_memory_equal(k.registrar, g->land.id, 32);
    assert_int_equal(k.area_m2, pc->area_m2);
    assert_string_equal(k.district, pc->district);
    assert_memory_equal(k.plan_digest, pc->plan_digest, 32);
    assert_memory_equal(k.last_deed, a.digest, 32);
    assert_int_equal(k.n_parents, 1);
    assert_memory_equal(k.parents[0], id, 32);
    assert_int_equal(k.n_children, 0);
    assert_int_equal(k.n_owners, 2);
    assert_memory_equal(k.owners, before.owners, 2 * sizeof k.owners[0]);
    assert_int_equal(k.n_encumbrances, 2);
    for (size_t j = 0; j < 2; j++) {
      assert_int_equal(k.encumbrances[j].number, before.encumbrances[j].number);
      assert_int_equal(k.encumbrances[j].kind, before.encumbrances[j].kind);
      assert_int_equal(k.encumbrances[j].height, before.encumbrances[j].height);
      assert_memory_equal(k.encumbrances[j].holder, before.encumbrances[j].holder, 32);
      assert_memory_equal(k.encumbrances[j].document, before.encumbrances[j].document, 32);
    }
    assert_int_equal(k.next_number, before.next_number);
    read_event(pc->id, 1, &e, 0);
    assert_int_equal(e.kind, PROPERTY_EV_ORIGIN);
    assert_int_equal(e.height, h);
    assert_memory_equal(e.signer, g->land.id, 32);
    assert_int_equal(e.n_lineage, 1);
    assert_memory_equal(e.lineage[0], id, 32);
    assert_int_equal(e.n_owners, 2);
    assert_int_equal(e.n_origins, 2);
    assert_int_equal(e.origins[0].parent, 0);
    assert_int_equal(e.origins[0].number, 1);
    assert_int_equal(e.origins[1].number, 2);
    read_event(pc->id, 2, &e, VE_ERR_NOT_FOUND);
    assert_true(owns(&g->p[ALICE], pc->id));
    assert_true(owns(&g->p[BOB], pc->id));
  }

  /* A RETIRED title takes nothing any more; its number stays taken. */
  int carol[] = {CAROL}, bank[] = {BANK};
  transfer_action(&a, id, 4, carol, 1);
  consents(&a, abk, 3);
  consents(&a, carol, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  encumber_action(&a, id, 4, PROPERTY_ARREST, COURT);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  release_action(&a, id, 4, 1);
  consents(&a, bank, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  const char *again[] = {"SUB-Q/1", "SUB-Q/2"};
  subdivide_action(&a, id, 4, again, 2);
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  holder_action(&a, id, 4, 1, DAVE);
  int dk[] = {DAVE, BANK};
  consents(&a, dk, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  uint8_t pair[2][32];
  memcpy(pair[0], id, 32);
  memcpy(pair[1], t.children[0], 32);
  uint64_t vs[2] = {4, 1};
  merge_action(&a, (const uint8_t(*)[32])pair, vs, 2, "SUB-MERGED");
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  property_action_t r;
  reg_action(&r, "SUB-P", ab, NULL, 2);
  assert_int_equal(submit(&g->land, &r), VE_ERR_EXISTS);
  /* A later subdivision cannot reuse the retired number for a child. */
  const char *reuse[] = {"SUB-P", "SUB-Q/9"};
  subdivide_action(&a, taken, 1, reuse, 2);
  consents(&a, ab, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_EXISTS);
  read_title(id, &t, 0);
  assert_int_equal(t.version, 4);

  /* A seized parcel is not carved up. */
  unsigned arrest[] = {PROPERTY_ARREST};
  int court[] = {COURT};
  uint8_t seized[32];
  v = parcel_with("SUB-SEIZED", ab, 2, arrest, court, 1, seized);
  const char *parts[] = {"SUB-S/1", "SUB-S/2"};
  subdivide_action(&a, seized, v, parts, 2);
  consents(&a, ab, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
}

static void test_merge(void **state) {
  (void)state;
  int ab[] = {ALICE, BOB}, abk[] = {ALICE, BOB, BANK};
  /* Two children of SUB-P (owners alice:1 bob:1; mortgage #1 bank, easement
   * #2 carol each). */
  uint8_t p1[32], p2[32], p3[32], merged[32];
  pid("SUB-P/1", p1);
  pid("SUB-P/2", p2);
  pid("SUB-P/3", p3);
  pid("MRG-1", merged);
  uint8_t ids[2][32];
  memcpy(ids[0], p1, 32);
  memcpy(ids[1], p2, 32);
  uint64_t vs[2] = {1, 1};
  property_action_t a;
  property_title_t t;

  /* Refusals. */
  uint8_t bad[2][32];
  memcpy(bad[0], p1, 32);
  pid("MRG-NOWHERE", bad[1]);
  merge_action(&a, (const uint8_t(*)[32])bad, vs, 2, "MRG-1");
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_NOT_FOUND);
  uint64_t stale[2] = {1, 2};
  merge_action(&a, (const uint8_t(*)[32])ids, stale, 2, "MRG-1");
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  merge_action(&a, (const uint8_t(*)[32])ids, vs, 2, "SUB-TAKEN");
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_EXISTS);
  merge_action(&a, (const uint8_t(*)[32])ids, vs, 2, "MRG-1");
  consents(&a, ab, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM); /* the bank */
  merge_action(&a, (const uint8_t(*)[32])ids, vs, 2, "MRG-1");
  int abkc[] = {ALICE, BOB, BANK, CAROL};
  consents(&a, abkc, 4);
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID); /* an easement holder is no party */
  merge_action(&a, (const uint8_t(*)[32])ids, vs, 2, "MRG-1");
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->notary, &a), VE_ERR_PERMISSION);
  /* Owners in other shares (or other people) cannot be merged. */
  int a1[] = {ALICE}, b1[] = {BOB};
  uint8_t oa[32], ob[32], other[2][32];
  register_parcel("MRG-A", a1, 1, oa);
  register_parcel("MRG-B", b1, 1, ob);
  memcpy(other[0], oa, 32);
  memcpy(other[1], ob, 32);
  merge_action(&a, (const uint8_t(*)[32])other, vs, 2, "MRG-AB");
  consents(&a, ab, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID);
  uint64_t parts12[] = {1, 2};
  property_action_t r;
  reg_action(&r, "MRG-12", ab, parts12, 2);
  assert_int_equal(submit(&g->land, &r), 0);
  memcpy(other[0], p3, 32);
  pid("MRG-12", other[1]);
  merge_action(&a, (const uint8_t(*)[32])other, vs, 2, "MRG-AB");
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID); /* alice:1 bob:1 vs alice:1 bob:2 */
  read_title(p1, &t, 0);
  assert_int_equal(t.version, 1);
  assert_int_equal(t.status, PROPERTY_ACTIVE);

  /* Accepted: the bank consents once for its two mortgages. */
  merge_action(&a, (const uint8_t(*)[32])ids, vs, 2, "MRG-1");
  consents(&a, abk, 3);
  assert_int_equal(submit(&g->land, &a), 0);
  uint64_t h = tchain_height(&g->tc);
  read_title(merged, &t, 0);
  assert_int_equal(t.version, 1);
  assert_int_equal(t.status, PROPERTY_ACTIVE);
  assert_int_equal(t.n_parents, 2);
  assert_memory_equal(t.parents, a.pieces[0].id, 32);
  assert_memory_equal(t.parents[1], a.pieces[1].id, 32);
  assert_int_equal(t.area_m2, 999);
  assert_int_equal(t.n_owners, 2);
  assert_int_equal(t.n_encumbrances, 4);
  assert_int_equal(t.next_number, 5);
  for (size_t j = 0; j < 4; j++) {
    assert_int_equal(t.encumbrances[j].number, j + 1);
    assert_int_equal(t.encumbrances[j].kind, j % 2 ? PROPERTY_EASEMENT : PROPERTY_MORTGAGE);
    assert_memory_equal(t.encumbrances[j].holder, g->p[j % 2 ? CAROL : BANK].id, 32);
  }
  property_event_t e;
  read_event(merged, 1, &e, 0);
  assert_int_equal(e.kind, PROPERTY_EV_ORIGIN);
  assert_int_equal(e.n_lineage, 2);
  assert_memory_equal(e.lineage, t.parents, 64);
  assert_int_equal(e.n_origins, 4);
  for (size_t j = 0; j < 4; j++) {
    assert_int_equal(e.origins[j].parent, j / 2);
    assert_int_equal(e.origins[j].number, j % 2 + 1);
  }
  for (size_t i = 0; i < 2; i++) {
    property_title_t q;
    read_title(ids[i], &q, 0);
    assert_int_equal(q.status, PROPERTY_RETIRED);
    assert_int_equal(q.version, 2);
    assert_int_equal(q.updated_height, h);
    assert_int_equal(q.n_children, 1);
    assert_memory_equal(q.children[0], merged, 32);
    assert_int_equal(q.n_parents, 1); /* still SUB-P's child */
    read_event(ids[i], 2, &e, 0);
    assert_int_equal(e.kind, PROPERTY_EV_MERGE);
    assert_int_equal(e.n_lineage, 1);
    assert_memory_equal(e.lineage[0], merged, 32);
    assert_false(owns(&g->p[ALICE], ids[i]));
  }
  assert_true(owns(&g->p[ALICE], merged));
  assert_true(owns(&g->p[BOB], merged));
  assert_true(owns(&g->p[ALICE], p3));

  /* The union of encumbrances is at most 16. */
  unsigned leases[9];
  int tenants[9];
  for (int i = 0; i < 9; i++) leases[i] = PROPERTY_LEASE, tenants[i] = TENANT;
  uint8_t la[32], lb[32], lim[2][32];
  uint64_t lv[2];
  lv[0] = parcel_with("MRG-LIM-A", a1, 1, leases, tenants, 9, la);
  lv[1] = parcel_with("MRG-LIM-B", a1, 1, leases, tenants, 8, lb);
  memcpy(lim[0], la, 32);
  memcpy(lim[1], lb, 32);
  if (memcmp(la, lb, 32) > 0) { /* versions follow the ids through the sort */
    uint64_t x = lv[0];
    lv[0] = lv[1], lv[1] = x;
    memcpy(lim[0], lb, 32);
    memcpy(lim[1], la, 32);
  }
  merge_action(&a, (const uint8_t(*)[32])lim, lv, 2, "MRG-LIM");
  consents(&a, a1, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_LIMIT);
}

static void test_holder_replace(void **state) {
  (void)state;
  uint8_t p3[32];
  pid("SUB-P/3", p3);
  property_title_t t, before;
  read_title(p3, &before, 0);
  assert_int_equal(before.version, 1);
  property_action_t a;
  int dk[] = {DAVE, BANK}, d[] = {DAVE};

  holder_action(&a, p3, 1, 9, DAVE);
  consents(&a, dk, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_NOT_FOUND); /* no encumbrance 9 */
  holder_action(&a, p3, 1, 1, DAVE);
  memcpy(a.holder, g->stranger.id, 32);
  assert_int_equal(submit(&g->land, &a), VE_ERR_NOT_FOUND);
  holder_action(&a, p3, 1, 1, SUSP);
  assert_int_equal(submit(&g->land, &a), VE_ERR_SUSPENDED);
  holder_action(&a, p3, 1, 1, BANK);
  int k[] = {BANK};
  consents(&a, k, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID); /* already the holder */
  holder_action(&a, p3, 2, 1, DAVE);
  consents(&a, dk, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_STATE);
  holder_action(&a, p3, 1, 1, DAVE);
  consents(&a, d, 1); /* the live bank must consent too */
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  holder_action(&a, p3, 1, 1, DAVE);
  consents(&a, dk, 2);
  assert_int_equal(submit(&g->notary, &a), VE_ERR_PERMISSION);
  assert_same_title(p3, &before);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(p3, &t, 0);
  assert_int_equal(t.version, 2);
  assert_memory_equal(t.encumbrances[0].holder, g->p[DAVE].id, 32);
  assert_int_equal(t.encumbrances[0].number, 1);
  assert_int_equal(t.encumbrances[0].height, before.encumbrances[0].height); /* its rank stays */
  assert_memory_equal(t.encumbrances[0].document, before.encumbrances[0].document, 32);
  assert_memory_equal(t.encumbrances[1].holder, g->p[CAROL].id, 32);
  property_event_t e;
  read_event(p3, 2, &e, 0);
  assert_int_equal(e.kind, PROPERTY_EV_HOLDER_REPLACE);
  assert_int_equal(e.number, 1);
  assert_int_equal(e.enc_kind, PROPERTY_MORTGAGE);
  assert_memory_equal(e.holder, g->p[BANK].id, 32);
  assert_memory_equal(e.new_holder, g->p[DAVE].id, 32);
  assert_memory_equal(e.digest, a.digest, 32);

  /* A revoked holder (a bank wound up): the successor consents alone, on the
   * court's document; the old bank's consent is one too many. Then the
   * successor can release what nobody could before. */
  enum { OLDBANK = 12 };
  int owner[] = {CAROL};
  unsigned mort[] = {PROPERTY_MORTGAGE};
  int oldbank[] = {OLDBANK};
  uint8_t id[32];
  uint64_t v = parcel_with("HR-REVOKED", owner, 1, mort, oldbank, 1, id);
  status_tx(TX_TYPE_IDENTITY_REVOKE, g->p[OLDBANK].id);
  release_action(&a, id, v, 1);
  consents(&a, oldbank, 1);
  assert_int_equal(submit(&g->land, &a), VE_ERR_REVOKED); /* the known limitation */
  holder_action(&a, id, v, 1, DAVE);
  int dold[] = {DAVE, OLDBANK};
  consents(&a, dold, 2);
  assert_int_equal(submit(&g->land, &a), VE_ERR_INVALID);
  holder_action(&a, id, v, 1, DAVE);
  assert_int_equal(submit(&g->land, &a), VE_ERR_QUORUM);
  holder_action(&a, id, v, 1, DAVE);
  consents(&a, d, 1);
  assert_int_equal(submit(&g->land, &a), 0);
  release_action(&a, id, v + 1, 1);
  consents(&a, d, 1);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_int_equal(t.n_encumbrances, 0);

  /* An arrest's court is succeeded by another (both consent). */
  unsigned arrest[] = {PROPERTY_ARREST};
  int court[] = {COURT}, cd[] = {COURT, DAVE};
  v = parcel_with("HR-ARREST", owner, 1, arrest, court, 1, id);
  holder_action(&a, id, v, 1, DAVE);
  consents(&a, cd, 2);
  assert_int_equal(submit(&g->land, &a), 0);
  read_title(id, &t, 0);
  assert_int_equal(t.encumbrances[0].kind, PROPERTY_ARREST);
  assert_memory_equal(t.encumbrances[0].holder, g->p[DAVE].id, 32);
}

/* ---- protocol gating: the same transactions on chains at 2 and 3 ---- */

static const ledger_registry_t REG2 = {
    &identity_auth, {&valset_app, &upgrade_app, &identity_app, &gov_app, &property_app}, 5, upgrade_protocol_exec};

/* Raw stored value of key in c (into out, reset first). */
static void raw_value(tchain_t *c, const uint8_t *key, size_t n, ve_buf_t *out) {
  store_txn_t *tx;
  assert_int_equal(store_txn_begin(c->store, false, &tx), 0);
  ve_slice_t v;
  assert_int_equal(store_get(tx, STORE_T_STATE, ve_slice(key, n), &v), 0);
  ve_buf_reset(out);
  assert_int_equal(ve_buf_append(out, v.ptr, v.len), 0);
  store_txn_abort(tx);
}

static void test_protocol_gating(void **state) {
  (void)state;
  static const char *chain = "veche-prop-gate";
  tchain_t *c[2] = {calloc(1, sizeof(tchain_t)), calloc(1, sizeof(tchain_t))};
  person_t land, admin, owner, buyer, bank;
  person(&admin, 90);
  person(&land, 91);
  person(&owner, 100);
  person(&buyer, 101);
  person(&bank, 104);
  person_t *cit[] = {&owner, &buyer, &bank};
  uint8_t id[32];
  pid("GATE-1", id);
  for (int k = 0; k < 2; k++) {
    tchain_init(c[k], chain, &REG2);
    c[k]->g.protocol = k ? LEDGER_PROTOCOL_LINEAGE : LEDGER_PROTOCOL_LINEAGE - 1;
    tchain_authority(c[k], "ministry", &admin.kp, ROLE_ADMIN | ROLE_REGISTRAR);
    tchain_authority(c[k], "land registry", &land.kp, ROLE_LAND_REGISTRAR);
    tchain_open(c[k], NULL);
    for (int i = 0; i < 3; i++) {
      ve_buf_t pl;
      ve_buf_init(&pl, 0);
      uint8_t digest[32] = {(uint8_t)i};
      assert_int_equal(identity_payload_register(&pl, cit[i]->kp.pk, digest, NULL, 0), 0);
      assert_int_equal(tchain_run1(c[k], &admin.kp, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&pl)), 0);
      ve_buf_free(&pl);
    }
    /* register, mortgage, transfer, release: the four old types. */
    property_action_t a;
    memset(&a, 0, sizeof a);
    a.type = TX_TYPE_PROPERTY_REGISTER;
    snprintf(a.cadastral, sizeof a.cadastral, "GATE-1");
    a.area_m2 = 5;
    a.n_owners = 1;
    memcpy(a.owners[0].id, owner.id, 32);
    a.owners[0].parts = 1;
    ve_buf_t p;
    ve_buf_init(&p, 0);
    assert_int_equal(property_payload_encode(&p, &a), 0);
    assert_int_equal(tchain_run1(c[k], &land.kp, a.type, ve_buf_slice(&p)), 0);
    const person_t *sig[3];
    for (int step = 0; step < 3; step++) {
      memset(&a, 0, sizeof a);
      memcpy(a.parcel, id, 32);
      a.version = (uint64_t)step + 1;
      size_t n = 0;
      if (step == 0) {
        a.type = TX_TYPE_PROPERTY_ENCUMBER, a.kind = PROPERTY_MORTGAGE;
        memcpy(a.holder, bank.id, 32);
        sig[n++] = &owner, sig[n++] = &bank;
      } else if (step == 1) {
        a.type = TX_TYPE_PROPERTY_TRANSFER, a.n_owners = 1;
        memcpy(a.owners[0].id, buyer.id, 32);
        a.owners[0].parts = 1;
        sig[n++] = &owner, sig[n++] = &buyer, sig[n++] = &bank;
      } else {
        a.type = TX_TYPE_PROPERTY_RELEASE, a.number = 1;
        sig[n++] = &bank;
      }
      for (size_t i = 0; i < n; i++) {
        uint8_t s[64];
        assert_int_equal(property_consent_sign(s, &sig[i]->kp, ve_slice(chain, strlen(chain)), &a), 0);
        assert_int_equal(property_consent_add(&a, sig[i]->id, s), 0);
      }
      ve_buf_reset(&p);
      assert_int_equal(property_payload_encode(&p, &a), 0);
      assert_int_equal(tchain_run1(c[k], &land.kp, a.type, ve_buf_slice(&p)), 0);
    }
    /* The new types: unknown at protocol 2 (whatever the payload), decided by
     * their rules at 3 (here: an empty payload does not decode). */
    uint32_t types[] = {TX_TYPE_PROPERTY_SUBDIVIDE, TX_TYPE_PROPERTY_MERGE, TX_TYPE_PROPERTY_HOLDER_REPLACE};
    for (int i = 0; i < 3; i++) {
      int32_t rc = tchain_run1(c[k], &land.kp, types[i], ve_slice(NULL, 0));
      if (k == 0) assert_int_equal(rc, VE_ERR_UNKNOWN_TYPE);
      else assert_int_not_equal(rc, VE_ERR_UNKNOWN_TYPE);
    }
    holder_action(&a, id, 4, 1, 0);
    ve_buf_reset(&p);
    assert_int_equal(property_payload_encode(&p, &a), 0);
    assert_int_equal(tchain_run1(c[k], &land.kp, a.type, ve_buf_slice(&p)),
                     k ? VE_ERR_NOT_FOUND : VE_ERR_UNKNOWN_TYPE); /* number 1 was released */
    assert_int_equal(tchain_run1(c[k], &land.kp, TX_TYPE_PROPERTY_HOLDER_REPLACE + 1, ve_slice(NULL, 0)),
                     VE_ERR_UNKNOWN_TYPE);
    ve_buf_free(&p);
  }
  /* Byte-identical records and events at both protocols, in version 1. */
  ve_buf_t x, y;
  ve_buf_init(&x, 0);
  ve_buf_init(&y, 0);
  uint8_t key[PROPERTY_EVENT_KEY_BYTES];
  size_t kn = property_title_key(key, id);
  raw_value(c[0], key, kn, &x);
  raw_value(c[1], key, kn, &y);
  assert_true(ve_slice_eq(ve_buf_slice(&x), ve_buf_slice(&y)));
  assert_int_equal(x.ptr[0], 1);
  for (uint64_t v = 1; v <= 4; v++) {
    kn = property_event_key(key, id, v);
    raw_value(c[0], key, kn, &x);
    raw_value(c[1], key, kn, &y);
    assert_true(ve_slice_eq(ve_buf_slice(&x), ve_buf_slice(&y)));
  }
  ve_buf_free(&x);
  ve_buf_free(&y);
  for (int k = 0; k < 2; k++) tchain_free(c[k]), free(c[k]);
}

/* ---- codec of the new encodings, byte by byte ---- */

/* The expected bytes, written from docs/property.md without the codec. */
typedef struct {
  uint8_t b[4096];
  size_t n;
} bytes_t;
static void B1(bytes_t *o, uint8_t v) { o->b[o->n++] = v; }
static void Bfill(bytes_t *o, uint8_t v, size_t n) {
  memset(o->b + o->n, v, n);
  o->n += n;
}
static void Bcopy(bytes_t *o, const void *p, size_t n) {
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void Bstr(bytes_t *o, const char *s) {
  B1(o, (uint8_t)strlen(s));
  Bcopy(o, s, strlen(s));
}

static void expect_payload(const property_action_t *a, const bytes_t *want) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(property_payload_encode(&p, a), 0);
  assert_int_equal(p.len, want->n);
  assert_memory_equal(p.ptr, want->b, want->n);
  roundtrip_payload(a);
  ve_buf_free(&p);
}

static void test_codec_lineage(void **state) {
  (void)state;
  property_action_t a;
  bytes_t w;
  /* SUBDIVIDE of parcel 0x01.. at version 2 into "A" and "B" (ordered by id). */
  const char *ab[] = {"A", "B"};
  uint8_t parcel[32];
  memset(parcel, 1, 32);
  subdivide_action(&a, parcel, 2, ab, 2);
  a.pieces[0].area_m2 = 300, a.pieces[1].area_m2 = 512; /* two-byte uvarints */
  uint8_t ida[32], idb[32];
  pid("A", ida);
  pid("B", idb);
  bool a_first = memcmp(ida, idb, 32) < 0;
  assert_string_equal(a.pieces[0].cadastral, a_first ? "A" : "B");
  w.n = 0;
  B1(&w, 1), Bfill(&w, 1, 32), B1(&w, 2), B1(&w, 2);
  for (size_t i = 0; i < 2; i++) {
    Bstr(&w, a.pieces[i].cadastral);
    Bfill(&w, a.pieces[i].plan_digest[0], 32);
    B1(&w, (uint8_t)(a.pieces[i].area_m2 & 0x7f) | 0x80), B1(&w, (uint8_t)(a.pieces[i].area_m2 >> 7));
    Bstr(&w, a.pieces[i].district);
  }
  Bfill(&w, 0x66, 32), B1(&w, 0);
  expect_payload(&a, &w);
  /* Children out of id order, a single child, a repeated child: refused. */
  property_action_t b = a;
  b.pieces[0] = a.pieces[1], b.pieces[1] = a.pieces[0];
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(property_payload_encode(&p, &b), VE_ERR_NONCANONICAL);
  b.n_pieces = 1;
  assert_int_equal(property_payload_encode(&p, &b), VE_ERR_INVALID);
  b = a, b.pieces[1] = a.pieces[0];
  assert_int_equal(property_payload_encode(&p, &b), VE_ERR_NONCANONICAL);
  assert_int_equal(p.len, 0);
  property_action_t *d = malloc(sizeof *d);
  bytes_t swapped = w; /* the same bytes with the children swapped */
  size_t c0 = 1 + 32 + 1 + 1, len0 = (size_t)(w.b[c0] + 1 + 32 + 2 + 1 + w.b[c0 + w.b[c0] + 1 + 32 + 2]);
  size_t len1 = w.n - 33 - c0 - len0;
  memcpy(swapped.b + c0, w.b + c0 + len0, len1);
  memcpy(swapped.b + c0 + len1, w.b + c0, len0);
  assert_int_equal(property_payload_decode(a.type, ve_slice(swapped.b, swapped.n), d), VE_ERR_NONCANONICAL);
  w.b[c0 - 1] = 1; /* one child, the rest trailing */
  assert_int_equal(property_payload_decode(a.type, ve_slice(w.b, w.n), d), VE_ERR_INVALID);
  w.b[c0 - 1] = PROPERTY_LINEAGE_MAX + 1;
  assert_int_equal(property_payload_decode(a.type, ve_slice(w.b, w.n), d), VE_ERR_TOO_BIG);

  /* MERGE of parcels 0x02.. (v 3) and 0x05.. (v 1) into "M". */
  uint8_t ids[2][32];
  memset(ids[0], 5, 32);
  memset(ids[1], 2, 32);
  uint64_t vs[2] = {1, 3};
  merge_action(&a, (const uint8_t(*)[32])ids, vs, 2, "M");
  a.district[0] = 0;
  w.n = 0;
  B1(&w, 1), B1(&w, 2), Bfill(&w, 2, 32), B1(&w, 3), Bfill(&w, 5, 32), B1(&w, 1);
  Bstr(&w, "M"), Bfill(&w, 0x77, 32), B1(&w, 0xe7), B1(&w, 0x07), B1(&w, 0); /* 999, no district */
  Bfill(&w, 0x78, 32), B1(&w, 0);
  expect_payload(&a, &w);
  b = a, b.pieces[0] = a.pieces[1], b.pieces[1] = a.pieces[0];
  assert_int_equal(property_payload_encode(&p, &b), VE_ERR_NONCANONICAL);
  b = a, b.area_m2 = 0;
  assert_int_equal(property_payload_encode(&p, &b), VE_ERR_INVALID);

  /* HOLDER_REPLACE of number 300 to holder 0x09.. with one consent. */
  memset(&a, 0, sizeof a);
  a.type = TX_TYPE_PROPERTY_HOLDER_REPLACE;
  memset(a.parcel, 1, 32);
  a.version = 7;
  a.number = 300;
  memset(a.holder, 9, 32);
  memset(a.digest, 0x88, 32);
  uint8_t cid[32], sig[64];
  memset(cid, 0xaa, 32);
  memset(sig, 0xbb, 64);
  assert_int_equal(property_consent_add(&a, cid, sig), 0);
  w.n = 0;
  B1(&w, 1), Bfill(&w, 1, 32), B1(&w, 7), B1(&w, 0xac), B1(&w, 0x02), Bfill(&w, 9, 32), Bfill(&w, 0x88, 32);
  B1(&w, 1), Bfill(&w, 0xaa, 32), Bfill(&w, 0xbb, 64);
  expect_payload(&a, &w);

  /* Title version 2: a retired child with one parent and two children. */
  property_title_t t;
  memset(&t, 0, sizeof t);
  snprintf(t.cadastral, sizeof t.cadastral, "T");
  pid("T", t.id);
  memset(t.registrar, 3, 32);
  t.registered_height = 5, t.version = 2, t.updated_height = 6, t.area_m2 = 10, t.next_number = 1;
  memset(t.plan_digest, 4, 32);
  memset(t.last_deed, 6, 32);
  t.n_owners = 1, t.owners[0].parts = 1;
  memset(t.owners[0].id, 7, 32);
  t.status = PROPERTY_RETIRED;
  t.n_parents = 1;
  memset(t.parents[0], 8, 32);
  t.n_children = 2;
  memset(t.children[0], 0x10, 32);
  memset(t.children[1], 0x11, 32);
  w.n = 0;
  B1(&w, 2), Bstr(&w, "T"), Bfill(&w, 3, 32), B1(&w, 5), B1(&w, 2), B1(&w, 6), Bfill(&w, 4, 32), B1(&w, 10);
  B1(&w, 0), B1(&w, 1), Bfill(&w, 7, 32), B1(&w, 1), B1(&w, 0), Bfill(&w, 6, 32), B1(&w, 1);
  size_t v1_len = w.n;
  B1(&w, 1), B1(&w, 1), Bfill(&w, 8, 32), B1(&w, 2), Bfill(&w, 0x10, 32), Bfill(&w, 0x11, 32);
  ve_buf_t r;
  ve_buf_init(&r, 0);
  assert_int_equal(property_title_encode(&r, &t), 0);
  assert_int_equal(r.len, w.n);
  assert_memory_equal(r.ptr, w.b, w.n);
  property_title_t t2;
  assert_int_equal(property_title_decode(ve_buf_slice(&r), t.id, &t2), 0);
  assert_int_equal(t2.status, PROPERTY_RETIRED);
  assert_int_equal(t2.n_children, 2);
  /* The same title ACTIVE without lineage is version 1: the first v1_len
   * bytes with the version byte 1; as version 2 it is refused. */
  t2.status = PROPERTY_ACTIVE, t2.n_parents = 0, t2.n_children = 0;
  ve_buf_reset(&r);
  assert_int_equal(property_title_encode(&r, &t2), 0);
  assert_int_equal(r.len, v1_len);
  assert_int_equal(r.ptr[0], 1);
  assert_memory_equal(r.ptr + 1, w.b + 1, v1_len - 1);
  assert_int_equal(property_title_decode(ve_buf_slice(&r), t.id, &t2), 0);
  bytes_t bad = w;
  bad.n = v1_len;
  B1(&bad, 0), B1(&bad, 0), B1(&bad, 0);
  assert_int_equal(property_title_decode(ve_slice(bad.b, bad.n), t.id, &t2), VE_ERR_CORRUPT);
  bad.b[bad.n - 3] = 1; /* RETIRED without children */
  assert_int_equal(property_title_decode(ve_slice(bad.b, bad.n), t.id, &t2), VE_ERR_CORRUPT);
  bad = w;
  bad.b[v1_len] = 2; /* unknown status */
  assert_int_equal(property_title_decode(ve_slice(bad.b, bad.n), t.id, &t2), VE_ERR_CORRUPT);
  bad = w;
  bad.b[v1_len] = 0; /* ACTIVE with children */
  assert_int_equal(property_title_decode(ve_slice(bad.b, bad.n), t.id, &t2), VE_ERR_CORRUPT);
  bad = w;
  memset(bad.b + bad.n - 32, 0x0f, 32); /* children out of order */
  assert_int_equal(property_title_decode(ve_slice(bad.b, bad.n), t.id, &t2), VE_ERR_CORRUPT);
  bad = w;
  bad.b[0] = 3;
  assert_int_equal(property_title_decode(ve_slice(bad.b, bad.n), t.id, &t2), VE_ERR_CORRUPT);
  t.n_children = 0; /* the encoder refuses what the decoder would */
  ve_buf_reset(&r);
  assert_int_equal(property_title_encode(&r, &t), VE_ERR_INVALID);
  assert_int_equal(r.len, 0);

  /* Events: ORIGIN (v1) of a merger, SUBDIVIDE, MERGE, HOLDER_REPLACE. */
  property_event_t e, e2;
  memset(&e, 0, sizeof e);
  e.version = 1, e.kind = PROPERTY_EV_ORIGIN, e.height = 9;
  memset(e.signer, 3, 32);
  memset(e.digest, 6, 32);
  e.n_owners = 1, e.owners[0].parts = 1;
  memset(e.owners[0].id, 7, 32);
  e.n_lineage = 2;
  memset(e.lineage[0], 8, 32);
  memset(e.lineage[1], 9, 32);
  e.n_origins = 3;
  e.origins[0] = (property_origin_t){0, 2};
  e.origins[1] = (property_origin_t){1, 1};
  e.origins[2] = (property_origin_t){1, 200};
  w.n = 0;
  B1(&w, 1), B1(&w, 7), B1(&w, 9), Bfill(&w, 3, 32), Bfill(&w, 6, 32), B1(&w, 1), Bfill(&w, 7, 32), B1(&w, 1);
  B1(&w, 2), Bfill(&w, 8, 32), Bfill(&w, 9, 32), B1(&w, 3), B1(&w, 0), B1(&w, 2), B1(&w, 1), B1(&w, 1), B1(&w, 1);
  B1(&w, 0xc8), B1(&w, 0x01);
  ve_buf_reset(&r);
  assert_int_equal(property_event_encode(&r, &e), 0);
  assert_int_equal(r.len, w.n);
  assert_memory_equal(r.ptr, w.b, w.n);
  assert_int_equal(property_event_decode(ve_buf_slice(&r), 1, &e2), 0);
  assert_int_equal(e2.n_origins, 3);
  assert_int_equal(e2.origins[2].number, 200);
  assert_int_equal(property_event_decode(ve_buf_slice(&r), 2, &e2), VE_ERR_CORRUPT); /* origin is v1 only */
  bad = w;
  bad.b[bad.n - 3] = 2; /* the third's origin: parent #2 of 2 */
  assert_int_equal(property_event_decode(ve_slice(bad.b, bad.n), 1, &e2), VE_ERR_CORRUPT);
  bad = w;
  bad.b[bad.n - 5] = 0; /* (0,2) then (0,1): out of order */
  assert_int_equal(property_event_decode(ve_slice(bad.b, bad.n), 1, &e2), VE_ERR_CORRUPT);

  memset(&e, 0, sizeof e);
  e.version = 4, e.kind = PROPERTY_EV_SUBDIVIDE, e.height = 9;
  e.n_lineage = 2;
  memset(e.lineage[0], 8, 32);
  memset(e.lineage[1], 9, 32);
  w.n = 0;
  B1(&w, 1), B1(&w, 5), B1(&w, 9), Bfill(&w, 0, 64), B1(&w, 2), Bfill(&w, 8, 32), Bfill(&w, 9, 32);
  ve_buf_reset(&r);
  assert_int_equal(property_event_encode(&r, &e), 0);
  assert_int_equal(r.len, w.n);
  assert_memory_equal(r.ptr, w.b, w.n);
  assert_int_equal(property_event_decode(ve_buf_slice(&r), 4, &e2), 0);
  assert_int_equal(property_event_decode(ve_buf_slice(&r), 1, &e2), VE_ERR_CORRUPT);
  e.n_lineage = 1; /* a split into one */
  assert_int_equal(property_event_encode(&r, &e), VE_ERR_INVALID);

  e.kind = PROPERTY_EV_MERGE;
  w.n = 0;
  B1(&w, 1), B1(&w, 6), B1(&w, 9), Bfill(&w, 0, 64), Bfill(&w, 8, 32);
  ve_buf_reset(&r);
  assert_int_equal(property_event_encode(&r, &e), 0);
  assert_int_equal(r.len, w.n);
  assert_memory_equal(r.ptr, w.b, w.n);
  assert_int_equal(property_event_decode(ve_buf_slice(&r), 4, &e2), 0);
  assert_int_equal(e2.n_lineage, 1);

  memset(&e, 0, sizeof e);
  e.version = 4, e.kind = PROPERTY_EV_HOLDER_REPLACE, e.height = 9, e.number = 2, e.enc_kind = PROPERTY_ARREST;
  memset(e.holder, 0x21, 32);
  memset(e.new_holder, 0x22, 32);
  w.n = 0;
  B1(&w, 1), B1(&w, 8), B1(&w, 9), Bfill(&w, 0, 64), B1(&w, 2), B1(&w, 4), Bfill(&w, 0x21, 32), Bfill(&w, 0x22, 32);
  ve_buf_reset(&r);
  assert_int_equal(property_event_encode(&r, &e), 0);
  assert_int_equal(r.len, w.n);
  assert_memory_equal(r.ptr, w.b, w.n);
  assert_int_equal(property_event_decode(ve_buf_slice(&r), 4, &e2), 0);
  memset(w.b + w.n - 32, 0x21, 32); /* to the same holder */
  assert_int_equal(property_event_decode(ve_slice(w.b, w.n), 4, &e2), VE_ERR_CORRUPT);
  assert_string_equal(property_event_kind_name(PROPERTY_EV_HOLDER_REPLACE), "holder_replace");
  assert_string_equal(property_event_kind_name(PROPERTY_EV_KIND_MAX + 1), "unknown");
  free(d);
  ve_buf_free(&p);
  ve_buf_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register),        cmocka_unit_test(test_owner_rules),
      cmocka_unit_test(test_transfer_consents), cmocka_unit_test(test_rotated_key),
      cmocka_unit_test(test_mortgage_and_arrest), cmocka_unit_test(test_revoked_owner),
      cmocka_unit_test(test_encumbrance_limit), cmocka_unit_test(test_owned_paging),
      cmocka_unit_test(test_codec),
      cmocka_unit_test(test_subdivide),       cmocka_unit_test(test_merge),
      cmocka_unit_test(test_holder_replace),  cmocka_unit_test(test_protocol_gating),
      cmocka_unit_test(test_codec_lineage),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
