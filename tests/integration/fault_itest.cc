// Faults on purpose, against the real kernel: a receive buffer too small
// for a storm (ENOBUFS), the daemon killed mid-storm and restarted, the
// kernel table full, HTTP abuse while a storm runs, and a watched
// namespace deleted under the daemon. The daemon must notice, count,
// recover and never lose what it reports.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
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

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(Faults, TinyBufferOverrunsAreCountedResyncedAndLoggedOnce) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--netlink.buffer-size=4096",
            "--netlink.buffer-max=4096", "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  // Many storms: the 4 KiB buffer overflows again and again.
  for (int i = 0; i < 3; ++i) {
    CtInject(ns, "storm --count 30000 --proto tcp --offset " +
                     std::to_string(i * 100000));
  }
  CtInject(ns, "create --count 500 --proto udp --quiet");
  auto m = d.Metrics();
  double overruns =
      m[Series("ctcollect_netlink_overruns_total", {{"netns", ns.name()}})];
  EXPECT_GT(overruns, 1);
  // Each overrun asks for a resync; they ran.
  EXPECT_GE(m[Series("ctcollect_resyncs_total",
                     {{"netns", ns.name()}, {"reason", "overrun"}})],
            1);
  EntryCounts got, want;
  d.Client("-R");
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, ns.name(), 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want) << "\n"
      << d.log();
  // Said once per minute, not once per overrun.
  int lines = Count(d.log(), "netlink overrun");
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, 2) << d.log();
  EXPECT_LT(lines, overruns);
}

// The event socket is connected to the kernel, so a process in the
// namespace cannot feed it datagrams of its own: the kernel refuses them
// (ECONNREFUSED to the sender) and nothing reaches the daemon. A socket of
// the same process that is not connected takes the same datagram, so the
// refusal is the connection's doing.
TEST(Faults, ForgedUnicastsToTheEventSocketAreRefusedByTheKernel) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  // The daemon's sockets, by inode.
  std::string inodes;
  for (const auto& e : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(d.pid()) + "/fd")) {
    std::error_code ec;
    std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) {
      inodes += target.substr(8, target.size() - 9) + ",";
    }
  }
  // In the namespace: every NETLINK_NETFILTER socket of the daemon that
  // listens to multicast groups is its event socket.
  auto r = ns.Run(R"(python3 - ')" + inodes + R"(' <<'PY'
import errno, socket, sys
mine = set(sys.argv[1].strip(",").split(","))
events = []
for line in open("/proc/net/netlink").read().splitlines()[1:]:
    f = line.split()
    if f[1] == "12" and int(f[3], 16) != 0 and f[9] in mine:
        events.append(int(f[2]))
print("event sockets", len(events))
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
for port in events:
    try:
        s.sendto(b"\x14\x00\x00\x00\x00\x01\x00\x00" + b"\x00" * 12, (port, 0))
        print("accepted", port)
    except OSError as e:
        print("refused" if e.errno == errno.ECONNREFUSED else "error %d" % e.errno, port)
control = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
control.bind((0, 0))
s.sendto(b"\x00" * 20, (control.getsockname()[0], 0))
print("control received", len(control.recv(100)))
PY)");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("event sockets 1\n"), std::string::npos) << r.out;
  EXPECT_EQ(Count(r.out, "refused"), 1) << r.out;
  EXPECT_EQ(Count(r.out, "accepted"), 0) << r.out;
  EXPECT_NE(r.out.find("control received 20"), std::string::npos) << r.out;
  // Nothing reached the daemon: no parse error, no event.
  CtInject(ns, "create --count 3 --proto udp --quiet");
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, ns.name(), 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  auto m = d.Metrics();
  EXPECT_EQ(
      m[Series("ctcollect_events_parse_errors_total", {{"netns", ns.name()}})],
      0);
}

TEST(Faults, KilledMidStormAndRestartedRebuildsFromTheKernel) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon::Options o;
  o.port = FreePort();
  auto first = std::make_unique<Daemon>(
      std::vector<std::string>{"--netns=" + ns.name()}, o);
  ASSERT_TRUE(first->ready()) << first->log();
  std::thread storm(
      [&] { CtInject(ns, "storm --count 200000 --proto tcp --quiet"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(kill(first->pid(), SIGKILL), 0);
  first->WaitExit(5);
  // Same port and a fresh daemon (its own control socket dir): back
  // within one dump while the storm still runs.
  Daemon second({"--netns=" + ns.name(), "--resync-interval=2s"}, o);
  ASSERT_TRUE(second.ready()) << second.log();
  storm.join();
  CtInject(ns, "create --count 300 --proto udp --offset 900000 --quiet");
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(second, ns, ns.name(), 15, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  int code = -1;
  second.Client("-s", &code);
  EXPECT_EQ(code, 0);
  std::string body;
  EXPECT_EQ(second.Get("/-/healthy", &body), 200);
}

TEST(Faults, FullTableDropsAreCountedAndTheDaemonGoesOn) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--resync-interval=2s"});
  ASSERT_TRUE(d.ready()) << d.log();
  // nf_conntrack_max is one global limit (writable in the root namespace
  // only): lower it just above what the machine tracks now, fill the
  // test namespace past it with real packets, restore it.
  std::ifstream maxf("/proc/sys/net/netfilter/nf_conntrack_max");
  std::ifstream countf("/proc/sys/net/netfilter/nf_conntrack_count");
  int64_t old_max = 0, count = 0;
  maxf >> old_max;
  countf >> count;
  int64_t limit = count + 200;
  Shell("echo " + std::to_string(limit) +
        " > /proc/sys/net/netfilter/nf_conntrack_max");
  // UDP datagrams to 2000 ports: each a new flow until the table is full.
  ns.Run(
      "python3 -c \"import socket\n"
      "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
      "for p in range(20000,22000):\n"
      "  try: s.sendto(b'x',('127.0.0.1',p))\n"
      "  except OSError: pass\"");
  std::string stats = ns.Run("conntrack -S").out;
  Shell("echo " + std::to_string(old_max) +
        " > /proc/sys/net/netfilter/nf_conntrack_max");
  auto m = d.Metrics();
  double drops =
      m[Series("conntrack_kernel_drop_total", {{"netns", ns.name()}})] +
      m[Series("conntrack_kernel_early_drop_total", {{"netns", ns.name()}})] +
      m[Series("conntrack_kernel_insert_failed_total", {{"netns", ns.name()}})];
  EXPECT_GT(drops, 0) << stats;
  auto kernel = KernelStatsSum(ns);
  EXPECT_GE(kernel["drop"] + kernel["early_drop"] + kernel["insert_failed"],
            drops);
  EXPECT_TRUE(d.running());
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, ns.name(), 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
}

// A TCP connection to the daemon's HTTP port.
int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // Abusers must not hang the test when the server stops reading (the
  // send timeout also bounds connect()).
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(Faults, HttpAbuseDuringAStormLosesNoEvent) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  const int64_t baseline = RssKiB(d.pid());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> peak{baseline};
  std::vector<std::thread> abusers;
  // 1000 connections that send nothing.
  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) {
    int fd = Connect(d.port());
    if (fd >= 0) idle.push_back(fd);
  }
  // 20 clients sending a request one byte a second.
  for (int i = 0; i < 20; ++i) {
    abusers.emplace_back([&] {
      int fd = Connect(d.port());
      const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
      for (size_t k = 0; k < req.size() && !stop; ++k) {
        if (send(fd, &req[k], 1, MSG_NOSIGNAL) != 1) break;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      close(fd);
    });
  }
  // 1 MiB headers and random query strings, in a loop.
  abusers.emplace_back([&] {
    std::mt19937 rng(42);
    while (!stop) {
      int fd = Connect(d.port());
      if (fd < 0) continue;
      std::string req = "GET /api/v1/flows?";
      for (int k = 0; k < 64; ++k) req += static_cast<char>(33 + rng() % 94);
      req += " HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1 << 20, 'a') +
             "\r\n\r\n";
      send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      char buf[4096];
      recv(fd, buf, sizeof(buf), 0);
      close(fd);
    }
  });
  std::thread sampler([&] {
    while (!stop) {
      int64_t r = RssKiB(d.pid());
      int64_t p = peak.load();
      while (r > p && !peak.compare_exchange_weak(p, r)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::string out =
      CtInject(ns, "storm --count 100000 --proto tcp" + std::string(kStormPace))
          .out;
  stop = true;
  for (int fd : idle) close(fd);
  for (auto& t : abusers) t.join();
  sampler.join();

  ASSERT_TRUE(d.running()) << d.log();
  EXPECT_NE(out.find("created=100000 failed=0"), std::string::npos) << out;
  // Serving again, and nothing lost.
  std::string body;
  int status = 0;
  for (int i = 0; i < 30 && status != 200; ++i) {
    status = d.Get("/metrics", &body);
    if (status != 200) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_EQ(status, 200);
  auto m = ParsePromText(body);
  EXPECT_EQ(
      m[Series("ctcollect_netlink_overruns_total", {{"netns", ns.name()}})], 0);
  EXPECT_GE(SumSeries(m, "conntrack_events_total",
                      {{"netns", ns.name()}, {"type", "destroy"}}),
            100000);
  std::printf("rss: baseline %lld KiB, peak %lld KiB\n",
              static_cast<long long>(baseline),
              static_cast<long long>(peak.load()));
  if (!kSanitized) {
    EXPECT_LT(peak.load() - baseline, 64 * 1024);
  }
}

// Series of `m` labelled netns=`name`.
int SeriesOf(const std::map<std::string, double>& m, const std::string& name) {
  int n = 0;
  for (const auto& [key, v] : m) {
    if (key.find("netns=\"" + name + "\"") != std::string::npos) ++n;
  }
  return n;
}

bool WaitFor(double seconds, const std::function<bool()>& cond) {
  auto until =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

TEST(Faults, DeletedNamespaceLosesItsMetricsTheRestGoOnAndItComesBack) {
  REQUIRE_PRIVILEGE();
  TestNetns gone, stays;
  ASSERT_TRUE(gone.ok() && stays.ok());
  // A veth pair between the two: the kernel destroys a namespace only once
  // nothing holds it, and then the peer end in `stays` disappears with it.
  // So it shows whether the daemon let go of every socket and handle.
  const std::string veth = "ctg" + std::to_string(getpid() % 100000);
  ASSERT_EQ(Shell("ip -n " + gone.name() + " link add " + veth +
                  "a type veth peer name " + veth + "b netns " + stays.name())
                .exit_code,
            0);
  CtInject(gone, "create --count 40 --proto udp --quiet");
  CtInject(stays, "create --count 25 --proto tcp --quiet");
  Daemon d({"--netns=" + gone.name(), "--netns=" + stays.name(),
            "--resync-interval=2s"});
  ASSERT_TRUE(d.ready()) << d.log();
  auto m = d.Metrics();
  EXPECT_EQ(SumSeries(m, "conntrack_entries", {{"netns", gone.name()}}), 40);
  EXPECT_GT(SeriesOf(m, gone.name()), 10);
  EXPECT_EQ(m[Series("ctcollect_netns_missing", {})], 0);

  ASSERT_TRUE(gone.Delete());
  // Its metrics go away, the daemon says so, and it holds nothing there.
  EXPECT_TRUE(WaitFor(10, [&] {
    auto now = d.Metrics();
    return SeriesOf(now, gone.name()) == 0 &&
           now[Series("ctcollect_netns_missing", {})] == 1;
  })) << d.Get("/metrics");
  EXPECT_NE(d.log().find("netns \"" + gone.name() + "\" is gone"),
            std::string::npos)
      << d.log();
  EXPECT_TRUE(WaitFor(10, [&] {
    return stays.Run("ip link show " + veth + "b").exit_code != 0;
  })) << "the deleted namespace still exists: something holds it";

  // The rest go on: events and resyncs of the other namespace.
  CtInject(stays, "create --count 30 --proto udp --offset 1000 --quiet");
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, stays, stays.name(), 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  double resyncs = SumSeries(d.Metrics(), "ctcollect_resyncs_total",
                             {{"netns", stays.name()}});
  EXPECT_TRUE(d.WaitForResync(stays.name(), 10));
  EXPECT_GT(SumSeries(d.Metrics(), "ctcollect_resyncs_total",
                      {{"netns", stays.name()}}),
            resyncs);
  std::string body;
  EXPECT_EQ(d.Get("/-/ready", &body), 200) << body;
  int code = -1;
  d.Client("-s", &code);
  EXPECT_EQ(code, 0);

  // The same name again: a fresh namespace, watched from a first dump.
  ASSERT_TRUE(gone.Recreate()) << gone.error();
  CtInject(gone, "create --count 7 --proto icmp --quiet");
  EXPECT_TRUE(WaitFor(10, [&] {
    return d.Metrics()[Series("ctcollect_netns_missing", {})] == 0;
  })) << d.log();
  EXPECT_TRUE(WaitUntilEqualsKernel(d, gone, gone.name(), 10, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  EXPECT_EQ(
      SumSeries(d.Metrics(), "conntrack_entries", {{"netns", gone.name()}}), 7);
  EXPECT_NE(d.log().find("netns \"" + gone.name() + "\" is back"),
            std::string::npos)
      << d.log();
  ASSERT_TRUE(d.running()) << d.log();
}

}  // namespace
}  // namespace ctcollect::itest
