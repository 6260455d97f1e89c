// Conntrack helpers: the flows they own, their expectations (table, events,
// kernel statistics) and the user-space helpers registered with cthelper.
#include "exporters/metrics/label_families.h"
#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectHelperMetrics(const Snapshot& s, MetricFamilies* out) {
  AddLabelFamilies(out, s, &NetnsSnapshot::helpers, "helper",
                   "conntrack_helper_entries",
                   "Tracked flows owned by each conntrack helper (ftp, sip, "
                   "...).",
                   "conntrack_helper_flows_total",
                   "Flows that started (NEW events) with each helper.",
                   /*by_state=*/false);

  {
    MetricFamily& f = AddFamily(
        out, "conntrack_expectations",
        "Expectations in the kernel table, by the helper that set them up.",
        MetricType::Gauge);
    MetricFamily& ev =
        AddFamily(out, "conntrack_expectation_events_total",
                  "Expectation events (type new or destroy), by helper.",
                  MetricType::Counter);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      for (const auto& [helper, c] : ns.expectations) {
        AddSample(&f, {{"netns", ns.netns}, {"helper", helper}},
                  static_cast<double>(c.current));
        AddSample(&ev,
                  {{"netns", ns.netns}, {"type", "new"}, {"helper", helper}},
                  static_cast<double>(c.created));
        AddSample(
            &ev, {{"netns", ns.netns}, {"type", "destroy"}, {"helper", helper}},
            static_cast<double>(c.destroyed));
      }
    }
    const std::pair<const char*, uint64_t ExpStats::*> kExpStats[] = {
        {"conntrack_kernel_expect_create_total", &ExpStats::created},
        {"conntrack_kernel_expect_new_total", &ExpStats::matched},
        {"conntrack_kernel_expect_delete_total", &ExpStats::deleted}};
    const char* kExpHelp[] = {
        "Expectations the kernel set up (per-CPU statistics, summed).",
        "Connections that matched an expectation (per-CPU, summed).",
        "Expectations the kernel removed (per-CPU, summed)."};
    for (int i = 0; i < 3; ++i) {
      MetricFamily& k =
          AddFamily(out, kExpStats[i].first, kExpHelp[i], MetricType::Counter);
      for (const auto& ns : s.netns) {
        if (!ns.full_detail) continue;  // the summary has none
        if (!ns.exp_stats_up) continue;
        AddSample(&k, {{"netns", ns.netns}},
                  static_cast<double>(ns.exp_stats.*kExpStats[i].second));
      }
    }
  }

  {
    MetricFamily& f = AddFamily(
        out, "conntrack_userspace_helper_info",
        "User-space conntrack helpers registered through nfnetlink_cthelper, "
        "one series per expectation policy; always 1.",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      if (!ns.full_detail) continue;  // the summary has none
      for (const auto& h : ns.userspace_helpers) {
        for (const auto& p : h.policies) {
          AddSample(
              &f,
              {{"netns", ns.netns},
               {"helper", h.name},
               {"family", h.l3proto == 2    ? "ipv4"
                          : h.l3proto == 10 ? "ipv6"
                                            : std::to_string(h.l3proto)},
               {"protocol", S(ProtoName(ProtoFromNumber(h.l4proto)))},
               {"queue", std::to_string(h.queue)},
               {"status", h.enabled ? "enabled" : "disabled"},
               {"policy", p.name},
               {"expect_max", std::to_string(p.expect_max)},
               {"expect_timeout_seconds", std::to_string(p.expect_timeout)}},
              1);
        }
      }
    }
  }
}

}  // namespace ctcollect
