/* pfix.h — a memory-store chain for the poll app tests: genesis with an admin,
 * a registrar, a poll organizer and PF_TRUSTEES trustees (authorities), and
 * PF_VOTERS citizens registered in block 1 (even ones in district "d1", odd
 * ones in "d2"). Transactions are built and committed block by block; every
 * committed transaction is logged with its height and result code so the
 * audit engine can replay the chain. */
#ifndef VECHE_TESTS_VOTING_PFIX_H
#define VECHE_TESTS_VOTING_PFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/identity/identity.h"
#include "apps/voting/voting.h"
#include "ledger/ledger.h"
#include "tchain.h"

#define PF_CHAIN "veche-poll-test-1"
#define PF_TRUSTEES 5
#define PF_VOTERS 40

typedef struct {
  uint64_t height;
  ve_buf_t tx;
  int32_t code;
} pf_logged_t;

/* The committed transactions of a test chain, each with its height and result
 * code, in order: what the audit engine replays. */
typedef struct {
  pf_logged_t *at;
  size_t n, cap;
} pf_log_t;

/* tchain_commit of a block of n txs, each logged; results (may be NULL) get
 * the codes. */
void pf_log_commit(pf_log_t *log, tchain_t *tc, const ve_buf_t *txs, size_t n, int32_t *results);
void pf_log_free(pf_log_t *log);
/* Replays every logged transaction into the audit engine `a` (a ballot that
 * committed gets the proof pre-check a node's admission runs) and finishes it.
 * Returns the engine's verdict, with its reason. */
int pf_log_audit(const pf_log_t *log, voting_audit_t *a, voting_audit_report_t *rep, char *reason, size_t rl);

typedef struct {
  tchain_t tc; /* the chain: store, genesis, validator, next sequence number */
  vcrypto_keypair_t admin, registrar, organizer, stranger;
  uint8_t organizer_id[32], stranger_id[32];
  vcrypto_keypair_t trustee[PF_TRUSTEES];
  uint8_t trustee_id[PF_TRUSTEES][32];
  vote_keypair_t enc[PF_TRUSTEES];
  vcrypto_keypair_t voter[PF_VOTERS];
  uint8_t voter_id[PF_VOTERS][32];
  uint64_t rng_seed, rng_ctr; /* ballot randomness: H(rng_seed || rng_ctr++) */
  pf_log_t log;
} pf_chain_t;

extern const ledger_registry_t PF_REG;

/* The founding authorities both poll fixtures put in genesis, in this order:
 * ministry (admin), city registry (registrar), city hall (poll organizer) and
 * trustees 1..n, each key from tchain_key (seeds 1, 2, 3 and 6/j). */
void pf_founders(tchain_t *tc, vcrypto_keypair_t *admin, vcrypto_keypair_t *registrar,
                 vcrypto_keypair_t *organizer, uint8_t organizer_id[32], vcrypto_keypair_t *trustee,
                 uint8_t (*trustee_id)[32], uint32_t n);
void pf_init(pf_chain_t *c);
void pf_free(pf_chain_t *c);
ve_slice_t pf_chain_id(void);

/* A signed transaction by kp (next sequence number), appended to out. */
void pf_tx(pf_chain_t *c, ve_buf_t *out, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload);
/* Validates and commits a block of n txs; results (may be NULL) get the codes. */
void pf_commit(pf_chain_t *c, ve_buf_t *txs, size_t n, int32_t *results);
/* One tx in its own block; returns its result code. */
int32_t pf_run1(pf_chain_t *c, const vcrypto_keypair_t *kp, uint32_t type, const ve_buf_t *payload);
/* Runs tx bytes as given (already signed) in their own block. */
int32_t pf_run_raw(pf_chain_t *c, const ve_buf_t *tx);
uint64_t pf_height(pf_chain_t *c);
/* Empty blocks until the next block is height h. */
void pf_advance_to(pf_chain_t *c, uint64_t h);
void pf_root(pf_chain_t *c, uint64_t h, uint8_t root[32]);

/* Publishes every trustee's encryption key (one block). */
void pf_trustee_keys(pf_chain_t *c);
/* A definition: "Metro line name?" (2 options, exactly 1) and "Rehousing?" (3
 * options, 0..2), trustees 1..n with threshold t; heights from the next block
 * h0: deal_end h0+3, complaint_end h0+5, open h0+6, close h0+6+window. */
void pf_def(pf_chain_t *c, voting_def_t *d, uint32_t n, uint32_t t, uint64_t window);
/* Creates the poll (organizer); returns the code and the id. */
int32_t pf_create(pf_chain_t *c, const voting_def_t *d, uint8_t id[32]);
int pf_poll(pf_chain_t *c, const uint8_t id[32], voting_poll_t *out);
int pf_tally(pf_chain_t *c, const voting_poll_t *p, voting_tally_rec_t *out);
/* Trustee j's (1-based) honest dealing payload. */
void pf_dealing(pf_chain_t *c, const voting_poll_t *p, uint32_t j, ve_buf_t *payload);
/* Every trustee deals (one block), then empty blocks to after complaint_end,
 * then the organizer finishes. Returns the finish code. */
int32_t pf_dkg(pf_chain_t *c, const uint8_t id[32]);
/* Trustee j's secret share from the dealings on the chain. */
int pf_secret(pf_chain_t *c, const voting_poll_t *p, uint32_t j, uint8_t x[32]);
/* Voter v's ballot payload for choices (one byte per option). */
void pf_ballot(pf_chain_t *c, const voting_poll_t *p, uint32_t v, const uint8_t *choices, ve_buf_t *payload,
               uint8_t tracker[32]);
/* Trustee j's decryption payload for the poll's current tally. */
void pf_decrypt_payload(pf_chain_t *c, const voting_poll_t *p, uint32_t j, ve_buf_t *payload);

/* Runs the audit engine over the logged transactions against the poll and
 * tally records as stored now (p_override/t_override replace them if not
 * NULL). Returns its code; reason gets the message. */
int pf_audit(pf_chain_t *c, const uint8_t id[32], const voting_poll_t *p_override,
             const voting_tally_rec_t *t_override, voting_audit_report_t *rep, char *reason, size_t rl);

#endif
