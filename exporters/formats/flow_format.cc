#include "exporters/formats/flow_format.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <algorithm>
#include <cstdio>

#include "collector/conntrack/dimensions.h"

namespace ctcollect {
namespace {

std::string Snprintf(const nf_conntrack* ct, unsigned type, unsigned flags) {
  char buf[4096];
  int n = nfct_snprintf(buf, sizeof(buf), ct, NFCT_T_UNKNOWN, type, flags);
  if (n < 0) return "";
  return std::string(buf,
                     static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
}

std::string Addr(const nf_conntrack* ct, int af, int attr4, int attr6) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (af == AF_INET) {
    const void* p = nfct_get_attr(ct, static_cast<nf_conntrack_attr>(attr4));
    if (p) inet_ntop(AF_INET, p, buf, sizeof(buf));
  } else {
    const void* p = nfct_get_attr(ct, static_cast<nf_conntrack_attr>(attr6));
    if (p) inet_ntop(AF_INET6, p, buf, sizeof(buf));
  }
  return buf;
}

bool Has(const nf_conntrack* ct, nf_conntrack_attr a) {
  return nfct_attr_is_set(ct, a) > 0;
}

void Field(std::string* o, const char* key, uint64_t v) {
  *o += ",\"";
  *o += key;
  *o += "\":";
  *o += std::to_string(v);
}

void Tuple(std::string* o, const char* key, const nf_conntrack* ct, int af,
           bool orig) {
  *o += ",\"";
  *o += key;
  *o += "\":{\"src\":";
  AppendJsonString(o,
                   Addr(ct, af, orig ? ATTR_ORIG_IPV4_SRC : ATTR_REPL_IPV4_SRC,
                        orig ? ATTR_ORIG_IPV6_SRC : ATTR_REPL_IPV6_SRC));
  *o += ",\"dst\":";
  AppendJsonString(o,
                   Addr(ct, af, orig ? ATTR_ORIG_IPV4_DST : ATTR_REPL_IPV4_DST,
                        orig ? ATTR_ORIG_IPV6_DST : ATTR_REPL_IPV6_DST));
  nf_conntrack_attr sport = orig ? ATTR_ORIG_PORT_SRC : ATTR_REPL_PORT_SRC;
  nf_conntrack_attr dport = orig ? ATTR_ORIG_PORT_DST : ATTR_REPL_PORT_DST;
  if (Has(ct, sport)) Field(o, "sport", ntohs(nfct_get_attr_u16(ct, sport)));
  if (Has(ct, dport)) Field(o, "dport", ntohs(nfct_get_attr_u16(ct, dport)));
  nf_conntrack_attr pk =
      orig ? ATTR_ORIG_COUNTER_PACKETS : ATTR_REPL_COUNTER_PACKETS;
  nf_conntrack_attr by =
      orig ? ATTR_ORIG_COUNTER_BYTES : ATTR_REPL_COUNTER_BYTES;
  if (Has(ct, pk)) Field(o, "packets", nfct_get_attr_u64(ct, pk));
  if (Has(ct, by)) Field(o, "bytes", nfct_get_attr_u64(ct, by));
  *o += "}";
}

}  // namespace

void AppendJsonString(std::string* out, const std::string& s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof(b), "\\u%04x", c);
          *out += b;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string ExpectLine(const nf_expect* exp, bool xml) {
  char buf[4096];
  int n = nfexp_snprintf(buf, sizeof(buf), exp, NFCT_T_UNKNOWN,
                         xml ? NFCT_O_XML : NFCT_O_DEFAULT, 0);
  if (n < 0) return "";
  return std::string(buf,
                     static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
}

std::string FlowXml(const nf_conntrack* ct) {
  return Snprintf(ct, NFCT_O_XML, 0);
}

std::string ConntrackdFlowLine(nf_conntrack* ct, bool xml,
                               int64_t active_seconds, int64_t expires_in) {
  // conntrackd's stats cache keeps neither counters, timeout nor use.
  for (auto a : {ATTR_ORIG_COUNTER_BYTES, ATTR_ORIG_COUNTER_PACKETS,
                 ATTR_REPL_COUNTER_BYTES, ATTR_REPL_COUNTER_PACKETS,
                 ATTR_TIMEOUT, ATTR_USE}) {
    nfct_attr_unset(ct, a);
  }
  std::string s = Snprintf(ct, xml ? NFCT_O_XML : NFCT_O_PLAIN, 0);
  if (!xml && expires_in >= 0) {
    s += " [expires in " + std::to_string(expires_in) + "s]";
  }
  if (!xml) s += " [active since " + std::to_string(active_seconds) + "s]";
  return s + "\n";
}

std::string FlowJson(const nf_conntrack* ct, const std::string& netns) {
  int af = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
  uint8_t l4 = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
  Proto proto = ProtoFromNumber(l4);
  std::string o = "{\"netns\":";
  AppendJsonString(&o, netns);
  o += ",\"family\":";
  AppendJsonString(&o, af == AF_INET6 ? "ipv6" : "ipv4");
  o += ",\"protocol\":";
  AppendJsonString(&o, std::string(ProtoName(proto)));
  Field(&o, "protonum", l4);
  int state_attr = proto == Proto::kTcp    ? ATTR_TCP_STATE
                   : proto == Proto::kSctp ? ATTR_SCTP_STATE
                   : proto == Proto::kDccp ? ATTR_DCCP_STATE
                                           : -1;
  if (state_attr >= 0 && Has(ct, static_cast<nf_conntrack_attr>(state_attr))) {
    o += ",\"state\":";
    AppendJsonString(
        &o, std::string(StateName(
                proto, nfct_get_attr_u8(
                           ct, static_cast<nf_conntrack_attr>(state_attr)))));
  }
  Tuple(&o, "original", ct, af, true);
  Tuple(&o, "reply", ct, af, false);
  if (Has(ct, ATTR_TIMEOUT))
    Field(&o, "timeout", nfct_get_attr_u32(ct, ATTR_TIMEOUT));
  if (Has(ct, ATTR_MARK)) Field(&o, "mark", nfct_get_attr_u32(ct, ATTR_MARK));
  Field(&o, "ct_zone",
        Has(ct, ATTR_ZONE) ? nfct_get_attr_u16(ct, ATTR_ZONE) : 0);
  if (Has(ct, ATTR_ID)) Field(&o, "id", nfct_get_attr_u32(ct, ATTR_ID));
  uint32_t status = nfct_get_attr_u32(ct, ATTR_STATUS);
  Field(&o, "status", status);
  o += ",\"assured\":";
  o += (status & IPS_ASSURED) ? "true" : "false";
  o += ",\"unreplied\":";
  o += (status & IPS_SEEN_REPLY) ? "false" : "true";
  if (Has(ct, ATTR_HELPER_NAME)) {
    o += ",\"helper\":";
    AppendJsonString(
        &o, nfct_get_attr(ct, ATTR_HELPER_NAME)
                ? static_cast<const char*>(nfct_get_attr(ct, ATTR_HELPER_NAME))
                : "");
  }
  if (Has(ct, ATTR_TIMESTAMP_START)) {
    Field(&o, "start_ns", nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START));
  }
  o += "}";
  return o;
}

std::string ExternalFlowJson(const nf_conntrack* ct, const std::string& peer) {
  std::string j = FlowJson(ct, "");
  const std::string prefix = "{\"netns\":\"\"";
  std::string out = "{\"peer\":";
  AppendJsonString(&out, peer);
  return out + j.substr(prefix.size());
}

}  // namespace ctcollect
