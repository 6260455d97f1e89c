#include "collector/flows/flow_class.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace ctcollect {
namespace {

FlowClass Parse(const std::map<std::string, std::string>& f) {
  std::string err;
  auto c = ParseFlowClass(f, &err);
  EXPECT_TRUE(c.has_value()) << err;
  return c.value_or(FlowClass{});
}

std::string Error(const std::map<std::string, std::string>& f) {
  std::string err;
  EXPECT_FALSE(ParseFlowClass(f, &err).has_value());
  return err;
}

struct Flow {
  CtMessage m;
  Flow(const char* src, const char* dst, uint16_t sport, uint16_t dport,
       uint8_t l4 = IPPROTO_TCP) {
    bool v6 = std::string(src).find(':') != std::string::npos;
    m.family = v6 ? Family::kIpv6 : Family::kIpv4;
    inet_pton(v6 ? AF_INET6 : AF_INET, src, m.src);
    inet_pton(v6 ? AF_INET6 : AF_INET, dst, m.dst);
    m.sport = sport;
    m.dport = dport;
    m.l4proto = l4;
    m.proto = ProtoFromNumber(l4);
  }
  FlowKey key() const { return FlowKeyOf(m); }
};

TEST(FlowClass, MatchesEveryConfiguredField) {
  FlowClass db = Parse({{"name", "postgres"},
                        {"protocol", "tcp"},
                        {"dst", "198.18.0.0/15"},
                        {"dport", "5432-5433"}});
  EXPECT_TRUE(db.Matches(Flow("198.18.0.1", "198.19.1.1", 40000, 5432).key()));
  EXPECT_TRUE(db.Matches(Flow("198.18.0.1", "198.19.1.1", 40000, 5433).key()));
  EXPECT_FALSE(db.Matches(Flow("198.18.0.1", "198.19.1.1", 40000, 5434).key()));
  EXPECT_FALSE(db.Matches(Flow("198.18.0.1", "198.20.0.1", 40000, 5432).key()));
  EXPECT_FALSE(db.Matches(
      Flow("198.18.0.1", "198.19.1.1", 40000, 5432, IPPROTO_UDP).key()));
  EXPECT_FALSE(db.Matches(Flow("2001:db8::1", "2001:db8::2", 1, 5432).key()));

  FlowClass marked = Parse({{"name", "m"},
                            {"mark", "0x10/0xf0"},
                            {"ct_zone", "7"},
                            {"family", "ipv6"}});
  Flow f("2001:db8::1", "2001:db8::2", 1, 2);
  f.m.mark = 0x1f;
  f.m.zone = 7;
  EXPECT_TRUE(marked.Matches(f.key()));
  f.m.mark = 0x2f;
  EXPECT_FALSE(marked.Matches(f.key()));
  f.m.mark = 0x1f;
  f.m.zone = 8;
  EXPECT_FALSE(marked.Matches(f.key()));

  FlowClass any = Parse({{"name", "everything"}});
  EXPECT_TRUE(any.Matches(f.key()));
  FlowClass src =
      Parse({{"name", "s"}, {"src", "2001:db8::/32"}, {"sport", "1"}});
  EXPECT_TRUE(src.Matches(f.key()));
  EXPECT_FALSE(src.Matches(Flow("2001:db9::1", "2001:db8::2", 1, 2).key()));
}

TEST(FlowClass, RefusesBadFieldsNamingThem) {
  EXPECT_NE(Error({{"protocol", "tcp"}}).find("name"), std::string::npos);
  EXPECT_NE(Error({{"name", "bad name"}}).find("name"), std::string::npos);
  EXPECT_NE(Error({{"name", "x"}, {"dport", "70000"}}).find("dport"),
            std::string::npos);
  EXPECT_NE(Error({{"name", "x"}, {"dport", "90-80"}}).find("dport"),
            std::string::npos);
  EXPECT_NE(Error({{"name", "x"}, {"dst", "300.1.1.1/8"}}).find("dst"),
            std::string::npos);
  EXPECT_NE(Error({{"name", "x"}, {"mark", "1/zz"}}).find("mark"),
            std::string::npos);
  EXPECT_NE(Error({{"name", "x"}, {"prot", "tcp"}}).find("unknown key"),
            std::string::npos);
  EXPECT_NE(
      Error({{"name", "x"}, {"family", "ipv4"}, {"src", "::1"}}).find("src"),
      std::string::npos);
}

TEST(FlowClassifier, FirstMatchWinsAndNamesAreUnique) {
  FlowClassifier c({Parse({{"name", "web"}, {"dport", "80"}}),
                    Parse({{"name", "tcp"}, {"protocol", "tcp"}})});
  EXPECT_EQ(c.Classify(Flow("198.18.0.1", "198.18.0.2", 1, 80).key()), 0);
  EXPECT_EQ(c.Classify(Flow("198.18.0.1", "198.18.0.2", 1, 81).key()), 1);
  EXPECT_EQ(
      c.Classify(Flow("198.18.0.1", "198.18.0.2", 1, 81, IPPROTO_UDP).key()),
      kNoClass);
  EXPECT_EQ(c.Find("tcp"), 1);
  EXPECT_EQ(c.Find("nope"), kNoClass);
  EXPECT_THROW(FlowClassifier({Parse({{"name", "a"}}), Parse({{"name", "a"}})}),
               std::invalid_argument);
  std::vector<FlowClass> many(kMaxFlowClasses + 1);
  for (size_t i = 0; i < many.size(); ++i) many[i].name = std::to_string(i);
  EXPECT_THROW(FlowClassifier(std::move(many)), std::invalid_argument);
}

}  // namespace
}  // namespace ctcollect
