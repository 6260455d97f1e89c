// A minimal HTTP/1.1 client over plain TCP or TLS (OpenSSL), with
// deadlines, for the tests and benchmarks of the web front: scrapes timed
// from connect to the last byte, and connections held open on purpose.
//
// Thread safety: a WebConn belongs to one thread; a client context may be
// shared.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace ctcollect::itest {

// A TLS client context that does not verify the server (the tests check
// the server's behaviour, not its certificate).
std::shared_ptr<SSL_CTX> NewTlsClientContext();

class WebConn {
 public:
  // Connects to 127.0.0.1:`port`; with `tls`, completes the handshake
  // unless `handshake` is false. Each read and write waits at most
  // `timeout` seconds.
  WebConn(int port, SSL_CTX* tls, double timeout, bool handshake = true);
  ~WebConn();
  WebConn(const WebConn&) = delete;
  WebConn& operator=(const WebConn&) = delete;

  bool ok() const { return ok_; }
  int fd() const { return fd_; }
  // When connect() returned (before any TLS handshake): where a server's
  // deadline for the handshake and first request starts.
  std::chrono::steady_clock::time_point connected_at() const {
    return connected_at_;
  }
  bool Send(std::string_view bytes);
  // One answer: its status (0 if none came whole) and body (by
  // Content-Length, else to the close).
  int ReadAnswer(std::string* body);
  // Whether the server closed the connection (non-blocking check; TLS
  // records that are no end, like session tickets, are read and dropped).
  bool ClosedByServer();

 private:
  long Read(char* buf, size_t n);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
  std::chrono::steady_clock::time_point connected_at_;
  std::string buffered_;
};

struct ScrapeResult {
  int status = 0;
  std::string body;
  double seconds = 0;  // connect to the answer's last byte
};

// GET `path` on a new connection ("Connection: close"), within `timeout`
// seconds for each step.
ScrapeResult Scrape(int port, SSL_CTX* tls, const std::string& path,
                    double timeout);

// Whether `path` answers 200 within `seconds` (asked again every 0.2 s).
bool WaitForOk(int port, SSL_CTX* tls, const std::string& path, double seconds);

}  // namespace ctcollect::itest
