// TLS for the HTTP server, terminated here with OpenSSL: Debian 12's
// civetweb binds OpenSSL 1.1 at run time and its TLS connections fail
// after the handshake under OpenSSL 3, so civetweb serves plain HTTP on an
// internal loopback port and this front accepts the TLS connections on the
// public addresses, completes the handshake (and the client certificate
// check), and relays the bytes both ways.
//
// Only the front's own connections may use the internal port: it records
// the local port of each connection it makes to civetweb, and the server
// refuses requests from any other (IsRelay()).
//
// Thread safety: IsRelay() from any thread; construction and destruction
// from one.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collector/base/mutex.h"
#include "exporters/web/web_config.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace ctcollect {

class TlsFront {
 public:
  // `listen`: civetweb-style addresses ("IP:PORT" or "PORT"); `backend`:
  // the internal port civetweb listens on at 127.0.0.1. Throws ConfigError
  // for a bad certificate or key and std::runtime_error when it cannot
  // listen.
  TlsFront(const WebConfig::Tls& tls, const std::vector<std::string>& listen,
           int backend_port);
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  std::vector<int> ports() const { return ports_; }
  // Whether a connection to the backend from 127.0.0.1:`port` is ours.
  bool IsRelay(int port) const;
  // The address of the client a relay (by its local port) carries; "" if
  // `port` is no relay of this front.
  std::string ClientOf(int port) const;

  static constexpr int kMaxConnections = 128;

 private:
  void AcceptLoop(int listen_fd);
  void Serve(int client_fd);

  SSL_CTX* ctx_ = nullptr;
  int backend_port_;
  std::vector<int> listen_fds_;
  std::vector<int> ports_;
  std::vector<std::thread> acceptors_;
  std::atomic<bool> stopping_{false};
  mutable Mutex mu_;
  CondVar idle_;
  std::map<int, std::string> relay_ports_ GUARDED_BY(mu_);  // -> client
  std::set<int> client_fds_ GUARDED_BY(mu_);  // open client connections
  int workers_ GUARDED_BY(mu_) = 0;
};

}  // namespace ctcollect
