#include "collector/replication/sync_expect.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>

#include <cstring>

namespace ctcollect {
namespace {

// Expectation attribute ids of the wire format (§1 of the reference).
enum : int {
  kMaster = 0,    // MASTER_IPV4, +1 IPV6, +2 L4PROTO, +3 PORT
  kExpected = 4,  // EXPECT_*
  kMask = 8,      // MASK_*
  kTimeout = 12,
  kFlags = 13,
  kClass = 14,
  kNatIpv4 = 15,
  kNatPort = 16,
  kNatL4proto = 17,
  kNatDir = 18,
  kHelper = 19,
  kFn = 20,
};

bool HasPorts(uint8_t l4) {
  return l4 == IPPROTO_TCP || l4 == IPPROTO_UDP || l4 == IPPROTO_UDPLITE ||
         l4 == IPPROTO_SCTP || l4 == IPPROTO_DCCP;
}

// One tuple of the expectation; `l4proto` is the master's (conntrackd
// builds ports by the master's protocol for all three).
void FromTuple(const nf_conntrack* ct, uint8_t l4proto, int base, SyncExpect* e,
               SyncTuple* t) {
  if (ct == nullptr) return;
  if (nfct_attr_grp_is_set(ct, ATTR_GRP_ORIG_IPV4) > 0) {
    e->present |= 1u << base;
    t->family = AF_INET;
    std::memcpy(t->src, nfct_get_attr(ct, ATTR_ORIG_IPV4_SRC), 4);
    std::memcpy(t->dst, nfct_get_attr(ct, ATTR_ORIG_IPV4_DST), 4);
  } else if (nfct_attr_grp_is_set(ct, ATTR_GRP_ORIG_IPV6) > 0) {
    e->present |= 1u << (base + 1);
    t->family = AF_INET6;
    std::memcpy(t->src, nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC), 16);
    std::memcpy(t->dst, nfct_get_attr(ct, ATTR_ORIG_IPV6_DST), 16);
  }
  e->present |= 1u << (base + 2);
  t->l4proto = nfct_get_attr_u8(ct, ATTR_L4PROTO);
  if (HasPorts(l4proto)) {
    e->present |= 1u << (base + 3);
    t->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
    t->dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  }
}

nf_conntrack* ToTuple(const SyncExpect& e, const SyncTuple& t, int base) {
  nf_conntrack* ct = nfct_new();
  if (ct == nullptr) return nullptr;
  if (e.present >> base & 1) {
    nfct_attr_grp_ipv4 g;
    std::memcpy(&g.src, t.src, 4);
    std::memcpy(&g.dst, t.dst, 4);
    nfct_set_attr_grp(ct, ATTR_GRP_ORIG_IPV4, &g);
  } else if (e.present >> (base + 1) & 1) {
    nfct_attr_grp_ipv6 g;
    std::memcpy(g.src, t.src, 16);
    std::memcpy(g.dst, t.dst, 16);
    nfct_set_attr_grp(ct, ATTR_GRP_ORIG_IPV6, &g);
  }
  if (e.present >> (base + 2) & 1)
    nfct_set_attr_u8(ct, ATTR_L4PROTO, t.l4proto);
  if (e.present >> (base + 3) & 1) {
    nfct_attr_grp_port g;
    g.sport = htons(t.sport);
    g.dport = htons(t.dport);
    nfct_set_attr_grp(ct, ATTR_GRP_ORIG_PORT, &g);
  }
  return ct;
}

void CopyName(const char* s, char* out, size_t cap) {
  if (s == nullptr) return;
  std::strncpy(out, s, cap - 1);
  out[cap - 1] = '\0';
}

}  // namespace

SyncExpect SyncExpectFromExpect(const nf_expect* exp, bool with_timeout) {
  SyncExpect e;
  const auto* master =
      static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_MASTER));
  const uint8_t l4 = master ? nfct_get_attr_u8(master, ATTR_L4PROTO) : 0;
  FromTuple(master, l4, kMaster, &e, &e.master);
  FromTuple(
      static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_EXPECTED)),
      l4, kExpected, &e, &e.expected);
  FromTuple(
      static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_MASK)), l4,
      kMask, &e, &e.mask);
  if (with_timeout && nfexp_attr_is_set(exp, ATTR_EXP_TIMEOUT) > 0) {
    e.present |= 1u << kTimeout;
    e.timeout = nfexp_get_attr_u32(exp, ATTR_EXP_TIMEOUT);
  }
  e.present |= 1u << kFlags;
  e.flags = nfexp_get_attr_u32(exp, ATTR_EXP_FLAGS);
  if (nfexp_attr_is_set(exp, ATTR_EXP_CLASS) > 0) {
    e.present |= 1u << kClass;
    e.klass = nfexp_get_attr_u32(exp, ATTR_EXP_CLASS);
  }
  const auto* nat =
      static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_NAT_TUPLE));
  if (nat != nullptr) {
    if (nfct_attr_grp_is_set(nat, ATTR_GRP_ORIG_IPV4) > 0) {
      e.present |= 1u << kNatIpv4;
      e.nat.family = AF_INET;
      std::memcpy(e.nat.src, nfct_get_attr(nat, ATTR_ORIG_IPV4_SRC), 4);
      std::memcpy(e.nat.dst, nfct_get_attr(nat, ATTR_ORIG_IPV4_DST), 4);
    }
    e.present |= 1u << kNatL4proto;
    e.nat.l4proto = nfct_get_attr_u8(nat, ATTR_L4PROTO);
    if (HasPorts(l4)) {
      e.present |= 1u << kNatPort;
      e.nat.sport = ntohs(nfct_get_attr_u16(nat, ATTR_ORIG_PORT_SRC));
      e.nat.dport = ntohs(nfct_get_attr_u16(nat, ATTR_ORIG_PORT_DST));
    }
    e.present |= 1u << kNatDir;
    e.nat_dir = nfexp_get_attr_u32(exp, ATTR_EXP_NAT_DIR);
  }
  if (nfexp_attr_is_set(exp, ATTR_EXP_HELPER_NAME) > 0) {
    e.present |= 1u << kHelper;
    CopyName(
        static_cast<const char*>(nfexp_get_attr(exp, ATTR_EXP_HELPER_NAME)),
        e.helper, sizeof(e.helper));
  }
  if (nfexp_attr_is_set(exp, ATTR_EXP_FN) > 0) {
    e.present |= 1u << kFn;
    CopyName(static_cast<const char*>(nfexp_get_attr(exp, ATTR_EXP_FN)), e.fn,
             sizeof(e.fn));
  }
  return e;
}

nf_expect* SyncExpectToExpect(const SyncExpect& e) {
  nf_expect* exp = nfexp_new();
  if (exp == nullptr) return nullptr;
  struct {
    const SyncTuple* t;
    int base;
    nf_expect_attr attr;
  } parts[] = {{&e.master, kMaster, ATTR_EXP_MASTER},
               {&e.expected, kExpected, ATTR_EXP_EXPECTED},
               {&e.mask, kMask, ATTR_EXP_MASK}};
  for (const auto& p : parts) {
    nf_conntrack* ct = ToTuple(e, *p.t, p.base);
    if (ct == nullptr) continue;
    nfexp_set_attr(exp, p.attr, ct);  // copies
    nfct_destroy(ct);
  }
  if (e.present >> kNatIpv4 & 1 || e.present >> kNatL4proto & 1) {
    nf_conntrack* nat = nfct_new();
    if (nat != nullptr) {
      if (e.present >> kNatIpv4 & 1) {
        nfct_attr_grp_ipv4 g;
        std::memcpy(&g.src, e.nat.src, 4);
        std::memcpy(&g.dst, e.nat.dst, 4);
        nfct_set_attr_grp(nat, ATTR_GRP_ORIG_IPV4, &g);
      }
      if (e.present >> kNatL4proto & 1) {
        nfct_set_attr_u8(nat, ATTR_L4PROTO, e.nat.l4proto);
      }
      if (e.present >> kNatPort & 1) {
        nfct_attr_grp_port g;
        g.sport = htons(e.nat.sport);
        g.dport = htons(e.nat.dport);
        nfct_set_attr_grp(nat, ATTR_GRP_ORIG_PORT, &g);
      }
      nfexp_set_attr(exp, ATTR_EXP_NAT_TUPLE, nat);
      nfct_destroy(nat);
    }
  }
  if (e.present >> kTimeout & 1)
    nfexp_set_attr_u32(exp, ATTR_EXP_TIMEOUT, e.timeout);
  if (e.present >> kFlags & 1) nfexp_set_attr_u32(exp, ATTR_EXP_FLAGS, e.flags);
  if (e.present >> kClass & 1) nfexp_set_attr_u32(exp, ATTR_EXP_CLASS, e.klass);
  if (e.present >> kNatDir & 1)
    nfexp_set_attr_u32(exp, ATTR_EXP_NAT_DIR, e.nat_dir);
  if (e.present >> kHelper & 1)
    nfexp_set_attr(exp, ATTR_EXP_HELPER_NAME, e.helper);
  if (e.present >> kFn & 1) nfexp_set_attr(exp, ATTR_EXP_FN, e.fn);
  return exp;
}

}  // namespace ctcollect
