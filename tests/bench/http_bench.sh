#!/usr/bin/env bash
# The exporter benchmark of issue 3, in one run on this machine:
#
#   a. /metrics: 200 sequential scrapes (one keep-alive connection, Python's
#      http.client) with SMALL (10k) and then FLOWS (1M) flows tracked in a
#      namespace: median and p99 wall time, and the server's own
#      ctcollect_scrape_duration_seconds; target median < 5 ms, and 1M
#      within 20% of 10k.
#   b. /api/v1/flows (JSON) of the FLOWS flows against `conntrack -L -o xml`
#      on the same table, alternating, ROUNDS times: wall time of each, and
#      the daemon's peak extra resident memory while it streams (VmRSS every
#      10 ms); target: at least as fast, peak extra < 16 MiB.
#
#   sudo tests/bench/http_bench.sh [OUT.md]   (default /tmp/http_bench.md)
#   Environment: BUILD (default build/release), ROUNDS (3), FLOWS (1000000),
#   SMALL (10000).
#
# Needs root: raises the global nf_conntrack_max for the run (restored on
# every exit); flows exist only in the namespace it makes and deletes.
set -euo pipefail
out=${1:-/tmp/http_bench.md}
rounds=${ROUNDS:-3}
flows=${FLOWS:-1000000}
small=${SMALL:-10000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
daemon=$build/daemon/ctcollectd
inject=$build/tools/ctinject/ctinject
# shellcheck source=tests/bench/stamp.sh
. "$root/tests/bench/stamp.sh"
die() { echo "http_bench: $*" >&2; exit 1; }
log() { echo "http_bench: $*" >&2; }
[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$daemon" ] && [ -x "$inject" ] ||
  die "missing binaries in $build (cmake --preset release && cmake --build build/release -j2)"
exec {lockfd}>/run/lock/ctcollect-core-bench.lock
flock -n "$lockfd" || die "another benchmark is running"

tmp=$(mktemp -d /tmp/http_bench.XXXXXX)
ns=ctbench-http-$$
old_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
dpid=
cleanup() {
  local rc=$?
  set +e
  [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  echo "$old_max" >/proc/sys/net/netfilter/nf_conntrack_max
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo $((flows + flows / 4)) >/proc/sys/net/netfilter/nf_conntrack_max
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" nft -f - <<'NFT'
table inet bench {
  chain out {
    type filter hook output priority 0; policy accept;
    ct state new accept
  }
}
NFT
port=$((21000 + $$ % 20000))
inj() { ip netns exec "$ns" "$inject" create --family ipv4 --proto tcp --state ESTABLISHED \
          --timeout 3600 --batch 256 --quiet "$@" >&2; }

inj --count "$small"
"$daemon" --web.listen-address="127.0.0.1:$port" --control.socket="$tmp/ctl.sock" \
  --netns="$ns" --resync-interval=1h 2>"$tmp/daemon.log" &
dpid=$!
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done

# 200 scrapes on one keep-alive connection: "median_ms p99_ms server_ms".
scrapes() {
  python3 - "$port" <<'PY'
import http.client, statistics, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
t = []
for i in range(220):
    s = time.perf_counter(); c.request("GET", "/metrics"); body = c.getresponse().read()
    if i >= 20: t.append((time.perf_counter() - s) * 1000)   # 20 warm-up
server = [float(l.split()[-1]) * 1000 for l in body.decode().splitlines()
          if l.startswith("ctcollect_scrape_duration_seconds")][0]
t.sort()
print("%.3f %.3f %.3f %d" % (statistics.median(t), t[int(len(t) * 0.99) - 1], server, len(body)))
PY
}
read -r m_small p99_small srv_small bytes_small < <(scrapes)
log "scrape at $small flows: median ${m_small} ms p99 ${p99_small} ms server ${srv_small} ms ($bytes_small bytes)"
inj --count $((flows - small)) --offset "$small"
# Let the daemon take in the events before timing.
for _ in $(seq 300); do
  n=$(curl -sf "http://127.0.0.1:$port/metrics" | awk -v ns="netns=\"$ns\"" '/^ctcollect_flow_table_entries/ && index($0, ns) {print $NF}')
  [ "${n%.*}" -ge "$flows" ] 2>/dev/null && break
  sleep 0.5
done
read -r m_big p99_big srv_big bytes_big < <(scrapes)
log "scrape at $flows flows: median ${m_big} ms p99 ${p99_big} ms server ${srv_big} ms ($bytes_big bytes)"

# Streaming: the daemon's JSON against conntrack -L -o xml, alternating.
stream() {
  python3 - "$port" "$dpid" "$ns" <<'PY'
import sys, threading, time, urllib.request
port, pid, ns = sys.argv[1], sys.argv[2], sys.argv[3]
def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"): return int(l.split()[1])
base = rss(); peak = [base]; done = [False]
def sample():
    while not done[0]:
        peak[0] = max(peak[0], rss()); time.sleep(0.01)
t = threading.Thread(target=sample); t.start()
s = time.perf_counter(); n = 0
with urllib.request.urlopen("http://127.0.0.1:%s/api/v1/flows?netns=%s" % (port, ns), timeout=300) as r:
    while True:
        b = r.read(1 << 20)
        if not b: break
        n += b.count(b'"netns"')
wall = time.perf_counter() - s
done[0] = True; t.join()
print("%.3f %d %d" % (wall, (peak[0] - base), n))
PY
}
json=() ; xml=() ; extra=()
for r in $(seq "$rounds"); do
  read -r w kib count < <(stream)
  json+=("$w"); extra+=("$kib")
  s=$EPOCHREALTIME
  lines=$(ip netns exec "$ns" conntrack -L -o xml 2>/dev/null | grep -o '<flow>' | wc -l)
  xml+=("$(echo "$EPOCHREALTIME - $s" | bc -l)")
  log "round $r: json ${w} s ($count flows, peak extra ${kib} KiB), conntrack -L -o xml ${xml[-1]} s ($lines flows)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mj=$(median "${json[@]}"); mx=$(median "${xml[@]}"); me=$(median "${extra[@]}")
max_extra=$(printf '%s\n' "${extra[@]}" | sort -g | tail -1)
{
  echo "### Exporter benchmark ($(bench_stamp), $rounds rounds, $flows flows)"
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| /metrics median / p99 at $small flows | $m_small ms / $p99_small ms (server $srv_small ms, $bytes_small bytes) |"
  echo "| /metrics median / p99 at $flows flows | $m_big ms / $p99_big ms (server $srv_big ms, $bytes_big bytes) |"
  echo "| 1M/10k median ratio | $(echo "scale=3; $m_big / $m_small" | bc -l) |"
  echo "| /api/v1/flows JSON, $flows flows (median of $rounds) | $mj s |"
  echo "| conntrack -L -o xml, same table (median of $rounds) | $mx s |"
  echo "| JSON time / conntrack time | $(echo "scale=3; $mj / $mx" | bc -l) |"
  echo "| daemon peak extra RSS while streaming (median, max) | $me KiB, $max_extra KiB |"
} | tee "$out"
