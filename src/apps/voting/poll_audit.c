/* poll_audit.c — the public audit of one poll, independent of the ledger's
 * own execution: replays the poll's committed transactions (order and result
 * codes are what the caller checked against certified headers), re-verifies
 * every cryptographic proof, recomputes the DKG outcome, the encrypted tally
 * with replacement and the decrypted counts, and compares all of it with the
 * poll and tally records the chain certifies. Any disagreement stops the
 * audit with a one-line reason. See voting.h for the calling sequence.
 *
 * Memory: one entry per voter (id, tracker-free, n_options ciphertexts) and
 * 32 bytes per accepted ballot (the replay set); both grow by doubling. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/voting/poll_int.h"
#include "apps/voting/vcrypt_int.h"
#include "base/err.h"

/* A set/map of 32-byte keys with open addressing; values are indices into a
 * side array (1-based; 0 = empty). */
typedef struct {
  uint32_t *slots;
  size_t cap;  /* power of two */
  size_t n;
} idmap_t;

struct voting_audit {
  char chain_buf[VE_CHAIN_ID_BYTES_MAX];
  ve_slice_t chain;
  voting_poll_t poll;       /* as certified */
  bool have_tally;
  voting_tally_rec_t tally; /* as certified */
  uint32_t n, t, nopt;
  uint8_t ctx[32];
  /* recomputed DKG */
  bool created, cancelled, finished, failed;
  uint32_t dealt, upheld, complained[VOTING_TRUSTEES_MAX];
  uint8_t *dealing[VOTING_TRUSTEES_MAX];
  size_t dealing_len[VOTING_TRUSTEES_MAX];
  uint8_t (*complaints)[VOTE_DKG_COMPLAINT_BYTES];
  size_t n_complaints;
  vote_dkg_result_t dkg;
  vote_election_t *el[VOTING_QUESTIONS_MAX];
  /* recomputed tally: per option, decoded sums of C1 and C2 */
  vote_ge_t sums[2 * VOTING_OPTIONS_MAX];
  idmap_t voters;           /* voter id -> entry in vdata */
  uint8_t *vdata;           /* entries: voter id (32) || cts (nopt * 64) */
  size_t vcap;
  idmap_t trackers;         /* tracker -> entry in tdata */
  uint8_t (*tdata)[32];
  size_t tcap;
  /* decryption */
  bool tally_frozen;
  uint8_t tally_cts[VOTING_OPTIONS_MAX][VOTE_CT_BYTES];
  uint32_t decrypted;
  uint8_t *shares[VOTING_TRUSTEES_MAX];  /* decrypt payload of trustee j, in arrival order */
  size_t shares_len[VOTING_TRUSTEES_MAX];
  uint32_t share_order[VOTING_TRUSTEES_MAX];
  bool result;
  uint32_t used;
  voting_audit_report_t rep;
};

static int fail(char *reason, size_t rl, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *reason, size_t rl, int code, const char *fmt, ...) {
  if (reason && rl) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, rl, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* ---- the id map ---- */

static size_t id_hash(const uint8_t k[32]) {
  size_t h;
  memcpy(&h, k, sizeof h); /* keys are hashes or identity ids: uniform */
  return h;
}

/* Finds key; keys of entry i are at keyof(ctx, i). Returns the slot. */
static uint32_t *idmap_slot(idmap_t *m, const uint8_t k[32], const uint8_t *(*keyof)(void *, uint32_t), void *ctx) {
  size_t mask = m->cap - 1;
  for (size_t i = id_hash(k) & mask;; i = (i + 1) & mask) {
    uint32_t *s = &m->slots[i];
    if (*s == 0 || !memcmp(keyof(ctx, *s - 1), k, 32)) return s;
  }
}

static int idmap_grow(idmap_t *m, const uint8_t *(*keyof)(void *, uint32_t), void *ctx) {
  if (m->cap && m->n * 2 < m->cap) return VE_OK;
  size_t cap = m->cap ? m->cap * 2 : 1024;
  idmap_t nm = {calloc(cap, sizeof(uint32_t)), cap, m->n};
  if (!nm.slots) return VE_ERR_NOMEM;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->slots[i]) continue;
    *idmap_slot(&nm, keyof(ctx, m->slots[i] - 1), keyof, ctx) = m->slots[i];
  }
  free(m->slots);
  *m = nm;
  return VE_OK;
}

static size_t ventry_bytes(const voting_audit_t *a) { return 32 + (size_t)a->nopt * VOTE_CT_BYTES; }
static const uint8_t *voter_key(void *ctx, uint32_t i) {
  voting_audit_t *a = ctx;
  return a->vdata + (size_t)i * ventry_bytes(a);
}
static const uint8_t *tracker_key(void *ctx, uint32_t i) { return ((voting_audit_t *)ctx)->tdata[i]; }

/* ---- lifecycle ---- */

int voting_audit_new(voting_audit_t **out, ve_slice_t chain_id, const voting_poll_t *poll,
                     const voting_tally_rec_t *tally, char *reason, size_t rl) {
  *out = NULL;
  if (chain_id.len == 0 || chain_id.len > VE_CHAIN_ID_BYTES_MAX) return fail(reason, rl, VE_ERR_INVALID, "bad chain id");
  voting_audit_t *a = calloc(1, sizeof *a);
  if (!a) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
  memcpy(a->chain_buf, chain_id.ptr, chain_id.len);
  a->chain = ve_slice(a->chain_buf, chain_id.len);
  a->poll = *poll;
  if (tally) {
    a->have_tally = true;
    a->tally = *tally;
  }
  a->n = poll->def.n_trustees;
  a->t = poll->def.threshold;
  a->nopt = poll->def.n_options;
  voting_poll_context(a->ctx, a->chain, poll->id);
  for (uint32_t i = 0; i < 2 * VOTING_OPTIONS_MAX; i++) vote_ge_identity(&a->sums[i]);
  a->complaints = malloc((size_t)a->n * a->n * VOTE_DKG_COMPLAINT_BYTES);
  if (!a->complaints) {
    voting_audit_free(a);
    return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
  }
  *out = a;
  return VE_OK;
}

void voting_audit_free(voting_audit_t *a) {
  if (!a) return;
  for (uint32_t i = 0; i < VOTING_TRUSTEES_MAX; i++) {
    free(a->dealing[i]);
    free(a->shares[i]);
  }
  for (uint32_t q = 0; q < VOTING_QUESTIONS_MAX; q++) free(a->el[q]);
  free(a->complaints);
  free(a->voters.slots);
  free(a->vdata);
  free(a->trackers.slots);
  free(a->tdata);
  free(a);
}

bool voting_audit_wants(const voting_audit_t *a, const ledger_tx_t *tx) {
  if (tx->type < VOTING_TX_TYPE_LO || tx->type > VOTING_TX_TYPE_HI || tx->type == TX_TYPE_POLL_TRUSTEE_KEY)
    return false;
  uint8_t id[32];
  if (tx->type == TX_TYPE_POLL_CREATE) voting_poll_id(id, tx->signer, tx->seq);
  else if (voting_payload_poll(tx->payload, id) != VE_OK) return false;
  return !memcmp(id, a->poll.id, 32);
}

/* ---- DKG ---- */

static int audit_create(voting_audit_t *a, uint64_t h, const ledger_tx_t *tx, char *reason, size_t rl) {
  uint8_t dh[32];
  vcrypto_hash(dh, VOTING_TAG_DEF, tx->payload.ptr, tx->payload.len);
  if (memcmp(dh, a->poll.def_hash, 32))
    return fail(reason, rl, VE_ERR_HASH_MISMATCH, "the poll record's definition differs from its create transaction");
  if (h != a->poll.created_height)
    return fail(reason, rl, VE_ERR_HEIGHT, "created at height %llu, record says %llu", (unsigned long long)h,
                (unsigned long long)a->poll.created_height);
  if (a->created) return fail(reason, rl, VE_ERR_DUPLICATE, "poll created twice");
  a->created = true;
  return VE_OK;
}

static int audit_deal(voting_audit_t *a, uint64_t h, const ledger_tx_t *tx, char *reason, size_t rl) {
  codec_reader_t r;
  codec_reader_init(&r, tx->payload);
  uint8_t poll[32];
  (void)codec_get_u8(&r);
  codec_get_fixed(&r, poll, 32);
  ve_slice_t d = codec_get_bytes(&r, VOTE_DKG_DEALING_BYTES_MAX);
  if (codec_reader_finish(&r) || d.len < 2 || d.ptr[1] < 1 || d.ptr[1] > a->n)
    return fail(reason, rl, VE_ERR_MALFORMED, "accepted dealing at height %llu does not decode", (unsigned long long)h);
  uint32_t i = d.ptr[1];
  if (h > a->poll.def.deal_end) return fail(reason, rl, VE_ERR_TOO_LATE, "dealing of trustee %u accepted late", i);
  if (a->dealt & (1u << (i - 1))) return fail(reason, rl, VE_ERR_DUPLICATE, "trustee %u dealt twice", i);
  vote_dkg_params_t p = {a->n, a->t};
  int rc = vote_dkg_dealing_verify(&p, i, a->ctx, 32, d.ptr, d.len);
  if (rc) return fail(reason, rl, rc, "dealing of trustee %u does not verify: %s", i, ve_strerror(rc));
  if (!(a->dealing[i - 1] = malloc(d.len))) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
  memcpy(a->dealing[i - 1], d.ptr, d.len);
  a->dealing_len[i - 1] = d.len;
  a->dealt |= 1u << (i - 1);
  a->rep.dealings++;
  return VE_OK;
}

static int audit_complain(voting_audit_t *a, uint64_t h, const ledger_tx_t *tx, char *reason, size_t rl) {
  if (tx->payload.len != 1 + 32 + VOTE_DKG_COMPLAINT_BYTES)
    return fail(reason, rl, VE_ERR_MALFORMED, "accepted complaint at height %llu does not decode", (unsigned long long)h);
  const uint8_t *c = tx->payload.ptr + 33;
  uint32_t i = c[1], j = c[2];
  if (i < 1 || i > a->n || j < 1 || j > a->n || !(a->dealt & (1u << (i - 1))))
    return fail(reason, rl, VE_ERR_INVALID, "complaint against a dealing that was never accepted");
  if (h <= a->poll.def.deal_end || h > a->poll.def.complaint_end)
    return fail(reason, rl, VE_ERR_HEIGHT, "complaint accepted outside the complaint phase");
  if (a->complained[i - 1] & (1u << (j - 1))) return fail(reason, rl, VE_ERR_DUPLICATE, "complaint repeated");
  vote_dkg_params_t p = {a->n, a->t};
  bool upheld = false;
  int rc = vote_dkg_complaint_check(&upheld, &p, (const uint8_t(*)[32])a->poll.enc_pk, a->ctx, 32, a->dealing[i - 1],
                                    a->dealing_len[i - 1], c, VOTE_DKG_COMPLAINT_BYTES);
  if (rc) return fail(reason, rl, rc, "complaint of %u against %u is invalid: %s", j, i, ve_strerror(rc));
  memcpy(a->complaints[a->n_complaints++], c, VOTE_DKG_COMPLAINT_BYTES);
  a->complained[i - 1] |= 1u << (j - 1);
  if (upheld) a->upheld |= 1u << (i - 1), a->rep.complaints_upheld++;
  a->rep.complaints++;
  return VE_OK;
}

static int audit_finish_dkg(voting_audit_t *a, uint64_t h, char *reason, size_t rl) {
  if (a->finished || a->failed) return fail(reason, rl, VE_ERR_DUPLICATE, "key generation finished twice");
  if (h <= a->poll.def.complaint_end || h > a->poll.def.close_height)
    return fail(reason, rl, VE_ERR_HEIGHT, "key generation finished at a wrong height");
  ve_slice_t dealings[VOTING_TRUSTEES_MAX], comps[VOTING_TRUSTEES_MAX * VOTING_TRUSTEES_MAX];
  for (uint32_t i = 0; i < a->n; i++) dealings[i] = ve_slice(a->dealing[i], a->dealing_len[i]);
  for (size_t k = 0; k < a->n_complaints; k++) comps[k] = ve_slice(a->complaints[k], VOTE_DKG_COMPLAINT_BYTES);
  vote_dkg_params_t p = {a->n, a->t};
  int rc = vote_dkg_finish(&a->dkg, &p, (const uint8_t(*)[32])a->poll.enc_pk, a->ctx, 32, dealings, comps,
                           a->n_complaints);
  if (rc == VE_ERR_QUORUM || rc == VE_ERR_CRYPTO) {
    a->failed = true;
    if (a->poll.has_key) return fail(reason, rl, VE_ERR_PROOF, "the key generation failed but the chain has a key");
    return VE_OK;
  }
  if (rc) return fail(reason, rl, rc, "key generation does not finish: %s", ve_strerror(rc));
  if (!a->poll.has_key) return fail(reason, rl, VE_ERR_PROOF, "the key generation succeeded but the chain has no key");
  if (memcmp(a->dkg.pk, a->poll.pk, 32) || memcmp(a->dkg.vk, a->poll.vk, (size_t)a->n * 32) ||
      a->dkg.qualified != a->poll.qualified)
    return fail(reason, rl, VE_ERR_HASH_MISMATCH, "the election key or trustee keys differ from the recomputed ones");
  a->finished = true;
  for (uint32_t q = 0; q < a->poll.def.n_questions; q++) {
    const voting_question_t *qq = &a->poll.def.q[q];
    if (!(a->el[q] = malloc(sizeof *a->el[q]))) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
    rc = vote_election_init(a->el[q], a->dkg.pk, qq->options, qq->min, qq->max);
    if (rc) return fail(reason, rl, rc, "bad election parameters: %s", ve_strerror(rc));
  }
  return VE_OK;
}

/* ---- ballots ---- */

int voting_audit_ballot_check(const voting_audit_t *a, const ledger_tx_t *tx) {
  if (!a->finished) return VE_ERR_STATE;
  voting_ballot_payload_t b;
  VE_TRY(voting_ballot_payload_decode(tx->payload, &b));
  if (b.n != a->poll.def.n_questions) return VE_ERR_WRONG_POLL;
  for (uint32_t q = 0; q < b.n; q++) {
    uint8_t ctx[VOTING_QCTX_BYTES];
    voting_ballot_context(ctx, a->chain, a->poll.id, b.voter, q);
    VE_TRY(vote_ballot_verify(a->el[q], ctx, sizeof ctx, b.ballot[q].ptr, b.ballot[q].len));
  }
  return VE_OK;
}

static int tally_apply(voting_audit_t *a, const uint8_t *cts, bool add) {
  vote_ge_t pts[2 * VOTING_OPTIONS_MAX];
  for (uint32_t i = 0; i < 2 * a->nopt; i++) VE_TRY(vote_point_decode(&pts[i], cts + 32 * i, true));
  for (uint32_t i = 0; i < 2 * a->nopt; i++) {
    if (add) vote_ge_add(&a->sums[i], &a->sums[i], &pts[i]);
    else vote_ge_sub(&a->sums[i], &a->sums[i], &pts[i]);
  }
  return VE_OK;
}

static int audit_ballot(voting_audit_t *a, uint64_t h, const ledger_tx_t *tx, int pre, char *reason, size_t rl) {
  voting_ballot_payload_t b;
  int rc = voting_ballot_payload_decode(tx->payload, &b);
  if (rc) return fail(reason, rl, rc, "accepted ballot at height %llu does not decode", (unsigned long long)h);
  if (!a->finished) return fail(reason, rl, VE_ERR_STATE, "ballot accepted before the election key existed");
  if (h < a->poll.def.open_height || h > a->poll.def.close_height)
    return fail(reason, rl, VE_ERR_HEIGHT, "ballot accepted at height %llu, outside the voting window",
                (unsigned long long)h);
  if (a->tally_frozen) return fail(reason, rl, VE_ERR_STATE, "ballot accepted after decryption began");
  rc = pre == 1 ? voting_audit_ballot_check(a, tx) : pre;
  char vh[17];
  ve_hex_encode(vh, b.voter, 8);
  if (rc) return fail(reason, rl, rc, "ballot of voter %s… at height %llu fails verification: %s", vh,
                      (unsigned long long)h, ve_strerror(rc));
  /* Replay set. */
  uint8_t tr[32];
  voting_tracker(tr, b.list);
  if (idmap_grow(&a->trackers, tracker_key, a)) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
  uint32_t *ts = idmap_slot(&a->trackers, tr, tracker_key, a);
  if (*ts) return fail(reason, rl, VE_ERR_DUPLICATE, "ballot %s… accepted twice", vh);
  if (a->trackers.n == a->tcap) {
    size_t cap = a->tcap ? a->tcap * 2 : 1024;
    void *p = realloc(a->tdata, cap * 32);
    if (!p) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
    a->tdata = p, a->tcap = cap;
  }
  memcpy(a->tdata[a->trackers.n], tr, 32);
  *ts = (uint32_t)++a->trackers.n;
  /* Replacement: subtract the voter's previous ballot, add this one. */
  uint8_t cts[VOTING_OPTIONS_MAX][VOTE_CT_BYTES];
  uint32_t k = 0;
  for (uint32_t q = 0; q < b.n; q++) {
    uint32_t n;
    const uint8_t *c;
    VE_TRY(vote_ballot_ciphertexts(b.ballot[q].ptr, b.ballot[q].len, &n, &c));
    if (k + n > a->nopt) return fail(reason, rl, VE_ERR_WRONG_POLL, "ballot shape differs from the poll");
    memcpy(cts[k], c, (size_t)n * VOTE_CT_BYTES);
    k += n;
  }
  if (k != a->nopt) return fail(reason, rl, VE_ERR_WRONG_POLL, "ballot shape differs from the poll");
  if (idmap_grow(&a->voters, voter_key, a)) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
  uint32_t *vs = idmap_slot(&a->voters, b.voter, voter_key, a);
  uint8_t *entry;
  if (*vs) {
    entry = a->vdata + (size_t)(*vs - 1) * ventry_bytes(a);
    VE_TRY(tally_apply(a, entry + 32, false));
    a->rep.replaced++;
  } else {
    if (a->voters.n == a->vcap) {
      size_t cap = a->vcap ? a->vcap * 2 : 1024;
      void *p = realloc(a->vdata, cap * ventry_bytes(a));
      if (!p) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
      a->vdata = p, a->vcap = cap; /* the map holds indices, so vs stays valid */
    }
    entry = a->vdata + a->voters.n * ventry_bytes(a);
    memcpy(entry, b.voter, 32);
    *vs = (uint32_t)++a->voters.n;
    a->rep.voters++;
  }
  memcpy(entry + 32, cts, (size_t)a->nopt * VOTE_CT_BYTES);
  VE_TRY(tally_apply(a, entry + 32, true));
  a->rep.ballots++;
  return VE_OK;
}

/* ---- decryption ---- */

static void freeze_tally(voting_audit_t *a) {
  if (a->tally_frozen) return;
  for (uint32_t i = 0; i < 2 * a->nopt; i++) vote_ge_encode(a->tally_cts[i / 2] + 32 * (i % 2), &a->sums[i]);
  a->tally_frozen = true;
}

static int audit_result(voting_audit_t *a, char *reason, size_t rl) {
  uint32_t t = a->t;
  voting_decrypt_payload_t dp[VOTING_TRUSTEES_MAX];
  for (uint32_t k = 0; k < t; k++) {
    uint32_t j = a->share_order[k];
    VE_TRY(voting_decrypt_payload_decode(ve_slice(a->shares[j - 1], a->shares_len[j - 1]), &dp[k]));
    a->used |= 1u << (j - 1);
  }
  vote_dlog_table_t *tab;
  int rc = vote_dlog_table_new(&tab);
  if (rc) return fail(reason, rl, rc, "cannot build the discrete-log table");
  for (uint32_t q = 0; rc == VE_OK && q < a->poll.def.n_questions; q++) {
    const voting_question_t *qq = &a->poll.def.q[q];
    ve_slice_t sh[VOTING_TRUSTEES_MAX];
    for (uint32_t k = 0; k < t; k++) sh[k] = dp[k].share[q];
    rc = vote_tally_decrypt(a->rep.counts + qq->first, tab, t, sh, t, a->tally_cts[qq->first], qq->options);
    if (rc) fail(reason, rl, rc, "question %u does not decrypt: %s", q + 1, ve_strerror(rc));
  }
  vote_dlog_table_free(tab);
  a->result = rc == VE_OK;
  return rc;
}

static int audit_decrypt(voting_audit_t *a, uint64_t h, const ledger_tx_t *tx, char *reason, size_t rl) {
  voting_decrypt_payload_t d;
  int rc = voting_decrypt_payload_decode(tx->payload, &d);
  if (rc) return fail(reason, rl, rc, "accepted decryption at height %llu does not decode", (unsigned long long)h);
  if (!a->finished) return fail(reason, rl, VE_ERR_STATE, "decryption accepted without an election key");
  if (h <= a->poll.def.close_height) return fail(reason, rl, VE_ERR_HEIGHT, "decryption accepted before the close");
  if (a->result) return fail(reason, rl, VE_ERR_STATE, "decryption accepted after the result");
  if (d.n != a->poll.def.n_questions) return fail(reason, rl, VE_ERR_WRONG_POLL, "decryption of another shape");
  freeze_tally(a);
  uint32_t j = 0;
  for (uint32_t q = 0; q < d.n; q++) {
    uint32_t who;
    rc = vote_decshare_trustee(d.share[q].ptr, d.share[q].len, &who);
    if (rc || who < 1 || who > a->n || (j && who != j))
      return fail(reason, rl, VE_ERR_MALFORMED, "decryption shares name different trustees");
    j = who;
    const voting_question_t *qq = &a->poll.def.q[q];
    uint8_t ctx[VOTING_QCTX_BYTES];
    voting_decrypt_context(ctx, a->chain, a->poll.id, q);
    rc = vote_decshare_verify(a->dkg.vk[j - 1], j, a->tally_cts[qq->first], qq->options, ctx, sizeof ctx,
                              d.share[q].ptr, d.share[q].len);
    if (rc)
      return fail(reason, rl, rc, "decryption share of trustee %u (question %u) does not verify against the "
                  "recomputed tally: %s", j, q + 1, ve_strerror(rc));
  }
  if (a->decrypted & (1u << (j - 1))) return fail(reason, rl, VE_ERR_DUPLICATE, "trustee %u decrypted twice", j);
  if (!(a->shares[j - 1] = malloc(tx->payload.len))) return fail(reason, rl, VE_ERR_NOMEM, "out of memory");
  memcpy(a->shares[j - 1], tx->payload.ptr, tx->payload.len);
  a->shares_len[j - 1] = tx->payload.len;
  a->share_order[vpoll_popcount(a->decrypted)] = j;
  a->decrypted |= 1u << (j - 1);
  a->rep.shares++;
  if (vpoll_popcount(a->decrypted) == a->t) return audit_result(a, reason, rl);
  return VE_OK;
}

/* ---- feeding and finishing ---- */

int voting_audit_tx(voting_audit_t *a, uint64_t height, const ledger_tx_t *tx, int32_t code, int pre,
                    char *reason, size_t rl) {
  if (!voting_audit_wants(a, tx)) return VE_OK;
  a->rep.txs_seen++;
  if (code != VE_OK) {
    a->rep.txs_failed++;
    return VE_OK;
  }
  if (!a->created && tx->type != TX_TYPE_POLL_CREATE)
    return fail(reason, rl, VE_ERR_STATE, "poll transaction accepted before the poll's creation");
  if (a->cancelled) return fail(reason, rl, VE_ERR_STATE, "poll transaction accepted after cancellation");
  switch (tx->type) {
    case TX_TYPE_POLL_CREATE: return audit_create(a, height, tx, reason, rl);
    case TX_TYPE_POLL_CANCEL:
      if (a->poll.status != VOTING_CANCELLED || a->poll.status_height != height)
        return fail(reason, rl, VE_ERR_STATE, "a cancellation the poll record does not show");
      a->cancelled = true;
      return VE_OK;
    case TX_TYPE_POLL_DKG_DEAL: return audit_deal(a, height, tx, reason, rl);
    case TX_TYPE_POLL_DKG_COMPLAIN: return audit_complain(a, height, tx, reason, rl);
    case TX_TYPE_POLL_DKG_FINISH: return audit_finish_dkg(a, height, reason, rl);
    case TX_TYPE_POLL_BALLOT: return audit_ballot(a, height, tx, pre, reason, rl);
    case TX_TYPE_POLL_DECRYPT: return audit_decrypt(a, height, tx, reason, rl);
  }
  return fail(reason, rl, VE_ERR_UNKNOWN_TYPE, "unknown poll transaction type 0x%04x accepted", tx->type);
}

int voting_audit_finish(voting_audit_t *a, voting_audit_report_t *rep, char *reason, size_t rl) {
  const voting_poll_t *p = &a->poll;
  if (!a->created) return fail(reason, rl, VE_ERR_NOT_FOUND, "the poll's create transaction was not among the blocks");
  if (p->status == VOTING_CANCELLED && !a->cancelled)
    return fail(reason, rl, VE_ERR_STATE, "the record says cancelled but no cancellation was accepted");
  if (p->has_key && !a->finished && !(p->status == VOTING_CANCELLED))
    return fail(reason, rl, VE_ERR_STATE, "the record has an election key but no key generation finished");
  if (p->status == VOTING_FAILED && !a->failed)
    return fail(reason, rl, VE_ERR_STATE, "the record says the key generation failed; it did not");
  if (a->dealt != p->dealt || a->upheld != p->upheld || memcmp(a->complained, p->complained, sizeof a->complained))
    return fail(reason, rl, VE_ERR_STATE, "the record's dealings or complaints differ from the transactions");
  if (a->finished) {
    freeze_tally(a);
    if (a->have_tally) {
      if (a->tally.voters != a->rep.voters || a->tally.ballots != a->rep.ballots)
        return fail(reason, rl, VE_ERR_HASH_MISMATCH, "the chain counts %llu voters / %llu ballots, recomputed %llu / %llu",
                    (unsigned long long)a->tally.voters, (unsigned long long)a->tally.ballots,
                    (unsigned long long)a->rep.voters, (unsigned long long)a->rep.ballots);
      if (memcmp(a->tally.cts, a->tally_cts, (size_t)a->nopt * VOTE_CT_BYTES))
        return fail(reason, rl, VE_ERR_HASH_MISMATCH, "the chain's encrypted tally differs from the recomputed one");
    }
  }
  if (a->decrypted != p->decrypted)
    return fail(reason, rl, VE_ERR_STATE, "the record's decryptions differ from the transactions");
  if (p->has_result != a->result)
    return fail(reason, rl, VE_ERR_STATE, p->has_result ? "the record has a result the shares do not give"
                                                        : "enough shares were accepted but the record has no result");
  if (a->result) {
    if (memcmp(p->tally, a->tally_cts, (size_t)a->nopt * VOTE_CT_BYTES))
      return fail(reason, rl, VE_ERR_HASH_MISMATCH, "the result decrypts a tally other than the recomputed one");
    if (p->voters != a->rep.voters || p->used != a->used)
      return fail(reason, rl, VE_ERR_HASH_MISMATCH, "the result's voters or trustees differ from the recomputation");
    for (uint32_t o = 0; o < a->nopt; o++)
      if (p->counts[o] != a->rep.counts[o])
        return fail(reason, rl, VE_ERR_PROOF, "option %u: the chain says %llu votes, the decryption gives %llu", o + 1,
                    (unsigned long long)p->counts[o], (unsigned long long)a->rep.counts[o]);
    /* And the published counts against the published shares, without a table. */
    voting_decrypt_payload_t dp[VOTING_TRUSTEES_MAX];
    for (uint32_t k = 0; k < a->t; k++) {
      uint32_t j = a->share_order[k];
      VE_TRY(voting_decrypt_payload_decode(ve_slice(a->shares[j - 1], a->shares_len[j - 1]), &dp[k]));
    }
    for (uint32_t q = 0; q < p->def.n_questions; q++) {
      const voting_question_t *qq = &p->def.q[q];
      ve_slice_t sh[VOTING_TRUSTEES_MAX];
      for (uint32_t k = 0; k < a->t; k++) sh[k] = dp[k].share[q];
      int rc = vote_result_verify(p->counts + qq->first, a->t, sh, a->t, p->tally[qq->first], qq->options);
      if (rc) return fail(reason, rl, rc, "question %u: the published counts do not match the shares", q + 1);
    }
    a->rep.result_checked = true;
  }
  *rep = a->rep;
  return VE_OK;
}
