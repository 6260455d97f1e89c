#!/usr/bin/env bash
# The namespace-scale benchmark of issue 16: many namespaces with a few
# flows each, and one busy namespace among them, in one run, against the
# design before the ingest pool (OLD_BUILD: a build of an earlier commit,
# one thread pair per --netns namespace).
#
#   sudo OLD_BUILD=/path/to/old/build tests/bench/netns_bench.sh [OUT.md]
#
#   a. scale: NAMESPACES (1000) namespaces made with `ip netns add`, FEW (3)
#      udp flows injected into each. For each setup: start to /-/ready
#      (wall), then after a settle threads, open fds and VmRSS of the
#      daemon, its CPU over one minute at the default 60 s resync (idle
#      namespaces, resyncs spread over the interval), /metrics bytes and
#      scrape time (median of 5, curl), series of one of the namespaces:
#        new --netns.discover over all NAMESPACES (summary series),
#        new with a --netns list of NAMED (100) of them,
#        old with the same --netns list.
#   b. storm: STORM (1000000) creates + STORM deletes at full speed into one
#      namespace, ROUNDS (3) times alternating: mnl_min_consumer, the old
#      daemon (--netns that one), the new daemon (--netns that one), and
#      the new daemon with --netns.discover while the NAMESPACES idle ones
#      exist: CPU per event against the minimal consumer's, events
#      counted, overruns.
#
# Environment: BUILD (new, default build/release), OLD_BUILD (required).
# Needs root. Raises nf_conntrack_max for the storm and restores it; every
# namespace is made and deleted by this script; nothing leaves them.
set -euo pipefail

out=${1:-/tmp/netns_bench.md}
rounds=${ROUNDS:-3}
flows=${STORM:-1000000}
nnamespaces=${NAMESPACES:-1000}
named=${NAMED:-100}
few=${FEW:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
old_build=${OLD_BUILD:?set OLD_BUILD to a build of the commit to compare with}
bench=netns_bench
ns_prefix=ctnsb
tools=()
# shellcheck source=tests/bench/bench_lib.sh
. "$root/tests/bench/bench_lib.sh"
new_daemon=$daemon
old_daemon=$old_build/daemon/ctcollectd
[ -x "$old_daemon" ] || die "missing $old_daemon"
old_commit=$(git -C "$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$old_build/CMakeCache.txt")" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

many=()
cleanup_many() {
  for n in "${many[@]}"; do ip netns del "$n" 2>/dev/null; done
}
trap 'rc=$?; cleanup_many; (exit $rc); cleanup' EXIT
bench_setup

# ---------------------------------------------------------------- set-up
log "making $nnamespaces namespaces with $few flows each"
for i in $(seq 1 "$nnamespaces"); do
  n=$ns_prefix-m-$$-$i
  ip netns add "$n"
  many+=("$n")
  ip netns exec "$n" "$inject" create --count "$few" --proto udp --timeout 3600 --quiet >/dev/null
done

fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
series_of() { grep -c "netns=\"$1\"" "$tmp/metrics" || true; }
scrape_s() {  # median of 5 scrapes' total time
  local t=()
  for _ in 1 2 3 4 5; do
    t+=("$(curl -sf -o "$tmp/metrics" -w '%{time_total}' "http://127.0.0.1:$port/metrics")")
  done
  med "${t[@]}"
}

# One setup: DAEMON NETNS|- [FLAGS...]; prints a table row.
scale_row() {
  local what=$1 bin=$2 ns=$3 t0 ready_s c0 c1 idle_label
  shift 3
  daemon=$bin
  t0=$(now)
  start_daemon "$ns" "$@" --resync-interval=60s
  ready_s=$(calc "$(now) - $t0")
  nap 5
  c0=$(cpu_s "$dpid")
  nap 60
  c1=$(cpu_s "$dpid")
  local th fd rss sc bytes
  th=$(threads "$dpid")
  fd=$(fds "$dpid")
  rss=$(rss_kib "$dpid")
  sc=$(scrape_s)
  bytes=$(wc -c <"$tmp/metrics")
  idle_label=${many[$((${#many[@]} - 1))]}
  [ "$ns" = - ] || idle_label=${many[0]}
  local watched
  watched=$(grep -c '^ctcollect_resyncs_total{.*reason="startup"}' "$tmp/metrics" || true)
  stop_daemon
  echo "| $what | $watched | $(fmt 2 "$ready_s") | $th | $fd | $(fmt 1 "$(calc "$rss / 1024")") | $(fmt 2 "$(calc "($c1 - $c0) / 60 * 100")") | $(fmt 0 "$(calc "$bytes / 1024")") | $(fmt 1 "$(calc "$sc * 1000")") | $(series_of "$idle_label") |"
}

named_flags=()
for n in "${many[@]:0:$named}"; do named_flags+=(--netns="$n"); done

rows=()
log "scale: new, --netns.discover over $nnamespaces"
rows+=("$(scale_row "new, --netns.discover ($nnamespaces + own)" "$new_daemon" - --netns.discover)")
log "scale: new, --netns list of $named"
rows+=("$(scale_row "new, --netns x $named" "$new_daemon" "${many[0]}" "${named_flags[@]:1}")")
log "scale: old ($old_commit), --netns list of $named"
rows+=("$(scale_row "old $old_commit, --netns x $named" "$old_daemon" "${many[0]}" "${named_flags[@]:1}")")

# ---------------------------------------------------------------- b. storm
storm() { run_inject "$nss" storm >/dev/null; }
declare -A cpu ev ovr
for r in $(seq 1 "$rounds"); do
  log "storm round $r/$rounds: mnl_min_consumer"
  ip netns exec "$nss" "$minev" >"$tmp/min.out" &
  mpid=$!
  pids+=("$mpid")
  until grep -q '^ready' "$tmp/min.out"; do
    kill -0 "$mpid" 2>/dev/null || die "mnl_min_consumer exited"
    nap 0.25
  done
  nap 1
  c0=$(cpu_s "$mpid")
  storm
  wait_idle "$mpid"
  cpu[min]+=" $(calc "$(cpu_s "$mpid") - $c0")"
  kill -INT "$mpid"
  wait "$mpid" || die "mnl_min_consumer failed"
  line=$(grep '^events=' "$tmp/min.out") || die "mnl_min_consumer printed no result"
  ev[min]+=" $(field events "$line")"
  ovr[min]+=" $(field enobufs "$line")"
  wait_ns_empty "$nss"
  for setup in old new discover; do
    log "storm round $r/$rounds: $setup"
    case $setup in
      old) daemon=$old_daemon; start_daemon "$nss" ;;
      new) daemon=$new_daemon; start_daemon "$nss" ;;
      discover) daemon=$new_daemon; start_daemon - --netns.discover ;;
    esac
    cpu[$setup]+=" $(storm_cpu "$dpid" "$nss")"
    scrape
    ev[$setup]+=" $(fmt 0 "$(metric conntrack_events_total "$nss")")"
    ovr[$setup]+=" $(fmt 0 "$(metric ctcollect_netlink_overruns_total "$nss")")"
    stop_daemon
    wait_ns_empty "$nss"
  done
done

# ---------------------------------------------------------------- report
expected=$((flows * 2))
# shellcheck disable=SC2086  # the lists are space-separated on purpose
min_med=$(med ${cpu[min]})
us() { calc "$1 * 1000000 / $expected"; }
{
  echo "### Namespace scale ($(bench_stamp); old: $old_commit, $(basename "$old_build"))"
  echo
  echo "**a. $nnamespaces namespaces, $few udp flows each** (after /-/ready and 5 s; CPU over the next 60 s at --resync-interval=60s; scrape: median of 5)"
  echo
  echo "| setup | namespaces watched | start to ready, s | threads | fds | RSS, MiB | CPU, % of a core | /metrics, KiB | scrape, ms | series of one of the namespaces |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "**b. storm: $flows creates + $flows deletes into one namespace**, $rounds rounds alternating (medians; \"discover\": the new daemon with --netns.discover while the $nnamespaces idle namespaces exist)"
  echo
  echo "| consumer | CPU s | CPU us per event | against mnl_min_consumer | events counted, per round | overruns, per round |"
  echo "|---|---|---|---|---|---|"
  for setup in min old new discover; do
    # shellcheck disable=SC2086
    m=$(med ${cpu[$setup]})
    echo "| $setup | $(fmt 2 "$m") | $(fmt 3 "$(us "$m")") | $(fmt 2 "$(calc "$m / $min_med")")x | ${ev[$setup]} | ${ovr[$setup]} |"
  done
  echo
  echo "CPU s per round:"
  for setup in min old new discover; do echo "- $setup:${cpu[$setup]}"; done
} | tee "$out"
log "written to $out"
