// FT-FW's resend queue: the messages sent and not yet acknowledged, in
// sequence order, so that a NACK can retransmit a range and an ACK free
// one. As in conntrackd, a flow is queued at most once: sending a newer
// message for it drops the older one, so a retransmission never brings
// back a stale state. When full, the oldest message goes (and can no
// longer be recovered; counted).
//
// Layout: a ring of fixed-size slots (messages up to kInline bytes stored
// in place, larger ones on the heap), so a bulk send of a million flows
// through a 131072-message queue allocates nothing per message; removed
// messages are marked dead and reclaimed from the front.
//
// Thread safety: none; owned by the replication thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/replication/sync_flow.h"
#include "collector/replication/sync_key_index.h"

namespace ctcollect {

// Wraparound-safe sequence comparisons (TCP style), as conntrackd's.
inline bool SeqBefore(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}
inline bool SeqAfter(uint32_t a, uint32_t b) { return SeqBefore(b, a); }

class ResendQueue {
 public:
  explicit ResendQueue(size_t capacity);

  // Queues a message just sent as `seq`. `key` is the flow's for data
  // messages, nullptr for control messages.
  void Add(uint32_t seq, const uint8_t* msg, size_t len,
           const SyncFlowKey* key);
  // ACK [from, to]: frees those messages. Returns how many.
  size_t Ack(uint32_t from, uint32_t to);
  // NACK [from, to]: takes those messages out, oldest first, for
  // retransmission (the caller sends them again with new sequence
  // numbers and queues them again).
  struct Message {
    std::string bytes;
    bool has_key = false;
    SyncFlowKey key;
  };
  std::vector<Message> TakeRange(uint32_t from, uint32_t to);
  void Clear();

  size_t size() const { return live_; }
  size_t capacity() const { return capacity_; }
  int64_t dropped_full() const { return dropped_full_; }
  // For `-s rsqueue`: seq, control or not, the flags byte.
  void ForEach(const std::function<void(uint32_t seq, bool control,
                                        uint8_t flags)>& fn) const;

 private:
  static constexpr size_t kInline = 120;
  struct Slot {
    uint32_t seq = 0;
    uint16_t len = 0;
    bool live = false;
    bool has_key = false;
    SyncFlowKey key;
    uint8_t inline_bytes[kInline];
    std::unique_ptr<uint8_t[]> heap;  // when len > kInline
    const uint8_t* data() const { return heap ? heap.get() : inline_bytes; }
  };
  // Slots are numbered from 0 forever; slots_[i - first_] is number i.
  Slot& At(uint64_t n) { return slots_[n - first_]; }
  void Kill(uint64_t n);
  void Reclaim();  // drops dead slots at the front

  size_t capacity_;
  std::deque<Slot> slots_;
  uint64_t first_ = 0;  // number of slots_.front()
  size_t live_ = 0;
  SyncKeyIndex by_flow_;  // flow -> its slot number
  int64_t dropped_full_ = 0;
};

}  // namespace ctcollect
