#include "tests/integration/kernel_truth.h"

#include <cctype>
#include <sstream>

namespace ctcollect::itest {

EntryCounts ParseConntrackList(const std::string& family, const std::string& text) {
  EntryCounts c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string proto, num, timeout, fourth;
    if (!(l >> proto >> num >> timeout >> fourth)) continue;
    if (!std::isdigit(static_cast<unsigned char>(num[0]))) continue;
    std::string state;
    if (fourth.find('=') == std::string::npos && fourth[0] != '[') state = fourth;
    if (proto == "unknown") proto = "generic";
    std::string zone = "0";
    size_t z = line.find(" zone=");
    if (z != std::string::npos) {
      zone = line.substr(z + 6, line.find(' ', z + 6) - (z + 6));
    }
    c[{family, proto, state, zone}]++;
  }
  return c;
}

EntryCounts KernelEntries(const TestNetns& ns) {
  EntryCounts all = ParseConntrackList("ipv4", ns.Run("conntrack -L -f ipv4 2>/dev/null").out);
  for (auto& [k, v] : ParseConntrackList("ipv6", ns.Run("conntrack -L -f ipv6 2>/dev/null").out)) {
    all[k] += v;
  }
  return all;
}

int64_t KernelCount(const TestNetns& ns) {
  return std::stoll(ns.Run("conntrack -C").out);
}

std::map<std::string, int64_t> KernelStatsSum(const TestNetns& ns) {
  // "cpu=0   found=0 invalid=12 insert=0 ..."
  std::map<std::string, int64_t> sum;
  std::istringstream in(ns.Run("conntrack -S").out);
  std::string tok;
  while (in >> tok) {
    size_t eq = tok.find('=');
    if (eq == std::string::npos || tok.rfind("cpu=", 0) == 0) continue;
    sum[tok.substr(0, eq)] += std::stoll(tok.substr(eq + 1));
  }
  return sum;
}

}  // namespace ctcollect::itest
