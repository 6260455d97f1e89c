// Fuzz target: a container runtime's pid file (runc's init.pid, conmon's
// pidfile), which discovery reads to find a pod sandbox's namespace.
#include <cstdint>
#include <string>
#include <string_view>

#include "collector/discovery/pod_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto pid = ctcollect::ParsePidFile(text)) {
    // A pid, and printed back it is the text (less one trailing newline
    // and leading zeros).
    std::string back = std::to_string(*pid);
    std::string_view body = text;
    if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
    while (body.size() > 1 && body.front() == '0') body.remove_prefix(1);
    if (*pid <= 0 || back != body) __builtin_trap();
  }
  return 0;
}
