// The operator's flow classes (config file).
#include "exporters/metrics/label_families.h"
#include "exporters/metrics/metric_sources.h"

namespace ctcollect {

void CollectClassMetrics(const Snapshot& s, MetricFamilies* out) {
  AddLabelFamilies(out, s, &NetnsSnapshot::classes, "class",
                   "conntrack_class_entries",
                   "Tracked flows in each flow class of the config file, by "
                   "protocol and state (a flow is in the first class that "
                   "matches it).",
                   "conntrack_class_flows_total",
                   "Flows that started (NEW events) in each flow class, by "
                   "protocol.",
                   /*by_state=*/true);
}

}  // namespace ctcollect
