// ctcollectd as a systemd service, without booting systemd: the sd_notify
// protocol against a notify socket the test listens on (READY=1 after the
// first dump, watchdog pings, reload and stop), the privilege set of the
// unit (an unprivileged user with only CAP_NET_ADMIN, via setpriv), and
// the unit file itself (systemd-analyze).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
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

// A datagram socket where the daemon's sd_notify messages arrive.
class NotifySocket {
 public:
  NotifySocket() {
    char dir[] = "/tmp/ctct-notify-XXXXXX";
    if (mkdtemp(dir) == nullptr) return;
    dir_ = dir;
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path_.copy(a.sun_path, sizeof(a.sun_path) - 1);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    Shell("rm -rf " + ShellQuote(dir_));
  }
  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // The next message, or "" after `seconds`.
  std::string Next(double seconds) {
    timeval tv{
        static_cast<time_t>(seconds),
        static_cast<suseconds_t>((seconds - static_cast<int>(seconds)) * 1e6)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  // Reads messages until one contains `what` (true) or `seconds` pass;
  // every message read goes to `seen`.
  bool WaitFor(const std::string& what, double seconds,
               std::vector<std::string>* seen) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string m = Next(0.2);
      if (m.empty()) continue;
      seen->push_back(m);
      if (m.find(what) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "[" + s + "] ";
  return out;
}

TEST(Service, NotifiesReadyAfterTheFirstDumpPingsTheWatchdogReloadsAndStops) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  CtInject(ns, "create --count 50 --proto tcp --quiet");
  NotifySocket notify;
  ASSERT_TRUE(notify.ok());
  Daemon::Options o;
  o.ready_deadline = 0;  // the test waits for READY=1 instead
  o.env = {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=1000000"};
  Daemon d({"--netns=" + ns.name()}, o);
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", 20, &seen)) << Joined(seen) << d.log();
  EXPECT_NE(seen.front().find("STATUS=starting"), std::string::npos)
      << Joined(seen);
  EXPECT_NE(seen.back().find("STATUS=watching 1 network namespace"),
            std::string::npos)
      << Joined(seen);
  // READY=1 means the first dump is in: the gauges are already complete.
  std::string body;
  EXPECT_EQ(d.Get("/-/ready", &body), 200);
  EXPECT_EQ(SumSeries(d.Metrics(), "conntrack_entries", {{"netns", ns.name()}}),
            50);

  // WatchdogSec=1s: a ping every half second while the ingest thread runs.
  int pings = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < until) {
    if (notify.Next(0.3).find("WATCHDOG=1") != std::string::npos) ++pings;
  }
  EXPECT_GE(pings, 3);
  EXPECT_LE(pings, 8);

  seen.clear();
  ASSERT_EQ(kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(notify.WaitFor("RELOADING=1", 5, &seen)) << Joined(seen);
  EXPECT_NE(seen.back().find("MONOTONIC_USEC="), std::string::npos);
  ASSERT_TRUE(notify.WaitFor("READY=1", 5, &seen)) << Joined(seen);
  seen.clear();
  const auto term = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(d.pid(), SIGTERM), 0);
  EXPECT_TRUE(notify.WaitFor("STOPPING=1", 5, &seen)) << Joined(seen);
  EXPECT_EQ(d.WaitExit(10), 0) << d.log();
  // Stopping takes no civetweb poll of 2 s (exporters/web/http_server.cc):
  // a restart by the service manager is quick. A sanitizer's exit checks
  // take their own time.
  const double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - term)
          .count();
  EXPECT_LT(stop_s, kSanitized ? 3.0 : 1.0);
}

TEST(Service, WorksAsAnUnprivilegedUserWithOnlyCapNetAdmin) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v setpriv && getent passwd nobody").exit_code != 0) {
    SKIP_UNLESS_CI("setpriv or the user nobody is missing");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  CtInject(ns, "create --count 30 --proto udp --quiet");
  CtInject(ns, "create --count 12 --proto tcp --state SYN_SENT --quiet");
  Daemon::Options o;
  o.run_in_netns = ns.name();  // no setns() needed: the unit's setting
  o.run_as_user = "nobody";
  o.port = FreePort();
  // The test's scrapes and the web front's relays of them: not flows of
  // the namespace it compares with the kernel.
  ASSERT_TRUE(ns.NoTrackLoopbackTcp());
  Daemon d({"--resync-interval=1s"}, o);
  ASSERT_TRUE(d.ready()) << d.log();
  // It really runs as nobody with CAP_NET_ADMIN and nothing else.
  std::string status =
      Shell("cat /proc/" + std::to_string(d.pid()) + "/status").out;
  EXPECT_NE(status.find("CapEff:\t0000000000001000"), std::string::npos)
      << status;
  EXPECT_NE(status.find("CapBnd:\t0000000000001000"), std::string::npos);
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos);
  std::string uid = Shell("id -u nobody").out;
  EXPECT_NE(status.find("Uid:\t" + uid.substr(0, uid.size() - 1)),
            std::string::npos);

  // Events, dumps, kernel stats, the buffer it asked for, the control
  // socket: everything works.
  CtInject(ns, "create --count 5 --proto tcp --offset 100 --quiet");
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, "", 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  auto m = d.Metrics();
  for (const char* source : {"events", "dump", "kernel_stats"}) {
    EXPECT_EQ(m[Series("ctcollect_source_up", {{"source", source}})], 1)
        << source;
  }
  EXPECT_GE(m[Series("ctcollect_netlink_receive_buffer_bytes", {})], 32 << 20);
  EXPECT_GE(SumSeries(m, "conntrack_events_total", {{"type", "new"}}), 5);
  int code = -1;
  std::string stats = d.Client("-s", &code);
  EXPECT_EQ(code, 0) << stats;
  EXPECT_NE(stats.find("current active connections"), std::string::npos)
      << stats;
  EXPECT_EQ(d.log().find("ermission denied"), std::string::npos) << d.log();
  EXPECT_EQ(d.log().find("<3>"), std::string::npos) << d.log();
}

TEST(Service, UnitIsHardenedAsSystemdRatesIt) {
  if (Shell("command -v systemd-analyze").exit_code != 0) {
    SKIP_UNLESS_CI("systemd-analyze is missing");
  }
  CommandResult r = Shell(
      "systemd-analyze security --offline=true --no-pager "
      "'" CTCOLLECT_SOURCE_DIR "/systemd/ctcollectd.service' 2>&1");
  size_t at = r.out.find("Overall exposure level for ctcollectd.service: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  double score = std::atof(r.out.c_str() + at + 48);
  EXPECT_LE(score, 2.0) << r.out.substr(at);
  EXPECT_NE(r.out.find(" OK"), std::string::npos) << r.out.substr(at);
}

}  // namespace
}  // namespace ctcollect::itest
