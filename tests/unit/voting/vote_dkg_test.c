/* vote_dkg_test.c — distributed key generation and threshold decryption.
 *
 * Honest runs: the joint key works, every set of t trustees decrypts to the
 * same result, t-1 cannot. Dishonest runs: a dealer that sends a bad share
 * (undecryptable, or decryptable but inconsistent with its commitments) is
 * caught by a complaint anyone can check and excluded, and the key still
 * works; false and forged complaints are dismissed; a missing or tampered
 * dealing is excluded; bad partial decryptions are refused. Seeds are printed
 * (replay with VECHE_SEED=<seed>).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/err.h"
#include "apps/voting/votecrypto.h"
#include "apps/voting/vcrypt_int.h"
#include "vtest.h"

#define N_MAX 7

static const uint8_t POLL[32] = {0x77};

typedef struct {
  vote_dkg_params_t p;
  uint8_t ctx[32];
  vote_keypair_t enc[N_MAX];
  uint8_t enc_pks[N_MAX][32];
  ve_buf_t dealings[N_MAX];
  ve_slice_t slices[N_MAX];
  ve_buf_t complaints[N_MAX * N_MAX];
  ve_slice_t cslices[N_MAX * N_MAX];
  size_t ncomplaints;
  vote_dkg_result_t res;
  uint8_t x[N_MAX][32];
} dkg_t;

static void dkg_setup(dkg_t *d, uint32_t n, uint32_t t) {
  memset(d, 0, sizeof *d);
  d->p.n = n;
  d->p.t = t;
  vote_context_make(d->ctx, "veche-test", POLL, POLL);
  for (uint32_t j = 0; j < n; j++) {
    uint8_t seed[32];
    vt_bytes(seed, 32);
    vote_keypair_from_seed(&d->enc[j], seed);
    memcpy(d->enc_pks[j], d->enc[j].pk, 32);
  }
}

static void dkg_deal_all(dkg_t *d) {
  for (uint32_t i = 1; i <= d->p.n; i++) {
    uint8_t seed[32];
    vt_bytes(seed, 32);
    ve_buf_init(&d->dealings[i - 1], VOTE_DKG_DEALING_BYTES_MAX);
    assert_int_equal(vote_dkg_deal(&d->dealings[i - 1], &d->p, i,
                                   (const uint8_t(*)[32])d->enc_pks, d->ctx, 32, seed),
                     VE_OK);
    assert_int_equal(d->dealings[i - 1].len, vote_dkg_dealing_size(&d->p));
    d->slices[i - 1] = ve_buf_slice(&d->dealings[i - 1]);
  }
}

/* Every trustee opens every share and complains about each bad one. */
static void dkg_check_and_complain(dkg_t *d) {
  for (uint32_t j = 1; j <= d->p.n; j++) {
    for (uint32_t i = 1; i <= d->p.n; i++) {
      if (d->slices[i - 1].len == 0) continue;
      if (vote_dkg_dealing_verify(&d->p, i, d->ctx, 32, d->slices[i - 1].ptr,
                                  d->slices[i - 1].len) != VE_OK) {
        continue; /* everyone sees it is bad; no complaint needed */
      }
      uint8_t s[32];
      int rc = vote_dkg_share_open(s, &d->p, i, j, &d->enc[j - 1], d->ctx, 32,
                                   d->slices[i - 1].ptr, d->slices[i - 1].len);
      if (rc == VE_OK) continue;
      assert_int_equal(rc, VE_ERR_PROOF);
      uint8_t seed[32];
      vt_bytes(seed, 32);
      ve_buf_t *c = &d->complaints[d->ncomplaints];
      ve_buf_init(c, VOTE_DKG_COMPLAINT_BYTES);
      assert_int_equal(vote_dkg_complain(c, &d->p, i, j, &d->enc[j - 1], d->ctx, 32,
                                         d->slices[i - 1].ptr, d->slices[i - 1].len, seed),
                       VE_OK);
      d->cslices[d->ncomplaints++] = ve_buf_slice(c);
    }
  }
}

static int dkg_finish(dkg_t *d) {
  int rc = vote_dkg_finish(&d->res, &d->p, (const uint8_t(*)[32])d->enc_pks, d->ctx, 32,
                           d->slices, d->cslices, d->ncomplaints);
  if (rc != VE_OK) return rc;
  for (uint32_t j = 1; j <= d->p.n; j++) {
    assert_int_equal(vote_dkg_secret_share(d->x[j - 1], &d->res, j, &d->enc[j - 1], d->ctx, 32,
                                           d->slices),
                     VE_OK);
  }
  return VE_OK;
}

static void dkg_free(dkg_t *d) {
  for (uint32_t i = 0; i < N_MAX; i++) ve_buf_free(&d->dealings[i]);
  for (size_t c = 0; c < d->ncomplaints; c++) ve_buf_free(&d->complaints[c]);
  for (uint32_t j = 0; j < N_MAX; j++) vote_keypair_wipe(&d->enc[j]);
}

/* Encrypts `m` under the joint key and checks that the given trustee set
 * decrypts it (returns whether M == mG). */
static bool decrypts_with(const dkg_t *d, const uint32_t *set, uint32_t size, uint32_t t_used,
                          uint64_t m) {
  uint8_t r[32], ct[64], dd[N_MAX][32], M[32], want[32], ms[32];
  vt_scalar(r);
  assert_int_equal(vote_encrypt(ct, d->res.pk, m, r), VE_OK);
  for (uint32_t k = 0; k < size; k++) {
    uint32_t j = set[k];
    uint8_t proof[VOTE_DLEQ_PROOF_BYTES], seed[32];
    vt_bytes(seed, 32);
    assert_int_equal(vote_partial_decrypt(dd[k], proof, d->x[j - 1], j, ct, d->ctx, 32, seed),
                     VE_OK);
    assert_int_equal(vote_partial_verify(d->res.vk[j - 1], j, ct, dd[k], proof, d->ctx, 32),
                     VE_OK);
  }
  assert_int_equal(vote_combine(M, t_used, set, (const uint8_t(*)[32])dd, size, ct), VE_OK);
  vote_sc_from_u64(ms, m);
  if (crypto_scalarmult_ristretto255_base(want, ms) != 0) memset(want, 0, 32);
  return memcmp(M, want, 32) == 0;
}

static void test_honest_dkg_any_t_of_n(void **state) {
  (void)state;
  dkg_t *d = calloc(1, sizeof *d);
  assert_non_null(d);
  dkg_setup(d, 5, 3);
  dkg_deal_all(d);
  dkg_check_and_complain(d);
  assert_int_equal(d->ncomplaints, 0);
  assert_int_equal(dkg_finish(d), VE_OK);
  assert_int_equal(d->res.qualified, 0x1f);
  assert_int_equal(vote_pk_check(d->res.pk), VE_OK);
  /* every 3-subset of 5 decrypts */
  int subsets = 0;
  for (uint32_t a = 1; a <= 5; a++) {
    for (uint32_t b = a + 1; b <= 5; b++) {
      for (uint32_t c = b + 1; c <= 5; c++) {
        uint32_t set[3] = {c, a, b}; /* order must not matter */
        assert_true(decrypts_with(d, set, 3, 3, 1000 + a * 100 + b * 10 + c));
        subsets++;
      }
    }
  }
  assert_int_equal(subsets, 10);
  /* t-1 partials: refused by the API, and interpolating them anyway is wrong */
  uint32_t two[2] = {2, 4};
  uint8_t dd[2][32] = {{0}}, M[32], ct[64] = {0};
  assert_int_equal(vote_combine(M, 3, two, (const uint8_t(*)[32])dd, 2, ct), VE_ERR_QUORUM);
  assert_false(decrypts_with(d, two, 2, 2, 42));
  /* the secret shares are consistent with a degree t-1 polynomial whose value
   * at 0 nobody holds: x_1..x_n interpolate (any t of them) to the same x. */
  uint8_t x_a[32] = {0}, x_b[32] = {0}, lam[32], tmp[32];
  const uint32_t sa[3] = {1, 2, 3}, sb[3] = {3, 4, 5};
  for (int which = 0; which < 2; which++) {
    const uint32_t *S = which ? sb : sa;
    uint8_t *acc = which ? x_b : x_a;
    for (int k = 0; k < 3; k++) {
      uint8_t num[32], den[32], js[32], ms[32], inv[32];
      vote_sc_from_u64(num, 1);
      vote_sc_from_u64(den, 1);
      vote_sc_from_u64(js, S[k]);
      for (int m = 0; m < 3; m++) {
        if (m == k) continue;
        vote_sc_from_u64(ms, S[m]);
        vote_sc_mul(num, num, ms);
        vote_sc_sub(ms, ms, js);
        vote_sc_mul(den, den, ms);
      }
      assert_int_equal(crypto_core_ristretto255_scalar_invert(inv, den), 0);
      vote_sc_mul(lam, num, inv);
      vote_sc_mul(tmp, lam, d->x[S[k] - 1]);
      vote_sc_add(acc, acc, tmp);
    }
  }
  assert_memory_equal(x_a, x_b, 32);
  uint8_t Y[32];
  assert_int_equal(crypto_scalarmult_ristretto255_base(Y, x_a), 0);
  assert_memory_equal(Y, d->res.pk, 32); /* x is what t trustees could rebuild; no one holds it */
  sodium_memzero(x_a, 32);
  sodium_memzero(x_b, 32);
  dkg_free(d);
  free(d);
}

/* Dealer `cheat` corrupts the share it sends to `victim`. mode 0: garbage
 * ciphertext; mode 1: a validly encrypted share that is off by one. */
static void corrupt_share(dkg_t *d, uint32_t cheat, uint32_t victim, int mode) {
  uint8_t *b = d->dealings[cheat - 1].ptr;
  size_t off = 4 + 32 * d->p.t + 64 + VOTE_DKG_SHARE_CT_BYTES * (victim - 1);
  if (mode == 0) {
    b[off + 40] ^= 0x01;
    return;
  }
  /* Recover the honest share with the victim's key, then reseal s + 1. */
  uint8_t s[32], one[32] = {1}, k[32];
  assert_int_equal(vote_dkg_share_open(s, &d->p, cheat, victim, &d->enc[victim - 1], d->ctx, 32,
                                       b, d->dealings[cheat - 1].len),
                   VE_OK);
  vote_sc_add(s, s, one);
  vt_scalar(k);
  vote_dkg_share_seal(b + off, d->ctx, 32, cheat, victim, d->enc_pks[victim - 1], s, k);
}

static void test_cheating_dealer_excluded(void **state) {
  (void)state;
  for (int mode = 0; mode < 2; mode++) {
    dkg_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    dkg_setup(d, 5, 3);
    dkg_deal_all(d);
    corrupt_share(d, 2, 4, mode);
    /* the dealing still passes the public checks: only the victim can tell */
    assert_int_equal(vote_dkg_dealing_verify(&d->p, 2, d->ctx, 32, d->slices[1].ptr,
                                             d->slices[1].len),
                     VE_OK);
    dkg_check_and_complain(d);
    assert_int_equal(d->ncomplaints, 1);
    bool upheld = false;
    assert_int_equal(vote_dkg_complaint_check(&upheld, &d->p, (const uint8_t(*)[32])d->enc_pks,
                                              d->ctx, 32, d->slices[1].ptr, d->slices[1].len,
                                              d->cslices[0].ptr, d->cslices[0].len),
                     VE_OK);
    assert_true(upheld);
    assert_int_equal(dkg_finish(d), VE_OK);
    assert_int_equal(d->res.qualified, 0x1f & ~0x2u);
    uint32_t set[3] = {1, 4, 5}; /* the victim included */
    assert_true(decrypts_with(d, set, 3, 3, 7));
    uint32_t set2[3] = {2, 3, 4}; /* the cheater's own share still counts as a share */
    assert_true(decrypts_with(d, set2, 3, 3, 8));
    dkg_free(d);
    free(d);
  }
}

static void test_false_and_forged_complaints(void **state) {
  (void)state;
  dkg_t *d = calloc(1, sizeof *d);
  assert_non_null(d);
  dkg_setup(d, 4, 2);
  dkg_deal_all(d);
  /* trustee 3 complains about honest dealer 1: dismissed */
  uint8_t seed[32] = {3};
  ve_buf_t c;
  ve_buf_init(&c, VOTE_DKG_COMPLAINT_BYTES);
  assert_int_equal(vote_dkg_complain(&c, &d->p, 1, 3, &d->enc[2], d->ctx, 32, d->slices[0].ptr,
                                     d->slices[0].len, seed),
                   VE_OK);
  bool upheld = true;
  assert_int_equal(vote_dkg_complaint_check(&upheld, &d->p, (const uint8_t(*)[32])d->enc_pks,
                                            d->ctx, 32, d->slices[0].ptr, d->slices[0].len,
                                            c.ptr, c.len),
                   VE_OK);
  assert_false(upheld);
  /* forged: a wrong K (with the honest proof), another trustee's key, flips */
  uint8_t *f = malloc(c.len);
  assert_non_null(f);
  memcpy(f, c.ptr, c.len);
  vt_point(f + 3);
  assert_int_equal(vote_dkg_complaint_check(&upheld, &d->p, (const uint8_t(*)[32])d->enc_pks,
                                            d->ctx, 32, d->slices[0].ptr, d->slices[0].len, f,
                                            c.len),
                   VE_ERR_PROOF);
  memcpy(f, c.ptr, c.len);
  f[2] = 2; /* claims to be trustee 2 */
  assert_int_not_equal(vote_dkg_complaint_check(&upheld, &d->p,
                                                (const uint8_t(*)[32])d->enc_pks, d->ctx, 32,
                                                d->slices[0].ptr, d->slices[0].len, f, c.len),
                       VE_OK);
  for (size_t i = 0; i < c.len; i++) {
    memcpy(f, c.ptr, c.len);
    f[i] ^= 0x10;
    int rc = vote_dkg_complaint_check(&upheld, &d->p, (const uint8_t(*)[32])d->enc_pks, d->ctx,
                                      32, d->slices[0].ptr, d->slices[0].len, f, c.len);
    assert_true(rc != VE_OK || !upheld);
  }
  /* another DKG context */
  uint8_t other[32] = {1};
  assert_int_not_equal(vote_dkg_complaint_check(&upheld, &d->p,
                                                (const uint8_t(*)[32])d->enc_pks, other, 32,
                                                d->slices[0].ptr, d->slices[0].len, c.ptr,
                                                c.len),
                       VE_OK);
  /* finishing with the dismissed and forged complaints keeps everyone */
  d->complaints[0] = c;
  d->cslices[0] = ve_buf_slice(&c);
  d->cslices[1] = ve_slice(f, VOTE_DKG_COMPLAINT_BYTES);
  d->ncomplaints = 2;
  assert_int_equal(vote_dkg_finish(&d->res, &d->p, (const uint8_t(*)[32])d->enc_pks, d->ctx, 32,
                                   d->slices, d->cslices, 2),
                   VE_OK);
  assert_int_equal(d->res.qualified, 0xf);
  free(f);
  d->ncomplaints = 1;
  dkg_free(d);
  free(d);
}

static void test_missing_and_tampered_dealings(void **state) {
  (void)state;
  dkg_t *d = calloc(1, sizeof *d);
  assert_non_null(d);
  dkg_setup(d, 5, 3);
  dkg_deal_all(d);
  /* dealer 5 never publishes; dealer 1's commitment A_11 is tampered with */
  d->slices[4].len = 0;
  d->dealings[0].ptr[4 + 32 + 5] ^= 0x04;
  assert_int_not_equal(vote_dkg_dealing_verify(&d->p, 1, d->ctx, 32, d->slices[0].ptr,
                                               d->slices[0].len),
                       VE_OK);
  /* a dealing presented as another dealer's, or under another context */
  assert_int_equal(vote_dkg_dealing_verify(&d->p, 3, d->ctx, 32, d->slices[1].ptr,
                                           d->slices[1].len),
                   VE_ERR_MALFORMED);
  uint8_t other[32] = {2};
  assert_int_equal(vote_dkg_dealing_verify(&d->p, 2, other, 32, d->slices[1].ptr,
                                           d->slices[1].len),
                   VE_ERR_PROOF);
  dkg_check_and_complain(d);
  assert_int_equal(dkg_finish(d), VE_OK);
  assert_int_equal(d->res.qualified, 0x0e);
  uint32_t set[3] = {5, 1, 3}; /* non-dealers still hold shares */
  assert_true(decrypts_with(d, set, 3, 3, 12345));
  /* below t qualified dealers: the DKG fails */
  d->slices[1].len = 0;
  d->slices[2].len = 0;
  assert_int_equal(vote_dkg_finish(&d->res, &d->p, (const uint8_t(*)[32])d->enc_pks, d->ctx, 32,
                                   d->slices, NULL, 0),
                   VE_ERR_QUORUM);
  /* parameters */
  vote_dkg_params_t bad = {2, 2};
  assert_int_equal(vote_dkg_dealing_size(&bad), 0);
  bad.n = 3;
  bad.t = 1;
  assert_int_equal(vote_dkg_dealing_size(&bad), 0);
  bad.n = VOTE_TRUSTEES_MAX + 1;
  bad.t = 2;
  assert_int_equal(vote_dkg_dealing_size(&bad), 0);
  dkg_free(d);
  free(d);
}

static void test_bad_partial_decryptions_refused(void **state) {
  (void)state;
  dkg_t *d = calloc(1, sizeof *d);
  assert_non_null(d);
  dkg_setup(d, 3, 2);
  dkg_deal_all(d);
  assert_int_equal(dkg_finish(d), VE_OK);
  uint8_t r[32], ct[64], D[32], proof[VOTE_DLEQ_PROOF_BYTES], seed[32] = {5};
  vt_scalar(r);
  assert_int_equal(vote_encrypt(ct, d->res.pk, 3, r), VE_OK);
  assert_int_equal(vote_partial_decrypt(D, proof, d->x[0], 1, ct, d->ctx, 32, seed), VE_OK);
  assert_int_equal(vote_partial_verify(d->res.vk[0], 1, ct, D, proof, d->ctx, 32), VE_OK);
  /* wrong trustee index, key, ciphertext, context */
  assert_int_equal(vote_partial_verify(d->res.vk[0], 2, ct, D, proof, d->ctx, 32), VE_ERR_PROOF);
  assert_int_equal(vote_partial_verify(d->res.vk[1], 1, ct, D, proof, d->ctx, 32), VE_ERR_PROOF);
  uint8_t ct2[64];
  assert_int_equal(vote_encrypt(ct2, d->res.pk, 3, r + 0), VE_OK);
  vt_scalar(r);
  assert_int_equal(vote_encrypt(ct2, d->res.pk, 3, r), VE_OK);
  assert_int_equal(vote_partial_verify(d->res.vk[0], 1, ct2, D, proof, d->ctx, 32), VE_ERR_PROOF);
  assert_int_equal(vote_partial_verify(d->res.vk[0], 1, ct, D, proof, NULL, 0), VE_ERR_PROOF);
  /* a trustee lying about D (x' = x + 1) with an honest-looking proof for x' */
  uint8_t x2[32], one[32] = {1}, D2[32], proof2[VOTE_DLEQ_PROOF_BYTES];
  vote_sc_add(x2, d->x[0], one);
  assert_int_equal(vote_partial_decrypt(D2, proof2, x2, 1, ct, d->ctx, 32, seed), VE_OK);
  assert_int_equal(vote_partial_verify(d->res.vk[0], 1, ct, D2, proof2, d->ctx, 32),
                   VE_ERR_PROOF);
  assert_int_equal(vote_partial_verify(d->res.vk[0], 1, ct, D2, proof, d->ctx, 32), VE_ERR_PROOF);
  /* every bit flip of D or the proof */
  for (size_t i = 0; i < 32 + VOTE_DLEQ_PROOF_BYTES; i++) {
    for (int bit = 0; bit < 8; bit++) {
      uint8_t dd[32], pp[VOTE_DLEQ_PROOF_BYTES];
      memcpy(dd, D, 32);
      memcpy(pp, proof, sizeof pp);
      if (i < 32) {
        dd[i] ^= (uint8_t)(1u << bit);
      } else {
        pp[i - 32] ^= (uint8_t)(1u << bit);
      }
      assert_int_not_equal(vote_partial_verify(d->res.vk[0], 1, ct, dd, pp, d->ctx, 32), VE_OK);
    }
  }
  /* z + L is refused as non-canonical */
  uint8_t pp[VOTE_DLEQ_PROOF_BYTES];
  memcpy(pp, proof, sizeof pp);
  static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0,
                                0, 0, 0, 0, 0, 0, 0, 0x10};
  unsigned carry = 0;
  for (int i = 0; i < 32; i++) {
    unsigned v = pp[64 + i] + L[i] + carry;
    pp[64 + i] = (uint8_t)v;
    carry = v >> 8;
  }
  assert_int_equal(vote_partial_verify(d->res.vk[0], 1, ct, D, pp, d->ctx, 32),
                   VE_ERR_NONCANONICAL);
  dkg_free(d);
  free(d);
}

int main(void) {
  if (vote_init() != 0) return 1;
  vt_seed_init("vote_dkg_test");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_honest_dkg_any_t_of_n),
      cmocka_unit_test(test_cheating_dealer_excluded),
      cmocka_unit_test(test_false_and_forged_complaints),
      cmocka_unit_test(test_missing_and_tampered_dealings),
      cmocka_unit_test(test_bad_partial_decryptions_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
