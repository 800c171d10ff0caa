/* sim.h — deterministic fault simulator for the consensus engine.
 *
 * One run = one seed + one named configuration. Everything random (powers,
 * Byzantine roles, delays, losses, partitions, crashes, application timing) comes
 * from one xoshiro256** generator seeded from the run seed through splitmix64, and
 * time is simulated (a priority queue of events ordered by (time, sequence)), so a
 * seed replays exactly: `sim_runner --config NAME --seed N`.
 *
 * The checker asserts, for every run:
 *   agreement    no two honest nodes commit different ids at one height;
 *   validity     every committed value was produced by some application for a
 *                proposal and that application's rule deems it valid;
 *   certificates every COMMIT's certificate passes cons_cert_verify;
 *   no double    no honest validator ever sends two different signed messages
 *   signing      for one (height, round, type), across crashes and restarts,
 *                also after its store is restored from an older backup;
 *   evidence     every EVIDENCE verifies and names a Byzantine validator only;
 *   liveness     after the network heals (partitions over, crashed nodes back,
 *                > 2/3 honest power connected), every honest node reaches the goal
 *                height within a bounded simulated time.
 * In ledger mode (sim_config_t.ledger, see sim_ledger.h) each node's application
 * is the real ledger over a memory store that survives its crashes, values are
 * real blocks, and the checker adds:
 *   state        every honest node that committed height h has the same block
 *                hash, time, state root and results root at h (its store's tip
 *                right after the commit), and validity above means the block
 *                passes ledger_block_validate on the committing node's store;
 *   replay       at the end, a fresh store that replays one honest node's
 *                committed blocks from genesis reaches the same tip at every height.
 * A control configuration gives the Byzantine side more than 1/3 of the power; the
 * run passes only if the checker reports the fork and the evidence built from the
 * conflicting certificates names exactly the Byzantine validators.
 */
#ifndef VECHE_TESTS_SIM_SIM_H
#define VECHE_TESTS_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

/* Byzantine behaviours (bit mask in sim_config_t.byz_kinds). */
enum {
  SIM_BYZ_EQUIVOCATE = 1 << 0, /* as proposer, different proposals to different peers */
  SIM_BYZ_DOUBLE_VOTE = 1 << 1, /* conflicting votes to different peers */
  SIM_BYZ_WITHHOLD = 1 << 2,   /* never sends its votes */
  SIM_BYZ_INVALID = 1 << 3,    /* proposes values the application rejects */
  SIM_BYZ_TWIN = 1 << 4,       /* two honest engines run with one key */
  SIM_BYZ_SPAM = 1 << 5,       /* adds junk: garbage bytes, far-future rounds and heights,
                                  forged proposals, underpowered DECISIONs, bogus status */
  SIM_BYZ_ALL = 0x3f,
};

typedef struct {
  const char *name;
  const char *about;
  int sizes[3];            /* validator counts to pick from (0 = unused slot) */
  bool unequal_power;
  int joiners;             /* keys that join the set later (valset changes) */
  int observers;           /* keyless nodes */
  bool valset_changes;
  uint32_t loss_pm_max;    /* per-message loss, permille, random in [0, max] */
  uint32_t dup_pm_max;     /* duplication, permille */
  uint32_t delay_min_ms, delay_max_ms;
  bool partitions;         /* symmetric splits that heal */
  bool asym_partitions;    /* one-way blocked links that heal */
  int crashes_max;         /* honest crash/restart episodes */
  uint32_t tail_loss_pm;   /* chance per PERSIST of crashing before its fsync */
  int byz_max;             /* Byzantine validators (power kept < 1/3) */
  unsigned byz_kinds;
  int heights_min;         /* goal height at least this */
  uint32_t chaos_ms_min, chaos_ms_max; /* faults happen before this time */
  bool control_fork;       /* the >1/3 Byzantine control run */
  uint32_t restore_pm;     /* chance that a crash of an honest validator is a restore
                              from a backup (abstract mode only; at most one per run):
                              its records and chain roll back to an earlier height and
                              it restarts with sign_from_height = the highest height
                              any node holds + 2, as an operator would set it */
  bool ledger;             /* each node's application is the real ledger (sim_ledger.h) */
} sim_config_t;

typedef struct {
  bool ok;                  /* every property held (control: the fork was caught) */
  char failure[256];        /* first violation, empty when ok */
  int n, nodes, byz;
  uint64_t heights;         /* lowest honest chain height at the end */
  uint32_t max_round;       /* highest commit round seen */
  uint32_t heal_rounds;     /* highest round of a height begun after healing */
  uint64_t sim_ms;          /* simulated time at the end */
  uint64_t events, messages;
  uint32_t crashes, tail_losses, evidence, valset_changes;
  uint32_t restores;        /* validators restored from a backup (restore_pm) */
  bool fork_detected;       /* control runs */
  uint64_t txs, txs_failed; /* ledger mode: transactions committed into any store (the
                               final replay's too), and of those, the ones that failed at
                               execution */
} sim_result_t;

const sim_config_t *sim_config_find(const char *name);
/* NULL-terminated list of every configuration. */
const sim_config_t *const *sim_configs(void);

/* Runs one seed. verbose: log events to stderr. */
void sim_run(const sim_config_t *cfg, uint64_t seed, bool verbose, sim_result_t *res);

/* How many seeds a ctest shard runs: fewer under sanitizers (compile definition
 * VECHE_SIM_SANITIZE set by tests/sim/CMakeLists.txt). */
#endif
