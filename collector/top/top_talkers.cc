#include "collector/top/top_talkers.h"

#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ctcollect {
namespace {

uint64_t RandomSeed() {
  // A seed nobody outside knows, so that no one can choose addresses that
  // collide in the sketch on purpose.
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
    seed = reinterpret_cast<uintptr_t>(&seed) ^ 0x9e3779b97f4a7c15ull;
  }
  return seed;
}

}  // namespace

TopTalkers::Generation::Generation(uint64_t seed,
                                   const HeavyHitters::Limits& limits) {
  for (auto& h : by) h = std::make_unique<HeavyHitters>(seed, limits);
}

size_t TopTalkers::Generation::bytes() const {
  size_t n = sizeof(*this);
  for (const auto& h : by) n += sizeof(HeavyHitters) + h->bytes();
  return n;
}

TopTalkers::TopTalkers(const HeavyHitters::Limits& limits)
    : limits_(limits), seed_(RandomSeed()) {
  MutexLock l(&mu_);
  live_ = std::make_unique<Generation>(seed_, limits_);
}

void TopTalkers::Apply(Generation* g, const FlowTopKeys& k, int32_t delta,
                       bool created, uint32_t now_s, int64_t table_at_least) {
  g->flows += delta;
  // Thresholds are shares of the table. A dump's generation starts empty
  // and fills as the dump goes; the live one knows how large the table
  // is meanwhile, so that a key the sketch over-counts by a collision or
  // two is not taken in while the dump's generation is still small.
  const int64_t table = std::max(g->flows, table_at_least);
  for (int i = 0; i < kNumTopBy; ++i) {
    if (k.has & (1u << i)) {
      g->by[i]->Add(k.keys[i], delta, table, created, now_s);
    }
  }
}

void TopTalkers::Count(const CtMessage& m, int32_t live, int32_t dump,
                       bool created, uint32_t now_s) {
  if (live == 0 && dump == 0) return;
  const FlowTopKeys k = TopKeysOf(m);
  MutexLock l(&mu_);
  if (live != 0) Apply(live_.get(), k, live, created, now_s);
  if (dump != 0 && next_) {
    Apply(next_.get(), k, dump, /*created=*/false, now_s, live_->flows);
  }
}

void TopTalkers::BeginDump() {
  MutexLock l(&mu_);
  next_ = std::make_unique<Generation>(seed_, limits_);
  for (int i = 0; i < kNumTopBy; ++i) {
    const HeavyHitters& h = *live_->by[i];
    for (const auto& item : h.AtLeast(h.Threshold(live_->flows), 0)) {
      next_->by[i]->Pin(item.key);
    }
  }
}

void TopTalkers::EndDump(bool complete) {
  MutexLock l(&mu_);
  if (!next_) return;
  if (complete) {
    for (int i = 0; i < kNumTopBy; ++i) {
      next_->by[i]->Unpin();
      next_->by[i]->TakeRates(*live_->by[i]);
    }
    live_ = std::move(next_);
    exact_at_ = std::chrono::duration<double>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  }
  next_.reset();
}

TopRanking TopTalkers::Rank(TopBy by, size_t limit, uint32_t now_s) const {
  TopRanking r;
  MutexLock l(&mu_);
  r.entries = live_->flows;
  r.exact_at = exact_at_;
  for (const auto& item : live_->by[static_cast<int>(by)]->Top(limit, now_s)) {
    r.max_error = std::max(r.max_error, item.error);
    r.top.push_back(TopItem{FormatTopKey(by, item.key), item.entries,
                            item.error, item.new_per_second});
  }
  return r;
}

TopSample TopTalkers::Sample(double min_share, uint32_t now_s) const {
  TopSample s;
  MutexLock l(&mu_);
  const int64_t min_entries = std::max<int64_t>(
      1, static_cast<int64_t>(
             std::ceil(min_share * static_cast<double>(live_->flows))));
  for (int i = 0; i < kNumTopBy; ++i) {
    const TopBy by = static_cast<TopBy>(i);
    const HeavyHitters& h = *live_->by[i];
    for (const auto& item : h.AtLeast(min_entries, now_s)) {
      s.keys.push_back({by, FormatTopKey(by, item.key), item.entries});
    }
    if (by != TopBy::kSnat) continue;
    for (const auto& item : h.AtLeast(1, now_s)) {
      auto it = std::find_if(
          s.snat_max.begin(), s.snat_max.end(),
          [&](const auto& p) { return p.first == item.key.l4proto; });
      if (it == s.snat_max.end()) {
        s.snat_max.emplace_back(item.key.l4proto, item.entries);
      } else {
        it->second = std::max(it->second, item.entries);
      }
    }
  }
  return s;
}

size_t TopTalkers::bytes() const {
  MutexLock l(&mu_);
  return sizeof(*this) + live_->bytes() + (next_ ? next_->bytes() : 0);
}

}  // namespace ctcollect
