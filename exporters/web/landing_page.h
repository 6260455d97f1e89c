// The HTML landing page at "/": what the collector sees right now and links
// to every endpoint, readable without any other tool.
//
// Pure functions of the snapshot; thread-safe.
#pragma once

#include <string>

#include "collector/flows/snapshot.h"

namespace ctcollect {

// `show_flows`: whether this client may read /api/v1/flows (its links are
// left out otherwise).
std::string RenderLandingPage(const Snapshot& s,
                              const std::string& telemetry_path,
                              bool show_flows, const std::string& version);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(const std::string& s);

}  // namespace ctcollect
