// Applies conntrack events and dump entries of one network namespace to its
// FlowTable and CounterShard, and reconciles the table with each full dump.
//
// Reconciliation while events keep arriving (both streams are read by the
// same thread, in any interleaving):
//  - every event is applied as it comes; an event seen during a dump marks
//    its flow kTouched, and the dump does not overwrite a touched flow (the
//    event is at least as new as the dump's view of it);
//  - a DESTROY during a dump leaves a kDead tombstone so that a dump message
//    about the flow that was already queued cannot resurrect it;
//  - at the end of the dump every flow neither seen by the dump nor touched
//    by an event is gone from the kernel (its DESTROY was lost) and is
//    removed, together with the tombstones.
// After a quiet period and one dump, every gauge equals the kernel's truth.
//
// Thread safety: all methods on the one ingest thread that owns the tracker;
// the CounterShard it writes is readable from any thread, as are
// table_entries()/table_bytes().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "collector/conntrack/ct_message.h"
#include "collector/conntrack/timeout_policy.h"
#include "collector/flows/counter_shard.h"
#include "collector/flows/flow_class.h"
#include "collector/flows/flow_table.h"
#include "collector/flows/policy_attribution.h"
#include "collector/top/top_talkers.h"

namespace ctcollect {

inline constexpr uint8_t kNoHelper = 0xff;

class FlowTracker {
 public:
  // `top`, if not null, is told of every flow the table counts and stops
  // counting (by tuple), and of each dump (see TopTalkers).
  explicit FlowTracker(CounterShard* counters, TopTalkers* top = nullptr);

  // Replaces the flow classes. Every flow leaves its old class at once; a
  // flow joins its new class with its next event or the next dump, so the
  // class gauges are exact again after one resync (the caller requests
  // it). nullptr or an empty classifier turns classes off.
  void SetClassifier(std::shared_ptr<const FlowClassifier> classifier);
  // The timeout policies the kernel has now (at every resync), and the
  // operator's policy selectors; see PolicyAttributor.
  void SetPolicies(const std::vector<TimeoutPolicy>& policies);
  void SetPolicySelectors(const std::vector<PolicySelector>& selectors);

  // Applies one event message. `now_s` is a monotonic clock in seconds.
  void ApplyEvent(const CtMessage& m, uint32_t now_s);
  // Applies event messages in order, as ApplyEvent does each, after
  // prefetching all their table slots: at millions of flows every event's
  // slot is a cache (and TLB) miss, and a batch's misses then overlap
  // instead of adding up.
  void ApplyEventBatch(const CtMessage* msgs, size_t n, uint32_t now_s);

  // `expected` is the kernel's entry count, if known, to size the table once.
  void BeginDump(size_t expected = 0);
  // Sizes the table for `expected` flows at once (the kernel's count, when
  // it is known only after the dump began) rather than doubling it step by
  // step while a large dump streams in.
  void Reserve(size_t expected);
  void ApplyDumpEntry(const CtMessage& m, uint32_t now_s);
  // Applies a batch of dump entries, prefetching their table slots first.
  void ApplyDumpBatch(const CtMessage* msgs, size_t n, uint32_t now_s);
  // Ends the dump. `complete` is false when the dump was interrupted (e.g.
  // NLM_F_DUMP_INTR or an error): then nothing is swept, since flows may be
  // missing from it. Returns the number of stale flows removed.
  // `now_s` dates the age-in-state histograms (StateDurations::ages).
  size_t EndDump(bool complete, uint32_t now_s = 0);
  bool dumping() const { return dumping_; }

  // Published for readers on other threads.
  int64_t table_entries() const {
    return table_entries_.load(std::memory_order_relaxed);
  }
  int64_t table_bytes() const {
    return table_bytes_.load(std::memory_order_relaxed) +
           extra_bytes_.load(std::memory_order_relaxed);
  }

  // Writer-thread view, for tests.
  const FlowTable& table() const { return table_; }
  size_t live_flows() const { return table_.size() - tombstones_; }
  // Flows the running (or last) dump found that the table did not have.
  size_t dump_inserted() const { return dump_inserted_; }
  size_t flows_with_labels() const { return extras_.size(); }

 private:
  // The labels a flow may carry beyond its FlowRecord.
  struct Labels {
    uint8_t cls = kNoClass;
    uint8_t policy = kPolicyDefault;  // PolicyAttributor index
    uint8_t helper = kNoHelper;
    bool empty() const {
      return cls == kNoClass && policy == kPolicyDefault && helper == kNoHelper;
    }
    bool operator==(const Labels&) const = default;
  };
  // Stored only for flows that have a label: 12 bytes each, apart from
  // FlowRecord, so a table of flows without classes, non-default policies
  // or helpers costs nothing more.
  struct ExtraRecord {
    uint32_t id;
    uint16_t tag;
    uint8_t meta;  // kUsed
    uint8_t cls;
    uint8_t policy;
    uint8_t helper;
    uint16_t unused;
    static constexpr uint8_t kUsed = 0x80;
  };

  void Count(const FlowRecord& r, const Labels& l, int64_t d);
  Labels LabelsOf(const FlowRecord& r);
  void SetLabels(const FlowRecord& r, const Labels& old, const Labels& now);
  // Takes a flow out of the table's counts for good (DESTROY, sweep).
  void Forget(const FlowRecord& r);
  uint8_t HelperIndex(const char* name);
  CounterShard::LabelBlock* PolicyBlock(uint8_t index);
  void Publish();
  // Sets a record's labels from a message, moving its count between
  // buckets. Returns the flow's labels.
  Labels Relabel(FlowRecord* r, const CtMessage& m, bool counted,
                 uint32_t now_s, bool from_event);

  CounterShard* counters_;
  TopTalkers* top_;
  FlowTable table_;
  IdTable<ExtraRecord> extras_;
  std::shared_ptr<const FlowClassifier> classifier_;     // null: no classes
  std::vector<CounterShard::LabelBlock*> class_blocks_;  // by class index
  PolicyAttributor attributor_;
  std::vector<CounterShard::LabelBlock*> policy_blocks_;  // by index
  std::vector<CounterShard::LabelBlock*> helper_blocks_;  // by index
  bool dumping_ = false;
  uint8_t gen_ = 0;
  size_t dump_inserted_ = 0;
  size_t tombstones_ = 0;
  std::atomic<int64_t> table_entries_{0};
  std::atomic<int64_t> table_bytes_{0};
  std::atomic<int64_t> extra_bytes_{0};
};

}  // namespace ctcollect
