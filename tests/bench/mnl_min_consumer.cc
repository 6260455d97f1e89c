// The reference for the event-storm benchmark (core_bench.sh): the least a
// libmnl event consumer can do. Subscribes to conntrack NEW, UPDATE and
// DESTROY with the receive buffer ctcollectd uses by default (16 MiB,
// SO_RCVBUFFORCE), drains with non-blocking recv() one datagram at a time,
// walks the netlink messages in each datagram and counts them by type, and
// naps 500 us when the socket is empty (as the measurement did).
// Nothing is parsed beyond the message header.
//
//   mnl_min_consumer [RCVBUF_BYTES]
//
// Prints `ready` once subscribed; on SIGINT/SIGTERM prints one line
// `events=N enobufs=E cpu=S new=A update=B destroy=C other=D`, where cpu is
// its own user+system CPU seconds (getrusage). Exit status 1 when the
// socket cannot be set up.
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const int rcvbuf = argc > 1 ? std::atoi(argv[1]) : 16 << 20;
  // No SA_RESTART: the nap must end on the signal, not after it.
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) {
    std::perror("mnl_min_consumer: mnl_socket_open");
    return 1;
  }
  if (mnl_socket_bind(nl,
                      NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
                          NF_NETLINK_CONNTRACK_DESTROY,
                      MNL_SOCKET_AUTOPID) < 0) {
    std::perror("mnl_min_consumer: mnl_socket_bind");
    return 1;
  }
  const int fd = mnl_socket_get_fd(nl);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
    std::perror("mnl_min_consumer: SO_RCVBUFFORCE");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);

  // One event is one datagram of a few hundred bytes; 64 KiB never
  // truncates one.
  static char buf[1 << 16];
  unsigned long long events = 0, enobufs = 0;
  unsigned long long by_type[4] = {0, 0, 0, 0};  // new, update, destroy, other
  while (!g_stop) {
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        ++enobufs;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        timespec nap{0, 500000};
        nanosleep(&nap, nullptr);
      } else {
        std::perror("mnl_min_consumer: recv");
        break;
      }
      continue;
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    int rem = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, rem)) {
      ++events;
      // ctnetlink tells NEW from UPDATE by the flags of IPCTNL_MSG_CT_NEW.
      const int type = nlh->nlmsg_type & 0xff;
      if (type == IPCTNL_MSG_CT_NEW) {
        ++by_type[(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) ? 0 : 1];
      } else if (type == IPCTNL_MSG_CT_DELETE) {
        ++by_type[2];
      } else {
        ++by_type[3];
      }
      nlh = mnl_nlmsg_next(nlh, &rem);
    }
  }
  std::printf(
      "events=%llu enobufs=%llu cpu=%.3f new=%llu update=%llu destroy=%llu "
      "other=%llu\n",
      events, enobufs, CpuSeconds(), by_type[0], by_type[1], by_type[2],
      by_type[3]);
  mnl_socket_close(nl);
  return 0;
}
