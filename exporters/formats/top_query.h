// The parameters of a top-talker query, and its answer, as /api/v1/top and
// the control socket's `top` verb take them: by=src|dst|dport|snat (default
// src), limit=N (1-1000, default 10), netns=NAME (optional). Outside bytes: an
// unknown key or a bad value gives nullopt and a one-line reason. Pure;
// thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collector/top/top_key.h"
#include "collector/top/top_talkers.h"

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

// Where the rankings come from (NetnsSet::Top): each watched namespace's,
// or only the one named; nullopt when they are off (--top.enabled=false).
using TopSource = std::function<std::optional<std::vector<NetnsTopRanking>>(
    TopBy, size_t, const std::optional<std::string>&)>;

// A query as /api/v1/top and the control socket's `top` answer it: status
// 200 with the rankings, 400 for a bad parameter or a namespace not
// watched, 404 when the rankings are off; `error` is the one-line reason.
struct TopAnswer {
  int status = 200;
  std::string error;
  TopQuery query;
  std::vector<NetnsTopRanking> rankings;
};
TopAnswer AnswerTopQuery(const std::map<std::string, std::string>& params,
                         const TopSource& source);

}  // namespace ctcollect
