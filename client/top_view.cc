#include "client/top_view.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>

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
class RawTerminal {
 public:
  RawTerminal() {
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

int RunTop(const std::string& socket) {
  RawTerminal raw;
  TopSample prev;
  bool have_prev = false;
  auto prev_time = std::chrono::steady_clock::now();
  for (;;) {
    std::string body;
    ClientResult r =
        ControlRequestBody(socket, "stats", {{"format", "flat"}}, &body);
    if (!r.error.empty()) {
      std::fprintf(stderr, "ctcollect: %s\n", r.error.c_str());
      return 1;
    }
    auto now = std::chrono::steady_clock::now();
    TopSample cur = ParseFlatStats(body);
    double secs = std::chrono::duration<double>(now - prev_time).count();
    std::string screen =
        "\033[H\033[2J" +
        RenderTop(cur, have_prev ? &prev : nullptr, secs, socket);
    ssize_t w = write(STDOUT_FILENO, screen.data(), screen.size());
    (void)w;
    prev = std::move(cur);
    prev_time = now;
    have_prev = true;
    // Wait a second for a key; q (or EOF on stdin) quits.
    auto until = now + std::chrono::seconds(1);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      until - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) break;
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char c;
      ssize_t n = read(STDIN_FILENO, &c, 1);
      if (n <= 0 || c == 'q' || c == 'Q') return 0;
    }
  }
}

}  // namespace ctcollect
