/* sim_configs.c — the named simulator configurations. Each seed draws its own
 * parameters inside a configuration's ranges (network size, powers, roles, loss,
 * partitions, crash times...), so a configuration is a family of scenarios and
 * many seeds cover it. Add a configuration here and register shards for it in
 * tests/sim/CMakeLists.txt. */
#include <string.h>

#include "sim.h"

static const sim_config_t CONFIGS[] = {
    {.name = "basic", .about = "4/7/10 validators, unequal power, clean network",
     .sizes = {4, 7, 10}, .unequal_power = true, .delay_min_ms = 5, .delay_max_ms = 50,
     .heights_min = 10, .chaos_ms_min = 500, .chaos_ms_max = 1500},
    {.name = "small", .about = "1, 2 and 3 validators (single-validator mode included)",
     .sizes = {1, 2, 3}, .unequal_power = true, .observers = 1, .delay_min_ms = 1,
     .delay_max_ms = 40, .loss_pm_max = 100, .heights_min = 10, .chaos_ms_min = 500,
     .chaos_ms_max = 1500},
    {.name = "lossy", .about = "up to 30% loss, duplication, wide delays (reordering)",
     .sizes = {4, 7, 10}, .unequal_power = true, .loss_pm_max = 300, .dup_pm_max = 150,
     .delay_min_ms = 1, .delay_max_ms = 200, .heights_min = 6, .chaos_ms_min = 1000,
     .chaos_ms_max = 3000},
    {.name = "partition", .about = "symmetric partitions that heal, some loss",
     .sizes = {4, 7, 10}, .unequal_power = true, .partitions = true, .loss_pm_max = 100,
     .dup_pm_max = 50, .delay_min_ms = 2, .delay_max_ms = 100, .heights_min = 6,
     .chaos_ms_min = 3000, .chaos_ms_max = 8000},
    {.name = "asym", .about = "one-way partitions that heal",
     .sizes = {4, 7, 10}, .unequal_power = true, .asym_partitions = true, .loss_pm_max = 100,
     .delay_min_ms = 2, .delay_max_ms = 100, .heights_min = 6, .chaos_ms_min = 3000,
     .chaos_ms_max = 8000},
    {.name = "crash", .about = "crashes and restarts, including losing the unsynced tail",
     .sizes = {4, 7, 10}, .unequal_power = true, .crashes_max = 4, .tail_loss_pm = 40,
     .loss_pm_max = 100, .delay_min_ms = 2, .delay_max_ms = 80, .heights_min = 6,
     .chaos_ms_min = 3000, .chaos_ms_max = 8000},
    {.name = "restore", .about = "a validator restored from an older backup (records and chain rolled "
                                "back) restarts with sign_from_height; crashes and tail loss too",
     .sizes = {4, 7, 10}, .crashes_max = 4, .tail_loss_pm = 20, .restore_pm = 700,
     .loss_pm_max = 100, .delay_min_ms = 2, .delay_max_ms = 80, .heights_min = 8,
     .chaos_ms_min = 3000, .chaos_ms_max = 8000},
    {.name = "byz", .about = "Byzantine validators (< 1/3 power): equivocation, double votes, "
                            "withholding, invalid proposals, twins",
     .sizes = {4, 7, 10}, .unequal_power = true, .byz_max = 3, .byz_kinds = SIM_BYZ_ALL,
     .loss_pm_max = 100, .dup_pm_max = 50, .delay_min_ms = 2, .delay_max_ms = 80,
     .heights_min = 8, .chaos_ms_min = 1000, .chaos_ms_max = 4000},
    {.name = "twins", .about = "one key run twice, and double voters",
     .sizes = {4, 7, 10}, .unequal_power = true, .byz_max = 2,
     .byz_kinds = SIM_BYZ_TWIN | SIM_BYZ_DOUBLE_VOTE | SIM_BYZ_EQUIVOCATE, .loss_pm_max = 50,
     .delay_min_ms = 2, .delay_max_ms = 80, .heights_min = 8, .chaos_ms_min = 1000,
     .chaos_ms_max = 4000},
    {.name = "valset", .about = "validator-set changes (powers, joiners, leavers) under faults",
     .sizes = {4, 7, 10}, .unequal_power = true, .joiners = 2, .observers = 1,
     .valset_changes = true, .byz_max = 2, .byz_kinds = SIM_BYZ_ALL, .crashes_max = 2,
     .tail_loss_pm = 20, .loss_pm_max = 150, .delay_min_ms = 2, .delay_max_ms = 100,
     .heights_min = 14, .chaos_ms_min = 2000, .chaos_ms_max = 6000},
    {.name = "chaos", .about = "everything at once",
     .sizes = {4, 7, 10}, .unequal_power = true, .joiners = 2, .observers = 1,
     .valset_changes = true, .loss_pm_max = 300, .dup_pm_max = 100, .delay_min_ms = 1,
     .delay_max_ms = 150, .partitions = true, .asym_partitions = true, .crashes_max = 3,
     .tail_loss_pm = 30, .byz_max = 3, .byz_kinds = SIM_BYZ_ALL, .heights_min = 10,
     .chaos_ms_min = 3000, .chaos_ms_max = 8000},
    {.name = "ledger", .about = "the real ledger as every node's application: loss, delays, "
                               "crashes with tail loss, Byzantine proposers of broken blocks",
     .sizes = {4, 5, 7}, .unequal_power = true, .byz_max = 2, .byz_kinds = SIM_BYZ_INVALID,
     .crashes_max = 3, .tail_loss_pm = 40, .loss_pm_max = 150, .dup_pm_max = 50,
     .delay_min_ms = 2, .delay_max_ms = 100, .heights_min = 10, .chaos_ms_min = 2000,
     .chaos_ms_max = 6000, .ledger = true},
    {.name = "ledger_chaos", .about = "the real ledger under everything: partitions, observers, "
                                     "joiners, set changes, crashes, every Byzantine kind",
     .sizes = {4, 7, 10}, .unequal_power = true, .joiners = 2, .observers = 1,
     .valset_changes = true, .loss_pm_max = 250, .dup_pm_max = 100, .delay_min_ms = 1,
     .delay_max_ms = 150, .partitions = true, .asym_partitions = true, .crashes_max = 3,
     .tail_loss_pm = 30, .byz_max = 3, .byz_kinds = SIM_BYZ_ALL, .heights_min = 10,
     .chaos_ms_min = 3000, .chaos_ms_max = 8000, .ledger = true},
    {.name = "control", .about = "CONTROL: Byzantine power 1/2 with twins across a partition; "
                                "passes only if the fork is caught and evidence names exactly "
                                "the Byzantine validators",
     .sizes = {4}, .delay_min_ms = 2, .delay_max_ms = 80, .control_fork = true},
};

#define CONFIGS_N (sizeof CONFIGS / sizeof CONFIGS[0])

const sim_config_t *sim_config_find(const char *name) {
  for (size_t i = 0; i < CONFIGS_N; i++)
    if (strcmp(CONFIGS[i].name, name) == 0) return &CONFIGS[i];
  return NULL;
}

const sim_config_t *const *sim_configs(void) {
  static const sim_config_t *list[CONFIGS_N + 1];
  for (size_t i = 0; i < CONFIGS_N; i++) list[i] = &CONFIGS[i];
  list[CONFIGS_N] = NULL;
  return list;
}
