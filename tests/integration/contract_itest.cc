// ctcollectd's outside contract against the real kernel: flags and their
// errors, the HTTP endpoints, the netns label in its three forms (a name,
// a path, the daemon's own namespace), readiness only after the first
// dump, resync reasons, events per family and protocol, and independence
// of the namespaces one daemon watches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
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

using Metrics = std::map<std::string, double>;

double Value(const Metrics& m, const std::string& name, const Labels& l) {
  auto it = m.find(Series(name, l));
  return it == m.end() ? -1 : it->second;
}

std::string Version() {
  CommandResult v = ShellSplit(std::string(CTCOLLECTD_PATH) + " --version");
  // "ctcollectd 0.1.0\n"
  std::string out = v.out.substr(0, v.out.find('\n'));
  return out.substr(out.find(' ') + 1);
}

// Every conntrack_* and ctcollect_* sample but build_info names its netns.
std::vector<std::string> SamplesWithoutNetns(const Metrics& m,
                                             const std::string& netns) {
  std::vector<std::string> bad;
  for (const auto& [key, v] : m) {
    std::string name;
    Labels l;
    SplitSeries(key, &name, &l);
    // The daemon's own, not of any namespace.
    if (name == "ctcollect_build_info" ||
        name == "ctcollect_scrape_duration_seconds" ||
        name == "ctcollect_netns_missing" ||
        name.rfind("ctcollect_http_connections", 0) == 0) {
      continue;
    }
    if (name.rfind("conntrack_", 0) != 0 && name.rfind("ctcollect_", 0) != 0) {
      continue;
    }
    auto it = l.find("netns");
    if ((it == l.end() ? "" : it->second) != netns) bad.push_back(key);
  }
  return bad;
}

TEST(DaemonFlags, BadFlagOrValueExits78WithOneLineOnStderr) {
  // Whatever is accepted by mistake must not linger or listen on :10034.
  char tmpl[] = "/tmp/ctct-flags-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string base =
      std::string("timeout -s KILL 5 ") + CTCOLLECTD_PATH +
      " --control.socket=" + tmpl + "/ctl.sock" +
      " --web.listen-address=127.0.0.1:" + std::to_string(FreePort()) + " ";
  for (const std::string& args : std::vector<std::string>{
           "--no-such-flag", "--resync-interval=10", "--resync-interval=abc",
           "--resync-interval=-1s", "--resync-interval=", "--resync-interval",
           "--netlink.buffer-size=1Q", "--netlink.buffer-max=lots",
           "--log.level=verbose", "--web.listen-address=nohost",
           "--web.listen-address=127.0.0.1:99999",
           "--netns=ctct-no-such-namespace-" + std::to_string(getpid()),
           "stray-argument"}) {
    CommandResult r = ShellSplit(base + args);
    EXPECT_EQ(r.exit_code, 78) << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
        << args << "\nstderr: " << r.err;
    EXPECT_GT(r.err.size(), 1u) << args;
  }
  Shell(std::string("rm -rf ") + tmpl);
  CommandResult v = ShellSplit(std::string(CTCOLLECTD_PATH) + " --version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("ctcollectd ", 0), 0u) << v.out;
  EXPECT_EQ(v.err, "");
  CommandResult h = ShellSplit(std::string(CTCOLLECTD_PATH) + " --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--web.listen-address"), std::string::npos);
  EXPECT_EQ(h.err, "");
}

TEST(DaemonHttp, ListenersTelemetryPathHealthAndBuildInfo) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  CtInject(ns, "create --count 4 --proto udp --quiet");
  int second = FreePort();
  Daemon d({"--netns=" + ns.name(), "--web.telemetry-path=/custom/metrics",
            "--web.listen-address=127.0.0.1:" + std::to_string(second)});
  ASSERT_TRUE(d.ready()) << d.log();
  for (int port : {d.port(), second}) {
    std::string body;
    EXPECT_EQ(HttpGet(port, "/-/healthy", &body), 200) << port;
    EXPECT_EQ(HttpGet(port, "/-/ready", &body), 200) << port;
    ASSERT_EQ(HttpGet(port, "/custom/metrics", &body), 200) << port;
    std::vector<std::string> errors;
    Metrics m = ParsePromText(body, &errors);
    EXPECT_TRUE(errors.empty())
        << errors.size() << " errors, first " << errors[0];
    EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", ns.name()}}), 4)
        << port;
    EXPECT_EQ(Value(m, "ctcollect_build_info", {{"version", Version()}}), 1)
        << body;
    std::vector<std::string> bad = SamplesWithoutNetns(m, ns.name());
    EXPECT_TRUE(bad.empty())
        << bad.size() << " samples without netns, e.g. " << bad[0];
  }
}

TEST(DaemonNetns, PathIsLabelledAsGivenAndResyncsCountedByReason) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  CtInject(ns, "create --count 12 --proto tcp --state CLOSE_WAIT --quiet");
  CtInject(ns, "create --count 3 --proto icmp --zone 7 --quiet");
  const std::string label = ns.path();
  int64_t limit_before = KernelLimit(ns);
  Daemon d({"--netns=" + label, "--resync-interval=500ms"});
  ASSERT_TRUE(d.ready()) << d.log();
  ASSERT_TRUE(d.WaitForResync(label, 5)) << d.log();
  ASSERT_TRUE(d.WaitForResync(label, 5)) << d.log();
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, label, 5, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  Metrics m = d.Metrics();
  int64_t limit_after = KernelLimit(ns);
  EXPECT_EQ(DaemonEntries(m, ns.name()), EntryCounts{}) << "labelled by name";
  EXPECT_EQ(Value(m, "ctcollect_resyncs_total",
                  {{"netns", label}, {"reason", "startup"}}),
            1);
  EXPECT_GE(Value(m, "ctcollect_resyncs_total",
                  {{"netns", label}, {"reason", "interval"}}),
            2);
  EXPECT_EQ(Value(m, "ctcollect_resyncs_total",
                  {{"netns", label}, {"reason", "overrun"}}),
            0);
  EXPECT_EQ(Value(m, "ctcollect_resyncs_total",
                  {{"netns", label}, {"reason", "request"}}),
            0);
  EXPECT_EQ(Value(m, "ctcollect_netlink_overruns_total", {{"netns", label}}),
            0);
  EXPECT_GT(Value(m, "ctcollect_dump_duration_seconds", {{"netns", label}}), 0);
  EXPECT_LT(Value(m, "ctcollect_dump_duration_seconds", {{"netns", label}}), 1);
  EXPECT_EQ(Value(m, "ctcollect_flow_table_entries", {{"netns", label}}), 15);
  EXPECT_GT(Value(m, "ctcollect_flow_table_bytes", {{"netns", label}}), 0);
  EXPECT_EQ(Value(m, "conntrack_kernel_entries", {{"netns", label}}), 15);
  // nf_conntrack_max is global (read-only in a child namespace) and others
  // may change it meanwhile: ours must be one of the two reads.
  double limit = Value(m, "conntrack_entries_limit", {{"netns", label}});
  EXPECT_TRUE(limit == limit_before || limit == limit_after)
      << limit << " vs nf_conntrack_max " << limit_before << "/" << limit_after;
}

TEST(DaemonNetns, OwnNamespaceIsLabelledEmpty) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  // The daemon runs inside; its scrapes (and the front's relays of them)
  // must not become flows there.
  int port = FreePort();
  ASSERT_TRUE(ns.NoTrackLoopbackTcp());
  CtInject(ns, "create --count 3 --proto tcp --state ESTABLISHED --quiet");
  CtInject(ns, "create --count 2 --family ipv6 --proto udp --zone 5 --quiet");
  Daemon::Options o;
  o.run_in_netns = ns.name();
  o.port = port;
  Daemon d({"--resync-interval=1h"}, o);
  ASSERT_TRUE(d.ready()) << d.log();
  CtInject(ns, "create --count 4 --proto gre --quiet");
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, "", 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  EXPECT_EQ(KernelCount(ns), 9) << ns.Run("conntrack -L").out;
  Metrics m = d.Metrics();
  EXPECT_EQ(Value(m, "conntrack_kernel_entries", {}), 9);
  EXPECT_EQ(Value(m, "ctcollect_resyncs_total", {{"reason", "startup"}}), 1);
  std::vector<std::string> bad = SamplesWithoutNetns(m, "");
  EXPECT_TRUE(bad.empty()) << bad.size() << " samples with a netns, e.g. "
                           << bad[0];
}

TEST(DaemonHttp, ReadyOnlyAfterTheFirstDumpFinished) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  // Enough flows that the first dump takes a while.
  CommandResult r = CtInject(ns, "create --count 60000 --proto udp --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  Daemon::Options o;
  o.ready_deadline = 0;
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"}, o);
  std::map<int, int> seen;  // status -> times
  int status = 0;
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    status = d.Get("/-/ready", &body);
    if (status == 200) break;
    seen[status]++;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(status, 200) << d.log();
  // What was visible the moment it said ready.
  Metrics m = d.Metrics();
  std::printf("ready after %d refused connections and %d 503s\n", seen[0],
              seen[503]);
  seen.erase(0);    // not listening yet
  seen.erase(503);  // listening, first dump running
  EXPECT_TRUE(seen.empty()) << "other status " << seen.begin()->first;
  // The whole table, flows that share a conntrack id included.
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", ns.name()}}),
            KernelCount(ns))
      << d.log();
  EXPECT_EQ(Value(m, "ctcollect_resyncs_total",
                  {{"netns", ns.name()}, {"reason", "startup"}}),
            1);
  EXPECT_EQ(d.Get("/-/ready", &body), 200);
}

// Conntrack ids are 32-bit hashes (nf_ct_get_id): among n flows two share
// an id with probability ~ n^2 / 2^33, a third at 60000 flows. Both are
// flows of the table and both count.
TEST(DaemonDump, CollidingConntrackIdsAreCountedApart) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  std::map<uint32_t, int> ids;
  int shared = 0;
  for (int offset = 0; offset < 250000 && shared == 0; offset += 50000) {
    CtInject(ns, "create --count 50000 --proto udp --quiet --offset " +
                     std::to_string(offset));
    ids = KernelIds(ns);
    for (const auto& [id, n] : ids) shared += n > 1 ? n - 1 : 0;
  }
  if (shared == 0) GTEST_SKIP() << "no two flows happened to share an id";
  int64_t count = KernelCount(ns);
  std::printf("%lld flows, %zu distinct ids\n", static_cast<long long>(count),
              ids.size());
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  Metrics m = d.Metrics();
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", ns.name()}}), count)
      << shared << " flow(s) share an id with another";
  EXPECT_EQ(Value(m, "ctcollect_flow_table_entries", {{"netns", ns.name()}}),
            count);
}

TEST(DaemonEvents, CountedPerFamilyAndProtocolWithTcpTransitions) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  struct Batch {
    const char* family;
    const char* proto;
    const char* label;
    int count;
  };
  const std::vector<Batch> batches = {
      {"ipv4", "udp", "udp", 10},  {"ipv6", "udp", "udp", 7},
      {"ipv4", "icmp", "icmp", 4}, {"ipv6", "icmpv6", "icmpv6", 3},
      {"ipv4", "gre", "gre", 2},   {"ipv4", "udplite", "udplite", 2},
      {"ipv6", "sctp", "sctp", 5}, {"ipv4", "250", "generic", 2},
      {"ipv6", "tcp", "tcp", 6},   {"ipv4", "dccp", "dccp", 3}};
  for (const auto& b : batches) {
    std::string args = std::string("--family ") + b.family + " --proto " +
                       b.proto + " --count " + std::to_string(b.count) +
                       " --offset 40 --quiet";
    CommandResult c = CtInject(ns, "create " + args);
    EXPECT_NE(c.out.find("created=" + std::to_string(b.count) + " failed=0"),
              std::string::npos)
        << args << ": " << c.out;
  }
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, ns.name(), 10, &got, &want))
      << "after create\ndaemon: " << Describe(got)
      << "\nkernel: " << Describe(want);
  for (const auto& b : batches) {
    std::string args = std::string("--family ") + b.family + " --proto " +
                       b.proto + " --count " + std::to_string(b.count) +
                       " --offset 40 --quiet";
    CtInject(ns, "delete " + args);
  }
  // A real connection: handshake, data, close, TIME_WAIT.
  int port = FreePort();
  std::string body;
  int status = RealHttpExchange(ns, port, &body);
  ASSERT_EQ(status, 200);
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, ns.name(), 10, &got, &want))
      << "after delete\ndaemon: " << Describe(got)
      << "\nkernel: " << Describe(want);
  // Only the real connection is left (and refused early attempts, CLOSE).
  EXPECT_EQ((want[{"ipv4", "tcp", "TIME_WAIT", "0"}]), 1) << Describe(want);

  Metrics m = d.Metrics();
  for (const auto& b : batches) {
    for (const char* type : {"new", "destroy"}) {
      EXPECT_GE(Value(m, "conntrack_events_total",
                      {{"netns", ns.name()},
                       {"type", type},
                       {"family", b.family},
                       {"protocol", b.label}}),
                b.count)
          << type << " " << b.family << "/" << b.label;
    }
  }
  EXPECT_GE(Value(m, "conntrack_events_total",
                  {{"netns", ns.name()},
                   {"type", "update"},
                   {"family", "ipv4"},
                   {"protocol", "tcp"}}),
            1);
  const std::set<std::string> tcp_states = {
      "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
      "LAST_ACK", "TIME_WAIT", "CLOSE",       "SYN_SENT2"};
  std::set<std::pair<std::string, std::string>> seen;
  ForEachSample(m, "conntrack_state_transitions_total",
                [&](const Labels& l, double v) {
                  if (l.at("netns") != ns.name() || v == 0) return;
                  EXPECT_EQ(l.at("protocol"), "tcp");
                  EXPECT_NE(l.at("from"), l.at("to"));
                  EXPECT_EQ(tcp_states.count(l.at("from")), 1u) << l.at("from");
                  EXPECT_EQ(tcp_states.count(l.at("to")), 1u) << l.at("to");
                  seen.insert({l.at("from"), l.at("to")});
                });
  EXPECT_EQ(seen.count({"SYN_SENT", "SYN_RECV"}), 1u);
  EXPECT_EQ(seen.count({"SYN_RECV", "ESTABLISHED"}), 1u);
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](const auto& t) {
    return t.second == "TIME_WAIT";
  }));
  EXPECT_EQ(SumSeries(m, "ctcollect_resyncs_total", {{"netns", ns.name()}}), 1);
}

TEST(DaemonNetns, TwoNamespacesStayIndependent) {
  REQUIRE_PRIVILEGE();
  TestNetns a, b;
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  CtInject(a, "create --count 5 --proto udp --quiet");
  CtInject(b, "create --count 3 --proto sctp --state COOKIE_ECHOED --quiet");
  Daemon d(
      {"--netns=" + a.name(), "--netns=" + b.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  // a gains flows; b gains flows with a's tuples and loses them again.
  // (Flows made after the daemon subscribed: with the kernel's default
  // nf_conntrack_events=2, older ones send no DESTROY event.)
  CtInject(a,
           "create --count 30 --proto tcp --state ESTABLISHED --zone 2 "
           "--quiet");
  CtInject(b, "create --count 8 --proto udp --quiet");
  CtInject(b, "delete --count 8 --proto udp --quiet");
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, a, a.name(), 10, &got, &want))
      << "a\ndaemon: " << Describe(got) << "\nkernel: " << Describe(want);
  EXPECT_TRUE(WaitUntilEqualsKernel(d, b, b.name(), 10, &got, &want))
      << "b\ndaemon: " << Describe(got) << "\nkernel: " << Describe(want);
  Metrics m = d.Metrics();
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", a.name()}}), 35);
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", b.name()}}), 3);
  EXPECT_EQ(Value(m, "conntrack_kernel_entries", {{"netns", a.name()}}), 35);
  EXPECT_EQ(Value(m, "conntrack_kernel_entries", {{"netns", b.name()}}), 3);
  EXPECT_EQ(Value(m, "ctcollect_flow_table_entries", {{"netns", a.name()}}),
            35);
  EXPECT_EQ(Value(m, "ctcollect_flow_table_entries", {{"netns", b.name()}}), 3);
  EXPECT_EQ(SumSeries(m, "conntrack_events_total",
                      {{"netns", a.name()}, {"type", "new"}}),
            30);
  EXPECT_EQ(SumSeries(m, "conntrack_events_total",
                      {{"netns", a.name()}, {"type", "destroy"}}),
            0);
  EXPECT_EQ(SumSeries(m, "conntrack_events_total",
                      {{"netns", b.name()}, {"type", "new"}}),
            8);
  EXPECT_EQ(SumSeries(m, "conntrack_events_total",
                      {{"netns", b.name()}, {"type", "destroy"}}),
            8);
  // Kernel counters per namespace: a inserted 35, b 19.
  EXPECT_EQ(Value(m, "conntrack_kernel_insert_total", {{"netns", a.name()}}),
            KernelStatsSum(a)["insert"]);
  EXPECT_EQ(Value(m, "conntrack_kernel_insert_total", {{"netns", b.name()}}),
            KernelStatsSum(b)["insert"]);
}

}  // namespace
}  // namespace ctcollect::itest
