#include "collector/config/conntrackd_conf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "collector/config/options.h"

namespace ctcollect {
namespace {

constexpr size_t kMaxText = 1 << 20;
constexpr int kMaxDepth = 16;
constexpr size_t kMaxLinks = 4;       // conntrackd's MULTICHANNEL_MAX
constexpr size_t kUnixPathMax = 107;  // sun_path without its NUL
constexpr size_t kIfNameMax = 15;     // IFNAMSIZ without its NUL
constexpr size_t kQuoteMax = 64;      // of a bad value, in an error

// conntrackd's defaults (init_config). RefreshTime's differs from
// ctcollectd's own --sync.refresh-time default (15 s).
constexpr uint32_t kDefaultAckWindow = 300;
constexpr uint32_t kDefaultResendQueue = 131072;
constexpr std::chrono::seconds kDefaultRefresh{60};
constexpr std::chrono::seconds kDefaultCacheTimeout{180};

// Thrown inside this file only; ParseConntrackdConf turns it into *error.
struct Failure {
  int line;
  std::string why;
};

[[noreturn]] void Fail(int line, std::string why) {
  throw Failure{line, std::move(why)};
}

bool Eq(std::string_view a, const char* b) {
  return a.size() == std::strlen(b) && strncasecmp(a.data(), b, a.size()) == 0;
}

// A value as an error message shows it: one line (the lexer refuses control
// characters), cut short.
std::string Quote(std::string_view v) {
  if (v.size() <= kQuoteMax) return std::string(v);
  return std::string(v.substr(0, kQuoteMax)) + "...";
}

struct Token {
  enum Kind { kWord, kOpen, kClose, kEnd };
  Kind kind = kEnd;
  std::string_view text;
  int line = 1;
};

// conntrackd's lexer, made stricter where it returns a lone character for
// the grammar to refuse (control bytes), and more lenient in taking
// "double-quoted" words (conntrackd has no quotes at all).
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token Next() {
    for (;;) {
      if (i_ >= s_.size()) return {Token::kEnd, {}, line_};
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '\n') {
        ++line_;
        ++i_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++i_;
      } else if (c == '#') {
        const size_t nl = s_.find('\n', i_);
        i_ = nl == std::string_view::npos ? s_.size() : nl;
      } else if (c == '{' || c == '}') {
        ++i_;
        return {c == '{' ? Token::kOpen : Token::kClose, s_.substr(i_ - 1, 1),
                line_};
      } else if (c == '"') {
        const size_t end = s_.find_first_of("\"\n", i_ + 1);
        if (end == std::string_view::npos || s_[end] != '"') {
          Fail(line_, "unterminated quoted string");
        }
        Token t{Token::kWord, s_.substr(i_ + 1, end - i_ - 1), line_};
        for (char d : t.text) CheckByte(static_cast<unsigned char>(d));
        i_ = end + 1;
        return t;
      } else {
        // A word runs to white space, a brace, a quote or a comment; a path
        // (a word starting with '/') keeps a '#', as conntrackd's does.
        const bool path = c == '/';
        const size_t start = i_;
        for (; i_ < s_.size(); ++i_) {
          const unsigned char d = static_cast<unsigned char>(s_[i_]);
          if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == '{' ||
              d == '}' || d == '"' || (d == '#' && !path)) {
            break;
          }
          CheckByte(d);
        }
        return {Token::kWord, s_.substr(start, i_ - start), line_};
      }
    }
  }

 private:
  void CheckByte(unsigned char d) const {
    if (d < 0x20 || d == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      Fail(line_, std::string("control character 0x") + kHex[d >> 4] +
                      kHex[d & 15] + " outside a comment");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  int line_ = 1;
};

struct Address {
  std::string text;  // as written (inet_pton accepted it)
  int family = 0;    // 0: not given
  int line = 0;
};

// One UDP, Multicast or TCP block (a dedicated link).
struct Link {
  SyncTransport transport = SyncTransport::kUdp;
  std::string name;  // UDP, Multicast, TCP
  int line = 0;
  bool is_default = false;
  Address local, dest;  // UDP, TCP
  Address group, from;  // Multicast: the group, IPv4_interface
  std::string ifname;   // Interface
  uint32_t port = 0;    // Port (UDP, TCP), Group (Multicast); 0: none
  int sndbuf = 0, rcvbuf = 0;
  bool checksum = true;
};

std::string WithPort(const Address& a, uint32_t port) {
  return (a.family == AF_INET6 ? "[" + a.text + "]" : a.text) + ":" +
         std::to_string(port);
}

// Which Mode blocks conntrackd 1.4.7's grammar takes each setting in.
enum ModeBit : unsigned { kFtfwBit = 1, kNotrackBit = 2, kAlarmBit = 4 };
struct ModeKey {
  const char* name;
  unsigned modes;
};
constexpr ModeKey kModeKeys[] = {
    {"ResendQueueSize", kFtfwBit},
    {"ACKWindowSize", kFtfwBit},
    {"RefreshTime", kAlarmBit},
    {"CacheTimeout", kAlarmBit},
    {"CommitTimeout", kFtfwBit | kNotrackBit | kAlarmBit},
    {"PurgeTimeout", kFtfwBit | kNotrackBit | kAlarmBit},
    {"DisableExternalCache", kFtfwBit | kNotrackBit},
    {"DisableInternalCache", kNotrackBit},
    {"StartupResync", kFtfwBit | kNotrackBit},
};

const ModeKey* FindModeKey(std::string_view k) {
  for (const ModeKey& m : kModeKeys) {
    if (Eq(k, m.name)) return &m;
  }
  return nullptr;
}

// The settings of the link blocks, and which blocks take them.
enum LinkBit : unsigned { kUdpBit = 1, kMcastBit = 2, kTcpBit = 4 };
struct LinkKey {
  const char* name;
  unsigned links;
};
constexpr LinkKey kLinkKeys[] = {
    {"IPv4_address", kUdpBit | kMcastBit | kTcpBit},
    {"IPv6_address", kUdpBit | kMcastBit | kTcpBit},
    {"IPv4_Destination_Address", kUdpBit | kTcpBit},
    {"IPv6_Destination_Address", kUdpBit | kTcpBit},
    {"IPv4_interface", kMcastBit},
    {"IPv6_interface", kMcastBit},
    {"Interface", kUdpBit | kMcastBit | kTcpBit},
    {"Port", kUdpBit | kTcpBit},
    {"Group", kMcastBit},
    {"SndSocketBuffer", kUdpBit | kMcastBit | kTcpBit},
    {"RcvSocketBuffer", kUdpBit | kMcastBit | kTcpBit},
    {"Checksum", kUdpBit | kMcastBit | kTcpBit},
    {"ErrorQueueLength", kTcpBit},
};

const LinkKey* FindLinkKey(std::string_view k) {
  for (const LinkKey& l : kLinkKeys) {
    if (Eq(k, l.name)) return &l;
  }
  return nullptr;
}

unsigned LinkBitOf(SyncTransport t) {
  switch (t) {
    case SyncTransport::kUdp:
      return kUdpBit;
    case SyncTransport::kMulticast:
      return kMcastBit;
    case SyncTransport::kTcp:
      return kTcpBit;
  }
  return 0;
}

// A UTF-8 byte order mark, as some editors write, is no word.
std::string_view WithoutBom(std::string_view s) {
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  return s;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lex_(WithoutBom(text)) { Advance(); }

  ConntrackdConf File() {
    out_.sync.mode = SyncMode::kFtfw;
    out_.sync.ack_window = kDefaultAckWindow;
    out_.sync.resend_queue_size = kDefaultResendQueue;
    out_.sync.refresh_time = kDefaultRefresh;
    out_.sync.cache_timeout = kDefaultCacheTimeout;
    for (;;) {
      switch (tok_.kind) {
        case Token::kEnd:
          Finish();
          return std::move(out_);
        case Token::kClose:
          Fail(tok_.line, "unexpected }");
        case Token::kOpen:
          Fail(tok_.line, "a block without a name");
        case Token::kWord:
          break;
      }
      const std::string name(tok_.text);
      const int line = tok_.line;
      Advance();
      const bool sync = Eq(name, "Sync"), general = Eq(name, "General"),
                 stats = Eq(name, "Stats"), helper = Eq(name, "Helper");
      if (tok_.kind != Token::kOpen) {
        if (sync || general || stats || helper)
          Fail(line, name + ": { expected");
        continue;  // a word of something we do not read
      }
      if (sync) {
        if (sync_line_ == 0) sync_line_ = line;
        Sync(line);
      } else if (general) {
        General(line);
      } else {
        if (stats && stats_line_ == 0) stats_line_ = line;
        if (helper && helper_line_ == 0) helper_line_ = line;
        Skip(1);
      }
    }
  }

 private:
  void Advance() { tok_ = lex_.Next(); }
  bool IsWord(const char* kw) const {
    return tok_.kind == Token::kWord && Eq(tok_.text, kw);
  }
  void Warn(int line, const std::string& what) {
    out_.warnings.push_back(std::to_string(line) + ": " + what);
  }

  // The block `name` (of line `line`) at its `{`: calls key(KEY, LINE) for
  // each setting, with the current token after the key; its `}` ends it.
  template <typename F>
  void Body(const std::string& name, int line, F&& key) {
    if (tok_.kind != Token::kOpen) Fail(line, name + ": { expected");
    Advance();
    for (;;) {
      switch (tok_.kind) {
        case Token::kEnd:
          Fail(tok_.line,
               "missing } of " + name + " (line " + std::to_string(line) + ")");
        case Token::kClose:
          Advance();
          return;
        case Token::kOpen:
          Fail(tok_.line, "unexpected { in " + name);
        case Token::kWord: {
          const std::string k(tok_.text);
          const int kl = tok_.line;
          Advance();
          key(k, kl);
          break;
        }
      }
    }
  }

  // A block we do not read, at its `{` (nested `depth` deep): skipped with
  // everything it nests.
  void Skip(int depth) {
    int open_lines[kMaxDepth];
    int n = 0;
    for (;;) {
      switch (tok_.kind) {
        case Token::kEnd:
          Fail(tok_.line, "missing } of the block of line " +
                              std::to_string(open_lines[n - 1]));
        case Token::kOpen:
          if (depth + n > kMaxDepth) {
            Fail(tok_.line, "blocks nested more than " +
                                std::to_string(kMaxDepth) + " deep");
          }
          open_lines[n++] = tok_.line;
          break;
        case Token::kClose:
          if (--n == 0) {
            Advance();
            return;
          }
          break;
        case Token::kWord:
          break;
      }
      Advance();
    }
  }

  // Values: the current token, consumed.
  std::string Word(const std::string& key, int line) {
    if (tok_.kind != Token::kWord) Fail(line, key + ": a value expected");
    std::string v(tok_.text);
    Advance();
    return v;
  }
  uint64_t Number(const std::string& key, int line, uint64_t max) {
    const std::string v = Word(key, line);
    uint64_t n = 0;
    bool ok = !v.empty();
    for (char c : v) {
      const uint64_t d = static_cast<uint64_t>(c - '0');
      if (c < '0' || c > '9' || d > max || n > (max - d) / 10) {
        ok = false;
        break;
      }
      n = n * 10 + d;
    }
    if (!ok) {
      Fail(line, key + ": not a number from 0 to " + std::to_string(max) +
                     ": " + Quote(v));
    }
    return n;
  }
  bool Bool(const std::string& key, int line) {
    const std::string v = Word(key, line);
    if (Eq(v, "on") || Eq(v, "yes")) return true;
    if (Eq(v, "off") || Eq(v, "no")) return false;
    Fail(line, key + ": On or Off expected, not " + Quote(v));
  }
  Address Addr(const std::string& key, int line, int family) {
    Address a{Word(key, line), family, line};
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(family, a.text.c_str(), buf) != 1) {
      Fail(line, key + ": not an " +
                     std::string(family == AF_INET ? "IPv4" : "IPv6") +
                     " address: " + Quote(a.text));
    }
    return a;
  }

  // RefreshTime, CacheTimeout, CommitTimeout, PurgeTimeout: in Sync or in a
  // Mode block.
  void Timer(const std::string& key, int line) {
    SyncOptions& s = out_.sync;
    if (Eq(key, "RefreshTime")) {
      const uint64_t v = Number(key, line, 86400);
      s.refresh_time = v == 0 ? kDefaultRefresh : std::chrono::seconds(v);
    } else if (Eq(key, "CacheTimeout")) {
      const uint64_t v = Number(key, line, 30 * 86400);
      s.cache_timeout = v == 0 ? kDefaultCacheTimeout : std::chrono::seconds(v);
    } else if (Eq(key, "CommitTimeout")) {
      if (Number(key, line, INT_MAX) != 0) {
        Warn(line,
             "CommitTimeout ignored: ctcollectd sends flow timeouts and "
             "commits with the peers' (180 s where a peer sent none)");
      }
    } else {  // PurgeTimeout
      Number(key, line, INT_MAX);
      Warn(line,
           "PurgeTimeout ignored: ctcollectd has no purge timer "
           "(conntrackd -t)");
    }
  }
  static bool IsTimer(const std::string& k) {
    return Eq(k, "RefreshTime") || Eq(k, "CacheTimeout") ||
           Eq(k, "CommitTimeout") || Eq(k, "PurgeTimeout");
  }

  void Sync(int line) {
    Body("Sync", line, [&](const std::string& k, int kl) {
      if (IsTimer(k)) {
        Timer(k, kl);
      } else if (Eq(k, "Mode")) {
        Mode(kl);
      } else if (Eq(k, "UDP") || Eq(k, "Multicast") || Eq(k, "TCP")) {
        LinkBlock(k, kl);
      } else if (Eq(k, "Options")) {
        Options(kl);
      } else if (FindModeKey(k) != nullptr) {
        Fail(kl, k + " belongs in the Mode block");
      } else if (FindLinkKey(k) != nullptr) {
        Fail(kl, k + " belongs in a UDP, Multicast or TCP block");
      } else {
        Fail(kl, "unknown key in Sync: " + Quote(k));
      }
    });
  }

  void Mode(int line) {
    const std::string m = Word("Mode", line);
    unsigned bit = 0;
    std::string name;
    if (Eq(m, "FTFW") || Eq(m, "NACK")) {
      out_.sync.mode = SyncMode::kFtfw;
      bit = kFtfwBit;
      name = "FTFW";
    } else if (Eq(m, "NOTRACK")) {
      out_.sync.mode = SyncMode::kNotrack;
      bit = kNotrackBit;
      name = "NOTRACK";
    } else if (Eq(m, "ALARM") || Eq(m, "PERSISTENT")) {
      out_.sync.mode = SyncMode::kAlarm;
      bit = kAlarmBit;
      name = "ALARM";
    } else {
      Fail(line, "unknown Mode " + Quote(m) + ": FTFW, NOTRACK or ALARM");
    }
    if (mode_line_ != 0) {
      Fail(line, "a second Mode block (the first is on line " +
                     std::to_string(mode_line_) + ")");
    }
    mode_line_ = line;
    if (!Eq(m, name.c_str())) {
      Warn(line, "Mode " + m + " is now called " + name);
    }
    const std::string block = "Mode " + name;
    Body(block, line, [&](const std::string& k, int kl) {
      const ModeKey* mk = FindModeKey(k);
      if (mk == nullptr) {
        if (FindLinkKey(k) != nullptr) {
          Fail(kl, k + " belongs in a UDP, Multicast or TCP block");
        }
        Fail(kl, "unknown key in " + block + ": " + Quote(k));
      }
      if ((mk->modes & bit) == 0) {
        Warn(kl, std::string(mk->name) + " is no " + block +
                     " setting (conntrackd refuses it there)");
      }
      SyncOptions& s = out_.sync;
      if (IsTimer(k)) {
        Timer(k, kl);
      } else if (Eq(k, "ResendQueueSize")) {
        const uint64_t v = Number(k, kl, 1u << 24);
        s.resend_queue_size =
            v == 0 ? kDefaultResendQueue : static_cast<uint32_t>(v);
      } else if (Eq(k, "ACKWindowSize")) {
        const uint64_t v = Number(k, kl, 1u << 20);
        s.ack_window = v == 0 ? kDefaultAckWindow : static_cast<uint32_t>(v);
      } else if (Eq(k, "DisableExternalCache")) {
        if (Bool(k, kl)) {
          Warn(kl,
               "DisableExternalCache On ignored: ctcollectd keeps the peers' "
               "flows in its external cache (commit them with ctcollect -c)");
        }
      } else if (Eq(k, "StartupResync")) {
        if (Bool(k, kl)) {
          Warn(kl,
               "StartupResync On ignored: ask the peers for their "
               "tables with ctcollect -n");
        }
      } else {  // DisableInternalCache: the kernel table is ours anyway
        Bool(k, kl);
      }
    });
  }

  void LinkBlock(const std::string& kind, int line) {
    Link l;
    l.line = line;
    if (Eq(kind, "UDP")) {
      l.transport = SyncTransport::kUdp;
      l.name = "UDP";
    } else if (Eq(kind, "TCP")) {
      l.transport = SyncTransport::kTcp;
      l.name = "TCP";
    } else {
      l.transport = SyncTransport::kMulticast;
      l.name = "Multicast";
    }
    if (IsWord("Default")) {
      l.is_default = true;
      Advance();
    }
    if (links_.size() == kMaxLinks) {
      Fail(line, "more than " + std::to_string(kMaxLinks) +
                     " dedicated links (conntrackd's maximum)");
    }
    if (!links_.empty() && links_[0].transport != l.transport) {
      Fail(line, l.name + " and " + links_[0].name + " (line " +
                     std::to_string(links_[0].line) +
                     ") together: conntrackd runs one link protocol");
    }
    const bool mcast = l.transport == SyncTransport::kMulticast;
    Body(l.name, line, [&](const std::string& k, int kl) {
      const LinkKey* lk = FindLinkKey(k);
      if (lk == nullptr) {
        Fail(kl, "unknown key in " + l.name + ": " + Quote(k));
      }
      if ((lk->links & LinkBitOf(l.transport)) == 0) {
        if (Eq(k, "Port")) Fail(kl, "Port: Multicast takes Group PORT");
        if (Eq(k, "Group")) Fail(kl, "Group: " + l.name + " takes Port PORT");
        Fail(kl, std::string(lk->name) + " is no " + l.name + " setting");
      }
      if (Eq(k, "IPv4_address") || Eq(k, "IPv6_address")) {
        const int family = Eq(k, "IPv4_address") ? AF_INET : AF_INET6;
        (mcast ? l.group : l.local) = Addr(k, kl, family);
      } else if (Eq(k, "IPv4_Destination_Address")) {
        l.dest = Addr(k, kl, AF_INET);
      } else if (Eq(k, "IPv6_Destination_Address")) {
        l.dest = Addr(k, kl, AF_INET6);
      } else if (Eq(k, "IPv4_interface")) {
        l.from = Addr(k, kl, AF_INET);
      } else if (Eq(k, "IPv6_interface")) {
        Word(k, kl);
        Warn(kl, "IPv6_interface ignored, as conntrackd ignores it");
      } else if (Eq(k, "Interface")) {
        l.ifname = Word(k, kl);
        if (l.ifname.empty() || l.ifname.size() > kIfNameMax ||
            l.ifname.find('/') != std::string::npos || l.ifname == "." ||
            l.ifname == "..") {
          Fail(kl, "Interface: not an interface name: " + Quote(l.ifname));
        }
      } else if (Eq(k, "Port") || Eq(k, "Group")) {
        l.port = static_cast<uint32_t>(Number(k, kl, 65535));
        if (l.port == 0) Fail(kl, k + ": port 0");
      } else if (Eq(k, "SndSocketBuffer")) {
        l.sndbuf = static_cast<int>(Number(k, kl, 1u << 30));
      } else if (Eq(k, "RcvSocketBuffer")) {
        l.rcvbuf = static_cast<int>(Number(k, kl, 1u << 30));
      } else if (Eq(k, "Checksum")) {
        l.checksum = Bool(k, kl);
      } else {  // ErrorQueueLength: conntrackd's own TCP send queue
        Number(k, kl, INT_MAX);
      }
    });
    links_.push_back(std::move(l));
  }

  void Options(int line) {
    Body("Options", line, [&](const std::string& k, int kl) {
      if (Eq(k, "TCPWindowTracking")) {
        out_.sync.tcp_window_tracking = Bool(k, kl);
      } else if (Eq(k, "ExpectationSync")) {
        if (tok_.kind != Token::kOpen) {
          out_.sync.expectation_sync = Bool(k, kl);
          return;
        }
        // A list of helper names: conntrackd replicates only their
        // expectations (an empty list: all of them).
        std::string helpers;
        Body("ExpectationSync", kl, [&](const std::string& h, int) {
          if (helpers.size() < kQuoteMax)
            helpers += (helpers.empty() ? "" : ", ") + h;
        });
        out_.sync.expectation_sync = true;
        if (!helpers.empty()) {
          Warn(kl, "ExpectationSync { " + Quote(helpers) +
                       " }: ctcollectd replicates the expectations of every "
                       "helper, not only these");
        }
      } else {
        Fail(kl, "unknown key in Options: " + Quote(k));
      }
    });
  }

  void General(int line) {
    Advance();  // its {
    for (;;) {
      switch (tok_.kind) {
        case Token::kEnd:
          Fail(tok_.line,
               "missing } of General (line " + std::to_string(line) + ")");
        case Token::kClose:
          Advance();
          return;
        case Token::kOpen:  // of a setting we do not read (Filter, ...)
          Skip(2);
          break;
        case Token::kWord: {
          const bool unix_block = Eq(tok_.text, "UNIX");
          const int ul = tok_.line;
          Advance();  // other words: settings and values we do not read
          if (unix_block && tok_.kind == Token::kOpen) Unix(ul);
          break;
        }
      }
    }
  }

  void Unix(int line) {
    Body("UNIX", line, [&](const std::string& k, int kl) {
      if (Eq(k, "Path")) {
        std::string p = Word(k, kl);
        if (p.empty() || p[0] != '/') {
          Fail(kl, "Path: an absolute path expected, not " + Quote(p));
        }
        if (p.size() > kUnixPathMax) {
          Fail(kl, "Path: longer than " + std::to_string(kUnixPathMax) +
                       " characters");
        }
        out_.unix_path = std::move(p);
      } else if (Eq(k, "Backlog")) {
        Number(k, kl, INT_MAX);  // conntrackd ignores it too
      } else {
        Fail(kl, "unknown key in UNIX: " + Quote(k));
      }
    });
  }

  void Finish() {
    if (sync_line_ == 0) {
      if (stats_line_ == 0 && helper_line_ != 0) {
        Fail(helper_line_,
             "no Sync section: this conntrackd.conf runs helpers only");
      }
      Fail(stats_line_ == 0 ? 1 : stats_line_,
           "no Sync section: this conntrackd.conf runs stats mode");
    }
    if (stats_line_ != 0) {
      Fail(std::max(stats_line_, sync_line_),
           "a Stats section (line " + std::to_string(stats_line_) +
               ") and a Sync section (line " + std::to_string(sync_line_) +
               "): conntrackd refuses both");
    }
    if (mode_line_ == 0) {
      Warn(sync_line_, "no Mode block: FT-FW, as conntrackd defaults");
    }
    if (links_.empty()) {
      Fail(sync_line_, "the Sync section has no UDP, Multicast or TCP block");
    }
    // conntrackd starts on the last link marked Default, else the first.
    size_t use = 0;
    for (size_t i = 0; i < links_.size(); ++i) {
      if (links_[i].is_default) use = i;
    }
    for (size_t i = 0; i < links_.size(); ++i) {
      if (i == use) continue;
      Warn(links_[i].line,
           links_[i].name + " link ignored: ctcollectd runs one dedicated " +
               "link (line " + std::to_string(links_[use].line) +
               "), without fail-over");
    }
    Apply(links_[use]);
  }

  void Apply(const Link& l) {
    SyncOptions& s = out_.sync;
    s.transport = l.transport;
    s.interface = l.ifname;
    s.sndbuf = l.sndbuf;
    s.rcvbuf = l.rcvbuf;
    s.checksum = l.checksum;
    s.peers.clear();
    if (l.transport == SyncTransport::kMulticast) {
      if (l.group.family == 0) {
        Fail(l.line, "Multicast: no IPv4_address (the group)");
      }
      if (l.group.family == AF_INET6) {
        Fail(l.group.line,
             "IPv6_address: ctcollectd joins IPv4 multicast groups only");
      }
      in_addr g{};
      inet_pton(AF_INET, l.group.text.c_str(), &g);
      if (!IN_MULTICAST(ntohl(g.s_addr))) {
        Fail(l.group.line, "IPv4_address: " + l.group.text +
                               " is not a multicast group (224.0.0.0/4)");
      }
      if (l.port == 0) Fail(l.line, "Multicast: no Group (the port)");
      s.multicast_group = WithPort(l.group, l.port);
      s.listen_address = l.from.text;
      return;
    }
    if (l.dest.family == 0) {
      Fail(l.line, l.name +
                       ": no IPv4_Destination_Address (or "
                       "IPv6_Destination_Address): the peer");
    }
    if (l.port == 0) Fail(l.line, l.name + ": no Port");
    Address local = l.local;
    if (local.family == 0) {  // conntrackd binds the wildcard address
      local.family = l.dest.family;
      local.text = l.dest.family == AF_INET ? "0.0.0.0" : "::";
    } else if (local.family != l.dest.family) {
      Fail(local.line, l.name + ": the local address " + local.text +
                           " and the destination " + l.dest.text +
                           " are of different families");
    }
    s.multicast_group.clear();
    s.listen_address = WithPort(local, l.port);
    s.peers.push_back(WithPort(l.dest, l.port));
  }

  Lexer lex_;
  Token tok_;
  ConntrackdConf out_;
  std::vector<Link> links_;
  int sync_line_ = 0, stats_line_ = 0, helper_line_ = 0, mode_line_ = 0;
};

}  // namespace

std::optional<ConntrackdConf> ParseConntrackdConf(const std::string& text,
                                                  std::string* error) {
  if (text.size() > kMaxText) {
    *error = "1: larger than 1 MiB";
    return std::nullopt;
  }
  try {
    Parser p(text);
    return p.File();
  } catch (const Failure& f) {
    *error = std::to_string(f.line) + ": " + f.why;
    return std::nullopt;
  }
}

ConntrackdConf ReadConntrackdConf(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  }
  std::string text;
  struct stat st;
  int err = 0;
  if (fstat(fd, &st) != 0) {
    err = errno;
  } else if (!S_ISREG(st.st_mode)) {
    close(fd);
    throw ConfigError(path + ": not a regular file");
  } else {
    // At most one byte over the limit: /proc files and growing files say
    // nothing true in st_size.
    char buf[65536];
    while (text.size() <= kMaxText) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  if (err != 0) {
    throw ConfigError(path + ": cannot read: " + std::strerror(err));
  }
  if (text.size() > kMaxText) {
    throw ConfigError(path + ": larger than 1 MiB");
  }
  std::string error;
  auto conf = ParseConntrackdConf(text, &error);
  if (!conf) throw ConfigError(path + ":" + error);
  return std::move(*conf);
}

}  // namespace ctcollect
