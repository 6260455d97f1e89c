// Timeout policies of a Snapshot as text: the format of `nfct timeout list`
// (libnetfilter_cttimeout's own printer), and JSON for /api/v1/policies and
// `ctcollect policies -o json`. Pure; thread-safe.
#pragma once

#include <string>

#include "collector/flows/snapshot.h"

namespace ctcollect {

// The policies of namespace `netns`, or only the one named `name` (""
// for all): cttimeout objects first, in the kernel's order (so the text
// begins with exactly what `nfct timeout list` prints), then nftables
// objects, then the defaults.
std::string PoliciesNfctText(const NetnsSnapshot& ns, const std::string& name);

// [{"netns":...,"policy":...,"source":"cttimeout","family":"ipv4",
//   "l3proto":2,"protocol":"tcp","l4proto":6,"timeouts":{"SYN_SENT":5,...}}]
// for every namespace of `s` (or only `netns` when not empty) and policy
// (or only `name`).
std::string PoliciesJson(const Snapshot& s, const std::string& netns,
                         const std::string& name);

}  // namespace ctcollect
