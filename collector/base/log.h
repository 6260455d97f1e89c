// Logging for the daemon: one line per event on stderr with a syslog <N>
// priority prefix, which journald turns into the entry's priority.
// Thread-safe: each line is written with a single write(2).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "collector/base/mutex.h"

namespace ctcollect {

enum class LogLevel : int {
  kError = 3,
  kWarn = 4,
  kNotice = 5,
  kInfo = 6,
  kDebug = 7
};

std::optional<LogLevel> ParseLogLevel(std::string_view s);
void SetLogLevel(LogLevel l);
bool LogEnabled(LogLevel l);
void Log(LogLevel l, std::string_view msg);

// A condition that may repeat many times a second (an overrun, a malformed
// message): logged at most once per interval, with how many times it
// happened since the last line. Thread-safe.
class RateLimitedLog {
 public:
  RateLimitedLog(LogLevel level, std::chrono::seconds interval)
      : level_(level), interval_(interval) {}
  // Counts one occurrence; logs `msg` (plus the count of suppressed ones)
  // if the interval since the last line has passed. Returns whether it
  // logged.
  bool Log(std::string_view msg);

 private:
  LogLevel level_;
  std::chrono::seconds interval_;
  Mutex mu_;
  std::chrono::steady_clock::time_point last_ GUARDED_BY(mu_) = {};
  uint64_t suppressed_ GUARDED_BY(mu_) = 0;
  bool logged_once_ GUARDED_BY(mu_) = false;
};

}  // namespace ctcollect
