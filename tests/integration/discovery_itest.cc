// --netns.discover against the real kernel: namespaces the test makes
// (`ip netns add`, and a process's own from `unshare -n`) are watched
// without being named, labelled as the issue says, counted exactly as
// `conntrack -L` lists them inside, summarised in at most 25 series while
// idle, and let go of when they go away (series gone, descriptors closed).
// The churn test makes and deletes namespaces at 20 per second for a
// minute while flows change in them and in three that stay.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/containerd_fixture.h"
#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

using Metrics = std::map<std::string, double>;

// Series whose netns label is `label`.
size_t SeriesOf(const Metrics& m, const std::string& label) {
  const std::string needle = "netns=\"" + label + "\"";
  size_t n = 0;
  for (const auto& [k, v] : m) n += k.find(needle) != std::string::npos;
  return n;
}

// The ctcollect_netns_info series of `label` ("" if none).
std::string InfoOf(const Metrics& m, const std::string& label) {
  const std::string needle = "netns=\"" + label + "\"";
  for (const auto& [k, v] : m) {
    if (k.rfind("ctcollect_netns_info{", 0) == 0 &&
        k.find(needle) != std::string::npos) {
      return k;
    }
  }
  return "";
}

int OpenFds(pid_t pid) {
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n - 2;  // . and ..
}

std::string InodeOf(const std::string& path) {
  CommandResult r = Shell("stat -L -c %i " + ShellQuote(path));
  std::string s = r.out;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(Discovery, NamedNamespaceIsWatchedWithinTwoSecondsCountedAndLetGo) {
  REQUIRE_PRIVILEGE();
  Daemon d({"--netns.discover", "--netns.discover-interval=60s"});
  ASSERT_TRUE(d.ready()) << d.log();
  // Every namespace of the test's start watched, before this one exists.
  ASSERT_TRUE(WaitUntil([&] { return OpenFds(d.pid()) > 0; }, 2));
  const int fds_before = OpenFds(d.pid());

  // The interval is a minute: only inotify can make it this quick.
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  auto t0 = std::chrono::steady_clock::now();
  Metrics m;
  ASSERT_TRUE(WaitUntil(
      [&] {
        m = d.Metrics();
        return !InfoOf(m, ns.name()).empty() &&
               m[Series("ctcollect_source_up",
                        {{"netns", ns.name()}, {"source", "dump"}})] == 1;
      },
      2.0))
      << "not watched 2 s after `ip netns add`\n"
      << d.log();
  double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LE(took, 2.0);

  // Who it is: the name, its inode, found by discovery, the summary.
  const std::string info = InfoOf(m, ns.name());
  EXPECT_NE(info.find("inode=\"" + InodeOf(ns.path()) + "\""),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("discovered=\"true\""), std::string::npos) << info;
  EXPECT_NE(info.find("detail=\"summary\""), std::string::npos) << info;
  // Idle: the summary's handful of series, not the catalogue's 80.
  const size_t idle = SeriesOf(m, ns.name());
  EXPECT_GT(idle, 5u);
  EXPECT_LE(idle, 25u);
  EXPECT_EQ(m.count(Series("conntrack_kernel_entries", {{"netns", ns.name()}})),
            0u);

  // Real flows inside, counted as the kernel lists them.
  ASSERT_TRUE(HoldTcpConnection(ns, 18080, 60));
  ASSERT_TRUE(UdpExchange(ns, 18053));
  CtInject(ns, "create --count 40 --proto udp --quiet");
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, ns.name(), 10, &got, &want))
      << "daemon " << Describe(got) << "\nkernel " << Describe(want);
  EXPECT_GE(KernelCount(ns), 42);
  m = d.Metrics();
  EXPECT_GT(SumSeries(m, "conntrack_events_total", {{"netns", ns.name()}}), 0);

  // Gone: its series go, and the daemon holds nothing of it any more.
  ASSERT_TRUE(ns.Delete());
  EXPECT_TRUE(
      WaitUntil([&] { return SeriesOf(d.Metrics(), ns.name()) == 0; }, 2.0))
      << d.log();
  EXPECT_TRUE(WaitUntil([&] { return OpenFds(d.pid()) == fds_before; }, 5))
      << OpenFds(d.pid()) << " fds, " << fds_before << " before";
  // Not "missing": that is for namespaces asked for by name.
  EXPECT_EQ(d.Metrics()["ctcollect_netns_missing{}"], 0);
}

TEST(Discovery, ProcessNamespaceIsLabelledByInodeAndLetGoWhenItExits) {
  REQUIRE_PRIVILEGE();
  Daemon d({"--netns.discover", "--netns.discover-interval=1s"});
  ASSERT_TRUE(d.ready()) << d.log();
  // A namespace only a process holds: no name, no runtime.
  CommandResult r = Shell("unshare -n sleep 120 >/dev/null 2>&1 & echo $!");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string pid = r.out.substr(0, r.out.find('\n'));
  std::string inode;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string i = InodeOf("/proc/" + pid + "/ns/net");
        // unshare has not unshared yet while it still shares ours.
        if (i.empty() || i == InodeOf("/proc/self/ns/net")) return false;
        inode = i;
        return true;
      },
      5));
  const std::string label = "inode:" + inode;
  EXPECT_TRUE(WaitUntil([&] { return !InfoOf(d.Metrics(), label).empty(); }, 3))
      << label << " not watched\n"
      << d.log();
  EXPECT_NE(InfoOf(d.Metrics(), label).find("inode=\"" + inode + "\""),
            std::string::npos);
  Shell("kill " + pid);
  EXPECT_TRUE(WaitUntil([&] { return SeriesOf(d.Metrics(), label) == 0; }, 3))
      << d.log();
}

// `conntrack -L` in a pod's namespace, counted as KernelEntries counts.
EntryCounts PodEntries(const ContainerdFixture& ctrd,
                       const ContainerdPod& pod) {
  EntryCounts out;
  for (const char* family : {"ipv4", "ipv6"}) {
    CommandResult r = ctrd.RunInPod(
        pod, std::string("conntrack -L -f ") + family + " 2>/dev/null");
    for (const auto& [k, v] : ParseConntrackList(family, r.out)) out[k] += v;
  }
  return out;
}

TEST(Discovery, ContainerdPodIsLabelledByItsPodAndCountedInside) {
  REQUIRE_PRIVILEGE();
  REQUIRE_CONTAINERD();
  ContainerdFixture ctrd;
  ASSERT_TRUE(ctrd.ok()) << ctrd.error() << "\n" << ctrd.log();
  Daemon d({"--netns.discover", "--netns.discover-interval=1s",
            "--netns.runtime-dir=" + ctrd.task_root()});
  ASSERT_TRUE(d.ready()) << d.log();
  auto pod =
      ctrd.RunPod("web-7f9c4d", "shop", "5c0ffee0-1111-2222-3333-444455556666");
  ASSERT_TRUE(pod) << ctrd.error();
  ASSERT_TRUE(ctrd.EnableConntrack(*pod));
  const std::string label = "shop/web-7f9c4d";
  Metrics m;
  ASSERT_TRUE(WaitUntil(
      [&] {
        m = d.Metrics();
        return !InfoOf(m, label).empty();
      },
      4))
      << "pod namespace not watched under " << label << "\n"
      << d.log();
  const std::string info = InfoOf(m, label);
  EXPECT_NE(info.find("pod=\"web-7f9c4d\""), std::string::npos) << info;
  EXPECT_NE(info.find("pod_namespace=\"shop\""), std::string::npos) << info;
  EXPECT_NE(info.find("pod_uid=\"5c0ffee0-1111-2222-3333-444455556666\""),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("runtime=\"containerd\""), std::string::npos) << info;
  EXPECT_NE(info.find("inode=\"" + std::to_string(pod->netns_inode) + "\""),
            std::string::npos)
      << info;

  // Real flows inside the pod: pings on its loopback and injected ones.
  CommandResult ping = ctrd.RunInPod(*pod, "busybox ping -c3 -i0.2 127.0.0.1");
  EXPECT_EQ(ping.exit_code, 0) << ping.out;
  CommandResult inj =
      ctrd.RunInPod(*pod, std::string(CTINJECT_PATH) +
                              " create --count 30 --proto udp --quiet");
  EXPECT_EQ(inj.exit_code, 0) << inj.out;
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntil(
      [&] {
        want = PodEntries(ctrd, *pod);
        got = DaemonEntries(d.Metrics(), label);
        return got == want && !want.empty();
      },
      10))
      << "daemon " << Describe(got) << "\nkernel " << Describe(want);

  // The pod stops: its namespace goes, and so do its series.
  ASSERT_TRUE(ctrd.StopPod(*pod));
  EXPECT_TRUE(WaitUntil([&] { return SeriesOf(d.Metrics(), label) == 0; }, 4))
      << d.log();
}

// Without any runtime the daemon says so once, and labels by name/inode.
TEST(Discovery, NoRuntimeIsSaidOnce) {
  REQUIRE_PRIVILEGE();
  Daemon d({"--netns.discover", "--netns.discover-interval=500ms",
            "--netns.runtime-dir=/nonexistent/ctcollect-test"});
  ASSERT_TRUE(d.ready()) << d.log();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::string log = d.log();
  const std::string line = "no container runtime state in";
  size_t first = log.find(line);
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(line, first + 1), std::string::npos) << log;
  EXPECT_GE(d.Metrics()["ctcollect_netns_discovery_scans_total{}"], 3);
}

TEST(Discovery, FullDetailGivesTheWholeCatalogue) {
  REQUIRE_PRIVILEGE();
  Daemon d({"--netns.discover", "--netns.detail=full"});
  ASSERT_TRUE(d.ready()) << d.log();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  CtInject(ns, "create --count 25 --proto tcp --quiet");
  const std::string kernel =
      Series("conntrack_kernel_entries", {{"netns", ns.name()}});
  Metrics m;
  EXPECT_TRUE(WaitUntil(
      [&] {
        m = d.Metrics();
        return m.count(kernel) && m[kernel] == KernelCount(ns);
      },
      5))
      << d.log();
  EXPECT_NE(InfoOf(m, ns.name()).find("detail=\"full\""), std::string::npos);
  EXPECT_GT(SeriesOf(m, ns.name()), 25u);
}

// What an idle namespace costs: at most two descriptors (its nsfs handle
// and its event socket), no thread, and (in plain builds) 128 KiB of RSS.
TEST(Discovery, AnIdleNamespaceCostsTwoFdsNoThreadAndLittleMemory) {
  REQUIRE_PRIVILEGE();
  Daemon d({"--netns.discover", "--netns.discover-interval=1s"});
  ASSERT_TRUE(d.ready()) << d.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int fds0 = OpenFds(d.pid());
  const int64_t threads0 = ProcStatus(d.pid(), "Threads");
  const int64_t rss0 = RssKiB(d.pid());
  constexpr int kCount = 60;
  const std::string prefix = "ctidle-" + std::to_string(getpid()) + "-";
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(Shell("ip netns add " + prefix + std::to_string(i)).exit_code, 0);
  }
  EXPECT_TRUE(WaitUntil(
      [&] {
        Metrics m = d.Metrics();
        for (int i = 0; i < kCount; ++i) {
          if (m[Series("ctcollect_source_up",
                       {{"netns", prefix + std::to_string(i)},
                        {"source", "dump"}})] != 1) {
            return false;
          }
        }
        return true;
      },
      10))
      << d.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int fds1 = OpenFds(d.pid());
  const int64_t threads1 = ProcStatus(d.pid(), "Threads");
  const int64_t rss1 = RssKiB(d.pid());
  for (int i = 0; i < kCount; ++i) {
    Shell("ip netns delete " + prefix + std::to_string(i));
  }
  EXPECT_LE(fds1 - fds0, 2 * kCount);
  EXPECT_GE(fds1 - fds0, kCount);  // it does watch them
  EXPECT_EQ(threads1, threads0);
  if (!kSanitized) {
    EXPECT_LE(rss1 - rss0, 128 * kCount)
        << "RSS " << rss0 << " -> " << rss1 << " KiB for " << kCount;
  }
  std::cout << "idle namespaces: " << kCount << " cost " << (fds1 - fds0)
            << " fds, " << (threads1 - threads0) << " threads, "
            << (rss1 - rss0) << " KiB\n";
}

TEST(Discovery, DetailFullForTheLabelsGiven) {
  REQUIRE_PRIVILEGE();
  TestNetns full, summary;
  ASSERT_TRUE(full.ok() && summary.ok());
  // The label itself (prefixes are unit-tested: the test's names share
  // theirs), and a prefix that matches neither.
  Daemon d({"--netns.discover", "--netns.detail-full=" + full.name(),
            "--netns.detail-full=ctct-no-such-*"});
  ASSERT_TRUE(d.ready()) << d.log();
  Metrics m = d.Metrics();
  EXPECT_NE(InfoOf(m, full.name()).find("detail=\"full\""), std::string::npos)
      << InfoOf(m, full.name());
  EXPECT_NE(InfoOf(m, summary.name()).find("detail=\"summary\""),
            std::string::npos)
      << InfoOf(m, summary.name());
  EXPECT_EQ(
      m.count(Series("conntrack_kernel_entries", {{"netns", full.name()}})),
      1u);
  EXPECT_EQ(
      m.count(Series("conntrack_kernel_entries", {{"netns", summary.name()}})),
      0u);
}

// Namespaces made and deleted at 20 per second for a minute, flows
// injected into each, beside three that stay and whose flows change all
// along. Afterwards: no descriptor, thread or memory beyond the start's, no
// series of a namespace that is gone, exact counts for those that stay.
TEST(DiscoveryChurn, TwentyNamespacesPerSecondForAMinute) {
  REQUIRE_PRIVILEGE();
  Daemon d({"--netns.discover", "--netns.discover-interval=1s"});
  ASSERT_TRUE(d.ready()) << d.log();
  std::vector<std::unique_ptr<TestNetns>> stay;
  for (int i = 0; i < 3; ++i) {
    stay.push_back(std::make_unique<TestNetns>());
    ASSERT_TRUE(stay.back()->ok()) << stay.back()->error();
  }
  for (auto& ns : stay) {
    EXPECT_TRUE(
        WaitUntil([&] { return !InfoOf(d.Metrics(), ns->name()).empty(); }, 3));
  }
  // The start, once the daemon has done one of everything: a namespace
  // found, watched, dumped and let go of.
  {
    TestNetns warm;
    WaitUntil([&] { return !InfoOf(d.Metrics(), warm.name()).empty(); }, 3);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int fds0 = OpenFds(d.pid());
  const int64_t threads0 = ProcStatus(d.pid(), "Threads");
  const int64_t rss0 = RssKiB(d.pid());

  const std::string prefix = "ctchurn-" + std::to_string(getpid()) + "-";
  std::vector<std::string> live;  // oldest first
  std::set<std::string> all;
  auto start = std::chrono::steady_clock::now();
  auto next = start;
  int made = 0, flows_round = 0;
  size_t most_watched = 0;  // churned namespaces seen at once in /metrics
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    const std::string name = prefix + std::to_string(made++);
    // Made, one flow injected, and (a second later) deleted.
    Shell("ip netns add " + name + " && ip netns exec " + name + " " +
          CTINJECT_PATH + " create --count 3 --proto udp --quiet");
    live.push_back(name);
    all.insert(name);
    if (live.size() > 20) {
      Shell("ip netns delete " + live.front());
      live.erase(live.begin());
    }
    // The three that stay: flows come and go in them all along.
    if (made % 10 == 0) {
      auto& ns = *stay[flows_round++ % stay.size()];
      CtInject(ns, "create --count 20 --proto tcp --offset " +
                       std::to_string(flows_round * 20) + " --quiet");
      CtInject(ns, "delete --count 10 --proto tcp --offset " +
                       std::to_string(flows_round * 20) + " --quiet");
    }
    if (made % 20 == 0) {
      size_t watched = 0;
      for (const auto& name : live) {
        watched += !InfoOf(d.Metrics(), name).empty();
      }
      most_watched = std::max(most_watched, watched);
    }
    next += std::chrono::milliseconds(50);
    std::this_thread::sleep_until(next);
  }
  for (const auto& name : live) Shell("ip netns delete " + name);
  const double rate = made / std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
  // The pace is the harness's: under a sanitizer every ctinject it starts
  // (a sanitized binary too) takes long enough to halve it, as storms are
  // paced there (kStormPace). The plain build holds 20 per second.
  EXPECT_GE(rate, kSanitized ? 5 : 15) << "the test could not keep the pace";
  // They were watched while they lived (most of the last second's 20).
  EXPECT_GE(most_watched, 10u);

  // Nothing of the gone ones is left.
  Metrics m;
  EXPECT_TRUE(WaitUntil(
      [&] {
        m = d.Metrics();
        for (const auto& name : all) {
          if (SeriesOf(m, name) != 0) return false;
        }
        return true;
      },
      5))
      << d.log();
  EXPECT_TRUE(WaitUntil([&] { return OpenFds(d.pid()) <= fds0; }, 5))
      << OpenFds(d.pid()) << " fds at the end, " << fds0 << " at the start";
  EXPECT_LE(ProcStatus(d.pid(), "Threads"), threads0);
  if (!kSanitized) {
    // Freed memory goes back to the kernel when namespaces are let go of;
    // what stays is the allocator's own (a few arenas' top chunks).
    EXPECT_LE(RssKiB(d.pid()), rss0 + 4096)
        << "RSS " << RssKiB(d.pid()) << " KiB at the end, " << rss0
        << " KiB at the start";
  }
  // Exact for the namespaces that stayed.
  for (auto& ns : stay) {
    EntryCounts got, want;
    EXPECT_TRUE(WaitUntilEqualsKernel(d, *ns, ns->name(), 10, &got, &want))
        << ns->name() << ": daemon " << Describe(got) << "\nkernel "
        << Describe(want);
  }
  EXPECT_EQ(SumSeries(d.Metrics(), "ctcollect_netlink_overruns_total", {}), 0);
  std::cout << "churn: " << made << " namespaces at " << rate << "/s, at most "
            << most_watched << " watched at once; fds " << fds0 << " -> "
            << OpenFds(d.pid()) << ", threads " << threads0 << " -> "
            << ProcStatus(d.pid(), "Threads") << ", RSS " << rss0 << " -> "
            << RssKiB(d.pid()) << " KiB\n";
}

}  // namespace
}  // namespace ctcollect::itest
