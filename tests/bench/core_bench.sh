#!/usr/bin/env bash
# The collector-core benchmark of issue 2: ctcollectd side by side with
# minimal references, in one run, on this machine.
#
#   sudo tests/bench/core_bench.sh [OUT.md]      (default /tmp/core_bench.md)
#
#   a. dump: FLOWS (1M) ESTABLISHED tcp flows in a namespace; ROUNDS times,
#      alternating: mnl_min_dump's wall time, ctcollectd's first dump
#      (ctcollect_dump_duration_seconds, and start-to-/-/ready wall time),
#      `conntrack -L > /dev/null`'s wall time.
#   b. memory: VmRSS of ctcollectd on an empty namespace against VmRSS after
#      its first dump of the FLOWS flows (both after a 1 s settle), and the
#      same with the FLOWS flows arriving as NEW events while it runs.
#   c. storm: `ctinject storm` of FLOWS creates + deletes at full speed
#      against ctcollectd (default flags) and against mnl_min_consumer,
#      alternating; CPU of the consumer from /proc/PID/stat around the
#      storm, events counted, overruns (ENOBUFS).
#
# Prints a markdown table and writes it to OUT.md; progress goes to stderr.
# Environment: BUILD (default build/dev), ROUNDS (3), FLOWS (1000000).
#
# Needs root. Raises the global net.netfilter.nf_conntrack_max (one limit,
# writable only from the root namespace) for the run and restores it on
# every exit. Flows exist only in the namespaces this script makes and
# deletes; nothing is sent anywhere. One run at a time (a lock file), since
# two runs would restore each other's nf_conntrack_max.
set -euo pipefail

out=${1:-/tmp/core_bench.md}
rounds=${ROUNDS:-3}
flows=${FLOWS:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/dev}
bench=core_bench
ns_prefix=ctbench
tools=(conntrack)
# shellcheck source=tests/bench/bench_lib.sh
. "$root/tests/bench/bench_lib.sh"

# ---------------------------------------------------------------- set-up
others=$(ps -eo pid=,comm= | awk '$2 ~ /^(ctcollectd|ctinject|conntrack|mnl_min_consumer)$/ {printf "%s%s %s", (n++ ? ", " : ""), $2, $1}')
[ -z "$others" ] || log "note: other ctcollectd/ctinject/conntrack processes running ($others): expect noise"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_setup

# ---------------------------------------------------------------- a. dump
log "inject $flows flows into $nsd"
line=$(run_inject "$nsd" create)
[ "$(field failed "$line")" = 0 ] || die "ctinject create failed: $line"
[ "$(ns_count "$nsd")" -eq "$flows" ] || die "$nsd has $(ns_count "$nsd") flows, not $flows"

md=() dd=() wall=() ls=() rss1=() tbytes=() tentries=() mdn=()
for r in $(seq 1 "$rounds"); do
  log "dump round $r/$rounds"
  line=$(ip netns exec "$nsd" "$mindump") || die "mnl_min_dump failed"
  md+=("$(field seconds "$line")")
  mdn+=("$(field entries "$line")")

  t0=$(now)
  start_daemon "$nsd"
  t1=$(now)
  wall+=("$(calc "$t1 - $t0")")
  nap 1  # settle: the dump's buffers are returned or reused by now
  rss1+=("$(rss_kib "$dpid")")
  scrape
  dd+=("$(metric ctcollect_dump_duration_seconds "$nsd")")
  tbytes+=("$(metric ctcollect_flow_table_bytes "$nsd")")
  tentries+=("$(metric ctcollect_flow_table_entries "$nsd")")
  stop_daemon

  t0=$(now)
  ip netns exec "$nsd" conntrack -L >/dev/null 2>"$tmp/l.err" || die "conntrack -L: $(cat "$tmp/l.err")"
  t1=$(now)
  ls+=("$(calc "$t1 - $t0")")
done
md_med=$(med "${md[@]}")
cd_med=$(med "${dd[@]}")
wall_med=$(med "${wall[@]}")
ls_med=$(med "${ls[@]}")
rss1_med=$(med "${rss1[@]}")
tb_med=$(med "${tbytes[@]}")
te_med=$(med "${tentries[@]}")
log "flush $nsd"
ip netns exec "$nsd" conntrack -F >/dev/null 2>&1 || true
wait_ns_empty "$nsd"

# ---------------------------------------------------------------- b. memory, flows arriving as events
log "memory: $flows flows created while ctcollectd runs on $nss"
start_daemon "$nss"
nap 1
rss0_ev=$(rss_kib "$dpid")
line=$(run_inject "$nss" create)
ev_create_failed=$(field failed "$line")
wait_idle "$dpid"
nap 1
rss1_ev=$(rss_kib "$dpid")
scrape
te_ev=$(metric ctcollect_flow_table_entries "$nss")
tb_ev=$(metric ctcollect_flow_table_bytes "$nss")
stop_daemon
run_inject "$nss" delete >/dev/null  # no listener now: no events
wait_ns_empty "$nss"

# ---------------------------------------------------------------- c. storms
dcpu=() mcpu=() mcpu_ru=() dev=() mev=() dovr=() menob=() dres=() rss0=() sfail=()
storm() {  # runs the storm in $nss, records ctinject failures
  local line
  line=$(run_inject "$nss" storm)
  sfail+=("$(grep -o 'failed=[0-9]*' <<<"$line" | cut -d= -f2 | paste -sd+ | bc)")
}
for r in $(seq 1 "$rounds"); do
  log "storm round $r/$rounds: ctcollectd"
  start_daemon "$nss"
  nap 1
  rss0+=("$(rss_kib "$dpid")")
  c0=$(cpu_s "$dpid")
  storm
  wait_idle "$dpid"
  c1=$(cpu_s "$dpid")
  dcpu+=("$(calc "$c1 - $c0")")
  scrape
  dev+=("$(fmt 0 "$(metric conntrack_events_total "$nss")")")
  dovr+=("$(fmt 0 "$(metric ctcollect_netlink_overruns_total "$nss")")")
  dres+=("$(fmt 0 "$(metric ctcollect_resyncs_total "$nss")")")
  stop_daemon
  wait_ns_empty "$nss"

  log "storm round $r/$rounds: mnl_min_consumer"
  ip netns exec "$nss" "$minev" >"$tmp/min.out" &
  mpid=$!
  pids+=("$mpid")
  deadline=$(calc "$(now) + 10")
  until grep -q '^ready' "$tmp/min.out"; do
    kill -0 "$mpid" 2>/dev/null || die "mnl_min_consumer exited"
    (($(calc "$(now) > $deadline"))) && die "mnl_min_consumer not ready"
    nap 0.25  # each poll forks (subshell, date, bc, sleep): keep them rare while the dump is timed
  done
  nap 1
  c0=$(cpu_s "$mpid")
  storm
  wait_idle "$mpid"
  c1=$(cpu_s "$mpid")
  mcpu+=("$(calc "$c1 - $c0")")
  kill -INT "$mpid"
  wait "$mpid" || die "mnl_min_consumer failed"
  line=$(grep '^events=' "$tmp/min.out") || die "mnl_min_consumer printed no result"
  mev+=("$(field events "$line")")
  menob+=("$(field enobufs "$line")")
  mcpu_ru+=("$(field cpu "$line")")
  wait_ns_empty "$nss"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
expected=$((flows * 2))
dcpu_med=$(med "${dcpu[@]}")
mcpu_med=$(med "${mcpu[@]}")
dev_med=$(med "${dev[@]}")
mev_med=$(med "${mev[@]}")
rss0_med=$(med "${rss0[@]}")
dus=$(calc "$dcpu_med * 1000000 / $expected")
mus=$(calc "$mcpu_med * 1000000 / $expected")
list() { local IFS=' '; echo "$*"; }
fmtlist() { local n=$1 v o=(); shift; for v in "$@"; do o+=("$(fmt "$n" "$v")"); done; list "${o[@]}"; }
ovr_total=$(($(list "${dovr[@]}" | tr ' ' '+')))
{
  echo "### ctcollectd core benchmark ($(bench_stamp), $rounds rounds, medians)"
  echo
  echo "| figure | ctcollectd | reference | ratio |"
  echo "|---|---|---|---|"
  echo "| **a. dump of $flows flows** (entries seen: daemon $(fmt 0 "$te_med"), mnl_min_dump $(list "${mdn[@]}")) | | | |"
  echo "| dump, s (ctcollect_dump_duration_seconds vs mnl_min_dump) | $(fmt 3 "$cd_med") | $(fmt 3 "$md_med") | ctcollectd/min_dump $(fmt 2 "$(calc "$cd_med / $md_med")")x |"
  echo "| start to /-/ready, s (wall) | $(fmt 3 "$wall_med") | $(fmt 3 "$md_med") | ready/min_dump $(fmt 2 "$(calc "$wall_med / $md_med")")x |"
  echo "| \`conntrack -L > /dev/null\`, s (wall) | $(fmt 3 "$cd_med") | $(fmt 3 "$ls_med") | conntrack-L/ctcollectd $(fmt 2 "$(calc "$ls_med / $cd_med")")x |"
  echo "| rounds: daemon dump / ready / min_dump / conntrack -L, s | $(fmtlist 3 "${dd[@]}") / $(fmtlist 3 "${wall[@]}") / $(fmtlist 3 "${md[@]}") / $(fmtlist 3 "${ls[@]}") | | |"
  echo "| **b. memory** | | | |"
  echo "| RSS on an empty namespace, KiB (started empty) | $rss0_med | | |"
  echo "| RSS after the first dump of $flows flows, KiB | $rss1_med | | |"
  echo "| RSS growth per flow, bytes ((dump - empty)/$flows) | $(fmt 1 "$(calc "($rss1_med - $rss0_med) * 1024 / $flows")") | | |"
  echo "| ctcollect_flow_table_bytes / $flows, after the dump | $(fmt 1 "$(calc "$tb_med / $flows")") | | |"
  echo "| total RSS at $flows flows (dump), MiB | $(fmt 1 "$(calc "$rss1_med / 1024")") | | |"
  echo "| same, flows arriving as NEW events: RSS before / after, KiB; growth per flow, bytes; table bytes/flow; table entries | $rss0_ev / $rss1_ev; $(fmt 1 "$(calc "($rss1_ev - $rss0_ev) * 1024 / $flows")"); $(fmt 1 "$(calc "$tb_ev / $flows")"); $(fmt 0 "$te_ev") (ctinject failed=$ev_create_failed) | | |"
  echo "| **c. storm: $flows creates + $flows deletes** ($expected events expected) | | mnl_min_consumer | |"
  echo "| CPU s during the storm (/proc/PID/stat utime+stime) | $(fmt 2 "$dcpu_med") | $(fmt 2 "$mcpu_med") | $(fmt 2 "$(calc "$dcpu_med / $mcpu_med")")x |"
  echo "| CPU us per event | $(fmt 3 "$dus") | $(fmt 3 "$mus") | $(fmt 2 "$(calc "$dus / $mus")")x (target <= 1.3x) |"
  echo "| events counted, per round | $(list "${dev[@]}") | $(list "${mev[@]}") | |"
  echo "| overruns (ENOBUFS), per round | $(list "${dovr[@]}") (target 0) | $(list "${menob[@]}") | |"
  echo "| resyncs incl. startup, per round | $(list "${dres[@]}") | | |"
  echo "| CPU s per round | $(fmtlist 2 "${dcpu[@]}") | $(fmtlist 2 "${mcpu[@]}") (getrusage, whole life: $(list "${mcpu_ru[@]}")) | |"
  echo "| ctinject failures per storm (daemon, min alternating) | $(list "${sfail[@]}") | | |"
  echo
  echo "Load average before / after: $load0 / $load1. Memory: empty = ctcollectd started on the empty storm namespace before each daemon storm; dump = ctcollectd started after injecting, 1 s after /-/ready. Storm CPU: from the daemon's /-/ready (or the consumer's subscription) + 1 s to when its CPU time stopped growing."
  if ((ovr_total > 0)) || [ "$(fmt 0 "$dev_med")" != "$expected" ] || [ "$mev_med" != "$expected" ]; then
    echo
    echo "**Events were lost** (overruns or counts below $expected): see the per-round rows."
  fi
} | tee "$out"
log "written to $out"
