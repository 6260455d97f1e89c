// 100 concurrent HTTP clients (scrapes, stats, flow dumps, some full) and
// control-socket clients while an event storm runs: every answer is whole,
// no event is lost, the gauges equal the kernel's truth after one resync,
// and the daemon's memory stays bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

TEST(Concurrency, HundredClientsDuringAStorm) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  CtInject(ns, "create --count 20000 --proto tcp --offset 900000 --quiet");
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  const int64_t baseline = RssKiB(d.pid());
  ASSERT_GT(baseline, 0);

  std::atomic<bool> storm_done{false};
  std::atomic<int64_t> peak{baseline};
  std::thread sampler([&] {
    while (!storm_done) {
      int64_t r = RssKiB(d.pid());
      int64_t p = peak.load();
      while (r > p && !peak.compare_exchange_weak(p, r)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::string storm_out;
  std::thread storm([&] {
    storm_out = CtInject(ns, "storm --count 100000 --proto tcp" +
                                 std::string(kStormPace))
                    .out;
  });

  constexpr int kClients = 100;
  std::atomic<int> requests{0}, bad{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      // Every client scrapes; some also read stats, flow pages or whole
      // dumps; a few use the control socket.
      const std::string flows_page =
          "/api/v1/flows?netns=" + ns.name() + "&limit=200";
      const std::string whole = "/api/v1/flows?netns=" + ns.name();
      int rounds = 0;
      while ((!storm_done || rounds < 2) &&
             std::chrono::steady_clock::now() < deadline) {
        ++rounds;
        std::string body;
        int status = HttpGet(d.port(), "/metrics", &body);
        ++requests;
        if (status != 200 ||
            body.find("conntrack_entries_limit") == std::string::npos) {
          ++bad;
          failures[i] = "/metrics: " + std::to_string(status);
        }
        std::string path = i % 10 == 0   ? flows_page
                           : i % 10 == 1 ? "/api/v1/stats"
                           : i == 2      ? whole
                                         : "";
        if (!path.empty()) {
          status = HttpGet(d.port(), path, &body);
          ++requests;
          // A complete answer: the JSON document is closed.
          size_t close = body.rfind(path == "/api/v1/stats" ? "}" : "]");
          if (status != 200 || close == std::string::npos) {
            ++bad;
            failures[i] =
                path + ": " + std::to_string(status) + " " + body.substr(0, 80);
          }
        }
        if (i % 25 == 5) {
          int code = -1;
          std::string s = d.Client("-s", &code);
          ++requests;
          if (code != 0 ||
              s.find("current active connections") == std::string::npos) {
            ++bad;
            failures[i] = "ctcollect -s: " + s.substr(0, 80);
          }
        }
      }
    });
  }
  storm.join();
  storm_done = true;
  for (auto& c : clients) c.join();
  sampler.join();

  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f;
  EXPECT_EQ(bad.load(), 0) << "of " << requests.load() << " requests\n"
                           << d.log();
  EXPECT_GE(requests.load(), 2 * kClients);
  ASSERT_TRUE(d.running()) << d.log();
  EXPECT_NE(storm_out.find("created=100000 failed=0"), std::string::npos)
      << storm_out;

  // No event lost: no overrun, and every create and delete counted.
  auto m = d.Metrics();
  EXPECT_EQ(
      m[Series("ctcollect_netlink_overruns_total", {{"netns", ns.name()}})], 0);
  EXPECT_GE(SumSeries(m, "conntrack_events_total",
                      {{"netns", ns.name()}, {"type", "new"}}),
            100000);
  EXPECT_GE(SumSeries(m, "conntrack_events_total",
                      {{"netns", ns.name()}, {"type", "destroy"}}),
            100000);
  double before = d.LastResync(ns.name());
  d.Client("-R");
  ASSERT_TRUE(d.WaitForResyncAfter(ns.name(), before, 10));
  EntryCounts got, want;
  EXPECT_TRUE(WaitUntilEqualsKernel(d, ns, ns.name(), 5, &got, &want))
      << "daemon: " << Describe(got) << "\nkernel: " << Describe(want);
  // Bounded memory: the storm's flow table (at most ~120k flows of 16
  // bytes at 1/4..3/4 load) plus 100 clients' buffers stay well under
  // 64 MiB above where the daemon started.
  std::printf("rss: baseline %lld KiB, peak %lld KiB, %d requests\n",
              static_cast<long long>(baseline),
              static_cast<long long>(peak.load()), requests.load());
  if (!kSanitized) {
    EXPECT_LT(peak.load() - baseline, 64 * 1024);
  }
}

}  // namespace
}  // namespace ctcollect::itest
