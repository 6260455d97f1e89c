// The HTML landing page at "/": what the collector sees right now and links
// to every endpoint, readable without any other tool. Its inline script
// (no outside assets) polls /api/v1/stats to draw, per namespace, a chart
// of table entries and new and destroyed flows per second over the last 10
// minutes, and, for clients that may read it, /api/v1/top for the top 10
// sources.
//
// Pure functions of the snapshot; thread-safe.
#pragma once

#include <string>

#include "collector/flows/snapshot.h"

namespace ctcollect {

// `show_flows`: whether this client may read the endpoints that reveal
// addresses (/api/v1/flows, /api/v1/top): otherwise their links and the
// top-sources tables are left out, and the page never asks for them.
std::string RenderLandingPage(const Snapshot& s,
                              const std::string& telemetry_path,
                              bool show_flows, const std::string& version);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(const std::string& s);

}  // namespace ctcollect
