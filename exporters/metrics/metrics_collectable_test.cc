#include "exporters/metrics/metrics_collectable.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace ctcollect {
namespace {

Snapshot Fixture() {
  Snapshot s;
  NetnsSnapshot ns;
  ns.netns = "blue";
  ns.ready = true;
  ns.events_up = ns.dump_up = ns.kernel_stats_up = true;
  ns.entries.push_back({0, Family::kIpv4, Proto::kTcp, 3, 5});
  ns.entries.push_back({7, Family::kIpv6, Proto::kUdp, 0, 2});
  ns.events[0][0][0] = 11;
  ns.status_entries[0] = 4;
  ns.flow_bytes[0][0][0] = 1000;
  ns.flow_duration_buckets[0][0][3] = 2;   // <= 1 s
  ns.flow_duration_buckets[0][0][12] = 1;  // above 5 days
  ns.flow_duration_sum[0][0] = 500001.5;
  ns.transitions.push_back({Proto::kTcp, 1, 3, 4});
  ns.kernel.cpus = 2;
  ns.kernel.cpu_sum[static_cast<int>(KernelStat::kDrop)] = 3;
  ns.kernel.entries = 7;
  ns.kernel.max_entries = 262144;
  ns.overruns = 1;
  ns.resyncs[static_cast<int>(ResyncReason::kStartup)] = 1;
  ns.table_entries = 7;
  ns.table_bytes = 16384;
  LabelSample c;
  c.name = "postgres";
  c.seen[static_cast<int>(Proto::kTcp)][3] = true;
  c.entries[static_cast<int>(Proto::kTcp)][3] = 6;
  c.flows[static_cast<int>(Proto::kTcp)] = 9;
  ns.classes.push_back(c);
  c.name = "default";
  ns.policy_entries.push_back(c);
  c.name = "ftp";
  ns.helpers.push_back(c);
  TimeoutPolicy p;
  p.name = "default";
  p.l3proto = 2;
  p.l4proto = 6;
  p.count = 11;
  p.values[2] = 432000;
  p.set = 1u << 2;
  ns.policies.push_back(p);
  ns.expectations["ftp"] = {1, 3, 2};
  UserspaceHelper uh;
  uh.name = "ssdp";
  uh.l3proto = 2;
  uh.l4proto = 17;
  uh.queue = 5;
  uh.policies.push_back({"ssdp", 8, 5});
  ns.userspace_helpers.push_back(uh);
  ns.exp_stats_up = true;
  ns.exp_stats.created = 3;
  s.netns.push_back(ns);
  return s;
}

std::string Text(const Snapshot& s) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(
      os, MetricsCollectable::Render(s, "1.2.3"));
  return os.str();
}

TEST(MetricsCollectable, RendersTheCatalogue) {
  std::string t = Text(Fixture());
  for (const char* line : {
           "conntrack_entries{netns=\"blue\",family=\"ipv4\",protocol=\"tcp\","
           "state=\"ESTABLISHED\",ct_zone=\"0\"} 5",
           "conntrack_entries{netns=\"blue\",family=\"ipv6\",protocol=\"udp\","
           "ct_zone=\"7\"} 2",
           "conntrack_events_total{netns=\"blue\",type=\"new\",family=\"ipv4\","
           "protocol=\"tcp\"} 11",
           "conntrack_state_transitions_total{netns=\"blue\",protocol=\"tcp\","
           "from=\"SYN_SENT\",to=\"ESTABLISHED\"} 4",
           "conntrack_entries_limit{netns=\"blue\"} 262144",
           "conntrack_kernel_entries{netns=\"blue\"} 7",
           "conntrack_kernel_drop_total{netns=\"blue\"} 3",
           "conntrack_kernel_chaintoolong_total{netns=\"blue\"} 0",
           "ctcollect_netlink_overruns_total{netns=\"blue\"} 1",
           "ctcollect_resyncs_total{netns=\"blue\",reason=\"startup\"} 1",
           "ctcollect_flow_table_bytes{netns=\"blue\"} 16384",
           "ctcollect_source_up{netns=\"blue\",source=\"events\"} 1",
           "ctcollect_build_info{version=\"1.2.3\"} 1",
           "conntrack_status_entries{netns=\"blue\",status=\"assured\"} 4",
           "conntrack_flow_bytes_total{netns=\"blue\",family=\"ipv4\","
           "protocol=\"tcp\",direction=\"original\"} 1000",
           "conntrack_flow_duration_seconds_bucket{netns=\"blue\",family="
           "\"ipv4\",protocol=\"tcp\",le=\"0.1\"} 0",
           "conntrack_flow_duration_seconds_bucket{netns=\"blue\",family="
           "\"ipv4\",protocol=\"tcp\",le=\"1\"} 2",
           "conntrack_flow_duration_seconds_bucket{netns=\"blue\",family="
           "\"ipv4\",protocol=\"tcp\",le=\"+Inf\"} 3",
           "conntrack_flow_duration_seconds_count{netns=\"blue\",family="
           "\"ipv4\",protocol=\"tcp\"} 3",
           "conntrack_class_entries{netns=\"blue\",class=\"postgres\","
           "protocol=\"tcp\",state=\"ESTABLISHED\"} 6",
           "conntrack_class_flows_total{netns=\"blue\",class=\"postgres\","
           "protocol=\"tcp\"} 9",
           "conntrack_policy_entries{netns=\"blue\",policy=\"default\","
           "protocol=\"tcp\",state=\"ESTABLISHED\"} 6",
           "conntrack_helper_entries{netns=\"blue\",helper=\"ftp\"} 6",
           "conntrack_timeout_policy_seconds{netns=\"blue\",policy=\"default\","
           "family=\"ipv4\",protocol=\"tcp\",state=\"ESTABLISHED\"} 432000",
           "conntrack_expectations{netns=\"blue\",helper=\"ftp\"} 1",
           "conntrack_expectation_events_total{netns=\"blue\",type=\"new\","
           "helper=\"ftp\"} 3",
           "conntrack_kernel_expect_create_total{netns=\"blue\"} 3",
           "conntrack_userspace_helper_info{netns=\"blue\",helper=\"ssdp\","
           "family=\"ipv4\",protocol=\"udp\",queue=\"5\",status=\"enabled\","
           "policy=\"ssdp\",expect_max=\"8\",expect_timeout_seconds=\"5\"} 1",
           "# TYPE conntrack_flow_duration_seconds histogram",
           "# TYPE conntrack_entries gauge",
           "# TYPE conntrack_events_total counter",
       }) {
    EXPECT_NE(t.find(line), std::string::npos) << "missing: " << line << "\n"
                                               << t;
  }
}

// Every family the daemon can export has a row in the README's table.
TEST(MetricsCollectable, EveryFamilyIsDocumentedInTheReadme) {
  std::ifstream in(std::string(CTCOLLECT_SOURCE_DIR) + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(readme.empty());
  for (const auto& f : MetricsCollectable::Render(Fixture(), "1")) {
    std::string name = f.name;
    if (name.rfind("conntrack_kernel_", 0) == 0 &&
        name != "conntrack_kernel_entries") {
      name = "conntrack_kernel_<stat>_total";
    }
    EXPECT_NE(readme.find("| `" + name + "` |"), std::string::npos)
        << name << " has no row in README.md's metrics table";
  }
}

TEST(MetricsCollectable, KernelStatsLeftOutWhenUnavailable) {
  Snapshot s = Fixture();
  s.netns[0].kernel = KernelStats{};
  std::string t = Text(s);
  EXPECT_EQ(t.find("conntrack_kernel_drop_total"), std::string::npos);
  EXPECT_EQ(t.find("conntrack_entries_limit"), std::string::npos);
}

}  // namespace
}  // namespace ctcollect
