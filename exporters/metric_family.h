// Building prometheus-cpp metric families by hand, shared by the
// renderers (the collector's families and the replication peer's).
// Pure; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

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

}  // namespace ctcollect
