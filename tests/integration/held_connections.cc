#include "tests/integration/held_connections.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/web_client.h"

namespace ctcollect::itest {
namespace {

using Clock = std::chrono::steady_clock;

enum class Kind { kHalfHead, kIdleKeepAlive, kSilent };

struct Slot {
  Kind kind;
  std::unique_ptr<WebConn> conn;
  Clock::time_point renew_at;
};

std::chrono::nanoseconds Seconds(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(s));
}

}  // namespace

ConnectionHolder::ConnectionHolder(const Options& o) : o_(o) {
  thread_ = std::thread([this] { Run(); });
}

ConnectionHolder::~ConnectionHolder() {
  stop_ = true;
  thread_.join();
}

bool ConnectionHolder::WaitAllOpen(double seconds) const {
  const auto until = Clock::now() + Seconds(seconds);
  while (Clock::now() < until) {
    if (open_ >= o_.count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return open_ >= o_.count;
}

void ConnectionHolder::Run() {
  std::vector<Slot> slots(static_cast<size_t>(o_.count));
  for (size_t i = 0; i < slots.size(); ++i) {
    slots[i].kind = static_cast<Kind>(i % 3);
  }
  // Opens slot `s`: true if it holds a connection of its kind now.
  auto open = [this](Slot& s) {
    const bool handshake = s.kind != Kind::kSilent;
    s.conn = std::make_unique<WebConn>(o_.port, o_.tls, 2.0, handshake);
    bool ok = s.conn->ok();
    double hold = o_.head_timeout;
    if (ok && s.kind == Kind::kHalfHead) {
      ok = s.conn->Send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slo");
    } else if (ok && s.kind == Kind::kIdleKeepAlive) {
      std::string body;
      ok = s.conn->Send("GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") &&
           s.conn->ReadAnswer(&body) == 200;
      hold = o_.idle_timeout;
    }
    if (!ok) {
      ++failed_;
      s.conn.reset();
      s.renew_at = Clock::now() + std::chrono::milliseconds(100);
      return false;
    }
    // The idle bound runs from the answer, the others from connect.
    const auto from =
        s.kind == Kind::kIdleKeepAlive ? Clock::now() : s.conn->connected_at();
    s.renew_at = from + Seconds(hold - o_.margin);
    return true;
  };
  for (Slot& s : slots) {
    if (stop_) break;
    if (open(s)) ++open_;
  }
  while (!stop_) {
    for (Slot& s : slots) {
      // The time now, not at the start of the pass: renewals with TLS
      // handshakes take a while each.
      if (stop_ || s.renew_at > Clock::now()) continue;
      if (s.conn != nullptr) {
        // Whether it is still open, and whether it should be: checked
        // before the time, with 50 ms of slack for the server's timer.
        const bool closed = s.conn->ClosedByServer();
        if (Clock::now() > s.renew_at + Seconds(o_.margin - 0.05)) {
          ++late_;
        } else if (closed) {
          ++closed_early_;
        }
        s.conn.reset();
        --open_;
        ++renewed_;
      }
      if (open(s)) ++open_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (Slot& s : slots) {
    if (s.conn != nullptr) --open_;
    s.conn.reset();
  }
}

}  // namespace ctcollect::itest
