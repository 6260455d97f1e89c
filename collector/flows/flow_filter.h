// Filters for flow dumps (/api/v1/flows, `ctcollect -i`): which flows of the
// kernel table to stream. Parsed from query parameters (outside bytes: every
// value is checked, a bad one yields a one-line reason) and matched against
// libnetfilter_conntrack objects. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "collector/flows/flow_class.h"
#include "collector/flows/flow_values.h"

struct nf_conntrack;

namespace ctcollect {

struct FlowFilter {
  std::optional<std::string> netns;
  std::optional<int> family;       // AF_INET / AF_INET6
  std::optional<uint8_t> l4proto;  // from a name (tcp) or a number
  bool generic = false;            // protocol=generic: any untracked protocol
  std::optional<std::string> state;
  std::optional<uint16_t> zone;
  std::optional<Cidr> src, dst;  // original direction
  std::optional<uint16_t> sport, dport;
  std::optional<uint32_t> mark;
  uint32_t mark_mask = 0xffffffff;
  int64_t limit = 0;  // 0: no limit
  // class=NAME: flows the classifier puts in class `class_index`.
  std::shared_ptr<const FlowClassifier> classifier;
  uint8_t class_index = kNoClass;

  // Everything but netns and limit, which the dump loop applies.
  bool Matches(const nf_conntrack* ct) const;
};

// Keys: netns family protocol state ct_zone src dst sport dport mark
// (VALUE or VALUE/MASK, decimal or 0x hex) class limit, plus `format`,
// which is left to the caller. Unknown keys are errors, so typos do not
// silently match everything. `classes` are the configured flow classes
// (class= names one of them; none configured: class= is an error).
std::optional<FlowFilter> ParseFlowFilter(
    const std::map<std::string, std::string>& params, std::string* error,
    std::shared_ptr<const FlowClassifier> classes = nullptr);

}  // namespace ctcollect
