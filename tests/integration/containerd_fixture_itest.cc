// The containerd fixture against a real containerd: a pod it starts has a
// network namespace of its own, its bundle is what the CRI plugin would
// leave, and the pod index maps that namespace to the pod.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "collector/discovery/bounded_file.h"
#include "collector/discovery/oci_bundle.h"
#include "collector/discovery/pod_index.h"
#include "tests/integration/containerd_fixture.h"

namespace ctcollect::itest {
namespace {

namespace fs = std::filesystem;

struct stat OwnNetns() {
  struct stat st {};
  EXPECT_EQ(stat("/proc/self/ns/net", &st), 0);
  return st;
}

// Processes whose command line mentions `s` (containerd, its shims).
int ProcessesMentioning(const std::string& s) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline", std::ios::binary);
    std::stringstream text;
    text << f.rdbuf();
    if (text.str().find(s) != std::string::npos) ++n;
  }
  return n;
}

TEST(ContainerdFixture, APodHasItsOwnNetnsAndThePodIndexNamesIt) {
  REQUIRE_CONTAINERD();
  ContainerdFixture ctrd;
  ASSERT_TRUE(ctrd.ok()) << ctrd.error() << "\n" << ctrd.log();
  auto pod =
      ctrd.RunPod("web-0", "shop", "8c0d2f6e-1111-2222-3333-444455556666");
  ASSERT_TRUE(pod) << ctrd.error() << "\n" << ctrd.log();
  RecordProperty("containerd_start_seconds",
                 std::to_string(ctrd.start_seconds()));
  RecordProperty("pod_start_seconds", std::to_string(pod->start_seconds));

  struct stat own = OwnNetns();
  EXPECT_FALSE(pod->netns_dev == own.st_dev && pod->netns_inode == own.st_ino);
  EXPECT_EQ(pod->bundle_dir, ctrd.task_root() + "/k8s.io/" + pod->id);

  // The bundle, as containerd's runc shim wrote it.
  OciBundleResult config =
      LoadOciBundleConfig(pod->bundle_dir + "/config.json");
  ASSERT_TRUE(config.config) << config.error;
  ASSERT_TRUE(config.config->pod);
  EXPECT_EQ(config.config->pod->name, "web-0");
  EXPECT_EQ(config.config->pod->pod_namespace, "shop");
  EXPECT_EQ(config.config->pod->uid, "8c0d2f6e-1111-2222-3333-444455556666");
  EXPECT_TRUE(config.config->pod->is_sandbox());
  EXPECT_EQ(config.config->netns_path, "");  // a new one, not a pinned one
  std::string pid_text;
  ASSERT_FALSE(ReadFileBounded(pod->bundle_dir + "/init.pid", kMaxPidFileBytes,
                               &pid_text));
  EXPECT_EQ(ParsePidFile(pid_text), pod->pid);

  PodIndex index = BuildPodIndex({ctrd.task_root()});
  ASSERT_EQ(index.runtime_dirs.size(), 1u);
  EXPECT_TRUE(index.runtime_dirs[0].found);
  EXPECT_EQ(index.stats.configs_malformed, 0u) << index.stats.first_malformed;
  const PodNetns* found = index.Find(pod->netns_dev, pod->netns_inode);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->pod.name, "web-0");
  EXPECT_EQ(found->pod.pod_namespace, "shop");
  EXPECT_EQ(found->pod.uid, "8c0d2f6e-1111-2222-3333-444455556666");
  EXPECT_EQ(found->pid, pod->pid);
  EXPECT_EQ(found->runtime_dir, ctrd.task_root());
  EXPECT_EQ(found->bundle_dir, pod->bundle_dir);
  EXPECT_EQ(found->netns_path, "");

  // Only lo, up; loopback flows there are tracked once a ruleset asks.
  CommandResult links = ctrd.RunInPod(*pod, "ip -o link show");
  EXPECT_EQ(links.exit_code, 0) << links.out;
  EXPECT_NE(links.out.find("1: lo:"), std::string::npos) << links.out;
  EXPECT_EQ(links.out.find("2: "), std::string::npos) << links.out;
  ASSERT_TRUE(ctrd.EnableConntrack(*pod));
  CommandResult ping = ctrd.RunInPod(*pod, "busybox ping -c1 -W2 127.0.0.1");
  EXPECT_EQ(ping.exit_code, 0) << ping.out;
  CommandResult tracked =
      ctrd.RunInPod(*pod, "conntrack -L -p icmp 2>/dev/null");
  EXPECT_NE(tracked.out.find("src=127.0.0.1"), std::string::npos)
      << tracked.out;
  ASSERT_TRUE(ctrd.StopPod(*pod));
  EXPECT_FALSE(fs::exists(pod->bundle_dir));
  PodIndex after = BuildPodIndex({ctrd.task_root()});
  EXPECT_EQ(after.Find(pod->netns_dev, pod->netns_inode), nullptr);
  EXPECT_TRUE(after.by_netns.empty());
}

TEST(ContainerdFixture, TwoPodsTwoNamespacesAndARescanFromTheCache) {
  REQUIRE_CONTAINERD();
  ContainerdFixture ctrd;
  ASSERT_TRUE(ctrd.ok()) << ctrd.error() << "\n" << ctrd.log();
  auto a = ctrd.RunPod("a-0", "ns-a", "uid-a");
  ASSERT_TRUE(a) << ctrd.error();
  auto b = ctrd.RunPod("b-0", "ns-b", "uid-b");
  ASSERT_TRUE(b) << ctrd.error();
  EXPECT_NE(a->netns_inode, b->netns_inode);

  PodIndexer indexer({ctrd.task_root(), "/nonexistent/runtime"});
  PodIndex first = indexer.Scan();
  EXPECT_EQ(first.stats.configs_read, 2u);
  ASSERT_EQ(first.by_netns.size(), 2u);
  EXPECT_EQ(first.Find(a->netns_dev, a->netns_inode)->pod.name, "a-0");
  EXPECT_EQ(first.Find(b->netns_dev, b->netns_inode)->pod.name, "b-0");
  EXPECT_FALSE(first.runtime_dirs[1].found);

  PodIndex second = indexer.Scan();
  EXPECT_EQ(second.stats.configs_read, 0u);
  EXPECT_EQ(second.by_netns.size(), 2u);

  ASSERT_TRUE(ctrd.StopPod(*a));
  PodIndex third = indexer.Scan();
  EXPECT_EQ(third.by_netns.size(), 1u);
  EXPECT_EQ(indexer.cached_configs(), 1u);
}

TEST(ContainerdFixture, CleansUpEvenWhenTheTestLeavesPodsRunning) {
  REQUIRE_CONTAINERD();
  std::string dir;
  pid_t pid = 0;
  {
    ContainerdFixture ctrd;
    ASSERT_TRUE(ctrd.ok()) << ctrd.error() << "\n" << ctrd.log();
    auto pod = ctrd.RunPod("left-0", "default", "uid-left");
    ASSERT_TRUE(pod) << ctrd.error();
    dir = ctrd.dir();
    pid = pod->pid;
    // containerd (--config DIR/config.toml), the shim (-address DIR/c.sock)
    EXPECT_EQ(ProcessesMentioning(dir + "/"), 2);
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_NE(kill(pid, 0), 0);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(ProcessesMentioning(dir + "/"), 0);
  CommandResult cgroups =
      Shell("ls -d /sys/fs/cgroup/ctct-itest-" + std::to_string(getpid()) +
            " /sys/fs/cgroup/*/ctct-itest-" + std::to_string(getpid()) +
            " 2>/dev/null | wc -l");
  EXPECT_EQ(cgroups.out, "0\n");
}

}  // namespace
}  // namespace ctcollect::itest
