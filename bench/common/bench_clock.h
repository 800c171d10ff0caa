/* bench_clock.h — the clocks the benchmarks time with (header only).
 *
 * Wall time for rates and latencies; the calling thread's CPU time for
 * figures that must not depend on what else the shared machine is running. */
#ifndef VECHE_BENCH_CLOCK_H
#define VECHE_BENCH_CLOCK_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by the calling thread. */
static inline double bench_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
