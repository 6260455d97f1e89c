#include "exporters/landing_page.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

TEST(LandingPage, ShowsTotalsAndLinks) {
  Snapshot s;
  NetnsSnapshot ns;
  ns.netns = "<red>";
  ns.ready = true;
  ns.entries.push_back({0, Family::kIpv4, Proto::kTcp, 3, 5});
  ns.entries.push_back({2, Family::kIpv4, Proto::kTcp, 3, 1});
  ns.kernel.entries = 6;
  ns.kernel.max_entries = 100;
  s.netns.push_back(ns);
  std::string h = RenderLandingPage(s, "/metrics", "0.1.0");
  EXPECT_NE(h.find("<a href=\"/metrics\">"), std::string::npos);
  EXPECT_NE(h.find("netns &lt;red&gt;"), std::string::npos);
  EXPECT_NE(h.find(">6</b>"), std::string::npos);
  EXPECT_NE(h.find("6 of 100 (6.0%)"), std::string::npos);
  EXPECT_NE(h.find("<td>ESTABLISHED</td><td>6</td>"), std::string::npos);
}

TEST(LandingPage, Escapes) {
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

}  // namespace
}  // namespace ctcollect
