#include "tests/integration/kernel_truth.h"

#include <cctype>
#include <set>
#include <sstream>

namespace ctcollect::itest {
namespace {

int64_t ParseCount(const std::string& s) {
  std::istringstream in(s);
  int64_t v = -1;
  std::string rest;
  if (!(in >> v) || (in >> rest)) return -1;
  return v;
}

}  // namespace

EntryCounts ParseConntrackList(const std::string& family,
                               const std::string& text) {
  static const std::set<std::string> kLabels = {
      "tcp", "udp", "udplite", "icmp", "icmpv6", "sctp", "dccp", "gre"};
  EntryCounts c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string proto, num, timeout, fourth;
    if (!(l >> proto >> num >> timeout >> fourth)) continue;
    if (!std::isdigit(static_cast<unsigned char>(num[0])) ||
        !std::isdigit(static_cast<unsigned char>(timeout[0]))) {
      continue;
    }
    // The state, when the protocol has one, comes before the first key=value.
    std::string state;
    if (fourth.find('=') == std::string::npos && fourth[0] != '[') {
      state = fourth;
    }
    if (kLabels.count(proto) == 0) proto = "generic";
    std::string zone = "0";
    size_t z = line.find(" zone=");
    if (z != std::string::npos) {
      size_t end = line.find(' ', z + 6);
      zone = line.substr(z + 6, end == std::string::npos ? end : end - (z + 6));
    }
    c[{family, proto, state, zone}]++;
  }
  return c;
}

std::string Describe(const EntryCounts& c) {
  std::string s;
  for (const auto& [k, v] : c) {
    s += std::get<0>(k) + "/" + std::get<1>(k) + "/" + std::get<2>(k) +
         "/zone" + std::get<3>(k) + "=" + std::to_string(v) + " ";
  }
  return s.empty() ? "(none)" : s;
}

EntryCounts KernelEntries(const TestNetns& ns) {
  // Without -f, conntrack 1.4.7 lists both families; with it, one.
  EntryCounts all =
      ParseConntrackList("ipv4", ns.RunSplit("conntrack -L -f ipv4").out);
  for (const auto& [k, v] :
       ParseConntrackList("ipv6", ns.RunSplit("conntrack -L -f ipv6").out)) {
    all[k] += v;
  }
  return all;
}

int64_t KernelCount(const TestNetns& ns) {
  CommandResult r = ns.RunSplit("conntrack -C");
  return r.exit_code == 0 ? ParseCount(r.out) : -1;
}

std::map<std::string, int64_t> ParseConntrackStats(const std::string& text) {
  // "cpu=0   \tfound=0 invalid=12 insert=0 ..." per CPU.
  std::map<std::string, int64_t> sum;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) {
    size_t eq = tok.find('=');
    if (eq == std::string::npos || tok.rfind("cpu=", 0) == 0) continue;
    sum[tok.substr(0, eq)] += std::stoll(tok.substr(eq + 1));
  }
  return sum;
}

std::map<std::string, int64_t> KernelStatsSum(const TestNetns& ns) {
  return ParseConntrackStats(ns.RunSplit("conntrack -S").out);
}

std::map<uint32_t, int> KernelIds(const TestNetns& ns) {
  std::map<uint32_t, int> ids;
  std::istringstream in(ns.RunSplit("conntrack -L -o id").out);
  std::string tok;
  while (in >> tok) {
    if (tok.rfind("id=", 0) == 0) ids[std::stoul(tok.substr(3))]++;
  }
  return ids;
}

int64_t KernelLimit(const TestNetns& ns) {
  return ParseCount(
      ns.RunSplit("cat /proc/sys/net/netfilter/nf_conntrack_max").out);
}

}  // namespace ctcollect::itest
