// `ctcollect top`: a live terminal view of what the daemon sees, refreshed
// once a second: table usage, entries by protocol and state, event rates.
// Parsing and rendering are pure (tested on text); RunTop does the I/O.
//
// Thread safety: RunTop owns the terminal; call it from the main thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace ctcollect {

struct TopNetns {
  std::map<std::pair<std::string, std::string>, int64_t>
      entries;  // proto,state
  int64_t events_new = 0, events_update = 0, events_destroy = 0;
  std::optional<int64_t> kernel_entries, limit;
  int64_t overruns = 0;
};
using TopSample = std::map<std::string, TopNetns>;  // by netns label

// Parses the daemon's `stats format=flat` reply; unknown lines are skipped.
TopSample ParseFlatStats(const std::string& text);

// One screen. `prev` is the sample `seconds` earlier (nullptr on the first).
std::string RenderTop(const TopSample& cur, const TopSample* prev,
                      double seconds, const std::string& socket);

// Runs until q (or the daemon goes away); with `once`, prints one frame
// and returns. Returns the exit code.
int RunTop(const std::string& socket, bool once = false);

}  // namespace ctcollect
