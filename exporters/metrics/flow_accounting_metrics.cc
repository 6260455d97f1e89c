// Flows that ended (DESTROY events): bytes, packets and lifetimes; needs
// nf_conntrack_acct and nf_conntrack_timestamp.
#include <limits>

#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

// A counter family per family/protocol pair seen and per direction, from a
// [family][protocol][direction] array of the snapshot.
using DirectionalArray = int64_t[kNumFamilies][kNumProtos][2];
void AddDirectional(MetricFamilies* out, const Snapshot& s, std::string name,
                    std::string help, DirectionalArray NetnsSnapshot::*field) {
  MetricFamily& f =
      AddFamily(out, std::move(name), std::move(help), MetricType::Counter);
  for (const auto& ns : s.netns) {
    if (!ns.full_detail) continue;  // the summary has none
    ForEachSeenPair(ns, [&](int fam, int p, MetricLabels l) {
      for (int d = 0; d < 2; ++d) {
        MetricLabels ld = l;
        ld.push_back({"direction", d == 0 ? "original" : "reply"});
        AddSample(&f, std::move(ld),
                  static_cast<double>((ns.*field)[fam][p][d]));
      }
    });
  }
}

}  // namespace

void CollectFlowAccountingMetrics(const Snapshot& s, MetricFamilies* out) {
  AddDirectional(out, s, "conntrack_flow_bytes_total",
                 "Bytes of flows that ended, by direction (needs "
                 "nf_conntrack_acct).",
                 &NetnsSnapshot::flow_bytes);
  AddDirectional(out, s, "conntrack_flow_packets_total",
                 "Packets of flows that ended, by direction (needs "
                 "nf_conntrack_acct).",
                 &NetnsSnapshot::flow_packets);
  {
    MetricFamily& f = AddFamily(
        out, "conntrack_flow_duration_seconds",
        "Lifetime of flows that ended (needs nf_conntrack_timestamp).",
        MetricType::Histogram);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      ForEachSeenPair(ns, [&](int fam, int p, MetricLabels l) {
        ClientMetric m;
        m.label = std::move(l);
        uint64_t cumulative = 0;
        for (int b = 0; b <= kNumDurationBounds; ++b) {
          cumulative +=
              static_cast<uint64_t>(ns.flow_duration_buckets[fam][p][b]);
          ClientMetric::Bucket bucket;
          bucket.cumulative_count = cumulative;
          bucket.upper_bound = b < kNumDurationBounds
                                   ? kDurationBounds[b]
                                   : std::numeric_limits<double>::infinity();
          m.histogram.bucket.push_back(bucket);
        }
        m.histogram.sample_count = cumulative;
        m.histogram.sample_sum = ns.flow_duration_sum[fam][p];
        f.metric.push_back(std::move(m));
      });
    }
  }
}

}  // namespace ctcollect
