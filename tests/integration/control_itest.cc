// The control socket with real clients: conntrackd's own binary, ctcollect,
// a user outside the socket's group, and ctcollect top driven in tmux.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/integration/daemon.h"
#include "tests/integration/kernel_truth.h"
#include "tests/integration/metrics_view.h"
#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

std::string Inject(const TestNetns& ns, const std::string& args) {
  return CtInject(ns, args).out;
}

// A namespace with a known mix of flows.
void Populate(const TestNetns& ns) {
  Inject(ns, "create --count 6 --proto tcp --state ESTABLISHED --mark 3");
  Inject(ns,
         "create --count 2 --proto tcp --state TIME_WAIT --zone 4 --offset 50");
  Inject(ns, "create --count 3 --proto udp --family ipv6");
  Inject(ns, "create --count 2 --proto icmp");
  Inject(ns, "create --count 2 --proto sctp");
}

// A real NATed connection: 127.0.0.1:7700 is DNATed to :7701, where a
// server holds it open; the kernel's entry has a reply tuple of its own.
bool NatFlow(const TestNetns& ns) {
  if (ns.Run("nft -f - <<'EOF'\n"
             "table ip nat {\n"
             "  chain out {\n"
             "    type nat hook output priority -100;\n"
             "    tcp dport 7700 dnat to 127.0.0.1:7701\n"
             "  }\n"
             "}\nEOF")
          .exit_code != 0) {
    return false;
  }
  ns.Run(
      "(python3 -c \"import socket,time\n"
      "s=socket.socket(); s.bind(('127.0.0.1',7701)); s.listen()\n"
      "c=socket.create_connection(('127.0.0.1',7700)); a,_=s.accept(); "
      "time.sleep(30)\") >/dev/null 2>&1 &");
  for (int i = 0; i < 50; ++i) {
    if (KernelListed(ns, "-p tcp --dport 7700") == 1) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::multiset<std::string> Matches(const std::string& s, const char* re) {
  std::multiset<std::string> out;
  std::regex r(re);
  for (std::sregex_iterator it(s.begin(), s.end(), r), end; it != end; ++it) {
    out.insert((*it)[1]);
  }
  return out;
}

std::string ConntrackdConf(const Daemon& d) {
  std::string path = d.socket() + ".conntrackd.conf";
  std::ofstream(path) << "General {\n\tUNIX {\n\t\tPath " << d.socket()
                      << "\n\t}\n}\nStats {\n}\n";
  return path;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// The <flow> elements of an XML dump with their timeout removed (it ticks
// between two reads), as a sorted list. `conntrackd_view` also drops what
// conntrackd's cache leaves out (use, counters).
std::vector<std::string> Flows(const std::string& xml,
                               bool conntrackd_view = false) {
  static const std::regex timeout("<timeout>[0-9]+</timeout>");
  static const std::regex cache_only(
      "<use>[0-9]+</use>|<counters>.*?</counters>");
  std::vector<std::string> out;
  for (const auto& l : Lines(xml)) {
    if (l.rfind("<flow>", 0) != 0) continue;
    std::string f = std::regex_replace(l, timeout, "");
    if (conntrackd_view) f = std::regex_replace(f, cache_only, "");
    out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t Field(const std::string& text, const std::string& label) {
  size_t p = text.find(label);
  if (p == std::string::npos) return -1;
  return std::stoll(text.substr(p + label.size()));
}

TEST(ControlSocket, RealConntrackdClientGetsConntrackdAnswers) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v conntrackd").exit_code != 0) {
    SKIP_UNLESS_CI("needs conntrackd (scripts/install-deps.sh)");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Populate(ns);
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  std::string conntrackd = "conntrackd -C " + ConntrackdConf(d);
  int64_t count = KernelCount(ns);
  ASSERT_EQ(count, 15);

  CommandResult s = Shell(conntrackd + " -s");
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_EQ(Field(s.out, "current active connections:\t"), count) << s.out;
  EXPECT_EQ(Field(s.out, "connections created:\t\t"), count) << s.out;
  EXPECT_NE(s.out.find("traffic processed:\n"), std::string::npos);

  CommandResult cache = Shell(conntrackd + " -s cache");
  EXPECT_EQ(Field(cache.out, "cache:stats\tactive objects:\t\t"), count)
      << cache.out;

  CommandResult runtime = Shell(conntrackd + " -s runtime");
  EXPECT_NE(runtime.out.find("daemon uptime: 0 min\n"), std::string::npos)
      << runtime.out;
  EXPECT_EQ(Field(runtime.out, "\tresync with kernel table:\t"), 1)
      << runtime.out;
  // The buffer is the event socket's as the kernel reports it now (the
  // metric reads it with getsockopt; ss reads the kernel's socket table).
  const int64_t buffer =
      Field(runtime.out, "\tcurrent buffer size (in bytes):\t");
  EXPECT_EQ(buffer, d.Metrics()[Series("ctcollect_netlink_receive_buffer_bytes",
                                       {{"netns", ns.name()}})])
      << runtime.out;
  CommandResult ss = ns.Run("ss -f netlink -m -p");
  EXPECT_NE(ss.out.find(",rb" + std::to_string(buffer) + ","),
            std::string::npos)
      << "no netlink socket with that receive buffer:\n"
      << ss.out;

  // -i: one line per flow, as conntrackd prints its cache.
  CommandResult i = Shell(conntrackd + " -i");
  auto lines = Lines(i.out);
  EXPECT_EQ(static_cast<int64_t>(lines.size()), count) << i.out;
  for (const auto& l : lines) {
    EXPECT_NE(l.find(" [active since "), std::string::npos) << l;
  }
  // -i -x: conntrackd's XML (no timeout), the kernel's flows.
  CommandResult x = Shell(conntrackd + " -i -x");
  EXPECT_EQ(x.out.find("<timeout>"), std::string::npos);
  EXPECT_EQ(Flows(x.out),
            Flows(ns.Run("conntrack -L -o xml 2>/dev/null").out, true));
  EXPECT_EQ(Flows(x.out).size(), 15u);

  // -f: the internal cache is rebuilt from a dump.
  double before_f = d.LastResync(ns.name());
  EXPECT_EQ(Shell(conntrackd + " -f").exit_code, 0);
  ASSERT_TRUE(d.WaitForResyncAfter(ns.name(), before_f, 5));
  // -R: a resync on request.
  double last = d.LastResync(ns.name());
  EXPECT_EQ(Shell(conntrackd + " -R").exit_code, 0);
  ASSERT_TRUE(d.WaitForResyncAfter(ns.name(), last, 5));
  // Both -f and -R asked for one.
  EXPECT_EQ(d.Metrics()[Series("ctcollect_resyncs_total",
                               {{"netns", ns.name()}, {"reason", "request"}})],
            2);
  // -k: the daemon stops, cleanly.
  EXPECT_EQ(Shell(conntrackd + " -k").exit_code, 0);
  EXPECT_EQ(d.WaitExit(5), 0) << d.log();
  std::string body;
  EXPECT_EQ(HttpGet(d.port(), "/-/healthy", &body), 0) << "still serving";
}

// More clients at once than the daemon serves (16): the rest wait for a
// thread, and every request of 40 ctcollect clients and 40 conntrackd
// clients, 25 each, gets its whole answer.
TEST(ControlSocket, FortyClientsOfEachProtocolAreAllAnsweredInFull) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v conntrackd").exit_code != 0) {
    SKIP_UNLESS_CI("needs conntrackd (scripts/install-deps.sh)");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Populate(ns);
  Daemon d({"--netns=" + ns.name(), "--resync-interval=1h"});
  ASSERT_TRUE(d.ready()) << d.log();
  const std::string conntrackd = "conntrackd -C " + ConntrackdConf(d) + " -s";
  const int64_t count = KernelCount(ns);
  std::atomic<int> whole_ours{0}, whole_theirs{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int i = 0; i < 80; ++i) {
    clients.emplace_back([&, i] {
      for (int r = 0; r < 25; ++r) {
        int rc = -1;
        std::string out;
        if (i % 2 == 0) {
          out = d.Client("-s", &rc);
        } else {
          CommandResult c = Shell(conntrackd);
          rc = c.exit_code;
          out = c.out;
        }
        // Whole: the first block's count and the last block's last line.
        if (rc == 0 && Field(out, "current active connections:\t") == count &&
            out.find("traffic processed:") != std::string::npos &&
            out.size() > 2 && out.substr(out.size() - 2) == "\n\n") {
          (i % 2 == 0 ? whole_ours : whole_theirs)++;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back("rc=" + std::to_string(rc) + ": " + out);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(whole_ours, 40 * 25);
  EXPECT_EQ(whole_theirs, 40 * 25);
  EXPECT_TRUE(failures.empty())
      << failures.size() << " failed, first: " << failures.front();
}

TEST(ControlSocket, CtcollectXmlEqualsConntrackListXml) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Populate(ns);
  ASSERT_TRUE(NatFlow(ns));
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  int rc = -1;
  std::string ours = d.Client("-i -x", &rc);
  EXPECT_EQ(rc, 0);
  std::string theirs = ns.Run("conntrack -L -o xml 2>/dev/null").out;
  EXPECT_EQ(Flows(ours), Flows(theirs));
  EXPECT_EQ(Flows(ours).size(), 16u);
  EXPECT_NE(theirs.find("<sport>7701</sport>"), std::string::npos);  // NAT
  // JSON flow for flow: the same ids, marks and zones as the kernel's XML.
  std::string all = d.Get("/api/v1/flows?format=json");
  EXPECT_EQ(Matches(all, R"re("id":(\d+))re"),
            Matches(theirs, R"re(<id>(\d+)</id>)re"));
  EXPECT_EQ(Matches(all, R"re("mark":([1-9]\d*))re"),
            Matches(theirs, R"re(<mark>([1-9]\d*)</mark>)re"));
  EXPECT_EQ(Matches(all, R"re("ct_zone":([1-9]\d*))re"),
            Matches(theirs, R"re(<zone>([1-9]\d*)</zone>)re"));
  EXPECT_NE(all.find("\"sport\":7701"), std::string::npos) << all;
  EXPECT_EQ(ours.rfind(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<conntrack>\n", 0),
            0u);
  EXPECT_EQ(ours.substr(ours.size() - 13), "</conntrack>\n");
  // The same through HTTP, and JSON with a filter.
  EXPECT_EQ(Flows(d.Get("/api/v1/flows?format=xml")), Flows(theirs));
  std::string json = d.Client("-i -o json");
  EXPECT_EQ(std::count(json.begin(), json.end(), '{') -
                std::count(json.begin(), json.end(), '}'),
            0);
  std::string tcp = d.Get("/api/v1/flows?protocol=tcp&state=TIME_WAIT");
  size_t n = 0;
  for (size_t p = tcp.find("\"netns\""); p != std::string::npos;
       p = tcp.find("\"netns\"", p + 1))
    ++n;
  EXPECT_EQ(n, 2u) << tcp;
}

TEST(ControlSocket, CtcollectStatsAndErrors) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Populate(ns);
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  int rc = -1;
  std::string s = d.Client("-s", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Field(s, "current active connections:\t"), KernelCount(ns));
  std::string json = d.Client("stats --json", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(json.find("\"kernel_entries\":15"), std::string::npos) << json;
  // Peer-mode commands say so; a dead socket says so; both exit 1.
  std::string e = d.Client("-e", &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(e.find("peer mode is off"), std::string::npos);
  CommandResult dead = Shell(std::string(CTCOLLECT_PATH) +
                             " --control.socket /tmp/ctct-no-such.sock -s");
  EXPECT_EQ(dead.exit_code, 1);
  EXPECT_NE(dead.out.find("is ctcollectd running?"), std::string::npos);
  // A second daemon on the same socket is refused with 78.
  CommandResult second =
      Shell(std::string(CTCOLLECTD_PATH) +
            " --web.listen-address=127.0.0.1:0 --control.socket=" + d.socket() +
            " --netns=" + ns.name());
  EXPECT_EQ(second.exit_code, 78) << second.out;
  EXPECT_NE(second.out.find("already listening"), std::string::npos);
  // A malformed native request gets an error reply, and the daemon lives.
  CommandResult bad = Shell(
      "printf 'CTC1 \\001\\n' | timeout 5 socat - UNIX-CONNECT:" + d.socket());
  EXPECT_NE(bad.out.find("CTC1 400"), std::string::npos) << bad.out;
  // A client of a newer protocol version is told which one we speak.
  CommandResult v2 = Shell(
      "printf 'CTC2 stats\\n' | timeout 5 socat - UNIX-CONNECT:" + d.socket());
  EXPECT_NE(v2.out.find("CTC1 505 protocol version 2 not supported"),
            std::string::npos)
      << v2.out;
  EXPECT_EQ(d.Client("-v", &rc).find("ctcollect"), 0u);
}

TEST(ControlSocket, StaleSocketOfAKilledDaemonIsReplaced) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon first({"--netns=" + ns.name()});
  ASSERT_TRUE(first.ready()) << first.log();
  kill(first.pid(), SIGKILL);
  first.WaitExit(5);
  ASSERT_EQ(Shell("test -S " + first.socket()).exit_code, 0)
      << "the killed daemon's socket file should still be there";
  Daemon second({"--netns=" + ns.name(), "--control.socket=" + first.socket()});
  ASSERT_TRUE(second.ready()) << second.log();
  EXPECT_NE(second.log().find("replaced stale control socket"),
            std::string::npos)
      << second.log();
  std::string s = Shell(std::string(CTCOLLECT_PATH) + " --control.socket " +
                        first.socket() + " -s")
                      .out;
  EXPECT_NE(s.find("cache stats:"), std::string::npos) << s;
}

TEST(ControlSocket, UserOutsideTheGroupIsRefusedByTheKernel) {
  REQUIRE_PRIVILEGE();
  // The socket belongs to group adm; the client runs as nobody:nogroup,
  // first without adm, then with it.
  if (Shell("command -v setpriv && getent group adm").exit_code != 0) {
    SKIP_UNLESS_CI("needs setpriv and the adm group");
  }
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Daemon d({"--netns=" + ns.name(), "--control.socket-group=adm"});
  ASSERT_TRUE(d.ready()) << d.log();
  // Let anyone reach the directory: the socket's own mode decides.
  Shell("chmod 755 $(dirname " + d.socket() + ")");
  CommandResult mode = Shell("stat -c '%a %G' " + d.socket());
  EXPECT_EQ(mode.out, "660 adm\n");
  std::string client =
      std::string(CTCOLLECT_PATH) + " --control.socket " + d.socket() + " -s";
  CommandResult outsider =
      Shell("setpriv --reuid=65534 --regid=65534 --clear-groups " + client);
  EXPECT_EQ(outsider.exit_code, 1);
  EXPECT_NE(outsider.out.find("permission denied"), std::string::npos)
      << outsider.out;
  CommandResult member = Shell(
      "setpriv --reuid=65534 --regid=65534 --groups=$(getent group adm | cut "
      "-d: -f3) " +
      client);
  EXPECT_EQ(member.exit_code, 0) << member.out;
}

TEST(ControlSocket, TopInTmuxShowsTheFiguresAndQuitsOnQ) {
  REQUIRE_PRIVILEGE();
  if (Shell("command -v tmux").exit_code != 0) SKIP_UNLESS_CI("needs tmux");
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  Populate(ns);
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  std::string session = "ctct-top-" + std::to_string(getpid());
  ASSERT_EQ(Shell("tmux new-session -d -x 120 -y 40 -s " + session + " '" +
                  CTCOLLECT_PATH + " --control.socket " + d.socket() + " top'")
                .exit_code,
            0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  std::string screen = Shell("tmux capture-pane -p -t " + session).out;
  EXPECT_NE(screen.find("netns " + ns.name()), std::string::npos) << screen;
  EXPECT_NE(screen.find("table: 15 / "), std::string::npos) << screen;
  EXPECT_TRUE(std::regex_search(screen, std::regex("tcp +ESTABLISHED +6\\b")))
      << screen;
  EXPECT_TRUE(std::regex_search(screen, std::regex("total +15\\b"))) << screen;
  Shell("tmux send-keys -t " + session + " q");
  bool gone = false;
  for (int t = 0; t < 30 && !gone; ++t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gone = Shell("tmux has-session -t " + session).exit_code != 0;
  }
  EXPECT_TRUE(gone) << "top did not quit on q";
  Shell("tmux kill-session -t " + session);
}

}  // namespace
}  // namespace ctcollect::itest

namespace ctcollect::itest {
namespace {

// A real FTP control connection through the kernel's ftp helper, held open
// after PASV so its expectation stays in the table while we look.
TEST(ControlSocket, ExpectationsAsConntrackListsThem) {
  REQUIRE_PRIVILEGE();
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(ns.Run("nft add ct helper inet ctct ftp-std '{ type \"ftp\" "
                   "protocol tcp; l3proto inet; }' && nft insert rule inet "
                   "ctct out tcp dport 2121 ct helper set \"ftp-std\"")
                .exit_code,
            0);
  std::string session = R"(python3 -c "
import socket, threading, time
ctl = socket.socket(); ctl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ctl.bind(('127.0.0.1', 2121)); ctl.listen()
def server():
    c, _ = ctl.accept(); f = c.makefile('rb', buffering=0)
    c.sendall(b'220 hi\r\n'); f.readline()
    c.sendall(b'227 Entering Passive Mode (127,0,0,1,195,80).\r\n')
    time.sleep(30)
threading.Thread(target=server, daemon=True).start()
c = socket.create_connection(('127.0.0.1', 2121)); f = c.makefile('rb', buffering=0)
f.readline(); c.sendall(b'PASV\r\n'); f.readline(); time.sleep(30)
")";
  ns.Run("(" + session + ") >/dev/null 2>&1 &");
  std::string theirs;
  for (int t = 0; t < 50; ++t) {
    theirs = ns.Run("conntrack -L expect 2>/dev/null").out;
    if (!theirs.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(theirs.find("helper=ftp"), std::string::npos)
      << "the kernel made no expectation: " << theirs;
  Daemon d({"--netns=" + ns.name()});
  ASSERT_TRUE(d.ready()) << d.log();
  int rc = -1;
  // The timeout column counts down between the two reads: compare without it.
  auto strip = [](std::string s) {
    return std::regex_replace(s, std::regex("^[0-9]+ "), "");
  };
  std::string ours = d.Client("-i expect", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(strip(ours), strip(ns.Run("conntrack -L expect 2>/dev/null").out));
  std::string xml = d.Client("-i expect -x", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(
      xml.rfind("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<expect>\n", 0),
      0u)
      << xml;
  static const std::regex timeout("<timeout>[0-9]+</timeout>");
  EXPECT_EQ(
      std::regex_replace(xml, timeout, ""),
      std::regex_replace(ns.Run("conntrack -L expect -o xml 2>/dev/null").out,
                         timeout, ""));
}

}  // namespace
}  // namespace ctcollect::itest
