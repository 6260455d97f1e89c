// The kernel's conntrack timeout policies: the objects of nfnetlink_cttimeout
// (`nfct timeout add`, used by the iptables CT target's --timeout), the
// nftables `ct timeout` objects (used by `ct timeout set`), and the
// kernel's default timeouts per protocol (IPCTNL_MSG_TIMEOUT_DEFAULT_GET,
// else the nf_conntrack_*_timeout sysctls).
//
// A policy holds one value per timeout attribute of its protocol, in the
// order of libnetfilter_cttimeout's attributes (which for TCP, SCTP and
// DCCP is the order of the conntrack states, so a flow's state indexes its
// timeout). Message building and parsing are split from the I/O so the
// parsers run on captured and built bytes in tests.
//
// Thread safety: the functions are thread-safe; a socket is used by one
// caller at a time.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace ctcollect {

class NetlinkSocket;

enum class PolicySource : uint8_t { kDefault, kCttimeout, kNft };
std::string_view PolicySourceName(PolicySource s);

inline constexpr int kMaxTimeoutAttrs = 16;

struct TimeoutPolicy {
  // "default" for the kernel's, the object name for cttimeout, and
  // "FAMILY/TABLE/NAME" for nftables objects (names are per table).
  std::string name;
  PolicySource source = PolicySource::kDefault;
  uint16_t l3proto = 0;  // AF_INET, AF_INET6, NFPROTO_INET (1) for nft inet
  uint8_t l4proto = 0;
  // Seconds per timeout attribute (index 0 = the first attribute); only
  // the first `count` are meaningful, `set` says which the kernel sent.
  uint32_t values[kMaxTimeoutAttrs] = {};
  uint32_t set = 0;  // bit i: values[i] came from the kernel
  int count = 0;     // attributes this protocol has

  bool Has(int i) const { return i >= 0 && i < count && (set >> i) & 1; }
};

// Number of timeout attributes of an IP protocol (tcp 11, udp 2, ...), and
// the name of one ("ESTABLISHED", "UNREPLIED", ...), as libnetfilter_
// cttimeout and `nfct timeout list` name them.
int TimeoutAttrCount(uint8_t l4proto);
std::string TimeoutAttrName(uint8_t l4proto, int attr);

// Parsers of one message each; nullopt (and a reason) for malformed bytes
// or a message of another kind.
std::optional<TimeoutPolicy> ParseCttimeoutMessage(const nlmsghdr* nlh,
                                                   std::string* error);
std::optional<TimeoutPolicy> ParseNftTimeoutObject(const nlmsghdr* nlh,
                                                   std::string* error);

// Requests, written into `buf` (at least 256 bytes); return their length.
size_t BuildCttimeoutDump(void* buf, uint32_t seq);
size_t BuildDefaultTimeoutGet(void* buf, uint32_t seq, uint16_t l3proto,
                              uint8_t l4proto);
size_t BuildNftTimeoutDump(void* buf, uint32_t seq);

struct PolicyQueryResult {
  std::vector<TimeoutPolicy> policies;
  // Why a part is missing, e.g. "cttimeout: Operation not supported"; the
  // rest is still there.
  std::vector<std::string> errors;
};

// Every policy the namespace of `sock` has, defaults first (one per
// protocol the kernel knows, IPv4 and IPv6 alike: the defaults are per
// protocol). Blocking, bounded by the socket timeouts.
PolicyQueryResult QueryTimeoutPolicies(NetlinkSocket* sock);

// The format `nfct timeout list` prints, one policy:
// ".name = {\n\t.l3proto = 2,\n\t.l4proto = 6,\n\t.policy = {\n..." .
std::string NfctTimeoutText(const TimeoutPolicy& p);

}  // namespace ctcollect
