// One conntrack entry as conntrackd's replication protocol carries it
// (shared/reference/conntrackd.md §1): the original tuple, state, status,
// NAT, helper, labels, zone... and nothing else (no reply tuple, no
// counters). A flat struct so that decoding a message and storing it in an
// external cache costs no allocation. Conversions to and from
// libnetfilter_conntrack objects mirror what conntrackd's build.c and
// parse.c do, so that dumps and commits match conntrackd's.
// Plain data; the conversions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>

struct nf_conntrack;

namespace ctcollect {

// Attribute ids of conntrack messages (NTA_*), in wire order.
enum SyncAttr : uint8_t {
  kNtaIpv4 = 0,
  kNtaIpv6 = 1,
  kNtaL4proto = 2,
  kNtaPort = 3,
  kNtaTcpState = 4,
  kNtaStatus = 5,
  kNtaTimeout = 6,
  kNtaMark = 7,
  kNtaMasterIpv4 = 8,
  kNtaMasterIpv6 = 9,
  kNtaMasterL4proto = 10,
  kNtaMasterPort = 11,
  kNtaSnatIpv4 = 12,
  kNtaDnatIpv4 = 13,
  kNtaSpatPort = 14,
  kNtaDpatPort = 15,
  kNtaNatSeqAdj = 16,
  kNtaSctpState = 17,
  kNtaSctpVtagOrig = 18,
  kNtaSctpVtagRepl = 19,
  kNtaDccpState = 20,
  kNtaDccpRole = 21,
  kNtaIcmpType = 22,
  kNtaIcmpCode = 23,
  kNtaIcmpId = 24,
  kNtaTcpWscaleOrig = 25,
  kNtaTcpWscaleRepl = 26,
  kNtaHelperName = 27,
  kNtaLabels = 28,
  kNtaSnatIpv6 = 29,
  kNtaDnatIpv6 = 30,
  kNtaSynproxy = 31,
  kNtaZone = 32,
  kNtaMax = 33,  // ids >= this reject the message, as conntrackd does
};

// The identity of a flow in a cache: its original tuple and zone, as
// conntrackd's caches compare them.
struct SyncFlowKey {
  uint8_t family = 0;  // AF_INET / AF_INET6
  uint8_t l4proto = 0;
  uint16_t zone = 0;
  uint16_t sport = 0;  // host order; for ICMP: the id
  uint16_t dport = 0;  // host order; for ICMP: type << 8 | code
  uint8_t src[16] = {};
  uint8_t dst[16] = {};
  bool operator==(const SyncFlowKey& o) const {
    return std::memcmp(this, &o, sizeof(*this)) == 0;
  }
};
static_assert(sizeof(SyncFlowKey) == 40, "SyncFlowKey must have no padding");

struct SyncFlowKeyHash {
  size_t operator()(const SyncFlowKey& k) const;
};

struct SyncFlow {
  uint64_t present = 0;  // bit i: attribute id i was set
  bool Has(SyncAttr a) const { return present >> a & 1; }
  void Set(SyncAttr a) { present |= uint64_t{1} << a; }

  uint8_t family = 0;  // from IPV4 / IPV6
  uint8_t l4proto = 0;
  uint8_t state = 0;  // TCP, SCTP or DCCP state (whichever is present)
  uint8_t dccp_role = 0;
  uint8_t icmp_type = 0, icmp_code = 0;
  uint8_t wscale_orig = 0, wscale_repl = 0;
  uint16_t sport = 0, dport = 0;  // host order
  uint16_t icmp_id = 0;           // host order
  uint16_t zone = 0;
  uint16_t spat = 0, dpat = 0;  // NAT ports, host order
  uint32_t status = 0, timeout = 0, mark = 0;
  uint32_t vtag_orig = 0, vtag_repl = 0;
  uint8_t src[16] = {}, dst[16] = {};  // network order
  uint8_t snat[16] = {}, dnat[16] = {};
  // The master conntrack (flows an expectation created).
  uint8_t master_l4proto = 0;
  uint16_t master_sport = 0, master_dport = 0;
  uint8_t master_src[16] = {}, master_dst[16] = {};
  uint32_t nat_seq[6] = {};   // orig pos, before, after; then reply
  uint32_t synproxy[3] = {};  // its, isn, tsoff
  // Labels: bit i of word w is label 32w+i (the kernel has 128).
  static constexpr int kLabelWords = 4;
  uint32_t labels[kLabelWords] = {};
  char helper[16] = {};  // NUL-terminated

  SyncFlowKey Key() const;
};

// From a libnetfilter_conntrack object (an event or a dump entry), with
// the attributes conntrackd's ct2msg sends. `with_timeout` false leaves the
// timeout out (CommitTimeout); `window_tracking` adds the TCP window scales.
SyncFlow SyncFlowFromConntrack(const nf_conntrack* ct, bool with_timeout,
                               bool window_tracking);

// To a new libnetfilter_conntrack object holding what conntrackd's msg2ct
// would set (original tuple, NAT as ATTR_SNAT_* / ATTR_DNAT_*, no reply
// tuple), for conntrackd's dump formats. Caller frees it (nfct_destroy).
nf_conntrack* SyncFlowToConntrack(const SyncFlow& f);

}  // namespace ctcollect
