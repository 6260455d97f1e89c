// Golden /metrics: a fixed scenario rendered exactly as the HTTP server
// renders it must equal exporters/testdata/metrics_golden.prom byte for
// byte (ctest also runs `promtool check metrics` on that file). After an
// intended change, regenerate it with CTCOLLECT_UPDATE_GOLDEN=1 and review
// the diff.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "exporters/metrics/metrics_collectable.h"

namespace ctcollect {
namespace {

const std::string kGolden = std::string(CTCOLLECT_SOURCE_DIR) +
                            "/exporters/metrics/testdata/metrics_golden.prom";

LabelSample Label(const std::string& name, Proto p, uint8_t state,
                  int64_t entries, int64_t flows) {
  LabelSample l;
  l.name = name;
  l.seen[static_cast<int>(p)][state] = true;
  l.entries[static_cast<int>(p)][state] = entries;
  l.flows[static_cast<int>(p)] = flows;
  return l;
}

// Two namespaces: a firewall's own with the whole catalogue, and a
// container's with only the basics and no kernel stats.
Snapshot Scenario() {
  Snapshot s;
  NetnsSnapshot fw;
  fw.netns = "";
  fw.ready = fw.events_up = fw.dump_up = fw.kernel_stats_up = true;
  fw.policies_up = fw.expectations_up = fw.exp_stats_up = true;
  fw.entries = {{0, Family::kIpv4, Proto::kTcp, 3, 1200},
                {0, Family::kIpv4, Proto::kTcp, 7, 310},
                {0, Family::kIpv6, Proto::kTcp, 1, 4},
                {0, Family::kIpv4, Proto::kUdp, 0, 96},
                {7, Family::kIpv4, Proto::kUdp, 0, 12},
                {0, Family::kIpv4, Proto::kIcmp, 0, 3},
                {0, Family::kIpv4, Proto::kSctp, 4, 2}};
  fw.events[0][0][0] = 5000;
  fw.events[1][0][0] = 14000;
  fw.events[2][0][0] = 3490;
  fw.events[0][0][1] = 800;
  fw.events[2][0][1] = 692;
  fw.transitions = {{Proto::kTcp, 1, 2, 4990}, {Proto::kTcp, 3, 4, 3300}};
  fw.kernel.cpus = 2;
  for (int i = 0; i < kNumKernelStats; ++i) fw.kernel.cpu_sum[i] = 10 * i;
  fw.kernel.entries = 1627;
  fw.kernel.max_entries = 262144;
  fw.flow_bytes[0][0][0] = 123456789;
  fw.flow_bytes[0][0][1] = 987654321;
  fw.flow_packets[0][0][0] = 100000;
  fw.flow_packets[0][0][1] = 150000;
  fw.flow_duration_buckets[0][0][3] = 40;
  fw.flow_duration_buckets[0][0][5] = 3000;
  fw.flow_duration_buckets[0][0][9] = 450;
  fw.flow_duration_sum[0][0] = 98765.25;
  fw.status_entries[0] = 1400;
  fw.status_entries[1] = 20;
  fw.classes = {Label("postgres", Proto::kTcp, 3, 40, 900)};
  fw.policy_entries = {Label("default", Proto::kTcp, 3, 1100, 3000),
                       Label("webpol", Proto::kTcp, 3, 100, 490)};
  fw.helpers = {Label("ftp", Proto::kTcp, 3, 2, 7)};
  fw.expectations["ftp"] = {1, 9, 8};
  fw.exp_stats = {9, 8, 8, 2};
  TimeoutPolicy p;
  p.name = "webpol";
  p.source = PolicySource::kCttimeout;
  p.l3proto = AF_INET;
  p.l4proto = IPPROTO_TCP;
  p.count = 11;
  for (int i = 0; i < 11; ++i) p.values[i] = 60 + i;
  p.set = 0x7ff;
  fw.policies = {p};
  fw.flows_added = 5300;
  fw.overruns = 1;
  fw.parse_errors = 2;
  fw.destroy_unknown = 3;
  fw.resyncs = {1, 60, 1, 2};
  fw.last_dump_seconds = 0.25;
  fw.last_resync_unix_seconds = 1795350000;
  fw.table_entries = 1627;
  fw.table_bytes = 65536;
  fw.receive_buffer_bytes = 67108864;
  fw.top_enabled = true;
  fw.top.keys = {{TopBy::kSrc, "10.0.0.3", 900},
                 {TopBy::kDst, "198.51.100.7", 1100},
                 {TopBy::kDport, "tcp/443", 1100},
                 {TopBy::kSnat, "tcp/192.0.2.1->198.51.100.7:443", 800}};
  fw.top.snat_max = {{6, 800}, {47, 2}};
  fw.top_bytes = 151552;
  s.netns.push_back(fw);

  NetnsSnapshot c;
  c.netns = "container-1";
  c.ready = c.events_up = c.dump_up = true;
  c.entries = {{0, Family::kIpv4, Proto::kTcp, 3, 5}};
  c.events[0][0][0] = 5;
  c.table_entries = 5;
  c.table_bytes = 16384;
  s.netns.push_back(c);

  // A namespace --netns.discover found, with the summary catalogue: its
  // entries, the events of the pairs that had any, overruns, resyncs, up.
  NetnsSnapshot pod;
  pod.netns = "kube-system/coredns-5d78c9869d-abcde";
  pod.full_detail = false;
  pod.identity = {4026532300,
                  true,
                  "coredns-5d78c9869d-abcde",
                  "kube-system",
                  "0b1c2d3e-aaaa-bbbb-cccc-000000000001",
                  "containerd"};
  pod.ready = pod.events_up = pod.dump_up = true;
  pod.entries = {{0, Family::kIpv4, Proto::kUdp, 0, 7}};
  pod.events[0][0][1] = 9;    // new, ipv4, udp
  pod.status_entries[1] = 7;  // not in the summary
  pod.resyncs[0] = 1;
  pod.table_entries = 7;
  s.netns.push_back(pod);
  s.discovery = {true, 12, 1, 0, 0.004};
  return s;
}

TEST(MetricsGolden, FixedScenarioRendersAsTheGoldenFile) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(
      os, MetricsCollectable::Render(Scenario(), "0.0.0-golden"));
  std::string text = os.str();
  if (std::getenv("CTCOLLECT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGolden) << text;
    GTEST_SKIP() << "rewrote " << kGolden;
  }
  std::ifstream in(kGolden);
  std::string golden((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(golden.empty()) << kGolden << " is missing";
  if (text != golden) {
    // The first differing line, to see what changed.
    std::istringstream a(text), b(golden);
    std::string la, lb;
    int n = 0;
    while (std::getline(a, la) && std::getline(b, lb) && la == lb) ++n;
    FAIL() << "rendering differs from " << kGolden << " at line " << n + 1
           << ":\n  now:    " << la << "\n  golden: " << lb
           << "\nIf intended: CTCOLLECT_UPDATE_GOLDEN=1 "
              "build/dev/exporters/metrics/ctcollect_metrics_test "
              "--gtest_filter=MetricsGolden.*";
  }
}

}  // namespace
}  // namespace ctcollect
