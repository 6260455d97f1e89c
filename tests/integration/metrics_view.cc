#include "tests/integration/metrics_view.h"

#include <chrono>
#include <thread>

#include "tests/integration/prom_text.h"

namespace ctcollect::itest {
namespace {

std::string Label(const Labels& l, const std::string& key) {
  auto it = l.find(key);
  return it == l.end() ? "" : it->second;
}

}  // namespace

EntryCounts DaemonEntries(const std::map<std::string, double>& metrics,
                          const std::string& netns) {
  EntryCounts c;
  ForEachSample(metrics, "conntrack_entries", [&](const Labels& l, double v) {
    if (Label(l, "netns") != netns || v == 0) return;
    c[{Label(l, "family"), Label(l, "protocol"), Label(l, "state"),
       Label(l, "ct_zone")}] += static_cast<int64_t>(v);
  });
  return c;
}

bool WaitUntilEqualsKernel(const Daemon& d, const TestNetns& ns,
                           const std::string& label, double seconds,
                           EntryCounts* got, EntryCounts* want) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (true) {
    *want = KernelEntries(ns);
    *got = DaemonEntries(d.Metrics(), label);
    if (*got == *want) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int RealHttpExchange(const TestNetns& ns, int port, std::string* body) {
  ns.Run("python3 -m http.server --bind 127.0.0.1 " + std::to_string(port) +
         " >/dev/null 2>&1 &");
  int status = 0;
  for (int i = 0; i < 100 && status == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = HttpGet(port, "/", body, ns.path());
  }
  return status;
}

int64_t KernelListed(const TestNetns& ns, const std::string& filter) {
  CommandResult r = ns.RunSplit("conntrack -L " + filter + " 2>/dev/null");
  int64_t n = 0;
  for (char c : r.out) n += c == '\n';
  return n;
}

bool HoldTcpConnection(const TestNetns& ns, int port, double hold) {
  std::string p = std::to_string(port), h = std::to_string(hold);
  ns.Run(
      "(python3 -c \"import socket,threading,time\n"
      "s=socket.socket(); s.bind(('127.0.0.1'," +
      p +
      ")); s.listen()\n"
      "def srv():\n  c,_=s.accept(); time.sleep(" +
      h +
      "); c.close()\n"
      "t=threading.Thread(target=srv); t.start()\n"
      "c=socket.create_connection(('127.0.0.1'," +
      p +
      "))\n"
      "t.join(); c.close()\") >/dev/null 2>&1 &");
  for (int i = 0; i < 50; ++i) {
    if (KernelListed(ns, "-p tcp --dport " + p) >= 1) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool UdpExchange(const TestNetns& ns, int port) {
  std::string p = std::to_string(port);
  CommandResult r = ns.Run(
      "python3 -c \"import socket,threading\n"
      "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
      "s.bind(('127.0.0.1'," +
      p +
      "))\n"
      "def srv():\n  d,a=s.recvfrom(100); s.sendto(d,a)\n"
      "t=threading.Thread(target=srv); t.start()\n"
      "c=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); c.settimeout(5)\n"
      "c.sendto(b'q',('127.0.0.1'," +
      p + ")); c.recv(100); t.join()\"");
  return r.exit_code == 0 && KernelListed(ns, "-p udp --dport " + p) >= 1;
}

CommandResult CtInject(const TestNetns& ns, const std::string& args) {
  return ns.Run(std::string(CTINJECT_PATH) + " " + args);
}

}  // namespace ctcollect::itest
