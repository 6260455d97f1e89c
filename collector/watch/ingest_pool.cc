#include "collector/watch/ingest_pool.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/base/mutex.h"

namespace ctcollect {
namespace {

constexpr int kHeartbeatMs = 1000;
// When a drain found a full batch the stream is busy: wait this long before
// polling again so the next wake-up reads many events instead of one.
constexpr auto kBusyNap = std::chrono::microseconds(500);
constexpr int kMaxEvents = 64;

using Clock = std::chrono::steady_clock;

}  // namespace

class IngestThread : public IngestWaker {
 public:
  IngestThread() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epfd_ < 0 || wake_fd_ < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "ingest thread: epoll/eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    heartbeat_ms_.store(SteadyMillis());
    thread_ = std::thread([this] { Loop(); });
  }

  ~IngestThread() override {
    Stop();
    close(wake_fd_);
    close(epfd_);
  }

  void Stop() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
  }

  size_t load() const { return load_.load(std::memory_order_relaxed); }

  void Attach(std::shared_ptr<NetnsWatcher> w) {
    load_.fetch_add(1, std::memory_order_relaxed);
    {
      MutexLock lock(&mu_);
      mine_.push_back(w.get());
      to_attach_.push_back(std::move(w));
    }
    Wake();
  }

  // False if `w` is not this thread's.
  bool Detach(NetnsWatcher* w) {
    MutexLock lock(&mu_);
    if (std::find(mine_.begin(), mine_.end(), w) == mine_.end()) return false;
    to_detach_.push_back(w);
    const uint64_t want = detach_rounds_ + 1;
    Wake();
    while (detach_rounds_ < want && !stopped_) detached_cv_.Wait(&lock);
    mine_.erase(std::find(mine_.begin(), mine_.end(), w));
    load_.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }

  void Poke(NetnsWatcher* w) override {
    {
      MutexLock lock(&mu_);
      if (std::find(poked_.begin(), poked_.end(), w) == poked_.end()) {
        poked_.push_back(w);
      }
    }
    Wake();
  }

  bool Alive(std::chrono::milliseconds max_age) const {
    return SteadyMillis() - heartbeat_ms_.load(std::memory_order_relaxed) <=
           max_age.count();
  }

 private:
  void Wake() {
    uint64_t v = 1;
    ssize_t r = write(wake_fd_, &v, sizeof(v));
    (void)r;
  }

  void Note(NetnsWatcher* w) {
    next_deadline_ = std::min(next_deadline_, w->NextDeadline());
  }

  void Loop() {
    epoll_event evs[kMaxEvents];
    for (;;) {
      // At least once a second, so the heartbeat shows the thread is not
      // stuck (the service watchdog checks it).
      heartbeat_ms_.store(SteadyMillis(), std::memory_order_relaxed);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          next_deadline_ - Clock::now());
      int timeout = next_deadline_ == Clock::time_point::max()
                        ? kHeartbeatMs
                        : static_cast<int>(std::clamp<int64_t>(left.count(), 0,
                                                               kHeartbeatMs));
      int n = epoll_wait(epfd_, evs, kMaxEvents, timeout);
      if (n < 0) {
        if (errno != EINTR) {
          Log(LogLevel::kError,
              "ingest: epoll_wait: " +
                  std::error_code(errno, std::generic_category()).message());
        }
        n = 0;
      }
      bool busy = false;
      for (int i = 0; i < n; ++i) {
        auto* w = static_cast<NetnsWatcher*>(evs[i].data.ptr);
        if (!w) {
          uint64_t v;
          ssize_t r = read(wake_fd_, &v, sizeof(v));
          (void)r;
          continue;
        }
        // Events first: they are the ones that can be lost. Bounded, so a
        // dump and the other namespaces still make progress under a storm
        // that never lets up.
        int got = w->DrainEvents(&scratch_, 64);
        w->Service(&scratch_);
        Note(w);
        busy |= got >= 32 && !w->dumping();
      }
      if (!TakeRequests()) return;
      std::vector<NetnsWatcher*> poked;
      {
        MutexLock lock(&mu_);
        poked.swap(poked_);
      }
      for (auto* w : poked) {
        // A poke can outlive the watcher's time here (it was detached
        // meanwhile): only pointers still attached are followed.
        if (!attached_.count(w)) continue;
        w->Service(&scratch_);
        Note(w);
      }
      auto now = Clock::now();
      if (now >= next_deadline_) {
        next_deadline_ = Clock::time_point::max();
        for (auto& w : watchers_) {
          if (w->NextDeadline() <= now) w->Service(&scratch_);
          Note(w.get());
        }
      }
      if (busy) {
        timespec nap{0, std::chrono::nanoseconds(kBusyNap).count()};
        nanosleep(&nap, nullptr);
      }
    }
  }

  // Attaches and detaches what was asked for; false once stopped.
  bool TakeRequests() {
    std::vector<std::shared_ptr<NetnsWatcher>> attach;
    {
      MutexLock lock(&mu_);
      attach.swap(to_attach_);
    }
    for (auto& w : attach) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = w.get();
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, w->event_fd(), &ev) != 0) {
        Log(LogLevel::kError,
            "ingest: epoll_ctl: " +
                std::error_code(errno, std::generic_category()).message());
      }
      w->Attach(this);
      Note(w.get());
      attached_.insert(w.get());
      watchers_.push_back(std::move(w));
    }
    bool stop;
    {
      MutexLock lock(&mu_);
      for (auto* w : to_detach_) {
        auto is_w = [w](const auto& p) { return p.get() == w; };
        // Asked for after this round took the attach requests: never
        // attached, and now it will not be. (The caller holds a reference:
        // ours is never the last.)
        auto queued = std::find_if(to_attach_.begin(), to_attach_.end(), is_w);
        if (queued != to_attach_.end()) {
          to_attach_.erase(queued);
          continue;
        }
        auto it = std::find_if(watchers_.begin(), watchers_.end(), is_w);
        if (it == watchers_.end()) continue;
        epoll_ctl(epfd_, EPOLL_CTL_DEL, w->event_fd(), nullptr);
        poked_.erase(std::remove(poked_.begin(), poked_.end(), w),
                     poked_.end());
        attached_.erase(w);
        watchers_.erase(it);
      }
      if (!to_detach_.empty()) {
        to_detach_.clear();
        ++detach_rounds_;
        detached_cv_.NotifyAll();
      }
      stop = stop_;
      if (stop) stopped_ = true;
    }
    if (stop) {
      for (auto& w : watchers_) w->Detach();
      watchers_.clear();
      attached_.clear();
      detached_cv_.NotifyAll();
    }
    return !stop;
  }

  int epfd_ = -1;
  int wake_fd_ = -1;
  std::atomic<size_t> load_{0};
  std::atomic<int64_t> heartbeat_ms_{0};

  Mutex mu_;
  CondVar detached_cv_;
  std::vector<std::shared_ptr<NetnsWatcher>> to_attach_ GUARDED_BY(mu_);
  std::vector<NetnsWatcher*> to_detach_ GUARDED_BY(mu_);
  std::vector<NetnsWatcher*> poked_ GUARDED_BY(mu_);
  std::vector<NetnsWatcher*> mine_ GUARDED_BY(mu_);  // attached or asked to be
  uint64_t detach_rounds_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  bool stopped_ GUARDED_BY(mu_) = false;

  // The thread's own.
  std::vector<std::shared_ptr<NetnsWatcher>> watchers_;
  std::unordered_set<NetnsWatcher*> attached_;  // those of watchers_
  IngestScratch scratch_;
  Clock::time_point next_deadline_ = Clock::time_point::max();
  std::thread thread_;
};

IngestPool::IngestPool(size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) {
    threads_.push_back(std::make_unique<IngestThread>());
  }
}

IngestPool::~IngestPool() { Stop(); }

void IngestPool::Attach(std::shared_ptr<NetnsWatcher> w) {
  auto it = std::min_element(
      threads_.begin(), threads_.end(),
      [](const auto& a, const auto& b) { return a->load() < b->load(); });
  (*it)->Attach(std::move(w));
}

void IngestPool::Detach(const std::shared_ptr<NetnsWatcher>& w) {
  // First, so that from here on it pokes no thread.
  w->Detach();
  for (auto& t : threads_) {
    if (t->Detach(w.get())) return;
  }
}

bool IngestPool::Alive(std::chrono::milliseconds max_age) const {
  for (const auto& t : threads_) {
    if (!t->Alive(max_age)) return false;
  }
  return true;
}

void IngestPool::Stop() {
  for (auto& t : threads_) t->Stop();
}

}  // namespace ctcollect
