/* poll_test.c — the poll app driven through real blocks on a memory store
 * (pfix.h): the whole lifecycle with re-votes and a decrypted result equal to
 * the plaintext count, every rejection with its reason, a misbehaving trustee
 * caught by a complaint and excluded, a failed key generation, cancellation,
 * and determinism (two chains fed the same transactions have the same state
 * roots at every height). Randomized parts print their seed; replay with
 * VECHE_SEED=<seed>. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apps/voting/voting.h"
#include "base/err.h"
#include "pfix.h"
#include "state/state.h"
#include "vtest.h"

#define EXPECT(rc, want)                                                                             \
  do {                                                                                               \
    int32_t got_ = (rc);                                                                             \
    if (got_ != (want)) fail_msg("%s:%d: got %s, want %s", __FILE__, __LINE__, ve_err_name(got_),   \
                                 ve_err_name(want));                                                 \
  } while (0)

/* Random valid choices for the pfix definition: exactly one of options 0..1,
 * zero to two of options 2..4. */
static void random_choices(uint8_t ch[5]) {
  memset(ch, 0, 5);
  ch[vt_u32(2)] = 1;
  uint32_t k = vt_u32(3);
  for (uint32_t i = 0; i < k; i++) ch[2 + vt_u32(3)] = 1;
}

static int32_t vote(pf_chain_t *c, const voting_poll_t *p, uint32_t v, const uint8_t ch[5], uint8_t tracker[32]) {
  ve_buf_t pl;
  ve_buf_init(&pl, 0);
  pf_ballot(c, p, v, ch, &pl, tracker);
  int32_t rc = pf_run1(c, &c->voter[v], TX_TYPE_POLL_BALLOT, &pl);
  ve_buf_free(&pl);
  return rc;
}

static int32_t decrypt(pf_chain_t *c, const voting_poll_t *p, uint32_t j) {
  ve_buf_t pl;
  ve_buf_init(&pl, 0);
  pf_decrypt_payload(c, p, j, &pl);
  int32_t rc = pf_run1(c, &c->trustee[j - 1], TX_TYPE_POLL_DECRYPT, &pl);
  ve_buf_free(&pl);
  return rc;
}

static voting_poll_t *poll_load(pf_chain_t *c, const uint8_t id[32]) {
  voting_poll_t *p = malloc(sizeof *p);
  assert_non_null(p);
  assert_int_equal(pf_poll(c, id, p), 0);
  return p;
}

/* ---- lifecycle ---- */

/* Votes of nv voters in blocks of 8 (random choices), then re-votes of every
 * third voter; latest[v] keeps each voter's last choices. */
static void vote_round(pf_chain_t *c, const voting_poll_t *p, uint32_t nv, uint8_t latest[][5], uint8_t trackers[][32]) {
  ve_buf_t txs[8], pl;
  ve_buf_init(&pl, 0);
  for (uint32_t pass = 0; pass < 2; pass++) {
    uint32_t k = 0;
    for (uint32_t v = 0; v < nv; v++) {
      if (pass == 1 && v % 3) continue;
      random_choices(latest[v]);
      pf_ballot(c, p, v, latest[v], &pl, trackers[v]);
      ve_buf_init(&txs[k], 0);
      pf_tx(c, &txs[k], &c->voter[v], TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl));
      if (++k == 8 || v == nv - 1) {
        int32_t res[8];
        pf_commit(c, txs, k, res);
        for (uint32_t i = 0; i < k; i++) assert_int_equal(res[i], 0);
        for (uint32_t i = 0; i < k; i++) ve_buf_free(&txs[i]);
        k = 0;
      }
    }
    if (k) {
      int32_t res[8];
      pf_commit(c, txs, k, res);
      for (uint32_t i = 0; i < k; i++) assert_int_equal(res[i], 0), ve_buf_free(&txs[i]);
    }
  }
  ve_buf_free(&pl);
}

static void test_lifecycle(void **state) {
  (void)state;
  vt_seed_init("poll_test lifecycle");
  static pf_chain_t c;
  pf_init(&c);
  c.rng_seed = vt_seed;
  pf_trustee_keys(&c);
  voting_def_t d;
  pf_def(&c, &d, 3, 2, 20);
  uint8_t id[32];
  EXPECT(pf_create(&c, &d, id), VE_OK);
  voting_poll_t *p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_DKG);
  assert_string_equal(voting_phase_name(p, p->def.deal_end), "dkg");
  assert_string_equal(voting_phase_name(p, p->def.complaint_end + 1), "dkg_finish_due");
  assert_string_equal(voting_phase_name(p, p->def.close_height + 1), "dkg_expired");
  assert_memory_equal(p->organizer, c.organizer_id, 32);
  assert_memory_equal(p->enc_pk[1], c.enc[1].pk, 32);
  free(p);
  EXPECT(pf_dkg(&c, id), VE_OK);
  p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_READY);
  assert_true(p->has_key);
  assert_int_equal(p->qualified, 7);
  assert_string_equal(voting_phase_name(p, p->def.open_height - 1), "scheduled");
  assert_string_equal(voting_phase_name(p, p->def.close_height), "open");
  assert_string_equal(voting_phase_name(p, p->def.close_height + 1), "closed");
  voting_tally_rec_t tally;
  assert_int_equal(pf_tally(&c, p, &tally), 0);
  assert_int_equal(tally.voters, 0);

  pf_advance_to(&c, p->def.open_height);
  enum { NV = 30 };
  static uint8_t latest[PF_VOTERS][5], trackers[PF_VOTERS][32];
  vote_round(&c, p, NV, latest, trackers);
  assert_true(pf_height(&c) <= p->def.close_height);
  assert_int_equal(pf_tally(&c, p, &tally), 0);
  assert_int_equal(tally.voters, NV);
  assert_int_equal(tally.ballots, NV + NV / 3);
  /* Receipts: each voter's record holds exactly its latest ballot. */
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
  for (uint32_t v = 0; v < NV; v++) {
    voting_ballot_rec_t b;
    assert_int_equal(voting_ballot_get(t, p, c.voter_id[v], &b), 0);
    assert_memory_equal(b.tracker, trackers[v], 32);
    assert_int_equal(b.revision, v % 3 ? 1 : 2);
  }
  store_txn_abort(t);

  /* Close, decrypt with trustees 3 and 1. */
  pf_advance_to(&c, p->def.close_height + 1);
  EXPECT(decrypt(&c, p, 3), VE_OK);
  free(p);
  p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_READY);
  assert_int_equal(p->decrypted, 4);
  EXPECT(decrypt(&c, p, 1), VE_OK);
  free(p);
  p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_DONE);
  assert_string_equal(voting_phase_name(p, pf_height(&c) + 1), "done");
  assert_true(p->has_result);
  assert_int_equal(p->used, 5);
  assert_int_equal(p->voters, NV);
  uint64_t want[5] = {0};
  for (uint32_t v = 0; v < NV; v++)
    for (int o = 0; o < 5; o++) want[o] += latest[v][o];
  for (int o = 0; o < 5; o++) assert_int_equal(p->counts[o], want[o]);
  assert_int_equal(p->counts[0] + p->counts[1], NV);
  /* A third share is refused: the result is final. */
  EXPECT(decrypt(&c, p, 2), VE_ERR_STATE);

  voting_audit_report_t rep;
  char reason[256] = "";
  int rc = pf_audit(&c, id, NULL, NULL, &rep, reason, sizeof reason);
  if (rc) fail_msg("audit: %s", reason);
  assert_true(rep.result_checked);
  assert_int_equal(rep.ballots, NV + NV / 3);
  assert_int_equal(rep.replaced, NV / 3);
  assert_int_equal(rep.voters, NV);
  assert_int_equal(rep.shares, 2);
  for (int o = 0; o < 5; o++) assert_int_equal(rep.counts[o], want[o]);
  free(p);
  pf_free(&c);
}

/* ---- rejections ---- */

static void complaint_by(pf_chain_t *c, const voting_poll_t *p, uint32_t dealer, uint32_t j, ve_buf_t *payload) {
  store_txn_t *t;
  ve_slice_t dealing;
  uint8_t key[VOTING_DEALING_KEY_BYTES], ctx[32], seed[32] = {9};
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(state_get(t, ve_slice(key, voting_dealing_key(key, p->id, dealer)), &dealing), 0);
  voting_poll_context(ctx, pf_chain_id(), p->id);
  vote_dkg_params_t dp = {p->def.n_trustees, p->def.threshold};
  ve_buf_t cb;
  ve_buf_init(&cb, 0);
  assert_int_equal(vote_dkg_complain(&cb, &dp, dealer, j, &c->enc[j - 1], ctx, 32, dealing.ptr, dealing.len, seed), 0);
  store_txn_abort(t);
  ve_buf_reset(payload);
  assert_int_equal(voting_payload_complain(payload, p->id, ve_buf_slice(&cb)), 0);
  ve_buf_free(&cb);
}

static void test_rejections(void **state) {
  (void)state;
  static pf_chain_t c;
  pf_init(&c);
  ve_buf_t pl, pl2;
  ve_buf_init(&pl, 0);
  ve_buf_init(&pl2, 0);
  uint8_t seed[32] = {1};

  /* Trustee keys: the role, the proof of possession, the point. */
  assert_int_equal(voting_payload_trustee_key(&pl, pf_chain_id(), c.stranger_id, &c.enc[0], seed), 0);
  EXPECT(pf_run1(&c, &c.stranger, TX_TYPE_POLL_TRUSTEE_KEY, &pl), VE_ERR_PERMISSION);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_trustee_key(&pl, pf_chain_id(), c.trustee_id[0], &c.enc[0], seed), 0);
  EXPECT(pf_run1(&c, &c.trustee[1], TX_TYPE_POLL_TRUSTEE_KEY, &pl), VE_ERR_PROOF); /* bound to trustee 1 */
  memset(pl.ptr + 1, 0xff, 32);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_TRUSTEE_KEY, &pl), VE_ERR_BAD_KEY);
  pf_trustee_keys(&c);

  /* Creation. */
  voting_def_t d;
  pf_def(&c, &d, 3, 2, 40);
  d.has_filter = true;
  strcpy(d.filter_key, "district");
  strcpy(d.filter_value, "d1");
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_create(&pl, &d), 0);
  EXPECT(pf_run1(&c, &c.stranger, TX_TYPE_POLL_CREATE, &pl), VE_ERR_PERMISSION);
  voting_def_t bad = d;
  bad.deal_end = pf_height(&c) + 1; /* the block that runs it */
  bad.complaint_end = bad.deal_end + 1;
  ve_buf_reset(&pl2);
  assert_int_equal(voting_payload_create(&pl2, &bad), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &pl2), VE_ERR_HEIGHT);
  bad = d;
  memcpy(bad.trustees[2], c.stranger_id, 32);
  ve_buf_reset(&pl2);
  assert_int_equal(voting_payload_create(&pl2, &bad), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &pl2), VE_ERR_INVALID); /* no trustee role */
  bad = d;
  bad.threshold = 4;
  ve_buf_reset(&pl2);
  assert_int_equal(voting_payload_create(&pl2, &bad), VE_ERR_INVALID); /* the builder refuses too */
  ve_buf_reset(&pl2);
  assert_int_equal(ve_buf_append(&pl2, pl.ptr, pl.len), 0);
  memcpy(pl2.ptr + pl2.len - 32, pl2.ptr + pl2.len - 64, 32); /* trustee 3 := trustee 2 */
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &pl2), VE_ERR_DUPLICATE);
  pl2.len = pl.len - 1;
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &pl2), VE_ERR_MALFORMED);
  memcpy(pl2.ptr, pl.ptr, pl.len);
  pl2.len = pl.len;
  assert_int_equal(ve_buf_append(&pl2, "x", 1), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &pl2), VE_ERR_TRAILING);
  pl2.ptr[0] = 2;
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &pl2), VE_ERR_VERSION);
  bad = d;
  memcpy(bad.title, "\x01", 2); /* a control character */
  ve_buf_reset(&pl2);
  assert_int_equal(voting_payload_create(&pl2, &bad), VE_ERR_INVALID);

  /* Polls A (district d1) and B (everyone, same shape), created in one block,
   * so their phases coincide; the stranger gets the trustee role without key. */
  pf_def(&c, &d, 3, 2, 40);
  /* Room for the rejected transactions (one block each) in every phase. */
  d.deal_end += 10, d.complaint_end += 14, d.open_height += 20, d.close_height += 20;
  voting_def_t db = d;
  d.has_filter = true;
  strcpy(d.filter_key, "district");
  strcpy(d.filter_value, "d1");
  uint8_t ida[32], idb[32];
  ve_buf_t txs[3];
  for (int i = 0; i < 3; i++) ve_buf_init(&txs[i], 0);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_create(&pl, &d), 0);
  voting_poll_id(ida, c.organizer.pk, c.tc.seq);
  pf_tx(&c, &txs[0], &c.organizer, TX_TYPE_POLL_CREATE, ve_buf_slice(&pl));
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_create(&pl, &db), 0);
  voting_poll_id(idb, c.organizer.pk, c.tc.seq);
  pf_tx(&c, &txs[1], &c.organizer, TX_TYPE_POLL_CREATE, ve_buf_slice(&pl));
  ve_buf_reset(&pl);
  assert_int_equal(identity_payload_set_roles(&pl, c.stranger_id, ROLE_TRUSTEE), 0);
  pf_tx(&c, &txs[2], &c.admin, TX_TYPE_IDENTITY_SET_ROLES, ve_buf_slice(&pl));
  int32_t res[3];
  pf_commit(&c, txs, 3, res);
  for (int i = 0; i < 3; i++) {
    EXPECT(res[i], VE_OK);
    ve_buf_free(&txs[i]);
  }
  bad = d;
  memcpy(bad.trustees[2], c.stranger_id, 32);
  ve_buf_reset(&pl2);
  assert_int_equal(voting_payload_create(&pl2, &bad), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &pl2), VE_ERR_NOT_FOUND); /* no encryption key */
  voting_poll_t *pa = poll_load(&c, ida), *pb = poll_load(&c, idb);

  /* Cancel and the DKG phases. */
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_cancel(&pl, ida, "no"), 0);
  EXPECT(pf_run1(&c, &c.stranger, TX_TYPE_POLL_CANCEL, &pl), VE_ERR_PERMISSION);
  pf_dealing(&c, pa, 1, &pl);
  EXPECT(pf_run1(&c, &c.stranger, TX_TYPE_POLL_DKG_DEAL, &pl), VE_ERR_PERMISSION);
  EXPECT(pf_run1(&c, &c.trustee[3], TX_TYPE_POLL_DKG_DEAL, &pl), VE_ERR_PERMISSION); /* not this poll's */
  pl.ptr[35 + 4 + 64] ^= 1; /* version, poll, 2-byte length; header, 2 commitments: the PoK's R */
  int32_t rc = pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DKG_DEAL, &pl);
  assert_true(rc == VE_ERR_PROOF || rc == VE_ERR_MALFORMED || rc == VE_ERR_NONCANONICAL);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_finish(&pl, ida), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_DKG_FINISH, &pl), VE_ERR_TOO_EARLY);
  /* Honest dealings for both polls in one block. */
  ve_buf_t deal[6];
  for (uint32_t j = 1; j <= 3; j++) {
    ve_buf_init(&deal[j - 1], 0);
    ve_buf_init(&deal[j + 2], 0);
    pf_dealing(&c, pa, j, &pl);
    pf_tx(&c, &deal[j - 1], &c.trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, ve_buf_slice(&pl));
    pf_dealing(&c, pb, j, &pl);
    pf_tx(&c, &deal[j + 2], &c.trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, ve_buf_slice(&pl));
  }
  int32_t dres[6];
  pf_commit(&c, deal, 6, dres);
  for (int i = 0; i < 6; i++) { EXPECT(dres[i], VE_OK); ve_buf_free(&deal[i]); }
  free(pa);
  pa = poll_load(&c, ida);
  assert_int_equal(pa->dealt, 7);
  pf_dealing(&c, pa, 1, &pl);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DKG_DEAL, &pl), VE_ERR_EXISTS);
  complaint_by(&c, pa, 1, 2, &pl);
  EXPECT(pf_run1(&c, &c.trustee[1], TX_TYPE_POLL_DKG_COMPLAIN, &pl), VE_ERR_TOO_EARLY);
  pf_advance_to(&c, pa->def.deal_end + 1);
  pf_dealing(&c, pa, 1, &pl);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DKG_DEAL, &pl), VE_ERR_TOO_LATE);
  complaint_by(&c, pa, 1, 2, &pl);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DKG_COMPLAIN, &pl), VE_ERR_PERMISSION); /* 2's complaint */
  pf_advance_to(&c, pa->def.complaint_end + 1);
  EXPECT(pf_run1(&c, &c.trustee[1], TX_TYPE_POLL_DKG_COMPLAIN, &pl), VE_ERR_TOO_LATE);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_finish(&pl, ida), 0);
  EXPECT(pf_run1(&c, &c.stranger, TX_TYPE_POLL_DKG_FINISH, &pl), VE_ERR_PERMISSION);
  ve_buf_reset(&pl2);
  assert_int_equal(voting_payload_finish(&pl2, idb), 0);
  ve_buf_t fin[2];
  ve_buf_init(&fin[0], 0);
  ve_buf_init(&fin[1], 0);
  pf_tx(&c, &fin[0], &c.trustee[2], TX_TYPE_POLL_DKG_FINISH, ve_buf_slice(&pl)); /* a trustee may finish */
  pf_tx(&c, &fin[1], &c.organizer, TX_TYPE_POLL_DKG_FINISH, ve_buf_slice(&pl2));
  int32_t fres[2];
  pf_commit(&c, fin, 2, fres);
  EXPECT(fres[0], VE_OK);
  EXPECT(fres[1], VE_OK);
  ve_buf_free(&fin[0]);
  ve_buf_free(&fin[1]);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_DKG_FINISH, &pl), VE_ERR_STATE);
  free(pa);
  free(pb);
  pa = poll_load(&c, ida);
  pb = poll_load(&c, idb);

  /* Ballots. */
  uint8_t ch[5] = {1, 0, 1, 1, 0}, tr[32];
  pf_ballot(&c, pa, 0, ch, &pl, tr);
  EXPECT(pf_run1(&c, &c.voter[0], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_TOO_EARLY);
  pf_advance_to(&c, pa->def.open_height);
  pf_ballot(&c, pa, 1, ch, &pl2, NULL);
  EXPECT(pf_run1(&c, &c.voter[1], TX_TYPE_POLL_BALLOT, &pl2), VE_ERR_NOT_ELIGIBLE); /* district d2 */
  pf_ballot(&c, pb, 1, ch, &pl2, NULL);
  EXPECT(pf_run1(&c, &c.voter[1], TX_TYPE_POLL_BALLOT, &pl2), VE_OK); /* poll B has no filter */
  EXPECT(pf_run1(&c, &c.voter[0], TX_TYPE_POLL_BALLOT, &pl), VE_OK);
  EXPECT(pf_run1(&c, &c.voter[0], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_DUPLICATE); /* replayed by its voter */
  EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_PERMISSION); /* copied as is */
  memcpy(pl.ptr + 33, c.voter_id[2], 32);
  EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_DUPLICATE); /* copy of a counted one */
  pf_ballot(&c, pa, 8, ch, &pl, NULL); /* voter 8's ballot, not yet submitted, copied by voter 2 */
  memcpy(pl.ptr + 33, c.voter_id[2], 32);
  EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_PROOF);
  pf_ballot(&c, pb, 2, ch, &pl, NULL);
  memcpy(pl.ptr + 1, ida, 32);
  EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_PROOF); /* made for poll B */
  memcpy(pl.ptr + 1, "\x42", 1);
  EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_NOT_FOUND); /* no such poll */
  /* Malleated: a response scalar, a ciphertext, a proof commitment. */
  static const size_t flips[] = {1, 200, 600};
  for (size_t f = 0; f < 3; f++) {
    pf_ballot(&c, pa, 2, ch, &pl, NULL);
    pl.ptr[pl.len - flips[f]] ^= 0x10;
    rc = pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl);
    if (rc != VE_ERR_PROOF && rc != VE_ERR_NONCANONICAL && rc != VE_ERR_MALFORMED)
      fail_msg("malleated ballot (flip %zu) gave %s", f, ve_err_name(rc));
  }
  /* Wrong shape: the second question's ballot dropped. */
  {
    voting_ballot_payload_t b;
    pf_ballot(&c, pa, 2, ch, &pl, NULL);
    assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &b), 0);
    ve_buf_reset(&pl2);
    assert_int_equal(voting_payload_ballot(&pl2, ida, c.voter_id[2], b.ballot, 1), 0);
    EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl2), VE_ERR_WRONG_POLL);
    /* A question's ballot of an unknown version: unknown_version, as for
     * every other version byte, not malformed. */
    uint8_t *v0 = (uint8_t *)b.ballot[0].ptr; /* inside pl */
    *v0 = 2;
    ve_buf_reset(&pl2);
    assert_int_equal(voting_payload_ballot(&pl2, ida, c.voter_id[2], b.ballot, b.n), 0);
    *v0 = 1;
    EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl2), VE_ERR_VERSION);
    pl.len -= 1;
    EXPECT(pf_run1(&c, &c.voter[2], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_MALFORMED);
  }
  /* A suspended voter signs nothing. */
  ve_buf_reset(&pl2);
  assert_int_equal(identity_payload_status(&pl2, c.voter_id[4], "inquiry"), 0);
  EXPECT(pf_run1(&c, &c.registrar, TX_TYPE_IDENTITY_SUSPEND, &pl2), VE_OK);
  pf_ballot(&c, pa, 4, ch, &pl, NULL);
  EXPECT(pf_run1(&c, &c.voter[4], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_SUSPENDED);
  /* Decrypting or cancelling while open. */
  ve_buf_reset(&pl);
  pf_decrypt_payload(&c, pa, 1, &pl);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DECRYPT, &pl), VE_ERR_TOO_EARLY);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_cancel(&pl, ida, "too late"), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CANCEL, &pl), VE_ERR_TOO_LATE);
  /* After the close. */
  pf_ballot(&c, pa, 6, ch, &pl, NULL);
  pf_advance_to(&c, pa->def.close_height + 1);
  EXPECT(pf_run1(&c, &c.voter[6], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_TOO_LATE);
  pf_decrypt_payload(&c, pa, 1, &pl);
  EXPECT(pf_run1(&c, &c.stranger, TX_TYPE_POLL_DECRYPT, &pl), VE_ERR_PERMISSION);
  EXPECT(pf_run1(&c, &c.trustee[1], TX_TYPE_POLL_DECRYPT, &pl), VE_ERR_PERMISSION); /* 1's shares */
  ve_buf_reset(&pl2);
  assert_int_equal(ve_buf_append(&pl2, pl.ptr, pl.len), 0);
  pl2.ptr[pl2.len - 1] ^= 1; /* last proof's response */
  rc = pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DECRYPT, &pl2);
  assert_true(rc == VE_ERR_PROOF || rc == VE_ERR_NONCANONICAL);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DECRYPT, &pl), VE_OK);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DECRYPT, &pl), VE_ERR_EXISTS);
  pf_decrypt_payload(&c, pb, 2, &pl2);
  memcpy(pl2.ptr + 1, ida, 32); /* poll B's shares presented for poll A */
  rc = pf_run1(&c, &c.trustee[1], TX_TYPE_POLL_DECRYPT, &pl2);
  assert_int_equal(rc, VE_ERR_PROOF);
  pf_decrypt_payload(&c, pa, 2, &pl);
  EXPECT(pf_run1(&c, &c.trustee[1], TX_TYPE_POLL_DECRYPT, &pl), VE_OK);
  free(pa);
  pa = poll_load(&c, ida);
  assert_int_equal(pa->status, VOTING_DONE);
  assert_int_equal(pa->voters, 1);
  for (int o = 0; o < 5; o++) assert_int_equal(pa->counts[o], ch[o]);

  /* Unknown type, unknown payload version. */
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_finish(&pl, ida), 0);
  EXPECT(pf_run1(&c, &c.organizer, 0x03ff, &pl), VE_ERR_UNKNOWN_TYPE);
  pl.ptr[0] = 7;
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_DKG_FINISH, &pl), VE_ERR_VERSION);

  /* The audit accepts poll A's history, rejected transactions included. */
  voting_audit_report_t rep;
  char reason[256] = "";
  rc = pf_audit(&c, ida, NULL, NULL, &rep, reason, sizeof reason);
  if (rc) fail_msg("audit: %s", reason);
  assert_true(rep.txs_failed > 10);
  assert_int_equal(rep.voters, 1);
  free(pa);
  free(pb);
  ve_buf_free(&pl);
  ve_buf_free(&pl2);
  pf_free(&c);
}

/* ---- cancellation ---- */

static void test_cancel(void **state) {
  (void)state;
  static pf_chain_t c;
  pf_init(&c);
  pf_trustee_keys(&c);
  voting_def_t d;
  pf_def(&c, &d, 3, 2, 5);
  uint8_t id[32];
  EXPECT(pf_create(&c, &d, id), VE_OK);
  ve_buf_t pl;
  ve_buf_init(&pl, 0);
  assert_int_equal(voting_payload_cancel(&pl, id, "the question was badly worded"), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CANCEL, &pl), VE_OK);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_CANCEL, &pl), VE_ERR_STATE);
  voting_poll_t *p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_CANCELLED);
  pf_dealing(&c, p, 1, &pl);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DKG_DEAL, &pl), VE_ERR_STATE);
  /* An admin may cancel another organizer's poll. */
  pf_def(&c, &d, 3, 2, 5);
  EXPECT(pf_create(&c, &d, id), VE_OK);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_cancel(&pl, id, ""), 0);
  EXPECT(pf_run1(&c, &c.admin, TX_TYPE_POLL_CANCEL, &pl), VE_OK);
  char reason[256] = "";
  voting_audit_report_t rep;
  int rc = pf_audit(&c, id, NULL, NULL, &rep, reason, sizeof reason);
  if (rc) fail_msg("audit: %s", reason);
  free(p);
  ve_buf_free(&pl);
  pf_free(&c);
}

/* ---- a misbehaving trustee, a false complaint, a failed DKG ---- */

static void test_misbehaving_trustee(void **state) {
  (void)state;
  static pf_chain_t c;
  pf_init(&c);
  pf_trustee_keys(&c);
  voting_def_t d;
  pf_def(&c, &d, 4, 2, 10);
  uint8_t id[32];
  EXPECT(pf_create(&c, &d, id), VE_OK);
  voting_poll_t *p = poll_load(&c, id);
  /* Trustee 2 sends trustee 3 a share that does not open. */
  ve_buf_t txs[4], pl;
  ve_buf_init(&pl, 0);
  for (uint32_t j = 1; j <= 4; j++) {
    pf_dealing(&c, p, j, &pl);
    if (j == 2) {
      /* version, poll id, 2-byte length | header, 2 commitments, PoK, shares 1-2, R_23 */
      size_t share3 = 33 + 2 + 4 + 32 * 2 + 64 + 2 * 80 + 32;
      pl.ptr[share3] ^= 0x01; /* inside trustee 3's AEAD */
    }
    ve_buf_init(&txs[j - 1], 0);
    pf_tx(&c, &txs[j - 1], &c.trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, ve_buf_slice(&pl));
  }
  int32_t res[4];
  pf_commit(&c, txs, 4, res);
  for (int i = 0; i < 4; i++) { EXPECT(res[i], VE_OK); ve_buf_free(&txs[i]); }
  free(p);
  p = poll_load(&c, id);
  /* Trustee 3 finds out, complains; trustee 4 complains falsely about 1. */
  {
    store_txn_t *t;
    ve_slice_t dealing;
    uint8_t key[VOTING_DEALING_KEY_BYTES], ctx[32], share[32];
    vote_dkg_params_t dp = {4, 2};
    voting_poll_context(ctx, pf_chain_id(), id);
    assert_int_equal(store_txn_begin(c.tc.store, false, &t), 0);
    assert_int_equal(state_get(t, ve_slice(key, voting_dealing_key(key, id, 2)), &dealing), 0);
    assert_int_equal(vote_dkg_share_open(share, &dp, 2, 3, &c.enc[2], ctx, 32, dealing.ptr, dealing.len),
                     VE_ERR_PROOF);
    store_txn_abort(t);
  }
  pf_advance_to(&c, p->def.deal_end + 1);
  ve_buf_t comp[2];
  ve_buf_init(&comp[0], 0);
  ve_buf_init(&comp[1], 0);
  complaint_by(&c, p, 2, 3, &pl);
  pf_tx(&c, &comp[0], &c.trustee[2], TX_TYPE_POLL_DKG_COMPLAIN, ve_buf_slice(&pl));
  complaint_by(&c, p, 1, 4, &pl);
  pf_tx(&c, &comp[1], &c.trustee[3], TX_TYPE_POLL_DKG_COMPLAIN, ve_buf_slice(&pl));
  pf_commit(&c, comp, 2, res);
  EXPECT(res[0], VE_OK);
  EXPECT(res[1], VE_OK);
  /* A second complaint about the same pair is refused. */
  complaint_by(&c, p, 2, 3, &pl);
  EXPECT(pf_run1(&c, &c.trustee[2], TX_TYPE_POLL_DKG_COMPLAIN, &pl), VE_ERR_EXISTS);
  ve_buf_free(&comp[0]);
  ve_buf_free(&comp[1]);
  free(p);
  p = poll_load(&c, id);
  assert_int_equal(p->upheld, 2);            /* dealer 2 */
  assert_int_equal(p->complained[1], 4);     /* by trustee 3 */
  assert_int_equal(p->complained[0], 8);     /* trustee 4's dismissed complaint */
  pf_advance_to(&c, p->def.complaint_end + 1);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_finish(&pl, id), 0);
  EXPECT(pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DKG_FINISH, &pl), VE_OK);
  free(p);
  p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_READY);
  assert_int_equal(p->qualified, 1 | 4 | 8); /* dealer 2 excluded, dealer 1 kept */
  /* The excluded dealer is still a trustee: trustees 2 and 3 decrypt. */
  pf_advance_to(&c, p->def.open_height);
  uint8_t ch[3][5] = {{1, 0, 1, 0, 0}, {0, 1, 1, 1, 0}, {1, 0, 0, 0, 0}};
  for (uint32_t v = 0; v < 3; v++) EXPECT(vote(&c, p, v, ch[v], NULL), VE_OK);
  pf_advance_to(&c, p->def.close_height + 1);
  EXPECT(decrypt(&c, p, 2), VE_OK);
  EXPECT(decrypt(&c, p, 3), VE_OK);
  free(p);
  p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_DONE);
  uint64_t want[5] = {2, 1, 2, 1, 0};
  for (int o = 0; o < 5; o++) assert_int_equal(p->counts[o], want[o]);
  voting_audit_report_t rep;
  char reason[256] = "";
  int rc = pf_audit(&c, id, NULL, NULL, &rep, reason, sizeof reason);
  if (rc) fail_msg("audit: %s", reason);
  assert_int_equal(rep.complaints, 2);
  assert_int_equal(rep.complaints_upheld, 1);

  /* A DKG in which too few deal fails, publicly and for good. */
  pf_def(&c, &d, 3, 3, 5);
  EXPECT(pf_create(&c, &d, id), VE_OK);
  free(p);
  p = poll_load(&c, id);
  for (uint32_t j = 1; j <= 2; j++) {
    pf_dealing(&c, p, j, &pl);
    EXPECT(pf_run1(&c, &c.trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, &pl), VE_OK);
  }
  pf_advance_to(&c, p->def.complaint_end + 1);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_finish(&pl, id), 0);
  EXPECT(pf_run1(&c, &c.organizer, TX_TYPE_POLL_DKG_FINISH, &pl), VE_OK);
  free(p);
  p = poll_load(&c, id);
  assert_int_equal(p->status, VOTING_FAILED);
  assert_false(p->has_key);
  pf_advance_to(&c, p->def.open_height);
  ve_buf_reset(&pl);
  assert_int_equal(ve_buf_append(&pl, "\x01", 1), 0);
  assert_int_equal(ve_buf_append(&pl, id, 32), 0);
  assert_int_equal(ve_buf_append(&pl, c.voter_id[0], 32), 0);
  assert_int_equal(ve_buf_append(&pl, "\x01\x01\x01", 3), 0);
  EXPECT(pf_run1(&c, &c.voter[0], TX_TYPE_POLL_BALLOT, &pl), VE_ERR_STATE);
  rc = pf_audit(&c, id, NULL, NULL, &rep, reason, sizeof reason);
  if (rc) fail_msg("audit of the failed poll: %s", reason);
  free(p);
  ve_buf_free(&pl);
  pf_free(&c);
}

/* ---- determinism ---- */

static void run_small(pf_chain_t *c, uint64_t seed) {
  pf_init(c);
  c->rng_seed = seed;
  pf_trustee_keys(c);
  voting_def_t d;
  pf_def(c, &d, 3, 2, 6);
  uint8_t id[32];
  EXPECT(pf_create(c, &d, id), VE_OK);
  EXPECT(pf_dkg(c, id), VE_OK);
  voting_poll_t *p = poll_load(c, id);
  pf_advance_to(c, p->def.open_height);
  uint8_t ch[5] = {0, 1, 0, 1, 1};
  for (uint32_t v = 0; v < 6; v++) EXPECT(vote(c, p, v % 4, ch, NULL), VE_OK);
  pf_advance_to(c, p->def.close_height + 1);
  EXPECT(decrypt(c, p, 1), VE_OK);
  EXPECT(decrypt(c, p, 2), VE_OK);
  free(p);
}

static void test_determinism(void **state) {
  (void)state;
  static pf_chain_t a, b;
  run_small(&a, 77);
  run_small(&b, 77);
  uint64_t h = pf_height(&a);
  assert_int_equal(h, pf_height(&b));
  for (uint64_t i = 0; i <= h; i++) {
    uint8_t ra[32], rb[32];
    pf_root(&a, i, ra);
    pf_root(&b, i, rb);
    assert_memory_equal(ra, rb, 32);
  }
  pf_free(&a);
  pf_free(&b);
}

/* ---- seeded mutations: strict decoding, no crash, no mutated ballot counted ---- */

static void mutate(ve_buf_t *b, const ve_buf_t *orig) {
  ve_buf_reset(b);
  assert_int_equal(ve_buf_append(b, orig->ptr, orig->len), 0);
  switch (vt_u32(4)) {
    case 0: /* truncate */
      b->len = vt_u32((uint32_t)orig->len);
      break;
    case 1: { /* append */
      uint8_t x[8];
      vt_bytes(x, sizeof x);
      assert_int_equal(ve_buf_append(b, x, 1 + vt_u32(8)), 0);
      break;
    }
    default: /* flip one bit */
      b->ptr[vt_u32((uint32_t)b->len)] ^= (uint8_t)(1u << vt_u32(8));
  }
}

static void test_mutations(void **state) {
  (void)state;
  vt_seed_init("poll_test mutations");
  static pf_chain_t c;
  pf_init(&c);
  c.rng_seed = vt_seed;
  pf_trustee_keys(&c);
  voting_def_t d;
  pf_def(&c, &d, 3, 2, 400);
  uint8_t id[32], id2[32];
  EXPECT(pf_create(&c, &d, id), VE_OK);
  EXPECT(pf_dkg(&c, id), VE_OK);
  voting_poll_t *p = poll_load(&c, id);
  pf_advance_to(&c, p->def.open_height);
  ve_buf_t orig, m;
  ve_buf_init(&orig, 0);
  ve_buf_init(&m, 0);
  uint8_t ch[5] = {0, 1, 1, 0, 1};
  pf_ballot(&c, p, 0, ch, &orig, NULL);
  for (int k = 0; k < 150; k++) {
    mutate(&m, &orig);
    int32_t rc = pf_run1(&c, &c.voter[0], TX_TYPE_POLL_BALLOT, &m);
    if (rc == VE_OK && (m.len != orig.len || memcmp(m.ptr, orig.ptr, m.len)))
      fail_msg("a mutated ballot was counted (iteration %d)", k);
    assert_true(rc <= 0 && rc >= VE_ERR_MIN);
  }
  EXPECT(pf_run1(&c, &c.voter[0], TX_TYPE_POLL_BALLOT, &orig), VE_OK);
  /* Definitions and dealings: whatever the ledger decides, it decides safely. */
  pf_def(&c, &d, 3, 2, 400);
  ve_buf_reset(&orig);
  assert_int_equal(voting_payload_create(&orig, &d), 0);
  for (int k = 0; k < 100; k++) {
    mutate(&m, &orig);
    int32_t rc = pf_run1(&c, &c.organizer, TX_TYPE_POLL_CREATE, &m);
    assert_true(rc <= 0 && rc >= VE_ERR_MIN);
  }
  pf_def(&c, &d, 3, 2, 400);
  EXPECT(pf_create(&c, &d, id2), VE_OK);
  voting_poll_t *p2 = poll_load(&c, id2);
  pf_dealing(&c, p2, 1, &orig);
  for (int k = 0; k < 100; k++) {
    mutate(&m, &orig);
    int32_t rc = pf_run1(&c, &c.trustee[0], TX_TYPE_POLL_DKG_DEAL, &m);
    assert_true(rc <= 0 && rc >= VE_ERR_MIN);
  }
  /* The counted ballot is the honest one; the audit agrees. */
  voting_tally_rec_t t;
  assert_int_equal(pf_tally(&c, p, &t), 0);
  assert_int_equal(t.voters, 1);
  assert_int_equal(t.ballots, 1);
  free(p);
  free(p2);
  ve_buf_free(&orig);
  ve_buf_free(&m);
  pf_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lifecycle),
      cmocka_unit_test(test_rejections),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_misbehaving_trustee),
      cmocka_unit_test(test_determinism),
      cmocka_unit_test(test_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
