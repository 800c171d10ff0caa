/* cert.c — commit certificates and equivocation evidence: canonical encodings and
 * the stand-alone verifiers anyone holding the validator set can run (observers,
 * the ledger, offline auditors) without an engine.
 *
 * A certificate is (height, round, id, [(validator index, precommit signature)])
 * with strictly increasing indices; it proves a commit when the signers hold more
 * than 2/3 of the set's power. Evidence is two different signed messages of one
 * kind by one validator for one (height, round[, vote type]), stored in canonical
 * order so that a pair has exactly one encoding.
 */
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "consensus/cons_int.h"

/* ---- certificates ---- */

int cons_cert_encode(ve_buf_t *out, const cons_cert_t *c) {
  VE_ASSERT(c->count >= 1 && c->count <= VE_VALIDATORS_MAX);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, CONS_WIRE_VERSION);
  codec_put_uvarint(&w, c->height);
  codec_put_uvarint(&w, c->round);
  codec_put_fixed(&w, c->id, CONS_ID_BYTES);
  codec_put_uvarint(&w, c->count);
  for (uint32_t i = 0; i < c->count; i++) {
    VE_ASSERT(i == 0 || c->sigs[i - 1].index < c->sigs[i].index);
    codec_put_uvarint(&w, c->sigs[i].index);
    codec_put_fixed(&w, c->sigs[i].sig, VCRYPTO_SIG_BYTES);
  }
  return codec_writer_finish(&w);
}

int cons_cert_decode(ve_slice_t in, cons_cert_t *out) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(out, 0, sizeof *out);
  if (in.len > CONS_CERT_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (codec_get_u8(&r) != CONS_WIRE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->height = codec_get_uvarint_max(&r, CONS_HEIGHT_MAX);
  if (!r.err && out->height == 0) codec_fail(&r, VE_ERR_INVALID);
  out->round = (uint32_t)codec_get_uvarint_max(&r, CONS_ROUND_MAX);
  codec_get_fixed(&r, out->id, CONS_ID_BYTES);
  size_t n = codec_get_count(&r, VE_VALIDATORS_MAX, 1 + VCRYPTO_SIG_BYTES);
  if (!r.err && n == 0) codec_fail(&r, VE_ERR_MALFORMED);
  for (size_t i = 0; i < n && !r.err; i++) {
    out->sigs[i].index = (uint32_t)codec_get_uvarint_max(&r, VE_VALIDATORS_MAX - 1);
    codec_get_fixed(&r, out->sigs[i].sig, VCRYPTO_SIG_BYTES);
    if (!r.err && i > 0 && out->sigs[i].index <= out->sigs[i - 1].index)
      codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  out->count = (uint32_t)n;
  return codec_reader_finish(&r);
}

int cons_cert_info(ve_slice_t cert, cons_cert_info_t *out) {
  cons_cert_t c;
  memset(out, 0, sizeof *out);
  VE_TRY(cons_cert_decode(cert, &c));
  out->height = c.height;
  out->round = c.round;
  memcpy(out->id, c.id, CONS_ID_BYTES);
  out->count = c.count;
  return VE_OK;
}

int cons_cert_verify_with(const cons_valset_t *vs, const char *chain_id, uint64_t height,
                          const uint8_t id[CONS_ID_BYTES], ve_slice_t cert, cons_verify_fn fn,
                          void *ctx) {
  cons_cert_t c;
  VE_TRY(cons_cert_decode(cert, &c));
  if (c.height != height) return VE_ERR_HEIGHT;
  if (memcmp(c.id, id, CONS_ID_BYTES) != 0) return VE_ERR_HASH_MISMATCH;
  /* Count the claimed power first: a certificate that could not be enough even if
   * every signature were good is refused without any signature work. */
  uint64_t power = 0;
  for (uint32_t i = 0; i < c.count; i++) {
    if (c.sigs[i].index >= vs->count) return VE_ERR_INVALID;
    power += vs->v[c.sigs[i].index].power;
  }
  if (!cons_power_quorum(power, cons_valset_total_power(vs))) return VE_ERR_QUORUM;
  uint8_t sb[CONS_SIGN_BYTES_MAX];
  size_t n = cons_vote_sign_bytes(sb, chain_id, CONS_VOTE_PRECOMMIT, c.height, c.round, true, c.id);
  if (!fn) fn = cons_verify_default;
  for (uint32_t i = 0; i < c.count; i++)
    if (fn(ctx, c.sigs[i].sig, vs->v[c.sigs[i].index].pk, CONS_TAG_VOTE, sb, n) != 0)
      return VE_ERR_BAD_SIG;
  return VE_OK;
}

int cons_cert_verify(const cons_valset_t *vs, const char *chain_id, uint64_t height,
                     const uint8_t id[CONS_ID_BYTES], ve_slice_t cert) {
  return cons_cert_verify_with(vs, chain_id, height, id, cert, NULL, NULL);
}

/* ---- evidence ---- */

/* One of the two signed messages inside evidence. */
typedef struct {
  bool has_id;
  uint8_t id[CONS_ID_BYTES];
  int64_t pol_round; /* proposals only */
  uint8_t sig[VCRYPTO_SIG_BYTES];
} ev_side_t;

typedef struct {
  cons_evidence_info_t info;
  ev_side_t a, b;
} ev_t;

/* Canonical order of the two sides: votes by (has_id, id), proposals by
 * (pol_round, id). Returns <0, 0, >0. */
static int side_cmp(uint8_t kind, const ev_side_t *x, const ev_side_t *y) {
  if (kind == CONS_EVIDENCE_VOTE) {
    if (x->has_id != y->has_id) return x->has_id ? 1 : -1;
    return x->has_id ? memcmp(x->id, y->id, CONS_ID_BYTES) : 0;
  }
  if (x->pol_round != y->pol_round) return x->pol_round < y->pol_round ? -1 : 1;
  return memcmp(x->id, y->id, CONS_ID_BYTES);
}

static void put_side(codec_writer_t *w, uint8_t kind, const ev_side_t *s) {
  if (kind == CONS_EVIDENCE_VOTE) {
    codec_put_bool(w, s->has_id);
    if (s->has_id) codec_put_fixed(w, s->id, CONS_ID_BYTES);
  } else {
    codec_put_uvarint(w, (uint64_t)(s->pol_round + 1));
    codec_put_fixed(w, s->id, CONS_ID_BYTES);
  }
  codec_put_fixed(w, s->sig, VCRYPTO_SIG_BYTES);
}

static void get_side(codec_reader_t *r, const ev_t *ev, ev_side_t *s) {
  memset(s, 0, sizeof *s);
  s->pol_round = -1;
  if (ev->info.kind == CONS_EVIDENCE_VOTE) {
    s->has_id = codec_get_bool(r);
    if (s->has_id) codec_get_fixed(r, s->id, CONS_ID_BYTES);
  } else {
    s->has_id = true;
    s->pol_round = (int64_t)codec_get_uvarint_max(r, ev->info.round) - 1;
    codec_get_fixed(r, s->id, CONS_ID_BYTES);
  }
  codec_get_fixed(r, s->sig, VCRYPTO_SIG_BYTES);
}

static int ev_encode(ve_buf_t *out, ev_t *ev) {
  if (side_cmp(ev->info.kind, &ev->a, &ev->b) > 0) {
    ev_side_t t = ev->a;
    ev->a = ev->b;
    ev->b = t;
  }
  VE_ASSERT(side_cmp(ev->info.kind, &ev->a, &ev->b) < 0);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, CONS_WIRE_VERSION);
  codec_put_u8(&w, ev->info.kind);
  codec_put_uvarint(&w, ev->info.height);
  codec_put_uvarint(&w, ev->info.round);
  codec_put_fixed(&w, ev->info.pk, VCRYPTO_PK_BYTES);
  if (ev->info.kind == CONS_EVIDENCE_VOTE) codec_put_u8(&w, ev->info.type);
  put_side(&w, ev->info.kind, &ev->a);
  put_side(&w, ev->info.kind, &ev->b);
  return codec_writer_finish(&w);
}

static int ev_decode(ve_slice_t in, ev_t *ev) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(ev, 0, sizeof *ev);
  if (in.len > CONS_EVIDENCE_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (codec_get_u8(&r) != CONS_WIRE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  ev->info.kind = codec_get_u8(&r);
  if (!r.err && ev->info.kind != CONS_EVIDENCE_VOTE && ev->info.kind != CONS_EVIDENCE_PROPOSAL)
    codec_fail(&r, VE_ERR_UNKNOWN_TYPE);
  ev->info.height = codec_get_uvarint_max(&r, CONS_HEIGHT_MAX);
  if (!r.err && ev->info.height == 0) codec_fail(&r, VE_ERR_INVALID);
  ev->info.round = (uint32_t)codec_get_uvarint_max(&r, CONS_ROUND_MAX);
  codec_get_fixed(&r, ev->info.pk, VCRYPTO_PK_BYTES);
  if (!r.err && ev->info.kind == CONS_EVIDENCE_VOTE) {
    ev->info.type = codec_get_u8(&r);
    if (!r.err && ev->info.type != CONS_VOTE_PREVOTE && ev->info.type != CONS_VOTE_PRECOMMIT)
      codec_fail(&r, VE_ERR_MALFORMED);
  }
  if (!r.err) get_side(&r, ev, &ev->a);
  if (!r.err) get_side(&r, ev, &ev->b);
  /* Strictly ordered: equal sides are no evidence, swapped sides not canonical. */
  if (!r.err && side_cmp(ev->info.kind, &ev->a, &ev->b) >= 0) codec_fail(&r, VE_ERR_NONCANONICAL);
  return codec_reader_finish(&r);
}

int cons_evidence_vote_encode(ve_buf_t *out, const uint8_t pk[VCRYPTO_PK_BYTES],
                              const cons_vote_t *a, const cons_vote_t *b) {
  VE_ASSERT(a->height == b->height && a->round == b->round && a->type == b->type);
  ev_t ev;
  memset(&ev, 0, sizeof ev);
  ev.info.kind = CONS_EVIDENCE_VOTE;
  ev.info.type = a->type;
  ev.info.height = a->height;
  ev.info.round = a->round;
  memcpy(ev.info.pk, pk, VCRYPTO_PK_BYTES);
  const cons_vote_t *src[2] = {a, b};
  ev_side_t *dst[2] = {&ev.a, &ev.b};
  for (int i = 0; i < 2; i++) {
    dst[i]->has_id = src[i]->has_id;
    if (src[i]->has_id) memcpy(dst[i]->id, src[i]->id, CONS_ID_BYTES);
    dst[i]->pol_round = -1;
    memcpy(dst[i]->sig, src[i]->sig, VCRYPTO_SIG_BYTES);
  }
  return ev_encode(out, &ev);
}

int cons_evidence_proposal_encode(ve_buf_t *out, const uint8_t pk[VCRYPTO_PK_BYTES],
                                  const cons_proposal_t *a, const cons_proposal_t *b) {
  VE_ASSERT(a->height == b->height && a->round == b->round);
  ev_t ev;
  memset(&ev, 0, sizeof ev);
  ev.info.kind = CONS_EVIDENCE_PROPOSAL;
  ev.info.height = a->height;
  ev.info.round = a->round;
  memcpy(ev.info.pk, pk, VCRYPTO_PK_BYTES);
  const cons_proposal_t *src[2] = {a, b};
  ev_side_t *dst[2] = {&ev.a, &ev.b};
  for (int i = 0; i < 2; i++) {
    dst[i]->has_id = true;
    memcpy(dst[i]->id, src[i]->id, CONS_ID_BYTES);
    dst[i]->pol_round = src[i]->pol_round;
    memcpy(dst[i]->sig, src[i]->sig, VCRYPTO_SIG_BYTES);
  }
  return ev_encode(out, &ev);
}

int cons_evidence_info(ve_slice_t in, cons_evidence_info_t *out) {
  ev_t ev;
  int rc = ev_decode(in, &ev);
  *out = ev.info;
  return rc;
}

static int side_verify(const ev_t *ev, const ev_side_t *s, const char *chain_id,
                       cons_verify_fn fn, void *ctx) {
  uint8_t sb[CONS_SIGN_BYTES_MAX];
  size_t n;
  const char *tag;
  if (ev->info.kind == CONS_EVIDENCE_VOTE) {
    n = cons_vote_sign_bytes(sb, chain_id, ev->info.type, ev->info.height, ev->info.round,
                             s->has_id, s->id);
    tag = CONS_TAG_VOTE;
  } else {
    n = cons_proposal_sign_bytes(sb, chain_id, ev->info.height, ev->info.round, s->pol_round,
                                 s->id);
    tag = CONS_TAG_PROPOSAL;
  }
  return fn(ctx, s->sig, ev->info.pk, tag, sb, n) == 0 ? VE_OK : VE_ERR_BAD_SIG;
}

int cons_evidence_verify_with(const cons_valset_t *vs, const char *chain_id, ve_slice_t in,
                              cons_verify_fn fn, void *ctx) {
  ev_t ev;
  VE_TRY(ev_decode(in, &ev));
  if (cons_valset_find(vs, ev.info.pk) < 0) return VE_ERR_UNKNOWN_SIGNER;
  if (!fn) fn = cons_verify_default;
  VE_TRY(side_verify(&ev, &ev.a, chain_id, fn, ctx));
  return side_verify(&ev, &ev.b, chain_id, fn, ctx);
}

int cons_evidence_verify(const cons_valset_t *vs, const char *chain_id, ve_slice_t ev) {
  return cons_evidence_verify_with(vs, chain_id, ev, NULL, NULL);
}

int cons_evidence_from_certs(const cons_valset_t *vs, const char *chain_id, uint64_t height,
                             const uint8_t id_a[CONS_ID_BYTES], ve_slice_t cert_a,
                             const uint8_t id_b[CONS_ID_BYTES], ve_slice_t cert_b,
                             ve_buf_t out[VE_VALIDATORS_MAX], size_t *count) {
  *count = 0;
  if (memcmp(id_a, id_b, CONS_ID_BYTES) == 0) return VE_ERR_INVALID;
  VE_TRY(cons_cert_verify(vs, chain_id, height, id_a, cert_a));
  VE_TRY(cons_cert_verify(vs, chain_id, height, id_b, cert_b));
  cons_cert_t ca, cb; /* ~9 KiB each */
  VE_TRY(cons_cert_decode(cert_a, &ca));
  VE_TRY(cons_cert_decode(cert_b, &cb));
  if (ca.round != cb.round) return VE_OK;
  uint32_t i = 0, j = 0;
  while (i < ca.count && j < cb.count) {
    if (ca.sigs[i].index < cb.sigs[j].index) {
      i++;
    } else if (ca.sigs[i].index > cb.sigs[j].index) {
      j++;
    } else {
      cons_vote_t va = {height, ca.round, CONS_VOTE_PRECOMMIT, ca.sigs[i].index, true, {0}, {0}};
      cons_vote_t vb = va;
      memcpy(va.id, id_a, CONS_ID_BYTES);
      memcpy(va.sig, ca.sigs[i].sig, VCRYPTO_SIG_BYTES);
      memcpy(vb.id, id_b, CONS_ID_BYTES);
      memcpy(vb.sig, cb.sigs[j].sig, VCRYPTO_SIG_BYTES);
      ve_buf_init(&out[*count], CONS_EVIDENCE_BYTES_MAX);
      int rc = cons_evidence_vote_encode(&out[*count], vs->v[ca.sigs[i].index].pk, &va, &vb);
      (*count)++;
      if (rc) return rc;
      i++;
      j++;
    }
  }
  return VE_OK;
}
