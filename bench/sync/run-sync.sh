#!/usr/bin/env bash
# Scenario (e): catch-up from genesis. A validator builds a chain (TXS identity
# registrations submitted by bench/netload as fast as accepted, and at least
# BLOCKS blocks), then a new observer that knows only the genesis file and the
# validator's address syncs it, checking every certificate, block, signature
# and state transition on the way. Reports the observer's verified tx/s and
# blocks/s, and achieved / ceiling, where ceiling = cores x Ed25519 tx
# verifications/s on one core (`netload --measure-only`, just before the sync;
# the validator is idle while the observer syncs).
#   bench/sync/run-sync.sh [BLOCKS] [TXS]            (default 0 1000000)
#   bench/sync/run-sync.sh 100000 0                  (100,000 empty blocks)
# CHAIN=DIR keeps the built chain in DIR and, when DIR already holds one, syncs
# that chain again instead of building it (building 1M txs takes minutes).
# Writes $RESULTS_DIR/sync-<TXS>tx.json (and sync-build-<TXS>tx.{json,svg}).
source "$(dirname "$0")/../scenarios/lib.sh"
BLOCKS=${1:-0} TXS=${2:-1000000}
CHAIN=${CHAIN:-}
sc_build
sc_log "machine: $(sc_machine)"
height() { curl -sf --max-time 5 "http://$1/v1/status" | jq -r .height; }
wait_height() { # API HEIGHT TIMEOUT_S
  local end=$((SECONDS + $3))
  while [ "$(height "$1" || echo 0)" -lt "$2" ]; do
    [ $SECONDS -lt $end ] || { echo "timeout waiting for height $2 on $1" >&2; exit 1; }
    sleep 0.2
  done
}

build_chain() {
  # Empty blocks back to back for a chain of empty blocks; the usual heartbeat
  # (1 s) when the chain is built from transactions.
  sc_testnet 1 1 "$([ "$TXS" -gt 0 ] && echo 1000 || echo 0)"
  sc_start v0 "$SC_DIR/tn/v0"
  SC_NO=0 sc_wait_ready
  local t0=$SECONDS
  if [ "$TXS" -gt 0 ]; then
    sc_run_netload "sync-build-${TXS}tx" --key "$SC_DIR/tn/authority.key" --nodes "$(sc_api 0)" --validators 1 \
      --count "$TXS" --batch 2000 --conns 8 --wait-s 1800 --label "(e) building the chain: $TXS txs, one validator"
  fi
  wait_height "$(sc_api 0)" "$BLOCKS" 36000
  sc_log "chain built: $(height "$(sc_api 0)") blocks, $TXS txs, in $((SECONDS - t0)) s"
  sc_stop_nodes
  if [ -n "$CHAIN" ]; then mkdir -p "$CHAIN" && cp -a "$SC_DIR/tn" "$CHAIN/" && echo "$SC_BASE" >"$CHAIN/base"; fi
}

if [ -n "$CHAIN" ] && [ -d "$CHAIN/tn" ]; then
  sc_log "reusing the chain in $CHAIN"
  cp -a "$CHAIN/tn" "$SC_DIR/"
  SC_BASE=$(cat "$CHAIN/base") SC_NV=1 SC_NO=1
  rm -rf "$SC_DIR/tn/o0/data"
else
  build_chain
fi
# Freeze the chain (one heartbeat an hour), so the figure is pure catch-up.
jq '.empty_block_ms = 3600000' "$SC_DIR/tn/v0/config.json" >"$SC_DIR/c.json" && mv "$SC_DIR/c.json" "$SC_DIR/tn/v0/config.json"
sc_start v0 "$SC_DIR/tn/v0"
SC_NO=0 sc_wait_ready
TOP=$(height "$(sc_api 0)")
VERIFY=$("$NETLOAD" --measure-only | jq .ed25519_tx_verify_per_s_per_core)
sc_cpu_mark
T1=$(date +%s.%N)
sc_start o0 "$SC_DIR/tn/o0"
SC_CPU0+=(0)
sc_profile_start
wait_height "$(sc_api 1)" "$TOP" 36000
T2=$(date +%s.%N)
sc_profile_stop "$RESULTS/sync-${TXS}tx-profile.txt"
sc_cpu_report
V_HASH=$(curl -sf "http://$(sc_api 0)/v1/blocks/$TOP" | jq -r .header.hash)
O_HASH=$(curl -sf "http://$(sc_api 1)/v1/blocks/$TOP" | jq -r .header.hash)
[ "$V_HASH" = "$O_HASH" ] || { echo "block $TOP differs: $V_HASH vs $O_HASH" >&2; exit 1; }
jq -n --argjson b "$TOP" --argjson t "$TXS" --argjson t1 "$T1" --argjson t2 "$T2" --arg cpu "$SC_CPU_LINE" --argjson cj "$SC_CPU_JSON" \
  --arg machine "$(sc_machine)" --argjson cores "$(nproc)" --argjson v "${VERIFY:-0}" '
  ($t2 - $t1) as $s | ($cores * $v) as $ceil |
  {scenario: "(e) a new observer syncs and verifies the chain from genesis", blocks: $b, txs: $t,
   seconds: ($s * 10 | round / 10), blocks_per_s: ($b / $s | round), txs_per_s: ($t / $s | round),
   ed25519_tx_verify_per_s_per_core: ($v | round), ceiling_tx_per_s: ($ceil | round),
   achieved_over_ceiling: (if $ceil > 0 then ($t / $s / $ceil * 1000 | round / 1000) else null end),
   head_hash_equal: true, cpu_during_sync: $cpu, machine: $machine,
   cpu: $cj}' | tee "$RESULTS/sync-${TXS}tx.json"
