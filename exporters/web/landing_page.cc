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

// The page's own polling: every 5 s (the first time after 2 s, so the
// event rate shows soon) it reads /api/v1/stats and, for each namespace
// section, updates the event rate and redraws the chart of the last ten
// minutes, kept in the page (points older than that drop off). Entries are
// the kernel's count where the stats have it, else the flow table's; new
// and destroyed flows per second are the event counters' deltas over the
// server's clock. Times on the chart are the page's clock: the chart is
// what this page saw. The SVG skeleton is in the HTML, so the script needs
// no namespace URI and nothing from outside. A poll is scheduled only when
// the previous one has finished, so a slow daemon is not piled on.
constexpr char kScriptHead[] = R"JS(<script>
(function () {
  "use strict";
  var FIRST_MS = 2000, POLL_MS = 5000, WINDOW_S = 600;
  var X0 = 64, X1 = 632;  // the plot areas' left and right, as in the SVG
  var state = {};  // netns name -> {prev: {time, events}, points: [...]}
  var perSection = [];  // more to refresh in each section at each poll
  function sum(e) {
    return e["new"] + e.update + e.destroy;
  }
  function getJson(url) {
    return fetch(url, {cache: "no-store"}).then(function (r) {
      if (!r.ok) {
        var e = new Error("HTTP " + r.status);
        e.status = r.status;
        throw e;
      }
      return r.json();
    });
  }
  function sections() {
    return Array.prototype.slice.call(
        document.querySelectorAll("section[data-netns]"));
  }
  function fmt(v) {
    if (v >= 1e6) return (v / 1e6).toPrecision(3).replace(/\.?0+$/, "") + "M";
    if (v >= 1e4) return (v / 1e3).toPrecision(3).replace(/\.?0+$/, "") + "k";
    return String(Math.round(v * 10) / 10);
  }
  // A round upper bound (1, 2 or 5 times a power of ten), at least 1.
  function ceiling(max) {
    if (!(max > 1)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; ++i) {
      if (steps[i] * p >= max) return steps[i] * p;
    }
    return 10 * p;
  }
  function setText(root, k, text) {
    var el = root.querySelector('[data-k="' + k + '"]');
    if (el) el.textContent = text;
  }
  function line(svg, series, points, top, bottom, max, now) {
    var el = svg.querySelector('[data-series="' + series + '"]');
    var xy = [];
    points.forEach(function (p) {
      if (p[series] === null) return;
      var x = X0 + (X1 - X0) * (p.t - now + WINDOW_S) / WINDOW_S;
      var y = bottom - (bottom - top) * p[series] / max;
      xy.push(x.toFixed(1) + "," + y.toFixed(1));
    });
    el.setAttribute("points", xy.join(" "));
    el.setAttribute("data-points", String(xy.length));
  }
  function draw(s, points, now) {
    var svg = s.querySelector('svg[data-k="chart"]');
    if (!svg) return;
    var emax = 0, rmax = 0;
    points.forEach(function (p) {
      emax = Math.max(emax, p.entries);
      if (p["new"] !== null) rmax = Math.max(rmax, p["new"], p.destroy);
    });
    emax = ceiling(emax);
    rmax = ceiling(rmax);
    line(svg, "entries", points, 18, 98, emax, now);
    line(svg, "new", points, 138, 218, rmax, now);
    line(svg, "destroy", points, 138, 218, rmax, now);
    svg.setAttribute("data-points", String(points.length));
    setText(svg, "chart-entries-max", fmt(emax));
    setText(svg, "chart-rate-max", fmt(rmax) + "/s");
    var last = points[points.length - 1];
    setText(s, "chart-entries-now", fmt(last.entries));
    if (last["new"] !== null) {
      setText(s, "chart-new-now", last["new"].toFixed(1));
      setText(s, "chart-destroy-now", last.destroy.toFixed(1));
    }
  }
  function record(j) {
    var now = Date.now() / 1000, byName = {};
    j.netns.forEach(function (n) {
      byName[n.name] = n;
    });
    sections().forEach(function (s) {
      var name = s.getAttribute("data-netns"), n = byName[name];
      if (!n) return;
      var st = state[name] || (state[name] = {prev: null, points: []});
      var p = {
        t: now,
        entries: "kernel_entries" in n ? n.kernel_entries
                                       : n.flow_table_entries,
        "new": null,
        destroy: null
      };
      var a = st.prev, dt = a ? j.time - a.time : 0;
      // Counters that went back (a restarted daemon) give no rate.
      if (a && dt > 0 && sum(n.events) >= sum(a.events)) {
        p["new"] = Math.max(0, n.events["new"] - a.events["new"]) / dt;
        p.destroy = Math.max(0, n.events.destroy - a.events.destroy) / dt;
        setText(s, "event-rate", ((sum(n.events) - sum(a.events)) / dt)
                                     .toFixed(1));
      }
      st.prev = {time: j.time, events: n.events};
      st.points.push(p);
      while (st.points[0].t < now - WINDOW_S) st.points.shift();
      draw(s, st.points, now);
    });
  }
)JS";

// Only for the clients that may read /api/v1/top (it reveals addresses):
// each section's top 10 sources, refreshed at each poll. A refused or
// failed read leaves a short note and the rest of the page as it is.
constexpr char kTopScript[] = R"JS(
  function cell(tr, text, k) {
    var td = document.createElement("td");
    td.textContent = text;
    if (k) {
      td.setAttribute("data-k", k);
      td.className = "n";
    }
    tr.appendChild(td);
  }
  perSection.push(function (s, name) {
    var box = s.querySelector('[data-k="top"]');
    if (!box) return null;
    var table = box.querySelector("table"), body = table.tBodies[0];
    var note = box.querySelector('[data-k="top-note"]');
    return getJson("/api/v1/top?by=src&limit=10&netns=" +
                   encodeURIComponent(name)).then(function (j) {
      var n = null;
      j.netns.forEach(function (x) {
        if (x.name === name) n = x;
      });
      if (!n) throw new Error("this namespace is not ranked");
      while (body.firstChild) body.removeChild(body.firstChild);
      n.top.forEach(function (t) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-top-key", t.key);
        cell(tr, t.key, null);
        cell(tr, String(t.entries), "top-entries");
        cell(tr, n.entries > 0 ? (100 * t.entries / n.entries).toFixed(1) + "%"
                               : "", "top-share");
        cell(tr, t.new_per_second.toFixed(1), "top-new");
        body.appendChild(tr);
      });
      table.hidden = n.top.length === 0;
      note.textContent = n.top.length === 0 ? "no entries"
          : n.max_error > 0 ? "estimates: each at most " + n.max_error +
                              " entries over"
          : "";
    }).catch(function (e) {
      table.hidden = true;
      note.textContent = "top sources unavailable (" +
          (e.status === 403 ? "not for this client, see --web.flows-api"
                            : e.message) + ")";
    });
  });
)JS";

constexpr char kScriptTail[] = R"JS(
  function poll(first) {
    getJson("/api/v1/stats").then(record).catch(function () {
      // The next poll tries again; the page keeps what it has.
    }).then(function () {
      var work = [];
      sections().forEach(function (s) {
        perSection.forEach(function (f) {
          work.push(f(s, s.getAttribute("data-netns")));
        });
      });
      return Promise.all(work);
    }).then(function () {
      setTimeout(poll, first ? FIRST_MS : POLL_MS, false);
    });
  }
  poll(true);
})();
</script>
)JS";

// One section's chart: entries above, new and destroyed flows per second
// below, each on its own scale; the script fills in the lines and the
// scales' maxima.
constexpr char kChart[] =
    "<div class=\"chart\"><svg data-k=\"chart\" data-points=\"0\" "
    "viewBox=\"0 0 640 240\" width=\"640\" height=\"240\" role=\"img\" "
    "aria-label=\"table entries and flows per second, last 10 minutes\">"
    "<rect x=\"64\" y=\"18\" width=\"568\" height=\"80\"/>"
    "<rect x=\"64\" y=\"138\" width=\"568\" height=\"80\"/>"
    "<text x=\"64\" y=\"13\">table entries</text>"
    "<text x=\"64\" y=\"133\">flows per second: "
    "<tspan class=\"new\">new</tspan>, "
    "<tspan class=\"destroy\">destroyed</tspan></text>"
    "<text class=\"y\" x=\"60\" y=\"26\" data-k=\"chart-entries-max\"></text>"
    "<text class=\"y\" x=\"60\" y=\"98\">0</text>"
    "<text class=\"y\" x=\"60\" y=\"146\" data-k=\"chart-rate-max\"></text>"
    "<text class=\"y\" x=\"60\" y=\"218\">0</text>"
    "<text x=\"64\" y=\"234\">&minus;10 min</text>"
    "<text x=\"348\" y=\"234\" text-anchor=\"middle\">&minus;5 min</text>"
    "<text x=\"632\" y=\"234\" text-anchor=\"end\">now</text>"
    "<polyline data-series=\"entries\" data-points=\"0\" points=\"\"/>"
    "<polyline data-series=\"new\" data-points=\"0\" points=\"\"/>"
    "<polyline data-series=\"destroy\" data-points=\"0\" points=\"\"/>"
    "</svg><div class=\"legend\">now: "
    "<span class=\"entries\">entries <b data-k=\"chart-entries-now\">"
    "&hellip;</b></span> &middot; <span class=\"new\">new <b "
    "data-k=\"chart-new-now\">&hellip;</b>/s</span> &middot; <span "
    "class=\"destroy\">destroyed <b data-k=\"chart-destroy-now\">&hellip;</b>"
    "/s</span></div></div>\n";

constexpr char kTopTable[] =
    "<div data-k=\"top\"><h3>Top 10 sources</h3><table hidden><thead><tr>"
    "<th>source</th><th>entries</th><th>share</th><th>new/s</th></tr>"
    "</thead><tbody></tbody></table><p data-k=\"top-note\">&hellip;</p>"
    "</div>\n";

constexpr char kTopLimited[] =
    "<p>Top sources: only for the clients <code>--web.flows-api</code> "
    "allows (loopback ones by default).</p>\n";

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
       "svg{max-width:100%;height:auto}svg rect{fill:none;stroke:#ccc}"
       "svg text{font-size:11px;fill:#444}svg text.y{text-anchor:end}"
       "polyline{fill:none;stroke-width:1.5}"
       "[data-series=entries]{stroke:#1f77b4}.entries{color:#1f77b4}"
       "[data-series=new]{stroke:#2ca02c}.new{color:#2ca02c;fill:#2ca02c}"
       "[data-series=destroy]{stroke:#d62728}"
       ".destroy{color:#d62728;fill:#d62728}.legend{font-size:.9em}"
       "</style></head><body>\n";
  h += "<h1>ctcollectd " + HtmlEscape(version) + "</h1>\n<nav>";
  const std::pair<std::string, std::string> links[] = {
      {telemetry_path, "metrics"},
      {"/api/v1/flows?format=json", "flows (JSON)"},
      {"/api/v1/flows?format=xml", "flows (XML)"},
      {"/api/v1/top?by=src", "top sources (JSON)"},
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
    h += "</table>\n";
    h += kChart;
    h += show_flows ? kTopTable : kTopLimited;
    h += "</section>\n";
  }
  h += kScriptHead;
  if (show_flows) h += kTopScript;
  h += kScriptTail;
  h += "</body></html>\n";
  return h;
}

}  // namespace ctcollect
