#include "exporters/web/front_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace ctcollect {
namespace {

TEST(FrontMetrics, RendersEachFigure) {
  FrontStats s;
  s.open = 1003;
  s.max = 15000;
  s.accepted = 70000;
  s.timed_out = 6000;
  s.evicted = 2;
  std::vector<prometheus::MetricFamily> out;
  RenderFrontMetrics(s, &out);
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, out);
  const std::string text = os.str();
  for (const char* line :
       {"ctcollect_http_connections 1003\n",
        "ctcollect_http_connections_max 15000\n",
        "ctcollect_http_connections_accepted_total 70000\n",
        "ctcollect_http_connections_closed_total{reason=\"timeout\"} 6000\n",
        "ctcollect_http_connections_closed_total{reason=\"evicted\"} 2\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

}  // namespace
}  // namespace ctcollect
