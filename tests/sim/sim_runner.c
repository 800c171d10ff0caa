/* sim_runner.c — command line for the simulator.
 *
 *   sim_runner --config NAME --seed N [--verbose]     replay one seed exactly
 *   sim_runner --config NAME --seeds A:B              seeds A..B-1
 *   sim_runner --config all --seeds A:B               every configuration
 *   sim_runner --list
 * Prints one line per run with its seed; exits 1 if any run failed, printing the
 * command that replays it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "sim.h"

static void usage(void) {
  fprintf(stderr,
          "usage: sim_runner --config NAME|all (--seed N | --seeds A:B) [--verbose]\n"
          "       sim_runner --list\n");
  exit(2);
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_one(const sim_config_t *c, uint64_t seed, bool verbose) {
  sim_result_t r;
  sim_run(c, seed, verbose, &r);
  printf("seed=%llu config=%s n=%d nodes=%d byz=%d heights=%llu max_round=%u heal_rounds=%u "
         "sim_ms=%llu events=%llu crashes=%u tail_losses=%u evidence=%u valset_changes=%u",
         (unsigned long long)seed, c->name, r.n, r.nodes, r.byz, (unsigned long long)r.heights,
         r.max_round, r.heal_rounds, (unsigned long long)r.sim_ms, (unsigned long long)r.events, r.crashes,
         r.tail_losses, r.evidence, r.valset_changes);
  if (c->restore_pm) printf(" restores=%u", r.restores);
  if (c->ledger)
    printf(" txs=%llu txs_failed=%llu", (unsigned long long)r.txs, (unsigned long long)r.txs_failed);
  printf("%s: %s%s\n", r.fork_detected ? " fork_caught" : "", r.ok ? "ok" : "FAIL ", r.failure);
  if (!r.ok)
    printf("replay: sim_runner --config %s --seed %llu --verbose\n", c->name,
           (unsigned long long)seed);
  fflush(stdout);
  return r.ok ? 0 : 1;
}

int main(int argc, char **argv) {
  const char *config = NULL;
  uint64_t from = 0, to = 0;
  bool have_seeds = false, verbose = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      config = argv[++i];
    } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      from = strtoull(argv[++i], NULL, 0);
      to = from + 1;
      have_seeds = true;
    } else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
      char *colon = NULL;
      from = strtoull(argv[++i], &colon, 0);
      if (!colon || *colon != ':') usage();
      to = strtoull(colon + 1, NULL, 0);
      have_seeds = true;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      verbose = true;
    } else if (strcmp(argv[i], "--list") == 0) {
      for (const sim_config_t *const *c = sim_configs(); *c; c++)
        printf("%-10s %s\n", (*c)->name, (*c)->about);
      return 0;
    } else {
      usage();
    }
  }
  if (!config || !have_seeds || to <= from) usage();
  ve_log_set_level(verbose ? VE_LOG_DEBUG : VE_LOG_OFF);
  const sim_config_t *one = strcmp(config, "all") == 0 ? NULL : sim_config_find(config);
  if (!one && strcmp(config, "all") != 0) {
    fprintf(stderr, "unknown config %s (try --list)\n", config);
    return 2;
  }
  double t0 = wall_s();
  unsigned long runs = 0, failed = 0;
  for (uint64_t seed = from; seed < to; seed++) {
    if (one) {
      failed += (unsigned long)run_one(one, seed, verbose);
      runs++;
      continue;
    }
    for (const sim_config_t *const *c = sim_configs(); *c; c++) {
      failed += (unsigned long)run_one(*c, seed, verbose);
      runs++;
    }
  }
  printf("SUMMARY config=%s seeds=%llu..%llu runs=%lu failed=%lu wall_s=%.1f\n", config,
         (unsigned long long)from, (unsigned long long)(to - 1), runs, failed, wall_s() - t0);
  return failed ? 1 : 0;
}
