// Fuzz target: HTTP query strings and the flow filters they carry
// (/api/v1/flows).
#include <cstdint>
#include <string>

#include "collector/flows/flow_filter.h"
#include "exporters/web/query_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto q = ctcollect::ParseQueryString(
      std::string_view(reinterpret_cast<const char*>(data), size), &error);
  if (!q) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  error.clear();
  if (!ctcollect::ParseFlowFilter(*q, &error) && error.empty())
    __builtin_trap();
  return 0;
}
