# Shell helpers shared by the end-to-end benchmarks (core_bench.sh,
# compare.sh). The caller sets, before sourcing it: bench (its name, for
# messages and temp files), ns_prefix, build, flows, and tools (the
# commands it needs beyond ip, curl, awk, flock and bc). Sourcing checks
# root, the binaries and tools, takes the benchmark lock (two runs would
# restore each other's nf_conntrack_max), makes tmp and the names of two
# namespaces (nsd for dumps, nss for storms), and installs the exit trap
# that kills what the caller added to pids, deletes the namespaces, restores
# nf_conntrack_max (and the hash table's buckets, if bench_buckets raised
# them) and removes tmp. bench_setup then raises the limit and makes the
# namespaces. Forks as little as it can: the scripts time things
# on a 2-core machine.
# shellcheck shell=bash disable=SC2154  # the caller sets bench, build, flows, tools
daemon=$build/daemon/ctcollectd
inject=$build/tools/ctinject/ctinject
mindump=$build/tests/bench/mnl_min_dump
minev=$build/tests/bench/mnl_min_consumer

# shellcheck source=tests/bench/stamp.sh
. "$root/tests/bench/stamp.sh"
die() { echo "$bench: $*" >&2; exit 1; }
log() { echo "$bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, nf_conntrack_max)"
for b in "$daemon" "$inject" "$mindump" "$minev"; do
  [ -x "$b" ] || die "missing $b (build $build with cmake --preset $(basename "$build") && cmake --build $build -j2, or set BUILD= to another build)"
done
for t in ip curl awk flock bc "${tools[@]}"; do
  command -v "$t" >/dev/null || die "missing tool: $t (scripts/install-deps.sh)"
done
[ -w /proc/sys/net/netfilter/nf_conntrack_max ] || die "no nf_conntrack (modprobe nf_conntrack)"
exec {lockfd}>/run/lock/ctcollect-core-bench.lock
flock -n "$lockfd" || die "another benchmark (core_bench.sh, compare.sh) is running"

tmp=$(mktemp -d "/tmp/$bench.XXXXXX")
nsd=$ns_prefix-dump-$$
nss=$ns_prefix-storm-$$
old_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
max_raised=0
# The kernel's hash table size, one for all namespaces; the module parameter
# is writable from the root namespace (the sysctl is read-only on older
# kernels).
buckets_file=/sys/module/nf_conntrack/parameters/hashsize
old_buckets=$(cat "$buckets_file" 2>/dev/null || cat /proc/sys/net/netfilter/nf_conntrack_buckets)
buckets_raised=0
pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null && { timeout 5 tail --pid="$p" -f /dev/null || kill -KILL "$p"; } 2>/dev/null
  done
  ip netns del "$nsd" 2>/dev/null
  ip netns del "$nss" 2>/dev/null
  if ((max_raised)); then
    echo "$old_max" >/proc/sys/net/netfilter/nf_conntrack_max &&
      log "nf_conntrack_max restored to $old_max"
  fi
  if ((buckets_raised)); then
    echo "$old_buckets" >"$buckets_file" &&
      log "nf_conntrack buckets restored to $old_buckets"
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Raises nf_conntrack_max (one limit, writable only from the root
# namespace) to hold FLOWS and a fifth more, and makes the two namespaces.
bench_setup() {
  local want_max=$((flows + flows / 5))
  if ((old_max < want_max)); then
    max_raised=1
    echo "$want_max" >/proc/sys/net/netfilter/nf_conntrack_max
    log "nf_conntrack_max $old_max -> $want_max (restored on exit)"
  fi
  ip netns add "$nsd"
  ip netns add "$nss"
  ip -n "$nsd" link set lo up
  ip -n "$nss" link set lo up
}

# Raises the kernel's conntrack hash table to N buckets (if it has fewer) for
# the run: at millions of flows the default chains are long and the kernel's
# side of every event and dump grows with them. Restored on exit.
bench_buckets() {  # N
  ((old_buckets < $1)) || return 0
  [ -w "$buckets_file" ] || die "cannot write $buckets_file"
  buckets_raised=1
  echo "$1" >"$buckets_file"
  log "nf_conntrack buckets $old_buckets -> $(cat "$buckets_file") (restored on exit)"
}

# A sleep that forks nothing: a read that times out on a FIFO nobody writes.
mkfifo "$tmp/nap"
exec {napfd}<>"$tmp/nap"
nap() { read -r -t "$1" -u "$napfd" _ || true; }
now() { echo "$EPOCHREALTIME"; }
calc() { echo "$*" | bc -l; }
fmt() { LC_ALL=C printf "%.${1}f" "$2"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "nan"}'; }
med() { printf '%s\n' "$@" | median; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14+$15)/hz}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
ns_count() { ip netns exec "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"; }  # KEY LINE

port=$((20000 + $$ % 20000))
while ss -ltnH "sport = :$port" | grep -q .; do port=$((port + 1)); done

# GET /-/ready through bash's /dev/tcp: polling with curl would fork and exec
# every time, which competes for the two cores with the dump being timed.
ready() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    read -r _ code _ <&3
    [ "$code" = 200 ]
  ) 2>/dev/null
}
scrape() { curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" >"$tmp/metrics" || die "scrape failed"; }
metric() {  # NAME NETNS: sum over every series of NAME with netns=NETNS
  awk -v n="$1" -v ns="netns=\"$2\"" 'index($0, n "{") == 1 && index($0, ns) {s += $NF} END {printf "%.6f\n", s + 0}' "$tmp/metrics"
}

dpid=
start_daemon() {  # NETNS|- [FLAG...]: starts ctcollectd, returns once /-/ready is 200
  local ns=$1 deadline netns_flag=()
  shift
  [ "$ns" = - ] || netns_flag=(--netns="$ns")
  "$daemon" --web.listen-address="127.0.0.1:$port" --control.socket="$tmp/ctl.sock" \
    "${netns_flag[@]}" --resync-interval=1h "$@" 2>>"$tmp/daemon.log" &
  dpid=$!
  pids+=("$dpid")
  deadline=$(calc "$(now) + 180")
  until ready; do
    kill -0 "$dpid" 2>/dev/null || { tail -5 "$tmp/daemon.log" >&2; die "ctcollectd exited before ready"; }
    (($(calc "$(now) > $deadline"))) && { tail -5 "$tmp/daemon.log" >&2; die "ctcollectd not ready within 180 s"; }
    nap 0.25  # each poll forks (subshell, date, bc, sleep): keep them rare while the dump is timed
  done
}
stop_daemon() {
  kill -TERM "$dpid"
  timeout 10 tail --pid="$dpid" -f /dev/null || { log "ctcollectd ignored SIGTERM"; kill -KILL "$dpid"; }
  wait "$dpid" 2>/dev/null || true
}
# Returns once PID's CPU time stops growing (the backlog is drained): two
# reads 0.3 s apart within one clock tick. Nothing is scraped meanwhile, so
# the figure holds no HTTP work.
wait_idle() {  # PID
  local a b deadline
  deadline=$(calc "$(now) + 120")
  a=$(cpu_s "$1")
  while :; do
    nap 0.3
    b=$(cpu_s "$1")
    (($(calc "$b - $a <= 0.011"))) && return 0
    (($(calc "$(now) > $deadline"))) && { log "pid $1 still busy after 120 s"; return 0; }
    a=$b
  done
}
wait_ns_empty() {  # NETNS
  local deadline
  deadline=$(calc "$(now) + 120")
  while (($(ns_count "$1") > 0)); do
    (($(calc "$(now) > $deadline"))) && die "$1 still has $(ns_count "$1") flows"
    nap 0.2
  done
}
# One storm into NETNS; prints the CPU seconds PID spent on it, from 1 s
# after the caller saw it ready until its CPU time stopped growing.
storm_cpu() {  # PID NETNS
  local c0
  nap 1
  c0=$(cpu_s "$1")
  run_inject "$2" storm >/dev/null
  wait_idle "$1"
  calc "$(cpu_s "$1") - $c0"
}
# The flows' family and protocol: inject_family (ipv4) and inject_proto (tcp)
# if the caller sets them (ctinject's tuples: tools/ctinject/ctinject.cc).
run_inject() {  # NETNS MODE: ctinject's result line; dies if it failed to run
  local line
  line=$(ip netns exec "$1" "$inject" "$2" --count "$flows" --family "${inject_family:-ipv4}" --proto "${inject_proto:-tcp}" \
    --state ESTABLISHED --timeout 3600 --batch 256 --quiet) || true
  echo "$2: $line" >&2
  [[ $line == *created=* || $line == *deleted=* ]] || die "ctinject $2 printed nothing"
  echo "$line"
}
