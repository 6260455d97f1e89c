#include "exporters/landing_page.h"

#include <cstdio>
#include <map>
#include <tuple>

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

std::string RenderLandingPage(const Snapshot& s,
                              const std::string& telemetry_path,
                              const std::string& version) {
  std::string h;
  h += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
       "<title>ctcollectd</title><style>body{font-family:sans-serif;"
       "margin:2em}table{border-collapse:collapse}td,th{border:1px solid "
       "#ccc;padding:2px 8px;text-align:right}th{background:#eee}"
       "</style></head><body>\n";
  h += "<h1>ctcollectd " + HtmlEscape(version) + "</h1>\n";
  h += "<p>Connection-tracking statistics collector. Endpoints: "
       "<a href=\"" +
       HtmlEscape(telemetry_path) + "\">" + HtmlEscape(telemetry_path) +
       "</a> &middot; <a href=\"/api/v1/flows\">/api/v1/flows</a> (<a "
       "href=\"/api/v1/flows?format=xml\">XML</a>) &middot; <a "
       "href=\"/api/v1/stats\">/api/v1/stats</a> &middot; <a "
       "href=\"/-/healthy\">/-/healthy</a> &middot; "
       "<a href=\"/-/ready\">/-/ready</a></p>\n";
  for (const auto& ns : s.netns) {
    std::string name = ns.netns.empty() ? "(own namespace)" : ns.netns;
    h += "<h2>netns " + HtmlEscape(name) + "</h2>\n<p>";
    int64_t total = 0;
    for (const auto& e : ns.entries) total += e.value;
    h += "Tracked flows: <b id=\"flows-" + HtmlEscape(ns.netns) + "\">" +
         std::to_string(total) + "</b>";
    if (ns.kernel.entries && ns.kernel.max_entries && *ns.kernel.max_entries) {
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%.1f",
                    100.0 * static_cast<double>(*ns.kernel.entries) /
                        static_cast<double>(*ns.kernel.max_entries));
      h += " &middot; kernel table " + std::to_string(*ns.kernel.entries) +
           " of " + std::to_string(*ns.kernel.max_entries) + " (" + pct + "%)";
    }
    h += ns.ready ? " &middot; ready" : " &middot; first dump running";
    h += "</p>\n<table><tr><th>family</th><th>protocol</th><th>state</th>"
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
      h += "<tr><td>" + std::string(FamilyName(static_cast<Family>(f))) +
           "</td><td>" + std::string(ProtoName(proto)) + "</td><td>" +
           std::string(StateName(proto, static_cast<uint8_t>(st))) +
           "</td><td>" + std::to_string(v) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace ctcollect
