#include "collector/replication/sync_engine.h"

#include <cstring>

namespace ctcollect {

const char* SyncMsgKindName(SyncMsgKind k) {
  switch (k) {
    case SyncMsgKind::kNew:
      return "new";
    case SyncMsgKind::kUpdate:
      return "update";
    case SyncMsgKind::kDestroy:
      return "destroy";
    case SyncMsgKind::kExpNew:
      return "exp_new";
    case SyncMsgKind::kExpUpdate:
      return "exp_update";
    case SyncMsgKind::kExpDestroy:
      return "exp_destroy";
    case SyncMsgKind::kAck:
      return "ack";
    case SyncMsgKind::kNack:
      return "nack";
    case SyncMsgKind::kResync:
      return "resync";
    case SyncMsgKind::kAlive:
      return "alive";
    case SyncMsgKind::kCount:
      break;
  }
  return "unknown";
}

SyncMsgKind KindOf(const SyncHeader& h) {
  if (h.type <= kSyncExpDel) return static_cast<SyncMsgKind>(h.type);
  if (h.IsAck()) return SyncMsgKind::kAck;
  if (h.IsNack()) return SyncMsgKind::kNack;
  if (h.IsResync()) return SyncMsgKind::kResync;
  return SyncMsgKind::kAlive;
}

SyncEngine::SyncEngine(const SyncEngineConfig& config,
                       std::vector<std::string> link_names,
                       std::vector<PeerSpec> peers, SyncSender* transport,
                       BulkSource bulk)
    : config_(config),
      // Sized once: a link (its resend queue) is not copyable.
      links_(link_names.size()),
      transport_(transport),
      bulk_(std::move(bulk)) {
  for (size_t i = 0; i < link_names.size(); ++i) {
    Link& l = links_[i];
    l.name = std::move(link_names[i]);
    l.seq = config_.initial_seq;
    l.rsqueue = ResendQueue(
        config_.mode == SyncMode::kFtfw ? config_.resend_queue_size : 0);
  }
  for (auto& s : peers) {
    Peer p;
    p.spec = std::move(s);
    p.window = config_.ack_window;
    peers_.push_back(std::move(p));
  }
  scratch_.resize(kSyncMaxMessage);
}

bool SyncEngine::link_synced(size_t link) const {
  return config_.mode != SyncMode::kFtfw || links_[link].hello == Hello::kDone;
}

// --- receiving -------------------------------------------------------------

size_t SyncEngine::Receive(size_t peer, const uint8_t* data, size_t len,
                           bool stream, int64_t now_ms, int64_t now_unix) {
  now_ms_ = now_ms;
  Peer& p = peers_[peer];
  p.stats.bytes_recv += static_cast<int64_t>(len);
  ++p.stats.packets_recv;
  p.stats.last_seen_unix = now_unix;
  size_t consumed = 0;
  SyncError err = WalkSyncMessages(
      data, len, stream, &consumed,
      [&](const SyncHeader& h, const uint8_t* msg, size_t mlen) {
        HandleMessage(p, h, msg, mlen, now_ms, now_unix);
      });
  if (err != SyncError::kNone) ++p.stats.malformed[static_cast<size_t>(err)];
  // A stream that failed cannot be resynchronised: drop what is left.
  return err != SyncError::kNone ? len : consumed;
}

size_t SyncEngine::AddPeer(PeerSpec spec) {
  Peer p;
  p.spec = std::move(spec);
  p.window = config_.ack_window;
  peers_.push_back(std::move(p));
  return peers_.size() - 1;
}

void SyncEngine::CountDropped(size_t peer, SyncError why) {
  ++peers_[peer].stats.malformed[static_cast<size_t>(why)];
}

SyncEngine::Track SyncEngine::TrackSeq(Peer& p, uint32_t seq) {
  if (!p.seq_set) return Track::kUnset;
  const uint32_t expected = p.last_seq + 1;
  if (seq == expected) return Track::kInSync;
  if (SeqAfter(seq, expected)) {
    // conntrackd adds seq - last + 1 here, two too many per gap.
    p.stats.lost += static_cast<int64_t>(seq - expected);
    return Track::kAfter;
  }
  ++p.stats.before;
  return Track::kBefore;
}

SyncEngine::Verdict SyncEngine::DigestControl(Peer& p, const SyncHeader& h) {
  if (h.IsData()) return Verdict::kData;
  Link& l = links_[p.spec.link];
  if (h.IsAck()) {
    if (SeqBefore(h.to, h.from)) return Verdict::kBad;
    l.rsqueue.Ack(h.from, h.to);
    return Verdict::kCtl;
  }
  if (h.IsNack()) {
    if (SeqBefore(h.to, h.from)) return Verdict::kBad;
    for (auto& m : l.rsqueue.TakeRange(h.from, h.to)) {
      ++l.stats.retransmitted;
      Send(l, reinterpret_cast<const uint8_t*>(m.bytes.data()), m.bytes.size(),
           m.has_key ? &m.key : nullptr);
    }
    return Verdict::kCtl;
  }
  if (h.IsResync()) {
    Bulk(&l);
    return Verdict::kCtl;
  }
  if (h.IsAlive()) return Verdict::kCtl;
  return Verdict::kBad;
}

SyncEngine::Verdict SyncEngine::FtfwRecv(Peer& p, const SyncHeader& h) {
  Link& l = links_[p.spec.link];
  bool bypass = false;
  if (h.flags & kSyncFlagHello) {
    l.say_hello_back = true;
    bypass = true;
  }
  if ((h.flags & kSyncFlagHelloBack) && l.hello == Hello::kSay) {
    l.hello = Hello::kDone;
  }
  Verdict v;
  if (bypass) {
    // The peer (re)started: what it had not acknowledged, it never will,
    // and its window starts again from here.
    if (p.ack_from_set && SeqBefore(h.seq, p.ack_from)) {
      p.window = static_cast<int64_t>(config_.ack_window) - 1;
      p.ack_from = h.seq;
    }
    l.rsqueue.Clear();
  } else {
    switch (TrackSeq(p, h.seq)) {
      case Track::kAfter: {
        v = DigestControl(p, h);
        if (v == Verdict::kBad) return v;
        const uint32_t expected = p.last_seq + 1;
        if (p.ack_from_set) {
          SendControl(l, kSyncFlagAck, p.ack_from, expected - 1);
          p.ack_from_set = false;
        }
        SendControl(l, kSyncFlagNack, expected, h.seq - 1);
        p.window = static_cast<int64_t>(config_.ack_window) - 1;
        p.ack_from = h.seq;
        p.ack_from_set = true;
        p.seq_set = true;
        p.last_seq = h.seq;
        return v;
      }
      case Track::kBefore:
        return Verdict::kDrop;
      case Track::kUnset:
      case Track::kInSync:
        break;
    }
  }
  v = DigestControl(p, h);
  if (v == Verdict::kBad) return v;
  if (!p.ack_from_set) {
    p.ack_from_set = true;
    p.ack_from = h.seq;
  }
  if (--p.window <= 0) {
    SendControl(l, kSyncFlagAck, p.ack_from, h.seq);
    p.window = config_.ack_window;
    p.ack_from_set = false;
  }
  p.seq_set = true;
  p.last_seq = h.seq;
  return v;
}

SyncEngine::Verdict SyncEngine::NotrackRecv(Peer& p, const SyncHeader& h) {
  TrackSeq(p, h.seq);
  // NOTRACK knows no acknowledgements.
  if (h.IsAck() || h.IsNack()) return Verdict::kBad;
  Verdict v = h.IsData() ? Verdict::kData : DigestControl(p, h);
  if (v != Verdict::kBad) {
    p.seq_set = true;
    p.last_seq = h.seq;
  }
  return v;
}

SyncEngine::Verdict SyncEngine::AlarmRecv(Peer& p, const SyncHeader& h) {
  // ALARM sends no control messages; any flags mean a peer in another
  // mode, whose control messages are ignored.
  if (h.flags != 0) return Verdict::kCtl;
  TrackSeq(p, h.seq);
  p.seq_set = true;
  p.last_seq = h.seq;
  return Verdict::kData;
}

void SyncEngine::HandleMessage(Peer& p, const SyncHeader& h, const uint8_t* msg,
                               size_t len, int64_t now_ms, int64_t now_unix) {
  if (h.version != kSyncVersion) {
    ++p.stats.malformed[static_cast<size_t>(SyncError::kBadVersion)];
    return;
  }
  Verdict v = Verdict::kBad;
  switch (config_.mode) {
    case SyncMode::kFtfw:
      v = FtfwRecv(p, h);
      break;
    case SyncMode::kNotrack:
      v = NotrackRecv(p, h);
      break;
    case SyncMode::kAlarm:
      v = AlarmRecv(p, h);
      break;
    case SyncMode::kOff:
      return;
  }
  if (v == Verdict::kBad) {
    ++p.stats.malformed[static_cast<size_t>(SyncError::kBadHeader)];
    return;
  }
  if (v == Verdict::kDrop) return;
  if (v == Verdict::kCtl) {
    if (h.type == kSyncCtl) ++p.stats.recv[static_cast<size_t>(KindOf(h))];
    return;
  }
  if (h.type > kSyncExpDel) {
    ++p.stats.malformed[static_cast<size_t>(SyncError::kBadType)];
    return;
  }
  const uint8_t* attrs = msg + kSyncHeaderSize;
  const size_t alen = len - kSyncHeaderSize;
  if (h.type <= kSyncCtDel) {
    if (!DecodeSyncFlow(attrs, alen, &decoded_)) {
      ++p.stats.malformed[static_cast<size_t>(SyncError::kBadPayload)];
      return;
    }
    p.cache.Apply(h.type, decoded_, now_unix, now_ms);
  } else {
    SyncExpect e;
    if (!DecodeSyncExpect(attrs, alen, &e)) {
      ++p.stats.malformed[static_cast<size_t>(SyncError::kBadPayload)];
      return;
    }
    p.cache.ApplyExpect(h.type, e, now_unix);
  }
  ++p.stats.recv[static_cast<size_t>(KindOf(h))];
}

// --- sending ---------------------------------------------------------------

void SyncEngine::Send(Link& l, const uint8_t* msg, size_t len,
                      const SyncFlowKey* key) {
  if (len > kSyncMaxMessage || len < kSyncHeaderSize) return;
  uint8_t buf[kSyncMaxMessage];
  std::memcpy(buf, msg, len);
  SyncHeader h = ReadSyncHeader(buf, len);
  h.seq = l.seq++;
  h.flags &= ~(kSyncFlagHello | kSyncFlagHelloBack);
  if (config_.mode == SyncMode::kFtfw) {
    if (l.hello == Hello::kInit) l.hello = Hello::kSay;
    if (l.hello == Hello::kSay) h.flags |= kSyncFlagHello;
    if (l.say_hello_back) {
      h.flags |= kSyncFlagHelloBack;
      l.say_hello_back = false;
    }
  }
  buf[1] = h.flags;
  buf[4] = static_cast<uint8_t>(h.seq >> 24);
  buf[5] = static_cast<uint8_t>(h.seq >> 16);
  buf[6] = static_cast<uint8_t>(h.seq >> 8);
  buf[7] = static_cast<uint8_t>(h.seq);
  if (l.batch.size() + len > config_.max_datagram) {
    FlushLink(static_cast<size_t>(&l - links_.data()));
  }
  l.batch.insert(l.batch.end(), buf, buf + len);
  ++l.stats.sent[static_cast<size_t>(KindOf(h))];
  if (config_.mode == SyncMode::kFtfw && (h.IsData() || h.HasRange())) {
    l.rsqueue.Add(h.seq, buf, len, key);
  }
}

void SyncEngine::SendControl(Link& l, uint8_t flags, uint32_t from,
                             uint32_t to) {
  SyncHeader h;
  h.type = kSyncCtl;
  h.flags = flags;
  h.from = from;
  h.to = to;
  h.len = h.HasRange() ? kSyncAckSize : kSyncHeaderSize;
  uint8_t buf[kSyncAckSize];
  PutSyncHeader(h, buf);
  Send(l, buf, h.len, nullptr);
}

void SyncEngine::FlushLink(size_t i) {
  Link& l = links_[i];
  if (l.batch.empty()) return;
  if (transport_->Send(i, l.batch.data(), l.batch.size())) {
    l.stats.bytes_sent += static_cast<int64_t>(l.batch.size());
    ++l.stats.packets_sent;
  } else {
    ++l.stats.send_errors;
  }
  l.last_send_ms = now_ms_;
  l.batch.clear();
}

void SyncEngine::Flush() {
  for (size_t i = 0; i < links_.size(); ++i) FlushLink(i);
}

void SyncEngine::LocalFlow(uint8_t type, const SyncFlow& f) {
  const size_t n = EncodeSyncFlow(f, type, 0, 0, scratch_.data());
  const SyncFlowKey key = f.Key();
  for (auto& l : links_) Send(l, scratch_.data(), n, &key);
}

void SyncEngine::LocalExpect(uint8_t type, const SyncExpect& e) {
  const size_t n = EncodeSyncExpect(e, type, 0, 0, scratch_.data());
  for (auto& l : links_) Send(l, scratch_.data(), n, nullptr);
}

void SyncEngine::Bulk(Link* only) {
  if (!bulk_) return;
  std::vector<uint8_t> buf(kSyncMaxMessage);
  bulk_([&](const SyncFlow& f) {
    const size_t n = EncodeSyncFlow(f, kSyncCtUpd, 0, 0, buf.data());
    const SyncFlowKey key = f.Key();
    if (only != nullptr) {
      Send(*only, buf.data(), n, &key);
    } else {
      for (auto& l : links_) Send(l, buf.data(), n, &key);
    }
  });
  if (bulk_expect_) {
    bulk_expect_([&](const SyncExpect& e) {
      const size_t n = EncodeSyncExpect(e, kSyncExpNew, 0, 0, buf.data());
      if (only != nullptr) {
        Send(*only, buf.data(), n, nullptr);
      } else {
        for (auto& l : links_) Send(l, buf.data(), n, nullptr);
      }
    });
  }
  Flush();
}

void SyncEngine::BulkSend() { Bulk(nullptr); }

void SyncEngine::RequestResync() {
  if (config_.mode == SyncMode::kAlarm) return;  // ALARM has no RESYNC
  for (auto& l : links_) SendControl(l, kSyncFlagResync, 0, 0);
  Flush();
}

void SyncEngine::ClearExternal() {
  for (auto& p : peers_) p.cache.Clear();
}

void SyncEngine::Tick(int64_t now_ms, int64_t now_unix) {
  (void)now_unix;
  now_ms_ = now_ms;
  if (config_.mode == SyncMode::kAlarm) {
    if (now_ms - last_refresh_ms_ >= config_.refresh_ms) {
      last_refresh_ms_ = now_ms;
      BulkSend();
    }
    if (now_ms - last_expiry_ms_ >= 1000) {
      last_expiry_ms_ = now_ms;
      for (auto& p : peers_) {
        p.stats.expired += static_cast<int64_t>(
            p.cache.ExpireBefore(now_ms - config_.cache_timeout_ms));
      }
    }
    return;
  }
  for (size_t i = 0; i < links_.size(); ++i) {
    Link& l = links_[i];
    if (now_ms - l.last_send_ms < config_.alive_ms) continue;
    bool acked = false;
    if (config_.mode == SyncMode::kFtfw) {
      for (auto& p : peers_) {
        if (p.spec.link != i || !p.ack_from_set || !p.seq_set) continue;
        SendControl(l, kSyncFlagAck, p.ack_from, p.last_seq);
        p.ack_from_set = false;
        acked = true;
      }
    }
    if (!acked) SendControl(l, kSyncFlagAlive, 0, 0);
    FlushLink(i);
  }
}

}  // namespace ctcollect
