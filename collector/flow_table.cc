#include "collector/flow_table.h"

#include <cstdlib>
#include <cstring>

namespace ctcollect {
namespace {
constexpr size_t kMinCapacity = 1024;
constexpr int kMinShift = 10;  // log2(kMinCapacity)
}  // namespace

FlowTable::FlowTable() { Rehash(kMinCapacity); }

size_t FlowTable::Slot(uint32_t id) const {
  // Conntrack ids are already hashes in current kernels, but older kernels
  // hand out pointer-derived or sequential ids: Fibonacci hashing spreads
  // either over the table.
  return static_cast<size_t>(
      (static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull) >> (64 - shift_));
}

FlowRecord* FlowTable::Find(uint32_t id, uint16_t tag) {
  for (size_t i = Slot(id);; i = (i + 1) & mask_) {
    FlowRecord& r = slots_[i];
    if (!r.used()) return nullptr;
    if (r.id == id && r.tag == tag) return &r;
  }
}

FlowRecord* FlowTable::Insert(uint32_t id, uint16_t tag, bool* inserted) {
  if ((size_ + 1) * 4 > capacity() * 3) Rehash(capacity() * 2);
  for (size_t i = Slot(id);; i = (i + 1) & mask_) {
    FlowRecord& r = slots_[i];
    if (!r.used()) {
      r = FlowRecord{};
      r.id = id;
      r.tag = tag;
      r.meta = FlowRecord::kUsed;
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

void FlowTable::Reserve(size_t n) {
  size_t cap = capacity();
  while (n * 4 > cap * 3) cap *= 2;
  if (cap != capacity()) Rehash(cap);
}

void FlowTable::Erase(FlowRecord* r) {
  size_t hole = static_cast<size_t>(r - slots_.get());
  slots_[hole].meta = 0;
  --size_;
  // Backward-shift: pull later records of the cluster into the hole when
  // their home slot is not between the hole and their current position.
  for (size_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
    FlowRecord& cur = slots_[i];
    if (!cur.used()) return;
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

void FlowTable::MaybeShrink() {
  // Shrink below 1/8 load to at most 1/4 load: far enough from the grow
  // threshold that a table hovering around one size does not thrash.
  size_t cap = capacity();
  while (cap > kMinCapacity && size_ * 8 < cap) cap /= 2;
  if (cap != capacity()) Rehash(cap);
}

void FlowTable::Rehash(size_t new_capacity) {
  Slots old = std::move(slots_);
  size_t old_cap = old ? mask_ + 1 : 0;
  // calloc: large tables come straight from mmap, already zero, so growing
  // does not first write the whole new array (a stall of tens of ms at 1M
  // flows on the thread that reads events).
  slots_.reset(
      static_cast<FlowRecord*>(std::calloc(new_capacity, sizeof(FlowRecord))));
  if (!slots_) std::abort();  // as operator new would throw
  mask_ = new_capacity - 1;
  shift_ = kMinShift;
  while ((size_t{1} << shift_) < new_capacity) ++shift_;
  for (size_t i = 0; i < old_cap; ++i) {
    if (!old[i].used()) continue;
    for (size_t j = Slot(old[i].id);; j = (j + 1) & mask_) {
      if (!slots_[j].used()) {
        slots_[j] = old[i];
        break;
      }
    }
  }
}

}  // namespace ctcollect
