// What a container runtime says about a pod sandbox, read from the OCI
// runtime bundle's config.json it writes for each task: containerd under
// /run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/, CRI-O under its
// bundle directory. The CRI annotations name the pod; linux.namespaces may
// name the network namespace's path.
//
// The file is outside bytes: over kMaxOciConfigBytes, malformed JSON or a
// field of the wrong type gives an error string, never an exception.
//
// Pure (LoadOciBundleConfig reads one file); thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ctcollect {

inline constexpr size_t kMaxOciConfigBytes = 1 << 20;
// Longer annotation values are refused: they become label values.
inline constexpr size_t kMaxOciAnnotationBytes = 1024;

// Which annotation family named the pod.
enum class PodRuntime { kContainerd, kCrio };
const char* PodRuntimeName(PodRuntime r);  // "containerd", "cri-o"

struct PodInfo {
  std::string name;           // e.g. "coredns-5d78c9869d-abcde"
  std::string pod_namespace;  // Kubernetes namespace, e.g. "kube-system"
  std::string uid;
  // "sandbox" for the pod's sandbox (pause) task, "container" for the
  // others; empty when the runtime did not say.
  std::string container_type;
  PodRuntime runtime = PodRuntime::kContainerd;

  bool is_sandbox() const { return container_type == "sandbox"; }
};

struct OciBundleConfig {
  std::optional<PodInfo> pod;  // none: no CRI annotations (not a pod)
  std::string netns_path;      // linux.namespaces[type=network].path, or ""
};

struct OciBundleResult {
  std::optional<OciBundleConfig> config;  // set unless error is
  std::string error;
};

// Parses config.json text.
OciBundleResult ParseOciBundleConfig(std::string_view json);

// Reads (at most kMaxOciConfigBytes) and parses the file at `path`; a file
// that cannot be read gives an error naming the path and errno.
OciBundleResult LoadOciBundleConfig(const std::string& path);

}  // namespace ctcollect
