// What a namespace's kernel has beside the flow table, read over one
// request socket of its own: the timeout policies, the user-space helpers
// and the expectation table (at every resync), and the kernel's statistics
// (at every scrape). The watcher's ingest loop calls the Refresh methods;
// readers copy the results into snapshots.
//
// Thread safety: Refresh*, KernelEntries and ApplyExpectationEvent from the
// ingest thread only; FillSnapshot from any thread. The socket is shared by
// the two sides under sock_mu_.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "collector/base/mutex.h"
#include "collector/conntrack/expectation.h"
#include "collector/conntrack/timeout_policy.h"
#include "collector/conntrack/userspace_helper.h"
#include "collector/flows/snapshot.h"
#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/netns.h"

namespace ctcollect {

class KernelTables {
 public:
  // `sock` is a request socket opened inside `ns`; `where` names the
  // namespace in log lines.
  KernelTables(NetnsRef ns, std::string where,
               std::unique_ptr<NetlinkSocket> sock);

  // Reads every timeout policy (logging a change in what is missing) and
  // returns them.
  std::shared_ptr<const PolicyQueryResult> RefreshPolicies()
      EXCLUDES(sock_mu_, mu_);
  // Replaces the expectation set with a dump. Returns false if the dump
  // held malformed messages (dropped; the caller counts them).
  bool RefreshExpectations() EXCLUDES(sock_mu_);
  // Reads the user-space helpers (nfnetlink_cthelper).
  void RefreshUserspaceHelpers() EXCLUDES(sock_mu_, mu_);
  // The number of entries the kernel counts now, or 0 if it does not say.
  size_t KernelEntries() EXCLUDES(sock_mu_);
  // An expectation event of the event stream.
  void ApplyExpectationEvent(const ExpMessage& m) {
    expectations_.Apply(m, /*event=*/true);
  }

  // Policies, helpers, expectations, and the kernel's statistics asked for
  // now.
  void FillSnapshot(NetnsSnapshot* out) const EXCLUDES(sock_mu_, mu_);

 private:
  const NetnsRef ns_;
  const std::string where_;

  mutable Mutex sock_mu_;
  const std::unique_ptr<NetlinkSocket> sock_ PT_GUARDED_BY(sock_mu_);

  mutable Mutex mu_;
  std::shared_ptr<const PolicyQueryResult> policies_ GUARDED_BY(mu_);
  std::shared_ptr<const std::vector<UserspaceHelper>> userspace_helpers_
      GUARDED_BY(mu_);
  std::string cthelper_error_ GUARDED_BY(mu_);

  std::string last_policy_errors_;   // ingest thread
  std::string last_cthelper_error_;  // ingest thread
  ExpectationTable expectations_;
  std::atomic<bool> expectations_up_{false};
};

}  // namespace ctcollect
