#!/usr/bin/env bash
# Scenario (e): a new observer syncs and verifies TXS committed transactions
# from genesis (bench/sync/run-sync.sh, which builds the chain first).
#   bench/scenarios/sync.sh [TXS]          (default 1000000)
# CHAIN=DIR keeps the built chain for later runs (see run-sync.sh).
exec "$(dirname "$0")/../sync/run-sync.sh" 0 "${1:-1000000}"
