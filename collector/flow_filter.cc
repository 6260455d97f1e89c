#include "collector/flow_filter.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <cctype>
#include <charconv>
#include <cstring>

#include "collector/ct_labels.h"

namespace ctcollect {
namespace {

template <typename T>
std::optional<T> Number(const std::string& s, uint64_t max) {
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
  return static_cast<T>(v);
}

std::string Upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

const void* OrigAddr(const nf_conntrack* ct, int af, bool src) {
  if (af == AF_INET) {
    return nfct_get_attr(ct, src ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV4_DST);
  }
  return nfct_get_attr(ct, src ? ATTR_ORIG_IPV6_SRC : ATTR_ORIG_IPV6_DST);
}

}  // namespace

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
  std::optional<int> prefix;
  if (slash != std::string::npos) {
    ip = s.substr(0, slash);
    prefix = Number<int>(s.substr(slash + 1), 128);
    if (!prefix) return std::nullopt;
  }
  if (inet_pton(AF_INET, ip.c_str(), c.addr) == 1) {
    c.af = AF_INET;
    c.prefix = prefix.value_or(32);
    if (c.prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, ip.c_str(), c.addr) == 1) {
    c.af = AF_INET6;
    c.prefix = prefix.value_or(128);
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

std::optional<FlowFilter> ParseFlowFilter(
    const std::map<std::string, std::string>& params, std::string* error) {
  FlowFilter f;
  auto bad = [&](const std::string& k, const std::string& why) {
    *error = "bad " + k + ": " + why;
    return std::nullopt;
  };
  for (const auto& [k, v] : params) {
    if (k == "format") continue;
    if (k == "netns") {
      f.netns = v;
    } else if (k == "family") {
      if (v == "ipv4") {
        f.family = AF_INET;
      } else if (v == "ipv6") {
        f.family = AF_INET6;
      } else {
        return bad(k, "ipv4 or ipv6");
      }
    } else if (k == "protocol") {
      bool found = false;
      for (int p = 0; p < kNumProtos && !found; ++p) {
        if (v == ProtoName(static_cast<Proto>(p))) {
          found = true;
          if (static_cast<Proto>(p) == Proto::kGeneric) {
            f.generic = true;
          } else {
            for (int n = 0; n < 256; ++n) {
              if (ProtoFromNumber(static_cast<uint8_t>(n)) ==
                  static_cast<Proto>(p)) {
                f.l4proto = static_cast<uint8_t>(n);
                break;
              }
            }
          }
        }
      }
      if (!found) {
        auto n = Number<uint8_t>(v, 255);
        if (!n) return bad(k, "a protocol name (tcp, udp, ...) or number");
        f.l4proto = *n;
      }
    } else if (k == "state") {
      if (v.empty() || v.size() > 32)
        return bad(k, "a state name such as ESTABLISHED");
      f.state = Upper(v);
    } else if (k == "ct_zone") {
      auto n = Number<uint16_t>(v, 65535);
      if (!n) return bad(k, "0-65535");
      f.zone = *n;
    } else if (k == "src" || k == "dst") {
      auto c = ParseCidr(v);
      if (!c) return bad(k, "an address or CIDR such as 198.18.0.0/15");
      (k == "src" ? f.src : f.dst) = *c;
    } else if (k == "sport" || k == "dport") {
      auto n = Number<uint16_t>(v, 65535);
      if (!n) return bad(k, "0-65535");
      (k == "sport" ? f.sport : f.dport) = *n;
    } else if (k == "mark") {
      size_t slash = v.find('/');
      auto m = Number<uint32_t>(v.substr(0, slash), 0xffffffffull);
      if (!m) return bad(k, "VALUE or VALUE/MASK");
      if (slash != std::string::npos) {
        auto mask = Number<uint32_t>(v.substr(slash + 1), 0xffffffffull);
        if (!mask) return bad(k, "VALUE or VALUE/MASK");
        f.mark_mask = *mask;
      }
      f.mark = *m & f.mark_mask;
    } else if (k == "limit") {
      auto n = Number<int64_t>(v, 1ull << 40);
      if (!n) return bad(k, "a non-negative number");
      f.limit = *n;
    } else if (k == "class") {
      return bad(k, "no flow classes are configured");
    } else {
      *error = "unknown parameter \"" + k.substr(0, 64) + "\"";
      return std::nullopt;
    }
  }
  return f;
}

bool FlowFilter::Matches(const nf_conntrack* ct) const {
  int af = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
  if (family && af != *family) return false;
  uint8_t l4 = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
  Proto proto = ProtoFromNumber(l4);
  if (l4proto && l4 != *l4proto) return false;
  if (generic && proto != Proto::kGeneric) return false;
  if (state) {
    int attr = proto == Proto::kTcp    ? ATTR_TCP_STATE
               : proto == Proto::kSctp ? ATTR_SCTP_STATE
               : proto == Proto::kDccp ? ATTR_DCCP_STATE
                                       : -1;
    if (attr < 0 ||
        nfct_attr_is_set(ct, static_cast<nf_conntrack_attr>(attr)) <= 0) {
      return false;
    }
    if (StateName(proto, nfct_get_attr_u8(ct, static_cast<nf_conntrack_attr>(
                                                  attr))) != *state) {
      return false;
    }
  }
  if (zone) {
    uint16_t z = nfct_attr_is_set(ct, ATTR_ZONE) > 0
                     ? nfct_get_attr_u16(ct, ATTR_ZONE)
                     : 0;
    if (z != *zone) return false;
  }
  if (src && !src->Contains(af, OrigAddr(ct, af, true))) return false;
  if (dst && !dst->Contains(af, OrigAddr(ct, af, false))) return false;
  if (sport && (nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) <= 0 ||
                ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC)) != *sport)) {
    return false;
  }
  if (dport && (nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST) <= 0 ||
                ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST)) != *dport)) {
    return false;
  }
  if (mark && (nfct_get_attr_u32(ct, ATTR_MARK) & mark_mask) != *mark) {
    return false;
  }
  return true;
}

}  // namespace ctcollect
