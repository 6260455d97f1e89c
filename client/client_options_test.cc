#include "client/client_options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "collector/control/control_protocol.h"

namespace ctcollect {
namespace {

using A = ClientCommand::Action;

ClientCommand P(std::vector<std::string> a) { return ParseClientCommand(a); }

TEST(ClientOptions, ConntrackdFlags) {
  EXPECT_EQ(P({"-s"}).action, A::kStats);
  EXPECT_EQ(P({"-s"}).section, "");
  EXPECT_EQ(P({"-s", "runtime"}).section, "runtime");
  EXPECT_EQ(StatsSectionCode("runtime"), kStatsRuntime);
  EXPECT_EQ(StatsSectionCode(""), kStats);
  EXPECT_EQ(StatsSectionCode("ct"), kStats);
  EXPECT_EQ(StatsSectionCode("expect"), kExpStats);
  auto x = P({"-i", "-x"});
  EXPECT_EQ(x.action, A::kDumpInternal);
  EXPECT_TRUE(x.xml);
  auto j = P({"-i", "ct", "-o", "json"});
  EXPECT_TRUE(j.json);
  EXPECT_EQ(j.section, "ct");
  EXPECT_EQ(P({"-f", "internal"}).section, "internal");
  EXPECT_EQ(P({"-F", "--yes"}).yes, true);
  EXPECT_EQ(P({"-R"}).action, A::kResync);
  EXPECT_EQ(P({"-k"}).action, A::kKill);
  EXPECT_EQ(P({"-v"}).action, A::kVersion);
  EXPECT_EQ(P({"-s", "--control.socket", "/x"}).socket, "/x");
  EXPECT_EQ(P({"-s", "--control.socket=/y"}).socket, "/y");
  EXPECT_EQ(P({"top"}).action, A::kTop);
  EXPECT_EQ(P({"--control.socket", "/s", "top"}).action, A::kTop);
  EXPECT_EQ(P({"stats", "--json"}).action, A::kStatsJson);
}

TEST(ClientOptions, Errors) {
  for (auto a : std::vector<std::vector<std::string>>{
           {},
           {"-s", "bogus"},
           {"-i", "nope"},
           {"-s", "-i"},
           {"-Z"},
           {"-o", "yaml", "-i"},
           {"-x", "-s"},
           {"-i", "-x", "-o", "json"},
           {"stats"},
           {"-C"},
       }) {
    EXPECT_THROW(P(a), ClientUsageError) << (a.empty() ? "" : a[0]);
  }
}

TEST(ClientOptions, SocketFromConntrackdConfAndYaml) {
  std::string f1 = ::testing::TempDir() + "/ctd.conf";
  std::ofstream(f1)
      << "General {\n\tUNIX {\n\t\tPath /var/run/ct.sock\n\t}\n}\n";
  EXPECT_EQ(SocketPathFromConfig(f1), "/var/run/ct.sock");
  std::string f2 = ::testing::TempDir() + "/ctc.yml";
  std::ofstream(f2)
      << "# sample\nweb:\n  listen_address: :1\ncontrol:\n  socket: "
         "\"/run/a.sock\"\n";
  EXPECT_EQ(SocketPathFromConfig(f2), "/run/a.sock");
  std::string f3 = ::testing::TempDir() + "/none.yml";
  std::ofstream(f3) << "control:\n  sockett: /wrong\n";  // no such key
  EXPECT_THROW(SocketPathFromConfig(f3), ClientUsageError);
  std::string f4 = ::testing::TempDir() + "/default.yml";
  std::ofstream(f4) << "log:\n  level: info\n";
  EXPECT_EQ(SocketPathFromConfig(f4), "/run/ctcollectd/ctl.sock");
  std::string f5 = ::testing::TempDir() + "/ctd.conf";
  std::ofstream(f5) << "General {\n  Syslog on\n}\n";
  EXPECT_THROW(SocketPathFromConfig(f5), ClientUsageError);
  EXPECT_THROW(SocketPathFromConfig("/nonexistent/file"), ClientUsageError);
}

}  // namespace
}  // namespace ctcollect
