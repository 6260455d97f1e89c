#include "exporters/metrics/label_families.h"

#include "exporters/metrics/metric_family.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void AddLabelFamilies(std::vector<MetricFamily>* out, const Snapshot& s,
                      std::vector<LabelSample> NetnsSnapshot::*field,
                      const std::string& label, std::string entries_name,
                      std::string entries_help, std::string flows_name,
                      std::string flows_help, bool by_state) {
  MetricFamily& e = AddFamily(out, std::move(entries_name),
                              std::move(entries_help), MetricType::Gauge);
  for (const auto& ns : s.netns) {
    if (!ns.full_detail) continue;  // the summary has none
    for (const auto& c : ns.*field) {
      int64_t sum = 0;
      bool any = false;
      for (int p = 0; p < kNumProtos; ++p) {
        Proto proto = static_cast<Proto>(p);
        for (int st = 0; st < kMaxStates; ++st) {
          if (!c.seen[p][st]) continue;
          any = true;
          sum += c.entries[p][st];
          if (!by_state) continue;
          AddSample(&e,
                    {{"netns", ns.netns},
                     {label, c.name},
                     {"protocol", S(ProtoName(proto))},
                     {"state", S(StateName(proto, static_cast<uint8_t>(st)))}},
                    static_cast<double>(c.entries[p][st]));
        }
      }
      if (!by_state && any) {
        AddSample(&e, {{"netns", ns.netns}, {label, c.name}},
                  static_cast<double>(sum));
      }
    }
  }
  MetricFamily& f = AddFamily(out, std::move(flows_name), std::move(flows_help),
                              MetricType::Counter);
  for (const auto& ns : s.netns) {
    if (!ns.full_detail) continue;  // the summary has none
    for (const auto& c : ns.*field) {
      for (int p = 0; p < kNumProtos; ++p) {
        bool seen = c.flows[p] != 0;
        for (int st = 0; st < kMaxStates && !seen; ++st) seen = c.seen[p][st];
        if (!seen) continue;
        AddSample(&f,
                  {{"netns", ns.netns},
                   {label, c.name},
                   {"protocol", S(ProtoName(static_cast<Proto>(p)))}},
                  static_cast<double>(c.flows[p]));
      }
    }
  }
}

}  // namespace ctcollect
