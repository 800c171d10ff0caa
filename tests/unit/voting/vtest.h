/* vtest.h — shared helpers for the voting tests: a seeded deterministic random
 * stream. Every randomized test prints its seed; replay with VECHE_SEED=<seed>.
 */
#ifndef VECHE_TESTS_VOTING_VTEST_H
#define VECHE_TESTS_VOTING_VTEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

static uint64_t vt_seed __attribute__((unused));
static uint64_t vt_ctr __attribute__((unused));

/* Reads VECHE_SEED or picks one from the clock; prints it. */
static inline void vt_seed_init(const char *name) {
  const char *env = getenv("VECHE_SEED");
  if (env != NULL && *env != '\0') {
    vt_seed = strtoull(env, NULL, 0);
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    vt_seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
  }
  vt_ctr = 0;
  fprintf(stderr, "%s: seed %" PRIu64 " (replay with VECHE_SEED=%" PRIu64 ")\n", name, vt_seed,
          vt_seed);
}

/* n deterministic bytes from (seed, counter). */
static inline void vt_bytes(uint8_t *out, size_t n) {
  uint8_t in[16];
  for (int i = 0; i < 8; i++) in[i] = (uint8_t)(vt_seed >> (8 * i));
  for (int i = 0; i < 8; i++) in[8 + i] = (uint8_t)(vt_ctr >> (8 * i));
  vt_ctr++;
  uint8_t key[32];
  crypto_generichash(key, sizeof key, in, sizeof in, NULL, 0);
  static const uint8_t nonce[12] = {0};
  memset(out, 0, n);
  crypto_stream_chacha20_ietf_xor(out, out, n, nonce, key);
}

static inline uint32_t vt_u32(uint32_t bound) {
  uint8_t b[8];
  vt_bytes(b, sizeof b);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
  return bound == 0 ? (uint32_t)v : (uint32_t)(v % bound);
}

static inline void vt_scalar(uint8_t s[32]) {
  uint8_t h[64];
  vt_bytes(h, sizeof h);
  crypto_core_ristretto255_scalar_reduce(s, h);
}

static inline void vt_point(uint8_t p[32]) {
  uint8_t h[64];
  vt_bytes(h, sizeof h);
  crypto_core_ristretto255_from_hash(p, h);
}

static inline void vt_hex(char *out, const uint8_t *in, size_t len) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
}

#endif
