// The set of watched network namespaces, as one SnapshotSource.
// Thread safety: Add/Start/Stop from the main thread before/after serving;
// TakeSnapshot, Ready, RequestResync, SetClassifier, Classifier and
// SetResyncInterval from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "collector/netns_watcher.h"
#include "collector/snapshot.h"

namespace ctcollect {

class Collector : public SnapshotSource {
 public:
  void Add(std::unique_ptr<NetnsWatcher> w) {
    watchers_.push_back(std::move(w));
  }
  void Start();
  void Stop();
  void RequestResync();
  // Config reload: new flow classes and resync interval for every watcher.
  void SetClassifier(const std::shared_ptr<const FlowClassifier>& c);
  void SetPolicySelectors(const std::vector<PolicySelector>& selectors);
  // The flow classes in force (for class= filters of flow dumps); may be
  // nullptr.
  std::shared_ptr<const FlowClassifier> Classifier() const;
  void SetResyncInterval(std::chrono::milliseconds interval);

  // The watched namespaces, in --netns order; valid while the collector is.
  std::vector<const NetnsHandle*> Namespaces() const;

  // Every ingest thread went round its loop within `max_age`.
  bool Alive(std::chrono::milliseconds max_age) const;

  // State durations per policy of the watcher of `netns` (the first one
  // for ""); empty if none watches it.
  std::vector<NetnsWatcher::PolicyDurations> CopyStateDurations(
      const std::string& netns) const;

  Snapshot TakeSnapshot() const override;
  bool Ready() const override;

 private:
  std::vector<std::unique_ptr<NetnsWatcher>> watchers_;
  mutable std::mutex classifier_mu_;
  std::shared_ptr<const FlowClassifier> classifier_;  // classifier_mu_
};

}  // namespace ctcollect
