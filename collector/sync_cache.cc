#include "collector/sync_cache.h"

#include <netinet/in.h>

namespace ctcollect {
namespace {

SyncFlowKey TupleKey(const SyncTuple& t) {
  SyncFlowKey k;
  k.family = t.family;
  k.l4proto = t.l4proto;
  k.sport = t.sport;
  k.dport = t.dport;
  std::memcpy(k.src, t.src, 16);
  std::memcpy(k.dst, t.dst, 16);
  return k;
}

uint32_t Hash32(const SyncFlowKey& k) {
  const size_t h = SyncFlowKeyHash()(k);
  return static_cast<uint32_t>(h ^ (h >> 32)) | 1;  // never 0
}

}  // namespace

SyncCache::SyncCache() : slots_(1024), counts_(2 * 256 * kStates, 0) {}

size_t SyncCache::BucketOf(const SyncFlow& f) {
  const bool stateful =
      f.Has(kNtaTcpState) || f.Has(kNtaSctpState) || f.Has(kNtaDccpState);
  const size_t state = !stateful ? 16 : f.state < 16 ? f.state : 17;
  const size_t fam = f.family == AF_INET6 ? 1 : 0;
  return (fam * 256 + f.l4proto) * kStates + state;
}

std::map<SyncCache::BucketKey, int64_t> SyncCache::buckets() const {
  std::map<BucketKey, int64_t> out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const size_t state = i % kStates;
    const size_t l4 = i / kStates % 256;
    const size_t fam = i / kStates / 256;
    out[{static_cast<uint8_t>(fam ? AF_INET6 : AF_INET),
         static_cast<uint8_t>(l4),
         state == 16   ? 255
         : state == 17 ? 16
                       : static_cast<int>(state)}] = counts_[i];
  }
  return out;
}

size_t SyncCache::Find(const SyncFlowKey& key, uint32_t h) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.pos == 0) return i;
    if (s.hash == h && keys_[s.pos - 1] == key) return i;
  }
}

void SyncCache::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.pos == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].pos != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void SyncCache::EraseAt(size_t slot) {
  const size_t mask = slots_.size() - 1;
  const uint32_t pos = slots_[slot].pos - 1;
  // Backward-shift deletion: pull later members of the probe run into the
  // hole so that lookups never need tombstones.
  size_t hole = slot;
  for (size_t i = (hole + 1) & mask; slots_[i].pos != 0; i = (i + 1) & mask) {
    const size_t home = slots_[i].hash & mask;
    const bool movable =
        hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
    if (movable) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = Slot{};
  // Keep the entries dense: the last one moves into the freed position.
  const uint32_t last = static_cast<uint32_t>(entries_.size() - 1);
  if (pos != last) {
    const uint32_t h = Hash32(keys_[last]);
    size_t i = h & mask;
    while (slots_[i].pos != last + 1) i = (i + 1) & mask;
    slots_[i].pos = pos + 1;
    entries_[pos] = std::move(entries_[last]);
    keys_[pos] = keys_[last];
  }
  entries_.pop_back();
  keys_.pop_back();
}

void SyncCache::Apply(uint8_t type, const SyncFlow& f, int64_t now_unix,
                      int64_t now_ms) {
  const SyncFlowKey key = f.Key();
  const uint32_t h = Hash32(key);
  size_t slot = Find(key, h);
  if (type == kSyncCtDel) {
    if (slots_[slot].pos == 0) {
      ++stats_.delete_failed;
      return;
    }
    Count(entries_[slots_[slot].pos - 1].flow, -1);
    EraseAt(slot);
    ++stats_.deleted;
    return;
  }
  if (slots_[slot].pos != 0) {
    Entry& e = entries_[slots_[slot].pos - 1];
    Count(e.flow, -1);
    e.flow = f;
    e.refreshed_ms = now_ms;
    Count(f, +1);
    ++stats_.updated;
    return;
  }
  if (2 * (entries_.size() + 1) > slots_.size()) {
    Grow();
    slot = Find(key, h);
  }
  entries_.push_back(Entry{f, now_unix, now_ms});
  keys_.push_back(key);
  slots_[slot] = Slot{h, static_cast<uint32_t>(entries_.size())};
  Count(f, +1);
  ++stats_.created;
}

void SyncCache::ApplyExpect(uint8_t type, const SyncExpect& e,
                            int64_t now_unix) {
  ExpectKey key{TupleKey(e.master), TupleKey(e.expected)};
  if (type == kSyncExpDel) {
    expects_.erase(key);
    return;
  }
  auto [it, inserted] = expects_.try_emplace(key);
  if (inserted) it->second.created_unix = now_unix;
  it->second.expect = e;
}

const SyncCache::Entry* SyncCache::Find(const SyncFlow& f) const {
  const SyncFlowKey key = f.Key();
  const Slot& s = slots_[Find(key, Hash32(key))];
  return s.pos == 0 ? nullptr : &entries_[s.pos - 1];
}

size_t SyncCache::ExpireBefore(
    int64_t deadline_ms, const std::function<void(const SyncFlow&)>& gone) {
  size_t n = 0;
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].refreshed_ms >= deadline_ms) continue;
    if (gone) gone(entries_[i].flow);
    Count(entries_[i].flow, -1);
    EraseAt(Find(keys_[i], Hash32(keys_[i])));
    ++n;
  }
  return n;
}

void SyncCache::Clear() {
  entries_.clear();
  keys_.clear();
  slots_.assign(1024, Slot{});
  expects_.clear();
  std::fill(counts_.begin(), counts_.end(), 0);
}

void SyncCache::ForEach(const std::function<void(const Entry&)>& fn) const {
  for (const auto& e : entries_) fn(e);
}

void SyncCache::ForEachExpect(
    const std::function<void(const ExpectEntry&)>& fn) const {
  for (const auto& [k, e] : expects_) fn(e);
}

size_t SyncCache::MemoryBytes() const {
  const size_t enode =
      sizeof(ExpectKey) + sizeof(SyncExpect) + 2 * sizeof(void*);
  return entries_.capacity() * sizeof(Entry) +
         keys_.capacity() * sizeof(SyncFlowKey) + slots_.size() * sizeof(Slot) +
         counts_.size() * sizeof(int64_t) + expects_.size() * enode +
         expects_.bucket_count() * sizeof(void*);
}

}  // namespace ctcollect
