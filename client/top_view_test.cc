#include "client/top_view.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

TEST(TopView, ParsesFlatStatsAndRendersRates) {
  TopSample a = ParseFlatStats(
      "netns blue\nentries ipv4 tcp ESTABLISHED 0 3\n"
      "entries ipv6 tcp ESTABLISHED 5 2\nentries ipv4 udp - 0 1\n"
      "events new 10\nevents update 4\nevents destroy 2\n"
      "kernel_entries 6\nentries_limit 100\noverruns 0\ngarbage line\n");
  ASSERT_EQ(a.count("blue"), 1u);
  EXPECT_EQ((a["blue"].entries[{"tcp", "ESTABLISHED"}]), 5);
  EXPECT_EQ((a["blue"].entries[{"udp", ""}]), 1);
  TopSample b = a;
  b["blue"].events_new = 30;
  std::string screen = RenderTop(b, &a, 2.0, "/s");
  EXPECT_NE(screen.find("table: 6 / 100 (6.0%)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("new 10.0"), std::string::npos) << screen;
  EXPECT_NE(screen.find("ESTABLISHED"), std::string::npos);
  EXPECT_NE(screen.find("total"), std::string::npos);
  EXPECT_NE(RenderTop(a, nullptr, 0, "/s").find("new 0.0"), std::string::npos);
}

}  // namespace
}  // namespace ctcollect
