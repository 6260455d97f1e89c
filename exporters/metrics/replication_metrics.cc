#include "exporters/metrics/replication_metrics.h"

#include <netinet/in.h>

#include <string>

#include "collector/conntrack/dimensions.h"
#include "exporters/metrics/metric_family.h"

namespace ctcollect {

using prometheus::MetricFamily;
using prometheus::MetricType;

void RenderSyncMetrics(const SyncSnapshot& s, std::vector<MetricFamily>* out) {
  if (!s.enabled) return;
  {
    MetricFamily& f = AddFamily(
        out, "conntrack_peer_entries",
        "Flows in each replication peer's external cache (what the peer "
        "says its kernel has).",
        MetricType::Gauge);
    for (const auto& p : s.peers) {
      for (const auto& [key, n] : p.buckets) {
        const auto [fam, l4, state] = key;
        const Proto proto = ProtoFromNumber(l4);
        MetricLabels l = {
            {"peer", p.name},
            {"family", std::string(FamilyName(
                           fam == AF_INET6 ? Family::kIpv6 : Family::kIpv4))},
            {"protocol", std::string(ProtoName(proto))}};
        if (state != 255) {
          l.push_back({"state", std::string(StateName(
                                    proto, static_cast<uint8_t>(state)))});
        }
        AddSample(&f, std::move(l), static_cast<double>(n));
      }
    }
  }
  {
    MetricFamily& f = AddFamily(out, "conntrack_peer_expectations",
                                "Expectations in each peer's external cache.",
                                MetricType::Gauge);
    for (const auto& p : s.peers) {
      AddSample(&f, {{"peer", p.name}}, static_cast<double>(p.expectations));
    }
  }
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_peer_messages_total",
        "Replication messages by peer, direction and type (new, update, "
        "destroy, exp_*, ack, nack, resync, alive). Sent ones are counted "
        "per link: the peer's address, or the multicast group.",
        MetricType::Counter);
    for (const auto& p : s.peers) {
      for (size_t k = 0; k < p.stats.recv.size(); ++k) {
        AddSample(&f,
                  {{"peer", p.name},
                   {"direction", "received"},
                   {"type", SyncMsgKindName(static_cast<SyncMsgKind>(k))}},
                  static_cast<double>(p.stats.recv[k]));
      }
    }
    for (const auto& l : s.links) {
      for (size_t k = 0; k < l.stats.sent.size(); ++k) {
        AddSample(&f,
                  {{"peer", l.name},
                   {"direction", "sent"},
                   {"type", SyncMsgKindName(static_cast<SyncMsgKind>(k))}},
                  static_cast<double>(l.stats.sent[k]));
      }
    }
  }
  {
    MetricFamily& f = AddFamily(out, "ctcollect_peer_bytes_total",
                                "Bytes of replication datagrams by peer and "
                                "direction (UDP payload, HMAC included).",
                                MetricType::Counter);
    for (const auto& p : s.peers) {
      AddSample(&f, {{"peer", p.name}, {"direction", "received"}},
                static_cast<double>(p.stats.bytes_recv));
    }
    for (const auto& l : s.links) {
      AddSample(&f, {{"peer", l.name}, {"direction", "sent"}},
                static_cast<double>(l.stats.bytes_sent));
    }
  }
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_peer_lost_total",
        "Messages of each peer never received: the gaps in its sequence "
        "numbers (conntrackd's own count adds 2 per gap; this one does not).",
        MetricType::Counter);
    for (const auto& p : s.peers) {
      AddSample(&f, {{"peer", p.name}}, static_cast<double>(p.stats.lost));
    }
  }
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_peer_malformed_total",
        "Replication datagrams or messages dropped, by reason: conntrackd's "
        "(wrong_version, malformed_header, bad_type, malformed_payload, "
        "truncated, bad_size) and ours (foreign_source, bad_hmac).",
        MetricType::Counter);
    for (const auto& p : s.peers) {
      for (size_t r = 1; r < p.stats.malformed.size(); ++r) {
        if (static_cast<SyncError>(r) == SyncError::kForeign) continue;
        AddSample(&f,
                  {{"peer", p.name},
                   {"reason", SyncErrorName(static_cast<SyncError>(r))}},
                  static_cast<double>(p.stats.malformed[r]));
      }
    }
    AddSample(&f, {{"peer", "unknown"}, {"reason", "foreign_source"}},
              static_cast<double>(s.foreign_datagrams));
  }
  {
    MetricFamily& f =
        AddFamily(out, "ctcollect_peer_last_seen_timestamp_seconds",
                  "When each peer was last heard from (any "
                  "datagram, ALIVE included); 0 if never.",
                  MetricType::Gauge);
    for (const auto& p : s.peers) {
      AddSample(&f, {{"peer", p.name}},
                static_cast<double>(p.stats.last_seen_unix));
    }
  }
  {
    MetricFamily& f =
        AddFamily(out, "ctcollect_peer_resend_queue_length",
                  "FT-FW messages sent on each link and not yet acknowledged.",
                  MetricType::Gauge);
    for (const auto& l : s.links) {
      AddSample(&f, {{"peer", l.name}},
                static_cast<double>(l.resend_queue_length));
    }
  }
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_peer_retransmits_total",
        "FT-FW messages sent again on each link because the peer NACKed them.",
        MetricType::Counter);
    for (const auto& l : s.links) {
      AddSample(&f, {{"peer", l.name}},
                static_cast<double>(l.stats.retransmitted));
    }
  }
  {
    MetricFamily& f = AddFamily(
        out, "ctcollect_peer_synced",
        "1 once the FT-FW HELLO handshake with the link's peer finished "
        "(always 1 in NOTRACK and ALARM).",
        MetricType::Gauge);
    for (const auto& l : s.links) {
      AddSample(&f, {{"peer", l.name}}, l.synced ? 1 : 0);
    }
  }
  AddSample(&AddFamily(out, "ctcollect_peer_internal_flows",
                       "Local flows in the replicator's internal cache (as "
                       "announced to the peers).",
                       MetricType::Gauge),
            {}, static_cast<double>(s.internal_flows));
  AddSample(&AddFamily(out, "ctcollect_peer_internal_cache_bytes",
                       "Memory of the internal cache.", MetricType::Gauge),
            {}, static_cast<double>(s.internal_bytes));
  AddSample(&AddFamily(out, "ctcollect_peer_external_cache_bytes",
                       "Memory of the external caches.", MetricType::Gauge),
            {}, static_cast<double>(s.external_bytes));
  AddSample(
      &AddFamily(out, "ctcollect_peer_event_overruns_total",
                 "ENOBUFS on the replicator's event socket (each followed "
                 "by a resync dump that announces what changed).",
                 MetricType::Counter),
      {}, static_cast<double>(s.local_overruns));
}

}  // namespace ctcollect
