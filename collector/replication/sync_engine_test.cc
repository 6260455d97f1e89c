#include "collector/replication/sync_engine.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <deque>
#include <random>
#include <vector>

#include "collector/replication/sync_test_flow.h"

namespace ctcollect {
namespace {

// Carries one engine's datagrams to another, dropping some on purpose.
class Wire : public SyncSender {
 public:
  bool Send(size_t link, const uint8_t* data, size_t len) override {
    (void)link;
    ++sent;
    if (drop_every > 0 && ++counter % drop_every == 0) return true;  // lost
    if (drop_next > 0) {
      --drop_next;
      return true;
    }
    queue.emplace_back(data, data + len);
    return true;
  }
  std::deque<std::vector<uint8_t>> queue;
  int drop_every = 0;
  int drop_next = 0;
  int counter = 0;
  int sent = 0;
};

SyncFlow Flow(uint16_t sport, uint8_t state = 3) {
  return TestSyncFlow(sport, state);
}

// Two engines, a and b, replicating to each other over lossy wires.
struct Pair {
  explicit Pair(SyncMode mode, uint32_t window = 300) {
    SyncEngineConfig c;
    c.mode = mode;
    c.ack_window = window;
    c.initial_seq = 1000;
    a = std::make_unique<SyncEngine>(
        c, std::vector<std::string>{"b"},
        std::vector<SyncEngine::PeerSpec>{{"b", 0}}, &a_to_b,
        [this](auto emit) {
          for (auto& f : a_table) emit(f);
        });
    c.initial_seq = 5000;
    b = std::make_unique<SyncEngine>(
        c, std::vector<std::string>{"a"},
        std::vector<SyncEngine::PeerSpec>{{"a", 0}}, &b_to_a, nullptr);
  }
  // Delivers what is in flight both ways until nothing is.
  void Run(int64_t now_ms) {
    for (int round = 0; round < 100; ++round) {
      if (a_to_b.queue.empty() && b_to_a.queue.empty()) return;
      while (!a_to_b.queue.empty()) {
        auto d = std::move(a_to_b.queue.front());
        a_to_b.queue.pop_front();
        b->Receive(0, d.data(), d.size(), false, now_ms, now_ms / 1000);
      }
      b->Flush();
      while (!b_to_a.queue.empty()) {
        auto d = std::move(b_to_a.queue.front());
        b_to_a.queue.pop_front();
        a->Receive(0, d.data(), d.size(), false, now_ms, now_ms / 1000);
      }
      a->Flush();
    }
  }
  Wire a_to_b, b_to_a;
  std::vector<SyncFlow> a_table;
  std::unique_ptr<SyncEngine> a, b;
};

TEST(SyncEngine, NotrackReplicatesNewUpdateAndDelete) {
  Pair p(SyncMode::kNotrack);
  p.a->LocalFlow(kSyncCtNew, Flow(1));
  p.a->LocalFlow(kSyncCtNew, Flow(2));
  p.a->LocalFlow(kSyncCtUpd, Flow(2, 7));
  p.a->Flush();
  p.Run(0);
  const SyncCache& c = p.b->cache(0);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.buckets().at({AF_INET, IPPROTO_TCP, 3}), 1);
  EXPECT_EQ(c.buckets().at({AF_INET, IPPROTO_TCP, 7}), 1);
  p.a->LocalFlow(kSyncCtDel, Flow(1));
  p.a->Flush();
  p.Run(0);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(p.b->peer_stats(0).recv[static_cast<size_t>(SyncMsgKind::kNew)], 2);
  EXPECT_EQ(p.b->peer_stats(0).lost, 0);
}

TEST(SyncEngine, NotrackCountsLostMessagesExactly) {
  Pair p(SyncMode::kNotrack);
  p.a->LocalFlow(kSyncCtNew, Flow(1));
  p.a->Flush();
  p.Run(0);
  // Three datagrams (one message each) lost, then one arrives: a gap of 3.
  p.a_to_b.drop_next = 3;
  for (uint16_t i = 2; i <= 5; ++i) {
    p.a->LocalFlow(kSyncCtNew, Flow(i));
    p.a->Flush();
  }
  p.Run(0);
  EXPECT_EQ(p.b->peer_stats(0).lost, 3);  // conntrackd would say 5
  EXPECT_EQ(p.b->cache(0).size(), 2u);    // NOTRACK does not recover
}

TEST(SyncEngine, FtfwHandshakeAndWindowAcks) {
  Pair p(SyncMode::kFtfw, /*window=*/4);
  EXPECT_FALSE(p.a->link_synced(0));
  for (uint16_t i = 1; i <= 8; ++i) p.a->LocalFlow(kSyncCtNew, Flow(i));
  p.a->Flush();
  p.Run(0);
  EXPECT_EQ(p.b->cache(0).size(), 8u);
  // b answered HELLO with HELLO_BACK (on its window ACKs).
  EXPECT_TRUE(p.a->link_synced(0));
  EXPECT_GT(p.b->link_stats(0).sent[static_cast<size_t>(SyncMsgKind::kAck)], 0);
  // The ACKs emptied a's resend queue.
  EXPECT_EQ(p.a->resend_queue(0).size(), 0u);
}

TEST(SyncEngine, FtfwRecoversLostMessagesThroughNack) {
  Pair p(SyncMode::kFtfw, 300);
  // Finish the handshake first: while HELLO is on, FT-FW does not track.
  p.a->LocalFlow(kSyncCtNew, Flow(1));
  p.a->Flush();
  p.Run(0);
  p.b->Tick(2000, 2);  // b's alive timer ACKs (with HELLO_BACK)
  p.b->Flush();
  p.Run(2000);
  ASSERT_TRUE(p.a->link_synced(0));
  // Every third datagram lost, one message per datagram.
  p.a_to_b.drop_every = 3;
  for (uint16_t i = 2; i <= 60; ++i) {
    p.a->LocalFlow(kSyncCtNew, Flow(i));
    p.a->Flush();
  }
  p.a_to_b.drop_every = 0;
  p.Run(2000);
  // The last message may be the lost one: the alive timers close that gap.
  for (int64_t t = 3000; t < 10000; t += 1000) {
    p.a->Tick(t, t / 1000);
    p.b->Tick(t, t / 1000);
    p.a->Flush();
    p.b->Flush();
    p.Run(t);
  }
  EXPECT_EQ(p.b->cache(0).size(), 60u);
  EXPECT_GT(p.a->link_stats(0).retransmitted, 0);
  EXPECT_GT(p.b->peer_stats(0).lost, 0);
  EXPECT_GT(p.b->link_stats(0).sent[static_cast<size_t>(SyncMsgKind::kNack)],
            0);
}

TEST(SyncEngine, RetransmissionNeverBringsBackAStaleState) {
  Pair p(SyncMode::kFtfw, 300);
  p.a->LocalFlow(kSyncCtNew, Flow(1));
  p.a->Flush();
  p.Run(0);
  p.b->Tick(2000, 2);
  p.b->Flush();
  p.Run(2000);
  // The update to state 4 is lost, the one to state 7 arrives.
  p.a_to_b.drop_next = 1;
  p.a->LocalFlow(kSyncCtUpd, Flow(1, 4));
  p.a->Flush();
  p.a->LocalFlow(kSyncCtUpd, Flow(1, 7));
  p.a->Flush();
  p.Run(2000);
  ASSERT_EQ(p.b->cache(0).size(), 1u);
  EXPECT_EQ(p.b->cache(0).buckets().count({AF_INET, IPPROTO_TCP, 7}), 1u);
  EXPECT_EQ(p.b->cache(0).buckets().count({AF_INET, IPPROTO_TCP, 4}), 0u);
}

TEST(SyncEngine, ResyncRequestBulkSendsTheTable) {
  Pair p(SyncMode::kFtfw);
  for (uint16_t i = 1; i <= 100; ++i) p.a_table.push_back(Flow(i));
  p.b->RequestResync();
  p.Run(0);
  EXPECT_EQ(p.b->cache(0).size(), 100u);
  EXPECT_EQ(p.b->peer_stats(0).recv[static_cast<size_t>(SyncMsgKind::kUpdate)],
            100);
  // Batched: far fewer datagrams than messages.
  EXPECT_LT(p.a_to_b.sent, 20);
}

TEST(SyncEngine, AlarmRefreshesAndExpires) {
  Pair p(SyncMode::kAlarm);
  p.a_table.push_back(Flow(1));
  p.a->Tick(100000, 100);  // refresh due
  p.Run(100000);
  EXPECT_EQ(p.b->cache(0).size(), 1u);
  p.b->Tick(100000 + 179000, 279);
  EXPECT_EQ(p.b->cache(0).size(), 1u);
  p.b->Tick(100000 + 181000, 281);  // past CacheTimeout (180 s)
  EXPECT_EQ(p.b->cache(0).size(), 0u);
  EXPECT_EQ(p.b->peer_stats(0).expired, 1);
}

TEST(SyncEngine, CountsMalformedByReasonAndKeepsTheRest) {
  Pair p(SyncMode::kNotrack);
  uint8_t buf[kSyncMaxMessage * 2];
  size_t n = EncodeSyncFlow(Flow(1), kSyncCtNew, 1, 0, buf);
  // A second message with a bad attribute, then the walk goes on.
  size_t m = EncodeSyncFlow(Flow(2), kSyncCtNew, 2, 0, buf + n);
  buf[n + 8 + 3] = 40;  // first attribute id out of range
  size_t k = EncodeSyncFlow(Flow(3), kSyncCtNew, 3, 0, buf + n + m);
  buf[n + m] = 0x20;  // third: version 2
  p.b->Receive(0, buf, n + m + k, false, 0, 0);
  const auto& s = p.b->peer_stats(0);
  EXPECT_EQ(p.b->cache(0).size(), 1u);
  EXPECT_EQ(s.malformed[static_cast<size_t>(SyncError::kBadPayload)], 1);
  EXPECT_EQ(s.malformed[static_cast<size_t>(SyncError::kBadVersion)], 1);
  // A type between 6 and 9: NOTRACK's digest calls it a malformed header
  // (as conntrackd's does), and the truncated tail after it.
  SyncHeader h;
  h.type = 7;
  h.len = 8;
  h.seq = 4;
  PutSyncHeader(h, buf);
  buf[8] = 0x10;
  p.b->Receive(0, buf, 11, false, 0, 0);
  EXPECT_EQ(s.malformed[static_cast<size_t>(SyncError::kBadHeader)], 1);
  EXPECT_EQ(s.malformed[static_cast<size_t>(SyncError::kTruncated)], 1);
}

TEST(SyncEngine, AlarmCountsBadTypes) {
  Pair p(SyncMode::kAlarm);
  uint8_t buf[8];
  SyncHeader h;
  h.type = 7;
  h.len = 8;
  h.seq = 4;
  PutSyncHeader(h, buf);
  p.b->Receive(0, buf, 8, false, 0, 0);
  EXPECT_EQ(
      p.b->peer_stats(0).malformed[static_cast<size_t>(SyncError::kBadType)],
      1);
}

TEST(SyncEngine, AliveWhenIdle) {
  Pair p(SyncMode::kNotrack);
  p.a->Tick(5000, 5);
  p.Run(5000);
  EXPECT_EQ(p.b->peer_stats(0).recv[static_cast<size_t>(SyncMsgKind::kAlive)],
            1);
  EXPECT_EQ(p.b->peer_stats(0).last_seen_unix, 5);
}

TEST(SyncEngine, FuzzedDatagramsNeverBreakIt) {
  Pair p(SyncMode::kFtfw);
  std::mt19937 rng(42);
  uint8_t buf[1500];
  for (int i = 0; i < 20000; ++i) {
    size_t n = rng() % sizeof(buf);
    for (size_t j = 0; j < n; ++j) buf[j] = static_cast<uint8_t>(rng());
    if (n >= 4 && i % 2) {  // plausible headers reach the deeper code
      buf[0] = static_cast<uint8_t>(0x10 | (rng() % 11));
      buf[2] = 0;
      buf[3] = static_cast<uint8_t>(std::min<size_t>(n, 255));
    }
    p.b->Receive(0, buf, n, i % 3 == 0, i, i / 1000);
  }
  p.b->Flush();
  int64_t dropped = 0;
  for (int64_t v : p.b->peer_stats(0).malformed) dropped += v;
  EXPECT_GT(dropped, 1000);
}

}  // namespace
}  // namespace ctcollect
