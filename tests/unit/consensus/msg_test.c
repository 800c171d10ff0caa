/* msg_test.c — canonical encodings of consensus messages, records and validator
 * sets: every message type round-trips byte for byte, and the decoders refuse
 * trailing bytes, truncation, non-minimal varints, bad versions and types, out of
 * range heights/rounds/indices, unsorted batches and oversized counts. A seeded
 * mutation loop checks that whatever a decoder accepts re-encodes identically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "consensus/cons_int.h"

static vcrypto_keypair_t key;

static int setup(void **state) {
  (void)state;
  assert_int_equal(vcrypto_init(), 0);
  uint8_t seed[32] = {7};
  vcrypto_keypair_from_seed(&key, seed);
  return 0;
}

static void fill(uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v + i);
}

static ve_slice_t sl(const ve_buf_t *b) { return ve_buf_slice(b); }

/* Decodes b, re-encodes the result with the matching encoder, expects b again. */
static void expect_reencode(ve_slice_t in) {
  cons_msg_t m;
  static cons_vote_t votes[CONS_BATCH_VOTES_MAX];
  assert_int_equal(cons_msg_decode(in, &m, votes), 0);
  ve_buf_t out;
  ve_buf_init(&out, CONS_MSG_BYTES_MAX);
  switch (m.type) {
    case CONS_MSG_PROPOSAL: assert_int_equal(cons_proposal_encode(&out, &m.proposal), 0); break;
    case CONS_MSG_VOTE: assert_int_equal(cons_vote_encode(&out, &m.vote), 0); break;
    case CONS_MSG_VOTES: assert_int_equal(cons_votes_encode(&out, votes, m.votes_count), 0); break;
    case CONS_MSG_STATUS: assert_int_equal(cons_status_encode(&out, &m.status), 0); break;
    case CONS_MSG_DECISION:
      assert_int_equal(cons_decision_encode(&out, m.height, m.decision.id, m.decision.value,
                                            m.decision.cert), 0);
      break;
    default: fail();
  }
  assert_int_equal(out.len, in.len);
  assert_memory_equal(out.ptr, in.ptr, in.len);
  ve_buf_free(&out);
}

static void expect_reject(ve_slice_t in) {
  cons_msg_t m;
  static cons_vote_t votes[CONS_BATCH_VOTES_MAX];
  assert_int_not_equal(cons_msg_decode(in, &m, votes), 0);
}

static cons_proposal_t sample_proposal(const uint8_t *value, size_t len) {
  cons_proposal_t p;
  memset(&p, 0, sizeof p);
  p.height = 300;
  p.round = 5;
  p.pol_round = 2;
  fill(p.id, 32, 1);
  p.value = ve_slice(value, len);
  cons_proposal_sign(&p, &key, "chain-a");
  return p;
}

static void test_proposal_roundtrip(void **state) {
  (void)state;
  uint8_t value[300];
  fill(value, sizeof value, 9);
  cons_proposal_t p = sample_proposal(value, sizeof value);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_proposal_encode(&b, &p), 0);
  expect_reencode(sl(&b));
  cons_msg_t m;
  assert_int_equal(cons_msg_decode(sl(&b), &m, NULL), 0);
  assert_int_equal(m.type, CONS_MSG_PROPOSAL);
  assert_int_equal(m.proposal.round, 5);
  assert_int_equal(m.proposal.pol_round, 2);
  assert_int_equal(m.proposal.value.len, sizeof value);
  assert_memory_equal(m.proposal.value.ptr, value, sizeof value);
  assert_int_equal(cons_proposal_verify(&m.proposal, key.pk, "chain-a", NULL, NULL), 0);
  /* the signature binds chain id, height, round, pol round and id */
  assert_int_not_equal(cons_proposal_verify(&m.proposal, key.pk, "chain-b", NULL, NULL), 0);
  m.proposal.pol_round = 1;
  assert_int_not_equal(cons_proposal_verify(&m.proposal, key.pk, "chain-a", NULL, NULL), 0);
  /* trailing byte, truncation */
  ve_buf_append(&b, "", 1);
  expect_reject(sl(&b));
  b.len -= 2;
  expect_reject(sl(&b));
  ve_buf_free(&b);
}

static void test_proposal_pol_must_precede_round(void **state) {
  (void)state;
  /* hand-built: version, type, h=1, r=1, pol+1=2 (pol 1 == round) */
  uint8_t raw[2 + 3 + 32 + 1 + 64] = {CONS_WIRE_VERSION, CONS_MSG_PROPOSAL, 1, 1, 2};
  expect_reject(ve_slice(raw, sizeof raw));
  raw[4] = 1; /* pol 0 < round 1: fine */
  expect_reencode(ve_slice(raw, sizeof raw));
}

static cons_vote_t sample_vote(uint32_t round, uint8_t type, uint32_t index, bool has_id) {
  cons_vote_t v;
  memset(&v, 0, sizeof v);
  v.height = 77;
  v.round = round;
  v.type = type;
  v.index = index;
  v.has_id = has_id;
  if (has_id) fill(v.id, 32, (uint8_t)(round + index));
  cons_vote_sign(&v, &key, "chain-a");
  return v;
}

static void test_vote_roundtrip_and_binding(void **state) {
  (void)state;
  for (int has = 0; has < 2; has++) {
    cons_vote_t v = sample_vote(3, CONS_VOTE_PRECOMMIT, 5, has);
    ve_buf_t b;
    ve_buf_init(&b, 0);
    assert_int_equal(cons_vote_encode(&b, &v), 0);
    expect_reencode(sl(&b));
    cons_msg_t m;
    assert_int_equal(cons_msg_decode(sl(&b), &m, NULL), 0);
    assert_int_equal(cons_vote_verify(&m.vote, key.pk, "chain-a", NULL, NULL), 0);
    cons_vote_t t = m.vote;
    t.type = CONS_VOTE_PREVOTE; /* a precommit signature is not a prevote's */
    assert_int_not_equal(cons_vote_verify(&t, key.pk, "chain-a", NULL, NULL), 0);
    t = m.vote;
    t.round++;
    assert_int_not_equal(cons_vote_verify(&t, key.pk, "chain-a", NULL, NULL), 0);
    t = m.vote;
    t.height++;
    assert_int_not_equal(cons_vote_verify(&t, key.pk, "chain-a", NULL, NULL), 0);
    ve_buf_free(&b);
  }
}

static void test_vote_rejects(void **state) {
  (void)state;
  cons_vote_t v = sample_vote(1, CONS_VOTE_PREVOTE, 2, true);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_vote_encode(&b, &v), 0);
  /* layout: ver, type, h(77), r(1), vtype, index, has_id, id[32], sig[64] */
  uint8_t *p = b.ptr;
  p[0] = 2; expect_reject(sl(&b)); p[0] = CONS_WIRE_VERSION;      /* version */
  p[1] = 9; expect_reject(sl(&b)); p[1] = CONS_MSG_VOTE;          /* message type */
  p[4] = 1; expect_reject(sl(&b)); p[4] = CONS_VOTE_PREVOTE;      /* vote type */
  p[6] = 2; expect_reject(sl(&b)); p[6] = 1;                      /* bool */
  p[5] = 0x80; expect_reject(sl(&b)); p[5] = 2;                   /* index runs on */
  expect_reencode(sl(&b));
  /* zero height */
  uint8_t z[] = {CONS_WIRE_VERSION, CONS_MSG_STATUS, 0, 0, 0};
  expect_reject(ve_slice(z, sizeof z));
  /* non-minimal varint height (0x81 0x00) */
  uint8_t nm[] = {CONS_WIRE_VERSION, CONS_MSG_STATUS, 0x81, 0x00, 0, 0};
  expect_reject(ve_slice(nm, sizeof nm));
  uint8_t ok[] = {CONS_WIRE_VERSION, CONS_MSG_STATUS, 0x01, 0, 0};
  expect_reencode(ve_slice(ok, sizeof ok));
  /* round above CONS_ROUND_MAX: 2^21 = 0x80 0x80 0x80 0x01 */
  uint8_t big[] = {CONS_WIRE_VERSION, CONS_MSG_STATUS, 1, 0x80, 0x80, 0x80, 0x01, 0};
  expect_reject(ve_slice(big, sizeof big));
  /* index ≥ VE_VALIDATORS_MAX */
  cons_vote_t w = sample_vote(1, CONS_VOTE_PREVOTE, VE_VALIDATORS_MAX, false);
  ve_buf_t c;
  ve_buf_init(&c, 0);
  assert_int_equal(cons_vote_encode(&c, &w), 0);
  expect_reject(sl(&c));
  ve_buf_free(&c);
  ve_buf_free(&b);
}

/* Found by tests/fuzz/consensus (fuzz_cons_msg): message type 0 shared the
 * decoder's "header failed" switch case, so {version, 0, height} decoded as an
 * empty message that the engine buffered as a future message. Every type that
 * is not a CONS_MSG_* must be refused, with or without a body. */
static void test_unknown_types_rejected(void **state) {
  (void)state;
  for (unsigned type = 0; type < 256; type++) {
    if (type >= CONS_MSG_PROPOSAL && type <= CONS_MSG_DECISION) continue;
    uint8_t bare[] = {CONS_WIRE_VERSION, (uint8_t)type, 4};
    uint8_t body[] = {CONS_WIRE_VERSION, (uint8_t)type, 4, 0, 0};
    cons_msg_t m;
    assert_int_equal(cons_msg_decode(ve_slice(bare, sizeof bare), &m, NULL), VE_ERR_UNKNOWN_TYPE);
    assert_int_equal(cons_msg_decode(ve_slice(body, sizeof body), &m, NULL), VE_ERR_UNKNOWN_TYPE);
  }
}

static void test_votes_batch(void **state) {
  (void)state;
  cons_vote_t vs[4] = {sample_vote(0, CONS_VOTE_PREVOTE, 1, true),
                       sample_vote(0, CONS_VOTE_PREVOTE, 3, false),
                       sample_vote(0, CONS_VOTE_PRECOMMIT, 0, true),
                       sample_vote(2, CONS_VOTE_PREVOTE, 0, true)};
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_votes_encode(&b, vs, 4), 0);
  expect_reencode(sl(&b));
  static cons_vote_t out[CONS_BATCH_VOTES_MAX];
  cons_msg_t m;
  assert_int_equal(cons_msg_decode(sl(&b), &m, out), 0);
  assert_int_equal(m.votes_count, 4);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(out[i].index, vs[i].index);
    assert_int_equal(cons_vote_verify(&out[i], key.pk, "chain-a", NULL, NULL), 0);
  }
  /* unsorted (swap two items) and duplicate items are not canonical */
  cons_vote_t sw[2] = {vs[1], vs[0]};
  ve_buf_t c;
  ve_buf_init(&c, 0);
  /* build by hand: encode each in order, then splice */
  assert_int_equal(cons_votes_encode(&c, &vs[0], 1), 0);
  size_t one = c.len - 4; /* header: ver, type, h, count */
  ve_buf_t d;
  ve_buf_init(&d, 0);
  assert_int_equal(cons_votes_encode(&d, &sw[0], 1), 0);
  ve_buf_t bad;
  ve_buf_init(&bad, 0);
  uint8_t hdr[4] = {CONS_WIRE_VERSION, CONS_MSG_VOTES, 77, 2};
  ve_buf_append(&bad, hdr, 4);
  ve_buf_append(&bad, d.ptr + 4, d.len - 4);
  ve_buf_append(&bad, c.ptr + 4, one);
  expect_reject(sl(&bad));
  bad.len = 4;
  ve_buf_append(&bad, c.ptr + 4, one);
  ve_buf_append(&bad, c.ptr + 4, one);
  expect_reject(sl(&bad));
  /* empty batch, and a count larger than the input can hold */
  uint8_t empty[] = {CONS_WIRE_VERSION, CONS_MSG_VOTES, 77, 0};
  expect_reject(ve_slice(empty, sizeof empty));
  uint8_t huge[] = {CONS_WIRE_VERSION, CONS_MSG_VOTES, 77, 0x80, 0x04};
  expect_reject(ve_slice(huge, sizeof huge));
  ve_buf_free(&bad);
  ve_buf_free(&c);
  ve_buf_free(&d);
  ve_buf_free(&b);
}

static void test_status_and_decision(void **state) {
  (void)state;
  cons_status_msg_t st = {123456789, 17, true};
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_status_encode(&b, &st), 0);
  expect_reencode(sl(&b));
  /* The node's peek at catch-up requests: a STATUS gives its height; a cut
   * one is refused; any other message is "not a STATUS". */
  uint64_t h = 0;
  assert_int_equal(cons_msg_status_height(sl(&b), &h), 0);
  assert_int_equal(h, 123456789);
  assert_true(cons_msg_status_height(ve_slice(b.ptr, b.len - 1), &h) < 0);
  assert_int_equal(cons_msg_status_height(ve_slice(b.ptr, 1), &h), VE_ERR_NOT_FOUND);
  ve_buf_reset(&b);
  uint8_t id[32], value[50], cert[90];
  fill(id, 32, 3);
  fill(value, sizeof value, 4);
  fill(cert, sizeof cert, 5);
  assert_int_equal(cons_decision_encode(&b, 9, id, ve_slice(value, sizeof value),
                                        ve_slice(cert, sizeof cert)), 0);
  expect_reencode(sl(&b));
  cons_msg_t m;
  assert_int_equal(cons_msg_decode(sl(&b), &m, NULL), 0);
  assert_int_equal(m.decision.height, 9);
  assert_int_equal(cons_msg_status_height(sl(&b), &h), VE_ERR_NOT_FOUND);
  assert_int_equal(m.decision.cert.len, sizeof cert);
  assert_int_equal(cons_decision_encode(&b, 0, id, ve_slice(NULL, 0), ve_slice(NULL, 0)),
                   VE_ERR_INVALID);
  ve_buf_free(&b);
}

static void test_record_roundtrip_and_rejects(void **state) {
  (void)state;
  cons_record_t recs[3] = {
      {5, 2, CONS_TYPE_PROPOSAL, true, {1}, 1},
      {5, 2, CONS_VOTE_PREVOTE, false, {0}, -1},
      {5, 3, CONS_VOTE_PRECOMMIT, true, {9, 9}, -1},
  };
  for (int i = 0; i < 3; i++) {
    ve_buf_t b;
    ve_buf_init(&b, 0);
    assert_int_equal(cons_record_encode(&b, &recs[i]), 0);
    assert_true(b.len <= CONS_RECORD_BYTES_MAX);
    cons_record_t r;
    assert_int_equal(cons_record_decode(sl(&b), &r), 0);
    assert_int_equal(r.height, recs[i].height);
    assert_int_equal(r.round, recs[i].round);
    assert_int_equal(r.type, recs[i].type);
    assert_int_equal(r.has_id, recs[i].has_id);
    assert_memory_equal(r.id, recs[i].id, 32);
    assert_int_equal(r.pol_round, recs[i].pol_round);
    ve_buf_append(&b, "x", 1);
    assert_int_equal(cons_record_decode(sl(&b), &r), VE_ERR_TRAILING);
    ve_buf_free(&b);
  }
  /* a vote record with a pol round, a proposal record without id */
  uint8_t votepol[] = {CONS_WIRE_VERSION, CONS_VOTE_PREVOTE, 5, 2, 0, 1};
  cons_record_t r;
  assert_int_not_equal(cons_record_decode(ve_slice(votepol, sizeof votepol), &r), 0);
  uint8_t propnil[] = {CONS_WIRE_VERSION, CONS_TYPE_PROPOSAL, 5, 2, 0, 0};
  assert_int_not_equal(cons_record_decode(ve_slice(propnil, sizeof propnil), &r), 0);
  uint8_t badtype[] = {CONS_WIRE_VERSION, 4, 5, 2, 0, 0};
  assert_int_not_equal(cons_record_decode(ve_slice(badtype, sizeof badtype), &r), 0);
}

/* A lock record re-encodes to exactly its own bytes. */
static void expect_reencode_lock(ve_slice_t in) {
  cons_lock_t *l = calloc(1, sizeof *l);
  assert_non_null(l);
  assert_int_equal(cons_lock_decode(in, l), 0);
  ve_buf_t out;
  ve_buf_init(&out, CONS_LOCK_RECORD_BYTES_MAX);
  assert_int_equal(cons_lock_encode(&out, l), 0);
  assert_int_equal(out.len, in.len);
  assert_memory_equal(out.ptr, in.ptr, in.len);
  ve_buf_free(&out);
  free(l);
}

static void test_lock_record_roundtrip_and_rejects(void **state) {
  (void)state;
  cons_lock_t *l = calloc(1, sizeof *l), *d = calloc(1, sizeof *d);
  assert_non_null(l);
  assert_non_null(d);
  l->height = 7;
  l->round = 300; /* a two-byte uvarint */
  memset(l->id, 0x5a, 32);
  l->has_value = true;
  l->value = ve_slice("the block", 9);
  l->count = 3;
  uint32_t idx[3] = {0, 2, 127};
  for (int i = 0; i < 3; i++) {
    l->votes[i].index = idx[i];
    memset(l->votes[i].sig, 0x30 + i, 64);
  }
  for (int with_value = 1; with_value >= 0; with_value--) {
    l->has_value = with_value;
    l->value = with_value ? ve_slice("the block", 9) : ve_slice(NULL, 0);
    ve_buf_t b;
    ve_buf_init(&b, 0);
    assert_int_equal(cons_lock_encode(&b, l), 0);
    assert_int_equal(b.ptr[1], CONS_REC_LOCK);
    assert_int_equal(cons_lock_decode(sl(&b), d), 0);
    assert_int_equal(d->height, 7);
    assert_int_equal(d->round, 300);
    assert_memory_equal(d->id, l->id, 32);
    assert_int_equal(d->has_value, with_value);
    assert_true(ve_slice_eq(d->value, l->value));
    assert_int_equal(d->count, 3);
    for (int i = 0; i < 3; i++) {
      assert_int_equal(d->votes[i].index, idx[i]);
      assert_memory_equal(d->votes[i].sig, l->votes[i].sig, 64);
    }
    expect_reencode_lock(sl(&b));
    uint64_t h = 0;
    assert_int_equal(cons_record_height(sl(&b), &h), 0);
    assert_int_equal(h, 7);
    /* a signing-record decoder does not take it for one of its own */
    cons_record_t r;
    assert_int_not_equal(cons_record_decode(sl(&b), &r), 0);
    ve_buf_append(&b, "x", 1);
    assert_int_equal(cons_lock_decode(sl(&b), d), VE_ERR_TRAILING);
    ve_buf_free(&b);
  }
  /* hand-made rejects: version, type, height 0, no votes, unsorted indexes,
   * a repeated index, an index outside any set, a truncated signature */
  uint8_t sig[64];
  memset(sig, 1, sizeof sig);
  struct {
    uint8_t head[2], height, round;
    uint8_t count, i0, i1;
    int want;
  } bad[] = {
      {{2, CONS_REC_LOCK}, 7, 0, 2, 0, 1, VE_ERR_VERSION},
      {{CONS_WIRE_VERSION, 5}, 7, 0, 2, 0, 1, VE_ERR_MALFORMED},
      {{CONS_WIRE_VERSION, CONS_REC_LOCK}, 0, 0, 2, 0, 1, VE_ERR_INVALID},
      {{CONS_WIRE_VERSION, CONS_REC_LOCK}, 7, 0, 0, 0, 1, VE_ERR_MALFORMED},
      {{CONS_WIRE_VERSION, CONS_REC_LOCK}, 7, 0, 2, 1, 0, VE_ERR_NONCANONICAL},
      {{CONS_WIRE_VERSION, CONS_REC_LOCK}, 7, 0, 2, 1, 1, VE_ERR_NONCANONICAL},
      {{CONS_WIRE_VERSION, CONS_REC_LOCK}, 7, 0, 2, 0, 0x7f, VE_OK}, /* control: 127 is fine */
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    ve_buf_t b;
    ve_buf_init(&b, 0);
    ve_buf_append(&b, bad[k].head, 2);
    ve_buf_append(&b, &bad[k].height, 1);
    ve_buf_append(&b, &bad[k].round, 1);
    ve_buf_append(&b, l->id, 32);
    ve_buf_append(&b, "\0", 1); /* no value */
    ve_buf_append(&b, &bad[k].count, 1);
    if (bad[k].count) {
      ve_buf_append(&b, &bad[k].i0, 1);
      ve_buf_append(&b, sig, 64);
      ve_buf_append(&b, &bad[k].i1, 1);
      ve_buf_append(&b, sig, 64);
    }
    assert_int_equal(cons_lock_decode(sl(&b), d), bad[k].want);
    if (bad[k].want == VE_OK) {
      /* index 128 is outside any set; a signature cut short fails */
      b.ptr[b.len - 65] = 0x80;
      assert_int_not_equal(cons_lock_decode(sl(&b), d), 0);
      b.len -= 1;
      assert_int_not_equal(cons_lock_decode(sl(&b), d), 0);
    }
    ve_buf_free(&b);
  }
  free(l);
  free(d);
}

static void test_valset_encoding(void **state) {
  (void)state;
  cons_valset_t vs;
  memset(&vs, 0, sizeof vs);
  vs.count = 3;
  for (uint32_t i = 0; i < 3; i++) {
    fill(vs.v[i].pk, 32, (uint8_t)(10 * i));
    vs.v[i].power = 1000 * (i + 1);
  }
  ve_buf_t b;
  ve_buf_init(&b, 0);
  assert_int_equal(cons_valset_encode(&b, &vs), 0);
  cons_valset_t d;
  assert_int_equal(cons_valset_decode(&d, sl(&b)), 0);
  assert_int_equal(d.count, 3);
  assert_memory_equal(d.v, vs.v, 3 * sizeof vs.v[0]);
  uint8_t h1[32], h2[32];
  cons_valset_hash(h1, &vs);
  vs.v[2].power++;
  cons_valset_hash(h2, &vs);
  assert_memory_not_equal(h1, h2, 32);
  vs.v[2].power = 0;
  assert_int_equal(cons_valset_check(&vs), VE_ERR_INVALID);
  vs.v[2].power = CONS_POWER_MAX + 1;
  assert_int_equal(cons_valset_check(&vs), VE_ERR_INVALID);
  vs.v[2].power = 1;
  memcpy(vs.v[2].pk, vs.v[0].pk, 32);
  assert_int_equal(cons_valset_check(&vs), VE_ERR_DUPLICATE);
  vs.count = 0;
  assert_int_equal(cons_valset_check(&vs), VE_ERR_INVALID);
  b.ptr[1] = 0; /* count 0 */
  assert_int_not_equal(cons_valset_decode(&d, sl(&b)), 0);
  ve_buf_free(&b);
}

/* Seeded mutation: flip, insert or delete bytes of valid messages; whatever still
 * decodes must re-encode to exactly the mutated bytes. */
static void test_mutations_stay_canonical(void **state) {
  (void)state;
  uint64_t seed = getenv("VECHE_TEST_SEED") ? strtoull(getenv("VECHE_TEST_SEED"), NULL, 0) : 4242;
  printf("mutation seed %llu (replay with VECHE_TEST_SEED)\n", (unsigned long long)seed);
  uint8_t value[40];
  fill(value, sizeof value, 2);
  ve_buf_t src[4];
  for (int i = 0; i < 4; i++) ve_buf_init(&src[i], 0);
  cons_proposal_t p = sample_proposal(value, sizeof value);
  assert_int_equal(cons_proposal_encode(&src[0], &p), 0);
  cons_vote_t v = sample_vote(4, CONS_VOTE_PRECOMMIT, 6, true);
  assert_int_equal(cons_vote_encode(&src[1], &v), 0);
  cons_vote_t vs[2] = {sample_vote(0, CONS_VOTE_PREVOTE, 1, true),
                       sample_vote(0, CONS_VOTE_PRECOMMIT, 1, false)};
  assert_int_equal(cons_votes_encode(&src[2], vs, 2), 0);
  cons_status_msg_t st = {99, 3, false};
  assert_int_equal(cons_status_encode(&src[3], &st), 0);
  uint64_t x = seed;
  unsigned accepted = 0;
  for (int iter = 0; iter < 20000; iter++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    ve_buf_t *s = &src[(x >> 33) % 4];
    uint8_t buf[512];
    size_t len = s->len;
    memcpy(buf, s->ptr, len);
    size_t pos = (size_t)((x >> 17) % len);
    switch ((x >> 40) % 3) {
      case 0: buf[pos] ^= (uint8_t)(1u << ((x >> 50) % 8)); break;
      case 1: memmove(buf + pos + 1, buf + pos, len - pos); buf[pos] = (uint8_t)(x >> 56); len++; break;
      default: memmove(buf + pos, buf + pos + 1, len - pos - 1); len--; break;
    }
    cons_msg_t m;
    static cons_vote_t out[CONS_BATCH_VOTES_MAX];
    if (cons_msg_decode(ve_slice(buf, len), &m, out) != 0) continue;
    accepted++;
    expect_reencode(ve_slice(buf, len));
  }
  assert_true(accepted > 0); /* e.g. flipped id or signature bits */
  for (int i = 0; i < 4; i++) ve_buf_free(&src[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_proposal_roundtrip),
      cmocka_unit_test(test_proposal_pol_must_precede_round),
      cmocka_unit_test(test_vote_roundtrip_and_binding),
      cmocka_unit_test(test_vote_rejects),
      cmocka_unit_test(test_unknown_types_rejected),
      cmocka_unit_test(test_votes_batch),
      cmocka_unit_test(test_status_and_decision),
      cmocka_unit_test(test_record_roundtrip_and_rejects),
      cmocka_unit_test(test_lock_record_roundtrip_and_rejects),
      cmocka_unit_test(test_valset_encoding),
      cmocka_unit_test(test_mutations_stay_canonical),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
