#include "collector/conntrack/ct_message.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <cstring>

#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {

// Fixed-size attributes must be exactly this long; the kernel never sends
// anything else, so a mismatch means the bytes are not what we think.
bool IsU8(const nlattr* a) { return AttrPayloadLen(a) >= 1; }
bool IsU16(const nlattr* a) { return AttrPayloadLen(a) == 2; }
bool IsU32(const nlattr* a) { return AttrPayloadLen(a) == 4; }
bool IsU64(const nlattr* a) { return AttrPayloadLen(a) == 8; }

uint64_t Be64(const nlattr* a) { return be64toh(AttrU64(a)); }

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The high and low halves of a 64x64 multiplication, folded (wyhash's mum).
// 32-bit targets have no 128-bit product: a 64-bit one and a shift there.
uint64_t Mum(uint64_t a, uint64_t b) {
#ifdef __SIZEOF_INT128__
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
#else
  const uint64_t r = (a ^ (b >> 32)) * (b | 1);
  return r ^ (r >> 29);
#endif
}

// A hash of the tuple's bytes, folded to 16 bits. The kernel writes a flow's
// tuple the same way (padding zeroed) in every event and dump message, so
// its bytes name the flow. 16 bytes a step, each step's multiplication
// independent of the others': a tuple is 48 (IPv4) to 72 (IPv6) bytes, and
// the byte-at-a-time FNV-1a used before was a chain of that many dependent
// multiplications per event (tests/bench/RESULTS.md, parse + apply).
uint16_t TupleTag(const nlattr* tuple) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
  const auto* p = static_cast<const uint8_t*>(AttrPayload(tuple));
  const size_t n = AttrPayloadLen(tuple);
  uint64_t h = n;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    h += Mum(Load64(p + i) ^ k0 ^ i, Load64(p + i + 8) ^ k1);
  }
  if (i < n) {
    uint8_t tail[16] = {};
    std::memcpy(tail, p + i, n - i);
    h += Mum(Load64(tail) ^ k0 ^ i, Load64(tail + 8) ^ k1);
  }
  h = Mum(h ^ k0, k1);
  return static_cast<uint16_t>(h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48));
}

// An address attribute of CTA_TUPLE_IP into `out`: 4 or 16 bytes.
bool CopyAddr(const nlattr* a, size_t want, uint8_t* out) {
  if (AttrPayloadLen(a) != want) return false;
  std::memcpy(out, AttrPayload(a), want);
  return true;
}

// A tuple's addresses and ports: CTA_TUPLE_IP (addresses) and
// CTA_TUPLE_PROTO (CTA_PROTO_NUM, ports). Returns false for a malformed
// tuple; `*l4proto_found` says whether it named its protocol.
struct TupleOut {
  uint8_t* src;
  uint8_t* dst;
  uint16_t* sport;
  uint16_t* dport;
  uint8_t* l4proto;
};
bool ParseTuple(const nlattr* tuple, const TupleOut& out, bool* l4proto_found) {
  return ForEachNested(tuple, [&](const nlattr* a) {
    if (AttrType(a) == CTA_TUPLE_IP) {
      return ForEachNested(a, [&](const nlattr* ip) {
        switch (AttrType(ip)) {
          case CTA_IP_V4_SRC:
            return CopyAddr(ip, 4, out.src);
          case CTA_IP_V4_DST:
            return CopyAddr(ip, 4, out.dst);
          case CTA_IP_V6_SRC:
            return CopyAddr(ip, 16, out.src);
          case CTA_IP_V6_DST:
            return CopyAddr(ip, 16, out.dst);
          default:
            return true;
        }
      });
    }
    if (AttrType(a) != CTA_TUPLE_PROTO) return true;
    return ForEachNested(a, [&](const nlattr* p) {
      switch (AttrType(p)) {
        case CTA_PROTO_NUM:
          if (!IsU8(p)) return false;
          *out.l4proto = AttrU8(p);
          *l4proto_found = true;
          return true;
        case CTA_PROTO_SRC_PORT:
          if (!IsU16(p)) return false;
          *out.sport = ntohs(AttrU16(p));
          return true;
        case CTA_PROTO_DST_PORT:
          if (!IsU16(p)) return false;
          *out.dport = ntohs(AttrU16(p));
          return true;
        default:
          return true;
      }
    });
  });
}

bool ParseTupleOrig(const nlattr* tuple, CtMessage* m) {
  bool found = false;
  if (!ParseTuple(tuple, {m->src, m->dst, &m->sport, &m->dport, &m->l4proto},
                  &found)) {
    return false;
  }
  if (found) m->proto = ProtoFromNumber(m->l4proto);
  return found;
}

// The reply direction: only where NAT changed it is it more than the
// original turned round, and only its addresses and source port are kept.
bool ParseTupleReply(const nlattr* tuple, CtMessage* m) {
  bool found = false;
  uint16_t dport = 0;
  uint8_t l4proto = 0;
  if (!ParseTuple(
          tuple,
          {m->reply_src, m->reply_dst, &m->reply_sport, &dport, &l4proto},
          &found)) {
    return false;
  }
  m->has_reply = true;
  return true;
}

// CTA_PROTOINFO -> CTA_PROTOINFO_{TCP,SCTP,DCCP} -> *_STATE.
bool ParseProtoinfo(const nlattr* info, CtMessage* m) {
  return ForEachNested(info, [&](const nlattr* a) {
    uint16_t want;
    switch (AttrType(a)) {
      case CTA_PROTOINFO_TCP:
        want = CTA_PROTOINFO_TCP_STATE;
        break;
      case CTA_PROTOINFO_SCTP:
        want = CTA_PROTOINFO_SCTP_STATE;
        break;
      case CTA_PROTOINFO_DCCP:
        want = CTA_PROTOINFO_DCCP_STATE;
        break;
      default:
        return true;
    }
    return ForEachNested(a, [&](const nlattr* s) {
      if (AttrType(s) != want) return true;
      if (!IsU8(s)) return false;
      uint8_t v = AttrU8(s);
      if (v >= kNoState) return false;
      m->state = v;
      m->has_state = true;
      return true;
    });
  });
}

bool ParseCounters(const nlattr* c, int dir, CtMessage* m) {
  m->has_counters = true;
  return ForEachNested(c, [&](const nlattr* a) {
    switch (AttrType(a)) {
      case CTA_COUNTERS_PACKETS:
        if (!IsU64(a)) return false;
        m->packets[dir] = Be64(a);
        break;
      case CTA_COUNTERS_BYTES:
        if (!IsU64(a)) return false;
        m->bytes[dir] = Be64(a);
        break;
      default:
        break;
    }
    return true;
  });
}

bool ParseTimestamp(const nlattr* t, CtMessage* m) {
  m->has_timestamp = true;
  return ForEachNested(t, [&](const nlattr* a) {
    switch (AttrType(a)) {
      case CTA_TIMESTAMP_START:
        if (!IsU64(a)) return false;
        m->start_ns = Be64(a);
        break;
      case CTA_TIMESTAMP_STOP:
        if (!IsU64(a)) return false;
        m->stop_ns = Be64(a);
        break;
      default:
        break;
    }
    return true;
  });
}

}  // namespace

std::optional<CtMessage> ParseCtMessage(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) return std::nullopt;
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK) {
    return std::nullopt;
  }
  CtMessage m;
  switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
    case IPCTNL_MSG_CT_NEW:
      m.type = (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL))
                   ? EventType::kNew
                   : EventType::kUpdate;
      break;
    case IPCTNL_MSG_CT_DELETE:
      m.type = EventType::kDestroy;
      break;
    default:
      return std::nullopt;
  }
  const auto* nfg = reinterpret_cast<const nfgenmsg*>(
      reinterpret_cast<const char*>(nlh) + NLMSG_HDRLEN);
  auto family = FamilyFromAf(nfg->nfgen_family);
  if (!family) return std::nullopt;
  m.family = *family;

  bool have_id = false, have_tuple = false;
  bool ok = ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    switch (AttrType(a)) {
      case CTA_TUPLE_ORIG:
        have_tuple = true;
        m.tag = TupleTag(a);
        return ParseTupleOrig(a, &m);
      case CTA_TUPLE_REPLY:
        return ParseTupleReply(a, &m);
      case CTA_PROTOINFO:
        return ParseProtoinfo(a, &m);
      case CTA_ID:
        if (!IsU32(a)) return false;
        m.id = ntohl(AttrU32(a));
        have_id = true;
        return true;
      case CTA_STATUS:
        if (!IsU32(a)) return false;
        m.status = ntohl(AttrU32(a));
        m.has_status = true;
        return true;
      case CTA_HELP:
        m.has_helper = true;
        return ForEachNested(a, [&](const nlattr* h) {
          if (AttrType(h) != CTA_HELP_NAME) return true;
          // A NUL-terminated string; keep what fits, always terminated.
          size_t n = AttrPayloadLen(h);
          const char* p = static_cast<const char*>(AttrPayload(h));
          size_t len = 0;
          while (len < n && len < sizeof(m.helper) - 1 && p[len] != '\0') ++len;
          std::memcpy(m.helper, p, len);
          m.helper[len] = '\0';
          return true;
        });
      case CTA_MARK:
        if (!IsU32(a)) return false;
        m.mark = ntohl(AttrU32(a));
        m.has_mark = true;
        return true;
      case CTA_TIMEOUT:
        if (!IsU32(a)) return false;
        m.timeout = ntohl(AttrU32(a));
        m.has_timeout = true;
        return true;
      case CTA_ZONE:
        if (!IsU16(a)) return false;
        m.zone = ntohs(AttrU16(a));
        m.has_zone = true;
        return true;
      case CTA_COUNTERS_ORIG:
        return ParseCounters(a, 0, &m);
      case CTA_COUNTERS_REPLY:
        return ParseCounters(a, 1, &m);
      case CTA_TIMESTAMP:
        return ParseTimestamp(a, &m);
      default:
        return true;
    }
  });
  if (!ok) return std::nullopt;
  if (!have_id || !have_tuple) return std::nullopt;
  if (!ProtoHasStates(m.proto)) {
    m.state = 0;
    m.has_state = true;  // stateless protocols are always in their one state
  }
  return m;
}

}  // namespace ctcollect
