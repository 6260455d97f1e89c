#include "collector/control/control_protocol.h"

#include <cctype>
#include <charconv>
#include <cstring>

namespace ctcollect {
namespace {

bool ValidToken(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f) return false;
  }
  return true;
}

}  // namespace

ControlFraming DetectFraming(std::string_view b) {
  static constexpr std::string_view kMagic = "CTC";
  size_t n = std::min(b.size(), kMagic.size());
  if (b.substr(0, n) == kMagic.substr(0, n)) {
    return b.size() < kMagic.size() ? ControlFraming::kNeedMore
                                    : ControlFraming::kNative;
  }
  return b.size() < sizeof(int32_t) ? ControlFraming::kNeedMore
                                    : ControlFraming::kConntrackd;
}

std::optional<ControlRequest> ParseConntrackdRequest(std::string_view bytes) {
  if (bytes.size() != sizeof(int32_t)) return std::nullopt;
  ControlRequest r;
  r.kind = ControlRequest::Kind::kConntrackd;
  std::memcpy(&r.code, bytes.data(), sizeof(int32_t));
  return r;
}

std::optional<ControlRequest> ParseNativeRequest(std::string_view line,
                                                 std::string* error) {
  if (line.size() > kMaxRequestBytes) {
    *error =
        "request longer than " + std::to_string(kMaxRequestBytes) + " bytes";
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos ||
      line.find('\0') != std::string_view::npos) {
    *error = "request must be a single line";
    return std::nullopt;
  }
  // Split on single spaces.
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  if (words.empty() || words[0].size() < 4 || words[0].substr(0, 3) != "CTC") {
    *error = "not a CTC request";
    return std::nullopt;
  }
  ControlRequest r;
  r.kind = ControlRequest::Kind::kNative;
  std::string_view v = words[0].substr(3);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), r.version);
  if (ec != std::errc() || p != v.data() + v.size() || r.version <= 0) {
    *error = "bad protocol version \"" + std::string(v) + "\"";
    return std::nullopt;
  }
  if (words.size() < 2 || !ValidToken(words[1])) {
    *error = "missing verb";
    return std::nullopt;
  }
  r.verb = std::string(words[1]);
  for (size_t w = 2; w < words.size(); ++w) {
    size_t eq = words[w].find('=');
    if (eq == std::string_view::npos || eq == 0 || !ValidToken(words[w])) {
      *error = "bad argument \"" + std::string(words[w].substr(0, 64)) +
               "\" (want key=value)";
      return std::nullopt;
    }
    if (r.args.size() >= 32) {
      *error = "too many arguments";
      return std::nullopt;
    }
    r.args[std::string(words[w].substr(0, eq))] =
        std::string(words[w].substr(eq + 1));
  }
  return r;
}

std::string FormatNativeRequest(
    const std::string& verb, const std::map<std::string, std::string>& args) {
  std::string s = "CTC" + std::to_string(kControlProtocolVersion) + " " + verb;
  for (const auto& [k, v] : args) s += " " + k + "=" + v;
  s += "\n";
  return s;
}

std::string NativeStatusLine(int code, std::string_view reason) {
  return "CTC" + std::to_string(kControlProtocolVersion) + " " +
         std::to_string(code) + " " + std::string(reason) + "\n";
}

std::optional<int> ParseNativeStatusLine(std::string_view line,
                                         std::string* reason, int* version) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.size() < 8 || line.substr(0, 3) != "CTC") return std::nullopt;
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view v = line.substr(3, sp - 3);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *version);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  std::string_view rest = line.substr(sp + 1);
  int code = 0;
  auto [p2, ec2] =
      std::from_chars(rest.data(), rest.data() + rest.size(), code);
  if (ec2 != std::errc() || code < 100 || code > 599) return std::nullopt;
  size_t sp2 = rest.find(' ');
  *reason =
      sp2 == std::string_view::npos ? "" : std::string(rest.substr(sp2 + 1));
  return code;
}

}  // namespace ctcollect
