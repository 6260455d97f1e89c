#include "collector/base/table_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

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

}  // namespace
}  // namespace ctcollect
