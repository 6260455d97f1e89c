#include "collector/config/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

namespace ctcollect {
namespace {

DaemonOptions Apply(const std::string& text) {
  DaemonOptions o;
  ApplyConfigText(text, "test.yml", &o);
  return o;
}

std::string ErrorOf(const std::string& text) {
  try {
    Apply(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigFile, EveryKeySetsItsOption) {
  DaemonOptions o = Apply(R"(
web:
  listen_address: ["127.0.0.1:9100", ":9101"]
  telemetry_path: /m
  config_file: /etc/ctcollectd/web.yml
conntrack:
  netns: [blue, /proc/1/ns/net]
  resync_interval: 5m
  enable_accounting: true
netlink:
  buffer_size: 64M
  buffer_max: 1G
control:
  socket: /run/x.sock
  socket_group: adm
log:
  level: debug
flow_classes:
  max: 4
  classes:
    - name: postgres
      protocol: tcp
      dport: 5432
    - {name: dns, protocol: udp, dport: 53, dst: 198.18.0.0/15}
)");
  EXPECT_EQ(o.listen_addresses,
            (std::vector<std::string>{"127.0.0.1:9100", ":9101"}));
  EXPECT_EQ(o.telemetry_path, "/m");
  EXPECT_EQ(o.web_config_file, "/etc/ctcollectd/web.yml");
  EXPECT_EQ(o.netns, (std::vector<std::string>{"blue", "/proc/1/ns/net"}));
  EXPECT_EQ(o.resync_interval, std::chrono::minutes(5));
  EXPECT_TRUE(o.enable_accounting);
  EXPECT_EQ(o.buffer_size, 64u << 20);
  EXPECT_EQ(o.buffer_max, 1u << 30);
  EXPECT_EQ(o.control_socket, "/run/x.sock");
  EXPECT_EQ(o.control_socket_group, "adm");
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
  EXPECT_EQ(o.max_flow_classes, 4);
  ASSERT_EQ(o.flow_classes.size(), 2u);
  EXPECT_EQ(o.flow_classes[0].name, "postgres");
  EXPECT_EQ(o.flow_classes[1].dport->lo, 53);
}

TEST(ConfigFile, EmptyFileKeepsDefaults) {
  DaemonOptions o = Apply("");
  EXPECT_EQ(o.resync_interval, std::chrono::seconds(60));
  EXPECT_TRUE(o.flow_classes.empty());
  o = Apply("# only a comment\n");
  EXPECT_EQ(o.control_socket, "/run/ctcollectd/ctl.sock");
}

TEST(ConfigFile, ErrorsNameFileLineAndKey) {
  std::string e = ErrorOf("conntrack:\n  resync_intervl: 5s\n");
  EXPECT_NE(e.find("test.yml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("conntrack.resync_intervl"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;

  e = ErrorOf("netlink:\n  buffer_size: lots\n");
  EXPECT_NE(e.find("netlink.buffer_size"), std::string::npos) << e;
  EXPECT_NE(e.find("lots"), std::string::npos) << e;

  e = ErrorOf("webb:\n  x: 1\n");
  EXPECT_NE(e.find("unknown section"), std::string::npos) << e;
  e = ErrorOf("web: [1, 2]\n");
  EXPECT_NE(e.find("expected a map"), std::string::npos) << e;
  e = ErrorOf("conntrack:\n  enable_accounting: maybe\n");
  EXPECT_NE(e.find("true or false"), std::string::npos) << e;
  e = ErrorOf("web:\n  telemetry_path: [a]\n");
  EXPECT_NE(e.find("single value"), std::string::npos) << e;
  e = ErrorOf("log: {level: [\n");  // not YAML
  EXPECT_NE(e.find("test.yml:"), std::string::npos) << e;
  e = ErrorOf("- just\n- a list\n");
  EXPECT_NE(e.find("expected a map"), std::string::npos) << e;
}

TEST(ConfigFile, ClassErrors) {
  std::string e =
      ErrorOf("flow_classes:\n  classes:\n    - name: a\n      dport: 99999\n");
  EXPECT_NE(e.find("flow_classes.classes[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("dport"), std::string::npos) << e;
  e = ErrorOf("flow_classes:\n  max: 1\n  classes: [{name: a}, {name: b}]\n");
  EXPECT_NE(e.find("more than max"), std::string::npos) << e;
  e = ErrorOf("flow_classes:\n  classes: [{name: a}, {name: a}]\n");
  EXPECT_NE(e.find("defined twice"), std::string::npos) << e;
  e = ErrorOf("flow_classes:\n  max: 256\n");
  EXPECT_NE(e.find("flow_classes.max"), std::string::npos) << e;
  e = ErrorOf("flow_classes:\n  classes: [{name: a, dport: [1]}]\n");
  EXPECT_NE(e.find("single value"), std::string::npos) << e;
}

TEST(ConfigFile, PolicySelectors) {
  DaemonOptions o = Apply(R"(
timeout_policies:
  selectors:
    - {policy: webpol, protocol: tcp, dport: 7301}
    - {policy: inet/ctp/fast, mark: 0x10/0xf0}
)");
  ASSERT_EQ(o.policy_selectors.size(), 2u);
  EXPECT_EQ(o.policy_selectors[0].policy, "webpol");
  EXPECT_EQ(o.policy_selectors[0].match.dport->lo, 7301);
  EXPECT_EQ(o.policy_selectors[1].policy, "inet/ctp/fast");
  std::string e =
      ErrorOf("timeout_policies:\n  selectors:\n    - {protocol: tcp}\n");
  EXPECT_NE(e.find("policy: the timeout policy's name is required"),
            std::string::npos)
      << e;
  e = ErrorOf("timeout_policies:\n  selectors:\n    - {policy: a, dport: x}\n");
  EXPECT_NE(e.find("timeout_policies.selectors[0]: dport"), std::string::npos)
      << e;
  e = ErrorOf("timeout_policies:\n  selector: []\n");
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(ConfigFile, FlagsOverrideTheFile) {
  char path[] = "/tmp/ctcollect-config-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "web:\n  listen_address: [':1', ':2']\n"
                         "conntrack:\n  resync_interval: 5m\n  netns: a\n";
  DaemonOptions o = LoadDaemonOptions(
      {"--config", path, "--web.listen-address=:3", "--resync-interval=10s"});
  EXPECT_EQ(o.listen_addresses, (std::vector<std::string>{":3"}));
  EXPECT_EQ(o.resync_interval, std::chrono::seconds(10));
  EXPECT_EQ(o.netns, (std::vector<std::string>{"a"}));  // from the file
  EXPECT_EQ(o.config_file, path);

  o = LoadDaemonOptions({std::string("--config=") + path});
  EXPECT_EQ(o.listen_addresses, (std::vector<std::string>{":1", ":2"}));
  std::remove(path);
  EXPECT_THROW(LoadDaemonOptions({"--config", path}), ConfigError);
  // No file: defaults and flags only.
  o = LoadDaemonOptions({});
  EXPECT_EQ(o.listen_addresses,
            (std::vector<std::string>{std::string(kDefaultListenAddress)}));
}

// The sample installed to /etc/ctcollectd loads, sets every key, and
// gives the defaults; the README documents every key.
TEST(ConfigFile, SampleLoadsAndDocumentsEveryKey) {
  const std::string sample =
      std::string(CTCOLLECT_SOURCE_DIR) + "/systemd/ctcollectd.conf";
  DaemonOptions o;
  ApplyConfigFile(sample, &o);
  DaemonOptions defaults;
  EXPECT_EQ(o.resync_interval, defaults.resync_interval);
  EXPECT_EQ(o.buffer_size, defaults.buffer_size);
  EXPECT_EQ(o.control_socket, defaults.control_socket);
  EXPECT_EQ(o.max_flow_classes, defaults.max_flow_classes);
  std::ifstream in(sample);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::ifstream rin(std::string(CTCOLLECT_SOURCE_DIR) + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(rin)), {});
  for (const std::string& key : ConfigKeys()) {
    std::string leaf = key.substr(key.find('.') + 1);
    EXPECT_NE(text.find("  " + leaf + ":"), std::string::npos) << key;
    EXPECT_NE(readme.find("`" + key + "`"), std::string::npos)
        << key << " is not documented in README.md";
  }
}

}  // namespace
}  // namespace ctcollect
