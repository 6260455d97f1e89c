#include "collector/conntrack/expectation.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <cstring>

#include "collector/netlink/netlink_request.h"
#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {}  // namespace

std::optional<ExpMessage> ParseExpMessage(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) return std::nullopt;
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK_EXP) {
    return std::nullopt;
  }
  ExpMessage m;
  switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
    case IPCTNL_MSG_EXP_NEW:
      m.type = ExpMessage::Type::kNew;
      break;
    case IPCTNL_MSG_EXP_DELETE:
      m.type = ExpMessage::Type::kDestroy;
      break;
    default:
      return std::nullopt;
  }
  bool have_id = false;
  bool ok = ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    switch (AttrType(a)) {
      case CTA_EXPECT_ID:
        if (AttrPayloadLen(a) != 4) return false;
        m.id = ntohl(AttrU32(a));
        have_id = true;
        return true;
      case CTA_EXPECT_HELP_NAME: {
        size_t n = AttrPayloadLen(a);
        const char* p = static_cast<const char*>(AttrPayload(a));
        size_t len = 0;
        while (len < n && len < sizeof(m.helper) - 1 && p[len] != '\0') ++len;
        std::memcpy(m.helper, p, len);
        m.helper[len] = '\0';
        return true;
      }
      case CTA_EXPECT_ZONE:
        if (AttrPayloadLen(a) != 2) return false;
        m.zone = ntohs(AttrU16(a));
        return true;
      default:
        return true;
    }
  });
  if (!ok || !have_id) return std::nullopt;
  return m;
}

bool ParseExpStatsMessage(const nlmsghdr* nlh, ExpStats* out) {
  if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) return false;
  if (NFNL_MSG_TYPE(nlh->nlmsg_type) != IPCTNL_MSG_EXP_GET_STATS_CPU) {
    return false;
  }
  ExpStats one;
  bool ok = ForEachMsgAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    uint64_t* field = nullptr;
    switch (AttrType(a)) {
      case CTA_STATS_EXP_NEW:
        field = &one.matched;
        break;
      case CTA_STATS_EXP_CREATE:
        field = &one.created;
        break;
      case CTA_STATS_EXP_DELETE:
        field = &one.deleted;
        break;
      default:
        return true;
    }
    if (AttrPayloadLen(a) != 4) return false;
    *field = ntohl(AttrU32(a));
    return true;
  });
  if (!ok) return false;
  out->created += one.created;
  out->matched += one.matched;
  out->deleted += one.deleted;
  ++out->cpus;
  return true;
}

size_t BuildExpDump(void* buf, uint32_t seq) {
  return PutNfnlRequest(buf,
                        (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_EXP_GET,
                        NLM_F_DUMP, seq)
      ->nlmsg_len;
}

size_t BuildExpStatsCpuRequest(void* buf, uint32_t seq) {
  return PutNfnlRequest(
             buf,
             (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_EXP_GET_STATS_CPU,
             NLM_F_DUMP, seq)
      ->nlmsg_len;
}

void ExpectationTable::Apply(const ExpMessage& m, bool event) {
  MutexLock lock(&mu_);
  if (m.type == ExpMessage::Type::kNew) {
    auto [it, inserted] = live_.emplace(m.id, m.helper);
    if (inserted) {
      ++helpers_[it->second].current;
    } else if (it->second != m.helper) {
      --helpers_[it->second].current;
      it->second = m.helper;
      ++helpers_[it->second].current;
    }
    if (event) ++helpers_[m.helper].created;
    return;
  }
  if (event) ++helpers_[m.helper].destroyed;
  auto it = live_.find(m.id);
  if (it == live_.end()) return;
  --helpers_[it->second].current;
  live_.erase(it);
}

void ExpectationTable::ReplaceWith(const std::vector<ExpMessage>& dumped) {
  MutexLock lock(&mu_);
  live_.clear();
  for (auto& [name, c] : helpers_) c.current = 0;
  for (const auto& m : dumped) {
    if (live_.emplace(m.id, m.helper).second) ++helpers_[m.helper].current;
  }
}

std::map<std::string, ExpectationTable::HelperCounts> ExpectationTable::Read()
    const {
  MutexLock lock(&mu_);
  return helpers_;
}

size_t ExpectationTable::size() const {
  MutexLock lock(&mu_);
  return live_.size();
}

}  // namespace ctcollect
