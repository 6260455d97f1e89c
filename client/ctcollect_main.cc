// ctcollect: the command-line client. Composition root: parses the command,
// picks the socket, sends the request (client_requests.h) and prints the
// reply.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "client/client_options.h"
#include "client/client_requests.h"
#include "client/top_ranking_view.h"
#include "client/top_view.h"
#include "collector/base/version.h"
#include "collector/control/control_client.h"
#include "collector/control/control_protocol.h"

namespace {

using ctcollect::ClientCommand;

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctcollect: %s\n", msg.c_str());
  return 1;  // as conntrackd's client
}

// Sends a request and copies the body to stdout.
int Run(const std::string& socket, const ctcollect::ClientRequest& req) {
  auto r = ctcollect::ControlRequestTo(
      socket, req.verb, req.args,
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
  std::optional<ctcollect::ClientRequest> request;
  try {
    cmd = ctcollect::ParseClientCommand(
        std::vector<std::string>(argv + 1, argv + argc));
    request = ctcollect::RequestFor(cmd);
    socket = cmd.socket;
    if (socket.empty() && !cmd.config.empty()) {
      socket = ctcollect::SocketPathFromConfig(cmd.config);
    }
  } catch (const ctcollect::ClientUsageError& e) {
    return Fail(e.what());
  }
  if (socket.empty()) {
    const char* env = std::getenv("CTCOLLECT_SOCKET");
    socket = env && *env ? env : ctcollect::kDefaultControlSocket;
  }
  switch (cmd.action) {
    case A::kHelp:
      std::fputs(ctcollect::ClientUsage().c_str(), stdout);
      return 0;
    case A::kVersion:
      std::printf("ctcollect %s\n", ctcollect::kVersion);
      return 0;
    case A::kTop:
      if (!request) return ctcollect::RunTop(socket, cmd.once);
      if (cmd.json) return Run(socket, *request);
      return ctcollect::RunTopRanking(socket, request->args, cmd.once);
    case A::kFlushKernel:
      if (!cmd.yes &&
          !Confirm("Flush the kernel's conntrack table? Every tracked "
                   "connection is forgotten.")) {
        return Fail("not flushing (confirm, or pass --yes)");
      }
      break;
    default:
      break;
  }
  return request ? Run(socket, *request) : 1;
}
