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

CommandResult CtInject(const TestNetns& ns, const std::string& args) {
  return ns.Run(std::string(CTINJECT_PATH) + " " + args);
}

}  // namespace ctcollect::itest
