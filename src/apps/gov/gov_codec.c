/* gov_codec.c — the canonical encodings of the council app (gov.h;
 * byte layouts in docs/governance.md §5): the council value, proposal records,
 * the four payloads, the council approval message, ids and keys. One encoding
 * per value: every decoder is strict (trailing bytes, unknown version,
 * non-minimal integers, oversize fields refused) and refuses exactly what its
 * encoder refuses, so encode(decode(b)) == b for every accepted b. An encoder
 * that refuses a value appends nothing.
 *
 * What the codec cannot judge is left to execution: approval and objection
 * bitmaps against the council's n, open_ms against its limits, the inner type
 * against GOV_INNER_TYPE_MIN (a client may build such a payload; the chain
 * refuses it with VE_ERR_INVALID). */
#include <string.h>

#include "apps/gov/gov.h"
#include "base/err.h"

#define GOV_VERSION 1 /* of every payload and stored value */

_Static_assert(VE_CHAIN_ID_BYTES_MAX <= 255, "the approval message's chain id length is a u8");
_Static_assert(GOV_COUNCIL_MAX == 64, "approval bitmaps are one u64");

/* ---- ids, names, small helpers ---- */

void gov_proposal_id(uint8_t out[LEDGER_HASH_BYTES], const uint8_t proposer_id[LEDGER_HASH_BYTES], uint64_t seq) {
  uint8_t be[8];
  ve_be64_put(be, seq);
  vcrypto_hasher_t h;
  vcrypto_hasher_init(&h, GOV_TAG_PROPOSAL);
  vcrypto_hasher_update(&h, proposer_id, LEDGER_HASH_BYTES);
  vcrypto_hasher_update(&h, be, sizeof be);
  vcrypto_hasher_final(&h, out);
}

const char *gov_status_name(gov_status_t s) {
  switch (s) {
    case GOV_OPEN: return "open";
    case GOV_EXECUTED: return "executed";
    case GOV_REJECTED: return "rejected";
    case GOV_EXPIRED: return "expired";
    case GOV_STALE: return "stale";
  }
  return "unknown";
}

/* A council change outranks the clock: a proposal of an old council is STALE
 * whatever its deadline (execution answers VE_ERR_STATE before it looks at
 * the time, gov.c). */
gov_status_t gov_proposal_status(const gov_proposal_t *p, uint64_t council_epoch, uint64_t now_ms) {
  if (p->status != GOV_OPEN) return p->status;
  if (p->epoch != council_epoch) return GOV_STALE;
  if (now_ms > p->deadline_ms) return GOV_EXPIRED;
  return GOV_OPEN;
}

uint32_t gov_threshold_min(uint32_t n) { return n / 2 + 1; }

uint32_t gov_count(uint64_t bitmap) {
  uint32_t c = 0;
  for (; bitmap; bitmap &= bitmap - 1) c++;
  return c;
}

int gov_member_index(const gov_council_t *c, const uint8_t id[LEDGER_HASH_BYTES]) {
  for (uint32_t i = 0; i < c->n && i < GOV_COUNCIL_MAX; i++)
    if (!memcmp(c->members[i], id, LEDGER_HASH_BYTES)) return (int)i;
  return -1;
}

size_t gov_proposal_key(uint8_t out[6 + LEDGER_HASH_BYTES], const uint8_t id[LEDGER_HASH_BYTES]) {
  memcpy(out, GOV_PROPOSAL_PREFIX, 6);
  memcpy(out + 6, id, LEDGER_HASH_BYTES);
  return 6 + LEDGER_HASH_BYTES;
}

/* ---- the council ---- */

/* n in 1..GOV_COUNCIL_MAX, n/2 < k <= n, ids strictly increasing (so unique). */
static int council_body_check(const gov_council_t *c) {
  if (c->n == 0 || c->n > GOV_COUNCIL_MAX) return c->n ? VE_ERR_TOO_BIG : VE_ERR_INVALID;
  if (c->k < gov_threshold_min(c->n) || c->k > c->n) return VE_ERR_INVALID;
  for (uint32_t i = 1; i < c->n; i++)
    if (memcmp(c->members[i - 1], c->members[i], LEDGER_HASH_BYTES) >= 0) return VE_ERR_INVALID;
  return VE_OK;
}

/* uvarint k | uvarint n | n × fixed32 id: shared by the stored value and the
 * COUNCIL_SET payload. */
static void council_body_put(codec_writer_t *w, const gov_council_t *c) {
  codec_put_uvarint(w, c->k);
  codec_put_uvarint(w, c->n);
  for (uint32_t i = 0; i < c->n; i++) codec_put_fixed(w, c->members[i], LEDGER_HASH_BYTES);
}

static void council_body_get(codec_reader_t *r, gov_council_t *c) {
  c->k = (uint32_t)codec_get_uvarint_max(r, GOV_COUNCIL_MAX);
  c->n = (uint32_t)codec_get_count(r, GOV_COUNCIL_MAX, LEDGER_HASH_BYTES);
  for (uint32_t i = 0; i < c->n && !r->err; i++) codec_get_fixed(r, c->members[i], LEDGER_HASH_BYTES);
  if (!r->err) {
    int rc = council_body_check(c);
    if (rc) codec_fail(r, rc);
  }
}

/* The stored council has an epoch >= 1 (the first council is epoch 1). */
int gov_council_encode(ve_buf_t *out, const gov_council_t *c) {
  VE_TRY(council_body_check(c));
  if (c->epoch == 0) return VE_ERR_INVALID;
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, GOV_VERSION);
  codec_put_uvarint(&w, c->epoch);
  council_body_put(&w, c);
  int rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

int gov_council_decode(ve_slice_t in, gov_council_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, in);
  if (codec_get_u8(&r) != GOV_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->epoch = codec_get_uvarint(&r);
  if (!r.err && out->epoch == 0) codec_fail(&r, VE_ERR_INVALID);
  council_body_get(&r, out);
  int rc = codec_reader_finish(&r);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

int gov_council_hash(uint8_t out[VCRYPTO_HASH_BYTES], const gov_council_t *c) {
  uint8_t mem[GOV_COUNCIL_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(gov_council_encode(&b, c));
  vcrypto_hash(out, GOV_TAG_COUNCIL_HASH, mem, b.len);
  return VE_OK;
}

/* ---- proposal records ---- */

/* What execution can have written (gov.c): status OPEN, EXECUTED or REJECTED,
 * decided set exactly when closed, an inner type an action may have, the
 * proposer's approval in (approvals never empty), no member on both sides. */
static int proposal_check(const gov_proposal_t *p) {
  if ((unsigned)p->status > GOV_REJECTED) return VE_ERR_INVALID;
  if ((p->status == GOV_OPEN) != (p->decided == 0)) return VE_ERR_INVALID;
  if (p->epoch == 0) return VE_ERR_INVALID;
  if (p->inner_type < GOV_INNER_TYPE_MIN || p->inner_type > LEDGER_TX_TYPE_MAX) return VE_ERR_INVALID;
  if (p->approvals == 0 || (p->approvals & p->rejections)) return VE_ERR_INVALID;
  if (p->inner_payload.len > GOV_ACTION_BYTES_MAX || p->note.len > GOV_NOTE_BYTES_MAX) return VE_ERR_TOO_BIG;
  return VE_OK;
}

static void put_be64(codec_writer_t *w, uint64_t v) {
  uint8_t be[8];
  ve_be64_put(be, v);
  codec_put_fixed(w, be, sizeof be);
}

static uint64_t get_be64(codec_reader_t *r) {
  uint8_t be[8];
  codec_get_fixed(r, be, sizeof be);
  return ve_be64_get(be);
}

int gov_proposal_encode(ve_buf_t *out, const gov_proposal_t *p) {
  VE_TRY(proposal_check(p));
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, GOV_VERSION);
  codec_put_u8(&w, (uint8_t)p->status);
  codec_put_uvarint(&w, p->epoch);
  codec_put_fixed(&w, p->proposer, LEDGER_HASH_BYTES);
  codec_put_fixed(&w, p->proposer_pk, VCRYPTO_PK_BYTES);
  codec_put_uvarint(&w, p->seq);
  codec_put_uvarint(&w, p->created);
  codec_put_uvarint(&w, p->deadline_ms);
  codec_put_uvarint(&w, p->inner_type);
  codec_put_bytes(&w, p->inner_payload.ptr, p->inner_payload.len, GOV_ACTION_BYTES_MAX);
  codec_put_bytes(&w, p->note.ptr, p->note.len, GOV_NOTE_BYTES_MAX);
  put_be64(&w, p->approvals);
  put_be64(&w, p->rejections);
  codec_put_uvarint(&w, p->decided);
  int rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

int gov_proposal_decode(ve_slice_t in, const uint8_t id[LEDGER_HASH_BYTES], gov_proposal_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, in);
  if (codec_get_u8(&r) != GOV_VERSION) codec_fail(&r, VE_ERR_VERSION);
  uint8_t status = codec_get_u8(&r);
  out->status = (gov_status_t)(status <= GOV_REJECTED ? status : GOV_OPEN);
  if (!r.err && status > GOV_REJECTED) codec_fail(&r, VE_ERR_INVALID);
  out->epoch = codec_get_uvarint(&r);
  codec_get_fixed(&r, out->proposer, LEDGER_HASH_BYTES);
  codec_get_fixed(&r, out->proposer_pk, VCRYPTO_PK_BYTES);
  out->seq = codec_get_uvarint(&r);
  out->created = codec_get_uvarint(&r);
  out->deadline_ms = codec_get_uvarint(&r);
  out->inner_type = (uint32_t)codec_get_uvarint_max(&r, LEDGER_TX_TYPE_MAX);
  out->inner_payload = codec_get_bytes(&r, GOV_ACTION_BYTES_MAX);
  out->note = codec_get_bytes(&r, GOV_NOTE_BYTES_MAX);
  out->approvals = get_be64(&r);
  out->rejections = get_be64(&r);
  out->decided = codec_get_uvarint(&r);
  if (!r.err) {
    int rc = proposal_check(out);
    if (rc) codec_fail(&r, rc);
  }
  int rc = codec_reader_finish(&r);
  if (rc) memset(out, 0, sizeof *out);
  else memcpy(out->id, id, LEDGER_HASH_BYTES);
  return rc;
}

/* ---- payloads ---- */

int gov_payload_propose(ve_buf_t *out, uint64_t open_ms, uint32_t inner_type, ve_slice_t inner_payload,
                        ve_slice_t note) {
  if (inner_type > LEDGER_TX_TYPE_MAX) return VE_ERR_TOO_BIG;
  if (inner_payload.len > GOV_ACTION_BYTES_MAX || note.len > GOV_NOTE_BYTES_MAX) return VE_ERR_TOO_BIG;
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, GOV_VERSION);
  codec_put_uvarint(&w, open_ms);
  codec_put_uvarint(&w, inner_type);
  codec_put_bytes(&w, inner_payload.ptr, inner_payload.len, GOV_ACTION_BYTES_MAX);
  codec_put_bytes(&w, note.ptr, note.len, GOV_NOTE_BYTES_MAX);
  int rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

int gov_propose_decode(ve_slice_t payload, gov_propose_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != GOV_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->open_ms = codec_get_uvarint(&r);
  out->inner_type = (uint32_t)codec_get_uvarint_max(&r, LEDGER_TX_TYPE_MAX);
  out->inner_payload = codec_get_bytes(&r, GOV_ACTION_BYTES_MAX);
  out->note = codec_get_bytes(&r, GOV_NOTE_BYTES_MAX);
  int rc = codec_reader_finish(&r);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

int gov_payload_vote(ve_buf_t *out, const uint8_t proposal_id[LEDGER_HASH_BYTES]) {
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, GOV_VERSION);
  codec_put_fixed(&w, proposal_id, LEDGER_HASH_BYTES);
  int rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

int gov_vote_decode(ve_slice_t payload, uint8_t proposal_id[LEDGER_HASH_BYTES]) {
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != GOV_VERSION) codec_fail(&r, VE_ERR_VERSION);
  codec_get_fixed(&r, proposal_id, LEDGER_HASH_BYTES);
  int rc = codec_reader_finish(&r);
  if (rc) memset(proposal_id, 0, LEDGER_HASH_BYTES);
  return rc;
}

int gov_council_set_encode(ve_buf_t *out, const gov_council_set_t *s) {
  VE_TRY(council_body_check(&s->council));
  size_t mark = out->len;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, GOV_VERSION);
  council_body_put(&w, &s->council);
  int rc = valset_approvals_put(&w, s->approvals, s->n_approvals);
  if (rc == VE_OK) rc = codec_writer_finish(&w);
  if (rc) out->len = mark;
  return rc;
}

/* The council's epoch is not in the payload: execution sets it (current + 1). */
int gov_council_set_decode(ve_slice_t payload, gov_council_set_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != GOV_VERSION) codec_fail(&r, VE_ERR_VERSION);
  council_body_get(&r, &out->council);
  valset_approvals_get(&r, out->approvals, &out->n_approvals);
  int rc = codec_reader_finish(&r);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

/* ---- council approvals ---- */

/* u8 len(chain_id) || chain_id || be64(epoch) || H_council || H_set: the
 * layout of a validator-set approval, so valset_approval_msg builds it; the
 * signing tag (GOV_TAG_COUNCIL) keeps the two purposes apart. Returns 0 for a
 * council that cannot be hashed (fails gov_council_encode): no message exists
 * for it, and execution refuses such a council anyway. */
size_t gov_council_approval_msg(uint8_t *out, const char *chain_id, const gov_council_t *c,
                                const uint8_t set_hash[VCRYPTO_HASH_BYTES]) {
  uint8_t hc[VCRYPTO_HASH_BYTES];
  if (gov_council_hash(hc, c)) return 0;
  return valset_approval_msg(out, chain_id, c->epoch, hc, set_hash);
}

void gov_council_approval_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *chain_id,
                               const gov_council_t *c, const cons_valset_t *set) {
  uint8_t hs[VCRYPTO_HASH_BYTES], msg[GOV_APPROVAL_MSG_BYTES_MAX];
  cons_valset_hash(hs, set);
  size_t n = gov_council_approval_msg(msg, chain_id, c, hs);
  /* A council breaking the rules has no message: a signature of zeros, which
   * verifies under no key, rather than a signature of something else. */
  if (n == 0) {
    memset(sig, 0, VCRYPTO_SIG_BYTES);
    return;
  }
  vcrypto_sign(sig, kp, GOV_TAG_COUNCIL, msg, n);
}
