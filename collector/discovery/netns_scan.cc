#include "collector/discovery/netns_scan.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <memory>
#include <utility>

#include "collector/discovery/bounded_file.h"
#include "collector/discovery/mountinfo.h"

namespace ctcollect {
namespace {

// statfs(2)'s f_type for nsfs (linux/magic.h NSFS_MAGIC).
constexpr long kNsfsMagic = 0x6e736673;

using Key = std::pair<dev_t, uint64_t>;
using Found = std::map<Key, DiscoveredNetns>;

DiscoveredNetns& At(Found* found, dev_t dev, uint64_t inode) {
  DiscoveredNetns& ns = (*found)[{dev, inode}];
  ns.dev = dev;
  ns.inode = inode;
  return ns;
}

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using Dir = std::unique_ptr<DIR, DirCloser>;

void NoteError(NetnsScan* scan, int err, const std::string& path) {
  if (scan->error) return;
  scan->error = {err, std::system_category()};
  scan->error_path = path;
}

std::optional<pid_t> ParsePid(const char* name) {
  std::string_view s(name);
  int32_t pid = 0;
  if (s.empty() || s.size() > 10) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), pid, 10);
  if (ec != std::errc() || p != s.data() + s.size() || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

void ScanProcs(const std::string& proc_root, NetnsScan* scan, Found* found) {
  Dir dir(opendir(proc_root.c_str()));
  if (!dir) {
    NoteError(scan, errno, proc_root);
    return;
  }
  while (dirent* e = readdir(dir.get())) {
    auto pid = ParsePid(e->d_name);
    if (!pid) continue;
    ++scan->stats.pids_seen;
    std::string path = proc_root + "/" + e->d_name + "/ns/net";
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      // ESRCH/ENOENT: the process exited meanwhile; the kernel may also say
      // EACCES for a process gone half-way (zombie).
      if (errno == ENOENT || errno == ESRCH) {
        ++scan->stats.pids_vanished;
      } else {
        ++scan->stats.pids_unreadable;
      }
      continue;
    }
    DiscoveredNetns& ns = At(found, st.st_dev, st.st_ino);
    if (ns.lowest_pid == 0 || *pid < ns.lowest_pid) ns.lowest_pid = *pid;
  }
}

void ScanMountinfo(const std::string& path, NetnsScan* scan, Found* found) {
  std::string text;
  std::error_code ec = ReadFileBounded(path, kMaxMountinfoBytes, &text);
  if (ec) {
    NoteError(scan, ec.value(), path);
    // A capped text is still worth parsing; a cut last line is skipped.
    if (ec != std::errc::file_too_large) return;
  }
  MountinfoNetns parsed = ParseMountinfoNetns(text);
  scan->stats.mountinfo_skipped += parsed.skipped_lines;
  for (NsfsMount& m : parsed.mounts) {
    At(found, m.dev, m.inode).mount_paths.push_back(std::move(m.mount_point));
  }
}

void ScanNameDir(const std::string& dir_path, NetnsScan* scan, Found* found,
                 std::map<Key, std::string>* names) {
  Dir dir(opendir(dir_path.c_str()));
  if (!dir) {
    if (errno != ENOENT) NoteError(scan, errno, dir_path);
    return;
  }
  std::map<Key, std::string> here;
  while (dirent* e = readdir(dir.get())) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    std::string path = dir_path + "/" + e->d_name;
    // An entry whose namespace is gone (or never mounted) is a plain
    // file of the directory's file system: not a namespace.
    struct statfs sfs {};
    struct stat st {};
    if (statfs(path.c_str(), &sfs) != 0 ||
        static_cast<long>(sfs.f_type) != kNsfsMagic ||
        stat(path.c_str(), &st) != 0) {
      ++scan->stats.name_entries_skipped;
      continue;
    }
    Key key{st.st_dev, st.st_ino};
    At(found, key.first, key.second);
    auto [it, inserted] = here.emplace(key, name);
    if (!inserted && name < it->second) it->second = name;
  }
  for (auto& [key, name] : here) names->emplace(key, std::move(name));
}

}  // namespace

NetnsScan ScanNetns(const NetnsScanPaths& paths) {
  NetnsScan scan;
  Found found;
  ScanProcs(paths.proc_root, &scan, &found);
  if (!paths.mountinfo.empty()) ScanMountinfo(paths.mountinfo, &scan, &found);
  std::map<Key, std::string> names;  // emplace: the first directory wins
  for (const std::string& dir : paths.name_dirs) {
    ScanNameDir(dir, &scan, &found, &names);
  }
  scan.namespaces.reserve(found.size());
  for (auto& [key, ns] : found) {
    auto name = names.find(key);
    if (name != names.end()) ns.name = name->second;
    std::sort(ns.mount_paths.begin(), ns.mount_paths.end());
    ns.mount_paths.erase(
        std::unique(ns.mount_paths.begin(), ns.mount_paths.end()),
        ns.mount_paths.end());
    scan.namespaces.push_back(std::move(ns));
  }
  return scan;
}

std::string NetnsLabel(const DiscoveredNetns& ns, const PodInfo* pod) {
  if (!ns.name.empty()) return ns.name;
  if (pod != nullptr && !pod->name.empty()) {
    return pod->pod_namespace + "/" + pod->name;
  }
  return "inode:" + std::to_string(ns.inode);
}

}  // namespace ctcollect
