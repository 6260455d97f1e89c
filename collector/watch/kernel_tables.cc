#include "collector/watch/kernel_tables.h"

#include <linux/netlink.h>

#include <utility>

#include "collector/base/log.h"
#include "collector/conntrack/kernel_stats.h"
#include "collector/netlink/netlink_request.h"

namespace ctcollect {

KernelTables::KernelTables(NetnsRef ns, std::string where)
    : ns_(std::move(ns)), where_(std::move(where)) {}

std::unique_ptr<NetlinkSocket> KernelTables::OpenSocket(
    std::error_code* ec) const {
  std::unique_ptr<NetlinkSocket> sock;
  {
    ScopedNetns in(*ns_);
    if (in.error()) {
      *ec = in.error();
      return nullptr;
    }
    sock = NetlinkSocket::Open(0, ec);
  }
  if (sock) {
    timeval tv{2, 0};
    setsockopt(sock->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  return sock;
}

std::shared_ptr<const PolicyQueryResult> KernelTables::policies() const {
  MutexLock lock(&mu_);
  return policies_;
}

std::shared_ptr<const PolicyQueryResult> KernelTables::RefreshPolicies() {
  auto result = std::make_shared<PolicyQueryResult>();
  std::error_code ec;
  if (auto sock = OpenSocket(&ec)) {
    // Inside the namespace: the sysctl fallback reads its /proc/sys/net.
    ScopedNetns in(*ns_);
    *result = QueryTimeoutPolicies(sock.get());
  } else {
    result->errors.push_back("cannot open a netlink socket: " + ec.message());
  }
  std::string errors;
  for (const auto& e : result->errors)
    errors += (errors.empty() ? "" : "; ") + e;
  if (errors != last_policy_errors_) {
    if (!errors.empty()) {
      Log(LogLevel::kWarn, where_ + ": timeout policies: " + errors);
    }
    last_policy_errors_ = errors;
  }
  MutexLock lock(&mu_);
  policies_ = result;
  return result;
}

bool KernelTables::RefreshExpectations() {
  alignas(nlmsghdr) uint8_t req[64];
  std::vector<ExpMessage> dumped;
  bool bad = false;
  std::error_code ec;
  if (auto sock = OpenSocket(&ec)) {
    BuildExpDump(req, sock->NextSeq());
    ec = NetlinkRequest(sock.get(), reinterpret_cast<nlmsghdr*>(req),
                        [&](const nlmsghdr* nlh) {
                          auto e = ParseExpMessage(nlh);
                          if (e) dumped.push_back(*e);
                          bad |= !e;
                          return true;  // skip what is not ours
                        });
  }
  if (ec) {
    expectations_up_.store(false);
    return !bad;
  }
  expectations_up_.store(true);
  expectations_.ReplaceWith(dumped);
  return !bad;
}

void KernelTables::RefreshUserspaceHelpers() {
  auto helpers = std::make_shared<std::vector<UserspaceHelper>>();
  std::error_code ec;
  if (auto sock = OpenSocket(&ec)) {
    ec = QueryUserspaceHelpers(sock.get(), helpers.get());
  }
  std::string error = ec ? ec.message() : "";
  if (error != last_cthelper_error_ && !error.empty()) {
    Log(LogLevel::kNotice,
        where_ +
            ": user-space helpers (nfnetlink_cthelper) unavailable: " + error +
            " (kernel without CONFIG_NF_CT_NETLINK_HELPER?); "
            "ctcollect_source_up{source=\"cthelper\"} is 0");
  }
  last_cthelper_error_ = error;
  MutexLock lock(&mu_);
  userspace_helpers_ = std::move(helpers);
  cthelper_error_ = error;
}

std::optional<size_t> KernelTables::KernelEntries() {
  KernelStats ks;
  std::error_code ec;
  auto sock = OpenSocket(&ec);
  if (!sock || QueryKernelStats(sock.get(), &ks) || !ks.entries) {
    return std::nullopt;
  }
  return static_cast<size_t>(*ks.entries);
}

void KernelTables::FillSnapshot(NetnsSnapshot* out, bool kernel_stats) const {
  {
    MutexLock lock(&mu_);
    if (policies_) {
      out->policies = policies_->policies;
      out->policy_errors = policies_->errors;
      out->policies_up = policies_->errors.empty();
    }
    if (userspace_helpers_) out->userspace_helpers = *userspace_helpers_;
    out->cthelper_up = userspace_helpers_ != nullptr && cthelper_error_.empty();
    out->cthelper_error = cthelper_error_;
  }
  out->expectations = expectations_.Read();
  out->expectations_up = expectations_up_.load();
  out->kernel = KernelStats{};
  out->exp_stats = ExpStats{};
  if (!kernel_stats) return;
  std::error_code ec;
  auto sock = OpenSocket(&ec);
  if (!sock) return;
  out->kernel_stats_up = !QueryKernelStats(sock.get(), &out->kernel);
  alignas(nlmsghdr) uint8_t req[64];
  BuildExpStatsCpuRequest(req, sock->NextSeq());
  out->exp_stats_up = !NetlinkRequest(
      sock.get(), reinterpret_cast<nlmsghdr*>(req), [&](const nlmsghdr* nlh) {
        return ParseExpStatsMessage(nlh, &out->exp_stats);
      });
}

}  // namespace ctcollect
