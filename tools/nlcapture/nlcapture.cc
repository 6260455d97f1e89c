// nlcapture: records raw ctnetlink messages from the kernel into a file, so
// unit tests and fuzz corpora parse real kernel bytes.
//
//   nlcapture events --out FILE [--count N] [--timeout SEC]
//   nlcapture dump|stats-cpu|stats|exp-dump|exp-stats-cpu --out FILE
//
// The file holds the messages back to back exactly as received, each
// starting with its struct nlmsghdr (tests/testdata/README.md).
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "nlcapture: %s\nusage: nlcapture events|dump|stats-cpu|stats|"
               "exp-dump|exp-stats-cpu --out FILE [--count N] [--timeout SEC]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage("missing mode");
  std::string mode = argv[1], out;
  long count = 1000000, timeout = 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--out") {
      out = argv[i + 1];
    } else if (f == "--count") {
      count = std::atol(argv[i + 1]);
    } else if (f == "--timeout") {
      timeout = std::atol(argv[i + 1]);
    } else {
      Usage("unknown flag");
    }
  }
  if (out.empty()) Usage("--out is required");
  bool events = mode == "events";
  unsigned groups = 0;
  uint16_t type = 0, flags = NLM_F_REQUEST | NLM_F_DUMP;
  if (events) {
    groups = NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
             NF_NETLINK_CONNTRACK_DESTROY | NF_NETLINK_CONNTRACK_EXP_NEW |
             NF_NETLINK_CONNTRACK_EXP_DESTROY;
  } else if (mode == "dump") {
    type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  } else if (mode == "stats-cpu") {
    type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS_CPU;
  } else if (mode == "stats") {
    type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS;
    flags = NLM_F_REQUEST;
  } else if (mode == "exp-dump") {
    type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_EXP_GET;
  } else if (mode == "exp-stats-cpu") {
    type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_EXP_GET_STATS_CPU;
  } else {
    Usage("unknown mode");
  }
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr || mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
    std::perror("nlcapture: netlink");
    return 1;
  }
  FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) {
    std::perror("nlcapture: open");
    return 1;
  }
  char buf[1 << 16];
  if (!events) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = 1;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
      std::perror("nlcapture: send");
      return 1;
    }
  }
  long got = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  bool done = false;
  while (!done && got < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{mnl_socket_get_fd(nl), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) break;
    ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), 0);
    if (n <= 0) break;
    std::fwrite(buf, 1, static_cast<size_t>(n), f);
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    int rem = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, rem)) {
      ++got;
      if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR ||
          (mode == "stats")) {
        done = !events;
      }
      nlh = mnl_nlmsg_next(nlh, &rem);
    }
  }
  std::fclose(f);
  std::fprintf(stderr, "nlcapture: %ld messages to %s\n", got, out.c_str());
  mnl_socket_close(nl);
  return 0;
}
