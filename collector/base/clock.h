// The clocks, in the one place that reads them: the wall clock for figures
// people read (timestamps in metrics, "active since", uptimes of peers),
// the steady clock for durations and deadlines (it does not jump when the
// clock is set).
//
// Thread-safe.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

namespace ctcollect {

// Seconds since the Unix epoch, with the clock's sub-second precision.
inline double WallClockSeconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Whole seconds since the Unix epoch, as time(2) gives them.
inline int64_t WallClockUnix() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

// Milliseconds of the steady clock, for deadlines kept in plain integers
// (atomics, protocol timers).
inline int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace ctcollect
