#!/usr/bin/env bash
# The cost of the top-talker rankings (issue 17), in one run:
#   storm: FLOWS creates + FLOWS deletes at full speed (ctinject storm)
#     against ctcollectd with the rankings (default), ctcollectd with
#     --top.enabled=false and mnl_min_consumer, ROUNDS times alternating,
#     for two kinds of table: ipv4 tcp (ctinject's tcp flows come from a
#     few sources, 17 per million) and ipv6 generic (one source per flow:
#     FLOWS distinct sources, the sketch's worst case). CPU seconds per
#     million events, events lost, overruns.
#   memory: FLOWS ipv6 generic flows (FLOWS distinct sources) in a
#     namespace; ctcollect_top_memory_bytes and the daemon's RSS with and
#     without the rankings.
#   api: GET /api/v1/top?by=src&limit=100 at FLOWS flows and at 10,000
#     (median of 20 each), beside /-/healthy (the HTTP path alone).
#
#   sudo tests/bench/top_bench.sh [OUT.md]     (default /tmp/top_bench.md)
#
# Environment: BUILD (default build/release), ROUNDS (3), FLOWS (1000000).
set -euo pipefail

out=${1:-/tmp/top_bench.md}
rounds=${ROUNDS:-3}
flows=${FLOWS:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
bench=top_bench
ns_prefix=cttop
tools=()
# shellcheck source=tests/bench/bench_lib.sh
. "$root/tests/bench/bench_lib.sh"

bench_setup
expected=$((flows * 2))

# ---------------------------------------------------------------- storms
declare -A cpu lost ovr
storm_one() {  # KIND ROUND WHO
  local kind=$1 who=$3 c
  if [ "$who" = min ]; then
    ip netns exec "$nss" "$minev" 33554432 >"$tmp/min.out" &
    local mpid=$!
    pids+=("$mpid")
    until grep -q '^ready' "$tmp/min.out"; do kill -0 "$mpid" || die "mnl_min_consumer exited"; nap 0.1; done
    c=$(storm_cpu "$mpid" "$nss")
    kill -INT "$mpid"
    wait "$mpid" || die "mnl_min_consumer failed"
    local line
    line=$(grep '^events=' "$tmp/min.out")
    lost[$kind.$who]+="$((expected - $(field events "$line"))) "
    ovr[$kind.$who]+="$(field enobufs "$line") "
  else
    if [ "$who" = on ]; then start_daemon "$nss"; else start_daemon "$nss" --top.enabled=false; fi
    c=$(storm_cpu "$dpid" "$nss")
    scrape
    local ev
    ev=$(fmt 0 "$(metric conntrack_events_total "$nss")")
    lost[$kind.$who]+="$((expected - ev)) "
    ovr[$kind.$who]+="$(fmt 0 "$(metric ctcollect_netlink_overruns_total "$nss")") "
    stop_daemon
  fi
  cpu[$kind.$who]+="$c "
  wait_ns_empty "$nss"
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for kind in tcp v6; do
  if [ "$kind" = tcp ]; then inject_family=ipv4 inject_proto=tcp; else inject_family=ipv6 inject_proto=253; fi
  for r in $(seq 1 "$rounds"); do
    for who in on off min; do
      log "storm $kind round $r/$rounds: $who"
      storm_one "$kind" "$r" "$who"
    done
  done
done

# ---------------------------------------------------------------- memory
inject_family=ipv6 inject_proto=253
log "inject $flows ipv6 flows, one source each, into $nsd"
line=$(run_inject "$nsd" create)
[ "$(field failed "$line")" = 0 ] || die "ctinject create failed: $line"
mem_on=() rss_on=() rss_off=() api_1m=() hz_1m=()
api() {  # PATH: seconds for one GET
  curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$1" || die "GET $1 failed"
}
api_med() {  # PATH
  local i t=()
  for i in $(seq 1 20); do t+=("$(api "$1")"); done
  med "${t[@]}"
}
for r in $(seq 1 "$rounds"); do
  log "memory round $r/$rounds"
  start_daemon "$nsd"
  nap 1
  scrape
  mem_on+=("$(metric ctcollect_top_memory_bytes "$nsd")")
  rss_on+=("$(rss_kib "$dpid")")
  api_1m+=("$(api_med "/api/v1/top?by=src&limit=100")")
  hz_1m+=("$(api_med "/-/healthy")")
  stop_daemon
  start_daemon "$nsd" --top.enabled=false
  nap 1
  rss_off+=("$(rss_kib "$dpid")")
  stop_daemon
done
ip netns exec "$nsd" conntrack -F >/dev/null 2>&1 || true
flows=10000
run_inject "$nsd" create >/dev/null
api_10k=() hz_10k=()
start_daemon "$nsd"
for r in $(seq 1 "$rounds"); do
  api_10k+=("$(api_med "/api/v1/top?by=src&limit=100")")
  hz_10k+=("$(api_med "/-/healthy")")
done
stop_daemon
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
per_m() { calc "$1 * 1000000 / $expected"; }
{
  echo "### Top-talker rankings ($(bench_stamp), $rounds rounds alternating, medians, storms of $expected events)"
  echo
  echo "| storm | rankings on | --top.enabled=false | minimal libmnl | on / off | on / minimal |"
  echo "|---|---|---|---|---|---|"
  for kind in tcp v6; do
    # shellcheck disable=SC2086
    on=$(per_m "$(med ${cpu[$kind.on]})") off=$(per_m "$(med ${cpu[$kind.off]})") mn=$(per_m "$(med ${cpu[$kind.min]})")
    label=$([ "$kind" = tcp ] && echo "ipv4 tcp, 17 sources" || echo "ipv6, $((expected / 2)) distinct sources")
    echo "| $label: CPU s per million events | $(fmt 3 "$on") | $(fmt 3 "$off") | $(fmt 3 "$mn") | $(fmt 2 "$(calc "$on / $off")")x | $(fmt 2 "$(calc "$on / $mn")")x |"
    echo "| $label: events lost, by round | ${lost[$kind.on]}| ${lost[$kind.off]}| ${lost[$kind.min]}| | |"
    echo "| $label: overruns, by round | ${ovr[$kind.on]}| ${ovr[$kind.off]}| ${ovr[$kind.min]}| | |"
  done
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| ctcollect_top_memory_bytes, $((expected / 2)) distinct sources (median) | $(fmt 0 "$(med "${mem_on[@]}")") ($(fmt 2 "$(calc "$(med "${mem_on[@]}") / 1048576")") MiB) |"
  echo "| RSS with / without rankings, $((expected / 2)) flows, MiB | $(fmt 1 "$(calc "$(med "${rss_on[@]}") / 1024")") / $(fmt 1 "$(calc "$(med "${rss_off[@]}") / 1024")") |"
  echo "| GET /api/v1/top?by=src&limit=100 at $((expected / 2)) / 10000 flows, ms | $(fmt 3 "$(calc "$(med "${api_1m[@]}") * 1000")") / $(fmt 3 "$(calc "$(med "${api_10k[@]}") * 1000")") |"
  echo "| GET /-/healthy at the same moments, ms | $(fmt 3 "$(calc "$(med "${hz_1m[@]}") * 1000")") / $(fmt 3 "$(calc "$(med "${hz_10k[@]}") * 1000")") |"
  echo
  echo "Per round CPU s: $(for k in tcp.on tcp.off tcp.min v6.on v6.off v6.min; do printf '%s: %s; ' "$k" "${cpu[$k]}"; done)"
  echo "memory bytes by round: ${mem_on[*]}; load average before / after: $load0 / $load1."
} >"$out"
cat "$out"
