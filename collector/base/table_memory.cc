#include "collector/base/table_memory.h"

#include <pthread.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <system_error>

namespace ctcollect {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// Faults every page of [p, p + bytes) in for writing, as hugepages where
// the mapping was advised so (MADV_POPULATE_WRITE, Linux 5.14; before it,
// one write of the zero already there per 4 KiB page).
void Populate(void* p, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  if (madvise(p, RoundUp(bytes, kHugePage), MADV_POPULATE_WRITE) == 0) return;
#endif
  auto* b = static_cast<volatile uint8_t*>(p);
  for (size_t i = 0; i < bytes; i += 4096) b[i] = 0;
}

}  // namespace

void* AllocateTableMemory(size_t bytes) {
  if (bytes < kHugeBytes) {
    void* p = std::calloc(1, bytes);
    if (p == nullptr) std::abort();
    return p;
  }
  // Map one hugepage more than needed, then unmap the unaligned head and
  // the tail, so the array starts on a 2 MiB boundary (older kernels do not
  // align large anonymous mappings themselves).
  const size_t len = RoundUp(bytes, kHugePage);
  void* m = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) std::abort();
  auto base = reinterpret_cast<uintptr_t>(m);
  const uintptr_t aligned = RoundUp(base, kHugePage);
  if (aligned > base) munmap(m, aligned - base);
  const size_t tail = (base + len + kHugePage) - (aligned + len);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + len), tail);
  void* p = reinterpret_cast<void*>(aligned);
  // Advice only: without transparent hugepages the array works as before.
  (void)madvise(p, len, MADV_HUGEPAGE);
  return p;
}

void FreeTableMemory(void* p, size_t bytes) {
  if (p == nullptr) return;
  if (bytes < kHugeBytes) {
    std::free(p);
    return;
  }
  munmap(p, RoundUp(bytes, kHugePage));
}

void SpareTableMemory::Prepare(size_t bytes) {
  if (bytes == bytes_) return;
  Drop();
  try {
    maker_ = std::thread([this, bytes] {
      pthread_setname_np(pthread_self(), "ctc-table-mem");
      void* p = AllocateTableMemory(bytes);
      if (bytes >= kHugeBytes) Populate(p, bytes);
      mem_ = p;
    });
  } catch (const std::system_error&) {
    return;  // no thread to be had: the doubling allocates for itself
  }
  bytes_ = bytes;
}

void* SpareTableMemory::Take(size_t bytes) {
  if (bytes != bytes_) {
    Drop();
    return nullptr;
  }
  Join();
  void* p = mem_;
  mem_ = nullptr;
  bytes_ = 0;
  return p;
}

void SpareTableMemory::Drop() {
  Join();
  FreeTableMemory(mem_, bytes_);
  mem_ = nullptr;
  bytes_ = 0;
}

void SpareTableMemory::Join() {
  if (maker_.joinable()) maker_.join();
}

}  // namespace ctcollect
