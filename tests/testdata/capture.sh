#!/usr/bin/env bash
# Re-creates the captured ctnetlink messages in this folder from the running
# kernel. Every capture runs in a network namespace of its own, made here
# and deleted on exit; traffic only ever goes over that namespace's
# loopback, and the sysctls changed are the namespace's own.
#
# Usage: tests/testdata/capture.sh BUILD_DIR [NAME...]
#   BUILD_DIR holds tools/nlcapture/nlcapture and tools/ctinject/ctinject
#   (e.g. build/dev); NAMEs pick captures (tcp tcp_acct udp icmp injected
#   dump ftp stats), default all. Needs root, python3, ping, conntrack, nft.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: capture.sh BUILD_DIR [NAME...]}" && pwd)
shift
cap=$build/tools/nlcapture/nlcapture
inj=$build/tools/ctinject/ctinject
for b in "$cap" "$inj"; do
  [ -x "$b" ] || { echo "capture.sh: missing $b" >&2; exit 1; }
done
namespaces=()
capture_pid=
cleanup() {
  if [ -n "$capture_pid" ]; then kill "$capture_pid" 2>/dev/null || true; fi
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

ns=
nsx() { ip netns exec "$ns" "$@"; }

# A fresh namespace with lo up and a ruleset that makes it track traffic
# (a namespace tracks nothing until a rule uses conntrack).
new_ns() {  # NAME [extra nft statements for chain out]
  ns=ctcap-$1-$$
  namespaces+=("$ns")
  ip netns add "$ns"
  nsx ip link set lo up
  nsx nft -f - <<EOF
table inet cap {
  ct helper ftp-std { type "ftp" protocol tcp; l3proto inet; }
  chain out {
    type filter hook output priority 0;
    ${2:-}
    ct state new,established,related accept
  }
}
EOF
}

del_ns() {
  ip netns del "$ns"
  unset 'namespaces[-1]'
}

# Short timeouts, in this namespace only, so flows end by the kernel's own
# expiry and their DESTROY events come within seconds.
short_timeouts() {
  nsx sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_fin_wait=1 \
    net.netfilter.nf_conntrack_tcp_timeout_close_wait=1 \
    net.netfilter.nf_conntrack_tcp_timeout_last_ack=1 \
    net.netfilter.nf_conntrack_tcp_timeout_time_wait=1 \
    net.netfilter.nf_conntrack_tcp_timeout_close=1 \
    net.netfilter.nf_conntrack_udp_timeout=1 \
    net.netfilter.nf_conntrack_udp_timeout_stream=1
}

capture_log=
start_events() {  # FILE
  local err
  err=$(mktemp)
  capture_log=$err
  # Not through nsx: $! must be nlcapture itself (ip netns exec execs it).
  ip netns exec "$ns" "$cap" events --out "$here/$1" --timeout 60 2>"$err" &
  capture_pid=$!
  until grep -q listening "$err"; do sleep 0.05; done
}

# Waits until the namespace's table is empty (every DESTROY sent), then
# stops the capture.
stop_events_when_empty() {
  for _ in $(seq 1 300); do
    [ "$(nsx conntrack -C)" = 0 ] && break
    sleep 0.1
  done
  sleep 0.3
  kill -TERM "$capture_pid"
  wait "$capture_pid"
  capture_pid=
  grep -v listening "$capture_log" >&2 || true
  rm -f "$capture_log"
}

tcp_session() {  # one request, 3000 bytes back, the server closes first
  nsx python3 - <<'PY'
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8080)); s.listen()
def serve():
    c, _ = s.accept(); c.recv(100); c.sendall(b"x" * 3000); c.close()
t = threading.Thread(target=serve); t.start()
c = socket.create_connection(("127.0.0.1", 8080)); c.sendall(b"hello")
while c.recv(4096): pass
c.close(); t.join()
PY
}

capture_tcp() {  # FILE [acct]
  new_ns tcp
  short_timeouts
  if [ "${2:-}" = acct ]; then
    nsx sysctl -qw net.netfilter.nf_conntrack_acct=1 \
      net.netfilter.nf_conntrack_timestamp=1
  fi
  start_events "$1"
  tcp_session
  stop_events_when_empty
  del_ns
}

capture_udp() {  # a query and answer, and a second one 2.2 s later (stream)
  new_ns udp
  short_timeouts
  # Long enough to keep the flow between the two exchanges; once it is a
  # stream (assured), the 1 s stream timeout ends it.
  nsx sysctl -qw net.netfilter.nf_conntrack_udp_timeout=5
  start_events events_udp_v6.nlmsg
  nsx python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 5353))
c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for q in (b"query", b"again"):
    c.sendto(q, ("::1", 5353)); d, a = s.recvfrom(100); s.sendto(b"answer", a)
    c.recvfrom(100)
    if q == b"query": time.sleep(2.2)
PY
  stop_events_when_empty
  del_ns
}

capture_icmp() {
  new_ns icmp
  start_events events_icmp_v4.nlmsg
  nsx ping -c 1 -q 127.0.0.1 >/dev/null
  nsx conntrack -D -p icmp >/dev/null 2>&1
  stop_events_when_empty
  del_ns
}

capture_injected() {
  new_ns injected
  start_events events_injected_mix.nlmsg
  local sets=(
    "--proto sctp --zone 7 --mark 42"
    "--proto sctp --family ipv6 --state COOKIE_WAIT --zone 7"
    "--proto dccp --zone 8 --mark 1"
    "--proto gre --mark 16"
    "--proto udplite --family ipv6 --zone 9 --mark 7"
    "--proto icmpv6 --family ipv6 --zone 7 --mark 42"
    "--proto 250 --zone 65535 --mark 4294967295"
  )
  for s in "${sets[@]}"; do
    # shellcheck disable=SC2086
    nsx "$inj" create --count 2 $s >/dev/null
  done
  for s in "${sets[@]}"; do
    # shellcheck disable=SC2086
    nsx "$inj" delete --count 2 $s >/dev/null
  done
  stop_events_when_empty
  del_ns
}

capture_dump() {  # and the stats replies, of the same table
  new_ns dump
  local s offset=0
  for s in "SYN_SENT" "SYN_RECV" "ESTABLISHED --mark 3" "FIN_WAIT" \
    "CLOSE_WAIT" "LAST_ACK" "TIME_WAIT --zone 4" "CLOSE"; do
    # shellcheck disable=SC2086
    nsx "$inj" create --count 1 --proto tcp --state $s --offset $offset \
      >/dev/null
    offset=$((offset + 1))
  done
  nsx "$inj" create --count 2 --proto tcp --family ipv6 --state ESTABLISHED \
    --zone 2 --offset 100 >/dev/null
  nsx "$inj" create --count 2 --proto udp --zone 5 --mark 9 >/dev/null
  nsx "$inj" create --count 1 --proto icmp >/dev/null
  nsx ping -c 1 -q 127.0.0.1 >/dev/null
  nsx ping -6 -c 1 -q ::1 >/dev/null
  # A real TCP connection and a real UDP exchange, still open while the
  # table is dumped.
  nsx python3 - "$cap" "$here/dump_mix.nlmsg" <<'PY'
import socket, subprocess, sys
srv = socket.socket(); srv.bind(("127.0.0.1", 8080)); srv.listen()
c = socket.create_connection(("127.0.0.1", 8080)); a, _ = srv.accept()
c.sendall(b"hello"); a.recv(10)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 53))
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); q.sendto(b"q", ("127.0.0.1", 53))
d, peer = u.recvfrom(10); u.sendto(b"a", peer); q.recvfrom(10)
subprocess.run([sys.argv[1], "dump", "--out", sys.argv[2]], check=True)
PY
  nsx "$cap" stats-cpu --out "$here/stats_cpu.nlmsg"
  nsx "$cap" stats --out "$here/stats.nlmsg"
  nsx "$cap" exp-stats-cpu --out "$here/exp_stats_cpu.nlmsg"
  del_ns
}

capture_ftp() {  # an FTP session through the kernel's ftp helper
  new_ns ftp 'tcp dport 21 ct helper set "ftp-std"'
  short_timeouts
  start_events events_exp_ftp.nlmsg
  nsx python3 - "$cap" "$here/exp_dump.nlmsg" <<'PY'
import socket, subprocess, sys, threading
ctl = socket.socket(); ctl.bind(("127.0.0.1", 21)); ctl.listen()
data = socket.socket(); data.bind(("127.0.0.1", 0)); data.listen()
port = data.getsockname()[1]
def server():
    c, _ = ctl.accept(); f = c.makefile("rb", buffering=0)
    c.sendall(b"220 ctcollect test\r\n")
    for line in f:
        cmd = line.split()[0].upper()
        if cmd == b"USER": c.sendall(b"331 ok\r\n")
        elif cmd == b"PASS": c.sendall(b"230 ok\r\n")
        elif cmd == b"PASV":
            c.sendall(b"227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n"
                      % (port >> 8, port & 255))
        elif cmd == b"LIST":
            c.sendall(b"150 here\r\n"); d, _ = data.accept()
            d.sendall(b"file\r\n"); d.close(); c.sendall(b"226 done\r\n")
        elif cmd == b"QUIT": c.sendall(b"221 bye\r\n"); break
    c.close()
t = threading.Thread(target=server); t.start()
c = socket.create_connection(("127.0.0.1", 21)); f = c.makefile("rb", buffering=0)
def cmd(s):
    c.sendall(s + b"\r\n"); return f.readline()
f.readline(); cmd(b"USER anonymous"); cmd(b"PASS x")
r = cmd(b"PASV"); n = r[r.index(b"(") + 1:r.index(b")")].split(b",")
# The helper has seen the 227 reply: the expectation is in the table.
subprocess.run([sys.argv[1], "exp-dump", "--out", sys.argv[2]], check=True)
cmd(b"LIST")
d = socket.create_connection(("127.0.0.1", int(n[4]) * 256 + int(n[5])))
d.recv(100); d.close(); f.readline(); cmd(b"QUIT"); c.close(); t.join()
PY
  stop_events_when_empty
  del_ns
}

capture_policies() {  # cttimeout objects and nft ct timeout objects
  new_ns policies
  nsx nfct timeout add web inet tcp established 100 syn_sent 5
  nsx nfct timeout add dns inet udp unreplied 3 replied 9
  nsx nfct timeout add ping6 inet6 icmpv6 timeout 4
  nsx nft -f - <<'NFT'
table inet ctp {
  counter c {
  }
  ct timeout fast {
    protocol tcp
    l3proto ip
    policy = { established: 111, close: 13 }
  }
  ct timeout udp6 {
    protocol udp
    l3proto ip6
    policy = { unreplied: 2 }
  }
}
NFT
  nsx "$cap" timeout-dump --out "$here/timeout_dump.nlmsg"
  nsx "$cap" nft-obj-dump --out "$here/nft_obj_dump.nlmsg"
  del_ns
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(tcp tcp_acct udp icmp injected dump ftp policies)
for name in "${names[@]}"; do
  case $name in
    tcp) capture_tcp events_tcp_v4.nlmsg ;;
    tcp_acct) capture_tcp events_tcp_v4_acct.nlmsg acct ;;
    udp) capture_udp ;;
    icmp) capture_icmp ;;
    injected) capture_injected ;;
    dump|stats) capture_dump ;;
    ftp) capture_ftp ;;
    policies) capture_policies ;;
    *) echo "capture.sh: unknown capture $name" >&2; exit 2 ;;
  esac
done
ls -l "$here"/*.nlmsg
