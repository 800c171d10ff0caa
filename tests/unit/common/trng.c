/* trng.c — see trng.h. */
#include "trng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t g_state;

uint64_t trng_seed(const char *name) {
  const char *env = getenv("VECHE_SEED");
  g_state = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
  printf("%s: seed %llu (replay with VECHE_SEED=%llu)\n", name, (unsigned long long)g_state,
         (unsigned long long)g_state);
  return g_state;
}

uint64_t trng_step(uint64_t *state) { /* splitmix64 */
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t trng_next(void) { return trng_step(&g_state); }

void trng_bytes(uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t x = trng_next();
    memcpy(out + i, &x, n - i < 8 ? n - i : 8);
  }
}
