// The client side of the control socket, as `ctcollect` uses it: connect,
// send one native request, check the status line, stream the body.
//
// Thread safety: each call opens its own connection; any thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace ctcollect {

struct ClientResult {
  int status = 0;     // the reply's status code; 0 if no reply
  std::string error;  // one line for the user when the request failed
};

// Sends `verb args` to the daemon at `path` and passes the reply body to
// `sink` chunk by chunk as it arrives. The error names the cause: daemon
// not running, permission denied, protocol version mismatch, or the
// daemon's own reason.
ClientResult ControlRequestTo(
    const std::string& path, const std::string& verb,
    const std::map<std::string, std::string>& args,
    const std::function<void(std::string_view)>& sink);

// The same, collecting the body into a string.
ClientResult ControlRequestBody(const std::string& path,
                                const std::string& verb,
                                const std::map<std::string, std::string>& args,
                                std::string* body);

}  // namespace ctcollect
