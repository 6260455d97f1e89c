#include "collector/discovery/pod_index.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>
#include <set>

#include "collector/discovery/bounded_file.h"

namespace ctcollect {
namespace {

// statfs(2)'s f_type for nsfs (linux/magic.h NSFS_MAGIC).
constexpr long kNsfsMagic = 0x6e736673;

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using Dir = std::unique_ptr<DIR, DirCloser>;

struct Bundle {
  std::string dir;
  std::string config_path;
  std::string pid_path;
  size_t root = 0;  // index into the roots
  struct stat config_st {};
};

// Sorted entry names of `path` that may be directories, without dot
// names (containerd renames a bundle to ".<id>" while deleting it).
// False with *err set if it cannot be opened.
bool ListDir(const std::string& path, std::vector<std::string>* names,
             int* err) {
  Dir dir(opendir(path.c_str()));
  if (!dir) {
    *err = errno;
    return false;
  }
  while (dirent* e = readdir(dir.get())) {
    if (e->d_name[0] == '.') continue;
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    names->emplace_back(e->d_name);
  }
  std::sort(names->begin(), names->end());
  return true;
}

bool StatRegular(const std::string& path, struct stat* st) {
  return stat(path.c_str(), st) == 0 && S_ISREG(st->st_mode);
}

// The bundles under one root. Each entry E of the root is a CRI-O
// container (E/userdata/config.json), a bundle itself (E/config.json: the
// root was a containerd namespace directory) or a containerd namespace
// whose entries are bundles.
void ListBundles(const std::string& root, size_t root_index,
                 RuntimeDirStatus* status, PodIndexStats* stats,
                 std::vector<Bundle>* out) {
  std::vector<std::string> entries;
  int err = 0;
  if (!ListDir(root, &entries, &err)) {
    if (err != ENOENT) status->error = {err, std::system_category()};
    return;
  }
  status->found = true;
  auto add = [&](std::string dir, const char* pid_file, const struct stat& st) {
    ++status->bundles;
    ++stats->bundles_seen;
    if (out->size() >= kMaxPodIndexBundles) {
      ++stats->bundles_over_limit;
      return;
    }
    Bundle b;
    b.config_path = dir + "/config.json";
    b.pid_path = dir + "/" + pid_file;
    b.dir = std::move(dir);
    b.root = root_index;
    b.config_st = st;
    out->push_back(std::move(b));
  };
  for (const std::string& e : entries) {
    std::string path = root + "/" + e;
    struct stat st {};
    if (StatRegular(path + "/userdata/config.json", &st)) {
      add(path + "/userdata", "pidfile", st);
      continue;
    }
    if (StatRegular(path + "/config.json", &st)) {
      add(path, "init.pid", st);
      continue;
    }
    std::vector<std::string> ids;
    if (!ListDir(path, &ids, &err)) continue;  // a file, or gone meanwhile
    for (const std::string& id : ids) {
      std::string dir = path + "/" + id;
      if (StatRegular(dir + "/config.json", &st)) add(dir, "init.pid", st);
    }
  }
}

// (dev, inode) of the nsfs file at `path` (following links, as /proc's
// ns/net is one); errno otherwise, EINVAL when it is not nsfs.
std::optional<NetnsKey> StatNsfs(const std::string& path, int* err) {
  struct statfs sfs {};
  struct stat st {};
  if (statfs(path.c_str(), &sfs) != 0 || stat(path.c_str(), &st) != 0) {
    *err = errno;
    return std::nullopt;
  }
  if (static_cast<long>(sfs.f_type) != kNsfsMagic) {
    *err = EINVAL;
    return std::nullopt;
  }
  return NetnsKey{st.st_dev, static_cast<uint64_t>(st.st_ino)};
}

int64_t Nanos(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// How much a claim is worth: the lower rank wins, then the higher
// confidence.
enum Rank { kSandbox = 0, kUntyped = 1, kAppContainer = 2 };

Rank RankOf(const PodInfo& pod) {
  if (pod.is_sandbox()) return kSandbox;
  if (pod.container_type.empty()) return kUntyped;
  return kAppContainer;
}

// Who the pod is, to tell a second claim of the same pod from a conflict.
std::string PodIdentity(const PodInfo& pod) {
  if (!pod.uid.empty()) return "uid:" + pod.uid;
  return "name:" + pod.pod_namespace + "/" + pod.name;
}

struct Claim {
  PodNetns found;
  Rank rank = kSandbox;
  int confidence = 0;  // 2: pid and pinned path agree; 1: one of them
};

class Resolver {
 public:
  Resolver(const std::string& proc_root, PodIndexStats* stats)
      : proc_root_(proc_root), stats_(stats) {
    int err = 0;
    host_ = StatNsfs(proc_root_ + "/1/ns/net", &err);
  }

  bool host_known() const { return host_.has_value(); }

  // The namespace of a pod's bundle; nullopt (counted) when none is found
  // or it is the host's (then *host is set).
  std::optional<Claim> Resolve(const Bundle& b, const OciBundleConfig& config,
                               const std::vector<std::string>& roots,
                               bool* host) {
    *host = false;
    pid_t pid = 0;
    std::optional<NetnsKey> by_pid = ByPid(b.pid_path, &pid);
    std::optional<NetnsKey> by_path;
    if (!config.netns_path.empty()) {
      int err = 0;
      by_path = StatNsfs(config.netns_path, &err);
      if (!by_path) ++stats_->netns_paths_unusable;
    }
    Claim c;
    c.rank = RankOf(*config.pod);
    if (by_pid && by_path) {
      if (*by_pid != *by_path) ++stats_->pid_path_mismatches;
      c.confidence = *by_pid == *by_path ? 2 : 1;
      c.found.key = *by_path;
    } else if (by_path) {
      c.confidence = 1;
      c.found.key = *by_path;
    } else if (by_pid) {
      c.confidence = 1;
      c.found.key = *by_pid;
    } else {
      ++stats_->unresolved;
      return std::nullopt;
    }
    if (host_ && c.found.key == *host_) {
      ++stats_->host_network;
      *host = true;
      return std::nullopt;
    }
    c.found.pod = *config.pod;
    c.found.runtime_dir = roots[b.root];
    c.found.bundle_dir = b.dir;
    if (by_path && c.found.key == *by_path &&
        config.netns_path.rfind("/proc/", 0) != 0) {
      c.found.netns_path = config.netns_path;
    }
    if (by_pid && c.found.key == *by_pid) c.found.pid = pid;
    return c;
  }

 private:
  std::optional<NetnsKey> ByPid(const std::string& pid_path, pid_t* pid) {
    std::string text;
    std::error_code ec = ReadFileBounded(pid_path, kMaxPidFileBytes, &text);
    if (ec == std::errc::no_such_file_or_directory) {
      ++stats_->pid_files_missing;
      return std::nullopt;
    }
    std::optional<pid_t> parsed;
    if (!ec) parsed = ParsePidFile(text);
    if (!parsed) {
      ++stats_->pid_files_malformed;
      return std::nullopt;
    }
    int err = 0;
    auto key =
        StatNsfs(proc_root_ + "/" + std::to_string(*parsed) + "/ns/net", &err);
    if (!key) {
      // ENOENT for a zombie too: its namespaces are released already.
      if (err == ENOENT || err == ESRCH) {
        ++stats_->pids_stale;
      } else {
        ++stats_->pids_unreadable;
      }
      return std::nullopt;
    }
    *pid = *parsed;
    return key;
  }

  const std::string& proc_root_;
  PodIndexStats* stats_;
  std::optional<NetnsKey> host_;
};

// Keeps the better of two claims on one namespace; counts a conflict when
// they name different pods.
void Offer(Claim c, std::map<NetnsKey, Claim>* best, PodIndexStats* stats) {
  auto [it, inserted] = best->emplace(c.found.key, c);
  if (inserted) return;
  Claim& old = it->second;
  if (PodIdentity(old.found.pod) != PodIdentity(c.found.pod)) {
    ++stats->conflicts;
  }
  // Ties keep the first (bundles are visited in sorted order).
  if (c.rank < old.rank ||
      (c.rank == old.rank && c.confidence > old.confidence)) {
    old = std::move(c);
  }
}

}  // namespace

std::vector<std::string> DefaultRuntimeDirs() {
  return {"/run/containerd/io.containerd.runtime.v2.task",
          "/run/k3s/containerd/io.containerd.runtime.v2.task",
          "/run/containers/storage/overlay-containers"};
}

std::optional<pid_t> ParsePidFile(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (text.empty() || text.size() > 10) return std::nullopt;
  int64_t pid = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  // from_chars takes a leading '-'; digits only here.
  if (ec != std::errc() || p != text.data() + text.size() || text[0] == '-' ||
      pid <= 0 || pid > INT32_MAX) {
    return std::nullopt;
  }
  return static_cast<pid_t>(pid);
}

bool NamedByRuntime(const PodNetns& pod, std::string_view name) {
  if (pod.netns_path.empty() || name.empty()) return false;
  std::string_view path = pod.netns_path;
  size_t slash = path.rfind('/');
  return slash != std::string_view::npos && path.substr(slash + 1) == name;
}

const PodNetns* PodIndex::Find(dev_t dev, uint64_t inode) const {
  auto it = by_netns.find({dev, inode});
  return it == by_netns.end() ? nullptr : &it->second;
}

PodIndexer::PodIndexer(std::vector<std::string> roots, std::string proc_root)
    : roots_(std::move(roots)), proc_root_(std::move(proc_root)) {}

const OciBundleResult* PodIndexer::Config(
    const std::string& path, const struct stat& st, PodIndexStats* stats,
    std::map<std::string, CachedConfig>* next) {
  FileId id{st.st_dev, st.st_ino, st.st_size, Nanos(st.st_mtim),
            Nanos(st.st_ctim)};
  auto old = cache_.find(path);
  if (old != cache_.end() && old->second.id == id) {
    auto& kept = (*next)[path] = std::move(old->second);
    return &kept.parsed;
  }
  ++stats->configs_read;
  CachedConfig fresh;
  fresh.id = id;
  fresh.parsed = LoadOciBundleConfig(path);
  // A file rewritten while it was read (containerd writes config.json in
  // place) may have given half of it: not worth keeping.
  struct stat after {};
  FileId now = id;
  if (stat(path.c_str(), &after) == 0) {
    now = {after.st_dev, after.st_ino, after.st_size, Nanos(after.st_mtim),
           Nanos(after.st_ctim)};
  }
  if (now != id) fresh.id = FileId{};  // never matches a real file
  auto& kept = (*next)[path] = std::move(fresh);
  return &kept.parsed;
}

PodIndex PodIndexer::Scan() {
  PodIndex index;
  PodIndexStats& stats = index.stats;
  std::vector<Bundle> bundles;
  for (size_t i = 0; i < roots_.size(); ++i) {
    RuntimeDirStatus status;
    status.path = roots_[i];
    ListBundles(roots_[i], i, &status, &stats, &bundles);
    index.runtime_dirs.push_back(std::move(status));
  }

  // Parse (or reuse) every config.json; the map nodes stay put, so the
  // pointers into `next` are good until it replaces the cache.
  std::map<std::string, CachedConfig> next;
  std::vector<std::pair<const Bundle*, const OciBundleConfig*>> pods;
  for (const Bundle& b : bundles) {
    const OciBundleResult* r =
        Config(b.config_path, b.config_st, &stats, &next);
    if (!r->config) {
      if (stats.configs_malformed++ == 0) stats.first_malformed = r->error;
      continue;
    }
    if (!r->config->pod) {
      ++stats.not_pods;
      continue;
    }
    pods.emplace_back(&b, &*r->config);
  }

  // Sandboxes and untyped claims first; an app container only speaks for
  // a pod none of whose own claims resolved.
  Resolver resolver(proc_root_, &stats);
  index.host_netns_known = resolver.host_known();
  std::map<NetnsKey, Claim> best;
  // A host-network sandbox settles its pod too: its containers are there.
  std::set<std::string> settled_pods;
  bool host = false;
  for (auto [b, config] : pods) {
    if (RankOf(*config->pod) == kAppContainer) continue;
    auto c = resolver.Resolve(*b, *config, roots_, &host);
    if (c || host) settled_pods.insert(PodIdentity(*config->pod));
    if (c) Offer(std::move(*c), &best, &stats);
  }
  for (auto [b, config] : pods) {
    if (RankOf(*config->pod) != kAppContainer ||
        settled_pods.count(PodIdentity(*config->pod)) != 0) {
      continue;
    }
    if (auto c = resolver.Resolve(*b, *config, roots_, &host)) {
      Offer(std::move(*c), &best, &stats);
    }
  }
  for (auto& [key, claim] : best) {
    index.by_netns.emplace(key, std::move(claim.found));
  }
  cache_ = std::move(next);
  return index;
}

PodIndex BuildPodIndex(const std::vector<std::string>& roots,
                       const std::string& proc_root) {
  PodIndexer indexer(roots, proc_root);
  return indexer.Scan();
}

}  // namespace ctcollect
