// The replication protocol of conntrackd's sync modes, without sockets or
// threads: FT-FW (sequence tracking, ACK window, NACK of gaps, resend
// queue, HELLO/HELLO_BACK, ALIVE, RESYNC), NOTRACK (no recovery, ALIVE,
// RESYNC) and ALARM (periodic refresh, expiry of stale external entries),
// as conntrackd 1.4.7's sync-ftfw.c / sync-notrack.c / sync-alarm.c behave
// (shared/reference/conntrackd.md §1).
//
// Two halves: a link is where this node sends (one per unicast peer, one
// for a multicast group), with its own sequence numbers, HELLO state,
// resend queue and datagram batching; a peer is a node this node receives
// from, with its sequence tracking, ACK window and external cache. Each
// peer answers (ACK, NACK, HELLO_BACK, RESYNC) on its link.
//
// Inputs: Receive() (bytes from a peer), LocalFlow() (what the local kernel
// did), Tick() (time), BulkSend()/RequestResync() (operator). Outputs go to
// a SyncSender; bulk sends read the local table through a BulkSource.
// Time is passed in, never read, so tests drive it.
//
// Thread safety: none; one thread owns an engine.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/replication/sync_cache.h"
#include "collector/replication/sync_options.h"
#include "collector/replication/sync_resend_queue.h"
#include "collector/replication/sync_wire.h"

namespace ctcollect {

class SyncSender {
 public:
  virtual ~SyncSender() = default;
  // Sends one datagram (whole messages) on link `link`. False on error.
  virtual bool Send(size_t link, const uint8_t* data, size_t len) = 0;
};

// Reads the local kernel table for a bulk send: calls `emit` per flow.
using BulkSource =
    std::function<void(const std::function<void(const SyncFlow&)>& emit)>;
// Likewise for the local expectations (ExpectationSync).
using ExpectSource =
    std::function<void(const std::function<void(const SyncExpect&)>& emit)>;

// Message kinds, for the per-type counters.
enum class SyncMsgKind : uint8_t {
  kNew,
  kUpdate,
  kDestroy,
  kExpNew,
  kExpUpdate,
  kExpDestroy,
  kAck,
  kNack,
  kResync,
  kAlive,
  kCount,
};
const char* SyncMsgKindName(SyncMsgKind k);
SyncMsgKind KindOf(const SyncHeader& h);

struct SyncEngineConfig {
  SyncMode mode = SyncMode::kFtfw;
  uint32_t ack_window = 300;
  uint32_t resend_queue_size = 131072;
  size_t max_datagram = 1472;  // bytes of messages per datagram
  int64_t alive_ms = 1000;
  int64_t refresh_ms = 15000;         // ALARM
  int64_t cache_timeout_ms = 180000;  // ALARM
  uint32_t initial_seq = 0;           // conntrackd starts at time(NULL)
};

struct SyncLinkStats {
  int64_t bytes_sent = 0, packets_sent = 0, send_errors = 0;
  std::array<int64_t, static_cast<size_t>(SyncMsgKind::kCount)> sent{};
  int64_t retransmitted = 0;
};

struct SyncPeerStats {
  int64_t bytes_recv = 0, packets_recv = 0;
  std::array<int64_t, static_cast<size_t>(SyncMsgKind::kCount)> recv{};
  std::array<int64_t, static_cast<size_t>(SyncError::kCount)> malformed{};
  int64_t lost = 0;    // messages never received (gaps in the sequence)
  int64_t before = 0;  // old or duplicated sequence numbers, dropped
  int64_t last_seen_unix = 0;
  int64_t expired = 0;  // ALARM entries that timed out
};

class SyncEngine {
 public:
  struct PeerSpec {
    std::string name;  // its address, for labels
    size_t link = 0;   // where this node answers it
  };
  SyncEngine(const SyncEngineConfig& config,
             std::vector<std::string> link_names, std::vector<PeerSpec> peers,
             SyncSender* transport, BulkSource bulk);

  // A datagram (or, with `stream`, bytes of a TCP stream: the caller keeps
  // the unconsumed tail and passes it again with more) from peer `peer`.
  // Returns the bytes consumed.
  size_t Receive(size_t peer, const uint8_t* data, size_t len, bool stream,
                 int64_t now_ms, int64_t now_unix);
  // A peer seen for the first time (multicast without configured peers).
  size_t AddPeer(PeerSpec spec);
  // Counts a datagram dropped before decoding (foreign source, bad HMAC).
  void CountDropped(size_t peer, SyncError why);

  // Replicates a local change (kSyncCtNew/Upd/Del) to every link.
  void LocalFlow(uint8_t type, const SyncFlow& f);
  void LocalExpect(uint8_t type, const SyncExpect& e);
  // Alive messages, window ACKs on idle, ALARM refresh and expiry.
  void Tick(int64_t now_ms, int64_t now_unix);
  // Sends what is batched. Call after each burst of inputs.
  void Flush();

  // Bulk sends also carry the local expectations (ExpectationSync).
  void set_expect_source(ExpectSource s) { bulk_expect_ = std::move(s); }
  // -B: every local flow to every link. -n: ask every peer for theirs.
  void BulkSend();
  void RequestResync();
  // -f external: forget what the peers said.
  void ClearExternal();

  size_t peer_count() const { return peers_.size(); }
  size_t link_count() const { return links_.size(); }
  const std::string& peer_name(size_t i) const { return peers_[i].spec.name; }
  const std::string& link_name(size_t i) const { return links_[i].name; }
  const SyncCache& cache(size_t peer) const { return peers_[peer].cache; }
  const SyncPeerStats& peer_stats(size_t peer) const {
    return peers_[peer].stats;
  }
  const SyncLinkStats& link_stats(size_t link) const {
    return links_[link].stats;
  }
  const ResendQueue& resend_queue(size_t link) const {
    return links_[link].rsqueue;
  }
  // HELLO handshake of a link finished (FT-FW; always true otherwise).
  bool link_synced(size_t link) const;
  const SyncEngineConfig& config() const { return config_; }

 private:
  enum class Hello { kInit, kSay, kDone };
  enum class Verdict { kData, kCtl, kDrop, kBad };
  struct Link {
    std::string name;
    uint32_t seq = 0;  // next to send
    Hello hello = Hello::kInit;
    bool say_hello_back = false;
    ResendQueue rsqueue{0};
    std::vector<uint8_t> batch;
    int64_t last_send_ms = 0;
    SyncLinkStats stats;
  };
  struct Peer {
    PeerSpec spec;
    bool seq_set = false;
    uint32_t last_seq = 0;
    int64_t window = 0;
    uint32_t ack_from = 0;
    bool ack_from_set = false;
    SyncCache cache;
    SyncPeerStats stats;
  };

  void HandleMessage(Peer& p, const SyncHeader& h, const uint8_t* msg,
                     size_t len, int64_t now_ms, int64_t now_unix);
  Verdict FtfwRecv(Peer& p, const SyncHeader& h);
  Verdict NotrackRecv(Peer& p, const SyncHeader& h);
  Verdict AlarmRecv(Peer& p, const SyncHeader& h);
  Verdict DigestControl(Peer& p, const SyncHeader& h);
  // Sequence tracking: kInSync, kAfter (a gap), kBefore, kUnset.
  enum class Track { kUnset, kInSync, kAfter, kBefore };
  Track TrackSeq(Peer& p, uint32_t seq);

  // Stamps `msg` with the link's next sequence number (and HELLO flags in
  // FT-FW), batches it, and keeps it for retransmission where FT-FW does.
  void Send(Link& l, const uint8_t* msg, size_t len, const SyncFlowKey* key);
  void SendControl(Link& l, uint8_t flags, uint32_t from, uint32_t to);
  void FlushLink(size_t i);
  void Bulk(Link* only);

  SyncEngineConfig config_;
  std::vector<Link> links_;
  std::vector<Peer> peers_;
  SyncSender* transport_;
  BulkSource bulk_;
  ExpectSource bulk_expect_;
  int64_t now_ms_ = 0;
  int64_t last_refresh_ms_ = 0;
  int64_t last_expiry_ms_ = 0;
  std::vector<uint8_t> scratch_;
  SyncFlow decoded_;  // the message being handled (reused: no zeroing twice)
};

}  // namespace ctcollect
