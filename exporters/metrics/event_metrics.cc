// Events received and the state transitions they carried.
#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectEventMetrics(const Snapshot& s, MetricFamilies* out) {
  {
    MetricFamily& f = AddFamily(
        out, "conntrack_events_total",
        "Conntrack events received from the kernel by type, family and "
        "protocol.",
        MetricType::Counter);
    for (const auto& ns : s.netns) {
      for (int t = 0; t < kNumEventTypes; ++t) {
        for (int fam = 0; fam < kNumFamilies; ++fam) {
          for (int p = 0; p < kNumProtos; ++p) {
            // The summary: only the family/protocol pairs that had events.
            if (!ns.full_detail && !HadEvents(ns, fam, p)) continue;
            AddSample(&f,
                      {{"netns", ns.netns},
                       {"type", S(EventTypeName(static_cast<EventType>(t)))},
                       {"family", S(FamilyName(static_cast<Family>(fam)))},
                       {"protocol", S(ProtoName(static_cast<Proto>(p)))}},
                      static_cast<double>(ns.events[t][fam][p]));
          }
        }
      }
    }
  }
  {
    MetricFamily& f = AddFamily(
        out, "conntrack_state_transitions_total",
        "State changes of tracked flows seen in UPDATE events, by protocol "
        "and from/to state.",
        MetricType::Counter);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      for (const auto& t : ns.transitions) {
        AddSample(&f,
                  {{"netns", ns.netns},
                   {"protocol", S(ProtoName(t.proto))},
                   {"from", S(StateName(t.proto, t.from))},
                   {"to", S(StateName(t.proto, t.to))}},
                  static_cast<double>(t.value));
      }
    }
  }
}

}  // namespace ctcollect
