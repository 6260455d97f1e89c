#include "collector/conntrack/dimensions.h"

#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>

namespace ctcollect {
namespace {

constexpr std::array<std::string_view, kMaxStates - 1> kTcpStates = {
    "NONE",       "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT",
    "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",       "SYN_SENT2"};
constexpr std::array<std::string_view, kMaxStates - 1> kSctpStates = {
    "NONE",           "CLOSED",         "COOKIE_WAIT",   "COOKIE_ECHOED",
    "ESTABLISHED",    "SHUTDOWN_SENT",  "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT",
    "HEARTBEAT_SENT", "HEARTBEAT_ACKED"};
constexpr std::array<std::string_view, kMaxStates - 1> kDccpStates = {
    "NONE",     "REQUEST", "RESPOND",  "PARTOPEN", "OPEN",
    "CLOSEREQ", "CLOSING", "TIMEWAIT", "IGNORE",   "INVALID"};

constexpr std::array<std::string_view, kNumProtos> kProtoNames = {
    "tcp",  "udp",  "udplite", "icmp",   "icmpv6",
    "sctp", "dccp", "gre",     "generic"};

}  // namespace

std::string_view FlowStatusName(int bit_index) {
  static constexpr std::string_view kNames[kNumFlowStatus] = {
      "assured", "unreplied", "snat", "dnat", "offloaded", "helper"};
  return bit_index >= 0 && bit_index < kNumFlowStatus ? kNames[bit_index] : "";
}

uint8_t FlowStatusBits(uint32_t s, bool has_helper) {
  uint8_t b = 0;
  if (s & IPS_ASSURED) b |= kStatusAssured;
  if (!(s & IPS_SEEN_REPLY)) b |= kStatusUnreplied;
  if (s & IPS_SRC_NAT) b |= kStatusSrcNat;
  if (s & IPS_DST_NAT) b |= kStatusDstNat;
  if (s & (IPS_OFFLOAD | IPS_HW_OFFLOAD)) b |= kStatusOffloaded;
  if (has_helper) b |= kStatusHelper;
  return b;
}

std::string_view FamilyName(Family f) {
  return f == Family::kIpv4 ? "ipv4" : "ipv6";
}

std::string_view ProtoName(Proto p) { return kProtoNames[static_cast<int>(p)]; }

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kNew:
      return "new";
    case EventType::kUpdate:
      return "update";
    case EventType::kDestroy:
      return "destroy";
  }
  return "unknown";
}

std::optional<Family> FamilyFromAf(uint8_t af) {
  if (af == AF_INET) return Family::kIpv4;
  if (af == AF_INET6) return Family::kIpv6;
  return std::nullopt;
}

Proto ProtoFromNumber(uint8_t l4proto) {
  switch (l4proto) {
    case IPPROTO_TCP:
      return Proto::kTcp;
    case IPPROTO_UDP:
      return Proto::kUdp;
    case IPPROTO_UDPLITE:
      return Proto::kUdplite;
    case IPPROTO_ICMP:
      return Proto::kIcmp;
    case IPPROTO_ICMPV6:
      return Proto::kIcmpv6;
    case IPPROTO_SCTP:
      return Proto::kSctp;
    case IPPROTO_DCCP:
      return Proto::kDccp;
    case IPPROTO_GRE:
      return Proto::kGre;
    default:
      return Proto::kGeneric;
  }
}

bool ProtoHasStates(Proto p) {
  return p == Proto::kTcp || p == Proto::kSctp || p == Proto::kDccp;
}

int NumStates(Proto p) { return ProtoHasStates(p) ? kMaxStates : 1; }

std::string_view StateName(Proto p, uint8_t s) {
  if (s >= kNoState) return "";
  switch (p) {
    case Proto::kTcp:
      return kTcpStates[s];
    case Proto::kSctp:
      return kSctpStates[s];
    case Proto::kDccp:
      return kDccpStates[s];
    default:
      return "";
  }
}

}  // namespace ctcollect
