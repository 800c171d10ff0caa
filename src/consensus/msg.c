/* msg.c — the canonical wire encoding of consensus messages, the exact bytes each
 * signature covers, and the persisted "about to sign" records.
 *
 * Every decoder is strict: fields appear in one order, integers are minimal
 * uvarints with named maxima, lists are bounded and sorted where order is free, and
 * trailing bytes are refused, so decode(encode(m)) == m and encode(decode(b)) == b.
 * Layouts are in docs/consensus.md ("Encoding").
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "consensus/cons_int.h"

/* ---- signed bytes (fixed buffer, no allocation on the hot path) ---- */

static size_t put_chain(uint8_t *out, const char *chain_id) {
  size_t len = strlen(chain_id);
  VE_ASSERT(len >= 1 && len <= VE_CHAIN_ID_BYTES_MAX);
  size_t n = codec_uvarint_encode(out, len);
  memcpy(out + n, chain_id, len);
  return n + len;
}

size_t cons_vote_sign_bytes(uint8_t *out, const char *chain_id, uint8_t type, uint64_t height,
                            uint32_t round, bool has_id, const uint8_t id[CONS_ID_BYTES]) {
  size_t n = 0;
  out[n++] = type;
  n += put_chain(out + n, chain_id);
  n += codec_uvarint_encode(out + n, height);
  n += codec_uvarint_encode(out + n, round);
  out[n++] = has_id ? 1 : 0;
  if (has_id) {
    memcpy(out + n, id, CONS_ID_BYTES);
    n += CONS_ID_BYTES;
  }
  VE_ASSERT(n <= CONS_SIGN_BYTES_MAX);
  return n;
}

size_t cons_proposal_sign_bytes(uint8_t *out, const char *chain_id, uint64_t height,
                                uint32_t round, int64_t pol_round,
                                const uint8_t id[CONS_ID_BYTES]) {
  size_t n = 0;
  out[n++] = CONS_TYPE_PROPOSAL;
  n += put_chain(out + n, chain_id);
  n += codec_uvarint_encode(out + n, height);
  n += codec_uvarint_encode(out + n, round);
  n += codec_uvarint_encode(out + n, (uint64_t)(pol_round + 1));
  memcpy(out + n, id, CONS_ID_BYTES);
  n += CONS_ID_BYTES;
  VE_ASSERT(n <= CONS_SIGN_BYTES_MAX);
  return n;
}

void cons_vote_sign(cons_vote_t *v, const vcrypto_keypair_t *kp, const char *chain_id) {
  uint8_t sb[CONS_SIGN_BYTES_MAX];
  size_t n = cons_vote_sign_bytes(sb, chain_id, v->type, v->height, v->round, v->has_id, v->id);
  vcrypto_sign(v->sig, kp, CONS_TAG_VOTE, sb, n);
}

void cons_proposal_sign(cons_proposal_t *p, const vcrypto_keypair_t *kp, const char *chain_id) {
  uint8_t sb[CONS_SIGN_BYTES_MAX];
  size_t n = cons_proposal_sign_bytes(sb, chain_id, p->height, p->round, p->pol_round, p->id);
  vcrypto_sign(p->sig, kp, CONS_TAG_PROPOSAL, sb, n);
}

int cons_verify_default(void *ctx, const uint8_t sig[VCRYPTO_SIG_BYTES],
                        const uint8_t pk[VCRYPTO_PK_BYTES], const char *tag, const uint8_t *msg,
                        size_t msg_len) {
  (void)ctx;
  return vcrypto_verify(sig, pk, tag, msg, msg_len);
}

int cons_vote_verify(const cons_vote_t *v, const uint8_t pk[VCRYPTO_PK_BYTES],
                     const char *chain_id, cons_verify_fn fn, void *ctx) {
  uint8_t sb[CONS_SIGN_BYTES_MAX];
  size_t n = cons_vote_sign_bytes(sb, chain_id, v->type, v->height, v->round, v->has_id, v->id);
  if (!fn) fn = cons_verify_default;
  return fn(ctx, v->sig, pk, CONS_TAG_VOTE, sb, n) == 0 ? VE_OK : VE_ERR_BAD_SIG;
}

int cons_proposal_verify(const cons_proposal_t *p, const uint8_t pk[VCRYPTO_PK_BYTES],
                         const char *chain_id, cons_verify_fn fn, void *ctx) {
  uint8_t sb[CONS_SIGN_BYTES_MAX];
  size_t n = cons_proposal_sign_bytes(sb, chain_id, p->height, p->round, p->pol_round, p->id);
  if (!fn) fn = cons_verify_default;
  return fn(ctx, p->sig, pk, CONS_TAG_PROPOSAL, sb, n) == 0 ? VE_OK : VE_ERR_BAD_SIG;
}

/* ---- shared field helpers ---- */

static void put_header(codec_writer_t *w, uint8_t type) {
  codec_put_u8(w, CONS_WIRE_VERSION);
  codec_put_u8(w, type);
}

static uint64_t get_height(codec_reader_t *r) {
  uint64_t h = codec_get_uvarint_max(r, CONS_HEIGHT_MAX);
  if (!r->err && h == 0) codec_fail(r, VE_ERR_INVALID);
  return h;
}

static uint32_t get_round(codec_reader_t *r) {
  return (uint32_t)codec_get_uvarint_max(r, CONS_ROUND_MAX);
}

static uint8_t get_vote_type(codec_reader_t *r) {
  uint8_t t = codec_get_u8(r);
  if (!r->err && t != CONS_VOTE_PREVOTE && t != CONS_VOTE_PRECOMMIT)
    codec_fail(r, VE_ERR_MALFORMED);
  return t;
}

static void put_opt_id(codec_writer_t *w, bool has_id, const uint8_t id[CONS_ID_BYTES]) {
  codec_put_bool(w, has_id);
  if (has_id) codec_put_fixed(w, id, CONS_ID_BYTES);
}

static bool get_opt_id(codec_reader_t *r, uint8_t id[CONS_ID_BYTES]) {
  bool has = codec_get_bool(r);
  if (has)
    codec_get_fixed(r, id, CONS_ID_BYTES);
  else
    memset(id, 0, CONS_ID_BYTES);
  return has;
}

/* ---- messages ---- */

int cons_proposal_encode(ve_buf_t *out, const cons_proposal_t *p) {
  VE_ASSERT(p->pol_round >= -1 && p->pol_round < (int64_t)p->round);
  codec_writer_t w;
  codec_writer_init(&w, out);
  put_header(&w, CONS_MSG_PROPOSAL);
  codec_put_uvarint(&w, p->height);
  codec_put_uvarint(&w, p->round);
  codec_put_uvarint(&w, (uint64_t)(p->pol_round + 1));
  codec_put_fixed(&w, p->id, CONS_ID_BYTES);
  codec_put_bytes(&w, p->value.ptr, p->value.len, CONS_VALUE_BYTES_MAX);
  codec_put_fixed(&w, p->sig, VCRYPTO_SIG_BYTES);
  return codec_writer_finish(&w);
}

static void put_vote_body(codec_writer_t *w, const cons_vote_t *v) {
  codec_put_uvarint(w, v->round);
  codec_put_u8(w, v->type);
  codec_put_uvarint(w, v->index);
  put_opt_id(w, v->has_id, v->id);
  codec_put_fixed(w, v->sig, VCRYPTO_SIG_BYTES);
}

static void get_vote_body(codec_reader_t *r, uint64_t height, cons_vote_t *v) {
  v->height = height;
  v->round = get_round(r);
  v->type = get_vote_type(r);
  v->index = (uint32_t)codec_get_uvarint_max(r, VE_VALIDATORS_MAX - 1);
  v->has_id = get_opt_id(r, v->id);
  codec_get_fixed(r, v->sig, VCRYPTO_SIG_BYTES);
}

int cons_vote_encode(ve_buf_t *out, const cons_vote_t *v) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  put_header(&w, CONS_MSG_VOTE);
  codec_put_uvarint(&w, v->height);
  put_vote_body(&w, v);
  return codec_writer_finish(&w);
}

/* Batch order: (round, type, index) strictly increasing. */
static int vote_order(const cons_vote_t *a, const cons_vote_t *b) {
  if (a->round != b->round) return a->round < b->round ? -1 : 1;
  if (a->type != b->type) return a->type < b->type ? -1 : 1;
  if (a->index != b->index) return a->index < b->index ? -1 : 1;
  return 0;
}

int cons_votes_encode(ve_buf_t *out, const cons_vote_t *votes, size_t count) {
  VE_ASSERT(count >= 1 && count <= CONS_BATCH_VOTES_MAX);
  codec_writer_t w;
  codec_writer_init(&w, out);
  put_header(&w, CONS_MSG_VOTES);
  codec_put_uvarint(&w, votes[0].height);
  codec_put_uvarint(&w, count);
  for (size_t i = 0; i < count; i++) {
    VE_ASSERT(votes[i].height == votes[0].height);
    VE_ASSERT(i == 0 || vote_order(&votes[i - 1], &votes[i]) < 0);
    put_vote_body(&w, &votes[i]);
  }
  return codec_writer_finish(&w);
}

int cons_status_encode(ve_buf_t *out, const cons_status_msg_t *s) {
  codec_writer_t w;
  codec_writer_init(&w, out);
  put_header(&w, CONS_MSG_STATUS);
  codec_put_uvarint(&w, s->height);
  codec_put_uvarint(&w, s->round);
  codec_put_bool(&w, s->has_proposal);
  return codec_writer_finish(&w);
}

int cons_decision_encode(ve_buf_t *out, uint64_t height, const uint8_t id[CONS_ID_BYTES],
                         ve_slice_t value, ve_slice_t cert) {
  if (height == 0 || height > CONS_HEIGHT_MAX) return VE_ERR_INVALID;
  codec_writer_t w;
  codec_writer_init(&w, out);
  put_header(&w, CONS_MSG_DECISION);
  codec_put_uvarint(&w, height);
  codec_put_fixed(&w, id, CONS_ID_BYTES);
  codec_put_bytes(&w, value.ptr, value.len, CONS_VALUE_BYTES_MAX);
  codec_put_bytes(&w, cert.ptr, cert.len, CONS_CERT_BYTES_MAX);
  return codec_writer_finish(&w);
}

/* Minimum encoded size of one batch item: round, type, index, has_id, sig. */
#define VOTE_ITEM_BYTES_MIN (1 + 1 + 1 + 1 + VCRYPTO_SIG_BYTES)

static void decode_votes(codec_reader_t *r, cons_msg_t *out, cons_vote_t *votes) {
  size_t n = codec_get_count(r, CONS_BATCH_VOTES_MAX, VOTE_ITEM_BYTES_MIN);
  if (!r->err && n == 0) codec_fail(r, VE_ERR_MALFORMED);
  cons_vote_t prev, cur;
  memset(&prev, 0, sizeof prev);
  for (size_t i = 0; i < n && !r->err; i++) {
    get_vote_body(r, out->height, &cur);
    if (i > 0 && vote_order(&prev, &cur) >= 0) codec_fail(r, VE_ERR_NONCANONICAL);
    if (votes) votes[i] = cur;
    prev = cur;
  }
  out->votes_count = n;
}

int cons_msg_decode(ve_slice_t in, cons_msg_t *out, cons_vote_t *votes) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(out, 0, sizeof *out);
  if (in.len > CONS_MSG_BYTES_MAX) return VE_ERR_TOO_BIG;
  if (codec_get_u8(&r) != CONS_WIRE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->type = codec_get_u8(&r);
  out->height = get_height(&r);
  /* Dispatch only on a header that decoded: type 0 is no message (it used to
   * share the "header failed" case and decoded as an empty message). */
  switch (r.err ? -1 : out->type) {
    case CONS_MSG_PROPOSAL: {
      cons_proposal_t *p = &out->proposal;
      p->height = out->height;
      p->round = get_round(&r);
      uint64_t pol1 = codec_get_uvarint_max(&r, p->round);
      p->pol_round = (int64_t)pol1 - 1;
      codec_get_fixed(&r, p->id, CONS_ID_BYTES);
      p->value = codec_get_bytes(&r, CONS_VALUE_BYTES_MAX);
      codec_get_fixed(&r, p->sig, VCRYPTO_SIG_BYTES);
      break;
    }
    case CONS_MSG_VOTE:
      get_vote_body(&r, out->height, &out->vote);
      break;
    case CONS_MSG_VOTES:
      decode_votes(&r, out, votes);
      break;
    case CONS_MSG_STATUS:
      out->status.height = out->height;
      out->status.round = get_round(&r);
      out->status.has_proposal = codec_get_bool(&r);
      break;
    case CONS_MSG_DECISION:
      out->decision.height = out->height;
      codec_get_fixed(&r, out->decision.id, CONS_ID_BYTES);
      out->decision.value = codec_get_bytes(&r, CONS_VALUE_BYTES_MAX);
      out->decision.cert = codec_get_bytes(&r, CONS_CERT_BYTES_MAX);
      break;
    case -1:
      break;
    default:
      codec_fail(&r, VE_ERR_UNKNOWN_TYPE);
  }
  return codec_reader_finish(&r);
}

/* ---- records ---- */

int cons_record_encode(ve_buf_t *out, const cons_record_t *rec) {
  VE_ASSERT(rec->type >= CONS_TYPE_PROPOSAL && rec->type <= CONS_VOTE_PRECOMMIT);
  VE_ASSERT(rec->type != CONS_TYPE_PROPOSAL || rec->has_id);
  VE_ASSERT(rec->pol_round >= -1 && rec->pol_round < (int64_t)rec->round);
  VE_ASSERT(rec->type == CONS_TYPE_PROPOSAL || rec->pol_round == -1);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, CONS_WIRE_VERSION);
  codec_put_u8(&w, rec->type);
  codec_put_uvarint(&w, rec->height);
  codec_put_uvarint(&w, rec->round);
  put_opt_id(&w, rec->has_id, rec->id);
  codec_put_uvarint(&w, (uint64_t)(rec->pol_round + 1));
  return codec_writer_finish(&w);
}

int cons_record_decode(ve_slice_t in, cons_record_t *out) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(out, 0, sizeof *out);
  if (codec_get_u8(&r) != CONS_WIRE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->type = codec_get_u8(&r);
  if (!r.err && (out->type < CONS_TYPE_PROPOSAL || out->type > CONS_VOTE_PRECOMMIT))
    codec_fail(&r, VE_ERR_MALFORMED);
  out->height = get_height(&r);
  out->round = get_round(&r);
  out->has_id = get_opt_id(&r, out->id);
  uint64_t pol1 = codec_get_uvarint_max(&r, out->round);
  out->pol_round = (int64_t)pol1 - 1;
  if (!r.err && out->type == CONS_TYPE_PROPOSAL && !out->has_id) codec_fail(&r, VE_ERR_MALFORMED);
  if (!r.err && out->type != CONS_TYPE_PROPOSAL && pol1 != 0) codec_fail(&r, VE_ERR_MALFORMED);
  return codec_reader_finish(&r);
}

/* Lock: version · type 4 · height · round · fixed[32] id · bool has_value ·
 * [bytes value] · uvarint count · count × (uvarint index, fixed[64] sig),
 * indexes strictly increasing. */
int cons_lock_encode(ve_buf_t *out, const cons_lock_t *l) {
  VE_ASSERT(l->count >= 1 && l->count <= VE_VALIDATORS_MAX);
  VE_ASSERT(l->has_value || l->value.len == 0);
  codec_writer_t w;
  codec_writer_init(&w, out);
  put_header(&w, CONS_REC_LOCK);
  codec_put_uvarint(&w, l->height);
  codec_put_uvarint(&w, l->round);
  codec_put_fixed(&w, l->id, CONS_ID_BYTES);
  codec_put_bool(&w, l->has_value);
  if (l->has_value) codec_put_bytes(&w, l->value.ptr, l->value.len, CONS_VALUE_BYTES_MAX);
  codec_put_uvarint(&w, l->count);
  for (uint32_t i = 0; i < l->count; i++) {
    VE_ASSERT(i == 0 || l->votes[i - 1].index < l->votes[i].index);
    VE_ASSERT(l->votes[i].index < VE_VALIDATORS_MAX);
    codec_put_uvarint(&w, l->votes[i].index);
    codec_put_fixed(&w, l->votes[i].sig, VCRYPTO_SIG_BYTES);
  }
  return codec_writer_finish(&w);
}

int cons_lock_decode(ve_slice_t in, cons_lock_t *out) {
  codec_reader_t r;
  codec_reader_init(&r, in);
  memset(out, 0, sizeof *out);
  if (codec_get_u8(&r) != CONS_WIRE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  if (codec_get_u8(&r) != CONS_REC_LOCK && !r.err) codec_fail(&r, VE_ERR_MALFORMED);
  out->height = get_height(&r);
  out->round = get_round(&r);
  codec_get_fixed(&r, out->id, CONS_ID_BYTES);
  out->has_value = codec_get_bool(&r);
  if (out->has_value) out->value = codec_get_bytes(&r, CONS_VALUE_BYTES_MAX);
  uint64_t count = codec_get_uvarint_max(&r, VE_VALIDATORS_MAX);
  if (!r.err && count == 0) codec_fail(&r, VE_ERR_MALFORMED);
  for (uint64_t i = 0; !r.err && i < count; i++) {
    cons_cert_sig_t *v = &out->votes[i];
    v->index = (uint32_t)codec_get_uvarint_max(&r, VE_VALIDATORS_MAX - 1);
    codec_get_fixed(&r, v->sig, VCRYPTO_SIG_BYTES);
    if (!r.err && i > 0 && out->votes[i - 1].index >= v->index) codec_fail(&r, VE_ERR_NONCANONICAL);
  }
  out->count = r.err ? 0 : (uint32_t)count;
  return codec_reader_finish(&r);
}

int cons_record_height(ve_slice_t rec, uint64_t *height) {
  if (cons_record_is_lock(rec)) {
    cons_lock_t *l = malloc(sizeof *l);
    if (!l) return VE_ERR_NOMEM;
    int rc = cons_lock_decode(rec, l);
    *height = l->height;
    free(l);
    return rc;
  }
  cons_record_t r;
  VE_TRY(cons_record_decode(rec, &r));
  *height = r.height;
  return VE_OK;
}

int cons_msg_status_height(ve_slice_t msg, uint64_t *height_out) {
  if (msg.len < 2 || msg.ptr[0] != CONS_WIRE_VERSION || msg.ptr[1] != CONS_MSG_STATUS) return VE_ERR_NOT_FOUND;
  cons_msg_t m;
  VE_TRY(cons_msg_decode(msg, &m, NULL));
  *height_out = m.status.height;
  return VE_OK;
}
