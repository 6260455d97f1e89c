#include "collector/conntrack/kernel_stats.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <fstream>
#include <iterator>
#include <vector>

namespace ctcollect {
namespace {

size_t PutCpu(uint8_t* buf, uint16_t cpu, uint32_t found, uint32_t drop) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS_CPU;
  nlh->nlmsg_flags = NLM_F_MULTI;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->res_id = htons(cpu);
  mnl_attr_put_u32(nlh, CTA_STATS_FOUND, htonl(found));
  mnl_attr_put_u32(nlh, CTA_STATS_DROP, htonl(drop));
  mnl_attr_put_u32(nlh, CTA_STATS_SEARCHED, htonl(12345));  // obsolete
  return NLMSG_ALIGN(nlh->nlmsg_len);
}

TEST(KernelStats, SumsPerCpuRecordsUntilDone) {
  std::vector<uint8_t> buf(4096);
  size_t off = PutCpu(buf.data(), 0, 10, 1);
  off += PutCpu(buf.data() + off, 1, 5, 2);
  nlmsghdr* done = mnl_nlmsg_put_header(buf.data() + off);
  done->nlmsg_type = NLMSG_DONE;
  off += NLMSG_ALIGN(done->nlmsg_len);
  KernelStats s;
  bool fin = false;
  ASSERT_TRUE(ParseStatsReply(buf.data(), off, &s, &fin));
  EXPECT_TRUE(fin);
  EXPECT_EQ(s.cpus, 2);
  EXPECT_EQ(s.cpu_sum[static_cast<int>(KernelStat::kFound)], 15u);
  EXPECT_EQ(s.cpu_sum[static_cast<int>(KernelStat::kDrop)], 3u);
  EXPECT_EQ(s.cpu_sum[static_cast<int>(KernelStat::kInsert)], 0u);
}

TEST(KernelStats, GlobalCountAndMax) {
  std::vector<uint8_t> buf(1024);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS;
  mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
  mnl_attr_put_u32(nlh, CTA_STATS_GLOBAL_ENTRIES, htonl(7));
  mnl_attr_put_u32(nlh, CTA_STATS_GLOBAL_MAX_ENTRIES, htonl(262144));
  KernelStats s;
  bool fin = false;
  ASSERT_TRUE(ParseStatsReply(buf.data(), nlh->nlmsg_len, &s, &fin));
  EXPECT_EQ(s.entries.value(), 7u);
  EXPECT_EQ(s.max_entries.value(), 262144u);
}

TEST(KernelStats, RejectsWrongSizedCounter) {
  std::vector<uint8_t> buf(1024);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS_CPU;
  mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
  mnl_attr_put_u16(nlh, CTA_STATS_FOUND, 1);
  KernelStats s;
  bool fin = false;
  EXPECT_FALSE(ParseStatsReply(buf.data(), nlh->nlmsg_len, &s, &fin));
  // And a truncated buffer.
  EXPECT_FALSE(ParseStatsReply(buf.data(), 10, &s, &fin));
}

std::vector<uint8_t> ReadFile(const std::string& name) {
  std::ifstream f(std::string(CTCOLLECT_TESTDATA) + "/" + name,
                  std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

TEST(KernelStats, ParsesRealCapturedReplies) {
  auto cpu = ReadFile("stats_cpu.nlmsg");
  ASSERT_FALSE(cpu.empty());
  KernelStats s;
  bool fin = false;
  ASSERT_TRUE(ParseStatsReply(cpu.data(), cpu.size(), &s, &fin));
  EXPECT_TRUE(fin);
  EXPECT_GE(s.cpus, 1);
  auto glob = ReadFile("stats.nlmsg");
  ASSERT_FALSE(glob.empty());
  ASSERT_TRUE(ParseStatsReply(glob.data(), glob.size(), &s, &fin));
  EXPECT_TRUE(s.max_entries.has_value());
  EXPECT_GT(*s.max_entries, 0u);
  EXPECT_TRUE(s.entries.has_value());
}

TEST(KernelStats, BuildsRequests) {
  std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
  size_t n = BuildStatsCpuRequest(buf.data(), 9);
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
  EXPECT_EQ(n, nlh->nlmsg_len);
  EXPECT_EQ(NFNL_MSG_TYPE(nlh->nlmsg_type), IPCTNL_MSG_CT_GET_STATS_CPU);
  EXPECT_TRUE(nlh->nlmsg_flags & NLM_F_DUMP);
  EXPECT_EQ(nlh->nlmsg_seq, 9u);
  BuildStatsRequest(buf.data(), 10);
  EXPECT_EQ(NFNL_MSG_TYPE(nlh->nlmsg_type), IPCTNL_MSG_CT_GET_STATS);
  EXPECT_FALSE(nlh->nlmsg_flags & NLM_F_DUMP);
  EXPECT_EQ(KernelStatName(KernelStat::kChainTooLong), "chaintoolong");
}

}  // namespace
}  // namespace ctcollect
