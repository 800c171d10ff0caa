#!/usr/bin/env bash
# Catch-up from genesis: a validator builds a chain of BLOCKS blocks (with TXS
# identity registrations spread over them, 0 for empty blocks), then a fresh
# observer that knows only the genesis file and the validator's address syncs
# it, verifying every certificate, block and state transition on the way.
# Prints the observer's sync rate; the validator stays up so the observer
# also follows new blocks, but it only makes one every hour once the chain is
# built, so the figure is pure catch-up.
#   bench/sync/run-sync.sh [BLOCKS] [TXS]
set -euo pipefail
cd "$(dirname "$0")/../.."
BLOCKS=${1:-100000} TXS=${2:-0}
B=${BUILD_DIR:-build-bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)" --target veche loadgen >/dev/null
V=./$B/src/cli/veche
DIR=$(mktemp -d /tmp/veche-sync-XXXXXX)
BASE=$((20000 + RANDOM % 30000))
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$DIR"; }
trap cleanup EXIT
height() { curl -sf "127.0.0.1:$1/v1/status" | sed -n 's/.*"height": *\([0-9]*\).*/\1/p'; }
wait_height() { # PORT HEIGHT TIMEOUT_S
  local end=$((SECONDS + $3))
  while [ "$(height "$1" || echo 0)" -lt "$2" ]; do
    [ $SECONDS -lt $end ] || { echo "timeout waiting for height $2 on :$1" >&2; exit 1; }
    sleep 0.5
  done
}
$V testnet --dir "$DIR/tn" --validators 1 --observers 0 --base-port "$BASE" --empty-block-ms 0 >/dev/null
$V start --dir "$DIR/tn/v0" >"$DIR/v0.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do curl -sf "127.0.0.1:$BASE/health" >/dev/null 2>&1 && break; sleep 0.1; done
T0=$SECONDS
if [ "$TXS" -gt 0 ]; then
  ./"$B"/bench/loadgen/loadgen --node "127.0.0.1:$BASE" --key "$DIR/tn/authority.key" \
    --count "$TXS" --batch 2000 --conns 2 >"$DIR/loadgen.json"
fi
wait_height "$BASE" "$BLOCKS" 36000
echo "chain built: $(height $BASE) blocks, $TXS txs, in $((SECONDS - T0)) s"
# The observer: genesis + the validator's address, and its own node key,
# which the validator (admitting only validators and p2p_allow) must know.
OBS=$((BASE + 1))
$V init-observer --dir "$DIR/obs" --genesis "$DIR/tn/genesis.json" --peer "127.0.0.1:$((BASE + 100))" \
  --api-port "$OBS" >/dev/null
OBSPK=$($V keys gen --out "$DIR/obs/node.key" | sed -n 's/.*"pk": "\([0-9a-f]*\)".*/\1/p')
# Freeze the chain: restart the validator with an hourly heartbeat, admitting the observer.
kill "${PIDS[0]}"; wait "${PIDS[0]}" || true
sed -i -e 's/"empty_block_ms": 0/"empty_block_ms": 3600000/' \
  -e "s/\"p2p_allow\": \[\]/\"p2p_allow\": [\"$OBSPK\"]/" "$DIR/tn/v0/config.json"
$V start --dir "$DIR/tn/v0" >>"$DIR/v0.log" 2>&1 & PIDS[0]=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$BASE/health" >/dev/null 2>&1 && break; sleep 0.1; done
TOP=$(height $BASE)
T1=$(date +%s.%N)
$V start --dir "$DIR/obs" >"$DIR/obs.log" 2>&1 & PIDS+=($!)
wait_height "$OBS" "$TOP" 36000
T2=$(date +%s.%N)
V_HASH=$(curl -sf "127.0.0.1:$BASE/v1/blocks/$TOP" | sed -n 's/.*"hash": *"\([0-9a-f]*\)".*/\1/p' | head -1)
O_HASH=$(curl -sf "127.0.0.1:$OBS/v1/blocks/$TOP" | sed -n 's/.*"hash": *"\([0-9a-f]*\)".*/\1/p' | head -1)
[ "$V_HASH" = "$O_HASH" ] || { echo "block $TOP differs: $V_HASH vs $O_HASH" >&2; exit 1; }
awk -v b="$TOP" -v t="$TXS" -v t1="$T1" -v t2="$T2" 'BEGIN { s = t2 - t1;
  printf "{\"scenario\": \"observer sync from genesis\", \"blocks\": %d, \"txs\": %d, \"seconds\": %.1f, \"blocks_per_s\": %.0f, \"txs_per_s\": %.0f, \"head_hash_equal\": true}\n", b, t, s, b / s, t / s }'
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
