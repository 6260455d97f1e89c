// The sources of the daemon's metrics, one file each (as node_exporter's
// collectors): each appends its families, built from a Snapshot, to the
// scrape's list. MetricsCollectable runs them in the order of kMetricSources.
//
// Pure functions of the snapshot; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "collector/flows/snapshot.h"

namespace ctcollect {

using MetricFamilies = std::vector<prometheus::MetricFamily>;
using MetricSource = void (*)(const Snapshot& s, MetricFamilies* out);

// entries_metrics.cc: conntrack_entries, conntrack_status_entries.
void CollectEntryMetrics(const Snapshot& s, MetricFamilies* out);
// event_metrics.cc: conntrack_events_total,
// conntrack_state_transitions_total.
void CollectEventMetrics(const Snapshot& s, MetricFamilies* out);
// kernel_metrics.cc: conntrack_entries_limit, conntrack_kernel_entries,
// conntrack_kernel_*_total (per-CPU statistics).
void CollectKernelMetrics(const Snapshot& s, MetricFamilies* out);
// policy_metrics.cc: conntrack_timeout_policy_seconds,
// conntrack_policy_entries, conntrack_policy_flows_total.
void CollectPolicyMetrics(const Snapshot& s, MetricFamilies* out);
// helper_metrics.cc: conntrack_helper_*, conntrack_expectations,
// conntrack_expectation_events_total, conntrack_kernel_expect_*_total,
// conntrack_userspace_helper_info.
void CollectHelperMetrics(const Snapshot& s, MetricFamilies* out);
// class_metrics.cc: conntrack_class_entries, conntrack_class_flows_total.
void CollectClassMetrics(const Snapshot& s, MetricFamilies* out);
// flow_accounting_metrics.cc: conntrack_flow_bytes_total,
// conntrack_flow_packets_total, conntrack_flow_duration_seconds.
void CollectFlowAccountingMetrics(const Snapshot& s, MetricFamilies* out);
// top_metrics.cc: conntrack_top_entries, conntrack_snat_tuple_max_entries,
// ctcollect_top_memory_bytes.
void CollectTopMetrics(const Snapshot& s, MetricFamilies* out);
// health_metrics.cc: the collector's own ctcollect_* families.
void CollectHealthMetrics(const Snapshot& s, MetricFamilies* out);

// Every source, in the order their families appear in /metrics.
inline constexpr MetricSource kMetricSources[] = {
    CollectEntryMetrics, CollectEventMetrics,  CollectPolicyMetrics,
    CollectClassMetrics, CollectHelperMetrics, CollectFlowAccountingMetrics,
    CollectTopMetrics,   CollectKernelMetrics, CollectHealthMetrics,
};

}  // namespace ctcollect
