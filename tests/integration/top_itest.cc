// The top-talker rankings against the kernel: /api/v1/top, the
// conntrack_top_entries and conntrack_snat_tuple_max_entries series and
// `ctcollect top --by` compared with what `conntrack -L` lists in the
// test's namespaces, exactly after a resync and within the reported error
// bound live (after deletes, creates and a storm); SNAT from real
// masqueraded connections over a veth pair.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/sync_pair.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

struct TopAnswer {
  int status = 0;
  int64_t entries = -1;
  int64_t max_error = -1;
  std::map<std::string, int64_t> keys;
  std::vector<std::string> order;  // keys, most entries first
};

// /api/v1/top of a daemon that watches one namespace.
TopAnswer GetTop(const Daemon& d, const std::string& query) {
  TopAnswer a;
  std::string body;
  a.status = d.Get("/api/v1/top?" + query, &body);
  std::smatch m;
  if (std::regex_search(
          body, m,
          std::regex(
              R"re("entries":(\d+),"exact_at":[0-9.e+]+,"max_error":(\d+))re"))) {
    a.entries = std::stoll(m[1]);
    a.max_error = std::stoll(m[2]);
  }
  std::regex item(R"re(\{"key":"([^"]+)","entries":(\d+),"new_per_second")re");
  for (std::sregex_iterator it(body.begin(), body.end(), item), end; it != end;
       ++it) {
    a.keys[(*it)[1]] = std::stoll((*it)[2]);
    a.order.push_back((*it)[1]);
  }
  return a;
}

// `conntrack -L` in `ns`, entries per original source address.
std::map<std::string, int64_t> KernelBySource(const TestNetns& ns) {
  std::map<std::string, int64_t> out;
  CommandResult r = ns.RunSplit("conntrack -L 2>/dev/null");
  std::istringstream in(r.out);
  std::string line;
  std::regex src(R"re( src=(\S+) )re");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, src)) ++out[m[1]];
  }
  return out;
}

// `conntrack -L` in `ns`, SNAT tuples as the snat ranking spells them:
// PROTO/<reply dst>-><reply src>:<reply sport>, for flows whose reply
// destination is not the original source (translated).
std::map<std::string, int64_t> KernelSnatTuples(const TestNetns& ns) {
  std::map<std::string, int64_t> out;
  CommandResult r = ns.RunSplit("conntrack -L -p tcp 2>/dev/null");
  std::istringstream in(r.out);
  std::string line;
  std::regex tuples(
      R"re(src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+) .*?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+))re");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, tuples)) continue;
    if (m[1] == m[6]) continue;  // not source-translated
    ++out["tcp/" + m[6].str() + "->" + m[5].str() + ":" + m[7].str()];
  }
  return out;
}

// Every listed key: never under the kernel's count, over it by at most the
// answer's max_error.
void ExpectWithinBound(const TopAnswer& a,
                       const std::map<std::string, int64_t>& kernel) {
  ASSERT_GE(a.max_error, 0);
  for (const auto& [key, n] : a.keys) {
    const int64_t truth = kernel.count(key) ? kernel.at(key) : 0;
    EXPECT_GE(n, truth) << key;
    EXPECT_LE(n - truth, a.max_error) << key;
  }
}

constexpr int kSingles = 30000;
const int kHeavy[4] = {4000, 3000, 2000, 1000};

// Heavy source i is 198.18.0.i (ctinject's tcp flows k = i*60000 ...);
// the single-flow sources are ctinject's generic flows, 198.18.H.L with
// H.L = k, one flow each.
void MakeTable(const TestNetns& ns) {
  ASSERT_EQ(CtInject(ns, "create --proto 253 --count " +
                             std::to_string(kSingles) + " --quiet")
                .exit_code,
            0);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(
        CtInject(ns, "create --proto tcp --count " + std::to_string(kHeavy[i]) +
                         " --offset " + std::to_string(i * 60000) + " --quiet")
            .exit_code,
        0);
  }
}

TEST(TopTalkers, HeavySourcesAmongManyMatchConntrackList) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  MakeTable(ns);
  const int64_t total = kSingles + 4000 + 3000 + 2000 + 1000;
  ASSERT_TRUE(
      WaitUntil([&] { return GetTop(d, "by=src").entries == total; }, 20))
      << GetTop(d, "by=src").entries;

  // Live, from events: the four heavy sources lead, within the bound.
  std::map<std::string, int64_t> kernel = KernelBySource(ns);
  ASSERT_EQ(kernel["198.18.0.0"], 4001);  // + generic flow k=0
  TopAnswer live = GetTop(d, "by=src&limit=4");
  ASSERT_EQ(live.status, 200);
  EXPECT_EQ(live.order, (std::vector<std::string>{"198.18.0.0", "198.18.0.1",
                                                  "198.18.0.2", "198.18.0.3"}));
  ExpectWithinBound(live, kernel);
  EXPECT_LE(live.max_error, total / 1000 + 1);

  // After a resync: exactly what conntrack -L counts.
  const double stamp = d.LastResync(ns.name());
  d.Client("-R");
  ASSERT_TRUE(d.WaitForResyncAfter(ns.name(), stamp, 30)) << d.log();
  TopAnswer exact = GetTop(d, "by=src&limit=100");
  EXPECT_EQ(exact.max_error, 0);
  for (const auto& key :
       {"198.18.0.0", "198.18.0.1", "198.18.0.2", "198.18.0.3"}) {
    EXPECT_EQ(exact.keys[key], kernel[key]) << key;
  }
  for (const auto& [key, n] : exact.keys) EXPECT_EQ(n, kernel[key]) << key;
  // One destination, and two destination ports, each counted exactly.
  TopAnswer dst = GetTop(d, "by=dst");
  EXPECT_EQ(dst.keys, (std::map<std::string, int64_t>{{"198.19.0.1", total}}));
  TopAnswer dport = GetTop(d, "by=dport");
  EXPECT_EQ(dport.keys,
            (std::map<std::string, int64_t>{{"253/0", kSingles},
                                            {"tcp/80", total - kSingles}}));
  EXPECT_EQ(KernelListed(ns, "-p tcp --dport 80"), total - kSingles);

  // The series: the keys over 1% of the table (400 flows), nothing else.
  std::map<std::string, double> series;
  ForEachSample(d.Metrics(), "conntrack_top_entries",
                [&](const Labels& l, double v) {
                  if (l.at("netns") == ns.name() && l.at("by") == "src") {
                    series[l.at("key")] = v;
                  }
                });
  EXPECT_EQ(series, (std::map<std::string, double>{{"198.18.0.0", 4001},
                                                   {"198.18.0.1", 3001},
                                                   {"198.18.0.2", 2001},
                                                   {"198.18.0.3", 1001}}));

  // The client, one frame, and its JSON.
  int code = -1;
  std::string frame = d.Client("top --by src --once --limit 2", &code);
  EXPECT_EQ(code, 0) << frame;
  EXPECT_NE(frame.find("4001 "), std::string::npos) << frame;
  EXPECT_NE(frame.find("198.18.0.1\n"), std::string::npos) << frame;
  EXPECT_EQ(frame.find("198.18.0.2"), std::string::npos) << frame;
  std::string json = d.Client("top --by dport -o json --netns " + ns.name());
  EXPECT_NE(json.find("{\"key\":\"253/0\",\"entries\":30000,"),
            std::string::npos)
      << json;

  // Live again after deletes, creates and a storm: within the bound.
  ASSERT_EQ(CtInject(ns, "delete --proto tcp --count 1500 --quiet").exit_code,
            0);
  ASSERT_EQ(CtInject(ns,
                     "create --proto tcp --count 2500 --offset 181000 "
                     "--quiet")
                .exit_code,
            0);
  ASSERT_EQ(CtInject(ns, "storm --proto udp --count 50000 --quiet").exit_code,
            0);
  const int64_t after = total - 1500 + 2500;
  ASSERT_TRUE(
      WaitUntil([&] { return GetTop(d, "by=src").entries == after; }, 20))
      << GetTop(d, "by=src").entries;
  kernel = KernelBySource(ns);
  live = GetTop(d, "by=src&limit=4");
  // 198.18.0.0 lost 1500 flows, 198.18.0.3 gained 2500.
  EXPECT_EQ(live.order, (std::vector<std::string>{"198.18.0.3", "198.18.0.1",
                                                  "198.18.0.0", "198.18.0.2"}));
  ExpectWithinBound(live, kernel);
  EXPECT_EQ(d.Metrics()["ctcollect_netlink_overruns_total{netns=\"" +
                        ns.name() + "\"}"],
            0);

  // Bad parameters: 400 with one line.
  std::string body;
  EXPECT_EQ(d.Get("/api/v1/top?by=sport", &body), 400);
  EXPECT_EQ(body, "bad by: src, dst, dport or snat\n");
  EXPECT_EQ(d.Get("/api/v1/top?limit=0", &body), 400);
  EXPECT_EQ(d.Get("/api/v1/top?netns=nosuch", &body), 400);
  EXPECT_EQ(body, "bad netns: not watched by this daemon\n");
}

TEST(TopTalkers, OffWhenDisabled) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Daemon d({"--netns=" + ns.name(), "--top.enabled=false"});
  ASSERT_TRUE(d.ready()) << d.log();
  std::string body;
  EXPECT_EQ(d.Get("/api/v1/top?by=src", &body), 404);
  EXPECT_NE(body.find("--top.enabled=false"), std::string::npos) << body;
  EXPECT_EQ(d.Get("/metrics").find("conntrack_top_entries"), std::string::npos);
}

// Real masqueraded TCP connections: a connects to two ports of b from a
// second address, and a's nat table masquerades them to its veth address;
// the snat ranking and the max-tuple gauge equal what conntrack -L shows.
TEST(TopTalkers, SnatFromRealMasqueradeOverVeth) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v python3").exit_code != 0) {
    SKIP_UNLESS_CI("python3 is missing");
  }
  VethPair pair;
  ASSERT_TRUE(pair.ok()) << pair.error();
  const TestNetns& a = pair.a();
  const TestNetns& b = pair.b();
  ASSERT_EQ(a.Run("ip addr add 198.18.5.1/32 dev " + pair.ifname_a() +
                  " && ip route replace 198.18.0.0/24 dev " + pair.ifname_a() +
                  " src 198.18.5.1 && nft 'add table ip ctct_nat; add chain ip "
                  "ctct_nat post { type nat hook postrouting priority 100; }; "
                  "add rule ip ctct_nat post oifname \"" +
                  pair.ifname_a() + "\" masquerade'")
                .exit_code,
            0);
  // b accepts and keeps every connection on 8080 and 9090 open.
  const std::string server =
      "import socket,select,sys\n"
      "ls=[]\n"
      "for p in (8080,9090):\n"
      "  s=socket.socket(); "
      "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
      "  s.bind(('198.18.0.2',p)); s.listen(512); ls.append(s)\n"
      "held=[]\n"
      "while True:\n"
      "  r,_,_=select.select(ls,[],[],30)\n"
      "  if not r: break\n"
      "  for s in r: held.append(s.accept()[0])\n";
  b.Run("python3 -c " + ShellQuote(server) + " >/dev/null 2>&1 &");
  Daemon d({"--netns=" + a.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  const std::string client =
      "import socket,time\n"
      "held=[]\n"
      "for port,n in ((8080,150),(9090,60)):\n"
      "  for i in range(n):\n"
      "    for t in range(50):\n"
      "      try:\n"
      "        s=socket.create_connection(('198.18.0.2',port),2); break\n"
      "      except OSError: time.sleep(0.1)\n"
      "    held.append(s)\n"
      "print('connected', len(held), flush=True)\n"
      "time.sleep(60)\n";
  a.Run("python3 -c " + ShellQuote(client) + " >/tmp/ctct-snat-" +
        std::to_string(getpid()) + " 2>&1 &");
  std::map<std::string, int64_t> kernel;
  ASSERT_TRUE(WaitUntil(
      [&] {
        kernel = KernelSnatTuples(a);
        return kernel["tcp/198.18.0.1->198.18.0.2:8080"] == 150 &&
               kernel["tcp/198.18.0.1->198.18.0.2:9090"] == 60;
      },
      30));
  TopAnswer snat;
  ASSERT_TRUE(WaitUntil(
      [&] {
        snat = GetTop(d, "by=snat");
        return snat.keys == kernel;
      },
      10))
      << snat.keys.size();
  EXPECT_EQ(snat.order.front(), "tcp/198.18.0.1->198.18.0.2:8080");
  EXPECT_EQ(snat.max_error, 0);
  const auto m = d.Metrics();
  EXPECT_EQ(m.at("conntrack_snat_tuple_max_entries{netns=\"" + a.name() +
                 "\",protocol=\"tcp\"}"),
            150);
  EXPECT_EQ(m.at("conntrack_snat_tuple_max_entries{netns=\"" + a.name() +
                 "\",protocol=\"udp\"}"),
            0);
  int code = -1;
  std::string frame = d.Client("top --by snat --once", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(frame.find("tcp/198.18.0.1->198.18.0.2:8080\n"), std::string::npos)
      << frame;
}

}  // namespace
}  // namespace ctcollect::itest
