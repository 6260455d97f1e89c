// Per-namespace counters written by exactly one ingest thread and read by any
// number of snapshot readers without a lock.
//
// Thread safety: every mutating method may be called only from the owning
// ingest thread (single writer, so increments are a relaxed load + store, no
// locked instruction); Read*() / ForEach*() may be called from any thread at
// any time and see each counter atomically (not a consistent cut across
// counters, which Prometheus does not need).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "collector/base/single_writer_counter.h"
#include "collector/conntrack/dimensions.h"
#include "collector/flows/state_durations.h"

namespace ctcollect {

// Index of an entries gauge within one zone: family x protocol x state.
inline constexpr int kSeriesPerZone = kNumFamilies * kNumProtos * kMaxStates;
inline int SeriesIndex(Family f, Proto p, uint8_t state) {
  return (static_cast<int>(f) * kNumProtos + static_cast<int>(p)) * kMaxStates +
         state;
}

// Upper bounds of the flow duration histogram: flows from milliseconds
// (DNS) to the five days of TCP ESTABLISHED's default timeout and beyond.
inline constexpr double kDurationBounds[] = {
    0.001, 0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600, 86400, 432000};
inline constexpr int kNumDurationBounds =
    sizeof(kDurationBounds) / sizeof(kDurationBounds[0]);

// Why a resync dump was started (the `reason` label).
enum class ResyncReason : uint8_t { kStartup, kInterval, kOverrun, kRequest };
inline constexpr int kNumResyncReasons = 4;
std::string_view ResyncReasonName(ResyncReason r);

class CounterShard {
 public:
  // Entries gauges of one conntrack zone. Blocks are created by the writer
  // and published on a lock-free list; they live as long as the shard.
  struct ZoneBlock {
    explicit ZoneBlock(uint16_t z) : zone(z) {}
    const uint16_t zone;
    std::array<SingleWriterCounter, kSeriesPerZone> entries;
    // Set once a series has held a flow, so it is exported (as 0 when empty)
    // instead of appearing and vanishing with its first and last flow.
    std::array<std::atomic<bool>, kSeriesPerZone> seen{};
    ZoneBlock* next = nullptr;  // immutable once published
  };

  // What a LabelBlock counts for: a flow class, a timeout policy, a
  // conntrack helper.
  enum class LabelKind : uint8_t { kClass, kPolicy, kHelper };
  static constexpr int kNumLabelKinds = 3;

  // Entries by protocol and state, and NEW flows by protocol, of one value
  // of a label (a class, a policy, a helper), found by name, so that a
  // value kept across a config reload keeps counting where it was. Blocks
  // are created by the writer and live as long as the shard; a value that
  // went away stays allocated (about 2 KiB) but inactive, and resumes its
  // counters if it comes back.
  struct LabelBlock {
    explicit LabelBlock(std::string n) : name(std::move(n)) {}
    const std::string name;
    // Writer side.
    void AddEntry(Proto p, uint8_t state, int64_t d) {
      int i = static_cast<int>(p) * kMaxStates + state;
      entries[i].Add(d);
      if (!seen[i].load(std::memory_order_relaxed)) {
        seen[i].store(true, std::memory_order_relaxed);
      }
    }
    std::array<SingleWriterCounter, kNumProtos * kMaxStates> entries;
    std::array<std::atomic<bool>, kNumProtos * kMaxStates> seen{};
    std::array<SingleWriterCounter, kNumProtos> flows;  // NEW events
    std::atomic<bool> active{true};  // in the current configuration
    LabelBlock* next = nullptr;      // immutable once published
    // How long flows stayed in each state (policy blocks only), made by
    // the writer on first use; null until then.
    StateDurations* Durations() {
      StateDurations* d = durations.load(std::memory_order_relaxed);
      if (d == nullptr) {
        d = new StateDurations();
        durations.store(d, std::memory_order_release);
      }
      return d;
    }
    std::atomic<StateDurations*> durations{nullptr};
    ~LabelBlock() { delete durations.load(); }
  };

  CounterShard() = default;
  ~CounterShard();
  CounterShard(const CounterShard&) = delete;
  CounterShard& operator=(const CounterShard&) = delete;

  // --- writer side ---
  // The block of `name`, created on first use, marked active. On a new
  // configuration call Deactivate() first, then BlockFor() for each value.
  LabelBlock* BlockFor(LabelKind kind, const std::string& name);
  void Deactivate(LabelKind kind);
  void AddEntry(uint16_t zone, Family f, Proto p, uint8_t state, int64_t d);
  void CountEvent(EventType t, Family f, Proto p) {
    events_[static_cast<int>(t)][static_cast<int>(f)][static_cast<int>(p)].Add(
        1);
  }
  void CountTransition(Proto p, uint8_t from, uint8_t to) {
    transitions_[static_cast<int>(p)][from][to].Add(1);
  }
  // Bytes and packets of a flow that ended, from its DESTROY event (present
  // when nf_conntrack_acct is on). dir 0 = original, 1 = reply.
  void AddTraffic(Family f, Proto p, int dir, uint64_t bytes,
                  uint64_t packets) {
    flow_bytes_[static_cast<int>(f)][static_cast<int>(p)][dir].Add(
        static_cast<int64_t>(bytes));
    flow_packets_[static_cast<int>(f)][static_cast<int>(p)][dir].Add(
        static_cast<int64_t>(packets));
  }
  // A flow that ended after `seconds` (DESTROY with timestamps on).
  void ObserveDuration(Family f, Proto p, double seconds) {
    int fi = static_cast<int>(f), pi = static_cast<int>(p);
    int b = 0;
    while (b < kNumDurationBounds && seconds > kDurationBounds[b]) ++b;
    duration_buckets_[fi][pi][b].Add(1);
    duration_sum_us_[fi][pi].Add(static_cast<int64_t>(seconds * 1e6));
  }
  void AddStatus(uint8_t bits, int64_t d) {
    for (int i = 0; i < kNumFlowStatus; ++i) {
      if (bits & (1 << i)) status_[i].Add(d);
    }
  }
  // The flow-table ("cache") view conntrackd's `-s` reports.
  SingleWriterCounter& flows_added() { return flows_added_; }
  SingleWriterCounter& flows_updated() { return flows_updated_; }
  SingleWriterCounter& flows_removed() { return flows_removed_; }
  SingleWriterCounter& overruns() { return overruns_; }
  SingleWriterCounter& parse_errors() { return parse_errors_; }
  SingleWriterCounter& destroy_unknown() { return destroy_unknown_; }
  SingleWriterCounter& resyncs(ResyncReason r) {
    return resyncs_[static_cast<int>(r)];
  }

  // --- reader side (any thread) ---
  // Calls fn for every active block of `kind`.
  void ForEachBlock(LabelKind kind,
                    const std::function<void(const LabelBlock&)>& fn) const;
  // Calls fn for every exported entries series (see ZoneBlock::seen).
  void ForEachEntries(
      const std::function<void(uint16_t zone, Family, Proto, uint8_t state,
                               int64_t)>& fn) const;
  int64_t Events(EventType t, Family f, Proto p) const {
    return events_[static_cast<int>(t)][static_cast<int>(f)]
                  [static_cast<int>(p)]
                      .Get();
  }
  int64_t Transitions(Proto p, uint8_t from, uint8_t to) const {
    return transitions_[static_cast<int>(p)][from][to].Get();
  }
  int64_t FlowBytes(Family f, Proto p, int dir) const {
    return flow_bytes_[static_cast<int>(f)][static_cast<int>(p)][dir].Get();
  }
  int64_t FlowPackets(Family f, Proto p, int dir) const {
    return flow_packets_[static_cast<int>(f)][static_cast<int>(p)][dir].Get();
  }
  int64_t StatusEntries(int bit_index) const {
    return status_[bit_index].Get();
  }
  // Non-cumulative count of bucket b (b == kNumDurationBounds: above all).
  int64_t DurationBucket(Family f, Proto p, int b) const {
    return duration_buckets_[static_cast<int>(f)][static_cast<int>(p)][b].Get();
  }
  double DurationSum(Family f, Proto p) const {
    return static_cast<double>(
               duration_sum_us_[static_cast<int>(f)][static_cast<int>(p)]
                   .Get()) /
           1e6;
  }
  const SingleWriterCounter& flows_added() const { return flows_added_; }
  const SingleWriterCounter& flows_updated() const { return flows_updated_; }
  const SingleWriterCounter& flows_removed() const { return flows_removed_; }
  const SingleWriterCounter& overruns() const { return overruns_; }
  const SingleWriterCounter& parse_errors() const { return parse_errors_; }
  const SingleWriterCounter& destroy_unknown() const {
    return destroy_unknown_;
  }
  const SingleWriterCounter& resyncs(ResyncReason r) const {
    return resyncs_[static_cast<int>(r)];
  }

 private:
  ZoneBlock* BlockFor(uint16_t zone);  // writer only

  ZoneBlock* zone0_ = nullptr;                                 // writer cache
  std::unordered_map<uint16_t, ZoneBlock*> zone_index_;        // writer only
  std::atomic<ZoneBlock*> head_{nullptr};                      // readers walk
  std::atomic<LabelBlock*> label_heads_[kNumLabelKinds] = {};  // readers walk
  SingleWriterCounter events_[kNumEventTypes][kNumFamilies][kNumProtos];
  SingleWriterCounter transitions_[kNumProtos][kMaxStates][kMaxStates];
  SingleWriterCounter flow_bytes_[kNumFamilies][kNumProtos][2];
  SingleWriterCounter flow_packets_[kNumFamilies][kNumProtos][2];
  SingleWriterCounter status_[kNumFlowStatus];
  SingleWriterCounter duration_buckets_[kNumFamilies][kNumProtos]
                                       [kNumDurationBounds + 1];
  SingleWriterCounter duration_sum_us_[kNumFamilies][kNumProtos];
  SingleWriterCounter flows_added_;
  SingleWriterCounter flows_updated_;
  SingleWriterCounter flows_removed_;
  SingleWriterCounter overruns_;
  SingleWriterCounter parse_errors_;
  SingleWriterCounter destroy_unknown_;
  SingleWriterCounter resyncs_[kNumResyncReasons];
};

}  // namespace ctcollect
