// The reference for the event-storm benchmark: the least a libmnl event
// consumer can do. Subscribes to conntrack NEW/UPDATE/DESTROY with the same
// receive buffer as ctcollectd's default, drains without blocking, counts
// messages, and naps 500 us when the socket is empty (as the issue's
// measurement did). SIGINT/SIGTERM: prints `events=N enobufs=E cpu=S`.
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  int rcvbuf = argc > 1 ? std::atoi(argv[1]) : 16 << 20;
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr ||
      mnl_socket_bind(nl, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
                              NF_NETLINK_CONNTRACK_DESTROY,
                      MNL_SOCKET_AUTOPID) < 0) {
    std::perror("mnl_min_consumer");
    return 1;
  }
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
  std::printf("ready\n");
  std::fflush(stdout);
  static char buf[1 << 16];
  unsigned long long events = 0, enobufs = 0;
  while (!g_stop) {
    ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        ++enobufs;
      } else {
        timespec nap{0, 500000};
        nanosleep(&nap, nullptr);
      }
      continue;
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
    int rem = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, rem)) {
      ++events;
      nlh = mnl_nlmsg_next(nlh, &rem);
    }
  }
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
  std::printf("events=%llu enobufs=%llu cpu=%.3f\n", events, enobufs, cpu);
  return 0;
}
