// Copies a namespace's counters into its snapshot: what the ingest thread
// counted (entries, events, transitions, flow accounting, label blocks,
// resyncs) as the plain numbers exporters read. O(series), never O(flows).
//
// Thread safety: any thread, while the ingest thread writes (every counter
// is read atomically; a snapshot may mix counts from either side of an
// event, which the next scrape corrects).
#pragma once

#include <vector>

#include "collector/flows/counter_shard.h"
#include "collector/flows/snapshot.h"
#include "collector/flows/state_durations.h"

namespace ctcollect {

// Fills the counter-derived fields of `out`.
void CopyCounters(const CounterShard& c, NetnsSnapshot* out);

// How long flows stayed in each state, per timeout policy (for advice).
std::vector<PolicyDurations> CopyStateDurations(const CounterShard& c);

}  // namespace ctcollect
