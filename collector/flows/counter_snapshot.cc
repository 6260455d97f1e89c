#include "collector/flows/counter_snapshot.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace ctcollect {

void CopyCounters(const CounterShard& c, NetnsSnapshot* out) {
  c.ForEachEntries([&](uint16_t zone, Family f, Proto p, uint8_t s, int64_t v) {
    out->entries.push_back({zone, f, p, s, v});
  });
  for (int t = 0; t < kNumEventTypes; ++t) {
    for (int f = 0; f < kNumFamilies; ++f) {
      for (int p = 0; p < kNumProtos; ++p) {
        out->events[t][f][p] =
            c.Events(static_cast<EventType>(t), static_cast<Family>(f),
                     static_cast<Proto>(p));
        if (t == 0) {
          for (int b = 0; b <= kNumDurationBounds; ++b) {
            out->flow_duration_buckets[f][p][b] = c.DurationBucket(
                static_cast<Family>(f), static_cast<Proto>(p), b);
          }
          out->flow_duration_sum[f][p] =
              c.DurationSum(static_cast<Family>(f), static_cast<Proto>(p));
        }
        if (t < 2) {
          out->flow_bytes[f][p][t] =
              c.FlowBytes(static_cast<Family>(f), static_cast<Proto>(p), t);
          out->flow_packets[f][p][t] =
              c.FlowPackets(static_cast<Family>(f), static_cast<Proto>(p), t);
        }
      }
    }
  }
  for (int p = 0; p < kNumProtos; ++p) {
    Proto proto = static_cast<Proto>(p);
    if (!ProtoHasStates(proto)) continue;
    for (int a = 0; a < kMaxStates; ++a) {
      for (int b = 0; b < kMaxStates; ++b) {
        int64_t v = c.Transitions(proto, a, b);
        if (v != 0) {
          out->transitions.push_back(
              {proto, static_cast<uint8_t>(a), static_cast<uint8_t>(b), v});
        }
      }
    }
  }
  for (int i = 0; i < kNumFlowStatus; ++i) {
    out->status_entries[i] = c.StatusEntries(i);
  }
  using LabelKind = CounterShard::LabelKind;
  auto collect = [&](LabelKind kind, std::vector<LabelSample>* into) {
    c.ForEachBlock(kind, [&](const CounterShard::LabelBlock& b) {
      LabelSample c;
      c.name = b.name;
      for (int p = 0; p < kNumProtos; ++p) {
        c.flows[p] = b.flows[p].Get();
        for (int st = 0; st < kMaxStates; ++st) {
          int i = p * kMaxStates + st;
          c.seen[p][st] = b.seen[i].load(std::memory_order_relaxed);
          c.entries[p][st] = b.entries[i].Get();
        }
      }
      into->push_back(std::move(c));
    });
    std::sort(into->begin(), into->end(),
              [](const LabelSample& a, const LabelSample& b) {
                return a.name < b.name;
              });
  };
  collect(LabelKind::kClass, &out->classes);
  collect(LabelKind::kPolicy, &out->policy_entries);
  collect(LabelKind::kHelper, &out->helpers);
  out->flows_added = c.flows_added().Get();
  out->flows_updated = c.flows_updated().Get();
  out->flows_removed = c.flows_removed().Get();
  out->overruns = c.overruns().Get();
  out->parse_errors = c.parse_errors().Get();
  out->destroy_unknown = c.destroy_unknown().Get();
  for (int r = 0; r < kNumResyncReasons; ++r) {
    out->resyncs[r] = c.resyncs(static_cast<ResyncReason>(r)).Get();
  }
}

std::vector<PolicyDurations> CopyStateDurations(const CounterShard& c) {
  std::vector<PolicyDurations> out;
  c.ForEachBlock(
      CounterShard::LabelKind::kPolicy, [&](const CounterShard::LabelBlock& b) {
        const StateDurations* d = b.durations.load(std::memory_order_acquire);
        if (d == nullptr) return;
        auto copy = std::make_shared<StateDurationsCopy>();
        CopyDurations(*d, copy.get());
        out.push_back({b.name, std::move(copy)});
      });
  return out;
}

}  // namespace ctcollect
