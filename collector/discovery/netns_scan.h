// One scan of the network namespaces that exist on the host, found by
// (device, inode): every /proc/PID/ns/net, every nsfs bind mount of a net
// namespace in mountinfo, and every entry of directories like /run/netns
// (the names `ip netns` gives). Discovery runs it periodically and diffs the
// results; this file only looks, it opens no namespace.
//
// Paths are parameters so tests point it at fixture trees. Races with the
// host are normal: a process that exits between readdir and stat is
// skipped and counted, not an error.
//
// Thread-safe (no shared state); blocking file-system I/O, so not on an
// ingest thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "collector/discovery/oci_bundle.h"

namespace ctcollect {

inline constexpr size_t kMaxMountinfoBytes = 16 << 20;

struct NetnsScanPaths {
  std::string proc_root = "/proc";
  std::string mountinfo = "/proc/self/mountinfo";  // "" skips mountinfo
  // In order of preference for the name: the first directory that holds
  // an entry for a namespace names it.
  std::vector<std::string> name_dirs = {"/run/netns"};
};

struct DiscoveredNetns {
  dev_t dev = 0;
  uint64_t inode = 0;
  // The entry naming it in the first name_dirs directory that has one (the
  // smallest name there if several); "" if none.
  std::string name;
  pid_t lowest_pid = 0;                  // 0: no process of proc_root is in it
  std::vector<std::string> mount_paths;  // nsfs mounts of it, sorted
};

struct NetnsScanStats {
  size_t pids_seen = 0;             // numeric entries of proc_root
  size_t pids_vanished = 0;         // exited between readdir and stat
  size_t pids_unreadable = 0;       // stat failed otherwise (e.g. EACCES)
  size_t mountinfo_skipped = 0;     // malformed or overlong lines
  size_t name_entries_skipped = 0;  // not an nsfs file, or stat failed
};

struct NetnsScan {
  std::vector<DiscoveredNetns> namespaces;  // sorted by (dev, inode)
  NetnsScanStats stats;
  // The first failure to read proc_root, mountinfo or a name directory
  // (a missing name directory is not one); the scan still holds what the
  // rest gave.
  std::error_code error;
  std::string error_path;
};

NetnsScan ScanNetns(const NetnsScanPaths& paths);

// The `netns` label the issue defines: the name if the namespace has one;
// else "POD_NAMESPACE/POD_NAME" when `pod` names it; else "inode:N".
std::string NetnsLabel(const DiscoveredNetns& ns, const PodInfo* pod);

}  // namespace ctcollect
