#include "exporters/metrics/metrics_collectable.h"

#include <chrono>

#include "exporters/metrics/metric_family.h"
#include "exporters/metrics/metric_sources.h"
#include "exporters/metrics/replication_metrics.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

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
  for (MetricSource collect : kMetricSources) collect(s, &out);
  AddSample(&AddFamily(&out, "ctcollect_build_info",
                       "Build information of ctcollectd; always 1.",
                       MetricType::Gauge),
            {{"version", version}}, 1);

  // Families with no sample (e.g. no transition yet) are left out.
  std::erase_if(out, [](const MetricFamily& f) { return f.metric.empty(); });
  return out;
}

}  // namespace ctcollect
