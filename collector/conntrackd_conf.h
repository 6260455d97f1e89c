// Reads an existing conntrackd.conf (conntrack-tools 1.4.7 syntax) for what
// replication peer mode needs: the Sync section (mode, the channel, FT-FW
// and ALARM tunables, options) and General's UNIX socket path, so that a
// node running conntrackd can switch to ctcollectd with its own file.
//
// The grammar: blocks `Name [args] { ... }`, statements `Key value...` one
// per line, `#` comments, double-quoted strings; keywords and On/Off are
// case-insensitive, as conntrackd's lexer has them. Everything else
// (Stats, Filter, Scheduler, NetlinkBufferSize...) is skipped. Several
// channel blocks (redundant links): the one marked `Default`, else the
// first; the others are named in `warnings`.
//
// Outside bytes: bounded size and depth, every number range-checked; bad
// input is an error with its line, never a crash. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "collector/sync_options.h"

namespace ctcollect {

struct ConntrackdConf {
  SyncOptions sync;
  std::string unix_path;  // General { UNIX { Path ... } }, "" if none
  std::vector<std::string> warnings;
};

// Parses the text; nullopt with "LINE: reason" in *error if it is not a
// conntrackd.conf with a Sync section we can run.
std::optional<ConntrackdConf> ParseConntrackdConf(const std::string& text,
                                                  std::string* error);

// Reads and parses `path`. Throws ConfigError "PATH:LINE: reason".
ConntrackdConf ReadConntrackdConf(const std::string& path);

}  // namespace ctcollect
