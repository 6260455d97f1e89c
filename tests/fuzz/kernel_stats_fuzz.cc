// Fuzz target: replies to IPCTNL_MSG_CT_GET_STATS(_CPU).
#include <cstdint>
#include <cstring>
#include <vector>

#include "collector/conntrack/kernel_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint64_t> aligned((size + 7) / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  ctcollect::KernelStats s;
  bool done = false;
  ctcollect::ParseStatsReply(aligned.data(), size, &s, &done);
  return 0;
}
