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
        "/api/v1/top?by=src", "/api/v1/stats", "/-/healthy", "/-/ready"}) {
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

// How many times `needle` occurs in `h`.
int Count(const std::string& h, const std::string& needle) {
  int n = 0;
  for (size_t at = h.find(needle); at != std::string::npos;
       at = h.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

Snapshot TwoNamespaces() {
  Snapshot s;
  for (const char* name : {"", "blue"}) {
    NetnsSnapshot ns;
    ns.netns = name;
    ns.ready = true;
    ns.entries.push_back({0, Family::kIpv4, Proto::kUdp, 0, 3});
    s.netns.push_back(ns);
  }
  return s;
}

TEST(LandingPage, ChartAndTopSourcesInEachSection) {
  const std::string h =
      RenderLandingPage(TwoNamespaces(), "/metrics", true, "1");
  // One chart and one top-sources table per namespace, inside its section.
  EXPECT_EQ(Count(h, "<section data-netns="), 2);
  EXPECT_EQ(Count(h, "<svg data-k=\"chart\" data-points=\"0\""), 2) << h;
  for (const char* series : {"entries", "new", "destroy"}) {
    EXPECT_EQ(Count(h, std::string("<polyline data-series=\"") + series +
                           "\" data-points=\"0\""),
              2)
        << series;
  }
  EXPECT_EQ(Count(h, "<div data-k=\"top\">"), 2);
  EXPECT_EQ(Count(h, "<p data-k=\"top-note\">"), 2);
  size_t blue = h.find("<section data-netns=\"blue\">");
  ASSERT_NE(blue, std::string::npos);
  EXPECT_NE(h.find("<svg data-k=\"chart\"", blue), std::string::npos);
  EXPECT_LT(h.find("<div data-k=\"top\">", blue), h.find("</section>", blue));
  // The script polls the stats and asks for each section's top sources.
  EXPECT_EQ(Count(h, "<script>"), 1);
  EXPECT_NE(h.find("fetch(url"), std::string::npos);
  EXPECT_NE(h.find("\"/api/v1/stats\""), std::string::npos);
  EXPECT_NE(h.find("\"/api/v1/top?by=src&limit=10&netns=\""),
            std::string::npos);
  EXPECT_NE(h.find("WINDOW_S = 600"), std::string::npos);  // ten minutes
  EXPECT_NE(h.find("data-top-key"), std::string::npos);
}

TEST(LandingPage, NoTopSourcesForClientsThatMayNotReadThem) {
  const std::string h =
      RenderLandingPage(TwoNamespaces(), "/metrics", false, "1");
  // Neither the link nor the table nor the request: only a line saying why.
  EXPECT_EQ(h.find("/api/v1/top"), std::string::npos) << h;
  EXPECT_EQ(h.find("data-k=\"top"), std::string::npos);
  EXPECT_EQ(h.find("data-top-key"), std::string::npos);
  EXPECT_EQ(Count(h, "<code>--web.flows-api</code>"), 2);
  // The chart does not reveal addresses: it stays.
  EXPECT_EQ(Count(h, "<svg data-k=\"chart\""), 2);
  EXPECT_NE(h.find("\"/api/v1/stats\""), std::string::npos);
}

TEST(LandingPage, NothingFromOutside) {
  for (bool show_flows : {true, false}) {
    const std::string h =
        RenderLandingPage(TwoNamespaces(), "/metrics", show_flows, "1");
    for (const char* outside :
         {"http://", "https://", "href=\"//", "src=\"", "<link", "<img",
          "<iframe", "url(", "@import", "xmlns"}) {
      EXPECT_EQ(h.find(outside), std::string::npos)
          << outside << " show_flows=" << show_flows;
    }
    // Every fetch is of this daemon's own API.
    for (size_t at = h.find("fetch("); at != std::string::npos;
         at = h.find("fetch(", at + 1)) {
      EXPECT_EQ(h.compare(at, 10, "fetch(url,"), 0) << h.substr(at, 40);
    }
    for (size_t at = h.find("getJson(\""); at != std::string::npos;
         at = h.find("getJson(\"", at + 1)) {
      EXPECT_EQ(h.compare(at, 17, "getJson(\"/api/v1/"), 0) << h.substr(at, 40);
    }
  }
}

TEST(LandingPage, Escapes) {
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

}  // namespace
}  // namespace ctcollect
