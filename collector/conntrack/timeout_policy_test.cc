#include "collector/conntrack/timeout_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cttimeout.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "collector/netlink/nl_attr.h"
#include "collector/testing/captures.h"

namespace ctcollect {
namespace {

nlmsghdr* Header(std::vector<uint8_t>* buf, uint16_t type, uint8_t family) {
  buf->assign(4096, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf->data());
  nlh->nlmsg_type = type;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  return nlh;
}

void PutValues(nlmsghdr* nlh, uint16_t attr,
               const std::vector<std::pair<uint16_t, uint32_t>>& v) {
  nlattr* data = mnl_attr_nest_start(nlh, attr);
  for (auto [type, secs] : v) mnl_attr_put_u32(nlh, type, htonl(secs));
  mnl_attr_nest_end(nlh, data);
}

TEST(TimeoutPolicy, ParsesACttimeoutObject) {
  std::vector<uint8_t> buf;
  nlmsghdr* nlh = Header(
      &buf, (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_NEW,
      AF_UNSPEC);
  mnl_attr_put_strz(nlh, CTA_TIMEOUT_NAME, "web");
  mnl_attr_put_u16(nlh, CTA_TIMEOUT_L3PROTO, htons(AF_INET));
  mnl_attr_put_u8(nlh, CTA_TIMEOUT_L4PROTO, IPPROTO_TCP);
  PutValues(
      nlh, CTA_TIMEOUT_DATA,
      {{CTA_TIMEOUT_TCP_SYN_SENT, 5}, {CTA_TIMEOUT_TCP_ESTABLISHED, 100}});
  std::string err;
  auto p = ParseCttimeoutMessage(nlh, &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->name, "web");
  EXPECT_EQ(p->source, PolicySource::kCttimeout);
  EXPECT_EQ(p->count, 11);
  EXPECT_TRUE(p->Has(0));
  EXPECT_FALSE(p->Has(1));
  EXPECT_EQ(p->values[0], 5u);
  EXPECT_EQ(p->values[2], 100u);
  EXPECT_EQ(TimeoutAttrName(IPPROTO_TCP, 2), "ESTABLISHED");
  // What nfct prints for it (unset states print as 0, as nfct's own).
  std::string text = NfctTimeoutText(*p);
  EXPECT_EQ(text.rfind(".web = {\n\t.l3proto = 2,\n\t.l4proto = 6,\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("\t\t.ESTABLISHED = 100,\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 6), "\t},\n};");
}

TEST(TimeoutPolicy, DefaultReplyHasNoName) {
  std::vector<uint8_t> buf;
  nlmsghdr* nlh = Header(
      &buf,
      (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_DEFAULT_SET,
      AF_UNSPEC);
  mnl_attr_put_u16(nlh, CTA_TIMEOUT_L3PROTO, htons(AF_INET));
  mnl_attr_put_u8(nlh, CTA_TIMEOUT_L4PROTO, IPPROTO_UDP);
  PutValues(nlh, CTA_TIMEOUT_DATA, {{1, 30}, {2, 120}, {9, 1}});  // 9: newer
  std::string err;
  auto p = ParseCttimeoutMessage(nlh, &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->name, "default");
  EXPECT_EQ(p->source, PolicySource::kDefault);
  EXPECT_EQ(p->count, 2);
  EXPECT_EQ(p->values[1], 120u);
  EXPECT_EQ(TimeoutAttrName(IPPROTO_UDP, 1), "REPLIED");
}

TEST(TimeoutPolicy, ParsesAnNftCtTimeoutObjectAndSkipsOthers) {
  std::vector<uint8_t> buf;
  nlmsghdr* nlh =
      Header(&buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ, NFPROTO_INET);
  mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, "filter");
  mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, "fast");
  mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_CT_TIMEOUT));
  nlattr* data = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
  mnl_attr_put_u16(nlh, NFTA_CT_TIMEOUT_L3PROTO, htons(AF_INET));
  mnl_attr_put_u8(nlh, NFTA_CT_TIMEOUT_L4PROTO, IPPROTO_TCP);
  PutValues(nlh, NFTA_CT_TIMEOUT_DATA, {{CTA_TIMEOUT_TCP_CLOSE, 13}});
  mnl_attr_nest_end(nlh, data);
  std::string err;
  auto p = ParseNftTimeoutObject(nlh, &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->name, "inet/filter/fast");
  EXPECT_EQ(p->l3proto, AF_INET);
  EXPECT_EQ(p->values[7], 13u);

  // A counter object in the same dump is not a policy.
  nlh =
      Header(&buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ, NFPROTO_INET);
  mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, "filter");
  mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, "c");
  mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
  mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, NFTA_OBJ_DATA));
  EXPECT_FALSE(ParseNftTimeoutObject(nlh, &err));
  EXPECT_EQ(err, "not a ct timeout object");
}

TEST(TimeoutPolicy, RefusesMalformedMessages) {
  std::vector<uint8_t> buf;
  std::string err;
  // A value of the wrong size.
  nlmsghdr* nlh = Header(
      &buf, (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_NEW,
      AF_UNSPEC);
  mnl_attr_put_strz(nlh, CTA_TIMEOUT_NAME, "x");
  mnl_attr_put_u16(nlh, CTA_TIMEOUT_L3PROTO, htons(AF_INET));
  mnl_attr_put_u8(nlh, CTA_TIMEOUT_L4PROTO, IPPROTO_TCP);
  nlattr* d = mnl_attr_nest_start(nlh, CTA_TIMEOUT_DATA);
  mnl_attr_put_u16(nlh, 1, 5);
  mnl_attr_nest_end(nlh, d);
  EXPECT_FALSE(ParseCttimeoutMessage(nlh, &err));
  // No data.
  nlh = Header(&buf,
               (NFNL_SUBSYS_CTNETLINK_TIMEOUT << 8) | IPCTNL_MSG_TIMEOUT_NEW,
               AF_UNSPEC);
  mnl_attr_put_strz(nlh, CTA_TIMEOUT_NAME, "x");
  EXPECT_FALSE(ParseCttimeoutMessage(nlh, &err));
  // Another subsystem.
  nlh = Header(&buf, (NFNL_SUBSYS_CTNETLINK << 8) | 0, AF_INET);
  EXPECT_FALSE(ParseCttimeoutMessage(nlh, &err));
  EXPECT_FALSE(ParseNftTimeoutObject(nlh, &err));
  // Truncated header.
  nlh->nlmsg_len = NLMSG_HDRLEN;
  EXPECT_FALSE(ParseCttimeoutMessage(nlh, &err));
}

}  // namespace
}  // namespace ctcollect

namespace ctcollect {
namespace {

using testing::ReadCapture;

// Real dumps from this kernel (tests/testdata/capture.sh policies).
TEST(TimeoutPolicyCaptured, CttimeoutAndNftDumps) {
  size_t size = 0;
  auto buf = ReadCapture("timeout_dump.nlmsg", &size);
  ASSERT_GT(size, 0u);
  std::map<std::string, TimeoutPolicy> got;
  std::string err;
  ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type == NLMSG_DONE) return false;
    auto p = ParseCttimeoutMessage(nlh, &err);
    EXPECT_TRUE(p) << err;
    if (p) got[p->name] = *p;
    return true;
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got["web"].values[2], 100u);  // ESTABLISHED
  EXPECT_EQ(got["web"].values[0], 5u);    // SYN_SENT
  EXPECT_EQ(got["web"].values[1], 60u);   // SYN_RECV: the default
  EXPECT_EQ(got["dns"].values[0], 3u);
  EXPECT_EQ(got["ping6"].l3proto, AF_INET6);
  EXPECT_EQ(got["ping6"].values[0], 4u);

  buf = ReadCapture("nft_obj_dump.nlmsg", &size);
  ASSERT_GT(size, 0u);
  got.clear();
  int others = 0;
  ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type == NLMSG_DONE) return false;
    auto p = ParseNftTimeoutObject(nlh, &err);
    if (p) {
      got[p->name] = *p;
    } else {
      EXPECT_EQ(err, "not a ct timeout object");
      ++others;
    }
    return true;
  });
  EXPECT_GE(others, 1);  // the counter (and whatever else the ruleset has)
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["inet/ctp/fast"].values[2], 111u);
  EXPECT_EQ(got["inet/ctp/fast"].values[7], 13u);
  EXPECT_EQ(got["inet/ctp/udp6"].l3proto, AF_INET6);
  EXPECT_EQ(got["inet/ctp/udp6"].values[0], 2u);
}

}  // namespace
}  // namespace ctcollect
