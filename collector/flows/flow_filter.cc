#include "collector/flows/flow_filter.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <cctype>
#include <charconv>
#include <cstring>

#include "collector/conntrack/dimensions.h"

namespace ctcollect {
namespace {

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

std::optional<FlowFilter> ParseFlowFilter(
    const std::map<std::string, std::string>& params, std::string* error,
    std::shared_ptr<const FlowClassifier> classes) {
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
      auto p = ParseProtocol(v);
      if (!p) return bad(k, "a protocol name (tcp, udp, ...) or number");
      f.l4proto = p->l4proto;
      f.generic = p->generic;
    } else if (k == "state") {
      if (v.empty() || v.size() > 32)
        return bad(k, "a state name such as ESTABLISHED");
      f.state = Upper(v);
    } else if (k == "ct_zone") {
      auto n = ParseNumber(v, 65535);
      if (!n) return bad(k, "0-65535");
      f.zone = static_cast<uint16_t>(*n);
    } else if (k == "src" || k == "dst") {
      auto c = ParseCidr(v);
      if (!c) return bad(k, "an address or CIDR such as 198.18.0.0/15");
      (k == "src" ? f.src : f.dst) = *c;
    } else if (k == "sport" || k == "dport") {
      auto n = ParseNumber(v, 65535);
      if (!n) return bad(k, "0-65535");
      (k == "sport" ? f.sport : f.dport) = static_cast<uint16_t>(*n);
    } else if (k == "mark") {
      auto m = ParseMark(v);
      if (!m) return bad(k, "VALUE or VALUE/MASK");
      f.mark = m->mark;
      f.mark_mask = m->mask;
    } else if (k == "limit") {
      auto n = ParseNumber(v, 1ull << 40);
      if (!n) return bad(k, "a non-negative number");
      f.limit = static_cast<int64_t>(*n);
    } else if (k == "class") {
      if (classes == nullptr || classes->empty()) {
        return bad(k, "no flow classes are configured");
      }
      f.class_index = classes->Find(v);
      if (f.class_index == kNoClass) {
        std::string names;
        for (size_t i = 0; i < classes->size() && names.size() < 200; ++i) {
          names += (i ? ", " : "") + classes->at(i).name;
        }
        return bad(k, "no class named \"" + v.substr(0, 64) +
                          "\" (configured: " + names + ")");
      }
      f.classifier = classes;
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
  if (classifier) {
    uint8_t addrs[32];
    if (classifier->Classify(FlowKeyOf(ct, addrs)) != class_index) return false;
  }
  return true;
}

}  // namespace ctcollect
