#include "collector/base/table_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace ctcollect {
namespace {

TEST(TableMemory, SmallArraysAreZeroed) {
  auto* p = static_cast<uint8_t*>(AllocateTableMemory(4096));
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < 4096; ++i) ASSERT_EQ(p[i], 0) << i;
  std::memset(p, 0xab, 4096);
  FreeTableMemory(p, 4096);
}

// Large arrays are mapped on their own, 2 MiB aligned (so that hugepages
// can back them), zero, and writable to the last byte, also when the size
// is not a multiple of a hugepage.
TEST(TableMemory, LargeArraysAreHugepageAlignedAndZeroed) {
  for (size_t bytes : {kHugeBytes, kHugeBytes * 3 + 4096 * 5 + 16}) {
    auto* p = static_cast<uint8_t*>(AllocateTableMemory(bytes));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t{2} << 20), 0u);
    for (size_t i = 0; i < bytes; i += 4096) ASSERT_EQ(p[i], 0) << i;
    EXPECT_EQ(p[bytes - 1], 0);
    std::memset(p, 0xcd, bytes);
    EXPECT_EQ(p[bytes - 1], 0xcd);
    FreeTableMemory(p, bytes);
  }
}

TEST(TableMemory, FreeIgnoresNull) {
  FreeTableMemory(nullptr, 16);
  FreeTableMemory(nullptr, kHugeBytes);
}

// How many of the pages of [p, p + bytes) are resident.
size_t ResidentPages(void* p, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((bytes + page - 1) / page);
  if (mincore(p, bytes, v.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

// The point of the spare: its pages are faulted in before it is taken, so
// the owner that takes it only copies.
TEST(SpareTableMemory, IsZeroedResidentAndHugepageAlignedWhenTaken) {
  const size_t bytes = kHugeBytes * 2;
  SpareTableMemory spare;
  spare.Prepare(bytes);
  EXPECT_EQ(spare.bytes(), bytes);
  spare.Prepare(bytes);  // the same size again: no second helper
  auto* p = static_cast<uint8_t*>(spare.Take(bytes));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(spare.bytes(), 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t{2} << 20), 0u);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(ResidentPages(p, bytes), bytes / page);
  for (size_t i = 0; i < bytes; i += 512) ASSERT_EQ(p[i], 0) << i;
  std::memset(p, 0x5a, bytes);
  FreeTableMemory(p, bytes);
  EXPECT_EQ(spare.Take(bytes), nullptr);  // taken once only
}

TEST(SpareTableMemory, ASpareOfAnotherSizeIsDroppedNotHandedOut) {
  SpareTableMemory spare;
  spare.Prepare(kHugeBytes * 4);
  EXPECT_EQ(spare.Take(kHugeBytes * 2), nullptr);
  EXPECT_EQ(spare.bytes(), 0u);
  spare.Prepare(kHugeBytes);
  spare.Prepare(kHugeBytes * 2);  // replaces the first
  EXPECT_EQ(spare.bytes(), kHugeBytes * 2);
  EXPECT_EQ(spare.Take(kHugeBytes), nullptr);
  spare.Prepare(kHugeBytes);
  spare.Drop();
  EXPECT_EQ(spare.bytes(), 0u);
  spare.Drop();               // twice is harmless
  spare.Prepare(kHugeBytes);  // left for the destructor to free
}

}  // namespace
}  // namespace ctcollect
