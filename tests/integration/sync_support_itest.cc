// The replication test harness (sync_pair.h) proven on the real thing:
// two conntrackd 1.4.7, one per namespace, across a veth pair. A flow
// made in a's kernel shows up in b's external cache (`-e`, `-e -x`) and
// its deletion propagates, in every mode over every transport; `-c`
// commits b's external cache into b's kernel; FT-FW recovers what a lossy
// link dropped, and NOTRACK recovers it with a resync request (`-n`).
// Replication peer mode is later held to the same observations, with
// ctcollectd in place of one conntrackd.
#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/sync_pair.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

using Mode = ConntrackdPeer::Mode;
using Transport = ConntrackdPeer::Transport;

// Every wait is bounded: a conntrackd pair on a veth converges in a few
// milliseconds; FT-FW after loss within its 1 s alive timer or two.
constexpr double kConverge = 5;

struct Link {
  Mode mode;
  Transport transport;
  const char* name;
};

// A flow made in a with `conntrack -I`, what b's `conntrackd -e` prints for
// it (one line holds all of `external`; ALARM adds "[expires in Ns]"
// before "[active since Ns]"), what `-e -x` holds, and how to delete it
// again in a.
struct Flow {
  std::string inject;
  std::vector<std::string> external;
  std::vector<std::string> xml;
  std::string remove;
};

std::vector<Flow> Flows() {
  return {
      {"-p tcp -s 198.18.1.1 -d 198.18.2.1 --sport 40001 --dport 80 "
       "--state ESTABLISHED -u SEEN_REPLY,ASSURED --mark 42 --zone 7 -t 600",
       {"tcp      6 ESTABLISHED src=198.18.1.1 dst=198.18.2.1 sport=40001 "
        "dport=80 [ASSURED] mark=42 zone=7",
        "[active since "},
       {"<src>198.18.1.1</src><dst>198.18.2.1</dst></layer3><layer4 "
        "protonum=\"6\" protoname=\"tcp\"><sport>40001</sport><dport>80</"
        "dport></layer4></meta><meta direction=\"reply\"><layer3 "
        "protonum=\"0\" protoname=\"unknown\"><src></src><dst></dst></"
        "layer3>",
        "<state>ESTABLISHED</state><mark>42</mark><zone>7</zone><assured/></"
        "meta></flow>"},
       "-D -p tcp -s 198.18.1.1 -d 198.18.2.1 --sport 40001 --dport 80 -w 7"},
      {"-p udp -s 198.18.1.2 -d 198.18.2.2 --sport 40002 --dport 53 "
       "--mark 5 -t 60",
       {"udp      17 src=198.18.1.2 dst=198.18.2.2 sport=40002 dport=53 "
        "[UNREPLIED] mark=5",
        "[active since "},
       {"<src>198.18.1.2</src><dst>198.18.2.2</dst></layer3><layer4 "
        "protonum=\"17\" protoname=\"udp\"><sport>40002</sport><dport>53</"
        "dport>",
        "<mark>5</mark><unreplied/></meta></flow>"},
       "-D -p udp -s 198.18.1.2 -d 198.18.2.2 --sport 40002 --dport 53"},
      // DNAT: -e prints only the original tuple; the NAT shows after -c
      // (CommitPutsTheExternalCacheIntoTheKernel).
      {"-p tcp -s 198.18.1.5 -d 198.18.2.5 --sport 40005 --dport 8080 "
       "--state ESTABLISHED -u SEEN_REPLY,ASSURED --dst-nat 198.18.3.5:80 "
       "-t 600",
       {"tcp      6 ESTABLISHED src=198.18.1.5 dst=198.18.2.5 sport=40005 "
        "dport=8080 [ASSURED] mark=0",
        "[active since "},
       {"<src>198.18.1.5</src><dst>198.18.2.5</dst>",
        "<state>ESTABLISHED</state><mark>0</mark><assured/></meta></flow>"},
       "-D -p tcp -s 198.18.1.5 -d 198.18.2.5 --sport 40005 --dport 8080"},
      // Loopback flows are replicated too: no Filter block, no filter.
      {"-p udp -s 127.0.0.1 -d 127.0.0.2 --sport 40011 --dport 5353 -t 60",
       {"udp      17 src=127.0.0.1 dst=127.0.0.2 sport=40011 dport=5353 "
        "[UNREPLIED] mark=0"},
       {"<src>127.0.0.1</src><dst>127.0.0.2</dst>"},
       "-D -p udp -s 127.0.0.1 -d 127.0.0.2 --sport 40011 --dport 5353"},
  };
}

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Both ends of a TCP channel are connected (each conntrackd connects to
// the other's server; the one started first retries about once a second).
bool TcpLinkUp(const ConntrackdPeer& p) {
  return Contains(p.Client("-s").out, "server=connected client=connected");
}

void PrintTo(const Link& link, std::ostream* os) { *os << link.name; }

class SyncPair : public ::testing::TestWithParam<Link> {};

TEST_P(SyncPair, FlowsAndTheirDeletionReachThePeersExternalCache) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  const Link& link = GetParam();
  ConntrackdPeer b(
      pair.b(), ConntrackdPeer::ForSide(pair, 'b', link.mode, link.transport));
  ASSERT_TRUE(b.ready()) << b.error() << "\n" << b.log();
  ConntrackdPeer a(
      pair.a(), ConntrackdPeer::ForSide(pair, 'a', link.mode, link.transport));
  ASSERT_TRUE(a.ready()) << a.error() << "\n" << a.log();
  if (link.transport == Transport::kTcp) {
    ASSERT_TRUE(
        WaitUntil([&] { return TcpLinkUp(a) && TcpLinkUp(b); }, kConverge))
        << a.Client("-s").out << b.Client("-s").out << a.log() << b.log();
  }

  auto start = std::chrono::steady_clock::now();
  for (const Flow& f : Flows()) {
    CommandResult r = InjectFlow(pair.a(), f.inject);
    ASSERT_EQ(r.exit_code, 0) << f.inject << ": " << r.out;
  }
  std::string external;
  bool all = WaitUntil(
      [&] {
        external = b.Client("-e").out;
        for (const Flow& f : Flows()) {
          if (LinesWith(external, f.external).size() != 1) return false;
        }
        return true;
      },
      kConverge);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(all) << "b's external cache:\n"
                   << external << "a's internal cache:\n"
                   << a.Client("-i").out << a.log() << b.log();
  RecordProperty("converged_ms", static_cast<int>(took.count()));

  // -e -x: conntrackd's XML of the external cache, reply tuple empty.
  std::string xml = b.Client("-e -x").out;
  for (const Flow& f : Flows()) {
    for (const std::string& x : f.xml) {
      EXPECT_TRUE(Contains(xml, x)) << x << "\nnot in\n" << xml;
    }
  }
  // a holds them in its internal cache; b's kernel has none of them (the
  // external cache reaches the kernel only with -c).
  std::string internal = a.Client("-i").out;
  EXPECT_EQ(LinesWith(internal, {"src=198.18.1.1 dst=198.18.2.1"}).size(), 1u)
      << internal;
  std::string kernel_b = pair.b().Run("conntrack -L").out;
  EXPECT_FALSE(Contains(kernel_b, "198.18.1.")) << kernel_b;

  for (const Flow& f : Flows()) {
    CommandResult r = pair.a().Run("conntrack " + f.remove);
    ASSERT_EQ(r.exit_code, 0) << f.remove << ": " << r.out;
  }
  bool gone = WaitUntil(
      [&] {
        external = b.Client("-e").out;
        for (const Flow& f : Flows()) {
          if (!LinesWith(external, f.external).empty()) return false;
        }
        return true;
      },
      kConverge);
  EXPECT_TRUE(gone) << "still in b's external cache:\n" << external;
  EXPECT_TRUE(a.running()) << a.log();
  EXPECT_TRUE(b.running()) << b.log();
}

INSTANTIATE_TEST_SUITE_P(
    Conntrackd, SyncPair,
    ::testing::Values(Link{Mode::kFtfw, Transport::kUdp, "FtfwUdp"},
                      Link{Mode::kNotrack, Transport::kMulticast,
                           "NotrackMulticast"},
                      Link{Mode::kNotrack, Transport::kUdp, "NotrackUdp"},
                      Link{Mode::kFtfw, Transport::kMulticast, "FtfwMulticast"},
                      Link{Mode::kFtfw, Transport::kTcp, "FtfwTcp"},
                      Link{Mode::kAlarm, Transport::kUdp, "AlarmUdp"}),
    [](const ::testing::TestParamInfo<Link>& info) {
      return std::string(info.param.name);
    });

// Starts b then a in FT-FW (or `mode`) over UDP.
struct FtfwPair {
  explicit FtfwPair(Mode mode = Mode::kFtfw)
      : b(pair.b(), ConntrackdPeer::ForSide(pair, 'b', mode, Transport::kUdp)),
        a(pair.a(), ConntrackdPeer::ForSide(pair, 'a', mode, Transport::kUdp)) {
  }
  VethPair pair;  // first in, last out: the peers stop before it goes
  ConntrackdPeer b;
  ConntrackdPeer a;
};

TEST(SyncPairCommit, CommitPutsTheExternalCacheIntoThePeersKernel) {
  REQUIRE_PRIVILEGE();
  FtfwPair p;
  ASSERT_TRUE(p.pair.ok()) << p.pair.error();
  ASSERT_TRUE(p.b.ready()) << p.b.error() << "\n" << p.b.log();
  ASSERT_TRUE(p.a.ready()) << p.a.error() << "\n" << p.a.log();
  for (const Flow& f : Flows()) {
    ASSERT_EQ(InjectFlow(p.pair.a(), f.inject).exit_code, 0) << f.inject;
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string e = p.b.Client("-e").out;
        for (const Flow& f : Flows()) {
          if (LinesWith(e, f.external).empty()) return false;
        }
        return true;
      },
      kConverge))
      << p.b.Client("-e").out;

  CommandResult commit = p.b.Client("-c");
  ASSERT_EQ(commit.exit_code, 0) << commit.out << commit.err;
  std::string kernel;
  ASSERT_TRUE(WaitUntil(
      [&] {
        kernel = p.pair.b().Run("conntrack -L 2>/dev/null").out;
        return LinesWith(kernel, {"src=198.18.1."}).size() == 3;
      },
      kConverge))
      << kernel << p.b.log();
  // The NAT, mark and zone arrive in b's kernel as a has them.
  EXPECT_EQ(LinesWith(kernel, {"ESTABLISHED src=198.18.1.5 dst=198.18.2.5 "
                               "sport=40005 dport=8080 src=198.18.3.5 "
                               "dst=198.18.1.5 sport=80 dport=40005 [ASSURED]"})
                .size(),
            1u)
      << kernel;
  EXPECT_EQ(LinesWith(kernel, {"src=198.18.1.1 dst=198.18.2.1 sport=40001 "
                               "dport=80 src=198.18.2.1 dst=198.18.1.1 "
                               "sport=80 dport=40001 [ASSURED] mark=42 zone=7"})
                .size(),
            1u)
      << kernel;
  EXPECT_EQ(LinesWith(kernel, {"udp", "src=198.18.1.2", "mark=5"}).size(), 1u)
      << kernel;
  EXPECT_TRUE(Contains(p.b.log(), "Committed")) << p.b.log();
}

// Waits until a flow made in a has reached b, then for the FT-FW HELLO
// handshake to finish on the clean link: until each side has had a
// HELLO_BACK, every message carries HELLO, and a HELLO bypasses sequence
// tracking and empties the receiver's resend queue (sync-ftfw.c: "we are
// unreliable until the helloing finishes"), so what is lost before then
// stays lost. The handshake takes one alive period (1 s) per side.
void Settle(const FtfwPair& p) {
  ASSERT_EQ(InjectFlow(p.pair.a(),
                       "-p udp -s 198.18.1.99 -d 198.18.2.99 "
                       "--sport 40099 --dport 53 -t 120")
                .exit_code,
            0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return !LinesWith(p.b.Client("-e").out, {"src=198.18.1.99 "}).empty();
      },
      kConverge))
      << p.a.log() << p.b.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
}

// The flows a lossy link dropped reach b once the link is clean again:
// FT-FW by NACK and retransmission, by itself.
TEST(SyncPairLoss, FtfwRecoversWhatALossyLinkDropped) {
  REQUIRE_PRIVILEGE();
  FtfwPair p;
  ASSERT_TRUE(p.pair.ok()) << p.pair.error();
  ASSERT_TRUE(p.b.ready()) << p.b.error() << "\n" << p.b.log();
  ASSERT_TRUE(p.a.ready()) << p.a.error() << "\n" << p.a.log();
  Settle(p);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(p.pair.SetLoss(50));
  RecordProperty("loss_mechanism", p.pair.loss_mechanism());
  constexpr int kFlows = 30;
  std::string batch;
  for (int i = 0; i < kFlows; ++i) {
    batch += "conntrack -I -p udp -s 198.18.1.20 -d 198.18.2.20 --sport " +
             std::to_string(41000 + i) + " --dport 53 -t 120 2>/dev/null; ";
  }
  ASSERT_EQ(p.pair.a().Run(batch).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE(p.pair.SetLoss(0));
  std::string external;
  bool all = WaitUntil(
      [&] {
        external = p.b.Client("-e").out;
        return LinesWith(external, {"src=198.18.1.20 "}).size() == kFlows;
      },
      10);
  EXPECT_TRUE(all) << LinesWith(external, {"src=198.18.1.20 "}).size() << " of "
                   << kFlows << "\n"
                   << p.b.Client("-s").out << p.a.Client("-s network").out;
  // b saw the gaps (else the link lost nothing and this proved nothing).
  std::vector<std::string> lost =
      LinesWith(p.b.Client("-s network").out, {"Packets lost:"});
  ASSERT_EQ(lost.size(), 1u);
  long n = std::stol(lost[0].substr(lost[0].find(':') + 1));
  RecordProperty("packets_lost", static_cast<int>(n));
  EXPECT_GT(n, 0) << lost[0];
}

// NOTRACK does not retransmit: what the link dropped stays lost until b
// asks a for its whole cache (-n).
TEST(SyncPairLoss, NotrackRecoversWithAResyncRequest) {
  REQUIRE_PRIVILEGE();
  FtfwPair p(Mode::kNotrack);
  ASSERT_TRUE(p.pair.ok()) << p.pair.error();
  ASSERT_TRUE(p.b.ready()) << p.b.error() << "\n" << p.b.log();
  ASSERT_TRUE(p.a.ready()) << p.a.error() << "\n" << p.a.log();
  ASSERT_TRUE(p.pair.SetLoss(100));
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(InjectFlow(p.pair.a(),
                         "-p udp -s 198.18.1.21 -d 198.18.2.21 "
                         "--sport " +
                             std::to_string(41100 + i) + " --dport 53 -t 120")
                  .exit_code,
              0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(p.pair.SetLoss(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(LinesWith(p.b.Client("-e").out, {"src=198.18.1.21 "}).empty());
  ASSERT_EQ(p.b.Client("-n").exit_code, 0);
  std::string external;
  EXPECT_TRUE(WaitUntil(
      [&] {
        external = p.b.Client("-e").out;
        return LinesWith(external, {"src=198.18.1.21 "}).size() == 5;
      },
      kConverge))
      << external << p.a.log() << p.b.log();
}

TEST(VethPairTest, LinksTheNamespacesAndLeavesTheSyncPortUntracked) {
  REQUIRE_PRIVILEGE();
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  EXPECT_LE(pair.ifname_a().size(), 15u);
  EXPECT_LE(pair.ifname_b().size(), 15u);
  EXPECT_NE(pair.ifname_a(), pair.ifname_b());
  VethPair other;
  ASSERT_TRUE(other.ok()) << other.error();
  EXPECT_NE(pair.ifname_a(), other.ifname_a());

  CommandResult ping = pair.a().Run("ping -c 1 -W 2 " + pair.addr_b());
  ASSERT_EQ(ping.exit_code, 0) << ping.out;
  EXPECT_EQ(pair.a().Run("ip route get 225.0.0.50").out.find(pair.ifname_a()) !=
                std::string::npos,
            true);
  // A datagram to the sync port leaves no entry; one to the next port does.
  const std::string send =
      "python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, "
      "socket.SOCK_DGRAM); s.bind((\"" +
      pair.addr_a() + "\", 0)); [s.sendto(b\"x\", (\"" + pair.addr_b() +
      "\", int(p))) for p in sys.argv[1:]]' ";
  ASSERT_EQ(pair.a()
                .Run(send + std::to_string(kSyncPort) + " " +
                     std::to_string(kSyncPort + 1))
                .exit_code,
            0);
  std::string table_a = pair.a().Run("conntrack -L 2>/dev/null").out;
  std::string table_b = pair.b().Run("conntrack -L 2>/dev/null").out;
  EXPECT_TRUE(
      LinesWith(table_a, {"dport=" + std::to_string(kSyncPort) + " "}).empty())
      << table_a;
  EXPECT_EQ(LinesWith(table_a, {"dport=" + std::to_string(kSyncPort + 1) + " "})
                .size(),
            1u)
      << table_a;
  EXPECT_TRUE(
      LinesWith(table_b, {"dport=" + std::to_string(kSyncPort) + " "}).empty())
      << table_b;
  EXPECT_EQ(LinesWith(table_a, {"icmp", "dst=" + pair.addr_b()}).size(), 1u)
      << table_a;

  // Loss: all of it, then none.
  ASSERT_TRUE(pair.SetLoss(100));
  EXPECT_NE(pair.a().Run("ping -c 1 -W 1 " + pair.addr_b()).exit_code, 0);
  ASSERT_TRUE(pair.SetLoss(0));
  EXPECT_EQ(pair.loss_mechanism(), "");
  EXPECT_EQ(pair.a().Run("ping -c 1 -W 2 " + pair.addr_b()).exit_code, 0);
}

TEST(ConntrackdPeerTest, WritesItsOwnPathsAndNoFilter) {
  ConntrackdPeer::Options o;
  o.mode = Mode::kNotrack;
  o.transport = Transport::kMulticast;
  o.local_address = "198.18.0.1";
  o.interface = "veth0";
  o.expectation_sync = true;
  std::string c = ConntrackdPeer::ConfigText(o, "/tmp/x");
  EXPECT_TRUE(Contains(c, "\tMode NOTRACK {\n\t}\n")) << c;
  EXPECT_TRUE(Contains(c,
                       "\tMulticast {\n\t\tIPv4_address 225.0.0.50\n"
                       "\t\tGroup 3780\n\t\tIPv4_interface 198.18.0.1\n"
                       "\t\tInterface veth0\n"))
      << c;
  EXPECT_TRUE(Contains(c, "ExpectationSync On")) << c;
  EXPECT_TRUE(Contains(c, "LockFile /tmp/x/conntrackd.lock")) << c;
  EXPECT_TRUE(Contains(c, "Path /tmp/x/conntrackd.sock")) << c;
  EXPECT_TRUE(Contains(c, "LogFile /tmp/x/conntrackd.log")) << c;
  EXPECT_TRUE(Contains(c, "Syslog off")) << c;
  EXPECT_FALSE(Contains(c, "Filter")) << c;
}

TEST(ConntrackdPeerTest, ReportsAConfigConntrackdRefuses) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  ConntrackdPeer::Options o;
  o.local_address = "198.18.0.1";
  o.peer_address = "198.18.0.2";
  o.extra_general = "\tNoSuchKeyword on\n";
  o.ready_deadline = 3;
  ConntrackdPeer p(ns, o);
  EXPECT_FALSE(p.ready());
  EXPECT_FALSE(p.running());
  EXPECT_FALSE(p.error().empty());
  EXPECT_TRUE(Contains(p.log(), "parsing config file")) << p.log();
}

}  // namespace
}  // namespace ctcollect::itest
