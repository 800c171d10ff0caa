/* poll_limits_test.c — polls at every size limit of the voting app, end to end
 * through real blocks on a memory-store chain (tests/unit/common/tchain.h).
 *
 * Why: the app bounds a poll by named constants (voting.h, votecrypto.h) and
 * the ledger bounds a transaction (VE_TX_BYTES_MAX, base/limits.h). Each bound
 * is checked where its bytes are decoded, but only a whole poll at the limits
 * shows that they agree: that the largest definition the rules admit still
 * gives a record, dealings, ballots and decryption shares that every other
 * bound admits, and that one step over a limit is refused with its own code.
 * Sizes are asserted against the constants, so a change that lets a maximal
 * poll outgrow a bound fails here.
 *
 *  - test_worst_case_bounds: the largest encoding each layout of
 *    docs/voting.md §3-4 can take within the limits (every text at its limit,
 *    the longest uvarints, every trustee mask full) fits its bound; printed.
 *  - test_maximal_poll: 16 questions x 4 options (64; each from none to all),
 *    32 trustees with threshold 22, every text at its byte limit, an
 *    eligibility filter at its key and value limits, a 64-byte chain id.
 *    Create; 32 dealings (dealer 32 sends trustee 1 a bad share); complaints
 *    (trustee 1's upheld, 31 false ones by trustee 32 dismissed); finish (31
 *    qualified); ballots with re-votes and an ineligible voter refused; close;
 *    decryption by exactly 22 trustees (the excluded dealer among them); the
 *    result equals the plaintext count of the latest ballots; a 23rd share is
 *    refused; the audit engine agrees. Every transaction and record measured.
 *  - test_maximal_question: one question of 64 options with 0..64 choices, 32
 *    trustees with threshold 32: the largest dealing, ballot and decryption
 *    share the cryptography allows (VOTE_DKG_DEALING_BYTES_MAX,
 *    VOTE_BALLOT_BYTES_MAX, VOTE_DECSHARE_BYTES_MAX) go through the ledger,
 *    and all 32 trustees decrypt.
 *  - test_over_limits: one step over each limit (65 options, 17 questions, 33
 *    trustees, 2 trustees, texts one byte too long, thresholds out of range,
 *    choice bounds, a definition over 32 KiB, ...) is refused at creation with
 *    its code and writes nothing but the signer's sequence; oversized cancel
 *    reasons, dealings, ballots and shares are refused the same way.
 *
 * Timings of the expensive steps go to stderr. Ballot choices are seeded and
 * the seed printed: replay with VECHE_SEED=<seed>.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "apps/identity/identity.h"
#include "apps/voting/voting.h"
#include "base/err.h"
#include "base/limits.h"
#include "codec/codec.h"
#include "state/state.h"
#include "pfix.h"
#include "tchain.h"
#include "vtest.h"

#define EXPECT(rc, want)                                                                           \
  do {                                                                                             \
    int32_t got_ = (rc);                                                                           \
    if (got_ != (want))                                                                            \
      fail_msg("%s:%d: got %s, want %s", __FILE__, __LINE__, ve_err_name(got_), ve_err_name(want)); \
  } while (0)

/* A measured size must not exceed its bound; both are printed when it does. */
#define FITS(what, size, bound)                                                                    \
  do {                                                                                             \
    size_t s_ = (size), b_ = (bound);                                                              \
    if (s_ > b_) fail_msg("%s:%d: %s is %zu bytes, over its bound %s = %zu", __FILE__, __LINE__,   \
                          (what), s_, #bound, b_);                                                 \
  } while (0)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t uv(uint64_t v) { return codec_uvarint_size(v); }

/* ====================================================================== */
/* Worst-case encodings within the limits (docs/voting.md §3-4)            */
/* ====================================================================== */

#define U64_BYTES_MAX CODEC_UVARINT_BYTES_MAX
#define MASK_BYTES_MAX 5 /* uvarint of a 32-bit trustee mask */

/* Transaction envelope around a payload (ledger/tx.c): version, chain id,
 * signer, seq, expiry, type, payload length, signature. */
static size_t tx_envelope_worst(void) {
  return 1 + uv(VE_CHAIN_ID_BYTES_MAX) + VE_CHAIN_ID_BYTES_MAX + 32 + U64_BYTES_MAX + U64_BYTES_MAX +
         uv(LEDGER_TX_TYPE_MAX) + uv(VE_TX_PAYLOAD_BYTES_MAX) + 64;
}

/* The create payload: every text at its limit, every question with its
 * option count and choice bounds, the filter, four 64-bit heights, the
 * threshold and 32 trustees. */
static size_t def_worst(void) {
  size_t n = 1 + uv(VOTING_TITLE_BYTES_MAX) + VOTING_TITLE_BYTES_MAX + uv(VOTING_QUESTIONS_MAX);
  n += VOTING_QUESTIONS_MAX * (uv(VOTING_QUESTION_BYTES_MAX) + VOTING_QUESTION_BYTES_MAX +
                               uv(VOTE_OPTIONS_MAX) + 2 * uv(VOTE_OPTIONS_MAX));
  n += VOTING_OPTIONS_MAX * (uv(VOTING_OPTION_BYTES_MAX) + VOTING_OPTION_BYTES_MAX);
  n += 1 + uv(VOTING_FILTER_KEY_BYTES_MAX) + VOTING_FILTER_KEY_BYTES_MAX + uv(VOTING_FILTER_VALUE_BYTES_MAX) +
       VOTING_FILTER_VALUE_BYTES_MAX;
  n += 4 * U64_BYTES_MAX + uv(VOTING_TRUSTEES_MAX) + uv(VOTING_TRUSTEES_MAX) + VOTING_TRUSTEES_MAX * 32;
  return n;
}

/* The poll record of a DONE poll (the largest status): the definition, keys,
 * every mask full, the result. */
static size_t record_worst(void) {
  const size_t T = VOTING_TRUSTEES_MAX, O = VOTING_OPTIONS_MAX;
  size_t n = 1 + 32 + U64_BYTES_MAX + uv(def_worst()) + def_worst();
  n += T * VOTE_POINT_BYTES + 1 + U64_BYTES_MAX;           /* enc keys, status, status height */
  n += MASK_BYTES_MAX + T * MASK_BYTES_MAX + MASK_BYTES_MAX; /* dealt, complained, upheld */
  n += 1 + MASK_BYTES_MAX + VOTE_POINT_BYTES + T * VOTE_POINT_BYTES; /* key */
  n += MASK_BYTES_MAX + 1 + U64_BYTES_MAX + uv(VOTING_VOTERS_MAX) + MASK_BYTES_MAX; /* result head */
  n += O * uv(VOTING_VOTERS_MAX) + O * VOTE_CT_BYTES;
  return n;
}

static size_t tally_rec_worst(void) {
  return 1 + uv(VOTING_VOTERS_MAX) + U64_BYTES_MAX + VOTING_OPTIONS_MAX * VOTE_CT_BYTES;
}

static size_t ballot_rec_worst(void) {
  return 1 + 32 + U64_BYTES_MAX + U64_BYTES_MAX + VOTING_OPTIONS_MAX * VOTE_CT_BYTES;
}

/* The largest value of the creation check's ballot accounting (sum over the
 * questions of vote_ballot_size + CODEC_UVARINT_BYTES_MAX) over every valid
 * shape. vote_ballot_size(o, min, max) is at most vote_ballot_size(o, 0, o),
 * which is affine in o (both checked here for every o, min, max); a question
 * costs more than an option, so the maximum is at 16 questions and 64 options,
 * whatever their split. */
static size_t ballots_accounting_worst(void) {
  const size_t one = vote_ballot_size(1, 0, 1);
  const size_t slope = vote_ballot_size(2, 0, 2) - one;
  for (uint32_t o = 1; o <= VOTE_OPTIONS_MAX; o++) {
    size_t full = vote_ballot_size(o, 0, o);
    assert_int_equal(full, one + (o - 1) * slope);
    for (uint32_t mn = 0; mn <= o; mn++)
      for (uint32_t mx = mn > 1 ? mn : 1; mx <= o; mx++) assert_true(vote_ballot_size(o, mn, mx) <= full);
  }
  assert_true(one + CODEC_UVARINT_BYTES_MAX > slope);
  return VOTING_QUESTIONS_MAX * (one + CODEC_UVARINT_BYTES_MAX) +
         (VOTING_OPTIONS_MAX - VOTING_QUESTIONS_MAX) * slope;
}

/* The ballot payload: version, poll, voter, then the ballot list (count and
 * length-prefixed ballots, each prefix within the accounting's 10 bytes). */
static size_t ballot_payload_worst(void) {
  return 1 + 32 + 32 + uv(VOTING_QUESTIONS_MAX) + ballots_accounting_worst();
}

/* One question's decryption share (vote_decshare_create): version, trustee,
 * options, then (D || proof) per option. */
static size_t decshare_overhead_worst(void) { return 1 + uv(VOTING_TRUSTEES_MAX) + uv(VOTE_OPTIONS_MAX); }

/* The shares of a decrypt payload with their length prefixes (no count). */
static size_t decshare_items_worst(void) {
  return VOTING_QUESTIONS_MAX * (uv(VOTE_DECSHARE_BYTES_MAX) + decshare_overhead_worst()) +
         (size_t)VOTING_OPTIONS_MAX * VOTE_PARTIAL_BYTES;
}

static size_t decrypt_payload_worst(void) { return 1 + 32 + uv(VOTING_QUESTIONS_MAX) + decshare_items_worst(); }

static size_t deal_payload_worst(void) {
  return 1 + 32 + uv(VOTE_DKG_DEALING_BYTES_MAX) + VOTE_DKG_DEALING_BYTES_MAX;
}

static void test_worst_case_bounds(void **state) {
  (void)state;
  assert_int_equal(vote_init(), 0);
  const size_t env = tx_envelope_worst();
  struct {
    const char *what;
    size_t size, bound;
    const char *bound_name;
  } rows[] = {
      {"definition (create payload)", def_worst(), VOTING_DEF_BYTES_MAX, "VOTING_DEF_BYTES_MAX"},
      {"poll record (DONE)", record_worst(), VOTING_RECORD_BYTES_MAX, "VOTING_RECORD_BYTES_MAX"},
      {"tally record", tally_rec_worst(), VOTING_RECORD_BYTES_MAX, "VOTING_RECORD_BYTES_MAX"},
      {"ballot record", ballot_rec_worst(), VOTING_RECORD_BYTES_MAX, "VOTING_RECORD_BYTES_MAX"},
      {"records", VOTING_RECORD_BYTES_MAX, STATE_VALUE_BYTES_MAX, "STATE_VALUE_BYTES_MAX"},
      {"ballots (creation accounting)", ballots_accounting_worst(), VOTING_BALLOTS_BYTES_MAX,
       "VOTING_BALLOTS_BYTES_MAX"},
      {"one ballot (64 options, 0..64)", vote_ballot_size(VOTE_OPTIONS_MAX, 0, VOTE_OPTIONS_MAX),
       VOTE_BALLOT_BYTES_MAX, "VOTE_BALLOT_BYTES_MAX"},
      {"dealing (n = t = 32)", vote_dkg_dealing_size(&(vote_dkg_params_t){VOTE_TRUSTEES_MAX, VOTE_TRUSTEES_MAX}),
       VOTE_DKG_DEALING_BYTES_MAX, "VOTE_DKG_DEALING_BYTES_MAX"},
      {"one decryption share (64 options)", vote_decshare_size(VOTE_OPTIONS_MAX), VOTE_DECSHARE_BYTES_MAX,
       "VOTE_DECSHARE_BYTES_MAX"},
      {"create tx", env + def_worst(), VE_TX_BYTES_MAX, "VE_TX_BYTES_MAX"},
      {"deal tx", env + deal_payload_worst(), VE_TX_BYTES_MAX, "VE_TX_BYTES_MAX"},
      {"ballot tx", env + ballot_payload_worst(), VE_TX_BYTES_MAX, "VE_TX_BYTES_MAX"},
      {"decrypt tx", env + decrypt_payload_worst(), VE_TX_BYTES_MAX, "VE_TX_BYTES_MAX"},
      {"create payload", def_worst(), VE_TX_PAYLOAD_BYTES_MAX, "VE_TX_PAYLOAD_BYTES_MAX"},
      {"ballot payload", ballot_payload_worst(), VE_TX_PAYLOAD_BYTES_MAX, "VE_TX_PAYLOAD_BYTES_MAX"},
      {"decrypt payload (stored raw)", decrypt_payload_worst(), STATE_VALUE_BYTES_MAX, "STATE_VALUE_BYTES_MAX"},
  };
  fprintf(stderr, "worst-case encodings within the limits (tx envelope %zu bytes):\n", env);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    fprintf(stderr, "  %-36s %6zu <= %6zu %s\n", rows[i].what, rows[i].size, rows[i].bound, rows[i].bound_name);
    if (rows[i].size > rows[i].bound)
      fail_msg("%s: %zu bytes over %s = %zu", rows[i].what, rows[i].size, rows[i].bound_name, rows[i].bound);
  }
}

/* ====================================================================== */
/* The chain: 32 trustees, voters with a filter attribute at its limits    */
/* ====================================================================== */

#define PL_TRUSTEES VOTING_TRUSTEES_MAX
#define PL_ELIGIBLE 12                /* voters 0..11 match the filter */
#define PL_VOTERS (PL_ELIGIBLE + 2)   /* 12, 13: the value differs in its last byte */
#define PL_BALLOTS_PER_BLOCK 6

static const ledger_registry_t PL_REG = {&identity_auth, {&identity_app, &voting_app}, 2, NULL};

typedef struct {
  char chain_id[VE_CHAIN_ID_BYTES_MAX + 1]; /* at its limit: the largest tx envelope */
  tchain_t tc;
  vcrypto_keypair_t admin, registrar, organizer;
  uint8_t organizer_id[32];
  vcrypto_keypair_t trustee[PL_TRUSTEES];
  uint8_t trustee_id[PL_TRUSTEES][32];
  vote_keypair_t enc[PL_TRUSTEES];
  vcrypto_keypair_t voter[PL_VOTERS];
  uint8_t voter_id[PL_VOTERS][32];
  uint64_t rng_ctr;
  pf_log_t log; /* every committed tx, for the audit */
} pl_chain_t;

static ve_slice_t pl_chain(const pl_chain_t *c) { return ve_slice(c->chain_id, strlen(c->chain_id)); }

/* ---- texts of exact byte lengths ---- */

/* len bytes of valid text: an ASCII tag, then two-byte letters, then '.' if
 * one byte is left. */
static void gen_text(char *out, size_t len, const char *tag, uint32_t idx) {
  char head[16];
  int hn = snprintf(head, sizeof head, "%s%02u ", tag, idx);
  size_t n = (size_t)hn < len ? (size_t)hn : len;
  memcpy(out, head, n);
  while (len - n >= 2) out[n++] = (char)0xd0, out[n++] = (char)0xb6; /* U+0436 */
  if (n < len) out[n++] = '.';
  out[n] = 0;
}

/* A filter key of len bytes of [a-z0-9_]. */
static void gen_key(char *out, size_t len) {
  static const char k[] = "electoral_ward_7x";
  for (size_t i = 0; i < len; i++) out[i] = k[i % (sizeof k - 1)];
  out[len] = 0;
}

/* A filter value of len printable bytes; other != 0 changes the last one. */
static void gen_value(char *out, size_t len, int other) {
  static const char v[] = "Riverside North, polling district 0042, block B (2025 register) ";
  for (size_t i = 0; i < len; i++) out[i] = v[i % (sizeof v - 1)];
  if (other && len) out[len - 1] = out[len - 1] == '#' ? '$' : '#';
  out[len] = 0;
}

/* ---- the fixture ---- */

static void pl_commit(pl_chain_t *c, const ve_buf_t *txs, size_t n, int32_t *results) {
  pf_log_commit(&c->log, &c->tc, txs, n, results);
}

static void pl_tx(pl_chain_t *c, ve_buf_t *out, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload) {
  ve_buf_init(out, 0);
  tchain_tx(&c->tc, out, kp, type, payload);
  FITS("a transaction", out->len, VE_TX_BYTES_MAX);
}

static int32_t pl_run1(pl_chain_t *c, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload) {
  ve_buf_t tx;
  pl_tx(c, &tx, kp, type, payload);
  int32_t res;
  pl_commit(c, &tx, 1, &res);
  ve_buf_free(&tx);
  return res;
}

static uint64_t pl_height(pl_chain_t *c) { return tchain_height(&c->tc); }

static void pl_advance_to(pl_chain_t *c, uint64_t h) {
  while (pl_height(c) + 1 < h) pl_commit(c, NULL, 0, NULL);
}

/* Frees txs[0..n) after checking every result is want. */
static void commit_all(pl_chain_t *c, ve_buf_t *txs, size_t n, int32_t want) {
  int32_t *res = calloc(n ? n : 1, sizeof *res);
  assert_non_null(res);
  pl_commit(c, txs, n, res);
  for (size_t i = 0; i < n; i++) {
    if (res[i] != want) fail_msg("tx %zu of the block: got %s, want %s", i, ve_err_name(res[i]), ve_err_name(want));
    ve_buf_free(&txs[i]);
  }
  free(res);
}

/* Genesis: admin, registrar, organizer and 32 trustees; block 1 registers
 * the voters with the filter attribute at its key and value limits; block 2
 * publishes the trustees' encryption keys. */
static void pl_init(pl_chain_t *c) {
  memset(c, 0, sizeof *c);
  static const char prefix[] = "veche-poll-limits-";
  memcpy(c->chain_id, prefix, sizeof prefix - 1);
  for (size_t i = sizeof prefix - 1; i < VE_CHAIN_ID_BYTES_MAX; i++) c->chain_id[i] = (char)('0' + i % 10);
  assert_int_equal(strlen(c->chain_id), VE_CHAIN_ID_BYTES_MAX);
  assert_int_equal(vcrypto_init(), 0);
  assert_int_equal(vote_init(), 0);
  tchain_init(&c->tc, c->chain_id, &PL_REG);
  pf_founders(&c->tc, &c->admin, &c->registrar, &c->organizer, c->organizer_id, c->trustee, c->trustee_id,
              PL_TRUSTEES);
  for (uint32_t j = 0; j < PL_TRUSTEES; j++) {
    uint8_t seed[32];
    memset(seed, 0x70, sizeof seed);
    seed[0] = (uint8_t)j;
    vote_keypair_from_seed(&c->enc[j], seed);
  }
  tchain_open(&c->tc, NULL);

  ve_buf_t txs[PL_VOTERS > PL_TRUSTEES ? PL_VOTERS : PL_TRUSTEES], p;
  ve_buf_init(&p, 0);
  uint8_t digest[32];
  memset(digest, 0xab, sizeof digest);
  for (uint32_t v = 0; v < PL_VOTERS; v++) {
    identity_attr_t a;
    memset(&a, 0, sizeof a);
    gen_key(a.key, VOTING_FILTER_KEY_BYTES_MAX);
    gen_value(a.value, VOTING_FILTER_VALUE_BYTES_MAX, v >= PL_ELIGIBLE);
    tchain_key(&c->voter[v], c->voter_id[v], 9, (uint8_t)v);
    ve_buf_reset(&p);
    assert_int_equal(identity_payload_register(&p, c->voter[v].pk, digest, &a, 1), 0);
    pl_tx(c, &txs[v], &c->registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  }
  commit_all(c, txs, PL_VOTERS, VE_OK);
  for (uint32_t j = 0; j < PL_TRUSTEES; j++) {
    uint8_t seed[32];
    memset(seed, (int)j, sizeof seed);
    ve_buf_reset(&p);
    assert_int_equal(voting_payload_trustee_key(&p, pl_chain(c), c->trustee_id[j], &c->enc[j], seed), 0);
    pl_tx(c, &txs[j], &c->trustee[j], TX_TYPE_POLL_TRUSTEE_KEY, ve_buf_slice(&p));
  }
  commit_all(c, txs, PL_TRUSTEES, VE_OK);
  ve_buf_free(&p);
}

static void pl_free(pl_chain_t *c) {
  pf_log_free(&c->log);
  tchain_free(&c->tc);
  for (uint32_t j = 0; j < PL_TRUSTEES; j++) vote_keypair_wipe(&c->enc[j]);
}

/* The raw state value under key (copied into out). */
static int state_value(pl_chain_t *c, const uint8_t *key, size_t key_len, ve_buf_t *out) {
  store_txn_t *t;
  ve_slice_t v;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  int rc = state_get(t, ve_slice(key, key_len), &v);
  ve_buf_reset(out);
  if (rc == VE_OK) assert_int_equal(ve_buf_append(out, v.ptr, v.len), 0);
  store_txn_abort(t);
  return rc;
}

/* Digest of the current state except the ledger's "seq/" entries (a refused
 * transaction still consumes its signer's sequence number). */
static void state_digest(pl_chain_t *c, uint8_t out[32]) {
  store_txn_t *t;
  store_cursor_t *cur;
  vcrypto_hasher_t h;
  vcrypto_hasher_init(&h, "test/poll-limits/state");
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(store_cursor_open(t, STORE_T_STATE, &cur), 0);
  ve_slice_t k, v;
  int rc;
  while ((rc = store_cursor_next(cur, &k, &v)) == VE_OK) {
    if (k.len >= 4 && !memcmp(k.ptr, "seq/", 4)) continue;
    uint8_t len[16];
    ve_be64_put(len, k.len);
    ve_be64_put(len + 8, v.len);
    vcrypto_hasher_update(&h, len, sizeof len);
    vcrypto_hasher_update(&h, k.ptr, k.len);
    vcrypto_hasher_update(&h, v.ptr, v.len);
  }
  assert_int_equal(rc, VE_ERR_NOT_FOUND);
  store_cursor_close(cur);
  store_txn_abort(t);
  vcrypto_hasher_final(&h, out);
}

static voting_poll_t *poll_load(pl_chain_t *c, const uint8_t id[32]) {
  voting_poll_t *p = malloc(sizeof *p);
  assert_non_null(p);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(voting_poll_get(t, id, p), 0);
  store_txn_abort(t);
  return p;
}

static void tally_load(pl_chain_t *c, const voting_poll_t *p, voting_tally_rec_t *out) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(voting_tally_get(t, p, out), 0);
  store_txn_abort(t);
}

/* Size of the poll record as stored now (checked against its bounds). */
static size_t record_size(pl_chain_t *c, const uint8_t id[32]) {
  uint8_t key[VOTING_POLL_KEY_BYTES];
  ve_buf_t v;
  ve_buf_init(&v, 0);
  assert_int_equal(state_value(c, key, voting_poll_key(key, id), &v), 0);
  size_t n = v.len;
  ve_buf_free(&v);
  FITS("the poll record", n, VOTING_RECORD_BYTES_MAX);
  FITS("the poll record", n, record_worst());
  return n;
}

/* Trustee j's secret share from the dealings on the chain. */
static void pl_secret(pl_chain_t *c, const voting_poll_t *p, uint32_t j, uint8_t x[32]) {
  uint32_t n = p->def.n_trustees;
  ve_slice_t dealings[PL_TRUSTEES];
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  for (uint32_t i = 1; i <= n; i++) {
    uint8_t key[VOTING_DEALING_KEY_BYTES];
    dealings[i - 1] = ve_slice(NULL, 0);
    if (p->dealt & (1u << (i - 1)))
      assert_int_equal(state_get(t, ve_slice(key, voting_dealing_key(key, p->id, i)), &dealings[i - 1]), 0);
  }
  vote_dkg_result_t res;
  memset(&res, 0, sizeof res);
  res.n = n;
  res.t = p->def.threshold;
  res.qualified = p->qualified;
  memcpy(res.pk, p->pk, sizeof res.pk);
  memcpy(res.vk, p->vk, sizeof p->vk);
  uint8_t ctx[32];
  voting_poll_context(ctx, pl_chain(c), p->id);
  assert_int_equal(vote_dkg_secret_share(x, &res, j, &c->enc[j - 1], ctx, sizeof ctx, dealings), 0);
  store_txn_abort(t);
}

/* The audit engine over every logged transaction against the stored records. */
static void pl_audit(pl_chain_t *c, const uint8_t id[32], voting_audit_report_t *rep) {
  voting_poll_t *p = poll_load(c, id);
  voting_tally_rec_t *tr = malloc(sizeof *tr);
  assert_non_null(tr);
  tally_load(c, p, tr);
  char reason[VOTING_AUDIT_REASON_BYTES] = "";
  voting_audit_t *a;
  int rc = voting_audit_new(&a, pl_chain(c), p, tr, reason, sizeof reason);
  if (rc == 0) rc = pf_log_audit(&c->log, a, rep, reason, sizeof reason);
  if (rc) fail_msg("audit: %s (%s)", reason, ve_err_name(rc));
  voting_audit_free(a);
  free(tr);
  free(p);
}

/* ====================================================================== */
/* Poll shapes, and a raw encoder that can go past the limits              */
/* ====================================================================== */

#define SHAPE_Q_MAX (VOTING_QUESTIONS_MAX + 1)
#define SHAPE_O_MAX (VOTING_OPTIONS_MAX + VOTING_QUESTIONS_MAX)
#define SHAPE_T_MAX (VOTING_TRUSTEES_MAX + 1)

/* A definition described by its sizes; texts come from gen_text/gen_key/
 * gen_value, so a shape names exactly one definition. */
typedef struct {
  size_t title_bytes;
  uint32_t n_questions;
  size_t question_bytes[SHAPE_Q_MAX];
  uint32_t options[SHAPE_Q_MAX], min[SHAPE_Q_MAX], max[SHAPE_Q_MAX];
  size_t option_bytes[SHAPE_O_MAX]; /* options of all questions, in order */
  bool has_filter;
  size_t key_bytes, value_bytes;
  uint64_t deal_end, complaint_end, open_height, close_height;
  uint32_t threshold, n_trustees;
  uint8_t trustees[SHAPE_T_MAX][32];
} shape_t;

/* The maximal shape: n_q questions sharing VOTING_OPTIONS_MAX options, each
 * from none to all of its options; every text at its limit; the filter at its
 * limits; 32 trustees with threshold t. Heights from the next block h0:
 * dealings up to h0+1, complaints up to h0+3, finish at h0+4, ballots from
 * h0+5 for window+1 blocks. */
static void shape_max(pl_chain_t *c, shape_t *s, uint32_t n_q, uint32_t t, uint64_t window) {
  memset(s, 0, sizeof *s);
  assert_true(n_q >= 1 && n_q <= VOTING_QUESTIONS_MAX && VOTING_OPTIONS_MAX % n_q == 0);
  s->title_bytes = VOTING_TITLE_BYTES_MAX;
  s->n_questions = n_q;
  for (uint32_t q = 0; q < n_q; q++) {
    s->question_bytes[q] = VOTING_QUESTION_BYTES_MAX;
    s->options[q] = VOTING_OPTIONS_MAX / n_q;
    s->min[q] = 0;
    s->max[q] = s->options[q];
  }
  for (uint32_t o = 0; o < VOTING_OPTIONS_MAX; o++) s->option_bytes[o] = VOTING_OPTION_BYTES_MAX;
  s->has_filter = true;
  s->key_bytes = VOTING_FILTER_KEY_BYTES_MAX;
  s->value_bytes = VOTING_FILTER_VALUE_BYTES_MAX;
  uint64_t h0 = pl_height(c) + 1;
  s->deal_end = h0 + 1;
  s->complaint_end = h0 + 3;
  s->open_height = h0 + 5;
  s->close_height = s->open_height + window;
  s->threshold = t;
  s->n_trustees = PL_TRUSTEES;
  memcpy(s->trustees, c->trustee_id, sizeof c->trustee_id);
}

static void put_text_raw(codec_writer_t *w, const char *s) {
  codec_put_uvarint(w, strlen(s));
  codec_put_fixed(w, (const uint8_t *)s, strlen(s));
}

/* Encodes the create payload of a shape with docs/voting.md's layout and no
 * checks at all (the builder, voting_payload_create, refuses what is over). */
static void shape_encode(const shape_t *s, ve_buf_t *out) {
  char text[VOTING_QUESTION_BYTES_MAX + 2];
  codec_writer_t w;
  ve_buf_reset(out);
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_PAYLOAD_VERSION);
  gen_text(text, s->title_bytes, "T", 0);
  put_text_raw(&w, text);
  codec_put_uvarint(&w, s->n_questions);
  uint32_t o = 0;
  for (uint32_t q = 0; q < s->n_questions; q++) {
    gen_text(text, s->question_bytes[q], "Q", q);
    put_text_raw(&w, text);
    codec_put_uvarint(&w, s->options[q]);
    for (uint32_t k = 0; k < s->options[q]; k++, o++) {
      assert_true(o < SHAPE_O_MAX);
      gen_text(text, s->option_bytes[o], "O", o);
      put_text_raw(&w, text);
    }
    codec_put_uvarint(&w, s->min[q]);
    codec_put_uvarint(&w, s->max[q]);
  }
  codec_put_bool(&w, s->has_filter);
  if (s->has_filter) {
    gen_key(text, s->key_bytes);
    put_text_raw(&w, text);
    gen_value(text, s->value_bytes, 0);
    put_text_raw(&w, text);
  }
  codec_put_uvarint(&w, s->deal_end);
  codec_put_uvarint(&w, s->complaint_end);
  codec_put_uvarint(&w, s->open_height);
  codec_put_uvarint(&w, s->close_height);
  codec_put_uvarint(&w, s->threshold);
  codec_put_uvarint(&w, s->n_trustees);
  for (uint32_t j = 0; j < s->n_trustees; j++) codec_put_fixed(&w, s->trustees[j], 32);
  assert_int_equal(codec_writer_finish(&w), 0);
}

/* The definition of a shape within the limits. */
static void shape_to_def(const shape_t *s, voting_def_t *d) {
  memset(d, 0, sizeof *d);
  assert_true(s->title_bytes <= VOTING_TITLE_BYTES_MAX && s->n_questions <= VOTING_QUESTIONS_MAX);
  gen_text(d->title, s->title_bytes, "T", 0);
  d->n_questions = s->n_questions;
  uint32_t o = 0;
  for (uint32_t q = 0; q < s->n_questions; q++) {
    assert_true(s->question_bytes[q] <= VOTING_QUESTION_BYTES_MAX);
    gen_text(d->q[q].text, s->question_bytes[q], "Q", q);
    d->q[q].first = o;
    d->q[q].options = s->options[q];
    d->q[q].min = s->min[q];
    d->q[q].max = s->max[q];
    for (uint32_t k = 0; k < s->options[q]; k++, o++) {
      assert_true(o < VOTING_OPTIONS_MAX && s->option_bytes[o] <= VOTING_OPTION_BYTES_MAX);
      gen_text(d->option[o], s->option_bytes[o], "O", o);
    }
  }
  d->n_options = o;
  d->has_filter = s->has_filter;
  if (s->has_filter) {
    gen_key(d->filter_key, s->key_bytes);
    gen_value(d->filter_value, s->value_bytes, 0);
  }
  d->deal_end = s->deal_end;
  d->complaint_end = s->complaint_end;
  d->open_height = s->open_height;
  d->close_height = s->close_height;
  d->threshold = s->threshold;
  d->n_trustees = s->n_trustees;
  assert_true(s->n_trustees <= VOTING_TRUSTEES_MAX);
  memcpy(d->trustees, s->trustees, (size_t)s->n_trustees * 32);
}

/* ====================================================================== */
/* A maximal poll, end to end                                              */
/* ====================================================================== */

typedef struct {
  const char *name;
  uint32_t n_questions; /* sharing VOTING_OPTIONS_MAX options evenly */
  uint32_t threshold;
  bool bad_dealer;      /* dealer 32 corrupts trustee 1's share; complaints follow */
  uint32_t voters;      /* eligible voters 0..voters-1 (0: all options, 1: none) */
  uint32_t revotes;     /* voters 2..2+revotes-1 vote again */
  uint32_t decrypt_mask; /* exactly threshold trustees */
} pl_scenario_t;

/* Largest sizes seen, for the printout. */
typedef struct {
  size_t def, create_tx, record_dkg, record_done, dealing, deal_tx, complaint_tx;
  size_t ballot, ballot_list, ballot_tx, ballot_rec, tally_rec, share, share_items, decrypt_payload, decrypt_tx;
} pl_sizes_t;

/* Random choices within each question's bounds. */
static void random_choices(const voting_def_t *d, uint8_t *ch) {
  memset(ch, 0, VOTING_OPTIONS_MAX);
  for (uint32_t q = 0; q < d->n_questions; q++) {
    const voting_question_t *qq = &d->q[q];
    uint32_t k = qq->min + vt_u32(qq->max - qq->min + 1);
    for (uint32_t picked = 0; picked < k;) {
      uint32_t o = qq->first + vt_u32(qq->options);
      if (!ch[o]) ch[o] = 1, picked++;
    }
  }
}

/* Voter v's ballot payload for choices (seeded randomness). */
static void build_ballot(pl_chain_t *c, const voting_poll_t *p, uint32_t v, const uint8_t *ch, ve_buf_t *pl,
                         uint8_t tracker[32]) {
  uint8_t seed[32], in[16];
  ve_be64_put(in, vt_seed);
  ve_be64_put(in + 8, c->rng_ctr++);
  vcrypto_hash(seed, "test/poll-limits/ballot", in, sizeof in);
  ve_buf_reset(pl);
  assert_int_equal(voting_ballot_build(pl, tracker, p, pl_chain(c), c->voter_id[v], ch, p->def.n_options, seed), 0);
}

/* Checks every byte bound a ballot payload touches. */
static void check_ballot_sizes(const voting_poll_t *p, const ve_buf_t *pl, pl_sizes_t *sz) {
  voting_ballot_payload_t b;
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(pl), &b), 0);
  assert_int_equal(b.n, p->def.n_questions);
  for (uint32_t q = 0; q < b.n; q++) {
    const voting_question_t *qq = &p->def.q[q];
    assert_int_equal(b.ballot[q].len, vote_ballot_size(qq->options, qq->min, qq->max));
    FITS("a ballot", b.ballot[q].len, VOTE_BALLOT_BYTES_MAX);
    if (b.ballot[q].len > sz->ballot) sz->ballot = b.ballot[q].len;
  }
  FITS("a ballot list", b.list.len, VOTING_BALLOTS_BYTES_MAX);
  FITS("a ballot payload", pl->len, VE_TX_PAYLOAD_BYTES_MAX);
  FITS("a ballot payload", pl->len, ballot_payload_worst());
  if (b.list.len > sz->ballot_list) sz->ballot_list = b.list.len;
}

/* Verifies a ballot payload's ballots the way the ledger does (election
 * contexts cached first, as on a node); returns the ms. */
static double time_ballot_verify(pl_chain_t *c, const voting_poll_t *p, const ve_buf_t *pl) {
  voting_ballot_payload_t b;
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(pl), &b), 0);
  vote_election_t *el = malloc(sizeof *el);
  assert_non_null(el);
  for (uint32_t q = 0; q < b.n; q++) assert_int_equal(voting_election_get(el, p, q), 0); /* warm the cache */
  double t0 = now_ms();
  for (uint32_t q = 0; q < b.n; q++) {
    uint8_t ctx[VOTING_QCTX_BYTES];
    voting_ballot_context(ctx, pl_chain(c), p->id, b.voter, q);
    assert_int_equal(voting_election_get(el, p, q), 0);
    assert_int_equal(vote_ballot_verify(el, ctx, sizeof ctx, b.ballot[q].ptr, b.ballot[q].len), 0);
  }
  double ms = now_ms() - t0;
  free(el);
  return ms;
}

/* Create: the maximal definition, byte for byte what the raw encoder gives. */
static void step_create(pl_chain_t *c, const pl_scenario_t *sc, uint64_t window, uint8_t id[32], pl_sizes_t *sz) {
  shape_t *s = malloc(sizeof *s);
  voting_def_t *d = malloc(sizeof *d);
  assert_non_null(s);
  assert_non_null(d);
  shape_max(c, s, sc->n_questions, sc->threshold, window);
  shape_to_def(s, d);
  ve_buf_t pl, raw, tx;
  ve_buf_init(&pl, 0);
  ve_buf_init(&raw, 0);
  assert_int_equal(voting_payload_create(&pl, d), 0);
  shape_encode(s, &raw);
  assert_int_equal(pl.len, raw.len);
  assert_memory_equal(pl.ptr, raw.ptr, pl.len);
  sz->def = pl.len;
  FITS("the definition", pl.len, VOTING_DEF_BYTES_MAX);
  FITS("the definition", pl.len, def_worst());
  voting_poll_id(id, c->organizer.pk, c->tc.seq);
  pl_tx(c, &tx, &c->organizer, TX_TYPE_POLL_CREATE, ve_buf_slice(&pl));
  sz->create_tx = tx.len;
  commit_all(c, &tx, 1, VE_OK);
  sz->record_dkg = record_size(c, id);
  voting_poll_t *p = poll_load(c, id);
  assert_int_equal(p->status, VOTING_DKG);
  assert_string_equal(p->def.title, d->title);
  assert_int_equal(strlen(p->def.title), VOTING_TITLE_BYTES_MAX);
  assert_int_equal(p->def.n_questions, sc->n_questions);
  assert_int_equal(p->def.n_options, VOTING_OPTIONS_MAX);
  assert_int_equal(strlen(p->def.q[sc->n_questions - 1].text), VOTING_QUESTION_BYTES_MAX);
  assert_string_equal(p->def.option[VOTING_OPTIONS_MAX - 1], d->option[VOTING_OPTIONS_MAX - 1]);
  assert_int_equal(strlen(p->def.filter_key), VOTING_FILTER_KEY_BYTES_MAX);
  assert_int_equal(strlen(p->def.filter_value), VOTING_FILTER_VALUE_BYTES_MAX);
  assert_int_equal(p->def.n_trustees, PL_TRUSTEES);
  for (uint32_t j = 0; j < PL_TRUSTEES; j++) assert_memory_equal(p->enc_pk[j], c->enc[j].pk, 32);
  uint8_t h[32];
  vcrypto_hash(h, VOTING_TAG_DEF, pl.ptr, pl.len);
  assert_memory_equal(p->def_hash, h, 32);
  free(p);
  ve_buf_free(&pl);
  ve_buf_free(&raw);
  free(s);
  free(d);
}

/* 32 dealings in one block (dealer 32's share for trustee 1 corrupted if
 * bad_dealer). Returns the ms of the block; *verify_ms gets the ms of
 * vote_dkg_dealing_verify over the 32 alone. */
static double step_deal(pl_chain_t *c, const pl_scenario_t *sc, const uint8_t id[32], pl_sizes_t *sz,
                        double *verify_ms) {
  voting_poll_t *p = poll_load(c, id);
  vote_dkg_params_t dp = {p->def.n_trustees, p->def.threshold};
  uint8_t ctx[32];
  voting_poll_context(ctx, pl_chain(c), id);
  static ve_buf_t dealing[PL_TRUSTEES];
  ve_buf_t txs[PL_TRUSTEES], pl;
  ve_buf_init(&pl, 0);
  for (uint32_t j = 1; j <= PL_TRUSTEES; j++) {
    uint8_t seed[32];
    memset(seed, 0x30, sizeof seed);
    seed[0] = (uint8_t)j;
    ve_buf_init(&dealing[j - 1], 0);
    assert_int_equal(vote_dkg_deal(&dealing[j - 1], &dp, j, (const uint8_t(*)[32])p->enc_pk, ctx, 32, seed), 0);
    assert_int_equal(dealing[j - 1].len, vote_dkg_dealing_size(&dp));
    FITS("a dealing", dealing[j - 1].len, VOTE_DKG_DEALING_BYTES_MAX);
    if (sc->bad_dealer && j == PL_TRUSTEES) {
      /* header, t commitments, proof of knowledge, then trustee 1's R || AEAD */
      size_t off = 4 + 32 * (size_t)dp.t + 64 + 32;
      dealing[j - 1].ptr[off] ^= 0x01;
    }
    sz->dealing = dealing[j - 1].len;
    ve_buf_reset(&pl);
    assert_int_equal(voting_payload_deal(&pl, id, ve_buf_slice(&dealing[j - 1])), 0);
    FITS("a deal payload", pl.len, deal_payload_worst());
    pl_tx(c, &txs[j - 1], &c->trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, ve_buf_slice(&pl));
    if (txs[j - 1].len > sz->deal_tx) sz->deal_tx = txs[j - 1].len;
  }
  double t0 = now_ms();
  for (uint32_t j = 1; j <= PL_TRUSTEES; j++)
    assert_int_equal(vote_dkg_dealing_verify(&dp, j, ctx, 32, dealing[j - 1].ptr, dealing[j - 1].len), 0);
  *verify_ms = now_ms() - t0;
  t0 = now_ms();
  commit_all(c, txs, PL_TRUSTEES, VE_OK);
  double block_ms = now_ms() - t0;
  free(p);
  p = poll_load(c, id);
  assert_int_equal(p->dealt, UINT32_MAX);
  /* Stored as dealt; the corrupted share does not open for trustee 1 only. */
  for (uint32_t j = 1; j <= PL_TRUSTEES; j++) {
    uint8_t key[VOTING_DEALING_KEY_BYTES];
    assert_int_equal(state_value(c, key, voting_dealing_key(key, id, j), &pl), 0);
    assert_int_equal(pl.len, dealing[j - 1].len);
    assert_memory_equal(pl.ptr, dealing[j - 1].ptr, pl.len);
  }
  if (sc->bad_dealer) {
    uint8_t share[32];
    const ve_buf_t *bad = &dealing[PL_TRUSTEES - 1];
    assert_int_equal(vote_dkg_share_open(share, &dp, PL_TRUSTEES, 1, &c->enc[0], ctx, 32, bad->ptr, bad->len),
                     VE_ERR_PROOF);
    assert_int_equal(vote_dkg_share_open(share, &dp, PL_TRUSTEES, 2, &c->enc[1], ctx, 32, bad->ptr, bad->len), 0);
  }
  for (uint32_t j = 0; j < PL_TRUSTEES; j++) ve_buf_free(&dealing[j]);
  ve_buf_free(&pl);
  free(p);
  return block_ms;
}

/* The complaints window: trustee 1 against dealer 32 (upheld) and trustee 32
 * against dealers 1..31 (dismissed: their shares open), in one block.
 * Returns the ms of the block. */
static double step_complain(pl_chain_t *c, const uint8_t id[32], pl_sizes_t *sz) {
  voting_poll_t *p = poll_load(c, id);
  pl_advance_to(c, p->def.deal_end + 1);
  vote_dkg_params_t dp = {p->def.n_trustees, p->def.threshold};
  uint8_t ctx[32];
  voting_poll_context(ctx, pl_chain(c), id);
  ve_buf_t txs[PL_TRUSTEES], pl, comp, dealing;
  ve_buf_init(&pl, 0);
  ve_buf_init(&comp, 0);
  ve_buf_init(&dealing, 0);
  for (uint32_t k = 0; k < PL_TRUSTEES; k++) {
    uint32_t dealer = k == 0 ? PL_TRUSTEES : k, by = k == 0 ? 1 : PL_TRUSTEES;
    uint8_t key[VOTING_DEALING_KEY_BYTES], seed[32];
    memset(seed, 0x40, sizeof seed);
    seed[0] = (uint8_t)k;
    assert_int_equal(state_value(c, key, voting_dealing_key(key, id, dealer), &dealing), 0);
    ve_buf_reset(&comp);
    assert_int_equal(vote_dkg_complain(&comp, &dp, dealer, by, &c->enc[by - 1], ctx, 32, dealing.ptr, dealing.len,
                                       seed),
                     0);
    ve_buf_reset(&pl);
    assert_int_equal(voting_payload_complain(&pl, id, ve_buf_slice(&comp)), 0);
    pl_tx(c, &txs[k], &c->trustee[by - 1], TX_TYPE_POLL_DKG_COMPLAIN, ve_buf_slice(&pl));
    sz->complaint_tx = txs[k].len;
  }
  double t0 = now_ms();
  commit_all(c, txs, PL_TRUSTEES, VE_OK);
  double ms = now_ms() - t0;
  free(p);
  p = poll_load(c, id);
  assert_int_equal(p->upheld, 1u << (PL_TRUSTEES - 1));
  assert_int_equal(p->complained[PL_TRUSTEES - 1], 1u);
  for (uint32_t i = 0; i + 1 < PL_TRUSTEES; i++) assert_int_equal(p->complained[i], 1u << (PL_TRUSTEES - 1));
  free(p);
  ve_buf_free(&pl);
  ve_buf_free(&comp);
  ve_buf_free(&dealing);
  return ms;
}

/* Finish after the complaints window; returns its ms. */
static double step_finish(pl_chain_t *c, const pl_scenario_t *sc, const uint8_t id[32]) {
  voting_poll_t *p = poll_load(c, id);
  pl_advance_to(c, p->def.complaint_end + 1);
  ve_buf_t pl;
  ve_buf_init(&pl, 0);
  assert_int_equal(voting_payload_finish(&pl, id), 0);
  double t0 = now_ms();
  EXPECT(pl_run1(c, &c->organizer, TX_TYPE_POLL_DKG_FINISH, ve_buf_slice(&pl)), VE_OK);
  double ms = now_ms() - t0;
  free(p);
  p = poll_load(c, id);
  assert_int_equal(p->status, VOTING_READY);
  assert_true(p->has_key);
  uint32_t want = sc->bad_dealer ? UINT32_MAX >> 1 : UINT32_MAX;
  assert_int_equal(p->qualified, want);
  free(p);
  ve_buf_free(&pl);
  return ms;
}

/* Ballots of the eligible voters in blocks, then re-votes, then an ineligible
 * voter refused with nothing written. latest[v] gets each voter's counted
 * choices. Returns the ms per accepted ballot transaction (block time). */
static double step_ballots(pl_chain_t *c, const pl_scenario_t *sc, const uint8_t id[32],
                           uint8_t latest[][VOTING_OPTIONS_MAX], pl_sizes_t *sz, double *verify_ms) {
  voting_poll_t *p = poll_load(c, id);
  pl_advance_to(c, p->def.open_height);
  static uint8_t trackers[PL_VOTERS][32];
  uint32_t revision[PL_VOTERS] = {0};
  ve_buf_t txs[PL_BALLOTS_PER_BLOCK], pl;
  ve_buf_init(&pl, 0);
  double block_ms = 0;
  uint32_t accepted = 0;
  *verify_ms = -1;
  for (uint32_t pass = 0; pass < 2; pass++) {
    uint32_t k = 0, first = pass ? 2 : 0, end = pass ? 2 + sc->revotes : sc->voters;
    for (uint32_t v = first; v < end; v++) {
      if (pass == 0 && v == 0) memset(latest[v], 1, VOTING_OPTIONS_MAX); /* every option */
      else if (pass == 0 && v == 1) memset(latest[v], 0, VOTING_OPTIONS_MAX); /* none */
      else random_choices(&p->def, latest[v]);
      build_ballot(c, p, v, latest[v], &pl, trackers[v]);
      check_ballot_sizes(p, &pl, sz);
      if (*verify_ms < 0) *verify_ms = time_ballot_verify(c, p, &pl);
      pl_tx(c, &txs[k], &c->voter[v], TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl));
      if (txs[k].len > sz->ballot_tx) sz->ballot_tx = txs[k].len;
      revision[v]++;
      if (++k == PL_BALLOTS_PER_BLOCK || v + 1 == end) {
        double t0 = now_ms();
        commit_all(c, txs, k, VE_OK);
        block_ms += now_ms() - t0;
        accepted += k;
        k = 0;
      }
    }
  }
  assert_true(pl_height(c) <= p->def.close_height);
  /* An identity whose filter value differs in its last byte. */
  uint8_t before[32], after[32], ch[VOTING_OPTIONS_MAX];
  random_choices(&p->def, ch);
  build_ballot(c, p, PL_ELIGIBLE, ch, &pl, NULL);
  state_digest(c, before);
  EXPECT(pl_run1(c, &c->voter[PL_ELIGIBLE], TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl)), VE_ERR_NOT_ELIGIBLE);
  state_digest(c, after);
  assert_memory_equal(before, after, 32);
  /* The tally and every voter's receipt. */
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  assert_non_null(tally);
  tally_load(c, p, tally);
  assert_int_equal(tally->voters, sc->voters);
  assert_int_equal(tally->ballots, sc->voters + sc->revotes);
  uint8_t key[VOTING_BALLOT_KEY_BYTES];
  ve_buf_t val;
  ve_buf_init(&val, 0);
  assert_int_equal(state_value(c, key, voting_tally_key(key, id), &val), 0);
  FITS("the tally record", val.len, VOTING_RECORD_BYTES_MAX);
  FITS("the tally record", val.len, tally_rec_worst());
  sz->tally_rec = val.len;
  store_txn_t *t;
  for (uint32_t v = 0; v < sc->voters; v++) {
    voting_ballot_rec_t b;
    assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
    assert_int_equal(voting_ballot_get(t, p, c->voter_id[v], &b), 0);
    store_txn_abort(t);
    assert_memory_equal(b.tracker, trackers[v], 32);
    assert_int_equal(b.revision, revision[v]);
    assert_int_equal(state_value(c, key, voting_ballot_key(key, id, c->voter_id[v]), &val), 0);
    FITS("a ballot record", val.len, VOTING_RECORD_BYTES_MAX);
    FITS("a ballot record", val.len, ballot_rec_worst());
    sz->ballot_rec = val.len;
  }
  ve_buf_free(&val);
  free(tally);
  ve_buf_free(&pl);
  free(p);
  return block_ms / accepted;
}

/* Checks a decrypt payload's sizes against every bound it meets. */
static void check_decrypt_sizes(const voting_poll_t *p, const ve_buf_t *pl, pl_sizes_t *sz) {
  voting_decrypt_payload_t d;
  assert_int_equal(voting_decrypt_payload_decode(ve_buf_slice(pl), &d), 0);
  assert_int_equal(d.n, p->def.n_questions);
  size_t items = 0;
  for (uint32_t q = 0; q < d.n; q++) {
    assert_int_equal(d.share[q].len, vote_decshare_size(p->def.q[q].options));
    FITS("a decryption share", d.share[q].len, VOTE_DECSHARE_BYTES_MAX);
    items += uv(d.share[q].len) + d.share[q].len;
    if (d.share[q].len > sz->share) sz->share = d.share[q].len;
  }
  FITS("the shares of a decrypt payload", items, decshare_items_worst());
  FITS("a decrypt payload", pl->len, VE_TX_PAYLOAD_BYTES_MAX);
  FITS("a decrypt payload (stored raw)", pl->len, STATE_VALUE_BYTES_MAX);
  FITS("a decrypt payload", pl->len, decrypt_payload_worst());
  sz->share_items = items;
  sz->decrypt_payload = pl->len;
}

/* After the close: exactly t trustees of decrypt_mask send their shares, in
 * a seeded order, t-1 in one block and the t-th alone (it computes the
 * result). Returns the ms of the t-th block; *secrets_ms the mean ms of a
 * trustee's share recovery, *shares_ms the block of t-1. */
static double step_decrypt(pl_chain_t *c, const pl_scenario_t *sc, const uint8_t id[32], pl_sizes_t *sz,
                           double *secrets_ms, double *shares_ms) {
  voting_poll_t *p = poll_load(c, id);
  pl_advance_to(c, p->def.close_height + 1);
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  assert_non_null(tally);
  tally_load(c, p, tally);
  uint32_t order[PL_TRUSTEES], t = 0;
  for (uint32_t j = 1; j <= PL_TRUSTEES; j++)
    if (sc->decrypt_mask & (1u << (j - 1))) order[t++] = j;
  assert_int_equal(t, sc->threshold);
  for (uint32_t i = t - 1; i > 0; i--) {
    uint32_t k = vt_u32(i + 1), tmp = order[i];
    order[i] = order[k], order[k] = tmp;
  }
  ve_buf_t txs[PL_TRUSTEES], pl;
  ve_buf_init(&pl, 0);
  double secret_total = 0;
  for (uint32_t i = 0; i < t; i++) {
    uint32_t j = order[i];
    uint8_t x[32], seed[32];
    double t0 = now_ms();
    pl_secret(c, p, j, x);
    secret_total += now_ms() - t0;
    memset(seed, 0x50, sizeof seed);
    seed[0] = (uint8_t)j;
    ve_buf_reset(&pl);
    assert_int_equal(voting_decrypt_build(&pl, p, tally, pl_chain(c), j, x, seed), 0);
    sodium_memzero(x, sizeof x);
    check_decrypt_sizes(p, &pl, sz);
    pl_tx(c, &txs[i], &c->trustee[j - 1], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
    if (txs[i].len > sz->decrypt_tx) sz->decrypt_tx = txs[i].len;
  }
  *secrets_ms = secret_total / t;
  double t0 = now_ms();
  commit_all(c, txs, t - 1, VE_OK);
  *shares_ms = now_ms() - t0;
  free(p);
  p = poll_load(c, id);
  assert_int_equal(p->status, VOTING_READY);
  assert_int_equal(__builtin_popcount(p->decrypted), t - 1);
  t0 = now_ms();
  commit_all(c, &txs[t - 1], 1, VE_OK);
  double result_ms = now_ms() - t0;
  /* The stored shares are the payloads as sent. */
  uint8_t key[VOTING_DECRYPT_KEY_BYTES];
  assert_int_equal(state_value(c, key, voting_decrypt_key(key, id, order[0]), &pl), 0);
  FITS("a stored decrypt payload", pl.len, decrypt_payload_worst());
  /* One share more is refused: the result is final. */
  if (t < PL_TRUSTEES) {
    uint32_t extra = 0;
    for (uint32_t j = 1; j <= PL_TRUSTEES && !extra; j++)
      if (!(sc->decrypt_mask & (1u << (j - 1)))) extra = j;
    uint8_t x[32], seed[32] = {0x5f};
    pl_secret(c, p, extra, x);
    ve_buf_reset(&pl);
    assert_int_equal(voting_decrypt_build(&pl, p, tally, pl_chain(c), extra, x, seed), 0);
    sodium_memzero(x, sizeof x);
    EXPECT(pl_run1(c, &c->trustee[extra - 1], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl)), VE_ERR_STATE);
  }
  ve_buf_free(&pl);
  free(tally);
  free(p);
  return result_ms;
}

static void print_sizes(const char *name, const pl_sizes_t *s) {
  fprintf(stderr,
          "%s sizes (bytes): definition %zu, create tx %zu, record %zu (DKG) / %zu (DONE), dealing %zu, "
          "deal tx %zu, complaint tx %zu, ballot %zu, ballot list %zu, ballot tx %zu, ballot record %zu, "
          "tally record %zu, decryption share %zu, shares with prefixes %zu, decrypt payload %zu, decrypt tx %zu\n",
          name, s->def, s->create_tx, s->record_dkg, s->record_done, s->dealing, s->deal_tx, s->complaint_tx,
          s->ballot, s->ballot_list, s->ballot_tx, s->ballot_rec, s->tally_rec, s->share, s->share_items,
          s->decrypt_payload, s->decrypt_tx);
}

static void run_scenario(const pl_scenario_t *sc) {
  static pl_chain_t c;
  double t_start = now_ms();
  pl_init(&c);
  pl_sizes_t sz;
  memset(&sz, 0, sizeof sz);
  uint8_t id[32];
  uint64_t window = (sc->voters + sc->revotes) / PL_BALLOTS_PER_BLOCK + 4;
  step_create(&c, sc, window, id, &sz);
  double verify32_ms, deal_ms = step_deal(&c, sc, id, &sz, &verify32_ms);
  double complain_ms = sc->bad_dealer ? step_complain(&c, id, &sz) : 0;
  double finish_ms = step_finish(&c, sc, id);
  static uint8_t latest[PL_VOTERS][VOTING_OPTIONS_MAX];
  double ballot_verify_ms, ballot_tx_ms = step_ballots(&c, sc, id, latest, &sz, &ballot_verify_ms);
  double secret_ms, shares_ms, result_ms = step_decrypt(&c, sc, id, &sz, &secret_ms, &shares_ms);

  /* The result: the plaintext count of every voter's latest choices. */
  voting_poll_t *p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_DONE);
  assert_true(p->has_result);
  assert_int_equal(p->used, sc->decrypt_mask);
  assert_int_equal(p->voters, sc->voters);
  uint64_t want[VOTING_OPTIONS_MAX] = {0};
  for (uint32_t v = 0; v < sc->voters; v++)
    for (uint32_t o = 0; o < VOTING_OPTIONS_MAX; o++) want[o] += latest[v][o];
  for (uint32_t o = 0; o < VOTING_OPTIONS_MAX; o++) {
    if (p->counts[o] != want[o]) fail_msg("option %u: counted %" PRIu64 ", cast %" PRIu64, o, p->counts[o], want[o]);
    assert_true(want[o] >= 1 && want[o] < sc->voters); /* voter 0 chose it, voter 1 did not */
  }
  sz.record_done = record_size(&c, id);
  free(p);

  double t0 = now_ms();
  voting_audit_report_t rep;
  pl_audit(&c, id, &rep);
  double audit_ms = now_ms() - t0;
  assert_true(rep.result_checked);
  assert_int_equal(rep.dealings, PL_TRUSTEES);
  assert_int_equal(rep.complaints, sc->bad_dealer ? PL_TRUSTEES : 0);
  assert_int_equal(rep.complaints_upheld, sc->bad_dealer ? 1 : 0);
  assert_int_equal(rep.ballots, sc->voters + sc->revotes);
  assert_int_equal(rep.replaced, sc->revotes);
  assert_int_equal(rep.voters, sc->voters);
  assert_int_equal(rep.shares, sc->threshold);
  for (uint32_t o = 0; o < VOTING_OPTIONS_MAX; o++) assert_int_equal(rep.counts[o], want[o]);

  print_sizes(sc->name, &sz);
  fprintf(stderr,
          "%s times (ms): 32 dealings verified %.1f (alone) / block %.1f; complaints block %.1f; finish %.1f; "
          "one ballot verified %.2f, per ballot tx in blocks %.2f; share recovery per trustee %.1f; "
          "%u shares block %.1f; t-th share + result %.1f; audit %.1f; whole test %.0f\n",
          sc->name, verify32_ms, deal_ms, complain_ms, finish_ms, ballot_verify_ms, ballot_tx_ms, secret_ms,
          sc->threshold - 1, shares_ms, result_ms, audit_ms, now_ms() - t_start);
  pl_free(&c);
}

static void test_maximal_poll(void **state) {
  (void)state;
  vt_seed_init("poll_limits_test maximal poll");
  /* Trustees 1..32 but 3, 6, ..., 30: 22 of them, 1 (the complainer) and 32
   * (the excluded dealer) among them. */
  uint32_t mask = 0;
  for (uint32_t j = 1; j <= PL_TRUSTEES; j++)
    if (j % 3 || j > 30) mask |= 1u << (j - 1);
  const pl_scenario_t sc = {"maximal poll (16 x 4 options, t 22 of 32)", VOTING_QUESTIONS_MAX, 22, true,
                            PL_ELIGIBLE, 4, mask};
  assert_int_equal(__builtin_popcount(mask), 22);
  run_scenario(&sc);
}

static void test_maximal_question(void **state) {
  (void)state;
  vt_seed_init("poll_limits_test maximal question");
  const pl_scenario_t sc = {"maximal question (1 x 64 options, t 32 of 32)", 1, PL_TRUSTEES, false, 4, 1,
                            UINT32_MAX};
  run_scenario(&sc);
}

/* ====================================================================== */
/* One step over each limit                                                */
/* ====================================================================== */

/* Runs payload as type by kp in its own block: want as the result, and the
 * state (but the signer's sequence) unchanged. */
static void refused(pl_chain_t *c, const char *what, const vcrypto_keypair_t *kp, uint32_t type,
                    const ve_buf_t *payload, int32_t want) {
  uint8_t before[32], after[32];
  state_digest(c, before);
  int32_t got = pl_run1(c, kp, type, ve_buf_slice(payload));
  if (got != want) fail_msg("%s: got %s, want %s", what, ve_err_name(got), ve_err_name(want));
  state_digest(c, after);
  if (memcmp(before, after, 32)) fail_msg("%s: refused but the state changed", what);
}

typedef struct {
  const char *what;
  int32_t want;    /* the ledger's result */
  int32_t builder; /* voting_payload_create's, where voting_def_t can hold the case; 0: it cannot */
} over_case_t;

/* Case i applied to the maximal shape s: one step over one limit. Returns
 * false past the last case. */
static bool over_case(uint32_t i, shape_t *s, const pl_chain_t *c, over_case_t *oc) {
#define CASE(n, what_, want_, builder_) \
  case n:                               \
    *oc = (over_case_t){what_, want_, builder_};
  const uint32_t last = VOTING_QUESTIONS_MAX - 1;
  switch (i) {
    CASE(0, "65 options over 16 questions", VE_ERR_LIMIT, 0)
    s->options[last] = 5, s->max[last] = 5;
    s->option_bytes[VOTING_OPTIONS_MAX] = VOTING_OPTION_BYTES_MAX;
    return true;
    CASE(1, "65 options in one question", VE_ERR_TOO_BIG, 0)
    s->n_questions = 1, s->options[0] = VOTE_OPTIONS_MAX + 1, s->max[0] = VOTE_OPTIONS_MAX;
    s->option_bytes[VOTING_OPTIONS_MAX] = VOTING_OPTION_BYTES_MAX;
    return true;
    CASE(2, "17 questions (51 options)", VE_ERR_TOO_BIG, 0)
    s->n_questions = VOTING_QUESTIONS_MAX + 1;
    for (uint32_t q = 0; q < s->n_questions; q++)
      s->question_bytes[q] = VOTING_QUESTION_BYTES_MAX, s->options[q] = 3, s->min[q] = 0, s->max[q] = 3;
    return true;
    CASE(3, "0 questions", VE_ERR_INVALID, VE_ERR_INVALID)
    s->n_questions = 0;
    return true;
    CASE(4, "33 trustees", VE_ERR_TOO_BIG, 0)
    s->n_trustees = VOTING_TRUSTEES_MAX + 1;
    memcpy(s->trustees[VOTING_TRUSTEES_MAX], c->organizer_id, 32);
    return true;
    CASE(5, "2 trustees (threshold 2)", VE_ERR_INVALID, VE_ERR_INVALID)
    s->n_trustees = VOTING_TRUSTEES_MIN - 1, s->threshold = 2;
    return true;
    CASE(6, "title of 257 bytes", VE_ERR_TOO_BIG, 0)
    s->title_bytes = VOTING_TITLE_BYTES_MAX + 1;
    return true;
    CASE(7, "empty title", VE_ERR_INVALID, VE_ERR_INVALID)
    s->title_bytes = 0;
    return true;
    CASE(8, "question 16 of 513 bytes", VE_ERR_TOO_BIG, 0)
    s->question_bytes[last] = VOTING_QUESTION_BYTES_MAX + 1;
    return true;
    CASE(9, "option 64 of 129 bytes", VE_ERR_TOO_BIG, 0)
    s->option_bytes[VOTING_OPTIONS_MAX - 1] = VOTING_OPTION_BYTES_MAX + 1;
    return true;
    CASE(10, "filter key of 17 bytes", VE_ERR_TOO_BIG, 0)
    s->key_bytes = VOTING_FILTER_KEY_BYTES_MAX + 1;
    return true;
    CASE(11, "filter value of 65 bytes", VE_ERR_TOO_BIG, 0)
    s->value_bytes = VOTING_FILTER_VALUE_BYTES_MAX + 1;
    return true;
    CASE(12, "threshold 33 of 32 trustees", VE_ERR_TOO_BIG, VE_ERR_INVALID)
    s->threshold = VOTING_TRUSTEES_MAX + 1;
    return true;
    CASE(13, "threshold 32 of 31 trustees", VE_ERR_INVALID, VE_ERR_INVALID)
    s->n_trustees = VOTING_TRUSTEES_MAX - 1, s->threshold = VOTING_TRUSTEES_MAX;
    return true;
    CASE(14, "threshold 1", VE_ERR_INVALID, VE_ERR_INVALID)
    s->threshold = 1;
    return true;
    CASE(15, "at most 5 of 4 options", VE_ERR_INVALID, VE_ERR_INVALID)
    s->max[last] = s->options[last] + 1;
    return true;
    CASE(16, "at least 3, at most 2 choices", VE_ERR_INVALID, VE_ERR_INVALID)
    s->min[last] = 3, s->max[last] = 2;
    return true;
    CASE(17, "at most 65 of 64 choices", VE_ERR_TOO_BIG, VE_ERR_INVALID)
    s->n_questions = 1, s->options[0] = VOTE_OPTIONS_MAX, s->max[0] = VOTE_OPTIONS_MAX + 1;
    return true;
    default: return false;
  }
#undef CASE
}

/* Appends version, poll id, then a length-prefixed junk item of len bytes
 * (count items if count > 0: a list), after prefix bytes (e.g. a voter id). */
static void junk_payload(ve_buf_t *out, const uint8_t poll[32], const uint8_t *prefix, size_t prefix_len,
                         uint32_t count, size_t len) {
  ve_buf_reset(out);
  codec_writer_t w;
  codec_writer_init(&w, out);
  codec_put_u8(&w, VOTING_PAYLOAD_VERSION);
  codec_put_fixed(&w, poll, 32);
  if (prefix_len) codec_put_fixed(&w, prefix, prefix_len);
  if (count) codec_put_uvarint(&w, count);
  uint8_t *junk = calloc(len ? len : 1, 1);
  assert_non_null(junk);
  memset(junk, 0x01, len);
  for (uint32_t i = 0; i < (count ? count : 1); i++) {
    codec_put_uvarint(&w, len);
    codec_put_fixed(&w, junk, len);
  }
  free(junk);
  assert_int_equal(codec_writer_finish(&w), 0);
}

static void test_over_limits(void **state) {
  (void)state;
  static pl_chain_t c;
  pl_init(&c);
  shape_t *base = malloc(sizeof *base), *s = malloc(sizeof *s);
  voting_def_t *d = malloc(sizeof *d);
  assert_non_null(base);
  assert_non_null(s);
  assert_non_null(d);
  shape_max(&c, base, VOTING_QUESTIONS_MAX, 22, 40);
  base->deal_end += 100, base->complaint_end += 100, base->open_height += 100, base->close_height += 100;
  ve_buf_t pl;
  ve_buf_init(&pl, 0);

  /* Each case: refused with its code, no poll under the id it would have had. */
  over_case_t oc;
  uint32_t n_cases = 0;
  for (uint32_t i = 0; (*s = *base, over_case(i, s, &c, &oc)); i++, n_cases++) {
    shape_encode(s, &pl);
    uint8_t id[32];
    voting_poll_id(id, c.organizer.pk, c.tc.seq);
    refused(&c, oc.what, &c.organizer, TX_TYPE_POLL_CREATE, &pl, oc.want);
    voting_poll_t *p = malloc(sizeof *p);
    assert_non_null(p);
    store_txn_t *t;
    assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
    assert_int_equal(voting_poll_get(t, id, p), VE_ERR_NOT_FOUND);
    store_txn_abort(t);
    free(p);
    /* Where voting_def_t can hold the definition, the builder refuses it too. */
    if (oc.builder) {
      shape_to_def(s, d);
      ve_buf_t b;
      ve_buf_init(&b, 0);
      int rc = voting_payload_create(&b, d);
      if (rc != oc.builder)
        fail_msg("%s: the builder gave %s, want %s", oc.what, ve_err_name(rc), ve_err_name(oc.builder));
      ve_buf_free(&b);
    }
  }

  assert_int_equal(n_cases, 18);

  /* A definition over VOTING_DEF_BYTES_MAX: refused by its size before it is
   * decoded; at exactly the bound it is decoded (and its padding refused). */
  shape_encode(base, &pl);
  size_t def_len = pl.len;
  uint8_t pad[1] = {0};
  while (pl.len < VOTING_DEF_BYTES_MAX) assert_int_equal(ve_buf_append(&pl, pad, 1), 0);
  refused(&c, "definition of VOTING_DEF_BYTES_MAX bytes", &c.organizer, TX_TYPE_POLL_CREATE, &pl, VE_ERR_TRAILING);
  assert_int_equal(ve_buf_append(&pl, pad, 1), 0);
  refused(&c, "definition of VOTING_DEF_BYTES_MAX + 1 bytes", &c.organizer, TX_TYPE_POLL_CREATE, &pl, VE_ERR_TOO_BIG);

  /* The base itself is accepted: each refusal was its one change. (And the
   * state digest does see a write.) */
  shape_encode(base, &pl);
  assert_int_equal(pl.len, def_len);
  uint8_t id[32], before[32], after[32];
  voting_poll_id(id, c.organizer.pk, c.tc.seq);
  state_digest(&c, before);
  EXPECT(pl_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, ve_buf_slice(&pl)), VE_OK);
  state_digest(&c, after);
  assert_memory_not_equal(before, after, 32);

  /* Payloads of the other transactions, one byte or one item over. */
  junk_payload(&pl, id, NULL, 0, 0, VOTE_DKG_DEALING_BYTES_MAX + 1);
  refused(&c, "dealing of VOTE_DKG_DEALING_BYTES_MAX + 1", &c.trustee[0], TX_TYPE_POLL_DKG_DEAL, &pl, VE_ERR_TOO_BIG);
  junk_payload(&pl, id, c.voter_id[0], 32, 1, VOTE_BALLOT_BYTES_MAX + 1);
  refused(&c, "ballot of VOTE_BALLOT_BYTES_MAX + 1", &c.voter[0], TX_TYPE_POLL_BALLOT, &pl, VE_ERR_TOO_BIG);
  junk_payload(&pl, id, c.voter_id[0], 32, VOTING_QUESTIONS_MAX + 1, 8);
  refused(&c, "17 ballots", &c.voter[0], TX_TYPE_POLL_BALLOT, &pl, VE_ERR_TOO_BIG);
  junk_payload(&pl, id, NULL, 0, 1, VOTE_DECSHARE_BYTES_MAX + 1);
  refused(&c, "share of VOTE_DECSHARE_BYTES_MAX + 1", &c.trustee[0], TX_TYPE_POLL_DECRYPT, &pl, VE_ERR_TOO_BIG);
  junk_payload(&pl, id, NULL, 0, VOTING_QUESTIONS_MAX + 1, 8);
  refused(&c, "17 decryption shares", &c.trustee[0], TX_TYPE_POLL_DECRYPT, &pl, VE_ERR_TOO_BIG);
  char reason[VOTING_REASON_BYTES_MAX + 2];
  gen_text(reason, VOTING_REASON_BYTES_MAX + 1, "R", 0);
  junk_payload(&pl, id, NULL, 0, 0, 0);
  pl.len -= 1; /* drop the empty reason, put the long one */
  {
    codec_writer_t w;
    codec_writer_init(&w, &pl);
    put_text_raw(&w, reason);
    assert_int_equal(codec_writer_finish(&w), 0);
  }
  refused(&c, "cancel reason of 257 bytes", &c.organizer, TX_TYPE_POLL_CANCEL, &pl, VE_ERR_TOO_BIG);
  assert_int_equal(voting_payload_cancel(&pl, id, reason), VE_ERR_TOO_BIG); /* the builder agrees */
  gen_text(reason, VOTING_REASON_BYTES_MAX, "R", 0);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_cancel(&pl, id, reason), 0);
  EXPECT(pl_run1(&c, &c.organizer, TX_TYPE_POLL_CANCEL, ve_buf_slice(&pl)), VE_OK);
  voting_poll_t *p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_CANCELLED);
  free(p);

  ve_buf_free(&pl);
  free(base);
  free(s);
  free(d);
  pl_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_worst_case_bounds),
      cmocka_unit_test(test_over_limits),
      cmocka_unit_test(test_maximal_poll),
      cmocka_unit_test(test_maximal_question),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
