#include "collector/conntrackd_conf.h"

#include <strings.h>

#include <fstream>
#include <sstream>

#include "collector/flow_values.h"
#include "collector/options.h"

namespace ctcollect {
namespace {

constexpr size_t kMaxText = 1 << 20;
constexpr int kMaxDepth = 16;

struct Token {
  enum Kind { kWord, kOpen, kClose, kEnd } kind;
  std::string text;
  int line;
};

bool IsDelimiter(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '{':
    case '}':
    case '#':
    case '"':
      return true;
    default:
      return false;
  }
}

// Splits into words, braces and line ends (statements end at a line end).
bool Tokenize(const std::string& s, std::vector<Token>* out,
              std::string* error) {
  int line = 1;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\n') {
      out->push_back({Token::kEnd, "", line++});
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '{' || c == '}') {
      out->push_back({c == '{' ? Token::kOpen : Token::kClose, "", line});
      ++i;
    } else if (c == '"') {
      size_t end = s.find('"', i + 1);
      if (end == std::string::npos || s.find('\n', i + 1) < end) {
        *error = std::to_string(line) + ": unterminated string";
        return false;
      }
      out->push_back({Token::kWord, s.substr(i + 1, end - i - 1), line});
      i = end + 1;
    } else {
      // Any other byte (NUL included) belongs to a word: the loop always
      // moves on.
      size_t start = i++;
      while (i < s.size() && !IsDelimiter(s[i])) ++i;
      out->push_back({Token::kWord, s.substr(start, i - start), line});
    }
  }
  out->push_back({Token::kEnd, "", line});
  return true;
}

struct Node {
  std::vector<std::string> words;  // statement, or a block's name and args
  std::vector<Node> children;
  bool block = false;
  int line = 0;
};

class Parser {
 public:
  explicit Parser(const std::vector<Token>& t) : t_(t) {}
  // Parses statements and blocks until a '}' (depth > 0) or the end.
  bool Body(int depth, std::vector<Node>* out, std::string* error) {
    if (depth > kMaxDepth) {
      *error = std::to_string(t_[pos_].line) + ": blocks nested too deep";
      return false;
    }
    Node cur;
    for (;;) {
      const Token& tk = t_[pos_];
      switch (tk.kind) {
        case Token::kWord:
          if (cur.words.empty()) cur.line = tk.line;
          cur.words.push_back(tk.text);
          ++pos_;
          break;
        case Token::kEnd:
          if (!cur.words.empty()) out->push_back(std::move(cur));
          cur = Node{};
          if (pos_ + 1 >= t_.size()) {
            if (depth > 0) {
              *error = std::to_string(tk.line) + ": missing }";
              return false;
            }
            return true;
          }
          ++pos_;
          break;
        case Token::kOpen: {
          if (cur.words.empty()) {
            *error = std::to_string(tk.line) + ": a block needs a name";
            return false;
          }
          ++pos_;
          cur.block = true;
          if (!Body(depth + 1, &cur.children, error)) return false;
          out->push_back(std::move(cur));
          cur = Node{};
          break;
        }
        case Token::kClose:
          if (depth == 0) {
            *error = std::to_string(tk.line) + ": unexpected }";
            return false;
          }
          if (!cur.words.empty()) out->push_back(std::move(cur));
          ++pos_;
          return true;
      }
    }
  }

 private:
  const std::vector<Token>& t_;
  size_t pos_ = 0;
};

bool Is(const std::string& a, const char* b) {
  return strcasecmp(a.c_str(), b) == 0;
}

class Mapper {
 public:
  explicit Mapper(ConntrackdConf* out) : out_(out) {}

  bool Fail(int line, const std::string& why) {
    error_ = std::to_string(line) + ": " + why;
    return false;
  }
  const std::string& error() const { return error_; }

  bool Number(const Node& n, uint64_t max, uint64_t* v) {
    if (n.words.size() != 2)
      return Fail(n.line, n.words[0] + ": one value expected");
    auto x = ParseNumber(n.words[1], max);
    if (!x) {
      return Fail(n.line, n.words[0] + ": not a number up to " +
                              std::to_string(max) + ": " + n.words[1]);
    }
    *v = *x;
    return true;
  }
  bool Bool(const Node& n, bool* v) {
    if (n.words.size() != 2)
      return Fail(n.line, n.words[0] + ": On or Off expected");
    const std::string& w = n.words[1];
    if (Is(w, "on") || Is(w, "yes")) {
      *v = true;
    } else if (Is(w, "off") || Is(w, "no")) {
      *v = false;
    } else {
      return Fail(n.line, n.words[0] + ": On or Off expected, not " + w);
    }
    return true;
  }

  bool Mode(const Node& b) {
    if (b.words.size() != 2)
      return Fail(b.line, "Mode needs FTFW, NOTRACK or ALARM");
    const std::string& m = b.words[1];
    SyncOptions& s = out_->sync;
    if (Is(m, "FTFW")) {
      s.mode = SyncMode::kFtfw;
    } else if (Is(m, "NOTRACK")) {
      s.mode = SyncMode::kNotrack;
    } else if (Is(m, "ALARM")) {
      s.mode = SyncMode::kAlarm;
    } else {
      return Fail(b.line, "unknown Mode " + m);
    }
    for (const Node& n : b.children) {
      if (n.block) continue;
      uint64_t v = 0;
      const std::string& k = n.words[0];
      if (Is(k, "ResendQueueSize")) {
        if (!Number(n, 1u << 24, &v)) return false;
        s.resend_queue_size = static_cast<uint32_t>(v);
      } else if (Is(k, "ACKWindowSize")) {
        if (!Number(n, 1u << 20, &v)) return false;
        if (v == 0) return Fail(n.line, "ACKWindowSize must be at least 1");
        s.ack_window = static_cast<uint32_t>(v);
      } else if (Is(k, "RefreshTime")) {
        if (!Number(n, 86400, &v)) return false;
        if (v == 0) return Fail(n.line, "RefreshTime must be at least 1");
        s.refresh_time = std::chrono::seconds(v);
      } else if (Is(k, "CacheTimeout")) {
        if (!Number(n, 86400 * 30, &v)) return false;
        if (v == 0) return Fail(n.line, "CacheTimeout must be at least 1");
        s.cache_timeout = std::chrono::seconds(v);
      }
      // DisableExternalCache, CommitTimeout, PurgeTimeout, StartupResync,
      // DisableInternalCache: conntrackd's own cache policies, not ours.
    }
    return true;
  }

  // UDP / Multicast / TCP blocks: collected, the Default (else the first)
  // is applied at the end.
  void Channel(const Node& b) {
    const bool is_default = b.words.size() > 1 && Is(b.words[1], "Default");
    if (is_default && !have_default_) {
      if (chosen_ != nullptr) {
        out_->warnings.push_back("line " + std::to_string(chosen_->line) +
                                 ": " + chosen_->words[0] +
                                 " link ignored (another is Default)");
      }
      chosen_ = &b;
      have_default_ = true;
    } else if (chosen_ == nullptr) {
      chosen_ = &b;
    } else {
      out_->warnings.push_back("line " + std::to_string(b.line) + ": " +
                               b.words[0] +
                               " link ignored (redundant links are not "
                               "supported; the Default or first one is used)");
    }
  }

  bool ApplyChannel() {
    if (chosen_ == nullptr) {
      return Fail(sync_line_,
                  "the Sync section has no UDP, Multicast or TCP block");
    }
    const Node& b = *chosen_;
    SyncOptions& s = out_->sync;
    const bool mcast = Is(b.words[0], "Multicast");
    s.transport = mcast                   ? SyncTransport::kMulticast
                  : Is(b.words[0], "TCP") ? SyncTransport::kTcp
                                          : SyncTransport::kUdp;
    std::string local, dest, group, iface_addr;
    uint64_t port = mcast ? 3780 : 3780;
    bool port_set = false;
    for (const Node& n : b.children) {
      if (n.block) continue;
      const std::string& k = n.words[0];
      auto one = [&](std::string* v) {
        if (n.words.size() != 2)
          return Fail(n.line, k + ": one value expected");
        *v = n.words[1];
        return true;
      };
      uint64_t v = 0;
      if (Is(k, "IPv4_address") || Is(k, "IPv6_address")) {
        if (!one(mcast ? &group : &local)) return false;
      } else if (Is(k, "IPv4_Destination_Address") ||
                 Is(k, "IPv6_Destination_Address")) {
        if (!one(&dest)) return false;
      } else if (Is(k, "IPv4_interface")) {
        if (!one(&iface_addr)) return false;
      } else if (Is(k, "IPv6_interface")) {
        if (!one(&s.interface)) return false;
      } else if (Is(k, "Interface")) {
        if (!one(&s.interface)) return false;
        if (s.interface.size() >= 16)
          return Fail(n.line, "Interface: name too long");
      } else if (Is(k, "Port") || Is(k, "Group")) {
        if (!Number(n, 65535, &v)) return false;
        if (v == 0) return Fail(n.line, k + ": port 0");
        port = v;
        port_set = true;
      } else if (Is(k, "SndSocketBuffer")) {
        if (!Number(n, 1u << 30, &v)) return false;
        s.sndbuf = static_cast<int>(v);
      } else if (Is(k, "RcvSocketBuffer")) {
        if (!Number(n, 1u << 30, &v)) return false;
        s.rcvbuf = static_cast<int>(v);
      } else if (Is(k, "Checksum")) {
        if (!Bool(n, &s.checksum)) return false;
      }
    }
    (void)port_set;
    auto with_port = [&](const std::string& a) {
      return (a.find(':') != std::string::npos ? "[" + a + "]" : a) + ":" +
             std::to_string(port);
    };
    if (mcast) {
      if (group.empty())
        return Fail(b.line, "Multicast: no IPv4_address (the group)");
      s.multicast_group = with_port(group);
      s.listen_address = iface_addr;
    } else {
      if (local.empty()) return Fail(b.line, b.words[0] + ": no IPv4_address");
      if (dest.empty()) {
        return Fail(b.line, b.words[0] + ": no IPv4_Destination_Address");
      }
      s.listen_address = with_port(local);
      s.peers = {with_port(dest)};
    }
    return true;
  }

  bool Options(const Node& b) {
    for (const Node& n : b.children) {
      const std::string& k = n.words[0];
      if (Is(k, "ExpectationSync")) {
        // `On`, `Off`, or a block of helper names (on for those).
        if (n.block) {
          out_->sync.expectation_sync = true;
        } else if (!Bool(n, &out_->sync.expectation_sync)) {
          return false;
        }
      } else if (Is(k, "TCPWindowTracking") && !n.block) {
        if (!Bool(n, &out_->sync.tcp_window_tracking)) return false;
      }
    }
    return true;
  }

  bool Sync(const Node& b) {
    have_sync_ = true;
    sync_line_ = b.line;
    bool have_mode = false;
    for (const Node& n : b.children) {
      if (!n.block) continue;
      const std::string& k = n.words[0];
      if (Is(k, "Mode")) {
        if (!Mode(n)) return false;
        have_mode = true;
      } else if (Is(k, "UDP") || Is(k, "Multicast") || Is(k, "TCP")) {
        Channel(n);
      } else if (Is(k, "Options")) {
        if (!Options(n)) return false;
      }
    }
    // conntrackd's default mode is FT-FW.
    if (!have_mode) out_->sync.mode = SyncMode::kFtfw;
    return ApplyChannel();
  }

  void General(const Node& b) {
    for (const Node& n : b.children) {
      if (!n.block || !Is(n.words[0], "UNIX")) continue;
      for (const Node& u : n.children) {
        if (!u.block && Is(u.words[0], "Path") && u.words.size() == 2) {
          out_->unix_path = u.words[1];
        }
      }
    }
  }

  bool Top(const std::vector<Node>& nodes) {
    for (const Node& n : nodes) {
      if (!n.block) continue;
      if (Is(n.words[0], "Sync")) {
        if (have_sync_) return Fail(n.line, "a second Sync section");
        if (!Sync(n)) return false;
      } else if (Is(n.words[0], "General")) {
        General(n);
      }
    }
    if (!have_sync_) {
      return Fail(1, "no Sync section: this conntrackd.conf runs stats mode");
    }
    return true;
  }

 private:
  ConntrackdConf* out_;
  std::string error_;
  const Node* chosen_ = nullptr;
  bool have_default_ = false;
  bool have_sync_ = false;
  int sync_line_ = 1;
};

}  // namespace

std::optional<ConntrackdConf> ParseConntrackdConf(const std::string& text,
                                                  std::string* error) {
  if (text.size() > kMaxText) {
    *error = "1: file larger than 1 MiB";
    return std::nullopt;
  }
  std::vector<Token> tokens;
  if (!Tokenize(text, &tokens, error)) return std::nullopt;
  std::vector<Node> nodes;
  Parser p(tokens);
  if (!p.Body(0, &nodes, error)) return std::nullopt;
  ConntrackdConf conf;
  Mapper m(&conf);
  if (!m.Top(nodes)) {
    *error = m.error();
    return std::nullopt;
  }
  return conf;
}

ConntrackdConf ReadConntrackdConf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("--conntrackd.config: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string error;
  auto conf = ParseConntrackdConf(ss.str(), &error);
  if (!conf) throw ConfigError(path + ":" + error);
  return *conf;
}

}  // namespace ctcollect
