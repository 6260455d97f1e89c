#include "collector/flows/policy_attribution.h"

#include <netinet/in.h>

namespace ctcollect {
namespace {

// The kernel reports the remaining timeout rounded down, an event a moment
// after the timeout was set: it may be up to this much below the value.
constexpr uint32_t kSlackSeconds = 2;

bool FamilyFits(const TimeoutPolicy& p, Family f) {
  if (p.l3proto == 1 || p.l3proto == 0) return true;  // nft inet: both
  return p.l3proto == (f == Family::kIpv4 ? AF_INET : AF_INET6);
}

}  // namespace

PolicyAttributor::PolicyAttributor() : names_{"default", "unknown"} {}

uint8_t PolicyAttributor::IndexOf(const std::string& name) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<uint8_t>(i);
  }
  if (names_.size() >= 255) return kPolicyUnknown;  // out of indexes
  names_.push_back(name);
  return static_cast<uint8_t>(names_.size() - 1);
}

void PolicyAttributor::SetPolicies(const std::vector<TimeoutPolicy>& policies) {
  known_.clear();
  defaults_.clear();
  for (auto& r : relevant_) r = 0;
  for (const auto& p : policies) {
    if (p.source == PolicySource::kDefault) defaults_[p.l4proto] = p;
  }
  for (const auto& p : policies) {
    if (p.source == PolicySource::kDefault) continue;
    known_.push_back({IndexOf(p.name), p});
    relevant_[p.l4proto >> 6] |= uint64_t{1} << (p.l4proto & 63);
  }
}

void PolicyAttributor::SetSelectors(
    const std::vector<PolicySelector>& selectors) {
  selectors_.clear();
  for (const auto& s : selectors) selectors_.push_back({s, IndexOf(s.policy)});
  any_selectors_ = !selectors_.empty();
}

int PolicyAttributor::AttrFor(const CtMessage& m, uint8_t state) {
  switch (m.proto) {
    case Proto::kTcp:
    case Proto::kSctp:
    case Proto::kDccp:
      // Their timeout attributes follow the states, from the first real
      // state (state 0 is NONE).
      return state >= 1 && state < kNoState ? state - 1 : -1;
    case Proto::kUdp:
    case Proto::kUdplite:
    case Proto::kGre: {
      // UNREPLIED until the kernel saw a reply, then REPLIED.
      bool replied = m.has_status && (m.status & 0x2 /* IPS_SEEN_REPLY */);
      return replied ? 1 : 0;
    }
    default:
      return 0;  // ICMP, ICMPv6, generic: one timeout
  }
}

uint8_t PolicyAttributor::Decide(const CtMessage& m, uint8_t state,
                                 uint8_t current, bool is_new,
                                 bool fresh) const {
  if (any_selectors_) {
    FlowKey k = FlowKeyOf(m);
    for (const auto& [s, index] : selectors_) {
      if (s.match.Matches(k)) return index;
    }
  }
  if (!Relevant(m.l4proto)) return kPolicyDefault;
  const uint8_t undecided = is_new ? kPolicyUnknown : current;
  int attr = AttrFor(m, state);
  if (!m.has_timeout || attr < 0) return undecided;
  const uint32_t t = m.timeout;
  auto def = defaults_.find(m.l4proto);
  const bool has_default = def != defaults_.end() && def->second.Has(attr);
  const uint32_t dv = has_default ? def->second.values[attr] : 0;

  if (fresh) {
    // Just set: the remaining timeout is the policy's value for the state.
    auto fits = [&](uint32_t v) { return v >= t && v <= t + kSlackSeconds; };
    int found = -1, matches = 0;
    for (size_t i = 0; i < known_.size(); ++i) {
      const TimeoutPolicy& p = known_[i].policy;
      if (p.l4proto != m.l4proto || !FamilyFits(p, m.family) || !p.Has(attr))
        continue;
      uint32_t v = p.values[attr];
      if (has_default && v == dv) continue;  // tells nothing apart
      if (fits(v)) {
        ++matches;
        found = static_cast<int>(i);
      }
    }
    bool default_fits = has_default && fits(dv);
    if (matches == 1 && !default_fits) return known_[found].index;
    if (matches == 0 && default_fits) {
      // The default for this state; a policy decided earlier stays (nft
      // `ct timeout set` acts after conntrack, so a flow's first packet
      // still runs under the default).
      return current >= 2 ? current : kPolicyDefault;
    }
    if (matches > 0) return current >= 2 ? current : kPolicyUnknown;
  }
  // At any time: more time left than a policy gives rules that policy out.
  if (current == kPolicyUnknown || is_new) {
    int possible = 0, last = -1;
    bool default_possible = !has_default || dv >= t;
    for (size_t i = 0; i < known_.size(); ++i) {
      const TimeoutPolicy& p = known_[i].policy;
      if (p.l4proto != m.l4proto || !FamilyFits(p, m.family) || !p.Has(attr))
        continue;
      if (p.values[attr] + kSlackSeconds >= t) {
        ++possible;
        last = static_cast<int>(i);
      }
    }
    if (possible == 0 && default_possible) return kPolicyDefault;
    if (possible == 1 && !default_possible) return known_[last].index;
  }
  return undecided;
}

}  // namespace ctcollect
