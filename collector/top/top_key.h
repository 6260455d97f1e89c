// The keys of the top-talker rankings: what a flow is counted under in
// each. `src` and `dst` are the original direction's addresses; `dport` is
// protocol and original destination port; `snat` is the tuple whose source
// ports NAT allocates from, for flows under source NAT: protocol, the
// translated source address and the real destination's address and port
// (the reply direction's destination, source and source port, so after
// any DNAT), since the kernel picks each such flow a source port that no
// other flow of the same tuple holds.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "collector/conntrack/ct_message.h"

namespace ctcollect {

enum class TopBy : uint8_t { kSrc = 0, kDst, kDport, kSnat };
inline constexpr int kNumTopBy = 4;

std::string_view TopByName(TopBy by);
std::optional<TopBy> ParseTopBy(std::string_view s);

// One key of any ranking, all bytes significant (unused ones zero), so that
// equality and hashing look at the bytes.
struct TopKey {
  uint8_t a[16] = {};   // src, dst: the address; snat: translated source
  uint8_t b[16] = {};   // snat: destination address
  uint8_t family = 0;   // Family
  uint8_t l4proto = 0;  // dport, snat
  uint16_t port = 0;    // dport, snat
  bool operator==(const TopKey& o) const {
    return std::memcmp(this, &o, sizeof(TopKey)) == 0;
  }
};
static_assert(sizeof(TopKey) == 36, "TopKey has no padding");
static_assert(offsetof(TopKey, family) == 32 && offsetof(TopKey, port) == 34,
              "SetKey writes family, l4proto and port as one word");

// The keys of one flow, from any of its messages (the tuples are the same
// in all). `has` bit i says whether keys[i] applies (snat only under
// source NAT and with the reply tuple).
struct FlowTopKeys {
  TopKey keys[kNumTopBy];
  uint8_t has = 0;
};
FlowTopKeys TopKeysOf(const CtMessage& m);

// A 64-bit hash of the key's bytes under `seed` (wyhash-style).
uint64_t HashTopKey(const TopKey& k, uint64_t seed);

// As the API and the metrics label spell keys: "10.0.0.3", "2001:db8::1";
// "tcp/443"; "tcp/192.0.2.1->198.51.100.7:443" (an IPv6 destination in
// brackets). Protocols by name where the collector has one, else number.
std::string FormatTopKey(TopBy by, const TopKey& k);

}  // namespace ctcollect
