// Fuzz target: /proc/self/mountinfo text, for the nsfs mounts of network
// namespaces that discovery reads from it.
#include <cstdint>
#include <string_view>

#include "collector/discovery/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ctcollect::MountinfoNetns r = ctcollect::ParseMountinfoNetns(text);
  for (const ctcollect::NsfsMount& m : r.mounts) {
    if (m.mount_point.empty() || m.mount_point[0] != '/' || m.inode == 0) {
      __builtin_trap();
    }
  }
  return 0;
}
