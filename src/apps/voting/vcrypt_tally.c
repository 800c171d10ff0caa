/* vcrypt_tally.c — homomorphic tally: per option, the running sums of C1 and
 * C2 over counted ballots, kept decoded so each ballot costs one decode and one
 * addition per point (the decode's square root dominates). Ballots are
 * verified before they are counted; this file checks only layout and point
 * encodings. Partial tallies merge, so callers may tally in parallel.
 */
#include <string.h>

#include "base/err.h"
#include "apps/voting/vcrypt_int.h"

_Static_assert(sizeof(vote_ge_t) * 2 * VOTE_OPTIONS_MAX <= sizeof(((vote_tally_t *)0)->priv_),
               "VOTE_TALLY_PRIV_WORDS too small");

static vote_ge_t *sums(vote_tally_t *t) { return (vote_ge_t *)(void *)t->priv_; }
static const vote_ge_t *csums(const vote_tally_t *t) {
  return (const vote_ge_t *)(const void *)t->priv_;
}

int vote_tally_init(vote_tally_t *t, uint32_t options) {
  memset(t, 0, sizeof *t);
  if (options == 0) return VE_ERR_INVALID;
  if (options > VOTE_OPTIONS_MAX) return VE_ERR_TOO_BIG;
  t->options = options;
  for (uint32_t i = 0; i < 2 * options; i++) vote_ge_identity(&sums(t)[i]);
  return VE_OK;
}

static int tally_apply(vote_tally_t *t, const uint8_t *cts, uint32_t options, bool add) {
  if (options != t->options) return VE_ERR_INVALID;
  vote_ge_t pts[2 * VOTE_OPTIONS_MAX];
  /* Decode everything first so a bad ballot leaves the tally untouched. */
  for (uint32_t i = 0; i < 2 * options; i++) {
    VE_TRY(vote_point_decode(&pts[i], cts + 32 * i, (i & 1) != 0));
  }
  for (uint32_t i = 0; i < 2 * options; i++) {
    if (add) {
      vote_ge_add(&sums(t)[i], &sums(t)[i], &pts[i]);
    } else {
      vote_ge_sub(&sums(t)[i], &sums(t)[i], &pts[i]);
    }
  }
  if (add) {
    t->ballots++;
  } else {
    t->ballots--;
  }
  return VE_OK;
}

int vote_tally_add_cts(vote_tally_t *t, const uint8_t *cts, uint32_t options) {
  return tally_apply(t, cts, options, true);
}

int vote_tally_add(vote_tally_t *t, const uint8_t *ballot, size_t ballot_len) {
  uint32_t n;
  const uint8_t *cts;
  VE_TRY(vote_ballot_ciphertexts(ballot, ballot_len, &n, &cts));
  return tally_apply(t, cts, n, true);
}

int vote_tally_remove(vote_tally_t *t, const uint8_t *ballot, size_t ballot_len) {
  uint32_t n;
  const uint8_t *cts;
  VE_TRY(vote_ballot_ciphertexts(ballot, ballot_len, &n, &cts));
  if (t->ballots == 0) return VE_ERR_STATE;
  return tally_apply(t, cts, n, false);
}

int vote_tally_merge(vote_tally_t *into, const vote_tally_t *from) {
  if (into->options != from->options) return VE_ERR_INVALID;
  for (uint32_t i = 0; i < 2 * into->options; i++) {
    vote_ge_add(&sums(into)[i], &sums(into)[i], &csums(from)[i]);
  }
  into->ballots += from->ballots;
  return VE_OK;
}

void vote_tally_result(const vote_tally_t *t, uint8_t *cts) {
  for (uint32_t i = 0; i < 2 * t->options; i++) vote_ge_encode(cts + 32 * i, &csums(t)[i]);
}
