// Expectations in replication (ExpectationSync): conversions between a
// libnetfilter_conntrack expectation and the flat SyncExpect the wire
// carries, as conntrackd's exp2msg and msg2exp do (master, expected and
// mask tuples, timeout, flags, class, NAT, helper, function).
// Pure; thread-safe.
#pragma once

#include "collector/replication/sync_wire.h"

struct nf_expect;

namespace ctcollect {

SyncExpect SyncExpectFromExpect(const nf_expect* exp, bool with_timeout);
// A new object (free it with nfexp_destroy), for dumps and commits.
nf_expect* SyncExpectToExpect(const SyncExpect& e);

}  // namespace ctcollect
