#include "collector/replication/sync_key_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace ctcollect {
namespace {

SyncFlowKey Key(uint32_t i) {
  SyncFlowKey k;
  k.family = 2;
  k.l4proto = 6;
  k.sport = static_cast<uint16_t>(i);
  k.src[2] = static_cast<uint8_t>(i >> 16);
  k.src[3] = static_cast<uint8_t>(i >> 24);
  return k;
}

TEST(SyncKeyIndex, PutFindErase) {
  SyncKeyIndex idx(16);
  idx.Put(Key(1), 10);
  idx.Put(Key(2), 20);
  idx.Put(Key(1), 11);
  ASSERT_NE(idx.Find(Key(1)), nullptr);
  EXPECT_EQ(*idx.Find(Key(1)), 11u);
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_TRUE(idx.Erase(Key(1)));
  EXPECT_FALSE(idx.Erase(Key(1)));
  EXPECT_EQ(idx.Find(Key(1)), nullptr);
  EXPECT_EQ(*idx.Find(Key(2)), 20u);
}

// The index does not fault its next array in ahead (only the flow table
// does, base/open_table.h kFaultInAhead): at its 50% load limit a spare
// would triple the memory of a replication peer's largest structure
// (sync_bench.sh at 132f265, where it did: sender RSS 682 MiB at 1M flows,
// 469 MiB in the run before). Its memory only ever doubles as it grows,
// through sizes that are mapped on their own.
TEST(SyncKeyIndex, GrowsByDoublingWithNoSpareArray) {
  SyncKeyIndex idx(16);
  size_t bytes = idx.MemoryBytes();
  int doublings = 0;
  for (uint32_t i = 0; i < 300000; ++i) {
    idx.Put(Key(i), i);
    if (idx.MemoryBytes() != bytes) {
      ASSERT_EQ(idx.MemoryBytes(), 2 * bytes) << i;
      bytes = idx.MemoryBytes();
      ++doublings;
    }
  }
  EXPECT_GE(bytes, 8 * kHugeBytes);
  EXPECT_GE(doublings, 10);
}

// Random inserts and deletes, checked against std::map: growth and the
// backward shift keep every entry findable.
TEST(SyncKeyIndex, AgreesWithAMapUnderChurn) {
  SyncKeyIndex idx(16);
  std::map<uint32_t, uint64_t> ref;
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t k = rng() % 5000;
    if (rng() % 3 == 0) {
      EXPECT_EQ(idx.Erase(Key(k)), ref.erase(k) == 1);
    } else {
      idx.Put(Key(k), i);
      ref[k] = static_cast<uint64_t>(i);
    }
  }
  EXPECT_EQ(idx.size(), ref.size());
  for (uint32_t k = 0; k < 5000; ++k) {
    const uint64_t* v = idx.Find(Key(k));
    auto it = ref.find(k);
    ASSERT_EQ(v != nullptr, it != ref.end()) << k;
    if (v) {
      EXPECT_EQ(*v, it->second);
    }
  }
  idx.Clear();
  EXPECT_EQ(idx.size(), 0u);
  EXPECT_EQ(idx.Find(Key(1)), nullptr);
}

}  // namespace
}  // namespace ctcollect
