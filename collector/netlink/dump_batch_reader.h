// Reads conntrack table dumps on a thread of its own and hands the raw
// netlink bytes to the ingest thread in large batches. The kernel produces
// a dump inside the reader's recv() calls, so with the reader separate the
// kernel's work and the ingest thread's (parsing the entries and applying
// them to the flow table) overlap on two cores instead of adding up.
// Batches are large (kBatchBytes) because every hand-over costs a wake-up,
// and wake-ups are dear on a virtual machine.
//
// Memory is bounded: at most kMaxQueued batches wait; past that the reader
// stops reading and the kernel stops producing until the ingest thread
// catches up.
//
// Thread safety: Start/Take/fd from the ingest thread only; the reader
// thread is internal.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "collector/base/mutex.h"
#include "collector/netlink/netlink_socket.h"

namespace ctcollect {

class DumpBatchReader {
 public:
  struct Batch {
    std::vector<uint8_t> bytes;  // whole netlink messages back to back
    bool last = false;           // the dump's NLMSG_DONE/ERROR is in it, or
                                 // the dump was abandoned (error says why)
    std::string error;
  };
  static constexpr size_t kBatchBytes = 512 * 1024;
  static constexpr size_t kMaxQueued = 8;

  // Takes a bound, non-blocking netlink socket. Throws std::system_error
  // if the wake-up eventfd cannot be made (start-up only).
  explicit DumpBatchReader(std::unique_ptr<NetlinkSocket> sock);
  ~DumpBatchReader();
  DumpBatchReader(const DumpBatchReader&) = delete;
  DumpBatchReader& operator=(const DumpBatchReader&) = delete;

  // Sends a new dump request (IPCTNL_MSG_CT_GET, both families) and returns
  // its sequence number in *seq. Only while no dump runs.
  std::error_code Start(uint32_t* seq);
  // Readable when batches wait (an eventfd; Take() clears it).
  int fd() const { return ready_fd_; }
  // Moves up to `max` waiting batches into *out.
  void Take(std::vector<Batch>* out, size_t max);
  // Gives the byte buffers of used batches back for reuse (and clears
  // *used): fresh 512 KiB buffers would cost a page fault per 4 KiB.
  void Recycle(std::vector<Batch>* used);

 private:
  void Loop();
  // Fills one batch from the running dump; true when the dump has ended.
  bool Fill(Batch* b);
  void Push(Batch b);

  std::unique_ptr<NetlinkSocket> sock_;
  int ready_fd_ = -1;
  int stop_fd_ = -1;

  Mutex mu_;
  CondVar cv_;
  uint32_t seq_ GUARDED_BY(mu_) = 0;  // the running dump's
  bool running_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  std::deque<Batch> queue_ GUARDED_BY(mu_);
  std::vector<std::vector<uint8_t>> free_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace ctcollect
