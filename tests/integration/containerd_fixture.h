// A private containerd for one test, and "pods" run by it the way the CRI
// plugin would leave them on disk: a task in containerd namespace k8s.io
// whose OCI bundle config.json carries the io.kubernetes.cri.* sandbox
// annotations, whose init (busybox sleep) runs in a network namespace of
// its own (runc makes it and brings lo up), with init.pid in the bundle.
// The daemon under test is pointed at task_root() as a runtime dir.
//
// Everything lives under one temp dir (/tmp/ctcd-<pid>-XXXXXX): containerd's
// --root and --state, its socket, runc's state, the busybox rootfs. Three
// things containerd 1.6 puts elsewhere whatever its config says: the shims'
// sockets (/run/containerd/s/<sha256>, a constant in runtime/v2/shim), the
// cgroups (here /ctct-itest-<pid>/<id> in each hierarchy, removed at the
// end) and an empty /run/containerd/s left behind. Nothing is pulled: the
// rootfs is /bin/busybox (static) and its links.
//
// The destructor (also after a failed assertion) kills and deletes the
// tasks, stops containerd and its shims, removes the cgroups and the temp
// dir. A test process killed outright leaves them; the next fixture of a
// later process sweeps what dead processes left (as TestNetns does).
//
// Thread safety: one thread owns a ContainerdFixture; commands in pods
// (RunInPod) may run from any thread while the pod runs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/test_netns.h"

namespace ctcollect::itest {

struct ContainerdPod {
  std::string id;  // the containerd container and task id
  std::string name;
  std::string pod_namespace;
  std::string uid;
  std::string bundle_dir;  // task_root()/k8s.io/<id>
  pid_t pid = 0;           // the task's init (sleep), from init.pid
  dev_t netns_dev = 0;     // stat of /proc/<pid>/ns/net
  uint64_t netns_inode = 0;
  double start_seconds = 0;  // how long `ctr run` took
};

class ContainerdFixture {
 public:
  // Why this process cannot run a private containerd, "" if it can: needs
  // root, containerd, ctr, runc, nsenter, nft and a static busybox.
  static std::string Missing();

  // Builds the rootfs and starts containerd (waits for its socket, up to
  // 20 s). Check ok() and error() (log() has containerd's output).
  ContainerdFixture();
  ~ContainerdFixture();
  ContainerdFixture(const ContainerdFixture&) = delete;
  ContainerdFixture& operator=(const ContainerdFixture&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  const std::string& address() const { return address_; }
  // <state>/io.containerd.runtime.v2.task: the bundle root to scan.
  std::string task_root() const;
  double start_seconds() const { return start_seconds_; }
  std::string log() const;  // containerd's stdout and stderr so far

  // Runs a sandbox-annotated task sleeping in a new network namespace;
  // nullopt (and error() says why) if it does not start.
  std::optional<ContainerdPod> RunPod(const std::string& name,
                                      const std::string& pod_namespace,
                                      const std::string& uid);
  // Kills and deletes the task and the container; false if ctr failed.
  bool StopPod(const ContainerdPod& pod);
  const std::vector<ContainerdPod>& pods() const { return pods_; }

  // Runs a /bin/sh command line of the host (its tools: ping, nc of
  // busybox, conntrack, nft) in the pod's network namespace only.
  CommandResult RunInPod(const ContainerdPod& pod,
                         const std::string& cmd) const;
  // Loads the ruleset TestNetns loads, so that the pod's namespace tracks
  // its loopback traffic.
  bool EnableConntrack(const ContainerdPod& pod) const;

  // `ctr --address ... -n k8s.io ARGS`, 30 s at most.
  CommandResult Ctr(const std::string& args) const;

 private:
  bool BuildRootfs();
  bool StartContainerd();
  void StopContainerd();
  bool DeletePod(const std::string& id);

  std::string dir_, address_, cgroup_parent_;
  pid_t containerd_pid_ = -1;
  bool ok_ = false;
  std::string error_;
  double start_seconds_ = 0;
  int next_pod_ = 0;
  std::vector<ContainerdPod> pods_;
};

}  // namespace ctcollect::itest

// Skips the current test, saying why, when this process cannot run a
// private containerd (see ContainerdFixture::Missing); fails it in CI.
#define REQUIRE_CONTAINERD()                                            \
  do {                                                                  \
    std::string why = ::ctcollect::itest::ContainerdFixture::Missing(); \
    if (!why.empty()) SKIP_UNLESS_CI("containerd test " + why);         \
  } while (0)
