#!/usr/bin/env bash
# Every scenario once, in sequence, then one summary table (summary.md) of the
# figures against the issue's targets.
#   bench/scenarios/all.sh [quick|full]
# quick (default, ~20 min on 2 cores): solo 200,000 txs; loopback 120,000 txs
#   then 30 s at half rate; wan 100 ms at 1,000 tx/s for 30 s; poll 50,000
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
step ./wan.sh 100 1000 30
step ./poll.sh "$VOTERS" 2
step ./sync.sh 1000000

# ---- summary ----
row() { # NAME TARGET_TEXT JQ_FILTER FILE
  [ -f "$RESULTS/$4" ] || return 0
  printf '| %s | %s | %s |\n' "$1" "$(jq -r "$3" "$RESULTS/$4")" "$2"
}
lat='.result | "\(.committed_tx_per_s) tx/s committed, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms; ceiling \(.ceiling_tx_per_s), achieved \(.achieved_over_ceiling)"'
{
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); finished $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "| scenario | measured | target |"
  echo "|---|---|---|"
  row "(a) 1 validator, registrations" "≥ 30,000 tx/s" "$lat" solo.json
  row "(a) 1 validator, documents" "—" "$lat" solo-docs100.json
  row "(b) 4 validators + observer, max" "≥ 8,000 tx/s" "$lat" loopback-max.json
  row "(b) at half of that rate" "p50 < 150 ms, p99 < 500 ms" "$lat" loopback-half.json
  row "(b) documents, max" "—" "$lat" loopback-docs100-max.json
  row "(b) documents, half rate" "—" "$lat" loopback-docs100-half.json
  row "(c) 4 validators, 100 ms one way" "p50 < 600 ms" "(.wan.mode) as \$m | $lat + \" (\(\$m))\"" wan-100ms.json
  row "(e) observer sync from genesis" "≥ 25,000 tx/s" \
    '"\(.txs_per_s) verified tx/s (\(.blocks) blocks in \(.seconds) s); ceiling \(.ceiling_tx_per_s), achieved \(.achieved_over_ceiling)"' \
    sync-1000000tx.json
  if [ -f "$RESULTS/poll-$VOTERS.txt" ]; then
    printf '| (d) poll, %s voters | %s; %s | — |\n' "$VOTERS" \
      "$(grep '^intake:' "$RESULTS/poll-$VOTERS.txt" | sed 's/^intake: //')" \
      "$(grep '^total:' "$RESULTS/poll-$VOTERS.txt" | sed 's/^total: //') in all"
  fi
} | tee "$RESULTS/summary.md"
