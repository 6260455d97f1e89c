// The rankings as the flow tracker drives them: events, a resync dump with
// events arriving meanwhile, lost DESTROYs swept by a dump.
#include "collector/top/top_talkers.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include <atomic>
#include <map>
#include <thread>

#include "collector/flows/flow_tracker.h"

namespace ctcollect {
namespace {

CtMessage Flow(EventType t, uint32_t id, const std::string& src,
               uint16_t dport = 80) {
  CtMessage m;
  m.type = t;
  m.id = id;
  m.family = Family::kIpv4;
  m.proto = Proto::kUdp;
  m.l4proto = 17;
  m.has_state = true;
  inet_pton(AF_INET, src.c_str(), m.src);
  inet_pton(AF_INET, "198.51.100.1", m.dst);
  m.dport = dport;
  return m;
}

class TopTalkersTest : public ::testing::Test {
 protected:
  std::map<std::string, int64_t> Ranking(TopBy by = TopBy::kSrc) {
    std::map<std::string, int64_t> out;
    for (const auto& i : top_.Rank(by, 1000, 100).top) out[i.key] = i.entries;
    return out;
  }
  CounterShard counters_;
  TopTalkers top_;
  FlowTracker tracker_{&counters_, &top_};
};

TEST_F(TopTalkersTest, EventsCountAndUncount) {
  for (uint32_t i = 1; i <= 30; ++i) {
    tracker_.ApplyEvent(
        Flow(EventType::kNew, i, i <= 20 ? "10.0.0.1" : "10.0.0.2"), 100);
  }
  tracker_.ApplyEvent(Flow(EventType::kUpdate, 3, "10.0.0.1"), 100);
  tracker_.ApplyEvent(Flow(EventType::kDestroy, 4, "10.0.0.1"), 100);
  tracker_.ApplyEvent(Flow(EventType::kDestroy, 999, "10.0.0.9"), 100);
  EXPECT_EQ(Ranking(), (std::map<std::string, int64_t>{{"10.0.0.1", 19},
                                                       {"10.0.0.2", 10}}));
  EXPECT_EQ(Ranking(TopBy::kDport),
            (std::map<std::string, int64_t>{{"udp/80", 29}}));
  EXPECT_TRUE(Ranking(TopBy::kSnat).empty());
  TopRanking r = top_.Rank(TopBy::kSrc, 1, 100);
  EXPECT_EQ(r.entries, 29);
  ASSERT_EQ(r.top.size(), 1u);
  EXPECT_EQ(r.top[0].key, "10.0.0.1");
  EXPECT_GT(r.top[0].new_per_second, 0);
  EXPECT_EQ(r.exact_at, 0);
}

TEST_F(TopTalkersTest, DumpSweepsFlowsWhoseDestroyWasLost) {
  for (uint32_t i = 1; i <= 10; ++i) {
    tracker_.ApplyEvent(Flow(EventType::kNew, i, "10.0.0.1"), 100);
  }
  // The kernel still has flows 1-4 and one we never heard of.
  tracker_.BeginDump();
  for (uint32_t i = 1; i <= 4; ++i) {
    tracker_.ApplyDumpEntry(Flow(EventType::kNew, i, "10.0.0.1"), 100);
  }
  tracker_.ApplyDumpEntry(Flow(EventType::kNew, 50, "10.0.0.5"), 100);
  EXPECT_EQ(Ranking()["10.0.0.1"], 10);  // live until the dump ends
  tracker_.EndDump(true, 100);
  EXPECT_EQ(Ranking(),
            (std::map<std::string, int64_t>{{"10.0.0.1", 4}, {"10.0.0.5", 1}}));
  EXPECT_GT(top_.Rank(TopBy::kSrc, 1, 100).exact_at, 1e9);
}

TEST_F(TopTalkersTest, EventsDuringTheDumpCountOnce) {
  for (uint32_t i = 1; i <= 6; ++i) {
    tracker_.ApplyEvent(Flow(EventType::kNew, i, "10.0.0.1"), 100);
  }
  tracker_.BeginDump();
  tracker_.ApplyDumpEntry(Flow(EventType::kNew, 1, "10.0.0.1"), 100);
  // 2 is updated before the dump reaches it, 3 destroyed after it did,
  // 4 destroyed before, 7 created and then dumped too.
  tracker_.ApplyEvent(Flow(EventType::kUpdate, 2, "10.0.0.1"), 100);
  tracker_.ApplyEvent(Flow(EventType::kDestroy, 1, "10.0.0.1"), 100);
  tracker_.ApplyEvent(Flow(EventType::kDestroy, 4, "10.0.0.1"), 100);
  tracker_.ApplyEvent(Flow(EventType::kNew, 7, "10.0.0.1"), 100);
  for (uint32_t i : {2u, 3u, 4u, 5u, 7u}) {
    tracker_.ApplyDumpEntry(Flow(EventType::kNew, i, "10.0.0.1"), 100);
  }
  // 6 is not in the dump: its DESTROY was lost.
  tracker_.EndDump(true, 100);
  EXPECT_EQ(tracker_.live_flows(), 4u);  // 2, 3, 5, 7
  EXPECT_EQ(Ranking(), (std::map<std::string, int64_t>{{"10.0.0.1", 4}}));
}

TEST_F(TopTalkersTest, InterruptedDumpKeepsTheLiveView) {
  for (uint32_t i = 1; i <= 5; ++i) {
    tracker_.ApplyEvent(Flow(EventType::kNew, i, "10.0.0.1"), 100);
  }
  tracker_.BeginDump();
  tracker_.ApplyDumpEntry(Flow(EventType::kNew, 1, "10.0.0.1"), 100);
  tracker_.ApplyEvent(Flow(EventType::kNew, 6, "10.0.0.2"), 100);
  tracker_.EndDump(false, 100);
  EXPECT_EQ(Ranking(),
            (std::map<std::string, int64_t>{{"10.0.0.1", 5}, {"10.0.0.2", 1}}));
  EXPECT_EQ(top_.Rank(TopBy::kSrc, 1, 100).exact_at, 0);
}

TEST_F(TopTalkersTest, ResyncRecountsRankedKeysExactly) {
  // Enough distinct sources that the ranking sketches; the heavy source's
  // count then came from the sketch, and a dump makes it exact.
  uint32_t id = 1;
  for (int i = 0; i < 20000; ++i) {
    tracker_.ApplyEvent(Flow(EventType::kNew, id++,
                             "10." + std::to_string(1 + i / 65536) + "." +
                                 std::to_string((i / 256) % 256) + "." +
                                 std::to_string(i % 256)),
                        100);
    if (i % 10 == 0 && i > 3000) {
      tracker_.ApplyEvent(Flow(EventType::kNew, id++, "192.0.2.9"), 100);
    }
  }
  const int64_t heavy = Ranking()["192.0.2.9"];
  EXPECT_GE(heavy, 1699);
  // A dump of just the heavy flows (as if the rest were gone).
  tracker_.BeginDump();
  for (uint32_t i = 0; i < 1700; ++i) {
    tracker_.ApplyDumpEntry(Flow(EventType::kNew, 100000 + i, "192.0.2.9"),
                            100);
  }
  tracker_.EndDump(true, 100);
  TopRanking r = top_.Rank(TopBy::kSrc, 10, 100);
  ASSERT_EQ(r.top.size(), 1u);
  EXPECT_EQ(r.top[0].entries, 1700);
  EXPECT_EQ(r.top[0].error, 0);
  EXPECT_EQ(r.entries, 1700);
}

TEST_F(TopTalkersTest, SampleKeepsKeysAboveTheShareAndTheLargestSnatTuple) {
  uint32_t id = 1;
  for (int i = 0; i < 200; ++i) {
    CtMessage m = Flow(EventType::kNew, id++, "10.0.1." + std::to_string(i));
    tracker_.ApplyEvent(m, 100);
  }
  for (int i = 0; i < 50; ++i) {
    CtMessage m = Flow(EventType::kNew, id++, "10.0.0.7", 443);
    m.l4proto = 6;
    m.proto = Proto::kTcp;
    m.has_reply = true;
    m.has_status = true;
    m.status = IPS_SRC_NAT;
    std::memcpy(m.reply_src, m.dst, 4);
    inet_pton(AF_INET, "192.0.2.1", m.reply_dst);
    m.reply_sport = 443;
    tracker_.ApplyEvent(m, 100);
  }
  TopSample s = top_.Sample(0.01, 100);
  std::map<std::string, int64_t> keys;
  for (const auto& e : s.keys) {
    keys[std::string(TopByName(e.by)) + " " + e.key] = e.entries;
  }
  // 1% of 250 is 3: the single-flow sources are not there.
  EXPECT_EQ(keys, (std::map<std::string, int64_t>{
                      {"src 10.0.0.7", 50},
                      {"dst 198.51.100.1", 250},
                      {"dport udp/80", 200},
                      {"dport tcp/443", 50},
                      {"snat tcp/192.0.2.1->198.51.100.1:443", 50}}));
  ASSERT_EQ(s.snat_max.size(), 1u);
  EXPECT_EQ(s.snat_max[0], (std::pair<uint8_t, int64_t>{6, 50}));
  EXPECT_LT(top_.bytes(), 64u << 10);  // an exact-mode namespace is small
}

// Readers (the HTTP and control threads) while the ingest thread writes
// and dumps: scripts/tsan.sh runs this under ThreadSanitizer.
TEST_F(TopTalkersTest, ReadersWhileTheIngestThreadWrites) {
  std::atomic<bool> done{false};
  std::thread writer([&] {
    uint32_t id = 1;
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 2000; ++i) {
        tracker_.ApplyEvent(Flow(EventType::kNew, id++,
                                 "10.0." + std::to_string(i % 200) + ".1"),
                            100);
      }
      tracker_.BeginDump();
      tracker_.ApplyDumpEntry(Flow(EventType::kNew, id - 1, "10.0.0.1"), 100);
      tracker_.EndDump(round % 2 == 0, 100);
    }
    done = true;
  });
  int64_t reads = 0;
  while (!done) {
    TopRanking r = top_.Rank(TopBy::kSrc, 10, 100);
    EXPECT_LE(r.top.size(), 10u);
    for (const auto& k : top_.Sample(0.01, 100).keys) EXPECT_GT(k.entries, 0);
    EXPECT_GE(top_.bytes(), sizeof(TopTalkers));
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
  EXPECT_EQ(top_.Rank(TopBy::kSrc, 1, 100).entries,
            static_cast<int64_t>(tracker_.live_flows()));
}

}  // namespace
}  // namespace ctcollect
