/* fuzz_voting_exec.c — arbitrary poll transactions executed for real on a
 * chain holding real polls (fuzz_voting_chain.h: poll OPEN is READY with one
 * ballot cast, poll DKG is still collecting dealings), built once.
 *
 * Input: one selector byte b, then the payload.
 *   type    = 0x0300 + b % 10: the app's eight types, the unused 0x0300 and
 *             one past the last (0x0309), both VE_ERR_UNKNOWN_TYPE;
 *   variant = b / 10 (0..25): signer = variant % 9, height = variant / 9.
 *   signer 0 is the natural one for the type (the organizer for create, cancel
 *   and finish, trustee 1 for keys and decryption shares, trustee 3 — the one
 *   that has not dealt — for dealings, trustee 2 for complaints, and for
 *   ballots the voter the payload names if it is one, else voter 1); 1..8 are
 *   organizer, admin, trustees 1..3, voter 0, voter 2 (not in the poll's
 *   district) and a key the chain does not know.
 *   height 0 is where the type is valid at its boundary (ballots at OPEN's
 *   close, decryption shares just after it, dealings at DKG's deal_end,
 *   complaints just after it, finish just after complaint_end, cancel of DKG
 *   just before its opening, the rest the next block); 1 is one block later,
 *   2 one block earlier.
 * Selector bytes below 10 are the natural signer at the natural height: the
 * seeds in corpus/voting_exec/ use them (made by fuzz_voting_seeds.c) and are
 * accepted, so mutations start past the lookups.
 *
 * Each input is executed as a dry run on a read transaction (nothing is
 * committed, so runs are independent). Whatever the input, execution returns
 * 0 or a real error code, never crashes, frees all it allocates, and an
 * accepted transaction respects the poll rules that no payload may bypass:
 * who may sign it (roles, trustee list, the ballot's voter in the district)
 * and in which height window of the polls on the chain it may run. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "fuzz_voting_chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { S_NATURAL, S_ORG, S_ADMIN, S_T1, S_T2, S_T3, S_V0, S_V2, S_UNKNOWN, S_V1, S_COUNT };

static fvchain_t g_chain;
static const uint8_t *g_pk[S_COUNT];

static void setup(void) {
  fvchain_build(&g_chain);
  fvchain_t *c = &g_chain;
  g_pk[S_ORG] = c->organizer.pk, g_pk[S_ADMIN] = c->admin.pk;
  g_pk[S_T1] = c->trustee[0].pk, g_pk[S_T2] = c->trustee[1].pk, g_pk[S_T3] = c->trustee[2].pk;
  g_pk[S_V0] = c->voter[0].pk, g_pk[S_V1] = c->voter[1].pk, g_pk[S_V2] = c->voter[2].pk;
  g_pk[S_UNKNOWN] = c->unknown.pk;
}

/* Ballot payload: u8 version || poll || voter id || ...: the voter it names. */
static int ballot_voter(ve_slice_t payload) {
  static const int who[FVC_VOTERS] = {S_V0, S_V1, S_V2};
  if (payload.len < 1 + 2 * 32) return S_V1;
  for (uint32_t v = 0; v < FVC_VOTERS; v++)
    if (!memcmp(payload.ptr + 33, g_chain.voter_id[v], 32)) return who[v];
  return S_V1;
}

static void natural(uint32_t type, ve_slice_t payload, int *signer, uint64_t *height) {
  *signer = S_ORG;
  *height = FVC_TIP + 1;
  switch (type) {
    case TX_TYPE_POLL_TRUSTEE_KEY: *signer = S_T1; break;
    case TX_TYPE_POLL_CANCEL: *height = FVC_DKG_OPEN - 1; break;
    case TX_TYPE_POLL_DKG_DEAL: *signer = S_T3, *height = FVC_DKG_DEAL_END; break;
    case TX_TYPE_POLL_DKG_COMPLAIN: *signer = S_T2, *height = FVC_DKG_DEAL_END + 1; break;
    case TX_TYPE_POLL_DKG_FINISH: *height = FVC_DKG_COMPLAINT_END + 1; break;
    case TX_TYPE_POLL_BALLOT: *signer = ballot_voter(payload), *height = FVC_OPEN_CLOSE; break;
    case TX_TYPE_POLL_DECRYPT: *signer = S_T1, *height = FVC_OPEN_CLOSE + 1; break;
    default: break;
  }
}

static bool is_trustee(int s) { return s == S_T1 || s == S_T2 || s == S_T3; }

/* What must hold for every accepted transaction on this chain, whose only
 * polls are OPEN (READY, ballots [6, 100], decryption after 100) and DKG
 * (dealings <= 200, complaints (200, 300], finish (300, 500], cancel < 400):
 * a poll created in a dry run is gone before the next one. */
static void check_accepted(uint32_t type, int s, uint64_t h) {
  switch (type) {
    case TX_TYPE_POLL_TRUSTEE_KEY: VE_ASSERT(is_trustee(s)); break;
    case TX_TYPE_POLL_CREATE: VE_ASSERT(s == S_ORG); break;
    case TX_TYPE_POLL_CANCEL: VE_ASSERT((s == S_ORG || s == S_ADMIN) && h < FVC_DKG_OPEN); break;
    case TX_TYPE_POLL_DKG_DEAL: VE_ASSERT(s == S_T3 && h <= FVC_DKG_DEAL_END); break;
    case TX_TYPE_POLL_DKG_COMPLAIN:
      VE_ASSERT(is_trustee(s) && h > FVC_DKG_DEAL_END && h <= FVC_DKG_COMPLAINT_END);
      break;
    case TX_TYPE_POLL_DKG_FINISH:
      VE_ASSERT((s == S_ORG || is_trustee(s)) && h > FVC_DKG_COMPLAINT_END && h <= FVC_DKG_CLOSE);
      break;
    case TX_TYPE_POLL_BALLOT:
      VE_ASSERT((s == S_V0 || s == S_V1) && h >= FVC_OPEN_OPEN && h <= FVC_OPEN_CLOSE);
      break;
    case TX_TYPE_POLL_DECRYPT: VE_ASSERT(is_trustee(s) && h > FVC_OPEN_CLOSE); break;
    default: VE_ASSERT(!"an unknown type was accepted"); break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_chain.store) setup();
  if (size < 1 || size - 1 > VE_TX_PAYLOAD_BYTES_MAX) return 0;
  uint32_t type = VOTING_TX_TYPE_LO + data[0] % 10;
  uint32_t variant = data[0] / 10;
  ve_slice_t payload = ve_slice(data + 1, size - 1);
  int signer;
  uint64_t height;
  natural(type, payload, &signer, &height);
  if (variant % 9 != 0) signer = (int)(variant % 9);
  if (variant / 9 == 1) height++;
  if (variant / 9 == 2) height--;
  int rc = fvchain_exec(&g_chain, height, g_pk[signer], type, payload);
  VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN);
  if (rc == VE_OK) check_accepted(type, signer, height);
  return 0;
}
