#!/usr/bin/env bash
# sim-soak.sh — long soak of the consensus simulator.
#
#   scripts/sim-soak.sh 20000          # or: SEEDS=20000 scripts/sim-soak.sh
#
# Runs SEEDS simulator runs in total, spread evenly over every configuration
# (sim_runner --list), starting at seed START (default 100000, clear of the seeds
# the regular ctest suite uses), in chunks run JOBS at a time (default: nproc).
# Builds sim_runner in BUILD (default build-soak) unless RUNNER names an existing
# sim_runner binary. Every run prints its seed; the
# full log goes to LOG (default BUILD/sim-soak.log). Exits 1 if any run failed and
# prints the commands that replay the failures.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-${SEEDS:-2000}}
START=${START:-100000}
JOBS=${JOBS:-$(nproc)}
BUILD=${BUILD:-build-soak}
CHUNK=${CHUNK:-250}
LOG=${LOG:-$BUILD/sim-soak.log}
mkdir -p "$(dirname "$LOG")"

if [ -z "${RUNNER:-}" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" --target sim_runner -j"$JOBS" >/dev/null
  RUNNER="$BUILD/tests/sim/sim_runner"
fi

mapfile -t CONFIGS < <("$RUNNER" --list | awk '{print $1}')
PER=$(( (SEEDS + ${#CONFIGS[@]} - 1) / ${#CONFIGS[@]} ))
JOBLIST=$(mktemp)
trap 'rm -f "$JOBLIST"' EXIT
for c in "${CONFIGS[@]}"; do
  s=$START
  end=$((START + PER))
  while [ "$s" -lt "$end" ]; do
    e=$((s + CHUNK)); [ "$e" -gt "$end" ] && e=$end
    echo "$c $s:$e" >>"$JOBLIST"
    s=$e
  done
done

echo "soak: $((PER * ${#CONFIGS[@]})) runs (${#CONFIGS[@]} configurations x $PER seeds from $START), $JOBS jobs, log $LOG"
t0=$(date +%s)
: >"$LOG"
export SOAK_LOG="$LOG"
xargs -P "$JOBS" -L 1 sh -c '"$0" --config "$1" --seeds "$2" >"$SOAK_LOG.$1.$2" 2>&1 || true' \
  "$RUNNER" <"$JOBLIST"
# The per-chunk files keep parallel output from interleaving; gather them.
for f in "$LOG".*; do cat "$f" >>"$LOG"; rm -f "$f"; done
runs=$(grep -c '^seed=' "$LOG" || true)
ok=$(grep -c '^seed=.*: ok$' "$LOG" || true)
failed=$((runs - ok))
echo "soak: runs=$runs passed=$ok failed=$failed wall_s=$(( $(date +%s) - t0 ))"
if [ "$failed" -ne 0 ]; then
  grep -E '^(seed=.*FAIL|replay:)' "$LOG" | head -40
  exit 1
fi
