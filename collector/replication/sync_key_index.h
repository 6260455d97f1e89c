// An open-addressing hash index from a flow's tuple (SyncFlowKey) to a
// number: linear probing, backward-shift deletion (no tombstones), at most
// half full. Replication's caches and resend queues look a flow up for
// every message; this does it with one probe run in one array and no
// allocation per entry.
//
// Thread safety: none; owned by the replication thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "collector/replication/sync_flow.h"

namespace ctcollect {

class SyncKeyIndex {
 public:
  explicit SyncKeyIndex(size_t min_slots = 64);

  // The value stored for `key`, or nullptr.
  uint64_t* Find(const SyncFlowKey& key);
  const uint64_t* Find(const SyncFlowKey& key) const;
  // Inserts or replaces.
  void Put(const SyncFlowKey& key, uint64_t value);
  // Removes `key`; false if it was not there.
  bool Erase(const SyncFlowKey& key);
  void Clear();

  size_t size() const { return size_; }
  size_t MemoryBytes() const { return slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    SyncFlowKey key;
    uint32_t hash = 0;  // 0 = empty (real hashes are never 0)
    uint64_t value = 0;
  };
  static uint32_t Hash(const SyncFlowKey& key);
  size_t Probe(const SyncFlowKey& key, uint32_t h) const;
  void Grow();

  std::vector<Slot> slots_;
  size_t min_slots_;
  size_t size_ = 0;
};

}  // namespace ctcollect
