#include "exporters/web/tls_front.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "collector/base/config_error.h"
#include "collector/base/log.h"

namespace ctcollect {
namespace {

// The peer's address as inet_ntop writes it ("" if unknown).
std::string PeerAddress(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return "";
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&a)->sin_addr, text,
              sizeof(text));
  } else if (a.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&a)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

std::string SslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return e ? buf : "unknown error";
}

// "IP:PORT" or "PORT" (civetweb's syntax, IPv4 only here).
sockaddr_in ParseListen(const std::string& l) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  size_t colon = l.rfind(':');
  std::string host = colon == std::string::npos ? "" : l.substr(0, colon);
  std::string port = colon == std::string::npos ? l : l.substr(colon + 1);
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (!host.empty() && inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    throw std::runtime_error("bad listen address " + l);
  }
  return a;
}

void SetTimeout(int fd, int seconds) {
  timeval tv{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

TlsFront::TlsFront(const WebConfig::Tls& tls,
                   const std::vector<std::string>& listen, int backend_port)
    : backend_port_(backend_port) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (ctx_ == nullptr) throw std::runtime_error("SSL_CTX_new: " + SslError());
  int min = tls.min_version == "TLS10"   ? TLS1_VERSION
            : tls.min_version == "TLS11" ? TLS1_1_VERSION
            : tls.min_version == "TLS13" ? TLS1_3_VERSION
                                         : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx_, min);
  if (SSL_CTX_use_certificate_chain_file(ctx_, tls.cert_file.c_str()) != 1) {
    SSL_CTX_free(ctx_);
    throw ConfigError("web config: cert_file " + tls.cert_file + ": " +
                      SslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx_, tls.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    SSL_CTX_free(ctx_);
    throw ConfigError("web config: key_file " + tls.key_file + ": " +
                      SslError());
  }
  if (tls.client_auth_type != "NoClientCert") {
    if (SSL_CTX_load_verify_locations(ctx_, tls.client_ca_file.c_str(),
                                      nullptr) != 1) {
      SSL_CTX_free(ctx_);
      throw ConfigError("web config: client_ca_file " + tls.client_ca_file +
                        ": " + SslError());
    }
    int mode = SSL_VERIFY_PEER;
    if (tls.client_auth_type == "RequireAndVerifyClientCert") {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx_, mode, nullptr);
  }
  for (const auto& l : listen) {
    sockaddr_in a = ParseListen(l);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(fd, 128) != 0) {
      std::string why = strerror(errno);
      if (fd >= 0) close(fd);
      for (int f : listen_fds_) close(f);
      SSL_CTX_free(ctx_);
      throw std::runtime_error("cannot listen on " + l + ": " + why);
    }
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    listen_fds_.push_back(fd);
    ports_.push_back(ntohs(a.sin_port));
  }
  for (int fd : listen_fds_) {
    acceptors_.emplace_back([this, fd] { AcceptLoop(fd); });
  }
}

TlsFront::~TlsFront() {
  stopping_ = true;
  for (int fd : listen_fds_) shutdown(fd, SHUT_RDWR);
  for (auto& t : acceptors_) t.join();
  for (int fd : listen_fds_) close(fd);
  {
    MutexLock lock(&mu_);
    for (int fd : client_fds_) shutdown(fd, SHUT_RDWR);
    while (workers_ != 0) idle_.Wait(&lock);
  }
  SSL_CTX_free(ctx_);
}

bool TlsFront::IsRelay(int port) const {
  MutexLock lock(&mu_);
  return relay_ports_.count(port) > 0;
}

std::string TlsFront::ClientOf(int port) const {
  MutexLock lock(&mu_);
  auto it = relay_ports_.find(port);
  return it == relay_ports_.end() ? std::string() : it->second;
}

void TlsFront::AcceptLoop(int listen_fd) {
  RateLimitedLog busy(LogLevel::kWarn, std::chrono::seconds(60));
  while (!stopping_) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    MutexLock lock(&mu_);
    if (workers_ >= kMaxConnections) {
      busy.Log("HTTPS: more than " + std::to_string(kMaxConnections) +
               " connections at once; closing new ones");
      close(fd);
      continue;
    }
    ++workers_;
    client_fds_.insert(fd);
    std::thread([this, fd] { Serve(fd); }).detach();
  }
}

void TlsFront::Serve(int client_fd) {
  SetTimeout(client_fd, 10);  // a handshake that does not come is dropped
  SSL* ssl = SSL_new(ctx_);
  int backend = -1, relay_port = -1;
  if (ssl != nullptr && SSL_set_fd(ssl, client_fd) == 1 &&
      SSL_accept(ssl) == 1) {
    backend = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(backend_port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(local);
    // Bind first so the port is known (and registered) before civetweb
    // can see the connection.
    if (backend >= 0 &&
        bind(backend, reinterpret_cast<sockaddr*>(&local), sizeof(local)) ==
            0 &&
        getsockname(backend, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
      relay_port = ntohs(local.sin_port);
      {
        MutexLock lock(&mu_);
        relay_ports_.emplace(relay_port, PeerAddress(client_fd));
      }
      if (connect(backend, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        close(backend);
        backend = -1;
      }
    }
  }
  if (backend >= 0) {
    SetTimeout(client_fd, 60);
    char buf[16384];
    bool open = true;
    while (open && !stopping_) {
      pollfd fds[2] = {{client_fd, POLLIN, 0}, {backend, POLLIN, 0}};
      // Bytes OpenSSL already decrypted do not show on the socket.
      int ready = SSL_pending(ssl) > 0 ? 1 : poll(fds, 2, 60000);
      if (ready <= 0) break;  // idle for a minute, or an error
      if (SSL_pending(ssl) > 0 || (fds[0].revents & (POLLIN | POLLHUP))) {
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0) break;
        if (send(backend, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          break;
        }
      }
      if (fds[1].revents & (POLLIN | POLLHUP)) {
        ssize_t n = recv(backend, buf, sizeof(buf), 0);
        if (n <= 0) {
          open = false;
        } else if (SSL_write(ssl, buf, static_cast<int>(n)) != n) {
          break;
        }
      }
    }
    SSL_shutdown(ssl);
    close(backend);
  }
  if (ssl != nullptr) SSL_free(ssl);
  MutexLock lock(&mu_);
  if (relay_port >= 0) relay_ports_.erase(relay_port);
  client_fds_.erase(client_fd);
  close(client_fd);
  --workers_;
  idle_.NotifyAll();
}

}  // namespace ctcollect
