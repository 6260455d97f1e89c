// ctcollectd against the real kernel, in namespaces the tests make: its
// gauges must equal what `conntrack -L`/`-C`/`-S` say, per family,
// protocol, state and zone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

std::string Inject(const TestNetns& ns, const std::string& args) {
  return CtInject(ns, args).out;
}

bool Converges(const Daemon& d, const TestNetns& ns, double seconds,
               EntryCounts* got, EntryCounts* want) {
  return WaitUntilEqualsKernel(d, ns, ns.name(), seconds, got, want);
}

// A real TCP connection on the namespace's loopback, kept open for
// `hold` seconds, then closed (so it moves on to TIME_WAIT).
std::string TcpConversation(int port, double hold) {
  return "python3 -c \"import socket,threading,time\n"
         "s=socket.socket(); "
         "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
         "s.bind(('127.0.0.1'," +
         std::to_string(port) +
         ")); s.listen()\n"
         "def srv():\n  c,_=s.accept(); c.recv(10); time.sleep(" +
         std::to_string(hold) +
         "); c.close()\n"
         "t=threading.Thread(target=srv); t.start()\n"
         "c=socket.create_connection(('127.0.0.1'," +
         std::to_string(port) +
         ")); c.sendall(b'hi')\n"
         "c.recv(10); c.close(); t.join()\"";
}

TEST(Collector, GaugesEqualTheKernelPerFamilyProtocolStateAndZone) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Inject(ns, "create --count 20 --proto tcp --state ESTABLISHED");
  Inject(ns, "create --count 5 --proto tcp --state SYN_SENT --offset 100");
  Inject(
      ns,
      "create --count 7 --proto tcp --state TIME_WAIT --zone 2 --offset 200");
  Inject(ns, "create --count 10 --proto udp --mark 5");
  Inject(ns, "create --count 4 --proto udp --family ipv6 --zone 9");
  Inject(ns, "create --count 3 --proto icmp");
  Inject(ns, "create --count 3 --proto icmpv6 --family ipv6");
  Inject(ns, "create --count 4 --proto sctp --state COOKIE_WAIT");
  Inject(ns, "create --count 2 --proto dccp");
  Inject(ns, "create --count 3 --proto gre");
  Inject(ns, "create --count 2 --proto udplite");
  Inject(ns, "create --count 2 --proto 250");
  Inject(ns, "create --count 3 --proto tcp --family ipv6 --state FIN_WAIT");
  // And a real connection, open while the daemon looks.
  ns.Run("(" + TcpConversation(7001, 30) + ") >/dev/null 2>&1 &");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  Daemon d({"--netns=" + ns.name(), "--resync-interval=1s"});
  ASSERT_TRUE(d.ready()) << d.log();
  ASSERT_TRUE(d.WaitForResync(ns.name(), 5)) << d.log();
  EntryCounts got, want;
  EXPECT_TRUE(Converges(d, ns, 5, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  EXPECT_EQ(want.size(), 13u);  // the scenario really has all those series
  // 20 injected and the real connection.
  EXPECT_EQ((got[{"ipv4", "tcp", "ESTABLISHED", "0"}]), 21);

  auto m = d.Metrics();
  int64_t count = KernelCount(ns);
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", ns.name()}}), count);
  EXPECT_EQ(m[Series("conntrack_kernel_entries", {{"netns", ns.name()}})],
            count);
  EXPECT_GT(m[Series("conntrack_entries_limit", {{"netns", ns.name()}})], 0);

  // Kernel counters only grow: ours lie between a read before and after.
  auto before = KernelStatsSum(ns);
  auto mid = d.Metrics();
  auto after = KernelStatsSum(ns);
  for (const char* stat :
       {"found", "invalid", "insert", "insert_failed", "drop", "early_drop",
        "error", "search_restart", "clash_resolve", "chaintoolong"}) {
    double v = mid[Series(std::string("conntrack_kernel_") + stat + "_total",
                          {{"netns", ns.name()}})];
    EXPECT_GE(v, before[stat]) << stat;
    EXPECT_LE(v, after[stat]) << stat;
  }
  EXPECT_EQ(mid[Series("ctcollect_source_up",
                       {{"netns", ns.name()}, {"source", "events"}})],
            1);
  EXPECT_EQ(mid[Series("ctcollect_flow_table_entries", {{"netns", ns.name()}})],
            count);
}

TEST(Collector, EventsMoveFlowsBetweenBucketsWithoutAResync) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  Inject(ns, "create --count 50 --proto tcp --state SYN_SENT");
  Inject(ns, "create --count 30 --proto udp --zone 4");
  Inject(ns, "create --count 6 --proto sctp --family ipv6");
  Inject(ns, "delete --count 20 --proto udp --zone 4");
  ASSERT_EQ(ns.Run(TcpConversation(7002, 0.2)).exit_code, 0);
  EntryCounts got, want;
  EXPECT_TRUE(Converges(d, ns, 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  auto m = d.Metrics();
  EXPECT_GE(SumSeries(m, "conntrack_events_total",
                      {{"netns", ns.name()}, {"type", "new"}}),
            87);
  EXPECT_GE(SumSeries(m, "conntrack_events_total",
                      {{"netns", ns.name()}, {"type", "destroy"}}),
            20);
  // The real connection went through the handshake and the close.
  EXPECT_GE(
      m[Series("conntrack_state_transitions_total", {{"netns", ns.name()},
                                                     {"protocol", "tcp"},
                                                     {"from", "SYN_SENT"},
                                                     {"to", "SYN_RECV"}})],
      1);
  EXPECT_GE(SumSeries(m, "conntrack_state_transitions_total",
                      {{"netns", ns.name()}, {"to", "TIME_WAIT"}}),
            1);
  // Only the startup dump ran: the events did it all.
  EXPECT_EQ(SumSeries(m, "ctcollect_resyncs_total", {{"netns", ns.name()}}), 1);
}

TEST(Collector, StormThenResyncEqualsTheKernelAndLossIsAccounted) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--resync-interval=2s"});
  ASSERT_TRUE(d.ready()) << d.log();
  std::string out = Inject(ns, "storm --count 200000 --proto tcp");
  EXPECT_NE(out.find("created=200000 failed=0"), std::string::npos) << out;
  EXPECT_NE(out.find("deleted=200000 failed=0"), std::string::npos) << out;
  Inject(ns, "create --count 1000 --proto udp --offset 500000");
  ASSERT_TRUE(d.WaitForResync(ns.name(), 10)) << d.log();
  ASSERT_TRUE(d.WaitForResync(ns.name(), 10)) << d.log();
  EntryCounts got, want;
  EXPECT_TRUE(Converges(d, ns, 5, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  auto m = d.Metrics();
  double overruns =
      m[Series("ctcollect_netlink_overruns_total", {{"netns", ns.name()}})];
  double overrun_resyncs =
      m[Series("ctcollect_resyncs_total",
               {{"netns", ns.name()}, {"reason", "overrun"}})];
  double events =
      SumSeries(m, "conntrack_events_total", {{"netns", ns.name()}});
  std::printf("storm: %.0f events counted of 401000, overruns=%.0f\n", events,
              overruns);
  // Every overrun schedules a resync; without overruns no event was lost.
  if (overruns > 0) {
    EXPECT_GE(overrun_resyncs, 1);
  } else {
    EXPECT_GE(events, 401000);
  }
  EXPECT_EQ(m[Series("ctcollect_flow_table_entries", {{"netns", ns.name()}})],
            KernelCount(ns));
}

TEST(Collector, OneDaemonWatchesTwoNamespaces) {
  REQUIRE_PRIVILEGE();
  TestNetns a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  Inject(a, "create --count 5 --proto udp");
  Inject(b, "create --count 7 --proto tcp --state ESTABLISHED");
  Daemon d({"--netns=" + a.name(), "--netns=" + b.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  auto m = d.Metrics();
  EXPECT_EQ(DaemonEntries(m, a.name()), KernelEntries(a));
  EXPECT_EQ(DaemonEntries(m, b.name()), KernelEntries(b));
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", a.name()}}), 5);
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", b.name()}}), 7);
}

TEST(Collector, BadFlagsExit78WithOneLine) {
  for (std::string args :
       {"--no-such-flag", "--resync-interval=10", "--netlink.buffer-size=1Q",
        "--netns=ctct-does-not-exist", "--web.listen-address=nohost"}) {
    CommandResult r = Shell(std::string(CTCOLLECTD_PATH) + " " + args);
    EXPECT_EQ(r.exit_code, 78) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
  CommandResult v = Shell(std::string(CTCOLLECTD_PATH) + " --version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("ctcollectd "), std::string::npos);
}

}  // namespace
}  // namespace ctcollect::itest

namespace ctcollect::itest {
namespace {

TEST(Collector, MetricsPassPromtoolCheck) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v promtool").exit_code != 0) {
    SKIP_UNLESS_CI("needs promtool (Debian package prometheus)");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Inject(ns, "create --count 5 --proto tcp --state SYN_SENT");
  Daemon d({"--netns=" + ns.name(), "--conntrack.enable-accounting"});
  ASSERT_TRUE(d.ready()) << d.log();
  // Flows that end after the daemon started fill the accounting families:
  // 5 udp/ipv6 and 3 tcp/ipv4, each alive from before t1 to after t2 and
  // within [t0, t3], so each lifetime (the kernel's start and stop
  // timestamps) lies between t2 - t1 and t3 - t0.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point t0 = Clock::now();
  Inject(ns, "create --count 5 --proto udp --family ipv6");
  Inject(ns, "create --count 3 --proto tcp --offset 1000");
  const Clock::time_point t1 = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const Clock::time_point t2 = Clock::now();
  Inject(ns, "delete --count 5 --proto udp --family ipv6");
  Inject(ns, "delete --count 3 --proto tcp --offset 1000");
  const Clock::time_point t3 = Clock::now();
  const double shortest = std::chrono::duration<double>(t2 - t1).count();
  const double longest = std::chrono::duration<double>(t3 - t0).count();
  struct Ended {
    const char* family;
    const char* protocol;
    int flows;
  };
  for (const Ended& e : {Ended{"ipv6", "udp", 5}, Ended{"ipv4", "tcp", 3}}) {
    const Labels match = {
        {"netns", ns.name()}, {"family", e.family}, {"protocol", e.protocol}};
    EXPECT_TRUE(WaitUntil(
        [&] {
          return SumSeries(d.Metrics(), "conntrack_flow_duration_seconds_count",
                           match) == e.flows;
        },
        5))
        << e.family << "/" << e.protocol << ": "
        << SumSeries(d.Metrics(), "conntrack_flow_duration_seconds_count",
                     match);
    const double sum =
        SumSeries(d.Metrics(), "conntrack_flow_duration_seconds_sum", match);
    EXPECT_GE(sum, e.flows * shortest) << e.family << "/" << e.protocol;
    EXPECT_LE(sum, e.flows * longest) << e.family << "/" << e.protocol;
  }
  std::string text = d.Get("/metrics");
  ASSERT_NE(text.find("conntrack_flow_duration_seconds_bucket"),
            std::string::npos);
  std::string file = "/tmp/ctct-metrics-" + std::to_string(getpid()) + ".txt";
  std::ofstream(file) << text;
  CommandResult r = Shell("promtool check metrics < " + file);
  std::remove(file.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "") << "promtool has remarks:\n" << r.out;
}

}  // namespace
}  // namespace ctcollect::itest
