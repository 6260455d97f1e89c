// Operator-defined flow classes: "how many connections to my database
// port" as a bounded label. A class is a name and any of family, protocol,
// source/destination CIDR, source/destination port range, mark/mask and
// zone, all matched against the original direction of a flow. A flow
// belongs to the first class that matches it, in the order of the config
// file (as firewall rules are read), or to none.
//
// Thread safety: a FlowClassifier is immutable once built; share it with
// std::shared_ptr<const FlowClassifier> and replace it whole on reload.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collector/conntrack/ct_message.h"
#include "collector/flows/flow_values.h"

struct nf_conntrack;

namespace ctcollect {

// The most classes a config may define; a class index fits in a byte with
// kNoClass to spare.
inline constexpr int kMaxFlowClasses = 255;
inline constexpr uint8_t kNoClass = 0xff;
inline constexpr int kDefaultMaxFlowClasses = 32;

// What a class can match on, from an event, a dump entry or a libnetfilter
// conntrack object.
struct FlowKey {
  int af = 0;  // AF_INET or AF_INET6
  uint8_t l4proto = 0;
  const uint8_t* src = nullptr;  // network order, 4 or 16 bytes
  const uint8_t* dst = nullptr;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t mark = 0;
  uint16_t zone = 0;
};
FlowKey FlowKeyOf(const CtMessage& m);
// `addr_storage` (32 bytes) holds the addresses the key points to.
FlowKey FlowKeyOf(const nf_conntrack* ct, uint8_t* addr_storage);

struct FlowClass {
  std::string name;
  std::optional<int> af;
  std::optional<ProtocolValue> protocol;
  std::optional<Cidr> src, dst;
  std::optional<PortRange> sport, dport;
  std::optional<MarkValue> mark;
  std::optional<uint16_t> zone;

  bool Matches(const FlowKey& k) const;
};

// One class from its fields as the config file spells them: name, family
// (ipv4|ipv6), protocol, src, dst, sport, dport (PORT or LOW-HIGH), mark
// (VALUE or VALUE/MASK), ct_zone. Returns nullopt and a one-line reason
// naming the field for anything else.
std::optional<FlowClass> ParseFlowClass(
    const std::map<std::string, std::string>& fields, std::string* error);

class FlowClassifier {
 public:
  FlowClassifier() = default;
  // Throws std::invalid_argument for duplicate or invalid names or more
  // than kMaxFlowClasses classes.
  explicit FlowClassifier(std::vector<FlowClass> classes);

  // Index of the first class that matches, or kNoClass.
  uint8_t Classify(const FlowKey& k) const {
    for (size_t i = 0; i < classes_.size(); ++i) {
      if (classes_[i].Matches(k)) return static_cast<uint8_t>(i);
    }
    return kNoClass;
  }
  // Index of the class named `name`, or kNoClass.
  uint8_t Find(const std::string& name) const;

  bool empty() const { return classes_.empty(); }
  size_t size() const { return classes_.size(); }
  const FlowClass& at(size_t i) const { return classes_[i]; }

 private:
  std::vector<FlowClass> classes_;
};

}  // namespace ctcollect
