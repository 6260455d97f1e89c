#include "exporters/formats/helper_format.h"

#include <cstdio>
#include <map>

namespace ctcollect {
namespace {

struct InUse {
  int64_t flows = 0;
  int64_t expectations = 0;
};

// Kernel helpers with flows or expectations, by name.
std::map<std::string, InUse> KernelHelpers(const NetnsSnapshot& ns) {
  std::map<std::string, InUse> out;
  for (const auto& h : ns.helpers) {
    int64_t n = 0;
    for (int p = 0; p < kNumProtos; ++p) {
      for (int s = 0; s < kMaxStates; ++s) n += h.entries[p][s];
    }
    if (n > 0) out[h.name].flows = n;
  }
  for (const auto& [name, c] : ns.expectations) {
    if (c.current > 0)
      out[name.empty() ? "(none)" : name].expectations = c.current;
  }
  return out;
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

}  // namespace

std::string HelpersText(const NetnsSnapshot& ns) {
  std::string out = "kernel helpers in use:\n";
  auto kernel = KernelHelpers(ns);
  if (kernel.empty()) out += "  (none)\n";
  char line[256];
  for (const auto& [name, u] : kernel) {
    snprintf(line, sizeof(line), "  %-16s flows %-8lld expectations %lld\n",
             name.c_str(), static_cast<long long>(u.flows),
             static_cast<long long>(u.expectations));
    out += line;
  }
  out += "user-space helpers (nfnetlink_cthelper):\n";
  if (!ns.cthelper_up) {
    out += "  unavailable: " +
           (ns.cthelper_error.empty() ? std::string("not queried yet")
                                      : ns.cthelper_error) +
           "\n";
    return out;
  }
  if (ns.userspace_helpers.empty()) out += "  (none)\n";
  for (const auto& h : ns.userspace_helpers) {
    snprintf(line, sizeof(line), "  %-16s l3proto %u l4proto %u queue %u %s\n",
             h.name.c_str(), h.l3proto, h.l4proto, h.queue,
             h.enabled ? "enabled" : "disabled");
    out += line;
    for (const auto& p : h.policies) {
      snprintf(line, sizeof(line),
               "    policy %-16s expect_max %u expect_timeout %u\n",
               p.name.c_str(), p.expect_max, p.expect_timeout);
      out += line;
    }
  }
  return out;
}

std::string HelpersJson(const NetnsSnapshot& ns) {
  std::string out = "{\"netns\":" + Quoted(ns.netns) + ",\"kernel\":[";
  bool first = true;
  for (const auto& [name, u] : KernelHelpers(ns)) {
    out += std::string(first ? "" : ",") + "{\"helper\":" + Quoted(name) +
           ",\"flows\":" + std::to_string(u.flows) +
           ",\"expectations\":" + std::to_string(u.expectations) + "}";
    first = false;
  }
  out += "],\"userspace\":";
  if (!ns.cthelper_up) {
    return out + "null,\"userspace_error\":" + Quoted(ns.cthelper_error) +
           "}\n";
  }
  out += "[";
  first = true;
  for (const auto& h : ns.userspace_helpers) {
    out += std::string(first ? "" : ",") + "{\"helper\":" + Quoted(h.name) +
           ",\"l3proto\":" + std::to_string(h.l3proto) +
           ",\"l4proto\":" + std::to_string(h.l4proto) +
           ",\"queue\":" + std::to_string(h.queue) +
           ",\"enabled\":" + (h.enabled ? "true" : "false") + ",\"policies\":[";
    bool pf = true;
    for (const auto& p : h.policies) {
      out += std::string(pf ? "" : ",") + "{\"name\":" + Quoted(p.name) +
             ",\"expect_max\":" + std::to_string(p.expect_max) +
             ",\"expect_timeout\":" + std::to_string(p.expect_timeout) + "}";
      pf = false;
    }
    out += "]}";
    first = false;
  }
  return out + "]}\n";
}

}  // namespace ctcollect
