#include "collector/flows/flow_filter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <memory>

namespace ctcollect {
namespace {

using CtPtr = std::unique_ptr<nf_conntrack, decltype(&nfct_destroy)>;

CtPtr Flow4(const char* src, const char* dst, uint8_t l4, uint16_t sport,
            uint16_t dport, uint32_t mark = 0, int zone = -1,
            int tcp_state = -1) {
  CtPtr ct(nfct_new(), nfct_destroy);
  nfct_set_attr_u8(ct.get(), ATTR_L3PROTO, AF_INET);
  in_addr a;
  inet_pton(AF_INET, src, &a);
  nfct_set_attr_u32(ct.get(), ATTR_IPV4_SRC, a.s_addr);
  inet_pton(AF_INET, dst, &a);
  nfct_set_attr_u32(ct.get(), ATTR_IPV4_DST, a.s_addr);
  nfct_set_attr_u8(ct.get(), ATTR_L4PROTO, l4);
  nfct_set_attr_u16(ct.get(), ATTR_PORT_SRC, htons(sport));
  nfct_set_attr_u16(ct.get(), ATTR_PORT_DST, htons(dport));
  nfct_set_attr_u32(ct.get(), ATTR_MARK, mark);
  if (zone >= 0)
    nfct_set_attr_u16(ct.get(), ATTR_ZONE, static_cast<uint16_t>(zone));
  if (tcp_state >= 0)
    nfct_set_attr_u8(ct.get(), ATTR_TCP_STATE, static_cast<uint8_t>(tcp_state));
  return ct;
}

FlowFilter F(std::map<std::string, std::string> p) {
  std::string err;
  auto f = ParseFlowFilter(p, &err);
  EXPECT_TRUE(f) << err;
  return f.value_or(FlowFilter{});
}

TEST(FlowFilter, MatchesEachCriterion) {
  auto ct =
      Flow4("198.18.0.7", "198.19.0.1", IPPROTO_TCP, 1000, 5432, 0x42, 3, 3);
  EXPECT_TRUE(F({}).Matches(ct.get()));
  EXPECT_TRUE(F({{"family", "ipv4"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"family", "ipv6"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"protocol", "tcp"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"protocol", "6"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"protocol", "udp"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"protocol", "generic"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"state", "established"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"state", "TIME_WAIT"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"ct_zone", "3"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"ct_zone", "0"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"src", "198.18.0.0/15"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"src", "198.18.0.8/29"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"src", "198.18.0.7"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"dst", "198.19.0.0/16"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"dst", "2001:db8::/32"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"dport", "5432"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"sport", "5432"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"mark", "0x42"}}).Matches(ct.get()));
  EXPECT_TRUE(F({{"mark", "0x40/0xf0"}}).Matches(ct.get()));
  EXPECT_FALSE(F({{"mark", "1"}}).Matches(ct.get()));
}

TEST(FlowFilter, ClassSelectsWhatTheClassifierPutsInIt) {
  std::string err;
  auto db = ParseFlowClass({{"name", "db"}, {"dport", "5432"}}, &err);
  auto marked = ParseFlowClass({{"name", "marked"}, {"mark", "0x42"}}, &err);
  auto classes = std::make_shared<const FlowClassifier>(
      std::vector<FlowClass>{*db, *marked});
  auto in_db = Flow4("198.18.0.7", "198.19.0.1", IPPROTO_TCP, 1, 5432, 0x42);
  auto in_marked = Flow4("198.18.0.7", "198.19.0.1", IPPROTO_TCP, 1, 80, 0x42);
  auto f = ParseFlowFilter({{"class", "db"}}, &err, classes);
  ASSERT_TRUE(f) << err;
  EXPECT_TRUE(f->Matches(in_db.get()));
  EXPECT_FALSE(f->Matches(in_marked.get()));
  f = ParseFlowFilter({{"class", "marked"}}, &err, classes);
  ASSERT_TRUE(f) << err;
  EXPECT_FALSE(f->Matches(in_db.get()));  // first match wins: it is in db
  EXPECT_TRUE(f->Matches(in_marked.get()));
  EXPECT_FALSE(ParseFlowFilter({{"class", "web"}}, &err, classes));
  EXPECT_NE(err.find("configured: db, marked"), std::string::npos) << err;
}

TEST(FlowFilter, BadParametersSayWhy) {
  for (auto p : std::vector<std::map<std::string, std::string>>{
           {{"family", "ipx"}},
           {{"protocol", "bogus"}},
           {{"protocol", "300"}},
           {{"ct_zone", "70000"}},
           {{"src", "1.2.3.4/33"}},
           {{"src", "not-an-ip"}},
           {{"dport", "-1"}},
           {{"mark", "0x/1"}},
           {{"limit", "x"}},
           {{"class", "db"}},
           {{"colour", "red"}},
       }) {
    std::string err;
    EXPECT_FALSE(ParseFlowFilter(p, &err)) << p.begin()->first;
    EXPECT_FALSE(err.empty());
    EXPECT_EQ(err.find('\n'), std::string::npos);
  }
}

TEST(FlowFilter, Cidr) {
  auto c = ParseCidr("2001:db8::1/32");
  ASSERT_TRUE(c);
  in6_addr a;
  inet_pton(AF_INET6, "2001:db8:ffff::9", &a);
  EXPECT_TRUE(c->Contains(AF_INET6, &a));
  inet_pton(AF_INET6, "2001:db9::9", &a);
  EXPECT_FALSE(c->Contains(AF_INET6, &a));
  EXPECT_FALSE(c->Contains(AF_INET, &a));
  auto zero = ParseCidr("0.0.0.0/0");
  ASSERT_TRUE(zero);
  in_addr b;
  inet_pton(AF_INET, "8.8.8.8", &b);
  EXPECT_TRUE(zero->Contains(AF_INET, &b));
}

}  // namespace
}  // namespace ctcollect
