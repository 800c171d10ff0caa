/* poll.c — the poll app: validation and state transitions of poll
 * transactions (voting.h has the status machine and its invariants,
 * docs/voting.md the checks and error codes). Every apply_* decodes its whole
 * payload strictly first, then checks permission, phase and state, then the
 * cryptography, and only then writes; any error leaves the state untouched
 * (the ledger rolls back the transaction's writes). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "apps/identity/identity.h"
#include "apps/voting/poll_int.h"
#include "apps/voting/vcrypt_int.h"
#include "base/err.h"
#include "state/state.h"

/* ---- state access over the ledger overlay (execution) or a store txn (reads) ---- */

static int load_poll(const ledger_reader_t *rd, const uint8_t id[32], voting_poll_t *p) {
  uint8_t key[VOTING_POLL_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, voting_poll_key(key, id)), &v));
  return voting_poll_decode(v, id, p);
}

static int load_tally(const ledger_reader_t *rd, const voting_poll_t *p, voting_tally_rec_t *t) {
  uint8_t key[VOTING_TALLY_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, voting_tally_key(key, p->id)), &v));
  return voting_tally_decode(v, p->def.n_options, t);
}

static int load_ballot(const ledger_reader_t *rd, const voting_poll_t *p, const uint8_t voter[32],
                       voting_ballot_rec_t *b) {
  uint8_t key[VOTING_BALLOT_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, voting_ballot_key(key, p->id, voter)), &v));
  return voting_ballot_rec_decode(v, voter, p->def.n_options, b);
}

static int load_trustee_key(const ledger_reader_t *rd, const uint8_t identity[32], voting_trustee_key_t *k) {
  uint8_t key[VOTING_TRUSTEE_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_reader_get(rd, ve_slice(key, voting_trustee_key(key, identity)), &v));
  return voting_trustee_key_decode(v, k);
}

int voting_poll_get(store_txn_t *t, const uint8_t poll[32], voting_poll_t *out) {
  ledger_reader_t rd = {NULL, t};
  return load_poll(&rd, poll, out);
}

int voting_tally_get(store_txn_t *t, const voting_poll_t *p, voting_tally_rec_t *out) {
  ledger_reader_t rd = {NULL, t};
  return load_tally(&rd, p, out);
}

int voting_ballot_get(store_txn_t *t, const voting_poll_t *p, const uint8_t voter[32],
                      voting_ballot_rec_t *out) {
  ledger_reader_t rd = {NULL, t};
  return load_ballot(&rd, p, voter, out);
}

int voting_trustee_key_get(store_txn_t *t, const uint8_t identity[32], voting_trustee_key_t *out) {
  ledger_reader_t rd = {NULL, t};
  return load_trustee_key(&rd, identity, out);
}

/* Encodes with enc into a buffer bounded by max and puts it under key. */
#define STORE_ENCODED(ex, key, key_len, max, enc, rec)                       \
  do {                                                                       \
    ve_buf_t b_;                                                             \
    ve_buf_init(&b_, (max));                                                 \
    int rc_ = enc((rec), &b_);                                               \
    if (rc_ == VE_OK) rc_ = ledger_state_put((ex), ve_slice((key), (key_len)), ve_buf_slice(&b_)); \
    ve_buf_free(&b_);                                                        \
    VE_TRY(rc_);                                                             \
  } while (0)

static int store_poll(ledger_exec_t *ex, const voting_poll_t *p) {
  uint8_t key[VOTING_POLL_KEY_BYTES];
  STORE_ENCODED(ex, key, voting_poll_key(key, p->id), VOTING_RECORD_BYTES_MAX, vpoll_record_encode, p);
  return VE_OK;
}

static int store_tally(ledger_exec_t *ex, const uint8_t poll[32], const voting_tally_rec_t *t) {
  uint8_t key[VOTING_TALLY_KEY_BYTES];
  STORE_ENCODED(ex, key, voting_tally_key(key, poll), VOTING_RECORD_BYTES_MAX, vpoll_tally_encode, t);
  return VE_OK;
}

static int store_ballot(ledger_exec_t *ex, const uint8_t poll[32], const voting_ballot_rec_t *b) {
  uint8_t key[VOTING_BALLOT_KEY_BYTES];
  STORE_ENCODED(ex, key, voting_ballot_key(key, poll, b->voter), VOTING_RECORD_BYTES_MAX,
                vpoll_ballot_rec_encode, b);
  return VE_OK;
}

/* The signer's identity record (active: the authoriser checked it). */
static int load_identity(ledger_exec_t *ex, const uint8_t id[32], identity_t *out) {
  uint8_t key[3 + LEDGER_HASH_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_state_get(ex, ve_slice(key, identity_state_key(key, id)), &v));
  return identity_decode(v, id, out);
}

/* ---- election cache ----
 * vote_election_init precomputes tables for G and Y (~40 us); ballots of one
 * poll all use the same few elections, so a small process-wide cache keeps
 * them. Entries are pure functions of their key, so the cache never changes a
 * result; it is copied out under the lock so callers never share an entry. */

#define ELECTION_CACHE_ENTRIES 8

typedef struct {
  bool used;
  uint64_t stamp;
  uint8_t pk[VOTE_POINT_BYTES];
  uint32_t options, min, max;
  vote_election_t el;
} election_slot_t;

static election_slot_t g_elections[ELECTION_CACHE_ENTRIES];
static uint64_t g_election_clock;
static pthread_mutex_t g_election_mu = PTHREAD_MUTEX_INITIALIZER;

int voting_election_get(vote_election_t *el, const voting_poll_t *p, uint32_t q) {
  if (!p->has_key) return VE_ERR_STATE;
  VE_ASSERT(q < p->def.n_questions);
  const voting_question_t *qq = &p->def.q[q];
  pthread_mutex_lock(&g_election_mu);
  election_slot_t *victim = &g_elections[0];
  for (size_t i = 0; i < ELECTION_CACHE_ENTRIES; i++) {
    election_slot_t *s = &g_elections[i];
    if (s->used && s->options == qq->options && s->min == qq->min && s->max == qq->max &&
        !memcmp(s->pk, p->pk, VOTE_POINT_BYTES)) {
      s->stamp = ++g_election_clock;
      memcpy(el, &s->el, sizeof *el);
      pthread_mutex_unlock(&g_election_mu);
      return VE_OK;
    }
    if (!s->used || s->stamp < victim->stamp) victim = s;
  }
  pthread_mutex_unlock(&g_election_mu);
  VE_TRY(vote_election_init(el, p->pk, qq->options, qq->min, qq->max));
  pthread_mutex_lock(&g_election_mu);
  victim->used = true;
  victim->stamp = ++g_election_clock;
  memcpy(victim->pk, p->pk, VOTE_POINT_BYTES);
  victim->options = qq->options, victim->min = qq->min, victim->max = qq->max;
  memcpy(&victim->el, el, sizeof *el);
  pthread_mutex_unlock(&g_election_mu);
  return VE_OK;
}

/* ---- homomorphic tally update ----
 * sum[o] := sum[o] - sub[o] + add[o] for every option (sub may be NULL), on
 * encoded ciphertexts. Every operand is decoded first, so a bad encoding
 * leaves sum untouched. Identity encodings are allowed (an empty tally). */
static int tally_update(uint8_t (*sum)[VOTE_CT_BYTES], const uint8_t *sub, const uint8_t *add, uint32_t n) {
  for (uint32_t i = 0; i < 2 * n; i++) {
    vote_ge_t s, a, r;
    uint8_t *enc = sum[i / 2] + 32 * (i % 2);
    if (vote_point_decode(&s, enc, true) != VE_OK) return VE_ERR_CORRUPT;
    if (sub) {
      if (vote_point_decode(&r, sub + 32 * i, true) != VE_OK) return VE_ERR_CORRUPT;
      vote_ge_sub(&s, &s, &r);
    }
    VE_TRY(vote_point_decode(&a, add + 32 * i, true));
    vote_ge_add(&s, &s, &a);
    vote_ge_encode(enc, &s);
  }
  return VE_OK;
}

/* ---- the context every poll transaction shares ---- */

typedef struct {
  ledger_exec_t *ex;
  const ledger_tx_t *tx;
  const ledger_signer_t *s;
  uint64_t h;
  ve_slice_t chain;
  voting_poll_t *p; /* heap: ~25 KiB */
} op_t;

static vote_dkg_params_t dkg_params(const voting_poll_t *p) {
  vote_dkg_params_t d = {p->def.n_trustees, p->def.threshold};
  return d;
}

/* Trustee index of the signer, which must hold the trustee role: 1..n, or 0
 * with *err set. */
static uint32_t signer_trustee(const op_t *op, int *err) {
  uint32_t j = voting_trustee_index(&op->p->def, op->s->identity_id);
  *err = (j == 0 || !(op->s->roles & ROLE_TRUSTEE)) ? VE_ERR_PERMISSION : VE_OK;
  return *err ? 0 : j;
}

/* ---- trustee key ---- */

static int apply_trustee_key(op_t *op, codec_reader_t *r) {
  voting_trustee_key_t k;
  uint8_t proof[VOTE_DLEQ_PROOF_BYTES];
  codec_get_fixed(r, k.enc_pk, VOTE_POINT_BYTES);
  codec_get_fixed(r, proof, sizeof proof);
  VE_TRY(codec_reader_finish(r));
  if (!(op->s->roles & ROLE_TRUSTEE)) return VE_ERR_PERMISSION;
  VE_TRY(vote_pk_check(k.enc_pk));
  uint8_t ctx[32];
  vpoll_trustee_pop_context(ctx, op->chain, op->s->identity_id);
  if (vote_partial_verify(k.enc_pk, 0, VPOLL_BASE_G, k.enc_pk, proof, ctx, sizeof ctx) != VE_OK)
    return VE_ERR_PROOF;
  k.height = op->h;
  uint8_t key[VOTING_TRUSTEE_KEY_BYTES];
  STORE_ENCODED(op->ex, key, voting_trustee_key(key, op->s->identity_id), 128, vpoll_trustee_key_encode, &k);
  return VE_OK;
}

/* ---- create and cancel ---- */

/* Trustee j of a new poll: an active identity with the trustee role and a
 * published share-encryption key. */
static int trustee_check(op_t *op, uint32_t j) {
  identity_t id;
  const uint8_t *tid = op->p->def.trustees[j];
  VE_TRY(load_identity(op->ex, tid, &id));
  if (id.status == IDENTITY_REVOKED) return VE_ERR_REVOKED;
  if (id.status == IDENTITY_SUSPENDED) return VE_ERR_SUSPENDED;
  if (!(id.roles & ROLE_TRUSTEE)) return VE_ERR_INVALID;
  ledger_reader_t rd = {op->ex, NULL};
  voting_trustee_key_t k;
  VE_TRY(load_trustee_key(&rd, tid, &k));
  for (uint32_t m = 0; m < j; m++)
    if (!memcmp(op->p->enc_pk[m], k.enc_pk, VOTE_POINT_BYTES)) return VE_ERR_DUPLICATE;
  memcpy(op->p->enc_pk[j], k.enc_pk, VOTE_POINT_BYTES);
  return VE_OK;
}

static int apply_create(op_t *op) {
  voting_poll_t *p = op->p;
  VE_TRY(voting_def_decode(op->tx->payload, &p->def));
  if (!(op->s->roles & ROLE_POLL_ORGANIZER)) return VE_ERR_PERMISSION;
  if (p->def.deal_end <= op->h) return VE_ERR_HEIGHT; /* the dealing phase must lie ahead */
  voting_poll_id(p->id, op->tx->signer, op->tx->seq);
  ledger_reader_t rd = {op->ex, NULL};
  voting_poll_t *other = malloc(sizeof *other);
  if (!other) return VE_ERR_NOMEM;
  int rc = load_poll(&rd, p->id, other);
  free(other);
  if (rc == VE_OK) return VE_ERR_EXISTS;
  if (rc != VE_ERR_NOT_FOUND) return rc;
  for (uint32_t j = 0; j < p->def.n_trustees; j++) VE_TRY(trustee_check(op, j));
  memcpy(p->organizer, op->s->identity_id, LEDGER_HASH_BYTES);
  p->created_height = p->status_height = op->h;
  p->status = VOTING_DKG;
  return store_poll(op->ex, p);
}

/* Loads the poll a payload names (after the caller decoded the payload). */
static int op_load(op_t *op, const uint8_t poll[32]) {
  ledger_reader_t rd = {op->ex, NULL};
  return load_poll(&rd, poll, op->p);
}

static int apply_cancel(op_t *op, codec_reader_t *r) {
  uint8_t poll[32];
  codec_get_fixed(r, poll, sizeof poll);
  (void)codec_get_bytes(r, VOTING_REASON_BYTES_MAX); /* kept in the transaction */
  VE_TRY(codec_reader_finish(r));
  VE_TRY(op_load(op, poll));
  voting_poll_t *p = op->p;
  if (memcmp(op->s->identity_id, p->organizer, 32) && !(op->s->roles & ROLE_ADMIN)) return VE_ERR_PERMISSION;
  if (p->status != VOTING_DKG && p->status != VOTING_READY) return VE_ERR_STATE;
  if (op->h >= p->def.open_height) return VE_ERR_TOO_LATE;
  p->status = VOTING_CANCELLED;
  p->status_height = op->h;
  return store_poll(op->ex, p);
}

/* ---- distributed key generation ---- */

static int apply_deal(op_t *op, codec_reader_t *r) {
  uint8_t poll[32];
  codec_get_fixed(r, poll, sizeof poll);
  ve_slice_t dealing = codec_get_bytes(r, VOTE_DKG_DEALING_BYTES_MAX);
  VE_TRY(codec_reader_finish(r));
  VE_TRY(op_load(op, poll));
  voting_poll_t *p = op->p;
  int err;
  uint32_t i = signer_trustee(op, &err);
  VE_TRY(err);
  if (p->status != VOTING_DKG) return VE_ERR_STATE;
  if (op->h > p->def.deal_end) return VE_ERR_TOO_LATE;
  if (p->dealt & (1u << (i - 1))) return VE_ERR_EXISTS;
  uint8_t ctx[32];
  voting_poll_context(ctx, op->chain, p->id);
  vote_dkg_params_t dp = dkg_params(p);
  VE_TRY(vote_dkg_dealing_verify(&dp, i, ctx, sizeof ctx, dealing.ptr, dealing.len));
  uint8_t key[VOTING_DEALING_KEY_BYTES];
  VE_TRY(ledger_state_put(op->ex, ve_slice(key, voting_dealing_key(key, p->id, i)), dealing));
  p->dealt |= 1u << (i - 1);
  return store_poll(op->ex, p);
}

/* Copies dealer i's dealing into buf (a fixed slot of VOTE_DKG_DEALING_BYTES_MAX). */
static int load_dealing(op_t *op, uint32_t i, uint8_t *buf, ve_slice_t *out) {
  uint8_t key[VOTING_DEALING_KEY_BYTES];
  ve_slice_t v;
  VE_TRY(ledger_state_get(op->ex, ve_slice(key, voting_dealing_key(key, op->p->id, i)), &v));
  if (v.len > VOTE_DKG_DEALING_BYTES_MAX) return VE_ERR_CORRUPT;
  memcpy(buf, v.ptr, v.len);
  *out = ve_slice(buf, v.len);
  return VE_OK;
}

static int apply_complain(op_t *op, codec_reader_t *r) {
  uint8_t poll[32], c[VOTE_DKG_COMPLAINT_BYTES];
  codec_get_fixed(r, poll, sizeof poll);
  codec_get_fixed(r, c, sizeof c);
  VE_TRY(codec_reader_finish(r));
  VE_TRY(op_load(op, poll));
  voting_poll_t *p = op->p;
  int err;
  uint32_t j = signer_trustee(op, &err);
  VE_TRY(err);
  if (p->status != VOTING_DKG) return VE_ERR_STATE;
  if (op->h <= p->def.deal_end) return VE_ERR_TOO_EARLY;
  if (op->h > p->def.complaint_end) return VE_ERR_TOO_LATE;
  uint32_t dealer = c[1], complainer = c[2]; /* u8 version | u8 dealer | u8 recipient | ... */
  if (complainer != j) return VE_ERR_PERMISSION; /* nobody complains in another's name */
  if (dealer < 1 || dealer > p->def.n_trustees) return VE_ERR_INVALID;
  if (!(p->dealt & (1u << (dealer - 1)))) return VE_ERR_NOT_FOUND;
  if (p->complained[dealer - 1] & (1u << (j - 1))) return VE_ERR_EXISTS;
  uint8_t *buf = malloc(VOTE_DKG_DEALING_BYTES_MAX);
  if (!buf) return VE_ERR_NOMEM;
  ve_slice_t dealing;
  int rc = load_dealing(op, dealer, buf, &dealing);
  uint8_t ctx[32];
  voting_poll_context(ctx, op->chain, p->id);
  vote_dkg_params_t dp = dkg_params(p);
  bool upheld = false;
  if (rc == VE_OK)
    rc = vote_dkg_complaint_check(&upheld, &dp, (const uint8_t(*)[32])p->enc_pk, ctx, sizeof ctx, dealing.ptr,
                                  dealing.len, c, sizeof c);
  free(buf);
  VE_TRY(rc);
  uint8_t key[VOTING_COMPLAINT_KEY_BYTES], val[1 + VOTE_DKG_COMPLAINT_BYTES];
  val[0] = upheld ? 1 : 0;
  memcpy(val + 1, c, sizeof c);
  VE_TRY(ledger_state_put(op->ex, ve_slice(key, voting_complaint_key(key, p->id, dealer, j)),
                          ve_slice(val, sizeof val)));
  p->complained[dealer - 1] |= 1u << (j - 1);
  if (upheld) p->upheld |= 1u << (dealer - 1);
  return store_poll(op->ex, p);
}

/* Runs vote_dkg_finish on exactly the accepted dealings and complaints. */
static int dkg_finish(op_t *op, vote_dkg_result_t *res) {
  voting_poll_t *p = op->p;
  uint32_t n = p->def.n_trustees;
  uint8_t *dbuf = malloc((size_t)n * VOTE_DKG_DEALING_BYTES_MAX);
  uint8_t(*cbuf)[VOTE_DKG_COMPLAINT_BYTES] = malloc((size_t)n * n * VOTE_DKG_COMPLAINT_BYTES);
  ve_slice_t *dealings = calloc(n, sizeof *dealings), *complaints = calloc((size_t)n * n, sizeof *complaints);
  int rc = dbuf && cbuf && dealings && complaints ? VE_OK : VE_ERR_NOMEM;
  size_t nc = 0;
  for (uint32_t i = 1; rc == VE_OK && i <= n; i++) {
    if (p->dealt & (1u << (i - 1)))
      rc = load_dealing(op, i, dbuf + (size_t)(i - 1) * VOTE_DKG_DEALING_BYTES_MAX, &dealings[i - 1]);
    for (uint32_t j = 1; rc == VE_OK && j <= n; j++) {
      if (!(p->complained[i - 1] & (1u << (j - 1)))) continue;
      uint8_t key[VOTING_COMPLAINT_KEY_BYTES];
      ve_slice_t v, c;
      bool upheld;
      rc = ledger_state_get(op->ex, ve_slice(key, voting_complaint_key(key, p->id, i, j)), &v);
      if (rc == VE_OK) rc = voting_complaint_rec_decode(v, &upheld, &c);
      if (rc == VE_OK) {
        memcpy(cbuf[nc], c.ptr, c.len);
        complaints[nc] = ve_slice(cbuf[nc], c.len);
        nc++;
      }
    }
  }
  if (rc == VE_OK) {
    uint8_t ctx[32];
    voting_poll_context(ctx, op->chain, p->id);
    vote_dkg_params_t dp = dkg_params(p);
    rc = vote_dkg_finish(res, &dp, (const uint8_t(*)[32])p->enc_pk, ctx, sizeof ctx, dealings, complaints, nc);
  }
  free(dbuf);
  free(cbuf);
  free(dealings);
  free(complaints);
  return rc;
}

static int apply_finish(op_t *op, codec_reader_t *r) {
  uint8_t poll[32];
  codec_get_fixed(r, poll, sizeof poll);
  VE_TRY(codec_reader_finish(r));
  VE_TRY(op_load(op, poll));
  voting_poll_t *p = op->p;
  if (memcmp(op->s->identity_id, p->organizer, 32) && !voting_trustee_index(&p->def, op->s->identity_id))
    return VE_ERR_PERMISSION;
  if (p->status != VOTING_DKG) return VE_ERR_STATE;
  if (op->h <= p->def.complaint_end) return VE_ERR_TOO_EARLY;
  if (op->h > p->def.close_height) return VE_ERR_TOO_LATE;
  vote_dkg_result_t res;
  int rc = dkg_finish(op, &res);
  p->status_height = op->h;
  if (rc == VE_ERR_QUORUM || rc == VE_ERR_CRYPTO) {
    p->status = VOTING_FAILED; /* recorded: the outcome is public and final */
    return store_poll(op->ex, p);
  }
  VE_TRY(rc);
  p->status = VOTING_READY;
  p->has_key = true;
  p->qualified = (uint32_t)res.qualified;
  memcpy(p->pk, res.pk, VOTE_POINT_BYTES);
  memcpy(p->vk, res.vk, sizeof p->vk);
  VE_TRY(store_poll(op->ex, p));
  voting_tally_rec_t t;
  memset(&t, 0, sizeof t); /* all-zero bytes encode the identity: the empty tally */
  t.n_options = p->def.n_options;
  return store_tally(op->ex, p->id, &t);
}

/* ---- ballots ---- */

/* May the signer vote in p at this height? */
static int ballot_admissible(op_t *op, const voting_ballot_payload_t *b) {
  voting_poll_t *p = op->p;
  if (memcmp(b->voter, op->s->identity_id, LEDGER_HASH_BYTES)) return VE_ERR_PERMISSION;
  switch (p->status) {
    case VOTING_READY: break;
    case VOTING_DONE: return VE_ERR_TOO_LATE;
    case VOTING_DKG: return op->h < p->def.open_height ? VE_ERR_TOO_EARLY : VE_ERR_STATE;
    default: return VE_ERR_STATE; /* cancelled or failed */
  }
  if (op->h < p->def.open_height) return VE_ERR_TOO_EARLY;
  if (op->h > p->def.close_height) return VE_ERR_TOO_LATE;
  if (p->def.has_filter) {
    identity_t id;
    VE_TRY(load_identity(op->ex, op->s->identity_id, &id));
    bool match = false;
    for (size_t i = 0; i < id.n_attrs; i++)
      if (!strcmp(id.attrs[i].key, p->def.filter_key)) match = !strcmp(id.attrs[i].value, p->def.filter_value);
    if (!match) return VE_ERR_NOT_ELIGIBLE;
  }
  return VE_OK;
}

/* Shape (question count, each ballot's options and bounds) against the poll. */
static int ballot_shape_check(const voting_poll_t *p, const voting_ballot_payload_t *b) {
  if (b->n != p->def.n_questions) return VE_ERR_WRONG_POLL;
  for (uint32_t q = 0; q < b->n; q++) {
    uint32_t n, mn, mx;
    VE_TRY(vpoll_ballot_shape(b->ballot[q], &n, &mn, &mx));
    const voting_question_t *qq = &p->def.q[q];
    if (n != qq->options || mn != qq->min || mx != qq->max) return VE_ERR_WRONG_POLL;
  }
  return VE_OK;
}

/* Verifies every ballot of b against p's key with the ledger's own contexts. */
static int ballot_verify_all(const voting_poll_t *p, ve_slice_t chain, const voting_ballot_payload_t *b) {
  vote_election_t *el = malloc(sizeof *el);
  if (!el) return VE_ERR_NOMEM;
  int rc = VE_OK;
  for (uint32_t q = 0; rc == VE_OK && q < b->n; q++) {
    uint8_t ctx[VOTING_QCTX_BYTES];
    voting_ballot_context(ctx, chain, p->id, b->voter, q);
    rc = voting_election_get(el, p, q);
    if (rc == VE_OK) rc = vote_ballot_verify(el, ctx, sizeof ctx, b->ballot[q].ptr, b->ballot[q].len);
  }
  free(el);
  return rc;
}

/* The ciphertexts of b's ballots, options of all questions in order. */
static int ballot_cts(const voting_ballot_payload_t *b, uint8_t (*cts)[VOTE_CT_BYTES]) {
  uint32_t k = 0;
  for (uint32_t q = 0; q < b->n; q++) {
    uint32_t n;
    const uint8_t *c;
    VE_TRY(vote_ballot_ciphertexts(b->ballot[q].ptr, b->ballot[q].len, &n, &c));
    memcpy(cts[k], c, (size_t)n * VOTE_CT_BYTES);
    k += n;
  }
  return VE_OK;
}

/* Everything a ballot writes: the voter's record (replacing the earlier one in
 * the tally), the tracker, the tally. */
typedef struct {
  voting_ballot_rec_t prev, rec;
  voting_tally_rec_t tally;
} ballot_work_t;

static int ballot_commit(op_t *op, const voting_ballot_payload_t *b, ballot_work_t *w) {
  voting_poll_t *p = op->p;
  ledger_reader_t rd = {op->ex, NULL};
  uint32_t n = p->def.n_options;
  VE_TRY(load_tally(&rd, p, &w->tally));
  int rc = load_ballot(&rd, p, b->voter, &w->prev);
  if (rc != VE_OK && rc != VE_ERR_NOT_FOUND) return rc;
  bool replaces = rc == VE_OK;
  if (!replaces && w->tally.voters >= VOTING_VOTERS_MAX) return VE_ERR_LIMIT;
  memset(&w->rec, 0, sizeof w->rec);
  memcpy(w->rec.voter, b->voter, 32);
  voting_tracker(w->rec.tracker, b->list);
  w->rec.height = op->h;
  w->rec.revision = replaces ? w->prev.revision + 1 : 1;
  w->rec.n_options = n;
  VE_TRY(ballot_cts(b, w->rec.cts));
  VE_TRY(tally_update(w->tally.cts, replaces ? &w->prev.cts[0][0] : NULL, &w->rec.cts[0][0], n));
  w->tally.voters += replaces ? 0 : 1;
  w->tally.ballots++;
  uint8_t key[VOTING_TRACKER_KEY_BYTES];
  VE_TRY(ledger_state_put(op->ex, ve_slice(key, voting_tracker_key(key, p->id, w->rec.tracker)),
                          ve_slice(b->voter, 32)));
  VE_TRY(store_ballot(op->ex, p->id, &w->rec));
  return store_tally(op->ex, p->id, &w->tally);
}

static int apply_ballot(op_t *op) {
  voting_ballot_payload_t b;
  VE_TRY(voting_ballot_payload_decode(op->tx->payload, &b));
  VE_TRY(op_load(op, b.poll));
  VE_TRY(ballot_admissible(op, &b));
  VE_TRY(ballot_shape_check(op->p, &b));
  /* A ballot accepted once in this poll is never accepted again (replay). */
  uint8_t tracker[32], key[VOTING_TRACKER_KEY_BYTES];
  voting_tracker(tracker, b.list);
  ve_slice_t v;
  int rc = ledger_state_get(op->ex, ve_slice(key, voting_tracker_key(key, b.poll, tracker)), &v);
  if (rc == VE_OK) return VE_ERR_DUPLICATE;
  if (rc != VE_ERR_NOT_FOUND) return rc;
  VE_TRY(ballot_verify_all(op->p, op->chain, &b));
  ballot_work_t *w = malloc(sizeof *w);
  if (!w) return VE_ERR_NOMEM;
  rc = ballot_commit(op, &b, w);
  free(w);
  return rc;
}

/* ---- decryption and result ---- */

/* Decrypts every question's tally from the shares of the trustees in mask
 * (exactly t of them, ascending) and records the result. */
static int compute_result(op_t *op, const voting_tally_rec_t *tally, uint32_t mask) {
  voting_poll_t *p = op->p;
  uint32_t t = p->def.threshold;
  voting_decrypt_payload_t *dp = calloc(t, sizeof *dp);
  uint8_t **bufs = calloc(t, sizeof *bufs);
  vote_dlog_table_t *tab = NULL;
  int rc = dp && bufs ? vote_dlog_table_new(&tab) : VE_ERR_NOMEM;
  uint32_t k = 0;
  for (uint32_t j = 1; rc == VE_OK && j <= p->def.n_trustees; j++) {
    if (!(mask & (1u << (j - 1)))) continue;
    uint8_t key[VOTING_DECRYPT_KEY_BYTES];
    ve_slice_t v;
    rc = ledger_state_get(op->ex, ve_slice(key, voting_decrypt_key(key, p->id, j)), &v);
    /* Copy: the slices of all t payloads must stay valid together. */
    if (rc == VE_OK) rc = (bufs[k] = malloc(v.len ? v.len : 1)) ? VE_OK : VE_ERR_NOMEM;
    if (rc == VE_OK) {
      memcpy(bufs[k], v.ptr, v.len);
      rc = voting_decrypt_payload_decode(ve_slice(bufs[k], v.len), &dp[k]) ? VE_ERR_CORRUPT : VE_OK;
    }
    k++;
  }
  for (uint32_t q = 0; rc == VE_OK && q < p->def.n_questions; q++) {
    ve_slice_t shares[VOTING_TRUSTEES_MAX];
    for (uint32_t i = 0; i < t; i++) shares[i] = dp[i].share[q];
    const voting_question_t *qq = &p->def.q[q];
    rc = vote_tally_decrypt(p->counts + qq->first, tab, t, shares, t, &tally->cts[qq->first][0], qq->options);
  }
  vote_dlog_table_free(tab);
  for (uint32_t i = 0; bufs && i < t; i++) free(bufs[i]);
  free(bufs);
  free(dp);
  VE_TRY(rc);
  p->status = VOTING_DONE;
  p->status_height = p->result_height = op->h;
  p->has_result = true;
  p->voters = tally->voters;
  p->used = mask;
  memcpy(p->tally, tally->cts, sizeof p->tally);
  return VE_OK;
}

static int apply_decrypt(op_t *op) {
  voting_decrypt_payload_t d;
  VE_TRY(voting_decrypt_payload_decode(op->tx->payload, &d));
  VE_TRY(op_load(op, d.poll));
  voting_poll_t *p = op->p;
  int err;
  uint32_t j = signer_trustee(op, &err);
  VE_TRY(err);
  if (p->status != VOTING_READY) return VE_ERR_STATE; /* no key, cancelled, or already decrypted */
  if (op->h <= p->def.close_height) return VE_ERR_TOO_EARLY;
  if (p->decrypted & (1u << (j - 1))) return VE_ERR_EXISTS;
  if (d.n != p->def.n_questions) return VE_ERR_WRONG_POLL;
  ledger_reader_t rd = {op->ex, NULL};
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  if (!tally) return VE_ERR_NOMEM;
  int rc = load_tally(&rd, p, tally);
  for (uint32_t q = 0; rc == VE_OK && q < d.n; q++) {
    uint32_t who;
    const voting_question_t *qq = &p->def.q[q];
    uint8_t ctx[VOTING_QCTX_BYTES];
    voting_decrypt_context(ctx, op->chain, p->id, q);
    rc = vote_decshare_trustee(d.share[q].ptr, d.share[q].len, &who);
    if (rc == VE_OK && who != j) rc = VE_ERR_PERMISSION;
    if (rc == VE_OK)
      rc = vote_decshare_verify(p->vk[j - 1], j, &tally->cts[qq->first][0], qq->options, ctx, sizeof ctx,
                                d.share[q].ptr, d.share[q].len);
  }
  uint8_t key[VOTING_DECRYPT_KEY_BYTES];
  if (rc == VE_OK)
    rc = ledger_state_put(op->ex, ve_slice(key, voting_decrypt_key(key, p->id, j)), op->tx->payload);
  if (rc == VE_OK) {
    p->decrypted |= 1u << (j - 1);
    if (vpoll_popcount(p->decrypted) == p->def.threshold) rc = compute_result(op, tally, p->decrypted);
  }
  free(tally);
  VE_TRY(rc);
  return store_poll(op->ex, p);
}

/* ---- dispatch ---- */

static int voting_apply(ledger_exec_t *ex, const ledger_tx_t *tx, const ledger_signer_t *s) {
  op_t op = {ex, tx, s, ledger_exec_height(ex), ledger_exec_chain_id(ex), NULL};
  op.p = calloc(1, sizeof *op.p);
  if (!op.p) return VE_ERR_NOMEM;
  codec_reader_t r;
  codec_reader_init(&r, tx->payload);
  int rc = VE_OK;
  if (tx->type != TX_TYPE_POLL_CREATE && tx->type != TX_TYPE_POLL_BALLOT && tx->type != TX_TYPE_POLL_DECRYPT &&
      codec_get_u8(&r) != VOTING_PAYLOAD_VERSION)
    rc = r.err ? r.err : VE_ERR_VERSION;
  if (rc == VE_OK) {
    switch (tx->type) {
      case TX_TYPE_POLL_TRUSTEE_KEY: rc = apply_trustee_key(&op, &r); break;
      case TX_TYPE_POLL_CREATE: rc = apply_create(&op); break;
      case TX_TYPE_POLL_CANCEL: rc = apply_cancel(&op, &r); break;
      case TX_TYPE_POLL_DKG_DEAL: rc = apply_deal(&op, &r); break;
      case TX_TYPE_POLL_DKG_COMPLAIN: rc = apply_complain(&op, &r); break;
      case TX_TYPE_POLL_DKG_FINISH: rc = apply_finish(&op, &r); break;
      case TX_TYPE_POLL_BALLOT: rc = apply_ballot(&op); break;
      case TX_TYPE_POLL_DECRYPT: rc = apply_decrypt(&op); break;
      default: rc = VE_ERR_UNKNOWN_TYPE;
    }
  }
  free(op.p);
  return rc;
}

const ledger_app_t voting_app = {
    .name = "voting",
    .type_lo = VOTING_TX_TYPE_LO,
    .type_hi = VOTING_TX_TYPE_HI,
    .apply = voting_apply,
    .genesis = NULL,
};
