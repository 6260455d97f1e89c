// nlcapture: records raw ctnetlink messages from the kernel into a file, so
// unit tests, benchmarks and fuzz corpora parse real kernel bytes. Run it in
// the network namespace to record (ip netns exec NS nlcapture ...).
//
//   nlcapture events --out FILE [--count N] [--timeout SEC]
//   nlcapture dump|stats-cpu|stats|exp-dump|exp-stats-cpu --out FILE
//             [--timeout SEC]
//   nlcapture show FILE
//
// `events` subscribes to the conntrack NEW/UPDATE/DESTROY and expectation
// NEW/DESTROY groups and records until N messages, SEC seconds (default 10)
// or SIGINT/SIGTERM. The others send one request (family AF_UNSPEC) and
// record every reply message, NLMSG_DONE or the error included. `show`
// prints one line per message of a file.
//
// File format (tests/testdata/README.md): the messages back to back exactly
// as recv() returned them; each starts with its struct nlmsghdr, nlmsg_len
// is its size and the next one starts at NLMSG_ALIGN(nlmsg_len).
//
// Exit 0 on success, 1 on an I/O error or lost events (ENOBUFS), 2 on a bad
// command line.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_cttimeout.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ctcollect {
namespace {

volatile sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "nlcapture: %s\n"
               "usage: nlcapture events --out FILE [--count N] [--timeout "
               "SEC]\n"
               "       nlcapture dump|stats-cpu|stats|exp-dump|exp-stats-cpu|"
               "timeout-dump|nft-obj-dump --out FILE [--timeout SEC]\n"
               "       nlcapture show FILE\n",
               why.c_str());
  std::exit(2);
}

struct Request {
  const char* mode;
  uint16_t subsys;
  uint16_t type;
  bool dump;
};

constexpr Request kRequests[] = {
    {"dump", NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, true},
    {"stats-cpu", NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET_STATS_CPU, true},
    {"stats", NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET_STATS, false},
    {"exp-dump", NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_GET, true},
    {"exp-stats-cpu", NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_GET_STATS_CPU,
     true},
    {"timeout-dump", NFNL_SUBSYS_CTNETLINK_TIMEOUT, IPCTNL_MSG_TIMEOUT_GET,
     true},
    {"nft-obj-dump", NFNL_SUBSYS_NFTABLES, NFT_MSG_GETOBJ, true},
};

// "NEW", "UPDATE", "DESTROY", ... for one message, as a reader of events
// and dumps tells them apart.
std::string Kind(const nlmsghdr* nlh) {
  switch (nlh->nlmsg_type) {
    case NLMSG_DONE:
      return "DONE";
    case NLMSG_ERROR: {
      const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      return e->error == 0 ? "ACK" : "ERROR(" + std::to_string(e->error) + ")";
    }
    case NLMSG_NOOP:
      return "NOOP";
    default:
      break;
  }
  const unsigned subsys = NFNL_SUBSYS_ID(nlh->nlmsg_type);
  const unsigned type = NFNL_MSG_TYPE(nlh->nlmsg_type);
  const bool created = (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) != 0;
  const bool multi = (nlh->nlmsg_flags & NLM_F_MULTI) != 0;
  if (subsys == NFNL_SUBSYS_CTNETLINK) {
    switch (type) {
      case IPCTNL_MSG_CT_NEW:
        return multi ? "CT" : created ? "NEW" : "UPDATE";
      case IPCTNL_MSG_CT_DELETE:
        return "DESTROY";
      case IPCTNL_MSG_CT_GET_STATS_CPU:
        return "STATS_CPU";
      case IPCTNL_MSG_CT_GET_STATS:
        return "STATS";
      case IPCTNL_MSG_EXP_GET_STATS_CPU:
        // The kernel answers IPCTNL_MSG_EXP_GET_STATS_CPU under the
        // CTNETLINK subsystem, not CTNETLINK_EXP (type 3 is otherwise
        // IPCTNL_MSG_CT_GET_CTRZERO, a request only).
        return "EXP_STATS_CPU";
      default:
        return "CT_TYPE_" + std::to_string(type);
    }
  }
  if (subsys == NFNL_SUBSYS_CTNETLINK_EXP) {
    switch (type) {
      case IPCTNL_MSG_EXP_NEW:
        return multi ? "EXP" : "EXP_NEW";
      case IPCTNL_MSG_EXP_DELETE:
        return "EXP_DESTROY";
      case IPCTNL_MSG_EXP_GET_STATS_CPU:
        return "EXP_STATS_CPU";
      default:
        return "EXP_TYPE_" + std::to_string(type);
    }
  }
  return "SUBSYS_" + std::to_string(subsys) + "_TYPE_" + std::to_string(type);
}

// Records messages into a file and counts them by kind.
class Recorder {
 public:
  explicit Recorder(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) {
      std::fprintf(stderr, "nlcapture: %s: %s\n", path.c_str(),
                   std::strerror(errno));
      std::exit(1);
    }
  }
  ~Recorder() {
    if (f_ != nullptr) std::fclose(f_);
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Writes one message and its alignment padding as received.
  void Add(const nlmsghdr* nlh, size_t available) {
    size_t len = std::min<size_t>(NLMSG_ALIGN(nlh->nlmsg_len), available);
    if (std::fwrite(nlh, 1, len, f_) != len) ok_ = false;
    ++messages_;
    ++kinds_[Kind(nlh)];
  }

  long messages() const { return messages_; }

  bool Close() {
    if (std::fclose(f_) != 0) ok_ = false;
    f_ = nullptr;
    std::string summary;
    for (const auto& [kind, n] : kinds_) {
      summary += (summary.empty() ? "" : ", ") + kind + " " + std::to_string(n);
    }
    std::fprintf(stderr, "nlcapture: %ld messages (%s) to %s\n", messages_,
                 summary.c_str(), path_.c_str());
    if (!ok_)
      std::fprintf(stderr, "nlcapture: writing %s failed\n", path_.c_str());
    return ok_;
  }

 private:
  std::string path_;
  FILE* f_ = nullptr;
  bool ok_ = true;
  long messages_ = 0;
  std::map<std::string, long> kinds_;
};

mnl_socket* OpenSocket() {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    std::perror("nlcapture: netlink socket");
    std::exit(1);
  }
  int rcv = 16 << 20;
  int fd = mnl_socket_get_fd(nl);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
  }
  return nl;
}

int CaptureEvents(const std::string& out, long count, long timeout) {
  Recorder rec(out);
  mnl_socket* nl = OpenSocket();
  for (int group : {NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE,
                    NFNLGRP_CONNTRACK_DESTROY, NFNLGRP_CONNTRACK_EXP_NEW,
                    NFNLGRP_CONNTRACK_EXP_DESTROY}) {
    if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group,
                              sizeof(group)) < 0) {
      std::perror("nlcapture: NETLINK_ADD_MEMBERSHIP");
      return 1;
    }
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: poll() returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // Tell a script waiting to make traffic that the subscription is live.
  std::fprintf(stderr, "nlcapture: listening\n");

  long lost = 0;
  alignas(nlmsghdr) static char buf[1 << 17];
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  while (!g_stop && rec.messages() < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{mnl_socket_get_fd(nl), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        ++lost;
        std::fprintf(stderr, "nlcapture: ENOBUFS, events were lost\n");
      } else if (errno != EAGAIN && errno != EINTR) {
        std::perror("nlcapture: recv");
        break;
      }
      continue;
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    int rem = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, rem) && rec.messages() < count;
         nlh = mnl_nlmsg_next(nlh, &rem)) {
      rec.Add(nlh, static_cast<size_t>(rem));
    }
  }
  mnl_socket_close(nl);
  return rec.Close() && lost == 0 ? 0 : 1;
}

int CaptureRequest(const Request& req, const std::string& out, long timeout) {
  Recorder rec(out);
  mnl_socket* nl = OpenSocket();
  alignas(nlmsghdr) static char buf[1 << 17];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = static_cast<uint16_t>((req.subsys << 8) | req.type);
  nlh->nlmsg_flags = NLM_F_REQUEST | (req.dump ? NLM_F_DUMP : 0);
  const uint32_t seq = 1;
  nlh->nlmsg_seq = seq;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    std::perror("nlcapture: send");
    return 1;
  }
  const uint32_t portid = mnl_socket_get_portid(nl);
  bool done = false, error = false;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  while (!done) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{mnl_socket_get_fd(nl), POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      std::fprintf(stderr, "nlcapture: no complete answer within %lds\n",
                   timeout);
      error = true;
      break;
    }
    ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), 0);
    if (n < 0) {
      std::perror("nlcapture: recv");
      error = true;
      break;
    }
    const auto* m = reinterpret_cast<const nlmsghdr*>(buf);
    int rem = static_cast<int>(n);
    for (; mnl_nlmsg_ok(m, rem); m = mnl_nlmsg_next(m, &rem)) {
      if (m->nlmsg_seq != seq || m->nlmsg_pid != portid) continue;
      rec.Add(m, static_cast<size_t>(rem));
      if (m->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
        if (e->error != 0) {
          std::fprintf(stderr, "nlcapture: kernel answered %s\n",
                       std::strerror(-e->error));
          error = true;
        }
        done = true;
      } else if (m->nlmsg_type == NLMSG_DONE || !req.dump) {
        done = true;
      }
    }
  }
  mnl_socket_close(nl);
  return rec.Close() && !error ? 0 : 1;
}

// Collects what `show` prints of a conntrack message's attributes.
struct CtSummary {
  int proto = -1;
  int state = -1;
  uint32_t status = 0;
  bool has_status = false;
  int zone = -1;
  int64_t mark = -1;
  bool counters = false;
  bool timestamp = false;
  std::string helper;
};

int TupleProtoCallback(const nlattr* a, void* data) {
  auto* s = static_cast<CtSummary*>(data);
  if (mnl_attr_get_type(a) == CTA_PROTO_NUM &&
      mnl_attr_validate(a, MNL_TYPE_U8) == 0) {
    s->proto = mnl_attr_get_u8(a);
  }
  return MNL_CB_OK;
}

int TupleCallback(const nlattr* a, void* data) {
  if (mnl_attr_get_type(a) == CTA_TUPLE_PROTO) {
    mnl_attr_parse_nested(a, TupleProtoCallback, data);
  }
  return MNL_CB_OK;
}

int ProtoInfoStateCallback(const nlattr* a, void* data) {
  // The state is attribute 1 in the tcp, dccp and sctp nests alike.
  if (mnl_attr_get_type(a) == CTA_PROTOINFO_TCP_STATE &&
      mnl_attr_validate(a, MNL_TYPE_U8) == 0) {
    static_cast<CtSummary*>(data)->state = mnl_attr_get_u8(a);
  }
  return MNL_CB_OK;
}

int ProtoInfoCallback(const nlattr* a, void* data) {
  mnl_attr_parse_nested(a, ProtoInfoStateCallback, data);
  return MNL_CB_OK;
}

int HelpCallback(const nlattr* a, void* data) {
  if (mnl_attr_get_type(a) == CTA_HELP_NAME &&
      mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
    static_cast<CtSummary*>(data)->helper = mnl_attr_get_str(a);
  }
  return MNL_CB_OK;
}

int CtCallback(const nlattr* a, void* data) {
  auto* s = static_cast<CtSummary*>(data);
  switch (mnl_attr_get_type(a)) {
    case CTA_TUPLE_ORIG:
      mnl_attr_parse_nested(a, TupleCallback, s);
      break;
    case CTA_PROTOINFO:
      mnl_attr_parse_nested(a, ProtoInfoCallback, s);
      break;
    case CTA_STATUS:
      if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
        s->status = ntohl(mnl_attr_get_u32(a));
        s->has_status = true;
      }
      break;
    case CTA_ZONE:
      if (mnl_attr_validate(a, MNL_TYPE_U16) == 0) {
        s->zone = ntohs(mnl_attr_get_u16(a));
      }
      break;
    case CTA_MARK:
      if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
        s->mark = ntohl(mnl_attr_get_u32(a));
      }
      break;
    case CTA_COUNTERS_ORIG:
    case CTA_COUNTERS_REPLY:
      s->counters = true;
      break;
    case CTA_TIMESTAMP:
      s->timestamp = true;
      break;
    case CTA_HELP:
      mnl_attr_parse_nested(a, HelpCallback, s);
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

int ExpCallback(const nlattr* a, void* data) {
  auto* s = static_cast<CtSummary*>(data);
  switch (mnl_attr_get_type(a)) {
    case CTA_EXPECT_MASTER:
      mnl_attr_parse_nested(a, TupleCallback, s);
      break;
    case CTA_EXPECT_ZONE:
      if (mnl_attr_validate(a, MNL_TYPE_U16) == 0) {
        s->zone = ntohs(mnl_attr_get_u16(a));
      }
      break;
    case CTA_EXPECT_HELP_NAME:
      if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
        s->helper = mnl_attr_get_str(a);
      }
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

int Show(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "nlcapture: %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), {});
  // Copied into nlmsghdr-aligned storage, as a reader of the file must.
  std::vector<nlmsghdr> data(raw.size() / sizeof(nlmsghdr) + 1);
  std::memcpy(data.data(), raw.data(), raw.size());
  const auto* nlh = data.data();
  int rem = static_cast<int>(raw.size());
  size_t offset = 0;
  for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
    std::printf("%6zu len=%-4u %-13s flags=0x%03x seq=%u", offset,
                nlh->nlmsg_len, Kind(nlh).c_str(), nlh->nlmsg_flags,
                nlh->nlmsg_seq);
    offset += NLMSG_ALIGN(nlh->nlmsg_len);
    if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
        nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) {
      std::printf("\n");
      continue;
    }
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    std::printf(" family=%u res_id=%u", nfg->nfgen_family, ntohs(nfg->res_id));
    const unsigned subsys = NFNL_SUBSYS_ID(nlh->nlmsg_type);
    const unsigned type = NFNL_MSG_TYPE(nlh->nlmsg_type);
    const bool ct = subsys == NFNL_SUBSYS_CTNETLINK &&
                    (type == IPCTNL_MSG_CT_NEW || type == IPCTNL_MSG_CT_DELETE);
    const bool exp =
        subsys == NFNL_SUBSYS_CTNETLINK_EXP &&
        (type == IPCTNL_MSG_EXP_NEW || type == IPCTNL_MSG_EXP_DELETE);
    if (ct || exp) {
      CtSummary s;
      mnl_attr_parse(nlh, sizeof(nfgenmsg), ct ? CtCallback : ExpCallback, &s);
      std::printf(" proto=%d", s.proto);
      if (s.state >= 0) std::printf(" state=%d", s.state);
      if (s.has_status) std::printf(" status=0x%x", s.status);
      if (s.zone >= 0) std::printf(" zone=%d", s.zone);
      if (s.mark >= 0) std::printf(" mark=%" PRId64, s.mark);
      if (s.counters) std::printf(" counters");
      if (s.timestamp) std::printf(" timestamp");
      if (!s.helper.empty()) std::printf(" helper=%s", s.helper.c_str());
    } else {
      int attrs = 0;
      mnl_attr_parse(
          nlh, sizeof(nfgenmsg),
          [](const nlattr*, void* n) {
            ++*static_cast<int*>(n);
            return MNL_CB_OK;
          },
          &attrs);
      std::printf(" attrs=%d", attrs);
    }
    std::printf("\n");
  }
  if (rem != 0) {
    std::printf("%6zu %d trailing bytes that are no message\n", offset, rem);
    return 1;
  }
  return 0;
}

long ParseLong(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n <= 0) {
    Usage("bad value for " + flag + ": " + v);
  }
  return n;
}

int Main(int argc, char** argv) {
  if (argc < 2) Usage("missing mode");
  const std::string mode = argv[1];
  if (mode == "show") {
    if (argc != 3) Usage("show takes one FILE");
    return Show(argv[2]);
  }
  std::string out;
  long count = -1, timeout = 10;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const std::string v = argv[++i];
    if (flag == "--out") {
      out = v;
    } else if (flag == "--count") {
      count = ParseLong(flag, v);
    } else if (flag == "--timeout") {
      timeout = ParseLong(flag, v);
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (out.empty()) Usage("--out FILE is required");
  if (mode == "events") {
    return CaptureEvents(
        out, count < 0 ? std::numeric_limits<long>::max() : count, timeout);
  }
  if (count >= 0) Usage("--count only applies to events");
  for (const Request& req : kRequests) {
    if (mode == req.mode) return CaptureRequest(req, out, timeout);
  }
  Usage("unknown mode " + mode);
}

}  // namespace
}  // namespace ctcollect

int main(int argc, char** argv) { return ctcollect::Main(argc, argv); }
