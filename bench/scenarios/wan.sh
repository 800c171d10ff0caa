#!/usr/bin/env bash
# Scenario (c): 4 validators with an emulated wide-area delay between every
# pair (DELAY_MS one way, default 100), open loop at RATE tx/s for DURATION_S.
#   bench/scenarios/wan.sh [DELAY_MS] [RATE] [DURATION_S]        (default 100 1000 30)
# How the delay is made (WAN_MODE, default auto: netem if the kernel has it):
#   netem  each validator in its own network namespace, linked to a bridge by a
#          veth pair whose namespace end has `tc qdisc ... netem delay DELAY_MS`:
#          every packet a validator sends waits DELAY_MS (peer links, and the
#          API's answers to netload; requests to the API are not delayed);
#   relay  (when netem is missing, e.g. `Specified qdisc kind is unknown`) every
#          peer link goes through bench/wan/wanrelay, which holds every byte
#          DELAY_MS in each direction; validator i reaches validator j at
#          127.0.0.1:BASE+200+10i+j instead of BASE+100+j (config.json "peers").
#          The API is not delayed. The relay runs on the same cores as the nodes.
#   netns  the namespaces and bridge of netem mode without the delay (a check
#          of the plumbing on kernels without netem).
# MAX=1 adds a run as fast as accepted. Writes $RESULTS_DIR/wan-<DELAY>ms-<RATE>tps.{json,svg}.
source "$(dirname "$0")/lib.sh"
DELAY=${1:-100} RATE=${2:-1000} DURATION=${3:-30}
MODE=${WAN_MODE:-auto}
sc_build

netem_available() {
  local ns=vchk$$ ok=1
  ip netns add "$ns" 2>/dev/null || return 1
  ip netns exec "$ns" ip link set lo up 2>/dev/null || true
  if ip netns exec "$ns" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then ok=0; fi
  ip netns del "$ns"
  return $ok
}
if [ "$MODE" = auto ]; then
  if netem_available; then MODE=netem; else MODE=relay; fi
fi
sc_log "machine: $(sc_machine); delay mode: $MODE, $DELAY ms one way"

sc_testnet 4 0
NET=10.$((100 + RANDOM % 100)).$((RANDOM % 250))
setup_netns() { # DELAY or 0
  local br=vwb$$ i ns host peer
  ip link add "$br" type bridge && SC_LINKS+=("$br")
  ip addr add "$NET.254/24" dev "$br"
  ip link set "$br" up
  SC_HOSTS=()
  for i in 0 1 2 3; do
    ns=vw$$n$i host=vwh$$$i peer=vwp$$$i
    ip netns add "$ns" && SC_NETNS+=("$ns")
    ip link add "$host" type veth peer name "$peer" && SC_LINKS+=("$host")
    ip link set "$peer" netns "$ns"
    ip link set "$host" master "$br" up
    ip netns exec "$ns" ip addr add "$NET.$((i + 1))/24" dev "$peer"
    ip netns exec "$ns" ip link set "$peer" up
    ip netns exec "$ns" ip link set lo up
    [ "$1" -eq 0 ] || ip netns exec "$ns" tc qdisc add dev "$peer" root netem delay "${1}ms" limit 100000
    SC_HOSTS+=("$NET.$((i + 1))")
  done
  for i in 0 1 2 3; do
    local peers="[]" j
    for j in 0 1 2 3; do
      [ "$j" -eq "$i" ] || peers=$(echo "$peers" | jq --arg p "$NET.$((j + 1)):$((SC_BASE + 100 + j))" '. + [$p]')
    done
    jq --arg h "$NET.$((i + 1))" --argjson p "$peers" '.api_host = $h | .p2p_host = $h | .peers = $p' \
      "$SC_DIR/tn/v$i/config.json" >"$SC_DIR/c.json" && mv "$SC_DIR/c.json" "$SC_DIR/tn/v$i/config.json"
    sc_start "v$i" "$SC_DIR/tn/v$i" ip netns exec "vw$$n$i"
  done
}
setup_relay() {
  local i j maps=() lp
  for i in 0 1 2 3; do
    local peers="[]"
    for j in 0 1 2 3; do
      [ "$j" -ne "$i" ] || continue
      lp=$((SC_BASE + 200 + 10 * i + j))
      maps+=(--map "$lp:127.0.0.1:$((SC_BASE + 100 + j))")
      peers=$(echo "$peers" | jq --arg p "127.0.0.1:$lp" '. + [$p]')
    done
    jq --argjson p "$peers" '.peers = $p' "$SC_DIR/tn/v$i/config.json" >"$SC_DIR/c.json" &&
      mv "$SC_DIR/c.json" "$SC_DIR/tn/v$i/config.json"
  done
  "$WANRELAY" --delay-ms "$DELAY" "${maps[@]}" 2>"$SC_DIR/relay.log" &
  SC_PIDS+=($!)
  sc_start_all
}
case $MODE in
  netem) setup_netns "$DELAY" ;;
  netns) setup_netns 0 ;;
  relay) setup_relay ;;
  *) echo "WAN_MODE must be auto, netem, relay or netns" >&2; exit 2 ;;
esac
[ -z "${SC_HOSTS+x}" ] || sc_api() { echo "${SC_HOSTS[$1]}:$((SC_BASE + $1))"; }
sc_wait_ready 90
NAME=wan-${DELAY}ms-${RATE}tps
[ "$MODE" = netem ] || [ "$MODE" = relay ] || NAME=wan-$MODE-${RATE}tps
LABEL="(c) 4 validators, $DELAY ms one way ($MODE)"
sc_run_netload "$NAME" --key "$SC_DIR/tn/authority.key" --nodes "$(sc_nodes_csv 0 4)" --validators 4 \
  --count $((RATE * DURATION)) --rate "$RATE" --conns 4 --label "$LABEL, open loop at $RATE tx/s"
jq --arg m "$MODE" --argjson d "$DELAY" '.wan = {mode: $m, one_way_delay_ms: $d}' "$RESULTS/$NAME.json" \
  >"$SC_DIR/r.json" && mv "$SC_DIR/r.json" "$RESULTS/$NAME.json"
if [ -n "${MAX:-}" ]; then
  sc_run_netload "$NAME-max" --key "$SC_DIR/tn/authority.key" --nodes "$(sc_nodes_csv 0 4)" --validators 4 \
    --count "${MAX_COUNT:-60000}" --batch 2000 --conns 2 --label "$LABEL, as fast as accepted"
fi
