// /api/v1/flows filters against the kernel's own: a namespace holds flows
// that differ in source, destination, ports, mark, zone and state; every
// filter of the API picks exactly the flows (by id) that `conntrack -L`
// picks with the same filter in that namespace.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

using Ids = std::set<std::string>;

Ids Captures(const std::string& text, const std::string& pattern) {
  Ids out;
  std::regex re(pattern);
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end;
       ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

// The ids `conntrack -L ARGS` lists in `ns`, over every argument set given
// (a union: conntrack's --sport and --dport need one protocol at a time).
Ids KernelIds(const TestNetns& ns, const std::vector<std::string>& args) {
  Ids out;
  for (const std::string& a : args) {
    CommandResult r = ns.RunSplit("conntrack -L " + a + " -o id");
    EXPECT_EQ(r.exit_code, 0) << a << ": " << r.err;
    Ids some = Captures(r.out, R"(id=(\d+))");
    out.insert(some.begin(), some.end());
  }
  return out;
}

Ids ApiIds(const Daemon& d, const TestNetns& ns, const std::string& query) {
  const std::string body =
      d.Get("/api/v1/flows?format=json&netns=" + ns.name() + "&" + query);
  EXPECT_EQ(body.rfind("[", 0), 0u) << query << ": " << body.substr(0, 200);
  return Captures(body, R"re("id":(\d+))re");
}

// 48 flows: sources 10.1.0.1-8 and 10.1.1.1-8 (and three IPv6 ones),
// destinations 10.2.0.1/.2, source ports 1000+i, destination ports 80, 443
// and 53, marks 0, 7 and 0x107, zones 0 and 3, tcp states ESTABLISHED,
// SYN_SENT and TIME_WAIT, and udp.
void Populate(const TestNetns& ns) {
  std::string script;
  const char* states[] = {"ESTABLISHED", "SYN_SENT", "TIME_WAIT"};
  const char* marks[] = {"0", "7", "0x107"};
  for (int i = 0; i < 45; ++i) {
    const bool udp = i % 5 == 4;
    script += "conntrack -I -s 10.1." + std::to_string(i % 2) + "." +
              std::to_string(1 + i / 2 % 8) + " -d 10.2.0." +
              std::to_string(1 + i % 3 / 2) + " -p " + (udp ? "udp" : "tcp") +
              " --sport " + std::to_string(1000 + i) + " --dport " +
              (udp     ? "53"
               : i % 3 ? "443"
                       : "80") +
              (udp ? "" : std::string(" --state ") + states[i % 3]) +
              " -t 600 -m " + marks[i % 3] + (i % 4 == 0 ? " -w 3" : "") +
              " 2>/dev/null || exit 1\n";
  }
  for (int i = 0; i < 3; ++i) {
    script += "conntrack -I -s fd00::" + std::to_string(i + 1) +
              " -d fd01::1 -p tcp --sport 1000 --dport 80 --state "
              "ESTABLISHED -t 600 2>/dev/null || exit 1\n";
  }
  ASSERT_EQ(ns.Run(script).exit_code, 0);
}

TEST(FlowsApi, EachFilterPicksWhatConntrackListPicks) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  ASSERT_NO_FATAL_FAILURE(Populate(ns));
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();

  const Ids all = KernelIds(ns, {""});
  ASSERT_EQ(all.size(), 48u);
  EXPECT_EQ(ApiIds(d, ns, ""), all);

  struct Case {
    std::string query;
    std::vector<std::string> conntrack;
  };
  const std::vector<Case> cases = {
      {"src=10.1.0.0/24", {"-s 10.1.0.0/24"}},
      {"src=10.1.1.3", {"-s 10.1.1.3"}},
      {"src=fd00::/64", {"-s fd00::/64"}},
      {"dst=10.2.0.2/32", {"-d 10.2.0.2"}},
      {"dst=10.0.0.0/8", {"-d 10.0.0.0/8"}},
      {"sport=1007", {"-p tcp --sport 1007", "-p udp --sport 1007"}},
      {"sport=1000", {"-p tcp --sport 1000", "-p udp --sport 1000"}},
      {"dport=443", {"-p tcp --dport 443", "-p udp --dport 443"}},
      {"dport=53", {"-p tcp --dport 53", "-p udp --dport 53"}},
      {"mark=7", {"-m 7"}},
      {"mark=0x107", {"-m 0x107"}},
      {"mark=7/0xff", {"-m 7/0xff"}},
      {"ct_zone=3", {"-w 3"}},
      {"state=TIME_WAIT", {"-p tcp --state TIME_WAIT"}},
      {"state=ESTABLISHED", {"-p tcp --state ESTABLISHED"}},
      {"protocol=udp&dport=53&src=10.1.1.0/24",
       {"-p udp --dport 53 -s 10.1.1.0/24"}},
  };
  for (const Case& c : cases) {
    const Ids want = KernelIds(ns, c.conntrack);
    EXPECT_FALSE(want.empty()) << c.query << " selects nothing: a weak case";
    EXPECT_LT(want.size(), all.size()) << c.query << " selects everything";
    EXPECT_EQ(ApiIds(d, ns, c.query), want) << c.query;
  }

  // limit: that many flows, each one the kernel holds; with a filter, that
  // many of the filter's.
  const Ids five = ApiIds(d, ns, "limit=5");
  EXPECT_EQ(five.size(), 5u);
  for (const std::string& id : five) EXPECT_EQ(all.count(id), 1u) << id;
  const Ids zone3 = KernelIds(ns, {"-w 3"});
  const Ids two = ApiIds(d, ns, "ct_zone=3&limit=2");
  EXPECT_EQ(two.size(), 2u);
  for (const std::string& id : two) EXPECT_EQ(zone3.count(id), 1u) << id;
  EXPECT_EQ(ApiIds(d, ns, "limit=1000"), all);
}

}  // namespace
}  // namespace ctcollect::itest
