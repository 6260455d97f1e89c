// A mutex the thread-safety analysis understands: std::mutex with the
// capability annotations (libstdc++'s has none), an RAII lock for it, and a
// condition variable that waits on that lock.
//
// Thread safety: as std::mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "collector/base/thread_annotations.h"

namespace ctcollect {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope. Also a BasicLockable for CondVar::Wait, which
// releases and retakes it while waiting.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() RELEASE() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // For CondVar only (std::condition_variable_any's protocol): the wait
  // gives the mutex up and takes it back before returning, so for the
  // analysis the lock is held throughout.
  void lock() NO_THREAD_SAFETY_ANALYSIS { mu_->lock(); }
  void unlock() NO_THREAD_SAFETY_ANALYSIS { mu_->unlock(); }

 private:
  Mutex* mu_;
};

// A condition variable for a Mutex held through a MutexLock.
class CondVar {
 public:
  void Wait(MutexLock* lock) { cv_.wait(*lock); }
  template <typename Pred>
  void Wait(MutexLock* lock, Pred pred) {
    cv_.wait(*lock, pred);
  }
  // Returns false on timeout.
  template <typename Rep, typename Period>
  bool WaitFor(MutexLock* lock, std::chrono::duration<Rep, Period> d) {
    return cv_.wait_for(*lock, d) == std::cv_status::no_timeout;
  }
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(MutexLock* lock, std::chrono::duration<Rep, Period> d,
               Pred pred) {
    return cv_.wait_for(*lock, d, pred);
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace ctcollect
