#!/usr/bin/env bash
# The big-table benchmark of issue 18: ctcollectd at the size of a large
# router's conntrack table (FLOWS, default 4M), in one run, on this machine,
# against the minimal libmnl references (mnl_min_dump, mnl_min_consumer).
#
#   sudo tests/bench/big_table.sh [OUT.md]      (default /tmp/big_table.md)
#
#   1. set-up: nf_conntrack_max raised to FLOWS and a fifth more, and the
#      kernel's hash table to the next power of two >= FLOWS buckets; both
#      restored on every exit (bench_lib.sh).
#   2. dump and memory: FLOWS ESTABLISHED tcp flows in one namespace;
#      ROUNDS times alternating, mnl_min_dump's wall time and ctcollectd's
#      first dump (ctcollect_dump_duration_seconds); target within 1.1x.
#      RSS growth per flow: ctcollectd's VmRSS 1 s after that dump minus
#      its VmRSS on an empty namespace, over FLOWS; target <= 40 bytes.
#      The daemon's conntrack_entries must equal the kernel's count.
#   3. storm: `ctinject storm` of FLOWS creates + FLOWS deletes at full
#      speed, ROUNDS times alternating ctcollectd (default flags) and
#      mnl_min_consumer (the same 32 MiB buffer): CPU us per event of each
#      (median), target within 1.3x; overruns and events lost, target 0;
#      after the storm one resync (`ctcollect -R`), and the daemon's
#      conntrack_entries must then equal the kernel's count.
#   4. /metrics: SCRAPES sequential scrapes on one keep-alive connection
#      (as http_bench.sh) with SMALL (10k) flows and with FLOWS flows held:
#      medians; target FLOWS within 20% of SMALL.
#
# Prints a markdown table (figure, target, pass/fail) and writes it to
# OUT.md; progress goes to stderr. Environment: BUILD (default
# build/release), ROUNDS (3), FLOWS (4000000), SMALL (10000), SCRAPES (200).
#
# Needs root, conntrack and python3. Kernel memory: ~1.5 GB per million
# flows at the peak. Flows exist only in the namespaces this script makes
# and deletes; nothing is sent anywhere. One benchmark at a time (a lock).
set -euo pipefail

out=${1:-/tmp/big_table.md}
rounds=${ROUNDS:-3}
flows=${FLOWS:-4000000}
small=${SMALL:-10000}
nscrapes=${SCRAPES:-200}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
bench=big_table
ns_prefix=ctbig
tools=(conntrack python3)
# shellcheck source=tests/bench/bench_lib.sh
. "$root/tests/bench/bench_lib.sh"
client=$build/client/ctcollect
[ -x "$client" ] || die "missing $client"
((small < flows)) || die "SMALL ($small) must be below FLOWS ($flows)"

inject_range() {  # NETNS COUNT OFFSET: creates COUNT flows from OFFSET
  local line
  line=$(ip netns exec "$1" "$inject" create --count "$2" --offset "$3" --family ipv4 \
    --proto tcp --state ESTABLISHED --timeout 3600 --batch 256 --quiet) || true
  echo "create: $line" >&2
  [ "$(field failed "$line")" = 0 ] || die "ctinject create failed: $line"
}
# SCRAPES scrapes of /metrics on one keep-alive connection after 20 warm-up
# ones: "median_ms p99_ms bytes".
scrapes() {
  python3 - "$port" "$nscrapes" <<'PY'
import http.client, statistics, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
t = []
for i in range(int(sys.argv[2]) + 20):
    s = time.perf_counter(); c.request("GET", "/metrics"); body = c.getresponse().read()
    if i >= 20: t.append((time.perf_counter() - s) * 1000)
t.sort()
print("%.3f %.3f %d" % (statistics.median(t), t[int(len(t) * 0.99) - 1], len(body)))
PY
}
resyncs() { scrape; fmt 0 "$(metric ctcollect_resyncs_total "$1")"; }
# Asks the daemon for one resync and returns once it has finished it.
resync() {  # NETNS
  local before deadline
  before=$(resyncs "$1")
  "$client" --control.socket="$tmp/ctl.sock" -R >/dev/null || die "ctcollect -R failed"
  deadline=$(calc "$(now) + 120")
  until (($(resyncs "$1") > before)) && wait_idle "$dpid"; do
    (($(calc "$(now) > $deadline"))) && die "no resync within 120 s"
    nap 0.2
  done
  scrape
}

# ---------------------------------------------------------------- set-up
others=$(ps -eo pid=,comm= | awk '$2 ~ /^(ctcollectd|ctinject|conntrack|mnl_min_consumer)$/ {printf "%s%s %s", (n++ ? ", " : ""), $2, $1}')
[ -z "$others" ] || log "note: other ctcollectd/ctinject/conntrack processes running ($others): expect noise"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_setup
want_buckets=1
while ((want_buckets < flows)); do want_buckets=$((want_buckets * 2)); done
bench_buckets "$want_buckets"
buckets_now=$(cat "$buckets_file")
expected=$((flows * 2))

# ---------------------------------------------------------------- 2. memory on an empty table
log "RSS on an empty namespace"
start_daemon "$nss"
nap 1
rss0=$(rss_kib "$dpid")
stop_daemon

# ---------------------------------------------------------------- 4a. /metrics at SMALL flows
log "inject $small flows into $nsd; scrapes"
inject_range "$nsd" "$small" 0
start_daemon "$nsd"
read -r m_small p99_small bytes_small < <(scrapes)
log "scrape at $small flows: median $m_small ms, p99 $p99_small ms, $bytes_small bytes"
stop_daemon

# ---------------------------------------------------------------- 2. dump of FLOWS flows
log "inject $((flows - small)) more flows into $nsd"
inject_range "$nsd" $((flows - small)) "$small"
kcount=$(ns_count "$nsd")
((kcount == flows)) || die "$nsd has $kcount flows, not $flows"
md=() dd=() rss1=() gauge=() tbytes=()
for r in $(seq 1 "$rounds"); do
  log "dump round $r/$rounds"
  line=$(ip netns exec "$nsd" "$mindump") || die "mnl_min_dump failed"
  md+=("$(field seconds "$line")")
  start_daemon "$nsd"
  nap 1
  rss1+=("$(rss_kib "$dpid")")
  scrape
  dd+=("$(metric ctcollect_dump_duration_seconds "$nsd")")
  gauge+=("$(fmt 0 "$(metric conntrack_entries "$nsd")")")
  tbytes+=("$(metric ctcollect_flow_table_bytes "$nsd")")
  if ((r == rounds)); then
    log "scrapes at $flows flows"
    read -r m_big p99_big bytes_big < <(scrapes)
    log "scrape at $flows flows: median $m_big ms, p99 $p99_big ms, $bytes_big bytes"
  fi
  stop_daemon
done
log "flush $nsd"
ip netns exec "$nsd" conntrack -F >/dev/null 2>&1 || true
wait_ns_empty "$nsd"

# ---------------------------------------------------------------- 3. storms
dcpu=() mcpu=() dev=() mev=() dovr=() menob=() dgauge_ev=() dgauge=() kafter=()
for r in $(seq 1 "$rounds"); do
  log "storm round $r/$rounds: ctcollectd"
  start_daemon "$nss"
  dcpu+=("$(storm_cpu "$dpid" "$nss")")
  scrape
  dev+=("$(fmt 0 "$(metric conntrack_events_total "$nss")")")
  dovr+=("$(fmt 0 "$(metric ctcollect_netlink_overruns_total "$nss")")")
  dgauge_ev+=("$(fmt 0 "$(metric conntrack_entries "$nss")")")
  resync "$nss"
  dgauge+=("$(fmt 0 "$(metric conntrack_entries "$nss")")")
  kafter+=("$(ns_count "$nss")")
  stop_daemon
  wait_ns_empty "$nss"

  log "storm round $r/$rounds: mnl_min_consumer"
  ip netns exec "$nss" "$minev" 33554432 >"$tmp/min.out" &
  mpid=$!
  pids+=("$mpid")
  deadline=$(calc "$(now) + 10")
  until grep -q '^ready' "$tmp/min.out"; do
    kill -0 "$mpid" 2>/dev/null || die "mnl_min_consumer exited"
    (($(calc "$(now) > $deadline"))) && die "mnl_min_consumer not ready"
    nap 0.1
  done
  mcpu+=("$(storm_cpu "$mpid" "$nss")")
  kill -INT "$mpid"
  wait "$mpid" || die "mnl_min_consumer failed"
  line=$(grep '^events=' "$tmp/min.out") || die "mnl_min_consumer printed no result"
  mev+=("$(field events "$line")")
  menob+=("$(field enobufs "$line")")
  wait_ns_empty "$nss"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
list() { local IFS=' '; echo "$*"; }
fmtlist() { local n=$1 v o=(); shift; for v in "$@"; do o+=("$(fmt "$n" "$v")"); done; list "${o[@]}"; }
sum() { local IFS=+; echo $(($*)); }
pf() { (($(calc "$1"))) && echo pass || echo "**FAIL**"; }
md_med=$(med "${md[@]}") dd_med=$(med "${dd[@]}") rss1_med=$(med "${rss1[@]}") tb_med=$(med "${tbytes[@]}")
dump_ratio=$(calc "$dd_med / $md_med")
per_flow=$(calc "($rss1_med - $rss0) * 1024 / $flows")
dus=$(calc "$(med "${dcpu[@]}") * 1000000 / $expected")
mus=$(calc "$(med "${mcpu[@]}") * 1000000 / $expected")
cpu_ratio=$(calc "$dus / $mus")
lost=(); for v in "${dev[@]}"; do lost+=($((expected - v))); done
mlost=(); for v in "${mev[@]}"; do mlost+=($((expected - v))); done
lost_total=0 gauge_bad=0 dump_gauge_bad=0
for v in "${lost[@]}"; do ((v == 0)) || lost_total=$((lost_total + (v < 0 ? -v : v))); done
for i in "${!dgauge[@]}"; do ((dgauge[i] == kafter[i])) || gauge_bad=$((gauge_bad + 1)); done
for v in "${gauge[@]}"; do ((v == kcount)) || dump_gauge_bad=$((dump_gauge_bad + 1)); done
ovr_total=$(sum "${dovr[@]}")
scrape_ratio=$(calc "$m_big / $m_small")
{
  echo "### Big table, $flows flows ($(bench_stamp), $rounds rounds alternating, medians)"
  echo
  echo "| figure | measured | target | result |"
  echo "|---|---|---|---|"
  echo "| dump of $flows flows: ctcollect_dump_duration_seconds / mnl_min_dump, s | $(fmt 3 "$dd_med") / $(fmt 3 "$md_med") = $(fmt 2 "$dump_ratio")x | <= 1.10x | $(pf "$dump_ratio <= 1.1") |"
  echo "| conntrack_entries after the dump = kernel's count ($kcount), by round | $(list "${gauge[@]}") | equal | $( ((dump_gauge_bad == 0)) && echo pass || echo "**FAIL**") |"
  echo "| RSS growth per flow, bytes ((RSS at $flows - RSS empty) / $flows) | $(fmt 1 "$per_flow") ($rss0 -> $rss1_med KiB) | <= 40 | $(pf "$per_flow <= 40") |"
  echo "| storm of $flows creates + $flows deletes: CPU us per event, ctcollectd / mnl_min_consumer | $(fmt 3 "$dus") / $(fmt 3 "$mus") = $(fmt 2 "$cpu_ratio")x | <= 1.30x | $(pf "$cpu_ratio <= 1.3") |"
  echo "| overruns (ctcollect_netlink_overruns_total), by round | $(list "${dovr[@]}") | 0 | $( ((ovr_total == 0)) && echo pass || echo "**FAIL**") |"
  echo "| events lost (of $expected), by round | $(list "${lost[@]}") | 0 | $( ((lost_total == 0)) && echo pass || echo "**FAIL**") |"
  echo "| conntrack_entries after the storm and one resync = kernel's count, by round | $(list "${dgauge[@]}") = $(list "${kafter[@]}") | equal | $( ((gauge_bad == 0)) && echo pass || echo "**FAIL**") |"
  echo "| /metrics median at $flows / at $small flows, ms | $m_big / $m_small = $(fmt 2 "$scrape_ratio")x | <= 1.20x | $(pf "$scrape_ratio <= 1.2") |"
  echo
  echo "Per round: dump s daemon $(fmtlist 3 "${dd[@]}"), mnl_min_dump $(fmtlist 3 "${md[@]}");" \
    "RSS KiB at $flows flows $(list "${rss1[@]}") (flow table $(fmt 1 "$(calc "$tb_med / 1048576")") MiB);" \
    "storm CPU s daemon $(fmtlist 2 "${dcpu[@]}"), mnl_min_consumer $(fmtlist 2 "${mcpu[@]}");" \
    "events counted daemon $(list "${dev[@]}"), mnl_min_consumer $(list "${mev[@]}") (lost $(list "${mlost[@]}"), ENOBUFS $(list "${menob[@]}"));" \
    "conntrack_entries after the storm before the resync $(list "${dgauge_ev[@]}");" \
    "/metrics p99 $p99_big / $p99_small ms, $bytes_big / $bytes_small bytes."
  echo "Kernel: nf_conntrack_max raised to $((flows + flows / 5)), buckets $buckets_now (both restored). Load average before / after: $load0 / $load1."
} | tee "$out"
log "written to $out"
