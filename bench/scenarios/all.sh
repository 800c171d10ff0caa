#!/usr/bin/env bash
# Every scenario once, in sequence, then one summary table (summary.md) of the
# figures against the issue's targets.
#   bench/scenarios/all.sh [quick|full]
# quick (default, ~20 min on 2 cores): solo 200,000 txs; loopback 120,000 txs
#   then 30 s at half rate; wan 100 ms at 300 and 1,000 tx/s for 30 s; poll 50,000
#   voters; sync 1,000,000 txs; plus solo and loopback with document
#   registrations (one signature per tx instead of two curve operations).
# full: the poll with 200,000 voters (~13 min more).
# PROFILE=1 adds perf summaries of the nodes; RESULTS_DIR as in lib.sh.
set -euo pipefail
cd "$(dirname "$0")"
MODE=${1:-quick}
RESULTS=${RESULTS_DIR:-$PWD/results}
export RESULTS_DIR=$RESULTS
mkdir -p "$RESULTS"
VOTERS=50000
[ "$MODE" = full ] && VOTERS=200000
step() { echo "=== $* ($(date +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2; "$@"; }
step ./solo.sh 200000 8 0
step ./solo.sh 200000 8 100
step ./loopback.sh 120000 30 0
step ./loopback.sh 120000 30 100
step ./wan.sh 100 300 30
step ./wan.sh 100 1000 30
step ./poll.sh "$VOTERS" 2
step ./sync.sh 1000000

./summary.sh
