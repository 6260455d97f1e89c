#include "collector/base/parse_number.h"

#include <charconv>
#include <string_view>

namespace ctcollect {

std::optional<uint64_t> ParseNumber(const std::string& s, uint64_t max) {
  uint64_t v = 0;
  int base = 10;
  std::string_view d = s;
  if (d.size() > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
    base = 16;
    d.remove_prefix(2);
  }
  if (d.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), v, base);
  if (ec != std::errc() || p != d.data() + d.size() || v > max) {
    return std::nullopt;
  }
  return v;
}

}  // namespace ctcollect
