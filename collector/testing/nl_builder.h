// Builds ctnetlink messages with libmnl for tests and benchmarks, the way
// the kernel lays them out (CTA_TUPLE_ORIG first, nested protocol info).
// Not used by the daemon.
//
// Thread safety: test helpers, for one test thread.
#pragma once

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <cstdint>
#include <vector>

namespace ctcollect::testing {

struct CtSpec {
  uint8_t msg = IPCTNL_MSG_CT_NEW;
  uint16_t flags = NLM_F_CREATE | NLM_F_EXCL;  // 0 for an UPDATE
  uint8_t af = AF_INET;
  uint8_t l4proto = IPPROTO_TCP;
  uint32_t id = 1;
  int state = -1;         // -1: no CTA_PROTOINFO
  int zone = -1;          // -1: no CTA_ZONE
  uint32_t status = 0x8;  // IPS_CONFIRMED
  uint32_t timeout = 120;
  uint32_t mark = 0;
  uint32_t seq = 0;
  uint16_t sport = 1000;  // the original direction's source port
  bool counters = false;
  uint64_t bytes[2] = {0, 0};
  uint64_t packets[2] = {0, 0};
};

// Appends one message to buf (which grows as needed); returns its offset.
inline size_t AppendCt(std::vector<uint8_t>* buf, const CtSpec& s) {
  size_t off = buf->size();
  buf->resize(off + 1024);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf->data() + off);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | s.msg;
  nlh->nlmsg_flags = s.flags;
  nlh->nlmsg_seq = s.seq;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = s.af;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  for (int dir = 0; dir < 2; ++dir) {
    nlattr* t =
        mnl_attr_nest_start(nlh, dir == 0 ? CTA_TUPLE_ORIG : CTA_TUPLE_REPLY);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    if (s.af == AF_INET) {
      mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(0xc6120001 + dir));
      mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(0xc6120002 - dir));
    } else {
      uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
      a[15] = static_cast<uint8_t>(1 + dir);
      mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, a);
      a[15] = static_cast<uint8_t>(2 - dir);
      mnl_attr_put(nlh, CTA_IP_V6_DST, 16, a);
    }
    mnl_attr_nest_end(nlh, ip);
    nlattr* p = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, s.l4proto);
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(dir == 0 ? s.sport : 80));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dir == 0 ? 80 : s.sport));
    mnl_attr_nest_end(nlh, p);
    mnl_attr_nest_end(nlh, t);
  }
  if (s.state >= 0) {
    nlattr* pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
    uint16_t type = CTA_PROTOINFO_TCP, st = CTA_PROTOINFO_TCP_STATE;
    if (s.l4proto == IPPROTO_SCTP) {
      type = CTA_PROTOINFO_SCTP;
      st = CTA_PROTOINFO_SCTP_STATE;
    } else if (s.l4proto == IPPROTO_DCCP) {
      type = CTA_PROTOINFO_DCCP;
      st = CTA_PROTOINFO_DCCP_STATE;
    }
    nlattr* n = mnl_attr_nest_start(nlh, type);
    mnl_attr_put_u8(nlh, st, static_cast<uint8_t>(s.state));
    mnl_attr_nest_end(nlh, n);
    mnl_attr_nest_end(nlh, pi);
  }
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(s.status));
  mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(s.timeout));
  if (s.mark) mnl_attr_put_u32(nlh, CTA_MARK, htonl(s.mark));
  if (s.zone >= 0)
    mnl_attr_put_u16(nlh, CTA_ZONE, htons(static_cast<uint16_t>(s.zone)));
  if (s.counters) {
    for (int dir = 0; dir < 2; ++dir) {
      nlattr* c = mnl_attr_nest_start(
          nlh, dir == 0 ? CTA_COUNTERS_ORIG : CTA_COUNTERS_REPLY);
      mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(s.packets[dir]));
      mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(s.bytes[dir]));
      mnl_attr_nest_end(nlh, c);
    }
  }
  mnl_attr_put_u32(nlh, CTA_ID, htonl(s.id));
  buf->resize(off + NLMSG_ALIGN(nlh->nlmsg_len));
  return off;
}

inline const nlmsghdr* MsgAt(const std::vector<uint8_t>& buf, size_t off) {
  return reinterpret_cast<const nlmsghdr*>(buf.data() + off);
}

}  // namespace ctcollect::testing
