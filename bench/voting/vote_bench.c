/* vote_bench.c — throughput of the voting cryptography (not a test).
 *
 * Measures, on the machine it runs on:
 *   - two-option ballot encryptions per second (one core);
 *   - two-option ballots verified per second per core;
 *   - the homomorphic tally of a million ballots (1,000,000 additions of
 *     ballots drawn in turn from a set of pre-generated valid ballots: making
 *     a million distinct ballots would only measure encryption again), on one
 *     core and split over threads;
 *   - threshold decryption of that tally by 3 of 5 trustees (shares with
 *     proofs, share verification, Lagrange combination, discrete log), and the
 *     discrete-log table and worst-case lookup;
 *   - a few primitive costs, ours and libsodium's, for context.
 *   - with "audit": the cryptographic work of a public audit of that many
 *     ballots (every ballot's proofs verified, drawn in turn from the set and
 *     each checked in full, spread over threads; plus the tally and the
 *     decryption checks above). Reading the chain is not included: bench/poll
 *     runs `veche audit poll` end to end on a real chain.
 * The decrypted counts are checked against the plaintext, so the figures are
 * for a correct run. Usage: vote_bench [ballots_in_tally] [threads] [audit].
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "apps/voting/votecrypto.h"
#include "apps/voting/vcrypt_int.h"
#include "../common/bench_clock.h"

#define SET 256 /* distinct pre-generated ballots */

static _Noreturn void die(const char *what, int rc) {
  fprintf(stderr, "vote_bench: %s: %s\n", what, ve_strerror(rc));
  exit(1);
}

typedef struct {
  const uint8_t *ballots; /* SET ballots of blen bytes */
  size_t blen;
  uint64_t from, to;
  vote_tally_t tally;
} tally_job_t;

static void *tally_worker(void *arg) {
  tally_job_t *j = arg;
  for (uint64_t i = j->from; i < j->to; i++) {
    int rc = vote_tally_add(&j->tally, j->ballots + (i % SET) * j->blen, j->blen);
    if (rc != VE_OK) die("tally", rc);
  }
  return NULL;
}

typedef struct {
  const uint8_t *ballots;
  size_t blen;
  const vote_election_t *el;
  const uint8_t (*ctx)[32];
  uint64_t from, to;
} verify_job_t;

static void *verify_worker(void *arg) {
  verify_job_t *j = arg;
  for (uint64_t i = j->from; i < j->to; i++) {
    int rc = vote_ballot_verify(j->el, j->ctx[i % SET], 32, j->ballots + (i % SET) * j->blen, j->blen);
    if (rc != VE_OK) die("audit verify", rc);
  }
  return NULL;
}

static void bench_primitives(void) {
  uint8_t a[32], b[32], s[32];
  randombytes_buf(s, 32);
  crypto_core_ristretto255_scalar_reduce(s, (uint8_t[64]){0});
  crypto_core_ristretto255_random(a);
  crypto_core_ristretto255_random(b);
  int n = 20000;
  double t0 = bench_now_s();
  for (int i = 0; i < n; i++) {
    if (crypto_core_ristretto255_add(a, a, b) != 0) die("add", VE_ERR_CRYPTO);
  }
  double sod_add = (bench_now_s() - t0) / n;
  vote_ge_t p, q;
  vote_ge_decode(&p, a);
  vote_ge_decode(&q, b);
  t0 = bench_now_s();
  for (int i = 0; i < n; i++) {
    if (vote_ge_decode(&p, a) != VE_OK) die("decode", VE_ERR_CRYPTO);
  }
  double dec = (bench_now_s() - t0) / n;
  t0 = bench_now_s();
  for (int i = 0; i < n * 10; i++) vote_ge_add(&p, &p, &q);
  double add = (bench_now_s() - t0) / (n * 10);
  uint8_t sc[32];
  randombytes_buf(sc, 32);
  sc[31] &= 0x0f;
  t0 = bench_now_s();
  for (int i = 0; i < 2000; i++) {
    if (crypto_scalarmult_ristretto255(b, sc, a) != 0) die("mul", VE_ERR_CRYPTO);
  }
  double sod_mul = (bench_now_s() - t0) / 2000;
  printf("primitives: libsodium add (decode+decode+add+encode) %.2f us, "
         "libsodium const-time scalarmult %.1f us; engine decode %.2f us, engine add %.3f us\n",
         sod_add * 1e6, sod_mul * 1e6, dec * 1e6, add * 1e6);
}

int main(int argc, char **argv) {
  uint64_t tally_n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  if (threads < 1 || threads > 64) threads = 2;
  if (vote_init() != VE_OK) die("init", VE_ERR_CRYPTO);
  bench_primitives();

  /* Trustees: 3-of-5 DKG. */
  vote_dkg_params_t p = {5, 3};
  uint8_t dctx[32] = {0x42}, pks[5][32], x[5][32];
  vote_keypair_t enc[5];
  ve_buf_t deal[5];
  ve_slice_t ds[5];
  for (uint32_t j = 0; j < 5; j++) {
    uint8_t seed[32];
    randombytes_buf(seed, 32);
    vote_keypair_from_seed(&enc[j], seed);
    memcpy(pks[j], enc[j].pk, 32);
  }
  double t0 = bench_now_s();
  for (uint32_t i = 1; i <= 5; i++) {
    uint8_t seed[32];
    randombytes_buf(seed, 32);
    ve_buf_init(&deal[i - 1], VOTE_DKG_DEALING_BYTES_MAX);
    int rc = vote_dkg_deal(&deal[i - 1], &p, i, (const uint8_t(*)[32])pks, dctx, 32, seed);
    if (rc != VE_OK) die("deal", rc);
    ds[i - 1] = ve_buf_slice(&deal[i - 1]);
  }
  vote_dkg_result_t res;
  int rc = vote_dkg_finish(&res, &p, (const uint8_t(*)[32])pks, dctx, 32, ds, NULL, 0);
  if (rc != VE_OK) die("dkg finish", rc);
  for (uint32_t j = 1; j <= 5; j++) {
    rc = vote_dkg_secret_share(x[j - 1], &res, j, &enc[j - 1], dctx, 32, ds);
    if (rc != VE_OK) die("secret share", rc);
  }
  printf("dkg 3-of-5 (5 dealings, finish, 5 share openings): %.1f ms\n", (bench_now_s() - t0) * 1e3);

  /* Two-option ballots. */
  static const uint32_t bounds[2][2] = {{0, 2}, {1, 1}};
  uint8_t *set = NULL;
  size_t blen = 0;
  static uint8_t set_ctx[SET][32];
  vote_election_t set_el;
  uint64_t set_counts[2] = {0, 0};
  for (int v = 0; v < 2; v++) {
    vote_election_t el;
    rc = vote_election_init(&el, res.pk, 2, bounds[v][0], bounds[v][1]);
    if (rc != VE_OK) die("election", rc);
    blen = vote_ballot_size(2, bounds[v][0], bounds[v][1]);
    uint8_t *bs = malloc(SET * blen);
    uint8_t ctx[SET][32];
    if (bs == NULL) die("malloc", VE_ERR_NOMEM);
    t0 = bench_now_s();
    for (int i = 0; i < SET; i++) {
      uint8_t ch[2], seed[32];
      randombytes_buf(seed, 32);
      randombytes_buf(ctx[i], 32);
      if (v == 0) {
        ch[0] = (uint8_t)(i & 1);
        ch[1] = (uint8_t)((i >> 1) & 1);
      } else {
        ch[0] = (uint8_t)(i % 3 == 0);
        ch[1] = (uint8_t)!ch[0];
      }
      ve_buf_t b;
      ve_buf_init(&b, VOTE_BALLOT_BYTES_MAX);
      rc = vote_ballot_create(&b, &el, ch, 2, ctx[i], 32, seed);
      if (rc != VE_OK) die("ballot create", rc);
      memcpy(bs + i * blen, b.ptr, blen);
      ve_buf_free(&b);
      if (v == 0) {
        set_counts[0] += ch[0];
        set_counts[1] += ch[1];
      }
    }
    double enc_s = (bench_now_s() - t0) / SET;
    int rounds = 4;
    t0 = bench_now_s();
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < SET; i++) {
        rc = vote_ballot_verify(&el, ctx[i], 32, bs + i * blen, blen);
        if (rc != VE_OK) die("ballot verify", rc);
      }
    }
    double ver_s = (bench_now_s() - t0) / (SET * rounds);
    printf("two-option ballot, totals in [%u,%u], %zu bytes: encrypt+prove %.0f/s (%.2f ms), "
           "verify %.0f/s per core (%.3f ms)\n",
           bounds[v][0], bounds[v][1], blen, 1.0 / enc_s, enc_s * 1e3, 1.0 / ver_s, ver_s * 1e3);
    if (v == 0) {
      set = bs;
      set_el = el;
      memcpy(set_ctx, ctx, sizeof set_ctx);
    } else {
      free(bs);
    }
  }
  blen = vote_ballot_size(2, 0, 2);

  /* Tally: one core, then split over threads. */
  tally_job_t one = {set, blen, 0, tally_n, {0}};
  vote_tally_init(&one.tally, 2);
  t0 = bench_now_s();
  tally_worker(&one);
  double tally1 = bench_now_s() - t0;
  printf("tally of %llu ballots (%d distinct, added in turn), 1 thread: %.2f s (%.2f us/ballot)\n",
         (unsigned long long)tally_n, SET, tally1, tally1 / (double)tally_n * 1e6);
  tally_job_t *jobs = calloc((size_t)threads, sizeof *jobs);
  pthread_t *tid = calloc((size_t)threads, sizeof *tid);
  if (jobs == NULL || tid == NULL) die("malloc", VE_ERR_NOMEM);
  t0 = bench_now_s();
  for (int k = 0; k < threads; k++) {
    jobs[k] = (tally_job_t){set, blen, tally_n * (uint64_t)k / (uint64_t)threads,
                            tally_n * (uint64_t)(k + 1) / (uint64_t)threads, {0}};
    vote_tally_init(&jobs[k].tally, 2);
    pthread_create(&tid[k], NULL, tally_worker, &jobs[k]);
  }
  for (int k = 0; k < threads; k++) pthread_join(tid[k], NULL);
  for (int k = 1; k < threads; k++) vote_tally_merge(&jobs[0].tally, &jobs[k].tally);
  double tallyk = bench_now_s() - t0;
  printf("tally of %llu ballots, %d threads: %.2f s\n", (unsigned long long)tally_n, threads,
         tallyk);
  uint8_t tc[2 * 64], tc1[2 * 64];
  vote_tally_result(&jobs[0].tally, tc);
  vote_tally_result(&one.tally, tc1);
  if (memcmp(tc, tc1, sizeof tc) != 0) die("parallel tally differs", VE_ERR_CORRUPT);

  /* Threshold decryption of the tally. */
  t0 = bench_now_s();
  vote_dlog_table_t *tab;
  rc = vote_dlog_table_new(&tab);
  if (rc != VE_OK) die("dlog table", rc);
  double tab_s = bench_now_s() - t0;
  t0 = bench_now_s();
  ve_buf_t sh[3];
  ve_slice_t ss[3];
  const uint32_t who[3] = {2, 5, 3};
  for (int k = 0; k < 3; k++) {
    uint8_t seed[32];
    randombytes_buf(seed, 32);
    ve_buf_init(&sh[k], VOTE_DECSHARE_BYTES_MAX);
    rc = vote_decshare_create(&sh[k], who[k], x[who[k] - 1], tc, 2, dctx, 32, seed);
    if (rc != VE_OK) die("decshare", rc);
    rc = vote_decshare_verify(res.vk[who[k] - 1], who[k], tc, 2, dctx, 32, sh[k].ptr, sh[k].len);
    if (rc != VE_OK) die("decshare verify", rc);
    ss[k] = ve_buf_slice(&sh[k]);
  }
  double shares_s = bench_now_s() - t0;
  uint64_t counts[2];
  t0 = bench_now_s();
  rc = vote_tally_decrypt(counts, tab, 3, ss, 3, tc, 2);
  if (rc != VE_OK) die("tally decrypt", rc);
  double dec_s = bench_now_s() - t0;
  uint64_t full = tally_n / SET, part = tally_n % SET;
  for (int o = 0; o < 2; o++) {
    uint64_t want = full * set_counts[o];
    for (uint64_t i = 0; i < part; i++) want += o == 0 ? (i & 1) : ((i >> 1) & 1);
    if (counts[o] != want) die("decrypted count differs from plaintext", VE_ERR_CORRUPT);
  }
  uint8_t M[32];
  uint64_t m;
  uint8_t s[32] = {0};
  s[0] = 0xff; s[1] = 0xff; s[2] = 0xff; s[3] = 0x01; /* VOTE_DLOG_MAX */
  if (crypto_scalarmult_ristretto255_base(M, s) != 0) die("base", VE_ERR_CRYPTO);
  t0 = bench_now_s();
  rc = vote_dlog(tab, M, &m);
  double worst = bench_now_s() - t0;
  if (rc != VE_OK || m != VOTE_DLOG_MAX) die("dlog worst", rc);
  printf("threshold decryption 3-of-5: 3 shares made+verified %.1f ms, combine+dlog of 2 options "
         "%.2f ms (counts %llu, %llu: correct); dlog table %.0f ms once, worst-case dlog "
         "(m = %u) %.2f ms\n",
         shares_s * 1e3, dec_s * 1e3, (unsigned long long)counts[0],
         (unsigned long long)counts[1], tab_s * 1e3, VOTE_DLOG_MAX, worst * 1e3);
  printf("tally + decryption of %llu ballots: %.2f s on 1 thread, %.2f s on %d threads\n",
         (unsigned long long)tally_n, tally1 + shares_s + dec_s, tallyk + shares_s + dec_s,
         threads);

  if (argc > 3 && !strcmp(argv[3], "audit")) {
    verify_job_t *vj = calloc((size_t)threads, sizeof *vj);
    if (vj == NULL) die("malloc", VE_ERR_NOMEM);
    t0 = bench_now_s();
    for (int k = 0; k < threads; k++) {
      vj[k] = (verify_job_t){set, blen, &set_el, (const uint8_t(*)[32])set_ctx,
                             tally_n * (uint64_t)k / (uint64_t)threads,
                             tally_n * (uint64_t)(k + 1) / (uint64_t)threads};
      pthread_create(&tid[k], NULL, verify_worker, &vj[k]);
    }
    for (int k = 0; k < threads; k++) pthread_join(tid[k], NULL);
    double ver = bench_now_s() - t0;
    printf("audit of %llu ballots, %d threads: every ballot verified %.1f s (%.0f/s), + tally + "
           "decryption checks = %.1f s\n",
           (unsigned long long)tally_n, threads, ver, (double)tally_n / ver, ver + tallyk + shares_s + dec_s);
    free(vj);
  }

  vote_dlog_table_free(tab);
  for (int k = 0; k < 3; k++) ve_buf_free(&sh[k]);
  for (int j = 0; j < 5; j++) {
    ve_buf_free(&deal[j]);
    vote_keypair_wipe(&enc[j]);
  }
  sodium_memzero(x, sizeof x);
  free(set);
  free(jobs);
  free(tid);
  return 0;
}
