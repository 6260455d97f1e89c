// Which timeout policy a flow runs under. The kernel does not say, so:
//  1. an operator selector of the config file (flow fields -> policy name)
//     decides if one matches;
//  2. else inference from the remaining timeout the kernel reports:
//     right after a state change (a NEW event, or an UPDATE that carries
//     the new state) it equals the policy's value for that state (less the
//     second or so the event took), so a unique match among the known
//     policies that differ from the default for that state decides it;
//     and at any time a remaining timeout larger than a policy's value for
//     the state rules that policy out;
//  3. else the flow stays where it was: `default` when no policy but the
//     default exists for its protocol, `unknown` when it is ambiguous.
// Indexes: kPolicyDefault, kPolicyUnknown, then the names of named policies
// (stable for the life of the attributor; at most 255).
//
// Thread safety: not thread-safe; owned by one ingest thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/conntrack/ct_message.h"
#include "collector/conntrack/timeout_policy.h"
#include "collector/flows/flow_class.h"

namespace ctcollect {

inline constexpr uint8_t kPolicyDefault = 0;
inline constexpr uint8_t kPolicyUnknown = 1;

// An operator's rule: flows matching `match` run under `policy`.
struct PolicySelector {
  FlowClass match;  // match.name is unused
  std::string policy;
};

class PolicyAttributor {
 public:
  PolicyAttributor();

  // The policies the kernel has now (defaults included); names seen before
  // keep their index.
  void SetPolicies(const std::vector<TimeoutPolicy>& policies);
  void SetSelectors(const std::vector<PolicySelector>& selectors);

  // Whether a flow of this IP protocol can run under anything but the
  // default (a non-default policy for it exists, or a selector): if not,
  // its attribution is kPolicyDefault and need not be stored.
  bool Relevant(uint8_t l4proto) const {
    return any_selectors_ || (relevant_[l4proto >> 6] >> (l4proto & 63)) & 1;
  }

  // The attribution after message `m` of a flow in `state` (our state
  // index). `current` is the flow's attribution so far, `is_new` that the
  // flow is new to us, `fresh` that the message's timeout was set just now
  // (a NEW event or a state change).
  uint8_t Decide(const CtMessage& m, uint8_t state, uint8_t current,
                 bool is_new, bool fresh) const;

  const std::string& Name(uint8_t index) const { return names_[index]; }
  size_t size() const { return names_.size(); }

 private:
  uint8_t IndexOf(const std::string& name);
  // The policy attribute that times a flow in `state` out, or -1.
  static int AttrFor(const CtMessage& m, uint8_t state);

  struct Known {
    uint8_t index;
    TimeoutPolicy policy;
  };
  std::vector<std::string> names_;
  std::vector<Known> known_;                   // non-default policies
  std::map<uint8_t, TimeoutPolicy> defaults_;  // by IP protocol
  std::vector<std::pair<PolicySelector, uint8_t>> selectors_;
  bool any_selectors_ = false;
  uint64_t relevant_[4] = {};  // bit per IP protocol
};

}  // namespace ctcollect
