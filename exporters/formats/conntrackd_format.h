// conntrackd's plain-text `-s` blocks, laid out byte for byte as conntrackd
// 1.4.7 prints them in stats mode (shared/reference/conntrackd.md §2), and
// filled with ctcollect's figures summed over the watched namespaces, so
// scripts that screen-scrape conntrackd keep working. Pure functions.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "collector/flows/snapshot.h"
#include "collector/replication/sync_snapshot.h"

namespace ctcollect {

// Figures the daemon keeps outside the Snapshot.
struct DaemonFigures {
  int64_t uptime_seconds = 0;
  int64_t kernel_flushes = 0;     // -F requests served
  int64_t local_read_failed = 0;  // control-socket reads that failed
  int64_t local_unknown_request = 0;
};

std::string ConntrackdUptime(int64_t seconds);
// `-s` / `-s ct` (STATS): the cache block and "traffic processed".
std::string ConntrackdStats(const Snapshot& s);
// `-s cache` (STATS_CACHE).
std::string ConntrackdStatsCache(const Snapshot& s);
// `-s runtime` (STATS_RUNTIME).
std::string ConntrackdStatsRuntime(const Snapshot& s, const DaemonFigures& d);

// The replication blocks in conntrackd's sync-mode layout, with the peer
// mode's figures: `-s network` (errors, sequence tracking, then each link's
// traffic), `-s link`, `-s queue`. With peer mode off (a default
// snapshot) they print their layout with zeroes, for scripts that parse
// them. (`-s rsqueue` comes from SyncPeer::ResendQueueText.)
std::string ConntrackdStatsNetwork(const SyncSnapshot& s);
std::string ConntrackdStatsLink(const SyncSnapshot& s);
std::string ConntrackdStatsQueue(const SyncSnapshot& s);

}  // namespace ctcollect
