#include "collector/base/worker_pool.h"

#include <algorithm>

namespace ctcollect {

WorkerPool::WorkerPool(size_t threads) {
  threads_.reserve(std::max<size_t>(threads, 1));
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    queue_.clear();
  }
  cv_.NotifyAll();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Submit(PoolJob* job) {
  {
    MutexLock lock(&mu_);
    if (stop_) return;
    if (std::find(queue_.begin(), queue_.end(), job) != queue_.end()) return;
    queue_.push_back(job);
  }
  cv_.NotifyOne();
}

void WorkerPool::Cancel(PoolJob* job) {
  MutexLock lock(&mu_);
  queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
  while (std::find(running_.begin(), running_.end(), job) != running_.end()) {
    done_cv_.Wait(&lock);
  }
}

size_t WorkerPool::queued() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

void WorkerPool::Loop() {
  for (;;) {
    PoolJob* job;
    {
      MutexLock lock(&mu_);
      while (!stop_ && queue_.empty()) cv_.Wait(&lock);
      if (stop_) return;
      job = queue_.front();
      queue_.pop_front();
      running_.push_back(job);
    }
    job->Run();
    {
      MutexLock lock(&mu_);
      running_.erase(std::find(running_.begin(), running_.end(), job));
    }
    done_cv_.NotifyAll();
  }
}

}  // namespace ctcollect
