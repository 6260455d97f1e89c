#!/usr/bin/env bash
# The collector-core benchmark (issue 2), side by side in one run on this
# machine: dump of 1M flows against a minimal libmnl dump and `conntrack -L`,
# memory per flow, and CPU per event in a 1M-flow create+delete storm
# against a minimal libmnl consumer. Prints a markdown table and writes it
# to $1 (default /tmp/core_bench.md).
#
# Needs root. Raises the global net.netfilter.nf_conntrack_max (writable
# only from the root namespace) for the run and restores it on exit. Flows
# live only in namespaces this script makes, and are never sent anywhere.
set -euo pipefail
out=${1:-/tmp/core_bench.md}
rounds=${ROUNDS:-3}
flows=${FLOWS:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
daemon=$build/collector/ctcollectd
inject=$build/tools/ctinject/ctinject
mindump=$build/tests/bench/mnl_min_dump
minev=$build/tests/bench/mnl_min_consumer
for b in "$daemon" "$inject" "$mindump" "$minev"; do
  [ -x "$b" ] || { echo "core_bench: missing $b (cmake --preset release && cmake --build build/release)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "core_bench: needs root" >&2; exit 1; }

old_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
nsd=ctbench-dump-$$
nss=ctbench-storm-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$nsd" 2>/dev/null || true
  ip netns del "$nss" 2>/dev/null || true
  echo "$old_max" > /proc/sys/net/netfilter/nf_conntrack_max
}
trap cleanup EXIT
echo $((flows * 2 + 100000)) > /proc/sys/net/netfilter/nf_conntrack_max
ip netns add "$nsd"
ip netns add "$nss"

port=$((20000 + $$ % 10000))
sock=/tmp/ctbench-$$.sock
metric() {  # NAME NETNS
  curl -s "127.0.0.1:$port/metrics" | awk -v n="$1" -v ns="$2" \
    'index($0, n "{netns=\"" ns "\"")==1 || index($0, n "{netns=\"" ns "\",")==1 {s+=$NF} END {printf "%.6f\n", s+0}'
}
start_daemon() {  # NETNS [extra flags]
  local ns=$1; shift
  "$daemon" --web.listen-address=127.0.0.1:$port --control.socket=$sock --netns="$ns" "$@" 2>/dev/null &
  dpid=$!
  pids+=("$dpid")
  for _ in $(seq 1 600); do
    curl -sf "127.0.0.1:$port/-/ready" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "core_bench: daemon not ready" >&2; exit 1
}
stop_daemon() { kill "$dpid"; wait "$dpid" 2>/dev/null || true; }
cpu_of() {  # PID -> utime+stime seconds
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f\n", ($14+$15)/hz}' "/proc/$1/stat"
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }

echo "== inject $flows flows" >&2
ip netns exec "$nsd" "$inject" create --count "$flows" --proto tcp --state ESTABLISHED --timeout 7200 --batch 512 --quiet >&2

# Memory baseline: the daemon on an empty namespace.
start_daemon "$nss" --resync-interval=1h
sleep 0.5
rss0=$(rss_kib "$dpid")
stop_daemon

md=(); cd=(); wall=(); ls=(); rss1=()
for r in $(seq 1 "$rounds"); do
  echo "== dump round $r" >&2
  md+=("$(ip netns exec "$nsd" "$mindump" | sed 's/.*seconds=//')")
  t0=$(now); start_daemon "$nsd" --resync-interval=1h; t1=$(now)
  cd+=("$(metric ctcollect_dump_duration_seconds "$nsd")")
  wall+=("$(echo "$t1 - $t0" | bc -l)")
  rss1+=("$(rss_kib "$dpid")")
  tb=$(metric ctcollect_flow_table_bytes "$nsd")
  te=$(metric ctcollect_flow_table_entries "$nsd")
  stop_daemon
  t0=$(now); ip netns exec "$nsd" conntrack -L >/dev/null 2>&1; t1=$(now)
  ls+=("$(echo "$t1 - $t0" | bc -l)")
done
md_med=$(printf '%s\n' "${md[@]}" | median)
cd_med=$(printf '%s\n' "${cd[@]}" | median)
wall_med=$(printf '%s\n' "${wall[@]}" | median)
ls_med=$(printf '%s\n' "${ls[@]}" | median)
rss1_med=$(printf '%s\n' "${rss1[@]}" | median)
ip netns exec "$nsd" conntrack -F >/dev/null 2>&1 || true

echo "== storms" >&2
dcpu=(); mcpu=(); dev=(); mev=(); dovr=(); menob=()
for r in $(seq 1 "$rounds"); do
  start_daemon "$nss" --resync-interval=1h
  c0=$(cpu_of "$dpid")
  ip netns exec "$nss" "$inject" storm --count "$flows" --proto tcp --batch 512 --quiet >&2
  sleep 1
  c1=$(cpu_of "$dpid")
  dcpu+=("$(echo "$c1 - $c0" | bc -l)")
  dev+=("$(metric conntrack_events_total "$nss")")
  dovr+=("$(metric ctcollect_netlink_overruns_total "$nss")")
  stop_daemon

  ip netns exec "$nss" "$minev" > /tmp/ctbench-min-$$.txt &
  mpid=$!; pids+=("$mpid")
  sleep 0.3
  ip netns exec "$nss" "$inject" storm --count "$flows" --proto tcp --batch 512 --quiet >&2
  sleep 1
  kill -INT "$mpid"; wait "$mpid" || true
  line=$(tail -1 /tmp/ctbench-min-$$.txt)
  mev+=("$(echo "$line" | sed 's/.*events=\([0-9]*\).*/\1/')")
  menob+=("$(echo "$line" | sed 's/.*enobufs=\([0-9]*\).*/\1/')")
  mcpu+=("$(echo "$line" | sed 's/.*cpu=//')")
done
rm -f /tmp/ctbench-min-$$.txt
expected=$((flows * 2))
dcpu_med=$(printf '%s\n' "${dcpu[@]}" | median)
mcpu_med=$(printf '%s\n' "${mcpu[@]}" | median)

{
  echo "| figure (median of $rounds, this machine, one run) | ctcollectd | reference | ratio |"
  echo "|---|---|---|---|"
  printf "| dump of %d flows, s (daemon's own timer) | %.3f | minimal libmnl dump %.3f | %.2fx |\n" "$flows" "$cd_med" "$md_med" "$(echo "$cd_med / $md_med" | bc -l)"
  printf "| start to ready with %d flows, s | %.3f | \`conntrack -L > /dev/null\` %.3f | conntrack -L is %.2fx slower than the dump |\n" "$flows" "$wall_med" "$ls_med" "$(echo "$ls_med / $cd_med" | bc -l)"
  printf "| RSS growth per flow, bytes (RSS at %d flows %d KiB - empty %d KiB) | %.1f | target 48 | |\n" "$flows" "$rss1_med" "$rss0" "$(echo "($rss1_med - $rss0) * 1024 / $flows" | bc -l)"
  printf "| flow table, bytes per flow | %.1f | | |\n" "$(echo "$tb / $te" | bc -l)"
  printf "| daemon RSS at %d flows, MiB | %.1f | target 80 | |\n" "$flows" "$(echo "$rss1_med / 1024" | bc -l)"
  printf "| storm of %d creates + deletes: events counted (of %d) | %s | minimal consumer %s | |\n" "$flows" "$expected" "$(printf '%s ' "${dev[@]}")" "$(printf '%s ' "${mev[@]}")"
  printf "| storm: overruns (ENOBUFS) | %s | minimal consumer %s | |\n" "$(printf '%s ' "${dovr[@]}")" "$(printf '%s ' "${menob[@]}")"
  printf "| storm: CPU s (median) | %.3f | minimal consumer %.3f | %.2fx |\n" "$dcpu_med" "$mcpu_med" "$(echo "$dcpu_med / $mcpu_med" | bc -l)"
  printf "| storm: CPU us per event | %.3f | minimal consumer %.3f | |\n" "$(echo "$dcpu_med * 1000000 / $expected" | bc -l)" "$(echo "$mcpu_med * 1000000 / $expected" | bc -l)"
} | tee "$out"
