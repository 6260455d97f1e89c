// Reads an existing conntrackd.conf (conntrack-tools 1.4.7 syntax) for what
// replication peer mode needs: the Sync section (mode, the dedicated link,
// FT-FW and ALARM tunables, Options) and General's UNIX socket path, so that
// a node running conntrackd can switch to ctcollectd with its own file.
//
// The syntax is conntrackd's: a stream of words and braces (line ends are
// plain white space), `Key value` settings, blocks `Name [arg...] { ... }`,
// `#` comments to the end of the line. A superset is accepted: keywords in
// any case (conntrackd's own lexer is case-sensitive for keywords, not for
// On/Off/Yes/No and the mode names), and double-quoted words.
//
// What we interpret is checked as strictly as conntrackd's grammar checks
// it, and more (an unknown key inside Sync, Mode, UDP, Multicast, TCP,
// Options or UNIX is an error: conntrackd refuses it too, and ignoring it
// would silently change the replication). Everything else (Stats, Filter,
// Scheduler, Helper, NetlinkBufferSize...) is skipped, nested blocks too.
// Settings conntrackd has and ctcollectd does not honour, and redundant
// links beyond the one used, are reported in `warnings`.
//
// Outside bytes: at most 1 MiB, blocks nested at most 16 deep, every number
// range-checked, addresses parsed; bad input is one error line, never a
// crash. No recursion on the input. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "collector/replication/sync_options.h"

namespace ctcollect {

struct ConntrackdConf {
  // Filled with conntrackd's defaults where the file is silent (FT-FW,
  // RefreshTime 60 s, CacheTimeout 180 s, ACKWindowSize 300,
  // ResendQueueSize 131072, checksums on); `mtu` stays 0 (from the
  // interface), `hmac_key_file` empty.
  SyncOptions sync;
  std::string unix_path;  // General { UNIX { Path ... } }, "" if none
  // "LINE: what", one per setting ignored or not honoured as conntrackd
  // would (redundant links, CommitTimeout, ExpectationSync's helper list...).
  std::vector<std::string> warnings;
};

// Parses the text; nullopt with "LINE: reason" in *error if it is not a
// conntrackd.conf with a Sync section we can run (a stats-mode file is an
// error: "no Sync section: this conntrackd.conf runs stats mode").
std::optional<ConntrackdConf> ParseConntrackdConf(const std::string& text,
                                                  std::string* error);

// Reads and parses `path` (a regular file of at most 1 MiB). Throws
// ConfigError "PATH:LINE: reason", or "PATH: reason" if it cannot be read.
ConntrackdConf ReadConntrackdConf(const std::string& path);

}  // namespace ctcollect
