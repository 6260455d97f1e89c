#include "collector/control/control_protocol.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ctcollect {
namespace {

std::string IntBytes(int32_t v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);
  return s;
}

TEST(ControlProtocol, FramingTellsTheTwoProtocolsApart) {
  EXPECT_EQ(DetectFraming(""), ControlFraming::kNeedMore);
  EXPECT_EQ(DetectFraming("C"), ControlFraming::kNeedMore);
  EXPECT_EQ(DetectFraming("CT"), ControlFraming::kNeedMore);
  EXPECT_EQ(DetectFraming("CTC"), ControlFraming::kNative);
  EXPECT_EQ(DetectFraming("CTC1 stats\n"), ControlFraming::kNative);
  EXPECT_EQ(DetectFraming(IntBytes(21)), ControlFraming::kConntrackd);
  EXPECT_EQ(DetectFraming(IntBytes(21).substr(0, 2)),
            ControlFraming::kNeedMore);
  // Every conntrackd code, and 'C' (67) itself, is a conntrackd request.
  for (int32_t c = 0; c < 256; ++c) {
    EXPECT_EQ(DetectFraming(IntBytes(c)), ControlFraming::kConntrackd) << c;
  }
}

TEST(ControlProtocol, ConntrackdCode) {
  auto r = ParseConntrackdRequest(IntBytes(kStatsRuntime));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, ControlRequest::Kind::kConntrackd);
  EXPECT_EQ(r->code, 30);
  EXPECT_FALSE(ParseConntrackdRequest("abc"));
}

TEST(ControlProtocol, NativeRequests) {
  std::string err;
  auto r =
      ParseNativeRequest("CTC1 flows format=xml netns=blue limit=5\n", &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->verb, "flows");
  EXPECT_EQ(r->args.at("format"), "xml");
  EXPECT_EQ(r->args.at("limit"), "5");
  EXPECT_EQ(FormatNativeRequest("flows", r->args),
            "CTC1 flows format=xml limit=5 netns=blue\n");
  auto v2 = ParseNativeRequest("CTC2 stats", &err);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->version, 2);  // the server answers 505 to this
}

TEST(ControlProtocol, MalformedNativeRequests) {
  std::string err;
  for (const std::string& bad : std::vector<std::string>{
           "CTC", "CTCx stats", "CTC0 stats", "CTC1", "CTC1 flows format",
           "CTC1 flows =x", "CTC1 a\nb", std::string("CTC1 st\0ats", 11),
           "CTC1 \x01verb", "XYZ1 stats", std::string(5000, 'a')}) {
    err.clear();
    EXPECT_FALSE(ParseNativeRequest(bad, &err)) << bad;
    EXPECT_FALSE(err.empty());
  }
  std::string many = "CTC1 v";
  for (int i = 0; i < 40; ++i) many += " k" + std::to_string(i) + "=1";
  EXPECT_FALSE(ParseNativeRequest(many, &err));
}

TEST(ControlProtocol, StatusLine) {
  std::string reason;
  int version = 0;
  EXPECT_EQ(NativeStatusLine(404, "no such netns"), "CTC1 404 no such netns\n");
  EXPECT_EQ(
      ParseNativeStatusLine("CTC1 404 no such netns\n", &reason, &version),
      404);
  EXPECT_EQ(reason, "no such netns");
  EXPECT_EQ(version, 1);
  EXPECT_FALSE(ParseNativeStatusLine("HTTP/1.1 200 OK", &reason, &version));
  EXPECT_FALSE(ParseNativeStatusLine("CTC1 99 x", &reason, &version));
}

}  // namespace
}  // namespace ctcollect
