// The one long-lived prometheus-cpp Collectable of the daemon: at every
// scrape it takes a Snapshot and builds the metric families from it, so the
// families always match the collector's current state and nothing is
// registered or removed at run time.
//
// Thread safety: Collect() may run concurrently on several HTTP threads.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <string>
#include <vector>

#include "collector/flows/snapshot.h"
#include "collector/replication/sync_snapshot.h"

namespace ctcollect {

class MetricsCollectable : public prometheus::Collectable {
 public:
  // `sync` gives the replication figures (empty: peer mode off).
  MetricsCollectable(const SnapshotSource* source, std::string version,
                     std::function<SyncSnapshot()> sync = {})
      : source_(source), version_(std::move(version)), sync_(std::move(sync)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The rendering itself, separate from taking the snapshot, for tests.
  static std::vector<prometheus::MetricFamily> Render(
      const Snapshot& s, const std::string& version);

 private:
  const SnapshotSource* source_;
  std::string version_;
  std::function<SyncSnapshot()> sync_;
};

}  // namespace ctcollect
