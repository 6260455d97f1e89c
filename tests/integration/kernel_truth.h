// What the kernel says, through the conntrack tool in a namespace: entries
// counted per (family, protocol, state, zone) as `conntrack -L` lists them,
// `conntrack -C`, `conntrack -S` summed over CPUs, and nf_conntrack_max.
//
// Thread safety: test helpers, for one test thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "tests/integration/test_netns.h"

namespace ctcollect::itest {

// family, protocol (our label: tcp ... generic), state ("" if none), zone
// (decimal, "0" if none).
using EntryKey = std::tuple<std::string, std::string, std::string, std::string>;
using EntryCounts = std::map<EntryKey, int64_t>;

// Parses the lines of `conntrack -L -f FAMILY` (stdout only), e.g.
//   tcp      6 431999 ESTABLISHED src=... [ASSURED] mark=0 zone=3 use=1
//   udp      17 29 src=198.18.0.1 ... mark=0 use=1
//   unknown  250 599 src=...
// A protocol the collector has no label for ("unknown") counts as generic.
EntryCounts ParseConntrackList(const std::string& family,
                               const std::string& text);

// "ipv4/tcp/ESTABLISHED/zone0=3 ..." for failure messages.
std::string Describe(const EntryCounts& c);

// `conntrack -L -f ipv4` and `-f ipv6` in `ns`, counted.
EntryCounts KernelEntries(const TestNetns& ns);
// `conntrack -C` in `ns`; -1 if it failed.
int64_t KernelCount(const TestNetns& ns);
// `conntrack -S` in `ns`, each field summed over the CPUs (no "cpu").
std::map<std::string, int64_t> KernelStatsSum(const TestNetns& ns);
// Parses `conntrack -S` output.
std::map<std::string, int64_t> ParseConntrackStats(const std::string& text);
// How many flows carry each conntrack id (`conntrack -L -o id`, both
// families). Ids are 32-bit hashes: two live flows can share one.
std::map<uint32_t, int> KernelIds(const TestNetns& ns);
// net.netfilter.nf_conntrack_max as `ns` sees it; -1 if unreadable.
int64_t KernelLimit(const TestNetns& ns);

}  // namespace ctcollect::itest
