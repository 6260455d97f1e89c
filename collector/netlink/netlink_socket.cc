#include "collector/netlink/netlink_socket.h"

#include <fcntl.h>
#include <linux/netlink.h>

#include <cerrno>

namespace ctcollect {

std::unique_ptr<NetlinkSocket> NetlinkSocket::Open(uint32_t groups,
                                                   std::error_code* ec) {
  mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (s == nullptr) {
    *ec = std::error_code(errno, std::generic_category());
    return nullptr;
  }
  if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) {
    *ec = std::error_code(errno, std::generic_category());
    mnl_socket_close(s);
    return nullptr;
  }
  return std::unique_ptr<NetlinkSocket>(new NetlinkSocket(s));
}

NetlinkSocket::~NetlinkSocket() { mnl_socket_close(sock_); }

int NetlinkSocket::fd() const { return mnl_socket_get_fd(sock_); }
uint32_t NetlinkSocket::portid() const { return mnl_socket_get_portid(sock_); }

size_t NetlinkSocket::SetReceiveBuffer(size_t bytes) {
  int v = bytes > 0x3fffffff ? 0x3fffffff : static_cast<int>(bytes);
  if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0) {
    setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
  }
  return ReceiveBuffer();
}

size_t NetlinkSocket::ReceiveBuffer() const {
  int v = 0;
  socklen_t l = sizeof(v);
  getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &v, &l);
  return static_cast<size_t>(v);
}

std::error_code NetlinkSocket::SetNonBlocking() {
  int flags = fcntl(fd(), F_GETFL);
  if (flags < 0 || fcntl(fd(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return std::error_code(errno, std::generic_category());
  }
  return {};
}

std::error_code NetlinkSocket::ConnectToKernel() {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;  // nl_pid 0, no groups
  if (connect(fd(), reinterpret_cast<const sockaddr*>(&kernel),
              sizeof(kernel)) != 0) {
    return std::error_code(errno, std::generic_category());
  }
  return {};
}

std::error_code NetlinkSocket::Send(const void* buf, size_t len) {
  if (mnl_socket_sendto(sock_, buf, len) < 0) {
    return std::error_code(errno, std::generic_category());
  }
  return {};
}

ssize_t NetlinkSocket::Receive(void* buf, size_t len, std::error_code* ec) {
  ssize_t n = recv(fd(), buf, len, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    *ec = std::error_code(errno, std::generic_category());
    return -1;
  }
  return n;
}

BatchReceiver::BatchReceiver(size_t datagrams, size_t datagram_size)
    : stride_((datagram_size + 63) / 64 * 64 + kStagger),
      buf_(datagrams * stride_),
      iov_(datagrams),
      msgs_(datagrams) {
  for (size_t i = 0; i < datagrams; ++i) {
    iov_[i] = iovec{&buf_[i * stride_], datagram_size};
    msgs_[i] = mmsghdr{};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

int BatchReceiver::Receive(int fd, std::error_code* ec) {
  int n = recvmmsg(fd, msgs_.data(), static_cast<unsigned>(msgs_.size()),
                   MSG_DONTWAIT, nullptr);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    *ec = std::error_code(errno, std::generic_category());
    return -1;
  }
  return n;
}

}  // namespace ctcollect
