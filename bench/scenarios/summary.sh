#!/usr/bin/env bash
# The figures of bench/scenarios/results (or RESULTS_DIR) against the issue's
# targets, as a Markdown table in summary.md. bench/scenarios/all.sh ends with it.
set -euo pipefail
cd "$(dirname "$0")"
RESULTS=${RESULTS_DIR:-$PWD/results}
row() { # NAME TARGET_TEXT JQ_FILTER FILE
  [ -f "$RESULTS/$4" ] || return 0
  printf '| %s | %s | %s |\n' "$1" "$(jq -r "$3" "$RESULTS/$4")" "$2"
}
lat='.result | "\(.committed_tx_per_s) tx/s committed, p50 \(.latency.p50_ms) ms, p99 \(.latency.p99_ms) ms; ceiling \(.ceiling_tx_per_s), achieved \(.achieved_over_ceiling)"'
{
  echo "Machine: $(nproc) cores, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed "s/^ //"); table written $(date -u +%Y-%m-%dT%H:%MZ) from the JSON files beside it"
  echo
  echo "| scenario | measured | target |"
  echo "|---|---|---|"
  row "(a) 1 validator, registrations" "≥ 30,000 tx/s" "$lat" solo.json
  row "(a) 1 validator, documents" "—" "$lat" solo-docs100.json
  row "(b) 4 validators + observer, max" "≥ 8,000 tx/s" "$lat" loopback-max.json
  row "(b) at half of that rate" "p50 < 150 ms, p99 < 500 ms" "$lat" loopback-half.json
  row "(b) documents, max" "—" "$lat" loopback-docs100-max.json
  row "(b) documents, half rate" "—" "$lat" loopback-docs100-half.json
  row "(c) 4 validators, 100 ms one way, 300 tx/s" "p50 < 600 ms" "(.wan.mode) as \$m | $lat + \" (\(\$m))\"" wan-100ms-300tps.json
  row "(c) 4 validators, 100 ms one way, 1000 tx/s" "p50 < 600 ms" "(.wan.mode) as \$m | $lat + \" (\(\$m))\"" wan-100ms-1000tps.json
  row "(e) observer sync from genesis" "≥ 25,000 tx/s" \
    '"\(.txs_per_s) verified tx/s (\(.blocks) blocks in \(.seconds) s); ceiling \(.ceiling_tx_per_s), achieved \(.achieved_over_ceiling)"' \
    sync-1000000tx.json
  for VOTERS in 50000 200000; do
    [ -f "$RESULTS/poll-$VOTERS.txt" ] || continue
    printf '| (d) poll, %s voters | %s; %s | — |\n' "$VOTERS" \
      "$(grep '^intake:' "$RESULTS/poll-$VOTERS.txt" | sed 's/^intake: //')" \
      "$(grep '^total:' "$RESULTS/poll-$VOTERS.txt" | sed 's/^total: //') in all"
  done
} | tee "$RESULTS/summary.md"
