#include "collector/conntrack/ct_message.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "collector/netlink/nl_attr.h"
#include "collector/testing/nl_builder.h"

namespace ctcollect {
namespace {

using testing::AppendCt;
using testing::CtSpec;
using testing::MsgAt;

TEST(ParseCtMessage, NewTcpEvent) {
  std::vector<uint8_t> buf;
  CtSpec s;
  s.id = 0xdeadbeef;
  s.state = 3;
  s.zone = 7;
  s.mark = 42;
  s.timeout = 431999;
  size_t off = AppendCt(&buf, s);
  auto m = ParseCtMessage(MsgAt(buf, off));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, EventType::kNew);
  EXPECT_EQ(m->family, Family::kIpv4);
  EXPECT_EQ(m->proto, Proto::kTcp);
  EXPECT_EQ(m->id, 0xdeadbeefu);
  EXPECT_TRUE(m->has_state);
  EXPECT_EQ(m->state, 3);
  EXPECT_EQ(m->zone, 7);
  EXPECT_EQ(m->mark, 42u);
  EXPECT_EQ(m->timeout, 431999u);
}

TEST(ParseCtMessage, OriginalTupleAddressesAndPorts) {
  std::vector<uint8_t> buf;
  CtSpec s;
  size_t off = AppendCt(&buf, s);
  auto m = ParseCtMessage(MsgAt(buf, off));
  ASSERT_TRUE(m.has_value());
  const uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
  EXPECT_EQ(0, std::memcmp(m->src, src, 4));
  EXPECT_EQ(0, std::memcmp(m->dst, dst, 4));
  EXPECT_EQ(m->sport, 1000);
  EXPECT_EQ(m->dport, 80);

  buf.clear();
  s.af = AF_INET6;
  off = AppendCt(&buf, s);
  m = ParseCtMessage(MsgAt(buf, off));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->src[0], 0x20);
  EXPECT_EQ(m->src[15], 1);
  EXPECT_EQ(m->dst[15], 2);
}

TEST(ParseCtMessage, UpdateWithoutProtoinfoHasNoState) {
  std::vector<uint8_t> buf;
  CtSpec s;
  s.flags = 0;
  size_t off = AppendCt(&buf, s);
  auto m = ParseCtMessage(MsgAt(buf, off));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, EventType::kUpdate);
  EXPECT_FALSE(m->has_state);
  EXPECT_EQ(m->zone, 0);
}

TEST(ParseCtMessage, DestroyWithCountersIpv6Sctp) {
  std::vector<uint8_t> buf;
  CtSpec s;
  s.msg = IPCTNL_MSG_CT_DELETE;
  s.flags = 0;
  s.af = AF_INET6;
  s.l4proto = IPPROTO_SCTP;
  s.state = 4;
  s.counters = true;
  s.bytes[0] = 1ull << 40;
  s.packets[1] = 9;
  size_t off = AppendCt(&buf, s);
  auto m = ParseCtMessage(MsgAt(buf, off));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, EventType::kDestroy);
  EXPECT_EQ(m->family, Family::kIpv6);
  EXPECT_EQ(m->proto, Proto::kSctp);
  EXPECT_EQ(m->state, 4);
  EXPECT_TRUE(m->has_counters);
  EXPECT_EQ(m->bytes[0], 1ull << 40);
  EXPECT_EQ(m->packets[1], 9u);
}

TEST(ParseCtMessage, StatelessProtocolsAreInStateZero) {
  std::vector<uint8_t> buf;
  CtSpec s;
  s.l4proto = IPPROTO_UDP;
  size_t off = AppendCt(&buf, s);
  auto m = ParseCtMessage(MsgAt(buf, off));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->proto, Proto::kUdp);
  EXPECT_TRUE(m->has_state);
  EXPECT_EQ(m->state, 0);
}

TEST(ParseCtMessage, RejectsMalformed) {
  std::vector<uint8_t> buf;
  CtSpec s;
  s.state = 3;
  size_t off = AppendCt(&buf, s);
  auto* nlh = const_cast<nlmsghdr*>(MsgAt(buf, off));

  // Not conntrack: another subsystem.
  uint16_t type = nlh->nlmsg_type;
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_EXP_NEW;
  EXPECT_FALSE(ParseCtMessage(nlh).has_value());
  nlh->nlmsg_type = type;

  // Unknown address family.
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  nfg->nfgen_family = 99;
  EXPECT_FALSE(ParseCtMessage(nlh).has_value());
  nfg->nfgen_family = AF_INET;

  // An out-of-range TCP state.
  std::vector<uint8_t> b2;
  CtSpec bad = s;
  bad.state = 200;
  EXPECT_FALSE(ParseCtMessage(MsgAt(b2, AppendCt(&b2, bad))).has_value());

  // Truncated header.
  nlh->nlmsg_len = NLMSG_HDRLEN;
  EXPECT_FALSE(ParseCtMessage(nlh).has_value());
}

TEST(ParseCtMessage, RejectsAttributeWithWrongSize) {
  std::vector<uint8_t> buf(512);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_INET;
  nlattr* t = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
  nlattr* p = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
  mnl_attr_nest_end(nlh, p);
  mnl_attr_nest_end(nlh, t);
  mnl_attr_put_u16(nlh, CTA_ID, 5);  // CTA_ID must be 4 bytes
  EXPECT_FALSE(ParseCtMessage(nlh).has_value());
}

TEST(ParseCtMessage, RequiresIdAndTuple) {
  std::vector<uint8_t> buf(512);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_INET;
  mnl_attr_put_u32(nlh, CTA_ID, htonl(5));
  EXPECT_FALSE(ParseCtMessage(nlh).has_value());
}

// Real messages captured from this kind of kernel (tests/testdata/README.md
// says how): every conntrack message in them parses.
std::vector<uint8_t> ReadFile(const std::string& name) {
  std::ifstream f(std::string(CTCOLLECT_TESTDATA) + "/" + name,
                  std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

struct Parsed {
  int messages = 0;
  int failures = 0;
  std::map<EventType, int> types;
  std::map<Proto, int> protos;
  std::map<std::string, int> states;
};

Parsed ParseAll(const std::vector<uint8_t>& data) {
  Parsed p;
  ForEachMsg(data.data(), data.size(), [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
      ++p.messages;
      auto m = ParseCtMessage(nlh);
      if (!m) {
        ++p.failures;
      } else {
        ++p.types[m->type];
        ++p.protos[m->proto];
        if (m->has_state && ProtoHasStates(m->proto)) {
          ++p.states[std::string(StateName(m->proto, m->state))];
        }
      }
    }
    return true;
  });
  return p;
}

TEST(ParseCtMessageCaptured, RealTcpConnectionEvents) {
  auto data = ReadFile("events_tcp_v4.nlmsg");
  ASSERT_FALSE(data.empty()) << "missing tests/testdata/events_tcp_v4.nlmsg";
  Parsed p = ParseAll(data);
  EXPECT_EQ(p.failures, 0);
  EXPECT_GE(p.types[EventType::kNew], 1);
  EXPECT_GE(p.types[EventType::kUpdate], 1);
  EXPECT_GE(p.types[EventType::kDestroy], 1);
  EXPECT_EQ(p.protos[Proto::kTcp], p.messages);
  EXPECT_GE(p.states["ESTABLISHED"], 1);
}

// One flow's events all carry the same tuple, so the same tag; other
// flows' differ.
TEST(ParseCtMessageCaptured, TupleTagIsStablePerFlow) {
  auto data = ReadFile("events_injected_mix.nlmsg");
  ASSERT_FALSE(data.empty());
  std::map<uint32_t, std::set<uint16_t>> tags_by_id;
  std::set<uint16_t> tags;
  ForEachMsg(data.data(), data.size(), [&](const nlmsghdr* nlh) {
    if (auto m = ParseCtMessage(nlh)) {
      tags_by_id[m->id].insert(m->tag);
      tags.insert(m->tag);
    }
    return true;
  });
  ASSERT_GT(tags_by_id.size(), 4u);
  for (const auto& [id, t] : tags_by_id) EXPECT_EQ(t.size(), 1u) << id;
  EXPECT_EQ(tags.size(), tags_by_id.size());
}

// The tag tells apart flows whose ids collide, so it must spread tuples
// that differ in a few bits (here the source port) over its 16 bits: 20,000
// random values would take 17,237 distinct ones on average.
TEST(ParseCtMessage, TupleTagSpreadsNearbyTuples) {
  for (uint8_t af : {AF_INET, AF_INET6}) {
    std::set<uint16_t> tags;
    std::vector<uint8_t> buf;
    testing::CtSpec s;
    s.af = af;
    for (uint32_t port = 1; port <= 20000; ++port) {
      buf.clear();
      s.sport = static_cast<uint16_t>(port);
      testing::AppendCt(&buf, s);
      auto m = ParseCtMessage(reinterpret_cast<const nlmsghdr*>(buf.data()));
      ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->sport, port);
      tags.insert(m->tag);
    }
    EXPECT_GT(tags.size(), 16800u) << "family " << int{af};
  }
}

TEST(ParseCtMessageCaptured, RealAccountingOnDestroy) {
  auto data = ReadFile("events_tcp_v4_acct.nlmsg");
  ASSERT_FALSE(data.empty());
  bool saw_counters = false;
  ForEachMsg(data.data(), data.size(), [&](const nlmsghdr* nlh) {
    auto m = ParseCtMessage(nlh);
    if (m && m->type == EventType::kDestroy) {
      EXPECT_TRUE(m->has_counters);
      EXPECT_GT(m->packets[0], 0u);
      EXPECT_GT(m->bytes[0], 0u);
      saw_counters = m->has_counters;
    }
    return true;
  });
  EXPECT_TRUE(saw_counters);
}

TEST(ParseCtMessageCaptured, EveryCapturedConntrackMessageParses) {
  for (const char* name : {"events_udp_v6.nlmsg", "events_icmp_v4.nlmsg",
                           "events_injected_mix.nlmsg", "dump_mix.nlmsg"}) {
    auto data = ReadFile(name);
    ASSERT_FALSE(data.empty()) << name;
    Parsed p = ParseAll(data);
    EXPECT_GT(p.messages, 0) << name;
    EXPECT_EQ(p.failures, 0) << name;
  }
  Parsed mix = ParseAll(ReadFile("events_injected_mix.nlmsg"));
  EXPECT_GT(mix.protos[Proto::kSctp], 0);
  EXPECT_GT(mix.protos[Proto::kDccp], 0);
  EXPECT_GT(mix.protos[Proto::kGeneric], 0);
  Parsed v6 = ParseAll(ReadFile("events_udp_v6.nlmsg"));
  EXPECT_EQ(v6.protos[Proto::kUdp], v6.messages);
}

}  // namespace
}  // namespace ctcollect
