#include "collector/discovery/netns_scan.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

namespace ctcollect {
namespace {

namespace fs = std::filesystem;

const DiscoveredNetns* Find(const NetnsScan& scan, uint64_t inode) {
  for (const DiscoveredNetns& ns : scan.namespaces) {
    if (ns.inode == inode) return &ns;
  }
  return nullptr;
}

struct stat StatOrDie(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st;
}

// A fixture tree: processes whose ns/net are links to this process's own
// namespace file (stat follows them to nsfs, as it does in /proc), one
// that exited, a mountinfo and a name directory.
class NetnsScanFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("netns_scan_" + std::to_string(getpid()));
    fs::remove_all(root_);
    for (const char* pid : {"1", "42"}) {
      fs::create_directories(root_ / "proc" / pid / "ns");
      fs::create_symlink("/proc/self/ns/net", root_ / "proc" / pid / "ns/net");
    }
    fs::create_directories(root_ / "proc/77");  // exited: no ns/
    fs::create_directories(root_ / "proc/self/ns");
    fs::create_directories(root_ / "proc/0x10/ns");
    std::ofstream(root_ / "mountinfo")
        << "22 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
        << "46 45 0:4 net:[123] /run/netns/gone rw shared:2 - nsfs nsfs rw\n"
        << "47 45 0:4 net:[123] /run/docker/netns/1a rw - nsfs nsfs rw\n"
        << "not a mountinfo line\n";
    fs::create_directories(root_ / "names");
    fs::create_symlink("/proc/self/ns/net", root_ / "names/zeta");
    fs::create_symlink("/proc/self/ns/net", root_ / "names/alpha");
    std::ofstream(root_ / "names/stale");  // namespace deleted, file left
    fs::create_directories(root_ / "names2");
    fs::create_symlink("/proc/self/ns/net", root_ / "names2/aaa");
  }
  void TearDown() override { fs::remove_all(root_); }

  NetnsScanPaths Paths() const {
    NetnsScanPaths p;
    p.proc_root = root_ / "proc";
    p.mountinfo = root_ / "mountinfo";
    p.name_dirs = {root_ / "names", root_ / "names2", root_ / "absent"};
    return p;
  }

  fs::path root_;
};

TEST_F(NetnsScanFixture, DeduplicatesByDeviceAndInode) {
  NetnsScan scan = ScanNetns(Paths());
  EXPECT_FALSE(scan.error) << scan.error_path << ": " << scan.error.message();
  struct stat own = StatOrDie("/proc/self/ns/net");
  ASSERT_EQ(scan.namespaces.size(), 2u);

  const DiscoveredNetns* self = Find(scan, own.st_ino);
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->dev, own.st_dev);
  EXPECT_EQ(self->lowest_pid, 1);
  EXPECT_EQ(self->name, "alpha");  // smallest name of the first directory
  EXPECT_TRUE(self->mount_paths.empty());

  const DiscoveredNetns* mounted = Find(scan, 123);
  ASSERT_NE(mounted, nullptr);
  EXPECT_EQ(mounted->dev, makedev(0, 4));
  EXPECT_EQ(mounted->lowest_pid, 0);
  EXPECT_EQ(mounted->name, "");
  EXPECT_EQ(
      mounted->mount_paths,
      (std::vector<std::string>{"/run/docker/netns/1a", "/run/netns/gone"}));

  EXPECT_EQ(scan.stats.pids_seen, 3u);
  EXPECT_EQ(scan.stats.pids_vanished, 1u);
  EXPECT_EQ(scan.stats.pids_unreadable, 0u);
  EXPECT_EQ(scan.stats.mountinfo_skipped, 1u);
  EXPECT_EQ(scan.stats.name_entries_skipped, 1u);
}

TEST_F(NetnsScanFixture, AMissingProcRootIsAnErrorButTheRestStillCounts) {
  NetnsScanPaths p = Paths();
  p.proc_root = root_ / "nothing";
  NetnsScan scan = ScanNetns(p);
  EXPECT_EQ(scan.error, std::errc::no_such_file_or_directory);
  EXPECT_EQ(scan.error_path, p.proc_root);
  EXPECT_EQ(scan.namespaces.size(), 2u);  // from mountinfo and the names
}

TEST(NetnsLabel, NameThenPodThenInode) {
  DiscoveredNetns ns;
  ns.inode = 4026532281;
  PodInfo pod;
  pod.name = "web-0";
  pod.pod_namespace = "default";
  EXPECT_EQ(NetnsLabel(ns, nullptr), "inode:4026532281");
  EXPECT_EQ(NetnsLabel(ns, &pod), "default/web-0");
  ns.name = "blue";
  EXPECT_EQ(NetnsLabel(ns, &pod), "blue");
  ns.name = "";
  pod.name = "";
  EXPECT_EQ(NetnsLabel(ns, &pod), "inode:4026532281");
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

// `ip netns add NAME` for the life of the object.
class IpNetns {
 public:
  explicit IpNetns(std::string name) : name_(std::move(name)) {
    ok_ = std::system(("ip netns add " + name_ + " 2>/dev/null").c_str()) == 0;
  }
  ~IpNetns() {
    if (ok_) std::system(("ip netns delete " + name_).c_str());
  }
  bool ok() const { return ok_; }

 private:
  std::string name_;
  bool ok_ = false;
};

TEST(NetnsScanHost, FindsAnIpNetnsAndOurOwnNamespace) {
  std::string why;
  if (geteuid() != 0) why = "needs root to run `ip netns add`";
  std::string name = "ctc-disc-" + std::to_string(getpid());
  std::unique_ptr<IpNetns> netns;
  if (why.empty()) {
    netns = std::make_unique<IpNetns>(name);
    if (!netns->ok()) why = "`ip netns add " + name + "` failed";
  }
  if (!why.empty()) {
    if (InCi()) GTEST_FAIL() << "CI=true and this test cannot run: " << why;
    GTEST_SKIP() << why;
  }

  NetnsScan scan = ScanNetns(NetnsScanPaths{});
  EXPECT_FALSE(scan.error) << scan.error_path << ": " << scan.error.message();

  // What `stat -L -c %i /run/netns/NAME` prints.
  struct stat named = StatOrDie("/run/netns/" + name);
  const DiscoveredNetns* found = Find(scan, named.st_ino);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->dev, named.st_dev);
  EXPECT_EQ(found->name, name);
  EXPECT_EQ(NetnsLabel(*found, nullptr), name);
  EXPECT_NE(std::find(found->mount_paths.begin(), found->mount_paths.end(),
                      "/run/netns/" + name),
            found->mount_paths.end());

  struct stat own = StatOrDie("/proc/self/ns/net");
  const DiscoveredNetns* self = Find(scan, own.st_ino);
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->dev, own.st_dev);
  EXPECT_GT(self->lowest_pid, 0);
  EXPECT_LE(self->lowest_pid, getpid());
}

}  // namespace
}  // namespace ctcollect
