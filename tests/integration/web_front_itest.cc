// The web front (issue 19): every scrape answered within a second while a
// thousand connections are held open on purpose (half request heads, idle
// keep-alives, silent connections or TLS handshakes that never come),
// renewed just before the daemon would time them out, during event storms
// that must lose nothing; and the deadlines themselves.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/held_connections.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/pki.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/prometheus_server.h"
#include "tests/integration/test_netns.h"
#include "tests/integration/web_client.h"

namespace ctcollect::itest {
namespace {

// Parses "created=N" from a ctinject storm's output (0 if absent).
long Created(const std::string& out) {
  size_t at = out.find("created=");
  return at == std::string::npos ? 0 : std::stol(out.substr(at + 8));
}

class HeldConnections : public ::testing::TestWithParam<bool> {};

TEST_P(HeldConnections, EveryScrapeAnsweredWithinASecondDuringStorms) {
  REQUIRE_PRIVILEGE();
  const bool tls = GetParam();
  std::unique_ptr<Pki> pki;
  std::vector<std::string> args;
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  args = {"--netns=" + ns.name(), "--resync-interval=1h"};
  if (tls) {
    if (Shell("command -v openssl").exit_code != 0) {
      SKIP_UNLESS_CI("openssl missing");
    }
    pki = std::make_unique<Pki>();
    ASSERT_TRUE(pki->ok()) << pki->error();
    args.push_back("--web.config.file=" + pki->TlsWebConfig());
  }
  Daemon::Options o;
  o.ready_deadline = 0;
  Daemon d(args, o);
  std::shared_ptr<SSL_CTX> ctx;
  if (tls) ctx = NewTlsClientContext();
  ASSERT_TRUE(WaitForOk(d.port(), ctx.get(), "/-/ready", 20)) << d.log();

  constexpr int kHeld = 1000;
  ConnectionHolder::Options ho;
  ho.port = d.port();
  ho.tls = ctx.get();
  ho.count = kHeld;
  ConnectionHolder holder(ho);
  ASSERT_TRUE(holder.WaitAllOpen(60)) << holder.open() << " open";

  std::atomic<bool> done{false};
  long created = 0;
  std::string storm_out;
  std::thread storms([&] {
    while (!done) {
      storm_out = CtInject(ns, "storm --count 50000 --proto tcp" +
                                   std::string(kStormPace))
                      .out;
      if (Created(storm_out) != 50000) break;
      created += 50000;
    }
  });
  // 100 scrapes over 12 s: across every kind's renewal.
  std::vector<double> seconds;
  double fewest_held = kHeld;
  for (int i = 0; i < 100; ++i) {
    ScrapeResult r = Scrape(d.port(), ctx.get(), "/metrics", 1.0);
    seconds.push_back(r.seconds);
    EXPECT_EQ(r.status, 200)
        << "scrape " << i << " after " << r.seconds << " s";
    EXPECT_LT(r.seconds, 1.0) << "scrape " << i;
    auto m = ParsePromText(r.body);
    // The scrape's own connection is one of them.
    fewest_held =
        std::min(fewest_held, m[Series("ctcollect_http_connections", {})] - 1);
    SleepSeconds(0.12);
  }
  done = true;
  storms.join();
  std::sort(seconds.begin(), seconds.end());
  std::printf(
      "%s: scrape median %.4f s, slowest %.4f s; held >= %.0f; "
      "%ld renewed (%ld late), %ld closed early, %ld failed; %ld flows\n",
      tls ? "tls" : "plain", seconds[50], seconds.back(), fewest_held,
      holder.renewed(), holder.late(), holder.closed_early(), holder.failed(),
      created);
  // The holder really held them: renewed, never closed early by the
  // daemon, and nearly all open at every scrape (renewals under way, and
  // new connections the front has yet to accept on a loaded machine: 961
  // of 1,000 at worst in a CI run with another test beside it). Under a
  // sanitizer the TLS handshakes are slow enough that the holder falls
  // behind its renewals (late ones are closed at their deadline, as they
  // should be); the scrapes must still all be answered in time.
  EXPECT_GT(holder.renewed(), kHeld);
  EXPECT_EQ(holder.closed_early(), 0);
  EXPECT_EQ(holder.failed(), 0);
  if (!kSanitized) {
    EXPECT_GE(fewest_held, kHeld * 9 / 10);
  }

  // No event lost.
  EXPECT_GT(created, 0) << storm_out;
  ASSERT_TRUE(d.running()) << d.log();
  ScrapeResult r = Scrape(d.port(), ctx.get(), "/metrics", 5.0);
  ASSERT_EQ(r.status, 200);
  auto m = ParsePromText(r.body);
  EXPECT_EQ(
      m[Series("ctcollect_netlink_overruns_total", {{"netns", ns.name()}})], 0);
  EXPECT_GE(SumSeries(m, "conntrack_events_total",
                      {{"netns", ns.name()}, {"type", "new"}}),
            created);
}

INSTANTIATE_TEST_SUITE_P(WebFront, HeldConnections, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "Tls" : "Plain");
                         });

// Seconds until the server closes `c` (at most `limit`); -1 if it did not.
double SecondsUntilClosed(WebConn& c, double limit) {
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    const double t =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (c.ClosedByServer()) return t;
    if (t > limit) return -1;
    SleepSeconds(0.02);
  }
}

TEST(WebFront, DeadlinesCloseSilentPartialAndIdleConnections) {
  REQUIRE_PRIVILEGE();
  Daemon d({});
  ASSERT_TRUE(d.ready()) << d.log();
  WebConn silent(d.port(), nullptr, 15);
  WebConn partial(d.port(), nullptr, 15);
  WebConn idle(d.port(), nullptr, 15);
  ASSERT_TRUE(silent.ok() && partial.ok() && idle.ok());
  ASSERT_TRUE(partial.Send("GET /metrics HTTP/1.1\r\nHo"));
  std::string body;
  ASSERT_TRUE(idle.Send("GET /-/healthy HTTP/1.1\r\n\r\n"));
  ASSERT_EQ(idle.ReadAnswer(&body), 200);
  // A second request on the same connection: it was kept alive.
  ASSERT_TRUE(idle.Send("GET /-/healthy HTTP/1.1\r\n\r\n"));
  ASSERT_EQ(idle.ReadAnswer(&body), 200);
  EXPECT_EQ(body, "Healthy\n");

  const double silent_s = SecondsUntilClosed(silent, 8);
  EXPECT_GE(silent_s, 4.5);
  EXPECT_LE(silent_s, 7);
  // The partial head is told why.
  EXPECT_EQ(partial.ReadAnswer(&body), 408);
  EXPECT_EQ(body, "request head not received in time\n");
  const double idle_s = silent_s + SecondsUntilClosed(idle, 8);
  EXPECT_GE(idle_s, 9.5);
  EXPECT_LE(idle_s, 12);

  std::string text;
  ASSERT_EQ(d.Get("/metrics", &text), 200);
  auto m = ParsePromText(text);
  EXPECT_EQ(m[Series("ctcollect_http_connections_closed_total",
                     {{"reason", "timeout"}})],
            3);
  EXPECT_EQ(m[Series("ctcollect_http_connections_closed_total",
                     {{"reason", "evicted"}})],
            0);
  EXPECT_GE(m[Series("ctcollect_http_connections_max", {})], 750);
}

}  // namespace
}  // namespace ctcollect::itest
