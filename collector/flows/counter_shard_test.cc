#include "collector/flows/counter_shard.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <tuple>

namespace ctcollect {
namespace {

using Key = std::tuple<uint16_t, Family, Proto, uint8_t>;

std::map<Key, int64_t> Read(const CounterShard& c) {
  std::map<Key, int64_t> out;
  c.ForEachEntries([&](uint16_t z, Family f, Proto p, uint8_t s, int64_t v) {
    out[{z, f, p, s}] = v;
  });
  return out;
}

TEST(CounterShard, EntriesPerZoneAndSeriesStayExportedAtZero) {
  CounterShard c;
  c.AddEntry(0, Family::kIpv4, Proto::kTcp, 3, 2);
  c.AddEntry(5, Family::kIpv6, Proto::kUdp, 0, 1);
  c.AddEntry(0, Family::kIpv4, Proto::kTcp, 3, -2);
  auto r = Read(c);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ((r[{0, Family::kIpv4, Proto::kTcp, 3}]), 0);
  EXPECT_EQ((r[{5, Family::kIpv6, Proto::kUdp, 0}]), 1);
}

TEST(CounterShard, EventsTransitionsAndHealth) {
  CounterShard c;
  c.CountEvent(EventType::kNew, Family::kIpv4, Proto::kTcp);
  c.CountEvent(EventType::kNew, Family::kIpv4, Proto::kTcp);
  c.CountTransition(Proto::kTcp, 1, 3);
  c.overruns().Add(1);
  c.resyncs(ResyncReason::kOverrun).Add(1);
  EXPECT_EQ(c.Events(EventType::kNew, Family::kIpv4, Proto::kTcp), 2);
  EXPECT_EQ(c.Events(EventType::kDestroy, Family::kIpv4, Proto::kTcp), 0);
  EXPECT_EQ(c.Transitions(Proto::kTcp, 1, 3), 1);
  EXPECT_EQ(c.overruns().Get(), 1);
  EXPECT_EQ(c.resyncs(ResyncReason::kOverrun).Get(), 1);
  EXPECT_EQ(ResyncReasonName(ResyncReason::kOverrun), "overrun");
}

// One writer adding zones while a reader walks them: the reader only ever
// sees fully constructed blocks (run under tsan to check the publication).
TEST(CounterShard, ReaderSeesConsistentBlocksWhileWriterAddsZones) {
  CounterShard c;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      for (auto& [k, v] : Read(c)) {
        ASSERT_GE(v, 0);
        ASSERT_LE(v, 100);
      }
    }
  });
  for (int round = 0; round < 100; ++round) {
    for (uint16_t z = 0; z < 50; ++z) {
      c.AddEntry(z, Family::kIpv4, Proto::kUdp, 0, 1);
    }
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(Read(c).size(), 50u);
}

}  // namespace
}  // namespace ctcollect
