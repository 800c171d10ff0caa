/* poll_audit_test.c — the audit engine fed honest and tampered histories.
 *
 * One poll runs to its result on a memory-store chain (pfix.h), with re-votes,
 * a rejected bad-proof ballot and a rejected bad decryption share in the log.
 * The honest history audits clean with the plaintext counts. Then each test
 * changes one thing — what the chain certifies (the poll or tally record) or
 * what the blocks say (a result code, a ballot's bytes or height, a share) —
 * and the audit must fail with a reason. Histories with broken certificates
 * or transaction roots are the CLI's part (tests/integration/polls_test.c). */
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

static pf_chain_t g_c;
static uint8_t g_id[32];
static uint64_t g_want[5];
static size_t g_bad_ballot, g_bad_share, g_good_ballot, g_good_share, g_replaced_first;

static void log_last(size_t *where) { *where = g_c.log.n - 1; }

static int setup(void **state) {
  (void)state;
  pf_chain_t *c = &g_c;
  pf_init(c);
  c->rng_seed = 4242;
  pf_trustee_keys(c);
  voting_def_t d;
  pf_def(c, &d, 3, 2, 12);
  assert_int_equal(pf_create(c, &d, g_id), 0);
  assert_int_equal(pf_dkg(c, g_id), 0);
  voting_poll_t *p = malloc(sizeof *p);
  assert_int_equal(pf_poll(c, g_id, p), 0);
  pf_advance_to(c, p->def.open_height);
  ve_buf_t pl;
  ve_buf_init(&pl, 0);
  uint8_t latest[10][5];
  for (uint32_t v = 0; v < 10; v++) {
    memset(latest[v], 0, 5);
    latest[v][v % 2] = 1;
    latest[v][2 + v % 3] = 1;
    pf_ballot(c, p, v, latest[v], &pl, NULL);
    assert_int_equal(pf_run1(c, &c->voter[v], TX_TYPE_POLL_BALLOT, &pl), 0);
    if (v == 3) log_last(&g_replaced_first);
  }
  /* Voter 3 changes its mind; voter 4's tampered ballot is rejected. */
  latest[3][0] = 1, latest[3][1] = 0, latest[3][2] = latest[3][3] = latest[3][4] = 0;
  pf_ballot(c, p, 3, latest[3], &pl, NULL);
  assert_int_equal(pf_run1(c, &c->voter[3], TX_TYPE_POLL_BALLOT, &pl), 0);
  log_last(&g_good_ballot);
  pf_ballot(c, p, 4, latest[1], &pl, NULL);
  pl.ptr[pl.len - 500] ^= 4;
  assert_int_not_equal(pf_run1(c, &c->voter[4], TX_TYPE_POLL_BALLOT, &pl), 0);
  log_last(&g_bad_ballot);
  pf_advance_to(c, p->def.close_height + 1);
  pf_decrypt_payload(c, p, 2, &pl);
  pl.ptr[pl.len - 40] ^= 1;
  assert_int_not_equal(pf_run1(c, &c->trustee[1], TX_TYPE_POLL_DECRYPT, &pl), 0);
  log_last(&g_bad_share);
  pf_decrypt_payload(c, p, 1, &pl);
  assert_int_equal(pf_run1(c, &c->trustee[0], TX_TYPE_POLL_DECRYPT, &pl), 0);
  log_last(&g_good_share);
  pf_decrypt_payload(c, p, 3, &pl);
  assert_int_equal(pf_run1(c, &c->trustee[2], TX_TYPE_POLL_DECRYPT, &pl), 0);
  for (uint32_t v = 0; v < 10; v++)
    for (int o = 0; o < 5; o++) g_want[o] += latest[v][o];
  ve_buf_free(&pl);
  free(p);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  pf_free(&g_c);
  return 0;
}

/* Audits with optional replacements; expects success (want_ok) or a failure. */
static void audit_expect(bool want_ok, const voting_poll_t *p, const voting_tally_rec_t *t, const char *what) {
  voting_audit_report_t rep;
  char reason[VOTING_AUDIT_REASON_BYTES] = "";
  int rc = pf_audit(&g_c, g_id, p, t, &rep, reason, sizeof reason);
  if (want_ok && rc) fail_msg("%s: audit failed: %s", what, reason);
  if (!want_ok && rc == 0) fail_msg("%s: audit passed", what);
  if (!want_ok) {
    assert_true(reason[0] != 0);
    fprintf(stderr, "  %-40s -> %s\n", what, reason);
  }
  if (want_ok) {
    assert_true(rep.result_checked);
    for (int o = 0; o < 5; o++) assert_int_equal(rep.counts[o], g_want[o]);
    assert_int_equal(rep.voters, 10);
    assert_int_equal(rep.replaced, 1);
    assert_int_equal(rep.txs_failed, 2);
  }
}

static voting_poll_t *record(void) {
  voting_poll_t *p = malloc(sizeof *p);
  assert_int_equal(pf_poll(&g_c, g_id, p), 0);
  return p;
}

static void test_honest(void **state) {
  (void)state;
  audit_expect(true, NULL, NULL, "honest");
}

static void test_certified_records_tampered(void **state) {
  (void)state;
  voting_poll_t *p = record();
  voting_poll_t *q = malloc(sizeof *q);
  *q = *p, q->counts[0]++, q->counts[1]--;
  audit_expect(false, q, NULL, "result counts moved between options");
  *q = *p, q->tally[2][40] ^= 1;
  audit_expect(false, q, NULL, "result's tally changed");
  *q = *p, q->voters++;
  audit_expect(false, q, NULL, "voters inflated");
  *q = *p, q->pk[5] ^= 1;
  audit_expect(false, q, NULL, "election key replaced");
  *q = *p, q->vk[1][0] ^= 1;
  audit_expect(false, q, NULL, "a trustee's verification key replaced");
  *q = *p, q->used = 3;
  audit_expect(false, q, NULL, "other trustees claimed");
  *q = *p, q->dealt = 3;
  audit_expect(false, q, NULL, "a dealing dropped from the record");
  voting_tally_rec_t t;
  assert_int_equal(pf_tally(&g_c, p, &t), 0);
  voting_tally_rec_t u = t;
  u.cts[0][10] ^= 1;
  audit_expect(false, NULL, &u, "running tally changed");
  u = t, u.ballots++;
  audit_expect(false, NULL, &u, "ballot count changed");
  free(p);
  free(q);
}

/* Runs the audit with log entry i changed by fn, then restores it. */
static void with_log(size_t i, void (*fn)(pf_logged_t *), const char *what) {
  pf_logged_t saved = g_c.log.at[i];
  ve_buf_t copy;
  ve_buf_init(&copy, 0);
  assert_int_equal(ve_buf_append(&copy, saved.tx.ptr, saved.tx.len), 0);
  fn(&g_c.log.at[i]);
  audit_expect(false, NULL, NULL, what);
  ve_buf_free(&g_c.log.at[i].tx);
  g_c.log.at[i] = saved;
  g_c.log.at[i].tx = copy;
}

static void mark_ok(pf_logged_t *l) { l->code = 0; }
static void mark_failed(pf_logged_t *l) { l->code = VE_ERR_PROOF; }
static void move_late(pf_logged_t *l) { l->height += 100; }

/* Rebuilds the tx with its payload byte at (len - off) flipped; the signature
 * is not the audit's business (the block's tx root and signatures are). */
static void flip_payload(pf_logged_t *l, size_t off) {
  ledger_tx_t tx;
  assert_int_equal(ledger_tx_decode(ve_buf_slice(&l->tx), &tx), 0);
  uint8_t *pl = malloc(tx.payload.len);
  memcpy(pl, tx.payload.ptr, tx.payload.len);
  pl[tx.payload.len - off] ^= 2;
  tx.payload = ve_slice(pl, tx.payload.len);
  ve_buf_t out;
  ve_buf_init(&out, 0);
  assert_int_equal(ledger_tx_encode(&tx, &out), 0);
  free(pl);
  ve_buf_free(&l->tx);
  l->tx = out;
}
static void flip_ballot(pf_logged_t *l) { flip_payload(l, 300); }
static void flip_share(pf_logged_t *l) { flip_payload(l, 20); }

static void test_history_tampered(void **state) {
  (void)state;
  with_log(g_bad_ballot, mark_ok, "rejected bad ballot counted");
  with_log(g_good_ballot, mark_failed, "a counted re-vote hidden");
  with_log(g_replaced_first, mark_failed, "a replaced ballot hidden");
  with_log(g_good_ballot, flip_ballot, "a counted ballot's bytes changed");
  with_log(g_good_ballot, move_late, "a ballot moved after the close");
  with_log(g_bad_share, mark_ok, "rejected bad share counted");
  with_log(g_good_share, flip_share, "a share's bytes changed");
  with_log(g_good_share, mark_failed, "a decryption hidden");
  /* And the honest history still audits clean after all that. */
  audit_expect(true, NULL, NULL, "honest again");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_honest),
      cmocka_unit_test(test_certified_records_tampered),
      cmocka_unit_test(test_history_tampered),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
