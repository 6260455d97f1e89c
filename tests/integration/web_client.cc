#include "tests/integration/web_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace ctcollect::itest {

std::shared_ptr<SSL_CTX> NewTlsClientContext() {
  return std::shared_ptr<SSL_CTX>(SSL_CTX_new(TLS_client_method()),
                                  SSL_CTX_free);
}

WebConn::WebConn(int port, SSL_CTX* tls, double timeout, bool handshake) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  timeval tv{
      static_cast<time_t>(timeout),
      static_cast<suseconds_t>((timeout - static_cast<long>(timeout)) * 1e6)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return;
  connected_at_ = std::chrono::steady_clock::now();
  if (tls != nullptr && handshake) {
    ssl_ = SSL_new(tls);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 ||
        SSL_connect(ssl_) != 1) {
      ERR_clear_error();
      return;
    }
  }
  ok_ = true;
}

WebConn::~WebConn() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) close(fd_);
}

bool WebConn::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    long n = ssl_ != nullptr
                 ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                 : send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

long WebConn::Read(char* buf, size_t n) {
  if (ssl_ == nullptr) return recv(fd_, buf, n, 0);
  long r = SSL_read(ssl_, buf, static_cast<int>(n));
  if (r <= 0) ERR_clear_error();
  return r;
}

int WebConn::ReadAnswer(std::string* body) {
  std::string& in = buffered_;
  char buf[16384];
  size_t head_end;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    long n = Read(buf, sizeof(buf));
    if (n <= 0) return 0;
    in.append(buf, static_cast<size_t>(n));
  }
  const std::string head = in.substr(0, head_end + 4);
  in.erase(0, head_end + 4);
  if (head.size() < 12 || head.compare(0, 7, "HTTP/1.") != 0) return 0;
  const int status = std::atoi(head.c_str() + 9);
  size_t cl = head.find("\r\nContent-Length: ");
  if (cl == std::string::npos) {
    long n;
    while ((n = Read(buf, sizeof(buf))) > 0)
      in.append(buf, static_cast<size_t>(n));
    body->swap(in);
    in.clear();
    return status;
  }
  const size_t want = std::strtoul(head.c_str() + cl + 18, nullptr, 10);
  while (in.size() < want) {
    long n = Read(buf, sizeof(buf));
    if (n <= 0) return 0;
    in.append(buf, static_cast<size_t>(n));
  }
  *body = in.substr(0, want);
  in.erase(0, want);
  return status;
}

bool WebConn::ClosedByServer() {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP)) return true;
  char buf[4096];
  if (ssl_ == nullptr) {
    return recv(fd_, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  // Session tickets and the like: read them without blocking.
  const int flags = fcntl(fd_, F_GETFL);
  fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  bool closed = false;
  while (true) {
    const int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) continue;
    const int e = SSL_get_error(ssl_, n);
    ERR_clear_error();
    closed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
    break;
  }
  fcntl(fd_, F_SETFL, flags);
  return closed;
}

ScrapeResult Scrape(int port, SSL_CTX* tls, const std::string& path,
                    double timeout) {
  ScrapeResult r;
  const auto start = std::chrono::steady_clock::now();
  WebConn c(port, tls, timeout);
  if (c.ok() && c.Send("GET " + path +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                       "close\r\n\r\n")) {
    r.status = c.ReadAnswer(&r.body);
  }
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return r;
}

bool WaitForOk(int port, SSL_CTX* tls, const std::string& path,
               double seconds) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (Scrape(port, tls, path, 2).status != 200) {
    if (std::chrono::steady_clock::now() > until) return false;
    usleep(200000);
  }
  return true;
}

}  // namespace ctcollect::itest
