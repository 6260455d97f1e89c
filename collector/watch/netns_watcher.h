// Watches the conntrack table of one network namespace: the event stream
// and the resync dumps. It has no thread of its own: an IngestPool thread
// reads its event socket (multiplexed with other namespaces' by epoll) and
// calls Service(), and is the only writer of the namespace's FlowTracker
// and CounterShard; its dumps run on a WorkerPool (DumpBatchReader). What
// the kernel has beside the flows (timeout policies, helpers,
// expectations, statistics) is KernelTables'; the sysctls it sets up are
// netns_sysctl's; copying the counters into a snapshot is
// counter_snapshot's.
//
// An idle watcher holds two descriptors (the namespace and the event
// socket) and no buffer beyond its tables: the dump and request sockets
// are opened for each use, and the receive batch belongs to the ingest
// thread.
//
// Loss policy (as conntrackd's): on ENOBUFS count an overrun, double the
// receive buffer up to the configured cap, and resync with a full dump.
//
// Thread safety: the constructor from any thread; Attach, Detach,
// DrainEvents, Service and NextDeadline from its ingest thread;
// RequestResync, SetClassifier, SetResyncInterval, FillSnapshot and Ready
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "collector/base/log.h"
#include "collector/base/mutex.h"
#include "collector/base/worker_pool.h"
#include "collector/conntrack/ct_message.h"
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
  // After an overrun the buffer is at least this (0: buffer_size): a
  // discovered namespace starts small, and one that overruns is busy, so
  // it goes straight to what named ones have rather than overrunning (and
  // resyncing) once per doubling.
  size_t busy_buffer_size = 0;
  // Turn on nf_conntrack_acct and nf_conntrack_timestamp in the namespace
  // (flow bytes, packets and durations come from them).
  bool enable_accounting = false;
  // Rank sources, destinations, ports and SNAT tuples (--top.enabled), and
  // export the keys that hold at least this share of the table.
  bool top_enabled = true;
  double top_min_share = 0.01;
  // The whole catalogue of series for this namespace, or (false) the
  // summary: entries, events, overruns, resyncs, up (--netns.detail).
  bool full_detail = true;
  // Per-namespace notes (the event sysctl, the first dump) at debug level:
  // discovered namespaces come and go by the hundred.
  bool quiet = false;
  // A periodic dump that found nothing to correct (no flow missing from
  // the table, none the table had too many) doubles the interval to the
  // next one, up to 8 times the interval; any correction, overrun or
  // request brings it back. For discovered namespaces: each dump walks the
  // host's whole conntrack hash, however few flows the namespace has.
  bool back_off_quiet_resyncs = false;
  // Spread the periodic resyncs of many namespaces over the interval: the
  // first one after start-up comes after this share of it (0.5 to 1),
  // later ones an interval apart.
  double resync_phase = 1.0;
};

// What an ingest thread lends the namespaces it serves: the receive batch
// and the parse buffers, one set per thread rather than per namespace.
struct IngestScratch {
  BatchReceiver events{64, 8192};
  std::vector<CtMessage> event_msgs;    // one batch's events, parsed
  std::vector<CtMessage> dump_entries;  // parsed, applied as one batch
  std::vector<DumpBatchReader::Batch> dump_batches;  // reused between takes
};

class NetnsWatcher;

// How a watcher asks its ingest thread to call Service() soon.
class IngestWaker {
 public:
  virtual ~IngestWaker() = default;
  virtual void Poke(NetnsWatcher* w) = 0;
};

class NetnsWatcher {
 public:
  // Opens the event socket inside `ns`; dumps run on `dumps`. Throws
  // std::system_error.
  NetnsWatcher(NetnsHandle ns, const WatcherOptions& opts, WorkerPool* dumps);
  ~NetnsWatcher();
  NetnsWatcher(const NetnsWatcher&) = delete;
  NetnsWatcher& operator=(const NetnsWatcher&) = delete;

  // The ingest thread's side. Attach starts the first dump; after Detach
  // the watcher no longer pokes `waker`.
  int event_fd() const { return events_->fd(); }
  void Attach(IngestWaker* waker);
  void Detach();
  // Reads whatever events are queued, at most `max_batches` batches.
  // Returns the number of datagrams read.
  int DrainEvents(IngestScratch* scratch, int max_batches);
  // Resyncs asked for or due, config changes, dump batches ready.
  void Service(IngestScratch* scratch);
  // When Service() must run next without a poke (time_point::max(): not
  // before one).
  std::chrono::steady_clock::time_point NextDeadline() const;
  bool dumping() const { return tracker_.dumping(); }

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
  const std::string& label() const { return ns_->label(); }
  const NetnsHandle& netns() const { return *ns_; }
  // The handle, for dumps that must keep it open while they run.
  NetnsRef shared_netns() const { return ns_; }

 private:
  void Wake() EXCLUDES(waker_mu_);
  // Parses one datagram's messages: expectation events are applied at
  // once, conntrack events appended to *msgs (applied per batch).
  void HandleEventDatagram(const uint8_t* data, size_t len,
                           std::vector<CtMessage>* msgs);
  void OnOverrun();
  // Takes the classifier and selectors SetClassifier / SetPolicySelectors
  // left, if any (ingest thread, between dumps); returns whether it did.
  bool TakeConfigChanges();
  void StartDump(ResyncReason reason);
  // Applies at most `max` batches the dump reader has ready.
  void ApplyDumpBatches(IngestScratch* scratch, size_t max);
  // On the dump pool, before the dump request: what the dump needs;
  // false when the kernel counts no entry (nothing to dump).
  bool PrepareDump();
  void FinishDump(bool complete);
  // Logs why a dump failed: each time for a named namespace, at most once
  // a minute (with a count) over all discovered ones.
  void DumpFailed(const std::string& why);
  uint32_t NowSeconds() const;

  NetnsRef ns_;
  WatcherOptions opts_;
  std::string where_;  // for log lines: "netns \"x\"" or "own netns"

  std::unique_ptr<NetlinkSocket> events_;
  std::unique_ptr<KernelTables> tables_;  // policies, helpers, stats
  std::unique_ptr<DumpBatchReader> dump_;
  Mutex waker_mu_;
  IngestWaker* waker_ GUARDED_BY(waker_mu_) = nullptr;
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
  uint32_t dump_seq_ = 0;

  // Ingest-thread state.
  std::chrono::steady_clock::time_point dump_started_;
  std::chrono::steady_clock::time_point next_resync_;
  // A resync is wanted: it starts once no dump runs and retry_at_ passed.
  bool resync_pending_ = false;
  std::chrono::steady_clock::time_point retry_at_;
  ResyncReason pending_reason_ = ResyncReason::kInterval;
  bool dump_intr_ = false;
  bool first_batch_ = false;  // of the running dump: not applied yet
  bool first_dump_ = true;
  ResyncReason dump_reason_ = ResyncReason::kStartup;  // of the running one
  int quiet_dumps_ = 0;  // periodic dumps in a row that corrected nothing

  // Left by PrepareDump for the ingest thread's first batch of the dump.
  std::atomic<size_t> expected_entries_{0};
  std::atomic<bool> expectations_malformed_{false};

  // Published to readers.
  std::atomic<bool> ready_{false};
  std::atomic<bool> events_up_{false};
  std::atomic<bool> dump_up_{false};
  std::atomic<double> last_dump_seconds_{0};
  std::atomic<double> last_resync_unix_{0};
  std::atomic<int64_t> rcvbuf_{0};

  RateLimitedLog overrun_log_{LogLevel::kWarn, std::chrono::seconds(60)};
  RateLimitedLog parse_log_{LogLevel::kWarn, std::chrono::seconds(60)};
};

}  // namespace ctcollect
