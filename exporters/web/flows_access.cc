#include "exporters/web/flows_access.h"

namespace ctcollect {

FlowsApi ResolveFlowsApi(std::string_view setting, bool clients_authenticate) {
  if (setting == "all") return FlowsApi::kAll;
  if (setting == "off") return FlowsApi::kOff;
  if (setting == "local") return FlowsApi::kLocal;
  return clients_authenticate ? FlowsApi::kAll : FlowsApi::kLocal;
}

const char* FlowsApiName(FlowsApi a) {
  switch (a) {
    case FlowsApi::kLocal:
      return "local";
    case FlowsApi::kAll:
      return "all";
    case FlowsApi::kOff:
      return "off";
  }
  return "local";
}

bool IsLoopbackAddress(std::string_view addr) {
  constexpr std::string_view kMapped = "::ffff:";
  if (addr.substr(0, kMapped.size()) == kMapped)
    addr.remove_prefix(kMapped.size());
  return addr == "::1" || addr.substr(0, 4) == "127.";
}

bool RevealsAddresses(std::string_view path) {
  for (std::string_view p : {"/api/v1/flows", "/api/v1/top"}) {
    if (path.substr(0, p.size()) == p &&
        (path.size() == p.size() || path[p.size()] == '/' ||
         path[p.size()] == '?')) {
      return true;
    }
  }
  return false;
}

bool FlowsAllowed(FlowsApi a, std::string_view client_addr) {
  switch (a) {
    case FlowsApi::kAll:
      return true;
    case FlowsApi::kOff:
      return false;
    case FlowsApi::kLocal:
      return IsLoopbackAddress(client_addr);
  }
  return false;
}

std::string FlowsRefusal(FlowsApi a) {
  if (a == FlowsApi::kOff) {
    return "403 Forbidden: the flow and top-talker endpoints are off "
           "(--web.flows-api=off)\n";
  }
  return "403 Forbidden: the flow and top-talker endpoints reveal who "
         "talks to whom and "
         "answer only loopback clients (--web.flows-api=local; set "
         "--web.flows-api=all, or require basic auth or client certificates "
         "in --web.config.file)\n";
}

}  // namespace ctcollect
