#include "exporters/web/landing_page.h"

#include <cstdio>
#include <map>
#include <tuple>

#include "exporters/web/flows_access.h"

namespace ctcollect {

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Two reads of /api/v1/stats two seconds apart give each namespace's
// event rate; the page needs no other tool and no outside resource.
constexpr char kRateScript[] = R"JS(<script>
(function () {
  function totals(j) {
    var t = {};
    j.netns.forEach(function (n) {
      t[n.name] = n.events["new"] + n.events.update + n.events.destroy;
    });
    return t;
  }
  function get() {
    return fetch("/api/v1/stats", {cache: "no-store"}).then(function (r) {
      return r.json();
    });
  }
  get().then(function (a) {
    setTimeout(function () {
      get().then(function (b) {
        var ta = totals(a), tb = totals(b), dt = b.time - a.time;
        document.querySelectorAll("section[data-netns]").forEach(function (s) {
          var n = s.getAttribute("data-netns");
          var el = s.querySelector("[data-k=event-rate]");
          if (el && dt > 0 && n in ta && n in tb) {
            el.textContent = ((tb[n] - ta[n]) / dt).toFixed(1);
          }
        });
      });
    }, 2000);
  });
})();
</script>
)JS";

std::string Attr(const std::string& s) { return HtmlEscape(s); }

}  // namespace

std::string RenderLandingPage(const Snapshot& s,
                              const std::string& telemetry_path,
                              bool show_flows, const std::string& version) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width\">"
       "<title>ctcollectd</title><style>"
       "body{font-family:sans-serif;margin:2em;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0}"
       "td,th{border:1px solid #ccc;padding:2px 10px}th{background:#eee}"
       "td.n{text-align:right}meter{width:20em;height:1.2em}"
       ".big{font-size:1.4em;font-weight:bold}nav a{margin-right:1em}"
       "</style></head><body>\n";
  h += "<h1>ctcollectd " + HtmlEscape(version) + "</h1>\n<nav>";
  const std::pair<std::string, std::string> links[] = {
      {telemetry_path, "metrics"},
      {"/api/v1/flows?format=json", "flows (JSON)"},
      {"/api/v1/flows?format=xml", "flows (XML)"},
      {"/api/v1/stats", "stats (JSON)"},
      {"/-/healthy", "healthy"},
      {"/-/ready", "ready"}};
  for (const auto& [href, text] : links) {
    if (!show_flows && RevealsAddresses(href.substr(0, href.find('?')))) {
      continue;
    }
    h += "<a href=\"" + Attr(href) + "\">" + HtmlEscape(text) + "</a>";
  }
  h += "</nav>\n";
  for (const auto& ns : s.netns) {
    std::string name = ns.netns.empty() ? "(own namespace)" : ns.netns;
    h += "<section data-netns=\"" + Attr(ns.netns) + "\"><h2>netns " +
         HtmlEscape(name) + (ns.ready ? "" : " (first dump running)") +
         "</h2>\n";
    int64_t total = 0;
    for (const auto& e : ns.entries) total += e.value;
    h +=
        "<p>Table: <span class=\"big\" data-k=\"kernel-entries\">" +
        (ns.kernel.entries ? std::to_string(*ns.kernel.entries) : "?") +
        "</span> of <span data-k=\"limit\">" +
        (ns.kernel.max_entries ? std::to_string(*ns.kernel.max_entries) : "?") +
        "</span>";
    if (ns.kernel.entries && ns.kernel.max_entries && *ns.kernel.max_entries) {
      double frac = static_cast<double>(*ns.kernel.entries) /
                    static_cast<double>(*ns.kernel.max_entries);
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%.1f", 100.0 * frac);
      h += " (<span data-k=\"usage-percent\">" + std::string(pct) +
           "</span>%) <meter min=\"0\" max=\"1\" low=\"0.75\" high=\"0.9\" "
           "optimum=\"0\" value=\"" +
           std::to_string(frac) + "\"></meter>";
    }
    int64_t events = 0;
    for (int t = 0; t < kNumEventTypes; ++t) {
      for (int f = 0; f < kNumFamilies; ++f) {
        for (int p = 0; p < kNumProtos; ++p) events += ns.events[t][f][p];
      }
    }
    h += "<br>Tracked by ctcollectd: <span data-k=\"tracked\">" +
         std::to_string(total) +
         "</span> flows &middot; events: <span data-k=\"events-total\">" +
         std::to_string(events) +
         "</span> (<span data-k=\"event-rate\">&hellip;</span>/s now)"
         " &middot; lost (overruns): <span data-k=\"overruns\">" +
         std::to_string(ns.overruns) + "</span></p>\n";
    h += "<table><tr><th>family</th><th>protocol</th><th>state</th>"
         "<th>entries</th></tr>\n";
    // Summed over zones: the page is the quick look, /metrics the detail.
    std::map<std::tuple<int, int, int>, int64_t> rows;
    for (const auto& e : ns.entries) {
      rows[{static_cast<int>(e.family), static_cast<int>(e.proto), e.state}] +=
          e.value;
    }
    for (const auto& [k, v] : rows) {
      auto [f, p, st] = k;
      Proto proto = static_cast<Proto>(p);
      std::string fam(FamilyName(static_cast<Family>(f)));
      std::string pro(ProtoName(proto));
      std::string sta(StateName(proto, static_cast<uint8_t>(st)));
      h += "<tr data-family=\"" + fam + "\" data-protocol=\"" + pro +
           "\" data-state=\"" + sta + "\"><td>" + fam + "</td><td>" + pro +
           "</td><td>" + sta + "</td><td class=\"n\" data-k=\"entries\">" +
           std::to_string(v) + "</td></tr>\n";
    }
    h += "</table></section>\n";
  }
  h += kRateScript;
  h += "</body></html>\n";
  return h;
}

}  // namespace ctcollect
