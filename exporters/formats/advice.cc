#include "exporters/formats/advice.h"

#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

namespace ctcollect {
namespace {

uint8_t IpProto(Proto p) {
  switch (p) {
    case Proto::kSctp:
      return IPPROTO_SCTP;
    case Proto::kDccp:
      return IPPROTO_DCCP;
    default:
      return IPPROTO_TCP;
  }
}

// The policy `name` for `proto` ("default": the kernel's).
const TimeoutPolicy* FindPolicy(const std::vector<TimeoutPolicy>& policies,
                                const std::string& name, uint8_t l4proto) {
  for (const auto& p : policies) {
    bool is_default = p.source == PolicySource::kDefault;
    if (p.l4proto == l4proto &&
        (name == "default" ? is_default : !is_default && p.name == name)) {
      return &p;
    }
  }
  return nullptr;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

// nft spells one TCP state differently from nfct.
std::string NftStateName(uint8_t l4proto, int attr) {
  std::string n = Lower(TimeoutAttrName(l4proto, attr));
  if (n == "unacknowledged") return "unack";
  return n;
}

// A name for the advised copy that nfct (32 bytes) and nft accept.
std::string AdvisedName(const std::string& policy, Proto proto) {
  std::string base = policy == "default" ? std::string(ProtoName(proto))
                                         : policy.substr(policy.rfind('/') + 1);
  std::string out;
  for (char c : base)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  out = out.substr(0, 20) + "_advised";
  return out;
}

}  // namespace

uint32_t RoundUpTimeout(double seconds) {
  static const uint32_t kSteps[] = {1,   2,   3,    5,    10,   15,  20,
                                    30,  45,  60,   90,   120,  180, 300,
                                    600, 900, 1200, 1800, 2700, 3600};
  for (uint32_t v : kSteps) {
    if (v >= seconds) return v;
  }
  double hours = std::ceil(seconds / 3600);
  if (hours <= 24) return static_cast<uint32_t>(hours) * 3600;
  double days = std::ceil(seconds / 86400);
  return static_cast<uint32_t>(std::min(days, 49000.0)) * 86400;
}

std::vector<StateAdvice> Advise(const std::vector<TimeoutPolicy>& policies,
                                const std::vector<PolicyDurations>& durations,
                                const AdviceOptions& opts) {
  std::vector<StateAdvice> out;
  for (const auto& pd : durations) {
    if (pd.policy == "unknown") continue;
    for (int si = 0; si < kStatefulProtos; ++si) {
      Proto proto = StatefulProto(si);
      const TimeoutPolicy* pol =
          FindPolicy(policies, pd.policy, IpProto(proto));
      if (pol == nullptr) continue;
      for (int st = 1; st < kNoState; ++st) {
        const int64_t* moved = pd.durations->moved[si][st];
        const int64_t* ages = pd.durations->ages[si][st];
        StateAdvice a;
        for (int b = 0; b < kDurationBuckets; ++b) {
          a.samples += moved[b];
          a.entries_now += ages[b];
        }
        int attr = st - 1;
        if (a.samples == 0 || !pol->Has(attr)) continue;
        a.policy = pd.policy;
        a.proto = proto;
        a.state = static_cast<uint8_t>(st);
        a.current = pol->values[attr];
        // The bucket holding the quantile: every flow at or below it moved
        // on within its upper bound.
        auto need = static_cast<int64_t>(
            std::ceil(opts.quantile * static_cast<double>(a.samples)));
        int64_t seen = 0;
        int qb = kDurationBuckets - 1;
        for (int b = 0; b < kDurationBuckets; ++b) {
          seen += moved[b];
          if (seen >= need) {
            qb = b;
            break;
          }
        }
        a.observed = DurationBucketUpper(qb);
        a.proposed = a.current;
        if (a.samples >= opts.min_samples) {
          uint32_t p = RoundUpTimeout(a.observed);
          if (p < a.current) a.proposed = p;
        }
        if (a.proposed < a.current) {
          for (int b = 1; b < kDurationBuckets; ++b) {
            if (DurationBucketUpper(b - 1) >= a.proposed)
              a.entries_saved += ages[b];
          }
        }
        out.push_back(a);
      }
    }
  }
  return out;
}

std::string AdviceText(const std::vector<StateAdvice>& advice,
                       const std::vector<TimeoutPolicy>& policies,
                       const AdviceOptions& opts) {
  char line[512];
  std::string out;
  snprintf(line, sizeof(line),
           "# Timeouts covering %.4g%% of the flows that moved on from each "
           "state (at least %lld flows seen)\n",
           opts.quantile * 100, static_cast<long long>(opts.min_samples));
  out += line;
  snprintf(line, sizeof(line),
           "%-20s %-5s %-16s %8s %10s %10s %10s %10s %10s\n", "policy", "proto",
           "state", "flows", "observed", "current", "proposed", "entries",
           "saved");
  out += line;
  int64_t total_saved = 0;
  std::map<std::pair<std::string, Proto>, std::vector<const StateAdvice*>>
      reduced;
  for (const auto& a : advice) {
    snprintf(line, sizeof(line),
             "%-20s %-5s %-16s %8lld %9.0fs %9us %9us %10lld %10lld%s\n",
             a.policy.c_str(), std::string(ProtoName(a.proto)).c_str(),
             TimeoutAttrName(IpProto(a.proto), a.state - 1).c_str(),
             static_cast<long long>(a.samples), std::ceil(a.observed),
             a.current, a.proposed, static_cast<long long>(a.entries_now),
             static_cast<long long>(a.entries_saved),
             a.samples < opts.min_samples ? "  (too few flows)" : "");
    out += line;
    total_saved += a.entries_saved;
    if (a.proposed < a.current) reduced[{a.policy, a.proto}].push_back(&a);
  }
  if (advice.empty()) {
    out += "(no flow has moved from one state to another yet)\n";
    return out;
  }
  snprintf(line, sizeof(line),
           "# The table would hold about %lld entries less now.\n",
           static_cast<long long>(total_saved));
  out += line;
  if (reduced.empty()) {
    out += "# No timeout can be reduced.\n";
    return out;
  }
  for (const auto& [key, states] : reduced) {
    const auto& [policy, proto] = key;
    uint8_t l4 = IpProto(proto);
    const TimeoutPolicy* pol = FindPolicy(policies, policy, l4);
    if (pol == nullptr) continue;
    std::string name = AdvisedName(policy, proto);
    std::vector<uint32_t> values(pol->values, pol->values + pol->count);
    for (const StateAdvice* a : states) values[a->state - 1] = a->proposed;
    std::string nfct = "nfct timeout add " + name + " " +
                       (pol->l3proto == AF_INET6 ? "inet6" : "inet") + " " +
                       std::string(ProtoName(proto));
    std::string nft = "table inet ctcollect_advice {\n  ct timeout " + name +
                      " {\n    protocol " + std::string(ProtoName(proto)) +
                      ";\n    l3proto " +
                      (pol->l3proto == AF_INET6 ? "ip6" : "ip") +
                      ";\n    policy = { ";
    bool first = true;
    for (int i = 0; i < pol->count; ++i) {
      if (!pol->Has(i)) continue;
      nfct +=
          " " + Lower(TimeoutAttrName(l4, i)) + " " + std::to_string(values[i]);
      nft += std::string(first ? "" : ", ") + NftStateName(l4, i) + ": " +
             std::to_string(values[i]);
      first = false;
    }
    nft += " }\n  }\n}\n";
    out += "\n# " + policy + " " + std::string(ProtoName(proto)) +
           ", as a cttimeout policy (attach it with iptables -j CT "
           "--timeout " +
           name + "):\n" + nfct +
           "\n# or as an nft ct timeout object (attach "
           "it with ct timeout set \"" +
           name + "\" in a chain after conntrack):\n" + nft;
  }
  return out;
}

}  // namespace ctcollect
