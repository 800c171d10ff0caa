/* node_docs_test.c — the node's blob store (src/node/node_blobs.c, node_docs.h)
 * on a memory-store chain, with blocks committed the way the node commits them:
 * ledger_block_commit, then node_docs_block_txn, in one write transaction.
 *
 * Checks: a registered blob is listed missing until stored; only the exact bytes
 * of a live record are accepted (size, id, limit, unknown id); load and ranged
 * reads; uploads in parts (restart, repeat, past the end, a bad whole dropped);
 * erase deletes the blob, its parts and its want entry, and the blob never comes
 * back; two records naming one blob keep it until both are erased; a register
 * and its erase in one block leave nothing; a failed duplicate register changes
 * nothing. */
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
#include "node/node_docs.h"
#include "node/node_int.h"
#include "tchain.h"

#define CHAIN "veche-blobs-test-1"

static struct {
  tchain_t tc;
  node_t *n;
  vcrypto_keypair_t notary, notary2, subject;
  uint8_t notary_id[32], notary2_id[32], subject_id[32];
} c;

/* The node's step after the ledger's, in the block's write transaction. */
static void docs_after(void *ctx, store_txn_t *t, ve_slice_t block) {
  ledger_block_t b;
  assert_int_equal(ledger_block_decode(block, &b), 0);
  assert_int_equal(node_docs_block_txn(ctx, t, &b), 0);
  ledger_block_free(&b);
}

static void make_tx(ve_buf_t *out, const vcrypto_keypair_t *kp, uint32_t type, const ve_buf_t *payload) {
  ve_buf_init(out, 0);
  tchain_tx(&c.tc, out, kp, type, ve_buf_slice(payload));
}

static void commit_block(ve_buf_t *txs, size_t n, int32_t *results) { tchain_commit(&c.tc, txs, n, results); }

static int32_t run1(const vcrypto_keypair_t *kp, uint32_t type, const ve_buf_t *payload) {
  return tchain_run1(&c.tc, kp, type, ve_buf_slice(payload));
}

static int setup(void **state) {
  (void)state;
  memset(&c, 0, sizeof c);
  tchain_init(&c.tc, CHAIN, node_registry());
  tchain_key(&c.notary, c.notary_id, 3, 3);
  tchain_key(&c.notary2, c.notary2_id, 5, 5);
  tchain_key(&c.subject, c.subject_id, 9, 9);
  tchain_authority(&c.tc, "a0", &c.notary, ROLE_NOTARY);
  tchain_authority(&c.tc, "a1", &c.notary2, ROLE_NOTARY);
  tchain_authority(&c.tc, "a2", &c.subject, ROLE_ADMIN); /* someone must be admin */
  c.n = calloc(1, sizeof *c.n);
  assert_non_null(c.n);
  assert_int_equal(store_open_mem(&c.n->store), 0);
  tchain_open(&c.tc, c.n->store);
  c.tc.after = docs_after;
  c.tc.after_ctx = c.n;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tchain_free(&c.tc);
  store_close(c.n->store);
  free(c.n);
  return 0;
}

/* A document with an encrypted blob of len bytes of content (byte `fill`). */
typedef struct {
  documents_spec_t spec;
  ve_buf_t blob;
  uint8_t id[32]; /* document id, for issuer */
} doc_t;

static void doc_make(doc_t *d, size_t len, uint8_t fill, unsigned alg, const uint8_t issuer[32]) {
  memset(d, 0, sizeof *d);
  uint8_t *plain = malloc(len), key[32], nonce[24];
  memset(plain, fill, len);
  memset(key, fill, sizeof key);
  memset(nonce, fill + 1, sizeof nonce);
  strcpy(d->spec.type, "deed");
  memcpy(d->spec.subject, c.subject_id, 32);
  assert_int_equal(documents_digest_file_bytes(&d->spec.digest, alg, plain, len), 0);
  ve_buf_init(&d->blob, 0);
  assert_int_equal(documents_blob_encrypt(&d->blob, d->spec.blob_id, plain, len, key, nonce), 0);
  d->spec.has_blob = true;
  d->spec.blob_bytes = d->blob.len;
  documents_id(d->id, issuer, &d->spec.digest);
  free(plain);
}

static void payload_register(ve_buf_t *p, const documents_spec_t *spec) {
  ve_buf_init(p, 0);
  assert_int_equal(documents_payload_register(p, spec), 0);
}

static void erase_doc(const vcrypto_keypair_t *kp, const uint8_t id[32]) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(documents_payload_erase(&p, id, "request"), 0);
  assert_int_equal(run1(kp, TX_TYPE_DOCUMENT_ERASE, &p), 0);
  ve_buf_free(&p);
}

/* Entries of the node's blob index ("blob/..." in STORE_T_APP_INDEX). */
static size_t blob_index_entries(void) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c.n->store, false, &t), 0);
  store_cursor_t *cur;
  assert_int_equal(store_cursor_open(t, STORE_T_APP_INDEX, &cur), 0);
  size_t k = 0;
  ve_slice_t key, val;
  for (int rc = store_cursor_seek(cur, ve_slice("blob/", 5), &key, &val); rc == 0 && key.len >= 5 &&
                                                                           !memcmp(key.ptr, "blob/", 5);
       rc = store_cursor_next(cur, &key, &val))
    k++;
  store_cursor_close(cur);
  store_txn_abort(t);
  return k;
}

static size_t missing(uint8_t ids[8][32]) { return node_docs_blobs_missing(c.n, ids, 8); }

static void test_store_and_erase(void **state) {
  (void)state;
  doc_t d;
  doc_make(&d, 5000, 0x11, DOCUMENTS_ALG_BLAKE2B_256, c.notary_id);
  ve_buf_t p;
  payload_register(&p, &d.spec);
  assert_int_equal(run1(&c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), 0);
  uint8_t ids[8][32];
  assert_int_equal(missing(ids), 1);
  assert_memory_equal(ids[0], d.spec.blob_id, 32);
  ve_buf_t out;
  ve_buf_init(&out, 0);
  assert_int_equal(node_docs_blob_load(c.n, d.spec.blob_id, &out), VE_ERR_NOT_FOUND);
  assert_false(node_docs_blob_held(c.n, d.spec.blob_id));

  /* Only the exact bytes. */
  ve_slice_t b = ve_buf_slice(&d.blob);
  uint8_t *bad = malloc(b.len + 1);
  memcpy(bad, b.ptr, b.len);
  bad[100] ^= 0x40;
  assert_int_equal(node_docs_blob_store(c.n, d.spec.blob_id, ve_slice(bad, b.len)), VE_ERR_HASH_MISMATCH);
  assert_int_equal(node_docs_blob_store(c.n, d.spec.blob_id, ve_slice(b.ptr, b.len - 1)), VE_ERR_INVALID);
  uint8_t other[32];
  memset(other, 0xee, 32);
  assert_int_equal(node_docs_blob_store(c.n, other, b), VE_ERR_NOT_FOUND);
  assert_int_equal(node_docs_blob_store(c.n, d.spec.blob_id, ve_slice(b.ptr, DOCUMENTS_BLOB_BYTES_MAX + 1)),
                   VE_ERR_TOO_BIG); /* refused on the size alone, before reading */
  assert_int_equal(missing(ids), 1);
  assert_int_equal(node_docs_blob_store(c.n, d.spec.blob_id, b), 0);
  assert_int_equal(node_docs_blob_store(c.n, d.spec.blob_id, b), 0); /* idempotent */
  assert_true(node_docs_blob_held(c.n, d.spec.blob_id));
  assert_int_equal(missing(ids), 0);
  assert_int_equal(node_docs_blob_load(c.n, d.spec.blob_id, &out), 0);
  assert_int_equal(out.len, b.len);
  assert_memory_equal(out.ptr, b.ptr, b.len);
  ve_buf_reset(&out);
  uint64_t size;
  assert_int_equal(node_docs_blob_read(c.n, d.spec.blob_id, 4990, 100, &out, &size), 0);
  assert_int_equal(size, b.len);
  assert_int_equal(out.len, b.len - 4990);
  assert_memory_equal(out.ptr, b.ptr + 4990, out.len);
  assert_int_equal(node_docs_blob_read(c.n, d.spec.blob_id, b.len, 1, &out, &size), VE_ERR_INVALID);
  ve_buf_t small;
  ve_buf_init(&small, 10);
  assert_int_equal(node_docs_blob_load(c.n, d.spec.blob_id, &small), VE_ERR_TOO_BIG);

  /* A second register of the same digest fails and changes nothing. */
  assert_int_equal(run1(&c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), VE_ERR_EXISTS);
  assert_true(node_docs_blob_held(c.n, d.spec.blob_id));
  assert_int_equal(missing(ids), 0);

  /* Erase: the blob goes, and never comes back. */
  erase_doc(&c.notary, d.id);
  assert_false(node_docs_blob_held(c.n, d.spec.blob_id));
  assert_int_equal(missing(ids), 0);
  assert_int_equal(node_docs_blob_store(c.n, d.spec.blob_id, b), VE_ERR_NOT_FOUND);
  node_docs_upload_t up;
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 0, b, &up), VE_ERR_STATE);
  free(bad);
  ve_buf_free(&small);
  ve_buf_free(&out);
  ve_buf_free(&p);
  ve_buf_free(&d.blob);
}

static void test_parts(void **state) {
  (void)state;
  doc_t d;
  doc_make(&d, 30000, 0x22, DOCUMENTS_ALG_BLAKE2B_256, c.notary_id);
  ve_buf_t p;
  payload_register(&p, &d.spec);
  assert_int_equal(run1(&c.notary, TX_TYPE_DOCUMENT_REGISTER, &p), 0);
  const uint8_t *b = d.blob.ptr;
  size_t len = d.blob.len;
  node_docs_upload_t up;
  uint8_t none[32] = {0};
  assert_int_equal(node_docs_blob_put_part(c.n, none, 0, ve_slice(b, 10), &up), VE_ERR_NOT_FOUND);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 1, ve_slice(b, 10), &up), VE_ERR_INVALID);
  assert_int_equal(up.received, 0);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 0, ve_slice(b, 0), &up), VE_ERR_INVALID);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 0, ve_slice(b, 10000), &up), 0);
  assert_false(up.stored);
  assert_int_equal(up.received, 10000);
  assert_int_equal(up.size, len);
  assert_memory_equal(up.blob_id, d.spec.blob_id, 32);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 10001, ve_slice(b + 10001, 10), &up), VE_ERR_INVALID);
  assert_int_equal(up.received, 10000);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 10000, ve_slice(b + 10000, len), &up), VE_ERR_TOO_BIG);
  /* A repeated part, then a restart from 0. */
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 5000, ve_slice(b + 5000, 10000), &up), 0);
  assert_int_equal(up.received, 15000);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 0, ve_slice(b, 20000), &up), 0);
  assert_int_equal(up.received, 20000);
  /* A wrong last part: the whole is checked and the parts dropped. */
  uint8_t *bad = malloc(len);
  memcpy(bad, b, len);
  bad[len - 1] ^= 1;
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 20000, ve_slice(bad + 20000, len - 20000), &up),
                   VE_ERR_HASH_MISMATCH);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 20000, ve_slice(b + 20000, len - 20000), &up), VE_ERR_INVALID);
  assert_int_equal(up.received, 0);
  /* Staged parts are dropped by an erase too; here: complete it properly. */
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 0, ve_slice(b, 20000), &up), 0);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 20000, ve_slice(b + 20000, len - 20000), &up), 0);
  assert_true(up.stored && up.completed);
  assert_int_equal(up.received, len);
  assert_int_equal(node_docs_blob_put_part(c.n, d.id, 0, ve_slice(b, 1), &up), 0); /* held: nothing to do */
  assert_true(up.stored && !up.completed);
  uint8_t ids[8][32];
  assert_int_equal(missing(ids), 0);

  /* Another document, parts staged, then erased: parts and want dropped. */
  doc_t e;
  doc_make(&e, 3000, 0x23, DOCUMENTS_ALG_BLAKE2B_256, c.notary_id);
  ve_buf_t p2;
  payload_register(&p2, &e.spec);
  assert_int_equal(run1(&c.notary, TX_TYPE_DOCUMENT_REGISTER, &p2), 0);
  assert_int_equal(node_docs_blob_put_part(c.n, e.id, 0, ve_slice(e.blob.ptr, 1000), &up), 0);
  assert_int_equal(missing(ids), 1);
  erase_doc(&c.notary, e.id);
  assert_int_equal(missing(ids), 0);
  assert_int_equal(blob_index_entries(), 1); /* only the ref of d, whose blob is held */
  free(bad);
  ve_buf_free(&p);
  ve_buf_free(&p2);
  ve_buf_free(&d.blob);
  ve_buf_free(&e.blob);
}

static void test_shared_blob(void **state) {
  (void)state;
  /* One ciphertext named by two records (the same content under two algorithms). */
  doc_t a, b;
  doc_make(&a, 4000, 0x33, DOCUMENTS_ALG_BLAKE2B_256, c.notary_id);
  doc_make(&b, 4000, 0x33, DOCUMENTS_ALG_SHA256, c.notary2_id);
  assert_memory_equal(a.spec.blob_id, b.spec.blob_id, 32);
  ve_buf_t pa, pb, txs[2];
  payload_register(&pa, &a.spec);
  payload_register(&pb, &b.spec);
  make_tx(&txs[0], &c.notary, TX_TYPE_DOCUMENT_REGISTER, &pa);
  make_tx(&txs[1], &c.notary2, TX_TYPE_DOCUMENT_REGISTER, &pb);
  int32_t res[2];
  commit_block(txs, 2, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  uint8_t ids[8][32];
  assert_int_equal(missing(ids), 1);
  assert_int_equal(node_docs_blob_store(c.n, a.spec.blob_id, ve_buf_slice(&a.blob)), 0);
  erase_doc(&c.notary, a.id);
  assert_true(node_docs_blob_held(c.n, a.spec.blob_id)); /* b still names it */
  erase_doc(&c.notary2, b.id);
  assert_false(node_docs_blob_held(c.n, a.spec.blob_id));
  assert_int_equal(missing(ids), 0);
  ve_buf_free(&pa);
  ve_buf_free(&pb);
  ve_buf_free(&txs[0]);
  ve_buf_free(&txs[1]);
  ve_buf_free(&a.blob);
  ve_buf_free(&b.blob);
}

static void test_register_and_erase_in_one_block(void **state) {
  (void)state;
  doc_t d;
  doc_make(&d, 2000, 0x44, DOCUMENTS_ALG_BLAKE2B_256, c.notary_id);
  ve_buf_t p, pe, txs[2];
  payload_register(&p, &d.spec);
  ve_buf_init(&pe, 0);
  assert_int_equal(documents_payload_erase(&pe, d.id, "mistake"), 0);
  make_tx(&txs[0], &c.notary, TX_TYPE_DOCUMENT_REGISTER, &p);
  make_tx(&txs[1], &c.notary, TX_TYPE_DOCUMENT_ERASE, &pe);
  int32_t res[2];
  commit_block(txs, 2, res);
  assert_int_equal(res[0], 0);
  assert_int_equal(res[1], 0);
  uint8_t ids[8][32];
  assert_int_equal(missing(ids), 0);
  assert_int_equal(node_docs_blob_store(c.n, d.spec.blob_id, ve_buf_slice(&d.blob)), VE_ERR_NOT_FOUND);
  /* documents_tx_target on payloads of every kind. */
  documents_tx_target_t tg;
  assert_int_equal(documents_tx_target(TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&p), &tg), 0);
  assert_true(tg.has_spec && !tg.has_doc);
  assert_memory_equal(tg.spec.blob_id, d.spec.blob_id, 32);
  assert_int_equal(documents_tx_target(TX_TYPE_DOCUMENT_ERASE, ve_buf_slice(&pe), &tg), 0);
  assert_true(tg.has_doc && !tg.has_spec);
  assert_memory_equal(tg.doc, d.id, 32);
  assert_int_equal(documents_tx_target(0x0101, ve_buf_slice(&pe), &tg), VE_ERR_UNKNOWN_TYPE);
  ve_buf_t sup;
  ve_buf_init(&sup, 0);
  assert_int_equal(documents_payload_supersede(&sup, d.id, &d.spec), 0);
  assert_int_equal(documents_tx_target(TX_TYPE_DOCUMENT_SUPERSEDE, ve_buf_slice(&sup), &tg), 0);
  assert_true(tg.has_doc && tg.has_spec);
  ve_buf_t trailing;
  ve_buf_init(&trailing, 0);
  ve_buf_append(&trailing, p.ptr, p.len);
  ve_buf_append(&trailing, "x", 1);
  assert_int_equal(documents_tx_target(TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(&trailing), &tg), VE_ERR_TRAILING);
  assert_false(tg.has_spec);
  ve_buf_free(&trailing);
  ve_buf_free(&sup);
  ve_buf_free(&p);
  ve_buf_free(&pe);
  ve_buf_free(&txs[0]);
  ve_buf_free(&txs[1]);
  ve_buf_free(&d.blob);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_store_and_erase, setup, teardown),
      cmocka_unit_test_setup_teardown(test_parts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_blob, setup, teardown),
      cmocka_unit_test_setup_teardown(test_register_and_erase_in_one_block, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
