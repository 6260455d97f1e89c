// Fuzz target: an OCI runtime bundle's config.json, for the CRI pod
// annotations and the network namespace path.
#include <cstdint>
#include <string_view>

#include "collector/discovery/oci_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ctcollect::OciBundleResult r = ctcollect::ParseOciBundleConfig(text);
  // Exactly one of a config and an error.
  if (r.config.has_value() == !r.error.empty()) __builtin_trap();
  return 0;
}
