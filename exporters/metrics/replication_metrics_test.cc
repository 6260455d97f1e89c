#include "exporters/metrics/replication_metrics.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/text_serializer.h>

#include <fstream>
#include <sstream>

namespace ctcollect {
namespace {

SyncSnapshot Fixture() {
  SyncSnapshot s;
  s.enabled = true;
  s.mode = SyncMode::kFtfw;
  SyncPeerSnapshot p;
  p.name = "198.18.0.1";
  p.buckets[{AF_INET, IPPROTO_TCP, 3}] = 5;
  p.buckets[{AF_INET6, IPPROTO_UDP, 255}] = 2;
  p.stats.lost = 4;
  p.stats.last_seen_unix = 1800000000;
  p.stats.recv[static_cast<size_t>(SyncMsgKind::kNew)] = 9;
  p.stats.malformed[static_cast<size_t>(SyncError::kBadHmac)] = 1;
  s.peers.push_back(p);
  SyncLinkSnapshot l;
  l.name = "198.18.0.1";
  l.stats.bytes_sent = 1000;
  l.stats.sent[static_cast<size_t>(SyncMsgKind::kNack)] = 2;
  l.resend_queue_length = 7;
  l.synced = true;
  s.links.push_back(l);
  s.foreign_datagrams = 3;
  return s;
}

std::string Text(const SyncSnapshot& s) {
  std::vector<prometheus::MetricFamily> f;
  RenderSyncMetrics(s, &f);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, f);
  return out.str();
}

TEST(SyncMetrics, NothingWhenPeerModeIsOff) {
  EXPECT_EQ(Text(SyncSnapshot{}), "");
}

TEST(SyncMetrics, FiguresWithTheirLabels) {
  const std::string t = Text(Fixture());
  for (const char* want : {
           "conntrack_peer_entries{peer=\"198.18.0.1\",family=\"ipv4\","
           "protocol=\"tcp\",state=\"ESTABLISHED\"} 5",
           "conntrack_peer_entries{peer=\"198.18.0.1\",family=\"ipv6\","
           "protocol=\"udp\"} 2",
           "ctcollect_peer_lost_total{peer=\"198.18.0.1\"} 4",
           "ctcollect_peer_messages_total{peer=\"198.18.0.1\",direction="
           "\"received\",type=\"new\"} 9",
           "ctcollect_peer_messages_total{peer=\"198.18.0.1\",direction="
           "\"sent\",type=\"nack\"} 2",
           "ctcollect_peer_malformed_total{peer=\"198.18.0.1\",reason="
           "\"bad_hmac\"} 1",
           "ctcollect_peer_malformed_total{peer=\"unknown\",reason="
           "\"foreign_source\"} 3",
           "ctcollect_peer_resend_queue_length{peer=\"198.18.0.1\"} 7",
           "ctcollect_peer_last_seen_timestamp_seconds{peer=\"198.18.0.1\"} "
           "1800000000",
           "ctcollect_peer_synced{peer=\"198.18.0.1\"} 1",
       }) {
    EXPECT_NE(t.find(want), std::string::npos) << want << "\nin\n" << t;
  }
}

TEST(SyncMetrics, EveryFamilyIsDocumentedInTheReadme) {
  std::ifstream in(std::string(CTCOLLECT_SOURCE_DIR) + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(in)), {});
  std::vector<prometheus::MetricFamily> f;
  RenderSyncMetrics(Fixture(), &f);
  ASSERT_GT(f.size(), 8u);
  for (const auto& fam : f) {
    EXPECT_NE(readme.find("| `" + fam.name + "` |"), std::string::npos)
        << fam.name << " has no row in README.md's metrics table";
  }
}

}  // namespace
}  // namespace ctcollect
