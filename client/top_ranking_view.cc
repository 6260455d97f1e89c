#include "client/top_ranking_view.h"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "client/live_screen.h"
#include "collector/control/control_client.h"

namespace ctcollect {

std::vector<NetnsRanking> ParseTopFlat(const std::string& text) {
  std::vector<NetnsRanking> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string what;
    l >> what;
    if (what == "netns") {
      std::string name;
      l >> name;
      out.emplace_back();
      out.back().netns = name == "-" ? "" : name;
      continue;
    }
    if (out.empty()) continue;
    NetnsRanking& r = out.back();
    if (what == "entries") {
      l >> r.entries;
    } else if (what == "exact_at") {
      l >> r.exact_at;
    } else if (what == "max_error") {
      l >> r.max_error;
    } else if (what == "key") {
      RankedKey k;
      if (l >> k.entries >> k.new_per_second >> k.key) r.keys.push_back(k);
    }
  }
  return out;
}

std::string RenderTopRanking(const std::string& by,
                             const std::vector<NetnsRanking>& rankings,
                             double now_unix) {
  std::string o;
  char b[256];
  for (const auto& r : rankings) {
    o += "netns " + (r.netns.empty() ? std::string("(own)") : r.netns) + ": " +
         std::to_string(r.entries) + " entries";
    if (r.exact_at > 0) {
      std::snprintf(b, sizeof(b), ", exact at the resync %.0f s ago",
                    now_unix > r.exact_at ? now_unix - r.exact_at : 0.0);
      o += b;
    }
    if (r.max_error > 0) {
      o += ", since then within " + std::to_string(r.max_error);
    }
    o += "\n";
    std::snprintf(b, sizeof(b), "%10s %7s %9s  %s\n", "ENTRIES", "SHARE",
                  "NEW/S", by.c_str());
    o += b;
    for (const auto& k : r.keys) {
      const double share = r.entries > 0
                               ? 100.0 * static_cast<double>(k.entries) /
                                     static_cast<double>(r.entries)
                               : 0;
      std::snprintf(b, sizeof(b), "%10lld %6.1f%% %9.1f  %s\n",
                    static_cast<long long>(k.entries), share, k.new_per_second,
                    k.key.c_str());
      o += b;
    }
    if (r.keys.empty()) o += "  (no entries)\n";
    o += "\n";
  }
  return o;
}

namespace {

double NowUnix() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int RunTopRanking(const std::string& socket,
                  std::map<std::string, std::string> args, bool once) {
  args["format"] = "flat";
  const std::string by = args.count("by") ? args.at("by") : "src";
  auto frame = [&](std::string* screen, std::string* error) {
    std::string body;
    ClientResult r = ControlRequestBody(socket, "top", args, &body);
    if (!r.error.empty()) {
      *error = r.error;
      return false;
    }
    *screen = RenderTopRanking(by, ParseTopFlat(body), NowUnix());
    return true;
  };
  return RunLive(frame, once);
}

}  // namespace ctcollect
