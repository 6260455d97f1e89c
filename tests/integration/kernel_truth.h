// What the kernel says, through the conntrack tool in a namespace: entries
// counted per (family, protocol, state, zone) as `conntrack -L` lists them,
// `conntrack -C`, and `conntrack -S` summed over CPUs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "tests/integration/test_netns.h"

namespace ctcollect::itest {

// family, protocol (our label: tcp ... generic), state ("" if none), zone
using EntryKey = std::tuple<std::string, std::string, std::string, std::string>;
using EntryCounts = std::map<EntryKey, int64_t>;

// Parses `conntrack -L -f FAMILY` output lines.
EntryCounts ParseConntrackList(const std::string& family, const std::string& text);

EntryCounts KernelEntries(const TestNetns& ns);
int64_t KernelCount(const TestNetns& ns);
std::map<std::string, int64_t> KernelStatsSum(const TestNetns& ns);

}  // namespace ctcollect::itest
