// The entries gauge and flows counter of one flow label (class, timeout
// policy, helper), shared by their metric sources.
// Pure; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "collector/flows/snapshot.h"

namespace ctcollect {

// The entries gauge and flows counter of a label (class, policy, helper):
// entries by protocol and state (or summed when !by_state), flows by
// protocol, for the series that ever held a flow.
void AddLabelFamilies(std::vector<prometheus::MetricFamily>* out,
                      const Snapshot& s,
                      std::vector<LabelSample> NetnsSnapshot::*field,
                      const std::string& label, std::string entries_name,
                      std::string entries_help, std::string flows_name,
                      std::string flows_help, bool by_state);

}  // namespace ctcollect
