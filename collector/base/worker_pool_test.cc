#include "collector/base/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ctcollect {
namespace {

// A job that counts its runs, and how many jobs run at once.
class CountingJob : public PoolJob {
 public:
  CountingJob(std::atomic<int>* running, std::atomic<int>* most)
      : running_(running), most_(most) {}
  void Run() override {
    int now = running_->fetch_add(1) + 1;
    int seen = most_->load();
    while (now > seen && !most_->compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    running_->fetch_sub(1);
    runs.fetch_add(1);
  }
  std::atomic<int> runs{0};

 private:
  std::atomic<int>* running_;
  std::atomic<int>* most_;
};

TEST(WorkerPool, RunsEveryJobWithAtMostItsThreadsAtOnce) {
  std::atomic<int> running{0}, most{0};
  std::vector<std::unique_ptr<CountingJob>> jobs;
  for (int i = 0; i < 12; ++i) {
    jobs.push_back(std::make_unique<CountingJob>(&running, &most));
  }
  {
    WorkerPool pool(3);
    EXPECT_EQ(pool.threads(), 3u);
    for (auto& j : jobs) pool.Submit(j.get());
    // Cancel waits for a running job and takes out a queued one: after it,
    // each job has run or never will, and none is queued.
    for (auto& j : jobs) pool.Cancel(j.get());
    EXPECT_EQ(pool.queued(), 0u);
    int ran = 0;
    for (auto& j : jobs) ran += j->runs.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int later = 0;
    for (auto& j : jobs) later += j->runs.load();
    EXPECT_EQ(later, ran);  // nothing cancelled ran afterwards
    for (auto& j : jobs) pool.Submit(j.get());
    while (pool.queued() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& j : jobs) pool.Cancel(j.get());
  }
  EXPECT_LE(most.load(), 3);
  for (auto& j : jobs) EXPECT_GE(j->runs.load(), 1);
}

TEST(WorkerPool, AJobQueuedTwiceRunsOnce) {
  std::atomic<int> running{0}, most{0};
  CountingJob blocker(&running, &most), job(&running, &most);
  WorkerPool pool(1);
  pool.Submit(&blocker);  // keeps the one thread busy for a while
  pool.Submit(&job);
  pool.Submit(&job);
  EXPECT_LE(pool.queued(), 2u);
  pool.Cancel(&blocker);
  while (pool.queued() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pool.Cancel(&job);
  EXPECT_EQ(job.runs.load(), 1);
}

}  // namespace
}  // namespace ctcollect
