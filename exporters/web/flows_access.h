// Who may read the endpoints that reveal addresses (/api/v1/flows and
// /api/v1/top: who talks to whom). Metrics are aggregates; these are not. As
// Prometheus's
// --web.enable-admin-api, they are off for the world by default: only
// loopback clients get them, unless --web.config.file makes every client
// authenticate (basic auth, or client certificates), or --web.flows-api
// says otherwise. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ctcollect {

enum class FlowsApi { kLocal, kAll, kOff };

// `setting`: "local", "all", "off", or "" for the default, which is `all`
// when every client must authenticate and `local` otherwise.
FlowsApi ResolveFlowsApi(std::string_view setting, bool clients_authenticate);
const char* FlowsApiName(FlowsApi a);

// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback, as civetweb and
// inet_ntop write them.
bool IsLoopbackAddress(std::string_view addr);

// True for the paths that reveal addresses.
bool RevealsAddresses(std::string_view path);

// Whether a client at `addr` may read them.
bool FlowsAllowed(FlowsApi a, std::string_view client_addr);

// The one-line reason a refused client gets with its 403.
std::string FlowsRefusal(FlowsApi a);

}  // namespace ctcollect
