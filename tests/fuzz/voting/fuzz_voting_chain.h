/* fuzz_voting_chain.h — a small memory-store chain holding real polls, for
 * the voting execution harness (fuzz_voting_exec.c) and its seed generator
 * (fuzz_voting_seeds.c). Built once from fixed seeds, so everything on it (keys,
 * poll ids, the joint election key) is the same in every process, and seeds
 * made against it stay valid. Uses only public APIs (no cmocka): failures in
 * building it are VE_ASSERTs.
 *
 * Authorities (genesis): admin (ADMIN|REGISTRAR), organizer (POLL_ORGANIZER),
 * trustees 1..3 (TRUSTEE). Blocks:
 *   1  voters 0..2 registered (0 and 1 in district "d1", 2 in "d2"); the
 *      trustees publish their share-encryption keys
 *   2  the organizer creates poll OPEN (seq FVC_SEQ_OPEN) and poll DKG (seq FVC_SEQ_DKG)
 *   3  trustees 1..3 deal for OPEN; trustees 1 and 2 deal for DKG
 *   5  the organizer finishes OPEN's key generation: READY
 *   6  voter 0 casts a ballot in OPEN
 * Poll OPEN: one question, 2 options, exactly one choice, district "d1" only,
 * n = 3, t = 2, ballots at heights [6, 100]. Poll DKG: same question, no filter,
 * n = 3, t = 2, dealings until 200, complaints (200, 300], open 400, close 500;
 * trustee 3 has not dealt. The tip is block 6.
 *
 * fvchain_start builds only the common start (genesis and block 1) for other
 * chains made of the same parties (fuzz_voting_late.h), which add their own
 * blocks with fvchain_block_*.
 *
 * Ownership: fvchain_build fills a caller-owned fvchain_t whose store lives
 * until fvchain_free. fvchain_exec borrows everything. */
#ifndef VECHE_TESTS_FUZZ_VOTING_CHAIN_H
#define VECHE_TESTS_FUZZ_VOTING_CHAIN_H

#include <stdint.h>

#include "apps/identity/identity.h"
#include "apps/voting/voting.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define FVC_CHAIN "fuzz-voting"
#define FVC_TRUSTEES 3
#define FVC_VOTERS 3
#define FVC_TIP 6

/* Heights of poll OPEN and poll DKG. */
#define FVC_OPEN_OPEN 6
#define FVC_OPEN_CLOSE 100
#define FVC_DKG_DEAL_END 200
#define FVC_DKG_COMPLAINT_END 300
#define FVC_DKG_OPEN 400
#define FVC_DKG_CLOSE 500

/* Sequence numbers: set-up transactions use 1..99; a dry run uses FVC_SEQ_RUN,
 * fresh for every signer. */
#define FVC_SEQ_OPEN 10
#define FVC_SEQ_DKG 11
#define FVC_SEQ_RUN 1000

typedef struct {
  store_t *store;
  uint64_t seq;
  vcrypto_keypair_t admin, organizer, trustee[FVC_TRUSTEES], voter[FVC_VOTERS], unknown;
  uint8_t organizer_id[32], trustee_id[FVC_TRUSTEES][32], voter_id[FVC_VOTERS][32];
  vote_keypair_t enc[FVC_TRUSTEES]; /* trustees' share-encryption keys */
  uint8_t poll_open[VOTING_ID_BYTES], poll_dkg[VOTING_ID_BYTES];
} fvchain_t;

/* One block being built: a write transaction and its executor. */
typedef struct {
  store_txn_t *t;
  ledger_exec_t *ex;
} fvchain_block_t;

extern const ledger_registry_t FVC_REG;

ve_slice_t fvchain_id(void);
/* Builds the chain above (asserts on any failure). */
void fvchain_build(fvchain_t *c);
/* Keys, genesis and block 1 only; c->seq is then FVC_SEQ_OPEN. */
void fvchain_start(fvchain_t *c);
void fvchain_free(fvchain_t *c);
/* A block at height: begin, set-up transactions that must succeed (each gets
 * the next c->seq, which it returns), end (commits). */
void fvchain_block_begin(fvchain_t *c, fvchain_block_t *b, uint64_t height);
uint64_t fvchain_block_tx(fvchain_t *c, fvchain_block_t *b, const vcrypto_keypair_t *kp, uint32_t type,
                          const ve_buf_t *payload);
void fvchain_block_end(fvchain_block_t *b);
/* Executes one transaction (type, payload, signed by signer's public key with
 * sequence FVC_SEQ_RUN) at height as a dry run on a read transaction; nothing
 * is kept. Returns its result code. */
int fvchain_exec(fvchain_t *c, uint64_t height, const uint8_t signer_pk[VCRYPTO_PK_BYTES], uint32_t type,
                 ve_slice_t payload);
/* The same; when the transaction is accepted and poll is not NULL, *after
 * receives that poll's record as the transaction left it (asserts it exists). */
int fvchain_exec_read(fvchain_t *c, uint64_t height, const uint8_t signer_pk[VCRYPTO_PK_BYTES], uint32_t type,
                      ve_slice_t payload, const uint8_t poll[VOTING_ID_BYTES], voting_poll_t *after);
/* The committed poll record (asserts it exists). */
void fvchain_poll(fvchain_t *c, const uint8_t id[VOTING_ID_BYTES], voting_poll_t *out);
/* Trustee j's (1-based) honest dealing for poll pl (the one on the chain;
 * replaces out's contents), and the same as a deal payload. The _bad forms
 * seal the share of trustee victim (1-based; 0 = nobody) to a key nobody
 * holds, so victim's complaint against it is upheld; the rest is the same. */
void fvchain_dealing(const voting_poll_t *pl, uint32_t j, ve_buf_t *out);
void fvchain_deal_payload(const voting_poll_t *pl, uint32_t j, ve_buf_t *p);
void fvchain_dealing_bad(const voting_poll_t *pl, uint32_t j, uint32_t victim, ve_buf_t *out);
void fvchain_deal_payload_bad(const voting_poll_t *pl, uint32_t j, uint32_t victim, ve_buf_t *p);
/* Trustee j's (1-based) secret key share of poll pl (which has its key), from
 * the dealings committed on c's chain. Wipe x after use. */
void fvchain_secret(fvchain_t *c, const voting_poll_t *pl, uint32_t j, uint8_t x[VOTE_SCALAR_BYTES]);
/* The poll definition both polls use (deal_end etc. as given). */
void fvchain_def(fvchain_t *c, voting_def_t *d, uint64_t deal_end, uint64_t complaint_end, uint64_t open,
                 uint64_t close, bool filter);

#endif
