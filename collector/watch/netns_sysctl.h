// The per-namespace conntrack sysctls a watcher cares about, read and set
// from inside the namespace (the caller has entered it: /proc/sys/net shows
// the reader's namespace): whether the kernel sends events for every flow,
// and flow accounting and timestamps.
//
// Thread safety: any thread that is inside the namespace (ScopedNetns).
#pragma once

#include <string>

namespace ctcollect {

// Logs what nf_conntrack_events means for the figures when it is 0 or 2.
// `where` names the namespace in log lines; `quiet` logs the note about 2
// (every namespace's default) at debug level only: a discovered namespace
// would repeat it for each of hundreds of pods.
void WarnAboutEventSysctl(const std::string& where, bool quiet);

// Sets nf_conntrack_acct and nf_conntrack_timestamp to 1 (logged): flow
// bytes, packets and durations come from them. Only flows created from now
// on are accounted.
void EnableAccounting(const std::string& where);

}  // namespace ctcollect
