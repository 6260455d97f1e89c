// Serves control-socket requests from the collector's state: conntrackd's
// request codes with conntrackd-shaped replies, and ctcollect's own verbs
// (stats as JSON, flow dumps with filters, resync, flush, kill).
//
// Thread safety: Handle() runs concurrently on control-socket threads; it
// only uses the thread-safe Collector interface and per-call dumps.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "collector/collector.h"
#include "collector/control_server.h"
#include "collector/sync_peer.h"

namespace ctcollect {

class ControlService : public ControlHandler {
 public:
  struct Options {
    int64_t buffer_size = 0;              // configured netlink buffer
    std::function<void()> stop_daemon;    // -k
    ControlCounters* counters = nullptr;  // shared with the server
    SyncPeer* sync = nullptr;             // replication peer mode, if on
  };
  ControlService(Collector* collector, Options opts);

  void Handle(const ControlRequest& req, ReplyWriter* out) override;
  // The server's counters exist only once it is bound; set before Start().
  void set_counters(ControlCounters* c) { opts_.counters = c; }
  // Replication peer mode, when on; set before Start().
  void set_sync(SyncPeer* s) { opts_.sync = s; }

 private:
  void HandleConntrackd(int32_t code, ReplyWriter* out);
  void HandleNative(const ControlRequest& req, ReplyWriter* out);
  bool Watches(const std::string& netns) const;
  // True if `netns` is "" or watched; else writes the 404 reply for `verb`.
  bool WatchedOr404(const char* verb, const std::string& netns,
                    ReplyWriter* out) const;
  // The snapshot of `netns`, the first namespace for "", or nullptr.
  static const NetnsSnapshot* PickNetns(const Snapshot& snap,
                                        const std::string& netns);
  std::string FlushKernel();
  SyncSnapshot SyncFigures() const;
  // -e: the external caches as conntrackd prints them (plain or XML) or
  // as our JSON.
  void WriteExternal(const std::string& format, ReplyWriter* out);
  // -e expect: the external expectations as conntrackd's -e expect.
  void WriteExternalExpects(bool xml, ReplyWriter* out);

  Collector* collector_;
  Options opts_;
  std::chrono::steady_clock::time_point started_;
  int64_t started_unix_;
  std::atomic<int64_t> kernel_flushes_{0};
};

}  // namespace ctcollect
