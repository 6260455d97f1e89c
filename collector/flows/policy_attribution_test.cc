#include "collector/flows/policy_attribution.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace ctcollect {
namespace {

TimeoutPolicy Tcp(const std::string& name, PolicySource src, uint32_t syn_sent,
                  uint32_t established, uint16_t l3 = AF_INET) {
  TimeoutPolicy p;
  p.name = name;
  p.source = src;
  p.l3proto = l3;
  p.l4proto = IPPROTO_TCP;
  p.count = TimeoutAttrCount(IPPROTO_TCP);
  for (int i = 0; i < p.count; ++i) {
    p.values[i] = 120;
    p.set |= 1u << i;
  }
  p.values[0] = syn_sent;
  p.values[2] = established;
  return p;
}

TimeoutPolicy Udp(const std::string& name, PolicySource src, uint32_t unrepl,
                  uint32_t repl) {
  TimeoutPolicy p;
  p.name = name;
  p.source = src;
  p.l3proto = AF_INET;
  p.l4proto = IPPROTO_UDP;
  p.count = 2;
  p.values[0] = unrepl;
  p.values[1] = repl;
  p.set = 3;
  return p;
}

CtMessage Msg(EventType t, uint8_t l4, int state, uint32_t timeout) {
  CtMessage m;
  m.type = t;
  m.l4proto = l4;
  m.proto = ProtoFromNumber(l4);
  if (state >= 0) {
    m.has_state = true;
    m.state = static_cast<uint8_t>(state);
  }
  m.has_timeout = true;
  m.timeout = timeout;
  return m;
}

constexpr int kSynSent = 1, kEstablished = 3;

class PolicyAttributorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_.SetPolicies({Tcp("default", PolicySource::kDefault, 120, 432000),
                    Udp("default", PolicySource::kDefault, 30, 120),
                    Tcp("web", PolicySource::kCttimeout, 5, 100),
                    Tcp("inet/f/short", PolicySource::kNft, 120, 600, 1)});
  }
  uint8_t Index(const std::string& name) {
    for (size_t i = 0; i < a_.size(); ++i) {
      if (a_.Name(static_cast<uint8_t>(i)) == name) return i;
    }
    return 0xff;
  }
  PolicyAttributor a_;
};

TEST_F(PolicyAttributorTest, FreshTimeoutPicksTheUniqueMatch) {
  // SYN_SENT = 5 only in "web" (the kernel reports a second less).
  EXPECT_EQ(a_.Decide(Msg(EventType::kNew, IPPROTO_TCP, kSynSent, 4), kSynSent,
                      kPolicyDefault, true, true),
            Index("web"));
  // SYN_SENT = 120: default and inet/f/short agree with the default, so it
  // tells nothing apart: default.
  EXPECT_EQ(a_.Decide(Msg(EventType::kNew, IPPROTO_TCP, kSynSent, 119),
                      kSynSent, kPolicyDefault, true, true),
            kPolicyDefault);
  // ESTABLISHED = 600 only in the nft policy, on an IPv4 flow.
  EXPECT_EQ(a_.Decide(Msg(EventType::kUpdate, IPPROTO_TCP, kEstablished, 599),
                      kEstablished, kPolicyDefault, false, true),
            Index("inet/f/short"));
  // A later default-looking state keeps the decided policy.
  uint8_t web = Index("web");
  EXPECT_EQ(a_.Decide(Msg(EventType::kUpdate, IPPROTO_TCP, 7, 119), 7, web,
                      false, true),
            web);
}

TEST_F(PolicyAttributorTest, AmbiguousIsUnknownAndStaleTimeoutsRuleOut) {
  a_.SetPolicies({Tcp("default", PolicySource::kDefault, 120, 432000),
                  Tcp("a", PolicySource::kCttimeout, 5, 100),
                  Tcp("b", PolicySource::kCttimeout, 5, 300)});
  // SYN_SENT = 5 in both a and b.
  EXPECT_EQ(a_.Decide(Msg(EventType::kNew, IPPROTO_TCP, kSynSent, 5), kSynSent,
                      kPolicyDefault, true, true),
            kPolicyUnknown);
  // A dump entry: 250 s left in ESTABLISHED fits b (300) and the default,
  // not a (100): still ambiguous.
  EXPECT_EQ(a_.Decide(Msg(EventType::kNew, IPPROTO_TCP, kEstablished, 250),
                      kEstablished, kPolicyUnknown, true, false),
            kPolicyUnknown);
  // 350 s left: only the default gives that much.
  EXPECT_EQ(a_.Decide(Msg(EventType::kNew, IPPROTO_TCP, kEstablished, 350),
                      kEstablished, kPolicyUnknown, true, false),
            kPolicyDefault);
}

TEST_F(PolicyAttributorTest, ProtocolsWithoutPoliciesAreDefault) {
  EXPECT_FALSE(a_.Relevant(IPPROTO_UDP));
  EXPECT_TRUE(a_.Relevant(IPPROTO_TCP));
  EXPECT_EQ(a_.Decide(Msg(EventType::kNew, IPPROTO_UDP, -1, 3), 0,
                      kPolicyDefault, true, true),
            kPolicyDefault);
  // UDP policy: UNREPLIED before a reply, REPLIED after.
  a_.SetPolicies({Udp("default", PolicySource::kDefault, 30, 120),
                  Udp("dns", PolicySource::kCttimeout, 3, 9)});
  CtMessage m = Msg(EventType::kNew, IPPROTO_UDP, -1, 3);
  EXPECT_EQ(a_.Decide(m, 0, kPolicyDefault, true, true), Index("dns"));
  m.has_status = true;
  m.status = 0x2;  // seen reply
  m.timeout = 8;
  EXPECT_EQ(a_.Decide(m, 0, kPolicyUnknown, false, true), Index("dns"));
}

TEST_F(PolicyAttributorTest, SelectorsComeFirst) {
  std::string err;
  PolicySelector s{*ParseFlowClass({{"name", "x"}, {"dport", "443"}}, &err),
                   "tls"};
  a_.SetSelectors({s});
  CtMessage m = Msg(EventType::kNew, IPPROTO_TCP, kSynSent, 4);
  m.dport = 443;
  EXPECT_EQ(a_.Decide(m, kSynSent, kPolicyDefault, true, true), Index("tls"));
  m.dport = 80;
  EXPECT_EQ(a_.Decide(m, kSynSent, kPolicyDefault, true, true), Index("web"));
  // Names keep their index when the kernel's policies change.
  uint8_t web = Index("web");
  a_.SetPolicies({Tcp("default", PolicySource::kDefault, 120, 432000)});
  EXPECT_EQ(Index("web"), web);
}

}  // namespace
}  // namespace ctcollect
