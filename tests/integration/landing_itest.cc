// The landing page in a real browser (headless Chromium): it loads, runs
// its script (the live event rate), renders to a non-trivial screenshot,
// and its figures (table usage, limit, entries per protocol and state)
// equal what /metrics says at the same moment.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <regex>
#include <string>

#include "tests/integration/daemon.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

using Metrics = std::map<std::string, double>;

std::string Chromium(const std::string& args) {
  return Shell(
             "timeout 90 chromium --headless=new --no-sandbox "
             "--disable-gpu --no-first-run --user-data-dir=$(mktemp -d) " +
             args + " 2>/dev/null")
      .out;
}

// The figures of one namespace's section of the page.
struct PageFigures {
  std::map<std::string, std::string> values;  // data-k -> text
  std::map<std::string, double> rows;         // "family/protocol/state"
};

PageFigures Parse(const std::string& dom, const std::string& netns) {
  PageFigures f;
  size_t at = dom.find("data-netns=\"" + netns + "\"");
  if (at == std::string::npos) return f;
  std::string sec = dom.substr(at, dom.find("</section>", at) - at);
  std::regex value(R"re(data-k="([a-z-]+)">([^<]*)<)re");
  for (std::sregex_iterator it(sec.begin(), sec.end(), value), end; it != end;
       ++it) {
    if ((*it)[1] != "entries") f.values[(*it)[1]] = (*it)[2];
  }
  std::regex row(
      R"re(data-family="(\w+)" data-protocol="(\w+)" data-state="(\w*)">.*?data-k="entries">(\d+)<)re");
  for (std::sregex_iterator it(sec.begin(), sec.end(), row), end; it != end;
       ++it) {
    f.rows[(*it)[1].str() + "/" + (*it)[2].str() + "/" + (*it)[3].str()] =
        std::stod((*it)[4]);
  }
  return f;
}

std::map<std::string, double> MetricsRows(const Metrics& m,
                                          const std::string& netns) {
  std::map<std::string, double> out;
  ForEachSample(m, "conntrack_entries", [&](const Labels& l, double v) {
    if (l.count("netns") && l.at("netns") == netns && v > 0) {
      auto get = [&](const char* k) {
        return l.count(k) ? l.at(k) : std::string();
      };
      out[get("family") + "/" + get("protocol") + "/" + get("state")] += v;
    }
  });
  return out;
}

TEST(LandingPage, ChromiumShowsWhatMetricsSay) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v chromium").exit_code != 0) {
    SKIP_UNLESS_CI("chromium is missing (Debian package chromium)");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  CtInject(ns, "create --count 25 --proto tcp --quiet");
  CtInject(ns,
           "create --count 7 --proto tcp --state SYN_SENT --offset 100 "
           "--quiet");
  CtInject(ns, "create --count 11 --proto udp --family ipv6 --quiet");
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  const std::string url = "http://127.0.0.1:" + std::to_string(d.port()) + "/";

  std::string dom = Chromium("--virtual-time-budget=8000 --dump-dom " + url);
  ASSERT_NE(dom.find("<h1>ctcollectd"), std::string::npos) << dom;
  PageFigures page = Parse(dom, ns.name());
  Metrics m = d.Metrics();
  EXPECT_EQ(page.rows, MetricsRows(m, ns.name()));
  EXPECT_EQ(page.rows["ipv4/tcp/ESTABLISHED"], 25);
  EXPECT_EQ(std::stod(page.values["limit"]),
            m[Series("conntrack_entries_limit", {{"netns", ns.name()}})]);
  EXPECT_EQ(std::stod(page.values["kernel-entries"]),
            m[Series("conntrack_kernel_entries", {{"netns", ns.name()}})]);
  EXPECT_EQ(std::stod(page.values["kernel-entries"]), 43);
  double pct =
      100.0 * 43 / m[Series("conntrack_entries_limit", {{"netns", ns.name()}})];
  EXPECT_NEAR(std::stod(page.values["usage-percent"]), pct, 0.05);
  // The script ran: the rate is a number, not the placeholder.
  EXPECT_TRUE(
      std::regex_match(page.values["event-rate"], std::regex(R"(\d+\.\d)")))
      << page.values["event-rate"];
  // Every endpoint is linked.
  for (const char* link :
       {"/metrics", "/api/v1/flows?format=json", "/api/v1/flows?format=xml",
        "/api/v1/stats", "/-/healthy", "/-/ready"}) {
    EXPECT_NE(dom.find(std::string("href=\"") + link + "\""), std::string::npos)
        << link;
  }

  // A screenshot: a real PNG of real size.
  char dir[] = "/tmp/ctct-shot-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string png = std::string(dir) + "/landing.png";
  Chromium("--window-size=1280,1024 --screenshot=" + png + " " + url);
  std::ifstream in(png, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 8000u) << "screenshot " << png;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::cerr << "landing page screenshot: " << png << "\n";
}

}  // namespace
}  // namespace ctcollect::itest
