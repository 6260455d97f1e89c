// --netns.discover: finds every network namespace of the host and keeps
// the NetnsSet watching exactly those. One thread scans (netns_scan: every
// /proc/PID/ns/net, nsfs mounts, /run/netns-like directories), asks the
// container runtimes' bundles which pod owns each (pod_index), labels them
// (the ip netns name; else POD_NAMESPACE/POD_NAME; else inode:N) and hands
// the result to NetnsSet::Reconcile. It scans every `interval`, and within
// moments of a change in a name directory (inotify), so a namespace `ip
// netns add` makes is watched within a second or two.
//
// A name the runtime gave its own pin (containerd's /run/netns/cni-UUID)
// is not a name anyone typed: such a namespace is labelled by its pod.
//
// Thread safety: ScanOnce/Start/Stop from the owning (main) thread.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "collector/base/log.h"
#include "collector/base/mutex.h"
#include "collector/discovery/netns_scan.h"
#include "collector/discovery/pod_index.h"
#include "collector/watch/netns_set.h"

namespace ctcollect {

struct DiscoveryOptions {
  std::chrono::milliseconds interval{5000};
  std::vector<std::string> runtime_dirs;  // empty: DefaultRuntimeDirs()
  NetnsScanPaths scan;
};

// The namespaces of `scan` as the set should watch them, labelled with
// what `pods` says (pure; for tests).
std::vector<FoundNetns> LabelNetns(const NetnsScan& scan, const PodIndex& pods,
                                   const std::string& proc_root);

class NetnsDiscovery {
 public:
  NetnsDiscovery(DiscoveryOptions opts, NetnsSet* set);
  ~NetnsDiscovery();
  NetnsDiscovery(const NetnsDiscovery&) = delete;
  NetnsDiscovery& operator=(const NetnsDiscovery&) = delete;

  // One scan, reconciled into the set (start-up, before the set starts,
  // so readiness waits for what is there already).
  void ScanOnce();
  void Start();
  void Stop();

 private:
  void Loop();
  // Watches the name directories that exist and are not watched yet.
  void WatchNameDirs();

  const DiscoveryOptions opts_;
  NetnsSet* const set_;
  PodIndexer pods_;
  DiscoverySnapshot stats_;
  bool runtime_reported_ = false;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;
  std::vector<int> watches_;  // per name directory, -1 while not watched
  std::thread thread_;
  RateLimitedLog scan_log_{LogLevel::kWarn, std::chrono::seconds(60)};
  RateLimitedLog bundle_log_{LogLevel::kWarn, std::chrono::seconds(60)};
};

}  // namespace ctcollect
