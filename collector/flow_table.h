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

class FlowTable {
 public:
  FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // The record for `id`, or nullptr. Stays valid until the next Insert/Erase.
  FlowRecord* Find(uint32_t id, uint16_t tag = 0);

  // The record for `id`, inserting a zeroed used record if absent
  // (`*inserted` says which). Stays valid until the next Insert/Erase.
  FlowRecord* Insert(uint32_t id, uint16_t tag, bool* inserted);
  FlowRecord* Insert(uint32_t id, bool* inserted) {
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
  void Erase(FlowRecord* r);

  // Removes every record for which pred(record) is true; calls the predicate
  // once per record. May shrink the table.
  template <typename Pred>
  size_t EraseIf(Pred pred);

  size_t size() const { return size_; }
  size_t capacity() const { return mask_ + 1; }
  size_t bytes() const { return capacity() * sizeof(FlowRecord); }

 private:
  size_t Slot(uint32_t id) const;
  void Rehash(size_t new_capacity);
  void MaybeShrink();

  struct Free {
    void operator()(FlowRecord* p) const { std::free(p); }
  };
  using Slots = std::unique_ptr<FlowRecord[], Free>;
  Slots slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  int shift_ = 0;
};

template <typename Pred>
size_t FlowTable::EraseIf(Pred pred) {
  // Backward-shift deletion only moves records towards the hole, so records
  // not yet visited stay ahead of `i`; a record of a cluster that wraps past
  // the end may be visited twice, so `pred` must be idempotent for records
  // it keeps.
  size_t erased = 0;
  for (size_t i = 0; i <= mask_;) {
    FlowRecord& r = slots_[i];
    if (r.used() && pred(r)) {
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
