/* fuzz_voting_late.c — see fuzz_voting_late.h. The chain's blocks run
 * straight through ledger_exec_* (fvchain_block_*), as in fuzz_voting_chain.c;
 * after building, the state of every poll is checked against what its history
 * must give, so a harness never runs on a chain that is not what it claims. */
#include "fuzz_voting_late.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "state/state.h"

/* Windows: deal_end, complaint_end, open, close. */
static const uint64_t WINDOWS[FVL_POLLS][4] = {
    [FVL_UPHELD] = {10, 30, 40, 50},  [FVL_FAILED] = {3, 4, 40, 50}, [FVL_CLOSED] = {3, 4, 6, 8},
    [FVL_DONE] = {3, 4, 6, 8},        [FVL_CANCELLED] = {3, 4, 40, 50},
};

/* The ballots of blocks 6 and 7: height, poll, voter, choices. */
static const struct {
  uint64_t height;
  int poll;
  uint32_t voter;
  uint8_t choices[2];
} BALLOTS[] = {
    {6, FVL_CLOSED, 0, {1, 0}}, {6, FVL_CLOSED, 1, {0, 1}}, {6, FVL_CLOSED, 2, {1, 0}},
    {6, FVL_DONE, 0, {0, 1}},   {7, FVL_CLOSED, 2, {0, 1}},
};

static void polls_read(fvlate_t *l) {
  for (int k = 0; k < FVL_POLLS; k++) fvchain_poll(&l->c, l->poll[k], l->rec[k]);
}

/* Dealer i's dealing in poll k as committed ("vpd/"), replacing out's contents. */
void fvlate_dealing(fvlate_t *l, int k, uint32_t i, ve_buf_t *out) {
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(l->c.store, false, &t) == VE_OK);
  uint8_t key[VOTING_DEALING_KEY_BYTES];
  ve_slice_t v;
  VE_ASSERT(state_get(t, ve_slice(key, voting_dealing_key(key, l->poll[k], i)), &v) == VE_OK);
  ve_buf_reset(out);
  VE_ASSERT(ve_buf_append(out, v.ptr, v.len) == VE_OK);
  store_txn_abort(t);
}

void fvlate_complain_payload(fvlate_t *l, int k, uint32_t dealer, uint32_t complainer, int seed_byte,
                             ve_buf_t *out) {
  const voting_poll_t *pl = l->rec[k];
  ve_buf_t dealing, cb;
  ve_buf_init(&dealing, 0);
  ve_buf_init(&cb, 0);
  fvlate_dealing(l, k, dealer, &dealing);
  vote_dkg_params_t dp = {pl->def.n_trustees, pl->def.threshold};
  uint8_t ctx[32], seed[VOTE_SEED_BYTES];
  voting_poll_context(ctx, fvchain_id(), pl->id);
  memset(seed, seed_byte, sizeof seed);
  VE_ASSERT(vote_dkg_complain(&cb, &dp, dealer, complainer, &l->c.enc[complainer - 1], ctx, sizeof ctx,
                              dealing.ptr, dealing.len, seed) == VE_OK);
  ve_buf_reset(out);
  VE_ASSERT(voting_payload_complain(out, pl->id, ve_buf_slice(&cb)) == VE_OK);
  ve_buf_free(&dealing);
  ve_buf_free(&cb);
}

void fvlate_ballot_payload(fvlate_t *l, int k, uint32_t voter, const uint8_t choices[2], int seed_byte,
                           ve_buf_t *out) {
  uint8_t seed[VOTE_SEED_BYTES];
  memset(seed, seed_byte, sizeof seed);
  ve_buf_reset(out);
  VE_ASSERT(voting_ballot_build(out, NULL, l->rec[k], fvchain_id(), l->c.voter_id[voter], choices, 2, seed) ==
            VE_OK);
}

void fvlate_decrypt_payload(fvlate_t *l, int k, uint32_t j, int seed_byte, ve_buf_t *out) {
  const voting_poll_t *pl = l->rec[k];
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  VE_ASSERT(tally);
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(l->c.store, false, &t) == VE_OK);
  VE_ASSERT(voting_tally_get(t, pl, tally) == VE_OK);
  store_txn_abort(t);
  uint8_t x[VOTE_SCALAR_BYTES], seed[VOTE_SEED_BYTES];
  fvchain_secret(&l->c, pl, j, x);
  memset(seed, seed_byte, sizeof seed);
  ve_buf_reset(out);
  VE_ASSERT(voting_decrypt_build(out, pl, tally, fvchain_id(), j, x, seed) == VE_OK);
  sodium_memzero(x, sizeof x);
  free(tally);
}

static void block_create(fvlate_t *l, ve_buf_t *p) {
  fvchain_t *c = &l->c;
  voting_def_t *d = malloc(sizeof *d);
  VE_ASSERT(d);
  fvchain_block_t b;
  fvchain_block_begin(c, &b, 2);
  c->seq = FVL_SEQ_FIRST; /* ids unlike those of the first chain's polls */
  for (int k = 0; k < FVL_POLLS; k++) {
    fvchain_def(c, d, WINDOWS[k][0], WINDOWS[k][1], WINDOWS[k][2], WINDOWS[k][3], false);
    ve_buf_reset(p);
    VE_ASSERT(voting_payload_create(p, d) == VE_OK);
    voting_poll_id(l->poll[k], c->organizer.pk, fvchain_block_tx(c, &b, &c->organizer, TX_TYPE_POLL_CREATE, p));
  }
  fvchain_block_end(&b);
  free(d);
  polls_read(l);
}

/* Block 3: every dealing; victim[k][i-1] is whom dealer i cheats in poll k
 * (0 = nobody, -1 = dealer i does not deal). */
static void block_deal(fvlate_t *l, ve_buf_t *p) {
  static const int victim[FVL_POLLS][FVC_TRUSTEES] = {
      [FVL_UPHELD] = {2, 0, 0}, [FVL_FAILED] = {0, 1, -1}, [FVL_CLOSED] = {0, 0, 0},
      [FVL_DONE] = {0, 0, 0},   [FVL_CANCELLED] = {0, 0, 0},
  };
  fvchain_t *c = &l->c;
  fvchain_block_t b;
  fvchain_block_begin(c, &b, 3);
  for (int k = 0; k < FVL_POLLS; k++)
    for (uint32_t i = 1; i <= FVC_TRUSTEES; i++) {
      if (victim[k][i - 1] < 0) continue;
      fvchain_deal_payload_bad(l->rec[k], i, (uint32_t)victim[k][i - 1], p);
      fvchain_block_tx(c, &b, &c->trustee[i - 1], TX_TYPE_POLL_DKG_DEAL, p);
    }
  fvchain_block_end(&b);
  polls_read(l);
}

/* A block holding trustee `complainer`'s complaint against `dealer` in poll k. */
static void block_complain(fvlate_t *l, ve_buf_t *p, uint64_t height, int k, uint32_t dealer,
                           uint32_t complainer) {
  fvchain_t *c = &l->c;
  fvlate_complain_payload(l, k, dealer, complainer, 0x50 + k, p);
  fvchain_block_t b;
  fvchain_block_begin(c, &b, height);
  fvchain_block_tx(c, &b, &c->trustee[complainer - 1], TX_TYPE_POLL_DKG_COMPLAIN, p);
  fvchain_block_end(&b);
  polls_read(l);
}

/* Block 5: every poll but UPHELD finishes its key generation. */
static void block_finish(fvlate_t *l, ve_buf_t *p) {
  fvchain_t *c = &l->c;
  fvchain_block_t b;
  fvchain_block_begin(c, &b, 5);
  for (int k = FVL_FAILED; k < FVL_POLLS; k++) {
    ve_buf_reset(p);
    VE_ASSERT(voting_payload_finish(p, l->poll[k]) == VE_OK);
    fvchain_block_tx(c, &b, &c->organizer, TX_TYPE_POLL_DKG_FINISH, p);
  }
  fvchain_block_end(&b);
  polls_read(l);
}

/* Blocks 6 and 7: the ballots, and the cancellation in block 6. */
static void blocks_ballots(fvlate_t *l, ve_buf_t *p) {
  fvchain_t *c = &l->c;
  fvchain_block_t b;
  for (uint64_t h = 6; h <= 7; h++) {
    fvchain_block_begin(c, &b, h);
    for (size_t i = 0; i < sizeof BALLOTS / sizeof BALLOTS[0]; i++) {
      if (BALLOTS[i].height != h) continue;
      int seed = FVL_BALLOT_SEED + (int)i;
      fvlate_ballot_payload(l, BALLOTS[i].poll, BALLOTS[i].voter, BALLOTS[i].choices, seed, p);
      fvchain_block_tx(c, &b, &c->voter[BALLOTS[i].voter], TX_TYPE_POLL_BALLOT, p);
    }
    if (h == 6) {
      ve_buf_reset(p);
      VE_ASSERT(voting_payload_cancel(p, l->poll[FVL_CANCELLED], "the hall burnt down") == VE_OK);
      fvchain_block_tx(c, &b, &c->organizer, TX_TYPE_POLL_CANCEL, p);
    }
    fvchain_block_end(&b);
  }
  polls_read(l);
}

/* Block 9: trustee 1 decrypts CLOSED, trustees 1 and 3 decrypt DONE. */
static void block_decrypt(fvlate_t *l) {
  static const struct {
    int poll;
    uint32_t trustee;
  } shares[] = {{FVL_CLOSED, 1}, {FVL_DONE, 1}, {FVL_DONE, 3}};
  enum { N = sizeof shares / sizeof shares[0] };
  fvchain_t *c = &l->c;
  ve_buf_t pays[N];
  for (size_t i = 0; i < N; i++) { /* from the committed tallies, before the block's write txn */
    ve_buf_init(&pays[i], 0);
    fvlate_decrypt_payload(l, shares[i].poll, shares[i].trustee, 0x90 + (int)i, &pays[i]);
  }
  fvchain_block_t b;
  fvchain_block_begin(c, &b, 9);
  for (size_t i = 0; i < N; i++) {
    fvchain_block_tx(c, &b, &c->trustee[shares[i].trustee - 1], TX_TYPE_POLL_DECRYPT, &pays[i]);
    ve_buf_free(&pays[i]);
  }
  fvchain_block_end(&b);
  polls_read(l);
}

/* What the header promises about each poll at the tip. */
static void check_tip(fvlate_t *l) {
  const voting_poll_t *const *r = (const voting_poll_t *const *)l->rec;
  VE_ASSERT(r[FVL_UPHELD]->status == VOTING_DKG && r[FVL_UPHELD]->dealt == 7 && r[FVL_UPHELD]->upheld == 1 &&
            r[FVL_UPHELD]->complained[0] == 2);
  VE_ASSERT(r[FVL_FAILED]->status == VOTING_FAILED && r[FVL_FAILED]->dealt == 3 && r[FVL_FAILED]->upheld == 2 &&
            !r[FVL_FAILED]->has_key);
  VE_ASSERT(r[FVL_CLOSED]->status == VOTING_READY && r[FVL_CLOSED]->decrypted == 1 &&
            r[FVL_CLOSED]->qualified == 7);
  voting_tally_rec_t *tally = malloc(sizeof *tally);
  VE_ASSERT(tally);
  store_txn_t *t;
  VE_ASSERT(store_txn_begin(l->c.store, false, &t) == VE_OK);
  VE_ASSERT(voting_tally_get(t, r[FVL_CLOSED], tally) == VE_OK);
  store_txn_abort(t);
  VE_ASSERT(tally->voters == l->voters[FVL_CLOSED] && tally->ballots == 4);
  free(tally);
  VE_ASSERT(r[FVL_DONE]->status == VOTING_DONE && r[FVL_DONE]->has_result && r[FVL_DONE]->used == 5);
  VE_ASSERT(r[FVL_DONE]->voters == l->voters[FVL_DONE]);
  VE_ASSERT(!memcmp(r[FVL_DONE]->counts, l->counts[FVL_DONE], sizeof l->counts[FVL_DONE]));
  VE_ASSERT(r[FVL_CANCELLED]->status == VOTING_CANCELLED && r[FVL_CANCELLED]->has_key);
}

/* Counts and voters from BALLOTS: each voter's last ballot counts. */
static void expected_counts(fvlate_t *l) {
  for (int k = 0; k < FVL_POLLS; k++) {
    const uint8_t *last[FVC_VOTERS] = {NULL};
    for (size_t i = 0; i < sizeof BALLOTS / sizeof BALLOTS[0]; i++)
      if (BALLOTS[i].poll == k) last[BALLOTS[i].voter] = BALLOTS[i].choices;
    for (uint32_t v = 0; v < FVC_VOTERS; v++) {
      if (!last[v]) continue;
      l->voters[k]++;
      l->counts[k][0] += last[v][0], l->counts[k][1] += last[v][1];
    }
  }
}

void fvlate_build(fvlate_t *l) {
  memset(l, 0, sizeof *l);
  fvchain_t *c = &l->c;
  fvchain_start(c);
  for (int k = 0; k < FVL_POLLS; k++) {
    l->rec[k] = malloc(sizeof *l->rec[k]);
    VE_ASSERT(l->rec[k]);
  }
  expected_counts(l);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  block_create(l, &p);
  block_deal(l, &p);
  block_complain(l, &p, 4, FVL_FAILED, 2, 1);
  block_finish(l, &p);
  blocks_ballots(l, &p);
  block_decrypt(l);
  block_complain(l, &p, FVL_TIP, FVL_UPHELD, 1, 2);
  ve_buf_free(&p);
  check_tip(l);
  const uint8_t *pk[FVL_S_COUNT] = {NULL,           c->organizer.pk,  c->admin.pk,    c->trustee[0].pk,
                                    c->trustee[1].pk, c->trustee[2].pk, c->voter[0].pk, c->voter[1].pk,
                                    c->voter[2].pk, c->unknown.pk};
  memcpy(l->pk, pk, sizeof pk);
}

void fvlate_free(fvlate_t *l) {
  for (int k = 0; k < FVL_POLLS; k++) free(l->rec[k]);
  fvchain_free(&l->c);
}

/* ---- harness inputs ---- */

/* Which of the chain's polls id is, or -1. */
static int poll_index(const fvlate_t *l, const uint8_t id[VOTING_ID_BYTES]) {
  for (int k = 0; k < FVL_POLLS; k++)
    if (!memcmp(l->poll[k], id, VOTING_ID_BYTES)) return k;
  return -1;
}

/* The inner bytes after u8 version || poll id of a deal, decrypt payload:
 * the first length-prefixed field (a dealing, or the count then the first
 * share), or an empty slice. */
static ve_slice_t first_bytes(ve_slice_t payload, bool counted) {
  codec_reader_t r;
  codec_reader_init(&r, payload);
  (void)codec_get_u8(&r);
  uint8_t poll[VOTING_ID_BYTES];
  codec_get_fixed(&r, poll, sizeof poll);
  if (counted) (void)codec_get_uvarint(&r);
  ve_slice_t s = codec_get_bytes(&r, VE_TX_PAYLOAD_BYTES_MAX);
  return r.err ? ve_slice(NULL, 0) : s;
}

static int trustee_signer(uint32_t j) { return j >= 1 && j <= FVC_TRUSTEES ? FVL_S_T1 + (int)j - 1 : FVL_S_T3; }

/* The party a payload speaks for (see the header). */
static int natural_signer(const fvlate_t *l, uint32_t type, ve_slice_t pay) {
  switch (type) {
    case TX_TYPE_POLL_TRUSTEE_KEY: return FVL_S_T1;
    case TX_TYPE_POLL_DKG_DEAL: {
      ve_slice_t d = first_bytes(pay, false); /* u8 version || uvarint dealer || ... */
      return trustee_signer(d.len > 1 ? d.ptr[1] : 0);
    }
    case TX_TYPE_POLL_DKG_COMPLAIN: /* u8 version || poll || complaint: u8 version, dealer, complainer */
      return trustee_signer(pay.len > 35 ? pay.ptr[35] : 0);
    case TX_TYPE_POLL_BALLOT: /* u8 version || poll || voter id || ... */
      for (uint32_t v = 0; pay.len >= 1 + 2 * VOTING_ID_BYTES && v < FVC_VOTERS; v++)
        if (!memcmp(pay.ptr + 1 + VOTING_ID_BYTES, l->c.voter_id[v], VOTING_ID_BYTES)) return FVL_S_V0 + (int)v;
      return FVL_S_V1;
    case TX_TYPE_POLL_DECRYPT: {
      ve_slice_t s = first_bytes(pay, true);
      uint32_t j = 0;
      return trustee_signer(vote_decshare_trustee(s.ptr, s.len, &j) == VE_OK ? j : 0);
    }
    default: return FVL_S_ORG;
  }
}

static uint64_t natural_height(const fvlate_t *l, uint32_t type, int k) {
  uint64_t h = FVL_TIP + 1;
  if (k >= 0) {
    const voting_def_t *d = &l->rec[k]->def;
    switch (type) {
      case TX_TYPE_POLL_CANCEL: h = d->open_height - 1; break;
      case TX_TYPE_POLL_DKG_DEAL: h = d->deal_end; break;
      case TX_TYPE_POLL_DKG_COMPLAIN: h = d->complaint_end; break;
      case TX_TYPE_POLL_DKG_FINISH: h = d->complaint_end + 1; break;
      case TX_TYPE_POLL_BALLOT: h = d->close_height; break;
      case TX_TYPE_POLL_DECRYPT: h = d->close_height + 1; break;
      default: break;
    }
  }
  return h;
}

static bool names_poll(uint32_t type) {
  return type != TX_TYPE_POLL_TRUSTEE_KEY && type != TX_TYPE_POLL_CREATE && type > VOTING_TX_TYPE_LO &&
         type <= TX_TYPE_POLL_DECRYPT;
}

int fvlate_input_parse(const fvlate_t *l, const uint8_t *data, size_t size, fvlate_input_t *in) {
  memset(in, 0, sizeof *in);
  if (size < 2 || size - 2 > VE_TX_PAYLOAD_BYTES_MAX) return -1;
  in->type = VOTING_TX_TYPE_LO + data[0] % 10;
  ve_buf_init(&in->payload, 0);
  VE_ASSERT(ve_buf_append(&in->payload, data + 2, size - 2) == VE_OK);
  uint32_t pick = data[1] % 6, hv = data[1] / 6 % 4;
  in->poll = -1;
  if (names_poll(in->type) && in->payload.len >= 1 + VOTING_ID_BYTES) {
    if (pick > 0) memcpy(in->payload.ptr + 1, l->poll[pick - 1], VOTING_ID_BYTES);
    in->poll = poll_index(l, in->payload.ptr + 1);
  }
  in->signer = (int)(data[0] / 10 % 10);
  if (in->signer == FVL_S_NATURAL) in->signer = natural_signer(l, in->type, ve_buf_slice(&in->payload));
  uint64_t h = natural_height(l, in->type, in->poll);
  if (hv == 1) h++;
  if (hv == 2) h--;
  if (hv == 3) h += 1000000;
  in->height = h > FVL_TIP ? h : FVL_TIP + 1;
  return 0;
}

void fvlate_input_free(fvlate_input_t *in) { ve_buf_free(&in->payload); }
