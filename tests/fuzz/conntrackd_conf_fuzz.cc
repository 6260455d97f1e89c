// Fuzz target: conntrackd.conf files, as --conntrackd.config reads them.
#include <cstdint>
#include <string>

#include "collector/conntrackd_conf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  (void)ctcollect::ParseConntrackdConf(
      std::string(reinterpret_cast<const char*>(data), size), &error);
  return 0;
}
