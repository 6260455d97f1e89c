#include "client/client_requests.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/control/control_protocol.h"

namespace ctcollect {
namespace {

ClientRequest R(const std::vector<std::string>& args) {
  auto r = RequestFor(ParseClientCommand(args));
  EXPECT_TRUE(r.has_value());
  return r.value_or(ClientRequest{});
}

TEST(ClientRequests, StatsSectionsAreConntrackdRequestCodes) {
  EXPECT_EQ(R({"-s"}),
            (ClientRequest{"conntrackd", {{"code", std::to_string(kStats)}}}));
  EXPECT_EQ(R({"-s", "network"}).verb, "conntrackd");
  EXPECT_NE(R({"-s", "network"}).args.at("code"), R({"-s"}).args.at("code"));
  EXPECT_EQ(R({"stats", "--json"}),
            (ClientRequest{"stats", {{"format", "json"}}}));
}

TEST(ClientRequests, DumpsPickTheirFormat) {
  EXPECT_EQ(R({"-i"}), (ClientRequest{"flows", {{"format", "conntrackd"}}}));
  EXPECT_EQ(R({"-i", "-x"}), (ClientRequest{"flows", {{"format", "xml"}}}));
  EXPECT_EQ(R({"-i", "-o", "json"}),
            (ClientRequest{"flows", {{"format", "json"}}}));
  EXPECT_EQ(R({"-i", "expect"}),
            (ClientRequest{"expectations", {{"format", "plain"}}}));
  EXPECT_EQ(R({"-i", "expect", "-x"}),
            (ClientRequest{"expectations", {{"format", "xml"}}}));
  EXPECT_EQ(R({"-e"}), (ClientRequest{"external", {{"format", "conntrackd"}}}));
  EXPECT_EQ(R({"-e", "-x"}), (ClientRequest{"external", {{"format", "xml"}}}));
  EXPECT_EQ(R({"-e", "expect"}),
            (ClientRequest{"external",
                           {{"what", "expect"}, {"format", "conntrackd"}}}));
  EXPECT_THROW(RequestFor(ParseClientCommand({"-i", "expect", "-o", "json"})),
               ClientUsageError);
  EXPECT_THROW(RequestFor(ParseClientCommand({"-e", "expect", "-o", "json"})),
               ClientUsageError);
}

TEST(ClientRequests, SubcommandsCarryTheirOptions) {
  EXPECT_EQ(R({"policies", "webpol", "--netns", "a", "-o", "json"}),
            (ClientRequest{
                "policies",
                {{"format", "json"}, {"name", "webpol"}, {"netns", "a"}}}));
  EXPECT_EQ(R({"policies"}), (ClientRequest{"policies", {{"format", "nfct"}}}));
  EXPECT_EQ(R({"helpers", "--netns", "b"}),
            (ClientRequest{"helpers", {{"format", "text"}, {"netns", "b"}}}));
  EXPECT_EQ(
      R({"advise", "--quantile", "0.99", "--min-flows", "5"}),
      (ClientRequest{"advise", {{"quantile", "0.99"}, {"min_samples", "5"}}}));
}

TEST(ClientRequests, OperatorCommands) {
  EXPECT_EQ(R({"-f"}).verb, "flush-cache");
  EXPECT_EQ(R({"-f", "internal"}).verb, "flush-cache");
  EXPECT_EQ(R({"-f", "external"}).verb, "flush-external");
  EXPECT_EQ(R({"-F"}).verb, "flush-kernel");
  EXPECT_EQ(R({"-R"}).verb, "resync");
  EXPECT_EQ(R({"-B"}).verb, "bulk");
  EXPECT_EQ(R({"-n"}).verb, "request-resync");
  EXPECT_EQ(R({"-c"}).verb, "commit");
  EXPECT_EQ(R({"-k"}).verb, "kill");
}

TEST(ClientRequests, TheClientAnswersHelpVersionAndTopItself) {
  for (auto a :
       std::vector<std::vector<std::string>>{{"-h"}, {"-v"}, {"top"}}) {
    EXPECT_FALSE(RequestFor(ParseClientCommand(a)).has_value()) << a[0];
  }
}

}  // namespace
}  // namespace ctcollect
