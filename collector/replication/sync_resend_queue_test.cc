#include "collector/replication/sync_resend_queue.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

SyncFlowKey Key(uint16_t port) {
  SyncFlowKey k;
  k.family = 2;
  k.sport = port;
  return k;
}

void Add(ResendQueue* q, uint32_t seq, const SyncFlowKey* key) {
  uint8_t msg[8] = {0x10, 0, 0, 8, 0, 0, 0, 0};
  q->Add(seq, msg, sizeof(msg), key);
}

TEST(ResendQueue, AckFreesARange) {
  ResendQueue q(100);
  for (uint32_t s = 10; s < 20; ++s) {
    auto k = Key(static_cast<uint16_t>(s));
    Add(&q, s, &k);
  }
  EXPECT_EQ(q.Ack(12, 15), 4u);
  EXPECT_EQ(q.size(), 6u);
  auto taken = q.TakeRange(16, 100);
  EXPECT_EQ(taken.size(), 4u);
  EXPECT_EQ(q.size(), 2u);  // 10 and 11
}

TEST(ResendQueue, ANewerMessageForAFlowReplacesTheOlder) {
  ResendQueue q(100);
  auto k = Key(1);
  Add(&q, 1, &k);
  Add(&q, 2, nullptr);  // a control message
  Add(&q, 3, &k);
  EXPECT_EQ(q.size(), 2u);
  auto taken = q.TakeRange(0, 10);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_FALSE(taken[0].has_key);
  EXPECT_TRUE(taken[1].has_key);
}

TEST(ResendQueue, FullDropsTheOldestAndCounts) {
  ResendQueue q(3);
  for (uint32_t s = 1; s <= 5; ++s) {
    auto k = Key(static_cast<uint16_t>(s));
    Add(&q, s, &k);
  }
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.dropped_full(), 2);
  EXPECT_EQ(q.TakeRange(1, 2).size(), 0u);
}

TEST(ResendQueue, SequenceNumbersWrapAround) {
  ResendQueue q(10);
  auto a = Key(1), b = Key(2), c = Key(3);
  Add(&q, 0xfffffffe, &a);
  Add(&q, 0xffffffff, &b);
  Add(&q, 0, &c);
  EXPECT_TRUE(SeqBefore(0xffffffff, 0));
  EXPECT_EQ(q.Ack(0xffffffff, 0), 2u);
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace ctcollect
