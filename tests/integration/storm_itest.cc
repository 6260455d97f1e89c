// Event storms at full speed against the real kernel: 1,000,000 creates and
// 1,000,000 deletes, ten times over (three under ASan), in a test namespace.
// After each storm one requested resync must make the daemon's gauges equal the
// kernel's table exactly, and the daemon's memory must come back to where it
// was before the storms (in plain builds; under ASan, whose quarantine holds
// freed memory, LeakSanitizer checks the daemon at exit instead).
//
// Its own test binary: it runs for a minute or two, longer than the other
// integration tests may.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

constexpr int kStormFlows = 1000000;
// Under ASan the memory check is LeakSanitizer's at the daemon's exit,
// which finds a leak of one storm as well as of ten: three rounds there.
constexpr int kRounds = kSanitized ? 3 : 10;
const char kMaxPath[] = "/proc/sys/net/netfilter/nf_conntrack_max";

// nf_conntrack_max is global (writable in the root namespace only): raised
// so a storm's million flows fit, put back afterwards.
class ConntrackMaxAtLeast {
 public:
  explicit ConntrackMaxAtLeast(int64_t want) {
    std::ifstream(kMaxPath) >> old_;
    if (old_ < want) Write(want);
  }
  ~ConntrackMaxAtLeast() {
    if (old_ > 0) Write(old_);
  }
  int64_t now() const {
    int64_t v = 0;
    std::ifstream(kMaxPath) >> v;
    return v;
  }

 private:
  static void Write(int64_t v) { std::ofstream(kMaxPath) << v << "\n"; }
  int64_t old_ = 0;
};

double Sum(const std::map<std::string, double>& m, const std::string& name,
           const std::string& ns) {
  return SumSeries(m, name, {{"netns", ns}});
}

// Waits until the daemon has taken in whatever the kernel sent: its event
// and resync counters stand still for half a second.
void WaitQuiet(const Daemon& d, const std::string& ns) {
  double last = -1;
  int still = 0;
  for (int i = 0; i < 240 && still < 2; ++i) {
    auto m = d.Metrics();
    double now = Sum(m, "conntrack_events_total", ns) +
                 Sum(m, "ctcollect_resyncs_total", ns) * 1e12;
    still = now == last ? still + 1 : 0;
    last = now;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

TEST(Storms, MillionFlowStormsInARowEachEqualTheKernelAfterOneResync) {
  REQUIRE_PRIVILEGE();
  ConntrackMaxAtLeast max(kStormFlows + 100000);
  ASSERT_GE(max.now(), kStormFlows + 100000) << "cannot raise " << kMaxPath;
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  // Resyncs only when asked (or after an overrun): each round's is ours.
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  // Some flows that outlive the storms, so the comparison is not of zeros.
  CtInject(ns, "create --count 2000 --proto udp --quiet");
  CtInject(ns,
           "create --count 500 --proto tcp --state TIME_WAIT "
           "--offset 1500000 --quiet");
  WaitQuiet(d, ns.name());
  const int64_t baseline = RssKiB(d.pid());

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto before = d.Metrics();
    CommandResult storm = CtInject(
        ns, "storm --count " + std::to_string(kStormFlows) + " --proto tcp");
    EXPECT_NE(storm.out.find("created=1000000 failed=0 deleted=1000000 "
                             "failed=0"),
              std::string::npos)
        << storm.out;
    // What stays: a few flows more in each round.
    CtInject(ns, "create --count 100 --proto icmp --offset " +
                     std::to_string(round * 100) + " --quiet");
    WaitQuiet(d, ns.name());
    const double stamp = d.LastResync(ns.name());
    d.Client("-R");
    ASSERT_TRUE(d.WaitForResyncAfter(ns.name(), stamp, 60)) << d.log();
    // One resync, one comparison: the kernel's table is still now.
    EntryCounts want = KernelEntries(ns);
    auto m = d.Metrics();
    EntryCounts got = DaemonEntries(m, ns.name());
    EXPECT_EQ(got, want) << "daemon: " << Describe(got)
                         << "\nkernel: " << Describe(want);
    EXPECT_EQ(m[Series("ctcollect_flow_table_entries", {{"netns", ns.name()}})],
              KernelCount(ns));
    const double events = Sum(m, "conntrack_events_total", ns.name()) -
                          Sum(before, "conntrack_events_total", ns.name());
    const double overruns =
        Sum(m, "ctcollect_netlink_overruns_total", ns.name()) -
        Sum(before, "ctcollect_netlink_overruns_total", ns.name());
    const int64_t rss = RssKiB(d.pid());
    std::printf(
        "round %d: %.0f of %d events counted, %.0f overruns, rss %lld KiB "
        "(baseline %lld), table %.0f bytes\n",
        round, events, 2 * kStormFlows + 100, overruns,
        static_cast<long long>(rss), static_cast<long long>(baseline),
        m[Series("ctcollect_flow_table_bytes", {{"netns", ns.name()}})]);
    // Without an overrun nothing was lost: every event was counted.
    if (overruns == 0) {
      EXPECT_GE(events, 2 * kStormFlows + 100);
    }
    if (!kSanitized) {
      // The 1M-flow table (32 MiB at its peak) was given back.
      EXPECT_LT(rss - baseline, 8 * 1024) << "round " << round;
    }
  }
  ASSERT_TRUE(d.running()) << d.log();
  // Under ASan a leak makes the daemon's exit status non-zero.
  EXPECT_EQ(d.Stop(), 0) << d.log();
}

}  // namespace
}  // namespace ctcollect::itest
