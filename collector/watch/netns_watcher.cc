#include "collector/watch/netns_watcher.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
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

std::unique_ptr<NetlinkSocket> OpenOrThrow(uint32_t groups,
                                           const std::string& what) {
  std::error_code ec;
  auto s = NetlinkSocket::Open(groups, &ec);
  if (!s) throw std::system_error(ec, what);
  return s;
}

}  // namespace

NetnsWatcher::NetnsWatcher(NetnsHandle ns, const WatcherOptions& opts,
                           WorkerPool* dumps)
    : ns_(std::make_shared<const NetnsHandle>(std::move(ns))),
      opts_(opts),
      where_(ns_->label().empty() ? "own netns"
                                  : "netns \"" + ns_->label() + "\""),
      top_(opts.top_enabled ? std::make_unique<TopTalkers>() : nullptr),
      tracker_(&counters_, top_.get()) {
  resync_interval_ms_.store(opts.resync_interval.count());
  {
    ScopedNetns in(*ns_);
    if (in.error()) throw std::system_error(in.error(), "enter " + where_);
    events_ = OpenOrThrow(kEventGroups, "ctnetlink event socket in " + where_);
    WarnAboutEventSysctl(where_, opts_.quiet);
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
  if (auto ec = events_->SetNonBlocking()) throw std::system_error(ec);
  if (auto ec = events_->ConnectToKernel()) {
    throw std::system_error(ec, "connect the event socket in " + where_);
  }
  tables_ = std::make_unique<KernelTables>(ns_, where_);
  dump_ = std::make_unique<DumpBatchReader>(
      ns_, dumps, [this] { Wake(); }, [this] { return PrepareDump(); });
  events_up_.store(true);
}

NetnsWatcher::~NetnsWatcher() {
  // The dump first: its pool thread calls back into this watcher.
  dump_.reset();
}

void NetnsWatcher::Attach(IngestWaker* waker) {
  {
    MutexLock lock(&waker_mu_);
    waker_ = waker;
  }
  TakeConfigChanges();
  StartDump(ResyncReason::kStartup);
}

void NetnsWatcher::Detach() {
  MutexLock lock(&waker_mu_);
  waker_ = nullptr;
}

void NetnsWatcher::Wake() {
  MutexLock lock(&waker_mu_);
  if (waker_) waker_->Poke(this);
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

std::chrono::steady_clock::time_point NetnsWatcher::NextDeadline() const {
  if (tracker_.dumping()) return std::chrono::steady_clock::time_point::max();
  return resync_pending_ ? retry_at_ : next_resync_;
}

void NetnsWatcher::Service(IngestScratch* scratch) {
  if (resync_requested_.exchange(false)) {
    resync_pending_ = true;
    pending_reason_ = ResyncReason::kRequest;
  }
  if (tracker_.dumping() && dump_->HasBatches()) {
    ApplyDumpBatches(scratch, 8);
    // Bounded, so other namespaces' events are read in between; the rest
    // on the next round.
    if (tracker_.dumping() && dump_->HasBatches()) Wake();
  }
  if (tracker_.dumping()) return;
  if (TakeConfigChanges()) {
    // Flows join their new classes as the dump reports them.
    resync_pending_ = true;
    pending_reason_ = ResyncReason::kRequest;
  }
  auto now = std::chrono::steady_clock::now();
  if (now >= next_resync_ && !resync_pending_) {
    resync_pending_ = true;
    retry_at_ = now;
    pending_reason_ = ResyncReason::kInterval;
  }
  if (resync_pending_ && now >= retry_at_) StartDump(pending_reason_);
}

int NetnsWatcher::DrainEvents(IngestScratch* scratch, int max_batches) {
  BatchReceiver& batch = scratch->events;
  std::vector<CtMessage>& msgs = scratch->event_msgs;
  int total = 0;
  for (int b = 0; b < max_batches; ++b) {
    std::error_code ec;
    int n = batch.Receive(events_->fd(), &ec);
    if (n < 0) {
      if (ec.value() == ENOBUFS) {
        OnOverrun();
        continue;
      }
      Log(LogLevel::kError, where_ + ": event socket: " + ec.message());
      break;
    }
    // The socket is connected to the kernel: every datagram is its.
    for (int i = 0; i < n; ++i) {
      if (batch.truncated(i)) {
        // An event we could not read whole is an event lost.
        counters_.parse_errors().Add(1);
        resync_pending_ = true;
        continue;
      }
      HandleEventDatagram(batch.data(i), batch.length(i), &msgs);
    }
    // Parsed first, applied together: the tracker prefetches the batch's
    // table slots before it touches any.
    tracker_.ApplyEventBatch(msgs.data(), msgs.size(), NowSeconds());
    msgs.clear();
    total += n;
    if (static_cast<size_t>(n) < batch.max_datagrams()) break;
  }
  return total;
}

void NetnsWatcher::HandleEventDatagram(const uint8_t* data, size_t len,
                                       std::vector<CtMessage>* msgs) {
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
      msgs->push_back(*m);
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
    size_t floor = std::max(opts_.buffer_size, opts_.busy_buffer_size);
    size_t want = std::min(std::max(cur * 2, floor), opts_.buffer_max);
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
  retry_at_ = std::chrono::steady_clock::now();
  pending_reason_ = ResyncReason::kOverrun;
  // Flows destroyed during a running dump may have lost their DESTROY after
  // the dump passed them: that dump cannot be trusted to be complete.
  if (tracker_.dumping()) dump_intr_ = true;
}

bool NetnsWatcher::PrepareDump() {
  // Only what the namespace's series use: the summary has no policies,
  // helpers or expectations.
  if (opts_.full_detail) {
    tables_->RefreshPolicies();
    if (!tables_->RefreshExpectations()) expectations_malformed_.store(true);
    tables_->RefreshUserspaceHelpers();
  }
  // Asked after BeginDump: a flow made since then comes as an event, so
  // with none in the kernel now the table's old flows are all gone, and a
  // dump (a walk of the host's whole conntrack hash) would say no more.
  std::optional<size_t> entries = tables_->KernelEntries();
  expected_entries_.store(entries.value_or(0));
  return !entries || *entries > 0;
}

void NetnsWatcher::StartDump(ResyncReason reason) {
  resync_pending_ = false;
  pending_reason_ = ResyncReason::kInterval;
  auto now = std::chrono::steady_clock::now();
  auto interval = std::chrono::milliseconds(resync_interval_ms_.load());
  if (first_dump_) {
    // Namespaces found together would otherwise resync together forever.
    first_dump_ = false;
    next_resync_ =
        now + std::chrono::duration_cast<std::chrono::milliseconds>(
                  interval * std::clamp(opts_.resync_phase, 0.5, 1.0));
  } else {
    next_resync_ = now + interval;
  }
  dump_seq_ = dump_->Start();
  dump_reason_ = reason;
  counters_.resyncs(reason).Add(1);
  dump_intr_ = false;
  first_batch_ = true;
  dump_started_ = now;
  tracker_.BeginDump();
}

void NetnsWatcher::ApplyDumpBatches(IngestScratch* scratch, size_t max) {
  const uint32_t now = NowSeconds();
  if (first_batch_) {
    // PrepareDump ran before the request: policies and the kernel's count
    // are fresh for the dump's entries.
    first_batch_ = false;
    if (auto p = tables_->policies()) tracker_.SetPolicies(p->policies);
    if (expectations_malformed_.exchange(false))
      counters_.parse_errors().Add(1);
    tracker_.Reserve(expected_entries_.load());
  }
  auto& dump_batches = scratch->dump_batches;
  auto& dump_entries = scratch->dump_entries;
  dump_batches.clear();
  dump_->Take(&dump_batches, max);
  for (auto& b : dump_batches) {
    bool ended = false;
    bool complete = false;
    dump_entries.clear();
    auto apply = [&] {
      tracker_.ApplyDumpBatch(dump_entries.data(), dump_entries.size(), now);
      dump_entries.clear();
    };
    if (b.empty) complete = ended = true;
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
        DumpFailed("dump failed: " +
                   std::error_code(err, std::generic_category()).message());
        ended = true;
        return false;
      }
      if (nlh->nlmsg_type < NLMSG_MIN_TYPE) return true;
      if (auto m = ParseCtMessage(nlh)) {
        dump_entries.push_back(*m);
        // Apply in slices: the prefetches of one slice stay in cache.
        if (dump_entries.size() == 256) apply();
      } else {
        counters_.parse_errors().Add(1);
        parse_log_.Log(where_ + ": dropped a malformed conntrack dump entry");
      }
      return true;
    });
    apply();
    if (b.last || ended) {
      if (!b.error.empty()) DumpFailed(b.error);
      FinishDump(complete && !dump_intr_);
      if (!b.error.empty()) {
        // The namespace may be going away, or the kernel short of memory:
        // not again at once.
        retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      }
      break;
    }
  }
  dump_->Recycle(&dump_batches);
  // A storm's worth of parsed entries is not worth keeping for a minute.
  if (!tracker_.dumping() && dump_entries.capacity() > 256) {
    dump_entries = {};
  }
}

void NetnsWatcher::DumpFailed(const std::string& why) {
  if (opts_.quiet) {
    // Discovered namespaces come and go, and one that vanishes during its
    // dump is normal: however many do, one line a minute says how many.
    static RateLimitedLog log(LogLevel::kWarn, std::chrono::seconds(60));
    log.Log(where_ + ": " + why);
  } else {
    Log(LogLevel::kError, where_ + ": " + why);
  }
}

void NetnsWatcher::FinishDump(bool complete) {
  size_t stale = tracker_.EndDump(complete, NowSeconds());
  if (!complete) {
    dump_up_.store(false);
    // Try again soon rather than waiting a whole interval.
    resync_pending_ = true;
    retry_at_ = std::chrono::steady_clock::now();
    pending_reason_ = dump_intr_ ? ResyncReason::kOverrun : pending_reason_;
    return;
  }
  if (opts_.back_off_quiet_resyncs) {
    const bool quiet = dump_reason_ == ResyncReason::kInterval && stale == 0 &&
                       tracker_.dump_inserted() == 0;
    quiet_dumps_ = quiet ? std::min(quiet_dumps_ + 1, 3) : 0;
    // (Otherwise StartDump's one interval, or the start-up phase, stands.)
    if (quiet) {
      next_resync_ =
          dump_started_ +
          std::chrono::milliseconds(resync_interval_ms_.load() << quiet_dumps_);
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              dump_started_)
                    .count();
  last_dump_seconds_.store(secs);
  last_resync_unix_.store(WallClockSeconds());
  dump_up_.store(true);
  if (!ready_.load()) {
    Log(opts_.quiet ? LogLevel::kDebug : LogLevel::kInfo,
        where_ + ": first dump done, " + std::to_string(tracker_.live_flows()) +
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
  out->full_detail = opts_.full_detail;
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
  tables_->FillSnapshot(out, opts_.full_detail);
}

std::optional<TopRanking> NetnsWatcher::Top(TopBy by, size_t limit) const {
  if (!top_) return std::nullopt;
  return top_->Rank(by, limit, NowSeconds());
}

}  // namespace ctcollect
