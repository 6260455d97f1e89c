// One top-talker ranking of one namespace: table entries per key, in
// bounded memory whatever the number of distinct keys.
//
// While a ranking has few keys (Limits::exact_keys) every key is counted
// exactly. Past that it counts every key in a count-min sketch (depth 4,
// Limits::width counters a row; a create adds one in each row, a destroy
// takes one away, so no counter is ever below its keys' true total), and
// counts exactly, beside it, the keys that lead: a key whose sketch
// estimate reaches the promotion threshold T = max(2, ceil(share * table))
// is tracked from then on, starting from that estimate, and is let go
// again when it falls below T/2 (its count stays in the sketch).
//
// The error of a tracked key is what the sketch over-counted it by at its
// promotion, and is never negative. A row over-counts a key by the entries
// of the keys that share its counter: (table - key) / width on average,
// so by Markov's inequality a row over-counts by more than share * table
// with probability at most 1 / (width * share) (0.12 at the defaults), and
// all four rows do with probability at most 0.12^4 = 2.2e-4. Each tracked
// key carries that bound (`error`, never more than its promotion estimate
// less one) so readers can say how exact a figure is; keys counted from
// the start (exact mode, or pinned by a resync) carry 0.
//
// Memory: 72 bytes a tracked slot (at most 2 * tracked_max slots) plus
// 4 * 4 * width bytes once sketching: 416 KiB at the defaults.
//
// Thread safety: not thread-safe; TopTalkers serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "collector/base/open_table.h"
#include "collector/top/top_key.h"

namespace ctcollect {

class HeavyHitters {
 public:
  struct Limits {
    size_t exact_keys = 1024;   // counted exactly up to this many keys
    size_t tracked_max = 1536;  // keys counted exactly while sketching
    uint32_t width = 8192;  // counters a sketch row (a power of two, <= 65536)
    double share = 0.001;   // promotion threshold, a share of the table
  };
  static constexpr int kDepth = 4;
  // Creation rates are over a sliding window of this many seconds.
  static constexpr uint32_t kRateWindowS = 10;

  HeavyHitters(uint64_t seed, const Limits& limits);
  HeavyHitters(const HeavyHitters&) = delete;
  HeavyHitters& operator=(const HeavyHitters&) = delete;

  // One flow of `key` more (delta +1) or fewer (-1). `table` is the
  // namespace's entries after the change (thresholds are shares of it);
  // `created` marks a new flow, for the creation rate.
  void Add(const TopKey& key, int32_t delta, int64_t table, bool created,
           uint32_t now_s);
  // Counts `key` exactly from now on (from zero), whatever its count,
  // until Unpin: a resync recounts the keys that were ranked.
  void Pin(const TopKey& key);
  void Unpin();

  struct Item {
    TopKey key;
    int64_t entries = 0;
    int64_t error = 0;  // entries over-counts the key by at most this
    double new_per_second = 0;
  };
  // The `n` keys with the most entries (at least one), most first, ties
  // by key bytes.
  std::vector<Item> Top(size_t n, uint32_t now_s) const;
  // Every counted key with at least `min_entries`, in no order.
  std::vector<Item> AtLeast(int64_t min_entries, uint32_t now_s) const;
  // Copies the creation-rate windows of the keys `from` also counts.
  void TakeRates(const HeavyHitters& from);

  bool sketching() const { return sketch_ != nullptr; }
  // The sketch's estimate for `key` (exact count when not sketching, or
  // the tracked count); for tests.
  int64_t Estimate(const TopKey& key) const;
  size_t tracked() const { return table_.size(); }
  size_t bytes() const;
  int64_t Threshold(int64_t table) const;

 private:
  struct Tracked {
    uint64_t hash;
    TopKey key;
    int32_t count;
    uint32_t error;
    uint32_t window;  // now_s / kRateWindowS of `cur`
    uint32_t cur;     // creations in that window
    uint32_t prev;    // and in the one before
    uint8_t meta;
    static constexpr uint8_t kUsed = 0x80;
    static constexpr uint8_t kPinned = 0x01;
  };
  struct Probe {
    const TopKey* key;
    uint64_t hash;
  };
  struct Traits {
    using Key = Probe;
    static constexpr size_t kMaxLoadPercent = 75;
    static uint64_t Hash(const Probe& p) { return p.hash; }
    static uint64_t Hash(const Tracked& r) { return r.hash; }
    static bool Used(const Tracked& r) { return r.meta & Tracked::kUsed; }
    static bool Matches(const Tracked& r, const Probe& p, uint64_t hash) {
      return r.hash == hash && r.key == *p.key;
    }
    static void Claim(Tracked* r, const Probe& p, uint64_t hash) {
      r->hash = hash;
      r->key = *p.key;
      r->meta = Tracked::kUsed;
    }
    static void Release(Tracked* r) { r->meta = 0; }
  };

  // The table's changes, which invalidate memo_.
  Tracked* Insert(const Probe& probe, bool* inserted);
  void Erase(Tracked* t);
  template <typename Pred>
  void EraseIf(Pred pred);
  // The counter of `row` for a key whose Remix-ed hash is `rows_hash`.
  size_t Cell(uint64_t rows_hash, int row) const;
  // The sketch's estimate after adding `delta` to every row of `hash`.
  int64_t SketchAdd(uint64_t hash, int32_t delta);
  int64_t SketchEstimate(uint64_t hash) const;
  void StartSketching(int64_t table);
  // Makes room for one more tracked key, of estimate `estimate`; false
  // when every tracked key leads it.
  bool MakeRoom(int64_t estimate, int64_t table);
  static void CountCreation(Tracked* t, uint32_t now_s);
  static double Rate(const Tracked& t, uint32_t now_s);
  Item ItemOf(const Tracked& t, uint32_t now_s) const;

  // The key Add saw last, its hash and its record (null: not counted
  // here): a storm brings the same destination and port, often the same
  // source, event after event. Valid until the table changes.
  struct Memo {
    bool valid = false;
    TopKey key;
    uint64_t hash = 0;
    Tracked* record = nullptr;
  };

  uint64_t seed_;
  Limits limits_;
  int width_bits_ = 0;
  OpenTable<Tracked, Traits> table_{16};
  std::unique_ptr<int32_t[]> sketch_;  // kDepth rows of width counters
  Memo memo_;
};

}  // namespace ctcollect
