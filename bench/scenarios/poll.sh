#!/usr/bin/env bash
# Scenario (d): a citizen poll of VOTERS two-option secret ballots through one
# validator, end to end: registration, key generation (3 trustees, threshold 2),
# ballots (5% re-vote), close, threshold decryption, `veche audit poll`.
# A wrapper of bench/poll/run.sh that adds the limit: ballot intake / (cores x
# ballots verified per second on one core, as poll_bench measures it in the run).
#   bench/scenarios/poll.sh [VOTERS] [THREADS]        (default 200000 2; ~13 min)
# Writes $RESULTS_DIR/poll-VOTERS.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
VOTERS=${1:-200000} THREADS=${2:-2}
RESULTS=${RESULTS_DIR:-bench/scenarios/results}
mkdir -p "$RESULTS"
OUT=$RESULTS/poll-$VOTERS.txt
BUILD_DIR=${BUILD_DIR:-build-bench} bench/poll/run.sh "$VOTERS" "$THREADS" | tee "$OUT"
VERIFY=$(sed -n 's/^verification: \([0-9]*\) ballots\/s.*/\1/p' "$OUT")
INTAKE=$(sed -n 's/^intake: .*: \([0-9]*\) ballots\/s$/\1/p' "$OUT")
if [ -n "$VERIFY" ] && [ -n "$INTAKE" ]; then
  echo "limit: ceiling $(nproc) cores x $VERIFY ballots verified/s = $(($(nproc) * VERIFY)) ballots/s;" \
    "intake $INTAKE ballots/s = $(echo "scale=2; $INTAKE / ($(nproc) * $VERIFY)" | bc) of the ceiling" | tee -a "$OUT"
fi
