#include "collector/config/config_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string_view>

namespace ctcollect {
namespace {

// How a key of the file maps to a flag.
enum class Kind { kScalar, kList, kBool };
struct KeySpec {
  const char* flag;
  Kind kind;
};

// section -> key -> flag.
const std::map<std::string, std::map<std::string, KeySpec>>& Keys() {
  static const std::map<std::string, std::map<std::string, KeySpec>> kKeys = {
      {"web",
       {{"listen_address", {"--web.listen-address", Kind::kList}},
        {"telemetry_path", {"--web.telemetry-path", Kind::kScalar}},
        {"config_file", {"--web.config.file", Kind::kScalar}},
        {"flows_api", {"--web.flows-api", Kind::kScalar}}}},
      {"conntrack",
       {{"netns", {"--netns", Kind::kList}},
        {"resync_interval", {"--resync-interval", Kind::kScalar}},
        {"enable_accounting", {"--conntrack.enable-accounting", Kind::kBool}},
        {"discover", {"--netns.discover", Kind::kBool}},
        {"discover_interval", {"--netns.discover-interval", Kind::kScalar}},
        {"netns_detail", {"--netns.detail", Kind::kScalar}},
        {"netns_detail_full", {"--netns.detail-full", Kind::kList}},
        {"runtime_dirs", {"--netns.runtime-dir", Kind::kList}}}},
      {"ingest", {{"threads", {"--ingest.threads", Kind::kScalar}}}},
      {"netlink",
       {{"buffer_size", {"--netlink.buffer-size", Kind::kScalar}},
        {"buffer_max", {"--netlink.buffer-max", Kind::kScalar}}}},
      {"control",
       {{"socket", {"--control.socket", Kind::kScalar}},
        {"socket_group", {"--control.socket-group", Kind::kScalar}}}},
      {"log", {{"level", {"--log.level", Kind::kScalar}}}},
      {"top",
       {{"enabled", {"--top.enabled", Kind::kScalar}},
        {"min_share", {"--top.min-share", Kind::kScalar}}}},
      {"sync",
       {{"mode", {"--sync.mode", Kind::kScalar}},
        {"transport", {"--sync.transport", Kind::kScalar}},
        {"listen_address", {"--sync.listen-address", Kind::kScalar}},
        {"peers", {"--sync.peer", Kind::kList}},
        {"multicast_group", {"--sync.multicast-group", Kind::kScalar}},
        {"interface", {"--sync.interface", Kind::kScalar}},
        {"hmac_key_file", {"--sync.hmac-key-file", Kind::kScalar}},
        {"ack_window", {"--sync.ack-window", Kind::kScalar}},
        {"resend_queue_size", {"--sync.resend-queue-size", Kind::kScalar}},
        {"refresh_time", {"--sync.refresh-time", Kind::kScalar}},
        {"cache_timeout", {"--sync.cache-timeout", Kind::kScalar}},
        {"mtu", {"--sync.mtu", Kind::kScalar}},
        {"receive_buffer", {"--sync.receive-buffer", Kind::kScalar}},
        {"expectation_sync", {"--sync.expectation-sync", Kind::kBool}},
        {"conntrackd_config", {"--conntrackd.config", Kind::kScalar}}}},
  };
  return kKeys;
}

class FileError {
 public:
  explicit FileError(std::string origin) : origin_(std::move(origin)) {}
  [[noreturn]] void Throw(const YAML::Node& at, const std::string& key,
                          const std::string& why) const {
    std::string where = origin_;
    const YAML::Mark m = at.Mark();
    if (!m.is_null()) where += ":" + std::to_string(m.line + 1);
    throw ConfigError(where + ": " + key + ": " + why);
  }

 private:
  std::string origin_;
};

std::string Scalar(const FileError& err, const YAML::Node& n,
                   const std::string& key) {
  if (!n.IsScalar()) err.Throw(n, key, "expected a single value");
  return n.Scalar();
}

void ApplyKey(const FileError& err, const YAML::Node& n, const std::string& key,
              const KeySpec& spec, DaemonOptions* o) {
  auto apply = [&](const std::string& v) {
    try {
      ApplyDaemonFlag(spec.flag, v, o);
    } catch (const ConfigError& e) {
      err.Throw(n, key, e.what());
    }
  };
  switch (spec.kind) {
    case Kind::kScalar: {
      std::string v = Scalar(err, n, key);
      // "" in the file means "none" for the optional paths and names.
      if (v.empty() && spec.flag == std::string_view("--web.config.file")) {
        o->web_config_file.clear();
      } else if (v.empty() &&
                 spec.flag == std::string_view("--control.socket-group")) {
        o->control_socket_group.clear();
      } else {
        apply(v);
      }
      return;
    }
    case Kind::kBool: {
      bool b = false;
      if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
        err.Throw(n, key, "expected true or false");
      }
      *DaemonSwitch(spec.flag, o) = b;
      return;
    }
    case Kind::kList:
      if (std::string(spec.flag) == "--web.listen-address") {
        o->listen_addresses.clear();
      } else if (std::string(spec.flag) == "--sync.peer") {
        o->sync.peers.clear();
      } else {
        o->netns.clear();
      }
      if (n.IsScalar()) {
        apply(n.Scalar());
      } else if (n.IsSequence()) {
        for (const auto& item : n) apply(Scalar(err, item, key));
      } else if (!n.IsNull()) {
        err.Throw(n, key, "expected a value or a list of values");
      }
      return;
  }
}

void ApplyClasses(const FileError& err, const YAML::Node& section,
                  DaemonOptions* o) {
  if (!section.IsMap()) err.Throw(section, "flow_classes", "expected a map");
  YAML::Node classes;
  for (const auto& kv : section) {
    std::string k = kv.first.Scalar();
    if (k == "max") {
      std::string v = Scalar(err, kv.second, "flow_classes.max");
      auto n = ParseNumber(v, kMaxFlowClasses);
      if (!n) {
        err.Throw(kv.second, "flow_classes.max",
                  "expected 0-" + std::to_string(kMaxFlowClasses));
      }
      o->max_flow_classes = static_cast<int>(*n);
    } else if (k == "classes") {
      classes = kv.second;
    } else {
      err.Throw(kv.first, "flow_classes." + k, "unknown key (max, classes)");
    }
  }
  o->flow_classes.clear();
  if (!classes || classes.IsNull()) return;
  if (!classes.IsSequence()) {
    err.Throw(classes, "flow_classes.classes", "expected a list of classes");
  }
  std::vector<FlowClass> parsed;
  for (const auto& c : classes) {
    std::string key =
        "flow_classes.classes[" + std::to_string(parsed.size()) + "]";
    if (!c.IsMap()) err.Throw(c, key, "expected a map (name: ..., dport: ...)");
    std::map<std::string, std::string> fields;
    for (const auto& kv : c) {
      std::string k = Scalar(err, kv.first, key);
      fields[k] = Scalar(err, kv.second, key + "." + k);
    }
    std::string why;
    auto fc = ParseFlowClass(fields, &why);
    if (!fc) err.Throw(c, key, why);
    parsed.push_back(std::move(*fc));
  }
  if (parsed.size() > static_cast<size_t>(o->max_flow_classes)) {
    err.Throw(classes, "flow_classes.classes",
              std::to_string(parsed.size()) + " classes, more than max (" +
                  std::to_string(o->max_flow_classes) + ")");
  }
  try {
    FlowClassifier check(parsed);  // duplicate names
  } catch (const std::invalid_argument& e) {
    err.Throw(classes, "flow_classes.classes", e.what());
  }
  o->flow_classes = std::move(parsed);
}

void ApplySelectors(const FileError& err, const YAML::Node& section,
                    DaemonOptions* o) {
  if (!section.IsMap())
    err.Throw(section, "timeout_policies", "expected a map");
  std::vector<PolicySelector> parsed;
  for (const auto& kv : section) {
    std::string k = kv.first.Scalar();
    if (k != "selectors") {
      err.Throw(kv.first, "timeout_policies." + k, "unknown key (selectors)");
    }
    if (kv.second.IsNull()) continue;
    if (!kv.second.IsSequence()) {
      err.Throw(kv.second, "timeout_policies.selectors", "expected a list");
    }
    for (const auto& sel : kv.second) {
      std::string key =
          "timeout_policies.selectors[" + std::to_string(parsed.size()) + "]";
      if (!sel.IsMap()) err.Throw(sel, key, "expected a map (policy: ...)");
      std::map<std::string, std::string> fields;
      std::string policy;
      for (const auto& f : sel) {
        std::string name = Scalar(err, f.first, key);
        std::string value = Scalar(err, f.second, key + "." + name);
        if (name == "policy") {
          policy = value;
        } else if (name == "name") {
          err.Throw(f.first, key + ".name", "a selector names its policy");
        } else {
          fields[name] = value;
        }
      }
      if (policy.empty() || policy.size() > 256) {
        err.Throw(sel, key, "policy: the timeout policy's name is required");
      }
      fields["name"] = "selector";
      std::string why;
      auto match = ParseFlowClass(fields, &why);
      if (!match) err.Throw(sel, key, why);
      parsed.push_back({std::move(*match), policy});
      if (parsed.size() > 255) err.Throw(sel, key, "more than 255 selectors");
    }
  }
  o->policy_selectors = std::move(parsed);
}

}  // namespace

void ApplyConfigText(const std::string& yaml_text, const std::string& origin,
                     DaemonOptions* o) {
  FileError err(origin);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": " +
                      e.msg);
  }
  if (root.IsNull()) return;  // an empty file: all defaults
  if (!root.IsMap())
    err.Throw(root, "(top level)", "expected a map of sections");
  try {
    for (const auto& section : root) {
      std::string name = Scalar(err, section.first, "(section name)");
      if (name == "flow_classes") {
        ApplyClasses(err, section.second, o);
        continue;
      }
      if (name == "timeout_policies") {
        if (!section.second.IsNull()) ApplySelectors(err, section.second, o);
        continue;
      }
      auto keys = Keys().find(name);
      if (keys == Keys().end()) {
        err.Throw(section.first, name,
                  "unknown section (web, conntrack, netlink, control, log, "
                  "flow_classes, timeout_policies)");
      }
      if (section.second.IsNull()) continue;
      if (!section.second.IsMap())
        err.Throw(section.second, name, "expected a map");
      for (const auto& kv : section.second) {
        std::string key = Scalar(err, kv.first, name);
        auto spec = keys->second.find(key);
        if (spec == keys->second.end()) {
          std::string known;
          for (const auto& [k, s] : keys->second) {
            known += (known.empty() ? "" : ", ") + k;
          }
          err.Throw(kv.first, name + "." + key, "unknown key (" + known + ")");
        }
        ApplyKey(err, kv.second, name + "." + key, spec->second, o);
      }
    }
  } catch (const YAML::Exception& e) {
    // Conversions of odd nodes (anchors, tags) that yaml-cpp refuses.
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": " +
                      e.msg);
  }
}

std::vector<std::string> ConfigKeys() {
  std::vector<std::string> out;
  for (const auto& [section, keys] : Keys()) {
    for (const auto& [key, spec] : keys) out.push_back(section + "." + key);
  }
  out.push_back("flow_classes.max");
  out.push_back("flow_classes.classes");
  out.push_back("timeout_policies.selectors");
  return out;
}

void ApplyConfigFile(const std::string& path, DaemonOptions* o) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) {
    throw ConfigError(path + ": larger than 1 MiB; is this the config file?");
  }
  ApplyConfigText(text.str(), path, o);
}

DaemonOptions LoadDaemonOptions(const std::vector<std::string>& args) {
  // Find --config first: the file is the base the other flags override.
  DaemonOptions base;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::string path;
    if (a.rfind("--config=", 0) == 0) {
      path = std::string(a.substr(9));
    } else if (a == "--config" && i + 1 < args.size()) {
      path = args[i + 1];
    } else {
      continue;
    }
    if (path.empty()) throw ConfigError("--config needs a file");
    ApplyConfigFile(path, &base);
    base.config_file = path;
  }
  return ParseDaemonOptions(args, std::move(base));
}

}  // namespace ctcollect
