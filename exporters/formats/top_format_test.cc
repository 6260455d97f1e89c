#include "exporters/formats/top_format.h"

#include <gtest/gtest.h>

#include "exporters/formats/top_query.h"

namespace ctcollect {
namespace {

std::vector<NetnsTopRanking> Sample() {
  NetnsTopRanking own;
  own.ranking.entries = 20000;
  own.ranking.exact_at = 1765000000.5;
  own.ranking.max_error = 3;
  own.ranking.top = {{"10.0.0.3", 10848, 3, 12.5}, {"10.0.0.\"4", 7, 0, 0}};
  NetnsTopRanking blue;
  blue.netns = "blue";
  return {own, blue};
}

TEST(TopFormat, JsonAsTheReadmeSchema) {
  EXPECT_EQ(
      TopJson(TopBy::kSrc, Sample(), 1765000001),
      "{\"by\":\"src\",\"time\":1765000001,\"netns\":["
      "{\"name\":\"\",\"entries\":20000,\"exact_at\":1765000000.5,"
      "\"max_error\":3,\"top\":["
      "{\"key\":\"10.0.0.3\",\"entries\":10848,\"new_per_second\":12.50},"
      "{\"key\":\"10.0.0.\\\"4\",\"entries\":7,\"new_per_second\":0.00}]},"
      "{\"name\":\"blue\",\"entries\":0,\"exact_at\":0,\"max_error\":0,"
      "\"top\":[]}]}\n");
}

TEST(TopFormat, FlatLines) {
  EXPECT_EQ(TopFlat(Sample()),
            "netns -\nentries 20000\nexact_at 1765000000.5\nmax_error 3\n"
            "key 10848 12.50 10.0.0.3\nkey 7 0.00 10.0.0.\"4\n"
            "netns blue\nentries 0\nexact_at 0\nmax_error 0\n");
}

TEST(TopQuery, DefaultsAndBounds) {
  std::string error;
  auto q = ParseTopQuery({}, &error);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->by, TopBy::kSrc);
  EXPECT_EQ(q->limit, 10u);
  EXPECT_FALSE(q->netns);
  q = ParseTopQuery({{"by", "snat"}, {"limit", "1000"}, {"netns", "blue"}},
                    &error);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->by, TopBy::kSnat);
  EXPECT_EQ(q->limit, 1000u);
  EXPECT_EQ(q->netns, "blue");
  for (const auto& [k, v, why] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"by", "sport", "bad by: src, dst, dport or snat"},
           {"limit", "0", "bad limit: a number from 1 to 1000"},
           {"limit", "1001", "bad limit: a number from 1 to 1000"},
           {"limit", "-1", "bad limit: a number from 1 to 1000"},
           {"limit", "", "bad limit: a number from 1 to 1000"},
           {"top", "1", "unknown parameter top: by, limit or netns"}}) {
    EXPECT_FALSE(ParseTopQuery({{k, v}}, &error)) << k << "=" << v;
    EXPECT_EQ(error, why);
  }
}

TEST(TopQuery, AnswersWithTheRankingsOrAStatusAndOneLine) {
  std::optional<std::string> asked;
  TopSource source = [&](TopBy by, size_t limit,
                         const std::optional<std::string>& netns) {
    asked = netns;
    std::vector<NetnsTopRanking> out;
    for (auto& r : Sample()) {
      if (!netns || r.netns == *netns) out.push_back(r);
    }
    EXPECT_EQ(by, TopBy::kDst);
    EXPECT_EQ(limit, 3u);
    return std::optional<std::vector<NetnsTopRanking>>(out);
  };
  TopAnswer a = AnswerTopQuery({{"by", "dst"}, {"limit", "3"}}, source);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.rankings.size(), 2u);
  EXPECT_EQ(a.query.by, TopBy::kDst);
  a = AnswerTopQuery({{"by", "dst"}, {"limit", "3"}, {"netns", "blue"}},
                     source);
  EXPECT_EQ(a.status, 200);
  ASSERT_EQ(a.rankings.size(), 1u);
  EXPECT_EQ(asked, "blue");
  a = AnswerTopQuery({{"by", "dst"}, {"limit", "3"}, {"netns", "red"}}, source);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.error, "bad netns: not watched by this daemon");
  a = AnswerTopQuery({{"by", "sport"}}, source);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.error, "bad by: src, dst, dport or snat");
  TopSource off = [](TopBy, size_t, const std::optional<std::string>&) {
    return std::optional<std::vector<NetnsTopRanking>>();
  };
  a = AnswerTopQuery({}, off);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.error, "top-talker rankings are off (--top.enabled=false)");
  EXPECT_EQ(AnswerTopQuery({}, nullptr).status, 404);
}

}  // namespace
}  // namespace ctcollect
