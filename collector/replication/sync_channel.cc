#include "collector/replication/sync_channel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include "collector/base/config_error.h"
#include "collector/base/parse_number.h"

namespace ctcollect {
namespace {

constexpr int kDefaultPort = 3780;
constexpr int kDefaultRcvBuf = 16 << 20;  // a bulk send of 1M flows bursts

[[noreturn]] void ThrowErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string IpText(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf,
              sizeof(buf));
  } else if (a.ss_family == AF_INET6) {
    const auto& s6 = reinterpret_cast<const sockaddr_in6&>(a);
    if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
      inet_ntop(AF_INET, &s6.sin6_addr.s6_addr[12], buf, sizeof(buf));
    } else {
      inet_ntop(AF_INET6, &s6.sin6_addr, buf, sizeof(buf));
    }
  }
  return buf;
}

int Socket(int family, int type) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno("sync socket");
  return fd;
}

void SetInt(int fd, int level, int opt, int v, const char* what) {
  if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0) ThrowErrno(what);
}

void SetBuffers(int fd, const SyncOptions& o) {
  const int rcv = o.rcvbuf > 0 ? o.rcvbuf : kDefaultRcvBuf;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
  }
  if (o.sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &o.sndbuf,
                                 sizeof(o.sndbuf)) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.sndbuf, sizeof(o.sndbuf));
  }
}

void BindToDevice(int fd, const std::string& ifname) {
  if (ifname.empty()) return;
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(),
                 static_cast<socklen_t>(ifname.size())) < 0) {
    ThrowErrno("--sync.interface " + ifname);
  }
}

int InterfaceMtu(const std::string& ifname) {
  if (ifname.empty()) return 1500;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1500;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  int mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 1500;
  close(fd);
  return mtu;
}

}  // namespace

SyncEndpoint ParseSyncEndpoint(const std::string& flag, const std::string& v,
                               int default_port) {
  std::string host = v, port;
  if (!v.empty() && v[0] == '[') {
    const size_t close = v.find(']');
    if (close == std::string::npos)
      throw ConfigError(flag + ": bad address " + v);
    host = v.substr(1, close - 1);
    if (close + 1 < v.size()) {
      if (v[close + 1] != ':') throw ConfigError(flag + ": bad address " + v);
      port = v.substr(close + 2);
    }
  } else if (const size_t c = v.rfind(':');
             c != std::string::npos && v.find(':') == c) {
    host = v.substr(0, c);
    port = v.substr(c + 1);
  }
  int p = default_port;
  if (!port.empty()) {
    auto n = ParseNumber(port, 65535);
    if (!n || *n == 0) throw ConfigError(flag + ": bad port in " + v);
    p = static_cast<int>(*n);
  }
  SyncEndpoint e;
  e.text = v;
  auto* s4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (inet_pton(AF_INET, host.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<uint16_t>(p));
    e.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<uint16_t>(p));
    e.len = sizeof(sockaddr_in6);
  } else {
    throw ConfigError(flag + ": not an IP address: " + v);
  }
  e.ip = IpText(e.addr);
  return e;
}

SyncChannel::SyncChannel(const SyncOptions& o,
                         std::shared_ptr<const SyncHmac> hmac)
    : opts_(o), hmac_(std::move(hmac)) {
  const int mtu =
      o.mtu > 0 ? static_cast<int>(o.mtu) : InterfaceMtu(o.interface);
  const int overhead = o.transport == SyncTransport::kTcp ? 40 : 28;
  max_datagram_ = static_cast<size_t>(std::max(mtu - overhead, 576 - overhead));
  if (hmac_) max_datagram_ -= SyncHmac::kTagSize;
  rbuf_.resize(65536);
  switch (o.transport) {
    case SyncTransport::kUdp:
      OpenUdp();
      break;
    case SyncTransport::kMulticast:
      OpenMulticast();
      break;
    case SyncTransport::kTcp:
      OpenTcp();
      break;
  }
}

SyncChannel::~SyncChannel() {
  if (recv_fd_ >= 0) close(recv_fd_);
  if (send_fd_ >= 0) close(send_fd_);
  for (int fd : link_fds_) {
    if (fd >= 0) close(fd);
  }
  for (auto& c : conns_) close(c.fd);
}

size_t SyncChannel::LinkOfPeer(size_t peer) const {
  return opts_.transport == SyncTransport::kMulticast ? 0 : peer;
}

SyncEndpoint SyncChannel::UnicastLinks(const char* transport) {
  if (opts_.listen_address.empty()) {
    throw ConfigError(std::string("--sync.listen-address is required with ") +
                      transport);
  }
  if (opts_.peers.empty()) {
    throw ConfigError(std::string("--sync.peer is required with ") + transport);
  }
  SyncEndpoint local = ParseSyncEndpoint("--sync.listen-address",
                                         opts_.listen_address, kDefaultPort);
  const int port = ntohs(reinterpret_cast<sockaddr_in&>(local.addr).sin_port);
  for (const auto& p : opts_.peers) {
    dests_.push_back(ParseSyncEndpoint("--sync.peer", p, port));
    peer_ips_.push_back(dests_.back().ip);
    link_names_.push_back(dests_.back().ip);
  }
  return local;
}

void SyncChannel::OpenUdp() {
  SyncEndpoint local = UnicastLinks("udp");
  recv_fd_ = Socket(local.addr.ss_family, SOCK_DGRAM);
  SetInt(recv_fd_, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  SetBuffers(recv_fd_, opts_);
  BindToDevice(recv_fd_, opts_.interface);
  if (bind(recv_fd_, reinterpret_cast<sockaddr*>(&local.addr), local.len) < 0) {
    ThrowErrno("bind " + opts_.listen_address);
  }
  send_fd_ = Socket(local.addr.ss_family, SOCK_DGRAM);
  SetBuffers(send_fd_, opts_);
  BindToDevice(send_fd_, opts_.interface);
  if (!opts_.checksum)
    SetInt(send_fd_, SOL_SOCKET, SO_NO_CHECK, 1, "SO_NO_CHECK");
}

void SyncChannel::OpenMulticast() {
  if (opts_.multicast_group.empty()) {
    throw ConfigError("--sync.multicast-group is required with multicast");
  }
  SyncEndpoint group = ParseSyncEndpoint("--sync.multicast-group",
                                         opts_.multicast_group, kDefaultPort);
  if (group.addr.ss_family != AF_INET ||
      !IN_MULTICAST(
          ntohl(reinterpret_cast<sockaddr_in&>(group.addr).sin_addr.s_addr))) {
    throw ConfigError("--sync.multicast-group: not an IPv4 multicast group: " +
                      opts_.multicast_group);
  }
  const auto& g4 = reinterpret_cast<sockaddr_in&>(group.addr);
  in_addr local{};
  if (!opts_.listen_address.empty()) {
    SyncEndpoint l =
        ParseSyncEndpoint("--sync.listen-address", opts_.listen_address, 0);
    if (l.addr.ss_family != AF_INET) {
      throw ConfigError("--sync.listen-address: multicast needs IPv4");
    }
    local = reinterpret_cast<sockaddr_in&>(l.addr).sin_addr;
  }
  const int ifindex =
      opts_.interface.empty()
          ? 0
          : static_cast<int>(if_nametoindex(opts_.interface.c_str()));
  if (!opts_.interface.empty() && ifindex == 0) {
    throw ConfigError("--sync.interface: no interface " + opts_.interface);
  }
  dests_.push_back(group);
  link_names_.push_back(group.ip);
  for (const auto& p : opts_.peers) {
    peer_ips_.push_back(ParseSyncEndpoint("--sync.peer", p, 0).ip);
  }

  recv_fd_ = Socket(AF_INET, SOCK_DGRAM);
  SetInt(recv_fd_, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  SetBuffers(recv_fd_, opts_);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = g4.sin_port;
  any.sin_addr = g4.sin_addr;
  if (bind(recv_fd_, reinterpret_cast<sockaddr*>(&any), sizeof(any)) < 0) {
    ThrowErrno("bind " + opts_.multicast_group);
  }
  ip_mreqn mreq{};
  mreq.imr_multiaddr = g4.sin_addr;
  mreq.imr_address = local;
  mreq.imr_ifindex = ifindex;
  if (setsockopt(recv_fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) <
      0) {
    ThrowErrno("join " + opts_.multicast_group);
  }
  send_fd_ = Socket(AF_INET, SOCK_DGRAM);
  SetBuffers(send_fd_, opts_);
  SetInt(send_fd_, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
  if (setsockopt(send_fd_, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) <
      0) {
    ThrowErrno("IP_MULTICAST_IF");
  }
  if (!opts_.checksum)
    SetInt(send_fd_, SOL_SOCKET, SO_NO_CHECK, 1, "SO_NO_CHECK");
}

void SyncChannel::OpenTcp() {
  if (hmac_)
    throw ConfigError("--sync.hmac-key-file: only with udp or multicast");
  SyncEndpoint local = UnicastLinks("tcp");
  link_fds_.assign(dests_.size(), -1);
  recv_fd_ = Socket(local.addr.ss_family, SOCK_STREAM);
  SetInt(recv_fd_, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  BindToDevice(recv_fd_, opts_.interface);
  if (bind(recv_fd_, reinterpret_cast<sockaddr*>(&local.addr), local.len) < 0) {
    ThrowErrno("bind " + opts_.listen_address);
  }
  if (listen(recv_fd_, 16) < 0) ThrowErrno("listen " + opts_.listen_address);
  fcntl(recv_fd_, F_SETFL, fcntl(recv_fd_, F_GETFL) | O_NONBLOCK);
}

void SyncChannel::AddPollFds(std::vector<pollfd>* fds) const {
  if (recv_fd_ >= 0) fds->push_back({recv_fd_, POLLIN, 0});
  for (const auto& c : conns_) fds->push_back({c.fd, POLLIN, 0});
}

void SyncChannel::HandleReady(const std::vector<pollfd>& fds,
                              SyncChannelSink* sink) {
  for (const auto& p : fds) {
    if (p.revents == 0) continue;
    if (p.fd == recv_fd_) {
      if (opts_.transport == SyncTransport::kTcp) {
        Accept();
      } else {
        ReadDatagrams(recv_fd_, sink);
      }
      continue;
    }
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].fd == p.fd) {
        ReadStream(i, sink);
        break;
      }
    }
  }
}

void SyncChannel::ReadDatagrams(int fd, SyncChannelSink* sink) {
  // A bounded batch per wake-up, so the loop also serves its other fds.
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage from{};
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(fd, rbuf_.data(), rbuf_.size(), MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) return;
    const std::string ip = IpText(from);
    size_t len = static_cast<size_t>(n);
    if (hmac_ && !hmac_->Verify(rbuf_.data(), &len)) {
      sink->OnDropped(ip, SyncError::kBadHmac);
      continue;
    }
    sink->OnData(ip, rbuf_.data(), len, false);
  }
}

void SyncChannel::Accept() {
  for (;;) {
    sockaddr_storage from{};
    socklen_t flen = sizeof(from);
    int fd = accept4(recv_fd_, reinterpret_cast<sockaddr*>(&from), &flen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (conns_.size() >= 64) {  // bounded: a peer pair needs one or two
      close(fd);
      continue;
    }
    conns_.push_back(Conn{fd, IpText(from), {}});
  }
}

void SyncChannel::ReadStream(size_t i, SyncChannelSink* sink) {
  Conn& c = conns_[i];
  ssize_t n = recv(c.fd, rbuf_.data(), rbuf_.size(), MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close(c.fd);
    conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
  if (n < 0) return;
  c.pending.insert(c.pending.end(), rbuf_.data(), rbuf_.data() + n);
  size_t used = sink->OnData(c.ip, c.pending.data(), c.pending.size(), true);
  c.pending.erase(c.pending.begin(),
                  c.pending.begin() + static_cast<std::ptrdiff_t>(used));
  if (c.pending.size() > 2 * kSyncMaxMessage) {
    // A message that never completes: the stream is not conntrackd's.
    sink->OnDropped(c.ip, SyncError::kBadSize);
    close(c.fd);
    conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void SyncChannel::Connect(size_t link) {
  const SyncEndpoint& d = dests_[link];
  int fd = socket(d.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (!opts_.interface.empty()) {
    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, opts_.interface.c_str(),
               static_cast<socklen_t>(opts_.interface.size()));
  }
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&d.addr), d.len) < 0) {
    close(fd);
    return;
  }
  link_fds_[link] = fd;
}

void SyncChannel::Tick(int64_t now_ms) {
  if (opts_.transport != SyncTransport::kTcp) return;
  if (now_ms - last_connect_ms_ < 1000) return;
  last_connect_ms_ = now_ms;
  for (size_t i = 0; i < link_fds_.size(); ++i) {
    if (link_fds_[i] < 0) Connect(i);
  }
}

bool SyncChannel::Send(size_t link, const uint8_t* data, size_t len) {
  if (link >= dests_.size()) return false;
  const uint8_t* out = data;
  size_t out_len = len;
  if (hmac_) {
    sbuf_.assign(data, data + len);
    hmac_->Sign(&sbuf_);
    out = sbuf_.data();
    out_len = sbuf_.size();
  }
  if (opts_.transport == SyncTransport::kTcp) {
    int fd = link_fds_[link];
    if (fd < 0) return false;
    size_t off = 0;
    while (off < out_len) {
      ssize_t n = send(fd, out + off, out_len - off, MSG_NOSIGNAL);
      if (n <= 0) {
        close(fd);
        link_fds_[link] = -1;
        return false;
      }
      off += static_cast<size_t>(n);
    }
    return true;
  }
  const SyncEndpoint& d = dests_[link];
  // Blocking: a bulk send fills the socket buffer faster than the link
  // drains it, and waiting beats dropping.
  ssize_t n = sendto(send_fd_, out, out_len, 0,
                     reinterpret_cast<const sockaddr*>(&d.addr), d.len);
  return n == static_cast<ssize_t>(out_len);
}

}  // namespace ctcollect
