// Command line of `ctcollect`: conntrackd's client flags with their meaning
// (-s, -i, -e, -x, -f, -F, -R, -B, -n, -c, -k, -v, -h, -C) plus our own
// (-o json, --yes, --control.socket, subcommands `top [--by ...]`,
// `stats`, `policies`, `helpers` and `advise`).
// Parsing is pure: ClientUsageError carries the one line to print.
//
// Pure functions; thread-safe.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace ctcollect {

class ClientUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClientCommand {
  enum class Action {
    kStats,          // -s [section]
    kDumpInternal,   // -i [ct|expect]
    kDumpExternal,   // -e [ct|expect]
    kFlushCache,     // -f [internal|external]
    kFlushKernel,    // -F
    kResync,         // -R
    kBulkSend,       // -B
    kRequestResync,  // -n
    kCommit,         // -c
    kKill,           // -k
    kVersion,        // -v
    kHelp,           // -h
    kTop,            // top
    kStatsJson,      // stats --json
    kPolicies,       // policies [NAME]
    kHelpers,        // helpers
    kAdvise,         // advise [--quantile Q] [--min-flows N]
  };
  Action action = Action::kHelp;
  std::string section;    // -s section ("" = general), -i/-e: ct|expect,
                          // -f: internal|external|"", policies: NAME|""
  std::string netns;      // --netns NAME (policies, helpers, advise)
  std::string quantile;   // advise --quantile (default 0.999)
  std::string min_flows;  // advise --min-flows (default 10)
  std::string top_by;     // top --by src|dst|dport|snat
  std::string top_limit;  // top --limit N
  bool once = false;      // top --once: one frame, for scripts
  bool xml = false;       // -x
  bool json = false;      // -o json
  bool yes = false;       // --yes
  std::string socket;     // --control.socket, else $CTCOLLECT_SOCKET
  std::string config;     // -C FILE
};

ClientCommand ParseClientCommand(const std::vector<std::string>& args);
std::string ClientUsage();

// conntrackd's request code for a `-s` section; throws ClientUsageError
// for an unknown section.
int StatsSectionCode(const std::string& section);

// The control socket path named by a config file: a conntrackd.conf
// (`UNIX { Path ... }`) or ctcollectd's YAML (`control: socket: ...`).
// Throws ClientUsageError if the file cannot be read or names none.
std::string SocketPathFromConfig(const std::string& file);

}  // namespace ctcollect
