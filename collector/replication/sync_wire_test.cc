#include "collector/replication/sync_wire.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

namespace ctcollect {
namespace {

std::vector<uint8_t> Hex(const std::string& s) {
  std::vector<uint8_t> out;
  std::string digits;
  for (char c : s) {
    if (isxdigit(static_cast<unsigned char>(c))) digits += c;
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(
        static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The CT_NEW captured on the wire from conntrackd 1.4.7 (FT-FW over UDP),
// shared/reference/conntrackd.md §1.
const char kCtNew[] =
    "10 00 0034 6b02d9f3 | 000c 0000 7f000001 7f000001 | 0008 0005 00000188 |"
    "0005 0002 11 000000 | 0008 0003 c236 14e9 | 0008 0006 0000001e";

TEST(SyncWire, DecodesConntrackdsCtNew) {
  auto b = Hex(kCtNew);
  ASSERT_EQ(b.size(), 52u);
  SyncHeader h = ReadSyncHeader(b.data(), b.size());
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.type, kSyncCtNew);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(h.len, 52);
  EXPECT_EQ(h.seq, 0x6b02d9f3u);
  EXPECT_TRUE(h.IsData());
  SyncFlow f;
  ASSERT_TRUE(DecodeSyncFlow(b.data() + 8, b.size() - 8, &f));
  EXPECT_EQ(f.family, AF_INET);
  EXPECT_EQ(f.src[0], 127);
  EXPECT_EQ(f.src[3], 1);
  EXPECT_EQ(f.dst[3], 1);
  EXPECT_EQ(f.status, 0x188u);
  EXPECT_EQ(f.l4proto, 17);
  EXPECT_EQ(f.sport, 49718);
  EXPECT_EQ(f.dport, 5353);
  EXPECT_TRUE(f.Has(kNtaTimeout));
  EXPECT_EQ(f.timeout, 30u);
  EXPECT_FALSE(f.Has(kNtaMark));
}

TEST(SyncWire, EncodesTheSameBytesAsConntrackd) {
  auto b = Hex(kCtNew);
  SyncFlow f;
  ASSERT_TRUE(DecodeSyncFlow(b.data() + 8, b.size() - 8, &f));
  uint8_t out[kSyncMaxMessage];
  size_t n = EncodeSyncFlow(f, kSyncCtNew, 0x6b02d9f3u, 0, out);
  EXPECT_EQ(std::vector<uint8_t>(out, out + n), b);
}

TEST(SyncWire, NatPortsAreLittleEndianOnTheWire) {
  // DNAT tail of a CT_UPD: DNAT_IPV4 127.0.0.1, DPAT_PORT 8080 as 90 1f.
  auto tail = Hex("0008 000d 7f000001 | 0006 000f 901f 0000");
  SyncFlow f;
  ASSERT_TRUE(DecodeSyncFlow(tail.data(), tail.size(), &f));
  EXPECT_TRUE(f.Has(kNtaDnatIpv4));
  EXPECT_EQ(f.dnat[0], 127);
  EXPECT_TRUE(f.Has(kNtaDpatPort));
  EXPECT_EQ(f.dpat, 8080);
  uint8_t out[kSyncMaxMessage];
  size_t n = EncodeSyncFlow(f, kSyncCtUpd, 1, 0, out);
  EXPECT_EQ(std::vector<uint8_t>(out + 8, out + n), tail);
}

TEST(SyncWire, ControlHeaders) {
  auto alive = Hex("1a 30 0008 6b02d9e7");
  SyncHeader h = ReadSyncHeader(alive.data(), alive.size());
  EXPECT_EQ(h.type, kSyncCtl);
  EXPECT_TRUE(h.IsAlive());
  EXPECT_FALSE(h.IsData());
  EXPECT_FALSE(h.HasRange());
  EXPECT_EQ(h.flags, kSyncFlagAlive | kSyncFlagHello);

  auto ack = Hex("1a 68 0010 6b02d9e9 6b02d9e9 6b02d9e9");
  h = ReadSyncHeader(ack.data(), ack.size());
  EXPECT_TRUE(h.IsAck());
  EXPECT_EQ(h.from, 0x6b02d9e9u);
  EXPECT_EQ(h.to, 0x6b02d9e9u);
  uint8_t out[kSyncAckSize];
  ASSERT_EQ(PutSyncHeader(h, out), kSyncAckSize);
  EXPECT_EQ(std::vector<uint8_t>(out, out + 16), ack);

  auto resync = Hex("1a 02 0010 6b02da3c 00000000 00000000");
  h = ReadSyncHeader(resync.data(), resync.size());
  EXPECT_TRUE(h.IsResync());
  EXPECT_EQ(h.from, 0u);
}

SyncFlow FullFlow() {
  SyncFlow f;
  f.Set(kNtaIpv6);
  f.family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::1", f.src);
  inet_pton(AF_INET6, "2001:db8::2", f.dst);
  f.Set(kNtaStatus);
  f.status = 0x1ce;
  f.Set(kNtaL4proto);
  f.l4proto = IPPROTO_TCP;
  f.Set(kNtaPort);
  f.sport = 40000;
  f.dport = 21;
  f.Set(kNtaTcpState);
  f.state = 3;
  f.Set(kNtaTimeout);
  f.timeout = 431999;
  f.Set(kNtaMark);
  f.mark = 0xdeadbeef;
  f.Set(kNtaMasterIpv6);
  inet_pton(AF_INET6, "2001:db8::9", f.master_src);
  f.Set(kNtaMasterL4proto);
  f.master_l4proto = 6;
  f.Set(kNtaMasterPort);
  f.master_sport = 1;
  f.master_dport = 2;
  f.Set(kNtaSnatIpv6);
  inet_pton(AF_INET6, "2001:db8::7", f.snat);
  f.Set(kNtaSpatPort);
  f.spat = 1234;
  f.Set(kNtaNatSeqAdj);
  for (int i = 0; i < 6; ++i) f.nat_seq[i] = 100 + i;
  f.Set(kNtaHelperName);
  std::strcpy(f.helper, "ftp");
  f.Set(kNtaLabels);
  f.labels[0] = 1;
  f.labels[3] = 0x80000000u;
  f.Set(kNtaSynproxy);
  f.synproxy[0] = 7;
  f.synproxy[1] = 8;
  f.synproxy[2] = 9;
  f.Set(kNtaZone);
  f.zone = 7;
  return f;
}

TEST(SyncWire, RoundTripsEveryAttribute) {
  const SyncFlow f = FullFlow();
  uint8_t out[kSyncMaxMessage];
  size_t n = EncodeSyncFlow(f, kSyncCtUpd, 99, kSyncFlagHello, out);
  EXPECT_EQ(n % 4, 0u);
  SyncHeader h = ReadSyncHeader(out, n);
  EXPECT_EQ(h.len, n);
  EXPECT_EQ(h.seq, 99u);
  EXPECT_TRUE(h.IsData());  // HELLO does not make it a control message
  SyncFlow g;
  ASSERT_TRUE(DecodeSyncFlow(out + 8, n - 8, &g));
  EXPECT_EQ(g.present, f.present);
  EXPECT_EQ(std::memcmp(g.src, f.src, 16), 0);
  EXPECT_EQ(g.mark, f.mark);
  EXPECT_EQ(g.spat, 1234);
  EXPECT_EQ(g.nat_seq[5], 105u);
  EXPECT_STREQ(g.helper, "ftp");
  EXPECT_EQ(g.labels[3], 0x80000000u);
  EXPECT_EQ(g.synproxy[2], 9u);
  EXPECT_EQ(g.zone, 7);
  EXPECT_TRUE(g.Key() == f.Key());
}

TEST(SyncWire, RejectsWhatConntrackdRejects) {
  auto b = Hex(kCtNew);
  SyncFlow f;
  auto attrs = std::vector<uint8_t>(b.begin() + 8, b.end());
  // An attribute shorter than its header.
  auto bad = attrs;
  bad[1] = 3;
  EXPECT_FALSE(DecodeSyncFlow(bad.data(), bad.size(), &f));
  // Longer than what is left.
  bad = attrs;
  bad[0] = 0x10;
  EXPECT_FALSE(DecodeSyncFlow(bad.data(), bad.size(), &f));
  // An unknown attribute id.
  bad = attrs;
  bad[3] = 33;
  EXPECT_FALSE(DecodeSyncFlow(bad.data(), bad.size(), &f));
  // A fixed-size attribute of the wrong size (IPV4 with 4 bytes).
  bad = Hex("0008 0000 7f000001");
  EXPECT_FALSE(DecodeSyncFlow(bad.data(), bad.size(), &f));
  // A helper name over conntrackd's 16 bytes.
  bad = Hex("0014 001b 61616161 61616161 61616161 61616100");
  EXPECT_FALSE(DecodeSyncFlow(bad.data(), bad.size(), &f));
  // Four or fewer trailing bytes are ignored, as conntrackd does.
  auto ok = attrs;
  ok.insert(ok.end(), {0, 0, 0, 0});
  EXPECT_TRUE(DecodeSyncFlow(ok.data(), ok.size(), &f));
}

TEST(SyncWire, WalksConcatenatedMessagesAndNamesErrors) {
  auto a = Hex(kCtNew);
  auto alive = Hex("1a 30 0008 6b02d9e7");
  std::vector<uint8_t> d = a;
  d.insert(d.end(), alive.begin(), alive.end());
  int seen = 0;
  size_t used = 0;
  auto count = [&](const SyncHeader&, const uint8_t*, size_t) { ++seen; };
  EXPECT_EQ(WalkSyncMessages(d.data(), d.size(), false, &used, count),
            SyncError::kNone);
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(used, d.size());

  // Truncated: fewer than 8 bytes left after a whole message.
  seen = 0;
  auto t = a;
  t.insert(t.end(), {0x1a, 0x30, 0x00});
  EXPECT_EQ(WalkSyncMessages(t.data(), t.size(), false, &used, count),
            SyncError::kTruncated);
  EXPECT_EQ(seen, 1);
  // A length past the datagram.
  auto s = a;
  s[3] = 0x40;
  EXPECT_EQ(WalkSyncMessages(s.data(), s.size(), false, &used, count),
            SyncError::kBadSize);
  // ...but on a stream it waits for the rest.
  EXPECT_EQ(WalkSyncMessages(s.data(), s.size(), true, &used, count),
            SyncError::kNone);
  EXPECT_EQ(used, 0u);
  // An ACK cut short of its 16 bytes, and one whose length says less.
  auto ack = Hex("1a 08 0008 00000001");
  EXPECT_EQ(WalkSyncMessages(ack.data(), ack.size(), false, &used, count),
            SyncError::kTruncated);
  ack = Hex("1a 08 0008 00000001 00000001 00000001");
  EXPECT_EQ(WalkSyncMessages(ack.data(), ack.size(), false, &used, count),
            SyncError::kBadSize);
  // Length zero.
  auto zero = Hex("10 00 0000 00000001");
  EXPECT_EQ(WalkSyncMessages(zero.data(), zero.size(), false, &used, count),
            SyncError::kBadSize);
}

TEST(SyncWire, ExpectationsRoundTrip) {
  SyncExpect e;
  e.present = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 6) |
              (1u << 7) | (1u << 8) | (1u << 12) | (1u << 19);
  e.master.family = AF_INET;
  e.master.src[0] = 10;
  e.master.l4proto = 6;
  e.master.sport = 1000;
  e.master.dport = 21;
  e.expected.family = AF_INET;
  e.expected.dst[3] = 5;
  e.expected.l4proto = 6;
  e.expected.dport = 50000;
  e.mask.family = AF_INET;
  e.timeout = 300;
  std::strcpy(e.helper, "ftp");
  uint8_t out[kSyncMaxMessage];
  size_t n = EncodeSyncExpect(e, kSyncExpNew, 5, 0, out);
  SyncExpect g;
  ASSERT_TRUE(DecodeSyncExpect(out + 8, n - 8, &g));
  EXPECT_EQ(g.present, e.present);
  EXPECT_EQ(g.master.sport, 1000);
  EXPECT_EQ(g.expected.dport, 50000);
  EXPECT_EQ(g.expected.dst[3], 5);
  EXPECT_EQ(g.timeout, 300u);
  EXPECT_STREQ(g.helper, "ftp");
  // Ids past the expectation table reject the message.
  auto bad = std::vector<uint8_t>(out + 8, out + n);
  bad[3] = 21;
  EXPECT_FALSE(DecodeSyncExpect(bad.data(), bad.size(), &g));
}

}  // namespace
}  // namespace ctcollect
