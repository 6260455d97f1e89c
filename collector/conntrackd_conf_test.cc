#include "collector/conntrackd_conf.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "collector/options.h"

namespace ctcollect {
namespace {

std::string Sample(const std::string& name) {
  std::ifstream in(std::string(CTCOLLECT_TESTDATA) + "/conntrackd_conf/" +
                   name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ConntrackdConf Parse(const std::string& text) {
  std::string error;
  auto c = ParseConntrackdConf(text, &error);
  EXPECT_TRUE(c.has_value()) << error;
  return c.value_or(ConntrackdConf{});
}

std::string ErrorOf(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseConntrackdConf(text, &error).has_value());
  return error;
}

// The samples Debian's conntrackd ships (examples/sync/*/conntrackd.conf).
TEST(ConntrackdConf, DebianFtfwSample) {
  ConntrackdConf c = Parse(Sample("ftfw.conf"));
  EXPECT_EQ(c.sync.mode, SyncMode::kFtfw);
  EXPECT_EQ(c.sync.transport, SyncTransport::kMulticast);
  EXPECT_EQ(c.sync.multicast_group, "225.0.0.50:3780");
  EXPECT_EQ(c.sync.listen_address, "192.168.100.100");
  EXPECT_EQ(c.sync.interface, "eth2");
  EXPECT_EQ(c.sync.sndbuf, 1249280);
  EXPECT_EQ(c.sync.rcvbuf, 1249280);
  EXPECT_TRUE(c.sync.checksum);
  EXPECT_EQ(c.unix_path, "/var/run/conntrackd.ctl");
}

TEST(ConntrackdConf, DebianNotrackAndAlarmSamples) {
  EXPECT_EQ(Parse(Sample("notrack.conf")).sync.mode, SyncMode::kNotrack);
  ConntrackdConf a = Parse(Sample("alarm.conf"));
  EXPECT_EQ(a.sync.mode, SyncMode::kAlarm);
  EXPECT_EQ(a.sync.refresh_time.count(), 15);
  EXPECT_EQ(a.sync.cache_timeout.count(), 180);
}

TEST(ConntrackdConf, StatsModeIsRefused) {
  EXPECT_NE(ErrorOf(Sample("stats.conf")).find("no Sync section"),
            std::string::npos);
}

TEST(ConntrackdConf, UdpWithTunablesOptionsAndCase) {
  ConntrackdConf c = Parse(R"(
# a pair on a dedicated link
sync {
  mode ftfw {
    ResendQueueSize 1000
    ACKWindowSize 50   # smaller windows
  }
  udp {
    IPv4_address 198.18.0.1
    IPv4_Destination_Address 198.18.0.2
    Port 3781
    Interface "veth0"
    Checksum Off
  }
  Options {
    ExpectationSync {
      ftp
      sip
    }
    TCPWindowTracking on
  }
}
General { UNIX { Path /run/x.sock } }
)");
  EXPECT_EQ(c.sync.mode, SyncMode::kFtfw);
  EXPECT_EQ(c.sync.transport, SyncTransport::kUdp);
  EXPECT_EQ(c.sync.listen_address, "198.18.0.1:3781");
  ASSERT_EQ(c.sync.peers.size(), 1u);
  EXPECT_EQ(c.sync.peers[0], "198.18.0.2:3781");
  EXPECT_EQ(c.sync.interface, "veth0");
  EXPECT_FALSE(c.sync.checksum);
  EXPECT_EQ(c.sync.resend_queue_size, 1000u);
  EXPECT_EQ(c.sync.ack_window, 50u);
  EXPECT_TRUE(c.sync.expectation_sync);
  EXPECT_TRUE(c.sync.tcp_window_tracking);
  EXPECT_EQ(c.unix_path, "/run/x.sock");
}

TEST(ConntrackdConf, TcpAndRedundantLinks) {
  ConntrackdConf c = Parse(R"(
Sync {
  Mode NOTRACK { }
  UDP {
    IPv4_address 198.18.0.1
    IPv4_Destination_Address 198.18.0.2
    Port 3780
  }
  TCP Default {
    IPv6_address fd00::1
    IPv6_Destination_Address fd00::2
    Port 3790
  }
}
)");
  EXPECT_EQ(c.sync.transport, SyncTransport::kTcp);
  EXPECT_EQ(c.sync.listen_address, "[fd00::1]:3790");
  EXPECT_EQ(c.sync.peers[0], "[fd00::2]:3790");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("UDP link ignored"), std::string::npos);
}

TEST(ConntrackdConf, ErrorsNameTheirLine) {
  EXPECT_EQ(ErrorOf("Sync {\n  Mode FAST { }\n}\n").rfind("2: unknown Mode", 0),
            0u);
  EXPECT_EQ(
      ErrorOf("Sync {\n Mode FTFW {\n ACKWindowSize lots\n }\n UDP {}\n}\n")
          .rfind("3: ACKWindowSize", 0),
      0u);
  EXPECT_EQ(ErrorOf("Sync {\n").rfind("2: missing }", 0), 0u);
  EXPECT_EQ(ErrorOf("}\n").rfind("1: unexpected }", 0), 0u);
  EXPECT_EQ(ErrorOf("Sync { Mode FTFW { } }\n"),
            "1: the Sync section has no UDP, Multicast or TCP block");
  EXPECT_NE(ErrorOf("Sync {\n UDP {\n IPv4_address 1.2.3.4\n }\n}\n")
                .find("no IPv4_Destination_Address"),
            std::string::npos);
  EXPECT_NE(ErrorOf("x \"unterminated\n").find("unterminated string"),
            std::string::npos);
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "a {\n";
  EXPECT_NE(ErrorOf(deep).find("nested too deep"), std::string::npos);
}

TEST(ConntrackdConf, ReadNamesTheFile) {
  try {
    ReadConntrackdConf(std::string(CTCOLLECT_TESTDATA) +
                       "/conntrackd_conf/stats.conf");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("stats.conf:1: no Sync section"),
              std::string::npos)
        << e.what();
  }
}

// --conntrackd.config takes the Sync section and the socket path, unless
// --control.socket is given.
TEST(ConntrackdConf, DaemonFlagTakesSyncAndSocket) {
  const std::string path =
      std::string(CTCOLLECT_TESTDATA) + "/conntrackd_conf/ftfw.conf";
  DaemonOptions o = ParseDaemonOptions({"--conntrackd.config=" + path});
  EXPECT_EQ(o.sync.mode, SyncMode::kFtfw);
  EXPECT_EQ(o.sync.multicast_group, "225.0.0.50:3780");
  EXPECT_EQ(o.control_socket, "/var/run/conntrackd.ctl");
  o = ParseDaemonOptions(
      {"--conntrackd.config=" + path, "--control.socket=/run/mine.sock"});
  EXPECT_EQ(o.control_socket, "/run/mine.sock");
}

}  // namespace
}  // namespace ctcollect
