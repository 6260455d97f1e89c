#include "exporters/formats/top_format.h"

#include <cstdio>

#include "exporters/formats/flow_format.h"

namespace ctcollect {
namespace {

std::string Number(double v) {
  char b[64];
  std::snprintf(b, sizeof(b), "%.17g", v);
  return b;
}

std::string Rate(double v) {
  char b[64];
  std::snprintf(b, sizeof(b), "%.2f", v);
  return b;
}

}  // namespace

std::string TopJson(TopBy by, const std::vector<NetnsTopRanking>& rankings,
                    double unix_time) {
  std::string o = "{\"by\":";
  AppendJsonString(&o, std::string(TopByName(by)));
  o += ",\"time\":" + Number(unix_time) + ",\"netns\":[";
  bool first_ns = true;
  for (const auto& ns : rankings) {
    if (!first_ns) o += ",";
    first_ns = false;
    const TopRanking& r = ns.ranking;
    o += "{\"name\":";
    AppendJsonString(&o, ns.netns);
    o += ",\"entries\":" + std::to_string(r.entries) +
         ",\"exact_at\":" + Number(r.exact_at) +
         ",\"max_error\":" + std::to_string(r.max_error) + ",\"top\":[";
    bool first = true;
    for (const auto& item : r.top) {
      if (!first) o += ",";
      first = false;
      o += "{\"key\":";
      AppendJsonString(&o, item.key);
      o += ",\"entries\":" + std::to_string(item.entries) +
           ",\"new_per_second\":" + Rate(item.new_per_second) + "}";
    }
    o += "]}";
  }
  o += "]}\n";
  return o;
}

std::string TopFlat(const std::vector<NetnsTopRanking>& rankings) {
  std::string o;
  for (const auto& ns : rankings) {
    const TopRanking& r = ns.ranking;
    o += "netns " + (ns.netns.empty() ? std::string("-") : ns.netns) + "\n";
    o += "entries " + std::to_string(r.entries) + "\n";
    o += "exact_at " + Number(r.exact_at) + "\n";
    o += "max_error " + std::to_string(r.max_error) + "\n";
    for (const auto& item : r.top) {
      o += "key " + std::to_string(item.entries) + " " +
           Rate(item.new_per_second) + " " + item.key + "\n";
    }
  }
  return o;
}

}  // namespace ctcollect
