/* backup_test.c — hot backups of an LMDB store (store_lmdb_backup) and of a
 * node's chain store (node_backup, which also marks the copy).
 *
 * The store being copied is written by another process (a forked child), as
 * a running node's is: the copy must open, hold exactly the state of one
 * committed transaction (no half of a transaction, nothing of one still open,
 * nothing missing of one committed before the copy began), and carry the
 * backup mark, while the source never gets one. LMDB allows one open of an
 * environment per process, so only the child opens the source until it is
 * gone.
 *
 * Each transaction i of the writer: META "ctr" = be64(i); BLOCKS be64(i) ->
 * val(i); STATE key(i) -> val(i) and key(i - STATE_KEEP) deleted. So a copy
 * with ctr c is exact iff BLOCKS holds exactly 1..c and STATE exactly
 * c-STATE_KEEP+1..c, with their values.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/log.h"
#include "ledger/ledger.h"
#include "node/node.h"
#include "store/store.h"
#include "tchain.h"

#define STATE_KEEP 8
#define VAL_BYTES 300
#define FIRST_TXNS 50 /* committed before the first copy */
#define CHAIN_BLOCKS_FIRST 5

static char g_root[64];

static void path_of(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", g_root, name); }

static void mkdir_of(const char *name) {
  char p[128];
  path_of(p, sizeof p, name);
  assert_int_equal(mkdir(p, 0700), 0);
}

static ve_slice_t S(const char *s) { return ve_slice(s, strlen(s)); }

static void val_of(uint8_t *v, uint64_t i) {
  for (size_t k = 0; k < VAL_BYTES; k++) v[k] = (uint8_t)(i * 31 + k);
}

static void key_of(uint8_t k[8], uint64_t i) { ve_be64_put(k, i); }

/* ---- the writer (child process) ---- */

/* One transaction i; open_only: leave it open (returned) instead of committing. */
static int writer_txn(store_t *s, uint64_t i, store_txn_t **open_out) {
  store_txn_t *t;
  if (store_txn_begin(s, true, &t)) return -1;
  uint8_t k[8], v[VAL_BYTES];
  val_of(v, i);
  key_of(k, i);
  int rc = store_put(t, STORE_T_META, S("ctr"), ve_slice(k, 8));
  if (!rc) rc = store_put(t, STORE_T_BLOCKS, ve_slice(k, 8), ve_slice(v, VAL_BYTES));
  if (!rc) rc = store_put(t, STORE_T_STATE, ve_slice(k, 8), ve_slice(v, VAL_BYTES));
  if (!rc && i > STATE_KEEP) {
    key_of(k, i - STATE_KEEP);
    rc = store_del(t, STORE_T_STATE, ve_slice(k, 8));
  }
  if (rc) {
    store_txn_abort(t);
    return -1;
  }
  if (open_out) {
    *open_out = t;
    return 0;
  }
  return store_txn_commit(t) ? -1 : 0;
}

/* Commits FIRST_TXNS txns, opens txn FIRST_TXNS+1 and says so on `up`; on a
 * byte from `down`, commits it and then commits more until killed. */
static _Noreturn void writer_main(const char *dir, int up, int down) {
  store_t *s;
  if (store_open_lmdb(&s, dir, 0)) _exit(2);
  for (uint64_t i = 1; i <= FIRST_TXNS; i++)
    if (writer_txn(s, i, NULL)) _exit(3);
  store_txn_t *t;
  if (writer_txn(s, FIRST_TXNS + 1, &t)) _exit(4);
  char b = 'o';
  if (write(up, &b, 1) != 1 || read(down, &b, 1) != 1) _exit(5);
  if (store_txn_commit(t)) _exit(6);
  if (write(up, &b, 1) != 1) _exit(7);
  for (uint64_t i = FIRST_TXNS + 2;; i++)
    if (writer_txn(s, i, NULL)) _exit(8);
}

static pid_t spawn_writer(const char *dir, int *up_r, int *down_w) {
  int up[2], down[2];
  assert_int_equal(pipe(up), 0);
  assert_int_equal(pipe(down), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    writer_main(dir, up[1], down[0]);
  }
  close(up[1]);
  close(down[0]);
  *up_r = up[0];
  *down_w = down[1];
  return pid;
}

static void child_kill(pid_t pid) {
  assert_int_equal(kill(pid, SIGKILL), 0);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFSIGNALED(st)); /* it was still writing, not dead of an error */
}

static void wait_byte(int fd) {
  char b;
  assert_int_equal(read(fd, &b, 1), 1);
}

/* ---- checks on a copy ---- */

/* The copy holds exactly the state after txn c (returned). */
static uint64_t check_exact(store_t *s) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  ve_slice_t v;
  assert_int_equal(store_get(t, STORE_T_META, S("ctr"), &v), 0);
  assert_int_equal(v.len, 8);
  uint64_t c = ve_be64_get(v.ptr), n;
  uint8_t k[8], want[VAL_BYTES];
  assert_int_equal(store_count(t, STORE_T_BLOCKS, &n), 0);
  assert_int_equal(n, c);
  for (uint64_t i = 1; i <= c; i++) {
    key_of(k, i);
    val_of(want, i);
    assert_int_equal(store_get(t, STORE_T_BLOCKS, ve_slice(k, 8), &v), 0);
    assert_int_equal(v.len, VAL_BYTES);
    assert_memory_equal(v.ptr, want, VAL_BYTES);
    int rc = store_get(t, STORE_T_STATE, ve_slice(k, 8), &v);
    if (i + STATE_KEEP > c) {
      assert_int_equal(rc, 0);
      assert_memory_equal(v.ptr, want, VAL_BYTES);
    } else {
      assert_int_equal(rc, VE_ERR_NOT_FOUND);
    }
  }
  assert_int_equal(store_count(t, STORE_T_STATE, &n), 0);
  assert_int_equal(n, c < STATE_KEEP ? c : STATE_KEEP);
  store_txn_abort(t);
  return c;
}

static bool has_mark(store_t *s, uint64_t *h) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  ve_slice_t v;
  int rc = store_get(t, STORE_T_META, S(NODE_META_BACKUP_HEIGHT), &v);
  if (rc == 0) {
    assert_int_equal(v.len, 8);
    *h = ve_be64_get(v.ptr);
  } else {
    assert_int_equal(rc, VE_ERR_NOT_FOUND);
  }
  store_txn_abort(t);
  return rc == 0;
}

/* ---- tests ---- */

/* store_lmdb_backup while another process writes: the copy taken while txn
 * FIRST_TXNS+1 is open holds exactly FIRST_TXNS; a copy taken while txns are
 * being committed holds exactly one of them, at least FIRST_TXNS+1. */
static void test_store_copy_hot(void **state) {
  (void)state;
  char src[128], d1[128], d2[128];
  path_of(src, sizeof src, "src");
  path_of(d1, sizeof d1, "copy1");
  path_of(d2, sizeof d2, "copy2");
  mkdir_of("src");
  mkdir_of("copy1");
  mkdir_of("copy2");
  int up, down;
  pid_t pid = spawn_writer(src, &up, &down);
  wait_byte(up); /* FIRST_TXNS committed, the next one open */
  uint64_t bytes = 0;
  assert_int_equal(store_lmdb_backup(src, d1, &bytes), 0);
  assert_true(bytes > FIRST_TXNS * VAL_BYTES);
  char b = 'g';
  assert_int_equal(write(down, &b, 1), 1);
  wait_byte(up); /* FIRST_TXNS+1 committed; more are being committed now */
  assert_int_equal(store_lmdb_backup(src, d2, &bytes), 0);
  /* A copy is not written over. */
  assert_int_equal(store_lmdb_backup(src, d2, NULL), VE_ERR_EXISTS);
  child_kill(pid);
  close(up);
  close(down);

  store_t *s;
  assert_int_equal(store_open_lmdb(&s, d1, 0), 0);
  assert_int_equal(check_exact(s), FIRST_TXNS);
  store_close(s);
  assert_int_equal(store_open_lmdb(&s, d2, 0), 0);
  uint64_t c2 = check_exact(s);
  assert_true(c2 >= FIRST_TXNS + 1);
  store_close(s);
  assert_int_equal(store_open_lmdb(&s, src, 0), 0);
  uint64_t csrc = check_exact(s);
  assert_true(csrc >= c2);
  store_close(s);
  print_message("copies at txn %d and %llu; the writer reached %llu\n", FIRST_TXNS, (unsigned long long)c2,
                (unsigned long long)csrc);
}

/* Refusals: no environment, not a chain (node_backup), a missing source. */
static void test_backup_refusals(void **state) {
  (void)state;
  char src[128], dst[128], err[512];
  path_of(src, sizeof src, "nothing");
  path_of(dst, sizeof dst, "copy-nothing");
  mkdir_of("nothing");
  mkdir_of("copy-nothing");
  assert_int_equal(store_lmdb_backup(src, dst, NULL), VE_ERR_NOT_FOUND);
  path_of(src, sizeof src, "missing");
  uint64_t h = 0;
  assert_int_equal(node_backup(src, dst, &h, NULL, err, sizeof err), VE_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "no store"));
  /* A store without a chain (test_store_copy_hot's source): copied, but
   * node_backup refuses to call it a node's backup. */
  path_of(src, sizeof src, "src");
  assert_int_equal(node_backup(src, dst, &h, NULL, err, sizeof err), VE_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "no chain"));
}

/* A chain writer: genesis, then empty blocks until killed; says on up when
 * CHAIN_BLOCKS_FIRST are committed. */
static _Noreturn void chain_main(const char *dir, int up) {
  store_t *s;
  if (store_open_lmdb(&s, dir, 0)) _exit(2);
  static tchain_t c;
  tchain_init(&c, "backup-test", node_registry());
  vcrypto_keypair_t admin;
  tchain_key(&admin, NULL, 7, 1);
  tchain_authority(&c, "registry", &admin, ROLE_ALL_MASK);
  tchain_open(&c, s);
  for (int i = 0; i < CHAIN_BLOCKS_FIRST; i++) tchain_commit(&c, NULL, 0, NULL);
  char b = 'c';
  if (write(up, &b, 1) != 1) _exit(5);
  for (;;) tchain_commit(&c, NULL, 0, NULL);
}

/* node_backup of a chain being extended: the copy holds a whole chain up to
 * its tip, is marked with that tip's height, and the source is not marked. */
static void test_node_backup_marks(void **state) {
  (void)state;
  char src[128], dst[128], err[512] = "";
  path_of(src, sizeof src, "chain");
  path_of(dst, sizeof dst, "copy-chain");
  mkdir_of("chain");
  mkdir_of("copy-chain");
  int up[2];
  assert_int_equal(pipe(up), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(up[0]);
    chain_main(src, up[1]);
  }
  close(up[1]);
  wait_byte(up[0]);
  uint64_t h = 0, bytes = 0;
  int rc = node_backup(src, dst, &h, &bytes, err, sizeof err);
  if (rc) print_error("node_backup: %s\n", err);
  assert_int_equal(rc, 0);
  child_kill(pid);
  close(up[0]);
  assert_true(h >= CHAIN_BLOCKS_FIRST);
  assert_true(bytes > 0);

  store_t *s;
  assert_int_equal(store_open_lmdb(&s, dst, 0), 0);
  uint64_t mark = 0;
  assert_true(has_mark(s, &mark));
  assert_int_equal(mark, h);
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  ledger_tip_t tip;
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  assert_int_equal(tip.height, h);
  uint64_t n;
  assert_int_equal(store_count(t, STORE_T_BLOCKS, &n), 0);
  assert_int_equal(n, h);
  assert_int_equal(store_count(t, STORE_T_CERTS, &n), 0);
  assert_int_equal(n, h);
  store_txn_abort(t);
  store_close(s);

  assert_int_equal(store_open_lmdb(&s, src, 0), 0);
  assert_false(has_mark(s, &mark));
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  assert_int_equal(ledger_tip_get(t, &tip), 0);
  assert_true(tip.height >= h);
  store_txn_abort(t);
  store_close(s);
  print_message("copy marked at height %llu (%llu bytes); the source reached %llu\n", (unsigned long long)h,
                (unsigned long long)bytes, (unsigned long long)tip.height);
}

int main(void) {
  snprintf(g_root, sizeof g_root, "/tmp/veche-backup-test-XXXXXX");
  if (!mkdtemp(g_root)) return 1;
  ve_log_set_level(VE_LOG_WARN);
  vcrypto_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_store_copy_hot),
      cmocka_unit_test(test_backup_refusals),
      cmocka_unit_test(test_node_backup_marks),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_root);
  return rc;
}
