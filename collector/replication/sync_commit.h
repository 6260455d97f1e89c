// What the peers replicated, written into the local kernel table
// (conntrackd -c): after a failover the surviving firewall takes over the
// connections its peer had. Flows first, then the expectations whose
// masters they are.
//
// Thread safety: any thread; each call opens its own ctnetlink handles
// inside the namespace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/netlink/netns.h"
#include "collector/replication/sync_expect.h"
#include "collector/replication/sync_flow.h"

namespace ctcollect {

// One flow of a peer's external cache.
struct ExternalFlow {
  std::string peer;
  SyncFlow flow;
  int64_t created_unix;
  int64_t expires_in;  // ALARM: seconds until it expires; else -1
};

// One expectation of a peer's external cache.
struct ExternalExpect {
  std::string peer;
  SyncExpect expect;
  int64_t created_unix;
};

// Creates (or updates) every flow, then every expectation, in the kernel
// table of `ns`. Returns the report conntrackd's -c prints: how many were
// committed and failed, and the first failures.
std::string CommitExternal(const NetnsHandle& ns,
                           const std::vector<ExternalFlow>& flows,
                           const std::vector<ExternalExpect>& expects);

}  // namespace ctcollect
