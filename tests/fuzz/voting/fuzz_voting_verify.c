/* fuzz_voting_verify.c — the proof verifiers a citizen's or trustee's bytes
 * reach, against a fixed poll key: they accept or refuse with an error code,
 * never crash, never read out of bounds, whatever the bytes.
 *
 * Input: one selector byte, then the bytes.
 *   even: a ballot (vote_ballot_verify). Its header names a shape (options,
 *         min, max); for up to VERIFY_OPTIONS_MAX options the proofs are
 *         verified against an election of that shape (built once per shape and
 *         kept), otherwise against a 2-option election (a shape mismatch is a
 *         cheap refusal). An accepted ballot's ciphertexts also enter a tally.
 *   odd:  a trustee's decryption share (vote_decshare_verify) against fixed
 *         tally ciphertexts of up to VERIFY_OPTIONS_MAX options, the trustee's
 *         verification key being the poll key's.
 * The key, contexts and ciphertexts are derived from fixed seeds: no clock, no
 * randomness. Proof checking costs field arithmetic, which the fuzzer's
 * coverage instrumentation slows about twentyfold (~1.4 ms per run here, tens
 * of microseconds uninstrumented), so only shapes of up to VERIFY_OPTIONS_MAX
 * options are verified; larger ones are only parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/voting/poll_int.h"
#include "apps/voting/votecrypto.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VERIFY_OPTIONS_MAX 4

static vote_keypair_t g_key;
static uint8_t g_ctx[VOTING_QCTX_BYTES];
static uint8_t g_tally[VERIFY_OPTIONS_MAX][VOTE_CT_BYTES];
/* Elections by shape, built on first use; reachable until exit. */
static vote_election_t *g_el[VERIFY_OPTIONS_MAX + 1][VERIFY_OPTIONS_MAX + 1][VERIFY_OPTIONS_MAX + 1];

static void setup(void) {
  VE_ASSERT(vote_init() == VE_OK);
  uint8_t seed[VOTE_SEED_BYTES];
  memset(seed, 0x42, sizeof seed);
  vote_keypair_from_seed(&g_key, seed);
  for (size_t i = 0; i < sizeof g_ctx; i++) g_ctx[i] = (uint8_t)i;
  for (uint32_t o = 0; o < VERIFY_OPTIONS_MAX; o++) {
    uint8_t r[VOTE_SCALAR_BYTES] = {0};
    r[0] = (uint8_t)(o + 1);
    VE_ASSERT(vote_encrypt(g_tally[o], g_key.pk, o, r) == VE_OK);
  }
}

static const vote_election_t *election(uint32_t n, uint32_t min, uint32_t max) {
  vote_election_t **slot = &g_el[n][min][max];
  if (!*slot) {
    *slot = malloc(sizeof **slot);
    VE_ASSERT(*slot);
    VE_ASSERT(vote_election_init(*slot, g_key.pk, n, min, max) == VE_OK);
  }
  return *slot;
}

static void fuzz_ballot(ve_slice_t in) {
  uint32_t n, min, max;
  const vote_election_t *el;
  if (vpoll_ballot_shape(in, &n, &min, &max) == VE_OK && n >= 1 && n <= VERIFY_OPTIONS_MAX && min <= max &&
      max <= n && max >= 1)
    el = election(n, min, max);
  else
    el = election(2, 0, 1);
  int rc = vote_ballot_verify(el, g_ctx, sizeof g_ctx, in.ptr, in.len);
  if (rc) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return;
  }
  /* A valid ballot has the election's shape and adds to a tally. */
  VE_ASSERT(n == el->options && min == el->min_total && max == el->max_total);
  static vote_tally_t t;
  VE_ASSERT(vote_tally_init(&t, n) == VE_OK);
  VE_ASSERT(vote_tally_add(&t, in.ptr, in.len) == VE_OK);
  VE_ASSERT(vote_tally_remove(&t, in.ptr, in.len) == VE_OK);
}

static void fuzz_decshare(ve_slice_t in) {
  /* Layout: u8 version, uvarint trustee, uvarint options, ...: a one-byte
   * trustee puts the option count at offset 2. */
  uint32_t options = in.len > 2 ? in.ptr[2] : 1;
  if (options == 0 || options > VERIFY_OPTIONS_MAX) options = 1;
  uint32_t trustee = 1;
  int rc = vote_decshare_trustee(in.ptr, in.len, &trustee);
  if (rc) VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
  rc = vote_decshare_verify(g_key.pk, trustee, &g_tally[0][0], options, g_ctx, sizeof g_ctx, in.ptr,
                            in.len);
  if (rc) VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) {
    setup();
    ready = true;
  }
  if (size < 1) return 0;
  ve_slice_t in = ve_slice(data + 1, size - 1);
  if (data[0] % 2 == 0)
    fuzz_ballot(in);
  else
    fuzz_decshare(in);
  return 0;
}
