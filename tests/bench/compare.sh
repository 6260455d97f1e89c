#!/usr/bin/env bash
# The side-by-side benchmark of issue 8: on one table, in one run, four
# consumers of the kernel's conntrack events and dumps:
#   ctcollectd (default flags, --resync-interval=1h),
#   conntrackd 1.4.7 in stats mode (Stats {}, NetlinkBufferSize 32 MiB as
#     ctcollectd's default, growth up to 512 MiB, NetlinkOverrunResync off
#     so its counters hold events only),
#   `conntrack -E -b 33554432` (output to a file, lines counted),
#   mnl_min_consumer (tests/bench/mnl_min_consumer.cc; for dumps
#     mnl_min_dump.cc): the least a libmnl consumer can do.
#
#   sudo tests/bench/compare.sh [OUT.md]     (default /tmp/compare.md)
#
#   storm: `ctinject storm` of FLOWS creates + FLOWS deletes at full speed
#     against each consumer in turn, ROUNDS times alternating: CPU seconds
#     of the consumer (/proc/PID/stat) per million events, and events it
#     counted (lost = 2 * FLOWS - counted).
#   dump: FLOWS ESTABLISHED tcp flows in a namespace: time to dump and
#     count them (ctcollectd: ctcollect_dump_duration_seconds of its first
#     dump; conntrackd: start until `conntrackd -s` shows FLOWS active;
#     `conntrack -L | wc -l`; mnl_min_dump), and RSS with them held
#     (ctcollectd, conntrackd; the other two hold no flows).
#
# Environment: BUILD (default build/release), ROUNDS (3), FLOWS (1000000).
# Needs root and conntrackd/conntrack (scripts/install-deps.sh). Raises the
# global nf_conntrack_max for the run and restores it on exit; flows exist
# only in the namespaces this script makes and deletes.
set -euo pipefail

out=${1:-/tmp/compare.md}
rounds=${ROUNDS:-3}
flows=${FLOWS:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
bench=compare
ns_prefix=ctcmp
tools=(conntrack conntrackd)
# shellcheck source=tests/bench/bench_lib.sh
. "$root/tests/bench/bench_lib.sh"

# ---------------------------------------------------------------- conntrackd
cat >"$tmp/ctd.conf" <<EOF
General {
	HashSize 1048576
	HashLimit $((flows * 4))
	LogFile off
	Syslog off
	LockFile $tmp/ctd.lock
	UNIX {
		Path $tmp/ctd.sock
	}
	NetlinkBufferSize 33554432
	NetlinkBufferSizeMaxGrowth 536870912
	NetlinkOverrunResync off
}
Stats {
	LogFile off
}
EOF
cpid=
ctd() { conntrackd -C "$tmp/ctd.conf" "$@" 2>/dev/null; }
start_ctd() {  # NETNS
  rm -f "$tmp/ctd.lock" "$tmp/ctd.sock"
  ip netns exec "$1" conntrackd -C "$tmp/ctd.conf" >>"$tmp/ctd.log" 2>&1 &
  cpid=$!
  pids+=("$cpid")
  local deadline
  deadline=$(calc "$(now) + 20")
  until ctd -s >/dev/null; do
    kill -0 "$cpid" 2>/dev/null || { tail -5 "$tmp/ctd.log" >&2; die "conntrackd exited"; }
    (($(calc "$(now) > $deadline"))) && die "conntrackd not answering"
    nap 0.1
  done
}
stop_ctd() {
  kill -TERM "$cpid"
  timeout 10 tail --pid="$cpid" -f /dev/null || kill -KILL "$cpid"
  wait "$cpid" 2>/dev/null || true
}
ctd_active() { ctd -s | awk '/current active connections/ {print $NF; exit}'; }
ctd_created() { ctd -s | awk '/connections created/ {print $3; exit}'; }
ctd_destroyed() { ctd -s | awk '/connections destroyed/ {print $3; exit}'; }
ctd_overruns() { ctd -s runtime | awk '/netlink overrun/ {print $NF; exit}'; }

# ---------------------------------------------------------------- set-up
load0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_setup
expected=$((flows * 2))

# ---------------------------------------------------------------- dump
log "inject $flows flows into $nsd"
line=$(run_inject "$nsd" create)
[ "$(field failed "$line")" = 0 ] || die "ctinject create failed: $line"
d_ct=() d_cd=() d_cl=() d_min=() r_ct=() r_cd=() n_cd=() n_cl=()
for r in $(seq 1 "$rounds"); do
  log "dump round $r/$rounds"
  line=$(ip netns exec "$nsd" "$mindump") || die "mnl_min_dump failed"
  d_min+=("$(field seconds "$line")")

  start_daemon "$nsd"
  nap 1
  r_ct+=("$(rss_kib "$dpid")")
  scrape
  d_ct+=("$(metric ctcollect_dump_duration_seconds "$nsd")")
  stop_daemon

  t0=$(now)
  start_ctd "$nsd"
  deadline=$(calc "$(now) + 300")
  while :; do
    a=$(ctd_active)
    [ "${a:-0}" -ge "$flows" ] && break
    (($(calc "$(now) > $deadline"))) && { log "conntrackd holds $a of $flows after 300 s"; break; }
    nap 0.1
  done
  t1=$(now)
  d_cd+=("$(calc "$t1 - $t0")")
  n_cd+=("$a")
  nap 1
  r_cd+=("$(rss_kib "$cpid")")
  stop_ctd

  t0=$(now)
  n=$(ip netns exec "$nsd" conntrack -L 2>/dev/null | wc -l)
  t1=$(now)
  d_cl+=("$(calc "$t1 - $t0")")
  n_cl+=("$n")
done
ip netns exec "$nsd" conntrack -F >/dev/null 2>&1 || true

# ---------------------------------------------------------------- storms
c_ct=() c_cd=() c_ce=() c_min=() e_ct=() e_cd=() e_ce=() e_min=() o_ct=() o_cd=() o_ce=() o_min=()
for r in $(seq 1 "$rounds"); do
  log "storm round $r/$rounds: ctcollectd"
  start_daemon "$nss"
  cpu=$(storm_cpu "$dpid" "$nss")
  c_ct+=("$cpu")
  scrape
  e_ct+=("$(fmt 0 "$(metric conntrack_events_total "$nss")")")
  o_ct+=("$(fmt 0 "$(metric ctcollect_netlink_overruns_total "$nss")")")
  stop_daemon
  wait_ns_empty "$nss"

  log "storm round $r/$rounds: conntrackd stats mode"
  start_ctd "$nss"
  b_cr=$(ctd_created) b_de=$(ctd_destroyed)
  cpu=$(storm_cpu "$cpid" "$nss")
  c_cd+=("$cpu")
  e_cd+=("$(($(ctd_created) - b_cr + $(ctd_destroyed) - b_de))")
  o_cd+=("$(ctd_overruns)")
  stop_ctd
  wait_ns_empty "$nss"

  log "storm round $r/$rounds: conntrack -E"
  ip netns exec "$nss" conntrack -E -b 33554432 >"$tmp/ev.txt" 2>"$tmp/ev.err" &
  epid=$!
  pids+=("$epid")
  cpu=$(storm_cpu "$epid" "$nss")
  c_ce+=("$cpu")
  kill -INT "$epid"
  wait "$epid" 2>/dev/null || true
  e_ce+=("$(grep -c -E '^ *\[(NEW|DESTROY)\]' "$tmp/ev.txt" || true)")
  o_ce+=("$(grep -c -i 'ENOBUFS' "$tmp/ev.err" || true)")
  wait_ns_empty "$nss"

  log "storm round $r/$rounds: mnl_min_consumer"
  ip netns exec "$nss" "$minev" 33554432 >"$tmp/min.out" &
  mpid=$!
  pids+=("$mpid")
  until grep -q '^ready' "$tmp/min.out"; do kill -0 "$mpid" || die "mnl_min_consumer exited"; nap 0.1; done
  cpu=$(storm_cpu "$mpid" "$nss")
  c_min+=("$cpu")
  kill -INT "$mpid"
  wait "$mpid" || die "mnl_min_consumer failed"
  line=$(grep '^events=' "$tmp/min.out")
  e_min+=("$(field events "$line")")
  o_min+=("$(field enobufs "$line")")
  wait_ns_empty "$nss"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
list() { local IFS=' '; echo "$*"; }
fmtlist() { local n=$1 v o=(); shift; for v in "$@"; do o+=("$(fmt "$n" "$v")"); done; list "${o[@]}"; }
per_m() { calc "$1 * 1000000 / $expected"; }
lost() { local v o=(); for v in "$@"; do o+=("$((expected - v))"); done; list "${o[@]}"; }
cpu_ct=$(per_m "$(med "${c_ct[@]}")") cpu_cd=$(per_m "$(med "${c_cd[@]}")")
cpu_ce=$(per_m "$(med "${c_ce[@]}")") cpu_min=$(per_m "$(med "${c_min[@]}")")
dct=$(med "${d_ct[@]}") dcd=$(med "${d_cd[@]}") dcl=$(med "${d_cl[@]}") dmin=$(med "${d_min[@]}")
rct=$(med "${r_ct[@]}") rcd=$(med "${r_cd[@]}")
{
  echo "### Side by side ($(bench_stamp), $rounds rounds alternating, medians, $flows flows)"
  echo
  echo "| figure | ctcollectd | conntrackd stats | conntrack -E | minimal libmnl | ctcollectd / minimal | ctcollectd / conntrackd |"
  echo "|---|---|---|---|---|---|---|"
  echo "| CPU s per million events (storm of $expected) | $(fmt 3 "$cpu_ct") | $(fmt 3 "$cpu_cd") | $(fmt 3 "$cpu_ce") | $(fmt 3 "$cpu_min") | $(fmt 2 "$(calc "$cpu_ct / $cpu_min")")x | $(fmt 2 "$(calc "$cpu_ct / $cpu_cd")")x |"
  echo "| events lost per storm, by round | $(lost "${e_ct[@]}") | $(lost "${e_cd[@]}") | $(lost "${e_ce[@]}") | $(lost "${e_min[@]}") | | |"
  echo "| overruns (ENOBUFS) by round | $(list "${o_ct[@]}") | $(list "${o_cd[@]}") | $(list "${o_ce[@]}") lines | $(list "${o_min[@]}") | | |"
  echo "| RSS with $flows flows, MiB | $(fmt 1 "$(calc "$rct / 1024")") | $(fmt 1 "$(calc "$rcd / 1024")") | (holds none) | (holds none) | | $(fmt 3 "$(calc "$rct / $rcd")")x |"
  echo "| RSS per flow, bytes (RSS / flows) | $(fmt 1 "$(calc "$rct * 1024 / $flows")") | $(fmt 1 "$(calc "$rcd * 1024 / $flows")") | | | | |"
  echo "| dump and count $flows flows, s | $(fmt 3 "$dct") | $(fmt 3 "$dcd") | $(fmt 3 "$dcl") (\`conntrack -L \| wc -l\`) | $(fmt 3 "$dmin") | $(fmt 2 "$(calc "$dct / $dmin")")x | $(fmt 2 "$(calc "$dct / $dcd")")x |"
  echo
  echo "Per round: CPU s $(fmtlist 2 "${c_ct[@]}") / $(fmtlist 2 "${c_cd[@]}") / $(fmtlist 2 "${c_ce[@]}") / $(fmtlist 2 "${c_min[@]}");"
  echo "events counted $(list "${e_ct[@]}") / $(list "${e_cd[@]}") / $(list "${e_ce[@]}") / $(list "${e_min[@]}");"
  echo "dump s $(fmtlist 3 "${d_ct[@]}") / $(fmtlist 3 "${d_cd[@]}") (active $(list "${n_cd[@]}")) / $(fmtlist 3 "${d_cl[@]}") (lines $(list "${n_cl[@]}")) / $(fmtlist 3 "${d_min[@]}");"
  echo "RSS KiB $(list "${r_ct[@]}") / $(list "${r_cd[@]}"). Load average before / after: $load0 / $load1."
} | tee "$out"
