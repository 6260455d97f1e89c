#include "daemon/config_reload.h"

#include "collector/base/log.h"
#include "collector/config/config_file.h"

namespace ctcollect {

std::vector<std::string> SettingsNeedingRestart(const DaemonOptions& running,
                                                const DaemonOptions& loaded) {
  std::vector<std::string> out;
  auto check = [&](bool differs, const char* flag) {
    if (differs) out.emplace_back(flag);
  };
  check(running.listen_addresses != loaded.listen_addresses,
        "--web.listen-address");
  check(running.telemetry_path != loaded.telemetry_path,
        "--web.telemetry-path");
  check(running.web_config_file != loaded.web_config_file, "--web.config.file");
  check(running.flows_api != loaded.flows_api, "--web.flows-api");
  check(running.netns != loaded.netns, "--netns");
  check(running.netns_discover != loaded.netns_discover, "--netns.discover");
  check(running.netns_discover_interval != loaded.netns_discover_interval,
        "--netns.discover-interval");
  check(running.netns_detail_full != loaded.netns_detail_full,
        "--netns.detail");
  check(running.netns_detail_full_for != loaded.netns_detail_full_for,
        "--netns.detail-full");
  check(running.runtime_dirs != loaded.runtime_dirs, "--netns.runtime-dir");
  check(running.ingest_threads != loaded.ingest_threads, "--ingest.threads");
  check(running.buffer_size != loaded.buffer_size, "--netlink.buffer-size");
  check(running.buffer_max != loaded.buffer_max, "--netlink.buffer-max");
  check(running.enable_accounting != loaded.enable_accounting,
        "--conntrack.enable-accounting");
  check(running.top_enabled != loaded.top_enabled, "--top.enabled");
  check(running.top_min_share != loaded.top_min_share, "--top.min-share");
  check(running.control_socket != loaded.control_socket, "--control.socket");
  check(running.control_socket_group != loaded.control_socket_group,
        "--control.socket-group");
  check(!(running.sync == loaded.sync), "--sync.*");
  return out;
}

std::shared_ptr<const FlowClassifier> MakeClassifier(const DaemonOptions& o) {
  if (o.flow_classes.empty()) return nullptr;
  return std::make_shared<const FlowClassifier>(o.flow_classes);
}

bool ConfigReloader::Reload() {
  DaemonOptions loaded;
  try {
    loaded = LoadDaemonOptions(args_);
  } catch (const ConfigError& e) {
    Log(LogLevel::kError,
        std::string("SIGHUP: config not reloaded, keeping the running one: ") +
            e.what());
    return false;
  }
  std::vector<std::string> restart = SettingsNeedingRestart(running_, loaded);
  for (const auto& flag : restart) {
    Log(LogLevel::kWarn, "SIGHUP: " + flag +
                             " changed; it takes effect after a restart, "
                             "the running value stays");
  }
  SetLogLevel(loaded.log_level);
  running_.log_level = loaded.log_level;
  collector_->SetResyncInterval(loaded.resync_interval);
  running_.resync_interval = loaded.resync_interval;
  // The classes always: the new classifier also re-attributes every flow
  // from the resync it triggers.
  collector_->SetClassifier(MakeClassifier(loaded));
  running_.flow_classes = loaded.flow_classes;
  collector_->SetPolicySelectors(loaded.policy_selectors);
  running_.policy_selectors = loaded.policy_selectors;
  running_.max_flow_classes = loaded.max_flow_classes;
  collector_->RequestResync();
  Log(LogLevel::kInfo, "SIGHUP: config reloaded (" +
                           std::to_string(loaded.flow_classes.size()) +
                           " flow classes); resyncing with the kernel");
  return true;
}

}  // namespace ctcollect
