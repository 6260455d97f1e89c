#include "collector/netlink/dump_batch_reader.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>

#include <cerrno>

#include "collector/netlink/netlink_request.h"
#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {

// One dump datagram: the kernel grows its dump buffers up to the reader's
// buffer size, capped at 32 KiB (more with large pages); 64 KiB fits one.
constexpr size_t kDatagram = 64 * 1024;
// The dump socket's receive buffer: the kernel runs ahead of the reader by
// this much while the reader hands a batch over.
constexpr size_t kDumpSocketBuffer = 4u << 20;
// A dump silent this long is abandoned; the next resync retries.
constexpr int kSilenceMs = 30000;
// How often a reader waiting for the kernel looks whether it was stopped.
constexpr int kStopCheckMs = 200;

}  // namespace

DumpBatchReader::DumpBatchReader(NetnsRef ns, WorkerPool* pool,
                                 std::function<void()> ready,
                                 std::function<bool()> prepare)
    : ns_(std::move(ns)),
      pool_(pool),
      ready_(std::move(ready)),
      prepare_(std::move(prepare)) {}

DumpBatchReader::~DumpBatchReader() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  pool_->Cancel(this);
}

uint32_t DumpBatchReader::Start() {
  uint32_t seq;
  {
    MutexLock lock(&mu_);
    seq = ++seq_;
  }
  pool_->Submit(this);
  return seq;
}

bool DumpBatchReader::HasBatches() const {
  MutexLock lock(&mu_);
  return !queue_.empty();
}

void DumpBatchReader::Take(std::vector<Batch>* out, size_t max) {
  {
    MutexLock lock(&mu_);
    while (!queue_.empty() && max-- > 0) {
      out->push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  cv_.NotifyAll();  // room in the queue
}

void DumpBatchReader::Recycle(std::vector<Batch>* used) {
  MutexLock lock(&mu_);
  bool ended = false;
  for (auto& b : *used) {
    ended |= b.last;
    if (free_.size() >= kMaxQueued + 2) continue;
    b.bytes.clear();
    free_.push_back(std::move(b.bytes));
  }
  used->clear();
  // Between dumps (a minute, by default) the buffers would only hold
  // memory: up to kMaxQueued + 2 of 512 KiB per namespace. The next dump
  // pays a page fault per 4 KiB of the buffers it fills again, a few
  // milliseconds against a dump that takes seconds where the batches
  // matter.
  if (ended) free_ = {};
}

bool DumpBatchReader::Stopping() const {
  MutexLock lock(&mu_);
  return stop_;
}

bool DumpBatchReader::Push(Batch b) {
  {
    MutexLock lock(&mu_);
    while (!stop_ && queue_.size() >= kMaxQueued) cv_.Wait(&lock);
    if (stop_) return false;
    queue_.push_back(std::move(b));
  }
  ready_();
  return true;
}

void DumpBatchReader::Run() {
  uint32_t seq;
  {
    MutexLock lock(&mu_);
    if (stop_) return;
    seq = seq_;
  }
  auto fail = [&](const std::string& why) {
    Batch b;
    b.last = true;
    b.error = why;
    Push(std::move(b));
  };
  std::error_code ec;
  std::unique_ptr<NetlinkSocket> sock;
  {
    // Once in for everything: the sockets `prepare` opens in the namespace
    // then need no setns() of their own.
    ScopedNetns in(*ns_);
    if (in.error()) {
      return fail("cannot enter the namespace to dump it: " +
                  in.error().message());
    }
    if (prepare_ && !prepare_()) {
      Batch b;
      b.last = true;
      b.empty = true;
      Push(std::move(b));
      return;
    }
    sock = NetlinkSocket::Open(0, &ec);
  }
  if (!sock) return fail("cannot open a dump socket: " + ec.message());
  sock->SetReceiveBuffer(kDumpSocketBuffer);
  if ((ec = sock->SetNonBlocking()))
    return fail("dump socket: " + ec.message());

  alignas(nlmsghdr) char req[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh =
      PutNfnlRequest(req, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
                     NLM_F_DUMP, seq, AF_UNSPEC);
  if ((ec = sock->Send(req, nlh->nlmsg_len))) {
    return fail("cannot start a dump: " + ec.message());
  }
  bool ended = false;
  while (!ended) {
    Batch b;
    {
      MutexLock lock(&mu_);
      if (!free_.empty()) {
        b.bytes = std::move(free_.back());
        free_.pop_back();
      }
    }
    b.bytes.reserve(kBatchBytes);
    ended = Fill(sock.get(), seq, &b);
    b.last = ended;
    if (!Push(std::move(b))) return;
  }
}

bool DumpBatchReader::Fill(NetlinkSocket* sock, uint32_t seq, Batch* b) {
  // Read datagrams until the batch is full; hand over early only when the
  // dump ends or the kernel makes us wait (then the ingest thread may as
  // well work on what we have).
  int silent_ms = 0;
  while (b->bytes.size() + kDatagram <= kBatchBytes) {
    size_t at = b->bytes.size();
    b->bytes.resize(at + kDatagram);
    std::error_code ec;
    ssize_t n = sock->Receive(b->bytes.data() + at, kDatagram, &ec);
    if (n <= 0) {
      b->bytes.resize(at);
      if (n < 0) {
        b->error = "dump socket: " + ec.message();
        return true;
      }
      if (at > 0) return false;  // nothing more right now: hand over
      // Nothing at all yet: wait for the kernel, looking now and then
      // whether the namespace's watcher let go of the dump.
      pollfd pfd = {sock->fd(), POLLIN, 0};
      int r = poll(&pfd, 1, kStopCheckMs);
      if (r < 0 && errno != EINTR) {
        b->error = "dump socket: poll: " +
                   std::error_code(errno, std::generic_category()).message();
        return true;
      }
      if (Stopping()) {
        b->error = "dump stopped";
        return true;
      }
      if (r == 0 && (silent_ms += kStopCheckMs) >= kSilenceMs) {
        b->error = "dump timed out";
        return true;
      }
      continue;
    }
    silent_ms = 0;
    b->bytes.resize(at + static_cast<size_t>(n));
    // The end of the dump is the last message of a datagram.
    bool ended = false;
    ForEachMsg(
        b->bytes.data() + at, static_cast<size_t>(n), [&](const nlmsghdr* nlh) {
          if (nlh->nlmsg_seq == seq && (nlh->nlmsg_type == NLMSG_DONE ||
                                        nlh->nlmsg_type == NLMSG_ERROR)) {
            ended = true;
            return false;
          }
          return true;
        });
    if (ended) return true;
  }
  return false;
}

}  // namespace ctcollect
