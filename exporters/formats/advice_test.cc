#include "exporters/formats/advice.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace ctcollect {
namespace {

TimeoutPolicy DefaultTcp() {
  TimeoutPolicy p;
  p.name = "default";
  p.source = PolicySource::kDefault;
  p.l3proto = AF_INET;
  p.l4proto = IPPROTO_TCP;
  p.count = TimeoutAttrCount(IPPROTO_TCP);
  const uint32_t v[] = {120, 60, 432000, 120, 60, 30, 120, 10, 120, 300, 300};
  for (int i = 0; i < p.count; ++i) p.values[i] = v[i];
  p.set = (1u << p.count) - 1;
  return p;
}

constexpr int kEstablished = 3;

TEST(Advice, RoundsUpToReadableValues) {
  EXPECT_EQ(RoundUpTimeout(0.5), 1u);
  EXPECT_EQ(RoundUpTimeout(3.05), 5u);
  EXPECT_EQ(RoundUpTimeout(61), 90u);
  EXPECT_EQ(RoundUpTimeout(3601), 7200u);
  EXPECT_EQ(RoundUpTimeout(90000), 2u * 86400);
}

TEST(Advice, ProposesTheQuantileOfFlowsThatMovedOn) {
  auto d = std::make_shared<StateDurationsCopy>();
  // 1000 flows left ESTABLISHED within 20-30 s, one after 2 hours.
  d->moved[0][kEstablished][DurationBucketOf(25)] = 1000;
  d->moved[0][kEstablished][DurationBucketOf(7200)] = 1;
  // Now: 50 flows in it for 10 s, 30 for a day.
  d->ages[0][kEstablished][DurationBucketOf(10)] = 50;
  d->ages[0][kEstablished][DurationBucketOf(86400)] = 30;
  std::vector<TimeoutPolicy> policies = {DefaultTcp()};
  std::vector<PolicyDurations> durations = {{"default", d}};
  AdviceOptions o;
  auto advice = Advise(policies, durations, o);
  ASSERT_EQ(advice.size(), 1u);
  const StateAdvice& a = advice[0];
  EXPECT_EQ(a.samples, 1001);
  EXPECT_EQ(a.current, 432000u);
  // 99.9% of 1001 = 1000 flows: all within the 25 s bucket (<= 1.25x).
  EXPECT_GE(a.proposed, 25u);
  EXPECT_LE(a.proposed, 45u);
  EXPECT_EQ(a.entries_now, 80);
  EXPECT_EQ(a.entries_saved, 30);
  // Every flow, the slow one too: above 2 hours.
  o.quantile = 1.0;
  auto all = Advise(policies, durations, o);
  EXPECT_GE(all[0].proposed, 7200u);

  std::string text = AdviceText(advice, policies, AdviceOptions{});
  EXPECT_NE(text.find("nfct timeout add tcp_advised inet tcp syn_sent 120 "
                      "syn_recv 60 established " +
                      std::to_string(a.proposed)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ct timeout tcp_advised {"), std::string::npos);
  EXPECT_NE(text.find("unack: 300"), std::string::npos);  // nft's spelling
  EXPECT_NE(text.find("entries less"), std::string::npos);
}

TEST(Advice, TooFewFlowsOrNoGainMeansNoProposal) {
  auto d = std::make_shared<StateDurationsCopy>();
  d->moved[0][kEstablished][DurationBucketOf(25)] = 5;  // too few
  d->moved[0][1][DurationBucketOf(200)] = 100;          // SYN_SENT > 120
  std::vector<TimeoutPolicy> policies = {DefaultTcp()};
  auto advice = Advise(policies, {{"default", d}}, AdviceOptions{});
  ASSERT_EQ(advice.size(), 2u);
  for (const auto& a : advice) EXPECT_EQ(a.proposed, a.current);
  std::string text = AdviceText(advice, policies, AdviceOptions{});
  EXPECT_NE(text.find("too few flows"), std::string::npos);
  EXPECT_NE(text.find("No timeout can be reduced"), std::string::npos);
  EXPECT_EQ(text.find("nfct timeout add"), std::string::npos);
}

}  // namespace
}  // namespace ctcollect
