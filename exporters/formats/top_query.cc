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

}  // namespace ctcollect
