// A Snapshot as one JSON document: what `ctcollect stats --json`, `ctcollect
// top` and /api/v1/stats read. Schema in the README. Pure; thread-safe.
#pragma once

#include <string>

#include "collector/flows/snapshot.h"

namespace ctcollect {

std::string StatsJson(const Snapshot& s, double unix_time);

// The same figures as flat "key args... value" lines, one per figure, for
// clients that would rather not parse JSON (`ctcollect top`):
//   netns NAME
//   entries FAMILY PROTOCOL STATE|- ZONE VALUE
//   events TYPE VALUE
//   kernel_entries VALUE / entries_limit VALUE / overruns VALUE
// NAME "" is written as "-".
std::string StatsFlat(const Snapshot& s);

}  // namespace ctcollect
