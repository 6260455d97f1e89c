// Fuzz target: the exporter-toolkit web config (YAML) and the basic auth
// header check.
#include <cstdint>
#include <string>

#include "collector/config/options.h"
#include "exporters/web/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64u << 10)) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    ctcollect::WebConfig c = ctcollect::ParseWebConfig(text, "/nonexistent");
    (void)c;
  } catch (const ctcollect::ConfigError&) {
  }
  // The same bytes as an Authorization header (no users: no bcrypt cost).
  ctcollect::BasicAuth auth({});
  (void)auth.Check(text.c_str());
  (void)ctcollect::DecodeBase64(text);
  return 0;
}
