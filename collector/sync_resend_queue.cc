#include "collector/sync_resend_queue.h"

namespace ctcollect {

void ResendQueue::Erase(std::list<Item>::iterator it) {
  if (it->msg.has_key) by_flow_.erase(it->msg.key);
  items_.erase(it);
}

void ResendQueue::Add(uint32_t seq, const uint8_t* msg, size_t len,
                      const SyncFlowKey* key) {
  if (capacity_ == 0) return;
  if (key != nullptr) {
    auto old = by_flow_.find(*key);
    if (old != by_flow_.end()) Erase(old->second);
  }
  if (items_.size() >= capacity_) {
    Erase(items_.begin());
    ++dropped_full_;
  }
  Item item{seq,
            Message{std::string(reinterpret_cast<const char*>(msg), len),
                    key != nullptr, key != nullptr ? *key : SyncFlowKey{}}};
  items_.push_back(std::move(item));
  if (key != nullptr) by_flow_[*key] = std::prev(items_.end());
}

size_t ResendQueue::Ack(uint32_t from, uint32_t to) {
  size_t n = 0;
  for (auto it = items_.begin(); it != items_.end();) {
    if (SeqBefore(it->seq, from)) {
      ++it;
      continue;
    }
    if (SeqAfter(it->seq, to)) break;
    auto next = std::next(it);
    Erase(it);
    it = next;
    ++n;
  }
  return n;
}

std::vector<ResendQueue::Message> ResendQueue::TakeRange(uint32_t from,
                                                         uint32_t to) {
  std::vector<Message> out;
  for (auto it = items_.begin(); it != items_.end();) {
    if (SeqBefore(it->seq, from)) {
      ++it;
      continue;
    }
    if (SeqAfter(it->seq, to)) break;
    out.push_back(std::move(it->msg));
    if (out.back().has_key) by_flow_.erase(out.back().key);
    it = items_.erase(it);
  }
  return out;
}

void ResendQueue::Clear() {
  items_.clear();
  by_flow_.clear();
}

void ResendQueue::ForEach(
    const std::function<void(uint32_t, bool, uint8_t)>& fn) const {
  for (const auto& it : items_) {
    const auto* b = reinterpret_cast<const uint8_t*>(it.msg.bytes.data());
    fn(it.seq, !it.msg.has_key, it.msg.bytes.size() > 1 ? b[1] : 0);
  }
}

}  // namespace ctcollect
