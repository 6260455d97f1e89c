#include "collector/conntrack/userspace_helper.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cthelper.h>

#include <cstring>

#include "collector/netlink/netlink_request.h"
#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {

bool AttrName(const nlattr* a, std::string* out) {
  size_t n = AttrPayloadLen(a);
  const char* p = static_cast<const char*>(AttrPayload(a));
  size_t len = strnlen(p, n);
  if (len == 0 || len > 32) return false;  // NF_CT_HELPER_NAME_LEN is 16
  out->assign(p, len);
  return true;
}

bool U32(const nlattr* a, uint32_t* out) {
  if (AttrPayloadLen(a) != 4) return false;
  *out = ntohl(AttrU32(a));
  return true;
}

bool ParsePolicy(const nlattr* set, UserspaceHelper::Policy* p) {
  bool named = false;
  bool ok = ForEachNested(set, [&](const nlattr* a) {
    switch (AttrType(a)) {
      case NFCTH_POLICY_NAME:
        named = true;
        return AttrName(a, &p->name);
      case NFCTH_POLICY_EXPECT_MAX:
        return U32(a, &p->expect_max);
      case NFCTH_POLICY_EXPECT_TIMEOUT:
        return U32(a, &p->expect_timeout);
      default:
        return true;
    }
  });
  return ok && named;
}

}  // namespace

std::optional<UserspaceHelper> ParseCthelperMessage(const nlmsghdr* nlh,
                                                    std::string* error) {
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg) ||
      NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTHELPER ||
      NFNL_MSG_TYPE(nlh->nlmsg_type) != NFNL_MSG_CTHELPER_NEW) {
    *error = "not a cthelper message";
    return std::nullopt;
  }
  UserspaceHelper h;
  bool have_tuple = false;
  uint32_t declared = 0;
  bool ok = ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    switch (AttrType(a)) {
      case NFCTH_NAME:
        return AttrName(a, &h.name);
      case NFCTH_TUPLE:
        have_tuple = true;
        return ForEachNested(a, [&](const nlattr* t) {
          switch (AttrType(t)) {
            case NFCTH_TUPLE_L3PROTONUM:
              if (AttrPayloadLen(t) != 2) return false;
              h.l3proto = ntohs(AttrU16(t));
              return true;
            case NFCTH_TUPLE_L4PROTONUM:
              if (AttrPayloadLen(t) < 1) return false;
              h.l4proto = AttrU8(t);
              return true;
            default:
              return true;
          }
        });
      case NFCTH_QUEUE_NUM:
        return U32(a, &h.queue);
      case NFCTH_STATUS: {
        uint32_t s = 0;
        if (!U32(a, &s)) return false;
        h.enabled = s == NFCT_HELPER_STATUS_ENABLED;
        return true;
      }
      case NFCTH_POLICY:
        return ForEachNested(a, [&](const nlattr* p) {
          if (AttrType(p) == NFCTH_POLICY_SET_NUM) return U32(p, &declared);
          if (AttrType(p) < NFCTH_POLICY_SET1 ||
              AttrType(p) > NFCTH_POLICY_SET_MAX) {
            return true;
          }
          UserspaceHelper::Policy pol;
          if (!ParsePolicy(p, &pol)) return false;
          h.policies.push_back(std::move(pol));
          return true;
        });
      default:
        return true;
    }
  });
  if (!ok || h.name.empty() || !have_tuple || declared != h.policies.size()) {
    *error = "malformed cthelper message";
    return std::nullopt;
  }
  return h;
}

size_t BuildCthelperDump(void* buf, uint32_t seq) {
  return PutNfnlRequest(buf,
                        (NFNL_SUBSYS_CTHELPER << 8) | NFNL_MSG_CTHELPER_GET,
                        NLM_F_DUMP, seq)
      ->nlmsg_len;
}

std::error_code QueryUserspaceHelpers(NetlinkSocket* sock,
                                      std::vector<UserspaceHelper>* out) {
  alignas(nlmsghdr) uint8_t req[64];
  BuildCthelperDump(req, sock->NextSeq());
  std::string why;
  return NetlinkRequest(sock, reinterpret_cast<nlmsghdr*>(req),
                        [&](const nlmsghdr* nlh) {
                          auto h = ParseCthelperMessage(nlh, &why);
                          if (h) out->push_back(std::move(*h));
                          return h.has_value();
                        });
}

}  // namespace ctcollect
