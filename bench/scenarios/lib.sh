# bench/scenarios/lib.sh — shared by the scenario scripts (sourced, not run).
#
# Builds the node and the bench tools (Release), makes a throw-away network
# under /tmp, starts its nodes as separate processes, and stops every process
# it started on exit (trap), whatever happened. Also: the machine's
# description, per-process CPU time over a run (from /proc), and an optional
# perf profile of the nodes (PROFILE=1).
#
# Environment: BUILD_DIR (default build-bench), RESULTS_DIR (default
# bench/scenarios/results), KEEP=1 keeps the temp dir, PROFILE=1 records a
# perf profile of the nodes during the measured run, NODE_CONFIG (a JSON
# object merged into every node's config.json), NETLOAD_ARGS (extra netload
# options, e.g. --raw).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
B=${BUILD_DIR:-build-bench}
RESULTS=${RESULTS_DIR:-bench/scenarios/results}
V=./$B/src/cli/veche
NETLOAD=./$B/bench/netload/netload
WANRELAY=./$B/bench/wan/wanrelay
SC_DIR=$(mktemp -d /tmp/veche-scn-XXXXXX)
SC_PIDS=()          # every background process we started
SC_NODE_PIDS=()     # the nodes, in node order (v0.., o0..)
SC_NODE_NAMES=()
SC_NETNS=()         # network namespaces we created (wan.sh)
SC_LINKS=()         # links we created in the root namespace (wan.sh)
mkdir -p "$RESULTS"

sc_cleanup() {
  local p
  for p in "${SC_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SC_PIDS[@]}"; do
    # bounded wait, then SIGKILL: a stuck node must not outlive the script
    for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for p in "${SC_LINKS[@]}"; do ip link del "$p" 2>/dev/null || true; done
  for p in "${SC_NETNS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept $SC_DIR" >&2; else rm -rf "$SC_DIR"; fi
}
trap sc_cleanup EXIT
trap 'exit 130' INT TERM

# sc_forget PID: a process we waited for leaves SC_PIDS (its number may be reused).
sc_forget() {
  local p keep=()
  for p in "${SC_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  SC_PIDS=("${keep[@]}")
}

# sc_stop_nodes: stops every node (SIGTERM, bounded wait, SIGKILL) and forgets them.
sc_stop_nodes() {
  local p
  for p in "${SC_NODE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SC_NODE_PIDS[@]}"; do
    for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    sc_forget "$p"
  done
  SC_NODE_PIDS=() SC_NODE_NAMES=()
}

sc_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

sc_build() {
  cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$B" -j2 --target veche netload wanrelay "$@" >/dev/null
}

sc_machine() {
  printf '%s cores, %s, %s RAM; load %s' "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
    "$(free -g | awk '/Mem:/ {print $2 " GiB"}')" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# A base port with BASE..BASE+299 free (API base+k, p2p base+100+k, relays base+200+).
sc_pick_base() {
  local base used
  used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for _ in $(seq 50); do
    base=$((20000 + (RANDOM % 125) * 100)) # below the ephemeral range (32768+)
    if ! echo "$used" | awk -v b="$base" '$1 >= b && $1 <= b + 299 {f = 1} END {exit !f}'; then
      echo "$base"
      return
    fi
  done
  echo "$base"
}

# sc_testnet NV NO [EMPTY_BLOCK_MS]: writes $SC_DIR/tn; sets SC_BASE, SC_NV, SC_NO.
sc_testnet() {
  SC_NV=$1 SC_NO=$2
  SC_BASE=$(sc_pick_base)
  $V testnet --dir "$SC_DIR/tn" --validators "$SC_NV" --observers "$SC_NO" --base-port "$SC_BASE" \
    --empty-block-ms "${3:-1000}" >/dev/null
  # NODE_CONFIG='{"block_fill_ms": 0}' overrides config keys on every node.
  if [ -n "${NODE_CONFIG:-}" ]; then
    local d
    for d in $(sc_node_dirs); do
      jq --argjson o "$NODE_CONFIG" '. + $o' "$d/config.json" >"$d/config.tmp" && mv "$d/config.tmp" "$d/config.json"
    done
  fi
}

sc_node_dirs() {
  local i
  for ((i = 0; i < SC_NV; i++)); do echo "$SC_DIR/tn/v$i"; done
  for ((i = 0; i < SC_NO; i++)); do echo "$SC_DIR/tn/o$i"; done
}

# sc_config_all KEY JSON_VALUE: sets a config.json key on every node.
sc_config_all() {
  local d
  for d in $(sc_node_dirs); do
    jq --argjson v "$2" ".$1 = \$v" "$d/config.json" >"$d/config.tmp" && mv "$d/config.tmp" "$d/config.json"
  done
}

# sc_start NAME DIR [PREFIX...]: starts one node (PREFIX e.g. "ip netns exec ns").
sc_start() {
  local name=$1 dir=$2
  shift 2
  "$@" "$V" start --dir "$dir" >"$dir/node.log" 2>&1 &
  SC_PIDS+=($!)
  SC_NODE_PIDS+=($!)
  SC_NODE_NAMES+=("$name")
}

sc_start_all() {
  local i
  for ((i = 0; i < SC_NV; i++)); do sc_start "v$i" "$SC_DIR/tn/v$i"; done
  for ((i = 0; i < SC_NO; i++)); do sc_start "o$i" "$SC_DIR/tn/o$i"; done
}

sc_api() { echo "${SC_API_HOST:-127.0.0.1}:$((SC_BASE + $1))"; }

sc_status() { curl -sf --max-time 2 "http://$(sc_api "$1")/v1/status"; }

# Every node answers and every validator sees the other validators.
sc_wait_ready() {
  local i n=$((SC_NV + SC_NO)) want=$((SC_NV - 1)) end=$((SECONDS + ${1:-60}))
  for ((i = 0; i < n; i++)); do
    while :; do
      local st peers
      st=$(sc_status "$i" || true)
      peers=$(echo "$st" | jq -r '.peers // -1' 2>/dev/null || echo -1)
      if [ -n "$st" ] && { [ "$i" -ge "$SC_NV" ] || [ "$peers" -ge "$want" ]; }; then break; fi
      [ $SECONDS -lt $end ] || { echo "node $i not ready: $st" >&2; tail -5 "$SC_DIR"/tn/*/node.log >&2; exit 1; }
      sleep 0.2
    done
  done
}

sc_nodes_csv() { # FIRST COUNT
  local i out=""
  for ((i = $1; i < $1 + $2; i++)); do out+="${out:+,}$(sc_api "$i")"; done
  echo "$out"
}

# ---- CPU accounting over a run ----
# sc_cpu_mark: remembers every node's CPU ticks and the machine's busy ticks.
sc_cpu_mark() {
  local p
  SC_CPU0=()
  for p in "${SC_NODE_PIDS[@]}"; do SC_CPU0+=("$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)"); done
  SC_MACH0=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
  SC_T0=$(date +%s.%N)
}

# sc_cpu_report: sets SC_CPU_LINE (per node: CPU seconds and share of one
# core; the machine's busy share; what processes other than the nodes used)
# and SC_CPU_JSON ({elapsed_s, nodes_s, others_s}). Run it in this shell, not
# in $(...), so the variables survive.
sc_cpu_report() {
  local hz t1 i p c1 sum=0 elapsed mach1 line
  hz=$(getconf CLK_TCK)
  t1=$(date +%s.%N)
  elapsed=$(echo "$t1 - $SC_T0" | bc -l)
  mach1=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
  line="cpu over $(printf %.1f "$elapsed") s:"
  for i in "${!SC_NODE_PIDS[@]}"; do
    p=${SC_NODE_PIDS[$i]}
    c1=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    local d=$((c1 - SC_CPU0[i]))
    sum=$((sum + d))
    line+=" ${SC_NODE_NAMES[$i]} $(echo "scale=2; $d / $hz" | bc)s ($(echo "scale=0; 100 * $d / $hz / $elapsed" | bc)%)"
  done
  local busy=$(( ${mach1% *} - ${SC_MACH0% *} )) idle=$(( ${mach1#* } - ${SC_MACH0#* } ))
  line+="; nodes $(echo "scale=2; $sum / $hz" | bc)s; machine busy $((100 * busy / (busy + idle)))% of $(nproc) cores"
  line+=" (everything else: $(echo "scale=2; ($busy - $sum) / $hz" | bc)s, incl. netload)"
  SC_CPU_LINE=$line
  SC_CPU_JSON=$(awk -v e="$elapsed" -v n="$sum" -v b="$busy" -v hz="$hz" -v c="$(nproc)" 'BEGIN {
    printf "{\"elapsed_s\": %.1f, \"nodes_s\": %.2f, \"others_s\": %.2f, \"cores\": %d}", e, n / hz, (b - n) / hz, c }')
}

# ---- optional profile of the nodes (PROFILE=1) ----
sc_profile_start() { # OUTFILE
  [ -n "${PROFILE:-}" ] || return 0
  local pids
  pids=$(IFS=,; echo "${SC_NODE_PIDS[*]}")
  perf record -F 199 -o "$SC_DIR/perf.data" -p "$pids" >/dev/null 2>&1 &
  SC_PERF=$!
  SC_PIDS+=($SC_PERF)
}

sc_profile_stop() { # OUTFILE (a text summary: by library, then top symbols)
  [ -n "${PROFILE:-}" ] || return 0
  kill -INT "$SC_PERF" 2>/dev/null || true
  wait "$SC_PERF" 2>/dev/null || true
  sc_forget "$SC_PERF"
  {
    echo "# perf record -F 199 -p <every node> during the timed run; self time by library, then by symbol"
    echo "# (libsodium ships without symbols: its lines are the Ed25519 and hash code)"
    perf report -i "$SC_DIR/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -12 || true
    echo
    perf report -i "$SC_DIR/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | grep -v ' 0x0000' | head -30 || true
  } >"$1"
  sc_log "profile summary in $1"
}

# sc_summary JSON: one line from a netload result.
sc_summary() {
  jq -r '.result | "committed \(.committed)/\(.accepted) at \(.committed_tx_per_s) tx/s (steady \(.steady_tx_per_s)); latency p50 \(.latency.p50_ms) ms, p95 \(.latency.p95_ms) ms, p99 \(.latency.p99_ms) ms; ceiling \(.ceiling_tx_per_s) tx/s, achieved/ceiling \(.achieved_over_ceiling)"' "$1"
}

# sc_run_netload NAME ARGS...: runs netload (JSON to $RESULTS/NAME.json, chart
# to $RESULTS/NAME.svg); CPU accounting and the optional profile cover the
# timed part only (from netload's "submitting" line to its exit).
sc_run_netload() {
  local name=$1
  shift
  local err="$SC_DIR/$name.netload.log"
  # NETLOAD_ARGS: extra netload options for every run, e.g. --raw.
  # shellcheck disable=SC2086
  "$NETLOAD" --out "$RESULTS/$name.json" --svg "$RESULTS/$name.svg" "$@" ${NETLOAD_ARGS:-} 2>"$err" &
  local pid=$!
  SC_PIDS+=($pid)
  while kill -0 "$pid" 2>/dev/null && ! grep -qs "submitting" "$err"; do sleep 0.05; done
  sc_cpu_mark
  sc_profile_start
  local rc=0
  wait "$pid" || rc=$?
  sc_forget "$pid"
  sc_cpu_report
  sc_profile_stop "$RESULTS/$name-profile.txt"
  cat "$err" >&2
  [ -s "$RESULTS/$name.json" ] || { echo "netload produced no result (exit $rc)" >&2; exit 1; }
  # tx per CPU-second of the nodes: what the run would give if the nodes had
  # every core to themselves, on a machine shared with other work.
  jq --arg cpu "$SC_CPU_LINE" --argjson c "$SC_CPU_JSON" --arg machine "$(sc_machine)" \
    '.cpu_during_run = $cpu | .cpu = $c | .machine.described = $machine
     | .cpu.tx_per_node_cpu_s = (if $c.nodes_s > 0 then (.result.committed / $c.nodes_s | round) else null end)
     | .cpu.projected_tx_per_s_on_idle_cores = (if $c.nodes_s > 0 then (.result.committed / $c.nodes_s * $c.cores | round) else null end)' \
    "$RESULTS/$name.json" >"$SC_DIR/r.json" && mv "$SC_DIR/r.json" "$RESULTS/$name.json"
  echo "$name: $(sc_summary "$RESULTS/$name.json")"
  echo "$name: $SC_CPU_LINE"
  echo "$name: $(jq -r '.cpu | "\(.tx_per_node_cpu_s) tx per CPU-second of the nodes; \(.projected_tx_per_s_on_idle_cores) tx/s if they had the \(.cores) cores to themselves"' "$RESULTS/$name.json")"
  [ $rc -eq 0 ] || echo "$name: WARNING: not every submitted tx was seen committed (netload exit $rc)"
}
