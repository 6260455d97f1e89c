#include "collector/replication/sync_key_index.h"

namespace ctcollect {

namespace {
size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

SyncKeyIndex::SyncKeyIndex(size_t min_slots)
    : slots_(PowerOfTwoAtLeast(min_slots)),
      min_slots_(PowerOfTwoAtLeast(min_slots)) {}

uint32_t SyncKeyIndex::Hash(const SyncFlowKey& key) {
  const size_t h = SyncFlowKeyHash()(key);
  return static_cast<uint32_t>(h ^ (h >> 32)) | 1;
}

size_t SyncKeyIndex::Probe(const SyncFlowKey& key, uint32_t h) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.hash == 0 || (s.hash == h && s.key == key)) return i;
  }
}

uint64_t* SyncKeyIndex::Find(const SyncFlowKey& key) {
  Slot& s = slots_[Probe(key, Hash(key))];
  return s.hash == 0 ? nullptr : &s.value;
}

const uint64_t* SyncKeyIndex::Find(const SyncFlowKey& key) const {
  const Slot& s = slots_[Probe(key, Hash(key))];
  return s.hash == 0 ? nullptr : &s.value;
}

void SyncKeyIndex::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void SyncKeyIndex::Put(const SyncFlowKey& key, uint64_t value) {
  const uint32_t h = Hash(key);
  size_t i = Probe(key, h);
  if (slots_[i].hash == 0) {
    if (2 * (size_ + 1) > slots_.size()) {
      Grow();
      i = Probe(key, h);
    }
    slots_[i].key = key;
    slots_[i].hash = h;
    ++size_;
  }
  slots_[i].value = value;
}

bool SyncKeyIndex::Erase(const SyncFlowKey& key) {
  const size_t mask = slots_.size() - 1;
  size_t hole = Probe(key, Hash(key));
  if (slots_[hole].hash == 0) return false;
  // Backward shift: pull later members of the probe run into the hole.
  for (size_t i = (hole + 1) & mask; slots_[i].hash != 0; i = (i + 1) & mask) {
    const size_t home = slots_[i].hash & mask;
    const bool movable =
        hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
    if (movable) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  return true;
}

void SyncKeyIndex::Clear() {
  if (size_ == 0) return;
  slots_.assign(min_slots_, Slot{});
  size_ = 0;
}

}  // namespace ctcollect
