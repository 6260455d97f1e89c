// Thin RAII over a libmnl NETLINK_NETFILTER socket: open, bind to multicast
// groups, size the receive buffer, and receive many datagrams per system
// call. No framework on top: callers walk the messages themselves.
//
// Thread safety: one thread at a time per socket.
#pragma once

#include <libmnl/libmnl.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

namespace ctcollect {

class NetlinkSocket {
 public:
  // Opens and binds a socket in the calling thread's network namespace.
  // `groups` is the legacy nl_groups bitmask (NF_NETLINK_CONNTRACK_*).
  static std::unique_ptr<NetlinkSocket> Open(uint32_t groups,
                                             std::error_code* ec);
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  int fd() const;
  uint32_t portid() const;

  // Sets the receive buffer, past rmem_max where the process may
  // (SO_RCVBUFFORCE, CAP_NET_ADMIN), else as far as SO_RCVBUF allows.
  // Returns the size the kernel reports back (it doubles the request).
  size_t SetReceiveBuffer(size_t bytes);
  size_t ReceiveBuffer() const;

  // The sequence number for the socket's next request: the socket counts
  // them, so the replies of one request are told from a late reply of an
  // earlier one whoever sends on it.
  uint32_t NextSeq() { return ++seq_; }

  std::error_code SetNonBlocking();
  // Connects the socket to the kernel (port 0): the kernel then refuses
  // unicasts to it from any other socket (ECONNREFUSED to their sender),
  // so what arrives is the kernel's: its replies and multicast events.
  // Multicast itself needs CAP_NET_ADMIN over the namespace to send to,
  // the privilege that makes real conntrack entries there anyway.
  std::error_code ConnectToKernel();
  std::error_code Send(const void* buf, size_t len);

  // Receives one datagram into buf. Returns bytes, 0 on EAGAIN, -1 with
  // *ec set on error (ENOBUFS means the kernel dropped messages for us).
  ssize_t Receive(void* buf, size_t len, std::error_code* ec);

 private:
  explicit NetlinkSocket(mnl_socket* s) : sock_(s) {}
  mnl_socket* sock_;
  uint32_t seq_ = 0;
};

// Receives up to `datagrams` datagrams per call with recvmmsg into buffers
// allocated once, so a busy event stream costs one system call per batch
// instead of one per event. The buffers are kStagger bytes further apart
// than their size: an event fills only the first few hundred bytes of its
// buffer, and at a power-of-two stride all those bytes would compete for
// the same few sets of the L1 cache while the kernel copies into them.
// No sender address is asked for (the kernel would write one back per
// datagram): sockets that must hear only the kernel are connected to it
// (NetlinkSocket::ConnectToKernel).
//
// (One recv() per datagram, packed into one 40 KiB buffer, was measured
// against this in issue 18, tests/bench/RESULTS.md: it cost more CPU per
// event in 1M storms; recvmmsg without the sender's address cost less.)
class BatchReceiver {
 public:
  BatchReceiver(size_t datagrams, size_t datagram_size);

  // Fills the batch from `fd` without blocking. Returns the number of
  // datagrams (0 when none are waiting) or -1 with *ec set (ENOBUFS: the
  // kernel dropped messages for us).
  int Receive(int fd, std::error_code* ec);

  const uint8_t* data(int i) const { return &buf_[i * stride_]; }
  size_t length(int i) const { return msgs_[i].msg_len; }
  bool truncated(int i) const { return msgs_[i].msg_hdr.msg_flags & MSG_TRUNC; }
  size_t max_datagrams() const { return msgs_.size(); }

 private:
  // 7 cache lines: odd, so 64 buffers start in 64 different L1 sets.
  static constexpr size_t kStagger = 7 * 64;
  size_t stride_;
  std::vector<uint8_t> buf_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
};

}  // namespace ctcollect
