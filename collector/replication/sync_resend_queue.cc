#include "collector/replication/sync_resend_queue.h"

#include <algorithm>
#include <cstring>

namespace ctcollect {

ResendQueue::ResendQueue(size_t capacity)
    : capacity_(capacity), by_flow_(std::clamp<size_t>(capacity, 16, 1024)) {}

void ResendQueue::Kill(uint64_t n) {
  Slot& s = At(n);
  if (!s.live) return;
  if (s.has_key) by_flow_.Erase(s.key);
  s.live = false;
  s.heap.reset();
  --live_;
}

void ResendQueue::Reclaim() {
  while (!slots_.empty() && !slots_.front().live) {
    slots_.pop_front();
    ++first_;
  }
}

void ResendQueue::Add(uint32_t seq, const uint8_t* msg, size_t len,
                      const SyncFlowKey* key) {
  if (capacity_ == 0 || len > 0xffff) return;
  if (key != nullptr) {
    if (const uint64_t* old = by_flow_.Find(*key)) Kill(*old);
  }
  while (live_ >= capacity_) {
    // The oldest live message goes.
    Reclaim();
    Kill(first_);
    ++dropped_full_;
  }
  Reclaim();
  slots_.emplace_back();
  Slot& s = slots_.back();
  const uint64_t n = first_ + slots_.size() - 1;
  s.seq = seq;
  s.len = static_cast<uint16_t>(len);
  s.live = true;
  if (len > kInline) {
    s.heap.reset(new uint8_t[len]);
    std::memcpy(s.heap.get(), msg, len);
  } else {
    std::memcpy(s.inline_bytes, msg, len);
  }
  if (key != nullptr) {
    s.has_key = true;
    s.key = *key;
    by_flow_.Put(*key, n);
  }
  ++live_;
}

size_t ResendQueue::Ack(uint32_t from, uint32_t to) {
  size_t n = 0;
  for (uint64_t i = first_; i < first_ + slots_.size(); ++i) {
    Slot& s = At(i);
    if (!s.live) continue;
    if (SeqBefore(s.seq, from)) continue;
    if (SeqAfter(s.seq, to)) break;
    Kill(i);
    ++n;
  }
  Reclaim();
  return n;
}

std::vector<ResendQueue::Message> ResendQueue::TakeRange(uint32_t from,
                                                         uint32_t to) {
  std::vector<Message> out;
  for (uint64_t i = first_; i < first_ + slots_.size(); ++i) {
    Slot& s = At(i);
    if (!s.live) continue;
    if (SeqBefore(s.seq, from)) continue;
    if (SeqAfter(s.seq, to)) break;
    out.push_back(
        Message{std::string(reinterpret_cast<const char*>(s.data()), s.len),
                s.has_key, s.key});
    Kill(i);
  }
  Reclaim();
  return out;
}

void ResendQueue::Clear() {
  // Called for every message a restarting peer flags HELLO: clearing the
  // reserved index costs its whole bucket array, so only when needed.
  if (slots_.empty()) return;
  slots_.clear();
  by_flow_.Clear();
  first_ = 0;
  live_ = 0;
}

void ResendQueue::ForEach(
    const std::function<void(uint32_t, bool, uint8_t)>& fn) const {
  for (const Slot& s : slots_) {
    if (s.live) fn(s.seq, !s.has_key, s.len > 1 ? s.data()[1] : 0);
  }
}

}  // namespace ctcollect
