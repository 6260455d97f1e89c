#include "collector/kernel_stats.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <sys/socket.h>

#include <vector>

#include "collector/netlink_socket.h"
#include "collector/nl_attr.h"

namespace ctcollect {
namespace {

size_t BuildRequest(void* buf, uint32_t seq, uint8_t msg, uint16_t flags) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = seq;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh->nlmsg_len;
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

namespace {

std::error_code RoundTrip(NetlinkSocket* sock, size_t (*build)(void*, uint32_t),
                          bool dump, KernelStats* out) {
  std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  static thread_local uint32_t seq = 1;
  size_t len = build(buf.data(), ++seq);
  if (auto ec = sock->Send(buf.data(), len)) return ec;
  for (;;) {
    pollfd p{sock->fd(), POLLIN, 0};
    int r = poll(&p, 1, 2000);
    if (r == 0) return std::make_error_code(std::errc::timed_out);
    if (r < 0) return std::error_code(errno, std::generic_category());
    std::error_code ec;
    ssize_t n = sock->Receive(buf.data(), buf.size(), &ec);
    if (n < 0) return ec;
    if (n == 0) continue;
    bool done = false;
    if (!ParseStatsReply(buf.data(), static_cast<size_t>(n), out, &done)) {
      return std::make_error_code(std::errc::bad_message);
    }
    // GET_STATS answers with one message and no NLMSG_DONE.
    if (done || !dump) return {};
  }
}

}  // namespace

std::error_code QueryKernelStats(NetlinkSocket* sock, KernelStats* out) {
  if (auto ec = RoundTrip(sock, BuildStatsCpuRequest, true, out)) return ec;
  return RoundTrip(sock, BuildStatsRequest, false, out);
}

}  // namespace ctcollect
