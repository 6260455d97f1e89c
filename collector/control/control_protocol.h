// Requests on the control socket. Two protocols share it, told apart by the
// first bytes:
//  - conntrackd's: the client sends one native int (a request code, e.g.
//    21 for `-s`) and reads plain text until the daemon closes;
//  - ours, "CTC": one line `CTC<version> <verb> [key=value]...\n` of at
//    most kMaxRequestBytes; the reply starts with a status line
//    `CTC1 <code> <reason>\n` and the body follows until close.
// A conntrackd code is a small integer, so its first byte on a little- or
// big-endian host is never 'C' followed by "TC".
// Parsing is pure and bounded: outside bytes in, a Request or an error out.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctcollect {

// Where ctcollectd listens and ctcollect connects unless told otherwise.
inline constexpr const char* kDefaultControlSocket = "/run/ctcollectd/ctl.sock";

inline constexpr int kControlProtocolVersion = 1;
inline constexpr size_t kMaxRequestBytes = 4096;

// conntrackd 1.4.7 request codes (include/conntrackd.h).
enum ConntrackdCode : int32_t {
  kCtFlushMaster = 0,
  kCtResyncMaster = 1,
  kCtDumpInternal = 16,
  kCtDumpExternal = 17,
  kCtCommit = 18,
  kCtFlushCache = 19,
  kKill = 20,
  kStats = 21,
  kSendBulk = 22,
  kRequestDump = 23,
  kCtDumpIntXml = 24,
  kCtDumpExtXml = 25,
  kResetTimers = 26,
  kStatsNetwork = 28,
  kStatsCache = 29,
  kStatsRuntime = 30,
  kStatsLink = 31,
  kStatsRsqueue = 32,
  kCtFlushIntCache = 33,
  kCtFlushExtCache = 34,
  kStatsProcess = 35,
  kStatsQueue = 36,
  kExpStats = 37,
  kExpFlushMaster = 38,
  kExpResyncMaster = 39,
  kExpDumpInternal = 40,
  kExpDumpExternal = 41,
  kExpCommit = 42,
  kAllFlushMaster = 43,
  kAllResyncMaster = 44,
  kAllFlushCache = 45,
  kAllCommit = 46,
  kExpDumpIntXml = 47,
  kExpDumpExtXml = 48,
};

struct ControlRequest {
  enum class Kind { kConntrackd, kNative };
  Kind kind = Kind::kNative;
  int32_t code = 0;  // kConntrackd
  int version = 0;   // kNative
  std::string verb;  // kNative, e.g. "stats", "flows", "resync"
  std::map<std::string, std::string> args;  // kNative key=value
};

// What the first bytes say. kNeedMore: not enough bytes to tell yet.
enum class ControlFraming { kNeedMore, kConntrackd, kNative };
ControlFraming DetectFraming(std::string_view first_bytes);

// Parses a complete conntrackd request (exactly 4 bytes).
std::optional<ControlRequest> ParseConntrackdRequest(std::string_view bytes);

// Parses one native request line (without or with its trailing "\n").
// On failure returns nullopt and sets *error to a one-line reason.
std::optional<ControlRequest> ParseNativeRequest(std::string_view line,
                                                 std::string* error);

// Formats a native request line (for the client), "\n"-terminated.
std::string FormatNativeRequest(const std::string& verb,
                                const std::map<std::string, std::string>& args);

// The status line of a native reply.
std::string NativeStatusLine(int code, std::string_view reason);
// Parses it: returns the code, or nullopt; *reason gets the text and
// *version the protocol version the server speaks.
std::optional<int> ParseNativeStatusLine(std::string_view line,
                                         std::string* reason, int* version);

}  // namespace ctcollect
