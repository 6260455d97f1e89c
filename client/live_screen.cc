#include "client/live_screen.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace ctcollect {
namespace {

// Keys without Enter, not echoed, while the view runs.
class RawTerminal {
 public:
  RawTerminal() {
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

int RunLive(
    const std::function<bool(std::string* screen, std::string* error)>& frame,
    bool once) {
  if (once) {
    std::string screen, error;
    if (!frame(&screen, &error)) {
      std::fprintf(stderr, "ctcollect: %s\n", error.c_str());
      return 1;
    }
    std::fputs(screen.c_str(), stdout);
    return 0;
  }
  RawTerminal raw;
  for (;;) {
    std::string screen, error;
    if (!frame(&screen, &error)) {
      std::fprintf(stderr, "ctcollect: %s\n", error.c_str());
      return 1;
    }
    screen = "\033[H\033[2J" + screen;
    ssize_t w = write(STDOUT_FILENO, screen.data(), screen.size());
    (void)w;
    // Wait a second for a key; q (or EOF on stdin) quits.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      until - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) break;
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char c;
      ssize_t n = read(STDIN_FILENO, &c, 1);
      if (n <= 0 || c == 'q' || c == 'Q') return 0;
    }
  }
}

}  // namespace ctcollect
