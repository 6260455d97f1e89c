// Streams the kernel's flows of the watched namespaces, filtered, in one of
// the flow formats, to any byte sink: the control socket (`ctcollect -i`,
// conntrackd's -i) and HTTP (/api/v1/flows) share it. Memory stays bounded:
// one flow is formatted at a time while the kernel dump advances only as
// fast as the sink takes the bytes.
//
// Thread safety: each call runs its own dumps; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/flows/flow_filter.h"
#include "collector/netlink/netns.h"

namespace ctcollect {

enum class FlowFormat {
  kJson,           // a JSON array, one object per line
  kXml,            // conntrack -L -o xml (header and footer included)
  kConntrackd,     // conntrackd -i lines
  kConntrackdXml,  // conntrackd -i -x lines (no header, no timeout)
};
std::optional<FlowFormat> ParseFlowFormat(const std::string& s);

// Returns false from the sink to stop (the client went away).
using ByteSink = std::function<bool(std::string_view)>;

// `daemon_start_unix` dates flows the kernel gives no start time for
// (conntrackd's "active since"). Returns the number of flows written.
int64_t StreamFlows(const std::vector<NetnsRef>& namespaces,
                    const FlowFilter& filter, FlowFormat format,
                    int64_t daemon_start_unix, const ByteSink& sink);

// Streams the expectations of the watched namespaces as `conntrack -L
// expect` prints them (plain lines), or its XML (`xml`, with the
// <expect> frame around them). Returns the number written.
int64_t StreamExpectations(const std::vector<NetnsRef>& namespaces,
                           const std::optional<std::string>& netns, bool xml,
                           const ByteSink& sink);

}  // namespace ctcollect
