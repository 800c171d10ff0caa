/* vote_e2e_test.c — a whole poll through the cryptographic core, and the
 * discrete log.
 *
 * End to end: 4 trustees run the DKG (3-of-4), 200 voters cast random
 * ballots (each bound to its own voter context and verified), the ballots are
 * tallied homomorphically, three trustees post decryption shares with proofs,
 * and the decrypted counts must equal the plaintext count; the published
 * result must check, a wrong result must not, another trustee set must give
 * the same counts. The discrete log must solve every value in [0,
 * VOTE_DLOG_MAX] (edges and random values) and nothing outside. Seeded
 * (replay with VECHE_SEED=<seed>).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "base/err.h"
#include "apps/voting/votecrypto.h"
#include "vtest.h"

static vote_dlog_table_t *g_tab;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void mul_g(uint8_t out[32], uint64_t m) {
  uint8_t s[32] = {0};
  for (int i = 0; i < 8; i++) s[i] = (uint8_t)(m >> (8 * i));
  if (crypto_scalarmult_ristretto255_base(out, s) != 0) memset(out, 0, 32);
}

static void test_dlog_range(void **state) {
  (void)state;
  const uint64_t edges[] = {0,       1,       2,        65535,      65536,
                            65537,   131071,  999999,   1000000,    20000000,
                            VOTE_DLOG_MAX - 65536, VOTE_DLOG_MAX - 1, VOTE_DLOG_MAX};
  uint8_t M[32];
  uint64_t m;
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    mul_g(M, edges[i]);
    assert_int_equal(vote_dlog(g_tab, M, &m), VE_OK);
    assert_int_equal(m, edges[i]);
  }
  for (int i = 0; i < 40; i++) {
    uint64_t want = vt_u32(VOTE_DLOG_MAX + 1u);
    mul_g(M, want);
    assert_int_equal(vote_dlog(g_tab, M, &m), VE_OK);
    assert_int_equal(m, want);
  }
  /* outside the range: just above, "negative" values, a random element */
  mul_g(M, (uint64_t)VOTE_DLOG_MAX + 1);
  assert_int_equal(vote_dlog(g_tab, M, &m), VE_ERR_NOT_FOUND);
  uint8_t one[32] = {1}, neg[32];
  crypto_core_ristretto255_scalar_negate(neg, one);
  assert_int_equal(crypto_scalarmult_ristretto255_base(M, neg), 0);
  assert_int_equal(vote_dlog(g_tab, M, &m), VE_ERR_NOT_FOUND);
  vt_point(M);
  assert_int_equal(vote_dlog(g_tab, M, &m), VE_ERR_NOT_FOUND);
  M[31] |= 0x80;
  assert_int_equal(vote_dlog(g_tab, M, &m), VE_ERR_NONCANONICAL);
  /* speed: the worst case (a full scan) stays far below a second */
  mul_g(M, VOTE_DLOG_MAX);
  double t0 = now_s();
  assert_int_equal(vote_dlog(g_tab, M, &m), VE_OK);
  double dt = now_s() - t0;
  fprintf(stderr, "dlog of %u: %.2f ms\n", VOTE_DLOG_MAX, dt * 1e3);
  assert_true(dt < 1.0);
}

#define N 4
#define T 3
#define VOTERS 200
#define OPTIONS 3

static void test_poll_end_to_end(void **state) {
  (void)state;
  static const uint8_t poll[32] = {0x50, 0x01};
  vote_dkg_params_t p = {N, T};
  uint8_t dctx[32];
  vote_context_make(dctx, "veche-e2e", poll, poll);
  vote_keypair_t enc[N];
  uint8_t pks[N][32];
  ve_buf_t deal[N];
  ve_slice_t ds[N];
  for (int j = 0; j < N; j++) {
    uint8_t seed[32];
    vt_bytes(seed, 32);
    vote_keypair_from_seed(&enc[j], seed);
    memcpy(pks[j], enc[j].pk, 32);
  }
  for (uint32_t i = 1; i <= N; i++) {
    uint8_t seed[32];
    vt_bytes(seed, 32);
    ve_buf_init(&deal[i - 1], VOTE_DKG_DEALING_BYTES_MAX);
    assert_int_equal(vote_dkg_deal(&deal[i - 1], &p, i, (const uint8_t(*)[32])pks, dctx, 32, seed),
                     VE_OK);
    ds[i - 1] = ve_buf_slice(&deal[i - 1]);
  }
  vote_dkg_result_t res;
  assert_int_equal(vote_dkg_finish(&res, &p, (const uint8_t(*)[32])pks, dctx, 32, ds, NULL, 0),
                   VE_OK);
  uint8_t x[N][32];
  for (uint32_t j = 1; j <= N; j++) {
    assert_int_equal(vote_dkg_secret_share(x[j - 1], &res, j, &enc[j - 1], dctx, 32, ds), VE_OK);
  }

  vote_election_t el;
  assert_int_equal(vote_election_init(&el, res.pk, OPTIONS, 1, 2), VE_OK);
  vote_tally_t tally;
  assert_int_equal(vote_tally_init(&tally, OPTIONS), VE_OK);
  uint64_t want[OPTIONS] = {0};
  for (int v = 0; v < VOTERS; v++) {
    uint8_t voter[32] = {0}, vctx[32], seed[32], ch[OPTIONS] = {0};
    voter[0] = (uint8_t)v;
    voter[1] = (uint8_t)(v >> 8);
    vote_context_make(vctx, "veche-e2e", poll, voter);
    uint32_t picks = 1 + vt_u32(2);
    for (uint32_t k = 0; k < picks;) {
      uint32_t o = vt_u32(OPTIONS);
      if (!ch[o]) {
        ch[o] = 1;
        k++;
      }
    }
    for (int o = 0; o < OPTIONS; o++) want[o] += ch[o];
    vt_bytes(seed, 32);
    ve_buf_t b;
    ve_buf_init(&b, VOTE_BALLOT_BYTES_MAX);
    assert_int_equal(vote_ballot_create(&b, &el, ch, OPTIONS, vctx, 32, seed), VE_OK);
    assert_int_equal(vote_ballot_verify(&el, vctx, 32, b.ptr, b.len), VE_OK);
    assert_int_equal(vote_tally_add(&tally, b.ptr, b.len), VE_OK);
    ve_buf_free(&b);
  }
  uint8_t tc[OPTIONS * 64];
  vote_tally_result(&tally, tc);

  /* every trustee posts a decryption share; each is checked */
  ve_buf_t sh[N];
  for (uint32_t j = 1; j <= N; j++) {
    uint8_t seed[32];
    vt_bytes(seed, 32);
    ve_buf_init(&sh[j - 1], VOTE_DECSHARE_BYTES_MAX);
    assert_int_equal(vote_decshare_create(&sh[j - 1], j, x[j - 1], tc, OPTIONS, dctx, 32, seed),
                     VE_OK);
    assert_int_equal(sh[j - 1].len, vote_decshare_size(OPTIONS));
    assert_int_equal(vote_decshare_verify(res.vk[j - 1], j, tc, OPTIONS, dctx, 32, sh[j - 1].ptr,
                                          sh[j - 1].len),
                     VE_OK);
    uint32_t who = 0;
    assert_int_equal(vote_decshare_trustee(sh[j - 1].ptr, sh[j - 1].len, &who), VE_OK);
    assert_int_equal(who, j);
  }
  /* a share checked against another trustee's key, another context, a flip */
  assert_int_equal(vote_decshare_verify(res.vk[1], 1, tc, OPTIONS, dctx, 32, sh[0].ptr,
                                        sh[0].len),
                   VE_ERR_PROOF);
  assert_int_equal(vote_decshare_verify(res.vk[0], 1, tc, OPTIONS, poll, 32, sh[0].ptr, sh[0].len),
                   VE_ERR_PROOF);
  sh[0].ptr[3 + 128 + 70] ^= 1;
  assert_int_not_equal(vote_decshare_verify(res.vk[0], 1, tc, OPTIONS, dctx, 32, sh[0].ptr,
                                            sh[0].len),
                       VE_OK);
  sh[0].ptr[3 + 128 + 70] ^= 1;

  ve_slice_t set_a[T] = {ve_buf_slice(&sh[3]), ve_buf_slice(&sh[0]), ve_buf_slice(&sh[1])};
  ve_slice_t set_b[T] = {ve_buf_slice(&sh[1]), ve_buf_slice(&sh[2]), ve_buf_slice(&sh[3])};
  uint64_t got[OPTIONS], got_b[OPTIONS];
  assert_int_equal(vote_tally_decrypt(got, g_tab, T, set_a, T, tc, OPTIONS), VE_OK);
  assert_int_equal(vote_tally_decrypt(got_b, g_tab, T, set_b, T, tc, OPTIONS), VE_OK);
  for (int o = 0; o < OPTIONS; o++) {
    assert_int_equal(got[o], want[o]);
    assert_int_equal(got_b[o], want[o]);
  }
  fprintf(stderr, "e2e counts: %llu %llu %llu\n", (unsigned long long)got[0],
          (unsigned long long)got[1], (unsigned long long)got[2]);
  /* the published result checks; a wrong one does not; t-1 shares do not */
  assert_int_equal(vote_result_verify(want, T, set_b, T, tc, OPTIONS), VE_OK);
  want[1]++;
  assert_int_equal(vote_result_verify(want, T, set_b, T, tc, OPTIONS), VE_ERR_PROOF);
  want[1]--;
  assert_int_equal(vote_tally_decrypt(got, g_tab, T, set_a, T - 1, tc, OPTIONS), VE_ERR_QUORUM);
  ve_slice_t dup[T] = {ve_buf_slice(&sh[0]), ve_buf_slice(&sh[1]), ve_buf_slice(&sh[0])};
  assert_int_equal(vote_tally_decrypt(got, g_tab, T, dup, T, tc, OPTIONS), VE_ERR_DUPLICATE);

  for (int j = 0; j < N; j++) {
    ve_buf_free(&deal[j]);
    ve_buf_free(&sh[j]);
    vote_keypair_wipe(&enc[j]);
  }
  sodium_memzero(x, sizeof x);
}

int main(void) {
  if (vote_init() != 0) return 1;
  vt_seed_init("vote_e2e_test");
  double t0 = now_s();
  if (vote_dlog_table_new(&g_tab) != 0) return 1;
  fprintf(stderr, "dlog table: %.1f ms\n", (now_s() - t0) * 1e3);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dlog_range),
      cmocka_unit_test(test_poll_end_to_end),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  vote_dlog_table_free(g_tab);
  return rc;
}
