#include "collector/top/top_key.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>

namespace ctcollect {
namespace {

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t Mum(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

std::string Address(uint8_t family, const uint8_t* a) {
  char buf[INET6_ADDRSTRLEN];
  const int af =
      family == static_cast<uint8_t>(Family::kIpv6) ? AF_INET6 : AF_INET;
  if (inet_ntop(af, a, buf, sizeof(buf)) == nullptr) return "?";
  return buf;
}

std::string ProtocolName(uint8_t l4proto) {
  const Proto p = ProtoFromNumber(l4proto);
  if (p == Proto::kGeneric) return std::to_string(l4proto);
  return std::string(ProtoName(p));
}

}  // namespace

std::string_view TopByName(TopBy by) {
  switch (by) {
    case TopBy::kSrc:
      return "src";
    case TopBy::kDst:
      return "dst";
    case TopBy::kDport:
      return "dport";
    case TopBy::kSnat:
      return "snat";
  }
  return "?";
}

std::optional<TopBy> ParseTopBy(std::string_view s) {
  for (int i = 0; i < kNumTopBy; ++i) {
    if (TopByName(static_cast<TopBy>(i)) == s) return static_cast<TopBy>(i);
  }
  return std::nullopt;
}

FlowTopKeys TopKeysOf(const CtMessage& m) {
  FlowTopKeys out;
  const uint8_t family = static_cast<uint8_t>(m.family);
  const size_t alen = m.family == Family::kIpv6 ? 16 : 4;
  TopKey& src = out.keys[static_cast<int>(TopBy::kSrc)];
  src.family = family;
  std::memcpy(src.a, m.src, alen);
  TopKey& dst = out.keys[static_cast<int>(TopBy::kDst)];
  dst.family = family;
  std::memcpy(dst.a, m.dst, alen);
  TopKey& dport = out.keys[static_cast<int>(TopBy::kDport)];
  dport.l4proto = m.l4proto;
  dport.port = m.dport;
  out.has = 0x7;
  if (m.has_reply && m.has_status && (m.status & IPS_SRC_NAT)) {
    TopKey& snat = out.keys[static_cast<int>(TopBy::kSnat)];
    snat.family = family;
    snat.l4proto = m.l4proto;
    snat.port = m.reply_sport;
    std::memcpy(snat.a, m.reply_dst, alen);
    std::memcpy(snat.b, m.reply_src, alen);
    out.has |= 1u << static_cast<int>(TopBy::kSnat);
  }
  return out;
}

uint64_t HashTopKey(const TopKey& k, uint64_t seed) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
  const auto* p = reinterpret_cast<const uint8_t*>(&k);
  uint64_t h = seed;
  h += Mum(Load64(p) ^ k0, Load64(p + 8) ^ k1);
  h += Mum(Load64(p + 16) ^ k1, Load64(p + 24) ^ k0 ^ seed);
  uint32_t tail;
  std::memcpy(&tail, p + 32, sizeof(tail));
  return Mum(h ^ tail ^ k0, k1 ^ seed);
}

std::string FormatTopKey(TopBy by, const TopKey& k) {
  switch (by) {
    case TopBy::kSrc:
    case TopBy::kDst:
      return Address(k.family, k.a);
    case TopBy::kDport:
      return ProtocolName(k.l4proto) + "/" + std::to_string(k.port);
    case TopBy::kSnat: {
      std::string dst = Address(k.family, k.b);
      if (k.family == static_cast<uint8_t>(Family::kIpv6)) {
        dst = "[" + dst + "]";
      }
      return ProtocolName(k.l4proto) + "/" + Address(k.family, k.a) + "->" +
             dst + ":" + std::to_string(k.port);
    }
  }
  return "?";
}

}  // namespace ctcollect
