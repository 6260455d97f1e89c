#include "exporters/metrics_collectable.h"

#include <chrono>
#include <limits>
#include <string_view>

#include "exporters/metric_family.h"
#include "exporters/sync_metrics.h"

namespace ctcollect {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = MetricLabels;

std::string S(std::string_view v) { return std::string(v); }

// One family with a single {netns} sample per namespace.
template <typename Fn>
void PerNetns(std::vector<MetricFamily>* out, const Snapshot& s,
              std::string name, std::string help, MetricType type, Fn value) {
  MetricFamily& f = AddFamily(out, std::move(name), std::move(help), type);
  for (const auto& ns : s.netns) {
    AddSample(&f, {{"netns", ns.netns}}, static_cast<double>(value(ns)));
  }
}

// Calls fn(family, protocol, {netns, family, protocol}) for each pair that
// has had an event: the bounded set of series worth exporting.
template <typename Fn>
void ForEachSeenPair(const NetnsSnapshot& ns, Fn fn) {
  for (int fam = 0; fam < kNumFamilies; ++fam) {
    for (int p = 0; p < kNumProtos; ++p) {
      int64_t events = 0;
      for (int t = 0; t < kNumEventTypes; ++t) events += ns.events[t][fam][p];
      if (events == 0) continue;
      fn(fam, p,
         Labels{{"netns", ns.netns},
                {"family", S(FamilyName(static_cast<Family>(fam)))},
                {"protocol", S(ProtoName(static_cast<Proto>(p)))}});
    }
  }
}

// A counter family per family/protocol pair seen and per direction, from a
// [family][protocol][direction] array of the snapshot.
using DirectionalArray = int64_t[kNumFamilies][kNumProtos][2];
void AddDirectional(std::vector<MetricFamily>* out, const Snapshot& s,
                    std::string name, std::string help,
                    DirectionalArray NetnsSnapshot::*field) {
  MetricFamily& f =
      AddFamily(out, std::move(name), std::move(help), MetricType::Counter);
  for (const auto& ns : s.netns) {
    ForEachSeenPair(ns, [&](int fam, int p, Labels l) {
      for (int d = 0; d < 2; ++d) {
        Labels ld = l;
        ld.push_back({"direction", d == 0 ? "original" : "reply"});
        AddSample(&f, std::move(ld),
                  static_cast<double>((ns.*field)[fam][p][d]));
      }
    });
  }
}

// The entries gauge and flows counter of a label (class, policy, helper):
// entries by protocol and state (or summed when !by_state), flows by
// protocol, for the series that ever held a flow.
void AddLabelFamilies(std::vector<MetricFamily>* out, const Snapshot& s,
                      std::vector<LabelSample> NetnsSnapshot::*field,
                      const std::string& label, std::string entries_name,
                      std::string entries_help, std::string flows_name,
                      std::string flows_help, bool by_state) {
  MetricFamily& e = AddFamily(out, std::move(entries_name),
                              std::move(entries_help), MetricType::Gauge);
  for (const auto& ns : s.netns) {
    for (const auto& c : ns.*field) {
      int64_t sum = 0;
      bool any = false;
      for (int p = 0; p < kNumProtos; ++p) {
        Proto proto = static_cast<Proto>(p);
        for (int st = 0; st < kMaxStates; ++st) {
          if (!c.seen[p][st]) continue;
          any = true;
          sum += c.entries[p][st];
          if (!by_state) continue;
          AddSample(&e,
                    {{"netns", ns.netns},
                     {label, c.name},
                     {"protocol", S(ProtoName(proto))},
                     {"state", S(StateName(proto, static_cast<uint8_t>(st)))}},
                    static_cast<double>(c.entries[p][st]));
        }
      }
      if (!by_state && any) {
        AddSample(&e, {{"netns", ns.netns}, {label, c.name}},
                  static_cast<double>(sum));
      }
    }
  }
  MetricFamily& f = AddFamily(out, std::move(flows_name), std::move(flows_help),
                              MetricType::Counter);
  for (const auto& ns : s.netns) {
    for (const auto& c : ns.*field) {
      for (int p = 0; p < kNumProtos; ++p) {
        bool seen = c.flows[p] != 0;
        for (int st = 0; st < kMaxStates && !seen; ++st) seen = c.seen[p][st];
        if (!seen) continue;
        AddSample(&f,
                  {{"netns", ns.netns},
                   {label, c.name},
                   {"protocol", S(ProtoName(static_cast<Proto>(p)))}},
                  static_cast<double>(c.flows[p]));
      }
    }
  }
}

}  // namespace

std::vector<MetricFamily> MetricsCollectable::Collect() const {
  auto start = std::chrono::steady_clock::now();
  std::vector<MetricFamily> out = Render(source_->TakeSnapshot(), version_);
  if (sync_) RenderSyncMetrics(sync_(), &out);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  AddSample(&AddFamily(&out, "ctcollect_scrape_duration_seconds",
                       "Time this scrape took to read the collector and "
                       "build the metrics (before serialisation).",
                       MetricType::Gauge),
            {}, took.count());
  return out;
}

std::vector<MetricFamily> MetricsCollectable::Render(
    const Snapshot& s, const std::string& version) {
  // Each family is filled right after it is added and never touched again,
  // so growing the vector never invalidates a reference in use.
  std::vector<MetricFamily> out;

  // --- the kernel table, as the collector tracks it ---
  {
    MetricFamily& f = AddFamily(
        &out, "conntrack_entries",
        "Conntrack entries in the kernel table by family, protocol, state "
        "and zone; the state label is absent for protocols without states.",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      for (const auto& e : ns.entries) {
        Labels l = {{"netns", ns.netns},
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
        &out, "conntrack_events_total",
        "Conntrack events received from the kernel by type, family and "
        "protocol.",
        MetricType::Counter);
    for (const auto& ns : s.netns) {
      for (int t = 0; t < kNumEventTypes; ++t) {
        for (int fam = 0; fam < kNumFamilies; ++fam) {
          for (int p = 0; p < kNumProtos; ++p) {
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
        &out, "conntrack_state_transitions_total",
        "State changes of tracked flows seen in UPDATE events, by protocol "
        "and from/to state.",
        MetricType::Counter);
    for (const auto& ns : s.netns) {
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

  {
    MetricFamily& f = AddFamily(
        &out, "conntrack_status_entries",
        "Tracked flows by status: assured, unreplied (no reply seen), snat, "
        "dnat, offloaded (flowtable), helper (owned by a conntrack helper).",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      for (int i = 0; i < kNumFlowStatus; ++i) {
        AddSample(&f, {{"netns", ns.netns}, {"status", S(FlowStatusName(i))}},
                  static_cast<double>(ns.status_entries[i]));
      }
    }
  }

  // --- timeout policies (cttimeout objects, nft ct timeout objects and
  // the kernel's defaults) ---
  {
    MetricFamily& f = AddFamily(
        &out, "conntrack_timeout_policy_seconds",
        "Timeout of each state in each timeout policy the kernel has: "
        "policy=\"default\" for the kernel's defaults, the object name for "
        "nfct timeout (cttimeout) objects, FAMILY/TABLE/NAME for nft ct "
        "timeout objects.",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
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

  // --- flow classes (config file), timeout policies, helpers ---
  AddLabelFamilies(&out, s, &NetnsSnapshot::classes, "class",
                   "conntrack_class_entries",
                   "Tracked flows in each flow class of the config file, by "
                   "protocol and state (a flow is in the first class that "
                   "matches it).",
                   "conntrack_class_flows_total",
                   "Flows that started (NEW events) in each flow class, by "
                   "protocol.",
                   /*by_state=*/true);
  AddLabelFamilies(&out, s, &NetnsSnapshot::policy_entries, "policy",
                   "conntrack_policy_entries",
                   "Tracked flows by the timeout policy they run under "
                   "(config selectors, else inferred from the timeouts the "
                   "kernel reports; unknown when that is ambiguous).",
                   "conntrack_policy_flows_total",
                   "Flows that ended, by the timeout policy they ran under.",
                   /*by_state=*/true);
  AddLabelFamilies(&out, s, &NetnsSnapshot::helpers, "helper",
                   "conntrack_helper_entries",
                   "Tracked flows owned by each conntrack helper (ftp, sip, "
                   "...).",
                   "conntrack_helper_flows_total",
                   "Flows that started (NEW events) with each helper.",
                   /*by_state=*/false);

  // --- expectations (set up by helpers for related connections) ---
  {
    MetricFamily& f = AddFamily(
        &out, "conntrack_expectations",
        "Expectations in the kernel table, by the helper that set them up.",
        MetricType::Gauge);
    MetricFamily& ev =
        AddFamily(&out, "conntrack_expectation_events_total",
                  "Expectation events (type new or destroy), by helper.",
                  MetricType::Counter);
    for (const auto& ns : s.netns) {
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
          AddFamily(&out, kExpStats[i].first, kExpHelp[i], MetricType::Counter);
      for (const auto& ns : s.netns) {
        if (!ns.exp_stats_up) continue;
        AddSample(&k, {{"netns", ns.netns}},
                  static_cast<double>(ns.exp_stats.*kExpStats[i].second));
      }
    }
  }

  // --- user-space helpers (nfnetlink_cthelper) ---
  {
    MetricFamily& f = AddFamily(
        &out, "conntrack_userspace_helper_info",
        "User-space conntrack helpers registered through nfnetlink_cthelper, "
        "one series per expectation policy; always 1.",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
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

  // --- flows that ended (DESTROY events; needs nf_conntrack_acct and
  // nf_conntrack_timestamp). Only family/protocol pairs seen so far. ---
  AddDirectional(&out, s, "conntrack_flow_bytes_total",
                 "Bytes of flows that ended, by direction (needs "
                 "nf_conntrack_acct).",
                 &NetnsSnapshot::flow_bytes);
  AddDirectional(&out, s, "conntrack_flow_packets_total",
                 "Packets of flows that ended, by direction (needs "
                 "nf_conntrack_acct).",
                 &NetnsSnapshot::flow_packets);
  {
    MetricFamily& f = AddFamily(
        &out, "conntrack_flow_duration_seconds",
        "Lifetime of flows that ended (needs nf_conntrack_timestamp).",
        MetricType::Histogram);
    for (const auto& ns : s.netns) {
      ForEachSeenPair(ns, [&](int fam, int p, Labels l) {
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

  // --- the kernel's own statistics ---
  {
    MetricFamily& f =
        AddFamily(&out, "conntrack_entries_limit",
                  "Maximum size of the conntrack table (nf_conntrack_max).",
                  MetricType::Gauge);
    for (const auto& ns : s.netns) {
      if (ns.kernel.max_entries) {
        AddSample(&f, {{"netns", ns.netns}},
                  static_cast<double>(*ns.kernel.max_entries));
      }
    }
  }
  {
    MetricFamily& f =
        AddFamily(&out, "conntrack_kernel_entries",
                  "Conntrack entries as the kernel counts them (conntrack -C).",
                  MetricType::Gauge);
    for (const auto& ns : s.netns) {
      if (ns.kernel.entries) {
        AddSample(&f, {{"netns", ns.netns}},
                  static_cast<double>(*ns.kernel.entries));
      }
    }
  }
  for (int i = 0; i < kNumKernelStats; ++i) {
    auto stat = static_cast<KernelStat>(i);
    MetricFamily& f = AddFamily(
        &out, "conntrack_kernel_" + S(KernelStatName(stat)) + "_total",
        "Kernel conntrack statistic '" + S(KernelStatName(stat)) +
            "' summed over CPUs (conntrack -S).",
        MetricType::Counter);
    for (const auto& ns : s.netns) {
      if (ns.kernel.cpus == 0) continue;
      AddSample(&f, {{"netns", ns.netns}},
                static_cast<double>(ns.kernel.cpu_sum[i]));
    }
  }

  // --- the collector's own health ---
  PerNetns(&out, s, "ctcollect_netlink_overruns_total",
           "Times the event socket overflowed (ENOBUFS): events were lost "
           "and a resync was scheduled.",
           MetricType::Counter, [](const auto& ns) { return ns.overruns; });
  PerNetns(&out, s, "ctcollect_events_parse_errors_total",
           "Netlink messages dropped because they could not be parsed.",
           MetricType::Counter, [](const auto& ns) { return ns.parse_errors; });
  PerNetns(&out, s, "ctcollect_events_destroy_unknown_total",
           "DESTROY events for flows the collector did not know.",
           MetricType::Counter,
           [](const auto& ns) { return ns.destroy_unknown; });
  {
    MetricFamily& f = AddFamily(
        &out, "ctcollect_resyncs_total",
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
  PerNetns(&out, s, "ctcollect_dump_duration_seconds",
           "Wall time of the last complete table dump.", MetricType::Gauge,
           [](const auto& ns) { return ns.last_dump_seconds; });
  PerNetns(&out, s, "ctcollect_resync_last_timestamp_seconds",
           "Unix time the last complete table dump finished.",
           MetricType::Gauge,
           [](const auto& ns) { return ns.last_resync_unix_seconds; });
  PerNetns(&out, s, "ctcollect_flow_table_entries",
           "Flows in the collector's flow table.", MetricType::Gauge,
           [](const auto& ns) { return ns.table_entries; });
  PerNetns(&out, s, "ctcollect_flow_table_bytes",
           "Memory held by the collector's flow table.", MetricType::Gauge,
           [](const auto& ns) { return ns.table_bytes; });
  PerNetns(&out, s, "ctcollect_netlink_receive_buffer_bytes",
           "Current receive buffer of the event socket, as the kernel "
           "reports it.",
           MetricType::Gauge,
           [](const auto& ns) { return ns.receive_buffer_bytes; });
  {
    MetricFamily& f = AddFamily(
        &out, "ctcollect_source_up",
        "Whether each data source of a namespace works (1) or not (0).",
        MetricType::Gauge);
    for (const auto& ns : s.netns) {
      AddSample(&f, {{"netns", ns.netns}, {"source", "events"}},
                ns.events_up ? 1 : 0);
      AddSample(&f, {{"netns", ns.netns}, {"source", "dump"}},
                ns.dump_up ? 1 : 0);
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
  AddSample(&AddFamily(&out, "ctcollect_netns_missing",
                       "Namespaces asked for with --netns that are not there "
                       "now (deleted, not yet back); their metrics are gone "
                       "until they come back.",
                       MetricType::Gauge),
            {}, static_cast<double>(s.netns_missing));
  AddSample(&AddFamily(&out, "ctcollect_build_info",
                       "Build information of ctcollectd; always 1.",
                       MetricType::Gauge),
            {{"version", version}}, 1);

  // Families with no sample (e.g. no transition yet) are left out.
  std::erase_if(out, [](const MetricFamily& f) { return f.metric.empty(); });
  return out;
}

}  // namespace ctcollect
