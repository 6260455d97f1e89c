#include "exporters/web/query_params.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

TEST(QueryParams, DecodesAndSplits) {
  std::string err;
  auto q = ParseQueryString(
      "format=xml&src=198.18.0.0%2F15&state=TIME_WAIT&&x=a+b", &err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(q->at("format"), "xml");
  EXPECT_EQ(q->at("src"), "198.18.0.0/15");
  EXPECT_EQ(q->at("x"), "a b");
  EXPECT_EQ(q->size(), 4u);
  EXPECT_TRUE(ParseQueryString("", &err)->empty());
  EXPECT_EQ(ParseQueryString("limit", &err)->at("limit"), "");
}

TEST(QueryParams, Rejects) {
  std::string err;
  EXPECT_FALSE(ParseQueryString("a=1&a=2", &err));
  EXPECT_FALSE(ParseQueryString("a=%zz", &err));
  EXPECT_FALSE(ParseQueryString("a=%2", &err));
  EXPECT_FALSE(ParseQueryString("a=%00", &err));
  EXPECT_FALSE(ParseQueryString("=v", &err));
  EXPECT_FALSE(ParseQueryString("a=" + std::string(2000, 'x'), &err));
  std::string many;
  for (int i = 0; i < 40; ++i) many += "k" + std::to_string(i) + "=1&";
  EXPECT_FALSE(ParseQueryString(many, &err));
}

}  // namespace
}  // namespace ctcollect
