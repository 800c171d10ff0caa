/* fuzz_voting_exec2.c — arbitrary poll transactions executed for real on the
 * second poll chain (fuzz_voting_late.h), built once per process: a poll in
 * key generation with an upheld complaint, one whose key generation failed,
 * one closed with one decryption share in, one decrypted (DONE) and one
 * cancelled. fuzz_voting_exec.c covers the first chain (a poll open for
 * ballots and one collecting dealings).
 *
 * Input: two selector bytes then the payload (fvlate_input_parse: type,
 * signer, which of the chain's polls the payload names, height). Selectors
 * 0..9 then 0 are the natural signer at the natural height with the payload's
 * own poll: the seeds in corpus/voting_exec2/ (fuzz_voting_seeds.c) use them.
 *
 * Each input is executed as a dry run on a read transaction. Whatever the
 * input: execution returns 0 or a real error code, never crashes, frees all
 * it allocates; an accepted transaction is one the poll rules allow, and the
 * poll record it leaves behind is the one they require:
 *   - nothing is accepted on a FAILED, CANCELLED or DONE poll;
 *   - who signs: roles, the poll's trustee list, a trustee deals, complains
 *     (against one dealer that dealt) and decrypts only once;
 *   - when: every type within its window; no ballot after close;
 *   - finish: the qualified dealers are exactly those that dealt and have no
 *     upheld complaint; the poll is READY with them if they are at least t,
 *     else FAILED;
 *   - decryption: the t-th share decrypts the tally to the counts the chain's
 *     ballots add up to (the last ballot of each voter), with the trustees
 *     that sent shares.
 * Cost: the t-th valid share runs the app's result decryption, which builds a
 * 1 MiB discrete-log table per call (tens of milliseconds); only valid shares
 * get there, so the fuzzer pays it rarely. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "fuzz_voting_late.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fvlate_t g_late;
static bool g_ready;

static bool is_trustee(int s) { return s >= FVL_S_T1 && s <= FVL_S_T3; }
static uint32_t bit(int s) { return 1u << (s - FVL_S_T1); } /* trustee j's bit: the poll lists 1..3 in order */

static uint32_t popcount(uint32_t m) {
  uint32_t n = 0;
  for (; m; m &= m - 1) n++;
  return n;
}

static void check_finish(const voting_poll_t *b, const voting_poll_t *a) {
  uint32_t honest = b->dealt & ~b->upheld;
  if (popcount(honest) >= b->def.threshold) {
    VE_ASSERT(a->status == VOTING_READY && a->has_key && a->qualified == honest);
  } else {
    VE_ASSERT(a->status == VOTING_FAILED && !a->has_key);
  }
}

/* Exactly one new complaint, by the signer, against the dealer it names
 * (payload: u8 version || poll || complaint: u8 version, u8 dealer, ...),
 * which dealt; only that dealer may become upheld. */
static void check_complain(const fvlate_input_t *in, const voting_poll_t *b, const voting_poll_t *a) {
  int s = in->signer;
  VE_ASSERT(in->payload.len == 1 + VOTING_ID_BYTES + VOTE_DKG_COMPLAINT_BYTES);
  uint32_t added = 0, dealer = 0, named = in->payload.ptr[1 + VOTING_ID_BYTES + 1];
  for (uint32_t i = 0; i < b->def.n_trustees; i++) {
    if (a->complained[i] == b->complained[i]) continue;
    VE_ASSERT((a->complained[i] ^ b->complained[i]) == bit(s) && !(b->complained[i] & bit(s)));
    added++, dealer = i;
  }
  VE_ASSERT(added == 1 && dealer + 1 == named && (b->dealt & (1u << dealer)) && a->dealt == b->dealt);
  VE_ASSERT((a->upheld & b->upheld) == b->upheld && (a->upheld & ~b->upheld & ~(1u << dealer)) == 0);
}

static void check_decrypt(const fvlate_input_t *in, const voting_poll_t *b, const voting_poll_t *a) {
  VE_ASSERT(a->decrypted == (b->decrypted | bit(in->signer)));
  if (popcount(a->decrypted) < b->def.threshold) {
    VE_ASSERT(a->status == VOTING_READY && !a->has_result);
    return;
  }
  VE_ASSERT(a->status == VOTING_DONE && a->has_result && a->result_height == in->height);
  VE_ASSERT(a->used == a->decrypted && a->voters == g_late.voters[in->poll]);
  VE_ASSERT(a->counts[0] == g_late.counts[in->poll][0] && a->counts[1] == g_late.counts[in->poll][1]);
}

/* An accepted transaction on a poll of the chain: before is its committed
 * record, after the one the transaction left. */
static void check_poll_tx(const fvlate_input_t *in, const voting_poll_t *b, const voting_poll_t *a) {
  int s = in->signer;
  uint64_t h = in->height;
  const voting_def_t *d = &b->def;
  VE_ASSERT(b->status == VOTING_DKG || b->status == VOTING_READY); /* the others are final */
  switch (in->type) {
    case TX_TYPE_POLL_CANCEL:
      VE_ASSERT((s == FVL_S_ORG || s == FVL_S_ADMIN) && h < d->open_height && a->status == VOTING_CANCELLED);
      break;
    case TX_TYPE_POLL_DKG_DEAL:
      VE_ASSERT(b->status == VOTING_DKG && is_trustee(s) && !(b->dealt & bit(s)) && h <= d->deal_end);
      VE_ASSERT(a->dealt == (b->dealt | bit(s)));
      break;
    case TX_TYPE_POLL_DKG_COMPLAIN:
      VE_ASSERT(b->status == VOTING_DKG && is_trustee(s) && h > d->deal_end && h <= d->complaint_end);
      check_complain(in, b, a);
      break;
    case TX_TYPE_POLL_DKG_FINISH:
      VE_ASSERT(b->status == VOTING_DKG && (s == FVL_S_ORG || is_trustee(s)));
      VE_ASSERT(h > d->complaint_end && h <= d->close_height);
      check_finish(b, a);
      break;
    case TX_TYPE_POLL_BALLOT: /* on this chain: never (every READY poll is closed) */
      VE_ASSERT(b->status == VOTING_READY && h >= d->open_height && h <= d->close_height);
      break;
    case TX_TYPE_POLL_DECRYPT:
      VE_ASSERT(b->status == VOTING_READY && is_trustee(s) && !(b->decrypted & bit(s)) && h > d->close_height);
      check_decrypt(in, b, a);
      break;
    default: VE_ASSERT(!"an unexpected type was accepted"); break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ready) {
    fvlate_build(&g_late);
    g_ready = true;
  }
  fvlate_input_t in;
  if (fvlate_input_parse(&g_late, data, size, &in) != 0) return 0;
  static voting_poll_t after; /* ~25 KiB: off the stack */
  uint8_t created[VOTING_ID_BYTES];
  const uint8_t *read = NULL;
  if (in.poll >= 0) read = g_late.poll[in.poll];
  if (in.type == TX_TYPE_POLL_CREATE) {
    voting_poll_id(created, g_late.pk[in.signer], FVC_SEQ_RUN);
    read = created;
  }
  ve_slice_t payload = ve_buf_slice(&in.payload);
  int rc = fvchain_exec_read(&g_late.c, in.height, g_late.pk[in.signer], in.type, payload, read, &after);
  VE_ASSERT(rc <= 0 && rc >= VE_ERR_MIN);
  if (rc == VE_OK) {
    if (in.type == TX_TYPE_POLL_TRUSTEE_KEY) {
      VE_ASSERT(is_trustee(in.signer));
    } else if (in.type == TX_TYPE_POLL_CREATE) {
      VE_ASSERT(in.signer == FVL_S_ORG && after.status == VOTING_DKG && after.def.deal_end > in.height);
    } else {
      VE_ASSERT(in.poll >= 0); /* the chain's polls are the only ones */
      check_poll_tx(&in, g_late.rec[in.poll], &after);
    }
  }
  fvlate_input_free(&in);
  return 0;
}
