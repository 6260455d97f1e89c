#include "collector/conntrack/userspace_helper.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cthelper.h>

#include <vector>

namespace ctcollect {
namespace {

// A dump reply as nfnetlink_cthelper builds it (nfnl_cthelper_fill_info).
nlmsghdr* Build(std::vector<uint8_t>* buf, int policies, int declared) {
  buf->assign(4096, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf->data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTHELPER << 8) | NFNL_MSG_CTHELPER_NEW;
  nlh->nlmsg_flags = NLM_F_MULTI;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, NFCTH_NAME, "ssdp");
  nlattr* t = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
  mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(AF_INET));
  mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, IPPROTO_UDP);
  mnl_attr_nest_end(nlh, t);
  mnl_attr_put_u32(nlh, NFCTH_QUEUE_NUM, htonl(5));
  nlattr* p = mnl_attr_nest_start(nlh, NFCTH_POLICY);
  mnl_attr_put_u32(nlh, NFCTH_POLICY_SET_NUM, htonl(declared));
  for (int i = 0; i < policies; ++i) {
    nlattr* set = mnl_attr_nest_start(nlh, NFCTH_POLICY_SET + i);
    mnl_attr_put_strz(nlh, NFCTH_POLICY_NAME, i ? "second" : "ssdp");
    mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_MAX, htonl(8 + i));
    mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_TIMEOUT, htonl(5));
    mnl_attr_nest_end(nlh, set);
  }
  mnl_attr_nest_end(nlh, p);
  mnl_attr_put_u32(nlh, NFCTH_PRIV_DATA_LEN, htonl(0));
  mnl_attr_put_u32(nlh, NFCTH_STATUS, htonl(NFCT_HELPER_STATUS_ENABLED));
  return nlh;
}

TEST(UserspaceHelper, ParsesADumpReply) {
  std::vector<uint8_t> buf;
  std::string err;
  auto h = ParseCthelperMessage(Build(&buf, 2, 2), &err);
  ASSERT_TRUE(h) << err;
  EXPECT_EQ(h->name, "ssdp");
  EXPECT_EQ(h->l3proto, AF_INET);
  EXPECT_EQ(h->l4proto, IPPROTO_UDP);
  EXPECT_EQ(h->queue, 5u);
  EXPECT_TRUE(h->enabled);
  ASSERT_EQ(h->policies.size(), 2u);
  EXPECT_EQ(h->policies[1].name, "second");
  EXPECT_EQ(h->policies[1].expect_max, 9u);
  EXPECT_EQ(h->policies[0].expect_timeout, 5u);
}

TEST(UserspaceHelper, RefusesMalformed) {
  std::vector<uint8_t> buf;
  std::string err;
  // Fewer policy sets than it declares.
  EXPECT_FALSE(ParseCthelperMessage(Build(&buf, 1, 2), &err));
  // Another subsystem.
  nlmsghdr* nlh = Build(&buf, 1, 1);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | 0;
  EXPECT_FALSE(ParseCthelperMessage(nlh, &err));
  // An attribute of the wrong size (the queue number as 16 bits).
  nlh = Build(&buf, 1, 1);
  mnl_attr_put_u16(nlh, NFCTH_QUEUE_NUM, htons(5));
  EXPECT_FALSE(ParseCthelperMessage(nlh, &err));
  // The request is not a reply.
  alignas(nlmsghdr) uint8_t req[64];
  BuildCthelperDump(req, 1);
  EXPECT_FALSE(ParseCthelperMessage(reinterpret_cast<nlmsghdr*>(req), &err));
}

}  // namespace
}  // namespace ctcollect
