// A point-in-time copy of everything the collector knows, in plain structs.
// Taking one costs O(series), never O(flows); exporters render it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/conntrack/dimensions.h"
#include "collector/conntrack/expectation.h"
#include "collector/conntrack/kernel_stats.h"
#include "collector/conntrack/timeout_policy.h"
#include "collector/conntrack/userspace_helper.h"
#include "collector/flows/counter_shard.h"
#include "collector/top/top_talkers.h"

namespace ctcollect {

struct EntriesSample {
  uint16_t zone;
  Family family;
  Proto proto;
  uint8_t state;
  int64_t value;
};

struct TransitionSample {
  Proto proto;
  uint8_t from;
  uint8_t to;
  int64_t value;
};

// The counters of one value of a label: a flow class (conntrack_class_*),
// a timeout policy (conntrack_policy_*), a helper (conntrack_helper_*).
struct LabelSample {
  std::string name;
  int64_t entries[kNumProtos][kMaxStates] = {};
  bool seen[kNumProtos][kMaxStates] = {};  // series that ever held a flow
  // Flows by protocol: started (NEW events) for classes and helpers,
  // ended for policies (known best at the end).
  int64_t flows[kNumProtos] = {};
};

// Who a namespace is (ctcollect_netns_info).
struct NetnsIdentity {
  uint64_t inode = 0;         // of its nsfs file; 0 if unknown
  bool discovered = false;    // found by --netns.discover, not asked for
  std::string pod;            // the pod a container runtime says it is
  std::string pod_namespace;  // that pod's Kubernetes namespace
  std::string pod_uid;
  std::string runtime;  // "containerd", "cri-o", or "" (no pod)
};

struct NetnsSnapshot {
  std::string netns;  // the --netns label; "" for the daemon's own
  NetnsIdentity identity;
  // The whole catalogue of series, or only the summary (--netns.detail).
  bool full_detail = true;
  bool ready = false;  // the first dump has completed
  bool events_up = false;
  bool dump_up = false;
  bool kernel_stats_up = false;
  bool policies_up = false;                // every policy source answered
  std::vector<TimeoutPolicy> policies;     // defaults first
  std::vector<std::string> policy_errors;  // why a source is missing
  std::vector<EntriesSample> entries;
  int64_t events[kNumEventTypes][kNumFamilies][kNumProtos] = {};
  std::vector<TransitionSample> transitions;
  KernelStats kernel;
  int64_t flow_bytes[kNumFamilies][kNumProtos][2] = {};
  int64_t flow_packets[kNumFamilies][kNumProtos][2] = {};
  int64_t status_entries[kNumFlowStatus] = {};
  std::vector<LabelSample> classes;         // by name
  std::vector<LabelSample> policy_entries;  // by name
  std::vector<LabelSample> helpers;         // by name
  // Expectations by helper name ("" for none), and the kernel's per-CPU
  // expectation statistics.
  std::map<std::string, ExpectationTable::HelperCounts> expectations;
  bool expectations_up = false;
  ExpStats exp_stats;
  bool exp_stats_up = false;
  std::vector<UserspaceHelper> userspace_helpers;  // nfnetlink_cthelper
  bool cthelper_up = false;
  std::string cthelper_error;  // why it is unavailable
  // Non-cumulative per bucket, the last one above every bound.
  int64_t flow_duration_buckets[kNumFamilies][kNumProtos]
                               [kNumDurationBounds + 1] = {};
  double flow_duration_sum[kNumFamilies][kNumProtos] = {};
  int64_t flows_added = 0;
  int64_t flows_updated = 0;
  int64_t flows_removed = 0;
  int64_t overruns = 0;
  int64_t parse_errors = 0;
  int64_t destroy_unknown = 0;
  std::array<int64_t, kNumResyncReasons> resyncs{};
  double last_dump_seconds = 0;         // duration of the last complete dump
  double last_resync_unix_seconds = 0;  // when it completed
  int64_t table_entries = 0;
  int64_t table_bytes = 0;
  int64_t receive_buffer_bytes = 0;
  // The top-talker keys over the minimum share, and the largest SNAT
  // tuples (collector/top); empty with --top.enabled=false.
  bool top_enabled = false;
  TopSample top;
  int64_t top_bytes = 0;
};

// What --netns.discover did (all zero without it).
struct DiscoverySnapshot {
  bool enabled = false;
  int64_t scans = 0;
  // Namespaces found but not opened (gone by then, or not ours to open).
  int64_t open_errors = 0;
  // config.json files of runtime bundles that did not parse, last scan.
  int64_t malformed_bundles = 0;
  double last_scan_seconds = 0;
};

struct Snapshot {
  std::vector<NetnsSnapshot> netns;  // the namespaces watched now
  DiscoverySnapshot discovery;
  // Namespaces asked for with --netns that are not there now (deleted, or
  // not yet back): the collector looks for them once a second.
  int64_t netns_missing = 0;
};

// Something that can produce a Snapshot. Thread-safe: called concurrently by
// HTTP and control-socket threads.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual Snapshot TakeSnapshot() const = 0;
  virtual bool Ready() const = 0;
};

}  // namespace ctcollect
