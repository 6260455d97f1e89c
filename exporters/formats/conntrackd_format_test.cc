#include "exporters/formats/conntrackd_format.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

// The layouts, tab for tab, of conntrackd 1.4.7 in stats mode
// (shared/reference/conntrackd.md §2).
TEST(ConntrackdFormat, StatsGolden) {
  Snapshot s;
  NetnsSnapshot ns;
  ns.table_entries = 2;
  ns.flows_added = 5;
  ns.flows_updated = 8;
  ns.flows_removed = 3;
  ns.flow_bytes[0][1][0] = 400;
  ns.flow_bytes[0][1][1] = 204;
  ns.flow_packets[0][1][0] = 6;
  ns.flow_packets[0][1][1] = 5;
  s.netns.push_back(ns);
  EXPECT_EQ(ConntrackdStats(s),
            "cache stats:\n"
            "current active connections:\t           2\n"
            "connections created:\t\t           5\tfailed:\t           0\n"
            "connections updated:\t\t           8\tfailed:\t           0\n"
            "connections destroyed:\t\t           3\tfailed:\t           0\n"
            "\n"
            "traffic processed:\n"
            "                 604 Bytes                        11 Pckts\n"
            "\n");
  EXPECT_EQ(ConntrackdStatsCache(s),
            "cache:stats\tactive objects:\t\t           2\n"
            "\tactive/total entries:\t\t           2/           2\n"
            "\tcreation OK/failed:\t\t           5/           0\n"
            "\t\tno memory available:\t           0\n"
            "\t\tno space left in cache:\t           0\n"
            "\tupdate OK/failed:\t\t           8/           0\n"
            "\t\tentry not found:\t           0\n"
            "\tdeletion created/failed:\t           3/           0\n"
            "\t\tentry not found:\t           0\n\n");
}

TEST(ConntrackdFormat, RuntimeGolden) {
  Snapshot s;
  NetnsSnapshot ns;
  ns.events[0][0][0] = 200;
  ns.events[2][0][0] = 27;
  ns.overruns = 1;
  ns.resyncs[0] = 1;
  ns.receive_buffer_bytes = 262142;  // what the kernel reports now, per socket
  s.netns.push_back(ns);
  ns = NetnsSnapshot();
  ns.receive_buffer_bytes = 262142;
  s.netns.push_back(ns);
  DaemonFigures d;
  d.uptime_seconds = 59;
  d.local_read_failed = 2;
  std::string r = ConntrackdStatsRuntime(s, d);
  EXPECT_EQ(r.substr(0, r.find("runtime stats:")),
            "daemon uptime: 0 min\n\n"
            "netlink stats:\n"
            "\tevents received:\t                 227\n"
            "\tevents filtered:\t                   0\n"
            "\tevents unknown type:\t\t           0\n"
            "\tcatch event failed:\t\t           0\n"
            "\tdump unknown type:\t\t           0\n"
            "\tnetlink overrun:\t\t           1\n"
            "\tflush kernel table:\t\t           0\n"
            "\tresync with kernel table:\t           1\n"
            "\tcurrent buffer size (in bytes):\t      524284\n\n");
  EXPECT_NE(r.find("\tlocal read failed:\t\t           2\n"),
            std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 2), "\n\n");
}

TEST(ConntrackdFormat, ReplicationBlocksWithoutAPeerAreZeroes) {
  const SyncSnapshot off;
  std::string n = ConntrackdStatsNetwork(off);
  EXPECT_EQ(n.rfind("network statistics:\n\trecv:\n\t\tMalformed messages:", 0),
            0u);
  EXPECT_NE(n.find("\t\tPackets lost:\t\t                   0\n"),
            std::string::npos);
  EXPECT_EQ(ConntrackdStatsQueue(off),
            "allocated queue nodes:\t\t           0\n\n");
  EXPECT_EQ(ConntrackdStatsLink(off), "");
}

TEST(ConntrackdFormat, ReplicationBlocksCarryThePeerFigures) {
  SyncSnapshot s;
  s.enabled = true;
  s.mode = SyncMode::kFtfw;
  s.interface = "veth0";
  s.resend_queue_capacity = 131072;
  SyncLinkSnapshot l;
  l.stats.bytes_sent = 4100;
  l.stats.packets_sent = 49;
  l.resend_queue_length = 3;
  s.links.push_back(l);
  SyncPeerSnapshot p;
  p.stats.bytes_recv = 720;
  p.stats.packets_recv = 40;
  p.stats.lost = 7;
  p.stats.malformed[static_cast<size_t>(SyncError::kBadVersion)] = 2;
  s.peers.push_back(p);
  const std::string n = ConntrackdStatsNetwork(s);
  EXPECT_NE(n.find("\t\tMalformed messages:\t                   2\n"),
            std::string::npos);
  // Nothing is counted on the send side (a message this encoder builds is
  // well formed by construction), so no line stands there for a 0.
  EXPECT_EQ(n.find("\tsend:"), std::string::npos) << n;
  EXPECT_NE(n.find("\t\tWrong protocol version:\t                   2\n"),
            std::string::npos);
  EXPECT_NE(n.find("\t\tPackets lost:\t\t                   7\n"),
            std::string::npos);
  // The traffic block as conntrackd's udp_snprintf_stats lays it out.
  EXPECT_NE(
      n.find("UDP traffic (active device=veth0):\n"
             "                4100 Bytes sent                  720 Bytes recv\n"
             "                  49 Pckts sent                   40 Pckts recv\n"
             "                   0 Error send                    0 Error "
             "recv\n\n"),
      std::string::npos);
  EXPECT_EQ(ConntrackdStatsLink(s).rfind(
                "UDP traffic device=veth0 status=RUNNING role=ACTIVE:\n", 0),
            0u);
  const std::string q = ConntrackdStatsQueue(s);
  EXPECT_NE(q.find("queue rsqueue:\ncurrent elements:\t\t           3\n"
                   "maximum elements:\t\t      131072\n"),
            std::string::npos);
}

TEST(ConntrackdFormat, Uptime) {
  EXPECT_EQ(ConntrackdUptime(0), "0 min");
  EXPECT_EQ(ConntrackdUptime(3 * 3600 + 5 * 60), "3 h 5 min");
  EXPECT_EQ(ConntrackdUptime(86400 + 60), "1 day 1 min");
  EXPECT_EQ(ConntrackdUptime(2 * 86400 + 3600), "2 days 1 h 0 min");
}

}  // namespace
}  // namespace ctcollect
