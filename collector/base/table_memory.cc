#include "collector/base/table_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace ctcollect {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

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

}  // namespace ctcollect
