#include "collector/watch/netns_watcher.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "collector/base/clock.h"
#include "collector/conntrack/ct_message.h"
#include "collector/conntrack/expectation.h"
#include "collector/flows/counter_snapshot.h"
#include "collector/netlink/nl_attr.h"
#include "collector/watch/netns_sysctl.h"

namespace ctcollect {
namespace {

constexpr uint32_t kEventGroups =
    NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
    NF_NETLINK_CONNTRACK_DESTROY | NF_NETLINK_CONNTRACK_EXP_NEW |
    NF_NETLINK_CONNTRACK_EXP_DESTROY;
// When a drain found a full batch the stream is busy: wait this long before
// polling again so the next wake-up reads many events instead of one.
constexpr auto kBusyNap = std::chrono::microseconds(500);

std::unique_ptr<NetlinkSocket> OpenOrThrow(uint32_t groups,
                                           const std::string& what) {
  std::error_code ec;
  auto s = NetlinkSocket::Open(groups, &ec);
  if (!s) throw std::system_error(ec, what);
  return s;
}

}  // namespace

bool NetnsWatcher::Alive(std::chrono::milliseconds max_age) const {
  return SteadyMillis() - heartbeat_ms_.load(std::memory_order_relaxed) <=
         max_age.count();
}

NetnsWatcher::NetnsWatcher(NetnsHandle ns, const WatcherOptions& opts)
    : ns_(std::make_shared<const NetnsHandle>(std::move(ns))),
      opts_(opts),
      where_(ns_->label().empty() ? "own netns"
                                  : "netns \"" + ns_->label() + "\""),
      top_(opts.top_enabled ? std::make_unique<TopTalkers>() : nullptr),
      tracker_(&counters_, top_.get()) {
  resync_interval_ms_.store(opts.resync_interval.count());
  heartbeat_ms_.store(SteadyMillis());
  std::unique_ptr<NetlinkSocket> dump_socket;
  std::unique_ptr<NetlinkSocket> stats_socket;
  dump_entries_.reserve(256);
  {
    ScopedNetns in(*ns_);
    if (in.error()) throw std::system_error(in.error(), "enter " + where_);
    events_ = OpenOrThrow(kEventGroups, "ctnetlink event socket in " + where_);
    dump_socket = OpenOrThrow(0, "ctnetlink dump socket in " + where_);
    stats_socket = OpenOrThrow(0, "ctnetlink stats socket in " + where_);
    WarnAboutEventSysctl(where_);
    if (opts_.enable_accounting) EnableAccounting(where_);
  }
  size_t got = events_->SetReceiveBuffer(opts_.buffer_size);
  rcvbuf_.store(static_cast<int64_t>(got));
  if (got < opts_.buffer_size) {
    Log(LogLevel::kWarn,
        where_ + ": netlink receive buffer is " + std::to_string(got) +
            " bytes, less than the " + std::to_string(opts_.buffer_size) +
            " asked for (no CAP_NET_ADMIN for SO_RCVBUFFORCE?)");
  }
  dump_socket->SetReceiveBuffer(4u << 20);
  if (auto ec = events_->SetNonBlocking()) throw std::system_error(ec);
  if (auto ec = dump_socket->SetNonBlocking()) throw std::system_error(ec);
  dump_ = std::make_unique<DumpBatchReader>(std::move(dump_socket));
  timeval tv{2, 0};
  setsockopt(stats_socket->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  tables_ =
      std::make_unique<KernelTables>(ns_, where_, std::move(stats_socket));
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  events_up_.store(true);
}

NetnsWatcher::~NetnsWatcher() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void NetnsWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void NetnsWatcher::Wake() {
  uint64_t v = 1;
  ssize_t r = write(wake_fd_, &v, sizeof(v));
  (void)r;
}

void NetnsWatcher::Stop() {
  if (!thread_.joinable()) return;
  stop_requested_.store(true);
  Wake();
  thread_.join();
}

void NetnsWatcher::SetClassifier(
    std::shared_ptr<const FlowClassifier> classifier) {
  {
    MutexLock lock(&classifier_mu_);
    new_classifier_ = std::move(classifier);
  }
  classifier_changed_.store(true);
  Wake();
}

void NetnsWatcher::SetPolicySelectors(std::vector<PolicySelector> selectors) {
  {
    MutexLock lock(&classifier_mu_);
    new_selectors_ = std::move(selectors);
  }
  selectors_changed_.store(true);
  Wake();
}

bool NetnsWatcher::TakeConfigChanges() {
  bool took = false;
  if (classifier_changed_.exchange(false)) {
    std::shared_ptr<const FlowClassifier> c;
    {
      MutexLock lock(&classifier_mu_);
      c = std::move(new_classifier_);
    }
    tracker_.SetClassifier(std::move(c));
    took = true;
  }
  if (selectors_changed_.exchange(false)) {
    std::vector<PolicySelector> sel;
    {
      MutexLock lock(&classifier_mu_);
      sel = std::move(new_selectors_);
    }
    tracker_.SetPolicySelectors(sel);
    took = true;
  }
  return took;
}

void NetnsWatcher::RequestResync() {
  resync_requested_.store(true);
  Wake();
}

uint32_t NetnsWatcher::NowSeconds() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint32_t>(ts.tv_sec);
}

void NetnsWatcher::Run() {
  TakeConfigChanges();
  StartDump(ResyncReason::kStartup);
  for (;;) {
    // Wake at least once a second, so the heartbeat shows the thread is
    // not stuck (the service watchdog checks it).
    heartbeat_ms_.store(SteadyMillis(), std::memory_order_relaxed);
    int timeout_ms = kHeartbeatMs;
    if (!tracker_.dumping()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          next_resync_ - std::chrono::steady_clock::now());
      timeout_ms =
          static_cast<int>(std::clamp<int64_t>(left.count(), 0, kHeartbeatMs));
    }
    pollfd fds[3] = {{wake_fd_, POLLIN, 0},
                     {events_->fd(), POLLIN, 0},
                     {dump_->fd(), POLLIN, 0}};
    int nfds = tracker_.dumping() ? 3 : 2;
    if (poll(fds, nfds, timeout_ms) < 0 && errno != EINTR) {
      Log(LogLevel::kError,
          where_ + ": poll: " +
              std::error_code(errno, std::generic_category()).message());
    }
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      ssize_t r = read(wake_fd_, &v, sizeof(v));
      (void)r;
    }
    if (stop_requested_.load()) return;
    if (resync_requested_.exchange(false)) {
      resync_pending_ = true;
      pending_reason_ = ResyncReason::kRequest;
    }
    // Events first: they are the ones that can be lost. Bounded, so a
    // dump still makes progress under a storm that never lets up.
    int got = DrainEvents(64);
    if (tracker_.dumping() && (fds[2].revents & POLLIN)) ApplyDumpBatches(8);
    if (!tracker_.dumping()) {
      if (TakeConfigChanges()) {
        // Flows join their new classes as the dump reports them.
        resync_pending_ = true;
        pending_reason_ = ResyncReason::kRequest;
      }
      if (std::chrono::steady_clock::now() >= next_resync_) {
        resync_pending_ = true;
        if (pending_reason_ != ResyncReason::kOverrun &&
            pending_reason_ != ResyncReason::kRequest) {
          pending_reason_ = ResyncReason::kInterval;
        }
      }
      if (resync_pending_) StartDump(pending_reason_);
    }
    if (got >= 32 && !tracker_.dumping()) {
      timespec nap{0, std::chrono::nanoseconds(kBusyNap).count()};
      nanosleep(&nap, nullptr);
    }
  }
}

int NetnsWatcher::DrainEvents(int max_batches) {
  int total = 0;
  for (int b = 0; b < max_batches; ++b) {
    std::error_code ec;
    int n = event_batch_.Receive(events_->fd(), &ec);
    if (n < 0) {
      if (ec.value() == ENOBUFS) {
        OnOverrun();
        continue;
      }
      Log(LogLevel::kError, where_ + ": event socket: " + ec.message());
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (event_batch_.sender(i) != 0) {
        counters_.parse_errors().Add(1);
        continue;
      }
      if (event_batch_.truncated(i)) {
        // An event we could not read whole is an event lost.
        counters_.parse_errors().Add(1);
        resync_pending_ = true;
        continue;
      }
      HandleEventDatagram(event_batch_.data(i), event_batch_.length(i));
    }
    // Parsed first, applied together: the tracker prefetches the batch's
    // table slots before it touches any.
    tracker_.ApplyEventBatch(event_msgs_.data(), event_msgs_.size(),
                             NowSeconds());
    event_msgs_.clear();
    total += n;
    if (n < 64) break;
  }
  return total;
}

void NetnsWatcher::HandleEventDatagram(const uint8_t* data, size_t len) {
  ForEachMsg(data, len, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type < NLMSG_MIN_TYPE) return true;
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_CTNETLINK_EXP) {
      if (auto e = ParseExpMessage(nlh)) {
        tables_->ApplyExpectationEvent(*e);
      } else {
        counters_.parse_errors().Add(1);
        parse_log_.Log(where_ + ": dropped a malformed expectation event");
      }
      return true;
    }
    if (auto m = ParseCtMessage(nlh)) {
      event_msgs_.push_back(*m);
    } else {
      counters_.parse_errors().Add(1);
      parse_log_.Log(where_ + ": dropped a malformed conntrack event");
    }
    return true;
  });
}

void NetnsWatcher::OnOverrun() {
  counters_.overruns().Add(1);
  size_t cur = events_->ReceiveBuffer() / 2;  // the kernel reports double
  std::string grown;
  if (cur < opts_.buffer_max) {
    size_t want =
        std::min(std::max(cur * 2, opts_.buffer_size), opts_.buffer_max);
    size_t got = events_->SetReceiveBuffer(want);
    rcvbuf_.store(static_cast<int64_t>(got));
    grown = ", receive buffer now " + std::to_string(got) + " bytes";
  } else {
    grown = ", receive buffer at its cap of " +
            std::to_string(opts_.buffer_max) +
            " bytes (raise --netlink.buffer-max)";
  }
  overrun_log_.Log(where_ +
                   ": netlink overrun, conntrack events lost; "
                   "resyncing with a dump" +
                   grown);
  resync_pending_ = true;
  pending_reason_ = ResyncReason::kOverrun;
  // Flows destroyed during a running dump may have lost their DESTROY after
  // the dump passed them: that dump cannot be trusted to be complete.
  if (tracker_.dumping()) dump_intr_ = true;
}

void NetnsWatcher::StartDump(ResyncReason reason) {
  tracker_.SetPolicies(tables_->RefreshPolicies()->policies);
  if (!tables_->RefreshExpectations()) counters_.parse_errors().Add(1);
  tables_->RefreshUserspaceHelpers();
  resync_pending_ = false;
  pending_reason_ = ResyncReason::kInterval;
  next_resync_ = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(resync_interval_ms_.load());
  // Size the table for the kernel's count once, rather than doubling it
  // step by step while a large first dump streams in.
  const size_t kernel_entries = tables_->KernelEntries();
  if (auto ec = dump_->Start(&dump_seq_)) {
    dump_up_.store(false);
    Log(LogLevel::kError, where_ + ": cannot start a dump: " + ec.message());
    return;
  }
  counters_.resyncs(reason).Add(1);
  dump_intr_ = false;
  dump_started_ = std::chrono::steady_clock::now();
  tracker_.BeginDump(kernel_entries);
}

void NetnsWatcher::ApplyDumpBatches(size_t max) {
  const uint32_t now = NowSeconds();
  dump_batches_.clear();
  dump_->Take(&dump_batches_, max);
  for (auto& b : dump_batches_) {
    bool ended = false;
    bool complete = false;
    dump_entries_.clear();
    auto apply = [&] {
      tracker_.ApplyDumpBatch(dump_entries_.data(), dump_entries_.size(), now);
      dump_entries_.clear();
    };
    ForEachMsg(b.bytes.data(), b.bytes.size(), [&](const nlmsghdr* nlh) {
      if (nlh->nlmsg_seq != dump_seq_) return true;  // an abandoned dump's
      if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) dump_intr_ = true;
      if (nlh->nlmsg_type == NLMSG_DONE) {
        complete = true;
        ended = true;
        return false;
      }
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        int err = 0;
        if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(nlmsgerr)) {
          err = -reinterpret_cast<const nlmsgerr*>(
                     reinterpret_cast<const char*>(nlh) + NLMSG_HDRLEN)
                     ->error;
        }
        Log(LogLevel::kError,
            where_ + ": dump failed: " +
                std::error_code(err, std::generic_category()).message());
        ended = true;
        return false;
      }
      if (nlh->nlmsg_type < NLMSG_MIN_TYPE) return true;
      if (auto m = ParseCtMessage(nlh)) {
        dump_entries_.push_back(*m);
        // Apply in slices: the prefetches of one slice stay in cache.
        if (dump_entries_.size() == 256) apply();
      } else {
        counters_.parse_errors().Add(1);
        parse_log_.Log(where_ + ": dropped a malformed conntrack dump entry");
      }
      return true;
    });
    apply();
    if (b.last || ended) {
      if (!b.error.empty()) Log(LogLevel::kError, where_ + ": " + b.error);
      FinishDump(complete && !dump_intr_);
      break;
    }
  }
  dump_->Recycle(&dump_batches_);
}

void NetnsWatcher::FinishDump(bool complete) {
  size_t stale = tracker_.EndDump(complete, NowSeconds());
  if (!complete) {
    dump_up_.store(false);
    // Try again soon rather than waiting a whole interval.
    resync_pending_ = true;
    pending_reason_ = dump_intr_ ? ResyncReason::kOverrun : pending_reason_;
    return;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              dump_started_)
                    .count();
  last_dump_seconds_.store(secs);
  last_resync_unix_.store(WallClockSeconds());
  dump_up_.store(true);
  if (!ready_.load()) {
    Log(LogLevel::kInfo, where_ + ": first dump done, " +
                             std::to_string(tracker_.live_flows()) +
                             " flows in " + std::to_string(secs) + " s");
  } else if (stale > 0) {
    Log(LogLevel::kDebug, where_ + ": resync removed " + std::to_string(stale) +
                              " flows whose DESTROY was missed");
  }
  ready_.store(true, std::memory_order_release);
}

std::vector<PolicyDurations> NetnsWatcher::CopyStateDurations() const {
  return ctcollect::CopyStateDurations(counters_);
}

void NetnsWatcher::FillSnapshot(NetnsSnapshot* out) const {
  out->netns = ns_->label();
  out->ready = Ready();
  out->events_up = events_up_.load();
  out->dump_up = dump_up_.load();
  CopyCounters(counters_, out);
  out->last_dump_seconds = last_dump_seconds_.load();
  out->last_resync_unix_seconds = last_resync_unix_.load();
  out->table_entries = tracker_.table_entries();
  out->table_bytes = tracker_.table_bytes();
  out->receive_buffer_bytes = rcvbuf_.load();
  if (top_) {
    out->top_enabled = true;
    out->top = top_->Sample(opts_.top_min_share, NowSeconds());
    out->top_bytes = static_cast<int64_t>(top_->bytes());
  }
  tables_->FillSnapshot(out);
}

std::optional<TopRanking> NetnsWatcher::Top(TopBy by, size_t limit) const {
  if (!top_) return std::nullopt;
  return top_->Rank(by, limit, NowSeconds());
}

}  // namespace ctcollect
