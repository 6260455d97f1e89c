#include "collector/discovery/oci_bundle.h"

#include <nlohmann/json.hpp>

#include "collector/discovery/bounded_file.h"

namespace ctcollect {
namespace {

using nlohmann::json;

struct Family {
  PodRuntime runtime;
  const char* name;
  const char* pod_namespace;
  const char* uid;
  const char* container_type;
};

// containerd's CRI plugin first: it is what most nodes run.
constexpr Family kFamilies[] = {
    {PodRuntime::kContainerd, "io.kubernetes.cri.sandbox-name",
     "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-uid",
     "io.kubernetes.cri.container-type"},
    {PodRuntime::kCrio, "io.kubernetes.pod.name", "io.kubernetes.pod.namespace",
     "io.kubernetes.pod.uid", "io.kubernetes.cri-o.ContainerType"},
};

OciBundleResult Error(std::string why) {
  OciBundleResult r;
  r.error = std::move(why);
  return r;
}

// Reads annotations[key] into *out when present. False, with *error set,
// when it is there but not a string or too long.
bool ReadAnnotation(const json& annotations, const char* key, std::string* out,
                    std::string* error) {
  auto it = annotations.find(key);
  if (it == annotations.end()) return true;
  if (!it->is_string()) {
    *error = std::string("annotation ") + key + " is not a string";
    return false;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxOciAnnotationBytes) {
    *error = std::string("annotation ") + key + " is over " +
             std::to_string(kMaxOciAnnotationBytes) + " bytes";
    return false;
  }
  *out = s;
  return true;
}

// The pod named by the first family that has a pod name; nullopt and
// *error empty when none does.
std::optional<PodInfo> ReadPod(const json& annotations, std::string* error) {
  for (const Family& f : kFamilies) {
    PodInfo pod;
    pod.runtime = f.runtime;
    if (!ReadAnnotation(annotations, f.name, &pod.name, error) ||
        !ReadAnnotation(annotations, f.pod_namespace, &pod.pod_namespace,
                        error) ||
        !ReadAnnotation(annotations, f.uid, &pod.uid, error) ||
        !ReadAnnotation(annotations, f.container_type, &pod.container_type,
                        error)) {
      return std::nullopt;
    }
    if (!pod.name.empty()) return pod;
  }
  return std::nullopt;
}

// linux.namespaces[type=network].path into *path ("" when the runtime
// makes a new namespace instead of joining one). False with *error set on
// a wrong type.
bool ReadNetnsPath(const json& root, std::string* path, std::string* error) {
  auto linux_section = root.find("linux");
  if (linux_section == root.end()) return true;
  if (!linux_section->is_object()) {
    *error = "linux is not an object";
    return false;
  }
  auto namespaces = linux_section->find("namespaces");
  if (namespaces == linux_section->end()) return true;
  if (!namespaces->is_array()) {
    *error = "linux.namespaces is not an array";
    return false;
  }
  for (const json& ns : *namespaces) {
    if (!ns.is_object()) {
      *error = "linux.namespaces has an entry that is not an object";
      return false;
    }
    auto type = ns.find("type");
    if (type == ns.end() || !type->is_string()) {
      *error = "linux.namespaces has an entry without a string type";
      return false;
    }
    if (type->get_ref<const std::string&>() != "network") continue;
    auto p = ns.find("path");
    if (p == ns.end()) return true;
    if (!p->is_string()) {
      *error = "linux.namespaces network path is not a string";
      return false;
    }
    const auto& s = p->get_ref<const std::string&>();
    if (s.size() > 4096 || s.find('\0') != std::string::npos) {
      *error = "linux.namespaces network path is not a usable path";
      return false;
    }
    *path = s;
    return true;
  }
  return true;
}

}  // namespace

const char* PodRuntimeName(PodRuntime r) {
  switch (r) {
    case PodRuntime::kContainerd:
      return "containerd";
    case PodRuntime::kCrio:
      return "cri-o";
  }
  return "unknown";
}

OciBundleResult ParseOciBundleConfig(std::string_view text) {
  if (text.size() > kMaxOciConfigBytes) {
    return Error("config.json is over " + std::to_string(kMaxOciConfigBytes) +
                 " bytes");
  }
  // No exceptions: a parse error gives a discarded value.
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Error("config.json is not valid JSON");
  if (!root.is_object()) return Error("config.json is not a JSON object");

  OciBundleConfig config;
  std::string error;
  auto annotations = root.find("annotations");
  if (annotations != root.end()) {
    if (!annotations->is_object()) return Error("annotations is not an object");
    config.pod = ReadPod(*annotations, &error);
    if (!error.empty()) return Error(error);
  }
  if (!ReadNetnsPath(root, &config.netns_path, &error)) return Error(error);
  OciBundleResult r;
  r.config = std::move(config);
  return r;
}

OciBundleResult LoadOciBundleConfig(const std::string& path) {
  std::string text;
  std::error_code ec = ReadFileBounded(path, kMaxOciConfigBytes, &text);
  if (ec == std::errc::file_too_large) {
    return Error(path + ": over " + std::to_string(kMaxOciConfigBytes) +
                 " bytes");
  }
  if (ec) return Error(path + ": " + ec.message());
  OciBundleResult r = ParseOciBundleConfig(text);
  if (!r.error.empty()) r.error = path + ": " + r.error;
  return r;
}

}  // namespace ctcollect
