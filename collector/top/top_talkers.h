// The top-talker rankings of one network namespace (src, dst, dport,
// snat: see top_key.h), kept from the flow tracker's own view of the table
// so that they agree with its gauges.
//
// Two generations: `live`, which every change the tracker makes to its
// table updates, and during a resync dump `next`, counted from scratch
// from what the dump (and the events that arrive meanwhile) say is in the
// table. At the end of a complete dump `next` replaces `live`: flows whose
// DESTROY was lost, which the tracker sweeps without knowing their tuples,
// leave the rankings with it. The keys ranked when the dump starts are
// pinned in `next`, so the dump recounts them exactly.
//
// Memory: each generation is four HeavyHitters (at most 1.7 MiB at the
// defaults, whatever the number of keys); an idle namespace's is a few KiB.
//
// Thread safety: the change methods from the one ingest thread that owns
// the tracker; the readers (Rank, Sample, bytes) from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/base/mutex.h"
#include "collector/top/heavy_hitters.h"
#include "collector/top/top_key.h"

namespace ctcollect {

struct TopItem {
  std::string key;  // FormatTopKey
  int64_t entries = 0;
  int64_t error = 0;  // entries is at most this much too high
  double new_per_second = 0;
};

// One ranking of one namespace, as the API answers it.
struct TopRanking {
  int64_t entries = 0;    // the namespace's table, as the tracker counts it
  double exact_at = 0;    // Unix time of the last complete dump (0: none)
  int64_t max_error = 0;  // the largest error of `top`
  std::vector<TopItem> top;
};

struct NetnsTopRanking {
  std::string netns;  // the --netns label; "" for the daemon's own
  TopRanking ranking;
};

// The keys for the metrics: per ranking, those holding at least a share of
// the table; and per protocol the largest SNAT tuple.
struct TopSample {
  struct Entry {
    TopBy by;
    std::string key;
    int64_t entries;
  };
  std::vector<Entry> keys;
  std::vector<std::pair<uint8_t, int64_t>> snat_max;  // l4proto, entries
};

class TopTalkers {
 public:
  explicit TopTalkers(const HeavyHitters::Limits& limits = {});
  TopTalkers(const TopTalkers&) = delete;
  TopTalkers& operator=(const TopTalkers&) = delete;

  // The tracker counted the flow of `m` (+1) or took it out of its counts
  // (-1) in the live generation, and in the running dump's (see
  // FlowTracker for which flows that one holds); 0 leaves a generation as
  // it is. `created`: from a NEW event (for the creation rate). The keys
  // are worked out once, for both.
  void Count(const CtMessage& m, int32_t live, int32_t dump, bool created,
             uint32_t now_s);
  // The resync: a fresh generation for the dump, the ranked keys pinned.
  void BeginDump();
  // `complete` as FlowTracker::EndDump's; dates the ranking's exactness.
  void EndDump(bool complete);

  TopRanking Rank(TopBy by, size_t limit, uint32_t now_s) const;
  TopSample Sample(double min_share, uint32_t now_s) const;
  size_t bytes() const;

 private:
  struct Generation {
    Generation(uint64_t seed, const HeavyHitters::Limits& limits);
    std::unique_ptr<HeavyHitters> by[kNumTopBy];
    int64_t flows = 0;
    size_t bytes() const;
  };
  static void Apply(Generation* g, const FlowTopKeys& k, int32_t delta,
                    bool created, uint32_t now_s, int64_t table_at_least = 0);

  const HeavyHitters::Limits limits_;
  const uint64_t seed_;
  mutable Mutex mu_;
  std::unique_ptr<Generation> live_ GUARDED_BY(mu_);
  std::unique_ptr<Generation> next_ GUARDED_BY(mu_);
  double exact_at_ GUARDED_BY(mu_) = 0;
};

}  // namespace ctcollect
