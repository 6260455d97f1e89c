// A counter with one writer thread and any number of readers.
#pragma once

#include <atomic>
#include <cstdint>

namespace ctcollect {

// A counter with one writer: a plain add, visible atomically to readers.
class SingleWriterCounter {
 public:
  void Add(int64_t d) {
    v_.store(v_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  int64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

}  // namespace ctcollect
