/* cert_test.c — commit certificates, equivocation evidence and proposer selection.
 *
 * Certificates: a genuine one verifies; tampered signatures, insufficient power
 * (by count and by weight), wrong height / id / chain / set, out-of-range or
 * unsorted indices, prevote signatures posing as precommits are refused.
 * Evidence: conflicting votes and proposals verify; identical pairs, swapped
 * order, non-members and bad signatures are refused; evidence built from two
 * conflicting certificates names exactly the double signers.
 * Proposer selection: deterministic, each validator proposes in proportion to its
 * power over a cycle, large powers are scaled without starving anyone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "consensus/cons_int.h"

#define N 7
static vcrypto_keypair_t keys[N];
static cons_valset_t vs; /* powers 1..7, total 28, quorum needs > 18.67 */
static const char *CHAIN = "veche-test";

static int setup(void **state) {
  (void)state;
  assert_int_equal(vcrypto_init(), 0);
  memset(&vs, 0, sizeof vs);
  vs.count = N;
  for (int i = 0; i < N; i++) {
    uint8_t seed[32] = {(uint8_t)(i + 1), 0xc0};
    vcrypto_keypair_from_seed(&keys[i], seed);
    memcpy(vs.v[i].pk, keys[i].pk, 32);
    vs.v[i].power = (uint64_t)i + 1;
  }
  return 0;
}

static void precommit_sig(uint8_t sig[64], int signer, uint64_t h, uint32_t r, const uint8_t id[32],
                          const char *chain) {
  cons_vote_t v = {h, r, CONS_VOTE_PRECOMMIT, (uint32_t)signer, true, {0}, {0}};
  memcpy(v.id, id, 32);
  cons_vote_sign(&v, &keys[signer], chain);
  memcpy(sig, v.sig, 64);
}

/* Certificate over the validators whose bit is set in mask. */
static void make_cert(ve_buf_t *out, unsigned mask, uint64_t h, uint32_t r, const uint8_t id[32]) {
  cons_cert_t c;
  memset(&c, 0, sizeof c);
  c.height = h;
  c.round = r;
  memcpy(c.id, id, 32);
  for (int i = 0; i < N; i++) {
    if (!(mask & (1u << i))) continue;
    c.sigs[c.count].index = (uint32_t)i;
    precommit_sig(c.sigs[c.count].sig, i, h, r, id, CHAIN);
    c.count++;
  }
  ve_buf_init(out, CONS_CERT_BYTES_MAX);
  assert_int_equal(cons_cert_encode(out, &c), 0);
}

static const uint8_t ID_A[32] = {0xaa, 1};
static const uint8_t ID_B[32] = {0xbb, 2};

static void test_cert_accepts_quorum(void **state) {
  (void)state;
  ve_buf_t c;
  /* validators 3..6: power 4+5+6+7 = 22 > 2/3 of 28 */
  make_cert(&c, 0x78, 10, 2, ID_A);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_A, ve_buf_slice(&c)), 0);
  cons_cert_info_t info;
  assert_int_equal(cons_cert_info(ve_buf_slice(&c), &info), 0);
  assert_int_equal(info.height, 10);
  assert_int_equal(info.round, 2);
  assert_int_equal(info.count, 4);
  ve_buf_free(&c);
}

static void test_cert_rejects(void **state) {
  (void)state;
  ve_buf_t c;
  /* power 2+5+6+7 = 20 > 18.67 passes; 5+6+7 = 18 fails */
  make_cert(&c, 0x72, 10, 0, ID_A);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_A, ve_buf_slice(&c)), 0);
  ve_buf_free(&c);
  make_cert(&c, 0x70, 10, 0, ID_A);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_A, ve_buf_slice(&c)), VE_ERR_QUORUM);
  ve_buf_free(&c);
  /* five of seven validators is more than 2/3 by count, but the light ones hold
   * 1+2+3+4+5 = 15 of 28: weight, not count, decides */
  make_cert(&c, 0x1f, 10, 0, ID_A);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_A, ve_buf_slice(&c)), VE_ERR_QUORUM);
  ve_buf_free(&c);

  make_cert(&c, 0x7f, 10, 0, ID_A);
  ve_slice_t s = ve_buf_slice(&c);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 11, ID_A, s), VE_ERR_HEIGHT);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_B, s), VE_ERR_HASH_MISMATCH);
  assert_int_equal(cons_cert_verify(&vs, "other-chain", 10, ID_A, s), VE_ERR_BAD_SIG);
  cons_valset_t other = vs;
  other.v[6].pk[0] ^= 1; /* a different set */
  assert_int_not_equal(cons_cert_verify(&other, CHAIN, 10, ID_A, s), 0);
  cons_valset_t small = vs;
  small.count = 5; /* index 5, 6 outside the set */
  assert_int_equal(cons_cert_verify(&small, CHAIN, 10, ID_A, s), VE_ERR_INVALID);
  /* tamper with each signature in turn */
  for (size_t i = 0; i < 7; i++) {
    size_t off = 37 + 65 * i; /* header 36 bytes, then (index, sig) pairs */
    c.ptr[off + 10] ^= 0x20;
    assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_A, ve_buf_slice(&c)), VE_ERR_BAD_SIG);
    c.ptr[off + 10] ^= 0x20;
  }
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_A, ve_buf_slice(&c)), 0);
  ve_buf_append(&c, "", 1);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 10, ID_A, ve_buf_slice(&c)), VE_ERR_TRAILING);
  ve_buf_free(&c);
}

static void test_cert_rejects_noncanonical_and_prevotes(void **state) {
  (void)state;
  cons_cert_t c;
  memset(&c, 0, sizeof c);
  c.height = 3;
  memcpy(c.id, ID_A, 32);
  c.count = 7;
  for (int i = 0; i < 7; i++) {
    c.sigs[i].index = (uint32_t)i;
    precommit_sig(c.sigs[i].sig, i, 3, 0, ID_A, CHAIN);
  }
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_cert_encode(&b, &c), 0);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 3, ID_A, ve_buf_slice(&b)), 0);
  /* duplicate index: counted power must not be inflated by repeating a signer */
  size_t first = 1 + 1 + 1 + 32 + 1; /* ver, h, r, id, count */
  memcpy(b.ptr + first + 65 * 1, b.ptr + first + 65 * 6, 65); /* slot 1 := signer 6 */
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 3, ID_A, ve_buf_slice(&b)), VE_ERR_NONCANONICAL);
  ve_buf_free(&b);
  /* prevote signatures do not make a certificate */
  for (int i = 0; i < 7; i++) {
    cons_vote_t v = {3, 0, CONS_VOTE_PREVOTE, (uint32_t)i, true, {0}, {0}};
    memcpy(v.id, ID_A, 32);
    cons_vote_sign(&v, &keys[i], CHAIN);
    memcpy(c.sigs[i].sig, v.sig, 64);
  }
  ve_buf_init(&b, 0);
  assert_int_equal(cons_cert_encode(&b, &c), 0);
  assert_int_equal(cons_cert_verify(&vs, CHAIN, 3, ID_A, ve_buf_slice(&b)), VE_ERR_BAD_SIG);
  ve_buf_free(&b);
}

static cons_vote_t vote(int signer, uint8_t type, uint32_t r, const uint8_t *id) {
  cons_vote_t v = {20, r, type, (uint32_t)signer, id != NULL, {0}, {0}};
  if (id) memcpy(v.id, id, 32);
  cons_vote_sign(&v, &keys[signer], CHAIN);
  return v;
}

static void test_vote_evidence(void **state) {
  (void)state;
  cons_vote_t a = vote(4, CONS_VOTE_PREVOTE, 1, ID_A);
  cons_vote_t b = vote(4, CONS_VOTE_PREVOTE, 1, NULL);
  ve_buf_t e1, e2;
  ve_buf_init(&e1, 0);
  ve_buf_init(&e2, 0);
  assert_int_equal(cons_evidence_vote_encode(&e1, keys[4].pk, &a, &b), 0);
  assert_int_equal(cons_evidence_vote_encode(&e2, keys[4].pk, &b, &a), 0);
  /* one encoding regardless of argument order */
  assert_int_equal(e1.len, e2.len);
  assert_memory_equal(e1.ptr, e2.ptr, e1.len);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e1)), 0);
  cons_evidence_info_t info;
  assert_int_equal(cons_evidence_info(ve_buf_slice(&e1), &info), 0);
  assert_int_equal(info.kind, CONS_EVIDENCE_VOTE);
  assert_int_equal(info.type, CONS_VOTE_PREVOTE);
  assert_int_equal(info.height, 20);
  assert_int_equal(info.round, 1);
  assert_memory_equal(info.pk, keys[4].pk, 32);
  /* wrong chain, non-member, tampered signature */
  assert_int_equal(cons_evidence_verify(&vs, "other", ve_buf_slice(&e1)), VE_ERR_BAD_SIG);
  cons_valset_t without = vs;
  without.v[4].pk[1] ^= 1;
  assert_int_equal(cons_evidence_verify(&without, CHAIN, ve_buf_slice(&e1)), VE_ERR_UNKNOWN_SIGNER);
  e1.ptr[e1.len - 1] ^= 1;
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e1)), VE_ERR_BAD_SIG);
  e1.ptr[e1.len - 1] ^= 1;
  /* a signature by someone else for the same content */
  cons_vote_t forged = vote(3, CONS_VOTE_PREVOTE, 1, ID_B);
  ve_buf_t e3;
  ve_buf_init(&e3, 0);
  assert_int_equal(cons_evidence_vote_encode(&e3, keys[4].pk, &a, &forged), 0);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e3)), VE_ERR_BAD_SIG);
  ve_buf_free(&e1);
  ve_buf_free(&e2);
  ve_buf_free(&e3);
}

static void test_evidence_rejects_non_conflicts(void **state) {
  (void)state;
  cons_vote_t a = vote(2, CONS_VOTE_PRECOMMIT, 0, ID_A);
  cons_vote_t b = vote(2, CONS_VOTE_PRECOMMIT, 0, ID_B);
  ve_buf_t e;
  ve_buf_init(&e, 0);
  assert_int_equal(cons_evidence_vote_encode(&e, keys[2].pk, &a, &b), 0);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e)), 0);
  /* layout end: ... | A: has_id id sig | B: has_id id sig ; make B a copy of A */
  size_t side = 1 + 32 + 64;
  uint8_t *pa = e.ptr + e.len - 2 * side, *pb = e.ptr + e.len - side;
  uint8_t saved[1 + 32 + 64];
  memcpy(saved, pb, side);
  memcpy(pb, pa, side);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e)), VE_ERR_NONCANONICAL);
  /* swapped order is not canonical either */
  memcpy(pb, pa, side);
  memcpy(pa, saved, side);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e)), VE_ERR_NONCANONICAL);
  ve_buf_free(&e);
}

static void test_proposal_evidence(void **state) {
  (void)state;
  cons_proposal_t a = {20, 3, -1, {0}, {0}, {0}};
  cons_proposal_t b = {20, 3, 1, {0}, {0}, {0}};
  memcpy(a.id, ID_A, 32);
  memcpy(b.id, ID_A, 32); /* same value, different pol round: still two proposals */
  cons_proposal_sign(&a, &keys[5], CHAIN);
  cons_proposal_sign(&b, &keys[5], CHAIN);
  ve_buf_t e;
  ve_buf_init(&e, 0);
  assert_int_equal(cons_evidence_proposal_encode(&e, keys[5].pk, &a, &b), 0);
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e)), 0);
  cons_evidence_info_t info;
  assert_int_equal(cons_evidence_info(ve_buf_slice(&e), &info), 0);
  assert_int_equal(info.kind, CONS_EVIDENCE_PROPOSAL);
  assert_int_equal(info.round, 3);
  e.ptr[e.len - 5] ^= 4;
  assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&e)), VE_ERR_BAD_SIG);
  ve_buf_free(&e);
}

static void test_evidence_from_conflicting_certs(void **state) {
  (void)state;
  ve_buf_t ca, cb;
  /* A: 0,3,4,5,6 (23); B: 1,2,3,4,5,6 (27); double signers: 3,4,5,6 */
  make_cert(&ca, 0x79, 30, 1, ID_A);
  make_cert(&cb, 0x7e, 30, 1, ID_B);
  ve_buf_t ev[VE_VALIDATORS_MAX];
  size_t n = 0;
  assert_int_equal(cons_evidence_from_certs(&vs, CHAIN, 30, ID_A, ve_buf_slice(&ca), ID_B,
                                            ve_buf_slice(&cb), ev, &n), 0);
  assert_int_equal(n, 4);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(cons_evidence_verify(&vs, CHAIN, ve_buf_slice(&ev[i])), 0);
    cons_evidence_info_t info;
    assert_int_equal(cons_evidence_info(ve_buf_slice(&ev[i]), &info), 0);
    assert_memory_equal(info.pk, keys[3 + i].pk, 32);
    assert_int_equal(info.type, CONS_VOTE_PRECOMMIT);
    ve_buf_free(&ev[i]);
  }
  ve_buf_free(&cb);
  /* different rounds: no same-round evidence */
  make_cert(&cb, 0x7e, 30, 2, ID_B);
  assert_int_equal(cons_evidence_from_certs(&vs, CHAIN, 30, ID_A, ve_buf_slice(&ca), ID_B,
                                            ve_buf_slice(&cb), ev, &n), 0);
  assert_int_equal(n, 0);
  /* an invalid certificate is refused */
  cb.ptr[cb.len - 3] ^= 1;
  assert_int_not_equal(cons_evidence_from_certs(&vs, CHAIN, 30, ID_A, ve_buf_slice(&ca), ID_B,
                                                ve_buf_slice(&cb), ev, &n), 0);
  ve_buf_free(&ca);
  ve_buf_free(&cb);
}

static void test_proposer_weighting(void **state) {
  (void)state;
  /* Over one full cycle (sum of powers = 28 positions) each validator proposes
   * exactly its power times, and never more than ceil(28/power)... spacing is even:
   * a validator with power p waits at most ceil(28/p)+1 positions between turns. */
  unsigned count[N] = {0};
  int last[N];
  for (int i = 0; i < N; i++) last[i] = -1;
  for (uint32_t pos = 0; pos < 28; pos++) {
    uint32_t p = cons_proposer(&vs, pos, 0);
    assert_true(p < N);
    count[p]++;
    last[p] = (int)pos;
  }
  for (int i = 0; i < N; i++) assert_int_equal(count[i], i + 1);
  for (int i = 0; i < N; i++) {
    int prev = -1, maxgap = 0;
    for (uint32_t pos = 0; pos < 56; pos++) {
      if (cons_proposer(&vs, pos, 0) != (uint32_t)i) continue;
      if (prev >= 0 && (int)pos - prev > maxgap) maxgap = (int)pos - prev;
      prev = (int)pos;
    }
    assert_true(maxgap <= 28 / (i + 1) + 2);
  }
  /* height and round both advance the rotation; deterministic */
  assert_int_equal(cons_proposer(&vs, 5, 3), cons_proposer(&vs, 8, 0));
  assert_int_equal(cons_proposer(&vs, 5, 3), cons_proposer(&vs, 5, 3));
  (void)last;
}

static void test_proposer_large_powers(void **state) {
  (void)state;
  cons_valset_t big = vs;
  big.v[0].power = CONS_POWER_MAX; /* dwarfs everyone */
  for (int i = 1; i < N; i++) big.v[i].power = 1;
  cons_cycle_t c;
  cons_cycle_build(&c, &big);
  assert_true(c.len <= CONS_PROPOSER_SLOTS_MAX + VE_VALIDATORS_MAX);
  unsigned count[N] = {0};
  for (uint32_t i = 0; i < c.len; i++) count[c.slot[i]]++;
  for (int i = 1; i < N; i++) assert_int_equal(count[i], 1); /* never starved */
  assert_true(count[0] >= CONS_PROPOSER_SLOTS_MAX - 1);
  /* proportional when scaled: powers 3:1 in big numbers */
  cons_valset_t two = vs;
  two.count = 2;
  two.v[0].power = 3000000;
  two.v[1].power = 1000000;
  cons_cycle_build(&c, &two);
  unsigned a = 0;
  for (uint32_t i = 0; i < c.len; i++) a += c.slot[i] == 0;
  assert_int_equal(a, 768);
  assert_int_equal(c.len, 1024);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cert_accepts_quorum),
      cmocka_unit_test(test_cert_rejects),
      cmocka_unit_test(test_cert_rejects_noncanonical_and_prevotes),
      cmocka_unit_test(test_vote_evidence),
      cmocka_unit_test(test_evidence_rejects_non_conflicts),
      cmocka_unit_test(test_proposal_evidence),
      cmocka_unit_test(test_evidence_from_conflicting_certs),
      cmocka_unit_test(test_proposer_weighting),
      cmocka_unit_test(test_proposer_large_powers),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
