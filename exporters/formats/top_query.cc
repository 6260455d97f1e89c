#include "exporters/formats/top_query.h"

#include "collector/base/parse_number.h"

namespace ctcollect {

std::optional<TopQuery> ParseTopQuery(
    const std::map<std::string, std::string>& params, std::string* error) {
  TopQuery q;
  for (const auto& [key, value] : params) {
    if (key == "by") {
      auto by = ParseTopBy(value);
      if (!by) {
        *error = "bad by: src, dst, dport or snat";
        return std::nullopt;
      }
      q.by = *by;
    } else if (key == "limit") {
      auto n = ParseNumber(value, kTopMaxLimit);
      if (!n || *n < 1) {
        *error =
            "bad limit: a number from 1 to " + std::to_string(kTopMaxLimit);
        return std::nullopt;
      }
      q.limit = static_cast<size_t>(*n);
    } else if (key == "netns") {
      q.netns = value;
    } else {
      *error = "unknown parameter " + key + ": by, limit or netns";
      return std::nullopt;
    }
  }
  return q;
}

TopAnswer AnswerTopQuery(const std::map<std::string, std::string>& params,
                         const TopSource& source) {
  TopAnswer a;
  auto q = ParseTopQuery(params, &a.error);
  if (!q) {
    a.status = 400;
    return a;
  }
  a.query = *q;
  auto rankings = source ? source(q->by, q->limit, q->netns)
                         : std::optional<std::vector<NetnsTopRanking>>();
  if (!rankings) {
    a.status = 404;
    a.error = "top-talker rankings are off (--top.enabled=false)";
  } else if (q->netns && rankings->empty()) {
    a.status = 400;
    a.error = "bad netns: not watched by this daemon";
  } else {
    a.rankings = std::move(*rankings);
  }
  return a;
}

}  // namespace ctcollect
