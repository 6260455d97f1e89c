// The parameters of a top-talker query, as /api/v1/top and the control
// socket's `top` verb take them: by=src|dst|dport|snat (default src),
// limit=N (1-1000, default 10), netns=NAME (optional). Outside bytes: an
// unknown key or a bad value gives nullopt and a one-line reason. Pure;
// thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "collector/top/top_key.h"

namespace ctcollect {

inline constexpr size_t kTopDefaultLimit = 10;
inline constexpr size_t kTopMaxLimit = 1000;

struct TopQuery {
  TopBy by = TopBy::kSrc;
  size_t limit = kTopDefaultLimit;
  std::optional<std::string> netns;
};

std::optional<TopQuery> ParseTopQuery(
    const std::map<std::string, std::string>& params, std::string* error);

}  // namespace ctcollect
