#include "collector/replication/sync_hmac.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "collector/base/config_error.h"
#include "collector/replication/sync_channel.h"
#include "collector/replication/sync_engine.h"
#include "collector/replication/sync_options.h"
#include "collector/replication/sync_test_flow.h"

namespace ctcollect {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

const std::string kKey = "0123456789abcdef-shared-key";

TEST(SyncHmac, SignAppendsTheRfc4231TagAndVerifyStripsIt) {
  // RFC 4231, test case 2: HMAC-SHA256 with key "Jefe".
  SyncHmac jefe("Jefe");
  std::vector<uint8_t> d = Bytes("what do ya want for nothing?");
  const size_t body = d.size();
  jefe.Sign(&d);
  ASSERT_EQ(d.size(), body + SyncHmac::kTagSize);
  std::string hex;
  for (size_t i = body; i < d.size(); ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", d[i]);
    hex += b;
  }
  EXPECT_EQ(hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  size_t len = d.size();
  EXPECT_TRUE(jefe.Verify(d.data(), &len));
  EXPECT_EQ(len, body);
}

TEST(SyncHmac, WrongKeyAndEveryFlippedBitAreRefused) {
  SyncHmac ours(kKey), theirs(kKey + "x");
  std::vector<uint8_t> d = Bytes("a datagram of sync messages");
  ours.Sign(&d);
  size_t len = d.size();
  EXPECT_FALSE(theirs.Verify(d.data(), &len));
  EXPECT_EQ(len, d.size()) << "a refused datagram keeps its length";
  for (size_t i = 0; i < d.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> bad = d;
      bad[i] ^= static_cast<uint8_t>(1 << bit);
      len = bad.size();
      EXPECT_FALSE(ours.Verify(bad.data(), &len)) << "byte " << i;
    }
  }
}

TEST(SyncHmac, TruncatedDatagramsAreRefused) {
  SyncHmac h(kKey);
  std::vector<uint8_t> d = Bytes("sixteen bytes ..");
  h.Sign(&d);
  // Every proper prefix: a cut tag, a tag alone, less than a tag, nothing.
  for (size_t len = 0; len < d.size(); ++len) {
    size_t l = len;
    EXPECT_FALSE(h.Verify(d.data(), &l)) << len << " of " << d.size();
  }
  // A tag over nothing is a valid (empty) datagram; its prefixes are not.
  std::vector<uint8_t> empty;
  h.Sign(&empty);
  size_t l = empty.size();
  EXPECT_TRUE(h.Verify(empty.data(), &l));
  EXPECT_EQ(l, 0u);
}

TEST(SyncHmac, KeyFileNeedsSixteenBytesAndLosesTrailingNewlines) {
  const std::string path =
      "/tmp/ctcollect-hmac-test-" + std::to_string(getpid());
  std::ofstream(path) << kKey << "\n\r\n";
  SyncHmac from_file = SyncHmac::FromFile(path);
  std::vector<uint8_t> d = Bytes("x");
  SyncHmac(kKey).Sign(&d);
  size_t len = d.size();
  EXPECT_TRUE(from_file.Verify(d.data(), &len));
  std::ofstream(path) << "fifteen bytes..\n";
  EXPECT_THROW(SyncHmac::FromFile(path), ConfigError);
  std::remove(path.c_str());
  EXPECT_THROW(SyncHmac::FromFile(path), ConfigError);
}

// TCP has no datagrams to tag: a key with --sync.transport=tcp is refused
// before any socket opens.
TEST(SyncHmac, RefusedOverTcp) {
  SyncOptions o;
  o.transport = SyncTransport::kTcp;
  o.listen_address = "127.0.0.1";
  o.peers = {"127.0.0.2"};
  o.mtu = 1500;
  try {
    SyncChannel ch(o, std::make_shared<SyncHmac>(kKey));
    ADD_FAILURE() << "a TCP channel opened with an HMAC key";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("only with udp or multicast"),
              std::string::npos)
        << e.what();
  }
}

// Signs what an engine sends; what arrives is verified before the other
// engine reads it, as SyncChannel does.
class SignedWire : public SyncSender {
 public:
  explicit SignedWire(const SyncHmac& h) : hmac(h) {}
  bool Send(size_t, const uint8_t* data, size_t len) override {
    std::vector<uint8_t> d(data, data + len);
    hmac.Sign(&d);
    queue.push_back(d);
    sent.push_back(std::move(d));
    return true;
  }
  const SyncHmac& hmac;
  std::deque<std::vector<uint8_t>> queue;
  std::vector<std::vector<uint8_t>> sent;  // every datagram, for replays
};

void Deliver(const SyncHmac& h, SyncEngine* to, std::vector<uint8_t> d,
             int64_t now_ms) {
  size_t len = d.size();
  ASSERT_TRUE(h.Verify(d.data(), &len));
  to->Receive(0, d.data(), len, false, now_ms, now_ms / 1000);
}

SyncFlow Flow(uint16_t sport) { return TestSyncFlow(sport); }

// The tag says who sent a datagram, not when: a replayed datagram verifies.
// In FT-FW the receiver's sequence check drops it (counted as `before`), so
// a replayed NEW cannot bring back a flow its sender has since deleted.
TEST(SyncHmac, ReplayedDatagramVerifiesAndFtfwDropsItBySequence) {
  SyncHmac h(kKey);
  SignedWire a_to_b(h), b_to_a(h);
  SyncEngineConfig c;
  c.mode = SyncMode::kFtfw;
  c.initial_seq = 100;
  SyncEngine a(c, {"b"}, {{"b", 0}}, &a_to_b, nullptr);
  c.initial_seq = 900;
  SyncEngine b(c, {"a"}, {{"a", 0}}, &b_to_a, nullptr);
  auto run = [&](int64_t now_ms) {
    while (!a_to_b.queue.empty() || !b_to_a.queue.empty()) {
      for (; !a_to_b.queue.empty(); a_to_b.queue.pop_front())
        Deliver(h, &b, a_to_b.queue.front(), now_ms);
      b.Flush();
      for (; !b_to_a.queue.empty(); b_to_a.queue.pop_front())
        Deliver(h, &a, b_to_a.queue.front(), now_ms);
      a.Flush();
    }
  };
  // The handshake first: HELLO datagrams bypass the sequence check.
  a.LocalFlow(kSyncCtNew, Flow(1));
  a.Flush();
  run(0);
  b.Tick(2000, 2);
  b.Flush();
  run(2000);
  ASSERT_TRUE(a.link_synced(0));

  const size_t before_new = a_to_b.sent.size();
  a.LocalFlow(kSyncCtNew, Flow(2));
  a.Flush();
  ASSERT_EQ(a_to_b.sent.size(), before_new + 1);
  const std::vector<uint8_t> signed_new = a_to_b.sent.back();
  run(2000);
  EXPECT_EQ(b.cache(0).size(), 2u);
  a.LocalFlow(kSyncCtDel, Flow(2));
  a.Flush();
  run(2000);
  ASSERT_EQ(b.cache(0).size(), 1u);

  const int64_t dropped = b.peer_stats(0).before;
  size_t len = signed_new.size();
  ASSERT_TRUE(h.Verify(signed_new.data(), &len)) << "the replay verifies";
  Deliver(h, &b, signed_new, 2000);
  b.Flush();
  EXPECT_EQ(b.cache(0).size(), 1u) << "the replayed NEW was applied";
  EXPECT_EQ(b.peer_stats(0).before, dropped + 1);
}

}  // namespace
}  // namespace ctcollect
