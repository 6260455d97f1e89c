#include "collector/discovery/mountinfo.h"

#include <sys/sysmacros.h>

#include <charconv>

namespace ctcollect {
namespace {

// Linux's dev_t: 12 bits of major, 20 of minor (MINORBITS).
constexpr uint64_t kMaxMajor = (1u << 12) - 1;
constexpr uint64_t kMaxMinor = (1u << 20) - 1;

std::optional<uint64_t> ParseDecimal(std::string_view s, uint64_t max) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) {
    return std::nullopt;
  }
  return v;
}

std::optional<dev_t> ParseMajorMinor(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto major = ParseDecimal(s.substr(0, colon), kMaxMajor);
  auto minor = ParseDecimal(s.substr(colon + 1), kMaxMinor);
  if (!major || !minor) return std::nullopt;
  return makedev(*major, *minor);
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// Fields are separated by single spaces (the kernel escapes spaces inside
// them); an empty field is kept, so "a  b" is three fields.
std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t sp = line.find(' ', start);
    if (sp == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, sp - start));
    start = sp + 1;
  }
}

// "TYPE:[N]" for a TYPE other than net.
bool IsOtherNsfsRoot(std::string_view root) {
  size_t open = root.find(":[");
  if (open == 0 || open == std::string_view::npos || root.back() != ']') {
    return false;
  }
  std::string_view type = root.substr(0, open);
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  std::string_view number = root.substr(open + 2, root.size() - open - 3);
  return type != "net" && ParseDecimal(number, UINT64_MAX).has_value();
}

enum class LineResult { kNetns, kOther, kMalformed };

LineResult ParseLine(std::string_view line, NsfsMount* out) {
  std::vector<std::string_view> f = SplitFields(line);
  // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
  // [SUPER_OPTIONS]
  if (f.size() < 9) return LineResult::kMalformed;
  for (size_t i = 0; i < 6; ++i) {
    if (f[i].empty()) return LineResult::kMalformed;
  }
  if (!ParseDecimal(f[0], UINT32_MAX) || !ParseDecimal(f[1], UINT32_MAX)) {
    return LineResult::kMalformed;
  }
  auto dev = ParseMajorMinor(f[2]);
  if (!dev) return LineResult::kMalformed;
  size_t sep = 6;
  while (sep < f.size() && f[sep] != "-") ++sep;
  // FSTYPE and SOURCE must follow the separator; SUPER_OPTIONS may not.
  if (sep + 2 >= f.size()) return LineResult::kMalformed;
  std::string_view fstype = f[sep + 1];
  if (fstype.empty()) return LineResult::kMalformed;
  if (fstype != "nsfs") return LineResult::kOther;
  auto inode = ParseNetNsfsRoot(f[3]);
  if (!inode) {
    // Another namespace type ("mnt:[N]", "uts:[N]") is well formed.
    return IsOtherNsfsRoot(f[3]) ? LineResult::kOther : LineResult::kMalformed;
  }
  auto mount_point = DecodeMountinfoPath(f[4]);
  if (!mount_point || mount_point->empty() || (*mount_point)[0] != '/') {
    return LineResult::kMalformed;
  }
  out->mount_point = std::move(*mount_point);
  out->dev = *dev;
  out->inode = *inode;
  return LineResult::kNetns;
}

}  // namespace

std::optional<uint64_t> ParseNetNsfsRoot(std::string_view root) {
  constexpr std::string_view kPrefix = "net:[";
  if (root.size() <= kPrefix.size() + 1 || root.substr(0, 5) != kPrefix ||
      root.back() != ']') {
    return std::nullopt;
  }
  auto inode = ParseDecimal(
      root.substr(kPrefix.size(), root.size() - kPrefix.size() - 1),
      UINT64_MAX);
  if (!inode || *inode == 0) return std::nullopt;
  return inode;
}

std::optional<std::string> DecodeMountinfoPath(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c == '\\' && i + 3 < field.size() && IsOctal(field[i + 1]) &&
        IsOctal(field[i + 2]) && IsOctal(field[i + 3])) {
      int v = (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
              (field[i + 3] - '0');
      if (v > 255) {
        out.push_back(c);
        continue;
      }
      c = static_cast<char>(v);
      i += 3;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

MountinfoNetns ParseMountinfoNetns(std::string_view text) {
  MountinfoNetns result;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    if (line.size() > kMaxMountinfoLine) {
      ++result.skipped_lines;
      continue;
    }
    NsfsMount mount;
    switch (ParseLine(line, &mount)) {
      case LineResult::kNetns:
        result.mounts.push_back(std::move(mount));
        break;
      case LineResult::kOther:
        break;
      case LineResult::kMalformed:
        ++result.skipped_lines;
        break;
    }
  }
  return result;
}

}  // namespace ctcollect
