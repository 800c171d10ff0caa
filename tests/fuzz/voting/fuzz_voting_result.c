/* fuzz_voting_result.c — the decryption of a poll's result: combining the
 * trustees' decryption shares (vote_tally_decrypt) and the bounded discrete
 * log (vote_dlog) that turns each option's m*G into its count.
 *
 * Why a harness of its own: the app decrypts a result in compute_result
 * (poll.c), which builds the 1 MiB baby-step table on every call — about 2 s
 * in the instrumented fuzz build — and only honest shares reach it (each is
 * verified first), so fuzz_voting_exec2 runs it only on its seeds' valid
 * shares. Here the table is built once per process and the shares may be
 * anything.
 *
 * Keys: a fixed 3-of-4 Shamir sharing of an election secret (made here with
 * libsodium's scalar arithmetic, independently of the app's DKG): trustee j
 * holds x_j = f(j), its verification key is x_j*G, the poll key f(0)*G.
 *
 * Input: a selector byte, then mode-specific bytes (missing bytes read as 0).
 *   mode = b % 3, options = 1 + b / 3 % 4.
 *   0 honest: per option 4 bytes give its count (byte 0 odd: the other 3
 *     bytes and bit 1 of byte 0 give up to 2^25 - 1; even: byte 1, 0..255);
 *     then one byte picks the 3 trustees (the one left out, the order). The
 *     counts are encrypted to the poll key (randomness from a hash of the
 *     input), the 3 trustees make their shares, and vote_tally_decrypt must
 *     give exactly the counts, which vote_result_verify accepts (or, by bit 4
 *     of the trustee byte, refuses with the first count changed).
 *   1 tampered: the same, then up to 8 edits (target share or tally, offset,
 *     xor byte) applied before decrypting, and bit 3 of the trustee byte may
 *     drop the last share. Decryption returns a real error or counts within
 *     VOTE_DLOG_MAX that vote_result_verify accepts; with too few shares it
 *     is VE_ERR_QUORUM; an edited share never passes vote_decshare_verify
 *     (so it never reaches the ledger's decryption); unchanged inputs decrypt
 *     to the counts.
 *   2 raw: the next 32 bytes are a point M: vote_dlog(M) is a real error or
 *     an m <= VOTE_DLOG_MAX with m*G == M (checked with libsodium).
 * A dlog walks up to 512 giant steps (all of them for a point that is not a
 * small multiple of G): milliseconds each under the fuzzer's instrumentation,
 * so raw points cost the most per run. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/voting/votecrypto.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RES_N 4
#define RES_T 3
#define RES_OPTIONS_MAX 4
#define RES_EDITS_MAX 8
#define RES_CTX_BYTES 36

static vote_dlog_table_t *g_tab;
static uint8_t g_x[RES_N][VOTE_SCALAR_BYTES], g_vk[RES_N][VOTE_POINT_BYTES], g_pk[VOTE_POINT_BYTES];
static uint8_t g_ctx[RES_CTX_BYTES];

/* A scalar from a tag and an index (fixed). */
static void scalar_of(uint8_t out[32], const char *tag, uint32_t i) {
  uint8_t h[64], in[64] = {0};
  size_t n = strlen(tag);
  memcpy(in, tag, n);
  in[n] = (uint8_t)i;
  crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
  crypto_core_ristretto255_scalar_reduce(out, h);
}

static void setup(void) {
  VE_ASSERT(sodium_init() >= 0 && vote_init() == VE_OK);
  VE_ASSERT(vote_dlog_table_new(&g_tab) == VE_OK);
  uint8_t a[RES_T][32];
  for (uint32_t k = 0; k < RES_T; k++) scalar_of(a[k], "fuzz-result-coef", k);
  VE_ASSERT(crypto_scalarmult_ristretto255_base(g_pk, a[0]) == 0);
  for (uint32_t j = 1; j <= RES_N; j++) { /* Horner: f(j) = a0 + j (a1 + j a2) */
    uint8_t js[32] = {0}, acc[32];
    js[0] = (uint8_t)j;
    memcpy(acc, a[RES_T - 1], 32);
    for (int k = RES_T - 2; k >= 0; k--) {
      crypto_core_ristretto255_scalar_mul(acc, acc, js);
      crypto_core_ristretto255_scalar_add(acc, acc, a[k]);
    }
    memcpy(g_x[j - 1], acc, 32);
    VE_ASSERT(crypto_scalarmult_ristretto255_base(g_vk[j - 1], acc) == 0);
  }
  for (size_t i = 0; i < sizeof g_ctx; i++) g_ctx[i] = (uint8_t)(0xc0 ^ i);
}

/* Reads the input's bytes in order; past the end they are 0. */
typedef struct {
  const uint8_t *p;
  size_t len, pos;
} rd_t;

static uint8_t rd_u8(rd_t *r) { return r->pos < r->len ? r->p[r->pos++] : 0; }

static uint64_t rd_count(rd_t *r) {
  uint8_t b[4];
  for (int i = 0; i < 4; i++) b[i] = rd_u8(r);
  if (!(b[0] & 1)) return b[1];
  return ((uint64_t)((b[0] >> 1) & 1) << 24) | ((uint64_t)b[1] << 16) | ((uint64_t)b[2] << 8) | b[3];
}

/* m*G by libsodium (the identity, all zero bytes, for m = 0). */
static void mul_base(uint8_t out[32], uint64_t m) {
  uint8_t s[32] = {0};
  for (int i = 0; i < 8; i++) s[i] = (uint8_t)(m >> (8 * i));
  if (m == 0) {
    memset(out, 0, 32);
    return;
  }
  VE_ASSERT(crypto_scalarmult_ristretto255_base(out, s) == 0);
}

static void fuzz_raw(rd_t *r) {
  uint8_t pt[32];
  for (int i = 0; i < 32; i++) pt[i] = rd_u8(r);
  uint64_t m = UINT64_MAX;
  int rc = vote_dlog(g_tab, pt, &m);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    return;
  }
  uint8_t want[32];
  VE_ASSERT(m <= VOTE_DLOG_MAX);
  mul_base(want, m);
  VE_ASSERT(!memcmp(want, pt, 32));
}

/* One tally of `options` counts and the shares of 3 trustees. */
typedef struct {
  uint32_t options;
  uint64_t counts[RES_OPTIONS_MAX];
  uint8_t cts[RES_OPTIONS_MAX * VOTE_CT_BYTES];
  uint32_t who[RES_T];
  ve_buf_t share[RES_T];
} tally_t;

/* Reads the counts and the trustee byte (returned) and makes the tally. */
static uint8_t tally_make(tally_t *t, rd_t *r, const uint8_t *data, size_t size) {
  for (uint32_t o = 0; o < t->options; o++) t->counts[o] = rd_count(r);
  uint8_t pick = rd_u8(r), seed[32];
  crypto_generichash(seed, sizeof seed, data, size, NULL, 0);
  for (uint32_t o = 0; o < t->options; o++) {
    uint8_t h[64], rnd[32];
    seed[0] ^= (uint8_t)(o + 1);
    crypto_generichash(h, sizeof h, seed, sizeof seed, NULL, 0);
    crypto_core_ristretto255_scalar_reduce(rnd, h);
    VE_ASSERT(vote_encrypt(t->cts + (size_t)o * VOTE_CT_BYTES, g_pk, t->counts[o], rnd) == VE_OK);
  }
  uint32_t out = 1 + pick % RES_N, k = 0;
  for (uint32_t j = 1; j <= RES_N; j++)
    if (j != out) t->who[(pick & 4) ? RES_T - 1 - k++ : k++] = j;
  for (uint32_t i = 0; i < RES_T; i++) {
    seed[1] ^= (uint8_t)(i + 1);
    ve_buf_init(&t->share[i], 0);
    VE_ASSERT(vote_decshare_create(&t->share[i], t->who[i], g_x[t->who[i] - 1], t->cts, t->options, g_ctx,
                                   sizeof g_ctx, seed) == VE_OK);
  }
  return pick;
}

static void tally_free(tally_t *t) {
  for (uint32_t i = 0; i < RES_T; i++) ve_buf_free(&t->share[i]);
}

static int decrypt(const tally_t *t, size_t n_shares, uint64_t *counts) {
  ve_slice_t s[RES_T];
  for (uint32_t i = 0; i < RES_T; i++) s[i] = ve_buf_slice(&t->share[i]);
  return vote_tally_decrypt(counts, g_tab, RES_T, s, n_shares, t->cts, t->options);
}

static int result_verify(const tally_t *t, const uint64_t *counts) {
  ve_slice_t s[RES_T];
  for (uint32_t i = 0; i < RES_T; i++) s[i] = ve_buf_slice(&t->share[i]);
  return vote_result_verify(counts, RES_T, s, RES_T, t->cts, t->options);
}

/* Decrypts to exactly the counts; the audit's check (vote_result_verify)
 * accepts them, or (bit 4 of the trustee byte: one combination each, they
 * are the costly part) refuses them with the first count changed. */
static void fuzz_honest(tally_t *t, uint8_t pick) {
  uint64_t got[RES_OPTIONS_MAX];
  VE_ASSERT(decrypt(t, RES_T, got) == VE_OK);
  VE_ASSERT(!memcmp(got, t->counts, t->options * sizeof got[0]));
  if (pick & 16) {
    got[0] ^= 1;
    VE_ASSERT(result_verify(t, got) == VE_ERR_PROOF);
  } else {
    VE_ASSERT(result_verify(t, got) == VE_OK);
  }
}

/* Applies the input's edits; returns which shares now differ from what the
 * trustees made (bit i) and whether the tally does (bit RES_T). */
static uint32_t edits_apply(tally_t *t, rd_t *r) {
  uint8_t cts_was[sizeof t->cts];
  memcpy(cts_was, t->cts, sizeof cts_was);
  uint8_t *was[RES_T];
  for (uint32_t i = 0; i < RES_T; i++) {
    was[i] = malloc(t->share[i].len);
    VE_ASSERT(was[i]);
    memcpy(was[i], t->share[i].ptr, t->share[i].len);
  }
  for (int e = 0; e < RES_EDITS_MAX && r->pos + 4 <= r->len; e++) {
    uint8_t target = rd_u8(r) % (RES_T + 1), hi = rd_u8(r), lo = rd_u8(r), x = rd_u8(r);
    size_t off = (size_t)hi << 8 | lo;
    if (target == RES_T) {
      t->cts[off % (t->options * VOTE_CT_BYTES)] ^= x;
    } else {
      ve_buf_t *b = &t->share[target];
      b->ptr[off % b->len] ^= x;
    }
  }
  uint32_t changed = memcmp(cts_was, t->cts, sizeof cts_was) ? 1u << RES_T : 0;
  for (uint32_t i = 0; i < RES_T; i++) {
    if (memcmp(was[i], t->share[i].ptr, t->share[i].len)) changed |= 1u << i;
    free(was[i]);
  }
  return changed;
}

static void fuzz_tampered(tally_t *t, uint8_t pick, rd_t *r) {
  size_t n_shares = (pick & 8) ? RES_T - 1 : RES_T;
  uint32_t changed = edits_apply(t, r);
  for (uint32_t i = 0; i < RES_T; i++) { /* (unchanged shares are the trustees' own: not re-verified) */
    if (!(changed & (1u << i))) continue;
    int rc = vote_decshare_verify(g_vk[t->who[i] - 1], t->who[i], t->cts, t->options, g_ctx, sizeof g_ctx,
                                  t->share[i].ptr, t->share[i].len);
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
  }
  uint64_t got[RES_OPTIONS_MAX];
  int rc = decrypt(t, n_shares, got);
  if (n_shares < RES_T) VE_ASSERT(rc == VE_ERR_QUORUM);
  if (rc != VE_OK) {
    VE_ASSERT(rc < 0 && rc >= VE_ERR_MIN);
    VE_ASSERT(changed || n_shares < RES_T);
    return;
  }
  for (uint32_t o = 0; o < t->options; o++) VE_ASSERT(got[o] <= VOTE_DLOG_MAX);
  VE_ASSERT(result_verify(t, got) == VE_OK);
  if (!changed) VE_ASSERT(!memcmp(got, t->counts, t->options * sizeof got[0]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_tab) setup();
  if (size < 1) return 0;
  rd_t r = {data, size, 1};
  uint32_t mode = data[0] % 3;
  if (mode == 2) {
    fuzz_raw(&r);
    return 0;
  }
  tally_t *t = calloc(1, sizeof *t);
  VE_ASSERT(t);
  t->options = 1 + data[0] / 3 % RES_OPTIONS_MAX;
  uint8_t pick = tally_make(t, &r, data, size);
  if (mode == 0) {
    fuzz_honest(t, pick);
  } else {
    fuzz_tampered(t, pick, &r);
  }
  tally_free(t);
  free(t);
  return 0;
}
