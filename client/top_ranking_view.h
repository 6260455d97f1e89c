// `ctcollect top --by src|dst|dport|snat`: who holds the table's entries,
// per watched namespace, live (a fresh screen every second) or one frame
// (--once) for scripts. Parsing and rendering are pure (tested on text);
// RunTopRanking does the I/O.
//
// Thread safety: RunTopRanking owns the terminal; call it from the main
// thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ctcollect {

struct RankedKey {
  std::string key;
  int64_t entries = 0;
  double new_per_second = 0;
};
struct NetnsRanking {
  std::string netns;  // "" for the daemon's own
  int64_t entries = 0;
  double exact_at = 0;
  int64_t max_error = 0;
  std::vector<RankedKey> keys;
};

// Parses the daemon's `top format=flat` reply; unknown lines are skipped.
std::vector<NetnsRanking> ParseTopFlat(const std::string& text);

// One frame: per namespace, the keys with their entries, share of the
// table and new flows per second. `now_unix` dates "exact N s ago".
std::string RenderTopRanking(const std::string& by,
                             const std::vector<NetnsRanking>& rankings,
                             double now_unix);

// `args` are the `top` request's (by, limit, netns). Returns the exit code.
int RunTopRanking(const std::string& socket,
                  std::map<std::string, std::string> args, bool once);

}  // namespace ctcollect
