// `ctcollect advise`: timeout values per state, per protocol and timeout
// policy, from what the daemon observed. For each state it proposes the
// smallest "round" value that still covers the chosen quantile of the flows
// that really moved on from that state (an event took them to their next
// state), where that is below the policy's current value, and estimates how
// many entries the table would hold less (the flows now in that state for
// longer than the proposal). The proposal is printed as an `nfct timeout
// add` command and as an nft `ct timeout` block. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "collector/conntrack/timeout_policy.h"
#include "collector/flows/state_durations.h"

namespace ctcollect {

struct StateAdvice {
  std::string policy;
  Proto proto = Proto::kTcp;
  uint8_t state = 0;        // our state index (TCP_CONNTRACK_*)
  int64_t samples = 0;      // flows that moved on from the state
  double observed = 0;      // the quantile of their time in it (upper bound)
  uint32_t current = 0;     // the policy's value now
  uint32_t proposed = 0;    // == current when no reduction is advised
  int64_t entries_now = 0;  // flows in the state at the last dump
  int64_t entries_saved = 0;
};

struct AdviceOptions {
  double quantile = 0.999;
  int64_t min_samples = 10;  // fewer: no proposal for that state
};

std::vector<StateAdvice> Advise(const std::vector<TimeoutPolicy>& policies,
                                const std::vector<PolicyDurations>& durations,
                                const AdviceOptions& opts);

// The report: a table, then for each policy with a reduction the commands
// that create an advised copy of it (every state, the reduced ones
// changed).
std::string AdviceText(const std::vector<StateAdvice>& advice,
                       const std::vector<TimeoutPolicy>& policies,
                       const AdviceOptions& opts);

// The smallest value of 1 2 3 5 10 15 20 30 45 60 90 120 180 300 600 900
// 1200 1800 2700 3600 ... (hours, then days) that is >= seconds.
uint32_t RoundUpTimeout(double seconds);

}  // namespace ctcollect
