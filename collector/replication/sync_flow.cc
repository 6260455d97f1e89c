#include "collector/replication/sync_flow.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>

#include <string_view>

namespace ctcollect {
namespace {

bool IsIcmp(uint8_t l4) { return l4 == IPPROTO_ICMP || l4 == IPPROTO_ICMPV6; }

// NAT_SEQ_ADJ's six words, in wire order.
constexpr nf_conntrack_attr kNatSeq[6] = {
    ATTR_ORIG_NAT_SEQ_CORRECTION_POS, ATTR_ORIG_NAT_SEQ_OFFSET_BEFORE,
    ATTR_ORIG_NAT_SEQ_OFFSET_AFTER,   ATTR_REPL_NAT_SEQ_CORRECTION_POS,
    ATTR_REPL_NAT_SEQ_OFFSET_BEFORE,  ATTR_REPL_NAT_SEQ_OFFSET_AFTER};

bool IsSet(const nf_conntrack* ct, nf_conntrack_attr a) {
  return nfct_attr_is_set(ct, a) > 0;
}

void CopyAddr(const nf_conntrack* ct, nf_conntrack_attr a, uint8_t* out,
              size_t n) {
  const void* p = nfct_get_attr(ct, a);
  if (p != nullptr) std::memcpy(out, p, n);
}

}  // namespace

size_t SyncFlowKeyHash::operator()(const SyncFlowKey& k) const {
  // Five 8-byte words, each multiplied into the state, then a 64-bit
  // finalizer (splitmix64's): tuples that differ in one byte of an address
  // or port land in unrelated buckets.
  uint64_t h = 0x9e3779b97f4a7c15ull;
  const auto* p = reinterpret_cast<const uint8_t*>(&k);
  for (size_t i = 0; i < sizeof(k); i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<size_t>(h);
}

SyncFlowKey SyncFlow::Key() const {
  SyncFlowKey k;
  k.family = family;
  k.l4proto = l4proto;
  k.zone = Has(kNtaZone) ? zone : 0;
  if (IsIcmp(l4proto)) {
    k.sport = icmp_id;
    k.dport = static_cast<uint16_t>(icmp_type << 8 | icmp_code);
  } else {
    k.sport = sport;
    k.dport = dport;
  }
  std::memcpy(k.src, src, 16);
  std::memcpy(k.dst, dst, 16);
  return k;
}

SyncFlow SyncFlowFromConntrack(const nf_conntrack* ct, bool with_timeout,
                               bool window_tracking) {
  SyncFlow f;
  const uint8_t l3 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
  if (l3 == AF_INET) {
    f.Set(kNtaIpv4);
    CopyAddr(ct, ATTR_ORIG_IPV4_SRC, f.src, 4);
    CopyAddr(ct, ATTR_ORIG_IPV4_DST, f.dst, 4);
  } else if (l3 == AF_INET6) {
    f.Set(kNtaIpv6);
    CopyAddr(ct, ATTR_ORIG_IPV6_SRC, f.src, 16);
    CopyAddr(ct, ATTR_ORIG_IPV6_DST, f.dst, 16);
  }
  f.family = l3;
  if (IsSet(ct, ATTR_STATUS)) {
    f.Set(kNtaStatus);
    f.status = nfct_get_attr_u32(ct, ATTR_STATUS);
  }
  f.Set(kNtaL4proto);
  f.l4proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
  auto ports = [&] {
    f.Set(kNtaPort);
    f.sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
    f.dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  };
  switch (f.l4proto) {
    case IPPROTO_TCP:
      if (!IsSet(ct, ATTR_TCP_STATE)) break;
      ports();
      f.Set(kNtaTcpState);
      f.state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
      if (window_tracking) {
        f.Set(kNtaTcpWscaleOrig);
        f.Set(kNtaTcpWscaleRepl);
        f.wscale_orig = nfct_get_attr_u8(ct, ATTR_TCP_WSCALE_ORIG);
        f.wscale_repl = nfct_get_attr_u8(ct, ATTR_TCP_WSCALE_REPL);
      }
      break;
    case IPPROTO_SCTP:
      if (!IsSet(ct, ATTR_SCTP_STATE)) break;
      ports();
      f.Set(kNtaSctpState);
      f.Set(kNtaSctpVtagOrig);
      f.Set(kNtaSctpVtagRepl);
      f.state = nfct_get_attr_u8(ct, ATTR_SCTP_STATE);
      f.vtag_orig = nfct_get_attr_u32(ct, ATTR_SCTP_VTAG_ORIG);
      f.vtag_repl = nfct_get_attr_u32(ct, ATTR_SCTP_VTAG_REPL);
      break;
    case IPPROTO_DCCP:
      if (!IsSet(ct, ATTR_DCCP_STATE)) break;
      ports();
      f.Set(kNtaDccpState);
      f.Set(kNtaDccpRole);
      f.state = nfct_get_attr_u8(ct, ATTR_DCCP_STATE);
      f.dccp_role = nfct_get_attr_u8(ct, ATTR_DCCP_ROLE);
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      if (!IsSet(ct, ATTR_ICMP_TYPE)) break;
      f.Set(kNtaIcmpType);
      f.Set(kNtaIcmpCode);
      f.Set(kNtaIcmpId);
      f.icmp_type = nfct_get_attr_u8(ct, ATTR_ICMP_TYPE);
      f.icmp_code = nfct_get_attr_u8(ct, ATTR_ICMP_CODE);
      f.icmp_id = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
      break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      ports();
      break;
    default:
      break;
  }
  if (with_timeout && IsSet(ct, ATTR_TIMEOUT)) {
    f.Set(kNtaTimeout);
    f.timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
  }
  if (IsSet(ct, ATTR_MARK)) {
    f.Set(kNtaMark);
    f.mark = nfct_get_attr_u32(ct, ATTR_MARK);
  }
  const bool master4 = nfct_attr_grp_is_set(ct, ATTR_GRP_MASTER_IPV4) > 0;
  const bool master6 =
      !master4 && nfct_attr_grp_is_set(ct, ATTR_GRP_MASTER_IPV6) > 0;
  if (master4 || master6) {
    f.Set(master4 ? kNtaMasterIpv4 : kNtaMasterIpv6);
    const size_t n = master4 ? 4 : 16;
    CopyAddr(ct, master4 ? ATTR_MASTER_IPV4_SRC : ATTR_MASTER_IPV6_SRC,
             f.master_src, n);
    CopyAddr(ct, master4 ? ATTR_MASTER_IPV4_DST : ATTR_MASTER_IPV6_DST,
             f.master_dst, n);
    f.Set(kNtaMasterL4proto);
    f.master_l4proto = nfct_get_attr_u8(ct, ATTR_MASTER_L4PROTO);
    if (nfct_attr_grp_is_set(ct, ATTR_GRP_MASTER_PORT) > 0) {
      f.Set(kNtaMasterPort);
      f.master_sport = ntohs(nfct_get_attr_u16(ct, ATTR_MASTER_PORT_SRC));
      f.master_dport = ntohs(nfct_get_attr_u16(ct, ATTR_MASTER_PORT_DST));
    }
  }
  if (nfct_getobjopt(ct, NFCT_GOPT_IS_SNAT) > 0) {
    if (l3 == AF_INET) {
      f.Set(kNtaSnatIpv4);
      CopyAddr(ct, ATTR_REPL_IPV4_DST, f.snat, 4);
    } else if (l3 == AF_INET6) {
      f.Set(kNtaSnatIpv6);
      CopyAddr(ct, ATTR_REPL_IPV6_DST, f.snat, 16);
    }
  }
  if (nfct_getobjopt(ct, NFCT_GOPT_IS_DNAT) > 0) {
    if (l3 == AF_INET) {
      f.Set(kNtaDnatIpv4);
      CopyAddr(ct, ATTR_REPL_IPV4_SRC, f.dnat, 4);
    } else if (l3 == AF_INET6) {
      f.Set(kNtaDnatIpv6);
      CopyAddr(ct, ATTR_REPL_IPV6_SRC, f.dnat, 16);
    }
  }
  if (nfct_getobjopt(ct, NFCT_GOPT_IS_SPAT) > 0) {
    f.Set(kNtaSpatPort);
    f.spat = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
  }
  if (nfct_getobjopt(ct, NFCT_GOPT_IS_DPAT) > 0) {
    f.Set(kNtaDpatPort);
    f.dpat = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
  }
  bool all_seq = true;
  for (auto a : kNatSeq) all_seq = all_seq && IsSet(ct, a);
  if (all_seq) {
    f.Set(kNtaNatSeqAdj);
    for (int i = 0; i < 6; ++i)
      f.nat_seq[i] = nfct_get_attr_u32(ct, kNatSeq[i]);
  }
  if (IsSet(ct, ATTR_HELPER_NAME)) {
    const char* h =
        static_cast<const char*>(nfct_get_attr(ct, ATTR_HELPER_NAME));
    if (h != nullptr && *h != '\0') {
      f.Set(kNtaHelperName);
      std::string_view name(h);
      name = name.substr(0, sizeof(f.helper) - 1);
      std::memcpy(f.helper, name.data(), name.size());
    }
  }
  if (IsSet(ct, ATTR_CONNLABELS)) {
    const auto* b =
        static_cast<const nfct_bitmask*>(nfct_get_attr(ct, ATTR_CONNLABELS));
    if (b != nullptr) {
      const int max = nfct_bitmask_maxbit(b);
      for (int i = 0; i <= max && i < 32 * SyncFlow::kLabelWords; ++i) {
        if (nfct_bitmask_test_bit(b, i)) {
          f.labels[i / 32] |= uint32_t{1} << (i % 32);
          f.Set(kNtaLabels);
        }
      }
    }
  }
  if (IsSet(ct, ATTR_SYNPROXY_ISN) && IsSet(ct, ATTR_SYNPROXY_ITS) &&
      IsSet(ct, ATTR_SYNPROXY_TSOFF)) {
    f.Set(kNtaSynproxy);
    f.synproxy[0] = nfct_get_attr_u32(ct, ATTR_SYNPROXY_ITS);
    f.synproxy[1] = nfct_get_attr_u32(ct, ATTR_SYNPROXY_ISN);
    f.synproxy[2] = nfct_get_attr_u32(ct, ATTR_SYNPROXY_TSOFF);
  }
  if (IsSet(ct, ATTR_ZONE)) {
    f.Set(kNtaZone);
    f.zone = nfct_get_attr_u16(ct, ATTR_ZONE);
  }
  return f;
}

nf_conntrack* SyncFlowToConntrack(const SyncFlow& f) {
  nf_conntrack* ct = nfct_new();
  if (ct == nullptr) return nullptr;
  if (f.Has(kNtaIpv4)) {
    nfct_attr_grp_ipv4 g;
    std::memcpy(&g.src, f.src, 4);
    std::memcpy(&g.dst, f.dst, 4);
    nfct_set_attr_grp(ct, ATTR_GRP_ORIG_IPV4, &g);
  } else if (f.Has(kNtaIpv6)) {
    nfct_attr_grp_ipv6 g;
    std::memcpy(g.src, f.src, 16);
    std::memcpy(g.dst, f.dst, 16);
    nfct_set_attr_grp(ct, ATTR_GRP_ORIG_IPV6, &g);
  }
  if (f.Has(kNtaL4proto)) nfct_set_attr_u8(ct, ATTR_L4PROTO, f.l4proto);
  if (f.Has(kNtaPort)) {
    nfct_attr_grp_port g;
    g.sport = htons(f.sport);
    g.dport = htons(f.dport);
    nfct_set_attr_grp(ct, ATTR_GRP_ORIG_PORT, &g);
  }
  if (f.Has(kNtaTcpState)) nfct_set_attr_u8(ct, ATTR_TCP_STATE, f.state);
  if (f.Has(kNtaStatus)) nfct_set_attr_u32(ct, ATTR_STATUS, f.status);
  if (f.Has(kNtaTimeout)) nfct_set_attr_u32(ct, ATTR_TIMEOUT, f.timeout);
  if (f.Has(kNtaMark)) nfct_set_attr_u32(ct, ATTR_MARK, f.mark);
  if (f.Has(kNtaMasterIpv4)) {
    nfct_attr_grp_ipv4 g;
    std::memcpy(&g.src, f.master_src, 4);
    std::memcpy(&g.dst, f.master_dst, 4);
    nfct_set_attr_grp(ct, ATTR_GRP_MASTER_IPV4, &g);
  } else if (f.Has(kNtaMasterIpv6)) {
    nfct_attr_grp_ipv6 g;
    std::memcpy(g.src, f.master_src, 16);
    std::memcpy(g.dst, f.master_dst, 16);
    nfct_set_attr_grp(ct, ATTR_GRP_MASTER_IPV6, &g);
  }
  if (f.Has(kNtaMasterL4proto)) {
    nfct_set_attr_u8(ct, ATTR_MASTER_L4PROTO, f.master_l4proto);
  }
  if (f.Has(kNtaMasterPort)) {
    nfct_attr_grp_port g;
    g.sport = htons(f.master_sport);
    g.dport = htons(f.master_dport);
    nfct_set_attr_grp(ct, ATTR_GRP_MASTER_PORT, &g);
  }
  if (f.Has(kNtaSnatIpv4)) nfct_set_attr(ct, ATTR_SNAT_IPV4, f.snat);
  if (f.Has(kNtaDnatIpv4)) nfct_set_attr(ct, ATTR_DNAT_IPV4, f.dnat);
  if (f.Has(kNtaSnatIpv6)) nfct_set_attr(ct, ATTR_SNAT_IPV6, f.snat);
  if (f.Has(kNtaDnatIpv6)) nfct_set_attr(ct, ATTR_DNAT_IPV6, f.dnat);
  if (f.Has(kNtaSpatPort)) nfct_set_attr_u16(ct, ATTR_SNAT_PORT, htons(f.spat));
  if (f.Has(kNtaDpatPort)) nfct_set_attr_u16(ct, ATTR_DNAT_PORT, htons(f.dpat));
  if (f.Has(kNtaNatSeqAdj)) {
    for (int i = 0; i < 6; ++i) nfct_set_attr_u32(ct, kNatSeq[i], f.nat_seq[i]);
  }
  if (f.Has(kNtaSctpState)) nfct_set_attr_u8(ct, ATTR_SCTP_STATE, f.state);
  if (f.Has(kNtaSctpVtagOrig)) {
    nfct_set_attr_u32(ct, ATTR_SCTP_VTAG_ORIG, f.vtag_orig);
  }
  if (f.Has(kNtaSctpVtagRepl)) {
    nfct_set_attr_u32(ct, ATTR_SCTP_VTAG_REPL, f.vtag_repl);
  }
  if (f.Has(kNtaDccpState)) nfct_set_attr_u8(ct, ATTR_DCCP_STATE, f.state);
  if (f.Has(kNtaDccpRole)) nfct_set_attr_u8(ct, ATTR_DCCP_ROLE, f.dccp_role);
  if (f.Has(kNtaIcmpType)) nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, f.icmp_type);
  if (f.Has(kNtaIcmpCode)) nfct_set_attr_u8(ct, ATTR_ICMP_CODE, f.icmp_code);
  if (f.Has(kNtaIcmpId)) nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(f.icmp_id));
  if (f.Has(kNtaTcpWscaleOrig)) {
    nfct_set_attr_u8(ct, ATTR_TCP_WSCALE_ORIG, f.wscale_orig);
  }
  if (f.Has(kNtaTcpWscaleRepl)) {
    nfct_set_attr_u8(ct, ATTR_TCP_WSCALE_REPL, f.wscale_repl);
  }
  if (f.Has(kNtaHelperName)) nfct_set_attr(ct, ATTR_HELPER_NAME, f.helper);
  if (f.Has(kNtaLabels)) {
    int max = 0;
    for (int i = 0; i < 32 * SyncFlow::kLabelWords; ++i) {
      if (f.labels[i / 32] >> (i % 32) & 1) max = i;
    }
    nfct_bitmask* b = nfct_bitmask_new(static_cast<unsigned>(max));
    if (b != nullptr) {
      for (int i = 0; i <= max; ++i) {
        if (f.labels[i / 32] >> (i % 32) & 1) {
          nfct_bitmask_set_bit(b, static_cast<unsigned>(i));
        }
      }
      nfct_set_attr(ct, ATTR_CONNLABELS, b);  // the object owns it now
    }
  }
  if (f.Has(kNtaSynproxy)) {
    nfct_set_attr_u32(ct, ATTR_SYNPROXY_ITS, f.synproxy[0]);
    nfct_set_attr_u32(ct, ATTR_SYNPROXY_ISN, f.synproxy[1]);
    nfct_set_attr_u32(ct, ATTR_SYNPROXY_TSOFF, f.synproxy[2]);
  }
  if (f.Has(kNtaZone)) nfct_set_attr_u16(ct, ATTR_ZONE, f.zone);
  return ct;
}

}  // namespace ctcollect
