#include "collector/config/conntrackd_conf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "collector/config/options.h"

namespace ctcollect {
namespace {

using std::string_literals::operator""s;

std::string SamplePath(const std::string& name) {
  return std::string(CTCOLLECT_TESTDATA) + "/conntrackd_conf/" + name;
}

std::string Sample(const std::string& name) {
  std::ifstream in(SamplePath(name));
  EXPECT_TRUE(in) << name;
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
  EXPECT_FALSE(ParseConntrackdConf(text, &error).has_value()) << text;
  return error;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// What a conntrackd.conf sets when it says nothing: conntrackd's defaults.
SyncOptions ConntrackdDefaults() {
  SyncOptions s;
  s.mode = SyncMode::kFtfw;
  s.refresh_time = std::chrono::seconds(60);
  s.cache_timeout = std::chrono::seconds(180);
  s.ack_window = 300;
  s.resend_queue_size = 131072;
  return s;
}

// The Multicast link of Debian's examples/sync/*/conntrackd.conf.
SyncOptions DebianMulticast(SyncMode mode) {
  SyncOptions s = ConntrackdDefaults();
  s.mode = mode;
  s.transport = SyncTransport::kMulticast;
  s.multicast_group = "225.0.0.50:3780";
  s.listen_address = "192.168.100.100";
  s.interface = "eth2";
  s.sndbuf = 1249280;
  s.rcvbuf = 1249280;
  s.checksum = true;
  return s;
}

// The samples Debian's conntrackd 1.4.7 ships, unchanged.
TEST(ConntrackdConf, DebianFtfwSample) {
  ConntrackdConf c = Parse(Sample("ftfw.conf"));
  EXPECT_EQ(c.sync, DebianMulticast(SyncMode::kFtfw));
  EXPECT_EQ(c.unix_path, "/var/run/conntrackd.ctl");
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
}

TEST(ConntrackdConf, DebianNotrackSample) {
  ConntrackdConf c = Parse(Sample("notrack.conf"));
  EXPECT_EQ(c.sync, DebianMulticast(SyncMode::kNotrack));
  EXPECT_EQ(c.unix_path, "/var/run/conntrackd.ctl");
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
}

TEST(ConntrackdConf, DebianAlarmSample) {
  ConntrackdConf c = Parse(Sample("alarm.conf"));
  SyncOptions want = DebianMulticast(SyncMode::kAlarm);
  want.refresh_time = std::chrono::seconds(15);
  want.cache_timeout = std::chrono::seconds(180);
  EXPECT_EQ(c.sync, want);
  EXPECT_EQ(c.unix_path, "/var/run/conntrackd.ctl");
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
}

TEST(ConntrackdConf, DebianStatsSampleIsRefused) {
  EXPECT_EQ(ErrorOf(Sample("stats.conf")),
            "106: no Sync section: this conntrackd.conf runs stats mode");
}

// The FT-FW sample with its commented-out UDP and Options blocks enabled
// instead of the Multicast block (conntrackd 1.4.7 accepts the file).
TEST(ConntrackdConf, DebianSampleWithUdpAndOptions) {
  ConntrackdConf c = Parse(Sample("ftfw_udp.conf"));
  SyncOptions want = ConntrackdDefaults();
  want.transport = SyncTransport::kUdp;
  want.listen_address = "192.168.2.100:3780";
  want.peers = {"192.168.2.101:3780"};
  want.interface = "eth2";
  want.sndbuf = 1249280;
  want.rcvbuf = 1249280;
  want.expectation_sync = true;
  want.tcp_window_tracking = false;
  EXPECT_EQ(c.sync, want);
  ASSERT_EQ(c.warnings.size(), 1u) << Joined(c.warnings);
  EXPECT_EQ(c.warnings[0],
            "223: ExpectationSync { ftp, ras, q.931, h.245, sip }: ctcollectd "
            "replicates the expectations of every helper, not only these");
}

// The FT-FW sample with its second, Default, multicast link enabled: that
// one is used, the first is reported.
TEST(ConntrackdConf, DebianSampleWithRedundantMulticastLinks) {
  ConntrackdConf c = Parse(Sample("ftfw_multicast_default.conf"));
  SyncOptions want = ConntrackdDefaults();
  want.transport = SyncTransport::kMulticast;
  want.multicast_group = "225.0.0.51:3781";
  want.listen_address = "192.168.100.101";
  want.interface = "eth3";
  EXPECT_EQ(c.sync, want);
  ASSERT_EQ(c.warnings.size(), 1u) << Joined(c.warnings);
  EXPECT_EQ(c.warnings[0],
            "76: Multicast link ignored: ctcollectd runs one dedicated link "
            "(line 145), without fail-over");
}

TEST(ConntrackdConf, UdpTunablesAndOptions) {
  ConntrackdConf c = Parse(R"(Sync {
	Mode FTFW {
		ResendQueueSize 1000
		ACKWindowSize 50
	}
	UDP {
		IPv4_address 198.18.0.1
		IPv4_Destination_Address 198.18.0.2
		Port 3781
		Interface veth0
		SndSocketBuffer 65536
		RcvSocketBuffer 1048576
		Checksum off
	}
	Options {
		TCPWindowTracking On
		ExpectationSync On
	}
}
General {
	UNIX {
		Path /run/x.sock
		Backlog 20
	}
}
)");
  SyncOptions want = ConntrackdDefaults();
  want.resend_queue_size = 1000;
  want.ack_window = 50;
  want.listen_address = "198.18.0.1:3781";
  want.peers = {"198.18.0.2:3781"};
  want.interface = "veth0";
  want.sndbuf = 65536;
  want.rcvbuf = 1048576;
  want.checksum = false;
  want.tcp_window_tracking = true;
  want.expectation_sync = true;
  EXPECT_EQ(c.sync, want);
  EXPECT_EQ(c.unix_path, "/run/x.sock");
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
}

TEST(ConntrackdConf, UdpWithoutLocalAddressListensOnTheWildcard) {
  ConntrackdConf c = Parse(
      "Sync {\n Mode NOTRACK { }\n UDP {\n  IPv4_Destination_Address 10.0.0.2"
      "\n  Port 3780\n }\n}\n");
  EXPECT_EQ(c.sync.mode, SyncMode::kNotrack);
  EXPECT_EQ(c.sync.listen_address, "0.0.0.0:3780");
  EXPECT_EQ(c.sync.peers, std::vector<std::string>{"10.0.0.2:3780"});
  c = Parse(
      "Sync {\n Mode NOTRACK { }\n UDP {\n  IPv6_Destination_Address fd00::2"
      "\n  Port 3780\n }\n}\n");
  EXPECT_EQ(c.sync.listen_address, "[::]:3780");
  EXPECT_EQ(c.sync.peers, std::vector<std::string>{"[fd00::2]:3780"});
}

TEST(ConntrackdConf, TcpOverIpv6) {
  ConntrackdConf c = Parse(R"(Sync {
	Mode FTFW {
		DisableInternalCache Off
	}
	TCP {
		IPv6_address fe80::215:58ff:fe28:5a27
		IPv6_Destination_Address fe80::2d0:59ff:fe2a:775c
		Port 3790
		Interface eth2
		ErrorQueueLength 256
		Checksum on
	}
}
)");
  EXPECT_EQ(c.sync.transport, SyncTransport::kTcp);
  EXPECT_EQ(c.sync.listen_address, "[fe80::215:58ff:fe28:5a27]:3790");
  EXPECT_EQ(c.sync.peers,
            std::vector<std::string>{"[fe80::2d0:59ff:fe2a:775c]:3790"});
  EXPECT_EQ(c.sync.interface, "eth2");
  EXPECT_TRUE(c.sync.multicast_group.empty());
  // DisableInternalCache is no FT-FW setting in conntrackd's grammar.
  ASSERT_EQ(c.warnings.size(), 1u) << Joined(c.warnings);
  EXPECT_EQ(c.warnings[0],
            "3: DisableInternalCache is no Mode FTFW setting (conntrackd "
            "refuses it there)");
}

TEST(ConntrackdConf, MulticastWithoutInterfaceAddress) {
  ConntrackdConf c = Parse(
      "Sync {\n Mode ALARM {\n  RefreshTime 5\n  CacheTimeout 20\n }\n"
      " Multicast {\n  IPv4_address 239.1.2.3\n  Group 3799\n }\n}\n");
  EXPECT_EQ(c.sync.mode, SyncMode::kAlarm);
  EXPECT_EQ(c.sync.transport, SyncTransport::kMulticast);
  EXPECT_EQ(c.sync.multicast_group, "239.1.2.3:3799");
  EXPECT_EQ(c.sync.listen_address, "");
  EXPECT_EQ(c.sync.interface, "");
  EXPECT_TRUE(c.sync.peers.empty());
  EXPECT_EQ(c.sync.refresh_time.count(), 5);
  EXPECT_EQ(c.sync.cache_timeout.count(), 20);
}

// conntrackd's grammar is a stream of tokens: line ends are white space.
TEST(ConntrackdConf, SettingsOnOneLine) {
  ConntrackdConf c = Parse(
      "Sync { Mode FTFW { ACKWindowSize 10 ResendQueueSize 20 } UDP Default "
      "{ IPv4_address 10.0.0.1 IPv4_Destination_Address 10.0.0.2 Port 3780 } "
      "}\nGeneral { UNIX { Path /run/a.sock Backlog 20 } HashSize 8192 }\n");
  EXPECT_EQ(c.sync.ack_window, 10u);
  EXPECT_EQ(c.sync.resend_queue_size, 20u);
  EXPECT_EQ(c.sync.listen_address, "10.0.0.1:3780");
  EXPECT_EQ(c.unix_path, "/run/a.sock");
  c = Parse(
      "Sync {\nMode\nFTFW\n{\n}\nUDP\n{\nIPv4_Destination_Address\n"
      "10.0.0.2\nPort\n3780\n}\n}\n");
  EXPECT_EQ(c.sync.peers, std::vector<std::string>{"10.0.0.2:3780"});
}

TEST(ConntrackdConf, CommentsQuotesCaseAndLineEnds) {
  ConntrackdConf c = Parse(
      "\xEF\xBB\xBF# written on Windows\r\n"
      "sync {#a comment right after the brace\r\n"
      "  mode ftfw { ackwindowsize 7 }   # trailing comment\r\n"
      "  udp default {\r\n"
      "    ipv4_address 10.0.0.1 # the local side\r\n"
      "    IPV4_DESTINATION_ADDRESS \"10.0.0.2\"\r\n"
      "    port \"3780\"\r\n"
      "    interface \"veth-a.1\"\r\n"
      "    checksum OFF\r\n"
      "  }\r\n"
      "  options { tcpwindowtracking YES expectationsync nO }\r\n"
      "}\r\n"
      "general { unix { path /run/ct#1.sock } }\r\n");
  EXPECT_EQ(c.sync.mode, SyncMode::kFtfw);
  EXPECT_EQ(c.sync.ack_window, 7u);
  EXPECT_EQ(c.sync.listen_address, "10.0.0.1:3780");
  EXPECT_EQ(c.sync.peers, std::vector<std::string>{"10.0.0.2:3780"});
  EXPECT_EQ(c.sync.interface, "veth-a.1");
  EXPECT_FALSE(c.sync.checksum);
  EXPECT_TRUE(c.sync.tcp_window_tracking);
  EXPECT_FALSE(c.sync.expectation_sync);
  // A path keeps its '#', as conntrackd's lexer has it.
  EXPECT_EQ(c.unix_path, "/run/ct#1.sock");
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
  // A quoted path may hold spaces.
  c = Parse(
      "Sync { UDP { IPv4_Destination_Address 10.0.0.2 Port 1 } }\n"
      "General { UNIX { Path \"/run/my dir/ct.sock\" } }\n");
  EXPECT_EQ(c.unix_path, "/run/my dir/ct.sock");
}

// What the file leaves out, or says with 0, is conntrackd's default.
TEST(ConntrackdConf, DefaultsAndTimersInSync) {
  ConntrackdConf c = Parse(
      "Sync {\n RefreshTime 0\n CacheTimeout 30\n Mode ALARM {\n"
      "  RefreshTime 0\n }\n UDP { IPv4_Destination_Address 10.0.0.2 Port 9 }"
      "\n}\n");
  EXPECT_EQ(c.sync.refresh_time.count(), 60);
  EXPECT_EQ(c.sync.cache_timeout.count(), 30);
  c = Parse(
      "Sync {\n Mode FTFW { ACKWindowSize 0\n ResendQueueSize 0 }\n"
      " UDP { IPv4_Destination_Address 10.0.0.2 Port 9 }\n}\n");
  EXPECT_EQ(c.sync.ack_window, 300u);
  EXPECT_EQ(c.sync.resend_queue_size, 131072u);
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
  // No Mode block: FT-FW, as conntrackd says in its log.
  c = Parse("Sync {\n UDP { IPv4_Destination_Address 10.0.0.2 Port 9 }\n}\n");
  EXPECT_EQ(c.sync.mode, SyncMode::kFtfw);
  EXPECT_EQ(Joined(c.warnings),
            "1: no Mode block: FT-FW, as conntrackd defaults\n");
}

TEST(ConntrackdConf, OldModeNames) {
  const std::string link = " UDP { IPv4_Destination_Address 10.0.0.2 Port 9 }";
  ConntrackdConf c = Parse("Sync {\n Mode nack { }\n" + link + "\n}\n");
  EXPECT_EQ(c.sync.mode, SyncMode::kFtfw);
  EXPECT_EQ(Joined(c.warnings), "2: Mode nack is now called FTFW\n");
  c = Parse("Sync {\n Mode Persistent { }\n" + link + "\n}\n");
  EXPECT_EQ(c.sync.mode, SyncMode::kAlarm);
  EXPECT_EQ(Joined(c.warnings), "2: Mode Persistent is now called ALARM\n");
}

TEST(ConntrackdConf, SettingsCtcollectdDoesNotHonourAreReported) {
  ConntrackdConf c = Parse(R"(Sync {
	Mode FTFW {
		CommitTimeout 180
		PurgeTimeout 60
		DisableExternalCache On
		StartupResync on
		RefreshTime 20
	}
	Multicast {
		IPv4_address 225.0.0.50
		Group 3780
		IPv6_interface fe80::1
	}
	Multicast Default {
		IPv4_address 225.0.0.51
		Group 3781
	}
	Multicast {
		IPv4_address 225.0.0.52
		Group 3782
	}
}
)");
  EXPECT_EQ(c.sync.multicast_group, "225.0.0.51:3781");
  EXPECT_EQ(c.sync.refresh_time.count(), 20);
  EXPECT_EQ(Joined(c.warnings),
            "3: CommitTimeout ignored: ctcollectd sends flow timeouts and "
            "commits with the peers' (180 s where a peer sent none)\n"
            "4: PurgeTimeout ignored: ctcollectd has no purge timer "
            "(conntrackd -t)\n"
            "5: DisableExternalCache On ignored: ctcollectd keeps the peers' "
            "flows in its external cache (commit them with ctcollect -c)\n"
            "6: StartupResync On ignored: ask the peers for their tables "
            "with ctcollect -n\n"
            "7: RefreshTime is no Mode FTFW setting (conntrackd refuses it "
            "there)\n"
            "12: IPv6_interface ignored, as conntrackd ignores it\n"
            "9: Multicast link ignored: ctcollectd runs one dedicated link "
            "(line 14), without fail-over\n"
            "18: Multicast link ignored: ctcollectd runs one dedicated link "
            "(line 14), without fail-over\n");
}

// conntrackd starts on the last link marked Default.
TEST(ConntrackdConf, LastDefaultLinkWins) {
  ConntrackdConf c = Parse(
      "Sync {\n UDP Default { IPv4_Destination_Address 10.0.0.2 Port 1 }\n"
      " UDP Default { IPv4_Destination_Address 10.0.0.3 Port 2 }\n"
      " UDP { IPv4_Destination_Address 10.0.0.4 Port 3 }\n Mode FTFW { }\n}\n");
  EXPECT_EQ(c.sync.peers, std::vector<std::string>{"10.0.0.3:2"});
  EXPECT_EQ(c.warnings.size(), 2u) << Joined(c.warnings);
}

// conntrackd's grammar takes several Sync sections as one.
TEST(ConntrackdConf, SyncSectionsAddUp) {
  ConntrackdConf c = Parse(
      "Sync {\n Mode ALARM { RefreshTime 9 }\n}\nGeneral { }\n"
      "Sync {\n Multicast { IPv4_address 225.0.0.50 Group 3780 }\n}\n");
  EXPECT_EQ(c.sync.mode, SyncMode::kAlarm);
  EXPECT_EQ(c.sync.refresh_time.count(), 9);
  EXPECT_EQ(c.sync.multicast_group, "225.0.0.50:3780");
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
}

// Stats, Filter, Scheduler, Helper and the rest of General are skipped,
// nested blocks included.
TEST(ConntrackdConf, SectionsWeDoNotReadAreSkipped) {
  ConntrackdConf c = Parse(R"(Helper {
	Type ftp inet tcp {
		QueueNum 0
		QueueLen 10240
		Policy ftp {
			ExpectMax 1
			ExpectTimeout 300
		}
	}
	Setup yes
}
General {
	Systemd on
	HashSize 32768
	LogFile /var/log/conntrackd.log
	Syslog local0
	Nice -1
	Scheduler {
		Type FIFO
		Priority 99
	}
	NetlinkOverrunResync On
	NetlinkEventsReliable Off
	PollSecs 15
	EventIterationLimit 100
	Filter From Kernelspace {
		Protocol Ignore { UDP ICMP IGMP }
		Address Ignore {
			IPv4_address 127.0.0.1 # loopback
			IPv4_address 192.168.0.0/24
			IPv6_address ::1
		}
		State Accept {
			ESTABLISHED CLOSED TIME_WAIT CLOSE_WAIT for TCP
		}
	}
	UNIX {
		Path /var/run/conntrackd.ctl
	}
}
Sync {
	Mode NOTRACK { }
	UDP { IPv4_Destination_Address 10.0.0.2 Port 3780 }
}
)");
  EXPECT_EQ(c.sync.mode, SyncMode::kNotrack);
  EXPECT_EQ(c.unix_path, "/var/run/conntrackd.ctl");
  EXPECT_TRUE(c.warnings.empty()) << Joined(c.warnings);
}

// Each is one line "LINE: reason", LINE where the trouble is.
TEST(ConntrackdConf, ErrorsNameTheirLine) {
  const std::string udp = " UDP { IPv4_Destination_Address 10.0.0.2 Port 9 }\n";
  struct Case {
    std::string text, error;
  } cases[] = {
      {"Sync {\n  Mode FAST { }\n" + udp + "}\n",
       "2: unknown Mode FAST: FTFW, NOTRACK or ALARM"},
      {"Sync {\n Mode FTFW {\n ACKWindowSize lots\n }\n" + udp + "}\n",
       "3: ACKWindowSize: not a number from 0 to 1048576: lots"},
      {"Sync {\n Mode FTFW {\n ACKWindowSize 0x10\n }\n" + udp + "}\n",
       "3: ACKWindowSize: not a number from 0 to 1048576: 0x10"},
      {"Sync {\n Mode FTFW {\n ResendQueueSize 99999999999999999999999\n }\n" +
           udp + "}\n",
       "3: ResendQueueSize: not a number from 0 to 16777216: "
       "99999999999999999999999"},
      {"Sync {\n Mode ALARM {\n RefreshTime -1\n }\n" + udp + "}\n",
       "3: RefreshTime: not a number from 0 to 86400: -1"},
      {"Sync {\n Mode FTFW {\n ACKWindowSize\n }\n" + udp + "}\n",
       "3: ACKWindowSize: a value expected"},
      {"Sync {\n Mode FTFW {\n Bogus 1\n }\n" + udp + "}\n",
       "3: unknown key in Mode FTFW: Bogus"},
      {"Sync {\n Mode FTFW { }\n Mode ALARM { }\n" + udp + "}\n",
       "3: a second Mode block (the first is on line 2)"},
      {"Sync {\n ACKWindowSize 5\n" + udp + "}\n",
       "2: ACKWindowSize belongs in the Mode block"},
      {"Sync {\n Port 5\n" + udp + "}\n",
       "2: Port belongs in a UDP, Multicast or TCP block"},
      {"Sync {\n ListenTo 10.0.0.1\n" + udp + "}\n",
       "2: unknown key in Sync: ListenTo"},
      {"Sync {\n", "2: missing } of Sync (line 1)"},
      {"Sync {\n UDP {\n Port 1\n", "4: missing } of UDP (line 2)"},
      {"}\n", "1: unexpected }"},
      {"\n{ }\n", "2: a block without a name"},
      {"Sync\n", "1: Sync: { expected"},
      {"Sync {\n Mode FTFW { }\n}\n",
       "1: the Sync section has no UDP, Multicast or TCP block"},
      {"Sync {\n UDP {\n IPv4_address 1.2.3.4\n Port 9\n }\n}\n",
       "2: UDP: no IPv4_Destination_Address (or IPv6_Destination_Address): "
       "the peer"},
      {"Sync {\n TCP {\n IPv4_Destination_Address 1.2.3.4\n }\n}\n",
       "2: TCP: no Port"},
      {"Sync {\n UDP {\n IPv4_Destination_Address 1.2.3.4\n Port 0\n }\n}\n",
       "4: Port: port 0"},
      {"Sync {\n UDP {\n IPv4_Destination_Address 1.2.3.4\n Port 65536\n "
       "}\n}\n",
       "4: Port: not a number from 0 to 65535: 65536"},
      {"Sync {\n UDP {\n IPv4_address 10.0.0.1\n"
       " IPv6_Destination_Address fd00::2\n Port 9\n }\n}\n",
       "3: UDP: the local address 10.0.0.1 and the destination fd00::2 are of "
       "different families"},
      {"Sync {\n UDP {\n IPv4_address fd00::1\n }\n}\n",
       "3: IPv4_address: not an IPv4 address: fd00::1"},
      {"Sync {\n UDP {\n IPv4_address 10.0.0.0/24\n }\n}\n",
       "3: IPv4_address: not an IPv4 address: 10.0.0.0/24"},
      {"Sync {\n UDP {\n IPv6_Destination_Address 10.0.0.1\n }\n}\n",
       "3: IPv6_Destination_Address: not an IPv6 address: 10.0.0.1"},
      {"Sync {\n UDP {\n Group 3780\n }\n}\n", "3: Group: UDP takes Port PORT"},
      {"Sync {\n UDP {\n IPv4_interface 10.0.0.1\n }\n}\n",
       "3: IPv4_interface is no UDP setting"},
      {"Sync {\n Multicast {\n IPv4_address 225.0.0.50\n Port 3780\n }\n}\n",
       "4: Port: Multicast takes Group PORT"},
      {"Sync {\n Multicast {\n IPv4_Destination_Address 10.0.0.1\n }\n}\n",
       "3: IPv4_Destination_Address is no Multicast setting"},
      {"Sync {\n Multicast {\n Group 3780\n }\n}\n",
       "2: Multicast: no IPv4_address (the group)"},
      {"Sync {\n Multicast {\n IPv4_address 225.0.0.50\n }\n}\n",
       "2: Multicast: no Group (the port)"},
      {"Sync {\n Multicast {\n IPv4_address 10.0.0.50\n Group 1\n }\n}\n",
       "3: IPv4_address: 10.0.0.50 is not a multicast group (224.0.0.0/4)"},
      {"Sync {\n Multicast {\n IPv6_address ff02::1:3\n Group 1\n }\n}\n",
       "3: IPv6_address: ctcollectd joins IPv4 multicast groups only"},
      {"Sync {\n UDP {\n Checksum maybe\n }\n}\n",
       "3: Checksum: On or Off expected, not maybe"},
      {"Sync {\n UDP {\n Interface averyveryverylongname\n }\n}\n",
       "3: Interface: not an interface name: averyveryverylongname"},
      {"Sync {\n UDP {\n Interface \"\"\n }\n}\n",
       "3: Interface: not an interface name: "},
      {"Sync {\n UDP {\n Mystery 1\n }\n}\n", "3: unknown key in UDP: Mystery"},
      {"Sync {\n UDP Primary {\n }\n}\n", "2: UDP: { expected"},
      {"Sync {\n UDP { IPv4_address 10.0.0.1 }\n"
       " Multicast { IPv4_address 225.0.0.1 }\n}\n",
       "3: Multicast and UDP (line 2) together: conntrackd runs one link "
       "protocol"},
      {"Sync {\n UDP {}\n UDP {}\n UDP {}\n UDP {}\n UDP {}\n}\n",
       "6: more than 4 dedicated links (conntrackd's maximum)"},
      {"Sync {\n Options {\n ExpectationSync maybe\n }\n}\n",
       "3: ExpectationSync: On or Off expected, not maybe"},
      {"Sync {\n Options {\n TCPWindowTracking\n }\n}\n",
       "3: TCPWindowTracking: a value expected"},
      {"Sync {\n Options {\n ExpectationSync { ftp { } }\n }\n}\n",
       "3: unexpected { in ExpectationSync"},
      {"Sync {\n Options {\n Frobnicate On\n }\n}\n",
       "3: unknown key in Options: Frobnicate"},
      {"General {\n UNIX {\n Path var/run/x.sock\n }\n}\n",
       "3: Path: an absolute path expected, not var/run/x.sock"},
      {"General {\n UNIX {\n Path /" + std::string(107, 'x') + "\n }\n}\n",
       "3: Path: longer than 107 characters"},
      {"General {\n UNIX {\n Mode 0660\n }\n}\n",
       "3: unknown key in UNIX: Mode"},
      {"General {\n UNIX {\n", "3: missing } of UNIX (line 2)"},
      {"General {\n HashSize 1\n", "3: missing } of General (line 1)"},
      {"General {\n Filter {\n Protocol Accept {\n TCP\n",
       "5: missing } of the block of line 3"},
      {"Sync {\n UDP {\n Interface \"eth0\n }\n}\n",
       "3: unterminated quoted string"},
      {"Sync {\n UDP {\n Interface eth\x01\n }\n}\n",
       "3: control character 0x01 outside a comment"},
      {"Sync {\n UDP {\n Interface eth\0x\n }\n}\n"s,
       "3: control character 0x00 outside a comment"},
      {"General {\n}\n",
       "1: no Sync section: this conntrackd.conf runs stats mode"},
      {"", "1: no Sync section: this conntrackd.conf runs stats mode"},
      {"General {\n}\nHelper {\n}\n",
       "3: no Sync section: this conntrackd.conf runs helpers only"},
      {"Stats {\n}\nSync {\n" + udp + "}\n",
       "3: a Stats section (line 1) and a Sync section (line 3): conntrackd "
       "refuses both"},
  };
  for (const Case& c : cases) EXPECT_EQ(ErrorOf(c.text), c.error) << c.text;
}

TEST(ConntrackdConf, LimitsOfSizeAndDepth) {
  std::string deep = "Foo {\n";
  for (int i = 0; i < 15; ++i) deep += "a {\n";
  for (int i = 0; i < 16; ++i) deep += "}\n";
  // 16 deep is skipped; 17 is refused.
  EXPECT_EQ(ErrorOf(deep),
            "1: no Sync section: this conntrackd.conf runs "
            "stats mode");
  deep = "General {\n";
  for (int i = 0; i < 100000; ++i) deep += "{";
  EXPECT_EQ(ErrorOf(deep), "2: blocks nested more than 16 deep");
  std::string big = Sample("ftfw.conf");
  big.resize((1 << 20) + 1, '#');
  EXPECT_EQ(ErrorOf(big), "1: larger than 1 MiB");
  big.resize(1 << 20);  // the limit itself is fine
  EXPECT_TRUE(ParseConntrackdConf(big, &deep).has_value()) << deep;
}

// Never a crash, an exception or a malformed error on any prefix or byte
// change of a real file.
TEST(ConntrackdConf, EveryPrefixAndMutationOfASample) {
  const std::string text = Sample("ftfw_udp.conf");
  auto check = [](const std::string& t) {
    std::string error;
    auto c = ParseConntrackdConf(t, &error);
    if (c) return;
    const size_t colon = error.find(": ");
    ASSERT_NE(colon, std::string::npos) << error;
    ASSERT_GT(colon, 0u) << error;
    for (size_t i = 0; i < colon; ++i) ASSERT_TRUE(isdigit(error[i])) << error;
    ASSERT_EQ(error.find('\n'), std::string::npos) << error;
  };
  for (size_t n = 0; n <= text.size(); n += 7) check(text.substr(0, n));
  const char kBytes[] = {'{', '}', '#', '"', ' ', '\n', '0', 'x', '\0', '/'};
  for (size_t i = 0; i < text.size(); i += 13) {
    std::string t = text;
    t[i] = kBytes[i % sizeof(kBytes)];
    check(t);
  }
}

TEST(ConntrackdConf, ReadNamesTheFileAndLine) {
  try {
    ReadConntrackdConf(SamplePath("stats.conf"));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              SamplePath("stats.conf") +
                  ":106: no Sync section: this conntrackd.conf runs stats "
                  "mode");
  }
  EXPECT_EQ(ReadConntrackdConf(SamplePath("ftfw.conf")).sync,
            DebianMulticast(SyncMode::kFtfw));
  try {
    ReadConntrackdConf("/nonexistent/conntrackd.conf");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/conntrackd.conf: cannot read: No such file or "
              "directory");
  }
  const std::string dir = std::string(CTCOLLECT_TESTDATA) + "/conntrackd_conf";
  try {
    ReadConntrackdConf(dir);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": not a regular file");
  }
}

// --conntrackd.config takes the Sync section and the socket path, unless
// --control.socket is given.
TEST(ConntrackdConf, DaemonFlagTakesSyncAndSocket) {
  const std::string path = SamplePath("ftfw.conf");
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
