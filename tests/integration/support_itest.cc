// The test support library itself: the parsers on fixed text, and the
// namespace, `conntrack -L` reading and HTTP client against the real
// kernel (flows made with the conntrack tool, not with ctinject, so that a
// bug shared by ctinject and the collector cannot hide).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

TEST(PromText, ParsesLabelsInAnyOrderEscapesAndTimestamps) {
  std::vector<std::string> errors;
  auto m = ParsePromText(
      "# HELP x Help.\n"
      "# TYPE x gauge\n"
      "x{b=\"2\",a=\"1\"} 3\n"
      "x{a=\"q\\\"uo\\\\te\\n\", b=\"\"} 4 1700000000000\n"
      "y 1e3\n"
      "z{le=\"+Inf\"} +Inf\n"
      "n NaN\n"
      "\n",
      &errors);
  EXPECT_TRUE(errors.empty()) << errors[0];
  EXPECT_EQ(m[Series("x", {{"a", "1"}, {"b", "2"}})], 3);
  // An empty label is no label.
  EXPECT_EQ(m.count(Series("x", {{"a", "q\"uo\\te\n"}})), 1u);
  EXPECT_EQ(m[Series("y", {})], 1000);
  EXPECT_TRUE(std::isinf(m[Series("z", {{"le", "+Inf"}})]));
  EXPECT_TRUE(std::isnan(m[Series("n", {})]));
  EXPECT_EQ(SumSeries(m, "x", {}), 7);
  EXPECT_EQ(SumSeries(m, "x", {{"b", "2"}}), 3);
  EXPECT_EQ(SumSeries(m, "x", {{"b", ""}}), 4);  // "" matches the absent b
  int samples = 0;
  ForEachSample(m, "x", [&](const Labels& l, double) {
    ++samples;
    EXPECT_EQ(l.count("a"), 1u);
  });
  EXPECT_EQ(samples, 2);
}

TEST(PromText, ReportsDuplicatesAndMalformedLines) {
  std::vector<std::string> errors;
  auto m = ParsePromText(
      "a{x=\"1\"} 1\n"
      "a{x=\"1\"} 2\n"         // same series again
      "a{x=\"1\",y=\"\"} 5\n"  // y="" is the same series too
      "b{x=\"1} 1\n"           // unterminated
      "c{x=\"1\"}\n"           // no value
      "d 1 2 3\n"              // trailing junk
      "e{x=\"1\",x=\"2\"} 1\n",
      &errors);
  EXPECT_EQ(errors.size(), 6u);
  EXPECT_EQ(m[Series("a", {{"x", "1"}})], 1);
  EXPECT_EQ(m.size(), 1u);
}

TEST(KernelTruth, ParsesConntrackListLinesAsPrinted) {
  // Lines as conntrack 1.4.7 prints them (captured on this kernel).
  const std::string text =
      "sctp     132 99 COOKIE_WAIT src=198.18.0.1 dst=198.18.0.2 sport=1 "
      "dport=2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 "
      "mark=0 use=1\n"
      "udp      17 99 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 "
      "[UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 mark=0 "
      "use=1\n"
      "gre      47 99 src=198.18.0.1 dst=198.18.0.2 srckey=0x1 dstkey=0x2 "
      "[UNREPLIED] src=198.18.0.2 dst=198.18.0.1 srckey=0x2 dstkey=0x1 "
      "mark=0 use=1\n"
      "tcp      6 99 TIME_WAIT src=198.18.0.1 dst=198.18.0.2 sport=3 "
      "dport=2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2 dport=3 "
      "mark=7 use=1\n"
      "unknown  250 99 src=198.18.0.1 dst=198.18.0.2 [UNREPLIED] "
      "src=198.18.0.2 dst=198.18.0.1 mark=0 use=1\n"
      "tcp      6 99 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1 "
      "dport=2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 "
      "[ASSURED] mark=0 zone=3 use=1\n"
      "tcp      6 99 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=5 "
      "dport=2 src=198.18.0.2 dst=198.18.0.1 sport=2 dport=5 [ASSURED] "
      "mark=0 zone=3 use=1\n"
      "conntrack v1.4.7 (conntrack-tools): 7 flow entries have been shown.\n";
  EntryCounts want = {{{"ipv4", "sctp", "COOKIE_WAIT", "0"}, 1},
                      {{"ipv4", "udp", "", "0"}, 1},
                      {{"ipv4", "gre", "", "0"}, 1},
                      {{"ipv4", "tcp", "TIME_WAIT", "0"}, 1},
                      {{"ipv4", "generic", "", "0"}, 1},
                      {{"ipv4", "tcp", "ESTABLISHED", "3"}, 2}};
  EXPECT_EQ(ParseConntrackList("ipv4", text), want);
}

TEST(KernelTruth, SumsConntrackStatsOverCpus) {
  auto s = ParseConntrackStats(
      "cpu=0   \tfound=1 invalid=2 insert=0 insert_failed=0 drop=0 "
      "early_drop=0 error=0 search_restart=7 clash_resolve=0 "
      "chaintoolong=0 \n"
      "cpu=1   \tfound=10 invalid=0 insert=8 insert_failed=0 drop=0 "
      "early_drop=0 error=0 search_restart=0 clash_resolve=0 "
      "chaintoolong=3 \n");
  EXPECT_EQ(s["found"], 11);
  EXPECT_EQ(s["invalid"], 2);
  EXPECT_EQ(s["insert"], 8);
  EXPECT_EQ(s["search_restart"], 7);
  EXPECT_EQ(s["chaintoolong"], 3);
  EXPECT_EQ(s.count("cpu"), 0u);
  EXPECT_EQ(s.size(), 10u);
}

TEST(TestNetnsKernel, IsDeletedAndRunsCommandsInside) {
  REQUIRE_PRIVILEGE();
  std::string name;
  {
    TestNetns ns;
    ASSERT_TRUE(ns.ok()) << ns.error();
    name = ns.name();
    struct stat st;
    EXPECT_EQ(stat(ns.path().c_str(), &st), 0);
    CommandResult r = ns.RunSplit("echo out; echo err >&2; exit 3");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    // The namespace is empty of flows and has its own table.
    EXPECT_EQ(KernelCount(ns), 0);
    EXPECT_NE(ns.Run("ip -o link show lo").out.find("LOOPBACK,UP"),
              std::string::npos);
    // A process left running inside dies with the namespace.
    ns.Run("sleep 600 >/dev/null 2>&1 &");
  }
  EXPECT_EQ(Shell("ip netns list | grep -w " + name).exit_code, 1);
}

TEST(TestNetnsKernel, ConntrackListCountsEveryProtocolFamilyAndZone) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const std::string v4 = "-s 198.18.0.1 -d 198.18.0.2 ";
  const std::string v6 = "-s 2001:db8::1 -d 2001:db8::2 ";
  const std::vector<std::string> flows = {
      "-p tcp " + v4 + "--sport 1 --dport 2 --state ESTABLISHED -u ASSURED",
      "-p tcp " + v4 + "--sport 3 --dport 2 --state ESTABLISHED -w 3",
      "-p tcp " + v4 + "--sport 4 --dport 2 --state TIME_WAIT -m 7",
      "-p tcp " + v6 + "--sport 1 --dport 2 --state SYN_SENT -w 65535",
      "-p udp " + v4 + "--sport 1 --dport 2",
      "-p udp " + v6 + "--sport 1 --dport 2 -w 9",
      "-p udplite " + v4 + "--sport 1 --dport 2",
      "-p icmp " + v4 + "--icmp-type 8 --icmp-code 0 --icmp-id 5",
      "-p icmpv6 " + v6 + "--icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 5",
      "-p sctp " + v4 +
          "--sport 1 --dport 2 --state COOKIE_WAIT --orig-vtag 1 "
          "--reply-vtag 2",
      "-p gre " + v4 + "--srckey 1 --dstkey 2",
      "-p 250 " + v4,
  };
  for (const auto& f : flows) {
    CommandResult r = ns.Run("conntrack -I " + f + " -t 300");
    ASSERT_EQ(r.exit_code, 0) << f << ": " << r.out;
  }
  EntryCounts want = {{{"ipv4", "tcp", "ESTABLISHED", "0"}, 1},
                      {{"ipv4", "tcp", "ESTABLISHED", "3"}, 1},
                      {{"ipv4", "tcp", "TIME_WAIT", "0"}, 1},
                      {{"ipv6", "tcp", "SYN_SENT", "65535"}, 1},
                      {{"ipv4", "udp", "", "0"}, 1},
                      {{"ipv6", "udp", "", "9"}, 1},
                      {{"ipv4", "udplite", "", "0"}, 1},
                      {{"ipv4", "icmp", "", "0"}, 1},
                      {{"ipv6", "icmpv6", "", "0"}, 1},
                      {{"ipv4", "sctp", "COOKIE_WAIT", "0"}, 1},
                      {{"ipv4", "gre", "", "0"}, 1},
                      {{"ipv4", "generic", "", "0"}, 1}};
  EntryCounts got = KernelEntries(ns);
  EXPECT_EQ(got, want) << "got " << Describe(got) << "\nwant "
                       << Describe(want);
  EXPECT_EQ(KernelCount(ns), static_cast<int64_t>(flows.size()));
  EXPECT_GE(KernelStatsSum(ns)["insert"], static_cast<int64_t>(flows.size()));
  EXPECT_GT(KernelLimit(ns), 0);
}

TEST(TestNetnsKernel, TracksRealLoopbackTrafficAndServesHttpInside) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  int port = FreePort();
  std::string body;
  int status = RealHttpExchange(ns, port, &body);
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("Directory listing"), std::string::npos) << body;
  // The GET was tracked in the namespace, not in ours.
  std::string list = ns.RunSplit("conntrack -L -p tcp").out;
  EXPECT_NE(list.find("dport=" + std::to_string(port)), std::string::npos)
      << list;
  EXPECT_EQ(HttpGet(port, "/", &body), 0) << "reachable from outside";
}

}  // namespace
}  // namespace ctcollect::itest
