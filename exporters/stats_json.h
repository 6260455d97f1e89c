// A Snapshot as one JSON document: what `ctcollect stats --json`, `ctcollect
// top` and /api/v1/stats read. Schema in the README. Pure; thread-safe.
#pragma once

#include <string>

#include "collector/snapshot.h"

namespace ctcollect {

std::string StatsJson(const Snapshot& s, double unix_time);

}  // namespace ctcollect
