#include "collector/flows/flow_tracker.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

namespace ctcollect {
namespace {

CtMessage Msg(EventType t, uint32_t id, Proto p = Proto::kTcp, int state = -1,
              uint16_t zone = 0, Family f = Family::kIpv4) {
  CtMessage m;
  m.type = t;
  m.id = id;
  m.proto = p;
  m.family = f;
  m.zone = zone;
  m.has_zone = zone != 0;
  if (!ProtoHasStates(p)) {
    m.has_state = true;
    m.state = 0;
  } else if (state >= 0) {
    m.has_state = true;
    m.state = static_cast<uint8_t>(state);
  }
  return m;
}

class FlowTrackerTest : public ::testing::Test {
 protected:
  // Entries gauges with a non-zero value, keyed by (zone, proto, state).
  std::map<std::tuple<int, Proto, int>, int64_t> Gauges() const {
    std::map<std::tuple<int, Proto, int>, int64_t> out;
    counters_.ForEachEntries(
        [&](uint16_t z, Family, Proto p, uint8_t s, int64_t v) {
          if (v != 0) out[{z, p, s}] += v;
        });
    return out;
  }
  int64_t Total() const {
    int64_t t = 0;
    for (auto& [k, v] : Gauges()) t += v;
    return t;
  }
  void Event(const CtMessage& m) { tracker_.ApplyEvent(m, 100); }
  void Dumped(const CtMessage& m) { tracker_.ApplyDumpEntry(m, 100); }

  CounterShard counters_;
  FlowTracker tracker_{&counters_};
};

constexpr int kSynSent = 1, kSynRecv = 2, kEstablished = 3, kFinWait = 4,
              kTimeWait = 7;

TEST_F(FlowTrackerTest, TcpLifecycleMovesBetweenBuckets) {
  Event(Msg(EventType::kNew, 1, Proto::kTcp, kSynSent));
  EXPECT_EQ((Gauges()[{0, Proto::kTcp, kSynSent}]), 1);
  Event(Msg(EventType::kUpdate, 1, Proto::kTcp, kSynRecv));
  Event(Msg(EventType::kUpdate, 1, Proto::kTcp, kEstablished));
  Event(Msg(EventType::kUpdate, 1));  // no PROTOINFO: state unchanged
  Event(Msg(EventType::kUpdate, 1, Proto::kTcp, kFinWait));
  Event(Msg(EventType::kUpdate, 1, Proto::kTcp, kTimeWait));
  auto g = Gauges();
  EXPECT_EQ(g.size(), 1u);
  EXPECT_EQ((g[{0, Proto::kTcp, kTimeWait}]), 1);
  EXPECT_EQ(counters_.Transitions(Proto::kTcp, kSynSent, kSynRecv), 1);
  EXPECT_EQ(counters_.Transitions(Proto::kTcp, kSynRecv, kEstablished), 1);
  EXPECT_EQ(counters_.Transitions(Proto::kTcp, kEstablished, kFinWait), 1);
  EXPECT_EQ(counters_.Transitions(Proto::kTcp, kFinWait, kTimeWait), 1);
  EXPECT_EQ(counters_.Transitions(Proto::kTcp, kEstablished, kEstablished), 0);
  Event(Msg(EventType::kDestroy, 1));
  EXPECT_EQ(Total(), 0);
  EXPECT_EQ(tracker_.live_flows(), 0u);
  EXPECT_EQ(counters_.Events(EventType::kUpdate, Family::kIpv4, Proto::kTcp),
            5);
}

TEST_F(FlowTrackerTest, EveryTcpStateTransitionIsCounted) {
  uint32_t id = 1;
  for (int from = 0; from < kNoState; ++from) {
    for (int to = 0; to < kNoState; ++to) {
      if (from == to) continue;
      Event(Msg(EventType::kNew, id, Proto::kTcp, from));
      Event(Msg(EventType::kUpdate, id, Proto::kTcp, to));
      EXPECT_EQ((Gauges()[{0, Proto::kTcp, to}]), 1) << from << "->" << to;
      EXPECT_EQ(counters_.Transitions(Proto::kTcp, from, to), 1);
      Event(Msg(EventType::kDestroy, id));
      ++id;
    }
  }
  EXPECT_EQ(Total(), 0);
}

TEST_F(FlowTrackerTest, StatefulFlowWithoutReportedStateGetsItLater) {
  Event(Msg(EventType::kNew, 1, Proto::kDccp));  // no CTA_PROTOINFO
  EXPECT_EQ((Gauges()[{0, Proto::kDccp, kNoState}]), 1);
  Event(Msg(EventType::kUpdate, 1, Proto::kDccp, 4));
  auto g = Gauges();
  EXPECT_EQ(g.size(), 1u);
  EXPECT_EQ((g[{0, Proto::kDccp, 4}]), 1);
  // Not a transition: the first state was never known.
  EXPECT_EQ(counters_.Transitions(Proto::kDccp, kNoState, 4), 0);
}

TEST_F(FlowTrackerTest, DuplicateNewAndUpdateBeforeNewCountOnce) {
  Event(Msg(EventType::kNew, 7, Proto::kUdp));
  Event(Msg(EventType::kNew, 7, Proto::kUdp));
  EXPECT_EQ(Total(), 1);
  // An UPDATE for a flow we never saw (its NEW was lost): it exists.
  Event(Msg(EventType::kUpdate, 8, Proto::kTcp, kEstablished));
  EXPECT_EQ(Total(), 2);
  Event(Msg(EventType::kDestroy, 8));
  Event(Msg(EventType::kDestroy, 8));  // duplicate DESTROY
  EXPECT_EQ(Total(), 1);
  EXPECT_EQ(counters_.destroy_unknown().Get(), 1);
}

TEST_F(FlowTrackerTest, DestroyOfUnknownIdIsCountedAndIgnored) {
  Event(Msg(EventType::kDestroy, 99));
  EXPECT_EQ(Total(), 0);
  EXPECT_EQ(counters_.destroy_unknown().Get(), 1);
  EXPECT_EQ(tracker_.table().size(), 0u);
}

TEST_F(FlowTrackerTest, ZoneAndFamilyAreSeparateSeries) {
  Event(Msg(EventType::kNew, 1, Proto::kUdp, -1, 3));
  Event(Msg(EventType::kNew, 2, Proto::kUdp, -1, 0, Family::kIpv6));
  auto g = Gauges();
  EXPECT_EQ((g[{3, Proto::kUdp, 0}]), 1);
  EXPECT_EQ((g[{0, Proto::kUdp, 0}]), 1);
}

TEST_F(FlowTrackerTest, DumpRemovesFlowsWhoseDestroyWasLost) {
  Event(Msg(EventType::kNew, 1, Proto::kUdp));
  Event(Msg(EventType::kNew, 2, Proto::kUdp));
  tracker_.BeginDump();
  Dumped(Msg(EventType::kNew, 2, Proto::kUdp));
  Dumped(Msg(EventType::kNew, 3, Proto::kTcp, kEstablished));  // NEW lost
  EXPECT_EQ(tracker_.EndDump(true), 1u);
  auto g = Gauges();
  EXPECT_EQ((g[{0, Proto::kUdp, 0}]), 1);
  EXPECT_EQ((g[{0, Proto::kTcp, kEstablished}]), 1);
  EXPECT_EQ(tracker_.live_flows(), 2u);
}

TEST_F(FlowTrackerTest, DumpCorrectsAStateWhoseUpdateWasLost) {
  Event(Msg(EventType::kNew, 1, Proto::kTcp, kSynSent));
  tracker_.BeginDump();
  Dumped(Msg(EventType::kNew, 1, Proto::kTcp, kEstablished));
  tracker_.EndDump(true);
  EXPECT_EQ((Gauges()[{0, Proto::kTcp, kEstablished}]), 1);
  EXPECT_EQ(Total(), 1);
  // A dump is not a transition we saw.
  EXPECT_EQ(counters_.Transitions(Proto::kTcp, kSynSent, kEstablished), 0);
}

TEST_F(FlowTrackerTest, DestroyDuringDumpBeatsAStaleDumpEntry) {
  Event(Msg(EventType::kNew, 1, Proto::kUdp));
  tracker_.BeginDump();
  Event(Msg(EventType::kDestroy, 1));            // kernel destroyed it...
  Dumped(Msg(EventType::kNew, 1, Proto::kUdp));  // ...after dumping it
  // A flow destroyed before we ever knew it, also reported by the dump.
  Event(Msg(EventType::kDestroy, 2));
  Dumped(Msg(EventType::kNew, 2, Proto::kUdp));
  EXPECT_EQ(Total(), 0);
  tracker_.EndDump(true);
  EXPECT_EQ(Total(), 0);
  EXPECT_EQ(tracker_.table().size(), 0u);  // tombstones gone too
}

TEST_F(FlowTrackerTest, CreatedDuringDumpSurvivesTheSweep) {
  tracker_.BeginDump();
  Event(
      Msg(EventType::kNew, 5, Proto::kTcp, kSynSent));  // after the dump passed
  tracker_.EndDump(true);
  EXPECT_EQ((Gauges()[{0, Proto::kTcp, kSynSent}]), 1);
}

TEST_F(FlowTrackerTest, EventNewerThanDumpEntryWins) {
  Event(Msg(EventType::kNew, 1, Proto::kTcp, kEstablished));
  tracker_.BeginDump();
  Event(Msg(EventType::kUpdate, 1, Proto::kTcp, kFinWait));
  Dumped(Msg(EventType::kNew, 1, Proto::kTcp, kEstablished));  // older view
  tracker_.EndDump(true);
  auto g = Gauges();
  EXPECT_EQ((g[{0, Proto::kTcp, kFinWait}]), 1);
  EXPECT_EQ(Total(), 1);
}

TEST_F(FlowTrackerTest, IdReusedAfterDestroyWithinADump) {
  tracker_.BeginDump();
  Event(Msg(EventType::kNew, 1, Proto::kUdp));
  Event(Msg(EventType::kDestroy, 1));
  Event(Msg(EventType::kNew, 1, Proto::kTcp, kSynSent));
  tracker_.EndDump(true);
  EXPECT_EQ(Total(), 1);
  EXPECT_EQ((Gauges()[{0, Proto::kTcp, kSynSent}]), 1);
}

TEST_F(FlowTrackerTest, IncompleteDumpSweepsNothing) {
  Event(Msg(EventType::kNew, 1, Proto::kUdp));
  tracker_.BeginDump();
  EXPECT_EQ(tracker_.EndDump(false), 0u);
  EXPECT_EQ(Total(), 1);
  // The next complete dump does.
  tracker_.BeginDump();
  EXPECT_EQ(tracker_.EndDump(true), 1u);
  EXPECT_EQ(Total(), 0);
}

TEST_F(FlowTrackerTest, GaugesEqualTableSizeThroughAStorm) {
  for (uint32_t i = 0; i < 50000; ++i) {
    Event(Msg(EventType::kNew, i * 13, Proto::kTcp, kEstablished));
  }
  tracker_.BeginDump();
  for (uint32_t i = 0; i < 50000; ++i) {
    if (i % 2) Event(Msg(EventType::kDestroy, i * 13));
    if (i % 3) Dumped(Msg(EventType::kNew, i * 13, Proto::kTcp, kEstablished));
  }
  tracker_.EndDump(true);
  // Alive: even i. Of those the dump saw i % 3 != 0; the rest are stale.
  int64_t expect = 0;
  for (uint32_t i = 0; i < 50000; ++i) expect += (i % 2 == 0 && i % 3 != 0);
  EXPECT_EQ(Total(), expect);
  EXPECT_EQ(static_cast<int64_t>(tracker_.live_flows()), expect);
  EXPECT_EQ(tracker_.table_entries(), expect);
}

}  // namespace
}  // namespace ctcollect

namespace ctcollect {
namespace {

TEST(FlowTrackerCounters, CacheViewAndTrafficFromDestroy) {
  CounterShard c;
  FlowTracker t(&c);
  CtMessage m;
  m.type = EventType::kNew;
  m.id = 1;
  m.proto = Proto::kUdp;
  m.has_state = true;
  t.ApplyEvent(m, 1);
  m.type = EventType::kUpdate;
  t.ApplyEvent(m, 1);
  m.type = EventType::kDestroy;
  m.has_counters = true;
  m.bytes[0] = 100;
  m.bytes[1] = 50;
  m.packets[0] = 2;
  m.packets[1] = 1;
  t.ApplyEvent(m, 1);
  EXPECT_EQ(c.flows_added().Get(), 1);
  EXPECT_EQ(c.flows_updated().Get(), 1);
  EXPECT_EQ(c.flows_removed().Get(), 1);
  EXPECT_EQ(c.FlowBytes(Family::kIpv4, Proto::kUdp, 0), 100);
  EXPECT_EQ(c.FlowBytes(Family::kIpv4, Proto::kUdp, 1), 50);
  EXPECT_EQ(c.FlowPackets(Family::kIpv4, Proto::kUdp, 0), 2);
  // A stale flow removed by a dump's sweep counts as removed too.
  m.type = EventType::kNew;
  m.id = 2;
  t.ApplyEvent(m, 1);
  t.BeginDump();
  t.EndDump(true);
  EXPECT_EQ(c.flows_removed().Get(), 2);
}

}  // namespace
}  // namespace ctcollect

namespace ctcollect {
namespace {

TEST(FlowTrackerStatus, BreakdownFollowsStatusBitsAndHelper) {
  CounterShard c;
  FlowTracker t(&c);
  CtMessage m;
  m.id = 1;
  m.proto = Proto::kTcp;
  m.has_state = true;
  m.state = 1;
  m.has_status = true;
  m.status = IPS_CONFIRMED | IPS_SRC_NAT;  // no reply yet
  t.ApplyEvent(m, 1);
  EXPECT_EQ(c.StatusEntries(1), 1);  // unreplied
  EXPECT_EQ(c.StatusEntries(2), 1);  // snat
  EXPECT_EQ(c.StatusEntries(0), 0);
  m.type = EventType::kUpdate;
  m.status = IPS_CONFIRMED | IPS_SRC_NAT | IPS_SEEN_REPLY | IPS_ASSURED;
  m.has_helper = true;
  t.ApplyEvent(m, 1);
  EXPECT_EQ(c.StatusEntries(0), 1);  // assured
  EXPECT_EQ(c.StatusEntries(1), 0);
  EXPECT_EQ(c.StatusEntries(5), 1);  // helper
  m.type = EventType::kDestroy;
  m.has_timestamp = true;
  m.start_ns = 1000000000;
  m.stop_ns = 3500000000;  // 2.5 s
  t.ApplyEvent(m, 1);
  for (int i = 0; i < kNumFlowStatus; ++i) EXPECT_EQ(c.StatusEntries(i), 0);
  EXPECT_EQ(c.DurationBucket(Family::kIpv4, Proto::kTcp, 4), 1);  // <= 10 s
  EXPECT_EQ(c.DurationBucket(Family::kIpv4, Proto::kTcp, 3), 0);  // not <= 1 s
  EXPECT_DOUBLE_EQ(c.DurationSum(Family::kIpv4, Proto::kTcp), 2.5);
}

}  // namespace
}  // namespace ctcollect

namespace ctcollect {
namespace {

class FlowTrackerClassTest : public FlowTrackerTest {
 protected:
  void SetUp() override {
    std::string err;
    auto web = ParseFlowClass({{"name", "web"}, {"dport", "80"}}, &err);
    auto marked = ParseFlowClass({{"name", "marked"}, {"mark", "7"}}, &err);
    tracker_.SetClassifier(std::make_shared<FlowClassifier>(
        std::vector<FlowClass>{*web, *marked}));
  }
  // conntrack_class_entries of `cls`, keyed by (proto, state), non-zero.
  std::map<std::pair<Proto, int>, int64_t> ClassGauges(
      const std::string& cls) const {
    std::map<std::pair<Proto, int>, int64_t> out;
    counters_.ForEachBlock(
        CounterShard::LabelKind::kClass,
        [&](const CounterShard::LabelBlock& b) {
          if (b.name != cls) return;
          for (int i = 0; i < kNumProtos * kMaxStates; ++i) {
            if (b.entries[i].Get() != 0) {
              out[{static_cast<Proto>(i / kMaxStates), i % kMaxStates}] =
                  b.entries[i].Get();
            }
          }
        });
    return out;
  }
  int64_t ClassFlows(const std::string& cls, Proto p) const {
    int64_t v = -1;
    counters_.ForEachBlock(CounterShard::LabelKind::kClass,
                           [&](const CounterShard::LabelBlock& b) {
                             if (b.name == cls)
                               v = b.flows[static_cast<int>(p)].Get();
                           });
    return v;
  }
  static CtMessage Web(EventType t, uint32_t id, int state, uint16_t dport) {
    CtMessage m = Msg(t, id, Proto::kTcp, state);
    m.dport = dport;
    return m;
  }
};

TEST_F(FlowTrackerClassTest, ClassGaugesFollowStateAndDestroy) {
  Event(Web(EventType::kNew, 1, kSynSent, 80));
  Event(Web(EventType::kNew, 2, kSynSent, 81));  // no class
  EXPECT_EQ((ClassGauges("web")[{Proto::kTcp, kSynSent}]), 1);
  EXPECT_EQ(ClassGauges("web").size(), 1u);
  Event(Web(EventType::kUpdate, 1, kEstablished, 80));
  EXPECT_EQ((ClassGauges("web")[{Proto::kTcp, kEstablished}]), 1);
  EXPECT_EQ(ClassGauges("web").size(), 1u);
  EXPECT_EQ(ClassFlows("web", Proto::kTcp), 1);
  Event(Web(EventType::kDestroy, 1, -1, 80));
  EXPECT_TRUE(ClassGauges("web").empty());
  EXPECT_EQ(ClassFlows("web", Proto::kTcp), 1);  // counters stay
  EXPECT_EQ(Total(), 1);
}

TEST_F(FlowTrackerClassTest, MarkChangeMovesAFlowBetweenClasses) {
  CtMessage m = Web(EventType::kNew, 1, kEstablished, 443);
  Event(m);
  EXPECT_TRUE(ClassGauges("marked").empty());
  m.type = EventType::kUpdate;
  m.mark = 7;
  m.has_mark = true;
  Event(m);
  EXPECT_EQ((ClassGauges("marked")[{Proto::kTcp, kEstablished}]), 1);
  m.mark = 0;
  Event(m);
  EXPECT_TRUE(ClassGauges("marked").empty());
}

TEST_F(FlowTrackerClassTest, DumpSweepsClassifiedFlows) {
  Event(Web(EventType::kNew, 1, kEstablished, 80));
  Event(Web(EventType::kNew, 2, kEstablished, 80));
  tracker_.BeginDump();
  Dumped(Web(EventType::kNew, 2, kEstablished, 80));  // 1's DESTROY was lost
  tracker_.EndDump(true);
  EXPECT_EQ((ClassGauges("web")[{Proto::kTcp, kEstablished}]), 1);
}

TEST_F(FlowTrackerClassTest, ReloadKeepsCountersAndReclassifiesOnDump) {
  Event(Web(EventType::kNew, 1, kEstablished, 80));
  Event(Web(EventType::kNew, 2, kEstablished, 8080));
  std::string err;
  auto web = ParseFlowClass({{"name", "web"}, {"dport", "80-8080"}}, &err);
  tracker_.SetClassifier(
      std::make_shared<FlowClassifier>(std::vector<FlowClass>{*web}));
  // Out of every class until the dump says where they are.
  EXPECT_TRUE(ClassGauges("web").empty());
  EXPECT_EQ(ClassFlows("marked", Proto::kTcp), -1);  // inactive now
  EXPECT_EQ(ClassFlows("web", Proto::kTcp), 1);      // kept across reload
  tracker_.BeginDump();
  Dumped(Web(EventType::kNew, 1, kEstablished, 80));
  Dumped(Web(EventType::kNew, 2, kEstablished, 8080));
  tracker_.EndDump(true);
  EXPECT_EQ((ClassGauges("web")[{Proto::kTcp, kEstablished}]), 2);
  tracker_.SetClassifier(nullptr);
  EXPECT_TRUE(ClassGauges("web").empty());
  EXPECT_EQ(Total(), 2);
}

}  // namespace
}  // namespace ctcollect

namespace ctcollect {
namespace {

// A batch applies its events in order, as one ApplyEvent each: a flow
// created, moved and destroyed within one batch, and flows whose table
// grows (and is rehashed) between the prefetch and the apply.
TEST(FlowTrackerBatch, ApplyEventBatchEqualsOneByOne) {
  std::vector<CtMessage> msgs;
  for (uint32_t i = 0; i < 5000; ++i) {
    msgs.push_back(Msg(EventType::kNew, i * 2654435761u, Proto::kTcp, 1));
  }
  for (uint32_t i = 0; i < 5000; i += 2) {
    msgs.push_back(Msg(EventType::kUpdate, i * 2654435761u, Proto::kTcp, 3));
  }
  msgs.push_back(Msg(EventType::kNew, 7, Proto::kUdp));
  msgs.push_back(Msg(EventType::kDestroy, 7, Proto::kUdp));
  for (uint32_t i = 0; i < 5000; i += 3) {
    msgs.push_back(Msg(EventType::kDestroy, i * 2654435761u, Proto::kTcp));
  }
  CounterShard one_counters, batch_counters;
  FlowTracker one(&one_counters), batched(&batch_counters);
  for (const CtMessage& m : msgs) one.ApplyEvent(m, 100);
  for (size_t i = 0; i < msgs.size(); i += 64) {
    batched.ApplyEventBatch(&msgs[i], std::min<size_t>(64, msgs.size() - i),
                            100);
  }
  batched.ApplyEventBatch(nullptr, 0, 100);  // an empty batch is a no-op
  EXPECT_EQ(batched.live_flows(), one.live_flows());
  auto entries = [](const CounterShard& c) {
    std::map<std::tuple<int, Proto, int>, int64_t> out;
    c.ForEachEntries([&](uint16_t z, Family, Proto p, uint8_t s, int64_t v) {
      if (v != 0) out[{z, p, s}] += v;
    });
    return out;
  };
  EXPECT_EQ(entries(batch_counters), entries(one_counters));
  EXPECT_EQ(batch_counters.flows_added().Get(),
            one_counters.flows_added().Get());
  EXPECT_EQ(batch_counters.flows_removed().Get(),
            one_counters.flows_removed().Get());
  EXPECT_EQ(batched.table().size(), one.table().size());
}

}  // namespace
}  // namespace ctcollect
