// Reads a namespace's conntrack table dumps on a WorkerPool thread and hands
// the raw netlink bytes to the namespace's ingest thread in large batches.
// The kernel produces a dump inside the reader's recv() calls, so with the
// reader separate the kernel's work and the ingest thread's (parsing the
// entries and applying them to the flow table) overlap on two cores instead
// of adding up. Batches are large (kBatchBytes) because every hand-over
// costs a wake-up, and wake-ups are dear on a virtual machine.
//
// Between dumps the reader holds nothing: each dump opens its own socket
// inside the namespace and closes it at the end, so an idle namespace costs
// no descriptor and no buffer here, and a pool of a few threads serves any
// number of namespaces (the pool bounds how many dump at once).
//
// Memory is bounded: at most kMaxQueued batches wait; past that the reader
// stops reading and the kernel stops producing until the ingest thread
// catches up.
//
// Thread safety: Start/Take/Recycle/HasBatches from the ingest thread;
// Run() from the pool; the destructor from any thread but the pool's.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/base/mutex.h"
#include "collector/base/worker_pool.h"
#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/netns.h"

namespace ctcollect {

class DumpBatchReader : public PoolJob {
 public:
  struct Batch {
    std::vector<uint8_t> bytes;  // whole netlink messages back to back
    bool last = false;           // the dump's NLMSG_DONE/ERROR is in it, or
                                 // the dump was abandoned (error says why)
    // The namespace had no entries, so the kernel was not asked (a dump
    // walks the host's whole conntrack hash): a complete, empty dump.
    bool empty = false;
    std::string error;
  };
  static constexpr size_t kBatchBytes = 512 * 1024;
  static constexpr size_t kMaxQueued = 8;

  // `ready` is called (on the pool's thread) when batches wait for Take;
  // `prepare` runs on the pool's thread, inside the namespace, before each
  // dump request is sent (statistics and tables the dump should come
  // with), and returns false when the namespace has no entries to dump
  // (the dump is then one empty batch); may be empty.
  DumpBatchReader(NetnsRef ns, WorkerPool* pool, std::function<void()> ready,
                  std::function<bool()> prepare);
  // Abandons a queued or running dump and waits until the pool let go.
  ~DumpBatchReader() override;
  DumpBatchReader(const DumpBatchReader&) = delete;
  DumpBatchReader& operator=(const DumpBatchReader&) = delete;

  // Queues a new dump (IPCTNL_MSG_CT_GET, both families) and returns the
  // sequence number its messages will carry. Only while no dump runs: the
  // previous one's last batch was taken.
  uint32_t Start();
  // Batches wait for Take.
  bool HasBatches() const;
  // Moves up to `max` waiting batches into *out.
  void Take(std::vector<Batch>* out, size_t max);
  // Gives the byte buffers of used batches back for reuse (and clears
  // *used): fresh 512 KiB buffers would cost a page fault per 4 KiB.
  void Recycle(std::vector<Batch>* used);

  void Run() override;

 private:
  // Fills one batch from the running dump; true when the dump has ended.
  bool Fill(NetlinkSocket* sock, uint32_t seq, Batch* b);
  // Queues a batch for the ingest thread; false if the reader is stopping.
  bool Push(Batch b);
  bool Stopping() const;

  const NetnsRef ns_;
  WorkerPool* const pool_;
  const std::function<void()> ready_;
  const std::function<bool()> prepare_;

  mutable Mutex mu_;
  CondVar cv_;                        // room in the queue, or stop
  uint32_t seq_ GUARDED_BY(mu_) = 0;  // the running dump's
  bool stop_ GUARDED_BY(mu_) = false;
  std::deque<Batch> queue_ GUARDED_BY(mu_);
  std::vector<std::vector<uint8_t>> free_ GUARDED_BY(mu_);
};

}  // namespace ctcollect
