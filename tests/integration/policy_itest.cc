// Timeout policies against the real kernel, in a namespace the test makes:
// cttimeout objects (`nfct timeout add`) and nft `ct timeout` objects are
// read, exported with the values the kernel's own tools print, and listed
// by `ctcollect policies` exactly as `nfct timeout list` lists them.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <regex>
#include <string>

#include "tests/integration/daemon.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

using PolicyValues = std::map<std::string, std::map<std::string, double>>;

// `nfct timeout list`: ".NAME = {" then ".STATE = N," lines.
PolicyValues ParseNfctList(const std::string& text) {
  PolicyValues out;
  std::string current;
  std::regex head(R"(^\.(\S+) = \{$)"), value(R"(^\t\t\.(\w+) = (\d+),$)");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    std::smatch m;
    if (std::regex_match(line, m, head)) {
      current = m[1];
    } else if (std::regex_match(line, m, value)) {
      out[current][m[1]] = std::stod(m[2]);
    }
  }
  return out;
}

// `nft list ct timeout FAMILY TABLE NAME`: "policy = { established : 111,
// close : 13 }" (the states set explicitly).
std::map<std::string, double> ParseNftPolicy(const std::string& text) {
  std::map<std::string, double> out;
  size_t at = text.find("policy = {");
  if (at == std::string::npos) return out;
  std::string body = text.substr(at, text.find('}', at) - at);
  std::regex pair(R"((\w+) : (\d+))");
  for (std::sregex_iterator it(body.begin(), body.end(), pair), end; it != end;
       ++it) {
    std::string state = (*it)[1];
    for (char& c : state) c = static_cast<char>(std::toupper(c));
    out[state] = std::stod((*it)[2]);
  }
  return out;
}

// conntrack_timeout_policy_seconds of one policy, by state.
std::map<std::string, double> Exported(const Daemon& d,
                                       const std::string& netns,
                                       const std::string& policy,
                                       const std::string& protocol) {
  std::map<std::string, double> out;
  ForEachSample(d.Metrics(), "conntrack_timeout_policy_seconds",
                [&](const Labels& l, double v) {
                  if (l.at("netns") == netns && l.at("policy") == policy &&
                      l.at("protocol") == protocol) {
                    out[l.at("state")] = v;
                  }
                });
  return out;
}

TEST(TimeoutPolicies, ExportedAsTheKernelsToolsPrintThem) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v nfct").exit_code != 0) SKIP_UNLESS_CI("no nfct");
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(ns.Run("nfct timeout add web inet tcp established 100 "
                   "syn_sent 5 time_wait 7")
                .exit_code,
            0);
  ASSERT_EQ(
      ns.Run("nfct timeout add dns inet udp unreplied 3 replied 9").exit_code,
      0);
  ASSERT_EQ(ns.Run("nft -f - <<'EOF'\n"
                   "table inet ctp {\n"
                   "  ct timeout fast {\n"
                   "    protocol tcp; l3proto ip;\n"
                   "    policy = { established: 111, close: 13 }\n"
                   "  }\n"
                   "}\nEOF")
                .exit_code,
            0);
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();

  PolicyValues kernel = ParseNfctList(ns.Run("nfct timeout list").out);
  ASSERT_EQ(kernel.size(), 2u);
  EXPECT_EQ(kernel["web"]["ESTABLISHED"], 100);
  EXPECT_EQ(Exported(d, ns.name(), "web", "tcp"), kernel["web"]);
  EXPECT_EQ(Exported(d, ns.name(), "dns", "udp"), kernel["dns"]);

  // nft prints the states set explicitly; the kernel filled the others
  // with the defaults.
  auto nft = ParseNftPolicy(ns.Run("nft list ct timeout inet ctp fast").out);
  ASSERT_EQ(nft.size(), 2u);
  auto fast = Exported(d, ns.name(), "inet/ctp/fast", "tcp");
  auto defaults = Exported(d, ns.name(), "default", "tcp");
  ASSERT_EQ(fast.size(), 11u);
  for (const auto& [state, v] : fast) {
    if (nft.count(state)) {
      EXPECT_EQ(v, nft[state]) << state;
    } else {
      EXPECT_EQ(v, defaults[state]) << state;
    }
  }
  // The defaults are the kernel's (its sysctls say the same).
  EXPECT_EQ(defaults["ESTABLISHED"],
            std::stod(ns.Run("sysctl -n net.netfilter."
                             "nf_conntrack_tcp_timeout_established")
                          .out));
  auto m = d.Metrics();
  EXPECT_EQ(m[Series("ctcollect_source_up",
                     {{"netns", ns.name()}, {"source", "timeout_policies"}})],
            1);

  // ctcollect policies: nfct's own listing first, byte for byte.
  std::string listed = d.Client("policies");
  std::string nfct = ns.Run("nfct timeout list").out;
  EXPECT_EQ(listed.substr(0, nfct.size()), nfct);
  EXPECT_NE(listed.find(".inet/ctp/fast = {"), std::string::npos) << listed;
  EXPECT_NE(listed.find(".default = {"), std::string::npos);
  std::string web = d.Client("policies web");
  EXPECT_EQ(web, nfct.substr(nfct.find(".web = {"),
                             nfct.find("};\n", nfct.find(".web = {")) + 3 -
                                 nfct.find(".web = {")));
  std::string json = d.Client("policies dns -o json");
  EXPECT_NE(json.find("\"timeouts\":{\"UNREPLIED\":3,\"REPLIED\":9}"),
            std::string::npos)
      << json;
  int code = 0;
  d.Client("policies nosuch", &code);
  EXPECT_NE(code, 0);

  // A policy added later shows at the next resync.
  ASSERT_EQ(ns.Run("nfct timeout add late inet icmp timeout 4").exit_code, 0);
  double before = d.LastResync(ns.name());
  d.Client("-R");
  ASSERT_TRUE(d.WaitForResyncAfter(ns.name(), before, 10));
  EXPECT_EQ(Exported(d, ns.name(), "late", "icmp")["TIMEOUT"], 4);
}

}  // namespace
}  // namespace ctcollect::itest
