// The kernel's own figures: table size and limit, per-CPU statistics.
#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectKernelMetrics(const Snapshot& s, MetricFamilies* out) {
  {
    MetricFamily& f =
        AddFamily(out, "conntrack_entries_limit",
                  "Maximum size of the conntrack table (nf_conntrack_max).",
                  MetricType::Gauge);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      if (ns.kernel.max_entries) {
        AddSample(&f, {{"netns", ns.netns}},
                  static_cast<double>(*ns.kernel.max_entries));
      }
    }
  }
  {
    MetricFamily& f =
        AddFamily(out, "conntrack_kernel_entries",
                  "Conntrack entries as the kernel counts them (conntrack -C).",
                  MetricType::Gauge);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      if (ns.kernel.entries) {
        AddSample(&f, {{"netns", ns.netns}},
                  static_cast<double>(*ns.kernel.entries));
      }
    }
  }
  for (int i = 0; i < kNumKernelStats; ++i) {
    auto stat = static_cast<KernelStat>(i);
    MetricFamily& f =
        AddFamily(out, "conntrack_kernel_" + S(KernelStatName(stat)) + "_total",
                  "Kernel conntrack statistic '" + S(KernelStatName(stat)) +
                      "' summed over CPUs (conntrack -S).",
                  MetricType::Counter);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      if (ns.kernel.cpus == 0) continue;
      AddSample(&f, {{"netns", ns.netns}},
                static_cast<double>(ns.kernel.cpu_sum[i]));
    }
  }
}

}  // namespace ctcollect
