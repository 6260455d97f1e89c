#include "daemon/service_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>

#include "collector/base/log.h"

namespace ctcollect {

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0) {
    watchdog_interval_ =
        std::chrono::milliseconds(static_cast<int64_t>(usec / 1000));
  }
}

void ServiceNotifier::Send(const std::string& state) {
  int r = sd_notify(/*unset_environment=*/0, state.c_str());
  if (r < 0) {
    static RateLimitedLog log(LogLevel::kWarn, std::chrono::seconds(60));
    log.Log("sd_notify failed (" + std::to_string(-r) + ")");
  }
}

void ServiceNotifier::Ready(const std::string& status) {
  Send("READY=1\nSTATUS=" + status);
}

void ServiceNotifier::Reloading() {
  // MONOTONIC_USEC lets Type=notify-reload managers match this to READY=1.
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1000000u +
                  static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::Stopping() { Send("STOPPING=1"); }

void ServiceNotifier::Status(const std::string& status) {
  Send("STATUS=" + status);
}

void ServiceNotifier::WatchdogPing() { Send("WATCHDOG=1"); }

}  // namespace ctcollect
