#include "collector/flows/flow_class.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <cstring>
#include <set>
#include <stdexcept>

namespace ctcollect {

FlowKey FlowKeyOf(const CtMessage& m) {
  FlowKey k;
  k.af = m.family == Family::kIpv4 ? AF_INET : AF_INET6;
  k.l4proto = m.l4proto;
  k.src = m.src;
  k.dst = m.dst;
  k.sport = m.sport;
  k.dport = m.dport;
  k.mark = m.mark;
  k.zone = m.zone;
  return k;
}

FlowKey FlowKeyOf(const nf_conntrack* ct, uint8_t* addr_storage) {
  FlowKey k;
  k.af = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
  k.l4proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
  size_t len = k.af == AF_INET ? 4 : 16;
  const void* s = nfct_get_attr(
      ct, k.af == AF_INET ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC);
  const void* d = nfct_get_attr(
      ct, k.af == AF_INET ? ATTR_ORIG_IPV4_DST : ATTR_ORIG_IPV6_DST);
  std::memset(addr_storage, 0, 32);
  if (s != nullptr) std::memcpy(addr_storage, s, len);
  if (d != nullptr) std::memcpy(addr_storage + 16, d, len);
  k.src = addr_storage;
  k.dst = addr_storage + 16;
  if (nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) > 0) {
    k.sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
  }
  if (nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST) > 0) {
    k.dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  }
  if (nfct_attr_is_set(ct, ATTR_MARK) > 0) {
    k.mark = nfct_get_attr_u32(ct, ATTR_MARK);
  }
  if (nfct_attr_is_set(ct, ATTR_ZONE) > 0) {
    k.zone = nfct_get_attr_u16(ct, ATTR_ZONE);
  }
  return k;
}

bool FlowClass::Matches(const FlowKey& k) const {
  if (af && k.af != *af) return false;
  if (protocol) {
    if (protocol->generic) {
      if (ProtoFromNumber(k.l4proto) != Proto::kGeneric) return false;
    } else if (k.l4proto != *protocol->l4proto) {
      return false;
    }
  }
  if (zone && k.zone != *zone) return false;
  if (mark && !mark->Matches(k.mark)) return false;
  if (sport && !sport->Contains(k.sport)) return false;
  if (dport && !dport->Contains(k.dport)) return false;
  if (src && !src->Contains(k.af, k.src)) return false;
  if (dst && !dst->Contains(k.af, k.dst)) return false;
  return true;
}

namespace {

bool ValidClassName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<FlowClass> ParseFlowClass(
    const std::map<std::string, std::string>& fields, std::string* error) {
  FlowClass c;
  auto bad = [&](const std::string& k, const std::string& why) {
    *error = k + ": " + why;
    return std::nullopt;
  };
  auto name = fields.find("name");
  if (name == fields.end()) return bad("name", "every class needs a name");
  c.name = name->second;
  for (const auto& [k, v] : fields) {
    if (k == "name") {
      if (!ValidClassName(v)) {
        return bad(k, "1-64 characters of A-Z a-z 0-9 _ - .");
      }
    } else if (k == "family") {
      if (v == "ipv4") {
        c.af = AF_INET;
      } else if (v == "ipv6") {
        c.af = AF_INET6;
      } else {
        return bad(k, "ipv4 or ipv6");
      }
    } else if (k == "protocol") {
      c.protocol = ParseProtocol(v);
      if (!c.protocol)
        return bad(k, "a protocol name (tcp, udp, ...) or number");
    } else if (k == "src" || k == "dst") {
      auto cidr = ParseCidr(v);
      if (!cidr) return bad(k, "an address or CIDR such as 198.18.0.0/15");
      (k == "src" ? c.src : c.dst) = *cidr;
    } else if (k == "sport" || k == "dport") {
      auto r = ParsePortRange(v);
      if (!r) return bad(k, "a port or a range LOW-HIGH, 0-65535");
      (k == "sport" ? c.sport : c.dport) = *r;
    } else if (k == "mark") {
      c.mark = ParseMark(v);
      if (!c.mark) return bad(k, "VALUE or VALUE/MASK, decimal or 0x hex");
    } else if (k == "ct_zone") {
      auto n = ParseNumber(v, 65535);
      if (!n) return bad(k, "0-65535");
      c.zone = static_cast<uint16_t>(*n);
    } else {
      return bad(k.substr(0, 64),
                 "unknown key (name, family, protocol, src, dst, sport, "
                 "dport, mark, ct_zone)");
    }
  }
  if (c.af && c.src && c.src->af != *c.af) {
    return bad("src", "address family differs from family");
  }
  if (c.af && c.dst && c.dst->af != *c.af) {
    return bad("dst", "address family differs from family");
  }
  if (c.src && c.dst && c.src->af != c.dst->af) {
    return bad("dst", "src and dst are of different address families");
  }
  return c;
}

FlowClassifier::FlowClassifier(std::vector<FlowClass> classes)
    : classes_(std::move(classes)) {
  if (classes_.size() > static_cast<size_t>(kMaxFlowClasses)) {
    throw std::invalid_argument("more than " + std::to_string(kMaxFlowClasses) +
                                " classes");
  }
  std::set<std::string> names;
  for (const auto& c : classes_) {
    if (!names.insert(c.name).second) {
      throw std::invalid_argument("class \"" + c.name + "\" defined twice");
    }
  }
}

uint8_t FlowClassifier::Find(const std::string& name) const {
  for (size_t i = 0; i < classes_.size(); ++i) {
    if (classes_[i].name == name) return static_cast<uint8_t>(i);
  }
  return kNoClass;
}

}  // namespace ctcollect
