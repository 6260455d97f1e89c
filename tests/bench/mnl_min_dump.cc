// The reference for the dump benchmark (core_bench.sh): a libmnl conntrack
// table dump (IPCTNL_MSG_CT_GET, NLM_F_DUMP, AF_UNSPEC) through a 64 KiB
// receive buffer that only counts the entries. Prints
// `entries=N seconds=S`, S being the wall time from the request to
// NLMSG_DONE. Exit status 1 when the socket fails or the kernel answers
// with an error.
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>

int main() {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    std::perror("mnl_min_dump: socket");
    return 1;
  }
  static char buf[1 << 16];
  const auto t0 = std::chrono::steady_clock::now();
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    std::perror("mnl_min_dump: send");
    return 1;
  }
  unsigned long long entries = 0;
  bool done = false;
  while (!done) {
    const ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0) {
      std::perror("mnl_min_dump: recv");
      return 1;
    }
    if (n == 0) break;
    const auto* m = reinterpret_cast<const nlmsghdr*>(buf);
    int rem = static_cast<int>(n);
    while (mnl_nlmsg_ok(m, rem)) {
      if (m->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (m->nlmsg_type == NLMSG_ERROR) {
        const auto* err =
            static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
        std::fprintf(stderr, "mnl_min_dump: kernel error: %s\n",
                     std::strerror(-err->error));
        return 1;
      }
      ++entries;
      m = mnl_nlmsg_next(m, &rem);
    }
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::printf("entries=%llu seconds=%.4f\n", entries, s);
  mnl_socket_close(nl);
  return 0;
}
