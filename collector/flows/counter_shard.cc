#include "collector/flows/counter_shard.h"

namespace ctcollect {

std::string_view ResyncReasonName(ResyncReason r) {
  switch (r) {
    case ResyncReason::kStartup:
      return "startup";
    case ResyncReason::kInterval:
      return "interval";
    case ResyncReason::kOverrun:
      return "overrun";
    case ResyncReason::kRequest:
      return "request";
  }
  return "unknown";
}

CounterShard::~CounterShard() {
  ZoneBlock* b = head_.load(std::memory_order_acquire);
  while (b != nullptr) {
    ZoneBlock* next = b->next;
    delete b;
    b = next;
  }
  for (auto& head : label_heads_) {
    LabelBlock* c = head.load(std::memory_order_acquire);
    while (c != nullptr) {
      LabelBlock* next = c->next;
      delete c;
      c = next;
    }
  }
}

CounterShard::LabelBlock* CounterShard::BlockFor(LabelKind kind,
                                                 const std::string& name) {
  auto& head = label_heads_[static_cast<int>(kind)];
  for (LabelBlock* c = head.load(std::memory_order_relaxed); c != nullptr;
       c = c->next) {
    if (c->name == name) {
      c->active.store(true, std::memory_order_relaxed);
      return c;
    }
  }
  auto* c = new LabelBlock(name);
  c->next = head.load(std::memory_order_relaxed);
  head.store(c, std::memory_order_release);
  return c;
}

void CounterShard::Deactivate(LabelKind kind) {
  for (LabelBlock* c =
           label_heads_[static_cast<int>(kind)].load(std::memory_order_relaxed);
       c != nullptr; c = c->next) {
    c->active.store(false, std::memory_order_relaxed);
  }
}

void CounterShard::ForEachBlock(
    LabelKind kind, const std::function<void(const LabelBlock&)>& fn) const {
  for (const LabelBlock* c =
           label_heads_[static_cast<int>(kind)].load(std::memory_order_acquire);
       c != nullptr; c = c->next) {
    if (c->active.load(std::memory_order_relaxed)) fn(*c);
  }
}

CounterShard::ZoneBlock* CounterShard::BlockFor(uint16_t zone) {
  if (zone == 0 && zone0_ != nullptr) return zone0_;
  auto it = zone_index_.find(zone);
  if (it != zone_index_.end()) return it->second;
  // A new zone: rare (zones are configured by the operator), so allocating
  // here does not put an allocation on the per-event path.
  auto* b = new ZoneBlock(zone);
  b->next = head_.load(std::memory_order_relaxed);
  head_.store(b, std::memory_order_release);
  zone_index_.emplace(zone, b);
  if (zone == 0) zone0_ = b;
  return b;
}

void CounterShard::AddEntry(uint16_t zone, Family f, Proto p, uint8_t state,
                            int64_t d) {
  ZoneBlock* b = BlockFor(zone);
  int i = SeriesIndex(f, p, state);
  b->entries[i].Add(d);
  if (!b->seen[i].load(std::memory_order_relaxed)) {
    b->seen[i].store(true, std::memory_order_relaxed);
  }
}

void CounterShard::ForEachEntries(
    const std::function<void(uint16_t, Family, Proto, uint8_t, int64_t)>& fn)
    const {
  for (const ZoneBlock* b = head_.load(std::memory_order_acquire); b != nullptr;
       b = b->next) {
    for (int f = 0; f < kNumFamilies; ++f) {
      for (int p = 0; p < kNumProtos; ++p) {
        int n = NumStates(static_cast<Proto>(p));
        for (int s = 0; s < n; ++s) {
          int i = SeriesIndex(static_cast<Family>(f), static_cast<Proto>(p), s);
          if (!b->seen[i].load(std::memory_order_relaxed)) continue;
          fn(b->zone, static_cast<Family>(f), static_cast<Proto>(p),
             static_cast<uint8_t>(s), b->entries[i].Get());
        }
      }
    }
  }
}

}  // namespace ctcollect
