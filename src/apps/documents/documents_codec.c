/* documents_codec.c — the canonical encodings of the documents app: payloads,
 * stored records, grants, the digest index, and the evidence messages that
 * renewals hash. One encoding per value (docs/encoding.md); every decoder is
 * strict and reports the first failure. Layouts: docs/documents.md. */
#include <string.h>

#include "apps/documents/documents_int.h"
#include "base/err.h"

/* ---- ids and state keys ---- */

void documents_id(uint8_t out[LEDGER_HASH_BYTES], const uint8_t issuer[LEDGER_HASH_BYTES],
                  const documents_digest_t *digest) {
  size_t n = documents_alg_digest_bytes(digest->alg);
  VE_ASSERT(n > 0);
  vcrypto_hasher_t h;
  vcrypto_hasher_init(&h, DOCUMENTS_TAG_ID);
  vcrypto_hasher_update(&h, issuer, LEDGER_HASH_BYTES);
  vcrypto_hasher_update(&h, &digest->alg, 1);
  vcrypto_hasher_update(&h, digest->bytes, n);
  vcrypto_hasher_final(&h, out);
}

size_t documents_state_key(uint8_t out[DOCUMENTS_STATE_KEY_BYTES], const uint8_t id[LEDGER_HASH_BYTES]) {
  memcpy(out, "doc/", 4);
  memcpy(out + 4, id, LEDGER_HASH_BYTES);
  return DOCUMENTS_STATE_KEY_BYTES;
}

size_t documents_index_key(uint8_t out[DOCUMENTS_INDEX_KEY_BYTES_MAX], const documents_digest_t *d) {
  size_t n = documents_alg_digest_bytes(d->alg);
  VE_ASSERT(n > 0);
  memcpy(out, "docd/", 5);
  out[5] = d->alg;
  memcpy(out + 6, d->bytes, n);
  return 6 + n;
}

size_t documents_grant_key(uint8_t out[DOCUMENTS_GRANT_KEY_BYTES], const uint8_t doc[LEDGER_HASH_BYTES],
                           const uint8_t identity[LEDGER_HASH_BYTES]) {
  memcpy(out, "docg/", 5);
  memcpy(out + 5, doc, LEDGER_HASH_BYTES);
  memcpy(out + 5 + LEDGER_HASH_BYTES, identity, LEDGER_HASH_BYTES);
  return DOCUMENTS_GRANT_KEY_BYTES;
}

size_t documents_grants_key(uint8_t out[DOCUMENTS_GRANTS_KEY_BYTES], const uint8_t doc[LEDGER_HASH_BYTES]) {
  memcpy(out, "docl/", 5);
  memcpy(out + 5, doc, LEDGER_HASH_BYTES);
  return DOCUMENTS_GRANTS_KEY_BYTES;
}

/* ---- specs ---- */

bool docs_type_ok(const uint8_t *s, size_t len) {
  if (len == 0 || len > DOCUMENTS_TYPE_BYTES_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int docs_spec_check(const documents_spec_t *spec) {
  size_t tl = strnlen(spec->type, sizeof spec->type);
  if (tl == sizeof spec->type || !docs_type_ok((const uint8_t *)spec->type, tl)) return VE_ERR_INVALID;
  if (documents_alg_digest_bytes(spec->digest.alg) == 0) return VE_ERR_INVALID;
  if (spec->has_validity && spec->not_after_ms <= spec->not_before_ms) return VE_ERR_INVALID;
  if (spec->has_blob && spec->blob_bytes > DOCUMENTS_BLOB_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (spec->has_blob && spec->blob_bytes < DOCUMENTS_BLOB_OVERHEAD_BYTES) return VE_ERR_INVALID;
  return VE_OK;
}

void docs_put_digest_bytes(codec_writer_t *w, unsigned alg, const uint8_t *bytes) {
  size_t n = documents_alg_digest_bytes(alg);
  if (n == 0 && !w->err) w->err = VE_ERR_INVALID;
  codec_put_u8(w, (uint8_t)alg);
  codec_put_fixed(w, bytes, n);
}

/* An algorithm byte and that algorithm's digest; unknown: VE_ERR_UNSUPPORTED. */
static uint8_t get_alg_digest(codec_reader_t *r, uint8_t out[DOCUMENTS_DIGEST_BYTES_MAX]) {
  memset(out, 0, DOCUMENTS_DIGEST_BYTES_MAX);
  uint8_t alg = codec_get_u8(r);
  if (r->err) return 0;
  size_t n = documents_alg_digest_bytes(alg);
  if (n == 0) {
    codec_fail(r, VE_ERR_UNSUPPORTED);
    return 0;
  }
  codec_get_fixed(r, out, n);
  return alg;
}

void docs_put_spec(codec_writer_t *w, const documents_spec_t *spec) {
  codec_put_bytes(w, (const uint8_t *)spec->type, strnlen(spec->type, sizeof spec->type),
                  DOCUMENTS_TYPE_BYTES_MAX);
  codec_put_fixed(w, spec->subject, LEDGER_HASH_BYTES);
  docs_put_digest_bytes(w, spec->digest.alg, spec->digest.bytes);
  codec_put_bool(w, spec->has_validity);
  if (spec->has_validity) {
    codec_put_uvarint(w, spec->not_before_ms);
    codec_put_uvarint(w, spec->not_after_ms);
  }
  codec_put_fixed(w, spec->metadata_digest, LEDGER_HASH_BYTES);
  codec_put_bool(w, spec->has_blob);
  if (spec->has_blob) {
    codec_put_fixed(w, spec->blob_id, LEDGER_HASH_BYTES);
    codec_put_uvarint(w, spec->blob_bytes);
  }
}

void docs_get_spec(codec_reader_t *r, documents_spec_t *spec) {
  memset(spec, 0, sizeof *spec);
  ve_slice_t type = codec_get_bytes(r, DOCUMENTS_TYPE_BYTES_MAX);
  if (!r->err && !docs_type_ok(type.ptr, type.len)) codec_fail(r, VE_ERR_MALFORMED);
  if (!r->err) memcpy(spec->type, type.ptr, type.len);
  codec_get_fixed(r, spec->subject, LEDGER_HASH_BYTES);
  spec->digest.alg = get_alg_digest(r, spec->digest.bytes);
  spec->has_validity = codec_get_bool(r);
  if (spec->has_validity) {
    spec->not_before_ms = codec_get_uvarint(r);
    spec->not_after_ms = codec_get_uvarint(r);
    if (!r->err && spec->not_after_ms <= spec->not_before_ms) codec_fail(r, VE_ERR_INVALID);
  }
  codec_get_fixed(r, spec->metadata_digest, LEDGER_HASH_BYTES);
  spec->has_blob = codec_get_bool(r);
  if (spec->has_blob) {
    codec_get_fixed(r, spec->blob_id, LEDGER_HASH_BYTES);
    spec->blob_bytes = codec_get_uvarint_max(r, DOCUMENTS_BLOB_BYTES_MAX);
    if (!r->err && spec->blob_bytes < DOCUMENTS_BLOB_OVERHEAD_BYTES) codec_fail(r, VE_ERR_INVALID);
  }
}

/* ---- records ---- */

/* The evidence core: everything fixed at registration. */
static void put_core(codec_writer_t *w, const documents_record_t *rec) {
  codec_put_fixed(w, rec->issuer, LEDGER_HASH_BYTES);
  docs_put_spec(w, &rec->spec);
  codec_put_bool(w, rec->has_prev);
  if (rec->has_prev) codec_put_fixed(w, rec->prev, LEDGER_HASH_BYTES);
  codec_put_uvarint(w, rec->registered_height);
  codec_put_uvarint(w, rec->registered_time_ms);
}

static void get_core(codec_reader_t *r, documents_record_t *rec) {
  codec_get_fixed(r, rec->issuer, LEDGER_HASH_BYTES);
  docs_get_spec(r, &rec->spec);
  rec->has_prev = codec_get_bool(r);
  if (rec->has_prev) codec_get_fixed(r, rec->prev, LEDGER_HASH_BYTES);
  rec->registered_height = codec_get_uvarint(r);
  rec->registered_time_ms = codec_get_uvarint(r);
}

static void put_renewal(codec_writer_t *w, const documents_renewal_t *rn) {
  size_t n = documents_alg_digest_bytes(rn->alg);
  if (n == 0 && !w->err) w->err = VE_ERR_INVALID;
  codec_put_u8(w, rn->alg);
  codec_put_bool(w, rn->has_content);
  if (rn->has_content) codec_put_fixed(w, rn->content_digest, n);
  codec_put_uvarint(w, rn->anchor_height);
  codec_put_fixed(w, rn->anchor_root, LEDGER_HASH_BYTES);
  codec_put_fixed(w, rn->evidence_digest, n);
  codec_put_uvarint(w, rn->height);
  codec_put_uvarint(w, rn->time_ms);
  codec_put_fixed(w, rn->renewer, LEDGER_HASH_BYTES);
}

static void get_renewal(codec_reader_t *r, documents_renewal_t *rn) {
  memset(rn, 0, sizeof *rn);
  rn->alg = codec_get_u8(r);
  size_t n = documents_alg_digest_bytes(rn->alg);
  if (!r->err && n == 0) codec_fail(r, VE_ERR_UNSUPPORTED);
  rn->has_content = codec_get_bool(r);
  if (rn->has_content) codec_get_fixed(r, rn->content_digest, n);
  rn->anchor_height = codec_get_uvarint(r);
  codec_get_fixed(r, rn->anchor_root, LEDGER_HASH_BYTES);
  codec_get_fixed(r, rn->evidence_digest, n);
  rn->height = codec_get_uvarint(r);
  rn->time_ms = codec_get_uvarint(r);
  codec_get_fixed(r, rn->renewer, LEDGER_HASH_BYTES);
}

static void put_renewals(codec_writer_t *w, const documents_renewal_t *rns, size_t n) {
  codec_put_uvarint(w, n);
  for (size_t i = 0; i < n; i++) put_renewal(w, &rns[i]);
}

int docs_record_encode(const documents_record_t *rec, ve_buf_t *out) {
  if (rec->n_renewals > DOCUMENTS_RENEWALS_MAX) return VE_ERR_LIMIT;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, DOCS_RECORD_VERSION);
  put_core(&w, rec);
  put_renewals(&w, rec->renewals, rec->n_renewals);
  codec_put_u8(&w, (uint8_t)rec->status);
  codec_put_bool(&w, rec->has_next);
  if (rec->has_next) codec_put_fixed(&w, rec->next, LEDGER_HASH_BYTES);
  codec_put_uvarint(&w, rec->status_height);
  codec_put_bytes(&w, rec->reason, rec->reason_len, DOCUMENTS_REASON_BYTES_MAX);
  codec_put_bool(&w, rec->key_erased);
  if (rec->key_erased) codec_put_uvarint(&w, rec->erased_height);
  return codec_writer_finish(&w);
}

int documents_decode(ve_slice_t value, const uint8_t id[LEDGER_HASH_BYTES], documents_record_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->id, id, LEDGER_HASH_BYTES);
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != DOCS_RECORD_VERSION) codec_fail(&r, VE_ERR_VERSION);
  get_core(&r, out);
  size_t n = codec_get_count(&r, DOCUMENTS_RENEWALS_MAX, DOCS_RENEWAL_BYTES_MIN);
  for (size_t i = 0; i < n && !r.err; i++) {
    codec_enter(&r);
    get_renewal(&r, &out->renewals[i]);
    codec_leave(&r);
  }
  out->n_renewals = r.err ? 0 : n;
  uint8_t st = codec_get_u8(&r);
  if (!r.err && st > DOCUMENTS_REVOKED) codec_fail(&r, VE_ERR_MALFORMED);
  out->status = (documents_status_t)st;
  out->has_next = codec_get_bool(&r);
  if (out->has_next) codec_get_fixed(&r, out->next, LEDGER_HASH_BYTES);
  /* A superseded record names its successor; a current one has none. */
  if (!r.err && (out->status == DOCUMENTS_SUPERSEDED) != out->has_next && out->status != DOCUMENTS_REVOKED)
    codec_fail(&r, VE_ERR_MALFORMED);
  out->status_height = codec_get_uvarint(&r);
  ve_slice_t reason = codec_get_bytes(&r, DOCUMENTS_REASON_BYTES_MAX);
  if (!r.err) {
    memcpy(out->reason, reason.ptr, reason.len);
    out->reason_len = reason.len;
  }
  out->key_erased = codec_get_bool(&r);
  if (out->key_erased) out->erased_height = codec_get_uvarint(&r);
  if (codec_reader_finish(&r)) {
    memset(out, 0, sizeof *out);
    return VE_ERR_CORRUPT;
  }
  return VE_OK;
}

/* ---- evidence messages ---- */

int docs_evidence_prefix_encode(const documents_record_t *rec, size_t k, ve_buf_t *out) {
  if (k > rec->n_renewals || k > DOCUMENTS_RENEWALS_MAX) return VE_ERR_INVALID;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, DOCS_EVIDENCE_VERSION);
  codec_put_fixed(&w, rec->id, LEDGER_HASH_BYTES);
  put_core(&w, rec);
  put_renewals(&w, rec->renewals, k);
  return codec_writer_finish(&w);
}

int docs_evidence_encode(const documents_record_t *rec, size_t k, uint64_t anchor_height,
                         const uint8_t anchor_root[LEDGER_HASH_BYTES], ve_buf_t *out) {
  VE_TRY(docs_evidence_prefix_encode(rec, k, out));
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_uvarint(&w, anchor_height);
  codec_put_fixed(&w, anchor_root, LEDGER_HASH_BYTES);
  return codec_writer_finish(&w);
}

int docs_evidence_digest(uint8_t out[DOCUMENTS_DIGEST_BYTES_MAX], unsigned alg,
                         const documents_record_t *rec, size_t k, uint64_t anchor_height,
                         const uint8_t anchor_root[LEDGER_HASH_BYTES]) {
  memset(out, 0, DOCUMENTS_DIGEST_BYTES_MAX);
  if (documents_alg_digest_bytes(alg) == 0) return VE_ERR_UNSUPPORTED;
  uint8_t mem[DOCS_EVIDENCE_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(docs_evidence_encode(rec, k, anchor_height, anchor_root, &b));
  return docs_hash(out, alg, DOCUMENTS_TAG_EVIDENCE, mem, b.len);
}

/* ---- index and grants ---- */

int documents_index_decode(ve_slice_t value, uint8_t doc_id[LEDGER_HASH_BYTES]) {
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != DOCS_INDEX_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, doc_id, LEDGER_HASH_BYTES);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

int documents_grant_decode(ve_slice_t value, const uint8_t recipient[LEDGER_HASH_BYTES],
                           documents_grant_t *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->recipient, recipient, LEDGER_HASH_BYTES);
  codec_reader_t r;
  codec_reader_init(&r, value);
  if (codec_get_u8(&r) != DOCS_GRANT_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, out->recipient_pk, VCRYPTO_PK_BYTES);
  codec_get_fixed(&r, out->wrapped, DOCUMENTS_WRAPPED_KEY_BYTES);
  codec_get_fixed(&r, out->granter, LEDGER_HASH_BYTES);
  out->height = codec_get_uvarint(&r);
  return codec_reader_finish(&r) ? VE_ERR_CORRUPT : VE_OK;
}

/* ---- payload builders ---- */

static void put_header(codec_writer_t *w, ve_buf_t *out) {
  codec_writer_init(w, out);
  codec_put_u8(w, DOCS_PAYLOAD_VERSION);
}

int documents_payload_register(ve_buf_t *out, const documents_spec_t *spec) {
  VE_TRY(docs_spec_check(spec));
  codec_writer_t w;
  put_header(&w, out);
  docs_put_spec(&w, spec);
  return codec_writer_finish(&w);
}

int documents_payload_supersede(ve_buf_t *out, const uint8_t old_id[LEDGER_HASH_BYTES],
                                const documents_spec_t *spec) {
  VE_TRY(docs_spec_check(spec));
  codec_writer_t w;
  put_header(&w, out);
  codec_put_fixed(&w, old_id, LEDGER_HASH_BYTES);
  docs_put_spec(&w, spec);
  return codec_writer_finish(&w);
}

static int payload_doc_reason(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES], const char *reason) {
  size_t rl = strlen(reason);
  if (rl > DOCUMENTS_REASON_BYTES_MAX) return VE_ERR_TOO_BIG;
  codec_writer_t w;
  put_header(&w, out);
  codec_put_fixed(&w, doc, LEDGER_HASH_BYTES);
  codec_put_bytes(&w, (const uint8_t *)reason, rl, DOCUMENTS_REASON_BYTES_MAX);
  return codec_writer_finish(&w);
}

int documents_payload_revoke(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES], const char *reason) {
  return payload_doc_reason(out, doc, reason);
}

int documents_payload_erase(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES], const char *reason) {
  return payload_doc_reason(out, doc, reason);
}

int documents_payload_grant(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES],
                            const uint8_t recipient[LEDGER_HASH_BYTES],
                            const uint8_t recipient_pk[VCRYPTO_PK_BYTES],
                            const uint8_t wrapped[DOCUMENTS_WRAPPED_KEY_BYTES]) {
  codec_writer_t w;
  put_header(&w, out);
  codec_put_fixed(&w, doc, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, recipient, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, recipient_pk, VCRYPTO_PK_BYTES);
  codec_put_fixed(&w, wrapped, DOCUMENTS_WRAPPED_KEY_BYTES);
  return codec_writer_finish(&w);
}

int documents_payload_grant_revoke(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES],
                                   const uint8_t recipient[LEDGER_HASH_BYTES]) {
  codec_writer_t w;
  put_header(&w, out);
  codec_put_fixed(&w, doc, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, recipient, LEDGER_HASH_BYTES);
  return codec_writer_finish(&w);
}

int documents_payload_renew(ve_buf_t *out, const uint8_t doc[LEDGER_HASH_BYTES], unsigned alg,
                            const uint8_t *content_digest, uint64_t anchor_height,
                            const uint8_t anchor_root[LEDGER_HASH_BYTES]) {
  size_t n = documents_alg_digest_bytes(alg);
  if (n == 0) return VE_ERR_INVALID;
  codec_writer_t w;
  put_header(&w, out);
  codec_put_fixed(&w, doc, LEDGER_HASH_BYTES);
  codec_put_u8(&w, (uint8_t)alg);
  codec_put_bool(&w, content_digest != NULL);
  if (content_digest) codec_put_fixed(&w, content_digest, n);
  codec_put_uvarint(&w, anchor_height);
  codec_put_fixed(&w, anchor_root, LEDGER_HASH_BYTES);
  return codec_writer_finish(&w);
}

/* ---- what a transaction is about (for the node's blob store) ---- */

int documents_tx_target(uint32_t type, ve_slice_t payload, documents_tx_target_t *out) {
  memset(out, 0, sizeof *out);
  if (type < TX_TYPE_DOCUMENT_REGISTER || type > TX_TYPE_DOCUMENT_RENEW) return VE_ERR_UNKNOWN_TYPE;
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != DOCS_PAYLOAD_VERSION && !r.err) codec_fail(&r, VE_ERR_VERSION);
  if (type != TX_TYPE_DOCUMENT_REGISTER) {
    codec_get_fixed(&r, out->doc, LEDGER_HASH_BYTES);
    out->has_doc = !r.err;
  }
  if (type == TX_TYPE_DOCUMENT_REGISTER || type == TX_TYPE_DOCUMENT_SUPERSEDE) {
    docs_get_spec(&r, &out->spec);
    out->has_spec = !r.err;
    int rc = codec_reader_finish(&r);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
  }
  /* The rest of the other payloads is not needed here; the app checked it. */
  return r.err;
}
