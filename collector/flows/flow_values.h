// Parsers for the values operators write to select flows, shared by the
// flow-dump filters (query parameters) and the flow classes (config file):
// addresses and CIDRs, protocols, ports and port ranges, marks with masks.
// Outside bytes: every parser checks everything and returns nullopt for
// anything it does not accept. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "collector/base/parse_number.h"

namespace ctcollect {

struct Cidr {
  int af = 0;             // AF_INET or AF_INET6
  uint8_t addr[16] = {};  // network order, host bits cleared
  int prefix = 0;
  bool Contains(int af, const void* a) const;
};
// "198.18.0.0/15", "2001:db8::/32", or one address (a full-length prefix).
std::optional<Cidr> ParseCidr(const std::string& s);

// A protocol name as the metrics spell it (tcp, udp, icmp, ...) or an IP
// protocol number. `generic` is true for "generic": any protocol without
// its own tracker (l4proto is then unset).
struct ProtocolValue {
  std::optional<uint8_t> l4proto;
  bool generic = false;
};
std::optional<ProtocolValue> ParseProtocol(const std::string& s);

// "VALUE" or "VALUE/MASK"; the value is returned with the mask applied.
struct MarkValue {
  uint32_t mark = 0;
  uint32_t mask = 0xffffffff;
  bool Matches(uint32_t m) const { return (m & mask) == mark; }
};
std::optional<MarkValue> ParseMark(const std::string& s);

// "PORT" or "LOW-HIGH" (inclusive, LOW <= HIGH).
struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 65535;
  bool Contains(uint16_t p) const { return p >= lo && p <= hi; }
};
std::optional<PortRange> ParsePortRange(const std::string& s);

}  // namespace ctcollect
