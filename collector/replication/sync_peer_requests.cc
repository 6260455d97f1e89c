// The operator's requests to replication peer mode (-B, -n, -f external,
// -e, -s rsqueue): each is posted to the peer's loop, which owns the
// engine and its caches, and waits for it there (RunOnLoop).
#include <algorithm>
#include <chrono>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/replication/sync_peer.h"

namespace ctcollect {

void SyncPeer::BulkSend() {
  RunOnLoop([this] {
    Log(LogLevel::kNotice, "sync: sending bulk update");
    engine_->BulkSend();
    Publish();
  });
}

void SyncPeer::RequestResync() {
  RunOnLoop([this] {
    Log(LogLevel::kNotice, "sync: requesting resync from the peers");
    engine_->RequestResync();
  });
}

void SyncPeer::FlushExternal() {
  RunOnLoop([this] {
    engine_->ClearExternal();
    Publish();
  });
}

std::vector<ExternalFlow> SyncPeer::ExternalFlows() {
  std::vector<ExternalFlow> out;
  RunOnLoop([&] {
    const int64_t now = SteadyMillis();
    const bool alarm = opts_.mode == SyncMode::kAlarm;
    const int64_t timeout_ms = opts_.cache_timeout.count() * 1000;
    for (size_t i = 0; i < engine_->peer_count(); ++i) {
      const std::string& name = engine_->peer_name(i);
      engine_->cache(i).ForEach([&](const SyncCache::Entry& e) {
        const int64_t left =
            alarm ? std::max<int64_t>(
                        0, (e.refreshed_ms + timeout_ms - now) / 1000)
                  : -1;
        out.push_back({name, e.flow, e.created_unix, left});
      });
    }
  });
  return out;
}

std::vector<ExternalExpect> SyncPeer::ExternalExpects() {
  std::vector<ExternalExpect> out;
  RunOnLoop([&] {
    for (size_t i = 0; i < engine_->peer_count(); ++i) {
      const std::string& name = engine_->peer_name(i);
      engine_->cache(i).ForEachExpect([&](const SyncCache::ExpectEntry& e) {
        out.push_back({name, e.expect, e.created_unix});
      });
    }
  });
  return out;
}

std::string SyncPeer::ResendQueueText() {
  std::string out;
  RunOnLoop([&] {
    for (size_t i = 0; i < engine_->link_count(); ++i) {
      const ResendQueue& q = engine_->resend_queue(i);
      out += "resent queue (len=" + std::to_string(q.size()) + ")\n";
      q.ForEach([&](uint32_t seq, bool control, uint8_t flags) {
        out += control ? "control -> seq:" + std::to_string(seq) +
                             " flags:" + std::to_string(flags) + "\n"
                       : "object -> seq:" + std::to_string(seq) + "\n";
      });
    }
  });
  return out;
}

}  // namespace ctcollect
