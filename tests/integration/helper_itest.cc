// Helpers and expectations against the real kernel: the ftp helper on a
// real FTP session (pyftpdlib) on the loopback of a namespace the test
// makes. The expectation the helper sets up for the data connection must
// show in the metrics as `conntrack -L expect` shows it, and go when the
// data connection uses it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "tests/integration/daemon.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

int64_t KernelExpectations(const TestNetns& ns) {
  CommandResult r = ns.RunSplit("conntrack -L expect 2>/dev/null");
  int64_t n = 0;
  for (char c : r.out) n += c == '\n';
  return n;
}

// Polls `d` until `metric{labels}` equals `want()`, up to `seconds`.
template <typename Fn>
bool WaitForValue(const Daemon& d, const std::string& metric,
                  const Labels& labels, Fn want, double seconds, double* got,
                  int64_t* expected) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    *expected = want();
    *got = SumSeries(d.Metrics(), metric, labels);
    if (*got == static_cast<double>(*expected)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

TEST(Helpers, FtpExpectationFollowsARealSession) {
  REQUIRE_PRIVILEGE();
  if (Shell("/usr/bin/python3 -c 'import pyftpdlib'").exit_code != 0) {
    SKIP_UNLESS_CI("python3-pyftpdlib is missing");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  // Helpers are assigned explicitly (nf_conntrack_helper=0 is the default).
  ASSERT_EQ(ns.Run("nft -f - <<'EOF'\n"
                   "table inet helpers {\n"
                   "  ct helper ftp-std { type \"ftp\" protocol tcp; l3proto "
                   "inet; }\n"
                   "  chain out {\n"
                   "    type filter hook output priority filter;\n"
                   "    tcp dport 2121 ct helper set \"ftp-std\"\n"
                   "  }\n"
                   "}\nEOF")
                .exit_code,
            0);
  char dir[] = "/tmp/ctct-ftp-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string d_ = dir;
  std::ofstream(d_ + "/file.txt") << "hello\n";
  ns.Run("(/usr/bin/python3 -m pyftpdlib -i 127.0.0.1 -p 2121 -d " + d_ +
         " >/dev/null 2>&1 &)");
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  // A client that logs in, asks for passive mode (the helper sees the 227
  // reply and expects the data connection), waits for a go, then lists.
  ns.Run(
      "(python3 -c \"import ftplib,os,time\n"
      "for i in range(50):\n"
      "  try:\n"
      "    f=ftplib.FTP(); f.connect('127.0.0.1',2121,timeout=5); break\n"
      "  except OSError: time.sleep(0.1)\n"
      "f.login()\n"
      "f.sendcmd('PASV')\n"
      "open('" +
      d_ +
      "/pasv','w').close()\n"
      "while not os.path.exists('" +
      d_ +
      "/go'): time.sleep(0.05)\n"
      "f.retrlines('LIST', lambda l: None)\n"
      "open('" +
      d_ +
      "/listed','w').close()\n"
      "time.sleep(30)\") >/dev/null 2>&1 &");
  for (int i = 0; i < 100 && access((d_ + "/pasv").c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(access((d_ + "/pasv").c_str(), F_OK), 0) << "no FTP session";

  double got;
  int64_t want;
  EXPECT_TRUE(WaitForValue(
      d, "conntrack_expectations", {{"netns", ns.name()}, {"helper", "ftp"}},
      [&] { return KernelExpectations(ns); }, 10, &got, &want))
      << got << " vs kernel " << want;
  EXPECT_EQ(want, 1);
  // The control connection is owned by the helper (conntrack -L says
  // helper=ftp).
  EXPECT_TRUE(WaitForValue(
      d, "conntrack_helper_entries", {{"netns", ns.name()}, {"helper", "ftp"}},
      [&] { return KernelListed(ns, "-p tcp --dport 2121"); }, 10, &got,
      &want));
  EXPECT_EQ(want, 1);
  EXPECT_NE(ns.Run("conntrack -L -p tcp --dport 2121 2>/dev/null")
                .out.find("helper=ftp"),
            std::string::npos);
  auto m = d.Metrics();
  EXPECT_GE(
      m[Series("conntrack_expectation_events_total",
               {{"netns", ns.name()}, {"type", "new"}, {"helper", "ftp"}})],
      1);
  EXPECT_GE(
      m[Series("conntrack_kernel_expect_create_total", {{"netns", ns.name()}})],
      1);
  // ctcollect helpers: ftp owns the control flow and the expectation.
  std::string helpers = d.Client("helpers");
  EXPECT_NE(helpers.find("ftp"), std::string::npos) << helpers;
  EXPECT_NE(helpers.find("expectations 1"), std::string::npos) << helpers;
  // User-space helpers: available exactly when `nfct helper list` works
  // (not on kernels without CONFIG_NF_CT_NETLINK_HELPER).
  bool cthelper = ns.Run("nfct helper list").exit_code == 0;
  EXPECT_EQ(m[Series("ctcollect_source_up",
                     {{"netns", ns.name()}, {"source", "cthelper"}})],
            cthelper ? 1 : 0);
  if (!cthelper) {
    EXPECT_NE(helpers.find("unavailable: "), std::string::npos) << helpers;
    // Said once in the log, not at every resync.
    d.Client("-R");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::string log = d.log();
    size_t first = log.find("user-space helpers (nfnetlink_cthelper)");
    ASSERT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find("user-space helpers (nfnetlink_cthelper)", first + 1),
              std::string::npos)
        << log;
  }
  // ctcollect -i expect lists what conntrack -L expect lists.
  std::string listed = d.Client("-i expect");
  EXPECT_NE(listed.find("helper=ftp"), std::string::npos) << listed;

  // The data connection uses the expectation up.
  std::ofstream(d_ + "/go").close();
  for (int i = 0; i < 100 && access((d_ + "/listed").c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(WaitForValue(
      d, "conntrack_expectations", {{"netns", ns.name()}, {"helper", "ftp"}},
      [&] { return KernelExpectations(ns); }, 10, &got, &want))
      << got << " vs kernel " << want;
  EXPECT_EQ(want, 0);
  EXPECT_GE(SumSeries(d.Metrics(), "conntrack_kernel_expect_new_total",
                      {{"netns", ns.name()}}),
            1);
  Shell("rm -rf " + ShellQuote(d_));
}

}  // namespace
}  // namespace ctcollect::itest
