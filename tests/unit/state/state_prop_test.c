/* state_prop_test.c — seeded property test of src/state against a plain model.
 *
 * STATE_PROP_KEYS keys (100,000; fewer under the sanitizer build, see
 * CMakeLists.txt) are brought in over many versions with interleaved inserts,
 * updates, deletes, deletes of absent keys and duplicate writes inside a batch.
 * The model is an array indexed by key number holding each key's current value.
 * Checked: after every commit, state_get for every key the batch touched;
 * periodically, the root against the reference definition and proofs for a
 * sample of keys; at the end, a verified proof (inclusion or absence) for every
 * key ever touched, and proofs at older versions against their old roots.
 * The seed is printed; replay with VECHE_SEED=<seed>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "state/state.h"
#include "state_test_util.h"

#ifndef STATE_PROP_KEYS
#define STATE_PROP_KEYS 100000
#endif
#define VERSIONS 100
#define NEW_PER_VERSION (STATE_PROP_KEYS / VERSIONS)
#define OPS_PER_VERSION (2 * NEW_PER_VERSION)
#define CHECK_EVERY 20
#define SNAPSHOTS (VERSIONS / CHECK_EVERY)
#define SAMPLE_PROOFS 500

typedef struct {
  uint8_t key[32];
  uint8_t key_len;
  bool present;
  ve_slice_t val; /* into the value arena; valid while present */
} model_key_t;

typedef struct {
  uint64_t version;
  uint8_t root[32];
  bool *present;
  ve_slice_t *val;
} snapshot_t;

static model_key_t *g_keys;
static uint8_t *g_arena;
static size_t g_arena_used, g_arena_cap;

static ve_slice_t value_new(void) {
  size_t len = tu_rng_below(500) == 0 ? 1000 + tu_rng_below(3000) : tu_rng_below(41);
  if (g_arena_used + len > g_arena_cap) {
    fail_msg("value arena exhausted");
  }
  uint8_t *p = g_arena + g_arena_used;
  tu_rng_bytes(p, len);
  g_arena_used += len;
  return ve_slice(len ? p : NULL, len);
}

static ve_slice_t key_of(unsigned i) { return ve_slice(g_keys[i].key, g_keys[i].key_len); }

static void keys_make(void) {
  g_keys = calloc(STATE_PROP_KEYS, sizeof *g_keys);
  assert_non_null(g_keys);
  for (unsigned i = 0; i < STATE_PROP_KEYS; i++) {
    model_key_t *k = &g_keys[i];
    k->key[0] = (uint8_t)(i >> 24), k->key[1] = (uint8_t)(i >> 16);
    k->key[2] = (uint8_t)(i >> 8), k->key[3] = (uint8_t)i; /* unique prefix */
    k->key_len = (uint8_t)(4 + tu_rng_below(29));
    tu_rng_bytes(k->key + 4, k->key_len - 4u);
  }
}

static void root_check_reference(const uint8_t root[32]) {
  tu_ref_leaf_t *ref = malloc(STATE_PROP_KEYS * sizeof *ref);
  assert_non_null(ref);
  size_t n = 0;
  for (unsigned i = 0; i < STATE_PROP_KEYS; i++) {
    if (g_keys[i].present) tu_ref_leaf(&ref[n++], key_of(i), g_keys[i].val);
  }
  uint8_t want[32];
  tu_ref_root(want, ref, n);
  assert_memory_equal(root, want, 32);
  free(ref);
}

/* One batch: NEW_PER_VERSION new keys and OPS_PER_VERSION random operations on
 * keys already brought in (random order, repeats included), applied to the model
 * in batch order, so the model's value is the batch's last write. */
static size_t batch_make(state_change_t *ch, unsigned *touched, unsigned *introduced) {
  size_t n = 0;
  unsigned first_new = *introduced;
  *introduced += NEW_PER_VERSION;
  for (unsigned j = 0; j < NEW_PER_VERSION + OPS_PER_VERSION; j++) {
    unsigned i;
    if (j < NEW_PER_VERSION) {
      i = first_new + j;
    } else if (n > 0 && tu_rng_below(10) == 0) {
      i = touched[tu_rng_below(n)]; /* again in the same batch */
    } else {
      i = (unsigned)tu_rng_below(*introduced);
    }
    model_key_t *k = &g_keys[i];
    bool remove = j >= NEW_PER_VERSION && tu_rng_below(100) < (k->present ? 35 : 15);
    ch[n].key = key_of(i);
    ch[n].del = remove;
    if (remove) {
      ch[n].val = ve_slice(NULL, 0);
      k->present = false;
    } else {
      ch[n].val = value_new();
      k->present = true;
      k->val = ch[n].val;
    }
    touched[n++] = i;
  }
  return n;
}

static void gets_check(store_t *s, const unsigned *idx, size_t n) {
  store_txn_t *t;
  assert_int_equal(store_txn_begin(s, false, &t), 0);
  for (size_t j = 0; j < n; j++) {
    const model_key_t *k = &g_keys[idx[j]];
    ve_slice_t v;
    int rc = state_get(t, key_of(idx[j]), &v);
    if (k->present) {
      if (rc != 0 || !ve_slice_eq(v, k->val)) fail_msg("state_get of key %u wrong", idx[j]);
    } else if (rc != VE_ERR_NOT_FOUND) {
      fail_msg("key %u should be absent (rc %d)", idx[j], rc);
    }
  }
  store_txn_abort(t);
}

static void proof_check(store_t *s, uint64_t version, const uint8_t root[32], unsigned i,
                        bool present, ve_slice_t val) {
  long len = tu_prove_check(s, version, root, key_of(i), present ? &val : NULL);
  if (len <= 0) fail_msg("proof of key %u at version %llu failed", i, (unsigned long long)version);
}

static void test_property(void **st) {
  (void)st;
  tu_rng_seed(tu_seed("state_property"));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  keys_make();
  g_arena_cap = (size_t)(NEW_PER_VERSION + OPS_PER_VERSION) * VERSIONS * 60;
  g_arena = malloc(g_arena_cap);
  assert_non_null(g_arena);
  state_change_t *ch = calloc(NEW_PER_VERSION + OPS_PER_VERSION, sizeof *ch);
  unsigned *touched = calloc(NEW_PER_VERSION + OPS_PER_VERSION, sizeof *touched);
  snapshot_t snaps[SNAPSHOTS];
  unsigned nsnaps = 0;
  store_t *s = NULL;
  assert_int_equal(store_open_mem(&s), 0);
  unsigned introduced = 0;
  uint8_t root[32];
  size_t changes_total = 0;

  for (uint64_t v = 1; v <= VERSIONS; v++) {
    size_t n = batch_make(ch, touched, &introduced);
    changes_total += n;
    assert_int_equal(tu_commit(s, v, ch, n, root), 0);
    gets_check(s, touched, n);
    if (v % CHECK_EVERY != 0) continue;
    root_check_reference(root);
    for (unsigned j = 0; j < SAMPLE_PROOFS; j++) {
      unsigned i = (unsigned)tu_rng_below(introduced);
      proof_check(s, v, root, i, g_keys[i].present, g_keys[i].val);
    }
    snapshot_t *sn = &snaps[nsnaps++];
    sn->version = v;
    memcpy(sn->root, root, 32);
    sn->present = malloc(STATE_PROP_KEYS * sizeof *sn->present);
    sn->val = malloc(STATE_PROP_KEYS * sizeof *sn->val);
    for (unsigned i = 0; i < STATE_PROP_KEYS; i++) {
      sn->present[i] = g_keys[i].present;
      sn->val[i] = g_keys[i].val;
    }
  }
  assert_int_equal(introduced, STATE_PROP_KEYS);

  /* Every key ever touched: value and a verified proof at the last version. */
  unsigned present_n = 0;
  for (unsigned i = 0; i < STATE_PROP_KEYS; i++) {
    proof_check(s, VERSIONS, root, i, g_keys[i].present, g_keys[i].val);
    present_n += g_keys[i].present;
  }
  /* Older versions still prove against their own roots. */
  for (unsigned k = 0; k + 1 < nsnaps; k++) {
    for (unsigned j = 0; j < SAMPLE_PROOFS; j++) {
      unsigned i = (unsigned)tu_rng_below(STATE_PROP_KEYS);
      proof_check(s, snaps[k].version, snaps[k].root, i, snaps[k].present[i], snaps[k].val[i]);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("property: %u keys (%u present at the end), %zu changes over %d versions, %.1f s\n",
         STATE_PROP_KEYS, present_n, changes_total, VERSIONS,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  for (unsigned k = 0; k < nsnaps; k++) {
    free(snaps[k].present);
    free(snaps[k].val);
  }
  store_close(s);
  free(ch);
  free(touched);
  free(g_keys);
  free(g_arena);
}

int main(void) {
  assert_int_equal(vcrypto_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_property),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
