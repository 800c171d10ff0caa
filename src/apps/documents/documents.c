/* documents.c — validation and state transitions of document transactions, and
 * reads of document state. The status machine and its invariants are in
 * documents.h; the permission table is in docs/documents.md. Every apply_*
 * decodes its whole payload strictly first, then checks permission, then the
 * state; any error leaves the state untouched (the ledger rolls back). */
#include "apps/documents/documents.h"

#include <stdlib.h>
#include <string.h>

#include "apps/documents/documents_int.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "state/state.h"

/* Roles that issue documents. */
#define ISSUING_ROLES (ROLE_NOTARY | ROLE_REGISTRAR)
/* Grant list value: version, count, ids. */
#define GRANTS_VALUE_BYTES_MAX (1 + CODEC_UVARINT_BYTES_MAX + DOCUMENTS_GRANTS_MAX * LEDGER_HASH_BYTES)

const char *documents_status_name(documents_status_t s) {
  switch (s) {
    case DOCUMENTS_CURRENT: return "current";
    case DOCUMENTS_SUPERSEDED: return "superseded";
    case DOCUMENTS_REVOKED: return "revoked";
  }
  return "unknown";
}

const char *documents_verdict_name(documents_verdict_t v) {
  switch (v) {
    case DOCUMENTS_VERDICT_VALID: return "valid";
    case DOCUMENTS_VERDICT_NOT_YET_VALID: return "not_yet_valid";
    case DOCUMENTS_VERDICT_EXPIRED: return "expired";
    case DOCUMENTS_VERDICT_SUPERSEDED: return "superseded";
    case DOCUMENTS_VERDICT_REVOKED: return "revoked";
  }
  return "unknown";
}

documents_verdict_t documents_verdict(const documents_record_t *rec, uint64_t now_ms) {
  if (rec->status == DOCUMENTS_REVOKED) return DOCUMENTS_VERDICT_REVOKED;
  if (rec->status == DOCUMENTS_SUPERSEDED) return DOCUMENTS_VERDICT_SUPERSEDED;
  if (rec->spec.has_validity && now_ms < rec->spec.not_before_ms) return DOCUMENTS_VERDICT_NOT_YET_VALID;
  if (rec->spec.has_validity && now_ms >= rec->spec.not_after_ms) return DOCUMENTS_VERDICT_EXPIRED;
  return DOCUMENTS_VERDICT_VALID;
}

/* ---- state access over the ledger overlay (execution) or a store txn (reads) ---- */

static int load_doc(const ledger_reader_t *rd, const uint8_t id[LEDGER_HASH_BYTES], documents_record_t *out) {
  uint8_t key[DOCUMENTS_STATE_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, documents_state_key(key, id)), &v));
  return documents_decode(v, id, out);
}

/* Encodes into a buffer on the stack (a record is bounded by
 * DOCUMENTS_RECORD_BYTES_MAX; a heap buffer grew by three reallocs per
 * registration); ledger_state_put copies it. */
static int store_doc(ledger_exec_t *ex, const documents_record_t *rec) {
  uint8_t mem[DOCUMENTS_RECORD_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(docs_record_encode(rec, &b));
  uint8_t key[DOCUMENTS_STATE_KEY_BYTES];
  return ledger_state_put(ex, ve_slice(key, documents_state_key(key, rec->id)), ve_buf_slice(&b));
}

static int load_index(const ledger_reader_t *rd, const documents_digest_t *d, uint8_t doc[LEDGER_HASH_BYTES]) {
  uint8_t key[DOCUMENTS_INDEX_KEY_BYTES_MAX];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, documents_index_key(key, d)), &v));
  return documents_index_decode(v, doc);
}

static int store_index(ledger_exec_t *ex, const documents_digest_t *d, const uint8_t doc[LEDGER_HASH_BYTES]) {
  uint8_t key[DOCUMENTS_INDEX_KEY_BYTES_MAX], val[1 + LEDGER_HASH_BYTES];
  val[0] = DOCS_INDEX_VERSION;
  memcpy(val + 1, doc, LEDGER_HASH_BYTES);
  return ledger_state_put(ex, ve_slice(key, documents_index_key(key, d)), ve_slice(val, sizeof val));
}

/* The identities holding a grant on one document, strictly ascending. */
typedef struct {
  size_t n;
  uint8_t ids[DOCUMENTS_GRANTS_MAX][LEDGER_HASH_BYTES];
} grant_list_t;

static int list_decode(ve_slice_t v, grant_list_t *l) {
  codec_reader_t r;
  codec_reader_init(&r, v);
  if (codec_get_u8(&r) != DOCS_GRANTS_VERSION) codec_fail(&r, VE_ERR_VERSION);
  size_t n = codec_get_count(&r, DOCUMENTS_GRANTS_MAX, LEDGER_HASH_BYTES);
  for (size_t i = 0; i < n && !r.err; i++) {
    codec_get_fixed(&r, l->ids[i], LEDGER_HASH_BYTES);
    if (i > 0 && memcmp(l->ids[i - 1], l->ids[i], LEDGER_HASH_BYTES) >= 0) codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  /* An empty list is never stored: the key is deleted instead. */
  if (!r.err && n == 0) codec_fail(&r, VE_ERR_NONCANONICAL);
  l->n = r.err ? 0 : n;
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

static int list_load(const ledger_reader_t *rd, const uint8_t doc[LEDGER_HASH_BYTES], grant_list_t *l) {
  uint8_t key[DOCUMENTS_GRANTS_KEY_BYTES];
  ve_slice_t v;
  l->n = 0;
  int rc = ledger_reader_get(rd, ve_slice(key, documents_grants_key(key, doc)), &v);
  if (rc == VE_ERR_NOT_FOUND) return VE_OK;
  VE_TRY(rc);
  return list_decode(v, l);
}

static int list_store(ledger_exec_t *ex, const uint8_t doc[LEDGER_HASH_BYTES], const grant_list_t *l) {
  uint8_t key[DOCUMENTS_GRANTS_KEY_BYTES];
  ve_slice_t k = ve_slice(key, documents_grants_key(key, doc));
  if (l->n == 0) return ledger_state_del(ex, k);
  ve_buf_t b;
  ve_buf_init(&b, GRANTS_VALUE_BYTES_MAX);
  codec_writer_t w;
  codec_writer_init(&w, &b);
  codec_put_u8(&w, DOCS_GRANTS_VERSION);
  codec_put_uvarint(&w, l->n);
  for (size_t i = 0; i < l->n; i++) codec_put_fixed(&w, l->ids[i], LEDGER_HASH_BYTES);
  int rc = codec_writer_finish(&w);
  if (rc == VE_OK) rc = ledger_state_put(ex, k, ve_buf_slice(&b));
  ve_buf_free(&b);
  return rc;
}

static uint8_t *list_at(grant_list_t *l, size_t i) { return (uint8_t *)l->ids + i * LEDGER_HASH_BYTES; }

/* Position of id in l (where it is, or where it would be inserted). */
static size_t list_find(const grant_list_t *l, const uint8_t id[LEDGER_HASH_BYTES], bool *found) {
  size_t i = 0;
  while (i < l->n && memcmp(l->ids[i], id, LEDGER_HASH_BYTES) < 0) i++;
  *found = i < l->n && memcmp(l->ids[i], id, LEDGER_HASH_BYTES) == 0;
  return i;
}

/* An identity that documents may name (subject) or grant to: registered and active. */
static int identity_active(ledger_exec_t *ex, const uint8_t id[LEDGER_HASH_BYTES], identity_t *out) {
  uint8_t key[3 + LEDGER_HASH_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_state_get(ex, ve_slice(key, identity_state_key(key, id)), &v));
  VE_TRY(identity_decode(v, id, out));
  if (out->status == IDENTITY_REVOKED) return VE_ERR_REVOKED;
  if (out->status == IDENTITY_SUSPENDED) return VE_ERR_SUSPENDED;
  return VE_OK;
}

/* ---- permissions (docs/documents.md, "Permissions") ---- */

static bool is_issuer(const ledger_signer_t *s, const documents_record_t *rec) {
  return (s->roles & ISSUING_ROLES) && memcmp(s->identity_id, rec->issuer, LEDGER_HASH_BYTES) == 0;
}

static bool may_manage(const ledger_signer_t *s, const documents_record_t *rec) {
  return (s->roles & ROLE_ADMIN) || is_issuer(s, rec);
}

static bool may_renew(const ledger_signer_t *s, const documents_record_t *rec) {
  return (s->roles & (ROLE_ADMIN | ROLE_NOTARY)) || is_issuer(s, rec);
}

/* ---- transactions ---- */

/* Creates the record for spec issued by s (superseding prev when not NULL):
 * the subject must be active and the digest new to the chain. */
static int create_record(ledger_exec_t *ex, const ledger_signer_t *s, const documents_spec_t *spec,
                         const uint8_t *prev, documents_record_t *rec) {
  identity_t subject;
  VE_TRY(identity_active(ex, spec->subject, &subject));
  ledger_reader_t rd = {ex, NULL};
  uint8_t other[LEDGER_HASH_BYTES];
  int rc = load_index(&rd, &spec->digest, other);
  if (rc == VE_OK) return VE_ERR_EXISTS; /* one record per (algorithm, digest) on the chain */
  if (rc != VE_ERR_NOT_FOUND) return rc;
  memset(rec, 0, sizeof *rec);
  memcpy(rec->issuer, s->identity_id, LEDGER_HASH_BYTES);
  rec->spec = *spec;
  documents_id(rec->id, rec->issuer, &spec->digest);
  if (prev) {
    rec->has_prev = true;
    memcpy(rec->prev, prev, LEDGER_HASH_BYTES);
  }
  rec->registered_height = rec->status_height = ledger_exec_height(ex);
  rec->registered_time_ms = ledger_exec_time_ms(ex);
  rec->status = DOCUMENTS_CURRENT;
  VE_TRY(store_doc(ex, rec));
  return store_index(ex, &spec->digest, rec->id);
}

static int apply_register(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s) {
  documents_spec_t spec;
  docs_get_spec(r, &spec);
  VE_TRY(codec_reader_finish(r));
  if (!(s->roles & ISSUING_ROLES)) return VE_ERR_PERMISSION;
  documents_record_t *rec = malloc(sizeof *rec);
  if (!rec) return VE_ERR_NOMEM;
  int rc = create_record(ex, s, &spec, NULL, rec);
  free(rec);
  return rc;
}

static int apply_supersede(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s) {
  uint8_t old_id[LEDGER_HASH_BYTES];
  documents_spec_t spec;
  codec_get_fixed(r, old_id, sizeof old_id);
  docs_get_spec(r, &spec);
  VE_TRY(codec_reader_finish(r));
  documents_record_t *recs = malloc(2 * sizeof *recs);
  if (!recs) return VE_ERR_NOMEM;
  documents_record_t *old = &recs[0], *rec = &recs[1];
  ledger_reader_t rd = {ex, NULL};
  int rc = load_doc(&rd, old_id, old);
  if (rc == VE_OK && !may_manage(s, old)) rc = VE_ERR_PERMISSION;
  if (rc == VE_OK && old->status != DOCUMENTS_CURRENT) rc = VE_ERR_STATE;
  if (rc == VE_OK) rc = create_record(ex, s, &spec, old_id, rec);
  if (rc == VE_OK) {
    old->status = DOCUMENTS_SUPERSEDED;
    old->has_next = true;
    memcpy(old->next, rec->id, LEDGER_HASH_BYTES);
    old->status_height = ledger_exec_height(ex);
    rc = store_doc(ex, old);
  }
  free(recs);
  return rc;
}

/* Decodes doc || reason (revoke and erase). */
static void get_doc_reason(codec_reader_t *r, uint8_t doc[LEDGER_HASH_BYTES], ve_slice_t *reason) {
  codec_get_fixed(r, doc, LEDGER_HASH_BYTES);
  *reason = codec_get_bytes(r, DOCUMENTS_REASON_BYTES_MAX);
}

static int apply_revoke(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s,
                        documents_record_t *rec) {
  uint8_t doc[LEDGER_HASH_BYTES];
  ve_slice_t reason;
  get_doc_reason(r, doc, &reason);
  VE_TRY(codec_reader_finish(r));
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(load_doc(&rd, doc, rec));
  if (!may_manage(s, rec)) return VE_ERR_PERMISSION;
  if (rec->status == DOCUMENTS_REVOKED) return VE_ERR_STATE;
  rec->status = DOCUMENTS_REVOKED;
  rec->status_height = ledger_exec_height(ex);
  memcpy(rec->reason, reason.ptr, reason.len);
  rec->reason_len = reason.len;
  return store_doc(ex, rec);
}

static int put_grant(ledger_exec_t *ex, const uint8_t doc[LEDGER_HASH_BYTES], const documents_grant_t *g) {
  uint8_t key[DOCUMENTS_GRANT_KEY_BYTES];
  uint8_t val[1 + VCRYPTO_PK_BYTES + DOCUMENTS_WRAPPED_KEY_BYTES + LEDGER_HASH_BYTES + CODEC_UVARINT_BYTES_MAX];
  ve_buf_t b = {val, 0, sizeof val, sizeof val};
  codec_writer_t w;
  codec_writer_init(&w, &b);
  codec_put_u8(&w, DOCS_GRANT_VERSION);
  codec_put_fixed(&w, g->recipient_pk, VCRYPTO_PK_BYTES);
  codec_put_fixed(&w, g->wrapped, DOCUMENTS_WRAPPED_KEY_BYTES);
  codec_put_fixed(&w, g->granter, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, g->height);
  VE_TRY(codec_writer_finish(&w));
  return ledger_state_put(ex, ve_slice(key, documents_grant_key(key, doc, g->recipient)), ve_slice(val, b.len));
}

static int grant_checks(ledger_exec_t *ex, const ledger_signer_t *s, const documents_record_t *rec,
                        const documents_grant_t *g) {
  /* Only the issuer holds the key, so only the issuer can wrap it. */
  if (!is_issuer(s, rec)) return VE_ERR_PERMISSION;
  if (rec->status == DOCUMENTS_REVOKED || rec->key_erased) return VE_ERR_STATE;
  identity_t who;
  VE_TRY(identity_active(ex, g->recipient, &who));
  /* The key must be wrapped to the recipient's current key, not a rotated one. */
  if (memcmp(who.pk, g->recipient_pk, VCRYPTO_PK_BYTES) != 0) return VE_ERR_BAD_KEY;
  return VE_OK;
}

static int apply_grant(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s,
                       documents_record_t *rec, grant_list_t *l) {
  uint8_t doc[LEDGER_HASH_BYTES];
  documents_grant_t g;
  memset(&g, 0, sizeof g);
  codec_get_fixed(r, doc, sizeof doc);
  codec_get_fixed(r, g.recipient, LEDGER_HASH_BYTES);
  codec_get_fixed(r, g.recipient_pk, VCRYPTO_PK_BYTES);
  codec_get_fixed(r, g.wrapped, DOCUMENTS_WRAPPED_KEY_BYTES);
  VE_TRY(codec_reader_finish(r));
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(load_doc(&rd, doc, rec));
  VE_TRY(grant_checks(ex, s, rec, &g));
  VE_TRY(list_load(&rd, doc, l));
  bool found;
  size_t at = list_find(l, g.recipient, &found);
  if (!found) { /* a repeated grant replaces the wrapped key (e.g. after a key rotation) */
    if (l->n == DOCUMENTS_GRANTS_MAX) return VE_ERR_LIMIT;
    memmove(list_at(l, at + 1), list_at(l, at), (l->n - at) * LEDGER_HASH_BYTES);
    memcpy(l->ids[at], g.recipient, LEDGER_HASH_BYTES);
    l->n++;
    VE_TRY(list_store(ex, doc, l));
  }
  memcpy(g.granter, s->identity_id, LEDGER_HASH_BYTES);
  g.height = ledger_exec_height(ex);
  return put_grant(ex, doc, &g);
}

static int apply_grant_revoke(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s,
                              documents_record_t *rec, grant_list_t *l) {
  uint8_t doc[LEDGER_HASH_BYTES], who[LEDGER_HASH_BYTES];
  codec_get_fixed(r, doc, sizeof doc);
  codec_get_fixed(r, who, sizeof who);
  VE_TRY(codec_reader_finish(r));
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(load_doc(&rd, doc, rec));
  if (!may_manage(s, rec)) return VE_ERR_PERMISSION;
  VE_TRY(list_load(&rd, doc, l));
  bool found;
  size_t at = list_find(l, who, &found);
  if (!found) return VE_ERR_NOT_FOUND;
  memmove(list_at(l, at), list_at(l, at + 1), (l->n - at - 1) * LEDGER_HASH_BYTES);
  l->n--;
  VE_TRY(list_store(ex, doc, l));
  uint8_t key[DOCUMENTS_GRANT_KEY_BYTES];
  return ledger_state_del(ex, ve_slice(key, documents_grant_key(key, doc, who)));
}

static int apply_erase(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s,
                       documents_record_t *rec, grant_list_t *l) {
  uint8_t doc[LEDGER_HASH_BYTES];
  ve_slice_t reason;
  get_doc_reason(r, doc, &reason);
  VE_TRY(codec_reader_finish(r));
  (void)reason; /* kept in the transaction itself; the tx index serves it */
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(load_doc(&rd, doc, rec));
  if (!may_manage(s, rec)) return VE_ERR_PERMISSION;
  if (rec->key_erased) return VE_ERR_STATE;
  VE_TRY(list_load(&rd, doc, l));
  uint8_t key[DOCUMENTS_GRANT_KEY_BYTES];
  for (size_t i = 0; i < l->n; i++)
    VE_TRY(ledger_state_del(ex, ve_slice(key, documents_grant_key(key, doc, l->ids[i]))));
  l->n = 0;
  VE_TRY(list_store(ex, doc, l));
  rec->key_erased = true;
  rec->erased_height = ledger_exec_height(ex);
  return store_doc(ex, rec);
}

/* A renewal's content digest must agree with every earlier digest under the
 * same algorithm (the registration's and earlier renewals'). */
static bool renewal_consistent(const documents_record_t *rec, const documents_renewal_t *rn) {
  size_t n = documents_alg_digest_bytes(rn->alg);
  if (!rn->has_content) return true;
  if (rec->spec.digest.alg == rn->alg && memcmp(rec->spec.digest.bytes, rn->content_digest, n) != 0)
    return false;
  for (size_t i = 0; i < rec->n_renewals; i++) {
    const documents_renewal_t *o = &rec->renewals[i];
    if (o->alg == rn->alg && o->has_content && memcmp(o->content_digest, rn->content_digest, n) != 0)
      return false;
  }
  return true;
}

static int apply_renew(ledger_exec_t *ex, codec_reader_t *r, const ledger_signer_t *s,
                       documents_record_t *rec) {
  uint8_t doc[LEDGER_HASH_BYTES];
  documents_renewal_t rn;
  memset(&rn, 0, sizeof rn);
  codec_get_fixed(r, doc, sizeof doc);
  rn.alg = codec_get_u8(r);
  size_t n = documents_alg_digest_bytes(rn.alg);
  if (!r->err && n == 0) codec_fail(r, VE_ERR_UNSUPPORTED);
  rn.has_content = codec_get_bool(r);
  if (rn.has_content) codec_get_fixed(r, rn.content_digest, n);
  rn.anchor_height = codec_get_uvarint(r);
  codec_get_fixed(r, rn.anchor_root, LEDGER_HASH_BYTES);
  VE_TRY(codec_reader_finish(r));
  ledger_reader_t rd = {ex, NULL};
  VE_TRY(load_doc(&rd, doc, rec));
  if (!may_renew(s, rec)) return VE_ERR_PERMISSION;
  if (rec->n_renewals == DOCUMENTS_RENEWALS_MAX) return VE_ERR_LIMIT;
  /* The anchor must be a committed state version holding the evidence so far:
   * at or after the last layer was written, before this block. */
  uint64_t last = rec->n_renewals ? rec->renewals[rec->n_renewals - 1].height : rec->registered_height;
  if (rn.anchor_height < last || rn.anchor_height >= ledger_exec_height(ex)) return VE_ERR_HEIGHT;
  if (!renewal_consistent(rec, &rn)) return VE_ERR_HASH_MISMATCH;
  VE_TRY(docs_evidence_digest(rn.evidence_digest, rn.alg, rec, rec->n_renewals, rn.anchor_height,
                              rn.anchor_root));
  rn.height = ledger_exec_height(ex);
  rn.time_ms = ledger_exec_time_ms(ex);
  memcpy(rn.renewer, s->identity_id, LEDGER_HASH_BYTES);
  rec->renewals[rec->n_renewals++] = rn;
  VE_TRY(store_doc(ex, rec));
  if (!rn.has_content) return VE_OK;
  /* Index the new digest too, so the file is found under the new algorithm; an
   * entry that already exists (the same bytes registered under that algorithm
   * by another record) is left as it is. */
  documents_digest_t d;
  memset(&d, 0, sizeof d);
  d.alg = rn.alg;
  memcpy(d.bytes, rn.content_digest, n);
  uint8_t other[LEDGER_HASH_BYTES];
  int rc = load_index(&rd, &d, other);
  if (rc == VE_OK) return VE_OK;
  if (rc != VE_ERR_NOT_FOUND) return rc;
  return store_index(ex, &d, rec->id);
}

/* Scratch space for one transaction (kept off the stack: about 13 KiB). */
typedef struct {
  documents_record_t rec;
  grant_list_t list;
} scratch_t;

static int documents_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  if (tx->type < TX_TYPE_DOCUMENT_REGISTER || tx->type > TX_TYPE_DOCUMENT_RENEW) return VE_ERR_UNKNOWN_TYPE;
  codec_reader_t r;
  codec_reader_init(&r, tx->payload);
  if (codec_get_u8(&r) != DOCS_PAYLOAD_VERSION) return r.err ? r.err : VE_ERR_VERSION;
  if (tx->type == TX_TYPE_DOCUMENT_REGISTER) return apply_register(ex, &r, s);
  if (tx->type == TX_TYPE_DOCUMENT_SUPERSEDE) return apply_supersede(ex, &r, s);
  scratch_t *sc = malloc(sizeof *sc);
  if (!sc) return VE_ERR_NOMEM;
  int rc = VE_ERR_UNKNOWN_TYPE;
  switch (tx->type) {
    case TX_TYPE_DOCUMENT_REVOKE: rc = apply_revoke(ex, &r, s, &sc->rec); break;
    case TX_TYPE_DOCUMENT_GRANT: rc = apply_grant(ex, &r, s, &sc->rec, &sc->list); break;
    case TX_TYPE_DOCUMENT_GRANT_REVOKE: rc = apply_grant_revoke(ex, &r, s, &sc->rec, &sc->list); break;
    case TX_TYPE_DOCUMENT_ERASE: rc = apply_erase(ex, &r, s, &sc->rec, &sc->list); break;
    case TX_TYPE_DOCUMENT_RENEW: rc = apply_renew(ex, &r, s, &sc->rec); break;
  }
  free(sc);
  return rc;
}

const ledger_app_t documents_app = {
    .name = "documents",
    .type_lo = DOCUMENTS_TX_TYPE_LO,
    .type_hi = DOCUMENTS_TX_TYPE_HI,
    .apply = documents_apply,
    .genesis = NULL,
};

/* ---- reads ---- */

int documents_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], documents_record_t *out) {
  ledger_reader_t rd = {NULL, t};
  return load_doc(&rd, id, out);
}

int documents_get_by_digest(store_txn_t *t, const documents_digest_t *d, documents_record_t *out) {
  if (documents_alg_digest_bytes(d->alg) == 0) return VE_ERR_UNSUPPORTED;
  ledger_reader_t rd = {NULL, t};
  uint8_t id[LEDGER_HASH_BYTES];
  VE_TRY(load_index(&rd, d, id));
  return load_doc(&rd, id, out);
}

int documents_grant_get(store_txn_t *t, const uint8_t doc[LEDGER_HASH_BYTES],
                        const uint8_t recipient[LEDGER_HASH_BYTES], documents_grant_t *out) {
  uint8_t key[DOCUMENTS_GRANT_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(state_get(t, ve_slice(key, documents_grant_key(key, doc, recipient)), &v));
  return documents_grant_decode(v, recipient, out);
}

int documents_grants_list(store_txn_t *t, const uint8_t doc[LEDGER_HASH_BYTES],
                          uint8_t (*ids)[LEDGER_HASH_BYTES], size_t cap, size_t *n) {
  *n = 0;
  grant_list_t *l = malloc(sizeof *l);
  if (!l) return VE_ERR_NOMEM;
  ledger_reader_t rd = {NULL, t};
  int rc = list_load(&rd, doc, l);
  if (rc == VE_OK && l->n > cap) rc = VE_ERR_LIMIT;
  if (rc == VE_OK) {
    if (l->n) memcpy(ids, l->ids, l->n * LEDGER_HASH_BYTES);
    *n = l->n;
  }
  free(l);
  return rc;
}
