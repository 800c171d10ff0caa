#!/usr/bin/env bash
# Scenario (a): one validator on 127.0.0.1. Builds (release), starts a fresh
# one-validator network in a temp dir, runs the load generator against it,
# stops the node and prints the JSON result.
#   bench/run-solo.sh [COUNT] [BATCH] [CONNS]
# Environment: BUILD_DIR (default build-bench), API_THREADS (the node's HTTP
# threads, default 2 as `veche init` writes it).
# The node's HTTP server (libmicrohttpd thread pool) hands each connection to
# whichever of its threads accepts it first, and a batch is admitted on the
# thread that owns its connection; with as many connections as threads, two
# connections sometimes land on one thread and one core idles; 8 connections
# keep both threads busy (all 8 on one thread: p = 1/128). Each connection signs
# with its own registrar (loadgen sets them up before timing), because one
# signer's sequence numbers must commit within a window of 4,096
# (LEDGER_SEQ_WINDOW) and concurrent batches of one signer get reordered.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000} BATCH=${2:-1000} CONNS=${3:-8}
B=${BUILD_DIR:-build-bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)" --target veche loadgen >/dev/null
DIR=$(mktemp -d /tmp/veche-bench-XXXXXX)
PORT=$((20000 + RANDOM % 20000))
./"$B"/src/cli/veche init --dir "$DIR/net" --api-port "$PORT" >/dev/null
if [ -n "${API_THREADS:-}" ]; then
  sed -i "s/\"api_threads\": [0-9]*/\"api_threads\": $API_THREADS/" "$DIR/net/config.json"
fi
./"$B"/src/cli/veche start --dir "$DIR/net" >"$DIR/node.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
./"$B"/bench/loadgen/loadgen --node "127.0.0.1:$PORT" --key "$DIR/net/authority.key" \
  --count "$COUNT" --batch "$BATCH" --conns "$CONNS" --node-pid "$NODE"
