// Fuzz target: the YAML config file (yaml-cpp, then our keys, values and
// flow classes), and the classifier built from whatever it accepted.
#include <cstdint>
#include <string>

#include "collector/config/config_file.h"
#include "daemon/config_reload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64u << 10)) return 0;  // the daemon refuses files over 1 MiB
  std::string text(reinterpret_cast<const char*>(data), size);
  ctcollect::DaemonOptions o;
  try {
    ctcollect::ApplyConfigText(text, "fuzz.yml", &o);
    ctcollect::FinishDaemonOptions(&o);
    auto classes = ctcollect::MakeClassifier(o);
    if (classes) {
      uint8_t addr[32] = {10, 0, 0, 1};
      ctcollect::FlowKey k;
      k.af = 2;
      k.src = addr;
      k.dst = addr + 16;
      k.dport = 5432;
      (void)classes->Classify(k);
    }
  } catch (const ctcollect::ConfigError&) {
    // The expected outcome for bad input; anything else escapes and fails.
  }
  return 0;
}
