#include "collector/netns_watcher.h"

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

#include "collector/ct_message.h"
#include "collector/netlink_request.h"
#include "collector/nl_attr.h"

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

double UnixNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

}  // namespace

int64_t NetnsWatcher::SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool NetnsWatcher::Alive(std::chrono::milliseconds max_age) const {
  return SteadyMillis() - heartbeat_ms_.load(std::memory_order_relaxed) <=
         max_age.count();
}

NetnsWatcher::NetnsWatcher(NetnsHandle ns, const WatcherOptions& opts)
    : ns_(std::make_shared<const NetnsHandle>(std::move(ns))),
      opts_(opts),
      where_(ns_->label().empty() ? "own netns"
                                  : "netns \"" + ns_->label() + "\"") {
  resync_interval_ms_.store(opts.resync_interval.count());
  heartbeat_ms_.store(SteadyMillis());
  std::unique_ptr<NetlinkSocket> dump_socket;
  dump_entries_.reserve(256);
  {
    ScopedNetns in(*ns_);
    if (in.error()) throw std::system_error(in.error(), "enter " + where_);
    events_ = OpenOrThrow(kEventGroups, "ctnetlink event socket in " + where_);
    dump_socket = OpenOrThrow(0, "ctnetlink dump socket in " + where_);
    stats_ = OpenOrThrow(0, "ctnetlink stats socket in " + where_);
    WarnAboutEventSysctl();
    if (opts_.enable_accounting) EnableAccounting();
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
  dump_ = std::make_unique<DumpReader>(std::move(dump_socket));
  timeval tv{2, 0};
  setsockopt(stats_->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  events_up_.store(true);
}

void NetnsWatcher::WarnAboutEventSysctl() {
  // Read while inside the namespace: /proc/sys/net shows the reader's.
  FILE* f = fopen("/proc/sys/net/netfilter/nf_conntrack_events", "r");
  if (f == nullptr) return;
  int mode = -1;
  if (fscanf(f, "%d", &mode) != 1) mode = -1;
  fclose(f);
  if (mode == 0) {
    Log(LogLevel::kWarn,
        where_ +
            ": net.netfilter.nf_conntrack_events=0, the kernel sends no "
            "conntrack events; figures change only at resync dumps");
  } else if (mode == 2) {
    // The kernel gives a flow its event cache only if a listener exists
    // when the flow is created: flows older than the daemon never send
    // UPDATE or DESTROY, and only the resync dumps see them go.
    Log(LogLevel::kInfo,
        where_ +
            ": net.netfilter.nf_conntrack_events=2: flows created before "
            "ctcollectd started send no events and are reconciled by "
            "the resync dumps (set it to 1 to have events for all flows)");
  }
}

void NetnsWatcher::EnableAccounting() {
  // Inside the namespace (the caller entered it): these sysctls are per
  // namespace. Only flows created from now on are accounted.
  for (const char* name : {"nf_conntrack_acct", "nf_conntrack_timestamp"}) {
    std::string path = std::string("/proc/sys/net/netfilter/") + name;
    FILE* f = fopen(path.c_str(), "r+");
    int v = -1;
    if (f == nullptr || fscanf(f, "%d", &v) != 1) {
      Log(LogLevel::kWarn, where_ + ": cannot read " + path);
      if (f) fclose(f);
      continue;
    }
    if (v == 1) {
      fclose(f);
      continue;
    }
    rewind(f);
    bool ok = fputs("1\n", f) >= 0;
    ok = (fclose(f) == 0) && ok;
    Log(ok ? LogLevel::kNotice : LogLevel::kWarn,
        where_ +
            (ok ? ": set net.netfilter." : ": could not set net.netfilter.") +
            name + "=1 (was " + std::to_string(v) + ")");
  }
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
    std::lock_guard<std::mutex> lock(classifier_mu_);
    new_classifier_ = std::move(classifier);
  }
  classifier_changed_.store(true);
  Wake();
}

void NetnsWatcher::SetPolicySelectors(std::vector<PolicySelector> selectors) {
  {
    std::lock_guard<std::mutex> lock(classifier_mu_);
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
      std::lock_guard<std::mutex> lock(classifier_mu_);
      c = std::move(new_classifier_);
    }
    tracker_.SetClassifier(std::move(c));
    took = true;
  }
  if (selectors_changed_.exchange(false)) {
    std::vector<PolicySelector> sel;
    {
      std::lock_guard<std::mutex> lock(classifier_mu_);
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
    total += n;
    if (n < 64) break;
  }
  return total;
}

void NetnsWatcher::HandleEventDatagram(const uint8_t* data, size_t len) {
  const uint32_t now = NowSeconds();
  ForEachMsg(data, len, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type < NLMSG_MIN_TYPE) return true;
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_CTNETLINK_EXP) {
      if (auto e = ParseExpMessage(nlh)) {
        expectations_.Apply(*e, /*event=*/true);
      } else {
        counters_.parse_errors().Add(1);
        parse_log_.Log(where_ + ": dropped a malformed expectation event");
      }
      return true;
    }
    if (auto m = ParseCtMessage(nlh)) {
      tracker_.ApplyEvent(*m, now);
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

void NetnsWatcher::RefreshPolicies() {
  auto result = std::make_shared<PolicyQueryResult>();
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    // Inside the namespace: the sysctl fallback reads its /proc/sys/net.
    ScopedNetns in(*ns_);
    *result = QueryTimeoutPolicies(stats_.get());
  }
  std::string errors;
  for (const auto& e : result->errors)
    errors += (errors.empty() ? "" : "; ") + e;
  if (errors != last_policy_errors_) {
    if (!errors.empty()) {
      Log(LogLevel::kWarn, where_ + ": timeout policies: " + errors);
    }
    last_policy_errors_ = errors;
  }
  tracker_.SetPolicies(result->policies);
  std::lock_guard<std::mutex> lock(policies_mu_);
  policies_ = std::move(result);
}

void NetnsWatcher::RefreshExpectations() {
  static thread_local uint32_t seq = 5000;
  alignas(nlmsghdr) uint8_t req[64];
  BuildExpDump(req, ++seq);
  std::vector<ExpMessage> dumped;
  bool bad = false;
  std::error_code ec;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ec = NetlinkRequest(stats_.get(), reinterpret_cast<nlmsghdr*>(req),
                        [&](const nlmsghdr* nlh) {
                          auto e = ParseExpMessage(nlh);
                          if (e) dumped.push_back(*e);
                          bad |= !e;
                          return true;  // skip what is not ours
                        });
  }
  if (bad) counters_.parse_errors().Add(1);
  if (ec) {
    expectations_up_.store(false);
    return;
  }
  expectations_up_.store(true);
  expectations_.ReplaceWith(dumped);
}

void NetnsWatcher::RefreshUserspaceHelpers() {
  auto helpers = std::make_shared<std::vector<UserspaceHelper>>();
  std::error_code ec;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ec = QueryUserspaceHelpers(stats_.get(), helpers.get());
  }
  std::string error = ec ? ec.message() : "";
  if (error != last_cthelper_error_ && !error.empty()) {
    Log(LogLevel::kNotice,
        where_ +
            ": user-space helpers (nfnetlink_cthelper) unavailable: " + error +
            " (kernel without CONFIG_NF_CT_NETLINK_HELPER?); "
            "ctcollect_source_up{source=\"cthelper\"} is 0");
  }
  last_cthelper_error_ = error;
  std::lock_guard<std::mutex> lock(policies_mu_);
  userspace_helpers_ = std::move(helpers);
  cthelper_error_ = error;
}

void NetnsWatcher::StartDump(ResyncReason reason) {
  RefreshPolicies();
  RefreshExpectations();
  RefreshUserspaceHelpers();
  resync_pending_ = false;
  pending_reason_ = ResyncReason::kInterval;
  next_resync_ = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(resync_interval_ms_.load());
  // Size the table for the kernel's count once, rather than doubling it
  // step by step while a large first dump streams in.
  KernelStats ks;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    if (QueryKernelStats(stats_.get(), &ks)) ks.entries.reset();
  }
  if (auto ec = dump_->Start(&dump_seq_)) {
    dump_up_.store(false);
    Log(LogLevel::kError, where_ + ": cannot start a dump: " + ec.message());
    return;
  }
  counters_.resyncs(reason).Add(1);
  dump_intr_ = false;
  dump_started_ = std::chrono::steady_clock::now();
  tracker_.BeginDump(ks.entries.value_or(0));
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
  last_resync_unix_.store(UnixNow());
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

std::vector<NetnsWatcher::PolicyDurations> NetnsWatcher::CopyStateDurations()
    const {
  std::vector<PolicyDurations> out;
  counters_.ForEachBlock(
      CounterShard::LabelKind::kPolicy, [&](const CounterShard::LabelBlock& b) {
        const StateDurations* d = b.durations.load(std::memory_order_acquire);
        if (d == nullptr) return;
        auto copy = std::make_shared<StateDurationsCopy>();
        CopyDurations(*d, copy.get());
        out.push_back({b.name, std::move(copy)});
      });
  return out;
}

void NetnsWatcher::FillSnapshot(NetnsSnapshot* out) const {
  out->netns = ns_->label();
  out->ready = Ready();
  out->events_up = events_up_.load();
  out->dump_up = dump_up_.load();
  counters_.ForEachEntries(
      [&](uint16_t zone, Family f, Proto p, uint8_t s, int64_t v) {
        out->entries.push_back({zone, f, p, s, v});
      });
  for (int t = 0; t < kNumEventTypes; ++t) {
    for (int f = 0; f < kNumFamilies; ++f) {
      for (int p = 0; p < kNumProtos; ++p) {
        out->events[t][f][p] =
            counters_.Events(static_cast<EventType>(t), static_cast<Family>(f),
                             static_cast<Proto>(p));
        if (t == 0) {
          for (int b = 0; b <= kNumDurationBounds; ++b) {
            out->flow_duration_buckets[f][p][b] = counters_.DurationBucket(
                static_cast<Family>(f), static_cast<Proto>(p), b);
          }
          out->flow_duration_sum[f][p] = counters_.DurationSum(
              static_cast<Family>(f), static_cast<Proto>(p));
        }
        if (t < 2) {
          out->flow_bytes[f][p][t] = counters_.FlowBytes(
              static_cast<Family>(f), static_cast<Proto>(p), t);
          out->flow_packets[f][p][t] = counters_.FlowPackets(
              static_cast<Family>(f), static_cast<Proto>(p), t);
        }
      }
    }
  }
  for (int p = 0; p < kNumProtos; ++p) {
    Proto proto = static_cast<Proto>(p);
    if (!ProtoHasStates(proto)) continue;
    for (int a = 0; a < kMaxStates; ++a) {
      for (int b = 0; b < kMaxStates; ++b) {
        int64_t v = counters_.Transitions(proto, a, b);
        if (v != 0) {
          out->transitions.push_back(
              {proto, static_cast<uint8_t>(a), static_cast<uint8_t>(b), v});
        }
      }
    }
  }
  for (int i = 0; i < kNumFlowStatus; ++i) {
    out->status_entries[i] = counters_.StatusEntries(i);
  }
  {
    std::lock_guard<std::mutex> lock(policies_mu_);
    if (policies_) {
      out->policies = policies_->policies;
      out->policy_errors = policies_->errors;
      out->policies_up = policies_->errors.empty();
    }
    if (userspace_helpers_) out->userspace_helpers = *userspace_helpers_;
    out->cthelper_up = userspace_helpers_ != nullptr && cthelper_error_.empty();
    out->cthelper_error = cthelper_error_;
  }
  using LabelKind = CounterShard::LabelKind;
  auto collect = [&](LabelKind kind, std::vector<LabelSample>* into) {
    counters_.ForEachBlock(kind, [&](const CounterShard::LabelBlock& b) {
      LabelSample c;
      c.name = b.name;
      for (int p = 0; p < kNumProtos; ++p) {
        c.flows[p] = b.flows[p].Get();
        for (int st = 0; st < kMaxStates; ++st) {
          int i = p * kMaxStates + st;
          c.seen[p][st] = b.seen[i].load(std::memory_order_relaxed);
          c.entries[p][st] = b.entries[i].Get();
        }
      }
      into->push_back(std::move(c));
    });
    std::sort(into->begin(), into->end(),
              [](const LabelSample& a, const LabelSample& b) {
                return a.name < b.name;
              });
  };
  collect(LabelKind::kClass, &out->classes);
  collect(LabelKind::kPolicy, &out->policy_entries);
  collect(LabelKind::kHelper, &out->helpers);
  out->expectations = expectations_.Read();
  out->expectations_up = expectations_up_.load();
  out->flows_added = counters_.flows_added().Get();
  out->flows_updated = counters_.flows_updated().Get();
  out->flows_removed = counters_.flows_removed().Get();
  out->overruns = counters_.overruns().Get();
  out->parse_errors = counters_.parse_errors().Get();
  out->destroy_unknown = counters_.destroy_unknown().Get();
  for (int r = 0; r < kNumResyncReasons; ++r) {
    out->resyncs[r] = counters_.resyncs(static_cast<ResyncReason>(r)).Get();
  }
  out->last_dump_seconds = last_dump_seconds_.load();
  out->last_resync_unix_seconds = last_resync_unix_.load();
  out->table_entries = tracker_.table_entries();
  out->table_bytes = tracker_.table_bytes();
  out->receive_buffer_bytes = rcvbuf_.load();
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    out->kernel = KernelStats{};
    out->kernel_stats_up = !QueryKernelStats(stats_.get(), &out->kernel);
    static thread_local uint32_t seq = 7000;
    alignas(nlmsghdr) uint8_t req[64];
    BuildExpStatsCpuRequest(req, ++seq);
    out->exp_stats = ExpStats{};
    out->exp_stats_up =
        !NetlinkRequest(stats_.get(), reinterpret_cast<nlmsghdr*>(req),
                        [&](const nlmsghdr* nlh) {
                          return ParseExpStatsMessage(nlh, &out->exp_stats);
                        });
  }
}

}  // namespace ctcollect
