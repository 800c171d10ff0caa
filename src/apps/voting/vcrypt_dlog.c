/* vcrypt_dlog.c — bounded discrete logarithm by baby-step giant-step.
 *
 * Decryption of an exponential ElGamal tally yields M = m*G; m is at most the
 * number of ballots. We find any m in [0, VOTE_DLOG_MAX] = [0, 2^25 - 1]:
 *
 *   baby steps  B = VOTE_DLOG_TABLE_ENTRIES = 2^16 keys of j*G4, j in [0, B),
 *               with G4 = 4G, sorted (16 bytes per entry: 1 MiB);
 *   giant steps Q_i = 4M - i*(B*G4) for i in [0, 2^25 / B) = 512 steps;
 *               a key match Q_i == j*G4 gives the candidate m = i*B + j,
 *               confirmed exactly by recomputing m*G.
 *
 * Why 4G: a decoded ristretto255 element is some Edwards point M0 + T with T in
 * the 4-torsion; multiplying by 4 removes T, so every point compared here is the
 * unique torsion-free representative and its affine coordinates identify it.
 * The key is 63 bits of affine y plus the sign of x (vote_ge_dlog_key); affine
 * coordinates of a whole batch share one field inversion (Montgomery's trick).
 * A key collision costs one extra confirmation, never a wrong answer.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "apps/voting/vcrypt_int.h"

#define DLOG_BATCH 64 /* points per shared inversion; bounds stack use to ~18 KiB */
#define DLOG_GIANT_STEPS (((uint64_t)VOTE_DLOG_MAX + 1) / VOTE_DLOG_TABLE_ENTRIES)

_Static_assert(((uint64_t)VOTE_DLOG_MAX + 1) % VOTE_DLOG_TABLE_ENTRIES == 0,
               "range must be a whole number of giant steps");

typedef struct {
  uint64_t key;
  uint32_t j;
} dlog_entry_t;

struct vote_dlog_table {
  vote_ge_cached_t giant; /* B * G4 */
  dlog_entry_t *entries;  /* VOTE_DLOG_TABLE_ENTRIES, sorted by key */
};

static int entry_cmp(const void *a, const void *b) {
  const dlog_entry_t *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->j < y->j ? -1 : (x->j > y->j);
}

/* Keys of n points at once. */
static void batch_keys(uint64_t *keys, const vote_ge_t *pts, size_t n) {
  vote_fe_t z[DLOG_BATCH], inv[DLOG_BATCH], scratch[DLOG_BATCH];
  VE_ASSERT(n <= DLOG_BATCH);
  for (size_t i = 0; i < n; i++) z[i] = pts[i].Z;
  vote_fe_batch_invert(inv, z, n, scratch);
  for (size_t i = 0; i < n; i++) keys[i] = vote_ge_dlog_key(&pts[i], &inv[i]);
}

static void base4(vote_ge_t *g4) {
  vote_ge_base(g4);
  vote_ge_dbl(g4, g4);
  vote_ge_dbl(g4, g4);
}

int vote_dlog_table_new(vote_dlog_table_t **out) {
  *out = NULL;
  vote_dlog_table_t *t = malloc(sizeof *t);
  if (t == NULL) return VE_ERR_NOMEM;
  t->entries = malloc((size_t)VOTE_DLOG_TABLE_ENTRIES * sizeof *t->entries);
  vote_ge_t *pts = malloc(DLOG_BATCH * sizeof *pts);
  if (t->entries == NULL || pts == NULL) {
    free(t->entries);
    free(t);
    free(pts);
    return VE_ERR_NOMEM;
  }
  vote_ge_t g4, acc;
  vote_ge_cached_t g4c;
  base4(&g4);
  vote_ge_to_cached(&g4c, &g4);
  vote_ge_identity(&acc);
  uint64_t keys[DLOG_BATCH];
  for (uint32_t j0 = 0; j0 < VOTE_DLOG_TABLE_ENTRIES; j0 += DLOG_BATCH) {
    for (size_t i = 0; i < DLOG_BATCH; i++) {
      pts[i] = acc; /* (j0 + i) * G4 */
      vote_ge_add_cached(&acc, &acc, &g4c);
    }
    batch_keys(keys, pts, DLOG_BATCH);
    for (size_t i = 0; i < DLOG_BATCH; i++) {
      t->entries[j0 + i].key = keys[i];
      t->entries[j0 + i].j = j0 + (uint32_t)i;
    }
  }
  vote_ge_to_cached(&t->giant, &acc); /* acc = B * G4 */
  qsort(t->entries, VOTE_DLOG_TABLE_ENTRIES, sizeof *t->entries, entry_cmp);
  free(pts);
  *out = t;
  return VE_OK;
}

void vote_dlog_table_free(vote_dlog_table_t *t) {
  if (t == NULL) return;
  free(t->entries);
  free(t);
}

/* First index with entries[i].key >= key. */
static size_t lower_bound(const dlog_entry_t *e, size_t n, uint64_t key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e[mid].key < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

static bool confirm(const vote_ge_t *m_pt, uint64_t m) {
  vote_ge_t g, r;
  uint8_t s[32];
  vote_ge_base(&g);
  vote_sc_from_u64(s, m);
  vote_ge_scalarmult_var(&r, &g, s);
  return vote_ge_eq(&r, m_pt);
}

int vote_dlog(const vote_dlog_table_t *t, const uint8_t m_point[VOTE_POINT_BYTES], uint64_t *m) {
  vote_ge_t mp, q;
  VE_TRY(vote_ge_decode(&mp, m_point));
  vote_ge_dbl(&q, &mp);
  vote_ge_dbl(&q, &q); /* 4M */
  vote_ge_t pts[DLOG_BATCH];
  uint64_t keys[DLOG_BATCH];
  for (uint64_t i0 = 0; i0 < DLOG_GIANT_STEPS; i0 += DLOG_BATCH) {
    size_t n = DLOG_GIANT_STEPS - i0 < DLOG_BATCH ? (size_t)(DLOG_GIANT_STEPS - i0) : DLOG_BATCH;
    for (size_t i = 0; i < n; i++) {
      pts[i] = q; /* 4M - (i0 + i) * B * G4 */
      vote_ge_sub_cached(&q, &q, &t->giant);
    }
    batch_keys(keys, pts, n);
    for (size_t i = 0; i < n; i++) {
      size_t at = lower_bound(t->entries, VOTE_DLOG_TABLE_ENTRIES, keys[i]);
      for (; at < VOTE_DLOG_TABLE_ENTRIES && t->entries[at].key == keys[i]; at++) {
        uint64_t cand = (i0 + i) * VOTE_DLOG_TABLE_ENTRIES + t->entries[at].j;
        if (cand <= VOTE_DLOG_MAX && confirm(&mp, cand)) {
          *m = cand;
          return VE_OK;
        }
      }
    }
  }
  return VE_ERR_NOT_FOUND;
}
