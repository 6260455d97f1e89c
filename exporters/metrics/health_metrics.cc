// The collector's own health: overruns, parse errors, resyncs, dumps, its
// flow table, socket buffers, sources up, namespaces missing.
#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void CollectHealthMetrics(const Snapshot& s, MetricFamilies* out) {
  PerNetns(
      out, s, "ctcollect_netlink_overruns_total",
      "Times the event socket overflowed (ENOBUFS): events were lost "
      "and a resync was scheduled.",
      MetricType::Counter, [](const auto& ns) { return ns.overruns; },
      /*in_summary=*/true);
  PerNetns(
      out, s, "ctcollect_events_parse_errors_total",
      "Netlink messages dropped because they could not be parsed.",
      MetricType::Counter, [](const auto& ns) { return ns.parse_errors; },
      /*in_summary=*/true);
  PerNetns(out, s, "ctcollect_events_destroy_unknown_total",
           "DESTROY events for flows the collector did not know.",
           MetricType::Counter,
           [](const auto& ns) { return ns.destroy_unknown; });
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_resyncs_total",
        "Full table dumps started, by reason (startup, interval, overrun, "
        "request).",
        MetricType::Counter);
    for (const auto& ns : s.netns) {
      for (int r = 0; r < kNumResyncReasons; ++r) {
        AddSample(
            &f,
            {{"netns", ns.netns},
             {"reason", S(ResyncReasonName(static_cast<ResyncReason>(r)))}},
            static_cast<double>(ns.resyncs[r]));
      }
    }
  }
  PerNetns(out, s, "ctcollect_dump_duration_seconds",
           "Wall time of the last complete table dump.", MetricType::Gauge,
           [](const auto& ns) { return ns.last_dump_seconds; });
  PerNetns(
      out, s, "ctcollect_resync_last_timestamp_seconds",
      "Unix time the last complete table dump finished.", MetricType::Gauge,
      [](const auto& ns) { return ns.last_resync_unix_seconds; },
      /*in_summary=*/true);
  PerNetns(out, s, "ctcollect_flow_table_entries",
           "Flows in the collector's flow table.", MetricType::Gauge,
           [](const auto& ns) { return ns.table_entries; });
  PerNetns(out, s, "ctcollect_flow_table_bytes",
           "Memory held by the collector's flow table.", MetricType::Gauge,
           [](const auto& ns) { return ns.table_bytes; });
  PerNetns(out, s, "ctcollect_netlink_receive_buffer_bytes",
           "Current receive buffer of the event socket, as the kernel "
           "reports it.",
           MetricType::Gauge,
           [](const auto& ns) { return ns.receive_buffer_bytes; });
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_source_up",
        "Whether each data source of a namespace works (1) or not (0).",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      AddSample(&f, {{"netns", ns.netns}, {"source", "events"}},
                ns.events_up ? 1 : 0);
      AddSample(&f, {{"netns", ns.netns}, {"source", "dump"}},
                ns.dump_up ? 1 : 0);
      // The summary reads nothing else from the kernel.
      if (!ns.full_detail) continue;
      AddSample(&f, {{"netns", ns.netns}, {"source", "kernel_stats"}},
                ns.kernel_stats_up ? 1 : 0);
      AddSample(&f, {{"netns", ns.netns}, {"source", "timeout_policies"}},
                ns.policies_up ? 1 : 0);
      AddSample(&f, {{"netns", ns.netns}, {"source", "expectations"}},
                ns.expectations_up ? 1 : 0);
      AddSample(&f, {{"netns", ns.netns}, {"source", "cthelper"}},
                ns.cthelper_up ? 1 : 0);
    }
  }
  AddSample(&AddFamily(out, "ctcollect_netns_missing",
                       "Namespaces asked for with --netns that are not there "
                       "now (deleted, not yet back); their metrics are gone "
                       "until they come back.",
                       MetricType::Gauge),
            {}, static_cast<double>(s.netns_missing));
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_netns_info",
        "Each watched namespace: its inode (stat -L -c %i /proc/PID/ns/net), "
        "whether discovery found it, and the pod a container runtime says "
        "owns it; always 1, for joins on the netns label.",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      const NetnsIdentity& id = ns.identity;
      AddSample(&f,
                {{"netns", ns.netns},
                 {"inode", std::to_string(id.inode)},
                 {"discovered", id.discovered ? "true" : "false"},
                 {"detail", ns.full_detail ? "full" : "summary"},
                 {"pod", id.pod},
                 {"pod_namespace", id.pod_namespace},
                 {"pod_uid", id.pod_uid},
                 {"runtime", id.runtime}},
                1);
    }
  }
  if (s.discovery.enabled) {
    const DiscoverySnapshot& d = s.discovery;
    AddSample(&AddFamily(out, "ctcollect_netns_discovery_scans_total",
                         "Scans of the host for network namespaces "
                         "(--netns.discover).",
                         MetricType::Counter),
              {}, static_cast<double>(d.scans));
    AddSample(&AddFamily(out, "ctcollect_netns_discovery_open_errors_total",
                         "Namespaces found but not opened (gone by then, or "
                         "no permission); tried again at the next scan.",
                         MetricType::Counter),
              {}, static_cast<double>(d.open_errors));
    AddSample(&AddFamily(out, "ctcollect_netns_discovery_malformed_bundles",
                         "Container runtime bundles whose config.json could "
                         "not be used, at the last scan.",
                         MetricType::Gauge),
              {}, static_cast<double>(d.malformed_bundles));
    AddSample(
        &AddFamily(out, "ctcollect_netns_discovery_duration_seconds",
                   "Time the last discovery scan took.", MetricType::Gauge),
        {}, d.last_scan_seconds);
  }
}

}  // namespace ctcollect
