// How long flows stay in each state, per protocol with states (TCP, SCTP,
// DCCP): the time a flow spent in a state before an event moved it on
// ("moved"), and the age in its current state of every flow the table
// holds at the last complete dump ("ages"). `ctcollect advise` turns them
// into timeout proposals. Buckets are geometric (factor 1.25 from 1 s), so
// a quantile read from them is within 25% above the truth.
//
// Thread safety: one writer (the ingest thread), any readers (each value
// is read atomically; "ages" is rebuilt at each dump, so a reader may see
// it half rebuilt, which an estimate tolerates).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "collector/base/single_writer_counter.h"
#include "collector/conntrack/dimensions.h"

namespace ctcollect {

inline constexpr int kDurationBuckets = 64;  // up to 1.25^62 s, ~11 years
inline constexpr int kStatefulProtos = 3;    // TCP, SCTP, DCCP

// Index among the protocols with states, or -1.
inline int StatefulIndex(Proto p) {
  switch (p) {
    case Proto::kTcp:
      return 0;
    case Proto::kSctp:
      return 1;
    case Proto::kDccp:
      return 2;
    default:
      return -1;
  }
}
inline Proto StatefulProto(int i) {
  static constexpr Proto kProtos[] = {Proto::kTcp, Proto::kSctp, Proto::kDccp};
  return kProtos[i];
}

// Bucket b holds durations in (Upper(b-1), Upper(b)]; bucket 0 is [0, 1 s].
inline double DurationBucketUpper(int b) { return std::pow(1.25, b); }
inline int DurationBucketOf(uint32_t seconds) {
  if (seconds <= 1) return 0;
  int b =
      static_cast<int>(std::ceil(std::log(seconds) / std::log(1.25) - 1e-9));
  return b < kDurationBuckets ? b : kDurationBuckets - 1;
}

struct StateDurations {
  using Histogram = std::array<SingleWriterCounter, kDurationBuckets>;
  Histogram moved[kStatefulProtos][kMaxStates];
  Histogram ages[kStatefulProtos][kMaxStates];
};

// A reader's copy.
struct StateDurationsCopy {
  int64_t moved[kStatefulProtos][kMaxStates][kDurationBuckets] = {};
  int64_t ages[kStatefulProtos][kMaxStates][kDurationBuckets] = {};
};
inline void CopyDurations(const StateDurations& d, StateDurationsCopy* out) {
  for (int p = 0; p < kStatefulProtos; ++p) {
    for (int s = 0; s < kMaxStates; ++s) {
      for (int b = 0; b < kDurationBuckets; ++b) {
        out->moved[p][s][b] = d.moved[p][s][b].Get();
        out->ages[p][s][b] = d.ages[p][s][b].Get();
      }
    }
  }
}

// One timeout policy's durations, as a watcher hands them to `advise`.
struct PolicyDurations {
  std::string policy;
  std::shared_ptr<StateDurationsCopy> durations;
};

}  // namespace ctcollect
