#include "collector/base/log.h"

#include <unistd.h>

namespace ctcollect {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view s) {
  if (s == "error") return LogLevel::kError;
  if (s == "warn") return LogLevel::kWarn;
  if (s == "info") return LogLevel::kInfo;
  if (s == "debug") return LogLevel::kDebug;
  return std::nullopt;
}

void SetLogLevel(LogLevel l) { g_level.store(static_cast<int>(l)); }

bool LogEnabled(LogLevel l) { return static_cast<int>(l) <= g_level.load(); }

void Log(LogLevel l, std::string_view msg) {
  if (!LogEnabled(l)) return;
  std::string line = "<" + std::to_string(static_cast<int>(l)) + ">";
  line.append(msg);
  line.push_back('\n');
  // One write per line so concurrent lines never interleave.
  ssize_t r = ::write(STDERR_FILENO, line.data(), line.size());
  (void)r;
}

bool RateLimitedLog::Log(std::string_view msg) {
  std::string line;
  {
    MutexLock lock(&mu_);
    auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < interval_) {
      ++suppressed_;
      return false;
    }
    line.assign(msg);
    if (suppressed_ > 0) {
      line +=
          " (" + std::to_string(suppressed_) + " more since the last report)";
    }
    suppressed_ = 0;
    last_ = now;
    logged_once_ = true;
  }
  ctcollect::Log(level_, line);
  return true;
}

}  // namespace ctcollect
