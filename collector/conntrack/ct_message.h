// Parser for ctnetlink conntrack messages (IPCTNL_MSG_CT_NEW / _DELETE, as
// events and as dump replies). Reads the attributes the collector needs
// straight into a small struct: no allocation, no exception, bounded work.
// Bytes from the kernel are still outside bytes: every length is checked and
// anything malformed yields nullopt. Thread-safe (pure functions).
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "collector/conntrack/dimensions.h"

namespace ctcollect {

struct CtMessage {
  EventType type = EventType::kNew;  // kUpdate: CT_NEW without CREATE|EXCL
  Family family = Family::kIpv4;
  Proto proto = Proto::kGeneric;
  uint8_t l4proto = 0;     // the IP protocol number itself
  uint8_t state = 0;       // index into StateName(proto, ...)
  bool has_state = false;  // the message carried CTA_PROTOINFO
  bool has_zone = false;
  bool has_mark = false;
  bool has_timeout = false;
  bool has_counters = false;
  bool has_timestamp = false;
  bool has_status = false;
  bool has_helper = false;  // CTA_HELP present: a helper owns the flow
  char helper[16] = {};     // its name (NUL-terminated, truncated)
  uint16_t zone = 0;
  uint32_t id = 0;
  uint16_t tag = 0;  // hash of the original tuple's bytes (FlowRecord::tag)
  uint32_t status = 0;
  uint32_t mark = 0;
  uint32_t timeout = 0;  // seconds left
  // The original direction's tuple (what flow classes match): addresses in
  // network order (IPv4 in the first 4 bytes), ports in host order (0 for
  // protocols without ports).
  uint8_t src[16] = {};
  uint8_t dst[16] = {};
  uint16_t sport = 0;
  uint16_t dport = 0;
  // The reply direction's addresses and source port (CTA_TUPLE_REPLY),
  // where the message had it. Under source NAT its destination is the
  // translated source address.
  bool has_reply = false;
  uint16_t reply_sport = 0;
  uint8_t reply_src[16] = {};
  uint8_t reply_dst[16] = {};
  uint64_t packets[2] = {0, 0};  // [original, reply]
  uint64_t bytes[2] = {0, 0};
  uint64_t start_ns = 0;  // CTA_TIMESTAMP_START / _STOP, ns since the epoch
  uint64_t stop_ns = 0;
};

// Parses one conntrack message. The caller has checked that `nlh` lies within
// its buffer (nlmsg_len <= bytes available); the attributes are checked here.
// Returns nullopt for messages that are not conntrack NEW/DELETE messages or
// are malformed (no id, no tuple, bad attribute lengths).
std::optional<CtMessage> ParseCtMessage(const nlmsghdr* nlh);

}  // namespace ctcollect
