/* state_test_util.h — helpers shared by the state tests: a seeded PRNG, a
 * reference implementation of the tree's root written straight from the
 * definition in docs/state.md (recursive, unoptimised, independent of the stored
 * radix-16 layout), a one-call commit in its own transaction, and LMDB stores
 * in throwaway directories. */
#ifndef VECHE_TESTS_STATE_TEST_UTIL_H
#define VECHE_TESTS_STATE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/bytes.h"
#include "state/state.h"
#include "store/store.h"

/* Seed from VECHE_SEED if set, else from the clock; printed either way. */
uint64_t tu_seed(const char *test_name);
void tu_rng_seed(uint64_t seed);
uint64_t tu_rng(void);
uint64_t tu_rng_below(uint64_t n);
void tu_rng_bytes(uint8_t *out, size_t n);

/* One entry of a map as the reference sees it. */
typedef struct {
  uint8_t path[32];
  uint8_t leaf[32];
} tu_ref_leaf_t;

/* Fills a reference leaf from a key and value. */
void tu_ref_leaf(tu_ref_leaf_t *out, ve_slice_t key, ve_slice_t val);
/* Root of the map made of leaves[0..n) (any order; sorted in place). */
void tu_ref_root(uint8_t root[32], tu_ref_leaf_t *leaves, size_t n);

/* Commits changes as version in a fresh write txn. Returns state_commit's code
 * (the txn is aborted on failure). */
int tu_commit(store_t *s, uint64_t version, const state_change_t *ch, size_t n, uint8_t root[32]);

/* Proves key at version in a read txn and verifies the proof against root,
 * checking presence and value against the expectation (want == NULL: absent).
 * Returns the proof length, or -1 on any mismatch (printed). */
long tu_prove_check(store_t *s, uint64_t version, const uint8_t root[32], ve_slice_t key,
                    const ve_slice_t *want);

/* A fresh LMDB store (1 GiB map) in a new directory under /tmp, whose path is
 * written to dir; NULL on failure. tu_lmdb_close closes it and removes the
 * directory. */
#define TU_LMDB_DIR_BYTES 64
store_t *tu_lmdb_open(char dir[TU_LMDB_DIR_BYTES]);
void tu_lmdb_close(store_t *s, const char *dir);

#endif
