#include "collector/watch/netns_set.h"

#include <malloc.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <map>

namespace ctcollect {
namespace {

constexpr auto kCheckInterval = std::chrono::seconds(1);

std::string Where(const std::string& spec) {
  return spec.empty() ? std::string("own netns") : "netns \"" + spec + "\"";
}

// Where in the resync interval a namespace's periodic dumps fall, from its
// inode: stable for the namespace, spread over the namespaces.
double ResyncPhase(uint64_t inode) {
  uint64_t h = std::hash<uint64_t>{}(inode * 0x9e3779b97f4a7c15ull);
  return 0.5 + 0.5 * static_cast<double>(h % 1024) / 1023.0;
}

}  // namespace

bool LabelMatches(const std::string& label,
                  const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (label.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) return true;
    } else if (label == p) {
      return true;
    }
  }
  return false;
}

NetnsSet::NetnsSet(const NetnsSetOptions& opts)
    : opts_(opts),
      discovered_opts_(opts.watcher),
      dumps_(opts.dump_threads),
      ingest_(opts.ingest_threads),
      resync_interval_(opts.watcher.resync_interval) {
  discovered_opts_.full_detail = opts.discovered_full_detail;
  discovered_opts_.quiet = true;
  discovered_opts_.buffer_size =
      std::min(opts.discovered_buffer_size, opts.watcher.buffer_size);
  discovered_opts_.busy_buffer_size = opts.watcher.buffer_size;
  discovered_opts_.back_off_quiet_resyncs = true;
}

void NetnsSet::Add(NetnsHandle ns) {
  Member m;
  m.spec = ns.label();
  m.id = ns.id();
  m.watcher =
      std::make_shared<NetnsWatcher>(std::move(ns), opts_.watcher, &dumps_);
  MutexLock lock(&mu_);
  members_.push_back(std::move(m));
  ++configured_;
}

NetnsSet::~NetnsSet() { Stop(); }

void NetnsSet::Start() {
  {
    MutexLock lock(&mu_);
    started_ = true;
    for (auto& m : members_) {
      if (m.watcher) ingest_.Attach(m.watcher);
    }
  }
  supervisor_ = std::thread([this] { Supervise(); });
}

void NetnsSet::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  stop_cv_.NotifyAll();
  if (supervisor_.joinable()) supervisor_.join();
  ingest_.Stop();
}

void NetnsSet::Supervise() {
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (!stopping_) stop_cv_.WaitFor(&lock, kCheckInterval);
      if (stopping_) return;
    }
    CheckNamespaces();
  }
}

void NetnsSet::StopWatcher(std::shared_ptr<NetnsWatcher> w) {
  ingest_.Detach(w);
  w.reset();
}

size_t NetnsSet::CheckNamespaces() {
  size_t missing = 0;
  for (size_t i = 0; i < configured_; ++i) {
    std::shared_ptr<NetnsWatcher> w;
    std::string spec;
    {
      MutexLock lock(&mu_);
      w = members_[i].watcher;
      spec = members_[i].spec;
    }
    if (w && !w->netns().StillNamed()) {
      // Out of the set first, so no new reader picks it up, then stopped.
      {
        MutexLock lock(&mu_);
        members_[i].watcher.reset();
      }
      StopWatcher(std::move(w));
      Log(LogLevel::kWarn,
          Where(spec) +
              " is gone (deleted or replaced): its metrics are dropped; "
              "watching for it to come back");
    }
    if (!w && !spec.empty()) {
      try {
        auto fresh = StartWatcher(NetnsHandle::Open(spec), opts_.watcher);
        MutexLock lock(&mu_);
        if (stopping_) return missing;
        members_[i].id = fresh->netns().id();
        members_[i].watcher = std::move(fresh);
        Log(LogLevel::kNotice, Where(spec) + " is back: watching it again");
        continue;
      } catch (const std::system_error& e) {
        // Not there (yet), or for a moment a file without its mount: the
        // common cases, not worth a line each second.
        int err = e.code().value();
        if (err != ENOENT && err != EINVAL) reopen_log_.Log(e.what());
      } catch (const std::exception& e) {
        reopen_log_.Log(e.what());
      }
      ++missing;
    }
  }
  return missing;
}

size_t NetnsSet::Reconcile(const std::vector<FoundNetns>& found) {
  std::map<NetnsId, const FoundNetns*> wanted;
  for (const auto& f : found) wanted.emplace(f.id, &f);
  // Let go of the namespaces gone, and of those that changed name (they
  // start afresh under the new one); note what is watched already.
  std::vector<std::shared_ptr<NetnsWatcher>> gone;
  std::map<std::string, NetnsId> labels;  // of every member kept
  {
    MutexLock lock(&mu_);
    for (auto it = members_.begin(); it != members_.end();) {
      auto w = wanted.find(it->id);
      bool keep = !it->identity.discovered ||
                  (w != wanted.end() && w->second->label == it->found_label);
      if (!keep) {
        gone.push_back(std::move(it->watcher));
        it = members_.erase(it);
        continue;
      }
      if (it->watcher) labels.emplace(it->watcher->label(), it->id);
      if (w != wanted.end()) wanted.erase(w);
      ++it;
    }
  }
  for (auto& w : gone) {
    Log(LogLevel::kDebug, "netns \"" + w->label() + "\" is gone: let go of");
    StopWatcher(std::move(w));
  }
  // What the watchers held was freed on several threads' arenas, below
  // glibc's trim threshold each: give it back, or a node whose pods come
  // and go would see the daemon's RSS only grow.
  if (!gone.empty()) malloc_trim(0);
  size_t failed = 0;
  for (const auto& [id, f] : wanted) {
    // Two namespaces cannot share a label (a pod's old sandbox beside its
    // new one, a name used twice): the later one goes by its inode.
    std::string label = f->label;
    if (labels.count(label)) label = "inode:" + std::to_string(id.inode);
    WatcherOptions o = discovered_opts_;
    o.resync_phase = ResyncPhase(id.inode);
    o.full_detail |= LabelMatches(label, opts_.full_detail_labels);
    try {
      auto w = StartWatcher(NetnsHandle::OpenFound(f->path, label, id), o);
      Member m;
      m.found_label = f->label;
      m.id = id;
      m.identity = f->identity;
      m.identity.discovered = true;
      m.watcher = std::move(w);
      labels.emplace(label, id);
      Log(LogLevel::kDebug, "netns \"" + label + "\" found: watching it");
      MutexLock lock(&mu_);
      members_.push_back(std::move(m));
    } catch (const std::exception& e) {
      // Gone already, or not ours to open: the next scan tries again.
      ++failed;
      discover_log_.Log(std::string("discovery: ") + e.what());
    }
  }
  return failed;
}

std::shared_ptr<NetnsWatcher> NetnsSet::StartWatcher(
    NetnsHandle ns, const WatcherOptions& opts) {
  auto w = std::make_shared<NetnsWatcher>(std::move(ns), opts, &dumps_);
  MutexLock lock(&mu_);
  w->SetResyncInterval(resync_interval_);
  if (classifier_) w->SetClassifier(classifier_);
  w->SetPolicySelectors(selectors_);
  if (started_ && !stopping_) ingest_.Attach(w);
  return w;
}

std::vector<std::shared_ptr<NetnsWatcher>> NetnsSet::Watchers() const {
  MutexLock lock(&mu_);
  std::vector<std::shared_ptr<NetnsWatcher>> out;
  for (const auto& m : members_) {
    if (m.watcher) out.push_back(m.watcher);
  }
  return out;
}

void NetnsSet::SetDiscoveryStats(const DiscoverySnapshot& d) {
  MutexLock lock(&mu_);
  discovery_ = d;
}

void NetnsSet::RequestResync() {
  for (auto& w : Watchers()) w->RequestResync();
}

void NetnsSet::SetClassifier(const std::shared_ptr<const FlowClassifier>& c) {
  {
    MutexLock lock(&mu_);
    classifier_ = c;
  }
  for (auto& w : Watchers()) w->SetClassifier(c);
}

void NetnsSet::SetPolicySelectors(
    const std::vector<PolicySelector>& selectors) {
  {
    MutexLock lock(&mu_);
    selectors_ = selectors;
  }
  for (auto& w : Watchers()) w->SetPolicySelectors(selectors);
}

std::shared_ptr<const FlowClassifier> NetnsSet::Classifier() const {
  MutexLock lock(&mu_);
  return classifier_;
}

void NetnsSet::SetResyncInterval(std::chrono::milliseconds interval) {
  {
    MutexLock lock(&mu_);
    resync_interval_ = interval;
  }
  for (auto& w : Watchers()) w->SetResyncInterval(interval);
}

std::optional<std::vector<NetnsTopRanking>> NetnsSet::Top(
    TopBy by, size_t limit, const std::optional<std::string>& netns) const {
  if (!opts_.watcher.top_enabled) return std::nullopt;
  std::vector<NetnsTopRanking> out;
  for (const auto& w : Watchers()) {
    if (netns && w->label() != *netns) continue;
    if (auto r = w->Top(by, limit)) out.push_back({w->label(), std::move(*r)});
  }
  return out;
}

std::vector<NetnsRef> NetnsSet::Namespaces() const {
  std::vector<NetnsRef> out;
  for (const auto& w : Watchers()) out.push_back(w->shared_netns());
  return out;
}

Snapshot NetnsSet::TakeSnapshot() const {
  Snapshot s;
  std::vector<std::pair<std::shared_ptr<NetnsWatcher>, NetnsIdentity>> ws;
  {
    MutexLock lock(&mu_);
    s.discovery = discovery_;
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].watcher) {
        ws.emplace_back(members_[i].watcher, members_[i].identity);
        ws.back().second.inode = members_[i].id.inode;
      } else if (i < configured_) {
        ++s.netns_missing;
      }
    }
  }
  s.netns.resize(ws.size());
  for (size_t i = 0; i < ws.size(); ++i) {
    ws[i].first->FillSnapshot(&s.netns[i]);
    s.netns[i].identity = ws[i].second;
  }
  return s;
}

std::vector<PolicyDurations> NetnsSet::CopyStateDurations(
    const std::string& netns) const {
  for (const auto& w : Watchers()) {
    if (netns.empty() || w->label() == netns) return w->CopyStateDurations();
  }
  return {};
}

bool NetnsSet::Alive(std::chrono::milliseconds max_age) const {
  return ingest_.Alive(max_age);
}

bool NetnsSet::Ready() const {
  // Once every namespace of the start had its first dump the daemon stays
  // ready: one that comes back later, or is found later, does not take
  // readiness away.
  if (ready_.load(std::memory_order_acquire)) return true;
  for (const auto& w : Watchers()) {
    if (!w->Ready()) return false;
  }
  ready_.store(true, std::memory_order_release);
  return true;
}

}  // namespace ctcollect
