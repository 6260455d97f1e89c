#include "exporters/formats/stats_json.h"

#include <cstdio>

#include "exporters/formats/flow_format.h"

namespace ctcollect {
namespace {

void Num(std::string* o, const char* key, double v, bool first = false) {
  char b[64];
  std::snprintf(b, sizeof(b), "%.17g", v);
  if (!first) *o += ",";
  *o += "\"";
  *o += key;
  *o += "\":";
  *o += b;
}

void Str(std::string* o, const char* key, std::string_view v,
         bool first = false) {
  if (!first) *o += ",";
  *o += "\"";
  *o += key;
  *o += "\":";
  AppendJsonString(o, std::string(v));
}

}  // namespace

std::string StatsJson(const Snapshot& s, double unix_time) {
  std::string o = "{";
  Num(&o, "time", unix_time, true);
  o += ",\"netns\":[";
  bool first_ns = true;
  for (const auto& ns : s.netns) {
    if (!first_ns) o += ",";
    first_ns = false;
    o += "{";
    Str(&o, "name", ns.netns, true);
    o += std::string(",\"ready\":") + (ns.ready ? "true" : "false");
    if (ns.kernel.entries)
      Num(&o, "kernel_entries", static_cast<double>(*ns.kernel.entries));
    if (ns.kernel.max_entries)
      Num(&o, "entries_limit", static_cast<double>(*ns.kernel.max_entries));
    Num(&o, "flow_table_entries", static_cast<double>(ns.table_entries));
    Num(&o, "flow_table_bytes", static_cast<double>(ns.table_bytes));
    Num(&o, "overruns", static_cast<double>(ns.overruns));
    Num(&o, "parse_errors", static_cast<double>(ns.parse_errors));
    Num(&o, "last_dump_seconds", ns.last_dump_seconds);
    Num(&o, "last_resync_unix_seconds", ns.last_resync_unix_seconds);
    o += ",\"resyncs\":{";
    for (int r = 0; r < kNumResyncReasons; ++r) {
      Num(&o,
          std::string(ResyncReasonName(static_cast<ResyncReason>(r))).c_str(),
          static_cast<double>(ns.resyncs[r]), r == 0);
    }
    o += "},\"entries\":[";
    bool first = true;
    for (const auto& e : ns.entries) {
      if (!first) o += ",";
      first = false;
      o += "{";
      Str(&o, "family", FamilyName(e.family), true);
      Str(&o, "protocol", ProtoName(e.proto));
      Str(&o, "state", StateName(e.proto, e.state));
      Num(&o, "ct_zone", e.zone);
      Num(&o, "value", static_cast<double>(e.value));
      o += "}";
    }
    o += "],\"events\":{";
    const char* names[kNumEventTypes] = {"new", "update", "destroy"};
    for (int t = 0; t < kNumEventTypes; ++t) {
      int64_t sum = 0;
      for (int f = 0; f < kNumFamilies; ++f) {
        for (int p = 0; p < kNumProtos; ++p) sum += ns.events[t][f][p];
      }
      Num(&o, names[t], static_cast<double>(sum), t == 0);
    }
    o += "},\"kernel\":{";
    for (int i = 0; i < kNumKernelStats; ++i) {
      Num(&o, std::string(KernelStatName(static_cast<KernelStat>(i))).c_str(),
          static_cast<double>(ns.kernel.cpu_sum[i]), i == 0);
    }
    o += "}}";
  }
  o += "]}\n";
  return o;
}

std::string StatsFlat(const Snapshot& s) {
  std::string o;
  for (const auto& ns : s.netns) {
    o += "netns " + (ns.netns.empty() ? std::string("-") : ns.netns) + "\n";
    for (const auto& e : ns.entries) {
      std::string_view st = StateName(e.proto, e.state);
      o += "entries " + std::string(FamilyName(e.family)) + " " +
           std::string(ProtoName(e.proto)) + " " +
           (st.empty() ? std::string("-") : std::string(st)) + " " +
           std::to_string(e.zone) + " " + std::to_string(e.value) + "\n";
    }
    const char* names[kNumEventTypes] = {"new", "update", "destroy"};
    for (int t = 0; t < kNumEventTypes; ++t) {
      int64_t sum = 0;
      for (int f = 0; f < kNumFamilies; ++f) {
        for (int p = 0; p < kNumProtos; ++p) sum += ns.events[t][f][p];
      }
      o += std::string("events ") + names[t] + " " + std::to_string(sum) + "\n";
    }
    if (ns.kernel.entries) {
      o += "kernel_entries " + std::to_string(*ns.kernel.entries) + "\n";
    }
    if (ns.kernel.max_entries) {
      o += "entries_limit " + std::to_string(*ns.kernel.max_entries) + "\n";
    }
    o += "overruns " + std::to_string(ns.overruns) + "\n";
  }
  return o;
}

}  // namespace ctcollect
