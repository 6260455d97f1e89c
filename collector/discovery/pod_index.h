// Which Kubernetes pod owns which network namespace, from what the CRI
// runtimes leave on disk for every task: an OCI bundle directory holding
// the config.json they gave the OCI runtime (pod annotations, maybe a
// pinned netns path) and the pid file runc wrote. Discovery joins the
// result with its namespace scan (netns_scan.h) by (device, inode).
//
// Layouts, as read in the runtimes' sources:
// - containerd 1.6 runtime v2 (and k3s, which embeds it): the bundle is
//   <state>/io.containerd.runtime.v2.task/<containerd-ns>/<task-id>/
//   (runtime/v2/bundle.go NewBundle: Path = filepath.Join(state, ns, id),
//   config.json written there, plus a `rootfs` dir and a `work` symlink;
//   Delete renames the dir to ".<id>" before removing it). The shim's runc
//   writes `init.pid` in it (pkg/process/utils.go InitPidFile = "init.pid",
//   newPidFile(bundle); pkg/process/init.go passes it as runc --pid-file),
//   read back with strconv.Atoi, i.e. bare decimal digits. The CRI plugin
//   uses containerd namespace "k8s.io" (pkg/cri/constants), annotates the
//   sandbox with io.kubernetes.cri.container-type=sandbox and
//   sandbox-name/-namespace/-uid (pkg/cri/server/sandbox_run_linux.go), and
//   pins its netns at /var/run/netns/cni-<uuid> (pkg/cri/server/
//   sandbox_run.go, netns.NewNetNS). Its app containers carry the same
//   sandbox-* annotations with container-type=container and join the
//   sandbox's netns by the path /proc/<sandbox pid>/ns/net
//   (pkg/cri/server/container_create_linux.go, pkg/cri/opts/spec_linux.go).
// - CRI-O (checked at v1.36.3): the bundle is the container's run directory
//   <runroot>/<driver>-containers/<id>/userdata, i.e.
//   /run/containers/storage/overlay-containers/<id>/userdata with the
//   overlay driver (containers/storage store.go ContainerRunDirectory;
//   server/sandbox_run_linux.go configureAndSaveInfraContainer writes
//   config.json there, and a copy under the graph root). conmon gets
//   `-p <bundle>/pidfile` (internal/oci/runtime_oci.go) and hands it to
//   runc. The sandbox has io.kubernetes.cri-o.ContainerType=sandbox and
//   the kubelet's io.kubernetes.pod.{name,namespace,uid} labels copied into
//   its annotations. With drop_infra_ctr (the default) the sandbox has no
//   process and so no pidfile, but config.json is still written and names
//   the netns pinned by pinns: the netns path is then the only way in.
//
// Which bundles count: a sandbox (container-type "sandbox") is the pod's
// own claim. A bundle with pod annotations but no container type (a
// runtime that did not say) is taken when no sandbox claims the same
// namespace. An app container ("container") of a pod shares the
// sandbox's namespace, so it is only a fallback for a pod none of whose
// sandbox bundles resolved; it never overrides a sandbox. A host-network
// pod resolves to the namespace of <proc_root>/1, which belongs to no pod:
// such claims are dropped (and a recycled pid, now a host process, with
// them).
//
// Finding a bundle's namespace: stat <proc_root>/<pid>/ns/net for the pid
// in the pid file, and the config's network namespace path (only if it is
// an nsfs file: a bind mount not propagated into our mount namespace leaves
// an empty plain file). When both resolve and disagree, the pinned path
// wins: a pid can be recycled, a pinned nsfs inode cannot while it is
// pinned.
//
// Outside bytes everywhere: config.json is capped (kMaxOciConfigBytes), the
// pid file is capped at kMaxPidFileBytes and parsed strictly, the number of
// bundles looked at per scan is capped. Nothing throws; every problem is a
// counter in PodIndexStats (and the first malformed config.json's error).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "collector/discovery/oci_bundle.h"

namespace ctcollect {

inline constexpr size_t kMaxPidFileBytes = 32;
// Bundle directories looked at per scan, over all roots (a node runs a few
// hundred pods, each with a few containers).
inline constexpr size_t kMaxPodIndexBundles = 16384;

// containerd, k3s's containerd, CRI-O with the overlay storage driver.
std::vector<std::string> DefaultRuntimeDirs();

// Parses a runc pid file: decimal digits of a pid > 0, optionally one
// trailing newline, nothing else.
std::optional<pid_t> ParsePidFile(std::string_view text);

using NetnsKey = std::pair<dev_t, uint64_t>;  // (st_dev, st_ino) of nsfs

struct PodNetns {
  NetnsKey key{};
  PodInfo pod;
  std::string runtime_dir;  // the root it was found under
  std::string bundle_dir;
  // The network namespace path in the bundle's config.json when the runtime
  // pinned one that resolved to this namespace (e.g.
  // /var/run/netns/cni-1b2c...), else "". A /proc/PID/ns/net path (how
  // containerd's app containers join) is not a pin and is left out.
  std::string netns_path;
  pid_t pid = 0;  // from the pid file, when it led here; 0 otherwise
};

// True when `name` (an entry of a /run/netns-like directory naming this
// namespace) is the runtime's pin, not a name a person gave: the caller
// then labels with the pod rather than the name.
bool NamedByRuntime(const PodNetns& pod, std::string_view name);

struct RuntimeDirStatus {
  std::string path;
  bool found = false;     // could be opened as a directory
  std::error_code error;  // the opendir error, unless it was ENOENT
  size_t bundles = 0;     // directories holding a config.json
};

struct PodIndexStats {
  size_t bundles_seen = 0;          // directories holding a config.json
  size_t bundles_over_limit = 0;    // not looked at: kMaxPodIndexBundles
  size_t configs_read = 0;          // read and parsed (not from the cache)
  size_t configs_malformed = 0;     // unreadable, too big or bad JSON
  std::string first_malformed;      // "path: why" of the first of those
  size_t not_pods = 0;              // no CRI pod annotations
  size_t pid_files_missing = 0;     // no pid file (not started, no infra)
  size_t pid_files_malformed = 0;   // unreadable, too long or not a pid
  size_t pids_stale = 0;            // the pid's process is gone
  size_t pids_unreadable = 0;       // its ns/net could not be stat'ed
  size_t netns_paths_unusable = 0;  // set but missing, or not nsfs
  size_t pid_path_mismatches = 0;   // both resolved, differently
  size_t unresolved = 0;            // pod bundles with no namespace found
  size_t host_network = 0;          // resolved to <proc_root>/1's namespace
  // Two pods claimed one namespace (the better claim is kept: a sandbox
  // before an app container, agreeing pid and path before one of them,
  // else the first bundle in path order).
  size_t conflicts = 0;
};

struct PodIndex {
  std::map<NetnsKey, PodNetns> by_netns;
  std::vector<RuntimeDirStatus> runtime_dirs;  // in the order given
  // Whether <proc_root>/1/ns/net could be stat'ed (it takes ptrace access
  // to PID 1). If not, host-network pods are not told apart: they would
  // name the host's namespace.
  bool host_netns_known = false;
  PodIndexStats stats;

  const PodNetns* Find(dev_t dev, uint64_t inode) const;
};

// Scans `roots` with a cache of parsed config.json files: a rescan only
// reads config.json files that are new or changed (path, device, inode,
// size, mtime and ctime). Pid files and namespaces are looked at every
// scan: they are what changes. Entries of bundles gone from a scan are
// dropped from the cache.
//
// Not thread-safe: one discovery thread owns it. Blocking file-system I/O.
class PodIndexer {
 public:
  explicit PodIndexer(std::vector<std::string> roots,
                      std::string proc_root = "/proc");

  PodIndex Scan();

  size_t cached_configs() const { return cache_.size(); }

 private:
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const FileId&) const = default;
  };
  struct CachedConfig {
    FileId id;
    OciBundleResult parsed;
  };

  // The parsed config.json at `path`, from the cache when unchanged.
  const OciBundleResult* Config(const std::string& path, const struct stat& st,
                                PodIndexStats* stats,
                                std::map<std::string, CachedConfig>* next);

  std::vector<std::string> roots_;
  std::string proc_root_;
  std::map<std::string, CachedConfig> cache_;  // by config.json path
};

// One scan without a cache. Thread-safe (no shared state).
PodIndex BuildPodIndex(const std::vector<std::string>& roots,
                       const std::string& proc_root = "/proc");

}  // namespace ctcollect
