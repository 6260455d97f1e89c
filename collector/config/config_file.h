// The daemon's YAML config file (yaml-cpp): every flag has a key, flags
// override the file, and the flow classes live only here. Every key is
// documented in the README and in the sample, systemd/ctcollectd.conf.
//
//   web:        listen_address (string or list), telemetry_path, config_file
//   conntrack:  netns (list), resync_interval, enable_accounting
//   netlink:    buffer_size, buffer_max
//   control:    socket, socket_group
//   log:        level
//   top:        enabled, min_share
//   flow_classes:
//     max: 32            # refuse more classes than this
//     classes: [{name, family, protocol, src, dst, sport, dport, mark,
//                ct_zone}, ...]
//   timeout_policies:
//     selectors: [{policy, and the class fields but name}, ...]
//
// Unknown keys are errors (a typo must not silently fall back to a
// default). Errors are ConfigError naming the file, line and key.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "collector/config/options.h"

namespace ctcollect {

// Applies the YAML text to `o` (a file's settings replace the defaults;
// lists replace, they do not append). `origin` names the file in errors.
void ApplyConfigText(const std::string& yaml_text, const std::string& origin,
                     DaemonOptions* o);

// Reads `path` and applies it as above. Throws ConfigError if it cannot be
// read.
void ApplyConfigFile(const std::string& path, DaemonOptions* o);

// Every key of the file, as "section.key" (flow classes as
// "flow_classes.max", "flow_classes.classes"), for documentation checks.
std::vector<std::string> ConfigKeys();

// The daemon's whole configuration from its arguments: defaults, then the
// --config file if one is named, then the other flags on top.
DaemonOptions LoadDaemonOptions(const std::vector<std::string>& args);

}  // namespace ctcollect
