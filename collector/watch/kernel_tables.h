// What a namespace's kernel has beside the flow table: the timeout
// policies, the user-space helpers and the expectation table (at every
// resync), and the kernel's statistics (at every scrape). Each use opens a
// request socket inside the namespace and closes it after, so an idle
// namespace holds no descriptor here. The dump's pool thread calls the
// Refresh methods before each dump; readers copy the results into
// snapshots.
//
// Thread safety: Refresh* and KernelEntries from one thread at a time (the
// dump's); ApplyExpectationEvent from the ingest thread; FillSnapshot from
// any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
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
  // `where` names the namespace in log lines.
  KernelTables(NetnsRef ns, std::string where);

  // Reads every timeout policy (logging a change in what is missing) and
  // returns them.
  std::shared_ptr<const PolicyQueryResult> RefreshPolicies() EXCLUDES(mu_);
  // The policies of the last refresh (null before the first).
  std::shared_ptr<const PolicyQueryResult> policies() const EXCLUDES(mu_);
  // Replaces the expectation set with a dump. Returns false if the dump
  // held malformed messages (dropped; the caller counts them).
  bool RefreshExpectations();
  // Reads the user-space helpers (nfnetlink_cthelper).
  void RefreshUserspaceHelpers() EXCLUDES(mu_);
  // The number of entries the kernel counts now (conntrack -C), or nullopt
  // if it does not say.
  std::optional<size_t> KernelEntries();
  // An expectation event of the event stream.
  void ApplyExpectationEvent(const ExpMessage& m) {
    expectations_.Apply(m, /*event=*/true);
  }

  // Policies, helpers, expectations, and (with `kernel_stats`) the
  // kernel's statistics asked for now.
  void FillSnapshot(NetnsSnapshot* out, bool kernel_stats) const EXCLUDES(mu_);

 private:
  // A request socket inside the namespace (2 s receive timeout), or null
  // with *ec set.
  std::unique_ptr<NetlinkSocket> OpenSocket(std::error_code* ec) const;

  const NetnsRef ns_;
  const std::string where_;

  mutable Mutex mu_;
  std::shared_ptr<const PolicyQueryResult> policies_ GUARDED_BY(mu_);
  std::shared_ptr<const std::vector<UserspaceHelper>> userspace_helpers_
      GUARDED_BY(mu_);
  std::string cthelper_error_ GUARDED_BY(mu_);

  std::string last_policy_errors_;   // Refresh* thread
  std::string last_cthelper_error_;  // Refresh* thread
  ExpectationTable expectations_;
  std::atomic<bool> expectations_up_{false};
};

}  // namespace ctcollect
