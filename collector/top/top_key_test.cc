#include "collector/top/top_key.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter/nf_conntrack_common.h>

namespace ctcollect {
namespace {

CtMessage Flow(const char* src, const char* dst, uint16_t dport,
               uint8_t l4proto = 6) {
  CtMessage m;
  const bool v6 = std::string(src).find(':') != std::string::npos;
  m.family = v6 ? Family::kIpv6 : Family::kIpv4;
  inet_pton(v6 ? AF_INET6 : AF_INET, src, m.src);
  inet_pton(v6 ? AF_INET6 : AF_INET, dst, m.dst);
  m.l4proto = l4proto;
  m.proto = ProtoFromNumber(l4proto);
  m.sport = 40000;
  m.dport = dport;
  return m;
}

void Masquerade(CtMessage* m, const char* xsrc, uint16_t xport) {
  const int af = m->family == Family::kIpv6 ? AF_INET6 : AF_INET;
  std::memcpy(m->reply_src, m->dst, sizeof(m->dst));
  inet_pton(af, xsrc, m->reply_dst);
  m->reply_sport = m->dport;
  (void)xport;
  m->has_reply = true;
  m->has_status = true;
  m->status = IPS_SRC_NAT | IPS_CONFIRMED;
}

TEST(TopKey, FlowGivesItsKeysAsTheyAreSpelt) {
  CtMessage m = Flow("10.0.0.3", "198.51.100.7", 443);
  FlowTopKeys k = TopKeysOf(m);
  EXPECT_EQ(k.has, 0x7);  // no NAT: no snat key
  EXPECT_EQ(FormatTopKey(TopBy::kSrc, k.keys[0]), "10.0.0.3");
  EXPECT_EQ(FormatTopKey(TopBy::kDst, k.keys[1]), "198.51.100.7");
  EXPECT_EQ(FormatTopKey(TopBy::kDport, k.keys[2]), "tcp/443");

  Masquerade(&m, "192.0.2.1", 61000);
  k = TopKeysOf(m);
  EXPECT_EQ(k.has, 0xf);
  EXPECT_EQ(FormatTopKey(TopBy::kSnat, k.keys[3]),
            "tcp/192.0.2.1->198.51.100.7:443");
}

TEST(TopKey, Ipv6AndOtherProtocols) {
  CtMessage m = Flow("2001:db8::1", "2001:db8::2", 53, 17);
  Masquerade(&m, "2001:db8::ff", 1024);
  FlowTopKeys k = TopKeysOf(m);
  EXPECT_EQ(FormatTopKey(TopBy::kSrc, k.keys[0]), "2001:db8::1");
  EXPECT_EQ(FormatTopKey(TopBy::kDport, k.keys[2]), "udp/53");
  EXPECT_EQ(FormatTopKey(TopBy::kSnat, k.keys[3]),
            "udp/2001:db8::ff->[2001:db8::2]:53");
  CtMessage ospf = Flow("10.0.0.1", "224.0.0.5", 0, 89);
  EXPECT_EQ(FormatTopKey(TopBy::kDport, TopKeysOf(ospf).keys[2]), "89/0");
}

TEST(TopKey, SnatNeedsTheStatusBitAndTheReplyTuple) {
  CtMessage m = Flow("10.0.0.3", "198.51.100.7", 443);
  Masquerade(&m, "192.0.2.1", 61000);
  m.status = IPS_DST_NAT;
  EXPECT_EQ(TopKeysOf(m).has, 0x7);
  m.status = IPS_SRC_NAT;
  m.has_reply = false;
  EXPECT_EQ(TopKeysOf(m).has, 0x7);
}

TEST(TopKey, SameBytesSameHashAndEqual) {
  FlowTopKeys a = TopKeysOf(Flow("10.0.0.3", "10.0.0.4", 80));
  FlowTopKeys b = TopKeysOf(Flow("10.0.0.3", "10.0.0.5", 81));
  EXPECT_TRUE(a.keys[0] == b.keys[0]);
  EXPECT_EQ(HashTopKey(a.keys[0], 7), HashTopKey(b.keys[0], 7));
  EXPECT_FALSE(a.keys[1] == b.keys[1]);
  EXPECT_NE(HashTopKey(a.keys[1], 7), HashTopKey(b.keys[1], 7));
  EXPECT_NE(HashTopKey(a.keys[0], 7), HashTopKey(a.keys[0], 8));
}

TEST(TopKey, ParsesRankingNames) {
  EXPECT_EQ(ParseTopBy("src"), TopBy::kSrc);
  EXPECT_EQ(ParseTopBy("snat"), TopBy::kSnat);
  EXPECT_EQ(ParseTopBy("sport"), std::nullopt);
  EXPECT_EQ(ParseTopBy(""), std::nullopt);
}

}  // namespace
}  // namespace ctcollect
