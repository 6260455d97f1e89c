// Label vocabulary for conntrack entries: address families, layer-4
// protocols and per-protocol state names, as `conntrack -L` prints them.
// Everything here is a compile-time table; no allocation, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ctcollect {

enum class Family : uint8_t { kIpv4 = 0, kIpv6 = 1 };
inline constexpr int kNumFamilies = 2;

// The protocols the kernel tracks with their own tracker; anything else is
// tracked by the generic tracker and labelled "generic".
enum class Proto : uint8_t {
  kTcp = 0,
  kUdp,
  kUdplite,
  kIcmp,
  kIcmpv6,
  kSctp,
  kDccp,
  kGre,
  kGeneric,
};
inline constexpr int kNumProtos = 9;

// TCP, SCTP and DCCP each have ten kernel states (0-9); the rest have none
// and always use state 0 (exported without a state label). State 10 means
// "not reported": a flow of a stateful protocol the kernel sent no state
// for (e.g. DCCP on kernels that no longer have its tracker), also
// exported without a state label, as `conntrack -L` shows it.
inline constexpr int kMaxStates = 11;
inline constexpr uint8_t kNoState = 10;

// Event kinds as they arrive on the ctnetlink multicast groups.
enum class EventType : uint8_t { kNew = 0, kUpdate = 1, kDestroy = 2 };
inline constexpr int kNumEventTypes = 3;

// The status breakdown of tracked flows: one bit each in a flow's record,
// one gauge each (`conntrack_status_entries{status}`).
enum FlowStatusBit : uint8_t {
  kStatusAssured = 1 << 0,
  kStatusUnreplied = 1 << 1,  // no reply seen (IPS_SEEN_REPLY clear)
  kStatusSrcNat = 1 << 2,
  kStatusDstNat = 1 << 3,
  kStatusOffloaded = 1 << 4,  // software or hardware flowtable
  kStatusHelper = 1 << 5,     // a conntrack helper owns the flow
};
inline constexpr int kNumFlowStatus = 6;
std::string_view FlowStatusName(int bit_index);
// Status bits from IPS_* status and whether the flow has a helper.
uint8_t FlowStatusBits(uint32_t ips_status, bool has_helper);

std::string_view FamilyName(Family f);
std::string_view ProtoName(Proto p);
std::string_view EventTypeName(EventType t);

// Maps an AF_INET/AF_INET6 value; nullopt for anything else.
std::optional<Family> FamilyFromAf(uint8_t af);

// Maps an IP protocol number (e.g. 6) to the tracker that handles it.
Proto ProtoFromNumber(uint8_t l4proto);

// True for the protocols whose entries carry a kernel state.
bool ProtoHasStates(Proto p);

// Number of state values for `p`, kNoState included (1 for stateless).
int NumStates(Proto p);

// Name of state `s` of protocol `p` as libnetfilter_conntrack prints it
// ("ESTABLISHED", "TIME_WAIT", ...); "" for stateless protocols and
// kNoState.
std::string_view StateName(Proto p, uint8_t s);

}  // namespace ctcollect
