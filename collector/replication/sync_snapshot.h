// What replication peer mode shows the exporters: per peer (a node this one
// receives from) its messages, losses, malformed datagrams and external
// cache counts; per link (where this node sends) its traffic and resend
// queue. Plain data, copied out of the replication thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/replication/sync_cache.h"
#include "collector/replication/sync_engine.h"
#include "collector/replication/sync_options.h"

namespace ctcollect {

struct SyncPeerSnapshot {
  std::string name;
  size_t link = 0;
  SyncPeerStats stats;
  SyncCacheStats cache_stats;
  int64_t entries = 0;
  int64_t expectations = 0;
  std::map<SyncCache::BucketKey, int64_t> buckets;
};

struct SyncLinkSnapshot {
  std::string name;
  SyncLinkStats stats;
  int64_t resend_queue_length = 0;
  int64_t resend_queue_dropped = 0;
  bool synced = false;
};

struct SyncSnapshot {
  bool enabled = false;
  SyncMode mode = SyncMode::kOff;
  SyncTransport transport = SyncTransport::kUdp;
  std::string interface;
  int64_t resend_queue_capacity = 0;
  std::vector<SyncPeerSnapshot> peers;
  std::vector<SyncLinkSnapshot> links;
  int64_t foreign_datagrams = 0;  // from sources that are no peer
  int64_t internal_flows = 0;     // the internal cache: local flows
  int64_t internal_bytes = 0;     // its memory
  int64_t local_events = 0;
  int64_t local_overruns = 0;
  int64_t bulk_sends = 0;
  int64_t external_bytes = 0;  // memory of the external caches
};

}  // namespace ctcollect
