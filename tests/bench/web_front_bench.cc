// The web front under held connections (issue 19), as figures: scrape
// latency (median, 99th percentile, slowest) on a new connection each, with
// 0, 100 and 1,000 connections held open on purpose (ConnectionHolder:
// half request heads, idle keep-alives, silent connections or TLS
// handshakes that never come, renewed before their deadlines), and the
// daemon's threads and resident memory in each case; plain HTTP and TLS.
// The 0-held run is the reference the others are compared with.
//
// Run by web_front_bench.sh (root: the daemon watches a namespace it makes).
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/held_connections.h"
#include "tests/integration/pki.h"
#include "tests/integration/prometheus_server.h"
#include "tests/integration/test_netns.h"
#include "tests/integration/web_client.h"

using namespace ctcollect::itest;

namespace {

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const int scrapes = argc > 1 ? std::atoi(argv[1]) : 200;
  if (geteuid() != 0) {
    std::fprintf(stderr, "web_front_bench: needs root\n");
    return 1;
  }
  TestNetns ns;
  Pki pki;
  if (!ns.ok() || !pki.ok()) {
    std::fprintf(stderr, "web_front_bench: no namespace or certificates\n");
    return 1;
  }
  std::printf(
      "| mode | held | scrapes | failed | median ms | p99 ms | slowest ms | "
      "p99 vs 0 held | threads | RSS MiB |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n");
  for (bool tls : {false, true}) {
    std::vector<std::string> args = {"--netns=" + ns.name()};
    if (tls) {
      args.push_back("--web.config.file=" + pki.TlsWebConfig());
    }
    Daemon::Options o;
    o.ready_deadline = 0;
    Daemon d(args, o);
    std::shared_ptr<SSL_CTX> ctx;
    if (tls) ctx = NewTlsClientContext();
    if (!WaitForOk(d.port(), ctx.get(), "/-/ready", 20)) {
      std::fprintf(stderr, "web_front_bench: daemon not ready\n%s",
                   d.log().c_str());
      return 1;
    }
    double reference_p99 = 0;
    for (int held : {0, 100, 1000}) {
      std::unique_ptr<ConnectionHolder> holder;
      if (held > 0) {
        ConnectionHolder::Options ho;
        ho.port = d.port();
        ho.tls = ctx.get();
        ho.count = held;
        holder = std::make_unique<ConnectionHolder>(ho);
        if (!holder->WaitAllOpen(60)) {
          std::fprintf(stderr, "web_front_bench: only %d of %d held\n",
                       holder->open(), held);
          return 1;
        }
      }
      SleepSeconds(1);
      std::vector<double> ms;
      int failed = 0;
      for (int i = 0; i < scrapes; ++i) {
        ScrapeResult r = Scrape(d.port(), ctx.get(), "/metrics", 5.0);
        if (r.status != 200) ++failed;
        ms.push_back(r.seconds * 1000);
        SleepSeconds(0.05);
      }
      const double p99 = Percentile(ms, 0.99);
      if (held == 0) reference_p99 = p99;
      std::printf(
          "| %s | %d | %d | %d | %.2f | %.2f | %.2f | %.2fx | %lld | "
          "%.1f |\n",
          tls ? "TLS" : "plain", held, scrapes, failed, Percentile(ms, 0.5),
          p99, *std::max_element(ms.begin(), ms.end()), p99 / reference_p99,
          static_cast<long long>(ProcStatus(d.pid(), "Threads")),
          static_cast<double>(RssKiB(d.pid())) / 1024);
      std::fflush(stdout);
    }
  }
  return 0;
}
