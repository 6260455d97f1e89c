// The daemon's control socket: a UNIX stream socket that speaks both
// conntrackd's client protocol and ctcollect's own (see control_protocol.h).
// It owns the socket file (stale files of a crashed daemon are replaced; a
// live daemon's is refused), accepts clients on one thread and serves each
// on its own thread, at most `max_clients` at a time. A client beyond that
// waits in a queue (at most `max_queued` of them) for up to
// `queue_timeout_ms`, served as soon as a thread is free; one that waits
// longer, or finds the queue full, gets a whole busy reply in its own
// protocol (its request is read first, so it sees an answer, not a reset;
// one that finds the queue full is given kBusyGraceMs to send it).
// Every request is bounded in size and in time; malformed requests get an
// error reply and are counted, never crash the daemon.
//
// Thread safety: Start/Stop from the main thread; the handler is called on
// client threads, concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <thread>

#include "collector/base/mutex.h"
#include "collector/control/control_protocol.h"

namespace ctcollect {

// Where a handler writes its reply. Write() returns false once the client
// is gone (or stalled past the send timeout): stop producing then.
class ReplyWriter {
 public:
  explicit ReplyWriter(int fd) : fd_(fd) {}
  bool Write(std::string_view bytes);
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = true;
};

class ControlHandler {
 public:
  virtual ~ControlHandler() = default;
  // Serves one well-formed request. For native requests the handler writes
  // the status line itself (NativeStatusLine) followed by the body.
  virtual void Handle(const ControlRequest& req, ReplyWriter* out) = 0;
};

struct ControlServerOptions {
  std::string path = kDefaultControlSocket;
  std::string group;  // owning group of the socket file; "" keeps ours
  int max_clients = 16;
  int max_queued = 256;         // clients waiting for a thread
  int queue_timeout_ms = 5000;  // how long one may wait
  // A client that finds the queue full is answered busy once its request
  // is in, or after this long; beyond another max_queued such clients, at
  // once.
  int busy_grace_ms = 250;
  int read_timeout_ms = 2000;
  int send_timeout_ms = 10000;
};

struct ControlCounters {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> malformed{0};
  std::atomic<int64_t> read_failed{0};
  std::atomic<int64_t> unknown_request{0};
  std::atomic<int64_t> queued{0};         // waited for a thread
  std::atomic<int64_t> rejected_busy{0};  // answered busy
};

class ControlServer {
 public:
  // Creates and binds the socket. Throws ConfigError when another daemon
  // is live on the path or the group does not exist, std::system_error for
  // other failures (start-up only).
  ControlServer(const ControlServerOptions& opts, ControlHandler* handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void Start();
  void Stop();
  const ControlCounters& counters() const { return counters_; }
  ControlCounters& counters() { return counters_; }

 private:
  struct Waiting {
    int fd;
    std::chrono::steady_clock::time_point deadline;
  };
  void AcceptLoop();
  // Serves `fd`, then whoever waits in the queue, until it is empty.
  void RunClients(int fd);
  void Serve(int fd);
  // Answers the queue's clients whose wait is over; returns the poll
  // timeout until the next one's (-1: none waits).
  int AnswerExpired();
  // Reads what the client sent, writes a busy reply in its protocol and
  // closes `fd`. Never blocks.
  void AnswerBusy(int fd, const std::string& why);
  // Why a client that finds the queue full is answered busy.
  std::string QueueFull() const;

  ControlServerOptions opts_;
  ControlHandler* handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread accept_thread_;
  ControlCounters counters_;
  Mutex mu_;
  CondVar idle_;
  int active_ GUARDED_BY(mu_) = 0;
  std::deque<Waiting> waiting_ GUARDED_BY(mu_);
  std::deque<Waiting> refused_ GUARDED_BY(mu_);  // to answer busy
  bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace ctcollect
