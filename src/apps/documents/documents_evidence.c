/* documents_evidence.c — offline verification of a record's evidence chain.
 *
 * The chain (docs/documents.md, "Evidence renewal"): layer 0 is the
 * registration, a content digest under the registration's algorithm; layer k
 * (k >= 1, renewals[k-1]) adds, under its own algorithm A_k, a digest of the
 * content (optional) and a digest of all earlier evidence plus the state root it
 * was anchored in. Because every layer's message is recomputable from the latest
 * record, a verifier needs only that record, the content, and (to check the
 * anchor roots) proof bundles at the anchor heights. In the spirit of RFC 4998:
 * each renewal covers the earlier evidence with a newer hash before the older
 * one weakens, so the newest layer carries the proof. */
#include <stdio.h>
#include <string.h>

#include "apps/documents/documents_int.h"
#include "base/err.h"

static int fail(int err, char *reason, size_t reason_len, const char *fmt, size_t a, const char *b) {
  if (reason && reason_len) snprintf(reason, reason_len, fmt, a, b);
  return err;
}

static unsigned layer_alg(const documents_record_t *rec, size_t j) {
  return j == 0 ? rec->spec.digest.alg : rec->renewals[j - 1].alg;
}

static uint64_t layer_time(const documents_record_t *rec, size_t j) {
  return j == 0 ? rec->registered_time_ms : rec->renewals[j - 1].time_ms;
}

static bool layer_has_content(const documents_record_t *rec, size_t j) {
  return j == 0 || rec->renewals[j - 1].has_content;
}

static bool weak_at(const documents_alg_policy_t *p, unsigned alg, uint64_t t_ms) {
  return p->weak_from_ms[alg] != 0 && t_ms >= p->weak_from_ms[alg];
}

/* Algorithms known, heights and times strictly ordered, anchors in range. */
static int check_order(const documents_record_t *rec, char *reason, size_t rl) {
  if (rec->n_renewals > DOCUMENTS_RENEWALS_MAX) return VE_ERR_LIMIT;
  if (documents_alg_digest_bytes(rec->spec.digest.alg) == 0)
    return fail(VE_ERR_UNSUPPORTED, reason, rl, "layer %zu: unknown algorithm%s", 0, "");
  uint64_t h = rec->registered_height, t = rec->registered_time_ms;
  for (size_t k = 0; k < rec->n_renewals; k++) {
    const documents_renewal_t *rn = &rec->renewals[k];
    if (documents_alg_digest_bytes(rn->alg) == 0)
      return fail(VE_ERR_UNSUPPORTED, reason, rl, "layer %zu: unknown algorithm%s", k + 1, "");
    if (rn->anchor_height < h || rn->anchor_height >= rn->height || rn->time_ms <= t)
      return fail(VE_ERR_PROOF, reason, rl, "layer %zu: anchor or height out of order%s", k + 1, "");
    h = rn->height;
    t = rn->time_ms;
  }
  return VE_OK;
}

static int check_digests(const documents_record_t *rec, const documents_digest_t digests[DOCUMENTS_ALG_MAX + 1],
                         char *reason, size_t rl) {
  for (size_t j = 0; j <= rec->n_renewals; j++) {
    if (!layer_has_content(rec, j)) continue;
    unsigned alg = layer_alg(rec, j);
    const uint8_t *want = j == 0 ? rec->spec.digest.bytes : rec->renewals[j - 1].content_digest;
    if (digests[alg].alg != alg)
      return fail(VE_ERR_INVALID, reason, rl, "layer %zu: no %s digest of the content given", j,
                  documents_alg_name(alg));
    if (memcmp(digests[alg].bytes, want, documents_alg_digest_bytes(alg)) != 0)
      return fail(VE_ERR_HASH_MISMATCH, reason, rl, "layer %zu: %s content digest does not match", j,
                  documents_alg_name(alg));
  }
  for (size_t k = 0; k < rec->n_renewals; k++) {
    const documents_renewal_t *rn = &rec->renewals[k];
    uint8_t e[DOCUMENTS_DIGEST_BYTES_MAX];
    VE_TRY(docs_evidence_digest(e, rn->alg, rec, k, rn->anchor_height, rn->anchor_root));
    if (memcmp(e, rn->evidence_digest, documents_alg_digest_bytes(rn->alg)) != 0)
      return fail(VE_ERR_HASH_MISMATCH, reason, rl, "layer %zu: %s evidence digest does not match", k + 1,
                  documents_alg_name(rn->alg));
  }
  return VE_OK;
}

/* Each layer covered by the next before its algorithm weakened; the newest
 * not weak now; the content bound by a layer whose algorithm is not weak now. */
static int check_policy(const documents_record_t *rec, const documents_alg_policy_t *p, size_t *content_layer,
                        char *reason, size_t rl) {
  size_t last = rec->n_renewals;
  for (size_t j = 0; j < last; j++)
    if (weak_at(p, layer_alg(rec, j), layer_time(rec, j + 1)))
      return fail(VE_ERR_PROOF, reason, rl, "layer %zu: renewed only after %s became weak", j,
                  documents_alg_name(layer_alg(rec, j)));
  if (weak_at(p, layer_alg(rec, last), p->now_ms))
    return fail(VE_ERR_PROOF, reason, rl, "layer %zu: %s is weak now; the record needs a renewal", last,
                documents_alg_name(layer_alg(rec, last)));
  for (size_t j = last + 1; j-- > 0;) {
    if (layer_has_content(rec, j) && !weak_at(p, layer_alg(rec, j), p->now_ms)) {
      *content_layer = j;
      return VE_OK;
    }
  }
  return fail(VE_ERR_PROOF, reason, rl, "none of %zu layers binds the content under an algorithm not weak%s",
              last + 1, " now");
}

int documents_evidence_verify_digests(const documents_record_t *rec,
                                      const documents_digest_t digests[DOCUMENTS_ALG_MAX + 1],
                                      const documents_alg_policy_t *policy,
                                      documents_evidence_result_t *res, char *reason, size_t reason_len) {
  if (reason && reason_len) reason[0] = 0;
  VE_TRY(check_order(rec, reason, reason_len));
  VE_TRY(check_digests(rec, digests, reason, reason_len));
  size_t content_layer = 0;
  for (size_t j = 0; j <= rec->n_renewals; j++)
    if (layer_has_content(rec, j)) content_layer = j;
  if (policy) VE_TRY(check_policy(rec, policy, &content_layer, reason, reason_len));
  if (res) {
    res->layers = rec->n_renewals + 1;
    res->content_layer = content_layer;
    res->content_alg = (uint8_t)layer_alg(rec, content_layer);
  }
  return VE_OK;
}

int documents_evidence_verify(const documents_record_t *rec, const uint8_t *content, size_t len,
                              const documents_alg_policy_t *policy, documents_evidence_result_t *res,
                              char *reason, size_t reason_len) {
  if (reason && reason_len) reason[0] = 0;
  VE_TRY(check_order(rec, reason, reason_len));
  /* One pass over the content per algorithm in use, however many layers use it. */
  documents_digest_t digests[DOCUMENTS_ALG_MAX + 1];
  memset(digests, 0, sizeof digests);
  for (size_t j = 0; j <= rec->n_renewals; j++) {
    unsigned alg = layer_alg(rec, j);
    if (!layer_has_content(rec, j) || digests[alg].alg == alg) continue;
    VE_TRY(documents_digest_file_bytes(&digests[alg], alg, content, len));
  }
  return documents_evidence_verify_digests(rec, digests, policy, res, reason, reason_len);
}

int documents_evidence_anchor_check(const documents_record_t *rec, size_t k,
                                    const documents_record_t *anchored, uint64_t anchored_height,
                                    const uint8_t anchored_root[LEDGER_HASH_BYTES]) {
  if (k >= rec->n_renewals) return VE_ERR_INVALID;
  const documents_renewal_t *rn = &rec->renewals[k];
  if (anchored_height != rn->anchor_height) return VE_ERR_PROOF;
  if (memcmp(anchored_root, rn->anchor_root, LEDGER_HASH_BYTES) != 0) return VE_ERR_PROOF;
  if (anchored->n_renewals != k || memcmp(anchored->id, rec->id, LEDGER_HASH_BYTES) != 0) return VE_ERR_PROOF;
  ve_buf_t a, b;
  ve_buf_init(&a, DOCS_EVIDENCE_BYTES_MAX);
  ve_buf_init(&b, DOCS_EVIDENCE_BYTES_MAX);
  int rc = docs_evidence_prefix_encode(rec, k, &a);
  if (rc == VE_OK) rc = docs_evidence_prefix_encode(anchored, k, &b);
  if (rc == VE_OK && !ve_slice_eq(ve_buf_slice(&a), ve_buf_slice(&b))) rc = VE_ERR_PROOF;
  ve_buf_free(&a);
  ve_buf_free(&b);
  return rc;
}
