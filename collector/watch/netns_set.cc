#include "collector/watch/netns_set.h"

#include <exception>

namespace ctcollect {
namespace {

constexpr auto kCheckInterval = std::chrono::seconds(1);

std::string Where(const std::string& spec) {
  return spec.empty() ? std::string("own netns") : "netns \"" + spec + "\"";
}

}  // namespace

NetnsSet::NetnsSet(const WatcherOptions& opts)
    : opts_(opts), resync_interval_(opts.resync_interval) {}

void NetnsSet::Add(NetnsHandle ns) {
  Slot s;
  s.spec = ns.label();
  s.watcher = std::make_shared<NetnsWatcher>(std::move(ns), opts_);
  MutexLock lock(&mu_);
  slots_.push_back(std::move(s));
}

NetnsSet::~NetnsSet() { Stop(); }

void NetnsSet::Start() {
  {
    MutexLock lock(&mu_);
    started_ = true;
    for (auto& s : slots_) s.watcher->Start();
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
  for (auto& w : Watchers()) w->Stop();
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

size_t NetnsSet::CheckNamespaces() {
  size_t missing = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    std::shared_ptr<NetnsWatcher> w;
    {
      MutexLock lock(&mu_);
      w = slots_[i].watcher;
    }
    const std::string& spec = slots_[i].spec;
    if (w && !w->netns().StillNamed()) {
      // Out of the set first, so no new reader picks it up, then stopped:
      // its sockets and namespace handle close with the last reference.
      {
        MutexLock lock(&mu_);
        slots_[i].watcher.reset();
      }
      w->Stop();
      w.reset();
      Log(LogLevel::kWarn,
          Where(spec) +
              " is gone (deleted or replaced): its metrics are dropped; "
              "watching for it to come back");
    }
    if (!w && !spec.empty()) {
      try {
        auto fresh = StartWatcher(NetnsHandle::Open(spec));
        MutexLock lock(&mu_);
        if (stopping_) {
          fresh->Stop();
          return missing;
        }
        slots_[i].watcher = std::move(fresh);
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

std::shared_ptr<NetnsWatcher> NetnsSet::StartWatcher(NetnsHandle ns) {
  auto w = std::make_shared<NetnsWatcher>(std::move(ns), opts_);
  MutexLock lock(&mu_);
  w->SetResyncInterval(resync_interval_);
  if (classifier_) w->SetClassifier(classifier_);
  w->SetPolicySelectors(selectors_);
  if (started_ && !stopping_) w->Start();
  return w;
}

std::vector<std::shared_ptr<NetnsWatcher>> NetnsSet::Watchers() const {
  MutexLock lock(&mu_);
  std::vector<std::shared_ptr<NetnsWatcher>> out;
  for (const auto& s : slots_) {
    if (s.watcher) out.push_back(s.watcher);
  }
  return out;
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
  if (!opts_.top_enabled) return std::nullopt;
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
  auto watchers = Watchers();
  s.netns.resize(watchers.size());
  for (size_t i = 0; i < watchers.size(); ++i) {
    watchers[i]->FillSnapshot(&s.netns[i]);
  }
  s.netns_missing = static_cast<int64_t>(slots_.size() - watchers.size());
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
  for (const auto& w : Watchers()) {
    if (!w->Alive(max_age)) return false;
  }
  return true;
}

bool NetnsSet::Ready() const {
  // Once every namespace of the start had its first dump the daemon stays
  // ready: one that comes back later does not take readiness away.
  if (ready_.load(std::memory_order_acquire)) return true;
  for (const auto& w : Watchers()) {
    if (!w->Ready()) return false;
  }
  ready_.store(true, std::memory_order_release);
  return true;
}

}  // namespace ctcollect
