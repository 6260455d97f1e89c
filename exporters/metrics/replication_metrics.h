// Metric families of replication peer mode, rendered from a SyncSnapshot:
// the external caches per peer, messages, bytes, losses and malformed
// datagrams per peer and direction, resend queues. Nothing when peer mode
// is off. Pure; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "collector/replication/sync_snapshot.h"

namespace ctcollect {

void RenderSyncMetrics(const SyncSnapshot& s,
                       std::vector<prometheus::MetricFamily>* out);

}  // namespace ctcollect
