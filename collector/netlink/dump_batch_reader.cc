#include "collector/netlink/dump_batch_reader.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "collector/netlink/nl_attr.h"

namespace ctcollect {
namespace {

// One dump datagram: the kernel grows its dump buffers up to the reader's
// buffer size, capped at 32 KiB (more with large pages); 64 KiB fits one.
constexpr size_t kDatagram = 64 * 1024;

void Signal(int fd) {
  uint64_t v = 1;
  ssize_t r = write(fd, &v, sizeof(v));
  (void)r;
}

}  // namespace

DumpBatchReader::DumpBatchReader(std::unique_ptr<NetlinkSocket> sock)
    : sock_(std::move(sock)) {
  ready_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ready_fd_ < 0 || stop_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  thread_ = std::thread([this] { Loop(); });
}

DumpBatchReader::~DumpBatchReader() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  Signal(stop_fd_);
  thread_.join();
  close(ready_fd_);
  close(stop_fd_);
}

std::error_code DumpBatchReader::Start(uint32_t* seq) {
  char req[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  MutexLock lock(&mu_);
  nlh->nlmsg_seq = seq_ = sock_->NextSeq();
  if (auto ec = sock_->Send(req, nlh->nlmsg_len)) return ec;
  *seq = seq_;
  running_ = true;
  cv_.NotifyAll();
  return {};
}

void DumpBatchReader::Take(std::vector<Batch>* out, size_t max) {
  uint64_t v;
  ssize_t r = read(ready_fd_, &v, sizeof(v));
  (void)r;
  {
    MutexLock lock(&mu_);
    while (!queue_.empty() && max-- > 0) {
      out->push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (!queue_.empty()) Signal(ready_fd_);  // more left: stay readable
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

void DumpBatchReader::Push(Batch b) {
  MutexLock lock(&mu_);
  while (!stop_ && queue_.size() >= kMaxQueued) cv_.Wait(&lock);
  if (stop_) return;
  queue_.push_back(std::move(b));
  Signal(ready_fd_);
}

void DumpBatchReader::Loop() {
  for (;;) {
    uint32_t this_dump;
    {
      MutexLock lock(&mu_);
      while (!stop_ && !running_) cv_.Wait(&lock);
      if (stop_) return;
      this_dump = seq_;
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
      ended = Fill(&b);
      b.last = ended;
      Push(std::move(b));
      MutexLock lock(&mu_);
      if (stop_) return;
    }
    // The ingest thread may already have started the next dump once it
    // took the last batch: that one must not be marked finished.
    MutexLock lock(&mu_);
    if (seq_ == this_dump) running_ = false;
  }
}

bool DumpBatchReader::Fill(Batch* b) {
  uint32_t seq;
  {
    MutexLock lock(&mu_);
    seq = seq_;
  }
  // Read datagrams until the batch is full; hand over early only when the
  // dump ends or the kernel makes us wait (then the ingest thread may as
  // well work on what we have).
  while (b->bytes.size() + kDatagram <= kBatchBytes) {
    size_t at = b->bytes.size();
    b->bytes.resize(at + kDatagram);
    std::error_code ec;
    ssize_t n = sock_->Receive(b->bytes.data() + at, kDatagram, &ec);
    if (n <= 0) {
      b->bytes.resize(at);
      if (n < 0) {
        b->error = "dump socket: " + ec.message();
        return true;
      }
      if (at > 0) return false;  // nothing more right now: hand over
      // Nothing at all yet: wait for the kernel (or shutdown). A dump
      // silent for 30 s is abandoned; the next resync retries.
      pollfd fds[2] = {{sock_->fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      int r = poll(fds, 2, 30000);
      if (r <= 0 || (fds[1].revents & POLLIN)) {
        b->error = r == 0 ? "dump timed out" : "dump stopped";
        return true;
      }
      continue;
    }
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
