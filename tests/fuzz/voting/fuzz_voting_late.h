/* fuzz_voting_late.h — a second poll chain for the voting execution harness
 * fuzz_voting_exec2.c and its seeds (fuzz_voting_seeds.c): polls whose key
 * generation is over, was judged on an upheld complaint, or whose ballot
 * window has closed. Each needs a history the first chain
 * (fuzz_voting_chain.h) does not have, so this is another chain, built once
 * per process from fixed seeds like that one (same parties, same genesis and
 * block 1, then fvchain_block_* blocks).
 *
 * Blocks after the common start (genesis, block 1: voters 0..2 — 0 and 1 in
 * district "d1", 2 in "d2" — and the trustees' share-encryption keys):
 *   2  the organizer creates the five polls below (sequences 20..24)
 *   3  dealings: UPHELD 1, 2, 3 (1's share for trustee 2 sealed to a wrong
 *      key); FAILED 1 and 2 (2's share for trustee 1 sealed to a wrong key);
 *      CLOSED, DONE and CANCELLED 1, 2, 3
 *   4  trustee 1 complains against dealer 2 in FAILED: upheld
 *   5  finish: FAILED fails (only dealer 1 qualifies, t = 2); CLOSED, DONE
 *      and CANCELLED get their keys (READY)
 *   6  ballots: CLOSED voter 0 {1,0}, voter 1 {0,1}, voter 2 {1,0}; DONE
 *      voter 0 {0,1}; the organizer cancels CANCELLED (READY, before open)
 *   7  CLOSED: voter 2 replaces its ballot with {0,1}
 *   9  decryption shares: CLOSED trustee 1; DONE trustees 1 and 3 (DONE)
 *  11  trustee 2 complains against dealer 1 in UPHELD: upheld
 * The tip is block 11 (FVL_TIP); a dry run runs at a height above it.
 *
 * The polls (one question, 2 options, exactly one choice, no district
 * filter, n = 3 trustees, t = 2) at the tip:
 *   UPHELD     DKG: all dealt, a complaint against dealer 1 upheld; dealings
 *              until 10, complaints (10, 30], open 40, close 50. Finishing
 *              it leaves dealers 2 and 3 qualified.
 *   FAILED     FAILED (key generation failed); windows 3, 4, 40, 50.
 *   CLOSED     READY, ballots were [6, 8]; counts north 1, south 2 (three
 *              voters); trustee 1's share is in: one more valid share
 *              decrypts it.
 *   DONE       DONE: counts north 0, south 1 (one voter), trustees 1 and 3.
 *   CANCELLED  CANCELLED after its key was made; windows 3, 4, 40, 50.
 *
 * Ownership: fvlate_build fills a caller-owned fvlate_t (its chain's store
 * and the poll records it allocates) until fvlate_free. */
#ifndef VECHE_TESTS_FUZZ_VOTING_LATE_H
#define VECHE_TESTS_FUZZ_VOTING_LATE_H

#include <stdint.h>

#include "fuzz_voting_chain.h"

#define FVL_TIP 11
#define FVL_SEQ_FIRST 20

enum { FVL_UPHELD, FVL_FAILED, FVL_CLOSED, FVL_DONE, FVL_CANCELLED, FVL_POLLS };

/* Signers a selector names (fvlate_input_parse). */
enum {
  FVL_S_NATURAL, /* the party the payload speaks for (see fvlate_input_parse) */
  FVL_S_ORG,
  FVL_S_ADMIN,
  FVL_S_T1,
  FVL_S_T2,
  FVL_S_T3,
  FVL_S_V0,
  FVL_S_V1,
  FVL_S_V2,
  FVL_S_UNKNOWN,
  FVL_S_COUNT
};

typedef struct {
  fvchain_t c;
  uint8_t poll[FVL_POLLS][VOTING_ID_BYTES];
  voting_poll_t *rec[FVL_POLLS];                /* committed records at the tip */
  uint64_t counts[FVL_POLLS][2], voters[FVL_POLLS]; /* what each poll's ballots add up to */
  const uint8_t *pk[FVL_S_COUNT];               /* signer keys by FVL_S_* (NATURAL: NULL) */
} fvlate_t;

/* Builds the chain above and checks every poll's state at the tip. */
void fvlate_build(fvlate_t *l);
void fvlate_free(fvlate_t *l);

/* Payload builders against the chain's state (each replaces out's contents;
 * seed_byte fills the 32-byte seed): dealer i's dealing in poll k as
 * committed; trustee complainer's complaint against dealer in poll k; voter's
 * ballot in poll k (which has its key); trustee j's decryption share of poll
 * k's committed tally (k has its key). The ballots of blocks 6 and 7 used
 * seed bytes FVL_BALLOT_SEED + 0..4. */
#define FVL_BALLOT_SEED 0x80
void fvlate_dealing(fvlate_t *l, int k, uint32_t i, ve_buf_t *out);
void fvlate_complain_payload(fvlate_t *l, int k, uint32_t dealer, uint32_t complainer, int seed_byte,
                             ve_buf_t *out);
void fvlate_ballot_payload(fvlate_t *l, int k, uint32_t voter, const uint8_t choices[2], int seed_byte,
                           ve_buf_t *out);
void fvlate_decrypt_payload(fvlate_t *l, int k, uint32_t j, int seed_byte, ve_buf_t *out);

/* One harness input, decoded:
 *   byte 0: type = 0x0300 + b % 10 (the app's eight types and two unknown
 *           ones), signer = b / 10 % 10 (FVL_S_*);
 *   byte 1: poll = b % 6: 0 keeps the poll the payload names, k = 1..5 puts
 *           poll k-1 (FVL_UPHELD..FVL_CANCELLED) into it (payloads that name a
 *           poll: all but the trustee key and create ones); height = b / 6 % 4:
 *           0 the natural height, 1 one above, 2 one below, 3 a million above
 *           (never at or below the tip);
 *   the rest: the payload.
 * The natural signer is the party the payload speaks for: a dealing's dealer,
 * a complaint's complainer, a ballot's voter, a decryption share's trustee
 * (trustee 3, voter 1 when the payload does not say or names nobody known);
 * the organizer for create, cancel and finish; trustee 1 for a trustee key.
 * The natural height is the edge of the type's window in the named poll
 * (cancel: open - 1; deal: deal_end; complain: complaint_end; finish:
 * complaint_end + 1; ballot: close; decrypt: close + 1), raised to FVL_TIP + 1
 * if below it; FVL_TIP + 1 for the others and for polls not on the chain. */
typedef struct {
  uint32_t type;
  int signer;      /* FVL_S_*, never NATURAL */
  uint64_t height;
  int poll;        /* FVL_* the payload names, or -1 (none, or not on the chain) */
  ve_buf_t payload; /* owned: free with fvlate_input_free */
} fvlate_input_t;

/* Returns 0, or -1 for an input too short (< 2 bytes) or too long. */
int fvlate_input_parse(const fvlate_t *l, const uint8_t *data, size_t size, fvlate_input_t *in);
void fvlate_input_free(fvlate_input_t *in);

#endif
