// The web server's front door: one epoll thread that owns every public
// listen address, accepts, terminates TLS without blocking, reads each
// request head within its deadline and size bound, and only then hands the
// complete request to civetweb on its internal loopback port (see
// front_session.h for the exchange). civetweb's workers therefore answer
// requests and nothing else: a thousand slow, idle or silent clients cost
// a socket and a few KiB each, not a worker or a thread, and never delay a
// scrape.
//
// Deadlines: from accept, the TLS handshake and the first request head
// within kHeadTimeout; on a kept-alive connection, the next request's
// first byte within kIdleTimeout and its head within kHeadTimeout of that;
// an answer that makes no progress for kStallTimeout is dropped. At
// max_connections, the connection that has waited longest for a request is
// closed to make room for the new one.
//
// Only the front's own connections may use civetweb's port: it records the
// local port of each connection it makes, with the address of the client it
// carries, and the server refuses requests from any other (IsRelay()).
//
// Thread safety: IsRelay(), ClientOf() and stats() from any thread;
// construction, Start() and destruction from one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collector/base/mutex.h"
#include "exporters/web/tls_context.h"

namespace ctcollect {

struct FrontStats {
  int64_t open = 0;        // client connections open now
  int64_t max = 0;         // max_connections
  uint64_t accepted = 0;   // client connections accepted
  uint64_t timed_out = 0;  // closed at a deadline (kHead/kIdle/kStall)
  uint64_t evicted = 0;    // closed to make room at max_connections
};

class HttpFront {
 public:
  // Listens on `listen` ("IP:PORT", ":PORT", "PORT" or "[IPv6]:PORT")
  // before civetweb takes a port of its own, so an ephemeral port chosen
  // for civetweb can never be one of these. `tls` null for plain HTTP;
  // `max_connections` 0: three quarters of the open-files limit (at most
  // 65536). Throws std::runtime_error when it cannot listen.
  HttpFront(const std::vector<std::string>& listen, TlsContext tls,
            int max_connections = 0);
  // Starts accepting, handing requests to civetweb's port on 127.0.0.1.
  void Start(int backend_port);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // Throws ConfigError for a listen address of none of the forms above.
  static void CheckListenAddress(const std::string& listen);

  std::vector<int> ports() const { return ports_; }
  int max_connections() const { return max_connections_; }
  // Whether a connection to civetweb from 127.0.0.1:`port` is ours.
  bool IsRelay(int port) const;
  // The address of the client a relay (by its local port) carries; "" if
  // `port` is no relay of this front.
  std::string ClientOf(int port) const;
  FrontStats stats() const;

  static constexpr std::chrono::seconds kHeadTimeout{5};
  static constexpr std::chrono::seconds kIdleTimeout{10};
  static constexpr std::chrono::seconds kStallTimeout{10};

 private:
  struct Conn;
  using Clock = std::chrono::steady_clock;

  void Run();
  void Accept(size_t listener);
  void OnEvent(uint64_t tag, uint32_t events);
  void Pump(Conn& c);
  // Connects to civetweb for the session's request; if it cannot, the
  // session answers 503 itself.
  void OpenBackend(Conn& c);
  void CloseBackend(Conn& c);
  void Close(Conn& c);
  bool EvictOne();
  void Expire(Clock::time_point now);
  void Watch(int fd, uint64_t tag, uint32_t events, uint32_t* registered);
  void UpdateInterest(Conn& c);
  void UpdateDeadline(Conn& c);
  int MillisToNextDeadline(Clock::time_point now) const;

  TlsContext tls_;
  int backend_port_ = 0;
  int max_connections_;
  std::vector<int> listen_fds_;
  std::vector<int> ports_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // The loop thread's own state.
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::set<std::pair<Clock::time_point, uint64_t>> deadlines_;
  Clock::time_point listen_paused_until_{};
  std::vector<uint64_t> again_;  // to pump again without waiting

  mutable Mutex mu_;
  std::map<int, std::string> relay_ports_ GUARDED_BY(mu_);  // -> client

  std::atomic<int64_t> open_{0};
  std::atomic<uint64_t> accepted_{0}, timed_out_{0}, evicted_{0};
};

}  // namespace ctcollect
