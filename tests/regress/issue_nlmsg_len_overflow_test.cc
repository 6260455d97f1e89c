// Regression: a netlink message whose nlmsg_len is above 2^31 passed
// libmnl's mnl_nlmsg_ok (it compares the length as int) and mnl_nlmsg_next
// then walked far outside the buffer. Found by the ct_message and
// kernel_stats fuzz targets; the inputs are the fuzzers' own.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "collector/conntrack/ct_message.h"
#include "collector/conntrack/kernel_stats.h"
#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {

std::vector<uint64_t> Load(const char* name, size_t* size) {
  std::ifstream f(std::string(CTCOLLECT_REGRESS_DATA) + "/" + name,
                  std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
  *size = bytes.size();
  std::vector<uint64_t> aligned(bytes.size() / 8 + 1);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  return aligned;
}

TEST(IssueNlmsgLenOverflow, MessageWalkStopsAtAHugeLength) {
  size_t size = 0;
  auto buf = Load("nlmsg_len_overflow_ct.bin", &size);
  ASSERT_GT(size, 0u);
  int visited = 0;
  ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    EXPECT_LE(nlh->nlmsg_len, size);
    ParseCtMessage(nlh);
    ++visited;
    return true;
  });
  EXPECT_LT(visited, 64);
}

TEST(IssueNlmsgLenOverflow, StatsReplyWithAHugeLengthIsMalformed) {
  size_t size = 0;
  auto buf = Load("nlmsg_len_overflow_stats.bin", &size);
  ASSERT_GT(size, 0u);
  KernelStats s;
  bool done = false;
  EXPECT_FALSE(ParseStatsReply(buf.data(), size, &s, &done));
}

TEST(IssueNlmsgLenOverflow, LengthAbove2To31IsRejected) {
  std::vector<uint64_t> buf(8);
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
  nlh->nlmsg_len = 0xfffffff0u;
  EXPECT_FALSE(NlmsgOk(nlh, 64));
  nlh->nlmsg_len = 32;
  EXPECT_TRUE(NlmsgOk(nlh, 64));
  EXPECT_FALSE(NlmsgOk(nlh, 31));
}

}  // namespace
}  // namespace ctcollect
