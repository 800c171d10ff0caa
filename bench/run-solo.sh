#!/usr/bin/env bash
# Scenario (a): one validator on 127.0.0.1. Builds (release), starts a fresh
# one-validator network in a temp dir, runs the load generator against it,
# stops the node and prints the JSON result.
#   bench/run-solo.sh [COUNT] [BATCH] [CONNS]
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-200000} BATCH=${2:-2000} CONNS=${3:-2}
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target veche loadgen >/dev/null
DIR=$(mktemp -d /tmp/veche-bench-XXXXXX)
PORT=$((20000 + RANDOM % 20000))
./build-bench/src/cli/veche init --dir "$DIR/net" --api-port "$PORT" >/dev/null
./build-bench/src/cli/veche start --dir "$DIR/net" >"$DIR/node.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
./build-bench/bench/loadgen/loadgen --node "127.0.0.1:$PORT" --key "$DIR/net/authority.key" \
  --count "$COUNT" --batch "$BATCH" --conns "$CONNS"
