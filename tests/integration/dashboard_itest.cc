// The operator's view, end to end: a real Prometheus scrapes ctcollectd
// watching a test namespace with real traffic, a timeout policy, a flow
// class and ended flows. Prometheus sees the target up and the per-state
// entries equal to the kernel's truth, and every expression of every
// Grafana panel (template variables substituted as Grafana would) is valid
// and returns data when its subject exists in the scenario.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prometheus_server.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

struct PanelExpr {
  std::string panel;
  std::string expr;
};

// Every target expression of the dashboard, via python3's json.
std::vector<PanelExpr> DashboardExpressions() {
  CommandResult r = ShellSplit(
      "python3 -c \"import json,sys\n"
      "d=json.load(open('" CTCOLLECT_SOURCE_DIR
      "/dashboards/ctcollect.json'))\n"
      "for p in d['panels']:\n"
      "  for t in p.get('targets',[]):\n"
      "    print(p['title']+'\\x1f'+t['expr'].replace('\\n',' '))\"");
  std::vector<PanelExpr> out;
  size_t pos = 0;
  while (pos < r.out.size()) {
    size_t nl = r.out.find('\n', pos);
    std::string line = r.out.substr(pos, nl - pos);
    pos = nl == std::string::npos ? r.out.size() : nl + 1;
    size_t sep = line.find('\x1f');
    if (sep != std::string::npos) {
      out.push_back({line.substr(0, sep), line.substr(sep + 1)});
    }
  }
  return out;
}

std::string Substitute(std::string e, const std::string& netns) {
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t at = e.find(from); at != std::string::npos;
         at = e.find(from, at + to.size())) {
      e.replace(at, from.size(), to);
    }
  };
  replace("$__rate_interval", "20s");
  replace("$instance", ".*");
  replace("$pod_namespace", ".*");
  replace("$netns", netns);
  replace("$ct_zone", ".*");
  return e;
}

TEST(Dashboard, RealPrometheusScrapesAndEveryPanelEvaluates) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v prometheus && command -v nfct").exit_code != 0) {
    SKIP_UNLESS_CI("prometheus or nfct missing");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  // A cttimeout policy on some traffic, a class, injected flows of several
  // protocols and zones.
  ASSERT_EQ(ns.Run("nfct timeout add webpol inet tcp established 100 && "
                   "iptables -t raw -A OUTPUT -p tcp --dport 7501 -j CT "
                   "--timeout webpol")
                .exit_code,
            0);
  CtInject(ns, "create --count 30 --proto tcp --quiet");
  CtInject(ns, "create --count 10 --proto udp --zone 3 --quiet");
  CtInject(ns, "create --count 5 --proto sctp --quiet");
  char dir[] = "/tmp/ctct-dash-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string cfg = std::string(dir) + "/ctcollectd.yml";
  std::ofstream(cfg) << "flow_classes:\n  classes:\n"
                        "    - {name: web, protocol: tcp, dport: 7501}\n";
  Daemon d({"--config=" + cfg, "--netns=" + ns.name(),
            "--conntrack.enable-accounting", "--resync-interval=5s"});
  ASSERT_TRUE(d.ready()) << d.log();
  // Real connections: one held (policy, class), some that end (durations,
  // bytes).
  ASSERT_TRUE(HoldTcpConnection(ns, 7501, 60));
  for (int i = 0; i < 3; ++i) {
    std::string body;
    RealHttpExchange(ns, 7600 + i, &body);
  }

  PrometheusServer prom(
      {{"ctcollect", "127.0.0.1:" + std::to_string(d.port()), ""}});
  ASSERT_TRUE(prom.ok()) << prom.error();
  EXPECT_TRUE(prom.WaitFor(
      "up{job=\"ctcollect\"}",
      [](const auto& r) { return r.size() == 1 && r[0].value == 1; }, 30))
      << prom.log();

  // Per-state entries as Prometheus has them equal the kernel's truth.
  bool equal = false;
  EntryCounts want, got;
  for (int attempt = 0; attempt < 30 && !equal; ++attempt) {
    want = KernelEntries(ns);
    std::vector<PrometheusServer::Sample> r;
    ASSERT_TRUE(
        prom.Query("conntrack_entries{netns=\"" + ns.name() + "\"} > 0", &r));
    got.clear();
    for (const auto& s : r) {
      auto l = s.labels;
      got[{l["family"], l["protocol"], l["state"], l["ct_zone"]}] +=
          static_cast<int64_t>(s.value);
    }
    equal = got == want;
    if (!equal) SleepSeconds(1);
  }
  EXPECT_TRUE(equal) << "prometheus: " << Describe(got)
                     << "\nkernel: " << Describe(want);

  // Let rate() windows fill.
  SleepSeconds(6);
  const std::set<std::string> may_be_empty = {
      "Time to full",      // only when the table grows
      "Flows per helper",  // no helper in this scenario
      "Expectations",      // likewise
      "Peer entries",      // no replication peer
      "Peer messages and loss",
  };
  std::vector<PanelExpr> exprs = DashboardExpressions();
  ASSERT_GE(exprs.size(), 25u);
  for (const auto& pe : exprs) {
    std::string q = Substitute(pe.expr, ns.name());
    std::vector<PrometheusServer::Sample> r;
    std::string err;
    EXPECT_TRUE(prom.Query(q, &r, &err))
        << pe.panel << ": invalid: " << err << "\n"
        << q;
    if (!may_be_empty.count(pe.panel)) {
      EXPECT_FALSE(r.empty()) << pe.panel << ": no data\n" << q;
    }
  }
  Shell("rm -rf " + ShellQuote(dir));
}

}  // namespace
}  // namespace ctcollect::itest
