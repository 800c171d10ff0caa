#!/usr/bin/env bash
# Scenario (a): one validator on 127.0.0.1, identity registrations submitted as
# fast as the node accepts them, with submit-to-commit latency.
#   bench/scenarios/solo.sh [COUNT] [CONNS] [DOCS_PERCENT]      (default 200000 8 0)
# The node's HTTP pool hands each connection to one of its api_threads (2), and
# a batch is admitted on that thread: 8 connections keep both threads busy.
# Writes $RESULTS_DIR/solo.{json,svg} (solo-docsP.* with documents; and
# *-profile.txt with PROFILE=1).
source "$(dirname "$0")/lib.sh"
COUNT=${1:-200000} CONNS=${2:-8} DOCS=${3:-0}
sc_build
sc_testnet 1 0
[ -z "${API_THREADS:-}" ] || sc_config_all api_threads "$API_THREADS"
sc_start_all
sc_wait_ready
sc_log "machine: $(sc_machine)"
NAME=solo
[ "$DOCS" -eq 0 ] || NAME=solo-docs$DOCS
sc_run_netload "$NAME" --key "$SC_DIR/tn/authority.key" --nodes "$(sc_nodes_csv 0 1)" --validators 1 \
  --count "$COUNT" --batch 2000 --conns "$CONNS" --docs-percent "$DOCS" \
  --label "(a) one validator, as fast as accepted ($COUNT txs, $DOCS% documents)"
