/* upgrade.c — see upgrade.h. The layouts are specified in docs/encoding.md
 * ("Protocol upgrades").
 *
 * The meta is a small state machine, moved only by PROTOCOL_UPGRADE
 * transactions (a pending upgrade reaching its height changes what governs
 * without a write). A decision in block h:
 *
 *   PENDING(P', A'), A' <= h  --settle-->  IDLE with active = P'  (first)
 *   IDLE                      --P > active-->  PENDING(P, A)
 *   PENDING(P', A'), A' > h   --P > active-->  PENDING(P, A)      (replace)
 *   PENDING(P', A'), A' > h   --P == active--> IDLE               (cancel)
 *
 * Every applied decision, whichever row, adds one to decisions: the next
 * decision's approvals sign decisions + 1, so none is good twice.
 *
 * Invariants of every stored meta (meta_consistent; the decoder refuses the rest):
 * 1 <= active <= UPGRADE_PROTOCOL_MAX; pending_protocol and pending_from are
 * both 0 or both set, and when set active < pending_protocol <=
 * UPGRADE_PROTOCOL_MAX and pending_from <= UPGRADE_HEIGHT_MAX; before the
 * first decision (decisions 0) nothing is pending (the meta is the absent one,
 * or the one a genesis naming a later protocol wrote: active = that protocol). */
#include "apps/upgrade/upgrade.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

#define UPGRADE_VERSION 1 /* of the payload and the meta value */

_Static_assert(VE_CHAIN_ID_BYTES_MAX <= 255, "the approval message's chain id length is a u8");
_Static_assert(UPGRADE_HEIGHT_MAX < UINT64_MAX - UPGRADE_DELAY_MIN, "height sums overflow");

/* ---- the meta value ---- */

static const upgrade_meta_t META_ABSENT = {.decisions = 0, .active = 1, .pending_protocol = 0, .pending_from = 0};

/* The invariants at the top: what execution can have written. */
static bool meta_consistent(const upgrade_meta_t *m) {
  if (m->active == 0 || m->active > UPGRADE_PROTOCOL_MAX) return false;
  if ((m->pending_from == 0) != (m->pending_protocol == 0)) return false;
  if (m->pending_from != 0) {
    if (m->pending_protocol <= m->active || m->pending_protocol > UPGRADE_PROTOCOL_MAX) return false;
    if (m->pending_from > UPGRADE_HEIGHT_MAX) return false;
  }
  /* Only a decision schedules anything (or moves active past the genesis's). */
  return m->decisions != 0 || m->pending_from == 0;
}

int upgrade_meta_encode(ve_buf_t *out, const upgrade_meta_t *m) {
  if (!meta_consistent(m)) return VE_ERR_INVALID;
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, UPGRADE_VERSION);
  codec_put_uvarint(&w, m->decisions);
  codec_put_uvarint(&w, m->active);
  codec_put_uvarint(&w, m->pending_protocol);
  codec_put_uvarint(&w, m->pending_from);
  return codec_writer_finish(&w);
}

int upgrade_meta_decode(ve_slice_t in, upgrade_meta_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, in);
  if (codec_get_u8(&r) != UPGRADE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->decisions = codec_get_uvarint(&r);
  out->active = codec_get_uvarint(&r);
  out->pending_protocol = codec_get_uvarint(&r);
  out->pending_from = codec_get_uvarint(&r);
  int rc = codec_reader_finish(&r);
  if (rc == VE_OK && !meta_consistent(out)) rc = VE_ERR_INVALID;
  return rc;
}

/* ---- the decision payload ---- */

int upgrade_decision_encode(ve_buf_t *out, const upgrade_decision_t *d) {
  size_t mark = out->len; /* a refused decision appends nothing */
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, UPGRADE_VERSION);
  codec_put_uvarint(&w, d->protocol);
  codec_put_uvarint(&w, d->from);
  int rc = valset_approvals_put(&w, d->approvals, d->n_approvals);
  if (rc == VE_OK) return codec_writer_finish(&w);
  out->len = mark;
  return rc;
}

/* P and A are any uvarints here: a protocol or height outside the rules is
 * judged at execution (VE_ERR_INVALID), against the chain's state. */
int upgrade_decision_decode(ve_slice_t payload, upgrade_decision_t *out) {
  memset(out, 0, sizeof *out);
  codec_reader_t r;
  codec_reader_init(&r, payload);
  if (codec_get_u8(&r) != UPGRADE_VERSION) codec_fail(&r, VE_ERR_VERSION);
  out->protocol = codec_get_uvarint(&r);
  out->from = codec_get_uvarint(&r);
  valset_approvals_get(&r, out->approvals, &out->n_approvals);
  int rc = codec_reader_finish(&r);
  if (rc) out->n_approvals = 0;
  return rc;
}

/* ---- approvals ---- */

static size_t approval_msg(uint8_t *out, ve_slice_t chain_id, uint64_t decision, uint64_t protocol, uint64_t from,
                           const uint8_t set_hash[VCRYPTO_HASH_BYTES]) {
  VE_ASSERT(chain_id.len <= VE_CHAIN_ID_BYTES_MAX);
  size_t n = 0;
  out[n++] = (uint8_t)chain_id.len;
  memcpy(out + n, chain_id.ptr, chain_id.len);
  n += chain_id.len;
  const uint64_t nums[3] = {decision, protocol, from};
  for (size_t i = 0; i < 3; i++, n += 8) ve_be64_put(out + n, nums[i]);
  memcpy(out + n, set_hash, VCRYPTO_HASH_BYTES);
  n += VCRYPTO_HASH_BYTES;
  VE_ASSERT(n <= UPGRADE_APPROVAL_MSG_BYTES_MAX);
  return n;
}

size_t upgrade_approval_msg(uint8_t *out, const char *chain_id, uint64_t decision, uint64_t protocol, uint64_t from,
                            const uint8_t set_hash[VCRYPTO_HASH_BYTES]) {
  return approval_msg(out, ve_slice(chain_id, strlen(chain_id)), decision, protocol, from, set_hash);
}

void upgrade_approval_sign(uint8_t sig[VCRYPTO_SIG_BYTES], const vcrypto_keypair_t *kp, const char *chain_id,
                           uint64_t decision, uint64_t protocol, uint64_t from, const cons_valset_t *set) {
  uint8_t hs[VCRYPTO_HASH_BYTES], msg[UPGRADE_APPROVAL_MSG_BYTES_MAX];
  cons_valset_hash(hs, set);
  size_t n = upgrade_approval_msg(msg, chain_id, decision, protocol, from, hs);
  vcrypto_sign(sig, kp, UPGRADE_TAG_APPROVAL, msg, n);
}

/* ---- reading ---- */

static int meta_read(const ledger_reader_t *rd, upgrade_meta_t *out) {
  ve_slice_t v;
  int rc = ledger_reader_get(rd, ve_slice(UPGRADE_META_KEY, strlen(UPGRADE_META_KEY)), &v);
  if (rc == VE_ERR_NOT_FOUND) {
    *out = META_ABSENT;
    return VE_OK;
  }
  VE_TRY(rc);
  return upgrade_meta_decode(v, out) ? VE_ERR_CORRUPT : VE_OK;
}

int upgrade_meta_get(store_txn_t *t, upgrade_meta_t *out) {
  ledger_reader_t rd = {.txn = t};
  return meta_read(&rd, out);
}

uint64_t upgrade_protocol_at(const upgrade_meta_t *m, uint64_t height) {
  return m->pending_from != 0 && height >= m->pending_from ? m->pending_protocol : m->active;
}

int upgrade_protocol_exec(ledger_exec_t *ex, uint64_t *protocol) {
  ledger_reader_t rd = {.ex = ex};
  upgrade_meta_t m;
  VE_TRY(meta_read(&rd, &m));
  *protocol = upgrade_protocol_at(&m, ledger_exec_height(ex));
  return VE_OK;
}

/* ---- execution ---- */

/* ~14 KiB: on the heap rather than on the stacks of the threads that dry-run
 * transactions. */
typedef struct {
  upgrade_decision_t decision;
  cons_valset_t set; /* governing the executing block: the approving set */
} decision_work_t;

/* A pending upgrade whose height h has reached is the active protocol. */
static void meta_settle(upgrade_meta_t *m, uint64_t h) {
  if (m->pending_from != 0 && m->pending_from <= h) {
    m->active = m->pending_protocol;
    m->pending_protocol = 0;
    m->pending_from = 0;
  }
}

/* The rules on P and A, against the settled meta of block h. */
static int decision_check(const upgrade_meta_t *m, const upgrade_decision_t *d, uint64_t h) {
  if (d->from > UPGRADE_HEIGHT_MAX || d->from < h + UPGRADE_DELAY_MIN) return VE_ERR_INVALID;
  if (d->protocol > UPGRADE_PROTOCOL_MAX) return VE_ERR_INVALID;
  /* P == active is a cancellation, which needs something to cancel. */
  bool pending = m->pending_from != 0;
  if (pending ? d->protocol < m->active : d->protocol <= m->active) return VE_ERR_INVALID;
  return VE_OK;
}

static int approvals_check(ledger_exec_t *ex, uint64_t decision, const decision_work_t *w) {
  const upgrade_decision_t *d = &w->decision;
  uint8_t hs[VCRYPTO_HASH_BYTES], msg[UPGRADE_APPROVAL_MSG_BYTES_MAX];
  cons_valset_hash(hs, &w->set);
  size_t n = approval_msg(msg, ledger_exec_chain_id(ex), decision, d->protocol, d->from, hs);
  return valset_approvals_verify(&w->set, d->approvals, d->n_approvals, UPGRADE_TAG_APPROVAL, msg, n);
}

static int meta_put(ledger_exec_t *ex, const upgrade_meta_t *m) {
  uint8_t mem[UPGRADE_META_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(upgrade_meta_encode(&b, m));
  return ledger_state_put(ex, ve_slice(UPGRADE_META_KEY, strlen(UPGRADE_META_KEY)), ve_buf_slice(&b));
}

static int decision_apply(ledger_exec_t *ex, ve_slice_t payload, decision_work_t *w) {
  const upgrade_decision_t *d = &w->decision;
  VE_TRY(upgrade_decision_decode(payload, &w->decision));
  ledger_reader_t rd = {.ex = ex};
  upgrade_meta_t m;
  VE_TRY(meta_read(&rd, &m));
  /* The decision number is signed as a be64; a chain never gets near this. */
  if (m.decisions == UINT64_MAX) return VE_ERR_LIMIT;
  uint64_t h = ledger_exec_height(ex);
  meta_settle(&m, h);
  VE_TRY(decision_check(&m, d, h));
  VE_TRY(valset_governing_exec(ex, h, &w->set));
  VE_TRY(approvals_check(ex, m.decisions + 1, w));
  m.decisions++;
  bool cancel = d->protocol == m.active;
  m.pending_protocol = cancel ? 0 : d->protocol;
  m.pending_from = cancel ? 0 : d->from;
  return meta_put(ex, &m);
}

static int upgrade_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  (void)s; /* the approvals authorise, not the envelope's signer */
  if (tx->type != TX_TYPE_PROTOCOL_UPGRADE) return VE_ERR_UNKNOWN_TYPE;
  decision_work_t *w = malloc(sizeof *w);
  if (!w) return VE_ERR_NOMEM;
  int rc = decision_apply(ex, tx->payload, w);
  free(w);
  return rc;
}

/* A chain starting at protocol 1 has no genesis state here: the absent meta is
 * what such chains start from, so chains made before this app (or before
 * genesis version 2) replay identically. A genesis naming a later protocol
 * starts with it active. */
static int upgrade_genesis(ledger_exec_t *ex, const ledger_genesis_t *g) {
  if (g->protocol <= 1) return VE_OK;
  upgrade_meta_t m = {.decisions = 0, .active = g->protocol, .pending_protocol = 0, .pending_from = 0};
  return meta_put(ex, &m);
}

const ledger_app_t upgrade_app = {
    .name = "upgrade",
    .type_lo = 0x0020,
    .type_hi = 0x002f,
    .apply = upgrade_apply,
    .genesis = upgrade_genesis,
};
