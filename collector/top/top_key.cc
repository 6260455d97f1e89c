#include "collector/top/top_key.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include <bit>

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

namespace {

// Writes a whole key in three stores that the reads of HashTopKey and
// operator== (8 bytes at a time, right after) can be forwarded from: a key
// zeroed first and then written in parts made every event stall on the
// store-to-load forwarding that parts defeat (perf annotate of
// BM_EventStormTop1M).
void SetKey(TopKey* k, const uint8_t* a, const uint8_t* b, uint8_t family,
            uint8_t l4proto, uint16_t port) {
  static constexpr uint8_t kZero[16] = {};
  std::memcpy(k->a, a ? a : kZero, 16);
  std::memcpy(k->b, b ? b : kZero, 16);
  if constexpr (std::endian::native == std::endian::little) {
    const uint32_t tail =
        family | (uint32_t{l4proto} << 8) | (uint32_t{port} << 16);
    std::memcpy(&k->family, &tail, sizeof(tail));
  } else {
    k->family = family;
    k->l4proto = l4proto;
    k->port = port;
  }
}

}  // namespace

FlowTopKeys TopKeysOf(const CtMessage& m) {
  // CtMessage's addresses are 16 bytes, zero past an IPv4 address's 4.
  FlowTopKeys out;
  const uint8_t family = static_cast<uint8_t>(m.family);
  SetKey(&out.keys[static_cast<int>(TopBy::kSrc)], m.src, nullptr, family, 0,
         0);
  SetKey(&out.keys[static_cast<int>(TopBy::kDst)], m.dst, nullptr, family, 0,
         0);
  SetKey(&out.keys[static_cast<int>(TopBy::kDport)], nullptr, nullptr, 0,
         m.l4proto, m.dport);
  out.has = 0x7;
  if (m.has_reply && m.has_status && (m.status & IPS_SRC_NAT)) {
    SetKey(&out.keys[static_cast<int>(TopBy::kSnat)], m.reply_dst, m.reply_src,
           family, m.l4proto, m.reply_sport);
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
