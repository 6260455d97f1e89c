// Fuzz target: requests on the control socket, both framings.
#include <cstdint>
#include <string>
#include <string_view>

#include "collector/control/control_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using ctcollect::ControlFraming;
  switch (ctcollect::DetectFraming(in)) {
    case ControlFraming::kConntrackd:
      ctcollect::ParseConntrackdRequest(in.substr(0, 4));
      break;
    case ControlFraming::kNative: {
      std::string err;
      auto r = ctcollect::ParseNativeRequest(in, &err);
      if (!r && err.empty()) __builtin_trap();  // every refusal says why
      if (r) ctcollect::FormatNativeRequest(r->verb, r->args);
      break;
    }
    case ControlFraming::kNeedMore:
      break;
  }
  std::string reason;
  int version = 0;
  ctcollect::ParseNativeStatusLine(in, &reason, &version);
  return 0;
}
