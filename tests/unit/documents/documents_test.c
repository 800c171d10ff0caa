/* documents_test.c — the documents app driven through real blocks.
 *
 * A memory-store chain as in tests/unit/ledger/ledger_test.c: genesis with an
 * admin, a registrar and two notaries; citizens alice and dave (active), bob
 * (suspended) and carol (revoked) registered in blocks 1-2. Each test builds
 * signed transactions with the payload builders, commits them, and inspects the
 * result codes and the state: lifecycle and permissions, the digest index,
 * grants and decryption by the recipient, erasure, the evidence renewal chain,
 * strict decoding of every payload (with a seeded mutation loop), determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "base/err.h"
#include "codec/codec.h"
#include "ledger/ledger.h"
#include "state/state.h"
#include "tchain.h"
#include "trng.h"

#define CHAIN "veche-doc-test-1"

static const ledger_registry_t REG = {&identity_auth, {&identity_app, &documents_app}, 2, NULL};

typedef struct {
  tchain_t tc;
  vcrypto_keypair_t admin, registrar, notary, notary2;
  vcrypto_keypair_t alice, bob, carol, dave;
  uint8_t admin_id[32], registrar_id[32], notary_id[32], notary2_id[32];
  uint8_t alice_id[32], bob_id[32], carol_id[32], dave_id[32];
} chain_t;

static void seed_key(vcrypto_keypair_t *kp, uint8_t *id, uint8_t n) { tchain_key(kp, id, n, n); }

/* One transaction in its own block; returns its result code. */
static int32_t run1(chain_t *c, const vcrypto_keypair_t *kp, uint32_t type, const ve_buf_t *payload) {
  return tchain_run1(&c->tc, kp, type, ve_buf_slice(payload));
}

static void empty_block(chain_t *c) { tchain_commit(&c->tc, NULL, 0, NULL); }

static void identity_payload(ve_buf_t *p, const uint8_t pk[32]) {
  uint8_t digest[32];
  memset(digest, 0xab, 32);
  ve_buf_reset(p);
  assert_int_equal(identity_payload_register(p, pk, digest, NULL, 0), 0);
}

static void chain_init(chain_t *c) {
  memset(c, 0, sizeof *c);
  tchain_init(&c->tc, CHAIN, &REG);
  seed_key(&c->admin, c->admin_id, 1);
  seed_key(&c->registrar, c->registrar_id, 2);
  seed_key(&c->notary, c->notary_id, 3);
  seed_key(&c->notary2, c->notary2_id, 5);
  seed_key(&c->alice, c->alice_id, 10);
  seed_key(&c->bob, c->bob_id, 11);
  seed_key(&c->carol, c->carol_id, 12);
  seed_key(&c->dave, c->dave_id, 13);
  tchain_authority(&c->tc, "ministry", &c->admin, ROLE_ADMIN);
  tchain_authority(&c->tc, "city registry", &c->registrar, ROLE_REGISTRAR);
  tchain_authority(&c->tc, "notary one", &c->notary, ROLE_NOTARY);
  tchain_authority(&c->tc, "notary two", &c->notary2, ROLE_NOTARY);
  tchain_open(&c->tc, NULL);
  /* Block 1: four citizens. Block 2: bob suspended, carol revoked. */
  ve_buf_t txs[4], p;
  ve_buf_init(&p, 0);
  const vcrypto_keypair_t *who[4] = {&c->alice, &c->bob, &c->carol, &c->dave};
  for (int i = 0; i < 4; i++) {
    ve_buf_init(&txs[i], 0);
    identity_payload(&p, who[i]->pk);
    tchain_tx(&c->tc, &txs[i], &c->registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  }
  int32_t res[4];
  tchain_commit(&c->tc, txs, 4, res);
  for (int i = 0; i < 4; i++) assert_int_equal(res[i], 0);
  for (int i = 0; i < 2; i++) ve_buf_reset(&txs[i]);
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, c->bob_id, "inquiry"), 0);
  tchain_tx(&c->tc, &txs[0], &c->registrar, TX_TYPE_IDENTITY_SUSPEND, ve_buf_slice(&p));
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_status(&p, c->carol_id, "deceased"), 0);
  tchain_tx(&c->tc, &txs[1], &c->registrar, TX_TYPE_IDENTITY_REVOKE, ve_buf_slice(&p));
  tchain_commit(&c->tc, txs, 2, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  for (int i = 0; i < 4; i++) ve_buf_free(&txs[i]);
  ve_buf_free(&p);
}

static void chain_free(chain_t *c) { tchain_free(&c->tc); }

static void root_at(chain_t *c, uint64_t h, uint8_t root[32]) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(state_root_at(t, h, root), 0);
  store_txn_abort(t);
}

static int get_doc(chain_t *c, const uint8_t id[32], documents_record_t *out) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  int rc = documents_get(t, id, out);
  store_txn_abort(t);
  return rc;
}

static int get_grant(chain_t *c, const uint8_t doc[32], const uint8_t who[32], documents_grant_t *out) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  int rc = documents_grant_get(t, doc, who, out);
  store_txn_abort(t);
  return rc;
}

static size_t grants_count(chain_t *c, const uint8_t doc[32]) {
  store_txn_t *t;
  uint8_t ids[DOCUMENTS_GRANTS_MAX][32];
  size_t n = 99;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(documents_grants_list(t, doc, ids, DOCUMENTS_GRANTS_MAX, &n), 0);
  store_txn_abort(t);
  return n;
}

/* The current value of a state key, copied into out (empty if absent). */
static int state_value(chain_t *c, ve_slice_t key, ve_buf_t *out) {
  store_txn_t *t;
  ve_slice_t v;
  ve_buf_reset(out);
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  int rc = state_get(t, key, &v);
  if (rc == 0) assert_int_equal(ve_buf_append(out, v.ptr, v.len), 0);
  store_txn_abort(t);
  return rc;
}

static void spec_for(documents_spec_t *s, const char *type, const uint8_t subject[32], const char *content) {
  memset(s, 0, sizeof *s);
  strcpy(s->type, type);
  memcpy(s->subject, subject, 32);
  assert_int_equal(documents_digest_file_bytes(&s->digest, DOCUMENTS_ALG_BLAKE2B_256,
                                               (const uint8_t *)content, strlen(content)),
                   0);
  vcrypto_hash(s->metadata_digest, "test/meta", (const uint8_t *)type, strlen(type));
}

/* Registers spec as signer; returns the result and (on success) the id. */
static int32_t register_doc(chain_t *c, const vcrypto_keypair_t *kp, const documents_spec_t *s, uint8_t id[32]) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(documents_payload_register(&p, s), 0);
  int32_t rc = run1(c, kp, TX_TYPE_DOCUMENT_REGISTER, &p);
  ve_buf_free(&p);
  uint8_t issuer[32];
  identity_id_from_pk(issuer, kp->pk);
  if (id) documents_id(id, issuer, &s->digest);
  return rc;
}

static int32_t doc_reason_tx(chain_t *c, const vcrypto_keypair_t *kp, uint32_t type, const uint8_t doc[32],
                             const char *reason) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  if (type == TX_TYPE_DOCUMENT_REVOKE) assert_int_equal(documents_payload_revoke(&p, doc, reason), 0);
  else assert_int_equal(documents_payload_erase(&p, doc, reason), 0);
  int32_t rc = run1(c, kp, type, &p);
  ve_buf_free(&p);
  return rc;
}

/* A raw register payload, for inputs the builder refuses. */
static void raw_register(ve_buf_t *p, const char *type, const uint8_t subject[32], uint8_t alg, size_t digest_len,
                         uint64_t blob_bytes) {
  codec_writer_t w;
  uint8_t zeros[64] = {1};
  ve_buf_reset(p);
  codec_writer_init(&w, p);
  codec_put_u8(&w, 1);
  codec_put_bytes(&w, (const uint8_t *)type, strlen(type), 64);
  codec_put_fixed(&w, subject, 32);
  codec_put_u8(&w, alg);
  codec_put_fixed(&w, zeros, digest_len);
  codec_put_bool(&w, false);
  codec_put_fixed(&w, zeros, 32);
  codec_put_bool(&w, blob_bytes != 0);
  if (blob_bytes) {
    codec_put_fixed(&w, zeros, 32);
    codec_put_uvarint(&w, blob_bytes);
  }
  assert_int_equal(codec_writer_finish(&w), 0);
}

/* ---- lifecycle and permissions ---- */

static void test_register_and_refusals(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  documents_spec_t s;
  uint8_t id[32];
  spec_for(&s, "birth_certificate", c.alice_id, "alice was born");
  s.has_validity = true;
  s.not_before_ms = 5000;
  s.not_after_ms = 9000;
  assert_int_equal(register_doc(&c, &c.notary, &s, id), 0);
  uint64_t h = tchain_height(&c.tc);
  documents_record_t rec;
  assert_int_equal(get_doc(&c, id, &rec), 0);
  assert_memory_equal(rec.issuer, c.notary_id, 32);
  assert_memory_equal(rec.spec.subject, c.alice_id, 32);
  assert_string_equal(rec.spec.type, "birth_certificate");
  assert_int_equal(rec.status, DOCUMENTS_CURRENT);
  assert_int_equal(rec.registered_height, h);
  assert_int_equal(rec.registered_time_ms, 1000 + 5 * h);
  assert_false(rec.has_prev);
  assert_false(rec.has_next);
  assert_int_equal(documents_verdict(&rec, 4999), DOCUMENTS_VERDICT_NOT_YET_VALID);
  assert_int_equal(documents_verdict(&rec, 5000), DOCUMENTS_VERDICT_VALID);
  assert_int_equal(documents_verdict(&rec, 9000), DOCUMENTS_VERDICT_EXPIRED);

  /* The digest index finds the record from the file's bytes alone. */
  documents_digest_t d;
  assert_int_equal(documents_digest_file_bytes(&d, DOCUMENTS_ALG_BLAKE2B_256, (const uint8_t *)"alice was born", 14), 0);
  store_txn_t *t;
  documents_record_t found;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(documents_get_by_digest(t, &d, &found), 0);
  assert_memory_equal(found.id, id, 32);
  d.bytes[0] ^= 1;
  assert_int_equal(documents_get_by_digest(t, &d, &found), VE_ERR_NOT_FOUND);
  store_txn_abort(t);

  /* Same digest again, by anyone: refused; the record and index are untouched. */
  uint8_t key[DOCUMENTS_STATE_KEY_BYTES];
  ve_buf_t before, after;
  ve_buf_init(&before, 0);
  ve_buf_init(&after, 0);
  ve_slice_t k = ve_slice(key, documents_state_key(key, id));
  assert_int_equal(state_value(&c, k, &before), 0);
  assert_int_equal(register_doc(&c, &c.notary, &s, NULL), VE_ERR_EXISTS);
  assert_int_equal(register_doc(&c, &c.registrar, &s, NULL), VE_ERR_EXISTS);
  assert_int_equal(state_value(&c, k, &after), 0);
  assert_true(ve_slice_eq(ve_buf_slice(&before), ve_buf_slice(&after)));

  /* Stored values decode strictly: every truncation, a trailing byte, another
   * version are all corrupt. */
  documents_record_t dec;
  assert_int_equal(documents_decode(ve_buf_slice(&before), id, &dec), 0);
  assert_memory_equal(dec.spec.digest.bytes, s.digest.bytes, 32);
  for (size_t len = 0; len < before.len; len++)
    assert_int_equal(documents_decode(ve_slice(before.ptr, len), id, &dec), VE_ERR_CORRUPT);
  ve_buf_append(&before, "", 1);
  assert_int_equal(documents_decode(ve_buf_slice(&before), id, &dec), VE_ERR_CORRUPT);
  before.ptr[0] = 2;
  assert_int_equal(documents_decode(ve_slice(before.ptr, before.len - 1), id, &dec), VE_ERR_CORRUPT);
  uint8_t ikey[DOCUMENTS_INDEX_KEY_BYTES_MAX], doc_id[32];
  assert_int_equal(state_value(&c, ve_slice(ikey, documents_index_key(ikey, &s.digest)), &after), 0);
  assert_int_equal(documents_index_decode(ve_buf_slice(&after), doc_id), 0);
  assert_memory_equal(doc_id, id, 32);
  ve_buf_append(&after, "", 1);
  assert_int_equal(documents_index_decode(ve_buf_slice(&after), doc_id), VE_ERR_CORRUPT);

  /* Who may register: notaries and registrars, not citizens nor admins. */
  spec_for(&s, "diploma", c.alice_id, "alice graduated");
  assert_int_equal(register_doc(&c, &c.alice, &s, NULL), VE_ERR_PERMISSION);
  assert_int_equal(register_doc(&c, &c.admin, &s, NULL), VE_ERR_PERMISSION);
  assert_int_equal(register_doc(&c, &c.registrar, &s, id), 0);
  assert_int_equal(get_doc(&c, id, &rec), 0);
  assert_memory_equal(rec.issuer, c.registrar_id, 32);

  /* The subject must be a registered, active identity. */
  uint8_t nobody[32];
  memset(nobody, 0x5a, 32);
  spec_for(&s, "diploma", nobody, "nobody graduated");
  assert_int_equal(register_doc(&c, &c.notary, &s, NULL), VE_ERR_NOT_FOUND);
  spec_for(&s, "diploma", c.bob_id, "bob graduated");
  assert_int_equal(register_doc(&c, &c.notary, &s, NULL), VE_ERR_SUSPENDED);
  spec_for(&s, "diploma", c.carol_id, "carol graduated");
  assert_int_equal(register_doc(&c, &c.notary, &s, NULL), VE_ERR_REVOKED);

  /* Inputs the builder refuses, sent raw: each a clear code. */
  ve_buf_t p;
  ve_buf_init(&p, 0);
  raw_register(&p, "Birth Certificate", c.alice_id, 1, 32, 0);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), VE_ERR_MALFORMED);
  raw_register(&p, "", c.alice_id, 1, 32, 0);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), VE_ERR_MALFORMED);
  raw_register(&p, "abcdefghijklmnopqrstuvwxyz0123456", c.alice_id, 1, 32, 0); /* 33 bytes */
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), VE_ERR_TOO_BIG);
  raw_register(&p, "deed", c.alice_id, 9, 32, 0);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), VE_ERR_UNSUPPORTED);
  raw_register(&p, "deed", c.alice_id, 1, 32, DOCUMENTS_BLOB_BYTES_MAX + 1);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), VE_ERR_TOO_BIG);
  raw_register(&p, "deed", c.alice_id, 1, 32, 10);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), VE_ERR_INVALID);
  raw_register(&p, "deed", c.alice_id, 1, 32, DOCUMENTS_BLOB_BYTES_MAX); /* the largest blob is fine */
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), 0);
  /* The builders refuse the same inputs before anything is sent. */
  spec_for(&s, "Deed", c.alice_id, "x");
  assert_int_equal(documents_payload_register(&p, &s), VE_ERR_INVALID);
  spec_for(&s, "deed", c.alice_id, "x");
  s.has_validity = true;
  s.not_before_ms = s.not_after_ms = 7;
  assert_int_equal(documents_payload_register(&p, &s), VE_ERR_INVALID);
  s.has_validity = false;
  s.has_blob = true;
  s.blob_bytes = DOCUMENTS_BLOB_BYTES_MAX + 1;
  assert_int_equal(documents_payload_register(&p, &s), VE_ERR_TOO_BIG);
  s.digest.alg = 0;
  assert_int_equal(documents_payload_register(&p, &s), VE_ERR_INVALID);
  char reason[DOCUMENTS_REASON_BYTES_MAX + 2];
  memset(reason, 'r', sizeof reason - 1);
  reason[sizeof reason - 1] = 0;
  assert_int_equal(documents_payload_revoke(&p, id, reason), VE_ERR_TOO_BIG);
  assert_int_equal(documents_payload_renew(&p, id, 0, NULL, 1, id), VE_ERR_INVALID);
  ve_buf_free(&p);
  ve_buf_free(&before);
  ve_buf_free(&after);
  chain_free(&c);
}

static void test_supersede_and_revoke(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  documents_spec_t s1, s2, s3;
  uint8_t v1[32], v2[32], v3[32];
  spec_for(&s1, "passport", c.alice_id, "passport v1");
  spec_for(&s2, "passport", c.alice_id, "passport v2");
  spec_for(&s3, "passport", c.alice_id, "passport v3");
  assert_int_equal(register_doc(&c, &c.notary, &s1, v1), 0);

  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(documents_payload_supersede(&p, v1, &s2), 0);
  /* Not the issuer and not an admin: refused (another notary, a registrar, the subject). */
  assert_int_equal(run1(&c, &c.notary2, TX_TYPE_DOCUMENT_SUPERSEDE, &p), VE_ERR_PERMISSION);
  assert_int_equal(run1(&c, &c.registrar, TX_TYPE_DOCUMENT_SUPERSEDE, &p), VE_ERR_PERMISSION);
  assert_int_equal(run1(&c, &c.alice, TX_TYPE_DOCUMENT_SUPERSEDE, &p), VE_ERR_PERMISSION);
  /* The refused attempts left no trace of v2. */
  documents_record_t rec, old;
  documents_id(v2, c.notary_id, &s2.digest);
  assert_int_equal(get_doc(&c, v2, &rec), VE_ERR_NOT_FOUND);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_SUPERSEDE, &p), 0);
  uint64_t h = tchain_height(&c.tc);
  assert_int_equal(get_doc(&c, v1, &old), 0);
  assert_int_equal(old.status, DOCUMENTS_SUPERSEDED);
  assert_true(old.has_next);
  assert_memory_equal(old.next, v2, 32);
  assert_int_equal(old.status_height, h);
  assert_int_equal(documents_verdict(&old, 0), DOCUMENTS_VERDICT_SUPERSEDED);
  assert_int_equal(get_doc(&c, v2, &rec), 0);
  assert_true(rec.has_prev);
  assert_memory_equal(rec.prev, v1, 32);
  assert_int_equal(rec.status, DOCUMENTS_CURRENT);
  /* A superseded version cannot be superseded again; nor can v2 take v1's digest. */
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_supersede(&p, v1, &s3), 0);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_SUPERSEDE, &p), VE_ERR_STATE);
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_supersede(&p, v2, &s1), 0);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_SUPERSEDE, &p), VE_ERR_EXISTS);
  /* An admin may supersede anyone's document; the new version is the admin's. */
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_supersede(&p, v2, &s3), 0);
  assert_int_equal(run1(&c, &c.admin, TX_TYPE_DOCUMENT_SUPERSEDE, &p), 0);
  documents_id(v3, c.admin_id, &s3.digest);
  assert_int_equal(get_doc(&c, v3, &rec), 0);
  assert_memory_equal(rec.issuer, c.admin_id, 32);
  uint8_t unknown[32];
  memset(unknown, 0x77, 32);
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_supersede(&p, unknown, &s3), 0);
  assert_int_equal(run1(&c, &c.notary, TX_TYPE_DOCUMENT_SUPERSEDE, &p), VE_ERR_NOT_FOUND);

  /* Revocation: issuer or admin, with a reason; twice is a state error. */
  assert_int_equal(doc_reason_tx(&c, &c.notary2, TX_TYPE_DOCUMENT_REVOKE, v3, "not mine"), VE_ERR_PERMISSION);
  assert_int_equal(doc_reason_tx(&c, &c.alice, TX_TYPE_DOCUMENT_REVOKE, v3, "mine"), VE_ERR_PERMISSION);
  assert_int_equal(doc_reason_tx(&c, &c.notary, TX_TYPE_DOCUMENT_REVOKE, v3, "was v1's"), VE_ERR_PERMISSION);
  assert_int_equal(doc_reason_tx(&c, &c.admin, TX_TYPE_DOCUMENT_REVOKE, v3, "court ruling 42"), 0);
  assert_int_equal(get_doc(&c, v3, &rec), 0);
  assert_int_equal(rec.status, DOCUMENTS_REVOKED);
  assert_int_equal(rec.reason_len, strlen("court ruling 42"));
  assert_memory_equal(rec.reason, "court ruling 42", rec.reason_len);
  assert_int_equal(documents_verdict(&rec, 0), DOCUMENTS_VERDICT_REVOKED);
  assert_int_equal(doc_reason_tx(&c, &c.admin, TX_TYPE_DOCUMENT_REVOKE, v3, "again"), VE_ERR_STATE);
  /* A superseded version can still be revoked by its issuer; it keeps its link. */
  assert_int_equal(doc_reason_tx(&c, &c.notary, TX_TYPE_DOCUMENT_REVOKE, v1, "forged"), 0);
  assert_int_equal(get_doc(&c, v1, &old), 0);
  assert_int_equal(old.status, DOCUMENTS_REVOKED);
  assert_true(old.has_next);
  /* A revoked record cannot be superseded. */
  spec_for(&s1, "passport", c.alice_id, "passport v4");
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_supersede(&p, v3, &s1), 0);
  assert_int_equal(run1(&c, &c.admin, TX_TYPE_DOCUMENT_SUPERSEDE, &p), VE_ERR_STATE);
  /* An issuer that lost its role cannot act as issuer any more. */
  ve_buf_reset(&p);
  assert_int_equal(identity_payload_set_roles(&p, c.notary_id, 0), 0);
  assert_int_equal(run1(&c, &c.admin, TX_TYPE_IDENTITY_SET_ROLES, &p), 0);
  assert_int_equal(doc_reason_tx(&c, &c.notary, TX_TYPE_DOCUMENT_REVOKE, v2, "gone"), VE_ERR_PERMISSION);
  ve_buf_free(&p);
  chain_free(&c);
}

/* ---- grants, encryption, erasure ---- */

typedef struct {
  uint8_t key[DOCUMENTS_KEY_BYTES];
  ve_buf_t blob;
  uint8_t blob_id[32];
  uint8_t id[32];
} stored_doc_t;

/* The notary encrypts content and registers it (about alice) with the blob reference. */
static void store_document(chain_t *c, const char *content, stored_doc_t *d) {
  uint8_t nonce[DOCUMENTS_NONCE_BYTES];
  memset(d->key, 0x42, sizeof d->key);
  d->key[0] = (uint8_t)strlen(content);
  memset(nonce, 0x24, sizeof nonce);
  ve_buf_init(&d->blob, 0);
  assert_int_equal(documents_blob_encrypt(&d->blob, d->blob_id, (const uint8_t *)content, strlen(content), d->key,
                                          nonce),
                   0);
  documents_spec_t s;
  spec_for(&s, "medical.record", c->alice_id, content);
  s.has_blob = true;
  memcpy(s.blob_id, d->blob_id, 32);
  s.blob_bytes = d->blob.len;
  assert_int_equal(register_doc(c, &c->notary, &s, d->id), 0);
}

static int32_t grant(chain_t *c, const vcrypto_keypair_t *signer, const stored_doc_t *d, const uint8_t who[32],
                     const uint8_t who_pk[32]) {
  uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], seed[32];
  memset(seed, who[0], sizeof seed);
  assert_int_equal(documents_key_wrap(wrapped, d->key, who_pk, seed), 0);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(documents_payload_grant(&p, d->id, who, who_pk, wrapped), 0);
  int32_t rc = run1(c, signer, TX_TYPE_DOCUMENT_GRANT, &p);
  ve_buf_free(&p);
  return rc;
}

static int32_t grant_revoke(chain_t *c, const vcrypto_keypair_t *signer, const uint8_t doc[32],
                            const uint8_t who[32]) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(documents_payload_grant_revoke(&p, doc, who), 0);
  int32_t rc = run1(c, signer, TX_TYPE_DOCUMENT_GRANT_REVOKE, &p);
  ve_buf_free(&p);
  return rc;
}

/* What a recipient does: fetch its grant, unwrap, decrypt, check the digest. */
static int read_as(chain_t *c, const vcrypto_keypair_t *kp, const uint8_t who[32], const stored_doc_t *d,
                   ve_buf_t *plain) {
  documents_grant_t g;
  documents_record_t rec;
  VE_TRY(get_grant(c, d->id, who, &g));
  assert_memory_equal(g.recipient_pk, kp->pk, 32);
  uint8_t key[DOCUMENTS_KEY_BYTES];
  VE_TRY(documents_key_unwrap(key, g.wrapped, kp));
  assert_int_equal(get_doc(c, d->id, &rec), 0);
  assert_int_equal(documents_blob_check(&rec, d->blob.ptr, d->blob.len), 0);
  int rc = documents_blob_decrypt(plain, d->blob.ptr, d->blob.len, key);
  vcrypto_wipe(key, sizeof key);
  VE_TRY(rc);
  return documents_content_check(&rec, plain->ptr, plain->len);
}

static void test_grants(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  const char *content = "alice: blood type AB+, allergic to penicillin";
  stored_doc_t d;
  store_document(&c, content, &d);

  assert_int_equal(grant(&c, &c.notary, &d, c.alice_id, c.alice.pk), 0);
  ve_buf_t plain;
  ve_buf_init(&plain, 0);
  assert_int_equal(read_as(&c, &c.alice, c.alice_id, &d, &plain), 0);
  assert_int_equal(plain.len, strlen(content));
  assert_memory_equal(plain.ptr, content, plain.len);
  /* Dave holds no grant; alice's wrapped key does not open with his key. */
  documents_grant_t g;
  assert_int_equal(get_grant(&c, d.id, c.dave_id, &g), VE_ERR_NOT_FOUND);
  assert_int_equal(get_grant(&c, d.id, c.alice_id, &g), 0);
  uint8_t key[DOCUMENTS_KEY_BYTES];
  assert_int_equal(documents_key_unwrap(key, g.wrapped, &c.dave), VE_ERR_CRYPTO);
  assert_memory_equal(g.granter, c.notary_id, 32);

  /* Refusals: suspended, revoked, unknown recipients; a key that is not the
   * recipient's; signers other than the issuer (even an admin). */
  assert_int_equal(grant(&c, &c.notary, &d, c.bob_id, c.bob.pk), VE_ERR_SUSPENDED);
  assert_int_equal(grant(&c, &c.notary, &d, c.carol_id, c.carol.pk), VE_ERR_REVOKED);
  uint8_t nobody[32];
  memset(nobody, 0x66, 32);
  assert_int_equal(grant(&c, &c.notary, &d, nobody, c.dave.pk), VE_ERR_NOT_FOUND);
  assert_int_equal(grant(&c, &c.notary, &d, c.dave_id, c.alice.pk), VE_ERR_BAD_KEY);
  assert_int_equal(grant(&c, &c.notary2, &d, c.dave_id, c.dave.pk), VE_ERR_PERMISSION);
  assert_int_equal(grant(&c, &c.admin, &d, c.dave_id, c.dave.pk), VE_ERR_PERMISSION);
  assert_int_equal(grant(&c, &c.alice, &d, c.dave_id, c.dave.pk), VE_ERR_PERMISSION);
  assert_int_equal(grants_count(&c, d.id), 1);
  /* Dave, then alice again (replaces her wrapped key), and the issuer itself. */
  assert_int_equal(grant(&c, &c.notary, &d, c.dave_id, c.dave.pk), 0);
  assert_int_equal(grant(&c, &c.notary, &d, c.alice_id, c.alice.pk), 0);
  assert_int_equal(grant(&c, &c.notary, &d, c.notary_id, c.notary.pk), 0);
  assert_int_equal(grants_count(&c, d.id), 3);
  ve_buf_reset(&plain);
  assert_int_equal(read_as(&c, &c.dave, c.dave_id, &d, &plain), 0);

  /* Revoking a grant: a registrar or another notary may not; the issuer may. */
  assert_int_equal(grant_revoke(&c, &c.registrar, d.id, c.dave_id), VE_ERR_PERMISSION);
  assert_int_equal(grant_revoke(&c, &c.notary2, d.id, c.dave_id), VE_ERR_PERMISSION);
  assert_int_equal(grant_revoke(&c, &c.notary, d.id, c.dave_id), 0);
  assert_int_equal(get_grant(&c, d.id, c.dave_id, &g), VE_ERR_NOT_FOUND);
  assert_int_equal(grant_revoke(&c, &c.notary, d.id, c.dave_id), VE_ERR_NOT_FOUND);
  assert_int_equal(grants_count(&c, d.id), 2);
  assert_int_equal(grant_revoke(&c, &c.admin, d.id, c.notary_id), 0);
  assert_int_equal(grants_count(&c, d.id), 1);

  /* No grants on a revoked document; existing ones can still be withdrawn. */
  assert_int_equal(doc_reason_tx(&c, &c.notary, TX_TYPE_DOCUMENT_REVOKE, d.id, "withdrawn"), 0);
  assert_int_equal(grant(&c, &c.notary, &d, c.dave_id, c.dave.pk), VE_ERR_STATE);
  assert_int_equal(grant_revoke(&c, &c.notary, d.id, c.alice_id), 0);
  assert_int_equal(grants_count(&c, d.id), 0);
  uint8_t unknown[32];
  memset(unknown, 0x13, 32);
  memcpy(d.id, unknown, 32);
  assert_int_equal(grant(&c, &c.notary, &d, c.dave_id, c.dave.pk), VE_ERR_NOT_FOUND);

  /* Blob checks: size and id against the record. */
  documents_record_t rec;
  ve_buf_free(&d.blob);
  store_document(&c, "second document", &d);
  assert_int_equal(get_doc(&c, d.id, &rec), 0);
  assert_int_equal(documents_blob_check(&rec, d.blob.ptr, d.blob.len), 0);
  assert_int_equal(documents_blob_check(&rec, d.blob.ptr, d.blob.len - 1), VE_ERR_INVALID);
  d.blob.ptr[5] ^= 1;
  assert_int_equal(documents_blob_check(&rec, d.blob.ptr, d.blob.len), VE_ERR_HASH_MISMATCH);
  rec.spec.has_blob = false;
  assert_int_equal(documents_blob_check(&rec, d.blob.ptr, d.blob.len), VE_ERR_STATE);
  ve_buf_free(&d.blob);
  ve_buf_free(&plain);
  chain_free(&c);
}

static void test_erasure(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  stored_doc_t d;
  store_document(&c, "sealed adoption papers", &d);
  assert_int_equal(grant(&c, &c.notary, &d, c.alice_id, c.alice.pk), 0);
  assert_int_equal(grant(&c, &c.notary, &d, c.dave_id, c.dave.pk), 0);
  uint64_t h_granted = tchain_height(&c.tc);
  assert_int_equal(grants_count(&c, d.id), 2);

  assert_int_equal(doc_reason_tx(&c, &c.alice, TX_TYPE_DOCUMENT_ERASE, d.id, "my right"), VE_ERR_PERMISSION);
  assert_int_equal(doc_reason_tx(&c, &c.notary2, TX_TYPE_DOCUMENT_ERASE, d.id, "x"), VE_ERR_PERMISSION);
  assert_int_equal(grants_count(&c, d.id), 2);
  assert_int_equal(doc_reason_tx(&c, &c.notary, TX_TYPE_DOCUMENT_ERASE, d.id, "erasure request 7"), 0);
  uint64_t h_erased = tchain_height(&c.tc);

  /* Current state: no wrapped keys, no grant list; the record of existence stays. */
  documents_grant_t g;
  assert_int_equal(get_grant(&c, d.id, c.alice_id, &g), VE_ERR_NOT_FOUND);
  assert_int_equal(get_grant(&c, d.id, c.dave_id, &g), VE_ERR_NOT_FOUND);
  assert_int_equal(grants_count(&c, d.id), 0);
  documents_record_t rec;
  assert_int_equal(get_doc(&c, d.id, &rec), 0);
  assert_true(rec.key_erased);
  assert_int_equal(rec.erased_height, h_erased);
  assert_int_equal(rec.status, DOCUMENTS_CURRENT);
  ve_buf_t plain;
  ve_buf_init(&plain, 0);
  assert_int_equal(read_as(&c, &c.alice, c.alice_id, &d, &plain), VE_ERR_NOT_FOUND);
  documents_digest_t dg;
  const char *content = "sealed adoption papers";
  assert_int_equal(documents_digest_file_bytes(&dg, 1, (const uint8_t *)content, strlen(content)), 0);
  store_txn_t *t;
  documents_record_t found;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(documents_get_by_digest(t, &dg, &found), 0);
  assert_memory_equal(found.id, d.id, 32);
  /* The honest limit (docs/documents.md): old state versions still hold the
   * wrapped keys, so a historical proof shows them; only deleting the blob
   * everywhere makes the content unreadable. */
  uint8_t key[DOCUMENTS_GRANT_KEY_BYTES];
  bool present;
  ve_buf_t val, proof;
  ve_buf_init(&val, 0);
  ve_buf_init(&proof, 0);
  ve_slice_t k = ve_slice(key, documents_grant_key(key, d.id, c.alice_id));
  assert_int_equal(state_prove(t, h_granted, k, &present, &val, &proof), 0);
  assert_true(present);
  assert_int_equal(documents_grant_decode(ve_buf_slice(&val), c.alice_id, &g), 0);
  assert_int_equal(state_prove(t, h_erased, k, &present, &val, &proof), 0);
  assert_false(present);
  store_txn_abort(t);

  /* No grants after erasure; erasing twice is a state error; revocation still works. */
  assert_int_equal(grant(&c, &c.notary, &d, c.alice_id, c.alice.pk), VE_ERR_STATE);
  assert_int_equal(doc_reason_tx(&c, &c.admin, TX_TYPE_DOCUMENT_ERASE, d.id, "again"), VE_ERR_STATE);
  assert_int_equal(doc_reason_tx(&c, &c.admin, TX_TYPE_DOCUMENT_REVOKE, d.id, "closed"), 0);
  /* An admin may erase a document without grants. */
  stored_doc_t e;
  store_document(&c, "another file", &e);
  assert_int_equal(doc_reason_tx(&c, &c.admin, TX_TYPE_DOCUMENT_ERASE, e.id, "retention over"), 0);
  assert_int_equal(get_doc(&c, e.id, &rec), 0);
  assert_true(rec.key_erased);
  /* Nodes refuse to keep or serve the blob of an erased record. */
  assert_int_equal(documents_blob_check(&rec, e.blob.ptr, e.blob.len), VE_ERR_STATE);
  ve_buf_free(&val);
  ve_buf_free(&proof);
  ve_buf_free(&plain);
  ve_buf_free(&d.blob);
  ve_buf_free(&e.blob);
  chain_free(&c);
}

/* The grant list holds at most DOCUMENTS_GRANTS_MAX identities, kept sorted
 * whatever the order of grants; erasure removes them all. */
static void test_grant_limit(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  stored_doc_t d;
  store_document(&c, "widely shared circular", &d);
  enum { N = DOCUMENTS_GRANTS_MAX + 1 };
  static vcrypto_keypair_t kps[N];
  static ve_buf_t txs[N];
  ve_buf_t p;
  ve_buf_init(&p, 0);
  for (int i = 0; i < N; i++) {
    uint8_t seed[32];
    memset(seed, 0xc0, sizeof seed);
    seed[0] = (uint8_t)i;
    seed[1] = (uint8_t)(i >> 8);
    vcrypto_keypair_from_seed(&kps[i], seed);
    ve_buf_init(&txs[i], 0);
    identity_payload(&p, kps[i].pk);
    tchain_tx(&c.tc, &txs[i], &c.registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  }
  static int32_t res[N];
  tchain_commit(&c.tc, txs, N, res);
  for (int i = 0; i < N; i++) {
    assert_int_equal(res[i], 0);
    ve_buf_reset(&txs[i]);
    uint8_t id[32], wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], seed[32] = {(uint8_t)i};
    identity_id_from_pk(id, kps[i].pk);
    assert_int_equal(documents_key_wrap(wrapped, d.key, kps[i].pk, seed), 0);
    ve_buf_reset(&p);
    assert_int_equal(documents_payload_grant(&p, d.id, id, kps[i].pk, wrapped), 0);
    tchain_tx(&c.tc, &txs[i], &c.notary, TX_TYPE_DOCUMENT_GRANT, ve_buf_slice(&p));
  }
  tchain_commit(&c.tc, txs, N, res);
  for (int i = 0; i < N - 1; i++) assert_int_equal(res[i], 0);
  assert_int_equal(res[N - 1], VE_ERR_LIMIT);
  store_txn_t *t;
  static uint8_t ids[DOCUMENTS_GRANTS_MAX][32];
  size_t n;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(documents_grants_list(t, d.id, ids, DOCUMENTS_GRANTS_MAX, &n), 0);
  assert_int_equal(n, DOCUMENTS_GRANTS_MAX);
  for (size_t i = 1; i < n; i++) assert_true(memcmp(ids[i - 1], ids[i], 32) < 0);
  assert_int_equal(documents_grants_list(t, d.id, ids, 10, &n), VE_ERR_LIMIT);
  store_txn_abort(t);
  /* A recipient in the middle reads the document. */
  ve_buf_t plain;
  ve_buf_init(&plain, 0);
  uint8_t mid[32];
  identity_id_from_pk(mid, kps[100].pk);
  assert_int_equal(read_as(&c, &kps[100], mid, &d, &plain), 0);
  /* Erasure removes every one of them. */
  assert_int_equal(doc_reason_tx(&c, &c.notary, TX_TYPE_DOCUMENT_ERASE, d.id, "all"), 0);
  assert_int_equal(grants_count(&c, d.id), 0);
  documents_grant_t g;
  for (int i = 0; i < N; i += 37) {
    uint8_t id[32];
    identity_id_from_pk(id, kps[i].pk);
    assert_int_equal(get_grant(&c, d.id, id, &g), VE_ERR_NOT_FOUND);
  }
  for (int i = 0; i < N; i++) ve_buf_free(&txs[i]);
  ve_buf_free(&p);
  ve_buf_free(&plain);
  ve_buf_free(&d.blob);
  chain_free(&c);
}

/* ---- evidence renewal ---- */

static int32_t renew(chain_t *c, const vcrypto_keypair_t *kp, const uint8_t doc[32], unsigned alg,
                     const char *content, uint64_t anchor_height) {
  uint8_t root[32];
  root_at(c, anchor_height, root);
  documents_digest_t d;
  if (content)
    assert_int_equal(documents_digest_file_bytes(&d, alg, (const uint8_t *)content, strlen(content)), 0);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(documents_payload_renew(&p, doc, alg, content ? d.bytes : NULL, anchor_height, root), 0);
  int32_t rc = run1(c, kp, TX_TYPE_DOCUMENT_RENEW, &p);
  ve_buf_free(&p);
  return rc;
}

static int verify(const documents_record_t *rec, const char *content, const documents_alg_policy_t *pol) {
  char why[160];
  documents_evidence_result_t res;
  return documents_evidence_verify(rec, (const uint8_t *)content, strlen(content), pol, &res, why, sizeof why);
}

/* The record as proven at version h, after checking the proof against the root. */
static void record_at(chain_t *c, const uint8_t id[32], uint64_t h, documents_record_t *out, uint8_t root[32]) {
  store_txn_t *t;
  uint8_t key[DOCUMENTS_STATE_KEY_BYTES];
  ve_slice_t k = ve_slice(key, documents_state_key(key, id));
  bool present;
  ve_buf_t val, proof;
  ve_buf_init(&val, 0);
  ve_buf_init(&proof, 0);
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(state_prove(t, h, k, &present, &val, &proof), 0);
  assert_true(present);
  assert_int_equal(state_root_at(t, h, root), 0);
  store_txn_abort(t);
  ve_slice_t v = ve_buf_slice(&val);
  assert_int_equal(state_proof_verify(root, k, &v, ve_buf_slice(&proof)), 0);
  assert_int_equal(documents_decode(v, id, out), 0);
  ve_buf_free(&val);
  ve_buf_free(&proof);
}

static void test_renewal_chain(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  const char *content = "land title 77/1998, parcel 12";
  documents_spec_t s;
  uint8_t id[32];
  spec_for(&s, "land_title", c.dave_id, content);
  assert_int_equal(register_doc(&c, &c.notary, &s, id), 0);
  uint64_t h0 = tchain_height(&c.tc);
  empty_block(&c);

  /* Refusals first: a citizen, anchors outside [last layer, this block), a digest
   * that contradicts the registration's, an unknown algorithm. */
  assert_int_equal(renew(&c, &c.dave, id, DOCUMENTS_ALG_SHA512, content, h0), VE_ERR_PERMISSION);
  assert_int_equal(renew(&c, &c.notary2, id, DOCUMENTS_ALG_SHA512, content, h0 - 1), VE_ERR_HEIGHT);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  uint8_t root[32], d64[64];
  memset(d64, 1, sizeof d64);
  root_at(&c, h0, root);
  assert_int_equal(documents_payload_renew(&p, id, DOCUMENTS_ALG_SHA512, d64, tchain_height(&c.tc) + 1, root), 0);
  assert_int_equal(run1(&c, &c.notary2, TX_TYPE_DOCUMENT_RENEW, &p), VE_ERR_HEIGHT);
  assert_int_equal(renew(&c, &c.notary2, id, DOCUMENTS_ALG_BLAKE2B_256, "other bytes", h0), VE_ERR_HASH_MISMATCH);
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_renew(&p, id, DOCUMENTS_ALG_SHA512, d64, h0, root), 0);
  p.ptr[1 + 32] = 9; /* the algorithm byte */
  assert_int_equal(run1(&c, &c.notary2, TX_TYPE_DOCUMENT_RENEW, &p), VE_ERR_UNSUPPORTED);
  documents_record_t rec;
  assert_int_equal(get_doc(&c, id, &rec), 0);
  assert_int_equal(rec.n_renewals, 0);

  /* Three renewals: SHA-512 by another notary, BLAKE2b-512 by an admin, then an
   * evidence-only SHA-256 renewal by the issuer, each anchored in a later state. */
  assert_int_equal(renew(&c, &c.notary2, id, DOCUMENTS_ALG_SHA512, content, h0), 0);
  uint64_t h1 = tchain_height(&c.tc);
  assert_int_equal(renew(&c, &c.admin, id, DOCUMENTS_ALG_BLAKE2B_512, content, h1 - 1), VE_ERR_HEIGHT);
  assert_int_equal(renew(&c, &c.admin, id, DOCUMENTS_ALG_BLAKE2B_512, content, h1), 0);
  uint64_t h2 = tchain_height(&c.tc);
  empty_block(&c);
  assert_int_equal(renew(&c, &c.notary, id, DOCUMENTS_ALG_SHA256, NULL, h2 + 1), 0);
  assert_int_equal(get_doc(&c, id, &rec), 0);
  assert_int_equal(rec.n_renewals, 3);
  assert_memory_equal(rec.renewals[0].renewer, c.notary2_id, 32);
  assert_int_equal(rec.renewals[0].anchor_height, h0);
  assert_int_equal(rec.renewals[1].height, h2);
  assert_false(rec.renewals[2].has_content);

  /* The chain verifies with the content, and not with other content. */
  documents_evidence_result_t res;
  char why[160];
  assert_int_equal(documents_evidence_verify(&rec, (const uint8_t *)content, strlen(content), NULL, &res, why,
                                             sizeof why),
                   0);
  assert_int_equal(res.layers, 4);
  assert_int_equal(res.content_layer, 2);
  assert_int_equal(res.content_alg, DOCUMENTS_ALG_BLAKE2B_512);
  assert_int_equal(verify(&rec, "land title 77/1998, parcel 13", NULL), VE_ERR_HASH_MISMATCH);

  /* The new digests are indexed: the file is found by its SHA-512 too. */
  documents_digest_t dg;
  documents_record_t found;
  store_txn_t *t;
  assert_int_equal(documents_digest_file_bytes(&dg, DOCUMENTS_ALG_SHA512, (const uint8_t *)content, strlen(content)), 0);
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  assert_int_equal(documents_get_by_digest(t, &dg, &found), 0);
  assert_memory_equal(found.id, id, 32);
  store_txn_abort(t);

  /* Tampering with any link of any layer breaks the chain. */
#define TAMPER(stmt)                                                        \
  do {                                                                      \
    documents_record_t m = rec;                                             \
    stmt;                                                                   \
    assert_int_not_equal(verify(&m, content, NULL), 0);                     \
  } while (0)
  for (size_t k = 0; k < rec.n_renewals; k++) {
    TAMPER(m.renewals[k].evidence_digest[0] ^= 1);
    TAMPER(m.renewals[k].evidence_digest[documents_alg_digest_bytes(m.renewals[k].alg) - 1] ^= 0x80);
    TAMPER(m.renewals[k].anchor_root[31] ^= 1);
    TAMPER(m.renewals[k].anchor_height++);
    TAMPER(m.renewals[k].anchor_height--);
    TAMPER(m.renewals[k].alg = m.renewals[k].alg == DOCUMENTS_ALG_SHA512 ? DOCUMENTS_ALG_BLAKE2B_512
                                                                          : DOCUMENTS_ALG_SHA512);
    TAMPER(m.renewals[k].height = m.renewals[k].anchor_height);
    if (k + 1 < rec.n_renewals) { /* the next layer covers this one's every field */
      TAMPER(m.renewals[k].time_ms++);
      TAMPER(m.renewals[k].renewer[0] ^= 1);
      TAMPER(m.renewals[k].height++);
    }
    if (rec.renewals[k].has_content) TAMPER(m.renewals[k].content_digest[3] ^= 1);
  }
  TAMPER(m.spec.digest.bytes[0] ^= 1);
  TAMPER(m.spec.type[0] = 'x');
  TAMPER(m.spec.subject[0] ^= 1);
  TAMPER(m.issuer[0] ^= 1);
  TAMPER(m.registered_time_ms++);
  TAMPER(m.spec.metadata_digest[0] ^= 1);
  TAMPER(m.id[0] ^= 1);
  TAMPER(m.renewals[0] = m.renewals[1]);
  TAMPER(m.n_renewals = 2; m.renewals[1] = m.renewals[2]);
#undef TAMPER
  /* Mutable fields are not evidence: a later revocation does not break it. */
  assert_int_equal(doc_reason_tx(&c, &c.notary, TX_TYPE_DOCUMENT_REVOKE, id, "replaced by deed"), 0);
  assert_int_equal(get_doc(&c, id, &rec), 0);
  assert_int_equal(verify(&rec, content, NULL), 0);

  /* Anchors against the chain: renewal k's anchor state holds exactly layers 0..k. */
  uint64_t anchors[3] = {h0, h1, h2 + 1};
  for (size_t k = 0; k < 3; k++) {
    documents_record_t at;
    uint8_t r[32];
    record_at(&c, id, anchors[k], &at, r);
    assert_int_equal(documents_evidence_anchor_check(&rec, k, &at, anchors[k], r), 0);
    assert_int_equal(documents_evidence_anchor_check(&rec, k, &at, anchors[k] + 1, r), VE_ERR_PROOF);
    r[0] ^= 1;
    assert_int_equal(documents_evidence_anchor_check(&rec, k, &at, anchors[k], r), VE_ERR_PROOF);
    r[0] ^= 1;
    if (k > 0) assert_int_equal(documents_evidence_anchor_check(&rec, k - 1, &at, anchors[k], r), VE_ERR_PROOF);
  }
  assert_int_equal(documents_evidence_anchor_check(&rec, 3, &rec, 0, root), VE_ERR_INVALID);

  /* Policy: when each algorithm became weak. */
  documents_alg_policy_t pol;
  memset(&pol, 0, sizeof pol);
  pol.now_ms = rec.renewals[2].time_ms + 1000;
  assert_int_equal(verify(&rec, content, &pol), 0);
  /* BLAKE2b-256 weak after renewal 1 covered it: fine. Weak before: the chain is broken. */
  pol.weak_from_ms[DOCUMENTS_ALG_BLAKE2B_256] = rec.renewals[0].time_ms + 1;
  assert_int_equal(verify(&rec, content, &pol), 0);
  pol.weak_from_ms[DOCUMENTS_ALG_BLAKE2B_256] = rec.renewals[0].time_ms;
  assert_int_equal(verify(&rec, content, &pol), VE_ERR_PROOF);
  pol.weak_from_ms[DOCUMENTS_ALG_BLAKE2B_256] = 0;
  /* SHA-256 (the newest layer) weak now: the record needs another renewal. */
  pol.weak_from_ms[DOCUMENTS_ALG_SHA256] = pol.now_ms;
  assert_int_equal(verify(&rec, content, &pol), VE_ERR_PROOF);
  pol.weak_from_ms[DOCUMENTS_ALG_SHA256] = 0;
  /* BLAKE2b-512 weak now (after SHA-256 covered it): the content is then bound by
   * the SHA-512 layer. */
  pol.weak_from_ms[DOCUMENTS_ALG_BLAKE2B_512] = rec.renewals[2].time_ms + 1;
  assert_int_equal(documents_evidence_verify(&rec, (const uint8_t *)content, strlen(content), &pol, &res, why,
                                             sizeof why),
                   0);
  assert_int_equal(res.content_layer, 1);
  /* All content-bearing algorithms weak now: nothing binds the content any more. */
  pol.weak_from_ms[DOCUMENTS_ALG_SHA512] = rec.renewals[2].time_ms + 1;
  pol.weak_from_ms[DOCUMENTS_ALG_BLAKE2B_256] = rec.renewals[2].time_ms + 1;
  assert_int_equal(documents_evidence_verify(&rec, (const uint8_t *)content, strlen(content), &pol, &res, why,
                                             sizeof why),
                   VE_ERR_PROOF);
  assert_true(strlen(why) > 0);

  /* At most DOCUMENTS_RENEWALS_MAX renewals. */
  for (size_t k = 3; k < DOCUMENTS_RENEWALS_MAX; k++) {
    assert_int_equal(get_doc(&c, id, &rec), 0);
    assert_int_equal(renew(&c, &c.notary, id, DOCUMENTS_ALG_SHA256, content, rec.renewals[k - 1].height), 0);
  }
  assert_int_equal(get_doc(&c, id, &rec), 0);
  assert_int_equal(rec.n_renewals, DOCUMENTS_RENEWALS_MAX);
  assert_int_equal(verify(&rec, content, NULL), 0);
  assert_int_equal(renew(&c, &c.notary, id, DOCUMENTS_ALG_SHA256, content, tchain_height(&c.tc)), VE_ERR_LIMIT);
  ve_buf_free(&p);
  chain_free(&c);
}

/* ---- strict decoding and a seeded mutation loop ---- */

static uint64_t g_seed;

/* Executes (type, payload) signed by kp in a throwaway overlay over the tip. */
static int dry_run(chain_t *c, ledger_exec_t *ex, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION,
                    .chain_id = ve_slice(CHAIN, strlen(CHAIN)),
                    .seq = c->tc.seq++,
                    .expiry = 1000000,
                    .type = type,
                    .payload = payload};
  memcpy(tx.signer, kp->pk, 32);
  return ledger_exec_tx(ex, &tx);
}

static void test_strict_payloads(void **state) {
  (void)state;
  chain_t c;
  chain_init(&c);
  stored_doc_t d;
  store_document(&c, "strictness", &d);
  empty_block(&c);
  uint64_t h = tchain_height(&c.tc);
  uint8_t root[32];
  root_at(&c, h - 1, root);

  /* One valid payload of each type, each accepted as is by a dry run. */
  documents_spec_t s;
  spec_for(&s, "x.y-z_0", c.alice_id, "fresh content");
  s.has_validity = true;
  s.not_before_ms = 1;
  s.not_after_ms = 300;
  s.has_blob = true;
  s.blob_bytes = 1000;
  uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], seed[32] = {9};
  assert_int_equal(documents_key_wrap(wrapped, d.key, c.dave.pk, seed), 0);
  documents_digest_t dg;
  assert_int_equal(documents_digest_file_bytes(&dg, DOCUMENTS_ALG_SHA512, (const uint8_t *)"strictness", 10), 0);
  enum { N = 7 };
  ve_buf_t p[N];
  uint32_t types[N] = {TX_TYPE_DOCUMENT_REGISTER, TX_TYPE_DOCUMENT_SUPERSEDE,    TX_TYPE_DOCUMENT_REVOKE,
                       TX_TYPE_DOCUMENT_GRANT,    TX_TYPE_DOCUMENT_GRANT_REVOKE, TX_TYPE_DOCUMENT_ERASE,
                       TX_TYPE_DOCUMENT_RENEW};
  for (int i = 0; i < N; i++) ve_buf_init(&p[i], 0);
  assert_int_equal(documents_payload_register(&p[0], &s), 0);
  assert_int_equal(documents_payload_supersede(&p[1], d.id, &s), 0);
  assert_int_equal(documents_payload_revoke(&p[2], d.id, "reason"), 0);
  assert_int_equal(documents_payload_grant(&p[3], d.id, c.dave_id, c.dave.pk, wrapped), 0);
  assert_int_equal(documents_payload_grant_revoke(&p[4], d.id, c.dave_id), 0);
  assert_int_equal(documents_payload_erase(&p[5], d.id, ""), 0);
  assert_int_equal(documents_payload_renew(&p[6], d.id, DOCUMENTS_ALG_SHA512, dg.bytes, h - 1, root), 0);

  store_txn_t *t;
  ledger_exec_t *ex;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  for (int i = 0; i < N; i++) { /* each in its own overlay: register and supersede share a digest */
    assert_int_equal(ledger_exec_begin(&ex, &REG, t, ve_slice(CHAIN, strlen(CHAIN)), h + 1, 99999), 0);
    int want = types[i] == TX_TYPE_DOCUMENT_GRANT_REVOKE ? VE_ERR_NOT_FOUND : 0; /* no grant to dave yet */
    assert_int_equal(dry_run(&c, ex, &c.notary, types[i], ve_buf_slice(&p[i])), want);
    ledger_exec_free(ex);
  }

  assert_int_equal(ledger_exec_begin(&ex, &REG, t, ve_slice(CHAIN, strlen(CHAIN)), h + 1, 99999), 0);
  ve_buf_t m;
  ve_buf_init(&m, 0);
  for (int i = 0; i < N; i++) {
    /* Every truncation fails with a decoding error; a trailing byte is trailing_bytes. */
    for (size_t len = 0; len < p[i].len; len++) {
      int rc = dry_run(&c, ex, &c.notary, types[i], ve_slice(p[i].ptr, len));
      assert_true(rc == VE_ERR_MALFORMED || rc == VE_ERR_NONCANONICAL || rc == VE_ERR_INVALID);
    }
    ve_buf_reset(&m);
    ve_buf_append(&m, p[i].ptr, p[i].len);
    ve_buf_append(&m, "\0", 1);
    assert_int_equal(dry_run(&c, ex, &c.notary, types[i], ve_buf_slice(&m)), VE_ERR_TRAILING);
    m.ptr[0] = 2;
    assert_int_equal(dry_run(&c, ex, &c.notary, types[i], ve_buf_slice(&m)), VE_ERR_VERSION);
  }
  /* The presence bools take only 00 and 01. */
  ve_buf_reset(&m);
  ve_buf_append(&m, p[0].ptr, p[0].len);
  size_t validity_at = 1 + 1 + strlen(s.type) + 32 + 1 + 32;
  assert_int_equal(m.ptr[validity_at], 1);
  m.ptr[validity_at] = 2;
  assert_int_equal(dry_run(&c, ex, &c.notary, types[0], ve_buf_slice(&m)), VE_ERR_NONCANONICAL);
  /* Types in the app's range that do not exist. */
  assert_int_equal(dry_run(&c, ex, &c.notary, 0x0208, ve_buf_slice(&p[0])), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(dry_run(&c, ex, &c.notary, 0x0200, ve_buf_slice(&p[0])), VE_ERR_UNKNOWN_TYPE);
  assert_int_equal(dry_run(&c, ex, &c.notary, 0x02ff, ve_buf_slice(&p[0])), VE_ERR_UNKNOWN_TYPE);

  /* Seeded mutations of valid payloads, and random bytes: never a crash, always
   * a real code. Signers vary so permission paths run too. */
  const char *env = getenv("VECHE_SEED");
  g_seed = env ? strtoull(env, NULL, 0) : 0x5eedd0c5ull;
  printf("# documents_test strict seed: VECHE_SEED=%llu\n", (unsigned long long)g_seed);
  uint64_t rs = g_seed;
  const vcrypto_keypair_t *signers[4] = {&c.notary, &c.admin, &c.alice, &c.registrar};
  size_t accepted = 0;
  for (int round = 0; round < 4000; round++) {
    int i = (int)(trng_step(&rs) % N);
    ve_buf_reset(&m);
    if (trng_step(&rs) % 8 == 0) {
      size_t len = trng_step(&rs) % 300;
      for (size_t j = 0; j < len; j++) {
        uint8_t b = (uint8_t)trng_step(&rs);
        ve_buf_append(&m, &b, 1);
      }
    } else {
      ve_buf_append(&m, p[i].ptr, p[i].len);
      int edits = 1 + (int)(trng_step(&rs) % 4);
      for (int e = 0; e < edits && m.len > 0; e++) {
        size_t at = trng_step(&rs) % m.len;
        switch (trng_step(&rs) % 4) {
          case 0: m.ptr[at] ^= (uint8_t)(1u << (trng_step(&rs) % 8)); break;
          case 1: m.ptr[at] = (uint8_t)trng_step(&rs); break;
          case 2: m.len = at; break;
          default: {
            uint8_t b = (uint8_t)trng_step(&rs);
            ve_buf_append(&m, &b, 1);
          }
        }
      }
    }
    const vcrypto_keypair_t *kp = signers[trng_step(&rs) % 4];
    int rc = dry_run(&c, ex, kp, types[i], ve_buf_slice(&m));
    if (rc < VE_ERR_MIN || rc > 0) fail_msg("round %d (seed %llu): code %d", round, (unsigned long long)g_seed, rc);
    assert_true(rc != VE_ERR_CORRUPT && rc != VE_ERR_NOMEM);
    accepted += rc == 0;
  }
  printf("# %zu of 4000 mutated payloads executed successfully\n", accepted);
  ledger_exec_free(ex);
  store_txn_abort(t);
  for (int i = 0; i < N; i++) ve_buf_free(&p[i]);
  ve_buf_free(&m);
  ve_buf_free(&d.blob);
  chain_free(&c);
}

/* ---- determinism ---- */

static void test_determinism(void **state) {
  (void)state;
  chain_t a, b;
  chain_init(&a);
  chain_init(&b);
  ve_buf_t txs[12], p;
  ve_buf_init(&p, 0);
  for (int i = 0; i < 12; i++) ve_buf_init(&txs[i], 0);
  uint8_t ids[6][32];
  for (int i = 0; i < 6; i++) {
    char content[32];
    snprintf(content, sizeof content, "document %d", i);
    documents_spec_t s;
    spec_for(&s, "deed", i % 2 ? a.alice_id : a.dave_id, content);
    ve_buf_reset(&p);
    assert_int_equal(documents_payload_register(&p, &s), 0);
    tchain_tx(&a.tc, &txs[i], i % 3 ? &a.notary : &a.registrar, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p));
    identity_id_from_pk(ids[i], (i % 3 ? &a.notary : &a.registrar)->pk);
    documents_id(ids[i], ids[i], &s.digest);
  }
  tchain_tx(&a.tc, &txs[6], &a.notary, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p)); /* duplicate: fails */
  int32_t r1[12], r2[12];
  tchain_commit(&a.tc, txs, 7, r1);
  tchain_commit(&b.tc, txs, 7, r2);
  assert_memory_equal(r1, r2, 7 * sizeof r1[0]);
  assert_int_equal(r1[6], VE_ERR_EXISTS);
  for (int i = 0; i < 12; i++) ve_buf_reset(&txs[i]);
  uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], key[32] = {1}, seed[32] = {2};
  assert_int_equal(documents_key_wrap(wrapped, key, a.alice.pk, seed), 0);
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_grant(&p, ids[1], a.alice_id, a.alice.pk, wrapped), 0);
  tchain_tx(&a.tc, &txs[0], &a.notary, TX_TYPE_DOCUMENT_GRANT, ve_buf_slice(&p));
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_revoke(&p, ids[2], "r"), 0);
  tchain_tx(&a.tc, &txs[1], &a.notary, TX_TYPE_DOCUMENT_REVOKE, ve_buf_slice(&p));
  ve_buf_reset(&p);
  assert_int_equal(documents_payload_erase(&p, ids[1], "e"), 0);
  tchain_tx(&a.tc, &txs[2], &a.notary, TX_TYPE_DOCUMENT_ERASE, ve_buf_slice(&p));
  uint8_t root[32];
  root_at(&a, 3, root);
  ve_buf_reset(&p);
  uint8_t d64[64] = {3};
  assert_int_equal(documents_payload_renew(&p, ids[0], DOCUMENTS_ALG_SHA512, d64, 3, root), 0);
  tchain_tx(&a.tc, &txs[3], &a.admin, TX_TYPE_DOCUMENT_RENEW, ve_buf_slice(&p));
  tchain_commit(&a.tc, txs, 4, r1);
  tchain_commit(&b.tc, txs, 4, r2);
  assert_memory_equal(r1, r2, 4 * sizeof r1[0]);
  for (int i = 0; i < 4; i++) assert_int_equal(r1[i], 0);
  empty_block(&a);
  empty_block(&b);
  store_txn_t *ta, *tb;
  ledger_tip_t x, y;
  assert_int_equal(store_txn_begin(a.tc.store, false, &ta), 0);
  assert_int_equal(store_txn_begin(b.tc.store, false, &tb), 0);
  assert_int_equal(ledger_tip_get(ta, &x), 0);
  assert_int_equal(ledger_tip_get(tb, &y), 0);
  assert_int_equal(x.height, 5);
  assert_memory_equal(x.state_root, y.state_root, 32);
  assert_memory_equal(x.results_root, y.results_root, 32);
  assert_memory_equal(x.last_hash, y.last_hash, 32);
  store_txn_abort(ta);
  store_txn_abort(tb);
  for (int i = 0; i < 12; i++) ve_buf_free(&txs[i]);
  ve_buf_free(&p);
  chain_free(&a);
  chain_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register_and_refusals),
      cmocka_unit_test(test_supersede_and_revoke),
      cmocka_unit_test(test_grants),
      cmocka_unit_test(test_erasure),
      cmocka_unit_test(test_grant_limit),
      cmocka_unit_test(test_renewal_chain),
      cmocka_unit_test(test_strict_payloads),
      cmocka_unit_test(test_determinism),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
