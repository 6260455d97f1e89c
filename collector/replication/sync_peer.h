// Replication peer mode at run time: one thread that owns the sync
// channel's sockets, a ctnetlink event socket of the replicated namespace
// and the SyncEngine, as conntrackd's single loop owns its descriptors.
// Local conntrack events become NEW/UPD/DEL messages to the peers; what
// the peers send fills their external caches.
//
// The internal cache, as conntrackd's: the local flows as last announced,
// filled by a dump at start and kept by the events, so that a bulk send
// (-B, or a peer's RESYNC) is a walk over memory. A resync dump, every
// --resync-interval and at once after lost events (ENOBUFS), reconciles it
// with the kernel and announces the difference: flows it did not know as
// NEW, changed ones as UPD, vanished ones as DEL (flows older than the
// daemon send no events under nf_conntrack_events=2; this catches them).
//
// Flows of the sync link itself (the sync port to or from a peer address
// or the group) are not replicated.
//
// Thread safety: constructor, Start and Stop from the main thread; every
// other member from any thread (they post work to the loop and wait).
#pragma once

#include <linux/netlink.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collector/base/log.h"
#include "collector/base/mutex.h"
#include "collector/netlink/netns.h"
#include "collector/replication/sync_channel.h"
#include "collector/replication/sync_commit.h"
#include "collector/replication/sync_engine.h"
#include "collector/replication/sync_options.h"
#include "collector/replication/sync_snapshot.h"

namespace ctcollect {

class NetlinkSocket;

class SyncPeer : public SyncChannelSink, public SyncSender {
 public:
  // Opens the channel and the event socket inside `ns` (held for the
  // peer's life: the replicated namespace stays open while the peer runs).
  // Throws ConfigError / std::system_error (start-up only).
  SyncPeer(const SyncOptions& opts, NetnsRef ns);
  ~SyncPeer() override;
  SyncPeer(const SyncPeer&) = delete;
  SyncPeer& operator=(const SyncPeer&) = delete;

  void Start();
  void Stop();

  // The figures as of the loop's last turn (at most ~0.5 s old).
  SyncSnapshot Snapshot() const;

  // Operator requests, carried out on the loop (sync_peer_requests.cc).
  void BulkSend();
  void RequestResync();
  void FlushExternal();
  std::vector<ExternalFlow> ExternalFlows();
  std::vector<ExternalExpect> ExternalExpects();
  // `-s rsqueue`: conntrackd's listing of the resend queues.
  std::string ResendQueueText();
  // Injects every external flow into the replicated namespace's kernel
  // table (conntrackd -c, sync_commit.h). Returns the report.
  std::string Commit();

  const SyncOptions& options() const { return opts_; }

 private:
  // SyncChannelSink
  size_t OnData(const std::string& source, const uint8_t* data, size_t len,
                bool stream) override;
  void OnDropped(const std::string& source, SyncError why) override;
  // SyncSender
  bool Send(size_t link, const uint8_t* data, size_t len) override;

  void Loop();
  // Runs `fn` on the loop thread and waits for it.
  void RunOnLoop(std::function<void()> fn);
  void RunPending();
  void ReadEvents();
  void HandleEvent(const nlmsghdr* nlh);
  void HandleExpectEvent(const nlmsghdr* nlh);
  bool IsSyncLinkFlow(const SyncFlow& f) const;
  // Dumps the local table into the internal cache; with `announce`, sends
  // the peers what differs from what they were told.
  void DumpLocal(bool announce);
  size_t PeerIndex(const std::string& ip);
  void Publish();

  SyncOptions opts_;
  NetnsRef ns_;
  std::unique_ptr<SyncChannel> channel_;
  std::unique_ptr<NetlinkSocket> events_;
  std::unique_ptr<SyncEngine> engine_;
  std::unordered_map<std::string, size_t> peer_of_ip_;
  bool dynamic_peers_ = false;
  std::vector<SyncEndpoint> link_endpoints_;  // for the sync-link filter
  uint16_t sync_port_ = 0;

  SyncCache internal_;  // the local flows, as announced to the peers
  int64_t last_local_resync_ms_ = 0;
  bool local_resync_due_ = false;
  int64_t local_events_ = 0, local_overruns_ = 0, bulk_sends_ = 0;
  int64_t foreign_ = 0;
  RateLimitedLog foreign_log_{LogLevel::kWarn, std::chrono::seconds(60)};
  RateLimitedLog dropped_log_{LogLevel::kWarn, std::chrono::seconds(60)};
  RateLimitedLog overrun_log_{LogLevel::kWarn, std::chrono::seconds(60)};

  int wake_fd_ = -1;
  Mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_ GUARDED_BY(tasks_mu_);
  mutable Mutex snap_mu_;
  SyncSnapshot snapshot_ GUARDED_BY(snap_mu_);
  int64_t last_publish_ms_ = 0;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace ctcollect
