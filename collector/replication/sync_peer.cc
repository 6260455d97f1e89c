#include "collector/replication/sync_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/nfct_dump.h"
#include "collector/replication/sync_commit.h"
#include "collector/replication/sync_expect.h"

namespace ctcollect {
namespace {

constexpr uint32_t kSyncEventGroups = NF_NETLINK_CONNTRACK_NEW |
                                      NF_NETLINK_CONNTRACK_UPDATE |
                                      NF_NETLINK_CONNTRACK_DESTROY;

SyncEngineConfig EngineConfig(const SyncOptions& o, size_t max_datagram) {
  SyncEngineConfig c;
  c.mode = o.mode;
  c.ack_window = o.ack_window;
  c.resend_queue_size = o.resend_queue_size;
  c.max_datagram = max_datagram;
  c.refresh_ms = o.refresh_time.count() * 1000;
  c.cache_timeout_ms = o.cache_timeout.count() * 1000;
  c.initial_seq = static_cast<uint32_t>(WallClockUnix());
  return c;
}

}  // namespace

SyncPeer::SyncPeer(const SyncOptions& opts, NetnsRef ns)
    : opts_(opts), ns_(std::move(ns)) {
  std::shared_ptr<const SyncHmac> hmac;
  if (!opts.hmac_key_file.empty()) {
    hmac = std::make_shared<SyncHmac>(SyncHmac::FromFile(opts.hmac_key_file));
  }
  channel_ = std::make_unique<SyncChannel>(opts, hmac);
  std::vector<SyncEngine::PeerSpec> peers;
  for (size_t i = 0; i < channel_->peer_ips().size(); ++i) {
    peers.push_back({channel_->peer_ips()[i], channel_->LinkOfPeer(i)});
    peer_of_ip_[channel_->peer_ips()[i]] = i;
  }
  dynamic_peers_ = peers.empty();
  for (const auto& p : opts.peers) {
    link_endpoints_.push_back(ParseSyncEndpoint("--sync.peer", p, 3780));
  }
  if (!opts.multicast_group.empty()) {
    link_endpoints_.push_back(ParseSyncEndpoint("--sync.multicast-group",
                                                opts.multicast_group, 3780));
  }
  if (!link_endpoints_.empty()) {
    sync_port_ =
        ntohs(reinterpret_cast<const sockaddr_in&>(link_endpoints_.back().addr)
                  .sin_port);
  }
  engine_ = std::make_unique<SyncEngine>(
      EngineConfig(opts, channel_->max_datagram()), channel_->link_names(),
      std::move(peers), this,
      [this](const std::function<void(const SyncFlow&)>& emit) {
        ++bulk_sends_;
        internal_.ForEach([&](const SyncCache::Entry& e) { emit(e.flow); });
      });
  if (opts.expectation_sync) {
    engine_->set_expect_source(
        [this](const std::function<void(const SyncExpect&)>& emit) {
          std::error_code ec = DumpExpectations(*ns_, [&](nf_expect* exp) {
            emit(SyncExpectFromExpect(exp, true));
            return true;
          });
          if (ec) {
            Log(LogLevel::kWarn,
                "sync: dump of the local expectations failed: " + ec.message());
          }
        });
  }
  {
    ScopedNetns in(*ns_);
    if (in.error()) throw std::system_error(in.error(), "enter netns");
    std::error_code ec;
    const uint32_t groups =
        kSyncEventGroups |
        (opts.expectation_sync
             ? NF_NETLINK_CONNTRACK_EXP_NEW | NF_NETLINK_CONNTRACK_EXP_DESTROY
             : 0);
    events_ = NetlinkSocket::Open(groups, &ec);
    if (!events_) throw std::system_error(ec, "sync: ctnetlink event socket");
  }
  events_->SetReceiveBuffer(32u << 20);
  events_->SetNonBlocking();
  if (auto ec = events_->ConnectToKernel()) {
    throw std::system_error(ec, "sync: connect the ctnetlink event socket");
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "eventfd");
  Publish();
}

SyncPeer::~SyncPeer() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void SyncPeer::Start() {
  running_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void SyncPeer::Stop() {
  if (!thread_.joinable()) return;
  running_ = false;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

bool SyncPeer::Send(size_t link, const uint8_t* data, size_t len) {
  return channel_->Send(link, data, len);
}

size_t SyncPeer::PeerIndex(const std::string& ip) {
  auto it = peer_of_ip_.find(ip);
  if (it != peer_of_ip_.end()) return it->second;
  if (!dynamic_peers_) return SIZE_MAX;
  size_t i = engine_->AddPeer({ip, 0});
  peer_of_ip_[ip] = i;
  Log(LogLevel::kInfo, "sync: new multicast peer " + ip);
  return i;
}

size_t SyncPeer::OnData(const std::string& source, const uint8_t* data,
                        size_t len, bool stream) {
  const size_t peer = PeerIndex(source);
  if (peer == SIZE_MAX) {
    ++foreign_;
    foreign_log_.Log("sync: dropped datagrams from " + source +
                     ", which is no configured peer");
    return len;
  }
  return engine_->Receive(peer, data, len, stream, SteadyMillis(),
                          WallClockUnix());
}

void SyncPeer::OnDropped(const std::string& source, SyncError why) {
  const size_t peer = PeerIndex(source);
  if (peer == SIZE_MAX) {
    ++foreign_;
    return;
  }
  engine_->CountDropped(peer, why);
  dropped_log_.Log(std::string("sync: dropped a datagram from ") + source +
                   ": " + SyncErrorName(why));
}

bool SyncPeer::IsSyncLinkFlow(const SyncFlow& f) const {
  const uint8_t proto =
      opts_.transport == SyncTransport::kTcp ? IPPROTO_TCP : IPPROTO_UDP;
  if (sync_port_ == 0 || f.l4proto != proto) return false;
  if (f.sport != sync_port_ && f.dport != sync_port_) return false;
  for (const auto& e : link_endpoints_) {
    const void* a =
        e.addr.ss_family == AF_INET
            ? static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in&>(e.addr).sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6&>(e.addr).sin6_addr);
    const size_t n = e.addr.ss_family == AF_INET ? 4 : 16;
    if (std::memcmp(f.src, a, n) == 0 || std::memcmp(f.dst, a, n) == 0) {
      return true;
    }
  }
  return false;
}

void SyncPeer::HandleExpectEvent(const nlmsghdr* nlh) {
  const uint8_t msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
  if (msg != IPCTNL_MSG_EXP_NEW && msg != IPCTNL_MSG_EXP_DELETE) return;
  nf_expect* exp = nfexp_new();
  if (exp == nullptr) return;
  if (nfexp_nlmsg_parse(nlh, exp) >= 0) {
    ++local_events_;
    engine_->LocalExpect(msg == IPCTNL_MSG_EXP_NEW ? kSyncExpNew : kSyncExpDel,
                         SyncExpectFromExpect(exp, true));
  }
  nfexp_destroy(exp);
}

void SyncPeer::HandleEvent(const nlmsghdr* nlh) {
  const uint8_t msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_CTNETLINK_EXP) {
    HandleExpectEvent(nlh);
    return;
  }
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK) return;
  if (msg != IPCTNL_MSG_CT_NEW && msg != IPCTNL_MSG_CT_DELETE) return;
  nf_conntrack* ct = nfct_new();
  if (ct == nullptr) return;
  if (nfct_nlmsg_parse(nlh, ct) < 0) {
    nfct_destroy(ct);
    return;
  }
  SyncFlow f = SyncFlowFromConntrack(ct, true, opts_.tcp_window_tracking);
  nfct_destroy(ct);
  if (IsSyncLinkFlow(f)) return;
  ++local_events_;
  uint8_t type = kSyncCtUpd;
  if (msg == IPCTNL_MSG_CT_DELETE) {
    type = kSyncCtDel;
  } else if (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) {
    type = kSyncCtNew;
  }
  internal_.Apply(type, f, WallClockUnix(), SteadyMillis());
  engine_->LocalFlow(type, f);
}

void SyncPeer::ReadEvents() {
  std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  for (int i = 0; i < 256; ++i) {
    std::error_code ec;
    ssize_t n = events_->Receive(buf.data(), buf.size(), &ec);
    if (n < 0) {
      if (ec.value() == ENOBUFS) {
        ++local_overruns_;
        overrun_log_.Log(
            "sync: conntrack events lost (ENOBUFS); resyncing the "
            "peers from a dump");
        local_resync_due_ = true;
      }
      return;
    }
    if (n == 0) return;
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
         mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      HandleEvent(nlh);
    }
  }
}

void SyncPeer::DumpLocal(bool announce) {
  const int64_t stamp = SteadyMillis();
  const int64_t now_unix = WallClockUnix();
  uint8_t a[kSyncMaxMessage], b[kSyncMaxMessage];
  // What a peer holds of a flow, but for the timeout that counts down.
  auto same = [&](const SyncFlow& x, const SyncFlow& y) {
    SyncFlow cx = x, cy = y;
    cx.present &= ~(uint64_t{1} << kNtaTimeout);
    cy.present &= ~(uint64_t{1} << kNtaTimeout);
    const size_t n = EncodeSyncFlow(cx, kSyncCtUpd, 0, 0, a);
    return n == EncodeSyncFlow(cy, kSyncCtUpd, 0, 0, b) &&
           std::memcmp(a, b, n) == 0;
  };
  std::error_code ec = DumpFlows(*ns_, [&](nf_conntrack* ct) {
    SyncFlow f = SyncFlowFromConntrack(ct, true, opts_.tcp_window_tracking);
    if (IsSyncLinkFlow(f)) return true;
    if (announce) {
      const SyncCache::Entry* known = internal_.Find(f);
      if (known == nullptr) {
        engine_->LocalFlow(kSyncCtNew, f);
      } else if (!same(known->flow, f)) {
        engine_->LocalFlow(kSyncCtUpd, f);
      }
    }
    internal_.Apply(kSyncCtUpd, f, now_unix, stamp);
    return true;
  });
  if (ec) {
    Log(LogLevel::kWarn,
        "sync: dump of the local table failed: " + ec.message());
    return;  // a partial dump proves nothing gone
  }
  // Neither in the dump nor touched by an event since it started: gone
  // without a DESTROY we saw.
  internal_.ExpireBefore(stamp, [&](const SyncFlow& f) {
    if (announce) engine_->LocalFlow(kSyncCtDel, f);
  });
  engine_->Flush();
}

void SyncPeer::RunOnLoop(std::function<void()> fn) {
  if (!running_) {
    fn();  // not started yet (or stopped): nobody else touches the state
    return;
  }
  std::promise<void> done;
  auto fut = done.get_future();
  {
    MutexLock l(&tasks_mu_);
    tasks_.push_back([&] {
      fn();
      done.set_value();
    });
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  fut.wait();
}

void SyncPeer::RunPending() {
  uint64_t v;
  (void)!read(wake_fd_, &v, sizeof(v));
  std::vector<std::function<void()>> tasks;
  {
    MutexLock l(&tasks_mu_);
    tasks.swap(tasks_);
  }
  for (auto& t : tasks) t();
}

void SyncPeer::Loop() {
  // The table as it is now: announced on request (-B, RESYNC), and the
  // base for finding flows that end while events are lost.
  DumpLocal(false);
  last_local_resync_ms_ = SteadyMillis();
  std::vector<pollfd> fds;
  while (running_) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({events_->fd(), POLLIN, 0});
    channel_->AddPollFds(&fds);
    int r = poll(fds.data(), fds.size(), 200);
    if (r < 0 && errno != EINTR) {
      Log(LogLevel::kError, std::string("sync: poll: ") + strerror(errno));
      break;
    }
    if (fds[0].revents) RunPending();
    if (fds[1].revents) ReadEvents();
    channel_->HandleReady(fds, this);
    const int64_t now = SteadyMillis();
    if (local_resync_due_ ||
        now - last_local_resync_ms_ >= opts_.local_resync.count()) {
      local_resync_due_ = false;
      last_local_resync_ms_ = now;
      DumpLocal(true);
    }
    channel_->Tick(now);
    engine_->Tick(now, WallClockUnix());
    engine_->Flush();
    if (now - last_publish_ms_ >= 500) {
      last_publish_ms_ = now;
      Publish();
    }
  }
  RunPending();  // no caller waits forever on a stopped loop
}

void SyncPeer::Publish() {
  SyncSnapshot s;
  s.enabled = true;
  s.mode = opts_.mode;
  s.transport = opts_.transport;
  s.interface = opts_.interface;
  s.resend_queue_capacity = opts_.mode == SyncMode::kFtfw
                                ? static_cast<int64_t>(opts_.resend_queue_size)
                                : 0;
  size_t ext_bytes = 0;
  for (size_t i = 0; i < engine_->peer_count(); ++i) {
    SyncPeerSnapshot p;
    p.name = engine_->peer_name(i);
    const SyncCache& c = engine_->cache(i);
    p.stats = engine_->peer_stats(i);
    p.cache_stats = c.stats();
    p.entries = static_cast<int64_t>(c.size());
    p.expectations = static_cast<int64_t>(c.expectations());
    p.buckets = c.buckets();
    ext_bytes += c.MemoryBytes();
    s.peers.push_back(std::move(p));
  }
  for (size_t i = 0; i < engine_->link_count(); ++i) {
    SyncLinkSnapshot l;
    l.name = engine_->link_name(i);
    l.stats = engine_->link_stats(i);
    l.resend_queue_length =
        static_cast<int64_t>(engine_->resend_queue(i).size());
    l.resend_queue_dropped = engine_->resend_queue(i).dropped_full();
    l.synced = engine_->link_synced(i);
    s.links.push_back(std::move(l));
  }
  s.foreign_datagrams = foreign_;
  s.internal_flows = static_cast<int64_t>(internal_.size());
  s.internal_bytes = static_cast<int64_t>(internal_.MemoryBytes());
  s.local_events = local_events_;
  s.local_overruns = local_overruns_;
  s.bulk_sends = bulk_sends_;
  s.external_bytes = static_cast<int64_t>(ext_bytes);
  MutexLock l(&snap_mu_);
  snapshot_ = std::move(s);
}

SyncSnapshot SyncPeer::Snapshot() const {
  MutexLock l(&snap_mu_);
  return snapshot_;
}

std::string SyncPeer::Commit() {
  // Each list is read on the loop; the kernel work runs on the caller's
  // thread, so the loop goes on replicating meanwhile.
  std::vector<ExternalFlow> flows = ExternalFlows();
  return CommitExternal(*ns_, flows, ExternalExpects());
}

}  // namespace ctcollect
