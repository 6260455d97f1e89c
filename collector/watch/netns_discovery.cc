#include "collector/watch/netns_discovery.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace ctcollect {
namespace {

using Clock = std::chrono::steady_clock;

// After a change in a name directory: `ip netns add` creates the file
// before it mounts the namespace on it, so look again a little later too.
constexpr std::chrono::milliseconds kRescans[] = {
    std::chrono::milliseconds(50), std::chrono::milliseconds(300),
    std::chrono::milliseconds(1000)};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::vector<FoundNetns> LabelNetns(const NetnsScan& scan, const PodIndex& pods,
                                   const std::string& proc_root) {
  std::vector<FoundNetns> out;
  out.reserve(scan.namespaces.size());
  for (const auto& d : scan.namespaces) {
    FoundNetns f;
    f.id = {d.dev, d.inode};
    // A mount stays while the namespace is named; a process may exit.
    if (!d.mount_paths.empty()) {
      f.path = d.mount_paths.front();
    } else if (d.lowest_pid > 0) {
      f.path = proc_root + "/" + std::to_string(d.lowest_pid) + "/ns/net";
    } else {
      continue;  // found by name only, and no way in that we trust
    }
    const PodNetns* p = pods.Find(d.dev, d.inode);
    if (p != nullptr && !d.name.empty() && NamedByRuntime(*p, d.name)) {
      DiscoveredNetns unnamed = d;
      unnamed.name.clear();
      f.label = NetnsLabel(unnamed, &p->pod);
    } else {
      f.label = NetnsLabel(d, p != nullptr ? &p->pod : nullptr);
    }
    if (p != nullptr) {
      f.identity.pod = p->pod.name;
      f.identity.pod_namespace = p->pod.pod_namespace;
      f.identity.pod_uid = p->pod.uid;
      f.identity.runtime = PodRuntimeName(p->pod.runtime);
    }
    out.push_back(std::move(f));
  }
  return out;
}

NetnsDiscovery::NetnsDiscovery(DiscoveryOptions opts, NetnsSet* set)
    : opts_(std::move(opts)),
      set_(set),
      pods_(opts_.runtime_dirs.empty() ? DefaultRuntimeDirs()
                                       : opts_.runtime_dirs,
            opts_.scan.proc_root) {
  stats_.enabled = true;
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (inotify_fd_ < 0 || stop_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "netns discovery: inotify/eventfd");
  }
  watches_.assign(opts_.scan.name_dirs.size(), -1);
}

NetnsDiscovery::~NetnsDiscovery() {
  Stop();
  close(inotify_fd_);
  close(stop_fd_);
}

void NetnsDiscovery::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void NetnsDiscovery::Stop() {
  if (!thread_.joinable()) return;
  uint64_t v = 1;
  ssize_t r = write(stop_fd_, &v, sizeof(v));
  (void)r;
  thread_.join();
}

void NetnsDiscovery::ScanOnce() {
  const auto t0 = Clock::now();
  NetnsScan scan = ScanNetns(opts_.scan);
  if (scan.error) {
    scan_log_.Log("netns discovery: " + scan.error_path + ": " +
                  scan.error.message() + " (the scan goes on without it)");
  }
  PodIndex pods = pods_.Scan();
  if (!runtime_reported_) {
    runtime_reported_ = true;
    std::vector<std::string> found, looked;
    for (const auto& d : pods.runtime_dirs) {
      (d.found ? found : looked).push_back(d.path);
    }
    if (found.empty()) {
      Log(LogLevel::kNotice,
          "netns discovery: no container runtime state in " + Join(looked) +
              ": namespaces without an ip netns name are labelled inode:N");
    } else {
      Log(LogLevel::kInfo,
          "netns discovery: pod names from the runtime bundles in " +
              Join(found));
    }
  }
  if (pods.stats.configs_malformed > 0) {
    bundle_log_.Log(
        "netns discovery: " + std::to_string(pods.stats.configs_malformed) +
        " runtime bundle config.json file(s) unusable, e.g. " +
        pods.stats.first_malformed);
  }
  auto found = LabelNetns(scan, pods, opts_.scan.proc_root);
  stats_.open_errors += static_cast<int64_t>(set_->Reconcile(found));
  ++stats_.scans;
  stats_.malformed_bundles = static_cast<int64_t>(pods.stats.configs_malformed);
  stats_.last_scan_seconds =
      std::chrono::duration<double>(Clock::now() - t0).count();
  set_->SetDiscoveryStats(stats_);
}

void NetnsDiscovery::WatchNameDirs() {
  for (size_t i = 0; i < watches_.size(); ++i) {
    if (watches_[i] >= 0) continue;
    // Missing until the first `ip netns add`: tried again each round.
    watches_[i] =
        inotify_add_watch(inotify_fd_, opts_.scan.name_dirs[i].c_str(),
                          IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
                              IN_ATTRIB | IN_ONLYDIR);
  }
}

void NetnsDiscovery::Loop() {
  auto next_scan = Clock::now() + opts_.interval;
  std::vector<Clock::time_point> rescans;  // sorted
  for (;;) {
    WatchNameDirs();
    auto due = next_scan;
    if (!rescans.empty()) due = std::min(due, rescans.front());
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        due - Clock::now());
    // A name directory made later is watched within a second.
    int timeout = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
      scan_log_.Log("netns discovery: poll: " +
                    std::error_code(errno, std::generic_category()).message());
    }
    if (fds[0].revents & POLLIN) return;
    if (fds[1].revents & POLLIN) {
      alignas(inotify_event) char buf[4096];
      ssize_t n;
      while ((n = read(inotify_fd_, buf, sizeof(buf))) > 0) {
        for (ssize_t at = 0; at < n;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
          if (ev->mask & IN_IGNORED) {
            std::replace(watches_.begin(), watches_.end(), ev->wd, -1);
          }
          at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
      }
      const auto now = Clock::now();
      rescans.clear();
      for (auto d : kRescans) rescans.push_back(now + d);
    }
    const auto now = Clock::now();
    bool scan = now >= next_scan;
    while (!rescans.empty() && rescans.front() <= now) {
      rescans.erase(rescans.begin());
      scan = true;
    }
    if (scan) {
      ScanOnce();
      next_scan = Clock::now() + opts_.interval;
    }
  }
}

}  // namespace ctcollect
