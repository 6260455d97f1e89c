// Tells the service manager (systemd, Type=notify) how the daemon is doing,
// through libsystemd's sd_notify: READY=1 once the first dump of every
// namespace is in, RELOADING=1 / READY=1 around a config reload,
// STOPPING=1, STATUS= lines, and WATCHDOG=1 pings while every ingest
// thread is alive (WatchdogSec=). Outside systemd (no NOTIFY_SOCKET) every
// call does nothing.
//
// Thread safety: one thread (the main thread's signal loop).
#pragma once

#include <chrono>
#include <string>

namespace ctcollect {

class ServiceNotifier {
 public:
  ServiceNotifier();

  // Whether WatchdogSec= is set for this process, and how often to ping
  // (half the watchdog interval, as sd_watchdog_enabled(3) advises).
  bool watchdog_enabled() const { return watchdog_interval_.count() > 0; }
  std::chrono::milliseconds ping_interval() const {
    return watchdog_interval_ / 2;
  }

  void Ready(const std::string& status);
  void Reloading();
  void Stopping();
  void Status(const std::string& status);
  void WatchdogPing();

 private:
  void Send(const std::string& state);
  std::chrono::milliseconds watchdog_interval_{0};
};

}  // namespace ctcollect
