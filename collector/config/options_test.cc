#include "collector/config/options.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

DaemonOptions Parse(std::vector<std::string> a) {
  return ParseDaemonOptions(a);
}

TEST(DaemonOptions, Defaults) {
  DaemonOptions o = Parse({});
  ASSERT_EQ(o.listen_addresses.size(), 1u);
  EXPECT_EQ(o.listen_addresses[0], ":10034");
  EXPECT_EQ(o.telemetry_path, "/metrics");
  EXPECT_EQ(o.resync_interval, std::chrono::seconds(60));
  EXPECT_TRUE(o.netns.empty());
}

TEST(DaemonOptions, BothFlagSyntaxesAndRepeats) {
  DaemonOptions o = Parse(
      {"--web.listen-address=127.0.0.1:1", "--web.listen-address", "[::1]:2",
       "--netns", "a", "--netns=/proc/1/ns/net", "--resync-interval=1m30s",
       "--netlink.buffer-size=8M", "--netlink.buffer-max=1GiB",
       "--log.level=debug", "--web.telemetry-path=/m"});
  EXPECT_EQ(o.listen_addresses.size(), 2u);
  EXPECT_EQ(o.netns, (std::vector<std::string>{"a", "/proc/1/ns/net"}));
  EXPECT_EQ(o.resync_interval, std::chrono::seconds(90));
  EXPECT_EQ(o.buffer_size, 8u << 20);
  EXPECT_EQ(o.buffer_max, 1u << 30);
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
  EXPECT_EQ(o.telemetry_path, "/m");
}

TEST(DaemonOptions, BadInputIsAConfigError) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--nope"},
           {"--resync-interval=10"},
           {"--resync-interval=0s"},
           {"--resync-interval=5x"},
           {"--netlink.buffer-size=12Q"},
           {"--netlink.buffer-size=100"},
           {"--netlink.buffer-size=64M", "--netlink.buffer-max=16M"},
           {"--web.listen-address=nohostport"},
           {"--web.listen-address=1.2.3.4:99999"},
           {"--web.listen-address=[::1:80"},
           {"--web.listen-address=example.com:80"},
           {"--web.telemetry-path=metrics"},
           {"--web.flows-api=everyone"},
           {"--web.flows-api=LOCAL"},
           {"--log.level=loud"},
           {"--netns="},
           {"--netns"},
       }) {
    EXPECT_THROW(Parse(args), ConfigError) << args[0];
  }
}

TEST(DaemonOptions, FlowsApi) {
  EXPECT_EQ(Parse({}).flows_api, "");
  for (const char* v : {"local", "all", "off"}) {
    EXPECT_EQ(Parse({std::string("--web.flows-api=") + v}).flows_api, v);
  }
}

TEST(DaemonOptions, ErrorMessagesNameTheFlag) {
  try {
    Parse({"--resync-interval=abc"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--resync-interval"),
              std::string::npos);
  }
}

TEST(DaemonOptions, ListenAddressesInCivetwebSyntax) {
  EXPECT_EQ(NormalizeListenAddress("f", ":10034"), "10034");
  EXPECT_EQ(NormalizeListenAddress("f", "127.0.0.1:9"), "127.0.0.1:9");
  EXPECT_EQ(NormalizeListenAddress("f", "localhost:9"), "127.0.0.1:9");
  EXPECT_EQ(NormalizeListenAddress("f", "[::1]:9"), "[::1]:9");
}

TEST(DaemonOptions, Durations) {
  EXPECT_EQ(ParseDuration("f", "500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(ParseDuration("f", "2h"), std::chrono::hours(2));
  EXPECT_EQ(ParseDuration("f", "1d"), std::chrono::hours(24));
  EXPECT_THROW(ParseDuration("f", ""), ConfigError);
  EXPECT_THROW(ParseDuration("f", "99999999999999999999s"), ConfigError);
}

}  // namespace
}  // namespace ctcollect
