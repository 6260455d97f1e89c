// The set of watched network namespaces, as one SnapshotSource: the ones
// asked for by name (--netns, or the daemon's own) and, with
// --netns.discover, every other one NetnsDiscovery finds.
//
// The watchers share two pools: an IngestPool whose few threads read every
// namespace's events, and a WorkerPool that runs their dumps, at most a few
// at once. A namespace costs no thread of its own.
//
// A namespace named on the command line can go away while the daemon runs
// (`ip netns delete`, the process of a /proc/PID/ns/net path exits) and come
// back under the same name. Once a second the collector's supervisor checks
// each one: a namespace no longer named is dropped (its watcher stops and
// closes every socket and handle it held in there, so the daemon does not
// keep a deleted namespace alive, and its metrics go away); one that is
// named again gets a fresh watcher, which starts with a dump. A discovered
// namespace that goes away is let go of the same way, but that is normal
// and not counted as missing.
//
// Thread safety: Add/Start/Stop from the main thread; Reconcile from one
// thread (discovery's); everything else from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "collector/base/log.h"
#include "collector/base/mutex.h"
#include "collector/base/worker_pool.h"
#include "collector/flows/snapshot.h"
#include "collector/watch/ingest_pool.h"
#include "collector/watch/netns_watcher.h"

namespace ctcollect {

struct NetnsSetOptions {
  WatcherOptions watcher;     // for the namespaces asked for by name
  size_t ingest_threads = 0;  // 0: one per core
  // Threads running dumps. One: the kernel runs the first part of every
  // ctnetlink dump under the nfnetlink subsystem mutex, and for a small
  // namespace that part is the whole dump (a walk of every bucket of the
  // host-wide conntrack hash, ~5 ms at 262,144 buckets): a second thread
  // spins on the mutex meanwhile (measured: a third of the CPU of 300
  // namespaces resyncing every 5 s). The dump thread still overlaps the
  // kernel's work with the ingest threads' parsing.
  size_t dump_threads = 1;
  // Discovered namespaces: the whole catalogue (--netns.detail=full) or
  // the summary, and the event socket's first receive buffer (it doubles
  // on overrun up to watcher.buffer_max).
  bool discovered_full_detail = false;
  // ... and the whole catalogue for those whose label matches one of these
  // (LabelMatches).
  std::vector<std::string> full_detail_labels;
  size_t discovered_buffer_size = 256u << 10;
};

// Whether `label` is one of `patterns`: equal to one, or starting with one
// that ends in '*' (less the '*').
bool LabelMatches(const std::string& label,
                  const std::vector<std::string>& patterns);

// A namespace discovery found, as the set should watch it.
struct FoundNetns {
  NetnsId id;
  std::string path;   // where to open it
  std::string label;  // the netns label (name, pod, or inode:N)
  NetnsIdentity identity;
};

class NetnsSet : public SnapshotSource {
 public:
  explicit NetnsSet(const NetnsSetOptions& opts);
  ~NetnsSet() override;
  NetnsSet(const NetnsSet&) = delete;
  NetnsSet& operator=(const NetnsSet&) = delete;

  // Watches `ns` (start-up, in --netns order): opens its sockets. Throws
  // std::system_error.
  void Add(NetnsHandle ns);
  void Start();
  void Stop();
  // Makes the discovered namespaces those of `found` (deduplicated against
  // the named ones by inode): watches the new ones, lets go of the ones
  // gone, and starts afresh those whose label changed. Returns the number
  // that could not be opened (logged at most once a minute).
  size_t Reconcile(const std::vector<FoundNetns>& found);
  // What discovery did, for the snapshot.
  void SetDiscoveryStats(const DiscoverySnapshot& d);
  void RequestResync();
  // Config reload: new flow classes and resync interval for every watcher
  // (and for those that start later).
  void SetClassifier(const std::shared_ptr<const FlowClassifier>& c);
  void SetPolicySelectors(const std::vector<PolicySelector>& selectors);
  // The flow classes in force (for class= filters of flow dumps); may be
  // nullptr.
  std::shared_ptr<const FlowClassifier> Classifier() const;
  void SetResyncInterval(std::chrono::milliseconds interval);

  // The namespaces watched now, named ones in --netns order, then the
  // discovered ones. A handle stays usable for as long as the caller holds
  // it.
  std::vector<NetnsRef> Namespaces() const;
  // How many namespaces were asked for by name (present or not).
  size_t Configured() const { return configured_; }

  // Every ingest thread went round its loop within `max_age`.
  bool Alive(std::chrono::milliseconds max_age) const;

  // State durations per policy of the watcher of `netns` (the first one
  // for ""); empty if none watches it.
  std::vector<PolicyDurations> CopyStateDurations(
      const std::string& netns) const;

  // Ranking `by` of each watched namespace (only of the one labelled
  // `netns` when given), in Namespaces() order; nullopt with
  // --top.enabled=false.
  std::optional<std::vector<NetnsTopRanking>> Top(
      TopBy by, size_t limit, const std::optional<std::string>& netns) const;

  Snapshot TakeSnapshot() const override;
  bool Ready() const override;

 private:
  struct Member {
    std::string spec;         // as given to --netns ("" for the daemon's own)
    std::string found_label;  // discovered: the label discovery gave it
    NetnsIdentity identity;   // but its inode, which is id's
    NetnsId id;
    std::shared_ptr<NetnsWatcher> watcher;  // null while missing (named)
  };
  std::vector<std::shared_ptr<NetnsWatcher>> Watchers() const;
  // A watcher for `ns` with the settings in force, attached to the ingest
  // pool once the set has started.
  std::shared_ptr<NetnsWatcher> StartWatcher(NetnsHandle ns,
                                             const WatcherOptions& opts);
  // Off the ingest pool, then dropped: its sockets and namespace handle
  // close with the last reference.
  void StopWatcher(std::shared_ptr<NetnsWatcher> w);
  // The supervisor's loop, and one pass of it (once a second): drops the
  // watchers of named namespaces no longer named, starts watchers for
  // those named again. Returns the number missing afterwards.
  void Supervise();
  size_t CheckNamespaces();

  const NetnsSetOptions opts_;
  WatcherOptions discovered_opts_;
  // Declared before the members: destroyed after every watcher.
  WorkerPool dumps_;
  IngestPool ingest_;
  mutable Mutex mu_;
  // Named ones first (fixed after Start; the supervisor swaps their
  // watcher), then the discovered ones (Reconcile adds and removes them).
  std::vector<Member> members_ GUARDED_BY(mu_);
  size_t configured_ = 0;
  std::shared_ptr<const FlowClassifier> classifier_ GUARDED_BY(mu_);
  std::vector<PolicySelector> selectors_ GUARDED_BY(mu_);
  std::chrono::milliseconds resync_interval_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  mutable std::atomic<bool> ready_{false};
  CondVar stop_cv_;
  std::thread supervisor_;
  DiscoverySnapshot discovery_ GUARDED_BY(mu_);
  RateLimitedLog reopen_log_{LogLevel::kWarn, std::chrono::seconds(60)};
  RateLimitedLog discover_log_{LogLevel::kWarn, std::chrono::seconds(60)};
};

}  // namespace ctcollect
