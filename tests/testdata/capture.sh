#!/usr/bin/env bash
# Re-creates the captured ctnetlink messages in this folder from the running
# kernel, inside a network namespace made for the purpose (and deleted).
# Usage: tests/testdata/capture.sh BUILD_DIR   (e.g. build/dev)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: capture.sh BUILD_DIR}" && pwd)
cap=$build/tools/nlcapture/nlcapture
inj=$build/tools/ctinject/ctinject
ns=ctcap-$$
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up
# A fresh namespace tracks nothing until a ruleset uses conntrack.
nsx nft add table inet cap
nsx nft add chain inet cap out '{ type filter hook output priority 0; }'
nsx nft add rule inet cap out ct state new,established accept

capture_events() {  # FILE then a command that makes the events
  local file=$1; shift
  nsx "$cap" events --out "$here/$file" --timeout 4 &
  local pid=$!
  sleep 0.5
  "$@"
  sleep 0.5
  nsx conntrack -F >/dev/null 2>&1 || true
  wait "$pid"
}

tcp_session() {
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

udp_v6() {
  nsx python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 5353))
c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); c.sendto(b"q", ("::1", 5353))
d, a = s.recvfrom(100); s.sendto(b"answer", a); c.recvfrom(100)
PY
}

icmp_echo() {
  nsx python3 - <<'PY'
import socket, struct
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
hdr = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"ctcollect"
hdr = hdr[:2] + struct.pack("!H", csum(hdr + b"\0")) + hdr[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1); s.sendto(hdr, ("127.0.0.1", 0)); s.recv(100)
PY
}

injected_mix() {
  for p in sctp dccp gre udplite 250; do
    nsx "$inj" create --count 3 --proto "$p" --zone 7 --mark 42 --quiet
    nsx "$inj" delete --count 3 --proto "$p" --zone 7 --quiet
  done
  nsx "$inj" create --count 3 --proto icmpv6 --family ipv6 --quiet
  nsx "$inj" delete --count 3 --proto icmpv6 --family ipv6 --quiet
}

capture_events events_tcp_v4.nlmsg tcp_session
capture_events events_udp_v6.nlmsg udp_v6
capture_events events_icmp_v4.nlmsg icmp_echo
capture_events events_injected_mix.nlmsg injected_mix
nsx sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1
capture_events events_tcp_v4_acct.nlmsg tcp_session

# A table holding a mix, dumped.
for st in SYN_SENT ESTABLISHED TIME_WAIT; do
  nsx "$inj" create --count 2 --proto tcp --state "$st" --offset $RANDOM --quiet
done
nsx "$inj" create --count 2 --proto udp --zone 5 --mark 9 --quiet
nsx "$inj" create --count 2 --proto tcp --family ipv6 --quiet
nsx "$inj" create --count 2 --proto icmp --quiet
nsx "$cap" dump --out "$here/dump_mix.nlmsg"
nsx "$cap" stats-cpu --out "$here/stats_cpu.nlmsg"
nsx "$cap" stats --out "$here/stats.nlmsg"
nsx "$cap" exp-stats-cpu --out "$here/exp_stats_cpu.nlmsg"
ls -l "$here"/*.nlmsg
