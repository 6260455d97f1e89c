#include "client/top_view.h"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "client/live_screen.h"
#include "collector/control/control_client.h"

namespace ctcollect {

TopSample ParseFlatStats(const std::string& text) {
  TopSample s;
  TopNetns* cur = nullptr;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string key;
    l >> key;
    if (key == "netns") {
      std::string name;
      l >> name;
      cur = &s[name == "-" ? "" : name];
      continue;
    }
    if (cur == nullptr) continue;
    if (key == "entries") {
      std::string fam, proto, state, zone;
      int64_t v = 0;
      if (l >> fam >> proto >> state >> zone >> v) {
        cur->entries[{proto, state == "-" ? "" : state}] += v;
      }
    } else if (key == "events") {
      std::string type;
      int64_t v = 0;
      if (l >> type >> v) {
        if (type == "new") cur->events_new = v;
        if (type == "update") cur->events_update = v;
        if (type == "destroy") cur->events_destroy = v;
      }
    } else {
      int64_t v = 0;
      if (!(l >> v)) continue;
      if (key == "kernel_entries") cur->kernel_entries = v;
      if (key == "entries_limit") cur->limit = v;
      if (key == "overruns") cur->overruns = v;
    }
  }
  return s;
}

std::string RenderTop(const TopSample& cur, const TopSample* prev,
                      double seconds, const std::string& socket) {
  char b[256];
  std::string o = "ctcollect top - " + socket + " - q quits\n\n";
  for (const auto& [name, ns] : cur) {
    o += "netns " + (name.empty() ? std::string("(own)") : name) + "\n";
    int64_t total = 0;
    for (const auto& [k, v] : ns.entries) total += v;
    if (ns.kernel_entries && ns.limit && *ns.limit > 0) {
      std::snprintf(b, sizeof(b), "  table: %lld / %lld (%.1f%%)\n",
                    static_cast<long long>(*ns.kernel_entries),
                    static_cast<long long>(*ns.limit),
                    100.0 * static_cast<double>(*ns.kernel_entries) /
                        static_cast<double>(*ns.limit));
      o += b;
    }
    const TopNetns* p = nullptr;
    if (prev) {
      auto it = prev->find(name);
      if (it != prev->end()) p = &it->second;
    }
    auto rate = [&](int64_t now, int64_t before) {
      return p && seconds > 0 ? static_cast<double>(now - before) / seconds
                              : 0.0;
    };
    std::snprintf(b, sizeof(b),
                  "  events/s: new %.1f  update %.1f  destroy %.1f   "
                  "overruns %lld\n",
                  rate(ns.events_new, p ? p->events_new : 0),
                  rate(ns.events_update, p ? p->events_update : 0),
                  rate(ns.events_destroy, p ? p->events_destroy : 0),
                  static_cast<long long>(ns.overruns));
    o += b;
    std::snprintf(b, sizeof(b), "  %-10s %-14s %12s\n", "PROTOCOL", "STATE",
                  "ENTRIES");
    o += b;
    for (const auto& [k, v] : ns.entries) {
      if (v == 0) continue;
      std::snprintf(b, sizeof(b), "  %-10s %-14s %12lld\n", k.first.c_str(),
                    k.second.empty() ? "-" : k.second.c_str(),
                    static_cast<long long>(v));
      o += b;
    }
    std::snprintf(b, sizeof(b), "  %-10s %-14s %12lld\n\n", "total", "",
                  static_cast<long long>(total));
    o += b;
  }
  return o;
}

namespace {

// Raw, no-echo terminal for the lifetime of the object (when stdin is one).
}  // namespace

int RunTop(const std::string& socket, bool once) {
  TopSample prev;
  bool have_prev = false;
  auto prev_time = std::chrono::steady_clock::now();
  auto frame = [&](std::string* screen, std::string* error) {
    std::string body;
    ClientResult r =
        ControlRequestBody(socket, "stats", {{"format", "flat"}}, &body);
    if (!r.error.empty()) {
      *error = r.error;
      return false;
    }
    auto now = std::chrono::steady_clock::now();
    TopSample cur = ParseFlatStats(body);
    double secs = std::chrono::duration<double>(now - prev_time).count();
    *screen = RenderTop(cur, have_prev ? &prev : nullptr, secs, socket);
    prev = std::move(cur);
    prev_time = now;
    have_prev = true;
    return true;
  };
  return RunLive(frame, once);
}

}  // namespace ctcollect
