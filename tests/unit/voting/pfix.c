/* pfix.c — see pfix.h. */
#include "pfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "state/state.h"

const ledger_registry_t PF_REG = {&identity_auth, {&identity_app, &voting_app}, 2, NULL};

ve_slice_t pf_chain_id(void) { return ve_slice(PF_CHAIN, strlen(PF_CHAIN)); }

void pf_tx(pf_chain_t *c, ve_buf_t *out, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload) {
  tchain_tx(&c->tc, out, kp, type, payload);
}

void pf_log_commit(pf_log_t *log, tchain_t *tc, const ve_buf_t *txs, size_t n, int32_t *results) {
  int32_t *res = calloc(n ? n : 1, sizeof *res);
  assert_non_null(res);
  tchain_commit(tc, txs, n, res);
  uint64_t height = tchain_height(tc);
  for (size_t i = 0; i < n; i++) {
    if (log->n == log->cap) {
      log->cap = log->cap ? 2 * log->cap : 256;
      log->at = realloc(log->at, log->cap * sizeof *log->at);
      assert_non_null(log->at);
    }
    pf_logged_t *l = &log->at[log->n++];
    l->height = height;
    l->code = res[i];
    ve_buf_init(&l->tx, 0);
    assert_int_equal(ve_buf_append(&l->tx, txs[i].ptr, txs[i].len), 0);
    if (results) results[i] = res[i];
  }
  free(res);
}

void pf_log_free(pf_log_t *log) {
  for (size_t i = 0; i < log->n; i++) ve_buf_free(&log->at[i].tx);
  free(log->at);
  memset(log, 0, sizeof *log);
}

int pf_log_audit(const pf_log_t *log, voting_audit_t *a, voting_audit_report_t *rep, char *reason, size_t rl) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < log->n; i++) {
    ledger_tx_t tx;
    assert_int_equal(ledger_tx_decode(ve_buf_slice(&log->at[i].tx), &tx), 0);
    int pre = 1;
    if (tx.type == TX_TYPE_POLL_BALLOT && voting_audit_wants(a, &tx) && log->at[i].code == 0) {
      pre = voting_audit_ballot_check(a, &tx);
      if (pre == VE_ERR_STATE) pre = 1;
    }
    rc = voting_audit_tx(a, log->at[i].height, &tx, log->at[i].code, pre, reason, rl);
  }
  return rc ? rc : voting_audit_finish(a, rep, reason, rl);
}

void pf_commit(pf_chain_t *c, ve_buf_t *txs, size_t n, int32_t *results) {
  pf_log_commit(&c->log, &c->tc, txs, n, results);
}

int32_t pf_run_raw(pf_chain_t *c, const ve_buf_t *tx) {
  ve_buf_t copy;
  ve_buf_init(&copy, 0);
  assert_int_equal(ve_buf_append(&copy, tx->ptr, tx->len), 0);
  int32_t res;
  pf_commit(c, &copy, 1, &res);
  ve_buf_free(&copy);
  return res;
}

int32_t pf_run1(pf_chain_t *c, const vcrypto_keypair_t *kp, uint32_t type, const ve_buf_t *payload) {
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  pf_tx(c, &tx, kp, type, ve_buf_slice(payload));
  int32_t res = pf_run_raw(c, &tx);
  ve_buf_free(&tx);
  return res;
}

uint64_t pf_height(pf_chain_t *c) { return tchain_height(&c->tc); }

void pf_advance_to(pf_chain_t *c, uint64_t h) {
  while (pf_height(c) + 1 < h) pf_commit(c, NULL, 0, NULL);
}

void pf_root(pf_chain_t *c, uint64_t h, uint8_t root[32]) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  assert_int_equal(state_root_at(t, h, root), 0);
  store_txn_abort(t);
}

void pf_founders(tchain_t *tc, vcrypto_keypair_t *admin, vcrypto_keypair_t *registrar,
                 vcrypto_keypair_t *organizer, uint8_t organizer_id[32], vcrypto_keypair_t *trustee,
                 uint8_t (*trustee_id)[32], uint32_t n) {
  tchain_key(admin, NULL, 1, 0);
  tchain_key(registrar, NULL, 2, 0);
  tchain_key(organizer, organizer_id, 3, 0);
  tchain_authority(tc, "ministry", admin, ROLE_ADMIN);
  tchain_authority(tc, "city registry", registrar, ROLE_REGISTRAR);
  tchain_authority(tc, "city hall", organizer, ROLE_POLL_ORGANIZER);
  for (uint32_t j = 0; j < n; j++) {
    char name[32];
    tchain_key(&trustee[j], trustee_id[j], 6, (uint8_t)j);
    snprintf(name, sizeof name, "trustee %u", j + 1);
    tchain_authority(tc, name, &trustee[j], ROLE_TRUSTEE);
  }
}

void pf_init(pf_chain_t *c) {
  memset(c, 0, sizeof *c);
  assert_int_equal(vcrypto_init(), 0);
  assert_int_equal(vote_init(), 0);
  tchain_init(&c->tc, PF_CHAIN, &PF_REG);
  tchain_key(&c->stranger, c->stranger_id, 5, 0);
  pf_founders(&c->tc, &c->admin, &c->registrar, &c->organizer, c->organizer_id, c->trustee, c->trustee_id,
              PF_TRUSTEES);
  for (uint32_t j = 0; j < PF_TRUSTEES; j++) {
    uint8_t seed[32];
    memset(seed, 0x70 + (int)j, sizeof seed);
    vote_keypair_from_seed(&c->enc[j], seed);
  }
  tchain_open(&c->tc, NULL);
  /* Block 1: the citizens, and the stranger (a citizen in no district). */
  ve_buf_t txs[PF_VOTERS + 1], p;
  ve_buf_init(&p, 0);
  uint8_t digest[32];
  memset(digest, 0xab, 32);
  for (uint32_t v = 0; v <= PF_VOTERS; v++) {
    identity_attr_t a;
    memset(&a, 0, sizeof a);
    strcpy(a.key, "district");
    strcpy(a.value, v % 2 ? "d2" : "d1");
    ve_buf_reset(&p);
    if (v < PF_VOTERS) {
      tchain_key(&c->voter[v], c->voter_id[v], 9, (uint8_t)v);
      assert_int_equal(identity_payload_register(&p, c->voter[v].pk, digest, &a, 1), 0);
    } else {
      assert_int_equal(identity_payload_register(&p, c->stranger.pk, digest, NULL, 0), 0);
    }
    ve_buf_init(&txs[v], 0);
    pf_tx(c, &txs[v], &c->registrar, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(&p));
  }
  int32_t res[PF_VOTERS + 1];
  pf_commit(c, txs, PF_VOTERS + 1, res);
  for (uint32_t v = 0; v <= PF_VOTERS; v++) {
    assert_int_equal(res[v], 0);
    ve_buf_free(&txs[v]);
  }
  ve_buf_free(&p);
}

void pf_free(pf_chain_t *c) {
  pf_log_free(&c->log);
  tchain_free(&c->tc);
}

void pf_trustee_keys(pf_chain_t *c) {
  ve_buf_t txs[PF_TRUSTEES], p;
  ve_buf_init(&p, 0);
  for (uint32_t j = 0; j < PF_TRUSTEES; j++) {
    uint8_t seed[32];
    memset(seed, (int)j, sizeof seed);
    ve_buf_reset(&p);
    assert_int_equal(voting_payload_trustee_key(&p, pf_chain_id(), c->trustee_id[j], &c->enc[j], seed), 0);
    ve_buf_init(&txs[j], 0);
    pf_tx(c, &txs[j], &c->trustee[j], TX_TYPE_POLL_TRUSTEE_KEY, ve_buf_slice(&p));
  }
  int32_t res[PF_TRUSTEES];
  pf_commit(c, txs, PF_TRUSTEES, res);
  for (uint32_t j = 0; j < PF_TRUSTEES; j++) {
    assert_int_equal(res[j], 0);
    ve_buf_free(&txs[j]);
  }
  ve_buf_free(&p);
}

void pf_def(pf_chain_t *c, voting_def_t *d, uint32_t n, uint32_t t, uint64_t window) {
  memset(d, 0, sizeof *d);
  uint64_t h0 = pf_height(c) + 1;
  strcpy(d->title, "Городской опрос: метро и переселение");
  d->n_questions = 2;
  strcpy(d->q[0].text, "Name of the new metro line?");
  d->q[0].first = 0, d->q[0].options = 2, d->q[0].min = 1, d->q[0].max = 1;
  strcpy(d->option[0], "Kalininskaya");
  strcpy(d->option[1], "Solntsevskaya");
  strcpy(d->q[1].text, "Which rehousing options do you accept?");
  d->q[1].first = 2, d->q[1].options = 3, d->q[1].min = 0, d->q[1].max = 2;
  strcpy(d->option[2], "same district");
  strcpy(d->option[3], "money");
  strcpy(d->option[4], "another district");
  d->n_options = 5;
  d->deal_end = h0 + 3;
  d->complaint_end = h0 + 5;
  d->open_height = h0 + 6;
  d->close_height = h0 + 6 + window;
  d->threshold = t;
  d->n_trustees = n;
  for (uint32_t j = 0; j < n; j++) memcpy(d->trustees[j], c->trustee_id[j], 32);
}

int32_t pf_create(pf_chain_t *c, const voting_def_t *d, uint8_t id[32]) {
  ve_buf_t p;
  ve_buf_init(&p, 0);
  assert_int_equal(voting_payload_create(&p, d), 0);
  if (id) voting_poll_id(id, c->organizer.pk, c->tc.seq);
  int32_t rc = pf_run1(c, &c->organizer, TX_TYPE_POLL_CREATE, &p);
  ve_buf_free(&p);
  return rc;
}

int pf_poll(pf_chain_t *c, const uint8_t id[32], voting_poll_t *out) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  int rc = voting_poll_get(t, id, out);
  store_txn_abort(t);
  return rc;
}

int pf_tally(pf_chain_t *c, const voting_poll_t *p, voting_tally_rec_t *out) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  int rc = voting_tally_get(t, p, out);
  store_txn_abort(t);
  return rc;
}

void pf_dealing(pf_chain_t *c, const voting_poll_t *p, uint32_t j, ve_buf_t *payload) {
  vote_dkg_params_t dp = {p->def.n_trustees, p->def.threshold};
  uint8_t ctx[32], seed[32];
  voting_poll_context(ctx, pf_chain_id(), p->id);
  memset(seed, 0x30 + (int)j, sizeof seed);
  ve_buf_t d;
  ve_buf_init(&d, 0);
  assert_int_equal(vote_dkg_deal(&d, &dp, j, (const uint8_t(*)[32])p->enc_pk, ctx, 32, seed), 0);
  ve_buf_reset(payload);
  assert_int_equal(voting_payload_deal(payload, p->id, ve_buf_slice(&d)), 0);
  ve_buf_free(&d);
}

int32_t pf_dkg(pf_chain_t *c, const uint8_t id[32]) {
  voting_poll_t *p = malloc(sizeof *p);
  assert_int_equal(pf_poll(c, id, p), 0);
  uint32_t n = p->def.n_trustees;
  ve_buf_t txs[PF_TRUSTEES], pl;
  ve_buf_init(&pl, 0);
  for (uint32_t j = 1; j <= n; j++) {
    pf_dealing(c, p, j, &pl);
    ve_buf_init(&txs[j - 1], 0);
    pf_tx(c, &txs[j - 1], &c->trustee[j - 1], TX_TYPE_POLL_DKG_DEAL, ve_buf_slice(&pl));
  }
  int32_t res[PF_TRUSTEES];
  pf_commit(c, txs, n, res);
  for (uint32_t j = 0; j < n; j++) {
    assert_int_equal(res[j], 0);
    ve_buf_free(&txs[j]);
  }
  pf_advance_to(c, p->def.complaint_end + 1);
  ve_buf_reset(&pl);
  assert_int_equal(voting_payload_finish(&pl, id), 0);
  int32_t rc = pf_run1(c, &c->organizer, TX_TYPE_POLL_DKG_FINISH, &pl);
  ve_buf_free(&pl);
  free(p);
  return rc;
}

int pf_secret(pf_chain_t *c, const voting_poll_t *p, uint32_t j, uint8_t x[32]) {
  uint32_t n = p->def.n_trustees;
  ve_slice_t dealings[PF_TRUSTEES];
  store_txn_t *t;
  assert_int_equal(store_txn_begin(c->tc.store, false, &t), 0);
  for (uint32_t i = 1; i <= n; i++) {
    uint8_t key[VOTING_DEALING_KEY_BYTES];
    dealings[i - 1] = ve_slice(NULL, 0);
    if (!(p->dealt & (1u << (i - 1)))) continue;
    assert_int_equal(state_get(t, ve_slice(key, voting_dealing_key(key, p->id, i)), &dealings[i - 1]), 0);
  }
  vote_dkg_result_t res;
  memset(&res, 0, sizeof res);
  res.n = n;
  res.t = p->def.threshold;
  res.qualified = p->qualified;
  memcpy(res.pk, p->pk, 32);
  memcpy(res.vk, p->vk, sizeof p->vk);
  uint8_t ctx[32];
  voting_poll_context(ctx, pf_chain_id(), p->id);
  int rc = vote_dkg_secret_share(x, &res, j, &c->enc[j - 1], ctx, 32, dealings);
  store_txn_abort(t);
  return rc;
}

void pf_ballot(pf_chain_t *c, const voting_poll_t *p, uint32_t v, const uint8_t *choices, ve_buf_t *payload,
               uint8_t tracker[32]) {
  uint8_t seed[32], in[16];
  ve_be64_put(in, c->rng_seed);
  ve_be64_put(in + 8, c->rng_ctr++);
  vcrypto_hash(seed, "test/ballot-seed", in, sizeof in);
  ve_buf_reset(payload);
  assert_int_equal(
      voting_ballot_build(payload, tracker, p, pf_chain_id(), c->voter_id[v], choices, p->def.n_options, seed), 0);
}

void pf_decrypt_payload(pf_chain_t *c, const voting_poll_t *p, uint32_t j, ve_buf_t *payload) {
  uint8_t x[32], seed[32];
  assert_int_equal(pf_secret(c, p, j, x), 0);
  voting_tally_rec_t tally;
  assert_int_equal(pf_tally(c, p, &tally), 0);
  memset(seed, 0x50 + (int)j, sizeof seed);
  ve_buf_reset(payload);
  assert_int_equal(voting_decrypt_build(payload, p, &tally, pf_chain_id(), j, x, seed), 0);
}

int pf_audit(pf_chain_t *c, const uint8_t id[32], const voting_poll_t *p_override,
             const voting_tally_rec_t *t_override, voting_audit_report_t *rep, char *reason, size_t rl) {
  voting_poll_t *p = malloc(sizeof *p);
  voting_tally_rec_t *tr = malloc(sizeof *tr);
  assert_int_equal(pf_poll(c, id, p), 0);
  bool have_tally = pf_tally(c, p, tr) == 0;
  if (p_override) *p = *p_override;
  if (t_override) *tr = *t_override, have_tally = true;
  voting_audit_t *a;
  int rc = voting_audit_new(&a, pf_chain_id(), p, have_tally ? tr : NULL, reason, rl);
  if (rc == 0) rc = pf_log_audit(&c->log, a, rep, reason, rl);
  voting_audit_free(a);
  free(p);
  free(tr);
  return rc;
}
