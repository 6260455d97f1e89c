#include "collector/conntrack/timeout_policy.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_cttimeout/libnetfilter_cttimeout.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cttimeout.h>
#include <netinet/in.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "collector/netlink/netlink_request.h"
#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {

// A NUL-terminated string attribute, at most `max` bytes.
bool AttrString(const nlattr* a, size_t max, std::string* out) {
  size_t n = AttrPayloadLen(a);
  const char* p = static_cast<const char*>(AttrPayload(a));
  size_t len = strnlen(p, n);
  if (len == 0 || len > max) return false;
  out->assign(p, len);
  return true;
}

// CTA_TIMEOUT_DATA / NFTA_CT_TIMEOUT_DATA: nested big-endian u32 seconds,
// attribute type = libnetfilter_cttimeout attribute + 1.
bool ParseTimeoutData(const nlattr* data, TimeoutPolicy* p) {
  return ForEachNested(data, [&](const nlattr* a) {
    int attr = AttrType(a) - 1;
    if (attr < 0 || attr >= p->count) return true;  // newer kernel: skip
    if (AttrPayloadLen(a) != 4) return false;
    p->values[attr] = ntohl(AttrU32(a));
    p->set |= 1u << attr;
    return true;
  });
}

const nfgenmsg* NfGen(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) return nullptr;
  return reinterpret_cast<const nfgenmsg*>(reinterpret_cast<const char*>(nlh) +
                                           NLMSG_HDRLEN);
}

// The protocols the kernel keeps default timeouts for.
constexpr uint8_t kDefaultProtos[] = {
    IPPROTO_TCP,  IPPROTO_UDP,  IPPROTO_UDPLITE, IPPROTO_ICMP, IPPROTO_ICMPV6,
    IPPROTO_SCTP, IPPROTO_DCCP, IPPROTO_GRE,     IPPROTO_RAW /* generic */};

// The sysctls holding the defaults, per attribute ("" for none), used when
// IPCTNL_MSG_TIMEOUT_DEFAULT_GET is not there (no nfnetlink_cttimeout).
std::vector<std::string> SysctlNames(uint8_t l4proto) {
  auto prefixed = [](const char* p, std::vector<std::string> v) {
    for (auto& s : v) {
      if (!s.empty()) s = std::string(p) + s;
    }
    return v;
  };
  switch (l4proto) {
    case IPPROTO_TCP:
      return prefixed("nf_conntrack_tcp_timeout_",
                      {"syn_sent", "syn_recv", "established", "fin_wait",
                       "close_wait", "last_ack", "time_wait", "close", "",
                       "max_retrans", "unacknowledged"});
    case IPPROTO_UDP:
      return {"nf_conntrack_udp_timeout", "nf_conntrack_udp_timeout_stream"};
    case IPPROTO_UDPLITE:
      return {"nf_conntrack_udp_timeout", "nf_conntrack_udp_timeout_stream"};
    case IPPROTO_ICMP:
      return {"nf_conntrack_icmp_timeout"};
    case IPPROTO_ICMPV6:
      return {"nf_conntrack_icmpv6_timeout"};
    case IPPROTO_SCTP:
      return prefixed("nf_conntrack_sctp_timeout_",
                      {"closed", "cookie_wait", "cookie_echoed", "established",
                       "shutdown_sent", "shutdown_recd", "shutdown_ack_sent"});
    case IPPROTO_DCCP:
      return prefixed("nf_conntrack_dccp_timeout_",
                      {"request", "respond", "partopen", "open", "closereq",
                       "closing", "timewait"});
    case IPPROTO_GRE:
      return {"nf_conntrack_gre_timeout", "nf_conntrack_gre_timeout_stream"};
    default:
      return {"nf_conntrack_generic_timeout"};
  }
}

std::optional<TimeoutPolicy> DefaultFromSysctl(uint8_t l4proto) {
  TimeoutPolicy p;
  p.name = "default";
  p.l3proto = l4proto == IPPROTO_ICMPV6 ? AF_INET6 : AF_INET;
  p.l4proto = l4proto;
  p.count = TimeoutAttrCount(l4proto);
  std::vector<std::string> names = SysctlNames(l4proto);
  for (int i = 0; i < p.count && i < static_cast<int>(names.size()); ++i) {
    if (names[i].empty()) continue;
    std::ifstream in("/proc/sys/net/netfilter/" + names[i]);
    uint32_t v;
    if (in >> v) {
      p.values[i] = v;
      p.set |= 1u << i;
    }
  }
  if (p.set == 0) return std::nullopt;
  return p;
}

}  // namespace

std::string_view PolicySourceName(PolicySource s) {
  switch (s) {
    case PolicySource::kDefault:
      return "default";
    case PolicySource::kCttimeout:
      return "cttimeout";
    case PolicySource::kNft:
      return "nft";
  }
  return "unknown";
}

int TimeoutAttrCount(uint8_t l4proto) {
  switch (l4proto) {
    case IPPROTO_TCP:
      return NFCT_TIMEOUT_ATTR_TCP_MAX;
    case IPPROTO_UDP:
      return NFCT_TIMEOUT_ATTR_UDP_MAX;
    case IPPROTO_UDPLITE:
      return NFCT_TIMEOUT_ATTR_UDPLITE_MAX;
    case IPPROTO_DCCP:
      return NFCT_TIMEOUT_ATTR_DCCP_MAX;
    case IPPROTO_SCTP:
      return NFCT_TIMEOUT_ATTR_SCTP_MAX;
    case IPPROTO_ICMP:
      return NFCT_TIMEOUT_ATTR_ICMP_MAX;
    case IPPROTO_ICMPV6:
      return NFCT_TIMEOUT_ATTR_ICMPV6_MAX;
    case IPPROTO_GRE:
      return NFCT_TIMEOUT_ATTR_GRE_MAX;
    default:
      return NFCT_TIMEOUT_ATTR_GENERIC_MAX;
  }
}

std::string TimeoutAttrName(uint8_t l4proto, int attr) {
  if (attr < 0 || attr >= TimeoutAttrCount(l4proto)) return "";
  const char* n =
      nfct_timeout_policy_attr_to_name(l4proto, static_cast<uint32_t>(attr));
  return n != nullptr ? n : "";
}

std::optional<TimeoutPolicy> ParseCttimeoutMessage(const nlmsghdr* nlh,
                                                   std::string* error) {
  const nfgenmsg* nfg = NfGen(nlh);
  if (nfg == nullptr ||
      NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK_TIMEOUT) {
    *error = "not a cttimeout message";
    return std::nullopt;
  }
  TimeoutPolicy p;
  // The kernel answers DEFAULT_GET with a DEFAULT_SET-typed message.
  uint8_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
  p.source = type == IPCTNL_MSG_TIMEOUT_DEFAULT_GET ||
                     type == IPCTNL_MSG_TIMEOUT_DEFAULT_SET
                 ? PolicySource::kDefault
                 : PolicySource::kCttimeout;
  const nlattr* data = nullptr;
  bool have_l3 = false, have_l4 = false;
  bool ok = ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    switch (AttrType(a)) {
      case CTA_TIMEOUT_NAME:
        return AttrString(a, 32, &p.name);
      case CTA_TIMEOUT_L3PROTO:
        if (AttrPayloadLen(a) != 2) return false;
        p.l3proto = ntohs(AttrU16(a));
        have_l3 = true;
        return true;
      case CTA_TIMEOUT_L4PROTO:
        if (AttrPayloadLen(a) < 1) return false;
        p.l4proto = AttrU8(a);
        have_l4 = true;
        return true;
      case CTA_TIMEOUT_DATA:
        data = a;
        return true;
      default:
        return true;
    }
  });
  if (!ok || !have_l3 || !have_l4 || data == nullptr) {
    *error = "malformed cttimeout message";
    return std::nullopt;
  }
  if (p.source == PolicySource::kDefault) {
    p.name = "default";
  } else if (p.name.empty()) {
    *error = "cttimeout object without a name";
    return std::nullopt;
  }
  p.count = TimeoutAttrCount(p.l4proto);
  if (!ParseTimeoutData(data, &p)) {
    *error = "malformed timeout values";
    return std::nullopt;
  }
  return p;
}

std::optional<TimeoutPolicy> ParseNftTimeoutObject(const nlmsghdr* nlh,
                                                   std::string* error) {
  const nfgenmsg* nfg = NfGen(nlh);
  if (nfg == nullptr ||
      NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
      NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWOBJ) {
    *error = "not an nftables object message";
    return std::nullopt;
  }
  TimeoutPolicy p;
  p.source = PolicySource::kNft;
  std::string table, name;
  const nlattr* data = nullptr;
  uint32_t type = 0;
  bool ok = ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    switch (AttrType(a)) {
      case NFTA_OBJ_TABLE:
        return AttrString(a, 256, &table);
      case NFTA_OBJ_NAME:
        return AttrString(a, 256, &name);
      case NFTA_OBJ_TYPE:
        if (AttrPayloadLen(a) != 4) return false;
        type = ntohl(AttrU32(a));
        return true;
      case NFTA_OBJ_DATA:
        data = a;
        return true;
      default:
        return true;
    }
  });
  if (!ok || table.empty() || name.empty() || data == nullptr) {
    *error = "malformed nftables object";
    return std::nullopt;
  }
  if (type != NFT_OBJECT_CT_TIMEOUT) {
    *error = "not a ct timeout object";
    return std::nullopt;
  }
  const nlattr* values = nullptr;
  bool have_l4 = false;
  p.l3proto = nfg->nfgen_family;
  ok = ForEachNested(data, [&](const nlattr* a) {
    switch (AttrType(a)) {
      case NFTA_CT_TIMEOUT_L3PROTO:
        if (AttrPayloadLen(a) != 2) return false;
        p.l3proto = ntohs(AttrU16(a));
        return true;
      case NFTA_CT_TIMEOUT_L4PROTO:
        if (AttrPayloadLen(a) < 1) return false;
        p.l4proto = AttrU8(a);
        have_l4 = true;
        return true;
      case NFTA_CT_TIMEOUT_DATA:
        values = a;
        return true;
      default:
        return true;
    }
  });
  if (!ok || !have_l4 || values == nullptr) {
    *error = "malformed ct timeout object";
    return std::nullopt;
  }
  const char* fam = nfg->nfgen_family == NFPROTO_INET     ? "inet"
                    : nfg->nfgen_family == NFPROTO_IPV4   ? "ip"
                    : nfg->nfgen_family == NFPROTO_IPV6   ? "ip6"
                    : nfg->nfgen_family == NFPROTO_BRIDGE ? "bridge"
                    : nfg->nfgen_family == NFPROTO_NETDEV ? "netdev"
                    : nfg->nfgen_family == NFPROTO_ARP    ? "arp"
                                                          : "unknown";
  p.name = std::string(fam) + "/" + table + "/" + name;
  p.count = TimeoutAttrCount(p.l4proto);
  if (!ParseTimeoutData(values, &p)) {
    *error = "malformed timeout values";
    return std::nullopt;
  }
  return p;
}

size_t BuildCttimeoutDump(void* buf, uint32_t seq) {
  return PutNfnlRequest(
             buf, (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_GET,
             NLM_F_DUMP, seq)
      ->nlmsg_len;
}

size_t BuildDefaultTimeoutGet(void* buf, uint32_t seq, uint16_t l3proto,
                              uint8_t l4proto) {
  nlmsghdr* nlh = PutNfnlRequest(
      buf,
      (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_DEFAULT_GET,
      NLM_F_ACK, seq);
  mnl_attr_put_u16(nlh, CTA_TIMEOUT_L3PROTO, htons(l3proto));
  mnl_attr_put_u8(nlh, CTA_TIMEOUT_L4PROTO, l4proto);
  return nlh->nlmsg_len;
}

size_t BuildNftTimeoutDump(void* buf, uint32_t seq) {
  nlmsghdr* nlh = PutNfnlRequest(
      buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ, NLM_F_DUMP, seq);
  mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_CT_TIMEOUT));
  return nlh->nlmsg_len;
}

PolicyQueryResult QueryTimeoutPolicies(NetlinkSocket* sock) {
  PolicyQueryResult out;
  alignas(nlmsghdr) uint8_t req[256];
  auto as_msg = [&] { return reinterpret_cast<const nlmsghdr*>(req); };
  std::string why;

  // The defaults, one request per protocol.
  bool netlink_defaults = true;
  std::string defaults_error;
  for (uint8_t l4 : kDefaultProtos) {
    uint16_t l3 = l4 == IPPROTO_ICMPV6 ? AF_INET6 : AF_INET;
    std::optional<TimeoutPolicy> got;
    BuildDefaultTimeoutGet(req, sock->NextSeq(), l3, l4);
    std::error_code ec = NetlinkRequest(sock, as_msg(), [&](const nlmsghdr* m) {
      got = ParseCttimeoutMessage(m, &why);
      return got.has_value();
    });
    if (!ec && got) {
      out.policies.push_back(*got);
    } else if (ec == std::errc::operation_not_supported ||
               ec == std::errc::no_such_file_or_directory) {
      // The kernel has no tracker for this protocol (e.g. DCCP): skip.
    } else {
      netlink_defaults = false;
      defaults_error = ec ? ec.message() : why;
      break;
    }
  }
  if (!netlink_defaults) {
    out.policies.clear();
    out.errors.push_back(
        "default timeouts: nfnetlink_cttimeout did not answer (" +
        defaults_error + "), read from the sysctls");
    for (uint8_t l4 : kDefaultProtos) {
      if (auto p = DefaultFromSysctl(l4)) out.policies.push_back(*p);
    }
  }

  BuildCttimeoutDump(req, sock->NextSeq());
  std::error_code ec = NetlinkRequest(sock, as_msg(), [&](const nlmsghdr* m) {
    auto p = ParseCttimeoutMessage(m, &why);
    if (p) out.policies.push_back(*p);
    return p.has_value();
  });
  if (ec) out.errors.push_back("cttimeout objects: " + ec.message());

  BuildNftTimeoutDump(req, sock->NextSeq());
  ec = NetlinkRequest(sock, as_msg(), [&](const nlmsghdr* m) {
    auto p = ParseNftTimeoutObject(m, &why);
    if (p) out.policies.push_back(*p);
    // Objects of other types in the same dump are skipped, not errors.
    return p.has_value() || why == "not a ct timeout object";
  });
  // No nftables at all (ENOENT for the subsystem) is not an error.
  if (ec && ec != std::errc::no_such_file_or_directory &&
      ec != std::errc::protocol_not_supported) {
    out.errors.push_back("nft ct timeout objects: " + ec.message());
  }
  return out;
}

std::string NfctTimeoutText(const TimeoutPolicy& p) {
  std::unique_ptr<nfct_timeout, decltype(&nfct_timeout_free)> t(
      nfct_timeout_alloc(), nfct_timeout_free);
  if (!t) return "";
  nfct_timeout_attr_set(t.get(), NFCT_TIMEOUT_ATTR_NAME, p.name.c_str());
  nfct_timeout_attr_set_u16(t.get(), NFCT_TIMEOUT_ATTR_L3PROTO, p.l3proto);
  nfct_timeout_attr_set_u8(t.get(), NFCT_TIMEOUT_ATTR_L4PROTO, p.l4proto);
  for (int i = 0; i < p.count; ++i) {
    if (p.Has(i)) {
      nfct_timeout_policy_attr_set_u32(t.get(), static_cast<uint32_t>(i),
                                       p.values[i]);
    }
  }
  std::string buf(4096, '\0');
  // libnetfilter_cttimeout 1.0.1 returns the length of its last piece,
  // not of the whole text: measure it.
  if (nfct_timeout_snprintf(buf.data(), buf.size(), t.get(),
                            NFCT_TIMEOUT_O_DEFAULT, 0) < 0) {
    return "";
  }
  buf.resize(strnlen(buf.data(), buf.size()));
  return buf;
}

}  // namespace ctcollect
