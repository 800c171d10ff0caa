/* property.c — validation and state transitions of property transactions, and
 * reads of property state. The rules, the consent sets and the invariants are
 * at the top of property.h; the error table is in docs/property.md. Every
 * apply_* works on a payload already decoded strictly and a signer already
 * known to hold ROLE_LAND_REGISTRAR; it checks the title, the identities and
 * the consents before it writes anything, and any error leaves the state
 * untouched (the ledger rolls the transaction's writes back). */
#include "apps/property/property.h"

#include <stdlib.h>
#include <string.h>

#include "apps/identity/identity.h"
#include "base/err.h"

/* ---- state access over the ledger overlay (execution) or a store txn (reads) ---- */

static int load_title(const ledger_reader_t *rd, const uint8_t id[LEDGER_HASH_BYTES], property_title_t *out) {
  uint8_t key[PROPERTY_TITLE_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, property_title_key(key, id)), &v));
  return property_title_decode(v, id, out);
}

static int store_title(ledger_exec_t *ex, const property_title_t *t) {
  uint8_t mem[PROPERTY_RECORD_BYTES_MAX], key[PROPERTY_TITLE_KEY_BYTES];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(property_title_encode(&b, t));
  return ledger_state_put(ex, ve_slice(key, property_title_key(key, t->id)), ve_buf_slice(&b));
}

/* Writes the event that made version t->version of t. */
static int store_event(ledger_exec_t *ex, const property_title_t *t, property_event_t *e,
                       const ledger_signer_t *s, const uint8_t digest[PROPERTY_DIGEST_BYTES]) {
  e->version = t->version;
  e->height = ledger_exec_height(ex);
  memcpy(e->signer, s->identity_id, LEDGER_HASH_BYTES);
  memcpy(e->digest, digest, PROPERTY_DIGEST_BYTES);
  uint8_t mem[PROPERTY_EVENT_BYTES_MAX], key[PROPERTY_EVENT_KEY_BYTES];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(property_event_encode(&b, e));
  return ledger_state_put(ex, ve_slice(key, property_event_key(key, t->id, t->version)), ve_buf_slice(&b));
}

static int index_put(ledger_exec_t *ex, const property_owner_t *owners, size_t n, const uint8_t id[LEDGER_HASH_BYTES]) {
  uint8_t key[PROPERTY_OWNER_KEY_BYTES];
  for (size_t i = 0; i < n; i++)
    VE_TRY(ledger_state_put(ex, ve_slice(key, property_owner_key(key, owners[i].id, id)), ve_slice(NULL, 0)));
  return VE_OK;
}

static int index_del(ledger_exec_t *ex, const property_owner_t *owners, size_t n, const uint8_t id[LEDGER_HASH_BYTES]) {
  uint8_t key[PROPERTY_OWNER_KEY_BYTES];
  for (size_t i = 0; i < n; i++)
    VE_TRY(ledger_state_del(ex, ve_slice(key, property_owner_key(key, owners[i].id, id))));
  return VE_OK;
}

static int identity_load(ledger_exec_t *ex, const uint8_t id[LEDGER_HASH_BYTES], identity_t *out) {
  uint8_t key[3 + LEDGER_HASH_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_state_get(ex, ve_slice(key, identity_state_key(key, id)), &v));
  return identity_decode(v, id, out);
}

static int status_err(identity_status_t s) {
  return s == IDENTITY_REVOKED ? VE_ERR_REVOKED : s == IDENTITY_SUSPENDED ? VE_ERR_SUSPENDED : VE_OK;
}

/* A party the ledger may name (owner, holder): registered (VE_ERR_NOT_FOUND
 * otherwise) and ACTIVE. */
static int identity_active(ledger_exec_t *ex, const uint8_t id[LEDGER_HASH_BYTES]) {
  identity_t who;
  VE_TRY(identity_load(ex, id, &who));
  return status_err(who.status);
}

static int owners_active(ledger_exec_t *ex, const property_owner_t *owners, size_t n) {
  for (size_t i = 0; i < n; i++) VE_TRY(identity_active(ex, owners[i].id));
  return VE_OK;
}

/* VE_OK when no title is stored under id (never was: titles are never
 * deleted, so a RETIRED number stays taken), VE_ERR_EXISTS otherwise. */
static int parcel_absent(ledger_exec_t *ex, const uint8_t id[LEDGER_HASH_BYTES]) {
  ledger_reader_t rd = {ex, NULL};
  uint8_t key[PROPERTY_TITLE_KEY_BYTES];
  ve_slice_t v;
  int rc = ledger_reader_get(&rd, ve_slice(key, property_title_key(key, id)), &v);
  if (rc == VE_OK) return VE_ERR_EXISTS;
  return rc == VE_ERR_NOT_FOUND ? VE_OK : rc;
}

/* ---- consents ---- */

/* The identities whose consent a change needs: sorted, unique. */
typedef struct {
  size_t n;
  uint8_t ids[PROPERTY_CONSENTS_MAX][LEDGER_HASH_BYTES];
} consenters_t;

static void consenters_add(consenters_t *c, const uint8_t id[LEDGER_HASH_BYTES]) {
  size_t i = 0;
  while (i < c->n && memcmp(c->ids[i], id, LEDGER_HASH_BYTES) < 0) i++;
  if (i < c->n && !memcmp(c->ids[i], id, LEDGER_HASH_BYTES)) return;
  VE_ASSERT(c->n < PROPERTY_CONSENTS_MAX); /* 16 + 16 + 16 by the limits */
  memmove(c->ids[i + 1], c->ids[i], (c->n - i) * LEDGER_HASH_BYTES);
  memcpy(c->ids[i], id, LEDGER_HASH_BYTES);
  c->n++;
}

static bool consenters_has(const consenters_t *c, const uint8_t id[LEDGER_HASH_BYTES]) {
  for (size_t i = 0; i < c->n; i++)
    if (!memcmp(c->ids[i], id, LEDGER_HASH_BYTES)) return true;
  return false;
}

/* Every owner of t whose identity is not REVOKED: a revoked owner (deceased,
 * or re-identified) cannot consent and is excused; the deed names the court's
 * or registrar's document. */
static int consenters_add_owners(ledger_exec_t *ex, consenters_t *c, const property_title_t *t) {
  for (size_t i = 0; i < t->n_owners; i++) {
    identity_t who;
    VE_TRY(identity_load(ex, t->owners[i].id, &who));
    if (who.status != IDENTITY_REVOKED) consenters_add(c, t->owners[i].id);
  }
  return VE_OK;
}

static void consenters_add_mortgagees(consenters_t *c, const property_title_t *t) {
  for (size_t i = 0; i < t->n_encumbrances; i++)
    if (t->encumbrances[i].kind == PROPERTY_MORTGAGE) consenters_add(c, t->encumbrances[i].holder);
}

/* The consents of a must be exactly the set c, each by an ACTIVE identity's
 * current key over this chain's consent message. Order of the checks (and so
 * of the errors) as in property.h. */
static int consents_verify(ledger_exec_t *ex, const consenters_t *c, const property_action_t *a) {
  for (size_t i = 0; i < a->n_consents; i++)
    if (!consenters_has(c, a->consents[i].id)) return VE_ERR_INVALID;
  /* a's ids are unique (decoder) and all in c: equal counts mean equal sets. */
  if (a->n_consents != c->n) return VE_ERR_QUORUM;
  if (c->n == 0) return VE_OK;
  uint8_t mem[PROPERTY_CONSENT_MSG_BYTES_MAX];
  ve_buf_t msg = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(property_consent_msg(&msg, ledger_exec_chain_id(ex), a));
  for (size_t i = 0; i < a->n_consents; i++) {
    identity_t who;
    VE_TRY(identity_load(ex, a->consents[i].id, &who));
    VE_TRY(status_err(who.status));
    VE_TRY(vcrypto_verify(a->consents[i].sig, who.pk, PROPERTY_TAG_CONSENT, mem, msg.len));
  }
  return VE_OK;
}

/* ---- transactions ---- */

/* Scratch space for one transaction (about 11 KiB: kept off the stack). */
typedef struct {
  property_action_t a;
  property_title_t t;
  property_title_t t2; /* a title SUBDIVIDE or MERGE creates */
  property_event_t e;
  consenters_t c;
} work_t;

static bool has_kind(const property_title_t *t, unsigned kind) {
  for (size_t i = 0; i < t->n_encumbrances; i++)
    if (t->encumbrances[i].kind == kind) return true;
  return false;
}

static int apply_register(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w) {
  const property_action_t *a = &w->a;
  property_title_t *t = &w->t;
  memset(t, 0, sizeof *t);
  VE_TRY(property_parcel_id(t->id, a->cadastral));
  VE_TRY(parcel_absent(ex, t->id));
  VE_TRY(owners_active(ex, a->owners, a->n_owners));
  memcpy(t->cadastral, a->cadastral, sizeof t->cadastral);
  memcpy(t->registrar, s->identity_id, LEDGER_HASH_BYTES);
  t->registered_height = t->updated_height = ledger_exec_height(ex);
  t->version = 1;
  memcpy(t->plan_digest, a->plan_digest, PROPERTY_DIGEST_BYTES);
  t->area_m2 = a->area_m2;
  memcpy(t->district, a->district, sizeof t->district);
  t->n_owners = a->n_owners;
  memcpy(t->owners, a->owners, a->n_owners * sizeof a->owners[0]);
  memcpy(t->last_deed, a->digest, PROPERTY_DIGEST_BYTES);
  t->next_number = 1;
  VE_TRY(store_title(ex, t));
  memset(&w->e, 0, sizeof w->e);
  w->e.kind = PROPERTY_EV_REGISTER;
  w->e.n_owners = t->n_owners;
  memcpy(w->e.owners, t->owners, t->n_owners * sizeof t->owners[0]);
  VE_TRY(store_event(ex, t, &w->e, s, a->digest));
  return index_put(ex, t->owners, t->n_owners, t->id);
}

/* Loads the title id and checks it is ACTIVE (a RETIRED title takes no
 * transaction at all) and at the expected version. */
static int load_active(ledger_exec_t *ex, const uint8_t id[LEDGER_HASH_BYTES], uint64_t version, property_title_t *t) {
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(load_title(&rd, id, t));
  if (t->status != PROPERTY_ACTIVE) return VE_ERR_STATE;
  return version == t->version ? VE_OK : VE_ERR_STATE;
}

/* Loads the title a names (ACTIVE, at the expected version). */
static int load_current(ledger_exec_t *ex, const property_action_t *a, property_title_t *t) {
  return load_active(ex, a->parcel, a->version, t);
}

/* The next version of t, made at this height (the caller stores it). */
static int bump(ledger_exec_t *ex, property_title_t *t) {
  if (t->version == UINT64_MAX) return VE_ERR_LIMIT;
  t->version++;
  t->updated_height = ledger_exec_height(ex);
  return VE_OK;
}

static int apply_transfer(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w) {
  const property_action_t *a = &w->a;
  property_title_t *t = &w->t;
  VE_TRY(load_current(ex, a, t));
  if (has_kind(t, PROPERTY_ARREST)) return VE_ERR_STATE; /* seized: nothing may be disposed of */
  VE_TRY(owners_active(ex, a->owners, a->n_owners));
  consenters_t *c = &w->c;
  c->n = 0;
  VE_TRY(consenters_add_owners(ex, c, t));
  for (size_t i = 0; i < a->n_owners; i++) consenters_add(c, a->owners[i].id);
  consenters_add_mortgagees(c, t);
  VE_TRY(consents_verify(ex, c, a));
  VE_TRY(index_del(ex, t->owners, t->n_owners, t->id));
  VE_TRY(index_put(ex, a->owners, a->n_owners, t->id));
  t->n_owners = a->n_owners;
  memcpy(t->owners, a->owners, a->n_owners * sizeof a->owners[0]);
  memcpy(t->last_deed, a->digest, PROPERTY_DIGEST_BYTES);
  VE_TRY(bump(ex, t));
  VE_TRY(store_title(ex, t));
  memset(&w->e, 0, sizeof w->e);
  w->e.kind = PROPERTY_EV_TRANSFER;
  w->e.n_owners = t->n_owners;
  memcpy(w->e.owners, t->owners, t->n_owners * sizeof t->owners[0]);
  return store_event(ex, t, &w->e, s, a->digest);
}

static int apply_encumber(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w) {
  const property_action_t *a = &w->a;
  property_title_t *t = &w->t;
  VE_TRY(load_current(ex, a, t));
  /* A seized parcel takes no new voluntary burden; a second court order may
   * still be entered. */
  if (a->kind != PROPERTY_ARREST && has_kind(t, PROPERTY_ARREST)) return VE_ERR_STATE;
  if (t->n_encumbrances == PROPERTY_ENCUMBRANCES_MAX || t->next_number == UINT64_MAX) return VE_ERR_LIMIT;
  VE_TRY(identity_active(ex, a->holder));
  consenters_t *c = &w->c;
  c->n = 0;
  if (a->kind != PROPERTY_ARREST) {
    for (size_t i = 0; i < t->n_owners; i++) consenters_add(c, t->owners[i].id);
    consenters_add(c, a->holder);
  }
  VE_TRY(consents_verify(ex, c, a));
  property_encumbrance_t *e = &t->encumbrances[t->n_encumbrances++];
  e->number = t->next_number++;
  e->kind = a->kind;
  memcpy(e->holder, a->holder, LEDGER_HASH_BYTES);
  memcpy(e->document, a->digest, PROPERTY_DIGEST_BYTES);
  e->height = ledger_exec_height(ex);
  VE_TRY(bump(ex, t));
  VE_TRY(store_title(ex, t));
  memset(&w->e, 0, sizeof w->e);
  w->e.kind = PROPERTY_EV_ENCUMBER;
  w->e.number = e->number;
  w->e.enc_kind = e->kind;
  memcpy(w->e.holder, e->holder, LEDGER_HASH_BYTES);
  return store_event(ex, t, &w->e, s, a->digest);
}

/* The index of encumbrance `number` in t, or VE_ERR_NOT_FOUND. */
static int find_encumbrance(const property_title_t *t, uint64_t number, size_t *at) {
  for (*at = 0; *at < t->n_encumbrances; ++*at)
    if (t->encumbrances[*at].number == number) return VE_OK;
  return VE_ERR_NOT_FOUND;
}

static int apply_release(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w) {
  const property_action_t *a = &w->a;
  property_title_t *t = &w->t;
  VE_TRY(load_current(ex, a, t));
  size_t at;
  VE_TRY(find_encumbrance(t, a->number, &at));
  property_encumbrance_t gone = t->encumbrances[at];
  consenters_t *c = &w->c;
  c->n = 0;
  consenters_add(c, gone.holder);
  VE_TRY(consents_verify(ex, c, a));
  memmove(&t->encumbrances[at], &t->encumbrances[at + 1], (t->n_encumbrances - at - 1) * sizeof gone);
  t->n_encumbrances--;
  VE_TRY(bump(ex, t));
  VE_TRY(store_title(ex, t));
  memset(&w->e, 0, sizeof w->e);
  w->e.kind = PROPERTY_EV_RELEASE;
  w->e.number = gone.number;
  w->e.enc_kind = gone.kind;
  memcpy(w->e.holder, gone.holder, LEDGER_HASH_BYTES);
  return store_event(ex, t, &w->e, s, a->digest);
}

/* ---- lineage (protocol >= LEDGER_PROTOCOL_LINEAGE) ---- */

/* The common part of a new title (a subdivision child or a merger result):
 * version 1, ACTIVE, made now by the signer under deed, with the owners of
 * owners_of. The caller fills in the id, the land, the encumbrances and the
 * lineage. */
static void title_new(ledger_exec_t *ex, const ledger_signer_t *s, const uint8_t deed[PROPERTY_DIGEST_BYTES],
                      const property_title_t *owners_of, property_title_t *k) {
  memset(k, 0, sizeof *k);
  memcpy(k->registrar, s->identity_id, LEDGER_HASH_BYTES);
  k->registered_height = k->updated_height = ledger_exec_height(ex);
  k->version = 1;
  k->status = PROPERTY_ACTIVE;
  k->n_owners = owners_of->n_owners;
  memcpy(k->owners, owners_of->owners, owners_of->n_owners * sizeof owners_of->owners[0]);
  memcpy(k->last_deed, deed, PROPERTY_DIGEST_BYTES);
}

/* Stores a new title k with its event 1 (ORIGIN: owners, parents, and the
 * origins already in e) and its owner index entries. */
static int store_origin(ledger_exec_t *ex, const ledger_signer_t *s, property_title_t *k, property_event_t *e,
                        const uint8_t deed[PROPERTY_DIGEST_BYTES]) {
  VE_TRY(store_title(ex, k));
  e->kind = PROPERTY_EV_ORIGIN;
  e->n_owners = k->n_owners;
  memcpy(e->owners, k->owners, k->n_owners * sizeof k->owners[0]);
  e->n_lineage = k->n_parents;
  memcpy(e->lineage, k->parents, k->n_parents * LEDGER_HASH_BYTES);
  VE_TRY(store_event(ex, k, e, s, deed));
  return index_put(ex, k->owners, k->n_owners, k->id);
}

/* Retires parent t into children (its last picture stays), with its event
 * (SUBDIVIDE or MERGE, lineage = the children); it leaves the owner index. */
static int retire(ledger_exec_t *ex, const ledger_signer_t *s, property_title_t *t, unsigned kind,
                  const uint8_t (*children)[LEDGER_HASH_BYTES], size_t n, property_event_t *e,
                  const uint8_t deed[PROPERTY_DIGEST_BYTES]) {
  VE_TRY(index_del(ex, t->owners, t->n_owners, t->id));
  t->status = PROPERTY_RETIRED;
  t->n_children = n;
  memcpy(t->children, children, n * LEDGER_HASH_BYTES);
  VE_TRY(bump(ex, t));
  VE_TRY(store_title(ex, t));
  memset(e, 0, sizeof *e);
  e->kind = (uint8_t)kind;
  e->n_lineage = n;
  memcpy(e->lineage, children, n * LEDGER_HASH_BYTES);
  return store_event(ex, t, e, s, deed);
}

static int apply_subdivide(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w) {
  const property_action_t *a = &w->a;
  property_title_t *t = &w->t;
  VE_TRY(load_current(ex, a, t));
  if (has_kind(t, PROPERTY_ARREST)) return VE_ERR_STATE; /* a seized parcel is not carved up */
  for (size_t i = 0; i < a->n_pieces; i++) VE_TRY(parcel_absent(ex, a->pieces[i].id));
  consenters_t *c = &w->c;
  c->n = 0;
  VE_TRY(consenters_add_owners(ex, c, t));
  consenters_add_mortgagees(c, t);
  VE_TRY(consents_verify(ex, c, a));
  uint8_t ids[PROPERTY_LINEAGE_MAX][LEDGER_HASH_BYTES];
  for (size_t i = 0; i < a->n_pieces; i++) {
    const property_piece_t *p = &a->pieces[i];
    property_title_t *k = &w->t2;
    title_new(ex, s, a->digest, t, k);
    memcpy(k->id, p->id, LEDGER_HASH_BYTES);
    memcpy(k->cadastral, p->cadastral, sizeof k->cadastral);
    memcpy(k->plan_digest, p->plan_digest, PROPERTY_DIGEST_BYTES);
    k->area_m2 = p->area_m2;
    memcpy(k->district, p->district, sizeof k->district);
    /* A burden on the whole is a burden on every part: same numbers. */
    k->n_encumbrances = t->n_encumbrances;
    memcpy(k->encumbrances, t->encumbrances, t->n_encumbrances * sizeof t->encumbrances[0]);
    k->next_number = t->next_number;
    k->n_parents = 1;
    memcpy(k->parents[0], t->id, LEDGER_HASH_BYTES);
    memset(&w->e, 0, sizeof w->e);
    w->e.n_origins = t->n_encumbrances;
    for (size_t j = 0; j < t->n_encumbrances; j++) w->e.origins[j].number = t->encumbrances[j].number;
    VE_TRY(store_origin(ex, s, k, &w->e, a->digest));
    memcpy(ids[i], p->id, LEDGER_HASH_BYTES);
  }
  return retire(ex, s, t, PROPERTY_EV_SUBDIVIDE, (const uint8_t(*)[LEDGER_HASH_BYTES])ids, a->n_pieces, &w->e,
                a->digest);
}

static bool same_owners(const property_title_t *x, const property_title_t *y) {
  if (x->n_owners != y->n_owners) return false;
  for (size_t i = 0; i < x->n_owners; i++)
    if (memcmp(x->owners[i].id, y->owners[i].id, LEDGER_HASH_BYTES) || x->owners[i].parts != y->owners[i].parts)
      return false;
  return true;
}

/* MERGE with the parents' titles in ps[0..a->n_pieces) (scratch). */
static int merge_into(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w, property_title_t *ps) {
  const property_action_t *a = &w->a;
  size_t n = a->n_pieces, m = 0;
  for (size_t i = 0; i < n; i++) {
    VE_TRY(load_active(ex, a->pieces[i].id, a->pieces[i].version, &ps[i]));
    if (has_kind(&ps[i], PROPERTY_ARREST)) return VE_ERR_STATE;
  }
  /* One owner list (ids and parts): the shares of the whole are then those of
   * each part. Co-owners in other shares first transfer to a common form. */
  for (size_t i = 1; i < n; i++)
    if (!same_owners(&ps[0], &ps[i])) return VE_ERR_INVALID;
  property_title_t *k = &w->t2;
  title_new(ex, s, a->digest, &ps[0], k);
  VE_TRY(property_parcel_id(k->id, a->cadastral));
  VE_TRY(parcel_absent(ex, k->id));
  for (size_t i = 0; i < n; i++) m += ps[i].n_encumbrances;
  if (m > PROPERTY_ENCUMBRANCES_MAX) return VE_ERR_LIMIT;
  consenters_t *c = &w->c;
  c->n = 0;
  VE_TRY(consenters_add_owners(ex, c, &ps[0]));
  for (size_t i = 0; i < n; i++) consenters_add_mortgagees(c, &ps[i]); /* a holder consents once */
  VE_TRY(consents_verify(ex, c, a));
  memcpy(k->cadastral, a->cadastral, sizeof k->cadastral);
  memcpy(k->plan_digest, a->plan_digest, PROPERTY_DIGEST_BYTES);
  k->area_m2 = a->area_m2;
  memcpy(k->district, a->district, sizeof k->district);
  /* The union renumbered 1..m in (parent id, number) order; ORIGIN keeps
   * each entry's (parent, old number) so a holder follows its burden. */
  memset(&w->e, 0, sizeof w->e);
  for (size_t i = 0; i < n; i++) {
    memcpy(k->parents[i], ps[i].id, LEDGER_HASH_BYTES);
    for (size_t j = 0; j < ps[i].n_encumbrances; j++) {
      property_encumbrance_t *e = &k->encumbrances[k->n_encumbrances];
      *e = ps[i].encumbrances[j];
      e->number = ++k->n_encumbrances;
      w->e.origins[w->e.n_origins].parent = (uint8_t)i;
      w->e.origins[w->e.n_origins++].number = ps[i].encumbrances[j].number;
    }
  }
  k->n_parents = n;
  k->next_number = m + 1;
  VE_TRY(store_origin(ex, s, k, &w->e, a->digest));
  uint8_t child[1][LEDGER_HASH_BYTES];
  memcpy(child[0], k->id, LEDGER_HASH_BYTES);
  for (size_t i = 0; i < n; i++)
    VE_TRY(retire(ex, s, &ps[i], PROPERTY_EV_MERGE, (const uint8_t(*)[LEDGER_HASH_BYTES])child, 1, &w->e, a->digest));
  return VE_OK;
}

static int apply_merge(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w) {
  /* Up to 16 titles of about 3.4 KiB: allocated for a merger only. */
  property_title_t *ps = malloc(w->a.n_pieces * sizeof *ps);
  if (!ps) return VE_ERR_NOMEM;
  int rc = merge_into(ex, s, w, ps);
  free(ps);
  return rc;
}

static int apply_holder_replace(ledger_exec_t *ex, const ledger_signer_t *s, work_t *w) {
  const property_action_t *a = &w->a;
  property_title_t *t = &w->t;
  VE_TRY(load_current(ex, a, t));
  size_t at;
  VE_TRY(find_encumbrance(t, a->number, &at));
  property_encumbrance_t *e = &t->encumbrances[at];
  VE_TRY(identity_active(ex, a->holder));
  if (!memcmp(a->holder, e->holder, LEDGER_HASH_BYTES)) return VE_ERR_INVALID;
  consenters_t *c = &w->c;
  c->n = 0;
  consenters_add(c, a->holder);
  /* A holder whose identity is REVOKED (wound up, reorganised) cannot sign:
   * the registrar enters the successor on the court's or successor's act
   * (the document digest). Any other holder consents, SUSPENDED included
   * (refused as such: wait for the restore). */
  identity_t old;
  VE_TRY(identity_load(ex, e->holder, &old));
  if (old.status != IDENTITY_REVOKED) consenters_add(c, e->holder);
  VE_TRY(consents_verify(ex, c, a));
  memset(&w->e, 0, sizeof w->e);
  w->e.kind = PROPERTY_EV_HOLDER_REPLACE;
  w->e.number = e->number;
  w->e.enc_kind = e->kind;
  memcpy(w->e.holder, e->holder, LEDGER_HASH_BYTES);
  memcpy(w->e.new_holder, a->holder, LEDGER_HASH_BYTES);
  /* Number, kind, document and height stay: the burden's rank is its
   * registration, not its transfer. */
  memcpy(e->holder, a->holder, LEDGER_HASH_BYTES);
  VE_TRY(bump(ex, t));
  VE_TRY(store_title(ex, t));
  return store_event(ex, t, &w->e, s, a->digest);
}

static int property_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  if (tx->type < TX_TYPE_PROPERTY_REGISTER || tx->type > TX_TYPE_PROPERTY_HOLDER_REPLACE) return VE_ERR_UNKNOWN_TYPE;
  if (tx->type >= TX_TYPE_PROPERTY_SUBDIVIDE) {
    /* New types exist from protocol 3 only; the old ones never read it. */
    uint64_t protocol;
    VE_TRY(ledger_exec_protocol(ex, &protocol));
    if (protocol < LEDGER_PROTOCOL_LINEAGE) return VE_ERR_UNKNOWN_TYPE;
  }
  work_t *w = malloc(sizeof *w);
  if (!w) return VE_ERR_NOMEM;
  int rc = property_payload_decode(tx->type, tx->payload, &w->a);
  if (rc == VE_OK && !(s->roles & ROLE_LAND_REGISTRAR)) rc = VE_ERR_PERMISSION;
  if (rc == VE_OK) {
    switch (tx->type) {
      case TX_TYPE_PROPERTY_REGISTER: rc = apply_register(ex, s, w); break;
      case TX_TYPE_PROPERTY_TRANSFER: rc = apply_transfer(ex, s, w); break;
      case TX_TYPE_PROPERTY_ENCUMBER: rc = apply_encumber(ex, s, w); break;
      case TX_TYPE_PROPERTY_RELEASE: rc = apply_release(ex, s, w); break;
      case TX_TYPE_PROPERTY_SUBDIVIDE: rc = apply_subdivide(ex, s, w); break;
      case TX_TYPE_PROPERTY_MERGE: rc = apply_merge(ex, s, w); break;
      default: rc = apply_holder_replace(ex, s, w); break;
    }
  }
  free(w);
  return rc;
}

const ledger_app_t property_app = {
    .name = "property",
    .type_lo = PROPERTY_TX_TYPE_LO,
    .type_hi = PROPERTY_TX_TYPE_HI,
    .apply = property_apply,
};

/* ---- reads ---- */

int property_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], property_title_t *out) {
  ledger_reader_t rd = {NULL, t};
  return load_title(&rd, id, out);
}

int property_history_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], uint64_t version,
                         property_event_t *out) {
  uint8_t key[PROPERTY_EVENT_KEY_BYTES];
  ve_slice_t v;
  ledger_reader_t rd = {NULL, t};
  VE_TRY(ledger_reader_get(&rd, ve_slice(key, property_event_key(key, id, version)), &v));
  return property_event_decode(v, version, out);
}

int property_owned_list(store_txn_t *t, const uint8_t owner[LEDGER_HASH_BYTES], const uint8_t *after,
                        size_t limit, uint8_t (*ids)[LEDGER_HASH_BYTES], size_t *n, bool *more) {
  *n = 0;
  *more = false;
  if (limit == 0 || limit > PROPERTY_OWNED_PAGE_MAX) return VE_ERR_INVALID;
  uint8_t start[PROPERTY_OWNER_KEY_BYTES];
  static const uint8_t zero[LEDGER_HASH_BYTES];
  property_owner_key(start, owner, after ? after : zero);
  store_cursor_t *c;
  VE_TRY(store_cursor_open(t, STORE_T_STATE, &c));
  ve_slice_t k, v;
  int rc = VE_OK;
  for (int r = store_cursor_seek(c, ve_slice(start, after ? sizeof start : PROPERTY_OWNER_PREFIX_BYTES), &k, &v);
       r != VE_ERR_NOT_FOUND; r = store_cursor_next(c, &k, &v)) {
    if (r) {
      rc = r;
      break;
    }
    if (k.len != PROPERTY_OWNER_KEY_BYTES || memcmp(k.ptr, start, PROPERTY_OWNER_PREFIX_BYTES)) break;
    if (after && !memcmp(k.ptr, start, sizeof start)) continue;
    if (*n == limit) {
      *more = true;
      break;
    }
    memcpy(ids[(*n)++], k.ptr + PROPERTY_OWNER_PREFIX_BYTES, LEDGER_HASH_BYTES);
  }
  store_cursor_close(c);
  return rc;
}
