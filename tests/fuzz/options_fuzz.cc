// Fuzz target: ctcollectd's flags and their values (durations, sizes,
// listen addresses), split from NUL-separated input.
#include <cstdint>
#include <string>
#include <vector>

#include "collector/config/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size && args.size() < 16; ++i) {
    if (data[i] == 0) {
      args.emplace_back();
    } else {
      args.back().push_back(static_cast<char>(data[i]));
    }
  }
  try {
    ctcollect::ParseDaemonOptions(args);
  } catch (const ctcollect::ConfigError&) {
    // The expected outcome for bad input; anything else escapes and fails.
  }
  return 0;
}
