/* sim_ledger.h — the real ledger as the simulator's application (ledger mode).
 *
 * In ledger mode (sim_config_t.ledger) every simulated node keeps a memory store
 * initialised from one genesis; the store is the node's disk and survives its
 * crashes (a block is durable once its COMMIT is handled, like the app chain of
 * the abstract mode). Values are real blocks: the consensus id of a block is its
 * header hash, as in src/node. This file is the ledger side only: it knows
 * nothing of the event loop, and sim.c decides who builds, validates and
 * commits what, and when.
 *
 * One sim_ledger_t per run holds what all nodes share:
 *   genesis    authorities (a registrar that is also admin and notary, and a
 *              notary) and the run's initial validators;
 *   tx stream  stream[i] is a signed transaction that depends only on the run
 *              seed and i (drawn from its own generator, so the schedule of the
 *              run cannot change it): identity registrations, document
 *              registrations, and some that fail at execution (a stale
 *              sequence, an unknown signer, an expired tx, a signer without
 *              the role, a digest registered twice);
 *   sig cache  tx ids whose signature a successful validation verified, handed
 *              to the ledger as its ledger_sig_cache_fn, so each signature is
 *              verified once per run (sound: a tx id covers its signature).
 * Honest proposers put stream[next .. next+k) in their block, where next is one
 * past the last stream tx on their chain (kept by the caller, durable with the
 * chain), so no honest block repeats a committed tx.
 *
 * Ownership: the caller owns every buffer passed in; stores made by
 * sim_ledger_store_new belong to the caller (store_close). Not thread-safe.
 */
#ifndef VECHE_TESTS_SIM_SIM_LEDGER_H
#define VECHE_TESTS_SIM_SIM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "consensus/consensus.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define SIM_LEDGER_CHAIN_ID "veche-sim"
#define SIM_LEDGER_BLOCK_TXS_MAX 16
#define SIM_LEDGER_GENESIS_MS 1000000u /* genesis time; block time = this + simulated time */
#define SIM_LEDGER_STREAM_MAX 8192     /* transactions one run may draw */

/* How a Byzantine proposer breaks its block (SIM_LEDGER_HONEST: it does not). */
typedef enum {
  SIM_LEDGER_HONEST = 0,
  SIM_LEDGER_BAD_SIG,        /* a transaction whose signature does not verify */
  SIM_LEDGER_BAD_PARENT,     /* prev_hash names another parent */
  SIM_LEDGER_BAD_TX_ROOT,    /* the header's tx root does not match the txs */
  SIM_LEDGER_BAD_STATE_ROOT, /* the header claims another state root */
  SIM_LEDGER_BAD_TIME,       /* not later than the parent */
  SIM_LEDGER_DUP_TX,         /* one transaction twice */
  SIM_LEDGER_WRONG_CHAIN,    /* a transaction signed for another chain */
  SIM_LEDGER_BAD_HEIGHT,     /* the header names the height after */
  SIM_LEDGER_LYING_ID,       /* a good block under an id that is not its hash */
  SIM_LEDGER_BAD_KINDS,
} sim_ledger_bad_t;

typedef struct sim_ledger sim_ledger_t;

/* The run's shared part: genesis with vs as its validators, the tx stream
 * seeded from seed. Returns 0 or an error. */
int sim_ledger_new(sim_ledger_t **out, uint64_t seed, const cons_valset_t *vs);
void sim_ledger_free(sim_ledger_t *L);

/* Pruning nodes (a node's config state_keep_blocks, docs/operations.md): a
 * store made with prune keeps the state of its latest SIM_LEDGER_KEEP_BLOCKS
 * heights, and each commit deletes at most SIM_LEDGER_PRUNE_MAX entries, so
 * that pruning lags and resumes across blocks, crashes and tail losses. */
#define SIM_LEDGER_KEEP_BLOCKS 4
#define SIM_LEDGER_PRUNE_MAX 24

/* A fresh memory store holding the genesis state; prune: with the state's
 * pruning enabled (sim_ledger_commit then prunes after each block). */
int sim_ledger_store_new(sim_ledger_t *L, bool prune, store_t **out);

/* PRUNE check of a pruning store whose tip is at height: the oldest provable
 * version is exactly the window's first, the tip's state root is still there,
 * and the version below the window answers VE_ERR_NOT_FOUND. Returns 0, or an
 * error with why (a static string). */
int sim_ledger_check_pruned(store_t *st, uint64_t height, const char **why);

/* Builds the block for height on store st's tip: proposer pk, valset_hash of
 * the set deciding height, time max(tip time + 1, SIM_LEDGER_GENESIS_MS +
 * now_ms) + time_bump_ms, the transactions stream[*next .. *next + ntx) (ntx ≤
 * SIM_LEDGER_BLOCK_TXS_MAX), broken as bad says. out receives the block bytes
 * (appended to an empty buffer), id the id to propose (the header hash, or for
 * SIM_LEDGER_LYING_ID another one). Returns 0, VE_ERR_HEIGHT when the tip is
 * not height - 1, or an error. */
int sim_ledger_build(sim_ledger_t *L, store_t *st, uint64_t height, uint64_t now_ms,
                     uint64_t time_bump_ms, const uint8_t valset_hash[LEDGER_HASH_BYTES],
                     const uint8_t proposer[VCRYPTO_PK_BYTES], uint64_t next, size_t ntx,
                     sim_ledger_bad_t bad, ve_buf_t *out, uint8_t id[LEDGER_HASH_BYTES]);

/* The node's verdict on a proposed block (what src/node checks, minus its
 * clock): it decodes, its header hash is id, it is for height, its proposer is
 * in vs, and ledger_block_validate accepts it on st's tip with vs's hash
 * (through a read txn that is dropped). Returns 0 or the first error. */
int sim_ledger_validate(sim_ledger_t *L, store_t *st, uint64_t height,
                        const uint8_t id[LEDGER_HASH_BYTES], ve_slice_t block,
                        const cons_valset_t *vs);

/* Commits the block decided at height under id into st in one write txn: it is
 * validated first as sim_ledger_validate does, but inside the write txn
 * (*valid_rc gets that verdict; a block a certificate decided must pass), then
 * ledger_block_commit; *next is moved past the block's stream txs and tip_out
 * receives the tip after the commit. Returns 0 or the commit's error (nothing
 * is then written). A failed validation does not stop the commit: the caller
 * reports it. */
int sim_ledger_commit(sim_ledger_t *L, store_t *st, uint64_t height,
                      const uint8_t id[LEDGER_HASH_BYTES], ve_slice_t block, ve_slice_t cert,
                      const cons_valset_t *vs, uint64_t *next, int *valid_rc,
                      ledger_tip_t *tip_out);

/* The tip of st. */
int sim_ledger_tip(store_t *st, ledger_tip_t *tip);

/* 32-byte digest of what the STATE property compares: height, block hash,
 * time, state root and results root. */
void sim_ledger_tip_digest(const ledger_tip_t *tip, uint8_t out[LEDGER_HASH_BYTES]);

/* Counters for the run's report. */
typedef struct {
  uint64_t stream;     /* transactions drawn */
  uint64_t committed;  /* transactions committed, all nodes */
  uint64_t failed;     /* ... of which failed at execution */
  uint64_t sig_hits;   /* signatures the cache vouched for */
} sim_ledger_stats_t;
void sim_ledger_stats(const sim_ledger_t *L, sim_ledger_stats_t *out);

#endif
