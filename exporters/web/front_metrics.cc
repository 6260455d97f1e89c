#include "exporters/web/front_metrics.h"

#include "exporters/metrics/metric_family.h"

namespace ctcollect {

using prometheus::MetricType;

void RenderFrontMetrics(const FrontStats& s,
                        std::vector<prometheus::MetricFamily>* out) {
  AddSample(&AddFamily(out, "ctcollect_http_connections",
                       "HTTP client connections open now (idle, waiting "
                       "for a request, or being answered).",
                       MetricType::Gauge),
            {}, static_cast<double>(s.open));
  AddSample(&AddFamily(out, "ctcollect_http_connections_max",
                       "HTTP client connections held at most; at the limit "
                       "the one that has waited longest for a request is "
                       "closed.",
                       MetricType::Gauge),
            {}, static_cast<double>(s.max));
  AddSample(
      &AddFamily(out, "ctcollect_http_connections_accepted_total",
                 "HTTP client connections accepted.", MetricType::Counter),
      {}, static_cast<double>(s.accepted));
  prometheus::MetricFamily& closed = AddFamily(
      out, "ctcollect_http_connections_closed_total",
      "HTTP client connections the server closed before the client did: "
      "at a deadline (no request head in time, idle too long, an answer "
      "not read), or to make room at the limit.",
      MetricType::Counter);
  AddSample(&closed, {{"reason", "timeout"}}, static_cast<double>(s.timed_out));
  AddSample(&closed, {{"reason", "evicted"}}, static_cast<double>(s.evicted));
}

}  // namespace ctcollect
