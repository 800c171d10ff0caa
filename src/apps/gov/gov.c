/* gov.c — the council's execution (rules in gov.h; encodings in gov_codec.c).
 *
 * A proposal's life (status as written; EXPIRED and STALE are derived by
 * gov_proposal_status and never written):
 *
 *             PROPOSE (approvals = {proposer})
 *                 |   count(approvals) >= k at once (k = 1): action runs
 *                 v
 *   +---------> OPEN ---- APPROVE bringing approvals to k, action OK --> EXECUTED
 *   |            |  \
 *   +- APPROVE <-+   REJECT bringing objections above n - k ----------> REJECTED
 *      below k,
 *      REJECT not above n - k
 *
 * A vote is taken only while the proposal is OPEN, of the current council's
 * epoch, and the block time is at most its deadline; each member votes once.
 *
 * Invariants of every stored record (checked again by gov_proposal_decode):
 *   - approvals and rejections are disjoint bitmaps over the indices of the
 *     council of the record's epoch; the proposer's bit is in approvals;
 *   - EXECUTED: count(approvals) >= k and the action ran in the same tx;
 *     REJECTED: count(rejections) > n - k; decided = the height it closed;
 *   - OPEN: count(approvals) < k, count(rejections) <= n - k, decided = 0.
 * An approval whose action fails writes nothing (its tx fails, the ledger
 * rolls the action's writes back), so the record always says what happened. */
#include "apps/gov/gov.h"

#include <stdlib.h>
#include <string.h>

#include "apps/identity/identity.h"
#include "base/err.h"

/* ledger_genesis_check refuses a protocol-2 genesis with more admins than a
 * council holds; both must name the same bound. */
_Static_assert(GOV_COUNCIL_MAX == LEDGER_COUNCIL_MAX, "the council bound of src/ledger and apps/gov differ");

/* "gov/h/" || be64(created height) || id */
#define GOV_BY_HEIGHT_KEY_BYTES (6 + 8 + LEDGER_HASH_BYTES)

/* Everything one transaction needs (about 28 KiB): on the heap, off the stacks
 * of the threads that dry-run transactions. */
typedef struct {
  gov_council_t council;
  gov_proposal_t p;
  gov_propose_t propose;
  gov_council_set_t set;
  cons_valset_t valset;
  uint8_t record[GOV_PROPOSAL_BYTES_MAX]; /* the stored bytes a read p borrows from */
  uint8_t out[GOV_PROPOSAL_BYTES_MAX];    /* p encoded for writing */
} gov_work_t;

/* ---- reading ---- */

static int council_read(const ledger_reader_t *rd, gov_council_t *out) {
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(GOV_COUNCIL_KEY, strlen(GOV_COUNCIL_KEY)), &v));
  return gov_council_decode(v, out) ? VE_ERR_CORRUPT : VE_OK;
}

/* Copies the record into mem (GOV_PROPOSAL_BYTES_MAX) first: slices from the
 * state are valid only until the next write, and the action writes. */
static int proposal_read(const ledger_reader_t *rd, const uint8_t id[LEDGER_HASH_BYTES], gov_proposal_t *out,
                         uint8_t *mem, size_t *len) {
  uint8_t key[6 + LEDGER_HASH_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, gov_proposal_key(key, id)), &v));
  if (v.len > GOV_PROPOSAL_BYTES_MAX) return VE_ERR_CORRUPT;
  memcpy(mem, v.ptr, v.len);
  *len = v.len;
  return gov_proposal_decode(ve_slice(mem, v.len), id, out) ? VE_ERR_CORRUPT : VE_OK;
}

int gov_council_get(store_txn_t *t, gov_council_t *out) {
  ledger_reader_t rd = {.txn = t};
  return council_read(&rd, out);
}

int gov_proposal_get(store_txn_t *t, const uint8_t id[LEDGER_HASH_BYTES], gov_proposal_t *out, ve_buf_t *buf) {
  ve_buf_reset(buf);
  VE_TRY(ve_buf_reserve(buf, GOV_PROPOSAL_BYTES_MAX));
  ledger_reader_t rd = {.txn = t};
  size_t len = 0;
  int rc = proposal_read(&rd, id, out, buf->ptr, &len);
  buf->len = rc ? 0 : len;
  return rc;
}

/* ---- writing ---- */

static int council_put(ledger_exec_t *ex, const gov_council_t *c) {
  uint8_t mem[GOV_COUNCIL_BYTES_MAX];
  ve_buf_t b = {mem, 0, sizeof mem, sizeof mem};
  VE_TRY(gov_council_encode(&b, c));
  return ledger_state_put(ex, ve_slice(GOV_COUNCIL_KEY, strlen(GOV_COUNCIL_KEY)), ve_buf_slice(&b));
}

/* mem: GOV_PROPOSAL_BYTES_MAX bytes p does not borrow from. */
static int proposal_put(ledger_exec_t *ex, const gov_proposal_t *p, uint8_t *mem) {
  ve_buf_t b = {mem, 0, GOV_PROPOSAL_BYTES_MAX, GOV_PROPOSAL_BYTES_MAX};
  VE_TRY(gov_proposal_encode(&b, p));
  uint8_t key[6 + LEDGER_HASH_BYTES];
  return ledger_state_put(ex, ve_slice(key, gov_proposal_key(key, p->id)), ve_buf_slice(&b));
}

static int by_height_put(ledger_exec_t *ex, const gov_proposal_t *p) {
  uint8_t key[GOV_BY_HEIGHT_KEY_BYTES];
  memcpy(key, GOV_BY_HEIGHT_PREFIX, 6);
  ve_be64_put(key + 6, p->created);
  memcpy(key + 14, p->id, LEDGER_HASH_BYTES);
  return ledger_state_put(ex, ve_slice(key, sizeof key), ve_slice(key, 0));
}

/* ---- the decision ---- */

/* Runs p's action as the proposer at proposal time (its key and sequence),
 * holding the admin role only; on success the proposal is EXECUTED. */
static int execute(ledger_exec_t *ex, gov_proposal_t *p) {
  ledger_tx_t inner = {.version = LEDGER_TX_VERSION,
                       .chain_id = ledger_exec_chain_id(ex),
                       .seq = p->seq,
                       .expiry = UINT64_MAX,
                       .type = p->inner_type,
                       .payload = p->inner_payload};
  memcpy(inner.signer, p->proposer_pk, VCRYPTO_PK_BYTES);
  ledger_signer_t as = {.roles = ROLE_ADMIN, .last_seq = 0};
  memcpy(as.identity_id, p->proposer, LEDGER_HASH_BYTES);
  VE_TRY(ledger_exec_decision(ex, &inner, &as));
  p->status = GOV_EXECUTED;
  p->decided = ledger_exec_height(ex);
  return VE_OK;
}

/* The council, and the signer's index in it. */
static int member_of(ledger_exec_t *ex, const ledger_signer_t *s, gov_council_t *c, int *idx) {
  ledger_reader_t rd = {.ex = ex};
  int rc = council_read(&rd, c);
  if (rc == VE_ERR_NOT_FOUND) return VE_ERR_STATE; /* no council: nobody decides yet */
  VE_TRY(rc);
  *idx = gov_member_index(c, s->identity_id);
  return *idx < 0 ? VE_ERR_NOT_ELIGIBLE : VE_OK;
}

static int apply_propose(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s, gov_work_t *w) {
  gov_propose_t *in = &w->propose;
  VE_TRY(gov_propose_decode(tx->payload, in));
  /* Admin actions are the apps' (>= 0x0100): never the ledger's own
   * decisions (valset, upgrade, evidence) nor this app's. */
  if (in->inner_type < GOV_INNER_TYPE_MIN) return VE_ERR_INVALID;
  if (in->open_ms < GOV_OPEN_MS_MIN || in->open_ms > GOV_OPEN_MS_MAX) return VE_ERR_INVALID;
  uint64_t now = ledger_exec_time_ms(ex);
  if (now > UINT64_MAX - in->open_ms) return VE_ERR_INVALID;
  int idx;
  VE_TRY(member_of(ex, s, &w->council, &idx));
  gov_proposal_t *p = &w->p;
  memset(p, 0, sizeof *p);
  gov_proposal_id(p->id, s->identity_id, tx->seq);
  ledger_reader_t rd = {.ex = ex};
  uint8_t key[6 + LEDGER_HASH_BYTES];
  ve_slice_t old;
  int rc = ledger_reader_get(&rd, ve_slice(key, gov_proposal_key(key, p->id)), &old);
  if (rc == VE_OK) return VE_ERR_DUPLICATE; /* the sequence window makes this unreachable */
  if (rc != VE_ERR_NOT_FOUND) return rc;
  p->status = GOV_OPEN;
  p->epoch = w->council.epoch;
  memcpy(p->proposer, s->identity_id, LEDGER_HASH_BYTES);
  memcpy(p->proposer_pk, tx->signer, VCRYPTO_PK_BYTES);
  p->seq = tx->seq;
  p->created = ledger_exec_height(ex);
  p->deadline_ms = now + in->open_ms;
  p->inner_type = in->inner_type;
  p->inner_payload = in->inner_payload; /* borrowed from tx, which outlives this call */
  p->note = in->note;
  p->approvals = UINT64_C(1) << idx;
  if (gov_count(p->approvals) >= w->council.k) VE_TRY(execute(ex, p));
  VE_TRY(proposal_put(ex, p, w->out));
  return by_height_put(ex, p);
}

/* Approve or reject: the checks both share, then the tally. */
static int apply_vote(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s, gov_work_t *w) {
  uint8_t id[LEDGER_HASH_BYTES];
  VE_TRY(gov_vote_decode(tx->payload, id));
  int idx;
  VE_TRY(member_of(ex, s, &w->council, &idx));
  const gov_council_t *c = &w->council;
  gov_proposal_t *p = &w->p;
  ledger_reader_t rd = {.ex = ex};
  size_t len;
  VE_TRY(proposal_read(&rd, id, p, w->record, &len));
  if (p->status != GOV_OPEN || p->epoch != c->epoch) return VE_ERR_STATE;
  if (ledger_exec_time_ms(ex) > p->deadline_ms) return VE_ERR_EXPIRED;
  uint64_t bit = UINT64_C(1) << idx;
  if ((p->approvals | p->rejections) & bit) return VE_ERR_DUPLICATE;
  /* Bits at or above n cannot be there: the record was written under this
   * council (same epoch) with indices of its members. */
  if ((p->approvals | p->rejections) >> (c->n - 1) >> 1) return VE_ERR_CORRUPT;
  if (tx->type == TX_TYPE_GOV_APPROVE) {
    p->approvals |= bit;
    if (gov_count(p->approvals) >= c->k) VE_TRY(execute(ex, p));
  } else {
    p->rejections |= bit;
    if (gov_count(p->rejections) > c->n - c->k) {
      p->status = GOV_REJECTED;
      p->decided = ledger_exec_height(ex);
    }
  }
  return proposal_put(ex, p, w->out); /* p borrows from w->record */
}

/* ---- appointing a council ---- */

/* Members are registered identities that are not revoked (a suspended member
 * cannot sign while suspended, and may be restored). */
static int members_check(ledger_exec_t *ex, const gov_council_t *c) {
  for (uint32_t i = 0; i < c->n; i++) {
    uint8_t key[3 + LEDGER_HASH_BYTES];
    ve_slice_t v;
    VE_TRY(ledger_state_get(ex, ve_slice(key, identity_state_key(key, c->members[i])), &v));
    identity_t who;
    VE_TRY(identity_decode(v, c->members[i], &who));
    if (who.status == IDENTITY_REVOKED) return VE_ERR_REVOKED;
  }
  return VE_OK;
}

static int approvals_check(ledger_exec_t *ex, gov_work_t *w) {
  VE_TRY(valset_governing_exec(ex, ledger_exec_height(ex), &w->valset));
  uint8_t hs[VCRYPTO_HASH_BYTES], msg[GOV_APPROVAL_MSG_BYTES_MAX];
  cons_valset_hash(hs, &w->valset);
  ve_slice_t cid = ledger_exec_chain_id(ex);
  char chain[VE_CHAIN_ID_BYTES_MAX + 1];
  memcpy(chain, cid.ptr, cid.len);
  chain[cid.len] = 0;
  size_t n = gov_council_approval_msg(msg, chain, &w->set.council, hs);
  if (n == 0) return VE_ERR_INVALID;
  return valset_approvals_verify(&w->valset, w->set.approvals, w->set.n_approvals, GOV_TAG_COUNCIL, msg, n);
}

static int apply_council_set(ledger_exec_t *ex, const ledger_tx_t *tx, gov_work_t *w) {
  VE_TRY(gov_council_set_decode(tx->payload, &w->set));
  ledger_reader_t rd = {.ex = ex};
  int rc = council_read(&rd, &w->council);
  if (rc == VE_ERR_NOT_FOUND) w->council.epoch = 0; /* the first council is epoch 1 */
  else if (rc) return rc;
  if (w->council.epoch == UINT64_MAX) return VE_ERR_LIMIT;
  w->set.council.epoch = w->council.epoch + 1;
  VE_TRY(members_check(ex, &w->set.council));
  VE_TRY(approvals_check(ex, w));
  return council_put(ex, &w->set.council);
}

/* ---- the app ---- */

static int gov_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  if (tx->type < TX_TYPE_GOV_PROPOSE || tx->type > TX_TYPE_GOV_COUNCIL_SET) return VE_ERR_UNKNOWN_TYPE;
  /* Under protocol 1 this app does not exist: its types are unknown, and
   * nothing but the protocol is read, so such chains replay identically. */
  uint64_t protocol;
  VE_TRY(ledger_exec_protocol(ex, &protocol));
  if (protocol < LEDGER_PROTOCOL_COUNCIL) return VE_ERR_UNKNOWN_TYPE;
  gov_work_t *w = malloc(sizeof *w);
  if (!w) return VE_ERR_NOMEM;
  int rc;
  switch (tx->type) {
    case TX_TYPE_GOV_PROPOSE: rc = apply_propose(ex, tx, s, w); break;
    case TX_TYPE_GOV_COUNCIL_SET: rc = apply_council_set(ex, tx, w); break;
    default: rc = apply_vote(ex, tx, s, w); break;
  }
  free(w);
  return rc;
}

/* A chain starting at protocol >= 2 starts with a council: the genesis
 * authorities holding the admin role (ledger_genesis_check guarantees one),
 * the smallest majority, epoch 1. Protocol-1 chains write nothing here. */
static int gov_genesis(ledger_exec_t *ex, const ledger_genesis_t *g) {
  if (g->protocol < LEDGER_PROTOCOL_COUNCIL) return VE_OK;
  gov_council_t *c = calloc(1, sizeof *c);
  if (!c) return VE_ERR_NOMEM;
  int rc = VE_OK;
  for (size_t i = 0; rc == VE_OK && i < g->n_authorities; i++) {
    if (!(g->authorities[i].roles & ROLE_ADMIN)) continue;
    if (c->n == GOV_COUNCIL_MAX) {
      rc = VE_ERR_LIMIT;
      break;
    }
    uint8_t id[LEDGER_HASH_BYTES];
    identity_id_from_pk(id, g->authorities[i].pk);
    uint32_t j = c->n; /* insertion sort: at most 64 members */
    while (j > 0 && memcmp(c->members[j - 1], id, LEDGER_HASH_BYTES) > 0) {
      memcpy(c->members[j], c->members[j - 1], LEDGER_HASH_BYTES);
      j--;
    }
    memcpy(c->members[j], id, LEDGER_HASH_BYTES);
    c->n++;
  }
  if (rc == VE_OK) {
    c->k = gov_threshold_min(c->n);
    c->epoch = 1;
    rc = council_put(ex, c); /* n = 0 or a repeated id: VE_ERR_INVALID */
  }
  free(c);
  return rc;
}

const ledger_app_t gov_app = {
    .name = "gov",
    .type_lo = 0x0030,
    .type_hi = 0x003f,
    .apply = gov_apply,
    .genesis = gov_genesis,
};
