// ctcollect: the command-line client. Composition root: parses the command,
// picks the socket, sends the request and prints the reply.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "collector/client_options.h"
#include "collector/control_client.h"
#include "collector/top_view.h"
#include "collector/version.h"

namespace {

using ctcollect::ClientCommand;

constexpr const char* kDefaultSocket = "/run/ctcollectd/ctl.sock";

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctcollect: %s\n", msg.c_str());
  return 1;  // as conntrackd's client
}

// Sends a request and copies the body to stdout.
int Run(const std::string& socket, const std::string& verb,
        const std::map<std::string, std::string>& args) {
  auto r = ctcollect::ControlRequestTo(
      socket, verb, args,
      [](std::string_view c) { std::fwrite(c.data(), 1, c.size(), stdout); });
  std::fflush(stdout);
  return r.error.empty() ? 0 : Fail(r.error);
}

bool Confirm(const std::string& question) {
  if (!isatty(STDIN_FILENO)) return false;
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

int main(int argc, char** argv) {
  using A = ClientCommand::Action;
  ClientCommand cmd;
  std::string socket;
  try {
    cmd = ctcollect::ParseClientCommand(
        std::vector<std::string>(argv + 1, argv + argc));
    socket = cmd.socket;
    if (socket.empty() && !cmd.config.empty()) {
      socket = ctcollect::SocketPathFromConfig(cmd.config);
    }
  } catch (const ctcollect::ClientUsageError& e) {
    return Fail(e.what());
  }
  if (socket.empty()) {
    const char* env = std::getenv("CTCOLLECT_SOCKET");
    socket = env && *env ? env : kDefaultSocket;
  }
  switch (cmd.action) {
    case A::kHelp:
      std::fputs(ctcollect::ClientUsage().c_str(), stdout);
      return 0;
    case A::kVersion:
      std::printf("ctcollect %s\n", ctcollect::kVersion);
      return 0;
    case A::kStats:
      return Run(
          socket, "conntrackd",
          {{"code", std::to_string(ctcollect::StatsSectionCode(cmd.section))}});
    case A::kStatsJson:
      return Run(socket, "stats", {{"format", "json"}});
    case A::kTop:
      return ctcollect::RunTop(socket);
    case A::kAdvise: {
      std::map<std::string, std::string> args;
      if (!cmd.quantile.empty()) args["quantile"] = cmd.quantile;
      if (!cmd.min_flows.empty()) args["min_samples"] = cmd.min_flows;
      if (!cmd.netns.empty()) args["netns"] = cmd.netns;
      return Run(socket, "advise", args);
    }
    case A::kHelpers: {
      std::map<std::string, std::string> args = {
          {"format", cmd.json ? "json" : "text"}};
      if (!cmd.netns.empty()) args["netns"] = cmd.netns;
      return Run(socket, "helpers", args);
    }
    case A::kPolicies: {
      std::map<std::string, std::string> args = {
          {"format", cmd.json ? "json" : "nfct"}};
      if (!cmd.section.empty()) args["name"] = cmd.section;
      if (!cmd.netns.empty()) args["netns"] = cmd.netns;
      return Run(socket, "policies", args);
    }
    case A::kDumpInternal:
      if (cmd.section == "expect") {
        if (cmd.json) return Fail("-o json is for flows; use -x for XML");
        return Run(socket, "expectations",
                   {{"format", cmd.xml ? "xml" : "plain"}});
      }
      return Run(socket, "flows",
                 {{"format", cmd.json  ? "json"
                             : cmd.xml ? "xml"
                                       : "conntrackd"}});
    case A::kDumpExternal:
      if (cmd.section == "expect") {
        if (cmd.json) return Fail("-o json is for flows; use -x for XML");
        return Run(
            socket, "external",
            {{"what", "expect"}, {"format", cmd.xml ? "xml" : "conntrackd"}});
      }
      return Run(socket, "external",
                 {{"format", cmd.json  ? "json"
                             : cmd.xml ? "xml"
                                       : "conntrackd"}});
    case A::kFlushCache:
      if (cmd.section == "external") return Run(socket, "flush-external", {});
      return Run(socket, "flush-cache", {});
    case A::kFlushKernel:
      if (!cmd.yes &&
          !Confirm("Flush the kernel's conntrack table? Every tracked "
                   "connection is forgotten.")) {
        return Fail("not flushing (confirm, or pass --yes)");
      }
      return Run(socket, "flush-kernel", {});
    case A::kResync:
      return Run(socket, "resync", {});
    case A::kBulkSend:
      return Run(socket, "bulk", {});
    case A::kRequestResync:
      return Run(socket, "request-resync", {});
    case A::kCommit:
      return Run(socket, "commit", {});
    case A::kKill:
      return Run(socket, "kill", {});
  }
  return 1;
}
