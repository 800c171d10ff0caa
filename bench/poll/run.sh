#!/usr/bin/env bash
# A whole poll of VOTERS two-option ballots through a fresh one-validator node:
# registration, key generation (3 trustees, threshold 2), ballots (5% re-vote),
# close, threshold decryption, and `veche audit poll` against the node.
#   bench/poll/run.sh [VOTERS] [THREADS]        (default 200000 2)
# BUILD_DIR (default build-bench) is configured Release and built here.
set -euo pipefail
cd "$(dirname "$0")/../.."
VOTERS=${1:-200000} THREADS=${2:-2}
B=${BUILD_DIR:-build-bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 --target veche poll_bench >/dev/null
DIR=$(mktemp -d /tmp/veche-pollbench-XXXXXX)
PORT=$((20000 + RANDOM % 20000))
./"$B"/src/cli/veche init --dir "$DIR/net" --chain-id veche-bench-poll --api-port "$PORT" >/dev/null
# Room in the pool; blocks every 10 ms when idle, so the poll's phases (block
# heights) pass in seconds.
sed -i -e 's/"mempool_bytes_max": [0-9]*/"mempool_bytes_max": 1073741824/' \
       -e 's/"empty_block_ms": [0-9]*/"empty_block_ms": 10/' \
       -e 's/"api_threads": [0-9]*/"api_threads": 2/' "$DIR/net/config.json"
./"$B"/src/cli/veche start --dir "$DIR/net" >"$DIR/node.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
./"$B"/bench/poll/poll_bench --node "127.0.0.1:$PORT" --authority "$DIR/net/authority.key" \
  --genesis "$DIR/net/genesis.json" --veche "./$B/src/cli/veche" --voters "$VOTERS" --threads "$THREADS"
echo "node data: $(du -sh "$DIR/net/data" | cut -f1)"
