#include "collector/discovery/oci_bundle.h"

#include <gtest/gtest.h>

#include <string>

namespace ctcollect {
namespace {

// Trimmed from what containerd's CRI plugin writes for a pod sandbox.
constexpr char kContainerdSandbox[] = R"({
  "ociVersion": "1.1.0",
  "process": {"args": ["/pause"]},
  "annotations": {
    "io.kubernetes.cri.container-type": "sandbox",
    "io.kubernetes.cri.sandbox-id": "0f2c",
    "io.kubernetes.cri.sandbox-name": "coredns-5d78c9869d-x7k2p",
    "io.kubernetes.cri.sandbox-namespace": "kube-system",
    "io.kubernetes.cri.sandbox-uid": "9a1c0d52-0b9e-4f0c-8a43-1f1b2b3c4d5e"
  },
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
      {"type": "network", "path": "/var/run/netns/cni-1b2c3d4e-5f60"}
    ]
  }
})";

constexpr char kCrioSandbox[] = R"({
  "annotations": {
    "io.kubernetes.cri-o.ContainerType": "sandbox",
    "io.kubernetes.pod.name": "web-0",
    "io.kubernetes.pod.namespace": "default",
    "io.kubernetes.pod.uid": "11111111-2222-3333-4444-555555555555"
  },
  "linux": {"namespaces": [{"type": "network", "path": "/var/run/netns/x"}]}
})";

TEST(OciBundle, ContainerdSandbox) {
  OciBundleResult r = ParseOciBundleConfig(kContainerdSandbox);
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_TRUE(r.error.empty());
  ASSERT_TRUE(r.config->pod);
  const PodInfo& pod = *r.config->pod;
  EXPECT_EQ(pod.name, "coredns-5d78c9869d-x7k2p");
  EXPECT_EQ(pod.pod_namespace, "kube-system");
  EXPECT_EQ(pod.uid, "9a1c0d52-0b9e-4f0c-8a43-1f1b2b3c4d5e");
  EXPECT_TRUE(pod.is_sandbox());
  EXPECT_EQ(pod.runtime, PodRuntime::kContainerd);
  EXPECT_STREQ(PodRuntimeName(pod.runtime), "containerd");
  EXPECT_EQ(r.config->netns_path, "/var/run/netns/cni-1b2c3d4e-5f60");
}

TEST(OciBundle, CrioSandbox) {
  OciBundleResult r = ParseOciBundleConfig(kCrioSandbox);
  ASSERT_TRUE(r.config) << r.error;
  ASSERT_TRUE(r.config->pod);
  EXPECT_EQ(r.config->pod->name, "web-0");
  EXPECT_EQ(r.config->pod->pod_namespace, "default");
  EXPECT_EQ(r.config->pod->uid, "11111111-2222-3333-4444-555555555555");
  EXPECT_TRUE(r.config->pod->is_sandbox());
  EXPECT_EQ(r.config->pod->runtime, PodRuntime::kCrio);
  EXPECT_STREQ(PodRuntimeName(r.config->pod->runtime), "cri-o");
  EXPECT_EQ(r.config->netns_path, "/var/run/netns/x");
}

TEST(OciBundle, AContainerOfAPodIsNotTheSandbox) {
  OciBundleResult r = ParseOciBundleConfig(R"({"annotations": {
      "io.kubernetes.cri.container-type": "container",
      "io.kubernetes.cri.sandbox-name": "p", "io.kubernetes.cri.sandbox-namespace": "n"}})");
  ASSERT_TRUE(r.config && r.config->pod) << r.error;
  EXPECT_FALSE(r.config->pod->is_sandbox());
  EXPECT_EQ(r.config->netns_path, "");
}

TEST(OciBundle, NoAnnotationsIsNoPod) {
  for (const char* text :
       {R"({})", R"({"annotations": {}})",
        R"({"annotations": {"org.opencontainers.image.title": "x"}})",
        R"({"linux": {"namespaces": [{"type": "network"}]}})"}) {
    OciBundleResult r = ParseOciBundleConfig(text);
    ASSERT_TRUE(r.config) << text << ": " << r.error;
    EXPECT_FALSE(r.config->pod) << text;
    EXPECT_EQ(r.config->netns_path, "") << text;
  }
}

TEST(OciBundle, RefusesWrongTypesWithAReason) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"", "config.json is not valid JSON"},
      {"{", "config.json is not valid JSON"},
      {"{\"a\": \"\xff\"}", "config.json is not valid JSON"},
      {"[]", "config.json is not a JSON object"},
      {R"({"annotations": []})", "annotations is not an object"},
      {R"({"annotations": {"io.kubernetes.cri.sandbox-name": 1}})",
       "annotation io.kubernetes.cri.sandbox-name is not a string"},
      {R"({"annotations": {"io.kubernetes.pod.uid": null}})",
       "annotation io.kubernetes.pod.uid is not a string"},
      {R"({"linux": 1})", "linux is not an object"},
      {R"({"linux": {"namespaces": {}}})", "linux.namespaces is not an array"},
      {R"({"linux": {"namespaces": [1]}})",
       "linux.namespaces has an entry that is not an object"},
      {R"({"linux": {"namespaces": [{"type": 1}]}})",
       "linux.namespaces has an entry without a string type"},
      {R"({"linux": {"namespaces": [{"type": "network", "path": 7}]}})",
       "linux.namespaces network path is not a string"},
  };
  for (const Case& c : cases) {
    OciBundleResult r = ParseOciBundleConfig(c.text);
    EXPECT_FALSE(r.config) << c.text;
    EXPECT_EQ(r.error, c.error) << c.text;
  }
}

TEST(OciBundle, RefusesTooLargeInputAndLongValues) {
  std::string big = "{\"a\": \"" + std::string(kMaxOciConfigBytes, 'x') + "\"}";
  OciBundleResult r = ParseOciBundleConfig(big);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error, "config.json is over 1048576 bytes");

  std::string long_name = R"({"annotations": {"io.kubernetes.pod.name": ")" +
                          std::string(kMaxOciAnnotationBytes + 1, 'p') + "\"}}";
  r = ParseOciBundleConfig(long_name);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error, "annotation io.kubernetes.pod.name is over 1024 bytes");
}

TEST(OciBundle, DeepNestingIsJustInvalidOrIgnored) {
  std::string deep(200000, '[');
  EXPECT_FALSE(ParseOciBundleConfig(deep).config);
  std::string balanced =
      "{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  OciBundleResult r = ParseOciBundleConfig(balanced);
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_FALSE(r.config->pod);
}

TEST(OciBundle, LoadNamesThePathOnError) {
  OciBundleResult r = LoadOciBundleConfig("/nonexistent/config.json");
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.rfind("/nonexistent/config.json: ", 0), 0u) << r.error;
}

}  // namespace
}  // namespace ctcollect
