#include "tests/integration/test_netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

namespace ctcollect::itest {

const char kTrackingRuleset[] =
    "nft -f - <<'EOF'\n"
    "table inet ctct {\n"
    "  chain out { type filter hook output priority 0; "
    "ct state new,established,related accept; }\n"
    "  chain in { type filter hook input priority 0; "
    "ct state new,established,related accept; }\n"
    "}\n"
    "EOF";
namespace {

constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;

CommandResult RunShell(const std::string& cmd, bool split) {
  CommandResult r;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return r;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return r;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(split ? err[1] : out[1], 2);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    return r;
  }
  // Both pipes at once: a child that fills stderr must not block stdout.
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The effective capability set of this process, from /proc/self/status.
uint64_t EffectiveCaps() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      return std::stoull(line.substr(7), nullptr, 16);
    }
  }
  return 0;
}

std::string CheckPrivilege() {
  uint64_t caps = EffectiveCaps();
  if ((caps & (1ull << kCapNetAdmin)) == 0 ||
      (caps & (1ull << kCapSysAdmin)) == 0) {
    return "needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root)";
  }
  if (Shell("command -v conntrack && command -v nft && command -v ip")
          .exit_code != 0) {
    return "needs conntrack, nft and ip (scripts/install-deps.sh)";
  }
  std::string probe = "ctct-" + std::to_string(getpid()) + "-probe";
  CommandResult add = Shell("ip netns add " + probe);
  Shell("ip netns del " + probe);
  if (add.exit_code != 0) return "`ip netns add` fails here: " + add.out;
  return "";
}

// Deletes ctct-<pid>-<n> namespaces left by test processes that died
// before their destructors ran (a timeout's SIGKILL). A namespace whose
// pid is alive belongs to a running test and is left alone.
void DeleteStaleNamespaces() {
  DIR* d = opendir("/run/netns");
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("ctct-", 0) != 0) continue;
    size_t dash = name.find('-', 5);
    if (dash == std::string::npos) continue;
    std::string pid = name.substr(5, dash - 5);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (std::stol(pid) == getpid() || kill(std::stoi(pid), 0) == 0 ||
        errno != ESRCH) {
      continue;
    }
    Shell("ip netns del " + name);
  }
  closedir(d);
}

}  // namespace

CommandResult Shell(const std::string& cmd) { return RunShell(cmd, false); }
CommandResult ShellSplit(const std::string& cmd) { return RunShell(cmd, true); }

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

std::string MissingPrivilege() {
  static std::once_flag once;
  static std::string why;
  std::call_once(once, [] { why = CheckPrivilege(); });
  return why;
}

bool WaitUntil(const std::function<bool()>& probe, double seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (!probe()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

std::string ShellQuote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

TestNetns::TestNetns() {
  static std::once_flag stale;
  std::call_once(stale, DeleteStaleNamespaces);
  static std::atomic<int> n{0};
  name_ = "ctct-" + std::to_string(getpid()) + "-" + std::to_string(n++);
  Create();
}

void TestNetns::Create() {
  error_.clear();
  CommandResult add = Shell("ip netns add " + name_);
  if (add.exit_code != 0) {
    error_ = "ip netns add " + name_ + ": " + add.out;
    ok_ = false;
    return;
  }
  CommandResult setup =
      Run(std::string("ip link set lo up && ") + kTrackingRuleset);
  ok_ = setup.exit_code == 0;
  if (!ok_) error_ = "setting up " + name_ + ": " + setup.out;
}

bool TestNetns::Delete() {
  // Only what this test started runs in its own namespace.
  Shell("ip netns pids " + name_ + " | xargs -r kill -9");
  for (int i = 0; i < 50; ++i) {
    if (Shell("ip netns del " + name_).exit_code == 0) return true;
    usleep(100 * 1000);  // a process may still hold it for a moment
  }
  return false;
}

bool TestNetns::Recreate() {
  Create();
  return ok_;
}

TestNetns::~TestNetns() {
  if (access(path().c_str(), F_OK) == 0) Delete();
}

CommandResult TestNetns::Run(const std::string& cmd) const {
  return Shell("ip netns exec " + name_ + " sh -c " + ShellQuote(cmd));
}

CommandResult TestNetns::RunSplit(const std::string& cmd) const {
  return ShellSplit("ip netns exec " + name_ + " sh -c " + ShellQuote(cmd));
}

bool TestNetns::NoTrack(const std::vector<std::string>& matches) const {
  std::string cmd =
      "nft add table inet ctct_raw && nft add chain inet ctct_raw out "
      "'{ type filter hook output priority raw; }' && nft add chain inet "
      "ctct_raw pre '{ type filter hook prerouting priority raw; }'";
  for (const auto& m : matches) {
    cmd += " && nft add rule inet ctct_raw " + m + " notrack";
  }
  return Run(cmd).exit_code == 0;
}

bool TestNetns::NoTrackTcpPort(int port) const {
  const std::string p = std::to_string(port);
  return NoTrack({"out tcp dport " + p, "out tcp sport " + p,
                  "pre tcp dport " + p, "pre tcp sport " + p});
}

bool TestNetns::NoTrackLoopbackTcp() const {
  return NoTrack(
      {"out oif lo meta l4proto tcp", "pre iif lo meta l4proto tcp"});
}

}  // namespace ctcollect::itest
