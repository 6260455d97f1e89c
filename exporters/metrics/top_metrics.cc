// The top-talker rankings (collector/top): the keys that hold at least
// --top.min-share of their namespace's table, and the largest SNAT tuple
// per protocol.
#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

void CollectTopMetrics(const Snapshot& s, MetricFamilies* out) {
  bool any = false;
  for (const auto& ns : s.netns) any |= ns.top_enabled && ns.full_detail;
  if (!any) return;
  prometheus::MetricFamily& top = AddFamily(
      out, "conntrack_top_entries",
      "Entries held by one key of a ranking (by: src and dst address, dport "
      "PROTOCOL/PORT, snat PROTOCOL/XSRC->DST:PORT), for keys holding at "
      "least --top.min-share of the namespace's table; exact after each "
      "resync, within 0.1% of the table between them.",
      prometheus::MetricType::Gauge);
  for (const auto& ns : s.netns) {
    if (!ns.full_detail) continue;  // the summary has none
    for (const auto& k : ns.top.keys) {
      AddSample(
          &top,
          {{"netns", ns.netns}, {"by", S(TopByName(k.by))}, {"key", k.key}},
          static_cast<double>(k.entries));
    }
  }
  prometheus::MetricFamily& snat = AddFamily(
      out, "conntrack_snat_tuple_max_entries",
      "The most entries sharing one source-NAT tuple (protocol, translated "
      "source address, destination address and port): each holds one source "
      "port of the NAT range (64512 ports by default).",
      prometheus::MetricType::Gauge);
  for (const auto& ns : s.netns) {
    if (!ns.full_detail) continue;  // the summary has none
    if (!ns.top_enabled) continue;
    // tcp, udp and icmp always (0 without SNAT), so that dashboards and
    // alerts see the series; other protocols while they have SNAT flows.
    int64_t by_proto[kNumProtos] = {};
    bool shown[kNumProtos] = {};
    for (Proto p : {Proto::kTcp, Proto::kUdp, Proto::kIcmp}) {
      shown[static_cast<int>(p)] = true;
    }
    for (const auto& [l4proto, n] : ns.top.snat_max) {
      const int p = static_cast<int>(ProtoFromNumber(l4proto));
      by_proto[p] = std::max(by_proto[p], n);
      shown[p] = true;
    }
    for (int p = 0; p < kNumProtos; ++p) {
      if (!shown[p]) continue;
      AddSample(&snat,
                {{"netns", ns.netns},
                 {"protocol", S(ProtoName(static_cast<Proto>(p)))}},
                static_cast<double>(by_proto[p]));
    }
  }
  prometheus::MetricFamily& bytes = AddFamily(
      out, "ctcollect_top_memory_bytes",
      "Memory of the namespace's top-talker rankings (bounded whatever the "
      "number of distinct keys).",
      prometheus::MetricType::Gauge);
  for (const auto& ns : s.netns) {
    if (!ns.full_detail) continue;  // the summary has none
    if (ns.top_enabled) {
      AddSample(&bytes, {{"netns", ns.netns}},
                static_cast<double>(ns.top_bytes));
    }
  }
}

}  // namespace ctcollect
