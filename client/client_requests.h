// What `ctcollect` asks the daemon for each command line: the control
// request (a CTC1 verb and its arguments) that answers a parsed
// ClientCommand. Kept apart from main so the mapping is unit-tested.
//
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "client/client_options.h"

namespace ctcollect {

struct ClientRequest {
  std::string verb;
  std::map<std::string, std::string> args;
  bool operator==(const ClientRequest&) const = default;
};

// The request for `c`, or nullopt for the commands the client answers
// without a plain request (help, version, top). Throws ClientUsageError
// for a combination the daemon has no answer to.
std::optional<ClientRequest> RequestFor(const ClientCommand& c);

}  // namespace ctcollect
