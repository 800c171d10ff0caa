/* store_test.c — the store contract, checked on every backend.
 *
 * The same suite runs against the memory and the LMDB backend (cmocka prestate
 * selects which), then LMDB-only tests (reopen, full map, kill -9 atomicity) and
 * a seeded model test that drives both backends and a naive sorted-array model
 * with the same random operations and compares every answer.
 *
 * Random tests print their seed; replay with VECHE_SEED=<seed> ./store_test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/log.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "trng.h"

/* ---- Helpers ---------------------------------------------------------------- */

typedef enum { BK_MEM, BK_LMDB } backend_t;
static backend_t g_mem = BK_MEM, g_lmdb = BK_LMDB;

typedef struct {
  backend_t bk;
  store_t *s;
  char dir[64];
  bool done; /* the test body ran to its end */
} fx_t;

/* A test body over a fixture. A body that fails returns early (cmocka longjmps)
 * and may leave a txn open; the teardown then leaks the store instead of
 * tripping store_close's assert, so cmocka can report the real failure. */
#define STORE_TEST(name)                                                        \
  static void name##_body(fx_t *fx);                                            \
  static void name(void **state) {                                              \
    fx_t *fx = *state;                                                          \
    name##_body(fx);                                                            \
    fx->done = true;                                                            \
  }                                                                             \
  static void name##_body(fx_t *fx)

static uint64_t g_seed;

static uint32_t rng_below(uint64_t *st, uint32_t n) { return (uint32_t)(trng_step(st) % n); }

static ve_slice_t S(const char *s) { return ve_slice(s, strlen(s)); }

static void make_tmpdir(char *dir, size_t cap) {
  snprintf(dir, cap, "/tmp/veche-store-XXXXXX");
  assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static store_t *open_backend(backend_t bk, const char *dir) {
  store_t *s = NULL;
  int rc = bk == BK_MEM ? store_open_mem(&s) : store_open_lmdb(&s, dir, 0);
  assert_int_equal(rc, 0);
  assert_non_null(s);
  return s;
}

static int fx_setup(void **state) {
  fx_t *fx = calloc(1, sizeof *fx);
  assert_non_null(fx);
  fx->bk = *(backend_t *)*state;
  if (fx->bk == BK_LMDB) make_tmpdir(fx->dir, sizeof fx->dir);
  fx->s = open_backend(fx->bk, fx->dir);
  *state = fx;
  return 0;
}

static int fx_teardown(void **state) {
  fx_t *fx = *state;
  if (fx->done && fx->bk == BK_MEM) assert_int_equal(store_mem_check(fx->s), 0);
  if (fx->done) store_close(fx->s);
  if (fx->bk == BK_LMDB) remove_dir(fx->dir);
  free(fx);
  return 0;
}

static store_txn_t *begin(store_t *s, bool write) {
  store_txn_t *t = NULL;
  assert_int_equal(store_txn_begin(s, write, &t), 0);
  assert_non_null(t);
  return t;
}

static void put1(store_t *s, store_table_t tb, const char *k, const char *v) {
  store_txn_t *t = begin(s, true);
  assert_int_equal(store_put(t, tb, S(k), S(v)), 0);
  assert_int_equal(store_txn_commit(t), 0);
}

/* Asserts that key k holds v (v NULL: absent). */
static void expect_val(store_txn_t *t, store_table_t tb, const char *k, const char *v) {
  ve_slice_t got;
  int rc = store_get(t, tb, S(k), &got);
  if (!v) {
    assert_int_equal(rc, VE_ERR_NOT_FOUND);
    return;
  }
  assert_int_equal(rc, 0);
  assert_int_equal(got.len, strlen(v));
  assert_memory_equal(got.ptr, v, got.len);
}

static void expect_key(int rc, ve_slice_t k, const char *want) {
  if (!want) {
    assert_int_equal(rc, VE_ERR_NOT_FOUND);
    return;
  }
  assert_int_equal(rc, 0);
  assert_int_equal(k.len, strlen(want));
  assert_memory_equal(k.ptr, want, k.len);
}

static uint64_t count_of(store_txn_t *t, store_table_t tb) {
  uint64_t n = 0;
  assert_int_equal(store_count(t, tb, &n), 0);
  return n;
}

/* ---- Point operations --------------------------------------------------- */

STORE_TEST(test_put_get_del) {
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(count_of(t, STORE_T_STATE), 0);
  assert_int_equal(store_put(t, STORE_T_STATE, S("alpha"), S("1")), 0);
  assert_int_equal(store_put(t, STORE_T_STATE, S("beta"), S("22")), 0);
  expect_val(t, STORE_T_STATE, "alpha", "1");
  expect_val(t, STORE_T_STATE, "beta", "22");
  assert_int_equal(count_of(t, STORE_T_STATE), 2);
  assert_int_equal(store_del(t, STORE_T_STATE, S("alpha")), 0);
  expect_val(t, STORE_T_STATE, "alpha", NULL);
  assert_int_equal(store_del(t, STORE_T_STATE, S("alpha")), 0); /* absent: fine */
  assert_int_equal(store_del(t, STORE_T_STATE, S("never")), 0);
  assert_int_equal(count_of(t, STORE_T_STATE), 1);
  assert_int_equal(store_txn_commit(t), 0);

  t = begin(fx->s, false);
  expect_val(t, STORE_T_STATE, "alpha", NULL);
  expect_val(t, STORE_T_STATE, "beta", "22");
  assert_int_equal(count_of(t, STORE_T_STATE), 1);
  assert_int_equal(store_txn_commit(t), 0); /* commit ends a read txn */
}

STORE_TEST(test_overwrite) {
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_META, S("height"), S("1")), 0);
  assert_int_equal(store_put(t, STORE_T_META, S("height"), S("second value")), 0);
  expect_val(t, STORE_T_META, "height", "second value");
  assert_int_equal(store_txn_commit(t), 0);
  put1(fx->s, STORE_T_META, "height", "3");
  t = begin(fx->s, false);
  expect_val(t, STORE_T_META, "height", "3");
  assert_int_equal(count_of(t, STORE_T_META), 1);
  store_txn_abort(t);
}

STORE_TEST(test_tables_are_separate) {
  store_txn_t *t = begin(fx->s, true);
  for (int tb = 0; tb < STORE_T_COUNT; tb++) {
    char v[16];
    snprintf(v, sizeof v, "v%d", tb);
    assert_int_equal(store_put(t, (store_table_t)tb, S("k"), S(v)), 0);
  }
  assert_int_equal(store_del(t, STORE_T_BLOBS, S("k")), 0);
  assert_int_equal(store_txn_commit(t), 0);
  t = begin(fx->s, false);
  for (int tb = 0; tb < STORE_T_COUNT; tb++) {
    char v[16];
    snprintf(v, sizeof v, "v%d", tb);
    expect_val(t, (store_table_t)tb, "k", tb == STORE_T_BLOBS ? NULL : v);
    assert_int_equal(count_of(t, (store_table_t)tb), tb == STORE_T_BLOBS ? 0 : 1);
  }
  expect_val(t, STORE_T_META, "missing", NULL);
  store_txn_abort(t);
}

STORE_TEST(test_key_value_limits) {
  uint8_t key[STORE_KEY_BYTES_MAX + 1];
  memset(key, 0xab, sizeof key);
  ve_slice_t got;

  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_STATE, ve_slice(key, STORE_KEY_BYTES_MAX), S("max")), 0);
  assert_int_equal(store_put(t, STORE_T_STATE, ve_slice(key, 1), ve_slice("", 0)), 0);
  assert_int_equal(store_get(t, STORE_T_STATE, ve_slice(key, 1), &got), 0);
  assert_int_equal(got.len, 0);
  assert_int_equal(store_txn_commit(t), 0);

  /* Each argument error is refused before the backend and poisons the txn. */
  t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_STATE, ve_slice(key, 0), S("x")), VE_ERR_INVALID);
  assert_int_equal(store_txn_commit(t), VE_ERR_INVALID);
  t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_STATE, ve_slice(key, sizeof key), S("x")), VE_ERR_INVALID);
  store_txn_abort(t);
  t = begin(fx->s, true);
  assert_int_equal(store_del(t, STORE_T_STATE, ve_slice(key, sizeof key)), VE_ERR_INVALID);
  store_txn_abort(t);
  t = begin(fx->s, false); /* reads: refused, nothing to poison */
  assert_int_equal(store_get(t, STORE_T_STATE, ve_slice(key, 0), &got), VE_ERR_INVALID);
  assert_int_equal(store_get(t, STORE_T_STATE, ve_slice(key, sizeof key), &got), VE_ERR_INVALID);
  assert_int_equal(store_get(t, STORE_T_STATE, ve_slice(key, STORE_KEY_BYTES_MAX), &got), 0);
  assert_int_equal(got.len, 3);
  store_txn_abort(t);

  /* The largest value goes in and comes back; one byte more is refused. */
  size_t big_len = STORE_VALUE_BYTES_MAX + 1;
  uint8_t *big = malloc(big_len);
  assert_non_null(big);
  for (size_t i = 0; i < big_len; i += 4096) big[i] = (uint8_t)(i >> 12);
  big[big_len - 2] = 0x5a;
  t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_BLOBS, S("big"), ve_slice(big, big_len)), VE_ERR_TOO_BIG);
  store_txn_abort(t);
  t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_BLOBS, S("big"), ve_slice(big, big_len - 1)), 0);
  assert_int_equal(store_txn_commit(t), 0);
  t = begin(fx->s, false);
  assert_int_equal(store_get(t, STORE_T_BLOBS, S("big"), &got), 0);
  assert_int_equal(got.len, big_len - 1);
  assert_memory_equal(got.ptr, big, big_len - 1);
  store_txn_abort(t);
  t = begin(fx->s, true);
  assert_int_equal(store_del(t, STORE_T_BLOBS, S("big")), 0);
  assert_int_equal(store_txn_commit(t), 0);
  free(big);
}

STORE_TEST(test_abort_discards) {
  put1(fx->s, STORE_T_STATE, "keep", "old");
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_STATE, S("keep"), S("new")), 0);
  assert_int_equal(store_put(t, STORE_T_STATE, S("temp"), S("x")), 0);
  assert_int_equal(store_put(t, STORE_T_EVIDENCE, S("e"), S("x")), 0);
  store_txn_abort(t);
  t = begin(fx->s, true);
  assert_int_equal(store_del(t, STORE_T_STATE, S("keep")), 0);
  store_txn_abort(t);
  store_txn_abort(NULL);
  t = begin(fx->s, false);
  expect_val(t, STORE_T_STATE, "keep", "old");
  expect_val(t, STORE_T_STATE, "temp", NULL);
  expect_val(t, STORE_T_EVIDENCE, "e", NULL);
  assert_int_equal(count_of(t, STORE_T_STATE), 1);
  assert_int_equal(count_of(t, STORE_T_EVIDENCE), 0);
  store_txn_abort(t);
}

STORE_TEST(test_write_txn_sees_own_writes) {
  put1(fx->s, STORE_T_STATE, "a", "committed");
  store_txn_t *w = begin(fx->s, true);
  assert_int_equal(store_put(w, STORE_T_STATE, S("b"), S("mine")), 0);
  assert_int_equal(store_del(w, STORE_T_STATE, S("a")), 0);
  expect_val(w, STORE_T_STATE, "b", "mine");
  expect_val(w, STORE_T_STATE, "a", NULL);
  assert_int_equal(count_of(w, STORE_T_STATE), 1);
  /* A reader begun meanwhile sees only what is committed. */
  store_txn_t *r = begin(fx->s, false);
  expect_val(r, STORE_T_STATE, "a", "committed");
  expect_val(r, STORE_T_STATE, "b", NULL);
  assert_int_equal(count_of(r, STORE_T_STATE), 1);
  store_txn_abort(r);
  assert_int_equal(store_txn_commit(w), 0);
  r = begin(fx->s, false);
  expect_val(r, STORE_T_STATE, "a", NULL);
  expect_val(r, STORE_T_STATE, "b", "mine");
  store_txn_abort(r);
}

STORE_TEST(test_snapshot_isolation) {
  put1(fx->s, STORE_T_STATE, "x", "1");
  store_txn_t *r1 = begin(fx->s, false);
  store_txn_t *w = begin(fx->s, true);
  assert_int_equal(store_put(w, STORE_T_STATE, S("x"), S("2")), 0);
  assert_int_equal(store_put(w, STORE_T_STATE, S("y"), S("2")), 0);
  assert_int_equal(store_txn_commit(w), 0);
  store_txn_t *r2 = begin(fx->s, false);
  put1(fx->s, STORE_T_STATE, "x", "3");
  expect_val(r1, STORE_T_STATE, "x", "1");
  expect_val(r1, STORE_T_STATE, "y", NULL);
  assert_int_equal(count_of(r1, STORE_T_STATE), 1);
  expect_val(r2, STORE_T_STATE, "x", "2");
  expect_val(r2, STORE_T_STATE, "y", "2");
  /* A cursor over the old snapshot sees the old snapshot. */
  store_cursor_t *c;
  ve_slice_t k, v;
  assert_int_equal(store_cursor_open(r1, STORE_T_STATE, &c), 0);
  expect_key(store_cursor_next(c, &k, &v), k, "x");
  assert_int_equal(v.len, 1);
  assert_int_equal(v.ptr[0], '1');
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  store_cursor_close(c);
  store_txn_abort(r1);
  store_txn_abort(r2);
  store_txn_t *r3 = begin(fx->s, false);
  expect_val(r3, STORE_T_STATE, "x", "3");
  store_txn_abort(r3);
}

STORE_TEST(test_poisoned_txn) {
  uint8_t small[4] = {1, 2, 3, 4};
  ve_slice_t got, k, v;
  uint64_t n;
  store_cursor_t *c;

  /* NOT_FOUND is an answer: it does not poison. */
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_get(t, STORE_T_META, S("nope"), &got), VE_ERR_NOT_FOUND);
  assert_int_equal(store_cursor_open(t, STORE_T_META, &c), 0);
  assert_int_equal(store_cursor_next(c, &k, &v), VE_ERR_NOT_FOUND);
  store_cursor_close(c);
  assert_int_equal(store_put(t, STORE_T_META, S("a"), S("1")), 0);
  assert_int_equal(store_txn_commit(t), 0);

  /* Any other error sticks: every later call returns it, commit aborts. */
  t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_META, S("b"), S("2")), 0);
  assert_int_equal(store_put(t, STORE_T_META, S("c"), ve_slice(small, STORE_VALUE_BYTES_MAX + 1)),
                   VE_ERR_TOO_BIG);
  assert_int_equal(store_get(t, STORE_T_META, S("a"), &got), VE_ERR_TOO_BIG);
  assert_int_equal(store_put(t, STORE_T_META, S("d"), S("4")), VE_ERR_TOO_BIG);
  assert_int_equal(store_del(t, STORE_T_META, S("a")), VE_ERR_TOO_BIG);
  assert_int_equal(store_count(t, STORE_T_META, &n), VE_ERR_TOO_BIG);
  assert_int_equal(store_cursor_open(t, STORE_T_META, &c), VE_ERR_TOO_BIG);
  assert_int_equal(store_txn_commit(t), VE_ERR_TOO_BIG);

  /* A cursor open when the poison happens returns it too. */
  t = begin(fx->s, true);
  assert_int_equal(store_cursor_open(t, STORE_T_META, &c), 0);
  expect_key(store_cursor_next(c, &k, &v), k, "a");
  assert_int_equal(store_put(t, STORE_T_META, ve_slice(small, 0), S("x")), VE_ERR_INVALID);
  assert_int_equal(store_cursor_next(c, &k, &v), VE_ERR_INVALID);
  assert_int_equal(store_cursor_seek(c, ve_slice(NULL, 0), &k, &v), VE_ERR_INVALID);
  store_cursor_close(c);
  store_txn_abort(t);

  t = begin(fx->s, false);
  expect_val(t, STORE_T_META, "a", "1");
  expect_val(t, STORE_T_META, "b", NULL);
  expect_val(t, STORE_T_META, "d", NULL);
  assert_int_equal(count_of(t, STORE_T_META), 1);
  store_txn_abort(t);
}

/* ---- Cursors ------------------------------------------------------------------ */

/* Keys in byte order, including a prefix pair, a zero byte and 0xff. */
static const char *const k_sorted[] = {"\x01", "a", "ab", "abc", "b", "ba", "z", "\x7f\x7f",
                                        "\xff", "\xff\x01"};
#define K_SORTED_N (sizeof k_sorted / sizeof k_sorted[0])

static void put_sorted_keys(store_t *s, store_table_t tb) {
  store_txn_t *t = begin(s, true);
  for (size_t i = 0; i < K_SORTED_N; i++) {
    size_t j = (i * 7) % K_SORTED_N; /* out of order */
    assert_int_equal(store_put(t, tb, S(k_sorted[j]), S(k_sorted[j])), 0);
  }
  assert_int_equal(store_txn_commit(t), 0);
}

STORE_TEST(test_cursor_order) {
  put_sorted_keys(fx->s, STORE_T_APP_INDEX);
  put1(fx->s, STORE_T_BLOBS, "other", "table"); /* neighbouring tables stay out */
  put1(fx->s, STORE_T_STATE, "other", "table");
  store_txn_t *t = begin(fx->s, false);
  store_cursor_t *c;
  ve_slice_t k, v;
  assert_int_equal(store_cursor_open(t, STORE_T_APP_INDEX, &c), 0);
  for (size_t i = 0; i < K_SORTED_N; i++) {
    expect_key(store_cursor_next(c, &k, &v), k, k_sorted[i]);
    assert_true(ve_slice_eq(k, v));
  }
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  for (size_t i = K_SORTED_N; i-- > 0;) expect_key(store_cursor_prev(c, &k, &v), k, k_sorted[i]);
  expect_key(store_cursor_prev(c, &k, &v), k, NULL);
  expect_key(store_cursor_prev(c, &k, &v), k, NULL);
  expect_key(store_cursor_next(c, &k, &v), k, k_sorted[0]);
  store_cursor_close(c);

  /* A fresh cursor: prev gives the last entry. */
  assert_int_equal(store_cursor_open(t, STORE_T_APP_INDEX, &c), 0);
  expect_key(store_cursor_prev(c, &k, &v), k, "\xff\x01");
  store_cursor_close(c);
  assert_int_equal(count_of(t, STORE_T_APP_INDEX), K_SORTED_N);
  store_txn_abort(t);
}

STORE_TEST(test_cursor_seek) {
  put_sorted_keys(fx->s, STORE_T_APP_INDEX);
  store_txn_t *t = begin(fx->s, false);
  store_cursor_t *c;
  ve_slice_t k, v;
  assert_int_equal(store_cursor_open(t, STORE_T_APP_INDEX, &c), 0);
  expect_key(store_cursor_seek(c, ve_slice(NULL, 0), &k, &v), k, "\x01"); /* empty: first */
  expect_key(store_cursor_seek(c, S("ab"), &k, &v), k, "ab");            /* exact */
  expect_key(store_cursor_next(c, &k, &v), k, "abc");
  expect_key(store_cursor_seek(c, S("abd"), &k, &v), k, "b");            /* between */
  expect_key(store_cursor_prev(c, &k, &v), k, "abc");
  expect_key(store_cursor_seek(c, ve_slice("a\0", 2), &k, &v), k, "ab");  /* after prefix */
  expect_key(store_cursor_seek(c, ve_slice("\0", 1), &k, &v), k, "\x01"); /* before all */
  expect_key(store_cursor_prev(c, &k, &v), k, NULL);
  expect_key(store_cursor_next(c, &k, &v), k, "\x01");
  expect_key(store_cursor_seek(c, S("\xff\x02"), &k, &v), k, NULL);      /* past all */
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  expect_key(store_cursor_prev(c, &k, &v), k, "\xff\x01");
  expect_key(store_cursor_last(c, &k, &v), k, "\xff\x01");
  expect_key(store_cursor_prev(c, &k, &v), k, "\xff");
  expect_key(store_cursor_next(c, &k, &v), k, "\xff\x01");
  uint8_t long_key[STORE_KEY_BYTES_MAX + 1];
  memset(long_key, 'a', sizeof long_key);
  expect_key(store_cursor_seek(c, ve_slice(long_key, STORE_KEY_BYTES_MAX), &k, &v), k, "ab");
  assert_int_equal(store_cursor_seek(c, ve_slice(long_key, sizeof long_key), &k, &v),
                   VE_ERR_INVALID);
  store_cursor_close(c);

  /* Empty table: every move is NOT_FOUND. */
  assert_int_equal(store_cursor_open(t, STORE_T_EVIDENCE, &c), 0);
  expect_key(store_cursor_seek(c, ve_slice(NULL, 0), &k, &v), k, NULL);
  expect_key(store_cursor_last(c, &k, &v), k, NULL);
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  expect_key(store_cursor_prev(c, &k, &v), k, NULL);
  store_cursor_close(c);
  store_txn_abort(t);
}

STORE_TEST(test_cursor_sees_own_writes) {
  put_sorted_keys(fx->s, STORE_T_STATE);
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_STATE, S("aa"), S("new")), 0);
  assert_int_equal(store_del(t, STORE_T_STATE, S("b")), 0);
  store_cursor_t *c;
  ve_slice_t k, v;
  assert_int_equal(store_cursor_open(t, STORE_T_STATE, &c), 0);
  expect_key(store_cursor_seek(c, S("a"), &k, &v), k, "a");
  expect_key(store_cursor_next(c, &k, &v), k, "aa");
  assert_int_equal(v.len, 3);
  expect_key(store_cursor_next(c, &k, &v), k, "ab");
  /* Delete the current key and one ahead while iterating: next continues by key. */
  assert_int_equal(store_del(t, STORE_T_STATE, S("ab")), 0);
  assert_int_equal(store_del(t, STORE_T_STATE, S("ba")), 0);
  expect_key(store_cursor_next(c, &k, &v), k, "abc");
  /* Insert just ahead: it is seen. */
  assert_int_equal(store_put(t, STORE_T_STATE, S("abcd"), S("ins")), 0);
  expect_key(store_cursor_next(c, &k, &v), k, "abcd");
  expect_key(store_cursor_next(c, &k, &v), k, "z");
  /* Delete the current key, prev gives the last smaller one. */
  assert_int_equal(store_del(t, STORE_T_STATE, S("z")), 0);
  expect_key(store_cursor_prev(c, &k, &v), k, "abcd");
  /* Writes to another table do not move the cursor. */
  assert_int_equal(store_put(t, STORE_T_META, S("m"), S("m")), 0);
  expect_key(store_cursor_next(c, &k, &v), k, "\x7f\x7f");
  /* Delete everything after: next runs off the end; prev then comes back. */
  assert_int_equal(store_del(t, STORE_T_STATE, S("\xff")), 0);
  assert_int_equal(store_del(t, STORE_T_STATE, S("\xff\x01")), 0);
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  expect_key(store_cursor_prev(c, &k, &v), k, "\x7f\x7f");
  /* Delete the current last key: prev from a stale position past all keys. */
  assert_int_equal(store_del(t, STORE_T_STATE, S("\x7f\x7f")), 0);
  assert_int_equal(store_put(t, STORE_T_STATE, S("\x7f"), S("x")), 0);
  expect_key(store_cursor_prev(c, &k, &v), k, "\x7f");
  store_cursor_close(c);
  assert_int_equal(count_of(t, STORE_T_STATE), 6); /* \x01 a aa abc abcd \x7f */
  assert_int_equal(store_txn_commit(t), 0);

  static const char *const want[] = {"\x01", "a", "aa", "abc", "abcd", "\x7f"};
  t = begin(fx->s, false);
  assert_int_equal(store_cursor_open(t, STORE_T_STATE, &c), 0);
  for (size_t i = 0; i < 6; i++) expect_key(store_cursor_next(c, &k, &v), k, want[i]);
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  store_cursor_close(c);
  store_txn_abort(t);
}

/* Many keys: several tree levels, deletions that merge nodes, order and counts. */
STORE_TEST(test_many_keys) {
  enum { N = 20000 };
  uint8_t key[8];
  store_txn_t *t = begin(fx->s, true);
  for (uint32_t i = 0; i < N; i++) {
    ve_be64_put(key, (uint64_t)((i * 7919u) % N)); /* a permutation of 0..N-1 */
    assert_int_equal(store_put(t, STORE_T_BLOCKS, ve_slice(key, 8), ve_slice(key, 8)), 0);
  }
  assert_int_equal(store_txn_commit(t), 0);
  t = begin(fx->s, true);
  for (uint32_t i = 0; i < N; i++) {
    if (i % 3 == 0) continue;
    ve_be64_put(key, i);
    assert_int_equal(store_del(t, STORE_T_BLOCKS, ve_slice(key, 8)), 0);
  }
  assert_int_equal(store_txn_commit(t), 0);
  if (fx->bk == BK_MEM) assert_int_equal(store_mem_check(fx->s), 0);

  t = begin(fx->s, false);
  assert_int_equal(count_of(t, STORE_T_BLOCKS), (N + 2) / 3);
  store_cursor_t *c;
  ve_slice_t k, v;
  assert_int_equal(store_cursor_open(t, STORE_T_BLOCKS, &c), 0);
  uint64_t want = 0;
  int rc;
  while ((rc = store_cursor_next(c, &k, &v)) == 0) {
    assert_int_equal(k.len, 8);
    assert_int_equal(ve_be64_get(k.ptr), want);
    assert_true(ve_slice_eq(k, v));
    want += 3;
  }
  assert_int_equal(rc, VE_ERR_NOT_FOUND);
  assert_int_equal(want, (uint64_t)((N + 2) / 3) * 3);
  want -= 3;
  while ((rc = store_cursor_prev(c, &k, &v)) == 0) {
    assert_int_equal(ve_be64_get(k.ptr), want);
    want -= 3;
  }
  assert_int_equal(want, (uint64_t)-3);
  store_cursor_close(c);
  store_txn_abort(t);
}

/* ---- Threads -------------------------------------------------------------- */

typedef struct {
  store_t *s;
  atomic_int started;
  atomic_int got_txn;
  char seen[16];
} writer_arg_t;

static void *second_writer(void *p) {
  writer_arg_t *a = p;
  atomic_store(&a->started, 1);
  store_txn_t *t = NULL;
  if (store_txn_begin(a->s, true, &t) != 0) return NULL;
  atomic_store(&a->got_txn, 1);
  ve_slice_t v;
  if (store_get(t, STORE_T_META, S("w"), &v) == 0 && v.len < sizeof a->seen) {
    memcpy(a->seen, v.ptr, v.len);
  }
  store_txn_abort(t);
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

STORE_TEST(test_single_writer_blocks) {
  writer_arg_t a = {.s = fx->s};
  store_txn_t *w = begin(fx->s, true);
  assert_int_equal(store_put(w, STORE_T_META, S("w"), S("first")), 0);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, second_writer, &a), 0);
  for (int i = 0; i < 2000 && !atomic_load(&a.started); i++) sleep_ms(1);
  assert_int_equal(atomic_load(&a.started), 1);
  sleep_ms(50);
  assert_int_equal(atomic_load(&a.got_txn), 0); /* still waiting for us */
  /* Readers are not blocked by the writer. */
  store_txn_t *r = begin(fx->s, false);
  expect_val(r, STORE_T_META, "w", NULL);
  store_txn_abort(r);
  assert_int_equal(store_txn_commit(w), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(atomic_load(&a.got_txn), 1);
  assert_string_equal(a.seen, "first");
}

/* Readers in other threads check that every snapshot is consistent while the
 * writer keeps changing it: all INV_KEYS keys always hold the same counter. */
#define INV_KEYS 8
#define INV_ROUNDS 150

typedef struct {
  store_t *s;
  atomic_int stop;
  atomic_int bad;
  atomic_int reads;
} inv_arg_t;

static void inv_key(char *k, int i) { snprintf(k, 8, "k%d", i); }

static void *inv_reader(void *p) {
  inv_arg_t *a = p;
  while (!atomic_load(&a->stop)) {
    store_txn_t *t = NULL;
    if (store_txn_begin(a->s, false, &t) != 0) {
      atomic_store(&a->bad, 1);
      return NULL;
    }
    uint64_t first = 0;
    for (int i = 0; i < INV_KEYS; i++) {
      char k[8];
      inv_key(k, i);
      ve_slice_t v;
      int rc = store_get(t, (store_table_t)(i % 3), S(k), &v);
      uint64_t n = (rc == 0 && v.len == 8) ? ve_be64_get(v.ptr) : UINT64_MAX;
      if (rc == VE_ERR_NOT_FOUND) n = 0;
      if (i == 0) first = n;
      if (n != first || n == UINT64_MAX) atomic_store(&a->bad, 1);
    }
    store_txn_abort(t);
    atomic_fetch_add(&a->reads, 1);
  }
  return NULL;
}

STORE_TEST(test_concurrent_readers) {
  inv_arg_t a = {.s = fx->s};
  pthread_t th[2];
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, inv_reader, &a), 0);
  for (uint64_t round = 1; round <= INV_ROUNDS; round++) {
    store_txn_t *t = begin(fx->s, true);
    uint8_t v[8];
    ve_be64_put(v, round);
    for (int i = 0; i < INV_KEYS; i++) {
      char k[8];
      inv_key(k, i);
      assert_int_equal(store_put(t, (store_table_t)(i % 3), S(k), ve_slice(v, 8)), 0);
    }
    assert_int_equal(store_txn_commit(t), 0);
  }
  for (int i = 0; i < 200 && atomic_load(&a.reads) < 10; i++) sleep_ms(5);
  atomic_store(&a.stop, 1);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(atomic_load(&a.bad), 0);
  assert_true(atomic_load(&a.reads) > 0);
}

/* ---- Fault injection -------------------------------------------------------- */

typedef struct {
  int writes_until_fail; /* fail the write when this reaches 0 (-1: never) */
  bool fail_commit;
  bool fail_read;
  bool fail_read_in_write; /* fail_read also fails reads of write txns */
  int injected;
} fault_plan_t;

static int fault_hook(void *ctx, store_fault_point_t point, store_table_t table, bool write) {
  fault_plan_t *p = ctx;
  if (point == STORE_FAULT_WRITE && p->writes_until_fail >= 0 && p->writes_until_fail-- == 0) {
    p->injected++;
    return VE_ERR_IO;
  }
  if (point == STORE_FAULT_COMMIT && p->fail_commit) {
    p->injected++;
    return VE_ERR_IO;
  }
  if (point == STORE_FAULT_READ && p->fail_read && (!write || p->fail_read_in_write)) {
    p->injected++;
    return VE_ERR_CORRUPT;
  }
  return 0;
}

STORE_TEST(test_fault_injection) {
  fault_plan_t plan = {.writes_until_fail = -1};
  store_t *fs = NULL;
  assert_int_equal(store_open_fault(&fs, fx->s, fault_hook, &plan), 0);

  put1(fs, STORE_T_STATE, "base", "1");
  plan.writes_until_fail = 2; /* the third write fails */
  store_txn_t *t = begin(fs, true);
  assert_int_equal(store_put(t, STORE_T_STATE, S("a"), S("1")), 0);
  assert_int_equal(store_del(t, STORE_T_STATE, S("base")), 0);
  assert_int_equal(store_put(t, STORE_T_STATE, S("c"), S("1")), VE_ERR_IO);
  ve_slice_t v;
  assert_int_equal(store_get(t, STORE_T_STATE, S("a"), &v), VE_ERR_IO);
  assert_int_equal(store_txn_commit(t), VE_ERR_IO);

  plan.writes_until_fail = 0; /* appends are writes too */
  t = begin(fs, true);
  assert_int_equal(store_put_append(t, STORE_T_STATE, S("zz"), S("1")), VE_ERR_IO);
  assert_int_equal(store_txn_commit(t), VE_ERR_IO);

  plan.fail_commit = true;
  t = begin(fs, true);
  assert_int_equal(store_put(t, STORE_T_STATE, S("d"), S("1")), 0);
  assert_int_equal(store_txn_commit(t), VE_ERR_IO);
  plan.fail_commit = false;

  plan.fail_read = true;
  t = begin(fs, false);
  assert_int_equal(store_get(t, STORE_T_STATE, S("base"), &v), VE_ERR_CORRUPT);
  plan.fail_read = false;
  expect_val(t, STORE_T_STATE, "base", "1"); /* read txns are not poisoned */
  expect_val(t, STORE_T_STATE, "a", NULL);
  expect_val(t, STORE_T_STATE, "d", NULL);
  store_cursor_t *c;
  ve_slice_t k;
  assert_int_equal(store_cursor_open(t, STORE_T_STATE, &c), 0);
  expect_key(store_cursor_next(c, &k, &v), k, "base");
  expect_key(store_cursor_next(c, &k, &v), k, NULL);
  store_cursor_close(c);
  store_txn_abort(t);
  assert_int_equal(plan.injected, 4);
  store_close(fs);

  /* The inner store saw none of the failed transactions. */
  t = begin(fx->s, false);
  expect_val(t, STORE_T_STATE, "base", "1");
  assert_int_equal(count_of(t, STORE_T_STATE), 1);
  store_txn_abort(t);
}

/* ---- Reads of the committed state -----------------------------------------
 * store_get_committed in a write txn answers from the state the txn began
 * from: not its own puts and deletes; a miss is an answer (no poison); its
 * slices survive the txn's later writes (which split pages here). In a read
 * txn it is store_get. Through the fault store it is a read. */

STORE_TEST(test_get_committed) {
  put1(fx->s, STORE_T_STATE_NODES, "k1", "v1");
  put1(fx->s, STORE_T_STATE_NODES, "k2", "v2");
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_STATE_NODES, S("k1"), S("new")), 0);
  assert_int_equal(store_del(t, STORE_T_STATE_NODES, S("k2")), 0);
  assert_int_equal(store_put(t, STORE_T_STATE_NODES, S("k3"), S("x")), 0);
  ve_slice_t v1, v2, v;
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k1"), &v1), 0);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k2"), &v2), 0);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k3"), &v), VE_ERR_NOT_FOUND);
  assert_int_equal(store_get_committed(t, STORE_T_STATE, S("k1"), &v), VE_ERR_NOT_FOUND);
  expect_val(t, STORE_T_STATE_NODES, "k1", "new");
  expect_val(t, STORE_T_STATE_NODES, "k2", NULL);
  char k[32], val[200];
  memset(val, 'p', sizeof val);
  for (int i = 0; i < 3000; i++) { /* many pages, k1's among them rewritten */
    snprintf(k, sizeof k, "k1-%05d", i);
    assert_int_equal(store_put(t, STORE_T_STATE_NODES, S(k), ve_slice(val, sizeof val)), 0);
  }
  assert_int_equal(v1.len, 2);
  assert_memory_equal(v1.ptr, "v1", 2);
  assert_int_equal(v2.len, 2);
  assert_memory_equal(v2.ptr, "v2", 2);
  assert_int_equal(store_txn_commit(t), 0); /* the misses did not poison it */

  t = begin(fx->s, false);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k1"), &v), 0);
  assert_int_equal(v.len, 3);
  assert_memory_equal(v.ptr, "new", 3);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k2"), &v), VE_ERR_NOT_FOUND);
  store_txn_abort(t);

  t = begin(fx->s, true);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k3"), &v), 0);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, ve_slice(NULL, 0), &v),
                   VE_ERR_INVALID);
  assert_int_equal(store_put(t, STORE_T_STATE_NODES, S("k4"), S("y")), VE_ERR_INVALID);
  assert_int_equal(store_txn_commit(t), VE_ERR_INVALID); /* a bad key poisons */

  fault_plan_t plan = {.writes_until_fail = -1, .fail_read = true, .fail_read_in_write = true};
  store_t *fs = NULL;
  assert_int_equal(store_open_fault(&fs, fx->s, fault_hook, &plan), 0);
  t = begin(fs, true);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k1"), &v), VE_ERR_CORRUPT);
  assert_int_equal(store_txn_commit(t), VE_ERR_CORRUPT);
  plan.fail_read = false;
  t = begin(fs, true);
  assert_int_equal(store_get_committed(t, STORE_T_STATE_NODES, S("k1"), &v), 0);
  assert_int_equal(v.len, 3);
  store_txn_abort(t);
  store_close(fs);
}

/* ---- Batches ---------------------------------------------------------------
 * store_write_batch has the effect of its puts and deletes in order, across
 * LMDB's nested chunks (more than one here), in any key order, with repeated
 * keys (the last wins) and deletes of absent keys; an invalid write poisons
 * the txn before anything is written. */

STORE_TEST(test_write_batch) {
  enum { N = 2600 };
  static store_write_t w[N];
  static char keys[N][16], want[N][8];
  put1(fx->s, STORE_T_STATE, "k00010", "old");
  uint64_t rng = g_seed ^ 0x5eed;
  for (int i = 0; i < N; i++) {
    int id = i < 2000 ? i : (int)rng_below(&rng, 2000); /* ascending, then any order */
    snprintf(keys[i], sizeof keys[i], "k%05d", id);
    snprintf(want[i], sizeof want[i], "v%d", i);
    w[i].key = S(keys[i]);
    w[i].val = S(want[i]);
    w[i].del = id % 7 == 3 || (i >= 2000 && i % 5 == 0);
  }
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_write_batch(t, STORE_T_STATE, w, N), 0);
  /* The model: the last write of each key. */
  const char *last[2000] = {0};
  bool deleted[2000] = {0};
  for (int i = 0; i < N; i++) {
    int id = atoi(keys[i] + 1);
    last[id] = want[i];
    deleted[id] = w[i].del;
  }
  for (int id = 0; id < 2000; id++) {
    char k[16];
    snprintf(k, sizeof k, "k%05d", id);
    expect_val(t, STORE_T_STATE, k, deleted[id] ? NULL : last[id]);
  }
  assert_int_equal(store_write_batch(t, STORE_T_STATE, w, 0), 0);
  assert_int_equal(store_txn_commit(t), 0);
  t = begin(fx->s, false);
  expect_val(t, STORE_T_STATE, "k00010", deleted[10] ? NULL : last[10]);
  uint64_t live = 0;
  for (int id = 0; id < 2000; id++) live += !deleted[id];
  assert_int_equal(count_of(t, STORE_T_STATE), live);
  store_txn_abort(t);

  store_write_t bad[2] = {{S("fine"), S("1"), false}, {ve_slice(NULL, 0), S("2"), false}};
  t = begin(fx->s, true);
  assert_int_equal(store_write_batch(t, STORE_T_STATE, bad, 2), VE_ERR_INVALID);
  ve_slice_t v;
  assert_int_equal(store_get(t, STORE_T_STATE, S("k00001"), &v), VE_ERR_INVALID); /* poisoned */
  assert_int_equal(store_txn_commit(t), VE_ERR_INVALID);
  t = begin(fx->s, false);
  expect_val(t, STORE_T_STATE, "fine", NULL);
  store_txn_abort(t);
}

/* ---- Appends ---------------------------------------------------------------
 * store_put_append has store_put's effect whatever the key: an append, a key
 * below or equal to the table's last, after plain puts and deletes moved the
 * end of the table, with the table's pages splitting under it. */

/* The keys of tb in order, joined by ','. */
static void scan_keys(store_txn_t *t, store_table_t tb, char *out, size_t cap) {
  store_cursor_t *c;
  ve_slice_t k, v;
  size_t n = 0;
  out[0] = 0;
  assert_int_equal(store_cursor_open(t, tb, &c), 0);
  while (store_cursor_next(c, &k, &v) == 0) {
    assert_true(n + k.len + 2 < cap);
    if (n) out[n++] = ',';
    memcpy(out + n, k.ptr, k.len);
    n += k.len;
    out[n] = 0;
  }
  store_cursor_close(c);
}

STORE_TEST(test_put_append) {
  char keys[256];
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("b"), S("1")), 0); /* empty table */
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("c"), S("2")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("d"), S("3")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("a"), S("4")), 0);  /* below */
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("d"), S("5")), 0);  /* equal */
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("bb"), S("6")), 0); /* inside */
  expect_val(t, STORE_T_STATE_NODES, "d", "5");
  scan_keys(t, STORE_T_STATE_NODES, keys, sizeof keys);
  assert_string_equal(keys, "a,b,bb,c,d");

  /* A plain put moves the end of the table: the next append must land after
   * the new end, not after the end its previous append saw. */
  assert_int_equal(store_put(t, STORE_T_STATE_NODES, S("e"), S("20")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("f"), S("21")), 0);
  /* And a key between the old end and the new one lands between them. */
  assert_int_equal(store_put(t, STORE_T_STATE_NODES, S("z"), S("7")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("m"), S("8")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("n"), S("9")), 0);
  /* A delete of the last key moves it back. */
  assert_int_equal(store_del(t, STORE_T_STATE_NODES, S("z")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("o"), S("10")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("y"), S("11")), 0);
  /* Appends to another table in between change nothing here. */
  assert_int_equal(store_put_append(t, STORE_T_STATE_HIST, S("q"), S("12")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("yy"), S("13")), 0);
  scan_keys(t, STORE_T_STATE_NODES, keys, sizeof keys);
  assert_string_equal(keys, "a,b,bb,c,d,e,f,m,n,o,y,yy");
  assert_int_equal(count_of(t, STORE_T_STATE_NODES), 12);
  assert_int_equal(store_txn_commit(t), 0);

  /* Aborted appends leave nothing; committed ones are there in the next txn,
   * whose first append starts from the committed end. */
  t = begin(fx->s, true);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("zz"), S("14")), 0);
  store_txn_abort(t);
  t = begin(fx->s, true);
  expect_val(t, STORE_T_STATE_NODES, "zz", NULL);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("x"), S("15")), 0);
  assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, S("zzz"), S("16")), 0);
  assert_int_equal(store_txn_commit(t), 0);
  t = begin(fx->s, false);
  scan_keys(t, STORE_T_STATE_NODES, keys, sizeof keys);
  assert_string_equal(keys, "a,b,bb,c,d,e,f,m,n,o,x,y,yy,zzz");
  expect_val(t, STORE_T_STATE_NODES, "y", "11");
  expect_val(t, STORE_T_STATE_HIST, "q", "12");
  store_txn_abort(t);
}

STORE_TEST(test_put_append_errors) {
  uint8_t key[STORE_KEY_BYTES_MAX + 1];
  memset(key, 0xab, sizeof key);
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put_append(t, STORE_T_STATE, ve_slice(key, 0), S("x")), VE_ERR_INVALID);
  assert_int_equal(store_put_append(t, STORE_T_STATE, S("b"), S("x")), VE_ERR_INVALID); /* poisoned */
  assert_int_equal(store_txn_commit(t), VE_ERR_INVALID);
  t = begin(fx->s, true);
  assert_int_equal(store_put_append(t, STORE_T_STATE, ve_slice(key, sizeof key), S("x")),
                   VE_ERR_INVALID);
  store_txn_abort(t);
  t = begin(fx->s, true);
  assert_int_equal(store_put_append(t, STORE_T_STATE, S("k"), ve_slice(key, STORE_VALUE_BYTES_MAX + 1)),
                   VE_ERR_TOO_BIG);
  store_txn_abort(t);
  t = begin(fx->s, false);
  assert_int_equal(count_of(t, STORE_T_STATE), 0);
  store_txn_abort(t);
}

/* Appends that split the table's pages many times (values big enough to fill
 * LMDB pages fast), interleaved with plain puts below the end, reads and a
 * cursor walking the table, against the expected contents. */
#define APPEND_KEYS 6000
STORE_TEST(test_put_append_many) {
  uint8_t val[200];
  store_txn_t *t = begin(fx->s, true);
  store_cursor_t *c;
  assert_int_equal(store_cursor_open(t, STORE_T_STATE_NODES, &c), 0);
  ve_slice_t k, v;
  uint64_t walked = 0;
  for (uint32_t i = 0; i < APPEND_KEYS; i++) {
    uint8_t key[9];
    ve_be64_put(key, 2 * (uint64_t)i + 2); /* even keys, increasing: appends */
    key[8] = 0;
    memset(val, (int)(i & 0xff), sizeof val);
    assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, ve_slice(key, 9), ve_slice(val, 1 + i % 200)), 0);
    if (i % 7 == 3) { /* an odd key below the end: the ordinary path */
      ve_be64_put(key, 2 * (uint64_t)(i / 2) + 1);
      assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, ve_slice(key, 9), ve_slice(val, 5)), 0);
    }
    if (i % 11 == 0) {
      ve_be64_put(key, 2 * (uint64_t)(i / 3) + 2);
      assert_int_equal(store_get(t, STORE_T_STATE_NODES, ve_slice(key, 9), &v), 0);
      assert_int_equal(v.len, 1 + (i / 3) % 200);
    }
    if (i % 5 == 0 && store_cursor_next(c, &k, &v) == 0) walked++;
  }
  store_cursor_close(c);
  assert_int_equal(store_txn_commit(t), 0);
  assert_true(walked > 0);

  /* Plain puts that move the end of the table onto new pages (big values
   * split them), each followed by an append just after the new end. */
  uint8_t big[1500];
  memset(big, 0x5a, sizeof big);
  t = begin(fx->s, true);
  for (uint32_t i = 0; i < 300; i++) {
    uint8_t key[9];
    ve_be64_put(key, 2 * (uint64_t)(APPEND_KEYS + 2 * i) + 2);
    key[8] = 0;
    assert_int_equal(store_put(t, STORE_T_STATE_NODES, ve_slice(key, 9), ve_slice(big, 1 + i % 2)), 0);
    ve_be64_put(key, 2 * (uint64_t)(APPEND_KEYS + 2 * i + 1) + 2);
    assert_int_equal(store_put_append(t, STORE_T_STATE_NODES, ve_slice(key, 9),
                                      ve_slice(big, sizeof big - i % 2)), 0);
  }
  assert_int_equal(store_txn_commit(t), 0);

  /* Every even key once with its value; odd keys exactly where put. */
  t = begin(fx->s, false);
  assert_int_equal(store_cursor_open(t, STORE_T_STATE_NODES, &c), 0);
  uint64_t prev = 0, evens = 0, odds = 0, bigs = 0;
  while (store_cursor_next(c, &k, &v) == 0) {
    assert_int_equal(k.len, 9);
    uint64_t n = ve_be64_get(k.ptr);
    assert_true(n > prev);
    prev = n;
    if (n % 2 == 0 && n / 2 - 1 >= APPEND_KEYS) { /* the second phase */
      uint32_t j = (uint32_t)(n / 2 - 1 - APPEND_KEYS);
      assert_int_equal(v.len, j % 2 ? sizeof big - (j / 2) % 2 : 1 + (j / 2) % 2);
      bigs++;
    } else if (n % 2 == 0) {
      uint32_t i = (uint32_t)(n / 2 - 1);
      assert_int_equal(v.len, 1 + i % 200);
      assert_int_equal(v.ptr[0], (uint8_t)(i & 0xff));
      evens++;
    } else {
      assert_int_equal(v.len, 5);
      odds++;
    }
  }
  store_cursor_close(c);
  assert_int_equal(evens, APPEND_KEYS);
  assert_int_equal(bigs, 600);
  assert_int_equal(count_of(t, STORE_T_STATE_NODES), evens + odds + bigs);
  store_txn_abort(t);
  if (fx->bk == BK_MEM) assert_int_equal(store_mem_check(fx->s), 0);
}

/* ---- Big trees, random changes ---------------------------------------------
 * A key space of TREE_KEYS be64 keys, a model holding each key's version (0:
 * absent), rounds of random puts and deletes big enough to make the memory
 * backend's trees three levels deep and to split, borrow and merge at every
 * level. A reader holding an old snapshot across later commits must keep
 * seeing exactly that snapshot. */
#define TREE_KEYS 30000
#define TREE_ROUNDS 6
#define TREE_OPS_PER_ROUND 12000

static void tree_val(uint8_t out[12], uint32_t i, uint64_t ver) {
  ve_be64_put(out, ver);
  out[8] = (uint8_t)(i >> 24);
  out[9] = (uint8_t)(i >> 16);
  out[10] = (uint8_t)(i >> 8);
  out[11] = (uint8_t)i;
}

/* Scans the table forward and backward and compares it with the model. */
static void tree_compare(store_txn_t *t, const uint64_t *model) {
  store_cursor_t *c;
  ve_slice_t k, v;
  uint8_t want[12];
  uint64_t n = 0;
  assert_int_equal(store_cursor_open(t, STORE_T_STATE_NODES, &c), 0);
  uint32_t i = 0;
  int rc;
  while ((rc = store_cursor_next(c, &k, &v)) == 0) {
    while (i < TREE_KEYS && model[i] == 0) i++;
    assert_true(i < TREE_KEYS);
    assert_int_equal(k.len, 8);
    assert_int_equal(ve_be64_get(k.ptr), i);
    tree_val(want, i, model[i]);
    assert_int_equal(v.len, 12);
    assert_memory_equal(v.ptr, want, 12);
    i++;
    n++;
  }
  assert_int_equal(rc, VE_ERR_NOT_FOUND);
  while (i < TREE_KEYS) assert_int_equal(model[i++], 0);
  assert_int_equal(count_of(t, STORE_T_STATE_NODES), n);
  while ((rc = store_cursor_prev(c, &k, &v)) == 0) n--; /* and back again */
  assert_int_equal(rc, VE_ERR_NOT_FOUND);
  assert_int_equal(n, 0);
  store_cursor_close(c);
}

STORE_TEST(test_tree_random) {
  uint64_t *model = calloc(TREE_KEYS, sizeof *model);
  uint64_t *work = calloc(TREE_KEYS, sizeof *work);
  uint64_t *held = calloc(TREE_KEYS, sizeof *held);
  assert_true(model && work && held);
  uint64_t rng = g_seed ^ 0x7ee;
  uint64_t ver = 0;
  store_txn_t *old = NULL;
  for (int round = 0; round < TREE_ROUNDS; round++) {
    memcpy(work, model, TREE_KEYS * sizeof *model);
    store_txn_t *t = begin(fx->s, true);
    for (int op = 0; op < TREE_OPS_PER_ROUND; op++) {
      /* Early rounds mostly grow, later ones mostly shrink; ranges cluster. */
      uint32_t base = rng_below(&rng, TREE_KEYS);
      uint32_t i = (base + rng_below(&rng, 200)) % TREE_KEYS;
      uint8_t key[8], val[12];
      ve_be64_put(key, i);
      bool grow = rng_below(&rng, 100) < (round < 3 ? 75u : 25u);
      if (grow) {
        work[i] = ++ver;
        tree_val(val, i, ver);
        assert_int_equal(store_put(t, STORE_T_STATE_NODES, ve_slice(key, 8), ve_slice(val, 12)), 0);
      } else {
        work[i] = 0;
        assert_int_equal(store_del(t, STORE_T_STATE_NODES, ve_slice(key, 8)), 0);
      }
    }
    tree_compare(t, work);
    if (round == 2) {
      store_txn_abort(t); /* the round's changes vanish */
    } else {
      assert_int_equal(store_txn_commit(t), 0);
      memcpy(model, work, TREE_KEYS * sizeof *model);
    }
    if (fx->bk == BK_MEM) assert_int_equal(store_mem_check(fx->s), 0);
    if (round == 1) { /* hold this snapshot through the later rounds */
      old = begin(fx->s, false);
      memcpy(held, model, TREE_KEYS * sizeof *model);
    }
  }
  tree_compare(old, held);
  store_txn_abort(old);
  store_txn_t *t = begin(fx->s, false);
  tree_compare(t, model);
  store_txn_abort(t);
  free(model);
  free(work);
  free(held);
}

/* The memory backend takes a million keys in one table in O(n log n). */
static void test_mem_million_keys(void **state) {
  (void)state;
  enum { N = 1000000, TXNS = 4 };
  store_t *s = open_backend(BK_MEM, NULL);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint8_t key[8];
  for (uint32_t x = 0; x < TXNS; x++) {
    store_txn_t *t = begin(s, true);
    for (uint32_t j = x; j < N; j += TXNS) {
      ve_be64_put(key, (uint64_t)j * 2654435761u % 4294967291u); /* scattered, distinct */
      assert_int_equal(store_put(t, STORE_T_BLOCK_HASH, ve_slice(key, 8), ve_slice(key, 4)), 0);
    }
    assert_int_equal(store_txn_commit(t), 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  assert_int_equal(store_mem_check(s), 0);
  store_txn_t *t = begin(s, false);
  assert_int_equal(count_of(t, STORE_T_BLOCK_HASH), N);
  ve_be64_put(key, (uint64_t)777777 * 2654435761u % 4294967291u);
  ve_slice_t v;
  assert_int_equal(store_get(t, STORE_T_BLOCK_HASH, ve_slice(key, 8), &v), 0);
  assert_memory_equal(v.ptr, key, 4);
  store_txn_abort(t);
  store_close(s);
  print_message("mem backend: %d inserts in %.2f s\n", N,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* ---- LMDB only ------------------------------------------------------------- */

STORE_TEST(test_lmdb_reopen) {
  put1(fx->s, STORE_T_META, "height", "42");
  put_sorted_keys(fx->s, STORE_T_TX_INDEX);
  store_txn_t *t = begin(fx->s, true);
  assert_int_equal(store_put(t, STORE_T_META, S("uncommitted"), S("x")), 0);
  store_txn_abort(t);
  store_close(fx->s);
  fx->s = open_backend(BK_LMDB, fx->dir);
  t = begin(fx->s, false);
  expect_val(t, STORE_T_META, "height", "42");
  expect_val(t, STORE_T_META, "uncommitted", NULL);
  assert_int_equal(count_of(t, STORE_T_TX_INDEX), K_SORTED_N);
  store_cursor_t *c;
  ve_slice_t k, v;
  assert_int_equal(store_cursor_open(t, STORE_T_TX_INDEX, &c), 0);
  expect_key(store_cursor_last(c, &k, &v), k, "\xff\x01");
  store_cursor_close(c);
  store_txn_abort(t);
}

static void test_lmdb_open_errors(void **state) {
  (void)state;
  store_t *s = (store_t *)1;
  enum ve_log_level lvl = ve_log_get_level();
  ve_log_set_level(VE_LOG_OFF);
  assert_true(store_open_lmdb(&s, "/nonexistent/veche/dir", 0) < 0);
  ve_log_set_level(lvl);
  assert_null(s);
}

STORE_TEST(test_lmdb_map_full) {
  store_close(fx->s);
  remove_dir(fx->dir);
  make_tmpdir(fx->dir, sizeof fx->dir);
  assert_int_equal(store_open_lmdb(&fx->s, fx->dir, 1u << 20), 0);
  put1(fx->s, STORE_T_META, "kept", "yes");

  enum ve_log_level lvl = ve_log_get_level();
  ve_log_set_level(VE_LOG_OFF);
  uint8_t val[4000];
  memset(val, 7, sizeof val);
  store_txn_t *t = begin(fx->s, true);
  int rc = 0;
  uint32_t i;
  for (i = 0; i < 1000 && rc == 0; i++) {
    uint8_t key[8];
    ve_be64_put(key, i);
    rc = store_put(t, STORE_T_BLOBS, ve_slice(key, 8), ve_slice(val, sizeof val));
  }
  assert_int_equal(rc, VE_ERR_FULL);
  assert_true(i > 10);
  ve_slice_t v;
  assert_int_equal(store_get(t, STORE_T_META, S("kept"), &v), VE_ERR_FULL);
  assert_int_equal(store_txn_commit(t), VE_ERR_FULL);
  ve_log_set_level(lvl);

  /* Nothing of it landed, and the store still works. */
  put1(fx->s, STORE_T_META, "after", "ok");
  t = begin(fx->s, false);
  expect_val(t, STORE_T_META, "kept", "yes");
  expect_val(t, STORE_T_META, "after", "ok");
  assert_int_equal(count_of(t, STORE_T_BLOBS), 0);
  store_txn_abort(t);
}

/* Crash atomicity: a child commits transactions that each write the same
 * counter into CRASH_KEYS keys over three tables (with a filler derived from
 * it, so torn pages would show), and is SIGKILLed at random moments. After each
 * kill the parent reopens and checks all-or-nothing and no going back. */
#define CRASH_KILLS 20
#define CRASH_KEYS 6
#define CRASH_FILLER_BYTES 3000

static const store_table_t crash_tables[3] = {STORE_T_STATE, STORE_T_BLOCKS, STORE_T_CONSENSUS};

static void crash_value(uint8_t *out, uint64_t n, int i) {
  ve_be64_put(out, n);
  for (size_t j = 8; j < 8 + CRASH_FILLER_BYTES; j++) out[j] = (uint8_t)(n * 31 + (uint64_t)i * 7 + j);
}

static _Noreturn void crash_child(const char *dir) {
  store_t *s = NULL;
  if (store_open_lmdb(&s, dir, 0) != 0) _exit(2);
  store_txn_t *t = NULL;
  if (store_txn_begin(s, false, &t) != 0) _exit(3);
  ve_slice_t v;
  uint64_t n = store_get(t, STORE_T_STATE, S("c0"), &v) == 0 ? ve_be64_get(v.ptr) : 0;
  store_txn_abort(t);
  uint8_t val[8 + CRASH_FILLER_BYTES];
  for (;;) {
    n++;
    if (store_txn_begin(s, true, &t) != 0) _exit(4);
    for (int i = 0; i < CRASH_KEYS; i++) {
      char k[8];
      snprintf(k, sizeof k, "c%d", i);
      crash_value(val, n, i);
      if (store_put(t, crash_tables[i % 3], S(k), ve_slice(val, sizeof val)) != 0) _exit(5);
    }
    if (store_txn_commit(t) != 0) _exit(6);
  }
}

/* Returns the counter all keys agree on (0 when none exist); fails otherwise. */
static uint64_t crash_check(const char *dir) {
  store_t *s = open_backend(BK_LMDB, dir);
  store_txn_t *t = begin(s, false);
  uint64_t n = 0;
  uint8_t want[8 + CRASH_FILLER_BYTES];
  for (int i = 0; i < CRASH_KEYS; i++) {
    char k[8];
    snprintf(k, sizeof k, "c%d", i);
    ve_slice_t v;
    int rc = store_get(t, crash_tables[i % 3], S(k), &v);
    if (i == 0 && rc == VE_ERR_NOT_FOUND) {
      n = UINT64_MAX;
      continue;
    }
    if (n == UINT64_MAX) {
      assert_int_equal(rc, VE_ERR_NOT_FOUND);
      continue;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(v.len, sizeof want);
    if (i == 0) n = ve_be64_get(v.ptr);
    crash_value(want, n, i);
    assert_memory_equal(v.ptr, want, sizeof want);
  }
  store_txn_abort(t);
  store_close(s);
  return n == UINT64_MAX ? 0 : n;
}

STORE_TEST(test_lmdb_crash_atomicity) {
  store_close(fx->s);
  fx->s = NULL;
  uint64_t rng = g_seed ^ 0xc0ffee;
  uint64_t last = 0;
  for (int kill_no = 0; kill_no < CRASH_KILLS; kill_no++) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) crash_child(fx->dir);
    sleep_ms(5 + (long)rng_below(&rng, 46));
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status)); /* not an early exit on error */
    uint64_t n = crash_check(fx->dir);
    assert_true(n >= last);
    last = n;
  }
  print_message("crash atomicity: %d kills, %llu transactions committed\n", CRASH_KILLS,
                (unsigned long long)last);
  assert_true(last > 0);
  fx->s = open_backend(BK_LMDB, fx->dir);
}

/* ---- Model test --------------------------------------------------------------- */

/* A naive model: per table a sorted array of owned (key, value) pairs. */
#define MODEL_TABLES 3
#define MODEL_KEYS_MAX 400

typedef struct {
  uint8_t *k, *v;
  size_t klen, vlen;
} mkv_t;

typedef struct {
  mkv_t e[MODEL_TABLES][MODEL_KEYS_MAX];
  size_t n[MODEL_TABLES];
} model_t;

static const store_table_t model_tables[MODEL_TABLES] = {STORE_T_META, STORE_T_STATE,
                                                         STORE_T_APP_INDEX};

static int slice_cmp(ve_slice_t a, ve_slice_t b) {
  size_t n = a.len < b.len ? a.len : b.len;
  int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
  return c ? c : (a.len > b.len) - (a.len < b.len);
}

static uint8_t *dup_bytes(ve_slice_t s) {
  uint8_t *p = malloc(s.len ? s.len : 1);
  assert_non_null(p);
  if (s.len) memcpy(p, s.ptr, s.len);
  return p;
}

static void model_free(model_t *m) {
  for (int t = 0; t < MODEL_TABLES; t++) {
    for (size_t i = 0; i < m->n[t]; i++) {
      free(m->e[t][i].k);
      free(m->e[t][i].v);
    }
    m->n[t] = 0;
  }
}

static void model_copy(model_t *dst, const model_t *src) {
  model_free(dst);
  for (int t = 0; t < MODEL_TABLES; t++) {
    for (size_t i = 0; i < src->n[t]; i++) {
      const mkv_t *e = &src->e[t][i];
      dst->e[t][i] = (mkv_t){dup_bytes(ve_slice(e->k, e->klen)), dup_bytes(ve_slice(e->v, e->vlen)),
                             e->klen, e->vlen};
    }
    dst->n[t] = src->n[t];
  }
}

/* First index with key >= k. */
static size_t model_lb(const model_t *m, int t, ve_slice_t k) {
  size_t i = 0;
  while (i < m->n[t] && slice_cmp(ve_slice(m->e[t][i].k, m->e[t][i].klen), k) < 0) i++;
  return i;
}

static bool model_has(const model_t *m, int t, ve_slice_t k, size_t *at) {
  size_t i = model_lb(m, t, k);
  *at = i;
  return i < m->n[t] && slice_cmp(ve_slice(m->e[t][i].k, m->e[t][i].klen), k) == 0;
}

static void model_put(model_t *m, int t, ve_slice_t k, ve_slice_t v) {
  size_t i;
  if (model_has(m, t, k, &i)) {
    free(m->e[t][i].v);
  } else {
    assert_true(m->n[t] < MODEL_KEYS_MAX);
    memmove(&m->e[t][i + 1], &m->e[t][i], (m->n[t] - i) * sizeof m->e[t][0]);
    m->n[t]++;
    m->e[t][i].k = dup_bytes(k);
    m->e[t][i].klen = k.len;
  }
  m->e[t][i].v = dup_bytes(v);
  m->e[t][i].vlen = v.len;
}

static void model_del(model_t *m, int t, ve_slice_t k) {
  size_t i;
  if (!model_has(m, t, k, &i)) return;
  free(m->e[t][i].k);
  free(m->e[t][i].v);
  memmove(&m->e[t][i], &m->e[t][i + 1], (m->n[t] - i - 1) * sizeof m->e[t][0]);
  m->n[t]--;
}

/* Model cursor: the same state machine as store.c, positions held by key. */
typedef enum { MC_UNSET, MC_AT, MC_AFTER, MC_BEFORE } mc_pos_t;
typedef struct {
  int t;
  mc_pos_t pos;
  uint8_t key[STORE_KEY_BYTES_MAX];
  size_t klen;
} mcur_t;

/* Lands on index i (or misses into pos miss). Returns index or -1. */
static long mc_land(const model_t *m, mcur_t *c, size_t i, bool ok, mc_pos_t miss) {
  if (!ok || i >= m->n[c->t]) {
    c->pos = miss;
    return -1;
  }
  c->pos = MC_AT;
  memcpy(c->key, m->e[c->t][i].k, m->e[c->t][i].klen);
  c->klen = m->e[c->t][i].klen;
  return (long)i;
}

static long mc_seek(const model_t *m, mcur_t *c, ve_slice_t k) {
  return mc_land(m, c, model_lb(m, c->t, k), true, MC_AFTER);
}

static long mc_last(const model_t *m, mcur_t *c) {
  return mc_land(m, c, m->n[c->t] - 1, m->n[c->t] > 0, MC_AFTER);
}

static long mc_next(const model_t *m, mcur_t *c) {
  if (c->pos == MC_AFTER) return -1;
  if (c->pos != MC_AT) return mc_land(m, c, 0, true, MC_AFTER);
  size_t i;
  bool has = model_has(m, c->t, ve_slice(c->key, c->klen), &i);
  return mc_land(m, c, has ? i + 1 : i, true, MC_AFTER);
}

static long mc_prev(const model_t *m, mcur_t *c) {
  if (c->pos == MC_BEFORE) return -1;
  if (c->pos != MC_AT) return mc_land(m, c, m->n[c->t] - 1, m->n[c->t] > 0, MC_BEFORE);
  size_t i = model_lb(m, c->t, ve_slice(c->key, c->klen));
  return mc_land(m, c, i - 1, i > 0, MC_BEFORE);
}

/* Keys drawn from a pool that makes prefixes and shared bytes likely. */
#define POOL_KEYS 150
typedef struct {
  uint8_t k[STORE_KEY_BYTES_MAX];
  size_t len;
} pool_key_t;

static void pool_init(pool_key_t *pool, uint64_t *rng) {
  static const uint8_t alphabet[] = {0x00, 0x01, 'a', 'b', 0x7f, 0xff};
  for (int i = 0; i < POOL_KEYS; i++) {
    size_t len = 1 + rng_below(rng, 6);
    if (i % 25 == 0) len = STORE_KEY_BYTES_MAX - rng_below(rng, 3);
    if (i > 0 && rng_below(rng, 4) == 0 && pool[i - 1].len < STORE_KEY_BYTES_MAX) {
      memcpy(pool[i].k, pool[i - 1].k, pool[i - 1].len); /* an extension of the previous */
      pool[i].k[pool[i - 1].len] = alphabet[rng_below(rng, sizeof alphabet)];
      pool[i].len = pool[i - 1].len + 1;
      continue;
    }
    for (size_t j = 0; j < len; j++) pool[i].k[j] = alphabet[rng_below(rng, sizeof alphabet)];
    pool[i].len = len;
  }
}

/* Compares one store answer (rc, k, v) with the model's (index or -1). */
static void check_answer(const model_t *m, int t, long idx, int rc, ve_slice_t k, ve_slice_t v) {
  if (idx < 0) {
    assert_int_equal(rc, VE_ERR_NOT_FOUND);
    return;
  }
  assert_int_equal(rc, 0);
  const mkv_t *e = &m->e[t][idx];
  assert_true(ve_slice_eq(k, ve_slice(e->k, e->klen)));
  assert_true(ve_slice_eq(v, ve_slice(e->v, e->vlen)));
}

#define MODEL_STORES 2

typedef struct {
  store_t *s[MODEL_STORES];
  store_txn_t *t[MODEL_STORES];
  store_cursor_t *c[MODEL_STORES];
  mcur_t mc;
  bool cursor_open;
  model_t committed, work;
  pool_key_t pool[POOL_KEYS];
  uint64_t rng;
  uint64_t ops;
} model_run_t;

static void model_step(model_run_t *r) {
  int t = (int)rng_below(&r->rng, MODEL_TABLES);
  store_table_t tb = model_tables[t];
  const pool_key_t *pk = &r->pool[rng_below(&r->rng, POOL_KEYS)];
  ve_slice_t key = ve_slice(pk->k, pk->len);
  uint32_t op = rng_below(&r->rng, 100);
  ve_slice_t k, v;
  r->ops++;
  if (op < 35) { /* put, a quarter of them as appends */
    uint8_t val[64], after[STORE_KEY_BYTES_MAX];
    size_t vlen = rng_below(&r->rng, sizeof val);
    for (size_t i = 0; i < vlen; i++) val[i] = (uint8_t)trng_step(&r->rng);
    if (r->work.n[t] >= MODEL_KEYS_MAX - 1) return;
    bool append = rng_below(&r->rng, 4) == 0;
    const mkv_t *last = r->work.n[t] ? &r->work.e[t][r->work.n[t] - 1] : NULL;
    if (append && last && last->klen < STORE_KEY_BYTES_MAX && rng_below(&r->rng, 2)) {
      memcpy(after, last->k, last->klen); /* a key right after the table's last */
      after[last->klen] = (uint8_t)trng_step(&r->rng);
      key = ve_slice(after, last->klen + 1);
    }
    for (int s = 0; s < MODEL_STORES; s++) {
      int rc = append ? store_put_append(r->t[s], tb, key, ve_slice(val, vlen))
                      : store_put(r->t[s], tb, key, ve_slice(val, vlen));
      assert_int_equal(rc, 0);
    }
    model_put(&r->work, t, key, ve_slice(val, vlen));
  } else if (op < 50) { /* del */
    for (int s = 0; s < MODEL_STORES; s++) assert_int_equal(store_del(r->t[s], tb, key), 0);
    model_del(&r->work, t, key);
  } else if (op < 65) { /* get */
    size_t i;
    long idx = model_has(&r->work, t, key, &i) ? (long)i : -1;
    for (int s = 0; s < MODEL_STORES; s++) {
      int rc = store_get(r->t[s], tb, key, &v);
      check_answer(&r->work, t, idx, rc, key, v);
    }
  } else if (op < 68) { /* count */
    for (int s = 0; s < MODEL_STORES; s++) assert_int_equal(count_of(r->t[s], tb), r->work.n[t]);
  } else if (!r->cursor_open) { /* open a cursor on a random table */
    for (int s = 0; s < MODEL_STORES; s++) {
      assert_int_equal(store_cursor_open(r->t[s], tb, &r->c[s]), 0);
    }
    r->mc = (mcur_t){.t = t, .pos = MC_UNSET};
    r->cursor_open = true;
  } else { /* move the open cursor */
    int ct = r->mc.t;
    uint32_t mv = rng_below(&r->rng, 10);
    long idx;
    if (mv == 0) {
      idx = mc_seek(&r->work, &r->mc, key);
    } else if (mv == 1) {
      idx = mc_last(&r->work, &r->mc);
    } else if (mv < 6) {
      idx = mc_next(&r->work, &r->mc);
    } else {
      idx = mc_prev(&r->work, &r->mc);
    }
    for (int s = 0; s < MODEL_STORES; s++) {
      int rc = mv == 0   ? store_cursor_seek(r->c[s], key, &k, &v)
               : mv == 1 ? store_cursor_last(r->c[s], &k, &v)
               : mv < 6  ? store_cursor_next(r->c[s], &k, &v)
                         : store_cursor_prev(r->c[s], &k, &v);
      check_answer(&r->work, ct, idx, rc, k, v);
    }
  }
}

static void model_close_cursor(model_run_t *r) {
  if (!r->cursor_open) return;
  for (int s = 0; s < MODEL_STORES; s++) store_cursor_close(r->c[s]);
  r->cursor_open = false;
}

/* Full scans of every model table in a read txn of each store match the model. */
static void model_compare_committed(model_run_t *r) {
  for (int s = 0; s < MODEL_STORES; s++) {
    store_txn_t *t = begin(r->s[s], false);
    for (int mt = 0; mt < MODEL_TABLES; mt++) {
      store_cursor_t *c;
      ve_slice_t k, v;
      assert_int_equal(store_cursor_open(t, model_tables[mt], &c), 0);
      for (size_t i = 0; i < r->committed.n[mt]; i++) {
        int rc = store_cursor_next(c, &k, &v);
        check_answer(&r->committed, mt, (long)i, rc, k, v);
      }
      assert_int_equal(store_cursor_next(c, &k, &v), VE_ERR_NOT_FOUND);
      store_cursor_close(c);
      assert_int_equal(count_of(t, model_tables[mt]), r->committed.n[mt]);
    }
    store_txn_abort(t);
  }
}

static void test_model_random(void **state) {
  (void)state;
  enum { TXNS = 300 };
  static model_run_t r; /* large: keep it off the stack */
  memset(&r, 0, sizeof r);
  char dir[64];
  make_tmpdir(dir, sizeof dir);
  r.s[0] = open_backend(BK_MEM, NULL);
  r.s[1] = open_backend(BK_LMDB, dir);
  r.rng = g_seed;
  pool_init(r.pool, &r.rng);
  for (int txn = 0; txn < TXNS; txn++) {
    for (int s = 0; s < MODEL_STORES; s++) r.t[s] = begin(r.s[s], true);
    model_copy(&r.work, &r.committed);
    int steps = 1 + (int)rng_below(&r.rng, 25);
    for (int i = 0; i < steps; i++) {
      model_step(&r);
      if (r.cursor_open && rng_below(&r.rng, 8) == 0) model_close_cursor(&r);
    }
    model_close_cursor(&r);
    if (rng_below(&r.rng, 5) == 0) {
      for (int s = 0; s < MODEL_STORES; s++) store_txn_abort(r.t[s]);
    } else {
      for (int s = 0; s < MODEL_STORES; s++) assert_int_equal(store_txn_commit(r.t[s]), 0);
      model_copy(&r.committed, &r.work);
    }
    if (txn % 10 == 9) model_compare_committed(&r);
  }
  model_compare_committed(&r);
  assert_int_equal(store_mem_check(r.s[0]), 0);
  print_message("model test: %llu operations over %d transactions\n",
                (unsigned long long)r.ops, TXNS);
  assert_true(r.ops > 2000);
  model_free(&r.committed);
  model_free(&r.work);
  store_close(r.s[0]);
  store_close(r.s[1]);
  remove_dir(dir);
}

/* ---- Main ---------------------------------------------------------------- */

#define BOTH(f)                                                                   \
  cmocka_unit_test_prestate_setup_teardown(f, fx_setup, fx_teardown, &g_mem),     \
      cmocka_unit_test_prestate_setup_teardown(f, fx_setup, fx_teardown, &g_lmdb)
#define LMDB(f) cmocka_unit_test_prestate_setup_teardown(f, fx_setup, fx_teardown, &g_lmdb)

int main(void) {
  const char *env = getenv("VECHE_SEED");
  g_seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  printf("store_test seed: %llu (replay with VECHE_SEED=%llu)\n", (unsigned long long)g_seed,
         (unsigned long long)g_seed);
  fflush(stdout);
  const struct CMUnitTest tests[] = {
      BOTH(test_put_get_del),
      BOTH(test_overwrite),
      BOTH(test_tables_are_separate),
      BOTH(test_key_value_limits),
      BOTH(test_abort_discards),
      BOTH(test_write_txn_sees_own_writes),
      BOTH(test_snapshot_isolation),
      BOTH(test_poisoned_txn),
      BOTH(test_cursor_order),
      BOTH(test_cursor_seek),
      BOTH(test_cursor_sees_own_writes),
      BOTH(test_many_keys),
      BOTH(test_tree_random),
      BOTH(test_put_append),
      BOTH(test_put_append_errors),
      BOTH(test_put_append_many),
      BOTH(test_get_committed),
      BOTH(test_write_batch),
      cmocka_unit_test(test_mem_million_keys),
      BOTH(test_single_writer_blocks),
      BOTH(test_concurrent_readers),
      BOTH(test_fault_injection),
      LMDB(test_lmdb_reopen),
      cmocka_unit_test(test_lmdb_open_errors),
      LMDB(test_lmdb_map_full),
      LMDB(test_lmdb_crash_atomicity),
      cmocka_unit_test(test_model_random),
  };
  return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
