// The open-addressing hash table of the collector's two per-event indexes:
// the flow table (conntrack id -> 16-byte record, flows/flow_table.h) and
// replication's tuple index (replication/sync_key_index.h). Fixed-size
// records in one array, linear probing, backward-shift deletion (no
// tombstones), Fibonacci hashing of the key's hash onto the slots. Lookups
// never allocate; an insert allocates only when the table doubles, and the
// new array comes already zero (base/table_memory.h: calloc, or for large
// arrays a hugepage-advised mapping), so a growing table does not first
// write all of it. A large table whose traits ask for it (kFaultInAhead:
// the flow table, fed by event storms that must not stall) has its next
// array faulted in on a helper thread when it nears its load limit
// (SpareTableMemory), so that the doubling itself is only the copy. The
// price is memory: between 5 points below the limit and the limit, the
// table holds three times its array.
//
// `Traits` says what a record holds:
//   using Key;                         what Find and Insert look up by
//   static uint64_t Hash(const Key&);  the key's hash (Fibonacci-spread here,
//   static uint64_t Hash(const Record&);  so ids may be passed as they are);
//                                      both must agree for a record's key
//   static bool Used(const Record&);   a zeroed record is free
//   static bool Matches(const Record&, const Key&, uint64_t hash);  `hash`
//                                      is the key's, to compare first
//   static void Claim(Record*, const Key&, uint64_t hash);  fills in the key
//                                      of a zeroed record and marks it used
//   static void Release(Record*);      marks it free (Used false); the rest
//                                      of a free record is never read
//   static constexpr size_t kMaxLoadPercent;  grows past this load
//   static constexpr bool kFaultInAhead;  optional: true to have the next
//                                      array faulted in ahead (below)
// `Record` is trivially copyable, and free when all zeros.
//
// Thread safety: not thread-safe; one owner thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "collector/base/table_memory.h"

namespace ctcollect {

template <typename Record, typename Traits>
class OpenTable {
 public:
  using Key = typename Traits::Key;

  // `min_capacity` (rounded up to a power of two, at least 16) is the size
  // the table starts at, shrinks to and returns to on Clear.
  explicit OpenTable(size_t min_capacity = 1024) {
    while (min_capacity_ < min_capacity) min_capacity_ *= 2;
    Rehash(min_capacity_);
  }
  OpenTable(const OpenTable&) = delete;
  OpenTable& operator=(const OpenTable&) = delete;
  // Moving takes the records; the moved-from table is empty and usable.
  OpenTable(OpenTable&& o) { *this = std::move(o); }
  OpenTable& operator=(OpenTable&& o) {
    if (this == &o) return *this;
    spare_.Drop();
    o.spare_.Drop();
    slots_ = std::move(o.slots_);
    spare_at_ = o.spare_at_;
    min_capacity_ = o.min_capacity_;
    mask_ = o.mask_;
    size_ = o.size_;
    shift_ = o.shift_;
    o.Clear();
    return *this;
  }

  // The record for `key`, or nullptr. Stays valid until the next
  // Insert/Erase.
  Record* Find(const Key& key) { return FindIn(key); }
  const Record* Find(const Key& key) const { return FindIn(key); }

  // The record for `key`, inserting a zeroed used record if absent
  // (`*inserted` says which). Stays valid until the next Insert/Erase.
  Record* Insert(const Key& key, bool* inserted);

  // Grows the table so that `n` records fit without a rehash (a dump knows
  // the kernel's count before it starts).
  void Reserve(size_t n);

  // Hints the CPU to load the slot `key` hashes to: a dump parses a batch of
  // messages, prefetches all their slots, then applies them, so the cache
  // misses of a large table overlap instead of adding up.
  void Prefetch(const Key& key) const {
    __builtin_prefetch(&slots_[Slot(Traits::Hash(key))]);
  }

  // Removes the record `r` points to (from Find/Insert or iteration).
  void Erase(Record* r);

  // Removes every record for which pred(record) is true; calls the predicate
  // once per record. May shrink the table.
  template <typename Pred>
  size_t EraseIf(Pred pred);

  // Calls fn(record) once for every record, in slot order; fn may change
  // a record but not its key.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (size_t i = 0; i <= mask_; ++i) {
      if (Traits::Used(slots_[i])) fn(static_cast<const Record&>(slots_[i]));
    }
  }
  template <typename Fn>
  void ForEach(Fn fn) {
    for (size_t i = 0; i <= mask_; ++i) {
      if (Traits::Used(slots_[i])) fn(slots_[i]);
    }
  }

  // Removes every record and returns to the minimum size.
  void Clear() {
    spare_.Drop();
    slots_.reset();
    size_ = 0;
    Rehash(min_capacity_);
  }

  size_t size() const { return size_; }
  size_t capacity() const { return mask_ + 1; }
  // The array's bytes and those of a spare made ahead for the next size.
  size_t bytes() const { return capacity() * sizeof(Record) + spare_.bytes(); }

 private:
  size_t Slot(uint64_t hash) const {
    // Conntrack ids are already hashes in current kernels, but older
    // kernels hand out pointer-derived or sequential ids: Fibonacci hashing
    // spreads either over the table, and any other hash as well.
    return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> (64 - shift_));
  }
  static constexpr bool FaultInAhead() {
    if constexpr (requires { Traits::kFaultInAhead; }) {
      return Traits::kFaultInAhead;
    } else {
      return false;
    }
  }
  bool OverLoad(size_t n, size_t cap) const {
    return n * 100 > cap * Traits::kMaxLoadPercent;
  }
  Record* FindIn(const Key& key) const;
  void Rehash(size_t new_capacity);
  void MaybeShrink();

  struct Free {
    size_t bytes = 0;
    void operator()(Record* p) const { FreeTableMemory(p, bytes); }
  };
  using Slots = std::unique_ptr<Record[], Free>;
  Slots slots_;
  SpareTableMemory spare_;
  // The size at which the next array is prepared: 5 points of load below
  // the limit (at 4M flows in 8M slots, 400k inserts ahead of the copy),
  // for arrays large enough to be mapped on their own.
  size_t spare_at_ = SIZE_MAX;
  size_t min_capacity_ = 16;
  size_t mask_ = 0;
  size_t size_ = 0;
  int shift_ = 0;
};

template <typename Record, typename Traits>
Record* OpenTable<Record, Traits>::FindIn(const Key& key) const {
  const uint64_t hash = Traits::Hash(key);
  for (size_t i = Slot(hash);; i = (i + 1) & mask_) {
    Record& r = slots_[i];
    if (!Traits::Used(r)) return nullptr;
    if (Traits::Matches(r, key, hash)) return &r;
  }
}

template <typename Record, typename Traits>
Record* OpenTable<Record, Traits>::Insert(const Key& key, bool* inserted) {
  if (OverLoad(size_ + 1, capacity())) {
    Rehash(capacity() * 2);
  } else if (size_ + 1 == spare_at_) {
    spare_.Prepare(capacity() * 2 * sizeof(Record));
  }
  const uint64_t hash = Traits::Hash(key);
  for (size_t i = Slot(hash);; i = (i + 1) & mask_) {
    Record& r = slots_[i];
    if (!Traits::Used(r)) {
      r = Record{};
      Traits::Claim(&r, key, hash);
      ++size_;
      *inserted = true;
      return &r;
    }
    if (Traits::Matches(r, key, hash)) {
      *inserted = false;
      return &r;
    }
  }
}

template <typename Record, typename Traits>
void OpenTable<Record, Traits>::Reserve(size_t n) {
  size_t cap = capacity();
  while (OverLoad(n, cap)) cap *= 2;
  if (cap != capacity()) Rehash(cap);
}

template <typename Record, typename Traits>
void OpenTable<Record, Traits>::Erase(Record* r) {
  size_t hole = static_cast<size_t>(r - slots_.get());
  Traits::Release(&slots_[hole]);
  --size_;
  // Backward-shift: pull later records of the cluster into the hole when
  // their home slot is not between the hole and their current position.
  for (size_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
    Record& cur = slots_[i];
    if (!Traits::Used(cur)) return;
    size_t home = Slot(Traits::Hash(cur));
    bool movable =
        (i > hole) ? (home <= hole || home > i) : (home <= hole && home > i);
    if (movable) {
      slots_[hole] = cur;
      Traits::Release(&cur);
      hole = i;
    }
  }
}

template <typename Record, typename Traits>
void OpenTable<Record, Traits>::MaybeShrink() {
  // Shrink below 1/8 load to at most 1/4 load: far enough from the grow
  // threshold that a table hovering around one size does not thrash.
  size_t cap = capacity();
  while (cap > min_capacity_ && size_ * 8 < cap) cap /= 2;
  if (cap != capacity()) Rehash(cap);
}

template <typename Record, typename Traits>
void OpenTable<Record, Traits>::Rehash(size_t new_capacity) {
  Slots old = std::move(slots_);
  size_t old_cap = old ? mask_ + 1 : 0;
  const size_t bytes = new_capacity * sizeof(Record);
  void* mem = spare_.Take(bytes);
  if (mem == nullptr) mem = AllocateTableMemory(bytes);
  slots_ = Slots(static_cast<Record*>(mem), Free{bytes});
  mask_ = new_capacity - 1;
  spare_at_ = FaultInAhead() && 2 * bytes >= kHugeBytes
                  ? new_capacity * (Traits::kMaxLoadPercent - 5) / 100
                  : SIZE_MAX;
  shift_ = 1;
  while ((size_t{1} << shift_) < new_capacity) ++shift_;
  for (size_t i = 0; i < old_cap; ++i) {
    if (!Traits::Used(old[i])) continue;
    for (size_t j = Slot(Traits::Hash(old[i]));; j = (j + 1) & mask_) {
      if (!Traits::Used(slots_[j])) {
        slots_[j] = old[i];
        break;
      }
    }
  }
}

template <typename Record, typename Traits>
template <typename Pred>
size_t OpenTable<Record, Traits>::EraseIf(Pred pred) {
  // Backward-shift deletion only moves records towards the hole, so records
  // not yet visited stay ahead of `i`; a record of a cluster that wraps past
  // the end may be visited twice, so `pred` must be idempotent for records
  // it keeps.
  size_t erased = 0;
  for (size_t i = 0; i <= mask_;) {
    Record& r = slots_[i];
    if (Traits::Used(r) && pred(r)) {
      Erase(&r);  // shifts a later record into slot i: look at i again
      ++erased;
      continue;
    }
    ++i;
  }
  MaybeShrink();
  return erased;
}

}  // namespace ctcollect
