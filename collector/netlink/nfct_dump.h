// Streams the kernel's current conntrack table of one network namespace,
// flow by flow, through libnetfilter_conntrack. Nothing is held beyond the
// flow being handled: the kernel produces the dump as fast as the consumer
// (a slow HTTP or control-socket client) takes it, so a million flows stream
// in bounded memory.
//
// Thread safety: each call opens its own netlink handle; any thread.
#pragma once

#include <functional>
#include <system_error>

#include "collector/netlink/netns.h"

struct nf_conntrack;
struct nf_expect;

namespace ctcollect {

// Called per flow; return false to stop the dump (e.g. the client left).
using FlowSink = std::function<bool(nf_conntrack* ct)>;

// Dumps the conntrack table of `ns` (both families). Returns an error if the
// dump could not run; stopping early through the sink is not an error.
std::error_code DumpFlows(const NetnsHandle& ns, const FlowSink& sink);

// Called per expectation; return false to stop.
using ExpectSink = std::function<bool(nf_expect* exp)>;

// Dumps the expectation table of `ns` (what `conntrack -L expect` lists).
std::error_code DumpExpectations(const NetnsHandle& ns, const ExpectSink& sink);

// Deletes every conntrack entry of `ns` (what `conntrack -F` does).
std::error_code FlushFlows(const NetnsHandle& ns);

}  // namespace ctcollect
