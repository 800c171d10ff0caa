/* documents_int.h — what the documents module's files share and nobody else uses:
 * the encoders/decoders of specs, records and evidence messages, and hashing
 * under a numbered algorithm. The encodings are specified in docs/documents.md. */
#ifndef VECHE_APPS_DOCUMENTS_INT_H
#define VECHE_APPS_DOCUMENTS_INT_H

#include "apps/documents/documents.h"
#include "codec/codec.h"

#define DOCS_PAYLOAD_VERSION 1
#define DOCS_RECORD_VERSION 1
#define DOCS_EVIDENCE_VERSION 1
#define DOCS_INDEX_VERSION 1
#define DOCS_GRANT_VERSION 1
#define DOCS_GRANTS_VERSION 1

/* Fewest bytes one encoded renewal takes (for the list's item_bytes_min). */
#define DOCS_RENEWAL_BYTES_MIN (1 + 1 + 1 + LEDGER_HASH_BYTES + 32 + 1 + 1 + LEDGER_HASH_BYTES)
/* Largest evidence message: core and 16 renewals, well under a record. */
#define DOCS_EVIDENCE_BYTES_MAX DOCUMENTS_RECORD_BYTES_MAX

/* Is s a well-formed document type: 1..32 bytes of [a-z0-9_.-]? */
bool docs_type_ok(const uint8_t *s, size_t len);
/* Semantic checks of a spec that a builder runs before encoding: the error
 * every node would give (VE_ERR_INVALID, VE_ERR_TOO_BIG) or 0. */
int docs_spec_check(const documents_spec_t *spec);

void docs_put_spec(codec_writer_t *w, const documents_spec_t *spec);
/* Strict: bad type VE_ERR_MALFORMED, unknown algorithm VE_ERR_UNSUPPORTED, empty
 * validity period VE_ERR_INVALID, blob size VE_ERR_TOO_BIG / VE_ERR_INVALID. */
void docs_get_spec(codec_reader_t *r, documents_spec_t *spec);
void docs_put_digest_bytes(codec_writer_t *w, unsigned alg, const uint8_t *bytes);

int docs_record_encode(const documents_record_t *rec, ve_buf_t *out);

/* The message an evidence digest covers for renewal k of rec: rec's evidence
 * core, its renewals [0, k), and the anchor. Appended to out. */
int docs_evidence_encode(const documents_record_t *rec, size_t k, uint64_t anchor_height,
                         const uint8_t anchor_root[LEDGER_HASH_BYTES], ve_buf_t *out);
/* The same message without the anchor (used to compare two records' evidence). */
int docs_evidence_prefix_encode(const documents_record_t *rec, size_t k, ve_buf_t *out);
/* alg(len(tag) || tag || evidence message). VE_ERR_UNSUPPORTED for unknown alg. */
int docs_evidence_digest(uint8_t out[DOCUMENTS_DIGEST_BYTES_MAX], unsigned alg,
                         const documents_record_t *rec, size_t k, uint64_t anchor_height,
                         const uint8_t anchor_root[LEDGER_HASH_BYTES]);

/* alg over (len(tag) || tag || m); tag may be NULL for the bare function.
 * out gets documents_alg_digest_bytes(alg) bytes, zero-padded to 64. */
int docs_hash(uint8_t out[DOCUMENTS_DIGEST_BYTES_MAX], unsigned alg, const char *tag, const uint8_t *m,
              size_t n);

#endif
