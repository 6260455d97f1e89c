// Which timeout policy real flows run under, against the kernel: a
// cttimeout policy attached by an iptables CT rule to TCP and UDP, an nft
// `ct timeout` policy on other TCP traffic, and traffic under the default.
// The kernel's own remaining timeouts (conntrack -L) show the policies
// really apply; ctcollectd must attribute each flow to the right one.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "tests/integration/daemon.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

// The remaining timeout conntrack -L shows for the flow to `dport`.
int KernelTimeout(const TestNetns& ns, const std::string& proto, int dport) {
  std::string out = ns.Run("conntrack -L -p " + proto + " --dport " +
                           std::to_string(dport) + " 2>/dev/null")
                        .out;
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(proto + R"(\s+\d+\s+(\d+))"))) {
    return -1;
  }
  return std::stoi(m[1]);
}

double PolicyEntries(const std::map<std::string, double>& m,
                     const std::string& netns, const std::string& policy,
                     const std::string& protocol) {
  return SumSeries(
      m, "conntrack_policy_entries",
      {{"netns", netns}, {"policy", policy}, {"protocol", protocol}});
}

TEST(PolicyAttribution, RealFlowsAreAttributedToThePolicyTheyRunUnder) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v nfct && command -v iptables").exit_code != 0) {
    SKIP_UNLESS_CI("nfct or iptables missing");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(ns.Run("nfct timeout add webpol inet tcp syn_sent 7 syn_recv 8 "
                   "established 100")
                .exit_code,
            0);
  ASSERT_EQ(ns.Run("nfct timeout add dnspol inet udp unreplied 11 replied 23")
                .exit_code,
            0);
  CommandResult ipt = ns.Run(
      "iptables -t raw -A OUTPUT -p tcp --dport 7301 -j CT --timeout webpol "
      "&& iptables -t raw -A OUTPUT -p udp --dport 7302 -j CT --timeout "
      "dnspol");
  ASSERT_EQ(ipt.exit_code, 0) << ipt.out;
  // nft's ct timeout set must run after conntrack (filter priority).
  ASSERT_EQ(ns.Run("nft -f - <<'EOF'\n"
                   "table inet ctp {\n"
                   "  ct timeout fast {\n"
                   "    protocol tcp; l3proto ip;\n"
                   "    policy = { established: 111 }\n"
                   "  }\n"
                   "  chain out {\n"
                   "    type filter hook output priority filter;\n"
                   "    tcp dport 7303 ct timeout set \"fast\"\n"
                   "  }\n"
                   "}\nEOF")
                .exit_code,
            0);
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();

  ASSERT_TRUE(HoldTcpConnection(ns, 7301, 30));
  ASSERT_TRUE(HoldTcpConnection(ns, 7303, 30));
  ASSERT_TRUE(HoldTcpConnection(ns, 7304, 30));  // the default
  ASSERT_TRUE(UdpExchange(ns, 7302));
  // The kernel applies the policies (remaining timeouts within them).
  EXPECT_LE(KernelTimeout(ns, "tcp", 7301), 100);
  EXPECT_LE(KernelTimeout(ns, "tcp", 7303), 111);
  EXPECT_GT(KernelTimeout(ns, "tcp", 7304), 1000);
  EXPECT_LE(KernelTimeout(ns, "udp", 7302), 23);

  std::map<std::string, double> m;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    m = d.Metrics();
    if (PolicyEntries(m, ns.name(), "webpol", "tcp") == 1 &&
        PolicyEntries(m, ns.name(), "inet/ctp/fast", "tcp") == 1 &&
        PolicyEntries(m, ns.name(), "dnspol", "udp") == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(m[Series("conntrack_policy_entries", {{"netns", ns.name()},
                                                  {"policy", "webpol"},
                                                  {"protocol", "tcp"},
                                                  {"state", "ESTABLISHED"}})],
            1);
  EXPECT_EQ(m[Series("conntrack_policy_entries", {{"netns", ns.name()},
                                                  {"policy", "inet/ctp/fast"},
                                                  {"protocol", "tcp"},
                                                  {"state", "ESTABLISHED"}})],
            1);
  EXPECT_EQ(PolicyEntries(m, ns.name(), "dnspol", "udp"), 1);
  EXPECT_EQ(m[Series("conntrack_policy_entries", {{"netns", ns.name()},
                                                  {"policy", "default"},
                                                  {"protocol", "tcp"},
                                                  {"state", "ESTABLISHED"}})],
            1);
  EXPECT_EQ(PolicyEntries(m, ns.name(), "unknown", "tcp"), 0);
  // Every flow is in exactly one policy.
  EXPECT_EQ(SumSeries(m, "conntrack_policy_entries", {{"netns", ns.name()}}),
            SumSeries(m, "conntrack_entries", {{"netns", ns.name()}}));
}

}  // namespace
}  // namespace ctcollect::itest

namespace ctcollect::itest {
namespace {

// A scripted workload whose true ESTABLISHED durations are known (20
// connections, each closed 2 s after it opened): the advice covers them,
// is far below the default, and its printed commands work.
TEST(TimeoutAdvice, ProposalCoversTheWorkloadAndApplies) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v nfct").exit_code != 0) SKIP_UNLESS_CI("no nfct");
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  CommandResult w = ns.Run(
      "python3 -c \"import socket,threading,time\n"
      "s=socket.socket(); s.bind(('127.0.0.1',7401)); s.listen(64)\n"
      "def srv():\n"
      "  for i in range(20):\n"
      "    c,_=s.accept(); threading.Thread(target=lambda c=c: (c.recv(1), "
      "c.close())).start()\n"
      "t=threading.Thread(target=srv); t.start()\n"
      "def cli():\n"
      "  c=socket.create_connection(('127.0.0.1',7401)); time.sleep(2); "
      "c.close()\n"
      "ts=[threading.Thread(target=cli) for i in range(20)]\n"
      "[x.start() for x in ts]; [x.join() for x in ts]; t.join()\"");
  ASSERT_EQ(w.exit_code, 0) << w.out;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  d.Client("-R");  // a dump fills the age histograms
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  int code = -1;
  std::string advice = d.Client("advise --min-flows 10", &code);
  ASSERT_EQ(code, 0) << advice;
  // The ESTABLISHED line of the default policy.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      advice, m,
      std::regex(
          R"(default\s+tcp\s+ESTABLISHED\s+(\d+)\s+(\d+)s\s+(\d+)s\s+(\d+)s)")))
      << advice;
  int flows = std::stoi(m[1]);
  int proposed = std::stoi(m[4]);
  EXPECT_GE(flows, 20);
  EXPECT_EQ(std::stoi(m[3]), 432000);
  EXPECT_GE(proposed, 2);   // covers every connection (2 s each, + rounding)
  EXPECT_LE(proposed, 10);  // and is far below the default

  // The printed commands create the policy.
  std::smatch cmd;
  ASSERT_TRUE(std::regex_search(
      advice, cmd, std::regex(R"((nfct timeout add tcp_advised [^\n]+))")))
      << advice;
  CommandResult add = ns.Run(cmd[1].str());
  EXPECT_EQ(add.exit_code, 0) << cmd[1] << "\n" << add.out;
  std::string listed = ns.Run("nfct timeout list").out;
  EXPECT_NE(listed.find(".ESTABLISHED = " + std::to_string(proposed) + ","),
            std::string::npos)
      << listed;
  size_t at = advice.find("table inet ctcollect_advice {");
  ASSERT_NE(at, std::string::npos) << advice;
  std::string block = advice.substr(at, advice.find("}\n}\n", at) + 4 - at);
  CommandResult nft = ns.Run("nft -f - <<'EOF'\n" + block + "EOF");
  EXPECT_EQ(nft.exit_code, 0) << block << "\n" << nft.out;
  EXPECT_NE(ns.Run("nft list ct timeout inet ctcollect_advice tcp_advised")
                .out.find("established : " + std::to_string(proposed)),
            std::string::npos);
}

}  // namespace
}  // namespace ctcollect::itest
