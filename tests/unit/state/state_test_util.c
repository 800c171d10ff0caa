/* state_test_util.c — see state_test_util.h. */
#include "state_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "trng.h"

static uint64_t g_rng;

uint64_t tu_seed(const char *test_name) {
  const char *env = getenv("VECHE_SEED");
  uint64_t seed;
  if (env && *env) {
    seed = strtoull(env, NULL, 0);
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
  }
  printf("[ seed ] %s: VECHE_SEED=%llu\n", test_name, (unsigned long long)seed);
  fflush(stdout);
  return seed;
}

void tu_rng_seed(uint64_t seed) { g_rng = seed; }

uint64_t tu_rng(void) { return trng_step(&g_rng); }

uint64_t tu_rng_below(uint64_t n) { return n ? tu_rng() % n : 0; }

void tu_rng_bytes(uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)tu_rng();
}

void tu_ref_leaf(tu_ref_leaf_t *out, ve_slice_t key, ve_slice_t val) {
  uint8_t vh[32], msg[64];
  vcrypto_hash(out->path, "veche/state/key", key.ptr, key.len);
  vcrypto_hash(vh, "veche/state/value", val.ptr, val.len);
  memcpy(msg, out->path, 32);
  memcpy(msg + 32, vh, 32);
  vcrypto_hash(out->leaf, "veche/state/leaf", msg, 64);
}

static int leaf_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }

static unsigned bit_at(const uint8_t *path, unsigned i) { return (path[i / 8] >> (7 - i % 8)) & 1; }

/* The definition: empty -> zeros; one leaf -> its hash; else node(left, right)
 * split on bit `depth`. Recursion depth is at most 256 (test code). */
static void ref_subtree(uint8_t out[32], const tu_ref_leaf_t *l, size_t n, unsigned depth) {
  if (n == 0) {
    memset(out, 0, 32);
    return;
  }
  if (n == 1) {
    memcpy(out, l[0].leaf, 32);
    return;
  }
  size_t k = 0;
  while (k < n && !bit_at(l[k].path, depth)) k++;
  uint8_t msg[64];
  ref_subtree(msg, l, k, depth + 1);
  ref_subtree(msg + 32, l + k, n - k, depth + 1);
  vcrypto_hash(out, "veche/state/node", msg, 64);
}

void tu_ref_root(uint8_t root[32], tu_ref_leaf_t *leaves, size_t n) {
  qsort(leaves, n, sizeof *leaves, leaf_cmp);
  ref_subtree(root, leaves, n, 0);
}

int tu_commit(store_t *s, uint64_t version, const state_change_t *ch, size_t n, uint8_t root[32]) {
  store_txn_t *t;
  int rc = store_txn_begin(s, true, &t);
  if (rc) return rc;
  rc = state_commit(t, version, ch, n, root);
  if (rc) {
    store_txn_abort(t);
    return rc;
  }
  return store_txn_commit(t);
}

long tu_prove_check(store_t *s, uint64_t version, const uint8_t root[32], ve_slice_t key,
                    const ve_slice_t *want) {
  store_txn_t *t;
  if (store_txn_begin(s, false, &t)) return -1;
  ve_buf_t val, proof;
  ve_buf_init(&val, 0);
  ve_buf_init(&proof, 0);
  bool present = false;
  long res = -1;
  int rc = state_prove(t, version, key, &present, &val, &proof);
  store_txn_abort(t);
  if (rc) {
    printf("state_prove: %s\n", ve_err_name(rc));
  } else if (present != (want != NULL)) {
    printf("presence mismatch: got %d\n", present);
  } else if (want && !ve_slice_eq(ve_buf_slice(&val), *want)) {
    printf("value mismatch\n");
  } else if ((rc = state_proof_verify(root, key, want, ve_buf_slice(&proof))) != 0) {
    printf("state_proof_verify: %s\n", ve_err_name(rc));
  } else {
    res = (long)proof.len;
  }
  ve_buf_free(&val);
  ve_buf_free(&proof);
  return res;
}

store_t *tu_lmdb_open(char dir[TU_LMDB_DIR_BYTES]) {
  snprintf(dir, TU_LMDB_DIR_BYTES, "/tmp/veche-state-test-XXXXXX");
  if (!mkdtemp(dir)) return NULL;
  store_t *s = NULL;
  if (store_open_lmdb(&s, dir, (size_t)1 << 30) != VE_OK) {
    rmdir(dir);
    return NULL;
  }
  return s;
}

void tu_lmdb_close(store_t *s, const char *dir) {
  store_close(s);
  char path[TU_LMDB_DIR_BYTES + 16];
  const char *files[] = {"data.mdb", "lock.mdb"};
  for (unsigned i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  rmdir(dir);
}
