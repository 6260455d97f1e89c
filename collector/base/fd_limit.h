// The daemon's open-files limit. A daemon that holds a socket per HTTP
// client and two per watched namespace needs more than the soft limit of
// 1024 many systems start it with; like Go's runtime (since 1.19), it
// raises the soft limit to the hard one at start.
//
// Thread safety: call once at start, before threads.
#pragma once

#include <cstdint>

namespace ctcollect {

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the soft
// limit in force afterwards.
uint64_t RaiseOpenFilesLimit();

}  // namespace ctcollect
