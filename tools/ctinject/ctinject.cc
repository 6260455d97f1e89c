// ctinject: creates and deletes conntrack entries through ctnetlink, many
// messages per send, for tests and benchmarks. Run it inside a network
// namespace of your own (ip netns exec NS ctinject ...). The tuples use the
// benchmark and documentation ranges (198.18.0.0/15, 2001:db8::/32) and are
// only written into the conntrack table, never sent as packets.
//
//   ctinject create|delete|storm [--count N] [--family ipv4|ipv6]
//            [--proto P] [--state S] [--zone Z] [--mark M] [--timeout S]
//            [--rate R] [--batch B] [--offset K] [--ignore-exists] [--quiet]
//
// Flow k's tuple depends only on (family, proto, k), k = offset + i, so
// `delete` with the same options deletes exactly what `create` made:
//   protocols the kernel keys by ports or ids (tcp, udp, udplite, sctp,
//   icmp, icmpv6, gre):  client 198.18.H.L  port/id/key 1024 + k % 60000,
//   server 198.19.0.1 port 80, with H.L = k / 60000; IPv6 client
//   2001:db8::(k / 60000), server 2001:db8:ffff::1.
//   other protocols (generic, and dccp, which has no tracker since Linux
//   6.16 so its ports are not part of the tuple): client 198.18.H.L with
//   H.L = k % 65536, server 198.19.0.1 + k / 65536; IPv6 client
//   2001:db8::k, server 2001:db8:ffff::1.
//
// No message asks for an ACK: the kernel answers only failures, which are
// read without blocking between sends. One NLMSG_NOOP with NLM_F_ACK ends
// each phase; once its ACK is read every failure before it has been counted.
//
// Prints one line on stdout, e.g. `created=1000 failed=0 seconds=0.004
// rate=250000/s`; a storm prints both phases. Exit 0 when nothing failed,
// 1 otherwise, 2 on a bad command line.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_sctp.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace ctcollect {
namespace {

// Not in the uapi headers (include/linux/netfilter/nf_conntrack_dccp.h).
constexpr int kDccpOpen = 4;

// Upper bound of one CT_NEW message built below (the largest, sctp over
// IPv6 with zone and mark, is under 300 bytes).
constexpr size_t kMaxMessage = 512;
// Flows per client address when the tuple has ports: k % 60000 is the port.
constexpr uint64_t kPortsPerHost = 60000;
// Beyond this, tuples would repeat.
constexpr uint64_t kMaxFlowIndex = 65536ull * kPortsPerHost;

enum class Mode { kCreate, kDelete, kStorm };

struct Options {
  Mode mode = Mode::kCreate;
  uint64_t count = 1000;
  int family = AF_INET;
  uint8_t proto = IPPROTO_TCP;
  std::string state;
  uint16_t zone = 0;
  uint32_t mark = 0;
  uint32_t timeout = 600;
  uint64_t rate = 0;
  uint32_t batch = 256;
  uint64_t offset = 0;
  bool ignore_exists = false;
  bool quiet = false;
  int state_value = -1;  // CTA_PROTOINFO state, -1 when the proto has none
};

constexpr char kUsage[] =
    "usage: ctinject create|delete|storm [options]\n"
    "  --count N            number of flows (default 1000)\n"
    "  --family ipv4|ipv6   (default ipv4)\n"
    "  --proto P            tcp|udp|udplite|icmp|icmpv6|sctp|dccp|gre|<number>"
    " (default tcp)\n"
    "  --state S            tcp: SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT"
    " CLOSE_WAIT\n"
    "                       LAST_ACK TIME_WAIT CLOSE (default ESTABLISHED);"
    " sctp:\n"
    "                       CLOSED COOKIE_WAIT COOKIE_ECHOED ESTABLISHED\n"
    "                       SHUTDOWN_SENT SHUTDOWN_RECD SHUTDOWN_ACK_SENT\n"
    "                       HEARTBEAT_SENT (default ESTABLISHED); dccp:"
    " REQUEST\n"
    "                       RESPOND PARTOPEN OPEN CLOSEREQ CLOSING TIMEWAIT\n"
    "                       (default OPEN); ignored for other protocols\n"
    "  --zone Z             conntrack zone (default 0 = none)\n"
    "  --mark M             ct mark (default 0)\n"
    "  --timeout S          seconds (default 600)\n"
    "  --rate R             max flows per second (0 = unlimited, default)\n"
    "  --batch B            messages per send (default 256)\n"
    "  --offset K           first flow index (default 0)\n"
    "  --ignore-exists      EEXIST on create / ENOENT on delete is no failure\n"
    "  --quiet              no diagnostics on stderr, only the result line\n";

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "ctinject: %s\nusage: ctinject create|delete|storm [options]"
               " (ctinject --help lists them)\n",
               why.c_str());
  std::exit(2);
}

uint64_t ParseNumber(const std::string& flag, const std::string& v,
                     uint64_t max) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || v[0] == '-' || *end != '\0' || errno != 0 || n > max) {
    Usage("bad value for " + flag + ": " + v);
  }
  return n;
}

int ProtoNumber(const std::string& v) {
  static const std::map<std::string, int> kNames = {
      {"tcp", IPPROTO_TCP},         {"udp", IPPROTO_UDP},
      {"udplite", IPPROTO_UDPLITE}, {"icmp", IPPROTO_ICMP},
      {"icmpv6", IPPROTO_ICMPV6},   {"sctp", IPPROTO_SCTP},
      {"dccp", IPPROTO_DCCP},       {"gre", IPPROTO_GRE}};
  auto it = kNames.find(v);
  if (it != kNames.end()) return it->second;
  return static_cast<int>(ParseNumber("--proto", v, 255));
}

// The CTA_PROTOINFO state for `name` (empty: the protocol's open state), or
// -1 for protocols without states.
int StateValue(uint8_t proto, const std::string& name) {
  static const std::map<std::string, int> kTcp = {
      {"SYN_SENT", TCP_CONNTRACK_SYN_SENT},
      {"SYN_RECV", TCP_CONNTRACK_SYN_RECV},
      {"ESTABLISHED", TCP_CONNTRACK_ESTABLISHED},
      {"FIN_WAIT", TCP_CONNTRACK_FIN_WAIT},
      {"CLOSE_WAIT", TCP_CONNTRACK_CLOSE_WAIT},
      {"LAST_ACK", TCP_CONNTRACK_LAST_ACK},
      {"TIME_WAIT", TCP_CONNTRACK_TIME_WAIT},
      {"CLOSE", TCP_CONNTRACK_CLOSE},
      {"SYN_SENT2", TCP_CONNTRACK_SYN_SENT2}};
  static const std::map<std::string, int> kSctp = {
      {"CLOSED", SCTP_CONNTRACK_CLOSED},
      {"COOKIE_WAIT", SCTP_CONNTRACK_COOKIE_WAIT},
      {"COOKIE_ECHOED", SCTP_CONNTRACK_COOKIE_ECHOED},
      {"ESTABLISHED", SCTP_CONNTRACK_ESTABLISHED},
      {"SHUTDOWN_SENT", SCTP_CONNTRACK_SHUTDOWN_SENT},
      {"SHUTDOWN_RECD", SCTP_CONNTRACK_SHUTDOWN_RECD},
      {"SHUTDOWN_ACK_SENT", SCTP_CONNTRACK_SHUTDOWN_ACK_SENT},
      {"HEARTBEAT_SENT", SCTP_CONNTRACK_HEARTBEAT_SENT}};
  static const std::map<std::string, int> kDccp = {
      {"REQUEST", 1},  {"RESPOND", 2}, {"PARTOPEN", 3}, {"OPEN", kDccpOpen},
      {"CLOSEREQ", 5}, {"CLOSING", 6}, {"TIMEWAIT", 7}};
  const std::map<std::string, int>* names = nullptr;
  const char* open = "ESTABLISHED";
  switch (proto) {
    case IPPROTO_TCP:
      names = &kTcp;
      break;
    case IPPROTO_SCTP:
      names = &kSctp;
      break;
    case IPPROTO_DCCP:
      names = &kDccp;
      open = "OPEN";
      break;
    default:
      return -1;
  }
  std::string key = name.empty() ? open : name;
  for (char& c : key) c = static_cast<char>(std::toupper(c));
  auto it = names->find(key);
  if (it == names->end()) Usage("unknown state " + name + " for --proto");
  return it->second;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  if (argc < 2) Usage("missing mode");
  std::string mode = argv[1];
  if (mode == "--help" || mode == "-h") {
    std::fputs(kUsage, stdout);
    std::exit(0);
  }
  if (mode == "create") {
    o.mode = Mode::kCreate;
  } else if (mode == "delete") {
    o.mode = Mode::kDelete;
  } else if (mode == "storm") {
    o.mode = Mode::kStorm;
  } else {
    Usage("unknown mode " + mode);
  }
  std::string proto = "tcp";
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (flag == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (flag == "--ignore-exists") {
      o.ignore_exists = true;
      continue;
    }
    if (flag.rfind("--", 0) != 0) Usage("unexpected argument " + flag);
    if (i + 1 >= argc) Usage(flag + " needs a value");
    std::string v = argv[++i];
    if (flag == "--count") {
      o.count = ParseNumber(flag, v, kMaxFlowIndex);
    } else if (flag == "--family") {
      if (v == "ipv4") {
        o.family = AF_INET;
      } else if (v == "ipv6") {
        o.family = AF_INET6;
      } else {
        Usage("bad value for --family: " + v);
      }
    } else if (flag == "--proto") {
      proto = v;
    } else if (flag == "--state") {
      o.state = v;
    } else if (flag == "--zone") {
      o.zone = static_cast<uint16_t>(ParseNumber(flag, v, 65535));
    } else if (flag == "--mark") {
      o.mark = static_cast<uint32_t>(ParseNumber(flag, v, UINT32_MAX));
    } else if (flag == "--timeout") {
      o.timeout = static_cast<uint32_t>(ParseNumber(flag, v, INT32_MAX));
    } else if (flag == "--rate") {
      o.rate = ParseNumber(flag, v, UINT32_MAX);
    } else if (flag == "--batch") {
      o.batch = static_cast<uint32_t>(ParseNumber(flag, v, 8192));
      if (o.batch == 0) Usage("--batch must be 1 to 8192");
    } else if (flag == "--offset") {
      o.offset = ParseNumber(flag, v, kMaxFlowIndex);
    } else {
      Usage("unknown flag " + flag);
    }
  }
  o.proto = static_cast<uint8_t>(ProtoNumber(proto));
  if (o.family == AF_INET && o.proto == IPPROTO_ICMPV6) {
    Usage("icmpv6 needs --family ipv6");
  }
  if (o.family == AF_INET6 && o.proto == IPPROTO_ICMP) {
    Usage("icmp needs --family ipv4 (use icmpv6)");
  }
  if (o.offset + o.count > kMaxFlowIndex) {
    Usage("--offset + --count must stay below " +
          std::to_string(kMaxFlowIndex));
  }
  o.state_value = StateValue(o.proto, o.state);
  return o;
}

// Whether this kernel keys flows of `proto` by ports, ICMP ids or GRE keys.
bool KeyedByPorts(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP:
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
    case IPPROTO_GRE:
      return true;
    default:
      return false;
  }
}

bool HasPorts(uint8_t proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
         proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
         proto == IPPROTO_DCCP || proto == IPPROTO_GRE;
}

void PutTuple(nlmsghdr* nlh, uint16_t type, const Options& o, uint64_t k,
              bool reply) {
  const bool keyed = KeyedByPorts(o.proto);
  const uint64_t host = keyed ? k / kPortsPerHost : k;
  nlattr* tuple = mnl_attr_nest_start(nlh, type);
  nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
  if (o.family == AF_INET) {
    uint32_t client = 0xc6120000u | static_cast<uint32_t>(host & 0xffff);
    uint32_t server =
        keyed ? 0xc6130001u : 0xc6130001u + static_cast<uint32_t>(host >> 16);
    mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(reply ? server : client));
    mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(reply ? client : server));
  } else {
    uint8_t client[16] = {0x20, 0x01, 0x0d, 0xb8};
    for (int b = 0; b < 8; ++b) {
      client[15 - b] = static_cast<uint8_t>(host >> (8 * b));
    }
    uint8_t server[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff};
    server[15] = 1;
    mnl_attr_put(nlh, CTA_IP_V6_SRC, sizeof(client), reply ? server : client);
    mnl_attr_put(nlh, CTA_IP_V6_DST, sizeof(client), reply ? client : server);
  }
  mnl_attr_nest_end(nlh, ip);

  nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, o.proto);
  const uint16_t client_port = static_cast<uint16_t>(1024 + k % kPortsPerHost);
  const uint16_t server_port = 80;
  if (HasPorts(o.proto)) {
    // GRE keys travel in the port attributes too.
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT,
                     htons(reply ? server_port : client_port));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT,
                     htons(reply ? client_port : server_port));
  } else if (o.proto == IPPROTO_ICMP) {
    mnl_attr_put_u16(nlh, CTA_PROTO_ICMP_ID, htons(client_port));
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_TYPE, reply ? 0 : 8);  // echo
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_CODE, 0);
  } else if (o.proto == IPPROTO_ICMPV6) {
    mnl_attr_put_u16(nlh, CTA_PROTO_ICMPV6_ID, htons(client_port));
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_TYPE, reply ? 129 : 128);  // echo
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_CODE, 0);
  }
  mnl_attr_nest_end(nlh, proto);
  mnl_attr_nest_end(nlh, tuple);
}

// IPS_* bits a flow in `o.state_value` has: a reply once the peer answered,
// assured once the connection is open.
uint32_t Status(const Options& o) {
  uint32_t status = IPS_CONFIRMED;
  int s = o.state_value;
  bool replied = false, assured = false;
  if (o.proto == IPPROTO_TCP) {
    replied = s >= TCP_CONNTRACK_SYN_RECV && s != TCP_CONNTRACK_SYN_SENT2;
    assured = s >= TCP_CONNTRACK_ESTABLISHED && s != TCP_CONNTRACK_SYN_SENT2;
  } else if (o.proto == IPPROTO_SCTP) {
    replied = s >= SCTP_CONNTRACK_COOKIE_ECHOED;
    assured = s >= SCTP_CONNTRACK_ESTABLISHED;
  } else if (o.proto == IPPROTO_DCCP) {
    replied = s >= 2;  // RESPOND
    assured = s >= kDccpOpen;
  }
  if (replied) status |= IPS_SEEN_REPLY;
  if (assured) status |= IPS_ASSURED;
  return status;
}

void PutProtoInfo(nlmsghdr* nlh, const Options& o) {
  if (o.state_value < 0) return;
  const auto state = static_cast<uint8_t>(o.state_value);
  nlattr* info = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
  if (o.proto == IPPROTO_TCP) {
    nlattr* n = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
    mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, state);
    mnl_attr_nest_end(nlh, n);
  } else if (o.proto == IPPROTO_SCTP) {
    // The kernel rejects an SCTP protoinfo without both verification tags.
    nlattr* n = mnl_attr_nest_start(nlh, CTA_PROTOINFO_SCTP);
    mnl_attr_put_u8(nlh, CTA_PROTOINFO_SCTP_STATE, state);
    mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_ORIGINAL, htonl(0x1000));
    mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_REPLY, htonl(0x2000));
    mnl_attr_nest_end(nlh, n);
  } else {
    nlattr* n = mnl_attr_nest_start(nlh, CTA_PROTOINFO_DCCP);
    mnl_attr_put_u8(nlh, CTA_PROTOINFO_DCCP_STATE, state);
    mnl_attr_put_u8(nlh, CTA_PROTOINFO_DCCP_ROLE, 0);  // client
    mnl_attr_nest_end(nlh, n);
  }
  mnl_attr_nest_end(nlh, info);
}

// Appends the CT_NEW or CT_DELETE message of flow k at `buf`; returns its
// aligned length.
size_t PutMessage(char* buf, const Options& o, uint64_t k, bool create,
                  uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) |
                    (create ? IPCTNL_MSG_CT_NEW : IPCTNL_MSG_CT_DELETE);
  nlh->nlmsg_flags = NLM_F_REQUEST;
  if (create) nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
  nlh->nlmsg_seq = seq;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = static_cast<uint8_t>(o.family);
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  PutTuple(nlh, CTA_TUPLE_ORIG, o, k, false);
  if (o.zone != 0) mnl_attr_put_u16(nlh, CTA_ZONE, htons(o.zone));
  if (create) {
    PutTuple(nlh, CTA_TUPLE_REPLY, o, k, true);
    mnl_attr_put_u32(nlh, CTA_STATUS, htonl(Status(o)));
    mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(o.timeout));
    if (o.mark != 0) mnl_attr_put_u32(nlh, CTA_MARK, htonl(o.mark));
    PutProtoInfo(nlh, o);
  }
  return NLMSG_ALIGN(nlh->nlmsg_len);
}

struct PhaseResult {
  uint64_t sent = 0;
  uint64_t failed = 0;
  uint64_t skipped = 0;            // the ignored errno under --ignore-exists
  bool lost_replies = false;       // ENOBUFS, or the final ACK never came
  std::map<int, uint64_t> errors;  // errno -> count
  uint64_t first_failed_flow = 0;
  std::string first_kernel_message;  // extended ACK text, if any
  double seconds = 0;

  uint64_t done() const { return sent - failed - skipped; }
};

// One netlink socket, owned for the whole run.
class Socket {
 public:
  Socket() {
    nl_ = mnl_socket_open(NETLINK_NETFILTER);
    if (nl_ == nullptr || mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
      std::perror("ctinject: netlink socket");
      std::exit(1);
    }
    int fd = mnl_socket_get_fd(nl_);
    int on = 1;
    // Failures come back as the 36-byte header only, with the kernel's
    // explanation when it has one.
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
    int rcv = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    }
  }
  ~Socket() { mnl_socket_close(nl_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // A send longer than the socket's send buffer fails with EMSGSIZE.
  void FitSendBuffer(size_t bytes) {
    int fd = mnl_socket_get_fd(nl_);
    int snd = static_cast<int>(bytes + 4096);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0) {
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
    }
  }

  bool Send(const void* buf, size_t len) {
    return mnl_socket_sendto(nl_, buf, len) >= 0;
  }

  // Reads the replies waiting, or arriving within `wait_ms`, and counts
  // failures; returns true once the ACK with `ack_seq` (if nonzero) is read.
  bool Drain(const Options& o, bool create, PhaseResult* r, int wait_ms,
             uint32_t ack_seq) {
    const int fd = mnl_socket_get_fd(nl_);
    for (;;) {
      ssize_t n = recv(fd, buf_, sizeof(buf_), MSG_DONTWAIT);
      if (n < 0 && errno == ENOBUFS) {
        r->lost_replies = true;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_ms > 0) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, wait_ms) > 0) continue;
      }
      if (n <= 0) return false;
      const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_);
      int rem = static_cast<int>(n);
      bool acked = false;
      for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
        if (nlh->nlmsg_type != NLMSG_ERROR) continue;
        const auto* e =
            static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (e->error == 0) {
          acked |= ack_seq != 0 && nlh->nlmsg_seq == ack_seq;
          continue;
        }
        CountFailure(o, create, nlh, -e->error, r);
      }
      if (acked) return true;
    }
  }

 private:
  static int ExtAckCallback(const nlattr* attr, void* data) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
      *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
    }
    return MNL_CB_OK;
  }

  static void CountFailure(const Options& o, bool create, const nlmsghdr* nlh,
                           int err, PhaseResult* r) {
    int ignored = create ? EEXIST : ENOENT;
    if (o.ignore_exists && err == ignored) {
      ++r->skipped;
      return;
    }
    if (r->failed++ == 0) {
      r->first_failed_flow = o.offset + nlh->nlmsg_seq - 1;
      if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        const auto* e =
            static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        size_t off = sizeof(nlmsgerr);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
          off += e->msg.nlmsg_len - sizeof(nlmsghdr);
        }
        if (off < mnl_nlmsg_get_payload_len(nlh)) {
          mnl_attr_parse(nlh, static_cast<unsigned>(off), ExtAckCallback,
                         &r->first_kernel_message);
        }
      }
    }
    ++r->errors[err];
  }

  mnl_socket* nl_ = nullptr;
  alignas(nlmsghdr) char buf_[1 << 16];
};

// Sends all `o.count` CT_NEW (or CT_DELETE) messages, `o.batch` per send,
// and counts the kernel's failures.
PhaseResult RunPhase(const Options& o, bool create, Socket* sock) {
  PhaseResult r;
  uint64_t batch = o.batch;
  if (o.rate > 0) {
    // Spread a limited rate over sends at least every 10 ms.
    batch = std::max<uint64_t>(1, std::min<uint64_t>(batch, o.rate / 100));
  }
  std::vector<char> buf(std::max<size_t>(64 << 10, batch * kMaxMessage));
  sock->FitSendBuffer(buf.size());
  const auto start = std::chrono::steady_clock::now();
  uint64_t i = 0;
  while (i < o.count) {
    size_t len = 0;
    // Sequence numbers count flows from 1 so a failure names its flow.
    for (uint64_t n = 0; n < batch && i < o.count; ++n, ++i) {
      len += PutMessage(buf.data() + len, o, o.offset + i, create,
                        static_cast<uint32_t>(i + 1));
    }
    while (!sock->Send(buf.data(), len)) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      std::perror("ctinject: send");
      std::exit(1);
    }
    r.sent = i;
    sock->Drain(o, create, &r, 0, 0);
    if (o.rate > 0) {
      std::this_thread::sleep_until(
          start +
          std::chrono::nanoseconds(static_cast<int64_t>(
              1e9 * static_cast<double>(i) / static_cast<double>(o.rate))));
    }
  }
  // The kernel handles the messages of a send in order, so when the ACK of
  // this no-op arrives every failure before it has been read.
  alignas(nlmsghdr) char noop[NLMSG_HDRLEN];
  nlmsghdr* nlh = mnl_nlmsg_put_header(noop);
  nlh->nlmsg_type = NLMSG_NOOP;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  const uint32_t ack_seq = static_cast<uint32_t>(o.count + 1);
  nlh->nlmsg_seq = ack_seq == 0 ? 1 : ack_seq;
  if (!sock->Send(noop, nlh->nlmsg_len) ||
      !sock->Drain(o, create, &r, 5000, nlh->nlmsg_seq)) {
    r.lost_replies = true;
  }
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return r;
}

std::string ResultFields(const char* verb, const PhaseResult& r,
                         const Options& o) {
  char line[160];
  std::snprintf(line, sizeof(line), "%s=%llu failed=%llu", verb,
                static_cast<unsigned long long>(r.done()),
                static_cast<unsigned long long>(r.failed));
  std::string s = line;
  if (o.ignore_exists) {
    s += " skipped=" + std::to_string(r.skipped);
  }
  return s;
}

double Rate(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

void Diagnose(const char* verb, const PhaseResult& r, const Options& o) {
  if (o.quiet) return;
  for (const auto& [err, n] : r.errors) {
    std::fprintf(stderr, "ctinject: %s: %llu x %s\n", verb,
                 static_cast<unsigned long long>(n), std::strerror(err));
  }
  if (r.failed > 0) {
    std::fprintf(stderr, "ctinject: %s: first failure at flow %llu%s%s\n", verb,
                 static_cast<unsigned long long>(r.first_failed_flow),
                 r.first_kernel_message.empty() ? "" : ": ",
                 r.first_kernel_message.c_str());
    if (o.proto == IPPROTO_GRE && r.failed == r.sent) {
      std::fprintf(stderr,
                   "ctinject: this kernel refuses GRE entries over ctnetlink "
                   "(nf_conntrack GRE support missing?)\n");
    }
  }
  if (r.lost_replies) {
    std::fprintf(stderr,
                 "ctinject: %s: some kernel replies were lost (ENOBUFS or no "
                 "final ACK); the failure count is a lower bound\n",
                 verb);
  }
}

bool Failed(const PhaseResult& r) { return r.failed > 0 || r.lost_replies; }

int Main(int argc, char** argv) {
  const Options o = ParseOptions(argc, argv);
  Socket sock;
  if (o.mode == Mode::kStorm) {
    PhaseResult c = RunPhase(o, true, &sock);
    PhaseResult d = RunPhase(o, false, &sock);
    double secs = c.seconds + d.seconds;
    std::printf(
        "%s %s seconds=%.3f rate=%.0f/s create_rate=%.0f/s "
        "delete_rate=%.0f/s\n",
        ResultFields("created", c, o).c_str(),
        ResultFields("deleted", d, o).c_str(), secs,
        Rate(c.sent + d.sent, secs), Rate(c.sent, c.seconds),
        Rate(d.sent, d.seconds));
    std::fflush(stdout);
    Diagnose("create", c, o);
    Diagnose("delete", d, o);
    return Failed(c) || Failed(d) ? 1 : 0;
  }
  const bool create = o.mode == Mode::kCreate;
  PhaseResult r = RunPhase(o, create, &sock);
  std::printf("%s seconds=%.3f rate=%.0f/s\n",
              ResultFields(create ? "created" : "deleted", r, o).c_str(),
              r.seconds, Rate(r.sent, r.seconds));
  std::fflush(stdout);
  Diagnose(create ? "create" : "delete", r, o);
  return Failed(r) ? 1 : 0;
}

}  // namespace
}  // namespace ctcollect

int main(int argc, char** argv) { return ctcollect::Main(argc, argv); }
