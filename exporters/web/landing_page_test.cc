#include "exporters/web/landing_page.h"

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
  std::string h = RenderLandingPage(s, "/metrics", true, "0.1.0");
  for (const char* link :
       {"/metrics", "/api/v1/flows?format=json", "/api/v1/flows?format=xml",
        "/api/v1/stats", "/-/healthy", "/-/ready"}) {
    EXPECT_NE(h.find(std::string("<a href=\"") + link + "\">"),
              std::string::npos)
        << link;
  }
  EXPECT_NE(h.find("netns &lt;red&gt;"), std::string::npos);
  EXPECT_NE(h.find("data-netns=\"&lt;red&gt;\""), std::string::npos);
  EXPECT_NE(h.find("data-k=\"kernel-entries\">6<"), std::string::npos);
  EXPECT_NE(h.find("data-k=\"limit\">100<"), std::string::npos);
  EXPECT_NE(h.find("data-k=\"usage-percent\">6.0<"), std::string::npos);
  EXPECT_NE(h.find("data-state=\"ESTABLISHED\"><td>ipv4</td><td>tcp</td>"
                   "<td>ESTABLISHED</td><td class=\"n\" "
                   "data-k=\"entries\">6</td>"),
            std::string::npos)
      << h;
  EXPECT_EQ(h.find("http://"), std::string::npos);  // nothing from outside
}

TEST(LandingPage, FlowLinksOnlyForClientsThatMayFollowThem) {
  const std::string h = RenderLandingPage(Snapshot(), "/metrics", false, "1");
  EXPECT_EQ(h.find("/api/v1/flows"), std::string::npos) << h;
  EXPECT_NE(h.find("<a href=\"/metrics\">"), std::string::npos);
  EXPECT_NE(h.find("<a href=\"/api/v1/stats\">"), std::string::npos);
}

TEST(LandingPage, Escapes) {
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

}  // namespace
}  // namespace ctcollect
