/* trng.h — the seeded pseudo-random numbers of the unit tests (splitmix64).
 *
 * A random test takes its seed from VECHE_SEED, else the clock, and prints it,
 * so that any failure replays exactly from the printed line. Not for anything
 * secret: tests only. One generator per process (tests are single-threaded
 * where they draw numbers). */
#ifndef VECHE_TESTS_TRNG_H
#define VECHE_TESTS_TRNG_H

#include <stddef.h>
#include <stdint.h>

/* Seeds the generator from VECHE_SEED or the clock and prints
 * "<name>: seed S (replay with VECHE_SEED=S)". Returns the seed. */
uint64_t trng_seed(const char *name);
uint64_t trng_next(void);
/* One splitmix64 step on a caller's own state (what trng_next runs on the
 * process's): for tests that keep several independent streams or seed them
 * their own way. */
uint64_t trng_step(uint64_t *state);
/* n pseudo-random bytes. */
void trng_bytes(uint8_t *out, size_t n);

#endif
