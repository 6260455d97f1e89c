#include "exporters/formats/policy_format.h"

#include "collector/conntrack/dimensions.h"

namespace ctcollect {
namespace {

// Order of the sources in listings: cttimeout, nft, default.
int SourceRank(PolicySource s) {
  switch (s) {
    case PolicySource::kCttimeout:
      return 0;
    case PolicySource::kNft:
      return 1;
    case PolicySource::kDefault:
      return 2;
  }
  return 3;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string FamilyLabel(uint16_t l3proto) {
  switch (l3proto) {
    case 2:
      return "ipv4";
    case 10:
      return "ipv6";
    case 1:
      return "inet";
    default:
      return std::to_string(l3proto);
  }
}

}  // namespace

std::string PoliciesNfctText(const NetnsSnapshot& ns, const std::string& name) {
  std::string out;
  for (int rank = 0; rank < 3; ++rank) {
    for (const auto& p : ns.policies) {
      if (SourceRank(p.source) != rank) continue;
      if (!name.empty() && p.name != name) continue;
      out += NfctTimeoutText(p) + "\n";  // nfct puts a blank line after each
    }
  }
  return out;
}

std::string PoliciesJson(const Snapshot& s, const std::string& netns,
                         const std::string& name) {
  std::string out = "[";
  bool first = true;
  for (const auto& ns : s.netns) {
    if (!netns.empty() && ns.netns != netns) continue;
    for (int rank = 0; rank < 3; ++rank) {
      for (const auto& p : ns.policies) {
        if (SourceRank(p.source) != rank) continue;
        if (!name.empty() && p.name != name) continue;
        out += first ? "\n" : ",\n";
        first = false;
        out +=
            "{\"netns\":" + JsonString(ns.netns) +
            ",\"policy\":" + JsonString(p.name) + ",\"source\":\"" +
            std::string(PolicySourceName(p.source)) + "\",\"family\":\"" +
            FamilyLabel(p.l3proto) +
            "\",\"l3proto\":" + std::to_string(p.l3proto) + ",\"protocol\":\"" +
            std::string(ProtoName(ProtoFromNumber(p.l4proto))) +
            "\",\"l4proto\":" + std::to_string(p.l4proto) + ",\"timeouts\":{";
        bool first_value = true;
        for (int i = 0; i < p.count; ++i) {
          if (!p.Has(i)) continue;
          if (!first_value) out += ",";
          first_value = false;
          out += JsonString(TimeoutAttrName(p.l4proto, i)) + ":" +
                 std::to_string(p.values[i]);
        }
        out += "}}";
      }
    }
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

}  // namespace ctcollect
