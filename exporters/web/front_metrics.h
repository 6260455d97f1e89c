// Metric families of the web front (http_front.h): its connections now,
// its limit, and those it accepted or closed at a deadline or to make
// room. What shows, at 3 a.m., that clients are holding connections open.
// Pure; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "exporters/web/http_front.h"

namespace ctcollect {

void RenderFrontMetrics(const FrontStats& s,
                        std::vector<prometheus::MetricFamily>* out);

}  // namespace ctcollect
