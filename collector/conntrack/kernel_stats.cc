#include "collector/conntrack/kernel_stats.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <vector>

#include "collector/netlink/netlink_request.h"
#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {

size_t BuildRequest(void* buf, uint32_t seq, uint8_t msg, uint16_t flags) {
  return PutNfnlRequest(buf, (NFNL_SUBSYS_CTNETLINK << 8) | msg, flags, seq)
      ->nlmsg_len;
}

// CTA_STATS_* attribute -> our index, -1 for the ones the kernel no longer
// fills.
int StatIndex(uint16_t type) {
  switch (type) {
    case CTA_STATS_FOUND:
      return static_cast<int>(KernelStat::kFound);
    case CTA_STATS_INVALID:
      return static_cast<int>(KernelStat::kInvalid);
    case CTA_STATS_INSERT:
      return static_cast<int>(KernelStat::kInsert);
    case CTA_STATS_INSERT_FAILED:
      return static_cast<int>(KernelStat::kInsertFailed);
    case CTA_STATS_DROP:
      return static_cast<int>(KernelStat::kDrop);
    case CTA_STATS_EARLY_DROP:
      return static_cast<int>(KernelStat::kEarlyDrop);
    case CTA_STATS_ERROR:
      return static_cast<int>(KernelStat::kError);
    case CTA_STATS_SEARCH_RESTART:
      return static_cast<int>(KernelStat::kSearchRestart);
    case CTA_STATS_CLASH_RESOLVE:
      return static_cast<int>(KernelStat::kClashResolve);
    case CTA_STATS_CHAIN_TOOLONG:
      return static_cast<int>(KernelStat::kChainTooLong);
    default:
      return -1;
  }
}

bool ParseOne(const nlmsghdr* nlh, KernelStats* out) {
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) return false;
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK) return false;
  const uint8_t msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
  if (msg == IPCTNL_MSG_CT_GET_STATS_CPU) {
    ++out->cpus;
    return ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
      int i = StatIndex(AttrType(a));
      if (i < 0) return true;
      if (AttrPayloadLen(a) != 4) return false;
      out->cpu_sum[i] += ntohl(AttrU32(a));
      return true;
    });
  }
  if (msg == IPCTNL_MSG_CT_GET_STATS) {
    return ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
      uint16_t t = AttrType(a);
      if (t != CTA_STATS_GLOBAL_ENTRIES && t != CTA_STATS_GLOBAL_MAX_ENTRIES) {
        return true;
      }
      if (AttrPayloadLen(a) != 4) return false;
      uint64_t v = ntohl(AttrU32(a));
      if (t == CTA_STATS_GLOBAL_ENTRIES) {
        out->entries = v;
      } else {
        out->max_entries = v;
      }
      return true;
    });
  }
  return false;
}

}  // namespace

std::string_view KernelStatName(KernelStat s) {
  static constexpr std::string_view kNames[kNumKernelStats] = {
      "found",         "invalid",     "insert", "insert_failed",
      "drop",          "early_drop",  "error",  "search_restart",
      "clash_resolve", "chaintoolong"};
  return kNames[static_cast<int>(s)];
}

size_t BuildStatsCpuRequest(void* buf, uint32_t seq) {
  return BuildRequest(buf, seq, IPCTNL_MSG_CT_GET_STATS_CPU, NLM_F_DUMP);
}

size_t BuildStatsRequest(void* buf, uint32_t seq) {
  return BuildRequest(buf, seq, IPCTNL_MSG_CT_GET_STATS, 0);
}

bool ParseStatsReply(const void* buf, size_t len, KernelStats* out,
                     bool* done) {
  bool ok = true;
  size_t seen = 0;
  ForEachMsg(buf, len, [&](const nlmsghdr* nlh) {
    seen += NLMSG_ALIGN(nlh->nlmsg_len);
    if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
      *done = true;
      return false;
    }
    ok = ParseOne(nlh, out);
    return ok;
  });
  // Bytes left over that do not form a whole message are malformed too.
  return ok && (*done || seen >= len);
}

std::error_code QueryKernelStats(NetlinkSocket* sock, KernelStats* out) {
  alignas(nlmsghdr) uint8_t req[256];
  auto parse = [&](const nlmsghdr* nlh) { return ParseOne(nlh, out); };
  BuildStatsCpuRequest(req, sock->NextSeq());
  if (auto ec = NetlinkRequest(sock, reinterpret_cast<nlmsghdr*>(req), parse)) {
    return ec;
  }
  BuildStatsRequest(req, sock->NextSeq());
  return NetlinkRequest(sock, reinterpret_cast<nlmsghdr*>(req), parse);
}

}  // namespace ctcollect
