// Command-line flags of ctcollectd, in the Prometheus exporter style
// (`--web.listen-address=ADDR`, also `--flag value`). Parsing is pure: it
// throws ConfigError with one human-readable line; main turns that into
// exit code 78 (EX_CONFIG) before anything starts.
//
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "collector/base/config_error.h"
#include "collector/base/log.h"
#include "collector/control/control_protocol.h"
#include "collector/flows/flow_class.h"
#include "collector/flows/policy_attribution.h"
#include "collector/replication/sync_options.h"

namespace ctcollect {

struct DaemonOptions {
  std::vector<std::string> listen_addresses;  // HOST:PORT, :PORT, [V6]:PORT
  std::string telemetry_path = "/metrics";
  std::string web_config_file;  // exporter-toolkit web config (TLS, auth)
  std::string flows_api;        // --web.flows-api: local|all|off, "" = default
  std::string config_file;      // --config: the YAML config file
  std::chrono::milliseconds resync_interval{60000};
  size_t buffer_size = 32u << 20;
  size_t buffer_max = 512u << 20;
  std::vector<std::string> netns;  // empty: the daemon's own namespace
  // --netns.discover: every network namespace of the host besides, found
  // every discover_interval (and at once when /run/netns changes); with
  // the summary catalogue unless netns_detail_full.
  bool netns_discover = false;
  std::chrono::milliseconds netns_discover_interval{5000};
  bool netns_detail_full = false;
  // Discovered namespaces whose label matches one of these (exact, or a
  // prefix ending in '*') get the whole catalogue all the same.
  std::vector<std::string> netns_detail_full_for;
  // Where container runtimes keep their task bundles (empty: the defaults).
  std::vector<std::string> runtime_dirs;
  size_t ingest_threads = 0;  // 0: one per core
  bool enable_accounting = false;
  // --top.enabled, --top.min-share: the top-talker rankings, and the share
  // of its namespace's table a key needs for a conntrack_top_entries series.
  bool top_enabled = true;
  double top_min_share = 0.01;
  std::string control_socket = kDefaultControlSocket;
  bool control_socket_set = false;  // given by flag or file: it wins over
                                    // a --conntrackd.config's UNIX Path
  std::string control_socket_group;
  LogLevel log_level = LogLevel::kInfo;
  // From the config file only (flow_classes:).
  std::vector<FlowClass> flow_classes;
  int max_flow_classes = kDefaultMaxFlowClasses;
  // timeout_policies: selectors (flow fields -> the policy they run under).
  std::vector<PolicySelector> policy_selectors;
  // Replication peer mode (--sync.*, the config file's sync: section).
  SyncOptions sync;
  // --conntrackd.config: the Sync section and UNIX socket path of an
  // existing conntrackd.conf replace the sync settings and the socket.
  std::string conntrackd_config;
  bool show_version = false;
  bool show_help = false;
};

inline constexpr std::string_view kDefaultListenAddress = ":10034";

// Applies one flag that takes a value (e.g. "--netns", "x") to `o`,
// appending to lists. Returns false for a name that is no such flag;
// throws ConfigError for a bad value.
bool ApplyDaemonFlag(std::string_view name, std::string_view value,
                     DaemonOptions* o);
// The flag `name` if it is one that takes no value (a switch, on when
// given), else nullptr.
bool* DaemonSwitch(std::string_view name, DaemonOptions* o);
// The checks across flags, and the defaults of empty lists.
void FinishDaemonOptions(DaemonOptions* o);

// Applies the flags in `args` on top of `base` (a config file's settings).
// A repeatable flag given at least once replaces the base's list.
DaemonOptions ParseDaemonOptions(const std::vector<std::string>& args,
                                 DaemonOptions base = {});
std::string DaemonUsage();

// Value parsers, shared with the config file later. Each throws ConfigError
// naming `flag`.
std::chrono::milliseconds ParseDuration(std::string_view flag,
                                        std::string_view v);
size_t ParseByteSize(std::string_view flag, std::string_view v);
// Validates HOST:PORT and returns it as the web front listens on it
// ("PORT", "IPv4:PORT" or "[IPv6]:PORT"; "localhost" is 127.0.0.1).
std::string NormalizeListenAddress(std::string_view flag, std::string_view v);

}  // namespace ctcollect
