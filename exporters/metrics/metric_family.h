// Building prometheus-cpp metric families by hand, shared by the metric
// sources (one file each, metric_sources.h) and the replication peer's.
// Pure; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <string_view>
#include <vector>

#include "collector/flows/snapshot.h"

namespace ctcollect {

using MetricLabels = std::vector<prometheus::ClientMetric::Label>;

// Appends an empty family; the reference stays valid until the next add.
inline prometheus::MetricFamily& AddFamily(
    std::vector<prometheus::MetricFamily>* out, std::string name,
    std::string help, prometheus::MetricType type) {
  out->push_back(
      prometheus::MetricFamily{std::move(name), std::move(help), type, {}});
  return out->back();
}

// One sample, of the family's type.
inline void AddSample(prometheus::MetricFamily* f, MetricLabels labels,
                      double v) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  switch (f->type) {
    case prometheus::MetricType::Counter:
      m.counter.value = v;
      break;
    case prometheus::MetricType::Gauge:
      m.gauge.value = v;
      break;
    default:
      m.untyped.value = v;
      break;
  }
  f->metric.push_back(std::move(m));
}

// A string_view as the std::string a label value is.
inline std::string S(std::string_view v) { return std::string(v); }

// Whether the namespace had events of this family and protocol.
inline bool HadEvents(const NetnsSnapshot& ns, int fam, int p) {
  for (int t = 0; t < kNumEventTypes; ++t) {
    if (ns.events[t][fam][p] != 0) return true;
  }
  return false;
}

// One family with a single {netns} sample per namespace: every namespace
// with `in_summary`, else only those with the whole catalogue
// (NetnsSnapshot::full_detail).
template <typename Fn>
void PerNetns(std::vector<prometheus::MetricFamily>* out, const Snapshot& s,
              std::string name, std::string help, prometheus::MetricType type,
              Fn value, bool in_summary = false) {
  prometheus::MetricFamily& f =
      AddFamily(out, std::move(name), std::move(help), type);
  for (const auto& ns : s.netns) {
    if (!in_summary && !ns.full_detail) continue;
    AddSample(&f, {{"netns", ns.netns}}, static_cast<double>(value(ns)));
  }
}

// Calls fn(family, protocol, {netns, family, protocol}) for each pair that
// has had an event: the bounded set of series worth exporting.
template <typename Fn>
void ForEachSeenPair(const NetnsSnapshot& ns, Fn fn) {
  for (int fam = 0; fam < kNumFamilies; ++fam) {
    for (int p = 0; p < kNumProtos; ++p) {
      if (!HadEvents(ns, fam, p)) continue;
      fn(fam, p,
         MetricLabels{{"netns", ns.netns},
                      {"family", S(FamilyName(static_cast<Family>(fam)))},
                      {"protocol", S(ProtoName(static_cast<Proto>(p)))}});
    }
  }
}

}  // namespace ctcollect
