// Connections held open against a web server on purpose, the way a slow or
// hostile client holds them: a third send half a request head, a third
// make one request and then idle on the kept-alive connection, a third
// connect and send nothing (on a TLS port: a handshake that never comes).
// Each is closed and opened again `margin` seconds before the server's
// deadline for it would pass (HttpFront::kHeadTimeout from connect, or
// kIdleTimeout from its answer), so the server always holds `count` of
// them.
//
// Thread safety: the holder runs its own thread; every method may be
// called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <thread>

typedef struct ssl_ctx_st SSL_CTX;

namespace ctcollect::itest {

class ConnectionHolder {
 public:
  struct Options {
    int port = 0;
    SSL_CTX* tls = nullptr;  // the port speaks TLS
    int count = 1000;
    double head_timeout = 5;  // the server's bounds
    double idle_timeout = 10;
    double margin = 1.0;  // renewed this long before the bound
  };
  explicit ConnectionHolder(const Options& o);
  ~ConnectionHolder();

  // Waits until all `count` are open (at most `seconds`).
  bool WaitAllOpen(double seconds) const;
  int open() const { return open_; }
  // Connections renewed so far.
  long renewed() const { return renewed_; }
  // Connections the server closed before their renewal, renewed in time:
  // it did not hold them for as long as its deadline says.
  long closed_early() const { return closed_early_; }
  // Renewals this thread came to only after the server's deadline had
  // passed (a busy machine): not counted as closed early.
  long late() const { return late_; }
  // Connections that could not be opened (or their request not made).
  long failed() const { return failed_; }

 private:
  void Run();

  Options o_;
  std::atomic<bool> stop_{false};
  std::atomic<int> open_{0};
  std::atomic<long> renewed_{0}, closed_early_{0}, late_{0}, failed_{0};
  std::thread thread_;
};

}  // namespace ctcollect::itest
