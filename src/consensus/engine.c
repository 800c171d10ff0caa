/* engine.c — the Tendermint state machine (Buchman, Kwon, Milosevic 2018,
 * Algorithm 1), driven purely by inputs and producing an ordered action list.
 *
 * State per height h (the paper's names in brackets):
 *   round [round_p], step [step_p] ∈ {PROPOSE, PREVOTE, PRECOMMIT},
 *   lock (locked_round, locked_id) [lockedRound_p, lockedValue_p],
 *   valid (valid_round, valid_id) [validRound_p, validValue_p],
 *   the message log: one round_t per round seen (proposal + prevote/precommit
 *   slots per validator with per-id power tallies), and the value store
 *   (value bytes by id with the application's verdict).
 *
 *            start_round(r)                  prevote sent             precommit sent
 *   (any) ───────────────▶ PROPOSE ─────────────────────▶ PREVOTE ─────────────▶ PRECOMMIT
 *                             ▲        L22/L28, L57            L36/L44, L61         │
 *                             └──── L55 (f+1 in a later round), L65 (timeout) ─────┘
 *   decide (L49) from any step: COMMIT, then enter_height(h+1) → start_round(0).
 *   A height whose validator set is not known yet waits (cur == NULL) and buffers.
 *
 * Invariants:
 *   - Every signature this engine makes is preceded in the action list by a
 *     PERSIST of a record naming it (record_guard), and it never signs two
 *     different messages for one (height, round, type): the record table, rebuilt
 *     from the persisted records at restart, is consulted before each signature.
 *     Ed25519 is deterministic, so re-signing an identical record is harmless.
 *   - Below sign_from (cons_config_t.sign_from_height) nothing new is signed:
 *     records that may be incomplete (a store restored from a backup) cannot
 *     prove there is no conflicting signature, so the engine abstains there.
 *   - The lock is always the latest round in which this node precommitted a value
 *     (restored from the precommit records), so a restart cannot forget it.
 *   - Every precommit for a value is preceded by the PERSIST of a lock record
 *     holding that value's bytes and its quorum of prevotes (the POL), so after
 *     a restart the lock can still be justified to others: begin_height puts
 *     them back and makes the lock this node's valid value, which it re-proposes
 *     with that POL when it is the proposer, even if no other node kept a copy.
 *   - A value gets a prevote or a precommit only after the application declared it
 *     valid (value state VAL_VALID); own proposals come from the application.
 *   - Each validator contributes at most one vote per (round, type) to the
 *     tallies; a second, different one is turned into evidence and not counted.
 *   - rules_run() re-evaluates the upon-rules to a fixpoint after every input; no
 *     rule recurses into another input, and buffered messages are replayed by a
 *     loop at the top level (no recursion on peer input).
 * Out of memory inside the engine aborts (VE_ASSERT): a half-applied transition
 * is worse than a restart, which the persisted records make safe.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "consensus/cons_int.h"

#define CONS_ROUND_AHEAD_MAX 4   /* votes for rounds beyond round+this only raise maxr */
#define CONS_ROUNDS_KEPT_MAX 1024
#define CONS_VALUES_MAX 32
#define CONS_VALUES_BYTES_MAX ((size_t)4 * VE_BLOCK_BYTES_MAX)
#define CONS_FUTURE_MSGS_MAX 256
#define CONS_FUTURE_BYTES_MAX ((size_t)VE_BLOCK_BYTES_MAX + 1024 * 1024)
#define CONS_RULE_ITERATIONS_MAX 100000
#define CONS_VOTE_ALTS_MAX 3 /* different votes kept per validator, round and type */

enum { STEP_PROPOSE = 1, STEP_PREVOTE = 2, STEP_PRECOMMIT = 3 };
enum { VAL_UNKNOWN = 0, VAL_PENDING, VAL_VALID, VAL_INVALID };

/* Immutable reference-counted bytes: a value is copied once on arrival and then
 * shared by the value store, VALIDATE and COMMIT actions and the last decision. */
typedef struct {
  uint32_t refs;
  size_t len;
  uint8_t *ptr;
} blob_t;

/* A validator's first vote of a (round, type) is its slot; further, different
 * votes (equivocation) are kept as alternatives, at most CONS_VOTE_ALTS_MAX each.
 * As in the paper, a rule "2f+1 ⟨PREVOTE, h, r, id⟩" counts distinct senders of
 * that id, so an equivocator counts towards every id it signed; safety holds
 * because any such quorum still holds more than 1/3 honest power. Without this, a
 * proposer's proof-of-lock that includes an equivocator's vote could never be
 * confirmed by nodes that happened to store the equivocator's other vote. */
typedef struct {
  bool present, has_id, evidence_sent;
  uint8_t nalt;
  uint8_t id[CONS_ID_BYTES];
  uint8_t sig[VCRYPTO_SIG_BYTES];
} vslot_t;

typedef struct {
  uint32_t index;
  bool has_id;
  uint8_t id[CONS_ID_BYTES];
  uint8_t sig[VCRYPTO_SIG_BYTES];
} valt_t;

typedef struct {
  bool has_id;
  uint8_t id[CONS_ID_BYTES];
  uint64_t power;
} tally_t;

typedef struct {
  vslot_t *slots; /* one per validator */
  valt_t *alts;   /* equivocators' further votes */
  uint32_t alts_count, alts_cap;
  tally_t *tally; /* per distinct (has_id, id): power of validators that signed it */
  uint32_t tally_count, tally_cap;
  uint64_t total; /* power of validators with at least one vote */
} voteset_t;

typedef struct {
  uint32_t round;
  voteset_t votes[2]; /* [0] prevotes, [1] precommits */
  bool has_proposal, prop_evidence_sent;
  cons_proposal_t prop; /* value slice unused */
  bool prevote_timer_set, precommit_timer_set, lock_rule_done;
} round_t;

/* A lock record loaded at start, kept until its height begins. */
typedef struct {
  uint64_t height;
  uint32_t round;
  uint8_t id[CONS_ID_BYTES];
  blob_t *value; /* NULL: another lock record of the height carries the bytes */
  uint32_t count;
  cons_cert_sig_t *votes;
} lockrec_t;

typedef struct {
  uint8_t id[CONS_ID_BYTES];
  blob_t *bytes;
  uint8_t state;       /* VAL_* */
  uint32_t last_round; /* latest round that referenced it (eviction order) */
  blob_t *cert;        /* certificate from a DECISION message, verified */
  bool has_peer;
  uint64_t peer;       /* who sent that DECISION (catch-up continues with it) */
} value_t;

typedef struct {
  bool present;
  uint64_t height;
  cons_valset_t vs;
  cons_cycle_t cycle;
  uint64_t total;
  int32_t own; /* own index or -1 */
} vsentry_t;

typedef struct {
  uint64_t height, peer;
  blob_t *msg;
} future_t;

typedef struct {
  cons_action_t a;
  blob_t *data, *cert;
} qact_t;

struct cons_engine {
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1];
  bool has_key;
  vcrypto_keypair_t key;
  uint64_t sign_from; /* no new signature below this height (cons_config_t) */
  uint32_t timeout_base_ms, timeout_delta_ms, rebroadcast_ms;
  cons_verify_fn verify;
  void *verify_ctx;
  bool started;

  vsentry_t vsets[CONS_VALSET_DELAY + 1]; /* ring by height */
  const vsentry_t *cur;                   /* set of h, NULL while waiting */

  uint64_t h;
  uint32_t round;
  uint8_t step;
  int64_t locked_round, valid_round;
  uint8_t locked_id[CONS_ID_BYTES], valid_id[CONS_ID_BYTES];
  bool awaiting_proposal;

  round_t **rounds; /* sorted by round */
  size_t rounds_count, rounds_cap;
  value_t values[CONS_VALUES_MAX];
  size_t values_count, values_bytes;
  int64_t maxr[VE_VALIDATORS_MAX]; /* highest round seen signed by each validator */
  bool skip_dirty, decide_dirty;

  cons_record_t *records; /* heights ≥ h */
  size_t records_count, records_cap;
  lockrec_t *locks; /* loaded lock records of heights ≥ h, consumed by begin_height */
  size_t locks_count;
  /* Values whose bytes a lock record of this height already holds. */
  uint8_t lock_ids[CONS_LOCK_VALUES_MAX][CONS_ID_BYTES];
  size_t lock_ids_count;

  future_t future[CONS_FUTURE_MSGS_MAX];
  size_t future_count, future_bytes;

  struct {
    bool present;
    uint64_t height;
    uint8_t id[CONS_ID_BYTES];
    blob_t *value, *cert;
    cons_valset_t vs;
  } last;

  qact_t *q;
  size_t q_head, q_count, q_cap;
  qact_t popped;

  cons_vote_t *batch; /* decode scratch, CONS_BATCH_VOTES_MAX */
};

/* ================= memory helpers ================= */

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  VE_ASSERT(p != NULL);
  return p;
}

static blob_t *blob_copy(ve_slice_t s) {
  blob_t *b = xcalloc(1, sizeof *b);
  b->refs = 1;
  b->len = s.len;
  b->ptr = malloc(s.len ? s.len : 1);
  VE_ASSERT(b->ptr != NULL);
  if (s.len) memcpy(b->ptr, s.ptr, s.len);
  return b;
}

/* Takes over buf's memory (no copy) and leaves buf empty. */
static blob_t *blob_take(ve_buf_t *buf) {
  blob_t *b = xcalloc(1, sizeof *b);
  b->refs = 1;
  b->len = buf->len;
  b->ptr = buf->ptr;
  if (!b->ptr) {
    b->ptr = malloc(1);
    VE_ASSERT(b->ptr != NULL);
  }
  buf->ptr = NULL;
  buf->len = buf->cap = 0;
  return b;
}

static blob_t *blob_ref(blob_t *b) {
  if (b) b->refs++;
  return b;
}

static void blob_unref(blob_t *b) {
  if (!b) return;
  VE_ASSERT(b->refs > 0);
  if (--b->refs == 0) {
    free(b->ptr);
    free(b);
  }
}

static ve_slice_t blob_slice(const blob_t *b) {
  return b ? ve_slice(b->ptr, b->len) : ve_slice(NULL, 0);
}

/* ================= actions ================= */

static void q_push(cons_engine_t *e, const cons_action_t *a, blob_t *data, blob_t *cert) {
  if (e->q_count == e->q_cap && e->q_head > 0) {
    memmove(e->q, e->q + e->q_head, (e->q_count - e->q_head) * sizeof *e->q);
    e->q_count -= e->q_head;
    e->q_head = 0;
  }
  if (e->q_count == e->q_cap) {
    size_t cap = e->q_cap ? 2 * e->q_cap : 64;
    qact_t *q = realloc(e->q, cap * sizeof *q);
    VE_ASSERT(q != NULL);
    e->q = q;
    e->q_cap = cap;
  }
  qact_t *slot = &e->q[e->q_count++];
  slot->a = *a;
  slot->data = data;
  slot->cert = cert;
  slot->a.data = blob_slice(data);
  slot->a.cert = blob_slice(cert);
}

static void emit_blob(cons_engine_t *e, cons_action_kind_t kind, uint64_t peer, blob_t *data) {
  cons_action_t a;
  memset(&a, 0, sizeof a);
  a.kind = kind;
  a.peer = peer;
  q_push(e, &a, data, NULL);
}

/* Emits BROADCAST (peer ignored) or SEND of the encoded message in buf. */
static void emit_msg(cons_engine_t *e, cons_action_kind_t kind, uint64_t peer, ve_buf_t *buf) {
  emit_blob(e, kind, peer, blob_take(buf));
}

static uint32_t timeout_ms(const cons_engine_t *e, uint32_t round) {
  uint64_t t = (uint64_t)e->timeout_base_ms + (uint64_t)round * e->timeout_delta_ms;
  return t > CONS_TIMEOUT_MS_MAX ? CONS_TIMEOUT_MS_MAX : (uint32_t)t;
}

static void emit_timer(cons_engine_t *e, unsigned kind, uint32_t round, uint32_t delay) {
  cons_action_t a;
  memset(&a, 0, sizeof a);
  a.kind = CONS_ACT_SCHEDULE_TIMEOUT;
  a.token = cons_token_make(kind, e->h, round);
  a.delay_ms = delay;
  q_push(e, &a, NULL, NULL);
}

static void emit_request_proposal(cons_engine_t *e) {
  cons_action_t a;
  memset(&a, 0, sizeof a);
  a.kind = CONS_ACT_REQUEST_PROPOSAL;
  a.height = e->h;
  a.round = e->round;
  q_push(e, &a, NULL, NULL);
}

static void emit_persist(cons_engine_t *e, const cons_record_t *rec) {
  ve_buf_t b;
  ve_buf_init(&b, CONS_RECORD_BYTES_MAX);
  int rc = cons_record_encode(&b, rec);
  VE_ASSERT(rc == 0);
  emit_blob(e, CONS_ACT_PERSIST, 0, blob_take(&b));
}

static void emit_evidence(cons_engine_t *e, ve_buf_t *ev) {
  VE_WARN("consensus", "equivocation evidence at height %llu", (unsigned long long)e->h);
  emit_blob(e, CONS_ACT_EVIDENCE, 0, blob_take(ev));
}

/* ================= validator sets ================= */

static vsentry_t *vset_slot(cons_engine_t *e, uint64_t height) {
  return &e->vsets[height % (CONS_VALSET_DELAY + 1)];
}

static const vsentry_t *vset_lookup(cons_engine_t *e, uint64_t height) {
  const vsentry_t *s = vset_slot(e, height);
  return s->present && s->height == height ? s : NULL;
}

static void vset_install(cons_engine_t *e, uint64_t height, const cons_valset_t *vs) {
  vsentry_t *s = vset_slot(e, height);
  s->present = true;
  s->height = height;
  s->vs = *vs;
  cons_cycle_build(&s->cycle, vs);
  s->total = cons_valset_total_power(vs);
  s->own = e->has_key ? cons_valset_find(vs, e->key.pk) : -1;
}

/* ================= records (no double signing) ================= */

static bool record_same(const cons_record_t *a, const cons_record_t *b) {
  return a->has_id == b->has_id && a->pol_round == b->pol_round &&
         (!a->has_id || memcmp(a->id, b->id, CONS_ID_BYTES) == 0);
}

static const cons_record_t *record_find(const cons_engine_t *e, uint64_t height, uint32_t round,
                                        uint8_t type) {
  for (size_t i = 0; i < e->records_count; i++) {
    const cons_record_t *r = &e->records[i];
    if (r->height == height && r->round == round && r->type == type) return r;
  }
  return NULL;
}

static int record_add(cons_engine_t *e, const cons_record_t *rec) {
  if (e->records_count == CONS_RECORDS_MAX) return VE_ERR_LIMIT;
  if (e->records_count == e->records_cap) {
    size_t cap = e->records_cap ? 2 * e->records_cap : 64;
    cons_record_t *r = realloc(e->records, cap * sizeof *r);
    VE_ASSERT(r != NULL);
    e->records = r;
    e->records_cap = cap;
  }
  e->records[e->records_count++] = *rec;
  return VE_OK;
}

/* May this engine sign `want`? 0: yes (a PERSIST for it has been queued, or an
 * identical record already exists); otherwise never sign it. */
static int record_guard(cons_engine_t *e, const cons_record_t *want) {
  const cons_record_t *have = record_find(e, want->height, want->round, want->type);
  if (have) return record_same(have, want) ? VE_OK : VE_ERR_EXISTS;
  if (want->height < e->sign_from) return VE_ERR_PERMISSION; /* records may be incomplete there */
  int rc = record_add(e, want);
  if (rc) {
    VE_ERROR("consensus", "record table full: refusing to sign");
    return rc;
  }
  emit_persist(e, want);
  return VE_OK;
}

static void lockrec_free(lockrec_t *l) {
  blob_unref(l->value);
  free(l->votes);
  memset(l, 0, sizeof *l);
}

/* Values whose bytes a lock record of this height holds (at most
 * CONS_LOCK_VALUES_MAX carry bytes, so a height's records stay bounded). */
static bool lock_id_held(const cons_engine_t *e, const uint8_t id[CONS_ID_BYTES]) {
  for (size_t i = 0; i < e->lock_ids_count; i++)
    if (memcmp(e->lock_ids[i], id, CONS_ID_BYTES) == 0) return true;
  return false;
}

/* Notes that a lock record carries id's bytes; false if one already does or
 * the height's quota is used up (then a new record carries no bytes). */
static bool lock_id_note(cons_engine_t *e, const uint8_t id[CONS_ID_BYTES]) {
  if (lock_id_held(e, id) || e->lock_ids_count == CONS_LOCK_VALUES_MAX) return false;
  memcpy(e->lock_ids[e->lock_ids_count++], id, CONS_ID_BYTES);
  return true;
}

/* Drops loaded lock records of heights below `from`. */
static void locks_prune(cons_engine_t *e, uint64_t from) {
  size_t j = 0;
  for (size_t i = 0; i < e->locks_count; i++) {
    if (e->locks[i].height >= from)
      e->locks[j++] = e->locks[i];
    else
      lockrec_free(&e->locks[i]);
  }
  e->locks_count = j;
}

static void records_prune(cons_engine_t *e) {
  size_t j = 0;
  for (size_t i = 0; i < e->records_count; i++)
    if (e->records[i].height >= e->h) e->records[j++] = e->records[i];
  e->records_count = j;
  locks_prune(e, e->h);
}

/* ================= rounds and votes ================= */

static void round_free(round_t *rs) {
  if (!rs) return;
  for (int t = 0; t < 2; t++) {
    free(rs->votes[t].slots);
    free(rs->votes[t].alts);
    free(rs->votes[t].tally);
  }
  free(rs);
}

static size_t round_pos(const cons_engine_t *e, uint32_t round) {
  size_t lo = 0, hi = e->rounds_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e->rounds[mid]->round < round)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static round_t *round_find(const cons_engine_t *e, uint32_t round) {
  size_t i = round_pos(e, round);
  return i < e->rounds_count && e->rounds[i]->round == round ? e->rounds[i] : NULL;
}

static bool round_pinned(const cons_engine_t *e, uint32_t round) {
  return round >= e->round || (int64_t)round == e->locked_round ||
         (int64_t)round == e->valid_round;
}

/* Makes room under CONS_ROUNDS_KEPT_MAX by dropping the oldest unpinned round. */
static bool round_evict(cons_engine_t *e) {
  for (size_t i = 0; i < e->rounds_count; i++) {
    if (round_pinned(e, e->rounds[i]->round)) continue;
    round_free(e->rounds[i]);
    memmove(&e->rounds[i], &e->rounds[i + 1], (e->rounds_count - i - 1) * sizeof *e->rounds);
    e->rounds_count--;
    return true;
  }
  return false;
}

static round_t *round_get(cons_engine_t *e, uint32_t round) {
  round_t *rs = round_find(e, round);
  if (rs) return rs;
  if (e->rounds_count >= CONS_ROUNDS_KEPT_MAX && !round_evict(e)) return NULL;
  if (e->rounds_count == e->rounds_cap) {
    size_t cap = e->rounds_cap ? 2 * e->rounds_cap : 8;
    round_t **r = realloc(e->rounds, cap * sizeof *r);
    VE_ASSERT(r != NULL);
    e->rounds = r;
    e->rounds_cap = cap;
  }
  uint32_t n = e->cur->vs.count;
  rs = xcalloc(1, sizeof *rs);
  rs->round = round;
  for (int t = 0; t < 2; t++) rs->votes[t].slots = xcalloc(n, sizeof(vslot_t));
  size_t i = round_pos(e, round);
  memmove(&e->rounds[i + 1], &e->rounds[i], (e->rounds_count - i) * sizeof *e->rounds);
  e->rounds[i] = rs;
  e->rounds_count++;
  return rs;
}

static voteset_t *voteset_of(round_t *rs, uint8_t type) {
  return &rs->votes[type == CONS_VOTE_PRECOMMIT ? 1 : 0];
}

static bool id_match(bool ha, const uint8_t *a, bool hb, const uint8_t *b) {
  if (ha != hb) return false;
  if (!ha) return true; /* both nil; nil votes pass NULL ids */
  /* The explicit NULL checks let gcc -O3 see memcmp never gets the NULL of a
   * nil vote after inlining (-Wnonnull). */
  return a && b && memcmp(a, b, CONS_ID_BYTES) == 0;
}

static uint64_t tally_power(const voteset_t *s, bool has_id, const uint8_t *id) {
  for (uint32_t i = 0; i < s->tally_count; i++)
    if (id_match(s->tally[i].has_id, s->tally[i].id, has_id, id)) return s->tally[i].power;
  return 0;
}

static void tally_add(voteset_t *s, bool has_id, const uint8_t *id, uint64_t power) {
  for (uint32_t i = 0; i < s->tally_count; i++) {
    if (id_match(s->tally[i].has_id, s->tally[i].id, has_id, id)) {
      s->tally[i].power += power;
      return;
    }
  }
  if (s->tally_count == s->tally_cap) {
    s->tally_cap = s->tally_cap ? 2 * s->tally_cap : 4;
    s->tally = realloc(s->tally, s->tally_cap * sizeof *s->tally);
    VE_ASSERT(s->tally != NULL);
  }
  tally_t *t = &s->tally[s->tally_count++];
  t->has_id = has_id;
  memcpy(t->id, id, CONS_ID_BYTES);
  t->power = power;
}

/* First vote of a validator for this (round, type). */
static void voteset_add(voteset_t *s, const cons_vote_t *v, uint64_t power) {
  vslot_t *slot = &s->slots[v->index];
  VE_ASSERT(!slot->present);
  slot->present = true;
  slot->has_id = v->has_id;
  memcpy(slot->id, v->id, CONS_ID_BYTES);
  memcpy(slot->sig, v->sig, VCRYPTO_SIG_BYTES);
  s->total += power;
  tally_add(s, v->has_id, v->id, power);
}

/* A further, different vote of an equivocator (already verified). */
static void voteset_add_alt(voteset_t *s, const cons_vote_t *v, uint64_t power) {
  vslot_t *slot = &s->slots[v->index];
  VE_ASSERT(slot->present && slot->nalt < CONS_VOTE_ALTS_MAX);
  if (s->alts_count == s->alts_cap) {
    s->alts_cap = s->alts_cap ? 2 * s->alts_cap : 4;
    s->alts = realloc(s->alts, s->alts_cap * sizeof *s->alts);
    VE_ASSERT(s->alts != NULL);
  }
  valt_t *a = &s->alts[s->alts_count++];
  a->index = v->index;
  a->has_id = v->has_id;
  memcpy(a->id, v->id, CONS_ID_BYTES);
  memcpy(a->sig, v->sig, VCRYPTO_SIG_BYTES);
  slot->nalt++;
  tally_add(s, v->has_id, v->id, power);
}

/* The signature of validator index's vote for (has_id, id), or NULL. */
static const uint8_t *voteset_sig(const voteset_t *s, uint32_t index, bool has_id,
                                  const uint8_t *id) {
  const vslot_t *slot = &s->slots[index];
  if (!slot->present) return NULL;
  if (id_match(slot->has_id, slot->id, has_id, id)) return slot->sig;
  for (uint32_t i = 0; i < s->alts_count && slot->nalt; i++)
    if (s->alts[i].index == index && id_match(s->alts[i].has_id, s->alts[i].id, has_id, id))
      return s->alts[i].sig;
  return NULL;
}

static void note_round(cons_engine_t *e, uint32_t index, uint32_t round) {
  if ((int64_t)round > e->maxr[index]) {
    e->maxr[index] = round;
    if (round > e->round) e->skip_dirty = true;
  }
}

/* ================= values ================= */

static value_t *value_find(cons_engine_t *e, const uint8_t id[CONS_ID_BYTES]) {
  for (size_t i = 0; i < e->values_count; i++)
    if (memcmp(e->values[i].id, id, CONS_ID_BYTES) == 0) return &e->values[i];
  return NULL;
}

static void value_release(value_t *v) {
  blob_unref(v->bytes);
  blob_unref(v->cert);
  memset(v, 0, sizeof *v);
}

static bool value_pinned(const cons_engine_t *e, const value_t *v) {
  if (v->cert) return true;
  if (e->locked_round >= 0 && memcmp(v->id, e->locked_id, CONS_ID_BYTES) == 0) return true;
  if (e->valid_round >= 0 && memcmp(v->id, e->valid_id, CONS_ID_BYTES) == 0) return true;
  return v->last_round >= e->round;
}

static void value_remove(cons_engine_t *e, size_t i) {
  e->values_bytes -= e->values[i].bytes->len;
  value_release(&e->values[i]);
  e->values[i] = e->values[--e->values_count];
  memset(&e->values[e->values_count], 0, sizeof(value_t));
}

/* Drops the unpinned value referenced longest ago. */
static bool value_evict(cons_engine_t *e) {
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < e->values_count; i++) {
    if (value_pinned(e, &e->values[i])) continue;
    if (best == SIZE_MAX || e->values[i].last_round < e->values[best].last_round) best = i;
  }
  if (best == SIZE_MAX) return false;
  value_remove(e, best);
  return true;
}

/* Finds or stores the value with this id (copying bytes once). A stored value the
 * application rejected is replaced by different bytes claiming the same id, so a
 * faulty proposer cannot poison an id with garbage bytes. NULL: no room. */
static value_t *value_attach(cons_engine_t *e, const uint8_t id[CONS_ID_BYTES], ve_slice_t bytes,
                             uint32_t round) {
  value_t *v = value_find(e, id);
  if (v) {
    if (round > v->last_round) v->last_round = round;
    if (v->state == VAL_INVALID && !ve_slice_eq(blob_slice(v->bytes), bytes)) {
      e->values_bytes -= v->bytes->len;
      blob_unref(v->bytes);
      v->bytes = blob_copy(bytes);
      e->values_bytes += bytes.len;
      v->state = VAL_UNKNOWN;
      e->decide_dirty = true;
    }
    return v;
  }
  while (e->values_count == CONS_VALUES_MAX || e->values_bytes + bytes.len > CONS_VALUES_BYTES_MAX)
    if (!value_evict(e)) return NULL;
  v = &e->values[e->values_count++];
  memset(v, 0, sizeof *v);
  memcpy(v->id, id, CONS_ID_BYTES);
  v->bytes = blob_copy(bytes);
  e->values_bytes += bytes.len;
  v->state = VAL_UNKNOWN;
  v->last_round = round;
  e->decide_dirty = true; /* precommits may have been waiting for these bytes */
  return v;
}

static void value_request_validation(cons_engine_t *e, value_t *v, uint32_t round) {
  if (v->state != VAL_UNKNOWN) return;
  v->state = VAL_PENDING;
  cons_action_t a;
  memset(&a, 0, sizeof a);
  a.kind = CONS_ACT_VALIDATE;
  a.height = e->h;
  a.round = round;
  memcpy(a.id, v->id, CONS_ID_BYTES);
  q_push(e, &a, blob_ref(v->bytes), NULL);
}

/* ================= message handlers ================= */

static void emit_vote_evidence(cons_engine_t *e, const vslot_t *slot, const cons_vote_t *v) {
  cons_vote_t first = *v;
  first.has_id = slot->has_id;
  memcpy(first.id, slot->id, CONS_ID_BYTES);
  memcpy(first.sig, slot->sig, VCRYPTO_SIG_BYTES);
  ve_buf_t b;
  ve_buf_init(&b, CONS_EVIDENCE_BYTES_MAX);
  int rc = cons_evidence_vote_encode(&b, e->cur->vs.v[v->index].pk, &first, v);
  VE_ASSERT(rc == 0);
  emit_evidence(e, &b);
}

/* Records a vote of the current height. own: signed here, skip verification. */
static int on_vote(cons_engine_t *e, const cons_vote_t *v, bool own) {
  const vsentry_t *cur = e->cur;
  if (v->index >= cur->vs.count) return VE_ERR_INVALID;
  const uint8_t *pk = cur->vs.v[v->index].pk;
  round_t *rs = round_find(e, v->round);
  voteset_t *set = rs ? voteset_of(rs, v->type) : NULL;
  vslot_t *slot = set ? &set->slots[v->index] : NULL;
  if (slot && slot->present) {
    if (voteset_sig(set, v->index, v->has_id, v->id)) return VE_OK; /* duplicate */
    if (!own) VE_TRY(cons_vote_verify(v, pk, e->chain_id, e->verify, e->verify_ctx));
    if (!slot->evidence_sent) {
      slot->evidence_sent = true;
      emit_vote_evidence(e, slot, v);
    }
    if (slot->nalt < CONS_VOTE_ALTS_MAX) {
      voteset_add_alt(set, v, cur->vs.v[v->index].power);
      if (v->type == CONS_VOTE_PRECOMMIT) e->decide_dirty = true;
    }
    return VE_OK;
  }
  if (!own) VE_TRY(cons_vote_verify(v, pk, e->chain_id, e->verify, e->verify_ctx));
  note_round(e, v->index, v->round);
  if (v->round > e->round + CONS_ROUND_AHEAD_MAX) return VE_OK;
  if (!rs) rs = round_get(e, v->round);
  if (!rs) return VE_OK;
  voteset_add(voteset_of(rs, v->type), v, cur->vs.v[v->index].power);
  if (v->type == CONS_VOTE_PRECOMMIT) e->decide_dirty = true;
  return VE_OK;
}

static void emit_proposal_evidence(cons_engine_t *e, const round_t *rs, const cons_proposal_t *p,
                                   uint32_t proposer) {
  ve_buf_t b;
  ve_buf_init(&b, CONS_EVIDENCE_BYTES_MAX);
  int rc = cons_evidence_proposal_encode(&b, e->cur->vs.v[proposer].pk, &rs->prop, p);
  VE_ASSERT(rc == 0);
  emit_evidence(e, &b);
}

/* Records the proposal of (h, p->round) and its value. own: signed here. */
static int on_proposal(cons_engine_t *e, const cons_proposal_t *p, bool own) {
  const vsentry_t *cur = e->cur;
  uint32_t proposer = cons_cycle_proposer(&cur->cycle, e->h, p->round);
  const uint8_t *pk = cur->vs.v[proposer].pk;
  round_t *rs = round_find(e, p->round);
  if (rs && rs->has_proposal) {
    if (rs->prop.pol_round == p->pol_round && memcmp(rs->prop.id, p->id, CONS_ID_BYTES) == 0) {
      /* Same proposal again: it may bring back bytes we evicted or rejected. */
      value_t *v = value_attach(e, p->id, p->value, p->round);
      if (v && v->state == VAL_UNKNOWN) value_request_validation(e, v, p->round);
      return VE_OK;
    }
    if (!own) VE_TRY(cons_proposal_verify(p, pk, e->chain_id, e->verify, e->verify_ctx));
    if (!rs->prop_evidence_sent) {
      rs->prop_evidence_sent = true;
      emit_proposal_evidence(e, rs, p, proposer);
    }
    return VE_OK;
  }
  if (!own) VE_TRY(cons_proposal_verify(p, pk, e->chain_id, e->verify, e->verify_ctx));
  note_round(e, proposer, p->round);
  if (p->round > e->round + CONS_ROUND_AHEAD_MAX) return VE_OK;
  if (!rs) rs = round_get(e, p->round);
  if (!rs) return VE_OK;
  value_t *v = value_attach(e, p->id, p->value, p->round);
  if (!v) return VE_OK;
  rs->has_proposal = true;
  rs->prop = *p;
  rs->prop.value = ve_slice(NULL, 0);
  if (own) v->state = VAL_VALID;
  value_request_validation(e, v, p->round);
  return VE_OK;
}

/* ================= signing ================= */

static void broadcast_vote(cons_engine_t *e, const cons_vote_t *v) {
  ve_buf_t b;
  ve_buf_init(&b, CONS_MSG_BYTES_MAX);
  int rc = cons_vote_encode(&b, v);
  VE_ASSERT(rc == 0);
  emit_msg(e, CONS_ACT_BROADCAST, 0, &b);
}

/* Signs and sends this node's vote for (h, round) unless it is not a validator
 * here or a conflicting vote was already signed (record_guard). */
static void send_vote(cons_engine_t *e, uint8_t type, bool has_id, const uint8_t *id) {
  if (e->cur->own < 0) return;
  cons_record_t rec = {e->h, e->round, type, has_id, {0}, -1};
  if (has_id) memcpy(rec.id, id, CONS_ID_BYTES);
  if (record_guard(e, &rec)) return;
  cons_vote_t v = {e->h, e->round, type, (uint32_t)e->cur->own, has_id, {0}, {0}};
  memcpy(v.id, rec.id, CONS_ID_BYTES);
  cons_vote_sign(&v, &e->key, e->chain_id);
  int rc = on_vote(e, &v, true);
  VE_ASSERT(rc == 0);
  broadcast_vote(e, &v);
}

/* Collects stored votes of one round into out (≤ cap) in batch order: types is a
 * mask (1 prevotes, 2 precommits); with pol_id, each validator's vote for that id
 * (first or alternative), else each validator's first vote. Returns the count. */
static size_t collect_votes(const cons_engine_t *e, const round_t *rs, unsigned types,
                            const uint8_t *pol_id, cons_vote_t *out, size_t cap) {
  size_t n = 0;
  for (int t = 0; t < 2; t++) {
    if (!(types & (1u << t))) continue;
    const voteset_t *s = &rs->votes[t];
    for (uint32_t i = 0; i < e->cur->vs.count && n < cap; i++) {
      const vslot_t *slot = &s->slots[i];
      if (!slot->present) continue;
      const uint8_t *sig = pol_id ? voteset_sig(s, i, true, pol_id) : slot->sig;
      if (!sig) continue;
      cons_vote_t *v = &out[n++];
      v->height = e->h;
      v->round = rs->round;
      v->type = t ? CONS_VOTE_PRECOMMIT : CONS_VOTE_PREVOTE;
      v->index = i;
      v->has_id = pol_id ? true : slot->has_id;
      memcpy(v->id, pol_id ? pol_id : slot->id, CONS_ID_BYTES);
      memcpy(v->sig, sig, VCRYPTO_SIG_BYTES);
    }
  }
  return n;
}

static void emit_votes(cons_engine_t *e, cons_action_kind_t kind, uint64_t peer,
                       const cons_vote_t *votes, size_t n) {
  if (n == 0) return;
  ve_buf_t b;
  ve_buf_init(&b, CONS_MSG_BYTES_MAX);
  int rc = cons_votes_encode(&b, votes, n);
  VE_ASSERT(rc == 0);
  emit_msg(e, kind, peer, &b);
}

static void emit_proposal_msg(cons_engine_t *e, cons_action_kind_t kind, uint64_t peer,
                              const cons_proposal_t *p) {
  ve_buf_t b;
  ve_buf_init(&b, CONS_MSG_BYTES_MAX);
  int rc = cons_proposal_encode(&b, p);
  VE_ASSERT(rc == 0);
  emit_msg(e, kind, peer, &b);
}

/* L19: broadcast ⟨PROPOSAL, h, round, v, pol⟩ (with the POL prevotes when pol ≥ 0,
 * so receivers can apply L28 without waiting for re-broadcasts). */
static void propose(cons_engine_t *e, value_t *v, int64_t pol) {
  cons_record_t rec = {e->h, e->round, CONS_TYPE_PROPOSAL, true, {0}, pol};
  memcpy(rec.id, v->id, CONS_ID_BYTES);
  if (record_guard(e, &rec)) return;
  cons_proposal_t p = {e->h, e->round, pol, {0}, blob_slice(v->bytes), {0}};
  memcpy(p.id, v->id, CONS_ID_BYTES);
  cons_proposal_sign(&p, &e->key, e->chain_id);
  int rc = on_proposal(e, &p, true);
  VE_ASSERT(rc == 0);
  emit_proposal_msg(e, CONS_ACT_BROADCAST, 0, &p);
  if (pol >= 0) {
    const round_t *prs = round_find(e, (uint32_t)pol);
    if (prs) emit_votes(e, CONS_ACT_BROADCAST, 0, e->batch,
                        collect_votes(e, prs, 1, v->id, e->batch, CONS_BATCH_VOTES_MAX));
  }
}

/* ================= round and height transitions ================= */

/* L11–L21 StartRound. Deviation: every node (the proposer too) schedules
 * timeoutPropose, so a proposer whose application is slow, or which may not
 * re-sign after a restart, does not stall the round. */
static void start_round(cons_engine_t *e, uint32_t round) {
  VE_DEBUG("consensus", "[%d] h=%llu start round %u (proposer %u)", e->cur->own,
           (unsigned long long)e->h, round, cons_cycle_proposer(&e->cur->cycle, e->h, round));
  e->round = round;
  e->step = STEP_PROPOSE;
  e->awaiting_proposal = false;
  emit_timer(e, CONS_TIMER_PROPOSE, round, timeout_ms(e, round));
  const vsentry_t *cur = e->cur;
  /* Not ours to propose; below sign_from not even a value to ask for. */
  if (cur->own < 0 || e->h < e->sign_from ||
      cons_cycle_proposer(&cur->cycle, e->h, round) != (uint32_t)cur->own)
    return;
  value_t *vv = e->valid_round >= 0 ? value_find(e, e->valid_id) : NULL;
  if (vv && vv->state == VAL_VALID) {
    propose(e, vv, e->valid_round); /* L15–L16 */
  } else if (vv) {
    /* Restored from a lock record and not judged again yet (begin_height
     * asked): proposing it would mark it valid unchecked, and anything else
     * would not be ours to prevote. This turn passes. */
  } else if (!record_find(e, e->h, round, CONS_TYPE_PROPOSAL)) {
    e->awaiting_proposal = true; /* L18 getValue() */
    emit_request_proposal(e);
  }
}

static void clear_height(cons_engine_t *e) {
  for (size_t i = 0; i < e->rounds_count; i++) round_free(e->rounds[i]);
  e->rounds_count = 0;
  for (size_t i = 0; i < e->values_count; i++) value_release(&e->values[i]);
  e->values_count = 0;
  e->values_bytes = 0;
  for (size_t i = 0; i < VE_VALIDATORS_MAX; i++) e->maxr[i] = -1;
  e->round = 0;
  e->step = STEP_PROPOSE;
  e->locked_round = e->valid_round = -1;
  e->awaiting_proposal = false;
  e->skip_dirty = e->decide_dirty = false;
  e->lock_ids_count = 0;
}

/* Puts back what this node's lock records of height h hold: each value's bytes
 * (judged again by the application) and each POL's prevotes (verified again).
 * The latest POL whose value it holds becomes the valid value, so as proposer
 * it re-proposes that value with the POL, and its re-broadcasts carry the
 * votes. The records are consumed. */
static void restore_locks(cons_engine_t *e) {
  for (size_t i = 0; i < e->locks_count; i++) {
    const lockrec_t *l = &e->locks[i];
    if (l->height != e->h) continue;
    if (l->value) {
      value_t *v = value_attach(e, l->id, blob_slice(l->value), l->round);
      if (v) value_request_validation(e, v, l->round);
      lock_id_note(e, l->id);
    }
    for (uint32_t k = 0; k < l->count; k++) {
      cons_vote_t v = {e->h, l->round, CONS_VOTE_PREVOTE, l->votes[k].index, true, {0}, {0}};
      memcpy(v.id, l->id, CONS_ID_BYTES);
      memcpy(v.sig, l->votes[k].sig, VCRYPTO_SIG_BYTES);
      int rc = on_vote(e, &v, false);
      if (rc) VE_WARN("consensus", "lock record vote %u at height %llu round %u: %s", v.index,
                      (unsigned long long)e->h, l->round, ve_strerror(rc));
    }
  }
  for (size_t i = 0; i < e->locks_count; i++) {
    const lockrec_t *l = &e->locks[i];
    if (l->height != e->h || (int64_t)l->round <= e->valid_round || !value_find(e, l->id)) continue;
    const round_t *rs = round_find(e, l->round);
    if (!rs || !cons_power_quorum(tally_power(&rs->votes[0], true, l->id), e->cur->total)) continue;
    e->valid_round = l->round;
    memcpy(e->valid_id, l->id, CONS_ID_BYTES);
  }
  locks_prune(e, e->h + 1);
}

/* Resumes height h from this node's records (after a restart, or on reaching a
 * height it had signed in before a restart), else starts round 0. */
static void begin_height(cons_engine_t *e) {
  int64_t top = -1;
  for (size_t i = 0; i < e->records_count; i++) {
    const cons_record_t *r = &e->records[i];
    if (r->height != e->h) continue;
    if ((int64_t)r->round > top) top = r->round;
    if (r->type == CONS_VOTE_PRECOMMIT && r->has_id && (int64_t)r->round > e->locked_round) {
      e->locked_round = r->round;
      memcpy(e->locked_id, r->id, CONS_ID_BYTES);
    }
  }
  if (top < 0) {
    restore_locks(e);
    start_round(e, 0);
    return;
  }
  e->round = (uint32_t)top;
  restore_locks(e);
  /* Our own votes count again: re-sign them (identical bytes) into the log. */
  for (size_t i = 0; i < e->records_count && e->cur->own >= 0; i++) {
    const cons_record_t *r = &e->records[i];
    if (r->height != e->h || r->type == CONS_TYPE_PROPOSAL) continue;
    cons_vote_t v = {e->h, r->round, r->type, (uint32_t)e->cur->own, r->has_id, {0}, {0}};
    memcpy(v.id, r->id, CONS_ID_BYTES);
    cons_vote_sign(&v, &e->key, e->chain_id);
    int rc = on_vote(e, &v, true);
    VE_ASSERT(rc == 0);
    if (r->round == e->round) broadcast_vote(e, &v);
  }
  if (record_find(e, e->h, e->round, CONS_VOTE_PRECOMMIT))
    e->step = STEP_PRECOMMIT;
  else if (record_find(e, e->h, e->round, CONS_VOTE_PREVOTE))
    e->step = STEP_PREVOTE;
  else
    start_round(e, e->round);
}

static void enter_height(cons_engine_t *e, uint64_t height) {
  VE_ASSERT(height <= CONS_HEIGHT_MAX); /* timer tokens carry 40 bits of height */
  clear_height(e);
  e->h = height;
  records_prune(e);
  emit_timer(e, CONS_TIMER_REBROADCAST, 0, e->rebroadcast_ms);
  e->cur = vset_lookup(e, height);
  if (e->cur) begin_height(e);
}

static void emit_status(cons_engine_t *e, cons_action_kind_t kind, uint64_t peer) {
  const round_t *rs = e->cur ? round_find(e, e->round) : NULL;
  cons_status_msg_t s = {e->h, e->round, rs && rs->has_proposal};
  ve_buf_t b;
  ve_buf_init(&b, CONS_MSG_BYTES_MAX);
  int rc = cons_status_encode(&b, &s);
  VE_ASSERT(rc == 0);
  emit_msg(e, kind, peer, &b);
}

static blob_t *build_cert(cons_engine_t *e, const round_t *rs, const uint8_t id[CONS_ID_BYTES]) {
  cons_cert_t *c = xcalloc(1, sizeof *c);
  c->height = e->h;
  c->round = rs->round;
  memcpy(c->id, id, CONS_ID_BYTES);
  const voteset_t *s = &rs->votes[1];
  for (uint32_t i = 0; i < e->cur->vs.count; i++) {
    const uint8_t *sig = voteset_sig(s, i, true, id);
    if (!sig) continue;
    c->sigs[c->count].index = i;
    memcpy(c->sigs[c->count].sig, sig, VCRYPTO_SIG_BYTES);
    c->count++;
  }
  ve_buf_t b;
  ve_buf_init(&b, CONS_CERT_BYTES_MAX);
  int rc = cons_cert_encode(&b, c);
  VE_ASSERT(rc == 0);
  free(c);
  return blob_take(&b);
}

/* L49–L54: decide v at h with certificate cert (reference taken), move on. */
static void decide(cons_engine_t *e, uint32_t round, value_t *v, blob_t *cert) {
  cons_action_t a;
  memset(&a, 0, sizeof a);
  a.kind = CONS_ACT_COMMIT;
  a.height = e->h;
  a.round = round;
  memcpy(a.id, v->id, CONS_ID_BYTES);
  q_push(e, &a, blob_ref(v->bytes), blob_ref(cert));

  blob_unref(e->last.value);
  blob_unref(e->last.cert);
  e->last.present = true;
  e->last.height = e->h;
  memcpy(e->last.id, v->id, CONS_ID_BYTES);
  e->last.value = blob_ref(v->bytes);
  e->last.cert = cert;
  e->last.vs = e->cur->vs;
  bool catchup = v->has_peer;
  uint64_t peer = v->peer;

  enter_height(e, e->h + 1);
  /* Caught up through a DECISION: ask the same peer for the next one at once. */
  if (catchup) emit_status(e, CONS_ACT_SEND, peer);
}

/* ================= the upon-rules ================= */

/* L49: a proposal (any round) whose value is valid, with 2f+1 precommits for it;
 * or a verified certificate received in a DECISION, whose value is valid. */
static bool rule_decide(cons_engine_t *e) {
  if (!e->decide_dirty) return false;
  e->decide_dirty = false;
  uint64_t total = e->cur->total;
  for (size_t i = 0; i < e->rounds_count; i++) {
    round_t *rs = e->rounds[i];
    const voteset_t *s = &rs->votes[1];
    if (!cons_power_quorum(s->total, total)) continue;
    for (uint32_t k = 0; k < s->tally_count; k++) {
      const tally_t *t = &s->tally[k];
      if (!t->has_id || !cons_power_quorum(t->power, total)) continue;
      value_t *v = value_find(e, t->id);
      if (!v) continue;
      value_request_validation(e, v, rs->round);
      if (v->state != VAL_VALID) continue;
      decide(e, rs->round, v, build_cert(e, rs, t->id));
      return true;
    }
  }
  for (size_t i = 0; i < e->values_count; i++) {
    value_t *v = &e->values[i];
    if (!v->cert) continue;
    value_request_validation(e, v, e->round);
    if (v->state != VAL_VALID) continue;
    cons_cert_info_t info;
    int rc = cons_cert_info(blob_slice(v->cert), &info);
    VE_ASSERT(rc == 0);
    decide(e, info.round, v, blob_ref(v->cert));
    return true;
  }
  return false;
}

/* L55: f+1 power signed messages of rounds above ours: jump to the highest round
 * r such that validators holding more than 1/3 of the power reached r. */
static bool rule_skip(cons_engine_t *e) {
  if (!e->skip_dirty) return false;
  e->skip_dirty = false;
  const vsentry_t *cur = e->cur;
  int64_t r[VE_VALIDATORS_MAX];
  uint64_t p[VE_VALIDATORS_MAX];
  size_t n = 0;
  for (uint32_t i = 0; i < cur->vs.count; i++) {
    if (e->maxr[i] <= (int64_t)e->round) continue;
    /* insertion sort, descending by round */
    size_t j = n++;
    while (j > 0 && r[j - 1] < e->maxr[i]) {
      r[j] = r[j - 1];
      p[j] = p[j - 1];
      j--;
    }
    r[j] = e->maxr[i];
    p[j] = cur->vs.v[i].power;
  }
  uint64_t acc = 0;
  for (size_t j = 0; j < n; j++) {
    acc += p[j];
    if (cons_power_third(acc, cur->total)) {
      start_round(e, (uint32_t)r[j]);
      return true;
    }
  }
  return false;
}

/* L22 (pol = -1) and L28 (pol ≥ 0 with 2f+1 prevotes for v in round pol). */
static bool rule_propose_prevote(cons_engine_t *e) {
  if (e->step != STEP_PROPOSE) return false;
  round_t *rs = round_find(e, e->round);
  if (!rs || !rs->has_proposal) return false;
  value_t *v = value_find(e, rs->prop.id);
  if (!v) return false;
  bool ok;
  int64_t pol = rs->prop.pol_round;
  if (pol < 0) {
    if (v->state != VAL_VALID && v->state != VAL_INVALID) return false;
    ok = v->state == VAL_VALID &&
         (e->locked_round < 0 || memcmp(e->locked_id, v->id, CONS_ID_BYTES) == 0);
  } else {
    round_t *prs = round_find(e, (uint32_t)pol);
    if (!prs || !cons_power_quorum(tally_power(&prs->votes[0], true, v->id), e->cur->total))
      return false;
    if (v->state != VAL_VALID && v->state != VAL_INVALID) return false;
    ok = v->state == VAL_VALID &&
         (e->locked_round <= pol || memcmp(e->locked_id, v->id, CONS_ID_BYTES) == 0);
  }
  VE_DEBUG("consensus", "[%d] h=%llu r=%u prevote %s (pol=%lld state=%u locked=%lld)",
           e->cur->own, (unsigned long long)e->h, e->round, ok ? "value" : "nil", (long long)pol,
           v->state, (long long)e->locked_round);
  send_vote(e, CONS_VOTE_PREVOTE, ok, v->id);
  e->step = STEP_PREVOTE;
  return true;
}

/* Before the precommit that locks v in this round: PERSIST what justifies the
 * lock to others, v's bytes (once per value and height) and this round's
 * prevotes for v. Only our own signatures are persisted otherwise, and if every
 * node restarts, nobody else may hold either any more. */
static void persist_lock(cons_engine_t *e, const round_t *rs, const value_t *v) {
  if (e->cur->own < 0 || e->h < e->sign_from) return; /* it will not sign */
  if (record_find(e, e->h, e->round, CONS_VOTE_PRECOMMIT)) return; /* nothing new to sign */
  cons_lock_t *l = xcalloc(1, sizeof *l);
  l->height = e->h;
  l->round = e->round;
  memcpy(l->id, v->id, CONS_ID_BYTES);
  l->has_value = lock_id_note(e, v->id);
  if (l->has_value) l->value = blob_slice(v->bytes);
  size_t n = collect_votes(e, rs, 1, v->id, e->batch, VE_VALIDATORS_MAX);
  for (size_t i = 0; i < n; i++) {
    l->votes[i].index = e->batch[i].index;
    memcpy(l->votes[i].sig, e->batch[i].sig, VCRYPTO_SIG_BYTES);
  }
  l->count = (uint32_t)n;
  ve_buf_t b;
  ve_buf_init(&b, CONS_LOCK_RECORD_BYTES_MAX);
  int rc = cons_lock_encode(&b, l);
  VE_ASSERT(rc == 0);
  free(l);
  emit_blob(e, CONS_ACT_PERSIST, 0, blob_take(&b));
}

/* L36: proposal of this round, valid, 2f+1 prevotes for it, step ≥ prevote, once. */
static bool rule_lock(cons_engine_t *e) {
  if (e->step < STEP_PREVOTE) return false;
  round_t *rs = round_find(e, e->round);
  if (!rs || !rs->has_proposal || rs->lock_rule_done) return false;
  if (!cons_power_quorum(tally_power(&rs->votes[0], true, rs->prop.id), e->cur->total))
    return false;
  value_t *v = value_find(e, rs->prop.id);
  if (!v) return false;
  value_request_validation(e, v, e->round);
  if (v->state != VAL_VALID) return false;
  rs->lock_rule_done = true;
  VE_DEBUG("consensus", "[%d] h=%llu r=%u polka for value (step %u)", e->cur->own,
           (unsigned long long)e->h, e->round, e->step);
  if (e->step == STEP_PREVOTE) {
    e->locked_round = e->round;
    memcpy(e->locked_id, v->id, CONS_ID_BYTES);
    persist_lock(e, rs, v);
    send_vote(e, CONS_VOTE_PRECOMMIT, true, v->id);
    e->step = STEP_PRECOMMIT;
  }
  e->valid_round = e->round;
  memcpy(e->valid_id, v->id, CONS_ID_BYTES);
  return true;
}

/* L44: 2f+1 prevotes for nil while in prevote. */
static bool rule_precommit_nil(cons_engine_t *e) {
  if (e->step != STEP_PREVOTE) return false;
  round_t *rs = round_find(e, e->round);
  if (!rs || !cons_power_quorum(tally_power(&rs->votes[0], false, NULL), e->cur->total))
    return false;
  send_vote(e, CONS_VOTE_PRECOMMIT, false, NULL);
  e->step = STEP_PRECOMMIT;
  return true;
}

/* L34: 2f+1 prevotes of any kind while in prevote, first time: timeoutPrevote. */
static bool rule_prevote_timer(cons_engine_t *e) {
  if (e->step != STEP_PREVOTE) return false;
  round_t *rs = round_find(e, e->round);
  if (!rs || rs->prevote_timer_set || !cons_power_quorum(rs->votes[0].total, e->cur->total))
    return false;
  rs->prevote_timer_set = true;
  emit_timer(e, CONS_TIMER_PREVOTE, e->round, timeout_ms(e, e->round));
  return true;
}

/* L47: 2f+1 precommits of any kind, first time: timeoutPrecommit. */
static bool rule_precommit_timer(cons_engine_t *e) {
  round_t *rs = round_find(e, e->round);
  if (!rs || rs->precommit_timer_set || !cons_power_quorum(rs->votes[1].total, e->cur->total))
    return false;
  rs->precommit_timer_set = true;
  emit_timer(e, CONS_TIMER_PRECOMMIT, e->round, timeout_ms(e, e->round));
  return true;
}

static void rules_run(cons_engine_t *e) {
  for (unsigned iter = 0;; iter++) {
    VE_ASSERT(iter < CONS_RULE_ITERATIONS_MAX);
    if (!e->cur) return;
    if (rule_decide(e)) continue;
    if (rule_skip(e)) continue;
    if (rule_propose_prevote(e)) continue;
    if (rule_lock(e)) continue;
    if (rule_precommit_nil(e)) continue;
    if (rule_prevote_timer(e)) continue;
    if (rule_precommit_timer(e)) continue;
    return;
  }
}

/* ================= catch-up and re-broadcast ================= */

static void send_last_decision(cons_engine_t *e, uint64_t peer) {
  ve_buf_t b;
  ve_buf_init(&b, CONS_MSG_BYTES_MAX);
  int rc = cons_decision_encode(&b, e->last.height, e->last.id, blob_slice(e->last.value),
                                blob_slice(e->last.cert));
  VE_ASSERT(rc == 0);
  emit_msg(e, CONS_ACT_SEND, peer, &b);
}

static void on_status(cons_engine_t *e, uint64_t peer, const cons_status_msg_t *s) {
  if (s->height < e->h) {
    if (e->last.present && s->height == e->last.height) {
      send_last_decision(e, peer);
    } else {
      cons_action_t a;
      memset(&a, 0, sizeof a);
      a.kind = CONS_ACT_SEND_DECISION;
      a.peer = peer;
      a.height = s->height;
      q_push(e, &a, NULL, NULL);
    }
    return;
  }
  if (s->height > e->h) {
    emit_status(e, CONS_ACT_SEND, peer); /* we are behind: ask for a DECISION */
    return;
  }
  if (!e->cur) return;
  const round_t *rs = round_find(e, s->round);
  if (s->round < e->round) {
    /* The peer is in an earlier round of our height: it may lack votes we moved
     * on with (we no longer re-broadcast that round). Send it that round's votes,
     * and ours so that it can skip ahead (L55). */
    const round_t *ours = round_find(e, e->round);
    size_t n = rs ? collect_votes(e, rs, 3, NULL, e->batch, CONS_BATCH_VOTES_MAX) : 0;
    emit_votes(e, CONS_ACT_SEND, peer, e->batch, n);
    n = ours ? collect_votes(e, ours, 3, NULL, e->batch, CONS_BATCH_VOTES_MAX) : 0;
    emit_votes(e, CONS_ACT_SEND, peer, e->batch, n);
  }
  if (s->has_proposal || !rs || !rs->has_proposal) return;
  const value_t *v = value_find(e, rs->prop.id);
  if (!v) return;
  cons_proposal_t p = rs->prop;
  p.value = blob_slice(v->bytes);
  emit_proposal_msg(e, CONS_ACT_SEND, peer, &p);
}

/* Periodic: our status, and every vote we hold for the current, locked and valid
 * rounds (everyone's, so votes lost on some links still reach everyone). */
static void rebroadcast(cons_engine_t *e) {
  emit_status(e, CONS_ACT_BROADCAST, 0);
  if (!e->cur) return;
  /* Ascending, distinct: batches are sorted by round. round ≥ both others. */
  int64_t lo = e->valid_round < e->locked_round ? e->valid_round : e->locked_round;
  int64_t hi = e->valid_round < e->locked_round ? e->locked_round : e->valid_round;
  int64_t rounds[3] = {lo, hi == lo ? -1 : hi, e->round};
  size_t n = 0;
  for (int k = 0; k < 3; k++) {
    if (rounds[k] < 0 || (k < 2 && rounds[k] == (int64_t)e->round)) continue;
    const round_t *rs = round_find(e, (uint32_t)rounds[k]);
    if (!rs) continue;
    if (n + 2 * e->cur->vs.count > CONS_BATCH_VOTES_MAX) {
      emit_votes(e, CONS_ACT_BROADCAST, 0, e->batch, n);
      n = 0;
    }
    n += collect_votes(e, rs, 3, NULL, e->batch + n, CONS_BATCH_VOTES_MAX - n);
  }
  emit_votes(e, CONS_ACT_BROADCAST, 0, e->batch, n);
  /* Votes for this round's proposal, including equivocators' second votes. */
  const round_t *rs = round_find(e, e->round);
  bool alts = rs && (rs->votes[0].alts_count || rs->votes[1].alts_count);
  n = alts && rs->has_proposal
          ? collect_votes(e, rs, 3, rs->prop.id, e->batch, CONS_BATCH_VOTES_MAX)
          : 0;
  emit_votes(e, CONS_ACT_BROADCAST, 0, e->batch, n);
}

/* ================= message dispatch ================= */

static void future_add(cons_engine_t *e, uint64_t peer, uint64_t height, ve_slice_t msg) {
  if (e->future_count == CONS_FUTURE_MSGS_MAX ||
      e->future_bytes + msg.len > CONS_FUTURE_BYTES_MAX)
    return; /* re-broadcasts will bring it again */
  future_t *f = &e->future[e->future_count++];
  f->height = height;
  f->peer = peer;
  f->msg = blob_copy(msg);
  e->future_bytes += msg.len;
}

static void future_remove(cons_engine_t *e, size_t i) {
  e->future_bytes -= e->future[i].msg->len;
  blob_unref(e->future[i].msg);
  memmove(&e->future[i], &e->future[i + 1], (e->future_count - i - 1) * sizeof *e->future);
  e->future_count--;
}

static int on_decision(cons_engine_t *e, uint64_t peer, const cons_decision_t *d) {
  if (d->height == e->h && e->cur) {
    VE_TRY(cons_cert_verify_with(&e->cur->vs, e->chain_id, d->height, d->id, d->cert, e->verify,
                                 e->verify_ctx));
    value_t *v = value_attach(e, d->id, d->value, e->round);
    if (!v) return VE_OK;
    if (!v->cert) v->cert = blob_copy(d->cert);
    v->has_peer = true;
    v->peer = peer;
    e->decide_dirty = true;
    return VE_OK;
  }
  if (e->last.present && d->height == e->last.height &&
      memcmp(d->id, e->last.id, CONS_ID_BYTES) != 0) {
    /* A conflicting certified block at a height we decided: the fork needs
     * more than 1/3 faulty power. Report whoever signed both in one round. */
    ve_buf_t ev[VE_VALIDATORS_MAX];
    size_t n = 0;
    int rc = cons_evidence_from_certs(&e->last.vs, e->chain_id, d->height, e->last.id,
                                      blob_slice(e->last.cert), d->id, d->cert, ev, &n);
    if (rc == 0) VE_ERROR("consensus", "FORK at height %llu", (unsigned long long)d->height);
    for (size_t i = 0; i < n; i++) {
      if (rc == 0)
        emit_evidence(e, &ev[i]);
      else
        ve_buf_free(&ev[i]);
    }
    return rc;
  }
  return VE_OK;
}

static int handle_message(cons_engine_t *e, uint64_t peer, ve_slice_t msg) {
  cons_msg_t m;
  VE_TRY(cons_msg_decode(msg, &m, e->batch));
  if (m.type == CONS_MSG_STATUS) {
    on_status(e, peer, &m.status);
    return VE_OK;
  }
  if (m.height == e->h && e->cur) {
    switch (m.type) {
      case CONS_MSG_PROPOSAL:
        return on_proposal(e, &m.proposal, false);
      case CONS_MSG_VOTE:
        return on_vote(e, &m.vote, false);
      case CONS_MSG_VOTES:
        for (size_t i = 0; i < m.votes_count; i++) VE_TRY(on_vote(e, &e->batch[i], false));
        return VE_OK;
      default:
        return on_decision(e, peer, &m.decision);
    }
  }
  if (m.height == e->h + 1 || m.height == e->h) {
    future_add(e, peer, m.height, msg);
    return VE_OK;
  }
  if (m.type == CONS_MSG_DECISION && m.height < e->h) return on_decision(e, peer, &m.decision);
  return VE_OK;
}

/* Replays buffered messages of the current height, one at a time, each followed
 * by the rules (a loop, not recursion, however many heights this advances). */
static void settle(cons_engine_t *e) {
  rules_run(e);
  for (;;) {
    size_t i = 0;
    while (i < e->future_count) {
      if (e->future[i].height < e->h)
        future_remove(e, i);
      else if (e->future[i].height == e->h && e->cur)
        break;
      else
        i++;
    }
    if (i == e->future_count) return;
    blob_t *msg = blob_ref(e->future[i].msg);
    uint64_t peer = e->future[i].peer;
    future_remove(e, i);
    (void)handle_message(e, peer, blob_slice(msg)); /* a bad one was the peer's fault */
    blob_unref(msg);
    rules_run(e);
  }
}

/* ================= public inputs ================= */

int cons_on_message(cons_engine_t *e, uint64_t peer, ve_slice_t msg) {
  if (!e->started) return VE_ERR_STATE;
  int rc = handle_message(e, peer, msg);
  settle(e);
  return rc;
}

int cons_on_timeout(cons_engine_t *e, uint64_t token) {
  if (!e->started) return VE_ERR_STATE;
  unsigned kind = cons_token_kind(token);
  uint32_t round = cons_token_round(token);
  if (cons_token_height(token) != e->h) return VE_OK; /* stale */
  if (kind == CONS_TIMER_REBROADCAST) {
    rebroadcast(e);
    emit_timer(e, CONS_TIMER_REBROADCAST, 0, e->rebroadcast_ms);
  } else if (!e->cur || round != e->round) {
    return VE_OK;
  } else if (kind == CONS_TIMER_PROPOSE && e->step == STEP_PROPOSE) { /* L57 */
    send_vote(e, CONS_VOTE_PREVOTE, false, NULL);
    e->step = STEP_PREVOTE;
  } else if (kind == CONS_TIMER_PREVOTE && e->step == STEP_PREVOTE) { /* L61 */
    send_vote(e, CONS_VOTE_PRECOMMIT, false, NULL);
    e->step = STEP_PRECOMMIT;
  } else if (kind == CONS_TIMER_PRECOMMIT && round < CONS_ROUND_MAX) { /* L65 */
    start_round(e, round + 1);
  }
  settle(e);
  return VE_OK;
}

int cons_on_proposal(cons_engine_t *e, uint64_t height, uint32_t round,
                     const uint8_t id[CONS_ID_BYTES], ve_slice_t value) {
  if (!e->started || !e->cur || height != e->h || round != e->round || !e->awaiting_proposal ||
      e->step != STEP_PROPOSE)
    return VE_ERR_STATE;
  if (value.len > CONS_VALUE_BYTES_MAX) return VE_ERR_TOO_BIG;
  value_t *v = value_attach(e, id, value, round);
  if (!v) return VE_ERR_FULL;
  e->awaiting_proposal = false;
  v->state = VAL_VALID; /* our own application built it */
  propose(e, v, -1);
  settle(e);
  return VE_OK;
}

int cons_on_validated(cons_engine_t *e, uint64_t height, uint32_t round,
                      const uint8_t id[CONS_ID_BYTES], bool valid) {
  (void)round;
  if (!e->started || !e->cur || height != e->h) return VE_ERR_STATE;
  value_t *v = value_find(e, id);
  if (!v) return VE_ERR_NOT_FOUND;
  if (v->state == VAL_PENDING || v->state == VAL_UNKNOWN) {
    v->state = valid ? VAL_VALID : VAL_INVALID;
    e->decide_dirty = true;
  }
  settle(e);
  return VE_OK;
}

int cons_on_applied(cons_engine_t *e, uint64_t height, const cons_valset_t *next) {
  if (cons_valset_check(next)) return VE_ERR_INVALID;
  uint64_t target = height + CONS_VALSET_DELAY;
  if (target < e->h) return VE_OK; /* stale: that height is decided */
  if (target > e->h + CONS_VALSET_DELAY) return VE_ERR_HEIGHT;
  const vsentry_t *have = vset_lookup(e, target);
  if (have) return cons_valset_equal(&have->vs, next) ? VE_OK : VE_ERR_EXISTS;
  vset_install(e, target, next);
  if (e->started && !e->cur && target == e->h) {
    e->cur = vset_lookup(e, target);
    begin_height(e);
    settle(e);
  }
  return VE_OK;
}

int cons_start(cons_engine_t *e) {
  if (e->started) return VE_ERR_STATE;
  e->started = true;
  enter_height(e, e->h);
  emit_status(e, CONS_ACT_BROADCAST, 0); /* peers ahead answer with a DECISION */
  settle(e);
  return VE_OK;
}

bool cons_action_next(cons_engine_t *e, cons_action_t *out) {
  blob_unref(e->popped.data);
  blob_unref(e->popped.cert);
  memset(&e->popped, 0, sizeof e->popped);
  if (e->q_head == e->q_count) {
    e->q_head = e->q_count = 0;
    return false;
  }
  e->popped = e->q[e->q_head++];
  *out = e->popped.a;
  return true;
}

void cons_status(const cons_engine_t *e, cons_status_t *out) {
  memset(out, 0, sizeof *out);
  out->height = e->h;
  out->round = e->round;
  out->step = e->step;
  out->locked_round = e->locked_round;
  out->valid_round = e->valid_round;
  out->waiting_valset = e->cur == NULL;
  out->own_index = e->cur ? e->cur->own : -1;
}

/* ================= construction ================= */

static int load_lock(cons_engine_t *e, ve_slice_t rec, uint64_t start) {
  cons_lock_t *l = xcalloc(1, sizeof *l);
  int rc = cons_lock_decode(rec, l) ? VE_ERR_CORRUPT : VE_OK;
  if (rc == VE_OK && l->height >= start) {
    lockrec_t *arr = realloc(e->locks, (e->locks_count + 1) * sizeof *arr);
    VE_ASSERT(arr != NULL);
    e->locks = arr;
    lockrec_t *d = &e->locks[e->locks_count++];
    memset(d, 0, sizeof *d);
    d->height = l->height;
    d->round = l->round;
    memcpy(d->id, l->id, CONS_ID_BYTES);
    if (l->has_value) d->value = blob_copy(l->value);
    d->count = l->count;
    d->votes = xcalloc(l->count, sizeof *d->votes);
    memcpy(d->votes, l->votes, l->count * sizeof *d->votes);
  }
  free(l);
  return rc;
}

static int load_records(cons_engine_t *e, const cons_config_t *cfg) {
  if (cfg->records_count > CONS_RECORDS_MAX) return VE_ERR_CONFIG;
  for (size_t i = 0; i < cfg->records_count; i++) {
    if (cons_record_is_lock(cfg->records[i])) {
      VE_TRY(load_lock(e, cfg->records[i], cfg->start_height));
      continue;
    }
    cons_record_t r;
    if (cons_record_decode(cfg->records[i], &r)) return VE_ERR_CORRUPT;
    if (r.height < cfg->start_height) continue;
    const cons_record_t *have = record_find(e, r.height, r.round, r.type);
    if (have) {
      if (!record_same(have, &r)) return VE_ERR_CORRUPT; /* we never write these */
      continue;
    }
    VE_TRY(record_add(e, &r));
  }
  return VE_OK;
}

int cons_engine_new(cons_engine_t **out, const cons_config_t *cfg) {
  *out = NULL;
  size_t clen = cfg->chain_id ? strlen(cfg->chain_id) : 0;
  if (clen == 0 || clen > VE_CHAIN_ID_BYTES_MAX) return VE_ERR_CONFIG;
  if (cfg->start_height == 0 || cfg->start_height > CONS_HEIGHT_MAX) return VE_ERR_CONFIG;
  if (cfg->timeout_base_ms == 0 || cfg->timeout_base_ms > CONS_TIMEOUT_MS_MAX ||
      cfg->timeout_delta_ms > CONS_TIMEOUT_MS_MAX || cfg->rebroadcast_ms > CONS_TIMEOUT_MS_MAX)
    return VE_ERR_CONFIG;
  if (!cfg->valsets[0]) return VE_ERR_CONFIG;
  for (int i = 0; i < CONS_VALSET_DELAY; i++)
    if (cfg->valsets[i] && cons_valset_check(cfg->valsets[i])) return VE_ERR_CONFIG;
  cons_engine_t *e = xcalloc(1, sizeof *e);
  memcpy(e->chain_id, cfg->chain_id, clen);
  if (cfg->key) {
    e->has_key = true;
    e->key = *cfg->key;
  }
  e->sign_from = cfg->sign_from_height;
  e->timeout_base_ms = cfg->timeout_base_ms;
  e->timeout_delta_ms = cfg->timeout_delta_ms;
  e->rebroadcast_ms = cfg->rebroadcast_ms ? cfg->rebroadcast_ms : cfg->timeout_base_ms;
  e->verify = cfg->verify;
  e->verify_ctx = cfg->verify_ctx;
  e->h = cfg->start_height;
  e->locked_round = e->valid_round = -1;
  for (int i = 0; i < CONS_VALSET_DELAY; i++)
    if (cfg->valsets[i]) vset_install(e, cfg->start_height + (uint64_t)i, cfg->valsets[i]);
  e->batch = xcalloc(CONS_BATCH_VOTES_MAX, sizeof *e->batch);
  int rc = load_records(e, cfg);
  if (rc) {
    cons_engine_free(e);
    return rc;
  }
  *out = e;
  return VE_OK;
}

void cons_engine_free(cons_engine_t *e) {
  if (!e) return;
  clear_height(e);
  free(e->rounds);
  free(e->records);
  for (size_t i = 0; i < e->locks_count; i++) lockrec_free(&e->locks[i]);
  free(e->locks);
  for (size_t i = 0; i < e->future_count; i++) blob_unref(e->future[i].msg);
  blob_unref(e->last.value);
  blob_unref(e->last.cert);
  for (size_t i = e->q_head; i < e->q_count; i++) {
    blob_unref(e->q[i].data);
    blob_unref(e->q[i].cert);
  }
  free(e->q);
  blob_unref(e->popped.data);
  blob_unref(e->popped.cert);
  free(e->batch);
  vcrypto_keypair_wipe(&e->key);
  free(e);
}
