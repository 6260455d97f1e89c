#include "client/client_options.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <sstream>

#include "collector/control/control_protocol.h"

namespace ctcollect {
namespace {

bool TakesOptionalWord(const std::vector<std::string>& a, size_t i) {
  return i + 1 < a.size() && !a[i + 1].empty() && a[i + 1][0] != '-';
}

void SetAction(ClientCommand* c, bool* set, ClientCommand::Action a,
               const std::string& flag) {
  if (*set && c->action != a) {
    throw ClientUsageError("only one command at a time (" + flag +
                           " given with another)");
  }
  c->action = a;
  *set = true;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

int StatsSectionCode(const std::string& section) {
  static const std::map<std::string, int> kCodes = {{"", kStats},
                                                    {"general", kStats},
                                                    {"ct", kStats},
                                                    {"network", kStatsNetwork},
                                                    {"cache", kStatsCache},
                                                    {"runtime", kStatsRuntime},
                                                    {"link", kStatsLink},
                                                    {"multicast", kStatsLink},
                                                    {"rsqueue", kStatsRsqueue},
                                                    {"process", kStatsProcess},
                                                    {"queue", kStatsQueue},
                                                    {"expect", kExpStats}};
  auto it = kCodes.find(section);
  if (it == kCodes.end()) {
    throw ClientUsageError("unknown -s section \"" + section +
                           "\" (general, network, cache, runtime, link, "
                           "rsqueue, process, queue, ct, expect)");
  }
  return it->second;
}

ClientCommand ParseClientCommand(const std::vector<std::string>& a) {
  ClientCommand c;
  bool set = false;
  using A = ClientCommand::Action;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& f = a[i];
    auto word = [&](const std::vector<std::string>& allowed) {
      if (!TakesOptionalWord(a, i)) return std::string();
      std::string w = a[++i];
      for (const auto& ok : allowed) {
        if (w == ok) return w;
      }
      throw ClientUsageError("unknown argument \"" + w + "\" for " + f);
    };
    if (f == "top") {
      SetAction(&c, &set, A::kTop, f);
    } else if (f == "stats") {
      SetAction(&c, &set, A::kStatsJson, f);
    } else if (f == "advise") {
      SetAction(&c, &set, A::kAdvise, f);
    } else if (f == "--quantile" || f == "--min-flows" || f == "--limit") {
      if (i + 1 >= a.size()) throw ClientUsageError(f + " needs a value");
      (f == "--quantile"    ? c.quantile
       : f == "--min-flows" ? c.min_flows
                            : c.top_limit) = a[++i];
    } else if (f == "--by") {
      if (i + 1 >= a.size()) {
        throw ClientUsageError("--by needs src, dst, dport or snat");
      }
      c.top_by = a[++i];
      if (c.top_by != "src" && c.top_by != "dst" && c.top_by != "dport" &&
          c.top_by != "snat") {
        throw ClientUsageError("unknown --by \"" + c.top_by +
                               "\" (src, dst, dport or snat)");
      }
    } else if (f == "--once") {
      c.once = true;
    } else if (f == "helpers") {
      SetAction(&c, &set, A::kHelpers, f);
    } else if (f == "policies") {
      SetAction(&c, &set, A::kPolicies, f);
      if (TakesOptionalWord(a, i)) c.section = a[++i];
    } else if (f.rfind("--netns", 0) == 0) {
      if (f.size() > 7 && f[7] == '=') {
        c.netns = f.substr(8);
      } else if (f == "--netns" && i + 1 < a.size()) {
        c.netns = a[++i];
      } else {
        throw ClientUsageError("--netns needs a name");
      }
    } else if (f == "--json") {
      c.json = true;
    } else if (f == "-s") {
      SetAction(&c, &set, A::kStats, f);
      if (TakesOptionalWord(a, i)) c.section = a[++i];
      StatsSectionCode(c.section);
    } else if (f == "-i") {
      SetAction(&c, &set, A::kDumpInternal, f);
      c.section = word({"ct", "expect"});
    } else if (f == "-e") {
      SetAction(&c, &set, A::kDumpExternal, f);
      c.section = word({"ct", "expect"});
    } else if (f == "-f") {
      SetAction(&c, &set, A::kFlushCache, f);
      c.section = word({"internal", "external"});
    } else if (f == "-F") {
      SetAction(&c, &set, A::kFlushKernel, f);
    } else if (f == "-R") {
      SetAction(&c, &set, A::kResync, f);
    } else if (f == "-B") {
      SetAction(&c, &set, A::kBulkSend, f);
    } else if (f == "-n") {
      SetAction(&c, &set, A::kRequestResync, f);
    } else if (f == "-c") {
      SetAction(&c, &set, A::kCommit, f);
    } else if (f == "-k") {
      SetAction(&c, &set, A::kKill, f);
    } else if (f == "-v" || f == "--version") {
      SetAction(&c, &set, A::kVersion, f);
    } else if (f == "-h" || f == "--help") {
      SetAction(&c, &set, A::kHelp, f);
    } else if (f == "-x") {
      c.xml = true;
    } else if (f == "--yes" || f == "-y") {
      c.yes = true;
    } else if (f == "-o") {
      if (i + 1 >= a.size()) throw ClientUsageError("-o needs a format (json)");
      if (a[++i] != "json") {
        throw ClientUsageError("unknown output format \"" + a[i] +
                               "\" (json; -x for XML)");
      }
      c.json = true;
    } else if (f == "-C") {
      if (i + 1 >= a.size()) throw ClientUsageError("-C needs a config file");
      c.config = a[++i];
    } else if (f.rfind("--control.socket", 0) == 0) {
      if (f.size() > 16 && f[16] == '=') {
        c.socket = f.substr(17);
      } else if (f == "--control.socket" && i + 1 < a.size()) {
        c.socket = a[++i];
      } else {
        throw ClientUsageError("--control.socket needs a path");
      }
    } else {
      throw ClientUsageError("unknown option " + f + " (see ctcollect -h)");
    }
  }
  if (!set) throw ClientUsageError("no command given (see ctcollect -h)");
  if (c.xml && c.json)
    throw ClientUsageError("-x and -o json exclude each other");
  if ((c.xml || c.json) && c.action != A::kDumpInternal &&
      c.action != A::kDumpExternal && c.action != A::kStatsJson &&
      c.action != A::kPolicies && c.action != A::kHelpers &&
      !(c.action == A::kTop && c.json)) {
    throw ClientUsageError(
        "-x and -o json go with -i, -e, policies, helpers or top --by");
  }
  if ((c.action == A::kPolicies || c.action == A::kHelpers) && c.xml) {
    throw ClientUsageError("policies prints nfct's format or -o json");
  }
  if (!c.netns.empty() && c.action != A::kPolicies && c.action != A::kHelpers &&
      c.action != A::kAdvise && !(c.action == A::kTop && !c.top_by.empty())) {
    throw ClientUsageError(
        "--netns goes with policies, helpers, advise or top --by");
  }
  if ((!c.top_by.empty() || c.once) && c.action != A::kTop) {
    throw ClientUsageError("--by and --once go with top");
  }
  if (c.action == A::kStatsJson && !c.json) {
    throw ClientUsageError("ctcollect stats needs --json");
  }
  return c;
}

std::string SocketPathFromConfig(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw ClientUsageError("can't open config file `" + file + "'");
  // conntrackd.conf: General { UNIX { Path /var/run/conntrackd.sock } }
  std::string line;
  bool in_unix = false, conntrackd_format = false;
  while (std::getline(in, line)) {
    std::string t = Trim(line.substr(0, line.find('#')));
    if (t.empty()) continue;
    if (t.find('{') != std::string::npos) conntrackd_format = true;
    if (t.rfind("UNIX", 0) == 0) in_unix = true;
    if (in_unix && t.rfind("Path", 0) == 0) {
      std::string p = Trim(t.substr(4));
      if (!p.empty() && p.back() == '}') p = Trim(p.substr(0, p.size() - 1));
      if (!p.empty()) return p;
    }
    if (in_unix && t.find('}') != std::string::npos) in_unix = false;
  }
  if (conntrackd_format) {
    throw ClientUsageError("config file `" + file +
                           "' names no control socket (UNIX { Path ... })");
  }
  // ctcollectd's YAML: control: socket: PATH (the default when absent).
  // The client reads the control section only (the daemon checks the rest
  // at its start), so it needs none of the daemon's configuration code.
  try {
    YAML::Node root = YAML::LoadFile(file);
    if (!root || root.IsNull()) return kDefaultControlSocket;
    if (!root.IsMap()) {
      throw ClientUsageError("config file `" + file +
                             "' is neither ctcollectd's YAML nor a "
                             "conntrackd.conf");
    }
    YAML::Node control = root["control"];
    if (!control || control.IsNull()) return kDefaultControlSocket;
    if (!control.IsMap()) {
      throw ClientUsageError(file + ": control: expected a mapping");
    }
    for (const auto& kv : control) {
      const std::string key = kv.first.as<std::string>();
      if (key != "socket" && key != "socket_group") {
        throw ClientUsageError(
            file + ":" + std::to_string(kv.first.Mark().line + 1) +
            ": control." + key + ": unknown key (socket, socket_group)");
      }
    }
    YAML::Node path = control["socket"];
    if (!path) return kDefaultControlSocket;
    if (!path.IsScalar() || path.Scalar().empty()) {
      throw ClientUsageError(file + ": control.socket: expected a path");
    }
    return path.Scalar();
  } catch (const YAML::Exception& e) {
    throw ClientUsageError(file + ":" + std::to_string(e.mark.line + 1) + ": " +
                           e.msg);
  }
}

std::string ClientUsage() {
  return R"(Usage: ctcollect [commands] [options]
       ctcollect top [--by src|dst|dport|snat [--limit N] [-o json]]
                     [--netns NAME] [--once]
       ctcollect stats --json
       ctcollect policies [NAME] [--netns NAME] [-o json]
       ctcollect helpers [--netns NAME] [-o json]
       ctcollect advise [--quantile Q] [--min-flows N] [--netns NAME]

Talks to ctcollectd, as conntrackd's client talks to conntrackd.

Commands (as conntrackd's):
  -s [general|network|cache|runtime|link|rsqueue|process|queue|ct|expect]
                    statistics, in conntrackd's layout
  -i [ct|expect]    dump the internal cache: the flows the kernel has now
  -e [ct|expect]    dump the external cache (replication peer mode)
  -f [internal|external]
                    flush a cache (the internal one is rebuilt from a dump)
  -F                flush the kernel's conntrack table (asks first)
  -R                resync with the kernel table now
  -B                bulk-send the internal cache to peers (peer mode)
  -n                ask peers to resync (peer mode)
  -c                commit the external cache to the kernel (peer mode)
  -k                stop the daemon
  -v                version
  -h                this help
Options:
  -x                XML output for -i/-e (as conntrack -L -o xml)
  -o json           JSON output for -i/-e (as /api/v1/flows) and policies
  --yes             do not ask before -F
  -C FILE           take the control socket path from FILE (ctcollectd's
                    YAML config or a conntrackd.conf)
  --control.socket PATH
                    the daemon's control socket (default: $CTCOLLECT_SOCKET,
                    else /run/ctcollectd/ctl.sock)
Subcommands:
  top               live view: entries by protocol and state, event rates,
                    table usage; refreshes every second, q quits
  top --by src|dst|dport|snat
                    who holds the table: the sources, destinations,
                    PROTOCOL/PORT destination ports or SNAT tuples
                    (PROTOCOL/XSRC->DST:PORT) with the most entries, their
                    share and new flows per second; --limit N (default
                    20), --netns NAME, -o json (as /api/v1/top)
  --once            top: print one frame and exit, for scripts
  stats --json      all figures as one JSON document
  policies [NAME]   the kernel's timeout policies in `nfct timeout list`'s
                    format (cttimeout objects first, then nft ct timeout
                    objects as FAMILY/TABLE/NAME, then the defaults);
                    -o json for JSON; --netns NAME picks a namespace
  helpers           the kernel helpers that own flows or expectations now,
                    and the user-space helpers (nfnetlink_cthelper)
  advise            timeout values per state that still cover a quantile
                    (default 0.999) of the flows seen to move on, and what
                    the table would save, as nfct and nft commands
)";
}

}  // namespace ctcollect
