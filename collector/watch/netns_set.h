// The set of watched network namespaces, as one SnapshotSource.
//
// A namespace named on the command line can go away while the daemon runs
// (`ip netns delete`, the process of a /proc/PID/ns/net path exits) and come
// back under the same name. Once a second the collector's supervisor checks
// each one: a namespace no longer named is dropped (its watcher stops and
// closes every socket and handle it held in there, so the daemon does not
// keep a deleted namespace alive, and its metrics go away); one that is
// named again gets a fresh watcher, which starts with a dump.
//
// Thread safety: Start/Stop from the main thread; everything else from any
// thread.
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
#include "collector/flows/snapshot.h"
#include "collector/watch/netns_watcher.h"

namespace ctcollect {

class NetnsSet : public SnapshotSource {
 public:
  explicit NetnsSet(const WatcherOptions& opts);
  ~NetnsSet() override;
  NetnsSet(const NetnsSet&) = delete;
  NetnsSet& operator=(const NetnsSet&) = delete;

  // Watches `ns` (start-up, in --netns order): opens its sockets. Throws
  // std::system_error.
  void Add(NetnsHandle ns);
  void Start();
  void Stop();
  void RequestResync();
  // Config reload: new flow classes and resync interval for every watcher
  // (and for those that start later).
  void SetClassifier(const std::shared_ptr<const FlowClassifier>& c);
  void SetPolicySelectors(const std::vector<PolicySelector>& selectors);
  // The flow classes in force (for class= filters of flow dumps); may be
  // nullptr.
  std::shared_ptr<const FlowClassifier> Classifier() const;
  void SetResyncInterval(std::chrono::milliseconds interval);

  // The namespaces watched now, in --netns order (a deleted one is not).
  // A handle stays usable for as long as the caller holds it.
  std::vector<NetnsRef> Namespaces() const;
  // How many namespaces were asked for (present or not).
  size_t Configured() const { return slots_.size(); }

  // Every present namespace's ingest thread went round its loop within
  // `max_age`.
  bool Alive(std::chrono::milliseconds max_age) const;

  // State durations per policy of the watcher of `netns` (the first one
  // for ""); empty if none watches it.
  std::vector<PolicyDurations> CopyStateDurations(
      const std::string& netns) const;

  // Ranking `by` of each watched namespace (only of the one labelled
  // `netns` when given), in --netns order; nullopt with --top.enabled=false.
  std::optional<std::vector<NetnsTopRanking>> Top(
      TopBy by, size_t limit, const std::optional<std::string>& netns) const;

  Snapshot TakeSnapshot() const override;
  bool Ready() const override;

 private:
  struct Slot {
    std::string spec;  // as given to --netns ("" for the daemon's own)
    std::shared_ptr<NetnsWatcher> watcher;  // null while missing
  };
  std::vector<std::shared_ptr<NetnsWatcher>> Watchers() const;
  // A started watcher for `ns` with the settings in force, or null (logged).
  std::shared_ptr<NetnsWatcher> StartWatcher(NetnsHandle ns);
  // The supervisor's loop, and one pass of it (once a second): drops the
  // watchers of namespaces no longer named, starts watchers for those named
  // again. Returns the number of namespaces missing afterwards.
  void Supervise();
  size_t CheckNamespaces();

  const WatcherOptions opts_;
  mutable Mutex mu_;
  // Sized at start-up (Add) and fixed after Start; mu_ guards each slot's
  // watcher pointer, which the supervisor swaps.
  std::vector<Slot> slots_;
  std::shared_ptr<const FlowClassifier> classifier_ GUARDED_BY(mu_);
  std::vector<PolicySelector> selectors_ GUARDED_BY(mu_);
  std::chrono::milliseconds resync_interval_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  mutable std::atomic<bool> ready_{false};
  CondVar stop_cv_;
  std::thread supervisor_;
  RateLimitedLog reopen_log_{LogLevel::kWarn, std::chrono::seconds(60)};
};

}  // namespace ctcollect
