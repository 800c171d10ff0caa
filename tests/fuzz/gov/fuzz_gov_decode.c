/* fuzz_gov_decode.c — the council app's strict decoders on arbitrary bytes:
 * every input is refused with a real error code, or is a value within the
 * app's rules that re-encodes to exactly its own bytes (docs/governance.md §5).
 *
 * Input: one selector byte (modulo 5), then the bytes.
 *   0 "gov/council" value       gov_council_decode / gov_council_encode
 *   1 proposal record           gov_proposal_decode / gov_proposal_encode
 *   2 PROPOSE payload           gov_propose_decode / gov_payload_propose
 *   3 APPROVE / REJECT payload  gov_vote_decode / gov_payload_vote
 *   4 COUNCIL_SET payload       gov_council_set_decode / gov_council_set_encode
 * No clock, no randomness, nothing kept between runs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apps/gov/gov.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_err(int rc) { VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN); }

/* out must hold exactly in; frees out. */
static void assert_same(ve_buf_t *out, ve_slice_t in) {
  VE_ASSERT(ve_slice_eq(ve_buf_slice(out), in));
  ve_buf_free(out);
}

/* The council rules: 1..64 members strictly increasing, n/2 < k <= n, each
 * member found at its own index. */
static void council_rules(const gov_council_t *c) {
  VE_ASSERT(c->n >= 1 && c->n <= GOV_COUNCIL_MAX);
  VE_ASSERT(c->k > c->n / 2 && c->k <= c->n && c->k >= gov_threshold_min(c->n));
  for (uint32_t i = 0; i < c->n; i++) {
    VE_ASSERT(i == 0 || memcmp(c->members[i - 1], c->members[i], LEDGER_HASH_BYTES) < 0);
    VE_ASSERT(gov_member_index(c, c->members[i]) == (int)i);
  }
}

static void fuzz_council(ve_slice_t in) {
  gov_council_t c;
  int rc = gov_council_decode(in, &c);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(in.len <= GOV_COUNCIL_BYTES_MAX);
  VE_ASSERT(c.epoch >= 1);
  council_rules(&c);
  uint8_t h[VCRYPTO_HASH_BYTES];
  VE_ASSERT(gov_council_hash(h, &c) == VE_OK);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(gov_council_encode(&out, &c) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_proposal(ve_slice_t in) {
  static const uint8_t id[LEDGER_HASH_BYTES] = {7};
  gov_proposal_t p;
  int rc = gov_proposal_decode(in, id, &p);
  if (rc) {
    assert_err(rc);
    return;
  }
  /* What execution can have written (gov.c's invariants). */
  VE_ASSERT(in.len <= GOV_PROPOSAL_BYTES_MAX);
  VE_ASSERT(!memcmp(p.id, id, sizeof id));
  VE_ASSERT(p.status == GOV_OPEN || p.status == GOV_EXECUTED || p.status == GOV_REJECTED);
  VE_ASSERT((p.status == GOV_OPEN) == (p.decided == 0));
  VE_ASSERT(p.epoch >= 1);
  VE_ASSERT(p.inner_type >= GOV_INNER_TYPE_MIN && p.inner_type <= LEDGER_TX_TYPE_MAX);
  VE_ASSERT(p.approvals != 0 && (p.approvals & p.rejections) == 0);
  VE_ASSERT(p.inner_payload.len <= GOV_ACTION_BYTES_MAX && p.note.len <= GOV_NOTE_BYTES_MAX);
  /* The derived status: a closed proposal is what it says; an open one is
   * STALE under another council, else OPEN up to its deadline, then EXPIRED. */
  if (p.status != GOV_OPEN) {
    VE_ASSERT(gov_proposal_status(&p, p.epoch + 1, UINT64_MAX) == p.status);
  } else {
    VE_ASSERT(gov_proposal_status(&p, p.epoch + 1, 0) == GOV_STALE);
    VE_ASSERT(gov_proposal_status(&p, p.epoch, p.deadline_ms) == GOV_OPEN);
    if (p.deadline_ms < UINT64_MAX) VE_ASSERT(gov_proposal_status(&p, p.epoch, p.deadline_ms + 1) == GOV_EXPIRED);
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(gov_proposal_encode(&out, &p) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_propose(ve_slice_t in) {
  gov_propose_t p;
  int rc = gov_propose_decode(in, &p);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(in.len <= GOV_PAYLOAD_BYTES_MAX);
  VE_ASSERT(p.inner_type <= LEDGER_TX_TYPE_MAX);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(gov_payload_propose(&out, p.open_ms, p.inner_type, p.inner_payload, p.note) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_vote(ve_slice_t in) {
  uint8_t id[LEDGER_HASH_BYTES];
  int rc = gov_vote_decode(in, id);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(in.len == 1 + LEDGER_HASH_BYTES);
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(gov_payload_vote(&out, id) == VE_OK);
  assert_same(&out, in);
}

static void fuzz_council_set(ve_slice_t in) {
  static gov_council_set_t s; /* ~11 KiB */
  int rc = gov_council_set_decode(in, &s);
  if (rc) {
    assert_err(rc);
    return;
  }
  VE_ASSERT(in.len <= GOV_COUNCIL_SET_BYTES_MAX);
  VE_ASSERT(s.council.epoch == 0); /* not in the payload */
  council_rules(&s.council);
  VE_ASSERT(s.n_approvals >= 1 && s.n_approvals <= VE_VALIDATORS_MAX);
  for (uint32_t i = 0; i < s.n_approvals; i++) {
    VE_ASSERT(s.approvals[i].index < VE_VALIDATORS_MAX);
    VE_ASSERT(i == 0 || s.approvals[i - 1].index < s.approvals[i].index);
  }
  ve_buf_t out;
  ve_buf_init(&out, in.len + 1);
  VE_ASSERT(gov_council_set_encode(&out, &s) == VE_OK);
  assert_same(&out, in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0: fuzz_council(in); break;
    case 1: fuzz_proposal(in); break;
    case 2: fuzz_propose(in); break;
    case 3: fuzz_vote(in); break;
    default: fuzz_council_set(in); break;
  }
  return 0;
}
