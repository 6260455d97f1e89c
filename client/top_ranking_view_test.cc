#include "client/top_ranking_view.h"

#include <gtest/gtest.h>

#include "client/client_options.h"
#include "client/client_requests.h"

namespace ctcollect {
namespace {

constexpr char kFlat[] =
    "netns -\nentries 20000\nexact_at 1765000000\nmax_error 3\n"
    "key 10000 12.50 10.0.0.3\nkey 500 0.00 2001:db8::1\n"
    "unknown line\n"
    "netns blue\nentries 0\nexact_at 0\nmax_error 0\n";

TEST(TopRankingView, ParsesTheFlatReply) {
  auto r = ParseTopFlat(kFlat);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].netns, "");
  EXPECT_EQ(r[0].entries, 20000);
  EXPECT_EQ(r[0].max_error, 3);
  ASSERT_EQ(r[0].keys.size(), 2u);
  EXPECT_EQ(r[0].keys[0].key, "10.0.0.3");
  EXPECT_EQ(r[0].keys[0].entries, 10000);
  EXPECT_DOUBLE_EQ(r[0].keys[0].new_per_second, 12.5);
  EXPECT_EQ(r[1].netns, "blue");
  EXPECT_TRUE(r[1].keys.empty());
  EXPECT_TRUE(ParseTopFlat("key 1 1 x\n").empty());  // no netns line first
}

TEST(TopRankingView, RendersKeysWithShareAndRate) {
  std::string s = RenderTopRanking("src", ParseTopFlat(kFlat), 1765000030);
  EXPECT_NE(s.find("netns (own): 20000 entries, exact at the resync 30 s "
                   "ago, since then within 3\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("     10000   50.0%      12.5  10.0.0.3\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("       500    2.5%       0.0  2001:db8::1\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("netns blue: 0 entries\n"), std::string::npos) << s;
  EXPECT_NE(s.find("(no entries)"), std::string::npos);
}

TEST(TopRankingView, CommandLineMakesTheTopRequest) {
  auto cmd = ParseClientCommand(
      {"top", "--by", "snat", "--once", "--limit", "5", "--netns", "blue"});
  EXPECT_TRUE(cmd.once);
  auto req = RequestFor(cmd);
  ASSERT_TRUE(req);
  EXPECT_EQ(*req, (ClientRequest{"top",
                                 {{"by", "snat"},
                                  {"limit", "5"},
                                  {"netns", "blue"},
                                  {"format", "flat"}}}));
  req = RequestFor(ParseClientCommand({"top", "--by", "src", "-o", "json"}));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->args.at("format"), "json");
  EXPECT_EQ(req->args.at("limit"), "20");
  EXPECT_FALSE(RequestFor(ParseClientCommand({"top"})));
  EXPECT_THROW(ParseClientCommand({"top", "--by", "sport"}), ClientUsageError);
  EXPECT_THROW(RequestFor(ParseClientCommand({"top", "-o", "json"})),
               ClientUsageError);
}

}  // namespace
}  // namespace ctcollect
