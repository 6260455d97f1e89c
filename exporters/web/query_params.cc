#include "exporters/web/query_params.h"

namespace ctcollect {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int h = Hex(s[i + 1]), l = Hex(s[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      char d = static_cast<char>(h * 16 + l);
      if (d == '\0') return std::nullopt;
      out.push_back(d);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::optional<std::map<std::string, std::string>> ParseQueryString(
    std::string_view query, std::string* error) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(i, amp - i);
    i = amp + 1;
    if (part.empty()) continue;
    if (part.size() > 1024) {
      *error = "query parameter longer than 1024 bytes";
      return std::nullopt;
    }
    size_t eq = part.find('=');
    auto key = Decode(part.substr(0, eq));
    auto value =
        Decode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (!key || !value || key->empty()) {
      *error = "malformed query parameter";
      return std::nullopt;
    }
    if (out.size() >= 32) {
      *error = "too many query parameters";
      return std::nullopt;
    }
    if (!out.emplace(*key, *value).second) {
      *error = "parameter \"" + key->substr(0, 64) + "\" given twice";
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace ctcollect
