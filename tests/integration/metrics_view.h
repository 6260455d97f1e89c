// The daemon's view of one namespace in the kernel's terms: its
// conntrack_entries gauges as EntryCounts, and a wait until they equal
// what `conntrack -L` says.
//
// Thread safety: test helpers, for one test thread.
#pragma once

#include <map>
#include <string>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {

// conntrack_entries{netns=`netns`} keyed like KernelEntries; zero-valued
// series are left out (the kernel lists no such flows). `netns` "" is the
// daemon's own namespace (the label is then empty, i.e. absent).
EntryCounts DaemonEntries(const std::map<std::string, double>& metrics,
                          const std::string& netns);

// Polls every 200 ms, up to `seconds`, until the daemon's gauges for
// `label` equal the kernel's entries in `ns`; the last two views in `got`
// and `want`.
bool WaitUntilEqualsKernel(const Daemon& d, const TestNetns& ns,
                           const std::string& label, double seconds,
                           EntryCounts* got, EntryCounts* want);

// A real TCP connection inside `ns`: starts `python3 -m http.server` there
// on `port` and GETs "/" from inside the namespace (up to 5 s). Returns the
// HTTP status (0 if none) and the body.
int RealHttpExchange(const TestNetns& ns, int port, std::string* body);

// How many flows `conntrack -L <filter>` lists in `ns`.
int64_t KernelListed(const TestNetns& ns, const std::string& filter);

// A real TCP connection on the namespace's loopback to `port`, held open
// for `hold` seconds in the background; returns once the kernel tracks it.
bool HoldTcpConnection(const TestNetns& ns, int port, double hold);

// A real UDP query to `port` on the namespace's loopback and its answer;
// returns once the kernel tracks the flow.
bool UdpExchange(const TestNetns& ns, int port);

// Injects flows with ctinject inside `ns`; its output (stdout and stderr).
CommandResult CtInject(const TestNetns& ns, const std::string& args);

}  // namespace ctcollect::itest
