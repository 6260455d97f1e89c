// Watches the conntrack table of one network namespace: the event stream
// and the resync dumps. Owns one ingest thread that reads both netlink
// streams and is the only writer of the namespace's FlowTracker and
// CounterShard. What the kernel has beside the flows (timeout policies,
// helpers, expectations, statistics) is KernelTables'; the sysctls it sets
// up are netns_sysctl's; copying the counters into a snapshot is
// counter_snapshot's.
//
// Loss policy (as conntrackd's): on ENOBUFS count an overrun, double the
// receive buffer up to the configured cap, and resync with a full dump.
//
// Thread safety: Create/Start/Stop from the owning (main) thread;
// RequestResync, SetClassifier, SetResyncInterval, FillSnapshot and Ready
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "collector/base/log.h"
#include "collector/base/mutex.h"
#include "collector/flows/counter_shard.h"
#include "collector/flows/flow_tracker.h"
#include "collector/flows/snapshot.h"
#include "collector/netlink/dump_batch_reader.h"
#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/netns.h"
#include "collector/top/top_talkers.h"
#include "collector/watch/kernel_tables.h"

namespace ctcollect {

struct WatcherOptions {
  std::chrono::milliseconds resync_interval{60000};
  size_t buffer_size = 32u << 20;
  size_t buffer_max = 512u << 20;
  // Turn on nf_conntrack_acct and nf_conntrack_timestamp in the namespace
  // (flow bytes, packets and durations come from them).
  bool enable_accounting = false;
  // Rank sources, destinations, ports and SNAT tuples (--top.enabled), and
  // export the keys that hold at least this share of the table.
  bool top_enabled = true;
  double top_min_share = 0.01;
};

class NetnsWatcher {
 public:
  // Opens the sockets inside `ns`. Throws std::system_error (start-up only).
  NetnsWatcher(NetnsHandle ns, const WatcherOptions& opts);
  ~NetnsWatcher();
  NetnsWatcher(const NetnsWatcher&) = delete;
  NetnsWatcher& operator=(const NetnsWatcher&) = delete;

  void Start();
  void Stop();

  void RequestResync();
  // Replaces the flow classes (a config reload): the ingest thread takes
  // them between dumps and resyncs, after which the class gauges are exact.
  void SetClassifier(std::shared_ptr<const FlowClassifier> classifier);
  // Replaces the operator's timeout policy selectors (config reload).
  void SetPolicySelectors(std::vector<PolicySelector> selectors);
  // The interval between periodic resyncs, from the next one on.
  void SetResyncInterval(std::chrono::milliseconds interval) {
    resync_interval_ms_.store(interval.count());
  }
  void FillSnapshot(NetnsSnapshot* out) const;
  // The `limit` keys of ranking `by` with the most entries; nullopt when
  // rankings are off.
  std::optional<TopRanking> Top(TopBy by, size_t limit) const;
  // How long flows stayed in each state, per timeout policy (for advice).
  std::vector<PolicyDurations> CopyStateDurations() const;
  bool Ready() const { return ready_.load(std::memory_order_acquire); }
  // The ingest thread went round its loop within `max_age` (it does at
  // least once a second unless stuck).
  bool Alive(std::chrono::milliseconds max_age) const;
  const std::string& label() const { return ns_->label(); }
  const NetnsHandle& netns() const { return *ns_; }
  // The handle, for dumps that must keep it open while they run.
  NetnsRef shared_netns() const { return ns_; }

 private:
  static constexpr int kHeartbeatMs = 1000;
  void Run();
  void Wake();
  // Reads whatever events are queued, at most `max_batches` recvmmsg calls.
  // Returns the number of datagrams read.
  int DrainEvents(int max_batches);
  // Parses one datagram's messages: expectation events are applied at
  // once, conntrack events appended to event_msgs_ (applied per batch).
  void HandleEventDatagram(const uint8_t* data, size_t len);
  void OnOverrun();
  // Takes the classifier and selectors SetClassifier / SetPolicySelectors
  // left, if any (ingest thread, between dumps); returns whether it did.
  bool TakeConfigChanges();
  void StartDump(ResyncReason reason);
  // Applies at most `max` batches the dump reader has ready.
  void ApplyDumpBatches(size_t max);
  void FinishDump(bool complete);
  uint32_t NowSeconds() const;

  NetnsRef ns_;
  WatcherOptions opts_;
  std::string where_;  // for log lines: "netns \"x\"" or "own netns"

  std::unique_ptr<NetlinkSocket> events_;
  std::unique_ptr<DumpBatchReader> dump_;
  std::unique_ptr<KernelTables> tables_;  // policies, helpers, stats
  int wake_fd_ = -1;  // eventfd: wakes the ingest thread; the flags say why
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> resync_requested_{false};
  std::atomic<int64_t> resync_interval_ms_;
  Mutex classifier_mu_;
  std::shared_ptr<const FlowClassifier> new_classifier_
      GUARDED_BY(classifier_mu_);
  std::vector<PolicySelector> new_selectors_ GUARDED_BY(classifier_mu_);
  std::atomic<bool> classifier_changed_{false};
  std::atomic<bool> selectors_changed_{false};

  CounterShard counters_;
  std::unique_ptr<TopTalkers> top_;  // null with --top.enabled=false
  FlowTracker tracker_;
  BatchReceiver event_batch_{64, 8192};
  std::vector<DumpBatchReader::Batch> dump_batches_;  // reused between takes
  std::vector<CtMessage> dump_entries_;  // parsed, applied as one batch
  std::vector<CtMessage> event_msgs_;    // one recvmmsg's events, parsed
  uint32_t dump_seq_ = 0;

  // Ingest-thread state.
  std::chrono::steady_clock::time_point dump_started_;
  std::chrono::steady_clock::time_point next_resync_;
  bool resync_pending_ = false;
  ResyncReason pending_reason_ = ResyncReason::kInterval;
  bool dump_intr_ = false;

  // Published to readers.
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> heartbeat_ms_{0};
  std::atomic<bool> events_up_{false};
  std::atomic<bool> dump_up_{false};
  std::atomic<double> last_dump_seconds_{0};
  std::atomic<double> last_resync_unix_{0};
  std::atomic<int64_t> rcvbuf_{0};

  RateLimitedLog overrun_log_{LogLevel::kWarn, std::chrono::seconds(60)};
  RateLimitedLog parse_log_{LogLevel::kWarn, std::chrono::seconds(60)};
  std::thread thread_;
};

}  // namespace ctcollect
