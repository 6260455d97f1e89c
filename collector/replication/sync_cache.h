// The external cache of one replication peer: the flows (and
// expectations) the peer says its kernel has, keyed by original tuple and
// zone as conntrackd's caches are. NEW and UPD insert or replace, DEL
// removes. Per-(family, protocol, state) counts are kept as entries change,
// so exporting them costs O(series), not O(flows).
//
// Layout, for a peer's bulk send of a million flows at millions of messages
// a second: the entries live in one dense vector (no allocation per flow; a
// delete moves the last entry into the hole) indexed by an open-addressing
// table of (hash, position) with linear probing and backward-shift deletion.
//
// Thread safety: none; owned by the replication thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "collector/replication/sync_flow.h"
#include "collector/replication/sync_key_index.h"
#include "collector/replication/sync_wire.h"

namespace ctcollect {

// conntrackd's cache statistics (`-s cache`).
struct SyncCacheStats {
  int64_t created = 0, create_failed = 0;
  int64_t updated = 0, update_failed = 0;
  int64_t deleted = 0, delete_failed = 0;  // failed: entry not found
};

class SyncCache {
 public:
  struct Entry {
    SyncFlow flow;
    int64_t created_unix = 0;  // when this cache first saw the flow
    int64_t refreshed_ms = 0;  // last NEW/UPD (ALARM expiry)
  };
  // (family, l4proto, state-or-255) -> entries.
  using BucketKey = std::tuple<uint8_t, uint8_t, int>;

  SyncCache();

  // Applies a data message of type kSyncCtNew/Upd/Del.
  void Apply(uint8_t type, const SyncFlow& f, int64_t now_unix, int64_t now_ms);
  void ApplyExpect(uint8_t type, const SyncExpect& e, int64_t now_unix);
  // Drops entries not refreshed since `deadline_ms` (ALARM CacheTimeout;
  // the flows a resync dump no longer found), telling `gone` about each.
  // Returns how many.
  size_t ExpireBefore(int64_t deadline_ms,
                      const std::function<void(const SyncFlow&)>& gone = {});
  // The entry of `f`'s flow, or nullptr.
  const Entry* Find(const SyncFlow& f) const;
  void Clear();

  size_t size() const { return entries_.size(); }
  size_t expectations() const { return expects_.size(); }
  // The non-zero counts.
  std::map<BucketKey, int64_t> buckets() const;
  const SyncCacheStats& stats() const { return stats_; }
  void ForEach(const std::function<void(const Entry&)>& fn) const;
  struct ExpectEntry {
    SyncExpect expect;
    int64_t created_unix = 0;
  };
  void ForEachExpect(const std::function<void(const ExpectEntry&)>& fn) const;
  // Bytes held (entries and index), an estimate for the metrics.
  size_t MemoryBytes() const;

 private:
  static size_t BucketOf(const SyncFlow& f);
  void Count(const SyncFlow& f, int delta) {
    // Allocated at the first flow: a cache that never holds one (an idle
    // peer's, a fuzz input's) costs nothing.
    if (!counts_) counts_ = std::make_unique<int64_t[]>(kBuckets);
    counts_[BucketOf(f)] += delta;
  }
  void EraseAt(size_t pos, const SyncFlowKey& key);

  std::vector<Entry> entries_;
  SyncKeyIndex index_;  // tuple -> position in entries_
  // [family 0/1][l4proto][state 0..15, 16 = none, 17 = out of range]
  static constexpr size_t kStates = 18;
  static constexpr size_t kBuckets = 2 * 256 * kStates;
  std::unique_ptr<int64_t[]> counts_;  // kBuckets, or null before any flow
  struct ExpectKey {
    SyncFlowKey master, expected;
    bool operator==(const ExpectKey& o) const {
      return master == o.master && expected == o.expected;
    }
  };
  struct ExpectKeyHash {
    size_t operator()(const ExpectKey& k) const {
      SyncFlowKeyHash h;
      return h(k.master) * 31 + h(k.expected);
    }
  };
  std::unordered_map<ExpectKey, ExpectEntry, ExpectKeyHash> expects_;
  SyncCacheStats stats_;
};

}  // namespace ctcollect
