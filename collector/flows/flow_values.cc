#include "collector/flows/flow_values.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string_view>

#include "collector/conntrack/dimensions.h"

namespace ctcollect {

bool Cidr::Contains(int a_af, const void* a) const {
  if (a_af != af || a == nullptr) return false;
  const auto* b = static_cast<const uint8_t*>(a);
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(b, addr, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t m = static_cast<uint8_t>(0xff << (8 - rest));
  return (b[full] & m) == addr[full];
}

std::optional<Cidr> ParseCidr(const std::string& s) {
  Cidr c;
  std::string ip = s;
  size_t slash = s.find('/');
  std::optional<uint64_t> prefix;
  if (slash != std::string::npos) {
    ip = s.substr(0, slash);
    prefix = ParseNumber(s.substr(slash + 1), 128);
    if (!prefix) return std::nullopt;
  }
  if (inet_pton(AF_INET, ip.c_str(), c.addr) == 1) {
    c.af = AF_INET;
    c.prefix = static_cast<int>(prefix.value_or(32));
    if (c.prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, ip.c_str(), c.addr) == 1) {
    c.af = AF_INET6;
    c.prefix = static_cast<int>(prefix.value_or(128));
  } else {
    return std::nullopt;
  }
  // Clear the host bits so Contains can compare bytes.
  int len = c.af == AF_INET ? 4 : 16;
  for (int i = 0; i < len; ++i) {
    int bits = c.prefix - i * 8;
    if (bits >= 8) continue;
    c.addr[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
  return c;
}

std::optional<ProtocolValue> ParseProtocol(const std::string& s) {
  ProtocolValue v;
  for (int p = 0; p < kNumProtos; ++p) {
    if (s != ProtoName(static_cast<Proto>(p))) continue;
    if (static_cast<Proto>(p) == Proto::kGeneric) {
      v.generic = true;
      return v;
    }
    for (int n = 0; n < 256; ++n) {
      if (ProtoFromNumber(static_cast<uint8_t>(n)) == static_cast<Proto>(p)) {
        v.l4proto = static_cast<uint8_t>(n);
        return v;
      }
    }
  }
  auto n = ParseNumber(s, 255);
  if (!n) return std::nullopt;
  v.l4proto = static_cast<uint8_t>(*n);
  return v;
}

std::optional<MarkValue> ParseMark(const std::string& s) {
  MarkValue v;
  size_t slash = s.find('/');
  auto m = ParseNumber(s.substr(0, slash), 0xffffffffull);
  if (!m) return std::nullopt;
  if (slash != std::string::npos) {
    auto mask = ParseNumber(s.substr(slash + 1), 0xffffffffull);
    if (!mask) return std::nullopt;
    v.mask = static_cast<uint32_t>(*mask);
  }
  v.mark = static_cast<uint32_t>(*m) & v.mask;
  return v;
}

std::optional<PortRange> ParsePortRange(const std::string& s) {
  size_t dash = s.find('-');
  auto lo = ParseNumber(s.substr(0, dash), 65535);
  if (!lo) return std::nullopt;
  PortRange r;
  r.lo = r.hi = static_cast<uint16_t>(*lo);
  if (dash != std::string::npos) {
    auto hi = ParseNumber(s.substr(dash + 1), 65535);
    if (!hi || *hi < *lo) return std::nullopt;
    r.hi = static_cast<uint16_t>(*hi);
  }
  return r;
}

}  // namespace ctcollect
