#!/usr/bin/env bash
# Scenario (e): catch-up from genesis. A validator builds a chain (TXS
# transactions submitted by bench/netload as fast as accepted, and at least
# BLOCKS blocks), then a new observer that knows only the genesis file and the
# validator's address syncs it, checking every certificate, block, signature
# and state transition on the way. Reports the observer's verified tx/s and
# blocks/s, and achieved / ceiling (below).
#   bench/sync/run-sync.sh [BLOCKS] [TXS]            (default 0 1000000)
#   bench/sync/run-sync.sh 100000 0                  (100,000 empty blocks)
#   DOCS_PERCENT=100 bench/sync/run-sync.sh 0 1000000 (document registrations)
# DOCS_PERCENT=P (0..100, default 0): the share of document registrations in
# the chain (netload --docs-percent); the rest are identity registrations.
# CHAIN=DIR keeps the built chain in DIR and, when DIR already holds one, syncs
# that chain again instead of building it (building 1M txs takes minutes); a
# chain remembers its DOCS_PERCENT (DIR/docs_percent) and a mismatch stops.
#
# Ceiling: what the machine's cores can verify if they do nothing else. An
# identity registration needs two curve operations (its signature, and the
# prime-order subgroup check of the registered key), a document registration
# one, so for a chain with a share p of documents
#   ceiling = cores / (1/verify + (1 - p)/subgroup)
# with verify = Ed25519 tx verifications/s on one core and subgroup = subgroup
# checks of fresh keys/s on one core (`netload --measure-only`), measured just
# before the sync and again just after it (the machine is shared: both are in
# the result, and the ceiling is their mean). The validator is idle while the
# observer syncs.
# The observer commits blocks in groups while it is behind (config
# sync_group_blocks, default 16; src/node/node.c): the result gives its number
# of durable block commits (observer_durable_commits; null if the build has no
# such metric). BUILD_DIR (scenarios/lib.sh, default build-bench) is the build
# measured: set it to compare builds.
# OBSERVER_CONFIG='{"state_keep_blocks": 16}' merges config keys into the
# syncing observer's config.json only (here: a pruning observer, docs/operations.md);
# the result records it and its file name gets "-obs".
# Writes $RESULTS_DIR/sync-<TXS>tx[-docsP][-obs].json (and sync-build-*.{json,svg}).
source "$(dirname "$0")/../scenarios/lib.sh"
BLOCKS=${1:-0} TXS=${2:-1000000}
CHAIN=${CHAIN:-}
DOCS_PERCENT=${DOCS_PERCENT:-0}
[[ "$DOCS_PERCENT" =~ ^[0-9]+$ ]] && [ "$DOCS_PERCENT" -le 100 ] || { echo "DOCS_PERCENT must be 0..100" >&2; exit 2; }
SUFFIX=$([ "$DOCS_PERCENT" -gt 0 ] && echo "-docs$DOCS_PERCENT" || true)
OBSERVER_CONFIG=${OBSERVER_CONFIG:-}
if [ -n "$OBSERVER_CONFIG" ]; then
  jq -e 'type == "object"' <<<"$OBSERVER_CONFIG" >/dev/null || { echo "OBSERVER_CONFIG must be a JSON object" >&2; exit 2; }
  SUFFIX+=-obs
fi
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
    sc_run_netload "sync-build-${TXS}tx$SUFFIX" --key "$SC_DIR/tn/authority.key" --nodes "$(sc_api 0)" --validators 1 \
      --count "$TXS" --batch 2000 --conns 8 --wait-s 1800 --docs-percent "$DOCS_PERCENT" \
      --label "(e) building the chain: $TXS txs ($DOCS_PERCENT% documents), one validator"
  fi
  wait_height "$(sc_api 0)" "$BLOCKS" 36000
  sc_log "chain built: $(height "$(sc_api 0)") blocks, $TXS txs, in $((SECONDS - t0)) s"
  sc_stop_nodes
  if [ -n "$CHAIN" ]; then
    mkdir -p "$CHAIN" && cp -a "$SC_DIR/tn" "$CHAIN/" && echo "$SC_BASE" >"$CHAIN/base"
    echo "$DOCS_PERCENT" >"$CHAIN/docs_percent"
  fi
}

if [ -n "$CHAIN" ] && [ -d "$CHAIN/tn" ]; then
  sc_log "reusing the chain in $CHAIN"
  [ "$(cat "$CHAIN/docs_percent" 2>/dev/null || echo 0)" = "$DOCS_PERCENT" ] ||
    { echo "$CHAIN was built with DOCS_PERCENT=$(cat "$CHAIN/docs_percent" 2>/dev/null || echo 0)" >&2; exit 2; }
  cp -a "$CHAIN/tn" "$SC_DIR/"
  SC_BASE=$(cat "$CHAIN/base") SC_NV=1 SC_NO=1
  rm -rf "$SC_DIR/tn/o0/data"
else
  build_chain
fi
if [ -n "$OBSERVER_CONFIG" ]; then
  jq --argjson o "$OBSERVER_CONFIG" '. + $o' "$SC_DIR/tn/o0/config.json" >"$SC_DIR/c.json" &&
    mv "$SC_DIR/c.json" "$SC_DIR/tn/o0/config.json"
fi
# Freeze the chain (one heartbeat an hour), so the figure is pure catch-up.
jq '.empty_block_ms = 3600000' "$SC_DIR/tn/v0/config.json" >"$SC_DIR/c.json" && mv "$SC_DIR/c.json" "$SC_DIR/tn/v0/config.json"
sc_start v0 "$SC_DIR/tn/v0"
SC_NO=0 sc_wait_ready
TOP=$(height "$(sc_api 0)")
LIMIT1=$("$NETLOAD" --measure-only)
sc_cpu_mark
T1=$(date +%s.%N)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
sc_start o0 "$SC_DIR/tn/o0"
SC_CPU0+=(0)
sc_profile_start
wait_height "$(sc_api 1)" "$TOP" 36000
T2=$(date +%s.%N)
LOAD2=$(cut -d' ' -f1-3 /proc/loadavg)
sc_profile_stop "$RESULTS/sync-${TXS}tx$SUFFIX-profile.txt"
sc_cpu_report
LIMIT2=$("$NETLOAD" --measure-only)
V_HASH=$(curl -sf "http://$(sc_api 0)/v1/blocks/$TOP" | jq -r .header.hash)
O_HASH=$(curl -sf "http://$(sc_api 1)/v1/blocks/$TOP" | jq -r .header.hash)
[ "$V_HASH" = "$O_HASH" ] || { echo "block $TOP differs: $V_HASH vs $O_HASH" >&2; exit 1; }
# Durable block commits of the observer (group commit), before it stops.
O_METRICS=$(curl -sf --max-time 5 "http://$(sc_api 1)/metrics" || true)
O_COMMITS=$(awk '$1 == "veche_store_block_commits_total" {print $2}' <<<"$O_METRICS")
O_PRUNED=$(awk '$1 == "veche_state_pruned_entries_total" {print $2}' <<<"$O_METRICS")
# The observer's own account of its pre-checks (logged at stop, if it has them).
sc_stop_nodes
O_DISK=$(du -sb "$SC_DIR/tn/o0/data" | cut -f1)
POOL=$(grep -ho 'verify pool: .*' "$SC_DIR/tn/o0/node.log" | tail -1 || true)
jq -n --argjson b "$TOP" --argjson t "$TXS" --argjson t1 "$T1" --argjson t2 "$T2" --arg cpu "$SC_CPU_LINE" --argjson cj "$SC_CPU_JSON" \
  --arg machine "$(sc_machine)" --argjson cores "$(nproc)" --argjson l1 "$LIMIT1" --argjson l2 "$LIMIT2" \
  --argjson p "$DOCS_PERCENT" --arg load1 "$LOAD1" --arg load2 "$LOAD2" --arg pool "$POOL" --arg oc "${O_COMMITS:-}" \
  --arg ocfg "${OBSERVER_CONFIG:-}" --arg opruned "${O_PRUNED:-}" --arg odisk "${O_DISK:-}" '
  def ceil(l): $cores / (1 / l.ed25519_tx_verify_per_s_per_core
                          + (1 - $p / 100) / l.key_subgroup_checks_per_s_per_core);
  ($t2 - $t1) as $s | ((ceil($l1) + ceil($l2)) / 2) as $ceil |
  {scenario: "(e) a new observer syncs and verifies the chain from genesis", blocks: $b, txs: $t,
   docs_percent: $p,
   seconds: ($s * 10 | round / 10), blocks_per_s: ($b / $s | round), txs_per_s: ($t / $s | round),
   ed25519_tx_verify_per_s_per_core: [$l1, $l2 | .ed25519_tx_verify_per_s_per_core | round],
   key_subgroup_checks_per_s_per_core: [$l1, $l2 | .key_subgroup_checks_per_s_per_core | round],
   ceiling_formula: "cores / (1/verify + (1 - docs_percent/100)/subgroup), mean of before and after",
   ceiling_tx_per_s_before_after: [ceil($l1), ceil($l2) | round],
   ceiling_tx_per_s: ($ceil | round),
   achieved_over_ceiling: (if $ceil > 0 then ($t / $s / $ceil * 1000 | round / 1000) else null end),
   head_hash_equal: true, load_average_start: $load1, load_average_end: $load2,
   observer_verify_pool: $pool,
   observer_durable_commits: (if $oc == "" then null else ($oc | tonumber) end),
   observer_config: (if $ocfg == "" then null else ($ocfg | fromjson) end),
   observer_state_pruned_entries: (if $opruned == "" then null else ($opruned | tonumber) end),
   observer_data_bytes: (if $odisk == "" then null else ($odisk | tonumber) end), cpu_during_sync: $cpu, machine: $machine,
   cpu: $cj}' | tee "$RESULTS/sync-${TXS}tx$SUFFIX.json"
