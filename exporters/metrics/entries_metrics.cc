// Table entries by family, protocol, state and zone, and by status flag.
#include <string_view>

#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectEntryMetrics(const Snapshot& s, MetricFamilies* out) {
  {
    MetricFamily& f = AddFamily(
        out, "conntrack_entries",
        "Conntrack entries in the kernel table by family, protocol, state "
        "and zone; the state label is absent for protocols without states.",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      for (const auto& e : ns.entries) {
        MetricLabels l = {{"netns", ns.netns},
                          {"family", S(FamilyName(e.family))},
                          {"protocol", S(ProtoName(e.proto))}};
        std::string_view state = StateName(e.proto, e.state);
        if (!state.empty()) l.push_back({"state", S(state)});
        l.push_back({"ct_zone", std::to_string(e.zone)});
        AddSample(&f, std::move(l), static_cast<double>(e.value));
      }
    }
  }
  {
    MetricFamily& f = AddFamily(
        out, "conntrack_status_entries",
        "Tracked flows by status: assured, unreplied (no reply seen), snat, "
        "dnat, offloaded (flowtable), helper (owned by a conntrack helper).",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      for (int i = 0; i < kNumFlowStatus; ++i) {
        AddSample(&f, {{"netns", ns.netns}, {"status", S(FlowStatusName(i))}},
                  static_cast<double>(ns.status_entries[i]));
      }
    }
  }
}

}  // namespace ctcollect
