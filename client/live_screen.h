// The terminal loop of the client's live views (`ctcollect top`, `ctcollect
// top --by ...`): a fresh screen every second until q (or EOF on stdin).
//
// Thread safety: owns the terminal; call it from the main thread.
#pragma once

#include <functional>
#include <string>

namespace ctcollect {

// `frame` fills the screen's text, or says why there is none (the loop
// then ends: status 1, the reason on stderr). With `once`, one frame is
// printed as it is (for scripts) and the loop does not run. Returns the
// exit status.
int RunLive(
    const std::function<bool(std::string* screen, std::string* error)>& frame,
    bool once = false);

}  // namespace ctcollect
