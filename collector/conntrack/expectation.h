// Conntrack expectations (what helpers such as ftp set up for the related
// connections they expect): the ctnetlink expectation messages, as events
// (IPCTNL_MSG_EXP_NEW / _DELETE on the expectation groups) and as dump
// replies, and the per-CPU expectation statistics. Parsers are pure and
// bounds-checked (outside bytes); ExpectationTable keeps the live set.
//
// Thread safety: parsers are thread-safe. ExpectationTable: the writer
// methods on the one ingest thread, Read() from any thread (it locks; the
// table is small and changes rarely).
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/base/mutex.h"

namespace ctcollect {

struct ExpMessage {
  enum class Type : uint8_t { kNew, kDestroy };
  Type type = Type::kNew;
  uint32_t id = 0;
  char helper[16] = {};  // CTA_EXPECT_HELP_NAME, "" when absent
  uint16_t zone = 0;
};

// One expectation message (event or dump entry); nullopt for other
// messages or malformed bytes.
std::optional<ExpMessage> ParseExpMessage(const nlmsghdr* nlh);

struct ExpStats {
  uint64_t created = 0;  // CTA_STATS_EXP_CREATE: expectations set up
  uint64_t matched = 0;  // CTA_STATS_EXP_NEW: connections that matched one
  uint64_t deleted = 0;  // CTA_STATS_EXP_DELETE
  int cpus = 0;
};
// Adds one IPCTNL_MSG_EXP_GET_STATS_CPU reply message (the kernel sends it
// under the CTNETLINK subsystem) to *out; false if malformed.
bool ParseExpStatsMessage(const nlmsghdr* nlh, ExpStats* out);

// Requests into `buf` (at least 64 bytes); their lengths.
size_t BuildExpDump(void* buf, uint32_t seq);
size_t BuildExpStatsCpuRequest(void* buf, uint32_t seq);

class ExpectationTable {
 public:
  struct HelperCounts {
    int64_t current = 0;  // expectations now
    int64_t created = 0;  // EXP_NEW events
    int64_t destroyed = 0;
  };

  // An event (counted) or a dump entry (not counted as an event).
  void Apply(const ExpMessage& m, bool event);
  // Replaces the live set with a complete dump's (events during it are
  // lost in the replacement, but expectations live seconds: the next
  // dump is right again).
  void ReplaceWith(const std::vector<ExpMessage>& dumped);

  std::map<std::string, HelperCounts> Read() const;
  size_t size() const;

 private:
  mutable Mutex mu_;
  std::unordered_map<uint32_t, std::string> live_ GUARDED_BY(mu_);  // id ->
                                                                    // helper
  std::map<std::string, HelperCounts> helpers_ GUARDED_BY(mu_);
};

}  // namespace ctcollect
