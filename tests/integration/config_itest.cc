// The config file against the real kernel: flow classes whose gauges equal
// what `conntrack -L` says for the same selection, a SIGHUP reload that
// keeps every counter, and config errors that stop the daemon at start-up
// but not a running one.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

// A config file in a directory of its own, removed at the end.
class ConfigFile {
 public:
  ConfigFile() {
    char dir[] = "/tmp/ctcollect-config-itest-XXXXXX";
    dir_ = mkdtemp(dir) ? dir : "";
    path_ = dir_ + "/ctcollectd.yml";
  }
  ~ConfigFile() { Shell("rm -rf " + ShellQuote(dir_)); }
  void Write(const std::string& text) const { std::ofstream(path_) << text; }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

double ClassEntries(const Daemon& d, const std::string& netns,
                    const std::string& cls, const Labels& extra = {}) {
  Labels match = extra;
  match["netns"] = netns;
  match["class"] = cls;
  return SumSeries(d.Metrics(), "conntrack_class_entries", match);
}

// Polls until the class's entries equal `kernel()`, up to `seconds`.
template <typename Fn>
bool ClassEqualsKernel(const Daemon& d, const std::string& netns,
                       const std::string& cls, Fn kernel, double seconds,
                       double* got, int64_t* want) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    *want = kernel();
    *got = ClassEntries(d, netns, cls);
    if (*got == static_cast<double>(*want)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

constexpr char kClasses[] = R"(flow_classes:
  classes:
    - name: marked
      mark: 5
    - name: zone2
      ct_zone: 2
    - name: svc
      protocol: tcp
      dport: 7101-7102
)";

TEST(ConfigFile, ClassGaugesEqualTheKernelForTheSameSelection) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  CtInject(ns, "create --count 10 --proto udp --mark 5");
  CtInject(ns,
           "create --count 7 --proto tcp --state TIME_WAIT --zone 2 "
           "--offset 100");
  CtInject(ns, "create --count 20 --proto tcp --offset 200");  // no class
  ConfigFile cfg;
  cfg.Write(kClasses);
  Daemon d({"--config=" + cfg.path(), "--netns=" + ns.name(),
            "--resync-interval=1s"});
  ASSERT_TRUE(d.ready()) << d.log();
  // A real connection after start: its NEW event counts in the class.
  ASSERT_TRUE(HoldTcpConnection(ns, 7101, 20));

  double got;
  int64_t want;
  EXPECT_TRUE(ClassEqualsKernel(
      d, ns.name(), "marked", [&] { return KernelListed(ns, "-m 5"); }, 10,
      &got, &want))
      << got << " vs kernel " << want;
  EXPECT_EQ(want, 10);
  EXPECT_TRUE(ClassEqualsKernel(
      d, ns.name(), "zone2", [&] { return KernelListed(ns, "-w 2"); }, 10, &got,
      &want))
      << got << " vs kernel " << want;
  EXPECT_EQ(want, 7);
  EXPECT_EQ(ClassEntries(d, ns.name(), "zone2",
                         {{"protocol", "tcp"}, {"state", "TIME_WAIT"}}),
            7);
  EXPECT_TRUE(ClassEqualsKernel(
      d, ns.name(), "svc",
      [&] { return KernelListed(ns, "-p tcp --dport 7101"); }, 10, &got, &want))
      << got << " vs kernel " << want;
  EXPECT_EQ(want, 1);
  auto m = d.Metrics();
  EXPECT_EQ(
      m[Series("conntrack_class_flows_total",
               {{"netns", ns.name()}, {"class", "svc"}, {"protocol", "tcp"}})],
      1);
  // Unclassified flows are in no class.
  EXPECT_EQ(SumSeries(m, "conntrack_class_entries", {{"netns", ns.name()}}),
            18);
}

TEST(ConfigFile, SighupReloadsClassesAndKeepsCounters) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  ConfigFile cfg;
  cfg.Write("flow_classes:\n  classes:\n    - {name: svc, dport: 7101}\n");
  Daemon d({"--config=" + cfg.path(), "--netns=" + ns.name(),
            "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  ASSERT_TRUE(HoldTcpConnection(ns, 7101, 30));
  const std::string flows =
      Series("conntrack_class_flows_total",
             {{"netns", ns.name()}, {"class", "svc"}, {"protocol", "tcp"}});
  double got;
  int64_t want;
  ASSERT_TRUE(ClassEqualsKernel(
      d, ns.name(), "svc", [] { return int64_t{1}; }, 10, &got, &want));
  EXPECT_EQ(d.Metrics()[flows], 1);

  // New classes, one kept; the marked flows existed before the reload.
  CtInject(ns, "create --count 12 --proto udp --mark 5");
  cfg.Write(std::string(kClasses) +
            "web:\n  telemetry_path: /other\n");  // needs a restart
  double before = d.LastResync(ns.name());
  ASSERT_EQ(kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(d.WaitForResyncAfter(ns.name(), before, 10)) << d.log();
  EXPECT_TRUE(ClassEqualsKernel(
      d, ns.name(), "marked", [&] { return KernelListed(ns, "-m 5"); }, 10,
      &got, &want))
      << got << " vs kernel " << want;
  EXPECT_EQ(want, 12);
  EXPECT_EQ(ClassEntries(d, ns.name(), "svc"), 1);
  EXPECT_EQ(d.Metrics()[flows], 1);  // the counter went on, not back to 0
  EXPECT_NE(d.log().find("--web.telemetry-path changed"), std::string::npos)
      << d.log();
  std::string body;
  EXPECT_EQ(d.Get("/metrics", &body), 200);  // still the old path

  // A broken file: the daemon says so and keeps what it runs with.
  cfg.Write("flow_classes:\n  classes: [{name: x, dport: 99999}]\n");
  ASSERT_EQ(kill(d.pid(), SIGHUP), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (d.log().find("config not reloaded") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(d.log().find("config not reloaded"), std::string::npos) << d.log();
  EXPECT_NE(d.log().find("dport"), std::string::npos);
  EXPECT_TRUE(d.running());
  EXPECT_EQ(ClassEntries(d, ns.name(), "marked"), 12);
}

TEST(ConfigFile, ABadFileStopsTheDaemonBeforeItStarts) {
  ConfigFile cfg;
  cfg.Write("conntrack:\n  resync_interval: soon\n");
  CommandResult r = ShellSplit(std::string(CTCOLLECTD_PATH) +
                               " --config=" + ShellQuote(cfg.path()));
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find(cfg.path() + ":2: conntrack.resync_interval"),
            std::string::npos)
      << r.err;
  r = ShellSplit(std::string(CTCOLLECTD_PATH) + " --config=/nonexistent.yml");
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("/nonexistent.yml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ctcollect::itest
