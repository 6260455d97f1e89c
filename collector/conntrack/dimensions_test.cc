#include "collector/conntrack/dimensions.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace ctcollect {
namespace {

TEST(CtLabels, ProtocolsMapToTheirTracker) {
  EXPECT_EQ(ProtoFromNumber(IPPROTO_TCP), Proto::kTcp);
  EXPECT_EQ(ProtoFromNumber(IPPROTO_ICMPV6), Proto::kIcmpv6);
  EXPECT_EQ(ProtoFromNumber(IPPROTO_GRE), Proto::kGre);
  EXPECT_EQ(ProtoFromNumber(IPPROTO_UDPLITE), Proto::kUdplite);
  EXPECT_EQ(ProtoFromNumber(250), Proto::kGeneric);
  EXPECT_EQ(ProtoName(Proto::kGeneric), "generic");
}

TEST(CtLabels, StateNamesMatchLibnetfilterConntrack) {
  EXPECT_EQ(StateName(Proto::kTcp, 3), "ESTABLISHED");
  EXPECT_EQ(StateName(Proto::kTcp, 7), "TIME_WAIT");
  EXPECT_EQ(StateName(Proto::kTcp, 9), "SYN_SENT2");
  EXPECT_EQ(StateName(Proto::kSctp, 2), "COOKIE_WAIT");
  EXPECT_EQ(StateName(Proto::kDccp, 4), "OPEN");
  EXPECT_EQ(StateName(Proto::kUdp, 0), "");
  EXPECT_EQ(StateName(Proto::kTcp, 10), "");  // out of range, no crash
  EXPECT_EQ(NumStates(Proto::kUdp), 1);
  EXPECT_EQ(NumStates(Proto::kTcp), kMaxStates);
}

TEST(CtLabels, Families) {
  EXPECT_EQ(FamilyFromAf(AF_INET), Family::kIpv4);
  EXPECT_EQ(FamilyFromAf(AF_INET6), Family::kIpv6);
  EXPECT_FALSE(FamilyFromAf(AF_UNSPEC).has_value());
  EXPECT_EQ(FamilyName(Family::kIpv6), "ipv6");
}

}  // namespace
}  // namespace ctcollect
