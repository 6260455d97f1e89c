// --web.config.file with real clients: TLS (server and client
// certificates made by the openssl CLI) and basic auth (bcrypt) tested
// with curl and with a real Prometheus configured for both.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/pki.h"
#include "tests/integration/prometheus_server.h"
#include "tests/integration/sync_pair.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

std::string Curl(const std::string& args, int* code) {
  CommandResult r = Shell("curl -sS --max-time 5 " + args + " 2>&1");
  *code = r.exit_code;
  return r.out;
}

// Waits until the TLS endpoint answers /-/ready.
bool WaitTlsReady(const Pki& pki, int port, const std::string& auth) {
  for (int i = 0; i < 100; ++i) {
    int code;
    std::string out =
        Curl("--cacert " + pki.path("ca.crt") + " " + auth +
                 " https://127.0.0.1:" + std::to_string(port) + "/-/ready",
             &code);
    if (code == 0 && out.find("Ready") != std::string::npos) return true;
    SleepSeconds(0.2);
  }
  return false;
}

TEST(WebConfig, TlsAndBasicAuthWithCurlAndPrometheus) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v openssl && command -v curl").exit_code != 0) {
    SKIP_UNLESS_CI("openssl or curl missing");
  }
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  std::string cfg =
      pki.WebConfig("web.yml",
                    "tls_server_config:\n  cert_file: server.crt\n"
                    "  key_file: server.key\nbasic_auth_users:\n  alice: " +
                        pki.hash() + "\n");
  Daemon::Options o;
  o.ready_deadline = 0;
  Daemon d({"--web.config.file=" + cfg}, o);
  ASSERT_TRUE(WaitTlsReady(pki, d.port(), "-u alice:s3cret")) << d.log();
  const std::string url = "https://127.0.0.1:" + std::to_string(d.port());
  const std::string ca = "--cacert " + pki.path("ca.crt") + " ";

  int code;
  std::string out =
      Curl(ca + "-u alice:s3cret -w '%{http_code}' " + url + "/metrics", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("conntrack_entries_limit"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 3), "200");
  out = Curl(
      ca + "-u alice:wrong -o /dev/null -w '%{http_code}' " + url + "/metrics",
      &code);
  EXPECT_EQ(out, "401");
  out = Curl(ca + "-D - -o /dev/null " + url + "/api/v1/stats", &code);
  EXPECT_NE(out.find("401"), std::string::npos) << out;
  EXPECT_NE(out.find("WWW-Authenticate: Basic"), std::string::npos) << out;
  // Plain HTTP to the TLS port fails cleanly, and the daemon goes on.
  out = Curl("-o /dev/null -w '%{http_code}' http://127.0.0.1:" +
                 std::to_string(d.port()) + "/metrics",
             &code);
  EXPECT_TRUE(code != 0 || out != "200") << out;
  EXPECT_TRUE(d.running());
  out = Curl(ca + "-u alice:s3cret -o /dev/null -w '%{http_code}' " + url +
                 "/-/healthy",
             &code);
  EXPECT_EQ(out, "200");

  // A real Prometheus with TLS and basic auth finds the target up.
  PrometheusServer prom({{"ctcollect", "127.0.0.1:" + std::to_string(d.port()),
                          "    scheme: https\n"
                          "    tls_config:\n      ca_file: " +
                              pki.path("ca.crt") +
                              "\n    basic_auth:\n      username: alice\n"
                              "      password: s3cret\n"}});
  ASSERT_TRUE(prom.ok()) << prom.error();
  EXPECT_TRUE(prom.WaitFor(
      "up{job=\"ctcollect\"}",
      [](const auto& r) { return r.size() == 1 && r[0].value == 1; }, 30))
      << prom.log();
  std::vector<PrometheusServer::Sample> r;
  ASSERT_TRUE(prom.Query("ctcollect_build_info", &r));
  EXPECT_EQ(r.size(), 1u);
}

TEST(WebConfig, ClientCertificatesWhenRequired) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v openssl && command -v curl").exit_code != 0) {
    SKIP_UNLESS_CI("openssl or curl missing");
  }
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  std::string cfg = pki.WebConfig(
      "web.yml",
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: ca.crt\n");
  Daemon::Options o;
  o.ready_deadline = 0;
  Daemon d({"--web.config.file=" + cfg}, o);
  const std::string client =
      "--cert " + pki.path("client.crt") + " --key " + pki.path("client.key");
  ASSERT_TRUE(WaitTlsReady(pki, d.port(), client)) << d.log();
  const std::string url =
      "https://127.0.0.1:" + std::to_string(d.port()) + "/metrics";
  int code;
  std::string out = Curl("--cacert " + pki.path("ca.crt") + " -o /dev/null " +
                             "-w '%{http_code}' " + url,
                         &code);
  EXPECT_NE(code, 0) << "no client certificate, yet: " << out;
  out = Curl("--cacert " + pki.path("ca.crt") + " " + client +
                 " -o /dev/null -w '%{http_code}' " + url,
             &code);
  EXPECT_EQ(out, "200");
  EXPECT_TRUE(d.running());
}

// /api/v1/flows and /api/v1/top reveal who talks to whom. The daemon runs in
// namespace a of a veth pair and listens on a's veth address too; b is another
// host.
struct FlowsApiSite {
  VethPair pair;
  static constexpr int kPort = 18034;
  // Status and body of `path` asked from b over the veth (curl ARGS).
  std::pair<std::string, std::string> FromB(const std::string& path,
                                            const std::string& args = "",
                                            const char* scheme = "http") {
    const std::string body = "/tmp/ctct-flows-body-" + std::to_string(getpid());
    CommandResult r = pair.b().Run(
        "curl -s --max-time 5 " + args + " -o " + body + " -w '%{http_code}' " +
        scheme + "://198.18.0.1:" + std::to_string(kPort) + path);
    std::ifstream in(body);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::remove(body.c_str());
    return {r.out, text};
  }
  std::unique_ptr<Daemon> Start(std::vector<std::string> args,
                                double ready_deadline = 20) {
    args.push_back("--web.listen-address=198.18.0.1:" + std::to_string(kPort));
    args.push_back("--netns=" + pair.a().name());
    Daemon::Options o;
    o.run_in_netns = pair.a().name();
    o.ready_deadline = ready_deadline;
    return std::make_unique<Daemon>(args, o);
  }
};

TEST(FlowsApi, LoopbackOnlyByDefaultAllOrOffOnRequestFromAnotherNamespace) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v curl").exit_code != 0) SKIP_UNLESS_CI("curl missing");
  FlowsApiSite site;
  ASSERT_TRUE(site.pair.ok()) << site.pair.error();
  struct Case {
    std::string flag;
    bool remote, local;
  };
  for (const Case& c :
       {Case{"", false, true}, Case{"--web.flows-api=local", false, true},
        Case{"--web.flows-api=all", true, true},
        Case{"--web.flows-api=off", false, false}}) {
    SCOPED_TRACE(c.flag.empty() ? "default" : c.flag);
    auto d = site.Start(c.flag.empty() ? std::vector<std::string>{}
                                       : std::vector<std::string>{c.flag});
    ASSERT_TRUE(d->ready()) << d->log();
    auto [code, body] = site.FromB("/api/v1/flows?format=json");
    EXPECT_EQ(code, c.remote ? "200" : "403") << body;
    if (!c.remote) {
      EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 1) << body;
      EXPECT_NE(body.find("--web.flows-api"), std::string::npos) << body;
    } else {
      EXPECT_EQ(body.rfind("[", 0), 0u) << body;
    }
    // The rankings name addresses too: the same rule.
    auto [top_code, top_body] = site.FromB("/api/v1/top?by=src");
    EXPECT_EQ(top_code, c.remote ? "200" : "403") << top_body;
    if (c.remote) {
      EXPECT_EQ(top_body.rfind("{\"by\":\"src\"", 0), 0u) << top_body;
    }
    // Metrics are aggregates: open to every client.
    EXPECT_EQ(site.FromB("/metrics").first, "200");
    // The landing page links the flows only where they work.
    const std::string page = site.FromB("/").second;
    EXPECT_EQ(page.find("/api/v1/flows") != std::string::npos, c.remote)
        << page;
    std::string local_body;
    EXPECT_EQ(d->Get("/api/v1/flows", &local_body), c.local ? 200 : 403)
        << local_body;
    EXPECT_EQ(d->Get("/").find("/api/v1/flows") != std::string::npos, c.local);
    EXPECT_EQ(d->Get("/api/v1/top?by=dst", &local_body), c.local ? 200 : 403)
        << local_body;
  }
}

// When every client must authenticate, the default opens the flows to
// every authenticated client; TLS alone does not, and the TLS front passes
// on who the client is.
TEST(FlowsApi, AuthenticatedClientsOrTlsFromAnotherNamespace) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v openssl && command -v curl").exit_code != 0) {
    SKIP_UNLESS_CI("openssl or curl missing");
  }
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  FlowsApiSite site;
  ASSERT_TRUE(site.pair.ok()) << site.pair.error();
  {
    const std::string cfg = pki.WebConfig(
        "auth.yml", "basic_auth_users:\n  alice: " + pki.hash() + "\n");
    auto d = site.Start({"--web.config.file=" + cfg}, 0);
    std::pair<std::string, std::string> r;
    for (int i = 0; i < 100 && r.first != "200"; ++i) {
      r = site.FromB("/-/ready", "-u alice:s3cret");
      if (r.first != "200") SleepSeconds(0.2);
    }
    ASSERT_EQ(r.first, "200") << d->log();
    EXPECT_EQ(site.FromB("/api/v1/flows", "-u alice:s3cret").first, "200");
    EXPECT_EQ(site.FromB("/api/v1/flows").first, "401");
  }
  {
    const std::string cfg = pki.WebConfig(
        "tls.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: "
        "server.key\n");
    auto d = site.Start({"--web.config.file=" + cfg}, 0);
    std::pair<std::string, std::string> r;
    for (int i = 0; i < 100 && r.first != "200"; ++i) {
      r = site.FromB("/-/ready", "-k", "https");
      if (r.first != "200") SleepSeconds(0.2);
    }
    ASSERT_EQ(r.first, "200") << d->log();
    auto [code, body] = site.FromB("/api/v1/flows", "-k", "https");
    EXPECT_EQ(code, "403") << body;
    EXPECT_NE(body.find("--web.flows-api=local"), std::string::npos) << body;
    // From a's own loopback, through the same TLS front: allowed.
    CommandResult local = site.pair.a().Run(
        "curl -sk --max-time 5 -o /dev/null -w '%{http_code}' "
        "https://127.0.0.1:" +
        std::to_string(d->port()) + "/api/v1/flows");
    EXPECT_EQ(local.out, "200");
  }
}

TEST(WebConfig, ABadWebConfigStopsTheDaemonAtStart) {
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  std::string cfg =
      pki.WebConfig("bad.yml", "basic_auth_users:\n  bob: plaintext\n");
  CommandResult r =
      ShellSplit(std::string(CTCOLLECTD_PATH) +
                 " --web.listen-address=127.0.0.1:0"
                 " --control.socket=" +
                 pki.path("ctl.sock") + " --web.config.file=" + cfg);
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("bcrypt"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ctcollect::itest
