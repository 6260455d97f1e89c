// A fixed number of threads that run queued jobs in the order they were
// queued: the bound on how much of something (table dumps) runs at once.
// With a thousand namespaces resyncing every minute, at most `threads`
// dumps run together and the rest wait their turn.
//
// A job is an object the submitter owns; it must stay alive until it has
// run or Cancel() returned. Cancel() takes a queued job out, or waits for a
// running one to return (so a job must notice that it is cancelled, by its
// own flag, and return soon).
//
// Thread safety: every method from any thread, but not Cancel() or the
// destructor from inside a job.
#pragma once

#include <cstddef>
#include <deque>
#include <thread>
#include <vector>

#include "collector/base/mutex.h"

namespace ctcollect {

class PoolJob {
 public:
  virtual ~PoolJob() = default;
  virtual void Run() = 0;
};

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  // Waits for running jobs; queued ones are dropped.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job` (at most once: a job already queued stays where it is).
  void Submit(PoolJob* job);
  // After Cancel(job) returns, the pool no longer holds or runs `job`.
  void Cancel(PoolJob* job);

  size_t threads() const { return threads_.size(); }
  // Jobs queued and not yet running (for tests and the benchmark).
  size_t queued() const;

 private:
  void Loop();

  mutable Mutex mu_;
  CondVar cv_;       // a job was queued, or stop
  CondVar done_cv_;  // a job finished
  std::deque<PoolJob*> queue_ GUARDED_BY(mu_);
  std::vector<PoolJob*> running_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ctcollect
