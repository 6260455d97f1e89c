#!/usr/bin/env bash
# Re-creates the captured conntrackd replication traffic in this folder:
# two network namespaces joined by a veth pair, the real conntrackd 1.4.7
# in each, flows made in namespace a (the sender), and tcpdump in
# namespace b recording the link (both directions: a's state messages,
# b's ACKs, both sides' HELLO/ALIVE). Every namespace is made here and
# deleted on exit; traffic only ever goes over the veth pair and a's own
# loopback; every address is in 198.18.0.0/15 (IPv6 flows use the
# IPv4-mapped ::ffff:198.18.x.y).
#
# Usage: tests/testdata/sync/capture.sh [NAME...]
#   NAMEs: ftfw (FT-FW over UDP), notrack (NOTRACK over UDP), tcp (FT-FW
#   over conntrackd's TCP channel), alarm (ALARM over UDP); default all.
#   Needs root, conntrackd and conntrack (1.4.7), tcpdump, nft, ip,
#   python3.
#
# For each NAME it writes, next to this script:
#   NAME.pcap       what tcpdump recorded (classic pcap, Ethernet)
#   NAME_NNN.bin    the payload of each UDP datagram / TCP data segment
#                   (extract.py), NNN from 001 in capture order
#   NAME.txt        the record of the run: each step's command, the
#                   kernel table in a after it (`conntrack -L -o
#                   extended,id`, expectations), what b's conntrackd
#                   holds at the end (-e, -e -x, -s), and extract.py's
#                   listing of every file
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=3780
for t in conntrackd conntrack tcpdump nft ip python3; do
  command -v "$t" >/dev/null || { echo "capture.sh: needs $t" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "capture.sh: needs root" >&2; exit 1; }

run=$(mktemp -d /tmp/ctsync-cap-XXXXXX)
A=ctsync-a-$$
B=ctsync-b-$$
IFA=ctsa$$  # veth ends: at most 15 characters
IFB=ctsb$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT

na() { ip netns exec "$A" "$@"; }
nb() { ip netns exec "$B" "$@"; }

# Two namespaces, a veth between them, 198.18.0.1/24 in a and
# 198.18.0.2/24 in b, IPv6 off on the veth (no DAD or MLD noise), a
# multicast route, and rulesets that (1) make both namespaces track their
# traffic, (2) give tcp/21 in a the ftp helper, (3) leave the replication
# traffic itself untracked (raw priority), so that conntrackd does not
# replicate its own link. a also gets 198.18.5.1 on lo for a real FTP
# session.
make_pair() {
  ip netns add "$A"
  ip netns add "$B"
  ip -n "$A" link add "$IFA" type veth peer name "$IFB" netns "$B"
  local ns ifn addr
  for ns in "$A" "$B"; do
    if [ "$ns" = "$A" ]; then ifn=$IFA addr=198.18.0.1; else ifn=$IFB addr=198.18.0.2; fi
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifn.disable_ipv6=1"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev "$ifn"
    ip -n "$ns" link set "$ifn" up
    ip -n "$ns" route add 224.0.0.0/4 dev "$ifn"
    ip netns exec "$ns" nft -f - <<EOF
table inet cap {
  ct helper ftp-std { type "ftp" protocol tcp; l3proto inet; }
  chain out {
    type filter hook output priority 0;
    tcp dport 21 ct helper set "ftp-std"
    ct state new,established,related accept
  }
  chain in {
    type filter hook input priority 0;
    ct state new,established,related accept
  }
}
table inet capraw {
  chain out {
    type filter hook output priority raw;
    udp dport $port notrack
    udp sport $port notrack
    tcp dport $port notrack
    tcp sport $port notrack
    ip daddr 224.0.0.0/4 notrack
  }
  chain pre {
    type filter hook prerouting priority raw;
    udp dport $port notrack
    udp sport $port notrack
    tcp dport $port notrack
    tcp sport $port notrack
    ip daddr 224.0.0.0/4 notrack
  }
}
EOF
  done
  na ip addr add 198.18.5.1/32 dev lo
}

delete_pair() {
  ip netns del "$A"
  ip netns del "$B"
}

# conntrackd.conf for one side. MODE: FTFW NOTRACK ALARM; CHANNEL: UDP TCP.
write_conf() {  # FILE DIR MODE CHANNEL LOCAL PEER IFNAME
  local file=$1 dir=$2 mode=$3 channel=$4 local_ip=$5 peer=$6 ifn=$7 body=
  case $mode in
    ALARM) body=$'\t\tRefreshTime 3\n\t\tCacheTimeout 30\n' ;;
  esac
  cat >"$file" <<EOF
Sync {
	Mode $mode {
$body	}
	$channel {
		IPv4_address $local_ip
		IPv4_Destination_Address $peer
		Port $port
		Interface $ifn
		Checksum on
	}
	Options {
		ExpectationSync On
	}
}
General {
	Systemd off
	HashSize 8192
	HashLimit 65536
	LogFile $dir/conntrackd.log
	Syslog off
	LockFile $dir/conntrackd.lock
	UNIX {
		Path $dir/conntrackd.sock
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
}
EOF
}

start_conntrackd() {  # NS CONF
  ip netns exec "$1" conntrackd -C "$2" >"$2.console" 2>&1 &
  pids+=("$!")
  local _
  for _ in $(seq 50); do
    if ip netns exec "$1" conntrackd -C "$2" -s >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  echo "capture.sh: conntrackd -C $2 did not start:" >&2
  cat "$2.console" >&2
  exit 1
}

stop_pid() {  # PID: SIGTERM and wait for it
  kill "$1" 2>/dev/null || return 0
  local _
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null || true
}

record=
note() { printf '%s\n' "$*" >>"$record"; }
table_a() {
  {
    echo '$ conntrack -L -o extended,id    (in a)'
    na conntrack -L -o extended,id 2>/dev/null || true
    echo '$ conntrack -L expect    (in a)'
    na conntrack -L expect 2>/dev/null || true
  } >>"$record"
}
# Runs a shell command line in a, logs it and the table after it, and
# leaves a gap so that the next step's messages go in a datagram of their
# own.
step() {  # LABEL COMMAND-LINE
  note ""
  note "## $1"
  note "\$ $2"
  na sh -c "$2" >>"$record" 2>&1 || note "(exit status $?)"
  sleep 0.4
  table_a
  sleep 0.6
}

capture() {  # NAME MODE CHANNEL
  local name=$1 mode=$2 channel=$3
  record=$run/$name.txt
  : >"$record"
  make_pair
  mkdir -p "$run/$name-a" "$run/$name-b"
  write_conf "$run/$name-a/conntrackd.conf" "$run/$name-a" "$mode" "$channel" \
    198.18.0.1 198.18.0.2 "$IFA"
  write_conf "$run/$name-b/conntrackd.conf" "$run/$name-b" "$mode" "$channel" \
    198.18.0.2 198.18.0.1 "$IFB"
  local filter="udp port $port"
  [ "$channel" = TCP ] && filter="tcp port $port"
  # Not through nb(): a function in the background is a subshell, and $!
  # must be the process itself.
  ip netns exec "$B" tcpdump -i "$IFB" -n -s 0 -U -w "$run/$name.pcap" \
    "$filter" 2>"$run/tcpdump.err" &
  local dump=$!
  pids+=("$dump")
  local _
  for _ in $(seq 50); do
    grep -q "listening on" "$run/tcpdump.err" 2>/dev/null && break
    sleep 0.1
  done
  # b (the receiver) first, then a: a's first messages meet a listener.
  start_conntrackd "$B" "$run/$name-b/conntrackd.conf"
  start_conntrackd "$A" "$run/$name-a/conntrackd.conf"
  local pb=${pids[-2]} pa=${pids[-1]}
  note "# $name: conntrackd $mode over $channel, a=198.18.0.1 ($IFA) b=198.18.0.2 ($IFB), port $port"
  note "# started $(date -u +%FT%TZ); conntrackd.conf of a:"
  sed 's/^/#   /' "$run/$name-a/conntrackd.conf" >>"$record"
  sleep 2.5  # HELLO handshake and a few ALIVEs
  step "TCP ESTABLISHED with mark and zone" \
    "conntrack -I -p tcp -s 198.18.1.1 -d 198.18.2.1 --sport 40001 --dport 80 --state ESTABLISHED -u SEEN_REPLY,ASSURED --mark 42 --zone 7 -t 600"
  step "UDP, unreplied" \
    "conntrack -I -p udp -s 198.18.1.2 -d 198.18.2.2 --sport 40002 --dport 53 -t 60"
  step "ICMP echo request with id" \
    "conntrack -I -p icmp -s 198.18.1.3 -d 198.18.2.3 --icmp-type 8 --icmp-code 0 --icmp-id 4660 -t 30"
  step "IPv6 TCP ESTABLISHED" \
    "conntrack -I -p tcp -s ::ffff:198.18.1.4 -d ::ffff:198.18.2.4 --sport 40004 --dport 443 --state ESTABLISHED -u SEEN_REPLY,ASSURED -t 600"
  step "DNAT with a port change (8080 -> 198.18.3.5:80)" \
    "conntrack -I -p tcp -s 198.18.1.5 -d 198.18.2.5 --sport 40005 --dport 8080 --state ESTABLISHED -u SEEN_REPLY,ASSURED --dst-nat 198.18.3.5:80 -t 600"
  step "SNAT with a port change (198.18.1.6:40006 -> 198.18.4.6:5006)" \
    "conntrack -I -p udp -s 198.18.1.6 -d 198.18.2.6 --sport 40006 --dport 53 --src-nat 198.18.4.6:5006 -t 60"
  step "SCTP ESTABLISHED with verification tags" \
    "conntrack -I -p sctp -s 198.18.1.8 -d 198.18.2.8 --sport 40008 --dport 3868 --state ESTABLISHED --orig-vtag 4096 --reply-vtag 8192 -t 300"
  if [ "$channel" = UDP ]; then
    # One lost datagram: b's ingress drops state messages (UDP length
    # above 40: not the 8-byte ALIVE nor the 16-byte ACK/NACK) for one
    # step. tcpdump sees the datagram first (its tap runs before the
    # ingress hook): the capture holds it.
    note ""
    note "## loss: b's ingress drops state messages for the next step"
    note "\$ nft (in b): table netdev caploss { chain in { type filter hook ingress device $IFB priority 0; udp dport $port udp length > 40 drop; } }"
    note "# loss from $(date +%s.%N)"
    nb nft -f - <<EOF
table netdev caploss {
  chain in {
    type filter hook ingress device "$IFB" priority 0;
    udp dport $port udp length > 40 drop
  }
}
EOF
    step "TCP SYN_SENT, unreplied (its datagram is lost at b)" \
      "conntrack -I -p tcp -s 198.18.1.9 -d 198.18.2.9 --sport 40009 --dport 22 --state SYN_SENT -t 120"
    nb nft delete table netdev caploss
    note "# loss until $(date +%s.%N)"
    note "\$ nft delete table netdev caploss    (in b)"
    step "UDP after the loss" \
      "conntrack -I -p udp -s 198.18.1.10 -d 198.18.2.10 --sport 40010 --dport 123 -t 60"
  fi
  # conntrack -I cannot set a helper: a real TCP session to 198.18.5.1:21
  # on a's loopback, through the ftp helper, with a PASV reply that makes
  # an expectation (198.18.5.1 -> 198.18.5.1:40000). The session stays
  # open until the capture ends.
  note ""
  note "## FTP control session through the ftp helper (real traffic on a's lo), PASV -> expectation"
  note "\$ python3: 198.18.5.1:40007 -> 198.18.5.1:21, '220 ready' / 'PASV' / '227 Entering Passive Mode (198,18,5,1,156,64).'"
  ip netns exec "$A" python3 - <<'PY' &
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.18.5.1", 21)); srv.listen(1)
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(("198.18.5.1", 40007)); c.connect(("198.18.5.1", 21))
s, _ = srv.accept()
s.sendall(b"220 ready\r\n"); c.recv(100)
c.sendall(b"PASV\r\n"); s.recv(100)
s.sendall(b"227 Entering Passive Mode (198,18,5,1,156,64).\r\n"); c.recv(100)
time.sleep(60)
PY
  pids+=("$!")
  sleep 0.5
  table_a
  sleep 0.5
  # conntrack -U takes no --zone and cannot update a flow in zone 7
  # (ENOENT): the update is on the DNAT flow, in zone 0.
  step "update: mark of the DNAT flow 0 -> 43" \
    "conntrack -U -p tcp -s 198.18.1.5 -d 198.18.2.5 --sport 40005 --dport 8080 --mark 43"
  step "delete: the UDP flow" \
    "conntrack -D -p udp -s 198.18.1.2 -d 198.18.2.2 --sport 40002 --dport 53"
  note ""
  note "## b asks a for a resync"
  note "\$ conntrackd -C b.conf -n    (in b)"
  nb conntrackd -C "$run/$name-b/conntrackd.conf" -n >>"$record" 2>&1 || true
  sleep 2.5  # the bulk send, the ACKs and the ALIVEs of an idle link
  note ""
  note "## at the end, in b"
  local cmd
  for cmd in "-e" "-e -x" "-e expect" "-s"; do
    note "\$ conntrackd -C b.conf $cmd"
    # shellcheck disable=SC2086
    nb conntrackd -C "$run/$name-b/conntrackd.conf" $cmd >>"$record" 2>&1 || true
  done
  stop_pid "$pa"
  sleep 0.5
  stop_pid "$pb"
  sleep 0.3
  stop_pid "$dump"
  note ""
  note "## conntrackd's log in a"
  cat "$run/$name-a/conntrackd.log" >>"$record"
  note "## conntrackd's log in b"
  cat "$run/$name-b/conntrackd.log" >>"$record"
  rm -f "$here/${name}"_[0-9][0-9][0-9].bin
  cp "$run/$name.pcap" "$here/$name.pcap"
  note ""
  note "## extract.py $name.pcap $name . --list"
  python3 "$here/extract.py" "$here/$name.pcap" "$name" "$here" --list >>"$record"
  cp "$record" "$here/$name.txt"
  # The FTP session's python is done with too.
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  pids=()
  delete_pair
  local files=("$here/${name}"_[0-9][0-9][0-9].bin)
  echo "capture.sh: $name: ${#files[@]} files"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(ftfw notrack tcp alarm)
for n in "${names[@]}"; do
  case $n in
    ftfw) capture ftfw FTFW UDP ;;
    notrack) capture notrack NOTRACK UDP ;;
    tcp) capture tcp FTFW TCP ;;
    alarm) capture alarm ALARM UDP ;;
    *) echo "capture.sh: unknown capture $n" >&2; exit 2 ;;
  esac
done
