#include "collector/discovery/pod_index.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

namespace ctcollect {
namespace {

namespace fs = std::filesystem;

NetnsKey KeyOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return {st.st_dev, static_cast<uint64_t>(st.st_ino)};
}

// Distinct nsfs files of this process stand in for distinct network
// namespaces: the index only compares (dev, inode) of nsfs files.
const std::string kHostNs = "/proc/self/ns/net";
const std::string kNsA = "/proc/self/ns/uts";
const std::string kNsB = "/proc/self/ns/ipc";
const std::string kNsC = "/proc/self/ns/cgroup";

std::string ContainerdConfig(const std::string& type, const std::string& name,
                             const std::string& uid,
                             const std::string& netns_path = "") {
  std::string ns = netns_path.empty() ? R"({"type": "network"})"
                                      : R"({"type": "network", "path": ")" +
                                            netns_path + "\"}";
  return R"({"ociVersion": "1.0.2-dev", "process": {"args": ["/pause"]},
    "annotations": {
      "io.kubernetes.cri.container-type": ")" +
         type + R"(",
      "io.kubernetes.cri.sandbox-id": "0f2c",
      "io.kubernetes.cri.sandbox-name": ")" +
         name + R"(",
      "io.kubernetes.cri.sandbox-namespace": "default",
      "io.kubernetes.cri.sandbox-uid": ")" +
         uid + R"("},
    "linux": {"namespaces": [{"type": "pid"}, )" +
         ns + "]}}";
}

std::string CrioConfig(const std::string& type, const std::string& name,
                       const std::string& netns_path) {
  return R"({"annotations": {
      "io.kubernetes.cri-o.ContainerType": ")" +
         type + R"(",
      "io.kubernetes.pod.name": ")" +
         name + R"(",
      "io.kubernetes.pod.namespace": "web",
      "io.kubernetes.pod.uid": "uid-)" +
         name + R"("},
    "linux": {"namespaces": [{"type": "network", "path": ")" +
         netns_path + "\"}]}}";
}

class PodIndexFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("pod_index_" + std::to_string(getpid()));
    fs::remove_all(root_);
    Proc(1, kHostNs);
  }
  void TearDown() override { fs::remove_all(root_); }

  // <root>/proc/PID/ns/net -> `ns`.
  void Proc(int pid, const std::string& ns) {
    fs::path dir = root_ / "proc" / std::to_string(pid) / "ns";
    fs::create_directories(dir);
    fs::create_symlink(ns, dir / "net");
  }
  void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  // A containerd bundle <root>/containerd/<ns>/<id>; no pid file if "".
  fs::path Containerd(const std::string& id, const std::string& config,
                      const std::string& pid,
                      const std::string& ns = "k8s.io") {
    fs::path dir = root_ / "containerd" / ns / id;
    Write(dir / "config.json", config);
    if (!pid.empty()) Write(dir / "init.pid", pid);
    fs::create_directories(dir / "rootfs");
    return dir;
  }
  // A CRI-O container <root>/crio/<id>/userdata; no pid file if "".
  fs::path Crio(const std::string& id, const std::string& config,
                const std::string& pid) {
    fs::path dir = root_ / "crio" / id / "userdata";
    Write(dir / "config.json", config);
    if (!pid.empty()) Write(dir / "pidfile", pid);
    return dir;
  }
  // A pinned namespace: a link to an nsfs file, where a runtime's bind
  // mount would be.
  std::string Pin(const std::string& name, const std::string& ns) {
    fs::create_directories(root_ / "netns");
    fs::create_symlink(ns, root_ / "netns" / name);
    return (root_ / "netns" / name).string();
  }

  std::string ContainerdRoot() const { return root_ / "containerd"; }
  std::string CrioRoot() const { return root_ / "crio"; }
  std::string ProcRoot() const { return root_ / "proc"; }

  PodIndex Build(const std::vector<std::string>& roots) {
    return BuildPodIndex(roots, ProcRoot());
  }

  fs::path root_;
};

TEST_F(PodIndexFixture, ContainerdSandboxByInitPid) {
  fs::path sandbox =
      Containerd("5b1d", ContainerdConfig("sandbox", "web-0", "u-1"), "100");
  Proc(100, kNsA);
  // Not a pod: e.g. a task of `ctr run` in another containerd namespace.
  Containerd("plain", R"({"ociVersion": "1.0.2-dev"})", "101", "default");
  Proc(101, kNsB);

  PodIndex index = Build({ContainerdRoot()});
  ASSERT_EQ(index.by_netns.size(), 1u);
  const PodNetns* p = index.Find(KeyOf(kNsA).first, KeyOf(kNsA).second);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pod.name, "web-0");
  EXPECT_EQ(p->pod.pod_namespace, "default");
  EXPECT_EQ(p->pod.uid, "u-1");
  EXPECT_EQ(p->pod.runtime, PodRuntime::kContainerd);
  EXPECT_EQ(p->runtime_dir, ContainerdRoot());
  EXPECT_EQ(p->bundle_dir, sandbox.string());
  EXPECT_EQ(p->pid, 100);
  EXPECT_EQ(p->netns_path, "");
  ASSERT_EQ(index.runtime_dirs.size(), 1u);
  EXPECT_TRUE(index.runtime_dirs[0].found);
  EXPECT_EQ(index.runtime_dirs[0].bundles, 2u);
  EXPECT_EQ(index.stats.bundles_seen, 2u);
  EXPECT_EQ(index.stats.configs_read, 2u);
  EXPECT_EQ(index.stats.not_pods, 1u);
  EXPECT_EQ(index.stats.configs_malformed, 0u);
  EXPECT_EQ(index.stats.unresolved, 0u);
  EXPECT_TRUE(index.host_netns_known);
}

TEST_F(PodIndexFixture, AppContainerNeverOverridesItsSandbox) {
  // The app container sorts first and claims another namespace; then one
  // that claims the sandbox's own namespace.
  Containerd("0aaa", ContainerdConfig("container", "web-0", "u-1"), "200");
  Proc(200, kNsB);
  Containerd("0bbb", ContainerdConfig("container", "web-0", "u-1"), "201");
  Proc(201, kNsA);
  fs::path sandbox =
      Containerd("9zzz", ContainerdConfig("sandbox", "web-0", "u-1"), "300");
  Proc(300, kNsA);

  PodIndex index = Build({ContainerdRoot()});
  ASSERT_EQ(index.by_netns.size(), 1u);
  const PodNetns& p = index.by_netns.begin()->second;
  EXPECT_EQ(p.key, KeyOf(kNsA));
  EXPECT_EQ(p.bundle_dir, sandbox.string());
  EXPECT_EQ(p.pid, 300);
  EXPECT_TRUE(p.pod.is_sandbox());
  EXPECT_EQ(index.stats.conflicts, 0u);
}

TEST_F(PodIndexFixture, AppContainerSpeaksForAPodWhoseSandboxIsGone) {
  Containerd("0aaa", ContainerdConfig("container", "web-0", "u-1"), "200");
  Proc(200, kNsB);
  Containerd("9zzz", ContainerdConfig("sandbox", "web-0", "u-1"), "300");
  // No proc/300: the pause process exited.

  PodIndex index = Build({ContainerdRoot()});
  ASSERT_EQ(index.by_netns.size(), 1u);
  const PodNetns& p = index.by_netns.begin()->second;
  EXPECT_EQ(p.key, KeyOf(kNsB));
  EXPECT_EQ(p.pod.container_type, "container");
  EXPECT_EQ(index.stats.pids_stale, 1u);
  EXPECT_EQ(index.stats.unresolved, 1u);
}

TEST_F(PodIndexFixture, UntypedPodAnnotationsCountBelowASandbox) {
  Containerd("0aaa", ContainerdConfig("", "other", "u-2"), "200");
  Proc(200, kNsA);
  Containerd("9zzz", ContainerdConfig("sandbox", "web-0", "u-1"), "300");
  Proc(300, kNsA);
  Containerd("untyped-alone", ContainerdConfig("", "solo", "u-3"), "400");
  Proc(400, kNsB);

  PodIndex index = Build({ContainerdRoot()});
  ASSERT_EQ(index.by_netns.size(), 2u);
  EXPECT_EQ(index.by_netns.at(KeyOf(kNsA)).pod.name, "web-0");
  EXPECT_EQ(index.by_netns.at(KeyOf(kNsB)).pod.name, "solo");
  EXPECT_EQ(index.stats.conflicts, 1u);
}

TEST_F(PodIndexFixture, CrioLayoutByPidfileAndByPinnedPathWithoutInfra) {
  std::string pin_a = Pin("0d6c1e5a", kNsA);
  std::string pin_b = Pin("7f00aa11", kNsB);
  Crio("aaaa", CrioConfig("sandbox", "api-1", pin_a), "500");
  Proc(500, kNsA);
  // drop_infra_ctr: a sandbox that never ran, so no pidfile.
  fs::path dropped = Crio("bbbb", CrioConfig("sandbox", "api-2", pin_b), "");
  // A container of api-1 (CRI-O puts every container here).
  Crio("cccc", CrioConfig("container", "api-1", pin_a), "501");
  Proc(501, kNsA);

  PodIndex index = Build({CrioRoot()});
  ASSERT_EQ(index.by_netns.size(), 2u);
  const PodNetns& a = index.by_netns.at(KeyOf(kNsA));
  EXPECT_EQ(a.pod.name, "api-1");
  EXPECT_EQ(a.pod.pod_namespace, "web");
  EXPECT_EQ(a.pod.uid, "uid-api-1");
  EXPECT_EQ(a.pod.runtime, PodRuntime::kCrio);
  EXPECT_TRUE(a.pod.is_sandbox());
  EXPECT_EQ(a.pid, 500);
  EXPECT_EQ(a.netns_path, pin_a);
  EXPECT_TRUE(NamedByRuntime(a, "0d6c1e5a"));
  EXPECT_FALSE(NamedByRuntime(a, "blue"));
  const PodNetns& b = index.by_netns.at(KeyOf(kNsB));
  EXPECT_EQ(b.pod.name, "api-2");
  EXPECT_EQ(b.pid, 0);
  EXPECT_EQ(b.netns_path, pin_b);
  EXPECT_EQ(b.bundle_dir, dropped.string());
  EXPECT_EQ(index.stats.bundles_seen, 3u);
  EXPECT_EQ(index.stats.pid_files_missing, 1u);
  EXPECT_EQ(index.stats.unresolved, 0u);
}

TEST_F(PodIndexFixture, MissingRootsAreReportedNotFatal) {
  Containerd("5b1d", ContainerdConfig("sandbox", "web-0", "u-1"), "100");
  Proc(100, kNsA);
  Write(root_ / "a-file", "x");
  PodIndex index = Build({(root_ / "absent").string(), ContainerdRoot(),
                          (root_ / "a-file").string()});
  ASSERT_EQ(index.runtime_dirs.size(), 3u);
  EXPECT_FALSE(index.runtime_dirs[0].found);
  EXPECT_FALSE(index.runtime_dirs[0].error);
  EXPECT_TRUE(index.runtime_dirs[1].found);
  EXPECT_EQ(index.runtime_dirs[1].bundles, 1u);
  EXPECT_FALSE(index.runtime_dirs[2].found);
  EXPECT_EQ(index.runtime_dirs[2].error, std::errc::not_a_directory);
  EXPECT_EQ(index.by_netns.size(), 1u);

  PodIndex none = Build({});
  EXPECT_TRUE(none.by_netns.empty());
  EXPECT_TRUE(none.runtime_dirs.empty());
}

TEST_F(PodIndexFixture, ARootThatIsOneContainerdNamespaceWorksToo) {
  Containerd("5b1d", ContainerdConfig("sandbox", "web-0", "u-1"), "100");
  Proc(100, kNsA);
  PodIndex index = Build({(root_ / "containerd/k8s.io").string()});
  EXPECT_EQ(index.by_netns.size(), 1u);
}

TEST_F(PodIndexFixture, MalformedAndHugeConfigsAreCountedAndSkipped) {
  Containerd("1bad", "{", "100");
  Containerd("2huge",
             "{\"x\": \"" + std::string(kMaxOciConfigBytes, 'x') + "\"}",
             "100");
  Containerd("3wrong", R"({"annotations": []})", "100");
  Containerd("4good", ContainerdConfig("sandbox", "web-0", "u-1"), "100");
  Proc(100, kNsA);
  // Junk that is not a bundle at all.
  Write(root_ / "containerd/k8s.io/5junk/notes.txt", "x");
  Write(root_ / "containerd/stray-file", "x");

  PodIndex index = Build({ContainerdRoot()});
  EXPECT_EQ(index.stats.bundles_seen, 4u);
  EXPECT_EQ(index.stats.configs_malformed, 3u);
  EXPECT_EQ(index.stats.first_malformed,
            (root_ / "containerd/k8s.io/1bad/config.json").string() +
                ": config.json is not valid JSON");
  ASSERT_EQ(index.by_netns.size(), 1u);
  EXPECT_EQ(index.by_netns.begin()->second.pod.name, "web-0");
}

TEST(PodIndexPidFile, ParsesOnlyAPid) {
  EXPECT_EQ(ParsePidFile("1"), 1);
  EXPECT_EQ(ParsePidFile("4242"), 4242);
  EXPECT_EQ(ParsePidFile("4242\n"), 4242);
  EXPECT_EQ(ParsePidFile("2147483647"), 2147483647);
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "", "\n", "0", "-5", "+5", " 5", "5 ", "5\n\n", "5\r\n", "0x10",
           "abc", "2147483648", "99999999999", "12a",
           std::string_view("5\0", 2)}) {
    EXPECT_FALSE(ParsePidFile(bad)) << bad;
  }
}

TEST_F(PodIndexFixture, GarbagePidFilesAreCounted) {
  Containerd("1", ContainerdConfig("sandbox", "p1", "u-1"), "abc");
  Containerd("2", ContainerdConfig("sandbox", "p2", "u-2"), "-100");
  Containerd("3", ContainerdConfig("sandbox", "p3", "u-3"),
             std::string(kMaxPidFileBytes + 1, '1'));
  Containerd("4", ContainerdConfig("sandbox", "p4", "u-4"), "100\n");
  Proc(100, kNsA);
  Write(root_ / "containerd/k8s.io/5/config.json",
        ContainerdConfig("sandbox", "p5", "u-5"));
  fs::create_directories(root_ / "containerd/k8s.io/5/init.pid");  // a dir

  PodIndex index = Build({ContainerdRoot()});
  EXPECT_EQ(index.stats.pid_files_malformed, 4u);
  EXPECT_EQ(index.stats.unresolved, 4u);
  ASSERT_EQ(index.by_netns.size(), 1u);
  EXPECT_EQ(index.by_netns.begin()->second.pod.name, "p4");
}

TEST_F(PodIndexFixture, APidThatExitedFallsBackToThePinnedPath) {
  Containerd("1", ContainerdConfig("sandbox", "gone", "u-1"), "4242");
  std::string pin = Pin("cni-1b2c", kNsB);
  Containerd("2", ContainerdConfig("sandbox", "pinned", "u-2", pin), "4243");
  // A pin whose bind mount we cannot see: an empty plain file.
  Write(root_ / "netns/cni-unseen", "");
  Containerd("3",
             ContainerdConfig("sandbox", "unseen", "u-3",
                              (root_ / "netns/cni-unseen").string()),
             "");

  PodIndex index = Build({ContainerdRoot()});
  EXPECT_EQ(index.stats.pids_stale, 2u);
  EXPECT_EQ(index.stats.pid_files_missing, 1u);
  EXPECT_EQ(index.stats.netns_paths_unusable, 1u);
  EXPECT_EQ(index.stats.unresolved, 2u);
  ASSERT_EQ(index.by_netns.size(), 1u);
  const PodNetns& p = index.by_netns.at(KeyOf(kNsB));
  EXPECT_EQ(p.pod.name, "pinned");
  EXPECT_EQ(p.pid, 0);
  EXPECT_EQ(p.netns_path, pin);
}

TEST_F(PodIndexFixture, APinnedPathWinsOverARecycledPid) {
  std::string pin = Pin("cni-1b2c", kNsB);
  Containerd("1", ContainerdConfig("sandbox", "web-0", "u-1", pin), "100");
  Proc(100, kNsA);  // pid 100 is now someone else, elsewhere
  PodIndex index = Build({ContainerdRoot()});
  EXPECT_EQ(index.stats.pid_path_mismatches, 1u);
  ASSERT_EQ(index.by_netns.size(), 1u);
  const PodNetns& p = index.by_netns.at(KeyOf(kNsB));
  EXPECT_EQ(p.pid, 0);
  EXPECT_EQ(p.netns_path, pin);
}

TEST_F(PodIndexFixture, HostNetworkPodsLabelNothing) {
  Containerd("1", ContainerdConfig("sandbox", "kube-proxy-x", "u-1"), "100");
  Proc(100, kHostNs);
  Containerd("2", ContainerdConfig("container", "kube-proxy-x", "u-1"), "101");
  Proc(101, kHostNs);
  PodIndex index = Build({ContainerdRoot()});
  EXPECT_TRUE(index.by_netns.empty());
  EXPECT_EQ(index.stats.host_network, 1u);  // the container is not tried
}

TEST_F(PodIndexFixture, TwoSandboxesOnOneNamespaceKeepTheBetterClaim) {
  Containerd("1", ContainerdConfig("sandbox", "first", "u-1"), "100");
  Proc(100, kNsA);
  std::string pin = Pin("cni-2", kNsA);
  Containerd("2", ContainerdConfig("sandbox", "agreeing", "u-2", pin), "101");
  Proc(101, kNsA);
  Containerd("3", ContainerdConfig("sandbox", "third", "u-3"), "102");
  Proc(102, kNsA);
  PodIndex index = Build({ContainerdRoot()});
  EXPECT_EQ(index.stats.conflicts, 2u);
  ASSERT_EQ(index.by_netns.size(), 1u);
  EXPECT_EQ(index.by_netns.begin()->second.pod.name, "agreeing");
}

TEST_F(PodIndexFixture, TheCacheRereadsOnlyNewAndChangedConfigs) {
  Containerd("1", ContainerdConfig("sandbox", "one", "u-1"), "100");
  Proc(100, kNsA);
  fs::path two =
      Containerd("2", ContainerdConfig("sandbox", "two", "u-2"), "101");
  Proc(101, kNsB);
  Containerd("3", "{", "");

  PodIndexer indexer({ContainerdRoot()}, ProcRoot());
  PodIndex first = indexer.Scan();
  EXPECT_EQ(first.stats.configs_read, 3u);
  EXPECT_EQ(first.by_netns.size(), 2u);
  EXPECT_EQ(indexer.cached_configs(), 3u);

  PodIndex again = indexer.Scan();
  EXPECT_EQ(again.stats.configs_read, 0u);
  EXPECT_EQ(again.stats.configs_malformed, 1u);  // remembered, not reread
  EXPECT_EQ(again.by_netns.size(), 2u);
  EXPECT_EQ(again.by_netns.at(KeyOf(kNsB)).pod.name, "two");

  // Rewritten in place (another size), and replaced by a rename with the
  // same size: both noticed without relying on the clock.
  Write(two / "config.json", ContainerdConfig("sandbox", "two-renamed", "u-2"));
  Write(root_ / "tmp.json", ContainerdConfig("sandbox", "uno", "u-1"));
  fs::rename(root_ / "tmp.json", root_ / "containerd/k8s.io/1/config.json");
  // A pid file is read every scan: the pod moved.
  Write(two / "init.pid", "102");
  Proc(102, kNsC);
  PodIndex changed = indexer.Scan();
  EXPECT_EQ(changed.stats.configs_read, 2u);
  EXPECT_EQ(changed.by_netns.at(KeyOf(kNsA)).pod.name, "uno");
  EXPECT_EQ(changed.by_netns.at(KeyOf(kNsC)).pod.name, "two-renamed");
  EXPECT_EQ(changed.by_netns.count(KeyOf(kNsB)), 0u);

  // A removed bundle leaves the cache; an added one is read.
  fs::remove_all(root_ / "containerd/k8s.io/1");
  Containerd("4", ContainerdConfig("sandbox", "four", "u-4"), "100");
  PodIndex later = indexer.Scan();
  EXPECT_EQ(later.stats.configs_read, 1u);
  EXPECT_EQ(indexer.cached_configs(), 3u);
  EXPECT_EQ(later.by_netns.at(KeyOf(kNsA)).pod.name, "four");
}

TEST_F(PodIndexFixture, BundlesBeingDeletedAreSkipped) {
  // containerd renames a bundle to ".<id>" before removing it.
  Containerd(".5b1d", ContainerdConfig("sandbox", "web-0", "u-1"), "100");
  Proc(100, kNsA);
  PodIndex index = Build({ContainerdRoot()});
  EXPECT_EQ(index.stats.bundles_seen, 0u);
  EXPECT_TRUE(index.by_netns.empty());
}

TEST(PodIndexDefaults, ContainerdK3sAndCrio) {
  EXPECT_EQ(DefaultRuntimeDirs(),
            (std::vector<std::string>{
                "/run/containerd/io.containerd.runtime.v2.task",
                "/run/k3s/containerd/io.containerd.runtime.v2.task",
                "/run/containers/storage/overlay-containers"}));
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

// On this machine's /proc: a "sandbox" whose init.pid is this process
// resolves to our own network namespace; that is the host's when we run
// in PID 1's namespace, which the index must not give to a pod.
TEST_F(PodIndexFixture, RealProcOurOwnPid) {
  Containerd("self", ContainerdConfig("sandbox", "self", "u-self"),
             std::to_string(getpid()));
  PodIndex index = BuildPodIndex({ContainerdRoot()}, "/proc");
  NetnsKey own = KeyOf("/proc/self/ns/net");
  struct stat init {};
  // Needs ptrace access to PID 1: denied in some sandboxes even to root.
  bool init_visible = stat("/proc/1/ns/net", &init) == 0;
  EXPECT_EQ(index.host_netns_known, init_visible);
  if (init_visible && NetnsKey{init.st_dev, init.st_ino} == own) {
    EXPECT_TRUE(index.by_netns.empty());
    EXPECT_EQ(index.stats.host_network, 1u);
  } else {
    ASSERT_EQ(index.by_netns.size(), 1u);
    EXPECT_EQ(index.by_netns.begin()->first, own);
    EXPECT_EQ(index.by_netns.begin()->second.pid, getpid());
  }
}

// On this machine's /proc: a child in a network namespace of its own, as a
// pause process is.
TEST_F(PodIndexFixture, RealProcAChildInItsOwnNetns) {
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    close(release[1]);
    char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    char c;
    while (read(release[0], &c, 1) > 0) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  char ok = 'n';
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  struct Reap {
    pid_t pid;
    int fd;
    ~Reap() {
      close(fd);
      waitpid(pid, nullptr, 0);
    }
  } reap{child, release[1]};
  if (ok != 'y') {
    std::string why = "unshare(CLONE_NEWNET) failed: needs CAP_SYS_ADMIN";
    if (InCi()) GTEST_FAIL() << "CI=true and this test cannot run: " << why;
    GTEST_SKIP() << why;
  }

  Containerd("pause", ContainerdConfig("sandbox", "web-0", "u-1"),
             std::to_string(child));
  PodIndex index = BuildPodIndex({ContainerdRoot()}, "/proc");
  NetnsKey theirs = KeyOf("/proc/" + std::to_string(child) + "/ns/net");
  EXPECT_NE(theirs, KeyOf("/proc/self/ns/net"));
  ASSERT_EQ(index.by_netns.size(), 1u);
  EXPECT_EQ(index.by_netns.begin()->first, theirs);
  EXPECT_EQ(index.by_netns.begin()->second.pid, child);
  EXPECT_EQ(index.by_netns.begin()->second.pod.name, "web-0");
}

}  // namespace
}  // namespace ctcollect
