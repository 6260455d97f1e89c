#!/usr/bin/env bash
# Replication benchmark (issue 6): a bulk send of FLOWS (1M) flows by
# conntrackd (`conntrackd -B`) and by ctcollectd (`ctcollect -B`) from the
# same kernel table, side by side in one run, alternating, ROUNDS times.
#
#   sudo tests/bench/sync_bench.sh [OUT.md]      (default /tmp/sync_bench.md)
#
# Two namespaces a and b joined by a veth pair (198.18.0.1 / 198.18.0.2,
# the replication port left untracked), FLOWS ESTABLISHED tcp flows
# injected into a's table with ctinject. The receiver in b is ctcollectd in
# FT-FW (the same receiver for both senders); the sender in a is conntrackd
# 1.4.7 (FT-FW, its cache loaded from a's table at start) or ctcollectd
# (FT-FW). Time: from the -B request to the moment b's external cache holds
# all FLOWS flows (conntrack_peer_entries, polled every 50 ms). CPU: the
# sender's user+system seconds over that interval.
#
# PERF=FILE records a cpu-clock profile of ctcollectd's send (perf).
# Needs root. Raises the global nf_conntrack_max for the run and restores
# it. Nothing leaves the two namespaces.
set -euo pipefail

out=${1:-/tmp/sync_bench.md}
rounds=${ROUNDS:-3}
flows=${FLOWS:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/dev}
daemon=$build/daemon/ctcollectd
client=$build/client/ctcollect
inject=$build/tools/ctinject/ctinject

# shellcheck source=tests/bench/stamp.sh
. "$root/tests/bench/stamp.sh"
die() { echo "sync_bench: $*" >&2; exit 1; }
log() { echo "sync_bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root"
for b in "$daemon" "$client" "$inject"; do [ -x "$b" ] || die "missing $b"; done
for t in ip nft conntrackd curl awk bc; do
  command -v "$t" >/dev/null || die "missing tool: $t (scripts/install-deps.sh)"
done

tmp=$(mktemp -d /tmp/sync_bench.XXXXXX)
a=ctsbench-a-$$
b=ctsbench-b-$$
old_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null && { timeout 10 tail --pid="$p" -f /dev/null || kill -KILL "$p"; } 2>/dev/null
  done
  ip netns del "$a" 2>/dev/null
  ip netns del "$b" 2>/dev/null
  echo "$old_max" >/proc/sys/net/netfilter/nf_conntrack_max
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { echo "$EPOCHREALTIME"; }
calc() { echo "$*" | bc -l; }
fmt() { LC_ALL=C printf "%.${1}f" "$2"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14+$15)/hz}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

echo $((flows * 3)) >/proc/sys/net/netfilter/nf_conntrack_max
ip netns add "$a"
ip netns add "$b"
ip link add "sba$$" netns "$a" type veth peer name "sbb$$" netns "$b"
for side in a b; do
  ns=${!side}
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "sb$side$$" up
  ip -n "$ns" addr add "198.18.0.$([ $side = a ] && echo 1 || echo 2)/24" dev "sb$side$$"
  ip netns exec "$ns" nft -f - <<'EOF'
table inet bench {
  chain out { type filter hook output priority raw; udp dport 3780 notrack; udp sport 3780 notrack; }
  chain pre { type filter hook prerouting priority raw; udp dport 3780 notrack; udp sport 3780 notrack; }
}
EOF
done
log "injecting $flows flows into a"
ip netns exec "$a" "$inject" create --count "$flows" --proto tcp --state ESTABLISHED --timeout 3600 --quiet >/dev/null

# The receiver: ctcollectd in b, FT-FW, for both rounds.
rport=$((20000 + $$ % 20000))
ip netns exec "$b" "$daemon" --web.listen-address="127.0.0.1:$rport" --control.socket="$tmp/b.sock" \
  --sync.mode=ftfw --sync.listen-address=198.18.0.2:3780 --sync.peer=198.18.0.1:3780 \
  --sync.interface="sbb$$" --sync.receive-buffer=256M --resync-interval=1h 2>>"$tmp/b.log" &
pids+=("$!")
entries() {
  ip netns exec "$b" curl -sf --max-time 5 "http://127.0.0.1:$rport/metrics" |
    awk '/^conntrack_peer_entries\{/ {s += $NF} END {printf "%d\n", s + 0}'
}
until ip netns exec "$b" curl -sf --max-time 2 "http://127.0.0.1:$rport/-/ready" >/dev/null; do sleep 0.2; done

conf="$tmp/a.conf"
cat >"$conf" <<EOF
Sync {
	Mode FTFW {
	}
	UDP {
		IPv4_address 198.18.0.1
		IPv4_Destination_Address 198.18.0.2
		Port 3780
		Interface sba$$
		SndSocketBuffer 16777216
		RcvSocketBuffer 16777216
		Checksum on
	}
}
General {
	Systemd off
	HashSize 262144
	HashLimit $((flows * 2))
	LogFile $tmp/conntrackd.log
	Syslog off
	LockFile $tmp/conntrackd.lock
	UNIX {
		Path $tmp/conntrackd.sock
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 67108864
}
EOF

# Waits until b holds all flows; prints the seconds since $1.
wait_all() {
  local t0=$1 n deadline
  deadline=$(calc "$t0 + 300")
  while :; do
    n=$(entries)
    [ "$n" -ge "$flows" ] && break
    (($(calc "$(now) > $deadline"))) && die "b has $n of $flows flows after 300 s"
    sleep 0.05
  done
  fmt 2 "$(calc "$(now) - $t0")"
}
flush_b() {
  "$client" --control.socket="$tmp/b.sock" -f external >/dev/null
  until [ "$(entries)" -eq 0 ]; do sleep 0.1; done
}

declare -a ct_t ct_cpu ctc_t ctc_cpu
for r in $(seq 1 "$rounds"); do
  # --- conntrackd ---
  ip netns exec "$a" conntrackd -C "$conf" >>"$tmp/conntrackd.out" 2>&1 &
  cpid=$!
  pids+=("$cpid")
  until ip netns exec "$a" conntrackd -C "$conf" -s 2>/dev/null |
        awk -v n="$flows" '/current active connections/ && !seen {found = ($NF + 0 >= n); seen = 1} END {exit !found}'; do
    kill -0 "$cpid" 2>/dev/null || { tail -5 "$tmp/conntrackd.log" >&2; die "conntrackd exited"; }
    sleep 0.5
  done
  sleep 2  # its HELLO handshake with b
  flush_b
  c0=$(cpu_s "$cpid"); t0=$(now)
  ip netns exec "$a" conntrackd -C "$conf" -B
  ct_t[r]=$(wait_all "$t0")
  ct_cpu[r]=$(fmt 2 "$(calc "$(cpu_s "$cpid") - $c0")")
  ct_rss=$(rss_kib "$cpid")
  kill -TERM "$cpid"; timeout 20 tail --pid="$cpid" -f /dev/null || kill -KILL "$cpid"
  log "round $r: conntrackd -B ${ct_t[r]} s (cpu ${ct_cpu[r]} s)"

  # --- ctcollectd ---
  aport=$((rport + 1))
  ip netns exec "$a" "$daemon" --web.listen-address="127.0.0.1:$aport" --control.socket="$tmp/a.sock" \
    --sync.mode=ftfw --sync.listen-address=198.18.0.1:3780 --sync.peer=198.18.0.2:3780 \
    --sync.interface="sba$$" --resync-interval=1h 2>>"$tmp/a.log" &
  dpid=$!
  pids+=("$dpid")
  until ip netns exec "$a" curl -sf --max-time 2 "http://127.0.0.1:$aport/-/ready" >/dev/null; do sleep 0.2; done
  # Its internal cache loaded from a's table, as conntrackd's is above.
  until ip netns exec "$a" curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" |
        awk -v n="$flows" '/^ctcollect_peer_internal_flows / {ok = ($NF + 0 >= n)} END {exit !ok}'; do
    sleep 0.2
  done
  sleep 2
  flush_b
  c0=$(cpu_s "$dpid"); t0=$(now)
  if [ -n "${PERF:-}" ]; then  # PERF=FILE: a cpu-clock profile of the sender
    perf record -q -e cpu-clock -g -p "$dpid" -o "$PERF" 2>/dev/null &
    perf_pid=$!
    sleep 0.2
  fi
  "$client" --control.socket="$tmp/a.sock" -B >/dev/null
  ctc_t[r]=$(wait_all "$t0")
  [ -n "${PERF:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; }
  ctc_cpu[r]=$(fmt 2 "$(calc "$(cpu_s "$dpid") - $c0")")
  ctc_rss=$(rss_kib "$dpid")
  kill -TERM "$dpid"; timeout 20 tail --pid="$dpid" -f /dev/null || kill -KILL "$dpid"
  log "round $r: ctcollect -B ${ctc_t[r]} s (cpu ${ctc_cpu[r]} s)"
done

mt_ct=$(printf '%s\n' "${ct_t[@]}" | median)
mt_ctc=$(printf '%s\n' "${ctc_t[@]}" | median)
mc_ct=$(printf '%s\n' "${ct_cpu[@]}" | median)
mc_ctc=$(printf '%s\n' "${ctc_cpu[@]}" | median)
{
  echo "### Replication bulk send ($(bench_stamp), $rounds rounds, $flows flows)"
  echo
  echo "| bulk send of $flows flows, FT-FW over UDP on a veth, to ctcollectd | conntrackd 1.4.7 \`-B\` | ctcollectd \`ctcollect -B\` | ratio |"
  echo "|---|---|---|---|"
  echo "| time until the receiver holds every flow (median of $rounds) | $mt_ct s | $mt_ctc s | $(fmt 2 "$(calc "$mt_ctc / $mt_ct")")x |"
  echo "| sender CPU seconds over that time | $mc_ct | $mc_ctc | $(fmt 2 "$(calc "$mc_ctc / ($mc_ct + 0.001)")")x |"
  echo "| sender RSS with $flows flows (KiB) | $ct_rss | $ctc_rss | $(fmt 2 "$(calc "$ctc_rss / $ct_rss")")x |"
  echo
  echo "rounds (conntrackd / ctcollectd, s): $(paste -d/ <(printf '%s\n' "${ct_t[@]}") <(printf '%s\n' "${ctc_t[@]}") | tr '\n' ' ')"
} | tee "$out"
