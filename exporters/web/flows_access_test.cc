#include "exporters/web/flows_access.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

TEST(FlowsAccess, DefaultIsLocalUnlessEveryClientAuthenticates) {
  EXPECT_EQ(ResolveFlowsApi("", false), FlowsApi::kLocal);
  EXPECT_EQ(ResolveFlowsApi("", true), FlowsApi::kAll);
  EXPECT_EQ(ResolveFlowsApi("local", true), FlowsApi::kLocal);
  EXPECT_EQ(ResolveFlowsApi("all", false), FlowsApi::kAll);
  EXPECT_EQ(ResolveFlowsApi("off", true), FlowsApi::kOff);
}

TEST(FlowsAccess, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a : {"198.18.0.2", "10.127.0.1", "::2", "::ffff:10.0.0.1",
                        "", "1270.0.0.1", "fe80::1"}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
}

TEST(FlowsAccess, WhoGetsTheFlowEndpoints) {
  EXPECT_TRUE(FlowsAllowed(FlowsApi::kLocal, "127.0.0.1"));
  EXPECT_FALSE(FlowsAllowed(FlowsApi::kLocal, "198.18.0.2"));
  EXPECT_TRUE(FlowsAllowed(FlowsApi::kAll, "198.18.0.2"));
  EXPECT_FALSE(FlowsAllowed(FlowsApi::kOff, "127.0.0.1"));
  EXPECT_TRUE(RevealsAddresses("/api/v1/flows"));
  EXPECT_TRUE(RevealsAddresses("/api/v1/flows/"));
  EXPECT_FALSE(RevealsAddresses("/api/v1/flowsx"));
  EXPECT_TRUE(RevealsAddresses("/api/v1/top"));
  EXPECT_TRUE(RevealsAddresses("/api/v1/top?by=src"));
  EXPECT_FALSE(RevealsAddresses("/api/v1/topx"));
  EXPECT_FALSE(RevealsAddresses("/api/v1/stats"));
  EXPECT_FALSE(RevealsAddresses("/api/v1/stats"));
  EXPECT_FALSE(RevealsAddresses("/metrics"));
  // One line, naming the flag.
  for (FlowsApi a : {FlowsApi::kLocal, FlowsApi::kOff}) {
    const std::string r = FlowsRefusal(a);
    EXPECT_EQ(r.find('\n'), r.size() - 1);
    EXPECT_NE(r.find("--web.flows-api"), std::string::npos);
  }
}

}  // namespace
}  // namespace ctcollect
