/* pool_test.c — the mempool's indexes (pool.h) against a plain model, under a
 * long random sequence of inserts, removals, expiries, reaps and rejected-cache
 * operations. Bounds are small so FULL, STALE_SEQ and DUPLICATE all happen.
 *
 * Randomized: the seed is printed; replay with `pool_test SEED`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/err.h"
#include "mempool/pool.h"
#include "trng.h"

#define STEPS 40000
#define TXS_MAX 64
#define BYTES_MAX (TXS_MAX * 120)
#define REJ_MAX 8
#define SIGNERS 5
#define SEQ_MAX 40
#define REJ_IDS 20

static uint64_t g_seed;
static uint64_t rng_state;

static uint64_t rnd(void) { return trng_step(&rng_state); }
static uint64_t below(uint64_t n) { return rnd() % n; }

typedef struct {
  uint8_t id[LEDGER_HASH_BYTES];
  int signer;
  uint64_t seq, expiry;
  size_t len;
  bool live;
} m_entry_t;

typedef struct {
  m_entry_t e[STEPS]; /* in admission order; removed ones stay with live = false */
  size_t n, count, bytes;
  struct {
    int idn, code;
    bool live;
  } rej[STEPS];
  size_t rej_n, rej_start; /* the model cache is rej[rej_start .. rej_n) */
} model_t;

static model_t M;

static void signer_pk(uint8_t pk[VCRYPTO_PK_BYTES], int s) { memset(pk, 0x10 + s, VCRYPTO_PK_BYTES); }

static void rej_id(uint8_t id[LEDGER_HASH_BYTES], int n) {
  memset(id, 0, LEDGER_HASH_BYTES);
  id[0] = 0xee;
  id[1] = (uint8_t)n;
}

static int model_can_insert(const uint8_t id[LEDGER_HASH_BYTES], int s, uint64_t seq, size_t len) {
  for (size_t i = 0; i < M.n; i++)
    if (M.e[i].live && memcmp(M.e[i].id, id, LEDGER_HASH_BYTES) == 0) return VE_ERR_DUPLICATE;
  for (size_t i = 0; i < M.n; i++)
    if (M.e[i].live && M.e[i].signer == s && M.e[i].seq == seq) return VE_ERR_STALE_SEQ;
  if (M.count >= TXS_MAX || M.bytes + len > BYTES_MAX) return VE_ERR_FULL;
  return VE_OK;
}

static void step_insert(pool_t *p) {
  uint8_t id[LEDGER_HASH_BYTES];
  if (M.n && below(8) == 0) {
    memcpy(id, M.e[below(M.n)].id, LEDGER_HASH_BYTES); /* maybe a duplicate */
  } else {
    for (size_t i = 0; i < LEDGER_HASH_BYTES; i += 8) {
      uint64_t r = rnd();
      memcpy(id + i, &r, 8);
    }
  }
  int s = (int)below(SIGNERS);
  uint64_t seq = 1 + below(SEQ_MAX);
  uint64_t expiry = 1 + below(100);
  size_t len = 1 + below(240);
  ledger_tx_t d;
  memset(&d, 0, sizeof d);
  signer_pk(d.signer, s);
  d.seq = seq;
  d.expiry = expiry;
  int want = model_can_insert(id, s, seq, len);
  assert_int_equal(pool_can_insert(p, id, d.signer, seq, len), want);
  if (want) return;
  uint8_t body[240];
  memset(body, (int)(M.n & 0xff), len);
  pool_entry_t *e = pool_entry_new(p, id, &d, ve_slice(body, len));
  assert_non_null(e);
  pool_insert(p, e);
  m_entry_t *m = &M.e[M.n++];
  memcpy(m->id, id, LEDGER_HASH_BYTES);
  m->signer = s;
  m->seq = seq;
  m->expiry = expiry;
  m->len = len;
  m->live = true;
  M.count++;
  M.bytes += len;
}

static void model_remove(m_entry_t *m) {
  m->live = false;
  M.count--;
  M.bytes -= m->len;
}

static void step_remove(pool_t *p) {
  if (!M.count) return;
  size_t k = below(M.count);
  for (size_t i = 0; i < M.n; i++) {
    if (!M.e[i].live || k--) continue;
    pool_entry_t *e = pool_find(p, M.e[i].id);
    assert_non_null(e);
    pool_remove(p, e);
    assert_null(pool_find(p, M.e[i].id));
    pool_entry_free(e);
    model_remove(&M.e[i]);
    return;
  }
  fail();
}

static void step_expire(pool_t *p) {
  uint64_t before = 1 + below(40);
  for (;;) {
    uint64_t min = UINT64_MAX;
    for (size_t i = 0; i < M.n; i++)
      if (M.e[i].live && M.e[i].expiry < min) min = M.e[i].expiry;
    pool_entry_t *e = pool_expiry_min(p);
    if (!M.count) {
      assert_null(e);
      return;
    }
    assert_non_null(e);
    assert_int_equal(e->expiry, min);
    if (min >= before) return;
    for (size_t i = 0; i < M.n; i++)
      if (M.e[i].live && memcmp(M.e[i].id, e->id, LEDGER_HASH_BYTES) == 0) model_remove(&M.e[i]);
    pool_remove(p, e);
    pool_entry_free(e);
  }
}

static int seq_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static void step_reap(pool_t *p) {
  size_t max_txs = below(TXS_MAX + 2), max_bytes = below(BYTES_MAX + 2);
  /* Model: each signer's slots in admission order get its seqs in increasing order. */
  static uint64_t seqs[SIGNERS][TXS_MAX];
  size_t ns[SIGNERS] = {0}, used[SIGNERS] = {0};
  for (size_t i = 0; i < M.n; i++)
    if (M.e[i].live) seqs[M.e[i].signer][ns[M.e[i].signer]++] = M.e[i].seq;
  for (int s = 0; s < SIGNERS; s++) qsort(seqs[s], ns[s], sizeof seqs[s][0], seq_cmp);
  pool_entry_t *out[TXS_MAX];
  size_t n, bytes, room = max_txs < M.count ? max_txs : M.count;
  pool_reap(p, room, max_bytes, out, &n, &bytes);
  size_t want_n = 0, want_bytes = 0;
  for (size_t i = 0; i < M.n && want_n < room; i++) {
    if (!M.e[i].live) continue;
    int s = M.e[i].signer;
    uint64_t seq = seqs[s][used[s]++];
    const m_entry_t *pick = NULL;
    for (size_t j = 0; j < M.n; j++)
      if (M.e[j].live && M.e[j].signer == s && M.e[j].seq == seq) pick = &M.e[j];
    assert_non_null(pick);
    if (pick->len > max_bytes - want_bytes) break;
    assert_true(want_n < n);
    uint8_t pk[VCRYPTO_PK_BYTES];
    signer_pk(pk, s);
    assert_memory_equal(out[want_n]->signer, pk, VCRYPTO_PK_BYTES);
    assert_int_equal(out[want_n]->seq, seq);
    assert_memory_equal(out[want_n]->id, pick->id, LEDGER_HASH_BYTES);
    want_n++;
    want_bytes += pick->len;
  }
  assert_int_equal(n, want_n);
  assert_int_equal(bytes, want_bytes);
}

static void step_rej(pool_t *p) {
  int idn = (int)below(REJ_IDS);
  uint8_t id[LEDGER_HASH_BYTES];
  rej_id(id, idn);
  size_t live_at = SIZE_MAX;
  for (size_t i = M.rej_start; i < M.rej_n; i++)
    if (M.rej[i].live && M.rej[i].idn == idn) live_at = i;
  int op = (int)below(3), code = -1 - (int)below(40);
  if (op == 0) { /* put */
    pool_rej_put(p, id, code);
    if (live_at != SIZE_MAX) {
      M.rej[live_at].code = code;
    } else {
      M.rej[M.rej_n].idn = idn;
      M.rej[M.rej_n].code = code;
      M.rej[M.rej_n].live = true;
      M.rej_n++;
      if (M.rej_n - M.rej_start > REJ_MAX) M.rej_start++;
    }
  } else if (op == 1) { /* forget */
    pool_rej_forget(p, id);
    if (live_at != SIZE_MAX) M.rej[live_at].live = false;
  }
  /* get, after every op */
  live_at = SIZE_MAX;
  for (size_t i = M.rej_start; i < M.rej_n; i++)
    if (M.rej[i].live && M.rej[i].idn == idn) live_at = i;
  int got = 0;
  assert_int_equal(pool_rej_get(p, id, &got), live_at != SIZE_MAX);
  if (live_at != SIZE_MAX) assert_int_equal(got, M.rej[live_at].code);
  size_t live = 0;
  for (size_t i = M.rej_start; i < M.rej_n; i++) live += M.rej[i].live;
  assert_int_equal(p->rej_live, live);
}

/* Every structure agrees with the model. */
static void check_all(const pool_t *p) {
  assert_int_equal(p->count, M.count);
  assert_int_equal(p->bytes, M.bytes);
  const pool_entry_t *q = p->q_head;
  for (size_t i = 0; i < M.n; i++) {
    if (!M.e[i].live) continue;
    assert_non_null(q);
    assert_memory_equal(q->id, M.e[i].id, LEDGER_HASH_BYTES);
    assert_ptr_equal(pool_find(p, M.e[i].id), q);
    q = q->q_next;
  }
  assert_null(q);
  size_t n = 0;
  for (const pool_entry_t *e = p->sl_head->sl_next[0]; e; e = e->sl_next[0], n++) {
    const pool_entry_t *nx = e->sl_next[0];
    if (!nx) continue;
    int c = memcmp(e->signer, nx->signer, VCRYPTO_PK_BYTES);
    assert_true(c < 0 || (c == 0 && e->seq < nx->seq));
  }
  assert_int_equal(n, M.count);
  for (size_t i = 0; i < p->count; i++) {
    assert_int_equal(p->heap[i]->heap_pos, i);
    if (i) assert_true(p->heap[(i - 1) / 2]->expiry <= p->heap[i]->expiry);
  }
}

static void test_pool_model(void **state) {
  (void)state;
  printf("pool_test seed %" PRIu64 " (replay: pool_test %" PRIu64 ")\n", g_seed, g_seed);
  rng_state = g_seed;
  memset(&M, 0, sizeof M);
  assert_int_equal(vcrypto_init(), 0);
  pool_t p;
  assert_int_equal(pool_init(&p, TXS_MAX, BYTES_MAX, REJ_MAX), 0);
  for (int step = 0; step < STEPS; step++) {
    uint64_t r = below(100);
    if (r < 50)
      step_insert(&p);
    else if (r < 70)
      step_remove(&p);
    else if (r < 77)
      step_expire(&p);
    else if (r < 87)
      step_reap(&p);
    else
      step_rej(&p);
    if (step % 64 == 0) check_all(&p);
  }
  check_all(&p);
  pool_destroy(&p);
}

/* 200,000 pending entries, the default bound: one signer's seqs arrive in
 * descending order (the worst case for an ordered index) among 1,000 other
 * signers; a block's worth is reaped and removed, the rest expire. Linear-time
 * index operations would take minutes here and hit the ctest timeout. */
#define SCALE_TXS 200000
#define SCALE_BLOCK 20000

static void test_pool_scale(void **state) {
  (void)state;
  assert_int_equal(vcrypto_init(), 0);
  pool_t p;
  assert_int_equal(pool_init(&p, SCALE_TXS, (size_t)SCALE_TXS * 100, 1000), 0);
  uint8_t body[100];
  memset(body, 7, sizeof body);
  for (uint32_t i = 0; i < SCALE_TXS; i++) {
    uint8_t id[LEDGER_HASH_BYTES];
    memset(id, 0, sizeof id);
    ve_be64_put(id, i);
    ledger_tx_t d;
    memset(&d, 0, sizeof d);
    bool heavy = i % 2 == 0; /* signer 0 holds half of the pool */
    signer_pk(d.signer, 0);
    if (!heavy) ve_be64_put(d.signer, 1 + i % 1000);
    d.seq = heavy ? SCALE_TXS - i : 1 + i;
    d.expiry = 1 + i % 5000;
    assert_int_equal(pool_can_insert(&p, id, d.signer, d.seq, sizeof body), 0);
    pool_entry_t *e = pool_entry_new(&p, id, &d, ve_slice(body, sizeof body));
    assert_non_null(e);
    pool_insert(&p, e);
  }
  assert_int_equal(p.count, SCALE_TXS);
  pool_entry_t **out = malloc(SCALE_BLOCK * sizeof *out);
  assert_non_null(out);
  size_t n, bytes;
  pool_reap(&p, SCALE_BLOCK, VE_BLOCK_BYTES_MAX, out, &n, &bytes);
  assert_int_equal(n, SCALE_BLOCK);
  uint8_t heavy_pk[VCRYPTO_PK_BYTES];
  signer_pk(heavy_pk, 0);
  uint64_t last = 0;
  for (size_t i = 0; i < n; i++) {
    if (memcmp(out[i]->signer, heavy_pk, VCRYPTO_PK_BYTES) != 0) continue;
    assert_true(out[i]->seq > last); /* heavy signer: lowest seqs, increasing */
    last = out[i]->seq;
  }
  for (size_t i = 0; i < n; i++) {
    pool_remove(&p, out[i]);
    pool_entry_free(out[i]);
  }
  assert_int_equal(p.count, SCALE_TXS - SCALE_BLOCK);
  for (pool_entry_t *e; (e = pool_expiry_min(&p));) {
    pool_remove(&p, e);
    pool_entry_free(e);
  }
  assert_int_equal(p.count, 0);
  assert_int_equal(p.bytes, 0);
  free(out);
  pool_destroy(&p);
}

int main(int argc, char **argv) {
  g_seed = argc > 1 ? strtoull(argv[1], NULL, 10) : (uint64_t)time(NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pool_model),
      cmocka_unit_test(test_pool_scale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
