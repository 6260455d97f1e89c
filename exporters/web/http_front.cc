#include "exporters/web/http_front.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "collector/base/config_error.h"
#include "collector/base/log.h"
#include "exporters/web/client_stream.h"
#include "exporters/web/front_session.h"

namespace ctcollect {
namespace {

// epoll tags: a connection's client side is id << 1, its civetweb side
// id << 1 | 1; listeners and the wake-up descriptor have the top bits.
constexpr uint64_t kListenTag = uint64_t{1} << 63;
constexpr uint64_t kWakeTag = uint64_t{1} << 62;
constexpr size_t kChunk = 16384;

std::string AddressText(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr,
              text, sizeof(text));
  } else if (a.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr,
              text, sizeof(text));
  }
  return text;
}

// A listen address into a socket address (IPv4 any when no host is given).
sockaddr_storage ParseListen(const std::string& l, socklen_t* len) {
  sockaddr_storage s{};
  const size_t colon = l.rfind(':');
  std::string host = colon == std::string::npos ? "" : l.substr(0, colon);
  const std::string port = colon == std::string::npos ? l : l.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    throw std::runtime_error("bad listen address " + l + ": no port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&s);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(p));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(),
                  &a6->sin6_addr) != 1) {
      throw std::runtime_error("bad listen address " + l);
    }
    *len = sizeof(sockaddr_in6);
    return s;
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&s);
  a4->sin_family = AF_INET;
  a4->sin_port = htons(static_cast<uint16_t>(p));
  a4->sin_addr.s_addr = htonl(INADDR_ANY);
  if (!host.empty() && inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
    throw std::runtime_error("bad listen address " + l);
  }
  *len = sizeof(sockaddr_in);
  return s;
}

int DefaultMaxConnections() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) {
    return 65536;
  }
  return static_cast<int>(std::clamp<rlim_t>(r.rlim_cur / 4 * 3, 64, 65536));
}

}  // namespace

struct HttpFront::Conn {
  Conn(uint64_t id_, int fd, SSL_CTX* tls, std::string client_)
      : id(id_), stream(fd, tls), client(std::move(client_)) {}
  uint64_t id;
  ClientStream stream;
  FrontSession session;
  std::string client;  // its address, for ClientOf()
  int backend = -1;
  int relay_port = -1;
  bool connecting = false;  // civetweb's connect() under way
  uint32_t client_events = 0, backend_events = 0;  // registered with epoll
  FrontSession::Wait wait = FrontSession::Wait::kHead;
  Clock::time_point deadline;
  bool expired = false;  // its deadline passed once: next time it closes
};

HttpFront::HttpFront(const std::vector<std::string>& listen, TlsContext tls,
                     int max_connections)
    : tls_(std::move(tls)),
      max_connections_(max_connections > 0 ? max_connections
                                           : DefaultMaxConnections()) {
  auto fail = [this](const std::string& why) {
    for (int f : listen_fds_) close(f);
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    throw std::runtime_error(why);
  };
  for (const auto& l : listen) {
    socklen_t len = 0;
    sockaddr_storage a{};
    try {
      a = ParseListen(l, &len);
    } catch (const std::runtime_error& e) {
      fail(e.what());
    }
    int fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) {
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (a.ss_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      }
    }
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd, 1024) != 0) {
      std::string why = strerror(errno);
      if (fd >= 0) close(fd);
      fail("cannot listen on " + l + ": " + why);
    }
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    listen_fds_.push_back(fd);
    ports_.push_back(ntohs(a.ss_family == AF_INET6
                               ? reinterpret_cast<sockaddr_in6*>(&a)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&a)->sin_port));
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0)
    fail(std::string("epoll: ") + strerror(errno));
  uint32_t unused = 0;
  Watch(wake_fd_, kWakeTag, EPOLLIN, &unused);
  for (size_t i = 0; i < listen_fds_.size(); ++i) {
    unused = 0;
    Watch(listen_fds_[i], kListenTag | i, EPOLLIN, &unused);
  }
}

void HttpFront::Start(int backend_port) {
  backend_port_ = backend_port;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ctc-web-front");
    Run();
  });
}

HttpFront::~HttpFront() {
  stopping_ = true;
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // The loop also wakes at its next deadline check.
  }
  if (thread_.joinable()) thread_.join();
  while (!conns_.empty()) Close(*conns_.begin()->second);
  for (int fd : listen_fds_) close(fd);
  close(wake_fd_);
  close(epoll_fd_);
}

void HttpFront::CheckListenAddress(const std::string& listen) {
  try {
    socklen_t len = 0;
    ParseListen(listen, &len);
  } catch (const std::runtime_error& e) {
    throw ConfigError(std::string("--web.listen-address: ") + e.what());
  }
}

bool HttpFront::IsRelay(int port) const {
  MutexLock lock(&mu_);
  return relay_ports_.count(port) > 0;
}

std::string HttpFront::ClientOf(int port) const {
  MutexLock lock(&mu_);
  auto it = relay_ports_.find(port);
  return it == relay_ports_.end() ? std::string() : it->second;
}

FrontStats HttpFront::stats() const {
  return {open_.load(), max_connections_, accepted_.load(), timed_out_.load(),
          evicted_.load()};
}

void HttpFront::Watch(int fd, uint64_t tag, uint32_t events,
                      uint32_t* registered) {
  if (events == *registered) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  // A descriptor stays registered once added, with no interest when the
  // loop waits on something else (EPOLLERR and EPOLLHUP still show).
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  *registered = events;
}

void HttpFront::Run() {
  epoll_event events[256];
  while (!stopping_) {
    const int n =
        epoll_wait(epoll_fd_, events, 256, MillisToNextDeadline(Clock::now()));
    for (int i = 0; i < n && !stopping_; ++i) {
      OnEvent(events[i].data.u64, events[i].events);
    }
    std::vector<uint64_t> again;
    again.swap(again_);
    for (uint64_t id : again) {
      auto it = conns_.find(id);
      if (it != conns_.end()) Pump(*it->second);
    }
    const Clock::time_point now = Clock::now();
    Expire(now);
    if (listen_paused_until_ != Clock::time_point{} &&
        now >= listen_paused_until_) {
      listen_paused_until_ = {};
      for (size_t i = 0; i < listen_fds_.size(); ++i) {
        uint32_t paused = 0;
        Watch(listen_fds_[i], kListenTag | i, EPOLLIN, &paused);
      }
    }
  }
}

int HttpFront::MillisToNextDeadline(Clock::time_point now) const {
  if (!again_.empty()) return 0;
  Clock::time_point next = now + std::chrono::seconds(1);
  if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
  if (listen_paused_until_ != Clock::time_point{}) {
    next = std::min(next, listen_paused_until_);
  }
  if (next <= now) return 0;
  return static_cast<int>(
             std::chrono::duration_cast<std::chrono::milliseconds>(next - now)
                 .count()) +
         1;
}

void HttpFront::OnEvent(uint64_t tag, uint32_t events) {
  if (tag == kWakeTag) return;
  if (tag & kListenTag) {
    Accept(static_cast<size_t>(tag & ~kListenTag));
    return;
  }
  auto it = conns_.find(tag >> 1);
  if (it == conns_.end()) return;  // closed earlier in this batch
  Conn& c = *it->second;
  if (tag & 1) {
    if (c.backend < 0) return;
    if (c.connecting) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(c.backend, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        CloseBackend(c);
        c.session.OnBackendEnd();  // no answer: 503
      } else {
        c.connecting = false;
      }
    } else if (events & (EPOLLERR | EPOLLHUP)) {
      // civetweb is gone: take what it left, whatever the buffer bound.
      char buf[kChunk];
      ssize_t r;
      while ((r = recv(c.backend, buf, sizeof(buf), 0)) > 0) {
        c.session.OnBackendBytes({buf, static_cast<size_t>(r)});
      }
      CloseBackend(c);
      c.session.OnBackendEnd();
    }
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    Close(c);  // the client is gone both ways: nothing more to deliver
    return;
  }
  Pump(c);
}

void HttpFront::Accept(size_t listener) {
  for (int k = 0; k < 64; ++k) {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    int fd = accept4(listen_fds_[listener], reinterpret_cast<sockaddr*>(&a),
                     &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && EvictOne()) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // Out of descriptors with nothing to evict: stop accepting for a
        // moment instead of spinning on a listener that stays readable.
        static RateLimitedLog log(LogLevel::kWarn, std::chrono::seconds(60));
        log.Log(std::string("HTTP: accept: ") + strerror(errno));
        listen_paused_until_ = Clock::now() + std::chrono::milliseconds(100);
        for (size_t i = 0; i < listen_fds_.size(); ++i) {
          uint32_t active = EPOLLIN;
          Watch(listen_fds_[i], kListenTag | i, 0, &active);
        }
      }
      return;
    }
    if (static_cast<int>(conns_.size()) >= max_connections_ && !EvictOne()) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const uint64_t id = next_id_++;
    auto conn = std::make_unique<Conn>(id, fd, tls_.get(), AddressText(a));
    Conn& c = *conn;
    conns_.emplace(id, std::move(conn));
    ++accepted_;
    ++open_;
    c.deadline = Clock::now() + kHeadTimeout;
    deadlines_.emplace(c.deadline, id);
    Pump(c);
  }
}

void HttpFront::Pump(Conn& c) {
  char buf[kChunk];
  bool progress = true;
  for (int round = 0; progress && round < 8; ++round) {
    progress = false;
    if (!c.stream.ready()) {
      ClientStream::Io io = c.stream.Handshake();
      if (io == ClientStream::Io::kAgain) break;
      if (io != ClientStream::Io::kOk) {
        Close(c);
        return;
      }
    }
    while (c.session.ReadsClient()) {
      size_t got = 0;
      ClientStream::Io io = c.stream.Read(buf, sizeof(buf), &got);
      if (io == ClientStream::Io::kOk) {
        c.session.OnClientBytes({buf, got});
        progress = true;
        continue;
      }
      if (io == ClientStream::Io::kAgain) break;
      if (io == ClientStream::Io::kEnd) {
        c.session.OnClientEnd();
        progress = true;
        break;
      }
      Close(c);
      return;
    }
    if (c.session.Finished() && c.backend >= 0) CloseBackend(c);
    if (c.session.NeedsBackend()) {
      OpenBackend(c);
      progress = true;
    }
    if (c.backend >= 0 && !c.connecting) {
      std::string& out = c.session.to_backend();
      while (!out.empty()) {
        const ssize_t r = send(c.backend, out.data(), out.size(), MSG_NOSIGNAL);
        if (r > 0) {
          out.erase(0, static_cast<size_t>(r));
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        CloseBackend(c);
        c.session.OnBackendEnd();
        break;
      }
      while (c.backend >= 0 && c.session.ReadsBackend()) {
        const ssize_t r = recv(c.backend, buf, sizeof(buf), 0);
        if (r > 0) {
          c.session.OnBackendBytes({buf, static_cast<size_t>(r)});
          progress = true;
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        CloseBackend(c);  // the answer is complete (or broken off)
        c.session.OnBackendEnd();
        progress = true;
      }
    }
    std::string& out = c.session.to_client();
    while (!out.empty()) {
      size_t put = 0;
      ClientStream::Io io =
          c.stream.Write(out.data(), std::min(out.size(), size_t{65536}), &put);
      if (io == ClientStream::Io::kOk && put > 0) {
        out.erase(0, put);
        progress = true;
        continue;
      }
      if (io == ClientStream::Io::kAgain) break;
      Close(c);
      return;
    }
    if (c.session.Finished() && out.empty()) {
      c.stream.Goodbye();
      Close(c);
      return;
    }
  }
  // Still moving after its share of this turn: the rest in the next, after
  // the other connections' events.
  if (progress) again_.push_back(c.id);
  UpdateInterest(c);
  UpdateDeadline(c);
}

void HttpFront::OpenBackend(Conn& c) {
  c.session.BackendOpened();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    c.session.OnBackendEnd();  // no answer: 503
    return;
  }
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(local);
  // Bind first, so the port is registered before civetweb can see the
  // connection.
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    close(fd);
    c.session.OnBackendEnd();
    return;
  }
  c.relay_port = ntohs(local.sin_port);
  {
    MutexLock lock(&mu_);
    relay_ports_[c.relay_port] = c.client;
  }
  c.backend = fd;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(backend_port_));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    if (errno != EINPROGRESS) {
      CloseBackend(c);
      c.session.OnBackendEnd();
      return;
    }
    c.connecting = true;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.backend_events = 0;
}

void HttpFront::CloseBackend(Conn& c) {
  if (c.backend < 0) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.backend, nullptr);
  close(c.backend);
  c.backend = -1;
  c.backend_events = 0;
  c.connecting = false;
  MutexLock lock(&mu_);
  relay_ports_.erase(c.relay_port);
  c.relay_port = -1;
}

void HttpFront::Close(Conn& c) {
  CloseBackend(c);
  deadlines_.erase({c.deadline, c.id});
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.stream.fd(), nullptr);
  --open_;
  conns_.erase(c.id);  // closes the client's descriptor
}

bool HttpFront::EvictOne() {
  for (const auto& [when, id] : deadlines_) {
    Conn& c = *conns_.at(id);
    if (c.wait != FrontSession::Wait::kNone) {
      ++evicted_;
      Close(c);
      return true;
    }
  }
  return false;
}

void HttpFront::Expire(Clock::time_point now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    Conn& c = *conns_.at(deadlines_.begin()->second);
    if (!c.expired) ++timed_out_;
    if (c.expired || c.wait == FrontSession::Wait::kNone || !c.stream.ready()) {
      Close(c);
      continue;
    }
    // A 408 for a head that did not come whole, then close; a second
    // chance of a second to write it.
    c.expired = true;
    c.session.OnTimeout();
    deadlines_.erase({c.deadline, c.id});
    c.deadline = now + std::chrono::seconds(1);
    deadlines_.emplace(c.deadline, c.id);
    Pump(c);
  }
}

void HttpFront::UpdateInterest(Conn& c) {
  uint32_t ev = 0;
  if (!c.stream.ready()) {
    ev = c.stream.read_wants_write() ? EPOLLOUT : EPOLLIN;
  } else {
    if (c.session.ReadsClient()) {
      ev |= c.stream.read_wants_write() ? EPOLLOUT : EPOLLIN;
    }
    if (!c.session.to_client().empty()) {
      ev |= c.stream.write_wants_read() ? EPOLLIN : EPOLLOUT;
    }
  }
  Watch(c.stream.fd(), c.id << 1, ev, &c.client_events);
  if (c.backend >= 0) {
    uint32_t bev = 0;
    if (c.connecting || !c.session.to_backend().empty()) bev |= EPOLLOUT;
    if (!c.connecting && c.session.ReadsBackend()) bev |= EPOLLIN;
    Watch(c.backend, c.id << 1 | 1, bev, &c.backend_events);
  }
}

void HttpFront::UpdateDeadline(Conn& c) {
  if (c.expired) return;
  const FrontSession::Wait w =
      c.stream.ready() ? c.session.waiting() : FrontSession::Wait::kHead;
  const Clock::time_point now = Clock::now();
  Clock::time_point when = c.deadline;
  if (w == FrontSession::Wait::kNone) {
    when = now + kStallTimeout;  // renewed at every step of the answer
  } else if (w != c.wait) {
    when = now + (w == FrontSession::Wait::kIdle ? kIdleTimeout : kHeadTimeout);
  }
  c.wait = w;
  if (when == c.deadline) return;
  deadlines_.erase({c.deadline, c.id});
  c.deadline = when;
  deadlines_.emplace(c.deadline, c.id);
}

}  // namespace ctcollect
