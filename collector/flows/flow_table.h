// The live flow table of one network namespace: conntrack id -> a 16-byte
// record. It exists so that an UPDATE or DESTROY event can move a flow out of
// the bucket it was counted in without a dump.
//
// Open addressing with linear probing and backward-shift deletion (no
// tombstones), load factor kept between 1/4 and 3/4, so memory per flow stays
// between 21 and 64 bytes and is usually ~32. Lookups never allocate; an
// insert allocates only when the table doubles.
//
// Thread safety: not thread-safe. Owned and used by one ingest thread;
// others read only the figures it publishes (see FlowTracker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace ctcollect {

struct FlowRecord {
  uint32_t id;
  // 16 bits of a hash of the original tuple: conntrack ids are 32-bit
  // hashes, so a table of 1M flows holds ~120 pairs of equal ids; with the
  // tag, two flows share a key about once in 500 tables of 1M.
  uint16_t tag;
  uint16_t zone;
  uint8_t meta;   // kUsed | kDead | kTouched | family bit | protocol (4 bits)
  uint8_t state;  // index into StateName(proto, ...)
  // Dump generation that last confirmed this flow, modulo 256: a flow that
  // missed a complete dump is swept at its end, so live flows are never
  // more than a few generations behind.
  uint8_t gen;
  uint8_t status;  // FlowStatus bits, for the status breakdown gauges
  uint32_t since;  // monotonic seconds of the last state change

  static constexpr uint8_t kUsed = 0x80;
  // Destroyed while a dump runs: kept as a tombstone so a dump message about
  // it that was already queued cannot bring it back.
  static constexpr uint8_t kDead = 0x40;
  // Set by an event during the running dump: the event is at least as new as
  // the dump's view, so the dump must not overwrite it.
  static constexpr uint8_t kTouched = 0x20;
  static constexpr uint8_t kFamilyBit = 0x10;
  static constexpr uint8_t kProtoMask = 0x0f;

  bool used() const { return meta & kUsed; }
  bool dead() const { return meta & kDead; }
  bool touched() const { return meta & kTouched; }
  uint8_t family() const { return (meta & kFamilyBit) ? 1 : 0; }
  uint8_t proto() const { return meta & kProtoMask; }
  void set_class(uint8_t family, uint8_t proto) {
    meta =
        static_cast<uint8_t>((meta & (kUsed | kDead | kTouched)) |
                             (family ? kFamilyBit : 0) | (proto & kProtoMask));
  }
};
static_assert(sizeof(FlowRecord) == 16, "FlowRecord must stay compact");

// Open-addressing table of fixed-size records keyed by (id, tag). `Record`
// is trivially copyable, has `uint32_t id`, `uint16_t tag`, `uint8_t meta`
// whose bit Record::kUsed marks a used slot, and is all zeros when free.
template <typename Record>
class OpenTable {
 public:
  OpenTable() { Rehash(kMinCapacity); }
  OpenTable(const OpenTable&) = delete;
  OpenTable& operator=(const OpenTable&) = delete;

  // The record for `id`, or nullptr. Stays valid until the next Insert/Erase.
  Record* Find(uint32_t id, uint16_t tag = 0);

  // The record for `id`, inserting a zeroed used record if absent
  // (`*inserted` says which). Stays valid until the next Insert/Erase.
  Record* Insert(uint32_t id, uint16_t tag, bool* inserted);
  Record* Insert(uint32_t id, bool* inserted) {
    return Insert(id, 0, inserted);
  }

  // Grows the table so that `n` records fit without a rehash (a dump knows
  // the kernel's count before it starts).
  void Reserve(size_t n);

  // Hints the CPU to load the slot `id` hashes to: a dump parses a batch of
  // messages, prefetches all their slots, then applies them, so the cache
  // misses of a large table overlap instead of adding up.
  void Prefetch(uint32_t id) const { __builtin_prefetch(&slots_[Slot(id)]); }

  // Removes the record `r` points to (from Find/Insert or iteration).
  void Erase(Record* r);

  // Removes every record for which pred(record) is true; calls the predicate
  // once per record. May shrink the table.
  template <typename Pred>
  size_t EraseIf(Pred pred);

  // Removes every record and returns to the minimum size.
  void Clear() {
    slots_.reset();
    size_ = 0;
    Rehash(kMinCapacity);
  }

  size_t size() const { return size_; }
  size_t capacity() const { return mask_ + 1; }
  size_t bytes() const { return capacity() * sizeof(Record); }

 private:
  static constexpr size_t kMinCapacity = 1024;
  static constexpr int kMinShift = 10;  // log2(kMinCapacity)
  static bool Used(const Record& r) { return r.meta & Record::kUsed; }

  size_t Slot(uint32_t id) const {
    // Conntrack ids are already hashes in current kernels, but older
    // kernels hand out pointer-derived or sequential ids: Fibonacci hashing
    // spreads either over the table.
    return static_cast<size_t>(
        (static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull) >> (64 - shift_));
  }
  void Rehash(size_t new_capacity);
  void MaybeShrink();

  struct Free {
    void operator()(Record* p) const { std::free(p); }
  };
  using Slots = std::unique_ptr<Record[], Free>;
  Slots slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  int shift_ = 0;
};

using FlowTable = OpenTable<FlowRecord>;

template <typename Record>
Record* OpenTable<Record>::Find(uint32_t id, uint16_t tag) {
  for (size_t i = Slot(id);; i = (i + 1) & mask_) {
    Record& r = slots_[i];
    if (!Used(r)) return nullptr;
    if (r.id == id && r.tag == tag) return &r;
  }
}

template <typename Record>
Record* OpenTable<Record>::Insert(uint32_t id, uint16_t tag, bool* inserted) {
  if ((size_ + 1) * 4 > capacity() * 3) Rehash(capacity() * 2);
  for (size_t i = Slot(id);; i = (i + 1) & mask_) {
    Record& r = slots_[i];
    if (!Used(r)) {
      r = Record{};
      r.id = id;
      r.tag = tag;
      r.meta = Record::kUsed;
      ++size_;
      *inserted = true;
      return &r;
    }
    if (r.id == id && r.tag == tag) {
      *inserted = false;
      return &r;
    }
  }
}

template <typename Record>
void OpenTable<Record>::Reserve(size_t n) {
  size_t cap = capacity();
  while (n * 4 > cap * 3) cap *= 2;
  if (cap != capacity()) Rehash(cap);
}

template <typename Record>
void OpenTable<Record>::Erase(Record* r) {
  size_t hole = static_cast<size_t>(r - slots_.get());
  slots_[hole].meta = 0;
  --size_;
  // Backward-shift: pull later records of the cluster into the hole when
  // their home slot is not between the hole and their current position.
  for (size_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
    Record& cur = slots_[i];
    if (!Used(cur)) return;
    size_t home = Slot(cur.id);
    bool movable =
        (i > hole) ? (home <= hole || home > i) : (home <= hole && home > i);
    if (movable) {
      slots_[hole] = cur;
      cur.meta = 0;
      hole = i;
    }
  }
}

template <typename Record>
void OpenTable<Record>::MaybeShrink() {
  // Shrink below 1/8 load to at most 1/4 load: far enough from the grow
  // threshold that a table hovering around one size does not thrash.
  size_t cap = capacity();
  while (cap > kMinCapacity && size_ * 8 < cap) cap /= 2;
  if (cap != capacity()) Rehash(cap);
}

template <typename Record>
void OpenTable<Record>::Rehash(size_t new_capacity) {
  Slots old = std::move(slots_);
  size_t old_cap = old ? mask_ + 1 : 0;
  // calloc: large tables come straight from mmap, already zero, so growing
  // does not first write the whole new array (a stall of tens of ms at 1M
  // flows on the thread that reads events).
  slots_.reset(static_cast<Record*>(std::calloc(new_capacity, sizeof(Record))));
  if (!slots_) std::abort();  // as operator new would throw
  mask_ = new_capacity - 1;
  shift_ = kMinShift;
  while ((size_t{1} << shift_) < new_capacity) ++shift_;
  for (size_t i = 0; i < old_cap; ++i) {
    if (!Used(old[i])) continue;
    for (size_t j = Slot(old[i].id);; j = (j + 1) & mask_) {
      if (!Used(slots_[j])) {
        slots_[j] = old[i];
        break;
      }
    }
  }
}

template <typename Record>
template <typename Pred>
size_t OpenTable<Record>::EraseIf(Pred pred) {
  // Backward-shift deletion only moves records towards the hole, so records
  // not yet visited stay ahead of `i`; a record of a cluster that wraps past
  // the end may be visited twice, so `pred` must be idempotent for records
  // it keeps.
  size_t erased = 0;
  for (size_t i = 0; i <= mask_;) {
    Record& r = slots_[i];
    if (Used(r) && pred(r)) {
      Erase(&r);  // shifts a later record into slot i: look at i again
      ++erased;
      continue;
    }
    ++i;
  }
  MaybeShrink();
  return erased;
}

extern template class OpenTable<FlowRecord>;

}  // namespace ctcollect
