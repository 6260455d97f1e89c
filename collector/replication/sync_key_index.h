// An open-addressing hash index from a flow's tuple (SyncFlowKey) to a
// number, at most half full: an OpenTable (base/open_table.h) whose slots
// keep the key's hash, so probing compares hashes before keys and a rehash
// never hashes a tuple again. Replication's caches and resend queues look a
// flow up for every message; this does it with one probe run in one array
// and no allocation per entry.
//
// Thread safety: none; owned by the replication thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "collector/base/open_table.h"
#include "collector/replication/sync_flow.h"

namespace ctcollect {

class SyncKeyIndex {
 public:
  explicit SyncKeyIndex(size_t min_slots = 64) : table_(min_slots) {}

  // The value stored for `key`, or nullptr.
  uint64_t* Find(const SyncFlowKey& key) {
    Slot* s = table_.Find(key);
    return s ? &s->value : nullptr;
  }
  const uint64_t* Find(const SyncFlowKey& key) const {
    const Slot* s = table_.Find(key);
    return s ? &s->value : nullptr;
  }
  // Inserts or replaces.
  void Put(const SyncFlowKey& key, uint64_t value) {
    bool inserted;
    table_.Insert(key, &inserted)->value = value;
  }
  // Removes `key`; false if it was not there.
  bool Erase(const SyncFlowKey& key) {
    Slot* s = table_.Find(key);
    if (s == nullptr) return false;
    table_.Erase(s);
    return true;
  }
  void Clear() {
    if (table_.size() != 0) table_.Clear();
  }

  size_t size() const { return table_.size(); }
  size_t MemoryBytes() const { return table_.bytes(); }

 private:
  struct Slot {
    SyncFlowKey key;
    uint64_t hash;  // 0 = free (real hashes are never 0)
    uint64_t value;
  };
  struct Traits {
    using Key = SyncFlowKey;
    static constexpr size_t kMaxLoadPercent = 50;
    static uint64_t Hash(const SyncFlowKey& key) {
      return SyncFlowKeyHash()(key) | 1;
    }
    static uint64_t Hash(const Slot& s) { return s.hash; }
    static bool Used(const Slot& s) { return s.hash != 0; }
    static bool Matches(const Slot& s, const SyncFlowKey& key, uint64_t hash) {
      return s.hash == hash && s.key == key;
    }
    static void Claim(Slot* s, const SyncFlowKey& key, uint64_t hash) {
      s->key = key;
      s->hash = hash;
    }
    static void Release(Slot* s) { s->hash = 0; }
  };

  OpenTable<Slot, Traits> table_;
};

}  // namespace ctcollect
