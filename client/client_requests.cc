#include "client/client_requests.h"

namespace ctcollect {

std::optional<ClientRequest> RequestFor(const ClientCommand& c) {
  using A = ClientCommand::Action;
  const char* flow_format = c.json ? "json" : c.xml ? "xml" : "conntrackd";
  switch (c.action) {
    case A::kHelp:
    case A::kVersion:
      return std::nullopt;
    case A::kTop: {
      if (c.top_by.empty()) {
        if (c.json) {
          throw ClientUsageError(
              "top -o json needs --by (for every figure: stats --json)");
        }
        if (!c.top_limit.empty()) throw ClientUsageError("--limit needs --by");
        return std::nullopt;  // the live view of `stats format=flat`
      }
      ClientRequest r{"top",
                      {{"by", c.top_by},
                       {"limit", c.top_limit.empty() ? "20" : c.top_limit},
                       {"format", c.json ? "json" : "flat"}}};
      if (!c.netns.empty()) r.args["netns"] = c.netns;
      return r;
    }
    case A::kStats:
      return ClientRequest{
          "conntrackd",
          {{"code", std::to_string(StatsSectionCode(c.section))}}};
    case A::kStatsJson:
      return ClientRequest{"stats", {{"format", "json"}}};
    case A::kAdvise: {
      ClientRequest r{"advise", {}};
      if (!c.quantile.empty()) r.args["quantile"] = c.quantile;
      if (!c.min_flows.empty()) r.args["min_samples"] = c.min_flows;
      if (!c.netns.empty()) r.args["netns"] = c.netns;
      return r;
    }
    case A::kHelpers: {
      ClientRequest r{"helpers", {{"format", c.json ? "json" : "text"}}};
      if (!c.netns.empty()) r.args["netns"] = c.netns;
      return r;
    }
    case A::kPolicies: {
      ClientRequest r{"policies", {{"format", c.json ? "json" : "nfct"}}};
      if (!c.section.empty()) r.args["name"] = c.section;
      if (!c.netns.empty()) r.args["netns"] = c.netns;
      return r;
    }
    case A::kDumpInternal:
      if (c.section == "expect") {
        if (c.json) {
          throw ClientUsageError("-o json is for flows; use -x for XML");
        }
        return ClientRequest{"expectations",
                             {{"format", c.xml ? "xml" : "plain"}}};
      }
      return ClientRequest{"flows", {{"format", flow_format}}};
    case A::kDumpExternal:
      if (c.section == "expect") {
        if (c.json) {
          throw ClientUsageError("-o json is for flows; use -x for XML");
        }
        return ClientRequest{
            "external",
            {{"what", "expect"}, {"format", c.xml ? "xml" : "conntrackd"}}};
      }
      return ClientRequest{"external", {{"format", flow_format}}};
    case A::kFlushCache:
      return ClientRequest{
          c.section == "external" ? "flush-external" : "flush-cache", {}};
    case A::kFlushKernel:
      return ClientRequest{"flush-kernel", {}};
    case A::kResync:
      return ClientRequest{"resync", {}};
    case A::kBulkSend:
      return ClientRequest{"bulk", {}};
    case A::kRequestResync:
      return ClientRequest{"request-resync", {}};
    case A::kCommit:
      return ClientRequest{"commit", {}};
    case A::kKill:
      return ClientRequest{"kill", {}};
  }
  return std::nullopt;
}

}  // namespace ctcollect
