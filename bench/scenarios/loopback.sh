#!/usr/bin/env bash
# Scenario (b): 4 validators and 1 observer, each its own process, on loopback.
# Run 1: as fast as accepted (COUNT txs, spread over the 4 validators).
# Run 2: on a fresh network, open loop at half the steady rate of run 1 for
# DURATION_S seconds, for latency (p50/p95/p99 at the receiving validator; the
# observer's figures are in per_node).
#   bench/scenarios/loopback.sh [COUNT] [DURATION_S] [DOCS_PERCENT]   (default 120000 30 0)
# HALF_RATE=R skips run 1 and uses R. Writes $RESULTS_DIR/loopback-{max,half}.{json,svg}
# (loopback-docsP-* with documents).
source "$(dirname "$0")/lib.sh"
COUNT=${1:-120000} DURATION=${2:-30} DOCS=${3:-0}
sc_build
sc_log "machine: $(sc_machine)"

network() {
  sc_testnet 4 1
  [ -z "${API_THREADS:-}" ] || sc_config_all api_threads "$API_THREADS"
  sc_start_all
  sc_wait_ready
}
network_stop() { # the nodes; the next run gets a fresh network
  sc_stop_nodes
  rm -rf "$SC_DIR/tn"
}

NAME=loopback
[ "$DOCS" -eq 0 ] || NAME=loopback-docs$DOCS
if [ -z "${HALF_RATE:-}" ]; then
  network
  sc_run_netload "$NAME-max" --key "$SC_DIR/tn/authority.key" --nodes "$(sc_nodes_csv 0 4)" \
    --watch "$(sc_api 4)" --validators 4 --count "$COUNT" --batch 2000 --conns 2 --docs-percent "$DOCS" \
    --label "(b) 4 validators + 1 observer on loopback, as fast as accepted"
  HALF_RATE=$(jq -r '.result.steady_tx_per_s / 2 | floor' "$RESULTS/$NAME-max.json")
  network_stop
fi
network
sc_run_netload "$NAME-half" --key "$SC_DIR/tn/authority.key" --nodes "$(sc_nodes_csv 0 4)" \
  --watch "$(sc_api 4)" --validators 4 --count $((HALF_RATE * DURATION)) --rate "$HALF_RATE" --conns 4 \
  --docs-percent "$DOCS" --label "(b) 4 validators + 1 observer on loopback, open loop at $HALF_RATE tx/s"
