#include "collector/replication/sync_commit.h"

#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <cstring>

#include "collector/base/log.h"

namespace ctcollect {

std::string CommitExternal(const NetnsHandle& ns,
                           const std::vector<ExternalFlow>& flows,
                           const std::vector<ExternalExpect>& expects) {
  int64_t ok = 0, failed = 0;
  std::string failures;
  {
    ScopedNetns in(ns);
    nfct_handle* h = in.error() ? nullptr : nfct_open(CONNTRACK, 0);
    if (h == nullptr) return "commit failed: cannot open ctnetlink\n";
    for (const auto& x : flows) {
      nf_conntrack* ct = SyncFlowToConntrack(x.flow);
      if (ct == nullptr) {
        ++failed;
        continue;
      }
      nfct_setobjopt(ct, NFCT_SOPT_SETUP_REPLY);
      // The kernel sets the bits it owns (confirmed, NAT done...) itself
      // and refuses to be told them.
      const uint32_t status = x.flow.status & (IPS_ASSURED | IPS_SEEN_REPLY);
      nfct_set_attr_u32(ct, ATTR_STATUS, status);
      if (!x.flow.Has(kNtaTimeout) || x.flow.timeout == 0) {
        nfct_set_attr_u32(ct, ATTR_TIMEOUT, 180);
      }
      int r = nfct_query(h, NFCT_Q_CREATE, ct);
      if (r < 0 && errno == EEXIST) r = nfct_query(h, NFCT_Q_UPDATE, ct);
      if (r < 0) {
        if (++failed <= 10) {
          char line[512];
          nfct_snprintf(line, sizeof(line), ct, NFCT_T_UNKNOWN, NFCT_O_PLAIN,
                        0);
          failures +=
              "failed: " + std::string(line) + ": " + strerror(errno) + "\n";
        }
      } else {
        ++ok;
      }
      nfct_destroy(ct);
    }
    nfct_close(h);
  }
  // Then the expectations, whose masters are in the table now.
  int64_t exp_ok = 0, exp_failed = 0;
  if (!expects.empty()) {
    ScopedNetns in(ns);
    nfct_handle* h = in.error() ? nullptr : nfct_open(EXPECT, 0);
    for (const auto& x : expects) {
      nf_expect* exp = h ? SyncExpectToExpect(x.expect) : nullptr;
      if (exp == nullptr) {
        ++exp_failed;
        continue;
      }
      if (nfexp_attr_is_set(exp, ATTR_EXP_TIMEOUT) <= 0) {
        nfexp_set_attr_u32(exp, ATTR_EXP_TIMEOUT, 180);
      }
      if (nfexp_query(h, NFCT_Q_CREATE, exp) < 0 && errno != EEXIST) {
        ++exp_failed;
      } else {
        ++exp_ok;
      }
      nfexp_destroy(exp);
    }
    if (h) nfct_close(h);
  }
  if (!expects.empty()) {
    failures += "committed " + std::to_string(exp_ok) + " expectations, " +
                std::to_string(exp_failed) + " failed\n";
  }
  Log(LogLevel::kNotice, "sync: committed " + std::to_string(ok) +
                             " external flows, " + std::to_string(failed) +
                             " failed");
  return "committed " + std::to_string(ok) + " flows, " +
         std::to_string(failed) + " failed\n" + failures;
}

}  // namespace ctcollect
