// Timeout policies: their values per state, and the flows under each.
#include "exporters/metrics/label_families.h"
#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectPolicyMetrics(const Snapshot& s, MetricFamilies* out) {
  {
    MetricFamily& f = AddFamily(
        out, "conntrack_timeout_policy_seconds",
        "Timeout of each state in each timeout policy the kernel has: "
        "policy=\"default\" for the kernel's defaults, the object name for "
        "nfct timeout (cttimeout) objects, FAMILY/TABLE/NAME for nft ct "
        "timeout objects.",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      for (const auto& p : ns.policies) {
        std::string family = p.l3proto == 2    ? "ipv4"
                             : p.l3proto == 10 ? "ipv6"
                             : p.l3proto == 1  ? "inet"
                                               : std::to_string(p.l3proto);
        std::string proto(ProtoName(ProtoFromNumber(p.l4proto)));
        for (int i = 0; i < p.count; ++i) {
          if (!p.Has(i)) continue;
          AddSample(&f,
                    {{"netns", ns.netns},
                     {"policy", p.name},
                     {"family", family},
                     {"protocol", proto},
                     {"state", TimeoutAttrName(p.l4proto, i)}},
                    p.values[i]);
        }
      }
    }
  }

  AddLabelFamilies(out, s, &NetnsSnapshot::policy_entries, "policy",
                   "conntrack_policy_entries",
                   "Tracked flows by the timeout policy they run under "
                   "(config selectors, else inferred from the timeouts the "
                   "kernel reports; unknown when that is ambiguous).",
                   "conntrack_policy_flows_total",
                   "Flows that ended, by the timeout policy they ran under.",
                   /*by_state=*/true);
}

}  // namespace ctcollect
