#include "collector/conntrack/expectation.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "collector/netlink/nl_attr.h"
#include "collector/testing/captures.h"

namespace ctcollect {
namespace {

using testing::ReadCapture;

// The real ftp session of tests/testdata: the helper set the expectation
// up twice for one 227 reply, and the data connection used it.
TEST(Expectation, FollowsTheCapturedFtpSession) {
  size_t size = 0;
  auto buf = ReadCapture("events_exp_ftp.nlmsg", &size);
  ASSERT_GT(size, 0u);
  ExpectationTable t;
  int news = 0, destroys = 0;
  ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    auto m = ParseExpMessage(nlh);
    if (!m) return true;  // conntrack events in the same stream
    EXPECT_STREQ(m->helper, "ftp");
    EXPECT_NE(m->id, 0u);
    (m->type == ExpMessage::Type::kNew ? news : destroys)++;
    t.Apply(*m, true);
    return true;
  });
  EXPECT_EQ(news, 2);
  EXPECT_EQ(destroys, 2);
  auto counts = t.Read();
  EXPECT_EQ(counts["ftp"].current, 0);
  EXPECT_EQ(counts["ftp"].created, 2);
  EXPECT_EQ(counts["ftp"].destroyed, 2);
  EXPECT_EQ(t.size(), 0u);
}

TEST(Expectation, DumpReplacesTheLiveSet) {
  size_t size = 0;
  auto buf = ReadCapture("exp_dump.nlmsg", &size);
  std::vector<ExpMessage> dumped;
  ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    if (auto m = ParseExpMessage(nlh)) dumped.push_back(*m);
    return true;
  });
  ASSERT_EQ(dumped.size(), 1u);
  ExpectationTable t;
  ExpMessage stale;
  stale.id = 12345;
  std::strcpy(stale.helper, "sip");
  t.Apply(stale, true);
  t.ReplaceWith(dumped);
  auto counts = t.Read();
  EXPECT_EQ(counts["ftp"].current, 1);
  EXPECT_EQ(counts["sip"].current, 0);
  EXPECT_EQ(counts["sip"].created, 1);  // counters stay
  // A DESTROY for an expectation we never saw counts but changes nothing.
  ExpMessage gone = dumped[0];
  gone.type = ExpMessage::Type::kDestroy;
  gone.id ^= 1;
  t.Apply(gone, true);
  EXPECT_EQ(t.Read()["ftp"].current, 1);
}

TEST(Expectation, PerCpuStatsSum) {
  size_t size = 0;
  auto buf = ReadCapture("exp_stats_cpu.nlmsg", &size);
  ExpStats s;
  int parsed = 0;
  ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type == NLMSG_DONE) return false;
    EXPECT_TRUE(ParseExpStatsMessage(nlh, &s));
    ++parsed;
    return true;
  });
  EXPECT_EQ(parsed, 2);
  EXPECT_EQ(s.cpus, 2);
  // Captured with no helper active: the counters are there, all zero
  // (the FTP integration test sees them count).
  EXPECT_EQ(s.created, 0u);
}

TEST(Expectation, RefusesMalformed) {
  alignas(nlmsghdr) uint8_t buf[64] = {};
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf);
  BuildExpDump(buf, 1);
  nlh->nlmsg_type = (2 << 8) | 0;  // EXP_NEW without an id
  EXPECT_FALSE(ParseExpMessage(nlh));
  nlh->nlmsg_len = NLMSG_HDRLEN;
  EXPECT_FALSE(ParseExpMessage(nlh));
  ExpStats s;
  EXPECT_FALSE(ParseExpStatsMessage(nlh, &s));
}

}  // namespace
}  // namespace ctcollect
