#include "exporters/formats/conntrackd_format.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace ctcollect {
namespace {

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0) return "";
  return std::string(buf,
                     static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
}

// conntrackd's counters are 32-bit (%12u): print ours as it would, wrapped.
unsigned U32(int64_t v) {
  return static_cast<unsigned>(static_cast<uint64_t>(v));
}

struct Totals {
  int64_t active = 0, added = 0, updated = 0, removed = 0;
  int64_t del_not_found = 0, events = 0, parse_errors = 0, overruns = 0,
          resyncs = 0, receive_buffer = 0;
  uint64_t bytes = 0, packets = 0;
};

Totals Sum(const Snapshot& s) {
  Totals t;
  for (const auto& ns : s.netns) {
    t.active += ns.table_entries;
    t.added += ns.flows_added;
    t.updated += ns.flows_updated;
    t.removed += ns.flows_removed;
    t.del_not_found += ns.destroy_unknown;
    t.parse_errors += ns.parse_errors;
    t.overruns += ns.overruns;
    t.receive_buffer += ns.receive_buffer_bytes;
    for (int64_t r : ns.resyncs) t.resyncs += r;
    for (int ty = 0; ty < kNumEventTypes; ++ty) {
      for (int f = 0; f < kNumFamilies; ++f) {
        for (int p = 0; p < kNumProtos; ++p) {
          t.events += ns.events[ty][f][p];
          if (ty < 2) {
            t.bytes += static_cast<uint64_t>(ns.flow_bytes[f][p][ty]);
            t.packets += static_cast<uint64_t>(ns.flow_packets[f][p][ty]);
          }
        }
      }
    }
  }
  return t;
}

}  // namespace

std::string ConntrackdUptime(int64_t seconds) {
  int days = static_cast<int>(seconds / 86400);
  int minutes = static_cast<int>(seconds / 60);
  int hours = (minutes / 60) % 24;
  minutes %= 60;
  std::string s;
  if (days) s = Printf("%d day%s ", days, days != 1 ? "s" : "");
  if (hours) return s + Printf("%d h %d min", hours, minutes);
  return s + Printf("%d min", minutes);
}

std::string ConntrackdStats(const Snapshot& s) {
  Totals t = Sum(s);
  return Printf(
             "cache stats:\n"
             "current active connections:\t%12u\n"
             "connections created:\t\t%12u\tfailed:\t%12u\n"
             "connections updated:\t\t%12u\tfailed:\t%12u\n"
             "connections destroyed:\t\t%12u\tfailed:\t%12u\n\n",
             U32(t.active), U32(t.added), 0u, U32(t.updated), 0u,
             U32(t.removed), U32(t.del_not_found)) +
         Printf("traffic processed:\n%20llu Bytes      %20llu Pckts\n\n",
                static_cast<unsigned long long>(t.bytes),
                static_cast<unsigned long long>(t.packets));
}

std::string ConntrackdStatsCache(const Snapshot& s) {
  Totals t = Sum(s);
  return Printf(
      "cache:stats\tactive objects:\t\t%12u\n"
      "\tactive/total entries:\t\t%12u/%12u\n"
      "\tcreation OK/failed:\t\t%12u/%12u\n"
      "\t\tno memory available:\t%12u\n"
      "\t\tno space left in cache:\t%12u\n"
      "\tupdate OK/failed:\t\t%12u/%12u\n"
      "\t\tentry not found:\t%12u\n"
      "\tdeletion created/failed:\t%12u/%12u\n"
      "\t\tentry not found:\t%12u\n\n",
      U32(t.active), U32(t.active), U32(t.active), U32(t.added), 0u, 0u, 0u,
      U32(t.updated), 0u, 0u, U32(t.removed), U32(t.del_not_found),
      U32(t.del_not_found));
}

std::string ConntrackdStatsRuntime(const Snapshot& s, const DaemonFigures& d) {
  Totals t = Sum(s);
  return Printf(
      "daemon uptime: %s\n\n"
      "netlink stats:\n"
      "\tevents received:\t%20llu\n"
      "\tevents filtered:\t%20llu\n"
      "\tevents unknown type:\t\t%12u\n"
      "\tcatch event failed:\t\t%12u\n"
      "\tdump unknown type:\t\t%12u\n"
      "\tnetlink overrun:\t\t%12u\n"
      "\tflush kernel table:\t\t%12u\n"
      "\tresync with kernel table:\t%12u\n"
      "\tcurrent buffer size (in bytes):\t%12u\n\n"
      "runtime stats:\n"
      "\tchild process failed:\t\t%12u\n"
      "\t\tchild process segfault:\t%12u\n"
      "\t\tchild process termsig:\t%12u\n"
      "\tselect failed:\t\t\t%12u\n"
      "\twait failed:\t\t\t%12u\n"
      "\tlocal read failed:\t\t%12u\n"
      "\tlocal unknown request:\t\t%12u\n\n",
      ConntrackdUptime(d.uptime_seconds).c_str(),
      static_cast<unsigned long long>(t.events), 0ull, U32(t.parse_errors), 0u,
      0u, U32(t.overruns), U32(d.kernel_flushes), U32(t.resyncs),
      U32(t.receive_buffer), 0u, 0u, 0u, 0u, 0u, U32(d.local_read_failed),
      U32(d.local_unknown_request));
}

namespace {

int64_t Err(const SyncPeerSnapshot& p, SyncError e) {
  return p.stats.malformed[static_cast<size_t>(e)];
}

const char* ChannelName(SyncTransport t) {
  switch (t) {
    case SyncTransport::kUdp:
      return "UDP";
    case SyncTransport::kMulticast:
      return "multicast";
    case SyncTransport::kTcp:
      return "TCP";
  }
  return "UDP";
}

// The three traffic lines of a link: what it sent, what its peers sent.
std::string TrafficLines(const SyncSnapshot& s, size_t link) {
  const SyncLinkSnapshot& l = s.links[link];
  int64_t rbytes = 0, rpackets = 0, rerrors = 0;
  for (const auto& p : s.peers) {
    if (p.link != link) continue;
    rbytes += p.stats.bytes_recv;
    rpackets += p.stats.packets_recv;
    for (auto e :
         {SyncError::kBadHmac, SyncError::kTruncated, SyncError::kBadSize}) {
      rerrors += Err(p, e);
    }
  }
  return Printf(
      "%20llu Bytes sent %20llu Bytes recv\n"
      "%20llu Pckts sent %20llu Pckts recv\n"
      "%20llu Error send %20llu Error recv\n\n",
      static_cast<unsigned long long>(l.stats.bytes_sent),
      static_cast<unsigned long long>(rbytes),
      static_cast<unsigned long long>(l.stats.packets_sent),
      static_cast<unsigned long long>(rpackets),
      static_cast<unsigned long long>(l.stats.send_errors),
      static_cast<unsigned long long>(rerrors));
}

std::string Device(const SyncSnapshot& s) {
  return s.interface.empty() ? std::string("any") : s.interface;
}

}  // namespace

std::string ConntrackdStatsNetwork(const SyncSnapshot& s) {
  int64_t malformed = 0, version = 0, header = 0, payload = 0, type = 0,
          truncated = 0, size = 0, lost = 0, before = 0;
  for (const auto& p : s.peers) {
    for (int64_t v : p.stats.malformed) malformed += v;
    version += Err(p, SyncError::kBadVersion);
    header += Err(p, SyncError::kBadHeader);
    payload += Err(p, SyncError::kBadPayload);
    type += Err(p, SyncError::kBadType);
    truncated += Err(p, SyncError::kTruncated);
    size += Err(p, SyncError::kBadSize);
    lost += p.stats.lost;
    before += p.stats.before;
  }
  std::string out = Printf(
      "network statistics:\n"
      "\trecv:\n"
      "\t\tMalformed messages:\t%20llu\n"
      "\t\tWrong protocol version:\t%20u\n"
      "\t\tMalformed header:\t%20u\n"
      "\t\tMalformed payload:\t%20u\n"
      "\t\tBad message type:\t%20u\n"
      "\t\tTruncated message:\t%20u\n"
      "\t\tBad message size:\t%20u\n\n"
      "sequence tracking statistics:\n"
      "\trecv:\n"
      "\t\tPackets lost:\t\t%20llu\n"
      "\t\tPackets before:\t\t%20llu\n\n",
      static_cast<unsigned long long>(malformed), U32(version), U32(header),
      U32(payload), U32(type), U32(truncated), U32(size),
      static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(before));
  for (size_t i = 0; i < s.links.size(); ++i) {
    out += Printf("%s traffic (active device=%s):\n", ChannelName(s.transport),
                  Device(s).c_str());
    out += TrafficLines(s, i);
  }
  return out;
}

std::string ConntrackdStatsLink(const SyncSnapshot& s) {
  std::string out;
  for (size_t i = 0; i < s.links.size(); ++i) {
    out += Printf("%s traffic device=%s status=RUNNING role=ACTIVE:\n",
                  ChannelName(s.transport), Device(s).c_str());
    out += TrafficLines(s, i);
  }
  return out;
}

std::string ConntrackdStatsQueue(const SyncSnapshot& s) {
  int64_t len = 0, dropped = 0;
  for (const auto& l : s.links) {
    len += l.resend_queue_length;
    dropped += l.resend_queue_dropped;
  }
  std::string out = Printf("allocated queue nodes:\t\t%12u\n\n", U32(len));
  if (!s.enabled) return out;
  auto queue = [&](const char* name, int64_t cur, int64_t max, int64_t enospc) {
    out += Printf(
        "queue %s:\n"
        "current elements:\t\t%12u\n"
        "maximum elements:\t\t%12u\n"
        "not enough space errors:\t%12u\n\n",
        name, U32(cur), U32(max), U32(enospc));
  };
  // Messages go out as they are made: the transmit and error queues stay
  // empty; their maximum is conntrackd's.
  queue("txqueue", 0, INT32_MAX, 0);
  queue("errorq", 0, 128, 0);
  if (s.mode == SyncMode::kFtfw) {
    queue("rsqueue", len, s.resend_queue_capacity, dropped);
  }
  return out;
}

}  // namespace ctcollect
