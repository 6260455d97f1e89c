#include "daemon/signal_loop.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "collector/base/log.h"

namespace ctcollect {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

timespec ToTimespec(milliseconds d) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(d.count() / 1000);
  ts.tv_nsec = static_cast<long>((d.count() % 1000) * 1000000);
  return ts;
}

std::string ReadyStatus(const NetnsSet& collector) {
  size_t n = collector.Namespaces().size();
  return "watching " + std::to_string(n) + " network namespace" +
         (n == 1 ? "" : "s") + "; first dump done";
}

}  // namespace

int RunUntilStopped(const sigset_t& signals, const NetnsSet& collector,
                    ConfigReloader* reloader, ServiceNotifier* notifier) {
  bool ready_sent = false;
  // An ingest thread wakes every second; one silent for this long is stuck
  // (a kernel that never answers a dump, a deadlock): stop pinging, so
  // the service manager restarts the daemon.
  const milliseconds stuck_after =
      std::max(milliseconds(5000), notifier->ping_interval());
  Clock::time_point next_ping = Clock::now();
  RateLimitedLog stuck_log(LogLevel::kError, std::chrono::seconds(60));
  notifier->Status("starting: first dump of the conntrack table");
  for (;;) {
    milliseconds tick = ready_sent ? milliseconds(1000) : milliseconds(50);
    if (notifier->watchdog_enabled()) {
      tick = std::min(tick, notifier->ping_interval());
    }
    timespec ts = ToTimespec(tick);
    siginfo_t info;
    int sig = sigtimedwait(&signals, &info, &ts);
    if (sig == SIGHUP) {
      notifier->Reloading();
      reloader->Reload();
      notifier->Ready(ReadyStatus(collector));
      continue;
    }
    if (sig > 0) {
      Log(LogLevel::kInfo,
          std::string("signal ") + strsignal(sig) + ", shutting down");
      notifier->Stopping();
      return sig;
    }
    if (!ready_sent && collector.Ready()) {
      notifier->Ready(ReadyStatus(collector));
      ready_sent = true;
    }
    if (notifier->watchdog_enabled() && Clock::now() >= next_ping) {
      if (collector.Alive(stuck_after)) {
        notifier->WatchdogPing();
        next_ping = Clock::now() + notifier->ping_interval();
      } else {
        stuck_log.Log(
            "an ingest thread has not run for " +
            std::to_string(stuck_after.count() / 1000) +
            " s; not pinging the service watchdog, so it restarts the daemon");
      }
    }
  }
}

}  // namespace ctcollect
