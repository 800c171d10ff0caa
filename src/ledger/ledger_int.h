/* ledger_int.h — insides of src/ledger shared by its .c files (not a public header). */
#ifndef VECHE_LEDGER_LEDGER_INT_H
#define VECHE_LEDGER_LEDGER_INT_H

#include "ledger/ledger.h"

/* Names the chain history around the block being executed: before = the hash of
 * the block (or genesis) whose state the txn holds, after = this block's hash.
 * ledger_exec_finish then commits through state_commit_cached, which keeps the
 * tree's upper nodes in memory from one block to the next (block hashes chain
 * back to genesis, so one hash names one history of state commits). */
void ledger_exec_set_history(ledger_exec_t *ex, const uint8_t before[LEDGER_HASH_BYTES],
                             const uint8_t after[LEDGER_HASH_BYTES]);

/* Keeps values read from the store in the overlay for the rest of the block
 * (for block execution; a one-tx dry run gains nothing from it). */
void ledger_exec_remember_reads(ledger_exec_t *ex);

#endif
