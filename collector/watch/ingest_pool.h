// The threads that read every watched namespace's conntrack events: a fixed
// pool (--ingest.threads, one per core by default), each multiplexing the
// event sockets of the namespaces it serves with epoll, instead of a thread
// per namespace. A thread is the only writer of its namespaces' flow
// tables and counters; it also applies their dump batches (read on the
// dump WorkerPool) and runs their resync timers.
//
// A namespace goes to the thread serving the fewest, and stays there until
// it is detached. One busy namespace has a thread to itself in all but
// name: the others on its thread cost an epoll entry each while idle.
//
// Thread safety: Attach/Detach/Alive from any thread but the pool's own;
// Stop from the owner.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "collector/watch/netns_watcher.h"

namespace ctcollect {

class IngestThread;

class IngestPool {
 public:
  // `threads` 0: one per core.
  explicit IngestPool(size_t threads);
  ~IngestPool();
  IngestPool(const IngestPool&) = delete;
  IngestPool& operator=(const IngestPool&) = delete;

  // Hands `w` to the least loaded thread, which starts its first dump.
  void Attach(std::shared_ptr<NetnsWatcher> w);
  // Takes `w` off its thread; once this returns no pool thread touches it
  // (the caller may destroy it).
  void Detach(const std::shared_ptr<NetnsWatcher>& w);
  // Every thread went round its loop within `max_age` (each does at least
  // once a second unless stuck).
  bool Alive(std::chrono::milliseconds max_age) const;
  // Stops and joins the threads; every watcher is detached.
  void Stop();

 private:
  std::vector<std::unique_ptr<IngestThread>> threads_;
};

}  // namespace ctcollect
