// ctinject: creates and deletes conntrack entries through ctnetlink, many
// per send, for tests and benchmarks. Run it inside the test's own network
// namespace (ip netns exec NS ctinject ...): the tuples use documentation
// and benchmark ranges (198.18.0.0/15, 2001:db8::/32) and are only written
// into the conntrack table, never sent as packets.
//
//   ctinject create|delete|storm [--count N] [--family ipv4|ipv6]
//            [--proto P] [--state S] [--zone Z] [--mark M] [--timeout S]
//            [--rate R] [--batch B] [--offset K] [--ignore-exists] [--quiet]
//
// Flow i's tuple depends only on (family, proto, i + offset), so `delete`
// with the same options deletes exactly what `create` made.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_sctp.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string mode;
  uint64_t count = 1000;
  int af = AF_INET;
  uint8_t proto = IPPROTO_TCP;
  std::string state;
  int zone = 0;
  uint32_t mark = 0;
  uint32_t timeout = 600;
  uint64_t rate = 0;
  int batch = 256;
  uint64_t offset = 0;
  bool ignore_exists = false;
  bool quiet = false;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "ctinject: %s\nusage: ctinject create|delete|storm [--count N] "
               "[--family ipv4|ipv6] [--proto tcp|udp|udplite|icmp|icmpv6|sctp|"
               "dccp|gre|NUM] [--state S] [--zone Z] [--mark M] [--timeout S] "
               "[--rate R] [--batch B] [--offset K] [--ignore-exists] "
               "[--quiet]\n",
               why.c_str());
  std::exit(2);
}

uint64_t Num(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 0);
  if (v.empty() || *end != '\0' || errno != 0) Usage("bad value for " + flag);
  return n;
}

// State value for CTA_PROTOINFO, or -1 for protocols without one.
int StateValue(uint8_t proto, const std::string& s) {
  static const std::map<std::string, int> tcp = {
      {"NONE", 0},       {"SYN_SENT", 1},  {"SYN_RECV", 2},
      {"ESTABLISHED", 3}, {"FIN_WAIT", 4},  {"CLOSE_WAIT", 5},
      {"LAST_ACK", 6},   {"TIME_WAIT", 7}, {"CLOSE", 8},
      {"SYN_SENT2", 9}};
  static const std::map<std::string, int> sctp = {
      {"CLOSED", 1},        {"COOKIE_WAIT", 2},   {"COOKIE_ECHOED", 3},
      {"ESTABLISHED", 4},   {"SHUTDOWN_SENT", 5}, {"SHUTDOWN_RECD", 6},
      {"SHUTDOWN_ACK_SENT", 7}, {"HEARTBEAT_SENT", 8}};
  static const std::map<std::string, int> dccp = {
      {"REQUEST", 1}, {"RESPOND", 2}, {"PARTOPEN", 3}, {"OPEN", 4},
      {"CLOSEREQ", 5}, {"CLOSING", 6}, {"TIMEWAIT", 7}};
  const std::map<std::string, int>* m = nullptr;
  std::string def;
  if (proto == IPPROTO_TCP) {
    m = &tcp;
    def = "ESTABLISHED";
  } else if (proto == IPPROTO_SCTP) {
    m = &sctp;
    def = "ESTABLISHED";
  } else if (proto == IPPROTO_DCCP) {
    m = &dccp;
    def = "OPEN";
  } else {
    return -1;
  }
  auto it = m->find(s.empty() ? def : s);
  if (it == m->end()) Usage("unknown state " + s);
  return it->second;
}

Options Parse(int argc, char** argv) {
  Options o;
  if (argc < 2) Usage("missing mode");
  o.mode = argv[1];
  if (o.mode != "create" && o.mode != "delete" && o.mode != "storm") {
    Usage("unknown mode " + o.mode);
  }
  for (int i = 2; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (f == "--ignore-exists") {
      o.ignore_exists = true;
      continue;
    }
    if (i + 1 >= argc) Usage(f + " needs a value");
    std::string v = argv[++i];
    if (f == "--count") {
      o.count = Num(f, v);
    } else if (f == "--family") {
      if (v == "ipv4") {
        o.af = AF_INET;
      } else if (v == "ipv6") {
        o.af = AF_INET6;
      } else {
        Usage("bad family " + v);
      }
    } else if (f == "--proto") {
      static const std::map<std::string, uint8_t> names = {
          {"tcp", IPPROTO_TCP},         {"udp", IPPROTO_UDP},
          {"udplite", IPPROTO_UDPLITE}, {"icmp", IPPROTO_ICMP},
          {"icmpv6", IPPROTO_ICMPV6},   {"sctp", IPPROTO_SCTP},
          {"dccp", IPPROTO_DCCP},       {"gre", IPPROTO_GRE}};
      auto it = names.find(v);
      o.proto = it != names.end() ? it->second
                                  : static_cast<uint8_t>(Num(f, v) & 0xff);
    } else if (f == "--state") {
      o.state = v;
    } else if (f == "--zone") {
      o.zone = static_cast<int>(Num(f, v) & 0xffff);
    } else if (f == "--mark") {
      o.mark = static_cast<uint32_t>(Num(f, v));
    } else if (f == "--timeout") {
      o.timeout = static_cast<uint32_t>(Num(f, v));
    } else if (f == "--rate") {
      o.rate = Num(f, v);
    } else if (f == "--batch") {
      o.batch = static_cast<int>(Num(f, v));
      if (o.batch < 1 || o.batch > 4096) Usage("--batch must be 1-4096");
    } else if (f == "--offset") {
      o.offset = Num(f, v);
    } else {
      Usage("unknown flag " + f);
    }
  }
  if ((o.af == AF_INET && o.proto == IPPROTO_ICMPV6) ||
      (o.af == AF_INET6 && o.proto == IPPROTO_ICMP)) {
    Usage("icmp goes with ipv4, icmpv6 with ipv6");
  }
  return o;
}

bool HasPorts(uint8_t p) {
  return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_UDPLITE ||
         p == IPPROTO_SCTP || p == IPPROTO_DCCP;
}

void PutTuple(nlmsghdr* nlh, uint16_t type, const Options& o, uint64_t i,
              bool reply) {
  nlattr* t = mnl_attr_nest_start(nlh, type);
  nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
  // Flow i is unique by (client address, client port) for protocols with
  // ports, by (client, server) address for those without (generic, and
  // DCCP on kernels that dropped its tracker).
  bool ports = (HasPorts(o.proto) && o.proto != IPPROTO_DCCP) ||
               o.proto == IPPROTO_ICMP || o.proto == IPPROTO_ICMPV6 ||
               o.proto == IPPROTO_GRE;
  uint64_t host = ports ? i / 50000 : i;
  if (o.af == AF_INET) {
    uint32_t client = htonl(0xc6120000u + static_cast<uint32_t>(host % 65536));
    uint32_t server = htonl(0xc6130001u +  // 198.19.0.1 and up
                            static_cast<uint32_t>(host / 65536));
    mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, reply ? server : client);
    mnl_attr_put_u32(nlh, CTA_IP_V4_DST, reply ? client : server);
  } else {
    uint8_t client[16] = {0x20, 0x01, 0x0d, 0xb8};
    for (int b = 0; b < 8; ++b) client[15 - b] = static_cast<uint8_t>(host >> (8 * b));
    uint8_t server[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff};
    server[15] = 1;
    mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, reply ? server : client);
    mnl_attr_put(nlh, CTA_IP_V6_DST, 16, reply ? client : server);
  }
  mnl_attr_nest_end(nlh, ip);
  nlattr* p = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, o.proto);
  uint16_t cport = static_cast<uint16_t>(1024 + i % 50000);
  uint16_t sport = 80;
  if (HasPorts(o.proto)) {
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(reply ? sport : cport));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(reply ? cport : sport));
  } else if (o.proto == IPPROTO_ICMP || o.proto == IPPROTO_ICMPV6) {
    bool v4 = o.proto == IPPROTO_ICMP;
    uint8_t req = v4 ? 8 : 128, rep = v4 ? 0 : 129;
    mnl_attr_put_u16(nlh, v4 ? CTA_PROTO_ICMP_ID : CTA_PROTO_ICMPV6_ID,
                     htons(cport));
    mnl_attr_put_u8(nlh, v4 ? CTA_PROTO_ICMP_TYPE : CTA_PROTO_ICMPV6_TYPE,
                    reply ? rep : req);
    mnl_attr_put_u8(nlh, v4 ? CTA_PROTO_ICMP_CODE : CTA_PROTO_ICMPV6_CODE, 0);
  } else if (o.proto == IPPROTO_GRE) {
    // GRE keys: the tracker's "ports".
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(reply ? sport : cport));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(reply ? cport : sport));
  }
  mnl_attr_nest_end(nlh, p);
  mnl_attr_nest_end(nlh, t);
}

size_t PutMessage(char* buf, const Options& o, uint64_t i, bool create,
                  uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) |
                    (create ? IPCTNL_MSG_CT_NEW : IPCTNL_MSG_CT_DELETE);
  nlh->nlmsg_flags = NLM_F_REQUEST | (create ? NLM_F_CREATE | NLM_F_EXCL : 0);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = static_cast<uint8_t>(o.af);
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  PutTuple(nlh, CTA_TUPLE_ORIG, o, i, false);
  if (o.zone) mnl_attr_put_u16(nlh, CTA_ZONE, htons(static_cast<uint16_t>(o.zone)));
  if (!create) return nlh->nlmsg_len;
  PutTuple(nlh, CTA_TUPLE_REPLY, o, i, true);
  int state = StateValue(o.proto, o.state);
  uint32_t status = IPS_CONFIRMED;
  if ((o.proto == IPPROTO_TCP && state >= TCP_CONNTRACK_ESTABLISHED) ||
      (o.proto == IPPROTO_SCTP && state >= SCTP_CONNTRACK_ESTABLISHED) ||
      (o.proto == IPPROTO_DCCP && state >= 4)) {
    status |= IPS_SEEN_REPLY | IPS_ASSURED;
  }
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
  mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(o.timeout));
  if (o.mark) mnl_attr_put_u32(nlh, CTA_MARK, htonl(o.mark));
  if (state >= 0) {
    nlattr* pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
    if (o.proto == IPPROTO_TCP) {
      nlattr* n = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
      mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, static_cast<uint8_t>(state));
      mnl_attr_nest_end(nlh, n);
    } else if (o.proto == IPPROTO_SCTP) {
      nlattr* n = mnl_attr_nest_start(nlh, CTA_PROTOINFO_SCTP);
      mnl_attr_put_u8(nlh, CTA_PROTOINFO_SCTP_STATE, static_cast<uint8_t>(state));
      mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_ORIGINAL, htonl(1));
      mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_REPLY, htonl(2));
      mnl_attr_nest_end(nlh, n);
    } else {
      nlattr* n = mnl_attr_nest_start(nlh, CTA_PROTOINFO_DCCP);
      mnl_attr_put_u8(nlh, CTA_PROTOINFO_DCCP_STATE, static_cast<uint8_t>(state));
      mnl_attr_put_u8(nlh, CTA_PROTOINFO_DCCP_ROLE, 0);
      mnl_attr_nest_end(nlh, n);
    }
    mnl_attr_nest_end(nlh, pi);
  }
  return nlh->nlmsg_len;
}

struct Result {
  uint64_t ok = 0, failed = 0, exists = 0;
  std::map<int, uint64_t> errors;
};

// Reads error/ack messages that are waiting (or, with `wait_ms`, that
// arrive within it) and counts failures.
void DrainErrors(mnl_socket* nl, Result* r, int wait_ms, uint32_t* last_ack,
                 int ignore_errno, uint32_t until_ack = 0) {
  static char buf[1 << 16];
  while (until_ack == 0 || *last_ack != until_ack) {
    pollfd p{mnl_socket_get_fd(nl), POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) return;
    ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0) return;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    int rem = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, rem)) {
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (e->error == 0) {
          *last_ack = nlh->nlmsg_seq;
        } else if (-e->error == ignore_errno) {
          r->exists++;
        } else {
          r->failed++;
          r->errors[-e->error]++;
        }
      }
      nlh = mnl_nlmsg_next(nlh, &rem);
    }
  }
}

Result Run(const Options& o, bool create) {
  Result r;
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    std::perror("ctinject: netlink socket");
    std::exit(1);
  }
  int rcv = 8 << 20;
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
  std::vector<char> buf(static_cast<size_t>(o.batch) * 1024);
  auto start = std::chrono::steady_clock::now();
  uint32_t seq = 1, last_ack = 0;
  int ignore = o.ignore_exists ? (create ? EEXIST : ENOENT) : 0;
  for (uint64_t i = 0; i < o.count;) {
    size_t len = 0;
    int n = 0;
    for (; n < o.batch && i < o.count; ++n, ++i) {
      len += PutMessage(buf.data() + len, o, i + o.offset, create, seq++);
    }
    if (mnl_socket_sendto(nl, buf.data(), len) < 0) {
      std::perror("ctinject: send");
      std::exit(1);
    }
    r.ok += static_cast<uint64_t>(n);
    DrainErrors(nl, &r, 0, &last_ack, ignore);
    if (o.rate) {
      auto due = start + std::chrono::nanoseconds(
                             static_cast<int64_t>(1e9 * static_cast<double>(i) /
                                                  static_cast<double>(o.rate)));
      std::this_thread::sleep_until(due);
    }
  }
  // A final message with an ACK request: once it is answered, every error
  // for the messages before it has been read.
  char fin[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(fin);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  mnl_socket_sendto(nl, fin, nlh->nlmsg_len);
  for (int tries = 0; tries < 50 && last_ack != seq; ++tries) {
    DrainErrors(nl, &r, 100, &last_ack, ignore, seq);
  }
  r.ok -= std::min(r.ok, r.failed + r.exists);
  mnl_socket_close(nl);
  return r;
}

void Report(const Options& o, const char* what, const Result& r, double secs) {
  std::printf("%s=%llu failed=%llu", what, static_cast<unsigned long long>(r.ok),
              static_cast<unsigned long long>(r.failed));
  if (r.exists) {
    std::printf(" skipped=%llu", static_cast<unsigned long long>(r.exists));
  }
  std::printf(" seconds=%.3f rate=%.0f/s\n", secs,
              secs > 0 ? static_cast<double>(o.count) / secs : 0.0);
  for (auto [e, n] : r.errors) {
    if (!o.quiet) {
      std::fprintf(stderr, "ctinject: %llu x %s\n",
                   static_cast<unsigned long long>(n), std::strerror(e));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  uint64_t failed = 0;
  for (bool create : {true, false}) {
    if (o.mode == "create" && !create) continue;
    if (o.mode == "delete" && create) continue;
    auto t0 = std::chrono::steady_clock::now();
    Result r = Run(o, create);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Report(o, create ? "created" : "deleted", r, secs);
    failed += r.failed;
  }
  return failed ? 1 : 0;
}
