#include "collector/top/heavy_hitters.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ctcollect {
namespace {

uint64_t Remix(uint64_t h) {
  // A second, independent-looking hash for the sketch rows (the table's
  // slots use `h` itself): splitmix64's finaliser.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

bool Before(const HeavyHitters::Item& a, const HeavyHitters::Item& b) {
  if (a.entries != b.entries) return a.entries > b.entries;
  return std::memcmp(&a.key, &b.key, sizeof(TopKey)) < 0;
}

}  // namespace

HeavyHitters::HeavyHitters(uint64_t seed, const Limits& limits)
    : seed_(seed), limits_(limits) {
  while ((uint32_t{1} << width_bits_) < limits_.width) ++width_bits_;
  limits_.width = uint32_t{1} << width_bits_;
}

int64_t HeavyHitters::Threshold(int64_t table) const {
  const double t = std::ceil(limits_.share * static_cast<double>(table));
  return std::max<int64_t>(2, static_cast<int64_t>(t));
}

size_t HeavyHitters::Cell(uint64_t rows_hash, int row) const {
  // 16 bits of the row hash a row (width is at most 2^16).
  return static_cast<size_t>(row) * limits_.width +
         ((rows_hash >> (16 * row)) & (limits_.width - 1));
}

int64_t HeavyHitters::SketchAdd(uint64_t hash, int32_t delta) {
  const uint64_t g = Remix(hash);
  int64_t est = INT64_MAX;
  for (int i = 0; i < kDepth; ++i) {
    int32_t& c = sketch_[Cell(g, i)];
    c += delta;
    est = std::min<int64_t>(est, c);
  }
  return est;
}

int64_t HeavyHitters::SketchEstimate(uint64_t hash) const {
  const uint64_t g = Remix(hash);
  int64_t est = INT64_MAX;
  for (int i = 0; i < kDepth; ++i) {
    est = std::min<int64_t>(est, sketch_[Cell(g, i)]);
  }
  return est;
}

void HeavyHitters::CountCreation(Tracked* t, uint32_t now_s) {
  const uint32_t w = now_s / kRateWindowS;
  if (w != t->window) {
    t->prev = w == t->window + 1 ? t->cur : 0;
    t->cur = 0;
    t->window = w;
  }
  ++t->cur;
}

double HeavyHitters::Rate(const Tracked& t, uint32_t now_s) {
  // The sliding-window estimate: all of this window's creations and the
  // part of the last window's that the sliding window still covers.
  const uint32_t w = now_s / kRateWindowS;
  const double into = static_cast<double>(now_s % kRateWindowS) / kRateWindowS;
  double n = 0;
  if (w == t.window) {
    n = t.prev * (1 - into) + t.cur;
  } else if (w == t.window + 1) {
    n = t.cur * (1 - into);
  }
  return n / kRateWindowS;
}

void HeavyHitters::Add(const TopKey& key, int32_t delta, int64_t table,
                       bool created, uint32_t now_s) {
  if (!memo_.valid || !(memo_.key == key)) {
    memo_.key = key;
    memo_.hash = HashTopKey(key, seed_);
    memo_.record = table_.Find(Probe{&memo_.key, memo_.hash});
    memo_.valid = true;
  }
  const uint64_t hash = memo_.hash;
  const Probe probe{&key, hash};
  int64_t estimate = 0;
  if (sketch_) estimate = SketchAdd(hash, delta);
  if (Tracked* t = memo_.record) {
    t->count += delta;
    if (created && delta > 0) CountCreation(t, now_s);
    if (t->meta & Tracked::kPinned) return;
    if (!sketch_) {
      if (t->count <= 0) Erase(t);
    } else if (delta < 0 && t->count * 2 < Threshold(table)) {
      Erase(t);  // its entries stay in the sketch
    }
    return;
  }
  if (delta <= 0) return;  // not counted here (sketched, or never seen)
  if (sketch_) {
    if (estimate < Threshold(table) || !MakeRoom(estimate, table)) return;
    bool inserted;
    Tracked* t = Insert(probe, &inserted);
    t->count = static_cast<int32_t>(estimate);
    // At least this flow is the key's: the over-count is below the
    // estimate, and (see the header) below share * table but for a
    // 2.2e-4 chance.
    t->error = static_cast<uint32_t>(
        std::min<int64_t>(estimate - 1, Threshold(table)));
    if (created) CountCreation(t, now_s);
    return;
  }
  bool inserted;
  Tracked* t = Insert(probe, &inserted);
  t->count = delta;
  if (created) CountCreation(t, now_s);
  if (table_.size() > limits_.exact_keys) StartSketching(table);
}

HeavyHitters::Tracked* HeavyHitters::Insert(const Probe& probe,
                                            bool* inserted) {
  Tracked* t = table_.Insert(probe, inserted);
  memo_.valid = false;  // records may have moved
  return t;
}

void HeavyHitters::Erase(Tracked* t) {
  table_.Erase(t);
  memo_.valid = false;
}

template <typename Pred>
void HeavyHitters::EraseIf(Pred pred) {
  table_.EraseIf(pred);
  memo_.valid = false;
}

void HeavyHitters::StartSketching(int64_t table) {
  const size_t n = static_cast<size_t>(kDepth) * limits_.width;
  sketch_ = std::make_unique<int32_t[]>(n);  // zeroed
  const int64_t keep = Threshold(table);
  table_.ForEach([&](const Tracked& t) { SketchAdd(t.hash, t.count); });
  EraseIf([&](const Tracked& t) {
    return !(t.meta & Tracked::kPinned) && t.count * 2 < keep;
  });
}

bool HeavyHitters::MakeRoom(int64_t estimate, int64_t table) {
  if (table_.size() < limits_.tracked_max) return true;
  const int64_t threshold = Threshold(table);
  EraseIf([&](const Tracked& t) {
    return !(t.meta & Tracked::kPinned) && t.count < threshold;
  });
  if (table_.size() < limits_.tracked_max) return true;
  // Every tracked key is at the threshold (or pinned): the newcomer takes
  // the place of the smallest if it leads it.
  Tracked* smallest = nullptr;
  table_.ForEach([&](Tracked& t) {
    if (!(t.meta & Tracked::kPinned) &&
        (smallest == nullptr || t.count < smallest->count)) {
      smallest = &t;
    }
  });
  if (smallest == nullptr || smallest->count >= estimate) return false;
  Erase(smallest);
  return true;
}

void HeavyHitters::Pin(const TopKey& key) {
  bool inserted;
  Tracked* t = Insert(Probe{&key, HashTopKey(key, seed_)}, &inserted);
  t->meta |= Tracked::kPinned;
}

void HeavyHitters::Unpin() {
  EraseIf([&](Tracked& t) {
    t.meta &= static_cast<uint8_t>(~Tracked::kPinned);
    return t.count <= 0;
  });
}

HeavyHitters::Item HeavyHitters::ItemOf(const Tracked& t,
                                        uint32_t now_s) const {
  Item it;
  it.key = t.key;
  it.entries = t.count;
  it.error = t.error;
  it.new_per_second = Rate(t, now_s);
  return it;
}

std::vector<HeavyHitters::Item> HeavyHitters::AtLeast(int64_t min_entries,
                                                      uint32_t now_s) const {
  std::vector<Item> out;
  table_.ForEach([&](const Tracked& t) {
    if (t.count >= std::max<int64_t>(1, min_entries)) {
      out.push_back(ItemOf(t, now_s));
    }
  });
  std::sort(out.begin(), out.end(), Before);
  return out;
}

std::vector<HeavyHitters::Item> HeavyHitters::Top(size_t n,
                                                  uint32_t now_s) const {
  std::vector<Item> all = AtLeast(1, now_s);
  if (all.size() > n) all.resize(n);
  return all;
}

void HeavyHitters::TakeRates(const HeavyHitters& from) {
  table_.ForEach([&](Tracked& t) {
    const Tracked* f =
        from.table_.Find(Probe{&t.key, HashTopKey(t.key, from.seed_)});
    if (f != nullptr) {
      t.window = f->window;
      t.cur = f->cur;
      t.prev = f->prev;
    }
  });
}

int64_t HeavyHitters::Estimate(const TopKey& key) const {
  const uint64_t hash = HashTopKey(key, seed_);
  if (const Tracked* t = table_.Find(Probe{&key, hash})) return t->count;
  return sketch_ ? SketchEstimate(hash) : 0;
}

size_t HeavyHitters::bytes() const {
  return table_.bytes() +
         (sketch_ ? sizeof(int32_t) * kDepth * limits_.width : 0);
}

}  // namespace ctcollect
