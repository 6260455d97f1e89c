// Serves control-socket requests from the collector's state: conntrackd's
// request codes with conntrackd-shaped replies, and ctcollect's own verbs
// (stats as JSON, flow dumps with filters, resync, flush, kill). Each verb
// and each code is one row of a table (control_verbs.cc) naming the member
// that answers it: the collector's verbs in native_verbs.cc, conntrackd's
// codes in conntrackd_verbs.cc, replication peer mode's in peer_verbs.cc.
//
// Thread safety: Handle() runs concurrently on control-socket threads; it
// only uses the thread-safe NetnsSet and SyncPeer interfaces and per-call
// dumps. set_counters and set_sync before the server starts.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "collector/control/control_server.h"
#include "collector/replication/sync_peer.h"
#include "collector/watch/netns_set.h"

namespace ctcollect {

class ControlVerbs : public ControlHandler {
 public:
  struct Options {
    std::function<void()> stop_daemon;    // -k
    ControlCounters* counters = nullptr;  // shared with the server
    SyncPeer* sync = nullptr;             // replication peer mode, if on
  };
  ControlVerbs(NetnsSet* collector, Options opts);

  void Handle(const ControlRequest& req, ReplyWriter* out) override;
  // The server's counters exist only once it is bound; set before Start().
  void set_counters(ControlCounters* c) { opts_.counters = c; }
  // Replication peer mode, when on; set before Start().
  void set_sync(SyncPeer* s) { opts_.sync = s; }

 private:
  // A native request's arguments; a missing key reads as "".
  struct Args {
    const std::map<std::string, std::string>& map;
    std::string operator()(const char* key) const {
      auto it = map.find(key);
      return it == map.end() ? std::string() : it->second;
    }
  };
  using NativeVerb = void (ControlVerbs::*)(const Args& arg, ReplyWriter* out);
  struct NativeRow {
    std::string_view verb;
    NativeVerb answer;
    bool needs_peer;  // replication peer mode must be on (else 501)
  };
  using ConntrackdVerb = void (ControlVerbs::*)(int32_t code, ReplyWriter* out);
  struct ConntrackdRow {
    int32_t code;
    ConntrackdVerb answer;
  };
  static const NativeRow kNativeVerbs[];
  static const ConntrackdRow kConntrackdVerbs[];

  void HandleConntrackd(int32_t code, ReplyWriter* out);
  void HandleNative(const ControlRequest& req, ReplyWriter* out);
  void CountUnknownRequest();

  // native_verbs.cc: the collector's verbs.
  void Version(const Args& arg, ReplyWriter* out);
  void Stats(const Args& arg, ReplyWriter* out);
  void Top(const Args& arg, ReplyWriter* out);
  void Conntrackd(const Args& arg, ReplyWriter* out);
  void Flows(const Args& arg, ReplyWriter* out);
  void Expectations(const Args& arg, ReplyWriter* out);
  void Policies(const Args& arg, ReplyWriter* out);
  void Advise(const Args& arg, ReplyWriter* out);
  void Helpers(const Args& arg, ReplyWriter* out);
  void Resync(const Args& arg, ReplyWriter* out);
  void FlushKernelVerb(const Args& arg, ReplyWriter* out);
  void Kill(const Args& arg, ReplyWriter* out);

  // conntrackd_verbs.cc: conntrackd's request codes.
  void StatsGeneral(int32_t code, ReplyWriter* out);
  void StatsCache(int32_t code, ReplyWriter* out);
  void StatsRuntime(int32_t code, ReplyWriter* out);
  void DumpInternal(int32_t code, ReplyWriter* out);
  void ResyncMaster(int32_t code, ReplyWriter* out);
  void FlushMaster(int32_t code, ReplyWriter* out);
  void FlushCache(int32_t code, ReplyWriter* out);
  void KillCode(int32_t code, ReplyWriter* out);
  void NothingToPrint(int32_t code, ReplyWriter* out);

  // peer_verbs.cc: replication peer mode, in both protocols.
  void External(const Args& arg, ReplyWriter* out);
  void Bulk(const Args& arg, ReplyWriter* out);
  void RequestPeerResync(const Args& arg, ReplyWriter* out);
  void FlushExternal(const Args& arg, ReplyWriter* out);
  void Commit(const Args& arg, ReplyWriter* out);
  void StatsNetwork(int32_t code, ReplyWriter* out);
  void StatsRsqueue(int32_t code, ReplyWriter* out);
  void StatsQueue(int32_t code, ReplyWriter* out);
  void StatsLink(int32_t code, ReplyWriter* out);
  void DumpExternal(int32_t code, ReplyWriter* out);
  void DumpExternalExpects(int32_t code, ReplyWriter* out);
  void CommitCode(int32_t code, ReplyWriter* out);
  void FlushExternalCode(int32_t code, ReplyWriter* out);
  void BulkCode(int32_t code, ReplyWriter* out);
  void RequestPeerResyncCode(int32_t code, ReplyWriter* out);

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

  NetnsSet* collector_;
  Options opts_;
  std::chrono::steady_clock::time_point started_;
  int64_t started_unix_;
  std::atomic<int64_t> kernel_flushes_{0};
};

}  // namespace ctcollect
