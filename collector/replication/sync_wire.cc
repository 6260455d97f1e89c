#include "collector/replication/sync_wire.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace ctcollect {
namespace {

uint16_t Get16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t Get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
// The byte-order quirk of SPAT/DPAT/ICMP_ID: little-endian on the wire
// (conntrackd on x86 applies htons to a value already in network order).
uint16_t GetLe16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
void PutLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

constexpr size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

// Appends TLV attributes to a message buffer.
class AttrWriter {
 public:
  explicit AttrWriter(uint8_t* msg) : msg_(msg), len_(kSyncHeaderSize) {}
  uint8_t* Put(uint16_t type, size_t payload) {
    uint8_t* a = msg_ + len_;
    Put16(a, static_cast<uint16_t>(4 + payload));
    Put16(a + 2, type);
    const size_t total = Align4(4 + payload);
    std::memset(a + 4 + payload, 0, total - 4 - payload);
    len_ += total;
    return a + 4;
  }
  void U8(uint16_t type, uint8_t v) { *Put(type, 1) = v; }
  void U16(uint16_t type, uint16_t v) { Put16(Put(type, 2), v); }
  void Le16(uint16_t type, uint16_t v) { PutLe16(Put(type, 2), v); }
  void U32(uint16_t type, uint32_t v) { Put32(Put(type, 4), v); }
  void Bytes(uint16_t type, const void* p, size_t n) {
    std::memcpy(Put(type, n), p, n);
  }
  void Tuple(uint16_t type, const uint8_t* src, const uint8_t* dst, size_t n) {
    uint8_t* p = Put(type, 2 * n);
    std::memcpy(p, src, n);
    std::memcpy(p + n, dst, n);
  }
  void Ports(uint16_t type, uint16_t sport, uint16_t dport) {
    uint8_t* p = Put(type, 4);
    Put16(p, sport);
    Put16(p + 2, dport);
  }
  size_t len() const { return len_; }

 private:
  uint8_t* msg_;
  size_t len_;
};

// Walks TLV attributes with msg2ct's rules: the walk goes on while more
// than 4 bytes remain; a length below 4 or past the end, or an id at or
// above `max_id`, rejects the message. `fixed[id]` is the exact length an
// attribute must have (0: variable, up to `var_max[id]`).
template <typename F>
bool WalkAttrs(const uint8_t* p, size_t n, uint8_t max_id, const uint8_t* fixed,
               const uint16_t* var_max, F&& on_attr) {
  size_t off = 0;
  while (n - off > 4) {
    const uint16_t len = Get16(p + off);
    const uint16_t id = Get16(p + off + 2);
    if (len < 4 || len > n - off || id >= max_id) return false;
    if (fixed[id] != 0 ? len != fixed[id] : len > var_max[id]) return false;
    on_attr(id, p + off + 4, static_cast<size_t>(len - 4));
    off += Align4(len);
    if (off > n) break;
  }
  return true;
}

// Exact attribute lengths (header included) of conntrack messages.
constexpr uint8_t kCtFixed[kNtaMax] = {
    12, 36, 5, 8, 5, 8,  8,  8,   // IPV4 .. MARK
    12, 36, 5, 8, 8, 8,  6,  6,   // MASTER_IPV4 .. DPAT_PORT
    28, 5,  8, 8, 5, 5,  5,  5,   // NAT_SEQ_ADJ .. ICMP_CODE
    6,  5,  5, 0, 0, 20, 20, 16,  // ICMP_ID .. SYNPROXY
    6,                            // ZONE
};
constexpr uint16_t MakeVarMax(int id) {
  return id == kNtaHelperName ? 16 : id == kNtaLabels ? 1028 : 0;
}
constexpr uint16_t kCtVarMax[kNtaMax] = {0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         MakeVarMax(kNtaHelperName),
                                         MakeVarMax(kNtaLabels),
                                         0,
                                         0,
                                         0,
                                         0};

void CopyString(const uint8_t* p, size_t n, char* out, size_t cap) {
  size_t i = 0;
  for (; i < n && i + 1 < cap && p[i] != '\0'; ++i)
    out[i] = static_cast<char>(p[i]);
  out[i] = '\0';
}

}  // namespace

const char* SyncErrorName(SyncError e) {
  switch (e) {
    case SyncError::kNone:
      return "none";
    case SyncError::kBadVersion:
      return "wrong_version";
    case SyncError::kBadHeader:
      return "malformed_header";
    case SyncError::kBadType:
      return "bad_type";
    case SyncError::kBadPayload:
      return "malformed_payload";
    case SyncError::kTruncated:
      return "truncated";
    case SyncError::kBadSize:
      return "bad_size";
    case SyncError::kForeign:
      return "foreign_source";
    case SyncError::kBadHmac:
      return "bad_hmac";
    case SyncError::kCount:
      break;
  }
  return "unknown";
}

size_t PutSyncHeader(const SyncHeader& h, uint8_t* out) {
  out[0] = static_cast<uint8_t>(h.version << 4 | (h.type & 0x0f));
  out[1] = h.flags;
  Put16(out + 2, h.len);
  Put32(out + 4, h.seq);
  if (!h.HasRange()) return kSyncHeaderSize;
  Put32(out + 8, h.from);
  Put32(out + 12, h.to);
  return kSyncAckSize;
}

SyncHeader ReadSyncHeader(const uint8_t* p, size_t n) {
  SyncHeader h;
  h.version = p[0] >> 4;
  h.type = p[0] & 0x0f;
  h.flags = p[1];
  h.len = Get16(p + 2);
  h.seq = Get32(p + 4);
  if (h.HasRange() && n >= kSyncAckSize) {
    h.from = Get32(p + 8);
    h.to = Get32(p + 12);
  }
  return h;
}

size_t EncodeSyncFlow(const SyncFlow& f, uint8_t type, uint32_t seq,
                      uint8_t flags, uint8_t* out) {
  AttrWriter w(out);
  if (f.Has(kNtaIpv4)) w.Tuple(kNtaIpv4, f.src, f.dst, 4);
  if (f.Has(kNtaIpv6)) w.Tuple(kNtaIpv6, f.src, f.dst, 16);
  if (f.Has(kNtaStatus)) w.U32(kNtaStatus, f.status);
  if (f.Has(kNtaL4proto)) w.U8(kNtaL4proto, f.l4proto);
  // The protocol part, as conntrackd's per-protocol builders order it.
  if (f.Has(kNtaPort)) w.Ports(kNtaPort, f.sport, f.dport);
  if (f.Has(kNtaTcpState)) w.U8(kNtaTcpState, f.state);
  if (f.Has(kNtaTcpWscaleOrig)) w.U8(kNtaTcpWscaleOrig, f.wscale_orig);
  if (f.Has(kNtaTcpWscaleRepl)) w.U8(kNtaTcpWscaleRepl, f.wscale_repl);
  if (f.Has(kNtaSctpState)) w.U8(kNtaSctpState, f.state);
  if (f.Has(kNtaSctpVtagOrig)) w.U32(kNtaSctpVtagOrig, f.vtag_orig);
  if (f.Has(kNtaSctpVtagRepl)) w.U32(kNtaSctpVtagRepl, f.vtag_repl);
  if (f.Has(kNtaDccpState)) w.U8(kNtaDccpState, f.state);
  if (f.Has(kNtaDccpRole)) w.U8(kNtaDccpRole, f.dccp_role);
  if (f.Has(kNtaIcmpType)) w.U8(kNtaIcmpType, f.icmp_type);
  if (f.Has(kNtaIcmpCode)) w.U8(kNtaIcmpCode, f.icmp_code);
  if (f.Has(kNtaIcmpId)) w.Le16(kNtaIcmpId, f.icmp_id);
  if (f.Has(kNtaTimeout)) w.U32(kNtaTimeout, f.timeout);
  if (f.Has(kNtaMark)) w.U32(kNtaMark, f.mark);
  if (f.Has(kNtaMasterIpv4))
    w.Tuple(kNtaMasterIpv4, f.master_src, f.master_dst, 4);
  if (f.Has(kNtaMasterIpv6))
    w.Tuple(kNtaMasterIpv6, f.master_src, f.master_dst, 16);
  if (f.Has(kNtaMasterL4proto)) w.U8(kNtaMasterL4proto, f.master_l4proto);
  if (f.Has(kNtaMasterPort))
    w.Ports(kNtaMasterPort, f.master_sport, f.master_dport);
  if (f.Has(kNtaSnatIpv4)) w.Bytes(kNtaSnatIpv4, f.snat, 4);
  if (f.Has(kNtaDnatIpv4)) w.Bytes(kNtaDnatIpv4, f.dnat, 4);
  if (f.Has(kNtaSnatIpv6)) w.Bytes(kNtaSnatIpv6, f.snat, 16);
  if (f.Has(kNtaDnatIpv6)) w.Bytes(kNtaDnatIpv6, f.dnat, 16);
  if (f.Has(kNtaSpatPort)) w.Le16(kNtaSpatPort, f.spat);
  if (f.Has(kNtaDpatPort)) w.Le16(kNtaDpatPort, f.dpat);
  if (f.Has(kNtaNatSeqAdj)) {
    uint8_t* p = w.Put(kNtaNatSeqAdj, 24);
    for (int i = 0; i < 6; ++i) Put32(p + 4 * i, f.nat_seq[i]);
  }
  if (f.Has(kNtaHelperName)) {
    const size_t n = strnlen(f.helper, sizeof(f.helper) - 1);
    // conntrackd accepts at most 16 bytes with the header: 11 characters.
    const size_t keep = std::min<size_t>(n, 11);
    uint8_t* p = w.Put(kNtaHelperName, keep + 1);
    std::memcpy(p, f.helper, keep);
    p[keep] = '\0';
  }
  if (f.Has(kNtaLabels)) {
    uint8_t* p = w.Put(kNtaLabels, 4 * SyncFlow::kLabelWords);
    for (int i = 0; i < SyncFlow::kLabelWords; ++i)
      Put32(p + 4 * i, f.labels[i]);
  }
  if (f.Has(kNtaSynproxy)) {
    uint8_t* p = w.Put(kNtaSynproxy, 12);
    for (int i = 0; i < 3; ++i) Put32(p + 4 * i, f.synproxy[i]);
  }
  if (f.Has(kNtaZone)) w.U16(kNtaZone, f.zone);
  SyncHeader h;
  h.type = type;
  h.flags = flags;
  h.seq = seq;
  h.len = static_cast<uint16_t>(w.len());
  PutSyncHeader(h, out);
  return w.len();
}

bool DecodeSyncFlow(const uint8_t* p, size_t n, SyncFlow* out) {
  SyncFlow& f = *out;
  f = SyncFlow{};
  return WalkAttrs(
      p, n, kNtaMax, kCtFixed, kCtVarMax,
      [&](uint16_t id, const uint8_t* v, size_t len) {
        const auto a = static_cast<SyncAttr>(id);
        f.Set(a);
        switch (a) {
          case kNtaIpv4:
          case kNtaIpv6: {
            const size_t alen = a == kNtaIpv4 ? 4 : 16;
            f.family = a == kNtaIpv4 ? AF_INET : AF_INET6;
            // One family per flow: the last tuple given wins.
            f.present &=
                ~(uint64_t{1} << (a == kNtaIpv4 ? kNtaIpv6 : kNtaIpv4));
            std::memset(f.src, 0, 16);
            std::memset(f.dst, 0, 16);
            std::memcpy(f.src, v, alen);
            std::memcpy(f.dst, v + alen, alen);
            break;
          }
          case kNtaL4proto:
            f.l4proto = v[0];
            break;
          case kNtaPort:
            f.sport = Get16(v);
            f.dport = Get16(v + 2);
            break;
          case kNtaTcpState:
          case kNtaSctpState:
          case kNtaDccpState:
            f.state = v[0];
            break;
          case kNtaStatus:
            f.status = Get32(v);
            break;
          case kNtaTimeout:
            f.timeout = Get32(v);
            break;
          case kNtaMark:
            f.mark = Get32(v);
            break;
          case kNtaMasterIpv4:
          case kNtaMasterIpv6: {
            const size_t alen = a == kNtaMasterIpv4 ? 4 : 16;
            std::memcpy(f.master_src, v, alen);
            std::memcpy(f.master_dst, v + alen, alen);
            break;
          }
          case kNtaMasterL4proto:
            f.master_l4proto = v[0];
            break;
          case kNtaMasterPort:
            f.master_sport = Get16(v);
            f.master_dport = Get16(v + 2);
            break;
          case kNtaSnatIpv4:
            std::memcpy(f.snat, v, 4);
            break;
          case kNtaDnatIpv4:
            std::memcpy(f.dnat, v, 4);
            break;
          case kNtaSnatIpv6:
            std::memcpy(f.snat, v, 16);
            break;
          case kNtaDnatIpv6:
            std::memcpy(f.dnat, v, 16);
            break;
          case kNtaSpatPort:
            f.spat = GetLe16(v);
            break;
          case kNtaDpatPort:
            f.dpat = GetLe16(v);
            break;
          case kNtaNatSeqAdj:
            for (int i = 0; i < 6; ++i) f.nat_seq[i] = Get32(v + 4 * i);
            break;
          case kNtaSctpVtagOrig:
            f.vtag_orig = Get32(v);
            break;
          case kNtaSctpVtagRepl:
            f.vtag_repl = Get32(v);
            break;
          case kNtaDccpRole:
            f.dccp_role = v[0];
            break;
          case kNtaIcmpType:
            f.icmp_type = v[0];
            break;
          case kNtaIcmpCode:
            f.icmp_code = v[0];
            break;
          case kNtaIcmpId:
            f.icmp_id = GetLe16(v);
            break;
          case kNtaTcpWscaleOrig:
            f.wscale_orig = v[0];
            break;
          case kNtaTcpWscaleRepl:
            f.wscale_repl = v[0];
            break;
          case kNtaHelperName:
            CopyString(v, len, f.helper, sizeof(f.helper));
            break;
          case kNtaLabels: {
            std::memset(f.labels, 0, sizeof(f.labels));
            bool any = false;
            for (size_t i = 0; i < len / 4 && i < SyncFlow::kLabelWords; ++i) {
              f.labels[i] = Get32(v + 4 * i);
              any = any || f.labels[i] != 0;
            }
            if (!any) f.present &= ~(uint64_t{1} << kNtaLabels);
            break;
          }
          case kNtaSynproxy:
            for (int i = 0; i < 3; ++i) f.synproxy[i] = Get32(v + 4 * i);
            break;
          case kNtaZone:
            f.zone = Get16(v);
            break;
          case kNtaMax:
            break;
        }
      });
}

// --- expectations ---------------------------------------------------------
namespace {

enum ExpAttr : uint8_t {
  kExpMasterIpv4 = 0,
  kExpMasterIpv6,
  kExpMasterL4proto,
  kExpMasterPort,
  kExpExpectIpv4,
  kExpExpectIpv6,
  kExpExpectL4proto,
  kExpExpectPort,
  kExpMaskIpv4,
  kExpMaskIpv6,
  kExpMaskL4proto,
  kExpMaskPort,
  kExpTimeout,
  kExpFlags,
  kExpClass,
  kExpNatIpv4,
  kExpNatPort,
  kExpNatL4proto,
  kExpNatDir,
  kExpHelperName,
  kExpFn,
};
constexpr uint8_t kExpFixed[kNtaExpMax] = {
    12, 36, 5, 8, 12, 36, 5, 8, 12, 36, 5, 8, 8, 8, 8, 12, 8, 5, 8, 0, 0};
constexpr uint16_t kExpVarMax[kNtaExpMax] = {0, 0, 0, 0, 0, 0, 0, 0, 0,  0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 0, 16, 32};

SyncTuple* TupleOf(SyncExpect* e, int group) {
  switch (group) {
    case 0:
      return &e->master;
    case 1:
      return &e->expected;
    case 2:
      return &e->mask;
    default:
      return &e->nat;
  }
}

}  // namespace

bool DecodeSyncExpect(const uint8_t* p, size_t n, SyncExpect* out) {
  SyncExpect e;
  bool ok = WalkAttrs(
      p, n, kNtaExpMax, kExpFixed, kExpVarMax,
      [&](uint16_t id, const uint8_t* v, size_t len) {
        e.present |= uint32_t{1} << id;
        if (id < kExpTimeout || (id >= kExpNatIpv4 && id <= kExpNatL4proto)) {
          // Tuple parts: groups of four (master, expected, mask), then NAT.
          int group = id < kExpTimeout ? id / 4 : 3;
          int part = id < kExpTimeout    ? id % 4
                     : id == kExpNatIpv4 ? 0
                     : id == kExpNatPort ? 3
                                         : 2;
          SyncTuple* t = TupleOf(&e, group);
          switch (part) {
            case 0:
            case 1: {
              const size_t alen = part == 0 ? 4 : 16;
              t->family = part == 0 ? AF_INET : AF_INET6;
              std::memcpy(t->src, v, alen);
              std::memcpy(t->dst, v + alen, alen);
              break;
            }
            case 2:
              t->l4proto = v[0];
              break;
            default:
              t->sport = Get16(v);
              t->dport = Get16(v + 2);
              break;
          }
          return;
        }
        switch (id) {
          case kExpTimeout:
            e.timeout = Get32(v);
            break;
          case kExpFlags:
            e.flags = Get32(v);
            break;
          case kExpClass:
            e.klass = Get32(v);
            break;
          case kExpNatDir:
            e.nat_dir = Get32(v);
            break;
          case kExpHelperName:
            CopyString(v, len, e.helper, sizeof(e.helper));
            break;
          case kExpFn:
            CopyString(v, len, e.fn, sizeof(e.fn));
            break;
          default:
            break;
        }
      });
  if (!ok) return false;
  *out = e;
  return true;
}

size_t EncodeSyncExpect(const SyncExpect& e, uint8_t type, uint32_t seq,
                        uint8_t flags, uint8_t* out) {
  AttrWriter w(out);
  auto has = [&](int id) { return e.present >> id & 1; };
  auto tuple = [&](int base, const SyncTuple& t) {
    if (has(base)) w.Tuple(static_cast<uint16_t>(base), t.src, t.dst, 4);
    if (has(base + 1))
      w.Tuple(static_cast<uint16_t>(base + 1), t.src, t.dst, 16);
    if (has(base + 2)) w.U8(static_cast<uint16_t>(base + 2), t.l4proto);
    if (has(base + 3))
      w.Ports(static_cast<uint16_t>(base + 3), t.sport, t.dport);
  };
  tuple(kExpMasterIpv4, e.master);
  tuple(kExpExpectIpv4, e.expected);
  tuple(kExpMaskIpv4, e.mask);
  if (has(kExpTimeout)) w.U32(kExpTimeout, e.timeout);
  if (has(kExpFlags)) w.U32(kExpFlags, e.flags);
  if (has(kExpClass)) w.U32(kExpClass, e.klass);
  if (has(kExpNatIpv4)) w.Tuple(kExpNatIpv4, e.nat.src, e.nat.dst, 4);
  if (has(kExpNatL4proto)) w.U8(kExpNatL4proto, e.nat.l4proto);
  if (has(kExpNatPort)) w.Ports(kExpNatPort, e.nat.sport, e.nat.dport);
  if (has(kExpNatDir)) w.U32(kExpNatDir, e.nat_dir);
  auto str = [&](int id, const char* s, size_t cap) {
    if (!has(id)) return;
    const size_t n = strnlen(s, cap - 1);
    const size_t keep = std::min(n, cap - 5);
    uint8_t* p = w.Put(static_cast<uint16_t>(id), keep + 1);
    std::memcpy(p, s, keep);
    p[keep] = '\0';
  };
  str(kExpHelperName, e.helper, sizeof(e.helper));
  str(kExpFn, e.fn, sizeof(e.fn));
  SyncHeader h;
  h.type = type;
  h.flags = flags;
  h.seq = seq;
  h.len = static_cast<uint16_t>(w.len());
  PutSyncHeader(h, out);
  return w.len();
}

}  // namespace ctcollect
