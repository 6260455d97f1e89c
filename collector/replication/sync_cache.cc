#include "collector/replication/sync_cache.h"

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

}  // namespace

SyncCache::SyncCache() = default;

size_t SyncCache::BucketOf(const SyncFlow& f) {
  const bool stateful =
      f.Has(kNtaTcpState) || f.Has(kNtaSctpState) || f.Has(kNtaDccpState);
  const size_t state = !stateful ? 16 : f.state < 16 ? f.state : 17;
  const size_t fam = f.family == AF_INET6 ? 1 : 0;
  return (fam * 256 + f.l4proto) * kStates + state;
}

std::map<SyncCache::BucketKey, int64_t> SyncCache::buckets() const {
  std::map<BucketKey, int64_t> out;
  for (size_t i = 0; counts_ && i < kBuckets; ++i) {
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

void SyncCache::EraseAt(size_t pos, const SyncFlowKey& key) {
  index_.Erase(key);
  // Keep the entries dense: the last one moves into the freed position.
  const size_t last = entries_.size() - 1;
  if (pos != last) {
    entries_[pos] = std::move(entries_[last]);
    index_.Put(entries_[pos].flow.Key(), pos);
  }
  entries_.pop_back();
}

void SyncCache::Apply(uint8_t type, const SyncFlow& f, int64_t now_unix,
                      int64_t now_ms) {
  const SyncFlowKey key = f.Key();
  uint64_t* pos = index_.Find(key);
  if (type == kSyncCtDel) {
    if (pos == nullptr) {
      ++stats_.delete_failed;
      return;
    }
    Count(entries_[*pos].flow, -1);
    EraseAt(*pos, key);
    ++stats_.deleted;
    return;
  }
  if (pos != nullptr) {
    Entry& e = entries_[*pos];
    Count(e.flow, -1);
    e.flow = f;
    e.refreshed_ms = now_ms;
    Count(f, +1);
    ++stats_.updated;
    return;
  }
  entries_.push_back(Entry{f, now_unix, now_ms});
  index_.Put(key, entries_.size() - 1);
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
  const uint64_t* pos = index_.Find(f.Key());
  return pos == nullptr ? nullptr : &entries_[*pos];
}

size_t SyncCache::ExpireBefore(
    int64_t deadline_ms, const std::function<void(const SyncFlow&)>& gone) {
  size_t n = 0;
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].refreshed_ms >= deadline_ms) continue;
    if (gone) gone(entries_[i].flow);
    Count(entries_[i].flow, -1);
    EraseAt(i, entries_[i].flow.Key());
    ++n;
  }
  return n;
}

void SyncCache::Clear() {
  entries_.clear();
  index_.Clear();
  expects_.clear();
  counts_.reset();
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
  return entries_.capacity() * sizeof(Entry) + index_.MemoryBytes() +
         (counts_ ? kBuckets * sizeof(int64_t) : 0) + expects_.size() * enode +
         expects_.bucket_count() * sizeof(void*);
}

}  // namespace ctcollect
