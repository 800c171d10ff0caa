/* fuzz_documents_decode.c — the documents app's strict decoders on arbitrary
 * bytes: every input is refused with a real error code or re-encodes to exactly
 * its own bytes (docs/encoding.md), and what reads a decoded record (verdict,
 * evidence check, blob check) never crashes on it.
 *
 * Input: one selector byte (modulo 4), then the bytes.
 *   0 stored record (documents_decode)   vs docs_record_encode
 *   1 digest index value                 vs its layout: u8 version || id
 *   2 grant value                        vs its layout (docs/documents.md)
 *   3 transaction payloads: documents_tx_target for every type 0x0200..0x0208;
 *     accepted register / supersede payloads vs documents_payload_register /
 *     documents_payload_supersede
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/documents/documents_int.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t ID[LEDGER_HASH_BYTES] = {0xd0, 0xc1};

static void assert_err(int rc) { VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN); }

/* out must hold exactly in; frees out. */
static void assert_same(ve_buf_t *out, ve_slice_t in) {
  VE_ASSERT(ve_slice_eq(ve_buf_slice(out), in));
  ve_buf_free(out);
}

static void fuzz_record(ve_slice_t in) {
  static documents_record_t rec; /* ~4 KiB */
  int rc = documents_decode(in, ID, &rec);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  VE_ASSERT(rec.n_renewals <= DOCUMENTS_RENEWALS_MAX && rec.reason_len <= DOCUMENTS_REASON_BYTES_MAX);
  VE_ASSERT(rec.status <= DOCUMENTS_REVOKED && documents_alg_digest_bytes(rec.spec.digest.alg) > 0);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(docs_record_encode(&rec, &out) == VE_OK);
  assert_same(&out, in);

  /* Readers of a decoded record. */
  VE_ASSERT(documents_verdict(&rec, 1000) <= DOCUMENTS_VERDICT_REVOKED);
  documents_digest_t digests[DOCUMENTS_ALG_MAX + 1];
  memset(digests, 0, sizeof digests);
  for (unsigned a = 1; a <= DOCUMENTS_ALG_MAX; a++) digests[a].alg = (uint8_t)a;
  documents_alg_policy_t policy = {.weak_from_ms = {0, 5, 0, 0, 7}, .now_ms = 6};
  documents_evidence_result_t res;
  char reason[128];
  rc = documents_evidence_verify_digests(&rec, digests, &policy, &res, reason, sizeof reason);
  if (rc) assert_err(rc);
  rc = documents_evidence_verify_digests(&rec, digests, NULL, &res, NULL, 0);
  if (rc) assert_err(rc);
  uint8_t blob[DOCUMENTS_BLOB_OVERHEAD_BYTES + 1] = {DOCUMENTS_BLOB_VERSION};
  rc = documents_blob_check(&rec, blob, sizeof blob);
  if (rc) assert_err(rc);
  for (size_t k = 0; k < rec.n_renewals; k++) {
    rc = documents_evidence_anchor_check(&rec, k, &rec, rec.renewals[k].anchor_height,
                                         rec.renewals[k].anchor_root);
    if (rc) assert_err(rc);
  }
}

static void fuzz_index(ve_slice_t in) {
  uint8_t doc[LEDGER_HASH_BYTES];
  int rc = documents_index_decode(in, doc);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  VE_ASSERT(in.len == 1 + LEDGER_HASH_BYTES && in.ptr[0] == DOCS_INDEX_VERSION);
  VE_ASSERT(!memcmp(doc, in.ptr + 1, LEDGER_HASH_BYTES));
}

static void fuzz_grant(ve_slice_t in) {
  static const uint8_t recipient[LEDGER_HASH_BYTES] = {0x9e};
  documents_grant_t g;
  int rc = documents_grant_decode(in, recipient, &g);
  if (rc) {
    VE_ASSERT(rc == VE_ERR_CORRUPT);
    return;
  }
  VE_ASSERT(!memcmp(g.recipient, recipient, sizeof recipient));
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  codec_writer_t w;
  codec_writer_init(&w, &out);
  codec_put_u8(&w, DOCS_GRANT_VERSION);
  codec_put_fixed(&w, g.recipient_pk, VCRYPTO_PK_BYTES);
  codec_put_fixed(&w, g.wrapped, DOCUMENTS_WRAPPED_KEY_BYTES);
  codec_put_fixed(&w, g.granter, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, g.height);
  VE_ASSERT(codec_writer_finish(&w) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_payloads(ve_slice_t in) {
  for (uint32_t type = DOCUMENTS_TX_TYPE_LO; type <= TX_TYPE_DOCUMENT_RENEW + 1; type++) {
    documents_tx_target_t t;
    int rc = documents_tx_target(type, in, &t);
    if (rc) {
      assert_err(rc);
      VE_ASSERT(!t.has_doc && !t.has_spec);
      continue;
    }
    VE_ASSERT(type >= TX_TYPE_DOCUMENT_REGISTER && type <= TX_TYPE_DOCUMENT_RENEW);
    VE_ASSERT(t.has_doc == (type != TX_TYPE_DOCUMENT_REGISTER));
    bool spec = type == TX_TYPE_DOCUMENT_REGISTER || type == TX_TYPE_DOCUMENT_SUPERSEDE;
    VE_ASSERT(t.has_spec == spec);
    if (!spec) continue;
    VE_ASSERT(docs_spec_check(&t.spec) == VE_OK);
    ve_buf_t out;
    ve_buf_init(&out, in.len + 1);
    if (type == TX_TYPE_DOCUMENT_REGISTER)
      VE_ASSERT(documents_payload_register(&out, &t.spec) == VE_OK);
    else
      VE_ASSERT(documents_payload_supersede(&out, t.doc, &t.spec) == VE_OK);
    assert_same(&out, in);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: fuzz_record(in); break;
    case 1: fuzz_index(in); break;
    case 2: fuzz_grant(in); break;
    default: fuzz_payloads(in); break;
  }
  return 0;
}
