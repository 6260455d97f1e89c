#include "collector/flows/flow_table.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>

namespace ctcollect {
namespace {

TEST(FlowTable, InsertFindErase) {
  FlowTable t;
  bool inserted;
  FlowRecord* r = t.Insert(42, &inserted);
  ASSERT_TRUE(inserted);
  r->state = 3;
  EXPECT_EQ(t.size(), 1u);
  FlowRecord* again = t.Insert(42, &inserted);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(again->state, 3);
  EXPECT_EQ(t.Find(42), again);
  EXPECT_EQ(t.Find(43), nullptr);
  t.Erase(again);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Find(42), nullptr);
}

TEST(FlowTable, IdZeroIsAValidId) {
  FlowTable t;
  bool inserted;
  t.Insert(0, &inserted);
  EXPECT_TRUE(inserted);
  EXPECT_NE(t.Find(0), nullptr);
}

// Random inserts and erases against std::unordered_set as the model,
// including growth, sequential ids (which collide in the low bits) and
// backward-shift deletion across wrapped clusters.
TEST(FlowTable, MatchesAModelUnderRandomOperations) {
  FlowTable t;
  std::unordered_set<uint32_t> model;
  std::mt19937 rng(1234);
  for (int i = 0; i < 200000; ++i) {
    uint32_t id = (i % 3 == 0) ? static_cast<uint32_t>(i / 3) : rng() % 50000;
    if (rng() % 3 == 0) {
      FlowRecord* r = t.Find(id);
      ASSERT_EQ(r != nullptr, model.count(id) == 1) << id;
      if (r) t.Erase(r);
      model.erase(id);
    } else {
      bool inserted;
      FlowRecord* r = t.Insert(id, &inserted);
      ASSERT_EQ(inserted, model.insert(id).second) << id;
      ASSERT_EQ(r->id, id);
    }
  }
  ASSERT_EQ(t.size(), model.size());
  for (uint32_t id : model) ASSERT_NE(t.Find(id), nullptr) << id;
}

TEST(FlowTable, EraseIfVisitsEveryRecordAndShrinks) {
  FlowTable t;
  bool inserted;
  for (uint32_t i = 0; i < 100000; ++i) t.Insert(i * 7919u, &inserted);
  size_t big = t.capacity();
  size_t erased = t.EraseIf([](const FlowRecord& r) { return r.id % 2 == 0; });
  EXPECT_EQ(erased, 50000u);
  EXPECT_EQ(t.size(), 50000u);
  for (uint32_t i = 0; i < 100000; ++i) {
    EXPECT_EQ(t.Find(i * 7919u) != nullptr, (i * 7919u) % 2 == 1);
  }
  t.EraseIf([](const FlowRecord&) { return true; });
  EXPECT_EQ(t.size(), 0u);
  EXPECT_LT(t.capacity(), big);
}

// Growth past kHugeBytes (base/table_memory.h) moves the records from a
// calloc'd array into hugepage-advised mappings, and a rehash from one
// mapping into the next: every record must survive each move, and shrinking
// back below the threshold as well.
TEST(FlowTable, GrowsAndShrinksAcrossTheHugepageThreshold) {
  FlowTable t;
  bool inserted;
  constexpr uint32_t kN = 600000;  // 1M slots: 16 MiB
  for (uint32_t i = 0; i < kN; ++i) {
    FlowRecord* r = t.Insert(i * 2654435761u, &inserted);
    ASSERT_TRUE(inserted);
    r->state = static_cast<uint8_t>(i % 11);
  }
  ASSERT_GE(t.bytes(), 4 * kHugeBytes);
  for (uint32_t i = 0; i < kN; ++i) {
    FlowRecord* r = t.Find(i * 2654435761u);
    ASSERT_NE(r, nullptr) << i;
    ASSERT_EQ(r->state, i % 11) << i;
  }
  t.EraseIf([](const FlowRecord& r) { return r.id % 64 != 0; });
  EXPECT_LT(t.bytes(), kHugeBytes);
  for (uint32_t i = 0; i < kN; ++i) {
    const uint32_t id = i * 2654435761u;
    FlowRecord* r = t.Find(id);
    ASSERT_EQ(r != nullptr, id % 64 == 0) << i;
    if (r) {
      ASSERT_EQ(r->state, i % 11) << i;
    }
  }
}

// A large table 5 points of load below its limit has its next array made
// ahead (base/table_memory.h, SpareTableMemory): bytes() counts it while it
// waits, and the doubling takes it, with every record moved.
TEST(FlowTable, PreparesItsNextArrayAheadAndTakesItWhenItDoubles) {
  FlowTable t;
  bool inserted;
  uint32_t n = 0;
  auto insert = [&] {
    FlowRecord* r = t.Insert(n * 2654435761u, &inserted);
    ASSERT_TRUE(inserted);
    r->state = static_cast<uint8_t>(n % 11);
    ++n;
  };
  while (t.capacity() * sizeof(FlowRecord) < 4 * kHugeBytes) insert();
  const size_t cap = t.capacity();  // 1M slots: 16 MiB
  while (t.size() + 1 < cap * 70 / 100) insert();
  EXPECT_EQ(t.bytes(), cap * sizeof(FlowRecord));  // not yet
  insert();
  EXPECT_EQ(t.bytes(), 3 * cap * sizeof(FlowRecord));  // array + spare
  while (t.size() * 100 <= cap * 75) insert();
  EXPECT_EQ(t.capacity(), 2 * cap);
  EXPECT_EQ(t.bytes(), 2 * cap * sizeof(FlowRecord));  // spare taken
  for (uint32_t i = 0; i < n; ++i) {
    FlowRecord* r = t.Find(i * 2654435761u);
    ASSERT_NE(r, nullptr) << i;
    ASSERT_EQ(r->state, i % 11) << i;
  }
  // A table that shrinks instead lets its spare go.
  while (t.size() + 1 < 2 * cap * 70 / 100) insert();
  insert();
  EXPECT_EQ(t.bytes(), 6 * cap * sizeof(FlowRecord));
  t.EraseIf([](const FlowRecord& r) { return r.id % 64 != 0; });
  EXPECT_LT(t.bytes(), 2 * cap * sizeof(FlowRecord));
}

TEST(FlowTable, MemoryPerFlowStaysCompact) {
  FlowTable t;
  bool inserted;
  for (uint32_t i = 0; i < 1000000; ++i) t.Insert(i * 2654435761u, &inserted);
  // Load factor stays between 3/8 and 3/4 while growing: <= 43 bytes/flow.
  EXPECT_LE(static_cast<double>(t.bytes()) / t.size(), 48.0);
}

}  // namespace
}  // namespace ctcollect

namespace ctcollect {
namespace {

// Conntrack ids are 32-bit hashes and collide (~120 pairs in 1M flows):
// the tuple tag keeps two flows with one id apart.
TEST(FlowTable, SameIdDifferentTupleTagAreTwoFlows) {
  FlowTable t;
  bool inserted;
  FlowRecord* a = t.Insert(7, 0x1111, &inserted);
  a->state = 1;
  EXPECT_TRUE(inserted);
  FlowRecord* b = t.Insert(7, 0x2222, &inserted);
  EXPECT_TRUE(inserted);
  b->state = 2;
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.Find(7, 0x1111)->state, 1);
  EXPECT_EQ(t.Find(7, 0x2222)->state, 2);
  t.Erase(t.Find(7, 0x1111));
  EXPECT_EQ(t.Find(7, 0x1111), nullptr);
  EXPECT_EQ(t.Find(7, 0x2222)->state, 2);
}

}  // namespace
}  // namespace ctcollect
