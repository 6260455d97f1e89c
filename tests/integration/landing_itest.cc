// The landing page in a real browser (headless Chromium): it loads, runs
// its script (the live event rate), renders to a non-trivial screenshot,
// and its figures (table usage, limit, entries per protocol and state)
// equal what /metrics says at the same moment; its top-sources table
// equals what /api/v1/top and `conntrack -L` say, and its chart holds the
// points of its own polls, the last ten minutes of them.
//
// Chromium runs the page in virtual time (--virtual-time-budget): timers
// fire at once in the page's clock, while each fetch from the daemon is
// real and waited for, so a minute of polls takes a second or two.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
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

// The part of the page for one namespace ("" if it has none).
std::string Section(const std::string& dom, const std::string& netns) {
  size_t at = dom.find("data-netns=\"" + netns + "\"");
  if (at == std::string::npos) return "";
  return dom.substr(at, dom.find("</section>", at) - at);
}

PageFigures Parse(const std::string& dom, const std::string& netns) {
  PageFigures f;
  std::string sec = Section(dom, netns);
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
        "/api/v1/top?by=src", "/api/v1/stats", "/-/healthy", "/-/ready"}) {
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

// One line of the chart: how many points it says it has, and its points'
// coordinates.
struct ChartLine {
  int data_points = -1;
  std::vector<std::pair<double, double>> xy;
};

std::map<std::string, ChartLine> ChartLines(const std::string& section) {
  std::map<std::string, ChartLine> out;
  std::regex line(
      R"re(<polyline data-series="(\w+)" data-points="(\d+)" points="([^"]*)")re");
  std::regex point(R"re((-?[\d.]+),(-?[\d.]+))re");
  for (std::sregex_iterator it(section.begin(), section.end(), line), end;
       it != end; ++it) {
    ChartLine& l = out[(*it)[1]];
    l.data_points = std::stoi((*it)[2]);
    std::string pts = (*it)[3];
    for (std::sregex_iterator p(pts.begin(), pts.end(), point); p != end; ++p) {
      l.xy.emplace_back(std::stod((*p)[1]), std::stod((*p)[2]));
    }
  }
  return out;
}

// (key, entries) in order: the rows of the page's top-sources table, or
// the ranking in /api/v1/top's JSON.
using Ranking = std::vector<std::pair<std::string, int64_t>>;

Ranking PageTop(const std::string& section) {
  Ranking out;
  std::regex row(
      R"re(<tr data-top-key="([^"]+)">.*?data-k="top-entries"[^>]*>(\d+)<)re");
  for (std::sregex_iterator it(section.begin(), section.end(), row), end;
       it != end; ++it) {
    out.emplace_back((*it)[1], std::stoll((*it)[2]));
  }
  return out;
}

Ranking ApiTop(const std::string& json) {
  Ranking out;
  std::regex item(R"re(\{"key":"([^"]+)","entries":(\d+))re");
  for (std::sregex_iterator it(json.begin(), json.end(), item), end; it != end;
       ++it) {
    out.emplace_back((*it)[1], std::stoll((*it)[2]));
  }
  return out;
}

std::string DescribeRanking(const Ranking& r) {
  std::string s;
  for (const auto& [k, v] : r) s += k + "=" + std::to_string(v) + " ";
  return s;
}

TEST(LandingPage, ChromiumShowsTopSourcesAndChart) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v chromium").exit_code != 0) {
    SKIP_UNLESS_CI("chromium is missing (Debian package chromium)");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  // ctinject's TCP and UDP flow k comes from 198.18.0.(k / 60000): one
  // source clearly leads, two follow.
  CtInject(ns, "create --count 40 --proto tcp --quiet");
  CtInject(ns, "create --count 12 --proto tcp --offset 60000 --quiet");
  CtInject(ns, "create --count 5 --proto udp --offset 120000 --quiet");
  ASSERT_EQ(KernelListed(ns, "-s 198.18.0.0"), 40);
  ASSERT_EQ(KernelCount(ns), 57);
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  const std::string url = "http://127.0.0.1:" + std::to_string(d.port()) + "/";

  // 20 s of the page's clock: polls at 0, 2, 7, 12 and 17 s.
  std::string dom = Chromium("--virtual-time-budget=20000 --dump-dom " + url);
  std::string api;
  ASSERT_EQ(d.Get("/api/v1/top?by=src&limit=10&netns=" + ns.name(), &api), 200)
      << api;
  std::string sec = Section(dom, ns.name());
  ASSERT_FALSE(sec.empty()) << dom;

  // The table is the ranking the API gives, the leader first, with the
  // kernel's count for it.
  Ranking page = PageTop(sec), want = ApiTop(api);
  ASSERT_FALSE(page.empty()) << sec;
  EXPECT_EQ(page, want) << "page: " << DescribeRanking(page)
                        << "\napi: " << DescribeRanking(want) << "\n"
                        << api;
  EXPECT_EQ(page[0].first, "198.18.0.0");
  EXPECT_EQ(page[0].second, KernelListed(ns, "-s 198.18.0.0"));
  EXPECT_EQ(page[0].second, 40);
  EXPECT_NE(sec.find("data-k=\"top-share\" class=\"n\">70.2%<"),
            std::string::npos)  // 40 of 57
      << sec;
  EXPECT_EQ(sec.find("top sources unavailable"), std::string::npos) << sec;

  // The chart: a line for each series, each with the points of the polls
  // (the rates from the second on), and the entries line flat at the
  // kernel's count, which the legend shows too.
  std::map<std::string, ChartLine> lines = ChartLines(sec);
  for (const char* series : {"entries", "new", "destroy"}) {
    ASSERT_TRUE(lines.count(series)) << series << "\n" << sec;
    const ChartLine& l = lines[series];
    EXPECT_GE(l.data_points, 2) << series;
    EXPECT_EQ(static_cast<int>(l.xy.size()), l.data_points) << series;
    for (size_t i = 1; i < l.xy.size(); ++i) {
      EXPECT_GT(l.xy[i].first, l.xy[i - 1].first) << series;  // in time
    }
  }
  EXPECT_EQ(lines["entries"].data_points, lines["new"].data_points + 1);
  for (const auto& [x, y] : lines["entries"].xy) {
    EXPECT_EQ(y, lines["entries"].xy[0].second);
  }
  PageFigures fig = Parse(dom, ns.name());
  EXPECT_EQ(fig.values["chart-entries-now"], "57");
  EXPECT_TRUE(
      std::regex_match(fig.values["chart-new-now"], std::regex(R"(\d+\.\d)")))
      << fig.values["chart-new-now"];

  // A screenshot with the chart and the table drawn.
  char dir[] = "/tmp/ctct-shot-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string png = std::string(dir) + "/landing-top.png";
  Chromium("--window-size=1280,1024 --virtual-time-budget=20000 --screenshot=" +
           png + " " + url);
  std::ifstream in(png, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 8000u) << "screenshot " << png;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::cerr << "landing page screenshot: " << png << "\n";
}

// Eleven minutes of the page's clock, a poll every 5 s: the chart keeps
// only the last ten minutes (121 polls at most), from the left edge of
// its plot (x = 64) to the right (x = 632).
TEST(LandingPage, ChromiumChartKeepsTheLastTenMinutes) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v chromium").exit_code != 0) {
    SKIP_UNLESS_CI("chromium is missing (Debian package chromium)");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  CtInject(ns, "create --count 3 --proto tcp --quiet");
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  const std::string url = "http://127.0.0.1:" + std::to_string(d.port()) + "/";
  std::string dom = Chromium("--virtual-time-budget=660000 --dump-dom " + url);
  std::map<std::string, ChartLine> lines = ChartLines(Section(dom, ns.name()));
  ASSERT_TRUE(lines.count("entries")) << dom;
  const ChartLine& l = lines["entries"];
  // 132 polls in all; without the cut there would be as many points.
  EXPECT_LE(l.data_points, 121);
  EXPECT_GE(l.data_points, 110);
  ASSERT_FALSE(l.xy.empty());
  EXPECT_GE(l.xy.front().first, 64.0);
  EXPECT_LT(l.xy.front().first, 64.0 + 568.0 * 10 / 600);  // within 10 s
  EXPECT_DOUBLE_EQ(l.xy.back().first, 632.0);
}

}  // namespace
}  // namespace ctcollect::itest
