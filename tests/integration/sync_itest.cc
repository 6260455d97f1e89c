// Replication peer mode against the real conntrackd 1.4.7, across a veth
// pair between two test namespaces (sync_pair.h). The reference is
// conntrackd itself: the same flows replicated conntrackd-to-conntrackd
// give the external cache that ctcollectd must show (`-e -x`, byte for
// byte), and the one a conntrackd must show when ctcollectd sends.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/sync_pair.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

using Mode = ConntrackdPeer::Mode;
using Transport = ConntrackdPeer::Transport;

constexpr double kConverge = 10;

// Flows of the kinds the wire format carries: TCP with mark and zone, UDP,
// ICMP (type, code, id), IPv6 (IPv4-mapped, to stay in 198.18.0.0/15), DNAT
// with a port change, SNAT. (conntrack -I cannot attach a helper; helper
// flows are decoded from real captures in sync_capture_test.cc.)
const std::vector<std::string>& Injections() {
  static const std::vector<std::string> k = {
      "-p tcp -s 198.18.1.1 -d 198.18.2.1 --sport 40001 --dport 80 "
      "--state ESTABLISHED -u SEEN_REPLY,ASSURED --mark 42 --zone 7 -t 600",
      "-p udp -s 198.18.1.2 -d 198.18.2.2 --sport 40002 --dport 53 --mark 5 "
      "-t 60",
      "-p icmp -s 198.18.1.3 -d 198.18.2.3 --icmp-type 8 --icmp-code 0 "
      "--icmp-id 777 -t 30",
      "-p tcp -s ::ffff:198.18.1.4 -d ::ffff:198.18.2.4 --sport 40004 --dport "
      "443 "
      "--state ESTABLISHED -u SEEN_REPLY,ASSURED -t 600",
      "-p tcp -s 198.18.1.5 -d 198.18.2.5 --sport 40005 --dport 8080 "
      "--state ESTABLISHED -u SEEN_REPLY,ASSURED --dst-nat 198.18.3.5:80 "
      "-t 600",
      "-p udp -s 198.18.1.6 -d 198.18.2.6 --sport 40006 --dport 123 "
      "--src-nat 198.18.3.6 -t 60",
  };
  return k;
}

std::string SyncPortArg(const VethPair& pair) {
  return std::to_string(pair.sync_port());
}

// ctcollectd as side `side` of `pair`, replicating its own namespace.
std::vector<std::string> PeerFlags(const VethPair& pair, char side,
                                   const std::string& mode,
                                   Transport transport) {
  const std::string self = side == 'a' ? pair.addr_a() : pair.addr_b();
  const std::string other = side == 'a' ? pair.addr_b() : pair.addr_a();
  const std::string ifname = side == 'a' ? pair.ifname_a() : pair.ifname_b();
  std::vector<std::string> f = {"--sync.mode=" + mode,
                                "--sync.interface=" + ifname};
  if (transport == Transport::kMulticast) {
    f.push_back("--sync.transport=multicast");
    f.push_back(std::string("--sync.multicast-group=") + kSyncGroup + ":" +
                SyncPortArg(pair));
    f.push_back("--sync.listen-address=" + self);
    f.push_back("--sync.peer=" + other);
  } else {
    f.push_back(transport == Transport::kTcp ? "--sync.transport=tcp"
                                             : "--sync.transport=udp");
    f.push_back("--sync.listen-address=" + self + ":" + SyncPortArg(pair));
    f.push_back("--sync.peer=" + other + ":" + SyncPortArg(pair));
  }
  return f;
}

std::unique_ptr<Daemon> StartPeer(const VethPair& pair, char side,
                                  std::vector<std::string> flags) {
  Daemon::Options o;
  o.run_in_netns = side == 'a' ? pair.a().name() : pair.b().name();
  auto d = std::make_unique<Daemon>(flags, o);
  return d;
}

// The lines of a dump, without conntrackd's " [active since Ns]" (and
// ALARM's " [expires in Ns]") and sorted: two caches filled at different
// times compare equal.
std::vector<std::string> Normalized(const std::string& dump) {
  std::vector<std::string> out;
  std::istringstream in(dump);
  std::string line;
  while (std::getline(in, line)) {
    for (const char* tail : {" [active since ", " [expires in "}) {
      const size_t at = line.find(tail);
      if (at != std::string::npos) line.resize(at);
    }
    if (!line.empty()) out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

// Only the flows the test made (from 198.18.1.x), not whatever else the
// namespaces hold.
std::vector<std::string> TestFlows(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.find("198.18.1.") != std::string::npos) {
      out.push_back(l);
    }
  }
  return out;
}

void InjectAll(const TestNetns& ns) {
  for (const auto& f : Injections()) {
    CommandResult r = InjectFlow(ns, f);
    ASSERT_EQ(r.exit_code, 0) << f << ": " << r.out;
  }
}

// What a conntrackd in b shows for the flows made in a, received from a
// conntrackd in a: the reference for both directions.
struct Reference {
  std::vector<std::string> plain, xml;
};

// A conntrackd side; in ALARM refreshing every 1..2 s rather than 1..15.
ConntrackdPeer::Options Side(const VethPair& pair, char side, Mode mode,
                             Transport transport) {
  auto o = ConntrackdPeer::ForSide(pair, side, mode, transport);
  o.alarm_refresh_seconds = 2;
  return o;
}

Reference ConntrackdReference(const VethPair& pair, Mode mode,
                              Transport transport) {
  Reference ref;
  ConntrackdPeer b(pair.b(),
                   ConntrackdPeer::ForSide(pair, 'b', mode, transport));
  EXPECT_TRUE(b.ready()) << b.error() << b.log();
  ConntrackdPeer a(pair.a(),
                   ConntrackdPeer::ForSide(pair, 'a', mode, transport));
  EXPECT_TRUE(a.ready()) << a.error() << a.log();
  // The flows exist already (made before a started): a bulk send carries
  // them, as it will to ctcollectd.
  a.Client("-B");
  const size_t n = Injections().size();
  WaitUntil(
      [&] {
        ref.xml = TestFlows(Normalized(b.Client("-e -x").out));
        return ref.xml.size() == n;
      },
      kConverge);
  ref.plain = TestFlows(Normalized(b.Client("-e").out));
  EXPECT_EQ(ref.xml.size(), n) << Join(ref.xml) << a.log() << b.log();
  return ref;
}

struct Case {
  Mode mode;
  Transport transport;
  const char* flag;
  const char* name;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class FromConntrackd : public ::testing::TestWithParam<Case> {};

// conntrackd sends, ctcollectd receives: its external cache equals the one
// a conntrackd shows for the same messages, and deletes reach it.
TEST_P(FromConntrackd, ExternalCacheEqualsConntrackds) {
  REQUIRE_PRIVILEGE();
  const Case& c = GetParam();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  InjectAll(pair.a());
  const Reference ref = ConntrackdReference(pair, c.mode, c.transport);
  ASSERT_EQ(ref.xml.size(), Injections().size());

  auto d = StartPeer(pair, 'b', PeerFlags(pair, 'b', c.flag, c.transport));
  ASSERT_TRUE(d->ready()) << d->log();
  ConntrackdPeer a(pair.a(),
                   ConntrackdPeer::ForSide(pair, 'a', c.mode, c.transport));
  ASSERT_TRUE(a.ready()) << a.error() << a.log();
  a.Client("-B");
  std::vector<std::string> xml;
  bool all = WaitUntil(
      [&] {
        xml = TestFlows(Normalized(d->Client("-e -x")));
        return xml.size() == ref.xml.size();
      },
      kConverge);
  ASSERT_TRUE(all) << Join(xml) << d->log() << a.log();
  EXPECT_EQ(Join(xml), Join(ref.xml));
  EXPECT_EQ(Join(TestFlows(Normalized(d->Client("-e")))), Join(ref.plain));

  // A new flow travels as an event, a delete as one too.
  ASSERT_EQ(InjectFlow(pair.a(),
                       "-p udp -s 198.18.1.9 -d 198.18.2.9 --sport 40009 "
                       "--dport 53 -t 60")
                .exit_code,
            0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return d->Client("-e").find("src=198.18.1.9") != std::string::npos;
      },
      kConverge))
      << d->Client("-e");
  // Deleted: only flows made after conntrackd started send events (the
  // kernel attaches event delivery at creation, nf_conntrack_events=2).
  ASSERT_EQ(pair.a()
                .Run("conntrack -D -p udp -s 198.18.1.9 -d 198.18.2.9 "
                     "--sport 40009 --dport 53")
                .exit_code,
            0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return d->Client("-e").find("src=198.18.1.9 ") == std::string::npos;
      },
      kConverge))
      << d->Client("-e");

  // The figures: entries per state, messages, no malformed ones (they
  // are published twice a second).
  const std::string peer = pair.addr_a();
  const std::string udp = "conntrack_peer_entries{family=\"ipv4\",peer=\"" +
                          peer + "\",protocol=\"udp\"}";
  EXPECT_TRUE(WaitUntil([&] { return d->Metrics()[udp] == 2; }, kConverge))
      << d->Get("/metrics");
  auto m = d->Metrics();
  // The bulk send's NEW and UPD, the new flow's NEW, its DEL.
  const std::string received =
      "ctcollect_peer_messages_total{direction=\"received\",peer=\"" + peer +
      "\",type=\"";
  EXPECT_GE(m[received + "new\"}"] + m[received + "update\"}"],
            Injections().size() + 1);
  EXPECT_EQ(m[received + "destroy\"}"], 1);
  EXPECT_GT(
      m["ctcollect_peer_last_seen_timestamp_seconds{peer=\"" + peer + "\"}"],
      0);
  double malformed = 0;
  for (const auto& [k, v] : m) {
    if (k.rfind("ctcollect_peer_malformed_total{", 0) == 0) malformed += v;
  }
  EXPECT_EQ(malformed, 0) << d->Get("/metrics");
  EXPECT_TRUE(a.running()) << a.log();
}

INSTANTIATE_TEST_SUITE_P(
    Sync, FromConntrackd,
    ::testing::Values(
        Case{Mode::kNotrack, Transport::kUdp, "notrack", "NotrackUdp"},
        Case{Mode::kFtfw, Transport::kUdp, "ftfw", "FtfwUdp"},
        Case{Mode::kNotrack, Transport::kMulticast, "notrack",
             "NotrackMulticast"},
        Case{Mode::kFtfw, Transport::kMulticast, "ftfw", "FtfwMulticast"},
        Case{Mode::kFtfw, Transport::kTcp, "ftfw", "FtfwTcp"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.name);
    });

class ToConntrackd : public ::testing::TestWithParam<Case> {};

// ctcollectd sends, conntrackd receives: conntrackd's external cache holds
// what it holds when a conntrackd sends; new flows and deletes follow.
TEST_P(ToConntrackd, ConntrackdSeesWhatAConntrackdWouldSend) {
  REQUIRE_PRIVILEGE();
  const Case& c = GetParam();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  InjectAll(pair.a());
  const Reference ref = ConntrackdReference(pair, c.mode, c.transport);
  ASSERT_EQ(ref.xml.size(), Injections().size());

  ConntrackdPeer b(pair.b(),
                   ConntrackdPeer::ForSide(pair, 'b', c.mode, c.transport));
  ASSERT_TRUE(b.ready()) << b.error() << b.log();
  auto d = StartPeer(pair, 'a', PeerFlags(pair, 'a', c.flag, c.transport));
  ASSERT_TRUE(d->ready()) << d->log();
  std::vector<std::string> xml;
  bool all = WaitUntil(
      [&] {
        d->Client("-B");  // also until a TCP link is up
        xml = TestFlows(Normalized(b.Client("-e -x").out));
        return xml.size() == ref.xml.size();
      },
      kConverge);
  ASSERT_TRUE(all) << Join(xml) << d->log() << b.log();
  EXPECT_EQ(Join(xml), Join(ref.xml));

  ASSERT_EQ(InjectFlow(pair.a(),
                       "-p udp -s 198.18.1.9 -d 198.18.2.9 --sport 40009 "
                       "--dport 53 -t 60")
                .exit_code,
            0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return b.Client("-e").out.find("src=198.18.1.9") != std::string::npos;
      },
      kConverge))
      << b.Client("-e").out << d->log();
  ASSERT_EQ(pair.a()
                .Run("conntrack -D -p udp -s 198.18.1.9 -d 198.18.2.9 "
                     "--sport 40009 --dport 53")
                .exit_code,
            0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return b.Client("-e").out.find("src=198.18.1.9") == std::string::npos;
      },
      kConverge))
      << b.Client("-e").out;
  // conntrackd counted nothing malformed from us.
  const std::string net = b.Client("-s network").out;
  EXPECT_NE(net.find("Malformed messages:\t                   0\n"),
            std::string::npos)
      << net;
  EXPECT_TRUE(b.running()) << b.log();
}

INSTANTIATE_TEST_SUITE_P(
    Sync, ToConntrackd,
    ::testing::Values(
        Case{Mode::kNotrack, Transport::kUdp, "notrack", "NotrackUdp"},
        Case{Mode::kFtfw, Transport::kUdp, "ftfw", "FtfwUdp"},
        Case{Mode::kNotrack, Transport::kMulticast, "notrack",
             "NotrackMulticast"},
        Case{Mode::kFtfw, Transport::kMulticast, "ftfw", "FtfwMulticast"},
        Case{Mode::kFtfw, Transport::kTcp, "ftfw", "FtfwTcp"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.name);
    });

// ALARM's external cache says when each entry expires, as conntrackd's,
// and ctcollectd's own refreshes carry flows that never sent an event.
// (ALARM is not compared with a conntrackd-to-conntrackd reference: a
// conntrackd 1.4.7 sender in ALARM never refreshed the ICMP, IPv6 and NAT
// flows of its start-up dump here.)
TEST(SyncAlarm, ExternalEntriesSayWhenTheyExpire) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  auto flags = PeerFlags(pair, 'b', "alarm", Transport::kUdp);
  flags.push_back("--sync.cache-timeout=30s");
  auto d = StartPeer(pair, 'b', flags);
  ASSERT_TRUE(d->ready()) << d->log();
  auto opts = ConntrackdPeer::ForSide(pair, 'a', Mode::kAlarm, Transport::kUdp);
  opts.alarm_refresh_seconds = 2;
  ConntrackdPeer a(pair.a(), opts);
  ASSERT_TRUE(a.ready()) << a.error() << a.log();
  ASSERT_EQ(InjectFlow(pair.a(), Injections()[1]).exit_code, 0);
  std::string line;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto l = LinesWith(d->Client("-e"), {"src=198.18.1.2 "});
        if (l.size() == 1) line = l[0];
        return l.size() == 1;
      },
      kConverge));
  // Refreshed every 1..2 s: it never gets near the 30 s timeout.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  line = LinesWith(d->Client("-e"), {"src=198.18.1.2 "}).at(0);
  const size_t at = line.find(" [expires in ");
  ASSERT_NE(at, std::string::npos) << line;
  const int left = std::stoi(line.substr(at + 13));
  EXPECT_GE(left, 26) << line;
  EXPECT_LE(left, 30) << line;
}

TEST(SyncAlarm, RefreshesCarryFlowsThatSentNoEvent) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  InjectAll(pair.a());  // before the daemon: no event will ever come
  ConntrackdPeer b(pair.b(), Side(pair, 'b', Mode::kAlarm, Transport::kUdp));
  ASSERT_TRUE(b.ready()) << b.error() << b.log();
  auto flags = PeerFlags(pair, 'a', "alarm", Transport::kUdp);
  flags.push_back("--sync.refresh-time=2s");
  auto d = StartPeer(pair, 'a', flags);
  ASSERT_TRUE(d->ready()) << d->log();
  std::vector<std::string> got;
  EXPECT_TRUE(WaitUntil(
      [&] {
        got = TestFlows(Normalized(b.Client("-e").out));
        return got.size() == Injections().size();
      },
      kConverge))
      << Join(got) << d->log();
  // Refreshed, not expired: conntrackd's timer restarts at each refresh.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(TestFlows(Normalized(b.Client("-e").out)).size(),
            Injections().size());
}

// ExpectationSync: a real FTP control session through the ftp helper in a
// makes a helper flow and an expectation; ctcollectd replicates both, and
// conntrackd's external caches show them.
TEST(SyncExpectations, HelperFlowAndExpectationReachConntrackd) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  auto opts = ConntrackdPeer::ForSide(pair, 'b', Mode::kFtfw, Transport::kUdp);
  opts.expectation_sync = true;
  ConntrackdPeer b(pair.b(), opts);
  ASSERT_TRUE(b.ready()) << b.error() << b.log();
  auto flags = PeerFlags(pair, 'a', "ftfw", Transport::kUdp);
  flags.push_back("--sync.expectation-sync");
  auto d = StartPeer(pair, 'a', flags);
  ASSERT_TRUE(d->ready()) << d->log();
  ASSERT_EQ(pair.a()
                .Run("ip addr add 198.18.5.1/32 dev lo && nft -f - <<'EOF'\n"
                     "table inet ctct_ftp {\n"
                     "  ct helper ftp-std { type \"ftp\" protocol tcp; l3proto "
                     "inet; }\n"
                     "  chain out { type filter hook output priority 0;\n"
                     "    tcp dport 21 ct helper set \"ftp-std\"\n  }\n"
                     "}\nEOF")
                .exit_code,
            0);
  // The control session: 220, PASV, 227 (which sets up the expectation).
  pair.a().Run(
      "(/usr/bin/python3 - >/dev/null 2>&1 <<'PY' &\n"
      "import socket, time\n"
      "srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, "
      "socket.SO_REUSEADDR, 1)\n"
      "srv.bind(('198.18.5.1', 21)); srv.listen(1)\n"
      "c = socket.socket(); c.bind(('198.18.5.1', 40007)); "
      "c.connect(('198.18.5.1', 21))\n"
      "s, _ = srv.accept()\n"
      "s.sendall(b'220 ready\\r\\n'); c.recv(100)\n"
      "c.sendall(b'PASV\\r\\n'); s.recv(100)\n"
      "s.sendall(b'227 Entering Passive Mode (198,18,5,1,156,64).\\r\\n'); "
      "c.recv(100)\n"
      "time.sleep(20)\n"
      "PY\n)");
  std::string flows, expects;
  EXPECT_TRUE(WaitUntil(
      [&] {
        flows = b.Client("-e").out;
        expects = b.Client("-e expect").out;
        return LinesWith(flows, {"sport=40007 dport=21", "helper=ftp"})
                       .size() == 1 &&
               LinesWith(expects,
                         {"dport=40000", "master-src=198.18.5.1", "helper=ftp"})
                       .size() == 1;
      },
      kConverge))
      << "flows:\n"
      << flows << "expectations:\n"
      << expects << "kernel:\n"
      << pair.a().Run("conntrack -L expect").out << d->log();
}

// 20% loss on the link both ways: FT-FW's NACKs and retransmissions make
// both sides converge on every flow, and the loss shows in the metrics.
TEST(SyncLoss, FtfwConvergesUnderTwentyPercentLoss) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  ConntrackdPeer a(pair.a(), ConntrackdPeer::ForSide(pair, 'a', Mode::kFtfw,
                                                     Transport::kUdp));
  ASSERT_TRUE(a.ready()) << a.error() << a.log();
  auto d = StartPeer(pair, 'b', PeerFlags(pair, 'b', "ftfw", Transport::kUdp));
  ASSERT_TRUE(d->ready()) << d->log();
  // Finish the HELLO handshake before the loss: while it runs FT-FW does
  // not track sequence numbers.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return d->Metrics()["ctcollect_peer_synced{peer=\"" + pair.addr_a() +
                            "\"}"] == 1;
      },
      kConverge))
      << d->Get("/metrics");
  // conntrackd says HELLO until our HELLO_BACK reaches it (within our
  // 1 s alive timer); only then does it track and NACK.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(pair.SetLoss(20));
  constexpr int kFlows = 300;
  // Both directions: a's flows to ctcollectd, b's flows to conntrackd.
  std::string batch_a, batch_b;
  for (int i = 0; i < kFlows; ++i) {
    const std::string tuple = " --sport " + std::to_string(20000 + i) +
                              " --dport 80 --state ESTABLISHED -u "
                              "SEEN_REPLY,ASSURED -t 600";
    batch_a += "conntrack -I -p tcp -s 198.18.1.1 -d 198.18.2.1" + tuple +
               " >/dev/null 2>&1\n";
    batch_b += "conntrack -I -p tcp -s 198.18.1.2 -d 198.18.2.2" + tuple +
               " >/dev/null 2>&1\n";
  }
  ASSERT_EQ(pair.a().Run(batch_a).exit_code, 0);
  ASSERT_EQ(pair.b().Run(batch_b).exit_code, 0);
  auto count = [](const std::string& dump, const std::string& src) {
    size_t n = 0;
    for (size_t at = dump.find(src); at != std::string::npos;
         at = dump.find(src, at + 1)) {
      ++n;
    }
    return n;
  };
  std::string ours, theirs;
  bool converged = WaitUntil(
      [&] {
        ours = d->Client("-e");
        theirs = a.Client("-e").out;
        return count(ours, "src=198.18.1.1 ") == kFlows &&
               count(theirs, "src=198.18.1.2 ") == kFlows;
      },
      30);
  pair.SetLoss(0);
  EXPECT_TRUE(converged) << "ctcollectd has " << count(ours, "src=198.18.1.1 ")
                         << ", conntrackd has "
                         << count(theirs, "src=198.18.1.2 ") << " of " << kFlows
                         << "\n"
                         << d->log() << a.log();
  auto m = d->Metrics();
  const std::string peer = pair.addr_a();
  EXPECT_GT(m["ctcollect_peer_lost_total{peer=\"" + peer + "\"}"], 0);
  EXPECT_GT(m["ctcollect_peer_messages_total{direction=\"sent\",peer=\"" +
              peer + "\",type=\"nack\"}"],
            0);
  EXPECT_GT(m["ctcollect_peer_retransmits_total{peer=\"" + peer + "\"}"], 0)
      << "conntrackd NACKed nothing of ours?";
}

// Two ctcollectd with a shared HMAC key replicate; a datagram with a wrong
// tag, and one from a source that is no peer, are counted and dropped.
TEST(SyncHmac, TwoCtcollectdWithAKeyReplicateAndDropForgeries) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  char dir[] = "/tmp/ctsync-key-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string key = std::string(dir) + "/key";
  std::ofstream(key) << "0123456789abcdef0123456789abcdef\n";
  auto with_key = [&](char side) {
    auto f = PeerFlags(pair, side, "ftfw", Transport::kUdp);
    f.push_back("--sync.hmac-key-file=" + key);
    return f;
  };
  auto b = StartPeer(pair, 'b', with_key('b'));
  ASSERT_TRUE(b->ready()) << b->log();
  auto a = StartPeer(pair, 'a', with_key('a'));
  ASSERT_TRUE(a->ready()) << a->log();
  ASSERT_EQ(InjectFlow(pair.a(), Injections()[0]).exit_code, 0);
  ASSERT_EQ(InjectFlow(pair.b(), Injections()[1]).exit_code, 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return b->Client("-e").find("src=198.18.1.1 ") != std::string::npos &&
               a->Client("-e").find("src=198.18.1.2 ") != std::string::npos;
      },
      kConverge))
      << b->Client("-e") << a->Client("-e") << a->log() << b->log();

  // A forged CT_NEW from a's address (no valid tag), then one from an
  // address that is no peer.
  const std::string forged =
      "/usr/bin/python3 -c \"import socket; s=socket.socket(socket.AF_INET, "
      "socket.SOCK_DGRAM); s.bind(('%s', 0)); "
      "s.sendto(bytes.fromhex('1000003400000001000c00007f0000017f000001000800"
      "0500000188000500021100000000080003c23614e9000800060000001e' + '00'*32),"
      " ('198.18.0.2', " +
      SyncPortArg(pair) + "))\"";
  auto from = [&](const std::string& src) {
    std::string cmd = forged;
    cmd.replace(cmd.find("%s"), 2, src);
    return cmd;
  };
  ASSERT_EQ(pair.a().Run(from(pair.addr_a())).exit_code, 0);
  ASSERT_EQ(pair.a()
                .Run("ip addr add 198.18.0.9/24 dev " + pair.ifname_a())
                .exit_code,
            0);
  ASSERT_EQ(pair.a().Run(from("198.18.0.9")).exit_code, 0);
  const std::string peer = pair.addr_a();
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto m = b->Metrics();
        return m["ctcollect_peer_malformed_total{peer=\"" + peer +
                 "\",reason=\"bad_hmac\"}"] == 1 &&
               m["ctcollect_peer_malformed_total{peer=\"unknown\",reason="
                 "\"foreign_source\"}"] == 1;
      },
      kConverge))
      << b->Get("/metrics");
  EXPECT_EQ(b->Client("-e").find("sport=49718"), std::string::npos);
  std::remove(key.c_str());
  rmdir(dir);
}

// After replicating from a conntrackd peer, -c puts the external cache
// into the local kernel table, NAT included.
TEST(SyncCommit, CommitPutsTheExternalCacheIntoTheKernel) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  InjectAll(pair.a());
  auto d = StartPeer(pair, 'b', PeerFlags(pair, 'b', "ftfw", Transport::kUdp));
  ASSERT_TRUE(d->ready()) << d->log();
  ConntrackdPeer a(pair.a(), ConntrackdPeer::ForSide(pair, 'a', Mode::kFtfw,
                                                     Transport::kUdp));
  ASSERT_TRUE(a.ready()) << a.error() << a.log();
  // Ask for a's table (RESYNC) rather than have a push it: -n succeeds and
  // one more RESYNC request goes out on the link.
  auto resyncs_sent = [&] {
    return SumSeries(d->Metrics(), "ctcollect_peer_messages_total",
                     {{"direction", "sent"}, {"type", "resync"}});
  };
  const double sent_before = resyncs_sent();
  int n_exit = -1;
  const std::string n_out = d->Client("-n", &n_exit);
  ASSERT_EQ(n_exit, 0) << n_out;
  EXPECT_TRUE(
      WaitUntil([&] { return resyncs_sent() == sent_before + 1; }, kConverge))
      << "resync requests sent: " << sent_before << " then " << resyncs_sent();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return TestFlows(Normalized(d->Client("-e"))).size() ==
               Injections().size();
      },
      kConverge))
      << d->Client("-e");
  const std::string report = d->Client("-c");
  EXPECT_NE(report.find("committed " + std::to_string(Injections().size()) +
                        " flows, 0 failed"),
            std::string::npos)
      << report;
  const std::string kernel = pair.b().Run("conntrack -L 2>/dev/null").out;
  const std::string source = pair.a().Run("conntrack -L 2>/dev/null").out;
  // Every test flow of a is now in b's kernel with the same tuples (the
  // reply direction rebuilt from the NAT), state, mark and zone.
  auto strip = [](const std::string& dump) {
    std::vector<std::string> out;
    for (std::string l : TestFlows(Normalized(dump))) {
      // The timeout counts down and use/id differ between kernels.
      std::istringstream in(l);
      std::string w, kept;
      int i = 0;
      while (in >> w) {
        if (i++ == 2 && std::all_of(w.begin(), w.end(), ::isdigit)) continue;
        if (w.rfind("use=", 0) == 0 || w.rfind("id=", 0) == 0) continue;
        kept += w + " ";
      }
      out.push_back(kept);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  ASSERT_EQ(strip(source).size(), Injections().size()) << source;
  EXPECT_EQ(Join(strip(kernel)), Join(strip(source))) << "b:\n"
                                                      << kernel << "a:\n"
                                                      << source;
}

// A node that runs conntrackd today switches with its own file.
TEST(SyncConntrackdConfig, RunsFromAConntrackdConf) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  char dir[] = "/tmp/ctsync-conf-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto opts =
      ConntrackdPeer::ForSide(pair, 'b', Mode::kNotrack, Transport::kUdp);
  const std::string conf = std::string(dir) + "/conntrackd.conf";
  std::ofstream(conf) << ConntrackdPeer::ConfigText(opts, dir);
  auto d = StartPeer(pair, 'b', {"--conntrackd.config=" + conf});
  ASSERT_TRUE(d->ready()) << d->log();
  ConntrackdPeer a(pair.a(), ConntrackdPeer::ForSide(pair, 'a', Mode::kNotrack,
                                                     Transport::kUdp));
  ASSERT_TRUE(a.ready()) << a.error() << a.log();
  ASSERT_EQ(InjectFlow(pair.a(), Injections()[1]).exit_code, 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return d->Client("-e").find("src=198.18.1.2 ") != std::string::npos;
      },
      kConverge))
      << d->Client("-e") << d->log();
  // The link as conntrackd's -s network shows it, on the file's interface.
  const std::string net = d->Client("-s network");
  EXPECT_NE(net.find("network statistics:"), std::string::npos) << net;
  EXPECT_NE(net.find("UDP traffic (active device=" + pair.ifname_b() + "):"),
            std::string::npos)
      << net;
  d.reset();
  std::system(("rm -rf " + std::string(dir)).c_str());
}

}  // namespace
}  // namespace ctcollect::itest
