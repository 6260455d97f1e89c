#include "collector/watch/netns_discovery.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

DiscoveredNetns Ns(uint64_t inode, std::string name,
                   std::vector<std::string> mounts, pid_t pid) {
  DiscoveredNetns d;
  d.dev = 4;
  d.inode = inode;
  d.name = std::move(name);
  d.mount_paths = std::move(mounts);
  d.lowest_pid = pid;
  return d;
}

PodNetns Pod(uint64_t inode, std::string name, std::string netns_path) {
  PodNetns p;
  p.key = {4, inode};
  p.pod.name = std::move(name);
  p.pod.pod_namespace = "shop";
  p.pod.uid = "u-" + std::to_string(inode);
  p.pod.container_type = "sandbox";
  p.pod.runtime = PodRuntime::kCrio;
  p.netns_path = std::move(netns_path);
  return p;
}

TEST(LabelNetns, NameThenPodThenInodeAndTheRuntimesOwnNamesGiveWay) {
  NetnsScan scan;
  // A name a person gave; a pod's namespace the runtime pinned under a
  // name of its own; a pod's namespace only its process holds; neither.
  scan.namespaces = {
      Ns(100, "blue", {"/run/netns/blue"}, 0),
      Ns(101, "cni-1b2c", {"/run/netns/cni-1b2c"}, 0),
      Ns(102, "", {}, 4242),
      Ns(103, "", {}, 77),
      Ns(104, "", {}, 0),  // no way in: skipped
  };
  PodIndex pods;
  pods.by_netns[{4, 101}] = Pod(101, "web-1", "/var/run/netns/cni-1b2c");
  pods.by_netns[{4, 102}] = Pod(102, "db-0", "");
  pods.by_netns[{4, 100}] = Pod(100, "named-by-hand", "/somewhere/else");
  auto found = LabelNetns(scan, pods, "/proc");
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].label, "blue");  // a person's name wins over the pod
  EXPECT_EQ(found[0].path, "/run/netns/blue");
  EXPECT_EQ(found[0].identity.pod, "named-by-hand");
  EXPECT_EQ(found[1].label, "shop/web-1");
  EXPECT_EQ(found[1].identity.runtime, "cri-o");
  EXPECT_EQ(found[1].identity.pod_uid, "u-101");
  EXPECT_EQ(found[2].label, "shop/db-0");
  EXPECT_EQ(found[2].path, "/proc/4242/ns/net");
  EXPECT_EQ(found[3].label, "inode:103");
  EXPECT_EQ(found[3].identity.pod, "");
  EXPECT_EQ(found[3].identity.runtime, "");
  EXPECT_EQ(found[3].id.inode, 103u);
}

}  // namespace
}  // namespace ctcollect
