#include "collector/control/control_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "collector/base/mutex.h"
#include "collector/control/control_client.h"

namespace ctcollect {
namespace {

// Answers "ok <verb>" (native) or "ok <code>" (conntrackd), after the gate
// opens; counts the requests it is holding.
class GatedHandler : public ControlHandler {
 public:
  void Handle(const ControlRequest& req, ReplyWriter* out) override {
    held++;
    {
      MutexLock lock(&mu_);
      while (!open_) opened_.Wait(&lock);
    }
    held--;
    if (req.kind == ControlRequest::Kind::kNative) {
      out->Write(NativeStatusLine(200, "OK"));
      out->Write("ok " + req.verb + "\n");
    } else {
      out->Write("ok " + std::to_string(req.code) + "\n");
    }
  }
  void Open() {
    MutexLock lock(&mu_);
    open_ = true;
    opened_.NotifyAll();
  }
  std::atomic<int> held{0};

 private:
  Mutex mu_;
  CondVar opened_;
  bool open_ GUARDED_BY(mu_) = false;
};

std::string SocketPath(const char* tag) {
  return "/tmp/ctcollect-ctl-test-" + std::to_string(getpid()) + "-" + tag;
}

// A conntrackd client: the 4-byte code, then everything until EOF.
// Returns the text, or "ERROR: ..." when a read fails (a reset).
std::string ConntrackdAsk(const std::string& path, int32_t code) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return std::string("ERROR: connect: ") + std::strerror(errno);
  }
  if (send(fd, &code, sizeof(code), MSG_NOSIGNAL) != sizeof(code)) {
    close(fd);
    return std::string("ERROR: send: ") + std::strerror(errno);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      out = std::string("ERROR: recv: ") + std::strerror(errno);
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

bool WaitFor(const std::function<bool()>& f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

// One thread busy, one client queued: the queued one is served once the
// thread is free, with a whole answer.
TEST(ControlServer, ClientOverTheLimitWaitsAndIsServed) {
  GatedHandler h;
  ControlServerOptions o;
  o.path = SocketPath("wait");
  o.max_clients = 1;
  o.queue_timeout_ms = 10000;
  ControlServer s(o, &h);
  s.Start();
  std::string first, second;
  std::thread a([&] { first = ConntrackdAsk(o.path, 28); });
  ASSERT_TRUE(WaitFor([&] { return h.held == 1; }));
  std::thread b([&] {
    std::string body;
    ClientResult r = ControlRequestBody(o.path, "stats", {}, &body);
    second = r.error.empty() ? body : "ERROR: " + r.error;
  });
  ASSERT_TRUE(WaitFor([&] { return s.counters().queued == 1; }));
  h.Open();
  a.join();
  b.join();
  EXPECT_EQ(first, "ok 28\n");
  EXPECT_EQ(second, "ok stats\n");
  EXPECT_EQ(s.counters().rejected_busy, 0);
  s.Stop();
}

// Waiting longer than the queue timeout, or finding the queue full: a
// whole busy reply in the client's protocol, one line, not a reset.
TEST(ControlServer, BusyReplyIsWholeInBothProtocols) {
  GatedHandler h;
  ControlServerOptions o;
  o.path = SocketPath("busy");
  o.max_clients = 1;
  o.max_queued = 2;
  o.queue_timeout_ms = 300;
  ControlServer s(o, &h);
  s.Start();
  std::thread holder([&] { ConntrackdAsk(o.path, 28); });
  ASSERT_TRUE(WaitFor([&] { return h.held == 1; }));
  // Two wait (and time out), the third finds the queue full at once.
  std::string native, conntrackd, overflow;
  std::thread n([&] {
    std::string body;
    ClientResult r = ControlRequestBody(o.path, "stats", {}, &body);
    native = r.error;
    EXPECT_EQ(r.status, 503);
  });
  std::thread c([&] { conntrackd = ConntrackdAsk(o.path, 30); });
  ASSERT_TRUE(WaitFor([&] { return s.counters().queued == 2; }));
  overflow = ConntrackdAsk(o.path, 28);
  EXPECT_EQ(overflow,
            "ctcollectd busy: 1 clients served, 2 waiting, try again\n");
  n.join();
  c.join();
  EXPECT_EQ(native, "busy: 1 clients served, waited 300 ms, try again");
  EXPECT_EQ(conntrackd,
            "ctcollectd busy: 1 clients served, waited 300 ms, try again\n");
  EXPECT_EQ(s.counters().rejected_busy, 3);
  h.Open();
  holder.join();
  s.Stop();
}

// Many clients at once, far more than threads: every one answered in full.
TEST(ControlServer, FortyClientsOfEachProtocolAllAnswered) {
  GatedHandler h;
  h.Open();
  ControlServerOptions o;
  o.path = SocketPath("many");
  o.max_clients = 4;
  ControlServer s(o, &h);
  s.Start();
  std::atomic<int> whole{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 80; ++i) {
    clients.emplace_back([&, i] {
      for (int r = 0; r < 25; ++r) {
        if (i % 2 == 0) {
          if (ConntrackdAsk(o.path, 28) == "ok 28\n") whole++;
        } else {
          std::string body;
          ClientResult res = ControlRequestBody(o.path, "stats", {}, &body);
          if (res.error.empty() && body == "ok stats\n") whole++;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(whole, 80 * 25);
  EXPECT_EQ(s.counters().rejected_busy, 0);
  s.Stop();
}

}  // namespace
}  // namespace ctcollect
