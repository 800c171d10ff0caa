/* state_cache_test.c — state_commit_cached against state_commit.
 *
 * The cache of upper tree nodes must change nothing but speed: two stores fed
 * the same seeded sequence of batches, one through state_commit and one through
 * state_commit_cached, must end with the same roots after every version and
 * byte-identical state tables (current values, nodes, history). Also: an
 * aborted cached commit (alone, or two in one transaction) followed by a
 * different commit of the same versions; two stores with different histories
 * taking turns; a caller that names the wrong history, which the per-node
 * version and hash check must still survive; and two stores with pruning
 * enabled and pruned alike, whose stale logs must be identical too. Prints
 * its seed; replay with VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "state/state.h"
#include "state_test_util.h"

#define KEYS 4000         /* key universe: enough for nodes at nibble depth 4 */
#define BATCH_MAX 900
#define VALUE_BYTES_MAX 40

typedef struct {
  state_change_t ch[BATCH_MAX];
  uint8_t key[BATCH_MAX][8], val[BATCH_MAX][VALUE_BYTES_MAX];
  size_t n;
} batch_t;

/* A random batch: sets (new or existing keys), deletes (present or absent),
 * the same key twice now and then. */
static void batch_random(batch_t *b, size_t n) {
  b->n = n;
  for (size_t i = 0; i < n; i++) {
    uint64_t k = tu_rng_below(KEYS);
    if (i > 0 && tu_rng_below(20) == 0) memcpy(b->key[i], b->key[i - 1], 8);
    else ve_be64_put(b->key[i], k);
    size_t vlen = 1 + (size_t)tu_rng_below(VALUE_BYTES_MAX);
    tu_rng_bytes(b->val[i], vlen);
    bool del = tu_rng_below(6) == 0;
    b->ch[i].key = ve_slice(b->key[i], 8);
    b->ch[i].val = ve_slice(b->val[i], del ? 0 : vlen);
    b->ch[i].del = del;
  }
}

static void history(uint8_t out[32], const char *branch, uint64_t version) {
  uint8_t v[8];
  ve_be64_put(v, version);
  vcrypto_hasher_t h;
  vcrypto_hasher_init(&h, "veche/test/history");
  vcrypto_hasher_update(&h, (const uint8_t *)branch, strlen(branch));
  vcrypto_hasher_update(&h, v, sizeof v);
  vcrypto_hasher_final(&h, out);
}

/* Commits in its own txn through state_commit_cached. */
static int commit_cached(store_t *s, const char *branch_before, const char *branch_after,
                         uint64_t version, const batch_t *b, uint8_t root[32]) {
  uint8_t before[32], after[32];
  history(before, branch_before, version - 1);
  history(after, branch_after, version);
  store_txn_t *t;
  int rc = store_txn_begin(s, true, &t);
  if (rc) return rc;
  rc = state_commit_cached(t, before, after, version, b->ch, b->n, root);
  if (rc) {
    store_txn_abort(t);
    return rc;
  }
  return store_txn_commit(t);
}

/* Every entry of table in a equals the one in b, in order. */
static void tables_equal(store_t *a, store_t *b, store_table_t table) {
  store_txn_t *ta, *tb;
  assert_int_equal(store_txn_begin(a, false, &ta), 0);
  assert_int_equal(store_txn_begin(b, false, &tb), 0);
  store_cursor_t *ca, *cb;
  assert_int_equal(store_cursor_open(ta, table, &ca), 0);
  assert_int_equal(store_cursor_open(tb, table, &cb), 0);
  ve_slice_t ka, va, kb, vb;
  size_t n = 0;
  int ra = store_cursor_seek(ca, ve_slice(NULL, 0), &ka, &va);
  int rb = store_cursor_seek(cb, ve_slice(NULL, 0), &kb, &vb);
  while (ra == VE_OK && rb == VE_OK) {
    assert_true(ve_slice_eq(ka, kb));
    assert_true(ve_slice_eq(va, vb));
    n++;
    ra = store_cursor_next(ca, &ka, &va);
    rb = store_cursor_next(cb, &kb, &vb);
  }
  assert_int_equal(ra, VE_ERR_NOT_FOUND);
  assert_int_equal(rb, VE_ERR_NOT_FOUND);
  assert_true(n > 0);
  store_cursor_close(ca);
  store_cursor_close(cb);
  store_txn_abort(ta);
  store_txn_abort(tb);
}

static void state_tables_equal(store_t *a, store_t *b) {
  tables_equal(a, b, STORE_T_STATE);
  tables_equal(a, b, STORE_T_STATE_NODES);
  tables_equal(a, b, STORE_T_STATE_HIST);
}

static void test_cached_writes_identical(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("state_cache_test/identical"));
  state_cache_reset();
  store_t *a, *b;
  assert_int_equal(store_open_mem(&a), 0);
  assert_int_equal(store_open_mem(&b), 0);
  batch_t *bt = malloc(sizeof *bt);
  assert_non_null(bt);
  for (uint64_t v = 1; v <= 60; v++) {
    batch_random(bt, v < 6 ? BATCH_MAX : 1 + (size_t)tu_rng_below(BATCH_MAX));
    uint8_t ra[32], rb[32];
    assert_int_equal(tu_commit(a, v, bt->ch, bt->n, ra), 0);
    assert_int_equal(commit_cached(b, "main", "main", v, bt, rb), 0);
    assert_memory_equal(ra, rb, 32);
    if (v % 15 == 0) state_tables_equal(a, b);
  }
  state_cache_stats_t cs;
  state_cache_stats_get(&cs);
  assert_true(cs.hits > 1000); /* the cache did serve the upper nodes */
  assert_int_equal(cs.stale, 0);
  assert_int_equal(cs.resets, 0);
  assert_true(cs.bytes > 0);
  free(bt);
  store_close(a);
  store_close(b);
  state_cache_reset();
}

static void test_aborted_commits(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("state_cache_test/aborted"));
  state_cache_reset();
  store_t *a, *b;
  assert_int_equal(store_open_mem(&a), 0);
  assert_int_equal(store_open_mem(&b), 0);
  batch_t *bt = malloc(sizeof *bt), *other = malloc(sizeof *other);
  assert_non_null(bt);
  assert_non_null(other);
  uint8_t ra[32], rb[32];
  uint64_t v = 1;
  for (; v <= 5; v++) {
    batch_random(bt, BATCH_MAX);
    assert_int_equal(tu_commit(a, v, bt->ch, bt->n, ra), 0);
    assert_int_equal(commit_cached(b, "main", "main", v, bt, rb), 0);
  }
  /* One aborted cached commit of version 6, then another batch as version 6. */
  batch_random(other, BATCH_MAX);
  uint8_t before[32], after[32], before2[32], after2[32];
  history(before, "main", 5);
  history(after, "lost", 6);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(b, true, &t), 0);
  assert_int_equal(state_commit_cached(t, before, after, 6, other->ch, other->n, rb), 0);
  store_txn_abort(t);
  batch_random(bt, BATCH_MAX);
  assert_int_equal(tu_commit(a, 6, bt->ch, bt->n, ra), 0);
  assert_int_equal(commit_cached(b, "main", "main", 6, bt, rb), 0);
  assert_memory_equal(ra, rb, 32);
  state_tables_equal(a, b);

  /* Two cached commits in one aborted txn (7 and 8), then 7 and 8 again. */
  assert_int_equal(store_txn_begin(b, true, &t), 0);
  history(before, "main", 6);
  history(after, "lost", 7);
  batch_random(other, BATCH_MAX);
  assert_int_equal(state_commit_cached(t, before, after, 7, other->ch, other->n, rb), 0);
  history(before2, "lost", 7);
  history(after2, "lost", 8);
  batch_random(other, BATCH_MAX);
  assert_int_equal(state_commit_cached(t, before2, after2, 8, other->ch, other->n, rb), 0);
  store_txn_abort(t);
  for (v = 7; v <= 8; v++) {
    batch_random(bt, BATCH_MAX);
    assert_int_equal(tu_commit(a, v, bt->ch, bt->n, ra), 0);
    assert_int_equal(commit_cached(b, "main", "main", v, bt, rb), 0);
    assert_memory_equal(ra, rb, 32);
  }
  state_tables_equal(a, b);

  /* A caller naming the wrong history: after an aborted commit of version 9
   * ("ghost"), the next commit claims the store holds "ghost" 9 while it holds
   * "main" 8. The nodes the ghost commit cached carry version 9, which the
   * tree's slots do not name, so they are dropped and read from the store;
   * the result is still right. */
  assert_int_equal(store_txn_begin(b, true, &t), 0);
  history(before, "main", 8);
  history(after, "ghost", 9);
  batch_random(other, BATCH_MAX);
  assert_int_equal(state_commit_cached(t, before, after, 9, other->ch, other->n, rb), 0);
  store_txn_abort(t);
  batch_random(bt, BATCH_MAX);
  assert_int_equal(tu_commit(a, 9, bt->ch, bt->n, ra), 0);
  assert_int_equal(store_txn_begin(b, true, &t), 0);
  history(after2, "main", 9);
  assert_int_equal(state_commit_cached(t, after, after2, 9, bt->ch, bt->n, rb), 0); /* the lie */
  assert_int_equal(store_txn_commit(t), 0);
  assert_memory_equal(ra, rb, 32);
  state_tables_equal(a, b);
  state_cache_stats_t cs;
  state_cache_stats_get(&cs);
  assert_true(cs.stale > 0);
  assert_true(cs.resets >= 2);
  free(bt);
  free(other);
  store_close(a);
  store_close(b);
  state_cache_reset();
}

/* Commits (cached or not) and prunes to keep_from in one txn. */
static void commit_prune(store_t *s, bool cached, uint64_t version, const batch_t *b,
                         uint64_t keep_from, size_t max, uint8_t root[32]) {
  uint8_t before[32], after[32];
  history(before, "main", version - 1);
  history(after, "main", version);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, true, &t), 0);
  if (version == 1) assert_int_equal(state_prune_enable(t), 0);
  if (cached) {
    assert_int_equal(state_commit_cached(t, before, after, version, b->ch, b->n, root), 0);
  } else {
    assert_int_equal(state_commit(t, version, b->ch, b->n, root), 0);
  }
  size_t deleted;
  assert_int_equal(state_prune(t, keep_from, max, &deleted), 0);
  assert_true(deleted <= max);
  assert_int_equal(store_txn_commit(t), 0);
}

static void test_cached_writes_identical_pruned(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("state_cache_test/pruned"));
  state_cache_reset();
  store_t *a, *b;
  assert_int_equal(store_open_mem(&a), 0);
  assert_int_equal(store_open_mem(&b), 0);
  batch_t *bt = malloc(sizeof *bt);
  assert_non_null(bt);
  state_cache_stats_t cs0, cs;
  state_cache_stats_get(&cs0);
  uint64_t keep_from = 1;
  for (uint64_t v = 1; v <= 45; v++) {
    batch_random(bt, v < 6 ? BATCH_MAX : 1 + (size_t)tu_rng_below(BATCH_MAX));
    if (v > 4) keep_from = v - 4 + (uint64_t)tu_rng_below(3);
    size_t max = tu_rng_below(2) ? 1 + (size_t)tu_rng_below(3000) : (size_t)1 << 30;
    uint8_t ra[32], rb[32];
    commit_prune(a, false, v, bt, keep_from, max, ra);
    commit_prune(b, true, v, bt, keep_from, max, rb);
    assert_memory_equal(ra, rb, 32);
    if (v % 15 == 0) state_tables_equal(a, b);
  }
  state_cache_stats_get(&cs);
  assert_true(cs.hits - cs0.hits > 1000); /* the cache did serve */
  assert_int_equal(cs.stale - cs0.stale, 0);
  free(bt);
  store_close(a);
  store_close(b);
  state_cache_reset();
}

static void test_two_histories_alternating(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("state_cache_test/alternating"));
  state_cache_reset();
  store_t *s[2], *ref[2];
  for (int i = 0; i < 2; i++) {
    assert_int_equal(store_open_mem(&s[i]), 0);
    assert_int_equal(store_open_mem(&ref[i]), 0);
  }
  batch_t *bt = malloc(sizeof *bt);
  assert_non_null(bt);
  const char *branch[2] = {"left", "right"};
  for (uint64_t v = 1; v <= 12; v++) {
    for (int i = 0; i < 2; i++) {
      batch_random(bt, 1 + (size_t)tu_rng_below(BATCH_MAX));
      uint8_t r1[32], r2[32];
      assert_int_equal(tu_commit(ref[i], v, bt->ch, bt->n, r1), 0);
      assert_int_equal(commit_cached(s[i], branch[i], branch[i], v, bt, r2), 0);
      assert_memory_equal(r1, r2, 32);
    }
  }
  for (int i = 0; i < 2; i++) state_tables_equal(ref[i], s[i]);
  state_cache_stats_t cs;
  state_cache_stats_get(&cs);
  assert_true(cs.resets >= 20); /* each switch of history empties the cache */
  free(bt);
  for (int i = 0; i < 2; i++) {
    store_close(s[i]);
    store_close(ref[i]);
  }
  state_cache_reset();
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cached_writes_identical),
      cmocka_unit_test(test_aborted_commits),
      cmocka_unit_test(test_two_histories_alternating),
      cmocka_unit_test(test_cached_writes_identical_pruned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
